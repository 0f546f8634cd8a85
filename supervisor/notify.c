/* notify: the sd_notify datagram, written by hand (see notify.h). */
#include "supervisor/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* Fills sun from NOTIFY_SOCKET; returns the address length or 0 if invalid. */
static socklen_t
notify_addr(const char *name, struct sockaddr_un *sun)
{
	size_t n = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n < 2 || n >= sizeof(sun->sun_path) || (name[0] != '/' && name[0] != '@'))
		return 0;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@') {
		sun->sun_path[0] = '\0'; /* abstract: no NUL at the end, length counts */
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

int
notify_send(const char *text)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd;

	if (name == NULL || *name == '\0')
		return 0;
	if ((len = notify_addr(name, &sun)) == 0) {
		log_warnx("NOTIFY_SOCKET '%s' is neither an absolute path nor '@' and a name "
			  "(at most %zu bytes); not notifying",
			  name, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if ((fd = socket_nb(AF_UNIX, SOCK_DGRAM)) == -1) {
		log_warn("socket for NOTIFY_SOCKET %s", name);
		return -1;
	}
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	if (n == -1) {
		log_warn("sending \"%.20s\" to NOTIFY_SOCKET %s", text, name);
		close(fd);
		return -1;
	}
	close(fd);
	log_debug("told the service manager: %s", text);
	return 1;
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
		     (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}
