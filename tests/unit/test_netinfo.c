/*
 * test_netinfo.c -- network fingerprint value (text, parse, id, match),
 * link parsing from hand-built RTM_NEWLINK messages (VLAN), resolv.conf
 * parsing and the resolv.conf watcher.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

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

/* ------------------------------------------------------------------ */
/* Link messages (VLAN) */

struct mb {
	uint8_t buf[1024];
	size_t len;
};

static size_t mb_attr_start(struct mb *m, uint16_t type)
{
	size_t at = m->len;
	struct nlattr *a = (struct nlattr *)(m->buf + at);

	a->nla_type = type;
	m->len += NLA_HDRLEN;
	return at;
}

static void mb_attr_end(struct mb *m, size_t at)
{
	struct nlattr *a = (struct nlattr *)(m->buf + at);

	a->nla_len = (uint16_t)(m->len - at);
	m->len = NLA_ALIGN(m->len);
}

static void mb_attr(struct mb *m, uint16_t type, const void *data, size_t len)
{
	size_t at = mb_attr_start(m, type);

	memcpy(m->buf + m->len, data, len);
	m->len += len;
	mb_attr_end(m, at);
}

/* An RTM_NEWLINK for ifindex 5 named name; kind NULL: no IFLA_LINKINFO;
 * vlan < 0: no IFLA_VLAN_ID; vlan_len: its payload size. */
static size_t build_link(struct mb *m, uint16_t type, unsigned flags, const char *name,
			 const char *kind, long vlan, size_t vlan_len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct ifinfomsg *ifi;
	size_t li, data;
	uint32_t cc = 4;

	memset(m, 0, sizeof(*m));
	m->len = NLMSG_HDRLEN;
	ifi = (struct ifinfomsg *)(m->buf + m->len);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 5;
	ifi->ifi_flags = flags;
	m->len += NLMSG_ALIGN(sizeof(*ifi));
	mb_attr(m, IFLA_IFNAME, name, strlen(name) + 1);
	mb_attr(m, IFLA_ADDRESS, MAC_IF, 6);
	mb_attr(m, IFLA_CARRIER_CHANGES, &cc, sizeof(cc));
	if (kind) {
		li = mb_attr_start(m, IFLA_LINKINFO);
		mb_attr(m, IFLA_INFO_KIND, kind, strlen(kind) + 1);
		if (vlan >= 0) {
			uint16_t id = (uint16_t)vlan;

			data = mb_attr_start(m, IFLA_INFO_DATA);
			mb_attr(m, IFLA_VLAN_ID, &id, vlan_len);
			mb_attr_end(m, data);
		}
		mb_attr_end(m, li);
	}
	h->nlmsg_len = (uint32_t)m->len;
	h->nlmsg_type = type;
	return m->len;
}

static void test_link_vlan(void **state)
{
	struct ds_net_link k;
	struct mb m;
	size_t n;

	n = build_link(&m, RTM_NEWLINK, IFF_UP | IFF_RUNNING, "eth0.42", "vlan", 42, 2);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), 0);
	assert_int_equal(k.ifindex, 5);
	assert_string_equal(k.name, "eth0.42");
	assert_int_equal(k.vlan, 42);
	assert_true(k.has_mac);
	assert_memory_equal(k.mac, MAC_IF, 6);
	assert_true(k.up);
	assert_true(k.running);
	assert_true(k.has_carrier_changes);
	assert_int_equal(k.carrier_changes, 4);

	n = build_link(&m, RTM_NEWLINK, IFF_UP, "v0", "vlan", 0, 2);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), 0);
	assert_int_equal(k.vlan, 0);
	assert_false(k.running);
	n = build_link(&m, RTM_DELLINK, 0, "v4095", "vlan", 4095, 2);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), 0);
	assert_int_equal(k.vlan, 4095);
	assert_false(k.up);

	/* not a VLAN */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0", NULL, -1, 0);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), 0);
	assert_int_equal(k.vlan, -1);
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "veth0", "veth", -1, 0);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), 0);
	assert_int_equal(k.vlan, -1);
	/* an impossible id */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.x", "vlan", 4096, 2);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.x", "vlan", 65535, 2);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
}

/* The message need not be aligned: at an odd address it parses the same
 * (libnl's nlmsg_convert read the header in place, a bus error on a CPU
 * that traps unaligned loads, such as MIPS; the fuzz target passes its
 * input after one selector octet). */
static void test_link_unaligned(void **state)
{
	struct ds_net_link k;
	struct mb m;
	uint8_t *p;
	size_t n;

	n = build_link(&m, RTM_NEWLINK, IFF_UP | IFF_RUNNING, "eth0.42", "vlan", 42, 2);
	p = malloc(n + 1);
	assert_non_null(p);
	memcpy(p + 1, m.buf, n);
	assert_int_equal(ds_net_link_parse(p + 1, n, &k), 0);
	assert_int_equal(k.ifindex, 5);
	assert_string_equal(k.name, "eth0.42");
	assert_int_equal(k.vlan, 42);
	assert_int_equal(k.carrier_changes, 4);
	free(p);
}

static void test_link_hostile(void **state)
{
	struct ds_net_link k = { .ifindex = 1234 };
	struct mb m;
	struct nlmsghdr *h = (struct nlmsghdr *)m.buf;
	size_t n, i, cut;
	unsigned seed = 12345;
	int r;

	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.42", "vlan", 42, 2);
	/* message longer than the buffer claims */
	assert_int_equal(ds_net_link_parse(m.buf, n - 1, &k), -EINVAL);
	assert_int_equal(ds_net_link_parse(m.buf, 8, &k), -EINVAL);
	/* wrong type */
	h->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	h->nlmsg_type = RTM_NEWLINK;
	/* header length too small */
	h->nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	assert_int_equal(k.ifindex, 1234); /* untouched on failure */
	/* a short IFLA_VLAN_ID violates libnl's policy */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.42", "vlan", 42, 1);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	/* kind "vlan" without IFLA_INFO_DATA: libnl 3.7 would crash in
	 * rtnl_link_vlan_get_id; refused before */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.42", "vlan", -1, 0);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	/* an IFLA_INFO_KIND whose length swallows the IFLA_INFO_DATA after it */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.42", "vlan", 42, 2);
	for (i = NLMSG_HDRLEN; i + 8 <= n; i += 4) {
		if (memcmp(m.buf + i + 4, "vlan", 5) == 0) {
			struct nlattr *ka = (struct nlattr *)(m.buf + i);

			ka->nla_len = (uint16_t)(n - i);
			break;
		}
	}
	assert_true(i + 8 <= n);
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);
	/* ifindex 0 */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0", NULL, -1, 0);
	((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index = 0;
	assert_int_equal(ds_net_link_parse(m.buf, n, &k), -EINVAL);

	/* truncations and random corruption never crash, never read past */
	n = build_link(&m, RTM_NEWLINK, IFF_UP, "eth0.42", "vlan", 42, 2);
	for (cut = NLMSG_HDRLEN; cut < n; cut++) {
		struct mb c = m;

		((struct nlmsghdr *)c.buf)->nlmsg_len = (uint32_t)cut;
		(void)ds_net_link_parse(c.buf, cut, &k);
	}
	for (i = 0; i < 50000; i++) {
		struct mb c = m;
		int flips = 1 + (int)(rand_r(&seed) % 4), j;

		for (j = 0; j < flips; j++)
			c.buf[NLMSG_HDRLEN + rand_r(&seed) % (n - NLMSG_HDRLEN)] = (uint8_t)rand_r(&seed);
		r = ds_net_link_parse(c.buf, n, &k);
		if (!(r == 0 || r == -EINVAL || r == -ENOMEM))
			fail_msg("r=%d", r);
		if (r == 0)
			assert_true(k.vlan >= -1 && k.vlan <= 4095 && strlen(k.name) < IF_NAMESIZE);
	}
}

/* ------------------------------------------------------------------ */
/* resolv.conf */

static void test_resolvconf_good(void **state)
{
	static const char f[] =
		"# Generated by NetworkManager\n"
		"search example.org lan\n"
		"options edns0 trust-ad\n"
		"nameserver 10.77.0.1\n"
		"nameserver\t192.0.2.53   # the second\n"
		"nameserver 2001:db8::53;comment\n"
		"nameserver 10.77.0.1\n"          /* duplicate */
		"domain lan\r\n"
		"nameserver 198.51.100.1\r\n"     /* CRLF */
		"nameservers 1.1.1.1\n"           /* another keyword: ignored */
		"; nameserver 9.9.9.9\n"
		"\n"
		"nameserver fe80::1%1";           /* no final newline, scoped */
	struct ds_resolvconf rc;
	char s[DS_NETADDR_STRLEN];

	assert_int_equal(ds_resolvconf_parse(f, sizeof(f) - 1, &rc), 0);
	assert_int_equal(rc.bad_lines, 0);
	assert_false(rc.truncated);
	assert_int_equal(rc.nres, 5);
	assert_string_equal(ds_netaddr_format(&rc.res[0], s, sizeof(s)), "10.77.0.1");
	assert_string_equal(ds_netaddr_format(&rc.res[1], s, sizeof(s)), "192.0.2.53");
	assert_string_equal(ds_netaddr_format(&rc.res[2], s, sizeof(s)), "2001:db8::53");
	assert_string_equal(ds_netaddr_format(&rc.res[3], s, sizeof(s)), "198.51.100.1");
	assert_string_equal(ds_netaddr_format(&rc.res[4], s, sizeof(s)), "fe80::1");
	assert_int_equal(rc.res[4].scope, 1);

	assert_int_equal(ds_resolvconf_parse("", 0, &rc), 0);
	assert_int_equal(rc.nres, 0);
}

static void test_resolvconf_hostile(void **state)
{
	static const char *const bad[] = {
		"nameserver",
		"nameserver ",
		"nameserver #1.2.3.4",
		"nameserver 1.2.3.4 5.6.7.8",
		"nameserver 1.2.3",
		"nameserver 1.2.3.4.5",
		"nameserver 010.1.1.1",
		"nameserver 1.2.3.4x",
		"nameserver 1.2.3.4:53",
		"nameserver [2001:db8::1]",
		"nameserver fe80::1",
		"nameserver fe80::1%nosuchif9",
		"nameserver 2001:db8::1%1",
		"nameserver 0.0.0.0",
		"nameserver ::",
		"nameserver 0x7f.1",
		" nameserver 1.2.3.4",
		"\tnameserver 1.2.3.4",
		"nameserver 1.2.3.4\r\r",
	};
	struct ds_resolvconf rc;
	char buf[4096], *big;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ds_resolvconf_parse(bad[i], strlen(bad[i]), &rc), 0);
		if (rc.nres != 0 || rc.bad_lines != 1)
			fail_msg("not refused: \"%s\"", bad[i]);
	}
	/* a NUL byte hides nothing */
	n = (size_t)snprintf(buf, sizeof(buf), "nameserver 1.2.3.4X\nnameserver 5.6.7.8\n");
	buf[18] = '\0';
	assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
	assert_int_equal(rc.nres, 1);
	assert_int_equal(rc.bad_lines, 1);
	/* an overlong line */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "nameserver 1.2.3.4", 18);
	buf[DS_RESOLVCONF_MAX_LINE + 5] = '\n';
	memcpy(buf + DS_RESOLVCONF_MAX_LINE + 6, "nameserver 5.6.7.8\n", 19);
	assert_int_equal(ds_resolvconf_parse(buf, DS_RESOLVCONF_MAX_LINE + 25, &rc), 0);
	assert_int_equal(rc.nres, 1);
	assert_int_equal(rc.bad_lines, 1);
	/* too many */
	n = 0;
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "nameserver 192.0.2.%zu\n", i + 1);
	assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
	assert_int_equal(rc.nres, DS_NETFP_MAX_RES);
	assert_true(rc.truncated);
	/* too big */
	big = calloc(1, DS_RESOLVCONF_MAX_SIZE + 1);
	assert_non_null(big);
	assert_int_equal(ds_resolvconf_parse(big, DS_RESOLVCONF_MAX_SIZE + 1, &rc), -EFBIG);
	assert_int_equal(ds_resolvconf_parse(big, DS_RESOLVCONF_MAX_SIZE, &rc), 0);
	free(big);
	/* binary garbage */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7919 % 251);
	assert_int_equal(ds_resolvconf_parse(buf, sizeof(buf), &rc), 0);
	assert_int_equal(rc.nres, 0);
}

static void test_resolvconf_search(void **state)
{
	static const char good[] =
		"search first.example\n"
		"nameserver 192.0.2.53\n"
		"search Corp.Example.  lan\tcorp.example # a comment\n"
		"search\n"                             /* nothing: not a search line */
		"searchx foo\n";                       /* another keyword */
	static const char *const bad[] = {
		"search a..b",
		"search .example",
		"search .",
		"search under_score.example",
		"search -lead.example",
		"search trail-.example",
		"search sp%ce.example",
		"search x.example\001",
		"search caf\xc3\xa9.example",
		" search indented.example",
		"domain one.example two.example",
		"domain ",
		"search good.example bad!.example",
		"search 01234567890123456789012345678901234567890123456789012345678901234.example",
	};
	struct ds_resolvconf rc;
	char buf[2048];
	size_t i, n;

	assert_int_equal(ds_resolvconf_parse(good, sizeof(good) - 1, &rc), 0);
	assert_int_equal(rc.bad_search, 0);
	assert_int_equal(rc.nres, 1);
	assert_int_equal(rc.nsearch, 2);
	assert_string_equal(rc.search[0], "corp.example");
	assert_string_equal(rc.search[1], "lan");

	/* domain: the last line wins, as for libc */
	assert_int_equal(ds_resolvconf_parse("search a.example\ndomain b.example.\r\n", 36, &rc), 0);
	assert_int_equal(rc.nsearch, 1);
	assert_string_equal(rc.search[0], "b.example");

	/* a bad line is ignored; the good one before it stays */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "search ok.example\n%s\n", bad[i]);
		assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
		if (rc.bad_search != 1 || rc.nsearch != 1 || strcmp(rc.search[0], "ok.example"))
			fail_msg("not refused: \"%s\"", bad[i]);
	}

	/* bounded: the longest name fits, one more octet does not; at most
	 * DS_RESOLVCONF_MAX_SEARCH names */
	n = (size_t)snprintf(buf, sizeof(buf), "search ");
	for (i = 0; i < 4; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s%s", i < 3 ? 63 : 61,
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				      i < 3 ? "." : "");
	assert_int_equal(n - 7, DS_RESOLVCONF_NAME_MAX);
	assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
	assert_int_equal(rc.nsearch, 1);
	assert_int_equal(strlen(rc.search[0]), DS_RESOLVCONF_NAME_MAX);
	buf[n++] = 'a';
	assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
	assert_int_equal(rc.bad_search, 1);
	assert_int_equal(rc.nsearch, 0);
	n = (size_t)snprintf(buf, sizeof(buf), "search");
	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " d%zu.example", i);
	assert_int_equal(ds_resolvconf_parse(buf, n, &rc), 0);
	assert_int_equal(rc.nsearch, DS_RESOLVCONF_MAX_SEARCH);
	assert_string_equal(rc.search[5], "d5.example");
}

/* ------------------------------------------------------------------ */
/* resolv.conf files and the watcher */

struct rw_state {
	int calls;
	int err;
	size_t nres;
	struct event_base *base;
};

static void rw_cb(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc, int err, void *arg)
{
	struct rw_state *s = arg;

	s->calls++;
	s->err = err;
	s->nres = rc->nres;
	event_base_loopbreak(s->base);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Run the loop until a callback or 3 s. */
static void run(struct rw_state *s)
{
	struct timeval tv = { 3, 0 };

	event_base_loopexit(s->base, &tv);
	event_base_dispatch(s->base);
}

static void test_resolvwatch(void **state)
{
	char dir[] = "/tmp/dotstub-netinfo-XXXXXX", path[256], tmp[256], link[256];
	struct rw_state s = { 0 };
	struct ds_resolvwatch *rw;
	struct ds_resolvconf rc;
	int calls;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	snprintf(tmp, sizeof(tmp), "%s/resolv.conf.tmp", dir);
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	assert_int_equal(ds_resolvconf_load(path, &rc), -ENOENT);
	write_file(path, "nameserver 10.0.0.1\n");
	assert_int_equal(ds_resolvconf_load(path, &rc), 0);
	assert_int_equal(rc.nres, 1);

	s.base = event_base_new();
	assert_non_null(s.base);
	assert_int_equal(ds_resolvwatch_new(s.base, path, 50, rw_cb, &s, &rw), 0);
	run(&s);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.nres, 1);

	/* atomic replace, as DHCP clients do */
	write_file(tmp, "nameserver 10.0.0.1\nnameserver 10.0.0.2\n");
	assert_int_equal(rename(tmp, path), 0);
	run(&s);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.nres, 2);

	/* rewritten in place with the same content: no call */
	calls = s.calls;
	write_file(path, "nameserver 10.0.0.1\nnameserver 10.0.0.2\n");
	{
		struct timeval tv = { 0, 300000 };

		event_base_loopexit(s.base, &tv);
		event_base_dispatch(s.base);
	}
	assert_int_equal(s.calls, calls);

	/* removed */
	assert_int_equal(unlink(path), 0);
	run(&s);
	assert_int_equal(s.err, -ENOENT);
	assert_int_equal(s.nres, 0);

	/* an unrelated file in the directory is not ours */
	calls = s.calls;
	write_file(tmp, "nameserver 10.9.9.9\n");
	{
		struct timeval tv = { 0, 300000 };

		event_base_loopexit(s.base, &tv);
		event_base_dispatch(s.base);
	}
	assert_int_equal(s.calls, calls);
	ds_resolvwatch_free(rw);

	/* a symlink: the target's directory is watched too */
	write_file(path, "nameserver 10.0.0.3\n");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ds_resolvwatch_new(s.base, link, 50, rw_cb, &s, &rw), 0);
	run(&s);
	assert_int_equal(s.nres, 1);
	write_file(path, "nameserver 10.0.0.3\nnameserver 10.0.0.4\n");
	run(&s);
	assert_int_equal(s.nres, 2);
	ds_resolvwatch_free(rw);

	assert_int_equal(ds_resolvwatch_new(s.base, "/nonexistent-dir-x/resolv.conf", 0, rw_cb, &s,
					    &rw), -ENOENT);
	unlink(link);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
	event_base_free(s.base);
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
		cmocka_unit_test(test_link_vlan),
		cmocka_unit_test(test_link_unaligned),
		cmocka_unit_test(test_link_hostile),
		cmocka_unit_test(test_resolvconf_good),
		cmocka_unit_test(test_resolvconf_hostile),
		cmocka_unit_test(test_resolvconf_search),
		cmocka_unit_test(test_resolvwatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
