/* server: rendezvousd's event loop (libev, single-threaded).
 *
 * UDP sockets on the listen address and port, on alt_port, and on
 * alt_address (RFC 5780 probing) answer STUN Binding requests and the
 * client <-> server messages of docs/PROTOCOL.md section 3, and forward the
 * RELAY messages of section 9 between the members of a session; a TCP socket on
 * the listen address writes a one-line banner to every connection and closes
 * it (the connectivity check of connectd -n). One ev_io per socket and one
 * ev_timer for every deadline (presence expiry, INTRO repeats, the replay
 * cache); nothing polls.
 *
 * server_input() and server_tick() take the time as an argument, so that
 * tests can drive the protocol with a fake clock; the event loop passes
 * now_ms(). */
#ifndef P2PD_SERVER_H
#define P2PD_SERVER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/rdvconf.h"

#define SRV_BANNER	    "p2pd rendezvousd 1\n"
#define SRV_KEEPALIVE_S	    15 /* keep-alive interval told to targets */
#define SRV_TS_MAX_AGE_S    60 /* oldest CHALLENGE ts an AUTH may carry */
#define SRV_REPLAY_MS	    120000
#define SRV_INTRO_REPEAT_MS 500
#define SRV_INTRO_SENDS	    6 /* the first INTRO and five repeats */
#define SRV_MAX_LOGINS	    65536
#define SRV_MAX_SESSIONS    65536 /* introductions, pending or not */
#define SRV_MAX_REPLAY	    65536
#define SRV_RL_ENTRIES	    16384
#define SRV_STATS_EVERY_S   60.0

/* Counters since start. */
struct server_stats {
	uint64_t received; /* datagrams */
	uint64_t stun_answered;
	uint64_t challenges;
	uint64_t registrations; /* targets logged in */
	uint64_t logins;	/* initiators logged in */
	uint64_t introductions;
	uint64_t keepalives;
	uint64_t intro_acks;
	uint64_t intro_repeats;
	uint64_t intro_unacked; /* INTROs given up after the last repeat */
	uint64_t expired;	/* logins forgotten after presence_timeout */
	uint64_t refused;	/* ERROR replies */
	uint64_t tcp_banners;
	/* dropped, by reason */
	uint64_t drop_malformed; /* bad length, version, type or field */
	uint64_t drop_rate;	 /* over the per-source rate limit */
	uint64_t drop_stun;	 /* STUN that gets no answer */
	uint64_t drop_badmac;	 /* KEEPALIVE / INTRO_ACK that does not authenticate */
	uint64_t drop_stale;	 /* KEEPALIVE seq not newer, INTRO_ACK for no session */
	uint64_t drop_other;	 /* not for the server (peer traffic, RELAYED) */
	/* relay (section 9) */
	uint64_t relayed;	 /* RELAYs forwarded as RELAYED */
	uint64_t relayed_bytes;	 /* bytes of the RELAYED datagrams sent */
	uint64_t relay_sessions; /* sessions that started being relayed */
	/* RELAYs dropped (never answered), by reason */
	uint64_t relay_drop_off;       /* relay = no */
	uint64_t relay_drop_malformed; /* bad length, version, seq or inner datagram */
	uint64_t relay_drop_login;     /* unknown login */
	uint64_t relay_drop_badmac;    /* does not authenticate with the login's key */
	uint64_t relay_drop_session;   /* no such session, or the login is not a member */
	uint64_t relay_drop_replay;    /* seq already seen or below the window */
	uint64_t relay_drop_rate;      /* over the session's relay_rate */
	uint64_t relay_drop_total;     /* over relay_total */
};

struct server;

/* Bind the sockets described by conf and start watching them on loop. The
 * server takes over conf's users and devices (conf is left empty; calling
 * rdvconf_free on it is harmless). Returns NULL with a message in err if a
 * socket cannot be made or bound. */
struct server *server_new(struct ev_loop *loop, struct rdv_conf *conf, char *err, size_t errlen);
/* Stop watching, close the sockets, wipe the keys, free everything. */
void server_free(struct server *srv);

/* Take a reloaded configuration (users, devices, rate_limit,
 * presence_timeout, relay, relay_rate, relay_total; a changed listen
 * address or port needs a restart and gets a warning). Logins stay, except
 * those of users and devices that are gone (and their sessions with them).
 * Takes over conf as server_new does. */
void server_reload(struct server *srv, struct rdv_conf *conf);

/* Handle one datagram that arrived on UDP socket sock (0 = the listen socket)
 * from `from`, addressed to `local` (NULL if not known), at now_ms. */
void server_input(struct server *srv, int sock, const uint8_t *p, size_t n,
		  const struct sockaddr *from, socklen_t fromlen, const struct sockaddr *local,
		  uint64_t now_ms);
/* Do what is due at now_ms (expiry, INTRO repeats); returns the time of the
 * next deadline, or UINT64_MAX if there is none. */
uint64_t server_tick(struct server *srv, uint64_t now_ms);

/* The UDP sockets: how many, and the address each is bound to. */
int server_nsockets(const struct server *srv);
const struct sockaddr *server_sockaddr(const struct server *srv, int sock);
/* The counters. */
const struct server_stats *server_get_stats(const struct server *srv);
/* Log the counters at level (LOG_LVL_*). */
void server_log_stats(const struct server *srv, int level);

#endif
