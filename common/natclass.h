/* natclass: classify a NAT from up to three STUN Binding exchanges made from
 * one local UDP socket, and word the result as `connectd -n` prints it.
 *
 * Pure logic: the caller sends the requests and fills struct natclass_input.
 *   probe 0: the server's primary address and port;
 *   probe 1: the same IP, the server's alternate port;
 *   probe 2: the server's alternate IP and port (its OTHER-ADDRESS), if any.
 * Mapping behaviour follows RFC 4787 / RFC 5780 section 4.3: the same mapped
 * address for another port and another IP means endpoint-independent; the
 * same for another port only, address-dependent; a new one for another port,
 * address-and-port-dependent ("symmetric"). */
#ifndef P2PD_NATCLASS_H
#define P2PD_NATCLASS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define NATCLASS_PROBES 3

enum natclass_mapping {
	NATCLASS_MAP_UNKNOWN = 0,
	NATCLASS_MAP_ENDPOINT_INDEPENDENT,
	NATCLASS_MAP_ADDRESS_DEPENDENT,
	NATCLASS_MAP_ADDRESS_PORT_DEPENDENT,
};

struct natclass_probe {
	int sent;			/* 1 if this request was sent */
	int replied;			/* 1 if a Binding success response came */
	struct sockaddr_storage server; /* where it was sent */
	struct sockaddr_storage mapped; /* the mapped address reported (if replied) */
};

struct natclass_input {
	uint16_t local_port;	       /* the local UDP socket's port (host order) */
	struct sockaddr_storage local; /* its address if known, else ss_family 0 */
	struct natclass_probe probe[NATCLASS_PROBES];
};

/* Per probe, filled for each probe that replied. */
struct natclass_line {
	int same_mapping;   /* mapped address equal to probe 0's ("no remap") */
	int port_preserved; /* mapped port equal to the local port */
	int different_ip;   /* sent to another server IP than probe 0 */
};

struct natclass_result {
	int udp_ok;		       /* probe 0 was answered */
	int no_nat;		       /* probe 0's mapped address is the local address */
	enum natclass_mapping mapping; /* NATCLASS_MAP_UNKNOWN when not tested enough */
	int port_preserved;	       /* 1 every answer kept the local port, 0 not, -1 unknown */
	int remaps;		       /* 1 new destinations got new mappings, 0 not, -1 unknown */
	struct natclass_line line[NATCLASS_PROBES];
};

/* Classify in into *r. Never fails: what was not tested is reported unknown. */
void natclass_classify(const struct natclass_input *in, struct natclass_result *r);

/* "endpoint-independent", "address-dependent", "address-and-port-dependent"
 * or "unknown". */
const char *natclass_mapping_name(enum natclass_mapping m);

/* The line for probe i, without a newline, e.g.
 *   Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=4000 mport=4000] [preserve port]
 * The last probe sent ends with " [OK]" when UDP works. Writes at most len
 * bytes, always NUL-terminated when len > 0; returns the length of the whole
 * line (as snprintf does), 0 if probe i was not sent. */
size_t natclass_probe_line(const struct natclass_input *in, const struct natclass_result *r, int i,
			   char *buf, size_t len);

/* The router summary lines, each ending in '\n' (e.g. "This router preserves
 * ports, this is optimal.\n"). Same buffer rules and return as above. */
size_t natclass_summary(const struct natclass_input *in, const struct natclass_result *r, char *buf,
			size_t len);

/* Every probe line and then the summary, each ending in '\n'. Same rules. */
size_t natclass_format(const struct natclass_input *in, const struct natclass_result *r, char *buf,
		       size_t len);

/* natclass_format() to f. Returns 0, or -1 if writing failed. */
int natclass_print(FILE *f, const struct natclass_input *in, const struct natclass_result *r);

#endif
