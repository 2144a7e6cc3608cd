/*
 * test_rfc5011.c -- RFC 5011 rollover of the resolver-name.arpa KSK with a
 * fake clock and a hold-down of seconds: add-pending, promotion after the
 * hold-down, removal of a vanished new key, revocation, the "never zero
 * trusted keys" rule, the probe schedule, and the same on the store
 * (scoped to one operator's trust point, and persisted).
 */
#include <errno.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dotstub/trust.h"

#define ZONE "resolver-name.arpa."
#define T0 1714557600
#define HOLD 30 /* seconds, for the tests */
#define CAP 8

static struct trust_dnskey mkkey(unsigned n)
{
	struct trust_dnskey k;

	memset(&k, 0, sizeof(k));
	k.flags = TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP;
	k.protocol = 3;
	k.algorithm = 15;
	k.keylen = 32;
	memset(k.key, (int)n, 32);
	return k;
}

static struct trust_dnskey revoked(struct trust_dnskey k)
{
	k.flags |= TRUST_DNSKEY_REVOKE;
	return k;
}

/* One observation: up to 4 keys with their signer flags. */
struct obs {
	struct trust_dnskey keys[4];
	bool signer[4];
	struct trust_5011_obs o;
};

static const struct trust_5011_obs *mkobs(struct obs *b, time_t now, uint32_t ttl, size_t n,
					  const struct trust_dnskey *keys, const bool *signer)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->keys, keys, n * sizeof(keys[0]));
	memcpy(b->signer, signer, n * sizeof(signer[0]));
	b->o.keys = b->keys;
	b->o.signer = b->signer;
	b->o.nkeys = n;
	b->o.orig_ttl = ttl;
	b->o.now = now;
	return &b->o;
}

struct tp {
	struct trust_5011_key keys[CAP];
	size_t n;
};

static void tp_init(struct tp *tp, struct trust_dnskey k)
{
	memset(tp, 0, sizeof(*tp));
	tp->keys[0].key = k;
	tp->keys[0].state = TRUST_STATE_TRUSTED;
	tp->keys[0].last_seen = T0;
	tp->n = 1;
}

static int tp_find(const struct tp *tp, struct trust_dnskey k)
{
	for (size_t i = 0; i < tp->n; i++)
		if (trust_dnskey_same_key(&tp->keys[i].key, &k))
			return (int)tp->keys[i].state;
	return -1;
}

static unsigned count_trusted(const struct tp *tp)
{
	unsigned c = 0;

	for (size_t i = 0; i < tp->n; i++)
		c += tp->keys[i].state == TRUST_STATE_TRUSTED ||
		     tp->keys[i].state == TRUST_STATE_MANAGED;
	return c;
}

static int step(struct tp *tp, time_t now, size_t n, const struct trust_dnskey *keys,
		const bool *signer, unsigned *changes)
{
	struct obs b;

	return trust_5011_update(tp->keys, &tp->n, CAP, mkobs(&b, now, 60, n, keys, signer), HOLD,
				 changes);
}

static void test_add_then_promote(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	const struct trust_dnskey set[] = { k1, k2 };
	const bool sig[] = { true, false };
	struct tp tp;
	unsigned ch;

	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 2, set, sig, &ch), 0);
	assert_int_equal(ch, TRUST_5011_ADDED | TRUST_5011_SEEN);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_ADD_PENDING);
	assert_int_equal(tp.keys[1].add_pending_since, T0);
	/* still there, hold-down (max(HOLD, ttl 60) = 60) not over */
	assert_int_equal(step(&tp, T0 + 59, 2, set, sig, &ch), 0);
	assert_int_equal(ch, TRUST_5011_SEEN);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_ADD_PENDING);
	/* after the hold-down, still seen: trusted */
	assert_int_equal(step(&tp, T0 + 60, 2, set, sig, &ch), 0);
	assert_int_equal(ch, TRUST_5011_PROMOTED | TRUST_5011_SEEN);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_TRUSTED);
	assert_int_equal(count_trusted(&tp), 2);
}

static void test_holddown_not_shortened(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	const struct trust_dnskey set[] = { k1, k2 };
	const bool sig[] = { true, false };
	struct tp tp;
	struct obs b;

	/* the configured hold-down wins over a shorter TTL */
	tp_init(&tp, k1);
	assert_int_equal(trust_5011_update(tp.keys, &tp.n, CAP, mkobs(&b, T0, 10, 2, set, sig),
					   TRUST_5011_HOLDDOWN_DEFAULT, NULL),
			 0);
	assert_int_equal(trust_5011_update(tp.keys, &tp.n, CAP,
					   mkobs(&b, T0 + 29 * 86400, 10, 2, set, sig),
					   TRUST_5011_HOLDDOWN_DEFAULT, NULL),
			 0);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_ADD_PENDING);
	assert_int_equal(trust_5011_update(tp.keys, &tp.n, CAP,
					   mkobs(&b, T0 + 30 * 86400, 10, 2, set, sig),
					   TRUST_5011_HOLDDOWN_DEFAULT, NULL),
			 0);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_TRUSTED);
}

static void test_vanished_before_holddown(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	const struct trust_dnskey set[] = { k1, k2 }, only1[] = { k1 };
	const bool sig[] = { true, false };
	struct tp tp;
	unsigned ch;

	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 2, set, sig, NULL), 0);
	assert_int_equal(step(&tp, T0 + 10, 1, only1, sig, &ch), 0);
	assert_true(ch & TRUST_5011_REMOVED);
	assert_int_equal(tp_find(&tp, k2), -1);
	assert_int_equal(tp.n, 1);
	/* it comes back: a new hold-down starts */
	assert_int_equal(step(&tp, T0 + 100, 2, set, sig, &ch), 0);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_ADD_PENDING);
	assert_int_equal(step(&tp, T0 + 120, 2, set, sig, &ch), 0);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_ADD_PENDING);
}

static void test_not_validated(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2), k3 = mkkey(3);
	const struct trust_dnskey set[] = { k2, k3 };
	const bool sig[] = { true, true }; /* signed, but not by a trusted key */
	struct tp tp;
	unsigned ch = 99;

	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 2, set, sig, &ch), -EPERM);
	assert_int_equal(ch, 0);
	assert_int_equal(tp.n, 1);
	assert_int_equal(tp_find(&tp, k1), TRUST_STATE_TRUSTED); /* missing, still trusted */
	/* k1 present but not a signer: not validated either */
	{
		const struct trust_dnskey set2[] = { k1, k2 };
		const bool sig2[] = { false, true };

		assert_int_equal(step(&tp, T0, 2, set2, sig2, &ch), -EPERM);
		assert_int_equal(tp.n, 1);
	}
}

static void test_non_sep_ignored(void **state)
{
	struct trust_dnskey k1 = mkkey(1), zsk = mkkey(9);
	struct tp tp;
	unsigned ch;

	zsk.flags = TRUST_DNSKEY_ZONE; /* a ZSK */
	{
		const struct trust_dnskey set[] = { k1, zsk };
		const bool sig[] = { true, false };

		tp_init(&tp, k1);
		assert_int_equal(step(&tp, T0, 2, set, sig, &ch), 0);
		assert_int_equal(ch, TRUST_5011_SEEN);
		assert_int_equal(tp.n, 1);
	}
}

static void test_revoke(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	const struct trust_dnskey set[] = { k1, k2 };
	const bool sig[] = { true, false };
	struct tp tp;
	unsigned ch;

	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 2, set, sig, NULL), 0);
	assert_int_equal(step(&tp, T0 + 60, 2, set, sig, NULL), 0);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_TRUSTED);
	/* the old key is revoked, signed by itself (and the RRset by k2) */
	{
		const struct trust_dnskey rset[] = { revoked(k1), k2 };
		const bool rsig[] = { true, true };

		assert_int_equal(step(&tp, T0 + 100, 2, rset, rsig, &ch), 0);
		assert_true(ch & TRUST_5011_REVOKED);
		assert_int_equal(tp_find(&tp, k1), TRUST_STATE_REVOKED);
		assert_int_equal(count_trusted(&tp), 1);
	}
	/* the revoked key is never re-added, even unrevoked and signing */
	assert_int_equal(step(&tp, T0 + 200, 2, set, (const bool[]){ false, true }, &ch), 0);
	assert_int_equal(tp_find(&tp, k1), TRUST_STATE_REVOKED);
	assert_int_equal(step(&tp, T0 + 300, 2, set, (const bool[]){ true, false }, &ch), -EPERM);
}

static void test_revoke_needs_self_signature(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	const struct trust_dnskey rset[] = { revoked(k1), k2 };
	struct tp tp;
	unsigned ch;

	tp_init(&tp, k1);
	/* revoked flag, but the revoked key did not sign: not a revocation */
	assert_int_equal(step(&tp, T0, 2, rset, (const bool[]){ false, true }, &ch), -EPERM);
	assert_int_equal(tp_find(&tp, k1), TRUST_STATE_TRUSTED);
	assert_int_equal(ch, 0);
}

static void test_revoke_last_key(void **state)
{
	struct trust_dnskey k1 = mkkey(1);
	const struct trust_dnskey rset[] = { revoked(k1) };
	struct tp tp;
	unsigned ch;

	/* a valid revoke of the only key is the one way to zero trusted keys */
	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 1, rset, (const bool[]){ true }, &ch), -EPERM);
	assert_int_equal(ch, TRUST_5011_REVOKED);
	assert_int_equal(count_trusted(&tp), 0);
}

static void test_revoke_add_pending(void **state)
{
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	struct tp tp;
	unsigned ch;

	tp_init(&tp, k1);
	assert_int_equal(step(&tp, T0, 2, (const struct trust_dnskey[]){ k1, k2 },
			      (const bool[]){ true, false }, NULL),
			 0);
	assert_int_equal(step(&tp, T0 + 5, 2, (const struct trust_dnskey[]){ k1, revoked(k2) },
			      (const bool[]){ true, true }, &ch),
			 0);
	assert_true(ch & TRUST_5011_REVOKED);
	assert_int_equal(tp_find(&tp, k2), TRUST_STATE_REVOKED);
	assert_int_equal(count_trusted(&tp), 1);
}

static void test_cap(void **state)
{
	struct trust_dnskey k1 = mkkey(1);
	struct trust_5011_key keys[2];
	struct obs b;
	size_t n = 1;
	const struct trust_dnskey set[] = { k1, mkkey(2), mkkey(3) };
	const bool sig[] = { true, false, false };

	memset(keys, 0, sizeof(keys));
	keys[0].key = k1;
	keys[0].state = TRUST_STATE_TRUSTED;
	assert_int_equal(trust_5011_update(keys, &n, 2, mkobs(&b, T0, 60, 3, set, sig), HOLD, NULL),
			 -E2BIG);
	assert_int_equal(n, 1); /* nothing changed */
	assert_int_equal(keys[0].last_seen, 0);
}

/* A pseudo-random walk: whatever the RRsets, trusted keys only disappear
 * through a valid revocation. */
static void test_never_zero_trusted(void **state)
{
	struct trust_dnskey pool[4] = { mkkey(1), mkkey(2), mkkey(3), mkkey(4) };
	unsigned max_trusted = 0, revocations = 0, promotions = 0;
	uint32_t rnd = 12345;
	struct tp tp;

	tp_init(&tp, pool[0]);
	for (int i = 0; i < 20000; i++) {
		struct trust_dnskey set[4];
		bool sig[4];
		size_t n = 0;
		unsigned before = count_trusted(&tp), ch = 0;
		int r;

		for (int j = 0; j < 4; j++) {
			rnd = rnd * 1103515245u + 12345u;
			if (((rnd >> 16) & 7) == 0) /* mostly present */
				continue;
			set[n] = pool[j];
			if (((rnd >> 20) & 63) == 0) /* now and then revoked */
				set[n] = revoked(pool[j]);
			sig[n] = (rnd >> 27) & 1;
			n++;
		}
		r = step(&tp, T0 + i * 7, n, set, sig, &ch);
		assert_true(r == 0 || r == -EPERM || r == -E2BIG);
		if (count_trusted(&tp) < before)
			assert_true(ch & TRUST_5011_REVOKED);
		if (count_trusted(&tp) > max_trusted)
			max_trusted = count_trusted(&tp);
		revocations += !!(ch & TRUST_5011_REVOKED);
		promotions += !!(ch & TRUST_5011_PROMOTED);
		if (count_trusted(&tp) == 0)
			break; /* all revoked, validly: nothing can happen any more */
	}
	/* the walk did go through rollovers */
	assert_true(max_trusted >= 2);
	assert_true(promotions >= 1);
	assert_true(revocations >= 1);
}

static void test_probe_intervals(void **state)
{
	/* max(1 h, min(15 d, ttl/2, expiry/2)) */
	assert_int_equal(trust_5011_refresh_interval(86400, T0 + 30 * 86400, T0), 43200);
	assert_int_equal(trust_5011_refresh_interval(900, T0 + 30 * 86400, T0), 3600); /* 15 min TTL */
	assert_int_equal(trust_5011_refresh_interval(60 * 86400, T0 + 60 * 86400, T0), 15 * 86400);
	assert_int_equal(trust_5011_refresh_interval(86400, T0 + 4 * 3600, T0), 7200);
	assert_int_equal(trust_5011_refresh_interval(86400, T0 - 1, T0), 3600); /* expired */
	/* max(1 h, min(1 d, ttl/10, expiry/10)) */
	assert_int_equal(trust_5011_retry_interval(86400, T0 + 30 * 86400, T0), 8640);
	assert_int_equal(trust_5011_retry_interval(30 * 86400, T0 + 30 * 86400, T0), 86400);
	assert_int_equal(trust_5011_retry_interval(900, T0 + 30 * 86400, T0), 3600);
}

/* ---- on the store ---- */

static void test_store_rollover(void **state)
{
	struct trust_store *s = trust_store_new_memory(0);
	struct trust_dnskey a1 = mkkey(1), a2 = mkkey(2), b1 = mkkey(11), b2 = mkkey(12);
	const struct trust_anchor *a, *na, *nb;
	struct obs o;
	unsigned ch;

	/* two operators, same zone name */
	assert_int_equal(trust_store_pin(s, ZONE, &a1, TRUST_STATE_TRUSTED, T0, &a), 1);
	assert_int_equal(trust_store_seen_network(s, a, "net-a", T0), 0);
	assert_int_equal(trust_store_pin(s, ZONE, &b1, TRUST_STATE_TRUSTED, T0, NULL), 1);
	/* B introduces b2 */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 1, 60, 2,
						   (const struct trust_dnskey[]){ b1, b2 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_int_equal(ch, TRUST_5011_ADDED | TRUST_5011_SEEN);
	nb = trust_store_lookup(s, ZONE, &b2);
	assert_non_null(nb);
	assert_int_equal(nb->state, TRUST_STATE_ADD_PENDING);
	/* A introduces a2: B's add-pending key is not A's business */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 2, 60, 2,
						   (const struct trust_dnskey[]){ a1, a2 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_int_equal(trust_store_lookup(s, ZONE, &b2)->state, TRUST_STATE_ADD_PENDING);
	na = trust_store_lookup(s, ZONE, &a2);
	assert_non_null(na);
	assert_int_equal(na->first_seen, T0 + 2);
	/* B drops b2 before the hold-down: removed from the store */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 3, 60, 1, (const struct trust_dnskey[]){ b1 },
						   (const bool[]){ true }),
					     HOLD, &ch),
			 0);
	assert_true(ch & TRUST_5011_REMOVED);
	assert_null(trust_store_lookup(s, ZONE, &b2));
	assert_int_equal(trust_store_lookup(s, ZONE, &a2)->state, TRUST_STATE_ADD_PENDING);
	/* A: a2 promoted, then a1 revoked; what was learned under a1 stays */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 100, 60, 2,
						   (const struct trust_dnskey[]){ a1, a2 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_true(ch & TRUST_5011_PROMOTED);
	assert_true(trust_store_is_known(s, ZONE, &a2));
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 200, 60, 2,
						   (const struct trust_dnskey[]){ revoked(a1), a2 },
						   (const bool[]){ true, true }),
					     HOLD, &ch),
			 0);
	assert_true(ch & TRUST_5011_REVOKED);
	assert_false(trust_store_is_known(s, ZONE, &a1));
	assert_int_equal(a->state, TRUST_STATE_REVOKED);
	assert_ptr_equal(trust_store_find_network(s, "net-a", NULL), a);
	assert_true(trust_store_is_known(s, ZONE, &b1));
	trust_store_close(s);
}

static void test_store_swap_add_pending(void **state)
{
	struct trust_store *s = trust_store_new_memory(0);
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2), k3 = mkkey(3);
	struct obs o;
	unsigned ch;

	assert_int_equal(trust_store_pin(s, ZONE, &k1, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 1, 60, 2,
						   (const struct trust_dnskey[]){ k1, k2 },
						   (const bool[]){ true, false }),
					     HOLD, NULL),
			 0);
	/* k2 vanishes and k3 appears in the same RRset */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 2, 60, 2,
						   (const struct trust_dnskey[]){ k1, k3 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_int_equal(ch, TRUST_5011_REMOVED | TRUST_5011_ADDED | TRUST_5011_SEEN);
	assert_int_equal(trust_store_count(s), 2);
	assert_null(trust_store_lookup(s, ZONE, &k2));
	assert_int_equal(trust_store_lookup(s, ZONE, &k3)->state, TRUST_STATE_ADD_PENDING);
	trust_store_close(s);
}

static void test_store_add_pending_persists(void **state)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct trust_dnskey k1 = mkkey(1), k2 = mkkey(2);
	struct trust_store_opts opts = { 0 };
	struct trust_store *s;
	const struct trust_anchor *a;
	char *dir, *path;
	struct obs o;
	unsigned ch;

	assert_true(asprintf(&dir, "%s/test_rfc5011.XXXXXX", base) > 0);
	assert_non_null(mkdtemp(dir));
	opts.state_dir = dir;
	assert_int_equal(trust_store_open(&opts, &s, NULL), 0);
	assert_int_equal(trust_store_pin(s, ZONE, &k1, TRUST_STATE_TRUSTED, T0, &a), 1);
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 5, 60, 2,
						   (const struct trust_dnskey[]){ k1, k2 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
	assert_int_equal(trust_store_open(&opts, &s, NULL), 0);
	a = trust_store_lookup(s, ZONE, &k2);
	assert_non_null(a);
	assert_int_equal(a->state, TRUST_STATE_ADD_PENDING);
	assert_int_equal(a->add_pending_since, T0 + 5);
	/* the restarted daemon continues the hold-down where it was */
	assert_int_equal(trust_store_rfc5011(s, ZONE,
					     mkobs(&o, T0 + 65, 60, 2,
						   (const struct trust_dnskey[]){ k1, k2 },
						   (const bool[]){ true, false }),
					     HOLD, &ch),
			 0);
	assert_true(ch & TRUST_5011_PROMOTED);
	assert_int_equal(a->state, TRUST_STATE_TRUSTED);
	trust_store_close(s);
	assert_true(asprintf(&path, "%s/" TRUST_STORE_FILE, dir) > 0);
	unlink(path);
	free(path);
	assert_true(asprintf(&path, "%s/" TRUST_STORE_LOCK, dir) > 0);
	unlink(path);
	free(path);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_then_promote),
		cmocka_unit_test(test_holddown_not_shortened),
		cmocka_unit_test(test_vanished_before_holddown),
		cmocka_unit_test(test_not_validated),
		cmocka_unit_test(test_non_sep_ignored),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_revoke_needs_self_signature),
		cmocka_unit_test(test_revoke_last_key),
		cmocka_unit_test(test_revoke_add_pending),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_never_zero_trusted),
		cmocka_unit_test(test_probe_intervals),
		cmocka_unit_test(test_store_rollover),
		cmocka_unit_test(test_store_swap_add_pending),
		cmocka_unit_test(test_store_add_pending_persists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
