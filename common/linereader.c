/* linereader: lexes configuration files for inih (see linereader.h). */
#include "common/linereader.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "common/log.h"
#include "common/util.h"

enum lex {
	LEX_SKIP,    /* blank, comment, or a bad line already reported */
	LEX_SECTION, /* lr->section holds the new section */
	LEX_PAIR,    /* lr->key and lr->value hold the pair */
};

void
lr_init(struct linereader *lr, const char *file, int flags, const char *const *hidden,
	const struct conf_diag *diag, char *err, size_t errlen)
{
	memset(lr, 0, sizeof(*lr));
	lr->file = file;
	lr->flags = flags;
	lr->hidden = hidden;
	lr->diag = diag;
	lr->err = err;
	lr->errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
}

int
lr_is_hidden(const struct linereader *lr, const char *key)
{
	if (lr->hidden == NULL)
		return 0;
	for (const char *const *h = lr->hidden; *h != NULL; h++)
		if (strcasecmp(*h, key) == 0)
			return 1;
	return 0;
}

static void
deliver(struct linereader *lr, enum conf_sev sev, int line, const char *msg)
{
	if (lr->diag != NULL && lr->diag->fn != NULL) {
		lr->diag->fn(lr->diag->arg, sev, lr->file, line, msg);
		return;
	}
	if (sev == CONF_WARNING)
		log_at(LOG_LVL_WARN, NULL, 0, "%s", msg);
	else if (sev == CONF_DEBUG)
		log_at(LOG_LVL_DEBUG, NULL, 0, "%s", msg);
}

void
lr_report(struct linereader *lr, enum conf_sev sev, int line, const char *fmt, ...)
{
	char msg[LR_MAX_MSG];
	va_list ap;
	int n;

	if (line > 0)
		n = snprintf(msg, sizeof(msg), "%s:%d: ", lr->file, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", lr->file);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (sev == CONF_ERROR) {
		if (lr->nerrors++ == 0 && lr->err != NULL && lr->errlen > 0)
			str_lcpy(lr->err, msg, lr->errlen);
	} else if (sev == CONF_WARNING) {
		lr->nwarnings++;
	}
	deliver(lr, sev, line, msg);
	sodium_memzero(msg, sizeof(msg));
	if (sev == CONF_ERROR && lr->nerrors == LR_MAX_ERRORS && !lr->gave_up) {
		lr->gave_up = 1;
		snprintf(msg, sizeof(msg), "%s: too many errors (%d); giving up", lr->file,
			 LR_MAX_ERRORS);
		deliver(lr, CONF_ERROR, 0, msg);
	}
}

static int
is_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* The key at the start of a line, for messages about a line that cannot be
 * parsed: "KEY: " if the line starts with a plausible key, else "". */
static const char *
lead_key(const char *s, size_t n, char *buf, size_t size)
{
	size_t i = 0, k;

	while (i < n && is_blank((unsigned char)s[i]))
		i++;
	for (k = i; k < n && is_key_char((unsigned char)s[k]); k++)
		;
	if (k == i || k - i > LR_MAX_KEY ||
	    (k < n && !is_blank((unsigned char)s[k]) && s[k] != '=')) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, size, "%.*s: ", (int)(k - i), s + i);
	return buf;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned long cp;

	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1Fu;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0Fu;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0; /* overlong, out of range, or a surrogate */
	return len;
}

/* Rejects NUL bytes, control characters other than tab and invalid UTF-8. */
static int
check_bytes(struct linereader *lr, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char kb[LR_MAX_KEY + 4];
	const char *key = lead_key(s, n, kb, sizeof(kb));
	size_t i = 0, l;

	while (i < n) {
		if (u[i] == '\0') {
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "%sNUL byte at column %zu (configuration files are text; is this "
				  "a binary file?)",
				  key, i + 1);
			return -1;
		}
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F) {
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "%scontrol character 0x%02X at column %zu (configuration files "
				  "are text; is this a binary file?)",
				  key, u[i], i + 1);
			return -1;
		}
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_len(u + i, n - i)) == 0) {
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "%sinvalid UTF-8 byte 0x%02X at column %zu (configuration files "
				  "are UTF-8 text)",
				  key, u[i], i + 1);
			return -1;
		}
		i += l;
	}
	return 0;
}

static enum lex
lex_section(struct linereader *lr, const char *s, size_t n)
{
	size_t a, b;

	if (!(lr->flags & LR_SECTIONS)) {
		lr_report(lr, CONF_ERROR, lr->lineno,
			  "section headers ('[...]') are not used in this file; expected "
			  "'key value' lines");
		return LEX_SKIP;
	}
	if (n < 2 || s[n - 1] != ']') {
		lr_report(lr, CONF_ERROR, lr->lineno,
			  "malformed section header: expected '[name]' with nothing after ']'");
		return LEX_SKIP;
	}
	for (a = 1; a < n - 1 && is_blank((unsigned char)s[a]); a++)
		;
	for (b = n - 1; b > a && is_blank((unsigned char)s[b - 1]); b--)
		;
	if (a == b) {
		lr_report(lr, CONF_ERROR, lr->lineno, "empty section name: expected '[name]'");
		return LEX_SKIP;
	}
	if (memchr(s + a, '[', b - a) != NULL || memchr(s + a, ']', b - a) != NULL) {
		lr_report(lr, CONF_ERROR, lr->lineno,
			  "malformed section header: '[' or ']' inside the section name");
		return LEX_SKIP;
	}
	memcpy(lr->section, s + a, b - a);
	lr->section[b - a] = '\0';
	lr->handler(lr->user, lr->lineno, lr->section, NULL, NULL);
	return LEX_SECTION;
}

static enum lex
lex_pair(struct linereader *lr, const char *s, size_t n)
{
	size_t k, v;

	for (k = 0; k < n && is_key_char((unsigned char)s[k]); k++)
		;
	if (k == 0) {
		if (s[0] == '=')
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "malformed line: missing key name before '='");
		else
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "malformed line: expected 'key value', a '#' comment or a blank "
				  "line");
		return LEX_SKIP;
	}
	if (k > LR_MAX_KEY) {
		lr_report(lr, CONF_ERROR, lr->lineno,
			  "key name '%.20s...' is too long (%zu bytes; at most %d)", s, k,
			  LR_MAX_KEY);
		return LEX_SKIP;
	}
	if (k < n && !is_blank((unsigned char)s[k]) && s[k] != '=') {
		/* Show the character only when it is plain ASCII. */
		unsigned char c = (unsigned char)s[k];
		if (c > 0x20 && c < 0x7F)
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "%.*s: unexpected '%c' after the key name; expected '%.*s value' "
				  "or '%.*s = value'",
				  (int)k, s, c, (int)k, s, (int)k, s);
		else
			lr_report(lr, CONF_ERROR, lr->lineno,
				  "%.*s: unexpected byte 0x%02X after the key name; expected "
				  "'%.*s value' or '%.*s = value'",
				  (int)k, s, c, (int)k, s, (int)k, s);
		return LEX_SKIP;
	}
	for (v = k; v < n && is_blank((unsigned char)s[v]); v++)
		;
	if (v < n && s[v] == '=')
		for (v++; v < n && is_blank((unsigned char)s[v]); v++)
			;
	while (n > v && is_blank((unsigned char)s[n - 1]))
		n--;
	if (v == n) {
		lr_report(lr, CONF_ERROR, lr->lineno, "%.*s: missing value; expected '%.*s VALUE'",
			  (int)k, s, (int)k, s);
		return LEX_SKIP;
	}
	memcpy(lr->key, s, k);
	lr->key[k] = '\0';
	memcpy(lr->value, s + v, n - v);
	lr->value[n - v] = '\0';
	lr->keyline = lr->lineno;
	return LEX_PAIR;
}

/* Lexes one physical line (without its '\n'). */
static enum lex
lex_line(struct linereader *lr, const char *s, size_t n, int first)
{
	char kb[LR_MAX_KEY + 4];
	size_t i = 0;

	if (first && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3; /* UTF-8 byte order mark */
		n -= 3;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > LR_MAX_LINE) {
		lr_report(lr, CONF_ERROR, lr->lineno, "%sline too long (%zu bytes; at most %d)",
			  lead_key(s, n, kb, sizeof(kb)), n, LR_MAX_LINE);
		return LEX_SKIP;
	}
	if (check_bytes(lr, s, n) == -1)
		return LEX_SKIP;
	while (i < n && is_blank((unsigned char)s[i]))
		i++;
	if (i == n || s[i] == '#' || s[i] == ';')
		return LEX_SKIP;
	if (s[i] == '[')
		return lex_section(lr, s + i, n - i);
	return lex_pair(lr, s + i, n - i);
}

/* Writes the normalised line for inih: "[section]\n" or "key=value\n",
 * clipped to the library's buffer but always ending in '\n' (so a build that
 * grows its buffer never joins two of our lines). */
static void
emit(struct linereader *lr, enum lex kind, char *str, int num)
{
	size_t room = (size_t)num - 2; /* '\n' and NUL */
	size_t klen, vlen;
	const char *val;

	if (kind == LEX_SECTION) {
		/* inih's section is not used (the handler gets lr->section); hand it a
		 * name it cannot misread (no inline-comment or ']' characters). */
		size_t slen = strlen(lr->section), i;
		if (slen > room - 2)
			slen = room - 2;
		str[0] = '[';
		for (i = 0; i < slen; i++)
			str[i + 1] =
			    is_key_char((unsigned char)lr->section[i]) ? lr->section[i] : '_';
		memcpy(str + slen + 1, "]\n", 3);
		return;
	}
	klen = strlen(lr->key);
	val = lr_is_hidden(lr, lr->key) ? "(hidden)" : lr->value;
	vlen = strlen(val);
	if (vlen > room - klen - 1)
		vlen = room - klen - 1;
	snprintf(str, (size_t)num, "%s=%.*s\n", lr->key, (int)vlen, val);
}

/* inih's reader: hands the library one normalised line per call. */
static char *
lr_reader(char *str, int num, void *stream)
{
	struct linereader *lr = stream;

	if (num < LR_MAX_KEY + 8) {
		if (!lr->gave_up)
			lr_report(lr, CONF_ERROR, 0,
				  "internal error: the INI library's line buffer (%d bytes) is too "
				  "small",
				  num);
		lr->gave_up = 1;
		return NULL;
	}
	while (!lr->gave_up && lr->pos < lr->len) {
		const char *s = lr->text + lr->pos;
		const char *nl = memchr(s, '\n', lr->len - lr->pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : lr->len - lr->pos;
		int first = lr->pos == 0;
		enum lex kind;

		lr->pos += n + (nl != NULL);
		lr->lineno++;
		kind = lex_line(lr, s, n, first);
		if (kind != LEX_SKIP) {
			emit(lr, kind, str, num);
			return str;
		}
	}
	return NULL;
}

#if INI_HANDLER_LINENO
static int
lr_ini_handler(void *user, const char *section, const char *name, const char *value, int lineno)
#else
static int
lr_ini_handler(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct linereader *lr = user;

	(void)section;
	(void)value;
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	if (name == NULL)
		return 1; /* a build that also reports new sections: they are ours already */
	if (lr->keyline == 0 || strcmp(name, lr->key) != 0) {
		lr_report(lr, CONF_ERROR, lr->lineno,
			  "internal error: the INI library reported a key the reader did not give "
			  "it");
		return 1;
	}
	lr->handler(lr->user, lr->keyline, lr->section, lr->key, lr->value);
	lr->keyline = 0;
	return 1;
}

int
lr_parse(struct linereader *lr, const char *text, size_t len, lr_handler *h, void *user)
{
	int rc;

	lr->text = text;
	lr->len = len;
	lr->pos = 0;
	lr->lineno = 0;
	lr->keyline = 0;
	lr->gave_up = 0;
	lr->handler = h;
	lr->user = user;
	lr->section[0] = '\0';
	rc = ini_parse_stream(lr_reader, lr, lr_ini_handler, lr);
	if (rc == -2)
		lr_report(lr, CONF_ERROR, 0, "out of memory while parsing");
	else if (rc != 0 && lr->nerrors == 0)
		lr_report(lr, CONF_ERROR, 0,
			  "internal error: the INI library rejected normalised line %d", rc);
	sodium_memzero(lr->key, sizeof(lr->key));
	sodium_memzero(lr->value, sizeof(lr->value));
	lr->text = NULL;
	return lr->nerrors == 0 ? 0 : -1;
}

int
lr_read_file(const char *path, size_t maxsize, char **text, size_t *len, struct stat *st,
	     int *missing, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t cap, got = 0;
	ssize_t r;
	char extra;
	int fd;

	*text = NULL;
	*len = 0;
	if (missing != NULL)
		*missing = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (missing != NULL)
			*missing = errno == ENOENT;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s (expected a configuration file)", strerror(EISDIR));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file (expected a configuration file)");
		goto fail;
	}
	if (st->st_size < 0 || (unsigned long long)st->st_size > maxsize) {
		snprintf(err, errlen, "too large (%lld bytes; at most %zu)", (long long)st->st_size,
			 maxsize);
		goto fail;
	}
	cap = (size_t)st->st_size;
	if ((buf = malloc(cap + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (got < cap) {
		r = read(fd, buf + got, cap - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	do
		r = read(fd, &extra, 1);
	while (r == -1 && errno == EINTR);
	if (r != 0) {
		snprintf(err, errlen, "%s",
			 r == -1 ? strerror(errno) : "the file changed while it was read");
		goto fail;
	}
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
fail:
	lr_free_text(buf, got);
	close(fd);
	return -1;
}

void
lr_free_text(char *text, size_t len)
{
	if (text == NULL)
		return;
	sodium_memzero(text, len);
	free(text);
}

char *
lr_label_from_path(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base[i];
		buf[i] = (is_key_char(c) || c == '@' || c == '+') ? (char)c : '_';
	}
	buf[n] = '\0';
	return buf;
}
