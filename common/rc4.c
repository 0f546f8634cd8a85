/* rc4: the RC4 stream cipher. */
#include "common/rc4.h"

#include <sodium.h>

#include "common/exitcodes.h"
#include "common/log.h"

void
rc4_init(struct rc4 *st, const uint8_t *key, size_t keylen)
{
	uint8_t j = 0, t;
	size_t k = 0;

	if (keylen < 1 || keylen > 256)
		fatalx(EXIT_UNKNOWN, "key of %zu bytes; RC4 takes 1 to 256", keylen);
	for (unsigned i = 0; i < 256; i++)
		st->s[i] = (uint8_t)i;
	for (unsigned i = 0; i < 256; i++) {
		j = (uint8_t)(j + st->s[i] + key[k]);
		if (++k == keylen)
			k = 0;
		t = st->s[i];
		st->s[i] = st->s[j];
		st->s[j] = t;
	}
	st->i = 0;
	st->j = 0;
}

/* The next keystream byte. */
static inline uint8_t
rc4_byte(uint8_t *s, uint8_t *ip, uint8_t *jp)
{
	uint8_t i = (uint8_t)(*ip + 1), j, si, sj;

	si = s[i];
	j = (uint8_t)(*jp + si);
	sj = s[j];
	s[i] = sj;
	s[j] = si;
	*ip = i;
	*jp = j;
	return s[(uint8_t)(si + sj)];
}

void
rc4_skip(struct rc4 *st, size_t n)
{
	uint8_t i = st->i, j = st->j;

	while (n-- > 0)
		(void)rc4_byte(st->s, &i, &j);
	st->i = i;
	st->j = j;
}

void
rc4_crypt(struct rc4 *st, const uint8_t *in, uint8_t *out, size_t n)
{
	uint8_t i = st->i, j = st->j;

	for (size_t k = 0; k < n; k++)
		out[k] = in[k] ^ rc4_byte(st->s, &i, &j);
	st->i = i;
	st->j = j;
}

void
rc4_wipe(struct rc4 *st)
{
	sodium_memzero(st, sizeof(*st));
}
