/* sup: the worker table, spawning, restarts, reload and shutdown (see sup.h). */
#include "supervisor/sup.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ctlproto.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/p2pdconf.h"
#include "common/statusmsg.h"
#include "common/util.h"
#include "supervisor/ctl.h"
#include "supervisor/notify.h"
#include "supervisor/scan.h"
#include "supervisor/spawn.h"

#ifndef P2PD_VERSION
#define P2PD_VERSION "0"
#endif

#define LINE_MAX_W	   1024 /* bytes of one worker output line we log */
#define STATUS_BATCH	   64	/* status messages read per wake-up */
#define OUTPUT_BATCH	   16	/* reads of a worker's stdout/stderr per wake-up */
#define SHUTDOWN_DEADLINE  (SUP_STOP_GRACE + 5.0)
#define RESET_AFTER_FACTOR 10 /* a run of 10 x restart_min resets the backoff */

enum want {
	WANT_DOWN = 0, /* stay down (autoconnect 0, p2pctl kill, or a finished run) */
	WANT_ONCE,     /* run once (autoconnect 1) */
	WANT_UP,       /* keep running (autoconnect 2) */
};

enum wst {
	WS_DOWN = 0,
	WS_UP,	     /* a process runs */
	WS_STOPPING, /* TERM sent, waiting for the exit */
	WS_BACKOFF,  /* waiting for the restart timer */
	WS_FAILED,   /* exit 78: not restarted until the file changes */
};

/* What a control client waits for (ctl_wait kinds). */
enum wait_kind {
	WAIT_DOWN = 1, /* kill: the process is gone */
	WAIT_UP,       /* start, restart: a new process runs */
};

struct wk;

struct lineq {
	ev_io io; /* first member */
	struct wk *w;
	int fd;
	int is_err;
	size_t len;
	char buf[LINE_MAX_W];
};

struct wk {
	struct sup *sup;
	struct wk *next;
	p2p_uid uid;
	char uidstr[UID_STRLEN];

	/* The file this worker runs. */
	char path[PATH_MAX];
	char name[PROV_NAME_MAX];
	enum prov_mode mode;
	int autoconnect;
	uint8_t ident[SCAN_HASH_LEN]; /* file bytes + p2pd.conf settings it uses */

	enum want want;
	enum wst st;
	int removed;	      /* the file is gone: free the worker once it is down */
	int start_after_stop; /* start again as soon as the process is gone */

	pid_t pid;
	uint64_t started_ms;
	uint64_t spawns; /* processes started so far */
	ev_child child;
	ev_timer restart_t; /* backoff */
	ev_timer kill_t;    /* TERM -> KILL */
	int sfd;
	ev_io sio;
	struct lineq out, err;

	unsigned restarts; /* automatic restarts */
	unsigned fails;	   /* consecutive short runs (backoff) */
	unsigned backoff_s;
	uint64_t next_start_ms;
	int last_exit; /* -1: none */
	char last_error[CTL_MAX_TEXT];

	/* What the worker reported on its status channel. */
	char detail[SM_MAX_STATE + 1];
	char local[CTL_MAX_TEXT];
	char pathkind[8];
	char peer[CTL_MAX_TEXT];
	int64_t rtt_ms;
	uint64_t bytes_in, bytes_out;
	int exit_said; /* this run sent an exit message with an error */
};

struct sup {
	struct ev_loop *loop;
	const char *conf_path;
	int must_exist;
	int debug;
	struct p2pd_conf conf;
	struct wk *workers;
	struct ctl_invalid *inv;
	size_t ninv;
	struct ctl *ctl;
	ev_signal sighup, sigterm, sigint;
	ev_timer deadline_t;
	int stopping;
};

struct reload_stats {
	unsigned started, stopped, restarted, unchanged, invalid;
};

static void wk_start(struct wk *w);
static void wk_notify(struct wk *w);

static const char *
want_name(enum want w)
{
	return w == WANT_UP ? "up" : w == WANT_ONCE ? "once" : "down";
}

static const char *
state_name(enum wst s)
{
	static const char *const names[] = {"down", "up", "stopping", "backoff", "failed"};
	return names[s];
}

static enum want
policy_want(int autoconnect)
{
	return autoconnect == 2 ? WANT_UP : autoconnect == 1 ? WANT_ONCE : WANT_DOWN;
}

double
sup_backoff(unsigned restart_min, unsigned restart_max, unsigned fails, double u, unsigned *base)
{
	unsigned b = restart_min;
	double d;

	for (unsigned i = 1; i < fails && b < restart_max; i++)
		b = b > restart_max / 2 ? restart_max : b * 2;
	if (b > restart_max)
		b = restart_max;
	if (u < 0.0 || u >= 1.0)
		u = 0.0;
	d = (double)b - u * (double)b / 5.0;
	if (d < (double)restart_min)
		d = (double)restart_min;
	*base = b;
	return d;
}

/* ---- output lines and the status channel ---- */

/* Logs one line the worker wrote, control characters made harmless. */
static void
emit_line(struct wk *w, char *line, int is_err)
{
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	if (is_err && strstr(line, w->uidstr) != NULL)
		fprintf(stderr, "%s\n", line); /* connectd tags its own lines with the UID */
	else
		log_at(LOG_LVL_INFO, NULL, 0, "worker %s: %s", w->uidstr, line);
}

static void
lineq_flush(struct lineq *q, int all)
{
	char *start = q->buf, *nl;

	while ((nl = memchr(start, '\n', q->len - (size_t)(start - q->buf))) != NULL) {
		*nl = '\0';
		emit_line(q->w, start, q->is_err);
		start = nl + 1;
	}
	q->len -= (size_t)(start - q->buf);
	memmove(q->buf, start, q->len);
	if (q->len > 0 && (all || q->len == sizeof(q->buf) - 1)) {
		q->buf[q->len] = '\0';
		emit_line(q->w, q->buf, q->is_err);
		q->len = 0;
	}
}

static void
lineq_close(struct sup *s, struct lineq *q)
{
	if (q->fd < 0)
		return;
	ev_io_stop(s->loop, &q->io);
	lineq_flush(q, 1);
	close(q->fd);
	q->fd = -1;
}

/* Reads what is there, OUTPUT_BATCH reads at most (a worker that writes
 * without pause must not hold p2pd away from the others and the control
 * socket; the rest is read on the next turn). Returns 0 at end of file or
 * error, 1 otherwise. */
static int
lineq_read(struct lineq *q)
{
	for (int i = 0; i < OUTPUT_BATCH; i++) {
		ssize_t n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n > 0) {
			q->len += (size_t)n;
			lineq_flush(q, 0);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 1;
		return 0;
	}
	return 1;
}

static void
lineq_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct lineq *q = (struct lineq *)io;

	(void)loop;
	(void)revents;
	if (lineq_read(q) == 0)
		lineq_close(q->w->sup, q);
}

static void
lineq_open(struct wk *w, struct lineq *q, int fd, int is_err)
{
	q->w = w;
	q->fd = fd;
	q->is_err = is_err;
	q->len = 0;
	ev_io_init(&q->io, lineq_cb, fd, EV_READ);
	ev_io_start(w->sup->loop, &q->io);
}

static void
status_close(struct wk *w)
{
	if (w->sfd < 0)
		return;
	ev_io_stop(w->sup->loop, &w->sio);
	close(w->sfd);
	w->sfd = -1;
}

static void
apply_status(struct wk *w, const struct sm_msg *m)
{
	switch (m->type) {
	case SM_STATE:
		str_lcpy(w->detail, m->text, sizeof(w->detail));
		break;
	case SM_CONNECTED:
		str_lcpy(w->detail, "connected", sizeof(w->detail));
		break;
	case SM_PATH:
		str_lcpy(w->pathkind, sm_path_name(m->path), sizeof(w->pathkind));
		str_lcpy(w->peer, m->text, sizeof(w->peer));
		break;
	case SM_THROUGHPUT:
		break;
	case SM_EXIT:
		if (m->code != 0 && m->code != EXIT_SIGNAL) {
			snprintf(w->last_error, sizeof(w->last_error), "exit %u: %.240s", m->code,
				 m->text);
			w->exit_said = 1;
		}
		break;
	case SM_STATS:
		w->rtt_ms = m->ms == SM_RTT_UNKNOWN ? CTL_NONE : (int64_t)m->ms;
		w->bytes_in = m->a;
		w->bytes_out = m->b;
		break;
	case SM_LOCAL:
		str_lcpy(w->local, m->text, sizeof(w->local));
		break;
	}
	log_debug("worker %s: status %s", w->uidstr, sm_type_name(m->type));
}

/* Reads the status channel; a broken message ends the worker (its restart
 * follows the policy), as a broken child protocol should. */
static void
status_read(struct wk *w)
{
	uint8_t buf[SM_MAX_MSG + 1];
	char err[128];
	struct sm_msg m;

	for (int i = 0; i < STATUS_BATCH && w->sfd >= 0; i++) {
		ssize_t n = recv(w->sfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			status_close(w);
			return;
		}
		if (sm_decode(buf, (size_t)n, &m, err, sizeof(err)) == -1) {
			log_warnx("worker %s (pid %ld) sent a bad status message: %s; stopping it",
				  w->uidstr, (long)w->pid, err);
			snprintf(w->last_error, sizeof(w->last_error), "bad status message: %s",
				 err);
			status_close(w);
			if (w->pid > 0 && w->st == WS_UP) {
				kill(w->pid, SIGTERM);
				w->st = WS_STOPPING; /* keeps the reason as its last error */
				ev_timer_set(&w->kill_t, SUP_STOP_GRACE, 0.0);
				ev_timer_start(w->sup->loop, &w->kill_t);
			}
			return;
		}
		apply_status(w, &m);
	}
}

static void
status_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	status_read(io->data);
}

/* ---- the worker's life ---- */

static void
reset_reported(struct wk *w)
{
	w->detail[0] = w->local[0] = w->pathkind[0] = w->peer[0] = '\0';
	w->rtt_ms = CTL_NONE;
	w->bytes_in = w->bytes_out = 0;
	w->exit_said = 0;
}

static void child_cb(struct ev_loop *loop, ev_child *c, int revents);

/* Starts the process now. Returns 0, or -1 (logged, in last_error). */
static int
wk_spawn(struct wk *w)
{
	struct sup *s = w->sup;
	struct spawn_req r;
	struct spawn_res res;
	char err[CTL_MAX_TEXT];

	memset(&r, 0, sizeof(r));
	r.binary = s->conf.worker_binary;
	r.file = w->path;
	r.server = s->conf.server;
	r.worker_user = s->conf.worker_user;
	r.verbose = log_get_level() >= LOG_LVL_DEBUG;
	if (spawn_worker(&r, &res, err, sizeof(err)) == -1) {
		log_warnx("worker %s: %s", w->uidstr, err);
		str_lcpy(w->last_error, err, sizeof(w->last_error));
		return -1;
	}
	w->pid = res.pid;
	w->st = WS_UP;
	w->started_ms = now_ms();
	w->spawns++;
	reset_reported(w);
	ev_child_set(&w->child, res.pid, 0);
	ev_child_start(s->loop, &w->child);
	w->sfd = res.status_fd;
	ev_io_set(&w->sio, res.status_fd, EV_READ);
	ev_io_start(s->loop, &w->sio);
	lineq_open(w, &w->out, res.out_fd, 0);
	lineq_open(w, &w->err, res.err_fd, 1);
	log_info("worker %s: started %s (pid %ld)", w->uidstr, w->path, (long)res.pid);
	return 0;
}

static void
schedule_restart(struct wk *w, uint64_t ran_ms)
{
	const struct p2pd_conf *c = &w->sup->conf;
	double d;

	if (ran_ms >= (uint64_t)c->restart_min * RESET_AFTER_FACTOR * 1000u)
		w->fails = 0;
	w->fails++;
	d = sup_backoff(c->restart_min, c->restart_max, w->fails,
			(double)randombytes_uniform(1000000) / 1e6, &w->backoff_s);
	w->next_start_ms = now_ms() + (uint64_t)(d * 1000.0);
	w->st = WS_BACKOFF;
	ev_timer_stop(w->sup->loop, &w->restart_t);
	ev_timer_set(&w->restart_t, d, 0.0);
	ev_timer_start(w->sup->loop, &w->restart_t);
	log_info("worker %s: restarting in %.1f s (backoff %u s, %u restart%s so far)", w->uidstr,
		 d, w->backoff_s, w->restarts, w->restarts == 1 ? "" : "s");
}

/* Starts the worker now; if that fails, backs off (want up) or stays down. */
static void
wk_start(struct wk *w)
{
	ev_timer_stop(w->sup->loop, &w->restart_t);
	if (wk_spawn(w) == 0)
		return;
	w->st = WS_DOWN;
	if (w->want == WANT_UP)
		schedule_restart(w, 0);
}

static void
restart_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct wk *w = t->data;

	(void)loop;
	(void)revents;
	if (w->st != WS_BACKOFF)
		return;
	w->restarts++;
	wk_start(w);
	wk_notify(w);
}

static void
kill_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct wk *w = t->data;

	(void)loop;
	(void)revents;
	if (w->pid <= 0)
		return;
	log_warnx("worker %s (pid %ld) did not stop within %.0f s; sending SIGKILL", w->uidstr,
		  (long)w->pid, SUP_STOP_GRACE);
	kill(w->pid, SIGKILL);
}

/* Asks the worker to stop: TERM now, KILL after SUP_STOP_GRACE. A pending
 * restart is cancelled. */
static void
wk_stop(struct wk *w)
{
	struct ev_loop *loop = w->sup->loop;

	ev_timer_stop(loop, &w->restart_t);
	switch (w->st) {
	case WS_UP:
		log_info("worker %s: stopping pid %ld", w->uidstr, (long)w->pid);
		kill(w->pid, SIGTERM);
		w->st = WS_STOPPING;
		ev_timer_set(&w->kill_t, SUP_STOP_GRACE, 0.0);
		ev_timer_start(loop, &w->kill_t);
		break;
	case WS_BACKOFF:
	case WS_FAILED:
		w->st = WS_DOWN;
		break;
	default:
		break;
	}
}

static void
waiter_removed(void *arg, struct ctl_client *c, int kind, uint64_t warg)
{
	struct wk *w = arg;

	(void)warg;
	if (kind == WAIT_DOWN)
		ctl_reply_ok(c, "%s: down (its file was removed by a reload)", w->uidstr);
	else
		ctl_reply_error(c, CTL_E_FAILED, "%s: its file was removed by a reload", w->uidstr);
}

static void
wk_free(struct wk *w)
{
	struct sup *s = w->sup;
	struct wk **pp;

	if (s->ctl != NULL)
		ctl_each_waiting(s->ctl, w, waiter_removed, w);
	ev_timer_stop(s->loop, &w->restart_t);
	ev_timer_stop(s->loop, &w->kill_t);
	ev_child_stop(s->loop, &w->child);
	status_close(w);
	lineq_close(s, &w->out);
	lineq_close(s, &w->err);
	for (pp = &s->workers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	free(w);
}

static int
all_down(const struct sup *s)
{
	for (const struct wk *w = s->workers; w != NULL; w = w->next)
		if (w->pid > 0)
			return 0;
	return 1;
}

/* What happens once the process is gone. */
static void
after_exit(struct wk *w, int code, uint64_t ran_ms)
{
	struct sup *s = w->sup;

	if (s->stopping) {
		if (all_down(s))
			ev_break(s->loop, EVBREAK_ALL);
		return;
	}
	if (w->removed) {
		log_info("worker %s: removed (%s is gone)", w->uidstr, w->path);
		wk_free(w);
		return;
	}
	if (w->start_after_stop) {
		w->start_after_stop = 0;
		if (w->want == WANT_DOWN)
			w->want = policy_want(w->autoconnect) == WANT_UP ? WANT_UP : WANT_ONCE;
		wk_start(w);
	} else if (w->want == WANT_DOWN) {
		w->st = WS_DOWN;
	} else if (code == EXIT_CONFIG) {
		w->st = WS_FAILED;
		log_warnx("worker %s: exit %d (invalid provisioning): not restarted until %s "
			  "changes (then p2pctl reload) or p2pctl start",
			  w->uidstr, code, w->path);
	} else if (w->want == WANT_UP) {
		schedule_restart(w, ran_ms);
	} else {
		w->want = WANT_DOWN; /* autoconnect 1: it ran once */
		w->st = WS_DOWN;
	}
	wk_notify(w);
}

static void
child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	struct wk *w = c->data;
	int st = c->rstatus, code, asked = w->st == WS_STOPPING;
	uint64_t ran = now_ms() - w->started_ms;
	long pid = (long)w->pid;

	(void)revents;
	ev_child_stop(loop, c);
	ev_timer_stop(loop, &w->kill_t);
	w->pid = 0;	/* reaped: never signal this pid again */
	status_read(w); /* what the worker said last comes before its exit */
	status_close(w);
	lineq_close(w->sup, &w->out);
	lineq_close(w->sup, &w->err);
	if (WIFSIGNALED(st)) {
		code = 128 + WTERMSIG(st);
		if (!asked)
			snprintf(w->last_error, sizeof(w->last_error), "killed by signal %d",
				 WTERMSIG(st));
		log_at(asked ? LOG_LVL_INFO : LOG_LVL_WARN, NULL, 0,
		       "worker %s (pid %ld) killed by signal %d after %.1f s", w->uidstr, pid,
		       WTERMSIG(st), (double)ran / 1000.0);
	} else {
		code = WEXITSTATUS(st);
		if (code != 0 && !asked && !w->exit_said)
			snprintf(w->last_error, sizeof(w->last_error), "exit %d", code);
		log_at(code == 0 || asked ? LOG_LVL_INFO : LOG_LVL_WARN, NULL, 0,
		       "worker %s (pid %ld) exited with %d after %.1f s", w->uidstr, pid, code,
		       (double)ran / 1000.0);
	}
	w->last_exit = code;
	w->st = WS_DOWN;
	after_exit(w, code, ran);
}

static struct wk *
wk_new(struct sup *s, const struct scan_entry *e, const uint8_t ident[SCAN_HASH_LEN])
{
	struct wk *w = calloc(1, sizeof(*w));
	struct wk **pp;

	if (w == NULL)
		fatalx(EXIT_UNKNOWN, "out of memory");
	w->sup = s;
	w->uid = e->uid;
	uid_format(&w->uid, w->uidstr);
	str_lcpy(w->path, e->path, sizeof(w->path));
	str_lcpy(w->name, e->name, sizeof(w->name));
	w->mode = e->mode;
	w->autoconnect = e->autoconnect;
	memcpy(w->ident, ident, SCAN_HASH_LEN);
	w->want = policy_want(e->autoconnect);
	w->sfd = w->out.fd = w->err.fd = -1;
	w->last_exit = -1;
	w->rtt_ms = CTL_NONE;
	ev_child_init(&w->child, child_cb, 0, 0);
	w->child.data = w;
	ev_timer_init(&w->restart_t, restart_cb, 0.0, 0.0);
	w->restart_t.data = w;
	ev_timer_init(&w->kill_t, kill_cb, SUP_STOP_GRACE, 0.0);
	w->kill_t.data = w;
	ev_io_init(&w->sio, status_cb, -1, EV_READ);
	w->sio.data = w;
	for (pp = &s->workers; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	return w;
}

static struct wk *
find_uid(struct sup *s, const p2p_uid *uid)
{
	for (struct wk *w = s->workers; w != NULL; w = w->next)
		if (uid_equal(&w->uid, uid))
			return w;
	return NULL;
}

/* ---- control requests ---- */

static void
waiter_check(void *arg, struct ctl_client *c, int kind, uint64_t warg)
{
	struct wk *w = arg;

	if (kind == WAIT_DOWN) {
		if (w->st != WS_UP && w->st != WS_STOPPING)
			ctl_reply_ok(c, "%s: down", w->uidstr);
		return;
	}
	if (w->st == WS_UP && w->spawns > warg) {
		ctl_reply_ok(c, "%s: up, pid %ld", w->uidstr, (long)w->pid);
		return;
	}
	if (w->st != WS_STOPPING && !w->start_after_stop)
		ctl_reply_error(c, CTL_E_FAILED, "%s: did not start: %s", w->uidstr,
				w->last_error[0] ? w->last_error : "unknown reason");
}

static void
wk_notify(struct wk *w)
{
	if (w->sup->ctl != NULL)
		ctl_each_waiting(w->sup->ctl, w, waiter_check, w);
}

static void
do_kill(struct wk *w, struct ctl_client *c)
{
	char msg[CTL_MAX_MSG];

	w->want = WANT_DOWN;
	w->start_after_stop = 0;
	switch (w->st) {
	case WS_UP:
		wk_stop(w);
		/* fall through */
	case WS_STOPPING:
		snprintf(msg, sizeof(msg), "kill %s: the worker did not exit within %.0f s",
			 w->uidstr, CTL_WAIT_TIMEOUT);
		ctl_wait(c, w, WAIT_DOWN, 0, CTL_WAIT_TIMEOUT, msg);
		break;
	case WS_BACKOFF:
	case WS_FAILED:
		wk_stop(w);
		ctl_reply_ok(c, "%s: down (the pending restart is cancelled)", w->uidstr);
		break;
	case WS_DOWN:
		ctl_reply_ok(c, "%s: already down", w->uidstr);
		break;
	}
	log_info("worker %s: kept down by p2pctl kill", w->uidstr);
}

static void
do_start(struct wk *w, struct ctl_client *c, int restart)
{
	char msg[CTL_MAX_MSG];

	if (w->want == WANT_DOWN || restart == 0)
		w->want = policy_want(w->autoconnect) == WANT_UP ? WANT_UP : WANT_ONCE;
	if (w->st == WS_UP && !restart) {
		ctl_reply_ok(c, "%s: already up, pid %ld", w->uidstr, (long)w->pid);
		return;
	}
	if (w->st == WS_UP || w->st == WS_STOPPING) {
		uint64_t spawns = w->spawns;
		w->start_after_stop = 1;
		wk_stop(w);
		snprintf(msg, sizeof(msg), "%s %s: the worker was not up again within %.0f s",
			 restart ? "restart" : "start", w->uidstr, CTL_WAIT_TIMEOUT);
		ctl_wait(c, w, WAIT_UP, spawns, CTL_WAIT_TIMEOUT, msg);
		return;
	}
	w->fails = 0;
	wk_start(w);
	if (w->st == WS_UP)
		ctl_reply_ok(c, "%s: up, pid %ld", w->uidstr, (long)w->pid);
	else
		ctl_reply_error(c, CTL_E_FAILED, "%s: cannot start: %s", w->uidstr, w->last_error);
}

static int
cmp_wk(const void *a, const void *b)
{
	const struct wk *x = *(const struct wk *const *)a, *y = *(const struct wk *const *)b;
	int r = strcmp(x->path, y->path);

	return r != 0 ? r : memcmp(x->uid.b, y->uid.b, UID_LEN);
}

static void
fill_record(const struct wk *w, struct ctl_worker *r, uint64_t now)
{
	ctl_worker_init(r);
	str_lcpy(r->uid, w->uidstr, sizeof(r->uid));
	str_lcpy(r->name, w->name, sizeof(r->name));
	str_lcpy(r->file, w->path, sizeof(r->file));
	str_lcpy(r->mode, prov_mode_name(w->mode), sizeof(r->mode));
	str_lcpy(r->want, want_name(w->want), sizeof(r->want));
	str_lcpy(r->state, state_name(w->st), sizeof(r->state));
	r->autoconnect = w->autoconnect;
	r->restarts = w->restarts;
	if (w->fails > 0)
		r->backoff_s = w->backoff_s;
	if (w->st == WS_BACKOFF)
		r->next_start_ms = w->next_start_ms > now ? (int64_t)(w->next_start_ms - now) : 0;
	if (w->last_exit >= 0)
		r->last_exit = w->last_exit;
	str_lcpy(r->last_error, w->last_error, sizeof(r->last_error));
	if (w->pid <= 0)
		return;
	r->pid = w->pid;
	r->uptime_s = (int64_t)((now - w->started_ms) / 1000);
	str_lcpy(r->detail, w->detail, sizeof(r->detail));
	str_lcpy(r->local, w->local, sizeof(r->local));
	str_lcpy(r->path, w->pathkind, sizeof(r->path));
	str_lcpy(r->peer, w->peer, sizeof(r->peer));
	r->rtt_ms = w->rtt_ms;
	r->bytes_in = (int64_t)(w->bytes_in & INT64_MAX);
	r->bytes_out = (int64_t)(w->bytes_out & INT64_MAX);
}

static void
reply_worker(struct ctl_client *c, const struct wk *w, uint64_t now)
{
	static char line[CTL_MAX_LINE + 1];
	struct ctl_worker r;
	int n;

	fill_record(w, &r, now);
	if ((n = ctl_format_worker(line, sizeof(line), &r)) > 0)
		ctl_reply_line(c, line, (size_t)n);
}

static void
do_status(struct sup *s, struct ctl_client *c, const struct ctl_request *r)
{
	static char line[CTL_MAX_LINE + 1];
	uint64_t now = now_ms();
	struct wk **v, *w;
	size_t n = 0;
	int len;

	if (r->has_uid) {
		char u[UID_STRLEN];
		if ((w = find_uid(s, &r->uid)) == NULL) {
			ctl_reply_error(c, CTL_E_UNKNOWN_UID, "no worker for UID %s",
					uid_format(&r->uid, u));
			return;
		}
		ctl_reply_line(c, "ok\n", 3);
		reply_worker(c, w, now);
		ctl_reply_done(c);
		return;
	}
	for (w = s->workers; w != NULL; w = w->next)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		ctl_reply_error(c, CTL_E_FAILED, "out of memory");
		return;
	}
	n = 0;
	for (w = s->workers; w != NULL; w = w->next)
		v[n++] = w;
	qsort(v, n, sizeof(*v), cmp_wk);
	ctl_reply_line(c, "ok\n", 3);
	for (size_t i = 0; i < n; i++)
		reply_worker(c, v[i], now);
	free(v);
	for (size_t i = 0; i < s->ninv; i++)
		if ((len = ctl_format_invalid(line, sizeof(line), &s->inv[i])) > 0)
			ctl_reply_line(c, line, (size_t)len);
	ctl_reply_done(c);
}

static void do_reload(struct sup *s, struct reload_stats *rs);

static void
handle_request(void *arg, struct ctl_client *c, const struct ctl_request *r)
{
	struct sup *s = arg;
	struct reload_stats rs;
	struct wk *w = NULL;
	char u[UID_STRLEN];

	if (s->stopping) {
		ctl_reply_error(c, CTL_E_SHUTDOWN, "p2pd is shutting down");
		return;
	}
	if (r->verb == CTL_STATUS) {
		do_status(s, c, r);
		return;
	}
	if (r->verb == CTL_RELOAD) {
		log_info("p2pctl reload: reloading");
		do_reload(s, &rs);
		ctl_reply_ok(c,
			     "reloaded: %u started, %u stopped, %u restarted, %u unchanged, %u "
			     "invalid file%s",
			     rs.started, rs.stopped, rs.restarted, rs.unchanged, rs.invalid,
			     rs.invalid == 1 ? "" : "s");
		return;
	}
	if ((w = find_uid(s, &r->uid)) == NULL || w->removed) {
		ctl_reply_error(c, CTL_E_UNKNOWN_UID,
				"no worker for UID %s (p2pctl status lists them)",
				uid_format(&r->uid, u));
		return;
	}
	log_info("worker %s: p2pctl %s", w->uidstr, ctl_verb_name((int)r->verb));
	if (r->verb == CTL_KILL)
		do_kill(w, c);
	else
		do_start(w, c, r->verb == CTL_RESTART);
}

/* ---- configuration: start-up and reload ---- */

static void
log_diag(void *arg, enum conf_sev sev, const char *file, int line, const char *msg)
{
	(void)arg;
	(void)file;
	(void)line;
	log_at(sev == CONF_ERROR     ? LOG_LVL_ERROR
	       : sev == CONF_WARNING ? LOG_LVL_WARN
				     : LOG_LVL_DEBUG,
	       NULL, 0, "%s", msg);
}

/* The identity of what a worker runs: its file's bytes and the p2pd.conf
 * settings handed to it. A change means a restart on reload. */
static void
make_ident(const struct sup *s, const struct scan_entry *e, uint8_t out[SCAN_HASH_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SCAN_HASH_LEN);
	crypto_generichash_update(&st, e->hash, sizeof(e->hash));
	crypto_generichash_update(&st, (const unsigned char *)s->conf.server,
				  strlen(s->conf.server) + 1);
	crypto_generichash_update(&st, (const unsigned char *)s->conf.worker_binary,
				  strlen(s->conf.worker_binary) + 1);
	crypto_generichash_update(&st, (const unsigned char *)s->conf.worker_user,
				  strlen(s->conf.worker_user) + 1);
	crypto_generichash_final(&st, out, SCAN_HASH_LEN);
}

static const char *
current_owner(void *arg, const p2p_uid *uid)
{
	struct wk *w = find_uid(arg, uid);

	return w != NULL && !w->removed ? w->path : NULL;
}

/* Re-reads p2pd.conf; keeps the old settings if the file is now invalid. */
static void
reload_conf(struct sup *s)
{
	struct conf_diag d = {log_diag, NULL};
	struct p2pd_conf c;
	char err[LR_MAX_MSG];

	if (p2pdconf_load_diag(s->conf_path, s->must_exist, &d, &c, err, sizeof(err)) == -1) {
		log_error("%s is invalid (%u error%s); keeping the settings in use", err, c.nerrors,
			  c.nerrors == 1 ? "" : "s");
		return;
	}
	if (strcmp(c.control_socket, s->conf.control_socket) != 0 ||
	    strcmp(c.control_group, s->conf.control_group) != 0)
		log_warnx("control_socket and control_group changes take effect when p2pd "
			  "restarts");
	str_lcpy(c.control_socket, s->conf.control_socket, sizeof(c.control_socket));
	str_lcpy(c.control_group, s->conf.control_group, sizeof(c.control_group));
	if (!s->debug)
		log_set_level(c.log_level);
	s->conf = c;
}

/* Applies one valid entry to the table. */
static void
apply_entry(struct sup *s, const struct scan_entry *e, struct reload_stats *rs)
{
	uint8_t ident[SCAN_HASH_LEN];
	struct wk *w = find_uid(s, &e->uid);
	int was_active;

	make_ident(s, e, ident);
	if (w == NULL) {
		w = wk_new(s, e, ident);
		log_info("worker %s: new, %s %s, autoconnect %d", w->uidstr,
			 prov_mode_name(e->mode), e->path, e->autoconnect);
		rs->started += w->want != WANT_DOWN;
		if (w->want != WANT_DOWN)
			wk_start(w);
		return;
	}
	if (!w->removed && strcmp(w->path, e->path) == 0 &&
	    sodium_memcmp(w->ident, ident, SCAN_HASH_LEN) == 0) {
		rs->unchanged++;
		return;
	}
	/* Changed (or its UID moved to another file): run the new version. */
	log_info("worker %s: %s changed; %s", w->uidstr, e->path,
		 w->pid > 0 ? "restarting it" : "applying it");
	was_active = w->pid > 0 || w->st == WS_BACKOFF;
	str_lcpy(w->path, e->path, sizeof(w->path));
	str_lcpy(w->name, e->name, sizeof(w->name));
	w->mode = e->mode;
	w->autoconnect = e->autoconnect;
	memcpy(w->ident, ident, SCAN_HASH_LEN);
	w->removed = 0;
	w->want = policy_want(e->autoconnect);
	w->restarts = w->fails = w->backoff_s = 0;
	w->last_error[0] = '\0';
	w->last_exit = -1;
	if (w->pid > 0) {
		w->start_after_stop = w->want != WANT_DOWN;
		wk_stop(w);
	} else {
		ev_timer_stop(s->loop, &w->restart_t);
		w->st = WS_DOWN;
		if (w->want != WANT_DOWN)
			wk_start(w);
	}
	if (was_active || w->want != WANT_DOWN)
		rs->restarted++;
	else
		rs->unchanged++;
}

/* 1 if an invalid file of the scan is the one w runs (keep w as it is). */
static int
runs_invalid_file(const struct scan *sc, const struct wk *w)
{
	for (size_t i = 0; i < sc->n; i++)
		if (!sc->e[i].valid && strcmp(sc->e[i].path, w->path) == 0 &&
		    (!sc->e[i].dup || uid_equal(&sc->e[i].uid, &w->uid)))
			return !sc->e[i].dup;
	return 0;
}

/* Stops the workers whose file is gone (or no longer names their UID). */
static void
remove_stale(struct sup *s, const struct scan *sc, struct reload_stats *rs)
{
	struct wk *w = s->workers, *next;

	for (; w != NULL; w = next) {
		int keep = 0;
		next = w->next;
		if (w->removed)
			continue;
		for (size_t i = 0; i < sc->n && !keep; i++)
			keep = sc->e[i].valid && uid_equal(&sc->e[i].uid, &w->uid);
		if (keep)
			continue;
		if (runs_invalid_file(sc, w)) {
			log_warnx("worker %s: %s is now invalid; the running worker keeps the "
				  "previous version (fix the file and reload)",
				  w->uidstr, w->path);
			continue;
		}
		rs->stopped++;
		log_info("worker %s: %s no longer provides it; removing the worker", w->uidstr,
			 w->path);
		w->removed = 1;
		w->want = WANT_DOWN;
		w->start_after_stop = 0;
		if (w->pid > 0)
			wk_stop(w);
		else
			wk_free(w);
	}
}

static void
keep_invalid(struct sup *s, const struct scan *sc)
{
	free(s->inv);
	s->inv = NULL;
	s->ninv = 0;
	if (sc->ninv == 0)
		return;
	if ((s->inv = calloc(sc->ninv, sizeof(*s->inv))) == NULL)
		return;
	memcpy(s->inv, sc->inv, sc->ninv * sizeof(*s->inv));
	s->ninv = sc->ninv;
}

static void
ready_status(struct sup *s, const char *what)
{
	char msg[256];
	unsigned up = 0, n = 0;

	for (struct wk *w = s->workers; w != NULL; w = w->next) {
		n++;
		up += w->st == WS_UP;
	}
	snprintf(msg, sizeof(msg),
		 "READY=1\nSTATUS=%s: %u of %u workers up, %zu error%s in "
		 "provisioning files",
		 what, up, n, s->ninv, s->ninv == 1 ? "" : "s");
	notify_send(msg);
}

/* Reads everything again and applies the differences (also the start-up). */
static void
reload(struct sup *s, struct reload_stats *rs, int reread_conf)
{
	struct conf_diag d = {log_diag, NULL};
	struct scan sc;

	memset(rs, 0, sizeof(*rs));
	if (reread_conf)
		reload_conf(s);
	if (scan_dir(s->conf.conf_dir, &d, current_owner, s, &sc) == -1) {
		log_error("keeping the %s workers as they are",
			  s->workers != NULL ? "running" : "(no)");
		keep_invalid(s, &sc);
		rs->invalid = 1;
		scan_free(&sc);
		return;
	}
	remove_stale(s, &sc, rs);
	for (size_t i = 0; i < sc.n; i++) {
		if (sc.e[i].valid)
			apply_entry(s, &sc.e[i], rs);
		else
			rs->invalid++;
	}
	keep_invalid(s, &sc);
	if (sc.inv_dropped > 0)
		log_warnx("%zu more errors in provisioning files not kept for p2pctl status",
			  sc.inv_dropped);
	log_info("configuration: %u started, %u stopped, %u restarted, %u unchanged, %u "
		 "invalid file%s",
		 rs->started, rs->stopped, rs->restarted, rs->unchanged, rs->invalid,
		 rs->invalid == 1 ? "" : "s");
	scan_free(&sc);
}

/* A reload asked for by SIGHUP or p2pctl, told to the service manager. */
static void
do_reload(struct sup *s, struct reload_stats *rs)
{
	notify_reloading();
	reload(s, rs, 1);
	ready_status(s, "reloaded");
}

/* ---- signals and the main loop ---- */

static void
sighup_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
	struct sup *s = sig->data;
	struct reload_stats rs;

	(void)loop;
	(void)revents;
	if (s->stopping)
		return;
	log_info("SIGHUP: reloading");
	do_reload(s, &rs);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	log_error("workers still running %.0f s after SIGKILL; exiting anyway",
		  SHUTDOWN_DEADLINE - SUP_STOP_GRACE);
	ev_break(loop, EVBREAK_ALL);
}

static void
shutdown_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
	struct sup *s = sig->data;

	(void)revents;
	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("%s: stopping every worker", sig->signum == SIGINT ? "SIGINT" : "SIGTERM");
	notify_send("STOPPING=1");
	ctl_close(s->ctl);
	s->ctl = NULL;
	for (struct wk *w = s->workers; w != NULL; w = w->next) {
		w->start_after_stop = 0;
		wk_stop(w);
	}
	if (all_down(s)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&s->deadline_t, deadline_cb, SHUTDOWN_DEADLINE, 0.0);
	ev_timer_start(loop, &s->deadline_t);
}

static void
sup_free(struct sup *s)
{
	while (s->workers != NULL)
		wk_free(s->workers);
	ctl_close(s->ctl);
	s->ctl = NULL;
	free(s->inv);
	s->inv = NULL;
}

int
sup_run(const char *conf_path, int must_exist, int debug)
{
	struct conf_diag d = {log_diag, NULL};
	struct reload_stats rs;
	char err[LR_MAX_MSG];
	struct sup s;

	memset(&s, 0, sizeof(s));
	s.conf_path = conf_path;
	s.must_exist = must_exist;
	s.debug = debug;
	if (p2pdconf_load_diag(conf_path, must_exist, &d, &s.conf, err, sizeof(err)) == -1) {
		log_error("%s has %u error%s; not starting (p2pd -n lists them)",
			  conf_path != NULL ? conf_path : "p2pd.conf", s.conf.nerrors,
			  s.conf.nerrors == 1 ? "" : "s");
		return EXIT_CONFIG;
	}
	if (!debug)
		log_set_level(s.conf.log_level);
	signal(SIGPIPE, SIG_IGN);
	if ((s.loop = ev_default_loop(EVFLAG_AUTO)) == NULL) {
		log_error("cannot initialise the event loop (libev)");
		return 1;
	}
	s.ctl = ctl_open(s.loop, s.conf.control_socket, s.conf.control_group, handle_request, &s,
			 err, sizeof(err));
	if (s.ctl == NULL) {
		log_error("control socket: %s", err);
		return 1;
	}
	ev_signal_init(&s.sighup, sighup_cb, SIGHUP);
	ev_signal_init(&s.sigterm, shutdown_cb, SIGTERM);
	ev_signal_init(&s.sigint, shutdown_cb, SIGINT);
	s.sighup.data = s.sigterm.data = s.sigint.data = &s;
	ev_signal_start(s.loop, &s.sighup);
	ev_signal_start(s.loop, &s.sigterm);
	ev_signal_start(s.loop, &s.sigint);
	log_info("p2pd %s: %s, workers from %s", P2PD_VERSION,
		 s.conf.source[0] ? s.conf.source : "default settings", s.conf.conf_dir);
	reload(&s, &rs, 0);
	ready_status(&s, "started");
	ev_run(s.loop, 0);
	sup_free(&s);
	log_info("stopped");
	return 0;
}
