/* check: "p2pd -n", the configuration test.
 *
 * Reads p2pd.conf and every provisioning file of its conf_dir and prints,
 * for each file, "FILE: ok (initiator UID, autoconnect N)" or every one of
 * its errors ("FILE:LINE: reason"); warnings are printed as
 * "FILE:LINE: warning: reason". The last line is "configuration OK" or
 * "configuration invalid: N errors in M files". A bad file never hides the
 * results of the others. */
#ifndef P2PD_CHECK_H
#define P2PD_CHECK_H

#include <stdio.h>

/* Checks the configuration p2pd would run with: path is p2pd.conf (NULL: the
 * default, which may be missing; with must_exist a missing file is an
 * error). verbose also prints the directory entries that are skipped and
 * why. Output goes to out. Returns 0 (all valid) or EXIT_CONFIG (78). */
int check_config(const char *path, int must_exist, int verbose, FILE *out);

#endif
