/* keys: auth_hash derivation, the keyed MAC and the key derivation function. */
#include "common/keys.h"

#include <string.h>

#include <sodium.h>

#include "common/exitcodes.h"
#include "common/log.h"

#define AUTH_SALT_PREFIX "p2pd auth_hash v1"
#define KDF_PREFIX	 "p2pd "

int
keys_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
auth_hash_salt(const char *user, uint8_t salt[AUTH_SALT_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, AUTH_SALT_LEN);
	crypto_generichash_update(&st, (const uint8_t *)AUTH_SALT_PREFIX,
				  sizeof(AUTH_SALT_PREFIX) - 1);
	crypto_generichash_update(&st, (const uint8_t *)user, strlen(user));
	crypto_generichash_final(&st, salt, AUTH_SALT_LEN);
}

int
auth_hash_derive(const char *user, const char *password, uint8_t out[AUTH_HASH_LEN])
{
	uint8_t salt[AUTH_SALT_LEN];

	auth_hash_salt(user, salt);
	if (crypto_pwhash(out, AUTH_HASH_LEN, password, strlen(password), salt,
			  crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(out, AUTH_HASH_LEN);
		return -1;
	}
	return 0;
}

static int
mac_keylen_ok(size_t keylen)
{
	return keylen >= crypto_generichash_KEYBYTES_MIN &&
	       keylen <= crypto_generichash_KEYBYTES_MAX;
}

/* The tag; the caller has checked keylen. */
static void
mac_tag(uint8_t out[MAC_LEN], const uint8_t *key, size_t keylen, const struct mac_part *parts,
	size_t nparts)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, keylen, MAC_LEN);
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n > 0)
			crypto_generichash_update(&st, parts[i].p, parts[i].n);
	crypto_generichash_final(&st, out, MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

void
mac_compute(uint8_t out[MAC_LEN], const uint8_t *key, size_t keylen, const struct mac_part *parts,
	    size_t nparts)
{
	if (!mac_keylen_ok(keylen))
		fatalx(EXIT_UNKNOWN, "MAC key of %zu bytes; it must be 16 to 64", keylen);
	mac_tag(out, key, keylen, parts, nparts);
}

int
mac_verify(const uint8_t tag[MAC_LEN], const uint8_t *key, size_t keylen,
	   const struct mac_part *parts, size_t nparts)
{
	uint8_t want[MAC_LEN];
	int r;

	if (!mac_keylen_ok(keylen)) {
		log_warnx("MAC key of %zu bytes; it must be 16 to 64", keylen);
		return -1;
	}
	mac_tag(want, key, keylen, parts, nparts);
	r = sodium_memcmp(want, tag, MAC_LEN) == 0 ? 0 : -1;
	sodium_memzero(want, sizeof(want));
	return r;
}

void
kdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen, const char *label,
    const void *ctx, size_t ctxlen)
{
	crypto_generichash_state st;
	uint8_t hashed[KEY_LEN];
	static const uint8_t zero = 0;

	if (outlen < 1 || outlen > crypto_generichash_BYTES_MAX)
		fatalx(EXIT_UNKNOWN, "derived key of %zu bytes for \"%s\"; it must be 1 to 64",
		       outlen, label);
	if (!mac_keylen_ok(ikmlen)) {
		/* Too short or too long to key BLAKE2b: key it with the hash instead. */
		crypto_generichash(hashed, sizeof(hashed), ikm, ikmlen, NULL, 0);
		ikm = hashed;
		ikmlen = sizeof(hashed);
	}
	crypto_generichash_init(&st, ikm, ikmlen, outlen);
	crypto_generichash_update(&st, (const uint8_t *)KDF_PREFIX, sizeof(KDF_PREFIX) - 1);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, &zero, 1);
	if (ctxlen > 0)
		crypto_generichash_update(&st, ctx, ctxlen);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(hashed, sizeof(hashed));
}

int
ct_memcmp(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0 ? 0 : -1;
}

void
wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}
