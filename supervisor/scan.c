/* scan: the provisioning files of conf_dir (see scan.h). */
#include "supervisor/scan.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/p2pdconf.h"
#include "common/util.h"

/* The diagnostic sink scan_dir puts in front of the caller's. */
struct tap {
	struct scan *s;
	const struct conf_diag *next;
};

/* Keeps an error as an invalid-file record. */
static void
keep_error(struct scan *s, const char *file, int line, const char *msg)
{
	struct ctl_invalid *v;
	size_t skip = 0;
	char prefix[32];

	if (s->ninv >= SCAN_MAX_INVALID) {
		s->inv_dropped++;
		return;
	}
	v = &s->inv[s->ninv++];
	memset(v, 0, sizeof(*v));
	str_lcpy(v->file, file, sizeof(v->file));
	v->line = line;
	/* The message starts with "FILE:LINE: " or "FILE: "; keep the reason. */
	if (strncmp(msg, file, strlen(file)) == 0) {
		skip = strlen(file);
		if (line > 0)
			snprintf(prefix, sizeof(prefix), ":%d: ", line);
		else
			snprintf(prefix, sizeof(prefix), ": ");
		if (strncmp(msg + skip, prefix, strlen(prefix)) == 0)
			skip += strlen(prefix);
		else
			skip = 0;
	}
	str_lcpy(v->reason, msg + skip, sizeof(v->reason));
}

static void
tap_fn(void *arg, enum conf_sev sev, const char *file, int line, const char *msg)
{
	struct tap *t = arg;

	if (sev == CONF_ERROR)
		keep_error(t->s, file, line, msg);
	if (t->next != NULL && t->next->fn != NULL) {
		t->next->fn(t->next->arg, sev, file, line, msg);
		return;
	}
	log_at(sev == CONF_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_WARN, NULL, 0, "%s", msg);
}

/* Reports one diagnostic made here (not by a parser) through the tap. */
static void report(const struct conf_diag *d, enum conf_sev sev, const char *file, int line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
report(const struct conf_diag *d, enum conf_sev sev, const char *file, int line, const char *fmt,
       ...)
{
	char msg[LR_MAX_MSG];
	va_list ap;
	int n;

	if (line > 0)
		n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	d->fn(d->arg, sev, file, line, msg);
}

/* Hashes the file's bytes into e->hash (zeros if it cannot be read: the
 * parser then reports why). */
static void
hash_file(struct scan_entry *e)
{
	char reason[256];
	struct stat st;
	size_t len;
	char *text;
	int missing;

	memset(e->hash, 0, sizeof(e->hash));
	if (lr_read_file(e->path, PROV_MAX_FILE, &text, &len, &st, &missing, reason,
			 sizeof(reason)) == -1)
		return;
	crypto_generichash(e->hash, sizeof(e->hash), (const unsigned char *)text, len, NULL, 0);
	lr_free_text(text, len);
}

static void
scan_file(struct scan_entry *e, const char *path, const struct conf_diag *d)
{
	struct prov *p;
	char err[LR_MAX_MSG];

	memset(e, 0, sizeof(*e));
	str_lcpy(e->path, path, sizeof(e->path));
	hash_file(e);
	if ((p = malloc(sizeof(*p))) == NULL) {
		report(d, CONF_ERROR, path, 0, "out of memory reading the file");
		e->nerrors = 1;
		return;
	}
	memset(p, 0, sizeof(*p));
	prov_load_file_diag(path, PROV_CHECK_PERMS, d, p, err, sizeof(err));
	prov_wipe(p);
	e->nerrors = p->nerrors;
	e->nwarnings = p->nwarnings;
	e->mode = p->mode;
	e->autoconnect = p->autoconnect;
	str_lcpy(e->name, p->name, sizeof(e->name));
	if (p->mode == PROV_INITIATOR)
		e->uid = p->remote_address;
	else if (p->mode == PROV_TARGET)
		e->uid = p->uid;
	e->valid = p->nerrors == 0 && p->mode != PROV_NONE;
	if (p->nerrors == 0 && p->mode == PROV_NONE) {
		report(d, CONF_ERROR, path, 0, "neither an initiator nor a target");
		e->nerrors = 1;
	}
	free(p);
}

const char *
scan_uid_text(const struct scan_entry *e, char buf[UID_STRLEN])
{
	return uid_format(&e->uid, buf);
}

/* The index of the entry that gets the UID of entry i. */
static size_t
winner(const struct scan *s, size_t i, scan_owner_fn *owner, void *arg)
{
	const char *cur = owner != NULL ? owner(arg, &s->e[i].uid) : NULL;
	size_t first = i;

	for (size_t j = 0; j < s->n; j++) {
		if (!s->e[j].valid || !uid_equal(&s->e[j].uid, &s->e[i].uid))
			continue;
		if (cur != NULL && strcmp(s->e[j].path, cur) == 0)
			return j;
		if (j < first)
			first = j;
	}
	return first;
}

static void
resolve_dups(struct scan *s, const struct conf_diag *d, scan_owner_fn *owner, void *arg)
{
	char u[UID_STRLEN];

	for (size_t i = 0; i < s->n; i++) {
		size_t w;
		if (!s->e[i].valid)
			continue;
		w = winner(s, i, owner, arg);
		if (w == i)
			continue;
		s->e[i].dup = 1;
		s->e[i].nerrors++;
		report(d, CONF_ERROR, s->e[i].path, 0,
		       "UID %s is already provided by %s; this file is ignored (one file per UID)",
		       scan_uid_text(&s->e[i], u), s->e[w].path);
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].dup)
			s->e[i].valid = 0;
}

int
scan_dir(const char *dir, const struct conf_diag *diag, scan_owner_fn *owner, void *arg,
	 struct scan *out)
{
	struct conf_files files;
	char err[PATH_MAX + 256];
	struct tap t;
	struct conf_diag d;

	memset(out, 0, sizeof(*out));
	t.s = out;
	t.next = diag;
	d.fn = tap_fn;
	d.arg = &t;
	if ((out->inv = calloc(SCAN_MAX_INVALID, sizeof(*out->inv))) == NULL)
		fatalx(1, "out of memory");
	if (p2pdconf_list_files(dir, &files, &d, err, sizeof(err)) == -1) {
		out->dir_failed = 1;
		report(&d, CONF_ERROR, dir, 0, "cannot list the provisioning files: %s",
		       strncmp(err, dir, strlen(dir)) == 0 && err[strlen(dir)] == ':'
			   ? err + strlen(dir) + 2
			   : err);
		return -1;
	}
	if (files.n > 0 && (out->e = calloc(files.n, sizeof(*out->e))) == NULL)
		fatalx(1, "out of memory");
	for (size_t i = 0; i < files.n; i++)
		scan_file(&out->e[i], files.paths[i], &d);
	out->n = files.n;
	p2pdconf_files_free(&files);
	resolve_dups(out, &d, owner, arg);
	return 0;
}

void
scan_free(struct scan *s)
{
	free(s->e);
	free(s->inv);
	memset(s, 0, sizeof(*s));
}
