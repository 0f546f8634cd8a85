/* sandbox: confine a connectd worker once its sockets are bound (DESIGN section 8).
 *
 * One interface, one implementation per platform (each file compiles to nothing
 * elsewhere): sandbox_linux.c (privilege drop, chroot into an empty directory,
 * no_new_privs, rlimits, a seccomp allow-list), sandbox_darwin.c (privilege drop
 * and rlimits), sandbox_none.c (rlimits only, with a loud warning).
 * sandbox_test.c holds the --sandbox-test self-test. docs/sandbox.md describes
 * what each platform forbids and why. */
#ifndef P2PD_SANDBOX_H
#define P2PD_SANDBOX_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct sandbox_opts {
	/* Account to drop to when the process runs as root (worker_user), or NULL
	 * for none. Ignored when not root: the process keeps its own uid. */
	const char *user;
	/* The process may create TCP sockets and connect() them after entry (a
	 * target opens one connection to its service per stream). Without it,
	 * socket(SOCK_STREAM) and connect() fail with EACCES. */
	int allow_connect;
	/* New sockets may be AF_INET6 as well as AF_INET. */
	int allow_inet6;
	/* New sockets may be AF_UNIX. */
	int allow_unix;
};

/* Enter the sandbox; it cannot be left again. On Linux, in this order: look up
 * o->user; when root, chroot into a private empty directory and drop to the
 * user (setgroups, setresgid, setresuid, verified); PR_SET_NO_NEW_PRIVS;
 * rlimits (no core files, no new processes, no file growth); the seccomp
 * filter. Call it single-threaded, after every file is read, every name
 * resolved and every listening socket bound. Returns 0, or -1 with the reason
 * in err; after -1 the process may be half-confined and must exit. */
int sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen);

/* The kind of sandbox this build enters: "seccomp", "darwin" or "none". */
const char *sandbox_kind(void);

/* The worker user for a process that starts as root: $P2PD_WORKER_USER (set by
 * p2pd from worker_user) if set and not empty, else "nobody" when running as
 * root, else NULL (no privilege drop). */
const char *sandbox_default_user(void);

/* connectd --sandbox-test: enter the sandbox a target would use (user from
 * sandbox_default_user(), TCP connects and IPv6 allowed), then try what it
 * forbids (open, create, execve, fork, raw and packet sockets, ...) and what
 * it allows (a UDP socket, getrandom), reporting each on out. Returns the exit
 * status: 0 only if the sandbox was entered, every forbidden operation failed
 * and every allowed one worked; 1 otherwise. */
int sandbox_selftest(FILE *out);

/* Internal, shared by the platform files: no core files, no new processes, no
 * file writes (unless stdio goes to a file), enough descriptors. Returns 0, or
 * -1 with the reason in err. */
int sandbox_set_rlimits(char *err, size_t errlen);
/* The account a worker started as root drops to. */
struct sandbox_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};
/* Look up the worker user name into u. Returns 0, or -1 with err saying it
 * does not exist (and how to choose another), could not be looked up, or has
 * uid 0. */
int sandbox_lookup_user(const char *name, struct sandbox_user *u, char *err, size_t errlen);
/* Put "sandbox: <what>[: strerror(e)]" (e 0: no reason) in err; returns -1. */
int sandbox_fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
