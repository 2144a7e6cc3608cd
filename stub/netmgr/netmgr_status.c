/*
 * netmgr_status.c -- the network, discovery and policy part of
 * `dotctl status`, as data (netmgr_status.h).
 */
#include "netmgr_int.h"
#include "netmgr_status.h"

#include <stdio.h>
#include <string.h>

#include "dotstub/hex.h"
#include "dotstub/sockaddr.h"


#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

static void link_conf(const struct ds_linkconf *lc, struct ds_link_status *ls)
{
	ls->source = ds_link_source_name(lc->source);
	ls->default_route = ds_linkconf_default_route(lc);
	if (!ls->ifname[0])
		COPY(ls->ifname, lc->ifname);
	for (int i = 0; i < lc->ndns && ls->nresolvers < DS_LINK_MAX_DNS; i++)
		ds_sockaddr_format(&lc->dns[i].addr, ls->resolvers[ls->nresolvers++],
				   sizeof(ls->resolvers[0]));
	for (int i = 0; i < lc->ndomains; i++) {
		const struct ds_link_domain *dm = &lc->domains[i];

		if (!dm->route_only)
			COPY(ls->search[ls->nsearch++], dm->name);
		else
			COPY(ls->routing[ls->nrouting++], dm->name[0] ? dm->name : ".");
	}
}

/* How a network's names are served now. */
static void link_serving(const struct ds_netmgr *nm, struct ds_link_status *ls)
{
	const struct ds_lane *l = nm->lane;

	ls->own_network = true;
	COPY(ls->network, nm->fp_id);
	ls->state = trust_posture_name(nm->state);
	COPY(ls->reason, nm->reason);
	COPY(ls->upstream, nm->upstream_name);
	ls->strict = nm->strict;
	ls->since = nm->since;
	ls->queries = l->queries;
	if (l->up) {
		struct ds_upstream_status us;

		ds_upstream_get_status(l->up, &us);
		ls->transport = "dot";
		COPY(ls->address, us.addr);
		ls->authenticated = us.handshakes > 0 && ds_upstream_authenticates(l->up);
		ls->auth = us.auth;
		snprintf(ls->tlsa, sizeof(ls->tlsa), "%.5s", us.matched_tlsa);
	} else if (l->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(l->plain, &ps);
		ls->transport = "plain";
		COPY(ls->address, ps.addr);
	} else {
		ls->transport = "none";
	}
	if (nm->have_anchor) {
		ls->have_anchor = true;
		ls->anchor_tag = nm->anchor_tag;
		ls->anchor_alg = nm->anchor_alg;
		ls->anchor_since = nm->anchor_since;
	}
	if (nm->hotspot.active)
		ls->hotspot_until = (int64_t)ds_wall_now() + (int64_t)nm_hotspot_left_s(nm);
}

static void links_status(struct ds_daemon *d, const struct ds_netmgr *nm,
			 struct ds_netmgr_status *st)
{
	const struct nm_hub *hub = nm->hub;
	const struct ds_linktab *t = d->linktab;
	struct ds_link_status *ls = &st->links[0];
	const struct ds_linkconf *lc;

	/* the default network, with the default link's configuration */
	st->nlinks = 1;
	ls->is_default = true;
	ls->ifindex = d->def.ifindex;
	COPY(ls->ifname, d->def.ifname);
	ls->source = d->cfg->nnetwork_resolver ? "network-resolver" : "none";
	lc = hub && hub->default_ifindex ? ds_linktab_get(t, hub->default_ifindex) : NULL;
	if (lc)
		link_conf(lc, ls);
	else
		for (int i = 0; i < nm->nres && ls->nresolvers < DS_LINK_MAX_DNS; i++)
			ds_sockaddr_format(&nm->res[i], ls->resolvers[ls->nresolvers++],
					   sizeof(ls->resolvers[0]));
	link_serving(nm, ls);
	for (size_t i = 0; i < ds_linktab_count(t) && st->nlinks < DS_STATUS_MAX_LINKS; i++) {
		lc = ds_linktab_at(t, i);
		if (hub && lc->ifindex == hub->default_ifindex)
			continue;
		ls = &st->links[st->nlinks++];
		ls->ifindex = lc->ifindex;
		link_conf(lc, ls);
		ls->state = "";
		ls->transport = "none";
		for (int k = 0; hub && k < hub->nlinks; k++)
			if (hub->link[k]->ifindex == lc->ifindex)
				link_serving(hub->link[k], ls);
		if (!ls->own_network)
			COPY(ls->reason, lc->ndns ? "not served (no network manager)"
						  : "no resolver: its names go to the default link");
	}
}

void ds_netmgr_get_status(struct ds_daemon *d, struct ds_netmgr_status *st)
{
	struct ds_netmgr *nm = d->netmgr;

	memset(st, 0, sizeof(*st));
	st->state = "";
	st->tofu = trust_tofu_name(d->cfg->tofu);
	st->unknown_network = trust_unknown_mode_name(d->cfg->unknown_network);
	if (!nm)
		return;
	st->active = true;
	COPY(st->fp_id, nm->fp_id);
	if (nm->have_fp) {
		COPY(st->fingerprint, nm->fp_text);
		COPY(st->ifname, nm->fp.af[DS_NETFP_V4].route ? nm->fp.af[DS_NETFP_V4].ifname
							       : nm->fp.af[DS_NETFP_V6].ifname);
	}
	COPY(st->match, trust_match_name(nm->match));
	st->known = nm->match != TRUST_MATCH_NONE;
	st->changes = nm->changes;
	for (int i = 0; i < nm->nres && i < DS_MAX_NETWORK_RESOLVERS; i++)
		nm_format_resolver(&nm->res[i], st->resolvers[st->nresolvers++],
				   sizeof(st->resolvers[0]));
	st->state = trust_posture_name(nm->state);
	COPY(st->reason, nm->reason);
	st->alert = nm->alert;
	COPY(st->upstream, nm->upstream_name);
	st->from_store = nm->from_store;
	st->have_anchor = nm->have_anchor;
	if (nm->have_anchor) {
		st->anchor_tag = nm->anchor_tag;
		st->anchor_alg = nm->anchor_alg;
		ds_hex_encode(nm->anchor_sha, TRUST_SHA256_LEN, st->anchor_sha256);
	}
	st->walks = nm->walks;
	COPY(st->last_walk, nm->last_walk);
	COPY(st->designated, nm->desig.said);
	for (int i = 0; i < nm->nupstreams && i < DISC_MAX_UPSTREAMS; i++)
		COPY(st->forwarder_upstreams[st->nforwarder_upstreams++], nm->upstreams[i]);
	COPY(st->transparent, nm->transparent);
	st->hotspot_left_s = nm_hotspot_left_s(nm);
	COPY(st->portal, nm->portal);
	st->refreshes = nm->refreshes;
	st->refresh_failures = nm->refresh_failures;
	COPY(st->last_refresh, nm->last_refresh);
	links_status(d, nm, st);
}
