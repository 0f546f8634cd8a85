/* util: small parsing and memory helpers shared by every program. */
#ifndef P2PD_UTIL_H
#define P2PD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a whole decimal number in [min, max]. On failure returns -1 and sets
 * *why to "not a number", "too small" or "too large". */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why);

/* Parse "host[:port]" or "[v6]:port". host is copied into hostbuf; *port is
 * default_port when absent. Returns -1 with *why set on a malformed string. */
int parse_hostport(const char *s, char *hostbuf, size_t hostlen, uint16_t *port,
		   uint16_t default_port, const char **why);

/* Resolve host (a name or an address) and port to its first IPv4 address,
 * for sockets of socktype (SOCK_DGRAM, SOCK_STREAM). Returns 0, or -1 with
 * *why the resolver's reason. */
int resolve_ipv4(const char *host, uint16_t port, int socktype, struct sockaddr_storage *ss,
		 socklen_t *len, const char **why);

/* Numeric IPv4/IPv6 address (no DNS) into ss; returns -1 if not an address. */
int parse_ip(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* "a.b.c.d:port" or "[v6]:port" into buf; always NUL-terminated. */
const char *fmt_sockaddr(const struct sockaddr *sa, char *buf, size_t len);
#define SOCKADDR_STRLEN 64

/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);

/* A character as it should appear in a message: 'G', or \x01 for an
 * unprintable one. Returns buf. */
const char *char_shown(char c, char buf[8]);

/* Hex encode (lowercase) / decode; decode returns -1 on odd length or non-hex. */
void hex_encode(const uint8_t *in, size_t n, char *out /* 2n+1 */);
int hex_decode(const char *in, uint8_t *out, size_t outlen);

/* A socket that is non-blocking and close-on-exec (portable: no SOCK_NONBLOCK),
 * or -1 with errno. */
int socket_nb(int domain, int type);
/* Make fd non-blocking and close-on-exec; returns 0 or -1 with errno. */
int fd_nonblock_cloexec(int fd);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

/* Copy with truncation; always NUL-terminates (dstsize > 0). Returns strlen(src). */
size_t str_lcpy(char *dst, const char *src, size_t dstsize);

#endif
