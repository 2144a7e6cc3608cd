/*
 * resolve1d.c -- the daemon's side of the org.freedesktop.resolve1 D-Bus
 * API (stub/bus/, dotstub/resolve1.h): the hooks it calls.
 *
 *  - A link's configuration (SetLinkDNS, SetLinkDomains, ...) is logged
 *    and handed to the network manager's link table as the resolve1
 *    source (ds_netmgr_link_set): each link is discovered, decided and
 *    served on its own, its domains routed to it; a laptop whose
 *    NetworkManager talks to dotstubd needs no resolv.conf file in
 *    between.
 *  - Resolve calls go through the query path (resolve.c) as an internal
 *    client, like dotctl query: local names, the cache, the upstream,
 *    waiting while the network changes, SERVFAIL with a reason.  A call
 *    that names a link (its ifindex) is served by that link's own lane
 *    only (route.c); the search domains it qualifies single-label names
 *    with are the links' (netmgr_links.c).
 *  - FlushCaches flushes the cache, ResetServerFeatures reconnects every
 *    link's upstream.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotstub-config.h"
#include "dotstub/resolve1.h"
#include "dotstub/sockaddr.h"

struct ds_resolve1d {
	struct ds_daemon *d;
	struct ds_r1 *r1;
};

/* ---------------------------------------------------------------- the log line */

static void format_server(const struct ds_link_dns *s, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 53;

	if (s->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->addr;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
	} else if (s->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(out, outlen, "%s%s%.0u%s%s", a, port != 53 ? ":" : "", port != 53 ? port : 0,
		 s->server_name[0] ? "#" : "", s->server_name);
}

static const char *tristate(enum ds_tristate t)
{
	return t == DS_YES ? "yes" : t == DS_NO ? "no" : "unset";
}

static const char *dot_name(enum ds_link_dot m)
{
	return m == DS_LINKDOT_YES ? "yes"
	       : m == DS_LINKDOT_OPPORTUNISTIC ? "opportunistic"
	       : m == DS_LINKDOT_NO ? "no"
				      : "unset";
}

static void log_link(const struct ds_linkconf *lc, uid_t uid)
{
	char dns[DS_LINK_MAX_DNS * 80 + 8] = "", dom[DS_LINK_MAX_DOMAINS * 32 + 8] = "", one[320];
	size_t dl = 0, ml = 0;

	for (int i = 0; i < lc->ndns && i < DS_LINK_MAX_DNS; i++) {
		format_server(&lc->dns[i], one, sizeof(one));
		dl += (size_t)snprintf(dns + dl, sizeof(dns) - dl, "%s%s", i ? " " : "", one);
		if (dl >= sizeof(dns))
			dl = sizeof(dns) - 1;
	}
	for (int i = 0; i < lc->ndomains && i < DS_LINK_MAX_DOMAINS; i++) {
		ml += (size_t)snprintf(dom + ml, sizeof(dom) - ml, "%s%s%.30s", i ? " " : "",
				       lc->domains[i].route_only ? "~" : "",
				       lc->domains[i].name[0] ? lc->domains[i].name : ".");
		if (ml >= sizeof(dom))
			ml = sizeof(dom) - 1;
	}
	log_notice("resolve1: link %s (%d): DNS %s, domains %s, default-route %s, DNSOverTLS %s, "
		   "DNSSEC %s, LLMNR %s, mDNS %s, set by uid %ld",
		   lc->ifname, lc->ifindex, dl ? dns : "none", ml ? dom : "none",
		   tristate(lc->default_route), dot_name(lc->dot),
		   lc->dnssec[0] ? lc->dnssec : "unset", lc->llmnr[0] ? lc->llmnr : "unset",
		   lc->mdns[0] ? lc->mdns : "unset", (long)uid);
}

/* ---------------------------------------------------------------- lanes */

/* The lane that serves link ifindex: its own, or the default one. */
static struct ds_lane *lane_of(struct ds_daemon *d, int ifindex)
{
	struct ds_lane *l;

	TAILQ_FOREACH(l, &d->lanes, link)
		if (ifindex > 0 && l->ifindex == ifindex)
			return l;
	return &d->def;
}

/* ---------------------------------------------------------------- hooks: links */

static void h_set_link(void *arg, const struct ds_linkconf *lc, uid_t uid)
{
	struct ds_resolve1d *rd = arg;
	struct ds_linkconf c = *lc;
	int r;

	log_link(lc, uid);
	c.source = DS_LINKSRC_RESOLVE1;
	r = ds_netmgr_link_set(rd->d, &c);
	if (r < 0)
		log_warn("resolve1: link %s (%d): not taken: %s", lc->ifname, lc->ifindex,
			 strerror(-r));
}

static void h_revert_link(void *arg, int ifindex, uid_t uid)
{
	struct ds_resolve1d *rd = arg;

	if (uid != (uid_t)-1)
		log_notice("resolve1: link %d: reverted to no DNS configuration by uid %ld", ifindex,
			   (long)uid);
	(void)ds_netmgr_link_revert(rd->d, ifindex, DS_LINKSRC_RESOLVE1);
}

static void h_flush_caches(void *arg)
{
	struct ds_resolve1d *rd = arg;

	ds_netmgr_flush_caches(rd->d);
}

static void reset_lane(struct ds_lane *l)
{
	if (l->up) {
		ds_upstream_reset(l->up);
		ds_upstream_connect_now(l->up);
	}
}

static void h_reset_server_features(void *arg)
{
	struct ds_resolve1d *rd = arg;
	struct ds_lane *l;

	reset_lane(&rd->d->def);
	TAILQ_FOREACH(l, &rd->d->lanes, link)
		reset_lane(l);
}

/* ---------------------------------------------------------------- hooks: queries */

struct ds_busquery {
	struct ds_daemon *d;
	struct ds_request *req;
	ds_r1_resolve_done *done;
	void *cbarg;
};

static bool serving(struct ds_daemon *d)
{
	struct ds_lane *l;

	if (d->def.up || d->def.plain)
		return true;
	TAILQ_FOREACH(l, &d->lanes, link)
		if (l->up || l->plain)
			return true;
	return false;
}

static void origin_track(struct ds_request *req)
{
	req->origin.bus->req = req;
}

static void origin_untrack(struct ds_request *req)
{
	struct ds_busquery *q = req->origin.bus;

	q->done(q->cbarg, -EIO, NULL, 0, 0, req->lane->ifindex);
	free(q);
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_busquery *q = req->origin.bus;
	unsigned flags;

	if (len >= DNS_HDR_LEN && (pkt[3] & 0x0f) == DNS_RCODE_SERVFAIL && !serving(q->d))
		flags = DS_R1_ANS_NO_SERVER;
	else
		flags = req->via_dot ? DS_R1_ANS_DOT : DS_R1_ANS_PLAIN;
	q->done(q->cbarg, 0, pkt, len, flags, req->lane->ifindex);
	free(q);
}

static const struct ds_origin_ops bus_origin_ops = {
	.track = origin_track, .untrack = origin_untrack, .reply = origin_reply,
};

static int h_resolve(void *arg, const uint8_t *query, size_t len, int ifindex,
		     ds_r1_resolve_done *done, void *cbarg, void **handle)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;
	struct ds_origin o = { .kind = DS_ORIGIN_BUS, .ops = &bus_origin_ops, .ifindex = ifindex };
	struct ds_busquery *q = calloc(1, sizeof(*q));
	uint8_t *out = malloc(DNS_MSG_MAX);
	struct ds_stats before = d->stats;
	struct ds_lane *l;
	size_t outlen = 0;
	unsigned flags;
	int r = 0;

	if (!q || !out) {
		free(q);
		free(out);
		return -ENOMEM;
	}
	q->d = d;
	q->done = done;
	q->cbarg = cbarg;
	o.bus = q;
	switch (ds_resolve(d, query, len, &o, out, &outlen)) {
	case DS_RESOLVE_PENDING:
		*handle = q;
		q = NULL;
		r = 1;
		break;
	case DS_RESOLVE_ANSWER:
		if (d->stats.cache_hits != before.cache_hits)
			flags = DS_R1_ANS_CACHE;
		else if (d->stats.servfail_not_ready != before.servfail_not_ready)
			flags = DS_R1_ANS_NO_SERVER;
		else
			flags = DS_R1_ANS_LOCAL;
		l = ds_resolve_lane_of(d, query, len, ifindex);
		done(cbarg, 0, out, outlen, flags, l ? l->ifindex : 0);
		break;
	case DS_RESOLVE_DROP:
		r = -EINVAL;
		break;
	}
	free(out);
	free(q);
	return r;
}

static void h_resolve_cancel(void *arg, void *handle)
{
	struct ds_busquery *q = handle;

	if (q->req)
		ds_request_cancel(q->req);
	free(q);
}

_Static_assert(DS_LINK_DOMAIN_MAX == DS_RESOLVCONF_NAME_MAX, "a search domain is a link's domain");

static size_t h_search_domains(void *arg, int ifindex, char (*out)[DS_LINK_DOMAIN_MAX + 1],
			       size_t cap)
{
	struct ds_resolve1d *rd = arg;

	return ds_netmgr_link_search(rd->d, ifindex, out, cap);
}

/* ---------------------------------------------------------------- hooks: state */

static void h_link_state(void *arg, int ifindex, struct ds_r1_linkstate *out)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;
	struct ds_lane *l = lane_of(d, ifindex);
	bool strict = d->cfg->upstream.naddr > 0 || d->cfg->unknown_network == TRUST_UNKNOWN_STRICT;

	memset(out, 0, sizeof(*out));
	out->transport = l->up ? "dot" : l->plain ? "plain" : "none";
	out->dot_mode = strict ? "yes" : "opportunistic";
	out->ifindex = l->ifindex;
	if (ifindex != 0 && l->ifindex != 0 && ifindex != l->ifindex)
		return;
	if (l->up) {
		struct ds_upstream_status us;

		ds_upstream_get_status(l->up, &us);
		out->serving = us.addr[0] && ds_parse_sockaddr(us.addr, 853, &out->current) == 0;
		snprintf(out->server_name, sizeof(out->server_name), "%.*s",
			 (int)sizeof(out->server_name) - 1, us.name);
	} else if (l->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(l->plain, &ps);
		out->serving = ps.addr[0] && ds_parse_sockaddr(ps.addr, 53, &out->current) == 0;
	}
}

static void h_stats(void *arg, struct ds_r1_stats *out)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;

	out->current_transactions = d->pending;
	out->total_transactions = d->stats.queries;
	if (d->cache) {
		struct ds_cache_stats cs;

		ds_cache_get_stats(d->cache, &cs);
		out->cache_size = cs.entries;
		out->cache_hits = cs.hits;
		out->cache_misses = cs.misses;
	}
}

/* ---------------------------------------------------------------- open, close */

static void make_opts(const struct ds_config *c, struct ds_r1_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_calls = c->dbus_max_calls;
	o->own_uid = geteuid();
	if (c->resolve1_group[0]) {
		struct group *g = getgrnam(c->resolve1_group);

		if (g) {
			o->has_group = true;
			o->group = g->gr_gid;
		} else {
			log_warn("resolve1-group %s: no such group; only root and the daemon's "
				 "user may change links",
				 c->resolve1_group);
		}
	}
	for (int i = 0; i < c->nnetwork_resolver && i < DS_R1_MAX_GLOBAL_DNS; i++)
		o->global_dns[o->nglobal_dns++] = c->network_resolver[i];
	if (strcmp(c->resolv_conf_out, "none") != 0)
		snprintf(o->resolv_conf_out, sizeof(o->resolv_conf_out), "%s", c->resolv_conf_out);
}

int ds_resolve1d_open(struct ds_daemon *d)
{
	struct ds_resolve1d *rd;
	struct ds_r1_opts o;
	struct ds_r1_hooks h;
	int r;

	if (!d->cfg->resolve1 || d->resolve1)
		return 0;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->d = d;
	make_opts(d->cfg, &o);
	h = (struct ds_r1_hooks){
		.arg = rd,
		.set_link = h_set_link,
		.revert_link = h_revert_link,
		.flush_caches = h_flush_caches,
		.reset_server_features = h_reset_server_features,
		.resolve = h_resolve,
		.resolve_cancel = h_resolve_cancel,
		.search_domains = h_search_domains,
		.link_state = h_link_state,
		.stats = h_stats,
	};
	/* built without sd-bus, ds_r1_open() only refuses: no hooks, and the
	 * compiler drops them (a router's build) */
	r = ds_r1_open(d->base, &o, HAVE_RESOLVE1 ? &h : NULL, &rd->r1);
	if (r < 0) {
		free(rd);
		return r;
	}
	if (d->cfg->nnetwork_resolver > 0)
		log_notice("resolve1: network-resolver is configured: the links' DNS servers are "
			   "shown, not used");
	else if (d->cfg->resolv_source[0])
		log_notice("resolve1: resolv-source is configured too: the network's resolvers "
			   "are the ones either of them changed last");
	d->resolve1 = rd;
	return 0;
}

void ds_resolve1d_close(struct ds_daemon *d)
{
	if (!d->resolve1)
		return;
	ds_r1_close(d->resolve1->r1);
	free(d->resolve1);
	d->resolve1 = NULL;
}

void ds_resolve1d_reload(struct ds_daemon *d)
{
	struct ds_r1_opts o;

	if (!d->cfg->resolve1) {
		if (d->resolve1)
			log_notice("resolve1: off after the reload: leaving the system bus");
		ds_resolve1d_close(d);
		return;
	}
	if (!d->resolve1) {
		if (ds_resolve1d_open(d) < 0)
			log_err("reload: resolve1: cannot serve the D-Bus API");
		return;
	}
	make_opts(d->cfg, &o);
	ds_r1_set_opts(d->resolve1->r1, &o);
	/* the links' configuration lives in the network manager's link
	 * table, which a reload keeps */
}
