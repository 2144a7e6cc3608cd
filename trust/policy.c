/*
 * policy.c -- the trust decision (doc/DESIGN.md "Policy", PROTOCOL.md
 * "Reconnection and networks") as a pure function, and the ranking of
 * candidate anchors.
 *
 * The rules, first match wins:
 *  1. an observed anchor that is revoked: refuse, alert;
 *  2. a network matching a known fingerprint that no longer publishes
 *     resolver-name.arpa: SERVFAIL, alert (no downgrade on a known network);
 *  3. an observed anchor that is trusted or managed: use it (a known
 *     anchor means strict: DoT or nothing);
 *  4. a known network showing an anchor that is not known there (differs,
 *     or is unknown): refuse, alert, record it as pending; only "dotctl
 *     trust approve" adopts it;
 *  5. an anchor pending approval: keep waiting;
 *  6. an unknown anchor on an unknown network: TOFU auto pins and uses it,
 *     ask pins it pending, off refuses it;
 *  7. no resolver-name.arpa on an unknown network: plain DNS if
 *     opportunistic, SERVFAIL if strict.
 * While a refused or pending anchor is not used, queries get SERVFAIL on a
 * known network and follow the unknown-network mode elsewhere.
 */
#include <string.h>

#include "dotstub/trust.h"

enum trust_observed trust_observed_of(const struct trust_anchor *a)
{
	if (!a)
		return TRUST_OBS_UNKNOWN;
	switch (a->state) {
	case TRUST_STATE_TRUSTED: return TRUST_OBS_TRUSTED;
	case TRUST_STATE_MANAGED: return TRUST_OBS_MANAGED;
	case TRUST_STATE_REVOKED: return TRUST_OBS_REVOKED;
	case TRUST_STATE_PENDING:
	case TRUST_STATE_ADD_PENDING: return TRUST_OBS_PENDING;
	}
	return TRUST_OBS_UNKNOWN;
}

/* How to answer while the observed anchor is not used. */
static enum trust_service fallback(const struct trust_policy_input *in)
{
	if (in->network_known || in->unknown == TRUST_UNKNOWN_STRICT)
		return TRUST_SERVICE_SERVFAIL;
	return TRUST_SERVICE_PLAIN;
}

static void set(struct trust_decision *d, enum trust_action action, enum trust_service service,
		bool alert, const char *reason)
{
	d->action = action;
	d->service = service;
	d->alert = alert;
	d->record_pending = action == TRUST_ACT_PIN_PENDING;
	d->reason = reason;
}

static void decide_unknown_anchor(const struct trust_policy_input *in, struct trust_decision *d)
{
	switch (in->tofu) {
	case TRUST_TOFU_AUTO:
		set(d, TRUST_ACT_PIN_AND_USE, TRUST_SERVICE_DOT, false,
		    "new network publishes resolver-name.arpa with a new anchor: pinned on first "
		    "use (tofu auto)");
		return;
	case TRUST_TOFU_ASK:
		set(d, TRUST_ACT_PIN_PENDING, fallback(in), false,
		    "new network publishes resolver-name.arpa with a new anchor: pinned as "
		    "pending, approve it with \"dotctl trust approve\" (tofu ask)");
		return;
	case TRUST_TOFU_OFF:
	default:
		set(d, TRUST_ACT_REFUSE, fallback(in), true,
		    "resolver-name.arpa anchor is not managed and tofu is off: refused");
		return;
	}
}

void trust_policy_decide(const struct trust_policy_input *in, struct trust_decision *d)
{
	bool changed;

	if (in->published && in->observed == TRUST_OBS_REVOKED) {
		set(d, TRUST_ACT_REFUSE, fallback(in), true,
		    "the network's resolver-name.arpa anchor is revoked: refused");
		return;
	}
	if (!in->published) {
		if (in->network_known)
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, true,
			    "known network no longer publishes resolver-name.arpa: refusing to "
			    "downgrade to plain DNS");
		else if (in->unknown == TRUST_UNKNOWN_STRICT)
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false,
			    "network does not publish resolver-name.arpa and unknown networks are "
			    "strict: no DNS");
		else
			set(d, TRUST_ACT_PLAIN, TRUST_SERVICE_PLAIN, false,
			    "network does not publish resolver-name.arpa: plain DNS "
			    "(opportunistic)");
		return;
	}
	if (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED) {
		set(d, TRUST_ACT_USE, TRUST_SERVICE_DOT, false,
		    in->network_known && in->anchor_differs
			    ? "known network shows a different anchor that is itself known: "
			      "DoT with it"
			    : "known anchor: DoT authenticated by it (strict)");
		return;
	}
	changed = in->network_known && (in->anchor_differs || in->observed == TRUST_OBS_UNKNOWN);
	if (changed) {
		set(d, TRUST_ACT_REFUSE, TRUST_SERVICE_SERVFAIL, true,
		    "a different, unknown resolver-name.arpa anchor on a known network (possible "
		    "attack): refused; only \"dotctl trust approve\" adopts it");
		d->record_pending = true;
		return;
	}
	if (in->observed == TRUST_OBS_PENDING) {
		set(d, TRUST_ACT_PIN_PENDING, fallback(in), false,
		    "anchor is pending approval (\"dotctl trust approve\")");
		return;
	}
	decide_unknown_anchor(in, d);
}

const char *trust_action_name(enum trust_action a)
{
	switch (a) {
	case TRUST_ACT_USE: return "use";
	case TRUST_ACT_PIN_AND_USE: return "pin-and-use";
	case TRUST_ACT_PIN_PENDING: return "pin-pending";
	case TRUST_ACT_REFUSE: return "refuse";
	case TRUST_ACT_PLAIN: return "plain";
	case TRUST_ACT_SERVFAIL: return "servfail";
	}
	return "?";
}

const char *trust_service_name(enum trust_service s)
{
	switch (s) {
	case TRUST_SERVICE_DOT: return "dot";
	case TRUST_SERVICE_PLAIN: return "plain";
	case TRUST_SERVICE_SERVFAIL: return "servfail";
	}
	return "?";
}

static int observed_rank(enum trust_observed o)
{
	switch (o) {
	case TRUST_OBS_MANAGED: return 0;
	case TRUST_OBS_TRUSTED: return 1;
	case TRUST_OBS_PENDING: return 2;
	case TRUST_OBS_UNKNOWN: return 3;
	case TRUST_OBS_REVOKED: return 4;
	}
	return 5;
}

int trust_candidate_cmp(const void *pa, const void *pb)
{
	const struct trust_candidate *a = pa, *b = pb;
	int ra = observed_rank(a->observed), rb = observed_rank(b->observed);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->first_seen != b->first_seen) {
		if (a->first_seen == 0 || b->first_seen == 0) /* unknown age last */
			return a->first_seen == 0 ? 1 : -1;
		return a->first_seen < b->first_seen ? -1 : 1;
	}
	return memcmp(a->sha256, b->sha256, TRUST_SHA256_LEN);
}
