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
	/* for PKIX descriptions only (DDR verified) */
	o.ca_file = nm->d->cfg->ca_file[0] ? nm->d->cfg->ca_file : NULL;
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

const char *nm_label(const struct ds_netmgr *nm, char *buf, size_t len)
{
	if (nm->ifindex > 0)
		snprintf(buf, len, "link %s (%d%s)", nm->ifname[0] ? nm->ifname : "?", nm->ifindex,
			 nm->is_link ? "" : ", default");
	else
		snprintf(buf, len, "the default network");
	return buf;
}

/* One line for every change of a link's transport (DoT to whom, plain
 * DNS, none), with since when it is in force; the steps in between
 * (waiting, discovering) are not transports. */
void nm_say_transport(struct ds_netmgr *nm)
{
	char said[sizeof(nm->said)], label[IF_NAMESIZE + 32];

	switch (nm->state) {
	case TRUST_POSTURE_DOT: {
		struct ds_upstream_status us = { .handshakes = 0 };

		if (nm->lane->up)
			ds_upstream_get_status(nm->lane->up, &us);
		if (us.handshakes > 0 && us.matched_tlsa[0])
			snprintf(said, sizeof(said), "DoT authenticated to %s (DANE TLSA %.5s): %s",
				 nm->upstream_name, us.matched_tlsa, nm->reason);
		else if (nm->cur_desc.auth == DS_AUTH_PKIX)
			snprintf(said, sizeof(said),
				 "DoT authenticated to %s (certificate verified, PKIX): %s",
				 nm->upstream_name, nm->reason);
		else
			snprintf(said, sizeof(said), "DoT to %s: %s", nm->upstream_name, nm->reason);
		break;
	}
	case TRUST_POSTURE_DOT_UNAUTH:
		snprintf(said, sizeof(said), "DoT, unauthenticated (DDR opportunistic) to %s: %s",
			 nm->upstream_name, nm->reason);
		break;
	case TRUST_POSTURE_PLAIN:
		snprintf(said, sizeof(said), "plain DNS%s (opportunistic, unauthenticated): %s",
			 nm->hotspot.active ? " for a hotspot sign-on" : "", nm->reason);
		break;
	case TRUST_POSTURE_PENDING:
	case TRUST_POSTURE_REFUSED:
	case TRUST_POSTURE_FAILED:
	case TRUST_POSTURE_NO_RESOLVER:
		snprintf(said, sizeof(said), "no DNS (%s, SERVFAIL): %s",
			 trust_posture_name(nm->state), nm->reason);
		break;
	case TRUST_POSTURE_WAITING:
	case TRUST_POSTURE_DISCOVERING:
	default:
		return;
	}
	if (!strcmp(said, nm->said))
		return;
	snprintf(nm->said, sizeof(nm->said), "%s", said);
	nm->since = ds_wall_now();
	log_notice("%s: %s", nm_label(nm, label, sizeof(label)), said);
	/* publish yes: the default network's upstream is the published one */
	if (!nm->is_link) {
		bool dot = nm->state == TRUST_POSTURE_DOT && nm->cur_desc.name[0];
		bool key = dot && !strcmp(nm->up_key_name, nm->cur_desc.name);
		ds_publishd_upstream(nm->d, dot ? &nm->cur_desc : NULL, key ? &nm->up_key : NULL);
	}
}

void nm_set_state(struct ds_netmgr *nm, enum trust_posture st, const char *reason)
{
	nm->state = st;
	snprintf(nm->reason, sizeof(nm->reason), "%.*s", (int)sizeof(nm->reason) - 1,
		 reason ? reason : "");
	nm_say_transport(nm);
}

void nm_serve_nothing(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason)
{
	nm_set_state(nm, st, reason);
	ds_lane_set_upstream(nm->lane, NULL, "none", false);
	ds_lane_not_ready(nm->lane, false, ede, reason);
}

void nm_serve_wait(struct ds_netmgr *nm, enum trust_posture st, int ede, const char *reason)
{
	nm_set_state(nm, st, reason);
	ds_lane_set_upstream(nm->lane, NULL, "none", false);
	ds_lane_not_ready(nm->lane, true, ede, reason);
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
	/* encrypted and unauthenticated is never shown as authenticated */
	nm_set_state(nm, desc->auth == DS_AUTH_OPPORTUNISTIC ? TRUST_POSTURE_DOT_UNAUTH
							      : TRUST_POSTURE_DOT, how);
	ds_lane_set_upstream(nm->lane, up, nm->from_store ? "known network" : "discovery", false);
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
	ds_lane_set_plain(nm->lane, p);
}
