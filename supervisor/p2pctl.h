/* p2pctl: the control client of p2pd (see docs/man/p2pctl.8).
 *
 * Exit codes: P2PCTL_OK, P2PCTL_FAILED (p2pd refused or could not do it:
 * unknown UID, timeout, ...), P2PCTL_NO_DAEMON (no p2pd answers on the
 * socket, or it broke the protocol), P2PCTL_NOT_UP ("status": some wanted
 * worker is not up), P2PCTL_DENIED (no permission on the socket), 64 (usage). */
#ifndef P2PD_P2PCTL_H
#define P2PD_P2PCTL_H

#include <stddef.h>
#include <stdio.h>

#include "common/ctlproto.h"

enum p2pctl_exit {
	P2PCTL_OK = 0,
	P2PCTL_FAILED = 1,
	P2PCTL_NO_DAEMON = 2,
	P2PCTL_NOT_UP = 3,
	P2PCTL_DENIED = 4,
	P2PCTL_USAGE = 64,
};

/* A whole reply. */
struct p2pctl_reply {
	int ok;		       /* 1: "ok", 0: "error" */
	enum ctl_err err;      /* when !ok */
	char msg[CTL_MAX_MSG]; /* the ok or error message */
	struct ctl_worker *w;  /* status: the workers */
	size_t nw;
	struct ctl_invalid *inv; /* status: errors in provisioning files */
	size_t ninv;
};

/* Sends r to the control socket at path and reads the whole reply into
 * *out, waiting at most timeout seconds in all. Returns P2PCTL_OK (the reply
 * may still be an error: see out->ok), or P2PCTL_NO_DAEMON / P2PCTL_DENIED
 * with a message for the user in err. Free with p2pctl_reply_free. */
int p2pctl_request(const char *path, const struct ctl_request *r, double timeout,
		   struct p2pctl_reply *out, char *err, size_t errlen);

/* Parses the reply bytes buf[0..len) into *out (used by p2pctl_request).
 * Returns 0, or -1 with the reason in err. */
int p2pctl_parse_reply(const char *buf, size_t len, struct p2pctl_reply *out, char *err,
		       size_t errlen);

void p2pctl_reply_free(struct p2pctl_reply *r);

/* Writes s as a JSON string (quotes included): '"', '\\' and control
 * characters escaped, invalid UTF-8 bytes as \u00XX. */
void p2pctl_json_string(FILE *out, const char *s);

/* Prints a status reply as a table (one row per worker, then the invalid
 * files) or as one JSON object. */
void p2pctl_print_table(FILE *out, const struct p2pctl_reply *r);
void p2pctl_print_json(FILE *out, const struct p2pctl_reply *r);

/* 1 if every worker that is wanted (want "up" or "once") is up, else 0. */
int p2pctl_all_wanted_up(const struct p2pctl_reply *r);

/* The whole command line (main calls it); returns the exit code. */
int p2pctl_cli(int argc, char **argv);

#endif
