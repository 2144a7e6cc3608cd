/*
 * netmgr_links.c -- the links: what every source says about each link
 * (the link table, d->linktab: one struct ds_linkconf per link and
 * source, the highest source in force), and what the daemon makes of it.
 *
 *  - The default link serves the names no domain routes elsewhere.  It is
 *    the first of: a link with resolvers and the routing domain "~." (the
 *    lowest interface index); the link of the default route (the
 *    fingerprint's interface) if it has resolvers and does not say
 *    default-route no; a link with resolvers whose default-route flag is
 *    yes (set, or unset and not every domain route-only; the lowest
 *    interface index).  With `network-resolver` configured there is none:
 *    the configured resolvers serve those names.  The default link's
 *    resolvers are the default network's (netmgr.c): its fingerprint is
 *    the one netlink gives, as before links existed.
 *  - Every other link with resolvers gets a network of its own
 *    (netmgr_ctx.c: discovery, trust and the policy's decision for it
 *    alone) and a lane of its own (the query path's upstream and cache
 *    partition), with a fingerprint of its own (linkfp.c: its name, MAC
 *    and resolvers).
 *  - Routes: a name at or below a link's search or routing domain goes to
 *    that link, the longest domain winning; of equal domains on several
 *    links, the first: the highest source (dotctl, resolve1, networkd,
 *    resolv.conf), then the lowest interface index.  Reverse names
 *    (in-addr.arpa, ip6.arpa) of a link's own prefixes go to that link.
 *    Everything else goes to the default lane.
 *  - The search list of the written resolv.conf: the default link's
 *    searched domains first, then every other link's.
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"

struct ds_linktab *nm_linktab(struct ds_daemon *d)
{
	if (!d->linktab)
		d->linktab = ds_linktab_new();
	return d->linktab;
}

/* ------------------------------------------------------------ helpers */

/* The interface of the default route the default network's fingerprint
 * was read with, or 0. */
static int route_ifindex(const struct ds_netmgr *def)
{
	if (!def->have_fp)
		return 0;
	if (def->fp.af[DS_NETFP_V4].route && def->fp.af[DS_NETFP_V4].ifindex > 0)
		return def->fp.af[DS_NETFP_V4].ifindex;
	if (def->fp.af[DS_NETFP_V6].route && def->fp.af[DS_NETFP_V6].ifindex > 0)
		return def->fp.af[DS_NETFP_V6].ifindex;
	return 0;
}

static void name_of(int ifindex, char name[IF_NAMESIZE])
{
	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, name))
		name[0] = '\0';
}

static bool has_root_route(const struct ds_linkconf *lc)
{
	for (int i = 0; i < lc->ndomains; i++)
		if (lc->domains[i].name[0] == '\0')
			return true;
	return false;
}

static void dns_addrs(const struct ds_linkconf *lc, struct sockaddr_storage *out, int *n)
{
	*n = 0;
	for (int i = 0; i < lc->ndns && *n < DS_MAX_NETWORK_RESOLVERS; i++)
		out[(*n)++] = lc->dns[i].addr;
}

static bool same_res(const struct ds_netmgr *nm, const struct sockaddr_storage *r, int n)
{
	if (nm->nres != n)
		return false;
	for (int i = 0; i < n; i++) {
		char a[64], b[64];

		nm_format_resolver(&nm->res[i], a, sizeof(a));
		nm_format_resolver(&r[i], b, sizeof(b));
		if (strcmp(a, b))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ the resolv.conf source */

/* resolv-source's link: `resolv-source-link`, else the default route's. */
static void place_rc(struct nm_hub *hub, struct ds_linktab *t)
{
	const struct ds_config *c = hub->d->cfg;
	int want = c->resolv_source_link[0] ? (int)if_nametoindex(c->resolv_source_link)
					    : route_ifindex(hub->def);

	if (hub->rc_ifindex && (hub->rc_ifindex != want || !hub->have_rc)) {
		ds_linktab_revert(t, hub->rc_ifindex, DS_LINKSRC_RESOLVCONF);
		hub->rc_ifindex = 0;
	}
	if (!hub->have_rc || want <= 0)
		return;
	hub->rc.ifindex = want;
	name_of(want, hub->rc.ifname);
	if (ds_linktab_set(t, &hub->rc) >= 0)
		hub->rc_ifindex = want;
}

/* ------------------------------------------------------------ the default link */

static int choose_default(struct nm_hub *hub, const struct ds_linktab *t,
			  struct sockaddr_storage *res, int *nres)
{
	const struct ds_config *c = hub->d->cfg;
	const struct ds_linkconf *lc;
	int d0 = route_ifindex(hub->def), chosen = 0;

	*nres = 0;
	if (c->nnetwork_resolver > 0) {
		for (int i = 0; i < c->nnetwork_resolver; i++)
			res[(*nres)++] = c->network_resolver[i];
		return 0;
	}
	for (size_t i = 0; !chosen && i < ds_linktab_count(t); i++) {
		lc = ds_linktab_at(t, i);
		if (lc->ndns > 0 && has_root_route(lc))
			chosen = lc->ifindex;
	}
	lc = d0 > 0 ? ds_linktab_get(t, d0) : NULL;
	if (!chosen && lc && lc->ndns > 0 && ds_linkconf_default_route(lc))
		chosen = d0;
	for (size_t i = 0; !chosen && i < ds_linktab_count(t); i++) {
		lc = ds_linktab_at(t, i);
		if (lc->ndns > 0 && ds_linkconf_default_route(lc))
			chosen = lc->ifindex;
	}
	if (chosen) {
		dns_addrs(ds_linktab_get(t, chosen), res, nres);
	} else if (hub->have_rc && !hub->rc_ifindex) {
		/* no default route known yet: the resolv.conf source serves
		 * the default network meanwhile */
		dns_addrs(&hub->rc, res, nres);
	}
	return chosen;
}

static void set_default(struct nm_hub *hub, int chosen, const struct sockaddr_storage *res,
			int nres)
{
	struct ds_netmgr *def = hub->def;
	struct ds_lane *l = &hub->d->def;
	int shown = chosen ? chosen : route_ifindex(def);
	char label[IF_NAMESIZE + 32];

	if (chosen != hub->default_ifindex) {
		hub->default_ifindex = chosen;
		def->ifindex = chosen;
		name_of(chosen, def->ifname);
		if (chosen)
			log_notice("%s is the default link: names no link's domain routes go to its "
				   "resolvers",
				   nm_label(def, label, sizeof(label)));
	}
	l->ifindex = shown;
	name_of(shown, l->ifname);
	if (same_res(def, res, nres))
		return;
	nm_set_resolvers(def, res, nres);
	if (!def->nw) {
		/* no netlink: the resolvers alone tell networks apart */
		struct ds_netaddr a[DS_MAX_NETWORK_RESOLVERS];
		struct ds_netfp fp;
		int k = 0;

		for (int i = 0; i < nres; i++)
			if (ds_netaddr_from_sockaddr((const struct sockaddr *)&res[i], sizeof(res[i]),
						     &a[k]) == 0)
				k++;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, a, (size_t)k);
		nm_network_changed(def, &fp);
	}
	/* else the watcher reads the fingerprint with them and reports */
}

/* ------------------------------------------------------------ the links' networks */

static void refresh_hook(struct ds_netmgr *nm, bool running);
static void write_routes(struct nm_hub *hub);

static int ctx_index(const struct nm_hub *hub, int ifindex)
{
	for (int i = 0; i < hub->nlinks; i++)
		if (hub->link[i]->ifindex == ifindex)
			return i;
	return -1;
}

static void ctx_end(struct nm_hub *hub, int i)
{
	struct ds_netmgr *nm = hub->link[i];
	struct ds_lane *lane = nm->lane;
	char label[IF_NAMESIZE + 32];

	log_notice("%s: no resolver of its own any more: its names go to the default link",
		   nm_label(nm, label, sizeof(label)));
	if (hub->refreshing == nm)
		hub->refreshing = NULL;
	nm_ctx_free(nm);
	ds_lane_free(lane);
	memmove(&hub->link[i], &hub->link[i + 1], (size_t)(hub->nlinks - i - 1) * sizeof(hub->link[0]));
	hub->nlinks--;
}

static struct ds_netmgr *ctx_make(struct nm_hub *hub, const struct ds_linkconf *lc)
{
	char ifname[IF_NAMESIZE];
	struct ds_lane *lane;
	struct ds_netmgr *nm;
	int i;

	if (hub->nlinks >= DS_LINKTAB_MAX)
		return NULL;
	snprintf(ifname, sizeof(ifname), "%s", lc->ifname);
	if (!ifname[0])
		name_of(lc->ifindex, ifname);
	lane = ds_lane_new(hub->d, lc->ifindex, ifname);
	if (!lane)
		return NULL;
	nm = nm_ctx_new(hub->d, lane);
	if (!nm) {
		ds_lane_free(lane);
		return NULL;
	}
	nm->hub = hub;
	nm->store = hub->def->store;
	nm->is_link = true;
	nm->ifindex = lc->ifindex;
	snprintf(nm->ifname, sizeof(nm->ifname), "%s", ifname);
	nm->refresh_hook = refresh_hook;
	for (i = hub->nlinks; i > 0 && hub->link[i - 1]->ifindex > lc->ifindex; i--)
		hub->link[i] = hub->link[i - 1];
	hub->link[i] = nm;
	hub->nlinks++;
	return nm;
}

/* The link's network from its configuration: a new one when its
 * resolvers or its name changed. */
static void ctx_configure(struct ds_netmgr *nm, const struct ds_linkconf *lc)
{
	struct sockaddr_storage res[DS_MAX_NETWORK_RESOLVERS];
	struct ds_netaddr a[DS_MAX_NETWORK_RESOLVERS];
	char label[IF_NAMESIZE + 32], ifname[IF_NAMESIZE];
	struct ds_netfp fp;
	int n, k = 0;

	nm->strict = lc->dot == DS_LINKDOT_YES;
	snprintf(ifname, sizeof(ifname), "%s", lc->ifname);
	if (!ifname[0])
		name_of(lc->ifindex, ifname);
	dns_addrs(lc, res, &n);
	if (nm->have_fp && same_res(nm, res, n) && !strcmp(ifname, nm->ifname))
		return;
	snprintf(nm->ifname, sizeof(nm->ifname), "%s", ifname);
	snprintf(nm->lane->ifname, sizeof(nm->lane->ifname), "%s", ifname);
	nm_set_resolvers(nm, res, n);
	for (int i = 0; i < n; i++)
		if (ds_netaddr_from_sockaddr((const struct sockaddr *)&res[i], sizeof(res[i]),
					     &a[k]) == 0)
			k++;
	if (ds_netfp_of_link(ifname, a, (size_t)k, &fp) < 0)
		ds_netfp_init(&fp);
	if (nm->have_fp && ds_netfp_equal(&fp, &nm->fp))
		return;
	nm_network_changed(nm, &fp);
	log_notice("%s: a network of its own (%s), %d resolver(s) from %s: deciding", 
		   nm_label(nm, label, sizeof(label)), nm->fp_id, n, ds_link_source_name(lc->source));
}

static void update_links(struct nm_hub *hub, const struct ds_linktab *t)
{
	/* those that no longer need a network of their own */
	for (int i = hub->nlinks; i-- > 0;) {
		const struct ds_linkconf *lc = ds_linktab_get(t, hub->link[i]->ifindex);

		if (!lc || lc->ndns == 0 || lc->ifindex == hub->default_ifindex)
			ctx_end(hub, i);
	}
	for (size_t i = 0; i < ds_linktab_count(t); i++) {
		const struct ds_linkconf *lc = ds_linktab_at(t, i);
		struct ds_netmgr *nm;
		int k;

		if (lc->ndns == 0 || lc->ifindex == hub->default_ifindex)
			continue;
		k = ctx_index(hub, lc->ifindex);
		nm = k >= 0 ? hub->link[k] : ctx_make(hub, lc);
		if (!nm) {
			log_err("link %d: out of memory: its names go to the default link", lc->ifindex);
			continue;
		}
		ctx_configure(nm, lc);
	}
}

/* ------------------------------------------------------------ routes */

struct route_src {
	const struct ds_linkconf *lc;
	struct ds_lane *lane;
	bool own;                     /* a link's own network (reverse zones) */
};

static int route_src_cmp(const void *a, const void *b)
{
	const struct route_src *x = a, *y = b;

	if (x->lc->source != y->lc->source)
		return (int)y->lc->source - (int)x->lc->source; /* the highest first */
	return x->lc->ifindex - y->lc->ifindex;
}

static void add_route(struct ds_route *r, size_t cap, size_t *n, const char *name,
		      struct ds_lane *lane)
{
	if (*n < cap && ds_route_compile(name, lane, &r[*n]) == 0)
		(*n)++;
}

static void write_routes(struct nm_hub *hub)
{
	const struct ds_linktab *t = hub->d->linktab;
	struct route_src src[DS_LINKTAB_MAX];
	size_t nsrc = 0, n = 0, cap;
	struct ds_route *r;

	for (size_t i = 0; i < ds_linktab_count(t) && nsrc < DS_LINKTAB_MAX; i++) {
		const struct ds_linkconf *lc = ds_linktab_at(t, i);
		int k = ctx_index(hub, lc->ifindex);

		if (k >= 0)
			src[nsrc++] = (struct route_src){ lc, hub->link[k]->lane, true };
		else if (lc->ifindex == hub->default_ifindex && hub->default_ifindex)
			src[nsrc++] = (struct route_src){ lc, &hub->d->def, false };
	}
	qsort(src, nsrc, sizeof(src[0]), route_src_cmp);
	cap = 2 + nsrc * DS_LINK_MAX_DOMAINS + hub->naddrs * DS_REVZONE_SPLIT;
	r = calloc(cap, sizeof(*r));
	if (!r) {
		log_err("links: out of memory for the routes; keeping the old ones");
		return;
	}
	/* a link's refresh over our own DoT: the resolver's names go to it */
	if (hub->refreshing && hub->refreshing->is_link) {
		add_route(r, cap, &n, DISC_ZONE, hub->refreshing->lane);
		if (hub->refreshing->upstream_name[0])
			add_route(r, cap, &n, hub->refreshing->upstream_name, hub->refreshing->lane);
	}
	for (size_t i = 0; i < nsrc; i++)
		for (int k = 0; k < src[i].lc->ndomains; k++)
			/* "~." chose the default link; as a route it would
			 * take every name from it */
			if (src[i].lc->domains[k].name[0])
				add_route(r, cap, &n, src[i].lc->domains[k].name, src[i].lane);
	for (size_t i = 0; i < nsrc; i++) {
		if (!src[i].own)
			continue;
		for (size_t a = 0; a < hub->naddrs; a++) {
			char zones[DS_REVZONE_SPLIT][DS_REVZONE_MAX];
			int z;

			if (hub->addrs[a].ifindex != src[i].lc->ifindex)
				continue;
			z = ds_reverse_zones(&hub->addrs[a].addr, hub->addrs[a].prefixlen, zones,
					     DS_REVZONE_SPLIT);
			for (int j = 0; j < z; j++)
				add_route(r, cap, &n, zones[j], src[i].lane);
		}
	}
	if (ds_daemon_set_routes(hub->d, r, n) < 0)
		log_err("links: out of memory for the routes; keeping the old ones");
	free(r);
	ds_stubresolv_update(hub->d);
}

static void refresh_hook(struct ds_netmgr *nm, bool running)
{
	struct nm_hub *hub = nm->hub;

	if (running)
		hub->refreshing = nm;
	else if (hub->refreshing == nm)
		hub->refreshing = NULL;
	if (nm->is_link)
		write_routes(hub);
}

/* ------------------------------------------------------------ search list */

static void add_search(char (*out)[DS_RESOLVCONF_NAME_MAX + 1], size_t *n, size_t cap,
		       const struct ds_linkconf *lc)
{
	for (int i = 0; lc && i < lc->ndomains; i++) {
		const struct ds_link_domain *dm = &lc->domains[i];
		size_t k;

		if (dm->route_only || !dm->name[0])
			continue;
		for (k = 0; k < *n && strcmp(out[k], dm->name); k++)
			;
		if (k < *n || *n >= cap)
			continue;
		snprintf(out[(*n)++], DS_RESOLVCONF_NAME_MAX + 1, "%s", dm->name);
	}
}

/* Every link's searched domains, the default link's first (hub NULL: a
 * static upstream, the links' in the table's order). */
static size_t search_list(const struct nm_hub *hub, const struct ds_linktab *t,
			  char (*out)[DS_RESOLVCONF_NAME_MAX + 1], size_t cap)
{
	size_t n = 0;

	if (hub && hub->default_ifindex)
		add_search(out, &n, cap, ds_linktab_get(t, hub->default_ifindex));
	else if (hub && hub->have_rc && !hub->rc_ifindex)
		add_search(out, &n, cap, &hub->rc);
	for (size_t i = 0; i < ds_linktab_count(t); i++)
		add_search(out, &n, cap, ds_linktab_at(t, i));
	return n;
}

static void write_search(struct nm_hub *hub, const struct ds_linktab *t)
{
	char search[DS_LINK_MAX_DOMAINS][DS_RESOLVCONF_NAME_MAX + 1];
	size_t n;

	/* a watched source that has not reported yet (at start, after a
	 * reload) would take its domains out of the file for a moment */
	if ((hub->rw && !hub->rc_reported) || (hub->ndw && !hub->nd_reported))
		return;
	n = search_list(hub, t, search, DS_LINK_MAX_DOMAINS);
	ds_stubresolv_set_search(hub->d, (const char(*)[DS_RESOLVCONF_NAME_MAX + 1])search, n);
}

/* ------------------------------------------------------------ the hub */

void nm_hub_update(struct nm_hub *hub)
{
	struct ds_linktab *t;
	struct sockaddr_storage res[DS_MAX_NETWORK_RESOLVERS];
	int nres, chosen;

	if (!hub)
		return;
	t = nm_linktab(hub->d);
	if (!t) {
		log_err("links: out of memory");
		return;
	}
	hub->updates++;
	place_rc(hub, t);
	chosen = choose_default(hub, t, res, &nres);
	set_default(hub, chosen, res, nres);
	update_links(hub, t);
	write_routes(hub);
	write_search(hub, t);
}

void nm_hub_redecide(struct nm_hub *hub)
{
	for (int i = 0; hub && i < hub->nlinks; i++)
		if (hub->link[i]->have_fp)
			nm_network_changed(hub->link[i], &hub->link[i]->fp);
}

void nm_hub_reconnect(struct nm_hub *hub)
{
	for (int i = 0; hub && i < hub->nlinks; i++) {
		struct ds_lane *l = hub->link[i]->lane;

		if (l->up) {
			l->switch_start_us = ds_now_us();
			ds_upstream_reset(l->up);
			ds_upstream_connect_now(l->up);
		}
	}
}

/* The interfaces' addresses changed: the links' reverse zones follow, and
 * a link that is gone is forgotten (what every source said of it). */
static void on_addrs(struct ds_netwatch *w, const struct ds_net_ifaddr *a, size_t n, void *arg)
{
	struct nm_hub *hub = arg;
	struct ds_linktab *t = hub->d->linktab;

	if (n > DS_NET_MAX_IFADDRS)
		n = DS_NET_MAX_IFADDRS;
	memcpy(hub->addrs, a, n * sizeof(a[0]));
	hub->naddrs = n;
	for (size_t i = ds_linktab_count(t); t && i-- > 0;) {
		const struct ds_linkconf *lc = ds_linktab_at(t, i);
		char name[IF_NAMESIZE];
		int ifindex = lc->ifindex;

		if (if_indextoname((unsigned)ifindex, name))
			continue;
		log_notice("link %s (%d) is gone: its configuration is dropped",
			   lc->ifname[0] ? lc->ifname : "?", ifindex);
		for (int s = DS_LINKSRC_COUNT - 1; s > DS_LINKSRC_NONE; s--)
			ds_linktab_revert(t, ifindex, (enum ds_link_source)s);
		if (hub->rc_ifindex == ifindex)
			hub->rc_ifindex = 0;
	}
	nm_hub_update(hub);
}

struct nm_hub *nm_hub_new(struct ds_netmgr *def)
{
	struct nm_hub *hub = calloc(1, sizeof(*hub));
	struct ds_netwatch_opts o = { .addrs_only = true };
	int r;

	if (!hub)
		return NULL;
	hub->d = def->d;
	hub->def = def;
	def->refresh_hook = refresh_hook;
	r = ds_netwatch_new(def->d->base, &o, NULL, NULL, &hub->addr_nw);
	if (r < 0) {
		log_warn("links: netlink: %s; the links' reverse zones are not routed to them",
			 strerror(-r));
		hub->addr_nw = NULL;
	} else {
		ds_netwatch_set_addr_cb(hub->addr_nw, on_addrs, hub);
	}
	return hub;
}

void nm_hub_free(struct nm_hub *hub)
{
	if (!hub)
		return;
	while (hub->nlinks > 0)
		ctx_end(hub, hub->nlinks - 1);
	ds_netwatch_free(hub->addr_nw);
	/* the sources that are watched come back with the next start */
	if (hub->d->linktab) {
		ds_linktab_flush(hub->d->linktab, DS_LINKSRC_RESOLVCONF);
		ds_linktab_flush(hub->d->linktab, DS_LINKSRC_NETWORKD);
	}
	ds_daemon_set_routes(hub->d, NULL, 0);
	hub->def->refresh_hook = NULL;
	free(hub);
}

/* ------------------------------------------------------------ the entry points */

static void describe(const struct ds_linkconf *lc, char *out, size_t len)
{
	size_t o = 0;

	o += (size_t)snprintf(out + o, len - o, "%d resolver(s)", lc->ndns);
	for (int i = 0; i < lc->ndomains && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s%s", i ? " " : ", domains ",
				      lc->domains[i].route_only ? "~" : "",
				      lc->domains[i].name[0] ? lc->domains[i].name : ".");
	if (o < len)
		snprintf(out + o, len - o, ", default route %s",
			 lc->default_route == DS_UNSET ? "unset" : lc->default_route == DS_YES ? "yes"
												: "no");
}

int ds_netmgr_link_set(struct ds_daemon *d, const struct ds_linkconf *lc)
{
	struct ds_linktab *t = nm_linktab(d);
	struct ds_linkconf copy;
	char what[512];
	int r;

	if (!t)
		return -ENOMEM;
	if (lc->ifindex <= 0 || lc->source <= DS_LINKSRC_NONE || lc->source >= DS_LINKSRC_COUNT)
		return -EINVAL;
	copy = *lc;
	if (!copy.ifname[0])
		name_of(copy.ifindex, copy.ifname);
	if (!copy.ifname[0])
		return -ENODEV;
	r = ds_linktab_set(t, &copy);
	if (r < 0) {
		log_warn("link %s (%d): %s configuration refused: %s", copy.ifname, copy.ifindex,
			 ds_link_source_name(copy.source), strerror(-r));
		return r;
	}
	describe(&copy, what, sizeof(what));
	log_notice("link %s (%d): %s: %s%s", copy.ifname, copy.ifindex,
		   ds_link_source_name(copy.source), what,
		   r == 0 ? " (no change in force)" : "");
	if (!d->netmgr)
		log_notice("link %s (%d): a static upstream serves every name; kept, not used",
			   copy.ifname, copy.ifindex);
	else if (r > 0)
		nm_hub_update(d->netmgr->hub);
	return 0;
}

/* ------------------------------------------------------------ DNR */

static int dnr_index(const struct nm_hub *hub, int ifindex)
{
	for (int i = 0; i < hub->ndnr; i++)
		if (hub->dnr[i].ifindex == ifindex)
			return i;
	return -1;
}

/* The designations changed: every network decides again (a new walk, then
 * the designations with what it gives). */
static void dnr_redecide(struct nm_hub *hub)
{
	if (hub->def->have_fp)
		nm_network_changed(hub->def, &hub->def->fp);
	nm_hub_redecide(hub);
}

/* The link's set, from what its sources say: lower Service Priority
 * first, a tie in the order of the sources; at most DS_LINK_MAX_DNR. */
static void dnr_merge(struct nm_link_dnr *l)
{
	l->n = 0;
	memset(l->g, 0, sizeof(l->g));
	for (int s = 0; s < DS_DNR_NSOURCES; s++)
		for (int i = 0; i < l->src[s].n; i++) {
			const struct ds_link_dnr *g = &l->src[s].g[i];
			int k = l->n < DS_LINK_MAX_DNR ? l->n++ : DS_LINK_MAX_DNR;

			while (k > 0 && l->g[k - 1].priority > g->priority) {
				if (k < DS_LINK_MAX_DNR)
					l->g[k] = l->g[k - 1];
				k--;
			}
			if (k < DS_LINK_MAX_DNR)
				l->g[k] = *g;
		}
}

/* What src said of link ifindex, forgotten (the link's entry too when no
 * source says anything); true if it had said something. */
static bool dnr_forget(struct nm_hub *hub, int ifindex, enum ds_dnr_source src)
{
	int k = dnr_index(hub, ifindex), s;
	struct nm_link_dnr *l;

	if (k < 0 || hub->dnr[k].src[src].n == 0)
		return false;
	l = &hub->dnr[k];
	l->src[src].n = 0;
	dnr_merge(l);
	for (s = 0; s < DS_DNR_NSOURCES && l->src[s].n == 0; s++)
		;
	if (s == DS_DNR_NSOURCES)
		hub->dnr[k] = hub->dnr[--hub->ndnr];
	return true;
}

/* A designation a link can keep: an ADN, up to DS_LINK_MAX_DNR_ADDRS
 * addresses (none: ADN-only, RFC 9463 3.1.6, resolved when tried), a
 * priority (0 is an alias, never kept). */
static bool dnr_usable(const struct ds_link_dnr *g)
{
	return g->naddr >= 0 && g->naddr <= DS_LINK_MAX_DNR_ADDRS && g->adn[0] && g->priority != 0;
}

/* The index of link ifindex's DNR entry, a new empty one if it has none;
 * -E2BIG if the table is full. */
static int dnr_slot(struct nm_hub *hub, int ifindex)
{
	int k = dnr_index(hub, ifindex);

	if (k >= 0)
		return k;
	if (hub->ndnr >= DS_LINKTAB_MAX)
		return -E2BIG;
	k = hub->ndnr++;
	memset(&hub->dnr[k], 0, sizeof(hub->dnr[k]));
	hub->dnr[k].ifindex = ifindex;
	return k;
}

int ds_netmgr_link_dnr(struct ds_daemon *d, int ifindex, const char *ifname,
		       const struct ds_link_dnr *g)
{
	struct nm_hub *hub = d->netmgr ? d->netmgr->hub : NULL;
	struct nm_dnr_set *set;
	int k, i;

	if (!hub)
		return -ENOTSUP;
	if (ifindex <= 0 || !dnr_usable(g))
		return -EINVAL;
	if ((k = dnr_slot(hub, ifindex)) < 0)
		return k;
	set = &hub->dnr[k].src[DS_DNR_DOTCTL];
	for (i = 0; i < set->n && set->g[i].priority != g->priority; i++)
		;
	if (i == set->n) {
		if (set->n >= DS_LINK_MAX_DNR) {
			log_warn("link %s (%d): DNR designation %s refused: %d already", ifname,
				 ifindex, g->adn, DS_LINK_MAX_DNR);
			return -E2BIG;
		}
		set->n++;
	}
	set->g[i] = *g;
	dnr_merge(&hub->dnr[k]);
	log_notice("link %s (%d): dotctl: DNR designation priority %u %s, %d address(es)%s",
		   ifname, ifindex, g->priority, g->adn, g->naddr,
		   d->cfg->dnr ? ": deciding again" : " (dnr no: not used)");
	if (d->cfg->dnr)
		dnr_redecide(hub);
	return 0;
}

static bool dnr_same(const struct nm_dnr_set *l, const struct ds_link_dnr *g, int n)
{
	if (l->n != n)
		return false;
	for (int i = 0; i < n; i++)
		if (l->g[i].priority != g[i].priority || strcmp(l->g[i].adn, g[i].adn) ||
		    l->g[i].naddr != g[i].naddr ||
		    memcmp(l->g[i].addr, g[i].addr, sizeof(g[i].addr[0]) * (size_t)g[i].naddr))
			return false;
	return true;
}

int ds_netmgr_link_dnr_replace(struct ds_daemon *d, int ifindex, const char *ifname,
			       enum ds_dnr_source src, const struct ds_link_dnr *g, int n,
			       const char *from)
{
	struct nm_hub *hub = d->netmgr ? d->netmgr->hub : NULL;
	struct nm_link_dnr *l;
	int k;

	if (!hub)
		return -ENOTSUP;
	if (ifindex <= 0 || (unsigned)src >= DS_DNR_NSOURCES || n < 0 || n > DS_LINK_MAX_DNR)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (!dnr_usable(&g[i]))
			return -EINVAL;
	k = dnr_index(hub, ifindex);
	if (k < 0 ? n == 0 : dnr_same(&hub->dnr[k].src[src], g, n))
		return 0;
	if (n == 0) {
		dnr_forget(hub, ifindex, src);
		k = dnr_index(hub, ifindex);
	} else {
		if ((k = dnr_slot(hub, ifindex)) < 0)
			return k;
		l = &hub->dnr[k];
		memset(l->src[src].g, 0, sizeof(l->src[src].g));
		memcpy(l->src[src].g, g, sizeof(g[0]) * (size_t)n);
		l->src[src].n = n;
		dnr_merge(l);
	}
	log_notice("link %s (%d): %s: %d DNR designation(s), %d in all on the link%s", ifname,
		   ifindex, from, n, k < 0 ? 0 : hub->dnr[k].n,
		   !d->cfg->dnr ? " (dnr no: not used)" : ": deciding again");
	if (d->cfg->dnr)
		dnr_redecide(hub);
	return 1;
}

int ds_netmgr_link_revert(struct ds_daemon *d, int ifindex, enum ds_link_source src)
{
	struct ds_linktab *t = d->linktab;
	const struct ds_linkconf *lc;
	char name[IF_NAMESIZE] = "?";
	int r;

	if (src <= DS_LINKSRC_NONE || src >= DS_LINKSRC_COUNT || ifindex <= 0)
		return -EINVAL;
	if (src == DS_LINKSRC_DOTCTL && d->netmgr &&
	    dnr_forget(d->netmgr->hub, ifindex, DS_DNR_DOTCTL)) {
		log_notice("link %d: dotctl DNR designations reverted", ifindex);
		if (d->cfg->dnr)
			dnr_redecide(d->netmgr->hub);
		if (!t || !ds_linktab_get_source(t, ifindex, src))
			return 0;
	}
	lc = t ? ds_linktab_get_source(t, ifindex, src) : NULL;
	if (!lc)
		return -ENOENT;
	snprintf(name, sizeof(name), "%s", lc->ifname[0] ? lc->ifname : "?");
	r = ds_linktab_revert(t, ifindex, src);
	if (r < 0)
		return r;
	log_notice("link %s (%d): %s configuration reverted%s", name, ifindex,
		   ds_link_source_name(src), r == 0 ? " (it was not in force)" : "");
	if (d->netmgr && r > 0)
		nm_hub_update(d->netmgr->hub);
	return 0;
}

int ds_netmgr_link_get(struct ds_daemon *d, int ifindex, enum ds_link_source src,
		       struct ds_linkconf *ret)
{
	const struct ds_linkconf *lc;

	if (src >= DS_LINKSRC_COUNT)
		return -EINVAL;
	lc = d->linktab ? ds_linktab_get_source(d->linktab, ifindex, src) : NULL;
	if (!lc)
		return -ENOENT;
	*ret = *lc;
	return 0;
}

size_t ds_netmgr_link_search(struct ds_daemon *d, int ifindex,
			     char (*out)[DS_RESOLVCONF_NAME_MAX + 1], size_t cap)
{
	const struct ds_linktab *t = d->linktab;
	size_t n = 0;

	if (!t || ifindex < 0)
		return 0;
	if (ifindex == 0)
		return search_list(d->netmgr ? d->netmgr->hub : NULL, t, out, cap);
	add_search(out, &n, cap, ds_linktab_get(t, ifindex));
	return n;
}

int ds_netmgr_link_flush(struct ds_daemon *d, enum ds_link_source src)
{
	int r;

	if (src >= DS_LINKSRC_COUNT)
		return -EINVAL;
	if (!d->linktab)
		return 0;
	r = ds_linktab_flush(d->linktab, src);
	if (r > 0) {
		log_notice("links: every %s configuration flushed (%d link(s) changed)",
			   src == DS_LINKSRC_NONE ? "" : ds_link_source_name(src), r);
		if (d->netmgr)
			nm_hub_update(d->netmgr->hub);
	}
	return r;
}

void ds_netmgr_flush_caches(struct ds_daemon *d)
{
	if (d->cache)
		ds_cache_flush(d->cache);
	log_info("cache flushed");
}

void ds_netmgr_links_free(struct ds_daemon *d)
{
	ds_linktab_free(d->linktab);
	d->linktab = NULL;
}
