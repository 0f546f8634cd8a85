/* Tests for common/natclass: every mapping case and the exact lines printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/natclass.h"
#include "common/util.h"
#include "tests/unit/helper_test.h"

#define SRV1 "198.51.100.1"
#define SRV2 "198.51.100.2"
#define MIP  "203.0.113.7" /* the mapped address most probes report */

/* Probe i sent to sip:sport; mip NULL means no reply. */
static void
probe(struct natclass_input *in, int i, const char *sip, uint16_t sport, const char *mip,
      uint16_t mport)
{
	struct natclass_probe *p = &in->probe[i];

	p->sent = 1;
	p->server = th_addr(sip, sport);
	p->replied = mip != NULL;
	if (mip != NULL)
		p->mapped = th_addr(mip, mport);
}

static void
input(struct natclass_input *in, uint16_t local_port)
{
	memset(in, 0, sizeof(*in));
	in->local_port = local_port;
}

/* The three usual probes sent from local_port: to the primary (SRV1:5959),
 * its alternate port (SRV1:5960) and the alternate address (SRV2:5960), each
 * answered with the mapped address MIP and port m0, m1 or m2; then classified. */
static void
classify_three(struct natclass_input *in, struct natclass_result *r, uint16_t local_port,
	       uint16_t m0, uint16_t m1, uint16_t m2)
{
	input(in, local_port);
	probe(in, 0, SRV1, 5959, MIP, m0);
	probe(in, 1, SRV1, 5960, MIP, m1);
	probe(in, 2, SRV2, 5960, MIP, m2);
	natclass_classify(in, r);
}

/* The whole text natclass_format gives, checked against natclass_print too. */
static char *
format(const struct natclass_input *in, const struct natclass_result *r)
{
	size_t need = natclass_format(in, r, NULL, 0);
	char *buf = malloc(need + 1);
	char *printed = NULL;
	size_t plen = 0;
	FILE *f;

	assert_non_null(buf);
	assert_int_equal(natclass_format(in, r, buf, need + 1), need);
	assert_int_equal(strlen(buf), need);
	f = open_memstream(&printed, &plen);
	assert_non_null(f);
	assert_int_equal(natclass_print(f, in, r), 0);
	fclose(f);
	assert_string_equal(printed, buf);
	free(printed);
	return buf;
}

static void
assert_text(const struct natclass_input *in, const struct natclass_result *r, const char *want)
{
	char *got = format(in, r);

	assert_string_equal(got, want);
	free(got);
}

/* The summary lines alone. */
static void
assert_summary(const struct natclass_input *in, const struct natclass_result *r, const char *want)
{
	char buf[1024];

	natclass_summary(in, r, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* The seed's output: a port-preserving, endpoint-independent router. */
static void
test_preserving_endpoint_independent(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	classify_three(&in, &r, 59612, 59612, 59612, 59612);
	assert_true(r.udp_ok);
	assert_false(r.no_nat);
	assert_int_equal(r.mapping, NATCLASS_MAP_ENDPOINT_INDEPENDENT);
	assert_int_equal(r.port_preserved, 1);
	assert_int_equal(r.remaps, 0);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=59612 mport=59612] "
		    "[preserve port]\n"
		    "Send to [198.51.100.1:5960] [mip=203.0.113.7] [oport=59612 mport=59612] "
		    "[no remap] [preserve port]\n"
		    "Send to [198.51.100.2:5960] [mip=203.0.113.7] [oport=59612 mport=59612] "
		    "[no remap] [preserve port different IP] [OK]\n"
		    "This router preserves ports, this is optimal.\n"
		    "This router doesn't remap new connections to new ports.\n");
}

static void
test_symmetric(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	classify_three(&in, &r, 40000, 1024, 1025, 1026);
	assert_int_equal(r.mapping, NATCLASS_MAP_ADDRESS_PORT_DEPENDENT);
	assert_int_equal(r.port_preserved, 0);
	assert_int_equal(r.remaps, 1);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=40000 mport=1024] "
		    "[new port]\n"
		    "Send to [198.51.100.1:5960] [mip=203.0.113.7] [oport=40000 mport=1025] "
		    "[remap] [new port]\n"
		    "Send to [198.51.100.2:5960] [mip=203.0.113.7] [oport=40000 mport=1026] "
		    "[remap] [new port different IP] [OK]\n"
		    "This router does not preserve ports.\n"
		    "This router remaps ports (symmetric NAT): direct connections may fail; the "
		    "relay will be used.\n");
}

/* The first mapping keeps the port, the next destination gets a new one:
 * still symmetric, and ports are not (reliably) preserved. */
static void
test_symmetric_first_port_kept(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	probe(&in, 1, SRV1, 5960, MIP, 40001);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_ADDRESS_PORT_DEPENDENT);
	assert_int_equal(r.port_preserved, 0);
	assert_true(r.line[0].port_preserved);
	assert_false(r.line[1].port_preserved);
	assert_false(r.line[1].same_mapping);
}

/* A pool NAT that changes the public IP, not the port, is remapping too. */
static void
test_remap_by_ip(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	probe(&in, 1, SRV1, 5960, "203.0.113.8", 40000);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_ADDRESS_PORT_DEPENDENT);
	assert_int_equal(r.port_preserved, 1);
	assert_false(r.line[1].same_mapping);
}

static void
test_endpoint_independent_new_port(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	classify_three(&in, &r, 50000, 61000, 61000, 61000);
	assert_int_equal(r.mapping, NATCLASS_MAP_ENDPOINT_INDEPENDENT);
	assert_int_equal(r.port_preserved, 0);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=50000 mport=61000] "
		    "[new port]\n"
		    "Send to [198.51.100.1:5960] [mip=203.0.113.7] [oport=50000 mport=61000] "
		    "[no remap] [new port]\n"
		    "Send to [198.51.100.2:5960] [mip=203.0.113.7] [oport=50000 mport=61000] "
		    "[no remap] [new port different IP] [OK]\n"
		    "This router does not preserve ports.\n"
		    "This router doesn't remap new connections to new ports.\n");
}

static void
test_address_dependent(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	classify_three(&in, &r, 40000, 40000, 40000, 40002);
	assert_int_equal(r.mapping, NATCLASS_MAP_ADDRESS_DEPENDENT);
	assert_int_equal(r.remaps, 1);
	assert_int_equal(r.port_preserved, 0);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[preserve port]\n"
		    "Send to [198.51.100.1:5960] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[no remap] [preserve port]\n"
		    "Send to [198.51.100.2:5960] [mip=203.0.113.7] [oport=40000 mport=40002] "
		    "[remap] [new port different IP] [OK]\n"
		    "This router does not preserve ports.\n"
		    "This router remaps connections to each new address (address-dependent "
		    "mapping): direct connections may fail; the relay will be used.\n");
}

static void
test_no_udp(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, NULL, 0);
	probe(&in, 1, SRV1, 5960, NULL, 0);
	natclass_classify(&in, &r);
	assert_false(r.udp_ok);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	assert_int_equal(r.port_preserved, -1);
	assert_int_equal(r.remaps, -1);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [no reply]\n"
		    "Send to [198.51.100.1:5960] [no reply]\n"
		    "UDP is not working: no reply from 198.51.100.1:5959; allow outgoing UDP to "
		    "port 5959 and 5960 in your firewall.\n");

	/* Only the primary tried. */
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, NULL, 0);
	natclass_classify(&in, &r);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [no reply]\n"
		    "UDP is not working: no reply from 198.51.100.1:5959; allow outgoing UDP to "
		    "port 5959 in your firewall.\n");

	/* Nothing tried at all. */
	input(&in, 40000);
	natclass_classify(&in, &r);
	assert_false(r.udp_ok);
	assert_text(&in, &r, "UDP was not tested: no STUN server address to send to.\n");
}

/* Later probes answered but not the first: UDP is not counted as working,
 * and the answered lines still tell the truth about their ports. */
static void
test_first_probe_lost(void **state)
{
	struct natclass_input in;
	struct natclass_result r;
	char line[200];

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, NULL, 0);
	probe(&in, 1, SRV1, 5960, MIP, 40000);
	natclass_classify(&in, &r);
	assert_false(r.udp_ok);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	natclass_probe_line(&in, &r, 1, line, sizeof(line));
	assert_string_equal(line, "Send to [198.51.100.1:5960] [mip=203.0.113.7] "
				  "[oport=40000 mport=40000] [preserve port]");
}

static void
test_only_primary(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	natclass_classify(&in, &r);
	assert_true(r.udp_ok);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	assert_int_equal(r.remaps, -1);
	assert_int_equal(r.port_preserved, 1);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[preserve port] [OK]\n"
		    "This router preserves ports, this is optimal.\n"
		    "The server has no alternate port: mapping across ports was not tested.\n"
		    "The server has no alternate address: mapping across addresses was not "
		    "tested.\n");
}

/* Same mapping for another port, no alternate address: not symmetric, but
 * address dependence is untested, so the mapping stays unknown. */
static void
test_port_only(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	probe(&in, 1, SRV1, 5960, MIP, 40000);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	assert_int_equal(r.remaps, 0);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[preserve port]\n"
		    "Send to [198.51.100.1:5960] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[no remap] [preserve port] [OK]\n"
		    "This router preserves ports, this is optimal.\n"
		    "This router doesn't remap new connections to new ports.\n"
		    "The server has no alternate address: mapping across addresses was not "
		    "tested.\n");
}

static void
test_alternate_port_silent(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	/* Probe 2 keeps the mapping: endpoint-independent even without probe 1. */
	input(&in, 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	probe(&in, 1, SRV1, 5960, NULL, 0);
	probe(&in, 2, SRV2, 5960, MIP, 40000);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_ENDPOINT_INDEPENDENT);
	assert_int_equal(r.remaps, 0);
	assert_text(&in, &r,
		    "Send to [198.51.100.1:5959] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[preserve port]\n"
		    "Send to [198.51.100.1:5960] [no reply]\n"
		    "Send to [198.51.100.2:5960] [mip=203.0.113.7] [oport=40000 mport=40000] "
		    "[no remap] [preserve port different IP] [OK]\n"
		    "This router preserves ports, this is optimal.\n"
		    "This router doesn't remap new connections to new ports.\n"
		    "No reply from 198.51.100.1:5960 (its alternate port): mapping across ports "
		    "was not tested; the server may not offer it, or a firewall drops UDP to "
		    "port 5960.\n");

	/* Probe 2 changes the mapping: remapping, kind unknown. */
	probe(&in, 2, SRV2, 5960, MIP, 40009);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	assert_int_equal(r.remaps, 1);
	assert_summary(&in, &r,
		       "This router does not preserve ports.\n"
		       "This router remaps new connections to new ports: direct connections "
		       "may fail; the relay will be used.\n"
		       "No reply from 198.51.100.1:5960 (its alternate port): mapping across "
		       "ports was not tested; the server may not offer it, or a firewall drops "
		       "UDP to port 5960.\n");

	/* Neither alternate answers. */
	probe(&in, 2, SRV2, 5960, NULL, 0);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_UNKNOWN);
	assert_int_equal(r.remaps, -1);
	{
		char buf[1024];

		natclass_summary(&in, &r, buf, sizeof(buf));
		assert_non_null(strstr(buf, "(its alternate address): mapping across addresses "
					    "was not tested"));
		assert_null(strstr(buf, "remap"));
	}
}

static void
test_no_nat(void **state)
{
	struct natclass_input in;
	struct natclass_result r;

	(void)state;
	input(&in, 40000);
	in.local = th_addr("203.0.113.7", 40000);
	probe(&in, 0, SRV1, 5959, MIP, 40000);
	probe(&in, 1, SRV1, 5960, MIP, 40000);
	probe(&in, 2, SRV2, 5960, MIP, 40000);
	natclass_classify(&in, &r);
	assert_true(r.no_nat);
	assert_int_equal(r.mapping, NATCLASS_MAP_ENDPOINT_INDEPENDENT);
	assert_summary(&in, &r, "This host has a public address (no NAT), this is optimal.\n");
	/* A wildcard local address says nothing. */
	in.local = th_addr("0.0.0.0", 40000);
	natclass_classify(&in, &r);
	assert_false(r.no_nat);
	/* A private local address behind a NAT. */
	in.local = th_addr("192.0.2.10", 40000);
	natclass_classify(&in, &r);
	assert_false(r.no_nat);
}

static void
test_ipv6(void **state)
{
	struct natclass_input in;
	struct natclass_result r;
	char line[200];

	(void)state;
	input(&in, 40000);
	probe(&in, 0, "2001:db8::1", 5959, "2001:db8:ffff::7", 40000);
	probe(&in, 1, "2001:db8::1", 5960, "2001:db8:ffff::7", 40000);
	probe(&in, 2, "2001:db8::2", 5960, "2001:db8:ffff::7", 40000);
	natclass_classify(&in, &r);
	assert_int_equal(r.mapping, NATCLASS_MAP_ENDPOINT_INDEPENDENT);
	assert_true(r.line[2].different_ip);
	natclass_probe_line(&in, &r, 0, line, sizeof(line));
	assert_string_equal(line, "Send to [[2001:db8::1]:5959] [mip=2001:db8:ffff::7] "
				  "[oport=40000 mport=40000] [preserve port]");
}

static void
test_buffers(void **state)
{
	struct natclass_input in;
	struct natclass_result r;
	char *full;
	size_t need;

	(void)state;
	classify_three(&in, &r, 59612, 59612, 59612, 59612);
	full = format(&in, &r);
	need = strlen(full);
	/* Every smaller buffer gets a NUL-terminated prefix and the full length. */
	for (size_t len = 1; len <= need; len++) {
		char *b = malloc(len);

		assert_non_null(b);
		assert_int_equal(natclass_format(&in, &r, b, len), need);
		assert_int_equal(strlen(b), len - 1);
		assert_memory_equal(b, full, len - 1);
		free(b);
	}
	assert_int_equal(natclass_format(&in, &r, NULL, 0), need);
	free(full);

	/* Probe lines: out of range or not sent gives nothing. */
	{
		char line[8] = "x";

		assert_int_equal(natclass_probe_line(&in, &r, -1, line, sizeof(line)), 0);
		assert_int_equal(natclass_probe_line(&in, &r, NATCLASS_PROBES, line, sizeof(line)),
				 0);
		assert_string_equal(line, "");
		in.probe[2].sent = 0;
		assert_int_equal(natclass_probe_line(&in, &r, 2, line, sizeof(line)), 0);
		assert_true(natclass_probe_line(&in, &r, 0, line, sizeof(line)) > sizeof(line));
		assert_string_equal(line, "Send to");
	}
}

static void
test_mapping_names(void **state)
{
	(void)state;
	assert_string_equal(natclass_mapping_name(NATCLASS_MAP_UNKNOWN), "unknown");
	assert_string_equal(natclass_mapping_name(NATCLASS_MAP_ENDPOINT_INDEPENDENT),
			    "endpoint-independent");
	assert_string_equal(natclass_mapping_name(NATCLASS_MAP_ADDRESS_DEPENDENT),
			    "address-dependent");
	assert_string_equal(natclass_mapping_name(NATCLASS_MAP_ADDRESS_PORT_DEPENDENT),
			    "address-and-port-dependent");
	assert_string_equal(natclass_mapping_name((enum natclass_mapping)42), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preserving_endpoint_independent),
	    cmocka_unit_test(test_symmetric),
	    cmocka_unit_test(test_symmetric_first_port_kept),
	    cmocka_unit_test(test_remap_by_ip),
	    cmocka_unit_test(test_endpoint_independent_new_port),
	    cmocka_unit_test(test_address_dependent),
	    cmocka_unit_test(test_no_udp),
	    cmocka_unit_test(test_first_probe_lost),
	    cmocka_unit_test(test_only_primary),
	    cmocka_unit_test(test_port_only),
	    cmocka_unit_test(test_alternate_port_silent),
	    cmocka_unit_test(test_no_nat),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_buffers),
	    cmocka_unit_test(test_mapping_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
