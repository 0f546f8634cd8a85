/* prov: provisioning files (the *.conf files of conf.d, connectd -f FILE, connectd -e TEXT).
 *
 * One "key value" per line ("key = value" too), '#' comment lines, blank lines
 * ignored (DESIGN section 4; the lexing rules are in linereader.h). A file is
 * an initiator (remote_address, user_id, proxy_local_port) or a target (UID,
 * secret). Everything in struct prov is validated and converted; defaults are
 * filled in. Unknown keys and duplicate keys are warnings; bad values, missing
 * required keys and a wrong mode are errors, each naming FILE:LINE and the key.
 * Secret values (auth_pass, auth_hash, secret/password) never appear in a
 * message: they are shown as "(hidden)".
 */
#ifndef P2PD_PROV_H
#define P2PD_PROV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/keys.h"
#include "common/linereader.h"
#include "common/uid.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define PROV_USER_MAX	65    /* user_id: 1..64 bytes (the wire limit) and the NUL */
#define PROV_PASS_MAX	256   /* auth_pass: 1..255 bytes */
#define PROV_SECRET_MAX 256   /* secret: 1..255 bytes */
#define PROV_HOST_MAX	256   /* server host name: 1..253 bytes */
#define PROV_NAME_MAX	64    /* name: 1..63 of [A-Za-z0-9._@+-] */
#define PROV_ADDR_MAX	64    /* a numeric IPv4/IPv6 address */
#define PROV_MAX_FILE	65536 /* bytes in one provisioning file */

#define PROV_DEFAULT_SERVER_PORT 5959 /* port of "server host" without ":port" */

/* Defaults of the keys that have one. */
#define PROV_DEF_AUTOCONNECT   1
#define PROV_DEF_MAX_DEPTH     12
#define PROV_DEF_ENCRYPTION    2
#define PROV_DEF_ADDRESS       "127.0.0.1"
#define PROV_DEF_MTU	       1200
#define PROV_DEF_KEEPALIVE     15
#define PROV_DEF_DEAD_INTERVAL 60
#define PROV_DEF_PUNCH_TIMEOUT 5
#define PROV_DEF_ALLOW_ENC     0x0F /* modes 0,1,2,3 */

enum prov_mode {
	PROV_NONE = 0,
	PROV_INITIATOR,
	PROV_TARGET,
};

struct prov {
	enum prov_mode mode;
	char source[PATH_MAX];	  /* the file name (or the name given for text) */
	char name[PROV_NAME_MAX]; /* label in status; default: file name without .conf */

	/* Both modes. */
	int autoconnect;		 /* 0 manual, 1 connect at start, 2 and reconnect */
	unsigned max_depth;		 /* packets in flight per TCP connection, 1..256 */
	char server[PROV_HOST_MAX + 8];	 /* "host[:port]" as written; "" = not set */
	char server_host[PROV_HOST_MAX]; /* its host part ("" = not set) */
	uint16_t server_port;		 /* its port (PROV_DEFAULT_SERVER_PORT if absent) */
	unsigned mtu;			 /* UDP payload bytes, 576..1472 */
	unsigned keepalive;		 /* seconds, 1..3600 */
	unsigned dead_interval;		 /* seconds, > keepalive, <= 86400 */
	unsigned punch_timeout;		 /* seconds before relay fallback, 1..300 */

	/* Initiator. */
	char user_id[PROV_USER_MAX];
	uint8_t auth_hash[AUTH_HASH_LEN];
	int has_auth_hash;
	char auth_pass[PROV_PASS_MAX]; /* kept for the caller to derive auth_hash */
	int has_auth_pass;	       /* set only when there is no auth_hash */
	p2p_uid remote_address;
	uint16_t proxy_local_port;
	char proxy_bind_address[PROV_ADDR_MAX]; /* numeric; default 127.0.0.1 */
	char restrict_ip[PROV_ADDR_MAX];	/* numeric; default 0.0.0.0 */
	int has_restrict_ip;			/* 0: any client (0.0.0.0 or ::) */
	int encryption;				/* 0 none, 1 RC4, 2 XXTEA, 3 ChaCha20-Poly1305 */
	unsigned lifetime;			/* minutes, 0 = none */
	unsigned idle_limit;			/* seconds, 0 = none */

	/* Target. */
	p2p_uid uid;
	char secret[PROV_SECRET_MAX];
	char proxy_dest_ip[PROV_ADDR_MAX]; /* numeric; default 127.0.0.1 */
	uint16_t proxy_dest_port;
	unsigned application_type; /* informational, 0..65535 */
	uint8_t allow_encryption;  /* bit n set: mode n accepted (default 0x0F) */

	/* Diagnostics of the last load. */
	unsigned nerrors;
	unsigned nwarnings;
};

#define PROV_CHECK_PERMS 0x01 /* refuse credentials readable by group or others */

/* Loads and validates the provisioning file path into *p. With check_perms,
 * a file holding auth_pass, auth_hash or secret that is readable by group or
 * others is refused. Warnings are logged (log level warn). Returns 0, or -1
 * with the first error in err ("FILE:LINE: KEY: ..."); p->nerrors counts them
 * all. *p is filled even on error (with what could be read). */
int prov_load_file(const char *path, struct prov *p, char *err, size_t errlen, int check_perms);

/* The same for len bytes of text in memory (connectd -e); name is used in
 * messages and for the default label. No permission check. */
int prov_load_text(const char *name, const char *text, size_t len, struct prov *p, char *err,
		   size_t errlen);

/* As prov_load_file / prov_load_text, with every error, warning and debug note
 * passed to diag (p2pd -n lists them all). flags: PROV_CHECK_PERMS or 0. */
int prov_load_file_diag(const char *path, int flags, const struct conf_diag *diag, struct prov *p,
			char *err, size_t errlen);
int prov_load_text_diag(const char *name, const char *text, size_t len,
			const struct conf_diag *diag, struct prov *p, char *err, size_t errlen);

/* Prints the configuration, one "key value" per line with every default
 * filled in and secrets shown as "(hidden)" (connectd --check). */
void prov_print(FILE *out, const struct prov *p);

/* Parses a rendezvous server "host[:port]" (port PROV_DEFAULT_SERVER_PORT when
 * absent; IPv6 as [addr]:port) and checks the host is a host name or numeric
 * address. Returns 0, or -1 with *why set. */
int prov_parse_server(const char *s, char *host, size_t hostlen, uint16_t *port, const char **why);

/* "initiator", "target" or "none". */
const char *prov_mode_name(enum prov_mode mode);

/* Wipes the secrets of p (auth_pass, auth_hash, secret) with sodium_memzero
 * and clears has_auth_pass / has_auth_hash; the other fields stay usable. */
void prov_wipe(struct prov *p);

#endif
