/* Unit tests for worker/handshake: PUNCH, HS_INIT, HS_RESP, HS_CONFIRM, HS_REJECT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/keys.h"
#include "common/util.h"
#include "worker/handshake.h"
#include "tests/unit/helper_test.h"

#define SID	0x1122334455667788ULL
#define I_INDEX 0xa1a2a3a4u
#define T_INDEX 0xb1b2b3b4u
#define ALL	0xfu

static const uint8_t flips[] = {0x01, 0x80, 0xff};

/* The number of one-byte changes made to an n-byte packet: each flip at each byte. */
#define NFLIPS(n) ((n)*ARRAY_LEN(flips))

/* Copies pkt[0..n) into bad with change k (0 <= k < NFLIPS(n)) made. */
static void
flip(uint8_t *bad, const uint8_t *pkt, size_t n, size_t k)
{
	memcpy(bad, pkt, n);
	bad[k / ARRAY_LEN(flips)] ^= flips[k % ARRAY_LEN(flips)];
}

static void
secret(uint8_t s[HS_SECRET_LEN], uint8_t start)
{
	for (int i = 0; i < HS_SECRET_LEN; i++)
		s[i] = (uint8_t)(start + 3 * i);
}

static int
setup(void **state)
{
	(void)state;
	return keys_init();
}

/* One complete exchange so far as the caller asks for. */
struct run {
	uint8_t s[HS_SECRET_LEN];
	struct hs_ini ini;
	struct hs_tgt tgt;
	uint8_t init[HS_INIT_LEN], resp[HS_MAX_LEN], conf[HS_CONFIRM_LEN];
	size_t resp_len, conf_len;
	struct hs_keys ki, kt;
	int mode;
	uint32_t ini_peer, tgt_peer;
};

static void
run_init(struct run *r, int mode)
{
	const uint8_t *p;
	size_t n;

	memset(r, 0, sizeof(*r));
	secret(r->s, 7);
	assert_int_equal(hs_init_start(&r->ini, r->s, SID, mode, I_INDEX), 0);
	p = hs_ini_packet(&r->ini, &n);
	assert_non_null(p);
	assert_int_equal(n, HS_INIT_LEN);
	memcpy(r->init, p, n);
}

static void
run_resp(struct run *r)
{
	assert_int_equal(hs_tgt_on_init(&r->tgt, r->s, SID, ALL, T_INDEX, r->init, HS_INIT_LEN,
					r->resp, sizeof(r->resp), &r->resp_len, &r->kt, &r->mode,
					&r->tgt_peer),
			 HS_OK);
	assert_int_equal(r->resp_len, HS_RESP_LEN);
}

/* The initiator takes r->resp and writes its HS_CONFIRM into r->conf. */
static void
run_confirm(struct run *r)
{
	assert_int_equal(hs_ini_on_resp(&r->ini, r->resp, r->resp_len, r->conf, sizeof(r->conf),
					&r->conf_len, &r->ki, &r->ini_peer),
			 0);
	assert_int_equal(r->conf_len, HS_CONFIRM_LEN);
}

static void
run_all(struct run *r, int mode)
{
	run_init(r, mode);
	run_resp(r);
	run_confirm(r);
	assert_int_equal(hs_tgt_on_confirm(&r->tgt, r->conf, r->conf_len), 0);
}

/* What r->tgt answers to the HS_INIT init[0..n), holding secret s, expecting
 * session sid and allowing the modes in allow; the answer is thrown away. */
static int
tgt_answer(struct run *r, const uint8_t *s, uint64_t sid, unsigned allow, const uint8_t *init,
	   size_t n)
{
	uint8_t resp[HS_MAX_LEN];
	struct hs_keys k;
	size_t rl;
	uint32_t peer;
	int mode;

	return hs_tgt_on_init(&r->tgt, s, sid, allow, T_INDEX, init, n, resp, sizeof(resp), &rl, &k,
			      &mode, &peer);
}

/* A target allowing only the modes in allow refuses r's HS_INIT: its
 * HS_REJECT into rej (HS_MAX_LEN bytes), its length into *rl. */
static void
run_refused(struct run *r, unsigned allow, uint8_t *rej, size_t *rl)
{
	struct hs_keys k;
	uint32_t peer;
	int mode;

	assert_int_equal(hs_tgt_on_init(&r->tgt, r->s, SID, allow, T_INDEX, r->init, HS_INIT_LEN,
					rej, HS_MAX_LEN, rl, &k, &mode, &peer),
			 HS_REFUSED);
	assert_int_equal(*rl, HS_REJECT_LEN);
	assert_int_equal(mode, r->ini.mode); /* the mode asked for, for the message */
}

/* What ini answers to the HS_RESP resp[0..n); the HS_CONFIRM is thrown away. */
static int
ini_answer(struct hs_ini *ini, const uint8_t *resp, size_t n)
{
	uint8_t conf[HS_CONFIRM_LEN];
	struct hs_keys k;
	size_t cl;
	uint32_t peer;

	return hs_ini_on_resp(ini, resp, n, conf, sizeof(conf), &cl, &k, &peer);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static void
test_full_handshake(void **state)
{
	struct run r;

	(void)state;
	for (int mode = 0; mode < HS_NMODES; mode++) {
		run_all(&r, mode);
		assert_memory_equal(r.ki.k_i2t, r.kt.k_i2t, HS_KEY_LEN);
		assert_memory_equal(r.ki.k_t2i, r.kt.k_t2i, HS_KEY_LEN);
		assert_memory_not_equal(r.ki.k_i2t, r.ki.k_t2i, HS_KEY_LEN);
		assert_int_equal(r.mode, mode);
		assert_int_equal(r.ini_peer, T_INDEX);
		assert_int_equal(r.tgt_peer, I_INDEX);
		assert_int_equal(r.ini.state, HS_INI_DONE);
		assert_int_equal(r.tgt.state, HS_TGT_CONFIRMED);
		/* The initiator's ephemeral and S are gone. */
		assert_true(all_zero(r.ini.e_priv, sizeof(r.ini.e_priv)));
		assert_true(all_zero(r.ini.s, sizeof(r.ini.s)));
		assert_null(hs_ini_packet(&r.ini, &r.resp_len));
		/* The wire layout: types, versions, indexes where the doc puts them. */
		assert_int_equal(r.init[0], HS_T_INIT);
		assert_int_equal(r.init[14], mode);
		assert_int_equal(r.resp[0], HS_T_RESP);
		assert_int_equal(r.conf[0], HS_T_CONFIRM);
		assert_int_equal(r.conf[2], 0xb1);
		hs_ini_wipe(&r.ini);
		hs_tgt_wipe(&r.tgt);
		assert_true(all_zero(&r.tgt.confirm_i, sizeof(r.tgt.confirm_i)));
	}
}

/* Recompute the key schedule of PROTOCOL.md section 4 straight from the doc,
 * from the initiator's ephemeral private key and the public transcript. */
static void
test_key_schedule_matches_doc(void **state)
{
	uint8_t e_i[32], dh[32], th[32], ctx[64], m[32], kc[32], tag[16];
	struct hs_keys want;
	struct mac_part part = {th, 32};
	crypto_generichash_state st;
	struct run r;

	(void)state;
	run_init(&r, 3);
	memcpy(e_i, r.ini.e_priv, 32);
	run_resp(&r);
	run_confirm(&r);
	/* HS_INIT's mac = MAC(kdf(S, "handshake"), the 47 bytes before it). */
	{
		uint8_t khs[32];
		struct mac_part ip = {r.init, 47};
		kdf(khs, 32, r.s, 32, "handshake", NULL, 0);
		mac_compute(tag, khs, 32, &ip, 1);
		assert_memory_equal(tag, r.init + 47, 16);
	}
	assert_int_equal(crypto_scalarmult(dh, e_i, r.resp + 18), 0);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, r.init, HS_INIT_LEN);
	crypto_generichash_update(&st, r.resp, 50);
	crypto_generichash_final(&st, th, 32);
	memcpy(ctx, dh, 32);
	memcpy(ctx + 32, th, 32);
	kdf(m, 32, r.s, 32, "session", ctx, 64);
	kdf(want.k_i2t, 32, m, 32, "i2t", NULL, 0);
	kdf(want.k_t2i, 32, m, 32, "t2i", NULL, 0);
	assert_memory_equal(&want, &r.ki, sizeof(want));
	kdf(kc, 32, m, 32, "confirm t", NULL, 0);
	mac_compute(tag, kc, 32, &part, 1);
	assert_memory_equal(tag, r.resp + 50, 16);
	kdf(kc, 32, m, 32, "confirm i", NULL, 0);
	mac_compute(tag, kc, 32, &part, 1);
	assert_memory_equal(tag, r.conf + 6, 16);
}

/* Same S, same session, same indexes: fresh ephemerals give unrelated keys, so
 * S and the transcript alone (what the server and an eavesdropper have) are
 * not enough to compute them. */
static void
test_keys_depend_on_ephemerals(void **state)
{
	struct run a, b;

	(void)state;
	run_all(&a, 3);
	run_all(&b, 3);
	assert_memory_equal(a.s, b.s, HS_SECRET_LEN);
	assert_memory_not_equal(a.init + 15, b.init + 15, 32);
	assert_memory_not_equal(a.ki.k_i2t, b.ki.k_i2t, HS_KEY_LEN);
	assert_memory_not_equal(a.ki.k_t2i, b.ki.k_t2i, HS_KEY_LEN);
	/* Nor is any key one of the S-only derivations. */
	{
		uint8_t k[32];
		static const char *const labels[] = {"handshake", "punch", "session", "i2t", "t2i"};
		for (size_t i = 0; i < ARRAY_LEN(labels); i++) {
			kdf(k, 32, a.s, 32, labels[i], NULL, 0);
			assert_memory_not_equal(k, a.ki.k_i2t, 32);
			assert_memory_not_equal(k, a.ki.k_t2i, 32);
		}
	}
}

static void
test_tamper_init(void **state)
{
	uint8_t bad[HS_INIT_LEN];
	struct run r;

	(void)state;
	run_init(&r, 1);
	for (size_t ch = 0; ch < NFLIPS(HS_INIT_LEN); ch++) {
		flip(bad, r.init, HS_INIT_LEN, ch);
		assert_int_equal(tgt_answer(&r, r.s, SID, ALL, bad, HS_INIT_LEN), HS_BAD);
		assert_int_equal(r.tgt.state, HS_TGT_IDLE);
		assert_non_null(r.tgt.why);
	}
	run_resp(&r); /* the real one still works */
}

static void
test_tamper_resp(void **state)
{
	uint8_t bad[HS_RESP_LEN];
	struct run r;

	(void)state;
	run_init(&r, 2);
	run_resp(&r);
	for (size_t ch = 0; ch < NFLIPS(HS_RESP_LEN); ch++) {
		flip(bad, r.resp, HS_RESP_LEN, ch);
		assert_int_equal(ini_answer(&r.ini, bad, HS_RESP_LEN), -1);
		assert_int_equal(r.ini.state, HS_INI_SENT);
	}
	run_confirm(&r);
	assert_memory_equal(&r.ki, &r.kt, sizeof(r.ki));
	/* Once done, any HS_RESP (even the same) is refused. */
	assert_int_equal(ini_answer(&r.ini, r.resp, r.resp_len), -1);
}

static void
test_tamper_confirm(void **state)
{
	uint8_t bad[HS_CONFIRM_LEN];
	struct run r;

	(void)state;
	run_init(&r, 0);
	run_resp(&r);
	run_confirm(&r);
	for (size_t ch = 0; ch < NFLIPS(HS_CONFIRM_LEN); ch++) {
		flip(bad, r.conf, HS_CONFIRM_LEN, ch);
		assert_int_equal(hs_tgt_on_confirm(&r.tgt, bad, HS_CONFIRM_LEN), -1);
		assert_int_equal(r.tgt.state, HS_TGT_RESPONDED);
	}
	assert_int_equal(hs_tgt_on_confirm(&r.tgt, r.conf, r.conf_len), 0);
	assert_int_equal(hs_tgt_on_confirm(&r.tgt, r.conf, r.conf_len), 0); /* a copy */
	assert_int_equal(r.tgt.state, HS_TGT_CONFIRMED);
}

static void
test_wrong_secret_and_session(void **state)
{
	uint8_t other[HS_SECRET_LEN];
	struct run r;

	(void)state;
	run_init(&r, 3);
	memcpy(other, r.s, sizeof(other));
	other[0] ^= 1;
	/* The target holds another S, or expects another session. */
	assert_int_equal(tgt_answer(&r, other, SID, ALL, r.init, HS_INIT_LEN), HS_BAD);
	assert_int_equal(tgt_answer(&r, r.s, SID + 1, ALL, r.init, HS_INIT_LEN), HS_BAD);
	/* The initiator holds another S: the target's confirm_t does not verify. */
	run_resp(&r);
	{
		struct hs_ini copy = r.ini;
		memcpy(copy.s, other, sizeof(other));
		assert_int_equal(ini_answer(&copy, r.resp, r.resp_len), -1);
		/* Or believes in another session id or index. */
		copy = r.ini;
		copy.session_id++;
		assert_int_equal(ini_answer(&copy, r.resp, r.resp_len), -1);
		copy = r.ini;
		copy.my_index++;
		assert_int_equal(ini_answer(&copy, r.resp, r.resp_len), -1);
		hs_ini_wipe(&copy);
	}
	/* An HS_RESP answering another initiator's HS_INIT (same S, session, index). */
	{
		struct run r2;
		run_init(&r2, 3);
		assert_int_equal(ini_answer(&r2.ini, r.resp, r.resp_len), -1);
	}
	/* HS_CONFIRM from a handshake with another target state. */
	{
		struct run r3;
		run_all(&r3, 3);
		assert_int_equal(hs_tgt_on_confirm(&r.tgt, r3.conf, r3.conf_len), -1);
	}
}

/* Build an authentic HS_INIT with any mode and e_i (as a peer holding S could). */
static void
craft_init(const uint8_t s[HS_SECRET_LEN], int mode, const uint8_t e_i[32],
	   uint8_t out[HS_INIT_LEN])
{
	uint8_t k[32];
	struct mac_part part = {out, 47};

	out[0] = HS_T_INIT;
	out[1] = HS_VERSION;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(SID >> (56 - 8 * i));
	memcpy(out + 10, "\xa1\xa2\xa3\xa4", 4);
	out[14] = (uint8_t)mode;
	memcpy(out + 15, e_i, 32);
	kdf(k, 32, s, 32, "handshake", NULL, 0);
	mac_compute(out + 47, k, 32, &part, 1);
}

static void
test_mode_refused(void **state)
{
	uint8_t rej[HS_MAX_LEN], bad[HS_REJECT_LEN], resp[HS_MAX_LEN];
	struct hs_keys k;
	size_t rl;
	uint32_t peer;
	int mode;
	struct run r;

	(void)state;
	run_init(&r, 2);
	/* This target allows 0, 1, 3 but not 2. */
	run_refused(&r, 0xb, rej, &rl);
	assert_int_equal(rej[0], HS_T_REJECT);
	assert_int_equal(r.tgt.state, HS_TGT_IDLE);
	/* Tampered, other session, other S: not believed. */
	for (size_t ch = 0; ch < NFLIPS(HS_REJECT_LEN); ch++) {
		flip(bad, rej, HS_REJECT_LEN, ch);
		assert_int_equal(hs_ini_on_reject(&r.ini, bad, HS_REJECT_LEN), -1);
	}
	{
		struct hs_ini copy = r.ini;
		copy.s[5] ^= 0x20;
		assert_int_equal(hs_ini_on_reject(&copy, rej, rl), -1);
		copy = r.ini;
		copy.session_id ^= 1;
		assert_int_equal(hs_ini_on_reject(&copy, rej, rl), -1);
	}
	for (size_t n = 0; n < HS_REJECT_LEN + 4; n++)
		if (n != HS_REJECT_LEN)
			assert_int_equal(hs_ini_on_reject(&r.ini, rej, n), -1);
	/* The real one: reason 1. */
	assert_int_equal(hs_ini_on_reject(&r.ini, rej, rl), HS_REJECT_MODE);
	/* An authentic HS_INIT with a mode that does not exist is refused too. */
	{
		uint8_t init[HS_INIT_LEN], pub[32], priv[32];
		randombytes_buf(priv, 32);
		crypto_scalarmult_base(pub, priv);
		for (int m = 4; m < 256; m += 50) {
			craft_init(r.s, m, pub, init);
			assert_int_equal(tgt_answer(&r, r.s, SID, 0xffffffffu, init, HS_INIT_LEN),
					 HS_REFUSED);
		}
	}
	/* The target kept no state: an allowed mode from a new HS_INIT goes through. */
	run_init(&r, 3);
	assert_int_equal(hs_tgt_on_init(&r.tgt, r.s, SID, 0xb, T_INDEX, r.init, HS_INIT_LEN, resp,
					sizeof(resp), &rl, &k, &mode, &peer),
			 HS_OK);
	assert_int_equal(mode, 3);
	/* A reject is not taken once the handshake is over. */
	assert_int_equal(
	    hs_ini_on_resp(&r.ini, resp, rl, r.conf, sizeof(r.conf), &r.conf_len, &k, &peer), 0);
	assert_int_equal(hs_ini_on_reject(&r.ini, rej, HS_REJECT_LEN), -1);
}

/* Low-order points (libsodium's blocklist): their shared secret is all zero. */
static const char *const low_order[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void
test_low_order_keys(void **state)
{
	uint8_t pt[32], init[HS_INIT_LEN], resp[HS_MAX_LEN];
	struct run r;

	(void)state;
	run_init(&r, 3);
	for (size_t i = 0; i < ARRAY_LEN(low_order); i++) {
		th_unhex(low_order[i], pt, 32);
		/* From an initiator (authentic HS_INIT, bad e_i). */
		craft_init(r.s, 3, pt, init);
		assert_int_equal(tgt_answer(&r, r.s, SID, ALL, init, HS_INIT_LEN), HS_BAD);
		assert_int_equal(r.tgt.state, HS_TGT_IDLE);
		/* From a target (HS_RESP with bad e_t): refused before any key. */
		memset(resp, 0, sizeof(resp));
		resp[0] = HS_T_RESP;
		resp[1] = HS_VERSION;
		memcpy(resp + 2, r.init + 2, 8);
		memcpy(resp + 14, "\xa1\xa2\xa3\xa4", 4);
		memcpy(resp + 18, pt, 32);
		assert_int_equal(ini_answer(&r.ini, resp, HS_RESP_LEN), -1);
		assert_non_null(strstr(r.ini.why, "low-order"));
		assert_int_equal(r.ini.state, HS_INI_SENT);
	}
	run_resp(&r);
}

static void
test_truncated_and_oversized(void **state)
{
	uint8_t big[HS_MAX_LEN + 16], resp[HS_MAX_LEN], conf[HS_CONFIRM_LEN];
	struct hs_keys k;
	struct hs_peek pk;
	size_t rl, cl;
	uint32_t peer;
	int mode;
	struct run r;

	(void)state;
	run_init(&r, 1);
	memset(big, 0, sizeof(big));
	memcpy(big, r.init, HS_INIT_LEN);
	for (size_t n = 0; n < sizeof(big); n++) {
		if (n == HS_INIT_LEN)
			continue;
		assert_int_equal(tgt_answer(&r, r.s, SID, ALL, big, n), HS_BAD);
		assert_int_equal(hs_peek(big, n, &pk), -1);
	}
	/* Room for the answer is checked before anything. */
	assert_int_equal(hs_tgt_on_init(&r.tgt, r.s, SID, ALL, T_INDEX, r.init, HS_INIT_LEN, resp,
					HS_MAX_LEN - 1, &rl, &k, &mode, &peer),
			 HS_BAD);
	run_resp(&r);
	memcpy(big, r.resp, HS_RESP_LEN);
	for (size_t n = 0; n < sizeof(big); n++) {
		if (n == HS_RESP_LEN)
			continue;
		assert_int_equal(ini_answer(&r.ini, big, n), -1);
		assert_int_equal(hs_peek(big, n, &pk), -1);
	}
	assert_int_equal(
	    hs_ini_on_resp(&r.ini, r.resp, r.resp_len, conf, HS_CONFIRM_LEN - 1, &cl, &k, &peer),
	    -1);
	run_confirm(&r);
	memcpy(big, r.conf, HS_CONFIRM_LEN);
	for (size_t n = 0; n < sizeof(big); n++) {
		if (n == HS_CONFIRM_LEN)
			continue;
		assert_int_equal(hs_tgt_on_confirm(&r.tgt, big, n), -1);
		assert_int_equal(hs_peek(big, n, &pk), -1);
	}
	assert_int_equal(hs_tgt_on_confirm(&r.tgt, r.conf, r.conf_len), 0);
}

static void
test_repeated_init(void **state)
{
	uint8_t resp2[HS_MAX_LEN], conf[HS_CONFIRM_LEN];
	struct hs_keys k, sentinel;
	size_t rl = 0, cl;
	uint32_t peer = 77;
	int mode = 77;
	struct run r, other;

	(void)state;
	/* No HS_CONFIRM before an HS_RESP. */
	run_init(&r, 1);
	memset(conf, 0, sizeof(conf));
	conf[0] = HS_T_CONFIRM;
	conf[1] = HS_VERSION;
	assert_int_equal(hs_tgt_on_confirm(&r.tgt, conf, sizeof(conf)), -1);
	run_resp(&r);
	/* A copy of the HS_INIT: the very same HS_RESP, and no keys again. */
	memset(&sentinel, 0x5a, sizeof(sentinel));
	k = sentinel;
	assert_int_equal(hs_tgt_on_init(&r.tgt, r.s, SID, ALL, T_INDEX, r.init, HS_INIT_LEN, resp2,
					sizeof(resp2), &rl, &k, &mode, &peer),
			 HS_REPEATED);
	assert_int_equal(rl, HS_RESP_LEN);
	assert_memory_equal(resp2, r.resp, HS_RESP_LEN);
	assert_memory_equal(&k, &sentinel, sizeof(k));
	assert_int_equal(mode, 77);
	assert_int_equal(peer, 77);
	/* Another initiator's HS_INIT for the same session: refused. */
	run_init(&other, 1);
	assert_int_equal(hs_tgt_on_init(&r.tgt, r.s, SID, ALL, T_INDEX, other.init, HS_INIT_LEN,
					resp2, sizeof(resp2), &rl, &k, &mode, &peer),
			 HS_BAD);
	/* The initiator finishes on either copy of the HS_RESP. */
	assert_int_equal(
	    hs_ini_on_resp(&r.ini, resp2, HS_RESP_LEN, conf, sizeof(conf), &cl, &k, &peer), 0);
	assert_memory_equal(&k, &r.kt, sizeof(k));
	assert_int_equal(hs_tgt_on_confirm(&r.tgt, conf, cl), 0);
	/* Still repeated after the confirmation. */
	assert_int_equal(hs_tgt_on_init(&r.tgt, r.s, SID, ALL, T_INDEX, r.init, HS_INIT_LEN, resp2,
					sizeof(resp2), &rl, &k, &mode, &peer),
			 HS_REPEATED);
}

static void
test_initiator_api(void **state)
{
	uint8_t s[HS_SECRET_LEN];
	struct hs_ini ini;
	const uint8_t *p1, *p2;
	size_t n = 0;

	(void)state;
	secret(s, 1);
	memset(&ini, 0, sizeof(ini));
	assert_null(hs_ini_packet(&ini, &n));
	assert_int_equal(hs_init_start(&ini, s, SID, 4, 1), -1);
	assert_int_equal(hs_init_start(&ini, s, SID, -1, 1), -1);
	assert_null(hs_ini_packet(&ini, &n));
	assert_int_equal(hs_init_start(&ini, s, SID, 0, 1), 0);
	/* Retransmissions are the same bytes. */
	p1 = hs_ini_packet(&ini, &n);
	p2 = hs_ini_packet(&ini, &n);
	assert_ptr_equal(p1, p2);
	/* A reject before anything was sent is refused. */
	hs_ini_wipe(&ini);
	assert_true(all_zero(&ini, offsetof(struct hs_ini, why)));
	{
		uint8_t rej[HS_REJECT_LEN] = {HS_T_REJECT, HS_VERSION};
		assert_int_equal(hs_ini_on_reject(&ini, rej, sizeof(rej)), -1);
	}
}

static void
test_punch(void **state)
{
	uint8_t s[HS_SECRET_LEN], other[HS_SECRET_LEN], p[64], bad[64];
	ssize_t n;

	(void)state;
	secret(s, 9);
	secret(other, 10);
	assert_int_equal(hs_punch_build(s, SID, 3, p, sizeof(p)), -1);
	assert_int_equal(hs_punch_build(s, SID, HS_ROLE_TARGET, p, HS_PUNCH_LEN - 1), -1);
	n = hs_punch_build(s, SID, HS_ROLE_TARGET, p, sizeof(p));
	assert_int_equal(n, HS_PUNCH_LEN);
	assert_int_equal(hs_punch_check(s, SID, HS_ROLE_TARGET, p, (size_t)n), 0);
	/* Our own punch reflected back is not the peer's. */
	assert_int_equal(hs_punch_check(s, SID, HS_ROLE_INITIATOR, p, (size_t)n), -1);
	assert_int_equal(hs_punch_check(other, SID, HS_ROLE_TARGET, p, (size_t)n), -1);
	assert_int_equal(hs_punch_check(s, SID + 1, HS_ROLE_TARGET, p, (size_t)n), -1);
	for (size_t ch = 0; ch < NFLIPS((size_t)n); ch++) {
		flip(bad, p, (size_t)n, ch);
		assert_int_equal(hs_punch_check(s, SID, HS_ROLE_TARGET, bad, (size_t)n), -1);
	}
	for (size_t k = 0; k < sizeof(p); k++)
		if (k != (size_t)n)
			assert_int_equal(hs_punch_check(s, SID, HS_ROLE_TARGET, p, k), -1);
	n = hs_punch_build(s, SID, HS_ROLE_INITIATOR, p, sizeof(p));
	assert_int_equal(hs_punch_check(s, SID, HS_ROLE_INITIATOR, p, (size_t)n), 0);
}

static void
test_peek(void **state)
{
	struct hs_peek pk;
	uint8_t punch[HS_PUNCH_LEN], rej[HS_MAX_LEN];
	size_t rl;
	struct run r;

	(void)state;
	run_all(&r, 3);
	assert_int_equal(hs_peek(r.init, HS_INIT_LEN, &pk), 0);
	assert_int_equal(pk.type, HS_T_INIT);
	assert_true(pk.has_session && !pk.has_receiver);
	assert_true(pk.session_id == SID);
	assert_int_equal(hs_peek(r.resp, HS_RESP_LEN, &pk), 0);
	assert_int_equal(pk.type, HS_T_RESP);
	assert_true(pk.has_session && pk.has_receiver);
	assert_true(pk.session_id == SID);
	assert_int_equal(pk.receiver_index, I_INDEX);
	assert_int_equal(hs_peek(r.conf, HS_CONFIRM_LEN, &pk), 0);
	assert_int_equal(pk.type, HS_T_CONFIRM);
	assert_true(!pk.has_session && pk.has_receiver);
	assert_int_equal(pk.receiver_index, T_INDEX);
	hs_punch_build(r.s, SID, HS_ROLE_INITIATOR, punch, sizeof(punch));
	assert_int_equal(hs_peek(punch, sizeof(punch), &pk), 0);
	assert_int_equal(pk.type, HS_T_PUNCH);
	assert_true(pk.session_id == SID);
	run_init(&r, 2);
	run_refused(&r, 1, rej, &rl);
	assert_int_equal(hs_peek(rej, rl, &pk), 0);
	assert_int_equal(pk.type, HS_T_REJECT);
	assert_true(pk.session_id == SID);
	/* Wrong version, unknown types. */
	punch[1] = 2;
	assert_int_equal(hs_peek(punch, sizeof(punch), &pk), -1);
	punch[1] = HS_VERSION;
	punch[0] = 0x95;
	assert_int_equal(hs_peek(punch, sizeof(punch), &pk), -1);
	punch[0] = 0x8f;
	assert_int_equal(hs_peek(punch, sizeof(punch), &pk), -1);
	assert_int_equal(hs_peek(punch, 0, &pk), -1);
	assert_int_equal(hs_peek(punch, 1, &pk), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_handshake),
	    cmocka_unit_test(test_key_schedule_matches_doc),
	    cmocka_unit_test(test_keys_depend_on_ephemerals),
	    cmocka_unit_test(test_tamper_init),
	    cmocka_unit_test(test_tamper_resp),
	    cmocka_unit_test(test_tamper_confirm),
	    cmocka_unit_test(test_wrong_secret_and_session),
	    cmocka_unit_test(test_mode_refused),
	    cmocka_unit_test(test_low_order_keys),
	    cmocka_unit_test(test_truncated_and_oversized),
	    cmocka_unit_test(test_repeated_init),
	    cmocka_unit_test(test_initiator_api),
	    cmocka_unit_test(test_punch),
	    cmocka_unit_test(test_peek),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
