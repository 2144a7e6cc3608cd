/*
 * test_netread.c -- link parsing from hand-built RTM_NEWLINK messages: the
 * VLAN id, unaligned attributes, hostile lengths.
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

#include <cmocka.h>

#include "dotstub/netinfo.h"

static const uint8_t MAC_IF[6] = { 0x02, 0, 0, 0, 0, 0x10 };

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_vlan),
		cmocka_unit_test(test_link_unaligned),
		cmocka_unit_test(test_link_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
