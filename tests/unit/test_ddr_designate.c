/*
 * test_ddr_designate.c -- from a DDR answer or DNR instances to the DoT
 * connections to try (discovery/ddr/ddr_designate.c): priority order,
 * ports and hints, records that cannot be verified (TargetName ".", no
 * "dot"), RFC 9462 4.3's opportunistic rule (only a private resolver's own
 * address), and the descriptions handed to the DoT client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/ddr.h"

#define ALPN_DOT 0, 1, 0, 4, 3, 'd', 'o', 't'
#define ALPN_H2 0, 1, 0, 3, 2, 'h', '2'
#define PORT_8853 0, 3, 0, 2, 0x22, 0x95
#define V4HINT(a, b, c, d) 0, 4, 0, 4, a, b, c, d
#define V6HINT_DB8_53 0, 6, 0, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53
/* dns.example. and dot.example. */
#define DNS_EXAMPLE 3, 'd', 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0
#define DOT_EXAMPLE 3, 'd', 'o', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0

static struct ddr_query q;

static void add(const uint8_t *rdata, size_t len)
{
	assert_int_equal(ddr_svcb_parse(rdata, len, &q.rec[q.n]), 0);
	q.n++;
	q.total++;
	q.result = DDR_QUERY_OK;
}

static void sa4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
}

static void sa6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
}

static const char *text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
	snprintf(buf, len, "%s#%u", a,
		 ntohs(ss->ss_family == AF_INET ? sin->sin_port : sin6->sin6_port));
	return buf;
}

static int setup(void **state)
{
	(void)state;
	memset(&q, 0, sizeof(q));
	return 0;
}

static void test_priority_order_ports_hints(void **state)
{
	static const uint8_t r2[] = { 0, 2, DOT_EXAMPLE, ALPN_DOT, PORT_8853, V4HINT(192, 0, 2, 1) };
	static const uint8_t r1[] = { 0, 1, DNS_EXAMPLE, ALPN_DOT, V4HINT(192, 0, 2, 2),
				      V6HINT_DB8_53 };
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	struct sockaddr_storage res;
	char reason[160], b[64];

	(void)state;
	add(r2, sizeof(r2));
	add(r1, sizeof(r1));
	sa4(&res, "192.0.2.2", 53);
	assert_int_equal(ddr_designate_query(&q, &res, g, DDR_MAX_DESIGNATIONS, reason, sizeof(reason)), 2);
	assert_string_equal(g[0].adn, "dns.example");
	assert_int_equal(g[0].priority, 1);
	assert_int_equal(g[0].naddr, 2);
	assert_string_equal(text(&g[0].addr[0], b, sizeof(b)), "192.0.2.2#853");
	assert_string_equal(text(&g[0].addr[1], b, sizeof(b)), "2001:db8::53#853");
	assert_false(g[0].needs_resolution);
	/* same address as the resolver, but a public one: verified only */
	assert_false(g[0].opportunistic_ok);
	assert_string_equal(g[1].adn, "dot.example");
	assert_string_equal(text(&g[1].addr[0], b, sizeof(b)), "192.0.2.1#8853");
	assert_int_equal(g[0].origin, DDR_ORIGIN_DDR);
}

static void test_unverifiable_records_skipped(void **state)
{
	static const uint8_t h2[] = { 0, 1, DNS_EXAMPLE, ALPN_H2 };
	static const uint8_t root[] = { 0, 1, 0, ALPN_DOT, V4HINT(192, 0, 2, 1) };
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	struct sockaddr_storage res;
	char reason[160];

	(void)state;
	add(h2, sizeof(h2));
	add(root, sizeof(root));
	sa4(&res, "192.0.2.1", 53);
	assert_int_equal(ddr_designate_query(&q, &res, g, DDR_MAX_DESIGNATIONS, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "no DoT designation (1 record(s) without \"dot\" in alpn, "
				    "1 naming resolver.arpa itself)");
	q.n = 0;
	q.result = DDR_QUERY_UNREACHABLE;
	snprintf(q.reason, sizeof(q.reason), "no answer within 3000 ms");
	assert_int_equal(ddr_designate_query(&q, &res, g, DDR_MAX_DESIGNATIONS, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "no designation: unreachable: no answer within 3000 ms");
}

static void test_no_hints_needs_resolution(void **state)
{
	static const uint8_t r[] = { 0, 1, DNS_EXAMPLE, ALPN_DOT };
	struct ddr_designation g[1];
	struct ds_upstream_desc d;
	struct sockaddr_storage res;
	char reason[160];

	(void)state;
	add(r, sizeof(r));
	sa4(&res, "192.168.1.1", 53);
	assert_int_equal(ddr_designate_query(&q, &res, g, 1, reason, sizeof(reason)), 1);
	assert_true(g[0].needs_resolution);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ddr_designation_desc(&g[0], &res, false, &d), -ENOENT);
}

static void test_opportunistic_only_own_private_address(void **state)
{
	static const uint8_t r[] = { 0, 1, DNS_EXAMPLE, ALPN_DOT, V4HINT(192, 168, 1, 1) };
	static const uint8_t other[] = { 0, 1, DNS_EXAMPLE, ALPN_DOT, V4HINT(192, 168, 1, 2) };
	struct ddr_designation g[2];
	struct ds_upstream_desc d;
	struct sockaddr_storage res;
	char reason[160], b[64];

	(void)state;
	add(r, sizeof(r));
	sa4(&res, "192.168.1.1", 53);
	assert_int_equal(ddr_designate_query(&q, &res, g, 2, reason, sizeof(reason)), 1);
	assert_true(g[0].opportunistic_ok);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ddr_designation_desc(&g[0], &res, true, &d), 0);
	assert_int_equal(d.auth, DS_AUTH_OPPORTUNISTIC);
	assert_int_equal(d.naddr, 1);
	assert_string_equal(text(&d.addr[0], b, sizeof(b)), "192.168.1.1#853");
	assert_string_equal(d.name, "dns.example");
	/* verified: PKIX with the resolver's address to check */
	memset(&d, 0, sizeof(d));
	assert_int_equal(ddr_designation_desc(&g[0], &res, false, &d), 0);
	assert_int_equal(d.auth, DS_AUTH_PKIX);
	assert_int_equal(d.pkix_ip.ss_family, AF_INET);
	assert_string_equal(text(&d.pkix_ip, b, sizeof(b)), "192.168.1.1#53");
	/* another private address: not the resolver's own, so not opportunistic */
	memset(&q, 0, sizeof(q));
	add(other, sizeof(other));
	assert_int_equal(ddr_designate_query(&q, &res, g, 2, reason, sizeof(reason)), 1);
	assert_false(g[0].opportunistic_ok);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ddr_designation_desc(&g[0], &res, true, &d), -EPERM);
}

/* RFC 9463 4.1: priority 1, ADN resolver.example., 2001:db8::53, alpn dot
 * port 8853; then an ADN-only instance (priority 2) */
#define ADN 8, 'r', 'e', 's', 'o', 'l', 'v', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0
#define ADN_LEN 18
#define V6_53 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53
#define PARAMS_DOT 0x00, 0x01, 0x00, 0x04, 0x03, 'd', 'o', 't', 0x00, 0x03, 0x00, 0x02, 0x22, 0x95

static void test_dnr(void **state)
{
	static const uint8_t o[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53, PARAMS_DOT };
	static const uint8_t adn_only[] = { 0x00, 0x02, 0x00, ADN_LEN, ADN };
	struct ddr_designation g[4];
	struct ddr_dnr dnr, d2;
	struct ds_upstream_desc d;
	struct sockaddr_storage res;
	char reason[160], b[64];

	(void)state;
	assert_int_equal(ddr_dnr_parse_dhcp6(o, sizeof(o), &dnr), 1);
	assert_int_equal(ddr_dnr_parse_dhcp6(adn_only, sizeof(adn_only), &d2), 1);
	dnr.inst[dnr.n++] = d2.inst[0];
	assert_int_equal(ddr_designate_dnr(&dnr, g, 4, reason, sizeof(reason)), 2);
	assert_int_equal(g[0].origin, DDR_ORIGIN_DNR);
	assert_string_equal(g[0].adn, "resolver.example");
	assert_string_equal(text(&g[0].addr[0], b, sizeof(b)), "2001:db8::53#8853");
	assert_false(g[0].needs_resolution);
	assert_true(g[1].needs_resolution);
	sa6(&res, "fe80::1");
	memset(&d, 0, sizeof(d));
	assert_int_equal(ddr_designation_desc(&g[0], &res, false, &d), 0);
	assert_int_equal(d.auth, DS_AUTH_PKIX);
	/* DNR names the ADN only: no address to check in the certificate */
	assert_int_equal(d.pkix_ip.ss_family, 0);
	/* an RA instance whose lifetime ran out is no designation */
	dnr.n = 1;
	dnr.inst[0].has_lifetime = true;
	dnr.inst[0].lifetime = 0;
	assert_int_equal(ddr_designate_dnr(&dnr, g, 4, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "no DoT designation (0 instance(s) without \"dot\" in alpn, "
				    "1 expired, 0 malformed)");
}

static void test_private_addresses(void **state)
{
	static const struct {
		const char *a;
		bool priv;
	} v4[] = {
		{ "10.1.2.3", true },      { "172.16.0.1", true },  { "172.31.255.255", true },
		{ "172.32.0.1", false },   { "192.168.0.1", true }, { "100.64.0.1", true },
		{ "100.128.0.1", false },  { "169.254.1.1", true }, { "127.0.0.53", true },
		{ "8.8.8.8", false },      { "192.0.2.1", false },
	};
	static const struct {
		const char *a;
		bool priv;
	} v6[] = {
		{ "fd00::1", true }, { "fc00::1", true }, { "fe80::1", true }, { "::1", true },
		{ "::ffff:192.168.1.1", true }, { "::ffff:8.8.8.8", false }, { "2001:db8::1", false },
	};
	struct sockaddr_storage ss;

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		sa4(&ss, v4[i].a, 53);
		if (ddr_addr_is_private(&ss) != v4[i].priv)
			fail_msg("%s: want %d", v4[i].a, v4[i].priv);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		sa6(&ss, v6[i].a);
		if (ddr_addr_is_private(&ss) != v6[i].priv)
			fail_msg("%s: want %d", v6[i].a, v6[i].priv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_priority_order_ports_hints, setup),
		cmocka_unit_test_setup(test_unverifiable_records_skipped, setup),
		cmocka_unit_test_setup(test_no_hints_needs_resolution, setup),
		cmocka_unit_test_setup(test_opportunistic_only_own_private_address, setup),
		cmocka_unit_test_setup(test_dnr, setup),
		cmocka_unit_test_setup(test_private_addresses, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
