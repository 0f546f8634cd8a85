/* Tests of the control client (supervisor/p2pctl): reply parsing, JSON and
 * table output, exit codes, and talking to a (fake) p2pd over a socket. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/p2pctl.h"

static char tmpdir[64];
static char sockpath[128];

static int
group_setup(void **state)
{
	(void)state;
	log_init("test", LOG_LVL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_p2pctlXXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", tmpdir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(sockpath);
	rmdir(tmpdir);
	return 0;
}

static const char status_reply[] =
    "ok\n"
    "worker uid=80:00:00:00:01:00:0A:C2 name=web file=/etc/p2pd/conf.d/web.conf "
    "mode=initiator autoconnect=2 want=up state=up detail=connected pid=101 "
    "local=127.0.0.1:33000 path=direct peer=203.0.113.9:4000 rtt_ms=12 bytes_in=5 "
    "bytes_out=6 uptime_s=3725 restarts=2 backoff_s=2 last_exit=13 "
    "last_error=exit%2013:%20no%20%22answer%22%0A\n"
    "worker uid=80:00:00:00:01:00:0A:C3 name=cam mode=target autoconnect=2 want=up "
    "state=backoff restarts=3 backoff_s=4 next_start_ms=2500 last_exit=1 "
    "last_error=exit%201\n"
    "worker uid=80:00:00:00:01:00:0A:C4 name=x%C3%A9%FF mode=target autoconnect=0 want=down "
    "state=down restarts=0\n"
    "invalid file=/etc/p2pd/conf.d/bad.conf line=3 reason=proxy_dest_port:%20invalid\n"
    "invalid file=/etc/p2pd/conf.d/dup.conf reason=UID%20taken\n"
    "end\n";

static void
test_parse_reply(void **state)
{
	struct p2pctl_reply r;
	char err[256];

	(void)state;
	assert_int_equal(
	    p2pctl_parse_reply(status_reply, strlen(status_reply), &r, err, sizeof(err)), 0);
	assert_true(r.ok);
	assert_int_equal(r.nw, 3);
	assert_int_equal(r.ninv, 2);
	assert_string_equal(r.w[0].last_error, "exit 13: no \"answer\"\n");
	assert_int_equal(r.w[0].uptime_s, 3725);
	assert_int_equal(r.w[1].next_start_ms, 2500);
	assert_int_equal(r.w[2].pid, CTL_NONE);
	assert_int_equal(r.inv[0].line, 3);
	assert_int_equal(r.inv[1].line, 0);
	assert_false(p2pctl_all_wanted_up(&r)); /* the backoff one is wanted and down */
	p2pctl_reply_free(&r);
	assert_null(r.w);

	assert_int_equal(
	    p2pctl_parse_reply("error unknown-uid no worker\nend\n", 32, &r, err, sizeof(err)), 0);
	assert_false(r.ok);
	assert_int_equal(r.err, CTL_E_UNKNOWN_UID);
	assert_string_equal(r.msg, "no worker");
	p2pctl_reply_free(&r);

	assert_int_equal(p2pctl_parse_reply("ok\nend\n", 7, &r, err, sizeof(err)), 0);
	assert_true(p2pctl_all_wanted_up(&r)); /* no workers: nothing is missing */
	p2pctl_reply_free(&r);
}

static void
bad_reply(const char *text, const char *frag)
{
	struct p2pctl_reply r;
	char err[256] = "";

	assert_int_equal(p2pctl_parse_reply(text, strlen(text), &r, err, sizeof(err)), -1);
	if (strstr(err, frag) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, frag);
	assert_null(r.w);
	assert_int_equal(r.nw, 0);
}

static void
test_parse_reply_malformed(void **state)
{
	(void)state;
	bad_reply("", "ended without its \"end\" line");
	bad_reply("ok\n", "ended without its \"end\" line");
	bad_reply("ok\nworker uid=a\n", "ended without");
	bad_reply("ok", "not terminated");
	bad_reply("end\n", "does not start with ok or error");
	bad_reply("worker uid=a\nend\n", "does not start with ok or error");
	bad_reply("ok\nok\nend\n", "reply line 2: a second ok/error line");
	bad_reply("ok\nerror busy\nend\n", "a second ok/error line");
	bad_reply("ok\nend\nok\n", "bytes after the end");
	bad_reply("ok\nworker pid=1\nend\n", "reply line 2: worker record without uid");
	bad_reply("ok\nbanana\nend\n", "reply line 2: unexpected line");
}

/* Reads back what was written to the temporary file f, and closes it. Returns
 * the text (at most 16383 bytes), in a buffer the next call overwrites. */
static char *
read_back(FILE *f)
{
	static char buf[16384];
	size_t n;

	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Captures what fn writes to a FILE. */
static char *
capture(void (*fn)(FILE *, const struct p2pctl_reply *), const struct p2pctl_reply *r)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fn(f, r);
	return read_back(f);
}

/* Parses the reply text (which must parse) and captures what fn prints of it. */
static const char *
print_reply(void (*fn)(FILE *, const struct p2pctl_reply *), const char *text)
{
	struct p2pctl_reply r;
	char err[256];
	const char *out;

	assert_int_equal(p2pctl_parse_reply(text, strlen(text), &r, err, sizeof(err)), 0);
	out = capture(fn, &r);
	p2pctl_reply_free(&r);
	return out;
}

static void
test_json(void **state)
{
	const char *out;

	(void)state;
	out = print_reply(p2pctl_print_json, status_reply);
	assert_non_null(strstr(out, "{\"workers\":[{\"uid\":\"80:00:00:00:01:00:0A:C2\",\"name\":"
				    "\"web\",\"file\":\"/etc/p2pd/conf.d/web.conf\""));
	assert_non_null(strstr(out, "\"last_error\":\"exit 13: no \\\"answer\\\"\\n\""));
	assert_non_null(strstr(out, "\"pid\":null"));
	assert_non_null(strstr(out, "\"rtt_ms\":12,"));
	assert_non_null(strstr(out, "\"name\":\"x\xc3\xa9\\u00ff\"")); /* bad UTF-8 escaped */
	assert_non_null(strstr(out, "{\"file\":\"/etc/p2pd/conf.d/bad.conf\",\"line\":3,"
				    "\"error\":\"proxy_dest_port: invalid\"}"));
	assert_non_null(strstr(out, "\"line\":0,"));
	assert_non_null(strstr(out, "],\"all_wanted_up\":false}\n"));
}

static void
json_is(const char *in, const char *want)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	p2pctl_json_string(f, in);
	assert_string_equal(read_back(f), want);
}

static void
test_json_string(void **state)
{
	(void)state;
	json_is("", "\"\"");
	json_is("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	json_is("\n\t\r\x01\x1f\x7f", "\"\\n\\t\\u000d\\u0001\\u001f\\u007f\"");
	json_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	json_is("\xc3", "\"\\u00c3\"");			      /* cut sequence */
	json_is("\xc0\xaf", "\"\\u00c0\\u00af\"");	      /* overlong */
	json_is("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""); /* surrogate */
	json_is("\xf5\x80\x80\x80", "\"\\u00f5\\u0080\\u0080\\u0080\"");
	json_is("\xe0\x80\x80", "\"\\u00e0\\u0080\\u0080\"");
}

static void
test_table(void **state)
{
	const char *out;

	(void)state;
	out = print_reply(p2pctl_print_table, status_reply);
	assert_true(strncmp(out, "UID                      NAME  MODE       STATE", 47) == 0);
	assert_non_null(strstr(out, "80:00:00:00:01:00:0A:C2  web   initiator  up:connected"));
	assert_non_null(strstr(out, "  101  127.0.0.1:33000  direct  203.0.113.9:4000  12ms"));
	assert_non_null(strstr(out, "1h02m"));
	assert_non_null(strstr(out, "2 (backoff 2s)"));
	assert_non_null(strstr(out, "backoff:2.5s"));
	assert_non_null(strstr(out, "80:00:00:00:01:00:0A:C4  x\xc3\xa9\xff"));
	assert_non_null(strstr(out, "\ninvalid provisioning files (not run):\n"
				    "  /etc/p2pd/conf.d/bad.conf:3: proxy_dest_port: invalid\n"
				    "  /etc/p2pd/conf.d/dup.conf: UID taken\n"));
	out = print_reply(p2pctl_print_table, "ok\nend\n");
	assert_non_null(strstr(out, "(no workers)"));
}

/* A fake p2pd: serves one connection with reply, then exits. */
static pid_t
fake_server(const char *reply, int do_listen)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	unlink(sockpath);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (!do_listen) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char req[600];
		int c = accept(fd, NULL, NULL);
		ssize_t n = c >= 0 ? recv(c, req, sizeof(req), 0) : -1;
		if (n > 0 && reply != NULL)
			(void)send(c, reply, strlen(reply), 0);
		_exit(n > 0 && memchr(req, '\n', (size_t)n) != NULL ? 0 : 1);
	}
	close(fd);
	return pid;
}

static int
reaped(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_request(void **state)
{
	struct ctl_request rq;
	struct p2pctl_reply r;
	char err[512];
	pid_t pid;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	rq.verb = CTL_STATUS;
	/* No socket at all. */
	unlink(sockpath);
	assert_int_equal(p2pctl_request(sockpath, &rq, 2.0, &r, err, sizeof(err)),
			 P2PCTL_NO_DAEMON);
	assert_non_null(strstr(err, ": No such file or directory (is p2pd running?)"));
	/* A socket file nobody listens on. */
	fake_server(NULL, 0);
	assert_int_equal(p2pctl_request(sockpath, &rq, 2.0, &r, err, sizeof(err)),
			 P2PCTL_NO_DAEMON);
	assert_non_null(strstr(err, "Connection refused (is p2pd running?"));
	/* A good reply. */
	pid = fake_server(status_reply, 1);
	assert_int_equal(p2pctl_request(sockpath, &rq, 2.0, &r, err, sizeof(err)), P2PCTL_OK);
	assert_int_equal(reaped(pid), 0);
	assert_true(r.ok);
	assert_int_equal(r.nw, 3);
	p2pctl_reply_free(&r);
	/* A reply cut short. */
	pid = fake_server("ok\nworker uid=80:00:00:00:01:00:0A:C2\n", 1);
	assert_int_equal(p2pctl_request(sockpath, &rq, 2.0, &r, err, sizeof(err)),
			 P2PCTL_NO_DAEMON);
	assert_int_equal(reaped(pid), 0);
	assert_non_null(strstr(err, "broken reply from p2pd: the reply ended without"));
	/* Garbage. */
	pid = fake_server("HTTP/1.1 200 OK\r\n\r\n", 1);
	assert_int_equal(p2pctl_request(sockpath, &rq, 2.0, &r, err, sizeof(err)),
			 P2PCTL_NO_DAEMON);
	assert_int_equal(reaped(pid), 0);
	assert_non_null(strstr(err, "broken reply"));
}

static void
test_cli_usage(void **state)
{
	char *a1[] = {"p2pctl", NULL};
	char *a2[] = {"p2pctl", "frobnicate", NULL};
	char *a3[] = {"p2pctl", "kill", NULL};
	char *a4[] = {"p2pctl", "kill", "80:00", NULL};
	char *a5[] = {"p2pctl", "reload", "80:00:00:00:01:00:0A:C2", NULL};
	char *a6[] = {"p2pctl", "-x", "status", NULL};
	char *a7[] = {"p2pctl", "status", "--json", "--json2", NULL};
	char *a8[] = {"p2pctl", "-s", sockpath, "status", NULL};
	char *a9[] = {"p2pctl", "-s", sockpath, "status", "--json", NULL};
	char *a10[] = {"p2pctl", "-s", sockpath, "kill", "80:00:00:00:01:00:0A:C2", NULL};
	FILE *saved = stderr;
	pid_t pid;

	(void)state;
	stderr = fopen("/dev/null", "w");
	assert_int_equal(p2pctl_cli(1, a1), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(2, a2), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(2, a3), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(3, a4), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(3, a5), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(3, a6), P2PCTL_USAGE);
	assert_int_equal(p2pctl_cli(4, a7), P2PCTL_USAGE);
	unlink(sockpath);
	assert_int_equal(p2pctl_cli(4, a8), P2PCTL_NO_DAEMON);
	fclose(stderr);
	stderr = saved;
	/* Status exit codes: 3 when a wanted worker is down. */
	pid = fake_server(status_reply, 1);
	fflush(stdout);
	{
		FILE *so = stdout;
		stdout = fopen("/dev/null", "w");
		assert_int_equal(p2pctl_cli(5, a9), P2PCTL_NOT_UP);
		assert_int_equal(reaped(pid), 0);
		pid = fake_server("ok\nworker uid=80:00:00:00:01:00:0A:C2 want=up state=up\nend\n",
				  1);
		assert_int_equal(p2pctl_cli(4, a8), P2PCTL_OK);
		assert_int_equal(reaped(pid), 0);
		pid = fake_server("ok 80:00:00:00:01:00:0A:C2: down\nend\n", 1);
		assert_int_equal(p2pctl_cli(5, a10), P2PCTL_OK);
		assert_int_equal(reaped(pid), 0);
		saved = stderr;
		stderr = fopen("/dev/null", "w");
		pid = fake_server("error unknown-uid no worker\nend\n", 1);
		assert_int_equal(p2pctl_cli(5, a10), P2PCTL_FAILED);
		assert_int_equal(reaped(pid), 0);
		fclose(stderr);
		stderr = saved;
		fclose(stdout);
		stdout = so;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_reply), cmocka_unit_test(test_parse_reply_malformed),
	    cmocka_unit_test(test_json),	cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_table),	cmocka_unit_test(test_request),
	    cmocka_unit_test(test_cli_usage),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
