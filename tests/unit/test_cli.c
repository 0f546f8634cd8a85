/* Tests for worker/cli: connectd's command line (DESIGN section 9 and the
 * seed's examples), the provisioning built from -c, -p, -e and -f, the error
 * message for every bad parameter, and the wiping of credentials from argv. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/keys.h"
#include "common/prov.h"
#include "common/util.h"
#include "worker/cli.h"

/* The seed's one-liner: yourname@example.com / sup3rsekret! in base64. */
#define SEED_USER_B64 "eW91cm5hbWVAZXhhbXBsZS5jb20="
#define SEED_PASS_B64 "c3VwM3JzZWtyZXQh"
#define SEED_USER     "yourname@example.com"
#define SEED_PASS     "sup3rsekret!"
#define SEED_UID      "80:00:00:00:00:00:00:F1"
#define HASH_HEX      "00112233445566778899aabbccddeeff01234567"
#define MAXARGS	      32

/* A mutable argv, as main() gets it. */
struct args {
	int argc;
	char *argv[MAXARGS + 1];
	size_t len[MAXARGS];
};

static void
args_vmake(struct args *a, va_list ap)
{
	const char *s = "connectd";

	memset(a, 0, sizeof(*a));
	for (; s != NULL; s = va_arg(ap, const char *)) {
		assert_true(a->argc < MAXARGS);
		a->len[a->argc] = strlen(s);
		a->argv[a->argc] = test_malloc(a->len[a->argc] + 1);
		memcpy(a->argv[a->argc], s, a->len[a->argc] + 1);
		a->argc++;
	}
	a->argv[a->argc] = NULL;
}

/* args_make(&a, "-f", "x", NULL): argv[0] is "connectd". */
static void
args_make(struct args *a, ...)
{
	va_list ap;

	va_start(ap, a);
	args_vmake(a, ap);
	va_end(ap);
}

static void
args_free(struct args *a)
{
	for (int i = 0; i < a->argc; i++)
		test_free(a->argv[i]);
	memset(a, 0, sizeof(*a));
}

/* argv[i] was wiped: every byte of the original string is zero. */
static int
wiped(const struct args *a, int i)
{
	for (size_t k = 0; k < a->len[i]; k++)
		if (a->argv[i][k] != '\0')
			return 0;
	return 1;
}

static int
parse(struct args *a, struct cli *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return cli_parse(a->argc, a->argv, c, err, errlen);
}

/* Parses and provisions; both must succeed. */
static void
provision_ok(struct args *a, struct cli *c, struct prov *p)
{
	char err[512];

	assert_int_equal(parse(a, c, err, sizeof(err)), 0);
	err[0] = '\0';
	if (cli_provision(c, p, err, sizeof(err)) != 0)
		fail_msg("cli_provision failed: %s", err);
	assert_int_equal(p->mode, PROV_INITIATOR);
}

/* Parses (must succeed) and provisions (must fail with an error holding
 * every one of the given strings). */
static void
provision_err(struct args *a, ...)
{
	struct cli c;
	struct prov p;
	char err[512];
	const char *want;
	va_list ap;

	assert_int_equal(parse(a, &c, err, sizeof(err)), 0);
	memset(&p, 0, sizeof(p));
	err[0] = '\0';
	if (cli_provision(&c, &p, err, sizeof(err)) != -1)
		fail_msg("cli_provision accepted the command line ending in '%s'",
			 a->argv[a->argc - 1]);
	va_start(ap, a);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(err, want) == NULL)
			fail_msg("error '%s' does not mention '%s'", err, want);
	va_end(ap);
	prov_wipe(&p);
	cli_free(&c);
}

/* cli_parse must fail with an error holding every one of the given strings. */
static void
parse_err(struct args *a, ...)
{
	struct cli c;
	char err[512];
	const char *want;
	va_list ap;

	if (parse(a, &c, err, sizeof(err)) != -1)
		fail_msg("cli_parse accepted the command line ending in '%s'",
			 a->argv[a->argc - 1]);
	assert_true(err[0] != '\0');
	va_start(ap, a);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(err, want) == NULL)
			fail_msg("error '%s' does not mention '%s'", err, want);
	va_end(ap);
	cli_free(&c);
}

/* A provisioning file with the given text and mode, in a fresh temp file. */
static void
write_file(char path[64], const char *text, mode_t mode)
{
	int fd;

	snprintf(path, 64, "/tmp/test_cli.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(keys_init(), 0);
	return 0;
}

/* ---- the seed's forms ---- */

static void
test_seed_one_liner(void **state)
{
	struct args a;
	struct cli c;
	struct prov p;
	uint8_t want[AUTH_HASH_LEN];
	char ub[UID_STRLEN];

	(void)state;
	args_make(&a, "-s", "-c", SEED_USER_B64, SEED_PASS_B64, SEED_UID, "T33000", "2", NULL);
	provision_ok(&a, &c, &p);
	assert_int_equal(c.action, CLI_RUN);
	assert_int_equal(c.source, CLI_SRC_C);
	assert_int_equal(c.status_lines, 1);
	assert_int_equal(c.daemonize, 0);
	assert_int_equal(c.npos, 5);
	assert_string_equal(p.user_id, SEED_USER);
	assert_string_equal(uid_format(&p.remote_address, ub), SEED_UID);
	assert_int_equal(p.proxy_local_port, 33000);
	assert_int_equal(p.encryption, 2);
	assert_string_equal(p.proxy_bind_address, "127.0.0.1");
	assert_int_equal(p.max_depth, 12);
	assert_int_equal(p.has_restrict_ip, 0);
	assert_int_equal(p.lifetime, 0);
	assert_int_equal(p.idle_limit, 0);
	assert_int_equal(p.autoconnect, 1);
	/* The password never reaches the provisioning: only its auth_hash. */
	assert_int_equal(p.has_auth_hash, 1);
	assert_int_equal(p.has_auth_pass, 0);
	assert_int_equal(auth_hash_derive(SEED_USER, SEED_PASS, want), 0);
	assert_memory_equal(p.auth_hash, want, AUTH_HASH_LEN);
	/* Credentials wiped from argv; the rest left as it was. */
	assert_true(wiped(&a, 3));
	assert_true(wiped(&a, 4));
	assert_string_equal(a.argv[5], SEED_UID);
	assert_string_equal(a.argv[6], "T33000");
	assert_string_equal(a.argv[2], "-c");
	prov_wipe(&p);
	cli_free(&c);
	args_free(&a);
}

/* -c with every optional parameter: bind, max, lifetime, idle. */
static void
test_c_all_params(void **state)
{
	struct args a;
	struct cli c;
	struct prov p;

	(void)state;
	args_make(&a, "-c", SEED_USER_B64, SEED_PASS_B64, SEED_UID, "T33001", "3", "127.0.0.2",
		  "20", "60", "30", NULL);
	provision_ok(&a, &c, &p);
	assert_int_equal(c.npos, 9);
	assert_int_equal(p.proxy_local_port, 33001);
	assert_int_equal(p.encryption, 3);
	assert_string_equal(p.proxy_bind_address, "127.0.0.2");
	assert_int_equal(p.max_depth, 20);
	assert_int_equal(p.lifetime, 60);
	assert_int_equal(p.idle_limit, 30);
	assert_true(wiped(&a, 2));
	assert_true(wiped(&a, 3));
	prov_wipe(&p);
	cli_free(&c);
	args_free(&a);
}

static void
test_p_all_params(void **state)
{
	struct args a;
	struct cli c;
	struct prov p;
	uint8_t want[AUTH_HASH_LEN];

	(void)state;
	args_make(&a, "-s", "-p", SEED_USER_B64, HASH_HEX, SEED_UID, "T40000", "1", "::1",
		  "192.0.2.7", "25", "5", "120", NULL);
	provision_ok(&a, &c, &p);
	assert_int_equal(c.source, CLI_SRC_P);
	assert_int_equal(c.npos, 10);
	assert_string_equal(p.user_id, SEED_USER);
	assert_int_equal(hex_decode(HASH_HEX, want, sizeof(want)), 0);
	assert_int_equal(p.has_auth_hash, 1);
	assert_memory_equal(p.auth_hash, want, AUTH_HASH_LEN);
	assert_int_equal(p.proxy_local_port, 40000);
	assert_int_equal(p.encryption, 1);
	assert_string_equal(p.proxy_bind_address, "::1");
	assert_string_equal(p.restrict_ip, "192.0.2.7");
	assert_int_equal(p.has_restrict_ip, 1);
	assert_int_equal(p.max_depth, 25);
	assert_int_equal(p.lifetime, 5);
	assert_int_equal(p.idle_limit, 120);
	assert_true(wiped(&a, 3)); /* user */
	assert_true(wiped(&a, 4)); /* auth_hash */
	assert_string_equal(a.argv[5], SEED_UID);
	prov_wipe(&p);
	cli_free(&c);
	args_free(&a);

	/* The shortest -p, and a lowercase t. */
	args_make(&a, "-p", SEED_USER_B64, HASH_HEX, SEED_UID, "t33000", "2", NULL);
	provision_ok(&a, &c, &p);
	assert_int_equal(p.proxy_local_port, 33000);
	assert_string_equal(p.proxy_bind_address, "127.0.0.1");
	assert_int_equal(p.has_restrict_ip, 0);
	assert_int_equal(p.max_depth, 12);
	prov_wipe(&p);
	cli_free(&c);
	args_free(&a);
}

/* ---- every bad parameter ---- */

static void
test_bad_params_p(void **state)
{
	struct args a;

	(void)state;
#define P_BAD(...)                                                                                 \
	do {                                                                                       \
		args_make(&a, "-p", __VA_ARGS__, NULL);                                            \
	} while (0)
	P_BAD("!!notbase64", HASH_HEX, SEED_UID, "T33000", "2");
	provision_err(&a, "-p parameter 1 (user)", NULL);
	assert_true(wiped(&a, 2)); /* wiped even when refused */
	assert_true(wiped(&a, 3));
	args_free(&a);
	P_BAD("", HASH_HEX, SEED_UID, "T33000", "2");
	provision_err(&a, "parameter 1 (user)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, "0011", SEED_UID, "T33000", "2");
	provision_err(&a, "parameter 2 (auth_hash)", "40 hex digits", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, "zz112233445566778899aabbccddeeff01234567", SEED_UID, "T33000", "2");
	provision_err(&a, "parameter 2 (auth_hash)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, "80:00:00:00:00:00:00", "T33000", "2");
	provision_err(&a, "parameter 3 (UID)", "'80:00:00:00:00:00:00'", NULL);
	assert_true(wiped(&a, 2));
	assert_true(wiped(&a, 3));
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, "80:00:00:00:00:00:00:G1", "T33000", "2");
	provision_err(&a, "parameter 3 (UID)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "X33000", "2");
	provision_err(&a, "parameter 4 (local port)", "'X33000'", "T33000", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "33000", "2");
	provision_err(&a, "parameter 4 (local port)", "'33000'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T0", "2");
	provision_err(&a, "parameter 4 (local port)", "'T0'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T70000", "2");
	provision_err(&a, "parameter 4 (local port)", "'T70000'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T", "2");
	provision_err(&a, "parameter 4 (local port)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "4");
	provision_err(&a, "parameter 5 (encryption)", "'4'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "x");
	provision_err(&a, "parameter 5 (encryption)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "localhost");
	provision_err(&a, "parameter 6 (bind address)", "'localhost'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "300.1.2.3");
	provision_err(&a, "parameter 6 (bind address)", "'300.1.2.3'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1", "any");
	provision_err(&a, "parameter 7 (restrict ip)", "'any'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1", "0.0.0.0", "0");
	provision_err(&a, "parameter 8 (max outstanding)", "'0'", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1", "0.0.0.0", "257");
	provision_err(&a, "parameter 8 (max outstanding)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1", "0.0.0.0", "12", "-1");
	provision_err(&a, "parameter 9 (lifetime)", NULL);
	args_free(&a);
	P_BAD(SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1", "0.0.0.0", "12", "0",
	      "ten");
	provision_err(&a, "parameter 10 (idle limit)", "'ten'", NULL);
	args_free(&a);
#undef P_BAD
}

static void
test_bad_params_c(void **state)
{
	struct args a;

	(void)state;
	args_make(&a, "-c", SEED_USER_B64, "not*base64", SEED_UID, "T33000", "2", NULL);
	provision_err(&a, "-c parameter 2 (password)", NULL);
	assert_true(wiped(&a, 2));
	assert_true(wiped(&a, 3));
	args_free(&a);
	/* Parameter 6 of -c is the bind address, 7 max outstanding (no restrict ip). */
	args_make(&a, "-c", SEED_USER_B64, SEED_PASS_B64, SEED_UID, "T33000", "2", "127.0.0.1", "0",
		  NULL);
	provision_err(&a, "-c parameter 7 (max outstanding)", "'0'", NULL);
	assert_true(wiped(&a, 2));
	assert_true(wiped(&a, 3));
	args_free(&a);
}

static void
test_param_count(void **state)
{
	struct args a;

	(void)state;
	/* -c takes at most 9: a 10th is refused, naming it. */
	args_make(&a, "-c", SEED_USER_B64, "eA==", SEED_UID, "T33000", "2", "127.0.0.1", "12", "0",
		  "0", "extra", NULL);
	provision_err(&a, "unexpected parameter", "'extra'", NULL);
	args_free(&a);
	/* More than 10: refused while parsing (exit 64). */
	args_make(&a, "-p", SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", "127.0.0.1",
		  "0.0.0.0", "12", "0", "0", "extra", NULL);
	parse_err(&a, "-p", "too many parameters", NULL);
	args_free(&a);
	/* Fewer than 5. */
	args_make(&a, "-c", SEED_USER_B64, SEED_PASS_B64, SEED_UID, "T33000", NULL);
	parse_err(&a, "-c", "at least 5", NULL);
	args_free(&a);
	args_make(&a, "-s", "-p", NULL);
	parse_err(&a, "-p", "at least 5", NULL);
	args_free(&a);
}

/* -c / -p must come last: an option after them is named as the problem,
 * at parse time or at the latest when provisioning, never taken as a
 * bind address or a lifetime. */
static void
c_not_last(const char *opt, const char *after)
{
	struct args a;
	struct cli c;
	struct prov p;
	char err[512];
	const char *second = strcmp(opt, "-c") == 0 ? SEED_PASS_B64 : HASH_HEX;

	args_make(&a, opt, SEED_USER_B64, second, SEED_UID, "T33000", "2", after, NULL);
	if (parse(&a, &c, err, sizeof(err)) == 0) {
		memset(&p, 0, sizeof(p));
		if (cli_provision(&c, &p, err, sizeof(err)) == 0)
			fail_msg("'%s' after %s was accepted", after, opt);
		prov_wipe(&p);
	}
	if (strstr(err, "last") == NULL || strstr(err, after) == NULL)
		fail_msg("error '%s' should say that %s must come last and name '%s'", err, opt,
			 after);
	cli_free(&c);
	args_free(&a);
}

static void
test_c_not_last(void **state)
{
	(void)state;
	c_not_last("-p", "-s");
	c_not_last("-p", "-d");
	c_not_last("-c", "-s");
}

/* A user name is one token: a decoded user holding a newline (or other
 * control or space characters) must be refused as parameter 1, not turned
 * into extra provisioning lines. */
static void
test_user_injection(void **state)
{
	static const char *const users[] = {
	    "bob\nserver 192.0.2.1:9",
	    "bob\nproxy_bind_address 0.0.0.0",
	    "bob smith",
	    "bob\tsmith",
	};
	struct args a;
	char b64[128];

	(void)state;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		b64_encode((const uint8_t *)users[i], strlen(users[i]), b64);
		args_make(&a, "-p", b64, HASH_HEX, SEED_UID, "T33000", "2", NULL);
		print_message("user %zu\n", i);
		provision_err(&a, "parameter 1 (user)", NULL);
		assert_true(wiped(&a, 2));
		args_free(&a);
	}
}

/* ---- options ---- */

static void
test_option_errors(void **state)
{
	struct args a;

	(void)state;
	args_make(&a, "-x", "-f", "x.conf", NULL);
	parse_err(&a, "unknown option '-x'", NULL);
	args_free(&a);
	args_make(&a, "--frobnicate", NULL);
	parse_err(&a, "'--frobnicate'", NULL);
	args_free(&a);
	args_make(&a, "-f", NULL);
	parse_err(&a, "-f needs an argument", NULL);
	args_free(&a);
	args_make(&a, "-s", "-e", NULL);
	parse_err(&a, "-e needs an argument", NULL);
	args_free(&a);
	args_make(&a, "-f", "x.conf", "-y", NULL);
	parse_err(&a, "-y needs an argument", NULL);
	args_free(&a);
	args_make(&a, "--hash", "user", NULL);
	parse_err(&a, "--hash", NULL);
	args_free(&a);
	args_make(&a, NULL);
	parse_err(&a, "nothing to do", NULL);
	args_free(&a);
	args_make(&a, "-s", "-d", NULL);
	parse_err(&a, "nothing to do", NULL);
	args_free(&a);
	args_make(&a, "--check", NULL);
	parse_err(&a, "nothing to do", NULL);
	args_free(&a);
	args_make(&a, "-e", "not base64!", NULL);
	parse_err(&a, "-e", "base64", NULL);
	args_free(&a);
}

/* Two provisioning sources: one would be silently ignored. */
static void
test_two_sources(void **state)
{
	struct args a;

	(void)state;
	args_make(&a, "-f", "a.conf", "-f", "b.conf", NULL);
	parse_err(&a, "-f", NULL);
	args_free(&a);
	args_make(&a, "-f", "a.conf", "-p", SEED_USER_B64, HASH_HEX, SEED_UID, "T33000", "2", NULL);
	parse_err(&a, "-f", "-p", NULL);
	args_free(&a);
}

static void
test_daemonize(void **state)
{
	struct args a;
	struct cli c;
	char err[512];

	(void)state;
	args_make(&a, "-d", "/run/connectd.pid", "-f", "x.conf", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.daemonize, 1);
	assert_non_null(c.pidfile);
	assert_string_equal(c.pidfile, "/run/connectd.pid");
	assert_string_equal(c.file, "x.conf");
	cli_free(&c);
	args_free(&a);

	args_make(&a, "-d", "-f", "x.conf", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.daemonize, 1);
	assert_null(c.pidfile);
	assert_string_equal(c.file, "x.conf");
	cli_free(&c);
	args_free(&a);

	args_make(&a, "-f", "x.conf", "-d", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.daemonize, 1);
	assert_null(c.pidfile);
	cli_free(&c);
	args_free(&a);

	/* -d before -c: the pid file, then the positional parameters. */
	args_make(&a, "-d", "/tmp/p.pid", "-c", SEED_USER_B64, SEED_PASS_B64, SEED_UID, "T33000",
		  "2", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.daemonize, 1);
	assert_string_equal(c.pidfile, "/tmp/p.pid");
	assert_int_equal(c.source, CLI_SRC_C);
	assert_int_equal(c.npos, 5);
	assert_string_equal(c.pos[0], SEED_USER_B64);
	cli_free(&c);
	args_free(&a);
}

static void
test_actions(void **state)
{
	struct args a;
	struct cli c;
	char err[512];

	(void)state;
	args_make(&a, "--hash", "alice@example.com", "pw", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_HASH);
	assert_string_equal(c.hash_user, "alice@example.com");
	assert_string_equal(c.hash_pass, "pw");
	assert_true(wiped(&a, 3)); /* the password no longer shows in ps */
	assert_false(wiped(&a, 2));
	cli_free(&c);
	assert_null(c.hash_pass);
	args_free(&a);

	args_make(&a, "-n", "-y", "192.0.2.1:5959", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_DIAG);
	assert_string_equal(c.server, "192.0.2.1:5959");
	cli_free(&c);
	args_free(&a);

	args_make(&a, "-h", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_HELP);
	cli_free(&c);
	args_free(&a);
	args_make(&a, "--help", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_HELP);
	cli_free(&c);
	args_free(&a);
	args_make(&a, "--version", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_VERSION);
	cli_free(&c);
	args_free(&a);

	args_make(&a, "-v", "--no-sandbox", "-s", "-y", "rdv.example.com", "--check", "-f",
		  "x.conf", NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.action, CLI_CHECK);
	assert_int_equal(c.source, CLI_SRC_FILE);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(c.no_sandbox, 1);
	assert_int_equal(c.status_lines, 1);
	assert_string_equal(c.server, "rdv.example.com");
	cli_free(&c);
	args_free(&a);
}

/* -e: the provisioning text in base64; its argument is wiped at once. */
static void
test_e_text(void **state)
{
	static const char text[] = "user_id alice@example.com\n"
				   "auth_hash " HASH_HEX "\n"
				   "remote_address 80:00:00:00:01:00:0A:C2\n"
				   "proxy_local_port 33005\n";
	char b64[512];
	struct args a;
	struct cli c;
	struct prov p;
	char err[512];

	(void)state;
	b64_encode((const uint8_t *)text, strlen(text), b64);
	args_make(&a, "-s", "-e", b64, NULL);
	assert_int_equal(parse(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.source, CLI_SRC_TEXT);
	assert_true(wiped(&a, 3));
	assert_int_equal(c.textlen, strlen(text));
	assert_int_equal(cli_provision(&c, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mode, PROV_INITIATOR);
	assert_string_equal(p.user_id, "alice@example.com");
	assert_int_equal(p.proxy_local_port, 33005);
	assert_int_equal(p.has_auth_hash, 1);
	prov_wipe(&p);
	cli_free(&c);
	assert_null(c.text);
	args_free(&a);

	/* A bad provisioning text: the error names the key. */
	b64_encode((const uint8_t *)"user_id a\nproxy_local_port 0\n", 29, b64);
	args_make(&a, "-e", b64, NULL);
	provision_err(&a, "proxy_local_port", NULL);
	args_free(&a);
}

static void
test_f_file(void **state)
{
	static const char text[] = "user_id alice@example.com\n"
				   "auth_hash " HASH_HEX "\n"
				   "remote_address 80:00:00:00:01:00:0A:C2\n"
				   "proxy_local_port 33006\n";
	char path[64];
	struct args a;
	struct cli c;
	struct prov p;

	(void)state;
	write_file(path, text, 0600);
	args_make(&a, "-f", path, NULL);
	provision_ok(&a, &c, &p);
	assert_int_equal(c.source, CLI_SRC_FILE);
	assert_int_equal(p.proxy_local_port, 33006);
	assert_string_equal(a.argv[2], path); /* a path is not a secret */
	prov_wipe(&p);
	cli_free(&c);
	args_free(&a);
	/* Credentials readable by others: refused, telling how to fix it. */
	assert_int_equal(chmod(path, 0644), 0);
	args_make(&a, "-f", path, NULL);
	provision_err(&a, "chmod 600", NULL);
	args_free(&a);
	unlink(path);
	args_make(&a, "-f", "/nonexistent/p2pd/x.conf", NULL);
	provision_err(&a, "/nonexistent/p2pd/x.conf", NULL);
	args_free(&a);
}

static void
test_usage(void **state)
{
	static const char *const opts[] = {"-f", "-e",	      "-c",	     "-p",	"-s",
					   "-d", "-y",	      "-n",	     "--check", "--hash",
					   "-h", "--version", "--no-sandbox"};
	char buf[8192];
	FILE *f;
	size_t n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	assert_non_null(f);
	cli_usage(f);
	n = (size_t)ftell(f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(buf) - 1);
	assert_non_null(strstr(buf, "usage: connectd"));
	/* Each option starts a line of the option list ("  -s  ...", "  -h, ..."). */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char want[32];
		const char *at = buf;
		size_t len;
		int found = 0;
		snprintf(want, sizeof(want), "\n  %s", opts[i]);
		len = strlen(want);
		while ((at = strstr(at, want)) != NULL) {
			if (at[len] == ' ' || at[len] == ',')
				found = 1;
			at += len;
		}
		if (!found)
			fail_msg("connectd -h does not describe %s", opts[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_one_liner), cmocka_unit_test(test_c_all_params),
	    cmocka_unit_test(test_p_all_params),   cmocka_unit_test(test_bad_params_p),
	    cmocka_unit_test(test_bad_params_c),   cmocka_unit_test(test_param_count),
	    cmocka_unit_test(test_c_not_last),	   cmocka_unit_test(test_user_injection),
	    cmocka_unit_test(test_option_errors),  cmocka_unit_test(test_two_sources),
	    cmocka_unit_test(test_daemonize),	   cmocka_unit_test(test_actions),
	    cmocka_unit_test(test_e_text),	   cmocka_unit_test(test_f_file),
	    cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
