/* statusmsg: the worker -> supervisor status channel (fd 3 of every worker).
 *
 * The channel is one end of a SOCK_SEQPACKET socketpair: every datagram is
 * exactly one message, so message boundaries come from the socket and the
 * length field is a cross-check. A message is
 *
 *   u8  version (SM_VERSION)
 *   u8  type    (enum sm_type)
 *   u16 length of the body that follows (big-endian)
 *   body, whose layout depends on the type:
 *     SM_STATE       text: the worker's state ("connecting", "registered", ...)
 *     SM_CONNECTED   empty
 *     SM_PATH        u8 path (SM_PATH_DIRECT or SM_PATH_RELAY), u32 handshake_ms,
 *                    text: the peer's address
 *     SM_THROUGHPUT  u64 tx bytes/s, u64 rx bytes/s
 *     SM_EXIT        u8 exit code, text: the reason
 *     SM_STATS       u32 rtt_ms (SM_RTT_UNKNOWN: none yet), u64 bytes in, u64 bytes out
 *     SM_LOCAL       text: the local endpoint served ("127.0.0.1:33000")
 *
 * "text" is the rest of the body: 0..SM_MAX_TEXT bytes, no NUL and no control
 * characters (bytes 0x00-0x1F and 0x7F); SM_STATE text is 1..SM_MAX_STATE
 * bytes of [a-z0-9_-]. Every decoder check names what was wrong. */
#ifndef P2PD_STATUSMSG_H
#define P2PD_STATUSMSG_H

#include <stddef.h>
#include <stdint.h>

#define SM_VERSION     1
#define SM_HDR_LEN     4
#define SM_MAX_TEXT    255
#define SM_MAX_STATE   31
#define SM_MAX_MSG     (SM_HDR_LEN + 1 + 4 + SM_MAX_TEXT) /* the largest message */
#define SM_RTT_UNKNOWN 0xFFFFFFFFu

enum sm_type {
	SM_STATE = 1,
	SM_CONNECTED = 2,
	SM_PATH = 3,
	SM_THROUGHPUT = 4,
	SM_EXIT = 5,
	SM_STATS = 6,
	SM_LOCAL = 7,
};

enum sm_path {
	SM_PATH_DIRECT = 1,
	SM_PATH_RELAY = 2,
};

/* One decoded message; only the fields of its type are meaningful. */
struct sm_msg {
	enum sm_type type;
	char text[SM_MAX_TEXT + 1]; /* STATE, PATH (peer), EXIT (reason), LOCAL */
	enum sm_path path;	    /* PATH */
	uint32_t ms;		    /* PATH: handshake_ms; STATS: rtt_ms */
	uint8_t code;		    /* EXIT */
	uint64_t a, b;		    /* THROUGHPUT: tx, rx; STATS: bytes in, bytes out */
};

/* Encodes m into buf (at least SM_MAX_MSG bytes is always enough). Text longer
 * than the limit is cut, and control characters in it become '?', so any
 * string can be sent. Returns the message length, or -1 if m->type or
 * m->path is unknown, the state text is not a valid state word, or the buffer
 * is too small. */
int sm_encode(const struct sm_msg *m, uint8_t *buf, size_t buflen);

/* Decodes one message of len bytes into *m. Returns 0, or -1 with a reason in
 * err ("message of 3 bytes is shorter than the 4-byte header", "version 2,
 * expected 1", "unknown type 9", ...). */
int sm_decode(const uint8_t *buf, size_t len, struct sm_msg *m, char *err, size_t errlen);

/* The name of a type ("state", "path", ...) or "unknown". */
const char *sm_type_name(int type);

/* "direct" or "relay" for a path value, NULL for anything else. */
const char *sm_path_name(int path);

/* The path value of "direct" or "relay"; -1 for anything else. */
int sm_path_parse(const char *name);

#endif
