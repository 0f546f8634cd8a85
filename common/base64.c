/* base64: RFC 4648 section 4 (standard alphabet, '=' padding), strict decoding. */
#include "common/base64.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Room for the longest reason b64_decode_why gives; one per thread. */
static _Thread_local char b64_why[128];

size_t
b64_encoded_size(size_t n)
{
	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return 0;
	return (n + 2) / 3 * 4 + 1;
}

size_t
b64_decoded_maxsize(size_t inlen)
{
	return inlen / 4 * 3;
}

void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0, o = 0;
	uint32_t w;

	for (; n - i >= 3; i += 3) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[w >> 18];
		out[o++] = b64_alphabet[(w >> 12) & 63];
		out[o++] = b64_alphabet[(w >> 6) & 63];
		out[o++] = b64_alphabet[w & 63];
	}
	if (n - i == 1) {
		w = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[w >> 18];
		out[o++] = b64_alphabet[(w >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[w >> 18];
		out[o++] = b64_alphabet[(w >> 12) & 63];
		out[o++] = b64_alphabet[(w >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* Value of one alphabet character, or -1. */
static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int fail(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b64_why, sizeof(b64_why), fmt, ap);
	va_end(ap);
	if (why != NULL)
		*why = b64_why;
	return -1;
}

/*
 * Checks the shape of the input before anything is written: length, where
 * '=' may stand, and that every other character is in the alphabet. Sets
 * *pad to the number of '=' (0..2). Positions in messages count from 1.
 */
static int
b64_check(const char *in, size_t inlen, size_t *pad, const char **why)
{
	char cb[8];
	size_t body;

	if (inlen % 4 != 0)
		return fail(why, "length %zu is not a multiple of 4 (padding with '=' is required)",
			    inlen);
	*pad = 0;
	if (inlen > 0 && in[inlen - 1] == '=')
		*pad = (inlen > 1 && in[inlen - 2] == '=') ? 2 : 1;
	body = inlen - *pad;
	for (size_t i = 0; i < body; i++) {
		if (in[i] == '=')
			return fail(why, "'=' at position %zu: padding may only end the input",
				    i + 1);
		if (b64_val(in[i]) < 0)
			return fail(why, "%s at position %zu is not a base64 character",
				    char_shown(in[i], cb), i + 1);
	}
	return 0;
}

/* Value of the 4 characters at in as one 24-bit group ('=' counts as 0). */
static uint32_t
b64_group(const char *in)
{
	uint32_t w = 0;

	for (int k = 0; k < 4; k++)
		w = w << 6 | (in[k] == '=' ? 0 : (uint32_t)b64_val(in[k]));
	return w;
}

int
b64_decode_why(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen,
	       const char **why)
{
	size_t pad = 0, need, o = 0;
	uint32_t w;

	*outlen = 0;
	if (b64_check(in, inlen, &pad, why) == -1)
		return -1;
	need = inlen / 4 * 3 - pad;
	if (need > outcap)
		return fail(why, "decodes to %zu bytes, more than the %zu that fit", need, outcap);
	/* The bits the padding leaves unused must be zero (RFC 4648 section 3.5). */
	if (pad > 0 && (b64_group(in + inlen - 4) & (pad == 2 ? 0xffffu : 0xffu)) != 0)
		return fail(
		    why, "non-zero unused bits in the last group at position %zu (not canonical)",
		    inlen - pad);
	/* Nothing is written until the whole input is known to be good. */
	for (size_t i = 0; i < inlen; i += 4) {
		w = b64_group(in + i);
		out[o++] = (uint8_t)(w >> 16);
		if (o < need)
			out[o++] = (uint8_t)(w >> 8);
		if (o < need)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}

int
b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	return b64_decode_why(in, inlen, out, outcap, outlen, NULL);
}
