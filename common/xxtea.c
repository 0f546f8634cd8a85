/* xxtea: Corrected Block TEA (Wheeler and Needham, 1998). */
#include "common/xxtea.h"

#include <string.h>

#include "common/exitcodes.h"
#include "common/log.h"

#define XXTEA_DELTA 0x9E3779B9u

/* The round function; y and z are the neighbours of word p, e mixes sum into the key index. */
#define XXTEA_MX                                                                                   \
	((((z >> 5) ^ (y << 2)) + ((y >> 3) ^ (z << 4))) ^ ((sum ^ y) + (key[(p & 3) ^ e] ^ z)))

static void
xxtea_check(size_t n, const char *what)
{
	if (n < 2)
		fatalx(EXIT_UNKNOWN, "%s: block of %zu word%s; XXTEA needs at least 2 (8 bytes)",
		       what, n, n == 1 ? "" : "s");
}

void
xxtea_encrypt(uint32_t *v, size_t n, const uint32_t key[4])
{
	uint32_t y, z, sum = 0;
	size_t p, last;
	unsigned rounds, e;

	xxtea_check(n, __func__);
	last = n - 1;
	/* 6 + 52/n full cycles; n >= 53 gives the minimum of 6. Outside the loop. */
	rounds = (unsigned)(6 + 52 / n);
	z = v[last];
	do {
		sum += XXTEA_DELTA;
		e = (sum >> 2) & 3;
		for (p = 0; p < last; p++) {
			y = v[p + 1];
			z = v[p] += XXTEA_MX;
		}
		y = v[0];
		z = v[last] += XXTEA_MX; /* p == last */
	} while (--rounds);
}

void
xxtea_decrypt(uint32_t *v, size_t n, const uint32_t key[4])
{
	uint32_t y, z, sum;
	size_t p, last;
	unsigned rounds, e;

	xxtea_check(n, __func__);
	last = n - 1;
	rounds = (unsigned)(6 + 52 / n);
	sum = (uint32_t)rounds * XXTEA_DELTA;
	y = v[0];
	do {
		e = (sum >> 2) & 3;
		for (p = last; p > 0; p--) {
			z = v[p - 1];
			y = v[p] -= XXTEA_MX;
		}
		z = v[last];
		y = v[0] -= XXTEA_MX; /* p == 0 */
		sum -= XXTEA_DELTA;
	} while (--rounds);
}

static void
xxtea_check_bytes(size_t nbytes, const char *what)
{
	if (nbytes % 4 != 0)
		fatalx(EXIT_UNKNOWN, "%s: %zu bytes is not a whole number of 32-bit words", what,
		       nbytes);
}

void
xxtea_load_le(uint32_t *w, const uint8_t *b, size_t nbytes)
{
	xxtea_check_bytes(nbytes, __func__);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The words are the bytes as they are: one copy (b may equal w). */
	memmove(w, b, nbytes);
#else
	/* Each word's 4 bytes are read before it is written, so b may equal w. */
	for (size_t i = 0; i < nbytes / 4; i++, b += 4)
		w[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		       (uint32_t)b[3] << 24;
#endif
}

void
xxtea_store_le(uint8_t *b, const uint32_t *w, size_t nbytes)
{
	xxtea_check_bytes(nbytes, __func__);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memmove(b, w, nbytes);
#else
	for (size_t i = 0; i < nbytes / 4; i++, b += 4) {
		uint32_t x = w[i]; /* read first: b and w may be the same buffer */

		b[0] = (uint8_t)x;
		b[1] = (uint8_t)(x >> 8);
		b[2] = (uint8_t)(x >> 16);
		b[3] = (uint8_t)(x >> 24);
	}
#endif
}
