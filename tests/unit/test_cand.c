/* Tests for worker/cand: the candidate addresses a worker announces.
 *
 * The exact-answer tests run in a network namespace of their own (Linux,
 * root): the test unshares its network namespace and builds known
 * interfaces (tun devices, made and addressed with ioctl only), so the
 * answer does not depend on the machine. Without the privilege they are
 * skipped and say so; the other tests run everywhere. */
#ifdef __linux__
#define _GNU_SOURCE /* unshare, CLONE_NEWNET */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_tun.h>
#include <sched.h>
#endif

#include "worker/cand.h"

#define PORT 4242

static struct sockaddr_storage
sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

static int
is_loopback4(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	return ss->ss_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* Index of ip in out[0..n), or -1. */
static int
find(const struct sockaddr_storage *out, size_t n, const char *ip)
{
	struct sockaddr_storage want = sa(ip, PORT);

	for (size_t i = 0; i < n; i++)
		if (sockaddr_equal((const struct sockaddr *)&out[i],
				   (const struct sockaddr *)&want))
			return (int)i;
	return -1;
}

/* ---- everywhere ---- */

static void
loopback_server(const char *server_ip)
{
	struct sockaddr_storage srv = sa(server_ip, 5959), out[8];
	size_t n;

	memset(out, 0xaa, sizeof(out));
	n = cand_gather((struct sockaddr *)&srv, PORT, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].ss_family, AF_INET);
	assert_int_equal(find(out, n, "127.0.0.1"), 0);
	assert_int_equal(port_of(&out[0]), PORT);
}

/* Everything on this host: 127.0.0.1 is the only candidate. */
static void
test_loopback_server(void **state)
{
	struct sockaddr_storage srv = sa("127.0.0.1", 5959), out[1];

	(void)state;
	loopback_server("127.0.0.1");
	loopback_server("127.5.6.7");
	loopback_server("::1");
	/* max 1 is enough; max 0 writes nothing. */
	assert_int_equal(cand_gather((struct sockaddr *)&srv, PORT, out, 1), 1);
	assert_int_equal(cand_gather((struct sockaddr *)&srv, PORT, NULL, 0), 0);
}

/* On whatever interfaces this host has: no loopback address, the port on
 * every candidate, never more than max. */
static void
test_host_interfaces(void **state)
{
	struct sockaddr_storage srv = sa("203.0.113.1", 5959), out[8];
	size_t n, want = 0;
	struct ifaddrs *ifa;

	(void)state;
	assert_int_equal(getifaddrs(&ifa), 0);
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    (i->ifa_flags & IFF_UP) &&
		    !is_loopback4((const struct sockaddr_storage *)(const void *)i->ifa_addr))
			want++;
	freeifaddrs(ifa);
	n = cand_gather((struct sockaddr *)&srv, PORT, out, 8);
	assert_int_equal(n, want < 8 ? want : 8);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].ss_family, AF_INET);
		assert_false(is_loopback4(&out[i]));
		assert_int_equal(port_of(&out[i]), PORT);
	}
	for (size_t max = 0; max < 3; max++)
		assert_true(cand_gather((struct sockaddr *)&srv, PORT, out, max) <= max);
}

static void
test_sockaddr_equal(void **state)
{
	struct sockaddr_storage a = sa("192.0.2.1", 5959), b = sa("192.0.2.1", 5959);
	struct sockaddr_storage c = sa("192.0.2.1", 5960), d = sa("192.0.2.2", 5959);
	struct sockaddr_storage e = sa("2001:db8::1", 5959), f = sa("2001:db8::1", 5959);
	struct sockaddr_storage g = sa("2001:db8::2", 5959), h = sa("::ffff:192.0.2.1", 5959);
	struct sockaddr_storage u;

	(void)state;
#define EQ(x, y) sockaddr_equal((struct sockaddr *)&(x), (struct sockaddr *)&(y))
	assert_true(EQ(a, b));
	assert_false(EQ(a, c));
	assert_false(EQ(a, d));
	assert_true(EQ(e, f));
	assert_false(EQ(e, g));
	assert_false(EQ(a, e));
	assert_false(EQ(a, h)); /* another family, even if the same IPv4 address */
	memset(&u, 0, sizeof(u));
	u.ss_family = AF_UNIX;
	assert_false(EQ(u, u)); /* only IPv4 and IPv6 compare */
#undef EQ
}

/* ---- in a namespace of our own ---- */

#ifdef __linux__
struct tunif {
	const char *name, *ip;
	int up;
	int fd;
};

static struct tunif ifs[] = {
    {"p2pt0", "192.0.2.10", 1, -1},
    {"p2pt1", "198.51.100.10", 1, -1},
    {"p2pt2", "203.0.113.10", 1, -1},
    {"p2pt3", "198.18.0.10", 0, -1}, /* addressed but down */
};
static int ns_ready; /* 1: built; -1: cannot (reason in ns_why) */
static char ns_why[160];

static int
set_flags(int s, const char *name, int up)
{
	struct ifreq r;

	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &r) == -1)
		return -1;
	if (up)
		r.ifr_flags |= IFF_UP;
	else
		r.ifr_flags &= ~IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &r);
}

static int
add_tun(int s, struct tunif *t)
{
	struct ifreq r;
	struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;

	if ((t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", t->name);
	r.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(t->fd, TUNSETIFF, &r) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", t->name);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, t->ip, &sin->sin_addr) != 1 || ioctl(s, SIOCSIFADDR, &r) == -1)
		return -1;
	return set_flags(s, t->name, t->up);
}

/* Once: a network namespace of our own with lo and the tun interfaces. */
static int
ns_setup(void **state)
{
	int s;

	(void)state;
	if (ns_ready != 0)
		return 0;
	ns_ready = -1;
	if (unshare(CLONE_NEWNET) == -1) {
		snprintf(ns_why, sizeof(ns_why), "unshare(CLONE_NEWNET): %s (needs root)",
			 strerror(errno));
		return 0;
	}
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		snprintf(ns_why, sizeof(ns_why), "socket: %s", strerror(errno));
		return 0;
	}
	if (set_flags(s, "lo", 1) == -1) {
		snprintf(ns_why, sizeof(ns_why), "bringing lo up: %s", strerror(errno));
		close(s);
		return 0;
	}
	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++)
		if (add_tun(s, &ifs[i]) == -1) {
			snprintf(ns_why, sizeof(ns_why), "tun interface %s: %s", ifs[i].name,
				 strerror(errno));
			close(s);
			return 0;
		}
	close(s);
	ns_ready = 1;
	return 0;
}

static int
ns_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++)
		if (ifs[i].fd >= 0) {
			close(ifs[i].fd);
			ifs[i].fd = -1;
		}
	return 0;
}

/* Enter the namespace on first use, so the tests before run on the host. */
static void
need_ns(void)
{
	ns_setup(NULL);
	if (ns_ready != 1) {
		print_message("skipped: %s\n", ns_why);
		skip();
	}
}

/* Exactly the three interfaces that are up, not lo, not the one down. */
static void
test_ns_candidates(void **state)
{
	struct sockaddr_storage srv = sa("203.0.113.1", 5959), out[8];
	size_t n;

	(void)state;
	need_ns();
	n = cand_gather((struct sockaddr *)&srv, PORT, out, 8);
	assert_int_equal(n, 3);
	assert_true(find(out, n, "192.0.2.10") >= 0);
	assert_true(find(out, n, "198.51.100.10") >= 0);
	assert_true(find(out, n, "203.0.113.10") >= 0);
	assert_int_equal(find(out, n, "198.18.0.10"), -1);
	for (size_t i = 0; i < n; i++) {
		assert_false(is_loopback4(&out[i]));
		assert_int_equal(port_of(&out[i]), PORT);
	}
	/* No server address given: the same. */
	assert_int_equal(cand_gather(NULL, PORT, out, 8), 3);
	/* A loopback server: only 127.0.0.1, whatever the interfaces. */
	srv = sa("127.0.0.1", 5959);
	assert_int_equal(cand_gather((struct sockaddr *)&srv, PORT, out, 8), 1);
	assert_int_equal(find(out, 1, "127.0.0.1"), 0);
}

static void
test_ns_max(void **state)
{
	struct sockaddr_storage srv = sa("198.51.100.1", 5959), out[8];
	const size_t guard = 2;

	(void)state;
	need_ns();
	for (size_t max = 0; max <= 3; max++) {
		size_t n;
		memset(out, 0xaa, sizeof(out));
		n = cand_gather((struct sockaddr *)&srv, PORT, out, max);
		assert_int_equal(n, max);
		/* Nothing written past max. */
		for (size_t k = max; k < max + guard; k++) {
			const uint8_t *b = (const uint8_t *)&out[k];
			for (size_t j = 0; j < sizeof(out[k]); j++)
				assert_int_equal(b[j], 0xaa);
		}
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(port_of(&out[i]), PORT);
			assert_false(is_loopback4(&out[i]));
		}
	}
}

/* An interface going down stops being a candidate. */
static void
test_ns_down(void **state)
{
	struct sockaddr_storage srv = sa("203.0.113.1", 5959), out[8];
	int s;

	(void)state;
	need_ns();
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_int_equal(set_flags(s, "p2pt1", 0), 0);
	assert_int_equal(cand_gather((struct sockaddr *)&srv, PORT, out, 8), 2);
	assert_int_equal(find(out, 2, "198.51.100.10"), -1);
	assert_int_equal(set_flags(s, "p2pt1", 1), 0);
	assert_int_equal(cand_gather((struct sockaddr *)&srv, PORT, out, 8), 3);
	close(s);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loopback_server), cmocka_unit_test(test_host_interfaces),
	    cmocka_unit_test(test_sockaddr_equal),
#ifdef __linux__
	    cmocka_unit_test(test_ns_candidates),   cmocka_unit_test(test_ns_max),
	    cmocka_unit_test(test_ns_down),
#endif
	};

#ifdef __linux__
	return cmocka_run_group_tests(tests, NULL, ns_teardown);
#else
	return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
