/* Tests for worker/udpio: batched UDP sends and reads over loopback, in every
 * mode this system has (sendto/recvmsg, sendmmsg/recvmmsg, GSO and GRO):
 * order and content kept, nothing leaves before the flush, a full queue
 * flushes itself, oversized datagrams, a refused destination in the middle
 * of a batch, and a GSO send the kernel refuses (falls back, nothing lost). */
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
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <sched.h>
#endif

#include "common/util.h"
#include "worker/udpio.h"

struct pair {
	int a, b; /* a sends, b receives */
	struct sockaddr_in addr_a, addr_b;
};

struct got {
	size_t n;
	uint8_t data[200][UDPIO_SLOT];
	size_t len[200];
	struct sockaddr_in from[200];
};

static struct got G;

static int
bound_socket(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket_nb(AF_INET, SOCK_DGRAM);
	int big = 1 << 20;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void
pair_open(struct pair *p)
{
	p->a = bound_socket(&p->addr_a);
	p->b = bound_socket(&p->addr_b);
}

static void
pair_close(struct pair *p)
{
	close(p->a);
	close(p->b);
}

static void
collect(void *ctx, const struct udpio_dgram *d)
{
	(void)ctx;
	assert_true(G.n < ARRAY_LEN(G.data));
	assert_true(d->n <= UDPIO_SLOT);
	memcpy(G.data[G.n], d->p, d->n);
	G.len[G.n] = d->n;
	assert_int_equal(d->fromlen, sizeof(struct sockaddr_in));
	memcpy(&G.from[G.n], d->from, sizeof(G.from[0]));
	G.n++;
}

/* Read from u until want datagrams arrived or nothing comes for 1 s. */
static void
recv_all(struct udpio *u, int fd, size_t want)
{
	while (G.n < want) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 1000) != 1)
			break;
		assert_true(udpio_recv(u, UDPIO_BATCH, collect, NULL) >= 0);
	}
}

/* Datagram i: its index in the first two bytes, then a pattern; len bytes. */
static void
fill(uint8_t *buf, size_t len, unsigned i)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 7 + k);
	if (len >= 2) {
		buf[0] = (uint8_t)(i >> 8);
		buf[1] = (uint8_t)i;
	}
}

static void
check(size_t k, size_t len, unsigned i)
{
	uint8_t want[UDPIO_SLOT];

	assert_int_equal(G.len[k], len);
	fill(want, len, i);
	assert_memory_equal(G.data[k], want, len);
}

static const enum udpio_mode modes[] = {UDPIO_PLAIN, UDPIO_MMSG, UDPIO_GSO};

/* 40 datagrams of mixed runs (equal sizes, a shorter one, single ones) arrive
 * complete, in order, only after the flush, from the sender's address. */
static void
test_order_and_content(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		struct udpio_stats st;
		uint8_t buf[UDPIO_SLOT];
		size_t lens[40];

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		assert_non_null(tx);
		assert_non_null(rx);
		assert_true(udpio_mode(tx) <= modes[m]);
		for (unsigned i = 0; i < 40; i++) {
			lens[i] = i < 20 ? 1200 : i == 20 ? 300 : i < 30 ? 1000 : 50 + i;
			fill(buf, lens[i], i);
			udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf,
				   lens[i]);
		}
		assert_int_equal(udpio_pending(tx), 40);
		memset(&G, 0, sizeof(G));
		assert_int_equal(udpio_recv(rx, UDPIO_BATCH, collect, NULL), 0); /* nothing yet */
		assert_int_equal(udpio_flush(tx), 40);
		assert_int_equal(udpio_pending(tx), 0);
		recv_all(rx, p.b, 40);
		assert_int_equal(G.n, 40);
		for (unsigned i = 0; i < 40; i++) {
			check(i, lens[i], i);
			assert_int_equal(G.from[i].sin_port, p.addr_a.sin_port);
		}
		udpio_get_stats(tx, &st);
		assert_int_equal(st.tx_dgrams, 40);
		assert_int_equal(st.tx_dropped + st.tx_errors, 0);
		if (udpio_mode(tx) == UDPIO_PLAIN)
			assert_int_equal(st.tx_calls, 40);
		else
			assert_int_equal(st.tx_calls, 1);
		if (udpio_mode(tx) == UDPIO_GSO)
			assert_true(st.tx_gso >= 2); /* the runs of 1200 and of 1000 bytes */
		else
			assert_int_equal(st.tx_gso, 0);
		udpio_get_stats(rx, &st);
		assert_int_equal(st.rx_dgrams, 40);
		if (udpio_mode(rx) != UDPIO_PLAIN)
			assert_true(st.rx_calls < 40);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

/* More than UDPIO_BATCH queued: the queue flushes itself when full and the
 * order holds across the two batches. */
static void
test_full_queue(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		uint8_t buf[100];
		const unsigned n = UDPIO_BATCH + 10;

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		for (unsigned i = 0; i < n; i++) {
			fill(buf, sizeof(buf), i);
			udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf,
				   sizeof(buf));
		}
		assert_int_equal(udpio_pending(tx), 10);
		assert_int_equal(udpio_flush(tx), 10);
		memset(&G, 0, sizeof(G));
		recv_all(rx, p.b, n);
		assert_int_equal(G.n, n);
		for (unsigned i = 0; i < n; i++)
			check(i, sizeof(buf), i);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

/* With a burst size, the queue goes out by itself each time it holds that
 * many datagrams, in order, without udpio_flush; what is left waits for the
 * flush. Out-of-range burst sizes are clamped to 1..UDPIO_BATCH. */
static void
test_burst(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		struct udpio_stats st;
		uint8_t buf[1200];

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		udpio_set_burst(tx, 3);
		memset(&G, 0, sizeof(G));
		for (unsigned i = 0; i < 8; i++) {
			fill(buf, sizeof(buf), i);
			udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf,
				   sizeof(buf));
			assert_int_equal(udpio_pending(tx), (i + 1) % 3);
		}
		recv_all(rx, p.b, 6); /* two bursts of 3 arrived with no flush */
		assert_int_equal(G.n, 6);
		assert_int_equal(udpio_recv(rx, UDPIO_BATCH, collect, NULL), 0);
		assert_int_equal(udpio_flush(tx), 2);
		recv_all(rx, p.b, 8);
		for (unsigned i = 0; i < 8; i++)
			check(i, sizeof(buf), i);
		udpio_get_stats(tx, &st);
		assert_int_equal(st.tx_dgrams, 8);
		if (udpio_mode(tx) != UDPIO_PLAIN)
			assert_int_equal(st.tx_calls, 3);

		udpio_set_burst(tx, 0); /* clamped to 1: every datagram at once */
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf, 10);
		assert_int_equal(udpio_pending(tx), 0);
		udpio_set_burst(tx, (size_t)UDPIO_BATCH * 10); /* clamped to UDPIO_BATCH */
		for (unsigned i = 0; i < UDPIO_BATCH - 1; i++)
			udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf, 10);
		assert_int_equal(udpio_pending(tx), UDPIO_BATCH - 1);
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf, 10);
		assert_int_equal(udpio_pending(tx), 0);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

/* A receive callback that queues answers while the datagrams of the same
 * read are still being delivered: four answers per datagram with a burst of
 * 4, so that every delivery flushes a full burst (of the sizes of the
 * datagrams read, in GSO runs where they are equal). Each datagram must still
 * arrive as sent, and each answer too. */
#define ECHOES 4
static struct udpio *echo_io;
static struct sockaddr_in echo_to;

static void
collect_and_echo(void *ctx, const struct udpio_dgram *d)
{
	collect(ctx, d);
	for (int k = 0; k < ECHOES; k++)
		udpio_send(echo_io, (struct sockaddr *)&echo_to, sizeof(echo_to), d->p, d->n);
}

static size_t
echo_len(unsigned i)
{
	return i < 12 ? 1200 : 100 + 10 * i;
}

static void
test_send_while_receiving(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		uint8_t buf[1200];
		const unsigned n = 24;

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		for (unsigned i = 0; i < n; i++) { /* a run of equal sizes, then others */
			fill(buf, echo_len(i), i);
			udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf,
				   echo_len(i));
		}
		assert_int_equal(udpio_flush(tx), n);
		udpio_set_burst(rx, ECHOES);
		echo_io = rx;
		echo_to = p.addr_a;
		memset(&G, 0, sizeof(G));
		while (G.n < n) {
			struct pollfd pfd = {.fd = p.b, .events = POLLIN};
			assert_int_equal(poll(&pfd, 1, 1000), 1);
			assert_true(udpio_recv(rx, UDPIO_BATCH, collect_and_echo, NULL) > 0);
		}
		assert_int_equal(G.n, n);
		for (unsigned i = 0; i < n; i++)
			check(i, echo_len(i), i);
		assert_int_equal(udpio_pending(rx), 0);
		memset(&G, 0, sizeof(G));
		recv_all(tx, p.a, n * ECHOES); /* the answers, in order */
		assert_int_equal(G.n, n * ECHOES);
		for (unsigned i = 0; i < n * ECHOES; i++)
			check(i, echo_len(i / ECHOES), i / ECHOES);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

/* A datagram over UDPIO_SLOT is sent alone after what was queued before it,
 * and a receiver drops (and counts) datagrams over UDPIO_SLOT. */
static void
test_oversize(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		struct udpio_stats st;
		static uint8_t big[UDPIO_SLOT + 500];
		uint8_t small[64];

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		fill(small, sizeof(small), 1);
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), small,
			   sizeof(small));
		fill(big, sizeof(big), 2);
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), big, sizeof(big));
		assert_int_equal(udpio_pending(tx), 0);
		fill(small, sizeof(small), 3);
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), small,
			   sizeof(small));
		udpio_flush(tx);
		udpio_get_stats(tx, &st);
		assert_int_equal(st.tx_oversize, 1);
		assert_int_equal(st.tx_dgrams, 3);
		memset(&G, 0, sizeof(G));
		recv_all(rx, p.b, 2);
		assert_int_equal(G.n, 2);
		check(0, sizeof(small), 1);
		check(1, sizeof(small), 3);
		udpio_get_stats(rx, &st);
		assert_int_equal(st.rx_truncated, 1);
		assert_int_equal(st.rx_dgrams, 2);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

/* A destination the kernel refuses (port 0) in the middle of a batch costs
 * that datagram only; the ones after it still go, in order. */
static void
test_refused_in_batch(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct pair p;
		struct udpio *tx, *rx;
		struct udpio_stats st;
		struct sockaddr_in bad;
		uint8_t buf[500];

		pair_open(&p);
		tx = udpio_new(p.a, modes[m]);
		rx = udpio_new(p.b, modes[m]);
		bad = p.addr_b;
		bad.sin_port = 0;
		for (unsigned i = 0; i < 9; i++) {
			fill(buf, sizeof(buf), i);
			udpio_send(tx, (struct sockaddr *)(i == 4 ? &bad : &p.addr_b),
				   sizeof(p.addr_b), buf, sizeof(buf));
		}
		assert_int_equal(udpio_flush(tx), 8);
		udpio_get_stats(tx, &st);
		assert_int_equal(st.tx_errors, 1);
		memset(&G, 0, sizeof(G));
		recv_all(rx, p.b, 8);
		assert_int_equal(G.n, 8);
		for (unsigned i = 0, k = 0; i < 9; i++)
			if (i != 4)
				check(k++, sizeof(buf), i);
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
	}
}

#ifdef __linux__
/* In a network namespace of its own (root): loopback with an MTU of 1280,
 * so a GSO send of 1400-byte segments is refused (EINVAL). udpio falls back
 * to single datagrams (the kernel fragments them) and loses nothing. */
static void
test_gso_refused(void **state)
{
	struct pair p;
	struct udpio *tx, *rx;
	struct udpio_stats st;
	struct ifreq ifr;
	uint8_t buf[1400];
	int s;

	(void)state;
	if (unshare(CLONE_NEWNET) == -1) {
		skip(); /* needs root (CAP_SYS_ADMIN) */
		return;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	str_lcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	ifr.ifr_mtu = 1280;
	assert_int_equal(ioctl(s, SIOCSIFMTU, &ifr), 0);
	close(s);

	pair_open(&p);
	tx = udpio_new(p.a, UDPIO_GSO);
	rx = udpio_new(p.b, UDPIO_GSO);
	if (udpio_mode(tx) != UDPIO_GSO) {
		udpio_free(tx);
		udpio_free(rx);
		pair_close(&p);
		skip(); /* no UDP GSO in this kernel */
		return;
	}
	for (unsigned i = 0; i < 10; i++) {
		fill(buf, sizeof(buf), i);
		udpio_send(tx, (struct sockaddr *)&p.addr_b, sizeof(p.addr_b), buf, sizeof(buf));
	}
	assert_int_equal(udpio_flush(tx), 10);
	assert_int_equal(udpio_mode(tx), UDPIO_MMSG);
	udpio_get_stats(tx, &st);
	assert_int_equal(st.tx_gso, 0);
	assert_int_equal(st.tx_errors + st.tx_dropped, 0);
	memset(&G, 0, sizeof(G));
	recv_all(rx, p.b, 10);
	assert_int_equal(G.n, 10);
	for (unsigned i = 0; i < 10; i++)
		check(i, sizeof(buf), i);
	udpio_free(tx);
	udpio_free(rx);
	pair_close(&p);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_content),
	    cmocka_unit_test(test_full_queue),
	    cmocka_unit_test(test_burst),
	    cmocka_unit_test(test_send_while_receiving),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_refused_in_batch),
#ifdef __linux__
	    cmocka_unit_test(test_gso_refused), /* last: it leaves the namespace */
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
