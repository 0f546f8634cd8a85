/* libFuzzer harness for common/rdvwire: every decoder gets the input; what
 * decodes is encoded again and must give the same bytes (the MAC or proof
 * aside), so the parsers accept exactly what the builders make. The relay
 * messages too: a RELAY parsed from the input is rebuilt; the input wrapped
 * as the inner datagram of a RELAYED must come back whole.
 *
 * A RELAY and a RELAYED (seq 10, login 11.., session 22.., key 01 02 .. 10 then
 * zeros, as below):
 * FUZZ-SEED:
 * b00111111111111111112222222222222222000000000000000aa00102030405060708090a0b0c0d0e0f101112131415161707a31ed8ed641d45b6cb0d2a659d6e3d
 * FUZZ-SEED:
 * b10111111111111111112222222222222222910102030405060708090a0b0c0d0e0f10111213141516173da84eba745d1e17466e257633f1290c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/rdvwire.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t key[RDV_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void
same(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (memcmp(a, b, n) != 0)
		abort();
}

static void
hello(const uint8_t *p, size_t n)
{
	struct rdv_hello h;
	uint8_t out[RDV_MAX_DGRAM];
	int m;

	if (rdv_parse_hello(p, n, &h, NULL) != 0)
		return;
	m = rdv_build_hello(out, sizeof(out), &h);
	if (m != RDV_HELLO_LEN || n < (size_t)m)
		abort();
	same(out, p, (size_t)m);
}

static void
challenge(const uint8_t *p, size_t n)
{
	struct rdv_challenge c;
	uint8_t out[RDV_MAX_DGRAM];

	if (rdv_parse_challenge(p, n, &c, NULL) != 0)
		return;
	if (rdv_build_challenge(out, sizeof(out), &c) != (int)n)
		abort();
	same(out, p, n);
}

static void
auth(const uint8_t *p, size_t n)
{
	struct rdv_auth a;
	struct rdv_addr src = {4, 5959, {192, 0, 2, 1}};
	uint8_t out[RDV_MAX_DGRAM];

	if (rdv_parse_auth(p, n, &a, NULL) != 0)
		return;
	(void)rdv_verify_tail_mac(p, n, key, AUTH_HASH_LEN);
	(void)rdv_cookie_verify(a.snonce, key, a.ts, &src, &a.id, a.cnonce);
	if (rdv_build_auth(out, sizeof(out), &a, key, AUTH_HASH_LEN) != (int)n)
		abort();
	same(out, p, n - RDV_MAC_LEN);
}

static void
error(const uint8_t *p, size_t n)
{
	struct rdv_error e;
	uint8_t out[RDV_MAX_DGRAM];

	if (rdv_parse_error(p, n, &e, NULL) != 0)
		return;
	if (rdv_build_error(out, sizeof(out), e.ref, e.code) != (int)n)
		abort();
	same(out, p, n);
}

static void
keepalive(const uint8_t *p, size_t n)
{
	struct rdv_keepalive k;
	uint8_t out[RDV_MAX_DGRAM];

	if (rdv_parse_keepalive(p, n, &k, NULL) != 0)
		return;
	if (rdv_build_keepalive(out, sizeof(out), &k, key) != (int)n)
		abort();
	same(out, p, n - RDV_MAC_LEN);
}

static void
intro_ack(const uint8_t *p, size_t n)
{
	struct rdv_intro_ack m;
	uint8_t out[RDV_MAX_DGRAM];

	if (rdv_parse_intro_ack(p, n, &m, NULL) != 0)
		return;
	if (rdv_build_intro_ack(out, sizeof(out), &m, key) != (int)n)
		abort();
	same(out, p, n - RDV_MAC_LEN);
}

static void
relay(const uint8_t *p, size_t n)
{
	struct rdv_relay m;
	uint8_t out[RDV_RELAY_MAX];

	if (rdv_parse_relay(p, n, &m, NULL) != 0)
		return;
	(void)rdv_verify_tail_mac(p, n, key, RDV_SECRET_LEN);
	/* inner lies inside the datagram, before the mac */
	if (m.inner < p || m.inner_len > n - RDV_MAC_LEN ||
	    m.inner > p + (n - RDV_MAC_LEN - m.inner_len) || m.seq == 0)
		abort();
	if (rdv_build_relay(out, sizeof(out), &m, key) != (int)n)
		abort();
	same(out, p, n - RDV_MAC_LEN);
}

static void
relayed(const uint8_t *p, size_t n)
{
	struct rdv_relayed m, o;
	uint8_t out[RDV_RELAYED_MAX];
	int len;

	/* The input as a RELAYED: authentication fails for nearly all. */
	if (rdv_parse_relayed(p, n, &o, key, NULL) == 0 && o.inner == NULL)
		abort();
	/* The input as the inner datagram: what builds must parse back. */
	memset(&m, 0, sizeof(m));
	m.inner = p;
	m.inner_len = n;
	len = rdv_build_relayed(out, sizeof(out), &m, key);
	if (len < 0)
		return;
	if ((size_t)len != RDV_RELAYED_OVERHEAD + n ||
	    rdv_parse_relayed(out, (size_t)len, &o, key, NULL) != 0 || o.inner_len != n ||
	    memcmp(o.inner, p, n) != 0)
		abort();
}

static void
client_side(const uint8_t *p, size_t n)
{
	struct rdv_auth_ok ok;
	struct rdv_ka_ack ka;
	struct rdv_intro in;

	(void)rdv_parse_auth_ok(p, n, &ok, key, NULL);
	(void)rdv_parse_ka_ack(p, n, &ka, key, NULL);
	(void)rdv_open_intro(p, n, &in, key, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	(void)rdv_msg_type(data, size);
	hello(data, size);
	challenge(data, size);
	auth(data, size);
	error(data, size);
	keepalive(data, size);
	intro_ack(data, size);
	relay(data, size);
	relayed(data, size);
	client_side(data, size);
	return 0;
}
