/*
 * test_walk.c -- the discovery walk's pure parts: keys, rdata readers,
 * names, parameter checks, cancellation and the deadline.  The walk itself
 * against real signed zones is tests/integration/discover.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/discovery.h"
#include "walk_int.h"

/* the root zone's KSK-2017: tag 20326, algorithm 8 */
static const char root_ksk[] =
	". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4R"
	"gWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8"
	"PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWe"
	"L3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa"
	"8subX2Nn6UwNR1AkUTV74bU=";
static const char p256_key[] =
	"257 3 13 bPt5WTPJDYxx3DkIf4zOFJUOL29NPrHFJDr4vQXwDBj/RF6HM+BxqoHvBDX1aCHd/Gjvcpe0jR13lz"
	"HxWHa+9A==";

static void
test_key_tag(void **state)
{
	struct trust_dnskey k;
	char line[4096];

	/* only resolver-name.arpa. may be named as the owner */
	assert_int_equal(disc_key_parse(root_ksk, &k), -EINVAL);
	snprintf(line, sizeof(line), "%s", root_ksk + 2);
	assert_int_equal(disc_key_parse(line, &k), 0);
	assert_int_equal(trust_dnskey_tag(&k), 20326);
	assert_int_equal(k.algorithm, 8);
	assert_int_equal(k.flags, 257);
	assert_int_equal(k.keylen, 260);

	assert_int_equal(disc_key_parse(p256_key, &k), 0);
	assert_int_equal(trust_dnskey_tag(&k), 35107);
	assert_int_equal(k.algorithm, 13);
	assert_int_equal(k.keylen, 64);
}

static void
test_key_parse_forms(void **state)
{
	struct trust_dnskey a, b;
	uint8_t sha_a[TRUST_SHA256_LEN], sha_b[TRUST_SHA256_LEN];
	char line[4096];

	assert_int_equal(disc_key_parse(p256_key, &a), 0);
	snprintf(line, sizeof(line), "resolver-name.arpa. 900 IN DNSKEY %s ; comment", p256_key);
	assert_int_equal(disc_key_parse(line, &b), 0);
	assert_true(trust_dnskey_equal(&a, &b));
	snprintf(line, sizeof(line), "RESOLVER-NAME.ARPA\tDNSKEY\t%s", p256_key);
	assert_int_equal(disc_key_parse(line, &b), 0);
	assert_int_equal(trust_dnskey_sha256(&a, sha_a), 0);
	assert_int_equal(trust_dnskey_sha256(&b, sha_b), 0);
	assert_memory_equal(sha_a, sha_b, sizeof(sha_a));

	/* round trip through the form libunbound is given */
	assert_int_equal(disc_key_format(&a, DISC_ZONE, line, sizeof(line)), 0);
	assert_int_equal(disc_key_parse(line, &b), 0);
	assert_true(trust_dnskey_equal(&a, &b));
	assert_int_equal(disc_key_format(&a, DISC_ZONE, line, 20), -ENOSPC);
}

static void
test_key_parse_bad(void **state)
{
#define P256_ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
	struct trust_dnskey k;

	memset(&k, 0x5a, sizeof(k));
	assert_int_equal(disc_key_parse("", &k), -EINVAL);
	assert_int_equal(disc_key_parse("257 3 13", &k), -EINVAL);
	assert_int_equal(disc_key_parse("257 2 13 AAAA", &k), -EINVAL);      /* protocol */
	assert_int_equal(disc_key_parse("70000 3 13 AAAA", &k), -EINVAL);    /* flags */
	assert_int_equal(disc_key_parse("257 3 13 AAA", &k), -EINVAL);       /* length */
	assert_int_equal(disc_key_parse("257 3 13 A=AA", &k), -EINVAL);      /* padding */
	assert_int_equal(disc_key_parse("257 3 13 AA!A", &k), -EINVAL);      /* alphabet */
	assert_int_equal(disc_key_parse("example. IN DNSKEY 257 3 13 AAAA", &k), -EINVAL);
	assert_int_equal(disc_key_parse("x y DNSKEY 257 3 13 AAAA", &k), -EINVAL);
	/* nothing written on failure */
	assert_int_equal(k.flags, 0x5a5a);
	/* an algorithm 13 key has exactly 64 octets */
	assert_int_equal(disc_key_parse("256 3 13 AAAA", &k), -EINVAL);
	assert_int_equal(disc_key_parse("256 3 13 " P256_ZERO_KEY, &k), 0);
	assert_int_equal(k.keylen, 64);
}

static void
test_key_rdata(void **state)
{
	const uint8_t short_rd[] = { 1, 1, 3, 13 };
	const uint8_t bad_proto[] = { 1, 1, 4, 13, 0xaa };
	uint8_t rd[8] = { 1, 1, 3, 13, 1, 2, 3, 4 }, out[8];
	struct trust_dnskey k;

	assert_int_equal(trust_dnskey_from_rdata(short_rd, sizeof(short_rd), &k), -EBADMSG);
	assert_int_equal(trust_dnskey_from_rdata(bad_proto, sizeof(bad_proto), &k), -EBADMSG);
	assert_int_equal(trust_dnskey_from_rdata(rd, sizeof(rd), &k), 0);
	assert_int_equal(trust_dnskey_rdata(&k, out, sizeof(out)), 8);
	assert_memory_equal(rd, out, 8);
	assert_int_equal(trust_dnskey_rdata(&k, out, 7), -ENOBUFS);
}

/* check text as a unique name: the verdict, and out on success */
static enum disc_name
name_check(const char *text, char *out, size_t outlen)
{
	uint8_t wire[DNS_NAME_MAX];
	int len = dns_name_from_str(text, wire);

	assert_true(len > 0);
	return disc_name_check(wire, (size_t)len, out, outlen);
}

static void
test_unique_name(void **state)
{
	char out[DISC_NAME_WIRE_MAX], l63[64], name[300];

	/* the recommended form, and the forms of other publishers */
	assert_int_equal(name_check("ABCD1234efgv.ZZ.", out, sizeof(out)), DISC_NAME_OK);
	assert_string_equal(out, "abcd1234efgv.zz.");
	assert_true(disc_name_recommended(out));
	assert_true(disc_name_recommended("ABCD1234EFGV.zz"));
	static const char *const good[] = {
		"k3xq7mfa2vnw.zz",        /* RFC 4648 base32 */
		"office-resolver-1.zz",   /* a longer label */
		"dot.example.com",        /* under the operator's own domain */
		"x.abcd1234efgh.zz",
		"abcd1234efg.zz",         /* 11 characters */
		"resolver.home.arpa",     /* under arpa, not a special-use name */
		"zz",                     /* one label */
		"1.example.com",
		"a1.b2.c3",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(name_check(good[i], out, sizeof(out)), DISC_NAME_OK);
		assert_false(disc_name_recommended(out));
	}
	assert_false(disc_name_recommended("abcd1234efgh.zz.arpa"));
	assert_false(disc_name_recommended("abcd1234efgw.zz"));
	assert_false(disc_name_recommended("abcd1234efg"));

	static const struct {
		const char *name;
		enum disc_name want;
	} bad[] = {
		{ "resolver-name.arpa", DISC_NAME_SPECIAL },
		{ "abcd1234efgh.zz.resolver-name.arpa", DISC_NAME_SPECIAL },
		{ "RESOLVER.ARPA", DISC_NAME_SPECIAL },
		{ "dns.resolver.arpa", DISC_NAME_SPECIAL },
		{ "localhost", DISC_NAME_SPECIAL },
		{ "dot.localhost", DISC_NAME_SPECIAL },
		{ "foo.invalid", DISC_NAME_SPECIAL },
		{ "arpa", DISC_NAME_SPECIAL },
		{ "xresolver.arpa", DISC_NAME_OK }, /* not under resolver.arpa */
		{ "u_p.zz", DISC_NAME_NOT_HOST },
		{ "_853._tcp.x.zz", DISC_NAME_NOT_HOST },
		{ "-up.zz", DISC_NAME_NOT_HOST },
		{ "up-.zz", DISC_NAME_NOT_HOST },
		{ "a\\.b.zz", DISC_NAME_NOT_HOST },
		{ "a b.zz", DISC_NAME_NOT_HOST },
		{ ".", DISC_NAME_NOT_HOST },
		{ "192.0.2.53", DISC_NAME_NUMERIC },
		{ "dot.123", DISC_NAME_NUMERIC },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(name_check(bad[i].name, out, sizeof(out)), bad[i].want);

	/* the longest N: N.resolver-name.arpa. is exactly 255 octets */
	memset(l63, 'a', 63);
	l63[63] = '\0';
	snprintf(name, sizeof(name), "%s.%s.%s.%.39s.zz", l63, l63, l63, l63);
	assert_int_equal(strlen(name), 234);
	assert_int_equal(name_check(name, out, sizeof(out)), DISC_NAME_OK);
	assert_int_equal(strlen(out), 235);
	snprintf(name, sizeof(name), "%s.%s.%s.%.40s.zz", l63, l63, l63, l63);
	assert_int_equal(name_check(name, out, sizeof(out)), DISC_NAME_TOO_LONG);
	/* a label of 64 octets is no host name (a wire name cannot even hold it) */
	const uint8_t l64[] = { 64, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				'a', 'a', 'a', 'a', 2, 'z', 'z', 0 };
	assert_int_equal(disc_name_check(l64, sizeof(l64), out, sizeof(out)), DISC_NAME_NOT_HOST);
	/* every verdict has words */
	assert_non_null(strstr(disc_name_problem(DISC_NAME_TOO_LONG), "234"));
	assert_non_null(strstr(disc_name_problem(DISC_NAME_SPECIAL), "special-use"));
}

static void
test_host_name(void **state)
{
	uint8_t wire[DNS_NAME_MAX];
	char out[300];
	int len;

	len = dns_name_from_str("Up1.ZZ", wire);
	assert_true(walk_host_name(wire, (size_t)len, out, sizeof(out)));
	assert_string_equal(out, "up1.zz.");
	len = dns_name_from_str("-up.zz", wire);
	assert_false(walk_host_name(wire, (size_t)len, out, sizeof(out)));
	len = dns_name_from_str("u_p.zz", wire);
	assert_false(walk_host_name(wire, (size_t)len, out, sizeof(out)));
	len = dns_name_from_str("a\\.b.zz", wire);
	assert_false(walk_host_name(wire, (size_t)len, out, sizeof(out)));
	len = dns_name_from_str(".", wire);
	assert_false(walk_host_name(wire, (size_t)len, out, sizeof(out)));
	/* a label that runs past the end */
	const uint8_t cut[] = { 3, 'a', 'b' };
	assert_false(walk_host_name(cut, sizeof(cut), out, sizeof(out)));
	const uint8_t noroot[] = { 2, 'a', 'b' };
	assert_false(walk_host_name(noroot, sizeof(noroot), out, sizeof(out)));
}

static void
test_rdata_txt(void **state)
{
	const uint8_t two[] = { 3, 'r', 'e', 's', 5, 'o', 'l', 'v', 'e', 'r' };
	const uint8_t nul[] = { 3, 'a', 0, 'b' };
	const uint8_t cut[] = { 4, 'a', 'b' };
	char out[16];

	assert_int_equal(walk_rdata_txt(two, sizeof(two), out, sizeof(out)), 0);
	assert_string_equal(out, "resolver");
	assert_int_equal(walk_rdata_txt(two, sizeof(two), out, 4), 0);
	assert_string_equal(out, "res");
	assert_int_equal(walk_rdata_txt(nul, sizeof(nul), out, sizeof(out)), 0);
	assert_string_equal(out, "a?b");
	assert_int_equal(walk_rdata_txt(cut, sizeof(cut), out, sizeof(out)), -EBADMSG);
	assert_int_equal(walk_rdata_txt(cut, 0, out, sizeof(out)), -EBADMSG);
}

static void
test_rdata_name(void **state)
{
	const uint8_t good[] = { 3, 'u', 'p', '1', 2, 'z', 'z', 0 };
	const uint8_t trailing[] = { 2, 'z', 'z', 0, 1 };
	const uint8_t pointer[] = { 0xc0, 0 };
	uint8_t wire[DNS_NAME_MAX];
	size_t len;

	assert_int_equal(walk_rdata_name(good, sizeof(good), wire, &len), 0);
	assert_int_equal(len, sizeof(good));
	assert_int_equal(walk_rdata_name(trailing, sizeof(trailing), wire, &len), -EBADMSG);
	assert_int_equal(walk_rdata_name(pointer, sizeof(pointer), wire, &len), -EBADMSG);
	assert_int_equal(walk_rdata_name(good, 3, wire, &len), -EBADMSG);
}

static void
test_rdata_addr_tlsa(void **state)
{
	const uint8_t a[] = { 127, 0, 0, 51 };
	const uint8_t tlsa[] = { 3, 1, 1, 0xab, 0xcd };
	struct ds_upstream_desc d;
	int i;

	memset(&d, 0, sizeof(d));
	assert_int_equal(walk_rdata_addr(&d, DNS_TYPE_A, a, 3, 853), -EBADMSG);
	assert_int_equal(walk_rdata_addr(&d, DNS_TYPE_AAAA, a, 4, 853), -EBADMSG);
	for (i = 0; i < DS_MAX_UPSTREAM_ADDRS; i++)
		assert_int_equal(walk_rdata_addr(&d, DNS_TYPE_A, a, 4, 853), 0);
	assert_int_equal(walk_rdata_addr(&d, DNS_TYPE_A, a, 4, 853), -E2BIG);
	assert_int_equal(d.naddr, DS_MAX_UPSTREAM_ADDRS);

	assert_int_equal(walk_rdata_tlsa(&d, tlsa, 3), -EBADMSG);
	assert_int_equal(walk_rdata_tlsa(&d, tlsa, sizeof(tlsa)), 0);
	assert_int_equal(d.ntlsa, 1);
	assert_int_equal(d.tlsa[0].usage, 3);
	assert_int_equal(d.tlsa[0].len, 2);
	assert_memory_equal(d.tlsa[0].data, tlsa + 3, 2);
	ds_upstream_desc_clear(&d);
}

static void
test_sanitize(void **state)
{
	char out[32];

	walk_sanitize(out, sizeof(out), "a\x01" "b\xff\x1b[0m");
	assert_string_equal(out, "a\\001b\\255\\027[0m");
	walk_sanitize(out, 6, "ab\x01xyz");
	assert_string_equal(out, "ab");
}

static void
test_params(void **state)
{
	struct disc_params p;
	struct disc_result *r = NULL;
	struct trust_dnskey k;

	disc_params_init(&p);
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	p.nresolvers = 1;
	p.resolvers[0] = "resolver.example";
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	p.resolvers[0] = "127.0.0.59@0";
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	p.resolvers[0] = "127.0.0.59@53x";
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	p.resolvers[0] = "127.0.0.59";
	p.nanchors = DISC_MAX_ANCHORS + 1;
	p.anchors = &k;
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	p.nanchors = 1;
	p.anchors = NULL;
	assert_int_equal(disc_walk(&p, &r), -EINVAL);
	assert_null(r);
}

/* Nothing listens on 127.0.0.59 port 9 (discard): the walk must stop when
 * told to, and by its deadline. */
static void
test_cancel_and_deadline(void **state)
{
	struct disc_params p;
	struct disc_result *r = NULL;
	atomic_bool cancel;
	uint64_t t0;

	disc_params_init(&p);
	p.nresolvers = 1;
	p.resolvers[0] = "127.0.0.59@9";
	atomic_init(&cancel, true);
	p.cancel = &cancel;
	t0 = walk_now_ms();
	assert_int_equal(disc_walk(&p, &r), -ECANCELED);
	assert_null(r);
	assert_true(walk_now_ms() - t0 < 2000);

	atomic_store(&cancel, false);
	p.timeout_ms = 400;
	t0 = walk_now_ms();
	assert_int_equal(disc_walk(&p, &r), 0);
	assert_true(walk_now_ms() - t0 < 2500);
	assert_non_null(r);
	assert_int_equal(r->kind, TRUST_DISC_UNREACHABLE);
	assert_int_equal(r->failed_phase, 1);
	assert_true(r->nsteps >= 1);
	assert_int_equal(r->steps[0].status, DISC_ST_ERROR);
	assert_non_null(strstr(r->reason, "step 1"));
	disc_result_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_tag),
		cmocka_unit_test(test_key_parse_forms),
		cmocka_unit_test(test_key_parse_bad),
		cmocka_unit_test(test_key_rdata),
		cmocka_unit_test(test_unique_name),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_rdata_txt),
		cmocka_unit_test(test_rdata_name),
		cmocka_unit_test(test_rdata_addr_tlsa),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_cancel_and_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
