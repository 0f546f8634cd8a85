/* keys: auth_hash derivation, the keyed MAC and the key derivation function
 * every part of p2pd uses. All built on libsodium. */
#ifndef P2PD_KEYS_H
#define P2PD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_HASH_LEN 20 /* shown as 40 hex digits */
#define MAC_LEN       16 /* 128-bit tags */
#define KEY_LEN       32

/* Call once before anything else (wraps sodium_init). Returns -1 on failure. */
int keys_init(void);

/* auth_hash = Argon2id(password, salt = BLAKE2b-128("p2pd auth_hash v1" || user)),
 * opslimit/memlimit INTERACTIVE, 20 bytes. Returns -1 if out of memory. */
int auth_hash_derive(const char *user, const char *password, uint8_t out[AUTH_HASH_LEN]);

/* MAC = keyed BLAKE2b with a 16-byte output over the concatenation of the parts.
 * key is 16..64 bytes. */
struct mac_part {
	const void *p;
	size_t n;
};
void mac_compute(uint8_t out[MAC_LEN], const uint8_t *key, size_t keylen,
                 const struct mac_part *parts, size_t nparts);
/* Recompute and compare in constant time; returns 0 if equal, -1 otherwise. */
int mac_verify(const uint8_t tag[MAC_LEN], const uint8_t *key, size_t keylen,
               const struct mac_part *parts, size_t nparts);

/* out (1..64 bytes) = BLAKE2b(key = ikm, "p2pd " label || ctx): one derivation per label. */
void kdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen, const char *label,
         const void *ctx, size_t ctxlen);

/* Constant-time comparison (0 if equal) and wiping, re-exported for callers. */
int ct_memcmp(const void *a, const void *b, size_t n);
void wipe(void *p, size_t n);

#endif
