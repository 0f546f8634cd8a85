/* Tests for common/rdvwire: round trips, every truncation, oversized and
 * random input, forgery, wrong keys, cookies bound to the source address, the
 * relay messages (RELAY, RELAYED). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "common/keys.h"
#include "common/rdvwire.h"
#include "tests/unit/helper_test.h"

typedef int (*parse_fn)(const uint8_t *p, size_t n, void *out, const uint8_t *key);

static uint8_t k_a[RDV_SECRET_LEN], k_b[RDV_SECRET_LEN];

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(keys_init(), 0);
	randombytes_buf(k_a, sizeof(k_a));
	randombytes_buf(k_b, sizeof(k_b));
	return 0;
}

/* A full list: 4 IPv4 and 4 IPv6 candidates (the largest encoding). */
static void
full_cands(struct rdv_cands *c)
{
	char ip[64];

	rdv_cands_clear(c);
	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		struct rdv_addr a = th_rdv_addr(ip, (uint16_t)(40000 + i));
		assert_int_equal(rdv_cands_add(c, &a), 0);
		snprintf(ip, sizeof(ip), "2001:db8::%d", i + 1);
		a = th_rdv_addr(ip, (uint16_t)(50000 + i));
		assert_int_equal(rdv_cands_add(c, &a), 0);
	}
}

static void
assert_cands_equal(const struct rdv_cands *x, const struct rdv_cands *y)
{
	assert_int_equal(x->n, y->n);
	for (size_t i = 0; i < x->n; i++)
		assert_true(rdv_addr_equal(&x->a[i], &y->a[i]));
}

static void
make_uid(p2p_uid *u)
{
	static const uint8_t b[UID_LEN] = {0x80, 0, 0, 0, 0x01, 0, 0x0a, 0xc2};
	memcpy(u->b, b, UID_LEN);
}

/* ---- wrappers giving every parser one shape, for the generic tests ---- */

static int
p_hello(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	(void)k;
	return rdv_parse_hello(p, n, o, NULL);
}
static int
p_challenge(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	(void)k;
	return rdv_parse_challenge(p, n, o, NULL);
}
static int
p_auth(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	int r = rdv_parse_auth(p, n, o, NULL);
	if (r != 0)
		return r;
	return rdv_verify_tail_mac(p, n, k, AUTH_HASH_LEN);
}
static int
p_auth_ok(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	return rdv_parse_auth_ok(p, n, o, k, NULL);
}
static int
p_error(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	(void)k;
	return rdv_parse_error(p, n, o, NULL);
}
static int
p_keepalive(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	int r = rdv_parse_keepalive(p, n, o, NULL);
	return r != 0 ? r : rdv_verify_tail_mac(p, n, k, RDV_SECRET_LEN);
}
static int
p_ka_ack(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	return rdv_parse_ka_ack(p, n, o, k, NULL);
}
static int
p_intro(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	return rdv_open_intro(p, n, o, k, NULL);
}
static int
p_intro_ack(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	int r = rdv_parse_intro_ack(p, n, o, NULL);
	return r != 0 ? r : rdv_verify_tail_mac(p, n, k, RDV_SECRET_LEN);
}
static int
p_relay(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	int r = rdv_parse_relay(p, n, o, NULL);
	return r != 0 ? r : rdv_verify_tail_mac(p, n, k, RDV_SECRET_LEN);
}
static int
p_relayed(const uint8_t *p, size_t n, void *o, const uint8_t *k)
{
	return rdv_parse_relayed(p, n, o, k, NULL);
}

/* Every proper prefix is refused; so is one byte more (HELLO excepted, whose
 * zero padding may be longer). */
static void
check_truncations(parse_fn fn, const uint8_t *pkt, size_t n, const uint8_t *key, int allow_longer)
{
	union {
		struct rdv_hello h;
		struct rdv_auth a;
		struct rdv_intro i;
		struct rdv_relay r;
	} out;
	uint8_t big[RDV_MAX_DGRAM + 64];

	assert_true(n < sizeof(big));
	assert_int_equal(fn(pkt, n, &out, key), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(fn(pkt, i, &out, key), 0);
	memcpy(big, pkt, n);
	big[n] = 0x5a;
	assert_int_not_equal(fn(big, n + 1, &out, key), 0);
	big[n] = 0;
	if (!allow_longer)
		assert_int_not_equal(fn(big, n + 1, &out, key), 0);
	memset(big + n, 0, sizeof(big) - n);
	assert_int_not_equal(fn(big, sizeof(big), &out, key), 0);
}

/* Flipping any one bit of any byte makes the message fail. */
static void
check_flips(parse_fn fn, const uint8_t *pkt, size_t n, const uint8_t *key)
{
	uint8_t m[RDV_MAX_DGRAM];
	union {
		struct rdv_auth a;
		struct rdv_intro i;
		struct rdv_relay r;
	} out;

	assert_true(n <= sizeof(m));
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(m, pkt, n);
			m[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(fn(m, n, &out, key), 0);
		}
	}
}

/* ---- round trips ---- */

static void
test_hello(void **state)
{
	struct rdv_hello h, g;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;
	p2p_uid u;
	const char *why;

	(void)state;
	assert_int_equal(rdv_id_initiator(&h.id, "alice", &why), 0);
	randombytes_buf(h.cnonce, sizeof(h.cnonce));
	n = rdv_build_hello(pkt, sizeof(pkt), &h);
	assert_int_equal(n, RDV_HELLO_LEN);
	assert_int_equal(rdv_msg_type(pkt, (size_t)n), RDV_HELLO);
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), 0);
	assert_int_equal(g.id.role, RDV_ROLE_INITIATOR);
	assert_int_equal(g.id.len, 5);
	assert_memory_equal(g.id.b, "alice", 5);
	assert_memory_equal(g.cnonce, h.cnonce, RDV_NONCE_LEN);
	check_truncations(p_hello, pkt, (size_t)n, NULL, 1);

	make_uid(&u);
	rdv_id_target(&h.id, &u);
	n = rdv_build_hello(pkt, sizeof(pkt), &h);
	assert_int_equal(n, RDV_HELLO_LEN);
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), 0);
	assert_int_equal(g.id.role, RDV_ROLE_TARGET);
	assert_memory_equal(g.id.b, u.b, UID_LEN);

	/* Non-zero padding or a bad role: cnonce readable, -2. */
	pkt[RDV_HELLO_LEN - 1] = 1;
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), -2);
	assert_memory_equal(g.cnonce, h.cnonce, RDV_NONCE_LEN);
	pkt[RDV_HELLO_LEN - 1] = 0;
	pkt[2] = 3;
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), -2);
	pkt[2] = RDV_ROLE_INITIATOR; /* with idlen 8 and a binary UID as name */
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), -2);
	pkt[2] = RDV_ROLE_TARGET;
	pkt[3] = 65; /* idlen beyond 64: unreadable */
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), -1);
	pkt[3] = 8;
	pkt[1] = 2; /* version */
	assert_int_equal(rdv_parse_hello(pkt, (size_t)n, &g, &why), -1);
	assert_int_equal(rdv_msg_type(pkt, (size_t)n), -1);
}

static void
test_ids(void **state)
{
	struct rdv_id id;
	const char *why = NULL;
	char name[80];

	(void)state;
	assert_int_equal(rdv_id_initiator(&id, "", &why), -1);
	assert_non_null(why);
	assert_int_equal(rdv_id_initiator(&id, "al ice", &why), -1);
	assert_int_equal(rdv_id_initiator(&id, "al\nice", &why), -1);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(rdv_id_initiator(&id, name, &why), 0);
	name[64] = 'a';
	name[65] = '\0';
	assert_int_equal(rdv_id_initiator(&id, name, &why), -1);
	id.role = RDV_ROLE_TARGET;
	id.len = 7;
	assert_int_equal(rdv_id_check(&id, &why), -1);
	id.role = 0;
	assert_int_equal(rdv_id_check(&id, &why), -1);
	/* A builder refuses an invalid id. */
	struct rdv_hello h;
	uint8_t pkt[RDV_MAX_DGRAM];
	memset(&h, 0, sizeof(h));
	h.id.role = 9;
	h.id.len = 3;
	assert_int_equal(rdv_build_hello(pkt, sizeof(pkt), &h), -1);
}

static void
test_challenge(void **state)
{
	struct rdv_challenge c, d;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	(void)state;
	randombytes_buf(&c, sizeof(c));
	n = rdv_build_challenge(pkt, sizeof(pkt), &c);
	assert_int_equal(n, RDV_CHALLENGE_LEN);
	assert_int_equal(rdv_parse_challenge(pkt, (size_t)n, &d, NULL), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	check_truncations(p_challenge, pkt, (size_t)n, NULL, 0);
	assert_int_equal(rdv_build_challenge(pkt, RDV_CHALLENGE_LEN - 1, &c), -1);
}

static int
build_initiator_auth(uint8_t *pkt, size_t cap, struct rdv_auth *a)
{
	const char *why;

	memset(a, 0, sizeof(*a));
	assert_int_equal(rdv_id_initiator(&a->id, "alice", &why), 0);
	randombytes_buf(a->cnonce, sizeof(a->cnonce));
	randombytes_buf(a->snonce, sizeof(a->snonce));
	a->ts = 123456;
	make_uid(&a->uid);
	a->mode = 3;
	full_cands(&a->cands);
	return rdv_build_auth(pkt, cap, a, k_a, AUTH_HASH_LEN);
}

static void
test_auth(void **state)
{
	struct rdv_auth a, b;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;
	p2p_uid u;

	(void)state;
	n = build_initiator_auth(pkt, sizeof(pkt), &a);
	assert_true(n > 0);
	assert_int_equal(rdv_parse_auth(pkt, (size_t)n, &b, NULL), 0);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_a, AUTH_HASH_LEN), 0);
	assert_memory_equal(&a.id, &b.id, sizeof(a.id));
	assert_memory_equal(a.cnonce, b.cnonce, RDV_NONCE_LEN);
	assert_memory_equal(a.snonce, b.snonce, RDV_NONCE_LEN);
	assert_int_equal(a.ts, b.ts);
	assert_memory_equal(a.uid.b, b.uid.b, UID_LEN);
	assert_int_equal(b.mode, 3);
	assert_cands_equal(&a.cands, &b.cands);
	check_truncations(p_auth, pkt, (size_t)n, k_a, 0);
	/* Forgery: every bit flipped fails; a wrong key fails. */
	check_flips(p_auth, pkt, (size_t)n, k_a);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_b, AUTH_HASH_LEN), -1);

	/* Target AUTH: body is only the candidates. */
	make_uid(&u);
	rdv_id_target(&a.id, &u);
	rdv_cands_clear(&a.cands);
	n = rdv_build_auth(pkt, sizeof(pkt), &a, k_b, RDV_SECRET_LEN);
	assert_int_equal(n, 2 + 2 + 8 + 16 + 4 + 16 + 1 + 16);
	assert_int_equal(rdv_parse_auth(pkt, (size_t)n, &b, NULL), 0);
	assert_int_equal(b.cands.n, 0);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_b, RDV_SECRET_LEN), 0);

	/* Body malformed (count 9) but head fine: -2 with the head filled in. */
	pkt[n - 17] = 9;
	assert_int_equal(rdv_parse_auth(pkt, (size_t)n, &b, NULL), -2);
	assert_memory_equal(b.cnonce, a.cnonce, RDV_NONCE_LEN);
	/* An initiator mode above 3 is refused by the builder and the parser. */
	n = build_initiator_auth(pkt, sizeof(pkt), &a);
	a.mode = 4;
	assert_int_equal(rdv_build_auth(pkt, sizeof(pkt), &a, k_a, AUTH_HASH_LEN), -1);
	n = build_initiator_auth(pkt, sizeof(pkt), &a);
	pkt[2 + 2 + 5 + 16 + 4 + 16 + 8] = 4;
	assert_int_equal(rdv_parse_auth(pkt, (size_t)n, &b, NULL), -2);
}

static void
test_auth_ok(void **state)
{
	struct rdv_auth_ok m, o;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	(void)state;
	memset(&m, 0, sizeof(m));
	randombytes_buf(m.cnonce, sizeof(m.cnonce));
	randombytes_buf(m.login_id, sizeof(m.login_id));
	m.keepalive = 15;
	m.observed = th_rdv_addr("2001:db8::7", 40001);
	n = rdv_build_auth_ok(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, 2 + 16 + 8 + 2 + 19 + 16);
	assert_int_equal(rdv_parse_auth_ok(pkt, (size_t)n, &o, k_a, NULL), 0);
	assert_memory_equal(o.cnonce, m.cnonce, RDV_NONCE_LEN);
	assert_memory_equal(o.login_id, m.login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(o.keepalive, 15);
	assert_true(rdv_addr_equal(&o.observed, &m.observed));
	assert_int_equal(rdv_parse_auth_ok(pkt, (size_t)n, &o, k_b, NULL), -1);
	check_truncations(p_auth_ok, pkt, (size_t)n, k_a, 0);
	check_flips(p_auth_ok, pkt, (size_t)n, k_a);
}

static void
test_error(void **state)
{
	struct rdv_error e;
	uint8_t pkt[RDV_MAX_DGRAM], ref[RDV_NONCE_LEN], lid[RDV_LOGIN_ID_LEN];
	int n;

	(void)state;
	randombytes_buf(ref, sizeof(ref));
	for (int code = 1; code <= 7; code++) {
		n = rdv_build_error(pkt, sizeof(pkt), ref, (uint8_t)code);
		assert_int_equal(n, RDV_ERROR_LEN);
		assert_int_equal(rdv_parse_error(pkt, (size_t)n, &e, NULL), 0);
		assert_int_equal(e.code, code);
		assert_memory_equal(e.ref, ref, RDV_NONCE_LEN);
		assert_string_not_equal(rdv_error_str(code), "unknown error code");
	}
	check_truncations(p_error, pkt, (size_t)n, NULL, 0);
	assert_int_equal(rdv_build_error(pkt, sizeof(pkt), ref, 0), -1);
	assert_int_equal(rdv_build_error(pkt, sizeof(pkt), ref, 8), -1);
	pkt[18] = 0;
	assert_int_equal(rdv_parse_error(pkt, RDV_ERROR_LEN, &e, NULL), -1);
	pkt[18] = 8;
	assert_int_equal(rdv_parse_error(pkt, RDV_ERROR_LEN, &e, NULL), -1);
	randombytes_buf(lid, sizeof(lid));
	rdv_error_ref_login(ref, lid);
	assert_memory_equal(ref, lid, RDV_LOGIN_ID_LEN);
	for (size_t i = RDV_LOGIN_ID_LEN; i < RDV_NONCE_LEN; i++)
		assert_int_equal(ref[i], 0);
}

static void
test_keepalive(void **state)
{
	struct rdv_keepalive k, o;
	struct rdv_ka_ack a, b;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	(void)state;
	memset(&k, 0, sizeof(k));
	randombytes_buf(k.login_id, sizeof(k.login_id));
	k.seq = 0x0102030405060708ull;
	full_cands(&k.cands);
	n = rdv_build_keepalive(pkt, sizeof(pkt), &k, k_a);
	assert_true(n > 0);
	assert_int_equal(rdv_parse_keepalive(pkt, (size_t)n, &o, NULL), 0);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_a, RDV_SECRET_LEN), 0);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_b, RDV_SECRET_LEN), -1);
	assert_memory_equal(o.login_id, k.login_id, RDV_LOGIN_ID_LEN);
	assert_true(o.seq == k.seq);
	assert_cands_equal(&o.cands, &k.cands);
	check_truncations(p_keepalive, pkt, (size_t)n, k_a, 0);
	check_flips(p_keepalive, pkt, (size_t)n, k_a);

	memset(&a, 0, sizeof(a));
	memcpy(a.login_id, k.login_id, RDV_LOGIN_ID_LEN);
	a.seq = 77;
	a.observed = th_rdv_addr("203.0.113.3", 40001);
	n = rdv_build_ka_ack(pkt, sizeof(pkt), &a, k_a);
	assert_int_equal(n, 2 + 8 + 8 + 7 + 16);
	assert_int_equal(rdv_parse_ka_ack(pkt, (size_t)n, &b, k_a, NULL), 0);
	assert_true(b.seq == 77);
	assert_true(rdv_addr_equal(&a.observed, &b.observed));
	assert_int_equal(rdv_parse_ka_ack(pkt, (size_t)n, &b, k_b, NULL), -1);
	check_truncations(p_ka_ack, pkt, (size_t)n, k_a, 0);
	check_flips(p_ka_ack, pkt, (size_t)n, k_a);
}

static void
test_intro(void **state)
{
	struct rdv_intro m, o;
	uint8_t pkt[RDV_MAX_DGRAM], pkt2[RDV_MAX_DGRAM];
	int n, n2;
	const char *why;

	(void)state;
	memset(&m, 0, sizeof(m));
	randombytes_buf(m.login_id, sizeof(m.login_id));
	randombytes_buf(m.session_id, sizeof(m.session_id));
	randombytes_buf(m.secret, sizeof(m.secret));
	memset(m.peer.b, 'x', RDV_ID_MAX);
	m.peer.role = RDV_ROLE_INITIATOR;
	m.peer.len = RDV_ID_MAX;
	m.mode = 2;
	full_cands(&m.cands);
	n = rdv_build_intro(pkt, sizeof(pkt), &m, k_a);
	assert_true(n > 0 && n <= RDV_MAX_DGRAM);
	assert_int_equal(rdv_open_intro(pkt, (size_t)n, &o, k_a, &why), 0);
	assert_memory_equal(o.login_id, m.login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(o.session_id, m.session_id, RDV_SESSION_ID_LEN);
	assert_memory_equal(&o.peer, &m.peer, sizeof(m.peer));
	assert_int_equal(o.mode, 2);
	assert_cands_equal(&o.cands, &m.cands);
	assert_memory_equal(o.secret, m.secret, RDV_SECRET_LEN);
	/* Sealed for one peer: does not open with the other's key. */
	assert_int_equal(rdv_open_intro(pkt, (size_t)n, &o, k_b, &why), -1);
	for (size_t i = 0; i < RDV_SECRET_LEN; i++)
		assert_int_equal(o.secret[i], 0);
	/* Each INTRO has its own nonce: same content, different bytes. */
	n2 = rdv_build_intro(pkt2, sizeof(pkt2), &m, k_a);
	assert_int_equal(n, n2);
	assert_memory_not_equal(pkt, pkt2, (size_t)n);
	check_truncations(p_intro, pkt, (size_t)n, k_a, 0);
	check_flips(p_intro, pkt, (size_t)n, k_a);
	m.mode = 4;
	assert_int_equal(rdv_build_intro(pkt, sizeof(pkt), &m, k_a), -1);
}

static void
test_intro_ack(void **state)
{
	struct rdv_intro_ack m, o;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	(void)state;
	randombytes_buf(&m, sizeof(m));
	n = rdv_build_intro_ack(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, 2 + 8 + 8 + 16);
	assert_int_equal(rdv_parse_intro_ack(pkt, (size_t)n, &o, NULL), 0);
	assert_memory_equal(&m, &o, sizeof(m));
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_b, RDV_SECRET_LEN), -1);
	check_truncations(p_intro_ack, pkt, (size_t)n, k_a, 0);
	check_flips(p_intro_ack, pkt, (size_t)n, k_a);
}

/* ---- RELAY, RELAYED ---- */

/* A peer datagram of n bytes as a relay carries it (a DATA packet). */
static void
make_inner(uint8_t *inner, size_t n)
{
	randombytes_buf(inner, n);
	inner[0] = 0xa0;
	if (n > 1)
		inner[1] = 1;
}

static void
test_relay(void **state)
{
	struct rdv_relay m, o;
	struct rdv_relayed rd;
	uint8_t inner[RDV_INNER_MAX + 1], pkt[RDV_RELAY_MAX + 8], want[MAC_LEN];
	struct mac_part part;
	int n;

	(void)state;
	memset(&m, 0, sizeof(m));
	randombytes_buf(m.login_id, sizeof(m.login_id));
	randombytes_buf(m.session_id, sizeof(m.session_id));
	m.seq = 0x0102030405060708ull;
	make_inner(inner, 100);
	m.inner = inner;
	m.inner_len = 100;
	n = rdv_build_relay(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, RDV_RELAY_OVERHEAD + 100);
	assert_int_equal(RDV_RELAY_OVERHEAD, 2 + 8 + 8 + 8 + 16);
	/* The documented layout: type, version, login_id, session_id, seq, inner, mac. */
	assert_int_equal(pkt[0], 0xb0);
	assert_int_equal(pkt[1], 1);
	assert_memory_equal(pkt + 2, m.login_id, 8);
	assert_memory_equal(pkt + 10, m.session_id, 8);
	assert_memory_equal(pkt + 18, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(pkt + 26, inner, 100);
	part.p = pkt;
	part.n = (size_t)n - MAC_LEN;
	mac_compute(want, k_a, RDV_SECRET_LEN, &part, 1);
	assert_memory_equal(pkt + n - MAC_LEN, want, MAC_LEN);

	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &o, NULL), 0);
	assert_memory_equal(o.login_id, m.login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(o.session_id, m.session_id, RDV_SESSION_ID_LEN);
	assert_true(o.seq == m.seq);
	assert_ptr_equal(o.inner, pkt + 26); /* points into the datagram */
	assert_int_equal(o.inner_len, 100);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_a, RDV_SECRET_LEN), 0);
	assert_int_equal(rdv_verify_tail_mac(pkt, (size_t)n, k_b, RDV_SECRET_LEN), -1);
	check_truncations(p_relay, pkt, (size_t)n, k_a, 0);
	check_flips(p_relay, pkt, (size_t)n, k_a);
	/* Not a RELAYED, and a RELAYED parser does not take it. */
	assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &rd, k_a, NULL), -1);
	assert_int_equal(rdv_msg_type(pkt, (size_t)n), -1);

	/* Every handshake type and DATA are carried; nothing else. */
	for (int t = 0x90; t <= 0xa0; t++) {
		inner[0] = (uint8_t)t;
		assert_true(rdv_build_relay(pkt, sizeof(pkt), &m, k_a) > 0);
	}
	for (int t = 0; t < 256; t++) {
		if (t >= 0x90 && t <= 0xa0)
			continue;
		inner[0] = (uint8_t)t;
		assert_int_equal(rdv_build_relay(pkt, sizeof(pkt), &m, k_a), -1);
	}
	inner[0] = 0xa0;
	/* Sizes: 2 to 1472 bytes of inner datagram. */
	m.inner_len = RDV_INNER_MAX;
	make_inner(inner, RDV_INNER_MAX + 1);
	n = rdv_build_relay(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, RDV_RELAY_MAX);
	assert_int_equal(n, 1514);
	assert_int_equal(p_relay(pkt, (size_t)n, &o, k_a), 0);
	assert_int_equal(o.inner_len, RDV_INNER_MAX);
	assert_int_equal(rdv_build_relay(pkt, (size_t)n - 1, &m, k_a), -1); /* no room */
	m.inner_len = RDV_INNER_MAX + 1;
	assert_int_equal(rdv_build_relay(pkt, sizeof(pkt), &m, k_a), -1);
	m.inner_len = 1;
	assert_int_equal(rdv_build_relay(pkt, sizeof(pkt), &m, k_a), -1);
	m.inner_len = 2;
	n = rdv_build_relay(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, RDV_RELAY_OVERHEAD + 2);
	assert_int_equal(p_relay(pkt, (size_t)n, &o, k_a), 0);
	m.inner = NULL;
	assert_int_equal(rdv_build_relay(pkt, sizeof(pkt), &m, k_a), -1);
	m.inner = inner;
	/* seq 0 is refused by the builder and the parser. */
	m.seq = 0;
	assert_int_equal(rdv_build_relay(pkt, sizeof(pkt), &m, k_a), -1);
	m.seq = 1;
	n = rdv_build_relay(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &o, NULL), 0);
	pkt[25] = 0;
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &o, NULL), -1);
	pkt[25] = 1;
	/* An inner datagram that is not a peer message; another version. */
	pkt[26] = 0x86;
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &o, NULL), -1);
	assert_null(o.inner);
	pkt[26] = 0xa0;
	pkt[1] = 2;
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &o, NULL), -1);
	pkt[1] = 1;
	/* A datagram longer than the largest RELAY is refused, whatever it holds. */
	memset(pkt, 0, sizeof(pkt));
	m.inner_len = RDV_INNER_MAX;
	n = rdv_build_relay(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n + 1, &o, NULL), -1);
}

static void
test_relayed(void **state)
{
	struct rdv_relayed m, o;
	struct rdv_relay r;
	uint8_t inner[RDV_INNER_MAX], pkt[RDV_RELAY_MAX + 8], want[MAC_LEN];
	struct mac_part part;
	const char *why = NULL;
	int n;

	(void)state;
	memset(&m, 0, sizeof(m));
	randombytes_buf(m.login_id, sizeof(m.login_id));
	randombytes_buf(m.session_id, sizeof(m.session_id));
	make_inner(inner, 200);
	inner[0] = 0x91; /* an HS_INIT, say */
	m.inner = inner;
	m.inner_len = 200;
	n = rdv_build_relayed(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, RDV_RELAYED_OVERHEAD + 200);
	/* Smaller than the RELAY that carried the same datagram. */
	assert_true(RDV_RELAYED_OVERHEAD < RDV_RELAY_OVERHEAD);
	assert_int_equal(pkt[0], 0xb1);
	assert_int_equal(pkt[1], 1);
	assert_memory_equal(pkt + 2, m.login_id, 8);
	assert_memory_equal(pkt + 10, m.session_id, 8);
	assert_memory_equal(pkt + 18, inner, 200);
	part.p = pkt;
	part.n = (size_t)n - MAC_LEN;
	mac_compute(want, k_a, RDV_SECRET_LEN, &part, 1);
	assert_memory_equal(pkt + n - MAC_LEN, want, MAC_LEN);

	assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &o, k_a, &why), 0);
	assert_memory_equal(o.login_id, m.login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(o.session_id, m.session_id, RDV_SESSION_ID_LEN);
	assert_ptr_equal(o.inner, pkt + 18);
	assert_int_equal(o.inner_len, 200);
	/* Another login's key: refused, nothing pointed at. */
	assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &o, k_b, &why), -1);
	assert_null(o.inner);
	assert_string_equal(why, "message authentication failed");
	check_truncations(p_relayed, pkt, (size_t)n, k_a, 0);
	check_flips(p_relayed, pkt, (size_t)n, k_a);
	assert_int_equal(rdv_parse_relay(pkt, (size_t)n, &r, NULL), -1);

	/* Builder: inner out of range or not a peer message. */
	m.inner_len = RDV_INNER_MAX;
	make_inner(inner, RDV_INNER_MAX);
	n = rdv_build_relayed(pkt, sizeof(pkt), &m, k_a);
	assert_int_equal(n, RDV_RELAYED_MAX);
	assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &o, k_a, NULL), 0);
	m.inner_len = RDV_INNER_MAX + 1;
	assert_int_equal(rdv_build_relayed(pkt, sizeof(pkt), &m, k_a), -1);
	m.inner_len = 1;
	assert_int_equal(rdv_build_relayed(pkt, sizeof(pkt), &m, k_a), -1);
	m.inner_len = 10;
	inner[0] = 0x88; /* an INTRO is not relayed */
	assert_int_equal(rdv_build_relayed(pkt, sizeof(pkt), &m, k_a), -1);
	inner[0] = 0xb0; /* nor a relay message inside a relay message */
	assert_int_equal(rdv_build_relayed(pkt, sizeof(pkt), &m, k_a), -1);
	assert_int_equal(rdv_build_relayed(pkt, 10, &m, k_a), -1);

	/* A well-authenticated RELAYED whose inner type is wrong is still refused:
	 * the server never makes one, so it is not trusted. */
	inner[0] = 0xa0;
	n = rdv_build_relayed(pkt, sizeof(pkt), &m, k_a);
	pkt[18] = 0x81;
	part.n = (size_t)n - MAC_LEN;
	mac_compute(pkt + n - MAC_LEN, k_a, RDV_SECRET_LEN, &part, 1);
	assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &o, k_a, &why), -1);
	assert_null(o.inner);
}

/* ---- candidates, addresses ---- */

static void
test_cands(void **state)
{
	struct rdv_cands c, d;
	struct rdv_addr a = th_rdv_addr("192.0.2.1", 5959), bad;
	uint8_t buf[256];
	struct wbuf w;
	struct rbuf r;

	(void)state;
	rdv_cands_clear(&c);
	assert_int_equal(rdv_cands_add(&c, &a), 0);
	assert_int_equal(rdv_cands_add(&c, &a), 1);
	bad = a;
	bad.port = 0;
	assert_int_equal(rdv_cands_add(&c, &bad), -1);
	bad.port = 1;
	bad.family = 5;
	assert_int_equal(rdv_cands_add(&c, &bad), -1);
	full_cands(&c);
	assert_int_equal(rdv_cands_add(&c, &a), -1);

	/* count 9 is refused; an unknown family is refused. */
	wbuf_init(&w, buf, sizeof(buf));
	rdv_cands_put(&w, &c);
	assert_false(w.err);
	rbuf_init(&r, buf, w.len);
	rdv_cands_get(&r, &d);
	assert_false(r.err);
	assert_cands_equal(&c, &d);
	buf[0] = 9;
	rbuf_init(&r, buf, w.len);
	rdv_cands_get(&r, &d);
	assert_true(r.err);
	assert_int_equal(d.n, 0);
	buf[0] = 8;
	buf[1] = 5;
	rbuf_init(&r, buf, w.len);
	rdv_cands_get(&r, &d);
	assert_true(r.err);
	c.n = 9;
	wbuf_init(&w, buf, sizeof(buf));
	rdv_cands_put(&w, &c);
	assert_true(w.err);
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
	struct rdv_addr a;
	char buf[64];

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(4242);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:203.0.113.9", &sin6.sin6_addr), 1);
	assert_int_equal(rdv_addr_from_sockaddr(&a, (struct sockaddr *)&sin6), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.port, 4242);
	assert_string_equal(rdv_addr_format(&a, buf, sizeof(buf)), "203.0.113.9:4242");
	assert_int_equal(rdv_addr_to_sockaddr(&a, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	a = th_rdv_addr("2001:db8::1", 9);
	assert_string_equal(rdv_addr_format(&a, buf, sizeof(buf)), "[2001:db8::1]:9");
	ss.ss_family = AF_UNIX;
	assert_int_equal(rdv_addr_from_sockaddr(&a, (struct sockaddr *)&ss), -1);
}

/* ---- keys and cookies ---- */

static void
test_keys(void **state)
{
	uint8_t cn[RDV_NONCE_LEN], sn[RDV_NONCE_LEN], ctx[32];
	uint8_t k1[RDV_SECRET_LEN], k2[RDV_SECRET_LEN], want[RDV_SECRET_LEN];

	(void)state;
	randombytes_buf(cn, sizeof(cn));
	randombytes_buf(sn, sizeof(sn));
	/* K_login = kdf(K_client, "login", cnonce || snonce), as documented. */
	rdv_login_key(k1, k_a, AUTH_HASH_LEN, cn, sn);
	memcpy(ctx, cn, 16);
	memcpy(ctx + 16, sn, 16);
	kdf(want, sizeof(want), k_a, AUTH_HASH_LEN, "login", ctx, sizeof(ctx));
	assert_memory_equal(k1, want, RDV_SECRET_LEN);
	sn[0] ^= 1;
	rdv_login_key(k2, k_a, AUTH_HASH_LEN, cn, sn);
	assert_memory_not_equal(k1, k2, RDV_SECRET_LEN);
	/* K_dev = kdf(secret, "device key"). */
	rdv_device_key(k1, "s3cret-of-the-device");
	kdf(want, sizeof(want), (const uint8_t *)"s3cret-of-the-device", 20, "device key", NULL, 0);
	assert_memory_equal(k1, want, RDV_SECRET_LEN);
	rdv_device_key(k2, "s3cret-of-the-devicf");
	assert_memory_not_equal(k1, k2, RDV_SECRET_LEN);
}

static void
test_cookie(void **state)
{
	uint8_t ks[RDV_SECRET_LEN], cn[RDV_NONCE_LEN], sn[RDV_NONCE_LEN], want[MAC_LEN];
	struct rdv_addr src = th_rdv_addr("203.0.113.3", 40001), other;
	struct rdv_id id, id2;
	const char *why;
	uint8_t in[128];
	size_t k = 0;

	(void)state;
	randombytes_buf(ks, sizeof(ks));
	randombytes_buf(cn, sizeof(cn));
	assert_int_equal(rdv_id_initiator(&id, "alice", &why), 0);
	rdv_cookie(sn, ks, 1000, &src, &id, cn);
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &src, &id, cn), 0);

	/* The documented input: "cookie" ts addr role id cnonce. */
	memcpy(in + k, "cookie", 6), k += 6;
	in[k++] = 0, in[k++] = 0, in[k++] = 0x03, in[k++] = 0xe8;
	in[k++] = 4, in[k++] = 40001 >> 8, in[k++] = 40001 & 0xff;
	memcpy(in + k, src.ip, 4), k += 4;
	in[k++] = RDV_ROLE_INITIATOR;
	memcpy(in + k, "alice", 5), k += 5;
	memcpy(in + k, cn, 16), k += 16;
	struct mac_part part = {in, k};
	mac_compute(want, ks, sizeof(ks), &part, 1);
	assert_memory_equal(sn, want, MAC_LEN);

	/* Another source address, port, ts, id, cnonce or key: refused. */
	other = th_rdv_addr("203.0.113.4", 40001);
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &other, &id, cn), -1);
	other = th_rdv_addr("203.0.113.3", 40002);
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &other, &id, cn), -1);
	assert_int_equal(rdv_cookie_verify(sn, ks, 1001, &src, &id, cn), -1);
	assert_int_equal(rdv_id_initiator(&id2, "alicf", &why), 0);
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &src, &id2, cn), -1);
	cn[3] ^= 0x40;
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &src, &id, cn), -1);
	cn[3] ^= 0x40;
	ks[0] ^= 1;
	assert_int_equal(rdv_cookie_verify(sn, ks, 1000, &src, &id, cn), -1);
}

/* ---- random input to every decoder ---- */

static void
test_random(void **state)
{
	static const parse_fn fns[] = {p_hello,	    p_challenge, p_auth,   p_auth_ok,
				       p_error,	    p_keepalive, p_ka_ack, p_intro,
				       p_intro_ack, p_relay,	 p_relayed};
	uint8_t pkt[RDV_RELAY_MAX + 8];
	union {
		struct rdv_auth a;
		struct rdv_intro i;
		struct rdv_relay r;
	} out;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = randombytes_uniform((iter & 2) ? RDV_MAX_DGRAM + 9 : sizeof(pkt) + 1);
		randombytes_buf(pkt, n);
		/* Half of them with a valid header, to get past the first check;
		 * some of those a relay header with a peer datagram inside. */
		if ((iter & 1) && n >= 2) {
			pkt[0] = (uint8_t)(RDV_HELLO + randombytes_uniform(9));
			pkt[1] = RDV_VERSION;
			if (iter % 3 == 0) {
				pkt[0] = (uint8_t)(RDV_RELAY + randombytes_uniform(2));
				if (n > RDV_RELAY_OVERHEAD)
					pkt[pkt[0] == RDV_RELAY ? 26 : 18] = 0xa0;
			}
		}
		for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
			int r = fns[f](pkt, n, &out, k_a);
			/* Authenticated messages never pass with random bytes. */
			if (fns[f] != p_hello && fns[f] != p_challenge && fns[f] != p_error)
				assert_int_not_equal(r, 0);
		}
		(void)rdv_msg_type(pkt, n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello),     cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_challenge), cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_auth_ok),   cmocka_unit_test(test_error),
	    cmocka_unit_test(test_keepalive), cmocka_unit_test(test_intro),
	    cmocka_unit_test(test_intro_ack), cmocka_unit_test(test_relay),
	    cmocka_unit_test(test_relayed),   cmocka_unit_test(test_cands),
	    cmocka_unit_test(test_sockaddr),  cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_cookie),    cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
