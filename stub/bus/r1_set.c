/*
 * r1_set.c -- SetLinkDNS, SetLinkDNSEx, SetLinkDomains, SetLinkDefaultRoute,
 * SetLinkLLMNR, SetLinkMulticastDNS, SetLinkDNSOverTLS, SetLinkDNSSEC and
 * RevertLink (and the Link objects' SetDNS... and Revert, which are the
 * same): the link must exist and not be loopback, the caller must be
 * allowed (r1_auth.c), the value must be valid as a whole (r1_args.c);
 * then it is recorded and, if it changed anything, the daemon's set_link
 * hook gets the link's whole configuration.  A call that fails changes
 * nothing.
 */
#include "r1_int.h"

#include <errno.h>
#include <string.h>

static int read_mode(sd_bus_message *m, const char *what, char *out, size_t outlen,
		     sd_bus_error *err)
{
	const char *s;
	int r = sd_bus_message_read(m, "s", &s);

	if (r < 0)
		return r;
	if (strlen(s) >= outlen || !r1_args_mode_ok(what, s))
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "invalid %s mode '%.32s'",
					 what, s);
	snprintf(out, outlen, "%s", s);
	return 0;
}

static enum ds_link_dot dot_mode(const char *s)
{
	if (!strcmp(s, "yes"))
		return DS_LINKDOT_YES;
	if (!strcmp(s, "opportunistic"))
		return DS_LINKDOT_OPPORTUNISTIC;
	if (!strcmp(s, "no"))
		return DS_LINKDOT_NO;
	return DS_LINKDOT_UNSET;
}

/* The value of what from m into lc. */
static int read_value(sd_bus_message *m, enum r1_set_what what, struct ds_linkconf *lc,
		      sd_bus_error *err)
{
	char mode[16];
	int b, r;

	switch (what) {
	case R1_SET_DNS:
	case R1_SET_DNS_EX:
		memset(lc->dns, 0, sizeof(lc->dns));
		lc->ndns = 0;
		return r1_args_read_dns(m, what == R1_SET_DNS_EX, lc->ifindex, lc->dns, &lc->ndns,
					err);
	case R1_SET_DOMAINS:
		memset(lc->domains, 0, sizeof(lc->domains));
		lc->ndomains = 0;
		return r1_args_read_domains(m, lc->domains, &lc->ndomains, err);
	case R1_SET_DEFAULT_ROUTE:
		r = sd_bus_message_read(m, "b", &b);
		if (r >= 0)
			lc->default_route = b ? DS_YES : DS_NO;
		return r;
	case R1_SET_LLMNR:
		return read_mode(m, "LLMNR", lc->llmnr, sizeof(lc->llmnr), err);
	case R1_SET_MDNS:
		return read_mode(m, "MulticastDNS", lc->mdns, sizeof(lc->mdns), err);
	case R1_SET_DNSSEC:
		return read_mode(m, "DNSSEC", lc->dnssec, sizeof(lc->dnssec), err);
	case R1_SET_DOT:
		r = read_mode(m, "DNSOverTLS", mode, sizeof(mode), err);
		if (r >= 0)
			lc->dot = dot_mode(mode);
		return r;
	case R1_SET_REVERT:
		return 0;
	}
	return -EINVAL;
}

int r1_set(struct ds_r1 *r1, sd_bus_message *m, int ifindex, enum r1_set_what what,
	   sd_bus_error *err)
{
	char ifname[IF_NAMESIZE];
	struct ds_linkconf lc;
	struct r1_link *l;
	uid_t uid;
	int r;

	r1_table_sweep(r1);
	r = r1_args_ifindex(ifindex, ifname, err);
	if (r < 0)
		return r;
	r = r1_auth_check(r1, m, &uid, err);
	if (r < 0)
		return r;
	lc = r1_table_view(r1, ifindex, ifname)->lc;
	r = read_value(m, what, &lc, err);
	if (r < 0)
		return r;
	l = r1_table_find(r1, ifindex);
	if (what == R1_SET_REVERT) {
		if (l) {
			r1_table_drop(r1, ifindex);
			if (r1->hooks.revert_link)
				r1->hooks.revert_link(r1->hooks.arg, ifindex, uid);
		}
		return sd_bus_reply_method_return(m, NULL);
	}
	if (memcmp(&lc, l ? &l->lc : &r1->scratch.lc, sizeof(lc)) != 0) {
		if (!l && !(l = r1_table_get(r1, ifindex, ifname, err)))
			return -ENOBUFS;
		l->lc = lc;
		if (r1->hooks.set_link)
			r1->hooks.set_link(r1->hooks.arg, &l->lc, uid);
	} else {
		log_debug("resolve1: %s on link %s (%d) changes nothing", sd_bus_message_get_member(m),
			  ifname, ifindex);
	}
	return sd_bus_reply_method_return(m, NULL);
}
