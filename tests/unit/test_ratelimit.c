/* Tests for rendezvous/ratelimit: token buckets per source with a fake clock,
 * IPv6 /64 grouping, a bounded table with least-recently-used eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>

#include "common/keys.h"
#include "rendezvous/ratelimit.h"
#include "tests/unit/helper_test.h"

static int
take(struct ratelimit *rl, const char *ip, uint64_t now)
{
	struct sockaddr_storage ss = th_addr(ip, 1234);
	return ratelimit_take(rl, (struct sockaddr *)&ss, now);
}

static void
test_bucket(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 5, 16);
	uint64_t now = 1000000;

	(void)state;
	assert_non_null(rl);
	/* A full bucket of 5, then one refusal reported as the first, then silent. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(take(rl, "192.0.2.1", now), RL_PASS);
	assert_int_equal(take(rl, "192.0.2.1", now), RL_DROP_FIRST);
	assert_int_equal(take(rl, "192.0.2.1", now), RL_DROP);
	/* Another source is not affected. */
	assert_int_equal(take(rl, "192.0.2.2", now), RL_PASS);
	/* 10 per second: after 99 ms still nothing, after 100 ms one token. */
	assert_int_equal(take(rl, "192.0.2.1", now + 99), RL_DROP);
	assert_int_equal(take(rl, "192.0.2.1", now + 100), RL_PASS);
	assert_int_equal(take(rl, "192.0.2.1", now + 100), RL_DROP_FIRST);
	/* A long silence refills to the burst, not more. */
	now += 3600 * 1000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(take(rl, "192.0.2.1", now), RL_PASS);
	assert_int_equal(take(rl, "192.0.2.1", now), RL_DROP_FIRST);
	/* The clock going backwards gives nothing. */
	assert_int_equal(take(rl, "192.0.2.1", now - 5000), RL_DROP);
	/* Sustained rate: 10 per second pass over 10 s of 100 tries per second. */
	int passed = 0;
	for (int ms = 0; ms < 10000; ms += 10)
		passed += take(rl, "192.0.2.1", now + 1 + (uint64_t)ms) == RL_PASS;
	assert_in_range(passed, 99, 101);
	ratelimit_free(rl);
}

static void
test_families(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 2, 16);
	struct sockaddr_storage ss;

	(void)state;
	/* One bucket per IPv6 /64: other hosts in the /64 share it. */
	assert_int_equal(take(rl, "2001:db8:1:2::1", 0), RL_PASS);
	assert_int_equal(take(rl, "2001:db8:1:2::ffff", 0), RL_PASS);
	assert_int_equal(take(rl, "2001:db8:1:2:aaaa::9", 0), RL_DROP_FIRST);
	assert_int_equal(take(rl, "2001:db8:1:3::1", 0), RL_PASS);
	/* A v4-mapped address shares the IPv4 bucket. */
	assert_int_equal(take(rl, "198.51.100.7", 0), RL_PASS);
	assert_int_equal(take(rl, "::ffff:198.51.100.7", 0), RL_PASS);
	assert_int_equal(take(rl, "198.51.100.7", 0), RL_DROP_FIRST);
	/* Other families are refused. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(ratelimit_take(rl, (struct sockaddr *)&ss, 0), RL_DROP);
	ratelimit_free(rl);
}

static void
test_eviction(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 4);
	char ip[32];

	(void)state;
	assert_null(ratelimit_new(0, 1, 4));
	assert_null(ratelimit_new(1, 0, 4));
	assert_null(ratelimit_new(1, 1, 0));
	/* Four sources exhaust their buckets. */
	for (int i = 1; i <= 4; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		assert_int_equal(take(rl, ip, 0), RL_PASS);
		assert_int_equal(take(rl, ip, 0), RL_DROP_FIRST);
	}
	assert_int_equal(ratelimit_size(rl), 4);
	/* .1 was used again most recently; .2 is the least recently used. */
	assert_int_equal(take(rl, "203.0.113.1", 0), RL_DROP);
	assert_int_equal(take(rl, "203.0.113.5", 0), RL_PASS);
	assert_int_equal(ratelimit_size(rl), 4);
	assert_int_equal(ratelimit_evictions(rl), 1);
	/* .1, .3, .4 are still limited; .2 was evicted and starts afresh. */
	assert_int_equal(take(rl, "203.0.113.1", 0), RL_DROP);
	assert_int_equal(take(rl, "203.0.113.3", 0), RL_DROP);
	assert_int_equal(take(rl, "203.0.113.4", 0), RL_DROP);
	assert_int_equal(take(rl, "203.0.113.2", 0), RL_PASS);
	assert_int_equal(ratelimit_evictions(rl), 2);
	/* Many sources: the table never grows past its bound. */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 250, i % 250);
		assert_int_equal(take(rl, ip, 0), RL_PASS);
		assert_true(ratelimit_size(rl) <= 4);
	}
	ratelimit_free(rl);
}

static void
test_set(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 10, 4);

	(void)state;
	ratelimit_set(rl, 1, 2); /* burst lowered: the full bucket is capped */
	assert_int_equal(take(rl, "192.0.2.9", 0), RL_PASS);
	assert_int_equal(take(rl, "192.0.2.9", 0), RL_PASS);
	assert_int_equal(take(rl, "192.0.2.9", 0), RL_DROP_FIRST);
	ratelimit_set(rl, 1000, 2);
	assert_int_equal(take(rl, "192.0.2.9", 1), RL_PASS);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bucket),
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_set),
	};
	if (keys_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
