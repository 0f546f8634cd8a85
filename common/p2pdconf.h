/* p2pdconf: the supervisor's p2pd.conf and the listing of its conf.d directory.
 *
 * p2pd.conf is an INI file (read with inih through linereader) with one
 * section, [supervisor]. Every key has a default, so p2pd runs without the
 * file. Unknown keys and sections are warnings; bad values are errors naming
 * FILE:LINE and the key.
 */
#ifndef P2PD_P2PDCONF_H
#define P2PD_P2PDCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "common/linereader.h"
#include "common/prov.h"

#ifndef P2PD_CONF_PATH
#define P2PD_CONF_PATH "/etc/p2pd/p2pd.conf"
#endif
/* The worker binary p2pd runs; the build may set it with -DCONNECTD_PATH=... */
#ifndef CONNECTD_PATH
#define CONNECTD_PATH "/usr/local/sbin/connectd"
#endif

#define P2PD_DEF_CONF_DIR	"/etc/p2pd/conf.d"
#define P2PD_DEF_CONTROL_SOCKET "/run/p2pd/control.sock"
#define P2PD_DEF_CONTROL_GROUP	"p2pd"
#define P2PD_DEF_WORKER_USER	"p2pd"
#define P2PD_DEF_RESTART_MIN	1
#define P2PD_DEF_RESTART_MAX	60
#define P2PD_NAME_MAX		33 /* user and group names: 1..32 bytes */
#define P2PD_MAX_FILE		65536

struct p2pd_conf {
	char source[PATH_MAX];	 /* the file read; "" when only defaults */
	char conf_dir[PATH_MAX]; /* absolute */
	char control_socket[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* absolute */
	char control_group[P2PD_NAME_MAX];
	char worker_user[P2PD_NAME_MAX];
	char worker_binary[PATH_MAX];	/* absolute */
	unsigned restart_min;		/* seconds, 1..3600 */
	unsigned restart_max;		/* seconds, restart_min..86400 */
	char server[PROV_HOST_MAX + 8]; /* default rendezvous "host[:port]"; "" = none */
	char server_host[PROV_HOST_MAX];
	uint16_t server_port;
	int log_level; /* LOG_LVL_* of common/log.h; default info */
	unsigned nerrors, nwarnings;
};

/* Fills c with the defaults. */
void p2pdconf_defaults(struct p2pd_conf *c);

/* Loads path (NULL = P2PD_CONF_PATH) over the defaults. A missing file is
 * not an error unless must_exist (p2pd -c FILE). Warnings are logged.
 * Returns 0, or -1 with the first error in err ("FILE:LINE: KEY: ..."). */
int p2pdconf_load(const char *path, int must_exist, struct p2pd_conf *c, char *err, size_t errlen);

/* The same, with every diagnostic passed to diag (p2pd -n lists them all). */
int p2pdconf_load_diag(const char *path, int must_exist, const struct conf_diag *diag,
		       struct p2pd_conf *c, char *err, size_t errlen);

/* The provisioning files of a conf_dir. */
struct conf_files {
	char **paths; /* "DIR/NAME", sorted by NAME (byte order) */
	size_t n;
};

/* Lists every regular file named "*.conf" in dir (symbolic links to regular
 * files count), sorted by name. Dot-files, editor and package backups
 * (~, .swp, .bak, .orig, .dpkg-*, .rpmnew, .rpmsave) and all other names are
 * skipped, each one reported as a CONF_DEBUG note through diag (or
 * log_debug). Returns 0, or -1 with "DIR: reason" in err. Free with
 * p2pdconf_files_free. */
int p2pdconf_list_files(const char *dir, struct conf_files *out, const struct conf_diag *diag,
			char *err, size_t errlen);

/* Frees the list and empties it. */
void p2pdconf_files_free(struct conf_files *f);

#endif
