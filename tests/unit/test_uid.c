/* Unit tests for common/uid.c: parsing, rejection reasons, canonical format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/uid.h"

static void
test_parse_upper_and_lower(void **state)
{
	static const uint8_t want[UID_LEN] = {0x80, 0, 0, 0, 0x01, 0, 0x0A, 0xC2};
	const char *why = NULL;
	p2p_uid u, l;

	(void)state;
	assert_int_equal(uid_parse("80:00:00:00:01:00:0A:C2", &u, &why), 0);
	assert_memory_equal(u.b, want, UID_LEN);
	assert_int_equal(uid_parse("80:00:00:00:01:00:0a:c2", &l, &why), 0);
	assert_memory_equal(l.b, want, UID_LEN);
	assert_true(uid_equal(&u, &l));
	assert_int_equal(uid_parse("fF:Ff:00:99:aA:Bb:cC:dD", &u, NULL), 0);
	assert_int_equal(u.b[0], 0xff);
	assert_int_equal(u.b[1], 0xff);
	assert_int_equal(u.b[7], 0xdd);
}

static void
test_format_canonical(void **state)
{
	char buf[UID_STRLEN];
	p2p_uid u;

	(void)state;
	assert_int_equal(uid_parse("80:00:00:00:01:00:0a:c2", &u, NULL), 0);
	assert_ptr_equal(uid_format(&u, buf), buf);
	assert_string_equal(buf, "80:00:00:00:01:00:0A:C2");
	for (int i = 0; i < UID_LEN; i++)
		u.b[i] = (uint8_t)(0xF0 | i);
	assert_string_equal(uid_format(&u, buf), "F0:F1:F2:F3:F4:F5:F6:F7");
	assert_int_equal(strlen(buf), UID_STRLEN - 1);
}

static void
test_roundtrip_all_byte_values(void **state)
{
	char buf[UID_STRLEN];
	p2p_uid u, v;

	(void)state;
	for (int x = 0; x < 256; x++) {
		for (int i = 0; i < UID_LEN; i++)
			u.b[i] = (uint8_t)(x + 37 * i);
		assert_int_equal(uid_parse(uid_format(&u, buf), &v, NULL), 0);
		assert_true(uid_equal(&u, &v));
	}
}

static void
test_equal(void **state)
{
	p2p_uid a, b;

	(void)state;
	memset(&a, 0x11, sizeof(a));
	b = a;
	assert_int_equal(uid_equal(&a, &b), 1);
	b.b[7] ^= 1;
	assert_int_equal(uid_equal(&a, &b), 0);
	b = a;
	b.b[0] ^= 0x80;
	assert_int_equal(uid_equal(&a, &b), 0);
}

/* Parses s, expects failure with a reason that is exactly want, and *out untouched. */
static void
expect_reject(const char *s, const char *want)
{
	const char *why = NULL;
	p2p_uid u;

	memset(&u, 0xAB, sizeof(u));
	assert_int_equal(uid_parse(s, &u, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, want);
	for (int i = 0; i < UID_LEN; i++)
		assert_int_equal(u.b[i], 0xAB);
	/* A NULL why is allowed and still rejects. */
	assert_int_equal(uid_parse(s, &u, NULL), -1);
}

static void
test_reject_length(void **state)
{
	(void)state;
	expect_reject("", "expected 8 bytes written as 23 characters like "
			  "80:00:00:00:01:00:0A:C2, got 0 characters");
	expect_reject(NULL, "expected 8 bytes written as 23 characters like "
			    "80:00:00:00:01:00:0A:C2, got 0 characters");
	expect_reject("8", "expected 8 bytes written as 23 characters like "
			   "80:00:00:00:01:00:0A:C2, got 1 character");
	expect_reject("80:00:00:00:01:00:0A", "expected 8 bytes written as 23 characters like "
					      "80:00:00:00:01:00:0A:C2, got 20 characters");
	expect_reject("80:00:00:00:01:00:0A:", "expected 8 bytes written as 23 characters like "
					       "80:00:00:00:01:00:0A:C2, got 21 characters");
	expect_reject("80:00:00:00:01:00:0A:C", "expected 8 bytes written as 23 characters like "
						"80:00:00:00:01:00:0A:C2, got 22 characters");
}

static void
test_reject_separator(void **state)
{
	(void)state;
	expect_reject("8000000001000AC2", "missing ':' separator at position 3 (found '0')");
	expect_reject("80-00-00-00-01-00-0A-C2", "missing ':' separator at position 3 (found '-')");
	expect_reject("80:00:00:00:01:00:0A C2",
		      "missing ':' separator at position 21 (found ' ')");
	expect_reject("80:00:00:00.01:00:0A:C2",
		      "missing ':' separator at position 12 (found '.')");
	/* A three-digit byte: the third digit stands where ':' belongs. */
	expect_reject("800:00:00:00:01:00:0A:C2",
		      "missing ':' separator at position 3 (found '0')");
}

static void
test_reject_non_hex(void **state)
{
	(void)state;
	expect_reject("80:0G:00:00:01:00:0A:C2", "'G' is not a hex digit at position 5");
	expect_reject("x0:00:00:00:01:00:0A:C2", "'x' is not a hex digit at position 1");
	expect_reject("80:00:00:00:01:00:0A:CZ", "'Z' is not a hex digit at position 23");
	/* A one-digit byte: the ':' arrives where the second digit belongs. */
	expect_reject("80:0:00:00:01:00:0A:C2", "':' is not a hex digit at position 5");
	expect_reject(" 80:00:00:00:01:00:0A:C2", "' ' is not a hex digit at position 1");
	expect_reject("80:00:\x01"
		      "0:00:01:00:0A:C2",
		      "\\x01 is not a hex digit at position 7");
	expect_reject("80:00:00:00:01:00:0A:\xc3\xa9", "\\xC3 is not a hex digit at position 22");
	/* strtol-style leniency must not creep in. */
	expect_reject("+8:00:00:00:01:00:0A:C2", "'+' is not a hex digit at position 1");
}

static void
test_reject_trailing(void **state)
{
	(void)state;
	expect_reject("80:00:00:00:01:00:0A:C2:11",
		      "trailing junk after the 8th byte: ':' at position 24");
	expect_reject("80:00:00:00:01:00:0A:C2 ",
		      "trailing junk after the 8th byte: ' ' at position 24");
	expect_reject("80:00:00:00:01:00:0A:C2\n",
		      "trailing junk after the 8th byte: \\x0A at position 24");
	expect_reject("80:00:00:00:01:00:0A:C23",
		      "trailing junk after the 8th byte: '3' at position 24");
}

static void
test_why_untouched_on_success(void **state)
{
	const char *why = "unchanged";
	p2p_uid u;

	(void)state;
	assert_int_equal(uid_parse("00:00:00:00:00:00:00:00", &u, &why), 0);
	assert_string_equal(why, "unchanged");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_upper_and_lower),
	    cmocka_unit_test(test_format_canonical),
	    cmocka_unit_test(test_roundtrip_all_byte_values),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_reject_length),
	    cmocka_unit_test(test_reject_separator),
	    cmocka_unit_test(test_reject_non_hex),
	    cmocka_unit_test(test_reject_trailing),
	    cmocka_unit_test(test_why_untouched_on_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
