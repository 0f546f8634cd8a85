/* Tests for rendezvous/registry: logins (replacement per UID, lookups, expiry
 * with a fake clock), pending sessions in due order, the replay cache. */
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
	struct registry *reg = new_reg(4, 2, 4);
	uint8_t s1[8] = {1}, s2[8] = {2}, s3[8] = {3}, lid[8] = {9};
	uint8_t pkt[RDV_MAX_DGRAM + 1] = {0x88, 1};
	struct reg_session *a, *b;

	(void)state;
	assert_true(registry_next_session(reg) == UINT64_MAX);
	a = registry_session_add(reg, s1, lid, pkt, 100, 500);
	b = registry_session_add(reg, s2, lid, pkt, 100, 700);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->sent, 1);
	assert_int_equal(a->len, 100);
	assert_memory_equal(a->pkt, pkt, 100);
	/* Full, duplicate id, oversized packet: refused. */
	assert_null(registry_session_add(reg, s3, lid, pkt, 100, 900));
	registry_session_del(reg, b);
	assert_null(registry_session_add(reg, s1, lid, pkt, 100, 900));
	assert_null(registry_session_add(reg, s3, lid, pkt, sizeof(pkt), 900));
	b = registry_session_add(reg, s2, lid, pkt, 100, 700);
	assert_non_null(b);
	assert_ptr_equal(registry_session_find(reg, s2), b);
	assert_null(registry_session_find(reg, s3));

	/* Due order. */
	assert_null(registry_session_due(reg, 499));
	assert_ptr_equal(registry_session_due(reg, 500), a);
	registry_session_sent(reg, a, 1000);
	assert_int_equal(a->sent, 2);
	assert_true(registry_next_session(reg) == 700);
	assert_null(registry_session_due(reg, 699));
	assert_ptr_equal(registry_session_due(reg, 1000), b);
	registry_session_del(reg, b);
	assert_ptr_equal(registry_session_due(reg, 1000), a);
	assert_int_equal(registry_sessions(reg), 1);
	registry_free(reg); /* frees a */
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
	    cmocka_unit_test(test_sessions), cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_prune),    cmocka_unit_test(test_limits),
	};
	if (keys_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
