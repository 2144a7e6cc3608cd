/*
 * test_policy.c -- the trust decision, checked exhaustively: every one of
 * the 240 input combinations against a table that restates doc/DESIGN.md
 * "Policy" independently of the code (first matching row wins), plus
 * invariants that must hold whatever the table says; and the ranking of
 * candidate anchors.
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
	USE = TRUST_ACT_USE,
	PIN = TRUST_ACT_PIN_AND_USE,
	WAIT = TRUST_ACT_PIN_PENDING,
	REFUSE = TRUST_ACT_REFUSE,
	PLAIN = TRUST_ACT_PLAIN,
	SERVFAIL = TRUST_ACT_SERVFAIL,
};
enum { S_DOT = TRUST_SERVICE_DOT, S_PLAIN = TRUST_SERVICE_PLAIN, S_FAIL = TRUST_SERVICE_SERVFAIL };

struct row {
	int published, observed, known, differs, tofu, unknown; /* inputs or ANY */
	int action, service, alert, record;                      /* expected */
};

static const struct row table[] = {
	/* published obs known differs tofu unknown -> action service alert record */
	/* a revoked anchor is never used */
	{ 1, REV, 1, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 0 },
	{ 1, REV, 0, ANY, ANY, STRICT, REFUSE, S_FAIL, 1, 0 },
	{ 1, REV, 0, ANY, ANY, OPP, REFUSE, S_PLAIN, 1, 0 },
	/* no resolver-name.arpa: a known network never downgrades */
	{ 0, ANY, 1, ANY, ANY, ANY, SERVFAIL, S_FAIL, 1, 0 },
	{ 0, ANY, 0, ANY, ANY, STRICT, SERVFAIL, S_FAIL, 0, 0 },
	{ 0, ANY, 0, ANY, ANY, OPP, PLAIN, S_PLAIN, 0, 0 },
	/* a known anchor: strict, always */
	{ 1, TRU, ANY, ANY, ANY, ANY, USE, S_DOT, 0, 0 },
	{ 1, MAN, ANY, ANY, ANY, ANY, USE, S_DOT, 0, 0 },
	/* a new, different anchor on a known network: never adopted */
	{ 1, UNK, 1, ANY, ANY, ANY, REFUSE, S_FAIL, 1, 1 },
	{ 1, PEN, 1, 1, ANY, ANY, REFUSE, S_FAIL, 1, 1 },
	/* pending approval */
	{ 1, PEN, 1, 0, ANY, ANY, WAIT, S_FAIL, 0, 1 },
	{ 1, PEN, 0, ANY, ANY, STRICT, WAIT, S_FAIL, 0, 1 },
	{ 1, PEN, 0, ANY, ANY, OPP, WAIT, S_PLAIN, 0, 1 },
	/* first use on an unknown network */
	{ 1, UNK, 0, ANY, AUTO, ANY, PIN, S_DOT, 0, 0 },
	{ 1, UNK, 0, ANY, ASK, STRICT, WAIT, S_FAIL, 0, 1 },
	{ 1, UNK, 0, ANY, ASK, OPP, WAIT, S_PLAIN, 0, 1 },
	{ 1, UNK, 0, ANY, OFF, STRICT, REFUSE, S_FAIL, 1, 0 },
	{ 1, UNK, 0, ANY, OFF, OPP, REFUSE, S_PLAIN, 1, 0 },
};
#define NROWS (sizeof(table) / sizeof(table[0]))

static bool field_matches(int want, int have)
{
	return want == ANY || want == have;
}

static bool row_matches(const struct row *r, const struct trust_policy_input *in)
{
	return field_matches(r->published, in->published) &&
	       field_matches(r->observed, (int)in->observed) &&
	       field_matches(r->known, in->network_known) &&
	       field_matches(r->differs, in->anchor_differs) &&
	       field_matches(r->tofu, (int)in->tofu) && field_matches(r->unknown, (int)in->unknown);
}

static void check_invariants(const struct trust_policy_input *in, const struct trust_decision *d)
{
	bool dot = d->action == TRUST_ACT_USE || d->action == TRUST_ACT_PIN_AND_USE;

	assert_non_null(d->reason);
	assert_true(strlen(d->reason) > 10);
	assert_int_equal(dot, d->service == TRUST_SERVICE_DOT);
	if (d->action == TRUST_ACT_REFUSE)
		assert_true(d->alert);
	/* a known network never gets plain DNS */
	if (in->network_known)
		assert_int_not_equal(d->service, TRUST_SERVICE_PLAIN);
	/* strict unknown-network mode never gets plain DNS either */
	if (in->unknown == TRUST_UNKNOWN_STRICT)
		assert_int_not_equal(d->service, TRUST_SERVICE_PLAIN);
	/* an unknown anchor is pinned only on an unknown network */
	if (in->observed == TRUST_OBS_UNKNOWN && in->network_known)
		assert_true(d->action != TRUST_ACT_PIN_AND_USE && d->action != TRUST_ACT_PIN_PENDING);
	/* tofu off never pins */
	if (in->tofu == TRUST_TOFU_OFF)
		assert_int_not_equal(d->action, TRUST_ACT_PIN_AND_USE);
	/* a known anchor is used whenever the network publishes */
	if (in->published && (in->observed == TRUST_OBS_TRUSTED || in->observed == TRUST_OBS_MANAGED))
		assert_int_equal(d->action, TRUST_ACT_USE);
}

static void test_exhaustive(void **state)
{
	unsigned used[NROWS] = { 0 }, combos = 0;

	for (int pub = 0; pub < 2; pub++)
	for (int obs = TRUST_OBS_UNKNOWN; obs <= TRUST_OBS_REVOKED; obs++)
	for (int known = 0; known < 2; known++)
	for (int differs = 0; differs < 2; differs++)
	for (int tofu = TRUST_TOFU_AUTO; tofu <= TRUST_TOFU_OFF; tofu++)
	for (int unk = OPP; unk <= STRICT; unk++) {
		struct trust_policy_input in = {
			.tofu = (enum trust_tofu)tofu,
			.unknown = (enum trust_unknown_mode)unk,
			.published = pub,
			.observed = (enum trust_observed)obs,
			.network_known = known,
			.anchor_differs = differs,
		};
		struct trust_decision d;
		size_t i;

		memset(&d, 0xa5, sizeof(d));
		trust_policy_decide(&in, &d);
		for (i = 0; i < NROWS; i++)
			if (row_matches(&table[i], &in))
				break;
		if (i == NROWS)
			fail_msg("no row for pub=%d obs=%d known=%d differs=%d tofu=%d unk=%d", pub,
				 obs, known, differs, tofu, unk);
		used[i]++;
		combos++;
		if ((int)d.action != table[i].action || (int)d.service != table[i].service ||
		    d.alert != table[i].alert || d.record_pending != table[i].record)
			fail_msg("row %zu, pub=%d obs=%d known=%d differs=%d tofu=%d unk=%d: got "
				 "%s/%s/%d/%d (%s)",
				 i, pub, obs, known, differs, tofu, unk, trust_action_name(d.action),
				 trust_service_name(d.service), d.alert, d.record_pending, d.reason);
		check_invariants(&in, &d);
	}
	assert_int_equal(combos, 240);
	for (size_t i = 0; i < NROWS; i++)
		if (!used[i])
			fail_msg("table row %zu never applies", i);
}

/* A few cases spelt out, as a reader of doc/DESIGN.md would state them. */
static void test_named_cases(void **state)
{
	struct trust_decision d;
	struct trust_policy_input in = { .tofu = TRUST_TOFU_AUTO, .published = true };

	/* first use, tofu auto: pin and go */
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PIN_AND_USE);
	/* the same network later, anchor swapped for an unknown one: red flag */
	in.network_known = true;
	in.anchor_differs = true;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_REFUSE);
	assert_int_equal(d.service, TRUST_SERVICE_SERVFAIL);
	assert_true(d.alert);
	assert_non_null(strstr(d.reason, "approve"));
	assert_true(d.record_pending); /* so that approve can find it */
	/* the same network, resolver-name.arpa stripped: no downgrade */
	in.published = false;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_SERVFAIL);
	assert_true(d.alert);
	/* a café without resolver-name.arpa: plain, said so */
	in.network_known = false;
	in.anchor_differs = false;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_PLAIN);
	assert_non_null(strstr(d.reason, "plain"));
	/* a franchise's known anchor on a new network: strict DoT */
	in.published = true;
	in.observed = TRUST_OBS_TRUSTED;
	trust_policy_decide(&in, &d);
	assert_int_equal(d.action, TRUST_ACT_USE);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
