/* linereader: the line reader under every p2pd configuration file.
 *
 * Provisioning files, p2pd.conf and rendezvousd.conf are parsed with inih
 * (ini_parse_stream) through this reader. The reader does the lexing itself,
 * so that the result is the same whatever options the library was built with:
 *
 *   - "key value", "key = value" and "key=value" are the same line: the reader
 *     hands inih "key=value", so '=' always comes before any ':' in the value
 *     (a UID is never split);
 *   - leading whitespace is stripped: there are no continuation lines;
 *   - '#' and ';' start a comment only at the start of a line; inside a value
 *     they are part of the value (no inline comments, in any inih build);
 *   - a line may hold up to LR_MAX_LINE bytes, whatever inih's own line limit;
 *   - a UTF-8 byte order mark at the start is skipped, CRLF endings are
 *     accepted, NUL bytes, control characters and invalid UTF-8 are errors;
 *   - line numbers are counted here and given to the handler.
 *
 * The handler receives the reader's exact key and value; the copy handed to
 * inih only drives the library's loop (values of "hidden" keys are masked in
 * that copy, so secrets never sit in memory the reader cannot wipe).
 *
 * Diagnostics (errors, warnings, debug notes) all go through lr_report, which
 * prefixes "FILE:LINE: ", counts them, keeps the first error for the caller
 * and passes each one to a conf_diag callback.
 */
#ifndef P2PD_LINEREADER_H
#define P2PD_LINEREADER_H

#include <stddef.h>
#include <sys/stat.h>

#define LR_MAX_LINE   1024 /* bytes per line, line ending not counted */
#define LR_MAX_KEY    63   /* bytes per key name */
#define LR_MAX_ERRORS 50   /* a file with more errors than this is given up */
#define LR_MAX_MSG    1536 /* longest diagnostic, "FILE:LINE: " included */

enum conf_sev {
	CONF_ERROR = 0,
	CONF_WARNING = 1,
	CONF_DEBUG = 2,
};

/* Receives one diagnostic: its severity, the file name, the line (0 when it
 * is about the whole file) and the full message, "FILE:LINE: ..." included. */
typedef void conf_diag_fn(void *arg, enum conf_sev sev, const char *file, int line,
			  const char *msg);

/* A diagnostic sink. With no sink (NULL, or fn NULL), warnings are logged at
 * warning level, debug notes at debug level, and errors are only counted and
 * the first one kept for the caller. */
struct conf_diag {
	conf_diag_fn *fn;
	void *arg;
};

/* Called for every "[section]" line (key and value NULL, section the text
 * between the brackets) and for every "key value" line (section is "" before
 * the first section). line is the line number in the file. */
typedef void lr_handler(void *user, int line, const char *section, const char *key,
			const char *value);

#define LR_SECTIONS 0x01 /* "[section]" lines are allowed (INI files) */

struct linereader {
	/* Set by lr_init. */
	const char *file;
	int flags;
	const char *const *hidden;
	const struct conf_diag *diag;
	char *err;
	size_t errlen;
	unsigned nerrors;
	unsigned nwarnings;
	/* Private: the parse in progress. */
	const char *text;
	size_t len, pos;
	int lineno, keyline, gave_up;
	lr_handler *handler;
	void *user;
	char section[LR_MAX_LINE + 1];
	char key[LR_MAX_KEY + 1];
	char value[LR_MAX_LINE + 1];
};

/* Prepares lr for a file named file (used in messages). flags: LR_SECTIONS or
 * 0. hidden: NULL, or a NULL-terminated list of keys (case-insensitive) whose
 * values are secret. diag may be NULL. err (errlen bytes, may be NULL/0)
 * receives the first error; it is set to "" here. */
void lr_init(struct linereader *lr, const char *file, int flags, const char *const *hidden,
	     const struct conf_diag *diag, char *err, size_t errlen);

/* Parses len bytes of text (which need not be NUL-terminated and may hold
 * NUL bytes) with inih, calling h(user, ...) for every section and key line.
 * Returns 0 if no error was reported (by the reader or by the handler through
 * lr_report), -1 otherwise. The reader's copies of keys and values are wiped
 * before it returns. */
int lr_parse(struct linereader *lr, const char *text, size_t len, lr_handler *h, void *user);

/* Reports one diagnostic about line (0 = the whole file): formats
 * "FILE:LINE: message", counts it, keeps the first error in the caller's err
 * buffer and passes it to the diag sink. Never give it a secret value. */
void lr_report(struct linereader *lr, enum conf_sev sev, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 if key is one of lr's hidden keys (case-insensitive), else 0. */
int lr_is_hidden(const struct linereader *lr, const char *key);

/* Reads the whole regular file path (at most maxsize bytes) into a new buffer
 * (*text, *len; NUL-terminated for convenience) and its fstat into *st.
 * Returns 0; -1 with the reason (without the path) in err when the file is missing,
 * unreadable, a directory, not a regular file or too large; *missing is set
 * to 1 when the reason is that the file does not exist (ENOENT). Free the
 * buffer with lr_free_text. */
int lr_read_file(const char *path, size_t maxsize, char **text, size_t *len, struct stat *st,
		 int *missing, char *err, size_t errlen);

/* Wipes len bytes of text and frees it (NULL is fine). */
void lr_free_text(char *text, size_t len);

/* The last path component of path without a trailing ".conf", copied into
 * buf (size bytes) with every character outside [A-Za-z0-9._@+-] replaced by
 * '_'. Used for default labels. Returns buf. */
char *lr_label_from_path(const char *path, char *buf, size_t size);

#endif
