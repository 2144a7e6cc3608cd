/*
 * test_dnr.c -- the Encrypted DNS options of RFC 9463 (discovery/ddr/):
 * DHCPv6 option 144, DHCPv4 option 162 with several instances, the RA
 * option 144; ADN-only mode; every malformed field; addresses a client
 * must not use; the SvcParams rules of DNR (alpn required, no hints).
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

/* resolver.example. in wire form: 18 octets */
#define ADN 8, 'r', 'e', 's', 'o', 'l', 'v', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0
#define ADN_LEN 18
/* alpn=dot port=8853: 14 octets */
#define PARAMS_DOT 0x00, 0x01, 0x00, 0x04, 0x03, 'd', 'o', 't', 0x00, 0x03, 0x00, 0x02, 0x22, 0x95
#define PARAMS_DOT_LEN 14
#define V6_53 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53

/* ---- a small builder for options that differ in one field ---- */
struct opt {
	uint8_t b[1024];
	size_t n;
};

static void
put(struct opt *o, const void *p, size_t len)
{
	assert_true(o->n + len <= sizeof(o->b));
	memcpy(o->b + o->n, p, len);
	o->n += len;
}

static void
put16(struct opt *o, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(o, b, 2);
}

static void
put8(struct opt *o, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(o, &b, 1);
}

/* One DHCPv4 DNR instance: its length, then the fields. */
static void
put_v4_instance(struct opt *o, unsigned prio, const uint8_t *adn, size_t adnlen,
		const uint8_t *addrs, size_t addrlen, const uint8_t *params, size_t plen,
		bool adn_only)
{
	size_t ilen = 2 + 1 + adnlen + (adn_only ? 0 : 1 + addrlen + plen);

	put16(o, (unsigned)ilen);
	put16(o, prio);
	put8(o, (unsigned)adnlen);
	put(o, adn, adnlen);
	if (adn_only)
		return;
	put8(o, (unsigned)addrlen);
	put(o, addrs, addrlen);
	put(o, params, plen);
}

static const uint8_t adn[] = { ADN };
static const uint8_t params_dot[] = { PARAMS_DOT };

static void
expect_one_bad(const struct ddr_dnr *d, unsigned index, const char *reason)
{
	assert_int_equal(d->n, 0);
	assert_int_equal(d->nbad, 1);
	assert_int_equal(d->bad[0].index, index);
	assert_string_equal(d->bad[0].reason, reason);
}

/* ---- DHCPv6 ---- */
static void
test_dhcp6_valid(void **state)
{
	static const uint8_t o[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53, PARAMS_DOT };
	struct ddr_dnr d;
	char out[512];

	assert_int_equal(ddr_dnr_parse_dhcp6(o, sizeof(o), &d), 1);
	assert_int_equal(d.source, DDR_DNR_DHCP6);
	assert_int_equal(d.total, 1);
	assert_int_equal(d.nbad, 0);
	assert_int_equal(d.inst[0].index, 1);
	assert_int_equal(d.inst[0].priority, 1);
	assert_int_equal(d.inst[0].family, AF_INET6);
	assert_int_equal(d.inst[0].naddr, 1);
	assert_false(d.inst[0].adn_only);
	assert_int_equal(d.inst[0].lifetime, DDR_DNR_LIFETIME_INFINITE);
	assert_int_equal(d.inst[0].params.alpn, DDR_ALPN_DOT);
	assert_int_equal(d.inst[0].params.port, 8853);
	assert_int_equal(ddr_dnr_format(&d.inst[0], out, sizeof(out)), 0);
	assert_string_equal(out, "1 resolver.example. 2001:db8::53 alpn=\"dot\" port=8853");
}

/* RFC 9463 3.1.6: only the ADN */
static void
test_dhcp6_adn_only(void **state)
{
	static const uint8_t o[] = { 0x00, 0x02, 0x00, ADN_LEN, ADN };
	struct ddr_dnr d;
	char out[512];

	assert_int_equal(ddr_dnr_parse_dhcp6(o, sizeof(o), &d), 1);
	assert_true(d.inst[0].adn_only);
	assert_int_equal(d.inst[0].naddr, 0);
	assert_int_equal(d.inst[0].params.present, 0);
	assert_int_equal(ddr_dnr_format(&d.inst[0], out, sizeof(out)), 0);
	assert_string_equal(out, "2 resolver.example. -");
}

static void
test_dhcp6_malformed(void **state)
{
	static const uint8_t short_hdr[] = { 0x00, 0x01, 0x00 };
	static const uint8_t prio0[] = { 0x00, 0x00, 0x00, ADN_LEN, ADN };
	static const uint8_t adn_empty[] = { 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t adn_overrun[] = { 0x00, 0x01, 0x00, 0x28, ADN };
	static const uint8_t adn_root[] = { 0x00, 0x01, 0x00, 0x01, 0x00 };
	static const uint8_t adn_bad[] = { 0x00, 0x01, 0x00, 0x03, 0x05, 'a', 'b' };
	static const uint8_t adn_short[] = { 0x00, 0x01, 0x00, 0x03, 0x01, 'a', 0x00, 0x00 };
	static const uint8_t adn_compressed[] = { 0x00, 0x01, 0x00, 0x02, 0xc0, 0x0c };
	static const uint8_t adn_not_fqdn[] = { 0x00, 0x01, 0x00, 0x02, 0x01, 'a' };
	static const uint8_t addrlen_cut[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00 };
	static const uint8_t addr_none[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x00, PARAMS_DOT };
	static const uint8_t addr_17[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x11, V6_53, 0x01 };
	static const uint8_t addr_overrun[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x20, V6_53 };
	static const uint8_t no_alpn[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53,
					   0x00, 0x03, 0x00, 0x02, 0x22, 0x95 };
	static const uint8_t no_params[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53 };
	static const uint8_t hint[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53,
					0x00, 0x01, 0x00, 0x04, 0x03, 'd', 'o', 't',
					0x00, 0x06, 0x00, 0x10, V6_53 };
	static const uint8_t bad_params[] = { 0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x10, V6_53,
					      0x00, 0x03, 0x00, 0x02, 0x22, 0x95,
					      0x00, 0x01, 0x00, 0x04, 0x03, 'd', 'o', 't' };
	struct ddr_dnr d;

	assert_int_equal(ddr_dnr_parse_dhcp6(short_hdr, sizeof(short_hdr), &d), 0);
	expect_one_bad(&d, 1, "instance 1: too short (3 octets)");
	ddr_dnr_parse_dhcp6(prio0, sizeof(prio0), &d);
	expect_one_bad(&d, 1, "instance 1: Service Priority 0 is not allowed");
	ddr_dnr_parse_dhcp6(adn_empty, sizeof(adn_empty), &d);
	expect_one_bad(&d, 1, "instance 1: ADN is empty");
	ddr_dnr_parse_dhcp6(adn_overrun, sizeof(adn_overrun), &d);
	expect_one_bad(&d, 1, "instance 1: ADN Length 40 runs past the end (18 octets left)");
	ddr_dnr_parse_dhcp6(adn_root, sizeof(adn_root), &d);
	expect_one_bad(&d, 1, "instance 1: ADN is the root");
	ddr_dnr_parse_dhcp6(adn_bad, sizeof(adn_bad), &d);
	expect_one_bad(&d, 1, "instance 1: ADN is not a valid uncompressed domain name");
	ddr_dnr_parse_dhcp6(adn_short, sizeof(adn_short), &d);
	expect_one_bad(&d, 1, "instance 1: Addr Length truncated");
	ddr_dnr_parse_dhcp6(adn_compressed, sizeof(adn_compressed), &d);
	expect_one_bad(&d, 1, "instance 1: ADN is not a valid uncompressed domain name");
	ddr_dnr_parse_dhcp6(adn_not_fqdn, sizeof(adn_not_fqdn), &d);
	expect_one_bad(&d, 1, "instance 1: ADN is not a valid uncompressed domain name");
	ddr_dnr_parse_dhcp6(addrlen_cut, sizeof(addrlen_cut), &d);
	expect_one_bad(&d, 1, "instance 1: Addr Length truncated");
	ddr_dnr_parse_dhcp6(addr_none, sizeof(addr_none), &d);
	expect_one_bad(&d, 1, "instance 1: no address (Addr Length 0)");
	ddr_dnr_parse_dhcp6(addr_17, sizeof(addr_17), &d);
	expect_one_bad(&d, 1, "instance 1: Addr Length 17 is not a multiple of 16");
	ddr_dnr_parse_dhcp6(addr_overrun, sizeof(addr_overrun), &d);
	expect_one_bad(&d, 1, "instance 1: Addr Length 32 runs past the end (16 octets left)");
	ddr_dnr_parse_dhcp6(no_alpn, sizeof(no_alpn), &d);
	expect_one_bad(&d, 1, "instance 1: alpn is missing");
	ddr_dnr_parse_dhcp6(no_params, sizeof(no_params), &d);
	expect_one_bad(&d, 1, "instance 1: alpn is missing");
	ddr_dnr_parse_dhcp6(hint, sizeof(hint), &d);
	expect_one_bad(&d, 1, "instance 1: ipv6hint is not allowed in DNR");
	ddr_dnr_parse_dhcp6(bad_params, sizeof(bad_params), &d);
	expect_one_bad(&d, 1, "instance 1: SvcParams: keys out of order: 1 after 3");
}

/* RFC 9463 4.2/5.2: multicast and loopback addresses are discarded (and,
 * as no resolver can be reached there, unspecified ones); the instance
 * stays if one usable address is left. */
static void
test_dhcp6_addresses(void **state)
{
	static const uint8_t o[] = {
		0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x50,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,                  /* ::1 */
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,            /* ff02::1 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                  /* :: */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1,          /* ::ffff:127.0.0.1 */
		V6_53, PARAMS_DOT,
	};
	static const uint8_t none[] = {
		0x00, 0x01, 0x00, ADN_LEN, ADN, 0x00, 0x20,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
		PARAMS_DOT,
	};
	struct ddr_dnr d;

	assert_int_equal(ddr_dnr_parse_dhcp6(o, sizeof(o), &d), 1);
	assert_int_equal(d.inst[0].naddr, 1);
	assert_int_equal(d.inst[0].ndiscarded, 4);
	assert_int_equal(d.inst[0].addr6[0].s6_addr[15], 0x53);
	assert_string_equal(d.inst[0].note, "discarded ::1 (loopback) and 3 more");

	ddr_dnr_parse_dhcp6(none, sizeof(none), &d);
	expect_one_bad(&d, 1, "instance 1: no usable address (discarded ::1 (loopback) and 1 more)");
}

/* ---- DHCPv4 ---- */
static void
test_dhcp4_instances(void **state)
{
	static const uint8_t a1[] = { 192, 0, 2, 53, 192, 0, 2, 54 };
	static const uint8_t a5[] = { 192, 0, 2, 53, 1 };
	struct opt o = { .n = 0 };
	struct ddr_dnr d;
	char out[512];

	put_v4_instance(&o, 10, adn, sizeof(adn), a1, sizeof(a1), params_dot, sizeof(params_dot),
			false);
	put_v4_instance(&o, 20, adn, sizeof(adn), a5, sizeof(a5), params_dot, sizeof(params_dot),
			false);
	put_v4_instance(&o, 30, adn, sizeof(adn), NULL, 0, NULL, 0, true);
	assert_int_equal(ddr_dnr_parse_dhcp4(o.b, o.n, &d), 2);
	assert_int_equal(d.source, DDR_DNR_DHCP4);
	assert_int_equal(d.total, 3);
	assert_int_equal(d.inst[0].index, 1);
	assert_int_equal(d.inst[0].family, AF_INET);
	assert_int_equal(d.inst[0].naddr, 2);
	assert_int_equal(ddr_dnr_format(&d.inst[0], out, sizeof(out)), 0);
	assert_string_equal(out, "10 resolver.example. 192.0.2.53,192.0.2.54 alpn=\"dot\" port=8853");
	assert_int_equal(d.inst[1].index, 3);
	assert_true(d.inst[1].adn_only);
	assert_int_equal(d.inst[1].priority, 30);
	assert_int_equal(d.nbad, 1);
	assert_int_equal(d.bad[0].index, 2);
	assert_string_equal(d.bad[0].reason, "instance 2: Addr Length 5 is not a multiple of 4");
}

static void
test_dhcp4_framing(void **state)
{
	static const uint8_t a1[] = { 192, 0, 2, 53 };
	static const uint8_t lost[] = { 0x00, 0x32, 0x00, 0x01, 0x05, 'a' };
	static const uint8_t tiny[] = { 0x00, 0x02, 0x00, 0x01 };
	static const uint8_t odd[] = { 0x00 };
	struct opt o = { .n = 0 };
	struct ddr_dnr d;
	unsigned i;

	/* a valid instance, then one whose length runs past the option */
	put_v4_instance(&o, 1, adn, sizeof(adn), a1, sizeof(a1), params_dot, sizeof(params_dot),
			false);
	put(&o, lost, sizeof(lost));
	assert_int_equal(ddr_dnr_parse_dhcp4(o.b, o.n, &d), 1);
	assert_int_equal(d.total, 2);
	assert_int_equal(d.nbad, 1);
	assert_string_equal(d.bad[0].reason,
			    "instance 2: length 50 runs past the end of the option (4 octets left)");

	ddr_dnr_parse_dhcp4(tiny, sizeof(tiny), &d);
	expect_one_bad(&d, 1, "instance 1: length 2 is too short");
	ddr_dnr_parse_dhcp4(odd, sizeof(odd), &d);
	expect_one_bad(&d, 1, "instance 1: length truncated (1 octets left)");
	assert_int_equal(ddr_dnr_parse_dhcp4(odd, 0, &d), 0);
	assert_int_equal(d.total, 0);
	assert_int_equal(d.nbad, 0);

	/* the ADN of an instance may not run into the next one */
	o.n = 0;
	put16(&o, 4);
	put16(&o, 1);
	put8(&o, ADN_LEN);
	put8(&o, 8);
	put_v4_instance(&o, 2, adn, sizeof(adn), NULL, 0, NULL, 0, true);
	assert_int_equal(ddr_dnr_parse_dhcp4(o.b, o.n, &d), 1);
	assert_string_equal(d.bad[0].reason,
			    "instance 1: ADN Length 18 runs past the end (1 octets left)");
	assert_int_equal(d.inst[0].index, 2);

	/* more instances than kept: counted, the rest reported */
	o.n = 0;
	for (i = 0; i < DDR_DNR_MAX_INSTANCES + 2; i++)
		put_v4_instance(&o, i + 1, adn, sizeof(adn), NULL, 0, NULL, 0, true);
	assert_int_equal(ddr_dnr_parse_dhcp4(o.b, o.n, &d), DDR_DNR_MAX_INSTANCES);
	assert_int_equal(d.total, DDR_DNR_MAX_INSTANCES + 2);
	assert_int_equal(d.nbad, 2);
	assert_string_equal(d.bad[0].reason, "instance 9: more than 8 instances, ignored");
}

static void
test_dhcp4_addresses(void **state)
{
	static const uint8_t bad4[] = { 127, 0, 0, 1, 0, 0, 0, 0, 224, 0, 0, 251,
					255, 255, 255, 255, 0, 1, 2, 3 };
	static const uint8_t mixed[] = { 239, 1, 1, 1, 198, 51, 100, 7 };
	struct opt o = { .n = 0 };
	struct ddr_dnr d;

	put_v4_instance(&o, 1, adn, sizeof(adn), bad4, sizeof(bad4), params_dot,
			sizeof(params_dot), false);
	put_v4_instance(&o, 2, adn, sizeof(adn), mixed, sizeof(mixed), params_dot,
			sizeof(params_dot), false);
	assert_int_equal(ddr_dnr_parse_dhcp4(o.b, o.n, &d), 1);
	assert_int_equal(d.nbad, 1);
	assert_string_equal(d.bad[0].reason,
			    "instance 1: no usable address (discarded 127.0.0.1 (loopback) and 4 more)");
	assert_int_equal(d.inst[0].index, 2);
	assert_int_equal(d.inst[0].naddr, 1);
	assert_int_equal(ntohl(d.inst[0].addr4[0].s_addr), 0xc6336407);
	assert_string_equal(d.inst[0].note, "discarded 239.1.1.1 (multicast)");
}

/* ---- Router Advertisement ---- */
static void
test_ra(void **state)
{
	/* 2+2+4+2+18+2+16+2+14 = 62 -> 64 octets, Length 8 */
	static const uint8_t ra[] = {
		144, 8, 0x00, 0x05, 0x00, 0x00, 0x07, 0x08, 0x00, ADN_LEN, ADN,
		0x00, 0x10, V6_53, 0x00, PARAMS_DOT_LEN, PARAMS_DOT, 0, 0,
	};
	/* 2+2+4+2+18 = 28 -> 32 octets */
	static const uint8_t adn_only[] = {
		144, 4, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0x00, ADN_LEN, ADN, 0, 0, 0, 0,
	};
	uint8_t b[sizeof(ra)];
	struct ddr_dnr d;
	char out[512];

	assert_int_equal(ddr_dnr_parse_ra(ra, sizeof(ra), &d), 1);
	assert_int_equal(d.source, DDR_DNR_RA);
	assert_int_equal(d.inst[0].priority, 5);
	assert_int_equal(d.inst[0].lifetime, 1800);
	assert_int_equal(ddr_dnr_format(&d.inst[0], out, sizeof(out)), 0);
	assert_string_equal(out,
			    "5 resolver.example. 2001:db8::53 alpn=\"dot\" port=8853 lifetime 1800");

	assert_int_equal(ddr_dnr_parse_ra(adn_only, sizeof(adn_only), &d), 1);
	assert_true(d.inst[0].adn_only);
	assert_int_equal(d.inst[0].lifetime, DDR_DNR_LIFETIME_INFINITE);

	/* wrong type, Length not the buffer, too short */
	memcpy(b, ra, sizeof(ra));
	b[0] = 25;
	ddr_dnr_parse_ra(b, sizeof(b), &d);
	expect_one_bad(&d, 1, "instance 1: RA option type 25 is not 144");
	b[0] = 144;
	b[1] = 7;
	ddr_dnr_parse_ra(b, sizeof(b), &d);
	expect_one_bad(&d, 1, "instance 1: RA option Length 7 (56 octets) is not the 64 octets given");
	ddr_dnr_parse_ra(b, 8, &d);
	expect_one_bad(&d, 1, "instance 1: RA option too short (8 octets)");

	/* SvcParams Length past the end; padding of 8 octets or more */
	memcpy(b, ra, sizeof(ra));
	b[47] = 0x20;
	ddr_dnr_parse_ra(b, sizeof(b), &d);
	expect_one_bad(&d, 1, "instance 1: SvcParams Length 32 runs past the end (16 octets left)");
	b[47] = PARAMS_DOT_LEN - 8;
	ddr_dnr_parse_ra(b, sizeof(b), &d);
	expect_one_bad(&d, 1, "instance 1: 10 octets after the SvcParams (padding is at most 7)");

	/* ADN-only: what follows the ADN must be zero padding */
	memcpy(b, adn_only, sizeof(adn_only));
	b[30] = 1;
	ddr_dnr_parse_ra(b, sizeof(adn_only), &d);
	expect_one_bad(&d, 1, "instance 1: no address (Addr Length 0)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp6_valid),
		cmocka_unit_test(test_dhcp6_adn_only),
		cmocka_unit_test(test_dhcp6_malformed),
		cmocka_unit_test(test_dhcp6_addresses),
		cmocka_unit_test(test_dhcp4_instances),
		cmocka_unit_test(test_dhcp4_framing),
		cmocka_unit_test(test_dhcp4_addresses),
		cmocka_unit_test(test_ra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
