/* p2pd: the supervisor. See docs/man/p2pd.8. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "supervisor/check.h"
#include "supervisor/sup.h"

#ifndef P2PD_VERSION
#define P2PD_VERSION "0"
#endif

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: p2pd [-dfhn] [-c FILE] [--version]\n"
		"  -c FILE    read FILE instead of %s (then it must exist)\n"
		"  -n         check p2pd.conf and every provisioning file, then exit\n"
		"             (0: configuration OK, 78: errors, each one listed)\n"
		"  -f         stay in the foreground (the default; accepted for scripts)\n"
		"  -d         debug logging (overrides log_level; workers get -v)\n"
		"  -h         this help\n"
		"  --version  print the version\n"
		"p2pd runs in the foreground and logs to stderr; SIGHUP reloads,\n"
		"SIGTERM stops every worker and exits 0. See p2pd(8).\n",
		"/etc/p2pd/p2pd.conf");
}

int
main(int argc, char **argv)
{
	const char *conf = NULL;
	int check = 0, debug = 0, ch;

	log_init("p2pd", LOG_LVL_INFO);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("p2pd %s\n", P2PD_VERSION);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	while ((ch = getopt(argc, argv, "c:dfhn")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'n':
			check = 1;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "p2pd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (sodium_init() == -1) {
		fprintf(stderr, "p2pd: cannot initialise libsodium\n");
		return EXIT_UNKNOWN;
	}
	if (debug)
		log_set_level(LOG_LVL_DEBUG);
	if (check) {
		int rc = check_config(conf, conf != NULL, debug, stdout);
		fflush(stdout);
		return rc;
	}
	return sup_run(conf, conf != NULL, debug);
}
