/* sandbox_common: what every platform's sandbox shares: the error message,
 * the worker user's lookup and the resource limits. */
#include "worker/sandbox.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define SANDBOX_NOFILE 4096 /* sockets for hundreds of TCP connections */

int
sandbox_fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e != 0)
		snprintf(err, errlen, "sandbox: %s: %s", what, strerror(e));
	else
		snprintf(err, errlen, "sandbox: %s", what);
	return -1;
}

/* Whether descriptor 0, 1 or 2 is a regular file open for writing (output
 * redirected to a log file): RLIMIT_FSIZE 0 would end the process with
 * SIGXFSZ at its next log line. */
static int
stdio_writes_file(void)
{
	struct stat st;
	int fl;

	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (fl = fcntl(fd, F_GETFL)) != -1 &&
		    (fl & O_ACCMODE) != O_RDONLY)
			return 1;
	return 0;
}

static int
set_zero(int res, const char *name, char *err, size_t errlen)
{
	struct rlimit rl = {0, 0};

	if (setrlimit(res, &rl) == -1)
		return sandbox_fail(err, errlen, errno, "setrlimit(%s, 0)", name);
	return 0;
}

int
sandbox_set_rlimits(char *err, size_t errlen)
{
	struct rlimit rl;

	if (set_zero(RLIMIT_CORE, "RLIMIT_CORE", err, errlen) == -1 ||
	    set_zero(RLIMIT_NPROC, "RLIMIT_NPROC", err, errlen) == -1)
		return -1;
	if (!stdio_writes_file()) {
		if (set_zero(RLIMIT_FSIZE, "RLIMIT_FSIZE", err, errlen) == -1)
			return -1;
	} else
		log_debug("output goes to a file: RLIMIT_FSIZE kept (no file can be opened "
			  "anyway)");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < SANDBOX_NOFILE &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < SANDBOX_NOFILE ? rl.rlim_max : SANDBOX_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("cannot raise RLIMIT_NOFILE to %lu: %s",
				  (unsigned long)rl.rlim_cur, strerror(errno));
	}
	return 0;
}

int
sandbox_lookup_user(const char *name, struct sandbox_user *u, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			return sandbox_fail(err, errlen, errno, "cannot look up worker user '%s'",
					    name);
		return sandbox_fail(
		    err, errlen, 0,
		    "worker user '%s' does not exist (create it, or set worker_user in "
		    "p2pd.conf / P2PD_WORKER_USER to an unprivileged account such as nobody)",
		    name);
	}
	if (pw->pw_uid == 0)
		return sandbox_fail(
		    err, errlen, 0,
		    "worker user '%s' has uid 0; the worker must run unprivileged (use an "
		    "account such as nobody)",
		    name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	str_lcpy(u->name, name, sizeof(u->name));
	return 0;
}
