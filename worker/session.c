#include "worker/session.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/util.h"
#include "worker/cand.h"
#include "worker/proxy.h"
#include "worker/worker.h"

#define PUNCH_INTERVAL 0.1
#define CHAN_MUX       0
#define CHAN_CTL       1
#define CTL_PING       1
#define CTL_PONG       2
#define CTL_CLOSE      3
#define RELAY_WAIT_S   5     /* after punch_timeout: how long the relay may take */
#define RELAY_EVERY    5     /* punch ticks between handshake copies over the relay */
#define PROBE_MS       1000u /* while relayed: direct probes this often */

static void send_body(struct session *s, uint8_t chan, const uint8_t *body, size_t len);
static void send_ping(struct session *s, uint64_t now);

static int
peer_role(const struct session *s)
{
	return s->initiator ? HS_ROLE_TARGET : HS_ROLE_INITIATOR;
}

static void
set_path(struct session *s, const struct sockaddr *from, socklen_t fromlen)
{
	memcpy(&s->path, from, fromlen);
	s->pathlen = fromlen;
}

/* p wrapped in a RELAY to the rendezvous server (section 9). */
static void
send_relay(struct session *s, const uint8_t *p, size_t n)
{
	if (worker_relay(s->w, s->relay_sid, s->relay_seq + 1, p, n) == 0)
		s->relay_seq++;
}

/* To an address, or over the relay if to is NULL (an answer to a datagram
 * that came over the relay). */
static void
send_to(struct session *s, const struct sockaddr *to, socklen_t len, const uint8_t *p, size_t n)
{
	if (to == NULL)
		send_relay(s, p, n);
	else
		worker_send(s->w, to, len, p, n);
}

static void
send_path(struct session *s, const uint8_t *p, size_t n)
{
	if (s->relayed)
		send_relay(s, p, n);
	else
		send_to(s, (struct sockaddr *)&s->path, s->pathlen, p, n);
	s->last_tx_ms = now_ms();
}

/* Seconds from introduction until a session without any path gives up:
 * punch_timeout of punching, then the relay's turn. */
static uint64_t
giveup_ms(const struct session *s)
{
	return ((uint64_t)s->w->cfg->punch_timeout + RELAY_WAIT_S) * 1000u;
}

static void
start_relaying(struct session *s, const char *why)
{
	if (s->relaying)
		return;
	s->relaying = 1;
	log_info("%s %s: relaying through the rendezvous server", why, s->peer_name);
}

/* Send p to every candidate of the peer and to a peer-reflexive address. */
static void
send_all(struct session *s, const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (unsigned i = 0; i < s->cands.n; i++)
		if ((len = rdv_addr_to_sockaddr(&s->cands.a[i], &ss)) != 0)
			send_to(s, (struct sockaddr *)&ss, len, p, n);
	if (s->have_extra)
		send_to(s, (struct sockaddr *)&s->extra,
			s->extra.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						      : sizeof(struct sockaddr_in6),
			p, n);
}

static int
is_candidate(const struct session *s, const struct sockaddr *from)
{
	struct sockaddr_storage ss;

	for (unsigned i = 0; i < s->cands.n; i++)
		if (rdv_addr_to_sockaddr(&s->cands.a[i], &ss) != 0 &&
		    sockaddr_equal((struct sockaddr *)&ss, from))
			return 1;
	return s->have_extra && sockaddr_equal((struct sockaddr *)&s->extra, from);
}

static void
adopt_reflexive(struct session *s, const struct sockaddr *from, socklen_t fromlen)
{
	char a[SOCKADDR_STRLEN];

	if (from == NULL || is_candidate(s, from))
		return;
	memcpy(&s->extra, from, fromlen);
	s->have_extra = 1;
	log_info("peer-reflexive address %s adopted", fmt_sockaddr(from, a, sizeof(a)));
}

/* ---- multiplexer callbacks ---- */

static void
mux_send_cb(void *ctx, const uint8_t *body, size_t len)
{
	send_body(ctx, CHAN_MUX, body, len);
}

static void
mux_opened_cb(void *ctx, uint32_t id)
{
	struct session *s = ctx;

	if (s->initiator) {
		mux_reset(s->mux, id, MUX_RST_PROTOCOL, now_ms());
		return;
	}
	bridge_stream_opened(s->bridge, id);
}

static void
mux_readable_cb(void *ctx, uint32_t id)
{
	struct session *s = ctx;

	bridge_readable(s->bridge, id);
}

static void
mux_writable_cb(void *ctx, uint32_t id)
{
	struct session *s = ctx;

	bridge_writable(s->bridge, id);
}

static void
mux_closed_cb(void *ctx, uint32_t id, int reset, int reason)
{
	struct session *s = ctx;

	bridge_closed(s->bridge, id, reset, reason);
}

static const struct mux_callbacks mux_cbs = {
    .send = mux_send_cb,
    .stream_opened = mux_opened_cb,
    .readable = mux_readable_cb,
    .writable = mux_writable_cb,
    .closed = mux_closed_cb,
};

/* ---- timers ---- */

static void end(struct session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
end(struct session *s, int code, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->state = SESS_CLOSED;
	worker_session_gone(s->w, s, code, why); /* frees s */
}

static void
punch_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;
	uint8_t pkt[HS_PUNCH_LEN];
	uint64_t now = now_ms();
	const uint8_t *init;
	size_t len;

	(void)loop;
	(void)revents;
	if (s->state == SESS_UP) {
		ev_timer_stop(s->w->loop, &s->punch_t);
		return;
	}
	if (now - s->start_ms > giveup_ms(s)) {
		end(s, EXIT_P2P_FAILED,
		    "P2P connect failed: no direct path to %s within %u s, and no answer over the "
		    "relay in %u s more (relay = no on the server?)",
		    s->peer_name, s->w->cfg->punch_timeout, RELAY_WAIT_S);
		return;
	}
	if (now - s->start_ms > (uint64_t)s->w->cfg->punch_timeout * 1000u)
		start_relaying(s, "no direct path within punch_timeout to");
	if (hs_punch_build(s->S, s->sid64, s->initiator ? HS_ROLE_INITIATOR : HS_ROLE_TARGET, pkt,
			   sizeof(pkt)) > 0)
		send_all(s, pkt, sizeof(pkt));
	if (s->initiator && (init = hs_ini_packet(&s->hi, &len)) != NULL) {
		send_all(s, init, len);
		if (s->relaying && s->punch_ticks % RELAY_EVERY == 0)
			send_relay(s, init, len);
	}
	s->punch_ticks++;
}

static void
send_ctl(struct session *s, uint8_t type, const uint8_t *arg, size_t n)
{
	uint8_t b[16];

	b[0] = type;
	if (n > 0)
		memcpy(b + 1, arg, n);
	send_body(s, CHAN_CTL, b, n + 1);
}

static void
send_ping(struct session *s, uint64_t now)
{
	uint8_t ts[8];
	struct wbuf w;

	wbuf_init(&w, ts, sizeof(ts));
	wbuf_u64(&w, now);
	send_ctl(s, CTL_PING, ts, sizeof(ts));
}

/* While up, wake only when a keep-alive or the dead interval can be due: the
 * nearest of last send + keepalive, last receipt + keepalive and last receipt
 * + dead_interval (traffic moves them later; the callback then re-arms); and
 * every second while relayed, for the direct probes. */
static void
rearm_live(struct session *s, uint64_t now)
{
	const struct prov *p = s->w->cfg;
	uint64_t ka = (uint64_t)p->keepalive * 1000u, next;

	next = s->last_tx_ms + ka;
	if (s->last_rx_ms + ka < next)
		next = s->last_rx_ms + ka;
	if (s->last_rx_ms + (uint64_t)p->dead_interval * 1000u < next)
		next = s->last_rx_ms + (uint64_t)p->dead_interval * 1000u;
	if (s->relayed && now + PROBE_MS < next)
		next = now + PROBE_MS; /* direct probes every second while relayed */
	s->live_t.repeat = next > now + 50 ? (double)(next - now) / 1000.0 : 0.05;
	ev_timer_again(s->w->loop, &s->live_t);
}

/* While relayed, once a second: PUNCH to every candidate, and a PING sealed
 * like any data packet to each of them, so that the peer moves to a direct
 * path as soon as one carries authentic packets. */
static void
probe_direct(struct session *s, const struct sockaddr *to, socklen_t tolen)
{
	uint8_t pkt[HS_PUNCH_LEN];
	int relayed = s->relayed;

	if (to == NULL &&
	    hs_punch_build(s->S, s->sid64, s->initiator ? HS_ROLE_INITIATOR : HS_ROLE_TARGET, pkt,
			   sizeof(pkt)) > 0)
		send_all(s, pkt, sizeof(pkt));
	/* The PING goes direct: send_path sees a direct path for a moment. */
	s->relayed = 0;
	if (to == NULL) {
		s->probing = 1;
		send_ping(s, now_ms());
		s->probing = 0;
	} else {
		struct sockaddr_storage keep = s->path;
		socklen_t keeplen = s->pathlen;
		set_path(s, to, tolen);
		send_ping(s, now_ms());
		memcpy(&s->path, &keep, sizeof(keep));
		s->pathlen = keeplen;
	}
	s->relayed = relayed;
}

static void
live_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;
	const struct prov *p = s->w->cfg;
	uint64_t now = now_ms();

	(void)loop;
	(void)revents;
	if (s->state == SESS_CONFIRM && now - s->start_ms > giveup_ms(s)) {
		end(s, EXIT_P2P_FAILED, "handshake with %s not confirmed within %u s", s->peer_name,
		    p->punch_timeout + RELAY_WAIT_S);
		return;
	}
	if (s->state != SESS_UP)
		return;
	if (s->relayed)
		probe_direct(s, NULL, 0);
	if (now - s->last_rx_ms >= (uint64_t)p->dead_interval * 1000u) {
		end(s, EXIT_PEER_GONE, "peer %s silent for %u s (dead interval): closed",
		    s->peer_name, p->dead_interval);
		return;
	}
	if (now - s->last_tx_ms >= (uint64_t)p->keepalive * 1000u ||
	    now - s->last_rx_ms >= (uint64_t)p->keepalive * 1000u)
		send_ping(s, now);
	rearm_live(s, now);
}

static void
mux_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;

	(void)loop;
	(void)revents;
	if (s->mux != NULL)
		mux_on_timer(s->mux, now_ms());
}

/* ---- life cycle ---- */

struct session *
session_new(struct worker *w, const struct rdv_intro *in, int initiator, int mode)
{
	struct session *s = calloc(1, sizeof(*s));
	struct rbuf r;

	if (s == NULL)
		return NULL;
	s->w = w;
	s->initiator = initiator;
	s->mode = mode;
	s->state = SESS_PUNCHING;
	memcpy(s->S, in->secret, sizeof(s->S));
	memcpy(s->session_id, in->session_id, sizeof(s->session_id));
	memcpy(s->relay_sid, in->session_id, sizeof(s->relay_sid));
	rbuf_init(&r, s->session_id, sizeof(s->session_id));
	s->sid64 = rbuf_u64(&r);
	rdv_id_format(&in->peer, s->peer_name, sizeof(s->peer_name));
	s->cands = in->cands;
	do
		s->my_index = randombytes_random();
	while (s->my_index == 0);
	s->start_ms = s->last_rx_ms = s->last_tx_ms = now_ms();
	s->bridge = bridge_new(w, w->loop, w->cfg);
	if (s->bridge == NULL) {
		free(s);
		return NULL;
	}
	if (initiator && hs_init_start(&s->hi, s->S, s->sid64, mode, s->my_index) == -1) {
		bridge_free(s->bridge);
		free(s);
		return NULL;
	}
	ev_timer_init(&s->punch_t, punch_cb, 0.0, PUNCH_INTERVAL);
	ev_init(&s->mux_t, mux_timer_cb);
	ev_timer_init(&s->live_t, live_cb, 1.0, 1.0);
	s->punch_t.data = s->mux_t.data = s->live_t.data = s;
	ev_timer_start(w->loop, &s->punch_t);
	ev_timer_start(w->loop, &s->live_t);
	return s;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	ev_timer_stop(s->w->loop, &s->punch_t);
	ev_timer_stop(s->w->loop, &s->mux_t);
	ev_timer_stop(s->w->loop, &s->live_t);
	bridge_free(s->bridge);
	if (s->mux != NULL)
		mux_free(s->mux);
	dp_wipe(&s->tx);
	dp_wipe(&s->rx);
	hs_ini_wipe(&s->hi);
	hs_tgt_wipe(&s->ht);
	sodium_memzero(s->S, sizeof(s->S));
	free(s);
}

void
session_close(struct session *s, int reason)
{
	uint8_t r = (uint8_t)reason;

	if (s->state != SESS_UP && s->state != SESS_CONFIRM)
		return;
	send_ctl(s, CTL_CLOSE, &r, 1);
	send_ctl(s, CTL_CLOSE, &r, 1); /* a second copy in case the first is lost */
}

/* Keys agreed: set up both directions and the multiplexer. */
static int
keys_ready(struct session *s, const struct hs_keys *k, const struct sockaddr *from,
	   socklen_t fromlen)
{
	struct mux_config mc;
	const struct prov *p = s->w->cfg;
	int rc;

	rc = dp_init(&s->tx, s->mode, s->initiator ? k->k_i2t : k->k_t2i);
	rc |= dp_init(&s->rx, s->mode, s->initiator ? k->k_t2i : k->k_i2t);
	if (rc != 0)
		return -1;
	memset(&mc, 0, sizeof(mc));
	mc.max_body = p->mtu - dp_overhead(DP_MODE_XXTEA) - 1;
	mc.max_depth = p->max_depth;
	mc.is_initiator = s->initiator;
	s->mux = mux_new(&mc, &mux_cbs, s);
	if (s->mux == NULL)
		return -1;
	bridge_set_mux(s->bridge, s->mux);
	if (from == NULL) {
		s->relayed = 1; /* the handshake came over the relay */
	} else {
		set_path(s, from, fromlen);
		s->relayed = 0;
	}
	s->last_rx_ms = now_ms();
	return 0;
}

static void
go_up(struct session *s)
{
	s->state = SESS_UP;
	s->up_ms = now_ms();
	ev_timer_stop(s->w->loop, &s->punch_t);
	send_ping(s, s->up_ms); /* a first round trip for the status */
	worker_session_up(s->w, s);
}

int
session_matches_handshake(const struct session *s, const struct hs_peek *pk)
{
	if (pk->has_session)
		return pk->session_id == s->sid64;
	return pk->has_receiver && pk->receiver_index == s->my_index;
}

static void
on_init(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
	socklen_t fromlen)
{
	uint8_t resp[HS_MAX_LEN];
	size_t rlen = 0;
	struct hs_keys k;
	int mode = 0, rc;
	uint32_t pidx = 0;

	rc = hs_tgt_on_init(&s->ht, s->S, s->sid64, s->w->cfg->allow_encryption, s->my_index, p, n,
			    resp, sizeof(resp), &rlen, &k, &mode, &pidx);
	switch (rc) {
	case HS_OK:
		s->mode = mode;
		s->peer_index = pidx;
		if (keys_ready(s, &k, from, fromlen) == -1) {
			sodium_memzero(&k, sizeof(k));
			end(s, EXIT_SESSION, "cannot set up the session (out of memory)");
			return;
		}
		sodium_memzero(&k, sizeof(k));
		s->state = SESS_CONFIRM;
		send_to(s, from, fromlen, resp, rlen);
		break;
	case HS_REPEATED:
		send_to(s, from, fromlen, resp, rlen);
		break;
	case HS_REFUSED: {
		char allowed[16] = "";
		for (int m = 0; m < 4; m++)
			if (s->w->cfg->allow_encryption & (1u << m))
				snprintf(allowed + strlen(allowed),
					 sizeof(allowed) - strlen(allowed), "%s%d",
					 allowed[0] ? "," : "", m);
		send_to(s, from, fromlen, resp, rlen);
		log_warnx("refused %s: encryption mode %d is not in allow_encryption %s",
			  s->peer_name, mode, allowed);
		end(s, EXIT_SESSION, "encryption mode refused");
		return;
	}
	default:
		log_debug("HS_INIT dropped: %s", s->ht.why ? s->ht.why : "bad");
		break;
	}
}

static void
on_resp(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
	socklen_t fromlen)
{
	struct hs_keys k;
	uint32_t pidx;

	if (s->state == SESS_UP) {
		/* Our HS_CONFIRM was lost and the target repeats HS_RESP. */
		if (s->confirm_len > 0)
			send_to(s, from, fromlen, s->confirm_pkt, s->confirm_len);
		return;
	}
	if (hs_ini_on_resp(&s->hi, p, n, s->confirm_pkt, sizeof(s->confirm_pkt), &s->confirm_len,
			   &k, &pidx) == -1) {
		log_debug("HS_RESP dropped: %s", s->hi.why ? s->hi.why : "bad");
		return;
	}
	s->peer_index = pidx;
	if (keys_ready(s, &k, from, fromlen) == -1) {
		sodium_memzero(&k, sizeof(k));
		end(s, EXIT_SESSION, "cannot set up the session (out of memory)");
		return;
	}
	sodium_memzero(&k, sizeof(k));
	send_to(s, from, fromlen, s->confirm_pkt, s->confirm_len);
	go_up(s);
}

void
session_on_handshake(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
		     socklen_t fromlen)
{
	switch (p[0]) {
	case HS_T_PUNCH:
		if (hs_punch_check(s->S, s->sid64, peer_role(s), p, n) == 0) {
			adopt_reflexive(s, from, fromlen);
			/* Relayed, and the peer's PUNCH got through directly:
			 * answer with an authentic packet on that path. */
			if (from != NULL && s->state == SESS_UP && s->relayed)
				probe_direct(s, from, fromlen);
			if (s->initiator && s->state == SESS_PUNCHING) {
				size_t len;
				const uint8_t *init = hs_ini_packet(&s->hi, &len);
				if (init != NULL)
					send_to(s, from, fromlen, init, len);
			}
		}
		break;
	case HS_T_INIT:
		if (!s->initiator) {
			if (s->state == SESS_PUNCHING)
				adopt_reflexive(s, from, fromlen);
			on_init(s, p, n, from, fromlen);
		}
		break;
	case HS_T_RESP:
		if (s->initiator)
			on_resp(s, p, n, from, fromlen);
		break;
	case HS_T_CONFIRM:
		if (!s->initiator && s->state == SESS_CONFIRM &&
		    hs_tgt_on_confirm(&s->ht, p, n) == 0)
			go_up(s);
		break;
	case HS_T_REJECT:
		if (s->initiator) {
			int reason = hs_ini_on_reject(&s->hi, p, n);
			if (reason >= 0)
				end(s, EXIT_SESSION,
				    "target %s refused encryption mode %d (not in its "
				    "allow_encryption); "
				    "try another encryption mode",
				    s->peer_name, s->mode);
		}
		break;
	default:
		break;
	}
}

/* ---- data packets ---- */

static void
send_body(struct session *s, uint8_t chan, const uint8_t *body, size_t len)
{
	uint8_t out[DP_MAX_DATAGRAM];
	size_t off = dp_body_offset(s->mode);
	ssize_t n;

	if (s->state != SESS_UP && s->state != SESS_CONFIRM)
		return;
	if (off + 1 + len > sizeof(out))
		return;
	out[off] = chan;
	memcpy(out + off + 1, body, len);
	n = dp_seal(&s->tx, s->peer_index, out + off, len + 1, out, sizeof(out));
	if (n < 0) {
		log_warnx("cannot seal a %zu-byte packet", len + 1);
		return;
	}
	s->st.tx_pkts++;
	if (s->probing)
		send_all(s, out, (size_t)n);
	else
		send_path(s, out, (size_t)n);
}

static void
on_ctl(struct session *s, const uint8_t *b, size_t n)
{
	struct rbuf r;
	uint64_t ts, now = now_ms();

	if (n < 1)
		return;
	rbuf_init(&r, b + 1, n - 1);
	switch (b[0]) {
	case CTL_PING:
		if (n == 9)
			send_ctl(s, CTL_PONG, b + 1, 8);
		break;
	case CTL_PONG:
		ts = rbuf_u64(&r);
		if (!r.err && ts <= now) {
			s->st.rtt_ms = now - ts;
			s->st.rtt_valid = 1;
			if (s->mux != NULL)
				mux_rtt_hint(s->mux, s->st.rtt_ms);
		}
		break;
	case CTL_CLOSE:
		end(s, EXIT_PEER_SHUTDOWN, "shutdown by peer %s", s->peer_name);
		break;
	default:
		break;
	}
}

/* A data packet from an address, or over the relay (from NULL) in a RELAYED
 * naming rsid. */
static void
data_in(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
	socklen_t fromlen, const uint8_t *rsid)
{
	uint8_t body[DP_MAX_DATAGRAM];
	uint64_t ctr = 0;
	ssize_t len;

	if (s->state != SESS_UP && s->state != SESS_CONFIRM)
		return;
	len = dp_open(&s->rx, p, n, body, sizeof(body), &ctr);
	if (len < 1) {
		s->st.dropped++;
		return;
	}
	s->st.rx_pkts++;
	s->last_rx_ms = now_ms();
	if (from == NULL) {
		/* Authentic over the relay: the peer relays (under a new
		 * session id if it logged in again), so do we. */
		start_relaying(s, "a data packet over the relay from");
		if (rsid != NULL && !session_relay_sid_is(s, rsid))
			session_set_relay_sid(s, rsid);
	}
	if (ctr < s->rx_top || from == NULL) {
		/* an older packet arriving late, or one over the relay: never
		 * moves the path */
	} else if (s->relayed) {
		char a[SOCKADDR_STRLEN];
		set_path(s, from, fromlen);
		s->relayed = 0;
		fmt_sockaddr(from, a, sizeof(a));
		log_info("path to %s is direct now, peer %s: leaving the relay", s->peer_name, a);
		if (s->state == SESS_UP)
			worker_session_path(s->w, s);
	} else if (!sockaddr_equal((struct sockaddr *)&s->path, from)) {
		char a[SOCKADDR_STRLEN];
		log_info("peer %s moved to %s", s->peer_name, fmt_sockaddr(from, a, sizeof(a)));
		set_path(s, from, fromlen);
	}
	if (ctr >= s->rx_top)
		s->rx_top = ctr;
	if (s->state == SESS_CONFIRM)
		go_up(s); /* an authentic data packet confirms the keys too */
	if (body[0] == CHAN_MUX)
		mux_input(s->mux, body + 1, (size_t)len - 1, now_ms());
	else if (body[0] == CHAN_CTL)
		on_ctl(s, body + 1, (size_t)len - 1);
}

void
session_on_data(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
		socklen_t fromlen)
{
	data_in(s, p, n, from, fromlen, NULL);
}

void
session_flush(struct session *s)
{
	uint64_t now, next;

	if (s->mux == NULL)
		return;
	now = now_ms();
	mux_flush(s->mux, now);
	bridge_flush(s->bridge);
	mux_flush(s->mux, now); /* window updates the reads above opened */
	next = mux_next_timeout(s->mux, now);
	ev_timer_stop(s->w->loop, &s->mux_t);
	if (next != UINT64_MAX) {
		ev_timer_set(&s->mux_t, next > now ? (double)(next - now) / 1000.0 : 0.0, 0.0);
		ev_timer_start(s->w->loop, &s->mux_t);
	}
}

const char *
session_summary(const struct session *s, char *buf, size_t len)
{
	struct mux_stats ms;
	const uint64_t *d = s->rx.drops;

	memset(&ms, 0, sizeof(ms));
	if (s->mux != NULL)
		mux_get_stats(s->mux, &ms);
	snprintf(buf, len,
		 "%llu packets in, %llu out; dropped %llu (tag %llu, replay %llu, format %llu, "
		 "content %llu); stream bytes in %llu, out %llu; retransmits %llu (found by SACK "
		 "%llu, tail probes %llu, timeouts %llu), duplicates received %llu",
		 (unsigned long long)s->st.rx_pkts, (unsigned long long)s->st.tx_pkts,
		 (unsigned long long)s->st.dropped, (unsigned long long)d[DP_DROP_TAG],
		 (unsigned long long)d[DP_DROP_REPLAY], (unsigned long long)d[DP_DROP_FORMAT],
		 (unsigned long long)d[DP_DROP_CONTENT], (unsigned long long)ms.bytes_in,
		 (unsigned long long)ms.bytes_out, (unsigned long long)ms.retransmits,
		 (unsigned long long)ms.fast_retransmits, (unsigned long long)ms.tail_probes,
		 (unsigned long long)ms.timeouts, (unsigned long long)ms.dup_frames);
	return buf;
}

void
session_on_relayed(struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN], const uint8_t *p,
		   size_t n)
{
	if (n < 1)
		return;
	if (p[0] == DP_TYPE) {
		/* The relay session id may change (the peer logged in again),
		 * but only once a data packet authenticates under it. */
		data_in(s, p, n, NULL, 0, sid);
		return;
	}
	/* Handshake messages only under this session's own ids. */
	if (p[0] < HS_T_PUNCH || p[0] > HS_T_REJECT ||
	    (!session_relay_sid_is(s, sid) && memcmp(s->session_id, sid, RDV_SESSION_ID_LEN) != 0))
		return;
	start_relaying(s, "a handshake message over the relay from");
	session_on_handshake(s, p, n, NULL, 0);
}

int
session_relay_sid_is(const struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	return memcmp(s->relay_sid, sid, RDV_SESSION_ID_LEN) == 0;
}

void
session_set_relay_sid(struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	char hex[2 * RDV_SESSION_ID_LEN + 1];

	if (session_relay_sid_is(s, sid))
		return;
	memcpy(s->relay_sid, sid, RDV_SESSION_ID_LEN);
	s->relay_seq = 0;
	hex_encode(sid, RDV_SESSION_ID_LEN, hex);
	log_info("session with %s: relayed as session %s from now on", s->peer_name, hex);
}

const char *
session_path_name(const struct session *s)
{
	return s->relayed ? "relay" : "direct";
}
