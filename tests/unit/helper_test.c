/* helper_test: utilities shared by the unit tests; see helper_test.h. */
#include "tests/unit/helper_test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* ---- temporary files ---- */

int
th_mkdtemp(char *dir, size_t dirlen, const char *name)
{
	int n = snprintf(dir, dirlen, "/tmp/%s.XXXXXX", name);

	if (n < 0 || (size_t)n >= dirlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dir) == NULL ? -1 : 0;
}

char th_tmpdir[64];

int
th_tmpdir_setup(void **state)
{
	(void)state;
	return th_mkdtemp(th_tmpdir, sizeof(th_tmpdir), "p2pd-test");
}

int
th_tmpdir_teardown(void **state)
{
	(void)state;
	return th_rm_tree(th_tmpdir);
}

int
th_rm_tree(const char *path)
{
	struct dirent *de;
	struct stat st;
	char sub[512];
	DIR *d;

	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		th_rm_tree(sub);
	}
	closedir(d);
	return rmdir(path);
}

const char *
th_write_tmp(const char *dir, const void *data, size_t len, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/tmpXXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* ---- child processes ---- */

int
th_exit_status_of(void (*f)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 2);
		f();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- hex ---- */

void
th_unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	assert_int_equal(hex_decode(hex, out, n), 0);
}

void
th_assert_hex(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[256];

	assert_true(n <= sizeof(want));
	th_unhex(hex, want, n);
	assert_memory_equal(got, want, n);
}

/* ---- addresses ---- */

struct sockaddr_storage
th_addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_int_equal(parse_ip(ip, port, &ss, &len), 0);
	return ss;
}

struct rdv_addr
th_rdv_addr(const char *ip, uint16_t port)
{
	struct rdv_addr a;

	memset(&a, 0, sizeof(a));
	a.port = port;
	if (inet_pton(AF_INET, ip, a.ip) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, ip, a.ip) == 1)
		a.family = 6;
	else
		fail_msg("%s is not a numeric IPv4 or IPv6 address", ip);
	return a;
}

/* ---- diagnostics ---- */

struct th_capture th_cap;

static void
capture_fn(void *arg, enum conf_sev sev, const char *file, int line, const char *msg)
{
	struct th_capture *c = arg;

	assert_non_null(file);
	if (c->n < TH_MAXMSG) {
		c->sev[c->n] = sev;
		c->line[c->n] = line;
		snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s", msg);
	}
	c->n++;
}

const struct conf_diag th_capture_diag = {capture_fn, &th_cap};

void
th_capture_reset(void)
{
	memset(&th_cap, 0, sizeof(th_cap));
}

int
th_count_msgs(enum conf_sev sev, ...)
{
	int found = 0;

	for (int i = 0; i < th_cap.n && i < TH_MAXMSG; i++) {
		va_list ap;
		const char *frag;
		int ok = th_cap.sev[i] == sev;

		va_start(ap, sev);
		while ((frag = va_arg(ap, const char *)) != NULL)
			if (strstr(th_cap.msg[i], frag) == NULL)
				ok = 0;
		va_end(ap);
		found += ok;
	}
	return found;
}

int
th_any_msg_has(const char *frag)
{
	for (int i = 0; i < th_cap.n && i < TH_MAXMSG; i++)
		if (strstr(th_cap.msg[i], frag) != NULL)
			return 1;
	return 0;
}

void
th_dump_msgs(void)
{
	for (int i = 0; i < th_cap.n && i < TH_MAXMSG; i++)
		fprintf(stderr, "  [%d] %s\n", th_cap.sev[i], th_cap.msg[i]);
}

/* ---- table-driven tests ---- */

/* A new array (free it) of the nfixed tests in fixed, followed by one test
 * per element of cases; *n is set to their number. NULL if out of memory. */
static struct CMUnitTest *
tests_with_cases(const struct CMUnitTest *fixed, size_t nfixed, CMUnitTestFunction case_fn,
		 const void *cases, size_t size, size_t ncases, size_t *n)
{
	struct CMUnitTest *tests = calloc(nfixed + ncases, sizeof(*tests));

	*n = 0;
	if (tests == NULL)
		return NULL;
	if (nfixed > 0)
		memcpy(tests, fixed, nfixed * sizeof(*tests));
	for (size_t i = 0; i < ncases; i++) {
		const char *c = (const char *)cases + i * size;

		tests[nfixed + i].name = *(const char *const *)(const void *)c;
		tests[nfixed + i].test_func = case_fn;
		tests[nfixed + i].initial_state = (void *)(uintptr_t)c;
	}
	*n = nfixed + ncases;
	return tests;
}

int
th_run_group_with_cases(const char *name, const struct CMUnitTest *fixed, size_t nfixed,
			CMUnitTestFunction case_fn, const void *cases, size_t size, size_t ncases,
			CMFixtureFunction setup, CMFixtureFunction teardown)
{
	size_t n;
	struct CMUnitTest *tests =
	    tests_with_cases(fixed, nfixed, case_fn, cases, size, ncases, &n);
	int rc;

	if (tests == NULL)
		return 1;
	rc = _cmocka_run_group_tests(name, tests, n, setup, teardown);
	free(tests);
	return rc;
}
