/* rdvclient: connectd's side of the rendezvous protocol (docs/PROTOCOL.md
 * section 3), as a state machine with no sockets and no clock of its own.
 *
 * A target logs in and stays logged in (KEEPALIVE every keepalive seconds,
 * logging in again when the server forgets it or stops answering). An
 * initiator logs in asking for one UID and gets an INTRO or an ERROR; once
 * introduced it keeps its login alive the same way (the server relays only
 * for sessions of living logins, section 9). A later login of an introduced
 * initiator (ERROR 7, missed KA_ACKs) never fails the worker and never makes
 * a new tunnel: its INTRO goes to ops->relogin, not ops->intro.
 * The caller feeds datagrams from the server to rdvc_input() and calls
 * rdvc_on_timer() when rdvc_next_timeout() is reached. */
#ifndef P2PD_RDVCLIENT_H
#define P2PD_RDVCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rdvwire.h"

struct rdvc_ops {
	/* Send one datagram to the server now. */
	void (*send)(void *ctx, const uint8_t *p, size_t n);
	/* Target: logged in (again); observed = our address as the server sees it. */
	void (*registered)(void *ctx, const struct rdv_addr *observed);
	/* An introduction (S inside; the callee copies what it needs). Repeats of
	 * the same session_id are filtered out here. */
	void (*intro)(void *ctx, const struct rdv_intro *in);
	/* A refusal (code 1..6 of rdv_errcode) or, with code 0, no answer at all
	 * (msg says what). Targets only see code 0 never: they keep trying. */
	void (*failed)(void *ctx, int code, const char *msg);
	/* Initiator, optional (NULL: ignored): the INTRO that answered a new
	 * login after the first introduction. It names a new relay session
	 * (login_id, session_id) for the same peer; the tunnel keeps its own
	 * keys, so the callee uses at most the ids (S is for a handshake that
	 * is not needed). */
	void (*relogin)(void *ctx, const struct rdv_intro *in);
};

#define RDVC_SEEN_SESSIONS 16

enum rdvc_state {
	RDVC_IDLE,
	RDVC_HELLO,	/* HELLO sent, waiting for CHALLENGE */
	RDVC_AUTH,	/* AUTH sent, waiting for AUTH_OK / INTRO / ERROR */
	RDVC_LOGGED_IN, /* target: registered; initiator: introduced */
	RDVC_FAILED,
};

struct rdvc {
	const struct rdvc_ops *ops;
	void *ctx;
	struct rdv_id id;
	uint8_t kclient[RDV_SECRET_LEN];
	size_t klen;
	p2p_uid want; /* initiator: the target */
	uint8_t mode; /* initiator: encryption mode */
	struct rdv_cands cands;

	enum rdvc_state state;
	uint8_t cnonce[RDV_NONCE_LEN];
	struct rdv_challenge ch;
	uint8_t klogin[RDV_SECRET_LEN];
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	int have_login;
	uint8_t pkt[RDV_MAX_DGRAM];
	size_t pktlen;
	uint64_t next_ms;   /* next retransmission or keep-alive */
	unsigned tries;	    /* sends of the current request */
	unsigned max_tries; /* initiator: give up after this many (0 = never) */
	uint64_t ka_seq;
	uint64_t last_heard_ms;
	uint16_t keepalive_s;
	uint16_t keepalive_cap; /* our own keepalive setting: never slower than this */
	struct rdv_addr observed;
	/* Session ids of recent INTROs, so a repeat is acknowledged but not
	 * handed up twice even when other introductions came in between. */
	uint8_t seen[RDVC_SEEN_SESSIONS][RDV_SESSION_ID_LEN];
	unsigned nseen, seen_next;
	int auth_retried; /* an ERROR 2 after a server restart: one fresh start */
	int introduced;	  /* initiator: the first INTRO was handed up */
};

/* A target identified by uid with its device key (K_dev). */
void rdvc_init_target(struct rdvc *c, const struct rdvc_ops *ops, void *ctx, const p2p_uid *uid,
		      const uint8_t kdev[RDV_SECRET_LEN]);
/* An initiator: user name, auth_hash, the UID asked for and the mode. Returns
 * -1 with *why if the user name cannot go on the wire. */
int rdvc_init_initiator(struct rdvc *c, const struct rdvc_ops *ops, void *ctx, const char *user,
			const uint8_t auth_hash[20], const p2p_uid *want, int mode,
			const char **why);
/* The local candidates announced in AUTH and KEEPALIVE. */
void rdvc_set_cands(struct rdvc *c, const struct rdv_cands *cands);
/* Send keep-alives at least every cap seconds, even if the server allows
 * longer (the provisioning file's keepalive; holds NAT mappings open). */
void rdvc_set_keepalive_cap(struct rdvc *c, unsigned cap);
/* (Re)start logging in now. */
void rdvc_start(struct rdvc *c, uint64_t now);
/* A datagram from the server. */
void rdvc_input(struct rdvc *c, const uint8_t *p, size_t n, uint64_t now);
/* Absolute time of the next action, or UINT64_MAX. */
uint64_t rdvc_next_timeout(const struct rdvc *c);
void rdvc_on_timer(struct rdvc *c, uint64_t now);
/* 1 if logged in (a target registered, an initiator introduced) with a
 * login_id and K_login that RELAY and RELAYED can use; 0 otherwise. */
int rdvc_logged_in(const struct rdvc *c);
/* The current login_id into id; returns 0, or -1 if not logged in. */
int rdvc_login_id(const struct rdvc *c, uint8_t id[RDV_LOGIN_ID_LEN]);
/* A RELAY (section 9) for session sid with this seq around the peer datagram
 * inner, authenticated with the current K_login, into out. Returns its
 * length, or -1 if not logged in, seq is 0, inner is not a peer datagram
 * (rdv_inner_check) or it does not fit cap. */
int rdvc_build_relay(const struct rdvc *c, uint8_t *out, size_t cap,
		     const uint8_t sid[RDV_SESSION_ID_LEN], uint64_t seq, const uint8_t *inner,
		     size_t n);
/* Open a RELAYED from the server: it must authenticate with the current
 * K_login and name the current login_id. Returns 0 with m filled (m->inner
 * points into p; the caller still checks m->session_id), or -1 with *why. */
int rdvc_open_relayed(const struct rdvc *c, const uint8_t *p, size_t n, struct rdv_relayed *m,
		      const char **why);
/* Wipe keys. */
void rdvc_wipe(struct rdvc *c);

#endif
