/* test_acl.c -- the access-control table: rules, parsing, matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/acl.h"

static struct ds_acl_rule rule(const char *text)
{
	struct ds_acl_rule r;
	const char *why = NULL;

	if (ds_acl_rule_parse(text, &r, &why) < 0)
		fail_msg("'%s' did not parse: %s", text, why);
	return r;
}

static struct sockaddr_storage sa(const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		fail_msg("bad test address %s", addr);
	return ss;
}

static enum ds_acl_action match(const struct ds_acl *t, const char *addr)
{
	struct sockaddr_storage ss = sa(addr);

	return ds_acl_match(t, &ss);
}

static void test_parse_good(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10.0.0.0/8 allow", "10.0.0.0/8 allow" },
		{ "  192.168.1.1 \t deny  ", "192.168.1.1/32 deny" },
		{ "10.1.2.3/8 refuse", "10.0.0.0/8 refuse" },
		{ "10.15.255.255/13 allow", "10.8.0.0/13 allow" },
		{ "0.0.0.0/0 refuse", "0.0.0.0/0 refuse" },
		{ "1.2.3.4/0 allow", "0.0.0.0/0 allow" },
		{ "::1 allow", "::1/128 allow" },
		{ "fd77::5/64 deny", "fd77::/64 deny" },
		{ "2001:db8:ffff::/33 allow", "2001:db8:8000::/33 allow" },
		{ "::/0 refuse", "::/0 refuse" },
		{ "::ffff:10.0.0.1 allow", "::ffff:10.0.0.1/128 allow" },
	};
	char buf[DS_ACL_RULE_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ds_acl_rule r = rule(cases[i].in);

		assert_string_equal(ds_acl_rule_format(&r, buf, sizeof(buf)), cases[i].out);
		/* the normalised form reads back the same */
		struct ds_acl_rule again = rule(buf);
		assert_true(ds_acl_same_netmask(&r, &again));
		assert_int_equal(r.action, again.action);
	}
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "   ", "10.0.0.0/8", "allow", "10.0.0.0/33 allow", "::/129 allow",
		"10.0.0.0/ allow", "10.0.0/8 allow", "10.0.0.0/8 permit", "10.0.0.0/8 allow extra",
		"10.0.0.0/-1 allow", "10.0.0.0/8a allow", "10.0.0.0/0008 allow", "/8 allow",
		"10.0.0.0/8 ALLOW", "example.org allow", "fe80::1%eth0 allow",
		"10.0.0.0/8 allow_snoop", "1.2.3.4/99999999999999999999 deny",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 allow",
	};
	struct ds_acl_rule r;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (ds_acl_rule_parse(bad[i], &r, &why) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(why);
	}
}

/* The most specific netmask wins, whatever the order of the lines. */
static void test_longest_wins(void **state)
{
	static const char *const lines[] = {
		"10.0.0.0/8 deny", "10.1.0.0/16 allow", "10.1.2.0/24 refuse", "10.1.2.3 allow",
		"fd00::/8 deny", "fd77::/64 allow", "fd77::3 refuse", "fd77::/63 refuse",
	};
	const size_t n = sizeof(lines) / sizeof(lines[0]);
	/* every rotation and the reverse of each */
	for (size_t rot = 0; rot < n; rot++) {
		for (int rev = 0; rev < 2; rev++) {
			struct ds_acl t;

			ds_acl_init(&t);
			for (size_t k = 0; k < n; k++) {
				size_t i = (rot + (rev ? n - 1 - k : k)) % n;
				struct ds_acl_rule r = rule(lines[i]);
				assert_int_equal(ds_acl_add(&t, &r), 0);
			}
			assert_int_equal(match(&t, "10.9.9.9"), DS_ACL_DENY);
			assert_int_equal(match(&t, "10.1.9.9"), DS_ACL_ALLOW);
			assert_int_equal(match(&t, "10.1.2.4"), DS_ACL_REFUSE);
			assert_int_equal(match(&t, "10.1.2.3"), DS_ACL_ALLOW);
			assert_int_equal(match(&t, "11.0.0.1"), DS_ACL_REFUSE); /* no rule */
			assert_int_equal(match(&t, "fd01::1"), DS_ACL_DENY);
			assert_int_equal(match(&t, "fd77::2"), DS_ACL_ALLOW);
			assert_int_equal(match(&t, "fd77::3"), DS_ACL_REFUSE);
			assert_int_equal(match(&t, "fd77:0:0:1::1"), DS_ACL_REFUSE); /* the /63 */
			assert_int_equal(match(&t, "2001:db8::1"), DS_ACL_REFUSE);
			/* an IPv4-mapped address counts as the IPv4 address */
			assert_int_equal(match(&t, "::ffff:10.1.2.3"), DS_ACL_ALLOW);
			assert_int_equal(match(&t, "::ffff:10.9.9.9"), DS_ACL_DENY);
		}
	}
}

static void test_table(void **state)
{
	struct ds_acl t, u;
	struct ds_acl_rule r;
	struct sockaddr_storage unix_ss = { .ss_family = AF_UNIX };
	uint8_t a[4];

	ds_acl_init(&t);
	assert_int_equal(match(&t, "127.0.0.1"), DS_ACL_REFUSE); /* empty: refuses all */
	r = rule("127.0.0.0/8 allow");
	assert_int_equal(ds_acl_add(&t, &r), 0);
	r = rule("127.1.2.3/8 deny"); /* the same netmask */
	assert_int_equal(ds_acl_add(&t, &r), -EEXIST);
	assert_int_equal(t.n, 1);
	assert_int_equal(match(&t, "127.0.0.53"), DS_ACL_ALLOW);
	assert_int_equal(match(&t, "::1"), DS_ACL_REFUSE); /* another family */
	assert_int_equal(ds_acl_match(&t, &unix_ss), DS_ACL_REFUSE);
	r = rule("0.0.0.0/0 deny");
	assert_int_equal(ds_acl_add(&t, &r), 0);
	assert_int_equal(match(&t, "192.0.2.1"), DS_ACL_DENY);
	r = rule("::/0 allow");
	assert_int_equal(ds_acl_add(&t, &r), 0);
	assert_int_equal(match(&t, "2001:db8::1"), DS_ACL_ALLOW);

	/* equal tables, whatever the order they were built in */
	ds_acl_init(&u);
	r = rule("::/0 allow");
	ds_acl_add(&u, &r);
	r = rule("0.0.0.0/0 deny");
	ds_acl_add(&u, &r);
	assert_false(ds_acl_equal(&t, &u));
	r = rule("127.0.0.0/8 allow");
	ds_acl_add(&u, &r);
	assert_true(ds_acl_equal(&t, &u));
	u.rule[0].action = DS_ACL_REFUSE;
	assert_false(ds_acl_equal(&t, &u));

	/* full */
	ds_acl_init(&t);
	for (unsigned i = 0; i < DS_ACL_MAX; i++) {
		a[0] = 10;
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		a[3] = 0;
		assert_int_equal(ds_acl_rule_make(AF_INET, a, 24, DS_ACL_ALLOW, &r), 0);
		assert_int_equal(ds_acl_add(&t, &r), 0);
	}
	a[0] = 11;
	ds_acl_rule_make(AF_INET, a, 24, DS_ACL_ALLOW, &r);
	assert_int_equal(ds_acl_add(&t, &r), -ENOSPC);
	assert_int_equal(ds_acl_rule_make(AF_INET, a, 33, DS_ACL_ALLOW, &r), -EINVAL);
	assert_int_equal(ds_acl_rule_make(AF_UNIX, a, 8, DS_ACL_ALLOW, &r), -EINVAL);
}

/* The reference: the longest netmask that holds the address, by brute force. */
static enum ds_acl_action reference(const struct ds_acl_rule *rules, size_t n, const uint8_t *addr,
				    int family)
{
	unsigned best = 0;
	enum ds_acl_action act = DS_ACL_REFUSE;
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		bool holds = rules[i].family == family;

		for (unsigned b = 0; holds && b < rules[i].plen; b++) {
			unsigned bit = 0x80u >> (b % 8);
			holds = (addr[b / 8] & bit) == (rules[i].net.b[b / 8] & bit);
		}
		if (holds && (!found || rules[i].plen > best)) {
			found = true;
			best = rules[i].plen;
			act = rules[i].action;
		}
	}
	return act;
}

/* Random rules near random addresses, against the reference. */
static void test_against_reference(void **state)
{
	srandom(7);
	for (int round = 0; round < 300; round++) {
		struct ds_acl_rule rules[40];
		struct ds_acl t;
		uint8_t base[16];
		int family = round % 2 ? AF_INET6 : AF_INET;
		unsigned bits = family == AF_INET ? 32 : 128;
		size_t n = 0;

		for (int k = 0; k < 16; k++)
			base[k] = (uint8_t)random();
		ds_acl_init(&t);
		for (int k = 0; k < 40; k++) {
			uint8_t a[16];
			unsigned plen = (unsigned)random() % (bits + 1);

			memcpy(a, base, sizeof(a));
			a[random() % (bits / 8)] ^= (uint8_t)(1u << (random() % 8));
			ds_acl_rule_make(family, a, plen, (enum ds_acl_action)(random() % 3), &rules[n]);
			if (ds_acl_add(&t, &rules[n]) == 0)
				n++;
		}
		for (int k = 0; k < 200; k++) {
			struct sockaddr_storage ss;
			uint8_t a[16];

			memcpy(a, base, sizeof(a));
			a[random() % (bits / 8)] ^= (uint8_t)(1u << (random() % 8));
			memset(&ss, 0, sizeof(ss));
			ss.ss_family = (sa_family_t)family;
			if (family == AF_INET)
				memcpy(&((struct sockaddr_in *)&ss)->sin_addr, a, 4);
			else
				memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, a, 16);
			assert_int_equal(ds_acl_match(&t, &ss), reference(rules, n, a, family));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_longest_wins),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
