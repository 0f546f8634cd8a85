/* Unit tests for common/rc4.c: RFC 6229 known answers at every published
 * offset, the RFC's key-from-a-string vectors, streaming, wiping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/exitcodes.h"
#include "common/rc4.h"
#include "tests/unit/helper_test.h"

/*
 * RFC 6229 section 2. The offsets at which the RFC lists 16 keystream bytes.
 * The tables below were copied from a transcription of the RFC in a public
 * test suite and recomputed with Python's cryptography package (ARC4), an
 * independent implementation: every row matched.
 */
static const size_t offsets[18] = {0,	 16,   240,  256,  496,	 512,  752,  768,  1008,
				   1024, 1520, 1536, 2032, 2048, 3056, 3072, 4080, 4096};

/* Key length 40 bits, key 0x0102030405. */
static const char *const ks_40[18] = {
    "b2396305f03dc027ccc3524a0a1118a8", "6982944f18fc82d589c403a47a0d0919",
    "28cb1132c96ce286421dcaadb8b69eae", "1cfcf62b03eddb641d77dfcf7f8d8c93",
    "42b7d0cdd918a8a33dd51781c81f4041", "6459844432a7da923cfb3eb4980661f6",
    "ec10327bde2beefd18f9277680457e22", "eb62638d4f0ba1fe9fca20e05bf8ff2b",
    "45129048e6a0ed0b56b490338f078da5", "30abbcc7c20b01609f23ee2d5f6bb7df",
    "3294f744d8f9790507e70f62e5bbceea", "d8729db41882259bee4f825325f5a130",
    "1eb14a0c13b3bf47fa2a0ba93ad45b8b", "cc582f8ba9f265e2b1be9112e975d2d7",
    "f2e30f9bd102ecbf75aaade9bc35c43c", "ec0e11c479dc329dc8da7968fe965681",
    "068326a2118416d21f9d04b2cd1ca050", "ff25b58995996707e51fbdf08b34d875",
};

/* Key length 128 bits, key 0x0102030405060708090a0b0c0d0e0f10. */
static const char *const ks_128[18] = {
    "9ac7cc9a609d1ef7b2932899cde41b97", "5248c4959014126a6e8a84f11d1a9e1c",
    "065902e4b620f6cc36c8589f66432f2b", "d39d566bc6bce3010768151549f3873f",
    "b6d1e6c4a5e4771cad79538df295fb11", "c68c1d5c559a974123df1dbc52a43b89",
    "c5ecf88de897fd57fed301701b82a259", "eccbe13de1fcc91c11a0b26c0bc8fa4d",
    "e7a72574f8782ae26aabcf9ebcd66065", "bdf0324e6083dcc6d3cedd3ca8c53c16",
    "b40110c4190b5622a96116b0017ed297", "ffa0b514647ec04f6306b892ae661181",
    "d03d1bc03cd33d70dff9fa5d71963ebd", "8a44126411eaa78bd51e8d87a8879bf5",
    "fabeb76028ade2d0e48722e46c4615a3", "c05d88abd50357f935a63c59ee537623",
    "ff38265c1642c1abe8d3c2fe5e572bf8", "a36a4c301ae8ac13610ccbc12256cacc",
};

/*
 * RFC 6229's second set: keys taken from the 256-bit value
 * 0x1ada31d5cf688221c109163908ebe51debb46227c6cc8b37641910833222772a, which
 * is SHA-256("Internet Engineering Task Force") (checked with sha256sum); an
 * n-bit key is its rightmost n bits. Here the 40-bit key 0x833222772a and the
 * full 256-bit key.
 */
static const char *const ks_str40[18] = {
    "80ad97bdc973df8a2e879e92a497efda", "20f060c2f2e5126501d3d4fea10d5fc0",
    "faa148e99046181fec6b2085f3b20ed9", "f0daf5bab3d596839857846f73fbfe5a",
    "1c7e2fc4639232fe297584b296996bc8", "3db9b249406cc8edffac55ccd322ba12",
    "e4f9f7e0066154bbd125b745569bc897", "75d5ef262b44c41a9cf63ae14568e1b9",
    "6da453dbf81e82334a3d8866cb50a1e3", "7828d074119cab5c22b294d7a9bfa0bb",
    "adb89cea9a15fbe617295bd04b8ca05c", "6251d87fd4aaae9a7e4ad5c217d3f300",
    "e7119bd6dd9b22afe8f89585432881e2", "785b60fd7ec4e9fcb6545f350d660fab",
    "afecc037fdb7b0838eb3d70bcd268382", "dbc1a7b49d57358cc9fa6d61d73b7cf0",
    "6349d126a37afcba89794f9804914fdc", "bf42c3018c2f7c66bfde524975768115",
};

static const char *const ks_str256[18] = {
    "dd5bcb0018e922d494759d7c395d02d3", "c8446f8f77abf737685353eb89a1c9eb",
    "af3e30f9c095045938151575c3fb9098", "f8cb6274db99b80b1d2012a98ed48f0e",
    "25c3005a1cb85de076259839ab7198ab", "9dcbc183e8cb994b727b75be3180769c",
    "a1d3078dfa9169503ed9d4491dee4eb2", "8514a5495858096f596e4bcd66b10665",
    "5f40d59ec1b03b33738efa60b2255d31", "3477c7f764a41baceff90bf14f92b7cc",
    "ac4e95368d99b9eb78b8da8f81ffa795", "8c3c13f8c2388bb73f38576e65b7c446",
    "13c4b9c1dfb66579eddd8a280b9f7316", "ddd27820550126698efaadc64b64f66e",
    "f08f2e66d28ed143f3a237cf9de73559", "9ea36c525531b880ba124334f57b0b70",
    "d5a39e3dfcc50280bac4a6b5aa0dca7d", "370b1c1fe655916d97fd0d47ca1d72b8",
};

/* Each offset from a fresh key schedule, reached with rc4_skip. */
static void
check_with_skip(const uint8_t *key, size_t keylen, const char *const ks[18])
{
	uint8_t want[16], got[16];
	struct rc4 st;

	for (size_t i = 0; i < 18; i++) {
		th_unhex(ks[i], want, 16);
		rc4_init(&st, key, keylen);
		rc4_skip(&st, offsets[i]);
		memset(got, 0, sizeof(got));
		rc4_crypt(&st, got, got, sizeof(got));
		assert_memory_equal(got, want, 16);
	}
	rc4_wipe(&st);
}

/* One stream of 4112 bytes produced in uneven pieces, read at every offset. */
static void
check_streamed(const uint8_t *key, size_t keylen, const char *const ks[18])
{
	static const size_t pieces[] = {1, 2, 3, 5, 7, 64, 255, 256, 1000};
	uint8_t zero[1000], stream[4112], want[16];
	struct rc4 st;
	size_t done = 0, p = 0;

	memset(zero, 0, sizeof(zero));
	rc4_init(&st, key, keylen);
	while (done < sizeof(stream)) {
		size_t n = pieces[p++ % (sizeof(pieces) / sizeof(pieces[0]))];

		if (n > sizeof(stream) - done)
			n = sizeof(stream) - done;
		rc4_crypt(&st, zero, stream + done, n); /* separate in and out buffers */
		done += n;
	}
	for (size_t i = 0; i < 18; i++) {
		th_unhex(ks[i], want, 16);
		assert_memory_equal(stream + offsets[i], want, 16);
	}
	rc4_wipe(&st);
}

static void
test_rfc6229_40bit(void **state)
{
	static const uint8_t key[5] = {1, 2, 3, 4, 5};

	(void)state;
	check_with_skip(key, sizeof(key), ks_40);
	check_streamed(key, sizeof(key), ks_40);
}

static void
test_rfc6229_128bit(void **state)
{
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

	(void)state;
	check_with_skip(key, sizeof(key), ks_128);
	check_streamed(key, sizeof(key), ks_128);
}

static void
test_rfc6229_key_from_string(void **state)
{
	static const char ietf[] = "Internet Engineering Task Force";
	uint8_t key[crypto_hash_sha256_BYTES];

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_hash_sha256(key, (const uint8_t *)ietf, sizeof(ietf) - 1);
	th_assert_hex(key, 32, "1ada31d5cf688221c109163908ebe51debb46227c6cc8b37641910833222772a");
	check_with_skip(key + 27, 5, ks_str40);
	check_streamed(key + 27, 5, ks_str40);
	check_with_skip(key, 32, ks_str256);
	check_streamed(key, 32, ks_str256);
}

/*
 * Key lengths at the ends of the range. A one-byte zero key:
 * de188941a3375d3a8a061e67576e926d, a long-published vector found in other
 * libraries' RC4 test files. A 256-byte key 0x00..0xff: computed with a
 * ten-line Python RC4 that reproduces every RFC 6229 row above and the
 * one-byte vector (Python's cryptography ARC4 refuses keys over 256 bits).
 */
static void
test_key_length_extremes(void **state)
{
	static const uint8_t zero[1] = {0};
	uint8_t key[256], want[16], got[16];
	struct rc4 st;

	(void)state;
	rc4_init(&st, zero, 1);
	memset(got, 0, sizeof(got));
	rc4_crypt(&st, got, got, 16);
	th_unhex("de188941a3375d3a8a061e67576e926d", want, 16);
	assert_memory_equal(got, want, 16);

	for (int i = 0; i < 256; i++)
		key[i] = (uint8_t)i;
	rc4_init(&st, key, sizeof(key));
	memset(got, 0, sizeof(got));
	rc4_crypt(&st, got, got, 16);
	th_unhex("5e2eb7b20d86864f73d39dd95c5a1525", want, 16);
	assert_memory_equal(got, want, 16);
	rc4_wipe(&st);
}

static void
test_encrypt_decrypt(void **state)
{
	static const uint8_t key[16] = "p2pd rc4 test k";
	uint8_t msg[1500], ct[1500], back[1500];
	struct rc4 a, b;

	(void)state;
	assert_true(sodium_init() >= 0);
	randombytes_buf(msg, sizeof(msg));
	rc4_init(&a, key, sizeof(key));
	rc4_skip(&a, 3072);
	rc4_crypt(&a, msg, ct, sizeof(msg));
	assert_memory_not_equal(ct, msg, sizeof(msg));
	rc4_init(&b, key, sizeof(key));
	rc4_skip(&b, 3072);
	memcpy(back, ct, sizeof(ct));
	rc4_crypt(&b, back, back, sizeof(back)); /* in place */
	assert_memory_equal(back, msg, sizeof(msg));
	rc4_wipe(&a);
	rc4_wipe(&b);
}

static void
test_wipe(void **state)
{
	static const uint8_t key[5] = {1, 2, 3, 4, 5};
	struct rc4 st;
	const uint8_t *p = (const uint8_t *)&st;

	(void)state;
	rc4_init(&st, key, sizeof(key));
	rc4_skip(&st, 10);
	rc4_wipe(&st);
	for (size_t i = 0; i < sizeof(st); i++)
		assert_int_equal(p[i], 0);
}

static void
init_empty_key(void)
{
	struct rc4 st;

	rc4_init(&st, (const uint8_t *)"", 0);
}

static void
init_long_key(void)
{
	static const uint8_t key[257];
	struct rc4 st;

	rc4_init(&st, key, sizeof(key));
}

static void
test_bad_key_length_ends_process(void **state)
{
	(void)state;
	assert_int_equal(th_exit_status_of(init_empty_key), EXIT_UNKNOWN);
	assert_int_equal(th_exit_status_of(init_long_key), EXIT_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6229_40bit),
	    cmocka_unit_test(test_rfc6229_128bit),
	    cmocka_unit_test(test_rfc6229_key_from_string),
	    cmocka_unit_test(test_key_length_extremes),
	    cmocka_unit_test(test_encrypt_decrypt),
	    cmocka_unit_test(test_wipe),
	    cmocka_unit_test(test_bad_key_length_ends_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
