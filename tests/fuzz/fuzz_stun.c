/* libFuzzer harness for common/stun: stun_parse() and stun_answer() on any
 * datagram, with the invariants a caller relies on checked (abort = finding).
 *
 * Corpus seeds, written by tests/fuzz/run.sh (RFC 5769 request and IPv4
 * response, p2pd request with CHANGE-REQUEST, bare request with FINGERPRINT,
 * RFC 5780 response, 420 error):
 * FUZZ-SEED:
 * 000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf
 * FUZZ-SEED:
 * 0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96
 * FUZZ-SEED:
 * 000100682112a442703270642d66757a7a30303100030004000000068022005470327064204e41542070726f62652020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202080280004bbd70125
 * FUZZ-SEED: 000100082112a442703270642d66757a7a30303180280004ddc9260a
 * FUZZ-SEED:
 * 010100382112a442703270642d66757a7a303031002000080001bd52ea12d54b0001000800019c40cb007109802b000800010d96c6336401802c000800010d97c6336402802800042c58e532
 * FUZZ-SEED:
 * 0111002c2112a442703270642d66757a7a3030310009001500000414556e6b6e6f776e20417474726962757465000000000a00020027000080280004117449dd
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/stun.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

static struct stun_server servers[4];
static struct sockaddr_storage from4, from6, from_mapped;

static struct sockaddr_storage
addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	CHECK(parse_ip(ip, port, &ss, &len) == 0);
	return ss;
}

static void
setup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	/* Full RFC 5780 service, strict about amplification, port-only, none. */
	servers[0].local = addr("198.51.100.1", 3478);
	servers[0].alt = addr("198.51.100.2", 3479);
	servers[1] = servers[0];
	servers[1].flags = STUN_SERVER_NO_AMPLIFY;
	servers[2].local = addr("2001:db8::1", 3478);
	servers[2].alt = addr("2001:db8::1", 3479);
	servers[3].local = addr("::", 3478);
	from4 = addr("203.0.113.5", 4000);
	from6 = addr("2001:db8:ffff::5", 65535);
	from_mapped = addr("::ffff:203.0.113.5", 1);
}

static int
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	char x[SOCKADDR_STRLEN], y[SOCKADDR_STRLEN];

	fmt_sockaddr(a, x, sizeof(x));
	fmt_sockaddr(b, y, sizeof(y));
	return strcmp(x, y) == 0;
}

static int
is_v4mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* A parsed message's mapped address survives a rebuild. */
static void
round_trip(const struct stun_msg *m)
{
	const struct sockaddr *mapped = stun_msg_mapped(m);
	uint8_t out[STUN_MAX_BUILT];
	struct stun_msg back;
	size_t n;

	if (mapped == NULL)
		return;
	n = stun_build_response(out, sizeof(out), m->txid, mapped, NULL, NULL);
	CHECK(n > 0);
	CHECK(stun_parse(out, n, &back, NULL) == 0);
	CHECK(stun_is_response_to(&back, m->txid));
	if (!is_v4mapped(mapped)) /* those come back as IPv4, by design */
		CHECK(same_addr(stun_msg_mapped(&back), mapped));
}

static void
answer(const uint8_t *data, size_t size, const struct stun_server *srv,
       const struct sockaddr_storage *from)
{
	uint8_t out[STUN_MAX_BUILT];
	struct sockaddr_storage rf;
	struct stun_msg m;
	const char *why = NULL;
	size_t n = stun_answer(data, size, (const struct sockaddr *)from, srv, out, sizeof(out),
			       &rf, &why);

	if (n == 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(n <= sizeof(out));
	CHECK(stun_parse(out, n, &m, NULL) == 0);
	CHECK(m.attrs & STUN_A_FINGERPRINT || (srv->flags & STUN_SERVER_NO_AMPLIFY));
	CHECK(memcmp(m.txid, data + 8, STUN_TXID_LEN) == 0);
	CHECK(m.type == STUN_BINDING_SUCCESS || m.type == STUN_BINDING_ERROR);
	if (srv->flags & STUN_SERVER_NO_AMPLIFY)
		CHECK(n <= size);
	CHECK(rf.ss_family == srv->local.ss_family);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	const char *why = NULL;
	int rc;

	setup();
	rc = stun_parse(data, size, &m, &why);
	CHECK(rc == 0 || (rc == -1 && why != NULL && m.err_at <= size));
	if (rc == 0) {
		CHECK(stun_is_message(data, size));
		CHECK(m.n_unknown <= STUN_MAX_UNKNOWN && m.n_listed <= STUN_MAX_UNKNOWN);
		round_trip(&m);
	}
	answer(data, size, &servers[0], &from4);
	answer(data, size, &servers[1], &from4);
	answer(data, size, &servers[1], &from_mapped);
	answer(data, size, &servers[2], &from6);
	answer(data, size, &servers[3], &from_mapped);
	return 0;
}
