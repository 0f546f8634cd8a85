/* acceptor: accept() on a listening socket watched by libev, without spinning
 * when the process runs out of descriptors or memory.
 *
 * On EMFILE, ENFILE, ENOBUFS or ENOMEM the client stays queued and the
 * listening socket stays readable, so a level-triggered watcher would call
 * back at once, forever. acceptor_accept() then stops the watcher, logs once,
 * and starts a timer that starts the watcher again ACCEPTOR_PAUSE_S later.
 * Stopping the watcher for good (shutdown, a tunnel going down) must stop the
 * timer too: acceptor_stop(). */
#ifndef P2PD_ACCEPTOR_H
#define P2PD_ACCEPTOR_H

#include <ev.h>
#include <sys/socket.h>

#define ACCEPTOR_PAUSE_S 1.0

struct acceptor {
	ev_io io;	  /* EV_READ on the listening socket, the caller's callback */
	ev_timer pause;	  /* restarts io after a shortage */
	const char *what; /* names the socket in messages: "the proxy port" */
};

/* Set up a (not started) on fd with callback cb; a->io.data = data. */
void acceptor_init(struct acceptor *a, int fd, void (*cb)(struct ev_loop *, ev_io *, int),
		   void *data, const char *what);
/* Start or stop watching (stop also cancels a pause). */
void acceptor_start(struct ev_loop *loop, struct acceptor *a);
void acceptor_stop(struct ev_loop *loop, struct acceptor *a);
/* One accept() (the peer's address into sa, *salen, when sa is not NULL):
 * the new descriptor, or -1 when there is none now (EAGAIN, EINTR,
 * ECONNABORTED: silent), on a shortage (watching paused, logged), or on
 * another error (logged). */
int acceptor_accept(struct ev_loop *loop, struct acceptor *a, struct sockaddr *sa,
		    socklen_t *salen);

#endif
