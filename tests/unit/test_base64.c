/* Unit tests for common/base64.c: RFC 4648 vectors, round trips checked against
 * libsodium's encoder, and every malformed-input case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/base64.h"

/* RFC 4648 section 10 test vectors. */
static const struct {
	const char *plain;
	const char *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
test_rfc4648_encode(void **state)
{
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t n = strlen(rfc4648[i].plain);

		assert_int_equal(b64_encoded_size(n), strlen(rfc4648[i].enc) + 1);
		memset(out, 'X', sizeof(out));
		b64_encode((const uint8_t *)rfc4648[i].plain, n, out);
		assert_string_equal(out, rfc4648[i].enc);
	}
}

static void
test_rfc4648_decode(void **state)
{
	uint8_t out[16];
	size_t outlen;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *e = rfc4648[i].enc;
		size_t n = strlen(rfc4648[i].plain);

		outlen = 99;
		assert_int_equal(b64_decode(e, strlen(e), out, sizeof(out), &outlen), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(out, rfc4648[i].plain, n);
		assert_true(b64_decoded_maxsize(strlen(e)) >= n);
		/* Exactly enough room is enough. */
		assert_int_equal(b64_decode(e, strlen(e), out, n, &outlen), 0);
		assert_int_equal(outlen, n);
	}
}

/* Every length 0..300 of random bytes: our encoding equals libsodium's
 * (an independent implementation), and decodes back. */
static void
test_roundtrip_against_libsodium(void **state)
{
	uint8_t in[300], back[300];
	char ours[401], theirs[401];
	size_t outlen;

	(void)state;
	assert_true(sodium_init() >= 0);
	for (size_t n = 0; n <= sizeof(in); n++) {
		randombytes_buf(in, n);
		if (n > 0)
			in[n - 1] = (uint8_t)n; /* and every value appears at least once */
		b64_encode(in, n, ours);
		sodium_bin2base64(theirs, sizeof(theirs), in, n, sodium_base64_VARIANT_ORIGINAL);
		assert_string_equal(ours, theirs);
		assert_int_equal(strlen(ours) + 1, b64_encoded_size(n));
		assert_int_equal(b64_decode(ours, strlen(ours), back, sizeof(back), &outlen), 0);
		assert_int_equal(outlen, n);
		assert_memory_equal(back, in, n);
	}
}

static void
test_all_byte_values(void **state)
{
	uint8_t in[256], back[256];
	char enc[345];
	size_t outlen;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	assert_int_equal(b64_encoded_size(256), sizeof(enc));
	b64_encode(in, 256, enc);
	assert_int_equal(b64_decode(enc, strlen(enc), back, sizeof(back), &outlen), 0);
	assert_int_equal(outlen, 256);
	assert_memory_equal(back, in, 256);
}

/* Decoding s fails with reason want; *outlen is 0 and the canary in out is untouched. */
static void
expect_reject(const char *s, const char *want)
{
	uint8_t out[32];
	const char *why = NULL;
	size_t outlen = 99;

	memset(out, 0xAB, sizeof(out));
	assert_int_equal(b64_decode_why(s, strlen(s), out, sizeof(out), &outlen, &why), -1);
	assert_int_equal(outlen, 0);
	assert_non_null(why);
	assert_string_equal(why, want);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xAB);
	outlen = 99;
	assert_int_equal(b64_decode(s, strlen(s), out, sizeof(out), &outlen), -1);
	assert_int_equal(outlen, 0);
}

static void
test_reject_bad_characters(void **state)
{
	(void)state;
	expect_reject("Zm9v!A==", "'!' at position 5 is not a base64 character");
	expect_reject("Zm 9v", "length 5 is not a multiple of 4 (padding with '=' is required)");
	expect_reject("Zm 9", "' ' at position 3 is not a base64 character");
	expect_reject("Zm9v\nYmFy",
		      "length 9 is not a multiple of 4 (padding with '=' is required)");
	expect_reject("Zm9\nYmFy", "\\x0A at position 4 is not a base64 character");
	/* The URL-safe alphabet (RFC 4648 section 5) is not this one. */
	expect_reject("ab-_", "'-' at position 3 is not a base64 character");
	expect_reject("\xc3\xa9==", "\\xC3 at position 1 is not a base64 character");
}

static void
test_reject_bad_padding(void **state)
{
	(void)state;
	expect_reject("Zg=", "length 3 is not a multiple of 4 (padding with '=' is required)");
	expect_reject("Zg===", "length 5 is not a multiple of 4 (padding with '=' is required)");
	expect_reject("Zg", "length 2 is not a multiple of 4 (padding with '=' is required)");
	expect_reject("Z===", "'=' at position 2: padding may only end the input");
	expect_reject("====", "'=' at position 1: padding may only end the input");
	expect_reject("Zg==Zg==", "'=' at position 3: padding may only end the input");
	expect_reject("Zm=v", "'=' at position 3: padding may only end the input");
	expect_reject("=Zm9", "'=' at position 1: padding may only end the input");
}

static void
test_reject_noncanonical(void **state)
{
	(void)state;
	/* "f" is Zg==; 'h' sets one of the four unused low bits. */
	expect_reject("Zh==",
		      "non-zero unused bits in the last group at position 2 (not canonical)");
	expect_reject("Zm9vZh==",
		      "non-zero unused bits in the last group at position 6 (not canonical)");
	/* "fo" is Zm8=; '9' sets one of the two unused low bits. */
	expect_reject("Zm9=",
		      "non-zero unused bits in the last group at position 3 (not canonical)");
}

static void
test_reject_overflow(void **state)
{
	uint8_t out[8];
	const char *why = NULL;
	size_t outlen = 99;

	(void)state;
	memset(out, 0xAB, sizeof(out));
	assert_int_equal(b64_decode_why("Zm9vYmFy", 8, out, 5, &outlen, &why), -1);
	assert_int_equal(outlen, 0);
	assert_string_equal(why, "decodes to 6 bytes, more than the 5 that fit");
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xAB); /* nothing written, not even the first 5 */
	assert_int_equal(b64_decode("Zg==", 4, out, 0, &outlen), -1);
	assert_int_equal(b64_decode("Zm8=", 4, out, 1, &outlen), -1);
	assert_int_equal(b64_decode("Zm8=", 4, out, 2, &outlen), 0);
	assert_int_equal(outlen, 2);
	assert_int_equal(b64_decode("", 0, out, 0, &outlen), 0);
	assert_int_equal(outlen, 0);
}

static void
test_sizes(void **state)
{
	(void)state;
	assert_int_equal(b64_encoded_size(0), 1);
	assert_int_equal(b64_encoded_size(1), 5);
	assert_int_equal(b64_encoded_size(3), 5);
	assert_int_equal(b64_encoded_size(4), 9);
	assert_int_equal(b64_encoded_size(SIZE_MAX), 0);
	assert_int_equal(b64_encoded_size(SIZE_MAX / 4 * 3), 0);
	assert_int_equal(b64_decoded_maxsize(0), 0);
	assert_int_equal(b64_decoded_maxsize(3), 0);
	assert_int_equal(b64_decoded_maxsize(8), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_encode),
	    cmocka_unit_test(test_rfc4648_decode),
	    cmocka_unit_test(test_roundtrip_against_libsodium),
	    cmocka_unit_test(test_all_byte_values),
	    cmocka_unit_test(test_reject_bad_characters),
	    cmocka_unit_test(test_reject_bad_padding),
	    cmocka_unit_test(test_reject_noncanonical),
	    cmocka_unit_test(test_reject_overflow),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
