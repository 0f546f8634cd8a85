/* scan: read every provisioning file of conf_dir for the supervisor.
 *
 * Each "*.conf" file (p2pdconf_list_files decides which names count) is
 * parsed with the provisioning parser, permissions checked, and hashed, so
 * that a reload can tell changed files from unchanged ones. Two files naming
 * the same UID: the second is an error and is ignored. Every error, of any
 * file, is kept (file, line, reason) for "p2pctl status" and passed to the
 * caller's diagnostic sink. */
#ifndef P2PD_SCAN_H
#define P2PD_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/ctlproto.h"
#include "common/linereader.h"
#include "common/prov.h"

#define SCAN_HASH_LEN	 32  /* BLAKE2b-256 of the file's bytes */
#define SCAN_MAX_INVALID 256 /* error records kept per scan */

struct scan_entry {
	char path[PATH_MAX];
	char name[PROV_NAME_MAX];
	enum prov_mode mode; /* PROV_NONE if the file is invalid */
	p2p_uid uid;	     /* remote_address (initiator) or UID (target) */
	int autoconnect;
	uint8_t hash[SCAN_HASH_LEN];
	int valid; /* parsed without error and not a duplicate */
	int dup;   /* parsed without error, but its UID belongs to another file */
	unsigned nerrors, nwarnings;
};

struct scan {
	struct scan_entry *e; /* sorted by file name */
	size_t n;
	struct ctl_invalid *inv; /* every error, at most SCAN_MAX_INVALID */
	size_t ninv;
	size_t inv_dropped; /* errors beyond SCAN_MAX_INVALID */
	int dir_failed;	    /* conf_dir could not be listed (inv says why) */
};

/* Returns the file that currently runs uid (its worker keeps it on a reload),
 * or NULL. */
typedef const char *scan_owner_fn(void *arg, const p2p_uid *uid);

/* Lists and parses every provisioning file of dir into *out. Every
 * diagnostic (errors, warnings, notes about skipped names, and duplicate
 * UIDs) goes to diag (NULL: the default, see linereader.h). A UID named by
 * two valid files goes to the file owner() returns when that file still
 * names it, else to the first file by name; the others are marked dup and
 * reported as errors. owner may be NULL. Returns 0, or -1 if dir cannot be
 * listed (out->dir_failed set, the reason in out->inv). Free with scan_free. */
int scan_dir(const char *dir, const struct conf_diag *diag, scan_owner_fn *owner, void *arg,
	     struct scan *out);

/* Frees what scan_dir allocated and empties *s. */
void scan_free(struct scan *s);

/* The canonical UID text of an entry ("80:00:00:00:01:00:0A:C2"); returns buf. */
const char *scan_uid_text(const struct scan_entry *e, char buf[UID_STRLEN]);

#endif
