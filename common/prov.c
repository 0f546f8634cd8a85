/* prov: provisioning files (see prov.h). */
#include "common/prov.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "common/util.h"

/* Every key, in the order prov_print shows them. */
enum pk {
	PK_NAME,
	PK_AUTOCONNECT,
	PK_USER_ID,
	PK_AUTH_HASH,
	PK_AUTH_PASS,
	PK_REMOTE_ADDRESS,
	PK_PROXY_LOCAL_PORT,
	PK_PROXY_BIND_ADDRESS,
	PK_RESTRICT_IP,
	PK_ENCRYPTION,
	PK_LIFETIME,
	PK_IDLE_LIMIT,
	PK_UID,
	PK_SECRET,
	PK_PROXY_DEST_IP,
	PK_PROXY_DEST_PORT,
	PK_APPLICATION_TYPE,
	PK_ALLOW_ENCRYPTION,
	PK_MAX_DEPTH,
	PK_SERVER,
	PK_MTU,
	PK_KEEPALIVE,
	PK_DEAD_INTERVAL,
	PK_PUNCH_TIMEOUT,
	PK_COUNT
};

enum scope { SC_BOTH, SC_INITIATOR, SC_TARGET };

/* Stores value into p, or returns -1 with what is expected in why. */
typedef int setter(struct prov *p, const char *v, char *why, size_t whylen);

struct pkey {
	const char *name;
	const char *alias;
	enum scope scope;
	int secret;
	setter *set;
};

/* Keys whose values are never shown or handed to the INI library. */
static const char *const hidden_keys[] = {"auth_pass", "auth_hash", "secret", "password", NULL};

static int why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
get_num(const char *v, uint64_t min, uint64_t max, unsigned *out)
{
	const char *why;
	uint64_t x;

	if (parse_u64(v, min, max, &x, &why) == -1)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static int
get_port(const char *v, uint16_t *out, char *why, size_t whylen)
{
	unsigned x;

	if (get_num(v, 1, 65535, &x) == -1)
		return why_set(why, whylen, "expected a port number from 1 to 65535");
	*out = (uint16_t)x;
	return 0;
}

static int
get_uid(const char *v, p2p_uid *out, char *why, size_t whylen)
{
	const char *w = NULL;

	if (uid_parse(v, out, &w) == 0)
		return 0;
	if (w != NULL && strncmp(w, "expected", 8) == 0)
		return why_set(why, whylen, "%s", w);
	return why_set(why, whylen, "%s; expected a UID like 80:00:00:00:01:00:0A:C2",
		       w != NULL ? w : "not a UID");
}

/* A numeric address into buf; *any is set when it is 0.0.0.0 or ::. */
static int
get_addr(const char *v, char *buf, size_t size, int *any, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (strlen(v) >= size || parse_ip(v, 0, &ss, &len) == -1)
		return why_set(why, whylen,
			       "expected a numeric IPv4 or IPv6 address such as 127.0.0.1 or ::1 "
			       "(no host names)");
	if (any != NULL) {
		static const uint8_t zero[16];
		if (ss.ss_family == AF_INET)
			*any = ((struct sockaddr_in *)&ss)->sin_addr.s_addr == 0;
		else
			*any = memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, zero, 16) == 0;
	}
	str_lcpy(buf, v, size);
	return 0;
}

static int
get_text(const char *v, char *buf, size_t size, const char *what, char *why, size_t whylen)
{
	if (strlen(v) >= size)
		return why_set(why, whylen, "expected %s of at most %zu bytes (got %zu)", what,
			       size - 1, strlen(v));
	str_lcpy(buf, v, size);
	return 0;
}

static int
host_ok(const char *h)
{
	size_t n = strlen(h), label = 0;
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_ip(h, 0, &ss, &len) == 0)
		return 1;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

int
prov_parse_server(const char *s, char *host, size_t hostlen, uint16_t *port, const char **why)
{
	if (parse_hostport(s, host, hostlen, port, PROV_DEFAULT_SERVER_PORT, why) == -1)
		return -1;
	if (!host_ok(host)) {
		*why = "not a host name or numeric address";
		return -1;
	}
	return 0;
}

static int
set_server(struct prov *p, const char *v, char *why, size_t whylen)
{
	char host[PROV_HOST_MAX];
	const char *w;
	uint16_t port;

	if (strlen(v) >= sizeof(p->server) ||
	    prov_parse_server(v, host, sizeof(host), &port, &w) == -1)
		return why_set(why, whylen,
			       "expected host[:port] (a host name or numeric address, port 1 to "
			       "65535, IPv6 as [addr]:port)");
	str_lcpy(p->server, v, sizeof(p->server));
	str_lcpy(p->server_host, host, sizeof(p->server_host));
	p->server_port = port;
	return 0;
}

static int
set_name(struct prov *p, const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._-@+", v[i]) == NULL)
			n = 0;
	if (n == 0 || n >= sizeof(p->name))
		return why_set(why, whylen,
			       "expected a label of 1 to %zu characters from A-Z a-z 0-9 . _ - @ +",
			       sizeof(p->name) - 1);
	str_lcpy(p->name, v, sizeof(p->name));
	return 0;
}

static int
set_autoconnect(struct prov *p, const char *v, char *why, size_t whylen)
{
	unsigned x;

	if (get_num(v, 0, 2, &x) == -1)
		return why_set(why, whylen,
			       "expected 0 (manual), 1 (connect at start) or 2 (connect, and "
			       "reconnect after any interruption)");
	p->autoconnect = (int)x;
	return 0;
}

static int
set_user_id(struct prov *p, const char *v, char *why, size_t whylen)
{
	for (const char *s = v; *s != '\0'; s++)
		if (isspace((unsigned char)*s))
			return why_set(why, whylen, "expected a user name without spaces");
	return get_text(v, p->user_id, sizeof(p->user_id), "a user name", why, whylen);
}

static int
set_auth_hash(struct prov *p, const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n != 2 * AUTH_HASH_LEN)
		return why_set(why, whylen,
			       "expected %d hex digits, got %zu characters (connectd --hash USER "
			       "PASSWORD prints it)",
			       2 * AUTH_HASH_LEN, n);
	if (hex_decode(v, p->auth_hash, AUTH_HASH_LEN) == -1)
		return why_set(why, whylen,
			       "expected %d hex digits (0-9, a-f), found another character",
			       2 * AUTH_HASH_LEN);
	p->has_auth_hash = 1;
	return 0;
}

static int
set_auth_pass(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_text(v, p->auth_pass, sizeof(p->auth_pass), "a password", why, whylen) == -1)
		return -1;
	p->has_auth_pass = 1;
	return 0;
}

static int
set_remote_address(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_uid(v, &p->remote_address, why, whylen);
}

static int
set_proxy_local_port(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_port(v, &p->proxy_local_port, why, whylen);
}

static int
set_proxy_bind_address(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_addr(v, p->proxy_bind_address, sizeof(p->proxy_bind_address), NULL, why, whylen);
}

static int
set_restrict_ip(struct prov *p, const char *v, char *why, size_t whylen)
{
	int any = 0;

	if (get_addr(v, p->restrict_ip, sizeof(p->restrict_ip), &any, why, whylen) == -1)
		return why_set(why, whylen,
			       "expected the numeric IPv4 or IPv6 address of the only client "
			       "allowed (0.0.0.0 = any)");
	p->has_restrict_ip = !any;
	return 0;
}

static int
set_encryption(struct prov *p, const char *v, char *why, size_t whylen)
{
	unsigned x;

	if (get_num(v, 0, 3, &x) == -1)
		return why_set(why, whylen,
			       "expected 0 (none), 1 (RC4), 2 (XXTEA) or 3 (ChaCha20-Poly1305)");
	p->encryption = (int)x;
	return 0;
}

static int
set_lifetime(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 0, 525600, &p->lifetime) == -1)
		return why_set(why, whylen,
			       "expected minutes from 0 (no limit) to 525600 (a year)");
	return 0;
}

static int
set_idle_limit(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 0, 31536000, &p->idle_limit) == -1)
		return why_set(why, whylen,
			       "expected seconds from 0 (no limit) to 31536000 (a year)");
	return 0;
}

static int
set_uid(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_uid(v, &p->uid, why, whylen);
}

static int
set_secret(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_text(v, p->secret, sizeof(p->secret), "a secret", why, whylen);
}

static int
set_proxy_dest_ip(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_addr(v, p->proxy_dest_ip, sizeof(p->proxy_dest_ip), NULL, why, whylen);
}

static int
set_proxy_dest_port(struct prov *p, const char *v, char *why, size_t whylen)
{
	return get_port(v, &p->proxy_dest_port, why, whylen);
}

static int
set_application_type(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 0, 65535, &p->application_type) == -1)
		return why_set(why, whylen, "expected a number from 0 to 65535");
	return 0;
}

static int
set_allow_encryption(struct prov *p, const char *v, char *why, size_t whylen)
{
	const char *s = v;
	uint8_t mask = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s < '0' || *s > '3' || (s[1] >= '0' && s[1] <= '9'))
			return why_set(why, whylen,
				       "expected a comma-separated list of modes from 0 to 3, such "
				       "as 0,1,2,3 or 2,3");
		mask |= (uint8_t)(1u << (*s - '0'));
		for (s++; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return why_set(why, whylen,
				       "expected a comma-separated list of modes from 0 to 3, such "
				       "as 0,1,2,3 or 2,3");
	}
	p->allow_encryption = mask;
	return 0;
}

static int
set_max_depth(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 1, 256, &p->max_depth) == -1)
		return why_set(why, whylen,
			       "expected a number from 1 to 256 (packets in flight per TCP "
			       "connection)");
	return 0;
}

static int
set_mtu(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 576, 1472, &p->mtu) == -1)
		return why_set(why, whylen, "expected a UDP payload size from 576 to 1472 bytes");
	return 0;
}

static int
set_keepalive(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 1, 3600, &p->keepalive) == -1)
		return why_set(why, whylen, "expected seconds from 1 to 3600");
	return 0;
}

static int
set_dead_interval(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 2, 86400, &p->dead_interval) == -1)
		return why_set(why, whylen,
			       "expected seconds from 2 to 86400 (and more than keepalive)");
	return 0;
}

static int
set_punch_timeout(struct prov *p, const char *v, char *why, size_t whylen)
{
	if (get_num(v, 1, 300, &p->punch_timeout) == -1)
		return why_set(why, whylen, "expected seconds from 1 to 300");
	return 0;
}

static const struct pkey pkeys[PK_COUNT] = {
    [PK_NAME] = {"name", NULL, SC_BOTH, 0, set_name},
    [PK_AUTOCONNECT] = {"autoconnect", NULL, SC_BOTH, 0, set_autoconnect},
    [PK_USER_ID] = {"user_id", NULL, SC_INITIATOR, 0, set_user_id},
    [PK_AUTH_HASH] = {"auth_hash", NULL, SC_INITIATOR, 1, set_auth_hash},
    [PK_AUTH_PASS] = {"auth_pass", NULL, SC_INITIATOR, 1, set_auth_pass},
    [PK_REMOTE_ADDRESS] = {"remote_address", NULL, SC_INITIATOR, 0, set_remote_address},
    [PK_PROXY_LOCAL_PORT] = {"proxy_local_port", NULL, SC_INITIATOR, 0, set_proxy_local_port},
    [PK_PROXY_BIND_ADDRESS] = {"proxy_bind_address", "proxy_local_ip", SC_INITIATOR, 0,
			       set_proxy_bind_address},
    [PK_RESTRICT_IP] = {"restrict_ip", NULL, SC_INITIATOR, 0, set_restrict_ip},
    [PK_ENCRYPTION] = {"encryption", NULL, SC_INITIATOR, 0, set_encryption},
    [PK_LIFETIME] = {"lifetime", NULL, SC_INITIATOR, 0, set_lifetime},
    [PK_IDLE_LIMIT] = {"idle_limit", NULL, SC_INITIATOR, 0, set_idle_limit},
    [PK_UID] = {"UID", NULL, SC_TARGET, 0, set_uid},
    [PK_SECRET] = {"secret", "password", SC_TARGET, 1, set_secret},
    [PK_PROXY_DEST_IP] = {"proxy_dest_ip", NULL, SC_TARGET, 0, set_proxy_dest_ip},
    [PK_PROXY_DEST_PORT] = {"proxy_dest_port", NULL, SC_TARGET, 0, set_proxy_dest_port},
    [PK_APPLICATION_TYPE] = {"application_type", NULL, SC_TARGET, 0, set_application_type},
    [PK_ALLOW_ENCRYPTION] = {"allow_encryption", NULL, SC_TARGET, 0, set_allow_encryption},
    [PK_MAX_DEPTH] = {"max_depth", NULL, SC_BOTH, 0, set_max_depth},
    [PK_SERVER] = {"server", NULL, SC_BOTH, 0, set_server},
    [PK_MTU] = {"mtu", NULL, SC_BOTH, 0, set_mtu},
    [PK_KEEPALIVE] = {"keepalive", NULL, SC_BOTH, 0, set_keepalive},
    [PK_DEAD_INTERVAL] = {"dead_interval", NULL, SC_BOTH, 0, set_dead_interval},
    [PK_PUNCH_TIMEOUT] = {"punch_timeout", NULL, SC_BOTH, 0, set_punch_timeout},
};

/* The state of one load. */
struct pctx {
	struct linereader lr;
	struct prov *p;
	int line[PK_COUNT];			/* line of the last setting, 0 = unset */
	char written[PK_COUNT][LR_MAX_KEY + 1]; /* the key as the file spells it */
};

static int
find_key(const char *key)
{
	for (int k = 0; k < PK_COUNT; k++)
		if (strcasecmp(key, pkeys[k].name) == 0 ||
		    (pkeys[k].alias != NULL && strcasecmp(key, pkeys[k].alias) == 0))
			return k;
	return -1;
}

static void
prov_line(void *user, int line, const char *section, const char *key, const char *value)
{
	struct pctx *c = user;
	char why[256];
	int k;

	(void)section;
	if (key == NULL)
		return; /* no sections here: the reader refuses them */
	if ((k = find_key(key)) == -1) {
		lr_report(&c->lr, CONF_WARNING, line, "%s: unknown key (ignored)", key);
		return;
	}
	if (c->line[k] != 0)
		lr_report(&c->lr, CONF_WARNING, line,
			  "%s: duplicate key (already set at line %d as '%s'); the last one, line "
			  "%d, is used",
			  key, c->line[k], c->written[k], line);
	c->line[k] = line;
	str_lcpy(c->written[k], key, sizeof(c->written[k]));
	if (pkeys[k].set(c->p, value, why, sizeof(why)) == 0)
		return;
	if (pkeys[k].secret)
		lr_report(&c->lr, CONF_ERROR, line, "%s: invalid value (hidden): %s", key, why);
	else
		lr_report(&c->lr, CONF_ERROR, line, "%s: invalid value '%s': %s", key, value, why);
	sodium_memzero(why, sizeof(why));
}

static void
set_defaults(struct prov *p, const char *source)
{
	memset(p, 0, sizeof(*p));
	str_lcpy(p->source, source, sizeof(p->source));
	p->autoconnect = PROV_DEF_AUTOCONNECT;
	p->max_depth = PROV_DEF_MAX_DEPTH;
	p->mtu = PROV_DEF_MTU;
	p->keepalive = PROV_DEF_KEEPALIVE;
	p->dead_interval = PROV_DEF_DEAD_INTERVAL;
	p->punch_timeout = PROV_DEF_PUNCH_TIMEOUT;
	p->encryption = PROV_DEF_ENCRYPTION;
	str_lcpy(p->proxy_bind_address, PROV_DEF_ADDRESS, sizeof(p->proxy_bind_address));
	str_lcpy(p->restrict_ip, "0.0.0.0", sizeof(p->restrict_ip));
	str_lcpy(p->proxy_dest_ip, PROV_DEF_ADDRESS, sizeof(p->proxy_dest_ip));
	p->allow_encryption = PROV_DEF_ALLOW_ENC;
}

/* The first (lowest line) of the given keys that is set, or -1. */
static int
first_set(const struct pctx *c, const enum pk *keys, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (c->line[keys[i]] != 0 && (best == -1 || c->line[keys[i]] < c->line[best]))
			best = (int)keys[i];
	return best;
}

static const enum pk init_markers[] = {PK_REMOTE_ADDRESS, PK_USER_ID, PK_PROXY_LOCAL_PORT};
static const enum pk target_markers[] = {PK_UID, PK_SECRET};

#define MODE_KEYS                                                                                  \
	"the mode is decided by remote_address, user_id, proxy_local_port (initiator) or "         \
	"UID, secret (target)"

static enum prov_mode
decide_mode(struct pctx *c)
{
	int i = first_set(c, init_markers, ARRAY_LEN(init_markers));
	int t = first_set(c, target_markers, ARRAY_LEN(target_markers));

	if (i != -1 && t != -1) {
		int later = c->line[i] > c->line[t] ? i : t, earlier = later == i ? t : i;
		lr_report(&c->lr, CONF_ERROR, c->line[later],
			  "%s: %s key in a file that has %s keys ('%s' at line %d); a file is "
			  "either an initiator or a target: " MODE_KEYS,
			  c->written[later], later == i ? "an initiator" : "a target",
			  earlier == i ? "initiator" : "target", c->written[earlier],
			  c->line[earlier]);
		return PROV_NONE;
	}
	if (i == -1 && t == -1) {
		lr_report(&c->lr, CONF_ERROR, 0,
			  "neither an initiator nor a target: " MODE_KEYS
			  "; an initiator needs user_id, remote_address, proxy_local_port and "
			  "auth_hash, a target needs UID, secret and proxy_dest_port");
		return PROV_NONE;
	}
	return i != -1 ? PROV_INITIATOR : PROV_TARGET;
}

static void
require(struct pctx *c, enum pk k, const char *mode)
{
	if (c->line[k] == 0)
		lr_report(&c->lr, CONF_ERROR, 0, "missing required key '%s' (%s mode)",
			  pkeys[k].name, mode);
}

static void
check_initiator(struct pctx *c)
{
	struct prov *p = c->p;

	require(c, PK_USER_ID, "initiator");
	require(c, PK_REMOTE_ADDRESS, "initiator");
	require(c, PK_PROXY_LOCAL_PORT, "initiator");
	if (c->line[PK_AUTH_HASH] == 0 && c->line[PK_AUTH_PASS] == 0)
		lr_report(&c->lr, CONF_ERROR, 0,
			  "missing required key 'auth_hash' (or auth_pass) (initiator mode); "
			  "connectd --hash USER PASSWORD prints the auth_hash");
	if (c->line[PK_AUTH_PASS] != 0 && c->line[PK_AUTH_HASH] != 0) {
		lr_report(&c->lr, CONF_WARNING, c->line[PK_AUTH_PASS],
			  "auth_pass: ignored, since auth_hash is set (line %d)",
			  c->line[PK_AUTH_HASH]);
		sodium_memzero(p->auth_pass, sizeof(p->auth_pass));
		p->has_auth_pass = 0;
	} else if (c->line[PK_AUTH_PASS] != 0) {
		lr_report(&c->lr, CONF_WARNING, c->line[PK_AUTH_PASS],
			  "auth_pass is discouraged; use auth_hash (connectd --hash USER "
			  "PASSWORD)");
	}
}

static void
check_target(struct pctx *c)
{
	size_t n = strlen(c->p->secret);

	require(c, PK_UID, "target");
	require(c, PK_SECRET, "target");
	require(c, PK_PROXY_DEST_PORT, "target");
	if (c->line[PK_SECRET] != 0 && n > 0 && n < 16)
		lr_report(&c->lr, CONF_WARNING, c->line[PK_SECRET],
			  "%s: short secret (%zu bytes); use 16 or more random characters",
			  c->written[PK_SECRET], n);
}

/* Keys of the other mode are ignored, with a warning. */
static void
check_scope(struct pctx *c, enum prov_mode mode)
{
	enum scope other = mode == PROV_INITIATOR ? SC_TARGET : SC_INITIATOR;

	for (int k = 0; k < PK_COUNT; k++)
		if (c->line[k] != 0 && pkeys[k].scope == other)
			lr_report(&c->lr, CONF_WARNING, c->line[k],
				  "%s: ignored: %s key in %s file", c->written[k],
				  other == SC_TARGET ? "a target" : "an initiator",
				  mode == PROV_INITIATOR ? "an initiator" : "a target");
}

static void
check_liveness(struct pctx *c)
{
	struct prov *p = c->p;

	if (p->dead_interval > p->keepalive)
		return;
	if (c->line[PK_DEAD_INTERVAL] != 0)
		lr_report(&c->lr, CONF_ERROR, c->line[PK_DEAD_INTERVAL],
			  "%s: invalid value '%u': must be more than keepalive (%u)",
			  c->written[PK_DEAD_INTERVAL], p->dead_interval, p->keepalive);
	else
		lr_report(&c->lr, CONF_ERROR, c->line[PK_KEEPALIVE],
			  "%s: invalid value '%u': must be less than dead_interval (%u)",
			  c->written[PK_KEEPALIVE], p->keepalive, p->dead_interval);
}

static int
holds_credentials(const struct pctx *c)
{
	return c->line[PK_AUTH_PASS] != 0 || c->line[PK_AUTH_HASH] != 0 || c->line[PK_SECRET] != 0;
}

/* Parses text into c->p; st is the file's status (NULL for text). */
static int
prov_parse(struct pctx *c, const char *text, size_t len, const struct stat *st)
{
	struct prov *p = c->p;
	enum prov_mode mode;

	lr_parse(&c->lr, text, len, prov_line, c);
	if (st != NULL && holds_credentials(c) && (st->st_mode & (S_IRGRP | S_IROTH)))
		lr_report(&c->lr, CONF_ERROR, 0,
			  "holds credentials but is readable by others (mode %04o); run: chmod 600 "
			  "%s",
			  (unsigned)(st->st_mode & 07777), p->source);
	mode = decide_mode(c);
	if (mode == PROV_INITIATOR)
		check_initiator(c);
	else if (mode == PROV_TARGET)
		check_target(c);
	if (mode != PROV_NONE)
		check_scope(c, mode);
	check_liveness(c);
	if (c->line[PK_NAME] == 0) {
		lr_label_from_path(p->source, p->name, sizeof(p->name));
		if (p->name[0] == '\0')
			str_lcpy(p->name, "unnamed", sizeof(p->name));
	}
	p->nerrors = c->lr.nerrors;
	p->nwarnings = c->lr.nwarnings;
	p->mode = p->nerrors == 0 ? mode : PROV_NONE;
	return p->nerrors == 0 ? 0 : -1;
}

static void
pctx_init(struct pctx *c, struct prov *p, const char *source, const struct conf_diag *diag,
	  char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	set_defaults(p, source);
	c->p = p;
	lr_init(&c->lr, p->source, 0, hidden_keys, diag, err, errlen);
}

int
prov_load_text_diag(const char *name, const char *text, size_t len, const struct conf_diag *diag,
		    struct prov *p, char *err, size_t errlen)
{
	struct pctx c;

	pctx_init(&c, p, name, diag, err, errlen);
	if (len > PROV_MAX_FILE) {
		lr_report(&c.lr, CONF_ERROR, 0, "too large (%zu bytes; at most %d)", len,
			  PROV_MAX_FILE);
		p->nerrors = c.lr.nerrors;
		return -1;
	}
	return prov_parse(&c, text, len, NULL);
}

int
prov_load_text(const char *name, const char *text, size_t len, struct prov *p, char *err,
	       size_t errlen)
{
	return prov_load_text_diag(name, text, len, NULL, p, err, errlen);
}

int
prov_load_file_diag(const char *path, int flags, const struct conf_diag *diag, struct prov *p,
		    char *err, size_t errlen)
{
	char msg[LR_MAX_MSG];
	struct stat st;
	struct pctx c;
	char *text;
	size_t len;
	int rc;

	pctx_init(&c, p, path, diag, err, errlen);
	if (lr_read_file(path, PROV_MAX_FILE, &text, &len, &st, NULL, msg, sizeof(msg)) == -1) {
		lr_report(&c.lr, CONF_ERROR, 0, "%s", msg);
		p->nerrors = c.lr.nerrors;
		return -1;
	}
	rc = prov_parse(&c, text, len, (flags & PROV_CHECK_PERMS) ? &st : NULL);
	lr_free_text(text, len);
	return rc;
}

int
prov_load_file(const char *path, struct prov *p, char *err, size_t errlen, int check_perms)
{
	return prov_load_file_diag(path, check_perms ? PROV_CHECK_PERMS : 0, NULL, p, err, errlen);
}

const char *
prov_mode_name(enum prov_mode mode)
{
	switch (mode) {
	case PROV_INITIATOR:
		return "initiator";
	case PROV_TARGET:
		return "target";
	default:
		return "none";
	}
}

static void
print_allow(FILE *out, uint8_t mask)
{
	const char *sep = "";

	fputs("allow_encryption ", out);
	for (int m = 0; m < 4; m++)
		if (mask & (1u << m)) {
			fprintf(out, "%s%d", sep, m);
			sep = ",";
		}
	fputc('\n', out);
}

static void
print_common(FILE *out, const struct prov *p)
{
	fprintf(out, "max_depth %u\n", p->max_depth);
	if (p->server[0] != '\0')
		fprintf(out, "server %s\n", p->server);
	else
		fprintf(out, "# server not set: -y, then P2P_SERVER, then localhost:%d\n",
			PROV_DEFAULT_SERVER_PORT);
	fprintf(out, "mtu %u\nkeepalive %u\ndead_interval %u\npunch_timeout %u\n", p->mtu,
		p->keepalive, p->dead_interval, p->punch_timeout);
}

void
prov_print(FILE *out, const struct prov *p)
{
	char ub[UID_STRLEN];

	fprintf(out, "# %s (%s)\n", p->source, prov_mode_name(p->mode));
	fprintf(out, "name %s\nautoconnect %d\n", p->name, p->autoconnect);
	if (p->mode == PROV_INITIATOR) {
		fprintf(out, "user_id %s\n", p->user_id);
		if (p->has_auth_hash)
			fputs("auth_hash (hidden)\n", out);
		if (p->has_auth_pass)
			fputs("auth_pass (hidden)\n", out);
		fprintf(out, "remote_address %s\n", uid_format(&p->remote_address, ub));
		fprintf(out, "proxy_local_port %u\n", (unsigned)p->proxy_local_port);
		fprintf(out, "proxy_bind_address %s\n", p->proxy_bind_address);
		fprintf(out, "restrict_ip %s\n", p->restrict_ip);
		fprintf(out, "encryption %d\n", p->encryption);
		fprintf(out, "lifetime %u\nidle_limit %u\n", p->lifetime, p->idle_limit);
	} else if (p->mode == PROV_TARGET) {
		fprintf(out, "UID %s\n", uid_format(&p->uid, ub));
		fputs("secret (hidden)\n", out);
		fprintf(out, "proxy_dest_ip %s\n", p->proxy_dest_ip);
		fprintf(out, "proxy_dest_port %u\n", (unsigned)p->proxy_dest_port);
		fprintf(out, "application_type %u\n", p->application_type);
		print_allow(out, p->allow_encryption);
	}
	print_common(out, p);
}

void
prov_wipe(struct prov *p)
{
	sodium_memzero(p->auth_pass, sizeof(p->auth_pass));
	sodium_memzero(p->auth_hash, sizeof(p->auth_hash));
	sodium_memzero(p->secret, sizeof(p->secret));
	p->has_auth_pass = 0;
	p->has_auth_hash = 0;
}
