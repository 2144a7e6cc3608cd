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

static struct ds_upstream *make_upstream(struct ds_netmgr *nm, const struct ds_upstream_desc *desc)
{
	struct ds_upstream_opts o;
	struct ds_upstream_desc copy;
	struct ds_upstream *up;
	int err = 0;

	ds_upstream_opts_default(&o);
	o.allow_tls12 = nm->d->cfg->allow_tls12;
	o.query_timeout_ms = nm->d->cfg->query_timeout_ms / 3 ? nm->d->cfg->query_timeout_ms / 3 : 1;
	memset(&copy, 0, sizeof(copy));
	if (ds_upstream_desc_copy(&copy, desc) < 0)
		return NULL;
	/* the TLS session cache is keyed by the network too */
	snprintf(copy.network, sizeof(copy.network), "%s", nm->fp_id);
	up = ds_upstream_new(nm->d->base, &copy, &o, &err);
	ds_upstream_desc_clear(&copy);
	if (!up)
		log_err("cannot use upstream %s: %s", desc->name[0] ? desc->name : "(plain)",
			err == -ENOKEY ? "no usable TLSA record" : strerror(-err));
	return up;
}

static void set_state(struct ds_netmgr *nm, enum nm_state st, const char *reason)
{
	nm->state = st;
	snprintf(nm->reason, sizeof(nm->reason), "%.*s", (int)sizeof(nm->reason) - 1,
		 reason ? reason : "");
}

/* No upstream: queries get SERVFAIL with ede and reason. */
void nm_serve_nothing(struct ds_netmgr *nm, enum nm_state st, int ede, const char *reason)
{
	set_state(nm, st, reason);
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, false, ede, reason);
}

void nm_serve_dot(struct ds_netmgr *nm, const struct ds_upstream_desc *desc, const char *how)
{
	struct ds_upstream *up = make_upstream(nm, desc);

	if (!up) {
		nm_serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR,
			      "the discovered resolver cannot be used (see the log)");
		return;
	}
	snprintf(nm->upstream_name, sizeof(nm->upstream_name), "%s", desc->name);
	ds_upstream_desc_clear(&nm->cur_desc);
	memset(&nm->cur_desc, 0, sizeof(nm->cur_desc));
	ds_upstream_desc_copy(&nm->cur_desc, desc);
	set_state(nm, NM_DOT, how);
	ds_daemon_set_upstream(nm->d, up, nm->from_store ? "known network" : "discovery", false);
	ds_upstream_connect_now(up);
	nm_commit_poll_arm(nm);
	nm_refresh_arm(nm, false);
}

void nm_serve_plain(struct ds_netmgr *nm, const char *reason)
{
	struct ds_plain *p;
	int err = 0;

	p = ds_plain_new(nm->d->base, nm->res, nm->nres, 1500, &err);
	if (!p) {
		nm_serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR,
			      "plain DNS to the network's resolver is not available");
		return;
	}
	nm->upstream_name[0] = '\0';
	set_state(nm, NM_PLAIN, reason);
	log_warn("network %s: %s -- queries go to the network's resolver in plain DNS "
		 "(opportunistic, unauthenticated)",
		 nm->fp_id, reason);
	ds_daemon_set_plain(nm->d, p);
}

void nm_schedule_retry(struct ds_netmgr *nm)
{
	struct timeval tv;

	nm->retry_ms = nm->retry_ms ? nm->retry_ms * 2 : RETRY_MIN_MS;
	if (nm->retry_ms > RETRY_MAX_MS)
		nm->retry_ms = RETRY_MAX_MS;
	tv.tv_sec = nm->retry_ms / 1000;
	tv.tv_usec = (nm->retry_ms % 1000) * 1000;
	evtimer_add(nm->retry_ev, &tv);
}

static void retry_fired(evutil_socket_t fd, short what, void *arg)
{
	nm_decide(arg);
}

/* No default route in any family and no resolver on this host: the link is
 * down, there is no network to discover (the next change will tell). */
static bool no_route_to_resolvers(const struct ds_netmgr *nm)
{
	if (!nm->have_fp || nm->fp.af[DS_NETFP_V4].route || nm->fp.af[DS_NETFP_V6].route)
		return false;
	for (int i = 0; i < nm->nres; i++) {
		const struct sockaddr_storage *ss = &nm->res[i];
		if (ss->ss_family == AF_INET &&
		    (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127)
			return false;
		if (ss->ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr))
			return false;
	}
	return true;
}

void nm_decide(struct ds_netmgr *nm)
{
	const struct trust_resolver *r = NULL;
	const struct trust_anchor *a;
	struct ds_upstream_desc desc;

	evtimer_del(nm->retry_ev);
	evtimer_del(nm->refresh_ev);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
		return;
	}
	nm_commit_clear(nm);
	nm->alert = false;
	nm->have_anchor = false;
	nm->from_store = false;
	if (nm->nres == 0) {
		nm_serve_nothing(nm, NM_NO_RESOLVER, DNS_EDE_NOT_READY,
			      "the network gave no resolver address");
		return;
	}
	if (no_route_to_resolvers(nm)) {
		nm_serve_nothing(nm, NM_WAITING, DNS_EDE_NOT_READY, "no network (no route)");
		ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY, "no network (no route)");
		return;
	}
	a = nm_known_network_anchor(nm, &r);
	if (a && nm_desc_from_resolver(r, &desc) == 0) {
		nm_remember_anchor(nm, a);
		nm->from_store = true;
		trust_store_touch(nm->store, a, time(NULL));
		trust_store_seen_network(nm->store, a, nm->fp_text, time(NULL));
		nm_store_save(nm);
		log_notice("network %s is known: DoT to %s with the stored TLSA, no discovery "
			   "traffic",
			   nm->fp_id, desc.name);
		nm_serve_dot(nm, &desc, "known network, stored name and TLSA");
		ds_upstream_desc_clear(&desc);
		return;
	}
	set_state(nm, NM_DISCOVERING, "discovery in progress");
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY,
			    "discovery of the network's resolver in progress");
	if (nm_start_walk(nm, false) < 0) {
		nm_serve_nothing(nm, NM_FAILED, DNS_EDE_OTHER, "discovery could not run");
		nm_schedule_retry(nm);
	}
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
	if (!nm->d->switch_start_us)
		nm->d->switch_start_us = ds_now_us();
	/* nothing of the old network is used any more: no cached answer, no
	 * connection, no session ticket; queries wait for the decision */
	if (nm->d->cache)
		ds_cache_flush(nm->d->cache);
	nm_commit_clear(nm);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
	}
	set_state(nm, NM_WAITING, "network changed");
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY, "network changed");
	{
		struct timeval tv = { 0, SETTLE_MS * 1000 };
		evtimer_add(nm->settle_ev, &tv);
	}
}

static void settle_fired(evutil_socket_t fd, short what, void *arg)
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
	if (flags & (DS_NETWATCH_INITIAL | DS_NETWATCH_CHANGED)) {
		log_notice("network %s: %s", id,
			   flags & DS_NETWATCH_INITIAL ? "initial fingerprint" : "network changed");
		network_changed(nm, cur);
		return;
	}
	if ((flags & DS_NETWATCH_BOUNCED) && nm->d->up) {
		log_notice("network %s: link bounced, same network: reconnecting", id);
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
		log_info("resolv-source: %zu resolver(s)%s", rc->nres,
			 rc->bad_lines ? ", some nameserver lines were malformed" : "");
	set_resolvers_from(nm, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
	if (!nm->nw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
		network_changed(nm, &fp);
	}
}

/* Watch resolv-source; its directory may not exist yet (the network
 * manager creates it later): try again every few seconds. */
static void resolv_watch_try(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;
	const char *path = nm->d->cfg->resolv_source;
	struct timeval tv = { 5, 0 };
	int r;

	r = ds_resolvwatch_new(nm->d->base, path, 0, on_resolv, nm, &nm->rw);
	if (r == 0) {
		if (fd >= 0)
			log_notice("resolv-source %s: watching it now", path);
		return;
	}
	nm->rw = NULL;
	if (fd < 0)
		log_warn("resolv-source %s: %s; trying again every %ld s", path, strerror(-r),
			 (long)tv.tv_sec);
	if (!nm->rw_retry_ev)
		nm->rw_retry_ev = evtimer_new(nm->d->base, resolv_watch_try, nm);
	if (nm->rw_retry_ev)
		evtimer_add(nm->rw_retry_ev, &tv);
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
	snprintf(nm->network_match, sizeof(nm->network_match), "none");
	nm->retry_ev = evtimer_new(d->base, retry_fired, nm);
	nm->settle_ev = evtimer_new(d->base, settle_fired, nm);
	nm->refresh_ev = evtimer_new(d->base, nm_refresh_fired, nm);
	nm->commit.ev = evtimer_new(d->base, nm_commit_poll, nm);
	if (!nm->retry_ev || !nm->commit.ev || !nm->settle_ev || !nm->refresh_ev)
		return -ENOMEM;

	r = trust_store_open(&so, &nm->store, &rep);
	if (r == TRUST_STORE_QUARANTINED) {
		log_err("ALERT trust store was corrupt (%s%s%u): moved to %s; starting with no pins",
			rep.error, rep.line ? " at line " : "", rep.line, rep.quarantined);
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
		resolv_watch_try(-1, 0, nm);
	set_state(nm, NM_WAITING, "waiting for network information");
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
	ds_walkjob_cancel_wait(nm->job);
	ds_netwatch_free(nm->nw);
	ds_resolvwatch_free(nm->rw);
	nm_commit_clear(nm);
	ds_upstream_desc_clear(&nm->cur_desc);
	if (nm->retry_ev)
		event_free(nm->retry_ev);
	if (nm->commit.ev)
		event_free(nm->commit.ev);
	if (nm->settle_ev)
		event_free(nm->settle_ev);
	if (nm->refresh_ev)
		event_free(nm->refresh_ev);
	if (nm->rw_retry_ev)
		event_free(nm->rw_retry_ev);
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

bool ds_netmgr_wait_expired(struct ds_daemon *d)
{
	struct ds_netmgr *nm = d->netmgr;

	if (!nm || nm->state != NM_DISCOVERING || nm->network_known ||
	    d->cfg->unknown_network != DS_UNKNOWN_OPPORTUNISTIC)
		return false;
	/* the walk goes on; its result replaces this */
	nm_serve_plain(nm, "discovery is taking long on an unknown network");
	nm->state = NM_DISCOVERING;
	return d->plain != NULL;
}

const char *ds_netmgr_fingerprint(struct ds_daemon *d)
{
	return d->netmgr && d->netmgr->have_fp ? d->netmgr->fp_text : NULL;
}
