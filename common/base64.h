/* base64: RFC 4648 section 4 (standard alphabet, '=' padding). */
#ifndef P2PD_BASE64_H
#define P2PD_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, including the terminating NUL. */
size_t b64_encoded_size(size_t n);
void b64_encode(const uint8_t *in, size_t n, char *out);
/* Decode inlen characters. Returns 0 and *outlen, or -1 on invalid input
 * (bad character, bad padding, non-zero trailing bits, or more than outcap bytes). */
int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap, size_t *outlen);

#endif
