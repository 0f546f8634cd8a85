/* spawn: fork+exec of one worker (connectd) with its status channel.
 *
 * The child gets: stdin /dev/null, stdout and stderr on pipes read by p2pd,
 * fd 3 the worker's end of a SOCK_SEQPACKET socketpair (non-blocking), every
 * other descriptor closed, every signal handler at its default and an empty
 * signal mask, and in its environment P2PD_SUPERVISED=1, P2PD_STATUS_FD=3,
 * P2PD_WORKER_USER and (when p2pd.conf has a server) P2P_SERVER. The command
 * is "BINARY -f FILE" (with -v when asked). If exec fails, the child sends a
 * status "exit 127" message with the reason on fd 3, prints it on stderr and
 * exits 127. */
#ifndef P2PD_SPAWN_H
#define P2PD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_STATUS_FD	  3
#define SPAWN_EXEC_FAILED 127

struct spawn_req {
	const char *binary;	 /* absolute path of the worker program */
	const char *file;	 /* the provisioning file, passed as -f FILE */
	const char *server;	 /* P2P_SERVER for the worker; NULL or "": not set */
	const char *worker_user; /* P2PD_WORKER_USER for the worker's sandbox */
	int verbose;		 /* pass -v (debug logging) */
};

struct spawn_res {
	pid_t pid;
	int status_fd; /* p2pd's end of the status channel (non-blocking, close-on-exec) */
	int out_fd;    /* the worker's stdout (non-blocking, close-on-exec) */
	int err_fd;    /* the worker's stderr (non-blocking, close-on-exec) */
};

/* Starts the worker. Returns 0 with *res filled in, or -1 with the reason in
 * err (nothing is left open then). The caller reaps the child. */
int spawn_worker(const struct spawn_req *r, struct spawn_res *res, char *err, size_t errlen);

#endif
