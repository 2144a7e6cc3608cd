/*
 * test_svcb.c -- SVCB/HTTPS RDATA and SvcParams (discovery/ddr/): the wire
 * test vectors of RFC 9460 Appendix D, the failure cases of D.3 in wire
 * form, and a malformed case for every rule of the parser.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/ddr.h"

/* foo.example.com. / foo.example.org. / example.com. in wire form */
#define FOO_COM 3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define FOO_ORG 3, 'f', 'o', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0
#define EX_COM 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0

/* Parse rdata, expect success and this presentation form. */
static void
expect_ok(const uint8_t *rdata, size_t len, const char *text, struct ddr_svcb *s)
{
	char out[1024];

	assert_int_equal(ddr_svcb_parse(rdata, len, s), 0);
	assert_string_equal(s->reason, "");
	assert_int_equal(ddr_svcb_format(s, out, sizeof(out)), 0);
	assert_string_equal(out, text);
}

/* Parse rdata, expect rejection with exactly this reason. */
static void
expect_bad(const uint8_t *rdata, size_t len, const char *reason)
{
	struct ddr_svcb s;

	assert_int_equal(ddr_svcb_parse(rdata, len, &s), -EBADMSG);
	assert_string_equal(s.reason, reason);
}

/* D.1: AliasMode */
static void
test_d1_alias(void **state)
{
	static const uint8_t v[] = { 0x00, 0x00, FOO_COM };
	struct ddr_svcb s;

	expect_ok(v, sizeof(v), "0 foo.example.com.", &s);
	assert_int_equal(s.priority, 0);
	assert_false(s.params_ignored);
	assert_int_equal(s.params.present, 0);
}

/* D.2: ServiceMode, "use the owner name" */
static void
test_d2_root_target(void **state)
{
	static const uint8_t v[] = { 0x00, 0x01, 0x00 };
	struct ddr_svcb s;

	expect_ok(v, sizeof(v), "1 .", &s);
	assert_int_equal(s.target_len, 1);
	assert_int_equal(s.params.port, DDR_PORT_DOT);
	assert_false(s.params.port_explicit);
}

/* D.2: only a port */
static void
test_d2_port(void **state)
{
	static const uint8_t v[] = { 0x00, 0x10, FOO_COM, 0x00, 0x03, 0x00, 0x02, 0x00, 0x35 };
	struct ddr_svcb s;

	expect_ok(v, sizeof(v), "16 foo.example.com. port=53", &s);
	assert_int_equal(s.priority, 16);
	assert_true(s.params.port_explicit);
	assert_int_equal(s.params.port, 53);
	assert_true(ddr_svc_has(&s.params, DDR_KEY_PORT));
}

/* D.2: an unregistered key, unquoted and with a decimal escape */
static void
test_d2_unknown_key(void **state)
{
	static const uint8_t v1[] = { 0x00, 0x01, FOO_COM, 0x02, 0x9b, 0x00, 0x05,
				      'h', 'e', 'l', 'l', 'o' };
	static const uint8_t v2[] = { 0x00, 0x01, FOO_COM, 0x02, 0x9b, 0x00, 0x09,
				      'h', 'e', 'l', 'l', 'o', 0xd2, 'q', 'o', 'o' };
	struct ddr_svcb s;

	expect_ok(v1, sizeof(v1), "1 foo.example.com. key667=\"hello\"", &s);
	assert_int_equal(s.params.n_unknown, 1);
	assert_int_equal(s.params.unknown[0].key, 667);
	assert_int_equal(s.params.unknown[0].len, 5);
	expect_ok(v2, sizeof(v2), "1 foo.example.com. key667=\"hello\\210qoo\"", &s);
}

/* D.2: two IPv6 hints, and one written as IPv4-mapped in the RFC */
static void
test_d2_ipv6hint(void **state)
{
	static const uint8_t v1[] = {
		0x00, 0x01, FOO_COM, 0x00, 0x06, 0x00, 0x20,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0, 0x01,
	};
	static const uint8_t v2[] = {
		0x00, 0x01, EX_COM, 0x00, 0x06, 0x00, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xc6, 0x33, 0x64, 0x64,
	};
	struct ddr_svcb s;

	expect_ok(v1, sizeof(v1), "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1", &s);
	assert_int_equal(s.params.n_ipv6hint, 2);
	/* 2001:db8:ffff:ffff:ffff:ffff:198.51.100.100 in the RFC's text */
	expect_ok(v2, sizeof(v2), "1 example.com. ipv6hint=2001:db8:ffff:ffff:ffff:ffff:c633:6464",
		  &s);
}

/* D.2: mandatory, alpn and ipv4hint, sorted on the wire */
static void
test_d2_mandatory(void **state)
{
	static const uint8_t v[] = {
		0x00, 0x10, FOO_ORG,
		0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x04,
		0x00, 0x01, 0x00, 0x09, 0x02, 'h', '2', 0x05, 'h', '3', '-', '1', '9',
		0x00, 0x04, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x01,
	};
	struct ddr_svcb s;

	expect_ok(v, sizeof(v),
		  "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" ipv4hint=192.0.2.1",
		  &s);
	assert_int_equal(s.params.n_mandatory, 2);
	assert_int_equal(s.params.mandatory[0], DDR_KEY_ALPN);
	assert_int_equal(s.params.mandatory[1], DDR_KEY_IPV4HINT);
	assert_int_equal(s.params.alpn, DDR_ALPN_H2 | DDR_ALPN_OTHER);
	assert_int_equal(s.params.n_alpn, 2);
	assert_int_equal(s.params.alpn_raw_len, 9);
	assert_memory_equal(s.params.alpn_raw, v + 31, 9);
	assert_int_equal(s.params.n_ipv4hint, 1);
	assert_int_equal(ntohl(s.params.ipv4hint[0].s_addr), 0xc0000201);
}

/* D.2: an alpn id holding a comma and a backslash */
static void
test_d2_alpn_escapes(void **state)
{
	static const uint8_t v[] = {
		0x00, 0x10, FOO_ORG, 0x00, 0x01, 0x00, 0x0c,
		0x08, 'f', '\\', 'o', 'o', ',', 'b', 'a', 'r', 0x02, 'h', '2',
	};
	struct ddr_svcb s;

	expect_ok(v, sizeof(v), "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"", &s);
	assert_int_equal(s.params.alpn, DDR_ALPN_H2 | DDR_ALPN_OTHER);
}

/* D.3 failure cases in wire form: duplicate key, missing values (empty
 * values), no-default-alpn with a value, a mandatory key missing,
 * mandatory listing itself, a key twice in mandatory. */
static void
test_d3_failures(void **state)
{
	static const uint8_t dup[] = { 0x00, 0x01, FOO_COM, 0x00, 0x7b, 0x00, 0x03, 'a', 'b', 'c',
				       0x00, 0x7b, 0x00, 0x03, 'd', 'e', 'f' };
	static const uint8_t mand_empty[] = { 0x00, 0x01, FOO_COM, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t alpn_empty[] = { 0x00, 0x01, FOO_COM, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t port_empty[] = { 0x00, 0x01, FOO_COM, 0x00, 0x03, 0x00, 0x00 };
	static const uint8_t v4_empty[] = { 0x00, 0x01, FOO_COM, 0x00, 0x04, 0x00, 0x00 };
	static const uint8_t v6_empty[] = { 0x00, 0x01, FOO_COM, 0x00, 0x06, 0x00, 0x00 };
	static const uint8_t nda_value[] = { 0x00, 0x01, FOO_COM, 0x00, 0x01, 0x00, 0x03,
					     0x02, 'h', '2', 0x00, 0x02, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint8_t mand_missing[] = { 0x00, 0x01, FOO_COM, 0x00, 0x00, 0x00, 0x02,
						0x00, 0x7b };
	static const uint8_t mand_self[] = { 0x00, 0x01, FOO_COM, 0x00, 0x00, 0x00, 0x02,
					     0x00, 0x00 };
	static const uint8_t mand_twice[] = { 0x00, 0x01, FOO_COM, 0x00, 0x00, 0x00, 0x04,
					      0x00, 0x7b, 0x00, 0x7b,
					      0x00, 0x7b, 0x00, 0x03, 'a', 'b', 'c' };

	expect_bad(dup, sizeof(dup), "duplicate key key123");
	expect_bad(mand_empty, sizeof(mand_empty), "mandatory is empty");
	expect_bad(alpn_empty, sizeof(alpn_empty), "alpn is empty");
	expect_bad(port_empty, sizeof(port_empty), "port length 0 is not 2");
	expect_bad(v4_empty, sizeof(v4_empty), "ipv4hint is empty");
	expect_bad(v6_empty, sizeof(v6_empty), "ipv6hint is empty");
	expect_bad(nda_value, sizeof(nda_value), "no-default-alpn length 3 is not 0");
	expect_bad(mand_missing, sizeof(mand_missing), "mandatory key key123 is missing");
	expect_bad(mand_self, sizeof(mand_self), "mandatory lists itself");
	expect_bad(mand_twice, sizeof(mand_twice), "mandatory lists key123 twice");
}

static void
test_framing(void **state)
{
	static const uint8_t empty[] = { 0 };
	static const uint8_t no_target[] = { 0x00, 0x01 };
	static const uint8_t bad_target[] = { 0x00, 0x01, 0x05, 'a', 'b' };
	static const uint8_t compressed[] = { 0x00, 0x01, 0xc0, 0x0c };
	static const uint8_t short_hdr[] = { 0x00, 0x01, 0x00, 0x00, 0x03, 0x00 };
	static const uint8_t overrun[] = { 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x35 };
	static const uint8_t order[] = { 0x00, 0x01, 0x00,
					 0x00, 0x04, 0x00, 0x04, 192, 0, 2, 1,
					 0x00, 0x03, 0x00, 0x02, 0x00, 0x35 };
	static const uint8_t invalid_key[] = { 0x00, 0x01, 0x00, 0xff, 0xff, 0x00, 0x00 };

	expect_bad(empty, 1, "RDATA too short (1 octets)");
	expect_bad(no_target, sizeof(no_target), "TargetName missing or malformed");
	expect_bad(bad_target, sizeof(bad_target), "TargetName missing or malformed");
	expect_bad(compressed, sizeof(compressed), "TargetName is compressed");
	expect_bad(short_hdr, sizeof(short_hdr), "SvcParam truncated (3 octets left)");
	expect_bad(overrun, sizeof(overrun), "port value length 4 runs past the end (2 octets left)");
	expect_bad(order, sizeof(order), "keys out of order: 3 after 4");
	expect_bad(invalid_key, sizeof(invalid_key), "key 65535 is reserved");
}

static void
test_values(void **state)
{
	static const uint8_t v4_5[] = { 0x00, 0x01, 0x00, 0x00, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t v6_17[] = { 0x00, 0x01, 0x00, 0x00, 0x06, 0x00, 0x11,
					 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2 };
	static const uint8_t port_3[] = { 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03, 0, 53, 0 };
	static const uint8_t alpn_zero_id[] = { 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x04,
						0x02, 'h', '2', 0x00 };
	static const uint8_t alpn_overrun[] = { 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x03,
						0x03, 'd', 'o' };
	static const uint8_t mand_odd[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0, 1, 0,
					    0x00, 0x01, 0x00, 0x04, 0x03, 'd', 'o', 't' };
	static const uint8_t mand_ech[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x05,
					    0x00, 0x05, 0x00, 0x02, 0xab, 0xcd };
	static const uint8_t mand_unknown[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x9b,
						0x02, 0x9b, 0x00, 0x00 };
	static const uint8_t mand_order[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x04,
					      0x00, 0x04, 0x00, 0x01,
					      0x00, 0x01, 0x00, 0x03, 0x02, 'h', '2',
					      0x00, 0x04, 0x00, 0x04, 192, 0, 2, 1 };
	static const uint8_t nda_alone[] = { 0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00 };
	static const uint8_t ddr[] = {
		0x00, 0x01, 3, 'd', 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		0x00, 0x01, 0x00, 0x08, 0x03, 'd', 'o', 't', 0x03, 'd', 'o', 'q',
		0x00, 0x02, 0x00, 0x00,
		0x00, 0x03, 0x00, 0x02, 0x21, 0x95,
		0x00, 0x04, 0x00, 0x08, 192, 0, 2, 53, 192, 0, 2, 54,
		0x00, 0x05, 0x00, 0x03, 1, 2, 3,
		0x00, 0x07, 0x00, 0x10, '/', 'd', 'n', 's', '-', 'q', 'u', 'e', 'r', 'y', '{', '?',
		'd', 'n', 's', '}',
	};
	struct ddr_svcb s;

	expect_bad(v4_5, sizeof(v4_5), "ipv4hint length 5 is not a multiple of 4");
	expect_bad(v6_17, sizeof(v6_17), "ipv6hint length 17 is not a multiple of 16");
	expect_bad(port_3, sizeof(port_3), "port length 3 is not 2");
	expect_bad(alpn_zero_id, sizeof(alpn_zero_id), "alpn id 2 is empty");
	expect_bad(alpn_overrun, sizeof(alpn_overrun), "alpn id 1 runs past the end");
	expect_bad(mand_odd, sizeof(mand_odd), "mandatory length 3 is not a multiple of 2");
	expect_bad(mand_ech, sizeof(mand_ech), "mandatory key ech is not supported");
	expect_bad(mand_unknown, sizeof(mand_unknown), "mandatory key key667 is not supported");
	expect_bad(mand_order, sizeof(mand_order),
		   "mandatory keys out of order: alpn after ipv4hint");
	expect_bad(nda_alone, sizeof(nda_alone), "no-default-alpn without alpn");

	/* what a DDR resolver publishes: every known key at once */
	expect_ok(ddr, sizeof(ddr),
		  "1 dns.example.net. alpn=\"dot,doq\" no-default-alpn port=8597 "
		  "ipv4hint=192.0.2.53,192.0.2.54 ech=(3 octets) dohpath=\"/dns-query{?dns}\"",
		  &s);
	assert_int_equal(s.params.alpn, DDR_ALPN_DOT | DDR_ALPN_DOQ);
	assert_true(s.params.no_default_alpn);
	assert_int_equal(s.params.port, 8597);
	assert_int_equal(s.params.n_ipv4hint, 2);
	assert_int_equal(s.params.ech_len, 3);
	assert_int_equal(s.params.dohpath_len, 16);
}

/* AliasMode: SvcParams are ignored, not parsed (RFC 9460 2.4.2) */
static void
test_alias_params_ignored(void **state)
{
	static const uint8_t v[] = { 0x00, 0x00, FOO_COM, 0xff, 0xff, 0x00 };
	struct ddr_svcb s;

	expect_ok(v, sizeof(v), "0 foo.example.com.", &s);
	assert_true(s.params_ignored);
	assert_int_equal(s.params.present, 0);
}

/* More hints than kept, a long unknown value, the output buffer too small */
static void
test_limits(void **state)
{
	uint8_t v[2 + 1 + 4 + 4 * 12 + 4 + 100];
	struct ddr_svcb s;
	char out[512];
	size_t n = 0, i;

	v[n++] = 0;
	v[n++] = 1;
	v[n++] = 0;
	v[n++] = 0x00, v[n++] = 0x04, v[n++] = 0, v[n++] = 4 * 12;
	for (i = 0; i < 12; i++) {
		v[n++] = 10, v[n++] = 0, v[n++] = 0, v[n++] = (uint8_t)(i + 1);
	}
	v[n++] = 0x10, v[n++] = 0x00, v[n++] = 0, v[n++] = 100;
	memset(v + n, 'x', 100);
	n += 100;
	assert_int_equal(ddr_svcb_parse(v, n, &s), 0);
	assert_int_equal(s.params.n_ipv4hint, DDR_MAX_HINTS);
	assert_int_equal(s.params.total_ipv4hint, 12);
	assert_int_equal(ddr_svcb_format(&s, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "ipv4hint=10.0.0.1,10.0.0.2,"));
	assert_non_null(strstr(out, ",10.0.0.8,(4 more) "));
	assert_non_null(strstr(out, "key4096=(100 octets)"));
	assert_int_equal(ddr_svcb_format(&s, out, 20), -ENOSPC);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_d1_alias),
		cmocka_unit_test(test_d2_root_target),
		cmocka_unit_test(test_d2_port),
		cmocka_unit_test(test_d2_unknown_key),
		cmocka_unit_test(test_d2_ipv6hint),
		cmocka_unit_test(test_d2_mandatory),
		cmocka_unit_test(test_d2_alpn_escapes),
		cmocka_unit_test(test_d3_failures),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_alias_params_ignored),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
