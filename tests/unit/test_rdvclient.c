/* Tests for worker/rdvclient: the client side of the rendezvous protocol
 * (docs/PROTOCOL.md section 3), driven by a fake server built from
 * common/rdvwire (it builds CHALLENGE, AUTH_OK, KA_ACK, INTRO and ERROR and
 * parses and authenticates what the client sends) and a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "common/keys.h"
#include "common/rdvwire.h"
#include "common/uid.h"
#include "worker/rdvclient.h"

#define T0	 1000000u /* the fake clock's start, in ms */
#define MAXSENT	 256
#define USER	 "yourname@example.com"
#define TGT_UID	 "80:00:00:00:01:00:0A:C2"
#define SEED_UID "80:00:00:00:00:00:00:F1"

/* What the client did: every datagram it sent and every callback. */
struct fake {
	uint8_t sent[MAXSENT][RDV_MAX_DGRAM];
	size_t sentlen[MAXSENT];
	unsigned nsent;
	unsigned nregistered;
	struct rdv_addr observed;
	unsigned nintro;
	struct rdv_intro intro; /* the last one handed up */
	unsigned nrelogin;
	struct rdv_intro relogin; /* the last INTRO of a later login */
	unsigned nfailed;
	int fail_code;
	char fail_msg[256];
};

/* The fake server's view of one login. */
struct srv {
	uint8_t kclient[RDV_SECRET_LEN];
	size_t klen;
	struct rdv_challenge ch;
	uint8_t klogin[RDV_SECRET_LEN];
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	struct rdv_auth auth; /* the last AUTH received */
};

/* One test's world. */
struct world {
	struct fake f;
	struct srv s;
	struct rdvc c;
	struct rdv_cands cands;
	p2p_uid uid;
	uint64_t now;
};

/* ---- the client's callbacks ---- */

static void
cb_send(void *ctx, const uint8_t *p, size_t n)
{
	struct fake *f = ctx;

	assert_true(n > 0 && n <= RDV_MAX_DGRAM);
	assert_true(f->nsent < MAXSENT);
	memcpy(f->sent[f->nsent], p, n);
	f->sentlen[f->nsent] = n;
	f->nsent++;
}

static void
cb_registered(void *ctx, const struct rdv_addr *observed)
{
	struct fake *f = ctx;

	f->nregistered++;
	f->observed = *observed;
}

static void
cb_intro(void *ctx, const struct rdv_intro *in)
{
	struct fake *f = ctx;

	f->nintro++;
	f->intro = *in;
}

static void
cb_relogin(void *ctx, const struct rdv_intro *in)
{
	struct fake *f = ctx;

	f->nrelogin++;
	f->relogin = *in;
}

static void
cb_failed(void *ctx, int code, const char *msg)
{
	struct fake *f = ctx;

	f->nfailed++;
	f->fail_code = code;
	snprintf(f->fail_msg, sizeof(f->fail_msg), "%s", msg != NULL ? msg : "(null)");
}

static const struct rdvc_ops ops = {
    .send = cb_send,
    .registered = cb_registered,
    .intro = cb_intro,
    .failed = cb_failed,
    .relogin = cb_relogin,
};

/* ---- helpers ---- */

static struct rdv_addr
addr4(const char *ip, uint16_t port)
{
	struct rdv_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.port = port;
	assert_int_equal(inet_pton(AF_INET, ip, a.ip), 1);
	return a;
}

static const uint8_t *
last(const struct world *w)
{
	assert_true(w->f.nsent > 0);
	return w->f.sent[w->f.nsent - 1];
}

static size_t
lastlen(const struct world *w)
{
	assert_true(w->f.nsent > 0);
	return w->f.sentlen[w->f.nsent - 1];
}

static int
last_type(const struct world *w)
{
	return rdv_msg_type(last(w), lastlen(w));
}

static void
feed(struct world *w, const uint8_t *p, size_t n)
{
	rdvc_input(&w->c, p, n, w->now);
}

/* Advance the clock to the client's next timeout and run it. */
static void
fire(struct world *w)
{
	uint64_t t = rdvc_next_timeout(&w->c);

	assert_true(t != UINT64_MAX);
	assert_true(t >= w->now);
	w->now = t;
	rdvc_on_timer(&w->c, w->now);
}

static void
world_cands(struct world *w)
{
	struct rdv_addr a = addr4("192.0.2.10", 40000), b = addr4("198.51.100.10", 40000);

	rdv_cands_clear(&w->cands);
	assert_int_equal(rdv_cands_add(&w->cands, &a), 0);
	assert_int_equal(rdv_cands_add(&w->cands, &b), 0);
}

static void
world_target(struct world *w)
{
	uint8_t kdev[RDV_SECRET_LEN];

	memset(w, 0, sizeof(*w));
	w->now = T0;
	assert_int_equal(uid_parse(TGT_UID, &w->uid, NULL), 0);
	rdv_device_key(kdev, "0123456789abcdef-target-secret");
	rdvc_init_target(&w->c, &ops, &w->f, &w->uid, kdev);
	memcpy(w->s.kclient, kdev, sizeof(kdev));
	w->s.klen = RDV_SECRET_LEN;
	world_cands(w);
	rdvc_set_cands(&w->c, &w->cands);
	sodium_memzero(kdev, sizeof(kdev));
}

static void
world_initiator(struct world *w)
{
	const char *why = NULL;
	uint8_t h[AUTH_HASH_LEN];

	memset(w, 0, sizeof(*w));
	w->now = T0;
	assert_int_equal(uid_parse(SEED_UID, &w->uid, NULL), 0);
	randombytes_buf(h, sizeof(h));
	assert_int_equal(rdvc_init_initiator(&w->c, &ops, &w->f, USER, h, &w->uid, 2, &why), 0);
	memcpy(w->s.kclient, h, sizeof(h));
	w->s.klen = sizeof(h);
	world_cands(w);
	rdvc_set_cands(&w->c, &w->cands);
}

/* The last datagram is a HELLO from this client; returns its cnonce. */
static void
expect_hello(const struct world *w, uint8_t cnonce[RDV_NONCE_LEN])
{
	struct rdv_hello h;
	const char *why = NULL;

	assert_int_equal(last_type(w), RDV_HELLO);
	assert_int_equal(lastlen(w), RDV_HELLO_LEN);
	assert_int_equal(rdv_parse_hello(last(w), lastlen(w), &h, &why), 0);
	assert_int_equal(h.id.role, w->c.id.role);
	if (h.id.role == RDV_ROLE_TARGET) {
		assert_int_equal(h.id.len, UID_LEN);
		assert_memory_equal(h.id.b, w->uid.b, UID_LEN);
	} else {
		assert_int_equal(h.id.len, strlen(USER));
		assert_memory_equal(h.id.b, USER, strlen(USER));
	}
	if (cnonce != NULL)
		memcpy(cnonce, h.cnonce, RDV_NONCE_LEN);
}

/* Answer the last HELLO with a CHALLENGE. */
static void
give_challenge(struct world *w)
{
	uint8_t buf[RDV_MAX_DGRAM];
	int n;

	expect_hello(w, w->s.ch.cnonce);
	w->s.ch.ts = 4242;
	randombytes_buf(w->s.ch.snonce, sizeof(w->s.ch.snonce));
	n = rdv_build_challenge(buf, sizeof(buf), &w->s.ch);
	assert_int_equal(n, RDV_CHALLENGE_LEN);
	feed(w, buf, (size_t)n);
}

/* The last datagram is an AUTH answering the server's CHALLENGE, with a
 * proof that verifies; the server derives K_login from it. */
static void
expect_auth(struct world *w)
{
	const char *why = NULL;

	assert_int_equal(last_type(w), RDV_AUTH);
	assert_int_equal(rdv_parse_auth(last(w), lastlen(w), &w->s.auth, &why), 0);
	assert_int_equal(rdv_verify_tail_mac(last(w), lastlen(w), w->s.kclient, w->s.klen), 0);
	assert_memory_equal(w->s.auth.cnonce, w->s.ch.cnonce, RDV_NONCE_LEN);
	assert_memory_equal(w->s.auth.snonce, w->s.ch.snonce, RDV_NONCE_LEN);
	assert_int_equal(w->s.auth.ts, w->s.ch.ts);
	assert_int_equal(w->s.auth.cands.n, w->cands.n);
	for (unsigned i = 0; i < w->cands.n; i++)
		assert_true(rdv_addr_equal(&w->s.auth.cands.a[i], &w->cands.a[i]));
	if (w->c.id.role == RDV_ROLE_INITIATOR) {
		assert_memory_equal(w->s.auth.uid.b, w->uid.b, UID_LEN);
		assert_int_equal(w->s.auth.mode, 2);
	}
	rdv_login_key(w->s.klogin, w->s.kclient, w->s.klen, w->s.ch.cnonce, w->s.ch.snonce);
}

static void
give_auth_ok_key(struct world *w, uint16_t keepalive, const struct rdv_addr *obs,
		 const uint8_t *cnonce, const uint8_t *key)
{
	struct rdv_auth_ok ok;
	uint8_t buf[RDV_MAX_DGRAM];
	int n;

	memset(&ok, 0, sizeof(ok));
	memcpy(ok.cnonce, cnonce, RDV_NONCE_LEN);
	memcpy(ok.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	ok.keepalive = keepalive;
	ok.observed = *obs;
	n = rdv_build_auth_ok(buf, sizeof(buf), &ok, key);
	assert_true(n > 0);
	feed(w, buf, (size_t)n);
}

static void
give_auth_ok(struct world *w, uint16_t keepalive, const struct rdv_addr *obs)
{
	give_auth_ok_key(w, keepalive, obs, w->s.ch.cnonce, w->s.klogin);
}

/* A complete target login: HELLO, CHALLENGE, AUTH, AUTH_OK. */
static void
target_login(struct world *w, uint16_t keepalive)
{
	struct rdv_addr obs = addr4("203.0.113.3", 40000);
	unsigned before = w->f.nregistered;

	if (w->f.nsent == 0 || last_type(w) != RDV_HELLO)
		rdvc_start(&w->c, w->now);
	give_challenge(w);
	expect_auth(w);
	randombytes_buf(w->s.login_id, sizeof(w->s.login_id));
	give_auth_ok(w, keepalive, &obs);
	assert_int_equal(w->f.nregistered, before + 1);
}

static void
give_error(struct world *w, const uint8_t ref[RDV_NONCE_LEN], uint8_t code)
{
	uint8_t buf[RDV_MAX_DGRAM];
	int n = rdv_build_error(buf, sizeof(buf), ref, code);

	assert_int_equal(n, RDV_ERROR_LEN);
	feed(w, buf, (size_t)n);
}

static void
give_ka_ack(struct world *w, uint64_t seq, const struct rdv_addr *obs)
{
	struct rdv_ka_ack k;
	uint8_t buf[RDV_MAX_DGRAM];
	int n;

	memset(&k, 0, sizeof(k));
	memcpy(k.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	k.seq = seq;
	k.observed = *obs;
	n = rdv_build_ka_ack(buf, sizeof(buf), &k, w->s.klogin);
	assert_true(n > 0);
	feed(w, buf, (size_t)n);
}

/* An INTRO for session sid, sealed under key, naming login_id. */
static int
build_intro(struct world *w, uint8_t *buf, size_t cap, const uint8_t sid[RDV_SESSION_ID_LEN],
	    const uint8_t *key, uint8_t secret_byte)
{
	struct rdv_intro m;
	struct rdv_addr a = addr4("203.0.113.2", 41000), b = addr4("192.0.2.10", 41000);
	p2p_uid peer;
	const char *why = NULL;

	memset(&m, 0, sizeof(m));
	memcpy(m.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	memcpy(m.session_id, sid, RDV_SESSION_ID_LEN);
	if (w->c.id.role == RDV_ROLE_INITIATOR) {
		assert_int_equal(uid_parse(SEED_UID, &peer, NULL), 0);
		rdv_id_target(&m.peer, &peer);
	} else {
		assert_int_equal(rdv_id_initiator(&m.peer, USER, &why), 0);
	}
	m.mode = 2;
	rdv_cands_clear(&m.cands);
	assert_int_equal(rdv_cands_add(&m.cands, &a), 0);
	assert_int_equal(rdv_cands_add(&m.cands, &b), 0);
	memset(m.secret, secret_byte, sizeof(m.secret));
	return rdv_build_intro(buf, cap, &m, key);
}

static void
give_intro(struct world *w, const uint8_t sid[RDV_SESSION_ID_LEN], const uint8_t *key)
{
	uint8_t buf[RDV_MAX_DGRAM];
	int n = build_intro(w, buf, sizeof(buf), sid, key, 0x5a);

	assert_true(n > 0);
	feed(w, buf, (size_t)n);
}

/* The last datagram is an INTRO_ACK for sid under K_login. */
static void
expect_intro_ack(const struct world *w, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	struct rdv_intro_ack a;
	const char *why = NULL;

	assert_int_equal(last_type(w), RDV_INTRO_ACK);
	assert_int_equal(rdv_parse_intro_ack(last(w), lastlen(w), &a, &why), 0);
	assert_int_equal(rdv_verify_tail_mac(last(w), lastlen(w), w->s.klogin, RDV_SECRET_LEN), 0);
	assert_memory_equal(a.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(a.session_id, sid, RDV_SESSION_ID_LEN);
}

/* Initiator: HELLO, CHALLENGE, AUTH; the server picks a login_id. */
static void
initiator_auth(struct world *w)
{
	rdvc_start(&w->c, w->now);
	give_challenge(w);
	expect_auth(w);
	randombytes_buf(w->s.login_id, sizeof(w->s.login_id));
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(keys_init(), 0);
	return 0;
}

/* ---- target: login, keep-alives, re-login ---- */

static void
test_target_login(void **state)
{
	struct world w;
	struct rdv_addr obs = addr4("203.0.113.3", 40000);

	(void)state;
	world_target(&w);
	assert_int_equal(rdvc_next_timeout(&w.c), UINT64_MAX);
	rdvc_start(&w.c, w.now);
	assert_int_equal(w.f.nsent, 1);
	expect_hello(&w, NULL);
	assert_int_equal(rdvc_next_timeout(&w.c), T0 + 1000);

	w.now += 30;
	give_challenge(&w);
	assert_int_equal(w.f.nsent, 2);
	expect_auth(&w);
	assert_int_equal(w.f.nregistered, 0);

	w.now += 30;
	randombytes_buf(w.s.login_id, sizeof(w.s.login_id));
	give_auth_ok(&w, 20, &obs);
	assert_int_equal(w.f.nregistered, 1);
	assert_true(rdv_addr_equal(&w.f.observed, &obs));
	assert_int_equal(w.f.nsent, 2); /* AUTH_OK is not answered */
	assert_int_equal(rdvc_next_timeout(&w.c), w.now + 20000);

	/* A duplicate AUTH_OK does not register twice. */
	give_auth_ok(&w, 20, &obs);
	assert_int_equal(w.f.nregistered, 1);
	/* Neither does a late CHALLENGE start another AUTH. */
	{
		uint8_t buf[RDV_MAX_DGRAM];
		int n = rdv_build_challenge(buf, sizeof(buf), &w.s.ch);
		feed(&w, buf, (size_t)n);
		assert_int_equal(w.f.nsent, 2);
	}
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

static void
test_target_auth_ok_forged(void **state)
{
	struct world w;
	struct rdv_addr obs = addr4("203.0.113.3", 40000);
	uint8_t wrongkey[RDV_SECRET_LEN], wrongnonce[RDV_NONCE_LEN];

	(void)state;
	world_target(&w);
	rdvc_start(&w.c, w.now);
	give_challenge(&w);
	expect_auth(&w);
	randombytes_buf(w.s.login_id, sizeof(w.s.login_id));
	randombytes_buf(wrongkey, sizeof(wrongkey));
	randombytes_buf(wrongnonce, sizeof(wrongnonce));
	give_auth_ok_key(&w, 20, &obs, w.s.ch.cnonce, wrongkey);
	assert_int_equal(w.f.nregistered, 0);
	give_auth_ok_key(&w, 20, &obs, wrongnonce, w.s.klogin);
	assert_int_equal(w.f.nregistered, 0);
	give_auth_ok(&w, 20, &obs);
	assert_int_equal(w.f.nregistered, 1);
	rdvc_wipe(&w.c);
}

static void
test_target_keepalives(void **state)
{
	struct world w;
	struct rdv_keepalive k;
	const char *why = NULL;
	uint64_t login_ms;

	(void)state;
	world_target(&w);
	target_login(&w, 20);
	login_ms = w.now;

	/* Nothing before the interval. */
	rdvc_on_timer(&w.c, w.now + 19999);
	assert_int_equal(w.f.nsent, 2);
	for (uint64_t i = 1; i <= 12; i++) {
		struct rdv_addr obs = addr4("203.0.113.3", (uint16_t)(40000 + i));
		fire(&w);
		assert_int_equal(w.now, login_ms + i * 20000);
		assert_int_equal(w.f.nsent, 2 + i);
		assert_int_equal(last_type(&w), RDV_KEEPALIVE);
		assert_int_equal(rdv_parse_keepalive(last(&w), lastlen(&w), &k, &why), 0);
		assert_int_equal(
		    rdv_verify_tail_mac(last(&w), lastlen(&w), w.s.klogin, RDV_SECRET_LEN), 0);
		assert_memory_equal(k.login_id, w.s.login_id, RDV_LOGIN_ID_LEN);
		assert_int_equal(k.seq, i);
		assert_int_equal(k.cands.n, w.cands.n);
		w.now += 40;
		give_ka_ack(&w, k.seq, &obs);
		assert_true(rdv_addr_equal(&w.c.observed, &obs));
	}
	/* Answered keep-alives never lead to a new login. */
	assert_int_equal(w.f.nregistered, 1);
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

static void
ka_interval(unsigned cap, uint16_t server_ka, uint64_t want_ms)
{
	struct world w;

	world_target(&w);
	rdvc_set_keepalive_cap(&w.c, cap);
	target_login(&w, server_ka);
	assert_int_equal(rdvc_next_timeout(&w.c), w.now + want_ms);
	for (int i = 0; i < 3; i++) {
		uint64_t before = w.now;
		fire(&w);
		assert_int_equal(w.now - before, want_ms);
		assert_int_equal(last_type(&w), RDV_KEEPALIVE);
		give_ka_ack(&w, (uint64_t)i + 1, &w.c.observed);
	}
	rdvc_wipe(&w.c);
}

static void
test_target_keepalive_cap(void **state)
{
	(void)state;
	ka_interval(5, 20, 5000);   /* our cap is shorter: it wins */
	ka_interval(60, 20, 20000); /* the server asks for shorter: it wins */
	ka_interval(0, 20, 20000);  /* no cap */
	ka_interval(20, 20, 20000);
}

static void
test_target_error7_relogin(void **state)
{
	struct world w;
	uint8_t ref[RDV_NONCE_LEN], other[RDV_LOGIN_ID_LEN], first[RDV_NONCE_LEN], again[16];
	unsigned sent;

	(void)state;
	world_target(&w);
	target_login(&w, 15);
	memcpy(first, w.s.ch.cnonce, sizeof(first));
	sent = w.f.nsent;

	/* ERROR 7 naming another login: ignored. */
	memcpy(other, w.s.login_id, sizeof(other));
	other[0] ^= 1;
	rdv_error_ref_login(ref, other);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	assert_int_equal(w.f.nsent, sent);
	/* ERROR 7 with our cnonce as ref (not the login form): ignored. */
	give_error(&w, first, RDV_ERR_NO_LOGIN);
	assert_int_equal(w.f.nsent, sent);

	/* ERROR 7 for our login: a new login at once, with a fresh cnonce. */
	w.now += 100;
	rdv_error_ref_login(ref, w.s.login_id);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	assert_int_equal(w.f.nsent, sent + 1);
	expect_hello(&w, again);
	assert_memory_not_equal(again, first, RDV_NONCE_LEN);
	assert_int_equal(w.f.nfailed, 0);
	target_login(&w, 15);
	assert_int_equal(w.f.nregistered, 2);
	rdvc_wipe(&w.c);
}

static void
test_target_ka_misses_relogin(void **state)
{
	struct world w;
	uint64_t login_ms;
	struct rdv_ka_ack bad;
	uint8_t buf[RDV_MAX_DGRAM];
	int n;

	(void)state;
	world_target(&w);
	target_login(&w, 10);
	login_ms = w.now;
	/* Three keep-alives go unanswered (a forged KA_ACK and one for another
	 * login do not count as answers)... */
	for (int i = 1; i <= 3; i++) {
		fire(&w);
		assert_int_equal(w.now, login_ms + (uint64_t)i * 10000);
		assert_int_equal(last_type(&w), RDV_KEEPALIVE);
		memset(&bad, 0, sizeof(bad));
		memcpy(bad.login_id, w.s.login_id, RDV_LOGIN_ID_LEN);
		bad.seq = (uint64_t)i;
		bad.observed = addr4("203.0.113.3", 40000);
		if (i == 1) {
			uint8_t k[RDV_SECRET_LEN];
			randombytes_buf(k, sizeof(k));
			n = rdv_build_ka_ack(buf, sizeof(buf), &bad, k);
		} else {
			bad.login_id[0] ^= 0xff;
			n = rdv_build_ka_ack(buf, sizeof(buf), &bad, w.s.klogin);
		}
		assert_true(n > 0);
		feed(&w, buf, (size_t)n);
	}
	/* ...so the next timer logs in again instead of a fourth. */
	fire(&w);
	assert_int_equal(w.now, login_ms + 40000);
	expect_hello(&w, NULL);
	assert_int_equal(w.f.nfailed, 0);
	target_login(&w, 10);
	assert_int_equal(w.f.nregistered, 2);
	rdvc_wipe(&w.c);
}

static void
test_target_intro(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], buf[RDV_MAX_DGRAM];
	unsigned sent;
	uint64_t next;
	int n;

	(void)state;
	world_target(&w);
	target_login(&w, 15);
	next = rdvc_next_timeout(&w.c);
	randombytes_buf(sid, sizeof(sid));
	sent = w.f.nsent;
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nintro, 1);
	assert_int_equal(w.f.nsent, sent + 1);
	expect_intro_ack(&w, sid);
	assert_int_equal(w.f.intro.peer.role, RDV_ROLE_INITIATOR);
	/* The server repeats it: acknowledged every time, handed up once. */
	for (int i = 0; i < 4; i++) {
		give_intro(&w, sid, w.s.klogin);
		expect_intro_ack(&w, sid);
	}
	assert_int_equal(w.f.nsent, sent + 5);
	assert_int_equal(w.f.nintro, 1);
	/* A target stays logged in: its keep-alive schedule is unchanged. */
	assert_int_equal(rdvc_next_timeout(&w.c), next);

	/* An INTRO naming another login is neither acknowledged nor used. */
	w.s.login_id[0] ^= 1;
	randombytes_buf(sid, sizeof(sid));
	n = build_intro(&w, buf, sizeof(buf), sid, w.s.klogin, 1);
	w.s.login_id[0] ^= 1;
	feed(&w, buf, (size_t)n);
	assert_int_equal(w.f.nsent, sent + 5);
	assert_int_equal(w.f.nintro, 1);
	rdvc_wipe(&w.c);
}

/* Two initiators at once: the server repeats the first INTRO (its INTRO_ACK
 * was lost) after the second arrived. Each session is handed up once. */
static void
test_target_intro_repeat_interleaved(void **state)
{
	struct world w;
	uint8_t a[RDV_SESSION_ID_LEN], b[RDV_SESSION_ID_LEN];

	(void)state;
	world_target(&w);
	target_login(&w, 15);
	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	give_intro(&w, a, w.s.klogin);
	expect_intro_ack(&w, a);
	give_intro(&w, b, w.s.klogin);
	expect_intro_ack(&w, b);
	assert_int_equal(w.f.nintro, 2);
	give_intro(&w, a, w.s.klogin); /* the repeat of a */
	expect_intro_ack(&w, a);
	assert_int_equal(w.f.nintro, 2);
	rdvc_wipe(&w.c);
}

/* ---- initiator ---- */

static void
test_initiator_intro(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN];
	unsigned sent;

	(void)state;
	world_initiator(&w);
	rdvc_start(&w.c, w.now);
	assert_int_equal(w.f.nsent, 1);
	expect_hello(&w, NULL);
	give_challenge(&w);
	expect_auth(&w);
	randombytes_buf(w.s.login_id, sizeof(w.s.login_id));
	randombytes_buf(sid, sizeof(sid));
	sent = w.f.nsent;
	w.now += 50;
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nintro, 1);
	assert_memory_equal(w.f.intro.session_id, sid, RDV_SESSION_ID_LEN);
	assert_memory_equal(w.f.intro.login_id, w.s.login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(w.f.intro.peer.role, RDV_ROLE_TARGET);
	assert_memory_equal(w.f.intro.peer.b, w.uid.b, UID_LEN);
	assert_int_equal(w.f.intro.mode, 2);
	assert_int_equal(w.f.intro.cands.n, 2);
	for (size_t i = 0; i < RDV_SECRET_LEN; i++)
		assert_int_equal(w.f.intro.secret[i], 0x5a);
	assert_int_equal(w.f.nsent, sent + 1);
	expect_intro_ack(&w, sid);
	/* Introduced: the login is kept alive (the server relays only for
	 * living logins), first keep-alive after the default 15 s. */
	assert_int_equal(rdvc_next_timeout(&w.c), w.now + 15000);
	assert_int_equal(rdvc_logged_in(&w.c), 1);

	/* A repeated INTRO is acknowledged again but not handed up twice. */
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nsent, sent + 2);
	expect_intro_ack(&w, sid);
	assert_int_equal(w.f.nintro, 1);
	assert_int_equal(w.f.nrelogin, 0);
	assert_int_equal(w.f.nfailed, 0);
	rdvc_on_timer(&w.c, w.now + 14999);
	assert_int_equal(w.f.nsent, sent + 2);
	rdvc_wipe(&w.c);
}

static void
test_initiator_intro_wrong_key(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], k[RDV_SECRET_LEN];
	unsigned sent;
	uint64_t next;

	(void)state;
	world_initiator(&w);
	initiator_auth(&w);
	next = rdvc_next_timeout(&w.c);
	sent = w.f.nsent;
	randombytes_buf(sid, sizeof(sid));
	randombytes_buf(k, sizeof(k));
	give_intro(&w, sid, k);
	assert_int_equal(w.f.nintro, 0);
	assert_int_equal(w.f.nsent, sent); /* no INTRO_ACK for what does not open */
	assert_int_equal(rdvc_next_timeout(&w.c), next);
	/* The real one still works. */
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nintro, 1);
	expect_intro_ack(&w, sid);
	rdvc_wipe(&w.c);
}

/* The last datagram is a KEEPALIVE under the current K_login with this seq. */
static void
expect_keepalive(const struct world *w, uint64_t seq)
{
	struct rdv_keepalive k;
	const char *why = NULL;

	assert_int_equal(last_type(w), RDV_KEEPALIVE);
	assert_int_equal(rdv_parse_keepalive(last(w), lastlen(w), &k, &why), 0);
	assert_int_equal(rdv_verify_tail_mac(last(w), lastlen(w), w->s.klogin, RDV_SECRET_LEN), 0);
	assert_memory_equal(k.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(k.seq, seq);
}

/* An introduced initiator answering a new HELLO: CHALLENGE, AUTH, and the
 * INTRO of a new session goes to relogin, not to intro. */
static void
initiator_relogin(struct world *w, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	unsigned nintro = w->f.nintro, nrelogin = w->f.nrelogin;

	give_challenge(w);
	expect_auth(w);
	randombytes_buf(w->s.login_id, sizeof(w->s.login_id));
	give_intro(w, sid, w->s.klogin);
	expect_intro_ack(w, sid);
	assert_int_equal(w->f.nintro, nintro);
	assert_int_equal(w->f.nrelogin, nrelogin + 1);
	assert_memory_equal(w->f.relogin.session_id, sid, RDV_SESSION_ID_LEN);
	assert_memory_equal(w->f.relogin.login_id, w->s.login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(rdvc_logged_in(&w->c), 1);
}

/* Introduced initiator (behaviour changed for relay, PROTOCOL.md section 9):
 * it keeps its login alive with KEEPALIVE every 15 s (or its own shorter
 * setting); three unanswered ones start a new login, whose INTRO is a new
 * relay session for the same tunnel, never a second intro. */
static void
test_initiator_keepalives(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], sid2[RDV_SESSION_ID_LEN], old[RDV_LOGIN_ID_LEN];
	uint64_t t;

	(void)state;
	world_initiator(&w);
	rdvc_set_keepalive_cap(&w.c, 5);
	initiator_auth(&w);
	randombytes_buf(sid, sizeof(sid));
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nintro, 1);
	t = w.now;
	for (uint64_t i = 1; i <= 3; i++) {
		struct rdv_addr obs = addr4("203.0.113.9", (uint16_t)(50000 + i));
		fire(&w);
		assert_int_equal(w.now, t + i * 5000);
		expect_keepalive(&w, i);
		give_ka_ack(&w, i, &obs);
		assert_true(rdv_addr_equal(&w.c.observed, &obs));
	}
	/* Three unanswered keep-alives, then a new login at the fourth turn. */
	t = w.now;
	for (uint64_t i = 4; i <= 6; i++) {
		fire(&w);
		expect_keepalive(&w, i);
	}
	memcpy(old, w.s.login_id, sizeof(old));
	fire(&w);
	assert_int_equal(w.now, t + 20000);
	expect_hello(&w, NULL);
	assert_int_equal(rdvc_logged_in(&w.c), 0);
	randombytes_buf(sid2, sizeof(sid2));
	initiator_relogin(&w, sid2);
	assert_memory_not_equal(w.s.login_id, old, RDV_LOGIN_ID_LEN);
	/* Keep-alives go on under the new login, seq from 1 again. */
	fire(&w);
	expect_keepalive(&w, 1);
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

static void
test_initiator_error7_relogin(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], ref[RDV_NONCE_LEN], other[RDV_LOGIN_ID_LEN];
	unsigned sent;

	(void)state;
	world_initiator(&w);
	initiator_auth(&w);
	randombytes_buf(sid, sizeof(sid));
	give_intro(&w, sid, w.s.klogin);
	sent = w.f.nsent;
	/* For another login: ignored. */
	memcpy(other, w.s.login_id, sizeof(other));
	other[7] ^= 0x80;
	rdv_error_ref_login(ref, other);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	assert_int_equal(w.f.nsent, sent);
	/* For ours (the server restarted): a new login at once. */
	rdv_error_ref_login(ref, w.s.login_id);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	assert_int_equal(w.f.nsent, sent + 1);
	expect_hello(&w, NULL);
	randombytes_buf(sid, sizeof(sid));
	initiator_relogin(&w, sid);
	assert_int_equal(w.f.nintro, 1);
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

/* A tunnel does not depend on the server: an introduced initiator that
 * cannot log in again (server down, target offline for a while) keeps
 * trying, backing off, and never reports a failure. */
static void
test_initiator_relogin_never_fails(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], ref[RDV_NONCE_LEN], cnonce[RDV_NONCE_LEN];
	uint64_t before;

	(void)state;
	world_initiator(&w);
	initiator_auth(&w);
	randombytes_buf(sid, sizeof(sid));
	give_intro(&w, sid, w.s.klogin);
	rdv_error_ref_login(ref, w.s.login_id);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	for (int i = 0; i < 30; i++) {
		before = w.now;
		fire(&w);
		expect_hello(&w, NULL);
		assert_true(w.now - before <= 30000);
	}
	assert_int_equal(w.now - before, 30000); /* backed off to the maximum */
	assert_int_equal(w.f.nfailed, 0);
	/* A refusal (the target is logging in again itself): later, not fatal. */
	expect_hello(&w, cnonce);
	give_error(&w, cnonce, RDV_ERR_OFFLINE);
	assert_int_equal(w.f.nfailed, 0);
	assert_int_equal(rdvc_next_timeout(&w.c), w.now + 30000);
	fire(&w);
	expect_hello(&w, NULL);
	randombytes_buf(sid, sizeof(sid));
	initiator_relogin(&w, sid);
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

/* ---- relay (section 9) ---- */

static void
test_relay_wrap(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], inner[100], out[RDV_RELAY_MAX], lid[RDV_LOGIN_ID_LEN];
	struct rdv_relay m;
	const char *why = NULL;
	int n;

	(void)state;
	world_initiator(&w);
	randombytes_buf(sid, sizeof(sid));
	randombytes_buf(inner, sizeof(inner));
	inner[0] = 0xa0;
	inner[1] = 1;
	/* Not logged in: nothing to wrap with. */
	assert_int_equal(rdvc_build_relay(&w.c, out, sizeof(out), sid, 1, inner, sizeof(inner)),
			 -1);
	assert_int_equal(rdvc_login_id(&w.c, lid), -1);
	initiator_auth(&w);
	assert_int_equal(rdvc_build_relay(&w.c, out, sizeof(out), sid, 1, inner, sizeof(inner)),
			 -1);
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(rdvc_login_id(&w.c, lid), 0);
	assert_memory_equal(lid, w.s.login_id, RDV_LOGIN_ID_LEN);

	n = rdvc_build_relay(&w.c, out, sizeof(out), sid, 7, inner, sizeof(inner));
	assert_int_equal(n, RDV_RELAY_OVERHEAD + (int)sizeof(inner));
	assert_int_equal(rdv_parse_relay(out, (size_t)n, &m, &why), 0);
	assert_int_equal(rdv_verify_tail_mac(out, (size_t)n, w.s.klogin, RDV_SECRET_LEN), 0);
	assert_memory_equal(m.login_id, w.s.login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(m.session_id, sid, RDV_SESSION_ID_LEN);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.inner_len, sizeof(inner));
	assert_memory_equal(m.inner, inner, sizeof(inner));
	/* seq 0, a non-peer inner datagram, no room: refused. */
	assert_int_equal(rdvc_build_relay(&w.c, out, sizeof(out), sid, 0, inner, sizeof(inner)),
			 -1);
	inner[0] = RDV_HELLO;
	assert_int_equal(rdvc_build_relay(&w.c, out, sizeof(out), sid, 1, inner, sizeof(inner)),
			 -1);
	inner[0] = 0x91;
	assert_int_equal(rdvc_build_relay(&w.c, out, (size_t)n - 1, sid, 1, inner, sizeof(inner)),
			 -1);
	rdvc_wipe(&w.c);
}

static int
relayed(const struct world *w, uint8_t *out, const uint8_t *login_id,
	const uint8_t sid[RDV_SESSION_ID_LEN], const uint8_t *inner, size_t n, const uint8_t *key)
{
	struct rdv_relayed m;

	memcpy(m.login_id, login_id, RDV_LOGIN_ID_LEN);
	memcpy(m.session_id, sid, RDV_SESSION_ID_LEN);
	m.inner = inner;
	m.inner_len = n;
	(void)w;
	return rdv_build_relayed(out, RDV_RELAYED_MAX, &m, key);
}

static void
test_relayed_open(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN], inner[64], out[RDV_RELAYED_MAX], other[RDV_LOGIN_ID_LEN],
	    k[RDV_SECRET_LEN], ref[RDV_NONCE_LEN];
	struct rdv_relayed m;
	const char *why = NULL;
	int n;

	(void)state;
	world_target(&w);
	randombytes_buf(sid, sizeof(sid));
	randombytes_buf(inner, sizeof(inner));
	inner[0] = 0x92;
	inner[1] = 1;
	target_login(&w, 15);
	n = relayed(&w, out, w.s.login_id, sid, inner, sizeof(inner), w.s.klogin);
	assert_true(n > 0);
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, &why), 0);
	assert_memory_equal(m.session_id, sid, RDV_SESSION_ID_LEN);
	assert_int_equal(m.inner_len, sizeof(inner));
	assert_memory_equal(m.inner, inner, sizeof(inner));
	/* Every truncation and every flipped byte is refused. */
	for (int i = 0; i < n; i++) {
		why = NULL;
		assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)i, &m, &why), -1);
		assert_non_null(why);
		out[i] ^= 0x04;
		assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, NULL), -1);
		out[i] ^= 0x04;
	}
	/* Another key; another login with our key (an old login's RELAYED). */
	randombytes_buf(k, sizeof(k));
	n = relayed(&w, out, w.s.login_id, sid, inner, sizeof(inner), k);
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, NULL), -1);
	memcpy(other, w.s.login_id, sizeof(other));
	other[3] ^= 1;
	n = relayed(&w, out, other, sid, inner, sizeof(inner), w.s.klogin);
	why = NULL;
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, &why), -1);
	assert_non_null(why);
	/* Logging in again: nothing opens until the new login is there. */
	n = relayed(&w, out, w.s.login_id, sid, inner, sizeof(inner), w.s.klogin);
	rdv_error_ref_login(ref, w.s.login_id);
	give_error(&w, ref, RDV_ERR_NO_LOGIN);
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, NULL), -1);
	target_login(&w, 15);
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, NULL), -1); /* old login */
	n = relayed(&w, out, w.s.login_id, sid, inner, sizeof(inner), w.s.klogin);
	assert_int_equal(rdvc_open_relayed(&w.c, out, (size_t)n, &m, NULL), 0);
	rdvc_wipe(&w.c);
}

static void
error_code_fails(int code, int initiator, int before_challenge)
{
	struct world w;
	uint8_t cnonce[RDV_NONCE_LEN];
	unsigned sent;

	if (initiator)
		world_initiator(&w);
	else
		world_target(&w);
	rdvc_start(&w.c, w.now);
	if (before_challenge) {
		expect_hello(&w, cnonce);
	} else {
		give_challenge(&w);
		expect_auth(&w);
		memcpy(cnonce, w.s.ch.cnonce, sizeof(cnonce));
	}
	if (code == RDV_ERR_BAD_AUTH && !before_challenge) {
		/* PROTOCOL.md 3: the first ERROR 2 after a CHALLENGE may come from a
		 * restarted server: one fresh start before giving up. */
		give_error(&w, cnonce, (uint8_t)code);
		assert_int_equal(w.f.nfailed, 0);
		expect_hello(&w, NULL);
		give_challenge(&w);
		expect_auth(&w);
		memcpy(cnonce, w.s.ch.cnonce, sizeof(cnonce));
	}
	sent = w.f.nsent;
	give_error(&w, cnonce, (uint8_t)code);
	assert_int_equal(w.f.nfailed, 1);
	assert_int_equal(w.f.fail_code, code);
	assert_string_equal(w.f.fail_msg, rdv_error_str(code));
	assert_int_equal(rdvc_next_timeout(&w.c), UINT64_MAX);
	/* Failed for good: no more sends, and a second ERROR is not reported. */
	rdvc_on_timer(&w.c, w.now + 600000);
	give_error(&w, cnonce, (uint8_t)code);
	assert_int_equal(w.f.nsent, sent);
	assert_int_equal(w.f.nfailed, 1);
	assert_int_equal(w.f.nintro + w.f.nregistered, 0);
	rdvc_wipe(&w.c);
}

static void
test_error_codes(void **state)
{
	static const int codes[] = {1, 2, 3, 4, 6};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		error_code_fails(codes[i], 1, 0);
		error_code_fails(codes[i], 1, 1);
	}
	error_code_fails(RDV_ERR_UNKNOWN_ID, 0, 0);
	error_code_fails(RDV_ERR_BAD_AUTH, 0, 0);
	error_code_fails(RDV_ERR_MALFORMED, 0, 1);
}

static void
test_error_foreign_ignored(void **state)
{
	struct world w;
	uint8_t ref[RDV_NONCE_LEN], old[RDV_NONCE_LEN];
	uint8_t sid[RDV_SESSION_ID_LEN];

	(void)state;
	world_initiator(&w);
	rdvc_start(&w.c, w.now);
	expect_hello(&w, old);
	/* The first HELLO is lost: the ERROR for its cnonce comes too late. */
	fire(&w);
	give_challenge(&w);
	expect_auth(&w);
	for (int code = 1; code <= 7; code++) {
		randombytes_buf(ref, sizeof(ref));
		give_error(&w, ref, (uint8_t)code);
		give_error(&w, old, (uint8_t)code);
	}
	assert_int_equal(w.f.nfailed, 0);
	assert_int_equal(last_type(&w), RDV_AUTH);
	randombytes_buf(w.s.login_id, sizeof(w.s.login_id));
	randombytes_buf(sid, sizeof(sid));
	give_intro(&w, sid, w.s.klogin);
	assert_int_equal(w.f.nintro, 1);
	rdvc_wipe(&w.c);
}

static void
error5_retries(int initiator)
{
	struct world w;
	uint8_t first[RDV_NONCE_LEN], again[RDV_NONCE_LEN];
	unsigned sent;
	uint64_t at;

	if (initiator)
		world_initiator(&w);
	else
		world_target(&w);
	rdvc_start(&w.c, w.now);
	give_challenge(&w);
	expect_auth(&w);
	memcpy(first, w.s.ch.cnonce, sizeof(first));
	sent = w.f.nsent;
	w.now += 20;
	at = w.now;
	give_error(&w, first, RDV_ERR_RATE);
	assert_int_equal(w.f.nfailed, 0);
	assert_int_equal(w.f.nsent, sent);
	/* Later: seconds, not the 1 s retransmission. */
	assert_true(rdvc_next_timeout(&w.c) >= at + 2000);
	assert_true(rdvc_next_timeout(&w.c) <= at + 30000);
	rdvc_on_timer(&w.c, rdvc_next_timeout(&w.c) - 1);
	assert_int_equal(w.f.nsent, sent);
	fire(&w);
	assert_int_equal(w.f.nsent, sent + 1);
	expect_hello(&w, again);
	assert_memory_not_equal(again, first, RDV_NONCE_LEN);
	rdvc_wipe(&w.c);
}

static void
test_error5_retry_later(void **state)
{
	(void)state;
	error5_retries(1);
	error5_retries(0);
}

/* ---- retransmission ---- */

static void
test_lost_challenge(void **state)
{
	struct world w;
	uint8_t n1[RDV_NONCE_LEN], n2[RDV_NONCE_LEN];
	uint8_t buf[RDV_MAX_DGRAM];
	struct rdv_challenge old;
	int n;

	(void)state;
	world_initiator(&w);
	rdvc_start(&w.c, w.now);
	expect_hello(&w, n1);
	fire(&w);
	assert_int_equal(w.now, T0 + 1000);
	assert_int_equal(w.f.nsent, 2);
	expect_hello(&w, n2);
	assert_memory_not_equal(n1, n2, RDV_NONCE_LEN);
	/* The CHALLENGE for the first HELLO arrives late: ignored. */
	memset(&old, 0, sizeof(old));
	memcpy(old.cnonce, n1, sizeof(n1));
	old.ts = 1;
	randombytes_buf(old.snonce, sizeof(old.snonce));
	n = rdv_build_challenge(buf, sizeof(buf), &old);
	feed(&w, buf, (size_t)n);
	assert_int_equal(w.f.nsent, 2);
	give_challenge(&w);
	assert_int_equal(w.f.nsent, 3);
	expect_auth(&w);
	rdvc_wipe(&w.c);
}

/* The INTRO (or CHALLENGE) is lost again and again: every retry starts over
 * from HELLO with a fresh cnonce, so no two AUTHs are ever the same (the
 * server would refuse a repeated one as a replay). */
static void
lost_intro(int initiator)
{
	struct world w;
	uint8_t auths[8][RDV_MAX_DGRAM];
	size_t authlen[8];
	uint8_t cn[8][RDV_NONCE_LEN];
	int nauth = 0, rounds = initiator ? 4 : 8; /* an initiator gives up after ~10 sends */

	if (initiator)
		world_initiator(&w);
	else
		world_target(&w);
	rdvc_start(&w.c, w.now);
	while (nauth < rounds) {
		unsigned sent;
		give_challenge(&w);
		expect_auth(&w);
		memcpy(auths[nauth], last(&w), lastlen(&w));
		authlen[nauth] = lastlen(&w);
		memcpy(cn[nauth], w.s.ch.cnonce, RDV_NONCE_LEN);
		nauth++;
		/* A duplicated CHALLENGE does not cause a second AUTH. */
		sent = w.f.nsent;
		{
			uint8_t buf[RDV_MAX_DGRAM];
			int n = rdv_build_challenge(buf, sizeof(buf), &w.s.ch);
			feed(&w, buf, (size_t)n);
		}
		assert_int_equal(w.f.nsent, sent);
		fire(&w); /* the answer to AUTH never comes */
		expect_hello(&w, NULL);
	}
	for (int i = 0; i < nauth; i++)
		for (int j = i + 1; j < nauth; j++) {
			assert_memory_not_equal(cn[i], cn[j], RDV_NONCE_LEN);
			assert_false(authlen[i] == authlen[j] &&
				     memcmp(auths[i], auths[j], authlen[i]) == 0);
		}
	/* No AUTH was ever sent twice. */
	{
		int nauths = 0;
		for (unsigned i = 0; i < w.f.nsent; i++)
			if (rdv_msg_type(w.f.sent[i], w.f.sentlen[i]) == RDV_AUTH)
				nauths++;
		assert_int_equal(nauths, nauth);
	}
	assert_int_equal(w.f.nfailed, 0);
	rdvc_wipe(&w.c);
}

static void
test_lost_intro(void **state)
{
	(void)state;
	lost_intro(1);
	lost_intro(0);
}

static void
test_initiator_gives_up(void **state)
{
	struct world w;
	unsigned hellos = 0;

	(void)state;
	world_initiator(&w);
	rdvc_start(&w.c, w.now);
	while (w.f.nfailed == 0) {
		assert_true(w.now - T0 <= 60000);
		if (last_type(&w) == RDV_HELLO)
			hellos++;
		fire(&w);
	}
	assert_int_equal(w.f.fail_code, 0);
	assert_non_null(strstr(w.f.fail_msg, "no answer"));
	/* About ten seconds of trying (DESIGN: exit 13 after ~10 s). */
	assert_true(w.now - T0 >= 5000);
	assert_true(w.now - T0 <= 30000);
	assert_true(hellos >= 5);
	assert_int_equal(rdvc_next_timeout(&w.c), UINT64_MAX);
	/* Every HELLO had its own cnonce. */
	for (unsigned i = 0; i < w.f.nsent; i++)
		for (unsigned j = i + 1; j < w.f.nsent; j++)
			assert_memory_not_equal(w.f.sent[i] + 2 + 2 + strlen(USER),
						w.f.sent[j] + 2 + 2 + strlen(USER), RDV_NONCE_LEN);
	rdvc_wipe(&w.c);
}

static void
test_target_backoff(void **state)
{
	struct world w;
	uint64_t prev_at, prev_gap = 0, maxgap = 0;

	(void)state;
	world_target(&w);
	rdvc_start(&w.c, w.now);
	prev_at = w.now;
	for (int i = 0; i < 60; i++) {
		uint64_t gap;
		fire(&w);
		expect_hello(&w, NULL);
		gap = w.now - prev_at;
		prev_at = w.now;
		if (i == 0)
			assert_int_equal(gap, 1000);
		assert_true(gap >= prev_gap);
		assert_true(gap <= 30000);
		prev_gap = gap;
		if (gap > maxgap)
			maxgap = gap;
	}
	assert_int_equal(maxgap, 30000);
	assert_int_equal(w.f.nfailed, 0);
	assert_int_equal(w.f.nsent, 61);
	/* The server comes back: the target logs in and starts over fast. */
	target_login(&w, 15);
	rdvc_wipe(&w.c);
}

/* ---- hostile input ---- */

/* Feed p[0..n) truncated at every length and with every single bit flipped
 * (when flip), and check nothing happened. */
static void
mangle(struct world *w, const uint8_t *p, size_t n, int flip)
{
	uint8_t buf[RDV_MAX_DGRAM + 64];
	unsigned sent = w->f.nsent, reg = w->f.nregistered, intro = w->f.nintro;

	for (size_t len = 0; len < n; len++) {
		uint8_t *cut =
		    test_malloc(len > 0 ? len : 1); /* exact size: ASan sees over-reads */
		memcpy(cut, p, len);
		feed(w, cut, len);
		test_free(cut);
	}
	/* Extended with junk, and oversized. */
	memcpy(buf, p, n);
	for (size_t extra = 1; extra <= 64 && n + extra <= sizeof(buf); extra += 7) {
		randombytes_buf(buf + n, extra);
		feed(w, buf, n + extra);
	}
	if (flip)
		for (size_t i = 0; i < n * 8; i++) {
			memcpy(buf, p, n);
			buf[i / 8] ^= (uint8_t)(1u << (i % 8));
			feed(w, buf, n);
		}
	assert_int_equal(w->f.nsent, sent);
	assert_int_equal(w->f.nregistered, reg);
	assert_int_equal(w->f.nintro, intro);
	assert_int_equal(w->f.nfailed, 0);
}

static void
random_datagrams(struct world *w, int count)
{
	uint8_t buf[700];
	unsigned sent = w->f.nsent;

	for (int i = 0; i < count; i++) {
		size_t n = randombytes_uniform(sizeof(buf) + 1);
		randombytes_buf(buf, n);
		if (n >= 2 && (i & 1)) {
			buf[0] = (uint8_t)(RDV_HELLO + randombytes_uniform(9));
			buf[1] = RDV_VERSION;
		}
		feed(w, buf, n);
	}
	assert_int_equal(w->f.nsent, sent);
	assert_int_equal(w->f.nfailed, 0);
}

static void
test_malformed_ignored(void **state)
{
	struct world w, x;
	uint8_t buf[RDV_MAX_DGRAM], sid[RDV_SESSION_ID_LEN], ref[RDV_NONCE_LEN];
	struct rdv_addr obs = addr4("203.0.113.3", 40001);
	struct rdv_ka_ack k;
	struct rdv_auth_ok ok;
	int n;

	(void)state;
	/* A logged-in target. */
	world_target(&w);
	target_login(&w, 15);
	randombytes_buf(sid, sizeof(sid));
	n = build_intro(&w, buf, sizeof(buf), sid, w.s.klogin, 7);
	mangle(&w, buf, (size_t)n, 1);
	memset(&k, 0, sizeof(k));
	memcpy(k.login_id, w.s.login_id, RDV_LOGIN_ID_LEN);
	k.seq = 1;
	k.observed = obs;
	n = rdv_build_ka_ack(buf, sizeof(buf), &k, w.s.klogin);
	mangle(&w, buf, (size_t)n, 1);
	rdv_error_ref_login(ref, w.s.login_id);
	n = rdv_build_error(buf, sizeof(buf), ref, RDV_ERR_NO_LOGIN);
	mangle(&w, buf, (size_t)n, 0);
	random_datagrams(&w, 20000);
	assert_int_equal(w.f.nregistered, 1);
	/* Still working: the next keep-alive goes out. */
	fire(&w);
	assert_int_equal(last_type(&w), RDV_KEEPALIVE);

	/* A target waiting for AUTH_OK. */
	world_target(&x);
	rdvc_start(&x.c, x.now);
	give_challenge(&x);
	expect_auth(&x);
	memset(&ok, 0, sizeof(ok));
	memcpy(ok.cnonce, x.s.ch.cnonce, RDV_NONCE_LEN);
	randombytes_buf(ok.login_id, sizeof(ok.login_id));
	ok.keepalive = 15;
	ok.observed = obs;
	n = rdv_build_auth_ok(buf, sizeof(buf), &ok, x.s.klogin);
	mangle(&x, buf, (size_t)n, 1);
	random_datagrams(&x, 20000);
	assert_int_equal(x.f.nregistered, 0);
	rdvc_wipe(&w.c);
	rdvc_wipe(&x.c);

	/* An initiator waiting for a CHALLENGE, then for an INTRO. */
	world_initiator(&x);
	rdvc_start(&x.c, x.now);
	expect_hello(&x, x.s.ch.cnonce);
	x.s.ch.ts = 9;
	randombytes_buf(x.s.ch.snonce, sizeof(x.s.ch.snonce));
	n = rdv_build_challenge(buf, sizeof(buf), &x.s.ch);
	mangle(&x, buf, (size_t)n, 0);
	n = rdv_build_error(buf, sizeof(buf), x.s.ch.cnonce, RDV_ERR_OFFLINE);
	mangle(&x, buf, (size_t)n, 0);
	random_datagrams(&x, 20000);
	give_challenge(&x);
	expect_auth(&x);
	randombytes_buf(x.s.login_id, sizeof(x.s.login_id));
	n = build_intro(&x, buf, sizeof(buf), sid, x.s.klogin, 3);
	mangle(&x, buf, (size_t)n, 1);
	random_datagrams(&x, 20000);
	assert_int_equal(x.f.nintro, 0);
	feed(&x, buf, (size_t)n);
	assert_int_equal(x.f.nintro, 1);
	rdvc_wipe(&x.c);
}

/* ---- keys ---- */

static void
test_wipe(void **state)
{
	struct world w;
	uint8_t sid[RDV_SESSION_ID_LEN];

	(void)state;
	world_target(&w);
	target_login(&w, 15);
	assert_false(all_zero(w.c.kclient, sizeof(w.c.kclient)));
	assert_false(all_zero(w.c.klogin, sizeof(w.c.klogin)));
	rdvc_wipe(&w.c);
	assert_true(all_zero(w.c.kclient, sizeof(w.c.kclient)));
	assert_true(all_zero(w.c.klogin, sizeof(w.c.klogin)));

	world_initiator(&w);
	initiator_auth(&w);
	randombytes_buf(sid, sizeof(sid));
	give_intro(&w, sid, w.s.klogin);
	assert_false(all_zero(w.c.kclient, 20));
	assert_false(all_zero(w.c.klogin, sizeof(w.c.klogin)));
	rdvc_wipe(&w.c);
	assert_true(all_zero(w.c.kclient, sizeof(w.c.kclient)));
	assert_true(all_zero(w.c.klogin, sizeof(w.c.klogin)));
}

static void
test_initiator_bad_user(void **state)
{
	struct rdvc c;
	struct fake f;
	uint8_t h[AUTH_HASH_LEN] = {1};
	p2p_uid u;
	const char *why = NULL;
	char longname[80];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(uid_parse(SEED_UID, &u, NULL), 0);
	assert_int_equal(rdvc_init_initiator(&c, &ops, &f, "", h, &u, 2, &why), -1);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(rdvc_init_initiator(&c, &ops, &f, "two words", h, &u, 2, &why), -1);
	assert_non_null(why);
	memset(longname, 'a', 65);
	longname[65] = '\0';
	why = NULL;
	assert_int_equal(rdvc_init_initiator(&c, &ops, &f, longname, h, &u, 2, &why), -1);
	assert_non_null(why);
	longname[64] = '\0';
	assert_int_equal(rdvc_init_initiator(&c, &ops, &f, longname, h, &u, 2, &why), 0);
	rdvc_wipe(&c);
	assert_int_equal(f.nsent, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target_login),
	    cmocka_unit_test(test_target_auth_ok_forged),
	    cmocka_unit_test(test_target_keepalives),
	    cmocka_unit_test(test_target_keepalive_cap),
	    cmocka_unit_test(test_target_error7_relogin),
	    cmocka_unit_test(test_target_ka_misses_relogin),
	    cmocka_unit_test(test_target_intro),
	    cmocka_unit_test(test_target_intro_repeat_interleaved),
	    cmocka_unit_test(test_initiator_intro),
	    cmocka_unit_test(test_initiator_intro_wrong_key),
	    cmocka_unit_test(test_initiator_keepalives),
	    cmocka_unit_test(test_initiator_error7_relogin),
	    cmocka_unit_test(test_initiator_relogin_never_fails),
	    cmocka_unit_test(test_relay_wrap),
	    cmocka_unit_test(test_relayed_open),
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test(test_error_foreign_ignored),
	    cmocka_unit_test(test_error5_retry_later),
	    cmocka_unit_test(test_lost_challenge),
	    cmocka_unit_test(test_lost_intro),
	    cmocka_unit_test(test_initiator_gives_up),
	    cmocka_unit_test(test_target_backoff),
	    cmocka_unit_test(test_malformed_ignored),
	    cmocka_unit_test(test_wipe),
	    cmocka_unit_test(test_initiator_bad_user),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
