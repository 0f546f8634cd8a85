#ifdef __linux__
#define _GNU_SOURCE /* sendmmsg, recvmmsg, struct mmsghdr */
#endif
#include "worker/udpio.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "common/log.h"

#if defined(__linux__) && defined(MSG_WAITFORONE)
#define HAVE_MMSG 1
#include <linux/udp.h> /* UDP_SEGMENT */
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#if defined(UDP_SEGMENT)
#define HAVE_GSO 1
#endif
#endif

#define GSO_MAX_BYTES 65000 /* a GSO send stays under the 64 KiB of one UDP datagram */
#define GSO_MAX_SEGS  64    /* the kernel's UDP_MAX_SEGMENTS, at least 64 */
#define GRO_SLOT      65536 /* a GRO read can hold any UDP datagram */
#define GRO_SLOTS     16    /* GRO reads per recvmmsg call */

struct udpio {
	int fd;
	enum udpio_mode mode;
	int gro;	/* UDP_GRO on: a read may hold several datagrams */
	size_t rx_slot; /* bytes per receive slot */
	int rx_slots;	/* receive slots */
	uint8_t *rx;	/* rx_slots x rx_slot */
	size_t nq;
	size_t burst; /* send the queue once it holds this many */
	size_t len[UDPIO_BATCH];
	socklen_t tolen[UDPIO_BATCH];
	struct sockaddr_storage to[UDPIO_BATCH];
	struct sockaddr_storage from[UDPIO_BATCH];
	struct udpio_stats st;
#ifdef HAVE_MMSG
	/* Sending and receiving have separate headers: a receive callback may
	 * queue datagrams, and a burst then flushes in the middle of the
	 * delivery loop, which still reads the receive headers. */
	struct mmsghdr msg[UDPIO_BATCH];
	size_t first[UDPIO_BATCH]; /* msg[k] starts at queued datagram first[k] */
	size_t count[UDPIO_BATCH]; /* and carries count[k] of them */
	struct iovec iov[UDPIO_BATCH];
	struct mmsghdr rx_msg[UDPIO_BATCH];
	struct iovec rx_iov[UDPIO_BATCH];
#ifdef HAVE_GSO
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[UDPIO_BATCH], rx_ctl[UDPIO_BATCH];
#endif
#endif
	uint8_t tx[UDPIO_BATCH][UDPIO_SLOT];
};

static int
soft_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM;
}

static void
log_refused(const struct udpio *u, size_t i, int e)
{
	log_debug("udp send of %zu bytes refused: %s", u->len[i], strerror(e));
}

static enum udpio_mode
probe_mode(int fd, enum udpio_mode want)
{
#ifdef HAVE_GSO
	if (want == UDPIO_GSO) {
		int zero = 0;
		/* A kernel without UDP GSO (before 4.18) refuses the option. */
		if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0)
			return UDPIO_GSO;
		log_debug("UDP GSO not available (%s): sending with sendmmsg", strerror(errno));
	}
#else
	(void)fd;
#endif
#ifdef HAVE_MMSG
	return want >= UDPIO_MMSG ? UDPIO_MMSG : UDPIO_PLAIN;
#else
	(void)want;
	return UDPIO_PLAIN;
#endif
}

/* Ask for coalesced reads (UDP_GRO, Linux 5.0): a run of datagrams from one
 * sender arrives as one buffer with its segment size. */
static int
probe_gro(int fd, enum udpio_mode mode)
{
#if defined(HAVE_GSO) && defined(UDP_GRO)
	int one = 1;

	if (mode == UDPIO_GSO && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0)
		return 1;
#else
	(void)fd;
	(void)mode;
#endif
	return 0;
}

struct udpio *
udpio_new(int fd, enum udpio_mode want)
{
	/* calloc of these sizes maps fresh pages: slots never used stay out of
	 * the resident set. */
	struct udpio *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->fd = fd;
	u->burst = UDPIO_BATCH;
	u->mode = probe_mode(fd, want);
	u->gro = probe_gro(fd, u->mode);
	u->rx_slot = u->gro ? GRO_SLOT : UDPIO_SLOT;
	u->rx_slots = u->gro ? GRO_SLOTS : UDPIO_BATCH;
	u->rx = calloc((size_t)u->rx_slots, u->rx_slot);
	if (u->rx == NULL) {
		free(u);
		return NULL;
	}
	return u;
}

void
udpio_free(struct udpio *u)
{
	if (u == NULL)
		return;
	free(u->rx);
	free(u);
}

int
udpio_gro(const struct udpio *u)
{
	return u->gro;
}

enum udpio_mode
udpio_mode(const struct udpio *u)
{
	return u->mode;
}

size_t
udpio_pending(const struct udpio *u)
{
	return u->nq;
}

void
udpio_get_stats(const struct udpio *u, struct udpio_stats *st)
{
	*st = u->st;
}

/* ---- sending ---- */

/* One datagram with sendto; returns 1 if the kernel took it. */
static int
send_one(struct udpio *u, const struct sockaddr *to, socklen_t tolen, const uint8_t *p, size_t n)
{
	ssize_t r;

	do {
		u->st.tx_calls++;
		r = sendto(u->fd, p, n, 0, to, tolen);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		if (soft_error(errno)) {
			u->st.tx_dropped++;
		} else {
			u->st.tx_errors++;
			log_debug("udp send of %zu bytes refused: %s", n, strerror(errno));
		}
		return 0;
	}
	u->st.tx_dgrams++;
	return 1;
}

static size_t
flush_plain(struct udpio *u)
{
	size_t sent = 0;

	for (size_t i = 0; i < u->nq; i++)
		sent += (size_t)send_one(u, (struct sockaddr *)&u->to[i], u->tolen[i], u->tx[i],
					 u->len[i]);
	return sent;
}

#ifdef HAVE_MMSG
static int
same_dest(const struct udpio *u, size_t a, size_t b)
{
	return u->tolen[a] == u->tolen[b] && memcmp(&u->to[a], &u->to[b], u->tolen[a]) == 0;
}

/* How many queued datagrams from i on can go as one GSO send: same address,
 * the same size (the last of the run may be shorter), within the limits. */
static size_t
gso_run(const struct udpio *u, size_t i)
{
	size_t j = i + 1, total = u->len[i];

	if (u->mode != UDPIO_GSO)
		return 1;
	while (j < u->nq && j - i < GSO_MAX_SEGS && same_dest(u, i, j) && u->len[j] <= u->len[i] &&
	       u->len[j] > 0 && total + u->len[j] <= GSO_MAX_BYTES) {
		total += u->len[j];
		if (u->len[j++] < u->len[i])
			break; /* a shorter datagram ends the run */
	}
	return j - i;
}

/* Build the messages for queued datagrams from base on; returns how many. */
static size_t
build_msgs(struct udpio *u, size_t base)
{
	size_t k = 0;

	for (size_t i = base; i < u->nq; k++) {
		struct msghdr *mh = &u->msg[k].msg_hdr;
		size_t run = gso_run(u, i);

		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &u->to[i];
		mh->msg_namelen = u->tolen[i];
		mh->msg_iov = &u->iov[i];
		mh->msg_iovlen = run;
		for (size_t j = i; j < i + run; j++) {
			u->iov[j].iov_base = u->tx[j];
			u->iov[j].iov_len = u->len[j];
		}
#ifdef HAVE_GSO
		if (run > 1) {
			struct cmsghdr *cm;
			uint16_t seg = (uint16_t)u->len[i];

			mh->msg_control = u->ctl[k].buf;
			mh->msg_controllen = sizeof(u->ctl[k].buf);
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		}
#endif
		u->first[k] = i;
		u->count[k] = run;
		i += run;
	}
	return k;
}

/* The kernel refused a GSO send: errors that mean "not this way". */
static int
gso_refused(int e)
{
	return e == EIO || e == EINVAL || e == EOPNOTSUPP || e == ENOPROTOOPT || e == EMSGSIZE;
}

static size_t
flush_mmsg(struct udpio *u)
{
	size_t base = 0, sent = 0;

	while (base < u->nq) {
		size_t nm = build_msgs(u, base);
		int r;

		u->st.tx_calls++;
		r = sendmmsg(u->fd, u->msg, (unsigned)nm, 0);
		if (r > 0) {
			for (size_t k = 0; k < (size_t)r; k++) {
				sent += u->count[k];
				if (u->count[k] > 1)
					u->st.tx_gso++;
			}
			base = (size_t)r < nm ? u->first[r] : u->nq;
			continue; /* a partial send: the next call reports the error */
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && u->count[0] > 1 && gso_refused(errno)) {
			log_info("UDP GSO refused by the kernel (%s): sending datagrams one by one",
				 strerror(errno));
			u->mode = UDPIO_MMSG;
			continue; /* rebuild from base without GSO */
		}
		if (r == -1 && soft_error(errno)) {
			u->st.tx_dropped += u->nq - base; /* no buffer space: drop the rest */
			break;
		}
		/* This message is refused (unreachable, bad address): skip it. */
		log_refused(u, base, r == -1 ? errno : EIO);
		u->st.tx_errors += u->count[0];
		base += u->count[0];
	}
	u->st.tx_dgrams += sent;
	return sent;
}
#endif

size_t
udpio_flush(struct udpio *u)
{
	size_t sent;

	if (u->nq == 0)
		return 0;
#ifdef HAVE_MMSG
	if (u->mode != UDPIO_PLAIN)
		sent = flush_mmsg(u);
	else
#endif
		sent = flush_plain(u);
	u->nq = 0;
	return sent;
}

void
udpio_send(struct udpio *u, const struct sockaddr *to, socklen_t tolen, const uint8_t *p, size_t n)
{
	if (tolen > sizeof(u->to[0])) {
		u->st.tx_errors++;
		return;
	}
	if (n > UDPIO_SLOT) {
		udpio_flush(u);
		u->st.tx_oversize++;
		send_one(u, to, tolen, p, n);
		return;
	}
	memcpy(&u->to[u->nq], to, tolen);
	u->tolen[u->nq] = tolen;
	memcpy(u->tx[u->nq], p, n);
	u->len[u->nq] = n;
	u->nq++;
	if (u->nq >= u->burst) /* burst <= UDPIO_BATCH: the queue is never full here */
		udpio_flush(u);
}

void
udpio_set_burst(struct udpio *u, size_t burst)
{
	if (burst < 1)
		burst = 1;
	if (burst > UDPIO_BATCH)
		burst = UDPIO_BATCH;
	u->burst = burst;
}

/* ---- receiving ---- */

/* Hand one read to cb: one datagram, or with GRO (seg > 0) the datagrams of
 * seg bytes each (the last may be shorter) it holds. Returns how many. */
static int
deliver(struct udpio *u, const uint8_t *p, size_t n, size_t seg, const struct sockaddr *from,
	socklen_t fromlen, udpio_cb cb, void *ctx)
{
	struct udpio_dgram d;
	size_t off = 0;
	int count = 0;

	if (seg == 0 || seg >= n)
		seg = n > 0 ? n : 1;
	d.from = from;
	d.fromlen = fromlen;
	do {
		d.p = p + off;
		d.n = n - off < seg ? n - off : seg;
		off += d.n;
		if (d.n > UDPIO_SLOT) {
			u->st.rx_truncated++;
			continue;
		}
		u->st.rx_dgrams++;
		cb(ctx, &d);
		count++;
	} while (off < n);
	return count;
}

static int
recv_plain(struct udpio *u, int max, udpio_cb cb, void *ctx)
{
	int got = 0;

	for (int i = 0; i < max; i++) {
		struct iovec iov = {.iov_base = u->rx, .iov_len = u->rx_slot};
		struct msghdr mh;
		ssize_t r;

		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &u->from[0];
		mh.msg_namelen = sizeof(u->from[0]);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		u->st.rx_calls++;
		r = recvmsg(u->fd, &mh, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return got > 0 ? got : -1;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			u->st.rx_truncated++;
			continue;
		}
		got += deliver(u, u->rx, (size_t)r, 0, (struct sockaddr *)&u->from[0],
			       mh.msg_namelen, cb, ctx);
	}
	return got;
}

#ifdef HAVE_MMSG
/* The segment size of a GRO read, 0 if it holds one datagram. */
static size_t
gro_size(struct msghdr *mh)
{
#if defined(HAVE_GSO) && defined(UDP_GRO)
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		int seg;
		if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO ||
		    cm->cmsg_len < CMSG_LEN(sizeof(seg)))
			continue;
		memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
		return seg > 0 ? (size_t)seg : 0;
	}
#else
	(void)mh;
#endif
	return 0;
}

static int
recv_mmsg(struct udpio *u, int max, udpio_cb cb, void *ctx)
{
	int r, got = 0;

	if (max > u->rx_slots)
		max = u->rx_slots;
	for (int i = 0; i < max; i++) {
		struct msghdr *mh = &u->rx_msg[i].msg_hdr;
		memset(mh, 0, sizeof(*mh));
		u->rx_iov[i].iov_base = u->rx + (size_t)i * u->rx_slot;
		u->rx_iov[i].iov_len = u->rx_slot;
		mh->msg_name = &u->from[i];
		mh->msg_namelen = sizeof(u->from[i]);
		mh->msg_iov = &u->rx_iov[i];
		mh->msg_iovlen = 1;
#ifdef HAVE_GSO
		if (u->gro) {
			mh->msg_control = u->rx_ctl[i].buf;
			mh->msg_controllen = sizeof(u->rx_ctl[i].buf);
		}
#endif
	}
	do {
		u->st.rx_calls++;
		r = recvmmsg(u->fd, u->rx_msg, (unsigned)max, MSG_DONTWAIT, NULL);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (int i = 0; i < r; i++) {
		struct mmsghdr *m = &u->rx_msg[i];
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			u->st.rx_truncated++;
			continue;
		}
		got += deliver(u, u->rx_iov[i].iov_base, m->msg_len, gro_size(&m->msg_hdr),
			       (struct sockaddr *)&u->from[i], m->msg_hdr.msg_namelen, cb, ctx);
	}
	return got;
}
#endif

int
udpio_recv(struct udpio *u, int max, udpio_cb cb, void *ctx)
{
	if (max > UDPIO_BATCH)
		max = UDPIO_BATCH;
	if (max <= 0)
		return 0;
#ifdef HAVE_MMSG
	if (u->mode != UDPIO_PLAIN)
		return recv_mmsg(u, max, cb, ctx);
#endif
	return recv_plain(u, max, cb, ctx);
}
