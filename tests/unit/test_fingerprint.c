/*
 * test_fingerprint.c -- the network fingerprint value: addresses, its text
 * form (written, parsed, canonical, refused), its id and how two of them
 * match.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/netinfo.h"

/* ------------------------------------------------------------------ */
/* Helpers */

static struct ds_netaddr A(const char *s)
{
	struct ds_netaddr a;

	assert_int_equal(ds_netaddr_parse(s, &a), 0);
	return a;
}

static const uint8_t MAC_GW1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_GW2[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_IF[6] = { 0x02, 0, 0, 0, 0, 0x10 };

static void set_af(struct ds_netfp *fp, int ai, const char *gw, const uint8_t *gwmac,
		   const char *ifname, const uint8_t *ifmac, int vlan)
{
	struct ds_netfp_af *af = &fp->af[ai];

	af->route = true;
	if (gw)
		af->gw = A(gw);
	if (gwmac) {
		af->has_gwmac = true;
		memcpy(af->gwmac, gwmac, 6);
	}
	snprintf(af->ifname, sizeof(af->ifname), "%s", ifname);
	af->ifindex = 7;
	if (ifmac) {
		af->has_ifmac = true;
		memcpy(af->ifmac, ifmac, 6);
	}
	af->vlan = vlan;
}

/* The usual home network: both families, one resolver. */
static void home(struct ds_netfp *fp)
{
	struct ds_netaddr r = A("10.77.0.1");

	ds_netfp_init(fp);
	set_af(fp, DS_NETFP_V4, "10.77.0.1", MAC_GW1, "eth0", MAC_IF, -1);
	set_af(fp, DS_NETFP_V6, "fe80::1", MAC_GW1, "eth0", MAC_IF, -1);
	assert_int_equal(ds_netfp_set_resolvers(fp, &r, 1), 1);
}

static void text_of(const struct ds_netfp *fp, char *out)
{
	assert_true(ds_netfp_format(fp, out, DS_NETFP_TEXT_MAX) > 0);
}

/* ------------------------------------------------------------------ */
/* Addresses */

static void test_addr_parse(void **state)
{
	struct ds_netaddr a;
	char s[DS_NETADDR_STRLEN];

	assert_int_equal(ds_netaddr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(ds_netaddr_format(&a, s, sizeof(s)), "192.0.2.1");
	assert_int_equal(ds_netaddr_parse("2001:DB8::1", &a), 0);
	assert_string_equal(ds_netaddr_format(&a, s, sizeof(s)), "2001:db8::1");
	assert_int_equal(ds_netaddr_parse("fe80::1%1", &a), 0);
	assert_int_equal(a.scope, 1);
	assert_string_equal(ds_netaddr_format(&a, s, sizeof(s)), "fe80::1");
	assert_int_equal(ds_netaddr_parse("fe80::1%lo", &a), 0);
	assert_int_equal(a.scope, if_nametoindex("lo"));

	assert_int_equal(ds_netaddr_parse("", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("010.1.1.1", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("1.2.3.4 ", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("1.2.3.4%1", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("2001:db8::1%1", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("fe80::1%", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("fe80::1%0", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("fe80::1%nosuchif9", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("[::1]", &a), -EINVAL);
	assert_int_equal(ds_netaddr_parse("::1:53:53:53:53:53:53:53:53", &a), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Textual form */

static const char HOME_TEXT[] =
	"res=10.77.0.1 ssid=- v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=fe80::1 v6gwmac=02:00:00:00:00:01 v6if=eth0 "
	"v6ifmac=02:00:00:00:00:10 v6vlan=-";

static void test_text_roundtrip(void **state)
{
	struct ds_netfp fp, back;
	char t[DS_NETFP_TEXT_MAX], t2[DS_NETFP_TEXT_MAX];
	char id[DS_NETFP_ID_LEN + 1], id2[DS_NETFP_ID_LEN + 1];
	size_t i;

	home(&fp);
	text_of(&fp, t);
	assert_string_equal(t, HOME_TEXT);
	assert_int_equal(ds_netfp_parse(t, &back), 0);
	text_of(&back, t2);
	assert_string_equal(t, t2);
	assert_true(ds_netfp_equal(&fp, &back));

	assert_int_equal(ds_netfp_id(&fp, id, sizeof(id)), 0);
	assert_int_equal(strlen(id), DS_NETFP_ID_LEN);
	for (i = 0; i < DS_NETFP_ID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_int_equal(ds_netfp_id(&back, id2, sizeof(id2)), 0);
	assert_string_equal(id, id2);
	assert_int_equal(ds_netfp_id(&fp, id2, DS_NETFP_ID_LEN), -ENOBUFS);
	/* ifindex is metadata, not value */
	back.af[0].ifindex = 99;
	assert_true(ds_netfp_equal(&fp, &back));
	/* a different value has a different id */
	back.af[0].vlan = 5;
	assert_int_equal(ds_netfp_id(&back, id2, sizeof(id2)), 0);
	assert_string_not_equal(id, id2);
}

static void test_text_full(void **state)
{
	struct ds_netfp fp, back;
	struct ds_netaddr r[10];
	char t[DS_NETFP_TEXT_MAX], t2[DS_NETFP_TEXT_MAX], small[40];
	const uint8_t ssid[] = "caf\xc3\xa9 net";
	int i;

	ds_netfp_init(&fp);
	set_af(&fp, DS_NETFP_V4, NULL, NULL, "wg0", NULL, -1);           /* point-to-point */
	set_af(&fp, DS_NETFP_V6, "2001:db8::1", MAC_GW2, "eth0.42", MAC_IF, 42);
	/* unsorted, with a duplicate, more than fit */
	r[0] = A("fd00::53");
	r[1] = A("10.0.0.53");
	r[2] = A("10.0.0.53");
	r[3] = A("9.9.9.9");
	for (i = 4; i < 10; i++) {
		char s[32];

		snprintf(s, sizeof(s), "192.0.2.%d", 10 - i);
		r[i] = A(s);
	}
	assert_int_equal(ds_netfp_set_resolvers(&fp, r, 10), DS_NETFP_MAX_RES);
	assert_int_equal(ds_netfp_set_ssid(&fp, ssid, sizeof(ssid) - 1), 0);
	text_of(&fp, t);
	assert_string_equal(t,
		"res=9.9.9.9,10.0.0.53,192.0.2.2,192.0.2.3,192.0.2.4,192.0.2.5,192.0.2.6,fd00::53 "
		"ssid=636166c3a9206e6574 v4gw=- v4gwmac=- v4if=wg0 v4ifmac=- v4vlan=- "
		"v6gw=2001:db8::1 v6gwmac=02:00:00:00:00:02 v6if=eth0.42 "
		"v6ifmac=02:00:00:00:00:10 v6vlan=42");
	assert_int_equal(ds_netfp_parse(t, &back), 0);
	text_of(&back, t2);
	assert_string_equal(t, t2);
	assert_int_equal(ds_netfp_format(&fp, small, sizeof(small)), -ENOBUFS);
	assert_int_equal(ds_netfp_set_ssid(&fp, ssid, 33), -EINVAL);
	r[0].family = 0;
	assert_int_equal(ds_netfp_set_resolvers(&fp, r, 1), -EINVAL);
}

static void test_text_empty(void **state)
{
	struct ds_netfp fp, back;
	char t[DS_NETFP_TEXT_MAX];

	ds_netfp_init(&fp);
	assert_true(ds_netfp_is_empty(&fp));
	text_of(&fp, t);
	assert_string_equal(t, "res=- ssid=- v4gw=- v4gwmac=- v4if=- v4ifmac=- v4vlan=- "
			       "v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-");
	assert_int_equal(ds_netfp_parse(t, &back), 0);
	assert_true(ds_netfp_is_empty(&back));
	/* missing keys are absent */
	assert_int_equal(ds_netfp_parse("res=-", &back), 0);
	assert_true(ds_netfp_equal(&fp, &back));
}

static void test_text_canonical(void **state)
{
	struct ds_netfp fp;
	char t[DS_NETFP_TEXT_MAX];

	/* shuffled keys, upper-case hex, unsorted resolvers, missing keys */
	assert_int_equal(ds_netfp_parse("v6if=eth0 v4ifmac=02:00:00:00:00:10 v4if=eth0 "
					"res=fd77::1,10.77.0.1 v4gwmac=02:00:00:00:00:01 "
					"v4gw=10.77.0.1 ssid=4D5948 v6vlan=- v4vlan=7",
					&fp), 0);
	text_of(&fp, t);
	assert_string_equal(t, "res=10.77.0.1,fd77::1 ssid=4d5948 v4gw=10.77.0.1 "
			       "v4gwmac=02:00:00:00:00:01 v4if=eth0 v4ifmac=02:00:00:00:00:10 "
			       "v4vlan=7 v6gw=- v6gwmac=- v6if=eth0 v6ifmac=- v6vlan=-");
	/* an IPv6 address in another spelling comes out canonical */
	assert_int_equal(ds_netfp_parse("res=2001:0DB8:0:0::0001", &fp), 0);
	text_of(&fp, t);
	assert_string_equal(t, "res=2001:db8::1 ssid=- v4gw=- v4gwmac=- v4if=- v4ifmac=- "
			       "v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-");
}

static void test_text_reject(void **state)
{
	static const char *const bad[] = {
		"",
		" res=-",
		"res=- ",
		"res=-  ssid=-",
		"res=-\tssid=-",
		"res",
		"res=",
		"=-",
		"foo=1",
		"v5gw=1.2.3.4",
		"res=- res=-",
		"v4if=eth0 v4if=eth0",
		"res=1.2.3.4,",
		"res=,1.2.3.4",
		"res=1.2.3.4,,5.6.7.8",
		"res=fe80::1%1",
		"res=1.2.3.4:53",
		"res=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
		"ssid=abc",
		"ssid=zz",
		"ssid=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
		"v4if=eth0 v4gw=fd77::1",
		"v6if=eth0 v6gw=10.0.0.1",
		"v4if=eth0 v4gwmac=02:00:00:00:00",
		"v4if=eth0 v4gwmac=02:00:00:00:00:01:02",
		"v4if=eth0 v4gwmac=02-00-00-00-00-01",
		"v4if=eth0 v4gwmac=2:0:0:0:0:1",
		"v4if=eth0 v4gwmac=02:00:00:00:00:0g",
		"v4if=eth0 v4vlan=4096",
		"v4if=eth0 v4vlan=01",
		"v4if=eth0 v4vlan=-1",
		"v4if=eth0 v4vlan=+1",
		"v4if=eth0 v4vlan=1x",
		"v4gw=10.0.0.1",
		"v4gwmac=02:00:00:00:00:01",
		"v6vlan=3",
		"v4if=a,b",
		"v4if=a=b",
		"v4if=0123456789abcdef",
		"v4if=..",
		"v4if=caf\xc3\xa9",
		"res=-\n",
	};
	struct ds_netfp fp;
	char big[DS_NETFP_TEXT_MAX + 10];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ds_netfp_parse(bad[i], &fp) != -EINVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "v4if=", 5);
	assert_int_equal(ds_netfp_parse(big, &fp), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Matching */

static void check_match(const struct ds_netfp *a, const struct ds_netfp *b,
			enum ds_netfp_verdict v, unsigned agree, unsigned differ, bool impostor)
{
	struct ds_netfp_cmp c, c2;
	char s1[128], s2[128];

	ds_netfp_match(a, b, &c);
	if (c.verdict != v || c.agree != agree || c.differ != differ ||
	    !!(c.flags & DS_NETFP_CMP_IMPOSTOR) != impostor)
		fail_msg("got %s agree=%s differ=%s impostor=%d", ds_netfp_verdict_name(c.verdict),
			 ds_netfp_parts_format(c.agree, s1, sizeof(s1)),
			 ds_netfp_parts_format(c.differ, s2, sizeof(s2)),
			 !!(c.flags & DS_NETFP_CMP_IMPOSTOR));
	/* symmetric */
	ds_netfp_match(b, a, &c2);
	assert_int_equal(c.verdict, c2.verdict);
	assert_int_equal(c.agree, c2.agree);
	assert_int_equal(c.differ, c2.differ);
	assert_int_equal(c.flags, c2.flags);
	/* exact <=> equal texts */
	{
		char ta[DS_NETFP_TEXT_MAX], tb[DS_NETFP_TEXT_MAX];

		text_of(a, ta);
		text_of(b, tb);
		assert_int_equal(c.verdict == DS_NETFP_EXACT, strcmp(ta, tb) == 0);
	}
}

#define V4ALL (DS_NETFP_P_V4GW | DS_NETFP_P_V4GWMAC | DS_NETFP_P_V4IF | DS_NETFP_P_V4IFMAC | \
	       DS_NETFP_P_V4VLAN)
#define V6ALL (DS_NETFP_P_V6GW | DS_NETFP_P_V6GWMAC | DS_NETFP_P_V6IF | DS_NETFP_P_V6IFMAC | \
	       DS_NETFP_P_V6VLAN)
#define LOCAL4 (DS_NETFP_P_V4IF | DS_NETFP_P_V4IFMAC | DS_NETFP_P_V4VLAN)
#define LOCAL6 (DS_NETFP_P_V6IF | DS_NETFP_P_V6IFMAC | DS_NETFP_P_V6VLAN)

static void test_match(void **state)
{
	struct ds_netfp a, b, e1, e2;
	struct ds_netaddr r;
	const uint8_t ssid1[] = "home", ssid2[] = "cafe";
	char ta[DS_NETFP_TEXT_MAX], tb[DS_NETFP_TEXT_MAX];

	home(&a);

	/* the same network */
	b = a;
	check_match(&a, &b, DS_NETFP_EXACT, V4ALL | V6ALL | DS_NETFP_P_RES, 0, false);

	/* impostor: same gateway address, another MAC (both families) */
	b = a;
	memcpy(b.af[0].gwmac, MAC_GW2, 6);
	memcpy(b.af[1].gwmac, MAC_GW2, 6);
	check_match(&a, &b, DS_NETFP_PARTIAL,
		    (V4ALL | V6ALL | DS_NETFP_P_RES) & ~(DS_NETFP_P_V4GWMAC | DS_NETFP_P_V6GWMAC),
		    DS_NETFP_P_V4GWMAC | DS_NETFP_P_V6GWMAC, true);

	/* impostor in one family only */
	b = a;
	memcpy(b.af[0].gwmac, MAC_GW2, 6);
	check_match(&a, &b, DS_NETFP_PARTIAL, (V4ALL | V6ALL | DS_NETFP_P_RES) & ~DS_NETFP_P_V4GWMAC,
		    DS_NETFP_P_V4GWMAC, true);

	/* router renumbered: same MAC, other address: partial, not flagged */
	b = a;
	b.af[0].gw = A("10.77.0.254");
	check_match(&a, &b, DS_NETFP_PARTIAL, (V4ALL | V6ALL | DS_NETFP_P_RES) & ~DS_NETFP_P_V4GW,
		    DS_NETFP_P_V4GW, false);

	/* gateway MAC not resolved yet on one side: no evidence either way */
	b = a;
	b.af[0].has_gwmac = false;
	check_match(&a, &b, DS_NETFP_PARTIAL, (V4ALL | V6ALL | DS_NETFP_P_RES) & ~DS_NETFP_P_V4GWMAC,
		    0, false);

	/* another network entirely, same laptop NIC: none */
	ds_netfp_init(&b);
	set_af(&b, DS_NETFP_V4, "192.168.1.1", MAC_GW2, "eth0", MAC_IF, -1);
	r = A("192.168.1.1");
	ds_netfp_set_resolvers(&b, &r, 1);
	check_match(&a, &b, DS_NETFP_NONE, LOCAL4,
		    DS_NETFP_P_V4GW | DS_NETFP_P_V4GWMAC | DS_NETFP_P_RES, false);

	/* only the resolver set agrees (a VPN's resolver): partial */
	ds_netfp_init(&b);
	set_af(&b, DS_NETFP_V4, NULL, NULL, "tun0", NULL, -1);
	r = A("10.77.0.1");
	ds_netfp_set_resolvers(&b, &r, 1);
	check_match(&a, &b, DS_NETFP_PARTIAL, DS_NETFP_P_RES | DS_NETFP_P_V4VLAN, DS_NETFP_P_V4IF,
		    false);

	/* resolver sets overlapping but unequal differ */
	b = a;
	{
		struct ds_netaddr rr[2] = { A("10.77.0.1"), A("10.77.0.2") };

		ds_netfp_set_resolvers(&b, rr, 2);
	}
	check_match(&a, &b, DS_NETFP_PARTIAL, V4ALL | V6ALL, DS_NETFP_P_RES, false);

	/* IPv4-only against IPv6-only on other gateways: nothing agrees */
	ds_netfp_init(&b);
	set_af(&b, DS_NETFP_V6, "fe80::2", MAC_GW2, "wlan0", MAC_GW1, -1);
	e1 = a;
	e1.af[1].route = false;
	memset(&e1.af[1], 0, sizeof(e1.af[1]));
	e1.af[1].vlan = -1;
	e1.nres = 0;
	check_match(&e1, &b, DS_NETFP_NONE, 0, 0, false);

	/* one family present on one side only: not exact, the rest agrees */
	b = a;
	memset(&b.af[1], 0, sizeof(b.af[1]));
	b.af[1].vlan = -1;
	check_match(&a, &b, DS_NETFP_PARTIAL, V4ALL | DS_NETFP_P_RES, 0, false);

	/* VLAN: same everything but the tag differs (another VLAN of the same router) */
	b = a;
	b.af[0].vlan = 10;
	check_match(&a, &b, DS_NETFP_PARTIAL, (V4ALL | V6ALL | DS_NETFP_P_RES) & ~DS_NETFP_P_V4VLAN,
		    DS_NETFP_P_V4VLAN, false);

	/* SSID alone */
	ds_netfp_init(&e1);
	ds_netfp_init(&e2);
	ds_netfp_set_ssid(&e1, ssid1, 4);
	ds_netfp_set_ssid(&e2, ssid1, 4);
	check_match(&e1, &e2, DS_NETFP_EXACT, DS_NETFP_P_SSID, 0, false);
	ds_netfp_set_ssid(&e2, ssid2, 4);
	check_match(&e1, &e2, DS_NETFP_NONE, 0, DS_NETFP_P_SSID, false);
	b = a;
	ds_netfp_set_ssid(&b, ssid1, 4);
	check_match(&a, &b, DS_NETFP_PARTIAL, V4ALL | V6ALL | DS_NETFP_P_RES, 0, false);

	/* no network vs no network */
	ds_netfp_init(&e1);
	ds_netfp_init(&e2);
	check_match(&e1, &e2, DS_NETFP_EXACT, 0, 0, false);
	check_match(&a, &e1, DS_NETFP_NONE, 0, 0, false);

	/* exact <=> the texts are equal, on all of the above shapes */
	b = a;
	b.af[1].has_ifmac = false;
	text_of(&a, ta);
	text_of(&b, tb);
	assert_string_not_equal(ta, tb);
	assert_false(ds_netfp_equal(&a, &b));

	assert_string_equal(ds_netfp_verdict_name(DS_NETFP_EXACT), "exact");
	assert_string_equal(ds_netfp_verdict_name(DS_NETFP_PARTIAL), "partial");
	assert_string_equal(ds_netfp_verdict_name(DS_NETFP_NONE), "none");
	assert_string_equal(ds_netfp_parts_format(DS_NETFP_P_V4GWMAC | DS_NETFP_P_RES, ta, sizeof(ta)),
			    "v4gwmac,res");
	assert_string_equal(ds_netfp_parts_format(0, ta, sizeof(ta)), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_text_roundtrip),
		cmocka_unit_test(test_text_full),
		cmocka_unit_test(test_text_empty),
		cmocka_unit_test(test_text_canonical),
		cmocka_unit_test(test_text_reject),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
