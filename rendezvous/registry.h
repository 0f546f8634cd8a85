/* registry: rendezvousd's state after a valid AUTH.
 *
 *  - logins: who is logged in (targets and initiators), under a random
 *    login_id, with the login key, the address the server sees and the
 *    client's own candidates. One login per target UID: a new login of the
 *    same UID replaces the old one. Logins silent for the presence timeout
 *    expire (oldest first: the list is kept in order of last activity).
 *  - sessions: every introduction, with its two member logins (the target's
 *    and the initiator's), kept as long as both logins live. While the
 *    target has not acknowledged its INTRO the session is pending: it holds
 *    the INTRO bytes to repeat and when to repeat them. The relay state (the
 *    RELAY seqs seen from each member, a token bucket, byte counts) lives
 *    here too. Removing a login removes its sessions.
 *  - the replay cache: every accepted AUTH's snonce, for a fixed time.
 *
 * Every table is bounded. Times are milliseconds of a monotonic clock passed
 * in by the caller, so tests drive a fake clock. Nothing here does I/O. */
#ifndef P2PD_REGISTRY_H
#define P2PD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/rdvwire.h"
#include "common/replay.h"

struct registry_limits {
	size_t max_logins;   /* targets and initiators together */
	size_t max_sessions; /* introductions, pending or not */
	size_t max_replay;   /* snonces remembered */
	uint64_t replay_ms;  /* how long an snonce is remembered */
};

struct reg_session;

struct reg_login {
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	struct rdv_id id;
	uint8_t key[RDV_SECRET_LEN];  /* K_login */
	struct sockaddr_storage addr; /* where the server sees it */
	socklen_t addrlen;
	int sock;		       /* the server socket it talks through */
	struct sockaddr_storage local; /* the address it sent to (ss_family 0: unknown) */
	struct rdv_cands cands;	       /* its own candidates (AUTH, KEEPALIVE) */
	uint64_t seq;		       /* highest KEEPALIVE seq accepted */
	uint64_t last_ms;	       /* last authenticated message */
	/* private */
	struct reg_login *hnext_id, *hnext_uid, *prev, *next;
	struct reg_session *sessions; /* the sessions it is a member of */
};

/* A session's members, as indexes into reg_session.member. */
enum { REG_TARGET = 0, REG_INITIATOR = 1 };

/* A token bucket of bytes (the relay rate limits). A zero-filled bucket is
 * unused; it is full at its first refill. */
struct reg_bucket {
	uint64_t milli;	  /* tokens, in thousandths of a byte */
	uint64_t last_ms; /* time of the last refill */
	int primed;	  /* refilled at least once */
};

struct reg_session {
	uint8_t session_id[RDV_SESSION_ID_LEN];
	struct reg_login *member[2]; /* [REG_TARGET], [REG_INITIATOR]; both live */
	/* the INTRO sent to the target, repeated while pending */
	int pending;  /* 1 until INTRO_ACK or the last repeat */
	uint8_t *pkt; /* the INTRO (NULL once not pending) */
	size_t len;
	unsigned sent;	  /* how many times it was sent */
	uint64_t next_ms; /* when to send it again */
	/* relay */
	struct replay seen[2];	  /* RELAY seqs accepted from each member */
	struct reg_bucket bucket; /* relay_rate, both directions together */
	uint64_t relayed_pkts, relayed_bytes;
	uint64_t relay_dropped; /* RELAYs over a rate limit */
	/* private */
	struct reg_session *hnext, *prev, *next; /* hash chain; due list while pending */
	struct reg_session *mnext[2], *mprev[2]; /* each member's list of sessions */
};

struct registry;

/* A registry with these limits (each >= 1); NULL if out of memory. */
struct registry *registry_new(const struct registry_limits *lim);
/* Free everything, wiping the keys. */
void registry_free(struct registry *reg);

/* Log in: a new login with a fresh random login_id. For a target, the
 * login of the same UID, if any, is removed first (*replaced set to 1).
 * Returns the login, or NULL if the table is full. */
struct reg_login *registry_login_add(struct registry *reg, const struct rdv_id *id,
				     const uint8_t key[RDV_SECRET_LEN], const struct sockaddr *from,
				     socklen_t fromlen, int sock, const struct rdv_cands *cands,
				     uint64_t now_ms, int *replaced);
struct reg_login *registry_login_find(const struct registry *reg,
				      const uint8_t login_id[RDV_LOGIN_ID_LEN]);
/* The logged-in target with this UID, or NULL. */
struct reg_login *registry_target_find(const struct registry *reg, const p2p_uid *uid);
/* Mark l active at now_ms (it moves to the end of the expiry order). */
void registry_login_touch(struct registry *reg, struct reg_login *l, uint64_t now_ms);
/* Remove and free l (its key wiped), and every session it is a member of. */
void registry_login_del(struct registry *reg, struct reg_login *l);
/* Remove every login silent since before now_ms - timeout_ms, calling cb (if
 * not NULL) on each first. Returns how many were removed. */
size_t registry_expire(struct registry *reg, uint64_t now_ms, uint64_t timeout_ms,
		       void (*cb)(const struct reg_login *, void *), void *arg);
/* Remove every login for which keep(l, arg) returns 0 (after a reload: users
 * and devices that are gone). Returns how many were removed. */
size_t registry_prune(struct registry *reg, int (*keep)(const struct reg_login *, void *),
		      void *arg);
/* When the next login will expire, or UINT64_MAX if there is none. */
uint64_t registry_next_expiry(const struct registry *reg, uint64_t timeout_ms);
/* Logins in the table: all, and targets only. */
size_t registry_logins(const struct registry *reg);
size_t registry_targets(const struct registry *reg);

/* A new session session_id between a target login and an initiator login.
 * With pkt (the INTRO sent to the target once) it is pending, due again at
 * next_ms; with pkt NULL it is not. Returns NULL if the table is full, the id
 * is taken, a member has the wrong role, or len is 0 or above RDV_MAX_DGRAM. */
struct reg_session *registry_session_add(struct registry *reg,
					 const uint8_t session_id[RDV_SESSION_ID_LEN],
					 struct reg_login *target, struct reg_login *initiator,
					 const uint8_t *pkt, size_t len, uint64_t next_ms);
struct reg_session *registry_session_find(const struct registry *reg,
					  const uint8_t session_id[RDV_SESSION_ID_LEN]);
/* Remove and free s (the session-end callback is called first). */
void registry_session_del(struct registry *reg, struct reg_session *s);
/* Which member of s login l is: REG_TARGET, REG_INITIATOR, or -1 if none. */
int registry_session_member(const struct reg_session *s, const struct reg_login *l);
/* Stop repeating s's INTRO (acknowledged, or given up): s is no longer
 * pending and its INTRO is freed; the session stays. */
void registry_session_settle(struct registry *reg, struct reg_session *s);
/* The pending session due first if it is due at now_ms, else NULL. */
struct reg_session *registry_session_due(const struct registry *reg, uint64_t now_ms);
/* Record one more sending of a pending s and make it due again at next_ms
 * (>= every other pending session's due time: they are kept in due order). */
void registry_session_sent(struct registry *reg, struct reg_session *s, uint64_t next_ms);
/* When the first pending session is due, or UINT64_MAX. */
uint64_t registry_next_session(const struct registry *reg);
/* Sessions in the table: all, and pending only. */
size_t registry_sessions(const struct registry *reg);
size_t registry_pending(const struct registry *reg);
/* Call cb(s, arg) whenever a session is removed (registry_session_del, or a
 * member login removed by any means), except in registry_free. NULL: none. */
void registry_on_session_end(struct registry *reg, void (*cb)(const struct reg_session *, void *),
			     void *arg);

/* Token buckets: refill b for the time since its last refill at rate bytes
 * per second, holding at most burst bytes (an unused bucket starts full; a
 * clock that goes back adds nothing). */
void registry_bucket_refill(struct reg_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms);
/* 1 if b holds at least n bytes, else 0. */
int registry_bucket_has(const struct reg_bucket *b, uint64_t n);
/* Take n bytes (check with registry_bucket_has first; never goes below 0). */
void registry_bucket_take(struct reg_bucket *b, uint64_t n);

enum { REPLAY_NEW = 0, REPLAY_SEEN = -1, REPLAY_FULL = -2 };
/* Remember snonce at now_ms for replay_ms. Returns REPLAY_NEW (recorded),
 * REPLAY_SEEN (already there: a replay) or REPLAY_FULL (no room: refuse the
 * AUTH, since forgetting an snonce early would let it be replayed). */
int registry_replay_add(struct registry *reg, const uint8_t snonce[RDV_NONCE_LEN], uint64_t now_ms);
/* When the oldest snonce is forgotten, or UINT64_MAX. */
uint64_t registry_next_replay(const struct registry *reg);
/* Forget the snonces whose time is up (registry_replay_add does this too). */
void registry_replay_expire(struct registry *reg, uint64_t now_ms);

#endif
