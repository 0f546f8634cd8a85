/* base64: RFC 4648 section 4 (standard alphabet, '=' padding). */
#ifndef P2PD_BASE64_H
#define P2PD_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, including the terminating NUL; 0 if n is so
 * large that the size would not fit in a size_t. */
size_t b64_encoded_size(size_t n);
/* Writes b64_encoded_size(n) bytes (the text and its NUL) to out. */
void b64_encode(const uint8_t *in, size_t n, char *out);
/* An upper bound on the bytes inlen characters decode to (inlen / 4 * 3). */
size_t b64_decoded_maxsize(size_t inlen);
/* Decode inlen characters. Returns 0 and *outlen, or -1 on invalid input
 * (bad character, bad padding, non-zero trailing bits, or more than outcap bytes).
 * Strict: padding is required, no whitespace, no line breaks. On failure
 * *outlen is 0 and out is not written. */
int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen);
/* b64_decode that also sets *why (if why is not NULL) to what is wrong and
 * where, e.g. "'!' at position 3 is not a base64 character" (positions count
 * from 1). *why points to per-thread storage that the next failing call
 * overwrites. */
int b64_decode_why(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen,
		   const char **why);

#endif
