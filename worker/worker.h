/* worker: the connectd process at run time. One UDP socket carries the
 * rendezvous exchange and every peer session; an initiator has one session
 * and a local TCP listener, a target one session per introduced initiator.
 *
 * Modules: rdvclient (server login), session (handshake, data packets,
 * keep-alive, the stream multiplexer), proxy (TCP connections <-> streams). */
#ifndef P2PD_WORKER_H
#define P2PD_WORKER_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/prov.h"
#include "worker/cli.h"
#include "worker/rdvclient.h"

#define WORKER_MAX_SESSIONS 64
/* Datagrams the worker queues before it sends them (udpio_set_burst): a
 * window's packets leave in bursts of 4 while the rest are still being
 * sealed, so the peer opens and acknowledges the first ones meanwhile. On two
 * namespaces (docs/BENCH.md) bursts of 2 to 4 carried 1.3 to 1.6 times what
 * one send per event-loop turn did; 1 and 6 or more, less. */
#define WORKER_UDP_BURST 4

struct session;
struct listener;
struct udpio;

struct worker_stats {
	uint64_t rx_dgrams;	  /* datagrams read (udpio counts those sent) */
	uint64_t dropped_unknown; /* no session or type for it */
	uint64_t dropped_short;
	uint64_t dropped_relayed; /* RELAYED that failed a check */
	uint64_t relayed_in;	  /* RELAYED accepted */
};

struct worker {
	struct ev_loop *loop;
	const struct cli *cli;
	const struct prov *cfg;
	int initiator;
	int udp;
	struct udpio *io; /* batched sends and reads on udp */
	uint16_t udp_port;
	struct sockaddr_storage srv;
	socklen_t srvlen;
	char srvname[300];
	ev_io udp_w;
	ev_timer rdv_t;
	ev_timer tick_t;
	ev_prepare prep;
	ev_signal sig_int, sig_term, sig_pipe;
	struct rdvc rc;
	uint8_t kclient[32];
	struct session *sess[WORKER_MAX_SESSIONS];
	struct listener *lsn; /* initiator: the local TCP port */
	uint64_t start_ms;
	uint64_t last_traffic_ms;	   /* local TCP bytes, for idle_limit */
	uint64_t tp_tx, tp_rx, tp_last_ms; /* throughput window */
	uint64_t gone_in, gone_out;	   /* stream bytes of sessions that ended */
	int stats_sent;			   /* the last counters told the supervisor */
	unsigned sent_rtt;
	uint64_t sent_in, sent_out;
	int exit_code;
	int exiting;
	struct worker_stats st;
};

/* Run connectd with a validated provisioning; returns the exit code. */
int worker_run(const struct cli *c, const struct prov *p);

/* End the process's loop with code and a message (logged, and !!exit with -s). */
void worker_exit(struct worker *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queue one datagram on the UDP socket; the queue goes out at the end of the
 * event-loop turn (or when it is full), in order. */
void worker_send(struct worker *w, const struct sockaddr *to, socklen_t tolen, const uint8_t *p,
		 size_t n);

/* Wrap peer datagram p in a RELAY for session sid with this seq and queue
 * it to the rendezvous server. Returns 0, or -1 if there is no login to
 * relay with (or p cannot be relayed). */
int worker_relay(struct worker *w, const uint8_t sid[RDV_SESSION_ID_LEN], uint64_t seq,
		 const uint8_t *p, size_t n);

/* Events from sessions. */
void worker_session_up(struct worker *w, struct session *s);
/* An up session's path changed (relay -> direct): log and status line. */
void worker_session_path(struct worker *w, struct session *s);
void worker_session_gone(struct worker *w, struct session *s, int code, const char *why);
/* Bytes that crossed the local TCP side (for idle_limit and throughput). */
void worker_traffic(struct worker *w, uint64_t tx, uint64_t rx);

#endif
