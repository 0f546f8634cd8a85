/* keys: auth_hash derivation, the keyed MAC and the key derivation function
 * every part of p2pd uses. All built on libsodium. */
#ifndef P2PD_KEYS_H
#define P2PD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_HASH_LEN 20 /* shown as 40 hex digits */
#define AUTH_SALT_LEN 16 /* crypto_pwhash_SALTBYTES */
#define MAC_LEN	      16 /* 128-bit tags */
#define KEY_LEN	      32

/* Call once before anything else (wraps sodium_init; calling it again is
 * harmless). Returns 0, or -1 on failure. */
int keys_init(void);

/* auth_hash = Argon2id(password, salt = BLAKE2b-128("p2pd auth_hash v1" || user)),
 * opslimit/memlimit INTERACTIVE (2 passes, 64 MiB, one lane, version 0x13),
 * 20 bytes. "||" is plain concatenation, no separator. Returns 0, or -1 if out
 * of memory (out is then zeroed). */
int auth_hash_derive(const char *user, const char *password, uint8_t out[AUTH_HASH_LEN]);
/* The salt auth_hash_derive uses for user (exposed for tests and docs). */
void auth_hash_salt(const char *user, uint8_t salt[AUTH_SALT_LEN]);

/* MAC = keyed BLAKE2b with a 16-byte output over the concatenation of the parts
 * (no lengths or separators are added: callers put fixed-size fields or their
 * own lengths in the parts). key is 16..64 bytes; another length is a
 * programming error and ends the process. */
struct mac_part {
	const void *p;
	size_t n;
};
void mac_compute(uint8_t out[MAC_LEN], const uint8_t *key, size_t keylen,
		 const struct mac_part *parts, size_t nparts);
/* Recompute and compare in constant time; returns 0 if equal, -1 otherwise
 * (also -1, with a warning, if keylen is not 16..64). */
int mac_verify(const uint8_t tag[MAC_LEN], const uint8_t *key, size_t keylen,
	       const struct mac_part *parts, size_t nparts);

/* out (1..64 bytes) = BLAKE2b(key = ikm, "p2pd " || label || 0x00 || ctx), with
 * an output length of outlen: one derivation per label. When ikmlen is not
 * 16..64 the key is BLAKE2b-256(ikm) instead. label is a NUL-terminated string;
 * ctx may be NULL when ctxlen is 0. outlen outside 1..64 is a programming
 * error and ends the process. */
void kdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen, const char *label,
	 const void *ctx, size_t ctxlen);

/* Constant-time comparison (0 if equal, -1 otherwise) and wiping
 * (sodium_memcmp, sodium_memzero), re-exported for callers. */
int ct_memcmp(const void *a, const void *b, size_t n);
void wipe(void *p, size_t n);

#endif
