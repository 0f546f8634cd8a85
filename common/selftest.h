/* selftest: known-answer tests of every cipher and hash the tunnel uses, run
 * at start-up checks and by `connectd -n` ("XXTEA test: [OK]"). */
#ifndef P2PD_SELFTEST_H
#define P2PD_SELFTEST_H

#include <stddef.h>

#define SELFTEST_COUNT 7 /* how many results selftest_run can give */

struct selftest_result {
	const char *name; /* "XXTEA", "RC4", ... (static storage) */
	int ok;		  /* 1 passed, 0 failed */
};

/* Runs the known-answer test of every cipher and hash the tunnel uses (XXTEA, RC4,
 * BLAKE2b MAC, ChaCha20-Poly1305 IETF (RFC 8439 section 2.8.2 vector), X25519
 * (RFC 7748 section 6.1 vector), Argon2id auth_hash pinned value); fills up to
 * max results, returns how many; each ok=1/0. Runs only the first max tests
 * (the Argon2id one, last, takes 64 MiB and a fraction of a second).
 * Initialises libsodium itself if needed. */
size_t selftest_run(struct selftest_result *res, size_t max);

#endif
