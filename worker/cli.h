/* cli: connectd's command line (DESIGN section 9).
 *
 *   connectd [options] -f FILE | -e BASE64 | -c ... | -p ...
 *   connectd --hash USER PASSWORD | --version | -h
 * -c and -p take positional parameters and must come last. */
#ifndef P2PD_CLI_H
#define P2PD_CLI_H

#include <stddef.h>

#include "common/prov.h"

enum cli_action {
	CLI_RUN,	  /* connect (or serve, for a target) */
	CLI_CHECK,	  /* --check: validate and print the provisioning */
	CLI_HASH,	  /* --hash USER PASSWORD */
	CLI_HELP,	  /* -h */
	CLI_VERSION,	  /* --version */
	CLI_DIAG,	  /* -n: network diagnostics */
	CLI_SANDBOX_TEST, /* --sandbox-test: enter the sandbox, try what it forbids */
};

enum cli_source { CLI_SRC_NONE, CLI_SRC_FILE, CLI_SRC_TEXT, CLI_SRC_C, CLI_SRC_P };

#define CLI_MAX_POS 10

struct cli {
	enum cli_action action;
	enum cli_source source;
	int status_lines;    /* -s */
	int daemonize;	     /* -d */
	const char *pidfile; /* -d PIDFILE */
	const char *server;  /* -y host[:port] */
	int no_sandbox;	     /* --no-sandbox */
	int verbose;	     /* -v: debug logging */
	const char *file;    /* -f */
	char *text;	     /* -e, decoded (heap; freed by cli_free) */
	size_t textlen;
	const char *hash_user;
	char *hash_pass;	/* --hash: a copy (heap; wiped and freed by cli_free) */
	char *pos[CLI_MAX_POS]; /* -c / -p parameters (point into argv) */
	int npos;
};

/* Parse argv. Returns 0, or -1 with a usage error in err (exit 64). */
int cli_parse(int argc, char **argv, struct cli *c, char *err, size_t errlen);

/* Build the provisioning from -f, -e, -c or -p into p. Returns 0, or -1 with the
 * error in err (exit 78). Credentials from the command line are wiped from argv. */
int cli_provision(struct cli *c, struct prov *p, char *err, size_t errlen);

void cli_free(struct cli *c);

/* The usage text (connectd -h). */
void cli_usage(FILE *out);

#endif
