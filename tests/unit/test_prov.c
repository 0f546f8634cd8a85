/* Tests of the provisioning-file parser (common/prov) and its line reader
 * (common/linereader). */
#include <errno.h>
#include <fcntl.h>
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

#include "common/linereader.h"
#include "common/prov.h"
#include "common/uid.h"
#include "common/util.h"
#include "tests/unit/helper_test.h"

/* ---- helpers ---------------------------------------------------------- */

static int
load_text_len(const char *text, size_t len, struct prov *p, char *err, size_t errlen)
{
	th_capture_reset();
	return prov_load_text_diag("t.conf", text, len, &th_capture_diag, p, err, errlen);
}

static int
load_text(const char *text, struct prov *p, char *err, size_t errlen)
{
	return load_text_len(text, strlen(text), p, err, errlen);
}

/* A path below the source tree (the tests run from the repository root). */
static const char *
src_path(const char *rel)
{
	static char buf[512];
	const char *f = __FILE__, *p = strstr(f, "tests/unit/");

	snprintf(buf, sizeof(buf), "%.*s%s", (int)(p != NULL ? p - f : 0), f, rel);
	return buf;
}

#define HASH_HEX "00112233445566778899aabbccddeeff00112233"

/* A complete initiator; the case under test is its fifth line. */
#define INIT_BASE                                                                                  \
	"user_id alice\n"                                                                          \
	"auth_hash " HASH_HEX "\n"                                                                 \
	"remote_address 80:00:00:00:01:00:0A:C2\n"                                                 \
	"proxy_local_port 33000\n"

/* A complete target; the case under test is its fourth line. */
#define TARGET_BASE                                                                                \
	"UID 80:00:00:00:01:00:0A:C2\n"                                                            \
	"secret 0123456789abcdef-target\n"                                                         \
	"proxy_dest_port 22\n"

/* ---- the reader ------------------------------------------------------- */

struct seen {
	int n;
	int line[32];
	char section[32][LR_MAX_LINE + 1];
	char key[32][LR_MAX_KEY + 1];
	char value[32][LR_MAX_LINE + 1];
};

static void
record(void *user, int line, const char *section, const char *key, const char *value)
{
	struct seen *s = user;

	assert_true(s->n < 32);
	s->line[s->n] = line;
	snprintf(s->section[s->n], sizeof(s->section[0]), "%s", section);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key != NULL ? key : "(section)");
	snprintf(s->value[s->n], sizeof(s->value[0]), "%s", value != NULL ? value : "");
	s->n++;
}

static int
lex(const char *text, size_t len, int flags, struct seen *s, char *err, size_t errlen)
{
	struct linereader lr;
	int rc;

	memset(s, 0, sizeof(*s));
	th_capture_reset();
	lr_init(&lr, "r.conf", flags, NULL, &th_capture_diag, err, errlen);
	rc = lr_parse(&lr, text, len, record, s);
	assert_int_equal(rc == 0, lr.nerrors == 0);
	return rc;
}

static void
test_reader_separators(void **state)
{
	const char text[] = "a 1\n"
			    "b=2\n"
			    "c = 3\n"
			    "d\t \t4 with  inner   spaces  \t\n"
			    "e   =   x=y\n"
			    "f ==z\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.key[0], "a");
	assert_string_equal(s.value[0], "1");
	assert_string_equal(s.value[1], "2");
	assert_string_equal(s.value[2], "3");
	assert_string_equal(s.value[3], "4 with  inner   spaces");
	assert_string_equal(s.value[4], "x=y");
	assert_string_equal(s.value[5], "=z");
	for (int i = 0; i < 6; i++)
		assert_int_equal(s.line[i], i + 1);
}

/* Stock inih splits at ':' too; the reader's "key=value" keeps a UID whole. */
static void
test_reader_colon_in_value(void **state)
{
	const char text[] = "remote_address 80:00:00:00:01:00:0A:C2\nserver [2001:db8::1]:5959\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.key[0], "remote_address");
	assert_string_equal(s.value[0], "80:00:00:00:01:00:0A:C2");
	assert_string_equal(s.value[1], "[2001:db8::1]:5959");
}

/* Inline comments: some inih builds cut a value at " ;" or " #". The reader
 * has none: '#' and ';' inside a value are part of it, in every build. */
static void
test_reader_no_inline_comments(void **state)
{
	const char text[] = "auth_pass abc ;def\nsecret x #y\n# whole-line comment\n; another\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.value[0], "abc ;def");
	assert_string_equal(s.value[1], "x #y");
}

/* Stock inih takes an indented line as the continuation of the previous
 * value; the reader strips leading whitespace, so it is a line of its own. */
static void
test_reader_leading_whitespace(void **state)
{
	const char text[] = "a 1\n   b 2\n\t c 3\n    # indented comment\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.key[1], "b");
	assert_string_equal(s.value[1], "2");
	assert_int_equal(s.line[1], 2);
	assert_string_equal(s.key[2], "c");
	assert_int_equal(s.line[2], 3);
}

/* inih's own line buffer is 200 bytes by default; the reader passes lines up
 * to LR_MAX_LINE bytes whole, and refuses longer ones. */
static void
test_reader_long_lines(void **state)
{
	char text[3 * LR_MAX_LINE];
	struct seen s;
	char err[256];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "k ");
	memset(text + n, 'v', LR_MAX_LINE - n);
	n = LR_MAX_LINE;
	text[n++] = '\n';
	assert_int_equal(lex(text, n, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.value[0]), LR_MAX_LINE - 2);

	/* One byte more is refused, and the next line still parses. */
	n = (size_t)snprintf(text, sizeof(text), "first 1\nkey ");
	memset(text + n, 'v', LR_MAX_LINE);
	n += LR_MAX_LINE;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nlast 3\n");
	assert_int_equal(lex(text, n, 0, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "r.conf:2: key: line too long (1028 bytes; at most 1024)");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.key[1], "last");
	assert_int_equal(s.line[1], 3);
}

static void
test_reader_crlf_bom_no_final_newline(void **state)
{
	const char text[] = "\xEF\xBB\xBF"
			    "a 1\r\n"
			    "\r\n"
			    "# c\r\n"
			    "b = 2 \r\n"
			    "c 3";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.key[0], "a");
	assert_string_equal(s.value[0], "1");
	assert_string_equal(s.value[1], "2");
	assert_int_equal(s.line[1], 4);
	assert_string_equal(s.value[2], "3");
	assert_int_equal(s.line[2], 5);
}

static void
test_reader_sections(void **state)
{
	const char text[] = "[ user alice ]\n"
			    "allow = 80:00:00:00:01:00:0A:C2\n"
			    "[server]\n"
			    "listen 0.0.0.0:5959\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, LR_SECTIONS, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.key[0], "(section)");
	assert_string_equal(s.section[0], "user alice");
	assert_string_equal(s.section[1], "user alice");
	assert_string_equal(s.key[1], "allow");
	assert_string_equal(s.value[1], "80:00:00:00:01:00:0A:C2");
	assert_string_equal(s.section[3], "server");
	assert_int_equal(s.line[3], 4);

	/* Without LR_SECTIONS a header is an error. */
	assert_int_equal(lex(text, sizeof(text) - 1, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "r.conf:1: section headers"));
	/* Malformed headers. */
	assert_int_equal(lex("[x\n", 3, LR_SECTIONS, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "r.conf:1: malformed section header"));
	assert_int_equal(lex("[ ]\n", 4, LR_SECTIONS, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "r.conf:1: empty section name"));
	assert_int_equal(lex("[a]]\n", 5, LR_SECTIONS, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'[' or ']' inside"));
}

static void
test_reader_binary(void **state)
{
	static const char nul[] = "ok 1\nauth_pass ab\0cd\nnext 2\n";
	static const char utf8[] = "name caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(lex(nul, sizeof(nul) - 1, 0, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "r.conf:2: auth_pass: NUL byte at column 13 (configuration "
				 "files are text; is this a binary file?)");
	assert_int_equal(s.n, 2); /* the bad line is skipped, the others parse */

	assert_int_equal(lex("\x7f\x45LF\x02\x01\x01", 7, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "r.conf:1: control character 0x7F at column 1"));

	/* Valid UTF-8 is fine; overlong, surrogate and truncated sequences are not. */
	assert_int_equal(lex(utf8, sizeof(utf8) - 1, 0, &s, err, sizeof(err)), 0);
	assert_string_equal(s.value[0], "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_int_equal(lex("name \xc0\xaf\n", 8, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "r.conf:1: name: invalid UTF-8 byte 0xC0 at column 6"));
	assert_int_equal(lex("name \xed\xa0\x80\n", 9, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid UTF-8"));
	assert_int_equal(lex("name \xe2\x82", 7, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid UTF-8"));
}

static void
test_reader_too_many_errors(void **state)
{
	static char text[LR_MAX_ERRORS * 2 * 4];
	struct seen s;
	char err[256];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < LR_MAX_ERRORS * 2; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "=x\n");
	assert_int_equal(lex(text, n, 0, &s, err, sizeof(err)), -1);
	assert_int_equal(th_count_msgs(CONF_ERROR, "missing key name", NULL), LR_MAX_ERRORS);
	assert_int_equal(th_count_msgs(CONF_ERROR, "r.conf: too many errors (50); giving up", NULL),
			 1);
	assert_string_equal(err, "r.conf:1: malformed line: missing key name before '='");
}

static void
test_reader_label(void **state)
{
	char b[PROV_NAME_MAX];

	(void)state;
	assert_string_equal(lr_label_from_path("/etc/p2pd/conf.d/ssh-pi.conf", b, sizeof(b)),
			    "ssh-pi");
	assert_string_equal(lr_label_from_path("my file.txt", b, sizeof(b)), "my_file.txt");
	assert_string_equal(lr_label_from_path("dir/.conf", b, sizeof(b)), ".conf");
	assert_string_equal(lr_label_from_path("a@b+c", b, sizeof(b)), "a@b+c");
}

/* ---- valid files -------------------------------------------------------- */

static void
test_seed_sample(void **state)
{
	const char *fixture = src_path("tests/unit/data/seed-initiator.conf");
	char err[512], ub[UID_STRLEN];
	struct prov p;

	(void)state;
	th_capture_reset();
	if (prov_load_file_diag(fixture, 0, &th_capture_diag, &p, err, sizeof(err)) != 0) {
		th_dump_msgs();
		fail_msg("%s", err);
	}
	assert_int_equal(p.mode, PROV_INITIATOR);
	assert_int_equal(p.autoconnect, 1);
	assert_int_equal(p.proxy_local_port, 33300);
	assert_string_equal(uid_format(&p.remote_address, ub), "80:00:00:00:01:00:0A:C2");
	assert_int_equal(p.max_depth, 12);
	assert_string_equal(p.user_id, "yourname@example.com");
	assert_true(p.has_auth_pass);
	assert_string_equal(p.auth_pass, "weaved1234");
	assert_false(p.has_auth_hash);
	assert_string_equal(p.proxy_bind_address, "127.0.0.1");
	assert_false(p.has_restrict_ip);
	assert_int_equal(p.encryption, 2);
	assert_string_equal(p.server, "");
	assert_string_equal(p.name, "seed-initiator");
	assert_int_equal(p.nerrors, 0);
	/* The one warning: auth_pass is discouraged (line 14 of the fixture). */
	assert_int_equal(p.nwarnings, 1);
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       ":14: auth_pass is discouraged; use auth_hash "
				       "(connectd --hash USER PASSWORD)",
				       NULL),
			 1);
	prov_wipe(&p);
	assert_false(p.has_auth_pass);
	assert_string_equal(p.auth_pass, "");
}

/* conf.d holds the same text as the fixture. */
static void
test_seed_example_matches_fixture(void **state)
{
	char a[4096], b[4096];
	size_t na, nb;
	FILE *f;

	(void)state;
	f = fopen(src_path("tests/unit/data/seed-initiator.conf"), "rb");
	assert_non_null(f);
	na = fread(a, 1, sizeof(a), f);
	fclose(f);
	f = fopen(src_path("conf.d/seed-initiator.conf.example"), "rb");
	assert_non_null(f);
	nb = fread(b, 1, sizeof(b), f);
	fclose(f);
	assert_true(na > 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	/* The seed's comments are kept as written, backslash line included. */
	assert_non_null(strstr(a, "\n#remote_address is the (UID) address of the target to "
				  "connect to.\\\nremote_address 80:00:00:00:01:00:0A:C2\n"));
	assert_non_null(strstr(a, "\n# keep this comment line here\n"));
	assert_non_null(strstr(a, "PLACEHOLDER"));
}

static void
test_target_example(void **state)
{
	char err[512], ub[UID_STRLEN];
	struct prov p;

	(void)state;
	th_capture_reset();
	if (prov_load_file_diag(src_path("conf.d/target-ssh.conf.example"), 0, &th_capture_diag, &p,
				err, sizeof(err)) != 0) {
		th_dump_msgs();
		fail_msg("%s", err);
	}
	assert_int_equal(p.mode, PROV_TARGET);
	assert_string_equal(uid_format(&p.uid, ub), "80:00:00:00:01:00:0A:C2");
	assert_string_equal(p.proxy_dest_ip, "127.0.0.1");
	assert_int_equal(p.proxy_dest_port, 22);
	assert_int_equal(p.application_type, 28);
	assert_int_equal(p.allow_encryption, (1 << 2) | (1 << 3));
	assert_int_equal(p.autoconnect, 2);
	assert_int_equal(p.nwarnings, 0);
	assert_non_null(strstr(p.secret, "PLACEHOLDER"));
	prov_wipe(&p);
}

static void
test_initiator_all_keys(void **state)
{
	const char text[] = "# every initiator key\n"
			    "name ssh-pi\n"
			    "autoconnect 2\n"
			    "user_id bob@example.com\n"
			    "auth_hash " HASH_HEX "\n"
			    "remote_address 80:00:00:00:01:00:0a:c2\n"
			    "proxy_local_port = 65535\n"
			    "proxy_local_ip ::1\n"
			    "restrict_ip 192.0.2.7\n"
			    "max_depth 256\n"
			    "encryption 3\n"
			    "server rdv.example.net:7000\n"
			    "lifetime 60\n"
			    "idle_limit 300\n"
			    "mtu 1472\n"
			    "keepalive 10\n"
			    "dead_interval 11\n"
			    "punch_timeout 9\n";
	static const uint8_t hash[AUTH_HASH_LEN] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
						    0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
						    0xee, 0xff, 0x00, 0x11, 0x22, 0x33};
	char err[512], ub[UID_STRLEN];
	struct prov p;

	(void)state;
	assert_int_equal(load_text(text, &p, err, sizeof(err)), 0);
	assert_int_equal(th_cap.n, 0);
	assert_int_equal(p.mode, PROV_INITIATOR);
	assert_string_equal(p.name, "ssh-pi");
	assert_int_equal(p.autoconnect, 2);
	assert_string_equal(p.user_id, "bob@example.com");
	assert_true(p.has_auth_hash);
	assert_memory_equal(p.auth_hash, hash, AUTH_HASH_LEN);
	assert_false(p.has_auth_pass);
	assert_string_equal(uid_format(&p.remote_address, ub), "80:00:00:00:01:00:0A:C2");
	assert_int_equal(p.proxy_local_port, 65535);
	assert_string_equal(p.proxy_bind_address, "::1");
	assert_true(p.has_restrict_ip);
	assert_string_equal(p.restrict_ip, "192.0.2.7");
	assert_int_equal(p.max_depth, 256);
	assert_int_equal(p.encryption, 3);
	assert_string_equal(p.server, "rdv.example.net:7000");
	assert_string_equal(p.server_host, "rdv.example.net");
	assert_int_equal(p.server_port, 7000);
	assert_int_equal(p.lifetime, 60);
	assert_int_equal(p.idle_limit, 300);
	assert_int_equal(p.mtu, 1472);
	assert_int_equal(p.keepalive, 10);
	assert_int_equal(p.dead_interval, 11);
	assert_int_equal(p.punch_timeout, 9);
	assert_string_equal(p.source, "t.conf");
}

static void
test_defaults(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text(INIT_BASE, &p, err, sizeof(err)), 0);
	assert_int_equal(p.autoconnect, 1);
	assert_int_equal(p.max_depth, 12);
	assert_int_equal(p.encryption, 2);
	assert_string_equal(p.proxy_bind_address, "127.0.0.1");
	assert_string_equal(p.restrict_ip, "0.0.0.0");
	assert_false(p.has_restrict_ip);
	assert_int_equal(p.lifetime, 0);
	assert_int_equal(p.idle_limit, 0);
	assert_int_equal(p.mtu, 1200);
	assert_int_equal(p.keepalive, 15);
	assert_int_equal(p.dead_interval, 60);
	assert_int_equal(p.punch_timeout, 5);
	assert_string_equal(p.name, "t");

	assert_int_equal(load_text(TARGET_BASE, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mode, PROV_TARGET);
	assert_string_equal(p.proxy_dest_ip, "127.0.0.1");
	assert_int_equal(p.allow_encryption, 0x0F);
	assert_int_equal(p.application_type, 0);
	assert_int_equal(p.max_depth, 12);

	/* restrict_ip :: means any, as 0.0.0.0 does. */
	assert_int_equal(load_text(INIT_BASE "restrict_ip ::\n", &p, err, sizeof(err)), 0);
	assert_false(p.has_restrict_ip);
	/* server without a port takes the default port; bare IPv6 too. */
	assert_int_equal(load_text(INIT_BASE "server 2001:db8::5\n", &p, err, sizeof(err)), 0);
	assert_string_equal(p.server_host, "2001:db8::5");
	assert_int_equal(p.server_port, PROV_DEFAULT_SERVER_PORT);
	assert_int_equal(load_text(INIT_BASE "server [2001:db8::5]:1\n", &p, err, sizeof(err)), 0);
	assert_int_equal(p.server_port, 1);
}

static void
test_target_aliases_and_allow(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text("uid 80:00:00:00:01:00:0A:C2\n"
				   "PASSWORD 0123456789abcdef-target\n"
				   "proxy_dest_ip 198.51.100.20\n"
				   "proxy_dest_port 80\n"
				   "allow_encryption  3 , 0\n",
				   &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.mode, PROV_TARGET);
	assert_string_equal(p.secret, "0123456789abcdef-target");
	assert_string_equal(p.proxy_dest_ip, "198.51.100.20");
	assert_int_equal(p.allow_encryption, (1 << 3) | (1 << 0));
	assert_int_equal(th_cap.n, 0);
}

static void
test_crlf_and_bom(void **state)
{
	const char text[] = "\xEF\xBB\xBF# bom and CRLF\r\n"
			    "user_id alice\r\n"
			    "auth_pass p4ss word\r\n"
			    "remote_address 80:00:00:00:01:00:0A:C2\r\n"
			    "proxy_local_port 33000\r\n";
	char err[512];
	const char *path;
	struct prov p;

	(void)state;
	assert_int_equal(load_text(text, &p, err, sizeof(err)), 0);
	assert_string_equal(p.auth_pass, "p4ss word");
	assert_int_equal(p.proxy_local_port, 33000);
	/* The same from a file. */
	path = th_write_tmp(th_tmpdir, text, sizeof(text) - 1, 0600);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), 0);
	assert_string_equal(p.user_id, "alice");
	prov_wipe(&p);
}

/* ---- warnings ------------------------------------------------------------ */

static void
test_unknown_key_warns(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text(INIT_BASE "colour blue\n", &p, err, sizeof(err)), 0);
	assert_int_equal(p.nwarnings, 1);
	assert_int_equal(
	    th_count_msgs(CONF_WARNING, "t.conf:5: colour: unknown key (ignored)", NULL), 1);
	assert_string_equal(err, "");
}

static void
test_duplicate_key_warns(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text(INIT_BASE "max_depth 20\nmax_depth 30\n", &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.max_depth, 30);
	assert_int_equal(th_count_msgs(CONF_WARNING, "t.conf:6: max_depth: duplicate key", "line 5",
				       "line 6", NULL),
			 1);
	/* An alias counts as the same key. */
	assert_int_equal(load_text(INIT_BASE "proxy_bind_address 192.0.2.1\n"
					     "proxy_local_ip 192.0.2.2\n",
				   &p, err, sizeof(err)),
			 0);
	assert_string_equal(p.proxy_bind_address, "192.0.2.2");
	assert_int_equal(th_count_msgs(CONF_WARNING, "t.conf:6: proxy_local_ip: duplicate key",
				       "'proxy_bind_address'", NULL),
			 1);
}

static void
test_auth_pass_and_hash(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text(INIT_BASE "auth_pass hunter2\n", &p, err, sizeof(err)), 0);
	assert_true(p.has_auth_hash);
	assert_false(p.has_auth_pass);
	assert_string_equal(p.auth_pass, "");
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       "t.conf:5: auth_pass: ignored, since auth_hash "
				       "is set (line 2)",
				       NULL),
			 1);
	for (int i = 0; i < th_cap.n; i++)
		assert_null(strstr(th_cap.msg[i], "hunter2"));
}

static void
test_other_mode_keys_warn(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text(INIT_BASE "proxy_dest_port 22\n", &p, err, sizeof(err)), 0);
	assert_int_equal(th_count_msgs(CONF_WARNING,
				       "t.conf:5: proxy_dest_port: ignored: a target key in an "
				       "initiator file",
				       NULL),
			 1);
	assert_int_equal(load_text(TARGET_BASE "encryption 1\n", &p, err, sizeof(err)), 0);
	assert_int_equal(
	    th_count_msgs(CONF_WARNING,
			  "t.conf:4: encryption: ignored: an initiator key in a target "
			  "file",
			  NULL),
	    1);
	assert_int_equal(load_text("UID 80:00:00:00:01:00:0A:C2\nsecret short\n"
				   "proxy_dest_port 22\n",
				   &p, err, sizeof(err)),
			 0);
	assert_int_equal(
	    th_count_msgs(CONF_WARNING, "t.conf:2: secret: short secret (5 bytes)", NULL), 1);
}

/* ---- malformed input: one test per case ---------------------------------- */

struct bad {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line;   /* 0: a message about the whole file */
	const char *key;
	const char *frag;
	const char *secret; /* must not appear in any message */
};

#define LONG_NAME                                                                                  \
	"name "                                                                                    \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG8 LONG_NAME LONG_NAME LONG_NAME LONG_NAME LONG_NAME LONG_NAME LONG_NAME LONG_NAME
#define S50   "ssssssssssssssssssssssssssssssssssssssssssssssssss"
#define S300  S50 S50 S50 S50 S50 S50

static const struct bad bad_cases[] = {
    {"uid_short", INIT_BASE "remote_address 80:00:00:00:01:00:0A\n", 0, 5, "remote_address",
     "invalid value '80:00:00:00:01:00:0A': expected 8 bytes", NULL},
    {"uid_not_hex", INIT_BASE "remote_address 80:00:00:00:01:00:0A:G2\n", 0, 5, "remote_address",
     "'G' is not a hex digit", NULL},
    {"uid_junk", INIT_BASE "remote_address 80-00-00-00-01-00-0A-C2\n", 0, 5, "remote_address",
     "invalid value '80-00-00-00-01-00-0A-C2'", NULL},
    {"target_uid_bad", TARGET_BASE "UID 80:00:00:00:01:00:0A:C2:FF\n", 0, 4, "UID",
     "invalid value '80:00:00:00:01:00:0A:C2:FF'", NULL},
    {"port_zero", INIT_BASE "proxy_local_port 0\n", 0, 5, "proxy_local_port",
     "invalid value '0': expected a port number from 1 to 65535", NULL},
    {"port_70000", INIT_BASE "proxy_local_port 70000\n", 0, 5, "proxy_local_port",
     "invalid value '70000': expected a port number from 1 to 65535", NULL},
    {"port_abc", INIT_BASE "proxy_local_port abc\n", 0, 5, "proxy_local_port",
     "invalid value 'abc'", NULL},
    {"port_negative", INIT_BASE "proxy_local_port -22\n", 0, 5, "proxy_local_port",
     "invalid value '-22'", NULL},
    {"port_inline_comment", INIT_BASE "proxy_local_port 33000 # ssh\n", 0, 5, "proxy_local_port",
     "invalid value '33000 # ssh'", NULL},
    {"dest_port_zero", TARGET_BASE "proxy_dest_port 0\n", 0, 4, "proxy_dest_port",
     "expected a port number from 1 to 65535", NULL},
    {"max_depth_zero", INIT_BASE "max_depth 0\n", 0, 5, "max_depth",
     "invalid value '0': expected a number from 1 to 256", NULL},
    {"max_depth_257", INIT_BASE "max_depth 257\n", 0, 5, "max_depth", "from 1 to 256", NULL},
    {"max_depth_negative", INIT_BASE "max_depth -3\n", 0, 5, "max_depth", "invalid value '-3'",
     NULL},
    {"encryption_7", INIT_BASE "encryption 7\n", 0, 5, "encryption",
     "invalid value '7': expected 0 (none), 1 (RC4), 2 (XXTEA) or 3 (ChaCha20-Poly1305)", NULL},
    {"encryption_negative", INIT_BASE "encryption -1\n", 0, 5, "encryption", "invalid value '-1'",
     NULL},
    {"autoconnect_3", INIT_BASE "autoconnect 3\n", 0, 5, "autoconnect",
     "invalid value '3': expected 0 (manual)", NULL},
    {"auth_hash_short", INIT_BASE "auth_hash 00112233445566778899aabbccddeeff0011223\n", 0, 5,
     "auth_hash", "invalid value (hidden): expected 40 hex digits, got 39 characters",
     "00112233445566778899aabbccddeeff0011223"},
    {"auth_hash_long", INIT_BASE "auth_hash " HASH_HEX "00\n", 0, 5, "auth_hash",
     "got 42 characters", HASH_HEX},
    {"auth_hash_not_hex", INIT_BASE "auth_hash 0011223344556677889zaabbccddeeff00112233\n", 0, 5,
     "auth_hash", "invalid value (hidden): expected 40 hex digits (0-9, a-f)", "889zaa"},
    {"auth_pass_too_long", INIT_BASE "auth_pass " S300 "\n", 0, 5, "auth_pass",
     "invalid value (hidden): expected a password of at most 255 bytes (got 300)", S50},
    {"secret_too_long", TARGET_BASE "password " S300 "\n", 0, 4, "password",
     "invalid value (hidden): expected a secret of at most 255 bytes", S50},
    {"restrict_ip_garbage", INIT_BASE "restrict_ip 10.0.0.300\n", 0, 5, "restrict_ip",
     "invalid value '10.0.0.300': expected the numeric IPv4 or IPv6 address", NULL},
    {"restrict_ip_name", INIT_BASE "restrict_ip localhost\n", 0, 5, "restrict_ip",
     "invalid value 'localhost'", NULL},
    {"bind_address_name", INIT_BASE "proxy_bind_address example.com\n", 0, 5, "proxy_bind_address",
     "expected a numeric IPv4 or IPv6 address", NULL},
    {"bind_alias_bad", INIT_BASE "proxy_local_ip 1.2.3\n", 0, 5, "proxy_local_ip",
     "invalid value '1.2.3'", NULL},
    {"dest_ip_bad", TARGET_BASE "proxy_dest_ip 256.1.1.1\n", 0, 4, "proxy_dest_ip",
     "invalid value '256.1.1.1'", NULL},
    {"lifetime_negative", INIT_BASE "lifetime -5\n", 0, 5, "lifetime",
     "invalid value '-5': expected minutes from 0", NULL},
    {"idle_limit_abc", INIT_BASE "idle_limit abc\n", 0, 5, "idle_limit",
     "invalid value 'abc': expected seconds from 0", NULL},
    {"server_port_zero", INIT_BASE "server rdv.example.net:0\n", 0, 5, "server",
     "invalid value 'rdv.example.net:0': expected host[:port]", NULL},
    {"server_bad_host", INIT_BASE "server bad host!\n", 0, 5, "server", "invalid value 'bad host!'",
     NULL},
    {"mtu_small", INIT_BASE "mtu 100\n", 0, 5, "mtu", "from 576 to 1472", NULL},
    {"mtu_large", INIT_BASE "mtu 9000\n", 0, 5, "mtu", "invalid value '9000'", NULL},
    {"keepalive_zero", INIT_BASE "keepalive 0\n", 0, 5, "keepalive", "from 1 to 3600", NULL},
    {"dead_interval_not_above_keepalive", INIT_BASE "dead_interval 15\n", 0, 5, "dead_interval",
     "invalid value '15': must be more than keepalive (15)", NULL},
    {"keepalive_not_below_dead_interval", INIT_BASE "keepalive 60\n", 0, 5, "keepalive",
     "invalid value '60': must be less than dead_interval (60)", NULL},
    {"punch_timeout_zero", INIT_BASE "punch_timeout 0\n", 0, 5, "punch_timeout", "from 1 to 300",
     NULL},
    {"name_with_space", INIT_BASE "name my pi\n", 0, 5, "name", "invalid value 'my pi'", NULL},
    {"user_id_with_space", INIT_BASE "user_id alice smith\n", 0, 5, "user_id",
     "expected a user name without spaces", NULL},
    {"application_type_big", TARGET_BASE "application_type 70000\n", 0, 4, "application_type",
     "expected a number from 0 to 65535", NULL},
    {"allow_encryption_1_9", TARGET_BASE "allow_encryption 1,9\n", 0, 4, "allow_encryption",
     "invalid value '1,9': expected a comma-separated list of modes from 0 to 3", NULL},
    {"allow_encryption_empty_item", TARGET_BASE "allow_encryption 1,,2\n", 0, 4, "allow_encryption",
     "invalid value '1,,2'", NULL},
    {"allow_encryption_trailing", TARGET_BASE "allow_encryption 2,\n", 0, 4, "allow_encryption",
     "invalid value '2,'", NULL},
    {"allow_encryption_10", TARGET_BASE "allow_encryption 10\n", 0, 4, "allow_encryption",
     "invalid value '10'", NULL},
    {"only_a_key", INIT_BASE "max_depth\n", 0, 5, "max_depth",
     "missing value; expected 'max_depth VALUE'", NULL},
    {"key_and_equals", INIT_BASE "max_depth =  \n", 0, 5, "max_depth", "missing value", NULL},
    {"key_with_colon", INIT_BASE "auth_pass:hunter2\n", 0, 5, "auth_pass",
     "unexpected ':' after the key name", "hunter2"},
    {"over_long_line", INIT_BASE LONG8 LONG8 "\n", 0, 5, "name",
     "line too long (1424 bytes; at most 1024)", NULL},
    {"nul_byte", INIT_BASE "auth_pass ab\0cd\n", sizeof(INIT_BASE "auth_pass ab\0cd\n") - 1, 5,
     "auth_pass", "NUL byte at column 13", NULL},
    {"binary_garbage", INIT_BASE "proxy_local_port 33\x01\x02\xff\n", 0, 5, "proxy_local_port",
     "control character 0x01 at column 20", NULL},
    {"invalid_utf8", INIT_BASE "name caf\xe9\n", 0, 5, "name",
     "invalid UTF-8 byte 0xE9 at column 9", NULL},
    {"section_header", INIT_BASE "[initiator]\n", 0, 5, NULL,
     "section headers ('[...]') are not used in this file", NULL},
    {"equals_first", INIT_BASE "= 5\n", 0, 5, NULL, "missing key name before '='", NULL},
    {"mixed_modes", INIT_BASE "UID 80:00:00:00:01:00:0A:C3\n", 0, 5, "UID",
     "a target key in a file that has initiator keys ('user_id' at line 1)", NULL},
    {"neither_mode", "max_depth 12\nserver rdv.example.net\n", 0, 0, NULL,
     "neither an initiator nor a target: the mode is decided by remote_address, user_id, "
     "proxy_local_port (initiator) or UID, secret (target)",
     NULL},
    {"empty_file", "", 0, 0, NULL, "neither an initiator nor a target", NULL},
    {"missing_port",
     "user_id alice\nauth_hash " HASH_HEX "\nremote_address 80:00:00:00:01:00:0A:C2\n", 0, 0, NULL,
     "t.conf: missing required key 'proxy_local_port' (initiator mode)", NULL},
    {"missing_user",
     "auth_hash " HASH_HEX "\nremote_address 80:00:00:00:01:00:0A:C2\n"
     "proxy_local_port 1\n",
     0, 0, NULL, "t.conf: missing required key 'user_id' (initiator mode)", NULL},
    {"missing_remote", "user_id a\nauth_hash " HASH_HEX "\nproxy_local_port 1\n", 0, 0, NULL,
     "t.conf: missing required key 'remote_address' (initiator mode)", NULL},
    {"missing_auth", "user_id a\nremote_address 80:00:00:00:01:00:0A:C2\nproxy_local_port 1\n", 0,
     0, NULL, "t.conf: missing required key 'auth_hash' (or auth_pass) (initiator mode)", NULL},
    {"missing_dest_port", "UID 80:00:00:00:01:00:0A:C2\nsecret 0123456789abcdef\n", 0, 0, NULL,
     "t.conf: missing required key 'proxy_dest_port' (target mode)", NULL},
    {"missing_secret", "UID 80:00:00:00:01:00:0A:C2\nproxy_dest_port 22\n", 0, 0, NULL,
     "t.conf: missing required key 'secret' (target mode)", NULL},
};

static void
test_bad_case(void **state)
{
	const struct bad *b = *state;
	size_t len = b->len ? b->len : strlen(b->text);
	char err[LR_MAX_MSG], where[32];
	struct prov p;

	assert_int_equal(load_text_len(b->text, len, &p, err, sizeof(err)), -1);
	assert_true(p.nerrors >= 1);
	assert_int_equal(p.mode, PROV_NONE);
	/* The first error names the file and the line ... */
	if (b->line > 0)
		snprintf(where, sizeof(where), "t.conf:%d: ", b->line);
	else
		snprintf(where, sizeof(where), "t.conf: ");
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, b->frag) == NULL)
		fail_msg("case %s: got \"%s\"; expected \"%s...%s\"", b->name, err, where, b->frag);
	/* ... then the key, ... */
	if (b->key != NULL) {
		char kp[128];
		snprintf(kp, sizeof(kp), "%s%s: ", where, b->key);
		if (strncmp(err, kp, strlen(kp)) != 0)
			fail_msg("case %s: got \"%s\"; expected it to start with \"%s\"", b->name,
				 err, kp);
	}
	/* ... and is also the first error the diagnostic callback saw. */
	assert_true(th_count_msgs(CONF_ERROR, err, NULL) >= 1);
	for (int i = 0; i < th_cap.n && i < TH_MAXMSG; i++)
		if (b->secret != NULL && strstr(th_cap.msg[i], b->secret) != NULL)
			fail_msg("case %s: a secret value is shown: %s", b->name, th_cap.msg[i]);
}

/* ---- several errors at once ---------------------------------------------- */

static void
test_all_errors_listed(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(load_text("user_id alice\n"
				   "auth_hash " HASH_HEX "\n"
				   "remote_address 80:00\n"
				   "proxy_local_port 0\n"
				   "bogus 1\n"
				   "max_depth 999\n",
				   &p, err, sizeof(err)),
			 -1);
	assert_int_equal(p.nerrors, 3);
	assert_int_equal(p.nwarnings, 1);
	assert_int_equal(th_cap.n, 4);
	assert_int_equal(th_cap.line[0], 3);
	assert_int_equal(th_cap.line[1], 4);
	assert_int_equal(th_cap.line[2], 5);
	assert_int_equal(th_cap.sev[2], CONF_WARNING);
	assert_int_equal(th_cap.line[3], 6);
	assert_non_null(strstr(err, "t.conf:3: remote_address:"));
}

/* Without a diag callback, the first error still reaches err. */
static void
test_no_diag(void **state)
{
	struct prov p;
	char err[512];

	(void)state;
	assert_int_equal(prov_load_text("x.conf", INIT_BASE "mtu 1\n", strlen(INIT_BASE "mtu 1\n"),
					&p, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "x.conf:5: mtu: invalid value '1'"));
	assert_int_equal(p.nerrors, 1);
}

static void
test_text_too_large(void **state)
{
	size_t n = PROV_MAX_FILE + 1;
	char *big = malloc(n);
	struct prov p;
	char err[512];

	(void)state;
	assert_non_null(big);
	memset(big, '\n', n);
	assert_int_equal(load_text_len(big, n, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf: too large (65537 bytes; at most 65536)");
	free(big);
}

/* ---- files ------------------------------------------------------------------ */

static void
test_file_missing(void **state)
{
	char path[256], err[512];
	struct prov p;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such.conf", th_tmpdir);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

static void
test_file_is_directory(void **state)
{
	char err[512], want[512];
	struct prov p;

	(void)state;
	assert_int_equal(prov_load_file(th_tmpdir, &p, err, sizeof(err), 1), -1);
	snprintf(want, sizeof(want), "%s: %s (expected a configuration file)", th_tmpdir,
		 strerror(EISDIR));
	assert_string_equal(err, want);
}

static void
test_file_unreadable(void **state)
{
	char bad[256], err[512];
	const char *path;
	struct prov p;

	(void)state;
	path = th_write_tmp(th_tmpdir, INIT_BASE, strlen(INIT_BASE), 0000);
	if (geteuid() != 0) {
		assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), -1);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, strerror(EACCES)));
	}
	/* As root mode 000 does not stop a read: use a path whose parent is a file. */
	snprintf(bad, sizeof(bad), "%s/x.conf", path);
	assert_int_equal(prov_load_file(bad, &p, err, sizeof(err), 1), -1);
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
}

static void
test_file_not_regular(void **state)
{
	char err[512];
	struct prov p;

	(void)state;
	assert_int_equal(prov_load_file("/dev/null", &p, err, sizeof(err), 1), -1);
	assert_string_equal(err, "/dev/null: not a regular file (expected a configuration file)");
}

static void
test_file_permissions(void **state)
{
	const char *fixture = src_path("tests/unit/data/seed-initiator.conf");
	char text[4096], err[1024], want[1024];
	const char *path;
	struct prov p;
	size_t n;
	FILE *f;

	(void)state;
	f = fopen(fixture, "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);

	path = th_write_tmp(th_tmpdir, text, n, 0600);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), 0);
	assert_int_equal(p.mode, PROV_INITIATOR);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), -1);
	snprintf(want, sizeof(want),
		 "%s: holds credentials but is readable by others (mode 0644); run: chmod 600 %s",
		 path, path);
	assert_string_equal(err, want);
	/* Without the check (connectd --check on a copy, tests) it loads. */
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 0), 0);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), -1);
	assert_non_null(strstr(err, "(mode 0640); run: chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), -1);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), 0);
	prov_wipe(&p);
}

static void
test_file_label(void **state)
{
	char dir[256], path[300], err[512];
	struct prov p;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/conf.d", th_tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/ssh-pi.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(TARGET_BASE, f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(prov_load_file(path, &p, err, sizeof(err), 1), 0);
	assert_string_equal(p.name, "ssh-pi");
	assert_string_equal(p.source, path);
}

/* ---- printing --------------------------------------------------------------- */

static char *
print_to_string(const struct prov *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	prov_print(f, p);
	fclose(f);
	return buf;
}

static void
test_print_masks_secrets(void **state)
{
	struct prov p;
	char err[512], *out;

	(void)state;
	assert_int_equal(load_text(INIT_BASE "restrict_ip 192.0.2.9\n", &p, err, sizeof(err)), 0);
	out = print_to_string(&p);
	assert_non_null(strstr(out, "# t.conf (initiator)\n"));
	assert_non_null(strstr(out, "\nauth_hash (hidden)\n"));
	assert_null(strstr(out, HASH_HEX));
	assert_non_null(strstr(out, "\nremote_address 80:00:00:00:01:00:0A:C2\n"));
	assert_non_null(strstr(out, "\nproxy_local_port 33000\n"));
	assert_non_null(strstr(out, "\nrestrict_ip 192.0.2.9\n"));
	assert_non_null(strstr(out, "\nencryption 2\n"));
	assert_non_null(strstr(out, "\nmtu 1200\nkeepalive 15\ndead_interval 60\n"));
	assert_non_null(strstr(out, "# server not set"));
	free(out);

	assert_int_equal(load_text(TARGET_BASE "allow_encryption 1,3\nserver 192.0.2.1:9\n", &p,
				   err, sizeof(err)),
			 0);
	out = print_to_string(&p);
	assert_non_null(strstr(out, "# t.conf (target)\n"));
	assert_non_null(strstr(out, "\nsecret (hidden)\n"));
	assert_null(strstr(out, "0123456789abcdef-target"));
	assert_non_null(strstr(out, "\nallow_encryption 1,3\n"));
	assert_non_null(strstr(out, "\nserver 192.0.2.1:9\n"));
	free(out);

	assert_int_equal(load_text("user_id a\nauth_pass s3cr3t-pass\n"
				   "remote_address 80:00:00:00:01:00:0A:C2\nproxy_local_port 2\n",
				   &p, err, sizeof(err)),
			 0);
	out = print_to_string(&p);
	assert_non_null(strstr(out, "\nauth_pass (hidden)\n"));
	assert_null(strstr(out, "s3cr3t-pass"));
	free(out);
	prov_wipe(&p);
	assert_string_equal(p.auth_pass, "");
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_reader_separators),
	    cmocka_unit_test(test_reader_colon_in_value),
	    cmocka_unit_test(test_reader_no_inline_comments),
	    cmocka_unit_test(test_reader_leading_whitespace),
	    cmocka_unit_test(test_reader_long_lines),
	    cmocka_unit_test(test_reader_crlf_bom_no_final_newline),
	    cmocka_unit_test(test_reader_sections),
	    cmocka_unit_test(test_reader_binary),
	    cmocka_unit_test(test_reader_too_many_errors),
	    cmocka_unit_test(test_reader_label),
	    cmocka_unit_test(test_seed_sample),
	    cmocka_unit_test(test_seed_example_matches_fixture),
	    cmocka_unit_test(test_target_example),
	    cmocka_unit_test(test_initiator_all_keys),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_target_aliases_and_allow),
	    cmocka_unit_test(test_crlf_and_bom),
	    cmocka_unit_test(test_unknown_key_warns),
	    cmocka_unit_test(test_duplicate_key_warns),
	    cmocka_unit_test(test_auth_pass_and_hash),
	    cmocka_unit_test(test_other_mode_keys_warn),
	    cmocka_unit_test(test_all_errors_listed),
	    cmocka_unit_test(test_no_diag),
	    cmocka_unit_test(test_text_too_large),
	    cmocka_unit_test(test_file_missing),
	    cmocka_unit_test(test_file_is_directory),
	    cmocka_unit_test(test_file_unreadable),
	    cmocka_unit_test(test_file_not_regular),
	    cmocka_unit_test(test_file_permissions),
	    cmocka_unit_test(test_file_label),
	    cmocka_unit_test(test_print_masks_secrets),
	};

	return th_run_group_with_cases("prov", fixed, ARRAY_LEN(fixed), test_bad_case, bad_cases,
				       sizeof(bad_cases[0]), ARRAY_LEN(bad_cases), th_tmpdir_setup,
				       th_tmpdir_teardown);
}
