/* Unit tests for common/selftest.c: every known-answer test passes, each
 * expected name is reported, and max bounds what is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/selftest.h"

static const char *const want_names[SELFTEST_COUNT] = {
    "XXTEA",
    "RC4",
    "BLAKE2b MAC",
    "ChaCha20-Poly1305",
    "XChaCha20-Poly1305",
    "X25519",
    "Argon2id auth_hash",
};

static void
test_all_pass_with_names(void **state)
{
	struct selftest_result res[SELFTEST_COUNT + 2];

	(void)state;
	memset(res, 0, sizeof(res));
	assert_int_equal(selftest_run(res, SELFTEST_COUNT + 2), SELFTEST_COUNT);
	for (size_t i = 0; i < SELFTEST_COUNT; i++) {
		assert_non_null(res[i].name);
		assert_string_equal(res[i].name, want_names[i]);
		if (res[i].ok != 1)
			fail_msg("%s test: [FAILED]", res[i].name);
	}
	/* Nothing written past the count. */
	assert_null(res[SELFTEST_COUNT].name);
	assert_null(res[SELFTEST_COUNT + 1].name);
}

static void
test_max_bounds_results(void **state)
{
	struct selftest_result res[3];

	(void)state;
	memset(res, 0, sizeof(res));
	assert_int_equal(selftest_run(res, 0), 0);
	assert_null(res[0].name);
	assert_int_equal(selftest_run(res, 2), 2);
	assert_string_equal(res[0].name, "XXTEA");
	assert_int_equal(res[0].ok, 1);
	assert_string_equal(res[1].name, "RC4");
	assert_int_equal(res[1].ok, 1);
	assert_null(res[2].name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_pass_with_names),
	    cmocka_unit_test(test_max_bounds_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
