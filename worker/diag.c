#include "worker/diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/natclass.h"
#include "common/selftest.h"
#include "common/stun.h"
#include "common/util.h"

#ifndef P2PD_VERSION
#define P2PD_VERSION "0"
#endif

#define STUN_TRIES   3
#define STUN_WAIT_MS 700
#define TCP_WAIT_MS  3000

static int
tcp_check(const struct sockaddr *sa, socklen_t len, const char **why)
{
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket_nb(sa->sa_family, SOCK_STREAM);
	if (fd == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, TCP_WAIT_MS) != 1) {
		*why = "timed out";
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	close(fd);
	if (err != 0) {
		*why = strerror(err);
		return -1;
	}
	return 0;
}

/* One Binding exchange from fd to dst; fills the probe. Returns the parsed
 * response in *resp when answered. */
static void
stun_probe(int fd, const struct sockaddr *dst, socklen_t dlen, struct natclass_probe *pr,
	   struct stun_msg *resp)
{
	uint8_t req[STUN_MAX_BUILT], buf[1500], txid[STUN_TXID_LEN];
	size_t n;

	memset(pr, 0, sizeof(*pr));
	memcpy(&pr->server, dst, dlen);
	pr->sent = 1;
	stun_new_txid(txid);
	n = stun_build_request(req, sizeof(req), txid, 0);
	for (int t = 0; t < STUN_TRIES && n > 0; t++) {
		uint64_t deadline = now_ms() + STUN_WAIT_MS;
		sendto(fd, req, n, 0, dst, dlen);
		for (;;) {
			uint64_t now = now_ms();
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			ssize_t got;
			if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) != 1)
				break;
			got = recv(fd, buf, sizeof(buf), 0);
			if (got <= 0)
				continue;
			if (stun_parse(buf, (size_t)got, resp, NULL) == 0 &&
			    stun_is_response_to(resp, txid) && stun_msg_mapped(resp) != NULL) {
				const struct sockaddr *m = stun_msg_mapped(resp);
				memcpy(&pr->mapped, m,
				       m->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							       : sizeof(struct sockaddr_in6));
				pr->replied = 1;
				return;
			}
		}
	}
}

static uint16_t
sa_port(const struct sockaddr_storage *ss)
{
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == AF_INET && b->ss_family == AF_INET &&
	       ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		   ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

/* The local address the kernel uses toward srv (a connected UDP socket sends
 * nothing), with port: natclass needs it to tell "no NAT" from a router. */
static void
local_address(const struct sockaddr_storage *srv, socklen_t slen, uint16_t port,
	      struct sockaddr_storage *out)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(out, 0, sizeof(*out));
	if (fd == -1)
		return;
	if (connect(fd, (const struct sockaddr *)srv, slen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0 && sin.sin_family == AF_INET) {
		sin.sin_port = htons(port);
		memcpy(out, &sin, sizeof(sin));
	}
	close(fd);
}

static int
udp_checks(const struct sockaddr_storage *srv, socklen_t slen, const char *name)
{
	struct natclass_input in;
	struct natclass_result r;
	struct stun_msg resp;
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);
	int fd, have_other = 0;
	struct sockaddr_storage other, alt;

	memset(&in, 0, sizeof(in));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	if (fd == -1 || bind(fd, (struct sockaddr *)&local, sizeof(local)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) == -1) {
		printf("Checking UDP connectivity to %s [FAILED] cannot open a UDP socket: %s\n",
		       name, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	in.local_port = ntohs(local.sin_port);
	local_address(srv, slen, in.local_port, &in.local);
	stun_probe(fd, (const struct sockaddr *)srv, slen, &in.probe[0], &resp);
	if (in.probe[0].replied && (resp.attrs & STUN_A_OTHER_ADDRESS)) {
		other = resp.other_address;
		have_other = 1;
	}
	if (in.probe[0].replied) {
		/* Probe 1: the server's IP, another port (its OTHER-ADDRESS port, or
		 * the rendezvous convention of port + 1). */
		alt = *srv;
		((struct sockaddr_in *)&alt)->sin_port =
		    htons(have_other ? sa_port(&other) : (uint16_t)(sa_port(srv) + 1));
		stun_probe(fd, (struct sockaddr *)&alt, slen, &in.probe[1], &resp);
		if (have_other && !same_ip(&other, srv))
			stun_probe(fd, (struct sockaddr *)&other, slen, &in.probe[2], &resp);
	}
	close(fd);
	natclass_classify(&in, &r);
	printf("Checking UDP connectivity to %s%s\n", name, r.udp_ok ? "" : " [FAILED]");
	natclass_print(stdout, &in, &r);
	return r.udp_ok ? 0 : -1;
}

int
diag_run(const char *server)
{
	char host[256], name[300];
	uint16_t port;
	const char *why = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	struct selftest_result res[SELFTEST_COUNT];
	size_t nres;
	int failed = 0;
	const uint16_t one = 1;

	if (server == NULL)
		server = getenv("P2P_SERVER");
	if (server == NULL || *server == '\0')
		server = "localhost:5959";
	printf("connectd (p2pd) %s built %s at %s Now Starting Up\n", P2PD_VERSION, __DATE__,
	       __TIME__);
	printf("Running Network Diagnostics\n");
	if (parse_hostport(server, host, sizeof(host), &port, 5959, &why) == -1) {
		printf("Server '%s': %s (expected host[:port])\n", server, why);
		return 1;
	}
	snprintf(name, sizeof(name), "%s:%u", host, port);
	fflush(stdout);

	printf("Checking if DNS works ... ");
	if (resolve_ipv4(host, port, SOCK_DGRAM, &ss, &len, &why) == -1) {
		printf("[FAILED] cannot resolve %s: %s; allow DNS (UDP and TCP port 53) to the "
		       "name servers of /etc/resolv.conf in your firewall, or give -y an "
		       "address\n",
		       host, why);
		failed = 1;
	} else {
		char a[SOCKADDR_STRLEN];
		printf(".[OK] %s is %s\n", host,
		       fmt_sockaddr((struct sockaddr *)&ss, a, sizeof(a)));
		printf("Checking TCP connectivity to %s ", name);
		if (tcp_check((struct sockaddr *)&ss, len, &why) == -1) {
			printf(
			    "[FAILED] %s; allow outgoing TCP to port %u in your firewall (a plain "
			    "STUN server has no TCP port: this check then fails alone)\n",
			    why, port);
			failed = 1;
		} else {
			printf("[OK]\n");
		}
		fflush(stdout);
		if (udp_checks(&ss, len, name) == -1)
			failed = 1;
	}
	printf("Endian : %s\n", *(const uint8_t *)&one == 1 ? "Little" : "Big");
	nres = selftest_run(res, SELFTEST_COUNT);
	for (size_t i = 0; i < nres; i++) {
		printf("%s test: [%s]\n", res[i].name, res[i].ok ? "OK" : "FAILED");
		if (!res[i].ok)
			failed = 1;
	}
	if (failed)
		printf("Not compatible: fix the checks marked [FAILED] above.\n");
	else
		printf("Looks compatible.\n");
	fflush(stdout);
	return failed ? 1 : 0;
}
