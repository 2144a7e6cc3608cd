/*
 * test_links.c -- the link table (highest source in force, revert, flush),
 * the words of a link's configuration (resolvers, domains), systemd-
 * networkd's state files, the resolv.conf source as a link, a link's own
 * fingerprint and the reverse zones of a prefix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/netinfo.h"

static struct ds_linkconf conf(int ifindex, enum ds_link_source src, const char *dns,
			       const char *domain)
{
	struct ds_linkconf lc;

	ds_linkconf_init(&lc, ifindex, src);
	snprintf(lc.ifname, sizeof(lc.ifname), "if%d", ifindex);
	if (dns)
		assert_int_equal(ds_linkconf_add_dns(&lc, dns), 0);
	if (domain)
		assert_int_equal(ds_linkconf_add_domain(&lc, domain), 0);
	return lc;
}

static void test_table_sources(void **state)
{
	struct ds_linktab *t = ds_linktab_new();
	struct ds_linkconf rc = conf(3, DS_LINKSRC_RESOLVCONF, "10.0.0.1", "home.example");
	struct ds_linkconf nd = conf(3, DS_LINKSRC_NETWORKD, "10.0.0.2", NULL);
	struct ds_linkconf ctl = conf(3, DS_LINKSRC_DOTCTL, "10.0.0.3", "~corp.example");
	struct ds_linkconf vpn = conf(5, DS_LINKSRC_RESOLVE1, "10.99.0.1", "~corp.example");

	assert_non_null(t);
	assert_int_equal(ds_linktab_set(t, &rc), 1);
	assert_int_equal(ds_linktab_set(t, &rc), 0);        /* the same again: no change */
	assert_int_equal(ds_linktab_set(t, &ctl), 1);       /* the highest wins */
	assert_int_equal(ds_linktab_set(t, &nd), 0);        /* below dotctl: not in force */
	assert_int_equal(ds_linktab_get(t, 3)->source, DS_LINKSRC_DOTCTL);
	assert_int_equal(ds_linktab_sources(t, 3),
			 1u << DS_LINKSRC_RESOLVCONF | 1u << DS_LINKSRC_NETWORKD | 1u << DS_LINKSRC_DOTCTL);
	assert_int_equal(ds_linktab_set(t, &vpn), 1);
	assert_int_equal(ds_linktab_count(t), 2);
	assert_int_equal(ds_linktab_at(t, 0)->ifindex, 3);  /* by ifindex */
	assert_int_equal(ds_linktab_at(t, 1)->ifindex, 5);
	assert_null(ds_linktab_at(t, 2));
	/* revert: the next source below comes back */
	assert_int_equal(ds_linktab_revert(t, 3, DS_LINKSRC_NETWORKD), 0); /* was not in force */
	assert_int_equal(ds_linktab_revert(t, 3, DS_LINKSRC_DOTCTL), 1);
	assert_int_equal(ds_linktab_get(t, 3)->source, DS_LINKSRC_RESOLVCONF);
	assert_true(ds_linkconf_equal(ds_linktab_get(t, 3), &rc));
	assert_int_equal(ds_linktab_revert(t, 3, DS_LINKSRC_DOTCTL), 0);
	assert_int_equal(ds_linktab_revert(t, 3, DS_LINKSRC_NONE), -EINVAL);
	/* one source's flush; a link nobody configures is gone */
	assert_int_equal(ds_linktab_flush(t, DS_LINKSRC_RESOLVE1), 1);
	assert_null(ds_linktab_get(t, 5));
	assert_int_equal(ds_linktab_count(t), 1);
	assert_int_equal(ds_linktab_set(t, &nd), 1);
	assert_int_equal(ds_linktab_flush(t, DS_LINKSRC_NONE), 1);
	assert_int_equal(ds_linktab_count(t), 0);
	/* bad values */
	rc.ifindex = 0;
	assert_int_equal(ds_linktab_set(t, &rc), -EINVAL);
	rc.ifindex = 3;
	rc.source = DS_LINKSRC_NONE;
	assert_int_equal(ds_linktab_set(t, &rc), -EINVAL);
	ds_linktab_free(t);
}

static void test_table_full(void **state)
{
	struct ds_linktab *t = ds_linktab_new();

	for (int i = 1; i <= DS_LINKTAB_MAX; i++) {
		struct ds_linkconf lc = conf(i, DS_LINKSRC_DOTCTL, "10.0.0.1", NULL);
		assert_int_equal(ds_linktab_set(t, &lc), 1);
	}
	{
		struct ds_linkconf lc = conf(DS_LINKTAB_MAX + 1, DS_LINKSRC_DOTCTL, "10.0.0.1", NULL);
		assert_int_equal(ds_linktab_set(t, &lc), -E2BIG);
	}
	ds_linktab_free(t);
}

static void test_domains(void **state)
{
	struct ds_link_domain d;
	struct ds_linkconf lc;

	assert_int_equal(ds_link_domain_parse("Corp.Example.", &d), 0);
	assert_string_equal(d.name, "corp.example");
	assert_false(d.route_only);
	assert_int_equal(ds_link_domain_parse("~corp.example", &d), 0);
	assert_true(d.route_only);
	assert_int_equal(ds_link_domain_parse("~.", &d), 0);
	assert_string_equal(d.name, "");
	assert_true(d.route_only);
	assert_int_equal(ds_link_domain_parse("_msdcs.corp.example", &d), 0);
	assert_int_equal(ds_link_domain_parse(".", &d), -EINVAL);   /* the root is not searched */
	assert_int_equal(ds_link_domain_parse("", &d), -EINVAL);
	assert_int_equal(ds_link_domain_parse("a..b", &d), -EINVAL);
	assert_int_equal(ds_link_domain_parse("-a.b", &d), -EINVAL);
	assert_int_equal(ds_link_domain_parse("a-.b", &d), -EINVAL);
	assert_int_equal(ds_link_domain_parse("a b", &d), -EINVAL);
	assert_int_equal(ds_link_domain_parse("a\001b", &d), -EINVAL);
	{
		char label[80];

		memset(label, 'x', 64);
		label[64] = '\0';
		assert_int_equal(ds_link_domain_parse(label, &d), -EINVAL);
		label[63] = '\0';
		assert_int_equal(ds_link_domain_parse(label, &d), 0);
	}
	/* the same name twice: one entry, searched wins */
	ds_linkconf_init(&lc, 1, DS_LINKSRC_DOTCTL);
	assert_int_equal(ds_linkconf_add_domain(&lc, "~corp.example"), 0);
	assert_int_equal(ds_linkconf_add_domain(&lc, "corp.example"), 0);
	assert_int_equal(lc.ndomains, 1);
	assert_false(lc.domains[0].route_only);
	/* default route: unset means yes unless every domain is route-only */
	ds_linkconf_init(&lc, 1, DS_LINKSRC_DOTCTL);
	assert_true(ds_linkconf_default_route(&lc));
	assert_int_equal(ds_linkconf_add_domain(&lc, "~corp.example"), 0);
	assert_false(ds_linkconf_default_route(&lc));
	lc.default_route = DS_YES;
	assert_true(ds_linkconf_default_route(&lc));
	for (int i = 1; i < DS_LINK_MAX_DOMAINS; i++) {
		char n[32];
		snprintf(n, sizeof(n), "d%d.example", i);
		assert_int_equal(ds_linkconf_add_domain(&lc, n), 0);
	}
	assert_int_equal(ds_linkconf_add_domain(&lc, "one.too.many"), -E2BIG);
}

static void test_dns_words(void **state)
{
	struct ds_link_dns d;
	const struct sockaddr_in *sin = (const void *)&d.addr;
	const struct sockaddr_in6 *sin6 = (const void *)&d.addr;

	assert_int_equal(ds_link_dns_parse("10.99.0.1", &d), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 53);
	assert_int_equal(ds_link_dns_parse("10.99.0.1:5353", &d), 0);
	assert_int_equal(ntohs(sin->sin_port), 5353);
	assert_int_equal(ds_link_dns_parse("[fd99::1]:853#Dns.Corp.Example", &d), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 853);
	assert_string_equal(d.server_name, "dns.corp.example");
	assert_int_equal(ds_link_dns_parse("fd99::1", &d), 0);
	assert_int_equal(ntohs(sin6->sin6_port), 53);
	assert_int_equal(ds_link_dns_parse("fe80::1%1", &d), 0);
	assert_int_equal(sin6->sin6_scope_id, 1);
	/* networkd's forms: the scope after the port, inside the brackets */
	assert_int_equal(ds_link_dns_parse("[fe80::1]:5353%1#ns.example", &d), 0);
	assert_int_equal(sin6->sin6_scope_id, 1);
	assert_int_equal(ntohs(sin6->sin6_port), 5353);
	assert_int_equal(ds_link_dns_parse("[fe80::1%1]:53", &d), 0);
	assert_int_equal(sin6->sin6_scope_id, 1);
	assert_int_equal(ds_link_dns_parse("10.0.0.1:53%1", &d), 0); /* an IPv4 scope means nothing */
	assert_int_equal(ntohs(sin->sin_port), 53);
	assert_int_equal(ds_link_dns_parse("10.0.0.1%", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("0.0.0.0", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("::", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("10.99.0.1:0", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("10.99.0.1:70000", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("10.99.0.1#", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("[fd99::1", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("corp.example", &d), -EINVAL);
	assert_int_equal(ds_link_dns_parse("", &d), -EINVAL);
}

/* A link-local server a link gives without a scope is reached through
 * that link (connect(2) refuses fe80:: without one); a scope given stays;
 * other addresses get none */
static void test_dns_link_local_scope(void **state)
{
	struct ds_linkconf lc = conf(7, DS_LINKSRC_DOTCTL, "fe80::53", NULL);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&lc.dns[0].addr;

	(void)state;
	assert_int_equal(s6->sin6_scope_id, 7);
	assert_int_equal(ds_linkconf_add_dns(&lc, "fe80::54%3"), 0);
	assert_int_equal(((const struct sockaddr_in6 *)&lc.dns[1].addr)->sin6_scope_id, 3);
	assert_int_equal(ds_linkconf_add_dns(&lc, "fd99::1"), 0);
	assert_int_equal(((const struct sockaddr_in6 *)&lc.dns[2].addr)->sin6_scope_id, 0);
	/* fe80::53 and fe80::53%7 are the same server of this link */
	assert_int_equal(ds_linkconf_add_dns(&lc, "fe80::53%7"), 0);
	assert_int_equal(lc.ndns, 3);
}

static void test_networkd(void **state)
{
	static const char file[] =
		"# This is private data. Do not parse.\n"
		"ADMIN_STATE=configured\n"
		"OPER_STATE=routable\n"
		"NETWORK_FILE=/etc/systemd/network/wg0.network\n"
		"NETWORK_FILE_DROPINS=\"\"\n"
		"DNS=10.99.0.1 [fd99::1]:5353 10.99.0.2#dns.corp.example\n"
		"NTP=\n"
		"DOMAINS=lab.example\n"
		"ROUTE_DOMAINS=corp.example .\n"
		"LLMNR=no\n"
		"MDNS=no\n"
		"DNS_DEFAULT_ROUTE=no\n"
		"DNS_OVER_TLS=yes\n"
		"DNSSEC=allow-downgrade\n";
	struct ds_linkconf lc;
	unsigned bad = 99;

	assert_int_equal(ds_networkd_parse(file, sizeof(file) - 1, 5, &lc, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(lc.ifindex, 5);
	assert_int_equal(lc.source, DS_LINKSRC_NETWORKD);
	assert_int_equal(lc.ndns, 3);
	assert_string_equal(lc.dns[2].server_name, "dns.corp.example");
	assert_int_equal(lc.ndomains, 3);
	assert_string_equal(lc.domains[0].name, "lab.example");
	assert_false(lc.domains[0].route_only);
	assert_string_equal(lc.domains[1].name, "corp.example");
	assert_true(lc.domains[1].route_only);
	assert_string_equal(lc.domains[2].name, "");  /* "~.": the root */
	assert_true(lc.domains[2].route_only);
	assert_int_equal(lc.default_route, DS_NO);
	assert_int_equal(lc.dot, DS_LINKDOT_YES);
	assert_string_equal(lc.dnssec, "allow-downgrade");
	assert_string_equal(lc.llmnr, "no");

	/* unmanaged: nothing of it is used */
	{
		static const char um[] = "ADMIN_STATE=unmanaged\nDNS=10.0.0.1\n";
		assert_int_equal(ds_networkd_parse(um, sizeof(um) - 1, 2, &lc, NULL), 1);
		assert_int_equal(lc.ndns, 0);
	}
	/* nothing to configure */
	{
		static const char none[] = "ADMIN_STATE=configured\nDNS=\nDOMAINS=\n";
		assert_int_equal(ds_networkd_parse(none, sizeof(none) - 1, 2, &lc, NULL), 1);
	}
	/* values we cannot read are left out and counted, the rest used;
	 * no final newline, CRLF, a NUL in a line */
	{
		static const char hostile[] = "DNS=10.0.0.1 bogus 999.1.1.1\r\n"
					      "ROUTE_DOMAINS=a..b ok.example\n"
					      "DNS_DEFAULT_ROUTE=maybe\n"
					      "DNS=10.0.0.2\0evil\n"
					      "DNSSEC=YES!\n"
					      "DOMAINS=last.example";
		assert_int_equal(ds_networkd_parse(hostile, sizeof(hostile) - 1, 2, &lc, &bad), 0);
		assert_int_equal(lc.ndns, 1);
		assert_int_equal(lc.ndomains, 2);
		assert_string_equal(lc.domains[1].name, "last.example");
		assert_int_equal(lc.default_route, DS_UNSET);
		assert_string_equal(lc.dnssec, "");
		assert_int_equal(bad, 6);
	}
	{
		char *big = calloc(1, DS_NETWORKD_MAX_SIZE + 1);
		assert_int_equal(ds_networkd_parse(big, DS_NETWORKD_MAX_SIZE + 1, 2, &lc, NULL), -EFBIG);
		free(big);
	}
}

static void test_from_resolvconf(void **state)
{
	static const char text[] = "nameserver 10.81.0.1\nnameserver fd81::1\nsearch Home.Example lan\n";
	struct ds_resolvconf rc;
	struct ds_linkconf lc;

	assert_int_equal(ds_resolvconf_parse(text, sizeof(text) - 1, &rc), 0);
	ds_linkconf_from_resolvconf(&rc, 4, &lc);
	assert_int_equal(lc.ifindex, 4);
	assert_int_equal(lc.source, DS_LINKSRC_RESOLVCONF);
	assert_int_equal(lc.ndns, 2);
	assert_int_equal(ntohs(((struct sockaddr_in *)&lc.dns[0].addr)->sin_port), 53);
	assert_int_equal(lc.ndomains, 2);
	assert_string_equal(lc.domains[0].name, "home.example");
	assert_false(lc.domains[0].route_only);
	assert_int_equal(lc.default_route, DS_UNSET);
}

static void test_link_fingerprint(void **state)
{
	struct ds_netaddr res[2];
	struct ds_netfp fp, back;
	char text[DS_NETFP_TEXT_MAX];

	assert_int_equal(ds_netaddr_parse("10.99.0.1", &res[0]), 0);
	assert_int_equal(ds_netaddr_parse("10.99.0.2", &res[1]), 0);
	/* "lo" exists everywhere and has no Ethernet address */
	assert_int_equal(ds_netfp_of_link("lo", res, 2, &fp), 0);
	assert_true(ds_netfp_format(&fp, text, sizeof(text)) > 0);
	assert_string_equal(text, "res=10.99.0.1,10.99.0.2 ssid=- v4gw=- v4gwmac=- v4if=lo v4ifmac=- "
				  "v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-");
	/* the store keeps the text: it parses back to the same value */
	assert_int_equal(ds_netfp_parse(text, &back), 0);
	assert_true(ds_netfp_equal(&fp, &back));
}

static void zones(const char *addr, unsigned len, int want_n, const char *first, const char *last)
{
	char out[DS_REVZONE_SPLIT][DS_REVZONE_MAX];
	struct ds_netaddr a;
	int n;

	assert_int_equal(ds_netaddr_parse(addr, &a), 0);
	n = ds_reverse_zones(&a, len, out, DS_REVZONE_SPLIT);
	assert_int_equal(n, want_n);
	if (n > 0) {
		assert_string_equal(out[0], first);
		assert_string_equal(out[n - 1], last);
	}
}

static void test_reverse_zones(void **state)
{
	zones("10.99.0.2", 24, 1, "0.99.10.in-addr.arpa", "0.99.10.in-addr.arpa");
	zones("10.99.0.2", 16, 1, "99.10.in-addr.arpa", "99.10.in-addr.arpa");
	zones("10.99.0.2", 32, 1, "2.0.99.10.in-addr.arpa", "2.0.99.10.in-addr.arpa");
	/* between labels: the zones one label longer */
	zones("10.99.16.2", 20, 16, "16.99.10.in-addr.arpa", "31.99.10.in-addr.arpa");
	zones("10.99.1.2", 23, 2, "0.99.10.in-addr.arpa", "1.99.10.in-addr.arpa");
	/* too many: the shorter zone that holds it */
	zones("10.128.0.1", 9, 1, "10.in-addr.arpa", "10.in-addr.arpa");
	zones("10.0.0.1", 0, 0, "", "");
	zones("fd99::1", 64, 1, "0.0.0.0.0.0.0.0.0.0.0.0.9.9.d.f.ip6.arpa",
	      "0.0.0.0.0.0.0.0.0.0.0.0.9.9.d.f.ip6.arpa");
	zones("fd99:1234::1", 30, 4, "4.3.2.1.9.9.d.f.ip6.arpa", "7.3.2.1.9.9.d.f.ip6.arpa");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sources),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_dns_words),
		cmocka_unit_test(test_dns_link_local_scope),
		cmocka_unit_test(test_networkd),
		cmocka_unit_test(test_from_resolvconf),
		cmocka_unit_test(test_link_fingerprint),
		cmocka_unit_test(test_reverse_zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
