/* rdvwire: encoding and decoding of the client <-> rendezvous server messages
 * (docs/PROTOCOL.md section 3). */
#include "common/rdvwire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/keys.h"
#include "common/util.h"

static void
set_why(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
}

/* ---- addresses and candidate lists ---- */

int
rdv_addr_from_sockaddr(struct rdv_addr *a, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		a->family = 4;
		a->port = ntohs(sin->sin_port);
		memcpy(a->ip, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = (const uint8_t *)&sin6->sin6_addr;
		a->port = ntohs(sin6->sin6_port);
		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			a->family = 4;
			memcpy(a->ip, b + 12, 4);
		} else {
			a->family = 6;
			memcpy(a->ip, b, 16);
		}
		return 0;
	}
	return -1;
}

socklen_t
rdv_addr_to_sockaddr(const struct rdv_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->ip, 4);
		return sizeof(*sin);
	}
	if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->ip, 16);
		return sizeof(*sin6);
	}
	return 0;
}

static size_t
addr_iplen(uint8_t family)
{
	return family == 4 ? 4 : family == 6 ? 16 : 0;
}

int
rdv_addr_equal(const struct rdv_addr *a, const struct rdv_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, addr_iplen(a->family)) == 0;
}

const char *
rdv_addr_format(const struct rdv_addr *a, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	if (rdv_addr_to_sockaddr(a, &ss) == 0) {
		snprintf(buf, len, "(bad address family %u)", a->family);
		return buf;
	}
	return fmt_sockaddr((const struct sockaddr *)&ss, buf, len);
}

static int
addr_valid(const struct rdv_addr *a)
{
	return (a->family == 4 || a->family == 6) && a->port != 0;
}

void
rdv_addr_put(struct wbuf *w, const struct rdv_addr *a)
{
	if (!addr_valid(a)) {
		w->err = 1;
		return;
	}
	wbuf_u8(w, a->family);
	wbuf_u16(w, a->port);
	wbuf_put(w, a->ip, addr_iplen(a->family));
}

void
rdv_addr_get(struct rbuf *r, struct rdv_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = rbuf_u8(r);
	a->port = rbuf_u16(r);
	if (r->err || !addr_valid(a)) {
		r->err = 1;
		return;
	}
	rbuf_get(r, a->ip, addr_iplen(a->family));
}

void
rdv_cands_clear(struct rdv_cands *c)
{
	memset(c, 0, sizeof(*c));
}

int
rdv_cands_add(struct rdv_cands *c, const struct rdv_addr *a)
{
	if (!addr_valid(a))
		return -1;
	for (size_t i = 0; i < c->n; i++)
		if (rdv_addr_equal(&c->a[i], a))
			return 1;
	if (c->n >= RDV_MAX_CANDS)
		return -1;
	c->a[c->n++] = *a;
	return 0;
}

void
rdv_cands_put(struct wbuf *w, const struct rdv_cands *c)
{
	if (c->n > RDV_MAX_CANDS) {
		w->err = 1;
		return;
	}
	wbuf_u8(w, c->n);
	for (size_t i = 0; i < c->n; i++)
		rdv_addr_put(w, &c->a[i]);
}

void
rdv_cands_get(struct rbuf *r, struct rdv_cands *c)
{
	uint8_t n;

	rdv_cands_clear(c);
	n = rbuf_u8(r);
	if (r->err || n > RDV_MAX_CANDS) {
		r->err = 1;
		return;
	}
	for (uint8_t i = 0; i < n && !r->err; i++)
		rdv_addr_get(r, &c->a[i]);
	if (!r->err)
		c->n = n;
}

/* ---- identities ---- */

int
rdv_id_target(struct rdv_id *id, const p2p_uid *uid)
{
	memset(id, 0, sizeof(*id));
	id->role = RDV_ROLE_TARGET;
	id->len = UID_LEN;
	memcpy(id->b, uid->b, UID_LEN);
	return 0;
}

static int
name_valid(const uint8_t *b, size_t n, const char **why)
{
	if (n == 0) {
		set_why(why, "user name is empty");
		return -1;
	}
	if (n > RDV_ID_MAX) {
		set_why(why, "user name is longer than 64 bytes");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i] < 0x21 || b[i] > 0x7e) {
			set_why(why, "user name holds a character other than printable ASCII "
				     "without space");
			return -1;
		}
	}
	return 0;
}

int
rdv_id_initiator(struct rdv_id *id, const char *user, const char **why)
{
	size_t n = strlen(user);

	memset(id, 0, sizeof(*id));
	if (name_valid((const uint8_t *)user, n, why) == -1)
		return -1;
	id->role = RDV_ROLE_INITIATOR;
	id->len = (uint8_t)n;
	memcpy(id->b, user, n);
	return 0;
}

int
rdv_id_check(const struct rdv_id *id, const char **why)
{
	if (id->role == RDV_ROLE_TARGET) {
		if (id->len != UID_LEN) {
			set_why(why, "a target's id must be its 8-byte UID");
			return -1;
		}
		return 0;
	}
	if (id->role == RDV_ROLE_INITIATOR)
		return name_valid(id->b, id->len, why);
	set_why(why, "role must be 1 (target) or 2 (initiator)");
	return -1;
}

const char *
rdv_id_format(const struct rdv_id *id, char *buf, size_t len)
{
	char ubuf[UID_STRLEN];

	if (id->role == RDV_ROLE_TARGET && id->len == UID_LEN) {
		p2p_uid u;
		memcpy(u.b, id->b, UID_LEN);
		snprintf(buf, len, "%s", uid_format(&u, ubuf));
	} else if (name_valid(id->b, id->len, NULL) == 0) {
		snprintf(buf, len, "%.*s", (int)id->len, (const char *)id->b);
	} else {
		snprintf(buf, len, "(invalid id)");
	}
	return buf;
}

static void
id_put(struct wbuf *w, const struct rdv_id *id)
{
	if (rdv_id_check(id, NULL) == -1) {
		w->err = 1;
		return;
	}
	wbuf_u8(w, id->role);
	wbuf_u8(w, id->len);
	wbuf_put(w, id->b, id->len);
}

/* Read role, idlen, id. Only the lengths are checked here (id fits the
 * buffer); the caller checks the values with rdv_id_check. */
static void
id_get(struct rbuf *r, struct rdv_id *id)
{
	memset(id, 0, sizeof(*id));
	id->role = rbuf_u8(r);
	id->len = rbuf_u8(r);
	if (r->err || id->len > RDV_ID_MAX) {
		r->err = 1;
		return;
	}
	rbuf_get(r, id->b, id->len);
}

/* ---- keys ---- */

void
rdv_device_key(uint8_t out[RDV_SECRET_LEN], const char *secret)
{
	kdf(out, RDV_SECRET_LEN, (const uint8_t *)secret, strlen(secret), "device key", NULL, 0);
}

void
rdv_login_key(uint8_t out[RDV_SECRET_LEN], const uint8_t *kclient, size_t klen,
	      const uint8_t cnonce[RDV_NONCE_LEN], const uint8_t snonce[RDV_NONCE_LEN])
{
	uint8_t ctx[2 * RDV_NONCE_LEN];

	memcpy(ctx, cnonce, RDV_NONCE_LEN);
	memcpy(ctx + RDV_NONCE_LEN, snonce, RDV_NONCE_LEN);
	kdf(out, RDV_SECRET_LEN, kclient, klen, "login", ctx, sizeof(ctx));
}

/* The bytes the cookie covers after "cookie": ts, src, role, id, cnonce. */
static size_t
cookie_input(uint8_t *buf, size_t cap, uint32_t ts, const struct rdv_addr *src,
	     const struct rdv_id *id, const uint8_t cnonce[RDV_NONCE_LEN])
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	wbuf_u32(&w, ts);
	rdv_addr_put(&w, src);
	wbuf_u8(&w, id->role);
	if (id->len <= RDV_ID_MAX)
		wbuf_put(&w, id->b, id->len);
	else
		w.err = 1;
	wbuf_put(&w, cnonce, RDV_NONCE_LEN);
	return w.err ? 0 : w.len;
}

void
rdv_cookie(uint8_t snonce[RDV_NONCE_LEN], const uint8_t kserver[RDV_SECRET_LEN], uint32_t ts,
	   const struct rdv_addr *src, const struct rdv_id *id, const uint8_t cnonce[RDV_NONCE_LEN])
{
	uint8_t in[4 + RDV_ADDR_MAX + 1 + RDV_ID_MAX + RDV_NONCE_LEN];
	size_t n = cookie_input(in, sizeof(in), ts, src, id, cnonce);
	struct mac_part parts[2] = {{"cookie", 6}, {in, n}};

	mac_compute(snonce, kserver, RDV_SECRET_LEN, parts, 2);
}

int
rdv_cookie_verify(const uint8_t snonce[RDV_NONCE_LEN], const uint8_t kserver[RDV_SECRET_LEN],
		  uint32_t ts, const struct rdv_addr *src, const struct rdv_id *id,
		  const uint8_t cnonce[RDV_NONCE_LEN])
{
	uint8_t in[4 + RDV_ADDR_MAX + 1 + RDV_ID_MAX + RDV_NONCE_LEN];
	size_t n = cookie_input(in, sizeof(in), ts, src, id, cnonce);
	struct mac_part parts[2] = {{"cookie", 6}, {in, n}};

	if (n == 0)
		return -1;
	return mac_verify(snonce, kserver, RDV_SECRET_LEN, parts, 2);
}

int
rdv_verify_tail_mac(const uint8_t *p, size_t n, const uint8_t *key, size_t keylen)
{
	struct mac_part part;

	if (n < 2 + RDV_MAC_LEN)
		return -1;
	part.p = p;
	part.n = n - RDV_MAC_LEN;
	return mac_verify(p + n - RDV_MAC_LEN, key, keylen, &part, 1);
}

/* Append MAC(key, everything written so far). */
static void
put_tail_mac(struct wbuf *w, const uint8_t *key, size_t keylen)
{
	struct mac_part part;
	uint8_t tag[RDV_MAC_LEN];

	if (w->err)
		return;
	part.p = w->p;
	part.n = w->len;
	mac_compute(tag, key, keylen, &part, 1);
	wbuf_put(w, tag, sizeof(tag));
}

/* ---- demultiplexing ---- */

int
rdv_msg_type(const uint8_t *p, size_t n)
{
	if (n < 2 || p[1] != RDV_VERSION)
		return -1;
	if (p[0] < RDV_HELLO || p[0] > RDV_INTRO_ACK)
		return -1;
	return p[0];
}

/* Start writing a message of the given type into out (cap bytes): its type
 * and version. */
static void
start_msg(struct wbuf *w, uint8_t *out, size_t cap, uint8_t type)
{
	wbuf_init(w, out, cap);
	wbuf_u8(w, type);
	wbuf_u8(w, RDV_VERSION);
}

/* Check type and version; returns -1 with *why if wrong. */
static int
get_head(struct rbuf *r, uint8_t type, const char **why)
{
	uint8_t t = rbuf_u8(r), v = rbuf_u8(r);

	if (r->err) {
		set_why(why, "shorter than a message header");
		return -1;
	}
	if (t != type) {
		set_why(why, "wrong message type");
		return -1;
	}
	if (v != RDV_VERSION) {
		set_why(why, "unsupported protocol version (expected 1)");
		return -1;
	}
	return 0;
}

static int
finish(struct wbuf *w)
{
	return w->err ? -1 : (int)w->len;
}

/* Every byte read, and none left over. */
static int
read_all(const struct rbuf *r, const char **why)
{
	if (r->err) {
		set_why(why, "truncated or invalid field");
		return -1;
	}
	if (r->off != r->len) {
		set_why(why, "trailing bytes after the message");
		return -1;
	}
	return 0;
}

/*
 * The common end of begin_tailed, begin_relay and INTRO_ACK, once the length
 * (at least 2 + RDV_MAC_LEN) is checked: with key, check the tail MAC; then
 * set r over everything before the MAC and read type and version.
 */
static int
open_tailed(struct rbuf *r, const uint8_t *p, size_t n, uint8_t type, const uint8_t *key,
	    const char **why)
{
	if (key != NULL && rdv_verify_tail_mac(p, n, key, RDV_SECRET_LEN) == -1) {
		set_why(why, "message authentication failed");
		return -1;
	}
	rbuf_init(r, p, n - RDV_MAC_LEN);
	return get_head(r, type, why);
}

/*
 * Start reading a message that ends in a tail MAC. With key (a message from
 * the server) the type byte is checked first, then the length, then the MAC;
 * without key only the length (else *why = range_msg). Then r is set over
 * everything before the MAC, with type and version read.
 */
static int
begin_tailed(struct rbuf *r, const uint8_t *p, size_t n, uint8_t type, const uint8_t *key,
	     const char *range_msg, const char **why)
{
	if (key != NULL && n >= 2 && p[0] != type) {
		set_why(why, "wrong message type");
		return -1;
	}
	if (n > RDV_MAX_DGRAM || n < 2 + RDV_MAC_LEN) {
		set_why(why, range_msg);
		return -1;
	}
	return open_tailed(r, p, n, type, key, why);
}

/* ---- HELLO ---- */

int
rdv_build_hello(uint8_t *out, size_t cap, const struct rdv_hello *h)
{
	struct wbuf w;
	uint8_t *pad;

	start_msg(&w, out, cap, RDV_HELLO);
	id_put(&w, &h->id);
	wbuf_put(&w, h->cnonce, RDV_NONCE_LEN);
	if (!w.err && w.len < RDV_HELLO_LEN) {
		size_t n = RDV_HELLO_LEN - w.len;
		if ((pad = wbuf_reserve(&w, n)) != NULL)
			memset(pad, 0, n);
	}
	return finish(&w);
}

int
rdv_parse_hello(const uint8_t *p, size_t n, struct rdv_hello *h, const char **why)
{
	struct rbuf r;

	memset(h, 0, sizeof(*h));
	if (n < RDV_HELLO_LEN) {
		set_why(why, "HELLO shorter than 96 bytes");
		return -1;
	}
	if (n > RDV_MAX_DGRAM) {
		set_why(why, "HELLO longer than 512 bytes");
		return -1;
	}
	rbuf_init(&r, p, n);
	if (get_head(&r, RDV_HELLO, why) == -1)
		return -1;
	id_get(&r, &h->id);
	rbuf_get(&r, h->cnonce, RDV_NONCE_LEN);
	if (r.err) {
		set_why(why, "HELLO id length runs past the message");
		return -1;
	}
	if (rdv_id_check(&h->id, why) == -1)
		return -2;
	while (rbuf_left(&r) > 0) {
		if (rbuf_u8(&r) != 0) {
			set_why(why, "HELLO padding is not zero");
			return -2;
		}
	}
	return 0;
}

/* ---- CHALLENGE ---- */

int
rdv_build_challenge(uint8_t *out, size_t cap, const struct rdv_challenge *c)
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_CHALLENGE);
	wbuf_put(&w, c->cnonce, RDV_NONCE_LEN);
	wbuf_u32(&w, c->ts);
	wbuf_put(&w, c->snonce, RDV_NONCE_LEN);
	return finish(&w);
}

int
rdv_parse_challenge(const uint8_t *p, size_t n, struct rdv_challenge *c, const char **why)
{
	struct rbuf r;

	memset(c, 0, sizeof(*c));
	rbuf_init(&r, p, n);
	if (get_head(&r, RDV_CHALLENGE, why) == -1)
		return -1;
	rbuf_get(&r, c->cnonce, RDV_NONCE_LEN);
	c->ts = rbuf_u32(&r);
	rbuf_get(&r, c->snonce, RDV_NONCE_LEN);
	return read_all(&r, why);
}

/* ---- AUTH ---- */

int
rdv_build_auth(uint8_t *out, size_t cap, const struct rdv_auth *a, const uint8_t *kclient,
	       size_t klen)
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_AUTH);
	id_put(&w, &a->id);
	wbuf_put(&w, a->cnonce, RDV_NONCE_LEN);
	wbuf_u32(&w, a->ts);
	wbuf_put(&w, a->snonce, RDV_NONCE_LEN);
	if (a->id.role == RDV_ROLE_INITIATOR) {
		if (a->mode > RDV_MODE_MAX)
			w.err = 1;
		wbuf_put(&w, a->uid.b, UID_LEN);
		wbuf_u8(&w, a->mode);
	}
	rdv_cands_put(&w, &a->cands);
	put_tail_mac(&w, kclient, klen);
	return finish(&w);
}

int
rdv_parse_auth(const uint8_t *p, size_t n, struct rdv_auth *a, const char **why)
{
	struct rbuf r;

	memset(a, 0, sizeof(*a));
	/* The proof is the last 16 bytes; the rest is read from the front. */
	if (begin_tailed(&r, p, n, RDV_AUTH, NULL, "AUTH length out of range", why) == -1)
		return -1;
	id_get(&r, &a->id);
	rbuf_get(&r, a->cnonce, RDV_NONCE_LEN);
	a->ts = rbuf_u32(&r);
	rbuf_get(&r, a->snonce, RDV_NONCE_LEN);
	if (r.err) {
		set_why(why, "AUTH too short for its header");
		return -1;
	}
	if (rdv_id_check(&a->id, why) == -1)
		return -1;
	if (a->id.role == RDV_ROLE_INITIATOR) {
		rbuf_get(&r, a->uid.b, UID_LEN);
		a->mode = rbuf_u8(&r);
		if (!r.err && a->mode > RDV_MODE_MAX) {
			set_why(why, "AUTH encryption mode must be 0..3");
			return -2;
		}
	}
	rdv_cands_get(&r, &a->cands);
	if (read_all(&r, why) == -1) {
		set_why(why, "AUTH body (uid, mode, candidates) is malformed");
		return -2;
	}
	return 0;
}

/* ---- AUTH_OK ---- */

int
rdv_build_auth_ok(uint8_t *out, size_t cap, const struct rdv_auth_ok *m,
		  const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_AUTH_OK);
	wbuf_put(&w, m->cnonce, RDV_NONCE_LEN);
	wbuf_put(&w, m->login_id, RDV_LOGIN_ID_LEN);
	wbuf_u16(&w, m->keepalive);
	rdv_addr_put(&w, &m->observed);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_auth_ok(const uint8_t *p, size_t n, struct rdv_auth_ok *m,
		  const uint8_t klogin[RDV_SECRET_LEN], const char **why)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	if (begin_tailed(&r, p, n, RDV_AUTH_OK, klogin, "message length out of range", why) == -1)
		return -1;
	rbuf_get(&r, m->cnonce, RDV_NONCE_LEN);
	rbuf_get(&r, m->login_id, RDV_LOGIN_ID_LEN);
	m->keepalive = rbuf_u16(&r);
	rdv_addr_get(&r, &m->observed);
	if (read_all(&r, why) == -1)
		return -1;
	if (m->keepalive == 0) {
		set_why(why, "AUTH_OK keepalive interval is 0");
		return -1;
	}
	return 0;
}

/* ---- ERROR ---- */

int
rdv_build_error(uint8_t *out, size_t cap, const uint8_t ref[RDV_NONCE_LEN], uint8_t code)
{
	struct wbuf w;

	if (code < RDV_ERR_UNKNOWN_ID || code > RDV_ERR_NO_LOGIN)
		return -1;
	start_msg(&w, out, cap, RDV_ERROR);
	wbuf_put(&w, ref, RDV_NONCE_LEN);
	wbuf_u8(&w, code);
	return finish(&w);
}

int
rdv_parse_error(const uint8_t *p, size_t n, struct rdv_error *e, const char **why)
{
	struct rbuf r;

	memset(e, 0, sizeof(*e));
	rbuf_init(&r, p, n);
	if (get_head(&r, RDV_ERROR, why) == -1)
		return -1;
	rbuf_get(&r, e->ref, RDV_NONCE_LEN);
	e->code = rbuf_u8(&r);
	if (read_all(&r, why) == -1)
		return -1;
	if (e->code < RDV_ERR_UNKNOWN_ID || e->code > RDV_ERR_NO_LOGIN) {
		set_why(why, "ERROR code must be 1..7");
		return -1;
	}
	return 0;
}

void
rdv_error_ref_login(uint8_t ref[RDV_NONCE_LEN], const uint8_t login_id[RDV_LOGIN_ID_LEN])
{
	memset(ref, 0, RDV_NONCE_LEN);
	memcpy(ref, login_id, RDV_LOGIN_ID_LEN);
}

const char *
rdv_error_str(int code)
{
	switch (code) {
	case RDV_ERR_UNKNOWN_ID:
		return "unknown user or device";
	case RDV_ERR_BAD_AUTH:
		return "bad credentials";
	case RDV_ERR_NOT_ALLOWED:
		return "UID not allowed for this user";
	case RDV_ERR_OFFLINE:
		return "target not online";
	case RDV_ERR_RATE:
		return "rate limited, try later";
	case RDV_ERR_MALFORMED:
		return "malformed request or unsupported version";
	case RDV_ERR_NO_LOGIN:
		return "unknown login, log in again";
	default:
		return "unknown error code";
	}
}

/* ---- KEEPALIVE, KA_ACK ---- */

int
rdv_build_keepalive(uint8_t *out, size_t cap, const struct rdv_keepalive *k,
		    const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_KEEPALIVE);
	wbuf_put(&w, k->login_id, RDV_LOGIN_ID_LEN);
	wbuf_u64(&w, k->seq);
	rdv_cands_put(&w, &k->cands);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_keepalive(const uint8_t *p, size_t n, struct rdv_keepalive *k, const char **why)
{
	struct rbuf r;

	memset(k, 0, sizeof(*k));
	if (begin_tailed(&r, p, n, RDV_KEEPALIVE, NULL, "KEEPALIVE length out of range", why) == -1)
		return -1;
	rbuf_get(&r, k->login_id, RDV_LOGIN_ID_LEN);
	k->seq = rbuf_u64(&r);
	rdv_cands_get(&r, &k->cands);
	return read_all(&r, why);
}

int
rdv_build_ka_ack(uint8_t *out, size_t cap, const struct rdv_ka_ack *k,
		 const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_KA_ACK);
	wbuf_put(&w, k->login_id, RDV_LOGIN_ID_LEN);
	wbuf_u64(&w, k->seq);
	rdv_addr_put(&w, &k->observed);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_ka_ack(const uint8_t *p, size_t n, struct rdv_ka_ack *k,
		 const uint8_t klogin[RDV_SECRET_LEN], const char **why)
{
	struct rbuf r;

	memset(k, 0, sizeof(*k));
	if (begin_tailed(&r, p, n, RDV_KA_ACK, klogin, "message length out of range", why) == -1)
		return -1;
	rbuf_get(&r, k->login_id, RDV_LOGIN_ID_LEN);
	k->seq = rbuf_u64(&r);
	rdv_addr_get(&r, &k->observed);
	return read_all(&r, why);
}

/* ---- INTRO, INTRO_ACK ---- */

#define SEALED_LEN (RDV_SECRET_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)

int
rdv_build_intro(uint8_t *out, size_t cap, const struct rdv_intro *m,
		const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;
	uint8_t *nonce, *sealed;
	size_t adlen;
	unsigned long long clen;

	start_msg(&w, out, cap, RDV_INTRO);
	wbuf_put(&w, m->login_id, RDV_LOGIN_ID_LEN);
	wbuf_put(&w, m->session_id, RDV_SESSION_ID_LEN);
	id_put(&w, &m->peer);
	if (m->mode > RDV_MODE_MAX)
		w.err = 1;
	wbuf_u8(&w, m->mode);
	rdv_cands_put(&w, &m->cands);
	adlen = w.len;
	nonce = wbuf_reserve(&w, RDV_SEAL_NONCE_LEN);
	sealed = wbuf_reserve(&w, SEALED_LEN);
	if (w.err)
		return -1;
	randombytes_buf(nonce, RDV_SEAL_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, &clen, m->secret, RDV_SECRET_LEN, out,
						   adlen, NULL, nonce, klogin);
	return finish(&w);
}

int
rdv_open_intro(const uint8_t *p, size_t n, struct rdv_intro *m,
	       const uint8_t klogin[RDV_SECRET_LEN], const char **why)
{
	struct rbuf r;
	const uint8_t *nonce, *sealed;
	size_t adlen;
	unsigned long long mlen;

	memset(m, 0, sizeof(*m));
	if (n > RDV_MAX_DGRAM || n < 2 + RDV_SEAL_NONCE_LEN + SEALED_LEN) {
		set_why(why, "INTRO length out of range");
		return -1;
	}
	adlen = n - RDV_SEAL_NONCE_LEN - SEALED_LEN;
	rbuf_init(&r, p, adlen);
	if (get_head(&r, RDV_INTRO, why) == -1)
		return -1;
	rbuf_get(&r, m->login_id, RDV_LOGIN_ID_LEN);
	rbuf_get(&r, m->session_id, RDV_SESSION_ID_LEN);
	id_get(&r, &m->peer);
	m->mode = rbuf_u8(&r);
	rdv_cands_get(&r, &m->cands);
	if (read_all(&r, why) == -1)
		return -1;
	if (rdv_id_check(&m->peer, why) == -1 || m->mode > RDV_MODE_MAX) {
		set_why(why, "INTRO peer id or mode is invalid");
		return -1;
	}
	nonce = p + adlen;
	sealed = nonce + RDV_SEAL_NONCE_LEN;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m->secret, &mlen, NULL, sealed, SEALED_LEN,
						       p, adlen, nonce, klogin) != 0 ||
	    mlen != RDV_SECRET_LEN) {
		wipe(m->secret, sizeof(m->secret));
		set_why(why, "INTRO does not open with this login's key");
		return -1;
	}
	return 0;
}

int
rdv_build_intro_ack(uint8_t *out, size_t cap, const struct rdv_intro_ack *m,
		    const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	start_msg(&w, out, cap, RDV_INTRO_ACK);
	wbuf_put(&w, m->login_id, RDV_LOGIN_ID_LEN);
	wbuf_put(&w, m->session_id, RDV_SESSION_ID_LEN);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_intro_ack(const uint8_t *p, size_t n, struct rdv_intro_ack *m, const char **why)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	if (n < 2 + RDV_MAC_LEN) {
		set_why(why, "INTRO_ACK too short");
		return -1;
	}
	if (open_tailed(&r, p, n, RDV_INTRO_ACK, NULL, why) == -1)
		return -1;
	rbuf_get(&r, m->login_id, RDV_LOGIN_ID_LEN);
	rbuf_get(&r, m->session_id, RDV_SESSION_ID_LEN);
	return read_all(&r, why);
}

/* ---- RELAY, RELAYED (section 9) ---- */

int
rdv_inner_check(const uint8_t *inner, size_t n, const char **why)
{
	if (inner == NULL || n < RDV_INNER_MIN) {
		set_why(why, "relayed peer datagram shorter than 2 bytes");
		return -1;
	}
	if (n > RDV_INNER_MAX) {
		set_why(why, "relayed peer datagram longer than 1472 bytes");
		return -1;
	}
	if (inner[0] < 0x90 || inner[0] > 0xa0) {
		set_why(why, "relayed datagram is not a peer message (type must be 0x90..0xa0)");
		return -1;
	}
	return 0;
}

/*
 * Start reading a relay message of the given type whose fixed part (header
 * and mac) is overhead bytes: the length first, then (with key: a message to
 * a client) the type and the mac, then type and version. r is set over
 * everything before the mac.
 */
static int
begin_relay(struct rbuf *r, const uint8_t *p, size_t n, uint8_t type, size_t overhead,
	    const uint8_t *key, const char **why)
{
	if (key != NULL && n >= 1 && p[0] != type) {
		set_why(why, "wrong message type");
		return -1;
	}
	if (n < overhead + RDV_INNER_MIN) {
		set_why(why, "relay message too short for its header, a peer datagram and a mac");
		return -1;
	}
	if (n > overhead + RDV_INNER_MAX) {
		set_why(why, "relay message longer than its header, 1472 bytes and a mac");
		return -1;
	}
	return open_tailed(r, p, n, type, key, why);
}

/* The rest of r is the inner datagram: point at it and check it. */
static int
get_inner(struct rbuf *r, const uint8_t **inner, size_t *inner_len, const char **why)
{
	if (r->err) {
		set_why(why, "truncated relay header");
		return -1;
	}
	*inner = r->p + r->off;
	*inner_len = r->len - r->off;
	if (rdv_inner_check(*inner, *inner_len, why) == -1) {
		*inner = NULL;
		*inner_len = 0;
		return -1;
	}
	return 0;
}

int
rdv_build_relay(uint8_t *out, size_t cap, const struct rdv_relay *m,
		const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	if (m->seq == 0 || rdv_inner_check(m->inner, m->inner_len, NULL) == -1)
		return -1;
	start_msg(&w, out, cap, RDV_RELAY);
	wbuf_put(&w, m->login_id, RDV_LOGIN_ID_LEN);
	wbuf_put(&w, m->session_id, RDV_SESSION_ID_LEN);
	wbuf_u64(&w, m->seq);
	wbuf_put(&w, m->inner, m->inner_len);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_relay(const uint8_t *p, size_t n, struct rdv_relay *m, const char **why)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	if (begin_relay(&r, p, n, RDV_RELAY, RDV_RELAY_OVERHEAD, NULL, why) == -1)
		return -1;
	rbuf_get(&r, m->login_id, RDV_LOGIN_ID_LEN);
	rbuf_get(&r, m->session_id, RDV_SESSION_ID_LEN);
	m->seq = rbuf_u64(&r);
	if (get_inner(&r, &m->inner, &m->inner_len, why) == -1)
		return -1;
	if (m->seq == 0) {
		set_why(why, "RELAY seq 0 (it starts at 1)");
		return -1;
	}
	return 0;
}

int
rdv_build_relayed(uint8_t *out, size_t cap, const struct rdv_relayed *m,
		  const uint8_t klogin[RDV_SECRET_LEN])
{
	struct wbuf w;

	if (rdv_inner_check(m->inner, m->inner_len, NULL) == -1)
		return -1;
	start_msg(&w, out, cap, RDV_RELAYED);
	wbuf_put(&w, m->login_id, RDV_LOGIN_ID_LEN);
	wbuf_put(&w, m->session_id, RDV_SESSION_ID_LEN);
	wbuf_put(&w, m->inner, m->inner_len);
	put_tail_mac(&w, klogin, RDV_SECRET_LEN);
	return finish(&w);
}

int
rdv_parse_relayed(const uint8_t *p, size_t n, struct rdv_relayed *m,
		  const uint8_t klogin[RDV_SECRET_LEN], const char **why)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	if (begin_relay(&r, p, n, RDV_RELAYED, RDV_RELAYED_OVERHEAD, klogin, why) == -1)
		return -1;
	rbuf_get(&r, m->login_id, RDV_LOGIN_ID_LEN);
	rbuf_get(&r, m->session_id, RDV_SESSION_ID_LEN);
	return get_inner(&r, &m->inner, &m->inner_len, why);
}
