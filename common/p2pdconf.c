/* p2pdconf: p2pd.conf and the conf.d listing (see p2pdconf.h). */
#include "common/p2pdconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"

enum sk {
	SK_CONF_DIR,
	SK_CONTROL_SOCKET,
	SK_CONTROL_GROUP,
	SK_WORKER_USER,
	SK_WORKER_BINARY,
	SK_RESTART_MIN,
	SK_RESTART_MAX,
	SK_SERVER,
	SK_LOG_LEVEL,
	SK_COUNT
};

/* Stores value into c, or returns -1 with what is expected in *why. */
typedef int ssetter(struct p2pd_conf *c, const char *v, const char **why);

struct skey {
	const char *name;
	ssetter *set;
};

struct sctx {
	struct linereader lr;
	struct p2pd_conf *c;
	int in_supervisor; /* the current section is [supervisor] */
	int line[SK_COUNT];
};

static int
set_abs_path(char *buf, size_t size, const char *v, const char **why)
{
	if (v[0] != '/' || strlen(v) >= size) {
		*why = "expected an absolute path (starting with '/')";
		return -1;
	}
	str_lcpy(buf, v, size);
	return 0;
}

static int
set_conf_dir(struct p2pd_conf *c, const char *v, const char **why)
{
	return set_abs_path(c->conf_dir, sizeof(c->conf_dir), v, why);
}

static int
set_control_socket(struct p2pd_conf *c, const char *v, const char **why)
{
	if (v[0] != '/' || strlen(v) >= sizeof(c->control_socket)) {
		*why = "expected an absolute path short enough for a UNIX socket (at most 103 "
		       "bytes)";
		return -1;
	}
	str_lcpy(c->control_socket, v, sizeof(c->control_socket));
	return 0;
}

static int
set_account(char *buf, size_t size, const char *v, const char **why)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._-", v[i]) == NULL)
			n = 0;
	if (n == 0 || n >= size || v[0] == '-') {
		*why = "expected a user or group name: 1 to 32 characters from A-Z a-z 0-9 . _ - "
		       "(not starting with '-')";
		return -1;
	}
	str_lcpy(buf, v, size);
	return 0;
}

static int
set_control_group(struct p2pd_conf *c, const char *v, const char **why)
{
	return set_account(c->control_group, sizeof(c->control_group), v, why);
}

static int
set_worker_user(struct p2pd_conf *c, const char *v, const char **why)
{
	return set_account(c->worker_user, sizeof(c->worker_user), v, why);
}

static int
set_worker_binary(struct p2pd_conf *c, const char *v, const char **why)
{
	return set_abs_path(c->worker_binary, sizeof(c->worker_binary), v, why);
}

static int
set_restart_min(struct p2pd_conf *c, const char *v, const char **why)
{
	uint64_t x;

	if (parse_u64(v, 1, 3600, &x, why) == -1) {
		*why = "expected seconds from 1 to 3600";
		return -1;
	}
	c->restart_min = (unsigned)x;
	return 0;
}

static int
set_restart_max(struct p2pd_conf *c, const char *v, const char **why)
{
	uint64_t x;

	if (parse_u64(v, 1, 86400, &x, why) == -1) {
		*why = "expected seconds from 1 to 86400 (and at least restart_min)";
		return -1;
	}
	c->restart_max = (unsigned)x;
	return 0;
}

static int
set_server(struct p2pd_conf *c, const char *v, const char **why)
{
	char host[PROV_HOST_MAX];
	uint16_t port;

	if (strlen(v) >= sizeof(c->server) ||
	    prov_parse_server(v, host, sizeof(host), &port, why) == -1) {
		*why = "expected host[:port] (a host name or numeric address, port 1 to 65535, "
		       "IPv6 as [addr]:port)";
		return -1;
	}
	str_lcpy(c->server, v, sizeof(c->server));
	str_lcpy(c->server_host, host, sizeof(c->server_host));
	c->server_port = port;
	return 0;
}

static int
set_log_level(struct p2pd_conf *c, const char *v, const char **why)
{
	int l = log_level_parse(v);

	if (l == -1) {
		*why = "expected error, warn, info or debug";
		return -1;
	}
	c->log_level = l;
	return 0;
}

static const struct skey skeys[SK_COUNT] = {
    [SK_CONF_DIR] = {"conf_dir", set_conf_dir},
    [SK_CONTROL_SOCKET] = {"control_socket", set_control_socket},
    [SK_CONTROL_GROUP] = {"control_group", set_control_group},
    [SK_WORKER_USER] = {"worker_user", set_worker_user},
    [SK_WORKER_BINARY] = {"worker_binary", set_worker_binary},
    [SK_RESTART_MIN] = {"restart_min", set_restart_min},
    [SK_RESTART_MAX] = {"restart_max", set_restart_max},
    [SK_SERVER] = {"server", set_server},
    [SK_LOG_LEVEL] = {"log_level", set_log_level},
};

void
p2pdconf_defaults(struct p2pd_conf *c)
{
	memset(c, 0, sizeof(*c));
	str_lcpy(c->conf_dir, P2PD_DEF_CONF_DIR, sizeof(c->conf_dir));
	str_lcpy(c->control_socket, P2PD_DEF_CONTROL_SOCKET, sizeof(c->control_socket));
	str_lcpy(c->control_group, P2PD_DEF_CONTROL_GROUP, sizeof(c->control_group));
	str_lcpy(c->worker_user, P2PD_DEF_WORKER_USER, sizeof(c->worker_user));
	str_lcpy(c->worker_binary, CONNECTD_PATH, sizeof(c->worker_binary));
	c->restart_min = P2PD_DEF_RESTART_MIN;
	c->restart_max = P2PD_DEF_RESTART_MAX;
	c->log_level = LOG_LVL_INFO;
}

static void
sup_line(void *user, int line, const char *section, const char *key, const char *value)
{
	struct sctx *s = user;
	const char *why = NULL;
	int k;

	if (key == NULL) {
		s->in_supervisor = strcmp(section, "supervisor") == 0;
		if (!s->in_supervisor)
			lr_report(
			    &s->lr, CONF_WARNING, line,
			    "[%s]: unknown section (its keys are ignored); expected [supervisor]",
			    section);
		return;
	}
	if (section[0] == '\0') {
		lr_report(&s->lr, CONF_ERROR, line,
			  "%s: key outside a section; put it under [supervisor]", key);
		return;
	}
	if (!s->in_supervisor)
		return;
	for (k = 0; k < SK_COUNT; k++)
		if (strcmp(key, skeys[k].name) == 0)
			break;
	if (k == SK_COUNT) {
		lr_report(&s->lr, CONF_WARNING, line, "%s: unknown key (ignored)", key);
		return;
	}
	if (s->line[k] != 0)
		lr_report(&s->lr, CONF_WARNING, line,
			  "%s: duplicate key (already set at line %d); the last one, line %d, is "
			  "used",
			  key, s->line[k], line);
	s->line[k] = line;
	if (skeys[k].set(s->c, value, &why) == -1)
		lr_report(&s->lr, CONF_ERROR, line, "%s: invalid value '%s': %s", key, value, why);
}

static void
check_restart(struct sctx *s)
{
	struct p2pd_conf *c = s->c;

	if (c->restart_max >= c->restart_min)
		return;
	if (s->line[SK_RESTART_MAX] != 0)
		lr_report(&s->lr, CONF_ERROR, s->line[SK_RESTART_MAX],
			  "restart_max: invalid value '%u': must be at least restart_min (%u)",
			  c->restart_max, c->restart_min);
	else
		lr_report(&s->lr, CONF_ERROR, s->line[SK_RESTART_MIN],
			  "restart_min: invalid value '%u': must not exceed restart_max (%u)",
			  c->restart_min, c->restart_max);
}

int
p2pdconf_load_diag(const char *path, int must_exist, const struct conf_diag *diag,
		   struct p2pd_conf *c, char *err, size_t errlen)
{
	char reason[256];
	struct stat st;
	struct sctx s;
	char *text;
	size_t len;
	int missing;

	if (path == NULL)
		path = P2PD_CONF_PATH;
	p2pdconf_defaults(c);
	memset(&s, 0, sizeof(s));
	s.c = c;
	lr_init(&s.lr, path, LR_SECTIONS, NULL, diag, err, errlen);
	if (lr_read_file(path, P2PD_MAX_FILE, &text, &len, &st, &missing, reason, sizeof(reason)) ==
	    -1) {
		if (missing && !must_exist) {
			lr_report(&s.lr, CONF_DEBUG, 0, "not found; using the defaults");
			return 0;
		}
		lr_report(&s.lr, CONF_ERROR, 0, "%s", reason);
		c->nerrors = s.lr.nerrors;
		return -1;
	}
	str_lcpy(c->source, path, sizeof(c->source));
	lr_parse(&s.lr, text, len, sup_line, &s);
	lr_free_text(text, len);
	check_restart(&s);
	c->nerrors = s.lr.nerrors;
	c->nwarnings = s.lr.nwarnings;
	return c->nerrors == 0 ? 0 : -1;
}

int
p2pdconf_load(const char *path, int must_exist, struct p2pd_conf *c, char *err, size_t errlen)
{
	return p2pdconf_load_diag(path, must_exist, NULL, c, err, errlen);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Why a directory entry is not a provisioning file, or NULL if its name is one. */
static const char *
skip_reason(const char *name)
{
	static const char *const backups[] = {".swp",	 ".swo",     ".bak", ".orig",
					      ".rpmnew", ".rpmsave", ".tmp", NULL};

	if (name[0] == '.')
		return "a hidden file";
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a name with control characters";
	if (ends_with(name, "~") || (name[0] == '#' && ends_with(name, "#")))
		return "an editor backup";
	for (size_t i = 0; backups[i] != NULL; i++)
		if (ends_with(name, backups[i]))
			return "a backup or temporary file";
	if (strstr(name, ".dpkg-") != NULL)
		return "a package manager's copy";
	if (!ends_with(name, ".conf") || strlen(name) == 5)
		return "not named *.conf";
	return NULL;
}

static int
cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_path(struct conf_files *out, size_t *cap, const char *path)
{
	char *dup;

	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **np = realloc(out->paths, ncap * sizeof(*np));
		if (np == NULL)
			return -1;
		out->paths = np;
		*cap = ncap;
	}
	if ((dup = strdup(path)) == NULL)
		return -1;
	out->paths[out->n++] = dup;
	return 0;
}

int
p2pdconf_list_files(const char *dir, struct conf_files *out, const struct conf_diag *diag,
		    char *err, size_t errlen)
{
	struct linereader lr;
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	const char *why;
	DIR *d;

	out->paths = NULL;
	out->n = 0;
	lr_init(&lr, dir, 0, NULL, diag, NULL, 0);
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno == 0)
				break;
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			closedir(d);
			p2pdconf_files_free(out);
			return -1;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((why = skip_reason(de->d_name)) != NULL) {
			lr_report(&lr, CONF_DEBUG, 0, "ignoring '%s': %s", de->d_name, why);
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    sizeof(path)) {
			lr_report(&lr, CONF_DEBUG, 0, "ignoring '%s': path too long", de->d_name);
			continue;
		}
		if (stat(path, &st) == -1) {
			lr_report(&lr, CONF_DEBUG, 0, "ignoring '%s': %s", de->d_name,
				  strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			lr_report(&lr, CONF_DEBUG, 0, "ignoring '%s': not a regular file",
				  de->d_name);
			continue;
		}
		if (add_path(out, &cap, path) == -1) {
			snprintf(err, errlen, "%s: out of memory", dir);
			closedir(d);
			p2pdconf_files_free(out);
			return -1;
		}
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->paths, out->n, sizeof(*out->paths), cmp_paths);
	return 0;
}

void
p2pdconf_files_free(struct conf_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	f->paths = NULL;
	f->n = 0;
}
