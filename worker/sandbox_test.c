/* sandbox_test: connectd --sandbox-test, and the platform-independent helpers
 * of sandbox.h.
 *
 * The self-test enters the sandbox a target would use, then tries what the
 * sandbox must forbid and what it must still allow, one line each:
 *
 *   open /etc/passwd: blocked (EACCES)
 *   UDP socket, send and receive: works
 *   sandbox: 11 of 11 forbidden operations blocked
 *
 * Forbidden attempts that get through are undone where possible (a forked
 * child exits at once, a created file is removed); an exec that gets through
 * runs /bin/false, so the test still cannot end with status 0. */
#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/random.h> /* getentropy */
#endif

#define SELFTEST_FILE "p2pd-sandbox-test.tmp"

struct selftest {
	FILE *out;
	int forbidden; /* forbidden operations tried */
	int blocked;   /* ... of which failed, as they should */
	int broken;    /* allowed operations that failed */
	int udp_rx;    /* bound before entry: receives the UDP probe */
	int tcp_lsn;   /* listening before entry: a target's service */
	int status_fd; /* /proc/self/status, opened before entry (Linux) */
};

const char *
sandbox_default_user(void)
{
	const char *u = getenv("P2PD_WORKER_USER");

	if (u != NULL && *u != '\0')
		return u;
	return geteuid() == 0 ? "nobody" : NULL;
}

static const char *
errno_name(int e, char *buf, size_t len)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
	    {EACCES, "EACCES"}, {EPERM, "EPERM"},   {ENOENT, "ENOENT"},
	    {ENOSYS, "ENOSYS"}, {EINVAL, "EINVAL"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
	    {EAGAIN, "EAGAIN"}, {EROFS, "EROFS"},   {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
	    {EFBIG, "EFBIG"},	{EBADF, "EBADF"},   {ESRCH, "ESRCH"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	snprintf(buf, len, "errno %d", e);
	return buf;
}

/* Report a forbidden operation: rc -1 (with errno e) means it was blocked. */
static void
forbidden(struct selftest *t, const char *what, int rc, int e)
{
	char b[32];

	t->forbidden++;
	if (rc == -1) {
		t->blocked++;
		fprintf(t->out, "%s: blocked (%s)\n", what, errno_name(e, b, sizeof(b)));
	} else
		fprintf(t->out, "%s: NOT BLOCKED\n", what);
}

/* Report an operation the worker needs: rc -1 (with errno e) is a failure. */
static void
allowed(struct selftest *t, const char *what, int rc, int e)
{
	char b[32];

	if (rc == -1) {
		t->broken++;
		fprintf(t->out, "%s: FAILED (%s), but the worker needs it\n", what,
			errno_name(e, b, sizeof(b)));
	} else
		fprintf(t->out, "%s: works\n", what);
}

/* ---- set-up before entry ---- */

static int
loopback_socket(int type, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, type, 0);

	if (fd == -1)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 4) == -1) ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
show_status(struct selftest *t)
{
	char buf[4096], *line, *save = NULL;
	ssize_t n;

	fprintf(t->out, "uid %lu euid %lu gid %lu egid %lu\n", (unsigned long)getuid(),
		(unsigned long)geteuid(), (unsigned long)getgid(), (unsigned long)getegid());
	if (t->status_fd == -1)
		return;
	if (lseek(t->status_fd, 0, SEEK_SET) == -1 ||
	    (n = read(t->status_fd, buf, sizeof(buf) - 1)) <= 0) {
		fprintf(t->out, "/proc/self/status: cannot read it\n");
		return;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "NoNewPrivs:", 11) == 0 || strncmp(line, "Seccomp:", 8) == 0 ||
		    strncmp(line, "Seccomp_filters:", 16) == 0 || strncmp(line, "Uid:", 4) == 0 ||
		    strncmp(line, "Gid:", 4) == 0 || strncmp(line, "Groups:", 7) == 0)
			fprintf(t->out, "status %s\n", line);
}

/* ---- what must work ---- */

static void
try_allowed(struct selftest *t, const struct sockaddr_in *udp, const struct sockaddr_in *tcp)
{
	unsigned char r[16], got[8];
	int fd, rc, e;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	e = errno;
	rc = fd;
	if (fd != -1) {
		rc = (int)sendto(fd, "probe", 5, 0, (const struct sockaddr *)udp, sizeof(*udp));
		e = errno;
		if (rc != -1)
			rc = (int)recv(t->udp_rx, got, sizeof(got), 0);
		e = rc == -1 ? errno : e;
		close(fd);
	}
	allowed(t, "UDP socket, send and receive", rc == -1 ? -1 : 0, e);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	e = errno;
	rc = fd;
	if (fd != -1) {
		rc = connect(fd, (const struct sockaddr *)tcp, sizeof(*tcp));
		e = errno;
		close(fd);
	}
	allowed(t, "TCP connect to 127.0.0.1 (a target's service)", rc, e);

	rc = getentropy(r, sizeof(r));
	allowed(t, "getentropy (random numbers)", rc, errno);
}

/* ---- what must fail ---- */

static void
try_open(struct selftest *t, const char *what, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	int e = errno;

	if (fd != -1) {
		close(fd);
		if (flags & O_CREAT)
			unlink(path);
	}
	forbidden(t, what, fd == -1 ? -1 : 0, e);
}

static void
try_socket(struct selftest *t, const char *what, int domain, int type, int proto)
{
	int fd = socket(domain, type, proto);
	int e = errno;

	if (fd != -1)
		close(fd);
	forbidden(t, what, fd == -1 ? -1 : 0, e);
}

static void
try_listen(struct selftest *t)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int rc = fd, e = errno;

	if (fd != -1) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		if (rc != -1)
			rc = listen(fd, 1);
		e = errno;
		close(fd);
	}
	forbidden(t, "bind and listen on a new TCP port", rc, e);
}

static void
try_mmap_exec(struct selftest *t)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANON, -1, 0);
	int e = errno;

	if (p != MAP_FAILED)
		munmap(p, 4096);
	forbidden(t, "mmap executable memory", p == MAP_FAILED ? -1 : 0, e);
}

static void
try_fork(struct selftest *t)
{
	pid_t pid;

	fflush(t->out);
	pid = fork();
	if (pid == 0)
		_exit(0);
	forbidden(t, "fork", pid == -1 ? -1 : 0, errno);
}

static void
try_exec(struct selftest *t)
{
	char *argv[] = {"false", NULL};
	char *envp[] = {NULL};

	fflush(t->out);
	execve("/bin/false", argv, envp);
	forbidden(t, "execve /bin/false", -1, errno);
}

static void
try_forbidden(struct selftest *t)
{
	int rc;

	try_open(t, "open /etc/passwd", "/etc/passwd", O_RDONLY);
	try_open(t, "open . (the working directory)", ".", O_RDONLY);
	try_open(t, "create " SELFTEST_FILE " (write a file)", SELFTEST_FILE,
		 O_WRONLY | O_CREAT | O_EXCL);
	try_socket(t, "socket AF_INET SOCK_RAW", AF_INET, SOCK_RAW, IPPROTO_ICMP);
#ifdef AF_PACKET
	try_socket(t, "socket AF_PACKET", AF_PACKET, SOCK_RAW, 0);
#endif
#ifdef AF_NETLINK
	try_socket(t, "socket AF_NETLINK", AF_NETLINK, SOCK_RAW, 0);
#endif
	try_listen(t);
	try_mmap_exec(t);
	rc = setuid(0);
	forbidden(t, "setuid 0", rc, errno);
	rc = kill(1, 0);
	forbidden(t, "signal another process (pid 1)", rc, errno);
	try_fork(t);
	try_exec(t); /* last: if it gets through, nothing after it runs */
}

int
sandbox_selftest(FILE *out)
{
	struct selftest t;
	struct sockaddr_in udp, tcp;
	struct sandbox_opts o;
	char err[512];
	int ok;

	memset(&t, 0, sizeof(t));
	t.out = out;
	t.status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	t.udp_rx = loopback_socket(SOCK_DGRAM, &udp);
	t.tcp_lsn = loopback_socket(SOCK_STREAM, &tcp);
	if (t.udp_rx == -1 || t.tcp_lsn == -1) {
		fprintf(out, "sandbox: cannot set up loopback sockets for the test: %s\n",
			strerror(errno));
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.user = sandbox_default_user();
	o.allow_connect = 1; /* a target's profile, the wider of the two */
	o.allow_inet6 = 1;
	fprintf(out, "sandbox: kind %s, started as uid %lu, worker user %s\n", sandbox_kind(),
		(unsigned long)getuid(), o.user != NULL ? o.user : "(none: not root)");
	fflush(out);
	if (sandbox_enter(&o, err, sizeof(err)) == -1) {
		fprintf(out, "%s\nsandbox: not entered; nothing tested\n", err);
		return 1;
	}
	fprintf(out, "sandbox: entered\n");
	show_status(&t);
	try_allowed(&t, &udp, &tcp);
	try_forbidden(&t);
	fprintf(out, "sandbox: %d of %d forbidden operations blocked\n", t.blocked, t.forbidden);
	if (t.broken > 0)
		fprintf(out, "sandbox: %d operation%s the worker needs failed\n", t.broken,
			t.broken == 1 ? "" : "s");
	ok = t.blocked == t.forbidden && t.broken == 0;
	fflush(out);
	close(t.udp_rx);
	close(t.tcp_lsn);
	if (t.status_fd != -1)
		close(t.status_fd);
	return ok ? 0 : 1;
}
