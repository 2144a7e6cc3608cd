/*
 * rfc5011.c -- automated updates of the resolver-name.arpa KSK (RFC 5011)
 * as a pure state machine driven by observed DNSKEY RRsets, the probe
 * schedule of its section 2.3, and the glue that runs it on the store.
 *
 * Simplifications, on the safe side: a trusted key that disappears stays
 * trusted (RFC 5011 "Missing"; only a revoke or a human removes it), and a
 * revoked key stays recorded as revoked (never re-added).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/trust.h"
#include "trust-int.h"

#define HOUR 3600u
#define DAY (24u * HOUR)

static bool usable(enum trust_state st)
{
	return st == TRUST_STATE_TRUSTED || st == TRUST_STATE_MANAGED;
}

/* Index of the key in keys that k is (REVOKE flag aside), or -1. */
static ssize_t find_key(const struct trust_5011_key *keys, size_t n, const struct trust_dnskey *k)
{
	for (size_t i = 0; i < n; i++)
		if (trust_dnskey_same_key(&keys[i].key, k))
			return (ssize_t)i;
	return -1;
}

/* Is k in the RRset without the REVOKE flag? */
static bool in_rrset(const struct trust_5011_obs *obs, const struct trust_dnskey *k)
{
	for (size_t i = 0; i < obs->nkeys; i++)
		if (!(obs->keys[i].flags & TRUST_DNSKEY_REVOKE) &&
		    trust_dnskey_same_key(&obs->keys[i], k))
			return true;
	return false;
}

/* RFC 5011 2.1: a key with the REVOKE flag that signed the RRset revokes
 * itself. */
static unsigned apply_revocations(struct trust_5011_key *keys, size_t n,
				  const struct trust_5011_obs *obs)
{
	unsigned changes = 0;

	for (size_t i = 0; i < obs->nkeys; i++) {
		ssize_t j;

		if (!(obs->keys[i].flags & TRUST_DNSKEY_REVOKE) || !obs->signer[i])
			continue;
		j = find_key(keys, n, &obs->keys[i]);
		if (j < 0 || keys[j].state == TRUST_STATE_REVOKED)
			continue;
		keys[j].state = TRUST_STATE_REVOKED;
		keys[j].add_pending_since = 0;
		memset(keys[j].introduced_by, 0, TRUST_SHA256_LEN);
		keys[j].last_seen = obs->now;
		changes |= TRUST_5011_REVOKED;
	}
	return changes;
}

/* The first usable key that signed the RRset, or -1. */
static ssize_t trusted_signer(const struct trust_5011_key *keys, size_t n,
			      const struct trust_5011_obs *obs)
{
	for (size_t i = 0; i < obs->nkeys; i++) {
		ssize_t j;

		if (!obs->signer[i] || (obs->keys[i].flags & TRUST_DNSKEY_REVOKE))
			continue;
		j = find_key(keys, n, &obs->keys[i]);
		if (j >= 0 && usable(keys[j].state) && trust_dnskey_equal(&keys[j].key, &obs->keys[i]))
			return j;
	}
	return -1;
}

/* Age the known keys; returns the changes.  Removes vanished add-pending
 * keys (compacting keys, updating *n). */
static unsigned age_keys(struct trust_5011_key *keys, size_t *n, const struct trust_5011_obs *obs,
			 uint32_t holddown)
{
	uint32_t hold = obs->orig_ttl > holddown ? obs->orig_ttl : holddown;
	unsigned changes = 0;
	size_t out = 0;

	for (size_t i = 0; i < *n; i++) {
		struct trust_5011_key *k = &keys[i];
		bool seen = in_rrset(obs, &k->key);

		if (k->state == TRUST_STATE_ADD_PENDING && !seen) {
			changes |= TRUST_5011_REMOVED;
			continue;
		}
		if (seen && k->state != TRUST_STATE_REVOKED && k->state != TRUST_STATE_PENDING) {
			k->last_seen = obs->now;
			if (usable(k->state))
				changes |= TRUST_5011_SEEN;
		}
		if (k->state == TRUST_STATE_ADD_PENDING && obs->now >= k->add_pending_since &&
		    (uint64_t)(obs->now - k->add_pending_since) >= hold) {
			k->state = TRUST_STATE_TRUSTED;
			k->add_pending_since = 0;
			memset(k->introduced_by, 0, TRUST_SHA256_LEN);
			changes |= TRUST_5011_PROMOTED;
		}
		keys[out++] = *k;
	}
	*n = out;
	return changes;
}

/* New SEP zone keys enter add-pending.  -E2BIG if cap is too small. */
static int add_new_keys(struct trust_5011_key *keys, size_t *n, size_t cap,
			const struct trust_5011_obs *obs, const uint8_t sponsor[TRUST_SHA256_LEN],
			unsigned *changes)
{
	const uint16_t want = TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP;

	for (size_t i = 0; i < obs->nkeys; i++) {
		const struct trust_dnskey *k = &obs->keys[i];
		struct trust_5011_key *nk;

		if ((k->flags & want) != want || (k->flags & TRUST_DNSKEY_REVOKE) ||
		    find_key(keys, *n, k) >= 0)
			continue;
		if (*n == cap)
			return -E2BIG;
		nk = &keys[(*n)++];
		memset(nk, 0, sizeof(*nk));
		nk->key = *k;
		nk->state = TRUST_STATE_ADD_PENDING;
		nk->add_pending_since = obs->now;
		memcpy(nk->introduced_by, sponsor, TRUST_SHA256_LEN);
		nk->last_seen = obs->now;
		*changes |= TRUST_5011_ADDED;
	}
	return 0;
}

static int check_obs(const struct trust_5011_obs *obs)
{
	if (!obs || (obs->nkeys && (!obs->keys || !obs->signer)))
		return -EINVAL;
	for (size_t i = 0; i < obs->nkeys; i++)
		if (trust_dnskey_check(&obs->keys[i]) < 0)
			return -EINVAL;
	return 0;
}

int trust_5011_update(struct trust_5011_key *keys, size_t *nkeys, size_t cap,
		      const struct trust_5011_obs *obs, uint32_t holddown, unsigned *ret_changes)
{
	struct trust_5011_key *work;
	uint8_t sponsor[TRUST_SHA256_LEN];
	unsigned changes;
	size_t n = *nkeys;
	ssize_t signer;
	int r = 0;

	if (check_obs(obs) < 0 || n > cap)
		return -EINVAL;
	work = malloc((cap ? cap : 1) * sizeof(*work));
	if (!work)
		return -ENOMEM;
	memcpy(work, keys, n * sizeof(*work));
	changes = apply_revocations(work, n, obs);
	signer = trusted_signer(work, n, obs);
	if (signer < 0) {
		r = -EPERM; /* not validated: only the revocations count */
		goto commit;
	}
	r = trust_dnskey_sha256(&work[signer].key, sponsor);
	if (r < 0)
		goto out;
	changes |= age_keys(work, &n, obs, holddown);
	r = add_new_keys(work, &n, cap, obs, sponsor, &changes);
	if (r < 0)
		goto out;
commit:
	memcpy(keys, work, n * sizeof(*work));
	*nkeys = n;
	if (ret_changes)
		*ret_changes = changes;
out:
	free(work);
	return r;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static uint64_t expire_interval(time_t sig_expire, time_t now)
{
	return sig_expire > now ? (uint64_t)(sig_expire - now) : 0;
}

uint32_t trust_5011_refresh_interval(uint32_t orig_ttl, time_t sig_expire, time_t now)
{
	uint64_t v = min3(15u * DAY, orig_ttl / 2, expire_interval(sig_expire, now) / 2);

	return v < HOUR ? HOUR : (uint32_t)v;
}

uint32_t trust_5011_retry_interval(uint32_t orig_ttl, time_t sig_expire, time_t now)
{
	uint64_t v = min3(DAY, orig_ttl / 10, expire_interval(sig_expire, now) / 10);

	return v < HOUR ? HOUR : (uint32_t)v;
}

/* ---- on the store ---- */

/* Is a part of the trust point the RRset belongs to? */
static bool in_trust_point(const struct trust_anchor *a, const char *zone,
			   const struct trust_5011_obs *obs, const uint8_t (*sha)[TRUST_SHA256_LEN])
{
	if (strcmp(a->zone, zone) != 0)
		return false;
	for (size_t i = 0; i < obs->nkeys; i++) {
		if (trust_dnskey_same_key(&a->key, &obs->keys[i]))
			return true;
		if (a->state == TRUST_STATE_ADD_PENDING &&
		    memcmp(a->introduced_by, sha[i], TRUST_SHA256_LEN) == 0)
			return true;
	}
	return false;
}

static void to_5011(const struct trust_anchor *a, struct trust_5011_key *k)
{
	memset(k, 0, sizeof(*k));
	k->key = a->key;
	k->state = a->state;
	k->add_pending_since = a->add_pending_since;
	memcpy(k->introduced_by, a->introduced_by, TRUST_SHA256_LEN);
	k->last_seen = a->last_seen;
}

static void from_5011(struct trust_anchor *a, const struct trust_5011_key *k)
{
	a->state = k->state;
	a->add_pending_since = k->add_pending_since;
	memcpy(a->introduced_by, k->introduced_by, TRUST_SHA256_LEN);
	if (k->last_seen > a->last_seen)
		a->last_seen = k->last_seen;
}

/* Write the result back: update or remove the scoped anchors, add new. */
static int write_back(struct trust_store *s, const char *zone, struct trust_anchor **scope,
		      size_t nscope, const struct trust_5011_key *keys, size_t n, time_t now)
{
	for (size_t i = 0; i < nscope; i++) {
		ssize_t j = find_key(keys, n, &scope[i]->key);
		ssize_t idx = trust_store_index(s, scope[i]);

		if (j >= 0) {
			from_5011(scope[i], &keys[j]);
		} else if (idx >= 0) { /* a vanished add-pending key */
			trust_anchor_free(s->anchors[idx]);
			memmove(&s->anchors[idx], &s->anchors[idx + 1],
				(s->n - (size_t)idx - 1) * sizeof(s->anchors[0]));
			s->n--;
			scope[i] = NULL;
		}
	}
	for (size_t j = 0; j < n; j++) {
		struct trust_anchor *a;
		bool known = false;
		int r;

		for (size_t i = 0; i < nscope && !known; i++)
			known = scope[i] && trust_dnskey_same_key(&scope[i]->key, &keys[j].key);
		if (known)
			continue;
		a = trust_anchor_new();
		if (!a)
			return -ENOMEM;
		memcpy(a->zone, zone, sizeof(a->zone));
		a->first_seen = a->last_seen = now;
		from_5011(a, &keys[j]);
		r = trust_anchor_set_key(a, &keys[j].key);
		if (r == 0)
			r = trust_store_append(s, a);
		if (r < 0) {
			trust_anchor_free(a);
			return r;
		}
	}
	return 0;
}

int trust_store_rfc5011(struct trust_store *s, const char *zone, const struct trust_5011_obs *obs,
			uint32_t holddown, unsigned *ret_changes)
{
	char canon[TRUST_NAME_MAX + 1];
	uint8_t (*sha)[TRUST_SHA256_LEN] = NULL;
	struct trust_anchor **scope = NULL;
	struct trust_5011_key *keys = NULL;
	size_t nscope = 0, n, cap;
	unsigned changes = 0;
	int r;

	if (trust_name_canonical(zone, canon) < 0 || check_obs(obs) < 0)
		return -EINVAL;
	sha = calloc(obs->nkeys + 1, sizeof(*sha));
	scope = calloc(s->n + 1, sizeof(*scope));
	if (!sha || !scope) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < obs->nkeys; i++) {
		struct trust_dnskey k = obs->keys[i];

		k.flags &= (uint16_t)~TRUST_DNSKEY_REVOKE;
		if ((r = trust_dnskey_sha256(&k, sha[i])) < 0)
			goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		if (in_trust_point(s->anchors[i], canon, obs, (const uint8_t(*)[32])sha))
			scope[nscope++] = s->anchors[i];
	cap = nscope + obs->nkeys;
	if (s->n + obs->nkeys > TRUST_MAX_ANCHORS)
		cap = nscope + (TRUST_MAX_ANCHORS > s->n ? TRUST_MAX_ANCHORS - s->n : 0);
	keys = calloc(cap + 1, sizeof(*keys));
	if (!keys) {
		r = -ENOMEM;
		goto out;
	}
	for (n = 0; n < nscope; n++)
		to_5011(scope[n], &keys[n]);
	r = trust_5011_update(keys, &n, cap, obs, holddown, &changes);
	if (r == 0 || r == -EPERM) {
		int w = write_back(s, canon, scope, nscope, keys, n, obs->now);

		if (w < 0)
			r = w;
	}
	if (r == 0 || r == -EPERM) {
		struct trust_change c = { .kind = TRUST_CHANGE_RFC5011, .zone = canon, .obs = obs,
					  .holddown = holddown, .now = obs->now };

		trust_journal_note(s, &c);
	}
	if (ret_changes && (r == 0 || r == -EPERM))
		*ret_changes = changes;
out:
	free(sha);
	free(scope);
	free(keys);
	return r;
}
