/*
 * netmgr_sources.c -- the link sources the daemon watches itself: the
 * resolv.conf-format file (resolv-source; its link is resolv-source-link,
 * else the default route's, netmgr_links.c) and systemd-networkd's
 * per-link state files (networkd yes|no|auto).  Each change goes into the
 * link table and the hub acts on it; neither needs a restart.
 */
#include "netmgr_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dotstub/log.h"

/* a source whose directory is not there yet is tried again this often */
#define SOURCE_RETRY_MS 5000

/* ------------------------------------------------------------ resolv-source */

static void on_resolv(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc, int err, void *arg)
{
	struct nm_hub *hub = arg;

	if (err < 0)
		log_warn("resolv-source %s: %s", hub->d->cfg->resolv_source, strerror(-err));
	else
		log_info("resolv-source: %zu resolver(s)%s, %zu search domain(s)%s", rc->nres,
			 rc->bad_lines ? ", some nameserver lines were malformed" : "",
			 rc->nsearch, rc->bad_search ? ", some search lines were refused" : "");
	hub->have_rc = err >= 0;
	hub->rc_reported = true;
	if (err >= 0)
		ds_linkconf_from_resolvconf(rc, hub->rc_ifindex, &hub->rc);
	else
		ds_linkconf_init(&hub->rc, 0, DS_LINKSRC_RESOLVCONF);
	nm_hub_update(hub);
}

static void resolv_watch_retry(void *arg);

/* Watch resolv-source; its directory may not exist yet (the network
 * manager creates it later): try again every few seconds. */
static void resolv_watch_start(struct nm_hub *hub, bool retrying)
{
	const char *path = hub->d->cfg->resolv_source;
	int r;

	r = ds_resolvwatch_new(hub->d->base, path, 0, on_resolv, hub, &hub->rw);
	if (r == 0) {
		if (retrying)
			log_notice("resolv-source %s: watching it now", path);
		return;
	}
	hub->rw = NULL;
	if (!retrying)
		log_warn("resolv-source %s: %s; trying again every %d s", path, strerror(-r),
			 SOURCE_RETRY_MS / 1000);
	if (!hub->rw_retry_ev)
		hub->rw_retry_ev = ds_timer_new(hub->d->base, resolv_watch_retry, hub);
	if (hub->rw_retry_ev)
		ds_timer_arm_ms(hub->rw_retry_ev, SOURCE_RETRY_MS);
}

static void resolv_watch_retry(void *arg)
{
	resolv_watch_start(arg, true);
}

/* ------------------------------------------------------------ networkd */

/* What networkd says now, for every link: set what changed, revert the
 * links it no longer configures. */
static void on_networkd(struct ds_networkd_watch *w, const struct ds_linkconf *links, size_t n,
			int err, void *arg)
{
	struct nm_hub *hub = arg;
	struct ds_linktab *t = nm_linktab(hub->d);
	bool changed = false;

	if (!t)
		return;
	if (!hub->nd_reported)
		changed = true; /* the first report: the search list may be written */
	hub->nd_reported = true;
	if (err < 0) {
		log_warn("networkd: %s: %s", DS_NETWORKD_LINKS_DIR, strerror(-err));
		n = 0;
	} else if (err > 0) {
		log_warn("networkd: %d value(s) in its state files could not be read, ignoring them",
			 err);
	}
	for (size_t i = ds_linktab_count(t); i-- > 0;) {
		const struct ds_linkconf *lc = ds_linktab_at(t, i);
		int ifindex = lc->ifindex;
		size_t k;

		if (!ds_linktab_get_source(t, ifindex, DS_LINKSRC_NETWORKD))
			continue;
		for (k = 0; k < n && links[k].ifindex != ifindex; k++)
			;
		if (k < n)
			continue;
		log_notice("link %d: networkd no longer configures it", ifindex);
		changed |= ds_linktab_revert(t, ifindex, DS_LINKSRC_NETWORKD) != 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct ds_linkconf lc = links[i];
		const struct ds_linkconf *was = ds_linktab_get_source(t, lc.ifindex,
								       DS_LINKSRC_NETWORKD);
		int r;

		if (!if_indextoname((unsigned)lc.ifindex, lc.ifname))
			continue; /* a stale file of a link that is gone */
		if (was && ds_linkconf_equal(was, &lc))
			continue;
		r = ds_linktab_set(t, &lc);
		if (r < 0) {
			log_warn("link %s (%d): networkd's configuration refused: %s", lc.ifname,
				 lc.ifindex, strerror(-r));
			continue;
		}
		log_notice("link %s (%d): networkd: %d resolver(s), %d domain(s)%s", lc.ifname,
			   lc.ifindex, lc.ndns, lc.ndomains, r == 0 ? " (not in force)" : "");
		changed = true;
	}
	if (changed)
		nm_hub_update(hub);
}

static void networkd_retry(void *arg);

static void networkd_start(struct nm_hub *hub, bool retrying)
{
	int r = ds_networkd_watch_new(hub->d->base, DS_NETWORKD_LINKS_DIR, on_networkd, hub,
				      &hub->ndw);

	if (r == 0) {
		log_info("networkd: reading %s", DS_NETWORKD_LINKS_DIR);
		return;
	}
	hub->ndw = NULL;
	if (!hub->nd_missing_logged)
		log_warn("networkd: %s: %s; trying again every %d s", DS_NETWORKD_LINKS_DIR,
			 strerror(-r), SOURCE_RETRY_MS / 1000);
	hub->nd_missing_logged = true;
	if (!hub->nd_retry_ev)
		hub->nd_retry_ev = ds_timer_new(hub->d->base, networkd_retry, hub);
	if (hub->nd_retry_ev)
		ds_timer_arm_ms(hub->nd_retry_ev, SOURCE_RETRY_MS);
}

static void networkd_retry(void *arg)
{
	networkd_start(arg, true);
}

/* ------------------------------------------------------------ start, stop */

int nm_sources_start(struct nm_hub *hub)
{
	const struct ds_config *c = hub->d->cfg;
	struct stat st;

	ds_linkconf_init(&hub->rc, 0, DS_LINKSRC_RESOLVCONF);
	if (c->resolv_source[0] && c->nnetwork_resolver == 0)
		resolv_watch_start(hub, false);
	/* auto: when networkd keeps its state (it runs, or ran since boot) */
	if (c->networkd == DS_NETWORKD_YES ||
	    (c->networkd == DS_NETWORKD_AUTO && stat(DS_NETWORKD_STATE_FILE, &st) == 0))
		networkd_start(hub, false);
	return 0;
}

void nm_sources_stop(struct nm_hub *hub)
{
	if (!hub)
		return;
	ds_resolvwatch_free(hub->rw);
	hub->rw = NULL;
	ds_timer_free(hub->rw_retry_ev);
	hub->rw_retry_ev = NULL;
	ds_networkd_watch_free(hub->ndw);
	hub->ndw = NULL;
	ds_timer_free(hub->nd_retry_ev);
	hub->nd_retry_ev = NULL;
}
