/* p2pctl: the control client (see p2pctl.h). */
#include "supervisor/p2pctl.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/p2pdconf.h"
#include "common/util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif
#ifndef P2PD_VERSION
#define P2PD_VERSION "0"
#endif

#define STATUS_TIMEOUT 10.0
/* p2pd gives up a kill/restart after 10 s; wait a little longer for its answer. */
#define CHANGE_TIMEOUT 15.0

/* ---- the reply ---- */

void
p2pctl_reply_free(struct p2pctl_reply *r)
{
	free(r->w);
	free(r->inv);
	memset(r, 0, sizeof(*r));
}

static int
add_worker(struct p2pctl_reply *r, const struct ctl_worker *w)
{
	struct ctl_worker *v = realloc(r->w, (r->nw + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	r->w = v;
	r->w[r->nw++] = *w;
	return 0;
}

static int
add_invalid(struct p2pctl_reply *r, const struct ctl_invalid *x)
{
	struct ctl_invalid *v = realloc(r->inv, (r->ninv + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	r->inv = v;
	r->inv[r->ninv++] = *x;
	return 0;
}

int
p2pctl_parse_reply(const char *buf, size_t len, struct p2pctl_reply *out, char *err, size_t errlen)
{
	struct ctl_line *l = malloc(sizeof(*l));
	size_t off = 0, lineno = 0;
	char why[256];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n;
		if (nl == NULL) {
			snprintf(err, errlen, "reply line %zu is not terminated", lineno + 1);
			goto done;
		}
		n = (size_t)(nl - (buf + off)) + 1;
		lineno++;
		if (ctl_line_parse(buf + off, n, l, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "reply line %zu: %s", lineno, why);
			goto done;
		}
		off += n;
		if (lineno == 1 && l->kind != CTL_L_OK && l->kind != CTL_L_ERROR) {
			snprintf(err, errlen, "the reply does not start with ok or error");
			goto done;
		}
		if (lineno > 1 && (l->kind == CTL_L_OK || l->kind == CTL_L_ERROR)) {
			snprintf(err, errlen, "reply line %zu: a second ok/error line", lineno);
			goto done;
		}
		switch (l->kind) {
		case CTL_L_OK:
		case CTL_L_ERROR:
			out->ok = l->kind == CTL_L_OK;
			out->err = l->err;
			str_lcpy(out->msg, l->msg, sizeof(out->msg));
			break;
		case CTL_L_WORKER:
			if (add_worker(out, &l->worker) == -1)
				goto oom;
			break;
		case CTL_L_INVALID:
			if (add_invalid(out, &l->inv) == -1)
				goto oom;
			break;
		case CTL_L_END:
			if (off != len) {
				snprintf(err, errlen, "bytes after the end of the reply");
				goto done;
			}
			rc = 0;
			goto done;
		}
	}
	snprintf(err, errlen, "the reply ended without its \"end\" line");
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	free(l);
	if (rc == -1)
		p2pctl_reply_free(out);
	return rc;
}

/* ---- talking to p2pd ---- */

static double
secs_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0.0 : (double)(deadline - now) / 1000.0;
}

static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int rc;

	do {
		rc = poll(&p, 1, (int)(secs_left(deadline) * 1000.0));
	} while (rc == -1 && errno == EINTR);
	return rc;
}

/* The group of the socket, for the permission hint. */
static const char *
socket_group(const char *path, char *buf, size_t len)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) == -1)
		return "its group";
	if ((gr = getgrgid(st.st_gid)) != NULL)
		snprintf(buf, len, "group %s", gr->gr_name);
	else
		snprintf(buf, len, "group %u", (unsigned)st.st_gid);
	return buf;
}

static int
connect_ctl(const char *path, int *fdp, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char g[64];
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return P2PCTL_NO_DAEMON;
	}
	str_lcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return P2PCTL_NO_DAEMON;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		*fdp = fd;
		return P2PCTL_OK;
	}
	e = errno;
	close(fd);
	switch (e) {
	case EACCES:
	case EPERM:
		snprintf(err, errlen,
			 "cannot connect to %s: %s (run p2pctl as root or as a member of %s)", path,
			 strerror(e), socket_group(path, g, sizeof(g)));
		return P2PCTL_DENIED;
	case ENOENT:
		snprintf(err, errlen, "cannot connect to %s: %s (is p2pd running?)", path,
			 strerror(e));
		return P2PCTL_NO_DAEMON;
	case ECONNREFUSED:
		snprintf(err, errlen,
			 "cannot connect to %s: %s (is p2pd running? nothing listens on the "
			 "socket)",
			 path, strerror(e));
		return P2PCTL_NO_DAEMON;
	default:
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(e));
		return P2PCTL_NO_DAEMON;
	}
}

static int
send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(fd, POLLOUT, deadline) > 0)
			continue;
		return -1;
	}
	return 0;
}

/* Reads until the "end" line (or EOF). Returns the bytes, or NULL. */
static char *
read_reply(int fd, uint64_t deadline, size_t *lenp, char *err, size_t errlen)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t n;
		int rc = wait_fd(fd, POLLIN, deadline);
		if (rc <= 0) {
			snprintf(err, errlen, "no complete reply from p2pd within the time limit");
			break;
		}
		if (len == cap) {
			char *nb;
			if (cap >= CTL_MAX_REPLY || (nb = realloc(buf, cap * 2)) == NULL) {
				snprintf(err, errlen, "the reply is larger than %u bytes",
					 CTL_MAX_REPLY);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "reading the reply: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			*lenp = len;
			return buf;
		}
		len += (size_t)n;
		if (len >= 4 && memcmp(buf + len - 4, "end\n", 4) == 0 &&
		    (len == 4 || buf[len - 5] == '\n')) {
			*lenp = len;
			return buf;
		}
	}
	free(buf);
	return NULL;
}

int
p2pctl_request(const char *path, const struct ctl_request *r, double timeout,
	       struct p2pctl_reply *out, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout * 1000.0);
	char req[CTL_MAX_REQUEST], why[256];
	size_t len = 0;
	char *buf;
	int n, fd = -1, rc;

	memset(out, 0, sizeof(*out));
	if ((n = ctl_request_format(r, req, sizeof(req))) == -1) {
		snprintf(err, errlen, "cannot form the request");
		return P2PCTL_NO_DAEMON;
	}
	if ((rc = connect_ctl(path, &fd, err, errlen)) != P2PCTL_OK)
		return rc;
	if (send_all(fd, req, (size_t)n, deadline) == -1) {
		snprintf(err, errlen, "sending the request to %s: %s", path, strerror(errno));
		close(fd);
		return P2PCTL_NO_DAEMON;
	}
	buf = read_reply(fd, deadline, &len, why, sizeof(why));
	close(fd);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return P2PCTL_NO_DAEMON;
	}
	rc = p2pctl_parse_reply(buf, len, out, why, sizeof(why));
	free(buf);
	if (rc == -1) {
		snprintf(err, errlen, "%s: broken reply from p2pd: %s", path, why);
		return P2PCTL_NO_DAEMON;
	}
	return P2PCTL_OK;
}

/* ---- output ---- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t n;
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (c == 0xe0 && s[1] < 0xa0)
		return 0; /* overlong */
	if (c == 0xed && s[1] >= 0xa0)
		return 0; /* surrogate */
	if (c == 0xf0 && s[1] < 0x90)
		return 0;
	if (c == 0xf4 && s[1] >= 0x90)
		return 0;
	return n;
}

void
p2pctl_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p != '\0') {
		size_t n;
		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p == '\n') {
			fputs("\\n", out);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", out);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, out);
		} else if ((n = utf8_seq(p)) > 0) {
			fwrite(p, 1, n, out);
			p += n;
		} else {
			fprintf(out, "\\u%04x", *p++);
		}
	}
	fputc('"', out);
}

static void
json_str_or_null(FILE *out, const char *key, const char *v, int comma)
{
	fprintf(out, "\"%s\":", key);
	if (v[0] == '\0')
		fputs("null", out);
	else
		p2pctl_json_string(out, v);
	if (comma)
		fputc(',', out);
}

static void
json_int_or_null(FILE *out, const char *key, int64_t v, int comma)
{
	if (v == CTL_NONE)
		fprintf(out, "\"%s\":null", key);
	else
		fprintf(out, "\"%s\":%" PRId64, key, v);
	if (comma)
		fputc(',', out);
}

static void
json_worker(FILE *out, const struct ctl_worker *w)
{
	fputc('{', out);
	json_str_or_null(out, "uid", w->uid, 1);
	json_str_or_null(out, "name", w->name, 1);
	json_str_or_null(out, "file", w->file, 1);
	json_str_or_null(out, "mode", w->mode, 1);
	json_int_or_null(out, "autoconnect", w->autoconnect, 1);
	json_str_or_null(out, "want", w->want, 1);
	json_str_or_null(out, "state", w->state, 1);
	json_str_or_null(out, "detail", w->detail, 1);
	json_int_or_null(out, "pid", w->pid, 1);
	json_str_or_null(out, "local", w->local, 1);
	json_str_or_null(out, "path", w->path, 1);
	json_str_or_null(out, "peer", w->peer, 1);
	json_int_or_null(out, "rtt_ms", w->rtt_ms, 1);
	json_int_or_null(out, "bytes_in", w->bytes_in, 1);
	json_int_or_null(out, "bytes_out", w->bytes_out, 1);
	json_int_or_null(out, "uptime_s", w->uptime_s, 1);
	json_int_or_null(out, "restarts", w->restarts, 1);
	json_int_or_null(out, "backoff_s", w->backoff_s, 1);
	json_int_or_null(out, "next_start_ms", w->next_start_ms, 1);
	json_int_or_null(out, "last_exit", w->last_exit, 1);
	json_str_or_null(out, "last_error", w->last_error, 0);
	fputc('}', out);
}

void
p2pctl_print_json(FILE *out, const struct p2pctl_reply *r)
{
	fputs("{\"workers\":[", out);
	for (size_t i = 0; i < r->nw; i++) {
		if (i > 0)
			fputc(',', out);
		json_worker(out, &r->w[i]);
	}
	fputs("],\"invalid\":[", out);
	for (size_t i = 0; i < r->ninv; i++) {
		if (i > 0)
			fputc(',', out);
		fputc('{', out);
		json_str_or_null(out, "file", r->inv[i].file, 1);
		json_int_or_null(out, "line", r->inv[i].line, 1);
		json_str_or_null(out, "error", r->inv[i].reason, 0);
		fputc('}', out);
	}
	fprintf(out, "],\"all_wanted_up\":%s}\n", p2pctl_all_wanted_up(r) ? "true" : "false");
}

int
p2pctl_all_wanted_up(const struct p2pctl_reply *r)
{
	for (size_t i = 0; i < r->nw; i++)
		if (strcmp(r->w[i].want, "down") != 0 && strcmp(r->w[i].state, "up") != 0)
			return 0;
	return 1;
}

enum col {
	C_UID,
	C_NAME,
	C_MODE,
	C_STATE,
	C_PID,
	C_LOCAL,
	C_PATH,
	C_PEER,
	C_RTT,
	C_IN,
	C_OUT,
	C_UPTIME,
	C_RESTARTS,
	C_ERROR,
	C_COUNT
};

static const char *const col_names[C_COUNT] = {
    "UID",  "NAME", "MODE", "STATE", "PID",    "LOCAL",	   "PATH",
    "PEER", "RTT",  "IN",   "OUT",   "UPTIME", "RESTARTS", "LAST ERROR",
};

#define CELL 300

static void
fmt_int(char *buf, int64_t v, const char *unit)
{
	if (v == CTL_NONE)
		snprintf(buf, CELL, "-");
	else
		snprintf(buf, CELL, "%" PRId64 "%s", v, unit);
}

static void
fmt_uptime(char *buf, int64_t s)
{
	if (s == CTL_NONE)
		snprintf(buf, CELL, "-");
	else if (s < 60)
		snprintf(buf, CELL, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, CELL, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, CELL, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, CELL, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static void
fmt_state(char *buf, const struct ctl_worker *w)
{
	if (strcmp(w->state, "up") == 0 && w->detail[0] != '\0')
		snprintf(buf, CELL, "up:%s", w->detail);
	else if (strcmp(w->state, "backoff") == 0 && w->next_start_ms != CTL_NONE)
		snprintf(buf, CELL, "backoff:%" PRId64 ".%" PRId64 "s", w->next_start_ms / 1000,
			 w->next_start_ms % 1000 / 100);
	else if (strcmp(w->state, "down") == 0 && strcmp(w->want, "down") != 0)
		snprintf(buf, CELL, "down:wanted");
	else
		snprintf(buf, CELL, "%s", w->state[0] ? w->state : "-");
}

static void
row_cells(const struct ctl_worker *w, char cells[C_COUNT][CELL])
{
	snprintf(cells[C_UID], CELL, "%s", w->uid);
	snprintf(cells[C_NAME], CELL, "%s", w->name[0] ? w->name : "-");
	snprintf(cells[C_MODE], CELL, "%s", w->mode[0] ? w->mode : "-");
	fmt_state(cells[C_STATE], w);
	fmt_int(cells[C_PID], w->pid, "");
	snprintf(cells[C_LOCAL], CELL, "%s", w->local[0] ? w->local : "-");
	snprintf(cells[C_PATH], CELL, "%s", w->path[0] ? w->path : "-");
	snprintf(cells[C_PEER], CELL, "%s", w->peer[0] ? w->peer : "-");
	fmt_int(cells[C_RTT], w->rtt_ms, "ms");
	fmt_int(cells[C_IN], w->pid == CTL_NONE ? CTL_NONE : w->bytes_in, "");
	fmt_int(cells[C_OUT], w->pid == CTL_NONE ? CTL_NONE : w->bytes_out, "");
	fmt_uptime(cells[C_UPTIME], w->uptime_s);
	if (w->backoff_s != CTL_NONE && w->backoff_s > 0)
		snprintf(cells[C_RESTARTS], CELL, "%" PRId64 " (backoff %" PRId64 "s)",
			 w->restarts == CTL_NONE ? 0 : w->restarts, w->backoff_s);
	else
		fmt_int(cells[C_RESTARTS], w->restarts, "");
	snprintf(cells[C_ERROR], CELL, "%s", w->last_error[0] ? w->last_error : "-");
}

static void
print_row(FILE *out, const char *const cell[C_COUNT], const size_t width[C_COUNT])
{
	for (int c = 0; c + 1 < C_COUNT; c++)
		fprintf(out, "%-*s  ", (int)width[c], cell[c]);
	fprintf(out, "%s\n", cell[C_COUNT - 1]);
}

void
p2pctl_print_table(FILE *out, const struct p2pctl_reply *r)
{
	size_t width[C_COUNT];
	char(*cells)[C_COUNT][CELL] = calloc(r->nw + 1, sizeof(*cells));

	if (cells == NULL) {
		fprintf(stderr, "p2pctl: out of memory\n");
		return;
	}
	for (int c = 0; c < C_COUNT; c++)
		width[c] = strlen(col_names[c]);
	for (size_t i = 0; i < r->nw; i++) {
		row_cells(&r->w[i], cells[i]);
		for (int c = 0; c < C_COUNT; c++)
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
	}
	print_row(out, col_names, width);
	for (size_t i = 0; i < r->nw; i++) {
		const char *row[C_COUNT];
		for (int c = 0; c < C_COUNT; c++)
			row[c] = cells[i][c];
		print_row(out, row, width);
	}
	if (r->nw == 0)
		fprintf(out, "(no workers)\n");
	free(cells);
	if (r->ninv > 0)
		fprintf(out, "\ninvalid provisioning files (not run):\n");
	for (size_t i = 0; i < r->ninv; i++) {
		if (r->inv[i].line > 0)
			fprintf(out, "  %s:%" PRId64 ": %s\n", r->inv[i].file, r->inv[i].line,
				r->inv[i].reason);
		else
			fprintf(out, "  %s: %s\n", r->inv[i].file, r->inv[i].reason);
	}
}

/* ---- the command line ---- */

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: p2pctl [-s SOCKET] [-c FILE] COMMAND\n"
		"commands:\n"
		"  status [--json] [UID]  the workers (exit 0: every wanted worker is up; 3: not)\n"
		"  kill UID               stop the worker and keep it down\n"
		"  start UID              start the worker (also one that was killed)\n"
		"  restart UID            stop and start the worker\n"
		"  reload                 re-read p2pd.conf and the provisioning files\n"
		"options:\n"
		"  -s SOCKET  the control socket (default: control_socket of p2pd.conf, else\n"
		"             %s)\n"
		"  -c FILE    the p2pd.conf to take control_socket from\n"
		"exit: 0 ok, 1 refused or failed, 2 p2pd not reachable, 3 not all up (status),\n"
		"      4 permission denied, 64 usage\n",
		P2PD_DEF_CONTROL_SOCKET);
}

/* The socket: -s, else p2pd.conf's control_socket, else the default. */
static void
pick_socket(const char *opt_s, const char *opt_c, char *buf, size_t len)
{
	struct p2pd_conf c;
	char err[LR_MAX_MSG];
	int lvl = log_get_level();

	if (opt_s != NULL) {
		str_lcpy(buf, opt_s, len);
		return;
	}
	log_set_level(LOG_LVL_ERROR); /* p2pd.conf warnings are p2pd's business */
	if (p2pdconf_load(opt_c, opt_c != NULL, &c, err, sizeof(err)) == -1 && opt_c != NULL)
		fprintf(stderr, "p2pctl: %s (using control_socket %s)\n", err, c.control_socket);
	log_set_level(lvl);
	str_lcpy(buf, c.control_socket, len);
}

static int
run_status(const char *sock, const struct ctl_request *rq, int json)
{
	struct p2pctl_reply r;
	char err[512], u[UID_STRLEN];
	int rc = p2pctl_request(sock, rq, STATUS_TIMEOUT, &r, err, sizeof(err));

	if (rc != P2PCTL_OK) {
		fprintf(stderr, "p2pctl: %s\n", err);
		return rc;
	}
	if (!r.ok) {
		if (r.err == CTL_E_UNKNOWN_UID)
			fprintf(stderr, "p2pctl: status %s: no such worker (%s)\n",
				uid_format(&rq->uid, u), r.msg);
		else
			fprintf(stderr, "p2pctl: status: %s\n", r.msg);
		p2pctl_reply_free(&r);
		return P2PCTL_FAILED;
	}
	if (json)
		p2pctl_print_json(stdout, &r);
	else
		p2pctl_print_table(stdout, &r);
	rc = p2pctl_all_wanted_up(&r) ? P2PCTL_OK : P2PCTL_NOT_UP;
	p2pctl_reply_free(&r);
	return rc;
}

static int
run_change(const char *sock, const struct ctl_request *rq)
{
	struct p2pctl_reply r;
	char err[512], u[UID_STRLEN];
	const char *verb = ctl_verb_name((int)rq->verb);
	int rc = p2pctl_request(sock, rq, CHANGE_TIMEOUT, &r, err, sizeof(err));

	if (rc != P2PCTL_OK) {
		fprintf(stderr, "p2pctl: %s\n", err);
		return rc;
	}
	if (!r.ok) {
		if (rq->has_uid)
			fprintf(stderr, "p2pctl: %s %s: %s\n", verb, uid_format(&rq->uid, u),
				r.msg);
		else
			fprintf(stderr, "p2pctl: %s: %s\n", verb, r.msg);
		p2pctl_reply_free(&r);
		return P2PCTL_FAILED;
	}
	printf("%s\n", r.msg[0] ? r.msg : "ok");
	p2pctl_reply_free(&r);
	return P2PCTL_OK;
}

static int
parse_command(int argc, char **argv, struct ctl_request *rq, int *json)
{
	const char *cmd = argv[0], *uidarg = NULL, *why;
	int v;

	memset(rq, 0, sizeof(*rq));
	*json = 0;
	for (v = CTL_STATUS; v <= CTL_RELOAD; v++)
		if (strcmp(cmd, ctl_verb_name(v)) == 0)
			break;
	if (v > CTL_RELOAD) {
		fprintf(stderr, "p2pctl: unknown command '%s'\n", cmd);
		return -1;
	}
	rq->verb = (enum ctl_verb)v;
	for (int i = 1; i < argc; i++) {
		if (rq->verb == CTL_STATUS && strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if (uidarg == NULL && argv[i][0] != '-')
			uidarg = argv[i];
		else {
			fprintf(stderr, "p2pctl: %s: unexpected argument '%s'\n", cmd, argv[i]);
			return -1;
		}
	}
	if (uidarg != NULL && rq->verb == CTL_RELOAD) {
		fprintf(stderr, "p2pctl: reload takes no argument\n");
		return -1;
	}
	if (uidarg == NULL && rq->verb != CTL_STATUS && rq->verb != CTL_RELOAD) {
		fprintf(stderr, "p2pctl: %s needs a UID (e.g. %s 80:00:00:00:01:00:0A:C2)\n", cmd,
			cmd);
		return -1;
	}
	if (uidarg != NULL) {
		if (uid_parse(uidarg, &rq->uid, &why) == -1) {
			fprintf(stderr, "p2pctl: %s: bad UID '%s': %s\n", cmd, uidarg, why);
			return -1;
		}
		rq->has_uid = 1;
	}
	return 0;
}

int
p2pctl_cli(int argc, char **argv)
{
	const char *opt_s = NULL, *opt_c = NULL;
	char sock[PATH_MAX];
	struct ctl_request rq;
	int i, json;

	log_init("p2pctl", LOG_LVL_WARN);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return P2PCTL_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("p2pctl %s\n", P2PD_VERSION);
			return P2PCTL_OK;
		} else if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "-c") == 0) &&
			   i + 1 < argc) {
			if (argv[i][1] == 's')
				opt_s = argv[i + 1];
			else
				opt_c = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "p2pctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return P2PCTL_USAGE;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return P2PCTL_USAGE;
	}
	if (parse_command(argc - i, argv + i, &rq, &json) == -1) {
		fprintf(stderr, "usage: see p2pctl -h\n");
		return P2PCTL_USAGE;
	}
	pick_socket(opt_s, opt_c, sock, sizeof(sock));
	if (rq.verb == CTL_STATUS)
		return run_status(sock, &rq, json);
	return run_change(sock, &rq);
}
