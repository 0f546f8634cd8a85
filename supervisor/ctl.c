/* ctl: the control socket server (see ctl.h). */
#include "supervisor/ctl.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/acceptor.h"
#include "common/log.h"
#include "common/util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

enum cstate {
	C_READ,	 /* waiting for the request line */
	C_WAIT,	 /* the supervisor answers later */
	C_WRITE, /* writing the reply, then closing */
};

struct ctl_client {
	ev_io io; /* first member: the callbacks cast from it */
	ev_timer t;
	struct ctl *ctl;
	struct ctl_client *prev, *next;
	int fd;
	enum cstate st;
	char in[CTL_MAX_REQUEST];
	size_t inlen;
	char *out;
	size_t outlen, outcap, outoff;
	int overflow;
	const void *key;
	int kind;
	uint64_t warg;
	char tmo_msg[CTL_MAX_MSG];
};

struct ctl {
	struct ev_loop *loop;
	int fd;
	struct acceptor acc; /* pauses instead of spinning when out of descriptors */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	ctl_handler *h;
	void *arg;
	struct ctl_client *clients;
	size_t n;
};

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void client_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);

size_t
ctl_nclients(const struct ctl *ctl)
{
	return ctl->n;
}

static void
client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;

	ev_io_stop(ctl->loop, &c->io);
	ev_timer_stop(ctl->loop, &c->t);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ctl->n--;
	free(c->out);
	free(c);
}

static void
client_timer(struct ctl_client *c, double secs)
{
	ev_timer_stop(c->ctl->loop, &c->t);
	ev_timer_set(&c->t, secs, 0.0);
	ev_timer_start(c->ctl->loop, &c->t);
}

void
ctl_reply_line(struct ctl_client *c, const char *line, size_t len)
{
	if (c->st == C_WRITE || c->overflow)
		return;
	if (c->outlen + len > CTL_MAX_REPLY) {
		c->overflow = 1;
		return;
	}
	if (c->outlen + len > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		char *p;
		while (cap < c->outlen + len)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL) {
			c->overflow = 1;
			return;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, line, len);
	c->outlen += len;
}

void
ctl_reply_done(struct ctl_client *c)
{
	char line[CTL_MAX_MSG + 64];
	int n;

	if (c->st == C_WRITE)
		return;
	if (c->overflow) {
		c->overflow = 0;
		c->outlen = 0;
		n = ctl_format_error(line, sizeof(line), CTL_E_FAILED,
				     "the reply is too large (or out of memory)");
		if (n > 0)
			ctl_reply_line(c, line, (size_t)n);
	}
	if ((n = ctl_format_end(line, sizeof(line))) > 0)
		ctl_reply_line(c, line, (size_t)n);
	c->st = C_WRITE;
	c->key = NULL;
	ev_io_stop(c->ctl->loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(c->ctl->loop, &c->io);
	client_timer(c, CTL_WRITE_TIMEOUT);
}

void
ctl_reply_ok(struct ctl_client *c, const char *fmt, ...)
{
	char msg[CTL_MAX_MSG], line[CTL_MAX_MSG + 16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((n = ctl_format_ok(line, sizeof(line), msg)) > 0)
		ctl_reply_line(c, line, (size_t)n);
	ctl_reply_done(c);
}

void
ctl_reply_error(struct ctl_client *c, enum ctl_err code, const char *fmt, ...)
{
	char msg[CTL_MAX_MSG], line[CTL_MAX_MSG + 48];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((n = ctl_format_error(line, sizeof(line), code, msg)) > 0)
		ctl_reply_line(c, line, (size_t)n);
	ctl_reply_done(c);
}

void
ctl_wait(struct ctl_client *c, const void *key, int kind, uint64_t warg, double timeout,
	 const char *timeout_msg)
{
	if (c->st != C_READ)
		return;
	c->st = C_WAIT;
	c->key = key;
	c->kind = kind;
	c->warg = warg;
	str_lcpy(c->tmo_msg, timeout_msg, sizeof(c->tmo_msg));
	ev_io_stop(c->ctl->loop, &c->io);
	client_timer(c, timeout);
}

void
ctl_each_waiting(struct ctl *ctl, const void *key, ctl_waiter_fn *fn, void *arg)
{
	/* fn may reply, which never frees a client here (writes happen later). */
	for (struct ctl_client *c = ctl->clients; c != NULL; c = c->next)
		if (c->st == C_WAIT && c->key == key)
			fn(arg, c, c->kind, c->warg);
}

/* A complete request line is in c->in[0..len). */
static void
client_request(struct ctl_client *c, size_t len)
{
	struct ctl_request r;
	char err[256];

	if (ctl_request_parse(c->in, len, &r, err, sizeof(err)) == -1) {
		log_debug("control client: bad request: %s", err);
		ctl_reply_error(c, CTL_E_BAD_REQUEST, "%s", err);
		return;
	}
	log_debug("control client: %s%s", ctl_verb_name((int)r.verb), r.has_uid ? " UID" : "");
	c->ctl->h(c->ctl->arg, c, &r);
	if (c->st == C_READ) /* the handler forgot to answer: never leave a client hanging */
		ctl_reply_error(c, CTL_E_FAILED, "no reply");
}

static void
client_read(struct ctl_client *c)
{
	ssize_t n;
	char *nl;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		client_free(c);
		return;
	}
	if (n == 0) { /* gone before sending a whole line */
		client_free(c);
		return;
	}
	c->inlen += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		client_request(c, (size_t)(nl - c->in) + 1);
		return;
	}
	if (c->inlen == sizeof(c->in))
		ctl_reply_error(c, CTL_E_BAD_REQUEST,
				"request longer than %d bytes; a request is one short line",
				CTL_MAX_REQUEST);
}

static void
client_write(struct ctl_client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			client_free(c); /* the client went away */
			return;
		}
		c->outoff += (size_t)n;
	}
	client_free(c);
}

static void
client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = (struct ctl_client *)w;

	(void)loop;
	if (c->st == C_READ && (revents & EV_READ))
		client_read(c);
	else if (c->st == C_WRITE && (revents & EV_WRITE))
		client_write(c);
}

static void
client_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_client *c = t->data;

	(void)loop;
	(void)revents;
	switch (c->st) {
	case C_READ:
		log_debug("control client sent no complete request within %.0f s; dropped",
			  CTL_READ_TIMEOUT);
		client_free(c);
		break;
	case C_WAIT:
		ctl_reply_error(c, CTL_E_TIMEOUT, "%s", c->tmo_msg);
		break;
	case C_WRITE:
		log_debug("control client did not take its reply within %.0f s; dropped",
			  CTL_WRITE_TIMEOUT);
		client_free(c);
		break;
	}
}

/* Sends a whole error reply (the error line and the end) on fd, without
 * waiting: best effort, for a client about to be closed. */
static void
send_error_now(int fd, enum ctl_err code, const char *msg)
{
	char line[CTL_MAX_MSG];
	int n = ctl_format_error(line, sizeof(line), code, msg);
	int m = n > 0 ? ctl_format_end(line + n, sizeof(line) - (size_t)n) : -1;

	if (m > 0)
		(void)send(fd, line, (size_t)(n + m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Tells a client over the limit that p2pd is busy, without waiting. */
static void
refuse_busy(int fd)
{
	send_error_now(fd, CTL_E_BUSY, "too many control clients at once; try again");
	close(fd);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl *ctl = w->data;

	(void)revents;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c;
		int fd = acceptor_accept(loop, &ctl->acc, NULL, NULL);
		if (fd == -1)
			return;
		if (fd_nonblock_cloexec(fd) == -1) {
			close(fd);
			continue;
		}
		if (ctl->n >= CTL_MAX_CLIENTS || (c = calloc(1, sizeof(*c))) == NULL) {
			refuse_busy(fd);
			continue;
		}
		c->ctl = ctl;
		c->fd = fd;
		c->st = C_READ;
		ev_io_init(&c->io, client_io_cb, fd, EV_READ);
		ev_timer_init(&c->t, client_timer_cb, CTL_READ_TIMEOUT, 0.0);
		c->t.data = c;
		c->next = ctl->clients;
		if (ctl->clients != NULL)
			ctl->clients->prev = c;
		ctl->clients = c;
		ctl->n++;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->t);
	}
}

/* Removes a stale socket at path; fails if one is live or path is no socket. */
static int
clear_old_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s exists and is not a socket; remove it or set another control_socket",
			 path);
		return -1;
	}
	if ((fd = socket_nb(AF_UNIX, SOCK_STREAM)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, path, sizeof(sun.sun_path));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen, "another p2pd is already serving %s", path);
		return -1;
	}
	if (e != ECONNREFUSED && e != ENOENT) {
		snprintf(err, errlen, "%s: cannot tell whether it is in use: %s", path,
			 strerror(e));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s", path,
			 strerror(errno));
		return -1;
	}
	log_info("removed the stale control socket %s (nothing answered on it)", path);
	return 0;
}

/* Creates the socket's directory if it is missing (one level, mode 0755). */
static void
make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *d;

	str_lcpy(dir, path, sizeof(dir));
	d = dirname(dir);
	if (stat(d, &st) == 0 || errno != ENOENT)
		return;
	if (mkdir(d, 0755) == 0)
		log_info("created the directory %s for the control socket", d);
}

static void
set_group(const char *path, const char *group)
{
	struct group *gr;

	if (group == NULL || *group == '\0')
		return;
	if ((gr = getgrnam(group)) == NULL) {
		struct group *own = getgrgid(getegid());
		char gid[16];
		snprintf(gid, sizeof(gid), "%u", (unsigned)getegid());
		log_warnx("control_group '%s' does not exist; %s keeps the group %s (only that "
			  "group and root can use p2pctl)",
			  group, path, own != NULL ? own->gr_name : gid);
		return;
	}
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("cannot give %s to group %s", path, group);
}

static int
bind_socket(struct ctl *ctl, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_lcpy(sun.sun_path, ctl->path, sizeof(sun.sun_path));
	if ((ctl->fd = socket_nb(AF_UNIX, SOCK_STREAM)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117); /* srw-rw---- from the start: no window with a wider mode */
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		snprintf(err, errlen, "cannot bind %s: %s", ctl->path, strerror(errno));
		return -1;
	}
	if (chmod(ctl->path, 0660) == -1 || listen(ctl->fd, 32) == -1 ||
	    stat(ctl->path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", ctl->path, strerror(errno));
		unlink(ctl->path);
		return -1;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	return 0;
}

struct ctl *
ctl_open(struct ev_loop *loop, const char *path, const char *group, ctl_handler *h, void *arg,
	 char *err, size_t errlen)
{
	struct ctl *ctl;

	if (strlen(path) >= sizeof(ctl->path)) {
		snprintf(err, errlen, "control socket path %s is too long (at most %zu bytes)",
			 path, sizeof(ctl->path) - 1);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->loop = loop;
	ctl->fd = -1;
	ctl->h = h;
	ctl->arg = arg;
	str_lcpy(ctl->path, path, sizeof(ctl->path));
	make_parent(path);
	if (clear_old_socket(path, err, errlen) == -1 || bind_socket(ctl, err, errlen) == -1) {
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return NULL;
	}
	set_group(path, group);
	acceptor_init(&ctl->acc, ctl->fd, accept_cb, ctl, ctl->path);
	acceptor_start(loop, &ctl->acc);
	log_info("control socket %s (mode 0660)", path);
	return ctl;
}

void
ctl_close(struct ctl *ctl)
{
	struct stat st;

	if (ctl == NULL)
		return;
	while (ctl->clients != NULL) {
		struct ctl_client *c = ctl->clients;
		if (c->st == C_WAIT) {
			send_error_now(c->fd, CTL_E_SHUTDOWN, "p2pd is shutting down");
		} else if (c->st == C_WRITE && c->outoff < c->outlen) {
			/* best effort, without waiting */
			(void)send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		client_free(c);
	}
	acceptor_stop(ctl->loop, &ctl->acc);
	close(ctl->fd);
	/* Remove the socket only if it is still ours. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}
