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
	if (sandbox_set_rlimits(err, errlen) == -1)
		return -1;
	log_warnx("NO SANDBOX on this system: resource limits only; the worker keeps uid %lu%s "
		  "and can open files and run programs",
		  (unsigned long)geteuid(), geteuid() == 0 ? " (root!)" : "");
	return 0;
}

#endif /* neither Linux nor macOS */
