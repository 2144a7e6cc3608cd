/*
 * r1_link.c -- the Link objects, /org/freedesktop/resolve1/link/_<ifindex
 * escaped> (sd_bus_path_encode: ifindex 3 is ".../link/_33"), interface
 * org.freedesktop.resolve1.Link: one for every interface the kernel has,
 * showing what was set on it (r1_table.c) or nothing; their Set* methods
 * and Revert are the Manager's SetLink* and RevertLink for that link.
 */
#include "r1_int.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *r1_link_path(int ifindex)
{
	char num[16], *path = NULL;

	snprintf(num, sizeof(num), "%d", ifindex);
	return sd_bus_path_encode(R1_LINK_PREFIX, num, &path) < 0 ? NULL : path;
}

/* The ifindex a path names, or -EINVAL. */
static int path_ifindex(const char *path)
{
	char *name = NULL, *end;
	long v;
	int r = sd_bus_path_decode(path, R1_LINK_PREFIX, &name);

	if (r <= 0)
		return -EINVAL;
	errno = 0;
	v = strtol(name, &end, 10);
	r = errno || *end || end == name || name[0] == '-' || name[0] == '+' || v <= 0 ||
			    v > INT_MAX
		    ? -EINVAL
		    : (int)v;
	free(name);
	return r;
}

int r1_link_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		 sd_bus_error *err)
{
	char ifname[IF_NAMESIZE];
	int ifindex = path_ifindex(path);

	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, ifname))
		return 0;
	r1_table_sweep(userdata);
	*found = r1_table_view(userdata, ifindex, ifname);
	return 1;
}

int r1_link_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
		      sd_bus_error *err)
{
	struct if_nameindex *ifs = if_nameindex();
	char **v;
	size_t n = 0, k = 0;

	if (!ifs)
		return -errno;
	while (ifs[n].if_index)
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		if ((v[k] = r1_link_path((int)ifs[i].if_index)))
			k++;
	if_freenameindex(ifs);
	if (!v)
		return -ENOMEM;
	*nodes = v;
	return 0;
}

/* ---------------------------------------------------------------- methods */

static int link_set(sd_bus_message *m, void *userdata, sd_bus_error *err, enum r1_set_what what)
{
	struct r1_link *l = userdata;

	return r1_set(l->r1, m, l->lc.ifindex, what, err);
}

#define SETTER(fn, what)                                                        \
	static int fn(sd_bus_message *m, void *userdata, sd_bus_error *err)       \
	{                                                                         \
		return link_set(m, userdata, err, what);                          \
	}
SETTER(l_set_dns, R1_SET_DNS)
SETTER(l_set_dns_ex, R1_SET_DNS_EX)
SETTER(l_set_domains, R1_SET_DOMAINS)
SETTER(l_set_default_route, R1_SET_DEFAULT_ROUTE)
SETTER(l_set_llmnr, R1_SET_LLMNR)
SETTER(l_set_mdns, R1_SET_MDNS)
SETTER(l_set_dot, R1_SET_DOT)
SETTER(l_set_dnssec, R1_SET_DNSSEC)
SETTER(l_revert, R1_SET_REVERT)

/* ---------------------------------------------------------------- properties */

static struct ds_r1_linkstate state_of(struct r1_link *l)
{
	struct ds_r1_linkstate st;

	memset(&st, 0, sizeof(st));
	st.transport = "none";
	st.dot_mode = "opportunistic";
	if (l->r1->hooks.link_state)
		l->r1->hooks.link_state(l->r1->hooks.arg, l->lc.ifindex, &st);
	return st;
}

/* resolved's rule when DefaultRoute was not set: a link is a default
 * route unless every domain it has is routing-only (and "~." says yes) */
static bool default_route(const struct ds_linkconf *lc)
{
	bool any_search = false;

	if (lc->default_route != DS_UNSET)
		return lc->default_route == DS_YES;
	for (int i = 0; i < lc->ndomains && i < DS_LINK_MAX_DOMAINS; i++) {
		if (lc->domains[i].route_only && !lc->domains[i].name[0])
			return true;
		if (!lc->domains[i].route_only)
			any_search = true;
	}
	return lc->ndomains == 0 || any_search;
}

static int p_scopes(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct r1_link *l = userdata;

	return sd_bus_message_append(reply, "t", l->lc.ndns > 0 ? R1_F_DNS : UINT64_C(0));
}

static int p_dns(sd_bus *bus, const char *path, const char *iface, const char *prop,
		 sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct r1_link *l = userdata;

	return r1_props_link_dns(reply, &l->lc, !strcmp(prop, "DNSEx"));
}

static int p_current(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct ds_r1_linkstate st = state_of(userdata);

	return r1_props_current(reply, &st, !strcmp(prop, "CurrentDNSServerEx"), false);
}

static int p_domains(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct r1_link *l = userdata;

	return r1_props_link_domains(reply, &l->lc);
}

static int p_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
		  sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct r1_link *l = userdata;

	if (!strcmp(prop, "DefaultRoute"))
		return sd_bus_message_append(reply, "b", (int)default_route(&l->lc));
	return sd_bus_message_append(reply, "b", 0); /* DNSSECSupported */
}

/* A mode as set, or what is in force when nothing was: dotstubd does no
 * LLMNR, mDNS or DNSSEC of its own, and DoT is the daemon's mode. */
static int p_mode(sd_bus *bus, const char *path, const char *iface, const char *prop,
		  sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	static const char *const dot[] = {
		[DS_LINKDOT_UNSET] = "", [DS_LINKDOT_NO] = "no",
		[DS_LINKDOT_OPPORTUNISTIC] = "opportunistic", [DS_LINKDOT_YES] = "yes",
	};
	struct r1_link *l = userdata;
	const char *v = "";

	if (!strcmp(prop, "LLMNR"))
		v = l->lc.llmnr;
	else if (!strcmp(prop, "MulticastDNS"))
		v = l->lc.mdns;
	else if (!strcmp(prop, "DNSSEC"))
		v = l->lc.dnssec;
	else if ((unsigned)l->lc.dot < sizeof(dot) / sizeof(dot[0]))
		v = dot[l->lc.dot];
	if (!v[0] && !strcmp(prop, "DNSOverTLS")) {
		struct ds_r1_linkstate st = state_of(l);

		v = st.dot_mode ? st.dot_mode : "opportunistic";
	} else if (!v[0]) {
		v = "no";
	}
	return sd_bus_message_append(reply, "s", v);
}

static int p_nta(sd_bus *bus, const char *path, const char *iface, const char *prop,
		 sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	return sd_bus_message_append(reply, "as", 0);
}

#define U SD_BUS_VTABLE_UNPRIVILEGED

const sd_bus_vtable r1_link_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ScopesMask", "t", p_scopes, 0, 0),
	SD_BUS_PROPERTY("DNS", "a(iay)", p_dns, 0, 0),
	SD_BUS_PROPERTY("DNSEx", "a(iayqs)", p_dns, 0, 0),
	SD_BUS_PROPERTY("CurrentDNSServer", "(iay)", p_current, 0, 0),
	SD_BUS_PROPERTY("CurrentDNSServerEx", "(iayqs)", p_current, 0, 0),
	SD_BUS_PROPERTY("Domains", "a(sb)", p_domains, 0, 0),
	SD_BUS_PROPERTY("DefaultRoute", "b", p_bool, 0, 0),
	SD_BUS_PROPERTY("LLMNR", "s", p_mode, 0, 0),
	SD_BUS_PROPERTY("MulticastDNS", "s", p_mode, 0, 0),
	SD_BUS_PROPERTY("DNSOverTLS", "s", p_mode, 0, 0),
	SD_BUS_PROPERTY("DNSSEC", "s", p_mode, 0, 0),
	SD_BUS_PROPERTY("DNSSECNegativeTrustAnchors", "as", p_nta, 0, 0),
	SD_BUS_PROPERTY("DNSSECSupported", "b", p_bool, 0, 0),

	SD_BUS_METHOD_WITH_ARGS("SetDNS", SD_BUS_ARGS("a(iay)", addresses), SD_BUS_NO_RESULT,
				l_set_dns, U),
	SD_BUS_METHOD_WITH_ARGS("SetDNSEx", SD_BUS_ARGS("a(iayqs)", addresses), SD_BUS_NO_RESULT,
				l_set_dns_ex, U),
	SD_BUS_METHOD_WITH_ARGS("SetDomains", SD_BUS_ARGS("a(sb)", domains), SD_BUS_NO_RESULT,
				l_set_domains, U),
	SD_BUS_METHOD_WITH_ARGS("SetDefaultRoute", SD_BUS_ARGS("b", enable), SD_BUS_NO_RESULT,
				l_set_default_route, U),
	SD_BUS_METHOD_WITH_ARGS("SetLLMNR", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT, l_set_llmnr,
				U),
	SD_BUS_METHOD_WITH_ARGS("SetMulticastDNS", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT,
				l_set_mdns, U),
	SD_BUS_METHOD_WITH_ARGS("SetDNSOverTLS", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT,
				l_set_dot, U),
	SD_BUS_METHOD_WITH_ARGS("SetDNSSEC", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT,
				l_set_dnssec, U),
	SD_BUS_METHOD_WITH_ARGS("Revert", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, l_revert, U),
	SD_BUS_VTABLE_END,
};
