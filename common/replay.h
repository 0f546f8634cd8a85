/* replay: a sliding-window anti-replay check for 64-bit packet counters,
 * in the style of RFC 6479 (a ring of 64-bit bitmap words, so that moving the
 * window forward clears whole words instead of shifting bits).
 *
 * The window holds the REPLAY_WINDOW most recent counters: a counter is fresh
 * if it is above every counter seen so far, or if it lies less than
 * REPLAY_WINDOW below the highest one and has not been seen. Counter 0 is a
 * valid first counter. Check with replay_check before any work you cannot undo,
 * and call replay_update only once the packet has authenticated, so that forged
 * packets never move the window. */
#ifndef P2PD_REPLAY_H
#define P2PD_REPLAY_H

#include <stdint.h>

#define REPLAY_WINDOW 2048 /* packets */
/* One word more than the window, so a full window fits whatever its alignment. */
#define REPLAY_WORDS (REPLAY_WINDOW / 64 + 1)

struct replay {
	uint64_t top;		     /* highest counter accepted (0 before any) */
	uint64_t bits[REPLAY_WORDS]; /* ring: bit c%64 of word (c/64)%REPLAY_WORDS */
};

/* Start with nothing seen. A zero-filled struct replay is the same state. */
void replay_init(struct replay *r);

/* Returns 0 if ctr is fresh (not seen and inside or above the window),
 * -1 if it was seen already or is too old to tell. Changes nothing. */
int replay_check(const struct replay *r, uint64_t ctr);

/* Marks ctr as seen, moving the window forward when ctr is above it. Call only
 * after replay_check returned 0 and the packet authenticated. */
void replay_update(struct replay *r, uint64_t ctr);

#endif
