#include "worker/rdvclient.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"

#define RETRY_MS      1000u
#define RETRY_MAX_MS  30000u
#define INI_MAX_TRIES 10u
#define KA_MISSES     3u

/* Whether this client keeps logging in whatever happens: a target, or an
 * initiator with a tunnel that must not end because the server is away. */
static int
persistent(const struct rdvc *c)
{
	return c->id.role == RDV_ROLE_TARGET || c->introduced;
}

/* Logged in (now): keep-alives every keepalive_s from here. */
static void
logged_in(struct rdvc *c, uint64_t now)
{
	c->have_login = 1;
	c->state = RDVC_LOGGED_IN;
	c->tries = 0;
	c->auth_retried = 0;
	c->last_heard_ms = now;
	c->ka_seq = 0;
	c->next_ms = now + (uint64_t)c->keepalive_s * 1000u;
}

static void
send_pkt(struct rdvc *c, uint64_t now)
{
	uint64_t delay = RETRY_MS;

	c->ops->send(c->ctx, c->pkt, c->pktlen);
	c->tries++;
	/* A target (and an introduced initiator logging in again) keeps trying
	 * forever, backing off; an initiator that has no tunnel yet gives up. */
	if (persistent(c) && c->tries > 3) {
		unsigned shift = c->tries - 3 < 5 ? c->tries - 3 : 5;
		delay = (uint64_t)RETRY_MS << shift;
		if (delay > RETRY_MAX_MS)
			delay = RETRY_MAX_MS;
	}
	c->next_ms = now + delay;
}

/* A message could not be built (cannot happen with the bounded candidate
 * list and checked ids): say so and try again later instead of at once, as a
 * timer left in the past would, on every turn of the event loop. */
static void
build_failed(struct rdvc *c, uint64_t now, const char *what)
{
	log_warnx("cannot build %s for the rendezvous server; trying again in %u s", what,
		  RETRY_MAX_MS / 1000);
	c->next_ms = now + RETRY_MAX_MS;
}

static void
send_hello(struct rdvc *c, uint64_t now)
{
	struct rdv_hello h;
	int n;

	randombytes_buf(c->cnonce, sizeof(c->cnonce));
	h.id = c->id;
	memcpy(h.cnonce, c->cnonce, sizeof(h.cnonce));
	n = rdv_build_hello(c->pkt, sizeof(c->pkt), &h);
	if (n < 0) {
		build_failed(c, now, "HELLO");
		return;
	}
	c->pktlen = (size_t)n;
	c->state = RDVC_HELLO;
	send_pkt(c, now);
}

static void
send_auth(struct rdvc *c, uint64_t now)
{
	struct rdv_auth a;
	int n;

	memset(&a, 0, sizeof(a));
	a.id = c->id;
	memcpy(a.cnonce, c->cnonce, sizeof(a.cnonce));
	a.ts = c->ch.ts;
	memcpy(a.snonce, c->ch.snonce, sizeof(a.snonce));
	a.uid = c->want;
	a.mode = c->mode;
	a.cands = c->cands;
	n = rdv_build_auth(c->pkt, sizeof(c->pkt), &a, c->kclient, c->klen);
	if (n < 0) {
		build_failed(c, now, "AUTH");
		return;
	}
	rdv_login_key(c->klogin, c->kclient, c->klen, c->cnonce, c->ch.snonce);
	c->pktlen = (size_t)n;
	c->state = RDVC_AUTH;
	send_pkt(c, now);
}

static void
send_keepalive(struct rdvc *c, uint64_t now)
{
	struct rdv_keepalive k;
	int n;

	memcpy(k.login_id, c->login_id, sizeof(k.login_id));
	k.seq = ++c->ka_seq;
	k.cands = c->cands;
	n = rdv_build_keepalive(c->pkt, sizeof(c->pkt), &k, c->klogin);
	if (n < 0) {
		build_failed(c, now, "KEEPALIVE");
		return;
	}
	c->ops->send(c->ctx, c->pkt, (size_t)n);
	c->next_ms = now + (uint64_t)c->keepalive_s * 1000u;
}

static void
fail(struct rdvc *c, int code, const char *msg)
{
	c->state = RDVC_FAILED;
	c->next_ms = UINT64_MAX;
	c->ops->failed(c->ctx, code, msg);
}

static void
common_init(struct rdvc *c, const struct rdvc_ops *ops, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	c->state = RDVC_IDLE;
	c->next_ms = UINT64_MAX;
	c->keepalive_s = 15;
}

void
rdvc_init_target(struct rdvc *c, const struct rdvc_ops *ops, void *ctx, const p2p_uid *uid,
		 const uint8_t kdev[RDV_SECRET_LEN])
{
	common_init(c, ops, ctx);
	rdv_id_target(&c->id, uid);
	memcpy(c->kclient, kdev, RDV_SECRET_LEN);
	c->klen = RDV_SECRET_LEN;
}

int
rdvc_init_initiator(struct rdvc *c, const struct rdvc_ops *ops, void *ctx, const char *user,
		    const uint8_t auth_hash[20], const p2p_uid *want, int mode, const char **why)
{
	common_init(c, ops, ctx);
	if (rdv_id_initiator(&c->id, user, why) == -1)
		return -1;
	memcpy(c->kclient, auth_hash, 20);
	c->klen = 20;
	c->want = *want;
	c->mode = (uint8_t)mode;
	c->max_tries = INI_MAX_TRIES;
	return 0;
}

void
rdvc_set_cands(struct rdvc *c, const struct rdv_cands *cands)
{
	c->cands = *cands;
}

void
rdvc_set_keepalive_cap(struct rdvc *c, unsigned cap)
{
	c->keepalive_cap = (uint16_t)(cap > 3600 ? 3600 : cap);
	/* An initiator gets no AUTH_OK with the server's interval: it uses the
	 * default, or its own setting if that is shorter. */
	if (c->id.role == RDV_ROLE_INITIATOR && c->keepalive_cap > 0 &&
	    c->keepalive_cap < c->keepalive_s)
		c->keepalive_s = c->keepalive_cap;
}

void
rdvc_start(struct rdvc *c, uint64_t now)
{
	c->tries = 0;
	c->have_login = 0;
	send_hello(c, now);
}

static void
on_challenge(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct rdv_challenge ch;
	const char *why = NULL;

	if (c->state != RDVC_HELLO)
		return;
	if (rdv_parse_challenge(p, n, &ch, &why) == -1) {
		log_debug("dropped CHALLENGE: %s", why ? why : "malformed");
		return;
	}
	if (sodium_memcmp(ch.cnonce, c->cnonce, RDV_NONCE_LEN) != 0)
		return; /* an old or foreign challenge */
	c->ch = ch;
	c->last_heard_ms = now;
	send_auth(c, now);
}

static void
on_auth_ok(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct rdv_auth_ok ok;
	const char *why = NULL;

	if (c->state != RDVC_AUTH || c->id.role != RDV_ROLE_TARGET)
		return;
	if (rdv_parse_auth_ok(p, n, &ok, c->klogin, &why) == -1) {
		log_debug("dropped AUTH_OK: %s", why ? why : "malformed");
		return;
	}
	if (sodium_memcmp(ok.cnonce, c->cnonce, RDV_NONCE_LEN) != 0)
		return;
	memcpy(c->login_id, ok.login_id, sizeof(c->login_id));
	c->keepalive_s = ok.keepalive >= 1 ? ok.keepalive : 15;
	if (c->keepalive_cap > 0 && c->keepalive_cap < c->keepalive_s)
		c->keepalive_s = c->keepalive_cap;
	c->observed = ok.observed;
	logged_in(c, now);
	c->ops->registered(c->ctx, &c->observed);
}

static void
on_ka_ack(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct rdv_ka_ack k;
	const char *why = NULL;

	if (c->state != RDVC_LOGGED_IN || !c->have_login)
		return;
	if (rdv_parse_ka_ack(p, n, &k, c->klogin, &why) == -1 ||
	    memcmp(k.login_id, c->login_id, sizeof(k.login_id)) != 0)
		return;
	c->last_heard_ms = now;
	if (!rdv_addr_equal(&k.observed, &c->observed)) {
		char was[SOCKADDR_STRLEN], is[SOCKADDR_STRLEN];
		log_info("the rendezvous server now sees us at %s (was %s): our NAT mapping "
			 "changed",
			 rdv_addr_format(&k.observed, is, sizeof(is)),
			 rdv_addr_format(&c->observed, was, sizeof(was)));
		c->observed = k.observed;
	}
}

static int
seen_session(const struct rdvc *c, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	for (unsigned i = 0; i < c->nseen; i++)
		if (memcmp(c->seen[i], sid, RDV_SESSION_ID_LEN) == 0)
			return 1;
	return 0;
}

static void
on_intro(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct rdv_intro in;
	struct rdv_intro_ack ack;
	const char *why = NULL;
	uint8_t out[RDV_MAX_DGRAM];
	int len;

	if (c->state != RDVC_AUTH && c->state != RDVC_LOGGED_IN)
		return;
	if (rdv_open_intro(p, n, &in, c->klogin, &why) == -1) {
		log_debug("dropped INTRO: %s", why ? why : "does not open");
		return;
	}
	if (c->id.role == RDV_ROLE_INITIATOR) {
		if (c->state == RDVC_AUTH) {
			memcpy(c->login_id, in.login_id, sizeof(c->login_id));
			logged_in(c, now);
		} else if (memcmp(in.login_id, c->login_id, sizeof(c->login_id)) != 0) {
			sodium_memzero(&in, sizeof(in));
			return;
		}
	} else if (!c->have_login || memcmp(in.login_id, c->login_id, sizeof(c->login_id)) != 0) {
		sodium_memzero(&in, sizeof(in));
		return;
	}
	c->last_heard_ms = now;
	memcpy(ack.login_id, in.login_id, sizeof(ack.login_id));
	memcpy(ack.session_id, in.session_id, sizeof(ack.session_id));
	len = rdv_build_intro_ack(out, sizeof(out), &ack, c->klogin);
	if (len > 0)
		c->ops->send(c->ctx, out, (size_t)len);
	if (seen_session(c, in.session_id)) {
		sodium_memzero(&in, sizeof(in));
		return; /* a repeat: acknowledged again, not handed up twice */
	}
	memcpy(c->seen[c->seen_next], in.session_id, RDV_SESSION_ID_LEN);
	c->seen_next = (c->seen_next + 1) % RDVC_SEEN_SESSIONS;
	if (c->nseen < RDVC_SEEN_SESSIONS)
		c->nseen++;
	if (c->id.role == RDV_ROLE_INITIATOR && c->introduced) {
		/* Logged in again: same tunnel, a new relay session. */
		if (c->ops->relogin != NULL)
			c->ops->relogin(c->ctx, &in);
	} else {
		c->introduced = c->id.role == RDV_ROLE_INITIATOR;
		c->ops->intro(c->ctx, &in);
	}
	sodium_memzero(&in, sizeof(in));
}

static void
on_error(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct rdv_error e;
	uint8_t ref[RDV_NONCE_LEN];
	char msg[128];

	if (rdv_parse_error(p, n, &e, NULL) == -1)
		return;
	if (e.code == RDV_ERR_NO_LOGIN) {
		if (c->state != RDVC_LOGGED_IN || !c->have_login)
			return;
		rdv_error_ref_login(ref, c->login_id);
		if (memcmp(ref, e.ref, sizeof(ref)) != 0)
			return;
		log_info("the rendezvous server forgot this login (restarted?); logging in again");
		rdvc_start(c, now);
		return;
	}
	if ((c->state != RDVC_HELLO && c->state != RDVC_AUTH) ||
	    memcmp(e.ref, c->cnonce, RDV_NONCE_LEN) != 0)
		return;
	if (e.code == RDV_ERR_BAD_AUTH && c->state == RDVC_AUTH && !c->auth_retried) {
		/* The challenge may come from a server that restarted since:
		 * start over once with a new HELLO before giving up. */
		c->auth_retried = 1;
		send_hello(c, now);
		return;
	}
	if (e.code == RDV_ERR_RATE) {
		c->next_ms = now + RETRY_MAX_MS / 6;
		return; /* try again later, from HELLO */
	}
	snprintf(msg, sizeof(msg), "%s", rdv_error_str(e.code));
	if (c->introduced) {
		/* The tunnel does not depend on the server: a refused new
		 * login (the target logging in again, say) is tried later. */
		log_info("logging in again refused (%s); trying again in %u s", msg,
			 RETRY_MAX_MS / 1000);
		c->next_ms = now + RETRY_MAX_MS;
		return;
	}
	fail(c, e.code, msg);
}

void
rdvc_input(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now)
{
	switch (rdv_msg_type(p, n)) {
	case RDV_CHALLENGE:
		on_challenge(c, p, n, now);
		break;
	case RDV_AUTH_OK:
		on_auth_ok(c, p, n, now);
		break;
	case RDV_KA_ACK:
		on_ka_ack(c, p, n, now);
		break;
	case RDV_INTRO:
		on_intro(c, p, n, now);
		break;
	case RDV_ERROR:
		on_error(c, p, n, now);
		break;
	default:
		break; /* not for a client: dropped */
	}
}

uint64_t
rdvc_next_timeout(const struct rdvc *c)
{
	return c->next_ms;
}

void
rdvc_on_timer(struct rdvc *c, uint64_t now)
{
	if (now < c->next_ms)
		return;
	switch (c->state) {
	case RDVC_HELLO:
	case RDVC_AUTH:
		if (c->max_tries && !c->introduced && c->tries >= c->max_tries) {
			fail(c, 0, "no answer from the rendezvous server");
			return;
		}
		/* A lost CHALLENGE, AUTH_OK or INTRO: start over with a fresh nonce
		 * (an AUTH sent twice would be refused as a replay). */
		send_hello(c, now);
		break;
	case RDVC_LOGGED_IN:
		if (now - c->last_heard_ms > (uint64_t)KA_MISSES * c->keepalive_s * 1000u) {
			log_info("no answer from the rendezvous server for %u s; logging in again",
				 KA_MISSES * c->keepalive_s);
			rdvc_start(c, now);
			return;
		}
		send_keepalive(c, now);
		break;
	default:
		c->next_ms = UINT64_MAX;
		break;
	}
}

int
rdvc_logged_in(const struct rdvc *c)
{
	return c->state == RDVC_LOGGED_IN && c->have_login;
}

int
rdvc_login_id(const struct rdvc *c, uint8_t id[RDV_LOGIN_ID_LEN])
{
	if (!rdvc_logged_in(c))
		return -1;
	memcpy(id, c->login_id, RDV_LOGIN_ID_LEN);
	return 0;
}

int
rdvc_build_relay(const struct rdvc *c, uint8_t *out, size_t cap,
		 const uint8_t sid[RDV_SESSION_ID_LEN], uint64_t seq, const uint8_t *inner,
		 size_t n)
{
	struct rdv_relay m;

	if (!rdvc_logged_in(c))
		return -1;
	memcpy(m.login_id, c->login_id, sizeof(m.login_id));
	memcpy(m.session_id, sid, sizeof(m.session_id));
	m.seq = seq;
	m.inner = inner;
	m.inner_len = n;
	return rdv_build_relay(out, cap, &m, c->klogin);
}

int
rdvc_open_relayed(const struct rdvc *c, const uint8_t *p, size_t n, struct rdv_relayed *m,
		  const char **why)
{
	if (!rdvc_logged_in(c)) {
		if (why != NULL)
			*why = "not logged in to the rendezvous server";
		return -1;
	}
	if (rdv_parse_relayed(p, n, m, c->klogin, why) == -1)
		return -1;
	if (memcmp(m->login_id, c->login_id, sizeof(m->login_id)) != 0) {
		if (why != NULL)
			*why = "for another login (an old one?)";
		return -1;
	}
	return 0;
}

void
rdvc_wipe(struct rdvc *c)
{
	sodium_memzero(c->kclient, sizeof(c->kclient));
	sodium_memzero(c->klogin, sizeof(c->klogin));
}
