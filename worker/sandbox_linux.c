/* sandbox_linux: the Linux worker sandbox (see sandbox.h and docs/sandbox.md).
 *
 * In the order sandbox_enter() applies them:
 *  1. look up the worker user (NSS still works here, and not after step 2);
 *  2. when root: chroot into a private empty directory that no longer has a
 *     name (made with mkdtemp under /tmp, removed before the chroot), then
 *     setgroups/setresgid/setresuid to the worker user, and prove it cannot
 *     become root again;
 *  3. PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0;
 *  4. rlimits: no core files, no new processes, no file growth;
 *  5. a seccomp allow-list loaded with libseccomp. The filter checks the
 *     architecture first: a system call made through another ABI (i386 on
 *     x86_64, x32, arm32 on aarch64) ends the process, as does any call the
 *     table below does not name. Calls a worker has no business making but
 *     that matter (file opens, exec, fork, raw sockets, setuid, ...) fail with
 *     EACCES or EPERM instead, so that the caller sees an error and
 *     connectd --sandbox-test can report them. */
#if defined(__linux__)

#define _GNU_SOURCE /* setresuid, getresuid and friends */

#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* AddressSanitizer builds (make check): its end-of-process leak check needs
 * what the sandbox forbids (/proc/self/maps, a ptrace'd helper thread), so it
 * runs when the sandbox is entered instead; see prepare_sanitizers(). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#ifdef SANDBOX_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* Where the private empty root is made (and at once unlinked). */
#define SANDBOX_TMPDIR "/tmp"
/* The open-file limit a worker gets if its soft limit is lower (and the hard
 * limit allows): hundreds of streams, each a TCP socket. */

/* ---- the filter table ---- */

#define SC_ALLOW 0 /* action: allow; any other value is the errno returned */
#define SC_NOARG (-1)

struct sc_rule {
	int nr;		      /* SCMP_SYS(name) */
	int err;	      /* SC_ALLOW, or the errno to fail with */
	int arg;	      /* argument compared, or SC_NOARG */
	enum scmp_compare op; /* comparison, when arg >= 0 */
	scmp_datum_t a, b;    /* its operands (mask and value for MASKED_EQ) */
};

/* clang-format off */
#define ALLOW(s)                    {SCMP_SYS(s), SC_ALLOW, SC_NOARG, SCMP_CMP_EQ, 0, 0}
#define ALLOW_ARG(s, n, op, a, b)   {SCMP_SYS(s), SC_ALLOW, (n), (op), (a), (b)}
#define DENY(s, e)                  {SCMP_SYS(s), (e), SC_NOARG, SCMP_CMP_EQ, 0, 0}
#define DENY_ARG(s, e, n, op, a, b) {SCMP_SYS(s), (e), (n), (op), (a), (b)}
/* clang-format on */

/* Names that do not exist on an architecture resolve to libseccomp's negative
 * pseudo numbers, which never match: one table serves x86_64 and aarch64. */
static const struct sc_rule sc_rules[] = {
    /* I/O on descriptors opened before entry, and the event loop */
    ALLOW(read),
    ALLOW(readv),
    ALLOW(write),
    ALLOW(writev),
    ALLOW(close),
    ALLOW(lseek),
    ALLOW(epoll_create),
    ALLOW(epoll_create1),
    ALLOW(epoll_ctl),
    ALLOW(epoll_wait),
    ALLOW(epoll_pwait),
    ALLOW(epoll_pwait2),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(select),
    ALLOW(pselect6),
    ALLOW(eventfd2),
    ALLOW(pipe2),
    ALLOW(signalfd4),
    ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GETFD, 0),
    ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETFD, 0),
    ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GETFL, 0),
    ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETFL, 0),
    ALLOW_ARG(fcntl64, 1, SCMP_CMP_EQ, F_GETFD, 0),
    ALLOW_ARG(fcntl64, 1, SCMP_CMP_EQ, F_SETFD, 0),
    ALLOW_ARG(fcntl64, 1, SCMP_CMP_EQ, F_GETFL, 0),
    ALLOW_ARG(fcntl64, 1, SCMP_CMP_EQ, F_SETFL, 0),
    /* isatty() from stdio, and non-blocking mode */
    ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, TCGETS, 0),
    ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, FIONREAD, 0),
    ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, FIONBIO, 0),
    /* fstat() only: glibc makes it newfstatat(fd, "", AT_EMPTY_PATH) */
    ALLOW(fstat),
    ALLOW_ARG(newfstatat, 3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH),
    DENY_ARG(newfstatat, EACCES, 3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0),

    /* sockets that exist already (socket() and connect() are added by
     * add_socket_rules, from the options) */
    ALLOW(recvfrom),
    ALLOW(recvmsg),
    ALLOW(recvmmsg),
    ALLOW(sendto),
    ALLOW(sendmsg),
    ALLOW(sendmmsg),
    ALLOW(accept),
    ALLOW(accept4),
    ALLOW(shutdown),
    ALLOW(getsockopt),
    ALLOW(setsockopt),
    ALLOW(getsockname),
    ALLOW(getpeername),
    DENY(bind, EACCES),
    DENY(listen, EACCES),
    DENY(socketpair, EACCES),

    /* time, randomness */
    ALLOW(clock_gettime),
    ALLOW(clock_getres),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(nanosleep),
    ALLOW(clock_nanosleep),
    ALLOW(getrandom),

    /* memory: never executable */
    ALLOW(brk),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW(madvise),
    ALLOW_ARG(mmap, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
    DENY_ARG(mmap, EACCES, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
    ALLOW_ARG(mprotect, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
    DENY_ARG(mprotect, EACCES, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),

    /* signals (kill and tgkill: to this process only, added at run time) */
    ALLOW(rt_sigaction),
    ALLOW(rt_sigprocmask),
    ALLOW(rt_sigreturn),
    ALLOW(sigreturn),
    ALLOW(sigaltstack),
    ALLOW(rt_sigtimedwait), /* harmless: own signals; valgrind polls with it */
    ALLOW(restart_syscall),
    DENY(tkill, EPERM),

    /* the process itself */
    ALLOW(exit),
    ALLOW(exit_group),
    ALLOW(futex),
    ALLOW(sched_yield),
    ALLOW(getpid),
    ALLOW(gettid),
    ALLOW(getppid),
    ALLOW(getuid),
    ALLOW(geteuid),
    ALLOW(getgid),
    ALLOW(getegid),
    ALLOW(getresuid),
    ALLOW(getresgid),
    ALLOW(getgroups),
    ALLOW(uname),
    ALLOW(sysinfo),
    ALLOW(getrlimit),
    ALLOW(ugetrlimit),
    ALLOW_ARG(prlimit64, 2, SCMP_CMP_EQ, 0, 0), /* read only: new limit NULL */
    DENY_ARG(prlimit64, EPERM, 2, SCMP_CMP_NE, 0, 0),
    DENY(setrlimit, EPERM),

    /* no new identity */
    DENY(setuid, EPERM),
    DENY(setgid, EPERM),
    DENY(setreuid, EPERM),
    DENY(setregid, EPERM),
    DENY(setresuid, EPERM),
    DENY(setresgid, EPERM),
    DENY(setgroups, EPERM),
    DENY(setfsuid, EPERM),
    DENY(setfsgid, EPERM),
    DENY(capset, EPERM),

    /* no new programs or processes (threads neither: the worker has none;
     * clone3 says ENOSYS so that libc falls back to clone, denied here) */
    DENY(execve, EACCES),
    DENY(execveat, EACCES),
    DENY(fork, EACCES),
    DENY(vfork, EACCES),
    DENY(clone, EACCES),
    DENY(clone3, ENOSYS),

    /* no file system */
    DENY(open, EACCES),
    DENY(openat, EACCES),
    DENY(openat2, EACCES),
    DENY(creat, EACCES),
    DENY(stat, EACCES),
    DENY(lstat, EACCES),
    DENY(statx, EACCES),
    DENY(access, EACCES),
    DENY(faccessat, EACCES),
    DENY(faccessat2, EACCES),
    DENY(readlink, EACCES),
    DENY(readlinkat, EACCES),
    DENY(mkdir, EACCES),
    DENY(mkdirat, EACCES),
    DENY(rmdir, EACCES),
    DENY(unlink, EACCES),
    DENY(unlinkat, EACCES),
    DENY(rename, EACCES),
    DENY(renameat, EACCES),
    DENY(renameat2, EACCES),
    DENY(link, EACCES),
    DENY(linkat, EACCES),
    DENY(symlink, EACCES),
    DENY(symlinkat, EACCES),
    DENY(chmod, EACCES),
    DENY(fchmod, EACCES),
    DENY(fchmodat, EACCES),
    DENY(chown, EACCES),
    DENY(fchown, EACCES),
    DENY(lchown, EACCES),
    DENY(fchownat, EACCES),
    DENY(truncate, EACCES),
    DENY(ftruncate, EACCES),
    DENY(mknod, EACCES),
    DENY(mknodat, EACCES),
    DENY(chdir, EACCES),
    DENY(fchdir, EACCES),
    DENY(chroot, EACCES),
};

/* ---- 1 and 2. the worker user (sandbox_common.c), empty root, privilege drop ---- */

/* chroot into a fresh directory that is unlinked before the chroot: nothing
 * can ever be created in it, and nothing is left behind in /tmp. */
static int
enter_empty_root(char *err, size_t errlen)
{
	char dir[] = SANDBOX_TMPDIR "/p2pd-empty.XXXXXX";
	int e;

	if (mkdtemp(dir) == NULL)
		return sandbox_fail(err, errlen, errno, "cannot make an empty directory %s", dir);
	if (chdir(dir) == -1) {
		e = errno;
		rmdir(dir);
		return sandbox_fail(err, errlen, e, "cannot enter %s", dir);
	}
	if (rmdir(dir) == -1)
		return sandbox_fail(err, errlen, errno, "cannot remove %s after entering it", dir);
	if (chroot(".") == -1)
		return sandbox_fail(err, errlen, errno, "cannot chroot into the empty directory %s",
				    dir);
	if (chdir("/") == -1)
		return sandbox_fail(err, errlen, errno, "cannot chdir to the new root");
	return 0;
}

static int
drop_to(const struct sandbox_user *u, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &u->gid) == -1)
		return sandbox_fail(err, errlen, errno, "setgroups for worker user %s", u->name);
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		return sandbox_fail(err, errlen, errno, "setresgid for worker user %s", u->name);
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		return sandbox_fail(err, errlen, errno, "setresuid for worker user %s", u->name);
	/* Prove it: every id is the user's and root cannot be regained. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 || ru != u->uid ||
	    eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid || sg != u->gid)
		return sandbox_fail(err, errlen, 0, "ids did not change to worker user %s",
				    u->name);
	if (setuid(0) != -1 || seteuid(0) != -1)
		return sandbox_fail(err, errlen, 0, "could become root again after dropping to %s",
				    u->name);
	if (u->gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		return sandbox_fail(err, errlen, 0, "could regain group 0 after dropping to %s",
				    u->name);
	return 0;
}

/* ---- 3. no_new_privs ---- */

static int
set_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return sandbox_fail(err, errlen, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return sandbox_fail(err, errlen, 0, "no_new_privs is not set after setting it");
	/* No ptrace by other processes of the same user, no core dump. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return sandbox_fail(err, errlen, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

/* ---- 4. rlimits ---- */

/* ---- 5. seccomp ---- */

static uint32_t
sc_action(int e)
{
	return e == SC_ALLOW ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO((uint32_t)e);
}

/* One argument comparison (SCMP_A0() and friends leave fields implicit). */
static struct scmp_arg_cmp
cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

static int
add_rule(scmp_filter_ctx ctx, const struct sc_rule *r)
{
	struct scmp_arg_cmp c;

	if (r->arg == SC_NOARG)
		return seccomp_rule_add(ctx, sc_action(r->err), r->nr, 0);
	c = cmp((unsigned)r->arg, r->op, r->a, r->b);
	return seccomp_rule_add_array(ctx, sc_action(r->err), r->nr, 1, &c);
}

/* The bits of values [v, v + n) in a 64-bit set (v + n <= 64). */
static uint64_t
block_bits(unsigned v, unsigned n)
{
	return (n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1) << v;
}

/* Make socket() fail with EACCES for every value of one argument outside the
 * allowed set. A rule holds one comparison per argument, so the complement of
 * "allowed" in [0, span) is covered with aligned power-of-two blocks (a masked
 * compare each), and values >= span (if above) with one ">" compare. If
 * family >= 0, each rule also requires argument 0 == family. */
static int
deny_outside(scmp_filter_ctx ctx, int family, unsigned arg, uint64_t allowed, unsigned span,
	     scmp_datum_t field_mask, int above)
{
	struct scmp_arg_cmp c[2];
	unsigned n = 0, v = 0, size;
	int rc;

	if (family >= 0) {
		c[0] = cmp(0, SCMP_CMP_EQ, (scmp_datum_t)family, 0);
		n = 1;
	}
	while (v < span) {
		if (allowed & (UINT64_C(1) << v)) {
			v++;
			continue;
		}
		/* the largest aligned block at v with nothing allowed in it */
		size = 1;
		while (v % (size * 2) == 0 && v + size * 2 <= span &&
		       (allowed & block_bits(v, size * 2)) == 0)
			size *= 2;
		c[n] = cmp(arg, SCMP_CMP_MASKED_EQ, field_mask & ~(scmp_datum_t)(size - 1), v);
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
						 n + 1, c)) < 0)
			return rc;
		v += size;
	}
	if (above) {
		c[n] = cmp(arg, SCMP_CMP_GT, span - 1, 0);
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
						 n + 1, c)) < 0)
			return rc;
	}
	return 0;
}

/* socket(): the allowed families with SOCK_DGRAM (and SOCK_STREAM with
 * allow_connect); any other family or type fails with EACCES. */
static int
add_socket_rules(scmp_filter_ctx ctx, const struct sandbox_opts *o)
{
	int fams[3], nfam = 0, rc;
	uint64_t famset = 0, typeset = UINT64_C(1) << SOCK_DGRAM;

	fams[nfam++] = AF_INET;
	if (o->allow_inet6)
		fams[nfam++] = AF_INET6;
	if (o->allow_unix)
		fams[nfam++] = AF_UNIX;
	if (o->allow_connect)
		typeset |= UINT64_C(1) << SOCK_STREAM;
	for (int i = 0; i < nfam; i++) {
		famset |= UINT64_C(1) << fams[i];
		for (int t = 0; t < 16; t++) {
			if (!(typeset & (UINT64_C(1) << t)))
				continue;
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					      cmp(0, SCMP_CMP_EQ, (scmp_datum_t)fams[i], 0),
					      cmp(1, SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)t));
			if (rc < 0)
				return rc;
		}
		/* the type is the low 4 bits; SOCK_NONBLOCK/SOCK_CLOEXEC sit above */
		if ((rc = deny_outside(ctx, fams[i], 1, typeset, 16, 0xf, 0)) < 0)
			return rc;
	}
	if ((rc = deny_outside(ctx, -1, 0, famset, 64, ~(scmp_datum_t)0, 1)) < 0)
		return rc;
	return seccomp_rule_add(ctx, o->allow_connect ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EACCES),
				SCMP_SYS(connect), 0);
}

/* kill() and tgkill(): to this process only (raise(), abort()). */
static int
add_signal_rules(scmp_filter_ctx ctx)
{
	scmp_datum_t self = (scmp_datum_t)getpid();
	int rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
				   cmp(0, SCMP_CMP_EQ, self, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
				   cmp(0, SCMP_CMP_NE, self, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				   cmp(0, SCMP_CMP_EQ, self, 0))) < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1,
				cmp(0, SCMP_CMP_NE, self, 0));
}

/* What ends the process: a call not in the table, or another ABI. Built with
 * -DP2PD_SANDBOX_DEBUG, such calls are only logged (audit log, dmesg), to
 * find what a new code path needs; never ship that. */
static uint32_t
kill_action(void)
{
#ifdef P2PD_SANDBOX_DEBUG
	return SCMP_ACT_LOG;
#else
	return seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
#endif
}

static int
build_filter(scmp_filter_ctx ctx, const struct sandbox_opts *o, char *err, size_t errlen)
{
	int rc;

	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill_action())) < 0)
		return sandbox_fail(err, errlen, -rc,
				    "seccomp: cannot set the bad-architecture action");
	/* The worker is single-threaded; should a library have started a thread,
	 * filter it too. Where the kernel cannot, the filter still holds for this
	 * thread and everything it creates. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		log_debug("seccomp: no thread sync (%s); filtering this thread only",
			  strerror(-rc));
	for (size_t i = 0; i < ARRAY_LEN(sc_rules); i++) {
		if ((rc = add_rule(ctx, &sc_rules[i])) < 0) {
			char *name =
			    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, sc_rules[i].nr);
			sandbox_fail(err, errlen, -rc, "seccomp: cannot add the rule for %s",
				     name != NULL ? name : "?");
			free(name);
			return -1;
		}
	}
	if ((rc = add_socket_rules(ctx, o)) < 0)
		return sandbox_fail(err, errlen, -rc, "seccomp: cannot add the socket rules");
	if ((rc = add_signal_rules(ctx)) < 0)
		return sandbox_fail(err, errlen, -rc, "seccomp: cannot add the kill/tgkill rules");
	return 0;
}

static int
load_filter(const struct sandbox_opts *o, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	uint32_t arch = seccomp_arch_native();
	int rc;

	/* seccomp_init makes a filter for the native ABI alone; anything else
	 * takes the bad-architecture action, checked before the syscall number. */
	if (arch != SCMP_ARCH_X86_64 && arch != SCMP_ARCH_AARCH64)
		log_debug("seccomp filter for an architecture it was not tested on (%#x)",
			  (unsigned)arch);
	ctx = seccomp_init(kill_action());
	if (ctx == NULL)
		return sandbox_fail(err, errlen, 0, "seccomp_init failed (out of memory?)");
	if (seccomp_arch_exist(ctx, arch) != 0) {
		seccomp_release(ctx);
		return sandbox_fail(err, errlen, 0,
				    "seccomp: the filter is not for the native "
				    "architecture");
	}
	if (build_filter(ctx, o, err, errlen) == -1) {
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return sandbox_fail(err, errlen, -rc,
				    "cannot load the seccomp filter (kernel built without "
				    "CONFIG_SECCOMP_FILTER? run with --no-sandbox to debug)");
	return 0;
}

/* ---- sanitizer builds ---- */

/* Let the sanitizer runtime cache what it reads from /proc for its reports,
 * and run the leak check now: leaks from before this point are reported, and
 * the check at exit (which the filter would end with SIGSYS) is skipped. */
static void
prepare_sanitizers(void)
{
#ifdef SANDBOX_ASAN
	log_debug("sanitizer build: leak check at sandbox entry instead of at exit");
	__sanitizer_sandbox_on_notify(NULL);
	__lsan_do_leak_check();
#endif
}

/* ---- the interface ---- */

const char *
sandbox_kind(void)
{
	return "seccomp";
}

int
sandbox_enter(const struct sandbox_opts *o, char *err, size_t errlen)
{
	struct sandbox_user u;
	int root = geteuid() == 0;
	int drop = root && o != NULL && o->user != NULL;

	if (o == NULL)
		return sandbox_fail(err, errlen, 0, "sandbox_enter: no options given");
	if (drop && sandbox_lookup_user(o->user, &u, err, errlen) == -1)
		return -1;
	tzset(); /* read the local time zone while /etc is reachable */
	prepare_sanitizers();
	if (root) {
		if (enter_empty_root(err, errlen) == -1)
			return -1;
		if (drop && drop_to(&u, err, errlen) == -1)
			return -1;
		if (!drop)
			log_warnx("running as root with no worker user: privileges NOT dropped "
				  "(set worker_user / P2PD_WORKER_USER)");
	}
	if (set_no_new_privs(err, errlen) == -1 || sandbox_set_rlimits(err, errlen) == -1 ||
	    load_filter(o, err, errlen) == -1)
		return -1;
	log_debug("sandbox entered: seccomp, uid %lu, %s", (unsigned long)getuid(),
		  root ? "chroot in an empty directory" : "no chroot (not root)");
	return 0;
}

#endif /* __linux__ */
