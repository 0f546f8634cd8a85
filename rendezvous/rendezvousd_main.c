/* rendezvousd: the p2pd rendezvous server. */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/rdvconf.h"
#include "rendezvous/server.h"

#ifndef P2PD_VERSION
#define P2PD_VERSION "unknown"
#endif

struct mainctx {
	struct server *srv;
	const char *path;
	int must_exist;
	int forced_level; /* -1 unless -v or -d */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: rendezvousd [-c FILE] [-n] [-d] [-v] [-h] [--version]\n"
		"  -c FILE    configuration (default %s)\n"
		"  -n         check the configuration and exit (0 if valid, 78 if not)\n"
		"  -d         log at debug level\n"
		"  -v         log at info level at least (whatever log_level says)\n"
		"  -h         this help\n"
		"  --version  print the version\n",
		RDV_CONF_PATH);
}

static int
load(const struct mainctx *m, struct rdv_conf *c)
{
	char err[512];

	if (rdvconf_load(m->path, m->must_exist, c, err, sizeof(err)) == -1) {
		log_at(LOG_LVL_ERROR, NULL, 0, "%s", err);
		rdvconf_free(c);
		return -1;
	}
	return 0;
}

static void
apply_level(const struct mainctx *m, const struct rdv_conf *c)
{
	int level = c->log_level;

	if (m->forced_level > level)
		level = m->forced_level;
	log_set_level(level);
}

static void
sig_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void
sig_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct mainctx *m = w->data;
	struct rdv_conf c;

	(void)loop;
	(void)revents;
	log_info("SIGHUP: reloading %s", m->path ? m->path : RDV_CONF_PATH);
	if (load(m, &c) == -1) {
		log_warnx("configuration not reloaded; the previous one stays in force");
		return;
	}
	apply_level(m, &c);
	server_reload(m->srv, &c);
	rdvconf_free(&c);
}

int
main(int argc, char *argv[])
{
	struct mainctx m = {NULL, NULL, 0, -1};
	struct rdv_conf conf;
	struct ev_loop *loop;
	ev_signal s_int, s_term, s_hup;
	char err[512];
	int check = 0, ch;

	log_init("rendezvousd", LOG_LVL_INFO);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("rendezvousd (p2pd) %s\n", P2PD_VERSION);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	while ((ch = getopt(argc, argv, "c:ndvh")) != -1) {
		switch (ch) {
		case 'c':
			m.path = optarg;
			m.must_exist = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			m.forced_level = LOG_LVL_DEBUG;
			break;
		case 'v':
			if (m.forced_level < LOG_LVL_INFO)
				m.forced_level = LOG_LVL_INFO;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rendezvousd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (m.forced_level >= 0)
		log_set_level(m.forced_level);
	if (keys_init() == -1)
		fatalx(1, "cannot initialise libsodium");
	if (load(&m, &conf) == -1)
		return EXIT_CONFIG;
	if (check) {
		printf("rendezvousd: %s: configuration OK (%zu users, %zu devices)\n",
		       conf.source[0] ? conf.source : "(defaults)", conf.nusers, conf.ndevices);
		rdvconf_free(&conf);
		return EXIT_OK;
	}
	apply_level(&m, &conf);
	signal(SIGPIPE, SIG_IGN);
	if ((loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx(1, "cannot initialise libev");
	if ((m.srv = server_new(loop, &conf, err, sizeof(err))) == NULL) {
		rdvconf_free(&conf);
		fatalx(1, "%s", err);
	}
	ev_signal_init(&s_int, sig_stop, SIGINT);
	ev_signal_init(&s_term, sig_stop, SIGTERM);
	ev_signal_init(&s_hup, sig_hup, SIGHUP);
	s_hup.data = &m;
	ev_signal_start(loop, &s_int);
	ev_signal_start(loop, &s_term);
	ev_signal_start(loop, &s_hup);
	log_info("rendezvousd %s started", P2PD_VERSION);
	ev_run(loop, 0);
	server_log_stats(m.srv, LOG_LVL_INFO);
	server_free(m.srv);
	ev_signal_stop(loop, &s_int);
	ev_signal_stop(loop, &s_term);
	ev_signal_stop(loop, &s_hup);
	ev_loop_destroy(loop);
	log_info("exiting");
	return EXIT_OK;
}
