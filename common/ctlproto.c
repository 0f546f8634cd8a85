/* ctlproto: the p2pctl <-> p2pd control protocol codec (see ctlproto.h). */
#include "common/ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const verb_names[] = {
    [CTL_STATUS] = "status",   [CTL_KILL] = "kill",	[CTL_START] = "start",
    [CTL_RESTART] = "restart", [CTL_RELOAD] = "reload",
};

static const char *const err_names[] = {
    [CTL_E_BAD_REQUEST] = "bad-request",
    [CTL_E_UNKNOWN_UID] = "unknown-uid",
    [CTL_E_TIMEOUT] = "timeout",
    [CTL_E_FAILED] = "failed",
    [CTL_E_BUSY] = "busy",
    [CTL_E_SHUTDOWN] = "shutting-down",
};

const char *
ctl_verb_name(int verb)
{
	if (verb <= 0 || verb >= (int)ARRAY_LEN(verb_names))
		return NULL;
	return verb_names[verb];
}

const char *
ctl_err_name(int err)
{
	if (err <= 0 || err >= (int)ARRAY_LEN(err_names))
		return NULL;
	return err_names[err];
}

/* 0: the verb takes no UID; 1: it needs one; 2: a UID is optional. */
static int
verb_uid_rule(enum ctl_verb v)
{
	switch (v) {
	case CTL_STATUS:
		return 2;
	case CTL_RELOAD:
		return 0;
	default:
		return 1;
	}
}

int
ctl_request_format(const struct ctl_request *r, char *buf, size_t len)
{
	const char *name = ctl_verb_name((int)r->verb);
	char u[UID_STRLEN];
	int rule, n;

	if (name == NULL)
		return -1;
	rule = verb_uid_rule(r->verb);
	if ((rule == 0 && r->has_uid) || (rule == 1 && !r->has_uid))
		return -1;
	if (r->has_uid)
		n = snprintf(buf, len, "%s %s\n", name, uid_format(&r->uid, u));
	else
		n = snprintf(buf, len, "%s\n", name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* Checks a line for NUL and control bytes; returns the 1-based position of the
 * first bad byte, or 0. */
static size_t
bad_byte(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return i + 1;
	}
	return 0;
}

/* Strips one trailing "\n" from the line. */
static size_t
chomp(const char *buf, size_t len)
{
	return (len > 0 && buf[len - 1] == '\n') ? len - 1 : len;
}

int
ctl_request_parse(const char *buf, size_t len, struct ctl_request *r, char *err, size_t errlen)
{
	char line[CTL_MAX_REQUEST + 1]; /* a request without its newline, and a NUL */
	const char *why = NULL;
	char *sp, *arg = NULL;
	size_t pos;
	int v, rule;

	memset(r, 0, sizeof(*r));
	if (len > CTL_MAX_REQUEST) {
		snprintf(err, errlen, "request of %zu bytes is longer than %d", len,
			 CTL_MAX_REQUEST);
		return -1;
	}
	len = chomp(buf, len);
	if ((pos = bad_byte(buf, len)) != 0) {
		snprintf(err, errlen, "byte 0x%02X at position %zu: a request is one line of text",
			 (unsigned char)buf[pos - 1], pos);
		return -1;
	}
	if (len == 0) {
		snprintf(err, errlen,
			 "empty request; expected status, kill, start, restart or reload");
		return -1;
	}
	memcpy(line, buf, len);
	line[len] = '\0';
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		arg = sp + 1;
	}
	for (v = CTL_STATUS; v <= CTL_RELOAD; v++)
		if (strcmp(line, verb_names[v]) == 0)
			break;
	if (v > CTL_RELOAD) {
		snprintf(err, errlen,
			 "unknown request '%.32s'; expected status, kill, start, restart or reload",
			 line);
		return -1;
	}
	r->verb = (enum ctl_verb)v;
	rule = verb_uid_rule(r->verb);
	if (arg == NULL) {
		if (rule == 1) {
			snprintf(err, errlen, "%s needs a UID (%s 80:00:00:00:01:00:0A:C2)", line,
				 line);
			return -1;
		}
		return 0;
	}
	if (rule == 0) {
		snprintf(err, errlen, "%s takes no argument", line);
		return -1;
	}
	if (uid_parse(arg, &r->uid, &why) == -1) {
		snprintf(err, errlen, "%s: bad UID '%.40s': %s", line, arg, why);
		return -1;
	}
	r->has_uid = 1;
	return 0;
}

/* ---- percent encoding ---- */

static int
is_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+,~-", c) != NULL;
}

int
ctl_pct_encode(const char *s, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c != '\0' && is_safe(c)) ? 1 : 3;
		if (o + need >= outlen)
			return -1;
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
ctl_pct_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3)
				return -1;
			hi = hex_digit((unsigned char)s[i + 1]);
			lo = hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi << 4 | lo;
			if (c == 0)
				return -1;
			i += 2;
		} else if (!is_safe((unsigned char)c)) {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* ---- records ---- */

enum ftype { F_STR, F_INT };

struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
};

#define WSTR(k, m)                                                                                 \
	{                                                                                          \
		k, F_STR, offsetof(struct ctl_worker, m), sizeof(((struct ctl_worker *)0)->m)      \
	}
#define WINT(k, m)                                                                                 \
	{                                                                                          \
		k, F_INT, offsetof(struct ctl_worker, m), 0                                        \
	}

static const struct field worker_fields[] = {
    WSTR("uid", uid),
    WSTR("name", name),
    WSTR("file", file),
    WSTR("mode", mode),
    WINT("autoconnect", autoconnect),
    WSTR("want", want),
    WSTR("state", state),
    WSTR("detail", detail),
    WINT("pid", pid),
    WSTR("local", local),
    WSTR("path", path),
    WSTR("peer", peer),
    WINT("rtt_ms", rtt_ms),
    WINT("bytes_in", bytes_in),
    WINT("bytes_out", bytes_out),
    WINT("uptime_s", uptime_s),
    WINT("restarts", restarts),
    WINT("backoff_s", backoff_s),
    WINT("next_start_ms", next_start_ms),
    WINT("last_exit", last_exit),
    WSTR("last_error", last_error),
};

static const struct field invalid_fields[] = {
    {"file", F_STR, offsetof(struct ctl_invalid, file), CTL_MAX_FILE},
    {"line", F_INT, offsetof(struct ctl_invalid, line), 0},
    {"reason", F_STR, offsetof(struct ctl_invalid, reason), CTL_MAX_TEXT * 2},
};

/* Appends " key=value" for every known field of rec to buf. */
static int
format_fields(char *buf, size_t len, size_t o, const struct field *f, size_t nf, const void *rec)
{
	const char *base = rec;
	int n;

	for (size_t i = 0; i < nf; i++) {
		if (f[i].type == F_INT) {
			int64_t v;
			memcpy(&v, base + f[i].off, sizeof(v));
			if (v == CTL_NONE)
				continue;
			n = snprintf(buf + o, len - o, " %s=%lld", f[i].key, (long long)v);
			if (n < 0 || (size_t)n >= len - o)
				return -1;
			o += (size_t)n;
		} else {
			const char *s = base + f[i].off;
			size_t sl = strnlen(s, f[i].size);
			if (sl == 0)
				continue;
			n = snprintf(buf + o, len - o, " %s=", f[i].key);
			if (n < 0 || (size_t)n >= len - o)
				return -1;
			o += (size_t)n;
			if ((n = ctl_pct_encode(s, sl, buf + o, len - o)) == -1)
				return -1;
			o += (size_t)n;
		}
	}
	if (o + 1 >= len)
		return -1;
	buf[o++] = '\n';
	buf[o] = '\0';
	return (int)o;
}

static int
format_record(char *buf, size_t len, const char *tag, const struct field *f, size_t nf,
	      const void *rec)
{
	size_t tl = strlen(tag);

	if (len > CTL_MAX_LINE + 1)
		len = CTL_MAX_LINE + 1;
	if (tl + 2 > len)
		return -1;
	memcpy(buf, tag, tl);
	return format_fields(buf, len, tl, f, nf, rec);
}

void
ctl_worker_init(struct ctl_worker *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < ARRAY_LEN(worker_fields); i++) {
		if (worker_fields[i].type == F_INT) {
			int64_t none = CTL_NONE;
			memcpy((char *)w + worker_fields[i].off, &none, sizeof(none));
		}
	}
}

int
ctl_format_worker(char *buf, size_t len, const struct ctl_worker *w)
{
	if (w->uid[0] == '\0')
		return -1;
	return format_record(buf, len, "worker", worker_fields, ARRAY_LEN(worker_fields), w);
}

int
ctl_format_invalid(char *buf, size_t len, const struct ctl_invalid *v)
{
	if (v->file[0] == '\0')
		return -1;
	return format_record(buf, len, "invalid", invalid_fields, ARRAY_LEN(invalid_fields), v);
}

/* "WORD[ MESSAGE]\n" with the message cleaned and cut. */
static int
format_msg(char *buf, size_t len, const char *word, const char *msg)
{
	size_t o, ml = msg != NULL ? strnlen(msg, CTL_MAX_MSG - 1) : 0;
	int n = snprintf(buf, len, "%s", word);

	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	if (ml > 0) {
		if (o + 1 + ml + 1 >= len)
			return -1;
		buf[o++] = ' ';
		for (size_t i = 0; i < ml; i++) {
			unsigned char c = (unsigned char)msg[i];
			buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		}
	}
	if (o + 1 >= len)
		return -1;
	buf[o++] = '\n';
	buf[o] = '\0';
	return (int)o;
}

int
ctl_format_ok(char *buf, size_t len, const char *msg)
{
	return format_msg(buf, len, "ok", msg);
}

int
ctl_format_error(char *buf, size_t len, enum ctl_err err, const char *msg)
{
	char word[48];
	const char *name = ctl_err_name((int)err);

	if (name == NULL)
		return -1;
	snprintf(word, sizeof(word), "error %s", name);
	return format_msg(buf, len, word, (msg != NULL && *msg != '\0') ? msg : name);
}

int
ctl_format_end(char *buf, size_t len)
{
	return format_msg(buf, len, "end", NULL);
}

/* ---- parsing reply lines ---- */

static int
parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Stores the value val of field f into the record at base. */
static int
parse_value(const struct field *f, const char *val, char *base, char *err, size_t errlen)
{
	int64_t v;

	if (f->type == F_INT) {
		if (parse_int(val, &v) == -1) {
			snprintf(err, errlen, "%s: '%.30s' is not a number", f->key, val);
			return -1;
		}
		memcpy(base + f->off, &v, sizeof(v));
		return 0;
	}
	if (ctl_pct_decode(val, strlen(val), base + f->off, f->size) == -1) {
		snprintf(err, errlen,
			 "%s: bad value (a bad %%XX escape, a byte that needs one, or longer than "
			 "%zu bytes)",
			 f->key, f->size - 1);
		return -1;
	}
	return 0;
}

/* Parses the " key=value ..." tail p (NUL-terminated, modified) into rec. */
static int
parse_fields(char *p, const struct field *f, size_t nf, void *rec, char *err, size_t errlen)
{
	uint32_t seen = 0;
	char *base = rec;

	if (*p == '\0')
		return 0;
	if (*p++ != ' ') {
		snprintf(err, errlen, "expected a space after the record's tag");
		return -1;
	}
	for (;;) {
		char *tok = p, *end = strchr(tok, ' '), *eq;
		size_t i;

		if (end != NULL)
			*end = '\0';
		if ((eq = strchr(tok, '=')) == NULL || eq == tok) {
			snprintf(err, errlen, "'%.40s' is not key=value", tok);
			return -1;
		}
		*eq = '\0';
		for (i = 0; i < nf; i++)
			if (strcmp(tok, f[i].key) == 0)
				break;
		if (i < nf) {
			if (seen & (1u << i)) {
				snprintf(err, errlen, "key %s given twice", tok);
				return -1;
			}
			seen |= 1u << i;
			if (parse_value(&f[i], eq + 1, base, err, errlen) == -1)
				return -1;
		}
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int
parse_msg_line(char *line, struct ctl_line *out, char *err, size_t errlen)
{
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok ", 3) == 0) {
		out->kind = CTL_L_OK;
		str_lcpy(out->msg, line[2] ? line + 3 : "", sizeof(out->msg));
		return 0;
	}
	if (strncmp(line, "error ", 6) == 0) {
		char *code = line + 6, *sp = strchr(code, ' ');
		int e;
		if (sp != NULL)
			*sp = '\0';
		for (e = CTL_E_BAD_REQUEST; e <= CTL_E_SHUTDOWN; e++)
			if (strcmp(code, err_names[e]) == 0)
				break;
		if (e > CTL_E_SHUTDOWN) {
			snprintf(err, errlen, "unknown error code '%.32s'", code);
			return -1;
		}
		out->kind = CTL_L_ERROR;
		out->err = (enum ctl_err)e;
		str_lcpy(out->msg, sp != NULL ? sp + 1 : "", sizeof(out->msg));
		return 0;
	}
	if (strcmp(line, "end") == 0) {
		out->kind = CTL_L_END;
		return 0;
	}
	snprintf(err, errlen, "unexpected line '%.40s'", line);
	return -1;
}

int
ctl_line_parse(const char *buf, size_t len, struct ctl_line *out, char *err, size_t errlen)
{
	char line[CTL_MAX_LINE + 1];
	size_t pos;

	memset(out, 0, sizeof(*out));
	len = chomp(buf, len);
	if (len >= CTL_MAX_LINE) {
		snprintf(err, errlen, "reply line of %zu bytes is longer than %d", len,
			 CTL_MAX_LINE - 1);
		return -1;
	}
	if ((pos = bad_byte(buf, len)) != 0) {
		snprintf(err, errlen, "byte 0x%02X at position %zu of a reply line",
			 (unsigned char)buf[pos - 1], pos);
		return -1;
	}
	memcpy(line, buf, len);
	line[len] = '\0';
	if (strncmp(line, "worker", 6) == 0 && (line[6] == ' ' || line[6] == '\0')) {
		out->kind = CTL_L_WORKER;
		ctl_worker_init(&out->worker);
		if (parse_fields(line + 6, worker_fields, ARRAY_LEN(worker_fields), &out->worker,
				 err, errlen) == -1)
			return -1;
		if (out->worker.uid[0] == '\0') {
			snprintf(err, errlen, "worker record without uid");
			return -1;
		}
		return 0;
	}
	if (strncmp(line, "invalid", 7) == 0 && (line[7] == ' ' || line[7] == '\0')) {
		out->kind = CTL_L_INVALID;
		out->inv.line = 0;
		if (parse_fields(line + 7, invalid_fields, ARRAY_LEN(invalid_fields), &out->inv,
				 err, errlen) == -1)
			return -1;
		if (out->inv.file[0] == '\0') {
			snprintf(err, errlen, "invalid record without file");
			return -1;
		}
		return 0;
	}
	return parse_msg_line(line, out, err, errlen);
}
