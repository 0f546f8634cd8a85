/* selftest: known-answer tests of every cipher and hash the tunnel uses.
 *
 * Every vector comes from an independent source (named beside it) and was
 * checked against a second implementation when it was added; the unit tests
 * (tests/unit/test_xxtea.c, test_rc4.c, test_keys.c) carry the longer lists. */
#include "common/selftest.h"

#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/rc4.h"
#include "common/util.h"
#include "common/xxtea.h"

/* 1 if the n bytes b, written as lowercase hex, are exactly hex. */
static int
hex_eq(const uint8_t *b, size_t n, const char *hex)
{
	char buf[2 * 160 + 1];

	if (n > 160 || strlen(hex) != 2 * n)
		return 0;
	hex_encode(b, n, buf);
	return strcmp(buf, hex) == 0;
}

/*
 * XXTEA. (a) The test vector of the "xxtea" packages for Python and Ruby:
 * key "Fine. And you?  ", plaintext "How do you do?" PKCS#7-padded to 16
 * bytes, both read as little-endian words. (b) From "TeaCrypt" by Logan J.
 * Drews: all-zero key and block, and a 4-word block.
 */
static int
st_xxtea(void)
{
	static const uint32_t zero_key[4] = {0, 0, 0, 0};
	static const uint32_t key4[4] = {0x00112233, 0x44556677, 0x8899AABB, 0xCCDDEEFF};
	static const uint32_t want4[4] = {0x2B4AB1A4, 0x0E487B6D, 0x9A3AACC7, 0xE4132216};
	uint32_t key[4], w[4];
	uint8_t b[16];
	int ok = 1;

	xxtea_load_le(key, (const uint8_t *)"Fine. And you?  ", 16);
	xxtea_load_le(w, (const uint8_t *)"How do you do?\x02\x02", 16);
	xxtea_encrypt(w, 4, key);
	xxtea_store_le(b, w, 16);
	ok &= hex_eq(b, 16, "78f465eb1b4985887d11842ede853621");
	xxtea_decrypt(w, 4, key);
	xxtea_store_le(b, w, 16);
	ok &= memcmp(b, "How do you do?\x02\x02", 16) == 0;

	w[0] = w[1] = 0;
	xxtea_encrypt(w, 2, zero_key);
	ok &= w[0] == 0x053704AB && w[1] == 0x575D8C80;

	w[0] = w[2] = 0x01234567;
	w[1] = w[3] = 0x89ABCDEF;
	xxtea_encrypt(w, 4, key4);
	ok &= memcmp(w, want4, sizeof(want4)) == 0;
	xxtea_decrypt(w, 4, key4);
	ok &= w[0] == 0x01234567 && w[1] == 0x89ABCDEF && w[2] == 0x01234567 && w[3] == 0x89ABCDEF;
	return ok;
}

/* RC4: RFC 6229 section 2, 40-bit and 128-bit keys, including offset 3072
 * (where p2pd's mode 1 starts using the keystream). */
static int
st_rc4(void)
{
	static const uint8_t k40[5] = {1, 2, 3, 4, 5};
	static const uint8_t k128[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t ks[16];
	struct rc4 st;
	int ok = 1;

	memset(ks, 0, sizeof(ks));
	rc4_init(&st, k40, sizeof(k40));
	rc4_crypt(&st, ks, ks, 16);
	ok &= hex_eq(ks, 16, "b2396305f03dc027ccc3524a0a1118a8");
	rc4_skip(&st, 3072 - 16);
	memset(ks, 0, sizeof(ks));
	rc4_crypt(&st, ks, ks, 16);
	ok &= hex_eq(ks, 16, "ec0e11c479dc329dc8da7968fe965681");

	memset(ks, 0, sizeof(ks));
	rc4_init(&st, k128, sizeof(k128));
	rc4_skip(&st, 4096);
	rc4_crypt(&st, ks, ks, 16);
	ok &= hex_eq(ks, 16, "a36a4c301ae8ac13610ccbc12256cacc");
	rc4_wipe(&st);
	return ok;
}

/* Keyed BLAKE2b (MAC and KDF): values computed with Python's hashlib.blake2b
 * (digest_size=16 or 32, key=bytes(range(32))), an independent implementation. */
static int
st_blake2b(void)
{
	uint8_t key[32], tag[MAC_LEN], okm[32];
	const struct mac_part parts[2] = {{"hello, ", 7}, {"p2pd", 4}};
	int ok = 1;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	mac_compute(tag, key, sizeof(key), parts, 2);
	ok &= hex_eq(tag, MAC_LEN, "27d554bdb223f0a41c9a550fe7e9d69a");
	ok &= mac_verify(tag, key, sizeof(key), parts, 2) == 0;
	tag[MAC_LEN - 1] ^= 0x80;
	ok &= mac_verify(tag, key, sizeof(key), parts, 2) == -1;

	kdf(okm, sizeof(okm), key, sizeof(key), "tx", "\x01\x02\x03", 3);
	ok &= hex_eq(okm, sizeof(okm),
		     "4e7f23bc47c86070acec977ac470a8d8bbec88c5a57136e4fbc7d4a167069880");
	return ok;
}

/* ChaCha20-Poly1305 (IETF): RFC 8439 section 2.8.2. */
static int
st_chacha20poly1305(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				 "only one tip for the future, sunscreen would be it.";
	static const char want[] =
	    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691";
	static const uint8_t nonce[12] = {0x07, 0,    0,    0,	  0x40, 0x41,
					  0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
	static const uint8_t aad[12] = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
					0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
	uint8_t key[32], ct[sizeof(pt) - 1 + 16], back[sizeof(pt) - 1];
	unsigned long long ctlen, backlen;
	int ok = 1;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, &ctlen, (const uint8_t *)pt, sizeof(pt) - 1,
						  aad, sizeof(aad), NULL, nonce, key);
	ok &= ctlen == sizeof(ct) && hex_eq(ct, sizeof(ct), want);
	ok &= crypto_aead_chacha20poly1305_ietf_decrypt(back, &backlen, NULL, ct, sizeof(ct), aad,
							sizeof(aad), nonce, key) == 0 &&
	      backlen == sizeof(back) && memcmp(back, pt, sizeof(back)) == 0;
	ct[sizeof(ct) - 1] ^= 1;
	ok &= crypto_aead_chacha20poly1305_ietf_decrypt(back, &backlen, NULL, ct, sizeof(ct), aad,
							sizeof(aad), nonce, key) == -1;
	return ok;
}

/* XChaCha20-Poly1305 (seals the session secret in introductions):
 * draft-irtf-cfrg-xchacha-03 appendix A.3.1, checked against libsodium. */
static int
st_xchacha20poly1305(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				 "only one tip for the future, sunscreen would be it.";
	static const char want[] =
	    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	    "21f9664c97637da9768812f615c68b13b52e"
	    "c0875924c1c7987947deafd8780acf49";
	static const uint8_t aad[12] = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
					0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
	uint8_t key[32], nonce[24], ct[sizeof(pt) - 1 + 16], back[sizeof(pt) - 1];
	unsigned long long ctlen, backlen;
	int ok = 1;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0x40 + i);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, (const uint8_t *)pt, sizeof(pt) - 1,
						   aad, sizeof(aad), NULL, nonce, key);
	ok &= ctlen == sizeof(ct) && hex_eq(ct, sizeof(ct), want);
	ok &= crypto_aead_xchacha20poly1305_ietf_decrypt(back, &backlen, NULL, ct, sizeof(ct), aad,
							 sizeof(aad), nonce, key) == 0 &&
	      backlen == sizeof(back) && memcmp(back, pt, sizeof(back)) == 0;
	ct[0] ^= 1;
	ok &= crypto_aead_xchacha20poly1305_ietf_decrypt(back, &backlen, NULL, ct, sizeof(ct), aad,
							 sizeof(aad), nonce, key) == -1;
	return ok;
}

/* X25519: RFC 7748 section 6.1 (both public keys, the shared secret both ways). */
static int
st_x25519(void)
{
	static const char *const hex[5] = {
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	};
	uint8_t a[32], b[32], apub[32], bpub[32], s1[32], s2[32];
	int ok = 1;

	if (hex_decode(hex[0], a, 32) == -1 || hex_decode(hex[2], b, 32) == -1)
		return 0;
	ok &= crypto_scalarmult_base(apub, a) == 0 && hex_eq(apub, 32, hex[1]);
	ok &= crypto_scalarmult_base(bpub, b) == 0 && hex_eq(bpub, 32, hex[3]);
	ok &= crypto_scalarmult(s1, a, bpub) == 0 && hex_eq(s1, 32, hex[4]);
	ok &= crypto_scalarmult(s2, b, apub) == 0 && hex_eq(s2, 32, hex[4]);
	return ok;
}

/* Argon2id auth_hash: computed with Python's cryptography package (Argon2id,
 * 2 iterations, 1 lane, 65536 KiB, 20 bytes; salt from hashlib.blake2b). */
static int
st_auth_hash(void)
{
	uint8_t h[AUTH_HASH_LEN];

	if (auth_hash_derive("alice", "correct horse battery staple", h) == -1)
		return 0;
	return hex_eq(h, sizeof(h), "3b80ec96dea0873209418fd0e9352f17cc147122");
}

static const struct {
	const char *name;
	int (*run)(void);
	int needs_sodium; /* cannot pass if sodium_init failed */
} selftests[SELFTEST_COUNT] = {
    {"XXTEA", st_xxtea, 0},
    {"RC4", st_rc4, 0},
    {"BLAKE2b MAC", st_blake2b, 1},
    {"ChaCha20-Poly1305", st_chacha20poly1305, 1},
    {"XChaCha20-Poly1305", st_xchacha20poly1305, 1},
    {"X25519", st_x25519, 1},
    {"Argon2id auth_hash", st_auth_hash, 1},
};

size_t
selftest_run(struct selftest_result *res, size_t max)
{
	size_t n = max < SELFTEST_COUNT ? max : SELFTEST_COUNT;
	int sodium_ok = keys_init() == 0;

	for (size_t i = 0; i < n; i++) {
		res[i].name = selftests[i].name;
		res[i].ok = (sodium_ok || !selftests[i].needs_sodium) ? selftests[i].run() : 0;
	}
	return n;
}
