/*
 * test_dnskey.c -- DNSKEY presentation format, key tag, SHA-256 of the
 * rdata, and the text helpers of the trust part.  Expected values were
 * computed with ldns-key2ds / ldns-revoke and Python's hashlib.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"

struct vector {
	const char *text;
	uint16_t tag;
	const char *sha256;
};

static const struct vector vectors[] = {
	/* the root zone's KSK-2017 */
	{ "257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlEx"
	  "OLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVL"
	  "rjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H"
	  "5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylG"
	  "a8subX2Nn6UwNR1AkUTV74bU=",
	  20326, "b1260192b82078cab9bc3cb9e0e43dbac4516fd8e2b96d97d9882d8e28532681" },
	{ "257 3 13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3cWUkHASHSnDJJWiTBYdIyaP7gxIBcX8"
	  "69GH4V3z3g==",
	  63595, "c37e76c75f37352d289e9cff12022f59dd2f186d2e7b11ca6474118744643c9e" },
	/* the same key with the REVOKE flag (ldns-revoke) */
	{ "385 3 13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3cWUkHASHSnDJJWiTBYdIyaP7gxIBcX8"
	  "69GH4V3z3g==",
	  63723, "4cbe3e10e2769ffd7f9deb15e56bc9f8c6138953851867cdfcd9c7507e25f96c" },
	{ "257 3 14 fPKMrrBDv6jl3WlSzLt33czS1REHH/Ab8b9hq0/u3iFj66/xyUd+fOWe+AvODGRAI6x862zbjlWs"
	  "1H33KG1DHt2yM/wEb5Ki51JEy0J8nSO4t6c1omXm4srJchak4rqP",
	  962, "131ea51f215de9dc6e664dd6c86996d179605111438c0bdb9d3f9775c2abce28" },
	{ "257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=", 48558,
	  "8020d3447bb8b3405f00f300600e2e282b49e0a388bc7f4b3230880250640b7f" },
};

static void test_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct trust_dnskey k;
		uint8_t sha[TRUST_SHA256_LEN];
		char hex[2 * TRUST_SHA256_LEN + 1], out[2048];

		assert_int_equal(trust_dnskey_parse(vectors[i].text, &k), 0);
		assert_int_equal(trust_dnskey_tag(&k), vectors[i].tag);
		assert_int_equal(trust_dnskey_sha256(&k, sha), 0);
		ds_hex_encode(sha, sizeof(sha), hex);
		assert_string_equal(hex, vectors[i].sha256);
		/* presentation form round trip */
		assert_true(trust_dnskey_format(&k, out, sizeof(out)) > 0);
		assert_string_equal(out, vectors[i].text);
		assert_int_equal(trust_dnskey_format(&k, out, 10), -ENOBUFS);
	}
}

static void test_parse_split_base64(void **state)
{
	struct trust_dnskey a, b;

	assert_int_equal(trust_dnskey_parse(vectors[1].text, &a), 0);
	assert_int_equal(trust_dnskey_parse("257  3\t13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3c"
					    " WUkHASHSnDJJWiTBYdIyaP7gxIBcX869GH4V3z3g==",
					    &b),
			 0);
	assert_true(trust_dnskey_equal(&a, &b));
	assert_int_equal(a.flags, 257);
	assert_int_equal(a.protocol, 3);
	assert_int_equal(a.algorithm, 13);
	assert_int_equal(a.keylen, 64);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"257 3 13",
		"257 2 13 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",      /* protocol */
		"257 3 0 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",       /* algorithm 0 */
		"65536 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",    /* flags range */
		"257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4",       /* no padding */
		"257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV5=",      /* non-zero pad bits */
		"257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSB!vV4=",      /* alphabet */
		"257 3 15 3lE8=6CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4",      /* '=' inside */
		"257 3 13 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",      /* P-256 needs 64 */
		"257 3 15 ====",
		"-1 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
		"0257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",     /* leading zero */
		"257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=\n",    /* control octet */
	};
	struct trust_dnskey k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(trust_dnskey_parse(bad[i], &k), -EINVAL);
}

static void test_parse_rr(void **state)
{
	char zone[TRUST_NAME_MAX + 1];
	struct trust_dnskey k;

	/* what ldns-keygen writes, comment and all */
	assert_int_equal(trust_dnskey_parse_rr("resolver-name.arpa.\tIN\tDNSKEY\t257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4= ;{id = "
					       "48558 (ksk), size = 256b}",
					       zone, &k),
			 0);
	assert_string_equal(zone, "resolver-name.arpa.");
	assert_int_equal(trust_dnskey_tag(&k), 48558);
	assert_int_equal(trust_dnskey_parse_rr("Corp.Example. 3600 in dnskey 257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
					       zone, &k),
			 0);
	assert_string_equal(zone, "corp.example.");
	assert_int_equal(trust_dnskey_parse_rr("x. IN 300 DNSKEY 257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
					       zone, &k),
			 0);
	/* relative name, wrong type, parentheses, two TTLs */
	assert_int_equal(trust_dnskey_parse_rr("x 300 IN DNSKEY 257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
					       zone, &k),
			 -EINVAL);
	assert_int_equal(trust_dnskey_parse_rr("x. 300 IN DS 257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
					       zone, &k),
			 -EINVAL);
	assert_int_equal(trust_dnskey_parse_rr("x. 300 IN DNSKEY 257 3 15 ( "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4= )",
					       zone, &k),
			 -EINVAL);
	assert_int_equal(trust_dnskey_parse_rr("x. 300 300 DNSKEY 257 3 15 "
					       "3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4=",
					       zone, &k),
			 -EINVAL);
}

static void test_same_key(void **state)
{
	struct trust_dnskey a, r;

	assert_int_equal(trust_dnskey_parse(vectors[1].text, &a), 0);
	assert_int_equal(trust_dnskey_parse(vectors[2].text, &r), 0);
	assert_false(trust_dnskey_equal(&a, &r));
	assert_true(trust_dnskey_same_key(&a, &r));
	r.key[0] ^= 1;
	assert_false(trust_dnskey_same_key(&a, &r));
}

static void test_names(void **state)
{
	char out[TRUST_NAME_MAX + 1], longname[300];

	assert_int_equal(trust_name_canonical("ABCD1234efgh.ZZ", out), 0);
	assert_string_equal(out, "abcd1234efgh.zz.");
	assert_int_equal(trust_name_canonical("resolver-name.arpa.", out), 0);
	assert_string_equal(out, "resolver-name.arpa.");
	assert_int_equal(trust_name_canonical(".", out), -EINVAL);
	assert_int_equal(trust_name_canonical("", out), -EINVAL);
	assert_int_equal(trust_name_canonical("a..b", out), -EINVAL);
	assert_int_equal(trust_name_canonical("a b.", out), -EINVAL);
	assert_int_equal(trust_name_canonical("a\\.b.", out), -EINVAL);
	memset(longname, 'a', 64);
	strcpy(longname + 64, ".zz.");
	assert_int_equal(trust_name_canonical(longname, out), -EINVAL); /* label > 63 */
	for (int i = 0; i < 64; i++)
		memcpy(longname + 4 * i, "abc.", 4);
	longname[256] = '\0';
	assert_int_equal(trust_name_canonical(longname, out), -EINVAL); /* > 255 octets */
}

static void test_times(void **state)
{
	char out[TRUST_TIME_LEN + 1];
	time_t t;

	trust_time_format(1714557600, out);
	assert_string_equal(out, "2024-05-01T10:00:00Z");
	assert_int_equal(trust_time_parse(out, &t), 0);
	assert_int_equal(t, 1714557600);
	assert_int_equal(trust_time_parse("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(trust_time_parse("2023-02-29T00:00:00Z", &t), -EINVAL);
	assert_int_equal(trust_time_parse("2024-13-01T00:00:00Z", &t), -EINVAL);
	assert_int_equal(trust_time_parse("2024-05-01T24:00:00Z", &t), -EINVAL);
	assert_int_equal(trust_time_parse("2024-05-01 10:00:00Z", &t), -EINVAL);
	assert_int_equal(trust_time_parse("2024-05-01T10:00:00", &t), -EINVAL);
	assert_int_equal(trust_time_parse("1969-12-31T23:59:59Z", &t), -EINVAL);
	assert_int_equal(trust_time_parse("2024-05-01T10:00:00Z ", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),	   cmocka_unit_test(test_parse_split_base64),
		cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_parse_rr),
		cmocka_unit_test(test_same_key),   cmocka_unit_test(test_names),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
