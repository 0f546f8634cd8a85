/* check: "p2pd -n" (see check.h). */
#include "supervisor/check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/p2pdconf.h"
#include "common/util.h"
#include "supervisor/scan.h"

/* One diagnostic, kept until its file's turn to be printed. */
struct note {
	char *file;
	enum conf_sev sev;
	char *text; /* "FILE[:LINE]: [warning: ]reason" */
};

struct notes {
	struct note *v;
	size_t n, cap;
	int verbose;
	unsigned errors;
};

/* Returns the length of the "FILE:LINE: " or "FILE: " prefix of msg, or 0. */
static size_t
prefix_len(const char *msg, const char *file, int line)
{
	char tail[32];
	size_t fl = strlen(file);

	if (strncmp(msg, file, fl) != 0)
		return 0;
	if (line > 0)
		snprintf(tail, sizeof(tail), ":%d: ", line);
	else
		snprintf(tail, sizeof(tail), ": ");
	if (strncmp(msg + fl, tail, strlen(tail)) != 0)
		return 0;
	return fl + strlen(tail);
}

/* The text printed for a diagnostic: warnings get "warning: " after the prefix. */
static char *
note_text(enum conf_sev sev, const char *file, int line, const char *msg)
{
	size_t pl = prefix_len(msg, file, line);
	size_t n = strlen(msg) + 16;
	char *t = malloc(n);

	if (t == NULL)
		fatalx(EXIT_UNKNOWN, "out of memory");
	if (sev == CONF_WARNING)
		snprintf(t, n, "%.*swarning: %s", (int)pl, msg, msg + pl);
	else
		snprintf(t, n, "%s", msg);
	return t;
}

static void
collect(void *arg, enum conf_sev sev, const char *file, int line, const char *msg)
{
	struct notes *ns = arg;
	struct note *nt;

	if (sev == CONF_DEBUG && !ns->verbose)
		return;
	if (sev == CONF_ERROR)
		ns->errors++;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 32;
		struct note *v = realloc(ns->v, cap * sizeof(*v));
		if (v == NULL)
			fatalx(EXIT_UNKNOWN, "out of memory");
		ns->v = v;
		ns->cap = cap;
	}
	nt = &ns->v[ns->n++];
	nt->sev = sev;
	if ((nt->file = strdup(file)) == NULL)
		fatalx(EXIT_UNKNOWN, "out of memory");
	nt->text = note_text(sev, file, line, msg);
}

/* Prints (and marks as printed) the notes about file; all of them if NULL. */
static void
print_notes(struct notes *ns, const char *file, FILE *out)
{
	for (size_t i = 0; i < ns->n; i++) {
		if (ns->v[i].text == NULL || (file != NULL && strcmp(ns->v[i].file, file) != 0))
			continue;
		fprintf(out, "%s\n", ns->v[i].text);
		free(ns->v[i].text);
		ns->v[i].text = NULL;
	}
}

static void
free_notes(struct notes *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->v[i].file);
		free(ns->v[i].text);
	}
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

/* p2pd.conf: its diagnostics and "FILE: ok". Returns its number of errors. */
static unsigned
check_main(const char *path, int must_exist, struct notes *ns, struct p2pd_conf *c, FILE *out)
{
	struct conf_diag d = {collect, ns};
	const char *shown = path != NULL ? path : P2PD_CONF_PATH;
	char err[LR_MAX_MSG];
	unsigned before = ns->errors;

	p2pdconf_load_diag(path, must_exist, &d, c, err, sizeof(err));
	print_notes(ns, NULL, out);
	if (ns->errors == before) {
		if (c->source[0] == '\0')
			fprintf(out, "%s: not found; using the defaults\n", shown);
		else
			fprintf(out, "%s: ok\n", shown);
	}
	if (access(c->worker_binary, X_OK) == -1)
		fprintf(out, "%s: warning: worker_binary %s cannot be run: %s\n",
			c->source[0] != '\0' ? c->source : shown, c->worker_binary,
			strerror(errno));
	return ns->errors - before;
}

int
check_config(const char *path, int must_exist, int verbose, FILE *out)
{
	struct notes ns;
	struct conf_diag d = {collect, &ns};
	struct p2pd_conf c;
	struct scan s;
	unsigned errors, bad_files = 0;
	char u[UID_STRLEN];

	memset(&ns, 0, sizeof(ns));
	ns.verbose = verbose;
	if (check_main(path, must_exist, &ns, &c, out) > 0)
		bad_files++;
	scan_dir(c.conf_dir, &d, NULL, NULL, &s);
	/* Notes about the directory itself and skipped names come first. */
	for (size_t i = 0; i < ns.n; i++) {
		int about_file = 0;
		for (size_t j = 0; j < s.n && !about_file; j++)
			about_file = strcmp(ns.v[i].file, s.e[j].path) == 0;
		if (!about_file && ns.v[i].text != NULL) {
			fprintf(out, "%s\n", ns.v[i].text);
			free(ns.v[i].text);
			ns.v[i].text = NULL;
		}
	}
	if (s.dir_failed)
		bad_files++;
	else if (s.n == 0)
		fprintf(out, "%s: no provisioning files (*.conf)\n", c.conf_dir);
	for (size_t i = 0; i < s.n; i++) {
		const struct scan_entry *e = &s.e[i];
		print_notes(&ns, e->path, out);
		if (e->valid)
			fprintf(out, "%s: ok (%s %s, autoconnect %d)\n", e->path,
				prov_mode_name(e->mode), scan_uid_text(e, u), e->autoconnect);
		else
			bad_files++;
	}
	scan_free(&s);
	errors = ns.errors;
	free_notes(&ns);
	if (errors == 0 && bad_files == 0) {
		fprintf(out, "configuration OK\n");
		return 0;
	}
	fprintf(out, "configuration invalid: %u error%s in %u file%s\n", errors,
		errors == 1 ? "" : "s", bad_files, bad_files == 1 ? "" : "s");
	return EXIT_CONFIG;
}
