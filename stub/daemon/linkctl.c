/*
 * linkctl.c -- the control request "link" (dotctl link): a link's DNS
 * configuration from the administrator, the highest link source.
 *
 *   link IFACE dns ADDR... [domain DOMAIN...] [default-route yes|no] [dot yes|no]
 *   link IFACE revert
 *
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
#include <string.h>

static int link_usage(struct evbuffer *out)
{
	evbuffer_add_printf(out, "usage: link IFACE dns ADDR... [domain DOMAIN...] "
				 "[default-route yes|no] [dot yes|no] | link IFACE revert\n");
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
