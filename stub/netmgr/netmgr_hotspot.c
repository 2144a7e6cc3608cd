/*
 * netmgr_hotspot.c -- a hotspot sign-on ("dotctl hotspot-signon"): plain
 * DNS to the network's own resolver for a bounded time, asked for by a
 * user, for this network only and never on a known one.  (The suspicion
 * of a captive portal that makes a user ask for it is noted where the
 * decision is carried out, netmgr_decide.c.)
 *
 * The sign-on is one input of the policy (trust/policy.c); this file only
 * starts and ends it, and says so loudly.  When it ends, discovery runs
 * again.
 */
#include "netmgr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/log.h"

int ds_netmgr_hotspot_signon(struct ds_daemon *d, unsigned seconds, char *why, size_t whylen)
{
	struct ds_netmgr *nm = d->netmgr;

	if (!nm) {
		snprintf(why, whylen, "a static upstream is configured: no network to sign on to");
		return -EINVAL;
	}
	if (seconds == 0 || seconds > NM_HOTSPOT_MAX_S) {
		snprintf(why, whylen, "a sign-on lasts 1 s to %u minutes", NM_HOTSPOT_MAX_S / 60);
		return -EINVAL;
	}
	if (nm->nres == 0 || !nm->have_fp) {
		snprintf(why, whylen, "the network gave no resolver");
		return -EAGAIN;
	}
	if (nm->match != TRUST_MATCH_NONE) {
		snprintf(why, whylen,
			 "network %s is known (pinned): never plain DNS there; `dotctl trust "
			 "forget` it first if it really changed",
			 nm->fp_id);
		return -EPERM;
	}
	nm->hotspot.active = true;
	nm->hotspot.until_ms = ds_now_ms() + (uint64_t)seconds * 1000u;
	snprintf(nm->hotspot.fp_id, sizeof(nm->hotspot.fp_id), "%s", nm->fp_id);
	ds_timer_arm_ms(nm->hotspot.ev, seconds * 1000u);
	log_err("HOTSPOT sign-on on network %s: plain DNS, unauthenticated, to the network's "
		"resolver for %u s (asked with dotctl)",
		nm->fp_id, seconds);
	nm->retry_ms = 0;
	nm_decide(nm);
	return 0;
}

/* The sign-on is over (its time, or another network): discovery again. */
void nm_hotspot_end(struct ds_netmgr *nm, const char *why)
{
	if (!nm->hotspot.active)
		return;
	nm->hotspot.active = false;
	ds_timer_disarm(nm->hotspot.ev);
	log_err("HOTSPOT sign-on on network %s ended (%s): no more plain DNS; discovering again",
		nm->hotspot.fp_id, why);
}

void nm_hotspot_fired(void *arg)
{
	struct ds_netmgr *nm = arg;

	nm_hotspot_end(nm, "its time is up");
	nm->retry_ms = 0;
	nm_decide(nm);
}

unsigned nm_hotspot_left_s(const struct ds_netmgr *nm)
{
	uint64_t now = ds_now_ms();

	if (!nm->hotspot.active || now >= nm->hotspot.until_ms)
		return 0;
	return (unsigned)((nm->hotspot.until_ms - now + 999) / 1000);
}
