/* server: rendezvousd's sockets, message handling and timers. */
#include "rendezvous/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/acceptor.h"
#include "common/log.h"
#include "common/rdvwire.h"
#include "common/replay.h"
#include "common/stun.h"
#include "common/util.h"
#include "rendezvous/ratelimit.h"
#include "rendezvous/registry.h"

#if defined(IP_RECVPKTINFO)
#define SRV_RECVPKTINFO IP_RECVPKTINFO
#elif defined(IP_PKTINFO)
#define SRV_RECVPKTINFO IP_PKTINFO
#endif

#define MAX_UDP	     4
#define RECV_BATCH   64
#define ACCEPT_BATCH 64

struct srv_sock {
	ev_io io; /* first member: the callback gets this struct */
	struct server *srv;
	int idx;
	int wild;	    /* bound to the IPv4 wildcard: local address from IP_PKTINFO */
	int ipsel, portsel; /* 0 = listen address / port, 1 = alt_address / alt_port */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct server {
	struct ev_loop *loop;
	struct rdv_conf conf;
	struct srv_sock udp[MAX_UDP];
	int nudp;
	int nips, nports;		/* 1 or 2 of each */
	struct sockaddr_storage ips[2]; /* listen address, alt_address (ports 0) */
	uint16_t ports[2];		/* listen port, alt_port */
	struct acceptor tcp;		/* the TCP check port; pauses when out of descriptors */
	ev_timer tick;
	ev_timer stats;
	struct registry *reg;
	struct ratelimit *rl;
	uint8_t kserver[RDV_SECRET_LEN];
	struct reg_bucket relay_bucket; /* relay_total, over every session */
	struct server_stats st;
};

/* The message being answered: where it came from and on which socket. */
struct req {
	struct server *srv;
	int sock;
	const struct sockaddr *from;
	socklen_t fromlen;
	const struct sockaddr *local; /* may be NULL */
	struct rdv_addr src;
	char srcstr[SOCKADDR_STRLEN];
	uint64_t now;
};

/* The length of sa: a sockaddr_in6 for IPv6, else a sockaddr_in. */
static socklen_t
sa_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* The server that holds the watcher w as its member m. */
#define SERVER_OF(w, m) ((struct server *)((char *)(w)-offsetof(struct server, m)))

/* ---- sending ---- */

/* Send p from socket sock (with source address `local` when the socket is
 * bound to the wildcard and local is known). */
static void
send_from(struct server *srv, int sock, const struct sockaddr *local, const struct sockaddr *dst,
	  socklen_t dstlen, const uint8_t *p, size_t n)
{
	struct srv_sock *s = &srv->udp[sock];
	ssize_t r;

#ifdef SRV_RECVPKTINFO
	if (s->wild && local != NULL && local->sa_family == AF_INET && dst->sa_family == AF_INET) {
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		} cbuf;
		struct in_pktinfo pi;
		struct iovec iov = {(void *)(uintptr_t)p, n};
		struct msghdr mh;
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		memset(&pi, 0, sizeof(pi));
		memset(&mh, 0, sizeof(mh));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		mh.msg_name = (void *)(uintptr_t)dst;
		mh.msg_namelen = dstlen;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		r = sendmsg(s->io.fd, &mh, 0);
	} else
#endif
	{
		(void)local;
		r = sendto(s->io.fd, p, n, 0, dst, dstlen);
	}
	if (r < 0) {
		char b[SOCKADDR_STRLEN];
		log_debug("sendto %s: %s", fmt_sockaddr(dst, b, sizeof(b)), strerror(errno));
	}
}

/* Send p to login l, from the address its messages arrive at. */
static void
send_to_login(struct server *srv, const struct reg_login *l, const uint8_t *p, size_t n)
{
	send_from(srv, l->sock, l->local.ss_family ? (const struct sockaddr *)&l->local : NULL,
		  (const struct sockaddr *)&l->addr, l->addrlen, p, n);
}

static void
reply(struct req *q, const uint8_t *p, int n)
{
	if (n > 0)
		send_from(q->srv, q->sock, q->local, q->from, q->fromlen, p, (size_t)n);
}

static void
send_error(struct req *q, const uint8_t ref[RDV_NONCE_LEN], uint8_t code)
{
	uint8_t out[RDV_ERROR_LEN];

	q->srv->st.refused++;
	reply(q, out, rdv_build_error(out, sizeof(out), ref, code));
}

/* Count and log a request dropped because it does not parse. */
static void
drop_malformed(struct req *q, const char *what, const char *why)
{
	q->srv->st.drop_malformed++;
	log_debug("%s: %s dropped: %s", q->srcstr, what, why);
}

/* ---- rate limit ---- */

/* Take a token for q's source. Returns 0 to go on; -1 to drop (counted),
 * with *first set if this is the first refusal since the source last passed
 * (the caller may then send one ERROR 5). */
static int
rate_take(struct req *q, int *first)
{
	int v = ratelimit_take(q->srv->rl, q->from, q->now);

	*first = v == RL_DROP_FIRST;
	if (v == RL_PASS)
		return 0;
	q->srv->st.drop_rate++;
	if (*first)
		log_debug("rate limit reached for %s", q->srcstr);
	return -1;
}

/* ---- STUN ---- */

static int
sock_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* What the STUN responder needs to know about socket s for one request. */
static void
stun_self(const struct server *srv, const struct srv_sock *s, const struct sockaddr *local,
	  struct stun_server *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->flags = STUN_SERVER_NO_AMPLIFY;
	if (s->wild && local != NULL && local->sa_family == AF_INET) {
		memcpy(&ss->local, local, sizeof(struct sockaddr_in));
		set_port(&ss->local, srv->ports[s->portsel]);
	} else {
		memcpy(&ss->local, &s->addr, s->addrlen);
	}
	if (srv->nips == 1 && srv->nports == 1)
		return;
	if (srv->nips == 2)
		ss->alt = srv->ips[1 - s->ipsel];
	else
		ss->alt = ss->local;
	set_port(&ss->alt, srv->ports[srv->nports == 2 ? 1 - s->portsel : s->portsel]);
}

/* The socket a reply must leave from (its address, or the wildcard with the
 * same port), or -1. */
static int
sock_for(const struct server *srv, const struct sockaddr_storage *from)
{
	int port = sock_port((const struct sockaddr *)from);

	for (int i = 0; i < srv->nudp; i++) {
		const struct srv_sock *s = &srv->udp[i];
		if (sock_port((const struct sockaddr *)&s->addr) != port)
			continue;
		if (s->wild ||
		    same_ip((const struct sockaddr *)&s->addr, (const struct sockaddr *)from))
			return i;
	}
	return -1;
}

static void
handle_stun(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct stun_server self;
	struct sockaddr_storage reply_from;
	uint8_t out[STUN_MAX_BUILT];
	const char *why = NULL;
	size_t len;
	int first, sock;

	if (!stun_is_message(p, n)) {
		srv->st.drop_malformed++;
		log_debug("%s: %zu bytes starting 0x%02x: not STUN (no magic cookie)", q->srcstr, n,
			  p[0]);
		return;
	}
	if (rate_take(q, &first) == -1)
		return;
	stun_self(srv, &srv->udp[q->sock], q->local, &self);
	memset(&reply_from, 0, sizeof(reply_from));
	len = stun_answer(p, n, q->from, &self, out, sizeof(out), &reply_from, &why);
	if (len == 0) {
		srv->st.drop_stun++;
		log_debug("%s: STUN not answered: %s", q->srcstr, why ? why : "?");
		return;
	}
	if ((sock = sock_for(srv, &reply_from)) == -1) {
		srv->st.drop_stun++;
		log_debug("%s: STUN reply would leave from an address without a socket", q->srcstr);
		return;
	}
	srv->st.stun_answered++;
	send_from(srv, sock, (const struct sockaddr *)&reply_from, q->from, q->fromlen, out, len);
}

/* ---- HELLO ---- */

static uint32_t
now_s(uint64_t now_ms_)
{
	return (uint32_t)(now_ms_ / 1000);
}

static void
handle_hello(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct rdv_hello h;
	struct rdv_challenge c;
	uint8_t out[RDV_CHALLENGE_LEN];
	const char *why = NULL;
	int r, first;

	if (rate_take(q, &first) == -1) {
		if (first && rdv_parse_hello(p, n, &h, NULL) != -1)
			send_error(q, h.cnonce, RDV_ERR_RATE);
		return;
	}
	r = rdv_parse_hello(p, n, &h, &why);
	if (r == -1) {
		drop_malformed(q, "HELLO", why);
		return;
	}
	if (r == -2) {
		log_debug("%s: HELLO refused: %s", q->srcstr, why);
		send_error(q, h.cnonce, RDV_ERR_MALFORMED);
		return;
	}
	memcpy(c.cnonce, h.cnonce, RDV_NONCE_LEN);
	c.ts = now_s(q->now);
	rdv_cookie(c.snonce, srv->kserver, c.ts, &q->src, &h.id, h.cnonce);
	srv->st.challenges++;
	reply(q, out, rdv_build_challenge(out, sizeof(out), &c));
}

/* ---- AUTH ---- */

/* The peer's candidates as the other side gets them: the address the server
 * sees first, then the peer's own (duplicates left out, at most 8). */
static void
intro_cands(struct rdv_cands *c, const struct reg_login *peer)
{
	struct rdv_addr obs;

	rdv_cands_clear(c);
	if (rdv_addr_from_sockaddr(&obs, (const struct sockaddr *)&peer->addr) == 0)
		(void)rdv_cands_add(c, &obs);
	for (size_t i = 0; i < peer->cands.n; i++)
		(void)rdv_cands_add(c, &peer->cands.a[i]);
}

static const char *
id_str(const struct rdv_id *id, char buf[RDV_ID_STRLEN])
{
	return rdv_id_format(id, buf, RDV_ID_STRLEN);
}

static void
refuse(struct req *q, const struct rdv_auth *a, uint8_t code, const char *what)
{
	char ib[RDV_ID_STRLEN], ub[UID_STRLEN];

	if (a->id.role == RDV_ROLE_INITIATOR && code != RDV_ERR_UNKNOWN_ID &&
	    code != RDV_ERR_BAD_AUTH)
		log_info("refused %s -> %s: %s", id_str(&a->id, ib), uid_format(&a->uid, ub), what);
	else
		log_info("refused %s %s from %s: %s",
			 a->id.role == RDV_ROLE_TARGET ? "device" : "user", id_str(&a->id, ib),
			 q->srcstr, what);
	send_error(q, a->cnonce, code);
}

/* Remember the local address a login's messages arrive at (NULL: unknown). */
static void
set_login_local(struct reg_login *l, const struct sockaddr *local)
{
	memset(&l->local, 0, sizeof(l->local));
	if (local != NULL)
		memcpy(&l->local, local, sa_len(local));
}

/* A new login for a, from q's source. NULL (and a refused with ERROR 5) when
 * the server is full. */
static struct reg_login *
login_add(struct req *q, const struct rdv_auth *a, const uint8_t klogin[RDV_SECRET_LEN],
	  int *replaced)
{
	struct reg_login *l;

	l = registry_login_add(q->srv->reg, &a->id, klogin, q->from, q->fromlen, q->sock, &a->cands,
			       q->now, replaced);
	if (l == NULL) {
		refuse(q, a, RDV_ERR_RATE, "too many logins (server full)");
		return NULL;
	}
	set_login_local(l, q->local);
	return l;
}

/* Look up the client's MAC key; returns its length, or 0 if unknown. */
static size_t
client_key(const struct server *srv, const struct rdv_auth *a, uint8_t key[RDV_SECRET_LEN],
	   const struct rdv_user **user)
{
	*user = NULL;
	if (a->id.role == RDV_ROLE_TARGET) {
		p2p_uid u;
		const struct rdv_device *d;
		memcpy(u.b, a->id.b, UID_LEN);
		if ((d = rdvconf_device(&srv->conf, &u)) == NULL)
			return 0;
		rdv_device_key(key, d->secret);
		return RDV_SECRET_LEN;
	}
	*user = rdvconf_user(&srv->conf, (const char *)a->id.b, a->id.len);
	if (*user == NULL || !(*user)->has_auth_hash)
		return 0;
	memcpy(key, (*user)->auth_hash, AUTH_HASH_LEN);
	return AUTH_HASH_LEN;
}

static void
auth_target(struct req *q, const struct rdv_auth *a, const uint8_t klogin[RDV_SECRET_LEN])
{
	struct server *srv = q->srv;
	struct reg_login *l;
	struct rdv_auth_ok ok;
	uint8_t out[RDV_MAX_DGRAM];
	char ib[RDV_ID_STRLEN];
	int replaced;

	if ((l = login_add(q, a, klogin, &replaced)) == NULL)
		return;
	memset(&ok, 0, sizeof(ok));
	memcpy(ok.cnonce, a->cnonce, RDV_NONCE_LEN);
	memcpy(ok.login_id, l->login_id, RDV_LOGIN_ID_LEN);
	ok.keepalive = SRV_KEEPALIVE_S;
	ok.observed = q->src;
	srv->st.registrations++;
	log_info("registered %s from %s%s", id_str(&a->id, ib), q->srcstr,
		 replaced ? " (replacing its previous login)" : "");
	reply(q, out, rdv_build_auth_ok(out, sizeof(out), &ok, klogin));
}

/* Build the INTRO for `to` about `peer`; returns its length or -1. */
static int
build_intro(uint8_t *out, size_t cap, const struct reg_login *to, const struct reg_login *peer,
	    const uint8_t sid[RDV_SESSION_ID_LEN], uint8_t mode, const uint8_t s[RDV_SECRET_LEN])
{
	struct rdv_intro m;
	int n;

	memset(&m, 0, sizeof(m));
	memcpy(m.login_id, to->login_id, RDV_LOGIN_ID_LEN);
	memcpy(m.session_id, sid, RDV_SESSION_ID_LEN);
	m.peer = peer->id;
	m.mode = mode;
	intro_cands(&m.cands, peer);
	memcpy(m.secret, s, RDV_SECRET_LEN);
	n = rdv_build_intro(out, cap, &m, to->key);
	wipe(m.secret, sizeof(m.secret));
	return n;
}

static void
auth_initiator(struct req *q, const struct rdv_auth *a, const struct rdv_user *user,
	       const uint8_t klogin[RDV_SECRET_LEN])
{
	struct server *srv = q->srv;
	struct reg_login *t, *l;
	uint8_t sid[RDV_SESSION_ID_LEN], s[RDV_SECRET_LEN];
	uint8_t to_t[RDV_MAX_DGRAM], to_i[RDV_MAX_DGRAM];
	int nt, ni;
	char ib[RDV_ID_STRLEN], ub[UID_STRLEN], hex[2 * RDV_SESSION_ID_LEN + 1];

	if (!rdvconf_user_may_reach(user, &a->uid)) {
		refuse(q, a, RDV_ERR_NOT_ALLOWED, "not allowed");
		return;
	}
	if ((t = registry_target_find(srv->reg, &a->uid)) == NULL) {
		refuse(q, a, RDV_ERR_OFFLINE, "target not online");
		return;
	}
	if ((l = login_add(q, a, klogin, NULL)) == NULL)
		return;
	srv->st.logins++;
	do {
		randombytes_buf(sid, sizeof(sid));
	} while (registry_session_find(srv->reg, sid) != NULL);
	randombytes_buf(s, sizeof(s));
	nt = build_intro(to_t, sizeof(to_t), t, l, sid, a->mode, s);
	ni = build_intro(to_i, sizeof(to_i), l, t, sid, a->mode, s);
	wipe(s, sizeof(s));
	if (nt < 0 || ni < 0 ||
	    registry_session_add(srv->reg, sid, t, l, to_t, (size_t)nt,
				 q->now + SRV_INTRO_REPEAT_MS) == NULL) {
		registry_login_del(srv->reg, l);
		refuse(q, a, RDV_ERR_RATE, "too many sessions (server full)");
		return;
	}
	hex_encode(sid, sizeof(sid), hex);
	log_info("introduced %s -> %s session %s", id_str(&a->id, ib), uid_format(&a->uid, ub),
		 hex);
	srv->st.introductions++;
	send_to_login(srv, t, to_t, (size_t)nt);
	reply(q, to_i, ni);
}

/* ts from our own CHALLENGE, at most SRV_TS_MAX_AGE_S old (and not ahead). */
static int
ts_fresh(uint32_t ts, uint64_t now)
{
	uint32_t age = now_s(now) - ts; /* wraps to a huge age if ts is ahead */

	return age <= SRV_TS_MAX_AGE_S;
}

static void
handle_auth(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct rdv_auth a;
	const struct rdv_user *user;
	uint8_t kc[RDV_SECRET_LEN], kl[RDV_SECRET_LEN];
	size_t klen;
	const char *why = NULL;
	int r, first;

	if (rate_take(q, &first) == -1) {
		if (first && rdv_parse_auth(p, n, &a, NULL) != -1)
			send_error(q, a.cnonce, RDV_ERR_RATE);
		return;
	}
	r = rdv_parse_auth(p, n, &a, &why);
	if (r == -1) {
		drop_malformed(q, "AUTH", why);
		return;
	}
	if (!ts_fresh(a.ts, q->now)) {
		refuse(q, &a, RDV_ERR_BAD_AUTH, "stale challenge (more than 60 s old)");
		return;
	}
	if (rdv_cookie_verify(a.snonce, srv->kserver, a.ts, &q->src, &a.id, a.cnonce) != 0) {
		refuse(q, &a, RDV_ERR_BAD_AUTH, "cookie does not match (another source address?)");
		return;
	}
	if (r == -2) {
		refuse(q, &a, RDV_ERR_MALFORMED, why);
		return;
	}
	if ((klen = client_key(srv, &a, kc, &user)) == 0) {
		refuse(q, &a, RDV_ERR_UNKNOWN_ID, "unknown");
		return;
	}
	if (rdv_verify_tail_mac(p, n, kc, klen) != 0) {
		wipe(kc, sizeof(kc));
		refuse(q, &a, RDV_ERR_BAD_AUTH, "bad proof (wrong secret or auth_hash)");
		return;
	}
	switch (registry_replay_add(srv->reg, a.snonce, q->now)) {
	case REPLAY_SEEN:
		wipe(kc, sizeof(kc));
		refuse(q, &a, RDV_ERR_BAD_AUTH, "replayed AUTH (challenge already used)");
		return;
	case REPLAY_FULL:
		wipe(kc, sizeof(kc));
		refuse(q, &a, RDV_ERR_RATE, "too many logins in the last two minutes");
		return;
	default:
		break;
	}
	rdv_login_key(kl, kc, klen, a.cnonce, a.snonce);
	wipe(kc, sizeof(kc));
	if (a.id.role == RDV_ROLE_TARGET)
		auth_target(q, &a, kl);
	else
		auth_initiator(q, &a, user, kl);
	wipe(kl, sizeof(kl));
}

/* ---- KEEPALIVE, INTRO_ACK ---- */

/* An authenticated, fresh message from l came from q's source: l's
 * observed address (and the socket and local address to answer from) follow
 * it. */
static void
login_seen_at(struct req *q, struct reg_login *l)
{
	char ib[RDV_ID_STRLEN], ob[SOCKADDR_STRLEN];

	if (q->fromlen > sizeof(l->addr))
		return;
	if (l->addrlen != q->fromlen || memcmp(&l->addr, q->from, q->fromlen) != 0) {
		log_info("%s moved from %s to %s", id_str(&l->id, ib),
			 fmt_sockaddr((const struct sockaddr *)&l->addr, ob, sizeof(ob)),
			 q->srcstr);
		memset(&l->addr, 0, sizeof(l->addr));
		memcpy(&l->addr, q->from, q->fromlen);
		l->addrlen = q->fromlen;
	}
	l->sock = q->sock;
	set_login_local(l, q->local);
}

/* The login a KEEPALIVE or INTRO_ACK names, authenticated; NULL if there is
 * none (ERROR 7 sent, rate limited) or the mac is wrong (dropped). */
static struct reg_login *
authed_login(struct req *q, const uint8_t *p, size_t n, const uint8_t login_id[RDV_LOGIN_ID_LEN])
{
	struct server *srv = q->srv;
	struct reg_login *l;
	uint8_t ref[RDV_NONCE_LEN];
	int first;

	if ((l = registry_login_find(srv->reg, login_id)) == NULL) {
		if (rate_take(q, &first) == -1)
			return NULL;
		log_debug("%s: unknown login: ERROR 7", q->srcstr);
		rdv_error_ref_login(ref, login_id);
		send_error(q, ref, RDV_ERR_NO_LOGIN);
		return NULL;
	}
	if (rdv_verify_tail_mac(p, n, l->key, RDV_SECRET_LEN) != 0) {
		srv->st.drop_badmac++;
		log_debug("%s: message for a known login does not authenticate", q->srcstr);
		return NULL;
	}
	return l;
}

static void
handle_keepalive(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct rdv_keepalive k;
	struct rdv_ka_ack ack;
	struct reg_login *l;
	uint8_t out[RDV_MAX_DGRAM];
	const char *why = NULL;

	if (rdv_parse_keepalive(p, n, &k, &why) == -1) {
		drop_malformed(q, "KEEPALIVE", why);
		return;
	}
	if ((l = authed_login(q, p, n, k.login_id)) == NULL)
		return;
	if (k.seq <= l->seq) {
		srv->st.drop_stale++;
		log_debug("%s: KEEPALIVE seq %llu not above %llu (replay?)", q->srcstr,
			  (unsigned long long)k.seq, (unsigned long long)l->seq);
		return;
	}
	login_seen_at(q, l);
	l->seq = k.seq;
	l->cands = k.cands;
	registry_login_touch(srv->reg, l, q->now);
	srv->st.keepalives++;
	memset(&ack, 0, sizeof(ack));
	memcpy(ack.login_id, l->login_id, RDV_LOGIN_ID_LEN);
	ack.seq = k.seq;
	ack.observed = q->src;
	reply(q, out, rdv_build_ka_ack(out, sizeof(out), &ack, l->key));
}

static void
handle_intro_ack(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct rdv_intro_ack m;
	struct reg_login *l;
	struct reg_session *s;
	const char *why = NULL;

	if (rdv_parse_intro_ack(p, n, &m, &why) == -1) {
		drop_malformed(q, "INTRO_ACK", why);
		return;
	}
	if ((l = authed_login(q, p, n, m.login_id)) == NULL)
		return;
	registry_login_touch(srv->reg, l, q->now);
	s = registry_session_find(srv->reg, m.session_id);
	if (s == NULL || registry_session_member(s, l) != REG_TARGET || !s->pending) {
		srv->st.drop_stale++; /* a repeated ACK, or not this target's session */
		return;
	}
	srv->st.intro_acks++;
	registry_session_settle(srv->reg, s);
}

/* ---- RELAY (section 9) ---- */

static const char *
session_hex(const struct reg_session *s, char hex[2 * RDV_SESSION_ID_LEN + 1])
{
	hex_encode(s->session_id, RDV_SESSION_ID_LEN, hex);
	return hex;
}

/* Count a RELAY dropped for a reason. Nothing is ever answered to it. */
static void
relay_drop(struct req *q, uint64_t *counter, const char *why)
{
	(*counter)++;
	log_debug("%s: RELAY dropped: %s", q->srcstr, why);
}

/* A bucket holds one second's worth of its rate, and at least one largest
 * RELAYED datagram (or a small rate would block those forever). */
static uint64_t
relay_burst(uint64_t rate)
{
	return rate > RDV_RELAYED_MAX ? rate : RDV_RELAYED_MAX;
}

/* Take len bytes from the session's bucket (relay_rate) and the server's
 * (relay_total); 0 (counted) if either has too few, and then neither is
 * touched. */
static int
relay_rate_ok(struct req *q, struct reg_session *s, size_t len)
{
	struct server *srv = q->srv;

	registry_bucket_refill(&s->bucket, srv->conf.relay_rate, relay_burst(srv->conf.relay_rate),
			       q->now);
	registry_bucket_refill(&srv->relay_bucket, srv->conf.relay_total,
			       relay_burst(srv->conf.relay_total), q->now);
	if (!registry_bucket_has(&s->bucket, len)) {
		s->relay_dropped++;
		relay_drop(q, &srv->st.relay_drop_rate, "over the session's relay_rate");
		return 0;
	}
	if (!registry_bucket_has(&srv->relay_bucket, len)) {
		s->relay_dropped++;
		relay_drop(q, &srv->st.relay_drop_total, "over relay_total");
		return 0;
	}
	registry_bucket_take(&s->bucket, len);
	registry_bucket_take(&srv->relay_bucket, len);
	return 1;
}

/* Forward the inner datagram of m, from member k of s, to the other member. */
static void
relay_forward(struct req *q, struct reg_session *s, int k, const struct rdv_relay *m)
{
	struct server *srv = q->srv;
	struct reg_login *peer = s->member[1 - k];
	struct rdv_relayed r;
	uint8_t out[RDV_RELAYED_MAX];
	char hex[2 * RDV_SESSION_ID_LEN + 1], ib[RDV_ID_STRLEN], tb[RDV_ID_STRLEN];
	int len;

	memcpy(r.login_id, peer->login_id, RDV_LOGIN_ID_LEN);
	memcpy(r.session_id, s->session_id, RDV_SESSION_ID_LEN);
	r.inner = m->inner;
	r.inner_len = m->inner_len;
	if ((len = rdv_build_relayed(out, sizeof(out), &r, peer->key)) < 0) {
		relay_drop(q, &srv->st.relay_drop_malformed, "cannot build the RELAYED");
		return;
	}
	if (!relay_rate_ok(q, s, (size_t)len))
		return;
	if (s->relayed_pkts == 0) {
		srv->st.relay_sessions++;
		log_info("relaying session %s %s <-> %s", session_hex(s, hex),
			 id_str(&s->member[REG_INITIATOR]->id, ib),
			 id_str(&s->member[REG_TARGET]->id, tb));
	}
	s->relayed_pkts++;
	s->relayed_bytes += (uint64_t)len;
	srv->st.relayed++;
	srv->st.relayed_bytes += (uint64_t)len;
	send_to_login(srv, peer, out, (size_t)len);
}

/*
 * RELAY: forwarded only if relay is on, the login exists and the mac verifies
 * with its key, the session exists and the login is one of its members, the
 * seq is fresh for that member, and both rate limits allow it. A fresh RELAY
 * is activity of its login (as a KEEPALIVE is); the newest one moves the
 * login's observed address. Nothing is ever answered.
 */
static void
handle_relay(struct req *q, const uint8_t *p, size_t n)
{
	struct server *srv = q->srv;
	struct rdv_relay m;
	struct reg_login *l;
	struct reg_session *s;
	const char *why = NULL;
	int k, newest;

	if (!srv->conf.relay) {
		relay_drop(q, &srv->st.relay_drop_off, "relay = no");
		return;
	}
	if (rdv_parse_relay(p, n, &m, &why) == -1) {
		relay_drop(q, &srv->st.relay_drop_malformed, why);
		return;
	}
	if ((l = registry_login_find(srv->reg, m.login_id)) == NULL) {
		relay_drop(q, &srv->st.relay_drop_login, "unknown login");
		return;
	}
	if (rdv_verify_tail_mac(p, n, l->key, RDV_SECRET_LEN) != 0) {
		relay_drop(q, &srv->st.relay_drop_badmac,
			   "does not authenticate with the login's key");
		return;
	}
	s = registry_session_find(srv->reg, m.session_id);
	if (s == NULL || (k = registry_session_member(s, l)) == -1) {
		relay_drop(q, &srv->st.relay_drop_session,
			   "no such session, or the login is not one of its members");
		return;
	}
	if (replay_check(&s->seen[k], m.seq) != 0) {
		relay_drop(q, &srv->st.relay_drop_replay, "seq already seen or below the window");
		return;
	}
	newest = m.seq > s->seen[k].top;
	replay_update(&s->seen[k], m.seq);
	registry_login_touch(srv->reg, l, q->now);
	if (newest)
		login_seen_at(q, l);
	relay_forward(q, s, k, &m);
}

/* ---- dispatch ---- */

void
server_input(struct server *srv, int sock, const uint8_t *p, size_t n, const struct sockaddr *from,
	     socklen_t fromlen, const struct sockaddr *local, uint64_t now_ms_)
{
	struct req q;

	srv->st.received++;
	memset(&q, 0, sizeof(q));
	q.srv = srv;
	q.sock = sock;
	q.from = from;
	q.fromlen = fromlen;
	q.local = local;
	q.now = now_ms_;
	if (n == 0 || rdv_addr_from_sockaddr(&q.src, from) == -1) {
		srv->st.drop_malformed++;
		return;
	}
	fmt_sockaddr(from, q.srcstr, sizeof(q.srcstr));
	if (p[0] <= 0x3f) {
		handle_stun(&q, p, n);
		return;
	}
	if (p[0] == RDV_RELAY) {
		handle_relay(&q, p, n);
		return;
	}
	if (p[0] < RDV_HELLO || p[0] > 0x8f) {
		srv->st.drop_other++;
		log_debug("%s: %zu bytes of type 0x%02x are not for the server", q.srcstr, n, p[0]);
		return;
	}
	switch (rdv_msg_type(p, n)) {
	case RDV_HELLO:
		handle_hello(&q, p, n);
		break;
	case RDV_AUTH:
		handle_auth(&q, p, n);
		break;
	case RDV_KEEPALIVE:
		handle_keepalive(&q, p, n);
		break;
	case RDV_INTRO_ACK:
		handle_intro_ack(&q, p, n);
		break;
	default:
		srv->st.drop_malformed++;
		log_debug(
		    "%s: %zu bytes: type 0x%02x version %u is not a request this server takes",
		    q.srcstr, n, p[0], n > 1 ? p[1] : 0);
		break;
	}
}

/* ---- timers ---- */

static void
expired_cb(const struct reg_login *l, void *arg)
{
	struct server *srv = arg;
	char ib[RDV_ID_STRLEN];

	srv->st.expired++;
	if (l->id.role == RDV_ROLE_TARGET)
		log_info("%s went silent: forgotten after %u s", id_str(&l->id, ib),
			 srv->conf.presence_timeout);
	else
		log_debug("login of %s expired", id_str(&l->id, ib));
}

/* A session is forgotten (a member's login expired, was replaced or pruned):
 * say how much was relayed for it. */
static void
session_end_cb(const struct reg_session *s, void *arg)
{
	char hex[2 * RDV_SESSION_ID_LEN + 1], ib[RDV_ID_STRLEN], tb[RDV_ID_STRLEN];

	(void)arg;
	if (s->relayed_pkts == 0)
		return;
	log_info("relaying session %s %s <-> %s ended: %llu bytes in %llu packets relayed, "
		 "%llu dropped over the rate limits",
		 session_hex(s, hex), id_str(&s->member[REG_INITIATOR]->id, ib),
		 id_str(&s->member[REG_TARGET]->id, tb), (unsigned long long)s->relayed_bytes,
		 (unsigned long long)s->relayed_pkts, (unsigned long long)s->relay_dropped);
}

static void
repeat_intros(struct server *srv, uint64_t now)
{
	struct reg_session *s;
	struct reg_login *t;
	char hex[2 * RDV_SESSION_ID_LEN + 1];

	while ((s = registry_session_due(srv->reg, now)) != NULL) {
		t = s->member[REG_TARGET];
		if (s->sent >= SRV_INTRO_SENDS) {
			char ib[RDV_ID_STRLEN];
			log_info("session %s: %s did not acknowledge the INTRO",
				 session_hex(s, hex), id_str(&t->id, ib));
			srv->st.intro_unacked++;
			registry_session_settle(srv->reg, s);
			continue;
		}
		srv->st.intro_repeats++;
		send_to_login(srv, t, s->pkt, s->len);
		registry_session_sent(srv->reg, s, now + SRV_INTRO_REPEAT_MS);
	}
}

uint64_t
server_tick(struct server *srv, uint64_t now)
{
	uint64_t timeout = (uint64_t)srv->conf.presence_timeout * 1000, next, t;

	registry_expire(srv->reg, now, timeout, expired_cb, srv);
	registry_replay_expire(srv->reg, now);
	repeat_intros(srv, now);
	next = registry_next_expiry(srv->reg, timeout);
	if ((t = registry_next_session(srv->reg)) < next)
		next = t;
	if ((t = registry_next_replay(srv->reg)) < next)
		next = t;
	return next;
}

static void
rearm(struct server *srv, uint64_t next)
{
	uint64_t now = now_ms();

	ev_timer_stop(srv->loop, &srv->tick);
	if (next == UINT64_MAX)
		return;
	ev_timer_set(&srv->tick, next > now ? (double)(next - now) / 1000.0 + 0.001 : 0.0, 0.0);
	ev_timer_start(srv->loop, &srv->tick);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *srv = SERVER_OF(w, tick);

	(void)loop;
	(void)revents;
	rearm(srv, server_tick(srv, now_ms()));
}

static void
stats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *srv = SERVER_OF(w, stats);

	(void)loop;
	(void)revents;
	server_log_stats(srv, LOG_LVL_DEBUG);
}

/* ---- socket callbacks ---- */

static void
udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct srv_sock *s = (struct srv_sock *)w;
	struct server *srv = s->srv;
	uint8_t buf[2048];
	struct sockaddr_storage from, local;
	union {
		struct cmsghdr h;
		uint8_t b[256];
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	(void)loop;
	(void)revents;
	for (int i = 0; i < RECV_BATCH; i++) {
		int have_local = 0;

		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		if ((n = recvmsg(w->fd, &mh, 0)) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("recvmsg: %s", strerror(errno));
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			srv->st.received++;
			srv->st.drop_malformed++;
			continue;
		}
#ifdef SRV_RECVPKTINFO
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				struct sockaddr_in *sin = (struct sockaddr_in *)&local;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				memset(&local, 0, sizeof(local));
				sin->sin_family = AF_INET;
				sin->sin_addr = pi.ipi_addr;
				sin->sin_port = htons(srv->ports[s->portsel]);
				have_local = 1;
			}
		}
#endif
		server_input(srv, s->idx, buf, (size_t)n, (struct sockaddr *)&from, mh.msg_namelen,
			     have_local ? (struct sockaddr *)&local : NULL, now_ms());
	}
	rearm(srv, server_tick(srv, now_ms()));
}

static void
tcp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server *srv = w->data;
	int fd;

	(void)revents;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		if ((fd = acceptor_accept(loop, &srv->tcp, NULL, NULL)) < 0)
			return;
			/* A fresh socket's send buffer is empty: the short banner fits. */
#ifdef MSG_NOSIGNAL
		(void)send(fd, SRV_BANNER, sizeof(SRV_BANNER) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
#else
		(void)send(fd, SRV_BANNER, sizeof(SRV_BANNER) - 1, MSG_DONTWAIT);
#endif
		close(fd);
		srv->st.tcp_banners++;
	}
}

/* ---- setup ---- */

static int
set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int
is_wildcard(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, zero, 16) == 0;
}

static int
open_socket(const struct sockaddr_storage *addr, int type, char *err, size_t errlen)
{
	char b[SOCKADDR_STRLEN];
	int fd, on = 1;

	fmt_sockaddr((const struct sockaddr *)addr, b, sizeof(b));
	if ((fd = socket(addr->ss_family, type, 0)) == -1) {
		snprintf(err, errlen, "socket for %s: %s", b, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    set_nonblock_cloexec(fd) == -1) {
		snprintf(err, errlen, "socket options for %s: %s", b, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)addr, sa_len((const struct sockaddr *)addr)) == -1) {
		snprintf(err, errlen, "cannot bind %s %s: %s", type == SOCK_STREAM ? "TCP" : "UDP",
			 b, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
add_udp(struct server *srv, int ipsel, int portsel, char *err, size_t errlen)
{
	struct srv_sock *s = &srv->udp[srv->nudp];
	int fd;

	memset(s, 0, sizeof(*s));
	s->addr = srv->ips[ipsel];
	set_port(&s->addr, srv->ports[portsel]);
	s->addrlen = sa_len((const struct sockaddr *)&s->addr);
	if ((fd = open_socket(&s->addr, SOCK_DGRAM, err, errlen)) == -1)
		return -1;
	s->srv = srv;
	s->idx = srv->nudp;
	s->ipsel = ipsel;
	s->portsel = portsel;
#ifdef SRV_RECVPKTINFO
	if (s->addr.ss_family == AF_INET && is_wildcard(&s->addr)) {
		int on = 1;
		if (setsockopt(fd, IPPROTO_IP, SRV_RECVPKTINFO, &on, sizeof(on)) == 0)
			s->wild = 1;
	}
#endif
	ev_io_init(&s->io, udp_cb, fd, EV_READ);
	ev_io_start(srv->loop, &s->io);
	srv->nudp++;
	return 0;
}

static int
open_sockets(struct server *srv, char *err, size_t errlen)
{
	const struct rdv_conf *c = &srv->conf;
	int fd;

	srv->ips[0] = c->listen_addr;
	set_port(&srv->ips[0], 0);
	srv->ports[0] = c->listen_port;
	srv->nips = srv->nports = 1;
	if (c->alt_port != 0)
		srv->ports[srv->nports++] = c->alt_port;
	if (c->alt_address[0] != '\0') {
		if (is_wildcard(&srv->ips[0]))
			log_warnx("alt_address %s ignored: it needs a specific listen address, not "
				  "%s",
				  c->alt_address, c->listen);
		else if (c->alt_addr.ss_family != srv->ips[0].ss_family)
			log_warnx("alt_address %s ignored: not of the listen address's family",
				  c->alt_address);
		else
			srv->ips[srv->nips++] = c->alt_addr;
	}
	for (int i = 0; i < srv->nips; i++)
		for (int j = 0; j < srv->nports; j++)
			if (add_udp(srv, i, j, err, errlen) == -1)
				return -1;
	if ((fd = open_socket(&c->listen_addr, SOCK_STREAM, err, errlen)) == -1)
		return -1;
	if (listen(fd, 64) == -1) {
		snprintf(err, errlen, "listen on TCP %s: %s", c->listen, strerror(errno));
		close(fd);
		return -1;
	}
	acceptor_init(&srv->tcp, fd, tcp_cb, srv, "the TCP check port");
	acceptor_start(srv->loop, &srv->tcp);
	return 0;
}

static uint32_t
burst_of(unsigned rate)
{
	return rate > UINT32_MAX / 2 ? UINT32_MAX : (uint32_t)(2 * (rate ? rate : 1));
}

struct server *
server_new(struct ev_loop *loop, struct rdv_conf *conf, char *err, size_t errlen)
{
	struct server *srv;
	struct registry_limits lim = {SRV_MAX_LOGINS, SRV_MAX_SESSIONS, SRV_MAX_REPLAY,
				      SRV_REPLAY_MS};
	char b[SOCKADDR_STRLEN];

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->loop = loop;
	srv->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	srv->tcp.io.fd = -1;
	ev_timer_init(&srv->tick, tick_cb, 0.0, 0.0);
	ev_timer_init(&srv->stats, stats_cb, SRV_STATS_EVERY_S, SRV_STATS_EVERY_S);
	randombytes_buf(srv->kserver, sizeof(srv->kserver));
	srv->reg = registry_new(&lim);
	srv->rl = ratelimit_new(srv->conf.rate_limit ? srv->conf.rate_limit : 1,
				burst_of(srv->conf.rate_limit), SRV_RL_ENTRIES);
	if (srv->reg == NULL || srv->rl == NULL) {
		snprintf(err, errlen, "out of memory");
		server_free(srv);
		return NULL;
	}
	registry_on_session_end(srv->reg, session_end_cb, srv);
	if (open_sockets(srv, err, errlen) == -1) {
		server_free(srv);
		return NULL;
	}
	ev_timer_start(loop, &srv->stats);
	for (int i = 0; i < srv->nudp; i++)
		log_info("listening on UDP %s",
			 fmt_sockaddr((struct sockaddr *)&srv->udp[i].addr, b, sizeof(b)));
	log_info("listening on TCP %s; %zu users, %zu devices; relay %s", srv->conf.listen,
		 srv->conf.nusers, srv->conf.ndevices, srv->conf.relay ? "on" : "off");
	return srv;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	for (int i = 0; i < srv->nudp; i++) {
		ev_io_stop(srv->loop, &srv->udp[i].io);
		close(srv->udp[i].io.fd);
	}
	if (srv->tcp.io.fd >= 0) {
		acceptor_stop(srv->loop, &srv->tcp);
		close(srv->tcp.io.fd);
	}
	ev_timer_stop(srv->loop, &srv->tick);
	ev_timer_stop(srv->loop, &srv->stats);
	registry_free(srv->reg);
	ratelimit_free(srv->rl);
	rdvconf_free(&srv->conf);
	wipe(srv, sizeof(*srv));
	free(srv);
}

/* Keep a login whose user or device is still configured. */
static int
still_known(const struct reg_login *l, void *arg)
{
	const struct rdv_conf *c = arg;

	if (l->id.role == RDV_ROLE_TARGET) {
		p2p_uid u;
		memcpy(u.b, l->id.b, UID_LEN);
		return rdvconf_device(c, &u) != NULL;
	}
	return rdvconf_user(c, (const char *)l->id.b, l->id.len) != NULL;
}

void
server_reload(struct server *srv, struct rdv_conf *conf)
{
	size_t gone;

	if (strcmp(conf->listen, srv->conf.listen) != 0 || conf->alt_port != srv->conf.alt_port ||
	    strcmp(conf->alt_address, srv->conf.alt_address) != 0)
		log_warnx("listen, alt_port and alt_address changes take effect on restart only");
	/* Keep the addresses in use; take everything else. */
	str_lcpy(conf->listen, srv->conf.listen, sizeof(conf->listen));
	conf->listen_addr = srv->conf.listen_addr;
	conf->listen_len = srv->conf.listen_len;
	conf->listen_port = srv->conf.listen_port;
	conf->alt_port = srv->conf.alt_port;
	str_lcpy(conf->alt_address, srv->conf.alt_address, sizeof(conf->alt_address));
	conf->alt_addr = srv->conf.alt_addr;
	conf->alt_len = srv->conf.alt_len;
	rdvconf_free(&srv->conf);
	srv->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	ratelimit_set(srv->rl, srv->conf.rate_limit ? srv->conf.rate_limit : 1,
		      burst_of(srv->conf.rate_limit));
	gone = registry_prune(srv->reg, still_known, &srv->conf);
	log_info("configuration reloaded: %zu users, %zu devices, relay %s; %zu logins dropped, "
		 "%zu kept",
		 srv->conf.nusers, srv->conf.ndevices, srv->conf.relay ? "on" : "off", gone,
		 registry_logins(srv->reg));
	rearm(srv, server_tick(srv, now_ms()));
}

int
server_nsockets(const struct server *srv)
{
	return srv->nudp;
}

const struct sockaddr *
server_sockaddr(const struct server *srv, int sock)
{
	if (sock < 0 || sock >= srv->nudp)
		return NULL;
	return (const struct sockaddr *)&srv->udp[sock].addr;
}

const struct server_stats *
server_get_stats(const struct server *srv)
{
	return &srv->st;
}

void
server_log_stats(const struct server *srv, int level)
{
	const struct server_stats *s = &srv->st;

	log_at(level, NULL, 0,
	       "stats: received %llu, stun %llu, challenges %llu, registrations %llu, logins %llu, "
	       "introductions %llu (acked %llu, repeats %llu, unacked %llu), keepalives %llu, "
	       "refused %llu, expired %llu, tcp %llu; online %zu targets, %zu logins",
	       (unsigned long long)s->received, (unsigned long long)s->stun_answered,
	       (unsigned long long)s->challenges, (unsigned long long)s->registrations,
	       (unsigned long long)s->logins, (unsigned long long)s->introductions,
	       (unsigned long long)s->intro_acks, (unsigned long long)s->intro_repeats,
	       (unsigned long long)s->intro_unacked, (unsigned long long)s->keepalives,
	       (unsigned long long)s->refused, (unsigned long long)s->expired,
	       (unsigned long long)s->tcp_banners, registry_targets(srv->reg),
	       registry_logins(srv->reg));
	log_at(level, NULL, 0,
	       "dropped: malformed %llu, rate limited %llu, stun %llu, bad mac %llu, stale %llu, "
	       "not for the server %llu",
	       (unsigned long long)s->drop_malformed, (unsigned long long)s->drop_rate,
	       (unsigned long long)s->drop_stun, (unsigned long long)s->drop_badmac,
	       (unsigned long long)s->drop_stale, (unsigned long long)s->drop_other);
	log_at(level, NULL, 0,
	       "relay: forwarded %llu (%llu bytes), sessions relayed %llu, %zu sessions kept; "
	       "dropped: relay off %llu, malformed %llu, unknown login %llu, bad mac %llu, "
	       "not a member %llu, replayed %llu, over relay_rate %llu, over relay_total %llu",
	       (unsigned long long)s->relayed, (unsigned long long)s->relayed_bytes,
	       (unsigned long long)s->relay_sessions, registry_sessions(srv->reg),
	       (unsigned long long)s->relay_drop_off, (unsigned long long)s->relay_drop_malformed,
	       (unsigned long long)s->relay_drop_login, (unsigned long long)s->relay_drop_badmac,
	       (unsigned long long)s->relay_drop_session, (unsigned long long)s->relay_drop_replay,
	       (unsigned long long)s->relay_drop_rate, (unsigned long long)s->relay_drop_total);
}
