/* uid: device UIDs, 8 bytes written as "80:00:00:00:01:00:0A:C2". */
#include "common/uid.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define UID_TEXTLEN ((size_t)UID_STRLEN - 1) /* 23 */

/* Room for the longest reason uid_parse gives; one per thread. */
static _Thread_local char uid_why[128];

/* Sets *why to the formatted reason and returns -1. */
static int fail(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(uid_why, sizeof(uid_why), fmt, ap);
	va_end(ap);
	if (why != NULL)
		*why = uid_why;
	return -1;
}

static int
fail_len(const char **why, size_t len)
{
	return fail(why,
		    "expected 8 bytes written as 23 characters like 80:00:00:00:01:00:0A:C2, "
		    "got %zu character%s",
		    len, len == 1 ? "" : "s");
}

int
uid_parse(const char *s, p2p_uid *out, const char **why)
{
	p2p_uid u;
	char cb[8];
	size_t i, len;
	int hi, lo;

	if (s == NULL || *s == '\0')
		return fail_len(why, 0);
	len = strnlen(s, UID_TEXTLEN + 1);
	/* Positions in messages count from 1, as a person reads the string. */
	for (i = 0; i < UID_LEN; i++) {
		size_t at = 3 * i;

		for (size_t k = 0; k < 2; k++) {
			if (at + k >= len)
				return fail_len(why, len);
			if (hex_digit(s[at + k]) < 0)
				return fail(why, "%s is not a hex digit at position %zu",
					    char_shown(s[at + k], cb), at + k + 1);
		}
		hi = hex_digit(s[at]);
		lo = hex_digit(s[at + 1]);
		u.b[i] = (uint8_t)(hi << 4 | lo);
		if (i == UID_LEN - 1)
			break;
		if (at + 2 >= len)
			return fail_len(why, len);
		if (s[at + 2] != ':')
			return fail(why, "missing ':' separator at position %zu (found %s)", at + 3,
				    char_shown(s[at + 2], cb));
	}
	if (len > UID_TEXTLEN)
		return fail(why, "trailing junk after the 8th byte: %s at position %zu",
			    char_shown(s[UID_TEXTLEN], cb), UID_TEXTLEN + 1);
	*out = u;
	return 0;
}

const char *
uid_format(const p2p_uid *u, char buf[UID_STRLEN])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < UID_LEN; i++) {
		if (i > 0)
			buf[o++] = ':';
		buf[o++] = digits[u->b[i] >> 4];
		buf[o++] = digits[u->b[i] & 15];
	}
	buf[o] = '\0';
	return buf;
}

int
uid_equal(const p2p_uid *a, const p2p_uid *b)
{
	return memcmp(a->b, b->b, UID_LEN) == 0;
}
