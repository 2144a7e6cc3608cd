/*
 * netmgr_hotspot.c -- a hotspot sign-on ("dotctl hotspot-signon"): plain
 * DNS to the network's own resolver for a bounded time, asked for by a
 * user, for this network only and never on a known one; and the
 * suspicion of a captive portal that makes a user ask for it.
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

/* After a decision: the network's resolver answered discovery in plain DNS
 * (the walk got answers) but there is no DoT and the policy allows no clear
 * text -- what a captive portal looks like.  Shown in status, logged once
 * per network. */
void nm_portal_note(struct ds_netmgr *nm, const struct trust_policy_input *in,
		    const struct trust_decision *dec)
{
	bool answered = in->discovery == TRUST_DISC_NOT_PUBLISHED ||
			in->discovery == TRUST_DISC_BOGUS || in->discovery == TRUST_DISC_FAILED ||
			(in->discovery == TRUST_DISC_OK && in->dot_unreachable);

	if (dec->service == TRUST_SERVICE_DOT || dec->service == TRUST_SERVICE_PLAIN) {
		nm->portal[0] = '\0';
		return;
	}
	if (!answered || in->hotspot == TRUST_HOTSPOT_THIS_LINK)
		return;
	snprintf(nm->portal, sizeof(nm->portal),
		 "the network's resolver answers plain DNS, but %s%s", dec->reason,
		 in->match == TRUST_MATCH_NONE ? "; `dotctl hotspot-signon` gives plain DNS for 5 "
						 "minutes to sign on"
					       : " (a known network: no sign-on)");
	if (nm->portal_logged)
		return;
	nm->portal_logged = true;
	log_warn("network %s: captive portal suspected: %s", nm->fp_id, nm->portal);
}
