/* mux: reliable, ordered, flow-controlled streams over unreliable datagrams.
 *
 * Layout of this file: wire helpers, buffer pool, RTT estimator, stream table
 * (hash), timer heap, work list, output, send side, receive side, input
 * parsing, public API. The protocol is described in docs/protocol-streams.md.
 *
 * Concurrency model: every public entry point is bracketed by enter()/leave().
 * Frame processing and timers only change state and set work flags on
 * streams; the outermost leave() runs the work list, which sends frames and
 * calls the application's callbacks (only when the outermost call is an event:
 * input, timer, flush). Streams that die are unlinked at once and freed only
 * when the outermost call returns, so a callback may reset or close any
 * stream without leaving a dangling pointer behind.
 */
#include "worker/mux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"

#define FT_DATA	 1
#define FT_ACK	 2
#define FT_RST	 3
#define FT_PROBE 4

#define DF_OPEN	  0x01
#define DF_FIN	  0x02
#define DF_ACKREQ 0x04 /* sender is blocked until this is acknowledged */
#define DF_WIRE	  (DF_OPEN | DF_FIN | DF_ACKREQ)

#define RST_LEN	      6
#define PROBE_LEN     6
#define SACK_WIRE_MAX 64 /* most ranges an ACK frame may carry */
#define SACK_SEND_MAX 16 /* most ranges we put in one ACK */
#define SEEN_BITS     4096u
#define RST_TRIES     6 /* RST transmissions before giving up on its ACK */
#define POOL_KEEP     256
#define NOIDX	      ((size_t)-1)

/* Work flags: what leave() must do for a stream. */
#define W_OPENED   0x001 /* call stream_opened() */
#define W_READABLE 0x002 /* call readable() */
#define W_WRITABLE 0x004 /* call writable() */
#define W_NOTIFY   0x008 /* call closed() */
#define W_CLOSECHK 0x010 /* both directions may be finished */
#define W_SEND	   0x020 /* data or retransmissions may be sendable */
#define W_ACK	   0x040 /* send an ACK now */
#define W_PROBE	   0x080 /* send a zero-window probe */
#define W_RST	   0x100 /* send (again) our RST */
#define W_APP	   (W_OPENED | W_READABLE | W_WRITABLE | W_NOTIFY | W_CLOSECHK)

enum sstate {
	ST_OPEN,    /* data may flow */
	ST_LINGER,  /* finished cleanly; answers retransmissions with ACKs */
	ST_RSTSENT, /* we reset it; resends the RST until acknowledged */
};

struct seg {		  /* one send-side packet's worth of stream */
	uint8_t *buf;	  /* pool chunk, NULL while len == 0 */
	uint64_t sent_ms; /* last transmission */
	uint64_t txn;	  /* transmission serial of the last transmission */
	uint16_t len;
	uint8_t flags; /* DF_OPEN, DF_FIN */
	uint8_t sacked;
	uint8_t retx; /* sent more than once: no RTT sample (Karn) */
	uint8_t lost; /* to be retransmitted */
};

struct rslot { /* one received packet's worth of stream */
	uint8_t *buf;
	uint16_t len;
	uint16_t off; /* bytes already read */
	uint8_t present;
	uint8_t flags;
};

struct stream {
	uint32_t id;
	enum sstate state;
	struct stream *hnext;	      /* hash chain */
	size_t hidx;		      /* heap position or NOIDX */
	uint64_t deadline;	      /* heap key */
	struct stream *wnext;	      /* work list / graveyard */
	struct stream *dprev, *dnext; /* delayed-ACK list */
	struct stream *lprev, *lnext; /* lingering records, oldest first */
	unsigned work, pending_cb;
	uint8_t in_work, in_dack, dead, graved, announced, blocked;
	uint8_t close_reset, close_reason, rst_reason;
	uint32_t isn;

	/* send side: [snd_una, snd_nxt) in flight, [snd_nxt, snd_end) unsent */
	struct seg *snd;
	unsigned shead; /* ring index of snd_una */
	uint32_t snd_una, snd_nxt, snd_end, peer_limit;
	uint8_t fin_queued, fin_pending, fin_acked;
	uint8_t last_ackreq; /* the newest DATA frame sent asked for an immediate ACK */
	uint64_t txn;
	uint64_t rto_at, persist_at;
	unsigned backoff, persist_backoff, timeouts;
	/* loss recovery (section 4 of the doc): the newest transmission known to
	 * have arrived, its round trip, the reordering timer and the tail probe */
	uint64_t rack_txn, rack_rtt;
	uint64_t rack_at, tlp_at;
	unsigned tlp_count; /* probes sent since the last progress */

	/* receive side: slots for [read_seq, read_seq + nslots) */
	struct rslot *rcv;
	unsigned rhead; /* ring index of read_seq */
	uint32_t read_seq, rcv_nxt, adv_limit, fin_seq;
	uint8_t fin_known, eof;
	unsigned unacked; /* in-order packets not yet acknowledged */
	uint64_t ack_at;  /* delayed ACK deadline, 0 = none */

	uint64_t linger_at, rst_at;
	unsigned rst_tries;
};

struct mux {
	struct mux_config cfg;
	struct mux_callbacks cb;
	void *ctx;
	size_t maxpay;	 /* payload bytes per DATA frame */
	unsigned nslots; /* receive buffer per stream, in packets */

	struct stream **tab; /* hash of every live record */
	unsigned tabbits;
	size_t nrec, nopen;

	struct stream **heap; /* min-heap on deadline */
	size_t nheap, heapcap;

	struct stream *whead, *wtail; /* work list */
	struct stream *dack;	      /* streams holding back an ACK */
	struct stream *lhead, *ltail; /* lingering records, oldest first */
	size_t nlinger;
	struct stream *graveyard;

	uint8_t *obuf;
	size_t olen;
	void *pool;
	size_t npool;

	uint32_t next_id;
	int ids_exhausted;
	uint32_t seen_floor; /* peer stream index below which every id was used */
	uint64_t seen[SEEN_BITS / 64];

	int depth, event;
	uint64_t now;
	uint32_t last_rst_id;
	uint64_t last_rst_body, body_serial;
	int warned_big;

	struct mux_rtt rtt;
	uint64_t min_rtt; /* smallest RTT sample (ms), UINT64_MAX before one */
	struct mux_stats st;
};

/* ---- wire helpers and sequence arithmetic ---- */

/* Serial-number comparison (RFC 1982): a before b. */
static int
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint64_t
min_nz(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* ---- buffer pool: fixed chunks of maxpay bytes ---- */

static uint8_t *
chunk_get(struct mux *m)
{
	void *c = m->pool;

	if (c != NULL) {
		memcpy(&m->pool, c, sizeof(void *));
		m->npool--;
		return c;
	}
	return malloc(m->maxpay);
}

static void
chunk_put(struct mux *m, uint8_t *c)
{
	if (c == NULL)
		return;
	if (m->npool >= POOL_KEEP) {
		free(c);
		return;
	}
	memcpy(c, &m->pool, sizeof(void *));
	m->pool = c;
	m->npool++;
}

/* ---- RFC 6298 estimator ---- */

void
mux_rtt_init(struct mux_rtt *r)
{
	memset(r, 0, sizeof(*r));
}

void
mux_rtt_sample(struct mux_rtt *r, uint64_t rtt_ms)
{
	uint64_t rtt = rtt_ms * 1000, diff;

	if (rtt_ms > MUX_RTO_MAX_MS * 10ULL)
		rtt = MUX_RTO_MAX_MS * 10000ULL; /* keep the arithmetic far from overflow */
	if (r->samples++ == 0) {
		r->srtt_us = rtt; /* (2.2) */
		r->rttvar_us = rtt / 2;
		return;
	}
	diff = r->srtt_us > rtt ? r->srtt_us - rtt : rtt - r->srtt_us;
	r->rttvar_us = (3 * r->rttvar_us + diff) / 4; /* (2.3), beta = 1/4 */
	r->srtt_us = (7 * r->srtt_us + rtt) / 8;      /* alpha = 1/8 */
}

uint64_t
mux_rtt_rto_ms(const struct mux_rtt *r)
{
	uint64_t var, rto;

	if (r->samples == 0)
		return MUX_RTO_INIT_MS;
	var = 4 * r->rttvar_us;
	if (var < 1000)
		var = 1000; /* G = 1 ms */
	rto = (r->srtt_us + var + 999) / 1000;
	if (rto < MUX_RTO_MIN_MS)
		rto = MUX_RTO_MIN_MS;
	if (rto > MUX_RTO_MAX_MS)
		rto = MUX_RTO_MAX_MS;
	return rto;
}

/* The stream's RTO: the shared estimate with this stream's backoff. */
static uint64_t
stream_rto(const struct mux *m, const struct stream *s)
{
	uint64_t rto = mux_rtt_rto_ms(&m->rtt);
	unsigned b = s->backoff;

	while (b-- > 0 && rto < MUX_RTO_MAX_MS)
		rto *= 2;
	return rto > MUX_RTO_MAX_MS ? MUX_RTO_MAX_MS : rto;
}

/* Twice the smoothed RTT in ms, at least MUX_TLP_MIN_MS: the first wait of
 * a tail loss probe and of a zero-window probe (needs an RTT sample). */
static uint64_t
probe_base(const struct mux *m)
{
	uint64_t t = (2 * m->rtt.srtt_us + 999) / 1000;

	return t < MUX_TLP_MIN_MS ? MUX_TLP_MIN_MS : t;
}

/* The zero-window probe interval. The window usually shuts only until the
 * receiver's next write to its TCP socket, and the ACK that reopens it can be
 * lost like any packet: so the first probe goes out after twice the smoothed
 * RTT (at least MUX_TLP_MIN_MS), as a tail probe would, not after an RTO
 * (200 ms at least, hundreds of round trips on a fast path). It doubles with
 * every probe that brings no progress, so a reader that really stopped is
 * probed ever less often, up to MUX_PERSIST_MAX_MS. The RTO before the first
 * RTT sample. */
static uint64_t
persist_interval(const struct mux *m, const struct stream *s)
{
	uint64_t t = mux_rtt_rto_ms(&m->rtt);
	unsigned b = s->persist_backoff;

	if (m->rtt.samples > 0)
		t = probe_base(m);

	while (b-- > 0 && t < MUX_PERSIST_MAX_MS)
		t *= 2;
	return t > MUX_PERSIST_MAX_MS ? MUX_PERSIST_MAX_MS : t;
}

/* RACK reordering window (ms): how long after a later packet arrived a
 * missing one still counts as merely reordered. A quarter of the smoothed RTT,
 * at least MUX_REO_MIN_MS (the clock's resolution). */
static uint64_t
reo_window(const struct mux *m)
{
	uint64_t w = (m->rtt.srtt_us / 4 + 999) / 1000;

	return w < MUX_REO_MIN_MS ? MUX_REO_MIN_MS : w;
}

/* Tail loss probe timeout (ms): twice the smoothed RTT, at least
 * MUX_TLP_MIN_MS, plus the receiver's ACK delay when our newest packet did not
 * ask for an immediate ACK; doubled for every probe already sent without
 * progress. 0 before the first RTT sample (the RTO covers that case). */
static uint64_t
tlp_interval(const struct mux *m, const struct stream *s)
{
	uint64_t t;

	if (m->rtt.samples == 0)
		return 0;
	t = probe_base(m);
	if (!s->last_ackreq)
		t += MUX_ACK_DELAY_MS;
	for (unsigned b = s->tlp_count; b > 0 && t < MUX_RTO_MAX_MS; b--)
		t *= 2;
	return t > MUX_RTO_MAX_MS ? MUX_RTO_MAX_MS : t;
}

/* ---- peer stream ids already used ---- */

static int
is_peer_id(const struct mux *m, uint32_t id)
{
	return (id & 1) == (m->cfg.is_initiator ? 0u : 1u);
}

static int
seen_bit(const struct mux *m, uint32_t idx)
{
	uint32_t b = idx % SEEN_BITS;

	return (int)((m->seen[b / 64] >> (b % 64)) & 1);
}

static void
seen_set(struct mux *m, uint32_t idx, int on)
{
	uint32_t b = idx % SEEN_BITS;
	uint64_t bit = (uint64_t)1 << (b % 64);

	if (on)
		m->seen[b / 64] |= bit;
	else
		m->seen[b / 64] &= ~bit;
}

/* Has the peer ever used this id of its own parity? */
static int
seen_test(const struct mux *m, uint32_t id)
{
	uint32_t idx = id >> 1;

	if (idx < m->seen_floor)
		return 1;
	if (idx - m->seen_floor >= SEEN_BITS)
		return 0;
	return seen_bit(m, idx);
}

/* Record that the peer used id. An id more than SEEN_BITS beyond the oldest
 * unused one slides the window when slide is set: the ids passed over count
 * as used (an OPEN delayed that long is refused). */
static void
seen_mark(struct mux *m, uint32_t id, int slide)
{
	uint32_t idx = id >> 1, nf;

	if (idx < m->seen_floor)
		return;
	if (idx - m->seen_floor >= SEEN_BITS) {
		if (!slide)
			return;
		nf = idx - SEEN_BITS + 1;
		if (nf - m->seen_floor >= SEEN_BITS)
			memset(m->seen, 0, sizeof(m->seen));
		else
			for (uint32_t i = m->seen_floor; i != nf; i++)
				seen_set(m, i, 0);
		m->seen_floor = nf;
	}
	seen_set(m, idx, 1);
	while (seen_bit(m, m->seen_floor)) {
		seen_set(m, m->seen_floor, 0);
		m->seen_floor++;
	}
}

/* ---- stream table ---- */

static size_t
hash_slot(const struct mux *m, uint32_t id)
{
	return (size_t)((id * 2654435761u) >> (32 - m->tabbits));
}

static struct stream *
lookup(const struct mux *m, uint32_t id)
{
	struct stream *s;

	for (s = m->tab[hash_slot(m, id)]; s != NULL; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

/* An open stream the application may use, or NULL with errno ENOENT. */
static struct stream *
lookup_open(const struct mux *m, uint32_t id)
{
	struct stream *s = lookup(m, id);

	if (s == NULL || s->state != ST_OPEN) {
		errno = ENOENT;
		return NULL;
	}
	return s;
}

static int
hash_grow(struct mux *m)
{
	unsigned bits = m->tabbits + 1;
	struct stream **nt, **old = m->tab, *s, *next;
	size_t oldsize = (size_t)1 << m->tabbits;

	if (bits > 24)
		return 0; /* long chains rather than a huge table */
	nt = calloc((size_t)1 << bits, sizeof(*nt));
	if (nt == NULL)
		return -1;
	m->tab = nt;
	m->tabbits = bits;
	for (size_t i = 0; i < oldsize; i++)
		for (s = old[i]; s != NULL; s = next) {
			size_t h = hash_slot(m, s->id);
			next = s->hnext;
			s->hnext = nt[h];
			nt[h] = s;
		}
	free(old);
	return 0;
}

static void
hash_remove(struct mux *m, struct stream *s)
{
	struct stream **pp;

	for (pp = &m->tab[hash_slot(m, s->id)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			return;
		}
}

/* ---- timer heap (one entry per stream with a deadline) ---- */

static void
heap_place(struct mux *m, size_t i, struct stream *s)
{
	m->heap[i] = s;
	s->hidx = i;
}

static void
heap_up(struct mux *m, size_t i)
{
	struct stream *s = m->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (m->heap[p]->deadline <= s->deadline)
			break;
		heap_place(m, i, m->heap[p]);
		i = p;
	}
	heap_place(m, i, s);
}

static void
heap_down(struct mux *m, size_t i)
{
	struct stream *s = m->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m->nheap)
			break;
		if (c + 1 < m->nheap && m->heap[c + 1]->deadline < m->heap[c]->deadline)
			c++;
		if (s->deadline <= m->heap[c]->deadline)
			break;
		heap_place(m, i, m->heap[c]);
		i = c;
	}
	heap_place(m, i, s);
}

static void
heap_remove(struct mux *m, struct stream *s)
{
	size_t i = s->hidx;
	struct stream *last;

	if (i == NOIDX)
		return;
	s->hidx = NOIDX;
	last = m->heap[--m->nheap];
	if (last == s)
		return;
	heap_place(m, i, last);
	heap_up(m, i);
	heap_down(m, last->hidx);
}

/* Set s's deadline; UINT64_MAX takes it out of the heap. The heap always has
 * room for every record (reserved in stream_new). */
static void
heap_set(struct mux *m, struct stream *s, uint64_t d)
{
	uint64_t old = s->deadline;

	if (d == UINT64_MAX) {
		heap_remove(m, s);
		s->deadline = d;
		return;
	}
	s->deadline = d;
	if (s->hidx == NOIDX) {
		heap_place(m, m->nheap++, s);
		heap_up(m, s->hidx);
	} else if (d < old) {
		heap_up(m, s->hidx);
	} else {
		heap_down(m, s->hidx);
	}
}

/* ---- work list and delayed-ACK list ---- */

static void
work_add(struct mux *m, struct stream *s, unsigned w)
{
	if (s->graved)
		return;
	s->work |= w;
	if (s->in_work)
		return;
	s->in_work = 1;
	s->wnext = NULL;
	if (m->wtail != NULL)
		m->wtail->wnext = s;
	else
		m->whead = s;
	m->wtail = s;
}

static struct stream *
work_pop(struct mux *m)
{
	struct stream *s = m->whead;

	if (s == NULL)
		return NULL;
	m->whead = s->wnext;
	if (m->whead == NULL)
		m->wtail = NULL;
	s->wnext = NULL;
	s->in_work = 0;
	return s;
}

static void
dack_add(struct mux *m, struct stream *s)
{
	if (s->in_dack)
		return;
	s->in_dack = 1;
	s->dprev = NULL;
	s->dnext = m->dack;
	if (m->dack != NULL)
		m->dack->dprev = s;
	m->dack = s;
}

static void
dack_remove(struct mux *m, struct stream *s)
{
	if (!s->in_dack)
		return;
	if (s->dprev != NULL)
		s->dprev->dnext = s->dnext;
	else
		m->dack = s->dnext;
	if (s->dnext != NULL)
		s->dnext->dprev = s->dprev;
	s->dprev = s->dnext = NULL;
	s->in_dack = 0;
}

static void
linger_unlink(struct mux *m, struct stream *s)
{
	if (s->state != ST_LINGER)
		return;
	if (s->lprev != NULL)
		s->lprev->lnext = s->lnext;
	else
		m->lhead = s->lnext;
	if (s->lnext != NULL)
		s->lnext->lprev = s->lprev;
	else
		m->ltail = s->lprev;
	s->lprev = s->lnext = NULL;
	m->nlinger--;
}

/* ---- output ---- */

static void
out_flush(struct mux *m)
{
	if (m->olen == 0)
		return;
	m->st.packets_out++;
	m->st.wire_bytes_out += m->olen;
	m->cb.send(m->ctx, m->obuf, m->olen);
	m->olen = 0;
}

/* Room for an n-byte frame in the packet being built (n <= max_body). */
static uint8_t *
out_reserve(struct mux *m, size_t n)
{
	uint8_t *p;

	if (m->olen + n > m->cfg.max_body)
		out_flush(m);
	p = m->obuf + m->olen;
	m->olen += n;
	return p;
}

static void
emit_small(struct mux *m, uint8_t type, uint8_t arg, uint32_t id)
{
	uint8_t *p = out_reserve(m, RST_LEN);

	p[0] = type;
	p[1] = arg;
	be32_put(p + 2, id);
}

static void
emit_rst(struct mux *m, uint32_t id, uint8_t reason)
{
	emit_small(m, FT_RST, reason, id);
	m->st.rst_sent++;
}

static struct seg *
sseg(const struct stream *s, uint32_t seq, unsigned depth)
{
	return &s->snd[(s->shead + (seq - s->snd_una)) % depth];
}

static struct rslot *
rslot(const struct mux *m, const struct stream *s, uint32_t seq)
{
	return &s->rcv[(s->rhead + (seq - s->read_seq)) % m->nslots];
}

/* Send an ACK for s: cumulative point, window edge and SACK ranges. */
static void
send_ack(struct mux *m, struct stream *s)
{
	uint16_t r[SACK_SEND_MAX][2];
	unsigned n = 0, maxr = SACK_SEND_MAX;
	uint32_t limit, q;
	uint8_t *p;

	if (s->state == ST_OPEN) {
		limit = s->read_seq + m->nslots;
		for (q = s->rcv_nxt + 1; seq_lt(q, limit) && n < maxr;) {
			uint32_t start;
			if (!rslot(m, s, q)->present) {
				q++;
				continue;
			}
			for (start = q; seq_lt(q, limit) && rslot(m, s, q)->present; q++)
				;
			r[n][0] = (uint16_t)(start - s->rcv_nxt);
			r[n][1] = (uint16_t)(q - start);
			n++;
		}
	} else {
		limit = s->rcv_nxt + m->nslots;
	}
	p = out_reserve(m, MUX_ACK_HDR + 4 * (size_t)n);
	p[0] = FT_ACK;
	p[1] = (uint8_t)n;
	be32_put(p + 2, s->id);
	be32_put(p + 6, s->rcv_nxt);
	be32_put(p + 10, limit);
	for (unsigned i = 0; i < n; i++) {
		be16_put(p + 14 + 4 * i, r[i][0]);
		be16_put(p + 16 + 4 * i, r[i][1]);
	}
	s->adv_limit = limit;
	s->ack_at = 0;
	s->unacked = 0;
	dack_remove(m, s);
}

static void
send_seg(struct mux *m, struct stream *s, uint32_t seq, struct seg *g, int ackreq)
{
	uint8_t *p = out_reserve(m, MUX_DATA_HDR + (size_t)g->len);

	p[0] = FT_DATA;
	p[1] = (uint8_t)(g->flags | (ackreq ? DF_ACKREQ : 0));
	be32_put(p + 2, s->id);
	be32_put(p + 6, seq);
	be16_put(p + 10, g->len);
	if (g->len > 0)
		memcpy(p + MUX_DATA_HDR, g->buf, g->len);
	g->sent_ms = m->now;
	g->txn = ++s->txn;
	s->last_ackreq = ackreq != 0;
}

/* ---- send side ---- */

static void
snd_release(struct mux *m, struct stream *s)
{
	unsigned depth = m->cfg.max_depth;

	if (s->snd == NULL)
		return;
	for (uint32_t q = s->snd_una; q != s->snd_end; q++) {
		struct seg *g = sseg(s, q, depth);
		m->st.snd_buffered -= g->len;
		chunk_put(m, g->buf);
	}
	free(s->snd);
	s->snd = NULL;
	s->snd_end = s->snd_nxt = s->snd_una;
}

static void
rcv_release(struct mux *m, struct stream *s)
{
	if (s->rcv == NULL)
		return;
	for (unsigned i = 0; i < m->nslots; i++) {
		struct rslot *r = &s->rcv[i];
		if (r->present)
			m->st.rcv_buffered -= (size_t)(r->len - r->off);
		chunk_put(m, r->buf);
	}
	free(s->rcv);
	s->rcv = NULL;
}

/* Append an empty segment with flags to the send ring (caller checked room). */
static struct seg *
snd_append(struct mux *m, struct stream *s, uint8_t flags)
{
	struct seg *g = sseg(s, s->snd_end, m->cfg.max_depth);

	memset(g, 0, sizeof(*g));
	g->flags = flags;
	s->snd_end++;
	return g;
}

static unsigned
snd_free_slots(const struct mux *m, const struct stream *s)
{
	return m->cfg.max_depth - (unsigned)(s->snd_end - s->snd_una);
}

/* The unsent last segment that more data may join, or NULL. */
static struct seg *
snd_tail(const struct mux *m, const struct stream *s)
{
	struct seg *g;

	if (s->snd_end == s->snd_nxt)
		return NULL;
	g = sseg(s, s->snd_end - 1, m->cfg.max_depth);
	if ((g->flags & DF_FIN) || g->len >= m->maxpay)
		return NULL;
	return g;
}

static void
snd_queue_fin(struct mux *m, struct stream *s)
{
	struct seg *g;

	if (s->snd_end != s->snd_nxt) {
		g = sseg(s, s->snd_end - 1, m->cfg.max_depth);
		g->flags |= DF_FIN;
	} else if (snd_free_slots(m, s) > 0) {
		snd_append(m, s, DF_FIN);
	} else {
		s->fin_pending = 1;
		return;
	}
	s->fin_pending = 0;
	s->fin_queued = 1;
}

/* Put an ACK of the other direction in front of a DATA frame: always when one
 * is held back, and otherwise whenever the stream has received something and
 * has no holes (the ACK is then 14 bytes, and max_body - 26 leaves room for
 * it). An ACK can be lost like any packet; repeating it on every DATA frame,
 * as cheap as that is, keeps a peer whose last packets were acknowledged by a
 * lost ACK from waiting for its retransmission timer. */
static void
piggyback_ack(struct mux *m, struct stream *s)
{
	if (s->ack_at == 0) {
		if (s->rcv_nxt == s->isn)
			return; /* nothing received yet */
		for (uint32_t q = s->rcv_nxt + 1; seq_lt(q, s->read_seq + m->nslots); q++)
			if (rslot(m, s, q)->present)
				return; /* holes: the ACK goes out on its own anyway */
	}
	send_ack(m, s);
}

/* (Re)start the tail loss probe timer: a probe goes out if nothing is heard
 * of the packets in flight for tlp_interval(). */
static void
tlp_arm(struct mux *m, struct stream *s)
{
	uint64_t t = tlp_interval(m, s);

	s->tlp_at = t != 0 ? m->now + t : 0;
}

/* Send lost segments again, then new ones the windows allow; keep the
 * retransmission and persist timers in step. */
static void
stream_transmit(struct mux *m, struct stream *s)
{
	unsigned depth = m->cfg.max_depth;
	uint32_t q;
	int sent = 0;

	if (s->state != ST_OPEN)
		return;
	for (q = s->snd_una; q != s->snd_nxt; q++) {
		struct seg *g = sseg(s, q, depth);
		if (!g->lost || g->sacked)
			continue;
		piggyback_ack(m, s);
		send_seg(m, s, q, g, 1);
		g->lost = 0;
		g->retx = 1;
		m->st.retransmits++;
		sent = 1;
	}
	while (s->snd_nxt != s->snd_end && seq_lt(s->snd_nxt, s->peer_limit)) {
		struct seg *g = sseg(s, s->snd_nxt, depth);
		/* ask for an immediate ACK when nothing more can go out after this
		 * packet until one arrives: the send ring is full or the window shut */
		int blocked =
		    s->snd_nxt + 1 - s->snd_una == depth || s->snd_nxt + 1 == s->peer_limit;
		piggyback_ack(m, s);
		send_seg(m, s, s->snd_nxt, g, blocked);
		m->st.bytes_out += g->len;
		s->snd_nxt++;
		sent = 1;
	}
	if (s->snd_una != s->snd_nxt) {
		if (s->rto_at == 0)
			s->rto_at = m->now + stream_rto(m, s); /* RFC 6298 (5.1) */
		if (sent || s->tlp_at == 0)
			tlp_arm(m, s);
		s->persist_at = 0;
		s->persist_backoff = 0;
	} else {
		s->rto_at = 0; /* (5.2) */
		s->tlp_at = s->rack_at = 0;
		s->tlp_count = 0;
		if (s->snd_nxt != s->snd_end) {
			if (s->persist_at == 0)
				s->persist_at = m->now + persist_interval(m, s);
		} else {
			s->persist_at = 0;
			s->persist_backoff = 0;
		}
	}
}

/* Segment g (just cumulatively acknowledged or SACKed) has arrived: if it was
 * transmitted after every other one known to have arrived, it becomes the
 * reference for time-based loss detection. A retransmitted segment
 * acknowledged faster than any round trip seen was probably acknowledged for
 * an earlier copy, and is skipped (RFC 8985 6.2 step 2). */
static void
rack_delivered(struct mux *m, struct stream *s, const struct seg *g)
{
	uint64_t rtt = m->now > g->sent_ms ? m->now - g->sent_ms : 0;

	if (g->txn <= s->rack_txn)
		return;
	if (g->retx && rtt < m->min_rtt)
		return;
	s->rack_txn = g->txn;
	s->rack_rtt = rtt;
}

/* The stream can send nothing new until an ACK comes: no data queued, the
 * send ring full, or the peer's window shut. */
static int
send_blocked(const struct mux *m, const struct stream *s)
{
	return s->snd_nxt == s->snd_end || s->snd_nxt - s->snd_una >= m->cfg.max_depth ||
	       !seq_lt(s->snd_nxt, s->peer_limit);
}

/* Early retransmit (after RFC 5827) for the tail of a flight: when the stream
 * can send nothing new and every segment transmitted after the newest one
 * still missing has arrived, no further SACK can come to prove it lost, so it
 * is marked lost now instead of after the reordering window (whose 1 ms floor
 * is many round trips on a fast path). Repeated for up to ER_ROUNDS segments
 * missing at the tail; returns how many were marked. */
#define ER_ROUNDS 3
static int
early_retransmit(struct mux *m, struct stream *s, uint64_t t1)
{
	unsigned depth = m->cfg.max_depth;
	int marked = 0;

	if (!send_blocked(m, s))
		return 0;
	for (int round = 0; round < ER_ROUNDS; round++) {
		struct seg *newest = NULL;
		for (uint32_t q = s->snd_una; q != s->snd_nxt; q++) {
			struct seg *g = sseg(s, q, depth);
			if (!g->sacked && !g->lost && (newest == NULL || g->txn > newest->txn))
				newest = g;
		}
		if (newest == NULL || newest->txn >= t1)
			break; /* nothing missing, or nothing arrived after it */
		newest->lost = 1;
		m->st.fast_retransmits++;
		marked++;
	}
	return marked;
}

/* Loss detection from SACKs, for first transmissions and retransmissions
 * alike (order is by transmission, not by seq). A segment is lost when
 *  - three segments transmitted after it have been SACKed (RFC 6675's
 *    DupThresh = 3, counted on transmissions), or
 *  - a segment transmitted after it has arrived and the reordering window has
 *    passed since it would have arrived too (RACK, RFC 8985): it was sent at
 *    sent_ms, so its ACK was due by sent_ms + rack_rtt, or
 *  - the stream can send nothing new and everything transmitted after it has
 *    arrived (early_retransmit).
 * Segments that may still be reordered set the RACK timer to re-check. */
static void
detect_loss(struct mux *m, struct stream *s)
{
	unsigned depth = m->cfg.max_depth;
	uint64_t t1 = 0, t2 = 0, t3 = 0, reo = reo_window(m), next = 0;
	uint32_t q;
	int any = 0;

	for (q = s->snd_una; q != s->snd_nxt; q++) {
		uint64_t t = sseg(s, q, depth)->txn;
		if (!sseg(s, q, depth)->sacked)
			continue;
		if (t > t1) {
			t3 = t2;
			t2 = t1;
			t1 = t;
		} else if (t > t2) {
			t3 = t2;
			t2 = t;
		} else if (t > t3) {
			t3 = t;
		}
	}
	for (q = s->snd_una; q != s->snd_nxt; q++) {
		struct seg *g = sseg(s, q, depth);
		uint64_t due = g->sent_ms + s->rack_rtt + reo;
		if (g->sacked || g->lost)
			continue;
		if (g->txn < t3 || (g->txn < s->rack_txn && due <= m->now)) {
			g->lost = 1;
			m->st.fast_retransmits++;
			any = 1;
		} else if (g->txn < s->rack_txn) {
			next = min_nz(next, due);
		}
	}
	if (t1 != 0 && early_retransmit(m, s, t1) > 0)
		any = 1;
	s->rack_at = next;
	work_add(m, s, any ? W_SEND : 0); /* sends, and rearms the timer */
}

/* The tail loss probe timer fired: nothing was heard of the packets in flight
 * for a while. The tail of the flight, or its ACKs, may be lost, and with
 * them everything that would trigger SACK loss detection. Send the first
 * segment not SACKed again (it holds the window), asking for an immediate
 * ACK; the answer either moves things on or shows, by SACK, what is missing. */
static void
tlp_fire(struct mux *m, struct stream *s)
{
	unsigned depth = m->cfg.max_depth;

	s->tlp_at = 0;
	for (uint32_t q = s->snd_una; q != s->snd_nxt; q++) {
		struct seg *g = sseg(s, q, depth);
		if (g->sacked)
			continue;
		g->lost = 1;
		m->st.tail_probes++;
		s->tlp_count++;
		work_add(m, s, W_SEND);
		return;
	}
}

/* Drop the segments below cum from the send ring. Returns the send time of
 * the newest one never retransmitted (for an RTT sample), 0 if none. */
static uint64_t
snd_advance(struct mux *m, struct stream *s, uint32_t cum)
{
	unsigned depth = m->cfg.max_depth;
	uint64_t sample = 0;

	while (s->snd_una != cum) {
		struct seg *g = sseg(s, s->snd_una, depth);
		if (!g->retx && !g->sacked && g->sent_ms + 1 > sample)
			sample = g->sent_ms + 1;
		if (!g->sacked)
			rack_delivered(m, s, g);
		if (g->flags & DF_FIN)
			s->fin_acked = 1;
		m->st.snd_buffered -= g->len;
		chunk_put(m, g->buf);
		memset(g, 0, sizeof(*g));
		s->snd_una++;
		s->shead = (s->shead + 1) % depth;
	}
	return sample;
}

static void
on_ack(struct mux *m, struct stream *s, uint32_t cum, uint32_t limit, unsigned n, const uint8_t *r)
{
	unsigned depth = m->cfg.max_depth;
	uint64_t sample = 0, t;
	uint32_t q;
	int progress = 0;

	if (seq_lt(s->snd_nxt, cum)) {
		m->st.malformed++;
		log_debug("stream %u: ACK %u beyond the %u packets sent, dropped", s->id, cum,
			  s->snd_nxt);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t end = cum + be16_get(r + 4 * i) + be16_get(r + 4 * i + 2);
		if (seq_lt(s->snd_nxt, end)) {
			m->st.malformed++;
			log_debug("stream %u: SACK up to %u beyond the %u packets sent, dropped",
				  s->id, end, s->snd_nxt);
			return;
		}
	}
	if (seq_lt(s->peer_limit, limit)) {
		s->peer_limit = limit;
		work_add(m, s, W_SEND);
	}
	if (seq_lt(s->snd_una, cum)) {
		sample = snd_advance(m, s, cum);
		progress = 1;
		s->timeouts = 0;
		s->rto_at = s->snd_una != s->snd_nxt ? m->now + stream_rto(m, s) : 0; /* (5.3) */
		if (s->fin_pending && snd_free_slots(m, s) > 0)
			snd_queue_fin(m, s);
		if (s->blocked && !s->fin_queued && !s->fin_pending) {
			s->blocked = 0;
			work_add(m, s, W_WRITABLE);
		}
		work_add(m, s, W_SEND | (s->fin_acked ? W_CLOSECHK : 0));
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t start = cum + be16_get(r + 4 * i);
		uint32_t end = start + be16_get(r + 4 * i + 2);
		if (seq_lt(start, s->snd_una))
			start = s->snd_una;
		for (q = start; seq_lt(q, end); q++) {
			struct seg *g = sseg(s, q, depth);
			if (g->sacked)
				continue;
			g->sacked = 1;
			g->lost = 0;
			progress = 1;
			if (!g->retx && g->sent_ms + 1 > sample)
				sample = g->sent_ms + 1;
			rack_delivered(m, s, g);
		}
	}
	if (sample != 0) {
		t = sample - 1;
		t = m->now > t ? m->now - t : 0;
		mux_rtt_sample(&m->rtt, t);
		if (t < m->min_rtt)
			m->min_rtt = t;
		m->st.rtt_samples++;
		s->backoff = 0; /* Karn: a fresh sample ends the backoff */
	}
	if (progress) {
		s->tlp_count = 0;
		if (s->snd_una != s->snd_nxt)
			tlp_arm(m, s);
	}
	detect_loss(m, s);
}

/* ---- receive side ---- */

/* Step read_seq over fully read slots; past the FIN sets eof. Returns 1 if
 * anything was freed. */
static int
rcv_advance(struct mux *m, struct stream *s)
{
	int freed = 0;

	while (s->read_seq != s->rcv_nxt) {
		struct rslot *r = rslot(m, s, s->read_seq);
		if (r->off < r->len)
			break;
		if (r->flags & DF_FIN)
			s->eof = 1;
		chunk_put(m, r->buf);
		memset(r, 0, sizeof(*r));
		s->read_seq++;
		s->rhead = (s->rhead + 1) % m->nslots;
		freed = 1;
	}
	return freed;
}

static int
rcv_has_data(struct mux *m, struct stream *s)
{
	return s->read_seq != s->rcv_nxt && rslot(m, s, s->read_seq)->len > 0;
}

static void
ack_later(struct mux *m, struct stream *s)
{
	if (s->ack_at == 0) {
		s->ack_at = m->now + MUX_ACK_DELAY_MS;
		dack_add(m, s);
	}
	work_add(m, s, 0); /* rearm the timer */
}

static void
on_data(struct mux *m, struct stream *s, uint8_t flags, uint32_t seq, const uint8_t *p,
	uint16_t len)
{
	uint32_t limit = s->read_seq + m->nslots, q, was;
	struct rslot *r;
	const char *bad = NULL;
	uint8_t ackreq = flags & DF_ACKREQ;

	flags &= (uint8_t)~DF_ACKREQ;
	if (seq_lt(seq, s->rcv_nxt)) {
		m->st.dup_frames++;
		work_add(m, s, W_ACK);
		return;
	}
	if ((flags & DF_OPEN) && seq != s->isn)
		bad = "OPEN on a later packet";
	else if (!seq_lt(seq, limit))
		bad = "packet beyond the receive window";
	else if (s->fin_known && seq_lt(s->fin_seq, seq))
		bad = "packet after FIN";
	else if ((flags & DF_FIN) && s->fin_known && seq != s->fin_seq)
		bad = "second FIN";
	if (bad == NULL && (flags & DF_FIN))
		for (q = seq + 1; seq_lt(q, limit); q++)
			if (rslot(m, s, q)->present)
				bad = "FIN before data already received";
	if (bad != NULL) {
		m->st.malformed++;
		log_debug("stream %u packet %u: %s, dropped", s->id, seq, bad);
		return;
	}
	r = rslot(m, s, seq);
	if (r->present) {
		m->st.dup_frames++;
		work_add(m, s, W_ACK);
		return;
	}
	if (len > 0 && (r->buf = chunk_get(m)) == NULL)
		return; /* no memory: the peer sends it again */
	if (len > 0)
		memcpy(r->buf, p, len);
	r->present = 1;
	r->len = len;
	r->off = 0;
	r->flags = flags;
	m->st.rcv_buffered += len;
	m->st.bytes_in += len;
	if (flags & DF_FIN) {
		s->fin_known = 1;
		s->fin_seq = seq;
	}
	if (seq != s->rcv_nxt) {
		work_add(m, s, W_ACK); /* out of order: tell the sender at once */
		return;
	}
	was = s->rcv_nxt;
	while (seq_lt(s->rcv_nxt, limit) && rslot(m, s, s->rcv_nxt)->present)
		s->rcv_nxt++;
	s->unacked++;
	if (s->rcv_nxt - was > 1 || s->unacked >= 2 || flags != 0 || ackreq)
		work_add(m, s, W_ACK); /* filled a hole, 2nd packet, OPEN, FIN, ACKREQ */
	else
		ack_later(m, s);
	rcv_advance(m, s);
	if (rcv_has_data(m, s) || s->eof)
		work_add(m, s, W_READABLE | (s->eof ? W_CLOSECHK : 0));
}

/* ---- stream life cycle ---- */

static struct stream *
stream_new(struct mux *m, uint32_t id, uint32_t isn)
{
	struct stream *s;
	size_t h;

	if (m->nrec + 1 > ((size_t)1 << m->tabbits) && hash_grow(m) == -1)
		return NULL;
	if (m->nrec + 1 > m->heapcap) {
		size_t cap = m->heapcap * 2;
		struct stream **nh = realloc(m->heap, cap * sizeof(*nh));
		if (nh == NULL)
			return NULL;
		m->heap = nh;
		m->heapcap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->snd = calloc(m->cfg.max_depth, sizeof(*s->snd));
	s->rcv = calloc(m->nslots, sizeof(*s->rcv));
	if (s->snd == NULL || s->rcv == NULL) {
		free(s->snd);
		free(s->rcv);
		free(s);
		return NULL;
	}
	s->id = id;
	s->state = ST_OPEN;
	s->hidx = NOIDX;
	s->deadline = UINT64_MAX;
	s->isn = isn;
	s->snd_una = s->snd_nxt = s->snd_end = isn;
	s->peer_limit = isn + MUX_INIT_WINDOW;
	s->read_seq = s->rcv_nxt = isn;
	s->adv_limit = isn + MUX_INIT_WINDOW;
	h = hash_slot(m, id);
	s->hnext = m->tab[h];
	m->tab[h] = s;
	m->nrec++;
	m->nopen++;
	return s;
}

/* Unlink s for good; it is freed when the outermost call returns. notify:
 * report closed(reset 1, reason) to the application. */
static void
stream_destroy(struct mux *m, struct stream *s, int notify, uint8_t reason)
{
	if (s->state == ST_OPEN) {
		m->nopen--;
		m->st.streams_reset++;
	}
	snd_release(m, s);
	rcv_release(m, s);
	hash_remove(m, s);
	heap_remove(m, s);
	dack_remove(m, s);
	linger_unlink(m, s);
	m->nrec--;
	s->dead = 1;
	s->pending_cb = 0;
	s->work &= ~(unsigned)W_APP;
	if (notify) {
		s->close_reset = 1;
		s->close_reason = reason;
	}
	work_add(m, s, notify ? W_NOTIFY : 0);
}

/* Abort an open stream: free its buffers and send RST until acknowledged.
 * notify: report closed(reset 1, reason) to the application. */
static void
stream_abort(struct mux *m, struct stream *s, uint8_t reason, int notify)
{
	snd_release(m, s);
	rcv_release(m, s);
	dack_remove(m, s);
	s->state = ST_RSTSENT;
	s->rst_reason = reason;
	s->rst_tries = 0;
	s->backoff = 0;
	s->rst_at = m->now + stream_rto(m, s);
	s->ack_at = s->rto_at = s->persist_at = s->rack_at = s->tlp_at = 0;
	s->pending_cb = 0;
	s->work &= ~(unsigned)W_APP;
	m->nopen--;
	m->st.streams_reset++;
	if (notify) {
		s->close_reset = 1;
		s->close_reason = reason;
	}
	work_add(m, s, W_RST | (notify ? W_NOTIFY : 0));
}

/* Both directions finished: keep a small record that answers the peer's
 * retransmissions for MUX_LINGER_MS (the oldest goes early when more than
 * max_streams linger), and tell the application. */
static void
stream_linger(struct mux *m, struct stream *s)
{
	if (s->ack_at != 0)
		send_ack(m, s);
	snd_release(m, s);
	rcv_release(m, s);
	dack_remove(m, s);
	s->state = ST_LINGER;
	s->linger_at = m->now + MUX_LINGER_MS;
	s->lnext = NULL;
	s->lprev = m->ltail;
	if (m->ltail != NULL)
		m->ltail->lnext = s;
	else
		m->lhead = s;
	m->ltail = s;
	if (++m->nlinger > m->cfg.max_streams)
		stream_destroy(m, m->lhead, 0, 0);
	s->ack_at = s->rto_at = s->persist_at = s->rack_at = s->tlp_at = 0;
	m->nopen--;
	m->st.streams_closed++;
	s->close_reset = 0;
	s->close_reason = 0;
}

static void
on_rto(struct mux *m, struct stream *s)
{
	unsigned depth = m->cfg.max_depth;

	s->rto_at = 0;
	if (s->snd_una == s->snd_nxt)
		return;
	m->st.timeouts++;
	if (++s->timeouts > MUX_MAX_TIMEOUTS) {
		log_debug("stream %u: no answer after %u retransmissions, reset", s->id,
			  MUX_MAX_TIMEOUTS);
		stream_abort(m, s, MUX_RST_TIMEOUT, 1);
		return;
	}
	if (s->backoff < 20)
		s->backoff++; /* (5.5) */
	for (uint32_t q = s->snd_una; q != s->snd_nxt; q++) {
		struct seg *g = sseg(s, q, depth);
		if (!g->sacked)
			g->lost = 1;
	}
	s->rto_at = m->now + stream_rto(m, s); /* (5.6) */
	work_add(m, s, W_SEND);
}

/* Expired timers of s become work. */
static void
stream_timers(struct mux *m, struct stream *s)
{
	uint64_t now = m->now;
	unsigned w = 0;

	switch (s->state) {
	case ST_OPEN:
		if (s->ack_at != 0 && s->ack_at <= now)
			w |= W_ACK;
		if (s->rto_at != 0 && s->rto_at <= now) {
			on_rto(m, s);
			s->tlp_at = 0; /* everything is being sent again anyway */
		}
		if (s->state == ST_OPEN && s->rack_at != 0 && s->rack_at <= now)
			detect_loss(m, s);
		if (s->state == ST_OPEN && s->tlp_at != 0 && s->tlp_at <= now)
			tlp_fire(m, s);
		if (s->state == ST_OPEN && s->persist_at != 0 && s->persist_at <= now)
			w |= W_PROBE;
		break;
	case ST_LINGER:
		if (s->linger_at <= now) {
			stream_destroy(m, s, 0, 0);
			return;
		}
		break;
	case ST_RSTSENT:
		if (s->rst_at <= now) {
			if (++s->rst_tries >= RST_TRIES) {
				stream_destroy(m, s, 0, 0);
				return;
			}
			s->backoff = s->rst_tries;
			s->rst_at = now + stream_rto(m, s);
			w |= W_RST;
		}
		break;
	}
	work_add(m, s, w);
}

static void
stream_rearm(struct mux *m, struct stream *s)
{
	uint64_t d = 0;

	switch (s->state) {
	case ST_OPEN:
		d = min_nz(min_nz(s->ack_at, s->rto_at), s->persist_at);
		d = min_nz(min_nz(d, s->rack_at), s->tlp_at);
		break;
	case ST_LINGER:
		d = s->linger_at;
		break;
	case ST_RSTSENT:
		d = s->rst_at;
		break;
	}
	if (d == 0)
		d = UINT64_MAX;
	if (s->pending_cb != 0 && m->now < d)
		d = m->now;
	heap_set(m, s, d);
}

/* Move flags that need a callback into w, one at a time, and call it. The
 * rest of the work is queued again first, so the stream is seen again after
 * the callback whatever it did. Returns 1 if a callback was made. */
static int
stream_callback(struct mux *m, struct stream *s, unsigned *w)
{
	static const unsigned order[] = {W_NOTIFY, W_OPENED, W_READABLE, W_WRITABLE};
	unsigned f = 0;
	uint32_t id = s->id;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (*w & order[i]) {
			f = order[i];
			break;
		}
	if (f == 0)
		return 0;
	if (f != W_NOTIFY && (s->state != ST_OPEN || s->dead)) {
		*w &= ~(unsigned)(W_OPENED | W_READABLE | W_WRITABLE);
		return 0;
	}
	work_add(m, s, *w & ~f);
	*w = 0;
	switch (f) {
	case W_NOTIFY:
		if (s->announced && m->cb.closed != NULL)
			m->cb.closed(m->ctx, id, s->close_reset, s->close_reason);
		s->announced = 0;
		break;
	case W_OPENED:
		s->announced = 1;
		if (m->cb.stream_opened != NULL)
			m->cb.stream_opened(m->ctx, id);
		break;
	case W_READABLE:
		if (m->cb.readable != NULL)
			m->cb.readable(m->ctx, id);
		break;
	case W_WRITABLE:
		if (m->cb.writable != NULL)
			m->cb.writable(m->ctx, id);
		break;
	}
	return 1;
}

static void
stream_work(struct mux *m, struct stream *s)
{
	unsigned w = s->work;

	s->work = 0;
	if (m->event) {
		w |= s->pending_cb;
		s->pending_cb = 0;
	} else {
		s->pending_cb |= w & W_APP; /* callbacks wait for the next event */
		w &= ~(unsigned)W_APP;
	}
	if (stream_callback(m, s, &w))
		return;
	if (s->dead) {
		s->graved = 1;
		s->wnext = m->graveyard;
		m->graveyard = s;
		return;
	}
	switch (s->state) {
	case ST_OPEN:
		if (w & W_SEND)
			stream_transmit(m, s);
		if ((w & W_ACK) || (s->ack_at != 0 && s->ack_at <= m->now))
			send_ack(m, s);
		if ((w & W_PROBE) && s->persist_at != 0 && s->persist_at <= m->now) {
			emit_small(m, FT_PROBE, 0, s->id);
			m->st.probes_sent++;
			s->persist_backoff++;
			s->persist_at = m->now + persist_interval(m, s);
		}
		if ((w & W_CLOSECHK) && s->fin_acked && s->eof) {
			stream_linger(m, s);
			if (s->announced) {
				work_add(m, s, W_NOTIFY);
				return;
			}
		}
		break;
	case ST_LINGER:
		if (w & W_ACK)
			send_ack(m, s);
		break;
	case ST_RSTSENT:
		if (w & W_RST)
			emit_rst(m, s->id, s->rst_reason);
		break;
	}
	stream_rearm(m, s);
}

/* ---- call bracketing ---- */

static void
enter(struct mux *m, uint64_t now, int event)
{
	if (m->depth++ == 0)
		m->event = event;
	if (now > m->now)
		m->now = now;
}

static void
leave(struct mux *m)
{
	struct stream *s;

	if (m->depth > 1) {
		m->depth--;
		return;
	}
	while ((s = work_pop(m)) != NULL)
		stream_work(m, s);
	out_flush(m);
	while ((s = m->graveyard) != NULL) {
		m->graveyard = s->wnext;
		free(s);
	}
	m->depth = 0;
}

/* ---- input ---- */

/* Check the framing of a whole body before acting on any of it. Returns 0,
 * or -1 with *why and *where set. */
static int
body_check(const struct mux *m, const uint8_t *b, size_t len, const char **why, size_t *where)
{
	size_t off = 0, need;

	if (len == 0) {
		*why = "empty body";
		*where = 0;
		return -1;
	}
	while (off < len) {
		const uint8_t *f = b + off;
		size_t rem = len - off;

		*where = off;
		switch (f[0]) {
		case FT_DATA:
			if (rem < MUX_DATA_HDR) {
				*why = "DATA frame shorter than its 12-byte header";
				return -1;
			}
			if (f[1] & ~DF_WIRE) {
				*why = "DATA frame with unknown flags (OPEN 1, FIN 2, ACKREQ 4)";
				return -1;
			}
			need = MUX_DATA_HDR + (size_t)be16_get(f + 10);
			if (need > rem) {
				*why = "DATA length runs past the end of the body";
				return -1;
			}
			if (be16_get(f + 10) > m->maxpay) {
				*why = "DATA payload larger than max_body allows";
				return -1;
			}
			if (be16_get(f + 10) == 0 && (f[1] & (DF_OPEN | DF_FIN)) == 0) {
				*why = "DATA frame without payload, OPEN or FIN";
				return -1;
			}
			break;
		case FT_ACK:
			if (rem < MUX_ACK_HDR) {
				*why = "ACK frame shorter than its 14-byte header";
				return -1;
			}
			if (f[1] > SACK_WIRE_MAX) {
				*why = "ACK frame with more than 64 SACK ranges";
				return -1;
			}
			need = MUX_ACK_HDR + 4 * (size_t)f[1];
			if (need > rem) {
				*why = "ACK SACK ranges run past the end of the body";
				return -1;
			}
			for (unsigned i = 0, prev = 0; i < f[1]; i++) {
				unsigned st = be16_get(f + 14 + 4 * i),
					 cnt = be16_get(f + 16 + 4 * i);
				if (st <= prev || cnt == 0 || st + cnt > 65535) {
					*why =
					    "ACK SACK ranges not ascending, disjoint and non-empty";
					return -1;
				}
				prev = st + cnt;
			}
			break;
		case FT_RST:
		case FT_PROBE:
			if (rem < RST_LEN) {
				*why = "RST/PROBE frame shorter than 6 bytes";
				return -1;
			}
			if (f[0] == FT_PROBE && f[1] != 0) {
				*why = "PROBE frame with a nonzero reserved byte";
				return -1;
			}
			need = RST_LEN;
			break;
		default:
			*why = "unknown frame type (DATA 1, ACK 2, RST 3, PROBE 4)";
			return -1;
		}
		if (be32_get(f + 2) == 0) {
			*why = "stream id 0";
			return -1;
		}
		off += need;
	}
	return 0;
}

/* Answer a frame for a stream we lack with RST, once per stream and body. */
static void
reply_unknown(struct mux *m, uint32_t id)
{
	m->st.unknown_stream++;
	if (m->last_rst_body == m->body_serial && m->last_rst_id == id)
		return;
	m->last_rst_body = m->body_serial;
	m->last_rst_id = id;
	emit_rst(m, id, MUX_RST_UNKNOWN);
}

/* A DATA frame with OPEN for a new peer stream. */
static struct stream *
accept_open(struct mux *m, uint32_t id, uint32_t seq)
{
	struct stream *s = NULL;

	seen_mark(m, id, 1);
	if (m->nopen < m->cfg.max_streams && m->nrec < 3 * (size_t)m->cfg.max_streams)
		s = stream_new(m, id, seq);
	if (s == NULL) {
		m->st.streams_refused++;
		log_debug("stream %u: refused, %zu streams open", id, m->nopen);
		emit_rst(m, id, MUX_RST_LIMIT);
		return NULL;
	}
	m->st.streams_accepted++;
	work_add(m, s, W_OPENED);
	return s;
}

static void
frame_rst(struct mux *m, struct stream *s, uint32_t id, uint8_t reason)
{
	m->st.rst_received++;
	if (s == NULL) {
		if (reason != MUX_RST_ACK) {
			if (is_peer_id(m, id))
				seen_mark(m, id, 0); /* a late OPEN must not revive it */
			emit_rst(m, id, MUX_RST_ACK);
		}
		return;
	}
	if (reason != MUX_RST_ACK)
		emit_rst(m, id, MUX_RST_ACK);
	else if (s->state == ST_OPEN)
		return; /* acknowledges nothing we sent */
	stream_destroy(m, s, s->state == ST_OPEN, reason);
}

static void
frame_dispatch(struct mux *m, const uint8_t *f)
{
	uint32_t id = be32_get(f + 2);
	struct stream *s = lookup(m, id);

	if (f[0] == FT_RST) {
		frame_rst(m, s, id, f[1]);
		return;
	}
	if (s == NULL && f[0] == FT_DATA && is_peer_id(m, id) && !seen_test(m, id)) {
		if (!(f[1] & DF_OPEN)) {
			m->st.early_frames++; /* its OPEN is late: the peer resends */
			return;
		}
		if ((s = accept_open(m, id, be32_get(f + 6))) == NULL)
			return;
	}
	if (s == NULL) {
		reply_unknown(m, id);
		return;
	}
	if (s->state == ST_RSTSENT) {
		work_add(m, s, W_RST);
		return;
	}
	switch (f[0]) {
	case FT_DATA:
		if (s->state == ST_LINGER)
			work_add(m, s, W_ACK);
		else
			on_data(m, s, f[1], be32_get(f + 6), f + MUX_DATA_HDR, be16_get(f + 10));
		break;
	case FT_ACK:
		if (s->state == ST_OPEN)
			on_ack(m, s, be32_get(f + 6), be32_get(f + 10), f[1], f + MUX_ACK_HDR);
		break;
	case FT_PROBE:
		work_add(m, s, W_ACK);
		break;
	}
}

static size_t
frame_len(const uint8_t *f)
{
	switch (f[0]) {
	case FT_DATA:
		return MUX_DATA_HDR + (size_t)be16_get(f + 10);
	case FT_ACK:
		return MUX_ACK_HDR + 4 * (size_t)f[1];
	default:
		return RST_LEN;
	}
}

/* ---- public API ---- */

struct mux *
mux_new(const struct mux_config *cfg, const struct mux_callbacks *cb, void *ctx)
{
	struct mux *m;

	if (cfg == NULL || cb == NULL || cb->send == NULL) {
		log_warnx("configuration and a send callback are required");
		errno = EINVAL;
		return NULL;
	}
	if (cfg->max_body < MUX_BODY_MIN || cfg->max_body > MUX_BODY_MAX) {
		log_warnx("max_body %zu out of range %d..%d", cfg->max_body, MUX_BODY_MIN,
			  MUX_BODY_MAX);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->max_depth > MUX_DEPTH_MAX) {
		log_warnx("max_depth %u out of range 1..%d", cfg->max_depth, MUX_DEPTH_MAX);
		errno = EINVAL;
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cfg = *cfg;
	m->cb = *cb;
	m->ctx = ctx;
	if (m->cfg.max_depth == 0)
		m->cfg.max_depth = MUX_DEPTH_DEFAULT;
	if (m->cfg.max_streams == 0)
		m->cfg.max_streams = MUX_STREAMS_DEFAULT;
	m->cfg.is_initiator = cfg->is_initiator ? 1 : 0;
	m->maxpay = cfg->max_body - MUX_DATA_HDR - MUX_ACK_HDR;
	m->nslots = m->cfg.max_depth < MUX_INIT_WINDOW ? MUX_INIT_WINDOW : m->cfg.max_depth;
	m->tabbits = 6;
	m->heapcap = 64;
	m->next_id = m->cfg.is_initiator ? 1 : 2;
	m->seen_floor = m->cfg.is_initiator ? 1 : 0; /* peer ids 2, 4, ... or 1, 3, ... */
	mux_rtt_init(&m->rtt);
	m->min_rtt = UINT64_MAX;
	m->tab = calloc((size_t)1 << m->tabbits, sizeof(*m->tab));
	m->heap = calloc(m->heapcap, sizeof(*m->heap));
	m->obuf = malloc(m->cfg.max_body);
	if (m->tab == NULL || m->heap == NULL || m->obuf == NULL) {
		mux_free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

static void
stream_free(struct mux *m, struct stream *s)
{
	snd_release(m, s);
	rcv_release(m, s);
	free(s);
}

void
mux_free(struct mux *m)
{
	struct stream *s, *next;
	void *c;

	if (m == NULL)
		return;
	if (m->tab != NULL)
		for (size_t i = 0; i < ((size_t)1 << m->tabbits); i++)
			for (s = m->tab[i]; s != NULL; s = next) {
				next = s->hnext;
				stream_free(m, s);
			}
	for (s = m->whead; s != NULL; s = next) { /* only dead ones are not in tab */
		next = s->wnext;
		if (s->dead)
			stream_free(m, s);
	}
	for (s = m->graveyard; s != NULL; s = next) {
		next = s->wnext;
		stream_free(m, s);
	}
	while ((c = m->pool) != NULL) {
		memcpy(&m->pool, c, sizeof(void *));
		free(c);
	}
	free(m->tab);
	free(m->heap);
	free(m->obuf);
	free(m);
}

int
mux_open(struct mux *m, uint32_t *id, uint64_t now_ms)
{
	struct stream *s;

	if (m->ids_exhausted) {
		errno = ENOSPC;
		return -1;
	}
	if (m->nopen >= m->cfg.max_streams || m->nrec >= 3 * (size_t)m->cfg.max_streams) {
		errno = EMFILE;
		return -1;
	}
	enter(m, now_ms, 0);
	s = stream_new(m, m->next_id, m->cfg.first_seq);
	if (s == NULL) {
		leave(m);
		errno = ENOMEM;
		return -1;
	}
	*id = m->next_id;
	if (m->next_id > UINT32_MAX - 2)
		m->ids_exhausted = 1;
	else
		m->next_id += 2;
	s->announced = 1;
	snd_append(m, s, DF_OPEN);
	m->st.streams_opened++;
	work_add(m, s, W_SEND);
	leave(m);
	return 0;
}

ssize_t
mux_write(struct mux *m, uint32_t id, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct stream *s = lookup_open(m, id);
	struct seg *g;
	size_t done = 0, n;

	if (s == NULL)
		return -1;
	if (s->fin_queued || s->fin_pending) {
		errno = EPIPE;
		return -1;
	}
	enter(m, now_ms, 0);
	if (len > 0 && (g = snd_tail(m, s)) != NULL) {
		if (g->buf == NULL)
			g->buf = chunk_get(m);
		if (g->buf != NULL) {
			n = m->maxpay - g->len;
			if (n > len)
				n = len;
			memcpy(g->buf + g->len, buf, n);
			g->len = (uint16_t)(g->len + n);
			done = n;
		}
	}
	while (done < len && snd_free_slots(m, s) > 0) {
		uint8_t *c = chunk_get(m);
		if (c == NULL)
			break;
		g = snd_append(m, s, 0);
		g->buf = c;
		n = len - done < m->maxpay ? len - done : m->maxpay;
		memcpy(c, buf + done, n);
		g->len = (uint16_t)n;
		done += n;
	}
	m->st.snd_buffered += done;
	if (done < len)
		s->blocked = 1;
	if (done > 0)
		work_add(m, s, W_SEND);
	leave(m);
	if (done == 0 && len > 0 && s->snd_una == s->snd_end) {
		errno = ENOMEM; /* nothing queued that an ACK could free */
		return -1;
	}
	return (ssize_t)done;
}

size_t
mux_writable(struct mux *m, uint32_t id)
{
	struct stream *s = lookup_open(m, id);
	struct seg *g;
	size_t room;

	if (s == NULL || s->fin_queued || s->fin_pending)
		return 0;
	room = (size_t)snd_free_slots(m, s) * m->maxpay;
	if ((g = snd_tail(m, s)) != NULL)
		room += m->maxpay - g->len;
	if (room == 0)
		s->blocked = 1;
	return room;
}

ssize_t
mux_read(struct mux *m, uint32_t id, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	struct stream *s = lookup_open(m, id);
	size_t done = 0;
	int freed = 0, waseof;

	if (s == NULL)
		return -1;
	enter(m, now_ms, 0);
	waseof = s->eof;
	for (;;) {
		struct rslot *r;
		size_t n;

		freed |= rcv_advance(m, s);
		if (done == cap || s->read_seq == s->rcv_nxt)
			break;
		r = rslot(m, s, s->read_seq);
		n = (size_t)(r->len - r->off);
		if (n > cap - done)
			n = cap - done;
		memcpy(buf + done, r->buf + r->off, n);
		r->off = (uint16_t)(r->off + n);
		done += n;
	}
	m->st.rcv_buffered -= done;
	if (freed) {
		uint32_t limit = s->read_seq + m->nslots;
		unsigned grow = (unsigned)(limit - s->adv_limit);
		unsigned want = m->nslots / 2 > 1 ? m->nslots / 2 : 1;
		/* window update: at once when it grew by half the buffer, else soon */
		if (grow >= want)
			work_add(m, s, W_ACK);
		else if (grow > 0)
			ack_later(m, s);
		work_add(m, s, 0);
	}
	if (s->eof && !waseof)
		work_add(m, s, W_CLOSECHK);
	leave(m);
	return (ssize_t)done;
}

int
mux_eof(struct mux *m, uint32_t id)
{
	struct stream *s = lookup_open(m, id);

	if (s == NULL)
		return -1;
	return s->eof;
}

int
mux_shutdown(struct mux *m, uint32_t id, uint64_t now_ms)
{
	struct stream *s = lookup_open(m, id);

	if (s == NULL)
		return -1;
	if (s->fin_queued || s->fin_pending)
		return 0;
	enter(m, now_ms, 0);
	snd_queue_fin(m, s);
	s->blocked = 0;
	work_add(m, s, W_SEND);
	leave(m);
	return 0;
}

int
mux_reset(struct mux *m, uint32_t id, int reason, uint64_t now_ms)
{
	struct stream *s = lookup_open(m, id);

	if (s == NULL)
		return -1;
	if (reason < 1 || reason > 254) {
		errno = EINVAL;
		return -1;
	}
	enter(m, now_ms, 0);
	stream_abort(m, s, (uint8_t)reason, 0);
	s->announced = 0;
	leave(m);
	return 0;
}

void
mux_input(struct mux *m, const uint8_t *body, size_t len, uint64_t now_ms)
{
	const char *why = NULL;
	size_t where = 0, off;

	enter(m, now_ms, 1);
	m->st.packets_in++;
	m->st.wire_bytes_in += len;
	m->st.last_input_ms = m->now;
	m->body_serial++;
	if (body_check(m, body, len, &why, &where) == -1) {
		m->st.malformed++;
		log_debug("body of %zu bytes dropped: %s at offset %zu", len, why, where);
		if (!m->warned_big && len > where + MUX_DATA_HDR && body[where] == FT_DATA &&
		    be16_get(body + where + 10) > m->maxpay &&
		    MUX_DATA_HDR + (size_t)be16_get(body + where + 10) <= len - where) {
			m->warned_big = 1;
			log_warnx("peer sends %u-byte packets, more than our %zu: both ends must "
				  "use the same packet size",
				  be16_get(body + where + 10), m->maxpay);
		}
	} else {
		for (off = 0; off < len; off += frame_len(body + off))
			frame_dispatch(m, body + off);
	}
	leave(m);
}

uint64_t
mux_next_timeout(struct mux *m, uint64_t now_ms)
{
	(void)now_ms;
	if (m->nheap == 0)
		return UINT64_MAX;
	return m->heap[0]->deadline;
}

void
mux_on_timer(struct mux *m, uint64_t now_ms)
{
	enter(m, now_ms, 1);
	while (m->nheap > 0 && m->heap[0]->deadline <= m->now) {
		struct stream *s = m->heap[0];
		heap_remove(m, s);
		s->deadline = UINT64_MAX;
		stream_timers(m, s);
	}
	leave(m);
}

void
mux_flush(struct mux *m, uint64_t now_ms)
{
	struct stream *s;

	enter(m, now_ms, 1);
	while ((s = m->dack) != NULL) {
		dack_remove(m, s);
		work_add(m, s, W_ACK);
	}
	leave(m);
}

void
mux_get_stats(const struct mux *m, struct mux_stats *st)
{
	*st = m->st;
	st->srtt_us = m->rtt.srtt_us;
	st->rttvar_us = m->rtt.rttvar_us;
	st->rto_ms = mux_rtt_rto_ms(&m->rtt);
	st->streams = m->nopen;
	st->records = m->nrec;
}

size_t
mux_stream_count(const struct mux *m)
{
	return m->nopen;
}

const char *
mux_reason_str(int reason)
{
	switch (reason) {
	case 0:
		return "closed";
	case MUX_RST_RESET:
		return "reset";
	case MUX_RST_REFUSED:
		return "refused";
	case MUX_RST_UNKNOWN:
		return "unknown stream";
	case MUX_RST_TIMEOUT:
		return "timeout";
	case MUX_RST_LIMIT:
		return "too many streams";
	case MUX_RST_PROTOCOL:
		return "protocol error";
	case MUX_RST_SHUTDOWN:
		return "shutdown";
	case MUX_RST_ACK:
		return "reset acknowledged";
	default:
		return "unknown reason";
	}
}

void
mux_rtt_hint(struct mux *m, uint64_t rtt_ms)
{
	if (m->rtt.samples == 0)
		mux_rtt_sample(&m->rtt, rtt_ms);
}
