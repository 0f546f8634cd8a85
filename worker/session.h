/* session: one peer session, from introduction to close (docs/PROTOCOL.md
 * sections 4, 5 and 9): punching to the peer's candidates, the handshake, data
 * packets in the chosen mode, keep-alives and the dead interval, the stream
 * multiplexer that carries the TCP connections, and the relay fallback: when
 * punching finds no path within punch_timeout, the same datagrams travel
 * wrapped in RELAY through the rendezvous server, while direct probes go on
 * every second; the first authentic direct packet moves the path there. */
#ifndef P2PD_SESSION_H
#define P2PD_SESSION_H

#include <ev.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/rdvwire.h"
#include "worker/datapkt.h"
#include "worker/handshake.h"
#include "worker/mux.h"

struct worker;
struct bridge;

enum session_state {
	SESS_PUNCHING, /* sending PUNCH (and HS_INIT) to every candidate */
	SESS_CONFIRM,  /* target: HS_RESP sent, waiting for HS_CONFIRM or data */
	SESS_UP,       /* keys agreed both ways: streams flow */
	SESS_CLOSED,
};

struct session_stats {
	uint64_t tx_bytes, rx_bytes; /* stream payload */
	uint64_t tx_pkts, rx_pkts;   /* data packets */
	uint64_t dropped;	     /* data packets that failed a check */
	uint64_t rtt_ms;	     /* latest PING round trip */
	int rtt_valid;		     /* a PONG came back at least once */
};

struct session {
	struct worker *w;
	int initiator;
	enum session_state state;
	uint8_t S[RDV_SECRET_LEN];
	uint8_t session_id[RDV_SESSION_ID_LEN];
	uint64_t sid64;
	char peer_name[RDV_ID_STRLEN];
	int mode;
	uint32_t my_index, peer_index;
	struct rdv_cands cands;	       /* the peer's, from INTRO */
	struct sockaddr_storage extra; /* a peer-reflexive address seen */
	int have_extra;
	struct sockaddr_storage path; /* where data goes once up (direct) */
	socklen_t pathlen;
	int relaying; /* punch_timeout passed: the handshake goes over the relay too */
	int relayed;  /* the path is the relay (no direct path yet) */
	uint8_t relay_sid[RDV_SESSION_ID_LEN]; /* the session id RELAYs name */
	uint64_t relay_seq;		       /* the last RELAY seq under relay_sid */
	unsigned punch_ticks;
	int probing; /* send_body: to every candidate directly (a probe) */
	struct hs_ini hi;
	struct hs_tgt ht;
	uint8_t hs_pkt[256]; /* HS_INIT (initiator) or HS_RESP (target) */
	size_t hs_len;
	uint8_t confirm_pkt[64]; /* initiator: HS_CONFIRM, resent on a repeated HS_RESP */
	size_t confirm_len;
	struct dp_dir tx, rx;
	struct mux *mux;
	struct bridge *bridge; /* the TCP side of this session's streams */
	ev_timer punch_t;      /* 100 ms while punching */
	ev_timer mux_t;	       /* the multiplexer's next deadline */
	ev_timer live_t;       /* keep-alive and dead interval, 1 s */
	uint64_t start_ms, up_ms, last_rx_ms, last_tx_ms;
	uint64_t rx_top; /* highest counter received: only it may move the path */
	struct session_stats st;
};

/* A new session from an introduction (S is copied). NULL if out of memory. */
struct session *session_new(struct worker *w, const struct rdv_intro *in, int initiator, int mode);
void session_free(struct session *s);

/* A handshake datagram (0x90..0x94) whose session this is. */
void session_on_handshake(struct session *s, const uint8_t *p, size_t n,
			  const struct sockaddr *from, socklen_t fromlen);
/* A data datagram (0xa0) addressed to this session's index. */
void session_on_data(struct session *s, const uint8_t *p, size_t n, const struct sockaddr *from,
		     socklen_t fromlen);
/* Flush pending stream acknowledgements and re-arm the multiplexer's timer
 * (called once per event-loop iteration). */
void session_flush(struct session *s);
/* Tell the peer we are closing (best effort) and stop. */
void session_close(struct session *s, int reason);

/* One line of counters for the log: packets in and out, and what was dropped
 * (failed tag, replay, format), stream bytes. Returns buf. */
const char *session_summary(const struct session *s, char *buf, size_t len);

/* A peer datagram (handshake 0x90..0x94 or data 0xa0) that came over the
 * relay, in a RELAYED for session id sid (this session's, or a later one of
 * the same peers). Never moves the direct path. */
void session_on_relayed(struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN], const uint8_t *p,
			size_t n);
/* 1 if RELAYs of this session name sid (its own id or a later relay id). */
int session_relay_sid_is(const struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN]);
/* Relay under a new session id from now on (the initiator logged in again:
 * the server forgot the old session). */
void session_set_relay_sid(struct session *s, const uint8_t sid[RDV_SESSION_ID_LEN]);
/* "relay" or "direct": the path data takes now. */
const char *session_path_name(const struct session *s);

/* 1 if this session owns the handshake datagram whose header is pk (by
 * session id or index; hs_peek parses it once for all sessions). */
int session_matches_handshake(const struct session *s, const struct hs_peek *pk);

/* Close reasons carried in CLOSE (session control channel). */
enum { CLOSE_NORMAL = 0, CLOSE_SHUTDOWN = 1, CLOSE_ERROR = 2 };

#endif
