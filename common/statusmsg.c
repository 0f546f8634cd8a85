/* statusmsg: the worker -> supervisor status channel codec (see statusmsg.h). */
#include "common/statusmsg.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"

static const char *const type_names[] = {
    [SM_STATE] = "state",	    [SM_CONNECTED] = "connected", [SM_PATH] = "path",
    [SM_THROUGHPUT] = "throughput", [SM_EXIT] = "exit",		  [SM_STATS] = "stats",
    [SM_LOCAL] = "local",
};

const char *
sm_type_name(int type)
{
	if (type <= 0 || type >= (int)(sizeof(type_names) / sizeof(type_names[0])))
		return "unknown";
	return type_names[type];
}

const char *
sm_path_name(int path)
{
	switch (path) {
	case SM_PATH_DIRECT:
		return "direct";
	case SM_PATH_RELAY:
		return "relay";
	default:
		return NULL;
	}
}

int
sm_path_parse(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "direct") == 0)
		return SM_PATH_DIRECT;
	if (strcmp(name, "relay") == 0)
		return SM_PATH_RELAY;
	return -1;
}

static int
is_state_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* 1 if s (n bytes) is a valid state word. */
static int
valid_state(const char *s, size_t n)
{
	if (n == 0 || n > SM_MAX_STATE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_state_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Appends text, cut to SM_MAX_TEXT bytes, with control characters as '?'. */
static void
put_text(struct wbuf *w, const char *text)
{
	size_t n = strnlen(text, SM_MAX_TEXT);
	uint8_t *at = wbuf_reserve(w, n);

	if (at == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		at[i] = (c < 0x20 || c == 0x7f) ? '?' : c;
	}
}

int
sm_encode(const struct sm_msg *m, uint8_t *buf, size_t buflen)
{
	struct wbuf w;
	size_t body;

	wbuf_init(&w, buf, buflen);
	wbuf_u8(&w, SM_VERSION);
	wbuf_u8(&w, (uint8_t)m->type);
	wbuf_u16(&w, 0); /* the length, filled in below */
	switch (m->type) {
	case SM_STATE:
		if (!valid_state(m->text, strnlen(m->text, SM_MAX_STATE + 1)))
			return -1;
		put_text(&w, m->text);
		break;
	case SM_CONNECTED:
		break;
	case SM_PATH:
		if (sm_path_name(m->path) == NULL)
			return -1;
		wbuf_u8(&w, (uint8_t)m->path);
		wbuf_u32(&w, m->ms);
		put_text(&w, m->text);
		break;
	case SM_THROUGHPUT:
		wbuf_u64(&w, m->a);
		wbuf_u64(&w, m->b);
		break;
	case SM_EXIT:
		wbuf_u8(&w, m->code);
		put_text(&w, m->text);
		break;
	case SM_STATS:
		wbuf_u32(&w, m->ms);
		wbuf_u64(&w, m->a);
		wbuf_u64(&w, m->b);
		break;
	case SM_LOCAL:
		put_text(&w, m->text);
		break;
	default:
		return -1;
	}
	if (w.err)
		return -1;
	body = w.len - SM_HDR_LEN;
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	return (int)w.len;
}

/* Copies the rest of r as text into m->text after checking it. */
static int
get_text(struct rbuf *r, struct sm_msg *m, char *err, size_t errlen)
{
	size_t n = rbuf_left(r);
	const uint8_t *p;

	if (n > SM_MAX_TEXT) {
		snprintf(err, errlen, "%s text of %zu bytes is longer than %d",
			 sm_type_name(m->type), n, SM_MAX_TEXT);
		return -1;
	}
	p = rbuf_take(r, n);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(err, errlen, "%s text holds control character 0x%02X at byte %zu",
				 sm_type_name(m->type), p[i], i + 1);
			return -1;
		}
	}
	if (n > 0)
		memcpy(m->text, p, n);
	m->text[n] = '\0';
	return 0;
}

/* Checks that the body has exactly want bytes (fixed-size types) or at
 * least want bytes (types ending in text). */
static int
check_body(const struct sm_msg *m, size_t have, size_t want, int exact, char *err, size_t errlen)
{
	if (exact ? have == want : have >= want)
		return 0;
	snprintf(err, errlen, "%s body of %zu bytes; expected %s%zu", sm_type_name(m->type), have,
		 exact ? "" : "at least ", want);
	return -1;
}

static int
decode_body(struct rbuf *r, struct sm_msg *m, char *err, size_t errlen)
{
	size_t have = rbuf_left(r);
	int p;

	switch (m->type) {
	case SM_STATE:
		if (get_text(r, m, err, errlen) == -1)
			return -1;
		if (!valid_state(m->text, have)) {
			snprintf(err, errlen,
				 "state '%s' is not 1 to %d characters of a-z, 0-9, '_' and '-'",
				 m->text, SM_MAX_STATE);
			return -1;
		}
		return 0;
	case SM_CONNECTED:
		return check_body(m, have, 0, 1, err, errlen);
	case SM_PATH:
		if (check_body(m, have, 5, 0, err, errlen) == -1)
			return -1;
		p = rbuf_u8(r);
		if (sm_path_name(p) == NULL) {
			snprintf(err, errlen, "path %d is neither %d (direct) nor %d (relay)", p,
				 SM_PATH_DIRECT, SM_PATH_RELAY);
			return -1;
		}
		m->path = (enum sm_path)p;
		m->ms = rbuf_u32(r);
		return get_text(r, m, err, errlen);
	case SM_THROUGHPUT:
		if (check_body(m, have, 16, 1, err, errlen) == -1)
			return -1;
		m->a = rbuf_u64(r);
		m->b = rbuf_u64(r);
		return 0;
	case SM_EXIT:
		if (check_body(m, have, 1, 0, err, errlen) == -1)
			return -1;
		m->code = rbuf_u8(r);
		return get_text(r, m, err, errlen);
	case SM_STATS:
		if (check_body(m, have, 20, 1, err, errlen) == -1)
			return -1;
		m->ms = rbuf_u32(r);
		m->a = rbuf_u64(r);
		m->b = rbuf_u64(r);
		return 0;
	case SM_LOCAL:
		return get_text(r, m, err, errlen);
	default:
		snprintf(err, errlen, "unknown type %d", (int)m->type);
		return -1;
	}
}

int
sm_decode(const uint8_t *buf, size_t len, struct sm_msg *m, char *err, size_t errlen)
{
	struct rbuf r;
	unsigned version, body;

	memset(m, 0, sizeof(*m));
	if (len < SM_HDR_LEN) {
		snprintf(err, errlen, "message of %zu bytes is shorter than the %d-byte header",
			 len, SM_HDR_LEN);
		return -1;
	}
	if (len > SM_MAX_MSG) {
		snprintf(err, errlen, "message of %zu bytes is longer than %d", len, SM_MAX_MSG);
		return -1;
	}
	rbuf_init(&r, buf, len);
	version = rbuf_u8(&r);
	m->type = (enum sm_type)rbuf_u8(&r);
	body = rbuf_u16(&r);
	if (version != SM_VERSION) {
		snprintf(err, errlen, "version %u, expected %d", version, SM_VERSION);
		return -1;
	}
	if (body != len - SM_HDR_LEN) {
		snprintf(err, errlen, "length field %u does not match the %zu body bytes received",
			 body, len - SM_HDR_LEN);
		return -1;
	}
	if (decode_body(&r, m, err, errlen) == -1)
		return -1;
	if (r.err || rbuf_left(&r) != 0) {
		snprintf(err, errlen, "%s body has %zu trailing bytes", sm_type_name(m->type),
			 rbuf_left(&r));
		return -1;
	}
	return 0;
}
