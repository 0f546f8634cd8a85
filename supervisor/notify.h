/* notify: readiness notification to the service manager (sd_notify protocol).
 *
 * When the environment holds NOTIFY_SOCKET (an absolute path, or "@name" for
 * a Linux abstract socket), one datagram of "KEY=VALUE" lines is sent to that
 * AF_UNIX datagram socket. Without NOTIFY_SOCKET nothing happens. No
 * library is needed. */
#ifndef P2PD_NOTIFY_H
#define P2PD_NOTIFY_H

/* Sends text ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...", ...) to
 * NOTIFY_SOCKET. Returns 1 if sent, 0 if NOTIFY_SOCKET is not set, -1 on
 * error (logged at warning level, with the socket's name). */
int notify_send(const char *text);

/* notify_send of "RELOADING=1" with the MONOTONIC_USEC= field systemd asks
 * for. Returns as notify_send. */
int notify_reloading(void);

#endif
