/* ratelimit: token buckets per source IP (the registry's struct reg_bucket,
 * one token per datagram), in a bounded hash table with least-recently-used
 * eviction. */
#include "rendezvous/ratelimit.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/registry.h"

#define KEY_LEN 9 /* family byte, then 4 (IPv4) or 8 (IPv6 /64) bytes */
#define NONE	UINT32_MAX

struct rl_entry {
	uint8_t key[KEY_LEN];
	uint8_t refused; /* refused since the last pass */
	struct reg_bucket b;
	uint32_t hnext;	     /* next in the hash chain */
	uint32_t prev, next; /* LRU list: head = least recently used */
};

struct ratelimit {
	uint64_t rate, burst; /* tokens per second; bucket size in tokens */
	struct rl_entry *e;
	uint32_t *buckets;
	uint32_t nbuckets, max, used;
	uint32_t head, tail;
	uint64_t evictions;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

struct ratelimit *
ratelimit_new(uint32_t rate, uint32_t burst, size_t max_entries)
{
	struct ratelimit *rl;

	if (rate == 0 || burst == 0 || max_entries == 0 || max_entries >= NONE / 2)
		return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	rl->max = (uint32_t)max_entries;
	rl->nbuckets = 1;
	while (rl->nbuckets < rl->max)
		rl->nbuckets <<= 1;
	rl->e = calloc(rl->max, sizeof(*rl->e));
	rl->buckets = malloc(rl->nbuckets * sizeof(*rl->buckets));
	if (rl->e == NULL || rl->buckets == NULL) {
		ratelimit_free(rl);
		return NULL;
	}
	for (uint32_t i = 0; i < rl->nbuckets; i++)
		rl->buckets[i] = NONE;
	rl->head = rl->tail = NONE;
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	ratelimit_set(rl, rate, burst);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl->buckets);
	free(rl);
}

void
ratelimit_set(struct ratelimit *rl, uint32_t rate, uint32_t burst)
{
	rl->rate = rate > 0 ? rate : 1;
	rl->burst = burst > 0 ? burst : 1; /* buckets shrink at their next refill */
}

/* The bucket key of a source: IPv4 address, or the /64 of an IPv6 one. */
static int
make_key(const struct sockaddr *sa, uint8_t key[KEY_LEN])
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(key, 0, KEY_LEN);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			key[0] = 4;
			memcpy(key + 1, b + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, b, 8);
		}
		return 0;
	}
	return -1;
}

static uint32_t
hash_slot(const struct ratelimit *rl, const uint8_t key[KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, key, KEY_LEN, rl->hkey);
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return (uint32_t)(v & (rl->nbuckets - 1));
}

static void
lru_unlink(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *x = &rl->e[i];

	if (x->prev != NONE)
		rl->e[x->prev].next = x->next;
	else
		rl->head = x->next;
	if (x->next != NONE)
		rl->e[x->next].prev = x->prev;
	else
		rl->tail = x->prev;
	x->prev = x->next = NONE;
}

static void
lru_push_tail(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *x = &rl->e[i];

	x->prev = rl->tail;
	x->next = NONE;
	if (rl->tail != NONE)
		rl->e[rl->tail].next = i;
	else
		rl->head = i;
	rl->tail = i;
}

static void
hash_unlink(struct ratelimit *rl, uint32_t i)
{
	uint32_t *pp = &rl->buckets[hash_slot(rl, rl->e[i].key)];

	while (*pp != NONE && *pp != i)
		pp = &rl->e[*pp].hnext;
	if (*pp == i)
		*pp = rl->e[i].hnext;
}

static uint32_t
lookup(const struct ratelimit *rl, const uint8_t key[KEY_LEN], uint32_t slot)
{
	uint32_t i;

	for (i = rl->buckets[slot]; i != NONE; i = rl->e[i].hnext)
		if (memcmp(rl->e[i].key, key, KEY_LEN) == 0)
			return i;
	return NONE;
}

/* A fresh entry for key, with a full bucket; evicts the least recently used
 * entry when the table is full. */
static uint32_t
insert(struct ratelimit *rl, const uint8_t key[KEY_LEN], uint32_t slot)
{
	uint32_t i;

	if (rl->used < rl->max) {
		i = rl->used++;
	} else {
		i = rl->head;
		lru_unlink(rl, i);
		hash_unlink(rl, i);
		rl->evictions++;
	}
	memset(&rl->e[i], 0, sizeof(rl->e[i]));
	memcpy(rl->e[i].key, key, KEY_LEN);
	rl->e[i].hnext = rl->buckets[slot];
	rl->buckets[slot] = i;
	lru_push_tail(rl, i);
	return i;
}

int
ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms)
{
	uint8_t key[KEY_LEN];
	uint32_t slot, i;
	struct rl_entry *x;

	if (make_key(sa, key) == -1)
		return RL_DROP;
	slot = hash_slot(rl, key);
	if ((i = lookup(rl, key, slot)) == NONE) {
		i = insert(rl, key, slot); /* its zeroed bucket fills at the refill below */
	} else {
		lru_unlink(rl, i);
		lru_push_tail(rl, i);
	}
	x = &rl->e[i];
	registry_bucket_refill(&x->b, rl->rate, rl->burst, now_ms);
	if (registry_bucket_has(&x->b, 1)) {
		registry_bucket_take(&x->b, 1);
		x->refused = 0;
		return RL_PASS;
	}
	if (!x->refused) {
		x->refused = 1;
		return RL_DROP_FIRST;
	}
	return RL_DROP;
}

size_t
ratelimit_size(const struct ratelimit *rl)
{
	return rl->used;
}

uint64_t
ratelimit_evictions(const struct ratelimit *rl)
{
	return rl->evictions;
}
