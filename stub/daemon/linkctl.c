/*
 * linkctl.c -- the control request "link" (dotctl link): a link's DNS
 * configuration from the administrator, the highest link source.
 *
 *   link IFACE dns ADDR... [domain DOMAIN...] [default-route yes|no] [dot yes|no]
 *   link IFACE dnr PRIORITY ADN ADDR... [alpn dot] [port N]
 *   link IFACE dnr-option dhcp4|dhcp6 [HEX]   (linkdnr.c)
 *   link IFACE revert
 *
 * "dnr" hands over one encrypted resolver the link designates (DNR, RFC
 * 9463, as a DHCP or RA option would): kept apart from the link's
 * resolvers, replacing the one of the same priority; "revert" forgets
 * those too.
 * "dns" and what follows replace what dotctl said about the link before;
 * "revert" forgets it.  A DOMAIN with a leading '~' is a routing domain
 * only (not searched); "~." makes the link the default one.  Only root may
 * change a link (the control socket admits the daemon's group too, for
 * reading).
 */
#include "daemon.h"

#include <errno.h>
#include <event2/buffer.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/sockaddr.h"
#include "dotstub/trust.h"

static int link_usage(struct evbuffer *out)
{
	evbuffer_add_printf(out, "usage: link IFACE dns ADDR... [domain DOMAIN...] "
				 "[default-route yes|no] [dot yes|no] | link IFACE dnr PRIORITY ADN "
				 "ADDR... [alpn dot] [port N] | link IFACE dnr-option dhcp4|dhcp6 "
				 "[HEX] | link IFACE revert\n");
	return -EINVAL;
}

static int yes_no(const char *v, enum ds_tristate *ret)
{
	if (!strcmp(v, "yes"))
		*ret = DS_YES;
	else if (!strcmp(v, "no"))
		*ret = DS_NO;
	else
		return -EINVAL;
	return 0;
}

/* The words after IFACE: "dns ADDR... domain D... default-route X". */
static int parse_conf(int argc, char **argv, struct ds_linkconf *lc, struct evbuffer *out)
{
	enum { NONE, DNS, DOMAIN } in = NONE;
	int r;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "dns")) {
			in = DNS;
		} else if (!strcmp(w, "domain")) {
			in = DOMAIN;
		} else if (!strcmp(w, "default-route") || !strcmp(w, "dot")) {
			enum ds_tristate t;

			if (i + 1 >= argc || yes_no(argv[i + 1], &t) < 0)
				return link_usage(out);
			if (!strcmp(w, "dot"))
				lc->dot = t == DS_YES ? DS_LINKDOT_YES : DS_LINKDOT_NO;
			else
				lc->default_route = t;
			i++;
			in = NONE;
		} else if (in == DNS) {
			r = ds_linkconf_add_dns(lc, w);
			if (r < 0) {
				evbuffer_add_printf(out, "%s: %s\n", w,
						    r == -E2BIG ? "too many resolvers"
								: "not a resolver address");
				return r;
			}
		} else if (in == DOMAIN) {
			r = ds_linkconf_add_domain(lc, w);
			if (r < 0) {
				evbuffer_add_printf(out, "%s: %s\n", w,
						    r == -E2BIG ? "too many domains" : "not a domain");
				return r;
			}
		} else {
			return link_usage(out);
		}
	}
	if (lc->ndns == 0) {
		evbuffer_add_printf(out, "a link needs at least one resolver (dns ADDR)\n");
		return -EINVAL;
	}
	return 0;
}

static int number(const char *w, unsigned long min, unsigned long max, unsigned long *ret)
{
	char *end;

	if (!*w || strspn(w, "0123456789") != strlen(w))
		return -EINVAL;
	*ret = strtoul(w, &end, 10);
	return *ret >= min && *ret <= max ? 0 : -EINVAL;
}

/* "192.0.2.1:853" or "[2001:db8::1]:853": a port where only an address goes */
static bool has_port(const char *w)
{
	const char *c = strchr(w, ':');

	return w[0] == '[' || (c && c == strrchr(w, ':'));
}

/* "PRIORITY ADN ADDR... [alpn dot] [port N]" */
static int parse_dnr(int argc, char **argv, struct ds_link_dnr *g, struct evbuffer *out)
{
	char adn[TRUST_NAME_MAX + 1];
	unsigned long v, port = 853;
	int i;

	memset(g, 0, sizeof(*g));
	if (argc < 3 || number(argv[0], 1, 65535, &v) < 0)
		return link_usage(out);
	g->priority = (uint16_t)v;
	if (trust_name_canonical(argv[1], adn) < 0 || strlen(adn) - 1 > DS_LINK_DOMAIN_MAX) {
		evbuffer_add_printf(out, "%s: not an authentication domain name\n", argv[1]);
		return -EINVAL;
	}
	/* without the trailing dot: at most DS_LINK_DOMAIN_MAX octets */
	memcpy(g->adn, adn, strlen(adn) - 1);
	g->adn[strlen(adn) - 1] = '\0';
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "alpn") || !strcmp(argv[i], "port"))
			break;
		if (g->naddr >= DS_LINK_MAX_DNR_ADDRS) {
			evbuffer_add_printf(out, "%s: too many addresses\n", argv[i]);
			return -E2BIG;
		}
		if (has_port(argv[i]) || ds_parse_sockaddr(argv[i], 853, &g->addr[g->naddr]) < 0) {
			evbuffer_add_printf(out, "%s: not an address (the port goes with \"port N\")\n",
					    argv[i]);
			return -EINVAL;
		}
		g->naddr++;
	}
	if (g->naddr == 0) {
		evbuffer_add_printf(out, "a DNR designation needs an address\n");
		return -EINVAL;
	}
	for (; i < argc; i += 2) {
		if (i + 1 >= argc)
			return link_usage(out);
		if (!strcmp(argv[i], "alpn") && strcmp(argv[i + 1], "dot") != 0) {
			evbuffer_add_printf(out, "alpn %s: only dot is supported\n", argv[i + 1]);
			return -EINVAL;
		}
		if (!strcmp(argv[i], "port") && number(argv[i + 1], 1, 65535, &port) < 0) {
			evbuffer_add_printf(out, "port %s: not a port\n", argv[i + 1]);
			return -EINVAL;
		}
		if (strcmp(argv[i], "alpn") && strcmp(argv[i], "port"))
			return link_usage(out);
	}
	for (int k = 0; k < g->naddr; k++) {
		if (g->addr[k].ss_family == AF_INET)
			((struct sockaddr_in *)&g->addr[k])->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&g->addr[k])->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

static int link_dnr(struct ds_daemon *d, const char *ifname, unsigned ifindex, int argc,
		    char **argv, struct evbuffer *out)
{
	struct ds_link_dnr g;
	int r = parse_dnr(argc, argv, &g, out);

	if (r < 0)
		return r;
	for (int k = 0; k < g.naddr; k++)
		ds_sockaddr_scope_to_link(&g.addr[k], ifindex);
	r = ds_netmgr_link_dnr(d, (int)ifindex, ifname, &g);
	if (r == -ENOTSUP)
		evbuffer_add_printf(out, "a static upstream serves every name: no DNR\n");
	else if (r == -E2BIG)
		evbuffer_add_printf(out, "%s: at most %d DNR designations\n", ifname,
				    DS_LINK_MAX_DNR);
	if (r < 0)
		return r;
	evbuffer_add_printf(out, "link %s (%u): DNR designation priority %u %s, %d address(es)%s\n",
			    ifname, ifindex, g.priority, g.adn, g.naddr,
			    d->cfg->dnr ? "" : " (dnr no: kept, not used)");
	return 0;
}

int ds_linkctl(struct ds_daemon *d, uid_t uid, int argc, char **argv, struct evbuffer *out)
{
	struct ds_linkconf lc;
	unsigned ifindex;
	int r;

	if (argc < 3)
		return link_usage(out);
	if (uid != 0) {
		evbuffer_add_printf(out, "only root may change a link\n");
		return -EPERM;
	}
	ifindex = if_nametoindex(argv[1]);
	if (ifindex == 0 || strlen(argv[1]) >= IF_NAMESIZE) {
		evbuffer_add_printf(out, "%s: no such interface\n", argv[1]);
		return -ENODEV;
	}
	if (!strcmp(argv[2], "revert")) {
		if (argc != 3)
			return link_usage(out);
		r = ds_netmgr_link_revert(d, (int)ifindex, DS_LINKSRC_DOTCTL);
		if (r == -ENOENT) {
			/* (-ENOENT would read as an unknown request) */
			evbuffer_add_printf(out, "%s: dotctl configures nothing there\n", argv[1]);
			return -ENODATA;
		}
		if (r == 0)
			evbuffer_add_printf(out, "link %s (%u): reverted\n", argv[1], ifindex);
		return r;
	}
	if (!strcmp(argv[2], "dnr"))
		return link_dnr(d, argv[1], ifindex, argc - 3, argv + 3, out);
	if (!strcmp(argv[2], "dnr-option"))
		return ds_linkdnr_option(d, argv[1], ifindex, argc - 3, argv + 3, out);
	ds_linkconf_init(&lc, (int)ifindex, DS_LINKSRC_DOTCTL);
	snprintf(lc.ifname, sizeof(lc.ifname), "%s", argv[1]);
	r = parse_conf(argc - 2, argv + 2, &lc, out);
	if (r < 0)
		return r;
	r = ds_netmgr_link_set(d, &lc);
	if (r < 0)
		return r;
	evbuffer_add_printf(out, "link %s (%u): %d resolver(s), %d domain(s)\n", argv[1], ifindex,
			    lc.ndns, lc.ndomains);
	return 0;
}
