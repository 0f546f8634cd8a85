/* Tests for rendezvous/registry: logins (replacement per UID, lookups, expiry
 * with a fake clock), sessions (pending ones in due order; removed with either
 * member's login), the relay token buckets, the replay cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <netinet/in.h>

#include "common/keys.h"
#include "rendezvous/registry.h"
#include "tests/unit/helper_test.h"

static struct registry *
new_reg(size_t logins, size_t sessions, size_t replay)
{
	struct registry_limits lim = {logins, sessions, replay, 120000};
	struct registry *reg = registry_new(&lim);

	assert_non_null(reg);
	return reg;
}

static struct reg_login *
add_target(struct registry *reg, uint8_t last, uint64_t now, int *replaced)
{
	struct rdv_id id;
	p2p_uid u = {{0x80, 0, 0, 0, 1, 0, 0x0a, last}};
	uint8_t key[RDV_SECRET_LEN];
	struct sockaddr_storage s = th_addr("203.0.113.3", 40001);

	memset(key, last, sizeof(key));
	rdv_id_target(&id, &u);
	return registry_login_add(reg, &id, key, (struct sockaddr *)&s, sizeof(struct sockaddr_in),
				  0, NULL, now, replaced);
}

static struct reg_login *
add_user(struct registry *reg, const char *name, uint64_t now)
{
	struct rdv_id id;
	uint8_t key[RDV_SECRET_LEN] = {1};
	struct sockaddr_storage s = th_addr("198.51.100.7", 50000);
	const char *why;

	assert_int_equal(rdv_id_initiator(&id, name, &why), 0);
	return registry_login_add(reg, &id, key, (struct sockaddr *)&s, sizeof(struct sockaddr_in),
				  1, NULL, now, NULL);
}

static void
test_logins(void **state)
{
	struct registry *reg = new_reg(3, 4, 4);
	struct reg_login *t1, *t1b, *u1, *u2;
	p2p_uid u = {{0x80, 0, 0, 0, 1, 0, 0x0a, 0xc2}};
	uint8_t id1[RDV_LOGIN_ID_LEN];
	int replaced;

	(void)state;
	t1 = add_target(reg, 0xc2, 1000, &replaced);
	assert_non_null(t1);
	assert_int_equal(replaced, 0);
	assert_ptr_equal(registry_target_find(reg, &u), t1);
	assert_ptr_equal(registry_login_find(reg, t1->login_id), t1);
	assert_int_equal(t1->sock, 0);
	assert_int_equal(t1->key[0], 0xc2);
	memcpy(id1, t1->login_id, sizeof(id1));

	/* The same UID logging in again replaces the old login. */
	t1b = add_target(reg, 0xc2, 2000, &replaced);
	assert_non_null(t1b);
	assert_int_equal(replaced, 1);
	assert_null(registry_login_find(reg, id1));
	assert_ptr_equal(registry_target_find(reg, &u), t1b);
	assert_int_equal(registry_logins(reg), 1);
	assert_int_equal(registry_targets(reg), 1);

	/* Initiators: several logins of the same user coexist; not targets. */
	u1 = add_user(reg, "alice", 2000);
	u2 = add_user(reg, "alice", 2000);
	assert_non_null(u1);
	assert_non_null(u2);
	assert_memory_not_equal(u1->login_id, u2->login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(registry_logins(reg), 3);
	assert_int_equal(registry_targets(reg), 1);
	/* Full: a fourth login is refused, but a target replacing itself is not. */
	assert_null(add_user(reg, "bob", 2000));
	assert_null(add_target(reg, 0xc3, 2000, NULL));
	assert_non_null(add_target(reg, 0xc2, 2000, &replaced));
	assert_int_equal(replaced, 1);
	u.b[7] = 0xc3;
	assert_null(registry_target_find(reg, &u));

	registry_login_del(reg, u1);
	assert_int_equal(registry_logins(reg), 2);
	assert_non_null(add_user(reg, "bob", 2000));
	registry_free(reg);
}

static void
count_cb(const struct reg_login *l, void *arg)
{
	(void)l;
	(*(int *)arg)++;
}

static void
test_expiry(void **state)
{
	struct registry *reg = new_reg(16, 4, 4);
	struct reg_login *a, *b, *c;
	const uint64_t timeout = 90000;
	int n = 0;

	(void)state;
	assert_true(registry_next_expiry(reg, timeout) == UINT64_MAX);
	a = add_target(reg, 1, 1000, NULL);
	b = add_target(reg, 2, 2000, NULL);
	c = add_user(reg, "carol", 3000);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(registry_next_expiry(reg, timeout) == 1000 + timeout);
	/* a keeps alive at 50 s: b is now the oldest. */
	registry_login_touch(reg, a, 50000);
	assert_true(registry_next_expiry(reg, timeout) == 2000 + timeout);
	/* Just before b's time nothing goes; at its time b goes, then c. */
	assert_int_equal(registry_expire(reg, 2000 + timeout - 1, timeout, count_cb, &n), 0);
	assert_int_equal(registry_expire(reg, 2000 + timeout, timeout, count_cb, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(registry_logins(reg), 2);
	assert_int_equal(registry_targets(reg), 1);
	assert_int_equal(registry_expire(reg, 3000 + timeout, timeout, NULL, NULL), 1);
	assert_ptr_equal(registry_login_find(reg, a->login_id), a);
	assert_int_equal(registry_expire(reg, 50000 + timeout, timeout, count_cb, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(registry_logins(reg), 0);
	assert_int_equal(registry_targets(reg), 0);
	assert_true(registry_next_expiry(reg, timeout) == UINT64_MAX);
	registry_free(reg);
}

static void
test_sessions(void **state)
{
	struct registry *reg = new_reg(8, 3, 4);
	uint8_t s1[8] = {1}, s2[8] = {2}, s3[8] = {3}, s4[8] = {4};
	uint8_t pkt[RDV_MAX_DGRAM + 1] = {0x88, 1};
	struct reg_login *t = add_target(reg, 1, 0, NULL), *i = add_user(reg, "alice", 0);
	struct reg_session *a, *b, *c;

	(void)state;
	assert_true(registry_next_session(reg) == UINT64_MAX);
	a = registry_session_add(reg, s1, t, i, pkt, 100, 500);
	b = registry_session_add(reg, s2, t, i, pkt, 100, 700);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->sent, 1);
	assert_int_equal(a->len, 100);
	assert_true(a->pending);
	assert_memory_equal(a->pkt, pkt, 100);
	assert_ptr_equal(a->member[REG_TARGET], t);
	assert_ptr_equal(a->member[REG_INITIATOR], i);
	assert_int_equal(registry_session_member(a, t), REG_TARGET);
	assert_int_equal(registry_session_member(a, i), REG_INITIATOR);
	/* Duplicate id, oversized or empty INTRO, members swapped: refused. */
	assert_null(registry_session_add(reg, s1, t, i, pkt, 100, 900));
	assert_null(registry_session_add(reg, s3, t, i, pkt, sizeof(pkt), 900));
	assert_null(registry_session_add(reg, s3, t, i, pkt, 0, 900));
	assert_null(registry_session_add(reg, s3, i, t, pkt, 100, 900));
	assert_null(registry_session_add(reg, s3, t, NULL, pkt, 100, 900));
	/* Without an INTRO: a session that is not pending. */
	c = registry_session_add(reg, s3, t, i, NULL, 0, 0);
	assert_non_null(c);
	assert_false(c->pending);
	assert_int_equal(registry_sessions(reg), 3);
	assert_int_equal(registry_pending(reg), 2);
	/* Full (3 sessions, pending or not). */
	assert_null(registry_session_add(reg, s4, t, i, pkt, 100, 900));
	assert_ptr_equal(registry_session_find(reg, s2), b);
	assert_ptr_equal(registry_session_find(reg, s3), c);
	assert_null(registry_session_find(reg, s4));

	/* Due order; only pending sessions are ever due. */
	assert_null(registry_session_due(reg, 499));
	assert_ptr_equal(registry_session_due(reg, 500), a);
	registry_session_sent(reg, a, 1000);
	assert_int_equal(a->sent, 2);
	assert_true(registry_next_session(reg) == 700);
	assert_null(registry_session_due(reg, 699));
	assert_ptr_equal(registry_session_due(reg, 1000), b);
	/* Acknowledged: no longer due, INTRO freed, the session stays. */
	registry_session_settle(reg, b);
	assert_false(b->pending);
	assert_null(b->pkt);
	registry_session_settle(reg, b); /* twice is harmless */
	assert_ptr_equal(registry_session_find(reg, s2), b);
	assert_ptr_equal(registry_session_due(reg, 1000), a);
	assert_int_equal(registry_pending(reg), 1);
	registry_session_settle(reg, a);
	assert_null(registry_session_due(reg, UINT64_MAX - 1));
	assert_true(registry_next_session(reg) == UINT64_MAX);
	assert_int_equal(registry_sessions(reg), 3);
	registry_session_del(reg, b);
	assert_int_equal(registry_sessions(reg), 2);
	assert_null(registry_session_find(reg, s2));
	registry_free(reg); /* frees a and c with the logins */
}

static int keep_none(const struct reg_login *l, void *arg);

struct ended {
	int n;
	uint8_t last[RDV_SESSION_ID_LEN];
};

static void
end_cb(const struct reg_session *s, void *arg)
{
	struct ended *e = arg;

	/* Both members are still there when the callback runs. */
	assert_non_null(s->member[REG_TARGET]);
	assert_non_null(s->member[REG_INITIATOR]);
	e->n++;
	memcpy(e->last, s->session_id, RDV_SESSION_ID_LEN);
}

static void
test_sessions_follow_logins(void **state)
{
	struct registry *reg = new_reg(16, 16, 4);
	struct ended e = {0, {0}};
	uint8_t sid[8] = {0};
	struct reg_login *t1, *t2, *i1, *i2, *i3;
	struct reg_session *s11, *s12, *s22, *s13;
	const uint64_t timeout = 90000;

	(void)state;
	registry_on_session_end(reg, end_cb, &e);
	t1 = add_target(reg, 1, 0, NULL);
	t2 = add_target(reg, 2, 0, NULL);
	i1 = add_user(reg, "alice", 0);
	i2 = add_user(reg, "bob", 0);
	i3 = add_user(reg, "carol", 0);
	sid[0] = 0x11;
	s11 = registry_session_add(reg, sid, t1, i1, NULL, 0, 0);
	sid[0] = 0x12;
	s12 = registry_session_add(reg, sid, t1, i2, NULL, 0, 0);
	sid[0] = 0x22;
	s22 = registry_session_add(reg, sid, t2, i2, NULL, 0, 0);
	sid[0] = 0x13;
	s13 = registry_session_add(reg, sid, t1, i3, (const uint8_t *)"\x88\x01", 2, 500);
	assert_non_null(s11);
	assert_non_null(s12);
	assert_non_null(s22);
	assert_non_null(s13);
	assert_int_equal(registry_session_member(s22, t1), -1);
	assert_int_equal(registry_session_member(s22, i1), -1);

	/* An initiator's login goes (deleted): its session goes, the rest stay. */
	registry_login_del(reg, i1);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.last[0], 0x11);
	assert_int_equal(registry_sessions(reg), 3);
	sid[0] = 0x11;
	assert_null(registry_session_find(reg, sid));

	/* Logins expire (fake clock): t2 and i2 kept alive, the others not. */
	registry_login_touch(reg, t2, 60000);
	registry_login_touch(reg, i2, 60000);
	assert_int_equal(registry_expire(reg, 90000, timeout, NULL, NULL), 2); /* t1, i3 */
	assert_int_equal(e.n, 3); /* s12 and s13 (pending: leaves the due list too) */
	assert_int_equal(registry_pending(reg), 0);
	assert_true(registry_next_session(reg) == UINT64_MAX);
	assert_int_equal(registry_sessions(reg), 1);
	sid[0] = 0x22;
	assert_ptr_equal(registry_session_find(reg, sid), s22);

	/* A target replaced by a new login of its UID: its sessions go. */
	(void)add_target(reg, 2, 61000, NULL);
	assert_int_equal(e.n, 4);
	assert_int_equal(e.last[0], 0x22);
	assert_int_equal(registry_sessions(reg), 0);

	/* Pruning removes sessions too; registry_free calls no callback. */
	t1 = add_target(reg, 1, 62000, NULL);
	sid[0] = 0x31;
	assert_non_null(registry_session_add(reg, sid, t1, i2, NULL, 0, 0));
	sid[0] = 0x32;
	assert_non_null(registry_session_add(reg, sid, t1, i2, NULL, 0, 0));
	assert_int_equal(registry_prune(reg, keep_none, NULL), 3); /* t2, t1, i2 */
	assert_int_equal(e.n, 6);
	assert_int_equal(registry_sessions(reg), 0);
	t1 = add_target(reg, 1, 62000, NULL);
	i1 = add_user(reg, "alice", 62000);
	assert_non_null(registry_session_add(reg, sid, t1, i1, NULL, 0, 0));
	registry_free(reg);
	assert_int_equal(e.n, 6);
}

static void
test_buckets(void **state)
{
	struct reg_bucket b;

	(void)state;
	memset(&b, 0, sizeof(b));
	/* 1000 bytes per second, 1500 at most: full at first use. */
	registry_bucket_refill(&b, 1000, 1500, 10000);
	assert_true(registry_bucket_has(&b, 1500));
	assert_false(registry_bucket_has(&b, 1501));
	registry_bucket_take(&b, 1000);
	assert_true(registry_bucket_has(&b, 500));
	assert_false(registry_bucket_has(&b, 501));
	/* 1 ms adds one byte, 250 ms 250 bytes. */
	registry_bucket_refill(&b, 1000, 1500, 10001);
	assert_true(registry_bucket_has(&b, 501));
	assert_false(registry_bucket_has(&b, 502));
	registry_bucket_refill(&b, 1000, 1500, 10251);
	assert_true(registry_bucket_has(&b, 751));
	assert_false(registry_bucket_has(&b, 752));
	/* A clock going back adds nothing and does not move the bucket's time. */
	registry_bucket_refill(&b, 1000, 1500, 5000);
	assert_false(registry_bucket_has(&b, 752));
	registry_bucket_refill(&b, 1000, 1500, 10252);
	assert_true(registry_bucket_has(&b, 752));
	/* Never above burst, whatever the idle time or rate. */
	registry_bucket_refill(&b, 1000, 1500, UINT64_MAX);
	assert_true(registry_bucket_has(&b, 1500));
	assert_false(registry_bucket_has(&b, 1501));
	memset(&b, 0, sizeof(b));
	registry_bucket_refill(&b, UINT64_MAX, UINT64_MAX, 0);
	assert_true(registry_bucket_has(&b, UINT64_MAX / 1000));
	registry_bucket_take(&b, UINT64_MAX / 1000);
	assert_false(registry_bucket_has(&b, 1));
	registry_bucket_refill(&b, UINT64_MAX, UINT64_MAX, 1); /* saturates */
	assert_true(registry_bucket_has(&b, UINT64_MAX / 1000));
	/* Fractions of a byte are kept: at 1500 bytes/s, 1 ms adds 1.5 bytes. */
	memset(&b, 0, sizeof(b));
	registry_bucket_refill(&b, 1500, 2000, 0);
	registry_bucket_take(&b, 2000);
	registry_bucket_refill(&b, 1500, 2000, 1);
	assert_true(registry_bucket_has(&b, 1));
	assert_false(registry_bucket_has(&b, 2));
	registry_bucket_refill(&b, 1500, 2000, 2);
	assert_true(registry_bucket_has(&b, 3));
	assert_false(registry_bucket_has(&b, 4));
	/* Taking more than there is leaves zero. */
	memset(&b, 0, sizeof(b));
	registry_bucket_refill(&b, 1000, 1000, 0);
	registry_bucket_take(&b, 5000);
	assert_false(registry_bucket_has(&b, 1));
	assert_true(registry_bucket_has(&b, 0));
	/* A smaller burst (after a reload) caps what is there. */
	registry_bucket_refill(&b, 1000, 1000, 2000);
	assert_true(registry_bucket_has(&b, 1000));
	registry_bucket_refill(&b, 1000, 100, 2000);
	assert_false(registry_bucket_has(&b, 101));
}

static void
test_replay(void **state)
{
	struct registry *reg = new_reg(4, 4, 3);
	uint8_t n1[16] = {1}, n2[16] = {2}, n3[16] = {3}, n4[16] = {4};

	(void)state;
	assert_int_equal(registry_replay_add(reg, n1, 0), REPLAY_NEW);
	assert_int_equal(registry_replay_add(reg, n1, 1), REPLAY_SEEN);
	assert_int_equal(registry_replay_add(reg, n2, 10), REPLAY_NEW);
	assert_int_equal(registry_replay_add(reg, n3, 20), REPLAY_NEW);
	/* Full: refused rather than forgetting a live snonce early. */
	assert_int_equal(registry_replay_add(reg, n4, 30), REPLAY_FULL);
	assert_int_equal(registry_replay_add(reg, n1, 119999), REPLAY_SEEN);
	assert_true(registry_next_replay(reg) == 120000);
	/* After 120 s n1 is forgotten, n2 not yet. */
	assert_int_equal(registry_replay_add(reg, n4, 120000), REPLAY_NEW);
	assert_int_equal(registry_replay_add(reg, n2, 120000), REPLAY_SEEN);
	assert_int_equal(registry_replay_add(reg, n1, 120005), REPLAY_FULL);
	registry_replay_expire(reg, 120020);
	assert_true(registry_next_replay(reg) == 240000);
	assert_int_equal(registry_replay_add(reg, n1, 120020), REPLAY_NEW);
	assert_int_equal(registry_replay_add(reg, n1, 120021), REPLAY_SEEN);
	/* Wrap around the ring many times. */
	for (uint64_t t = 0; t < 100; t++) {
		uint8_t n[16] = {0};
		n[0] = 0xee;
		n[1] = (uint8_t)t;
		uint64_t now = 400000 + t * 120000;
		assert_int_equal(registry_replay_add(reg, n, now), REPLAY_NEW);
		assert_int_equal(registry_replay_add(reg, n, now + 1), REPLAY_SEEN);
	}
	registry_free(reg);
}

static int
keep_targets(const struct reg_login *l, void *arg)
{
	(void)arg;
	return l->id.role == RDV_ROLE_TARGET;
}

static int
keep_none(const struct reg_login *l, void *arg)
{
	(void)l;
	(void)arg;
	return 0;
}

static void
test_prune(void **state)
{
	struct registry *reg = new_reg(8, 4, 4);
	struct reg_login *t;
	p2p_uid u = {{0x80, 0, 0, 0, 1, 0, 0x0a, 7}};

	(void)state;
	assert_non_null(add_user(reg, "dave", 0));
	t = add_target(reg, 7, 0, NULL);
	assert_non_null(add_user(reg, "erin", 0));
	assert_int_equal(registry_prune(reg, keep_targets, NULL), 2);
	assert_int_equal(registry_logins(reg), 1);
	assert_ptr_equal(registry_target_find(reg, &u), t);
	assert_int_equal(registry_expire(reg, 1000000, 1, NULL, NULL), 1);
	registry_free(reg);
}

static void
test_limits(void **state)
{
	struct registry_limits lim = {0, 1, 1, 1};

	(void)state;
	assert_null(registry_new(&lim));
	lim.max_logins = 1;
	lim.max_sessions = 0;
	assert_null(registry_new(&lim));
	lim.max_sessions = 1;
	lim.max_replay = 0;
	assert_null(registry_new(&lim));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logins),   cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_sessions), cmocka_unit_test(test_sessions_follow_logins),
	    cmocka_unit_test(test_buckets),  cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_prune),    cmocka_unit_test(test_limits),
	};
	if (keys_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
