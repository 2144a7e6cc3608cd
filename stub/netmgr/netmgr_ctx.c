/*
 * netmgr_ctx.c -- one network of the network manager (netmgr_int.h): the
 * default route's, or a link's own.  Its making and ending, a change of
 * network (nothing of the old one may leak into the new one: its cached
 * answers, connection and session tickets go, its queries wait for the
 * decision), and its resolvers.
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"

static void retry_fired(void *arg)
{
	nm_decide(arg);
}

static void settle_fired(void *arg)
{
	struct ds_netmgr *nm = arg;

	if (!nm->job)
		nm_decide(nm);
	/* else: nm_walk_done sees rerun and decides */
}

void nm_network_changed(struct ds_netmgr *nm, const struct ds_netfp *fp)
{
	nm->fp = *fp;
	nm->have_fp = true;
	if (ds_netfp_format(fp, nm->fp_text, sizeof(nm->fp_text)) < 0 ||
	    ds_netfp_id(fp, nm->fp_id, sizeof(nm->fp_id)) < 0) {
		nm->have_fp = false;
		snprintf(nm->fp_id, sizeof(nm->fp_id), "unknown");
	}
	snprintf(nm->lane->network, sizeof(nm->lane->network), "%s", nm->fp_id);
	nm->changes++;
	nm->retry_ms = 0;
	nm_hotspot_end(nm, "another network");
	nm->portal[0] = '\0';
	nm->portal_logged = false;
	nm->hijack[0] = '\0';
	/* the first answer's delay is measured from the event that caused
	 * this (a link change, a resolver update, a trust store change) */
	nm->lane->switch_start_us = ds_now_us();
	/* nothing of the old network is used any more: no cached answer, no
	 * connection, no session ticket; queries wait for the decision */
	ds_lane_flush(nm->lane);
	nm_commit_clear(nm);
	nm_probe_reset(nm);
	nm->watch.failed = false;
	ds_timer_disarm(nm->watch.ev);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
	}
	nm_set_state(nm, TRUST_POSTURE_WAITING, "network changed");
	/* queries wait for the decision (those already waiting too) */
	ds_lane_not_ready(nm->lane, true, DNS_EDE_NOT_READY, "network changed");
	ds_lane_set_upstream(nm->lane, NULL, "none", false);
	ds_timer_arm_ms(nm->settle_ev, SETTLE_MS);
}

void nm_set_resolvers(struct ds_netmgr *nm, const struct sockaddr_storage *res, int n)
{
	struct ds_netaddr copy[DS_MAX_NETWORK_RESOLVERS];
	int k = 0;

	nm->nres = 0;
	for (int i = 0; i < n && nm->nres < DS_MAX_NETWORK_RESOLVERS; i++) {
		nm->res[nm->nres++] = res[i];
		if (ds_netaddr_from_sockaddr((const struct sockaddr *)&res[i], sizeof(res[i]),
					     &copy[k]) == 0)
			k++;
	}
	if (nm->nw)
		ds_netwatch_set_resolvers(nm->nw, copy, (size_t)k);
}

struct ds_netmgr *nm_ctx_new(struct ds_daemon *d, struct ds_lane *lane)
{
	struct ds_netmgr *nm = calloc(1, sizeof(*nm));

	if (!nm)
		return NULL;
	nm->d = d;
	nm->lane = lane;
	snprintf(nm->fp_id, sizeof(nm->fp_id), "-");
	nm->retry_ev = ds_timer_new(d->base, retry_fired, nm);
	nm->settle_ev = ds_timer_new(d->base, settle_fired, nm);
	nm->refresh_ev = ds_timer_new(d->base, nm_refresh_fired, nm);
	nm->commit.ev = ds_timer_new(d->base, nm_commit_poll, nm);
	nm->probe.ev = ds_timer_new(d->base, nm_probe_poll, nm);
	nm->watch.ev = ds_timer_new(d->base, nm_watch_poll, nm);
	nm->hotspot.ev = ds_timer_new(d->base, nm_hotspot_fired, nm);
	nm->on_walk_done = nm_walk_done;
	lane->on_wait_expired = nm_wait_expired;
	lane->on_wait_expired_arg = nm;
	if (!nm->retry_ev || !nm->commit.ev || !nm->settle_ev || !nm->refresh_ev || !nm->probe.ev ||
	    !nm->watch.ev || !nm->hotspot.ev) {
		nm_ctx_free(nm);
		return NULL;
	}
	return nm;
}

void nm_ctx_free(struct ds_netmgr *nm)
{
	if (!nm)
		return;
	nm->lane->on_wait_expired = NULL;
	ds_walkjob_cancel_wait(nm->job);
	nm->job = NULL;
	nm_commit_clear(nm);
	nm_probe_reset(nm);
	ds_timer_free(nm->probe.ev);
	ds_timer_free(nm->watch.ev);
	ds_timer_free(nm->hotspot.ev);
	ds_upstream_desc_clear(&nm->cur_desc);
	ds_timer_free(nm->retry_ev);
	ds_timer_free(nm->commit.ev);
	ds_timer_free(nm->settle_ev);
	ds_timer_free(nm->refresh_ev);
	free(nm);
}
