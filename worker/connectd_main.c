/* connectd: one tunnel endpoint (initiator or target). */
#ifdef P2PD_STATIC_NSS
#include <nss.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/prov.h"
#include "common/util.h"
#include "worker/cli.h"
#include "worker/diag.h"
#include "worker/sandbox.h"
#include "worker/status.h"
#include "worker/worker.h"

#ifndef P2PD_VERSION
#define P2PD_VERSION "0"
#endif

static int
do_hash(const struct cli *c)
{
	uint8_t h[AUTH_HASH_LEN];
	char hex[2 * AUTH_HASH_LEN + 1];

	if (c->hash_user[0] == '\0') {
		fprintf(stderr, "connectd: --hash: the user name is empty\n");
		return EXIT_USAGE;
	}
	if (auth_hash_derive(c->hash_user, c->hash_pass, h) == -1) {
		fprintf(stderr, "connectd: --hash: out of memory deriving the hash\n");
		return EXIT_UNKNOWN;
	}
	hex_encode(h, sizeof(h), hex);
	printf("%s\n", hex);
	wipe(h, sizeof(h));
	return EXIT_OK;
}

/* -y host[:port] is a value like any other: a bad one is exit 78 naming it,
 * not a failed name lookup later. Returns 0, or -1 with err filled. */
static int
check_server_arg(const struct cli *c, char *err, size_t errlen)
{
	char host[256];
	uint16_t port;
	const char *why;

	if (c->server == NULL ||
	    parse_hostport(c->server, host, sizeof(host), &port, 5959, &why) == 0)
		return 0;
	snprintf(err, errlen, "-y '%s': %s (expected host[:port])", c->server, why);
	return -1;
}

#ifdef P2PD_STATIC_NSS
/* A static connectd (the Makefile's STATIC_CONNECTD) must not let glibc load
 * an NSS module: dlopen in a static program crashes it. Name the services
 * glibc has built in instead of those of nsswitch.conf: users and groups from
 * /etc/passwd and /etc/group, host names from /etc/hosts and DNS. */
static void
static_nss(void)
{
	static const char *const db[][2] = {
	    {"passwd", "files"}, {"group", "files"}, {"hosts", "files dns"}, {"services", "files"}};

	for (size_t i = 0; i < sizeof(db) / sizeof(db[0]); i++)
		if (__nss_configure_lookup(db[i][0], db[i][1]) != 0)
			fprintf(stderr, "connectd: cannot set the %s lookup to '%s'\n", db[i][0],
				db[i][1]);
}
#endif

int
main(int argc, char **argv)
{
	struct cli c;
	struct prov p;
	char err[512];
	int rc;

	log_init("connectd", LOG_LVL_INFO);
#ifdef P2PD_STATIC_NSS
	static_nss();
#endif
	if (keys_init() == -1) {
		fprintf(stderr, "connectd: cannot initialise libsodium\n");
		return EXIT_UNKNOWN;
	}
	if (cli_parse(argc, argv, &c, err, sizeof(err)) == -1) {
		fprintf(stderr, "connectd: %s\n", err);
		fprintf(stderr, "usage: see connectd -h\n");
		status_enable(c.status_lines);
		status_exit(EXIT_USAGE, err);
		cli_free(&c);
		return EXIT_USAGE;
	}
	if (c.verbose)
		log_set_level(LOG_LVL_DEBUG);
	status_enable(c.status_lines);
	switch (c.action) {
	case CLI_HELP:
		cli_usage(stdout);
		cli_free(&c);
		return EXIT_OK;
	case CLI_VERSION:
		printf("connectd (p2pd) %s\n", P2PD_VERSION);
		cli_free(&c);
		return EXIT_OK;
	case CLI_HASH:
		rc = do_hash(&c);
		cli_free(&c);
		return rc;
	case CLI_DIAG:
		rc = diag_run(c.server);
		status_exit(rc, rc == 0 ? "network diagnostics passed"
					: "network diagnostics: some checks failed");
		cli_free(&c);
		return rc;
	case CLI_SANDBOX_TEST:
		rc = sandbox_selftest(stdout);
		cli_free(&c);
		return rc;
	default:
		break;
	}
	if (check_server_arg(&c, err, sizeof(err)) == -1) {
		fprintf(stderr, "connectd: %s\n", err);
		status_exit(EXIT_CONFIG, err);
		cli_free(&c);
		return EXIT_CONFIG;
	}
	memset(&p, 0, sizeof(p));
	if (cli_provision(&c, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "connectd: %s\n", err);
		if (p.nerrors > 1)
			fprintf(stderr, "connectd: (%u errors in all; p2pd -n lists every one)\n",
				p.nerrors);
		status_exit(EXIT_CONFIG, "invalid provisioning");
		prov_wipe(&p);
		cli_free(&c);
		return EXIT_CONFIG;
	}
	if (c.action == CLI_CHECK) {
		prov_print(stdout, &p);
		prov_wipe(&p);
		cli_free(&c);
		return EXIT_OK;
	}
	rc = worker_run(&c, &p);
	prov_wipe(&p);
	cli_free(&c);
	return rc;
}
