/*
 * netmgr_status.c -- the network, discovery and policy part of
 * `dotctl status`, as data (netmgr_status.h).
 */
#include "netmgr_int.h"
#include "netmgr_status.h"

#include <stdio.h>
#include <string.h>

#include "dotstub/hex.h"


#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

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
	for (int i = 0; i < nm->nupstreams && i < DISC_MAX_UPSTREAMS; i++)
		COPY(st->forwarder_upstreams[st->nforwarder_upstreams++], nm->upstreams[i]);
	COPY(st->transparent, nm->transparent);
	st->hotspot_left_s = nm_hotspot_left_s(nm);
	COPY(st->portal, nm->portal);
	st->refreshes = nm->refreshes;
	st->refresh_failures = nm->refresh_failures;
	COPY(st->last_refresh, nm->last_refresh);
}
