/* Tests for worker/mux: two muxes wired through a fake network (loss,
 * duplication, reordering, delay) driven by a fake clock that jumps to the
 * next event. Every random choice comes from a seeded PRNG, so each run is
 * the same. The wire is parsed here independently of mux.c, following
 * docs/protocol-streams.md, to assert on what was actually sent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/mux.h"

#define BODY   1200
#define MAXPAY (BODY - MUX_DATA_HDR - MUX_ACK_HDR)
#define MAXID  8192

/* ---- PRNG (splitmix64) and data pattern ---- */

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rnd_below(uint64_t *s, unsigned n)
{
	return n == 0 ? 0 : (unsigned)(rnd(s) % n);
}

/* Byte i of the data that side `dir` sends on stream id. */
static uint8_t
pat(uint32_t id, int dir, uint64_t i)
{
	uint32_t x = (uint32_t)i + id * 0x01000193u + (uint32_t)dir * 0x5bd1e995u;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	x *= 0x297a2d39u;
	x ^= x >> 15;
	return (uint8_t)(x >> 24) ^ (uint8_t)(i >> 32);
}

static uint16_t
g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
p16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Length of the frame at f per the documented layout, 0 if malformed. */
static size_t
tf_len(const uint8_t *f, size_t rem)
{
	size_t n;

	if (rem == 0)
		return 0;
	switch (f[0]) {
	case 1:
		if (rem < 12)
			return 0;
		n = 12 + (size_t)g16(f + 10);
		return n <= rem ? n : 0;
	case 2:
		if (rem < 14)
			return 0;
		n = 14 + 4 * (size_t)f[1];
		return n <= rem ? n : 0;
	case 3:
	case 4:
		return rem >= 6 ? 6 : 0;
	default:
		return 0;
	}
}

/* ---- the application on each side ---- */

struct tstream {
	int used, started, closed, reset, reason, local_reset, rx_eof, tx_shut, paused;
	uint64_t tx_total, tx_sent, rx_count;
	unsigned closed_calls;
};

struct net;

struct side {
	struct net *net;
	int idx;
	struct mux *m;
	struct mux_config cfg;
	struct tstream *ts; /* by stream id */
	/* behaviour for streams the peer opens */
	uint64_t accept_tx;
	uint64_t (*accept_tx_fn)(uint32_t id);
	int accept_after_eof; /* answer only after the request's EOF */
	int refuse;	      /* reset reason given in stream_opened, 0 = accept */
	int no_shutdown;
	uint64_t reset_after_rx; /* reset a stream once this much arrived, 0 = never */
	void (*hook_readable)(struct side *, uint32_t id);
	void (*hook_closed)(struct side *, uint32_t id, int reset);
	unsigned opened_calls, closed_calls;
};

/* ---- fake network ---- */

struct pkt {
	struct pkt *next;
	uint64_t at, serial;
	int to;
	size_t len;
	uint8_t body[];
};

struct flog { /* one frame seen on the wire */
	uint64_t at;
	int from;
	uint8_t type, arg;
	uint32_t id, a, b; /* DATA: seq, len; ACK: cum, limit */
};

struct track {
	int known;
	uint32_t cum[2]; /* highest cumulative ACK delivered to each side */
};

struct net {
	uint64_t now;
	struct side side[2];
	struct pkt *q;
	uint64_t serial, rng;
	unsigned loss_pct, dup_pct, reorder_pct;
	uint64_t delay, jitter;
	uint64_t back_delay; /* one-way delay from side 1 when back_delay_set */
	int back_delay_set;
	int flush_each;
	int (*filter)(struct net *, int from, const uint8_t *body, size_t len);
	int drop_from[2]; /* drop everything a side sends */
	struct track *tr; /* by stream id */
	unsigned long max_inflight[2];
	struct flog *log;
	size_t nlog, logcap;
	uint64_t delivered, dropped;
	int counter; /* free for filters */
	int chaos;   /* garbage input: lenient application, no wire checks */
	/* drop_listed: transmissions of side 0's DATA to drop, seen so far, by seq */
	uint8_t drop_tx[64], tx_seen[64];
};

static void
log_frames(struct net *n, int from, const uint8_t *b, size_t len)
{
	size_t off = 0, fl;

	while (off < len) {
		const uint8_t *f = b + off;
		struct flog *l;

		fl = tf_len(f, len - off);
		assert_true(fl > 0); /* the mux only sends well-formed frames */
		if (n->nlog == n->logcap) {
			n->logcap = n->logcap ? 2 * n->logcap : 1024;
			n->log = realloc(n->log, n->logcap * sizeof(*n->log));
			assert_non_null(n->log);
		}
		l = &n->log[n->nlog++];
		memset(l, 0, sizeof(*l));
		l->at = n->now;
		l->from = from;
		l->type = f[0];
		l->arg = f[1];
		l->id = g32(f + 2);
		if (f[0] == 1) {
			l->a = g32(f + 6);
			l->b = g16(f + 10);
		} else if (f[0] == 2) {
			l->a = g32(f + 6);
			l->b = g32(f + 10);
		}
		off += fl;
	}
}

/* The max_depth rule, checked on the wire: a DATA frame's sequence number is
 * less than max_depth beyond the highest cumulative ACK its sender has been
 * given. */
static void
check_depth(struct net *n, int from, const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const uint8_t *f = b + off;
		size_t fl = tf_len(f, len - off);

		if (f[0] == 1 && g32(f + 2) < MAXID) {
			struct track *t = &n->tr[g32(f + 2)];
			uint32_t seq = g32(f + 6), ahead;
			if ((f[1] & 1) && !t->known) {
				t->known = 1;
				t->cum[0] = t->cum[1] = seq;
			}
			assert_true(t->known);
			ahead = seq - t->cum[from];
			assert_true((int32_t)ahead >= 0);
			assert_true(ahead < n->side[from].cfg.max_depth);
			if (ahead + 1 > n->max_inflight[from])
				n->max_inflight[from] = ahead + 1;
		}
		off += fl;
	}
}

static void
track_acks(struct net *n, int to, const uint8_t *b, size_t len)
{
	size_t off = 0, fl;

	while (off < len && (fl = tf_len(b + off, len - off)) > 0) {
		const uint8_t *f = b + off;
		if (f[0] == 2 && g32(f + 2) < MAXID) {
			struct track *t = &n->tr[g32(f + 2)];
			if (t->known && (int32_t)(g32(f + 6) - t->cum[to]) > 0)
				t->cum[to] = g32(f + 6);
		}
		off += fl;
	}
}

static void
net_queue(struct net *n, int to, const uint8_t *b, size_t len, uint64_t at)
{
	struct pkt *p = malloc(sizeof(*p) + len), **pp;

	assert_non_null(p);
	p->at = at;
	p->serial = n->serial++;
	p->to = to;
	p->len = len;
	memcpy(p->body, b, len);
	for (pp = &n->q; *pp != NULL && (*pp)->at <= at; pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
}

static uint64_t
net_delay(struct net *n, int from)
{
	uint64_t d = from == 1 && n->back_delay_set ? n->back_delay : n->delay;

	if (n->reorder_pct && rnd_below(&n->rng, 100) < n->reorder_pct)
		d += rnd_below(&n->rng, (unsigned)n->jitter + 1);
	return d;
}

static void
net_send(struct net *n, int from, const uint8_t *b, size_t len)
{
	assert_true(len > 0);
	assert_true(len <= n->side[from].cfg.max_body);
	log_frames(n, from, b, len);
	if (!n->chaos)
		check_depth(n, from, b, len);
	if (n->drop_from[from] || (n->filter != NULL && n->filter(n, from, b, len))) {
		n->dropped++;
		return;
	}
	if (n->loss_pct && rnd_below(&n->rng, 100) < n->loss_pct) {
		n->dropped++;
		return;
	}
	net_queue(n, 1 - from, b, len, n->now + net_delay(n, from));
	if (n->dup_pct && rnd_below(&n->rng, 100) < n->dup_pct)
		net_queue(n, 1 - from, b, len,
			  n->now + net_delay(n, from) + rnd_below(&n->rng, 30));
}

/* ---- application callbacks ---- */

static struct tstream *
tsget(struct side *s, uint32_t id)
{
	assert_true(id < MAXID);
	return &s->ts[id];
}

static void
pump(struct side *s, uint32_t id)
{
	struct tstream *t = tsget(s, id);
	uint8_t buf[4000];

	if (!t->started || t->closed)
		return;
	while (t->tx_sent < t->tx_total) {
		size_t want = t->tx_total - t->tx_sent;
		ssize_t r;
		if (want > sizeof(buf))
			want = sizeof(buf);
		for (size_t i = 0; i < want; i++)
			buf[i] = pat(id, s->idx, t->tx_sent + i);
		r = mux_write(s->m, id, buf, want, s->net->now);
		assert_true(r >= 0);
		if (r == 0)
			return;
		t->tx_sent += (uint64_t)r;
	}
	if (!t->tx_shut && !s->no_shutdown) {
		assert_int_equal(mux_shutdown(s->m, id, s->net->now), 0);
		t->tx_shut = 1;
		assert_int_equal(mux_write(s->m, id, buf, 1, s->net->now), -1);
		assert_int_equal(errno, EPIPE);
	}
}

static void
drain(struct side *s, uint32_t id)
{
	struct tstream *t = tsget(s, id);
	uint8_t buf[5000], want[5000];
	ssize_t n;

	while ((n = mux_read(s->m, id, buf, sizeof(buf), s->net->now)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			want[i] = pat(id, 1 - s->idx, t->rx_count + (uint64_t)i);
		assert_memory_equal(buf, want, (size_t)n);
		t->rx_count += (uint64_t)n;
		if (s->reset_after_rx && t->rx_count >= s->reset_after_rx) {
			assert_int_equal(mux_reset(s->m, id, MUX_RST_RESET, s->net->now), 0);
			t->local_reset = t->closed = t->reset = 1;
			return;
		}
	}
	assert_int_equal(n, 0);
	if (mux_eof(s->m, id) == 1 && !t->rx_eof) {
		t->rx_eof = 1;
		if (!t->started) {
			t->started = 1;
			pump(s, id);
		}
	}
}

static void
cb_send(void *ctx, const uint8_t *body, size_t len)
{
	struct side *s = ctx;

	net_send(s->net, s->idx, body, len);
}

static void
cb_opened(void *ctx, uint32_t id)
{
	struct side *s = ctx;
	struct tstream *t;

	if (s->net->chaos) {
		if (id % 4 == 1)
			mux_reset(s->m, id, MUX_RST_RESET, s->net->now);
		else
			mux_write(s->m, id, (const uint8_t *)"hello", 5, s->net->now);
		return;
	}
	t = tsget(s, id);
	s->opened_calls++;
	assert_false(t->used); /* ids are never reused */
	assert_int_equal(id & 1, s->idx == 1 ? 1u : 0u);
	t->used = 1;
	if (s->refuse) {
		assert_int_equal(mux_reset(s->m, id, s->refuse, s->net->now), 0);
		t->local_reset = t->closed = t->reset = 1;
		return;
	}
	t->tx_total = s->accept_tx_fn ? s->accept_tx_fn(id) : s->accept_tx;
	t->started = !s->accept_after_eof;
	pump(s, id);
}

static void
cb_readable(void *ctx, uint32_t id)
{
	struct side *s = ctx;
	struct tstream *t;
	uint8_t junk[700];

	if (s->net->chaos) {
		while (mux_read(s->m, id, junk, sizeof(junk), s->net->now) > 0)
			;
		if (mux_eof(s->m, id) == 1)
			mux_shutdown(s->m, id, s->net->now);
		return;
	}
	t = tsget(s, id);
	assert_true(t->used);
	assert_false(t->closed);
	if (s->hook_readable != NULL) {
		s->hook_readable(s, id);
		return;
	}
	if (!t->paused)
		drain(s, id);
}

static void
cb_writable(void *ctx, uint32_t id)
{
	struct side *s = ctx;

	if (s->net->chaos)
		return;
	assert_false(tsget(s, id)->closed);
	pump(s, id);
}

static void
cb_closed(void *ctx, uint32_t id, int reset, int reason)
{
	struct side *s = ctx;
	struct tstream *t;

	if (s->net->chaos)
		return;
	t = tsget(s, id);
	assert_true(t->used);
	assert_false(t->local_reset); /* no closed() after our own mux_reset */
	assert_int_equal(t->closed_calls, 0);
	assert_true(reason != MUX_RST_ACK);
	t->closed_calls++;
	t->closed = 1;
	t->reset = reset;
	t->reason = reason;
	s->closed_calls++;
	if (!reset) {
		assert_true(t->rx_eof);
		assert_true(t->tx_shut);
	}
	if (s->hook_closed != NULL)
		s->hook_closed(s, id, reset);
}

static const struct mux_callbacks callbacks = {
    .send = cb_send,
    .stream_opened = cb_opened,
    .readable = cb_readable,
    .writable = cb_writable,
    .closed = cb_closed,
};

/* ---- setup and the event loop ---- */

static struct net *
net_new(uint64_t seed, unsigned depth0, unsigned depth1)
{
	struct net *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	n->rng = seed;
	n->delay = 10;
	n->tr = calloc(MAXID, sizeof(*n->tr));
	assert_non_null(n->tr);
	for (int i = 0; i < 2; i++) {
		struct side *s = &n->side[i];
		s->net = n;
		s->idx = i;
		s->cfg.max_body = BODY;
		s->cfg.max_depth = i == 0 ? depth0 : depth1;
		s->cfg.is_initiator = i == 0;
		s->ts = calloc(MAXID, sizeof(*s->ts));
		assert_non_null(s->ts);
	}
	return n;
}

/* Create the muxes (after the test adjusted the configs). */
static void
net_start(struct net *n)
{
	for (int i = 0; i < 2; i++) {
		struct side *s = &n->side[i];
		s->m = mux_new(&s->cfg, &callbacks, s);
		assert_non_null(s->m);
		if (s->cfg.max_depth == 0)
			s->cfg.max_depth = MUX_DEPTH_DEFAULT;
	}
}

static void
net_free(struct net *n)
{
	struct pkt *p;

	while ((p = n->q) != NULL) {
		n->q = p->next;
		free(p);
	}
	for (int i = 0; i < 2; i++) {
		mux_free(n->side[i].m);
		free(n->side[i].ts);
	}
	free(n->tr);
	free(n->log);
	free(n);
}

static uint32_t
open_stream(struct side *s, uint64_t tx)
{
	uint32_t id = 0;
	struct tstream *t;

	assert_int_equal(mux_open(s->m, &id, s->net->now), 0);
	assert_int_equal(id & 1, s->idx == 0 ? 1u : 0u);
	t = tsget(s, id);
	assert_false(t->used);
	t->used = t->started = 1;
	t->tx_total = tx;
	pump(s, id);
	return id;
}

/* Deliver what is due and run due timers, jumping the clock from event to
 * event, until done() holds (returns 1), nothing is left to happen (returns
 * done()), or the clock passes until (returns 0). */
static int
net_run(struct net *n, int (*done)(struct net *), uint64_t until)
{
	unsigned long guard = 0;

	for (;;) {
		uint64_t t = UINT64_MAX;

		if (done != NULL && done(n))
			return 1;
		assert_true(++guard < 50000000UL);
		if (n->q != NULL)
			t = n->q->at;
		for (int i = 0; i < 2; i++) {
			uint64_t d = mux_next_timeout(n->side[i].m, n->now);
			if (d < t)
				t = d;
		}
		if (t == UINT64_MAX)
			return done != NULL ? done(n) : 1;
		if (t > until)
			return 0;
		if (t > n->now)
			n->now = t;
		while (n->q != NULL && n->q->at <= n->now) {
			struct pkt *p = n->q;
			struct side *s = &n->side[p->to];
			n->q = p->next;
			track_acks(n, p->to, p->body, p->len);
			n->delivered++;
			mux_input(s->m, p->body, p->len, n->now);
			if (n->flush_each)
				mux_flush(s->m, n->now);
			free(p);
		}
		for (int i = 0; i < 2; i++)
			if (mux_next_timeout(n->side[i].m, n->now) <= n->now)
				mux_on_timer(n->side[i].m, n->now);
	}
}

/* Time of the next event, UINT64_MAX if none. */
static uint64_t
net_next(struct net *n)
{
	uint64_t t = n->q != NULL ? n->q->at : UINT64_MAX;

	for (int i = 0; i < 2; i++) {
		uint64_t d = mux_next_timeout(n->side[i].m, n->now);
		if (d < t)
			t = d;
	}
	return t;
}

static int
all_closed(struct net *n)
{
	for (int i = 0; i < 2; i++)
		for (uint32_t id = 0; id < MAXID; id++)
			if (n->side[i].ts[id].used && !n->side[i].ts[id].closed)
				return 0;
	return 1;
}

static int
nothing(struct net *n)
{
	(void)n;
	return 0;
}

/* Every stream carried all its data both ways and closed cleanly. */
static void
check_all_clean(struct net *n)
{
	for (uint32_t id = 0; id < MAXID; id++) {
		struct tstream *a = &n->side[0].ts[id], *b = &n->side[1].ts[id];
		if (!a->used && !b->used)
			continue;
		assert_true(a->used && b->used);
		assert_true(a->closed && b->closed);
		assert_false(a->reset);
		assert_false(b->reset);
		assert_int_equal(a->tx_sent, a->tx_total);
		assert_int_equal(b->tx_sent, b->tx_total);
		assert_int_equal(b->rx_count, a->tx_total);
		assert_int_equal(a->rx_count, b->tx_total);
		assert_true(a->rx_eof && b->rx_eof);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(mux_stream_count(n->side[i].m), 0);
}

/* With MUX_TEST_VERBOSE set, print what a run did (for tuning and review). */
static void
report(struct net *n, const char *what)
{
	struct mux_stats a, b;

	if (getenv("MUX_TEST_VERBOSE") == NULL)
		return;
	mux_get_stats(n->side[0].m, &a);
	mux_get_stats(n->side[1].m, &b);
	fprintf(
	    stderr,
	    "%-22s t=%6llu ms pkts %llu/%llu dropped %llu retx %llu/%llu (fast %llu, tail %llu, "
	    "rto %llu) probes %llu dup %llu srtt %llu us bytes %llu/%llu\n",
	    what, (unsigned long long)n->now, (unsigned long long)a.packets_out,
	    (unsigned long long)b.packets_out, (unsigned long long)n->dropped,
	    (unsigned long long)a.retransmits, (unsigned long long)b.retransmits,
	    (unsigned long long)(a.fast_retransmits + b.fast_retransmits),
	    (unsigned long long)(a.tail_probes + b.tail_probes),
	    (unsigned long long)(a.timeouts + b.timeouts),
	    (unsigned long long)(a.probes_sent + b.probes_sent),
	    (unsigned long long)(a.dup_frames + b.dup_frames), (unsigned long long)a.srtt_us,
	    (unsigned long long)a.bytes_out, (unsigned long long)b.bytes_out);
}

/* Let the lingering records expire; afterwards nothing is left. */
static void
run_to_idle(struct net *n)
{
	struct mux_stats st;

	assert_int_equal(net_run(n, NULL, n->now + 10 * MUX_LINGER_MS), 1);
	for (int i = 0; i < 2; i++) {
		mux_get_stats(n->side[i].m, &st);
		assert_int_equal(st.records, 0);
		assert_int_equal(st.snd_buffered, 0);
		assert_int_equal(st.rcv_buffered, 0);
		assert_int_equal(mux_next_timeout(n->side[i].m, n->now), UINT64_MAX);
	}
}

static size_t
count_frames(struct net *n, int from, uint8_t type, uint32_t id)
{
	size_t c = 0;

	for (size_t i = 0; i < n->nlog; i++)
		if (n->log[i].from == from && n->log[i].type == type &&
		    (id == 0 || n->log[i].id == id))
			c++;
	return c;
}

/* ---- tests ---- */

/* RFC 6298 section 2 with worked numbers; clamps at 200 ms and 60 s. */
static void
test_rtt_rfc6298(void **state)
{
	struct mux_rtt r;

	(void)state;
	mux_rtt_init(&r);
	assert_int_equal(mux_rtt_rto_ms(&r), 1000); /* (2.1) */
	mux_rtt_sample(&r, 100);		    /* (2.2) */
	assert_int_equal(r.srtt_us, 100000);
	assert_int_equal(r.rttvar_us, 50000);
	assert_int_equal(mux_rtt_rto_ms(&r), 300); /* 100 + 4 * 50 */
	mux_rtt_sample(&r, 200);		   /* (2.3) */
	assert_int_equal(r.rttvar_us, 62500);	   /* 3/4 * 50 + 1/4 * |100 - 200| */
	assert_int_equal(r.srtt_us, 112500);	   /* 7/8 * 100 + 1/8 * 200 */
	assert_int_equal(mux_rtt_rto_ms(&r), 363); /* 112.5 + 250, rounded up */
	mux_rtt_sample(&r, 100);
	assert_int_equal(r.rttvar_us, 50000); /* 3/4 * 62.5 + 1/4 * 12.5 */
	assert_int_equal(r.srtt_us, 110937);  /* 7/8 * 112.5 + 12.5 = 110.9375 */
	assert_int_equal(mux_rtt_rto_ms(&r), 311);

	mux_rtt_init(&r);
	mux_rtt_sample(&r, 10); /* 10 + 20 = 30 ms: raised to the 200 ms floor */
	assert_int_equal(mux_rtt_rto_ms(&r), 200);
	mux_rtt_init(&r);
	mux_rtt_sample(&r, 0); /* SRTT + max(G, 0) = 1 ms: floor again */
	assert_int_equal(r.srtt_us, 0);
	assert_int_equal(mux_rtt_rto_ms(&r), 200);
	mux_rtt_init(&r);
	mux_rtt_sample(&r, 30000); /* 30 + 60 = 90 s: capped at 60 s */
	assert_int_equal(mux_rtt_rto_ms(&r), 60000);
	mux_rtt_sample(&r, UINT64_MAX / 2); /* absurd samples do not overflow */
	assert_int_equal(mux_rtt_rto_ms(&r), 60000);
}

static void
test_config_rejected(void **state)
{
	struct mux_config c = {.max_body = BODY, .max_depth = 12, .is_initiator = 1};
	struct mux_callbacks cb = callbacks;
	struct mux *m;

	(void)state;
	c.max_body = MUX_BODY_MIN - 1;
	errno = 0;
	assert_null(mux_new(&c, &cb, NULL));
	assert_int_equal(errno, EINVAL);
	c.max_body = MUX_BODY_MAX + 1;
	assert_null(mux_new(&c, &cb, NULL));
	c.max_body = BODY;
	c.max_depth = MUX_DEPTH_MAX + 1;
	assert_null(mux_new(&c, &cb, NULL));
	c.max_depth = 12;
	cb.send = NULL;
	assert_null(mux_new(&c, &cb, NULL));
	cb.send = cb_send;
	m = mux_new(&c, &cb, NULL);
	assert_non_null(m);
	/* calls on unknown streams fail cleanly */
	assert_int_equal(mux_write(m, 1, (const uint8_t *)"x", 1, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mux_read(m, 1, (uint8_t *)&c, 1, 0), -1);
	assert_int_equal(mux_eof(m, 1), -1);
	assert_int_equal(mux_shutdown(m, 1, 0), -1);
	assert_int_equal(mux_reset(m, 1, MUX_RST_RESET, 0), -1);
	assert_int_equal(mux_writable(m, 1), 0);
	assert_int_equal(mux_next_timeout(m, 0), UINT64_MAX);
	assert_string_equal(mux_reason_str(MUX_RST_REFUSED), "refused");
	assert_string_equal(mux_reason_str(77), "unknown reason");
	mux_free(m);
}

/* One stream, both directions, clean close; ids and counters. */
static void
test_open_transfer_close(void **state)
{
	struct net *n = net_new(1, 12, 12);
	struct mux_stats a, b;
	uint32_t id;

	(void)state;
	n->side[1].accept_tx = 7000;
	net_start(n);
	id = open_stream(&n->side[0], 10000);
	assert_int_equal(id, 1);
	assert_int_equal(mux_stream_count(n->side[0].m), 1);
	assert_int_equal(net_run(n, all_closed, 60000), 1);
	check_all_clean(n);
	assert_int_equal(n->side[1].opened_calls, 1);
	assert_int_equal(n->side[0].closed_calls, 1);
	assert_int_equal(n->side[1].closed_calls, 1);
	mux_get_stats(n->side[0].m, &a);
	mux_get_stats(n->side[1].m, &b);
	assert_int_equal(a.bytes_out, 10000);
	assert_int_equal(b.bytes_in, 10000);
	assert_int_equal(b.bytes_out, 7000);
	assert_int_equal(a.bytes_in, 7000);
	assert_int_equal(a.retransmits, 0);
	assert_int_equal(a.malformed + b.malformed, 0);
	assert_int_equal(a.streams_opened, 1);
	assert_int_equal(b.streams_accepted, 1);
	assert_int_equal(a.streams_closed, 1);
	assert_int_equal(b.streams_closed, 1);
	assert_true(a.rtt_samples > 0);
	/* 10 ms each way; ACKs go at once or are held up to 20 ms */
	assert_in_range(a.srtt_us, 20000, 40000);
	assert_true(b.last_input_ms > 0);
	/* the next stream gets a new id */
	id = open_stream(&n->side[0], 10);
	assert_int_equal(id, 3);
	assert_int_equal(net_run(n, all_closed, n->now + 60000), 1);
	run_to_idle(n);
	net_free(n);
}

static int
fin_seen(struct net *n)
{
	return n->side[1].ts[1].rx_eof && n->side[0].ts[1].closed;
}

/* 1 MB one way (a short answer back) over a lossy, reordering, duplicating
 * network; depth and flush mode varied. */
static void
bulk(unsigned loss, unsigned dup, unsigned reorder, unsigned depth, int flush, uint64_t seed)
{
	struct net *n = net_new(seed, depth, depth);
	struct mux_stats a;

	n->loss_pct = loss;
	n->dup_pct = dup;
	n->reorder_pct = reorder;
	n->jitter = 40;
	n->flush_each = flush;
	n->side[1].accept_tx = 1000;
	net_start(n);
	open_stream(&n->side[0], 1 << 20);
	assert_int_equal(net_run(n, all_closed, 3600 * 1000), 1);
	assert_true(fin_seen(n));
	check_all_clean(n);
	mux_get_stats(n->side[0].m, &a);
	if (loss > 0)
		assert_true(a.retransmits > 0);
	else if (dup == 0 && reorder == 0)
		assert_int_equal(a.retransmits, 0);
	assert_true(n->max_inflight[0] <= (depth ? depth : MUX_DEPTH_DEFAULT));
	report(n, "bulk");
	run_to_idle(n);
	net_free(n);
}

static void
test_bulk_loss0(void **state)
{
	(void)state;
	bulk(0, 0, 0, 12, 0, 11);
}

static void
test_bulk_loss5(void **state)
{
	(void)state;
	bulk(5, 0, 0, 12, 1, 12);
}

static void
test_bulk_loss20(void **state)
{
	(void)state;
	bulk(20, 0, 0, 12, 0, 13);
}

static void
test_bulk_reorder_dup(void **state)
{
	(void)state;
	bulk(0, 20, 40, 12, 0, 14);
	bulk(10, 10, 30, 32, 1, 15);
	bulk(3, 5, 20, 1, 0, 16); /* one packet in flight */
}

static uint64_t
per_stream_size(uint32_t id)
{
	return (uint64_t)((id * 2654435761u) % 30000u);
}

/* 300 concurrent streams, each with its own data both ways. */
static void
test_many_streams(void **state)
{
	struct net *n = net_new(21, 12, 12);
	uint64_t seed = 99;

	(void)state;
	n->loss_pct = 5;
	n->reorder_pct = 20;
	n->jitter = 30;
	n->dup_pct = 2;
	n->side[1].accept_tx_fn = per_stream_size;
	net_start(n);
	for (int i = 0; i < 300; i++)
		open_stream(&n->side[0], rnd_below(&seed, 40000));
	assert_int_equal(mux_stream_count(n->side[0].m), 300);
	assert_int_equal(net_run(n, all_closed, 3600 * 1000), 1);
	check_all_clean(n);
	assert_int_equal(n->side[1].opened_calls, 300);
	report(n, "many_streams");
	run_to_idle(n);
	net_free(n);
}

/* Half-close: the initiator sends its request and FIN, the target reads to
 * EOF and only then sends a long answer and its own FIN. */
static void
test_half_close(void **state)
{
	struct net *n = net_new(31, 12, 12);
	struct tstream *a, *b;

	(void)state;
	n->loss_pct = 5;
	n->side[1].accept_tx = 100000;
	n->side[1].accept_after_eof = 1;
	net_start(n);
	open_stream(&n->side[0], 5000);
	a = &n->side[0].ts[1];
	b = &n->side[1].ts[1];
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	check_all_clean(n);
	assert_true(a->tx_shut && b->rx_eof);
	assert_int_equal(a->rx_count, 100000);
	/* a FIN with no data at all in one direction */
	n->side[1].accept_tx = 0;
	open_stream(&n->side[0], 0);
	assert_int_equal(net_run(n, all_closed, n->now + 600000), 1);
	check_all_clean(n);
	run_to_idle(n);
	net_free(n);
}

/* The target refuses (its connect failed): the initiator sees a reset with
 * the reason; nothing is left on either side. */
static void
test_reset_refused(void **state)
{
	struct net *n = net_new(41, 12, 12);
	struct mux_stats a, b;

	(void)state;
	n->side[1].refuse = MUX_RST_REFUSED;
	net_start(n);
	open_stream(&n->side[0], 5000);
	assert_int_equal(net_run(n, all_closed, 60000), 1);
	assert_true(n->side[0].ts[1].reset);
	assert_int_equal(n->side[0].ts[1].reason, MUX_RST_REFUSED);
	assert_int_equal(n->side[1].closed_calls, 0);
	assert_int_equal(mux_stream_count(n->side[0].m), 0);
	assert_int_equal(mux_stream_count(n->side[1].m), 0);
	mux_get_stats(n->side[0].m, &a);
	mux_get_stats(n->side[1].m, &b);
	assert_int_equal(a.streams_reset, 1);
	assert_int_equal(b.streams_reset, 1);
	run_to_idle(n);
	net_free(n);
}

static int
target_got_20k(struct net *n)
{
	return n->side[1].ts[1].rx_count >= 20000;
}

/* Resets mid-transfer from either side, with the RST lost on the way. */
static int
drop_first_rst(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)from;
	(void)len;
	if (b[0] == 3 && n->counter == 0) { /* our RSTs go out alone */
		n->counter = 1;
		return 1;
	}
	return 0;
}

static void
test_reset_both_ways(void **state)
{
	struct net *n;
	int from;

	(void)state;
	/* the target resets once 50 kB arrived */
	n = net_new(51, 12, 12);
	n->side[1].accept_tx = 300000;
	n->side[1].reset_after_rx = 50000;
	net_start(n);
	open_stream(&n->side[0], 300000);
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	assert_true(n->side[0].ts[1].reset);
	assert_int_equal(n->side[0].ts[1].reason, MUX_RST_RESET);
	assert_true(n->side[0].ts[1].tx_sent < 300000);
	run_to_idle(n);
	net_free(n);

	/* the initiator resets (its TCP client went away); first RST lost or not */
	for (from = 0; from < 2; from++) {
		n = net_new(52 + (uint64_t)from, 12, 12);
		n->side[1].accept_tx = 300000;
		if (from)
			n->filter = drop_first_rst;
		net_start(n);
		open_stream(&n->side[0], 300000);
		assert_int_equal(net_run(n, target_got_20k, 600000), 1);
		assert_int_equal(mux_reset(n->side[0].m, 1, MUX_RST_RESET, n->now), 0);
		n->side[0].ts[1].local_reset = n->side[0].ts[1].closed = 1;
		assert_int_equal(mux_write(n->side[0].m, 1, (const uint8_t *)"x", 1, n->now), -1);
		assert_int_equal(mux_reset(n->side[0].m, 1, MUX_RST_RESET, n->now), -1);
		assert_int_equal(net_run(n, all_closed, n->now + 600000), 1);
		assert_true(n->side[1].ts[1].reset);
		assert_int_equal(n->side[1].ts[1].reason, MUX_RST_RESET);
		assert_int_equal(n->side[0].closed_calls, 0);
		if (from)
			assert_int_equal(n->counter, 1);
		run_to_idle(n);
		net_free(n);
	}
}

static int
target_got_1000(struct net *n)
{
	return n->side[1].ts[1].rx_count >= 1000;
}

/* A RST to a peer that sends nothing is retransmitted by its own timer until
 * the peer acknowledges it, and then no more. */
static void
test_rst_retransmitted(void **state)
{
	struct net *n = net_new(55, 12, 12);
	uint64_t t0, rst_at[4];
	size_t nr = 0;

	(void)state;
	n->side[0].no_shutdown = 1;	 /* the initiator keeps its side open */
	n->side[1].accept_after_eof = 1; /* so the target waits, silent */
	n->filter = drop_first_rst;
	net_start(n);
	open_stream(&n->side[0], 1000);
	assert_int_equal(net_run(n, target_got_1000, 60000), 1);
	assert_int_equal(net_run(n, NULL, n->now + 1000), 1); /* all acknowledged */
	t0 = n->now;
	assert_int_equal(mux_reset(n->side[0].m, 1, MUX_RST_RESET, n->now), 0);
	n->side[0].ts[1].local_reset = n->side[0].ts[1].closed = 1;
	assert_int_equal(net_run(n, all_closed, n->now + 60000), 1);
	assert_true(n->side[1].ts[1].reset);
	assert_int_equal(n->side[1].ts[1].reason, MUX_RST_RESET);
	run_to_idle(n);
	for (size_t i = 0; i < n->nlog; i++)
		if (n->log[i].from == 0 && n->log[i].type == 3 && nr < 4)
			rst_at[nr++] = n->log[i].at;
	assert_int_equal(nr, 2); /* the lost one, the one acknowledged */
	assert_int_equal(rst_at[0], t0);
	assert_int_equal(rst_at[1], t0 + 200); /* RTO: 20 ms path, at the floor */
	assert_int_equal(count_frames(n, 1, 3, 1), 1);
	assert_int_equal(n->log[n->nlog - 1].arg, MUX_RST_ACK);
	net_free(n);
}

/* ACK timing: held back MUX_ACK_DELAY_MS for a lone packet, sent at once by
 * mux_flush(), and at once when the sender asks (ACKREQ: it can send nothing
 * more until this is acknowledged). */
static size_t
first_ack_after(struct net *n, uint64_t t)
{
	for (size_t i = 0; i < n->nlog; i++)
		if (n->log[i].from == 1 && n->log[i].type == 2 && n->log[i].at >= t)
			return i;
	fail_msg("no ACK after %llu", (unsigned long long)t);
	return 0;
}

static size_t
first_data_after(struct net *n, uint64_t t)
{
	for (size_t i = 0; i < n->nlog; i++)
		if (n->log[i].from == 0 && n->log[i].type == 1 && n->log[i].at >= t)
			return i;
	fail_msg("no DATA after %llu", (unsigned long long)t);
	return 0;
}

static void
test_ack_timing(void **state)
{
	struct net *n;
	uint64_t t0;
	size_t i;

	(void)state;
	for (int depth1 = 0; depth1 < 2; depth1++) {
		n = net_new(57, depth1 ? 1 : 12, 12);
		n->side[0].no_shutdown = n->side[1].no_shutdown = 1;
		net_start(n);
		open_stream(&n->side[0], 0);
		assert_int_equal(net_run(n, NULL, 1000), 1);

		t0 = n->now = 2000;
		n->side[0].ts[1].tx_total += 100;
		pump(&n->side[0], 1);
		i = first_data_after(n, t0);
		assert_int_equal(n->log[i].at, t0);
		assert_int_equal(n->log[i].b, 100);
		assert_int_equal(net_run(n, NULL, t0 + 1000), 1);
		i = first_ack_after(n, t0);
		if (depth1) {
			assert_int_equal(n->log[first_data_after(n, t0)].arg & 4, 4);
			assert_int_equal(n->log[i].at, t0 + 10); /* asked for: at once */
		} else {
			assert_int_equal(n->log[first_data_after(n, t0)].arg & 4, 0);
			assert_int_equal(n->log[i].at, t0 + 10 + MUX_ACK_DELAY_MS);
		}
		assert_int_equal(n->log[i].a, 2); /* OPEN was 0, the data 1 */
		assert_int_equal(n->side[1].ts[1].rx_count, 100);

		t0 = n->now = 4000;
		n->flush_each = 1;
		n->side[0].ts[1].tx_total += 100;
		pump(&n->side[0], 1);
		assert_int_equal(net_run(n, NULL, t0 + 1000), 1);
		assert_int_equal(n->log[first_ack_after(n, t0)].at, t0 + 10);
		net_free(n);
	}
}

/* When the retransmission timer fires every packet still unacknowledged
 * (and not SACKed) is sent again, not only the first. */
static void
test_rto_resends_window(void **state)
{
	struct net *n = net_new(59, 12, 12);
	size_t at0 = 0, at1000 = 0;

	(void)state;
	n->drop_from[0] = 1;
	net_start(n);
	open_stream(&n->side[0], 20 * MAXPAY); /* OPEN + 3 packets: the first window */
	n->drop_from[0] = 0;
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	check_all_clean(n);
	for (size_t i = 0; i < n->nlog; i++) {
		if (n->log[i].from != 0 || n->log[i].type != 1)
			continue;
		at0 += n->log[i].at == 0;
		at1000 += n->log[i].at == 1000;
	}
	assert_int_equal(at0, MUX_INIT_WINDOW);
	assert_int_equal(at1000, MUX_INIT_WINDOW);
	net_free(n);
}

/* Frames for streams that do not exist. */
static void
test_rst_unknown_stream(void **state)
{
	struct net *n = net_new(61, 12, 12);
	struct mux *b;
	struct mux_stats st;
	uint8_t f[64];

	(void)state;
	net_start(n);
	b = n->side[1].m;
	n->drop_from[1] = 1; /* look at what the target answers, deliver nothing */

	/* data of a peer stream whose OPEN has not arrived: dropped, no RST */
	memset(f, 0, sizeof(f));
	f[0] = 1;
	p32(f + 2, 1);
	p32(f + 6, 5);
	p16(f + 10, 3);
	mux_input(b, f, 15, n->now);
	mux_get_stats(b, &st);
	assert_int_equal(st.early_frames, 1);
	assert_int_equal(count_frames(n, 1, 3, 0), 0);

	/* data for an id of our own that we never opened: RST "unknown" */
	p32(f + 2, 2);
	mux_input(b, f, 15, n->now);
	assert_int_equal(count_frames(n, 1, 3, 2), 1);
	assert_int_equal(n->log[n->nlog - 1].arg, MUX_RST_UNKNOWN);
	/* two frames for one unknown stream in one body: still one RST */
	memcpy(f + 15, f, 15);
	mux_input(b, f, 30, n->now);
	assert_int_equal(count_frames(n, 1, 3, 2), 2);
	/* an ACK for an unknown stream */
	memset(f, 0, sizeof(f));
	f[0] = 2;
	p32(f + 2, 4);
	mux_input(b, f, 14, n->now);
	assert_int_equal(count_frames(n, 1, 3, 4), 1);
	/* a PROBE */
	f[0] = 4;
	f[1] = 0;
	p32(f + 2, 7);
	mux_input(b, f, 6, n->now);
	assert_int_equal(count_frames(n, 1, 3, 7), 1);
	/* a RST for an unknown stream is acknowledged, a RST-ACK is not answered */
	f[0] = 3;
	f[1] = MUX_RST_RESET;
	p32(f + 2, 9);
	mux_input(b, f, 6, n->now);
	assert_int_equal(count_frames(n, 1, 3, 9), 1);
	assert_int_equal(n->log[n->nlog - 1].arg, MUX_RST_ACK);
	f[1] = MUX_RST_ACK;
	p32(f + 2, 11);
	mux_input(b, f, 6, n->now);
	assert_int_equal(count_frames(n, 1, 3, 11), 0);
	/* stream 9 was reset before its OPEN arrived: a late OPEN is refused */
	memset(f, 0, sizeof(f));
	f[0] = 1;
	f[1] = 1;
	p32(f + 2, 9);
	mux_input(b, f, 12, n->now);
	assert_int_equal(n->side[1].opened_calls, 0);
	assert_int_equal(count_frames(n, 1, 3, 9), 2);
	mux_get_stats(b, &st);
	assert_int_equal(st.unknown_stream, 6); /* per frame: 2, 2, 2, 4, 7, 9 */
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.records, 0);
	net_free(n);
}

/* A slow reader back-pressures the sender; memory stays bounded; when the
 * reader drains and its window update is lost, a probe restarts the flow. */
static void
test_slow_reader(void **state)
{
	struct net *n = net_new(71, 8, 8);
	struct mux_stats a, b;
	struct tstream *ta, *tb;
	uint64_t probes;

	(void)state;
	n->side[1].accept_tx = 0;
	net_start(n);
	n->side[1].ts[1].paused = 1; /* set before the stream exists: cb_opened keeps it */
	open_stream(&n->side[0], 500000);
	ta = &n->side[0].ts[1];
	tb = &n->side[1].ts[1];
	assert_int_equal(net_run(n, nothing, 20000), 0);
	mux_get_stats(n->side[0].m, &a);
	mux_get_stats(n->side[1].m, &b);
	assert_true(a.snd_buffered <= 8 * (size_t)MAXPAY);
	assert_true(b.rcv_buffered <= 8 * (size_t)MAXPAY);
	assert_true(b.rcv_buffered >= 7 * (size_t)MAXPAY); /* the window was filled */
	assert_true(ta->tx_sent <= 16 * (uint64_t)MAXPAY);
	assert_int_equal(tb->rx_count, 0);
	assert_int_equal(mux_writable(n->side[0].m, 1), 0);
	assert_true(a.probes_sent >= 2); /* zero-window probes, backing off */
	assert_true(a.probes_sent <= 12);
	probes = a.probes_sent;

	/* the reader drains, and the window update it sends is lost */
	tb->paused = 0;
	n->drop_from[1] = 1;
	drain(&n->side[1], 1);
	n->drop_from[1] = 0;
	assert_true(tb->rx_count > 0);
	assert_true(n->dropped > 0);
	assert_int_equal(net_run(n, all_closed, n->now + 600000), 1);
	check_all_clean(n);
	mux_get_stats(n->side[0].m, &a);
	assert_true(a.probes_sent > probes); /* a probe got it going */
	report(n, "slow_reader");
	run_to_idle(n);
	net_free(n);
}

/* The reader stops only briefly, and the ACK that reopens the window is
 * lost: nothing is in flight, so only a zero-window probe can bring the new
 * window. It goes out after about two round trips (doubling while the window
 * stays shut), not after an RTO: 200 ms at least, which on a fast path is
 * hundreds of round trips lost for each such ACK. 10 ms round trip here. */
static void
test_window_update_lost(void **state)
{
	struct net *n = net_new(72, 8, 8);
	struct tstream *tb;
	uint64_t t0, resumed = 0;
	uint32_t id;

	(void)state;
	n->delay = 5;
	n->flush_each = 1;
	n->side[1].accept_tx = 0;
	net_start(n);
	open_stream(&n->side[0], 1000); /* an RTT sample first */
	assert_int_equal(net_run(n, all_closed, 1000), 1);
	n->side[1].ts[3].paused = 1; /* the next stream's reader */
	id = open_stream(&n->side[0], 100000);
	assert_int_equal(id, 3);
	tb = &n->side[1].ts[3];
	assert_int_equal(net_run(n, nothing, n->now + 60), 0);
	assert_int_equal(tb->rx_count, 0);
	assert_int_equal(mux_writable(n->side[0].m, 3), 0); /* the window is shut */

	tb->paused = 0; /* the reader drains; its window update is lost */
	n->drop_from[1] = 1;
	drain(&n->side[1], 3);
	n->drop_from[1] = 0;
	assert_true(n->dropped > 0);
	t0 = n->now;
	assert_int_equal(net_run(n, all_closed, n->now + 600000), 1);
	check_all_clean(n);
	for (size_t i = 0; i < n->nlog && resumed == 0; i++)
		if (n->log[i].from == 0 && n->log[i].type == 1 && n->log[i].id == 3 &&
		    n->log[i].at > t0)
			resumed = n->log[i].at; /* new data once the probe's answer came */
	assert_true(resumed > t0);
	assert_true(resumed - t0 < MUX_RTO_MIN_MS / 2);
	report(n, "window_update_lost");
	run_to_idle(n);
	net_free(n);
}

/* Never more than max_depth unacknowledged data packets of one stream on the
 * wire (checked by check_depth on every frame of every test; here it is made
 * to matter: different depths per side, loss and reordering). */
static void
test_max_depth(void **state)
{
	struct net *n = net_new(81, 3, 7);

	(void)state;
	n->loss_pct = 5;
	n->reorder_pct = 30;
	n->jitter = 25;
	n->side[1].accept_tx = 200000;
	net_start(n);
	open_stream(&n->side[0], 200000);
	open_stream(&n->side[0], 100000);
	assert_int_equal(net_run(n, all_closed, 3600000), 1);
	check_all_clean(n);
	assert_int_equal(n->max_inflight[0], 3); /* reached, never passed */
	/* the target may have 7 in flight, but the initiator's receive buffer
	 * (max(3, MUX_INIT_WINDOW) packets) is the tighter bound */
	assert_int_equal(n->max_inflight[1], MUX_INIT_WINDOW);
	report(n, "max_depth");
	run_to_idle(n);
	net_free(n);
}

/* Drop the first two transmissions of the OPEN: the RTO starts at 1 s and
 * doubles; the ACK of a retransmitted packet gives no RTT sample (Karn); the
 * next fresh packet does. */
static int
drop_open_twice(struct net *n, int from, const uint8_t *b, size_t len)
{
	(void)len;
	if (from == 0 && b[0] == 1 && (b[1] & 1) && n->counter < 2) {
		n->counter++;
		return 1;
	}
	return 0;
}

static void
test_karn_backoff(void **state)
{
	struct net *n = net_new(91, 12, 12);
	struct mux_stats a;
	uint64_t times[8];
	size_t nt = 0;

	(void)state;
	n->delay = 50;
	n->flush_each = 1;
	n->filter = drop_open_twice;
	n->side[0].no_shutdown = 1;
	n->side[1].no_shutdown = 1;
	net_start(n);
	open_stream(&n->side[0], 0); /* just the OPEN, no data, no FIN */
	assert_int_equal(net_run(n, nothing, 3101), 0);
	for (size_t i = 0; i < n->nlog; i++)
		if (n->log[i].from == 0 && n->log[i].type == 1 && nt < 8)
			times[nt++] = n->log[i].at;
	assert_int_equal(nt, 3);
	assert_int_equal(times[0], 0);
	assert_int_equal(times[1], 1000); /* initial RTO */
	assert_int_equal(times[2], 3000); /* doubled */
	mux_get_stats(n->side[0].m, &a);
	assert_int_equal(a.timeouts, 2);
	assert_int_equal(a.retransmits, 2);
	assert_int_equal(a.rtt_samples, 0); /* the ACK at 3100 answered a retransmission */
	assert_int_equal(a.rto_ms, 1000);

	/* a fresh packet on a second stream is timed: 100 ms */
	open_stream(&n->side[0], 0);
	assert_int_equal(net_run(n, nothing, n->now + 150), 0);
	mux_get_stats(n->side[0].m, &a);
	assert_int_equal(a.rtt_samples, 1);
	assert_int_equal(a.srtt_us, 100000);
	assert_int_equal(a.rttvar_us, 50000);
	assert_int_equal(a.rto_ms, 300);
	net_free(n);
}

/* Lose one data packet in the middle of a window: it is sent again after
 * three later packets are acknowledged, well before any RTO. */
static int
drop_seq3_once(struct net *n, int from, const uint8_t *b, size_t len)
{
	size_t off = 0, fl;
	int hit = 0;

	while (off < len && (fl = tf_len(b + off, len - off)) > 0) {
		if (from == 0 && b[off] == 1 && g32(b + off + 6) == 3 && n->counter == 0)
			hit = 1;
		off += fl;
	}
	if (hit)
		n->counter = 1;
	return hit;
}

/* Times at which side 0 sent DATA seq of stream 1 (up to max). */
static size_t
tx_times(struct net *n, uint32_t seq, uint64_t *at, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n->nlog && k < max; i++)
		if (n->log[i].from == 0 && n->log[i].type == 1 && n->log[i].id == 1 &&
		    n->log[i].a == seq)
			at[k++] = n->log[i].at;
	return k;
}

static void
test_fast_retransmit(void **state)
{
	struct net *n = net_new(101, 12, 12);
	struct mux_stats a;
	uint64_t t3[2];

	(void)state;
	n->delay = 50;
	n->flush_each = 1;
	n->filter = drop_seq3_once;
	net_start(n);
	open_stream(&n->side[0], 30 * MAXPAY);
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	check_all_clean(n);
	assert_int_equal(tx_times(n, 3, t3, 2), 2);
	assert_int_equal(t3[0], 0);
	/* t=100: ACK of 0..2 (+ SACK of nothing yet) opens the window; t=200: SACKs
	 * of packets sent at 100 show the hole: retransmitted then. The RTO would
	 * be 300 ms after the ACK at 100 at the earliest. */
	assert_int_equal(t3[1], 200);
	mux_get_stats(n->side[0].m, &a);
	assert_int_equal(a.timeouts, 0);
	assert_int_equal(a.retransmits, 1);
	assert_int_equal(a.fast_retransmits, 1);
	run_to_idle(n);
	net_free(n);
}

/* Loss recovery on a fast path: 1 ms round trip (1 ms out, 0 back, the
 * clock's resolution, as on a LAN or between namespaces), max_depth 12, 1 MB
 * one way and a short answer back. */
static int
got_1mb(struct net *n)
{
	return n->side[1].ts[3].rx_eof;
}

/* Runs the transfer with loss% each way; returns the fake-clock time from
 * the open until the receiver had read the whole megabyte and its EOF.
 * Everything must then close cleanly. */
static uint64_t
fast_path_run(unsigned loss, uint64_t seed, struct mux_stats *st)
{
	struct net *n = net_new(seed, 12, 12);
	uint64_t t;

	n->delay = 1;
	n->back_delay = 0;
	n->back_delay_set = 1;
	n->flush_each = 1; /* as the worker does at the end of every loop turn */
	n->side[1].accept_tx = 1000;
	net_start(n);
	/* a first exchange before the loss starts gives both sides an RTT
	 * estimate, as the tunnel's earlier traffic would */
	open_stream(&n->side[0], 1000);
	assert_int_equal(net_run(n, all_closed, 1000), 1);
	n->loss_pct = loss;
	t = n->now;
	open_stream(&n->side[0], 1 << 20);
	assert_int_equal(net_run(n, got_1mb, 3600 * 1000), 1);
	t = n->now - t;
	assert_int_equal(net_run(n, all_closed, 3600 * 1000), 1);
	check_all_clean(n);
	mux_get_stats(n->side[0].m, st);
	report(n, "fast_path");
	run_to_idle(n);
	net_free(n);
	return t;
}

/* Time bounds, in fake milliseconds for 1 MB (894 packets of 1174 bytes):
 *  - no loss: 12 packets per 1 ms round trip make 75 ms; nothing is resent
 *    and no probe goes out;
 *  - 20% loss each way: some 200 packets per MB are resent and about 40 of
 *    those resends are lost again. Left to the retransmission timer each of
 *    these costs MUX_RTO_MIN_MS (200 ms) or more with backoff: before
 *    time-based loss detection and tail probes, seeds 1..200 took 3.6 to 64 s
 *    (average 10.6 s). Now they take 200..482 ms (average 267). The bound,
 *    1000 ms (10 MB in 10 s), leaves twice that margin and fails if five lost
 *    retransmissions per MB wait for the RTO;
 *  - 5% loss: 98..138 ms now (before: up to 2.7 s); bound 300 ms. */
static void
test_fast_path_loss(void **state)
{
	struct mux_stats a;
	uint64_t t;

	(void)state;
	t = fast_path_run(0, 1, &a);
	assert_in_range(t, 75, 80);
	assert_int_equal(a.retransmits, 0);
	assert_int_equal(a.tail_probes, 0);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		t = fast_path_run(20, seed, &a);
		assert_in_range(t, 76, 1000);
		assert_true(a.retransmits > 100);
		t = fast_path_run(5, seed, &a);
		assert_in_range(t, 76, 300);
	}
}

/* Drop the first drop_tx[seq] transmissions of each DATA packet seq < 64
 * that side 0 sends. */
static int
drop_listed(struct net *n, int from, const uint8_t *b, size_t len)
{
	size_t off = 0, fl;
	int hit = 0;

	while (off < len && (fl = tf_len(b + off, len - off)) > 0) {
		uint32_t seq = g32(b + off + 6);
		if (from == 0 && b[off] == 1 && seq < 64 && n->tx_seen[seq]++ < n->drop_tx[seq])
			hit = 1;
		off += fl;
	}
	return hit;
}

/* A retransmission that is lost again is found without the RTO (20 ms
 * round trip, so SRTT 20 ms and the RTO at its 200 ms floor).
 *
 * rack: packets 3 and 5 are lost, and 3's first retransmission too. t=0:
 * OPEN(0), 1, 2, 3 (the initial window). t=20: the ACK of 0..2 opens the
 * window: 4..14 go out. t=40: their SACKs show 3 and 5 missing (three later
 * packets SACKed); both are resent, 3 first. t=60: 5's resend is SACKed. It
 * was sent after 3's, 3 holds the window so nothing new can go out, and
 * nothing else is missing: early retransmit resends 3 at once, at 60, instead
 * of once it is overdue by the reordering window (sent at 40, due at 40 + 20
 * (RTT), plus SRTT/4 = 5 ms: 65). The RTO would fire at 220.
 *
 * tail: only 3 and its first resend are lost. Nothing is sent after that
 * resend (3 holds the window), so no SACK can show the loss. The tail probe,
 * 2 * SRTT after the last SACKs arrived (t=40), resends 3 at 80. */
static void
lost_retx_run(int rack)
{
	struct net *n = net_new(103, 12, 12);
	struct mux_stats a;
	uint64_t t3[4], t5[4];

	n->delay = 10;
	n->flush_each = 1;
	n->filter = drop_listed;
	n->drop_tx[3] = 2;
	if (rack)
		n->drop_tx[5] = 1;
	net_start(n);
	open_stream(&n->side[0], 30 * MAXPAY);
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	check_all_clean(n);
	mux_get_stats(n->side[0].m, &a);
	assert_int_equal(a.srtt_us, 20000);
	assert_int_equal(a.rto_ms, MUX_RTO_MIN_MS);
	assert_int_equal(a.timeouts, 0);
	assert_int_equal(tx_times(n, 3, t3, 4), 3);
	assert_int_equal(t3[0], 0);
	assert_int_equal(t3[1], 40);
	if (rack) {
		assert_int_equal(tx_times(n, 5, t5, 4), 2);
		assert_int_equal(t5[1], 40);
		assert_int_equal(t3[2], 40 + 20);
		assert_int_equal(a.tail_probes, 0);
		assert_int_equal(a.fast_retransmits, 3);
		assert_int_equal(a.retransmits, 3);
	} else {
		assert_int_equal(t3[2], 40 + 2 * 20);
		assert_int_equal(a.tail_probes, 1);
		assert_int_equal(a.fast_retransmits, 1);
		assert_int_equal(a.retransmits, 2);
	}
	run_to_idle(n);
	net_free(n);
}

static void
test_lost_retransmit(void **state)
{
	(void)state;
	lost_retx_run(1);
	lost_retx_run(0);
}

/* Drop the first packet side 0 sends that holds an ACK frame. */
static int
drop_first_ack(struct net *n, int from, const uint8_t *b, size_t len)
{
	size_t off = 0, fl;

	while (off < len && (fl = tf_len(b + off, len - off)) > 0) {
		if (from == 0 && b[off] == 2 && n->counter == 0) {
			n->counter = 1;
			return 1;
		}
		off += fl;
	}
	return 0;
}

/* The target answers at once with 1000 bytes and its FIN; the initiator's
 * ACK of them is lost. The target has no RTT sample, so its RTO is 1 s, but
 * the ACK rides again on the initiator's next DATA frames: nothing is resent
 * and the target's side is finished long before that second. */
static void
test_ack_repeated_on_data(void **state)
{
	struct net *n = net_new(105, 12, 12);
	struct mux_stats b;
	uint64_t done_at = 0;

	(void)state;
	n->flush_each = 1;
	n->filter = drop_first_ack;
	n->side[1].accept_tx = 1000;
	net_start(n);
	open_stream(&n->side[0], 100 * MAXPAY);
	assert_int_equal(net_run(n, all_closed, 600000), 1);
	check_all_clean(n);
	assert_int_equal(n->counter, 1);
	mux_get_stats(n->side[1].m, &b);
	assert_int_equal(b.retransmits, 0);
	assert_int_equal(b.timeouts, 0);
	for (size_t i = 0, k = 0; i < n->nlog; i++)
		if (n->log[i].from == 0 && n->log[i].type == 2 && n->log[i].a == 1 && k++ == 1)
			done_at = n->log[i].at; /* the second ACK past the FIN */
	assert_true(done_at > 0 && done_at < MUX_RTO_INIT_MS / 10);
	run_to_idle(n);
	net_free(n);
}

/* ---- malformed input ---- */

static size_t
mk_data(uint8_t *f, uint8_t flags, uint32_t id, uint32_t seq, uint16_t len)
{
	f[0] = 1;
	f[1] = flags;
	p32(f + 2, id);
	p32(f + 6, seq);
	p16(f + 10, len);
	for (uint16_t i = 0; i < len; i++)
		f[12 + i] = (uint8_t)i;
	return 12 + (size_t)len;
}

static size_t
mk_ack(uint8_t *f, uint32_t id, uint32_t cum, uint32_t limit, unsigned nr, const uint16_t *r)
{
	f[0] = 2;
	f[1] = (uint8_t)nr;
	p32(f + 2, id);
	p32(f + 6, cum);
	p32(f + 10, limit);
	for (unsigned i = 0; i < 2 * nr; i++)
		p16(f + 14 + 2 * i, r[i]);
	return 14 + 4 * (size_t)nr;
}

static uint64_t
malformed(struct mux *m)
{
	struct mux_stats st;

	mux_get_stats(m, &st);
	return st.malformed;
}

/* Feed body to a mux and require exactly one more malformed drop. */
static void
expect_malformed(struct mux *m, const uint8_t *b, size_t len)
{
	uint64_t before = malformed(m);

	mux_input(m, b, len, 1);
	assert_int_equal(malformed(m), before + 1);
}

static void
test_malformed_bodies(void **state)
{
	struct net *n = net_new(111, 12, 12);
	struct mux *b;
	uint8_t f[2048], body[2048];
	uint16_t r[8] = {2, 1, 5, 3, 10, 1, 20, 4};
	size_t len, blen = 0, cuts[8], nc = 0;

	(void)state;
	net_start(n);
	b = n->side[1].m;
	n->drop_from[1] = 1;

	/* every truncation of every kind of frame, alone and after another frame */
	len = mk_data(f, 1, 1, 0, 100);
	memcpy(body + blen, f, len);
	blen += len;
	cuts[nc++] = blen;
	len = mk_ack(f, 1, 1, 13, 4, r);
	memcpy(body + blen, f, len);
	blen += len;
	cuts[nc++] = blen;
	len = mk_data(f, 2, 1, 1, 0);
	memcpy(body + blen, f, len);
	blen += len;
	cuts[nc++] = blen;
	f[0] = 4;
	f[1] = 0;
	p32(f + 2, 1);
	memcpy(body + blen, f, 6);
	blen += 6;
	cuts[nc++] = blen;
	f[0] = 3;
	f[1] = 1;
	memcpy(body + blen, f, 6);
	blen += 6;
	cuts[nc++] = blen;
	for (size_t cut = 0; cut < blen; cut++) {
		int boundary = 0;
		for (size_t i = 0; i < nc; i++)
			boundary |= cuts[i] == cut;
		if (!boundary)
			expect_malformed(b, body, cut);
	}
	for (size_t i = 0, start = 0; i < nc; start = cuts[i++])
		for (size_t cut = start; cut < cuts[i]; cut++)
			expect_malformed(b, body + start, cut - start); /* frame alone, cut */
	assert_int_equal(n->side[1].opened_calls, 0);
	assert_int_equal(count_frames(n, 1, 3, 0), 0);

	/* huge or impossible fields */
	mk_data(f, 0, 1, 0, 10);
	p16(f + 10, 0xffff);
	expect_malformed(b, f, 22); /* length past the end */
	mk_data(f, 0, 1, 0, MAXPAY + 1);
	expect_malformed(b, f, 12 + MAXPAY + 1); /* fits the body but not max_body */
	mk_data(f, 8, 1, 0, 10);
	expect_malformed(b, f, 22); /* unknown flag */
	mk_data(f, 4, 1, 0, 0);
	expect_malformed(b, f, 12); /* only ACKREQ: still empty */
	mk_data(f, 0, 1, 0, 0);
	expect_malformed(b, f, 12); /* empty DATA */
	mk_data(f, 1, 0, 0, 10);
	expect_malformed(b, f, 22); /* stream 0 */
	mk_ack(f, 1, 0, 0, 0, r);
	f[1] = 255;
	expect_malformed(b, f, 14 + 4 * 255); /* too many ranges */
	f[1] = 64;
	expect_malformed(b, f, 14 + 4 * 63); /* ranges past the end */
	{
		uint16_t bad1[4] = {5, 2, 3, 1}, bad2[4] = {2, 3, 4, 1}, bad3[2] = {0, 1},
			 bad4[2] = {3, 0}, bad5[2] = {65000, 1000};
		expect_malformed(b, f, mk_ack(f, 1, 0, 0, 2, bad1)); /* descending */
		expect_malformed(b, f, mk_ack(f, 1, 0, 0, 2, bad2)); /* overlapping */
		expect_malformed(b, f, mk_ack(f, 1, 0, 0, 1, bad3)); /* starts at cum */
		expect_malformed(b, f, mk_ack(f, 1, 0, 0, 1, bad4)); /* empty */
		expect_malformed(b, f, mk_ack(f, 1, 0, 0, 1, bad5)); /* past 65535 */
	}
	f[0] = 4;
	f[1] = 1;
	expect_malformed(b, f, 6); /* PROBE reserved byte */
	for (unsigned t = 0; t < 256; t++) {
		if (t >= 1 && t <= 4)
			continue;
		memset(f, 0, 32);
		f[0] = (uint8_t)t;
		f[5] = 1;
		expect_malformed(b, f, 32); /* unknown frame type */
	}
	expect_malformed(b, f, 0); /* empty body */
	/* a bad frame after a good OPEN drops the whole body: no stream appears */
	len = mk_data(f, 1, 1, 0, 10);
	f[len] = 9;
	expect_malformed(b, f, len + 6);
	assert_int_equal(n->side[1].opened_calls, 0);
	assert_int_equal(count_frames(n, 1, 3, 0), 0); /* and nothing is answered */
	assert_int_equal(mux_stream_count(b), 0);
	net_free(n);
}

/* Captured real bodies, cut at every length and mutated; random bytes. None
 * may crash; every cut that is not on a frame boundary is dropped. */
static void
test_malformed_random(void **state)
{
	struct net *n = net_new(121, 12, 12);
	struct mux *v;
	uint64_t seed = 5;
	uint8_t buf[1400];

	(void)state;
	n->loss_pct = 10;
	n->side[1].accept_tx = 20000;
	net_start(n);
	/* record real bodies as they are delivered: replay them from the queue */
	open_stream(&n->side[0], 20000);
	{
		/* capture the first 100 bodies sent either way */
		uint8_t *bodies[100];
		size_t lens[100], nb = 0;
		struct pkt *p;
		while (nb < 100 && !all_closed(n) && net_next(n) != UINT64_MAX) {
			net_run(n, nothing, net_next(n));
			for (p = n->q; p != NULL && nb < 100; p = p->next) {
				int dup = 0;
				for (size_t i = 0; i < nb; i++)
					dup |= lens[i] == p->len &&
					       !memcmp(bodies[i], p->body, p->len);
				if (dup)
					continue;
				bodies[nb] = malloc(p->len);
				assert_non_null(bodies[nb]);
				memcpy(bodies[nb], p->body, p->len);
				lens[nb++] = p->len;
			}
		}
		assert_true(nb >= 20);
		v = n->side[1].m; /* a victim that has seen real traffic */
		n->drop_from[1] = 1;
		n->drop_from[0] = 1;
		n->chaos = 1;
		for (size_t i = 0; i < nb; i++) {
			for (size_t cut = 0; cut < lens[i]; cut++) {
				size_t off = 0, fl;
				int boundary;
				while (off < cut &&
				       (fl = tf_len(bodies[i] + off, lens[i] - off)) > 0)
					off += fl;
				boundary = off == cut && cut > 0;
				if (boundary)
					mux_input(v, bodies[i], cut, n->now);
				else
					expect_malformed(v, bodies[i], cut);
			}
			for (int k = 0; k < 200; k++) { /* bit flips and byte changes */
				memcpy(buf, bodies[i], lens[i]);
				buf[rnd_below(&seed, (unsigned)lens[i])] ^=
				    (uint8_t)(1 + rnd_below(&seed, 255));
				mux_input(v, buf, lens[i], n->now);
				mux_input(n->side[0].m, buf, lens[i], n->now);
			}
			free(bodies[i]);
		}
	}
	for (int k = 0; k < 20000; k++) {
		size_t len = rnd_below(&seed, sizeof(buf) + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(&seed);
		if (len > 0 && (k & 1))
			buf[0] = (uint8_t)(1 + rnd_below(&seed, 4)); /* a known type */
		mux_input(v, buf, len, n->now + (uint64_t)k);
		mux_on_timer(v, n->now + (uint64_t)k);
	}
	assert_true(malformed(v) > 10000);
	net_free(n);
}

/* Well-framed but invalid frames against live streams: ACK beyond what was
 * sent, data beyond the window, data after FIN. Each is counted and dropped
 * and the transfer still completes intact. */
static int
stream1_half(struct net *n)
{
	return n->side[1].ts[1].rx_count >= 40000;
}

static void
test_invalid_frames(void **state)
{
	struct net *n = net_new(131, 12, 12);
	uint8_t f[64];
	uint16_t r[2] = {1, 500};
	uint64_t ma, mb;

	(void)state;
	n->side[1].accept_tx = 80000;
	net_start(n);
	open_stream(&n->side[0], 80000);
	assert_int_equal(net_run(n, stream1_half, 600000), 1);
	ma = malformed(n->side[0].m);
	mb = malformed(n->side[1].m);
	mux_input(n->side[0].m, f, mk_ack(f, 1, 100000, 100100, 0, r), n->now);
	assert_int_equal(malformed(n->side[0].m), ma + 1); /* ACK beyond sent */
	mux_input(n->side[0].m, f, mk_ack(f, 1, 1, 100, 1, r), n->now);
	assert_int_equal(malformed(n->side[0].m), ma + 2); /* SACK beyond sent */
	mux_input(n->side[1].m, f, mk_data(f, 0, 1, 1000000, 10), n->now);
	assert_int_equal(malformed(n->side[1].m), mb + 1); /* beyond the window */
	mux_input(n->side[1].m, f, mk_data(f, 1, 1, 500, 10), n->now);
	assert_int_equal(malformed(n->side[1].m), mb + 2); /* OPEN on a later packet */
	assert_int_equal(net_run(n, all_closed, n->now + 600000), 1);
	check_all_clean(n);
	net_free(n);
}

/* FIN rules on the receiving side: no FIN below data already received, one
 * FIN only, nothing after it. */
static void
test_fin_rules(void **state)
{
	struct net *n = net_new(65, 12, 12);
	struct mux *b;
	struct mux_stats st;
	uint8_t f[64];

	(void)state;
	n->side[1].no_shutdown = 1;
	net_start(n);
	b = n->side[1].m;
	n->drop_from[1] = 1;
#define DATA(flags, seq, off, len)                                                                 \
	do {                                                                                       \
		mk_data(f, (flags), 1, (seq), (len));                                              \
		for (int k_ = 0; k_ < (len); k_++)                                                 \
			f[12 + k_] = pat(1, 0, (uint64_t)(off) + (uint64_t)k_);                    \
		mux_input(b, f, 12 + (size_t)(len), n->now);                                       \
	} while (0)
	DATA(1, 0, 0, 0);  /* OPEN */
	DATA(0, 3, 10, 5); /* out of order */
	assert_int_equal(malformed(b), 0);
	DATA(2, 2, 0, 0); /* FIN below packet 3 */
	assert_int_equal(malformed(b), 1);
	DATA(2, 4, 0, 0); /* the real FIN */
	DATA(2, 5, 0, 0); /* a second FIN */
	assert_int_equal(malformed(b), 2);
	DATA(0, 5, 15, 3); /* data after FIN */
	assert_int_equal(malformed(b), 3);
	DATA(0, 3, 10, 5); /* a duplicate */
	DATA(0, 1, 0, 5);
	DATA(0, 2, 5, 5);
#undef DATA
	assert_int_equal(n->side[1].ts[1].rx_count, 15);
	assert_true(n->side[1].ts[1].rx_eof);
	mux_get_stats(b, &st);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.dup_frames, 1);
	assert_int_equal(st.bytes_in, 15);
	net_free(n);
}

/* Sequence numbers wrap around 2^32 on streams opened by either side. */
static void
test_seq_wrap(void **state)
{
	struct net *n = net_new(141, 12, 12);
	uint32_t id;

	(void)state;
	n->loss_pct = 5;
	n->reorder_pct = 20;
	n->jitter = 20;
	n->side[0].cfg.first_seq = 0xfffffff0u;
	n->side[1].cfg.first_seq = 0xfffffffau;
	n->side[0].accept_tx = 150000;
	n->side[1].accept_tx = 150000;
	net_start(n);
	open_stream(&n->side[0], 150000);
	id = open_stream(&n->side[1], 150000); /* the target may open too */
	assert_int_equal(id, 2);
	assert_int_equal(net_run(n, all_closed, 3600000), 1);
	check_all_clean(n);
	report(n, "seq_wrap");
	run_to_idle(n);
	net_free(n);
}

/* max_streams: the peer's extra opens are refused with LIMIT; ours fail with
 * EMFILE. */
static void
test_stream_limit(void **state)
{
	struct net *n = net_new(151, 12, 12);
	uint32_t id;

	(void)state;
	n->side[0].cfg.max_streams = 8;
	n->side[1].cfg.max_streams = 4;
	n->side[1].accept_tx = 1000;
	net_start(n);
	for (int i = 0; i < 6; i++)
		open_stream(&n->side[0], 100000);
	open_stream(&n->side[0], 100);
	open_stream(&n->side[0], 100);
	assert_int_equal(mux_open(n->side[0].m, &id, n->now), -1);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(net_run(n, all_closed, 3600000), 1);
	{
		int refused = 0, ok = 0;
		for (uint32_t i = 1; i <= 15; i += 2) {
			struct tstream *t = &n->side[0].ts[i];
			if (t->reset) {
				assert_int_equal(t->reason, MUX_RST_LIMIT);
				refused++;
			} else {
				assert_int_equal(n->side[1].ts[i].rx_count, t->tx_total);
				ok++;
			}
		}
		assert_int_equal(refused, 4);
		assert_int_equal(ok, 4);
	}
	/* many short streams one after the other, well within MUX_LINGER_MS:
	 * lingering records never block new streams; the oldest give way */
	for (int i = 0; i < 30; i++) {
		struct mux_stats st;
		open_stream(&n->side[0], 100);
		assert_int_equal(net_run(n, all_closed, n->now + 60000), 1);
		mux_get_stats(n->side[1].m, &st);
		assert_true(st.records <= 4);
		mux_get_stats(n->side[0].m, &st);
		assert_true(st.records <= 8);
	}
	assert_true(n->now < MUX_LINGER_MS);
	run_to_idle(n);
	net_free(n);
}

/* A duplicate of an OPEN arriving after the stream closed must never create
 * a second connection: while lingering it is answered with an ACK, later with
 * a RST. */
static void
test_no_reopen(void **state)
{
	struct net *n = net_new(161, 12, 12);
	uint8_t open_body[BODY];
	size_t open_len, rst_before, ack_before;
	struct mux_stats st;

	(void)state;
	n->side[1].accept_tx = 10;
	net_start(n);
	open_stream(&n->side[0], 100);
	assert_non_null(n->q);
	open_len = n->q->len;
	memcpy(open_body, n->q->body, open_len);
	assert_int_equal(open_body[0], 1);
	assert_int_equal(open_body[1] & 1, 1);
	assert_int_equal(net_run(n, all_closed, 60000), 1);
	check_all_clean(n);

	ack_before = count_frames(n, 1, 2, 1);
	rst_before = count_frames(n, 1, 3, 1);
	mux_input(n->side[1].m, open_body, open_len, n->now); /* lingering */
	assert_int_equal(count_frames(n, 1, 2, 1), ack_before + 1);
	assert_int_equal(count_frames(n, 1, 3, 1), rst_before);
	run_to_idle(n);
	mux_input(n->side[1].m, open_body, open_len, n->now); /* forgotten */
	assert_int_equal(count_frames(n, 1, 3, 1), rst_before + 1);
	assert_int_equal(n->side[1].opened_calls, 1);
	mux_get_stats(n->side[1].m, &st);
	assert_int_equal(st.streams_accepted, 1);
	assert_int_equal(st.records, 0);
	net_free(n);
}

/* A peer that never answers: the stream is reset with TIMEOUT after
 * MUX_MAX_TIMEOUTS backed-off retransmissions. */
static void
test_timeout(void **state)
{
	struct net *n = net_new(171, 12, 12);
	struct mux_stats st;

	(void)state;
	n->drop_from[0] = 1;
	net_start(n);
	open_stream(&n->side[0], 5000);
	assert_int_equal(net_run(n, all_closed, 3600000), 1);
	assert_true(n->side[0].ts[1].reset);
	assert_int_equal(n->side[0].ts[1].reason, MUX_RST_TIMEOUT);
	mux_get_stats(n->side[0].m, &st);
	assert_int_equal(st.timeouts, MUX_MAX_TIMEOUTS + 1);
	/* 1 + 2 + 4 + 8 + 16 + 32 s, then 60 s (the cap) five times */
	assert_int_equal(n->now, 363000);
	assert_int_equal(mux_stream_count(n->side[0].m), 0);
	run_to_idle(n);
	net_free(n);
}

/* Callbacks that call back in: reset this and other streams from readable(),
 * open new streams from closed(). Run under valgrind/ASan this shows there is
 * no use after free. */
static unsigned reentry_opens;

static void
reentry_readable(struct side *s, uint32_t id)
{
	struct tstream *t = &s->ts[id];
	uint8_t c;

	drain(s, id);
	if (t->closed || t->rx_count < 3000 || id % 3 != 0)
		return;
	assert_int_equal(mux_reset(s->m, id, MUX_RST_RESET, s->net->now), 0);
	t->local_reset = t->closed = t->reset = 1;
	if (id + 2 < MAXID && s->ts[id + 2].used && !s->ts[id + 2].closed) {
		assert_int_equal(mux_reset(s->m, id + 2, MUX_RST_PROTOCOL, s->net->now), 0);
		s->ts[id + 2].local_reset = s->ts[id + 2].closed = s->ts[id + 2].reset = 1;
	}
	assert_int_equal(mux_read(s->m, id, &c, 1, s->net->now), -1);
}

static void
reentry_closed(struct side *s, uint32_t id, int reset)
{
	(void)id;
	(void)reset;
	if (reentry_opens < 40) {
		reentry_opens++;
		open_stream(s, 20000);
	}
}

static void
test_reentrant_callbacks(void **state)
{
	struct net *n = net_new(181, 12, 12);
	unsigned resets = 0, clean = 0;

	(void)state;
	reentry_opens = 0;
	n->loss_pct = 3;
	n->side[1].accept_tx = 20000;
	n->side[1].hook_readable = reentry_readable;
	n->side[0].hook_closed = reentry_closed;
	net_start(n);
	for (int i = 0; i < 20; i++)
		open_stream(&n->side[0], 20000);
	assert_int_equal(net_run(n, all_closed, 3600000), 1);
	assert_int_equal(reentry_opens, 40);
	for (uint32_t id = 1; id < MAXID; id += 2) {
		struct tstream *a = &n->side[0].ts[id], *b = &n->side[1].ts[id];
		if (!a->used)
			continue;
		assert_true(a->closed && b->closed);
		if (a->reset) {
			assert_true(b->local_reset);
			resets++;
		} else {
			/* clean on the initiator (the target may have reset it after
			 * the last ACK left) */
			assert_int_equal(b->rx_count, a->tx_total);
			assert_int_equal(a->rx_count, b->tx_total);
			clean++;
		}
	}
	report(n, "reentrant");
	assert_true(resets > 5);
	assert_true(clean > 5);
	assert_int_equal(mux_stream_count(n->side[0].m), 0);
	assert_int_equal(mux_stream_count(n->side[1].m), 0);
	run_to_idle(n);
	net_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rtt_rfc6298),
	    cmocka_unit_test(test_config_rejected),
	    cmocka_unit_test(test_open_transfer_close),
	    cmocka_unit_test(test_bulk_loss0),
	    cmocka_unit_test(test_bulk_loss5),
	    cmocka_unit_test(test_bulk_loss20),
	    cmocka_unit_test(test_bulk_reorder_dup),
	    cmocka_unit_test(test_many_streams),
	    cmocka_unit_test(test_half_close),
	    cmocka_unit_test(test_reset_refused),
	    cmocka_unit_test(test_reset_both_ways),
	    cmocka_unit_test(test_rst_retransmitted),
	    cmocka_unit_test(test_rst_unknown_stream),
	    cmocka_unit_test(test_ack_timing),
	    cmocka_unit_test(test_rto_resends_window),
	    cmocka_unit_test(test_fin_rules),
	    cmocka_unit_test(test_slow_reader),
	    cmocka_unit_test(test_window_update_lost),
	    cmocka_unit_test(test_max_depth),
	    cmocka_unit_test(test_karn_backoff),
	    cmocka_unit_test(test_fast_retransmit),
	    cmocka_unit_test(test_fast_path_loss),
	    cmocka_unit_test(test_lost_retransmit),
	    cmocka_unit_test(test_ack_repeated_on_data),
	    cmocka_unit_test(test_malformed_bodies),
	    cmocka_unit_test(test_malformed_random),
	    cmocka_unit_test(test_invalid_frames),
	    cmocka_unit_test(test_seq_wrap),
	    cmocka_unit_test(test_stream_limit),
	    cmocka_unit_test(test_no_reopen),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_reentrant_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
