/* cryptobench: how fast one core runs the per-packet cryptography of the
 * tunnel, for `make bench` (tests/bench/run.sh).
 *
 * Each measurement repeats one operation on one core for about a second
 * (BENCH_CRYPTO_MS milliseconds, default 1000) and prints one line:
 *
 *   NAME bytes=B ops=N ns=T mbps=M
 *
 * where B is the bytes one operation handles, N the operations done, T the
 * nanoseconds they took and M = B * N * 8 / T * 1000 (megabits per second,
 * 10^6 bits, the unit iperf3 reports). Measured:
 *
 *   xxtea_encrypt    xxtea_encrypt() over one 1160-byte block (290 words)
 *   seal_mode0       dp_seal() of a full-size tunnel body (mtu 1200) in mode 0
 *                    (the tag alone: one ChaCha20 block and Poly1305)
 *   seal_mode2       the same in mode 2 (XXTEA wide block and the 128-bit tag)
 *   open_mode2       dp_open() of such a mode 2 packet
 *   seal_mode3       dp_seal() in mode 3 (ChaCha20-Poly1305)
 *   open_mode3       dp_open() of such a mode 3 packet
 *
 * The full-size body is what the tunnel sends with the default mtu 1200: the
 * largest body whose mode 2 datagram fits (1200 - dp_overhead(2) - 1 bytes,
 * as worker/session.c sizes it).
 *
 * Exit status: 0, or 1 if libsodium cannot start or an operation fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/xxtea.h"
#include "worker/datapkt.h"

#define XXTEA_BLOCK   1160
#define TUNNEL_MTU    1200
#define BATCH	      256 /* operations between two looks at the clock */
#define DEFAULT_MS    1000
#define MAX_MS	      60000
#define NS_PER_MS     1000000ULL
#define NS_PER_SECOND 1000000000ULL

/* One measured operation: run it once on ctx; 0 on success. */
typedef int (*bench_fn)(void *ctx);

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SECOND + (uint64_t)ts.tv_nsec;
}

/* Run fn in batches until budget_ns have passed; print the result line.
 * Returns 0, or -1 if fn failed. */
static int
measure(const char *name, size_t bytes, bench_fn fn, void *ctx, uint64_t budget_ns)
{
	uint64_t start, now, ops = 0, ns;
	int i;

	start = now = mono_ns();
	while (now - start < budget_ns) {
		for (i = 0; i < BATCH; i++) {
			if (fn(ctx) != 0) {
				fprintf(stderr, "cryptobench: %s failed after %llu operations\n",
					name, (unsigned long long)ops);
				return -1;
			}
		}
		ops += BATCH;
		now = mono_ns();
	}
	ns = now - start;
	printf("%s bytes=%zu ops=%llu ns=%llu mbps=%.1f\n", name, bytes, (unsigned long long)ops,
	       (unsigned long long)ns, (double)bytes * (double)ops * 8.0 / (double)ns * 1000.0);
	fflush(stdout);
	return 0;
}

struct xxtea_ctx {
	uint32_t w[XXTEA_BLOCK / 4];
	uint32_t key[4];
};

static int
run_xxtea(void *arg)
{
	struct xxtea_ctx *c = arg;

	xxtea_encrypt(c->w, XXTEA_BLOCK / 4, c->key);
	return 0;
}

struct seal_ctx {
	struct dp_dir tx;
	struct dp_dir rx;
	uint8_t body[DP_MAX_BODY];
	size_t len;
	uint8_t pkt[DP_MAX_DATAGRAM];
	ssize_t pktlen;
};

static int
run_seal(void *arg)
{
	struct seal_ctx *c = arg;

	c->pktlen = dp_seal(&c->tx, 1, c->body, c->len, c->pkt, sizeof(c->pkt));
	return c->pktlen < 0 ? -1 : 0;
}

/* Opens the one packet c->pkt again and again: reset the replay window each
 * time, as the window would refuse the second copy (the reset is a memset of a
 * few hundred bytes, small next to the decryption). */
static int
run_open(void *arg)
{
	struct seal_ctx *c = arg;
	uint8_t out[DP_MAX_BODY];

	replay_init(&c->rx.win);
	if (dp_open(&c->rx, c->pkt, (size_t)c->pktlen, out, sizeof(out), NULL) != (ssize_t)c->len)
		return -1;
	return 0;
}

/* Set up tx and rx for mode with one random key and a random full-size body. */
static int
seal_setup(struct seal_ctx *c, int mode)
{
	uint8_t k[DP_KEY_LEN];

	randombytes_buf(k, sizeof(k));
	if (dp_init(&c->tx, mode, k) != 0 || dp_init(&c->rx, mode, k) != 0) {
		fprintf(stderr, "cryptobench: dp_init(mode %d) failed\n", mode);
		return -1;
	}
	sodium_memzero(k, sizeof(k));
	c->len = TUNNEL_MTU - dp_overhead(DP_MODE_XXTEA) - 1;
	randombytes_buf(c->body, c->len);
	return run_seal(c);
}

/* BENCH_CRYPTO_MS from the environment, or DEFAULT_MS; -1 if malformed. */
static long
budget_ms(void)
{
	const char *s = getenv("BENCH_CRYPTO_MS");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return DEFAULT_MS;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > MAX_MS) {
		fprintf(stderr, "cryptobench: BENCH_CRYPTO_MS '%s' is not 1..%d (milliseconds)\n",
			s, MAX_MS);
		return -1;
	}
	return v;
}

int
main(void)
{
	static struct xxtea_ctx xc;
	static struct seal_ctx sc;
	static const int modes[] = {DP_MODE_NONE, DP_MODE_XXTEA, DP_MODE_CHACHA};
	char name[32];
	uint64_t budget;
	long ms;
	size_t i;

	if ((ms = budget_ms()) < 0)
		return 1;
	budget = (uint64_t)ms * NS_PER_MS;
	if (sodium_init() < 0) {
		fprintf(stderr, "cryptobench: sodium_init failed\n");
		return 1;
	}
	randombytes_buf(xc.w, sizeof(xc.w));
	randombytes_buf(xc.key, sizeof(xc.key));
	if (measure("xxtea_encrypt", XXTEA_BLOCK, run_xxtea, &xc, budget) != 0)
		return 1;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (seal_setup(&sc, modes[i]) != 0)
			return 1;
		snprintf(name, sizeof(name), "seal_mode%d", modes[i]);
		if (measure(name, sc.len, run_seal, &sc, budget) != 0)
			return 1;
		snprintf(name, sizeof(name), "open_mode%d", modes[i]);
		if (modes[i] != DP_MODE_NONE && measure(name, sc.len, run_open, &sc, budget) != 0)
			return 1;
		dp_wipe(&sc.tx);
		dp_wipe(&sc.rx);
	}
	return 0;
}
