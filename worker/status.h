/* status: the `-s` status lines of connectd (DESIGN section 9).
 *
 * Each event is one line on stdout starting with "!!", flushed at once:
 *   !!status <state>            !!connected
 *   !!path <direct|relay> peer=<addr> handshake_ms=<n>
 *   !!throughput txBps=N rxBps=N
 *   !!exit <code> : <message>   (the last line of every run that ends) */
#ifndef P2PD_STATUS_H
#define P2PD_STATUS_H

#include <stdint.h>

void status_enable(int on);
int status_enabled(void);
void status_state(const char *state);
void status_connected(void);
void status_path(const char *path, const char *peer, unsigned handshake_ms);
void status_throughput(uint64_t tx_bps, uint64_t rx_bps);
void status_exit(int code, const char *msg);
/* Periodic counters for the supervisor (not printed with -s): latest RTT,
 * stream bytes in and out since start, and the local endpoint served. */
void status_stats(unsigned rtt_ms, uint64_t bytes_in, uint64_t bytes_out);
void status_local(const char *endpoint);

#endif
