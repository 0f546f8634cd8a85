/* sup: the supervisor proper (p2pd without -n).
 *
 * One worker (connectd) per UID named in conf_dir, run as DESIGN section 7
 * says: autoconnect 2 restarts with backoff, 1 runs once, 0 waits for
 * "p2pctl start"; exit 78 is permanent until the file changes; SIGHUP or
 * "p2pctl reload" re-reads everything and touches only what changed; SIGTERM
 * and SIGINT stop every worker (TERM, KILL after 5 s) and end p2pd with 0.
 * Everything runs in libev's default loop: children are reaped only by its
 * ev_child watchers, restart delays are ev_timers. */
#ifndef P2PD_SUP_H
#define P2PD_SUP_H

#define SUP_STOP_GRACE 5.0 /* seconds between TERM and KILL for a worker */

/* Runs p2pd: conf_path is p2pd.conf (NULL: the default, which may be
 * missing; must_exist: a missing file is an error, as with -c). debug turns
 * on debug logging (and -v for the workers). Returns the exit code: 0 after
 * SIGTERM/SIGINT, EXIT_CONFIG if p2pd.conf is invalid, 1 if the control
 * socket cannot be served. */
int sup_run(const char *conf_path, int must_exist, int debug);

/* The restart delay, in seconds, before the fails-th consecutive restart:
 * restart_min doubled (fails - 1) times, at most restart_max, minus a jitter
 * of up to a fifth drawn from u in [0, 1), and never below restart_min. The
 * delay before the jitter (the doubled, capped value) is stored in *base. */
double sup_backoff(unsigned restart_min, unsigned restart_max, unsigned fails, double u,
		   unsigned *base);

#endif
