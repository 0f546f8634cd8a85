/* ctlproto: the control protocol between p2pctl and p2pd (the control socket).
 *
 * One request per connection, all text (docs/ARCHITECTURE-supervisor.md):
 *
 *   request  one line, "VERB[ UID]\n", at most CTL_MAX_REQUEST bytes with the
 *            newline; VERB is status, kill, start, restart or reload; kill,
 *            start and restart need a UID, status takes one optionally,
 *            reload none. Words are separated by one space.
 *   reply    lines of at most CTL_MAX_LINE bytes each, the newline included:
 *              "ok[ MESSAGE]"            the request succeeded
 *              "error CODE MESSAGE"      it did not (CODE: enum ctl_err)
 *              "worker KEY=VALUE ..."    one worker (status only)
 *              "invalid KEY=VALUE ..."   one invalid provisioning file (status)
 *              "end"                     the last line of every reply
 *
 * In records, each VALUE is percent-encoded: every byte outside
 * [A-Za-z0-9._:/@+,~-] is written as %XX (uppercase hex), so values hold no
 * space, '=' or control character. Unknown keys are skipped (newer p2pd,
 * older p2pctl); a key given twice is an error. */
#ifndef P2PD_CTLPROTO_H
#define P2PD_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/uid.h"

#define CTL_MAX_REQUEST 512	   /* bytes in a request line, "\n" included */
#define CTL_MAX_LINE	8192	   /* bytes in a reply line, "\n" included */
#define CTL_MAX_REPLY	(4u << 20) /* bytes in a whole reply */
#define CTL_MAX_MSG	512	   /* bytes of an ok/error message */
#define CTL_MAX_FILE	1024	   /* bytes of a file name in a record */
#define CTL_MAX_TEXT	256	   /* bytes of other text fields */
#define CTL_MAX_WORD	32	   /* bytes of state names and similar words */

enum ctl_verb {
	CTL_STATUS = 1,
	CTL_KILL,
	CTL_START,
	CTL_RESTART,
	CTL_RELOAD,
};

struct ctl_request {
	enum ctl_verb verb;
	int has_uid;
	p2p_uid uid;
};

/* Error codes of "error CODE MESSAGE". */
enum ctl_err {
	CTL_E_BAD_REQUEST = 1, /* "bad-request": the request is malformed */
	CTL_E_UNKNOWN_UID,     /* "unknown-uid": no worker has this UID */
	CTL_E_TIMEOUT,	       /* "timeout": the state did not change in time */
	CTL_E_FAILED,	       /* "failed": the operation was tried and failed */
	CTL_E_BUSY,	       /* "busy": too many clients at once */
	CTL_E_SHUTDOWN,	       /* "shutting-down": p2pd is stopping */
};

/* Unknown numbers in a worker record are CTL_NONE. */
#define CTL_NONE (-1)

/* One worker as "p2pctl status" shows it. Strings are "" when not known. */
struct ctl_worker {
	char uid[UID_STRLEN];
	char name[CTL_MAX_WORD * 2];
	char file[CTL_MAX_FILE];
	char mode[CTL_MAX_WORD];   /* "initiator" or "target" */
	char want[CTL_MAX_WORD];   /* "up", "once" or "down" */
	char state[CTL_MAX_WORD];  /* "up", "down", "stopping", "backoff", "failed" */
	char detail[CTL_MAX_WORD]; /* the worker's own state: "connecting", ... */
	char local[CTL_MAX_TEXT];  /* local endpoint served */
	char path[CTL_MAX_WORD];   /* "direct" or "relay" */
	char peer[CTL_MAX_TEXT];
	char last_error[CTL_MAX_TEXT];
	int64_t autoconnect;
	int64_t pid;
	int64_t rtt_ms;
	int64_t bytes_in, bytes_out;
	int64_t uptime_s;      /* since the current process started */
	int64_t restarts;      /* automatic restarts so far */
	int64_t backoff_s;     /* the current restart delay (doubling) */
	int64_t next_start_ms; /* in backoff: milliseconds until the next start */
	int64_t last_exit;     /* exit code, or 128+N after signal N */
};

/* One invalid provisioning file (one record per error). */
struct ctl_invalid {
	char file[CTL_MAX_FILE];
	int64_t line; /* 0: about the whole file */
	char reason[CTL_MAX_TEXT * 2];
};

enum ctl_line_kind {
	CTL_L_OK = 1,
	CTL_L_ERROR,
	CTL_L_WORKER,
	CTL_L_INVALID,
	CTL_L_END,
};

/* One parsed reply line. */
struct ctl_line {
	enum ctl_line_kind kind;
	enum ctl_err err;	  /* CTL_L_ERROR */
	char msg[CTL_MAX_MSG];	  /* CTL_L_OK (may be ""), CTL_L_ERROR */
	struct ctl_worker worker; /* CTL_L_WORKER */
	struct ctl_invalid inv;	  /* CTL_L_INVALID */
};

/* "status", "kill", ... or NULL for an unknown verb. */
const char *ctl_verb_name(int verb);

/* "bad-request", "unknown-uid", ... or NULL for an unknown code. */
const char *ctl_err_name(int err);

/* Writes the request line ("kill 80:00:00:00:01:00:0A:C2\n") into buf.
 * Returns its length, or -1 if the request is inconsistent (a UID missing or
 * not allowed for the verb) or buf is too small. */
int ctl_request_format(const struct ctl_request *r, char *buf, size_t len);

/* Parses one request line of len bytes (the trailing "\n" may be present or
 * not). Returns 0, or -1 with what is wrong and what is expected in err. */
int ctl_request_parse(const char *buf, size_t len, struct ctl_request *r, char *err, size_t errlen);

/* Reply lines, each written into buf with its "\n"; every function returns
 * the length, or -1 if buf is too small. Messages are cut to CTL_MAX_MSG - 1
 * bytes and their control characters turned into '?'. */
int ctl_format_ok(char *buf, size_t len, const char *msg);
int ctl_format_error(char *buf, size_t len, enum ctl_err err, const char *msg);
int ctl_format_worker(char *buf, size_t len, const struct ctl_worker *w);
int ctl_format_invalid(char *buf, size_t len, const struct ctl_invalid *v);
int ctl_format_end(char *buf, size_t len);

/* Fills w with "nothing known" (empty strings, CTL_NONE numbers). */
void ctl_worker_init(struct ctl_worker *w);

/* Parses one reply line of len bytes (the "\n" may be present or not).
 * Returns 0, or -1 with what is wrong in err. */
int ctl_line_parse(const char *buf, size_t len, struct ctl_line *out, char *err, size_t errlen);

/* Percent-encodes n bytes of s into out (outlen bytes). Returns the length,
 * or -1 if out is too small. */
int ctl_pct_encode(const char *s, size_t n, char *out, size_t outlen);

/* Decodes a percent-encoded value of n bytes into out (outlen bytes, NUL-
 * terminated). Returns the decoded length, or -1 on a bad escape, a byte
 * that should have been escaped, a decoded NUL byte, or overflow. */
int ctl_pct_decode(const char *s, size_t n, char *out, size_t outlen);

#endif
