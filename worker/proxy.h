/* proxy: the TCP side of the tunnel.
 *
 * A listener (initiator) accepts local clients on proxy_bind_address:
 * proxy_local_port; each accepted connection becomes a stream. A bridge joins
 * the TCP connections of one session to its streams in both directions, with
 * back-pressure: a socket is read only while its stream has send room, and a
 * stream is read only while its socket takes the bytes, so memory per
 * connection stays bounded. On a target, a stream the peer opens becomes a
 * TCP connection to proxy_dest_ip:proxy_dest_port; if that fails, the stream
 * is reset and the initiator closes its client's connection. */
#ifndef P2PD_PROXY_H
#define P2PD_PROXY_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prov.h"

struct worker;
struct session;
struct mux;
struct listener;
struct bridge;

/* Bind and listen (exit 17 on failure, with err naming the address). */
struct listener *listener_open(const struct prov *p, char *err, size_t errlen);
void listener_attach(struct listener *l, struct ev_loop *loop, struct worker *w);
/* Start (or stop) accepting clients into the bridge of this session. */
void listener_enable(struct listener *l, struct bridge *b);
void listener_disable(struct listener *l);
void listener_free(struct listener *l);

struct bridge *bridge_new(struct worker *w, struct ev_loop *loop, const struct prov *p);
/* The session's multiplexer appears once keys are agreed. */
void bridge_set_mux(struct bridge *b, struct mux *m);
/* Close every connection (reset) and free. */
void bridge_free(struct bridge *b);
size_t bridge_count(const struct bridge *b);

/* The multiplexer's stream events (session forwards them). */
void bridge_stream_opened(struct bridge *b, uint32_t id);
void bridge_readable(struct bridge *b, uint32_t id);
void bridge_writable(struct bridge *b, uint32_t id);
void bridge_closed(struct bridge *b, uint32_t id, int reset, int reason);
/* Run the pumps that readable()/writable() asked for since the last call
 * (once per event-loop turn, before the datagrams are flushed). */
void bridge_flush(struct bridge *b);

#endif
