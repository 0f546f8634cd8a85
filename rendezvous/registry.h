/* registry: rendezvousd's state after a valid AUTH.
 *
 *  - logins: who is logged in (targets and initiators), under a random
 *    login_id, with the login key, the address the server sees and the
 *    client's own candidates. One login per target UID: a new login of the
 *    same UID replaces the old one. Logins silent for the presence timeout
 *    expire (oldest first: the list is kept in order of last activity).
 *  - sessions: introductions whose INTRO to the target is not acknowledged
 *    yet, with the INTRO bytes to repeat and when to repeat them.
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

struct registry_limits {
	size_t max_logins;   /* targets and initiators together */
	size_t max_sessions; /* introductions waiting for INTRO_ACK */
	size_t max_replay;   /* snonces remembered */
	uint64_t replay_ms;  /* how long an snonce is remembered */
};

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
};

struct reg_session {
	uint8_t session_id[RDV_SESSION_ID_LEN];
	uint8_t target_login[RDV_LOGIN_ID_LEN];
	uint8_t pkt[RDV_MAX_DGRAM]; /* the INTRO sent to the target */
	size_t len;
	unsigned sent;	  /* how many times it was sent */
	uint64_t next_ms; /* when to send it again */
	/* private */
	struct reg_session *hnext, *prev, *next;
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
/* Remove and free l (its key wiped). */
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

/* A pending introduction for session_id, sent to the target login once, due
 * again at next_ms. Returns NULL if the table is full, the id is already
 * pending or len is too large. */
struct reg_session *registry_session_add(struct registry *reg,
					 const uint8_t session_id[RDV_SESSION_ID_LEN],
					 const uint8_t target_login[RDV_LOGIN_ID_LEN],
					 const uint8_t *pkt, size_t len, uint64_t next_ms);
struct reg_session *registry_session_find(const struct registry *reg,
					  const uint8_t session_id[RDV_SESSION_ID_LEN]);
void registry_session_del(struct registry *reg, struct reg_session *s);
/* The pending session due first if it is due at now_ms, else NULL. */
struct reg_session *registry_session_due(const struct registry *reg, uint64_t now_ms);
/* Record one more sending and make s due again at next_ms (>= every other
 * session's due time: sessions are kept in due order). */
void registry_session_sent(struct registry *reg, struct reg_session *s, uint64_t next_ms);
/* When the first pending session is due, or UINT64_MAX. */
uint64_t registry_next_session(const struct registry *reg);
size_t registry_sessions(const struct registry *reg);

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
