/* rdvconf: rendezvousd.conf, the rendezvous server's configuration.
 *
 * An INI file (inih through linereader):
 *   [server]        listen, alt_port, alt_address, relay, rate_limit, relay_rate,
 *                   relay_total, presence_timeout, log_level
 *   [user NAME]     auth_hash (40 hex, required), allow ("*" or UIDs, default "*")
 *   [device UID]    secret (required; alias password), name (optional label)
 * Section names are parsed exactly: "[user NAME]" takes one name without
 * spaces, "[device UID]" a valid UID. A user or device defined twice is an
 * error. The file holds device secrets in plain text and users' auth_hash
 * values (never passwords): it should be mode 600, and a warning says so when
 * group or others can read it.
 */
#ifndef P2PD_RDVCONF_H
#define P2PD_RDVCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/keys.h"
#include "common/linereader.h"
#include "common/prov.h"
#include "common/uid.h"

#ifndef RDV_CONF_PATH
#define RDV_CONF_PATH "/etc/p2pd/rendezvousd.conf"
#endif

#define RDV_DEF_PORT		 5959
#define RDV_DEF_LISTEN		 "0.0.0.0:5959"
#define RDV_DEF_ALT_PORT	 5960
#define RDV_DEF_RATE_LIMIT	 50
#define RDV_DEF_RELAY_RATE	 10000000ULL
#define RDV_DEF_RELAY_TOTAL	 100000000ULL
#define RDV_DEF_PRESENCE_TIMEOUT 90
#define RDV_USER_MAX		 65 /* user names: 1..64 bytes (the wire limit) */
#define RDV_SECRET_MAX		 256
#define RDV_NAME_MAX		 64
#define RDV_MAX_FILE		 (16u << 20)

struct rdv_user {
	char name[RDV_USER_MAX];
	size_t name_len;
	uint8_t auth_hash[AUTH_HASH_LEN];
	int has_auth_hash;
	int allow_all;	/* allow "*" (the default) */
	p2p_uid *allow; /* otherwise these UIDs, sorted */
	size_t nallow;
	int line;	/* of the [user NAME] header */
	int allow_line; /* of the allow key, 0 if absent */
};

struct rdv_device {
	p2p_uid uid;
	char secret[RDV_SECRET_MAX];
	char name[RDV_NAME_MAX]; /* "" if not set */
	int line;		 /* of the [device UID] header */
};

struct rdv_conf {
	char source[PATH_MAX]; /* the file read; "" when only defaults */
	char listen[PROV_HOST_MAX + 8];
	struct sockaddr_storage listen_addr; /* numeric address and port */
	socklen_t listen_len;
	uint16_t listen_port;
	uint16_t alt_port;		  /* second port for NAT probing; 0 = none */
	char alt_address[PROV_ADDR_MAX];  /* second address; "" = none */
	struct sockaddr_storage alt_addr; /* port 0 */
	socklen_t alt_len;
	int relay;		   /* relay fallback on (default) or off */
	unsigned rate_limit;	   /* unauthenticated packets per second per source */
	uint64_t relay_rate;	   /* bytes per second per relayed session */
	uint64_t relay_total;	   /* bytes per second over all relayed sessions */
	unsigned presence_timeout; /* seconds before a silent target is forgotten */
	int log_level;		   /* LOG_LVL_* */
	struct rdv_user *users;	   /* sorted by name */
	size_t nusers;
	struct rdv_device *devices; /* sorted by UID */
	size_t ndevices;
	unsigned nerrors, nwarnings;
};

/* Fills c with the defaults (no users, no devices). */
void rdvconf_defaults(struct rdv_conf *c);

/* Loads path (NULL = RDV_CONF_PATH) over the defaults. A missing file is not
 * an error unless must_exist. Warnings are logged. Returns 0, or -1 with the
 * first error in err ("FILE:LINE: ..."); on error c holds no users or devices.
 * Release with rdvconf_free. */
int rdvconf_load(const char *path, int must_exist, struct rdv_conf *c, char *err, size_t errlen);

/* The same, with every diagnostic passed to diag. */
int rdvconf_load_diag(const char *path, int must_exist, const struct conf_diag *diag,
		      struct rdv_conf *c, char *err, size_t errlen);

/* Wipes the secrets and auth_hash values and frees the users and devices. */
void rdvconf_free(struct rdv_conf *c);

/* The user whose name is the len bytes at name, or NULL. */
const struct rdv_user *rdvconf_user(const struct rdv_conf *c, const char *name, size_t len);

/* The device with this UID, or NULL. */
const struct rdv_device *rdvconf_device(const struct rdv_conf *c, const p2p_uid *uid);

/* 1 if user u may reach the device uid (allow "*" or uid listed), else 0. */
int rdvconf_user_may_reach(const struct rdv_user *u, const p2p_uid *uid);

#endif
