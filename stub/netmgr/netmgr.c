/*
 * netmgr.c -- which network are we on, which resolver does it give us, and
 * how far may we trust it.  Drives discovery, the trust policy and the
 * upstream of the daemon (doc/DESIGN.md "Policy", PROTOCOL.md "Reconnection
 * and networks"):
 *
 *  - a network whose fingerprint and anchor are known gets DoT at once, to
 *    the stored name, addresses and TLSA, with no clear-text traffic;
 *  - otherwise the network's resolver is walked (discovery in a worker
 *    thread) with the anchors we know, and the policy decides: use, pin on
 *    first use (TOFU auto), pin as pending (ask), refuse and alert (a
 *    different anchor on a known network), plain DNS (opportunistic, a
 *    network that publishes nothing) or SERVFAIL (strict);
 *  - a changed fingerprint flushes the cache, closes connections, drops
 *    session tickets and decides again; the same fingerprint after a link
 *    bounce only reconnects.
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

static void retry_fired(void *arg)
{
	nm_decide(arg);
}

/* Another network: nothing of the old one may leak into it. */
static void network_changed(struct ds_netmgr *nm, const struct ds_netfp *fp)
{
	nm->fp = *fp;
	nm->have_fp = true;
	if (ds_netfp_format(fp, nm->fp_text, sizeof(nm->fp_text)) < 0 ||
	    ds_netfp_id(fp, nm->fp_id, sizeof(nm->fp_id)) < 0) {
		nm->have_fp = false;
		snprintf(nm->fp_id, sizeof(nm->fp_id), "unknown");
	}
	nm->changes++;
	nm->retry_ms = 0;
	nm_hotspot_end(nm, "another network");
	nm->portal[0] = '\0';
	nm->portal_logged = false;
	/* the first answer's delay is measured from the event that caused
	 * this (a link change, a resolver update, a trust store change) */
	nm->d->switch_start_us = ds_now_us();
	/* nothing of the old network is used any more: no cached answer, no
	 * connection, no session ticket; queries wait for the decision */
	if (nm->d->cache)
		ds_cache_flush(nm->d->cache);
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
	ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY, "network changed");
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_timer_arm_ms(nm->settle_ev, SETTLE_MS);
}

static void settle_fired(void *arg)
{
	struct ds_netmgr *nm = arg;

	if (!nm->job)
		nm_decide(nm);
	/* else: nm_walk_done sees rerun and decides */
}

static void on_netwatch(struct ds_netwatch *w, const struct ds_netfp *old,
			const struct ds_netfp *cur, unsigned flags, void *arg)
{
	struct ds_netmgr *nm = arg;
	char id[DS_NETFP_ID_LEN + 1] = "?";

	ds_netfp_id(cur, id, sizeof(id));
	if (flags == DS_NETWATCH_PENDING) {
		/* answers may belong to the network being left: hold them */
		ds_daemon_hold(nm->d, true);
		return;
	}
	if (flags & (DS_NETWATCH_INITIAL | DS_NETWATCH_CHANGED)) {
		log_notice("network %s: %s", id,
			   flags & DS_NETWATCH_INITIAL ? "initial fingerprint" : "network changed");
		network_changed(nm, cur);
		ds_daemon_hold(nm->d, false); /* they now wait for the new decision */
		return;
	}
	ds_daemon_hold(nm->d, false);
	if (flags == DS_NETWATCH_SETTLED)
		return;
	/* the sign-on's timer does not run while suspended; its end does */
	if ((flags & DS_NETWATCH_RESUMED) && nm->hotspot.active &&
	    ds_now_ms() >= nm->hotspot.until_ms) {
		nm_hotspot_fired(nm);
		return;
	}
	if ((flags & (DS_NETWATCH_BOUNCED | DS_NETWATCH_RESUMED)) && nm->d->up) {
		log_notice("network %s: %s, same network: reconnecting", id,
			   flags & DS_NETWATCH_BOUNCED ? "link bounced" : "resumed after a pause");
		nm->d->switch_start_us = ds_now_us();
		ds_upstream_reset(nm->d->up);
		ds_upstream_connect_now(nm->d->up);
	}
}

static void set_resolvers_from(struct ds_netmgr *nm, const struct ds_netaddr *res, size_t n)
{
	struct ds_netaddr copy[DS_MAX_NETWORK_RESOLVERS];

	nm->nres = 0;
	for (size_t i = 0; i < n && nm->nres < DS_MAX_NETWORK_RESOLVERS; i++) {
		struct sockaddr_storage *ss = &nm->res[nm->nres];
		memset(ss, 0, sizeof(*ss));
		if (res[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;
			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			sin->sin_addr = res[i].u.v4;
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			sin6->sin6_addr = res[i].u.v6;
			sin6->sin6_scope_id = res[i].scope;
		}
		copy[nm->nres++] = res[i];
	}
	if (nm->nw)
		ds_netwatch_set_resolvers(nm->nw, copy, (size_t)nm->nres);
}

static void on_resolv(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc, int err, void *arg)
{
	struct ds_netmgr *nm = arg;

	if (err < 0)
		log_warn("resolv-source %s: %s", nm->d->cfg->resolv_source, strerror(-err));
	else
		log_info("resolv-source: %zu resolver(s)%s, %zu search domain(s)%s", rc->nres,
			 rc->bad_lines ? ", some nameserver lines were malformed" : "",
			 rc->nsearch, rc->bad_search ? ", some search lines were refused" : "");
	ds_stubresolv_set_search(nm->d, rc->search, err < 0 ? 0 : rc->nsearch);
	set_resolvers_from(nm, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
	if (!nm->nw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
		network_changed(nm, &fp);
	}
}

static void resolv_watch_retry(void *arg);

/* Watch resolv-source; its directory may not exist yet (the network
 * manager creates it later): try again every few seconds. */
#define RESOLV_RETRY_MS 5000
static void resolv_watch_start(struct ds_netmgr *nm, bool retrying)
{
	const char *path = nm->d->cfg->resolv_source;
	int r;

	r = ds_resolvwatch_new(nm->d->base, path, 0, on_resolv, nm, &nm->rw);
	if (r == 0) {
		if (retrying)
			log_notice("resolv-source %s: watching it now", path);
		return;
	}
	nm->rw = NULL;
	if (!retrying)
		log_warn("resolv-source %s: %s; trying again every %d s", path, strerror(-r),
			 RESOLV_RETRY_MS / 1000);
	if (!nm->rw_retry_ev)
		nm->rw_retry_ev = ds_timer_new(nm->d->base, resolv_watch_retry, nm);
	if (nm->rw_retry_ev)
		ds_timer_arm_ms(nm->rw_retry_ev, RESOLV_RETRY_MS);
}

static void resolv_watch_retry(void *arg)
{
	resolv_watch_start(arg, true);
}

int ds_netmgr_start(struct ds_daemon *d)
{
	struct ds_netmgr *nm = calloc(1, sizeof(*nm));
	const struct ds_config *c = d->cfg;
	struct trust_store_opts so = { .state_dir = c->state_dir, .managed_dir = c->anchors_dir };
	struct trust_open_report rep;
	struct ds_netaddr res[DS_MAX_NETWORK_RESOLVERS];
	int r;

	if (!nm)
		return -ENOMEM;
	nm->d = d;
	d->netmgr = nm;
	snprintf(nm->fp_id, sizeof(nm->fp_id), "-");
	nm->retry_ev = ds_timer_new(d->base, retry_fired, nm);
	nm->settle_ev = ds_timer_new(d->base, settle_fired, nm);
	nm->refresh_ev = ds_timer_new(d->base, nm_refresh_fired, nm);
	nm->commit.ev = ds_timer_new(d->base, nm_commit_poll, nm);
	nm->probe.ev = ds_timer_new(d->base, nm_probe_poll, nm);
	nm->watch.ev = ds_timer_new(d->base, nm_watch_poll, nm);
	nm->hotspot.ev = ds_timer_new(d->base, nm_hotspot_fired, nm);
	nm->on_walk_done = nm_walk_done;
	d->on_wait_expired = nm_wait_expired;
	d->on_wait_expired_arg = nm;
	if (!nm->retry_ev || !nm->commit.ev || !nm->settle_ev || !nm->refresh_ev || !nm->probe.ev ||
	    !nm->watch.ev || !nm->hotspot.ev)
		return -ENOMEM;

	/* the network process: the store process's copy (privsep.h) */
	r = d->store_open ? d->store_open(d, &so, &nm->store, &rep)
			  : trust_store_open(&so, &nm->store, &rep);
	if (r == TRUST_STORE_QUARANTINED) {
		/* rep.error names the line already ("line N: ...") */
		log_err("ALERT trust store was corrupt (%s): moved to %s; starting with no pins",
			rep.error, rep.quarantined);
	} else if (r == -EPERM) {
		log_err("refusing to start: %s", rep.error);
		return r;
	} else if (r < 0) {
		log_err("trust store in %s: %s; starting with no pins", c->state_dir, strerror(-r));
		nm->store = trust_store_new_memory(0);
		if (!nm->store)
			return -ENOMEM;
	}
	if (rep.managed_skipped)
		log_warn("managed anchors: %u file(s) skipped: %s", rep.managed_skipped,
			 rep.managed_error);
	log_info("trust store: %zu anchor(s)", trust_store_count(nm->store));

	/* the network's resolvers: configured, or from resolv-source */
	for (int i = 0; i < c->nnetwork_resolver; i++) {
		nm->res[i] = c->network_resolver[i];
		ds_netaddr_from_sockaddr((const struct sockaddr *)&c->network_resolver[i],
					 sizeof(c->network_resolver[i]), &res[i]);
	}
	nm->nres = c->nnetwork_resolver;

	{
		struct ds_netwatch_opts wo = { .debounce_ms = NETWATCH_DEBOUNCE_MS };
		r = ds_netwatch_new(d->base, &wo, on_netwatch, nm, &nm->nw);
	}
	if (r < 0) {
		log_warn("netlink: %s; networks are told apart by their resolvers only",
			 strerror(-r));
		nm->nw = NULL;
	} else if (nm->nres) {
		ds_netwatch_set_resolvers(nm->nw, res, (size_t)nm->nres);
	}
	if (c->resolv_source[0] && c->nnetwork_resolver == 0)
		resolv_watch_start(nm, false);
	nm_set_state(nm, TRUST_POSTURE_WAITING, "waiting for network information");
	ds_daemon_not_ready(d, true, DNS_EDE_NOT_READY, "waiting for network information");
	if (!nm->nw && !nm->rw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, res, (size_t)nm->nres);
		network_changed(nm, &fp);
	}
	return 0;
}

void ds_netmgr_stop(struct ds_daemon *d)
{
	struct ds_netmgr *nm = d->netmgr;

	if (!nm)
		return;
	d->on_wait_expired = NULL;
	ds_walkjob_cancel_wait(nm->job);
	ds_netwatch_free(nm->nw);
	ds_resolvwatch_free(nm->rw);
	nm_commit_clear(nm);
	nm_probe_reset(nm);
	ds_timer_free(nm->probe.ev);
	ds_timer_free(nm->watch.ev);
	if (nm->hotspot.ev)
		ds_timer_free(nm->hotspot.ev);
	ds_upstream_desc_clear(&nm->cur_desc);
	if (nm->retry_ev)
		ds_timer_free(nm->retry_ev);
	if (nm->commit.ev)
		ds_timer_free(nm->commit.ev);
	if (nm->settle_ev)
		ds_timer_free(nm->settle_ev);
	if (nm->refresh_ev)
		ds_timer_free(nm->refresh_ev);
	if (nm->rw_retry_ev)
		ds_timer_free(nm->rw_retry_ev);
	trust_store_close(nm->store);
	free(nm);
	d->netmgr = NULL;
}

struct trust_store *ds_netmgr_store(struct ds_daemon *d)
{
	return d->netmgr ? d->netmgr->store : NULL;
}

void ds_netmgr_redecide(struct ds_daemon *d)
{
	if (d->netmgr && d->netmgr->have_fp)
		network_changed(d->netmgr, &d->netmgr->fp);
}

struct ds_netwatch *ds_netmgr_netwatch(struct ds_daemon *d)
{
	return d->netmgr ? d->netmgr->nw : NULL;
}

const char *ds_netmgr_fingerprint(struct ds_daemon *d)
{
	return d->netmgr && d->netmgr->have_fp ? d->netmgr->fp_text : NULL;
}
