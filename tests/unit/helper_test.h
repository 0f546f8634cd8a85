/* helper_test: utilities shared by the unit tests.
 *
 * The Makefile links every tests/unit/helper_*.c into every unit test program,
 * so this file holds no tests, no groups and no main. Every name starts with
 * th_ ("test helper"). The helpers that check something fail the running
 * cmocka test (assert_*) rather than return an error. */
#ifndef P2PD_HELPER_TEST_H
#define P2PD_HELPER_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/types.h>

#include "common/linereader.h"
#include "common/rdvwire.h"

/* ---- temporary files ---- */

/* Makes a new directory /tmp/NAME.XXXXXX (mkdtemp) and writes its path into
 * dir (dirlen bytes). Returns 0, or -1 with errno set (dir too small: ENAMETOOLONG). */
int th_mkdtemp(char *dir, size_t dirlen, const char *name);

/* The directory th_tmpdir_setup made. */
extern char th_tmpdir[64];

/* A cmocka group setup: makes th_tmpdir, a new directory /tmp/p2pd-test.XXXXXX.
 * Returns 0, or -1 if it cannot be made. */
int th_tmpdir_setup(void **state);

/* A cmocka group teardown: removes th_tmpdir and everything in it. Returns 0,
 * or -1 if that fails. */
int th_tmpdir_teardown(void **state);

/* Removes path and, for a directory, everything in it (symbolic links are
 * removed, not followed). Returns 0, or -1 with errno set. */
int th_rm_tree(const char *path);

/* Writes len bytes of data to a new file dir/tmpXXXXXX (mkstemp) and gives it
 * mode. Returns its path, in a buffer the next call overwrites; fails the
 * test if the file cannot be made. */
const char *th_write_tmp(const char *dir, const void *data, size_t len, mode_t mode);

/* ---- child processes ---- */

/* Runs f in a child with stderr sent to /dev/null, and returns the child's exit
 * status: what f exited with, 0 if f returned, or -1 if the child was killed
 * by a signal. */
int th_exit_status_of(void (*f)(void));

/* ---- hex ---- */

/* Decodes hex, which must be exactly 2n hex digits, into out[0..n). */
void th_unhex(const char *hex, uint8_t *out, size_t n);

/* Checks that the n bytes at got are the bytes hex (2n hex digits, n <= 256) spells. */
void th_assert_hex(const uint8_t *got, size_t n, const char *hex);

/* ---- addresses ---- */

/* The numeric IPv4 or IPv6 address ip with port, as a sockaddr_storage. */
struct sockaddr_storage th_addr(const char *ip, uint16_t port);

/* The numeric IPv4 or IPv6 address ip with port, as an rdv_addr (family 4 or 6). */
struct rdv_addr th_rdv_addr(const char *ip, uint16_t port);

/* ---- diagnostics of the configuration parsers ---- */

#define TH_MAXMSG 128 /* messages kept; th_cap.n counts them all */

/* The diagnostics captured since the last th_capture_reset. */
struct th_capture {
	int n;
	enum conf_sev sev[TH_MAXMSG];
	int line[TH_MAXMSG];
	char msg[TH_MAXMSG][LR_MAX_MSG];
};

extern struct th_capture th_cap;

/* The sink that records every diagnostic into th_cap (and checks that each
 * names its file). */
extern const struct conf_diag th_capture_diag;

/* Forgets every captured diagnostic. */
void th_capture_reset(void);

/* The number of captured messages of severity sev that contain every one of
 * the fragments that follow (a list ended by NULL). */
int th_count_msgs(enum conf_sev sev, ...);

/* Returns 1 if any captured message, of any severity, contains frag, else 0. */
int th_any_msg_has(const char *frag);

/* Prints the captured messages to stderr (to explain a failure). */
void th_dump_msgs(void);

/* ---- table-driven tests ---- */

/* Runs the cmocka group name: the nfixed tests in fixed, then one test per
 * element of the table cases (ncases elements of size bytes each) that runs
 * case_fn with the element as its state; each element must begin with its
 * name, a const char *, which names the test. Returns what cmocka's group
 * runner returns (the number of failed tests), or 1 if out of memory. */
int th_run_group_with_cases(const char *name, const struct CMUnitTest *fixed, size_t nfixed,
			    CMUnitTestFunction case_fn, const void *cases, size_t size,
			    size_t ncases, CMFixtureFunction setup, CMFixtureFunction teardown);

#endif
