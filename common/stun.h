/* stun: STUN messages (RFC 5389 / RFC 8489, with the RFC 5780 NAT behaviour
 * discovery attributes) and the Binding responder used by rendezvousd.
 *
 * Only messages with the magic cookie are understood (no RFC 3489 "classic"
 * STUN). Parsed attributes: MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, CHANGE-REQUEST,
 * RESPONSE-ORIGIN, OTHER-ADDRESS, the legacy CHANGED-ADDRESS, ERROR-CODE,
 * UNKNOWN-ATTRIBUTES and FINGERPRINT (verified when present). Attributes of
 * the base protocol and of ICE that p2pd has no use for (USERNAME,
 * MESSAGE-INTEGRITY, REALM, NONCE, PRIORITY, PADDING, ...) are understood and
 * skipped; so are unknown comprehension-optional ones (0x8000-0xFFFF).
 * Unknown comprehension-required ones are listed in struct stun_msg so that a
 * server can answer 420 (Unknown Attribute), as stun_answer() does.
 *
 * Nothing here logs: these functions see datagrams from anyone, and the caller
 * decides what is worth a log line (each failure comes with a reason). */
#ifndef P2PD_STUN_H
#define P2PD_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN	  20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TXID_LEN	  12

/* Message types (method Binding in each class). */
#define STUN_BINDING_REQUEST	0x0001
#define STUN_BINDING_INDICATION 0x0011
#define STUN_BINDING_SUCCESS	0x0101
#define STUN_BINDING_ERROR	0x0111

/* Attribute types. */
#define STUN_ATTR_MAPPED_ADDRESS     0x0001
#define STUN_ATTR_CHANGE_REQUEST     0x0003
#define STUN_ATTR_CHANGED_ADDRESS    0x0005 /* RFC 3489; OTHER-ADDRESS replaces it */
#define STUN_ATTR_ERROR_CODE	     0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PADDING	     0x0026
#define STUN_ATTR_SOFTWARE	     0x8022
#define STUN_ATTR_FINGERPRINT	     0x8028
#define STUN_ATTR_RESPONSE_ORIGIN    0x802B
#define STUN_ATTR_OTHER_ADDRESS	     0x802C

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define STUN_CHANGE_IP	 0x04u
#define STUN_CHANGE_PORT 0x02u

/* Bits of stun_msg.attrs: which attributes the message carried. */
#define STUN_A_MAPPED		  0x0001u
#define STUN_A_XOR_MAPPED	  0x0002u
#define STUN_A_CHANGE_REQUEST	  0x0004u
#define STUN_A_RESPONSE_ORIGIN	  0x0008u
#define STUN_A_OTHER_ADDRESS	  0x0010u
#define STUN_A_CHANGED_ADDRESS	  0x0020u
#define STUN_A_ERROR_CODE	  0x0040u
#define STUN_A_UNKNOWN_ATTRIBUTES 0x0080u
#define STUN_A_FINGERPRINT	  0x0100u /* present and verified */
#define STUN_A_SOFTWARE		  0x0200u
#define STUN_A_INTEGRITY	  0x0400u /* MESSAGE-INTEGRITY(-SHA256), not verified */
#define STUN_A_PADDING		  0x0800u

#define STUN_MAX_UNKNOWN 8

/* The largest Binding success response stun_answer() builds: XOR-MAPPED-ADDRESS,
 * MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS, all IPv6, and FINGERPRINT. */
#define STUN_MAX_BINDING_RESPONSE (STUN_HEADER_LEN + 4 * 24 + 8)
/* stun_build_request() pads requests to this size, so that a server refusing
 * to amplify (STUN_SERVER_NO_AMPLIFY) still sends its fullest answer. */
#define STUN_PADDED_REQUEST_LEN STUN_MAX_BINDING_RESPONSE
/* The largest pad_to stun_build_request_pad() can reach (one SOFTWARE). */
#define STUN_MAX_PAD_TO (STUN_HEADER_LEN + 4 + 124 + 8)
/* Room for any message this module builds. */
#define STUN_MAX_BUILT 512

struct stun_msg {
	uint16_t type;			/* e.g. STUN_BINDING_SUCCESS */
	uint8_t txid[STUN_TXID_LEN];	/* transaction id */
	uint32_t attrs;			/* STUN_A_* bits */
	struct sockaddr_storage mapped; /* each valid when its STUN_A_* bit is set */
	struct sockaddr_storage xor_mapped;
	struct sockaddr_storage response_origin;
	struct sockaddr_storage other_address;
	struct sockaddr_storage changed_address;
	uint32_t change_request;	    /* STUN_CHANGE_IP | STUN_CHANGE_PORT */
	uint16_t error_code;		    /* 300..699 */
	uint16_t unknown[STUN_MAX_UNKNOWN]; /* comprehension-required types not understood */
	size_t n_unknown;		    /* how many in unknown[] */
	uint16_t listed[STUN_MAX_UNKNOWN];  /* the types an UNKNOWN-ATTRIBUTES attribute named */
	size_t n_listed;		    /* how many in listed[] */
	size_t err_at;			    /* on failure: offset of the offending bytes */
};

/* Cheap demultiplexing test for a datagram: at least a header, top two bits
 * zero, the magic cookie, and a length field that is a multiple of 4 and
 * matches n. Returns 1 if b looks like a STUN message, 0 if not. */
int stun_is_message(const uint8_t *b, size_t n);

/* Parse and validate a whole datagram into *m. Duplicate attributes: the first
 * one counts. Attributes after MESSAGE-INTEGRITY are ignored except
 * FINGERPRINT, which must be last and must match. Returns 0, or -1 with *why
 * (if why is not NULL) saying what is wrong and m->err_at where. */
int stun_parse(const uint8_t *b, size_t n, struct stun_msg *m, const char **why);

/* The address a response reports: XOR-MAPPED-ADDRESS if present, else
 * MAPPED-ADDRESS; NULL if the message has neither. */
const struct sockaddr *stun_msg_mapped(const struct stun_msg *m);

/* 1 if m is a Binding success response to the request with this txid. */
int stun_is_response_to(const struct stun_msg *m, const uint8_t txid[STUN_TXID_LEN]);

/* Fill txid with random bytes (libsodium's generator). */
void stun_new_txid(uint8_t txid[STUN_TXID_LEN]);

/* Binding request with FINGERPRINT and, when change_flags is not 0, a
 * CHANGE-REQUEST. stun_build_request pads the request with a SOFTWARE
 * attribute to STUN_PADDED_REQUEST_LEN bytes (see STUN_SERVER_NO_AMPLIFY);
 * stun_build_request_pad pads it to at least pad_to bytes (0: no padding;
 * at most STUN_MAX_PAD_TO). Returns the length written, or 0 if cap is too
 * small or pad_to too large. */
size_t stun_build_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			  uint32_t change_flags);
size_t stun_build_request_pad(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			      uint32_t change_flags, size_t pad_to);

/* Binding success response: XOR-MAPPED-ADDRESS of mapped; when other is given
 * also MAPPED-ADDRESS (RFC 5780 section 6.1 wants both) and OTHER-ADDRESS;
 * RESPONSE-ORIGIN when origin is given; FINGERPRINT last. IPv4-mapped IPv6
 * addresses are written as IPv4. Returns the length, or 0 if cap is too small
 * or an address is neither IPv4 nor IPv6. */
size_t stun_build_response(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			   const struct sockaddr *mapped, const struct sockaddr *origin,
			   const struct sockaddr *other);

/* Error response (Binding error class) with ERROR-CODE code (300..699) and
 * reason, an UNKNOWN-ATTRIBUTES attribute listing n_unknown types when
 * n_unknown > 0, and FINGERPRINT. Returns the length, or 0. */
size_t stun_build_error(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN], int code,
			const char *reason, const uint16_t *unknown, size_t n_unknown);

/* Never send a reply larger than the request it answers: optional attributes
 * are left out (MAPPED-ADDRESS first, then RESPONSE-ORIGIN, OTHER-ADDRESS,
 * FINGERPRINT) until it fits, and a request too small even for a bare
 * XOR-MAPPED-ADDRESS gets no reply. Plain RFC 5389 servers always answer. */
#define STUN_SERVER_NO_AMPLIFY 0x01

/* What a Binding responder knows about itself, per receiving socket. */
struct stun_server {
	/* The address the request arrived on (the socket's own, specific
	 * address). A wildcard address here leaves RESPONSE-ORIGIN out. */
	struct sockaddr_storage local;
	/* The alternate address relative to local: the other IP and the other
	 * port (RFC 5780 "Ca:Cp"), or ss_family 0 if the server has none. With
	 * a different IP and port it is sent as OTHER-ADDRESS; a different port
	 * on the same IP only allows "change port". The caller must have a
	 * socket on every combination it advertises. */
	struct sockaddr_storage alt;
	int flags; /* STUN_SERVER_* */
};

/* Answer one datagram received from `from` on srv->local. Replies only to a
 * well-formed Binding request (with a correct FINGERPRINT if it has one):
 *  - a success response (stun_build_response) for `from`;
 *  - 420 Unknown Attribute when the request has unknown comprehension-required
 *    attributes, or a CHANGE-REQUEST this server cannot honour (no alternate
 *    IP or port for the flags it asks).
 * *reply_from is the address the reply must be sent from: srv->local, with
 * the IP and/or port of srv->alt when CHANGE-REQUEST asked for them.
 * Returns the reply length, or 0 for no reply with *why (if not NULL) saying
 * why (not STUN, malformed, not a Binding request, too large to send). */
size_t stun_answer(const uint8_t *req, size_t n, const struct sockaddr *from,
		   const struct stun_server *srv, uint8_t *out, size_t cap,
		   struct sockaddr_storage *reply_from, const char **why);

#endif
