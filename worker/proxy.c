#include "worker/proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/acceptor.h"
#include "common/log.h"
#include "common/util.h"
#include "worker/mux.h"
#include "worker/worker.h"

#define CONN_BUCKETS 1024
#define OUT_BUF	     16384 /* stream -> TCP bytes held per connection */
#define IN_CHUNK     65536 /* TCP -> stream bytes read at once */

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SIGPIPE is caught by the worker's signal watcher */
#endif

struct conn {
	struct bridge *b;
	struct conn *next; /* hash chain */
	uint32_t id;
	int fd;
	ev_io rio, wio;
	int connecting;		    /* target: connect() in progress */
	int rd_done;		    /* TCP side sent EOF; our FIN is queued in the stream */
	int wr_done;		    /* peer's FIN delivered: shutdown(SHUT_WR) done */
	int stream_gone;	    /* the stream is closed; close once out[] is written */
	int want_out;		    /* readable() came: pump stream -> TCP at bridge_flush */
	int want_in;		    /* writable() came: pump TCP -> stream at bridge_flush */
	struct conn *pnext, *pprev; /* the bridge's pending list, if on it */
	int pending;
	size_t out_off, out_len;
	uint8_t out[OUT_BUF];
};

struct bridge {
	struct worker *w;
	struct ev_loop *loop;
	struct mux *mux;
	const struct prov *cfg;
	struct conn *tab[CONN_BUCKETS];
	struct conn *pending; /* connections with a pump due at bridge_flush */
	size_t count;
	uint8_t inbuf[IN_CHUNK];
};

struct listener {
	int fd;
	struct acceptor acc; /* pauses instead of spinning when out of descriptors */
	struct ev_loop *loop;
	struct worker *w;
	struct bridge *b;
	struct sockaddr_storage restrict_to;
	int restricted;
	uint64_t refused;
};

static void conn_read_cb(struct ev_loop *loop, ev_io *io, int revents);
static void conn_write_cb(struct ev_loop *loop, ev_io *io, int revents);

/* ---- connection table ---- */

static struct conn **
conn_slot(struct bridge *b, uint32_t id)
{
	struct conn **pp = &b->tab[id % CONN_BUCKETS];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static struct conn *
conn_find(struct bridge *b, uint32_t id)
{
	return *conn_slot(b, id);
}

static struct conn *
conn_new(struct bridge *b, uint32_t id, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct conn **pp;

	if (c == NULL)
		return NULL;
	c->b = b;
	c->id = id;
	c->fd = fd;
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	c->rio.data = c->wio.data = c;
	pp = conn_slot(b, id);
	c->next = *pp;
	*pp = c;
	b->count++;
	return c;
}

static void
pending_remove(struct conn *c)
{
	if (!c->pending)
		return;
	if (c->pprev != NULL)
		c->pprev->pnext = c->pnext;
	else
		c->b->pending = c->pnext;
	if (c->pnext != NULL)
		c->pnext->pprev = c->pprev;
	c->pnext = c->pprev = NULL;
	c->pending = 0;
}

static void
pending_add(struct conn *c)
{
	if (c->pending)
		return;
	c->pprev = NULL;
	c->pnext = c->b->pending;
	if (c->pnext != NULL)
		c->pnext->pprev = c;
	c->b->pending = c;
	c->pending = 1;
}

/* Close the socket and free; abortive (RST to the local peer) if reset. */
static void
conn_free(struct conn *c, int reset)
{
	struct bridge *b = c->b;
	struct conn **pp = conn_slot(b, c->id);

	pending_remove(c);
	if (*pp == c)
		*pp = c->next;
	ev_io_stop(b->loop, &c->rio);
	ev_io_stop(b->loop, &c->wio);
	if (reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd);
	b->count--;
	free(c);
}

/* The local side failed: reset the stream and drop the connection. */
static void
conn_abort(struct conn *c)
{
	if (!c->stream_gone)
		mux_reset(c->b->mux, c->id, MUX_RST_RESET, now_ms());
	conn_free(c, 1);
}

/* ---- TCP -> stream ---- */

static void
conn_pump_in(struct conn *c)
{
	struct bridge *b = c->b;
	uint64_t now = now_ms();

	while (!c->rd_done) {
		size_t room = mux_writable(b->mux, c->id);
		ssize_t n, acc;

		if (room == 0) {
			ev_io_stop(b->loop, &c->rio); /* writable() restarts it */
			return;
		}
		n = read(c->fd, b->inbuf, room < IN_CHUNK ? room : IN_CHUNK);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				ev_io_start(b->loop, &c->rio);
				return;
			}
			log_debug("stream %u: read: %s", c->id, strerror(errno));
			conn_abort(c);
			return;
		}
		if (n == 0) {
			c->rd_done = 1;
			ev_io_stop(b->loop, &c->rio);
			mux_shutdown(b->mux, c->id, now);
			return;
		}
		acc = mux_write(b->mux, c->id, b->inbuf, (size_t)n, now);
		if (acc != n) {
			/* mux_writable promised the room: anything else is a bug or
			 * a stream that went away under us. */
			log_warnx("stream %u: %zd of %zd bytes accepted", c->id, acc, n);
			conn_abort(c);
			return;
		}
		worker_traffic(b->w, (uint64_t)n, 0);
	}
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	conn_pump_in(io->data);
}

/* ---- stream -> TCP ---- */

/* Returns -1 if the connection was freed. */
static int
conn_pump_out(struct conn *c)
{
	struct bridge *b = c->b;

	for (;;) {
		if (c->out_off < c->out_len) {
			ssize_t n =
			    send(c->fd, c->out + c->out_off, c->out_len - c->out_off, SEND_FLAGS);
			if (n == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
					ev_io_start(b->loop, &c->wio);
					return 0;
				}
				log_debug("stream %u: write: %s", c->id, strerror(errno));
				conn_abort(c);
				return -1;
			}
			worker_traffic(b->w, 0, (uint64_t)n);
			c->out_off += (size_t)n;
			continue;
		}
		c->out_off = c->out_len = 0;
		if (c->stream_gone) {
			conn_free(c, 0);
			return -1;
		}
		ssize_t n = mux_read(b->mux, c->id, c->out, sizeof(c->out), now_ms());
		if (n > 0) {
			c->out_len = (size_t)n;
			continue;
		}
		if (n == 0 && !c->wr_done && mux_eof(b->mux, c->id) == 1) {
			c->wr_done = 1;
			shutdown(c->fd, SHUT_WR);
		}
		ev_io_stop(b->loop, &c->wio);
		return 0;
	}
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct conn *c = io->data;

	(void)loop;
	(void)revents;
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			log_info("stream %u: connect to %s:%u failed: %s; resetting the stream",
				 c->id, c->b->cfg->proxy_dest_ip, c->b->cfg->proxy_dest_port,
				 strerror(err));
			mux_reset(c->b->mux, c->id, MUX_RST_REFUSED, now_ms());
			conn_free(c, 0);
			return;
		}
		c->connecting = 0;
		ev_io_stop(c->b->loop, &c->wio);
		if (conn_pump_out(c) == -1)
			return;
		conn_pump_in(c);
		return;
	}
	conn_pump_out(c);
}

/* ---- bridge ---- */

struct bridge *
bridge_new(struct worker *w, struct ev_loop *loop, const struct prov *p)
{
	struct bridge *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->w = w;
	b->loop = loop;
	b->cfg = p;
	return b;
}

void
bridge_set_mux(struct bridge *b, struct mux *m)
{
	b->mux = m;
}

size_t
bridge_count(const struct bridge *b)
{
	return b->count;
}

void
bridge_free(struct bridge *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < CONN_BUCKETS; i++)
		while (b->tab[i] != NULL)
			conn_free(b->tab[i], 1);
	free(b);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void
bridge_stream_opened(struct bridge *b, uint32_t id)
{
	const struct prov *p = b->cfg;
	struct sockaddr_storage ss;
	socklen_t len;
	struct conn *c;
	int fd;

	if (parse_ip(p->proxy_dest_ip, p->proxy_dest_port, &ss, &len) == -1 ||
	    (fd = socket_nb(ss.ss_family, SOCK_STREAM)) == -1) {
		log_warnx("stream %u: cannot create a socket for %s: %s", id, p->proxy_dest_ip,
			  strerror(errno));
		mux_reset(b->mux, id, MUX_RST_REFUSED, now_ms());
		return;
	}
	set_nodelay(fd);
	c = conn_new(b, id, fd);
	if (c == NULL) {
		close(fd);
		mux_reset(b->mux, id, MUX_RST_LIMIT, now_ms());
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS) {
		log_info("stream %u: connect to %s:%u failed: %s; resetting the stream", id,
			 p->proxy_dest_ip, p->proxy_dest_port, strerror(errno));
		mux_reset(b->mux, id, MUX_RST_REFUSED, now_ms());
		conn_free(c, 0);
		return;
	}
	c->connecting = 1;
	ev_io_start(b->loop, &c->wio);
}

/* readable() and writable() come once per packet; the pumps run once per
 * event-loop turn (bridge_flush), so a batch of packets becomes one write to
 * the TCP socket and the room that a batch of ACKs opens one read. */
void
bridge_readable(struct bridge *b, uint32_t id)
{
	struct conn *c = conn_find(b, id);

	if (c != NULL && !c->connecting) {
		c->want_out = 1;
		pending_add(c);
	}
}

void
bridge_writable(struct bridge *b, uint32_t id)
{
	struct conn *c = conn_find(b, id);

	if (c != NULL && !c->connecting && !c->rd_done) {
		c->want_in = 1;
		pending_add(c);
	}
}

void
bridge_flush(struct bridge *b)
{
	struct conn *c;

	while ((c = b->pending) != NULL) {
		int out = c->want_out, in = c->want_in;

		pending_remove(c);
		c->want_out = c->want_in = 0;
		if (out && conn_pump_out(c) == -1)
			continue; /* freed */
		if (in && !c->rd_done)
			conn_pump_in(c);
	}
}

void
bridge_closed(struct bridge *b, uint32_t id, int reset, int reason)
{
	struct conn *c = conn_find(b, id);

	if (c == NULL)
		return;
	c->stream_gone = 1;
	if (reset) {
		log_debug("stream %u reset: %s", id, mux_reason_str(reason));
		conn_free(c, 1);
		return;
	}
	if (c->out_off >= c->out_len)
		conn_free(c, 0);
	/* otherwise conn_pump_out closes it once the last bytes are written */
}

/* ---- listener (initiator) ---- */

static int
client_allowed(struct listener *l, const struct sockaddr *sa)
{
	if (!l->restricted)
		return 1;
	if (sa->sa_family != l->restrict_to.ss_family)
		return 0;
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		       ((struct sockaddr_in *)&l->restrict_to)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
		      &((struct sockaddr_in6 *)&l->restrict_to)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct listener *l = io->data;
	struct bridge *b = l->b;

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64 && b != NULL; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char a[SOCKADDR_STRLEN];
		uint32_t id;
		struct conn *c;
		int fd = acceptor_accept(l->loop, &l->acc, (struct sockaddr *)&ss, &len);

		if (fd == -1)
			return;
		if (fd_nonblock_cloexec(fd) == -1) {
			close(fd);
			continue;
		}
		if (!client_allowed(l, (struct sockaddr *)&ss)) {
			l->refused++;
			log_info("refused local client %s: restrict_ip allows only %s",
				 fmt_sockaddr((struct sockaddr *)&ss, a, sizeof(a)),
				 b->cfg->restrict_ip);
			close(fd);
			continue;
		}
		if (mux_open(b->mux, &id, now_ms()) == -1) {
			log_warnx("cannot open a stream for a new client: %s", strerror(errno));
			close(fd);
			continue;
		}
		set_nodelay(fd);
		c = conn_new(b, id, fd);
		if (c == NULL) {
			mux_reset(b->mux, id, MUX_RST_LIMIT, now_ms());
			close(fd);
			continue;
		}
		log_debug("stream %u for client %s", id,
			  fmt_sockaddr((struct sockaddr *)&ss, a, sizeof(a)));
		conn_pump_in(c);
	}
}

struct listener *
listener_open(const struct prov *p, char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));
	struct sockaddr_storage ss;
	socklen_t len, rlen;
	int one = 1;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->fd = -1;
	if (parse_ip(p->proxy_bind_address, p->proxy_local_port, &ss, &len) == -1) {
		snprintf(err, errlen, "proxy_bind_address '%s' is not a numeric address",
			 p->proxy_bind_address);
		goto fail;
	}
	if (p->has_restrict_ip && parse_ip(p->restrict_ip, 0, &l->restrict_to, &rlen) == 0)
		l->restricted = 1;
	l->fd = socket_nb(ss.ss_family, SOCK_STREAM);
	if (l->fd == -1) {
		snprintf(err, errlen, "cannot create the proxy socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, len) == -1 || listen(l->fd, 128) == -1) {
		char a[SOCKADDR_STRLEN];
		snprintf(err, errlen, "cannot bind proxy port %s: %s",
			 fmt_sockaddr((struct sockaddr *)&ss, a, sizeof(a)), strerror(errno));
		goto fail;
	}
	return l;
fail:
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return NULL;
}

void
listener_attach(struct listener *l, struct ev_loop *loop, struct worker *w)
{
	l->loop = loop;
	l->w = w;
	acceptor_init(&l->acc, l->fd, accept_cb, l, "the proxy port");
}

void
listener_enable(struct listener *l, struct bridge *b)
{
	l->b = b;
	acceptor_start(l->loop, &l->acc);
}

void
listener_disable(struct listener *l)
{
	if (l->loop != NULL)
		acceptor_stop(l->loop, &l->acc);
	l->b = NULL;
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	listener_disable(l);
	close(l->fd);
	free(l);
}
