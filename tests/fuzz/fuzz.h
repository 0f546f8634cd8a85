/* fuzz.h: what every libFuzzer harness in tests/fuzz shares.
 *
 * A header, not a .c file: tests/fuzz/run.sh builds each fuzz_X.c alone
 * (with -I. at the top of the tree), so a harness includes this as
 * "tests/fuzz/fuzz.h" and needs nothing else linked. */
#ifndef P2PD_FUZZ_H
#define P2PD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The entry point libFuzzer calls with each input; declared here because the
 * harnesses are built with -Wmissing-prototypes -Werror. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant a caller relies on: abort() (a finding) when cond is false. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#endif
