/*
 * r1_manager.c -- the Manager object, /org/freedesktop/resolve1, interface
 * org.freedesktop.resolve1.Manager: the SetLink* methods, RevertLink,
 * GetLink, FlushCaches, ResetServerFeatures, the Resolve* methods
 * (r1_query.c) and the read-only properties that resolvectl status reads.
 * Every method is marked unprivileged for sd-bus: who may change what is
 * decided in r1_auth.c, the same for every change.
 */
#include "r1_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_link(sd_bus_message *m, void *userdata, sd_bus_error *err, enum r1_set_what what)
{
	int32_t ifindex;
	int r = sd_bus_message_read(m, "i", &ifindex);

	if (r < 0)
		return r;
	return r1_set(userdata, m, ifindex, what, err);
}

#define SETTER(fn, what)                                                        \
	static int fn(sd_bus_message *m, void *userdata, sd_bus_error *err)       \
	{                                                                         \
		return set_link(m, userdata, err, what);                          \
	}
SETTER(m_set_dns, R1_SET_DNS)
SETTER(m_set_dns_ex, R1_SET_DNS_EX)
SETTER(m_set_domains, R1_SET_DOMAINS)
SETTER(m_set_default_route, R1_SET_DEFAULT_ROUTE)
SETTER(m_set_llmnr, R1_SET_LLMNR)
SETTER(m_set_mdns, R1_SET_MDNS)
SETTER(m_set_dot, R1_SET_DOT)
SETTER(m_set_dnssec, R1_SET_DNSSEC)
SETTER(m_revert, R1_SET_REVERT)

static int m_get_link(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	char ifname[IF_NAMESIZE], *path;
	int32_t ifindex;
	int r = sd_bus_message_read(m, "i", &ifindex);

	if (r < 0)
		return r;
	r = r1_args_ifindex(ifindex, ifname, err);
	if (r < 0)
		return r;
	path = r1_link_path(ifindex);
	if (!path)
		return -ENOMEM;
	r = sd_bus_reply_method_return(m, "o", path);
	free(path);
	return r;
}

static int m_flush_caches(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	uid_t uid;
	int r = r1_auth_check(r1, m, &uid, err);

	if (r < 0)
		return r;
	if (r1->hooks.flush_caches)
		r1->hooks.flush_caches(r1->hooks.arg);
	log_notice("resolve1: caches flushed, asked by uid %ld", (long)uid);
	return sd_bus_reply_method_return(m, NULL);
}

static int m_reset_server_features(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	uid_t uid;
	int r = r1_auth_check(r1, m, &uid, err);

	if (r < 0)
		return r;
	if (r1->hooks.reset_server_features)
		r1->hooks.reset_server_features(r1->hooks.arg);
	log_notice("resolve1: server connections reset, asked by uid %ld", (long)uid);
	return sd_bus_reply_method_return(m, NULL);
}

/* ---------------------------------------------------------------- properties */

static struct ds_r1_linkstate state_of(struct ds_r1 *r1)
{
	struct ds_r1_linkstate st;

	memset(&st, 0, sizeof(st));
	st.transport = "none";
	st.dot_mode = "opportunistic";
	if (r1->hooks.link_state)
		r1->hooks.link_state(r1->hooks.arg, 0, &st);
	return st;
}

static int p_const(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	/* what dotstubd does not do: LLMNR, mDNS, DNSSEC validation of its
	 * own (the upstream validates; AD passes only from DANE-authenticated
	 * DoT) */
	if (!strcmp(prop, "LLMNRHostname"))
		return sd_bus_message_append(reply, "s", "");
	if (!strcmp(prop, "DNSSECSupported"))
		return sd_bus_message_append(reply, "b", 0);
	if (!strcmp(prop, "DNSStubListener"))
		return sd_bus_message_append(reply, "s", "yes");
	if (!strcmp(prop, "DNSSECStatistics"))
		return sd_bus_message_append(reply, "(tttt)", UINT64_C(0), UINT64_C(0), UINT64_C(0),
					     UINT64_C(0));
	if (!strcmp(prop, "DNSSECNegativeTrustAnchors"))
		return sd_bus_message_append(reply, "as", 0);
	return sd_bus_message_append(reply, "s", "no"); /* LLMNR, MulticastDNS, DNSSEC */
}

static int p_dot(sd_bus *bus, const char *path, const char *iface, const char *prop,
		 sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct ds_r1_linkstate st = state_of(userdata);

	return sd_bus_message_append(reply, "s", st.dot_mode ? st.dot_mode : "opportunistic");
}

static int p_dns(sd_bus *bus, const char *path, const char *iface, const char *prop,
		 sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	return r1_props_all_dns(reply, userdata, !strcmp(prop, "DNSEx"));
}

static int p_fallback(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	return sd_bus_message_append(reply, !strcmp(prop, "FallbackDNSEx") ? "a(iiayqs)" : "a(iiay)",
				     0);
}

static int p_current(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct ds_r1_linkstate st = state_of(userdata);

	return r1_props_current(reply, &st, !strcmp(prop, "CurrentDNSServerEx"), true);
}

static int p_domains(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	return r1_props_all_domains(reply, userdata);
}

static int p_stats(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct ds_r1 *r1 = userdata;
	struct ds_r1_stats s;

	memset(&s, 0, sizeof(s));
	if (r1->hooks.stats)
		r1->hooks.stats(r1->hooks.arg, &s);
	if (!strcmp(prop, "TransactionStatistics"))
		return sd_bus_message_append(reply, "(tt)", s.current_transactions,
					     s.total_transactions);
	return sd_bus_message_append(reply, "(ttt)", s.cache_size, s.cache_hits, s.cache_misses);
}

static int p_resolv_conf_mode(sd_bus *bus, const char *path, const char *iface, const char *prop,
			      sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	return sd_bus_message_append(reply, "s", r1_props_resolv_conf_mode(userdata));
}

#define U SD_BUS_VTABLE_UNPRIVILEGED

const sd_bus_vtable r1_manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("LLMNRHostname", "s", p_const, 0, 0),
	SD_BUS_PROPERTY("LLMNR", "s", p_const, 0, 0),
	SD_BUS_PROPERTY("MulticastDNS", "s", p_const, 0, 0),
	SD_BUS_PROPERTY("DNSOverTLS", "s", p_dot, 0, 0),
	SD_BUS_PROPERTY("DNS", "a(iiay)", p_dns, 0, 0),
	SD_BUS_PROPERTY("DNSEx", "a(iiayqs)", p_dns, 0, 0),
	SD_BUS_PROPERTY("FallbackDNS", "a(iiay)", p_fallback, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("FallbackDNSEx", "a(iiayqs)", p_fallback, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("CurrentDNSServer", "(iiay)", p_current, 0, 0),
	SD_BUS_PROPERTY("CurrentDNSServerEx", "(iiayqs)", p_current, 0, 0),
	SD_BUS_PROPERTY("Domains", "a(isb)", p_domains, 0, 0),
	SD_BUS_PROPERTY("TransactionStatistics", "(tt)", p_stats, 0, 0),
	SD_BUS_PROPERTY("CacheStatistics", "(ttt)", p_stats, 0, 0),
	SD_BUS_PROPERTY("DNSSEC", "s", p_const, 0, 0),
	SD_BUS_PROPERTY("DNSSECStatistics", "(tttt)", p_const, 0, 0),
	SD_BUS_PROPERTY("DNSSECSupported", "b", p_const, 0, 0),
	SD_BUS_PROPERTY("DNSSECNegativeTrustAnchors", "as", p_const, 0, 0),
	SD_BUS_PROPERTY("DNSStubListener", "s", p_const, 0, 0),
	SD_BUS_PROPERTY("ResolvConfMode", "s", p_resolv_conf_mode, 0, 0),

	SD_BUS_METHOD_WITH_ARGS("ResolveHostname",
				SD_BUS_ARGS("i", ifindex, "s", name, "i", family, "t", flags),
				SD_BUS_RESULT("a(iiay)", addresses, "s", canonical, "t", flags),
				r1_query_hostname, U),
	SD_BUS_METHOD_WITH_ARGS("ResolveAddress",
				SD_BUS_ARGS("i", ifindex, "i", family, "ay", address, "t", flags),
				SD_BUS_RESULT("a(is)", names, "t", flags), r1_query_address, U),
	SD_BUS_METHOD_WITH_ARGS("ResolveRecord",
				SD_BUS_ARGS("i", ifindex, "s", name, "q", class, "q", type, "t", flags),
				SD_BUS_RESULT("a(iqqay)", records, "t", flags), r1_query_record, U),
	SD_BUS_METHOD_WITH_ARGS("GetLink", SD_BUS_ARGS("i", ifindex), SD_BUS_RESULT("o", path),
				m_get_link, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDNS", SD_BUS_ARGS("i", ifindex, "a(iay)", addresses),
				SD_BUS_NO_RESULT, m_set_dns, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDNSEx", SD_BUS_ARGS("i", ifindex, "a(iayqs)", addresses),
				SD_BUS_NO_RESULT, m_set_dns_ex, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDomains", SD_BUS_ARGS("i", ifindex, "a(sb)", domains),
				SD_BUS_NO_RESULT, m_set_domains, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDefaultRoute", SD_BUS_ARGS("i", ifindex, "b", enable),
				SD_BUS_NO_RESULT, m_set_default_route, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkLLMNR", SD_BUS_ARGS("i", ifindex, "s", mode),
				SD_BUS_NO_RESULT, m_set_llmnr, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkMulticastDNS", SD_BUS_ARGS("i", ifindex, "s", mode),
				SD_BUS_NO_RESULT, m_set_mdns, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDNSOverTLS", SD_BUS_ARGS("i", ifindex, "s", mode),
				SD_BUS_NO_RESULT, m_set_dot, U),
	SD_BUS_METHOD_WITH_ARGS("SetLinkDNSSEC", SD_BUS_ARGS("i", ifindex, "s", mode),
				SD_BUS_NO_RESULT, m_set_dnssec, U),
	SD_BUS_METHOD_WITH_ARGS("RevertLink", SD_BUS_ARGS("i", ifindex), SD_BUS_NO_RESULT,
				m_revert, U),
	SD_BUS_METHOD_WITH_ARGS("FlushCaches", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, m_flush_caches,
				U),
	SD_BUS_METHOD_WITH_ARGS("ResetServerFeatures", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
				m_reset_server_features, U),
	SD_BUS_VTABLE_END,
};
