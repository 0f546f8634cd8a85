/* Tests of the supervisor's conf.d scan (supervisor/scan), the "p2pd -n"
 * check (supervisor/check) and the restart backoff (sup_backoff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "supervisor/check.h"
#include "supervisor/scan.h"
#include "supervisor/sup.h"

static char tmpdir[64];
static char confdir[128];

static const char *
path_of(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", confdir, name);
	return p[i];
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void
target(const char *name, const char *uid, int autoconnect)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "UID %s\nsecret 0123456789abcdef0123\nproxy_dest_port 22\nautoconnect %d\n", uid,
		 autoconnect);
	write_file(name, text, 0600);
}

static void
initiator(const char *name, const char *uid)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "autoconnect 2\nuser_id u@example.com\nauth_hash "
		 "0123456789abcdef0123456789abcdef01234567\nremote_address %s\nproxy_local_port "
		 "33000\n",
		 uid);
	write_file(name, text, 0600);
}

static void
rm_all(void)
{
	const char *names[] = {"a.conf",   "b.conf",	"c.conf",	"d.conf",
			       "dup.conf", "e.conf~",	".hidden.conf", "notes.txt",
			       "z.conf",   "p2pd.conf", "perm.conf",	NULL};

	for (int i = 0; names[i] != NULL; i++)
		unlink(path_of(names[i]));
}

static int
setup(void **state)
{
	(void)state;
	rm_all();
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	if (sodium_init() == -1)
		return -1;
	log_init("test", LOG_LVL_ERROR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sup_scanXXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(confdir, sizeof(confdir), "%s/conf.d", tmpdir);
	return mkdir(confdir, 0700);
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_all();
	rmdir(confdir);
	rmdir(tmpdir);
	return 0;
}

static const struct scan_entry *
entry(const struct scan *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].path, path_of(name)) == 0)
			return &s->e[i];
	fail_msg("no entry for %s", name);
	return NULL;
}

static int
has_invalid(const struct scan *s, const char *name, int line, const char *frag)
{
	for (size_t i = 0; i < s->ninv; i++)
		if (strcmp(s->inv[i].file, path_of(name)) == 0 && s->inv[i].line == line &&
		    strstr(s->inv[i].reason, frag) != NULL)
			return 1;
	return 0;
}

static void
test_scan_files(void **state)
{
	const struct scan_entry *e;
	struct scan s;
	char u[UID_STRLEN];

	(void)state;
	target("a.conf", "80:00:00:00:01:00:00:01", 2);
	initiator("b.conf", "80:00:00:00:01:00:00:02");
	write_file("c.conf", "UID 80:00:00:00:01:00:00:03\nsecret x\nproxy_dest_port no\n", 0600);
	target("e.conf~", "80:00:00:00:01:00:00:04", 2);
	target(".hidden.conf", "80:00:00:00:01:00:00:05", 2);
	write_file("notes.txt", "hello\n", 0600);
	target("perm.conf", "80:00:00:00:01:00:00:06", 2);
	assert_int_equal(chmod(path_of("perm.conf"), 0644), 0);
	assert_int_equal(scan_dir(confdir, NULL, NULL, NULL, &s), 0);
	assert_int_equal(s.n, 4); /* a, b, c, perm */
	e = entry(&s, "a.conf");
	assert_true(e->valid);
	assert_int_equal(e->mode, PROV_TARGET);
	assert_int_equal(e->autoconnect, 2);
	assert_string_equal(scan_uid_text(e, u), "80:00:00:00:01:00:00:01");
	assert_string_equal(e->name, "a");
	e = entry(&s, "b.conf");
	assert_true(e->valid);
	assert_int_equal(e->mode, PROV_INITIATOR);
	assert_string_equal(scan_uid_text(e, u), "80:00:00:00:01:00:00:02");
	e = entry(&s, "c.conf");
	assert_false(e->valid);
	assert_int_equal(e->mode, PROV_NONE);
	assert_true(has_invalid(&s, "c.conf", 3, "proxy_dest_port: invalid value 'no'"));
	e = entry(&s, "perm.conf");
	assert_false(e->valid);
	assert_true(has_invalid(&s, "perm.conf", 0, "chmod 600"));
	scan_free(&s);
	assert_null(s.e);
	assert_int_equal(s.n, 0);
}

static void
test_scan_hash(void **state)
{
	uint8_t h1[SCAN_HASH_LEN], h2[SCAN_HASH_LEN];
	struct scan s;

	(void)state;
	target("a.conf", "80:00:00:00:01:00:00:01", 2);
	assert_int_equal(scan_dir(confdir, NULL, NULL, NULL, &s), 0);
	memcpy(h1, s.e[0].hash, sizeof(h1));
	scan_free(&s);
	/* Same bytes (a new mtime): same hash. */
	target("a.conf", "80:00:00:00:01:00:00:01", 2);
	assert_int_equal(scan_dir(confdir, NULL, NULL, NULL, &s), 0);
	assert_memory_equal(h1, s.e[0].hash, sizeof(h1));
	scan_free(&s);
	/* A comment more: another hash. */
	write_file("a.conf",
		   "UID 80:00:00:00:01:00:00:01\nsecret 0123456789abcdef0123\nproxy_dest_port "
		   "22\nautoconnect 2\n# note\n",
		   0600);
	assert_int_equal(scan_dir(confdir, NULL, NULL, NULL, &s), 0);
	memcpy(h2, s.e[0].hash, sizeof(h2));
	assert_memory_not_equal(h1, h2, sizeof(h1));
	scan_free(&s);
}

static const char *owner_path;

static const char *
owner(void *arg, const p2p_uid *uid)
{
	(void)arg;
	(void)uid;
	return owner_path;
}

static void
test_scan_duplicates(void **state)
{
	struct scan s;

	(void)state;
	target("b.conf", "80:00:00:00:01:00:00:07", 2);
	initiator("dup.conf", "80:00:00:00:01:00:00:07");
	target("z.conf", "80:00:00:00:01:00:00:07", 1);
	/* At start: the first file by name wins. */
	owner_path = NULL;
	assert_int_equal(scan_dir(confdir, NULL, owner, NULL, &s), 0);
	assert_true(entry(&s, "b.conf")->valid);
	assert_false(entry(&s, "dup.conf")->valid);
	assert_true(entry(&s, "dup.conf")->dup);
	assert_true(entry(&s, "z.conf")->dup);
	assert_true(has_invalid(&s, "dup.conf", 0, "is already provided by"));
	assert_true(has_invalid(&s, "z.conf", 0, "/b.conf; this file is ignored"));
	scan_free(&s);
	/* On reload: the file that runs the UID keeps it. */
	owner_path = path_of("z.conf");
	assert_int_equal(scan_dir(confdir, NULL, owner, NULL, &s), 0);
	assert_true(entry(&s, "z.conf")->valid);
	assert_true(entry(&s, "b.conf")->dup);
	assert_true(entry(&s, "dup.conf")->dup);
	assert_true(has_invalid(&s, "b.conf", 0, "/z.conf; this file is ignored"));
	scan_free(&s);
	/* ... unless that file is gone from the list: then the first again. */
	owner_path = "/nonexistent/x.conf";
	assert_int_equal(scan_dir(confdir, NULL, owner, NULL, &s), 0);
	assert_true(entry(&s, "b.conf")->valid);
	scan_free(&s);
}

static void
test_scan_no_dir(void **state)
{
	struct scan s;

	(void)state;
	assert_int_equal(scan_dir("/nonexistent/conf.d", NULL, NULL, NULL, &s), -1);
	assert_true(s.dir_failed);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.ninv, 1);
	assert_string_equal(s.inv[0].file, "/nonexistent/conf.d");
	assert_non_null(strstr(s.inv[0].reason, "No such file or directory"));
	scan_free(&s);
}

/* Runs check_config on a p2pd.conf with text; returns its output. */
static char *
run_check(const char *conf_text, int *rc)
{
	static char out[8192];
	char conf[256];
	FILE *f;
	size_t n;

	snprintf(conf, sizeof(conf), "%s/p2pd.conf", tmpdir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "%s", conf_text);
	fclose(f);
	f = tmpfile();
	assert_non_null(f);
	*rc = check_config(conf, 1, 0, f);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(conf);
	return out;
}

static void
test_check_config(void **state)
{
	char conf[512], want[512];
	const char *out;
	int rc;

	(void)state;
	snprintf(conf, sizeof(conf), "[supervisor]\nconf_dir = %s\nworker_binary = /bin/true\n",
		 confdir);
	target("a.conf", "80:00:00:00:01:00:00:01", 2);
	initiator("b.conf", "80:00:00:00:01:00:00:02");
	target("e.conf~", "80:00:00:00:01:00:00:04", 2);
	out = run_check(conf, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want),
		 "%s/p2pd.conf: ok\n"
		 "%s: ok (target 80:00:00:00:01:00:00:01, autoconnect 2)\n"
		 "%s: ok (initiator 80:00:00:00:01:00:00:02, autoconnect 2)\n"
		 "configuration OK\n",
		 tmpdir, path_of("a.conf"), path_of("b.conf"));
	assert_string_equal(out, want);
	/* Every error of every file, each with file:line, warnings marked. */
	write_file("c.conf",
		   "UID 80:00:00:00:01:00:00:03\nsecret 0123456789abcdef0123\nproxy_dest_port "
		   "no\nautoconnect 9\ncolour blue\n",
		   0600);
	target("dup.conf", "80:00:00:00:01:00:00:01", 2);
	out = run_check(conf, &rc);
	assert_int_equal(rc, EXIT_CONFIG);
	snprintf(want, sizeof(want), "%s:3: proxy_dest_port: invalid value 'no'",
		 path_of("c.conf"));
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s:4: autoconnect: invalid value '9'", path_of("c.conf"));
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s:5: warning: colour: unknown key", path_of("c.conf"));
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s: UID 80:00:00:00:01:00:00:01 is already provided by %s",
		 path_of("dup.conf"), path_of("a.conf"));
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%s: ok (initiator", path_of("b.conf"));
	assert_non_null(strstr(out, want)); /* the bad files hide nothing */
	assert_non_null(strstr(out, "configuration invalid: 3 errors in 2 files\n"));
	/* A bad p2pd.conf is an error too, and the files are still checked. */
	snprintf(conf, sizeof(conf),
		 "[supervisor]\nconf_dir = %s\nworker_binary = /bin/true\nrestart_min = 0\n",
		 confdir);
	unlink(path_of("c.conf"));
	unlink(path_of("dup.conf"));
	out = run_check(conf, &rc);
	assert_int_equal(rc, EXIT_CONFIG);
	assert_non_null(strstr(out, "p2pd.conf:4: restart_min: invalid value '0'"));
	snprintf(want, sizeof(want), "%s: ok (target", path_of("a.conf"));
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "configuration invalid: 1 error in 1 file\n"));
	/* A missing conf_dir. */
	out = run_check("[supervisor]\nconf_dir = /nonexistent/dir\nworker_binary = /bin/true\n",
			&rc);
	assert_int_equal(rc, EXIT_CONFIG);
	assert_non_null(strstr(out, "/nonexistent/dir: cannot list the provisioning files: "));
	/* A worker_binary that cannot run is a warning. */
	snprintf(conf, sizeof(conf), "[supervisor]\nconf_dir = %s\nworker_binary = /nonexistent\n",
		 confdir);
	out = run_check(conf, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "warning: worker_binary /nonexistent cannot be run"));
}

static void
test_backoff(void **state)
{
	unsigned base;
	double d;
	static const unsigned want[] = {1, 2, 4, 4, 4};

	(void)state;
	for (unsigned f = 1; f <= 5; f++) {
		d = sup_backoff(1, 4, f, 0.0, &base);
		assert_int_equal(base, want[f - 1]);
		assert_true(d == (double)base);
	}
	/* Jitter takes off at most a fifth, never going under restart_min. */
	d = sup_backoff(1, 60, 1, 0.999, &base);
	assert_true(d == 1.0);
	d = sup_backoff(1, 60, 4, 0.999, &base);
	assert_int_equal(base, 8);
	assert_true(d > 6.39 && d < 8.0);
	d = sup_backoff(1, 60, 4, 0.5, &base);
	assert_true(d > 7.19 && d < 7.21);
	d = sup_backoff(5, 60, 2, 0.999, &base);
	assert_int_equal(base, 10);
	assert_true(d >= 8.0 && d < 10.0);
	/* Out-of-range u is treated as 0. */
	d = sup_backoff(3, 10, 2, 7.0, &base);
	assert_true(d == 6.0);
	d = sup_backoff(3, 10, 2, -1.0, &base);
	assert_true(d == 6.0);
	/* Odd limits and huge counts: no overflow, the cap holds. */
	d = sup_backoff(3, 10, 3, 0.0, &base);
	assert_int_equal(base, 10);
	d = sup_backoff(3600, 86400, 1000000, 0.0, &base);
	assert_int_equal(base, 86400);
	d = sup_backoff(7, 7, 50, 0.999, &base);
	assert_int_equal(base, 7);
	assert_true(d == 7.0);
	d = sup_backoff(2, 86400, 0, 0.0, &base);
	assert_int_equal(base, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_scan_files, setup),
	    cmocka_unit_test_setup(test_scan_hash, setup),
	    cmocka_unit_test_setup(test_scan_duplicates, setup),
	    cmocka_unit_test_setup(test_scan_no_dir, setup),
	    cmocka_unit_test_setup(test_check_config, setup),
	    cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
