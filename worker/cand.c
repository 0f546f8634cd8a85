#include "worker/cand.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

static void
put_v4(struct sockaddr_storage *ss, struct in_addr a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
	sin->sin_port = htons(port);
}

size_t
cand_gather(const struct sockaddr *server, uint16_t port, struct sockaddr_storage *out, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (max == 0)
		return 0;
	if (server != NULL && is_loopback(server)) {
		struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
		put_v4(&out[0], lo, port);
		return 1;
	}
	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (!(i->ifa_flags & IFF_UP) || is_loopback(i->ifa_addr))
			continue;
		put_v4(&out[n++], ((struct sockaddr_in *)i->ifa_addr)->sin_addr, port);
	}
	freeifaddrs(ifa);
	return n;
}

int
sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}
