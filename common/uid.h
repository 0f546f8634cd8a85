/* uid: device UIDs, 8 bytes written as "80:00:00:00:01:00:0A:C2". */
#ifndef P2PD_UID_H
#define P2PD_UID_H

#include <stdint.h>

#define UID_LEN    8
#define UID_STRLEN 24 /* 23 characters and the NUL */

typedef struct p2p_uid {
	uint8_t b[UID_LEN];
} p2p_uid;

/* Parse exactly eight two-digit hex bytes separated by ':' (either case).
 * Returns 0, or -1 with *why saying what is wrong ("expected 8 bytes ...",
 * "'G' is not a hex digit at position 4", ...). */
int uid_parse(const char *s, p2p_uid *out, const char **why);
/* Canonical uppercase form into buf (UID_STRLEN bytes); returns buf. */
const char *uid_format(const p2p_uid *u, char buf[UID_STRLEN]);
int uid_equal(const p2p_uid *a, const p2p_uid *b);

#endif
