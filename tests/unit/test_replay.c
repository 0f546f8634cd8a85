/* Unit tests for common/replay: the sliding anti-replay window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/replay.h"

/* Check, and if fresh, accept (as a receiver does after authentication). */
static int
accept_ctr(struct replay *r, uint64_t ctr)
{
	if (replay_check(r, ctr) != 0)
		return -1;
	replay_update(r, ctr);
	return 0;
}

static void
test_in_order(void **state)
{
	struct replay r;
	uint64_t c;

	(void)state;
	replay_init(&r);
	for (c = 0; c < 10000; c++)
		assert_int_equal(accept_ctr(&r, c), 0);
	/* Every one of them is now a replay, inside the window or too old. */
	for (c = 0; c < 10000; c++)
		assert_int_equal(replay_check(&r, c), -1);
	assert_int_equal(replay_check(&r, 10000), 0);
}

static void
test_counter_zero(void **state)
{
	struct replay r;

	(void)state;
	memset(&r, 0, sizeof(r)); /* a zeroed struct is a fresh window too */
	assert_int_equal(replay_check(&r, 0), 0);
	replay_update(&r, 0);
	assert_int_equal(replay_check(&r, 0), -1);
	assert_int_equal(replay_check(&r, 1), 0);
	/* Zero arriving late, after 1, is still fresh. */
	replay_init(&r);
	assert_int_equal(accept_ctr(&r, 1), 0);
	assert_int_equal(accept_ctr(&r, 0), 0);
	assert_int_equal(accept_ctr(&r, 0), -1);
}

static void
test_duplicates(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r);
	assert_int_equal(accept_ctr(&r, 5), 0);
	assert_int_equal(accept_ctr(&r, 5), -1);
	assert_int_equal(accept_ctr(&r, 3), 0);
	assert_int_equal(accept_ctr(&r, 3), -1);
	assert_int_equal(accept_ctr(&r, 4), 0);
	assert_int_equal(accept_ctr(&r, 6), 0);
	assert_int_equal(accept_ctr(&r, 4), -1);
	assert_int_equal(accept_ctr(&r, 6), -1);
}

/* replay_check alone never changes the state: checking twice is still fresh. */
static void
test_check_is_pure(void **state)
{
	struct replay r, before;

	(void)state;
	replay_init(&r);
	accept_ctr(&r, 100);
	memcpy(&before, &r, sizeof(r));
	assert_int_equal(replay_check(&r, 50), 0);
	assert_int_equal(replay_check(&r, 50), 0);
	assert_int_equal(replay_check(&r, 5000), 0);
	assert_memory_equal(&before, &r, sizeof(r));
}

static void
test_out_of_order_in_window(void **state)
{
	struct replay r;
	uint64_t c;

	(void)state;
	replay_init(&r);
	/* Evens first, then odds, in a span that just fits the window. */
	for (c = 0; c < REPLAY_WINDOW; c += 2)
		assert_int_equal(accept_ctr(&r, c), 0);
	for (c = 1; c < REPLAY_WINDOW; c += 2)
		assert_int_equal(accept_ctr(&r, c), 0);
	for (c = 0; c < REPLAY_WINDOW; c++)
		assert_int_equal(replay_check(&r, c), -1);
	/* Reverse order from a high start. */
	replay_init(&r);
	assert_int_equal(accept_ctr(&r, 1000000), 0);
	for (c = 1000000 - 1; c > 1000000 - REPLAY_WINDOW; c--)
		assert_int_equal(accept_ctr(&r, c), 0);
}

static void
test_window_edge(void **state)
{
	struct replay r;
	uint64_t top = 100000;

	(void)state;
	replay_init(&r);
	accept_ctr(&r, top);
	/* The window holds top and the REPLAY_WINDOW - 1 counters below it. */
	assert_int_equal(replay_check(&r, top - (REPLAY_WINDOW - 1)), 0);
	assert_int_equal(replay_check(&r, top - REPLAY_WINDOW), -1);
	assert_int_equal(replay_check(&r, 0), -1);
	/* A too-old update is ignored and does not disturb the window. */
	replay_update(&r, top - REPLAY_WINDOW - 5);
	assert_int_equal(replay_check(&r, top - (REPLAY_WINDOW - 1)), 0);
	/* Edges at every alignment of the top against the 64-bit words. */
	for (uint64_t t = 5000; t < 5000 + 130; t++) {
		replay_init(&r);
		accept_ctr(&r, t);
		assert_int_equal(accept_ctr(&r, t - (REPLAY_WINDOW - 1)), 0);
		assert_int_equal(replay_check(&r, t - (REPLAY_WINDOW - 1)), -1);
		assert_int_equal(replay_check(&r, t - REPLAY_WINDOW), -1);
		assert_int_equal(replay_check(&r, t - 1), 0);
	}
}

static void
test_too_old(void **state)
{
	struct replay r;

	(void)state;
	replay_init(&r);
	assert_int_equal(accept_ctr(&r, 10), 0);
	assert_int_equal(accept_ctr(&r, 10 + REPLAY_WINDOW), 0);
	assert_int_equal(replay_check(&r, 10), -1);
	assert_int_equal(replay_check(&r, 11), 0);
	assert_int_equal(replay_check(&r, 0), -1);
}

static void
test_huge_jump(void **state)
{
	struct replay r;
	uint64_t c;

	(void)state;
	replay_init(&r);
	for (c = 0; c < 3000; c++)
		accept_ctr(&r, c);
	/* Jump far ahead: no stale bit from the old window may survive, since the
	 * ring slots are reused; every counter just below the new top is fresh. */
	assert_int_equal(accept_ctr(&r, 1ULL << 40), 0);
	for (c = (1ULL << 40) - (REPLAY_WINDOW - 1); c < (1ULL << 40); c++)
		assert_int_equal(replay_check(&r, c), 0);
	assert_int_equal(replay_check(&r, 2999), -1);
	/* A jump of exactly the ring size plus a little. */
	replay_init(&r);
	for (c = 0; c < 64 * REPLAY_WORDS; c++)
		accept_ctr(&r, c);
	c = 64 * REPLAY_WORDS - 1 + 64 * REPLAY_WORDS;
	assert_int_equal(accept_ctr(&r, c), 0);
	for (uint64_t k = c - (REPLAY_WINDOW - 1); k < c; k++)
		assert_int_equal(replay_check(&r, k), 0);
}

static void
test_wrap_near_max(void **state)
{
	struct replay r;
	uint64_t m = UINT64_MAX;

	(void)state;
	replay_init(&r);
	assert_int_equal(accept_ctr(&r, m - 100), 0);
	assert_int_equal(accept_ctr(&r, m - 1), 0);
	assert_int_equal(accept_ctr(&r, m), 0);
	assert_int_equal(accept_ctr(&r, m), -1);
	assert_int_equal(accept_ctr(&r, m - 1), -1);
	assert_int_equal(accept_ctr(&r, m - 100), -1);
	assert_int_equal(accept_ctr(&r, m - 50), 0);
	assert_int_equal(replay_check(&r, m - (REPLAY_WINDOW - 1)), 0);
	assert_int_equal(replay_check(&r, m - REPLAY_WINDOW), -1);
	/* Small counters are far below the window, not "above" it by wrapping. */
	assert_int_equal(replay_check(&r, 0), -1);
	assert_int_equal(replay_check(&r, 1), -1);
}

/* Compare against a plain model on a random walk of counters around a
 * moving top: the model keeps every counter ever accepted. */
#define MODEL_SPAN 20000

static void
test_against_model(void **state)
{
	static uint8_t seen[MODEL_SPAN];
	struct replay r;
	uint64_t top = 0, c;
	int have = 0, want, i;

	(void)state;
	srand(6479);
	memset(seen, 0, sizeof(seen));
	replay_init(&r);
	for (i = 0; i < 200000; i++) {
		int64_t d = (rand() % 2600) - 2500; /* mostly behind the top */
		if (rand() % 50 == 0)
			d = rand() % 200; /* sometimes ahead */
		if ((int64_t)top + d < 0 || (int64_t)top + d >= MODEL_SPAN)
			continue;
		c = (uint64_t)((int64_t)top + d);
		if (have && c + REPLAY_WINDOW <= top)
			want = -1;
		else
			want = seen[c] ? -1 : 0;
		assert_int_equal(replay_check(&r, c), want);
		if (want == 0) {
			replay_update(&r, c);
			seen[c] = 1;
			if (!have || c > top)
				top = c;
			have = 1;
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_counter_zero),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_check_is_pure),
	    cmocka_unit_test(test_out_of_order_in_window),
	    cmocka_unit_test(test_window_edge),
	    cmocka_unit_test(test_too_old),
	    cmocka_unit_test(test_huge_jump),
	    cmocka_unit_test(test_wrap_near_max),
	    cmocka_unit_test(test_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
