/* Tests for common/stun: RFC 5769 vectors, round trips, malformed input, responder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/stun.h"
#include "common/util.h"
#include "tests/unit/helper_test.h"

/* RFC 5769 section 2.1: Sample Request (SOFTWARE, PRIORITY, ICE-CONTROLLED,
 * USERNAME, MESSAGE-INTEGRITY, FINGERPRINT). */
static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 section 2.2: Sample IPv4 Response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3: Sample IPv6 Response, XOR-MAPPED-ADDRESS
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc_txid[STUN_TXID_LEN] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
						0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* ---- helpers ---- */

static const struct sockaddr *
sa(const struct sockaddr_storage *ss)
{
	return (const struct sockaddr *)ss;
}

static void
assert_addr(const struct sockaddr_storage *got, const char *ip, uint16_t port)
{
	char a[SOCKADDR_STRLEN], b[SOCKADDR_STRLEN];
	struct sockaddr_storage want = th_addr(ip, port);

	fmt_sockaddr(sa(got), a, sizeof(a));
	fmt_sockaddr(sa(&want), b, sizeof(b));
	assert_string_equal(a, b);
}

/* Parse from an exactly-sized heap copy, so that ASan and valgrind see any
 * read past the end. */
static int
parse_copy(const uint8_t *b, size_t n, struct stun_msg *m, const char **why)
{
	uint8_t *c = malloc(n > 0 ? n : 1);
	int rc;

	assert_non_null(c);
	if (n > 0)
		memcpy(c, b, n);
	rc = stun_parse(c, n, m, why);
	free(c);
	return rc;
}

static void
set_len(uint8_t *b, size_t len)
{
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
}

/* A header for type/txid followed by attribute bytes, length set. */
static size_t
raw_msg(uint8_t *out, uint16_t type, const uint8_t *attrs, size_t alen)
{
	out[0] = (uint8_t)(type >> 8);
	out[1] = (uint8_t)type;
	out[4] = 0x21;
	out[5] = 0x12;
	out[6] = 0xa4;
	out[7] = 0x42;
	memcpy(out + 8, rfc_txid, STUN_TXID_LEN);
	if (alen > 0)
		memcpy(out + STUN_HEADER_LEN, attrs, alen);
	set_len(out, alen);
	return STUN_HEADER_LEN + alen;
}

static int
parse_raw(uint16_t type, const uint8_t *attrs, size_t alen, struct stun_msg *m, const char **why)
{
	uint8_t buf[256];
	size_t n = raw_msg(buf, type, attrs, alen);

	return parse_copy(buf, n, m, why);
}

/* ---- RFC 5769 vectors ---- */

static void
test_rfc5769_request(void **state)
{
	struct stun_msg m;
	const char *why = NULL;

	(void)state;
	assert_true(stun_is_message(rfc_request, sizeof(rfc_request)));
	assert_int_equal(stun_parse(rfc_request, sizeof(rfc_request), &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_memory_equal(m.txid, rfc_txid, STUN_TXID_LEN);
	assert_true(m.attrs & STUN_A_FINGERPRINT);
	assert_true(m.attrs & STUN_A_SOFTWARE);
	assert_true(m.attrs & STUN_A_INTEGRITY);
	/* PRIORITY (ICE) is understood; ICE-CONTROLLED is optional. */
	assert_int_equal(m.n_unknown, 0);
	assert_null(stun_msg_mapped(&m));
}

static void
test_rfc5769_ipv4_response(void **state)
{
	struct stun_msg m;
	const char *why = NULL;

	(void)state;
	assert_true(stun_is_message(rfc_resp4, sizeof(rfc_resp4)));
	assert_int_equal(stun_parse(rfc_resp4, sizeof(rfc_resp4), &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(m.attrs & STUN_A_XOR_MAPPED);
	assert_true(m.attrs & STUN_A_FINGERPRINT);
	assert_false(m.attrs & STUN_A_MAPPED);
	assert_addr(&m.xor_mapped, "192.0.2.1", 32853);
	assert_ptr_equal(stun_msg_mapped(&m), sa(&m.xor_mapped));
	assert_true(stun_is_response_to(&m, rfc_txid));
}

static void
test_rfc5769_ipv6_response(void **state)
{
	struct stun_msg m;
	const char *why = NULL;

	(void)state;
	assert_int_equal(stun_parse(rfc_resp6, sizeof(rfc_resp6), &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(m.attrs & STUN_A_FINGERPRINT);
	assert_addr(&m.xor_mapped, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
}

/* Our encoder produces the RFC's XOR-MAPPED-ADDRESS bytes. */
static void
test_rfc5769_xor_encoding(void **state)
{
	uint8_t out[STUN_MAX_BUILT];
	struct sockaddr_storage v4 = th_addr("192.0.2.1", 32853);
	struct sockaddr_storage v6 = th_addr("2001:db8:1234:5678:11:2233:4455:6677", 32853);
	size_t n;

	(void)state;
	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&v4), NULL, NULL);
	assert_int_equal(n, STUN_HEADER_LEN + 12 + 8);
	assert_memory_equal(out + STUN_HEADER_LEN, rfc_resp4 + 36, 12);
	assert_memory_equal(out + 4, rfc_resp4 + 4, 16);

	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&v6), NULL, NULL);
	assert_int_equal(n, STUN_HEADER_LEN + 24 + 8);
	assert_memory_equal(out + STUN_HEADER_LEN, rfc_resp6 + 36, 24);
}

/* A flipped bit anywhere before the FINGERPRINT value is caught. */
static void
test_bad_fingerprint(void **state)
{
	const uint8_t *vec[] = {rfc_request, rfc_resp4, rfc_resp6};
	const size_t len[] = {sizeof(rfc_request), sizeof(rfc_resp4), sizeof(rfc_resp6)};

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		uint8_t b[128];

		/* Every attribute byte; not the FINGERPRINT's own type, which
		 * when changed leaves a valid message that has no FINGERPRINT. */
		for (size_t i = STUN_HEADER_LEN; i < len[v]; i++) {
			struct stun_msg m;
			const char *why = NULL;

			if (i == len[v] - 8 || i == len[v] - 7)
				continue;

			memcpy(b, vec[v], len[v]);
			b[i] ^= 0x01;
			assert_int_equal(parse_copy(b, len[v], &m, &why), -1);
			assert_non_null(why);
		}
		/* The transaction id is covered too. */
		memcpy(b, vec[v], len[v]);
		b[10] ^= 0x80;
		{
			struct stun_msg m;
			const char *why = NULL;

			assert_int_equal(parse_copy(b, len[v], &m, &why), -1);
			assert_string_equal(why, "FINGERPRINT does not match the message "
						 "(CRC-32 mismatch)");
			assert_int_equal(m.err_at, len[v] - 8);
		}
	}
}

/* ---- round trips ---- */

static void
test_request_round_trip(void **state)
{
	const uint32_t flags[] = {0, STUN_CHANGE_IP, STUN_CHANGE_PORT,
				  STUN_CHANGE_IP | STUN_CHANGE_PORT};
	uint8_t out[STUN_MAX_BUILT], txid[STUN_TXID_LEN];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct stun_msg m;
		const char *why = NULL;
		size_t n;

		stun_new_txid(txid);
		n = stun_build_request(out, sizeof(out), txid, flags[i]);
		assert_int_equal(n, STUN_PADDED_REQUEST_LEN);
		assert_true(stun_is_message(out, n));
		assert_int_equal(parse_copy(out, n, &m, &why), 0);
		assert_int_equal(m.type, STUN_BINDING_REQUEST);
		assert_memory_equal(m.txid, txid, STUN_TXID_LEN);
		assert_true(m.attrs & STUN_A_FINGERPRINT);
		assert_true(m.attrs & STUN_A_SOFTWARE);
		assert_int_equal(m.change_request, flags[i]);
		assert_int_equal(!!(m.attrs & STUN_A_CHANGE_REQUEST), flags[i] != 0);
	}
	/* Unpadded: header + FINGERPRINT, + CHANGE-REQUEST. */
	assert_int_equal(stun_build_request_pad(out, sizeof(out), rfc_txid, 0, 0), 28);
	assert_int_equal(stun_build_request_pad(out, sizeof(out), rfc_txid, STUN_CHANGE_IP, 0), 36);
	/* Every reachable pad_to is reached (rounded up to 4), and no more. */
	for (size_t pad = 0; pad <= STUN_MAX_PAD_TO; pad++) {
		size_t n = stun_build_request_pad(out, sizeof(out), rfc_txid, 0, pad);
		struct stun_msg m;

		assert_true(n >= pad && n >= 28);
		assert_true(n < pad + 4 || (pad <= 28 && n == 28) || n == 48);
		assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	}
	assert_int_equal(stun_build_request_pad(out, sizeof(out), rfc_txid, 0, STUN_MAX_PAD_TO + 4),
			 0);
}

static void
test_response_round_trip(void **state)
{
	uint8_t out[STUN_MAX_BUILT];
	struct sockaddr_storage m4 = th_addr("203.0.113.9", 40000),
				o4 = th_addr("198.51.100.1", 3478),
				a4 = th_addr("198.51.100.2", 3479);
	struct sockaddr_storage m6 = th_addr("2001:db8::9", 1), o6 = th_addr("2001:db8::1", 65535),
				a6 = th_addr("2001:db8::2", 3479);
	struct stun_msg m;
	size_t n;

	(void)state;
	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&m4), sa(&o4), sa(&a4));
	assert_int_equal(n, STUN_HEADER_LEN + 4 * 12 + 8);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_true(stun_is_response_to(&m, rfc_txid));
	assert_addr(&m.xor_mapped, "203.0.113.9", 40000);
	assert_addr(&m.mapped, "203.0.113.9", 40000);
	assert_addr(&m.response_origin, "198.51.100.1", 3478);
	assert_addr(&m.other_address, "198.51.100.2", 3479);
	assert_true(m.attrs & STUN_A_FINGERPRINT);

	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&m6), sa(&o6), sa(&a6));
	assert_int_equal(n, STUN_MAX_BINDING_RESPONSE);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_addr(&m.xor_mapped, "2001:db8::9", 1);
	assert_addr(&m.mapped, "2001:db8::9", 1);
	assert_addr(&m.response_origin, "2001:db8::1", 65535);
	assert_addr(&m.other_address, "2001:db8::2", 3479);

	/* Without OTHER-ADDRESS there is no MAPPED-ADDRESS either. */
	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&m4), sa(&o4), NULL);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_int_equal(m.attrs & (STUN_A_MAPPED | STUN_A_OTHER_ADDRESS), 0);
	assert_true(m.attrs & STUN_A_RESPONSE_ORIGIN);

	/* An IPv4-mapped IPv6 address goes out as IPv4. */
	m6 = th_addr("::ffff:192.0.2.77", 5000);
	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&m6), NULL, NULL);
	assert_int_equal(n, STUN_HEADER_LEN + 12 + 8);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_addr(&m.xor_mapped, "192.0.2.77", 5000);

	/* Not an IP family: nothing is built. */
	memset(&m6, 0, sizeof(m6));
	m6.ss_family = AF_UNIX;
	assert_int_equal(stun_build_response(out, sizeof(out), rfc_txid, sa(&m6), NULL, NULL), 0);
	assert_int_equal(stun_build_response(out, sizeof(out), rfc_txid, sa(&m4), sa(&m6), NULL),
			 0);
}

static void
test_error_round_trip(void **state)
{
	const uint16_t unk[] = {0x0027, 0x7f00, 0x0003};
	uint8_t out[STUN_MAX_BUILT];
	struct stun_msg m;
	size_t n;

	(void)state;
	n = stun_build_error(out, sizeof(out), rfc_txid, 420, "Unknown Attribute", unk, 3);
	assert_true(n > 0);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_int_equal(m.type, STUN_BINDING_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_int_equal(m.n_listed, 3);
	assert_memory_equal(m.listed, unk, sizeof(unk));
	assert_true(m.attrs & STUN_A_FINGERPRINT);
	assert_false(stun_is_response_to(&m, rfc_txid));

	n = stun_build_error(out, sizeof(out), rfc_txid, 400, NULL, NULL, 0);
	assert_int_equal(n, STUN_HEADER_LEN + 8 + 8);
	assert_int_equal(parse_copy(out, n, &m, NULL), 0);
	assert_int_equal(m.error_code, 400);
	assert_false(m.attrs & STUN_A_UNKNOWN_ATTRIBUTES);

	assert_int_equal(stun_build_error(out, sizeof(out), rfc_txid, 299, "x", NULL, 0), 0);
	assert_int_equal(stun_build_error(out, sizeof(out), rfc_txid, 700, "x", NULL, 0), 0);
}

/* Every builder refuses, rather than overruns, a buffer one byte too small. */
static void
test_build_small_buffers(void **state)
{
	struct sockaddr_storage m6 = th_addr("2001:db8::9", 1), o6 = th_addr("2001:db8::1", 2),
				a6 = th_addr("2001:db8::2", 3);
	const uint16_t unk[] = {0x0027};

	(void)state;
	for (size_t cap = 0; cap < STUN_MAX_BUILT; cap++) {
		uint8_t *out = malloc(cap > 0 ? cap : 1);
		size_t n;

		assert_non_null(out);
		n = stun_build_request(out, cap, rfc_txid, STUN_CHANGE_PORT);
		assert_true(cap >= STUN_PADDED_REQUEST_LEN ? n == STUN_PADDED_REQUEST_LEN : n == 0);
		n = stun_build_response(out, cap, rfc_txid, sa(&m6), sa(&o6), sa(&a6));
		assert_true(cap >= STUN_MAX_BINDING_RESPONSE ? n == STUN_MAX_BINDING_RESPONSE
							     : n == 0);
		n = stun_build_error(out, cap, rfc_txid, 420, "Unknown Attribute", unk, 1);
		assert_true(cap >= 64 ? n == 64 : n == 0);
		free(out);
	}
}

/* ---- malformed input ---- */

/* Offsets at which the attributes of a message start, plus its end. */
static size_t
boundaries(const uint8_t *b, size_t n, size_t *at, size_t max)
{
	size_t k = 0;

	for (size_t off = STUN_HEADER_LEN; off <= n && k < max;) {
		at[k++] = off;
		if (off == n)
			break;
		off += 4 + ((((size_t)b[off + 2] << 8 | b[off + 3]) + 3) & ~(size_t)3);
	}
	return k;
}

static int
is_boundary(size_t k, const size_t *at, size_t nat)
{
	for (size_t i = 0; i < nat; i++)
		if (at[i] == k)
			return 1;
	return 0;
}

static void
check_truncations(const uint8_t *msg, size_t n)
{
	size_t at[32], nat = boundaries(msg, n, at, 32);
	uint8_t b[256];

	assert_true(n <= sizeof(b));
	for (size_t k = 0; k < n; k++) {
		struct stun_msg m;
		const char *why = NULL;

		/* As received: the length field no longer matches. */
		assert_false(stun_is_message(msg, k));
		assert_int_equal(parse_copy(msg, k, &m, &why), -1);
		assert_non_null(why);
		/* Length field fixed up to the cut: valid only at an attribute
		 * boundary (the FINGERPRINT, if any, then being gone). */
		if (k >= STUN_HEADER_LEN && k % 4 == 0) {
			int want = is_boundary(k, at, nat) ? 0 : -1;

			memcpy(b, msg, k);
			set_len(b, k - STUN_HEADER_LEN);
			assert_int_equal(parse_copy(b, k, &m, &why), want);
		}
	}
}

static void
test_truncations(void **state)
{
	uint8_t out[STUN_MAX_BUILT];
	struct sockaddr_storage m6 = th_addr("2001:db8::9", 1), o6 = th_addr("2001:db8::1", 2),
				a6 = th_addr("2001:db8::2", 3);
	const uint16_t unk[] = {0x0027, 0x0028};
	size_t n;

	(void)state;
	check_truncations(rfc_request, sizeof(rfc_request));
	check_truncations(rfc_resp4, sizeof(rfc_resp4));
	check_truncations(rfc_resp6, sizeof(rfc_resp6));
	n = stun_build_request(out, sizeof(out), rfc_txid, STUN_CHANGE_IP);
	check_truncations(out, n);
	n = stun_build_response(out, sizeof(out), rfc_txid, sa(&m6), sa(&o6), sa(&a6));
	check_truncations(out, n);
	n = stun_build_error(out, sizeof(out), rfc_txid, 420, "Unknown", unk, 2);
	check_truncations(out, n);
}

static void
test_bad_headers(void **state)
{
	uint8_t b[64];
	struct stun_msg m;
	const char *why;

	(void)state;
	/* Null and empty. */
	assert_false(stun_is_message(NULL, 0));
	assert_int_equal(stun_parse(NULL, 0, &m, &why), -1);
	assert_int_equal(stun_parse(NULL, 0, &m, NULL), -1);

	/* A good bare request, then one defect at a time. */
	raw_msg(b, STUN_BINDING_REQUEST, NULL, 0);
	assert_true(stun_is_message(b, 20));
	assert_int_equal(parse_copy(b, 20, &m, &why), 0);

	b[0] = 0x40; /* top bits */
	assert_false(stun_is_message(b, 20));
	assert_int_equal(parse_copy(b, 20, &m, &why), -1);
	assert_string_equal(why, "the two top bits of the message type must be zero");
	b[0] = 0x80;
	assert_int_equal(parse_copy(b, 20, &m, &why), -1);
	b[0] = 0;

	b[7] = 0x43; /* cookie */
	assert_false(stun_is_message(b, 20));
	assert_int_equal(parse_copy(b, 20, &m, &why), -1);
	assert_int_equal(m.err_at, 4);
	b[7] = 0x42;

	memset(b + 20, 0, 8);
	set_len(b, 2); /* not a multiple of 4 */
	assert_false(stun_is_message(b, 22));
	assert_int_equal(parse_copy(b, 22, &m, &why), -1);
	assert_string_equal(why, "message length is not a multiple of 4");
	set_len(b, 8); /* longer than the datagram */
	assert_int_equal(parse_copy(b, 24, &m, &why), -1);
	assert_string_equal(why, "message length field does not match the datagram size");
	set_len(b, 0); /* shorter than the datagram: trailing bytes */
	assert_int_equal(parse_copy(b, 24, &m, &why), -1);
	set_len(b, 0xFFFC);
	assert_int_equal(parse_copy(b, 28, &m, &why), -1);
}

static void
test_bad_attributes(void **state)
{
	struct stun_msg m;
	const char *why;

	(void)state;
	{ /* Attribute length 8 with 4 bytes of value left. */
		const uint8_t a[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "attribute length runs past the end of the message");
		assert_int_equal(m.err_at, 20);
	}
	{ /* Length 5: the padding it needs is missing. */
		const uint8_t a[] = {0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd'};
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), -1);
	}
	{ /* Huge attribute length. */
		const uint8_t a[] = {0x80, 0x22, 0xff, 0xff, 0, 0, 0, 0};
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), -1);
	}
	{ /* Wrong family 3. */
		const uint8_t a[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x03,
				     0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "address family is neither 1 (IPv4) nor 2 (IPv6)");
	}
	{ /* IPv6 family with an IPv4-sized value. */
		const uint8_t a[] = {0x00, 0x01, 0x00, 0x08, 0x00, 0x02,
				     0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "IPv6 address attribute must be 20 bytes long");
	}
	{ /* IPv4 family with 12 bytes. */
		const uint8_t a[] = {0x80, 0x2c, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x01,
				     1,	   2,	 3,    4,    0,	   0,	 0,    0};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "IPv4 address attribute must be 8 bytes long");
	}
	{ /* Address value too short for even a family. */
		const uint8_t a[] = {0x80, 0x2b, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), -1);
	}
	{ /* CHANGE-REQUEST of the wrong size. */
		const uint8_t a[] = {0x00, 0x03, 0x00, 0x08, 0, 0, 0, 6, 0, 0, 0, 0};
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "CHANGE-REQUEST must be 4 bytes long");
	}
	{ /* ERROR-CODE out of range, and too short. */
		const uint8_t a[] = {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0};
		const uint8_t c[] = {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100};
		const uint8_t d[] = {0x00, 0x09, 0x00, 0x02, 0, 0, 0, 0};
		assert_int_equal(parse_raw(STUN_BINDING_ERROR, a, sizeof(a), &m, &why), -1);
		assert_int_equal(parse_raw(STUN_BINDING_ERROR, c, sizeof(c), &m, &why), -1);
		assert_int_equal(parse_raw(STUN_BINDING_ERROR, d, sizeof(d), &m, &why), -1);
	}
	{ /* UNKNOWN-ATTRIBUTES with an odd length. */
		const uint8_t a[] = {0x00, 0x0a, 0x00, 0x03, 0, 1, 0, 0};
		assert_int_equal(parse_raw(STUN_BINDING_ERROR, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "UNKNOWN-ATTRIBUTES length must be even");
	}
}

static void
test_fingerprint_placement(void **state)
{
	uint8_t b[128];
	struct stun_msg m;
	const char *why;
	size_t n;

	(void)state;
	/* A valid request with an attribute appended after its FINGERPRINT. */
	n = stun_build_request_pad(b, sizeof(b), rfc_txid, 0, 0);
	b[n] = 0x80;
	b[n + 1] = 0x22;
	b[n + 2] = 0;
	b[n + 3] = 0;
	set_len(b, n + 4 - STUN_HEADER_LEN);
	assert_int_equal(parse_copy(b, n + 4, &m, &why), -1);
	assert_string_equal(why, "FINGERPRINT must be the last attribute");

	/* A FINGERPRINT of 8 bytes. */
	{
		const uint8_t a[] = {0x80, 0x28, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), -1);
		assert_string_equal(why, "FINGERPRINT must be 4 bytes long");
	}
}

static void
test_unknown_and_duplicate_attributes(void **state)
{
	struct stun_msg m;
	const char *why = NULL;

	(void)state;
	{ /* Optional unknown skipped; required unknowns listed; RESPONSE-PORT is one. */
		const uint8_t a[] = {0xc0, 0x01, 0x00, 0x01, 0xff, 0, 0,    0,	  0x00, 0x27,
				     0x00, 0x04, 0x13, 0x88, 0,	   0, 0x7f, 0xff, 0x00, 0x00};
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), 0);
		assert_int_equal(m.n_unknown, 2);
		assert_int_equal(m.unknown[0], 0x0027);
		assert_int_equal(m.unknown[1], 0x7fff);
	}
	{ /* More unknowns than we keep: the list stops at STUN_MAX_UNKNOWN. */
		uint8_t a[4 * 20];
		for (size_t i = 0; i < 20; i++) {
			a[4 * i] = 0x70;
			a[4 * i + 1] = (uint8_t)i;
			a[4 * i + 2] = 0;
			a[4 * i + 3] = 0;
		}
		assert_int_equal(parse_raw(STUN_BINDING_REQUEST, a, sizeof(a), &m, &why), 0);
		assert_int_equal(m.n_unknown, STUN_MAX_UNKNOWN);
	}
	{ /* Two XOR-MAPPED-ADDRESS: the first counts. */
		const uint8_t a[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47,
				     0xe1, 0x12, 0xa6, 0x43, 0x00, 0x20, 0x00, 0x08,
				     0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), 0);
		assert_addr(&m.xor_mapped, "192.0.2.1", 32853);
	}
	{ /* After MESSAGE-INTEGRITY, everything but FINGERPRINT is ignored,
	   * even a broken address or an unknown required attribute. */
		uint8_t a[4 + 20 + 12 + 4];
		memset(a, 0, sizeof(a));
		a[1] = 0x08;
		a[3] = 20;
		a[24 + 1] = 0x20;
		a[24 + 3] = 8;
		a[24 + 5] = 9; /* bad family */
		a[36 + 0] = 0x12;
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), 0);
		assert_true(m.attrs & STUN_A_INTEGRITY);
		assert_false(m.attrs & STUN_A_XOR_MAPPED);
		assert_int_equal(m.n_unknown, 0);
	}
	{ /* Legacy CHANGED-ADDRESS and plain MAPPED-ADDRESS. */
		const uint8_t a[] = {0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x96,
				     198,  51,	 100,  2,    0x00, 0x01, 0x00, 0x08,
				     0x00, 0x01, 0x9c, 0x40, 203,  0,	 113,  9};
		assert_int_equal(parse_raw(STUN_BINDING_SUCCESS, a, sizeof(a), &m, &why), 0);
		assert_addr(&m.changed_address, "198.51.100.2", 3478);
		assert_addr(&m.mapped, "203.0.113.9", 40000);
		assert_ptr_equal(stun_msg_mapped(&m), sa(&m.mapped));
	}
}

/* A small deterministic generator, so a failure can be reproduced. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static struct stun_server
server4(const char *alt_ip, uint16_t alt_port, int flags)
{
	struct stun_server s;

	memset(&s, 0, sizeof(s));
	s.local = th_addr("198.51.100.1", 3478);
	if (alt_ip != NULL)
		s.alt = th_addr(alt_ip, alt_port);
	s.flags = flags;
	return s;
}

/* Whatever stun_answer sends back is a well-formed reply to that request. */
static void
check_answer(const uint8_t *req, size_t n, const struct stun_server *srv)
{
	struct sockaddr_storage from = th_addr("203.0.113.5", 4000), rf;
	uint8_t out[STUN_MAX_BUILT];
	struct stun_msg m;
	size_t len = stun_answer(req, n, sa(&from), srv, out, sizeof(out), &rf, NULL);

	if (len == 0)
		return;
	assert_int_equal(parse_copy(out, len, &m, NULL), 0);
	assert_true(m.type == STUN_BINDING_SUCCESS || m.type == STUN_BINDING_ERROR);
	assert_memory_equal(m.txid, req + 8, STUN_TXID_LEN);
	if (srv->flags & STUN_SERVER_NO_AMPLIFY)
		assert_true(len <= n);
	if (m.type == STUN_BINDING_SUCCESS)
		assert_addr(&m.xor_mapped, "203.0.113.5", 4000);
}

static void
test_random_garbage(void **state)
{
	struct stun_server srv[2] = {server4("198.51.100.2", 3479, 0),
				     server4("198.51.100.2", 3479, STUN_SERVER_NO_AMPLIFY)};
	uint8_t b[300];

	(void)state;
	for (int round = 0; round < 50000; round++) {
		size_t n = rng() % sizeof(b);
		struct stun_msg m;
		const char *why = NULL;
		int rc;

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rng();
		if (round % 2 == 1 && n >= STUN_HEADER_LEN) {
			/* Make the header plausible so attributes get parsed:
			 * mostly Binding requests with small attribute types. */
			n &= ~(size_t)3;
			b[0] = round % 3 == 0 ? 0x01 : 0x00;
			b[1] = 0x01;
			memcpy(b + 4, "\x21\x12\xa4\x42", 4);
			set_len(b, n - STUN_HEADER_LEN);
			for (size_t off = STUN_HEADER_LEN; off + 4 <= n;
			     off += 4 + (rng() % 6) * 4) {
				b[off] = rng() % 4 == 0 ? 0x80 : 0x00;
				b[off + 1] = (uint8_t)(rng() % 0x30);
				b[off + 2] = 0;
				b[off + 3] = (uint8_t)(rng() % 24);
			}
		}
		rc = parse_copy(b, n, &m, &why);
		assert_true(rc == 0 || (rc == -1 && why != NULL));
		if (rc == 0)
			assert_true(stun_is_message(b, n));
		{
			uint8_t *c = malloc(n > 0 ? n : 1);
			assert_non_null(c);
			memcpy(c, b, n);
			check_answer(c, n, &srv[0]);
			check_answer(c, n, &srv[1]);
			free(c);
		}
	}
}

/* ---- the responder ---- */

static size_t
answer(const uint8_t *req, size_t n, const char *from_ip, uint16_t from_port,
       const struct stun_server *srv, uint8_t *out, struct stun_msg *m, struct sockaddr_storage *rf)
{
	struct sockaddr_storage from = th_addr(from_ip, from_port);
	const char *why = NULL;
	size_t len = stun_answer(req, n, sa(&from), srv, out, STUN_MAX_BUILT, rf, &why);

	if (len > 0)
		assert_int_equal(stun_parse(out, len, m, NULL), 0);
	else
		assert_non_null(why);
	return len;
}

static void
test_answer_binding(void **state)
{
	struct stun_server srv = server4("198.51.100.2", 3479, 0);
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT], txid[STUN_TXID_LEN];
	struct sockaddr_storage rf;
	struct stun_msg m;
	size_t n, len;

	(void)state;
	stun_new_txid(txid);
	n = stun_build_request(req, sizeof(req), txid, 0);
	len = answer(req, n, "203.0.113.5", 4000, &srv, out, &m, &rf);
	assert_int_equal(len, STUN_HEADER_LEN + 4 * 12 + 8);
	assert_true(stun_is_response_to(&m, txid));
	assert_addr(&m.xor_mapped, "203.0.113.5", 4000);
	assert_addr(&m.mapped, "203.0.113.5", 4000);
	assert_addr(&m.response_origin, "198.51.100.1", 3478);
	assert_addr(&m.other_address, "198.51.100.2", 3479);
	assert_true(m.attrs & STUN_A_FINGERPRINT);
	assert_addr(&rf, "198.51.100.1", 3478);

	/* The RFC 5769 sample request (ICE attributes, MESSAGE-INTEGRITY) gets
	 * an answer too: nothing in it is unknown and required. */
	len = answer(rfc_request, sizeof(rfc_request), "192.0.2.1", 32853, &srv, out, &m, &rf);
	assert_true(len > 0);
	assert_true(stun_is_response_to(&m, rfc_txid));
	assert_addr(&m.xor_mapped, "192.0.2.1", 32853);
}

static void
test_answer_change_request(void **state)
{
	const struct {
		uint32_t flags;
		const char *ip;
		uint16_t port;
	} cases[] = {
	    {0, "198.51.100.1", 3478},
	    {STUN_CHANGE_IP, "198.51.100.2", 3478},
	    {STUN_CHANGE_PORT, "198.51.100.1", 3479},
	    {STUN_CHANGE_IP | STUN_CHANGE_PORT, "198.51.100.2", 3479},
	};
	struct stun_server srv = server4("198.51.100.2", 3479, 0);
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT];
	struct sockaddr_storage rf;
	struct stun_msg m;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		size_t n = stun_build_request(req, sizeof(req), rfc_txid, cases[i].flags);

		assert_true(answer(req, n, "203.0.113.5", 4000, &srv, out, &m, &rf) > 0);
		assert_int_equal(m.type, STUN_BINDING_SUCCESS);
		assert_addr(&rf, cases[i].ip, cases[i].port);
		assert_addr(&m.response_origin, cases[i].ip, cases[i].port);
		assert_addr(&m.other_address, "198.51.100.2", 3479);
	}
}

static void
test_answer_420(void **state)
{
	struct stun_server none = server4(NULL, 0, 0);
	struct stun_server port_only = server4("198.51.100.1", 3479, 0);
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT];
	struct sockaddr_storage rf;
	struct stun_msg m;
	size_t n;

	(void)state;
	/* No alternate at all: CHANGE-REQUEST with a flag is refused with 420,
	 * an empty one is fine; no OTHER-ADDRESS is advertised. */
	n = stun_build_request(req, sizeof(req), rfc_txid, STUN_CHANGE_PORT);
	assert_true(answer(req, n, "203.0.113.5", 4000, &none, out, &m, &rf) > 0);
	assert_int_equal(m.type, STUN_BINDING_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_int_equal(m.n_listed, 1);
	assert_int_equal(m.listed[0], STUN_ATTR_CHANGE_REQUEST);
	assert_addr(&rf, "198.51.100.1", 3478);
	{
		const uint8_t a[] = {0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0};
		uint8_t r[64];
		size_t rn = raw_msg(r, STUN_BINDING_REQUEST, a, sizeof(a));

		assert_true(answer(r, rn, "203.0.113.5", 4000, &none, out, &m, &rf) > 0);
		assert_int_equal(m.type, STUN_BINDING_SUCCESS);
		assert_false(m.attrs & (STUN_A_OTHER_ADDRESS | STUN_A_MAPPED));
	}

	/* Only an alternate port: change port works, change IP does not, and
	 * OTHER-ADDRESS is not sent (RFC 5780 wants another IP for it). */
	n = stun_build_request(req, sizeof(req), rfc_txid, STUN_CHANGE_PORT);
	assert_true(answer(req, n, "203.0.113.5", 4000, &port_only, out, &m, &rf) > 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_addr(&rf, "198.51.100.1", 3479);
	assert_false(m.attrs & STUN_A_OTHER_ADDRESS);
	n = stun_build_request(req, sizeof(req), rfc_txid, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	assert_true(answer(req, n, "203.0.113.5", 4000, &port_only, out, &m, &rf) > 0);
	assert_int_equal(m.error_code, 420);

	/* Unknown comprehension-required attributes are listed back. */
	{
		const uint8_t a[] = {0x00, 0x27, 0x00, 0x04, 0x13, 0x88,
				     0,	   0,	 0x00, 0x7e, 0x00, 0x00};
		uint8_t r[64];
		size_t rn = raw_msg(r, STUN_BINDING_REQUEST, a, sizeof(a));

		assert_true(answer(r, rn, "203.0.113.5", 4000, &none, out, &m, &rf) > 0);
		assert_int_equal(m.error_code, 420);
		assert_int_equal(m.n_listed, 2);
		assert_int_equal(m.listed[0], 0x0027);
		assert_int_equal(m.listed[1], 0x007e);
	}
}

static void
test_answer_ignores(void **state)
{
	struct stun_server srv = server4("198.51.100.2", 3479, 0);
	struct sockaddr_storage from = th_addr("203.0.113.5", 4000), rf;
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT];
	const uint16_t types[] = {STUN_BINDING_INDICATION, STUN_BINDING_SUCCESS, STUN_BINDING_ERROR,
				  0x0003 /* Allocate */};
	const char *why;
	size_t n;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		n = raw_msg(req, types[i], NULL, 0);
		why = NULL;
		assert_int_equal(stun_answer(req, n, sa(&from), &srv, out, sizeof(out), &rf, &why),
				 0);
		assert_string_equal(why, "not a Binding request");
	}
	/* A Binding success from someone (reflection) is not answered. */
	n = stun_build_response(req, sizeof(req), rfc_txid, sa(&from), NULL, NULL);
	assert_int_equal(stun_answer(req, n, sa(&from), &srv, out, sizeof(out), &rf, NULL), 0);
	/* Bad FINGERPRINT. */
	n = stun_build_request(req, sizeof(req), rfc_txid, 0);
	req[30] ^= 1;
	why = NULL;
	assert_int_equal(stun_answer(req, n, sa(&from), &srv, out, sizeof(out), &rf, &why), 0);
	assert_non_null(why);
	/* Not STUN at all. */
	assert_int_equal(
	    stun_answer((const uint8_t *)"hello", 5, sa(&from), &srv, out, sizeof(out), &rf, &why),
	    0);
	/* No room for the reply. */
	n = stun_build_request(req, sizeof(req), rfc_txid, 0);
	assert_int_equal(stun_answer(req, n, sa(&from), &srv, out, 30, &rf, &why), 0);
	assert_string_equal(why, "no room for the reply");
}

static void
test_answer_no_amplify(void **state)
{
	struct stun_server strict = server4("198.51.100.2", 3479, STUN_SERVER_NO_AMPLIFY);
	struct stun_server plain = server4("198.51.100.2", 3479, 0);
	struct sockaddr_storage from = th_addr("203.0.113.5", 4000), rf;
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT];
	struct stun_msg m;
	const char *why;
	size_t n, len;

	(void)state;
	/* The minimal 20-byte request: RFC servers answer (76 bytes), a strict
	 * one stays silent. */
	n = raw_msg(req, STUN_BINDING_REQUEST, NULL, 0);
	assert_int_equal(stun_answer(req, n, sa(&from), &plain, out, sizeof(out), &rf, NULL), 76);
	why = NULL;
	assert_int_equal(stun_answer(req, n, sa(&from), &strict, out, sizeof(out), &rf, &why), 0);
	assert_string_equal(why, "the reply would be larger than the request");

	/* Padded requests of every size: never a byte more back, and what fits
	 * is kept in order XOR-MAPPED, FINGERPRINT, OTHER, ORIGIN, MAPPED. */
	for (size_t pad = 0; pad <= STUN_MAX_PAD_TO; pad += 4) {
		n = stun_build_request_pad(req, sizeof(req), rfc_txid, 0, pad);
		len = stun_answer(req, n, sa(&from), &strict, out, sizeof(out), &rf, NULL);
		assert_true(len <= n);
		if (n < 32) {
			assert_int_equal(len, 0);
			continue;
		}
		assert_int_equal(stun_parse(out, len, &m, NULL), 0);
		assert_addr(&m.xor_mapped, "203.0.113.5", 4000);
		assert_int_equal(!!(m.attrs & STUN_A_FINGERPRINT), n >= 40);
		assert_int_equal(!!(m.attrs & STUN_A_OTHER_ADDRESS), n >= 52);
		assert_int_equal(!!(m.attrs & STUN_A_RESPONSE_ORIGIN), n >= 64);
		assert_int_equal(!!(m.attrs & STUN_A_MAPPED), n >= 76);
	}
	/* p2pd's own requests always get the full answer, IPv6 included. */
	strict.local = th_addr("2001:db8::1", 3478);
	strict.alt = th_addr("2001:db8::2", 3479);
	from = th_addr("2001:db8:ffff::5", 4000);
	n = stun_build_request(req, sizeof(req), rfc_txid, STUN_CHANGE_IP);
	len = stun_answer(req, n, sa(&from), &strict, out, sizeof(out), &rf, NULL);
	assert_int_equal(len, STUN_MAX_BINDING_RESPONSE);
	assert_int_equal(stun_parse(out, len, &m, NULL), 0);
	assert_addr(&m.xor_mapped, "2001:db8:ffff::5", 4000);
	assert_addr(&m.response_origin, "2001:db8::2", 3478);
	assert_addr(&rf, "2001:db8::2", 3478);
}

static void
test_answer_special_addresses(void **state)
{
	struct stun_server srv;
	struct sockaddr_storage rf;
	uint8_t req[STUN_MAX_BUILT], out[STUN_MAX_BUILT];
	struct stun_msg m;
	size_t n;

	(void)state;
	/* A wildcard-bound socket cannot name its origin. */
	memset(&srv, 0, sizeof(srv));
	srv.local = th_addr("0.0.0.0", 3478);
	n = stun_build_request(req, sizeof(req), rfc_txid, 0);
	assert_true(answer(req, n, "203.0.113.5", 4000, &srv, out, &m, &rf) > 0);
	assert_false(m.attrs & STUN_A_RESPONSE_ORIGIN);
	assert_addr(&m.xor_mapped, "203.0.113.5", 4000);

	/* A dual-stack socket: an IPv4 client seen as ::ffff:a.b.c.d. */
	srv.local = th_addr("::", 3478);
	assert_true(answer(req, n, "::ffff:203.0.113.5", 4000, &srv, out, &m, &rf) > 0);
	assert_int_equal(m.xor_mapped.ss_family, AF_INET);
	assert_addr(&m.xor_mapped, "203.0.113.5", 4000);

	/* A source that is not IP is not answered. */
	{
		struct sockaddr_storage un;
		const char *why = NULL;

		memset(&un, 0, sizeof(un));
		un.ss_family = AF_UNIX;
		assert_int_equal(stun_answer(req, n, sa(&un), &srv, out, sizeof(out), &rf, &why),
				 0);
		assert_non_null(why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc5769_request),
	    cmocka_unit_test(test_rfc5769_ipv4_response),
	    cmocka_unit_test(test_rfc5769_ipv6_response),
	    cmocka_unit_test(test_rfc5769_xor_encoding),
	    cmocka_unit_test(test_bad_fingerprint),
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_response_round_trip),
	    cmocka_unit_test(test_error_round_trip),
	    cmocka_unit_test(test_build_small_buffers),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_bad_attributes),
	    cmocka_unit_test(test_fingerprint_placement),
	    cmocka_unit_test(test_unknown_and_duplicate_attributes),
	    cmocka_unit_test(test_random_garbage),
	    cmocka_unit_test(test_answer_binding),
	    cmocka_unit_test(test_answer_change_request),
	    cmocka_unit_test(test_answer_420),
	    cmocka_unit_test(test_answer_ignores),
	    cmocka_unit_test(test_answer_no_amplify),
	    cmocka_unit_test(test_answer_special_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
