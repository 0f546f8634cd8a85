/* replay: sliding-window anti-replay check (see replay.h). */
#include <string.h>

#include "common/replay.h"

#define WORD_BITS 64

static size_t
word_of(uint64_t ctr)
{
	return (size_t)((ctr / WORD_BITS) % REPLAY_WORDS);
}

static uint64_t
bit_of(uint64_t ctr)
{
	return (uint64_t)1 << (ctr % WORD_BITS);
}

void
replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

int
replay_check(const struct replay *r, uint64_t ctr)
{
	if (ctr > r->top)
		return 0;
	if (r->top - ctr >= REPLAY_WINDOW)
		return -1;
	return (r->bits[word_of(ctr)] & bit_of(ctr)) ? -1 : 0;
}

void
replay_update(struct replay *r, uint64_t ctr)
{
	uint64_t from, to, blk, n;

	if (ctr > r->top) {
		/* Clear the words the window slides over (all of them on a big jump). */
		from = r->top / WORD_BITS;
		to = ctr / WORD_BITS;
		n = to - from;
		if (n > REPLAY_WORDS)
			n = REPLAY_WORDS;
		for (blk = to - n + 1; n > 0; n--, blk++)
			r->bits[blk % REPLAY_WORDS] = 0;
		r->top = ctr;
	} else if (r->top - ctr >= REPLAY_WINDOW) {
		return; /* too old: replay_check would have refused it */
	}
	r->bits[word_of(ctr)] |= bit_of(ctr);
}
