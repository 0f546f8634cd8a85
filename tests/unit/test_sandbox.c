/* Unit tests for worker/sandbox: each test forks a child that enters the
 * sandbox (it cannot be left again) and tries what it must forbid and what the
 * worker needs. The child reports one line per check on a pipe, "ok ..." or
 * "FAIL ..."; the parent asserts on those lines and on how the child ended
 * (exit 0, or killed by SIGSYS where the filter must kill). Parts that need
 * root (the privilege drop and chroot) call skip() when not root. */
#define _GNU_SOURCE /* getresuid, syscall */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "worker/sandbox.h"

#ifdef __linux__

/* ---- the child side ---- */

static int rep_fd = -1;	   /* the child's end of the report pipe */
static int status_fd = -1; /* /proc/self/status, opened before entry */

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)write(rep_fd, line, (size_t)n);
}

/* rc == -1 with errno want. */
static void
expect_fail(const char *what, long rc, int e, int want)
{
	if (rc == -1 && e == want)
		report("ok %s: failed with errno %d", what, e);
	else if (rc == -1)
		report("FAIL %s: failed with errno %d (%s), want %d (%s)", what, e, strerror(e),
		       want, strerror(want));
	else
		report("FAIL %s: succeeded (returned %ld), want errno %d (%s)", what, rc, want,
		       strerror(want));
}

#define FAILS(what, expr, want)                                                                    \
	do {                                                                                       \
		long rc_ = (long)(expr);                                                           \
		expect_fail((what), rc_, errno, (want));                                           \
	} while (0)

static void
expect_ok(const char *what, int cond, int e)
{
	if (cond)
		report("ok %s", what);
	else
		report("FAIL %s: errno %d (%s)", what, e, strerror(e));
}

#define WORKS(what, cond) expect_ok((what), (cond), errno)

/* The value of a /proc/self/status field ("Seccomp") as a number, or -1. */
static long
status_field(const char *name)
{
	char buf[4096], *p;
	size_t len = strlen(name);
	ssize_t n;

	if (status_fd == -1 || lseek(status_fd, 0, SEEK_SET) == -1 ||
	    (n = read(status_fd, buf, sizeof(buf) - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, len) == 0 && p[len] == ':')
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/* Under valgrind, the tool's own system calls pass through the filter too:
 * it maps client memory writable and executable (which the filter forbids)
 * and runs neither x32 nor i386 calls, so those checks are left out. */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

typedef void (*child_fn)(void *);

/* Fork; in the child: open /proc/self/status, call prep (if any), enter the
 * sandbox with o, run body, _exit(0) (skipping atexit handlers, which a
 * sanitizer runtime would make). The parent collects the report into out and
 * the wait status into *status. */
static void
run_child(const struct sandbox_opts *o, child_fn prep, child_fn body, void *arg, char *out,
	  size_t outlen, int *status)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		char err[512];

		close(p[0]);
		rep_fd = p[1];
		status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		/* valgrind's own log may be a file, which RLIMIT_FSIZE 0 would
		 * turn into SIGXFSZ: let its writes fail instead */
		if (under_valgrind())
			signal(SIGXFSZ, SIG_IGN);
		if (prep != NULL)
			prep(arg);
		if (sandbox_enter(o, err, sizeof(err)) == -1) {
			report("FAIL sandbox_enter: %s", err);
			_exit(2);
		}
		body(arg);
		_exit(0);
	}
	close(p[1]);
	while (got < outlen - 1 && (n = read(p[0], out + got, outlen - 1 - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		assert_true(n > 0);
		got += (size_t)n;
	}
	out[got] = '\0';
	close(p[0]);
	while (waitpid(pid, status, 0) == -1)
		assert_int_equal(errno, EINTR);
}

/* Print a child's report, a line at a time (cmocka truncates long messages). */
static void
dump(const char *title, const char *out)
{
	const char *p = out, *nl;

	print_error("%s\n", title);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		print_error("  %.*s\n", (int)(nl - p), p);
		p = *nl != '\0' ? nl + 1 : nl;
	}
}

/* Prints a child's report and how it ended (to explain a failure). */
static void
explain(const char *out, int status)
{
	dump("child report:", out);
	if (WIFSIGNALED(status))
		print_error("child killed by signal %d\n", WTERMSIG(status));
	else
		print_error("child exit status %d\n", WEXITSTATUS(status));
}

/* Every check passed and the child exited 0. */
static void
assert_clean(const char *out, int status)
{
	if (strstr(out, "FAIL") != NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explain(out, status);
		fail();
	}
	assert_non_null(strstr(out, "ok "));
}

static int
is_root(void)
{
	return geteuid() == 0;
}

/* The "nobody" account, looked up once (before any sandbox), or NULL. */
static const struct passwd *
nobody(void)
{
	static struct passwd pw;
	static int state; /* 0: not looked up, 1: found, -1: missing */
	struct passwd *p;

	if (state == 0) {
		p = getpwnam("nobody");
		state = p != NULL ? 1 : -1;
		if (p != NULL)
			pw = *p;
	}
	return state == 1 ? &pw : NULL;
}

/* Sockets made before entry, as the worker makes its own. */
struct fixture {
	int pair[2]; /* a socketpair */
	int udp_rx;  /* UDP, bound to 127.0.0.1 */
	struct sockaddr_in udp_addr;
	int tcp_lsn; /* TCP listener on 127.0.0.1 */
	struct sockaddr_in tcp_addr;
	int tcp_pre;	   /* an unconnected TCP socket */
	uint64_t root_ino; /* inode of / before entry */
	uint64_t root_dev;
};

static int
bound_socket(int type, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void
fixture_init(struct fixture *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->pair), 0);
	f->udp_rx = bound_socket(SOCK_DGRAM, &f->udp_addr);
	f->tcp_lsn = bound_socket(SOCK_STREAM, &f->tcp_addr);
	f->tcp_pre = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->tcp_pre >= 0);
	assert_int_equal(stat("/", &st), 0);
	f->root_ino = (uint64_t)st.st_ino;
	f->root_dev = (uint64_t)st.st_dev;
}

static void
fixture_free(struct fixture *f)
{
	close(f->pair[0]);
	close(f->pair[1]);
	close(f->udp_rx);
	close(f->tcp_lsn);
	close(f->tcp_pre);
}

/* Runs body in a sandboxed child (prep first, before entry) with a fresh
 * fixture as its argument, then checks that the child reported no failure. */
static void
run_with_fixture(const struct sandbox_opts *o, child_fn prep, child_fn body)
{
	struct fixture f;
	char out[16384];
	int st;

	fixture_init(&f);
	run_child(o, prep, body, &f, out, sizeof(out), &st);
	fixture_free(&f);
	assert_clean(out, st);
}

/* The child's fds 0-2 on /dev/null: no log file, so RLIMIT_FSIZE becomes 0. */
static void
prep_devnull(void *arg)
{
	int fd = open("/dev/null", O_RDWR);

	(void)arg;
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* ---- checks run inside the sandbox ---- */

static void
check_forbidden(void *arg)
{
	struct fixture *f = arg;
	struct sockaddr_in sin;
	struct stat st;
	char *argv[] = {"true", NULL}, *envp[] = {NULL};
	void *page;
	pid_t pid;

	(void)f;
	FAILS("open /etc/passwd", open("/etc/passwd", O_RDONLY), EACCES);
	FAILS("openat /etc/hostname", openat(AT_FDCWD, "/etc/hostname", O_RDONLY), EACCES);
	FAILS("open . O_DIRECTORY", open(".", O_RDONLY | O_DIRECTORY), EACCES);
	FAILS("create a file", open("p2pd-test-sandbox.tmp", O_WRONLY | O_CREAT, 0600), EACCES);
	FAILS("creat a file", creat("p2pd-test-sandbox.tmp", 0600), EACCES);
	FAILS("stat /etc/passwd", stat("/etc/passwd", &st), EACCES);
	FAILS("unlink", unlink("p2pd-test-sandbox.tmp"), EACCES);
	FAILS("mkdir", mkdir("p2pd-test-dir", 0700), EACCES);
	FAILS("chdir /", chdir("/"), EACCES);
	FAILS("execve /bin/true", execve("/bin/true", argv, envp), EACCES);
	pid = fork();
	if (pid == 0)
		_exit(0);
	FAILS("fork", pid, EACCES);
	FAILS("clone3 (libc falls back to clone)", syscall(SYS_clone3, NULL, 0), ENOSYS);
	FAILS("socket AF_PACKET", socket(AF_PACKET, SOCK_RAW, 0), EACCES);
	FAILS("socket AF_PACKET SOCK_DGRAM", socket(AF_PACKET, SOCK_DGRAM, 0), EACCES);
	FAILS("socket AF_INET SOCK_RAW", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EACCES);
	FAILS("socket AF_INET6 SOCK_RAW", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EACCES);
	FAILS("socket AF_INET SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0), EACCES);
	FAILS("socket AF_NETLINK", socket(AF_NETLINK, SOCK_RAW, 0), EACCES);
	FAILS("socket AF_UNIX (not allowed)", socket(AF_UNIX, SOCK_STREAM, 0), EACCES);
	for (int fam = 0; fam < 64; fam++) {
		char what[64];
		if (fam == AF_INET || fam == AF_INET6)
			continue;
		snprintf(what, sizeof(what), "socket family %d", fam);
		FAILS(what, socket(fam, SOCK_DGRAM, 0), EACCES);
	}
	FAILS("socket family 1000", socket(1000, SOCK_DGRAM, 0), EACCES);
	FAILS("socket family -1", socket(-1, SOCK_DGRAM, 0), EACCES);
	for (int type = 0; type < 16; type++) {
		char what[64];
		if (type == SOCK_STREAM || type == SOCK_DGRAM)
			continue;
		snprintf(what, sizeof(what), "socket AF_INET type %d", type);
		FAILS(what, socket(AF_INET, type, 0), EACCES);
		snprintf(what, sizeof(what), "socket AF_INET6 type %d", type);
		FAILS(what, socket(AF_INET6, type | SOCK_CLOEXEC, 0), EACCES);
	}
	FAILS("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, (int[2]){0, 0}), EACCES);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	FAILS("bind", bind(f->tcp_pre, (struct sockaddr *)&sin, sizeof(sin)), EACCES);
	FAILS("listen", listen(f->tcp_pre, 1), EACCES);
	page = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FAILS("mmap PROT_EXEC", page == MAP_FAILED ? -1 : 0, EACCES);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WORKS("mmap PROT_READ|PROT_WRITE", page != MAP_FAILED);
	if (page != MAP_FAILED) {
		FAILS("mprotect PROT_EXEC", mprotect(page, 4096, PROT_READ | PROT_EXEC), EACCES);
		WORKS("mprotect PROT_READ", mprotect(page, 4096, PROT_READ) == 0);
		munmap(page, 4096);
	}
	FAILS("setuid 0", setuid(0), EPERM);
	FAILS("setgroups", setgroups(0, NULL), EPERM);
	FAILS("kill the parent", kill(getppid(), 0), EPERM);
	FAILS("setrlimit", setrlimit(RLIMIT_NOFILE, &(struct rlimit){1, 1}), EPERM);
}

static void
test_forbidden(void **state)
{
	struct sandbox_opts o = {.allow_connect = 1, .allow_inet6 = 1};

	(void)state;
	/* No worker user: as root, the process is chrooted but stays root, so
	 * permissions and RLIMIT_NPROC do not apply and every error below can
	 * only come from the filter. */
	o.user = NULL;
	run_with_fixture(&o, prep_devnull, check_forbidden);
}

static void
check_allowed(void *arg)
{
	struct fixture *f = arg;
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	struct epoll_event ev = {.events = EPOLLIN};
	struct timespec ts;
	struct stat st;
	unsigned char rnd[32];
	char buf[64];
	void *big;
	int fd, c, ep;

	WORKS("write on a socketpair", write(f->pair[0], "ping", 4) == 4);
	WORKS("read on a socketpair", read(f->pair[1], buf, sizeof(buf)) == 4);
	WORKS("fstat", fstat(f->pair[0], &st) == 0 && S_ISSOCK(st.st_mode));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	WORKS("socket AF_INET SOCK_DGRAM", fd >= 0);
	WORKS("sendto",
	      sendto(fd, "dgram", 5, 0, (struct sockaddr *)&f->udp_addr, sizeof(f->udp_addr)) == 5);
	WORKS("recvfrom",
	      recvfrom(f->udp_rx, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen) == 5 &&
		  memcmp(buf, "dgram", 5) == 0);
	close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	WORKS("socket AF_INET6 SOCK_DGRAM", fd >= 0 || errno == EAFNOSUPPORT);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	WORKS("socket AF_INET SOCK_STREAM", fd >= 0);
	WORKS("connect to 127.0.0.1",
	      connect(fd, (struct sockaddr *)&f->tcp_addr, sizeof(f->tcp_addr)) == 0);
	c = accept(f->tcp_lsn, NULL, NULL);
	WORKS("accept on a listener made before entry", c >= 0);
	WORKS("TCP write", write(fd, "hello", 5) == 5);
	WORKS("TCP read", read(c, buf, sizeof(buf)) == 5);
	WORKS("shutdown", shutdown(fd, SHUT_WR) == 0);
	WORKS("fcntl F_SETFL O_NONBLOCK", fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK) == 0);
	close(c);
	close(fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	WORKS("epoll_create1", ep >= 0);
	WORKS("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, f->udp_rx, &ev) == 0);
	WORKS("epoll_wait", epoll_wait(ep, &ev, 1, 0) == 0);
	close(ep);
	WORKS("getrandom", getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd));
	WORKS("clock_gettime", clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	if (!under_valgrind()) {
		big = malloc(8u << 20); /* mmap'd by malloc */
		WORKS("malloc 8 MB", big != NULL);
		if (big != NULL)
			memset(big, 1, 8u << 20);
		free(big);
	}
	WORKS("kill(self, 0)", kill(getpid(), 0) == 0);
	signal(SIGURG, SIG_IGN);
	WORKS("raise", raise(SIGURG) == 0);
	WORKS("getrlimit", getrlimit(RLIMIT_NOFILE, &(struct rlimit){0, 0}) == 0);
	WORKS("NoNewPrivs 1", status_field("NoNewPrivs") == 1);
	WORKS("Seccomp 2 (filter)", status_field("Seccomp") == 2);
}

static void
test_allowed(void **state)
{
	struct sandbox_opts o = {.allow_connect = 1, .allow_inet6 = 1};

	(void)state;
	o.user = is_root() ? "nobody" : NULL;
	run_with_fixture(&o, NULL, check_allowed);
}

/* ---- identity, chroot, rlimits ---- */

static void
check_dropped(void *arg)
{
	struct fixture *f = arg;
	const struct passwd *pw = nobody();
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8];
	struct rlimit rl;
	struct stat st;
	int n;

	WORKS("getresuid", getresuid(&ru, &eu, &su) == 0);
	WORKS("uid is nobody's", ru == pw->pw_uid && eu == pw->pw_uid && su == pw->pw_uid);
	WORKS("getresgid", getresgid(&rg, &eg, &sg) == 0);
	WORKS("gid is nobody's", rg == pw->pw_gid && eg == pw->pw_gid && sg == pw->pw_gid);
	n = getgroups(8, groups);
	WORKS("one supplementary group, nobody's", n == 1 && groups[0] == pw->pw_gid);
	WORKS("status Uid is nobody's", status_field("Uid") == (long)pw->pw_uid);
	/* the cwd is the new root: an empty directory that has no name any more */
	WORKS("fstatat(cwd, \"\", AT_EMPTY_PATH)", fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH) == 0);
	WORKS("root is a directory", S_ISDIR(st.st_mode));
	WORKS("root is not the old /", st.st_ino != f->root_ino || st.st_dev != f->root_dev);
	WORKS("root is unlinked (no name, nothing can be created in it)", st.st_nlink == 0);
	WORKS("root is root-owned", st.st_uid == 0);
	WORKS("RLIMIT_CORE 0", getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max == 0);
	WORKS("RLIMIT_NPROC 0", getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max == 0);
	WORKS("RLIMIT_FSIZE 0", getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_max == 0);
	FAILS("setuid 0 after the drop", setuid(0), EPERM);
	FAILS("seteuid 0 after the drop", seteuid(0), EPERM);
}

static void
test_privilege_drop(void **state)
{
	struct sandbox_opts o = {.user = "nobody"};

	(void)state;
	if (!is_root() || nobody() == NULL) {
		skip(); /* needs root and a "nobody" account */
		return;
	}
	run_with_fixture(&o, prep_devnull, check_dropped);
}

/* Not root (the supervisor already started it as the worker user): no chroot,
 * no drop, but no_new_privs, rlimits and the filter all the same. */
static void
prep_become_nobody(void *arg)
{
	const struct passwd *pw = nobody();

	(void)arg;
	if (geteuid() == 0 && pw != NULL &&
	    (setgroups(1, &pw->pw_gid) == -1 ||
	     setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	     setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1))
		report("FAIL could not become nobody before the test: %s", strerror(errno));
}

static void
check_unprivileged(void *arg)
{
	struct fixture *f = arg;
	struct stat st;

	WORKS("still not root", getuid() != 0 && geteuid() != 0);
	WORKS("cwd is not an unlinked root (no chroot)",
	      fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH) == 0 && st.st_nlink > 0);
	WORKS("NoNewPrivs 1", status_field("NoNewPrivs") == 1);
	WORKS("Seccomp 2", status_field("Seccomp") == 2);
	FAILS("open /etc/passwd", open("/etc/passwd", O_RDONLY), EACCES);
	FAILS("socket AF_PACKET", socket(AF_PACKET, SOCK_RAW, 0), EACCES);
	WORKS("write on a socketpair", write(f->pair[0], "x", 1) == 1);
}

static void
test_unprivileged(void **state)
{
	struct sandbox_opts o = {.user = "nobody"}; /* ignored when not root */

	(void)state;
	if (is_root() && nobody() == NULL) {
		skip(); /* as root, the test first becomes "nobody" */
		return;
	}
	run_with_fixture(&o, prep_become_nobody, check_unprivileged);
}

/* ---- options ---- */

static void
check_no_connect(void *arg)
{
	struct fixture *f = arg;
	int fd;

	FAILS("socket AF_INET SOCK_STREAM", socket(AF_INET, SOCK_STREAM, 0), EACCES);
	FAILS("socket AF_INET SOCK_STREAM|SOCK_NONBLOCK",
	      socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), EACCES);
	FAILS("connect on a socket made before entry",
	      connect(f->tcp_pre, (struct sockaddr *)&f->tcp_addr, sizeof(f->tcp_addr)), EACCES);
	FAILS("socket AF_INET6 SOCK_DGRAM (no allow_inet6)", socket(AF_INET6, SOCK_DGRAM, 0),
	      EACCES);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	WORKS("socket AF_INET SOCK_DGRAM", fd >= 0);
	if (fd >= 0)
		close(fd);
	WORKS("accept still works (initiator)",
	      accept(f->tcp_lsn, NULL, NULL) == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

static void
test_no_connect(void **state)
{
	struct sandbox_opts o = {.allow_connect = 0};
	struct fixture f;
	char out[16384];
	int st;

	(void)state;
	o.user = is_root() ? "nobody" : NULL;
	fixture_init(&f);
	assert_int_equal(fcntl(f.tcp_lsn, F_SETFL, O_NONBLOCK), 0);
	run_child(&o, NULL, check_no_connect, &f, out, sizeof(out), &st);
	fixture_free(&f);
	assert_clean(out, st);
}

static void
check_unix(void *arg)
{
	int fd;

	(void)arg;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	WORKS("socket AF_UNIX SOCK_DGRAM (allow_unix)", fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	WORKS("socket AF_UNIX SOCK_STREAM (allow_unix, allow_connect)", fd >= 0);
	if (fd >= 0)
		close(fd);
	FAILS("socket AF_UNIX SOCK_SEQPACKET", socket(AF_UNIX, SOCK_SEQPACKET, 0), EACCES);
	FAILS("socket AF_INET6 (no allow_inet6)", socket(AF_INET6, SOCK_STREAM, 0), EACCES);
	FAILS("socket AF_PACKET", socket(AF_PACKET, SOCK_RAW, 0), EACCES);
}

static void
test_allow_unix(void **state)
{
	struct sandbox_opts o = {.allow_connect = 1, .allow_unix = 1};
	char out[16384];
	int st;

	(void)state;
	o.user = is_root() ? "nobody" : NULL;
	run_child(&o, NULL, check_unix, NULL, out, sizeof(out), &st);
	assert_clean(out, st);
}

/* ---- what ends the process ---- */

static void
do_ptrace(void *arg)
{
	(void)arg;
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	report("FAIL ptrace returned");
}

static void
do_prctl(void *arg)
{
	(void)arg;
	prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	report("FAIL prctl returned");
}

static void
do_ioctl(void *arg)
{
	(void)arg;
	ioctl(0, 0x5412 /* TIOCSTI */, "x");
	report("FAIL ioctl TIOCSTI returned");
}

static void
do_fcntl_dupfd(void *arg)
{
	(void)arg;
	fcntl(0, F_DUPFD, 10);
	report("FAIL fcntl F_DUPFD returned");
}

#if defined(__x86_64__)
/* getpid through the x32 ABI: a syscall number with bit 30 set */
static void
do_x32(void *arg)
{
	(void)arg;
	syscall(0x40000000 | SYS_getpid);
	report("FAIL x32 getpid returned");
}

/* getpid (20) through the i386 ABI: int $0x80 from 64-bit code */
static long
i386_getpid(void)
{
	long ret = 20;

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
}

static void
do_i386(void *arg)
{
	(void)arg;
	i386_getpid();
	report("FAIL i386 getpid returned");
}
#endif

static void
assert_killed(child_fn fn, const char *what)
{
	struct sandbox_opts o = {.allow_connect = 1};
	char out[4096];
	int st;

	o.user = is_root() ? "nobody" : NULL;
	run_child(&o, prep_devnull, fn, NULL, out, sizeof(out), &st);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS) {
		print_error("%s: want the child killed by SIGSYS\n", what);
		explain(out, st);
		fail();
	}
}

static void
test_unlisted_calls_kill(void **state)
{
	(void)state;
	assert_killed(do_ptrace, "ptrace");
	assert_killed(do_prctl, "prctl");
	assert_killed(do_ioctl, "ioctl TIOCSTI");
	assert_killed(do_fcntl_dupfd, "fcntl F_DUPFD");
}

static void
test_foreign_abi_kills(void **state)
{
	(void)state;
#if defined(__x86_64__)
	pid_t pid;
	int st;

	if (under_valgrind()) {
		skip(); /* valgrind runs neither x32 nor i386 calls */
		return;
	}
	assert_killed(do_x32, "x32 syscall");
	/* i386 emulation may be compiled out; then int $0x80 cannot be tested */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(i386_getpid() == (long)getpid() ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		skip(); /* this kernel runs no i386 system calls */
		return;
	}
	assert_killed(do_i386, "i386 syscall");
#else
	skip(); /* only x86_64 can make another ABI's calls from a 64-bit process */
#endif
}

/* ---- rlimits with a log file ---- */

struct logfile {
	int fd;
};

static void
prep_logfile(void *arg)
{
	struct logfile *l = arg;

	dup2(l->fd, STDERR_FILENO);
}

static void
check_logfile(void *arg)
{
	struct rlimit rl;

	(void)arg;
	WORKS("RLIMIT_FSIZE kept while stderr is a file",
	      getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != 0);
	WORKS("write to the log file", write(STDERR_FILENO, "logged\n", 7) == 7);
}

static void
test_log_file_keeps_fsize(void **state)
{
	struct sandbox_opts o = {.allow_connect = 1};
	struct logfile l;
	char out[4096], buf[64];
	FILE *tmp = tmpfile();
	ssize_t n;
	int st;

	(void)state;
	assert_non_null(tmp);
	l.fd = fileno(tmp);
	o.user = is_root() ? "nobody" : NULL;
	run_child(&o, prep_logfile, check_logfile, &l, out, sizeof(out), &st);
	assert_clean(out, st);
	n = pread(l.fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 7);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "logged\n"));
	fclose(tmp);
}

/* ---- errors ---- */

static void
check_never(void *arg)
{
	(void)arg;
	report("FAIL the sandbox was entered");
}

static void
expect_enter_error(const char *user, const char *msg)
{
	struct sandbox_opts o = {.user = user};
	char out[4096];
	int st;

	run_child(&o, prep_devnull, check_never, NULL, out, sizeof(out), &st);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
	if (strstr(out, msg) == NULL) {
		print_error("want '%s' in the report\n", msg);
		dump("child report:", out);
		fail();
	}
}

static void
test_bad_user(void **state)
{
	(void)state;
	if (!is_root()) {
		skip(); /* the worker user is only looked up by root */
		return;
	}
	expect_enter_error("p2pd-no-such-user", "worker user 'p2pd-no-such-user' does not exist");
	expect_enter_error("root", "worker user 'root' has uid 0");
}

static void
test_null_opts(void **state)
{
	char err[256];

	(void)state;
	/* refused before anything changes, so it is safe in this process */
	assert_int_equal(sandbox_enter(NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no options"));
}

/* ---- the self-test ---- */

static void
test_selftest(void **state)
{
	int p[2], st, a, b;
	char out[8192], *line;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	if (under_valgrind()) {
		skip(); /* valgrind runs out of (executable) memory in this child */
		return;
	}
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		FILE *f;

		close(p[0]);
		prep_devnull(NULL);
		unsetenv("P2PD_WORKER_USER");
		f = fdopen(p[1], "w");
		_exit(f == NULL ? 99 : sandbox_selftest(f));
	}
	close(p[1]);
	while (got < sizeof(out) - 1 && (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strstr(out, "NOT BLOCKED") != NULL ||
	    strstr(out, "FAILED") != NULL) {
		dump("selftest output:", out);
		fail();
	}
	line = strstr(out, "sandbox: ");
	line = strstr(out, " forbidden operations blocked");
	assert_non_null(line);
	while (line > out && line[-1] != '\n')
		line--;
	assert_int_equal(sscanf(line, "sandbox: %d of %d forbidden", &a, &b), 2);
	assert_int_equal(a, b);
	assert_true(a >= 10);
	assert_non_null(strstr(out, "open /etc/passwd: blocked (EACCES)"));
	assert_non_null(strstr(out, "socket AF_PACKET: blocked (EACCES)"));
	assert_non_null(strstr(out, "execve /bin/false: blocked (EACCES)"));
	assert_non_null(strstr(out, "fork: blocked (EACCES)"));
	assert_non_null(strstr(out, "UDP socket, send and receive: works"));
	assert_non_null(strstr(out, "status NoNewPrivs:\t1"));
	assert_non_null(strstr(out, "status Seccomp:\t2"));
	if (is_root())
		assert_non_null(strstr(out, "worker user nobody"));
}

#endif /* __linux__ */

static void
test_kind(void **state)
{
	(void)state;
#if defined(__linux__)
	assert_string_equal(sandbox_kind(), "seccomp");
#elif defined(__APPLE__)
	assert_string_equal(sandbox_kind(), "darwin");
#else
	assert_string_equal(sandbox_kind(), "none");
#endif
}

static void
test_default_user(void **state)
{
	char *saved = getenv("P2PD_WORKER_USER");

	(void)state;
	if (saved != NULL)
		saved = strdup(saved);
	assert_int_equal(setenv("P2PD_WORKER_USER", "p2pdworker", 1), 0);
	assert_string_equal(sandbox_default_user(), "p2pdworker");
	assert_int_equal(setenv("P2PD_WORKER_USER", "", 1), 0);
	if (geteuid() == 0)
		assert_string_equal(sandbox_default_user(), "nobody");
	else
		assert_null(sandbox_default_user());
	assert_int_equal(unsetenv("P2PD_WORKER_USER"), 0);
	if (geteuid() == 0)
		assert_string_equal(sandbox_default_user(), "nobody");
	else
		assert_null(sandbox_default_user());
	if (saved != NULL) {
		setenv("P2PD_WORKER_USER", saved, 1);
		free(saved);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind),
	    cmocka_unit_test(test_default_user),
#ifdef __linux__
	    cmocka_unit_test(test_null_opts),
	    cmocka_unit_test(test_forbidden),
	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_privilege_drop),
	    cmocka_unit_test(test_unprivileged),
	    cmocka_unit_test(test_no_connect),
	    cmocka_unit_test(test_allow_unix),
	    cmocka_unit_test(test_unlisted_calls_kill),
	    cmocka_unit_test(test_foreign_abi_kills),
	    cmocka_unit_test(test_log_file_keeps_fsize),
	    cmocka_unit_test(test_bad_user),
	    cmocka_unit_test(test_selftest),
#endif
	};

	log_init("test_sandbox", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
