/*
 * netmgr_probe.c -- an unknown network whose resolver has the address of a
 * pinned resolver: a DoT connection to that address, with the pinned name
 * and TLSA, tells whether it is that resolver (DANE authenticates it) or a
 * network made to look new (nothing answers DoT there, or another
 * certificate).  It opens and watches the attempt; the policy decides.
 */
#include "netmgr_int.h"

#include <errno.h>
#include <string.h>

#include "dotstub/log.h"

void nm_probe_look(struct ds_netmgr *nm)
{
	const struct trust_anchor *a;

	if (nm->probe.looked)
		return;
	nm->probe.looked = true;
	ds_upstream_desc_clear(&nm->probe.desc);
	memset(&nm->probe.desc, 0, sizeof(nm->probe.desc));
	a = nm_pinned_at_address(nm, &nm->probe.desc);
	if (!a)
		return;
	nm->probe.state = TRUST_PINNED_UNTRIED;
	snprintf(nm->probe.name, sizeof(nm->probe.name), "%s", nm->probe.desc.name);
}

int nm_probe_start(struct ds_netmgr *nm)
{
	nm_probe_stop(nm);
	nm->probe.up = nm_make_upstream(nm, &nm->probe.desc);
	if (!nm->probe.up)
		return -EINVAL;
	nm->probe.deadline_ms = ds_now_ms() + NM_PROBE_MS;
	ds_upstream_connect_now(nm->probe.up);
	log_notice("network %s: its resolver has the address of the pinned %s: trying DoT to it",
		   nm->fp_id, nm->probe.name);
	return 0;
}

enum nm_probe nm_probe_check(struct ds_netmgr *nm)
{
	struct ds_upstream_status st;

	if (!nm->probe.up)
		return NM_PROBE_FAILED;
	ds_upstream_get_status(nm->probe.up, &st);
	if (st.handshakes > 0)
		return NM_PROBE_AUTHENTICATED;
	if (st.fail_auth > 0 || st.fail_tls > 0 || st.fail_network > 0 ||
	    ds_now_ms() >= nm->probe.deadline_ms) {
		snprintf(nm->probe.why, sizeof(nm->probe.why), "%s",
			 st.fail_auth ? "its certificate does not match the pinned TLSA"
			 : st.fail_tls ? "no TLS"
			 : st.fail_network ? "no connection to port 853"
					   : "no handshake in time");
		return NM_PROBE_FAILED;
	}
	return NM_PROBE_AGAIN;
}

void nm_probe_stop(struct ds_netmgr *nm)
{
	if (nm->probe.ev)
		ds_timer_disarm(nm->probe.ev);
	if (nm->probe.up) {
		ds_upstream_free(nm->probe.up);
		nm->probe.up = NULL;
	}
}

void nm_probe_reset(struct ds_netmgr *nm)
{
	nm_probe_stop(nm);
	ds_upstream_desc_clear(&nm->probe.desc);
	memset(&nm->probe.desc, 0, sizeof(nm->probe.desc));
	nm->probe.looked = false;
	nm->probe.state = TRUST_PINNED_NONE;
	nm->probe.name[0] = '\0';
	nm->probe.why[0] = '\0';
}
