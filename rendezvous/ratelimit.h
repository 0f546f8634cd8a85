/* ratelimit: token buckets per source IP for rendezvousd.
 *
 * Every unauthenticated datagram that could get a reply (HELLO, AUTH, STUN,
 * a KEEPALIVE or INTRO_ACK for an unknown login) costs one token of its
 * source's bucket. A bucket holds at most `burst` tokens and refills at `rate`
 * tokens per second. IPv4 sources have a bucket per address, IPv6 sources one
 * per /64 (one host can hold a whole /64). The table is bounded: when it is
 * full, the least recently used bucket is evicted. Time is passed in by the
 * caller (milliseconds of a monotonic clock), so tests use a fake clock. */
#ifndef P2PD_RATELIMIT_H
#define P2PD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

enum rl_verdict {
	RL_PASS = 0,	   /* a token was taken: go on */
	RL_DROP_FIRST = 1, /* no token, first refusal since the last pass: drop (the
			      server may send one ERROR 5) */
	RL_DROP = 2,	   /* no token: drop silently */
};

/* A table of at most max_entries buckets (>= 1), rate tokens per second
 * (>= 1) and burst tokens per bucket (>= 1). Returns NULL if out of memory or
 * an argument is 0. */
struct ratelimit *ratelimit_new(uint32_t rate, uint32_t burst, size_t max_entries);
void ratelimit_free(struct ratelimit *rl);

/* Change rate and burst (on reload); existing buckets keep their tokens,
 * capped to the new burst. */
void ratelimit_set(struct ratelimit *rl, uint32_t rate, uint32_t burst);

/* Take one token for the source address sa (AF_INET or AF_INET6; any other
 * family is always refused with RL_DROP). Returns an enum rl_verdict. */
int ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms);

/* Number of buckets in the table, and how many were evicted to make room. */
size_t ratelimit_size(const struct ratelimit *rl);
uint64_t ratelimit_evictions(const struct ratelimit *rl);

#endif
