/* Tests of the p2pctl <-> p2pd control protocol codec (common/ctlproto). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ctlproto.h"

static const char *const UID_A = "80:00:00:00:01:00:0A:C2";

static void
parse_ok(const char *line, enum ctl_verb verb, const char *uid)
{
	struct ctl_request r;
	char err[256], u[UID_STRLEN];

	if (ctl_request_parse(line, strlen(line), &r, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", line, err);
	assert_int_equal(r.verb, verb);
	assert_int_equal(r.has_uid, uid != NULL);
	if (uid != NULL)
		assert_string_equal(uid_format(&r.uid, u), uid);
}

static void
parse_bad(const char *line, size_t len, const char *frag)
{
	struct ctl_request r;
	char err[256] = "";

	assert_int_equal(ctl_request_parse(line, len, &r, err, sizeof(err)), -1);
	if (strstr(err, frag) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, frag);
}

static void
test_request_parse(void **state)
{
	(void)state;
	parse_ok("status\n", CTL_STATUS, NULL);
	parse_ok("status", CTL_STATUS, NULL);
	parse_ok("status 80:00:00:00:01:00:0a:c2\n", CTL_STATUS, UID_A);
	parse_ok("kill 80:00:00:00:01:00:0A:C2\n", CTL_KILL, UID_A);
	parse_ok("start 80:00:00:00:01:00:0A:C2\n", CTL_START, UID_A);
	parse_ok("restart 80:00:00:00:01:00:0A:C2", CTL_RESTART, UID_A);
	parse_ok("reload\n", CTL_RELOAD, NULL);
}

static void
test_request_malformed(void **state)
{
	char big[CTL_MAX_REQUEST + 2];

	(void)state;
	parse_bad("", 0, "empty request");
	parse_bad("\n", 1, "empty request");
	parse_bad("stop\n", 5, "unknown request 'stop'");
	parse_bad("STATUS\n", 7, "unknown request");
	parse_bad("kill\n", 5, "kill needs a UID");
	parse_bad("restart\n", 8, "restart needs a UID");
	parse_bad("reload now\n", 11, "reload takes no argument");
	parse_bad("kill 80:00\n", 11, "bad UID '80:00'");
	parse_bad("kill 80:00:00:00:01:00:0A:C2 extra\n", 35, "trailing junk");
	parse_bad("kill  80:00:00:00:01:00:0A:C2\n", 30, "bad UID");
	parse_bad("status \n", 8, "bad UID ''");
	parse_bad(" status\n", 8, "unknown request ''");
	parse_bad("status\r\n", 8, "byte 0x0D at position 7");
	parse_bad("stat\0us\n", 8, "byte 0x00 at position 5");
	parse_bad("status\n\n", 8, "byte 0x0A at position 7");
	parse_bad("st\x1b[2Jatus\n", 11, "byte 0x1B");
	memset(big, 'a', sizeof(big));
	parse_bad(big, CTL_MAX_REQUEST + 1, "longer than 512");
	/* Exactly the limit, newline included, is accepted by the length check. */
	memset(big, ' ', CTL_MAX_REQUEST);
	memcpy(big, "reload", 6);
	big[CTL_MAX_REQUEST - 1] = '\n';
	parse_bad(big, CTL_MAX_REQUEST, "reload takes no argument");
	/* The limit without a newline: all CTL_MAX_REQUEST bytes are the line
	 * (ASan in make check sees any write past the parser's copy). */
	big[CTL_MAX_REQUEST - 1] = ' ';
	parse_bad(big, CTL_MAX_REQUEST, "reload takes no argument");
}

static void
test_request_format(void **state)
{
	struct ctl_request r;
	char buf[CTL_MAX_REQUEST];
	const char *why;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.verb = CTL_STATUS;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "status\n");
	assert_int_equal(uid_parse(UID_A, &r.uid, &why), 0);
	r.has_uid = 1;
	r.verb = CTL_RESTART;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), 32);
	assert_string_equal(buf, "restart 80:00:00:00:01:00:0A:C2\n");
	parse_ok(buf, CTL_RESTART, UID_A);
	assert_int_equal(ctl_request_format(&r, buf, 32), -1); /* no room for the NUL */
	r.verb = CTL_RELOAD;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), -1);
	r.has_uid = 0;
	r.verb = CTL_KILL;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), -1);
	r.verb = (enum ctl_verb)0;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), -1);
	r.verb = (enum ctl_verb)6;
	assert_int_equal(ctl_request_format(&r, buf, sizeof(buf)), -1);
}

static void
line_ok(const char *buf, struct ctl_line *l)
{
	char err[256];

	if (ctl_line_parse(buf, strlen(buf), l, err, sizeof(err)) != 0)
		fail_msg("'%.60s' refused: %s", buf, err);
}

static void
line_bad(const char *buf, size_t len, const char *frag)
{
	struct ctl_line l;
	char err[256] = "";

	assert_int_equal(ctl_line_parse(buf, len, &l, err, sizeof(err)), -1);
	if (strstr(err, frag) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, frag);
}

static void
test_ok_error_end(void **state)
{
	static struct ctl_line l;
	char buf[CTL_MAX_MSG + 64];

	(void)state;
	assert_int_equal(ctl_format_ok(buf, sizeof(buf), NULL), 3);
	assert_string_equal(buf, "ok\n");
	line_ok(buf, &l);
	assert_int_equal(l.kind, CTL_L_OK);
	assert_string_equal(l.msg, "");
	assert_true(ctl_format_ok(buf, sizeof(buf), "80:..: down\nsecond line") > 0);
	assert_string_equal(buf, "ok 80:..: down?second line\n");
	line_ok(buf, &l);
	assert_string_equal(l.msg, "80:..: down?second line");
	assert_true(ctl_format_error(buf, sizeof(buf), CTL_E_UNKNOWN_UID, "no worker") > 0);
	assert_string_equal(buf, "error unknown-uid no worker\n");
	line_ok(buf, &l);
	assert_int_equal(l.kind, CTL_L_ERROR);
	assert_int_equal(l.err, CTL_E_UNKNOWN_UID);
	assert_string_equal(l.msg, "no worker");
	assert_true(ctl_format_error(buf, sizeof(buf), CTL_E_TIMEOUT, "") > 0);
	assert_string_equal(buf, "error timeout timeout\n");
	line_ok("error busy", &l);
	assert_int_equal(l.err, CTL_E_BUSY);
	assert_string_equal(l.msg, "");
	assert_int_equal(ctl_format_error(buf, sizeof(buf), (enum ctl_err)0, "x"), -1);
	assert_int_equal(ctl_format_error(buf, sizeof(buf), (enum ctl_err)7, "x"), -1);
	assert_int_equal(ctl_format_end(buf, sizeof(buf)), 4);
	line_ok(buf, &l);
	assert_int_equal(l.kind, CTL_L_END);
	assert_int_equal(ctl_format_ok(buf, 3, NULL), -1);
	assert_int_equal(ctl_format_ok(buf, 5, "abc"), -1);
	for (int e = CTL_E_BAD_REQUEST; e <= CTL_E_SHUTDOWN; e++) {
		assert_true(ctl_format_error(buf, sizeof(buf), (enum ctl_err)e, "m") > 0);
		line_ok(buf, &l);
		assert_int_equal(l.err, e);
	}
}

static void
full_worker(struct ctl_worker *w)
{
	ctl_worker_init(w);
	snprintf(w->uid, sizeof(w->uid), "%s", UID_A);
	snprintf(w->name, sizeof(w->name), "web ui");
	snprintf(w->file, sizeof(w->file), "/etc/p2pd/conf.d/w%%eb=1 \xc3\xa9.conf");
	snprintf(w->mode, sizeof(w->mode), "initiator");
	snprintf(w->want, sizeof(w->want), "up");
	snprintf(w->state, sizeof(w->state), "up");
	snprintf(w->detail, sizeof(w->detail), "connected");
	snprintf(w->local, sizeof(w->local), "127.0.0.1:33000");
	snprintf(w->path, sizeof(w->path), "direct");
	snprintf(w->peer, sizeof(w->peer), "[2001:db8::1]:4000");
	snprintf(w->last_error, sizeof(w->last_error), "exit 13: no \"answer\"\n\t from x");
	w->autoconnect = 2;
	w->pid = 4242;
	w->rtt_ms = 0;
	w->bytes_in = INT64_MAX;
	w->bytes_out = 1;
	w->uptime_s = 86400;
	w->restarts = 3;
	w->backoff_s = 8;
	w->next_start_ms = 1500;
	w->last_exit = 137;
}

static void
test_worker_round_trip(void **state)
{
	static char buf[CTL_MAX_LINE + 1];
	static struct ctl_line l;
	struct ctl_worker w;
	int n;

	(void)state;
	full_worker(&w);
	n = ctl_format_worker(buf, sizeof(buf), &w);
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(memchr(buf, '\n', (size_t)n - 1));
	assert_null(strchr(buf, '"'));
	line_ok(buf, &l);
	assert_int_equal(l.kind, CTL_L_WORKER);
	assert_memory_equal(&l.worker, &w, sizeof(w));
	/* Unknown numbers and empty strings are left out, and come back so. */
	ctl_worker_init(&w);
	snprintf(w.uid, sizeof(w.uid), "%s", UID_A);
	n = ctl_format_worker(buf, sizeof(buf), &w);
	assert_string_equal(buf, "worker uid=80:00:00:00:01:00:0A:C2\n");
	line_ok(buf, &l);
	assert_memory_equal(&l.worker, &w, sizeof(w));
	/* A worker without a UID is not a record. */
	w.uid[0] = '\0';
	assert_int_equal(ctl_format_worker(buf, sizeof(buf), &w), -1);
	/* Too small a buffer. */
	full_worker(&w);
	assert_int_equal(ctl_format_worker(buf, 40, &w), -1);
}

static void
test_invalid_round_trip(void **state)
{
	static struct ctl_line l;
	struct ctl_invalid v;
	char buf[CTL_MAX_LINE];

	(void)state;
	memset(&v, 0, sizeof(v));
	snprintf(v.file, sizeof(v.file), "/etc/p2pd/conf.d/bad.conf");
	v.line = 3;
	snprintf(v.reason, sizeof(v.reason), "proxy_dest_port: invalid value 'none': expected 1");
	assert_true(ctl_format_invalid(buf, sizeof(buf), &v) > 0);
	line_ok(buf, &l);
	assert_int_equal(l.kind, CTL_L_INVALID);
	assert_memory_equal(&l.inv, &v, sizeof(v));
	v.line = 0;
	assert_true(ctl_format_invalid(buf, sizeof(buf), &v) > 0);
	line_ok(buf, &l);
	assert_int_equal(l.inv.line, 0);
	v.file[0] = '\0';
	assert_int_equal(ctl_format_invalid(buf, sizeof(buf), &v), -1);
	line_bad("invalid line=3\n", 15, "invalid record without file");
}

static void
test_line_malformed(void **state)
{
	char big[CTL_MAX_LINE + 8];

	(void)state;
	line_bad("", 0, "unexpected line ''");
	line_bad("hello\n", 6, "unexpected line 'hello'");
	line_bad("oks\n", 4, "unexpected line");
	line_bad("ending\n", 7, "unexpected line");
	line_bad("error nosuchcode x\n", 19, "unknown error code 'nosuchcode'");
	line_bad("error\n", 6, "unexpected line");
	line_bad("worker\n", 7, "worker record without uid");
	line_bad("workers uid=x\n", 14, "unexpected line");
	line_bad("worker uid\n", 11, "'uid' is not key=value");
	line_bad("worker =x uid=80\n", 17, "'=x' is not key=value");
	line_bad("worker uid=a uid=b\n", 19, "key uid given twice");
	line_bad("worker uid=a pid=12x\n", 21, "pid: '12x' is not a number");
	line_bad("worker uid=a pid=\n", 18, "pid: '' is not a number");
	line_bad("worker uid=a pid=99999999999999999999\n", 38, "is not a number");
	line_bad("worker uid=a name=%4\n", 21, "name: bad value");
	line_bad("worker uid=a name=%G1\n", 22, "name: bad value");
	line_bad("worker uid=a name=%00\n", 22, "name: bad value");
	line_bad("worker uid=a name=a\"b\n", 21, "name: bad value");
	line_bad("worker uid=80:00:00:00:01:00:0A:C2:00\n", 38, "uid: bad value");
	line_bad("worker uid=a \n", 14, "'' is not key=value");
	line_bad("worker  uid=a\n", 14, "'' is not key=value");
	line_bad("worker uid=a\tpid=1\n", 19, "byte 0x09 at position 13");
	line_bad("ok \x01\n", 5, "byte 0x01");
	memset(big, 'a', sizeof(big));
	memcpy(big, "ok ", 3);
	line_bad(big, CTL_MAX_LINE, "longer than");
	line_bad(big, CTL_MAX_LINE + 8, "longer than");
}

static void
test_unknown_keys_skipped(void **state)
{
	static struct ctl_line l;

	(void)state;
	line_ok("worker future=%20x uid=a pid=-1 color=blue\n", &l);
	assert_string_equal(l.worker.uid, "a");
	assert_int_equal(l.worker.pid, CTL_NONE);
}

static void
test_pct(void **state)
{
	char out[64];
	const char all[] = "a b%c=d\x01\xff/:.@+,~-_";

	(void)state;
	assert_int_equal(ctl_pct_encode(all, strlen(all), out, sizeof(out)), 28);
	assert_string_equal(out, "a%20b%25c%3Dd%01%FF/:.@+,~-_");
	assert_int_equal(ctl_pct_decode(out, strlen(out), out, sizeof(out)), (int)strlen(all));
	assert_string_equal(out, all);
	assert_int_equal(ctl_pct_encode("ab", 2, out, 2), -1);
	assert_int_equal(ctl_pct_encode("ab", 2, out, 3), 2);
	assert_int_equal(ctl_pct_encode(" ", 1, out, 3), -1);
	assert_int_equal(ctl_pct_encode(" ", 1, out, 4), 3);
	assert_int_equal(ctl_pct_encode("", 0, out, 0), -1);
	assert_int_equal(ctl_pct_decode("abc", 3, out, 3), -1);
	assert_int_equal(ctl_pct_decode("abc", 3, out, 4), 3);
	assert_int_equal(ctl_pct_decode("%4a", 3, out, 4), 1);
	assert_string_equal(out, "J");
	assert_int_equal(ctl_pct_decode("%", 1, out, 4), -1);
	assert_int_equal(ctl_pct_decode("%4", 2, out, 4), -1);
	assert_int_equal(ctl_pct_decode("a b", 3, out, 4), -1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_verb_name(CTL_STATUS), "status");
	assert_string_equal(ctl_verb_name(CTL_RELOAD), "reload");
	assert_null(ctl_verb_name(0));
	assert_null(ctl_verb_name(6));
	assert_string_equal(ctl_err_name(CTL_E_SHUTDOWN), "shutting-down");
	assert_null(ctl_err_name(0));
	assert_null(ctl_err_name(7));
}

/* Random bytes and mutated valid lines never crash either parser. */
static void
test_random(void **state)
{
	static struct ctl_line l;
	static char base[CTL_MAX_LINE + 1];
	char buf[600], err[256];
	struct ctl_request r;
	struct ctl_worker w;
	unsigned seed = 99;
	int n;

	(void)state;
	full_worker(&w);
	n = ctl_format_worker(base, sizeof(base), &w);
	assert_true(n > 0);
	for (int i = 0; i < 100000; i++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(buf);
		if (i & 1) {
			len = len < (size_t)n ? len : (size_t)n;
			memcpy(buf, base, len);
			for (int k = 0; k < 3 && len > 0; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[(seed >> 8) % len] = (char)(seed >> 20);
			}
		} else {
			for (size_t j = 0; j < len; j++) {
				seed = seed * 1103515245u + 12345u;
				buf[j] = (char)(seed >> 16);
			}
		}
		(void)ctl_line_parse(buf, len, &l, err, sizeof(err));
		(void)ctl_request_parse(buf, len, &r, err, sizeof(err));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_parse),
	    cmocka_unit_test(test_request_malformed),
	    cmocka_unit_test(test_request_format),
	    cmocka_unit_test(test_ok_error_end),
	    cmocka_unit_test(test_worker_round_trip),
	    cmocka_unit_test(test_invalid_round_trip),
	    cmocka_unit_test(test_line_malformed),
	    cmocka_unit_test(test_unknown_keys_skipped),
	    cmocka_unit_test(test_pct),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
