/* Tests of the worker -> supervisor status channel codec (common/statusmsg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statusmsg.h"
#include "worker/status.h"

static struct sm_msg
msg(enum sm_type type, const char *text)
{
	struct sm_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.text, sizeof(m.text), "%s", text);
	return m;
}

/* Encodes m, decodes the bytes and checks the result equals m. */
static void
round_trip(const struct sm_msg *m, size_t want_len)
{
	uint8_t buf[SM_MAX_MSG];
	struct sm_msg d;
	char err[128];
	int n = sm_encode(m, buf, sizeof(buf));

	assert_int_equal(n, (int)want_len);
	assert_int_equal(sm_decode(buf, (size_t)n, &d, err, sizeof(err)), 0);
	assert_int_equal(d.type, m->type);
	assert_string_equal(d.text, m->text);
	assert_int_equal(d.path, m->path);
	assert_int_equal(d.ms, m->ms);
	assert_int_equal(d.code, m->code);
	assert_true(d.a == m->a);
	assert_true(d.b == m->b);
}

static void
test_round_trips(void **state)
{
	struct sm_msg m;

	(void)state;
	m = msg(SM_STATE, "connecting");
	round_trip(&m, 4 + 10);
	m = msg(SM_CONNECTED, "");
	round_trip(&m, 4);
	m = msg(SM_PATH, "203.0.113.7:40000");
	m.path = SM_PATH_RELAY;
	m.ms = 1234;
	round_trip(&m, 4 + 5 + 17);
	m = msg(SM_THROUGHPUT, "");
	m.a = 0x0102030405060708ull;
	m.b = UINT64_MAX;
	round_trip(&m, 4 + 16);
	m = msg(SM_EXIT, "no answer from the rendezvous server");
	m.code = 13;
	round_trip(&m, 4 + 1 + 36);
	m = msg(SM_EXIT, "");
	m.code = 255;
	round_trip(&m, 4 + 1);
	m = msg(SM_STATS, "");
	m.ms = SM_RTT_UNKNOWN;
	m.a = 1;
	m.b = 2;
	round_trip(&m, 4 + 20);
	m = msg(SM_LOCAL, "127.0.0.1:33000");
	round_trip(&m, 4 + 15);
	m = msg(SM_LOCAL, "");
	round_trip(&m, 4);
}

static void
test_known_bytes(void **state)
{
	static const uint8_t want[] = {1, 1, 0, 7, 'r', 'u', 'n', 'n', 'i', 'n', 'g'};
	static const uint8_t path[] = {1, 3, 0, 8, 1, 0, 0, 1, 0, 'a', ':', '1'};
	uint8_t buf[SM_MAX_MSG];
	struct sm_msg m = msg(SM_STATE, "running");
	char err[128];

	(void)state;
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(sm_decode(path, sizeof(path), &m, err, sizeof(err)), 0);
	assert_int_equal(m.type, SM_PATH);
	assert_int_equal(m.path, SM_PATH_DIRECT);
	assert_int_equal(m.ms, 256);
	assert_string_equal(m.text, "a:1");
}

static void
test_encode_cleans_text(void **state)
{
	uint8_t buf[SM_MAX_MSG];
	struct sm_msg m = msg(SM_EXIT, "line one\nline\ttwo\x7f"), d;
	char err[128], longtext[600];
	int n;

	(void)state;
	n = sm_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(sm_decode(buf, (size_t)n, &d, err, sizeof(err)), 0);
	assert_string_equal(d.text, "line one?line?two?");
	/* Text over the limit is cut to SM_MAX_TEXT bytes. */
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	m = msg(SM_LOCAL, "");
	memcpy(m.text, longtext, sizeof(m.text) - 1);
	m.text[sizeof(m.text) - 1] = '\0';
	n = sm_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 4 + SM_MAX_TEXT);
	assert_int_equal(sm_decode(buf, (size_t)n, &d, err, sizeof(err)), 0);
	assert_int_equal(strlen(d.text), SM_MAX_TEXT);
}

static void
test_encode_refuses(void **state)
{
	uint8_t buf[SM_MAX_MSG];
	struct sm_msg m;

	(void)state;
	m = msg(SM_STATE, "");
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_STATE, "Connecting");
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_STATE, "two words");
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_STATE, "abcdefghijklmnopqrstuvwxyz012345"); /* 32 > SM_MAX_STATE */
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_STATE, "abcdefghijklmnopqrstuvwxyz01234"); /* 31: fine */
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), 4 + 31);
	m = msg((enum sm_type)0, "");
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg((enum sm_type)8, "");
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_PATH, "x");
	m.path = (enum sm_path)3;
	assert_int_equal(sm_encode(&m, buf, sizeof(buf)), -1);
	m = msg(SM_STATS, "");
	assert_int_equal(sm_encode(&m, buf, 23), -1); /* needs 24 */
	assert_int_equal(sm_encode(&m, buf, 24), 24);
	m = msg(SM_CONNECTED, "");
	assert_int_equal(sm_encode(&m, buf, 3), -1);
}

/* Decodes len bytes and expects failure with frag in the message. */
static void
bad(const uint8_t *p, size_t len, const char *frag)
{
	struct sm_msg m;
	char err[128] = "";

	assert_int_equal(sm_decode(p, len, &m, err, sizeof(err)), -1);
	if (strstr(err, frag) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, frag);
}

static void
test_decode_malformed(void **state)
{
	uint8_t big[SM_MAX_MSG + 8];

	(void)state;
	bad((const uint8_t *)"", 0, "shorter than the 4-byte header");
	bad((const uint8_t[]){1, 2, 0}, 3, "shorter than the 4-byte header");
	memset(big, 0, sizeof(big));
	big[0] = 1;
	big[1] = SM_LOCAL;
	big[2] = (SM_MAX_MSG + 4) >> 8;
	big[3] = (SM_MAX_MSG + 4) & 0xff;
	bad(big, SM_MAX_MSG + 8, "longer than");
	bad((const uint8_t[]){2, 2, 0, 0}, 4, "version 2, expected 1");
	bad((const uint8_t[]){0, 2, 0, 0}, 4, "version 0");
	bad((const uint8_t[]){1, 2, 0, 1}, 4, "length field 1 does not match the 0");
	bad((const uint8_t[]){1, 2, 0, 0, 9}, 5, "length field 0 does not match the 1");
	bad((const uint8_t[]){1, 2, 1, 0, 9}, 5, "length field 256");
	bad((const uint8_t[]){1, 0, 0, 0}, 4, "unknown type 0");
	bad((const uint8_t[]){1, 99, 0, 0}, 4, "unknown type 99");
	bad((const uint8_t[]){1, SM_CONNECTED, 0, 1, 0}, 5,
	    "connected body of 1 bytes; expected 0");
	bad((const uint8_t[]){1, SM_THROUGHPUT, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	    19, "throughput body of 15 bytes; expected 16");
	bad((const uint8_t[]){1, SM_STATS, 0, 4, 0, 0, 0, 0}, 8,
	    "stats body of 4 bytes; expected 20");
	bad((const uint8_t[]){1, SM_PATH, 0, 4, 1, 0, 0, 0}, 8,
	    "path body of 4 bytes; expected at least 5");
	bad((const uint8_t[]){1, SM_PATH, 0, 5, 0, 0, 0, 0, 0}, 9, "path 0 is neither");
	bad((const uint8_t[]){1, SM_PATH, 0, 5, 3, 0, 0, 0, 0}, 9, "path 3 is neither");
	bad((const uint8_t[]){1, SM_EXIT, 0, 0}, 4, "exit body of 0 bytes; expected at least 1");
	bad((const uint8_t[]){1, SM_EXIT, 0, 3, 1, 'a', '\n'}, 7,
	    "exit text holds control character 0x0A at byte 2");
	bad((const uint8_t[]){1, SM_LOCAL, 0, 2, 'a', 0}, 6, "control character 0x00 at byte 2");
	bad((const uint8_t[]){1, SM_LOCAL, 0, 1, 0x7f}, 5, "control character 0x7F");
	bad((const uint8_t[]){1, SM_STATE, 0, 0}, 4, "is not 1 to 31 characters");
	bad((const uint8_t[]){1, SM_STATE, 0, 2, 'U', 'p'}, 6, "state 'Up' is not");
	bad((const uint8_t[]){1, SM_STATE, 0, 3, 'a', ' ', 'b'}, 7, "is not");
	memset(big, 'a', sizeof(big));
	big[0] = 1;
	big[1] = SM_STATE;
	big[2] = 0;
	big[3] = 32;
	bad(big, 36, "is not 1 to 31 characters");
	memset(big, 'a', sizeof(big));
	big[0] = 1;
	big[1] = SM_LOCAL;
	big[2] = 1;
	big[3] = 0;
	bad(big, 4 + 256, "local text of 256 bytes is longer than 255");
}

/* Every prefix of a valid message is rejected, and so is the message with
 * each length field value but the right one. */
static void
test_decode_truncations(void **state)
{
	uint8_t buf[SM_MAX_MSG];
	struct sm_msg m = msg(SM_STATS, ""), d;
	char err[128];
	int n;

	(void)state;
	m.ms = 5;
	n = sm_encode(&m, buf, sizeof(buf));
	for (int i = 0; i < n; i++)
		assert_int_equal(sm_decode(buf, (size_t)i, &d, err, sizeof(err)), -1);
	for (unsigned v = 0; v < 0x10000; v += 7) {
		if (v == (unsigned)n - 4)
			continue;
		buf[2] = (uint8_t)(v >> 8);
		buf[3] = (uint8_t)v;
		assert_int_equal(sm_decode(buf, (size_t)n, &d, err, sizeof(err)), -1);
	}
}

/* Random input never crashes the decoder; what it accepts encodes back to
 * the same bytes (the format has one encoding per message). */
static void
test_decode_random(void **state)
{
	uint8_t buf[SM_MAX_MSG + 4], again[SM_MAX_MSG];
	struct sm_msg m;
	char err[128];
	unsigned seed = 12345, accepted = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % 40;
		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (uint8_t)(seed >> 16);
		}
		if (len >= 4 && (i & 1)) { /* make the header plausible half the time */
			buf[0] = 1;
			buf[1] = (uint8_t)(buf[1] % 9);
			buf[2] = 0;
			buf[3] = (uint8_t)(len - 4);
		}
		if (sm_decode(buf, len, &m, err, sizeof(err)) == 0) {
			accepted++;
			assert_int_equal(sm_encode(&m, again, sizeof(again)), (int)len);
			assert_memory_equal(again, buf, len);
		}
	}
	assert_true(accepted > 100);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(sm_type_name(SM_STATE), "state");
	assert_string_equal(sm_type_name(SM_LOCAL), "local");
	assert_string_equal(sm_type_name(0), "unknown");
	assert_string_equal(sm_type_name(8), "unknown");
	assert_string_equal(sm_type_name(-3), "unknown");
	assert_string_equal(sm_path_name(SM_PATH_DIRECT), "direct");
	assert_string_equal(sm_path_name(SM_PATH_RELAY), "relay");
	assert_null(sm_path_name(0));
	assert_int_equal(sm_path_parse("direct"), SM_PATH_DIRECT);
	assert_int_equal(sm_path_parse("relay"), SM_PATH_RELAY);
	assert_int_equal(sm_path_parse("Direct"), -1);
	assert_int_equal(sm_path_parse(NULL), -1);
}

/* Receives one message from fd and decodes it. */
static struct sm_msg
recv_msg(int fd)
{
	uint8_t buf[SM_MAX_MSG + 1];
	struct sm_msg m;
	char err[128];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_true(n > 0);
	if (sm_decode(buf, (size_t)n, &m, err, sizeof(err)) != 0)
		fail_msg("bad message from the worker side: %s", err);
	return m;
}

/* The worker side (worker/status.c): with P2PD_STATUS_FD set, every event is
 * one message on that descriptor; a full channel drops messages instead of
 * blocking; a closed one is given up without a signal. */
static void
test_worker_side(void **state)
{
	struct sm_msg m;
	int sv[2], sent = 0, got = 0;
	char fdstr[16];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	snprintf(fdstr, sizeof(fdstr), "%d", sv[1]);
	setenv("P2PD_STATUS_FD", fdstr, 1);
	status_enable(0); /* no "!!" lines on stdout: only the channel */
	status_state("connecting");
	m = recv_msg(sv[0]);
	assert_int_equal(m.type, SM_STATE);
	assert_string_equal(m.text, "connecting");
	status_connected();
	assert_int_equal(recv_msg(sv[0]).type, SM_CONNECTED);
	status_path("relay", "198.51.100.4:7000", 85);
	m = recv_msg(sv[0]);
	assert_int_equal(m.path, SM_PATH_RELAY);
	assert_int_equal(m.ms, 85);
	assert_string_equal(m.text, "198.51.100.4:7000");
	status_path("sideways", "x", 1); /* not a path: nothing sent */
	status_throughput(10, 20);
	m = recv_msg(sv[0]);
	assert_int_equal(m.type, SM_THROUGHPUT);
	assert_true(m.a == 10 && m.b == 20);
	status_stats(SM_RTT_UNKNOWN, 1, 2);
	m = recv_msg(sv[0]);
	assert_int_equal(m.type, SM_STATS);
	assert_int_equal(m.ms, SM_RTT_UNKNOWN);
	status_local("127.0.0.1:33000");
	assert_string_equal(recv_msg(sv[0]).text, "127.0.0.1:33000");
	status_exit(13, "no answer\nfrom the server");
	m = recv_msg(sv[0]);
	assert_int_equal(m.code, 13);
	assert_string_equal(m.text, "no answer?from the server");
	status_state("Bad State"); /* not a state word: not sent */
	assert_int_equal(recv(sv[0], fdstr, sizeof(fdstr), MSG_DONTWAIT), -1);
	/* Nobody reads: the calls return, the surplus is dropped. */
	for (int i = 0; i < 5000; i++, sent++)
		status_stats((unsigned)i, 0, 0);
	while (recv(sv[0], fdstr, sizeof(fdstr), MSG_DONTWAIT) > 0)
		got++;
	assert_true(got > 0 && got < sent);
	/* p2pd gone: no SIGPIPE, the channel is given up. */
	close(sv[0]);
	status_state("connecting");
	status_state("connecting");
	close(sv[1]);
	unsetenv("P2PD_STATUS_FD");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),	       cmocka_unit_test(test_known_bytes),
	    cmocka_unit_test(test_encode_cleans_text), cmocka_unit_test(test_encode_refuses),
	    cmocka_unit_test(test_decode_malformed),   cmocka_unit_test(test_decode_truncations),
	    cmocka_unit_test(test_decode_random),      cmocka_unit_test(test_names),
	    cmocka_unit_test(test_worker_side),
	};

	log_init("test", LOG_LVL_ERROR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
