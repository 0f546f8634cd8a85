#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/statusmsg.h"
#include "common/stun.h"
#include "common/util.h"
#include "worker/cand.h"
#include "worker/proxy.h"
#include "worker/sandbox.h"
#include "worker/session.h"
#include "worker/status.h"
#include "worker/udpio.h"

void
worker_exit(struct worker *w, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (w->exiting)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->exiting = 1;
	w->exit_code = code;
	if (code == EXIT_OK || code == EXIT_SIGNAL)
		log_info("exiting (%d): %s", code, msg);
	else
		log_error("exiting (%d): %s", code, msg);
	status_exit(code, msg);
	ev_break(w->loop, EVBREAK_ALL);
}

void
worker_send(struct worker *w, const struct sockaddr *to, socklen_t tolen, const uint8_t *p,
	    size_t n)
{
	udpio_send(w->io, to, tolen, p, n);
}

void
worker_traffic(struct worker *w, uint64_t tx, uint64_t rx)
{
	w->tp_tx += tx;
	w->tp_rx += rx;
	w->last_traffic_ms = now_ms();
}

/* ---- rendezvous client callbacks ---- */

static void
rdv_send(void *ctx, const uint8_t *p, size_t n)
{
	struct worker *w = ctx;

	worker_send(w, (struct sockaddr *)&w->srv, w->srvlen, p, n);
}

static void
rdv_registered(void *ctx, const struct rdv_addr *observed)
{
	struct worker *w = ctx;
	char a[SOCKADDR_STRLEN];
	char u[UID_STRLEN];

	log_info("registered %s with %s as %s", uid_format(&w->cfg->uid, u), w->srvname,
		 rdv_addr_format(observed, a, sizeof(a)));
	status_state("registered");
}

static int
session_slot(struct worker *w)
{
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] == NULL)
			return i;
	return -1;
}

static void
rdv_intro(void *ctx, const struct rdv_intro *in)
{
	struct worker *w = ctx;
	struct session *s;
	char name[RDV_ID_STRLEN];
	int slot = session_slot(w);

	rdv_id_format(&in->peer, name, sizeof(name));
	if (w->initiator) {
		if (w->sess[0] != NULL)
			return; /* one session per initiator */
		slot = 0;
	} else if (slot < 0) {
		log_warnx("introduction from %s refused: %d sessions already", name,
			  WORKER_MAX_SESSIONS);
		return;
	}
	s = session_new(w, in, w->initiator, w->initiator ? w->cfg->encryption : in->mode);
	if (s == NULL) {
		log_warnx("introduction from %s: out of memory", name);
		if (w->initiator)
			worker_exit(w, EXIT_SESSION, "out of memory creating the session");
		return;
	}
	w->sess[slot] = s;
	log_info("introduced to %s (%u candidate%s); punching", name, in->cands.n,
		 in->cands.n == 1 ? "" : "s");
	status_state("punching");
}

static void
rdv_failed(void *ctx, int code, const char *msg)
{
	struct worker *w = ctx;
	int exit_code;

	switch (code) {
	case RDV_ERR_UNKNOWN_ID:
		exit_code = EXIT_BAD_USER;
		break;
	case RDV_ERR_BAD_AUTH:
	case RDV_ERR_NOT_ALLOWED:
		exit_code = EXIT_AUTH;
		break;
	case RDV_ERR_OFFLINE:
		exit_code = EXIT_TARGET_TIMEOUT;
		break;
	default:
		exit_code = EXIT_SESSION;
		break;
	}
	if (code == 0)
		worker_exit(w, exit_code, "%s %s", msg, w->srvname);
	else
		worker_exit(w, exit_code, "rendezvous server %s refused: %s", w->srvname, msg);
}

/* Initiator: logged in again (the server forgot the old login): the tunnel
 * stays; only its relay session id changes. */
static void
rdv_relogin(void *ctx, const struct rdv_intro *in)
{
	struct worker *w = ctx;

	if (w->sess[0] != NULL)
		session_set_relay_sid(w->sess[0], in->session_id);
}

static const struct rdvc_ops rdv_ops = {
    .send = rdv_send,
    .registered = rdv_registered,
    .intro = rdv_intro,
    .failed = rdv_failed,
    .relogin = rdv_relogin,
};

int
worker_relay(struct worker *w, const uint8_t sid[RDV_SESSION_ID_LEN], uint64_t seq,
	     const uint8_t *p, size_t n)
{
	uint8_t out[RDV_RELAY_MAX];
	int len;

	len = rdvc_build_relay(&w->rc, out, sizeof(out), sid, seq, p, n);
	if (len < 0)
		return -1;
	worker_send(w, (struct sockaddr *)&w->srv, w->srvlen, out, (size_t)len);
	return 0;
}

/* ---- sessions ---- */

void
worker_session_up(struct worker *w, struct session *s)
{
	char a[SOCKADDR_STRLEN];
	unsigned ms = (unsigned)(s->up_ms - s->start_ms);

	if (s->relayed)
		fmt_sockaddr((struct sockaddr *)&w->srv, a, sizeof(a));
	else
		fmt_sockaddr((struct sockaddr *)&s->path, a, sizeof(a));
	log_info("tunnel up with %s: path %s, %s %s, mode %d, handshake %u ms", s->peer_name,
		 session_path_name(s), s->relayed ? "through the rendezvous server" : "peer", a,
		 s->mode, ms);
	if (s->mode == 0 || s->mode == 1)
		log_warnx("encryption mode %d is weak (%s); use 2 or 3", s->mode,
			  s->mode == 0 ? "no encryption" : "RC4");
	w->last_traffic_ms = now_ms(); /* idle_limit counts from here */
	status_connected();
	status_path(session_path_name(s), a, ms);
	if (w->initiator) {
		listener_enable(w->lsn, s->bridge);
		printf("Proxy started.\n");
		fflush(stdout);
	}
}

void
worker_session_path(struct worker *w, struct session *s)
{
	char a[SOCKADDR_STRLEN];

	(void)w;
	fmt_sockaddr((struct sockaddr *)&s->path, a, sizeof(a));
	log_info("tunnel with %s: path %s, peer %s", s->peer_name, session_path_name(s), a);
	status_path(session_path_name(s), a, 0);
}

void
worker_session_gone(struct worker *w, struct session *s, int code, const char *why)
{
	char sum[384];

	if (s->state == SESS_UP || s->st.rx_pkts > 0)
		log_info("session with %s: %s", s->peer_name, session_summary(s, sum, sizeof(sum)));
	if (s->mux != NULL) {
		struct mux_stats ms;
		mux_get_stats(s->mux, &ms);
		w->gone_in += ms.bytes_in;
		w->gone_out += ms.bytes_out;
	}
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] == s)
			w->sess[i] = NULL;
	if (w->initiator) {
		listener_disable(w->lsn);
		session_free(s);
		worker_exit(w, code, "%s", why);
		return;
	}
	log_info("session with %s ended: %s", s->peer_name, why);
	session_free(s);
}

/* ---- the UDP socket ---- */

static struct session *
find_by_index(struct worker *w, uint32_t idx)
{
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] != NULL && w->sess[i]->my_index == idx)
			return w->sess[i];
	return NULL;
}

/* The session a handshake message is for (its header parsed once), or NULL. */
static struct session *
find_for_handshake(struct worker *w, const uint8_t *p, size_t n)
{
	struct hs_peek pk;

	if (hs_peek(p, n, &pk) == -1)
		return NULL;
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] != NULL && session_matches_handshake(w->sess[i], &pk))
			return w->sess[i];
	return NULL;
}

/* A RELAYED from the server: for our login (mac checked with K_login), for
 * a session we hold; its inner datagram goes to the session it names, as if
 * it came from the peer, but over the relay. */
static void
relayed_input(struct worker *w, const uint8_t *p, size_t n)
{
	struct rdv_relayed m;
	struct session *s = NULL;
	const char *why = NULL;
	uint32_t idx;
	int known = 0;

	if (rdvc_open_relayed(&w->rc, p, n, &m, &why) == -1) {
		w->st.dropped_relayed++;
		log_debug("RELAYED dropped: %s", why != NULL ? why : "malformed");
		return;
	}
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] != NULL &&
		    (session_relay_sid_is(w->sess[i], m.session_id) ||
		     memcmp(w->sess[i]->session_id, m.session_id, RDV_SESSION_ID_LEN) == 0))
			known = 1;
	if (m.inner[0] == DP_TYPE) {
		if (dp_peek_index(m.inner, m.inner_len, &idx) == 0)
			s = find_by_index(w, idx);
	} else {
		s = find_for_handshake(w, m.inner, m.inner_len);
	}
	if (!known || s == NULL) {
		w->st.dropped_relayed++;
		log_debug("RELAYED dropped: for no session of ours");
		return;
	}
	w->st.relayed_in++;
	session_on_relayed(s, m.session_id, m.inner, m.inner_len);
}

static void
dispatch(struct worker *w, const uint8_t *p, size_t n, const struct sockaddr *from,
	 socklen_t fromlen)
{
	uint32_t idx;
	struct session *s;

	if (n < 2) {
		w->st.dropped_short++;
		return;
	}
	if (p[0] == DP_TYPE) {
		if (dp_peek_index(p, n, &idx) == 0 && (s = find_by_index(w, idx)) != NULL)
			session_on_data(s, p, n, from, fromlen);
		else
			w->st.dropped_unknown++;
		return;
	}
	if (p[0] >= HS_T_PUNCH && p[0] <= HS_T_REJECT) {
		if ((s = find_for_handshake(w, p, n)) != NULL)
			session_on_handshake(s, p, n, from, fromlen);
		else
			w->st.dropped_unknown++;
		return;
	}
	if (p[0] == RDV_RELAYED && sockaddr_equal(from, (struct sockaddr *)&w->srv)) {
		relayed_input(w, p, n);
		return;
	}
	if (p[0] >= 0x81 && p[0] <= 0x8f && sockaddr_equal(from, (struct sockaddr *)&w->srv)) {
		rdvc_input(&w->rc, p, n, now_ms());
		return;
	}
	w->st.dropped_unknown++;
}

static void
udp_dgram(void *ctx, const struct udpio_dgram *d)
{
	struct worker *w = ctx;

	if (w->exiting)
		return;
	dispatch(w, d->p, d->n, d->from, d->fromlen);
}

static void
udp_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;

	(void)loop;
	(void)revents;
	if (!w->exiting && udpio_recv(w->io, UDPIO_BATCH, udp_dgram, w) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR)
		log_debug("UDP receive: %s", strerror(errno));
}

static void
rdv_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)loop;
	(void)revents;
	rdvc_on_timer(&w->rc, now_ms());
}

/* Before the loop blocks: flush acknowledgements, re-arm timers, send the
 * datagrams queued during this turn. */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *pr, int revents)
{
	struct worker *w = pr->data;
	uint64_t next, now = now_ms();

	(void)revents;
	for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
		if (w->sess[i] != NULL)
			session_flush(w->sess[i]);
	next = rdvc_next_timeout(&w->rc);
	ev_timer_stop(loop, &w->rdv_t);
	if (next != UINT64_MAX) {
		ev_timer_set(&w->rdv_t, next > now ? (double)(next - now) / 1000.0 : 0.0, 0.0);
		ev_timer_start(loop, &w->rdv_t);
	}
	/* Last: what this turn produced and did not send yet (udpio sends a
	 * burst as soon as it is queued, see worker_start) goes out now. */
	udpio_flush(w->io);
}

/* Counters for the supervisor, once a second: the round trip of the newest
 * session that measured one and the stream bytes of every session. */
static void
report_stats(struct worker *w)
{
	unsigned rtt = SM_RTT_UNKNOWN;
	uint64_t in = w->gone_in, out = w->gone_out;

	for (int i = 0; i < WORKER_MAX_SESSIONS; i++) {
		struct session *s = w->sess[i];
		struct mux_stats ms;
		if (s == NULL || s->mux == NULL)
			continue;
		mux_get_stats(s->mux, &ms);
		in += ms.bytes_in;
		out += ms.bytes_out;
		if (s->st.rtt_valid)
			rtt = (unsigned)s->st.rtt_ms;
	}
	if (w->stats_sent && rtt == w->sent_rtt && in == w->sent_in && out == w->sent_out)
		return; /* nothing changed: do not wake the supervisor */
	w->stats_sent = 1;
	w->sent_rtt = rtt;
	w->sent_in = in;
	w->sent_out = out;
	status_stats(rtt, in, out);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	const struct prov *p = w->cfg;
	uint64_t now = now_ms();

	(void)loop;
	(void)revents;
	if (w->initiator && p->lifetime > 0 &&
	    now - w->start_ms >= (uint64_t)p->lifetime * 60000u) {
		worker_exit(w, EXIT_LIFETIME, "lifetime of %u minute%s expired", p->lifetime,
			    p->lifetime == 1 ? "" : "s");
		return;
	}
	if (w->initiator && p->idle_limit > 0 && w->sess[0] != NULL &&
	    w->sess[0]->state == SESS_UP &&
	    now - w->last_traffic_ms >= (uint64_t)p->idle_limit * 1000u) {
		worker_exit(w, EXIT_LIFETIME, "idle limit of %u s reached with no traffic",
			    p->idle_limit);
		return;
	}
	report_stats(w);
	if (now - w->tp_last_ms >= 10000) {
		uint64_t secs = (now - w->tp_last_ms) / 1000;
		int up = 0;
		for (int i = 0; i < WORKER_MAX_SESSIONS; i++)
			if (w->sess[i] != NULL && w->sess[i]->state == SESS_UP)
				up = 1;
		if (up)
			status_throughput(w->tp_tx / secs, w->tp_rx / secs);
		w->tp_tx = w->tp_rx = 0;
		w->tp_last_ms = now;
	}
}

static void
signal_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
	struct worker *w = sig->data;

	(void)loop;
	(void)revents;
	if (sig->signum == SIGPIPE)
		return;
	worker_exit(w, EXIT_SIGNAL, "ended by signal %d (%s)", sig->signum,
		    sig->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- set-up ---- */

static int
resolve_server(struct worker *w)
{
	const struct prov *p = w->cfg;
	const char *spec = w->cli->server;
	char host[PROV_HOST_MAX];
	uint16_t port;
	const char *why;

	if (spec == NULL && p->server_host[0] != '\0') {
		str_lcpy(host, p->server_host, sizeof(host));
		port = p->server_port;
	} else {
		if (spec == NULL)
			spec = getenv("P2P_SERVER");
		if (spec == NULL || *spec == '\0')
			spec = "localhost:5959";
		if (parse_hostport(spec, host, sizeof(host), &port, 5959, &why) == -1) {
			log_error("rendezvous server '%s'%s: %s (expected host[:port])", spec,
				  w->cli->server == NULL ? " (from P2P_SERVER)" : "", why);
			return -2; /* a configuration error, not a network one */
		}
	}
	if (resolve_ipv4(host, port, SOCK_DGRAM, &w->srv, &w->srvlen, &why) == -1) {
		log_error("cannot resolve rendezvous server %s: %s", host, why);
		return -1;
	}
	snprintf(w->srvname, sizeof(w->srvname), "%s:%u", host, port);
	return 0;
}

static int
open_udp(struct worker *w)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int bufsz = 4 << 20;

	w->udp = socket_nb(AF_INET, SOCK_DGRAM);
	if (w->udp == -1) {
		log_error("cannot create a UDP socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(w->udp, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(w->udp, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (bind(w->udp, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(w->udp, (struct sockaddr *)&sin, &len) == -1) {
		log_error("cannot bind a UDP socket on 0.0.0.0: %s", strerror(errno));
		return -1;
	}
	w->udp_port = ntohs(sin.sin_port);
	w->io = udpio_new(w->udp, UDPIO_GSO);
	if (w->io == NULL) {
		log_error("cannot allocate the UDP queue: out of memory");
		return -1;
	}
	udpio_set_burst(w->io, WORKER_UDP_BURST);
	log_debug("UDP I/O: %s%s",
		  udpio_mode(w->io) == UDPIO_GSO    ? "sendmmsg/recvmmsg and GSO"
		  : udpio_mode(w->io) == UDPIO_MMSG ? "sendmmsg/recvmmsg"
						    : "sendto/recvmsg",
		  udpio_gro(w->io) ? ", GRO" : "");
	return 0;
}

static void
set_candidates(struct worker *w)
{
	struct sockaddr_storage ss[RDV_MAX_CANDS];
	struct rdv_cands c;
	struct rdv_addr a;
	size_t n = cand_gather((struct sockaddr *)&w->srv, w->udp_port, ss, RDV_MAX_CANDS);

	rdv_cands_clear(&c);
	for (size_t i = 0; i < n; i++)
		if (rdv_addr_from_sockaddr(&a, (struct sockaddr *)&ss[i]) == 0)
			rdv_cands_add(&c, &a);
	rdvc_set_cands(&w->rc, &c);
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		log_error("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		log_error("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
daemonize(const char *pidfile)
{
	pid_t pid = fork();
	int fd;

	if (pid == -1) {
		log_error("cannot fork into the background: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_to_syslog(1);
	if (pidfile != NULL && write_pidfile(pidfile) == -1)
		return -1;
	return 0;
}

static int
start_client(struct worker *w)
{
	const struct prov *p = w->cfg;
	const char *why = NULL;

	if (w->initiator) {
		uint8_t h[AUTH_HASH_LEN];
		if (p->has_auth_hash)
			memcpy(h, p->auth_hash, sizeof(h));
		else if (auth_hash_derive(p->user_id, p->auth_pass, h) == -1) {
			log_error("cannot derive the auth_hash (out of memory)");
			return EXIT_UNKNOWN;
		}
		if (rdvc_init_initiator(&w->rc, &rdv_ops, w, p->user_id, h, &p->remote_address,
					p->encryption, &why) == -1) {
			sodium_memzero(h, sizeof(h));
			log_error("%s: user_id '%s': %s", p->source, p->user_id, why);
			return EXIT_CONFIG;
		}
		sodium_memzero(h, sizeof(h));
	} else {
		uint8_t kdev[RDV_SECRET_LEN];
		rdv_device_key(kdev, p->secret);
		rdvc_init_target(&w->rc, &rdv_ops, w, &p->uid, kdev);
		sodium_memzero(kdev, sizeof(kdev));
	}
	return 0;
}

static void
worker_cleanup(struct worker *w)
{
	char sum[384];

	for (int i = 0; i < WORKER_MAX_SESSIONS; i++) {
		if (w->sess[i] != NULL) {
			log_info("session with %s: %s", w->sess[i]->peer_name,
				 session_summary(w->sess[i], sum, sizeof(sum)));
			session_close(w->sess[i], CLOSE_SHUTDOWN);
			session_free(w->sess[i]);
			w->sess[i] = NULL;
		}
	}
	if (w->lsn != NULL)
		listener_free(w->lsn);
	rdvc_wipe(&w->rc);
	if (w->st.dropped_unknown > 0 || w->st.dropped_short > 0)
		log_info(
		    "datagrams dropped: %llu for no session or of unknown type, %llu too short",
		    (unsigned long long)w->st.dropped_unknown,
		    (unsigned long long)w->st.dropped_short);
	if (w->io != NULL) {
		struct udpio_stats us;
		udpio_flush(w->io); /* the CLOSE messages above */
		udpio_get_stats(w->io, &us);
		if (us.tx_dropped > 0 || us.tx_errors > 0 || us.rx_truncated > 0)
			log_info("UDP datagrams dropped: %llu sent without buffer space, %llu "
				 "refused by the kernel, %llu received over %d bytes",
				 (unsigned long long)us.tx_dropped,
				 (unsigned long long)us.tx_errors,
				 (unsigned long long)us.rx_truncated, UDPIO_SLOT);
		log_debug("UDP I/O: %llu datagrams in %llu sends (%llu GSO), %llu in %llu reads",
			  (unsigned long long)us.tx_dgrams, (unsigned long long)us.tx_calls,
			  (unsigned long long)us.tx_gso, (unsigned long long)us.rx_dgrams,
			  (unsigned long long)us.rx_calls);
		udpio_free(w->io);
		w->io = NULL;
	}
	if (w->udp >= 0)
		close(w->udp);
}

/* Every socket is bound, the file read and the server resolved: from here on
 * the worker needs no file, no new process and no privilege. */
static int
enter_sandbox(struct worker *w)
{
	const struct prov *p = w->cfg;
	struct sandbox_opts so;
	char err[512];

	if (w->cli->no_sandbox) {
		log_warnx("--no-sandbox: this worker runs WITHOUT its sandbox (debugging only)");
		return 0;
	}
	memset(&so, 0, sizeof(so));
	so.user = sandbox_default_user();
	so.allow_connect = !w->initiator; /* a target connects to its service */
	so.allow_inet6 = !w->initiator && strchr(p->proxy_dest_ip, ':') != NULL;
	if (sandbox_enter(&so, err, sizeof(err)) == -1) {
		log_error("cannot enter the sandbox: %s", err);
		status_exit(EXIT_UNKNOWN, err);
		return -1;
	}
	log_debug("sandbox entered (%s%s%s)", sandbox_kind(), so.user ? ", user " : "",
		  so.user ? so.user : "");
	return 0;
}

/* libev's fatal system errors (it would abort()): say what and exit 25. */
static void
loop_syserr(const char *msg)
{
	log_error("event loop: %s: %s", msg, strerror(errno));
	status_exit(EXIT_UNKNOWN, "event loop failure");
	exit(EXIT_UNKNOWN);
}

int
worker_run(const struct cli *c, const struct prov *p)
{
	struct worker w;
	char u[UID_STRLEN];
	int rc;

	memset(&w, 0, sizeof(w));
	w.udp = -1;
	w.cli = c;
	w.cfg = p;
	w.initiator = p->mode == PROV_INITIATOR;
	w.exit_code = EXIT_UNKNOWN;
	log_set_prefix(uid_format(w.initiator ? &p->remote_address : &p->uid, u));
	if (w.initiator && p->autoconnect == 0 && getenv("P2PD_SUPERVISED") == NULL) {
		status_exit(EXIT_DISABLED, "autoconnect 0: nothing to do");
		log_info("%s: autoconnect 0: not connecting (start it with p2pctl start)",
			 p->source);
		return EXIT_DISABLED;
	}
	if ((rc = resolve_server(&w)) < 0) {
		if (rc == -2) {
			status_exit(EXIT_CONFIG, "malformed rendezvous server address");
			return EXIT_CONFIG;
		}
		status_exit(EXIT_SESSION, "cannot resolve the rendezvous server");
		return EXIT_SESSION;
	}
	if (open_udp(&w) == -1) {
		status_exit(EXIT_BIND_UDP, "cannot bind UDP");
		worker_cleanup(&w);
		return EXIT_BIND_UDP;
	}
	if (w.initiator) {
		char err[256];
		w.lsn = listener_open(p, err, sizeof(err));
		if (w.lsn == NULL) {
			log_error("%s", err);
			status_exit(EXIT_BIND_PROXY, err);
			worker_cleanup(&w);
			return EXIT_BIND_PROXY;
		}
		printf("Starting Proxy on port %u on index 1.\n", p->proxy_local_port);
		fflush(stdout);
		snprintf(err, sizeof(err), "%s:%u", p->proxy_bind_address, p->proxy_local_port);
		status_local(err);
	} else {
		char dest[PROV_ADDR_MAX + 16];
		snprintf(dest, sizeof(dest), "->%s:%u", p->proxy_dest_ip, p->proxy_dest_port);
		status_local(dest);
	}
	if ((rc = start_client(&w)) != 0) {
		status_exit(rc, "cannot start");
		worker_cleanup(&w);
		return rc;
	}
	if (c->daemonize && daemonize(c->pidfile) == -1) {
		worker_cleanup(&w);
		return EXIT_UNKNOWN;
	}

	ev_set_syserr_cb(loop_syserr);
	w.loop = ev_default_loop(EVFLAG_AUTO);
	if (w.loop == NULL) {
		log_error("cannot create the event loop (too many open files?)");
		status_exit(EXIT_UNKNOWN, "cannot create the event loop");
		worker_cleanup(&w);
		return EXIT_UNKNOWN;
	}
	if (w.lsn != NULL)
		listener_attach(w.lsn, w.loop, &w);
	ev_io_init(&w.udp_w, udp_cb, w.udp, EV_READ);
	w.udp_w.data = &w;
	ev_io_start(w.loop, &w.udp_w);
	ev_init(&w.rdv_t, rdv_timer_cb);
	w.rdv_t.data = &w;
	ev_prepare_init(&w.prep, prepare_cb);
	w.prep.data = &w;
	ev_prepare_start(w.loop, &w.prep);
	ev_timer_init(&w.tick_t, tick_cb, 1.0, 1.0);
	w.tick_t.data = &w;
	ev_timer_start(w.loop, &w.tick_t);
	ev_signal_init(&w.sig_int, signal_cb, SIGINT);
	ev_signal_init(&w.sig_term, signal_cb, SIGTERM);
	ev_signal_init(&w.sig_pipe, signal_cb, SIGPIPE);
	w.sig_int.data = w.sig_term.data = w.sig_pipe.data = &w;
	ev_signal_start(w.loop, &w.sig_int);
	ev_signal_start(w.loop, &w.sig_term);
	ev_signal_start(w.loop, &w.sig_pipe);

	w.start_ms = w.last_traffic_ms = w.tp_last_ms = now_ms();
	set_candidates(&w);
	rdvc_set_keepalive_cap(&w.rc, p->keepalive);
	if (enter_sandbox(&w) == -1) {
		worker_cleanup(&w);
		ev_loop_destroy(w.loop);
		return EXIT_UNKNOWN;
	}
	log_info("%s mode, rendezvous server %s, UDP port %u", w.initiator ? "initiator" : "target",
		 w.srvname, w.udp_port);
	status_state(w.initiator ? "connecting" : "registering");
	rdvc_start(&w.rc, w.start_ms);

	ev_run(w.loop, 0);

	worker_cleanup(&w);
	ev_loop_destroy(w.loop);
	return w.exit_code;
}
