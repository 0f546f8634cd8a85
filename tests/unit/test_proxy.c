/* test_proxy: the initiator's listener when accept() runs out of descriptors.
 * The pending client stays queued and the port stays readable: the listener
 * must stop watching it for a while instead of spinning the event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/prov.h"
#include "worker/proxy.h"

/* A port that was free a moment ago on 127.0.0.1. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
test_accept_out_of_descriptors(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct prov p;
	struct listener *l;
	struct sockaddr_in sin;
	struct rlimit old, low;
	ev_timer stop;
	char text[512], err[256];
	uint16_t port = free_port();
	int c;
	static int fake_bridge; /* never dereferenced: every accept fails */

	(void)state;
	assert_non_null(loop);
	snprintf(text, sizeof(text),
		 "user_id u@example.com\nauth_hash %040d\nremote_address "
		 "80:00:00:00:01:00:0A:C2\nproxy_local_port %u\n",
		 0, port);
	assert_int_equal(prov_load_text("test", text, strlen(text), &p, err, sizeof(err)), 0);
	l = listener_open(&p, err, sizeof(err));
	assert_non_null(l);
	listener_attach(l, loop, NULL);
	listener_enable(l, (struct bridge *)&fake_bridge);

	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	/* no descriptor above c can be made now: accept fails with EMFILE */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)c + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

	ev_timer_init(&stop, stop_cb, 0.3, 0.0);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* a spinning loop turns thousands of times in 0.3 s; a paused one
	 * wakes for the failed accept and for the stop timer */
	assert_true(ev_iteration(loop) < 10);

	listener_disable(l);
	listener_free(l);
	close(c);
	prov_wipe(&p);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_out_of_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
