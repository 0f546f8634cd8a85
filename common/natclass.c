/* natclass: NAT classification from STUN results; see natclass.h. */
#include "common/natclass.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static int
is_inet(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

static int
same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return same_ip(a, b) && port_of(a) == port_of(b);
}

static int
is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 1;
}

/* 1 if probe i replied with probe 0's mapping, 0 if with another, -1 if no answer. */
static int
compare_to_first(const struct natclass_input *in, int i)
{
	const struct natclass_probe *p = &in->probe[i];

	if (!p->sent || !p->replied || !is_inet(&p->mapped))
		return -1;
	return same_endpoint(&p->mapped, &in->probe[0].mapped);
}

static enum natclass_mapping
mapping_of(int t2, int t3)
{
	if (t2 == 0)
		return NATCLASS_MAP_ADDRESS_PORT_DEPENDENT;
	if (t3 == 1)
		return NATCLASS_MAP_ENDPOINT_INDEPENDENT;
	if (t2 == 1 && t3 == 0)
		return NATCLASS_MAP_ADDRESS_DEPENDENT;
	return NATCLASS_MAP_UNKNOWN;
}

static void
classify_lines(const struct natclass_input *in, struct natclass_result *r)
{
	r->port_preserved = -1;
	for (int i = 0; i < NATCLASS_PROBES; i++) {
		const struct natclass_probe *p = &in->probe[i];
		struct natclass_line *l = &r->line[i];

		if (!p->sent || !p->replied || !is_inet(&p->mapped))
			continue;
		l->same_mapping = same_endpoint(&p->mapped, &in->probe[0].mapped);
		l->port_preserved = port_of(&p->mapped) == in->local_port;
		l->different_ip = i > 0 && !same_ip(&p->server, &in->probe[0].server);
		if (!l->port_preserved)
			r->port_preserved = 0;
		else if (r->port_preserved == -1)
			r->port_preserved = 1;
	}
}

void
natclass_classify(const struct natclass_input *in, struct natclass_result *r)
{
	const struct natclass_probe *p0 = &in->probe[0];
	int t2, t3;

	memset(r, 0, sizeof(*r));
	r->mapping = NATCLASS_MAP_UNKNOWN;
	r->port_preserved = -1;
	r->remaps = -1;
	r->udp_ok = p0->sent && p0->replied && is_inet(&p0->mapped);
	classify_lines(in, r);
	if (!r->udp_ok) {
		r->port_preserved = -1;
		return;
	}
	r->no_nat = is_inet(&in->local) && !is_wildcard(&in->local) &&
		    same_ip(&in->local, &p0->mapped) && port_of(&p0->mapped) == in->local_port;
	t2 = compare_to_first(in, 1);
	t3 = compare_to_first(in, 2);
	r->mapping = mapping_of(t2, t3);
	if (t2 == 0 || t3 == 0)
		r->remaps = 1;
	else if (t2 == 1 || t3 == 1)
		r->remaps = 0;
}

const char *
natclass_mapping_name(enum natclass_mapping m)
{
	switch (m) {
	case NATCLASS_MAP_ENDPOINT_INDEPENDENT:
		return "endpoint-independent";
	case NATCLASS_MAP_ADDRESS_DEPENDENT:
		return "address-dependent";
	case NATCLASS_MAP_ADDRESS_PORT_DEPENDENT:
		return "address-and-port-dependent";
	case NATCLASS_MAP_UNKNOWN:
	default:
		return "unknown";
	}
}

/* ---- wording ---- */

/* An snprintf-style appender: counts what the whole text needs. */
struct out {
	char *buf;
	size_t len;
	size_t need;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->need < o->len ? o->len - o->need : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? o->buf + o->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void
out_init(struct out *o, char *buf, size_t len)
{
	o->buf = buf;
	o->len = len;
	o->need = 0;
	if (len > 0)
		buf[0] = '\0';
}

static const char *
ip_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET
			    ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
			    : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (!is_inet(ss) || inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		str_lcpy(buf, "?", len);
	return buf;
}

static const char *
endpoint_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (!is_inet(ss)) {
		str_lcpy(buf, "?", len);
		return buf;
	}
	return fmt_sockaddr((const struct sockaddr *)ss, buf, len);
}

static int
last_sent(const struct natclass_input *in)
{
	int last = -1;

	for (int i = 0; i < NATCLASS_PROBES; i++)
		if (in->probe[i].sent)
			last = i;
	return last;
}

static void
probe_line(struct out *o, const struct natclass_input *in, const struct natclass_result *r, int i)
{
	const struct natclass_probe *p = &in->probe[i];
	const struct natclass_line *l = &r->line[i];
	char sbuf[SOCKADDR_STRLEN], ibuf[SOCKADDR_STRLEN];

	out_printf(o, "Send to [%s]", endpoint_str(&p->server, sbuf, sizeof(sbuf)));
	if (!p->replied || !is_inet(&p->mapped)) {
		out_printf(o, " [no reply]");
		return;
	}
	out_printf(o, " [mip=%s] [oport=%u mport=%u]", ip_str(&p->mapped, ibuf, sizeof(ibuf)),
		   in->local_port, port_of(&p->mapped));
	if (i > 0 && r->udp_ok)
		out_printf(o, l->same_mapping ? " [no remap]" : " [remap]");
	if (l->port_preserved)
		out_printf(o,
			   l->different_ip ? " [preserve port different IP]" : " [preserve port]");
	else
		out_printf(o, l->different_ip ? " [new port different IP]" : " [new port]");
	if (r->udp_ok && i == last_sent(in))
		out_printf(o, " [OK]");
}

size_t
natclass_probe_line(const struct natclass_input *in, const struct natclass_result *r, int i,
		    char *buf, size_t len)
{
	struct out o;

	out_init(&o, buf, len);
	if (i < 0 || i >= NATCLASS_PROBES || !in->probe[i].sent)
		return 0;
	probe_line(&o, in, r, i);
	return o.need;
}

/* The ports of the probes sent, for the firewall hint: "5959" or "5959 and 5960". */
static void
ports_phrase(struct out *o, const struct natclass_input *in)
{
	uint16_t ports[NATCLASS_PROBES];
	size_t n = 0;

	for (int i = 0; i < NATCLASS_PROBES; i++) {
		uint16_t pt = port_of(&in->probe[i].server);
		size_t k;

		if (!in->probe[i].sent || pt == 0)
			continue;
		for (k = 0; k < n && ports[k] != pt; k++)
			;
		if (k == n)
			ports[n++] = pt;
	}
	for (size_t k = 0; k < n; k++)
		out_printf(o, "%s%u", k == 0 ? "" : k + 1 == n ? " and " : ", ", ports[k]);
}

static void
summary_no_udp(struct out *o, const struct natclass_input *in)
{
	char sbuf[SOCKADDR_STRLEN];

	if (!in->probe[0].sent) {
		out_printf(o, "UDP was not tested: no STUN server address to send to.\n");
		return;
	}
	out_printf(o, "UDP is not working: no reply from %s; allow outgoing UDP to port ",
		   endpoint_str(&in->probe[0].server, sbuf, sizeof(sbuf)));
	ports_phrase(o, in);
	out_printf(o, " in your firewall.\n");
}

static void
summary_remap(struct out *o, const struct natclass_result *r)
{
	switch (r->mapping) {
	case NATCLASS_MAP_ENDPOINT_INDEPENDENT:
		out_printf(o, "This router doesn't remap new connections to new ports.\n");
		return;
	case NATCLASS_MAP_ADDRESS_PORT_DEPENDENT:
		out_printf(o, "This router remaps ports (symmetric NAT): direct connections may "
			      "fail; the relay will be used.\n");
		return;
	case NATCLASS_MAP_ADDRESS_DEPENDENT:
		out_printf(o, "This router remaps connections to each new address "
			      "(address-dependent mapping): direct connections may fail; the "
			      "relay will be used.\n");
		return;
	case NATCLASS_MAP_UNKNOWN:
	default:
		break;
	}
	if (r->remaps == 0)
		out_printf(o, "This router doesn't remap new connections to new ports.\n");
	else if (r->remaps == 1)
		out_printf(o, "This router remaps new connections to new ports: direct "
			      "connections may fail; the relay will be used.\n");
}

/* Say which probes went unanswered and what that leaves untested. */
static void
summary_missing(struct out *o, const struct natclass_input *in)
{
	static const char *const what[NATCLASS_PROBES] = {"", "its alternate port",
							  "its alternate address"};
	char sbuf[SOCKADDR_STRLEN];

	for (int i = 1; i < NATCLASS_PROBES; i++) {
		const struct natclass_probe *p = &in->probe[i];

		if (!p->sent && i == 2)
			out_printf(o, "The server has no alternate address: mapping across "
				      "addresses was not tested.\n");
		else if (!p->sent)
			out_printf(o, "The server has no alternate port: mapping across ports "
				      "was not tested.\n");
		else if (!p->replied)
			out_printf(o,
				   "No reply from %s (%s): mapping across %s was not tested; "
				   "the server may not offer it, or a firewall drops UDP to "
				   "port %u.\n",
				   endpoint_str(&p->server, sbuf, sizeof(sbuf)), what[i],
				   i == 1 ? "ports" : "addresses", port_of(&p->server));
	}
}

static void
summary(struct out *o, const struct natclass_input *in, const struct natclass_result *r)
{
	if (!r->udp_ok) {
		summary_no_udp(o, in);
		return;
	}
	if (r->no_nat) {
		out_printf(o, "This host has a public address (no NAT), this is optimal.\n");
	} else {
		if (r->port_preserved == 1)
			out_printf(o, "This router preserves ports, this is optimal.\n");
		else if (r->port_preserved == 0)
			out_printf(o, "This router does not preserve ports.\n");
		summary_remap(o, r);
	}
	summary_missing(o, in);
}

size_t
natclass_summary(const struct natclass_input *in, const struct natclass_result *r, char *buf,
		 size_t len)
{
	struct out o;

	out_init(&o, buf, len);
	summary(&o, in, r);
	return o.need;
}

size_t
natclass_format(const struct natclass_input *in, const struct natclass_result *r, char *buf,
		size_t len)
{
	struct out o;

	out_init(&o, buf, len);
	for (int i = 0; i < NATCLASS_PROBES; i++) {
		if (!in->probe[i].sent)
			continue;
		probe_line(&o, in, r, i);
		out_printf(&o, "\n");
	}
	summary(&o, in, r);
	return o.need;
}

int
natclass_print(FILE *f, const struct natclass_input *in, const struct natclass_result *r)
{
	size_t need = natclass_format(in, r, NULL, 0);
	char *buf = malloc(need + 1);
	int rc = 0;

	if (buf == NULL)
		return -1;
	natclass_format(in, r, buf, need + 1);
	if (fputs(buf, f) == EOF || fflush(f) == EOF)
		rc = -1;
	free(buf);
	return rc;
}
