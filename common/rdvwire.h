/* rdvwire: the client <-> rendezvous server messages of docs/PROTOCOL.md
 * section 3 (HELLO, CHALLENGE, AUTH, AUTH_OK, ERROR, KEEPALIVE, KA_ACK, INTRO,
 * INTRO_ACK), the stateless cookie, the login keys and INTRO sealing, and the
 * relay messages of section 9 (RELAY, RELAYED).
 *
 * Used by rendezvousd (server side) and connectd (client side). Builders write
 * into a caller's buffer and return the datagram length, or -1 if it does not
 * fit or a field is out of range. Parsers check every length and field and
 * return 0, or -1 with *why (may be NULL) saying what is wrong; they never read
 * past n bytes.
 *
 * Messages the server receives (AUTH, KEEPALIVE, INTRO_ACK) are parsed first
 * (the server needs the identity or login_id to find the key) and then checked
 * with rdv_verify_tail_mac(). Messages a client receives (AUTH_OK, KA_ACK,
 * INTRO) are parsed and authenticated in one call, given the client's key. */
#ifndef P2PD_RDVWIRE_H
#define P2PD_RDVWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/uid.h"

#define RDV_VERSION 1

enum rdv_type {
	RDV_HELLO = 0x81,
	RDV_CHALLENGE = 0x82,
	RDV_AUTH = 0x83,
	RDV_AUTH_OK = 0x84,
	RDV_ERROR = 0x85,
	RDV_KEEPALIVE = 0x86,
	RDV_KA_ACK = 0x87,
	RDV_INTRO = 0x88,
	RDV_INTRO_ACK = 0x89,
	RDV_RELAY = 0xb0,   /* section 9: client -> server */
	RDV_RELAYED = 0xb1, /* section 9: server -> client */
};

enum rdv_role {
	RDV_ROLE_TARGET = 1,
	RDV_ROLE_INITIATOR = 2,
};

/* ERROR codes (PROTOCOL.md section 3). */
enum rdv_errcode {
	RDV_ERR_UNKNOWN_ID = 1,	 /* unknown user or device */
	RDV_ERR_BAD_AUTH = 2,	 /* bad credentials (proof, cookie, replay) */
	RDV_ERR_NOT_ALLOWED = 3, /* UID not allowed for this user */
	RDV_ERR_OFFLINE = 4,	 /* target not online */
	RDV_ERR_RATE = 5,	 /* rate limited or server full: try later */
	RDV_ERR_MALFORMED = 6,	 /* malformed request or unsupported version */
	RDV_ERR_NO_LOGIN = 7,	 /* unknown login: log in again */
};

#define RDV_NONCE_LEN	   16 /* cnonce, snonce */
#define RDV_LOGIN_ID_LEN   8
#define RDV_SESSION_ID_LEN 8
#define RDV_SECRET_LEN	   32 /* S, K_login, K_dev, K_server */
#define RDV_MAC_LEN	   16
#define RDV_ID_MAX	   64 /* user names: 1..64 bytes */
#define RDV_MAX_CANDS	   8
#define RDV_HELLO_LEN	   96 /* HELLO is padded to at least this */
#define RDV_CHALLENGE_LEN  38
#define RDV_ERROR_LEN	   19
#define RDV_SEAL_NONCE_LEN 24
#define RDV_ADDR_MAX	   19  /* family, port, 16 address bytes */
#define RDV_MAX_DGRAM	   512 /* every section-3 message fits */
#define RDV_MODE_MAX	   3   /* encryption modes 0..3 */

/* Relay (section 9): the inner peer datagram and the messages around it. */
#define RDV_INNER_MIN	     2	  /* type and version */
#define RDV_INNER_MAX	     1472 /* a 1500-byte IPv4 packet's UDP payload */
#define RDV_RELAY_OVERHEAD   (2 + RDV_LOGIN_ID_LEN + RDV_SESSION_ID_LEN + 8 + RDV_MAC_LEN)
#define RDV_RELAYED_OVERHEAD (2 + RDV_LOGIN_ID_LEN + RDV_SESSION_ID_LEN + RDV_MAC_LEN)
#define RDV_RELAY_MAX	     (RDV_RELAY_OVERHEAD + RDV_INNER_MAX)   /* 1514 */
#define RDV_RELAYED_MAX	     (RDV_RELAYED_OVERHEAD + RDV_INNER_MAX) /* 1506 */

/* An address as on the wire: family 4 or 6, port (host order), address bytes. */
struct rdv_addr {
	uint8_t family;
	uint16_t port;
	uint8_t ip[16]; /* 4 bytes used for family 4 */
};

/* A candidate list: at most RDV_MAX_CANDS addresses. */
struct rdv_cands {
	uint8_t n;
	struct rdv_addr a[RDV_MAX_CANDS];
};

/* Who a client is: a target (id = 8-byte UID) or an initiator (id = user name,
 * 1..64 printable ASCII characters other than space). */
struct rdv_id {
	uint8_t role;
	uint8_t len;
	uint8_t b[RDV_ID_MAX];
};

struct rdv_hello {
	struct rdv_id id;
	uint8_t cnonce[RDV_NONCE_LEN];
};

struct rdv_challenge {
	uint8_t cnonce[RDV_NONCE_LEN];
	uint32_t ts;
	uint8_t snonce[RDV_NONCE_LEN];
};

struct rdv_auth {
	struct rdv_id id;
	uint8_t cnonce[RDV_NONCE_LEN];
	uint32_t ts;
	uint8_t snonce[RDV_NONCE_LEN];
	p2p_uid uid;  /* initiator only: the target asked for */
	uint8_t mode; /* initiator only: encryption mode 0..3 */
	struct rdv_cands cands;
};

struct rdv_auth_ok {
	uint8_t cnonce[RDV_NONCE_LEN];
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	uint16_t keepalive; /* seconds */
	struct rdv_addr observed;
};

struct rdv_error {
	uint8_t ref[RDV_NONCE_LEN]; /* cnonce, or login_id and 8 zero bytes */
	uint8_t code;
};

struct rdv_keepalive {
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	uint64_t seq;
	struct rdv_cands cands;
};

struct rdv_ka_ack {
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	uint64_t seq;
	struct rdv_addr observed;
};

struct rdv_intro {
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	uint8_t session_id[RDV_SESSION_ID_LEN];
	struct rdv_id peer;
	uint8_t mode;
	struct rdv_cands cands;
	uint8_t secret[RDV_SECRET_LEN]; /* S; wipe after use */
};

struct rdv_intro_ack {
	uint8_t login_id[RDV_LOGIN_ID_LEN];
	uint8_t session_id[RDV_SESSION_ID_LEN];
};

/* RELAY: a peer datagram (inner) a client asks the server to forward to the
 * other member of a session. A parser sets inner to point into the datagram
 * it was given (nothing is copied). */
struct rdv_relay {
	uint8_t login_id[RDV_LOGIN_ID_LEN]; /* the sender's */
	uint8_t session_id[RDV_SESSION_ID_LEN];
	uint64_t seq; /* 1, 2, ... per login and session */
	const uint8_t *inner;
	size_t inner_len;
};

/* RELAYED: the server's forwarded copy, for the receiving member. */
struct rdv_relayed {
	uint8_t login_id[RDV_LOGIN_ID_LEN]; /* the receiver's */
	uint8_t session_id[RDV_SESSION_ID_LEN];
	const uint8_t *inner;
	size_t inner_len;
};

/* ---- addresses and candidate lists ---- */

/* sockaddr (AF_INET, AF_INET6; a v4-mapped IPv6 address becomes family 4) into
 * a; returns -1 for another family. */
int rdv_addr_from_sockaddr(struct rdv_addr *a, const struct sockaddr *sa);
/* a into a sockaddr; returns its length, or 0 if a's family is not 4 or 6. */
socklen_t rdv_addr_to_sockaddr(const struct rdv_addr *a, struct sockaddr_storage *ss);
/* 1 if equal (family, port and address bytes), 0 otherwise. */
int rdv_addr_equal(const struct rdv_addr *a, const struct rdv_addr *b);
/* "a.b.c.d:port" or "[v6]:port" into buf (SOCKADDR_STRLEN bytes); returns buf. */
const char *rdv_addr_format(const struct rdv_addr *a, char *buf, size_t len);
/* Append an addr / read one (family 4|6, port != 0; anything else sets r->err). */
void rdv_addr_put(struct wbuf *w, const struct rdv_addr *a);
void rdv_addr_get(struct rbuf *r, struct rdv_addr *a);

/* Empty a list. */
void rdv_cands_clear(struct rdv_cands *c);
/* Append a unless it is already there; returns 0, 1 if it was a duplicate,
 * -1 if the list is full or a is not a valid candidate (family, port 0). */
int rdv_cands_add(struct rdv_cands *c, const struct rdv_addr *a);
/* Append a list / read one (count <= 8, valid addrs; otherwise r->err). */
void rdv_cands_put(struct wbuf *w, const struct rdv_cands *c);
void rdv_cands_get(struct rbuf *r, struct rdv_cands *c);

/* ---- identities ---- */

/* Fill id for a target UID or an initiator user name; returns -1 (with *why)
 * if the name is empty, longer than 64 bytes or holds other than printable
 * ASCII characters without space. */
int rdv_id_target(struct rdv_id *id, const p2p_uid *uid);
int rdv_id_initiator(struct rdv_id *id, const char *user, const char **why);
/* Check role and id as the wire allows them; returns 0 or -1 with *why. */
int rdv_id_check(const struct rdv_id *id, const char **why);
/* A printable form of id (the UID, or the user name) into buf; returns buf. */
const char *rdv_id_format(const struct rdv_id *id, char *buf, size_t len);
#define RDV_ID_STRLEN (RDV_ID_MAX + 1)

/* ---- keys ---- */

/* K_dev = kdf(secret, "device key"). */
void rdv_device_key(uint8_t out[RDV_SECRET_LEN], const char *secret);
/* K_login = kdf(K_client, "login", cnonce || snonce). */
void rdv_login_key(uint8_t out[RDV_SECRET_LEN], const uint8_t *kclient, size_t klen,
		   const uint8_t cnonce[RDV_NONCE_LEN], const uint8_t snonce[RDV_NONCE_LEN]);

/* snonce = MAC(K_server, "cookie" || ts || src || role || id || cnonce). */
void rdv_cookie(uint8_t snonce[RDV_NONCE_LEN], const uint8_t kserver[RDV_SECRET_LEN], uint32_t ts,
		const struct rdv_addr *src, const struct rdv_id *id,
		const uint8_t cnonce[RDV_NONCE_LEN]);
/* Recompute the cookie and compare in constant time; returns 0 if it matches. */
int rdv_cookie_verify(const uint8_t snonce[RDV_NONCE_LEN], const uint8_t kserver[RDV_SECRET_LEN],
		      uint32_t ts, const struct rdv_addr *src, const struct rdv_id *id,
		      const uint8_t cnonce[RDV_NONCE_LEN]);

/* Check the trailing 16-byte MAC of a datagram (AUTH proof, KEEPALIVE,
 * INTRO_ACK): MAC(key, p[0 .. n-16]). Constant time; returns 0 if it verifies. */
int rdv_verify_tail_mac(const uint8_t *p, size_t n, const uint8_t *key, size_t keylen);

/* ---- demultiplexing ---- */

/* The message type of a section-3 datagram (RDV_HELLO..RDV_INTRO_ACK), or -1
 * if it is too short, has another version or an unknown type. */
int rdv_msg_type(const uint8_t *p, size_t n);

/* ---- messages ---- */

/* HELLO, padded with zeros to exactly RDV_HELLO_LEN bytes. */
int rdv_build_hello(uint8_t *out, size_t cap, const struct rdv_hello *h);
/* Returns 0; -1 (drop) if too short, wrong type/version or unreadable; -2 if
 * the cnonce is readable (h->cnonce filled) but the role, id or padding is not
 * valid (the server may answer ERROR 6). */
int rdv_parse_hello(const uint8_t *p, size_t n, struct rdv_hello *h, const char **why);

int rdv_build_challenge(uint8_t *out, size_t cap, const struct rdv_challenge *c);
int rdv_parse_challenge(const uint8_t *p, size_t n, struct rdv_challenge *c, const char **why);

/* AUTH with proof = MAC(kclient, every byte before it). The body is the
 * candidates (target), or uid, mode and candidates (initiator). */
int rdv_build_auth(uint8_t *out, size_t cap, const struct rdv_auth *a, const uint8_t *kclient,
		   size_t klen);
/* Parse an AUTH without checking the proof (use rdv_verify_tail_mac). Returns
 * 0; -1 (drop) if the head (type .. snonce) is unreadable or invalid; -2 if
 * the head is valid (filled in) but the body is not (ERROR 6 once the cookie
 * verifies). */
int rdv_parse_auth(const uint8_t *p, size_t n, struct rdv_auth *a, const char **why);

int rdv_build_auth_ok(uint8_t *out, size_t cap, const struct rdv_auth_ok *m,
		      const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse and authenticate with K_login; -1 on any failure. */
int rdv_parse_auth_ok(const uint8_t *p, size_t n, struct rdv_auth_ok *m,
		      const uint8_t klogin[RDV_SECRET_LEN], const char **why);

/* ref: a cnonce, or use rdv_error_ref_login() for code 7. */
int rdv_build_error(uint8_t *out, size_t cap, const uint8_t ref[RDV_NONCE_LEN], uint8_t code);
/* Codes outside 1..7 are refused. */
int rdv_parse_error(const uint8_t *p, size_t n, struct rdv_error *e, const char **why);
/* ref = login_id followed by 8 zero bytes. */
void rdv_error_ref_login(uint8_t ref[RDV_NONCE_LEN], const uint8_t login_id[RDV_LOGIN_ID_LEN]);
/* What an ERROR code means, in words ("target not online"). */
const char *rdv_error_str(int code);

int rdv_build_keepalive(uint8_t *out, size_t cap, const struct rdv_keepalive *k,
			const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse without checking the mac (use rdv_verify_tail_mac with K_login). */
int rdv_parse_keepalive(const uint8_t *p, size_t n, struct rdv_keepalive *k, const char **why);

int rdv_build_ka_ack(uint8_t *out, size_t cap, const struct rdv_ka_ack *k,
		     const uint8_t klogin[RDV_SECRET_LEN]);
int rdv_parse_ka_ack(const uint8_t *p, size_t n, struct rdv_ka_ack *k,
		     const uint8_t klogin[RDV_SECRET_LEN], const char **why);

/* INTRO with S sealed (XChaCha20-Poly1305, random nonce, additional data =
 * every byte before the nonce) under the receiver's K_login. */
int rdv_build_intro(uint8_t *out, size_t cap, const struct rdv_intro *m,
		    const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse and open an INTRO; -1 if malformed or it does not open with klogin. */
int rdv_open_intro(const uint8_t *p, size_t n, struct rdv_intro *m,
		   const uint8_t klogin[RDV_SECRET_LEN], const char **why);

int rdv_build_intro_ack(uint8_t *out, size_t cap, const struct rdv_intro_ack *m,
			const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse without checking the mac (use rdv_verify_tail_mac with K_login). */
int rdv_parse_intro_ack(const uint8_t *p, size_t n, struct rdv_intro_ack *m, const char **why);

/* ---- relay (section 9) ---- */

/* Check an inner peer datagram as a relay carries it: RDV_INNER_MIN..
 * RDV_INNER_MAX bytes, first byte a peer message type (0x90..0xa0). Returns 0,
 * or -1 with *why. */
int rdv_inner_check(const uint8_t *inner, size_t n, const char **why);

/* RELAY with mac = MAC(klogin, every byte before it) (client side: klogin is
 * the sender's K_login). Returns -1 if seq is 0, inner is not valid (see
 * rdv_inner_check) or it does not fit. */
int rdv_build_relay(uint8_t *out, size_t cap, const struct rdv_relay *m,
		    const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse a RELAY without checking the mac (server side: look the login up,
 * then rdv_verify_tail_mac with its K_login). m->inner points into p. */
int rdv_parse_relay(const uint8_t *p, size_t n, struct rdv_relay *m, const char **why);

/* RELAYED with mac = MAC(klogin, every byte before it) (server side: klogin
 * is the receiver's K_login). Returns -1 if inner is not valid or it does not
 * fit. */
int rdv_build_relayed(uint8_t *out, size_t cap, const struct rdv_relayed *m,
		      const uint8_t klogin[RDV_SECRET_LEN]);
/* Parse and authenticate a RELAYED with the receiver's own K_login (client
 * side); -1 on any failure. The caller still checks that login_id is its own
 * and session_id one of its sessions. m->inner points into p. */
int rdv_parse_relayed(const uint8_t *p, size_t n, struct rdv_relayed *m,
		      const uint8_t klogin[RDV_SECRET_LEN], const char **why);

#endif
