/* Tests of rendezvousd.conf parsing and lookups (common/rdvconf). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/rdvconf.h"
#include "common/uid.h"
#include "common/util.h"
#include "tests/unit/helper_test.h"

static const char *last_path; /* the file the last load read */

static int
load_mode(const char *text, mode_t mode, struct rdv_conf *c, char *err, size_t errlen)
{
	th_capture_reset();
	last_path = th_write_tmp(th_tmpdir, text, strlen(text), mode);
	return rdvconf_load_diag(last_path, 1, &th_capture_diag, c, err, errlen);
}

static int
load(const char *text, struct rdv_conf *c, char *err, size_t errlen)
{
	return load_mode(text, 0600, c, err, errlen);
}

static p2p_uid
U(const char *s)
{
	p2p_uid u;
	const char *why;

	assert_int_equal(uid_parse(s, &u, &why), 0);
	return u;
}

#define HASH_A "00112233445566778899aabbccddeeff00112233"
#define HASH_B "ffeeddccbbaa99887766554433221100ffeeddcc"
#define DEV1   "80:00:00:00:01:00:0A:C2"
#define DEV2   "80:00:00:00:01:00:0A:C3"
#define DEV3   "80:00:00:00:01:00:0A:C4"

static const char full_conf[] = "# rendezvousd.conf\n"
				"[server]\n"
				"listen = 192.0.2.1:6000\n"
				"alt_port = 6001\n"
				"alt_address = 192.0.2.2\n"
				"relay = no\n"
				"rate_limit = 20\n"
				"relay_rate = 5000\n"
				"relay_total = 50000\n"
				"presence_timeout = 30\n"
				"log_level = debug\n"
				"\n"
				"[user bob@example.com]\n"
				"auth_hash = " HASH_B "\n"
				"allow = " DEV1 ", " DEV3 "\n"
				"\n"
				"[user alice]\n"
				"auth_hash = " HASH_A "\n"
				"\n"
				"[user carol]\n"
				"auth_hash " HASH_A "\n"
				"allow " DEV2 "\n"
				"\n"
				"[device " DEV2 "]\n"
				"secret = device-two-secret-0123\n"
				"\n"
				"[device 80:00:00:00:01:00:0a:c2]\n"
				"password = device-one-secret-0123\n"
				"name = ssh-pi\n"
				"\n"
				"[device " DEV3 "]\n"
				"secret = device-three-secret-01\n";

static void
test_full(void **state)
{
	const struct rdv_user *u;
	const struct rdv_device *d;
	struct rdv_conf c;
	char err[512];
	p2p_uid u1 = U(DEV1), u2 = U(DEV2), u3 = U(DEV3), u9 = U("80:00:00:00:00:00:00:09");
	uint8_t hash_a[AUTH_HASH_LEN];

	(void)state;
	if (load(full_conf, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(th_cap.n, 0);
	assert_string_equal(c.listen, "192.0.2.1:6000");
	assert_int_equal(c.listen_addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&c.listen_addr)->sin_port), 6000);
	assert_int_equal(c.listen_port, 6000);
	assert_int_equal(c.alt_port, 6001);
	assert_string_equal(c.alt_address, "192.0.2.2");
	assert_int_equal(c.alt_addr.ss_family, AF_INET);
	assert_int_equal(c.relay, 0);
	assert_int_equal(c.rate_limit, 20);
	assert_int_equal(c.relay_rate, 5000);
	assert_int_equal(c.relay_total, 50000);
	assert_int_equal(c.presence_timeout, 30);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.nusers, 3);
	assert_int_equal(c.ndevices, 3);

	/* Users: lookups by exact name, allow lists. */
	u = rdvconf_user(&c, "alice", 5);
	assert_non_null(u);
	assert_true(u->allow_all);
	assert_true(rdvconf_user_may_reach(u, &u9));
	th_unhex(HASH_A, hash_a, sizeof(hash_a));
	assert_memory_equal(u->auth_hash, hash_a, AUTH_HASH_LEN);
	assert_int_equal(u->line, 17);
	assert_null(rdvconf_user(&c, "alic", 4));
	assert_null(rdvconf_user(&c, "alice2", 6));
	assert_null(rdvconf_user(&c, "Alice", 5));
	assert_null(rdvconf_user(&c, "", 0));
	u = rdvconf_user(&c, "bob@example.com", 15);
	assert_non_null(u);
	assert_false(u->allow_all);
	assert_int_equal(u->nallow, 2);
	assert_true(rdvconf_user_may_reach(u, &u1));
	assert_true(rdvconf_user_may_reach(u, &u3));
	assert_false(rdvconf_user_may_reach(u, &u2));
	assert_false(rdvconf_user_may_reach(u, &u9));
	u = rdvconf_user(&c, "carol", 5);
	assert_non_null(u);
	assert_true(rdvconf_user_may_reach(u, &u2));
	assert_false(rdvconf_user_may_reach(u, &u1));

	/* Devices: lookups by UID (the section name is case-insensitive hex). */
	d = rdvconf_device(&c, &u1);
	assert_non_null(d);
	assert_string_equal(d->secret, "device-one-secret-0123");
	assert_string_equal(d->name, "ssh-pi");
	assert_int_equal(d->line, 27);
	d = rdvconf_device(&c, &u2);
	assert_non_null(d);
	assert_string_equal(d->secret, "device-two-secret-0123");
	assert_string_equal(d->name, "");
	assert_null(rdvconf_device(&c, &u9));
	rdvconf_free(&c);
	assert_int_equal(c.nusers, 0);
	assert_null(c.users);
}

static void
test_defaults(void **state)
{
	char path[128], err[512];
	struct rdv_conf c;

	(void)state;
	snprintf(path, sizeof(path), "%s/none.conf", th_tmpdir);
	assert_int_equal(rdvconf_load(path, 0, &c, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "0.0.0.0:5959");
	assert_int_equal(c.listen_port, 5959);
	assert_int_equal(c.listen_addr.ss_family, AF_INET);
	assert_int_equal(c.alt_port, 5960);
	assert_string_equal(c.alt_address, "");
	assert_int_equal(c.relay, 1);
	assert_int_equal(c.rate_limit, 50);
	assert_int_equal(c.relay_rate, 10000000);
	assert_int_equal(c.relay_total, 100000000);
	assert_int_equal(c.presence_timeout, 90);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.nusers, 0);
	assert_int_equal(c.ndevices, 0);
	assert_null(rdvconf_user(&c, "alice", 5));
	assert_int_equal(rdvconf_load(path, 1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ENOENT)));
	rdvconf_free(&c);
}

/* In INI files '=' comes before the ':' of a UID, so both inih and the reader
 * keep the value whole; "allow UID" without '=' works as well. */
static void
test_allow_forms(void **state)
{
	struct rdv_conf c;
	char err[512];
	p2p_uid u1 = U(DEV1), u2 = U(DEV2), u3 = U(DEV3);
	const struct rdv_user *u;

	(void)state;
	assert_int_equal(load("[user a]\nauth_hash=" HASH_A "\nallow=" DEV1 "\n"
			      "[user b]\nauth_hash " HASH_A "\nallow " DEV1 "  " DEV2 ",," DEV3 "\n"
			      "[user c]\nauth_hash = " HASH_A "\nallow = *\n"
			      "[device " DEV1 "]\nsecret=0123456789abcdef\n"
			      "[device " DEV2 "]\nsecret=0123456789abcdef\n"
			      "[device " DEV3 "]\nsecret=0123456789abcdef\n",
			      &c, err, sizeof(err)),
			 0);
	u = rdvconf_user(&c, "a", 1);
	assert_int_equal(u->nallow, 1);
	assert_true(rdvconf_user_may_reach(u, &u1));
	assert_false(rdvconf_user_may_reach(u, &u2));
	u = rdvconf_user(&c, "b", 1);
	assert_int_equal(u->nallow, 3);
	assert_true(rdvconf_user_may_reach(u, &u3));
	u = rdvconf_user(&c, "c", 1);
	assert_true(u->allow_all);
	assert_int_equal(th_cap.n, 0);
	rdvconf_free(&c);
}

static void
test_listen_ipv6_and_alt_port_off(void **state)
{
	struct rdv_conf c;
	char err[512];

	(void)state;
	assert_int_equal(
	    load("[server]\nlisten = [::]:5959\nalt_port = 0\nrelay = yes\n", &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.listen_addr.ss_family, AF_INET6);
	assert_int_equal(c.alt_port, 0);
	assert_int_equal(c.relay, 1);
	rdvconf_free(&c);
	/* An address without a port takes 5959. */
	assert_int_equal(load("[server]\nlisten = 198.51.100.1\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.listen_port, 5959);
	rdvconf_free(&c);
}

static void
test_warnings(void **state)
{
	struct rdv_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("[server]\n"
			      "colour = blue\n"
			      "rate_limit = 5\n"
			      "rate_limit = 6\n"
			      "[elsewhere]\n"
			      "x = 1\n"
			      "[user a]\n"
			      "auth_hash = " HASH_A "\n"
			      "allow = " DEV1 "\n"
			      "shoe_size = 9\n"
			      "[device " DEV2 "]\n"
			      "secret = short\n",
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.rate_limit, 6);
	assert_int_equal(
	    th_count_msgs(CONF_WARNING, ":2: [server] colour: unknown key (ignored)", NULL), 1);
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       ":4: rate_limit: duplicate key (already set at "
				       "line 3)",
				       NULL),
			 1);
	assert_int_equal(th_count_msgs(CONF_WARNING, ":5: [elsewhere]: unknown section", NULL), 1);
	assert_int_equal(th_count_msgs(CONF_WARNING, ":10: [user a] shoe_size: unknown key", NULL),
			 1);
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       ":9: [user a] allow: " DEV1 " has no [device] section",
				       NULL),
			 1);
	assert_int_equal(
	    th_count_msgs(CONF_WARNING, ":11: [device " DEV2 "]: short secret (5 bytes)", NULL), 1);
	assert_int_equal(c.nwarnings, 6);
	rdvconf_free(&c);
}

static void
test_permissions(void **state)
{
	const char text[] = "[device " DEV1 "]\nsecret = 0123456789abcdef\n";
	char want[512], err[512];
	struct rdv_conf c;

	(void)state;
	assert_int_equal(load_mode(text, 0644, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want),
		 "%s: holds device secrets and user auth_hash values but is readable by others "
		 "(mode 0644); run: chmod 600 %s",
		 last_path, last_path);
	assert_int_equal(th_count_msgs(CONF_WARNING, want, NULL), 1);
	rdvconf_free(&c);
	assert_int_equal(load_mode(text, 0600, &c, err, sizeof(err)), 0);
	assert_int_equal(th_cap.n, 0);
	rdvconf_free(&c);
	/* No accounts: nothing to protect, no warning. */
	assert_int_equal(load_mode("[server]\nrelay = no\n", 0644, &c, err, sizeof(err)), 0);
	assert_int_equal(th_cap.n, 0);
	rdvconf_free(&c);
}

static void
test_many_accounts(void **state)
{
	enum { N = 300 };
	size_t cap_text = (size_t)N * 200, n = 0;
	char *text = malloc(cap_text);
	struct rdv_conf c;
	char err[512];

	(void)state;
	assert_non_null(text);
	for (int i = N - 1; i >= 0; i--) {
		n += (size_t)snprintf(text + n, cap_text - n,
				      "[user user%03d]\nauth_hash = " HASH_A "\n"
				      "[device 80:00:00:00:00:00:%02X:%02X]\nsecret = "
				      "0123456789abcdef%d\n",
				      i, i >> 8, i & 0xff, i);
	}
	assert_int_equal(load(text, &c, err, sizeof(err)), 0);
	assert_int_equal(c.nusers, N);
	assert_int_equal(c.ndevices, N);
	for (int i = 0; i < N; i++) {
		char name[16], want[32];
		p2p_uid u = {{0x80, 0, 0, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)(i & 0xff)}};
		const struct rdv_device *d;
		snprintf(name, sizeof(name), "user%03d", i);
		assert_non_null(rdvconf_user(&c, name, strlen(name)));
		d = rdvconf_device(&c, &u);
		assert_non_null(d);
		snprintf(want, sizeof(want), "0123456789abcdef%d", i);
		assert_string_equal(d->secret, want);
	}
	rdvconf_free(&c);
	free(text);
}

struct bad {
	const char *name;
	const char *text;
	int line;
	const char *start; /* what the message says right after "FILE:LINE: " */
	const char *frag;
	const char *secret; /* must not appear in any message */
};

static const struct bad bad_cases[] = {
    {"dup_user",
     "[user a]\nauth_hash " HASH_A "\n[user b]\nauth_hash " HASH_A "\n"
     "[user a]\nauth_hash " HASH_B "\n",
     5, "[user a]: ", "duplicate user (first defined at line 1)", NULL},
    {"dup_device",
     "[device " DEV1 "]\nsecret 0123456789abcdef\n"
     "[device 80:00:00:00:01:00:0a:c2]\nsecret 0123456789abcdef\n",
     3, "[device " DEV1 "]: ", "duplicate device (first defined at line 1)", NULL},
    {"device_bad_uid", "[device 80:00:00]\nsecret 0123456789abcdef\n", 1,
     "[device 80:00:00]: ", "invalid UID: expected 8 bytes", NULL},
    {"device_no_uid", "[device]\nsecret x\n", 1, "[device]: ", "expected [device UID]", NULL},
    {"user_no_name", "[user]\nauth_hash " HASH_A "\n", 1,
     "[user]: ", "expected [user NAME] with one name without spaces", NULL},
    {"user_two_names", "[user a b]\nauth_hash " HASH_A "\n", 1,
     "[user a b]: ", "expected [user NAME]", NULL},
    {"user_name_long", "[user aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
     1, "[user aaaaaaaaaaaaaaaaaaaa...]: ", "user name too long (65 bytes; at most 64)", NULL},
    {"server_with_arg", "[server main]\nrelay no\n", 1,
     "[server main]: ", "expected [server] with nothing after it", NULL},
    {"user_missing_hash", "[user a]\nallow *\n", 1,
     "[user a]: ", "missing required key 'auth_hash'", NULL},
    {"device_missing_secret", "[device " DEV1 "]\nname pi\n", 1,
     "[device " DEV1 "]: ", "missing required key 'secret'", NULL},
    {"hash_short", "[user a]\nauth_hash 0011\n", 2,
     "[user a] auth_hash: ", "invalid value (hidden): expected 40 hex digits", "0011"},
    {"hash_not_hex", "[user a]\nauth_hash 00112233445566778899aabbccddeeff0011223g\n", 2,
     "[user a] auth_hash: ", "invalid value (hidden)", "0011223g"},
    {"allow_bad_uid", "[user a]\nauth_hash " HASH_A "\nallow " DEV1 ", 80:00\n", 3,
     "[user a] allow: ", "invalid value: '80:00' is not a UID", NULL},
    {"allow_star_and_uid", "[user a]\nauth_hash " HASH_A "\nallow *, " DEV1 "\n", 3,
     "[user a] allow: ", "'*' is not a UID", NULL},
    {"allow_only_commas", "[user a]\nauth_hash " HASH_A "\nallow ,,\n", 3,
     "[user a] allow: ", "expected \"*\" or UIDs", NULL},
    {"device_name_bad", "[device " DEV1 "]\nsecret 0123456789abcdef\nname my pi\n", 3,
     "[device " DEV1 "] name: ", "invalid value 'my pi'", NULL},
    {"listen_hostname", "[server]\nlisten localhost:5959\n", 2,
     "listen: ", "invalid value 'localhost:5959': expected a numeric address and port", NULL},
    {"listen_port_bad", "[server]\nlisten 0.0.0.0:0\n", 2, "listen: ", "invalid value", NULL},
    {"alt_port_same", "[server]\nlisten 0.0.0.0:7000\nalt_port 7000\n", 3,
     "alt_port: ", "must differ from the listen port", NULL},
    {"alt_port_same_default", "[server]\nlisten 0.0.0.0:5960\n", 2,
     "alt_port: ", "invalid value '5960': must differ from the listen port", NULL},
    {"alt_port_big", "[server]\nalt_port 65536\n", 2,
     "alt_port: ", "expected a port number from 1 to 65535, or 0 for none", NULL},
    {"alt_address_bad", "[server]\nalt_address 192.0.2\n", 2,
     "alt_address: ", "expected a numeric IPv4 or IPv6 address", NULL},
    {"relay_bad", "[server]\nrelay maybe\n", 2, "relay: ", "expected yes or no", NULL},
    {"rate_limit_zero", "[server]\nrate_limit 0\n", 2,
     "rate_limit: ", "expected packets per second from 1 to 1000000", NULL},
    {"relay_rate_small", "[server]\nrelay_rate 10\n", 2,
     "relay_rate: ", "expected bytes per second from 1000", NULL},
    {"relay_total_negative", "[server]\nrelay_total -1\n", 2, "relay_total: ", "invalid value '-1'",
     NULL},
    {"presence_small", "[server]\npresence_timeout 5\n", 2,
     "presence_timeout: ", "expected seconds from 10 to 86400", NULL},
    {"log_level_bad", "[server]\nlog_level loud\n", 2,
     "log_level: ", "expected error, warn, info or debug", NULL},
    {"key_outside", "listen 0.0.0.0:1\n[server]\n", 1, "listen: ", "key outside a section", NULL},
    {"secret_too_long",
     "[device " DEV1 "]\nsecret "
     "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234"
     "5678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234"
     "567890\n",
     2, "[device " DEV1 "] secret: ", "invalid value (hidden): expected a secret of at most 255",
     "0123456789012345"},
};

static void
test_bad_case(void **state)
{
	const struct bad *b = *state;
	char err[LR_MAX_MSG], where[512];
	struct rdv_conf c;

	if (load(b->text, &c, err, sizeof(err)) != -1)
		fail_msg("case %s: loaded", b->name);
	snprintf(where, sizeof(where), "%s:%d: %s", last_path, b->line, b->start);
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, b->frag) == NULL)
		fail_msg("case %s: got \"%s\"; expected \"%s...%s\"", b->name, err, where, b->frag);
	if (b->secret != NULL && th_any_msg_has(b->secret))
		fail_msg("case %s: a secret value is shown", b->name);
	/* On error nothing is left allocated. */
	assert_int_equal(c.nusers, 0);
	assert_int_equal(c.ndevices, 0);
	assert_null(c.users);
	assert_null(c.devices);
	rdvconf_free(&c);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_allow_forms),
	    cmocka_unit_test(test_listen_ipv6_and_alt_port_off),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_permissions),
	    cmocka_unit_test(test_many_accounts),
	};

	return th_run_group_with_cases("rdvconf", fixed, ARRAY_LEN(fixed), test_bad_case, bad_cases,
				       sizeof(bad_cases[0]), ARRAY_LEN(bad_cases), th_tmpdir_setup,
				       th_tmpdir_teardown);
}
