/* sandbox_darwin: the macOS worker sandbox (see sandbox.h and docs/sandbox.md).
 *
 * macOS has no system-call filter a program can install for itself (its
 * sandbox_init profiles are deprecated, and the one without file access
 * forbids the network too), so the worker gets what the platform offers:
 * when root, a drop to the worker user (setgroups, setgid, setuid, verified),
 * and rlimits (no core files, no new processes, no file growth). A worker
 * that runs code it should not can still open files and run programs as the
 * worker user; docs/sandbox.md says so. */
#if defined(__APPLE__) && defined(__MACH__)

#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

static int
drop_to(const char *name, char *err, size_t errlen)
{
	struct sandbox_user u;

	if (sandbox_lookup_user(name, &u, err, errlen) == -1)
		return -1;
	if (setgroups(1, &u.gid) == -1)
		return sandbox_fail(err, errlen, errno, "setgroups for worker user %s", name);
	if (setgid(u.gid) == -1 || setegid(u.gid) == -1)
		return sandbox_fail(err, errlen, errno, "setgid for worker user %s", name);
	if (setuid(u.uid) == -1 || seteuid(u.uid) == -1)
		return sandbox_fail(err, errlen, errno, "setuid for worker user %s", name);
	if (getuid() != u.uid || geteuid() != u.uid || getgid() != u.gid || getegid() != u.gid)
		return sandbox_fail(err, errlen, 0, "ids did not change to worker user %s", name);
	if (setuid(0) != -1 || seteuid(0) != -1)
		return sandbox_fail(err, errlen, 0, "could become root again after dropping to %s",
				    name);
	return 0;
}

const char *
sandbox_kind(void)
{
	return "darwin";
}

int
sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen)
{
	if (o == NULL)
		return sandbox_fail(err, errlen, 0, "sandbox_enter: no options given");
	tzset(); /* before anything could make /etc unreadable */
	if (geteuid() == 0) {
		if (o->user != NULL && drop_to(o->user, err, errlen) == -1)
			return -1;
		if (o->user == NULL)
			log_warnx("running as root with no worker user: privileges NOT dropped "
				  "(set worker_user / P2PD_WORKER_USER)");
	}
	if (sandbox_set_rlimits(err, errlen) == -1)
		return -1;
	log_info("sandbox on macOS: privilege drop and resource limits only; no system-call "
		 "filter (files and programs remain reachable as uid %lu)",
		 (unsigned long)getuid());
	return 0;
}

#endif /* __APPLE__ && __MACH__ */
