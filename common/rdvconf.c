/* rdvconf: rendezvousd.conf (see rdvconf.h). */
#include "common/rdvconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "common/log.h"
#include "common/util.h"

enum rk {
	RK_LISTEN,
	RK_ALT_PORT,
	RK_ALT_ADDRESS,
	RK_RELAY,
	RK_RATE_LIMIT,
	RK_RELAY_RATE,
	RK_RELAY_TOTAL,
	RK_PRESENCE_TIMEOUT,
	RK_LOG_LEVEL,
	RK_COUNT
};

enum cur { CUR_NONE, CUR_SERVER, CUR_USER, CUR_DEVICE, CUR_IGNORE };

/* Per-section keys of [user] and [device]. */
enum uk { UK_AUTH_HASH, UK_ALLOW, UK_SECRET, UK_NAME, UK_COUNT };

struct rctx {
	struct linereader lr;
	struct rdv_conf *c;
	size_t ucap, dcap;
	enum cur cur;
	size_t idx;			/* current user or device */
	int sline[RK_COUNT];		/* [server] keys: line of the last setting */
	int kline[UK_COUNT];		/* keys of the current [user]/[device] section */
	char cur_name[LR_MAX_LINE + 1]; /* the current section, for messages */
};

static const char *const hidden_keys[] = {"secret", "password", "auth_hash", NULL};

static const char *const skey_names[RK_COUNT] = {
    [RK_LISTEN] = "listen",	      [RK_ALT_PORT] = "alt_port",
    [RK_ALT_ADDRESS] = "alt_address", [RK_RELAY] = "relay",
    [RK_RATE_LIMIT] = "rate_limit",   [RK_RELAY_RATE] = "relay_rate",
    [RK_RELAY_TOTAL] = "relay_total", [RK_PRESENCE_TIMEOUT] = "presence_timeout",
    [RK_LOG_LEVEL] = "log_level",
};

void
rdvconf_defaults(struct rdv_conf *c)
{
	const char *why;
	char host[PROV_HOST_MAX];

	memset(c, 0, sizeof(*c));
	str_lcpy(c->listen, RDV_DEF_LISTEN, sizeof(c->listen));
	parse_hostport(RDV_DEF_LISTEN, host, sizeof(host), &c->listen_port, RDV_DEF_PORT, &why);
	parse_ip(host, c->listen_port, &c->listen_addr, &c->listen_len);
	c->alt_port = RDV_DEF_ALT_PORT;
	c->relay = 1;
	c->rate_limit = RDV_DEF_RATE_LIMIT;
	c->relay_rate = RDV_DEF_RELAY_RATE;
	c->relay_total = RDV_DEF_RELAY_TOTAL;
	c->presence_timeout = RDV_DEF_PRESENCE_TIMEOUT;
	c->log_level = LOG_LVL_INFO;
}

/* [server] values: store into c or return -1 with *why. */
static int
set_server_key(struct rdv_conf *c, enum rk k, const char *v, const char **why)
{
	char host[PROV_HOST_MAX];
	uint64_t x;
	uint16_t port;
	int l;

	switch (k) {
	case RK_LISTEN:
		if (strlen(v) >= sizeof(c->listen) ||
		    parse_hostport(v, host, sizeof(host), &port, RDV_DEF_PORT, why) == -1 ||
		    parse_ip(host, port, &c->listen_addr, &c->listen_len) == -1) {
			*why = "expected a numeric address and port, such as 0.0.0.0:5959 or "
			       "[::]:5959";
			return -1;
		}
		str_lcpy(c->listen, v, sizeof(c->listen));
		c->listen_port = port;
		return 0;
	case RK_ALT_PORT:
		if (parse_u64(v, 0, 65535, &x, why) == -1) {
			*why = "expected a port number from 1 to 65535, or 0 for none";
			return -1;
		}
		c->alt_port = (uint16_t)x;
		return 0;
	case RK_ALT_ADDRESS:
		if (strlen(v) >= sizeof(c->alt_address) ||
		    parse_ip(v, 0, &c->alt_addr, &c->alt_len) == -1) {
			*why = "expected a numeric IPv4 or IPv6 address (a second address of this "
			       "host)";
			return -1;
		}
		str_lcpy(c->alt_address, v, sizeof(c->alt_address));
		return 0;
	case RK_RELAY:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
			c->relay = 1;
		else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
			 strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
			c->relay = 0;
		else {
			*why = "expected yes or no";
			return -1;
		}
		return 0;
	case RK_RATE_LIMIT:
		if (parse_u64(v, 1, 1000000, &x, why) == -1) {
			*why = "expected packets per second from 1 to 1000000";
			return -1;
		}
		c->rate_limit = (unsigned)x;
		return 0;
	case RK_RELAY_RATE:
	case RK_RELAY_TOTAL:
		if (parse_u64(v, 1000, 1000000000000ULL, &x, why) == -1) {
			*why = "expected bytes per second from 1000 to 1000000000000";
			return -1;
		}
		if (k == RK_RELAY_RATE)
			c->relay_rate = x;
		else
			c->relay_total = x;
		return 0;
	case RK_PRESENCE_TIMEOUT:
		if (parse_u64(v, 10, 86400, &x, why) == -1) {
			*why = "expected seconds from 10 to 86400";
			return -1;
		}
		c->presence_timeout = (unsigned)x;
		return 0;
	case RK_LOG_LEVEL:
		if ((l = log_level_parse(v)) == -1) {
			*why = "expected error, warn, info or debug";
			return -1;
		}
		c->log_level = l;
		return 0;
	default:
		*why = "unknown key";
		return -1;
	}
}

static void
server_line(struct rctx *r, int line, const char *key, const char *value)
{
	const char *why = NULL;
	int k;

	for (k = 0; k < RK_COUNT; k++)
		if (strcmp(key, skey_names[k]) == 0)
			break;
	if (k == RK_COUNT) {
		lr_report(&r->lr, CONF_WARNING, line, "[server] %s: unknown key (ignored)", key);
		return;
	}
	if (r->sline[k] != 0)
		lr_report(&r->lr, CONF_WARNING, line,
			  "%s: duplicate key (already set at line %d); the last one, line %d, is "
			  "used",
			  key, r->sline[k], line);
	r->sline[k] = line;
	if (set_server_key(r->c, (enum rk)k, value, &why) == -1)
		lr_report(&r->lr, CONF_ERROR, line, "%s: invalid value '%s': %s", key, value, why);
}

static int
cmp_uid(const void *a, const void *b)
{
	return memcmp(a, b, UID_LEN);
}

/* allow = "*" or UIDs separated by commas and/or whitespace. */
static int
parse_allow(struct rdv_user *u, const char *v, char *why, size_t whylen)
{
	char tok[UID_STRLEN + 8];
	p2p_uid *list = NULL, *nl;
	size_t n = 0, cap = 0, tl;
	const char *w, *s = v;

	if (strcmp(v, "*") == 0) {
		free(u->allow);
		u->allow = NULL;
		u->nallow = 0;
		u->allow_all = 1;
		return 0;
	}
	for (;;) {
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		tl = strcspn(s, ", \t");
		if (tl >= sizeof(tok)) {
			snprintf(why, whylen,
				 "'%.30s...' is not a UID; expected \"*\" or UIDs "
				 "separated by commas or spaces",
				 s);
			goto fail;
		}
		memcpy(tok, s, tl);
		tok[tl] = '\0';
		s += tl;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nl = realloc(list, cap * sizeof(*list))) == NULL) {
				snprintf(why, whylen, "out of memory");
				goto fail;
			}
			list = nl;
		}
		if (uid_parse(tok, &list[n], &w) == -1) {
			snprintf(why, whylen,
				 "'%s' is not a UID (%s); expected \"*\" or UIDs "
				 "separated by commas or spaces",
				 tok, w);
			goto fail;
		}
		n++;
	}
	if (n == 0) {
		snprintf(why, whylen, "expected \"*\" or UIDs separated by commas or spaces");
		goto fail;
	}
	qsort(list, n, sizeof(*list), cmp_uid);
	free(u->allow);
	u->allow = list;
	u->nallow = n;
	u->allow_all = 0;
	return 0;
fail:
	free(list);
	return -1;
}

static int
name_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._-@+", v[i]) == NULL)
			return 0;
	return n > 0 && n <= max;
}

static int
find_uk(const char *key, enum cur cur)
{
	if (cur == CUR_USER) {
		if (strcmp(key, "auth_hash") == 0)
			return UK_AUTH_HASH;
		if (strcmp(key, "allow") == 0)
			return UK_ALLOW;
	} else {
		if (strcmp(key, "secret") == 0 || strcmp(key, "password") == 0)
			return UK_SECRET;
		if (strcmp(key, "name") == 0)
			return UK_NAME;
	}
	return -1;
}

static void
account_line(struct rctx *r, int line, const char *key, const char *value)
{
	char why[256];
	int k = find_uk(key, r->cur);

	if (k == -1) {
		lr_report(&r->lr, CONF_WARNING, line, "[%s] %s: unknown key (ignored)", r->cur_name,
			  key);
		return;
	}
	if (r->kline[k] != 0)
		lr_report(&r->lr, CONF_WARNING, line,
			  "[%s] %s: duplicate key (already set at line %d); the last one, line %d, "
			  "is used",
			  r->cur_name, key, r->kline[k], line);
	r->kline[k] = line;
	if (r->cur == CUR_USER) {
		struct rdv_user *u = &r->c->users[r->idx];
		if (k == UK_AUTH_HASH) {
			if (strlen(value) != 2 * AUTH_HASH_LEN ||
			    hex_decode(value, u->auth_hash, AUTH_HASH_LEN) == -1)
				lr_report(&r->lr, CONF_ERROR, line,
					  "[%s] auth_hash: invalid value (hidden): expected %d hex "
					  "digits (connectd --hash USER PASSWORD prints it)",
					  r->cur_name, 2 * AUTH_HASH_LEN);
			else
				u->has_auth_hash = 1;
		} else {
			u->allow_line = line;
			if (parse_allow(u, value, why, sizeof(why)) == -1)
				lr_report(&r->lr, CONF_ERROR, line, "[%s] allow: invalid value: %s",
					  r->cur_name, why);
		}
		return;
	}
	struct rdv_device *d = &r->c->devices[r->idx];
	if (k == UK_SECRET) {
		size_t n = strlen(value);
		if (n >= sizeof(d->secret))
			lr_report(
			    &r->lr, CONF_ERROR, line,
			    "[%s] %s: invalid value (hidden): expected a secret of at most %zu "
			    "bytes (got %zu)",
			    r->cur_name, key, sizeof(d->secret) - 1, n);
		else
			str_lcpy(d->secret, value, sizeof(d->secret));
	} else if (!name_ok(value, sizeof(d->name) - 1)) {
		lr_report(&r->lr, CONF_ERROR, line,
			  "[%s] name: invalid value '%s': expected a label of 1 to %zu characters "
			  "from A-Z a-z 0-9 . _ - @ +",
			  r->cur_name, value, sizeof(d->name) - 1);
	} else {
		str_lcpy(d->name, value, sizeof(d->name));
	}
}

static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((na = realloc(*arr, ncap * size)) == NULL)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static void
new_user(struct rctx *r, int line, const char *name)
{
	struct rdv_user *u;
	size_t n = strlen(name);

	if (n >= RDV_USER_MAX) {
		lr_report(&r->lr, CONF_ERROR, line,
			  "[user %.20s...]: user name too long (%zu bytes; at most %d)", name, n,
			  RDV_USER_MAX - 1);
		return;
	}
	if (grow((void **)&r->c->users, &r->ucap, r->c->nusers, sizeof(*u)) == -1) {
		lr_report(&r->lr, CONF_ERROR, line, "out of memory");
		return;
	}
	r->idx = r->c->nusers++;
	u = &r->c->users[r->idx];
	memset(u, 0, sizeof(*u));
	memcpy(u->name, name, n + 1);
	u->name_len = n;
	u->allow_all = 1;
	u->line = line;
	r->cur = CUR_USER;
}

static void
new_device(struct rctx *r, int line, const char *arg)
{
	struct rdv_device *d;
	const char *why = NULL;
	p2p_uid uid;

	if (uid_parse(arg, &uid, &why) == -1) {
		lr_report(&r->lr, CONF_ERROR, line, "[device %s]: invalid UID: %s", arg, why);
		return;
	}
	if (grow((void **)&r->c->devices, &r->dcap, r->c->ndevices, sizeof(*d)) == -1) {
		lr_report(&r->lr, CONF_ERROR, line, "out of memory");
		return;
	}
	r->idx = r->c->ndevices++;
	d = &r->c->devices[r->idx];
	memset(d, 0, sizeof(*d));
	d->uid = uid;
	d->line = line;
	r->cur = CUR_DEVICE;
}

static void
section_line(struct rctx *r, int line, const char *section)
{
	size_t tl = strcspn(section, " \t");
	const char *arg = section + tl;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	memset(r->kline, 0, sizeof(r->kline));
	str_lcpy(r->cur_name, section, sizeof(r->cur_name));
	r->cur = CUR_IGNORE; /* until the header proves good */
	if (strcmp(section, "server") == 0) {
		r->cur = CUR_SERVER;
	} else if (tl == 4 && strncmp(section, "user", 4) == 0) {
		if (*arg == '\0' || arg[strcspn(arg, " \t")] != '\0')
			lr_report(&r->lr, CONF_ERROR, line,
				  "[%s]: expected [user NAME] with one name without spaces",
				  section);
		else
			new_user(r, line, arg);
	} else if (tl == 6 && strncmp(section, "device", 6) == 0) {
		if (*arg == '\0')
			lr_report(&r->lr, CONF_ERROR, line,
				  "[%s]: expected [device UID], such as [device "
				  "80:00:00:00:01:00:0A:C2]",
				  section);
		else
			new_device(r, line, arg);
	} else if (tl == 6 && strncmp(section, "server", 6) == 0) {
		lr_report(&r->lr, CONF_ERROR, line, "[%s]: expected [server] with nothing after it",
			  section);
	} else {
		lr_report(&r->lr, CONF_WARNING, line,
			  "[%s]: unknown section (its keys are ignored); expected [server], [user "
			  "NAME] or [device UID]",
			  section);
	}
}

static void
rdv_line(void *user, int line, const char *section, const char *key, const char *value)
{
	struct rctx *r = user;

	if (key == NULL) {
		section_line(r, line, section);
		return;
	}
	switch (r->cur) {
	case CUR_NONE:
		lr_report(&r->lr, CONF_ERROR, line,
			  "%s: key outside a section; put it under [server], [user NAME] or "
			  "[device UID]",
			  key);
		break;
	case CUR_SERVER:
		server_line(r, line, key, value);
		break;
	case CUR_USER:
	case CUR_DEVICE:
		account_line(r, line, key, value);
		break;
	case CUR_IGNORE:
		break;
	}
}

static int
cmp_user(const void *a, const void *b)
{
	const struct rdv_user *x = a, *y = b;

	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, x->name_len);
}

static int
cmp_device(const void *a, const void *b)
{
	const struct rdv_device *x = a, *y = b;

	return memcmp(&x->uid, &y->uid, UID_LEN);
}

static void
check_users(struct rctx *r)
{
	struct rdv_conf *c = r->c;

	for (size_t i = 0; i < c->nusers; i++)
		if (!c->users[i].has_auth_hash)
			lr_report(&r->lr, CONF_ERROR, c->users[i].line,
				  "[user %s]: missing required key 'auth_hash'", c->users[i].name);
	if (c->nusers > 1)
		qsort(c->users, c->nusers, sizeof(*c->users), cmp_user);
	for (size_t i = 1; i < c->nusers; i++) {
		const struct rdv_user *a = &c->users[i - 1], *b = &c->users[i];
		if (cmp_user(a, b) == 0)
			lr_report(&r->lr, CONF_ERROR, a->line > b->line ? a->line : b->line,
				  "[user %s]: duplicate user (first defined at line %d)", a->name,
				  a->line < b->line ? a->line : b->line);
	}
}

static void
check_devices(struct rctx *r)
{
	struct rdv_conf *c = r->c;
	char ub[UID_STRLEN];

	for (size_t i = 0; i < c->ndevices; i++) {
		size_t n = strlen(c->devices[i].secret);
		if (n == 0)
			lr_report(&r->lr, CONF_ERROR, c->devices[i].line,
				  "[device %s]: missing required key 'secret'",
				  uid_format(&c->devices[i].uid, ub));
		else if (n < 16)
			lr_report(&r->lr, CONF_WARNING, c->devices[i].line,
				  "[device %s]: short secret (%zu bytes); use 16 or more random "
				  "characters",
				  uid_format(&c->devices[i].uid, ub), n);
	}
	if (c->ndevices > 1)
		qsort(c->devices, c->ndevices, sizeof(*c->devices), cmp_device);
	for (size_t i = 1; i < c->ndevices; i++) {
		const struct rdv_device *a = &c->devices[i - 1], *b = &c->devices[i];
		if (cmp_device(a, b) == 0)
			lr_report(&r->lr, CONF_ERROR, a->line > b->line ? a->line : b->line,
				  "[device %s]: duplicate device (first defined at line %d)",
				  uid_format(&a->uid, ub), a->line < b->line ? a->line : b->line);
	}
}

/* An allow list naming a UID without a [device] section can never match. */
static void
check_allow(struct rctx *r)
{
	const struct rdv_conf *c = r->c;
	char ub[UID_STRLEN];

	for (size_t i = 0; i < c->nusers; i++)
		for (size_t j = 0; j < c->users[i].nallow; j++)
			if (rdvconf_device(c, &c->users[i].allow[j]) == NULL)
				lr_report(&r->lr, CONF_WARNING, c->users[i].allow_line,
					  "[user %s] allow: %s has no [device] section",
					  c->users[i].name, uid_format(&c->users[i].allow[j], ub));
}

static void
check_server(struct rctx *r, const struct stat *st)
{
	struct rdv_conf *c = r->c;

	if (c->alt_port != 0 && c->alt_port == c->listen_port) {
		int line = r->sline[RK_ALT_PORT] ? r->sline[RK_ALT_PORT] : r->sline[RK_LISTEN];
		lr_report(&r->lr, CONF_ERROR, line,
			  "alt_port: invalid value '%u': must differ from the listen port (or be 0 "
			  "for none)",
			  (unsigned)c->alt_port);
	}
	if ((c->nusers > 0 || c->ndevices > 0) && (st->st_mode & (S_IRGRP | S_IROTH)))
		lr_report(&r->lr, CONF_WARNING, 0,
			  "holds device secrets and user auth_hash values but is readable by "
			  "others (mode %04o); run: chmod 600 %s",
			  (unsigned)(st->st_mode & 07777), c->source);
}

int
rdvconf_load_diag(const char *path, int must_exist, const struct conf_diag *diag,
		  struct rdv_conf *c, char *err, size_t errlen)
{
	char reason[256];
	struct stat st;
	struct rctx r;
	char *text;
	size_t len;
	int missing;

	if (path == NULL)
		path = RDV_CONF_PATH;
	rdvconf_defaults(c);
	memset(&r, 0, sizeof(r));
	r.c = c;
	lr_init(&r.lr, path, LR_SECTIONS, hidden_keys, diag, err, errlen);
	if (lr_read_file(path, RDV_MAX_FILE, &text, &len, &st, &missing, reason, sizeof(reason)) ==
	    -1) {
		if (missing && !must_exist) {
			lr_report(&r.lr, CONF_DEBUG, 0, "not found; using the defaults");
			return 0;
		}
		lr_report(&r.lr, CONF_ERROR, 0, "%s", reason);
		c->nerrors = r.lr.nerrors;
		return -1;
	}
	str_lcpy(c->source, path, sizeof(c->source));
	lr_parse(&r.lr, text, len, rdv_line, &r);
	lr_free_text(text, len);
	check_users(&r);
	check_devices(&r);
	check_allow(&r);
	check_server(&r, &st);
	c->nerrors = r.lr.nerrors;
	c->nwarnings = r.lr.nwarnings;
	if (c->nerrors == 0)
		return 0;
	rdvconf_free(c);
	return -1;
}

int
rdvconf_load(const char *path, int must_exist, struct rdv_conf *c, char *err, size_t errlen)
{
	return rdvconf_load_diag(path, must_exist, NULL, c, err, errlen);
}

void
rdvconf_free(struct rdv_conf *c)
{
	for (size_t i = 0; i < c->nusers; i++)
		free(c->users[i].allow);
	if (c->users != NULL)
		sodium_memzero(c->users, c->nusers * sizeof(*c->users));
	if (c->devices != NULL)
		sodium_memzero(c->devices, c->ndevices * sizeof(*c->devices));
	free(c->users);
	free(c->devices);
	c->users = NULL;
	c->devices = NULL;
	c->nusers = 0;
	c->ndevices = 0;
}

const struct rdv_user *
rdvconf_user(const struct rdv_conf *c, const char *name, size_t len)
{
	struct rdv_user key;

	if (c->nusers == 0 || len == 0 || len >= sizeof(key.name))
		return NULL;
	memcpy(key.name, name, len);
	key.name_len = len;
	return bsearch(&key, c->users, c->nusers, sizeof(*c->users), cmp_user);
}

const struct rdv_device *
rdvconf_device(const struct rdv_conf *c, const p2p_uid *uid)
{
	struct rdv_device key;

	if (c->ndevices == 0)
		return NULL;
	key.uid = *uid;
	return bsearch(&key, c->devices, c->ndevices, sizeof(*c->devices), cmp_device);
}

int
rdvconf_user_may_reach(const struct rdv_user *u, const p2p_uid *uid)
{
	if (u->allow_all)
		return 1;
	if (u->nallow == 0)
		return 0;
	return bsearch(uid, u->allow, u->nallow, sizeof(*u->allow), cmp_uid) != NULL;
}
