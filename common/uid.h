/* uid: device UIDs, 8 bytes written as "80:00:00:00:01:00:0A:C2". */
#ifndef P2PD_UID_H
#define P2PD_UID_H

#include <stdint.h>

#define UID_LEN	   8
#define UID_STRLEN 24 /* 23 characters and the NUL */

typedef struct p2p_uid {
	uint8_t b[UID_LEN];
} p2p_uid;

/* Parse exactly eight two-digit hex bytes separated by ':' (either case), and
 * nothing else (no spaces). Returns 0, or -1 with *why (if why is not NULL)
 * saying what is wrong: "expected 8 bytes ... got N characters",
 * "'G' is not a hex digit at position 4", "missing ':' separator at position 3
 * (found '0')", "trailing junk after the 8th byte: ':' at position 24".
 * Positions count from 1. *why points to per-thread storage that the next
 * failing call overwrites. *out is written only on success. */
int uid_parse(const char *s, p2p_uid *out, const char **why);
/* Canonical uppercase form into buf (UID_STRLEN bytes); returns buf. */
const char *uid_format(const p2p_uid *u, char buf[UID_STRLEN]);
/* Returns 1 if a and b are the same UID, 0 otherwise. */
int uid_equal(const p2p_uid *a, const p2p_uid *b);

#endif
