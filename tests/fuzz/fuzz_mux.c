/* libFuzzer harness for worker/mux: any packet body (the bytes a peer can
 * make the multiplexer parse once a packet has authenticated) fed to a mux
 * with streams open in both directions, then its timers run; the invariants
 * a caller relies on are checked (abort = finding).
 *
 * The input is split into bodies at 0xff 0xfe 0xfd markers, so one input can
 * drive several packets in a row. No seeds: the harness finds the frame types
 * from the mux's own answers quickly. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/mux.h"
#include "tests/fuzz/fuzz.h"

#define MAX_BODY 1164

static struct mux *cur;

static void
on_send(void *ctx, const uint8_t *body, size_t len)
{
	(void)ctx;
	(void)body;
	CHECK(len > 0 && len <= MAX_BODY);
}

static void
on_opened(void *ctx, uint32_t id)
{
	(void)ctx;
	CHECK(id % 2 == 0); /* the peer of an initiator opens even ids */
}

static void
on_readable(void *ctx, uint32_t id)
{
	uint8_t buf[4096];
	ssize_t n;

	(void)ctx;
	while ((n = mux_read(cur, id, buf, sizeof(buf), 1000)) > 0)
		CHECK((size_t)n <= sizeof(buf));
	CHECK(n == 0 || (n == -1 && errno == ENOENT));
}

static void
on_writable(void *ctx, uint32_t id)
{
	(void)ctx;
	(void)id;
}

static void
on_closed(void *ctx, uint32_t id, int reset, int reason)
{
	(void)ctx;
	(void)id;
	CHECK(reset == 0 || reset == 1);
	CHECK(reason >= 0 && reason <= 255);
}

static const struct mux_callbacks cbs = {
    .send = on_send,
    .stream_opened = on_opened,
    .readable = on_readable,
    .writable = on_writable,
    .closed = on_closed,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux_config cfg = {.max_body = MAX_BODY, .max_depth = 12, .is_initiator = 1};
	struct mux_stats st;
	uint64_t now = 1000;
	uint32_t id;
	size_t start = 0;

	cur = mux_new(&cfg, &cbs, NULL);
	CHECK(cur != NULL);
	CHECK(mux_open(cur, &id, now) == 0);
	CHECK(mux_write(cur, id, (const uint8_t *)"hello", 5, now) == 5);
	for (size_t i = 0; i + 3 <= size || start < size; i++) {
		int split =
		    i + 3 <= size && data[i] == 0xff && data[i + 1] == 0xfe && data[i + 2] == 0xfd;
		if (split || i + 3 > size) {
			size_t end = split ? i : size;
			if (end > start && end - start <= MAX_BODY)
				mux_input(cur, data + start, end - start, now);
			now += 7;
			mux_on_timer(cur, now);
			mux_flush(cur, now);
			start = split ? i + 3 : size;
			if (!split)
				break;
			i += 2;
		}
	}
	now += 120000;
	mux_on_timer(cur, now);
	mux_get_stats(cur, &st);
	CHECK(st.streams == mux_stream_count(cur));
	mux_free(cur);
	cur = NULL;
	return 0;
}
