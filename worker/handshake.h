/* handshake: the peer handshake of docs/PROTOCOL.md section 4, as pure state
 * machines over caller-supplied buffers (no sockets, no timers, no logging).
 *
 *   PUNCH      0x90 1 | session_id(8) | role(1) | mac(16)                    MAC(K_punch, ...)
 *   HS_INIT    0x91 1 | session_id(8) | sender_index(4) | mode(1) | e_i(32) | mac(16)  MAC(K_hs)
 *   HS_RESP    0x92 1 | session_id(8) | sender_index(4) | receiver_index(4) | e_t(32) |
 * confirm_t(16) HS_CONFIRM 0x93 1 | receiver_index(4) | confirm_i(16) HS_REJECT  0x94 1 |
 * session_id(8) | reason(1) | mac(16)                  MAC(K_hs, ...)
 *
 * The initiator (struct hs_ini) sends HS_INIT and answers HS_RESP with
 * HS_CONFIRM; the target (struct hs_tgt) answers HS_INIT with HS_RESP or
 * HS_REJECT and checks HS_CONFIRM. Both sides end with the same per-direction
 * keys, which depend on fresh X25519 ephemerals as well as on the session
 * secret S. Ephemerals and intermediate keys are wiped as soon as they are used.
 *
 * When a function refuses a datagram, it sets the state's `why` to a fixed
 * string saying what was wrong (never anything secret), for debug logs. */
#ifndef P2PD_HANDSHAKE_H
#define P2PD_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HS_VERSION 1
enum hs_type {
	HS_T_PUNCH = 0x90,
	HS_T_INIT = 0x91,
	HS_T_RESP = 0x92,
	HS_T_CONFIRM = 0x93,
	HS_T_REJECT = 0x94,
};

/* Exact sizes of each message (a datagram of any other size is refused). */
#define HS_PUNCH_LEN   27
#define HS_INIT_LEN    63
#define HS_RESP_LEN    66
#define HS_CONFIRM_LEN 22
#define HS_REJECT_LEN  27
#define HS_MAX_LEN     HS_RESP_LEN

#define HS_SECRET_LEN 32
#define HS_KEY_LEN    32
#define HS_NMODES     4 /* encryption modes 0..3 */

/* Roles, as on the rendezvous protocol. */
enum hs_role {
	HS_ROLE_TARGET = 1,
	HS_ROLE_INITIATOR = 2,
};

/* HS_REJECT reasons. */
enum hs_reject_reason {
	HS_REJECT_MODE = 1, /* the target does not allow the requested mode */
};

/* Results of hs_tgt_on_init. */
enum hs_result {
	HS_BAD = -1,	 /* refused: not for this session, not authentic, malformed */
	HS_OK = 0,	 /* accepted: the answer and the keys are filled */
	HS_REFUSED = 1,	 /* authentic, but the mode is not allowed: the answer is an HS_REJECT */
	HS_REPEATED = 2, /* a copy of the HS_INIT already accepted: the same HS_RESP again;
			    keys, mode and peer index are NOT written again */
};

struct hs_keys {
	uint8_t k_i2t[HS_KEY_LEN]; /* initiator to target */
	uint8_t k_t2i[HS_KEY_LEN]; /* target to initiator */
};

/* What a handshake datagram says about itself, for finding its session. */
struct hs_peek {
	int type;	 /* enum hs_type */
	int has_session; /* PUNCH, HS_INIT, HS_RESP, HS_REJECT carry session_id */
	uint64_t session_id;
	int has_receiver; /* HS_RESP and HS_CONFIRM carry the receiver's index */
	uint32_t receiver_index;
};

enum hs_ini_state { HS_INI_IDLE = 0, HS_INI_SENT, HS_INI_DONE };

struct hs_ini {
	int state;
	int mode;
	uint64_t session_id;
	uint32_t my_index;
	uint8_t s[HS_SECRET_LEN];      /* session secret S (wiped when done) */
	uint8_t e_priv[32];	       /* ephemeral private key (wiped when done) */
	uint8_t init_pkt[HS_INIT_LEN]; /* the HS_INIT to (re)send */
	const char *why;	       /* why the last datagram was refused */
};

enum hs_tgt_state { HS_TGT_IDLE = 0, HS_TGT_RESPONDED, HS_TGT_CONFIRMED };

struct hs_tgt {
	int state;
	uint64_t session_id;
	uint32_t my_index;
	uint8_t init_pkt[HS_INIT_LEN]; /* the HS_INIT accepted, to recognise copies */
	uint8_t resp_pkt[HS_RESP_LEN]; /* the HS_RESP sent, to repeat it */
	uint8_t confirm_i[16];	       /* the HS_CONFIRM tag expected */
	const char *why;
};

/* Peek at a handshake datagram: checks type, version and the exact length for
 * the type, then reads session_id and/or receiver_index. Authenticates nothing.
 * Returns 0, or -1 if it is not a well-formed handshake datagram. */
int hs_peek(const uint8_t *pkt, size_t n, struct hs_peek *out);

/* Build a PUNCH from role (HS_ROLE_*) into out. Returns HS_PUNCH_LEN, or -1 if
 * cap is too small or the role is unknown. */
ssize_t hs_punch_build(const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int role, uint8_t *out,
		       size_t cap);

/* Returns 0 if pkt is an authentic PUNCH of this session sent by from_role
 * (the peer's role), -1 otherwise. */
int hs_punch_check(const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int from_role,
		   const uint8_t *pkt, size_t n);

/* Initiator: make a fresh ephemeral key and the HS_INIT asking for mode (0..3),
 * with my_index as the index the target is to put in data packets to us.
 * Returns 0, or -1 for an unknown mode. The datagram is hs_ini_packet(). */
int hs_init_start(struct hs_ini *ini, const uint8_t s[HS_SECRET_LEN], uint64_t session_id, int mode,
		  uint32_t my_index);

/* The HS_INIT made by hs_init_start: the same bytes for every retransmission.
 * Returns NULL unless a handshake is in progress. */
const uint8_t *hs_ini_packet(const struct hs_ini *ini, size_t *len);

/* Initiator: handle an HS_RESP. If it is authentic for our HS_INIT, writes the
 * HS_CONFIRM to send into confirm_out (cap >= HS_CONFIRM_LEN), the keys into
 * *out and the target's index (for our data packets) into *peer_index, wipes
 * the ephemeral and S, and returns 0. Otherwise returns -1 and nothing changes
 * (a forged HS_RESP does not end the handshake). */
int hs_ini_on_resp(struct hs_ini *ini, const uint8_t *pkt, size_t n, uint8_t *confirm_out,
		   size_t cap, size_t *confirm_len, struct hs_keys *out, uint32_t *peer_index);

/* Initiator: handle an HS_REJECT. Returns its reason (enum hs_reject_reason,
 * 0..255) if it is authentic for this session and our HS_INIT is pending, -1
 * otherwise. */
int hs_ini_on_reject(struct hs_ini *ini, const uint8_t *pkt, size_t n);

/* Wipe every secret in ini and return it to HS_INI_IDLE. */
void hs_ini_wipe(struct hs_ini *ini);

/* Target: handle an HS_INIT for session_id. t must be zeroed (or hs_tgt_wipe'd)
 * before the first HS_INIT of a session. allowed_modes_mask has bit m set for
 * each mode m the target accepts. resp_out needs HS_MAX_LEN bytes. Returns
 * (enum hs_result):
 *   HS_OK       resp_out/resp_len hold HS_RESP; *out, *mode, *peer_index filled;
 *   HS_REFUSED  resp_out/resp_len hold an HS_REJECT (reason 1); *mode is the
 *               mode asked for (for the message); no state kept;
 *   HS_REPEATED a copy of the accepted HS_INIT: the same HS_RESP bytes again,
 *               nothing else written (do not set up the data keys again);
 *   HS_BAD      anything else (not authentic, other session, malformed, a
 *               different HS_INIT after one was accepted, a low-order e_i). */
int hs_tgt_on_init(struct hs_tgt *t, const uint8_t s[HS_SECRET_LEN], uint64_t session_id,
		   unsigned allowed_modes_mask, uint32_t my_index, const uint8_t *pkt, size_t n,
		   uint8_t *resp_out, size_t cap, size_t *resp_len, struct hs_keys *out, int *mode,
		   uint32_t *peer_index);

/* Target: handle an HS_CONFIRM. Returns 0 if it proves the initiator derived
 * the same keys (again 0 for a copy), -1 otherwise. */
int hs_tgt_on_confirm(struct hs_tgt *t, const uint8_t *pkt, size_t n);

/* Wipe every secret in t and return it to HS_TGT_IDLE. */
void hs_tgt_wipe(struct hs_tgt *t);

#endif
