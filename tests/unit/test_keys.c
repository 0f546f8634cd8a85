/* Unit tests for common/keys.c: auth_hash (salt and Argon2id), the keyed
 * BLAKE2b MAC, the KDF, constant-time compare and wipe.
 *
 * Every pinned value below was computed once, by hand, outside this code base
 * with Python 3:
 *   salt     hashlib.blake2b(b"p2pd auth_hash v1" + user, digest_size=16)
 *   auth     cryptography.hazmat.primitives.kdf.argon2.Argon2id(salt=salt,
 *            length=20, iterations=2, lanes=1, memory_cost=65536).derive(pw)
 *            (crypto_pwhash's INTERACTIVE limits: 2 passes, 64 MiB; version 0x13)
 *   MAC      hashlib.blake2b(msg, digest_size=16, key=key)
 *   KDF      hashlib.blake2b(b"p2pd " + label + b"\0" + ctx, digest_size=outlen,
 *            key=ikm, or key=hashlib.blake2b(ikm, digest_size=32) when
 *            len(ikm) is not 16..64)
 * Python's hashlib BLAKE2 and cryptography's Argon2 (OpenSSL) are independent
 * of libsodium. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/exitcodes.h"
#include "common/keys.h"
#include "tests/unit/helper_test.h"

static int
setup(void **state)
{
	(void)state;
	return keys_init() == 0 ? 0 : -1;
}

static void
test_init_twice(void **state)
{
	(void)state;
	assert_int_equal(keys_init(), 0);
	assert_int_equal(keys_init(), 0);
}

static void
test_salt(void **state)
{
	uint8_t salt[AUTH_SALT_LEN];

	(void)state;
	assert_int_equal(AUTH_SALT_LEN, crypto_pwhash_SALTBYTES);
	auth_hash_salt("alice", salt);
	th_assert_hex(salt, sizeof(salt), "a0c6295117f1ab116222379f6804a2ed");
	auth_hash_salt("bob", salt);
	th_assert_hex(salt, sizeof(salt), "5612311b51cb33eb1ee1f15adb63166f");
	auth_hash_salt("", salt);
	th_assert_hex(salt, sizeof(salt), "0273b70b0430e29addb18dccaf74aa9d");
}

static void
test_auth_hash(void **state)
{
	uint8_t a[AUTH_HASH_LEN + 4], b[AUTH_HASH_LEN + 4], c[AUTH_HASH_LEN], d[AUTH_HASH_LEN];

	(void)state;
	/* Pinned, and exactly 20 bytes written (the canary after them survives). */
	memset(a, 0xAB, sizeof(a));
	assert_int_equal(auth_hash_derive("alice", "correct horse battery staple", a), 0);
	th_assert_hex(a, AUTH_HASH_LEN, "3b80ec96dea0873209418fd0e9352f17cc147122");
	for (size_t i = AUTH_HASH_LEN; i < sizeof(a); i++)
		assert_int_equal(a[i], 0xAB);

	/* Deterministic. */
	memset(b, 0xAB, sizeof(b));
	assert_int_equal(auth_hash_derive("alice", "correct horse battery staple", b), 0);
	assert_memory_equal(a, b, sizeof(a));

	/* Another user, same password: another hash (pinned too). */
	assert_int_equal(auth_hash_derive("bob", "correct horse battery staple", c), 0);
	th_assert_hex(c, AUTH_HASH_LEN, "6fb97c9c237ee64a193d75ff810e53d04829bf65");
	assert_memory_not_equal(a, c, AUTH_HASH_LEN);

	/* Same user, another password: another hash. */
	assert_int_equal(auth_hash_derive("alice", "correct horse battery stapler", d), 0);
	assert_memory_not_equal(a, d, AUTH_HASH_LEN);
	assert_memory_not_equal(c, d, AUTH_HASH_LEN);

	/* Empty user and password are hashed like any other. */
	assert_int_equal(auth_hash_derive("", "", d), 0);
	th_assert_hex(d, AUTH_HASH_LEN, "4a481449b8ddba6ef28d0200a59243eee1d5c523");
}

static void
test_mac_pinned(void **state)
{
	uint8_t key[64], tag[MAC_LEN + 2];
	const struct mac_part two[2] = {{"hello, ", 7}, {"p2pd", 4}};
	const struct mac_part one[1] = {{"hello, p2pd", 11}};
	const struct mac_part gaps[5] = {
	    {NULL, 0}, {"hel", 3}, {"", 0}, {"lo, p2pd", 8}, {NULL, 0}};
	static const char msg[] = "hello, p2pd";
	struct mac_part bytes[11];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	memset(tag, 0xAB, sizeof(tag));
	mac_compute(tag, key, 32, two, 2);
	th_assert_hex(tag, MAC_LEN, "27d554bdb223f0a41c9a550fe7e9d69a");
	assert_int_equal(tag[MAC_LEN], 0xAB);
	assert_int_equal(tag[MAC_LEN + 1], 0xAB);

	/* The parts are only concatenated: any split gives the same tag. */
	mac_compute(tag, key, 32, one, 1);
	th_assert_hex(tag, MAC_LEN, "27d554bdb223f0a41c9a550fe7e9d69a");
	mac_compute(tag, key, 32, gaps, 5);
	th_assert_hex(tag, MAC_LEN, "27d554bdb223f0a41c9a550fe7e9d69a");
	for (size_t i = 0; i < 11; i++) {
		bytes[i].p = &msg[i];
		bytes[i].n = 1;
	}
	mac_compute(tag, key, 32, bytes, 11);
	th_assert_hex(tag, MAC_LEN, "27d554bdb223f0a41c9a550fe7e9d69a");

	/* The longest key. */
	mac_compute(tag, key, 64, two, 2);
	th_assert_hex(tag, MAC_LEN, "e44b80f1a360865b5f3f060a01f8cfa4");
	assert_int_equal(mac_verify(tag, key, 64, two, 2), 0);
}

static void
test_mac_forgery_rejected(void **state)
{
	uint8_t key[32], tag[MAC_LEN], bad[MAC_LEN], msg[64];
	struct mac_part part = {msg, sizeof(msg)};

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(msg, sizeof(msg));
	mac_compute(tag, key, sizeof(key), &part, 1);
	assert_int_equal(mac_verify(tag, key, sizeof(key), &part, 1), 0);

	/* Every single flipped bit of the tag. */
	for (size_t bit = 0; bit < 8 * MAC_LEN; bit++) {
		memcpy(bad, tag, MAC_LEN);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(mac_verify(bad, key, sizeof(key), &part, 1), -1);
	}
	/* Every single flipped bit of the message. */
	for (size_t bit = 0; bit < 8 * sizeof(msg); bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(mac_verify(tag, key, sizeof(key), &part, 1), -1);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* A message one byte shorter, or another key. */
	part.n--;
	assert_int_equal(mac_verify(tag, key, sizeof(key), &part, 1), -1);
	part.n++;
	key[31] ^= 1;
	assert_int_equal(mac_verify(tag, key, sizeof(key), &part, 1), -1);
	key[31] ^= 1;
	assert_int_equal(mac_verify(tag, key, sizeof(key), &part, 1), 0);
	/* A key of the wrong length is refused, not used. */
	assert_int_equal(mac_verify(tag, key, 15, &part, 1), -1);
}

static void
test_kdf_pinned(void **state)
{
	uint8_t ikm[100], out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ikm); i++)
		ikm[i] = (uint8_t)i;
	kdf(out, 32, ikm, 32, "tx", "\x01\x02\x03", 3);
	th_assert_hex(out, 32, "4e7f23bc47c86070acec977ac470a8d8bbec88c5a57136e4fbc7d4a167069880");
	kdf(out, 1, ikm, 32, "rx", NULL, 0);
	th_assert_hex(out, 1, "e9");
	/* ikm shorter than 16 or longer than 64 bytes: keyed with its hash. */
	kdf(out, 32, (const uint8_t *)"short", 5, "tx", NULL, 0);
	th_assert_hex(out, 32, "3421fff44a15172fb0bb3f06769ce9c09f885a9fd4da997475146d2e39108b17");
	kdf(out, 64, ikm, 100, "session", "ctx", 3);
	th_assert_hex(out, 64,
		      "ac398636fc89e613c38903b0d84226d5bbb2cc2aadefdf87eb7a0b0dbad0cc74"
		      "3984ce6ab110a4da78e70eb586999dae0adae4c4b472823539ff04c638344120");
	/* The 0x00 after the label keeps label and context apart. */
	kdf(out, 32, ikm, 32, "ab", "c", 1);
	th_assert_hex(out, 32, "4c59cef8ef2fbb44dcb95eec9236adb2643db29bd237ec71384205d0fe3f6b58");
	kdf(out, 32, ikm, 32, "a", "bc", 2);
	th_assert_hex(out, 32, "2cfb59ecb02677c0e77f77a7e508ffa5f0d6396ec4b7ef171d0284d7b13bd50a");
}

static void
test_kdf_separation(void **state)
{
	uint8_t ikm[KEY_LEN], a[KEY_LEN], b[KEY_LEN], c[KEY_LEN], d[KEY_LEN];

	(void)state;
	randombytes_buf(ikm, sizeof(ikm));
	kdf(a, sizeof(a), ikm, sizeof(ikm), "initiator->target", "ctx", 3);
	kdf(b, sizeof(b), ikm, sizeof(ikm), "target->initiator", "ctx", 3);
	kdf(c, sizeof(c), ikm, sizeof(ikm), "initiator->target", "ctX", 3);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	assert_memory_not_equal(b, c, sizeof(a));
	/* Deterministic. */
	kdf(d, sizeof(d), ikm, sizeof(ikm), "initiator->target", "ctx", 3);
	assert_memory_equal(a, d, sizeof(a));
	/* Another ikm, another key. */
	ikm[0] ^= 1;
	kdf(d, sizeof(d), ikm, sizeof(ikm), "initiator->target", "ctx", 3);
	assert_memory_not_equal(a, d, sizeof(a));
}

static void
test_ct_memcmp_and_wipe(void **state)
{
	uint8_t a[33], b[33];

	(void)state;
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(ct_memcmp(a, b, sizeof(a)), 0);
	assert_int_equal(ct_memcmp(a, b, 0), 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x40;
		assert_int_equal(ct_memcmp(a, b, sizeof(a)), -1);
		b[i] ^= 0x40;
	}
	wipe(a, 32);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(a[i], 0);
	assert_int_equal(a[32], 7);
}

static void
mac_short_key(void)
{
	static const uint8_t key[15];
	uint8_t tag[MAC_LEN];

	mac_compute(tag, key, sizeof(key), NULL, 0);
}

static void
mac_long_key(void)
{
	static const uint8_t key[65];
	uint8_t tag[MAC_LEN];

	mac_compute(tag, key, sizeof(key), NULL, 0);
}

static void
kdf_long_output(void)
{
	static const uint8_t ikm[32];
	uint8_t out[65];

	kdf(out, sizeof(out), ikm, sizeof(ikm), "x", NULL, 0);
}

static void
kdf_empty_output(void)
{
	static const uint8_t ikm[32];
	uint8_t out[1];

	kdf(out, 0, ikm, sizeof(ikm), "x", NULL, 0);
}

static void
test_contract_violations_end_process(void **state)
{
	(void)state;
	assert_int_equal(th_exit_status_of(mac_short_key), EXIT_UNKNOWN);
	assert_int_equal(th_exit_status_of(mac_long_key), EXIT_UNKNOWN);
	assert_int_equal(th_exit_status_of(kdf_long_output), EXIT_UNKNOWN);
	assert_int_equal(th_exit_status_of(kdf_empty_output), EXIT_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_twice),
	    cmocka_unit_test(test_salt),
	    cmocka_unit_test(test_auth_hash),
	    cmocka_unit_test(test_mac_pinned),
	    cmocka_unit_test(test_mac_forgery_rejected),
	    cmocka_unit_test(test_kdf_pinned),
	    cmocka_unit_test(test_kdf_separation),
	    cmocka_unit_test(test_ct_memcmp_and_wipe),
	    cmocka_unit_test(test_contract_violations_end_process),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
