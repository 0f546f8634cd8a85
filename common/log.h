/* log: leveled, printf-style logging to stderr (and syslog when daemonized).
 *
 * Warnings and fatal errors carry the calling function's name, as OpenBSD's
 * daemons do. A process may set a prefix (a worker sets its UID) that starts
 * every line. Callers never pass secrets to these functions. */
#ifndef P2PD_LOG_H
#define P2PD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* prog: program name shown in each line; level: highest level printed. */
void log_init(const char *prog, int level);
void log_set_level(int level);
int log_get_level(void);
/* Send lines to syslog (daemon facility) instead of stderr. */
void log_to_syslog(int on);
/* A prefix shown after the program name ("80:00:00:00:01:00:0A:C2"), or NULL. */
void log_set_prefix(const char *prefix);
/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

void log_at(int level, const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_vat(int level, const char *func, int with_errno, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
_Noreturn void fatal_at(int code, const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* _warn/fatal append ": strerror(errno)"; the x variants do not. */
#define log_warn(...)  log_at(LOG_LVL_WARN, __func__, 1, __VA_ARGS__)
#define log_warnx(...) log_at(LOG_LVL_WARN, __func__, 0, __VA_ARGS__)
#define log_error(...) log_at(LOG_LVL_ERROR, __func__, 0, __VA_ARGS__)
#define log_info(...)  log_at(LOG_LVL_INFO, NULL, 0, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LVL_DEBUG, __func__, 0, __VA_ARGS__)
/* Exit with code after logging at error level. */
#define fatal(code, ...)  fatal_at((code), __func__, 1, __VA_ARGS__)
#define fatalx(code, ...) fatal_at((code), __func__, 0, __VA_ARGS__)

#endif
