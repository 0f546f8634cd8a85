/* mux: reliable, ordered, flow-controlled byte streams over an unreliable
 * datagram channel (the tunnel's stream multiplexer).
 *
 * The mux is pure logic: it owns no socket and no clock. The caller (the
 * session layer) hands it authenticated packet bodies with mux_input(), seals
 * and sends the bodies it produces through the send callback, and drives its
 * timers with mux_next_timeout()/mux_on_timer(). Every call takes the current
 * time in milliseconds from a monotonic clock; a time earlier than one seen
 * before is treated as the latest time seen.
 *
 * Streams are opened by either side: the initiator uses odd ids (1, 3, ...),
 * the target even ids (2, 4, ...). Ids are 32-bit and never reused within the
 * lifetime of a mux. Wire format, state machine and timers are described in
 * docs/protocol-streams.md.
 *
 * Callbacks and re-entrancy:
 *  - send() may be called from any mux function except mux_new/mux_free and
 *    the read-only queries. It must not call back into the mux.
 *  - stream_opened(), readable(), writable() and closed() are called only from
 *    mux_input(), mux_on_timer() and mux_flush(), after the whole input body
 *    has been processed, never from mux_open/write/read/shutdown/reset. Inside
 *    them the caller may call mux_open, mux_write, mux_writable, mux_read,
 *    mux_eof, mux_shutdown, mux_reset, mux_get_stats and mux_stream_count, for
 *    this or any other stream; it must not call mux_input, mux_on_timer,
 *    mux_flush or mux_free.
 *  - closed() is called exactly once for every stream the caller knows about
 *    (opened with mux_open or announced with stream_opened), except streams the
 *    caller ends itself with mux_reset() and streams still open at mux_free().
 *    After closed() or mux_reset() the id is invalid for the caller.
 */
#ifndef P2PD_MUX_H
#define P2PD_MUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MUX_DEPTH_DEFAULT   12 /* data packets in flight per stream */
#define MUX_DEPTH_MAX	    256
#define MUX_STREAMS_DEFAULT 1024  /* open streams per mux */
#define MUX_BODY_MIN	    128	  /* smallest max_body accepted */
#define MUX_BODY_MAX	    65535 /* largest max_body accepted */
#define MUX_DATA_HDR	    12	  /* bytes of a DATA frame before its payload */
#define MUX_ACK_HDR	    14	  /* bytes of an ACK frame without SACK ranges */
#define MUX_INIT_WINDOW	    4	  /* packets a sender may send before the first ACK */
#define MUX_RTO_INIT_MS	    1000  /* RFC 6298 (2.1) */
#define MUX_RTO_MIN_MS	    200	  /* RFC 6298 says 1 s; see docs/protocol-streams.md */
#define MUX_RTO_MAX_MS	    60000 /* RFC 6298 (2.5) */
#define MUX_ACK_DELAY_MS    20	  /* longest an ACK is held back */
#define MUX_PERSIST_MAX_MS  5000  /* longest gap between zero-window probes */
#define MUX_LINGER_MS	    60000 /* closed streams answer retransmissions this long */
#define MUX_MAX_TIMEOUTS    10	  /* consecutive RTO expiries before a stream is reset */
#define MUX_REO_MIN_MS	    1	  /* smallest reordering window of SACK loss detection */
#define MUX_TLP_MIN_MS	    2	  /* smallest tail loss probe timeout */

/* Reset reasons, carried in RST frames (one byte) and given to closed(). */
enum mux_reason {
	MUX_RST_RESET = 1,    /* the application reset the stream (TCP RST, error) */
	MUX_RST_REFUSED = 2,  /* the target could not connect to its service */
	MUX_RST_UNKNOWN = 3,  /* the sender has no such stream */
	MUX_RST_TIMEOUT = 4,  /* retransmissions went unanswered */
	MUX_RST_LIMIT = 5,    /* too many streams */
	MUX_RST_PROTOCOL = 6, /* protocol violation */
	MUX_RST_SHUTDOWN = 7, /* the tunnel is closing */
	MUX_RST_ACK = 255,    /* acknowledges a RST; never given to closed() */
};

struct mux_config {
	size_t max_body;      /* largest packet body the mux may send, MUX_BODY_MIN..MAX;
			       * both ends must use the same value */
	unsigned max_depth;   /* 1..MUX_DEPTH_MAX data packets in flight per stream,
			       * 0 = MUX_DEPTH_DEFAULT; also the receive buffer in packets
			       * (at least MUX_INIT_WINDOW) */
	int is_initiator;     /* 1: open odd stream ids; 0: even ids */
	unsigned max_streams; /* open streams at once, 0 = MUX_STREAMS_DEFAULT */
	uint32_t first_seq;   /* first sequence number of streams we open; 0 normally,
			       * any value works (tests use values near 2^32) */
};

struct mux_callbacks {
	/* Seal and send one packet body of len <= max_body bytes now. Required. */
	void (*send)(void *ctx, const uint8_t *body, size_t len);
	/* The peer opened stream id; read it, write it, or mux_reset it. */
	void (*stream_opened)(void *ctx, uint32_t id);
	/* Data or the end of stream can be read with mux_read()/mux_eof(). */
	void (*readable)(void *ctx, uint32_t id);
	/* mux_write() accepts data again after it accepted less than offered or
	 * mux_writable() returned 0. */
	void (*writable)(void *ctx, uint32_t id);
	/* The stream is gone: both directions finished (reset 0, reason 0), or it
	 * was reset by the peer or timed out (reset 1, reason enum mux_reason or the
	 * peer's code). Free your side. */
	void (*closed)(void *ctx, uint32_t id, int reset, int reason);
};

struct mux_stats {
	uint64_t bytes_in;	   /* stream payload bytes received (first copies only) */
	uint64_t bytes_out;	   /* stream payload bytes sent (first transmissions only) */
	uint64_t packets_in;	   /* bodies given to mux_input() */
	uint64_t packets_out;	   /* bodies passed to send() */
	uint64_t wire_bytes_in;	   /* body bytes in */
	uint64_t wire_bytes_out;   /* body bytes out */
	uint64_t retransmits;	   /* data frames sent again */
	uint64_t fast_retransmits; /* data frames found lost through SACK (three later
				    * transmissions SACKed, or one and the reordering
				    * window passed) */
	uint64_t timeouts;	   /* retransmission timer expiries */
	uint64_t probes_sent;	   /* zero-window probes */
	uint64_t tail_probes;	   /* tail loss probes (also counted in retransmits) */
	uint64_t malformed;	   /* bodies or frames dropped as malformed */
	uint64_t unknown_stream;   /* frames for streams we do not have */
	uint64_t early_frames;	   /* data for a stream whose OPEN has not arrived yet */
	uint64_t dup_frames;	   /* data frames received again */
	uint64_t rst_sent;
	uint64_t rst_received;
	uint64_t streams_opened;   /* by us */
	uint64_t streams_accepted; /* opened by the peer */
	uint64_t streams_refused;  /* peer opens refused (limit) */
	uint64_t streams_closed;   /* finished cleanly */
	uint64_t streams_reset;	   /* reset by either side or timed out */
	uint64_t rtt_samples;	   /* RTT measurements taken (Karn's rule applied) */
	uint64_t srtt_us;	   /* smoothed RTT, 0 before the first sample */
	uint64_t rttvar_us;	   /* RTT variation */
	uint64_t rto_ms;	   /* current retransmission timeout (before backoff) */
	uint64_t last_input_ms;	   /* time of the last mux_input(), 0 if none */
	size_t streams;		   /* open streams (as mux_stream_count) */
	size_t records;		   /* open, closing and lingering stream records */
	size_t snd_buffered;	   /* bytes held in send buffers */
	size_t rcv_buffered;	   /* bytes held in receive buffers */
};

/* RFC 6298 round-trip estimator (exposed for tests and status output). */
struct mux_rtt {
	uint64_t srtt_us;
	uint64_t rttvar_us;
	uint64_t samples;
};

/* Reset to "no sample yet" (RTO = MUX_RTO_INIT_MS). */
void mux_rtt_init(struct mux_rtt *r);
/* Feed one measured round trip in milliseconds (RFC 6298 2.2/2.3). */
void mux_rtt_sample(struct mux_rtt *r, uint64_t rtt_ms);
/* RTO = SRTT + max(G, 4 * RTTVAR) with G = 1 ms, rounded up to whole ms and
 * clamped to MUX_RTO_MIN_MS..MUX_RTO_MAX_MS; MUX_RTO_INIT_MS before a sample. */
uint64_t mux_rtt_rto_ms(const struct mux_rtt *r);

struct mux;

/* Create a mux. cfg and cb are copied; ctx is passed to every callback.
 * Returns NULL with errno EINVAL (bad config, logged) or ENOMEM. */
struct mux *mux_new(const struct mux_config *cfg, const struct mux_callbacks *cb, void *ctx);
/* Free the mux and every stream. Calls no callback and sends nothing. */
void mux_free(struct mux *m);

/* Open a stream; its id goes to *id. The OPEN frame is sent at once.
 * Returns 0, or -1 with errno EMFILE (max_streams open), ENOSPC (ids
 * exhausted) or ENOMEM. */
int mux_open(struct mux *m, uint32_t *id, uint64_t now_ms);
/* Queue up to len bytes for sending and send what the windows allow.
 * Returns the bytes accepted (0 = send buffer full: wait for writable()),
 * or -1 with errno ENOENT (no such open stream), EPIPE (after mux_shutdown)
 * or ENOMEM. */
ssize_t mux_write(struct mux *m, uint32_t id, const uint8_t *buf, size_t len, uint64_t now_ms);
/* Bytes mux_write() would accept now; 0 also when the stream is unknown or
 * shut down. When it returns 0 for an open stream, writable() follows. */
size_t mux_writable(struct mux *m, uint32_t id);
/* Copy up to cap bytes of in-order data into buf. Returns the bytes copied,
 * 0 when nothing is available now (see mux_eof), or -1 with errno ENOENT.
 * Reading frees receive buffer and may send a window update. */
ssize_t mux_read(struct mux *m, uint32_t id, uint8_t *buf, size_t cap, uint64_t now_ms);
/* 1 if the peer's FIN has arrived and every byte before it has been read,
 * 0 if not yet, -1 (errno ENOENT) if there is no such open stream. */
int mux_eof(struct mux *m, uint32_t id);
/* Send our FIN after all queued data (half-close). Further writes fail.
 * Returns 0 (also when already shut down), or -1 with errno ENOENT. */
int mux_shutdown(struct mux *m, uint32_t id, uint64_t now_ms);
/* Abort the stream and tell the peer with a RST carrying reason (1..254).
 * Queued data is discarded; closed() is not called for it. Returns 0, or -1
 * with errno ENOENT or EINVAL. */
int mux_reset(struct mux *m, uint32_t id, int reason, uint64_t now_ms);

/* Process one authenticated packet body (any number of frames). A malformed
 * body is dropped whole and counted; see docs/protocol-streams.md. */
void mux_input(struct mux *m, const uint8_t *body, size_t len, uint64_t now_ms);
/* Absolute time (ms) at which mux_on_timer() must next be called, or
 * UINT64_MAX if no timer is set. It may be <= now_ms: call at once. */
uint64_t mux_next_timeout(struct mux *m, uint64_t now_ms);
/* Run every timer due at now_ms (retransmission, delayed ACK, probes, ...). */
void mux_on_timer(struct mux *m, uint64_t now_ms);
/* Send every held-back ACK now. Optional: call it at the end of an event loop
 * turn for the lowest latency; without it ACKs wait at most MUX_ACK_DELAY_MS. */
void mux_flush(struct mux *m, uint64_t now_ms);

/* A round-trip time measured outside the mux (the session's handshake or
 * PING), used as the first RTT sample when the mux has none yet, so loss
 * early in a tunnel is recovered at the path's pace rather than after the
 * 1 s initial retransmission timeout. Ignored once the mux has a sample. */
void mux_rtt_hint(struct mux *m, uint64_t rtt_ms);

/* Copy the counters into *st. */
void mux_get_stats(const struct mux *m, struct mux_stats *st);
/* Number of open streams (not yet closed or reset). */
size_t mux_stream_count(const struct mux *m);
/* "refused", "timeout", ... for a reset reason; "unknown reason" otherwise. */
const char *mux_reason_str(int reason);

#endif
