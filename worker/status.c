/* status: the `-s` status lines of connectd, and the status channel to p2pd.
 *
 * With -s, each event is one "!!" line on stdout (status.h). When p2pd runs
 * the worker, the environment holds P2PD_STATUS_FD (the descriptor of a
 * SOCK_SEQPACKET socket, normally 3) and every event is also sent there as
 * one message of common/statusmsg.h. Sends never block: a message that does
 * not fit in the socket buffer is dropped (the next one carries newer data),
 * and the channel is given up for good if the descriptor is not a usable
 * socket or p2pd has closed its end. */
#include "worker/status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/statusmsg.h"
#include "common/util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static int enabled;
static int chan_fd = -2; /* -2: not looked at yet; -1: no channel */

void
status_enable(int on)
{
	enabled = on;
}

int
status_enabled(void)
{
	return enabled;
}

/* The channel's descriptor from P2PD_STATUS_FD, or -1. */
static int
channel_fd(void)
{
	const char *s;
	const char *why;
	uint64_t fd;

	if (chan_fd != -2)
		return chan_fd;
	chan_fd = -1;
	s = getenv("P2PD_STATUS_FD");
	if (s == NULL || *s == '\0')
		return -1;
	if (parse_u64(s, 3, 1023, &fd, &why) == -1) {
		log_warnx("P2PD_STATUS_FD '%s': %s (expected a descriptor from 3 to 1023); no "
			  "status channel",
			  s, why);
		return -1;
	}
	chan_fd = (int)fd;
	return chan_fd;
}

static void
channel_send(const struct sm_msg *m)
{
	uint8_t buf[SM_MAX_MSG];
	int fd = channel_fd();
	int n;

	if (fd < 0)
		return;
	if ((n = sm_encode(m, buf, sizeof(buf))) == -1) {
		log_debug("cannot encode a %s message; not sent", sm_type_name(m->type));
		return;
	}
	if (send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		return;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)
		return; /* dropped: the supervisor is behind */
	log_warnx("status channel (fd %d): %s; no more status messages to p2pd", fd,
		  strerror(errno));
	chan_fd = -1;
}

static void
send_text(enum sm_type type, const char *text)
{
	struct sm_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	str_lcpy(m.text, text != NULL ? text : "", sizeof(m.text));
	channel_send(&m);
}

void
status_state(const char *state)
{
	send_text(SM_STATE, state);
	if (!enabled)
		return;
	printf("!!status %s\n", state);
	fflush(stdout);
}

void
status_connected(void)
{
	send_text(SM_CONNECTED, "");
	if (!enabled)
		return;
	printf("!!connected\n");
	fflush(stdout);
}

void
status_path(const char *path, const char *peer, unsigned handshake_ms)
{
	struct sm_msg m;
	int p = sm_path_parse(path);

	if (p != -1) {
		memset(&m, 0, sizeof(m));
		m.type = SM_PATH;
		m.path = (enum sm_path)p;
		m.ms = handshake_ms;
		str_lcpy(m.text, peer != NULL ? peer : "", sizeof(m.text));
		channel_send(&m);
	}
	if (!enabled)
		return;
	printf("!!path %s peer=%s handshake_ms=%u\n", path, peer, handshake_ms);
	fflush(stdout);
}

void
status_throughput(uint64_t tx_bps, uint64_t rx_bps)
{
	struct sm_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SM_THROUGHPUT;
	m.a = tx_bps;
	m.b = rx_bps;
	channel_send(&m);
	if (!enabled)
		return;
	printf("!!throughput txBps=%" PRIu64 " rxBps=%" PRIu64 "\n", tx_bps, rx_bps);
	fflush(stdout);
}

void
status_exit(int code, const char *msg)
{
	struct sm_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SM_EXIT;
	m.code = (uint8_t)code;
	str_lcpy(m.text, msg != NULL ? msg : "", sizeof(m.text));
	channel_send(&m);
	if (!enabled)
		return;
	printf("!!exit %d : %s\n", code, msg);
	fflush(stdout);
}

void
status_stats(unsigned rtt_ms, uint64_t bytes_in, uint64_t bytes_out)
{
	struct sm_msg m;

	memset(&m, 0, sizeof(m));
	m.type = SM_STATS;
	m.ms = rtt_ms;
	m.a = bytes_in;
	m.b = bytes_out;
	channel_send(&m);
}

void
status_local(const char *endpoint)
{
	send_text(SM_LOCAL, endpoint);
}
