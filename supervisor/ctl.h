/* ctl: p2pd's control socket server (the transport of common/ctlproto.h).
 *
 * A UNIX stream socket, mode 0660, group control_group. Each connection
 * carries one request line; it must arrive within CTL_READ_TIMEOUT seconds
 * and fit in CTL_MAX_REQUEST bytes, or the client gets an error reply and is
 * dropped. At most CTL_MAX_CLIENTS connections are served at once; the next
 * ones get "error busy". A request may be answered at once or later (kill
 * and restart wait for the worker): the client then waits, with a time
 * limit, until the supervisor replies. Nothing a client sends can stop p2pd. */
#ifndef P2PD_CTL_H
#define P2PD_CTL_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctlproto.h"

#define CTL_MAX_CLIENTS	  16
#define CTL_READ_TIMEOUT  5.0  /* seconds for the request to arrive */
#define CTL_WRITE_TIMEOUT 5.0  /* seconds for the reply to be taken */
#define CTL_WAIT_TIMEOUT  10.0 /* seconds a kill/restart may wait for the worker */

struct ctl;
struct ctl_client;

/* Called with each well-formed request. It must answer with ctl_reply_*
 * now, or call ctl_wait and answer later. */
typedef void ctl_handler(void *arg, struct ctl_client *c, const struct ctl_request *r);

/* Called for each client waiting on a key (see ctl_each_waiting). */
typedef void ctl_waiter_fn(void *arg, struct ctl_client *c, int kind, uint64_t warg);

/* Creates the control socket at path (a stale socket nobody answers on is
 * removed first; a live one or a non-socket file is an error), mode 0660,
 * group group when that group exists (else a warning), and serves it on loop.
 * Returns the server, or NULL with the reason in err. */
struct ctl *ctl_open(struct ev_loop *loop, const char *path, const char *group, ctl_handler *h,
		     void *arg, char *err, size_t errlen);

/* Stops serving: every client still connected gets "error shutting-down" if
 * it waits for a reply, all are closed, and the socket file is removed. */
void ctl_close(struct ctl *ctl);

/* Appends one reply line (formatted with ctlproto) to c's reply. */
void ctl_reply_line(struct ctl_client *c, const char *line, size_t len);

/* Ends c's reply with "end"; it is written out and the connection closed. */
void ctl_reply_done(struct ctl_client *c);

/* One "ok MESSAGE" reply, ended. */
void ctl_reply_ok(struct ctl_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One "error CODE MESSAGE" reply, ended. */
void ctl_reply_error(struct ctl_client *c, enum ctl_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lets c wait for a later reply about key (kind and warg are the caller's),
 * for at most timeout seconds; then it gets "error timeout MESSAGE". */
void ctl_wait(struct ctl_client *c, const void *key, int kind, uint64_t warg, double timeout,
	      const char *timeout_msg);

/* Calls fn(arg, client, kind, warg) for every client waiting on key. fn may
 * reply (which ends that client's wait). */
void ctl_each_waiting(struct ctl *ctl, const void *key, ctl_waiter_fn *fn, void *arg);

/* The number of connected clients (for tests and status). */
size_t ctl_nclients(const struct ctl *ctl);

#endif
