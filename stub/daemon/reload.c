/*
 * reload.c -- what dotstubd serves from its configuration, at start and
 * again on SIGHUP (in the network process, which the store process tells
 * to reload: privsep.h).
 *
 * A reload reads the configuration file given at start and the command
 * line's options over it, exactly as at start, and validates all of it
 * before anything changes: an invalid configuration is refused with a log
 * line saying why, and the running one goes on unchanged.  Then, in this
 * order: the new listen and serve-dot addresses are taken (the store
 * process bound them and made the DoT server's certificate if it had to;
 * if it could not, it refused the reload as a whole) and the certificate
 * loaded, the removed ones closed; the keys that need a restart
 * (state-dir, user, control, seccomp, dnr-ra) are kept with a note; the new values
 * take effect (the log level, the cache, the limits, which every part
 * reads from the configuration); and what is served starts again: the
 * static upstream, or the network manager, which re-reads the trust store
 * and the managed anchors and decides again.
 */
#include "daemon.h"
#include "dotsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"
#include "dotstub/trust.h"

static int start_static_upstream(struct ds_daemon *d)
{
	struct ds_upstream_opts o;
	struct ds_upstream *up;
	int err = 0;

	ds_upstream_opts_default(&o);
	o.allow_tls12 = d->cfg->allow_tls12;
	o.query_timeout_ms = d->cfg->query_timeout_ms / 3 ? d->cfg->query_timeout_ms / 3 : 1;
	up = ds_upstream_new(d->base, &d->cfg->upstream, &o, &err);
	if (!up) {
		log_err("upstream %s: %s", d->cfg->upstream.name,
			err == -ENOKEY ? "no usable TLSA record, refusing to use it"
				       : strerror(-err));
		return err;
	}
	ds_daemon_set_upstream(d, up, "config", false);
	ds_upstream_connect_now(up);
	return 0;
}

int ds_reload_serve(struct ds_daemon *d)
{
	if (d->cfg->upstream.naddr > 0)
		return start_static_upstream(d);
	return ds_netmgr_start(d);
}

/* The new configuration, read as at start.  0 or -errno with why. */
static int reload_read(struct ds_daemon *d, struct ds_config *n, char *why, size_t len)
{
	int r;

	ds_config_init(n);
	why[0] = '\0';
	r = ds_config_read(n, d->argc, d->argv, why, len);
	if (r < 0 && !why[0])
		snprintf(why, len, "%s", strerror(-r));
	return r;
}

/* Keys that only a restart can change: keep the running value, say so. */
static void keep_path(const char *key, char *now, const char *was, size_t len)
{
	if (!strcmp(now, was))
		return;
	log_warn("reload: %s %s needs a restart; keeping %s", key, now, was);
	snprintf(now, len, "%s", was);
}

static void reload_keep_restart_keys(const struct ds_config *old, struct ds_config *n)
{
	keep_path("state-dir", n->state_dir, old->state_dir, sizeof(n->state_dir));
	keep_path("user", n->user, old->user, sizeof(n->user));
	keep_path("control", n->control_path, old->control_path, sizeof(n->control_path));
	if (n->seccomp != old->seccomp) {
		log_warn("reload: seccomp %s needs a restart; keeping %s", n->seccomp ? "yes" : "no",
			 old->seccomp ? "yes" : "no");
		n->seccomp = old->seccomp;
	}
	/* the raw ICMPv6 socket is opened at start only (storeproc.c) */
	if (n->dnr_ra != old->dnr_ra) {
		log_warn("reload: dnr-ra %s needs a restart; keeping %s", n->dnr_ra ? "yes" : "no",
			 old->dnr_ra ? "yes" : "no");
		n->dnr_ra = old->dnr_ra;
	}
}

/* The configuration in force becomes n (which is left empty). */
static void reload_commit(struct ds_daemon *d, struct ds_config *n)
{
	ds_config_free(d->cfg);
	*d->cfg = *n;
	memset(&n->upstream, 0, sizeof(n->upstream)); /* its records moved */
}

static void reload_log_level(const struct ds_config *c)
{
	ds_log_set_level(c->verbose ? LOG_DEBUG : c->log_level);
}

/* A new cache of the new size (or none); the old answers go in any case. */
static void reload_cache(struct ds_daemon *d)
{
	if (d->cache)
		ds_cache_free(d->cache);
	d->cache = NULL;
	if (d->cfg->cache_bytes == 0)
		return;
	d->cache = ds_cache_new(d->cfg->cache_bytes);
	if (!d->cache)
		log_err("reload: cannot allocate a cache of %zu bytes; running without one",
			d->cfg->cache_bytes);
}

/* Stop serving and start again from the new configuration: the static
 * upstream, or the network manager (the store, the managed anchors, the
 * network decided again). */
static void reload_serve_again(struct ds_daemon *d)
{
	struct ds_access_counts kept;
	int r;

	/* the access table observes the network manager's watcher: it goes
	 * first, and comes back from the new configuration (its counters
	 * kept) once the new watcher is there */
	/* queries wait for the new decision; until then what was served
	 * stands (a reload to the same end leaves resolv-conf-out alone) */
	ds_daemon_not_ready(d, true, DNS_EDE_NOT_READY, "reloading");
	ds_access_get_counts(d, &kept);
	ds_access_close(d);
	ds_netmgr_stop(d);
	ds_daemon_set_plain(d, NULL); /* and no DoT upstream either */
	r = ds_reload_serve(d);
	if (r < 0) {
		ds_netmgr_stop(d);
		log_err("reload: nothing to serve with (%s): queries get SERVFAIL until the next "
			"reload or a restart", strerror(-r));
		ds_daemon_not_ready(d, false, DNS_EDE_OTHER, "configuration not usable");
	}
	if (ds_access_open(d) < 0) {
		log_err("reload: access-control: out of memory; every client is refused");
		return;
	}
	ds_access_set_counts(d, &kept);
	ds_access_watch(d);
	ds_listeners_access_changed(d);
	ds_dotsrv_access_changed(d);
}

static void reload_refused(struct ds_daemon *d, const char *why)
{
	ds_reload_count_refused(d, why);
	log_err("reload refused, the running configuration is kept: %s", why);
}

void ds_reload_count_refused(struct ds_daemon *d, const char *why)
{
	d->reloads_refused++;
	snprintf(d->last_reload, sizeof(d->last_reload), "refused: %s", why);
}

bool ds_reload_apply(struct ds_daemon *d)
{
	static struct ds_config n; /* large: not on the stack */
	char why[512];
	bool applied = false;
	int r;

	if (reload_read(d, &n, why, sizeof(why)) < 0) {
		reload_refused(d, why);
		goto out;
	}
	if (ds_dotsrv_reload_prepare(d, &n, why, sizeof(why)) < 0) {
		reload_refused(d, why);
		goto out;
	}
	r = ds_listeners_rebind(d, n.listen, n.nlisten);
	if (r < 0) {
		ds_dotsrv_reload_abort(d);
		snprintf(why, sizeof(why), "cannot bind a new listen address (%s)", strerror(-r));
		reload_refused(d, why);
		goto out;
	}
	reload_keep_restart_keys(d->cfg, &n);
	reload_commit(d, &n);
	ds_dotsrv_reload_commit(d);
	reload_log_level(d->cfg);
	reload_cache(d);
	reload_serve_again(d);
	ds_resolve1d_reload(d);
	d->reloads++;
	snprintf(d->last_reload, sizeof(d->last_reload), "applied");
	log_notice("reload: applied %s", d->cfg->config_file);
	applied = true;
out:
	ds_config_free(&n);
	return applied;
}

