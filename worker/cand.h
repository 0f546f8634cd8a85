/* cand: the local candidate addresses a worker announces to the server. */
#ifndef P2PD_CAND_H
#define P2PD_CAND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Fill out[] with the addresses (each with the given UDP port) a peer may reach
 * this worker on: the IPv4 addresses of every interface that is up, loopback
 * excluded — unless the server itself is on loopback, in which case everything
 * runs on this host and 127.0.0.1 is the only candidate. Returns the count. */
size_t cand_gather(const struct sockaddr *server, uint16_t port, struct sockaddr_storage *out,
		   size_t max);

/* Same address and port (IPv4 or IPv6). */
int sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
