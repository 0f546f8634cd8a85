/* registry: logins, sessions (introductions) and the AUTH replay cache of
 * rendezvousd. Hash tables are keyed with SipHash (libsodium's shorthash)
 * under a random key, so that clients cannot aim at one chain. */
#include "rendezvous/registry.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"

#define NONE UINT32_MAX

struct replay_entry {
	uint8_t snonce[RDV_NONCE_LEN];
	uint64_t expire_ms;
	uint32_t hnext;
};

struct registry {
	struct registry_limits lim;
	uint8_t hkey[crypto_shorthash_KEYBYTES];

	/* logins: by login_id, by target UID, in order of last activity */
	struct reg_login **by_id, **by_uid;
	size_t nlbuckets, nlogins, ntargets;
	struct reg_login *lhead, *ltail;

	/* sessions: by session_id; the pending ones in due order */
	struct reg_session **by_sid;
	size_t nsbuckets, nsessions, npending;
	struct reg_session *shead, *stail;
	void (*end_cb)(const struct reg_session *, void *);
	void *end_arg;

	/* replay cache: a ring in insertion (= expiry) order, chained hash */
	struct replay_entry *ring;
	uint32_t *rbuckets;
	uint32_t nrbuckets, rfirst, rcount;
};

static size_t
pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static size_t
slot_of(const struct registry *reg, const void *key, size_t keylen, size_t nbuckets)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, key, keylen, reg->hkey);
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (size_t)(v & (nbuckets - 1));
}

struct registry *
registry_new(const struct registry_limits *lim)
{
	struct registry *reg;

	if (lim->max_logins == 0 || lim->max_sessions == 0 || lim->max_replay == 0 ||
	    lim->max_replay >= NONE / 2)
		return NULL;
	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return NULL;
	reg->lim = *lim;
	randombytes_buf(reg->hkey, sizeof(reg->hkey));
	reg->nlbuckets = pow2_at_least(lim->max_logins);
	reg->nsbuckets = pow2_at_least(lim->max_sessions);
	reg->nrbuckets = (uint32_t)pow2_at_least(lim->max_replay);
	reg->by_id = calloc(reg->nlbuckets, sizeof(*reg->by_id));
	reg->by_uid = calloc(reg->nlbuckets, sizeof(*reg->by_uid));
	reg->by_sid = calloc(reg->nsbuckets, sizeof(*reg->by_sid));
	reg->ring = calloc(lim->max_replay, sizeof(*reg->ring));
	reg->rbuckets = malloc(reg->nrbuckets * sizeof(*reg->rbuckets));
	if (reg->by_id == NULL || reg->by_uid == NULL || reg->by_sid == NULL || reg->ring == NULL ||
	    reg->rbuckets == NULL) {
		registry_free(reg);
		return NULL;
	}
	for (uint32_t i = 0; i < reg->nrbuckets; i++)
		reg->rbuckets[i] = NONE;
	return reg;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	reg->end_cb = NULL; /* no callbacks while tearing down */
	while (reg->lhead != NULL)
		registry_login_del(reg, reg->lhead); /* and with them every session */
	free(reg->by_id);
	free(reg->by_uid);
	free(reg->by_sid);
	free(reg->ring);
	free(reg->rbuckets);
	wipe(reg->hkey, sizeof(reg->hkey));
	free(reg);
}

/* ---- logins ---- */

static struct reg_login **
id_chain(const struct registry *reg, const uint8_t login_id[RDV_LOGIN_ID_LEN])
{
	return &reg->by_id[slot_of(reg, login_id, RDV_LOGIN_ID_LEN, reg->nlbuckets)];
}

static struct reg_login **
uid_chain(const struct registry *reg, const uint8_t uid[UID_LEN])
{
	return &reg->by_uid[slot_of(reg, uid, UID_LEN, reg->nlbuckets)];
}

static void
list_append(struct registry *reg, struct reg_login *l)
{
	l->next = NULL;
	l->prev = reg->ltail;
	if (reg->ltail != NULL)
		reg->ltail->next = l;
	else
		reg->lhead = l;
	reg->ltail = l;
}

static void
list_remove(struct registry *reg, struct reg_login *l)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		reg->lhead = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	else
		reg->ltail = l->prev;
	l->prev = l->next = NULL;
}

struct reg_login *
registry_login_find(const struct registry *reg, const uint8_t login_id[RDV_LOGIN_ID_LEN])
{
	struct reg_login *l;

	for (l = *id_chain(reg, login_id); l != NULL; l = l->hnext_id)
		if (memcmp(l->login_id, login_id, RDV_LOGIN_ID_LEN) == 0)
			return l;
	return NULL;
}

struct reg_login *
registry_target_find(const struct registry *reg, const p2p_uid *uid)
{
	struct reg_login *l;

	for (l = *uid_chain(reg, uid->b); l != NULL; l = l->hnext_uid)
		if (memcmp(l->id.b, uid->b, UID_LEN) == 0)
			return l;
	return NULL;
}

struct reg_login *
registry_login_add(struct registry *reg, const struct rdv_id *id, const uint8_t key[RDV_SECRET_LEN],
		   const struct sockaddr *from, socklen_t fromlen, int sock,
		   const struct rdv_cands *cands, uint64_t now_ms, int *replaced)
{
	struct reg_login *l, **chain;

	if (replaced != NULL)
		*replaced = 0;
	if (fromlen > sizeof(l->addr))
		return NULL;
	if (id->role == RDV_ROLE_TARGET && id->len == UID_LEN) {
		p2p_uid u;
		memcpy(u.b, id->b, UID_LEN);
		if ((l = registry_target_find(reg, &u)) != NULL) {
			registry_login_del(reg, l);
			if (replaced != NULL)
				*replaced = 1;
		}
	}
	if (reg->nlogins >= reg->lim.max_logins)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	do {
		randombytes_buf(l->login_id, sizeof(l->login_id));
	} while (registry_login_find(reg, l->login_id) != NULL);
	l->id = *id;
	memcpy(l->key, key, RDV_SECRET_LEN);
	memcpy(&l->addr, from, fromlen);
	l->addrlen = fromlen;
	l->sock = sock;
	if (cands != NULL)
		l->cands = *cands;
	l->last_ms = now_ms;

	chain = id_chain(reg, l->login_id);
	l->hnext_id = *chain;
	*chain = l;
	if (id->role == RDV_ROLE_TARGET) {
		chain = uid_chain(reg, id->b);
		l->hnext_uid = *chain;
		*chain = l;
		reg->ntargets++;
	}
	list_append(reg, l);
	reg->nlogins++;
	return l;
}

void
registry_login_touch(struct registry *reg, struct reg_login *l, uint64_t now_ms)
{
	if (now_ms > l->last_ms)
		l->last_ms = now_ms;
	list_remove(reg, l);
	list_append(reg, l);
}

void
registry_login_del(struct registry *reg, struct reg_login *l)
{
	struct reg_login **pp;

	while (l->sessions != NULL)
		registry_session_del(reg, l->sessions);
	for (pp = id_chain(reg, l->login_id); *pp != NULL; pp = &(*pp)->hnext_id) {
		if (*pp == l) {
			*pp = l->hnext_id;
			break;
		}
	}
	if (l->id.role == RDV_ROLE_TARGET) {
		for (pp = uid_chain(reg, l->id.b); *pp != NULL; pp = &(*pp)->hnext_uid) {
			if (*pp == l) {
				*pp = l->hnext_uid;
				break;
			}
		}
		reg->ntargets--;
	}
	list_remove(reg, l);
	reg->nlogins--;
	wipe(l, sizeof(*l));
	free(l);
}

size_t
registry_expire(struct registry *reg, uint64_t now_ms, uint64_t timeout_ms,
		void (*cb)(const struct reg_login *, void *), void *arg)
{
	size_t n = 0;

	while (reg->lhead != NULL && reg->lhead->last_ms + timeout_ms <= now_ms) {
		if (cb != NULL)
			cb(reg->lhead, arg);
		registry_login_del(reg, reg->lhead);
		n++;
	}
	return n;
}

size_t
registry_prune(struct registry *reg, int (*keep)(const struct reg_login *, void *), void *arg)
{
	struct reg_login *l, *next;
	size_t n = 0;

	for (l = reg->lhead; l != NULL; l = next) {
		next = l->next;
		if (!keep(l, arg)) {
			registry_login_del(reg, l);
			n++;
		}
	}
	return n;
}

uint64_t
registry_next_expiry(const struct registry *reg, uint64_t timeout_ms)
{
	return reg->lhead != NULL ? reg->lhead->last_ms + timeout_ms : UINT64_MAX;
}

size_t
registry_logins(const struct registry *reg)
{
	return reg->nlogins;
}

size_t
registry_targets(const struct registry *reg)
{
	return reg->ntargets;
}

/* ---- sessions ---- */

static struct reg_session **
sid_chain(const struct registry *reg, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	return &reg->by_sid[slot_of(reg, sid, RDV_SESSION_ID_LEN, reg->nsbuckets)];
}

static void
slist_append(struct registry *reg, struct reg_session *s)
{
	s->next = NULL;
	s->prev = reg->stail;
	if (reg->stail != NULL)
		reg->stail->next = s;
	else
		reg->shead = s;
	reg->stail = s;
}

static void
slist_remove(struct registry *reg, struct reg_session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		reg->shead = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		reg->stail = s->prev;
	s->prev = s->next = NULL;
}

struct reg_session *
registry_session_find(const struct registry *reg, const uint8_t session_id[RDV_SESSION_ID_LEN])
{
	struct reg_session *s;

	for (s = *sid_chain(reg, session_id); s != NULL; s = s->hnext)
		if (memcmp(s->session_id, session_id, RDV_SESSION_ID_LEN) == 0)
			return s;
	return NULL;
}

/* Link s into the session list of its member k. */
static void
member_link(struct reg_session *s, int k)
{
	struct reg_login *l = s->member[k];
	struct reg_session *head = l->sessions;

	s->mprev[k] = NULL;
	s->mnext[k] = head;
	if (head != NULL)
		head->mprev[registry_session_member(head, l)] = s;
	l->sessions = s;
}

static void
member_unlink(struct reg_session *s, int k)
{
	struct reg_login *l = s->member[k];

	if (s->mprev[k] != NULL)
		s->mprev[k]->mnext[registry_session_member(s->mprev[k], l)] = s->mnext[k];
	else
		l->sessions = s->mnext[k];
	if (s->mnext[k] != NULL)
		s->mnext[k]->mprev[registry_session_member(s->mnext[k], l)] = s->mprev[k];
	s->mprev[k] = s->mnext[k] = NULL;
}

int
registry_session_member(const struct reg_session *s, const struct reg_login *l)
{
	if (s->member[REG_TARGET] == l)
		return REG_TARGET;
	if (s->member[REG_INITIATOR] == l)
		return REG_INITIATOR;
	return -1;
}

struct reg_session *
registry_session_add(struct registry *reg, const uint8_t session_id[RDV_SESSION_ID_LEN],
		     struct reg_login *target, struct reg_login *initiator, const uint8_t *pkt,
		     size_t len, uint64_t next_ms)
{
	struct reg_session *s, **chain;

	if (reg->nsessions >= reg->lim.max_sessions || target == NULL || initiator == NULL ||
	    target->id.role != RDV_ROLE_TARGET || initiator->id.role != RDV_ROLE_INITIATOR ||
	    (pkt != NULL && (len == 0 || len > RDV_MAX_DGRAM)) ||
	    registry_session_find(reg, session_id) != NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (pkt != NULL) {
		if ((s->pkt = malloc(len)) == NULL) {
			free(s);
			return NULL;
		}
		memcpy(s->pkt, pkt, len);
		s->len = len;
		s->sent = 1;
		s->next_ms = next_ms;
		s->pending = 1;
		slist_append(reg, s);
		reg->npending++;
	}
	memcpy(s->session_id, session_id, RDV_SESSION_ID_LEN);
	s->member[REG_TARGET] = target;
	s->member[REG_INITIATOR] = initiator;
	replay_init(&s->seen[REG_TARGET]);
	replay_init(&s->seen[REG_INITIATOR]);
	member_link(s, REG_TARGET);
	member_link(s, REG_INITIATOR);
	chain = sid_chain(reg, session_id);
	s->hnext = *chain;
	*chain = s;
	reg->nsessions++;
	return s;
}

void
registry_session_settle(struct registry *reg, struct reg_session *s)
{
	if (!s->pending)
		return;
	slist_remove(reg, s);
	reg->npending--;
	s->pending = 0;
	free(s->pkt);
	s->pkt = NULL;
	s->len = 0;
}

void
registry_session_del(struct registry *reg, struct reg_session *s)
{
	struct reg_session **pp;

	if (reg->end_cb != NULL)
		reg->end_cb(s, reg->end_arg);
	for (pp = sid_chain(reg, s->session_id); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	registry_session_settle(reg, s);
	member_unlink(s, REG_TARGET);
	member_unlink(s, REG_INITIATOR);
	reg->nsessions--;
	free(s);
}

struct reg_session *
registry_session_due(const struct registry *reg, uint64_t now_ms)
{
	if (reg->shead != NULL && reg->shead->next_ms <= now_ms)
		return reg->shead;
	return NULL;
}

void
registry_session_sent(struct registry *reg, struct reg_session *s, uint64_t next_ms)
{
	if (!s->pending)
		return;
	s->sent++;
	s->next_ms = next_ms;
	slist_remove(reg, s);
	slist_append(reg, s);
}

uint64_t
registry_next_session(const struct registry *reg)
{
	return reg->shead != NULL ? reg->shead->next_ms : UINT64_MAX;
}

size_t
registry_sessions(const struct registry *reg)
{
	return reg->nsessions;
}

size_t
registry_pending(const struct registry *reg)
{
	return reg->npending;
}

void
registry_on_session_end(struct registry *reg, void (*cb)(const struct reg_session *, void *),
			void *arg)
{
	reg->end_cb = cb;
	reg->end_arg = arg;
}

/* ---- token buckets ---- */

#define MILLI 1000u

void
registry_bucket_refill(struct reg_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ms)
{
	uint64_t cap, elapsed, add;

	cap = burst > UINT64_MAX / MILLI ? UINT64_MAX : burst * MILLI;
	if (!b->primed) {
		b->milli = cap;
		b->last_ms = now_ms;
		b->primed = 1;
		return;
	}
	if (now_ms > b->last_ms) {
		elapsed = now_ms - b->last_ms;
		/* bytes per second times milliseconds = thousandths of a byte;
		 * saturating, so that no rate or idle time overflows */
		add = rate > UINT64_MAX / elapsed ? UINT64_MAX : rate * elapsed;
		b->milli = add > UINT64_MAX - b->milli ? UINT64_MAX : b->milli + add;
		b->last_ms = now_ms;
	}
	if (b->milli > cap)
		b->milli = cap;
}

int
registry_bucket_has(const struct reg_bucket *b, uint64_t n)
{
	return n <= b->milli / MILLI;
}

void
registry_bucket_take(struct reg_bucket *b, uint64_t n)
{
	uint64_t m = n > UINT64_MAX / MILLI ? UINT64_MAX : n * MILLI;

	b->milli = m > b->milli ? 0 : b->milli - m;
}

/* ---- replay cache ---- */

static uint32_t
rslot(const struct registry *reg, const uint8_t snonce[RDV_NONCE_LEN])
{
	return (uint32_t)slot_of(reg, snonce, RDV_NONCE_LEN, reg->nrbuckets);
}

void
registry_replay_expire(struct registry *reg, uint64_t now_ms)
{
	while (reg->rcount > 0 && reg->ring[reg->rfirst].expire_ms <= now_ms) {
		uint32_t i = reg->rfirst;
		uint32_t *pp = &reg->rbuckets[rslot(reg, reg->ring[i].snonce)];

		while (*pp != NONE && *pp != i)
			pp = &reg->ring[*pp].hnext;
		if (*pp == i)
			*pp = reg->ring[i].hnext;
		reg->rfirst = (uint32_t)((reg->rfirst + 1) % reg->lim.max_replay);
		reg->rcount--;
	}
}

int
registry_replay_add(struct registry *reg, const uint8_t snonce[RDV_NONCE_LEN], uint64_t now_ms)
{
	uint32_t slot, i;

	registry_replay_expire(reg, now_ms);
	slot = rslot(reg, snonce);
	for (i = reg->rbuckets[slot]; i != NONE; i = reg->ring[i].hnext)
		if (memcmp(reg->ring[i].snonce, snonce, RDV_NONCE_LEN) == 0)
			return REPLAY_SEEN;
	if (reg->rcount >= reg->lim.max_replay)
		return REPLAY_FULL;
	i = (uint32_t)((reg->rfirst + reg->rcount) % reg->lim.max_replay);
	memcpy(reg->ring[i].snonce, snonce, RDV_NONCE_LEN);
	reg->ring[i].expire_ms = now_ms + reg->lim.replay_ms;
	reg->ring[i].hnext = reg->rbuckets[slot];
	reg->rbuckets[slot] = i;
	reg->rcount++;
	return REPLAY_NEW;
}

uint64_t
registry_next_replay(const struct registry *reg)
{
	return reg->rcount > 0 ? reg->ring[reg->rfirst].expire_ms : UINT64_MAX;
}
