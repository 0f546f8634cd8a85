/* buf: bounds-checked readers and writers for wire formats.
 *
 * A writer or reader that runs past its end sets err and stops touching memory;
 * callers check err once at the end. All integers are big-endian on the wire. */
#ifndef P2PD_BUF_H
#define P2PD_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Random-access big-endian loads and stores, for fields patched in place;
 * the caller has checked the bounds. */
static inline uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	int err;
};

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

static inline void
wbuf_init(struct wbuf *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

/* Reserve n bytes and return where they start, or NULL (and err) if they do not fit. */
static inline uint8_t *
wbuf_reserve(struct wbuf *w, size_t n)
{
	uint8_t *at;

	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return NULL;
	}
	at = w->p + w->len;
	w->len += n;
	return at;
}

static inline void
wbuf_put(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *at = wbuf_reserve(w, n);

	if (at != NULL && n > 0)
		memcpy(at, src, n);
}

static inline void
wbuf_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

static inline void
wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wbuf_put(w, b, 2);
}

static inline void
wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wbuf_put(w, b, 4);
}

static inline void
wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

static inline void
rbuf_init(struct rbuf *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static inline size_t
rbuf_left(const struct rbuf *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* Point at the next n bytes and consume them, or NULL (and err) if fewer are left. */
static inline const uint8_t *
rbuf_take(struct rbuf *r, size_t n)
{
	const uint8_t *at;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

static inline void
rbuf_get(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *at = rbuf_take(r, n);

	if (at != NULL && n > 0)
		memcpy(dst, at, n);
	else if (n > 0)
		memset(dst, 0, n);
}

static inline uint8_t
rbuf_u8(struct rbuf *r)
{
	const uint8_t *b = rbuf_take(r, 1);
	return b ? b[0] : 0;
}

static inline uint16_t
rbuf_u16(struct rbuf *r)
{
	const uint8_t *b = rbuf_take(r, 2);
	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static inline uint32_t
rbuf_u32(struct rbuf *r)
{
	const uint8_t *b = rbuf_take(r, 4);
	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

static inline uint64_t
rbuf_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_u32(r);
	return hi << 32 | rbuf_u32(r);
}

#endif
