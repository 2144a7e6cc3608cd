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
 *
 * The same holds for every link with resolvers of its own (a VPN):
 * netmgr_links.c gives each a network of its own, decided alone.
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
		nm_network_changed(nm, cur);
		/* the default route may have moved to another link */
		nm_hub_update(nm->hub);
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
	if ((flags & (DS_NETWATCH_BOUNCED | DS_NETWATCH_RESUMED)) && nm->lane->up) {
		log_notice("network %s: %s, same network: reconnecting", id,
			   flags & DS_NETWATCH_BOUNCED ? "link bounced" : "resumed after a pause");
		nm->lane->switch_start_us = ds_now_us();
		ds_upstream_reset(nm->lane->up);
		ds_upstream_connect_now(nm->lane->up);
	}
	if (flags & DS_NETWATCH_RESUMED)
		nm_hub_reconnect(nm->hub);
}

int ds_netmgr_start(struct ds_daemon *d)
{
	struct ds_netmgr *nm;
	const struct ds_config *c = d->cfg;
	struct trust_store_opts so = { .state_dir = c->state_dir, .managed_dir = c->anchors_dir };
	struct trust_open_report rep;
	struct ds_netaddr res[DS_MAX_NETWORK_RESOLVERS];
	int r;

	nm = nm_ctx_new(d, &d->def);
	if (!nm)
		return -ENOMEM;
	d->netmgr = nm;
	nm->hub = nm_hub_new(nm);
	if (!nm->hub)
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

	/* the network's resolvers: configured, or from the links (the
	 * resolv.conf source, networkd, dotctl link, ...) */
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
	nm_set_state(nm, TRUST_POSTURE_WAITING, "waiting for network information");
	ds_daemon_not_ready(d, true, DNS_EDE_NOT_READY, "waiting for network information");
	if (nm_sources_start(nm->hub) < 0)
		return -ENOMEM;
	if (!nm->nw && !nm->hub->rw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, res, (size_t)nm->nres);
		nm_network_changed(nm, &fp);
	}
	/* links configured before (dotctl link, a reload) */
	nm_hub_update(nm->hub);
	return 0;
}

void ds_netmgr_stop(struct ds_daemon *d)
{
	struct ds_netmgr *nm = d->netmgr;

	if (!nm)
		return;
	nm_sources_stop(nm->hub);
	nm_hub_free(nm->hub);
	ds_netwatch_free(nm->nw);
	trust_store_close(nm->store);
	nm_ctx_free(nm);
	d->netmgr = NULL;
}

struct trust_store *ds_netmgr_store(struct ds_daemon *d)
{
	return d->netmgr ? d->netmgr->store : NULL;
}

void ds_netmgr_redecide(struct ds_daemon *d)
{
	if (d->netmgr && d->netmgr->have_fp)
		nm_network_changed(d->netmgr, &d->netmgr->fp);
	if (d->netmgr)
		nm_hub_redecide(d->netmgr->hub);
}

struct ds_netwatch *ds_netmgr_netwatch(struct ds_daemon *d)
{
	return d->netmgr ? d->netmgr->nw : NULL;
}

const char *ds_netmgr_fingerprint(struct ds_daemon *d)
{
	return d->netmgr && d->netmgr->have_fp ? d->netmgr->fp_text : NULL;
}
