/* udpio: batched I/O on the worker's UDP socket.
 *
 * Sending: udpio_send() queues a datagram; udpio_flush() sends the queue,
 * in order, once per event-loop turn (and by itself once it holds a burst,
 * udpio_set_burst).
 * On Linux the queue goes out with one sendmmsg(2) call, and runs of
 * equal-sized datagrams to one address become one UDP GSO send
 * (UDP_SEGMENT) that the kernel cuts into the same datagrams on the wire.
 * Receiving: udpio_recv() reads up to UDPIO_BATCH datagrams, with one
 * recvmmsg(2) call on Linux; with UDP_GRO the kernel may hand over a run of
 * datagrams from one sender as one buffer, which udpio cuts back into the
 * datagrams. Other systems use sendto/recvmsg, one call per datagram. The
 * bytes on the wire are the same in every mode.
 *
 * UDP may drop, so does udpio: a datagram the kernel refuses for want of
 * buffer space (EAGAIN, ENOBUFS) is dropped and counted, as is one it refuses
 * outright (unreachable, bad address). If the kernel refuses a GSO send
 * (no checksum offload, path MTU below the datagram size), GSO is switched
 * off for good and those datagrams are sent one by one. */
#ifndef P2PD_UDPIO_H
#define P2PD_UDPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDPIO_BATCH 64	 /* datagrams per queue and per read */
#define UDPIO_SLOT  2048 /* largest datagram queued or read (mtu is at most 1472) */

/* How datagrams reach the kernel. */
enum udpio_mode {
	UDPIO_PLAIN = 0, /* sendto and recvmsg, one datagram per call (portable) */
	UDPIO_MMSG = 1,	 /* sendmmsg and recvmmsg (Linux) */
	UDPIO_GSO = 2,	 /* as UDPIO_MMSG, plus UDP_SEGMENT for runs of equal datagrams,
			  * and UDP_GRO reads when the kernel has them */
};

struct udpio_stats {
	uint64_t tx_dgrams;    /* datagrams the kernel accepted */
	uint64_t tx_calls;     /* system calls made to send */
	uint64_t tx_gso;       /* GSO sends (each carrying 2..UDPIO_BATCH datagrams) */
	uint64_t tx_dropped;   /* datagrams dropped: no buffer space (EAGAIN, ENOBUFS) */
	uint64_t tx_errors;    /* datagrams refused for another reason */
	uint64_t tx_oversize;  /* datagrams larger than UDPIO_SLOT, sent alone */
	uint64_t rx_dgrams;    /* datagrams handed to udpio_recv's callback */
	uint64_t rx_calls;     /* system calls made to receive */
	uint64_t rx_truncated; /* datagrams larger than UDPIO_SLOT, dropped */
};

/* One received datagram; the pointers are valid during the callback only. */
struct udpio_dgram {
	const uint8_t *p;
	size_t n;
	const struct sockaddr *from;
	socklen_t fromlen;
};

struct udpio;

/* Called once per received datagram, in the order they arrived. */
typedef void (*udpio_cb)(void *ctx, const struct udpio_dgram *d);

/* Batched I/O on fd (a non-blocking UDP socket, not owned: udpio_free does not
 * close it), in the given mode or the best one below it this system supports
 * (GSO is probed with setsockopt). Returns NULL if out of memory. */
struct udpio *udpio_new(int fd, enum udpio_mode want);
/* Free the queue without sending it (call udpio_flush first to send it). */
void udpio_free(struct udpio *u);
/* The mode in use (it drops from UDPIO_GSO to UDPIO_MMSG if the kernel
 * refuses a GSO send). */
enum udpio_mode udpio_mode(const struct udpio *u);
/* 1 if reads are coalesced by the kernel (UDP_GRO), 0 if not. */
int udpio_gro(const struct udpio *u);

/* Send the queue as soon as it holds burst datagrams (1..UDPIO_BATCH; other
 * values are clamped) instead of only when it is full or flushed. A smaller
 * burst puts the first datagrams of a turn on the wire while the rest are
 * still being made, so that the peer works on them at the same time; each
 * burst costs one more system call. The default is UDPIO_BATCH. */
void udpio_set_burst(struct udpio *u, size_t burst);

/* Queue one datagram of n bytes for to (copied); the queue is sent once it
 * holds the burst size (UDPIO_BATCH at most). A datagram larger than
 * UDPIO_SLOT is sent at once, after the queue, so the order is kept. */
void udpio_send(struct udpio *u, const struct sockaddr *to, socklen_t tolen, const uint8_t *p,
		size_t n);
/* Send every queued datagram, in order. Returns how many the kernel accepted;
 * the rest were dropped and counted. The queue is empty afterwards. */
size_t udpio_flush(struct udpio *u);
/* Datagrams queued and not yet sent. */
size_t udpio_pending(const struct udpio *u);

/* Read without blocking, with one system call on Linux (up to max, at most
 * UDPIO_BATCH, reads otherwise), and call cb for each datagram. Returns how
 * many datagrams were handed to cb (0 when none was waiting), or -1 with
 * errno on a socket error before any. Datagrams longer than UDPIO_SLOT are
 * dropped and counted. */
int udpio_recv(struct udpio *u, int max, udpio_cb cb, void *ctx);

/* Copy the counters into *st. */
void udpio_get_stats(const struct udpio *u, struct udpio_stats *st);

#endif
