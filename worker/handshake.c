/* handshake: the peer handshake (see handshake.h and docs/PROTOCOL.md section 4). */
#include "worker/handshake.h"

#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/keys.h"

#define X_LEN	 crypto_scalarmult_BYTES /* 32: an X25519 key */
#define TH_LEN	 32
#define HDR_LEN	 2			 /* type, version */
#define RESP_TH	 (HS_RESP_LEN - MAC_LEN) /* HS_RESP bytes the transcript covers */
#define INIT_MAC (HS_INIT_LEN - MAC_LEN) /* HS_INIT bytes its MAC covers */

/* What one handshake derives; wiped by the caller. */
struct hs_derived {
	struct hs_keys keys;
	uint8_t confirm_t[MAC_LEN];
	uint8_t confirm_i[MAC_LEN];
};

static int
header_ok(const uint8_t *pkt, size_t n, int type, size_t len)
{
	return n == len && pkt[0] == type && pkt[1] == HS_VERSION;
}

static uint64_t
read_u64_at(const uint8_t *pkt, size_t n, size_t off)
{
	struct rbuf r;

	rbuf_init(&r, pkt, n);
	(void)rbuf_take(&r, off);
	return rbuf_u64(&r);
}

static uint32_t
read_u32_at(const uint8_t *pkt, size_t n, size_t off)
{
	struct rbuf r;

	rbuf_init(&r, pkt, n);
	(void)rbuf_take(&r, off);
	return rbuf_u32(&r);
}

int
hs_peek(const uint8_t *pkt, size_t n, struct hs_peek *out)
{
	static const size_t lens[] = {HS_PUNCH_LEN, HS_INIT_LEN, HS_RESP_LEN, HS_CONFIRM_LEN,
				      HS_REJECT_LEN};
	int type;

	memset(out, 0, sizeof(*out));
	if (n < HDR_LEN)
		return -1;
	type = pkt[0];
	if (type < HS_T_PUNCH || type > HS_T_REJECT ||
	    !header_ok(pkt, n, type, lens[type - HS_T_PUNCH]))
		return -1;
	out->type = type;
	if (type == HS_T_CONFIRM) {
		out->has_receiver = 1;
		out->receiver_index = read_u32_at(pkt, n, HDR_LEN);
		return 0;
	}
	out->has_session = 1;
	out->session_id = read_u64_at(pkt, n, HDR_LEN);
	if (type == HS_T_RESP) {
		out->has_receiver = 1;
		out->receiver_index = read_u32_at(pkt, n, HDR_LEN + 8 + 4);
	}
	return 0;
}

/* A MAC keyed with kdf(s, label) over pkt[0..n). */
static void
session_mac(const uint8_t s[HS_SECRET_LEN], const char *label, const uint8_t *pkt, size_t n,
	    uint8_t tag[MAC_LEN])
{
	uint8_t k[KEY_LEN];
	struct mac_part part = {pkt, n};

	kdf(k, sizeof(k), s, HS_SECRET_LEN, label, NULL, 0);
	mac_compute(tag, k, sizeof(k), &part, 1);
	sodium_memzero(k, sizeof(k));
}

static int
session_mac_ok(const uint8_t s[HS_SECRET_LEN], const char *label, const uint8_t *pkt, size_t n)
{
	uint8_t want[MAC_LEN];
	int r;

	session_mac(s, label, pkt, n, want);
	r = ct_memcmp(want, pkt + n, MAC_LEN);
	sodium_memzero(want, sizeof(want));
	return r;
}

/* The key schedule of section 4, from our private and the peer's public
 * ephemeral and the transcript (HS_INIT, HS_RESP up to confirm_t). Returns -1
 * if the shared secret is all zero (a low-order peer key). */
static int
derive(const uint8_t s[HS_SECRET_LEN], const uint8_t priv[X_LEN], const uint8_t peer[X_LEN],
       const uint8_t init_pkt[HS_INIT_LEN], const uint8_t resp_head[RESP_TH], struct hs_derived *d)
{
	crypto_generichash_state st;
	uint8_t ctx[X_LEN + TH_LEN], m[KEY_LEN], kc[KEY_LEN];
	uint8_t *dh = ctx, *th = ctx + X_LEN;
	struct mac_part part = {th, TH_LEN};

	if (crypto_scalarmult(dh, priv, peer) != 0) {
		sodium_memzero(ctx, sizeof(ctx));
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, TH_LEN);
	crypto_generichash_update(&st, init_pkt, HS_INIT_LEN);
	crypto_generichash_update(&st, resp_head, RESP_TH);
	crypto_generichash_final(&st, th, TH_LEN);
	kdf(m, sizeof(m), s, HS_SECRET_LEN, "session", ctx, sizeof(ctx));
	kdf(d->keys.k_i2t, HS_KEY_LEN, m, sizeof(m), "i2t", NULL, 0);
	kdf(d->keys.k_t2i, HS_KEY_LEN, m, sizeof(m), "t2i", NULL, 0);
	kdf(kc, sizeof(kc), m, sizeof(m), "confirm t", NULL, 0);
	mac_compute(d->confirm_t, kc, sizeof(kc), &part, 1);
	kdf(kc, sizeof(kc), m, sizeof(m), "confirm i", NULL, 0);
	mac_compute(d->confirm_i, kc, sizeof(kc), &part, 1);
	sodium_memzero(ctx, sizeof(ctx));
	sodium_memzero(m, sizeof(m));
	sodium_memzero(kc, sizeof(kc));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

ssize_t
hs_punch_build(const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int role, uint8_t *out,
	       size_t cap)
{
	struct wbuf w;

	if (role != HS_ROLE_TARGET && role != HS_ROLE_INITIATOR)
		return -1;
	wbuf_init(&w, out, cap);
	wbuf_u8(&w, HS_T_PUNCH);
	wbuf_u8(&w, HS_VERSION);
	wbuf_u64(&w, session_id);
	wbuf_u8(&w, (uint8_t)role);
	if (wbuf_reserve(&w, MAC_LEN) == NULL)
		return -1;
	session_mac(s, "punch", out, HS_PUNCH_LEN - MAC_LEN, out + HS_PUNCH_LEN - MAC_LEN);
	return HS_PUNCH_LEN;
}

int
hs_punch_check(const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int from_role,
	       const uint8_t *pkt, size_t n)
{
	if (!header_ok(pkt, n, HS_T_PUNCH, HS_PUNCH_LEN) ||
	    read_u64_at(pkt, n, HDR_LEN) != session_id || pkt[HDR_LEN + 8] != from_role)
		return -1;
	return session_mac_ok(s, "punch", pkt, HS_PUNCH_LEN - MAC_LEN);
}

int
hs_init_start(struct hs_ini *ini, const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int mode,
	      uint32_t my_index)
{
	uint8_t pub[X_LEN];
	struct wbuf w;

	hs_ini_wipe(ini);
	if (mode < 0 || mode >= HS_NMODES) {
		ini->why = "HS_INIT: unknown encryption mode (0 to 3 exist)";
		return -1;
	}
	randombytes_buf(ini->e_priv, sizeof(ini->e_priv));
	if (crypto_scalarmult_base(pub, ini->e_priv) != 0) {
		hs_ini_wipe(ini);
		ini->why = "HS_INIT: X25519 key generation failed";
		return -1;
	}
	memcpy(ini->s, s, HS_SECRET_LEN);
	ini->session_id = session_id;
	ini->mode = mode;
	ini->my_index = my_index;
	wbuf_init(&w, ini->init_pkt, sizeof(ini->init_pkt));
	wbuf_u8(&w, HS_T_INIT);
	wbuf_u8(&w, HS_VERSION);
	wbuf_u64(&w, session_id);
	wbuf_u32(&w, my_index);
	wbuf_u8(&w, (uint8_t)mode);
	wbuf_put(&w, pub, sizeof(pub));
	session_mac(s, "handshake", ini->init_pkt, INIT_MAC, ini->init_pkt + INIT_MAC);
	ini->state = HS_INI_SENT;
	return 0;
}

const uint8_t *
hs_ini_packet(const struct hs_ini *ini, size_t *len)
{
	if (ini->state != HS_INI_SENT)
		return NULL;
	*len = HS_INIT_LEN;
	return ini->init_pkt;
}

/* Format checks on an HS_RESP for ini; sets why and returns -1 if it fails. */
static int
resp_for_us(struct hs_ini *ini, const uint8_t *pkt, size_t n)
{
	if (ini->state != HS_INI_SENT)
		ini->why = "HS_RESP: no HS_INIT pending";
	else if (n < HDR_LEN || pkt[0] != HS_T_RESP || pkt[1] != HS_VERSION)
		ini->why = "HS_RESP: wrong type or version";
	else if (n != HS_RESP_LEN)
		ini->why = "HS_RESP: wrong length (66 bytes expected)";
	else if (read_u64_at(pkt, n, HDR_LEN) != ini->session_id)
		ini->why = "HS_RESP: session_id is not this session's";
	else if (read_u32_at(pkt, n, HDR_LEN + 8 + 4) != ini->my_index)
		ini->why = "HS_RESP: receiver_index is not ours";
	else
		return 0;
	return -1;
}

int
hs_ini_on_resp(struct hs_ini *ini, const uint8_t *pkt, size_t n, uint8_t *confirm_out, size_t cap,
	       size_t *confirm_len, struct hs_keys *out, uint32_t *peer_index)
{
	struct hs_derived d;
	struct wbuf w;
	uint32_t peer;

	if (resp_for_us(ini, pkt, n) != 0)
		return -1;
	if (cap < HS_CONFIRM_LEN) {
		ini->why = "HS_RESP: no room for the HS_CONFIRM";
		return -1;
	}
	if (derive(ini->s, ini->e_priv, pkt + RESP_TH - X_LEN, ini->init_pkt, pkt, &d) != 0) {
		ini->why = "HS_RESP: e_t is a low-order point (all-zero shared secret)";
		return -1;
	}
	if (ct_memcmp(d.confirm_t, pkt + RESP_TH, MAC_LEN) != 0) {
		sodium_memzero(&d, sizeof(d));
		ini->why = "HS_RESP: confirm_t does not verify (other session secret or altered)";
		return -1;
	}
	peer = read_u32_at(pkt, n, HDR_LEN + 8);
	wbuf_init(&w, confirm_out, cap);
	wbuf_u8(&w, HS_T_CONFIRM);
	wbuf_u8(&w, HS_VERSION);
	wbuf_u32(&w, peer);
	wbuf_put(&w, d.confirm_i, MAC_LEN);
	*confirm_len = w.len;
	memcpy(out, &d.keys, sizeof(*out));
	*peer_index = peer;
	sodium_memzero(&d, sizeof(d));
	sodium_memzero(ini->e_priv, sizeof(ini->e_priv));
	sodium_memzero(ini->s, sizeof(ini->s));
	ini->state = HS_INI_DONE;
	ini->why = NULL;
	return 0;
}

int
hs_ini_on_reject(struct hs_ini *ini, const uint8_t *pkt, size_t n)
{
	if (ini->state != HS_INI_SENT) {
		ini->why = "HS_REJECT: no HS_INIT pending";
		return -1;
	}
	if (!header_ok(pkt, n, HS_T_REJECT, HS_REJECT_LEN)) {
		ini->why = "HS_REJECT: wrong type, version or length (27 bytes expected)";
		return -1;
	}
	if (read_u64_at(pkt, n, HDR_LEN) != ini->session_id) {
		ini->why = "HS_REJECT: session_id is not this session's";
		return -1;
	}
	if (session_mac_ok(ini->s, "handshake", pkt, HS_REJECT_LEN - MAC_LEN) != 0) {
		ini->why = "HS_REJECT: mac does not verify";
		return -1;
	}
	return pkt[HDR_LEN + 8];
}

void
hs_ini_wipe(struct hs_ini *ini)
{
	sodium_memzero(ini, sizeof(*ini));
	ini->state = HS_INI_IDLE;
}

static size_t
build_reject(const uint8_t s[HS_SECRET_LEN], uint64_t session_id, uint8_t reason, uint8_t *out)
{
	struct wbuf w;

	wbuf_init(&w, out, HS_REJECT_LEN);
	wbuf_u8(&w, HS_T_REJECT);
	wbuf_u8(&w, HS_VERSION);
	wbuf_u64(&w, session_id);
	wbuf_u8(&w, reason);
	session_mac(s, "handshake", out, w.len, out + w.len);
	return HS_REJECT_LEN;
}

/* Format and authenticity checks on an HS_INIT; sets why and returns -1 if it fails. */
static int
init_ok(struct hs_tgt *t, const uint8_t s[HS_SECRET_LEN], uint64_t session_id, const uint8_t *pkt,
	size_t n)
{
	if (n < HDR_LEN || pkt[0] != HS_T_INIT || pkt[1] != HS_VERSION)
		t->why = "HS_INIT: wrong type or version";
	else if (n != HS_INIT_LEN)
		t->why = "HS_INIT: wrong length (63 bytes expected)";
	else if (read_u64_at(pkt, n, HDR_LEN) != session_id)
		t->why = "HS_INIT: session_id is not this session's";
	else if (session_mac_ok(s, "handshake", pkt, INIT_MAC) != 0)
		t->why = "HS_INIT: mac does not verify (other session secret or altered)";
	else
		return 0;
	return -1;
}

/* Answer an authentic HS_INIT with a fresh ephemeral: fills t->resp_pkt and d. */
static int
respond(struct hs_tgt *t, const uint8_t s[HS_SECRET_LEN], uint64_t session_id, uint32_t my_index,
	const uint8_t *pkt, struct hs_derived *d)
{
	uint8_t priv[X_LEN], pub[X_LEN];
	struct wbuf w;
	int r;

	randombytes_buf(priv, sizeof(priv));
	if (crypto_scalarmult_base(pub, priv) != 0) {
		sodium_memzero(priv, sizeof(priv));
		t->why = "HS_INIT: X25519 key generation failed";
		return -1;
	}
	wbuf_init(&w, t->resp_pkt, sizeof(t->resp_pkt));
	wbuf_u8(&w, HS_T_RESP);
	wbuf_u8(&w, HS_VERSION);
	wbuf_u64(&w, session_id);
	wbuf_u32(&w, my_index);
	wbuf_put(&w, pkt + HDR_LEN + 8, 4); /* receiver_index = the initiator's sender_index */
	wbuf_put(&w, pub, sizeof(pub));
	r = derive(s, priv, pkt + INIT_MAC - X_LEN, pkt, t->resp_pkt, d);
	sodium_memzero(priv, sizeof(priv));
	if (r != 0) {
		t->why = "HS_INIT: e_i is a low-order point (all-zero shared secret)";
		return -1;
	}
	wbuf_put(&w, d->confirm_t, MAC_LEN);
	return 0;
}

int
hs_tgt_on_init(struct hs_tgt *t, const uint8_t s[HS_SECRET_LEN], uint64_t session_id,
	       unsigned allowed_modes_mask, uint32_t my_index, const uint8_t *pkt, size_t n,
	       uint8_t *resp_out, size_t cap, size_t *resp_len, struct hs_keys *out, int *mode,
	       uint32_t *peer_index)
{
	struct hs_derived d;
	unsigned m;

	if (cap < HS_MAX_LEN) {
		t->why = "HS_INIT: no room for the answer";
		return HS_BAD;
	}
	if (init_ok(t, s, session_id, pkt, n) != 0)
		return HS_BAD;
	if (t->state != HS_TGT_IDLE) {
		if (t->session_id != session_id || memcmp(pkt, t->init_pkt, HS_INIT_LEN) != 0) {
			t->why = "HS_INIT: another HS_INIT was already answered in this session";
			return HS_BAD;
		}
		memcpy(resp_out, t->resp_pkt, HS_RESP_LEN);
		*resp_len = HS_RESP_LEN;
		return HS_REPEATED;
	}
	m = pkt[HDR_LEN + 8 + 4];
	if (m >= HS_NMODES || !(allowed_modes_mask & (1u << m))) {
		*resp_len = build_reject(s, session_id, HS_REJECT_MODE, resp_out);
		t->why = "HS_INIT: encryption mode not allowed here";
		*mode = m;
		return HS_REFUSED;
	}
	if (respond(t, s, session_id, my_index, pkt, &d) != 0)
		return HS_BAD;
	memcpy(t->init_pkt, pkt, HS_INIT_LEN);
	memcpy(t->confirm_i, d.confirm_i, MAC_LEN);
	t->session_id = session_id;
	t->my_index = my_index;
	t->state = HS_TGT_RESPONDED;
	memcpy(resp_out, t->resp_pkt, HS_RESP_LEN);
	*resp_len = HS_RESP_LEN;
	memcpy(out, &d.keys, sizeof(*out));
	*mode = (int)m;
	*peer_index = read_u32_at(pkt, n, HDR_LEN + 8);
	sodium_memzero(&d, sizeof(d));
	t->why = NULL;
	return HS_OK;
}

int
hs_tgt_on_confirm(struct hs_tgt *t, const uint8_t *pkt, size_t n)
{
	if (t->state == HS_TGT_IDLE) {
		t->why = "HS_CONFIRM: no HS_RESP sent";
		return -1;
	}
	if (!header_ok(pkt, n, HS_T_CONFIRM, HS_CONFIRM_LEN)) {
		t->why = "HS_CONFIRM: wrong type, version or length (22 bytes expected)";
		return -1;
	}
	if (read_u32_at(pkt, n, HDR_LEN) != t->my_index) {
		t->why = "HS_CONFIRM: receiver_index is not ours";
		return -1;
	}
	if (ct_memcmp(pkt + HDR_LEN + 4, t->confirm_i, MAC_LEN) != 0) {
		t->why = "HS_CONFIRM: confirm_i does not verify";
		return -1;
	}
	t->state = HS_TGT_CONFIRMED;
	t->why = NULL;
	return 0;
}

void
hs_tgt_wipe(struct hs_tgt *t)
{
	sodium_memzero(t, sizeof(*t));
	t->state = HS_TGT_IDLE;
}
