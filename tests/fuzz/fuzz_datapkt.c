/* libFuzzer harness for worker/datapkt: dp_peek_index and dp_open on any
 * datagram, in every mode, with the invariants a caller relies on checked
 * (abort = finding). The first input byte chooses the mode (bits 0-1) and what
 * the rest is (bits 2-3):
 *   0  a datagram from anyone: opened as it is; if it authenticates (a seed
 *      made with the harness's key), it must be canonical (see 2);
 *   1  a body: sealed, opened back to the same bytes, then one byte of the
 *      datagram (chosen by the input) changed, which must be refused;
 *   2  a datagram from a peer holding the key (modes 0-2: the harness puts
 *      the right tag on whatever follows, keyed by the counter the datagram
 *      carries, decrypted first in mode 2): dp_open's checks after the tag
 *      (mode 2's length and padding, the window) run on hostile bytes, and
 *      whatever it accepts must re-seal to the very same datagram;
 *   3  a list of counters (2 bytes each, scaled): packets with those counters
 *      are opened in that order and the window must accept each one once.
 */
/* clang-format off */
/* Corpus seeds (written by tests/fuzz/run.sh):
 * FUZZ-SEED: 00a0020a0b0c0d010203040506070870327064206b6e6f776e20616e737765725b3282ee5858386f4ab7d76bffb2b3c4
 * FUZZ-SEED: 02a0020a0b0c0d092dc8b04362bb4f53c6c5e823d2c7f54a130509f3c09d2b2802da6a03954e6bff838241d8ce1102cbada795
 * FUZZ-SEED: 0570327064206b6e6f776e20616e73776572
 * FUZZ-SEED: 0a0a0b0c0d0e0f00000000000000000a00112233445566778899000000000000000000000000000000000000
 * FUZZ-SEED: 0f000100020001ffff0800
 */
/* clang-format on */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/xxtea.h"
#include "worker/datapkt.h"
#include "tests/fuzz/fuzz.h"

#define IDX 0x0a0b0c0du

static const uint8_t kdir[DP_KEY_LEN] = {0,  1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10,
					 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
					 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static uint8_t body[DP_MAX_DATAGRAM + 64], pkt[DP_MAX_DATAGRAM + 64], again[DP_MAX_DATAGRAM + 64];

/* dp_open accepted d as r body bytes with counter ctr: a sender with the key
 * makes exactly d from that body and counter, and d is now a replay. */
static void
check_accepted(struct dp_dir *tx, struct dp_dir *rx, const uint8_t *d, size_t n, ssize_t r,
	       uint64_t ctr)
{
	ssize_t len;

	CHECK(rx->last_drop == DP_DROP_NONE && (size_t)r <= n);
	if (ctr == UINT64_MAX)
		return; /* a counter no sender uses */
	tx->next = ctr;
	len = dp_seal(tx, (uint32_t)d[2] << 24 | (uint32_t)d[3] << 16 | (uint32_t)d[4] << 8 | d[5],
		      body, (size_t)r, again, sizeof(again));
	CHECK(len == (ssize_t)n && memcmp(again, d, n) == 0);
	CHECK(dp_open(rx, d, n, body, sizeof(body), &ctr) == -1);
	CHECK(rx->last_drop == DP_DROP_REPLAY);
}

static void
open_anything(struct dp_dir *tx, struct dp_dir *rx, const uint8_t *d, size_t n)
{
	uint32_t idx;
	uint64_t ctr;
	ssize_t r;

	if (dp_peek_index(d, n, &idx) == 0)
		CHECK(n >= 30 && d[0] == DP_TYPE && d[1] == DP_VERSION);
	r = dp_open(rx, d, n, body, sizeof(body), &ctr);
	if (r < 0) {
		CHECK(r == -1 && rx->last_drop != DP_DROP_NONE && rx->drops[rx->last_drop] == 1);
		return;
	}
	/* Authentic (a seed made with the harness's key): must be canonical. */
	check_accepted(tx, rx, d, n, r, ctr);
}

static void
round_trip(struct dp_dir *tx, struct dp_dir *rx, const uint8_t *d, size_t n)
{
	size_t pick = n > 2 ? (size_t)d[0] << 8 | d[1] : 0;
	uint64_t ctr;
	ssize_t len, r;

	len = dp_seal(tx, IDX, d, n, pkt, sizeof(pkt));
	if (n > DP_MAX_BODY) {
		CHECK(len == -1);
		return;
	}
	CHECK(len > 0 && (size_t)len == dp_sealed_len(tx->mode, n));
	CHECK((size_t)len <= n + dp_overhead(tx->mode));
	r = dp_open(rx, pkt, (size_t)len, body, sizeof(body), &ctr);
	CHECK(r == (ssize_t)n && ctr == 0 && memcmp(body, d, n) == 0);
	CHECK(dp_open(rx, pkt, (size_t)len, body, sizeof(body), &ctr) == -1);
	CHECK(rx->last_drop == DP_DROP_REPLAY);
	/* A changed byte anywhere is refused; so is any shorter datagram. */
	len = dp_seal(tx, IDX, d, n, pkt, sizeof(pkt));
	pkt[pick % (size_t)len] ^= (uint8_t)(n > 3 && d[2] ? d[2] : 1);
	CHECK(dp_open(rx, pkt, (size_t)len, body, sizeof(body), &ctr) == -1);
	pkt[pick % (size_t)len] ^= (uint8_t)(n > 3 && d[2] ? d[2] : 1);
	CHECK(dp_open(rx, pkt, pick % (size_t)len, body, sizeof(body), &ctr) == -1);
	CHECK(dp_open(rx, pkt, (size_t)len, body, sizeof(body), &ctr) == (ssize_t)n);
	CHECK(ctr == 1);
}

/* Put on p (n bytes) the tag a holder of rx's key would (modes 0-2, see
 * docs/PROTOCOL.md section 5): Poly1305 under the first 32 bytes of
 * ChaCha20-IETF(km, 0^4 | counter), the counter read in clear (modes 0, 1) or
 * from the decrypted XXTEA block (mode 2). Leaves p alone when it is too short
 * or mis-sized to carry a counter: dp_open drops that as format anyway. */
static void
put_tag(const struct dp_dir *rx, uint8_t *p, size_t n)
{
	static uint32_t w[DP_MAX_DATAGRAM / 4];
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
	uint8_t otk[crypto_onetimeauth_KEYBYTES];
	size_t blen;

	if (n < DP_HDR_LEN + DP_CTR_LEN + DP_TAG_LEN)
		return;
	blen = n - DP_HDR_LEN - DP_TAG_LEN;
	if (rx->mode == DP_MODE_XXTEA) {
		if (blen < 12 || blen % 4 != 0)
			return;
		xxtea_load_le(w, p + DP_HDR_LEN, blen);
		xxtea_decrypt(w, blen / 4, rx->xk);
		xxtea_store_le((uint8_t *)w, w, blen);
		memcpy(nonce + 4, w, DP_CTR_LEN);
	} else {
		memcpy(nonce + 4, p + DP_HDR_LEN, DP_CTR_LEN);
	}
	crypto_stream_chacha20_ietf(otk, sizeof(otk), nonce, rx->km);
	crypto_onetimeauth(p + n - DP_TAG_LEN, p, n - DP_TAG_LEN, otk);
	sodium_memzero(otk, sizeof(otk));
}

static void
keyed_peer(struct dp_dir *tx, struct dp_dir *rx, const uint8_t *d, size_t n)
{
	uint64_t ctr;
	ssize_t r;

	if (tx->mode == DP_MODE_CHACHA || n < DP_TAG_LEN + 2 || n > DP_MAX_DATAGRAM)
		return;
	memcpy(pkt, d, n);
	pkt[0] = DP_TYPE;
	pkt[1] = DP_VERSION;
	put_tag(rx, pkt, n);
	r = dp_open(rx, pkt, n, body, sizeof(body), &ctr);
	if (r < 0) {
		CHECK(r == -1 && rx->last_drop != DP_DROP_TAG && rx->last_drop != DP_DROP_NONE);
		return;
	}
	check_accepted(tx, rx, pkt, n, r, ctr);
}

static void
counters(struct dp_dir *tx, struct dp_dir *rx, const uint8_t *d, size_t n)
{
	static uint8_t seen[65536 / 8];
	uint64_t top = 0, c, got;
	int any = 0, fresh;
	ssize_t len;

	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i + 1 < n && i < 400; i += 2) {
		c = (uint64_t)d[i] << 8 | d[i + 1];
		tx->next = c;
		len = dp_seal(tx, IDX, d, i, pkt, sizeof(pkt));
		CHECK(len > 0);
		fresh = !(seen[c / 8] & (1 << (c % 8))) && (!any || c + REPLAY_WINDOW > top);
		CHECK((dp_open(rx, pkt, (size_t)len, body, sizeof(body), &got) == (ssize_t)i) ==
		      fresh);
		if (fresh) {
			CHECK(got == c);
			seen[c / 8] |= (uint8_t)(1 << (c % 8));
			if (!any || c > top)
				top = c;
			any = 1;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct dp_dir tx, rx;
	int mode;

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	mode = data[0] & 3;
	CHECK(dp_init(&tx, mode, kdir) == 0 && dp_init(&rx, mode, kdir) == 0);
	switch ((data[0] >> 2) & 3) {
	case 0:
		open_anything(&tx, &rx, data + 1, size - 1);
		break;
	case 1:
		round_trip(&tx, &rx, data + 1, size - 1);
		break;
	case 2:
		keyed_peer(&tx, &rx, data + 1, size - 1);
		break;
	default:
		counters(&tx, &rx, data + 1, size - 1);
		break;
	}
	dp_wipe(&tx);
	dp_wipe(&rx);
	return 0;
}
