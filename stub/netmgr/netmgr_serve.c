/*
 * netmgr_serve.c -- carrying out what the policy chose to serve a network
 * with: DoT to a description, plain DNS to the network's announced
 * resolvers, or nothing (SERVFAIL now, or after queries waited).  Talks to
 * the daemon's query path only; decides nothing.
 */
#include "netmgr_int.h"

#include <errno.h>
#include <string.h>

#include "dotstub/log.h"

struct ds_upstream *nm_make_upstream(struct ds_netmgr *nm, const struct ds_upstream_desc *desc)
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

void nm_set_state(struct ds_netmgr *nm, enum trust_posture st, const char *reason)
{
	nm->state = st;
	snprintf(nm->reason, sizeof(nm->reason), "%.*s", (int)sizeof(nm->reason) - 1,
		 reason ? reason : "");
}

void nm_serve_nothing(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason)
{
	nm_set_state(nm, st, reason);
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, false, ede, reason);
}

void nm_serve_wait(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason)
{
	nm_set_state(nm, st, reason);
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, true, ede, reason);
}

void nm_serve_dot(struct ds_netmgr *nm, const struct ds_upstream_desc *desc, const char *how)
{
	struct ds_upstream *up = nm_make_upstream(nm, desc);

	if (!up) {
		nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_NETWORK_ERROR,
			      "the discovered resolver cannot be used (see the log)");
		return;
	}
	snprintf(nm->upstream_name, sizeof(nm->upstream_name), "%s", desc->name);
	ds_upstream_desc_clear(&nm->cur_desc);
	memset(&nm->cur_desc, 0, sizeof(nm->cur_desc));
	ds_upstream_desc_copy(&nm->cur_desc, desc);
	nm_set_state(nm, TRUST_POSTURE_DOT, how);
	ds_daemon_set_upstream(nm->d, up, nm->from_store ? "known network" : "discovery", false);
	ds_upstream_connect_now(up);
}

void nm_serve_plain(struct ds_netmgr *nm, const char *reason)
{
	struct ds_plain *p;
	int err = 0;

	p = ds_plain_new(nm->d->base, nm->res, nm->nres, 1500, &err);
	if (!p) {
		nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_NETWORK_ERROR,
			      "plain DNS to the network's resolver is not available");
		return;
	}
	nm->upstream_name[0] = '\0';
	nm_set_state(nm, TRUST_POSTURE_PLAIN, reason);
	log_warn("network %s: %s -- queries go to the network's resolver in plain DNS "
		 "(opportunistic, unauthenticated)",
		 nm->fp_id, reason);
	ds_daemon_set_plain(nm->d, p);
}
