/* acceptor: accept() that pauses instead of spinning (see acceptor.h). */
#include "common/acceptor.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/log.h"

static void
resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct acceptor *a = t->data;

	(void)revents;
	ev_io_start(loop, &a->io);
}

void
acceptor_init(struct acceptor *a, int fd, void (*cb)(struct ev_loop *, ev_io *, int), void *data,
	      const char *what)
{
	ev_io_init(&a->io, cb, fd, EV_READ);
	a->io.data = data;
	ev_timer_init(&a->pause, resume_cb, ACCEPTOR_PAUSE_S, 0.0);
	a->pause.data = a;
	a->what = what;
}

void
acceptor_start(struct ev_loop *loop, struct acceptor *a)
{
	if (!ev_is_active(&a->pause))
		ev_io_start(loop, &a->io);
}

void
acceptor_stop(struct ev_loop *loop, struct acceptor *a)
{
	ev_io_stop(loop, &a->io);
	ev_timer_stop(loop, &a->pause);
}

int
acceptor_accept(struct ev_loop *loop, struct acceptor *a, struct sockaddr *sa, socklen_t *salen)
{
	int fd = accept(a->io.fd, sa, sa != NULL ? salen : NULL);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
		break;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_warn("accept on %s (not accepting for %.0f s)", a->what, ACCEPTOR_PAUSE_S);
		ev_io_stop(loop, &a->io);
		ev_timer_start(loop, &a->pause);
		break;
	default:
		log_warn("accept on %s", a->what);
		break;
	}
	return -1;
}
