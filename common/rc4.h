/* rc4: the RC4 stream cipher (known-answer tested against RFC 6229).
 * Weak: p2pd uses it only in encryption mode 1, with a fresh key per packet and
 * the first 3072 keystream bytes dropped (docs/PROTOCOL.md). */
#ifndef P2PD_RC4_H
#define P2PD_RC4_H

#include <stddef.h>
#include <stdint.h>

struct rc4 {
	uint8_t s[256];
	uint8_t i, j;
};

/* Key schedule. keylen is 1..256 bytes (anything else is a programming error
 * and ends the process). */
void rc4_init(struct rc4 *st, const uint8_t *key, size_t keylen);
/* Discard n keystream bytes. */
void rc4_skip(struct rc4 *st, size_t n);
/* out = in XOR keystream; in and out may be the same buffer. */
void rc4_crypt(struct rc4 *st, const uint8_t *in, uint8_t *out, size_t n);
/* Wipe the state (sodium_memzero); rc4_init it again before further use. */
void rc4_wipe(struct rc4 *st);

#endif
