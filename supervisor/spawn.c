/* spawn: fork+exec of one worker (see spawn.h). */
#include "supervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/statusmsg.h"
#include "common/util.h"

#ifndef NSIG
#define NSIG 65
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* In the child: every signal at its default action, none blocked. */
static void
child_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* SIGKILL, SIGSTOP and the like fail */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: closes every descriptor from lowfd up. */
static void
child_closefrom(int lowfd)
{
	struct rlimit rl;
	long max = 65536;

#if defined(__linux__) && defined(SYS_close_range)
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0u) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (long fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

/* In the child: 0 /dev/null, 1 and 2 the pipes, 3 the channel. */
static int
child_fds(int out_w, int err_w, int chan)
{
	int src[4], fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	src[0] = fd;
	src[1] = out_w;
	src[2] = err_w;
	src[3] = chan;
	/* First move all four above the targets, so dup2 overwrites nothing needed. */
	for (int i = 0; i < 4; i++)
		if ((src[i] = fcntl(src[i], F_DUPFD, 10)) == -1)
			return -1;
	for (int i = 0; i < 4; i++)
		if (dup2(src[i], i) == -1)
			return -1;
	child_closefrom(4);
	return 0;
}

/* In the child, when exec failed: tell p2pd why on fd 3 and stderr. */
_Noreturn static void
child_fail(const char *what, const char *binary, int e)
{
	struct sm_msg m;
	uint8_t buf[SM_MAX_MSG];
	char line[SM_MAX_TEXT + 2];
	int n;

	memset(&m, 0, sizeof(m));
	m.type = SM_EXIT;
	m.code = SPAWN_EXEC_FAILED;
	snprintf(m.text, sizeof(m.text), "%s %s: %s", what, binary, strerror(e));
	if ((n = sm_encode(&m, buf, sizeof(buf))) > 0)
		(void)send(SPAWN_STATUS_FD, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	n = snprintf(line, sizeof(line), "%s\n", m.text);
	if (n > 0)
		(void)write(STDERR_FILENO, line, strlen(line));
	_exit(SPAWN_EXEC_FAILED);
}

_Noreturn static void
child_exec(const struct spawn_req *r, int out_w, int err_w, int chan)
{
	char *argv[5];
	int i = 0;

	child_signals();
	if (child_fds(out_w, err_w, chan) == -1)
		_exit(SPAWN_EXEC_FAILED); /* nowhere to report it: p2pd logs the exit */
	if (setenv("P2PD_SUPERVISED", "1", 1) == -1 || setenv("P2PD_STATUS_FD", "3", 1) == -1 ||
	    (r->worker_user != NULL && setenv("P2PD_WORKER_USER", r->worker_user, 1) == -1) ||
	    (r->server != NULL && *r->server != '\0' && setenv("P2P_SERVER", r->server, 1) == -1))
		child_fail("cannot set the environment for", r->binary, errno);
	argv[i++] = (char *)r->binary;
	if (r->verbose)
		argv[i++] = "-v";
	argv[i++] = "-f";
	argv[i++] = (char *)r->file;
	argv[i] = NULL;
	execv(r->binary, argv);
	child_fail("cannot execute", r->binary, errno);
}

int
spawn_worker(const struct spawn_req *r, struct spawn_res *res, char *err, size_t errlen)
{
	int chan[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	const char *what = "socketpair";
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, chan) == -1)
		goto fail;
	what = "pipe";
	if (pipe(out) == -1 || pipe(errp) == -1)
		goto fail;
	what = "fcntl";
	if (fd_nonblock_cloexec(chan[0]) == -1 || fd_nonblock_cloexec(chan[1]) == -1 ||
	    fd_nonblock_cloexec(out[0]) == -1 || fd_nonblock_cloexec(errp[0]) == -1 ||
	    fd_nonblock_cloexec(out[1]) == -1 || fd_nonblock_cloexec(errp[1]) == -1)
		goto fail;
	/* The worker's ends block (a full pipe pauses its logging rather than
	 * losing lines); the channel end stays non-blocking. */
	if (fcntl(out[1], F_SETFL, fcntl(out[1], F_GETFL) & ~O_NONBLOCK) == -1 ||
	    fcntl(errp[1], F_SETFL, fcntl(errp[1], F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	what = "fork";
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0)
		child_exec(r, out[1], errp[1], chan[1]);
	close(chan[1]);
	close(out[1]);
	close(errp[1]);
	res->pid = pid;
	res->status_fd = chan[0];
	res->out_fd = out[0];
	res->err_fd = errp[0];
	return 0;
fail:
	snprintf(err, errlen, "cannot start %s for %s: %s: %s", r->binary, r->file, what,
		 strerror(errno));
	close_pair(chan);
	close_pair(out);
	close_pair(errp);
	return -1;
}
