/*
 * netmgr_status.c -- the network, discovery and policy sections of
 * `dotctl status` (text and JSON).
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/hex.h"
#include "dotstub/log.h"


static void json_str(struct evbuffer *out, const char *key, const char *s, bool comma)
{
	evbuffer_add_printf(out, "\"%s\": ", key);
	ds_json_str(out, s);
	if (comma)
		evbuffer_add_printf(out, ", ");
}

void ds_netmgr_describe(struct ds_daemon *d, struct evbuffer *out, bool json)
{
	struct ds_netmgr *nm = d->netmgr;
	char res[256] = "", sha[2 * TRUST_SHA256_LEN + 1] = "";
	size_t len = 0;

	if (!nm) {
		if (json)
			evbuffer_add_printf(out, "\"discovery\": null");
		return;
	}
	for (int i = 0; i < nm->nres && len + 64 < sizeof(res); i++) {
		char a[DISC_ADDR_STR_MAX];
		nm_format_resolver(&nm->res[i], a, sizeof(a));
		len += (size_t)snprintf(res + len, sizeof(res) - len, "%s%s", i ? " " : "", a);
	}
	if (nm->have_anchor)
		ds_hex_encode(nm->anchor_sha, TRUST_SHA256_LEN, sha);
	if (json) {
		evbuffer_add_printf(out, "\"network\": {");
		json_str(out, "id", nm->fp_id, true);
		json_str(out, "fingerprint", nm->have_fp ? nm->fp_text : "", true);
		json_str(out, "match", trust_match_name(nm->match), true);
		evbuffer_add_printf(out, "\"known\": %s, \"changes\": %llu}, ",
				    nm->match != TRUST_MATCH_NONE ? "true" : "false",
				    (unsigned long long)nm->changes);
		evbuffer_add_printf(out, "\"discovery\": {");
		json_str(out, "state", trust_posture_name(nm->state), true);
		json_str(out, "reason", nm->reason, true);
		json_str(out, "resolvers", res, true);
		json_str(out, "upstream", nm->upstream_name, true);
		evbuffer_add_printf(out, "\"from_store\": %s, \"alert\": %s, ",
				    nm->from_store ? "true" : "false", nm->alert ? "true" : "false");
		if (nm->have_anchor)
			evbuffer_add_printf(out, "\"anchor\": {\"tag\": %u, \"algorithm\": %u, "
						 "\"sha256\": \"%s\"}, ",
					    nm->anchor_tag, nm->anchor_alg, sha);
		json_str(out, "last_walk", nm->last_walk, true);
		evbuffer_add_printf(out, "\"forwarder_upstreams\": [");
		for (int i = 0; i < nm->nupstreams; i++) {
			evbuffer_add_printf(out, "%s", i ? ", " : "");
			evbuffer_add_printf(out, "{");
			json_str(out, "upstream", nm->upstreams[i], false);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "], ");
		evbuffer_add_printf(out, "\"walks\": %llu, ", (unsigned long long)nm->walks);
		json_str(out, "tofu", trust_tofu_name(d->cfg->tofu), true);
		json_str(out, "unknown_network",
			 trust_unknown_mode_name(d->cfg->unknown_network),
			 false);
		evbuffer_add_printf(out, "}");
		return;
	}
	evbuffer_add_printf(out, "network:    %s, %s%s\n", nm->fp_id,
			    nm->match != TRUST_MATCH_NONE ? "known" : "unknown",
			    "");
	if (nm->match != TRUST_MATCH_NONE && nm->match != TRUST_MATCH_EXACT)
		evbuffer_add_printf(out, "  match:    %s\n", trust_match_name(nm->match));
	if (nm->have_fp)
		evbuffer_add_printf(out, "  fingerprint: %s\n", nm->fp_text);
	evbuffer_add_printf(out, "  resolvers: %s\n", res[0] ? res : "none");
	evbuffer_add_printf(out, "discovery:  %s%s%s\n", trust_posture_name(nm->state),
			    nm->reason[0] ? " -- " : "", nm->reason);
	if (nm->alert)
		evbuffer_add_printf(out, "  ALERT:    see the log; `dotctl trust list` to review\n");
	if (nm->have_anchor)
		evbuffer_add_printf(out, "  anchor:   resolver-name.arpa key tag %u alg %u sha256 %.16s...%s\n",
				    nm->anchor_tag, nm->anchor_alg, sha,
				    nm->from_store ? " (known network, from the store)" : "");
	if (nm->last_walk[0])
		evbuffer_add_printf(out, "  last walk: %s\n", nm->last_walk);
	for (int i = 0; i < nm->nupstreams; i++)
		evbuffer_add_printf(out, "  forwarder upstream: %s\n", nm->upstreams[i]);
	if (nm->refreshes)
		evbuffer_add_printf(out, "  refresh:  %llu over DoT, %llu failed; last: %s\n",
				    (unsigned long long)nm->refreshes,
				    (unsigned long long)nm->refresh_failures, nm->last_refresh);
	evbuffer_add_printf(out, "  policy:   tofu %s, unknown-network %s\n", trust_tofu_name(d->cfg->tofu),
			    trust_unknown_mode_name(d->cfg->unknown_network));
}
