/* datapkt: protection of peer data packets in the four encryption modes
 * (docs/PROTOCOL.md section 5). Pure functions over caller-supplied buffers:
 * no sockets, no allocation, no logging per packet.
 *
 *   DATA  0xa0 2 | receiver_index(4) | protected part | tag(16)
 *
 * Modes 0-2 tag with Poly1305 under a one-time key per packet (ChaCha20-IETF
 * keystream of km for that counter); mode 3 is ChaCha20-Poly1305 under ke.
 * Each direction of a session has its own struct dp_dir, set up from that
 * direction's 32-byte key (k_i2t or k_t2i from the handshake). The sender's
 * holds the next counter, the receiver's the anti-replay window. */
#ifndef P2PD_DATAPKT_H
#define P2PD_DATAPKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/replay.h"

enum dp_mode {
	DP_MODE_NONE = 0,   /* authenticated, not encrypted */
	DP_MODE_RC4 = 1,    /* RC4, per-packet key, 3072 keystream bytes dropped */
	DP_MODE_XXTEA = 2,  /* XXTEA over counter, length, body; then a tag */
	DP_MODE_CHACHA = 3, /* ChaCha20-Poly1305 IETF */
};
#define DP_NMODES 4

#define DP_TYPE	   0xa0
#define DP_VERSION 2 /* 1 was the BLAKE2b-tagged format: dropped as "format" */
#define DP_HDR_LEN 6 /* type, version, receiver_index */
#define DP_CTR_LEN 8
#define DP_TAG_LEN 16
#define DP_KEY_LEN 32
/* The largest datagram sealed or opened (jumbo-frame sized; the tunnel's
 * default is 1200). Mode 2 works on one wide block of this size on the stack. */
#define DP_MAX_DATAGRAM 9216
/* The largest body in any mode: DP_MAX_DATAGRAM less the worst overhead. */
#define DP_MAX_BODY (DP_MAX_DATAGRAM - 35)

/* Why dp_open dropped a packet (index into dp_dir.drops). */
enum dp_drop {
	DP_DROP_NONE = 0,
	DP_DROP_FORMAT,	 /* wrong type, version or length for the mode */
	DP_DROP_TAG,	 /* did not authenticate: forged, corrupted or wrong key */
	DP_DROP_REPLAY,	 /* authentic, but its counter was seen or is too old */
	DP_DROP_CONTENT, /* mode 2: authentic, but the length or padding inside is wrong */
	DP_DROP_SPACE,	 /* the caller's body buffer is too small */
	DP_DROP_MAX
};

struct dp_dir {
	int mode;
	uint8_t km[DP_KEY_LEN];	     /* kdf(k_dir, "mac"): modes 0-2, tag keys only */
	uint8_t ke[DP_KEY_LEN];	     /* kdf(k_dir, "enc") */
	uint32_t xk[4];		     /* mode 2: ke[0..16] as four little-endian words */
	uint64_t next;		     /* sending: the next counter to use */
	struct replay win;	     /* receiving: counters already accepted */
	uint64_t drops[DP_DROP_MAX]; /* receiving: packets dropped, per reason */
	int last_drop;		     /* receiving: reason of the latest drop */
};

/* Set up one direction for mode (0..3) from k_dir: derive km and ke, start the
 * counter at 0 and the replay window empty. Returns 0, or -1 for an unknown
 * mode (d is then zeroed). */
int dp_init(struct dp_dir *d, int mode, const uint8_t k_dir[DP_KEY_LEN]);

/* Wipe every key and counter in d. */
void dp_wipe(struct dp_dir *d);

/* Worst-case bytes a datagram adds around a body in mode (30, or 35 for mode 2);
 * 0 for an unknown mode. */
size_t dp_overhead(int mode);

/* The exact datagram length for a body of len bytes in mode (0 if unknown mode). */
size_t dp_sealed_len(int mode, size_t len);

/* Where the body starts inside a datagram being sealed in mode (14, or 16 for
 * mode 2): a caller may build the body at out + dp_body_offset(mode) and pass
 * that as body to seal in place without a copy. */
size_t dp_body_offset(int mode);

/* Seal body (len bytes, at most DP_MAX_BODY) for the peer's receiver_index into
 * out, using and advancing tx's counter. body and out must not overlap, except
 * that body may be exactly out + dp_body_offset(mode). Returns the datagram
 * length, or -1 if it does not fit in cap, the body is too long, or the
 * counter space is used up (the counter is not advanced then). */
ssize_t dp_seal(struct dp_dir *tx, uint32_t receiver_index, const uint8_t *body, size_t len,
		uint8_t *out, size_t cap);

/* Check only that pkt looks like a data packet (type, version, minimum length)
 * and read its receiver_index, to find the session. Returns 0, or -1. */
int dp_peek_index(const uint8_t *pkt, size_t n, uint32_t *receiver_index);

/* Authenticate, decrypt and replay-check the datagram pkt (n bytes) into body
 * (cap bytes; must not overlap pkt). The replay window moves only for an
 * authentic, fresh packet. cap >= DP_MAX_BODY always suffices. Returns the
 * body length and sets *counter (may be NULL), or -1: the reason is in
 * rx->last_drop and counted in rx->drops[]. */
ssize_t dp_open(struct dp_dir *rx, const uint8_t *pkt, size_t n, uint8_t *body, size_t cap,
		uint64_t *counter);

/* A short name for a drop reason ("tag", "replay", ...), for logs and counters. */
const char *dp_drop_name(int reason);

#endif
