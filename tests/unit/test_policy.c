/*
 * test_policy.c -- the trust decision, checked exhaustively: every
 * combination of every input (resolver, route, discovery outcome, wait,
 * first use, network match, stored data, observed anchor, tofu,
 * unknown-network mode, hotspot sign-on, a transparent forwarder's
 * publication, prefer-upstream-resolver, an upstream not answering DoT,
 * the designated resolvers' outcome) against a table that restates
 * doc/DESIGN.md "Policy" independently of the code (first matching row
 * wins), plus invariants that must hold whatever the table says; and the
 * ranking of candidate anchors.  tests/meson.build also builds this test
 * against mutated copies of trust/policy.c and expects each to fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/trust.h"

#define ANY -1

enum { OPP = TRUST_UNKNOWN_OPPORTUNISTIC, STRICT = TRUST_UNKNOWN_STRICT };
enum { AUTO = TRUST_TOFU_AUTO, ASK = TRUST_TOFU_ASK, OFF = TRUST_TOFU_OFF };
enum {
	UNK = TRUST_OBS_UNKNOWN,
	TRU = TRUST_OBS_TRUSTED,
	PEN = TRUST_OBS_PENDING,
	MAN = TRUST_OBS_MANAGED,
	REV = TRUST_OBS_REVOKED,
};
enum {
	A_NONE = TRUST_ACT_NONE,
	DISCOVER = TRUST_ACT_DISCOVER,
	FIRST_USE = TRUST_ACT_DISCOVER_FIRST_USE,
	STORED = TRUST_ACT_USE_STORED,
	PROBE = TRUST_ACT_PROBE_PINNED,
	USE = TRUST_ACT_USE,
	PIN = TRUST_ACT_PIN_AND_USE,
	WAIT = TRUST_ACT_PIN_PENDING,
	REFUSE = TRUST_ACT_REFUSE,
	PLAIN = TRUST_ACT_PLAIN,
	SERVFAIL = TRUST_ACT_SERVFAIL,
	USE_DESIG = TRUST_ACT_USE_DESIGNATED,
	USE_OPP = TRUST_ACT_USE_OPPORTUNISTIC,
};
enum {
	S_DOT = TRUST_SERVICE_DOT,
	S_PLAIN = TRUST_SERVICE_PLAIN,
	S_FAIL = TRUST_SERVICE_SERVFAIL,
	S_WAIT = TRUST_SERVICE_WAIT,
};
enum {
	P_WAITING = TRUST_POSTURE_WAITING,
	P_NORES = TRUST_POSTURE_NO_RESOLVER,
	P_DISC = TRUST_POSTURE_DISCOVERING,
	P_DOT = TRUST_POSTURE_DOT,
	P_PLAIN = TRUST_POSTURE_PLAIN,
	P_PENDING = TRUST_POSTURE_PENDING,
	P_REFUSED = TRUST_POSTURE_REFUSED,
	P_FAILED = TRUST_POSTURE_FAILED,
	P_DOT_UNAUTH = TRUST_POSTURE_DOT_UNAUTH,
};
enum {
	PIN_NONE = TRUST_PINNED_NONE,
	PIN_UNTRIED = TRUST_PINNED_UNTRIED,
	PIN_AUTH = TRUST_PINNED_AUTHENTICATED,
	PIN_FAILED = TRUST_PINNED_FAILED,
};
/* discovery outcomes as a set */
#define D(x) (1u << TRUST_DISC_##x)
#define D_ANY 0xffffu
enum { NOTREADY = 14, BOGUS = 6, PROHIB = 18, NOREACH = 22, NETERR = 23, OTHER = 0 };

struct row {
	/* inputs (ANY: any value); known is match != NONE, stored means
	 * "stored and the match is exact" */
	int res, route;
	unsigned disc;
	int wait, first, known, stored, pinned, obs, dane, tofu, unk;
	int transp, prefer, unreach;
	/* expected */
	int action, service, alert, record, retry, posture, ede;
};

/* doc/DESIGN.md "Policy", restated independently of trust/policy.c; the
 * first matching row wins.  A hotspot sign-on is applied on top of this
 * (hotspot_rule below). */
static const struct row table[] = {
	/* res route disc wait first known stored pinned obs dane tofu unk transp prefer unreach -> action service alert record retry posture ede */
	/* nothing to discover */
	{ 0, ANY, D_ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 0, P_NORES, NOTREADY },
	{ 1, 0, D_ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, A_NONE, S_FAIL, 0, 0, 0, P_WAITING, NOTREADY },
	/* a known network with stored data: DoT at once, no walk */
	{ 1, 1, D(NONE), ANY, ANY, ANY, 1, ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, STORED, S_DOT, 0, 0, 0, P_DOT, ANY },
	/* ... unless its resolver failed DANE: walk again */
	{ 1, 1, D(NONE), ANY, ANY, ANY, 1, ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, DISCOVER, S_WAIT, 0, 0, 0, P_DISC, NOTREADY },
	/* an unknown network at a pinned resolver's address: DoT to it first */
	{ 1, 1, D(NONE), ANY, ANY, 0, 0, PIN_UNTRIED, ANY, ANY, ANY, ANY, ANY, ANY, ANY, PROBE, S_WAIT, 0, 0, 0, P_DISC, NOTREADY },
	{ 1, 1, D(NONE), ANY, ANY, 0, 0, PIN_AUTH, ANY, ANY, ANY, ANY, ANY, ANY, ANY, STORED, S_DOT, 0, 0, 0, P_DOT, ANY },
	{ 1, 1, D(NONE), ANY, ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, DISCOVER, S_WAIT, 0, 0, 0, P_DISC, NOTREADY },
	/* the walk runs: wait, then plain only on an unknown opportunistic network */
	{ 1, 1, D(RUNNING), 0, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, A_NONE, S_WAIT, 0, 0, 0, P_DISC, NOTREADY },
	{ 1, 1, D(RUNNING), 1, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, A_NONE, S_FAIL, 0, 0, 0, P_DISC, NOTREADY },
	{ 1, 1, D(RUNNING), 1, ANY, 0, ANY, ANY, ANY, ANY, ANY, STRICT, ANY, ANY, ANY, A_NONE, S_FAIL, 0, 0, 0, P_DISC, NOTREADY },
	{ 1, 1, D(RUNNING), 1, ANY, 0, ANY, ANY, ANY, ANY, ANY, OPP, ANY, ANY, ANY, A_NONE, S_PLAIN, 0, 0, 0, P_DISC, ANY },
	/* a certificate that does not match the TLSA: refused, whatever the anchor */
	{ 1, 1, D(OK), ANY, ANY, ANY, ANY, ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, NETERR },
	/* a revoked anchor is never used */
	{ 1, 1, D(OK), ANY, ANY, 1, ANY, ANY, REV, ANY, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, PROHIB },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, REV, ANY, ANY, STRICT, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, PROHIB },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, REV, ANY, ANY, OPP, ANY, ANY, ANY, REFUSE, S_PLAIN, 1, 0, 0, P_PLAIN, PROHIB },
	/* a transparent forwarder's pass-through, not preferred: as if it published nothing */
	{ 1, 1, D(OK), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, 1, 0, ANY, SERVFAIL, S_FAIL, 1, 0, 0, P_FAILED, NETERR },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, STRICT, 1, 0, ANY, SERVFAIL, S_FAIL, 0, 0, 0, P_FAILED, NETERR },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, OPP, 1, 0, ANY, PLAIN, S_PLAIN, 0, 0, 0, P_PLAIN, ANY },
	/* a known anchor: strict, always (SERVFAIL while its resolver does not answer DoT) */
	{ 1, 1, D(OK), ANY, ANY, ANY, ANY, ANY, TRU, ANY, ANY, ANY, ANY, ANY, 1, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, NOREACH },
	{ 1, 1, D(OK), ANY, ANY, ANY, ANY, ANY, MAN, ANY, ANY, ANY, ANY, ANY, 1, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, NOREACH },
	{ 1, 1, D(OK), ANY, ANY, ANY, ANY, ANY, TRU, ANY, ANY, ANY, ANY, ANY, ANY, USE, S_DOT, 0, 0, 0, P_DOT, ANY },
	{ 1, 1, D(OK), ANY, ANY, ANY, ANY, ANY, MAN, ANY, ANY, ANY, ANY, ANY, ANY, USE, S_DOT, 0, 0, 0, P_DOT, ANY },
	/* a new, different anchor on a known network: never adopted */
	{ 1, 1, D(OK), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 1, 0, P_REFUSED, PROHIB },
	{ 1, 1, D(ANCHOR_MISMATCH), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 1, 0, P_REFUSED, PROHIB },
	{ 1, 1, D(ANCHOR_MISMATCH), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, FIRST_USE, S_WAIT, 0, 0, 0, P_DISC, NOTREADY },
	/* pending approval */
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, PEN, ANY, ANY, STRICT, ANY, ANY, ANY, WAIT, S_FAIL, 0, 1, 0, P_PENDING, NETERR },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, PEN, ANY, ANY, OPP, ANY, ANY, ANY, WAIT, S_PLAIN, 0, 1, 0, P_PENDING, ANY },
	/* first use on an unknown network (a resolver that does not answer DoT: as if nothing was published) */
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, AUTO, STRICT, ANY, ANY, 1, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, NOREACH },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, AUTO, OPP, ANY, ANY, 1, PLAIN, S_PLAIN, 0, 0, 1, P_PLAIN, ANY },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, AUTO, ANY, ANY, ANY, ANY, PIN, S_DOT, 0, 0, 0, P_DOT, ANY },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, ASK, STRICT, ANY, ANY, ANY, WAIT, S_FAIL, 0, 1, 0, P_PENDING, NETERR },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, ASK, OPP, ANY, ANY, ANY, WAIT, S_PLAIN, 0, 1, 0, P_PENDING, ANY },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, OFF, STRICT, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, PROHIB },
	{ 1, 1, D(OK), ANY, ANY, 0, ANY, ANY, UNK, ANY, OFF, OPP, ANY, ANY, ANY, REFUSE, S_PLAIN, 1, 0, 0, P_PLAIN, PROHIB },
	/* no resolver-name.arpa: a known network never downgrades */
	{ 1, 1, D(NOT_PUBLISHED), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, SERVFAIL, S_FAIL, 1, 0, 0, P_FAILED, NETERR },
	{ 1, 1, D(NOT_PUBLISHED), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, STRICT, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 0, P_FAILED, NETERR },
	{ 1, 1, D(NOT_PUBLISHED), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, OPP, ANY, ANY, ANY, PLAIN, S_PLAIN, 0, 0, 0, P_PLAIN, ANY },
	/* no answer to discovery: like "publishes nothing", and walk again later */
	{ 1, 1, D(UNREACHABLE), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, NETERR },
	{ 1, 1, D(UNREACHABLE), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, STRICT, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, NETERR },
	{ 1, 1, D(UNREACHABLE), ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY, OPP, ANY, ANY, ANY, PLAIN, S_PLAIN, 0, 0, 1, P_PLAIN, ANY },
	/* validation failed: an attack where an anchor applies, else "broken" */
	{ 1, 1, D(BOGUS) | D(FAILED), ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, BOGUS },
	{ 1, 1, D(BOGUS) | D(FAILED), ANY, 0, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0, 0, P_REFUSED, BOGUS },
	{ 1, 1, D(BOGUS) | D(FAILED), ANY, 1, 0, ANY, ANY, ANY, ANY, ANY, STRICT, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 0, P_FAILED, NETERR },
	{ 1, 1, D(BOGUS) | D(FAILED), ANY, 1, 0, ANY, ANY, ANY, ANY, ANY, OPP, ANY, ANY, ANY, PLAIN, S_PLAIN, 0, 0, 0, P_PLAIN, ANY },
	/* the walk could not run */
	{ 1, 1, D(ERROR), ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, SERVFAIL, S_FAIL, 0, 0, 1, P_FAILED, OTHER },
};
#define NROWS (sizeof(table) / sizeof(table[0]))

static bool field_matches(int want, int have)
{
	return want == ANY || want == have;
}

static bool is_known(const struct trust_policy_input *in)
{
	return in->match != TRUST_MATCH_NONE;
}

static bool row_matches(const struct row *r, const struct trust_policy_input *in)
{
	return field_matches(r->res, in->have_resolver) && field_matches(r->route, in->have_route) &&
	       (r->disc & (1u << in->discovery)) && field_matches(r->wait, in->wait_expired) &&
	       field_matches(r->first, in->first_use) && field_matches(r->known, is_known(in)) &&
	       field_matches(r->stored, in->stored && in->match == TRUST_MATCH_EXACT) &&
	       field_matches(r->pinned, in->match == TRUST_MATCH_NONE ? (int)in->pinned_addr
								: PIN_NONE) &&
	       field_matches(r->obs, (int)in->observed) && field_matches(r->dane, in->dane_failed) &&
	       field_matches(r->tofu, (int)in->tofu) &&
	       field_matches(r->unk, (int)in->unknown) &&
	       field_matches(r->transp, in->transparent) &&
	       field_matches(r->prefer, in->prefer_upstream) &&
	       field_matches(r->unreach, in->dot_unreachable);
}

/* A hotspot sign-on a user asked for on this link: plain DNS instead of
 * SERVFAIL or waiting, on an unknown network only. */
static void hotspot_rule(const struct trust_policy_input *in, int *action, int *service,
			 int *posture)
{
	if (in->hotspot != TRUST_HOTSPOT_THIS_LINK || is_known(in) || !in->have_resolver ||
	    !in->have_route || (in->designated == TRUST_DESIG_PIN_CHANGED && *action == REFUSE) ||
	    (*service != S_FAIL && *service != S_WAIT))
		return;
	*service = S_PLAIN;
	if (*action == SERVFAIL)
		*action = PLAIN;
	*posture = *action == WAIT		     ? P_PENDING
		   : in->discovery == TRUST_DISC_RUNNING || *action == DISCOVER ||
			     *action == FIRST_USE || *action == PROBE ? P_DISC
						  : P_PLAIN;
}

/* Designated resolvers (DDR, DNR) come after resolver-name.arpa: where a
 * walk that ran leaves an unknown network with plain DNS, or with SERVFAIL
 * only because unknown networks are strict (no alert, no refusal, nothing
 * pending), a verified designated resolver gives authenticated DoT; an
 * opportunistic one gives unauthenticated DoT where plain DNS was allowed,
 * except on a network made to look new at a pinned resolver's address. */
static void designated_rule(const struct trust_policy_input *in, int *action, int *service,
			    int *retry, int *posture, int *alert, int *ede)
{
	unsigned walked = D(OK) | D(NOT_PUBLISHED) | D(UNREACHABLE) | D(BOGUS) | D(FAILED);

	if (!in->have_resolver || !in->have_route || is_known(in) ||
	    !(walked & (1u << in->discovery)) || *alert ||
	    (*action != PLAIN && *action != SERVFAIL))
		return;
	/* a known anchor the network's resolver publishes itself keeps it
	 * strict under that anchor */
	if (in->discovery == TRUST_DISC_OK && !(in->transparent && !in->prefer_upstream) &&
	    (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED))
		return;
	/* a key pinned for this network: it authenticates the designated
	 * resolver wherever a verified one would be used; another key is
	 * refused with an alert, never plain DNS, unless its certificate
	 * verifies as a verified one's must (renewed: used as verified) */
	if (in->designated == TRUST_DESIG_PIN_CHANGED) {
		*action = REFUSE;
		*service = S_FAIL;
		*posture = P_REFUSED;
		*alert = 1;
		*ede = DNS_EDE_PROHIBITED;
		*retry = 0;
		return;
	}
	if (in->designated == TRUST_DESIG_VERIFIED || in->designated == TRUST_DESIG_PINNED ||
	    in->designated == TRUST_DESIG_PIN_RENEWED) {
		*action = USE_DESIG;
		*posture = P_DOT;
	} else if (in->designated == TRUST_DESIG_OPPORTUNISTIC && *action == PLAIN &&
		   in->pinned_addr != TRUST_PINNED_FAILED) {
		*action = USE_OPP;
		*posture = P_DOT_UNAUTH;
	} else {
		return;
	}
	*service = S_DOT;
	*retry = 0;
}

/* DoT to a pinned resolver's address failed on a network that looks new:
 * anything but DoT (or waiting) raises an alert. */
static void lookalike_rule(const struct trust_policy_input *in, int service, int *alert)
{
	if (in->match == TRUST_MATCH_NONE && in->pinned_addr == TRUST_PINNED_FAILED &&
	    service != S_DOT && service != S_WAIT)
		*alert = 1;
}

/* What must hold whatever the table says. */
static void check_invariants(const struct trust_policy_input *in, const struct trust_decision *d)
{
	bool dot_action = d->action == TRUST_ACT_USE || d->action == TRUST_ACT_PIN_AND_USE ||
			  d->action == TRUST_ACT_USE_STORED ||
			  d->action == TRUST_ACT_USE_DESIGNATED ||
			  d->action == TRUST_ACT_USE_OPPORTUNISTIC;
	bool hotspot_here = in->hotspot == TRUST_HOTSPOT_THIS_LINK;

	assert_non_null(d->reason);
	assert_true(strlen(d->reason) > 10);
	assert_string_not_equal(trust_action_name(d->action), "?");
	assert_string_not_equal(trust_service_name(d->service), "?");
	assert_string_not_equal(trust_posture_name(d->posture), "?");
	assert_int_equal(dot_action, d->service == TRUST_SERVICE_DOT);
	assert_int_equal(d->service == TRUST_SERVICE_DOT, d->posture == TRUST_POSTURE_DOT ||
							   d->posture == TRUST_POSTURE_DOT_UNAUTH);
	/* unauthenticated DoT is shown as such, never as authenticated, and
	 * only where plain DNS would be allowed: an unknown network in
	 * opportunistic mode, to a resolver that answered only so */
	assert_int_equal(d->posture == TRUST_POSTURE_DOT_UNAUTH,
			 d->action == TRUST_ACT_USE_OPPORTUNISTIC);
	if (d->action == TRUST_ACT_USE_OPPORTUNISTIC)
		assert_true(!is_known(in) && in->unknown == TRUST_UNKNOWN_OPPORTUNISTIC &&
			    in->designated == TRUST_DESIG_OPPORTUNISTIC);
	if (d->action == TRUST_ACT_USE_DESIGNATED)
		assert_true(!is_known(in) && (in->designated == TRUST_DESIG_VERIFIED ||
					      in->designated == TRUST_DESIG_PINNED ||
					      in->designated == TRUST_DESIG_PIN_RENEWED));
	/* a designated resolver with another key than the one pinned for the
	 * network: never DoT to it, never plain DNS */
	if (in->designated == TRUST_DESIG_PIN_CHANGED &&
	    d->action != TRUST_ACT_DISCOVER && d->action != TRUST_ACT_DISCOVER_FIRST_USE &&
	    d->action != TRUST_ACT_NONE && d->action != TRUST_ACT_PROBE_PINNED)
		assert_int_not_equal(d->action, TRUST_ACT_USE_DESIGNATED);
	/* a known network never gets plain DNS, nor does one with a designated
	 * resolver's key pinned, unless a user signed on to a hotspot there */
	if (is_known(in))
		assert_int_not_equal(d->service, TRUST_SERVICE_PLAIN);
	if (in->designated == TRUST_DESIG_PIN_ABSENT && !hotspot_here)
		assert_int_not_equal(d->service, TRUST_SERVICE_PLAIN);
	/* strict never gets plain DNS, unless a user signed on to a hotspot
	 * on this very link */
	if (in->unknown == TRUST_UNKNOWN_STRICT && !hotspot_here)
		assert_int_not_equal(d->service, TRUST_SERVICE_PLAIN);
	/* plain DNS only ever goes to the network's own announced resolver */
	if (d->service == TRUST_SERVICE_PLAIN) {
		assert_int_equal(d->target, TRUST_TARGET_NETWORK_RESOLVER);
		assert_true(in->have_resolver);
	} else if (d->service == TRUST_SERVICE_DOT) {
		assert_true(d->target == TRUST_TARGET_DISCOVERED || d->target == TRUST_TARGET_STORED);
	} else {
		assert_int_equal(d->target, TRUST_TARGET_NONE);
	}
	/* every refusal has an alert and an EDE; every SERVFAIL explains itself */
	if (d->action == TRUST_ACT_REFUSE) {
		assert_true(d->alert);
		assert_true(d->ede == DNS_EDE_PROHIBITED || d->ede == DNS_EDE_DNSSEC_BOGUS ||
			    d->ede == DNS_EDE_NETWORK_ERROR);
	}
	if (d->service == TRUST_SERVICE_SERVFAIL || d->service == TRUST_SERVICE_WAIT)
		assert_true(d->ede >= 0 && d->ede <= 24);
	/* an alert never comes with using what raised it */
	if (d->alert)
		assert_int_not_equal(d->service, TRUST_SERVICE_DOT);
	/* DoT is authenticated by a known anchor, a fresh TOFU pin on an
	 * unknown network, or what was stored for this very network */
	if (d->service == TRUST_SERVICE_DOT)
		assert_true(!(in->discovery == TRUST_DISC_OK && in->dane_failed) &&
			    ((in->discovery == TRUST_DISC_OK &&
			     (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED)) ||
			    (in->discovery == TRUST_DISC_OK && in->observed == TRUST_OBS_UNKNOWN &&
			     in->tofu == TRUST_TOFU_AUTO && !is_known(in)) ||
			    (in->discovery == TRUST_DISC_NONE && in->stored &&
			     in->match == TRUST_MATCH_EXACT && !in->dane_failed) ||
			    (in->discovery == TRUST_DISC_NONE && in->match == TRUST_MATCH_NONE &&
			     in->pinned_addr == TRUST_PINNED_AUTHENTICATED) ||
			    (d->action == TRUST_ACT_USE_DESIGNATED &&
			     (in->designated == TRUST_DESIG_VERIFIED ||
			      in->designated == TRUST_DESIG_PINNED ||
			      in->designated == TRUST_DESIG_PIN_RENEWED)) ||
			    d->action == TRUST_ACT_USE_OPPORTUNISTIC));
	/* a network made to look new at a pinned resolver's address never
	 * gets plain DNS or SERVFAIL quietly */
	if (in->match == TRUST_MATCH_NONE && in->pinned_addr == TRUST_PINNED_FAILED &&
	    (d->service == TRUST_SERVICE_PLAIN || d->service == TRUST_SERVICE_SERVFAIL))
		assert_true(d->alert);
	/* no route: an answer at once, never a wait */
	if (in->have_resolver && !in->have_route)
		assert_int_equal(d->service, TRUST_SERVICE_SERVFAIL);
	/* an unknown anchor is pinned only on an unknown network */
	if (in->observed == TRUST_OBS_UNKNOWN && is_known(in))
		assert_true(d->action != TRUST_ACT_PIN_AND_USE && d->action != TRUST_ACT_PIN_PENDING);
	/* tofu off never pins */
	if (in->tofu == TRUST_TOFU_OFF)
		assert_int_not_equal(d->action, TRUST_ACT_PIN_AND_USE);
	/* a known anchor is used whenever the network's resolver publishes it
	 * (not a transparent forwarder's pass-through, unless preferred) and
	 * the resolver it describes answers DoT */
	if (in->have_resolver && in->have_route && in->discovery == TRUST_DISC_OK &&
	    !in->dane_failed && (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED) &&
	    !(in->transparent && !in->prefer_upstream) && !in->dot_unreachable)
		assert_int_equal(d->action, TRUST_ACT_USE);
	/* a revoked anchor is never used */
	if (in->discovery == TRUST_DISC_OK && in->observed == TRUST_OBS_REVOKED)
		assert_int_not_equal(d->service, TRUST_SERVICE_DOT);
	/* a transparent forwarder's upstream is used directly only when the
	 * user prefers it, and a resolver that does not answer DoT never is */
	if (in->discovery == TRUST_DISC_OK &&
	    ((in->transparent && !in->prefer_upstream) || in->dot_unreachable))
		assert_true(d->action != TRUST_ACT_USE && d->action != TRUST_ACT_PIN_AND_USE);
	/* an unreachable DoT upstream on an unknown network with nothing
	 * pinned never leaves an opportunistic user without DNS */
	if (in->have_resolver && in->have_route && in->discovery == TRUST_DISC_OK &&
	    in->dot_unreachable && !is_known(in) && !in->dane_failed &&
	    in->designated != TRUST_DESIG_PIN_CHANGED && in->designated != TRUST_DESIG_PIN_ABSENT &&
	    in->unknown == TRUST_UNKNOWN_OPPORTUNISTIC && in->observed != TRUST_OBS_TRUSTED &&
	    in->observed != TRUST_OBS_MANAGED)
		assert_true(d->service == TRUST_SERVICE_PLAIN ||
			    d->action == TRUST_ACT_USE_DESIGNATED ||
			    d->action == TRUST_ACT_USE_OPPORTUNISTIC);
}

static void decide(const struct trust_policy_input *in, struct trust_decision *d)
{
	memset(d, 0xa5, sizeof(*d));
	trust_policy_decide(in, d);
}

static void test_exhaustive(void **state)
{
	unsigned used[NROWS] = { 0 }, combos = 0;
	struct trust_policy_input in;

	/* every combination of every input */
	for (int res = 0; res < 2; res++)
	for (int route = 0; route < 2; route++)
	for (int disc = 0; disc < TRUST_DISC_COUNT; disc++)
	for (int wait = 0; wait < 2; wait++)
	for (int first = 0; first < 2; first++)
	for (int match = 0; match < TRUST_MATCH_COUNT; match++)
	for (int stored = 0; stored < 2; stored++)
	for (int pinned = 0; pinned < TRUST_PINNED_COUNT; pinned++)
	for (int obs = TRUST_OBS_UNKNOWN; obs <= TRUST_OBS_REVOKED; obs++)
	for (int dane = 0; dane < 2; dane++)
	for (int tofu = TRUST_TOFU_AUTO; tofu <= TRUST_TOFU_OFF; tofu++)
	for (int unk = OPP; unk <= STRICT; unk++)
	for (int hot = 0; hot < TRUST_HOTSPOT_COUNT; hot++)
	for (int fwd = 0; fwd < 8; fwd++)
	for (int desig = 0; desig < TRUST_DESIG_COUNT; desig++) {
		struct trust_policy_input row_in;
		struct trust_decision d, without;
		int action, service, posture, alert, retry, ede;
		size_t i;

		memset(&in, 0, sizeof(in));
		in.have_resolver = res;
		in.have_route = route;
		in.discovery = (enum trust_discovery)disc;
		in.wait_expired = wait;
		in.first_use = first;
		in.match = (enum trust_match)match;
		in.stored = stored;
		in.pinned_addr = (enum trust_pinned_addr)pinned;
		in.observed = (enum trust_observed)obs;
		in.dane_failed = dane;
		in.tofu = (enum trust_tofu)tofu;
		in.unknown = (enum trust_unknown_mode)unk;
		in.hotspot = (enum trust_hotspot)hot;
		in.transparent = fwd & 1;
		in.prefer_upstream = fwd & 2;
		in.dot_unreachable = fwd & 4;
		in.designated = (enum trust_designated)desig;
		decide(&in, &d);
		/* a network with a designated resolver's key pinned, and no
		 * designated resolver answering: as unknown networks are
		 * when strict */
		row_in = in;
		if (in.designated == TRUST_DESIG_PIN_ABSENT)
			row_in.unknown = TRUST_UNKNOWN_STRICT;
		for (i = 0; i < NROWS; i++)
			if (row_matches(&table[i], &row_in))
				break;
		if (i == NROWS)
			fail_msg("no row for res=%d route=%d disc=%s wait=%d first=%d match=%s "
				 "stored=%d obs=%d tofu=%d unk=%d",
				 res, route, trust_discovery_name(in.discovery), wait, first,
				 trust_match_name(in.match), stored, obs, tofu, unk);
		used[i]++;
		combos++;
		action = table[i].action;
		service = table[i].service;
		posture = table[i].posture;
		alert = table[i].alert;
		retry = table[i].retry;
		ede = table[i].ede;
		designated_rule(&in, &action, &service, &retry, &posture, &alert, &ede);
		hotspot_rule(&in, &action, &service, &posture);
		lookalike_rule(&in, service, &alert);
		if ((int)d.action != action || (int)d.service != service ||
		    d.alert != alert || d.record_pending != table[i].record ||
		    d.retry != retry || (int)d.posture != posture ||
		    !field_matches(service == S_PLAIN || service == S_DOT ? ANY : ede, d.ede))
			fail_msg("row %zu, res=%d route=%d disc=%s wait=%d first=%d match=%s "
				 "stored=%d pinned=%s obs=%d dane=%d tofu=%d unk=%d hotspot=%d transparent=%d "
				 "prefer=%d unreachable=%d designated=%s: got %s/%s/alert %d/"
				 "record %d/retry %d/%s/ede %d (%s)",
				 i, res, route, trust_discovery_name(in.discovery), wait, first,
				 trust_match_name(in.match), stored,
				 trust_pinned_addr_name(in.pinned_addr), obs, dane, tofu, unk, hot,
				 in.transparent, in.prefer_upstream, in.dot_unreachable,
				 trust_designated_name(in.designated), trust_action_name(d.action), trust_service_name(d.service), d.alert,
				 d.record_pending, d.retry, trust_posture_name(d.posture), d.ede,
				 d.reason);
		check_invariants(&in, &d);
		/* a sign-on for another link changes nothing here */
		if (hot == TRUST_HOTSPOT_OTHER_LINK) {
			in.hotspot = TRUST_HOTSPOT_NONE;
			decide(&in, &without);
			assert_int_equal(d.action, without.action);
			assert_int_equal(d.service, without.service);
		}
	}
	assert_int_equal(combos, 2 * 2 * TRUST_DISC_COUNT * 2 * 2 * TRUST_MATCH_COUNT * 2 *
					 TRUST_PINNED_COUNT * 5 * 2 * 3 * 2 * TRUST_HOTSPOT_COUNT * 8 *
					 TRUST_DESIG_COUNT);
	for (size_t i = 0; i < NROWS; i++)
		if (!used[i])
			fail_msg("table row %zu never applies", i);
}

static struct trust_policy_input walked(enum trust_discovery disc)
{
	struct trust_policy_input in = { .tofu = TRUST_TOFU_AUTO, .have_resolver = true,
					 .have_route = true, .discovery = disc };
	return in;
}

/* A few cases spelt out, as a reader of doc/DESIGN.md would state them. */
static void test_named_cases(void **state)
{
	struct trust_decision d;
	struct trust_policy_input in = walked(TRUST_DISC_OK);

	/* first use, tofu auto: pin and go */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PIN_AND_USE);
	/* the same network later, anchor swapped for an unknown one: red flag */
	in.match = TRUST_MATCH_EXACT;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_REFUSE);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	assert_true(d.alert);
	assert_non_null(strstr(d.reason, "approve"));
	assert_true(d.record_pending); /* so that approve can find it */
	/* the same network, resolver-name.arpa stripped: no downgrade */
	in.discovery = TRUST_DISC_NOT_PUBLISHED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_SERVFAIL);
	assert_true(d.alert);
	/* a café without resolver-name.arpa: plain, said so */
	in.match = TRUST_MATCH_NONE;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PLAIN);
	assert_non_null(strstr(d.reason, "plain"));
	/* a franchise's known anchor on a new network: strict DoT */
	in.discovery = TRUST_DISC_OK;
	in.observed = TRUST_OBS_TRUSTED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE);
	/* a known network comes back: stored DoT at once, no walk */
	in = walked(TRUST_DISC_NONE);
	in.match = TRUST_MATCH_EXACT;
	in.stored = true;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE_STORED);
	assert_int_equal(d.target, TRUST_TARGET_STORED);
	/* an impostor gateway with the stored data: walk, never the store */
	in.match = TRUST_MATCH_IMPOSTOR;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_DISCOVER);
	/* discovery is slow on a café network: plain meanwhile, the walk goes on */
	in = walked(TRUST_DISC_RUNNING);
	in.wait_expired = true;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_NONE);
	assert_int_equal(d.service, TRUST_SERVICE_PLAIN);
	assert_int_equal(d.posture, TRUST_POSTURE_DISCOVERING);
	/* ... but never on a partly known one */
	in.match = TRUST_MATCH_PARTIAL;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	assert_int_equal(d.ede, DNS_EDE_NOT_READY);
	/* a hotel portal in strict mode: a sign-on gives plain DNS on that link */
	in = walked(TRUST_DISC_UNREACHABLE);
	in.unknown = TRUST_UNKNOWN_STRICT;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	in.hotspot = TRUST_HOTSPOT_THIS_LINK;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_PLAIN);
	assert_non_null(strstr(d.reason, "hotspot"));
	/* ... never on a pinned network */
	in.match = TRUST_MATCH_EXACT;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	/* a look-alike: a new network at a pinned resolver's address */
	in = walked(TRUST_DISC_NONE);
	in.pinned_addr = TRUST_PINNED_UNTRIED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PROBE_PINNED);
	in.pinned_addr = TRUST_PINNED_AUTHENTICATED; /* it is that resolver */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE_STORED);
	in.pinned_addr = TRUST_PINNED_FAILED;        /* it is not: walk, and ... */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_DISCOVER);
	in.discovery = TRUST_DISC_NOT_PUBLISHED;     /* ... plain DNS only with an alert */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_PLAIN);
	assert_true(d.alert);
	in.unknown = TRUST_UNKNOWN_STRICT;           /* strict: the defence */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	/* a home router passing its provider's publication through: the
	 * router's own resolver, in plain DNS, so printer.lan keeps working */
	in = walked(TRUST_DISC_OK);
	in.transparent = true;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_PLAIN);
	assert_non_null(strstr(d.reason, "transparent forwarder"));
	in.prefer_upstream = true;                   /* ... unless the user prefers */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PIN_AND_USE);
	in.dot_unreachable = true;                   /* ... and it answers DoT */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_PLAIN);
	assert_true(d.retry);
	in.observed = TRUST_OBS_TRUSTED;             /* a trusted anchor stays strict */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	assert_int_equal(d.ede, DNS_EDE_NO_REACHABLE_AUTHORITY);
	/* a café whose resolver publishes no resolver-name.arpa but designates
	 * itself over DDR, with a certificate naming its address: DoT,
	 * authenticated; strict mode takes it too */
	in = walked(TRUST_DISC_NOT_PUBLISHED);
	in.designated = TRUST_DESIG_VERIFIED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE_DESIGNATED);
	assert_int_equal(d.posture, TRUST_POSTURE_DOT);
	in.unknown = TRUST_UNKNOWN_STRICT;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE_DESIGNATED);
	/* a home router on a private address, no verifiable certificate:
	 * unauthenticated DoT where plain DNS would do, said so ... */
	in.designated = TRUST_DESIG_OPPORTUNISTIC;
	in.unknown = TRUST_UNKNOWN_OPPORTUNISTIC;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE_OPPORTUNISTIC);
	{
		/* its key, pinned on first use, authenticates it on later
		 * visits, strict too; another key there is refused, loudly,
		 * even under a hotspot sign-on */
		struct trust_policy_input p = in;

		p.designated = TRUST_DESIG_PINNED;
		p.unknown = TRUST_UNKNOWN_STRICT;
		trust_policy_decide(&p, &d);
		assert_int_equal(d.action, TRUST_ACT_USE_DESIGNATED);
		assert_int_equal(d.posture, TRUST_POSTURE_DOT);
		p.designated = TRUST_DESIG_PIN_CHANGED;
		p.unknown = TRUST_UNKNOWN_OPPORTUNISTIC;
		p.hotspot = TRUST_HOTSPOT_THIS_LINK;
		trust_policy_decide(&p, &d);
		assert_int_equal(d.action, TRUST_ACT_REFUSE);
		assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
		assert_int_equal(d.posture, TRUST_POSTURE_REFUSED);
		assert_true(d.alert);
		/* a new key whose certificate verifies (PKIX, as a verified
		 * designation's must): a renewal, used as a verified one is,
		 * strict too, no alert */
		p.designated = TRUST_DESIG_PIN_RENEWED;
		p.unknown = TRUST_UNKNOWN_STRICT;
		p.hotspot = TRUST_HOTSPOT_NONE;
		trust_policy_decide(&p, &d);
		assert_int_equal(d.action, TRUST_ACT_USE_DESIGNATED);
		assert_int_equal(d.posture, TRUST_POSTURE_DOT);
		assert_false(d.alert);
		assert_non_null(strstr(d.reason, "PKIX"));
		trust_policy_decide(&in, &d);
	}
	assert_int_equal(d.posture, TRUST_POSTURE_DOT_UNAUTH);
	assert_non_null(strstr(trust_posture_name(d.posture), "unauthenticated"));
	/* ... never in strict mode ... */
	in.unknown = TRUST_UNKNOWN_STRICT;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	/* ... and never where resolver-name.arpa is known */
	in = walked(TRUST_DISC_NOT_PUBLISHED);
	in.match = TRUST_MATCH_EXACT;
	in.designated = TRUST_DESIG_VERIFIED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_SERVFAIL);
	assert_true(d.alert);
	/* resolver-name.arpa first: a validated anchor wins over DDR */
	in = walked(TRUST_DISC_OK);
	in.designated = TRUST_DESIG_VERIFIED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PIN_AND_USE);
	/* observed_of maps the store's states */
	assert_int_equal(trust_observed_of(NULL), TRUST_OBS_UNKNOWN);
}

static void test_observed_of(void **state)
{
	struct trust_anchor a;

	memset(&a, 0, sizeof(a));
	a.state = TRUST_STATE_TRUSTED;
	assert_int_equal(trust_observed_of(&a), TRUST_OBS_TRUSTED);
	a.state = TRUST_STATE_PENDING;
	assert_int_equal(trust_observed_of(&a), TRUST_OBS_PENDING);
	a.state = TRUST_STATE_ADD_PENDING;
	assert_int_equal(trust_observed_of(&a), TRUST_OBS_PENDING);
	a.state = TRUST_STATE_MANAGED;
	assert_int_equal(trust_observed_of(&a), TRUST_OBS_MANAGED);
	a.state = TRUST_STATE_REVOKED;
	assert_int_equal(trust_observed_of(&a), TRUST_OBS_REVOKED);
}

/* The names are the tokens dotctl discover and the daemon's status print
 * (scripts match them): one word each, hyphens, no blanks. */
static void test_discovery_names(void **state)
{
	static const char *const want[TRUST_DISC_COUNT] = {
		[TRUST_DISC_NONE] = "none",
		[TRUST_DISC_RUNNING] = "running",
		[TRUST_DISC_OK] = "ok",
		[TRUST_DISC_NOT_PUBLISHED] = "not-published",
		[TRUST_DISC_UNREACHABLE] = "unreachable",
		[TRUST_DISC_ANCHOR_MISMATCH] = "anchor-mismatch",
		[TRUST_DISC_BOGUS] = "bogus",
		[TRUST_DISC_FAILED] = "failed",
		[TRUST_DISC_ERROR] = "error",
	};

	for (int i = 0; i < TRUST_DISC_COUNT; i++)
		assert_string_equal(trust_discovery_name((enum trust_discovery)i), want[i]);
	/* a zeroed verdict is not a success */
	assert_int_equal(TRUST_DISC_NONE, 0);
	assert_int_not_equal(TRUST_DISC_OK, 0);
}

static void test_candidate_ranking(void **state)
{
	/* id in sha256[0]; expected order is by id */
	struct trust_candidate c[] = {
		{ TRUST_OBS_REVOKED, 100, { 8 } },
		{ TRUST_OBS_UNKNOWN, 0, { 7 } },
		{ TRUST_OBS_TRUSTED, 300, { 3 } },
		{ TRUST_OBS_PENDING, 50, { 5 } },
		{ TRUST_OBS_MANAGED, 900, { 1 } },
		{ TRUST_OBS_TRUSTED, 200, { 2 } },
		{ TRUST_OBS_TRUSTED, 0, { 4 } },   /* age unknown: after the dated ones */
		{ TRUST_OBS_UNKNOWN, 0, { 6 } },   /* tie: by sha256 */
	};
	size_t n = sizeof(c) / sizeof(c[0]);

	qsort(c, n, sizeof(c[0]), trust_candidate_cmp);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].sha256[0], i + 1);
	assert_int_equal(trust_candidate_cmp(&c[2], &c[2]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_named_cases),
		cmocka_unit_test(test_observed_of),
		cmocka_unit_test(test_candidate_ranking),
		cmocka_unit_test(test_discovery_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
