/* Tests of the supervisor's process-facing parts: spawning a worker
 * (supervisor/spawn), sd_notify (supervisor/notify) and the control socket
 * server (supervisor/ctl), with real processes and sockets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "common/log.h"
#include "common/statusmsg.h"
#include "common/util.h"
#include "supervisor/ctl.h"
#include "supervisor/notify.h"
#include "supervisor/spawn.h"

static char tmpdir[64];

static const char *
tmp_path(const char *name)
{
	static char p[4][160];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, name);
	return p[i];
}

static int
group_setup(void **state)
{
	(void)state;
	log_init("test", LOG_LVL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sup_procXXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	const char *names[] = {"worker.sh", "ctl.sock", "notify.sock", "plain", NULL};

	(void)state;
	for (int i = 0; names[i] != NULL; i++)
		unlink(tmp_path(names[i]));
	rmdir(tmpdir);
	return 0;
}

/* Reads fd (blocking, with a limit) until end of file. */
static size_t
slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (n + 1 < len && poll(&p, 1, 5000) > 0) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

static int
wait_exit(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* ---- spawn ---- */

/* Closes p2pd's ends of the pipes and the status channel of a spawned worker. */
static void
res_close(const struct spawn_res *res)
{
	close(res->status_fd);
	close(res->out_fd);
	close(res->err_fd);
}

/* 1 if the /proc status line `field` shows no signal other than 32 and 33:
 * those two belong to the C library (thread cancellation, setxid), which
 * refuses to change their disposition, so a parent that started with them
 * ignored passes that on whatever the supervisor does. */
static int
no_signals(const char *out, const char *field)
{
	const char *at = strstr(out, field);
	unsigned long long v;

	if (at == NULL || sscanf(at + strlen(field), "%llx", &v) != 1)
		return 0;
	return (v & ~((1ULL << 31) | (1ULL << 32))) == 0;
}

static void
test_spawn_environment(void **state)
{
	static const char script[] =
	    "for n in 4 5 6 7 8 9 100; do [ -e /proc/$$/fd/$n ] && echo \"fd $n open\"; done\n"
	    "[ -S /proc/$$/fd/3 ] || echo 'fd 3 is not a socket'\n"
	    "echo \"env $P2PD_SUPERVISED $P2PD_STATUS_FD $P2P_SERVER $P2PD_WORKER_USER\"\n"
	    "read line || echo 'stdin is empty'\n"
	    "printf '\\001\\001\\000\\002up' >&3\n"
	    "echo 'to stderr' >&2\n"
	    /* The shell blocks signals around its own children: look at a
	     * process it execs instead. */
	    "exec grep -E '^Sig(Blk|Ign)' /proc/self/status\n";
	struct spawn_req r;
	struct spawn_res res;
	char out[2048], err[512], e[256];
	uint8_t msg[SM_MAX_MSG];
	struct sm_msg m;
	sigset_t block, old;
	FILE *f;
	ssize_t n;
	int fd;

	(void)state;
	f = fopen(tmp_path("worker.sh"), "w");
	assert_non_null(f);
	fputs(script, f);
	fclose(f);
	/* Descriptors p2pd might hold without close-on-exec, a blocked and an
	 * ignored signal: none of them may reach the worker. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 7), 7);
	assert_int_equal(dup2(fd, 100), 100);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR1, SIG_IGN);
	memset(&r, 0, sizeof(r));
	r.binary = "/bin/sh";
	r.file = tmp_path("worker.sh");
	r.server = "192.0.2.1:5959";
	r.worker_user = "p2pdtest";
	assert_int_equal(spawn_worker(&r, &res, e, sizeof(e)), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
	close(7);
	close(100);
	slurp(res.out_fd, out, sizeof(out));
	slurp(res.err_fd, err, sizeof(err));
	assert_int_equal(wait_exit(res.pid), 0);
	assert_null(strstr(out, "open"));
	assert_null(strstr(out, "not a socket"));
	assert_non_null(strstr(out, "env 1 3 192.0.2.1:5959 p2pdtest\n"));
	if (!no_signals(out, "SigBlk:") || !no_signals(out, "SigIgn:"))
		fail_msg("the worker inherited blocked or ignored signals; its output:\n%s", out);
	assert_non_null(strstr(out, "stdin is empty"));
	assert_string_equal(err, "to stderr\n");
	/* fd 3 is the status channel: one message per datagram. */
	n = recv(res.status_fd, msg, sizeof(msg), MSG_DONTWAIT);
	assert_int_equal(n, 6);
	assert_int_equal(sm_decode(msg, (size_t)n, &m, e, sizeof(e)), 0);
	assert_int_equal(m.type, SM_STATE);
	assert_string_equal(m.text, "up");
	assert_int_equal(recv(res.status_fd, msg, sizeof(msg), MSG_DONTWAIT), 0); /* closed */
	/* p2pd's ends are non-blocking and close-on-exec. */
	assert_true(fcntl(res.status_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(res.out_fd, F_GETFD) & FD_CLOEXEC);
	res_close(&res);
}

/* Spawns r (whose binary is /bin/echo) and checks that it printed want: the
 * arguments the worker was given. */
static void
argv_is(const struct spawn_req *r, const char *want)
{
	struct spawn_res res;
	char out[512], e[256];

	assert_int_equal(spawn_worker(r, &res, e, sizeof(e)), 0);
	slurp(res.out_fd, out, sizeof(out));
	assert_int_equal(wait_exit(res.pid), 0);
	assert_string_equal(out, want);
	res_close(&res);
}

static void
test_spawn_argv(void **state)
{
	struct spawn_req r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.binary = "/bin/echo";
	r.file = "/etc/p2pd/conf.d/x.conf";
	argv_is(&r, "-f /etc/p2pd/conf.d/x.conf\n");
	r.verbose = 1;
	argv_is(&r, "-v -f /etc/p2pd/conf.d/x.conf\n");
}

static void
test_spawn_exec_fails(void **state)
{
	struct spawn_req r;
	struct spawn_res res;
	char err[512], e[256];
	uint8_t msg[SM_MAX_MSG];
	struct sm_msg m;
	ssize_t n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.binary = "/nonexistent/connectd";
	r.file = "/etc/p2pd/conf.d/x.conf";
	assert_int_equal(spawn_worker(&r, &res, e, sizeof(e)), 0);
	slurp(res.err_fd, err, sizeof(err));
	assert_int_equal(wait_exit(res.pid), SPAWN_EXEC_FAILED);
	assert_string_equal(err,
			    "cannot execute /nonexistent/connectd: No such file or directory\n");
	n = recv(res.status_fd, msg, sizeof(msg), MSG_DONTWAIT);
	assert_true(n > 0);
	assert_int_equal(sm_decode(msg, (size_t)n, &m, e, sizeof(e)), 0);
	assert_int_equal(m.type, SM_EXIT);
	assert_int_equal(m.code, SPAWN_EXEC_FAILED);
	assert_string_equal(m.text,
			    "cannot execute /nonexistent/connectd: No such file or directory");
	res_close(&res);
}

/* ---- notify ---- */

static int
dgram_at(const char *name, int abstract)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		unlink(name);
		str_lcpy(sun.sun_path, name, sizeof(sun.sun_path));
		len = sizeof(sun);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void
expect_dgram(int fd, const char *prefix)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	if (strncmp(buf, prefix, strlen(prefix)) != 0)
		fail_msg("got '%s', want '%s...'", buf, prefix);
}

static void
test_notify(void **state)
{
	char abs[64];
	int fd;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	fd = dgram_at(tmp_path("notify.sock"), 0);
	setenv("NOTIFY_SOCKET", tmp_path("notify.sock"), 1);
	assert_int_equal(notify_send("READY=1"), 1);
	expect_dgram(fd, "READY=1");
	assert_int_equal(notify_reloading(), 1);
	expect_dgram(fd, "RELOADING=1\nMONOTONIC_USEC=");
	close(fd);
	unlink(tmp_path("notify.sock"));
	assert_int_equal(notify_send("READY=1"), -1); /* nobody listens any more */
	snprintf(abs, sizeof(abs), "p2pd-test-%ld", (long)getpid());
	fd = dgram_at(abs, 1);
	snprintf(abs, sizeof(abs), "@p2pd-test-%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", abs, 1);
	assert_int_equal(notify_send("STOPPING=1"), 1);
	expect_dgram(fd, "STOPPING=1");
	close(fd);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_send("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(notify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

/* ---- the control socket server ---- */

static struct ev_loop *loop;
static int key; /* what the test's waiting clients wait on */
static int nrequests;

static void
handler(void *arg, struct ctl_client *c, const struct ctl_request *r)
{
	(void)arg;
	nrequests++;
	switch (r->verb) {
	case CTL_STATUS:
		ctl_reply_line(c, "ok\n", 3);
		ctl_reply_line(c, "worker uid=80:00:00:00:01:00:0A:C2\n", 35);
		ctl_reply_done(c);
		break;
	case CTL_KILL:
		ctl_wait(c, &key, 5, 77, 5.0, "never");
		break;
	case CTL_RESTART:
		ctl_wait(c, &key, 6, 0, 0.2, "took too long");
		break;
	case CTL_START:
		break; /* forgets to answer */
	case CTL_RELOAD:
		ctl_reply_ok(c, "reloaded %d", 1);
		break;
	}
}

static int
client_connect(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, tmp_path("ctl.sock"), sizeof(sun.sun_path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(fd_nonblock_cloexec(fd), 0);
	return fd;
}

/* Runs the loop until the server closes fd; returns what it sent. Fails the
 * test if that takes over 3 s, does not fit the buffer, or recv fails. */
static const char *
pump(int fd)
{
	static char buf[4096];
	size_t n = 0;
	uint64_t end = now_ms() + 3000;

	for (;;) {
		ssize_t r;
		assert_true(now_ms() < end);	  /* the server never closed */
		assert_true(n < sizeof(buf) - 1); /* the reply is larger than the test expects */
		ev_run(loop, EVRUN_NOWAIT);
		r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r == 0)
			break;
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		if (errno == ECONNRESET)
			break; /* closed with our request unread: what came is the reply */
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		usleep(1000);
	}
	buf[n] = '\0';
	close(fd);
	return buf;
}

static const char *
ask(const char *req, size_t len)
{
	int fd = client_connect();

	assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
	return pump(fd);
}

static void
reply_kill(void *arg, struct ctl_client *c, int kind, uint64_t warg)
{
	(void)arg;
	assert_int_equal(kind, 5);
	assert_int_equal(warg, 77);
	ctl_reply_ok(c, "down");
}

static struct ctl *
open_server(void)
{
	char err[256];
	struct ctl *ctl = ctl_open(loop, tmp_path("ctl.sock"), "p2pdnosuchgroup", handler, NULL,
				   err, sizeof(err));

	if (ctl == NULL)
		fail_msg("ctl_open: %s", err);
	return ctl;
}

static void
test_ctl_requests(void **state)
{
	struct ctl *ctl;
	struct stat st;
	int fd;

	(void)state;
	loop = ev_loop_new(EVFLAG_AUTO);
	ctl = open_server();
	assert_int_equal(stat(tmp_path("ctl.sock"), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_string_equal(ask("status\n", 7), "ok\nworker uid=80:00:00:00:01:00:0A:C2\nend\n");
	assert_string_equal(ask("reload\n", 7), "ok reloaded 1\nend\n");
	assert_non_null(strstr(ask("bogus\n", 6), "error bad-request unknown request 'bogus'"));
	assert_non_null(strstr(ask("kill 1\n", 7), "error bad-request kill: bad UID '1'"));
	assert_non_null(strstr(ask("st\0atus\n", 8), "error bad-request byte 0x00"));
	{
		char big[700];
		memset(big, 'x', sizeof(big));
		assert_non_null(
		    strstr(ask(big, sizeof(big)), "error bad-request request longer than 512"));
	}
	/* A request in pieces is put together. */
	fd = client_connect();
	assert_int_equal(send(fd, "rel", 3, 0), 3);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(send(fd, "oad\nignored", 11, 0), 11);
	assert_string_equal(pump(fd), "ok reloaded 1\nend\n");
	/* The handler forgot to answer: the client still gets one. */
	assert_non_null(
	    strstr(ask("start 80:00:00:00:01:00:0A:C2\n", 30), "error failed no reply"));
	/* A waiting client, answered later. */
	fd = client_connect();
	assert_int_equal(send(fd, "kill 80:00:00:00:01:00:0A:C2\n", 29, 0), 29);
	for (int i = 0; i < 20; i++)
		ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(ctl_nclients(ctl), 1);
	ctl_each_waiting(ctl, &key, reply_kill, NULL);
	assert_string_equal(pump(fd), "ok down\nend\n");
	/* A waiting client that times out. */
	assert_string_equal(ask("restart 80:00:00:00:01:00:0A:C2\n", 32),
			    "error timeout took too long\nend\n");
	/* A client that leaves before a whole line is forgotten. */
	fd = client_connect();
	assert_int_equal(send(fd, "stat", 4, 0), 4);
	shutdown(fd, SHUT_WR);
	assert_string_equal(pump(fd), "");
	assert_int_equal(ctl_nclients(ctl), 0);
	/* Waiting clients hear that p2pd stops; the socket file goes away. */
	fd = client_connect();
	assert_int_equal(send(fd, "kill 80:00:00:00:01:00:0A:C2\n", 29, 0), 29);
	for (int i = 0; i < 20; i++)
		ev_run(loop, EVRUN_NOWAIT);
	ctl_close(ctl);
	assert_string_equal(pump(fd), "error shutting-down p2pd is shutting down\nend\n");
	assert_int_equal(stat(tmp_path("ctl.sock"), &st), -1);
	ev_loop_destroy(loop);
}

static void
test_ctl_busy(void **state)
{
	int fds[CTL_MAX_CLIENTS], fd;
	struct ctl *ctl;

	(void)state;
	loop = ev_loop_new(EVFLAG_AUTO);
	ctl = open_server();
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = client_connect();
		ev_run(loop, EVRUN_NOWAIT);
	}
	assert_int_equal(ctl_nclients(ctl), CTL_MAX_CLIENTS);
	fd = client_connect();
	assert_string_equal(pump(fd),
			    "error busy too many control clients at once; try again\nend\n");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	for (int i = 0; i < 20; i++)
		ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(ctl_nclients(ctl), 0);
	assert_string_equal(ask("reload\n", 7), "ok reloaded 1\nend\n");
	ctl_close(ctl);
	ev_loop_destroy(loop);
}

static void
test_ctl_old_socket(void **state)
{
	struct sockaddr_un sun;
	struct ctl *ctl;
	char err[256];
	FILE *f;
	int fd;

	(void)state;
	loop = ev_loop_new(EVFLAG_AUTO);
	/* A stale socket (bound, nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, tmp_path("ctl.sock"), sizeof(sun.sun_path));
	unlink(sun.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ctl = open_server();
	/* A live one is not. */
	assert_null(ctl_open(loop, tmp_path("ctl.sock"), NULL, handler, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "another p2pd is already serving"));
	assert_string_equal(ask("reload\n", 7), "ok reloaded 1\nend\n");
	ctl_close(ctl);
	/* Nor is a file that is no socket. */
	f = fopen(tmp_path("plain"), "w");
	assert_non_null(f);
	fclose(f);
	assert_null(ctl_open(loop, tmp_path("plain"), NULL, handler, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "exists and is not a socket"));
	assert_int_equal(access(tmp_path("plain"), F_OK), 0);
	/* A path too long for a UNIX socket. */
	{
		char longp[200];
		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		assert_null(ctl_open(loop, longp, NULL, handler, NULL, err, sizeof(err)));
		assert_non_null(strstr(err, "too long"));
	}
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spawn_environment), cmocka_unit_test(test_spawn_argv),
	    cmocka_unit_test(test_spawn_exec_fails),  cmocka_unit_test(test_notify),
	    cmocka_unit_test(test_ctl_requests),      cmocka_unit_test(test_ctl_busy),
	    cmocka_unit_test(test_ctl_old_socket),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
