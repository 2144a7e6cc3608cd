/*
 * linkdnr.c -- the control request "link IFACE dnr-option dhcp4|dhcp6
 * [HEX]": a DHCP client hands over the Encrypted DNS option (RFC 9463:
 * OPTION_V4_DNR 162, OPTION_V6_DNR 144) of its lease as it received it,
 * and the network process reads it here, never root's dotctl: every octet
 * is the DHCP server's.
 *
 * HEX is the option's data (after code and length) in hex, either plain
 * ("0022000112...") or as dhclient puts it in its environment, octets
 * separated by colons with one or two digits each ("0:22:0:1:12:...").
 * The option's DoT designations replace what the last option of the same
 * family (DHCPv4, DHCPv6) designated for the link, and leave the other
 * sources' (ds_netmgr_link_dnr_replace); an empty option (a lease without
 * one) leaves that family none.  An option of which no instance can be read
 * is refused with the reason, and leaves that family none too: the lease
 * in force designates nothing usable.  An
 * instance in ADN-only mode (RFC 9463 3.1.6) is kept without addresses:
 * its ADN is resolved through the network's resolver when it is tried
 * (netmgr_ddr.c).
 * ds_linkdnr_designations, which turns an option's instances into the
 * link's designations, serves the RA form too (linkra.c).
 */
#include "daemon.h"

#include <errno.h>
#include <event2/buffer.h>
#include <string.h>

#include "dotstub/ddr.h"
#include "dotstub/hex.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"
#include "dotstub/trust.h"

/* The longest option data taken: more than a DHCP message over Ethernet
 * carries, and its colon form still fits in one control line. */
#define DNR_OPTION_MAX 1280

/* HEX in either form into out; the length, or -EINVAL (why set). */
static int option_octets(const char *hex, uint8_t *out, size_t cap, const char **why)
{
	size_t n = 0, len = strlen(hex);
	const char *p = hex;

	*why = "not hex";
	if (!strchr(hex, ':')) {
		if (len % 2 != 0) {
			*why = "an odd number of hex digits";
			return -EINVAL;
		}
		if (len / 2 > cap) {
			*why = "too long";
			return -EINVAL;
		}
		return ds_hex_decode(hex, len, out, len / 2) < 0 ? -EINVAL : (int)(len / 2);
	}
	for (;;) {
		int hi = ds_hex_digit(p[0]), lo = hi < 0 ? -1 : ds_hex_digit(p[1]);

		if (hi < 0) {
			*why = "an octet that is not one or two hex digits";
			return -EINVAL;
		}
		if (n >= cap) {
			*why = "too long";
			return -EINVAL;
		}
		out[n++] = (uint8_t)(lo < 0 ? hi : hi << 4 | lo);
		p += lo < 0 ? 1 : 2;
		if (*p == '\0')
			return (int)n;
		if (*p++ != ':') {
			*why = "an octet that is not one or two hex digits";
			return -EINVAL;
		}
	}
}

/* One designation as the link keeps it (a link-local address scoped to
 * the link); false (why set) if it cannot be. */
static bool to_link_dnr(const struct ddr_designation *x, unsigned ifindex, struct ds_link_dnr *g,
			const char **why)
{
	char adn[TRUST_NAME_MAX + 1];

	memset(g, 0, sizeof(*g));
	if (trust_name_canonical(x->adn, adn) < 0 || strlen(adn) - 1 > DS_LINK_DOMAIN_MAX) {
		*why = "the ADN is not a host name";
		return false;
	}
	g->priority = x->priority;
	memcpy(g->adn, adn, strlen(adn) - 1);
	for (int k = 0; k < x->naddr && g->naddr < DS_LINK_MAX_DNR_ADDRS; k++) {
		g->addr[g->naddr] = x->addr[k];
		ds_sockaddr_scope_to_link(&g->addr[g->naddr++], ifindex);
	}
	return true;
}

/* The option's rejected instances, for the answer and the log. */
static void say_bad(const struct ddr_dnr *dnr, const char *ifname, unsigned ifindex,
		    const char *what, struct evbuffer *out)
{
	for (unsigned i = 0; i < dnr->nbad; i++) {
		log_warn("link %s (%u): %s rejected: %s", ifname, ifindex, what,
			 dnr->bad[i].reason);
		evbuffer_add_printf(out, "%s: %s\n", what, dnr->bad[i].reason);
	}
}

int ds_linkdnr_designations(const struct ddr_dnr *dnr, const char *ifname, unsigned ifindex,
			    const char *what, bool quiet, struct ds_link_dnr *g,
			    struct evbuffer *out)
{
	struct ddr_designation x[DDR_MAX_DESIGNATIONS];
	char reason[DDR_REASON_MAX];
	const char *why;
	int nx, n = 0;

	nx = ddr_designate_dnr(dnr, x, DDR_MAX_DESIGNATIONS, reason, sizeof(reason));
	if (nx == 0 && dnr->n > 0) {
		if (!quiet)
			log_notice("link %s (%u): %s: %s", ifname, ifindex, what, reason);
		if (out)
			evbuffer_add_printf(out, "%s: %s\n", what, reason);
	}
	for (int i = 0; i < nx; i++) {
		if (n < DS_LINK_MAX_DNR && to_link_dnr(&x[i], ifindex, &g[n], &why)) {
			n++;
			continue;
		}
		if (n == DS_LINK_MAX_DNR)
			why = "more designations than a link keeps";
		if (!quiet)
			log_notice("link %s (%u): %s: designation %s ignored: %s", ifname, ifindex,
				   what, x[i].adn, why);
		if (out)
			evbuffer_add_printf(out, "%s: designation %s ignored: %s\n", what, x[i].adn,
					    why);
	}
	return n;
}

static int parse_option(bool v6, const uint8_t *data, size_t len, struct ddr_dnr *dnr)
{
	if (v6)
		return ddr_dnr_parse_dhcp6(data, len, dnr);
	return ddr_dnr_parse_dhcp4(data, len, dnr);
}

int ds_linkdnr_option(struct ds_daemon *d, const char *ifname, unsigned ifindex, int argc,
		      char **argv, struct evbuffer *out)
{
	uint8_t data[DNR_OPTION_MAX];
	struct ds_link_dnr g[DS_LINK_MAX_DNR];
	struct ddr_dnr dnr;
	const char *what, *why;
	bool v6, refused = false;
	int len = 0, n = 0, r;

	if (argc < 1 || argc > 2 || (strcmp(argv[0], "dhcp4") && strcmp(argv[0], "dhcp6"))) {
		evbuffer_add_printf(out, "usage: link IFACE dnr-option dhcp4|dhcp6 [HEX]\n");
		return -EINVAL;
	}
	v6 = !strcmp(argv[0], "dhcp6");
	what = v6 ? "DHCPv6 DNR option" : "DHCPv4 DNR option";
	if (argc == 2 && (len = option_octets(argv[1], data, sizeof(data), &why)) < 0) {
		log_warn("link %s (%u): %s refused: %s", ifname, ifindex, what, why);
		evbuffer_add_printf(out, "%s: %s (at most %d octets, in hex, plain or "
					 "colon-separated)\n", what, why, DNR_OPTION_MAX);
		return -EINVAL;
	}
	if (len > 0) {
		parse_option(v6, data, (size_t)len, &dnr);
		say_bad(&dnr, ifname, ifindex, what, out);
		refused = dnr.n == 0 && dnr.nbad > 0;
		n = ds_linkdnr_designations(&dnr, ifname, ifindex, what, false, g, out);
	}
	r = ds_netmgr_link_dnr_replace(d, (int)ifindex, ifname, v6 ? DS_DNR_DHCP6 : DS_DNR_DHCP4, g,
				       n, what);
	if (r == -ENOTSUP)
		evbuffer_add_printf(out, "a static upstream serves every name: no DNR\n");
	else if (r == -E2BIG)
		evbuffer_add_printf(out, "too many links with DNR designations\n");
	if (r < 0)
		return r;
	if (r == 0)
		log_info("link %s (%u): %s: no change (%d DNR designation(s))", ifname, ifindex,
			 what, n);
	if (refused) {
		evbuffer_add_printf(out, "%s refused: no instance could be read; link %s (%u) "
					 "has no DNR designation\n", what, ifname, ifindex);
		return -EBADMSG;
	}
	evbuffer_add_printf(out, "link %s (%u): %s: %d DNR designation(s)%s%s\n", ifname, ifindex,
			    what, n, r == 0 ? " (no change)" : "",
			    d->cfg->dnr ? "" : " (dnr no: kept, not used)");
	for (int i = 0; i < n; i++)
		if (g[i].naddr > 0)
			evbuffer_add_printf(out, "  priority %u %s, %d address(es)\n", g[i].priority,
					    g[i].adn, g[i].naddr);
		else
			evbuffer_add_printf(out, "  priority %u %s, ADN only (resolved through the "
						 "network's resolver)\n", g[i].priority, g[i].adn);
	return 0;
}
