/* Tests of p2pd.conf parsing and the conf.d listing (common/p2pdconf). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/p2pdconf.h"
#include "common/util.h"
#include "tests/unit/helper_test.h"

static int
load(const char *text, struct p2pd_conf *c, char *err, size_t errlen)
{
	th_capture_reset();
	return p2pdconf_load_diag(th_write_tmp(th_tmpdir, text, strlen(text), 0600), 1,
				  &th_capture_diag, c, err, errlen);
}

static void
assert_defaults(const struct p2pd_conf *c)
{
	assert_string_equal(c->conf_dir, "/etc/p2pd/conf.d");
	assert_string_equal(c->control_socket, "/run/p2pd/control.sock");
	assert_string_equal(c->control_group, "p2pd");
	assert_string_equal(c->worker_user, "p2pd");
	assert_string_equal(c->worker_binary, CONNECTD_PATH);
	assert_int_equal(c->restart_min, 1);
	assert_int_equal(c->restart_max, 60);
	assert_string_equal(c->server, "");
	assert_int_equal(c->log_level, LOG_LVL_INFO);
}

static void
test_missing_file(void **state)
{
	char path[128], err[512], want[512];
	struct p2pd_conf c;

	(void)state;
	snprintf(path, sizeof(path), "%s/none.conf", th_tmpdir);
	th_capture_reset();
	/* The default file may be missing: defaults, no error. */
	assert_int_equal(p2pdconf_load_diag(path, 0, &th_capture_diag, &c, err, sizeof(err)), 0);
	assert_defaults(&c);
	assert_string_equal(c.source, "");
	assert_int_equal(th_count_msgs(CONF_DEBUG, "not found; using the defaults", NULL), 1);
	/* A file named with -c must exist. */
	assert_int_equal(p2pdconf_load(path, 1, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	/* Other errors are errors even for the default file. */
	assert_int_equal(p2pdconf_load(th_tmpdir, 0, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(EISDIR)));
}

static void
test_empty_file(void **state)
{
	struct p2pd_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("# nothing here\n", &c, err, sizeof(err)), 0);
	assert_defaults(&c);
	assert_int_equal(th_cap.n, 0);
}

static void
test_all_keys(void **state)
{
	struct p2pd_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("; p2pd.conf\n"
			      "[supervisor]\n"
			      "conf_dir = /srv/p2pd/conf.d\n"
			      "control_socket = /tmp/p2pd.sock\n"
			      "control_group = wheel\n"
			      "worker_user = _p2pd\n"
			      "worker_binary = /opt/p2pd/bin/connectd\n"
			      "restart_min = 2\n"
			      "restart_max = 300\n"
			      "server = [2001:db8::1]:7000\n"
			      "log_level debug\n",
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(th_cap.n, 0);
	assert_string_equal(c.conf_dir, "/srv/p2pd/conf.d");
	assert_string_equal(c.control_socket, "/tmp/p2pd.sock");
	assert_string_equal(c.control_group, "wheel");
	assert_string_equal(c.worker_user, "_p2pd");
	assert_string_equal(c.worker_binary, "/opt/p2pd/bin/connectd");
	assert_int_equal(c.restart_min, 2);
	assert_int_equal(c.restart_max, 300);
	assert_string_equal(c.server, "[2001:db8::1]:7000");
	assert_string_equal(c.server_host, "2001:db8::1");
	assert_int_equal(c.server_port, 7000);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_non_null(strstr(c.source, th_tmpdir));
}

static void
test_warnings(void **state)
{
	struct p2pd_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("[supervisor]\n"
			      "restart_max = 10\n"
			      "colour = blue\n"
			      "restart_max = 20\n"
			      "[other]\n"
			      "anything = at all\n"
			      "[supervisor]\n"
			      "log_level = warn\n",
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.restart_max, 20);
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	assert_int_equal(c.nwarnings, 3);
	assert_int_equal(th_count_msgs(CONF_WARNING, ":3: colour: unknown key (ignored)", NULL), 1);
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       ":4: restart_max: duplicate key (already set at "
				       "line 2); the last one, line 4, is used",
				       NULL),
			 1);
	assert_int_equal(th_count_msgs(CONF_WARNING, ":5: [other]: unknown section", NULL), 1);
}

struct bad {
	const char *name;
	const char *text;
	int line;
	const char *key;
	const char *frag;
};

static const struct bad bad_cases[] = {
    {"conf_dir_relative", "[supervisor]\nconf_dir = conf.d\n", 2, "conf_dir",
     "invalid value 'conf.d': expected an absolute path"},
    {"socket_relative", "[supervisor]\ncontrol_socket = run/x.sock\n", 2, "control_socket",
     "expected an absolute path short enough for a UNIX socket"},
    {"socket_too_long",
     "[supervisor]\ncontrol_socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
     2, "control_socket", "short enough for a UNIX socket"},
    {"group_bad", "[supervisor]\ncontrol_group = wheel staff\n", 2, "control_group",
     "invalid value 'wheel staff': expected a user or group name"},
    {"user_dash", "[supervisor]\nworker_user = -p2pd\n", 2, "worker_user", "not starting with '-'"},
    {"user_long", "[supervisor]\nworker_user = abcdefghijklmnopqrstuvwxyz0123456\n", 2,
     "worker_user", "1 to 32 characters"},
    {"binary_relative", "[supervisor]\nworker_binary = connectd\n", 2, "worker_binary",
     "expected an absolute path"},
    {"restart_min_zero", "[supervisor]\nrestart_min = 0\n", 2, "restart_min",
     "invalid value '0': expected seconds from 1 to 3600"},
    {"restart_min_negative", "[supervisor]\nrestart_min = -1\n", 2, "restart_min",
     "invalid value '-1'"},
    {"restart_max_abc", "[supervisor]\nrestart_max = abc\n", 2, "restart_max",
     "expected seconds from 1 to 86400"},
    {"restart_max_below_min", "[supervisor]\nrestart_min = 30\nrestart_max = 10\n", 3,
     "restart_max", "invalid value '10': must be at least restart_min (30)"},
    {"restart_min_above_default_max", "[supervisor]\nrestart_min = 100\n", 2, "restart_min",
     "invalid value '100': must not exceed restart_max (60)"},
    {"log_level_bad", "[supervisor]\nlog_level = verbose\n", 2, "log_level",
     "invalid value 'verbose': expected error, warn, info or debug"},
    {"server_bad", "[supervisor]\nserver = rdv.example.net:99999\n", 2, "server",
     "expected host[:port]"},
    {"key_outside", "conf_dir = /x\n[supervisor]\n", 1, "conf_dir",
     "key outside a section; put it under [supervisor]"},
    {"bad_header", "[supervisor\nconf_dir = /x\n", 1, NULL, "malformed section header"},
    {"only_key", "[supervisor]\nconf_dir\n", 2, "conf_dir", "missing value"},
    {"nul_byte", "[supervisor]\nlog_level = de\x01ug\n", 2, "log_level", "control character 0x01"},
};

static void
test_bad_case(void **state)
{
	const struct bad *b = *state;
	char err[LR_MAX_MSG], where[256];
	const char *path;
	struct p2pd_conf c;

	th_capture_reset();
	path = th_write_tmp(th_tmpdir, b->text, strlen(b->text), 0600);
	assert_int_equal(p2pdconf_load_diag(path, 1, &th_capture_diag, &c, err, sizeof(err)), -1);
	if (b->key != NULL)
		snprintf(where, sizeof(where), "%s:%d: %s: ", path, b->line, b->key);
	else
		snprintf(where, sizeof(where), "%s:%d: ", path, b->line);
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, b->frag) == NULL)
		fail_msg("case %s: got \"%s\"; expected \"%s...%s\"", b->name, err, where, b->frag);
	assert_int_equal(th_count_msgs(CONF_ERROR, err, NULL), 1);
}

/* ---- conf.d listing ---------------------------------------------------- */

static void
touch(const char *dir, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void
test_list_files(void **state)
{
	static const char *const ignored[] = {
	    ".hidden.conf",  ".conf",	    "x.conf~",	       "y.conf.swp",
	    "z.conf.bak",    "w.conf.orig", "v.conf.dpkg-old", "u.conf.dpkg-dist",
	    "t.conf.rpmnew", "#e.conf#",    "notes.txt",       "conf",
	    "s.conf.tmp",
	};
	char dir[128], a[256], b[256], err[512];
	struct conf_files f;
	size_t nign = sizeof(ignored) / sizeof(ignored[0]);

	(void)state;
	snprintf(dir, sizeof(dir), "%s/conf.d", th_tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	touch(dir, "b.conf");
	touch(dir, "a.conf");
	touch(dir, "A-upper.conf");
	for (size_t i = 0; i < nign; i++)
		touch(dir, ignored[i]);
	snprintf(a, sizeof(a), "%s/sub.conf", dir);
	assert_int_equal(mkdir(a, 0700), 0);
	snprintf(a, sizeof(a), "%s/a.conf", dir);
	snprintf(b, sizeof(b), "%s/link.conf", dir);
	assert_int_equal(symlink(a, b), 0);
	snprintf(a, sizeof(a), "%s/nowhere", dir);
	snprintf(b, sizeof(b), "%s/dangling.conf", dir);
	assert_int_equal(symlink(a, b), 0);

	th_capture_reset();
	assert_int_equal(p2pdconf_list_files(dir, &f, &th_capture_diag, err, sizeof(err)), 0);
	assert_int_equal(f.n, 4);
	snprintf(a, sizeof(a), "%s/A-upper.conf", dir);
	assert_string_equal(f.paths[0], a);
	snprintf(a, sizeof(a), "%s/a.conf", dir);
	assert_string_equal(f.paths[1], a);
	snprintf(a, sizeof(a), "%s/b.conf", dir);
	assert_string_equal(f.paths[2], a);
	snprintf(a, sizeof(a), "%s/link.conf", dir);
	assert_string_equal(f.paths[3], a);
	/* Every other name was reported as a debug note naming it. */
	assert_int_equal(th_cap.n, (int)nign + 2);
	for (size_t i = 0; i < nign; i++) {
		char q[64];
		snprintf(q, sizeof(q), "ignoring '%s': ", ignored[i]);
		if (th_count_msgs(CONF_DEBUG, q, NULL) != 1)
			fail_msg("no debug note for %s", ignored[i]);
	}
	assert_int_equal(th_count_msgs(CONF_DEBUG, "ignoring 'sub.conf': not a regular file", NULL),
			 1);
	assert_int_equal(th_count_msgs(CONF_DEBUG, "ignoring 'dangling.conf': ", NULL), 1);
	assert_int_equal(th_count_msgs(CONF_DEBUG, "'x.conf~': an editor backup", NULL), 1);
	assert_int_equal(
	    th_count_msgs(CONF_DEBUG, "'v.conf.dpkg-old': a package manager's copy", NULL), 1);
	assert_int_equal(th_count_msgs(CONF_DEBUG, "'notes.txt': not named *.conf", NULL), 1);
	p2pdconf_files_free(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.paths);
}

static void
test_list_empty_and_missing(void **state)
{
	char dir[128], err[512];
	struct conf_files f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/empty.d", th_tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(p2pdconf_list_files(dir, &f, NULL, err, sizeof(err)), 0);
	assert_int_equal(f.n, 0);
	p2pdconf_files_free(&f);

	snprintf(dir, sizeof(dir), "%s/missing.d", th_tmpdir);
	assert_int_equal(p2pdconf_list_files(dir, &f, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(f.n, 0);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_missing_file), cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_all_keys),	 cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_list_files),	 cmocka_unit_test(test_list_empty_and_missing),
	};

	return th_run_group_with_cases("p2pdconf", fixed, ARRAY_LEN(fixed), test_bad_case,
				       bad_cases, sizeof(bad_cases[0]), ARRAY_LEN(bad_cases),
				       th_tmpdir_setup, th_tmpdir_teardown);
}
