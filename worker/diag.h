/* diag: `connectd -n`, network diagnostics (DESIGN section 9).
 *
 * In order: DNS (the server name resolves), TCP connectivity to the server,
 * UDP connectivity with the mapped address and NAT behaviour via STUN (the
 * server's port, its alternate port, its alternate address when it has one),
 * the router summary, the byte order, the known-answer self-tests of every
 * cipher and hash, then "Looks compatible." or what is wrong. Works against
 * rendezvousd and any standard STUN server. */
#ifndef P2PD_DIAG_H
#define P2PD_DIAG_H

/* server: "host[:port]" or NULL ($P2P_SERVER, then localhost:5959).
 * Returns 0 only if every check passed. */
int diag_run(const char *server);

#endif
