/* Integration tests for rendezvousd's server loop: a real server on
 * 127.0.0.1 (in this process, stepped with ev_run(EVRUN_NOWAIT)), a config
 * written to a temporary directory, and targets and initiators played with
 * the rdvwire codec over real UDP sockets. Loopback delivery is synchronous,
 * so after a sendto one loop step has the server's answer queued: no sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/rdvconf.h"
#include "common/rdvwire.h"
#include "common/replay.h"
#include "common/stun.h"
#include "common/util.h"
#include "rendezvous/server.h"
#include "tests/unit/helper_test.h"

#define UID_ON	"80:00:00:00:01:00:0A:C2"
#define UID_OFF "80:00:00:00:01:00:0A:C3"
#define SECRET	"the-device-secret-0123456789"

struct env {
	char dir[64], path[96];
	struct ev_loop *loop;
	struct server *srv;
	uint16_t port, alt_port;
	uint8_t alice[AUTH_HASH_LEN], bob[AUTH_HASH_LEN], carol[AUTH_HASH_LEN];
	const char *extra; /* more [server] lines, or NULL */
};

struct client {
	int fd;
	struct sockaddr_in addr; /* its own */
	struct rdv_addr me;
};

/* Keys and logins as a client keeps them. */
struct login {
	uint8_t cnonce[RDV_NONCE_LEN];
	uint8_t klogin[RDV_SECRET_LEN];
	uint8_t login_id[RDV_LOGIN_ID_LEN];
};

static struct env E;

/* ---- helpers ---- */

/* A port free for both UDP and TCP on 127.0.0.1, found by binding port 0. */
static uint16_t
free_port(uint16_t not )
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		uint16_t port;
		int ok;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(u, (struct sockaddr *)&a, &len), 0);
		port = ntohs(a.sin_port);
		ok = bind(t, (struct sockaddr *)&a, sizeof(a)) == 0 && port != not ;
		close(u);
		close(t);
		if (ok)
			return port;
	}
	fail_msg("no free port");
	return 0;
}

static void
write_conf(int with_carol, unsigned rate)
{
	char ha[41], hb[41], hc[41];
	FILE *f = fopen(E.path, "w");

	assert_non_null(f);
	hex_encode(E.alice, AUTH_HASH_LEN, ha);
	hex_encode(E.bob, AUTH_HASH_LEN, hb);
	hex_encode(E.carol, AUTH_HASH_LEN, hc);
	fprintf(f,
		"[server]\nlisten = 127.0.0.1:%u\nalt_port = %u\nrate_limit = %u\n"
		"presence_timeout = 90\nlog_level = error\n%s\n"
		"[user alice]\nauth_hash = %s\nallow = " UID_ON " " UID_OFF "\n\n"
		"[user bob]\nauth_hash = %s\nallow = " UID_OFF "\n\n"
		"[device " UID_ON "]\nsecret = " SECRET "\nname = cam\n\n"
		"[device " UID_OFF "]\nsecret = another-device-secret-0000\n\n",
		E.port, E.alt_port, rate, E.extra ? E.extra : "", ha, hb);
	if (with_carol)
		fprintf(f, "[user carol]\nauth_hash = %s\nallow = *\n", hc);
	fclose(f);
	chmod(E.path, 0600);
}

static struct server *
start_server(unsigned rate)
{
	struct rdv_conf c;
	char err[256];
	struct server *srv;

	write_conf(0, rate);
	assert_int_equal(rdvconf_load(E.path, 1, &c, err, sizeof(err)), 0);
	srv = server_new(E.loop, &c, err, sizeof(err));
	if (srv == NULL)
		fail_msg("server_new: %s", err);
	rdvconf_free(&c);
	return srv;
}

static int
setup(void **state)
{
	(void)state;
	log_init("test_rdvserver", LOG_LVL_ERROR);
	assert_int_equal(keys_init(), 0);
	memset(&E, 0, sizeof(E));
	assert_int_equal(th_mkdtemp(E.dir, sizeof(E.dir), "p2pd-rdvtest"), 0);
	snprintf(E.path, sizeof(E.path), "%s/rendezvousd.conf", E.dir);
	randombytes_buf(E.alice, sizeof(E.alice));
	randombytes_buf(E.bob, sizeof(E.bob));
	randombytes_buf(E.carol, sizeof(E.carol));
	E.port = free_port(0);
	E.alt_port = free_port(E.port);
	E.loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(E.loop);
	E.srv = start_server(100000);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	server_free(E.srv);
	ev_loop_destroy(E.loop);
	return th_rm_tree(E.dir);
}

static struct client
client_new(void)
{
	struct client c;
	socklen_t len = sizeof(c.addr);

	memset(&c, 0, sizeof(c));
	c.fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(c.fd >= 0);
	c.addr.sin_family = AF_INET;
	c.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(c.fd, (struct sockaddr *)&c.addr, sizeof(c.addr)), 0);
	assert_int_equal(getsockname(c.fd, (struct sockaddr *)&c.addr, &len), 0);
	assert_int_equal(rdv_addr_from_sockaddr(&c.me, (struct sockaddr *)&c.addr), 0);
	return c;
}

static void
client_close(struct client *c)
{
	close(c->fd);
}

static void
pump(void)
{
	ev_run(E.loop, EVRUN_NOWAIT);
}

/* Send to the server's socket sock and let the server handle it. */
static void
send_to(struct client *c, int sock, const uint8_t *p, size_t n)
{
	const struct sockaddr *sa = server_sockaddr(E.srv, sock);

	assert_non_null(sa);
	assert_int_equal(sendto(c->fd, p, n, 0, sa, sizeof(struct sockaddr_in)), (ssize_t)n);
	pump();
}

/* The next datagram waiting for c, or -1 if there is none. */
static int
recv_from(struct client *c, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
	socklen_t len = sizeof(*from);
	ssize_t n = recvfrom(c->fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &len);

	return n < 0 ? -1 : (int)n;
}

static int
recv_msg(struct client *c, uint8_t *buf, size_t cap)
{
	struct sockaddr_in from;
	return recv_from(c, buf, cap, &from);
}

static void
id_of(struct rdv_id *id, const char *who)
{
	const char *why;

	if (strchr(who, ':') != NULL) {
		p2p_uid u;
		assert_int_equal(uid_parse(who, &u, &why), 0);
		rdv_id_target(id, &u);
	} else {
		assert_int_equal(rdv_id_initiator(id, who, &why), 0);
	}
}

/* A HELLO from who with a fresh cnonce, built into pkt (cap bytes) and h;
 * returns its length. */
static int
hello_pkt(struct rdv_hello *h, const char *who, uint8_t *pkt, size_t cap)
{
	int n;

	id_of(&h->id, who);
	randombytes_buf(h->cnonce, sizeof(h->cnonce));
	n = rdv_build_hello(pkt, cap, h);
	assert_true(n > 0);
	return n;
}

/* HELLO -> CHALLENGE; fills a's head (id, cnonce, ts, snonce). */
static void
hello(struct client *c, const char *who, struct rdv_auth *a)
{
	struct rdv_hello h;
	struct rdv_challenge ch;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	memset(a, 0, sizeof(*a));
	n = hello_pkt(&h, who, pkt, sizeof(pkt));
	send_to(c, 0, pkt, (size_t)n);
	n = recv_msg(c, pkt, sizeof(pkt));
	assert_int_equal(n, RDV_CHALLENGE_LEN);
	assert_int_equal(rdv_parse_challenge(pkt, (size_t)n, &ch, NULL), 0);
	assert_memory_equal(ch.cnonce, h.cnonce, RDV_NONCE_LEN);
	a->id = h.id;
	memcpy(a->cnonce, h.cnonce, RDV_NONCE_LEN);
	a->ts = ch.ts;
	memcpy(a->snonce, ch.snonce, RDV_NONCE_LEN);
}

static void
expect_error(struct client *c, const uint8_t ref[RDV_NONCE_LEN], int code)
{
	uint8_t pkt[RDV_MAX_DGRAM];
	struct rdv_error e;
	int n = recv_msg(c, pkt, sizeof(pkt));

	assert_int_equal(n, RDV_ERROR_LEN);
	assert_int_equal(rdv_parse_error(pkt, (size_t)n, &e, NULL), 0);
	assert_int_equal(e.code, code);
	assert_memory_equal(e.ref, ref, RDV_NONCE_LEN);
}

static void
expect_nothing(struct client *c)
{
	uint8_t pkt[RDV_MAX_DGRAM];
	assert_int_equal(recv_msg(c, pkt, sizeof(pkt)), -1);
}

/* HELLO -> CHALLENGE as target uid, then its AUTH proving the device key kdev,
 * built into pkt (cap bytes) and not sent; returns its length. */
static int
device_auth(struct client *c, const char *uid, struct rdv_auth *a,
	    const uint8_t kdev[RDV_SECRET_LEN], uint8_t *pkt, size_t cap)
{
	int n;

	hello(c, uid, a);
	n = rdv_build_auth(pkt, cap, a, kdev, RDV_SECRET_LEN);
	assert_true(n > 0);
	return n;
}

/* The AUTH_OK c gets for a device's AUTH a: the login key (from kdev) into
 * klogin, the message into ok. */
static void
expect_auth_ok(struct client *c, const struct rdv_auth *a, const uint8_t kdev[RDV_SECRET_LEN],
	       uint8_t klogin[RDV_SECRET_LEN], struct rdv_auth_ok *ok)
{
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	rdv_login_key(klogin, kdev, RDV_SECRET_LEN, a->cnonce, a->snonce);
	n = recv_msg(c, pkt, sizeof(pkt));
	assert_true(n > 0);
	assert_int_equal(rdv_parse_auth_ok(pkt, (size_t)n, ok, klogin, NULL), 0);
	assert_memory_equal(ok->cnonce, a->cnonce, RDV_NONCE_LEN);
}

/* Log a target in; returns its login. */
static struct login
register_target(struct client *c, const char *uid, const char *secret)
{
	struct rdv_auth a;
	struct rdv_auth_ok ok;
	struct login L;
	uint8_t pkt[RDV_MAX_DGRAM], kdev[RDV_SECRET_LEN];
	int n;

	rdv_device_key(kdev, secret);
	n = device_auth(c, uid, &a, kdev, pkt, sizeof(pkt));
	send_to(c, 0, pkt, (size_t)n);
	expect_auth_ok(c, &a, kdev, L.klogin, &ok);
	assert_int_equal(ok.keepalive, SRV_KEEPALIVE_S);
	assert_true(rdv_addr_equal(&ok.observed, &c->me));
	memcpy(L.login_id, ok.login_id, RDV_LOGIN_ID_LEN);
	memcpy(L.cnonce, a.cnonce, RDV_NONCE_LEN);
	return L;
}

/* An initiator's AUTH for uid; the reply is left for the caller. */
static void
initiator_auth(struct client *c, const char *user, const uint8_t *key, const char *uid,
	       struct rdv_auth *a, struct login *L)
{
	uint8_t pkt[RDV_MAX_DGRAM];
	const char *why;
	struct rdv_addr lan;
	int n;

	hello(c, user, a);
	assert_int_equal(uid_parse(uid, &a->uid, &why), 0);
	a->mode = 3;
	lan = th_rdv_addr("192.0.2.10", 4242);
	assert_int_equal(rdv_cands_add(&a->cands, &lan), 0);
	n = rdv_build_auth(pkt, sizeof(pkt), a, key, AUTH_HASH_LEN);
	assert_true(n > 0);
	send_to(c, 0, pkt, (size_t)n);
	rdv_login_key(L->klogin, key, AUTH_HASH_LEN, a->cnonce, a->snonce);
	memcpy(L->cnonce, a->cnonce, RDV_NONCE_LEN);
}

static void
open_intro(struct client *c, const struct login *L, struct rdv_intro *m, uint8_t *raw, int *rawlen)
{
	uint8_t pkt[RDV_MAX_DGRAM];
	int n = recv_msg(c, pkt, sizeof(pkt));

	assert_true(n > 0);
	assert_int_equal(rdv_msg_type(pkt, (size_t)n), RDV_INTRO);
	assert_int_equal(rdv_open_intro(pkt, (size_t)n, m, L->klogin, NULL), 0);
	if (raw != NULL) {
		memcpy(raw, pkt, (size_t)n);
		*rawlen = n;
	}
}

static void
send_intro_ack(struct client *c, const struct login *L, const uint8_t sid[RDV_SESSION_ID_LEN])
{
	struct rdv_intro_ack ack;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	memcpy(ack.login_id, L->login_id, RDV_LOGIN_ID_LEN);
	memcpy(ack.session_id, sid, RDV_SESSION_ID_LEN);
	n = rdv_build_intro_ack(pkt, sizeof(pkt), &ack, L->klogin);
	send_to(c, 0, pkt, (size_t)n);
}

/* ---- tests ---- */

static void
test_register_and_introduce(void **state)
{
	struct client t = client_new(), i = client_new();
	struct login LT, LI;
	struct rdv_auth a;
	struct rdv_intro mi, mt;
	uint8_t raw[RDV_MAX_DGRAM];
	int rawlen;
	uint64_t acks;

	(void)state;
	LT = register_target(&t, UID_ON, SECRET);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);

	/* Both get an INTRO, each opening only with its own login key. */
	open_intro(&i, &LI, &mi, raw, &rawlen);
	assert_int_equal(rdv_open_intro(raw, (size_t)rawlen, &mt, LT.klogin, NULL), -1);
	open_intro(&t, &LT, &mt, NULL, NULL);
	assert_memory_equal(mi.secret, mt.secret, RDV_SECRET_LEN);
	assert_memory_equal(mi.session_id, mt.session_id, RDV_SESSION_ID_LEN);
	assert_memory_equal(mt.login_id, LT.login_id, RDV_LOGIN_ID_LEN);
	assert_int_equal(mi.mode, 3);
	assert_int_equal(mt.mode, 3);
	/* The initiator learns the target's UID and public address first. */
	assert_int_equal(mi.peer.role, RDV_ROLE_TARGET);
	assert_memory_equal(mi.peer.b, a.uid.b, UID_LEN);
	assert_true(mi.cands.n >= 1);
	assert_true(rdv_addr_equal(&mi.cands.a[0], &t.me));
	/* The target learns "alice", her public address and her LAN candidate. */
	assert_int_equal(mt.peer.role, RDV_ROLE_INITIATOR);
	assert_int_equal(mt.peer.len, 5);
	assert_memory_equal(mt.peer.b, "alice", 5);
	assert_int_equal(mt.cands.n, 2);
	assert_true(rdv_addr_equal(&mt.cands.a[0], &i.me));
	assert_true(rdv_addr_equal(&mt.cands.a[1], &a.cands.a[0]));

	/* INTRO_ACK ends the repeats. */
	acks = server_get_stats(E.srv)->intro_acks;
	send_intro_ack(&t, &LT, mt.session_id);
	assert_true(server_get_stats(E.srv)->intro_acks == acks + 1);
	server_tick(E.srv, now_ms() + 5000);
	expect_nothing(&t);

	/* Another AUTH after a failed punch: a new session, a new secret. */
	struct rdv_intro mi2, mt2;
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	open_intro(&i, &LI, &mi2, NULL, NULL);
	open_intro(&t, &LT, &mt2, NULL, NULL);
	assert_memory_not_equal(mi2.session_id, mi.session_id, RDV_SESSION_ID_LEN);
	assert_memory_not_equal(mi2.secret, mi.secret, RDV_SECRET_LEN);
	assert_memory_equal(mi2.secret, mt2.secret, RDV_SECRET_LEN);
	send_intro_ack(&t, &LT, mt2.session_id);
	client_close(&t);
	client_close(&i);
}

static void
test_intro_repeats(void **state)
{
	struct client t = client_new(), i = client_new();
	struct login LT, LI;
	struct rdv_auth a;
	struct rdv_intro mi, mt;
	uint8_t first[RDV_MAX_DGRAM], again[RDV_MAX_DGRAM];
	int flen, n;
	uint64_t now, unacked = server_get_stats(E.srv)->intro_unacked;

	(void)state;
	LT = register_target(&t, UID_ON, SECRET);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	open_intro(&i, &LI, &mi, NULL, NULL);
	open_intro(&t, &LT, &mt, first, &flen);
	/* Not yet due: nothing. Then every 500 ms the same bytes, five times. */
	now = now_ms();
	server_tick(E.srv, now + 100);
	expect_nothing(&t);
	for (int k = 1; k <= 5; k++) {
		server_tick(E.srv, now + 600 * (uint64_t)k);
		n = recv_msg(&t, again, sizeof(again));
		assert_int_equal(n, flen);
		assert_memory_equal(again, first, (size_t)flen);
		expect_nothing(&t);
	}
	server_tick(E.srv, now + 600 * 6);
	expect_nothing(&t);
	server_tick(E.srv, now + 600 * 7);
	expect_nothing(&t);
	assert_true(server_get_stats(E.srv)->intro_unacked == unacked + 1);
	client_close(&t);
	client_close(&i);
}

static void
test_refusals(void **state)
{
	struct client t = client_new(), i = client_new();
	struct rdv_auth a;
	struct login LI;
	uint8_t wrong[AUTH_HASH_LEN];

	(void)state;
	(void)register_target(&t, UID_ON, SECRET);
	/* unknown user -> 1 */
	initiator_auth(&i, "mallory", E.alice, UID_ON, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_UNKNOWN_ID);
	/* bad proof -> 2 */
	memcpy(wrong, E.alice, sizeof(wrong));
	wrong[0] ^= 1;
	initiator_auth(&i, "alice", wrong, UID_ON, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_BAD_AUTH);
	/* not allowed -> 3 */
	initiator_auth(&i, "bob", E.bob, UID_ON, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_NOT_ALLOWED);
	/* target offline -> 4 */
	initiator_auth(&i, "alice", E.alice, UID_OFF, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_OFFLINE);
	initiator_auth(&i, "bob", E.bob, UID_OFF, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_OFFLINE);
	/* a device with the wrong secret -> 2; an unknown device -> 1 */
	struct rdv_auth ta;
	uint8_t pkt[RDV_MAX_DGRAM], kdev[RDV_SECRET_LEN];
	int n;
	rdv_device_key(kdev, SECRET);
	n = device_auth(&t, UID_OFF, &ta, kdev, pkt, sizeof(pkt));
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, ta.cnonce, RDV_ERR_BAD_AUTH);
	n = device_auth(&t, "80:00:00:00:01:00:0A:FF", &ta, kdev, pkt, sizeof(pkt));
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, ta.cnonce, RDV_ERR_UNKNOWN_ID);
	/* a malformed body behind a valid cookie -> 6 */
	n = device_auth(&t, UID_ON, &ta, kdev, pkt, sizeof(pkt));
	pkt[n - 17] = 9; /* candidate count */
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, ta.cnonce, RDV_ERR_MALFORMED);
	/* a HELLO with an invalid role -> 6 */
	struct rdv_hello h;
	n = hello_pkt(&h, "alice", pkt, sizeof(pkt));
	pkt[2] = 7;
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, h.cnonce, RDV_ERR_MALFORMED);
	client_close(&t);
	client_close(&i);
}

static void
test_replay_stale_cookie(void **state)
{
	struct client t = client_new(), other = client_new();
	struct rdv_auth a;
	struct rdv_auth_ok ok;
	uint8_t pkt[RDV_MAX_DGRAM], kdev[RDV_SECRET_LEN], kl[RDV_SECRET_LEN];
	int n;

	(void)state;
	rdv_device_key(kdev, SECRET);
	/* A captured AUTH works once; its replay is refused with ERROR 2. */
	n = device_auth(&t, UID_ON, &a, kdev, pkt, sizeof(pkt));
	send_to(&t, 0, pkt, (size_t)n);
	expect_auth_ok(&t, &a, kdev, kl, &ok);
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, a.cnonce, RDV_ERR_BAD_AUTH);

	/* A cookie made for another source address is refused. */
	n = device_auth(&t, UID_ON, &a, kdev, pkt, sizeof(pkt));
	send_to(&other, 0, pkt, (size_t)n);
	expect_error(&other, a.cnonce, RDV_ERR_BAD_AUTH);
	expect_nothing(&t);

	/* A challenge more than 60 s old is refused; 60 s is still fine. */
	n = device_auth(&t, UID_ON, &a, kdev, pkt, sizeof(pkt));
	server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&t.addr, sizeof(t.addr), NULL,
		     ((uint64_t)a.ts + 61) * 1000);
	expect_error(&t, a.cnonce, RDV_ERR_BAD_AUTH);
	server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&t.addr, sizeof(t.addr), NULL,
		     ((uint64_t)a.ts + 60) * 1000 + 999);
	expect_auth_ok(&t, &a, kdev, kl, &ok);
	/* A ts from the future (a forged one) is refused too. */
	hello(&t, UID_ON, &a);
	a.ts += 5;
	n = rdv_build_auth(pkt, sizeof(pkt), &a, kdev, sizeof(kdev));
	send_to(&t, 0, pkt, (size_t)n);
	expect_error(&t, a.cnonce, RDV_ERR_BAD_AUTH);
	client_close(&t);
	client_close(&other);
}

static void
test_keepalive_expiry(void **state)
{
	struct client t = client_new(), i = client_new();
	struct login LT, LI;
	struct rdv_keepalive k;
	struct rdv_ka_ack ack;
	struct rdv_auth a;
	uint8_t pkt[RDV_MAX_DGRAM], r[RDV_MAX_DGRAM], ref[RDV_NONCE_LEN];
	int n, rn;
	uint64_t now;

	(void)state;
	LT = register_target(&t, UID_ON, SECRET);
	memset(&k, 0, sizeof(k));
	memcpy(k.login_id, LT.login_id, RDV_LOGIN_ID_LEN);
	k.seq = 1;
	n = rdv_build_keepalive(pkt, sizeof(pkt), &k, LT.klogin);
	send_to(&t, 0, pkt, (size_t)n);
	rn = recv_msg(&t, r, sizeof(r));
	assert_int_equal(rdv_parse_ka_ack(r, (size_t)rn, &ack, LT.klogin, NULL), 0);
	assert_true(ack.seq == 1);
	assert_true(rdv_addr_equal(&ack.observed, &t.me));
	/* The same seq again (a replay) is ignored; a forged mac too. */
	send_to(&t, 0, pkt, (size_t)n);
	expect_nothing(&t);
	k.seq = 2;
	randombytes_buf(LI.klogin, sizeof(LI.klogin));
	n = rdv_build_keepalive(pkt, sizeof(pkt), &k, LI.klogin);
	send_to(&t, 0, pkt, (size_t)n);
	expect_nothing(&t);

	/* Silent for presence_timeout: forgotten; the initiator hears "offline". */
	now = now_ms();
	server_tick(E.srv, now + 89000);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	rn = recv_msg(&i, r, sizeof(r));
	assert_int_equal(rdv_msg_type(r, (size_t)rn), RDV_INTRO);
	(void)recv_msg(&t, r, sizeof(r)); /* its INTRO */
	server_tick(E.srv, now + 91000);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_OFFLINE);
	/* Its next KEEPALIVE gets ERROR 7 with its login_id. */
	k.seq = 3;
	n = rdv_build_keepalive(pkt, sizeof(pkt), &k, LT.klogin);
	send_to(&t, 0, pkt, (size_t)n);
	rdv_error_ref_login(ref, LT.login_id);
	expect_error(&t, ref, RDV_ERR_NO_LOGIN);
	/* So does an INTRO_ACK from an unknown login. */
	send_intro_ack(&t, &LT, ref);
	expect_error(&t, ref, RDV_ERR_NO_LOGIN);
	/* Logging in again brings it back. */
	(void)register_target(&t, UID_ON, SECRET);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	rn = recv_msg(&i, r, sizeof(r));
	assert_int_equal(rdv_msg_type(r, (size_t)rn), RDV_INTRO);
	client_close(&t);
	client_close(&i);
}

static void
test_stun(void **state)
{
	struct client c = client_new();
	uint8_t txid[STUN_TXID_LEN], pkt[STUN_MAX_BUILT], r[STUN_MAX_BUILT];
	struct stun_msg m;
	struct sockaddr_in from;
	const struct sockaddr_in *sa;
	size_t n;
	int rn;

	(void)state;
	assert_int_equal(server_nsockets(E.srv), 2);
	stun_new_txid(txid);
	n = stun_build_request(pkt, sizeof(pkt), txid, 0);
	assert_true(n > 0);
	send_to(&c, 0, pkt, n);
	rn = recv_from(&c, r, sizeof(r), &from);
	assert_true(rn > 0);
	assert_true((size_t)rn <= n);
	assert_int_equal(stun_parse(r, (size_t)rn, &m, NULL), 0);
	assert_true(stun_is_response_to(&m, txid));
	assert_true(m.attrs & STUN_A_XOR_MAPPED);
	sa = (const struct sockaddr_in *)&m.xor_mapped;
	assert_int_equal(sa->sin_family, AF_INET);
	assert_int_equal(sa->sin_port, c.addr.sin_port);
	assert_int_equal(sa->sin_addr.s_addr, c.addr.sin_addr.s_addr);
	/* RESPONSE-ORIGIN is the listen socket; OTHER-ADDRESS the alt port. */
	assert_true(m.attrs & STUN_A_RESPONSE_ORIGIN);
	sa = (const struct sockaddr_in *)&m.response_origin;
	assert_int_equal(ntohs(sa->sin_port), E.port);
	assert_int_equal(ntohs(from.sin_port), E.port);
	/* On the alt port: the same mapping, RESPONSE-ORIGIN the alt port. */
	stun_new_txid(txid);
	n = stun_build_request(pkt, sizeof(pkt), txid, 0);
	send_to(&c, 1, pkt, n);
	rn = recv_from(&c, r, sizeof(r), &from);
	assert_true(rn > 0);
	assert_int_equal(stun_parse(r, (size_t)rn, &m, NULL), 0);
	assert_true(stun_is_response_to(&m, txid));
	assert_int_equal(ntohs(from.sin_port), E.alt_port);
	sa = (const struct sockaddr_in *)&m.response_origin;
	assert_int_equal(ntohs(sa->sin_port), E.alt_port);
	/* CHANGE-REQUEST port: the answer leaves from the other port. */
	stun_new_txid(txid);
	n = stun_build_request(pkt, sizeof(pkt), txid, STUN_CHANGE_PORT);
	send_to(&c, 0, pkt, n);
	rn = recv_from(&c, r, sizeof(r), &from);
	assert_true(rn > 0);
	assert_int_equal(stun_parse(r, (size_t)rn, &m, NULL), 0);
	assert_int_equal(ntohs(from.sin_port), E.alt_port);
	/* A bare 20-byte request: any answer is no larger than it. */
	stun_new_txid(txid);
	n = stun_build_request_pad(pkt, sizeof(pkt), txid, 0, 0);
	send_to(&c, 0, pkt, n);
	rn = recv_msg(&c, r, sizeof(r));
	assert_true(rn <= (int)n);
	client_close(&c);
}

/* Send p; every answer must be no larger than p. */
static void
check_small(struct client *c, const uint8_t *p, size_t n)
{
	uint8_t r[2048];
	int rn;

	send_to(c, 0, p, n);
	while ((rn = recv_msg(c, r, sizeof(r))) >= 0)
		assert_true((size_t)rn <= n);
}

static void
test_no_amplification(void **state)
{
	struct client c = client_new();
	struct rdv_hello h;
	struct rdv_auth a;
	uint8_t pkt[RDV_MAX_DGRAM + 64], kdev[RDV_SECRET_LEN];
	int n;
	uint64_t dropped;

	(void)state;
	/* A HELLO shorter than 96 bytes is dropped and counted. */
	n = hello_pkt(&h, "alice", pkt, sizeof(pkt));
	dropped = server_get_stats(E.srv)->drop_malformed;
	send_to(&c, 0, pkt, RDV_HELLO_LEN - 1);
	expect_nothing(&c);
	assert_true(server_get_stats(E.srv)->drop_malformed == dropped + 1);
	/* Every prefix of a HELLO, and of an AUTH. */
	for (int k = 1; k <= n; k++)
		check_small(&c, pkt, (size_t)k);
	rdv_device_key(kdev, "not-the-secret-at-all-000000");
	n = device_auth(&c, UID_ON, &a, kdev, pkt, sizeof(pkt));
	for (int k = 1; k <= n; k++)
		check_small(&c, pkt, (size_t)k);
	/* Random datagrams, with and without a valid header. */
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 1 + randombytes_uniform(RDV_MAX_DGRAM);
		randombytes_buf(pkt, len);
		if (iter % 3 == 1 && len >= 2) {
			pkt[0] = (uint8_t)(RDV_HELLO + randombytes_uniform(15));
			pkt[1] = 1;
		} else if (iter % 3 == 2 && len >= 20) {
			pkt[0] = 0; /* STUN-looking */
			pkt[1] = 1;
			pkt[2] = (uint8_t)((len - 20) >> 8);
			pkt[3] = (uint8_t)((len - 20) & 0xfc);
			memcpy(pkt + 4, "\x21\x12\xa4\x42", 4);
		}
		check_small(&c, pkt, len);
	}
	client_close(&c);
}

static void
test_rate_limit(void **state)
{
	struct client c = client_new();
	struct rdv_hello h;
	uint8_t pkt[RDV_MAX_DGRAM], r[RDV_MAX_DGRAM];
	uint64_t now;
	int n, got = 0, errs = 0, rn;

	(void)state;
	/* A second server with rate_limit 3 (a burst of 6). */
	server_free(E.srv);
	E.srv = start_server(3);
	n = hello_pkt(&h, "alice", pkt, sizeof(pkt));
	now = now_ms();
	for (int k = 0; k < 20; k++)
		server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&c.addr, sizeof(c.addr),
			     NULL, now);
	while ((rn = recv_msg(&c, r, sizeof(r))) >= 0) {
		if (rn == RDV_CHALLENGE_LEN)
			got++;
		else if (rn == RDV_ERROR_LEN)
			errs++;
	}
	assert_int_equal(got, 6);
	assert_int_equal(errs, 1); /* one ERROR 5, then silence */
	assert_true(server_get_stats(E.srv)->drop_rate == 14);
	/* A second later, three more. */
	for (int k = 0; k < 5; k++)
		server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&c.addr, sizeof(c.addr),
			     NULL, now + 1000);
	got = 0;
	while ((rn = recv_msg(&c, r, sizeof(r))) >= 0)
		got += rn == RDV_CHALLENGE_LEN;
	assert_int_equal(got, 3);
	server_free(E.srv);
	E.srv = start_server(100000);
	client_close(&c);
}

static void
test_tcp_banner(void **state)
{
	struct sockaddr_in a;
	char buf[64];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(E.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	pump();
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	assert_string_equal(buf, SRV_BANNER);
	close(fd);
}

static void
test_reload(void **state)
{
	struct client t = client_new(), i = client_new();
	struct login LT, LI;
	struct rdv_auth a;
	struct rdv_conf c;
	char err[256];
	uint8_t r[RDV_MAX_DGRAM];
	int rn;

	(void)state;
	LT = register_target(&t, UID_ON, SECRET);
	(void)LT;
	/* carol is added; alice and the target's presence stay. */
	write_conf(1, 100000);
	assert_int_equal(rdvconf_load(E.path, 1, &c, err, sizeof(err)), 0);
	server_reload(E.srv, &c);
	rdvconf_free(&c);
	initiator_auth(&i, "carol", E.carol, UID_ON, &a, &LI);
	rn = recv_msg(&i, r, sizeof(r));
	assert_int_equal(rdv_msg_type(r, (size_t)rn), RDV_INTRO);
	(void)recv_msg(&t, r, sizeof(r));
	/* Reloaded again without carol: she is unknown now. */
	write_conf(0, 100000);
	assert_int_equal(rdvconf_load(E.path, 1, &c, err, sizeof(err)), 0);
	server_reload(E.srv, &c);
	rdvconf_free(&c);
	initiator_auth(&i, "carol", E.carol, UID_ON, &a, &LI);
	expect_error(&i, a.cnonce, RDV_ERR_UNKNOWN_ID);
	initiator_auth(&i, "alice", E.alice, UID_ON, &a, &LI);
	rn = recv_msg(&i, r, sizeof(r));
	assert_int_equal(rdv_msg_type(r, (size_t)rn), RDV_INTRO);
	client_close(&t);
	client_close(&i);
}

/* ---- relay (PROTOCOL.md section 9) ---- */

#define SID_HEXLEN (2 * RDV_SESSION_ID_LEN + 1)

/* Two peers the server introduced: their clients, logins and session. */
struct pair {
	struct client t, i;
	struct login LT, LI;
	uint8_t sid[RDV_SESSION_ID_LEN];
};

/* Replace the server with one whose [server] section also has extra. */
static void
restart(const char *extra)
{
	server_free(E.srv);
	E.extra = extra;
	E.srv = start_server(100000);
	E.extra = NULL;
}

/* Log the target in (if same is NULL; else share same's target), introduce
 * a new alice login to it, acknowledge the INTRO. */
static void
introduce(struct pair *P, const struct pair *same)
{
	struct rdv_auth a;
	struct rdv_intro mi, mt;

	if (same == NULL) {
		P->t = client_new();
		P->LT = register_target(&P->t, UID_ON, SECRET);
	} else {
		P->t = same->t;
		P->LT = same->LT;
	}
	P->i = client_new();
	initiator_auth(&P->i, "alice", E.alice, UID_ON, &a, &P->LI);
	open_intro(&P->i, &P->LI, &mi, NULL, NULL);
	open_intro(&P->t, &P->LT, &mt, NULL, NULL);
	assert_memory_equal(mi.session_id, mt.session_id, RDV_SESSION_ID_LEN);
	memcpy(P->LI.login_id, mi.login_id, RDV_LOGIN_ID_LEN);
	memcpy(P->sid, mi.session_id, RDV_SESSION_ID_LEN);
	send_intro_ack(&P->t, &P->LT, mt.session_id);
}

static void
pair_close(struct pair *P, int close_target)
{
	client_close(&P->i);
	if (close_target)
		client_close(&P->t);
}

/* A RELAY from login L for session sid with seq and an inner datagram of
 * inner_len bytes (type itype) into pkt; returns its length. key signs it. */
static int
relay_pkt(uint8_t *pkt, size_t cap, const uint8_t login_id[RDV_LOGIN_ID_LEN],
	  const uint8_t sid[RDV_SESSION_ID_LEN], uint64_t seq, uint8_t itype, size_t inner_len,
	  const uint8_t key[RDV_SECRET_LEN], uint8_t *inner)
{
	struct rdv_relay m;
	int n;

	randombytes_buf(inner, inner_len);
	inner[0] = itype;
	inner[1] = 1;
	memcpy(m.login_id, login_id, RDV_LOGIN_ID_LEN);
	memcpy(m.session_id, sid, RDV_SESSION_ID_LEN);
	m.seq = seq;
	m.inner = inner;
	m.inner_len = inner_len;
	n = rdv_build_relay(pkt, cap, &m, key);
	assert_true(n > 0);
	return n;
}

/* Client c (login L) relays a DATA packet of inner_len bytes with seq, over
 * the real socket; its inner datagram goes to inner. Returns the RELAY's length. */
static int
relay_send(struct client *c, const struct login *L, const uint8_t sid[RDV_SESSION_ID_LEN],
	   uint64_t seq, size_t inner_len, uint8_t *inner)
{
	uint8_t pkt[RDV_RELAY_MAX];
	int n =
	    relay_pkt(pkt, sizeof(pkt), L->login_id, sid, seq, 0xa0, inner_len, L->klogin, inner);

	send_to(c, 0, pkt, (size_t)n);
	return n;
}

/* The same through server_input at a chosen time (the fake clock), from c. */
static int
relay_at(struct client *c, const struct login *L, const uint8_t sid[RDV_SESSION_ID_LEN],
	 uint64_t seq, size_t inner_len, uint64_t now)
{
	uint8_t pkt[RDV_RELAY_MAX], inner[RDV_INNER_MAX];
	int n =
	    relay_pkt(pkt, sizeof(pkt), L->login_id, sid, seq, 0xa0, inner_len, L->klogin, inner);

	server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&c->addr, sizeof(c->addr), NULL,
		     now);
	return n;
}

/* c (login L) must have exactly one RELAYED waiting: from the server's
 * port, for L and sid, authenticated with L's key (and not with other), with
 * this inner datagram, and smaller than the RELAY (relay_len bytes) it came from. */
static void
expect_relayed(struct client *c, const struct login *L, const uint8_t sid[RDV_SESSION_ID_LEN],
	       const uint8_t *inner, size_t inner_len, int relay_len, const struct login *other)
{
	uint8_t pkt[RDV_RELAY_MAX + 64];
	struct sockaddr_in from;
	struct rdv_relayed m;
	const char *why = NULL;
	int n = recv_from(c, pkt, sizeof(pkt), &from);

	assert_true(n > 0);
	assert_int_equal(ntohs(from.sin_port), E.port);
	assert_int_equal(n, RDV_RELAYED_OVERHEAD + (int)inner_len);
	assert_true(n < relay_len);
	if (other != NULL)
		assert_int_equal(rdv_parse_relayed(pkt, (size_t)n, &m, other->klogin, NULL), -1);
	if (rdv_parse_relayed(pkt, (size_t)n, &m, L->klogin, &why) != 0)
		fail_msg("RELAYED does not parse: %s", why);
	assert_memory_equal(m.login_id, L->login_id, RDV_LOGIN_ID_LEN);
	assert_memory_equal(m.session_id, sid, RDV_SESSION_ID_LEN);
	assert_int_equal(m.inner_len, inner_len);
	assert_memory_equal(m.inner, inner, inner_len);
	expect_nothing(c);
}

/* Send a datagram to the server and check that nobody hears anything and
 * that exactly the counter at offset `field` of the stats went up by one. */
static void
expect_dropped(struct client *from, const uint8_t *pkt, size_t n, size_t field, struct client *a,
	       struct client *b)
{
	struct server_stats before = *server_get_stats(E.srv), after;
	const uint64_t *f0 = (const uint64_t *)((const char *)&before + field);
	const uint64_t *f1 = (const uint64_t *)((const char *)&after + field);

	send_to(from, 0, pkt, n);
	after = *server_get_stats(E.srv);
	assert_true(*f1 == *f0 + 1);
	assert_true(after.relayed == before.relayed);
	expect_nothing(from);
	if (a != NULL)
		expect_nothing(a);
	if (b != NULL)
		expect_nothing(b);
}

#define ST(f) offsetof(struct server_stats, f)

/* Capture what the server logs (stderr) into a file, at info level. */
struct logcap {
	char path[128];
	int saved;
};

static void
logcap_start(struct logcap *lc)
{
	int fd;

	snprintf(lc->path, sizeof(lc->path), "%s/log", E.dir);
	fd = open(lc->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	lc->saved = dup(2);
	assert_true(lc->saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	log_set_level(LOG_LVL_INFO);
}

/* Stop capturing; the log into buf (cap bytes, NUL-terminated). */
static void
logcap_stop(struct logcap *lc, char *buf, size_t cap)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(dup2(lc->saved, 2), 2);
	close(lc->saved);
	f = fopen(lc->path, "r");
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void
test_relay_forward(void **state)
{
	struct pair P;
	struct logcap lc;
	uint8_t inner[RDV_INNER_MAX], pkt[RDV_RELAY_MAX];
	char log[8192], want[256], hex[SID_HEXLEN];
	int n;
	uint64_t relayed0 = server_get_stats(E.srv)->relayed;
	uint64_t sessions0 = server_get_stats(E.srv)->relay_sessions;

	(void)state;
	introduce(&P, NULL);
	hex_encode(P.sid, sizeof(P.sid), hex);
	logcap_start(&lc);
	/* Initiator -> target: a RELAYED for the target's login and key. */
	n = relay_send(&P.i, &P.LI, P.sid, 1, 300, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 300, n, &P.LI);
	expect_nothing(&P.i);
	assert_true(server_get_stats(E.srv)->relay_sessions == sessions0 + 1);
	/* Target -> initiator. */
	n = relay_send(&P.t, &P.LT, P.sid, 1, 1200, inner);
	expect_relayed(&P.i, &P.LI, P.sid, inner, 1200, n, &P.LT);
	expect_nothing(&P.t);
	/* Handshake messages travel too; the largest datagram as well. */
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 2, 0x91, 90, P.LI.klogin, inner);
	send_to(&P.i, 0, pkt, (size_t)n);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 90, n, NULL);
	n = relay_send(&P.i, &P.LI, P.sid, 3, RDV_INNER_MAX, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, RDV_INNER_MAX, n, NULL);
	/* Seqs may arrive out of order inside the 2048-packet window. */
	n = relay_send(&P.i, &P.LI, P.sid, 10, 50, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 50, n, NULL);
	n = relay_send(&P.i, &P.LI, P.sid, 7, 50, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 50, n, NULL);
	/* Each member has its own seqs: the target's 2 is not the initiator's. */
	n = relay_send(&P.t, &P.LT, P.sid, 2, 60, inner);
	expect_relayed(&P.i, &P.LI, P.sid, inner, 60, n, NULL);
	/* Far ahead, then something that fell out of the window: dropped. */
	n = relay_send(&P.i, &P.LI, P.sid, 5000, 50, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 50, n, NULL);
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 5000 - REPLAY_WINDOW, 0xa0, 50,
		      P.LI.klogin, inner);
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_replay), &P.t, NULL);
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 5001 - REPLAY_WINDOW, 0xa0, 50,
		      P.LI.klogin, inner);
	send_to(&P.i, 0, pkt, (size_t)n);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 50, n, NULL);
	assert_true(server_get_stats(E.srv)->relayed == relayed0 + 9);
	assert_true(server_get_stats(E.srv)->relay_sessions == sessions0 + 1);

	/* One line when the session starts being relayed; one with the bytes
	 * when it ends (here: the initiator's login expires). */
	server_tick(E.srv, now_ms() + 91000);
	logcap_stop(&lc, log, sizeof(log));
	snprintf(want, sizeof(want), "relaying session %s alice <-> " UID_ON "\n", hex);
	if (strstr(log, want) == NULL)
		fail_msg("no \"%s\" in the log:\n%s", want, log);
	snprintf(want, sizeof(want), "relaying session %s alice <-> " UID_ON " ended: ", hex);
	if (strstr(log, want) == NULL || strstr(log, " bytes in 9 packets relayed") == NULL)
		fail_msg("no \"%s... 9 packets\" in the log:\n%s", want, log);
	pair_close(&P, 1);
}

static void
test_relay_drops(void **state)
{
	struct pair P, Q;
	struct client x = client_new();
	struct login LX, fake;
	uint8_t inner[RDV_INNER_MAX], pkt[RDV_RELAY_MAX + 8], other_sid[RDV_SESSION_ID_LEN];
	int n;

	(void)state;
	introduce(&P, NULL);
	/* A second session of the same target, with another alice login. */
	introduce(&Q, &P);
	/* The other device, logged in but in no session. */
	LX = register_target(&x, UID_OFF, "another-device-secret-0000");

	/* A forged mac (a key that is not the login's). */
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 1, 0xa0, 100, P.LT.klogin, inner);
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_badmac), &P.t, &Q.i);
	/* One bit of the inner datagram changed on the way. */
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 1, 0xa0, 100, P.LI.klogin, inner);
	pkt[40] ^= 4;
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_badmac), &P.t, &Q.i);
	/* A session that does not exist. */
	randombytes_buf(other_sid, sizeof(other_sid));
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, other_sid, 1, 0xa0, 100, P.LI.klogin, inner);
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_session), &P.t, &Q.i);
	/* A login that is not a member: Q's initiator in P's session, the other
	 * device in P's session. */
	n = relay_pkt(pkt, sizeof(pkt), Q.LI.login_id, P.sid, 1, 0xa0, 100, Q.LI.klogin, inner);
	expect_dropped(&Q.i, pkt, (size_t)n, ST(relay_drop_session), &P.t, &P.i);
	n = relay_pkt(pkt, sizeof(pkt), LX.login_id, P.sid, 1, 0xa0, 100, LX.klogin, inner);
	expect_dropped(&x, pkt, (size_t)n, ST(relay_drop_session), &P.t, &P.i);
	/* An unknown login: no ERROR 7 either (a RELAY is never answered). */
	randombytes_buf(fake.login_id, sizeof(fake.login_id));
	randombytes_buf(fake.klogin, sizeof(fake.klogin));
	n = relay_pkt(pkt, sizeof(pkt), fake.login_id, P.sid, 1, 0xa0, 100, fake.klogin, inner);
	expect_dropped(&x, pkt, (size_t)n, ST(relay_drop_login), &P.t, &P.i);
	/* Malformed: truncated, seq 0, an inner datagram that is not a peer
	 * message, another version. */
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 1, 0xa0, 100, P.LI.klogin, inner);
	expect_dropped(&P.i, pkt, RDV_RELAY_OVERHEAD + 1, ST(relay_drop_malformed), &P.t, NULL);
	pkt[25] = 0;
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_malformed), &P.t, NULL);
	pkt[25] = 1;
	pkt[26] = RDV_HELLO;
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_malformed), &P.t, NULL);
	pkt[26] = 0xa0;
	pkt[1] = 2;
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_malformed), &P.t, NULL);
	pkt[1] = 1;
	/* None of those moved the window: seq 1 is still fresh... */
	send_to(&P.i, 0, pkt, (size_t)n);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 100, n, NULL);
	/* ...but it is not twice. */
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_replay), &P.t, NULL);
	/* Q's session is independent: its own seq 1. */
	n = relay_send(&Q.i, &Q.LI, Q.sid, 1, 100, inner);
	expect_relayed(&Q.t, &Q.LT, Q.sid, inner, 100, n, NULL);
	expect_nothing(&P.i);
	/* A RELAYED sent to the server is not for it. */
	{
		struct rdv_relayed r;
		memcpy(r.login_id, P.LT.login_id, RDV_LOGIN_ID_LEN);
		memcpy(r.session_id, P.sid, RDV_SESSION_ID_LEN);
		r.inner = inner;
		r.inner_len = 100;
		n = rdv_build_relayed(pkt, sizeof(pkt), &r, P.LT.klogin);
		expect_dropped(&P.t, pkt, (size_t)n, ST(drop_other), &P.i, NULL);
	}
	/* Random bytes behind a RELAY header: never an answer to anyone. */
	for (int k = 0; k < 500; k++) {
		size_t len = 2 + randombytes_uniform(RDV_RELAY_MAX + 8 - 2);
		randombytes_buf(pkt, len);
		pkt[0] = RDV_RELAY;
		pkt[1] = 1;
		if (k & 1)
			memcpy(pkt + 2, P.LI.login_id, RDV_LOGIN_ID_LEN);
		send_to(&P.i, 0, pkt, len);
		expect_nothing(&P.i);
		expect_nothing(&P.t);
	}
	pair_close(&P, 1);
	pair_close(&Q, 0);
	client_close(&x);
}

static void
test_relay_off(void **state)
{
	struct pair P;
	uint8_t inner[RDV_INNER_MAX], pkt[RDV_RELAY_MAX];
	int n;

	(void)state;
	restart("relay = no\n");
	introduce(&P, NULL);
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 1, 0xa0, 100, P.LI.klogin, inner);
	expect_dropped(&P.i, pkt, (size_t)n, ST(relay_drop_off), &P.t, NULL);
	n = relay_pkt(pkt, sizeof(pkt), P.LT.login_id, P.sid, 1, 0xa0, 100, P.LT.klogin, inner);
	expect_dropped(&P.t, pkt, (size_t)n, ST(relay_drop_off), &P.i, NULL);
	assert_true(server_get_stats(E.srv)->relayed == 0);
	pair_close(&P, 1);
	restart(NULL);
}

/* Receive and count RELAYEDs waiting for c. */
static int
count_relayed(struct client *c)
{
	uint8_t pkt[RDV_RELAY_MAX + 64];
	int got = 0, n;

	while ((n = recv_msg(c, pkt, sizeof(pkt))) >= 0) {
		assert_int_equal(pkt[0], RDV_RELAYED);
		got++;
	}
	return got;
}

static void
test_relay_rate(void **state)
{
	struct pair P, Q;
	uint64_t t0;
	const struct server_stats *st;

	(void)state;
	/* relay_rate 1000 bytes/s: a bucket of one largest RELAYED (1506 bytes).
	 * Inner datagrams of 466 bytes make RELAYEDs of 500. */
	restart("relay_rate = 1000\nrelay_total = 1000000\n");
	st = server_get_stats(E.srv);
	introduce(&P, NULL);
	introduce(&Q, &P);
	t0 = now_ms() + 1000;
	for (uint64_t k = 1; k <= 4; k++)
		(void)relay_at(&P.i, &P.LI, P.sid, k, 466, t0);
	assert_int_equal(count_relayed(&P.t), 3);
	assert_true(st->relay_drop_rate == 1);
	/* Both directions share the session's bucket: the target waits too. */
	(void)relay_at(&P.t, &P.LT, P.sid, 1, 466, t0);
	assert_int_equal(count_relayed(&P.i), 0);
	assert_true(st->relay_drop_rate == 2);
	/* Another session has its own bucket. */
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 1, 466, t0);
	assert_int_equal(count_relayed(&Q.t), 1);
	/* 6 bytes were left: 493 ms later 499, not enough; 494 ms later 500. */
	(void)relay_at(&P.i, &P.LI, P.sid, 5, 466, t0 + 493);
	assert_int_equal(count_relayed(&P.t), 0);
	(void)relay_at(&P.i, &P.LI, P.sid, 6, 466, t0 + 494);
	assert_int_equal(count_relayed(&P.t), 1);
	assert_true(st->relay_drop_rate == 3);
	assert_true(st->relay_drop_total == 0);
	/* Dropped for the rate, the seq still counts as used. */
	(void)relay_at(&P.i, &P.LI, P.sid, 5, 466, t0 + 5000);
	assert_int_equal(count_relayed(&P.t), 0);
	assert_true(st->relay_drop_replay == 1);
	pair_close(&P, 1);
	pair_close(&Q, 0);

	/* relay_total 1000 bytes/s over all sessions: three RELAYEDs of 500
	 * bytes in the first instant, whichever session they belong to. */
	restart("relay_rate = 1000000\nrelay_total = 1000\n");
	st = server_get_stats(E.srv);
	introduce(&P, NULL);
	introduce(&Q, &P);
	t0 = now_ms() + 1000;
	(void)relay_at(&P.i, &P.LI, P.sid, 1, 466, t0);
	(void)relay_at(&P.i, &P.LI, P.sid, 2, 466, t0);
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 1, 466, t0);
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 2, 466, t0);
	(void)relay_at(&P.t, &P.LT, P.sid, 1, 466, t0);
	assert_int_equal(count_relayed(&P.t) + count_relayed(&Q.t) + count_relayed(&P.i), 3);
	assert_true(st->relay_drop_total == 2);
	assert_true(st->relay_drop_rate == 0);
	/* A second later the bucket has 1000 more bytes (it holds at most 1506). */
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 3, 466, t0 + 1000);
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 4, 466, t0 + 1000);
	(void)relay_at(&Q.i, &Q.LI, Q.sid, 5, 466, t0 + 1000);
	assert_int_equal(count_relayed(&Q.t), 2);
	assert_true(st->relay_drop_total == 3);
	assert_true(st->relayed == 5);
	assert_true(st->relayed_bytes == 5 * 500);
	pair_close(&P, 1);
	pair_close(&Q, 0);
	restart(NULL);
}

/* A KEEPALIVE from login L at now (fake clock), answered with a KA_ACK. */
static void
keepalive_at(struct client *c, const struct login *L, uint64_t seq, uint64_t now)
{
	struct rdv_keepalive k;
	struct rdv_ka_ack ack;
	uint8_t pkt[RDV_MAX_DGRAM];
	int n;

	memset(&k, 0, sizeof(k));
	memcpy(k.login_id, L->login_id, RDV_LOGIN_ID_LEN);
	k.seq = seq;
	n = rdv_build_keepalive(pkt, sizeof(pkt), &k, L->klogin);
	server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&c->addr, sizeof(c->addr), NULL,
		     now);
	n = recv_msg(c, pkt, sizeof(pkt));
	assert_true(n > 0);
	assert_int_equal(rdv_parse_ka_ack(pkt, (size_t)n, &ack, L->klogin, NULL), 0);
	assert_true(ack.seq == seq);
}

static void
test_relay_address_and_expiry(void **state)
{
	struct pair P;
	struct client i2 = client_new(), spy = client_new();
	uint8_t inner[RDV_INNER_MAX], pkt[RDV_RELAY_MAX];
	uint64_t t0, expired, nosession;
	int n;

	(void)state;
	introduce(&P, NULL);
	/* The initiator's NAT remaps it: its next RELAY comes from i2, and the
	 * target's RELAYs follow it there. */
	n = relay_send(&P.i, &P.LI, P.sid, 1, 100, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 100, n, NULL);
	n = relay_send(&i2, &P.LI, P.sid, 3, 100, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 100, n, NULL);
	n = relay_send(&P.t, &P.LT, P.sid, 1, 100, inner);
	expect_relayed(&i2, &P.LI, P.sid, inner, 100, n, NULL);
	expect_nothing(&P.i);
	/* A late but fresh RELAY from the old address is forwarded and does not
	 * move it back (only the highest seq so far moves it). */
	n = relay_send(&P.i, &P.LI, P.sid, 2, 100, inner);
	expect_relayed(&P.t, &P.LT, P.sid, inner, 100, n, NULL);
	n = relay_send(&P.t, &P.LT, P.sid, 2, 100, inner);
	expect_relayed(&i2, &P.LI, P.sid, inner, 100, n, NULL);
	/* A captured RELAY replayed from elsewhere is dropped and moves nothing. */
	n = relay_pkt(pkt, sizeof(pkt), P.LI.login_id, P.sid, 3, 0xa0, 100, P.LI.klogin, inner);
	expect_dropped(&spy, pkt, (size_t)n, ST(relay_drop_replay), &P.t, &i2);
	n = relay_send(&P.t, &P.LT, P.sid, 3, 100, inner);
	expect_relayed(&i2, &P.LI, P.sid, inner, 100, n, NULL);
	expect_nothing(&spy);

	/* Fake clock: the initiator keeps its login alive with KEEPALIVE as
	 * targets do, and a RELAY is activity of its login too; the session
	 * lives as long as both logins do. */
	t0 = now_ms();
	keepalive_at(&i2, &P.LI, 1, t0 + 30000);
	(void)relay_at(&i2, &P.LI, P.sid, 4, 100, t0 + 60000);
	assert_int_equal(count_relayed(&P.t), 1);
	keepalive_at(&P.t, &P.LT, 1, t0 + 60000);
	keepalive_at(&P.t, &P.LT, 2, t0 + 120000);
	expired = server_get_stats(E.srv)->expired;
	/* 140 s: the KEEPALIVE alone (30 s) would have let it expire. */
	server_tick(E.srv, t0 + 140000);
	(void)relay_at(&P.t, &P.LT, P.sid, 4, 100, t0 + 140000);
	assert_int_equal(count_relayed(&i2), 1);
	server_tick(E.srv, t0 + 149999);
	(void)relay_at(&P.t, &P.LT, P.sid, 5, 100, t0 + 149999);
	assert_int_equal(count_relayed(&i2), 1);
	assert_true(server_get_stats(E.srv)->expired == expired);
	/* The initiator's login expires: the session is forgotten with it. */
	server_tick(E.srv, t0 + 150000);
	assert_true(server_get_stats(E.srv)->expired == expired + 1);
	nosession = server_get_stats(E.srv)->relay_drop_session;
	n = relay_pkt(pkt, sizeof(pkt), P.LT.login_id, P.sid, 6, 0xa0, 100, P.LT.klogin, inner);
	server_input(E.srv, 0, pkt, (size_t)n, (struct sockaddr *)&P.t.addr, sizeof(P.t.addr), NULL,
		     t0 + 150000);
	assert_int_equal(count_relayed(&i2), 0);
	assert_true(server_get_stats(E.srv)->relay_drop_session == nosession + 1);
	expect_nothing(&P.t);
	pair_close(&P, 1);
	client_close(&i2);
	client_close(&spy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_and_introduce),
	    cmocka_unit_test(test_intro_repeats),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_replay_stale_cookie),
	    cmocka_unit_test(test_keepalive_expiry),
	    cmocka_unit_test(test_stun),
	    cmocka_unit_test(test_no_amplification),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_tcp_banner),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_relay_forward),
	    cmocka_unit_test(test_relay_drops),
	    cmocka_unit_test(test_relay_off),
	    cmocka_unit_test(test_relay_rate),
	    cmocka_unit_test(test_relay_address_and_expiry),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
