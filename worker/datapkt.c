/* datapkt: data-packet protection in the four encryption modes (see datapkt.h
 * and docs/PROTOCOL.md section 5). */
#include "worker/datapkt.h"

#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/rc4.h"
#include "common/xxtea.h"

#define RC4_KEY_LEN  16
#define RC4_DROP     3072
#define X_PREFIX_LEN (DP_CTR_LEN + 2) /* mode 2: counter(8) | len(2) before the body */
#define X_MIN_BLOCK  12		      /* counter, len and an empty body, padded */
#define MIN_PLAIN    (DP_HDR_LEN + DP_CTR_LEN + DP_TAG_LEN)
#define MIN_XXTEA    (DP_HDR_LEN + X_MIN_BLOCK + DP_TAG_LEN)
#define NONCE_LEN    12 /* ChaCha20-IETF: 0^4 | counter(8) */

_Static_assert(NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES &&
		   NONCE_LEN == crypto_stream_chacha20_ietf_NONCEBYTES,
	       "the counter nonce is a ChaCha20-IETF nonce");
_Static_assert(DP_KEY_LEN == crypto_stream_chacha20_ietf_KEYBYTES &&
		   DP_TAG_LEN == crypto_onetimeauth_BYTES,
	       "km keys ChaCha20-IETF; the tag is one Poly1305 output");

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static size_t
xxtea_block_len(size_t len)
{
	return (X_PREFIX_LEN + len + 3) & ~(size_t)3;
}

int
dp_init(struct dp_dir *d, int mode, const uint8_t k_dir[DP_KEY_LEN])
{
	memset(d, 0, sizeof(*d));
	if (mode < 0 || mode >= DP_NMODES)
		return -1;
	d->mode = mode;
	kdf(d->km, sizeof(d->km), k_dir, DP_KEY_LEN, "mac", NULL, 0);
	kdf(d->ke, sizeof(d->ke), k_dir, DP_KEY_LEN, "enc", NULL, 0);
	xxtea_load_le(d->xk, d->ke, 16);
	replay_init(&d->win);
	return 0;
}

void
dp_wipe(struct dp_dir *d)
{
	sodium_memzero(d, sizeof(*d));
}

size_t
dp_overhead(int mode)
{
	switch (mode) {
	case DP_MODE_NONE:
	case DP_MODE_RC4:
	case DP_MODE_CHACHA:
		return DP_HDR_LEN + DP_CTR_LEN + DP_TAG_LEN;
	case DP_MODE_XXTEA:
		return DP_HDR_LEN + X_PREFIX_LEN + 3 + DP_TAG_LEN;
	default:
		return 0;
	}
}

size_t
dp_sealed_len(int mode, size_t len)
{
	switch (mode) {
	case DP_MODE_NONE:
	case DP_MODE_RC4:
	case DP_MODE_CHACHA:
		return DP_HDR_LEN + DP_CTR_LEN + len + DP_TAG_LEN;
	case DP_MODE_XXTEA:
		return DP_HDR_LEN + xxtea_block_len(len) + DP_TAG_LEN;
	default:
		return 0;
	}
}

size_t
dp_body_offset(int mode)
{
	return DP_HDR_LEN + (mode == DP_MODE_XXTEA ? X_PREFIX_LEN : DP_CTR_LEN);
}

/* The nonce for counter: 4 zero bytes, then the counter as sent (big-endian).
 * Mode 3's AEAD uses it under ke, the tag of modes 0-2 under km. */
static void
ctr_nonce(const uint8_t ctr_be[DP_CTR_LEN], uint8_t nonce[NONCE_LEN])
{
	memset(nonce, 0, NONCE_LEN - DP_CTR_LEN);
	memcpy(nonce + NONCE_LEN - DP_CTR_LEN, ctr_be, DP_CTR_LEN);
}

/*
 * The tag of modes 0-2 (Carter-Wegman): a Poly1305 one-time key per packet,
 *
 *   otk = first 32 bytes of ChaCha20-IETF(key = km, nonce = 0^4 | counter)
 *   tag = Poly1305(otk, pkt[0..n))
 *
 * km serves nothing but this tag (mode 3 encrypts under ke), and an honest
 * sender uses each counter once per direction key, so each otk tags one packet.
 */
static void
tag_key(const struct dp_dir *d, const uint8_t ctr_be[DP_CTR_LEN],
	uint8_t otk[crypto_onetimeauth_KEYBYTES])
{
	uint8_t nonce[NONCE_LEN];

	ctr_nonce(ctr_be, nonce);
	crypto_stream_chacha20_ietf(otk, crypto_onetimeauth_KEYBYTES, nonce, d->km);
}

/* tag = the tag of pkt[0..n), sent with counter ctr_be. */
static void
tag_compute(const struct dp_dir *d, const uint8_t ctr_be[DP_CTR_LEN], const uint8_t *pkt, size_t n,
	    uint8_t tag[DP_TAG_LEN])
{
	uint8_t otk[crypto_onetimeauth_KEYBYTES];

	tag_key(d, ctr_be, otk);
	crypto_onetimeauth(tag, pkt, n, otk);
	sodium_memzero(otk, sizeof(otk));
}

/* Check tag against pkt[0..n) and counter ctr_be in constant time: 0 if it is
 * the right one, -1 otherwise. */
static int
tag_verify(const struct dp_dir *d, const uint8_t ctr_be[DP_CTR_LEN], const uint8_t *pkt, size_t n,
	   const uint8_t tag[DP_TAG_LEN])
{
	uint8_t otk[crypto_onetimeauth_KEYBYTES];
	int r;

	tag_key(d, ctr_be, otk);
	r = crypto_onetimeauth_verify(tag, pkt, n, otk) == 0 ? 0 : -1;
	sodium_memzero(otk, sizeof(otk));
	return r;
}

/* out = in XOR RC4(first 16 bytes of kdf(ke, "rc4", counter)), 3072 bytes dropped. */
static void
rc4_apply(const struct dp_dir *d, const uint8_t ctr_be[DP_CTR_LEN], const uint8_t *in, uint8_t *out,
	  size_t n)
{
	uint8_t k[DP_KEY_LEN];
	struct rc4 st;

	kdf(k, sizeof(k), d->ke, sizeof(d->ke), "rc4", ctr_be, DP_CTR_LEN);
	rc4_init(&st, k, RC4_KEY_LEN);
	rc4_skip(&st, RC4_DROP);
	rc4_crypt(&st, in, out, n);
	rc4_wipe(&st);
	sodium_memzero(k, sizeof(k));
}

/* Modes 0, 1, 3: header | counter | body-or-ciphertext | tag, at out. */
static void
seal_stream(const struct dp_dir *tx, const uint8_t *body, size_t len, uint8_t *out)
{
	uint8_t *ctr = out + DP_HDR_LEN, *ct = ctr + DP_CTR_LEN, *tag = ct + len;
	uint8_t nonce[NONCE_LEN];
	unsigned long long taglen;

	switch (tx->mode) {
	case DP_MODE_NONE:
		if (body != ct && len > 0)
			memcpy(ct, body, len);
		tag_compute(tx, ctr, out, DP_HDR_LEN + DP_CTR_LEN + len, tag);
		break;
	case DP_MODE_RC4:
		rc4_apply(tx, ctr, body, ct, len);
		tag_compute(tx, ctr, out, DP_HDR_LEN + DP_CTR_LEN + len, tag);
		break;
	default: /* DP_MODE_CHACHA; ad = header | counter, which precede ct in out */
		ctr_nonce(ctr, nonce);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		    ct, tag, &taglen, body, len, out, DP_HDR_LEN + DP_CTR_LEN, NULL, nonce, tx->ke);
		break;
	}
}

/* Mode 2: header | XXTEA(counter | len | body | zero padding) | tag, at out. */
static void
seal_xxtea(const struct dp_dir *tx, uint64_t counter, const uint8_t *body, size_t len, uint8_t *out)
{
	uint32_t w[DP_MAX_DATAGRAM / 4];
	uint8_t *blk = out + DP_HDR_LEN, ctr_be[DP_CTR_LEN];
	size_t blen = xxtea_block_len(len);

	put_u64(ctr_be, counter);
	memcpy(blk, ctr_be, DP_CTR_LEN);
	blk[DP_CTR_LEN] = (uint8_t)(len >> 8);
	blk[DP_CTR_LEN + 1] = (uint8_t)len;
	if (body != blk + X_PREFIX_LEN && len > 0)
		memcpy(blk + X_PREFIX_LEN, body, len);
	memset(blk + X_PREFIX_LEN + len, 0, blen - X_PREFIX_LEN - len);
	xxtea_load_le(w, blk, blen);
	xxtea_encrypt(w, blen / 4, tx->xk);
	xxtea_store_le(blk, w, blen);
	tag_compute(tx, ctr_be, out, DP_HDR_LEN + blen, blk + blen);
}

ssize_t
dp_seal(struct dp_dir *tx, uint32_t receiver_index, const uint8_t *body, size_t len, uint8_t *out,
	size_t cap)
{
	size_t total;

	if (tx->mode < 0 || tx->mode >= DP_NMODES || len > DP_MAX_BODY)
		return -1;
	if (tx->next == UINT64_MAX)
		return -1; /* counter space used up: the session must end */
	total = dp_sealed_len(tx->mode, len);
	if (total > cap)
		return -1;
	out[0] = DP_TYPE;
	out[1] = DP_VERSION;
	put_u32(out + 2, receiver_index);
	if (tx->mode == DP_MODE_XXTEA) {
		seal_xxtea(tx, tx->next, body, len, out);
	} else {
		put_u64(out + DP_HDR_LEN, tx->next);
		seal_stream(tx, body, len, out);
	}
	tx->next++;
	return (ssize_t)total;
}

int
dp_peek_index(const uint8_t *pkt, size_t n, uint32_t *receiver_index)
{
	if (n < MIN_PLAIN || n > DP_MAX_DATAGRAM || pkt[0] != DP_TYPE || pkt[1] != DP_VERSION)
		return -1;
	*receiver_index = get_u32(pkt + 2);
	return 0;
}

static ssize_t
drop(struct dp_dir *rx, int reason)
{
	rx->drops[reason]++;
	rx->last_drop = reason;
	return -1;
}

/* Modes 0, 1, 3: returns the body length or a negative drop reason. */
static ssize_t
open_stream(struct dp_dir *rx, const uint8_t *pkt, size_t n, uint8_t *body, size_t cap,
	    uint64_t *ctr)
{
	const uint8_t *ctr_be = pkt + DP_HDR_LEN, *ct = ctr_be + DP_CTR_LEN,
		      *tag = pkt + n - DP_TAG_LEN;
	uint8_t nonce[NONCE_LEN];
	size_t len = n - MIN_PLAIN;

	if (len > cap)
		return -DP_DROP_SPACE;
	*ctr = get_u64(ctr_be);
	if (rx->mode == DP_MODE_CHACHA) {
		ctr_nonce(ctr_be, nonce);
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			body, NULL, ct, len, tag, pkt, DP_HDR_LEN + DP_CTR_LEN, nonce, rx->ke) != 0)
			return -DP_DROP_TAG;
		if (replay_check(&rx->win, *ctr) != 0)
			return -DP_DROP_REPLAY;
		return (ssize_t)len;
	}
	if (tag_verify(rx, ctr_be, pkt, n - DP_TAG_LEN, tag) != 0)
		return -DP_DROP_TAG;
	if (replay_check(&rx->win, *ctr) != 0)
		return -DP_DROP_REPLAY;
	if (rx->mode == DP_MODE_RC4)
		rc4_apply(rx, ctr_be, ct, body, len);
	else if (len > 0)
		memcpy(body, ct, len);
	return (ssize_t)len;
}

/*
 * Mode 2: returns the body length or a negative drop reason.
 *
 * The counter travels inside the XXTEA block, so the block is decrypted (into
 * w; pkt is left as sent) before the tag can be checked: the plaintext's
 * counter c' picks the one-time key K(c'), and the tag is then checked over
 * the ciphertext exactly as sent. This is sound whatever XXTEA does: for a
 * forged packet, K(c') is either one the sender never used (the attacker has
 * seen nothing under it: Poly1305's forgery bound) or one it used for exactly
 * one packet the attacker may have seen, and a different message under that
 * key is still bounded by Poly1305's one-time security (the same message with
 * the same tag is that packet itself, a replay). So even an attacker who
 * could choose c' at will gains nothing; a forged packet costs the receiver
 * one XXTEA decryption. Length and padding are checked only after the tag,
 * so that a forgery always counts as a tag drop, never a content one.
 */
static ssize_t
open_xxtea(struct dp_dir *rx, const uint8_t *pkt, size_t n, uint8_t *body, size_t cap,
	   uint64_t *ctr)
{
	uint32_t w[DP_MAX_DATAGRAM / 4];
	const uint8_t *b = (const uint8_t *)w;
	size_t blen = n - DP_HDR_LEN - DP_TAG_LEN, len, i;

	if (n < MIN_XXTEA || blen % 4 != 0)
		return -DP_DROP_FORMAT;
	xxtea_load_le(w, pkt + DP_HDR_LEN, blen);
	xxtea_decrypt(w, blen / 4, rx->xk);
	xxtea_store_le((uint8_t *)w, w, blen); /* in place: w now holds the plain bytes */
	if (tag_verify(rx, b, pkt, n - DP_TAG_LEN, pkt + n - DP_TAG_LEN) != 0)
		return -DP_DROP_TAG;
	*ctr = get_u64(b);
	len = (size_t)b[DP_CTR_LEN] << 8 | b[DP_CTR_LEN + 1];
	/* The padding must be exactly what the sender adds: 0..3 zero bytes. */
	if (len > blen - X_PREFIX_LEN || xxtea_block_len(len) != blen)
		return -DP_DROP_CONTENT;
	for (i = X_PREFIX_LEN + len; i < blen; i++)
		if (b[i] != 0)
			return -DP_DROP_CONTENT;
	if (replay_check(&rx->win, *ctr) != 0)
		return -DP_DROP_REPLAY;
	if (len > cap)
		return -DP_DROP_SPACE;
	if (len > 0)
		memcpy(body, b + X_PREFIX_LEN, len);
	return (ssize_t)len;
}

ssize_t
dp_open(struct dp_dir *rx, const uint8_t *pkt, size_t n, uint8_t *body, size_t cap,
	uint64_t *counter)
{
	uint32_t idx;
	uint64_t ctr = 0;
	ssize_t r;

	if (rx->mode < 0 || rx->mode >= DP_NMODES || dp_peek_index(pkt, n, &idx) != 0)
		return drop(rx, DP_DROP_FORMAT);
	if (rx->mode == DP_MODE_XXTEA)
		r = open_xxtea(rx, pkt, n, body, cap, &ctr);
	else
		r = open_stream(rx, pkt, n, body, cap, &ctr);
	if (r < 0)
		return drop(rx, (int)-r);
	replay_update(&rx->win, ctr);
	rx->last_drop = DP_DROP_NONE;
	if (counter != NULL)
		*counter = ctr;
	return r;
}

const char *
dp_drop_name(int reason)
{
	static const char *const names[DP_DROP_MAX] = {
	    [DP_DROP_NONE] = "none",	 [DP_DROP_FORMAT] = "format",	[DP_DROP_TAG] = "tag",
	    [DP_DROP_REPLAY] = "replay", [DP_DROP_CONTENT] = "content", [DP_DROP_SPACE] = "space",
	};

	if (reason < 0 || reason >= DP_DROP_MAX)
		return "unknown";
	return names[reason];
}
