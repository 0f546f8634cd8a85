/* sandbox_none: systems with no sandbox support in p2pd (neither Linux nor
 * macOS; see sandbox.h and docs/sandbox.md). The worker only gets rlimits
 * (no core files, no new processes, no file growth) and a loud warning: it
 * keeps its privileges and can open files and run programs. */
#if !defined(__linux__) && !(defined(__APPLE__) && defined(__MACH__))

#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

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

	if (setrlimit(res, &rl) == -1) {
		snprintf(err, errlen, "sandbox: setrlimit(%s, 0): %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

const char *
sandbox_kind(void)
{
	return "none";
}

int
sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen)
{
	if (o == NULL) {
		snprintf(err, errlen, "sandbox: sandbox_enter: no options given");
		return -1;
	}
	if (set_zero(RLIMIT_CORE, "RLIMIT_CORE", err, errlen) == -1 ||
	    set_zero(RLIMIT_NPROC, "RLIMIT_NPROC", err, errlen) == -1)
		return -1;
	if (!stdio_writes_file() && set_zero(RLIMIT_FSIZE, "RLIMIT_FSIZE", err, errlen) == -1)
		return -1;
	log_warnx("NO SANDBOX on this system: resource limits only; the worker keeps uid %lu%s "
		  "and can open files and run programs",
		  (unsigned long)geteuid(), geteuid() == 0 ? " (root!)" : "");
	return 0;
}

#endif /* neither Linux nor macOS */
