/*
 * policy.c -- the one place that decides how a network's queries are
 * served: DoT, plain DNS or SERVFAIL (doc/DESIGN.md "Policy", PROTOCOL.md
 * "Reconnection and networks"), as a pure function; and the ranking of
 * candidate anchors.
 *
 * The rules, first match wins:
 *  0. no resolver, or no route to it: SERVFAIL (EDE 14) at once;
 *  1. a network seen before with a usable anchor and resolver: DoT to the
 *     stored name and TLSA, no walk (unless that resolver failed DANE
 *     authentication: then walk again); an unknown network whose resolver has
 *     the address of a pinned resolver: DoT to that resolver first, and if
 *     it authenticates, that is the network's resolver (strict); any other
 *     network: walk first, and hold queries meanwhile;
 *  2. while the walk runs past discovery-wait: an unknown network in
 *     opportunistic mode gets plain DNS, every other one SERVFAIL;
 *  3. a resolver whose certificate does not match its validated TLSA, or
 *     an observed anchor that is revoked: refuse, alert;
 *  4. a network matching a known fingerprint that no longer publishes
 *     resolver-name.arpa, or whose publication fails validation or does
 *     not answer: SERVFAIL (alert where it could be an attack) -- never a
 *     downgrade on a known network;
 *  5. a publication that lists none of the network's resolver addresses
 *     (a transparent forwarder passing its upstream's through) is used only
 *     with prefer-upstream-resolver; otherwise the network is one whose
 *     resolver publishes nothing (rule 4 on a known network, rule 9 on an
 *     unknown one);
 *  6. an observed anchor that is trusted or managed: use it (a known
 *     anchor means strict: DoT or nothing; SERVFAIL while the resolver it
 *     describes does not answer DoT, and walk again later);
 *  7. a known network showing an anchor that is not known there: refuse,
 *     alert, record it as pending; only "dotctl trust approve" adopts it;
 *  8. an anchor pending approval: keep waiting;
 *  9. an unknown anchor on an unknown network: TOFU auto pins and uses it
 *     (once DoT to it authenticated; a resolver that does not answer DoT
 *     from here is one that publishes nothing, and is walked again later),
 *     ask pins it pending, off refuses it; a key that is not among the
 *     anchors walked with is looked at again as a first use;
 * 10. no usable resolver-name.arpa on an unknown network: plain DNS if
 *     opportunistic, SERVFAIL if strict.
 * While an anchor is not used, queries get SERVFAIL on a known network and
 * follow the unknown-network mode elsewhere.  Finally, a hotspot sign-on a
 * user asked for on this link turns "SERVFAIL" or "wait" into plain DNS,
 * on an unknown network only.  Where DoT to a pinned resolver's address
 * failed, anything but DoT raises an alert: it may be a network made to
 * look new (unknown-network strict is the defence).
 *
 * Designated resolvers (DDR, DNR) come after resolver-name.arpa: wherever a
 * walk's verdict leaves an unknown network without DoT (plain DNS, or
 * SERVFAIL because unknown networks are strict; never a refusal, a
 * pending anchor or a known network), a verified designated resolver is
 * used over DoT (authenticated by its certificate), and an opportunistic
 * one (the resolver's own private address, unauthenticated) instead of
 * plain DNS, where plain DNS would be allowed and the network is not
 * made to look new at a pinned resolver's address.  A designated
 * resolver's key pinned on first use for this network authenticates it on
 * later visits (DoT even where unknown networks are strict); another key
 * there is refused with an alert (SERVFAIL, never plain DNS, not even
 * under a hotspot sign-on), unless its certificate verifies as a verified
 * designated resolver's must (a renewed certificate): then it is used as
 * a verified one is, and its key replaces the pin.
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

static bool known_network(const struct trust_policy_input *in)
{
	return in->match != TRUST_MATCH_NONE;
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

/* A walk's verdict leaves this unknown network without DoT from
 * resolver-name.arpa: its designated resolver, if one answered DoT and the
 * policy accepts how it did.  True if it decided. */
static bool use_designated(const struct trust_policy_input *in, struct trust_decision *d)
{
	if (in->discovery == TRUST_DISC_NONE || in->discovery == TRUST_DISC_RUNNING ||
	    in->discovery == TRUST_DISC_ERROR)
		return false;
	switch (in->designated) {
	case TRUST_DESIG_VERIFIED:
		set(d, TRUST_ACT_USE_DESIGNATED, TRUST_SERVICE_DOT, false,
		    "no DoT from resolver-name.arpa; the network's designated resolver is "
		    "verified by its certificate (DDR/DNR): DoT, authenticated");
		return true;
	case TRUST_DESIG_OPPORTUNISTIC:
		if (in->unknown != TRUST_UNKNOWN_OPPORTUNISTIC ||
		    in->pinned_addr == TRUST_PINNED_FAILED)
			return false;
		set(d, TRUST_ACT_USE_OPPORTUNISTIC, TRUST_SERVICE_DOT, false,
		    "no DoT from resolver-name.arpa and no verifiable designated resolver: DoT, "
		    "unauthenticated (DDR opportunistic) to the network's resolver");
		d->posture = TRUST_POSTURE_DOT_UNAUTH;
		return true;
	case TRUST_DESIG_PINNED:
		set(d, TRUST_ACT_USE_DESIGNATED, TRUST_SERVICE_DOT, false,
		    "no DoT from resolver-name.arpa; the network's designated resolver is "
		    "authenticated by its pinned key (first use on this network): DoT");
		return true;
	case TRUST_DESIG_PIN_RENEWED:
		set(d, TRUST_ACT_USE_DESIGNATED, TRUST_SERVICE_DOT, false,
		    "no DoT from resolver-name.arpa; the network's designated resolver has a new "
		    "key, verified by its certificate (PKIX): DoT, authenticated, the pin replaced");
		return true;
	case TRUST_DESIG_PIN_CHANGED:
		set(d, TRUST_ACT_REFUSE, TRUST_SERVICE_SERVFAIL, true,
		    "the network's designated resolver has another key than the one pinned for "
		    "this network: refused, possible man in the middle");
		return true;
	case TRUST_DESIG_NONE:
	case TRUST_DESIG_PIN_ABSENT: /* fallback() says SERVFAIL */
		break;
	}
	return false;
}

/* No DoT for now: SERVFAIL on a known network, on one with a designated
 * resolver's key pinned (whose designation is gone or unreachable: as
 * strict as a stripped resolver-name.arpa), or in strict mode, else plain
 * DNS to the network's resolver. */
static enum trust_service fallback(const struct trust_policy_input *in)
{
	if (known_network(in) || in->unknown == TRUST_UNKNOWN_STRICT ||
	    in->designated == TRUST_DESIG_PIN_ABSENT)
		return TRUST_SERVICE_SERVFAIL;
	return TRUST_SERVICE_PLAIN;
}

/* An unknown network without DoT from resolver-name.arpa: its designated
 * resolver (true: decided), else plain DNS or SERVFAIL. */
static bool no_dot(const struct trust_policy_input *in, struct trust_decision *d,
		   const char *plain_reason, const char *strict_reason)
{
	if (use_designated(in, d))
		return true;
	if (fallback(in) == TRUST_SERVICE_PLAIN)
		set(d, TRUST_ACT_PLAIN, TRUST_SERVICE_PLAIN, false, plain_reason);
	else if (in->unknown != TRUST_UNKNOWN_STRICT && in->designated == TRUST_DESIG_PIN_ABSENT)
		/* strict because of the pin, not because of the mode: say so */
		set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false,
		    "the DDR/DNR resolver whose key is pinned for this network is no longer "
		    "designated: no clear-text DNS");
	else
		set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false, strict_reason);
	return false;
}

static void decide_unknown_anchor(const struct trust_policy_input *in, struct trust_decision *d)
{
	switch (in->tofu) {
	case TRUST_TOFU_AUTO:
		if (in->dot_unreachable) {
			/* nothing pinned: never an outage longer than
			 * discovery-wait on a network we know nothing of */
			if (no_dot(in, d,
				   "the resolver resolver-name.arpa describes does not answer DoT "
				   "from here: plain DNS to the network's resolver (opportunistic)",
				   "the resolver resolver-name.arpa describes does not answer DoT "
				   "from here and unknown networks are strict: no DNS"))
				return;
			d->ede = DNS_EDE_NO_REACHABLE_AUTHORITY;
			d->retry = true;
			return;
		}
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

/* The walk validated resolver-name.arpa under the observed anchor. */
static void decide_published(const struct trust_policy_input *in, struct trust_decision *d)
{
	if (in->dane_failed) {
		set(d, TRUST_ACT_REFUSE, TRUST_SERVICE_SERVFAIL, true,
		    "the resolver's certificate does not match its TLSA");
		d->ede = DNS_EDE_NETWORK_ERROR;
		return;
	}
	if (in->observed == TRUST_OBS_REVOKED) {
		set(d, TRUST_ACT_REFUSE, fallback(in), true,
		    "the network's resolver-name.arpa anchor is revoked: refused");
		return;
	}
	if (in->transparent && !in->prefer_upstream) {
		if (known_network(in))
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, true,
			    "the known network's resolver now passes another resolver's "
			    "resolver-name.arpa through: refusing to downgrade to plain DNS");
		else
			no_dot(in, d,
			       "a transparent forwarder: its resolver-name.arpa describes another "
			       "resolver, treated as a network that publishes nothing: plain DNS to "
			       "the network's resolver (opportunistic)",
			       "a transparent forwarder: its resolver-name.arpa describes another "
			       "resolver, and unknown networks are strict: no DNS");
		return;
	}
	if (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED) {
		if (in->dot_unreachable) {
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false,
			    "known anchor, but the resolver it authenticates does not answer DoT "
			    "from here: no DNS (strict), walking again later");
			d->ede = DNS_EDE_NO_REACHABLE_AUTHORITY;
			d->retry = true;
			return;
		}
		set(d, TRUST_ACT_USE, TRUST_SERVICE_DOT, false,
		    "known anchor: DoT authenticated by it (strict)");
		return;
	}
	if (known_network(in)) {
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

static void decide_walk_result(const struct trust_policy_input *in, struct trust_decision *d)
{
	bool known = known_network(in);

	switch (in->discovery) {
	case TRUST_DISC_OK:
		decide_published(in, d);
		return;
	case TRUST_DISC_NOT_PUBLISHED:
		if (known)
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, true,
			    "known network no longer publishes resolver-name.arpa: refusing to "
			    "downgrade to plain DNS");
		else
			no_dot(in, d,
			       "network does not publish resolver-name.arpa: plain DNS "
			       "(opportunistic)",
			       "network does not publish resolver-name.arpa and unknown networks "
			       "are strict: no DNS");
		return;
	case TRUST_DISC_UNREACHABLE:
		/* an unknown network is treated as publishing nothing (plain DNS
		 * fails the same way if the resolver is really gone); walk again
		 * later either way */
		if (known)
			set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false,
			    "the network's resolver does not answer discovery");
		else if (no_dot(in, d,
				"the network's resolver does not answer resolver-name.arpa: plain "
				"DNS (opportunistic)",
				"the network's resolver does not answer resolver-name.arpa and "
				"unknown networks are strict: no DNS"))
			return;
		d->retry = true;
		return;
	case TRUST_DISC_ANCHOR_MISMATCH:
		if (known) {
			set(d, TRUST_ACT_REFUSE, TRUST_SERVICE_SERVFAIL, true,
			    "a different, unknown resolver-name.arpa anchor on a known network "
			    "(possible attack): refused; only \"dotctl trust approve\" adopts it");
			d->record_pending = true;
		} else {
			set(d, TRUST_ACT_DISCOVER_FIRST_USE, TRUST_SERVICE_WAIT, false,
			    "the network's anchor is none we know: looking at it as a first use");
		}
		return;
	case TRUST_DISC_BOGUS:
	case TRUST_DISC_FAILED:
		if (known || !in->first_use) {
			set(d, TRUST_ACT_REFUSE, TRUST_SERVICE_SERVFAIL, true,
			    "resolver-name.arpa failed validation where a known anchor applies");
			d->ede = DNS_EDE_DNSSEC_BOGUS;
			return;
		}
		no_dot(in, d,
		       "resolver-name.arpa is broken: treated as a network that publishes "
		       "nothing, plain DNS (opportunistic)",
		       "resolver-name.arpa is broken and unknown networks are strict: no DNS");
		return;
	case TRUST_DISC_ERROR:
		set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false, "discovery could not run");
		d->ede = DNS_EDE_OTHER;
		d->retry = true;
		return;
	case TRUST_DISC_NONE:
	case TRUST_DISC_RUNNING:
		break;
	}
	set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, true, "internal: no walk result");
}

static void decide_base(const struct trust_policy_input *in, struct trust_decision *d)
{
	if (!in->have_resolver) {
		set(d, TRUST_ACT_SERVFAIL, TRUST_SERVICE_SERVFAIL, false,
		    "the network gave no resolver address");
		d->posture = TRUST_POSTURE_NO_RESOLVER;
		d->ede = DNS_EDE_NOT_READY;
		return;
	}
	if (!in->have_route) {
		/* answered at once: a client waiting for a network that is not
		 * there only times out */
		set(d, TRUST_ACT_NONE, TRUST_SERVICE_SERVFAIL, false, "no network (no route)");
		d->posture = TRUST_POSTURE_WAITING;
		d->ede = DNS_EDE_NOT_READY;
		return;
	}
	switch (in->discovery) {
	case TRUST_DISC_NONE:
		if (in->stored && in->match == TRUST_MATCH_EXACT && !in->dane_failed) {
			set(d, TRUST_ACT_USE_STORED, TRUST_SERVICE_DOT, false,
			    "known network, stored name and TLSA");
			return;
		}
		if (in->stored && in->match == TRUST_MATCH_EXACT) {
			/* re-keyed, or an impostor with the same fingerprint: the
			 * walk tells which, and the policy decides on it */
			set(d, TRUST_ACT_DISCOVER, TRUST_SERVICE_WAIT, false,
			    "the stored resolver failed DANE authentication: walking "
			    "again");
			return;
		}
		if (in->match == TRUST_MATCH_NONE && in->pinned_addr == TRUST_PINNED_UNTRIED) {
			set(d, TRUST_ACT_PROBE_PINNED, TRUST_SERVICE_WAIT, false,
			    "the network's resolver has the address of a pinned resolver: trying "
			    "DoT to it");
			d->ede = DNS_EDE_NOT_READY;
			return;
		}
		if (in->match == TRUST_MATCH_NONE &&
		    in->pinned_addr == TRUST_PINNED_AUTHENTICATED) {
			set(d, TRUST_ACT_USE_STORED, TRUST_SERVICE_DOT, false,
			    "the pinned resolver at this address authenticated: DoT to it (strict)");
			return;
		}
		set(d, TRUST_ACT_DISCOVER, TRUST_SERVICE_WAIT, false, "discovery in progress");
		return;
	case TRUST_DISC_RUNNING:
		if (!in->wait_expired) {
			set(d, TRUST_ACT_NONE, TRUST_SERVICE_WAIT, false,
			    "discovery of the network's resolver in progress");
			d->ede = DNS_EDE_NOT_READY;
			return;
		}
		/* the walk goes on; its result replaces this */
		no_dot(in, d, "discovery is taking long on an unknown network",
		       known_network(in) ? "discovery is taking long on a known network: no plain DNS"
					 : "discovery is taking long and unknown networks are strict");
		d->action = TRUST_ACT_NONE;
		d->ede = DNS_EDE_NOT_READY;
		return;
	default:
		decide_walk_result(in, d);
	}
}

/* What "dotctl status" says the network's resolution is. */
static enum trust_posture posture_of(const struct trust_policy_input *in,
				     const struct trust_decision *d)
{
	if (d->action == TRUST_ACT_PIN_PENDING)
		return TRUST_POSTURE_PENDING;
	if (in->discovery == TRUST_DISC_RUNNING || d->action == TRUST_ACT_DISCOVER ||
	    d->action == TRUST_ACT_DISCOVER_FIRST_USE || d->action == TRUST_ACT_PROBE_PINNED)
		return TRUST_POSTURE_DISCOVERING;
	switch (d->service) {
	case TRUST_SERVICE_DOT: return TRUST_POSTURE_DOT;
	case TRUST_SERVICE_PLAIN: return TRUST_POSTURE_PLAIN;
	case TRUST_SERVICE_WAIT: return TRUST_POSTURE_DISCOVERING;
	case TRUST_SERVICE_SERVFAIL: break;
	}
	return d->action == TRUST_ACT_REFUSE ? TRUST_POSTURE_REFUSED : TRUST_POSTURE_FAILED;
}

static enum trust_target target_of(const struct trust_decision *d)
{
	switch (d->service) {
	case TRUST_SERVICE_DOT:
		return d->action == TRUST_ACT_USE_STORED ? TRUST_TARGET_STORED
							 : TRUST_TARGET_DISCOVERED;
	case TRUST_SERVICE_PLAIN:
		return TRUST_TARGET_NETWORK_RESOLVER;
	default:
		return TRUST_TARGET_NONE;
	}
}

void trust_policy_decide(const struct trust_policy_input *in, struct trust_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->posture = (enum trust_posture)-1;
	d->ede = -1;
	decide_base(in, d);
	/* a user's hotspot sign-on for this link: plain DNS instead of
	 * nothing, never on a network that is known */
	if (in->hotspot == TRUST_HOTSPOT_THIS_LINK && !known_network(in) &&
	    !(in->designated == TRUST_DESIG_PIN_CHANGED && d->action == TRUST_ACT_REFUSE) &&
	    in->have_resolver &&
	    in->have_route &&
	    (d->service == TRUST_SERVICE_SERVFAIL || d->service == TRUST_SERVICE_WAIT)) {
		d->service = TRUST_SERVICE_PLAIN;
		if (d->action == TRUST_ACT_SERVFAIL)
			d->action = TRUST_ACT_PLAIN;
		d->reason = "hotspot sign-on in force on this link: plain DNS to the network's "
			    "resolver until it ends";
		d->posture = (enum trust_posture)-1;
	}
	/* DoT to a pinned resolver's address failed and this network looks new:
	 * whatever it gets, it is not what was pinned -- say so loudly */
	if (in->match == TRUST_MATCH_NONE && in->pinned_addr == TRUST_PINNED_FAILED &&
	    d->service != TRUST_SERVICE_DOT && d->service != TRUST_SERVICE_WAIT)
		d->alert = true; /* look-alike */
	if ((int)d->posture < 0)
		d->posture = posture_of(in, d);
	if (d->ede < 0)
		d->ede = d->action == TRUST_ACT_REFUSE ? DNS_EDE_PROHIBITED
			 : d->service == TRUST_SERVICE_WAIT ? DNS_EDE_NOT_READY
							     : DNS_EDE_NETWORK_ERROR;
	d->target = target_of(d);
}

const char *trust_action_name(enum trust_action a)
{
	switch (a) {
	case TRUST_ACT_NONE: return "none";
	case TRUST_ACT_DISCOVER: return "discover";
	case TRUST_ACT_DISCOVER_FIRST_USE: return "discover-first-use";
	case TRUST_ACT_USE_STORED: return "use-stored";
	case TRUST_ACT_PROBE_PINNED: return "probe-pinned";
	case TRUST_ACT_USE: return "use";
	case TRUST_ACT_PIN_AND_USE: return "pin-and-use";
	case TRUST_ACT_PIN_PENDING: return "pin-pending";
	case TRUST_ACT_REFUSE: return "refuse";
	case TRUST_ACT_PLAIN: return "plain";
	case TRUST_ACT_SERVFAIL: return "servfail";
	case TRUST_ACT_USE_DESIGNATED: return "use-designated";
	case TRUST_ACT_USE_OPPORTUNISTIC: return "use-opportunistic";
	}
	return "?";
}

const char *trust_service_name(enum trust_service s)
{
	switch (s) {
	case TRUST_SERVICE_DOT: return "dot";
	case TRUST_SERVICE_PLAIN: return "plain";
	case TRUST_SERVICE_SERVFAIL: return "servfail";
	case TRUST_SERVICE_WAIT: return "wait";
	}
	return "?";
}

const char *trust_posture_name(enum trust_posture p)
{
	switch (p) {
	case TRUST_POSTURE_WAITING: return "waiting for network information";
	case TRUST_POSTURE_NO_RESOLVER: return "no network resolver";
	case TRUST_POSTURE_DISCOVERING: return "discovering";
	case TRUST_POSTURE_DOT: return "dot";
	case TRUST_POSTURE_PLAIN: return "plain (opportunistic, unauthenticated)";
	case TRUST_POSTURE_PENDING: return "pending approval";
	case TRUST_POSTURE_REFUSED: return "refused";
	case TRUST_POSTURE_FAILED: return "failed (strict)";
	case TRUST_POSTURE_DOT_UNAUTH: return "DoT, unauthenticated (DDR opportunistic)";
	}
	return "?";
}

const char *trust_discovery_name(enum trust_discovery v)
{
	switch (v) {
	case TRUST_DISC_NONE: return "none";
	case TRUST_DISC_RUNNING: return "running";
	case TRUST_DISC_OK: return "ok";
	case TRUST_DISC_NOT_PUBLISHED: return "not-published";
	case TRUST_DISC_UNREACHABLE: return "unreachable";
	case TRUST_DISC_ANCHOR_MISMATCH: return "anchor-mismatch";
	case TRUST_DISC_BOGUS: return "bogus";
	case TRUST_DISC_FAILED: return "failed";
	case TRUST_DISC_ERROR: return "error";
	}
	return "?";
}

const char *trust_designated_name(enum trust_designated g)
{
	switch (g) {
	case TRUST_DESIG_NONE: return "none";
	case TRUST_DESIG_VERIFIED: return "verified";
	case TRUST_DESIG_OPPORTUNISTIC: return "opportunistic";
	case TRUST_DESIG_PINNED: return "pinned";
	case TRUST_DESIG_PIN_CHANGED: return "pin-changed";
	case TRUST_DESIG_PIN_ABSENT: return "pin-absent";
	case TRUST_DESIG_PIN_RENEWED: return "pin-renewed";
	}
	return "?";
}

const char *trust_match_name(enum trust_match m)
{
	switch (m) {
	case TRUST_MATCH_NONE: return "none";
	case TRUST_MATCH_EXACT: return "exact";
	case TRUST_MATCH_PARTIAL: return "partial";
	case TRUST_MATCH_IMPOSTOR: return "impostor";
	}
	return "?";
}

const char *trust_pinned_addr_name(enum trust_pinned_addr p)
{
	switch (p) {
	case TRUST_PINNED_NONE: return "none";
	case TRUST_PINNED_UNTRIED: return "untried";
	case TRUST_PINNED_AUTHENTICATED: return "authenticated";
	case TRUST_PINNED_FAILED: return "failed";
	}
	return "?";
}

const char *trust_tofu_name(enum trust_tofu t)
{
	return t == TRUST_TOFU_ASK ? "ask" : t == TRUST_TOFU_OFF ? "off" : "auto";
}

const char *trust_unknown_mode_name(enum trust_unknown_mode m)
{
	return m == TRUST_UNKNOWN_STRICT ? "strict" : "opportunistic";
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
