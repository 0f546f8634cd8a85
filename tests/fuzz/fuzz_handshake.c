/* libFuzzer harness for worker/handshake: every handler on any datagram, with
 * the invariants a caller relies on checked (abort = finding). The random
 * source is replaced by a deterministic one, reset for every input, so that a
 * run is reproducible. The first input byte chooses what the rest is:
 *   0  a datagram from anyone, given to hs_peek, hs_punch_check, the target
 *      (hs_tgt_on_init, hs_tgt_on_confirm) and the initiator (hs_ini_on_resp,
 *      hs_ini_on_reject): nothing may be accepted, and hs_peek must agree with
 *      the layout;
 *   1  the fields of an HS_INIT from a peer holding S (the harness adds the
 *      right mac): mode, indexes and e_i are hostile; an accepted one must
 *      give an HS_RESP that the layout and a repeat agree with;
 *   2  XOR masks over a genuine HS_INIT, HS_RESP and HS_CONFIRM (and a length
 *      change): each is accepted exactly when left unchanged, and then both
 *      sides hold the same keys.
 */
/* clang-format off */
/* Corpus seeds (written by tests/fuzz/run.sh):
 * FUZZ-SEED: 009001112233445566778802000102030405060708090a0b0c0d0e0f
 * FUZZ-SEED: 010f00000000000000000000a1a2a3a4030900000000000000000000000000000000000000000000000000000000000000
 * FUZZ-SEED: 010f00000000000000000000a1a2a3a4020000000000000000000000000000000000000000000000000000000000000000
 * FUZZ-SEED: 020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
 * FUZZ-SEED: 02000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001
 */
/* clang-format on */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "worker/handshake.h"
#include "tests/fuzz/fuzz.h"

#define SID	0x1122334455667788ULL
#define I_INDEX 0xa1a2a3a4u
#define T_INDEX 0xb1b2b3b4u

static const uint8_t S[HS_SECRET_LEN] = {7,  1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10,
					 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
					 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* A deterministic random source (xorshift64*), reset for every input. */
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static const char *
rng_name(void)
{
	return "p2pd-fuzz";
}

static uint32_t
rng_random(void)
{
	return (uint32_t)(rng_next() >> 32);
}

static void
rng_buf(void *buf, size_t n)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(rng_next() >> 56);
}

static randombytes_implementation rng_impl = {
    .implementation_name = rng_name,
    .random = rng_random,
    .buf = rng_buf,
};

static void
any_datagram(const uint8_t *d, size_t n)
{
	static const size_t lens[] = {HS_PUNCH_LEN, HS_INIT_LEN, HS_RESP_LEN, HS_CONFIRM_LEN,
				      HS_REJECT_LEN};
	uint8_t resp[HS_MAX_LEN], conf[HS_CONFIRM_LEN];
	struct hs_ini ini;
	struct hs_tgt tgt;
	struct hs_keys k;
	struct hs_peek pk;
	size_t rl, cl;
	uint32_t peer;
	int mode;

	if (hs_peek(d, n, &pk) == 0) {
		CHECK(pk.type >= HS_T_PUNCH && pk.type <= HS_T_REJECT && d[0] == pk.type);
		CHECK(n == lens[pk.type - HS_T_PUNCH] && d[1] == HS_VERSION);
		CHECK(pk.has_session == (pk.type != HS_T_CONFIRM));
		CHECK(pk.has_receiver == (pk.type == HS_T_RESP || pk.type == HS_T_CONFIRM));
	}
	CHECK(hs_punch_check(S, SID, HS_ROLE_TARGET, d, n) == -1);
	CHECK(hs_punch_check(S, SID, HS_ROLE_INITIATOR, d, n) == -1);
	memset(&tgt, 0, sizeof(tgt));
	CHECK(hs_tgt_on_init(&tgt, S, SID, 0xf, T_INDEX, d, n, resp, sizeof(resp), &rl, &k, &mode,
			     &peer) == HS_BAD);
	CHECK(tgt.why != NULL && tgt.state == HS_TGT_IDLE);
	CHECK(hs_tgt_on_confirm(&tgt, d, n) == -1);
	CHECK(hs_init_start(&ini, S, SID, 3, I_INDEX) == 0);
	CHECK(hs_ini_on_resp(&ini, d, n, conf, sizeof(conf), &cl, &k, &peer) == -1);
	CHECK(ini.why != NULL && ini.state == HS_INI_SENT);
	CHECK(hs_ini_on_reject(&ini, d, n) == -1);
	hs_ini_wipe(&ini);
}

static void
keyed_init(const uint8_t *d, size_t n)
{
	uint8_t init[HS_INIT_LEN], resp[HS_MAX_LEN], resp2[HS_MAX_LEN], khs[32];
	struct mac_part part = {init, HS_INIT_LEN - 16};
	struct hs_tgt tgt;
	struct hs_keys k;
	struct hs_peek pk;
	size_t rl, rl2;
	uint32_t peer;
	int mode, r;
	unsigned mask;

	if (n < 1)
		return;
	mask = d[0] & 0xf;
	memset(init, 0, sizeof(init));
	memcpy(init, d + 1, n - 1 < sizeof(init) ? n - 1 : sizeof(init));
	init[0] = HS_T_INIT;
	init[1] = HS_VERSION;
	for (int i = 0; i < 8; i++)
		init[2 + i] = (uint8_t)(SID >> (56 - 8 * i));
	kdf(khs, sizeof(khs), S, sizeof(S), "handshake", NULL, 0);
	mac_compute(init + HS_INIT_LEN - 16, khs, sizeof(khs), &part, 1);
	memset(&tgt, 0, sizeof(tgt));
	r = hs_tgt_on_init(&tgt, S, SID, mask, T_INDEX, init, sizeof(init), resp, sizeof(resp), &rl,
			   &k, &mode, &peer);
	switch (r) {
	case HS_REFUSED:
		CHECK(init[14] >= HS_NMODES || !(mask & (1u << init[14])));
		CHECK(rl == HS_REJECT_LEN && hs_peek(resp, rl, &pk) == 0 && pk.type == HS_T_REJECT);
		CHECK(tgt.state == HS_TGT_IDLE);
		break;
	case HS_OK:
		CHECK(init[14] < HS_NMODES && (mask & (1u << init[14])) && mode == init[14]);
		CHECK(peer == ((uint32_t)init[10] << 24 | (uint32_t)init[11] << 16 |
			       (uint32_t)init[12] << 8 | init[13]));
		CHECK(rl == HS_RESP_LEN && hs_peek(resp, rl, &pk) == 0 && pk.type == HS_T_RESP);
		CHECK(pk.session_id == SID && pk.receiver_index == peer);
		CHECK(memcmp(k.k_i2t, k.k_t2i, sizeof(k.k_i2t)) != 0);
		CHECK(hs_tgt_on_init(&tgt, S, SID, mask, T_INDEX, init, sizeof(init), resp2,
				     sizeof(resp2), &rl2, &k, &mode, &peer) == HS_REPEATED);
		CHECK(rl2 == rl && memcmp(resp, resp2, rl) == 0);
		break;
	default:
		/* Only a low-order e_i makes an authentic, allowed HS_INIT fail. */
		CHECK(r == HS_BAD && tgt.why != NULL && strstr(tgt.why, "low-order") != NULL);
		break;
	}
	hs_tgt_wipe(&tgt);
}

/* Apply the mask from d at *off to msg (len bytes): returns whether it changed
 * anything, and the new length in *n (a mask byte can shorten or lengthen). */
static int
mutate(uint8_t *msg, size_t len, size_t cap, size_t *n, const uint8_t *d, size_t dn, size_t *off)
{
	int changed = 0;
	int8_t dl = 0;

	if (*off < dn)
		dl = (int8_t)d[(*off)++];
	if (dl > 8 || dl < -8)
		dl = 0;
	*n = (size_t)((ssize_t)len + dl);
	if (*n > cap)
		*n = cap;
	for (size_t i = len; i < *n; i++)
		msg[i] = 0;
	for (size_t i = 0; i < *n && *off < dn; i++, (*off)++) {
		msg[i] ^= d[*off];
		changed |= d[*off] != 0;
	}
	return changed || *n != len;
}

static void
masked_run(const uint8_t *d, size_t n)
{
	uint8_t init[HS_MAX_LEN + 8], resp[HS_MAX_LEN + 8], conf[HS_MAX_LEN + 8];
	struct hs_keys ki, kt;
	struct hs_ini ini;
	struct hs_tgt tgt;
	size_t off = 0, len, rl, cl;
	uint32_t peer;
	const uint8_t *p;
	int mode, bad, r;

	CHECK(hs_init_start(&ini, S, SID, 3, I_INDEX) == 0);
	p = hs_ini_packet(&ini, &len);
	CHECK(p != NULL && len == HS_INIT_LEN);
	memcpy(init, p, len);
	bad = mutate(init, HS_INIT_LEN, sizeof(init), &len, d, n, &off);
	memset(&tgt, 0, sizeof(tgt));
	r = hs_tgt_on_init(&tgt, S, SID, 0xf, T_INDEX, init, len, resp, HS_MAX_LEN, &rl, &kt, &mode,
			   &peer);
	CHECK((r == HS_OK) == !bad);
	if (r != HS_OK)
		goto out;
	bad = mutate(resp, HS_RESP_LEN, sizeof(resp), &len, d, n, &off);
	r = hs_ini_on_resp(&ini, resp, len, conf, HS_CONFIRM_LEN, &cl, &ki, &peer);
	CHECK((r == 0) == !bad);
	if (r != 0)
		goto out;
	CHECK(memcmp(&ki, &kt, sizeof(ki)) == 0 && peer == T_INDEX);
	bad = mutate(conf, HS_CONFIRM_LEN, sizeof(conf), &len, d, n, &off);
	CHECK((hs_tgt_on_confirm(&tgt, conf, len) == 0) == !bad);
out:
	hs_ini_wipe(&ini);
	hs_tgt_wipe(&tgt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		CHECK(randombytes_set_implementation(&rng_impl) == 0);
		CHECK(keys_init() == 0);
		ready = 1;
	}
	if (size < 1)
		return 0;
	rng_state = 0x9e3779b97f4a7c15ULL;
	switch (data[0] % 3) {
	case 0:
		any_datagram(data + 1, size - 1);
		break;
	case 1:
		keyed_init(data + 1, size - 1);
		break;
	default:
		masked_run(data + 1, size - 1);
		break;
	}
	return 0;
}
