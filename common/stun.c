/* stun: STUN codec and Binding responder; see stun.h. */
#include "common/stun.h"

#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "common/buf.h"

#define FINGERPRINT_XOR 0x5354554Eu
#define ATTR_HDR	4
#define FP_ATTR_LEN	(ATTR_HDR + 4)
#define SOFTWARE_MAX	124 /* bytes of padding text, a multiple of 4 below 128 */

/* Types of the base protocol and of ICE that we understand but do not use. */
#define ATTR_SOURCE_ADDRESS	  0x0004
#define ATTR_USERNAME		  0x0006
#define ATTR_MESSAGE_INTEGRITY	  0x0008
#define ATTR_REALM		  0x0014
#define ATTR_NONCE		  0x0015
#define ATTR_MESSAGE_INTEGRITY256 0x001C
#define ATTR_PASSWORD_ALGORITHM	  0x001D
#define ATTR_USERHASH		  0x001E
#define ATTR_PRIORITY		  0x0024
#define ATTR_USE_CANDIDATE	  0x0025

#define FAMILY_IPV4 0x01
#define FAMILY_IPV6 0x02

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* CRC-32 as in ISO 3309 / ITU-T V.42 (reflected 0xEDB88320), half a byte at a time. */
static uint32_t
crc32(const uint8_t *p, size_t n)
{
	static const uint32_t tab[16] = {
	    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
	    0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
	    0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
	};
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		c = (c >> 4) ^ tab[c & 15];
		c = (c >> 4) ^ tab[c & 15];
	}
	return c ^ 0xFFFFFFFFu;
}

int
stun_is_message(const uint8_t *b, size_t n)
{
	size_t len;

	if (b == NULL || n < STUN_HEADER_LEN || (b[0] & 0xC0) != 0)
		return 0;
	if (be32_get(b + 4) != STUN_MAGIC_COOKIE)
		return 0;
	len = be16_get(b + 2);
	return (len & 3) == 0 && len + STUN_HEADER_LEN == n;
}

/* ---- parsing ---- */

static int
fail(struct stun_msg *m, size_t at, const char **why, const char *msg)
{
	m->err_at = at;
	if (why != NULL)
		*why = msg;
	return -1;
}

/* Decode a (XOR-)MAPPED-ADDRESS style value into ss. Returns NULL or a reason. */
static const char *
decode_addr(const uint8_t *v, size_t vlen, int xored, const uint8_t *hdr,
	    struct sockaddr_storage *ss)
{
	uint16_t port;

	if (vlen < 4)
		return "address attribute shorter than 4 bytes";
	port = be16_get(v + 2);
	if (xored)
		port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
	memset(ss, 0, sizeof(*ss));
	if (v[1] == FAMILY_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		uint8_t a[4];

		if (vlen != 8)
			return "IPv4 address attribute must be 8 bytes long";
		for (int i = 0; i < 4; i++)
			a[i] = (uint8_t)(v[4 + i] ^ (xored ? hdr[4 + i] : 0));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a, 4);
		return NULL;
	}
	if (v[1] == FAMILY_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		uint8_t a[16];

		if (vlen != 20)
			return "IPv6 address attribute must be 20 bytes long";
		/* XOR with the magic cookie and the transaction id (header bytes 4..19). */
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)(v[4 + i] ^ (xored ? hdr[4 + i] : 0));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a, 16);
		return NULL;
	}
	return "address family is neither 1 (IPv4) nor 2 (IPv6)";
}

/* Types we understand and skip: base protocol authentication and ICE. */
static int
known_unused(uint16_t t)
{
	switch (t) {
	case ATTR_SOURCE_ADDRESS:
	case ATTR_USERNAME:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_PASSWORD_ALGORITHM:
	case ATTR_USERHASH:
	case ATTR_PRIORITY:
	case ATTR_USE_CANDIDATE:
		return 1;
	default:
		return 0;
	}
}

static int
set_addr(struct stun_msg *m, uint32_t bit, struct sockaddr_storage *dst, const uint8_t *v,
	 size_t vlen, int xored, const uint8_t *hdr, size_t at, const char **why)
{
	const char *err;

	if (m->attrs & bit)
		return 0; /* the first occurrence counts */
	err = decode_addr(v, vlen, xored, hdr, dst);
	if (err != NULL)
		return fail(m, at, why, err);
	m->attrs |= bit;
	return 0;
}

static int
parse_error_code(struct stun_msg *m, const uint8_t *v, size_t vlen, size_t at, const char **why)
{
	unsigned cls, num;

	if (m->attrs & STUN_A_ERROR_CODE)
		return 0;
	if (vlen < 4)
		return fail(m, at, why, "ERROR-CODE shorter than 4 bytes");
	cls = v[2] & 7;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return fail(m, at, why, "ERROR-CODE must be 300 to 699 (class 3-6, number 0-99)");
	m->error_code = (uint16_t)(cls * 100 + num);
	m->attrs |= STUN_A_ERROR_CODE;
	return 0;
}

static int
parse_unknown_list(struct stun_msg *m, const uint8_t *v, size_t vlen, size_t at, const char **why)
{
	if (m->attrs & STUN_A_UNKNOWN_ATTRIBUTES)
		return 0;
	if (vlen % 2 != 0)
		return fail(m, at, why, "UNKNOWN-ATTRIBUTES length must be even");
	for (size_t i = 0; i + 1 < vlen && m->n_listed < STUN_MAX_UNKNOWN; i += 2)
		m->listed[m->n_listed++] = be16_get(v + i);
	m->attrs |= STUN_A_UNKNOWN_ATTRIBUTES;
	return 0;
}

/* One attribute of type t with value v[0..vlen) found at offset at. */
static int
parse_attr(struct stun_msg *m, const uint8_t *b, uint16_t t, const uint8_t *v, size_t vlen,
	   size_t at, const char **why)
{
	switch (t) {
	case STUN_ATTR_MAPPED_ADDRESS:
		return set_addr(m, STUN_A_MAPPED, &m->mapped, v, vlen, 0, b, at, why);
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		return set_addr(m, STUN_A_XOR_MAPPED, &m->xor_mapped, v, vlen, 1, b, at, why);
	case STUN_ATTR_RESPONSE_ORIGIN:
		return set_addr(m, STUN_A_RESPONSE_ORIGIN, &m->response_origin, v, vlen, 0, b, at,
				why);
	case STUN_ATTR_OTHER_ADDRESS:
		return set_addr(m, STUN_A_OTHER_ADDRESS, &m->other_address, v, vlen, 0, b, at, why);
	case STUN_ATTR_CHANGED_ADDRESS:
		return set_addr(m, STUN_A_CHANGED_ADDRESS, &m->changed_address, v, vlen, 0, b, at,
				why);
	case STUN_ATTR_CHANGE_REQUEST:
		if (vlen != 4)
			return fail(m, at, why, "CHANGE-REQUEST must be 4 bytes long");
		if (!(m->attrs & STUN_A_CHANGE_REQUEST))
			m->change_request = be32_get(v) & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
		m->attrs |= STUN_A_CHANGE_REQUEST;
		return 0;
	case STUN_ATTR_ERROR_CODE:
		return parse_error_code(m, v, vlen, at, why);
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
		return parse_unknown_list(m, v, vlen, at, why);
	case STUN_ATTR_SOFTWARE:
		m->attrs |= STUN_A_SOFTWARE;
		return 0;
	case STUN_ATTR_PADDING:
		m->attrs |= STUN_A_PADDING;
		return 0;
	default:
		break;
	}
	if (t >= 0x8000 || known_unused(t))
		return 0; /* comprehension-optional, or understood and unused */
	if (m->n_unknown < STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = t;
	return 0;
}

static int
check_fingerprint(struct stun_msg *m, const uint8_t *b, size_t at, size_t vlen, size_t n,
		  const char **why)
{
	if (vlen != 4)
		return fail(m, at, why, "FINGERPRINT must be 4 bytes long");
	if (at + FP_ATTR_LEN != n)
		return fail(m, at, why, "FINGERPRINT must be the last attribute");
	if (be32_get(b + at + ATTR_HDR) != (crc32(b, at) ^ FINGERPRINT_XOR))
		return fail(m, at, why, "FINGERPRINT does not match the message (CRC-32 mismatch)");
	m->attrs |= STUN_A_FINGERPRINT;
	return 0;
}

static int
parse_header(const uint8_t *b, size_t n, struct stun_msg *m, const char **why)
{
	size_t len;

	if (b == NULL || n < STUN_HEADER_LEN)
		return fail(m, 0, why, "shorter than the 20-byte STUN header");
	if ((b[0] & 0xC0) != 0)
		return fail(m, 0, why, "the two top bits of the message type must be zero");
	if (be32_get(b + 4) != STUN_MAGIC_COOKIE)
		return fail(m, 4, why,
			    "no magic cookie 0x2112A442 (RFC 3489 STUN is not supported)");
	len = be16_get(b + 2);
	if ((len & 3) != 0)
		return fail(m, 2, why, "message length is not a multiple of 4");
	if (len + STUN_HEADER_LEN != n)
		return fail(m, 2, why, "message length field does not match the datagram size");
	m->type = be16_get(b);
	memcpy(m->txid, b + 8, STUN_TXID_LEN);
	return 0;
}

int
stun_parse(const uint8_t *b, size_t n, struct stun_msg *m, const char **why)
{
	size_t off = STUN_HEADER_LEN;
	int after_integrity = 0;

	memset(m, 0, sizeof(*m));
	if (parse_header(b, n, m, why) == -1)
		return -1;
	while (off < n) {
		uint16_t t;
		size_t vlen;

		if (n - off < ATTR_HDR)
			return fail(m, off, why,
				    "attribute header cut short at the end of the message");
		t = be16_get(b + off);
		vlen = be16_get(b + off + 2);
		if (pad4(vlen) > n - off - ATTR_HDR)
			return fail(m, off, why,
				    "attribute length runs past the end of the message");
		if (t == STUN_ATTR_FINGERPRINT) {
			if (check_fingerprint(m, b, off, vlen, n, why) == -1)
				return -1;
		} else if (t == ATTR_MESSAGE_INTEGRITY || t == ATTR_MESSAGE_INTEGRITY256) {
			m->attrs |= STUN_A_INTEGRITY;
			after_integrity = 1;
		} else if (!after_integrity) {
			if (parse_attr(m, b, t, b + off + ATTR_HDR, vlen, off, why) == -1)
				return -1;
		}
		off += ATTR_HDR + pad4(vlen);
	}
	return 0;
}

const struct sockaddr *
stun_msg_mapped(const struct stun_msg *m)
{
	if (m->attrs & STUN_A_XOR_MAPPED)
		return (const struct sockaddr *)&m->xor_mapped;
	if (m->attrs & STUN_A_MAPPED)
		return (const struct sockaddr *)&m->mapped;
	return NULL;
}

int
stun_is_response_to(const struct stun_msg *m, const uint8_t txid[STUN_TXID_LEN])
{
	return m->type == STUN_BINDING_SUCCESS && memcmp(m->txid, txid, STUN_TXID_LEN) == 0;
}

void
stun_new_txid(uint8_t txid[STUN_TXID_LEN])
{
	randombytes_buf(txid, STUN_TXID_LEN);
}

/* ---- building ---- */

/* Start writing a message of the given type into out (cap bytes); attributes
 * follow. */
static void
w_header(struct wbuf *w, uint8_t *out, size_t cap, uint16_t type, const uint8_t txid[STUN_TXID_LEN])
{
	uint8_t *h;

	wbuf_init(w, out, cap);
	if ((h = wbuf_reserve(w, STUN_HEADER_LEN)) == NULL)
		return;
	be16_put(h, type);
	be16_put(h + 2, 0);
	be32_put(h + 4, STUN_MAGIC_COOKIE);
	memcpy(h + 8, txid, STUN_TXID_LEN);
}

/* Append an attribute header and vlen bytes of zeroed, padded value space;
 * returns the value pointer, or NULL (and w->err) when out of room. */
static uint8_t *
w_attr(struct wbuf *w, uint16_t type, size_t vlen)
{
	uint8_t *a;

	if (vlen > 0xFFFF) {
		w->err = 1;
		return NULL;
	}
	if ((a = wbuf_reserve(w, ATTR_HDR + pad4(vlen))) == NULL)
		return NULL;
	be16_put(a, type);
	be16_put(a + 2, (uint16_t)vlen);
	memset(a + ATTR_HDR, 0, pad4(vlen));
	return a + ATTR_HDR;
}

/* sa as a STUN address value (4 + 4 or 4 + 16 bytes); IPv4-mapped IPv6 becomes IPv4.
 * Returns the value length, or 0 for another family. */
static size_t
addr_value(const struct sockaddr *sa, uint8_t v[20])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		v[0] = 0;
		v[1] = FAMILY_IPV4;
		memcpy(v + 2, &sin->sin_port, 2);
		memcpy(v + 4, &sin->sin_addr, 4);
		return 8;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		v[0] = 0;
		memcpy(v + 2, &sin6->sin6_port, 2);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			v[1] = FAMILY_IPV4;
			memcpy(v + 4, sin6->sin6_addr.s6_addr + 12, 4);
			return 8;
		}
		v[1] = FAMILY_IPV6;
		memcpy(v + 4, &sin6->sin6_addr, 16);
		return 20;
	}
	return 0;
}

/* Append an address attribute, XORed with cookie and txid when xored. */
static int
w_addr(struct wbuf *w, uint16_t type, const struct sockaddr *sa, int xored)
{
	uint8_t val[20], *v;
	size_t vlen = addr_value(sa, val);

	if (vlen == 0)
		return -1;
	if (w->err)
		return 0;
	if (xored) {
		/* Port with the cookie's top half, address with cookie + txid. */
		for (size_t i = 0; i < 2; i++)
			val[2 + i] ^= w->p[4 + i];
		for (size_t i = 0; i < vlen - 4; i++)
			val[4 + i] ^= w->p[4 + i];
	}
	v = w_attr(w, type, vlen);
	if (v != NULL)
		memcpy(v, val, vlen);
	return 0;
}

/* Set the length field; with fp, append FINGERPRINT. Returns the total, or 0. */
static size_t
w_finish(struct wbuf *w, int fp)
{
	uint8_t *v;

	if (fp) {
		if (w->err || w->cap - w->len < FP_ATTR_LEN) {
			w->err = 1;
			return 0;
		}
		be16_put(w->p + 2, (uint16_t)(w->len + FP_ATTR_LEN - STUN_HEADER_LEN));
		v = w_attr(w, STUN_ATTR_FINGERPRINT, 4);
		be32_put(v, crc32(w->p, w->len - FP_ATTR_LEN) ^ FINGERPRINT_XOR);
	}
	if (w->err || w->len - STUN_HEADER_LEN > 0xFFFF)
		return 0;
	be16_put(w->p + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
	return w->len;
}

size_t
stun_build_request_pad(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		       uint32_t change_flags, size_t pad_to)
{
	static const char sw[] = "p2pd NAT probe";
	struct wbuf w;
	uint8_t *v;

	w_header(&w, out, cap, STUN_BINDING_REQUEST, txid);
	if (change_flags != 0) {
		v = w_attr(&w, STUN_ATTR_CHANGE_REQUEST, 4);
		if (v != NULL)
			be32_put(v, change_flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT));
	}
	if (!w.err && pad_to > w.len + FP_ATTR_LEN) {
		/* SOFTWARE is comprehension-optional: every server skips it. Its
		 * text is the name, then spaces; never less than the name, never
		 * more than the 127 characters RFC 8489 allows. */
		size_t need = pad_to - w.len - FP_ATTR_LEN;
		size_t vlen = need > ATTR_HDR + sizeof(sw) - 1 ? need - ATTR_HDR : sizeof(sw) - 1;

		if (vlen > SOFTWARE_MAX)
			return 0;
		v = w_attr(&w, STUN_ATTR_SOFTWARE, vlen);
		if (v != NULL) {
			memset(v, ' ', vlen);
			memcpy(v, sw, sizeof(sw) - 1);
		}
	}
	return w_finish(&w, 1);
}

size_t
stun_build_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		   uint32_t change_flags)
{
	return stun_build_request_pad(out, cap, txid, change_flags, STUN_PADDED_REQUEST_LEN);
}

/* Which optional attributes a success response carries. */
#define WANT_MAPPED 0x01
#define WANT_ORIGIN 0x02
#define WANT_OTHER  0x04
#define WANT_FP	    0x08

static size_t
build_success(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
	      const struct sockaddr *mapped, const struct sockaddr *origin,
	      const struct sockaddr *other, int want)
{
	struct wbuf w;

	w_header(&w, out, cap, STUN_BINDING_SUCCESS, txid);
	if (w.err)
		return 0;
	if (w_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, mapped, 1) == -1)
		return 0;
	if ((want & WANT_MAPPED) && w_addr(&w, STUN_ATTR_MAPPED_ADDRESS, mapped, 0) == -1)
		return 0;
	if ((want & WANT_ORIGIN) && origin != NULL &&
	    w_addr(&w, STUN_ATTR_RESPONSE_ORIGIN, origin, 0) == -1)
		return 0;
	if ((want & WANT_OTHER) && other != NULL &&
	    w_addr(&w, STUN_ATTR_OTHER_ADDRESS, other, 0) == -1)
		return 0;
	return w_finish(&w, want & WANT_FP);
}

size_t
stun_build_response(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		    const struct sockaddr *mapped, const struct sockaddr *origin,
		    const struct sockaddr *other)
{
	int want = WANT_ORIGIN | WANT_OTHER | WANT_FP;

	if (other != NULL)
		want |= WANT_MAPPED;
	return build_success(out, cap, txid, mapped, origin, other, want);
}

size_t
stun_build_error(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN], int code,
		 const char *reason, const uint16_t *unknown, size_t n_unknown)
{
	struct wbuf w;
	size_t rlen = reason != NULL ? strlen(reason) : 0;
	uint8_t *v;

	if (code < 300 || code > 699 || rlen > 763 || n_unknown > 0x7FFF)
		return 0;
	w_header(&w, out, cap, STUN_BINDING_ERROR, txid);
	v = w_attr(&w, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (v != NULL) {
		v[2] = (uint8_t)(code / 100);
		v[3] = (uint8_t)(code % 100);
		if (rlen > 0)
			memcpy(v + 4, reason, rlen);
	}
	if (n_unknown > 0) {
		v = w_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n_unknown);
		for (size_t i = 0; v != NULL && i < n_unknown; i++)
			be16_put(v + 2 * i, unknown[i]);
	}
	return w_finish(&w, 1);
}

/* ---- the responder ---- */

static int
is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 1;
}

static uint16_t
ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

static void
ss_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port;
}

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* Work out the source of the reply for a CHANGE-REQUEST. Returns -1 if the
 * server has no alternate IP or port for a flag that asks for one. */
static int
reply_source(const struct stun_server *srv, uint32_t change, struct sockaddr_storage *src)
{
	const struct sockaddr_storage *alt = &srv->alt;
	int have_alt = alt->ss_family == srv->local.ss_family &&
		       (alt->ss_family == AF_INET || alt->ss_family == AF_INET6);

	*src = srv->local;
	if (change & STUN_CHANGE_IP) {
		if (!have_alt || same_ip(alt, &srv->local) || is_wildcard(alt))
			return -1;
		memcpy(src, alt, sizeof(*src));
		ss_set_port(src, ss_port(&srv->local));
	}
	if (change & STUN_CHANGE_PORT) {
		if (!have_alt || ss_port(alt) == ss_port(&srv->local))
			return -1;
		ss_set_port(src, ss_port(alt));
	}
	return 0;
}

/* The OTHER-ADDRESS we advertise: only a full alternate (other IP and port). */
static const struct sockaddr *
other_address(const struct stun_server *srv)
{
	const struct sockaddr_storage *alt = &srv->alt;

	if (alt->ss_family != srv->local.ss_family || is_wildcard(alt) ||
	    same_ip(alt, &srv->local) || ss_port(alt) == ss_port(&srv->local))
		return NULL;
	return (const struct sockaddr *)alt;
}

/* A success response that fits limit: leave out optional attributes, least
 * useful first, until it does. Returns 0 if even the bare one does not fit. */
static size_t
answer_success(const struct stun_msg *m, const struct sockaddr *from, const struct sockaddr *origin,
	       const struct sockaddr *other, uint8_t *out, size_t cap, size_t limit)
{
	static const int tries[] = {
	    WANT_MAPPED | WANT_ORIGIN | WANT_OTHER | WANT_FP,
	    WANT_ORIGIN | WANT_OTHER | WANT_FP,
	    WANT_OTHER | WANT_FP,
	    WANT_FP,
	    0,
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		int want = tries[i];
		size_t len;

		if (other == NULL)
			want &= ~WANT_MAPPED; /* MAPPED-ADDRESS only for RFC 5780 service */
		len = build_success(out, cap < limit ? cap : limit, m->txid, from, origin, other,
				    want);
		if (len != 0)
			return len;
	}
	return 0;
}

size_t
stun_answer(const uint8_t *req, size_t n, const struct sockaddr *from,
	    const struct stun_server *srv, uint8_t *out, size_t cap,
	    struct sockaddr_storage *reply_from, const char **why)
{
	static const uint16_t change_req = STUN_ATTR_CHANGE_REQUEST;
	const char *dummy;
	struct stun_msg m;
	size_t limit = srv->flags & STUN_SERVER_NO_AMPLIFY ? n : cap;
	size_t len;

	if (why == NULL)
		why = &dummy;
	if (stun_parse(req, n, &m, why) == -1)
		return 0;
	if (m.type != STUN_BINDING_REQUEST) {
		*why = "not a Binding request";
		return 0;
	}
	if (from->sa_family != AF_INET && from->sa_family != AF_INET6) {
		*why = "source address is neither IPv4 nor IPv6";
		return 0;
	}
	*reply_from = srv->local;
	if (m.n_unknown > 0) {
		len = stun_build_error(out, limit, m.txid, 420, "Unknown Attribute", m.unknown,
				       m.n_unknown);
	} else if (reply_source(srv, m.change_request, reply_from) == -1) {
		*reply_from = srv->local;
		len =
		    stun_build_error(out, limit, m.txid, 420, "Unknown Attribute", &change_req, 1);
	} else {
		const struct sockaddr *origin =
		    is_wildcard(reply_from) ? NULL : (const struct sockaddr *)reply_from;

		len = answer_success(&m, from, origin, other_address(srv), out, cap, limit);
	}
	if (len == 0)
		*why = limit < cap ? "the reply would be larger than the request"
				   : "no room for the reply";
	return len;
}
