#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *log_prog = "p2pd";
static int log_level = LOG_LVL_INFO;
static int log_syslog;
static char log_prefix[64];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_init(const char *prog, int level)
{
	log_prog = prog;
	log_level = level;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_to_syslog(int on)
{
	if (on && !log_syslog)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

void
log_set_prefix(const char *prefix)
{
	if (prefix == NULL)
		log_prefix[0] = '\0';
	else
		snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_LVL_DEBUG)
		return "?";
	return level_names[level];
}

void
log_vat(int level, const char *func, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024];
	size_t n = 0;

	if (level > log_level)
		return;
	if (func != NULL && level <= LOG_LVL_WARN)
		n = (size_t)snprintf(msg, sizeof(msg), "%s: ", func);
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		if (log_prefix[0])
			syslog(prio[level], "[%s] %s", log_prefix, msg);
		else
			syslog(prio[level], "%s", msg);
	} else {
		const char *tag = level == LOG_LVL_ERROR  ? "error: "
				  : level == LOG_LVL_WARN ? "warning: "
							  : "";
		if (log_prefix[0])
			fprintf(stderr, "%s[%s]: %s%s\n", log_prog, log_prefix, tag, msg);
		else
			fprintf(stderr, "%s: %s%s\n", log_prog, tag, msg);
	}
	errno = saved;
}

void
log_at(int level, const char *func, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vat(level, func, with_errno, fmt, ap);
	va_end(ap);
}

void
fatal_at(int code, const char *func, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vat(LOG_LVL_ERROR, func, with_errno, fmt, ap);
	va_end(ap);
	exit(code);
}
