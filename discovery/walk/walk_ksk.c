/*
 * walk_ksk.c -- step 1: DNSKEY resolver-name.arpa.
 *
 * The RRset is fetched once without validation (to learn its SEP keys and
 * to tell "not published" from a failure), then validated in a context
 * anchored at each candidate: the caller's known anchors if any, else each
 * SEP key of the RRset (self-signature, first use).  The first context that
 * validates is kept for steps 2 and 3.  On first use the RRset must then be
 * observed again, identical and secure, over TCP and over UDP after a
 * pause, before its KSK is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <unbound.h>

#include "dotstub/log.h"
#include "walk_int.h"

#define DIGEST_LEN TRUST_SHA256_LEN
/* the direct question to a resolver libunbound got no answer from */
#define PROBE_MS 2000

/* The digests of every rdata of the answer, and one fingerprint of the
 * whole RRset (the digests sorted and hashed, so order does not matter). */
struct rrset_obs {
	uint8_t digest[WALK_MAX_DNSKEYS][DIGEST_LEN];
	size_t n;
	uint8_t fp[DIGEST_LEN];
};

static int
cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, DIGEST_LEN);
}

static int
observe_rrset(const struct walk_q *q, struct rrset_obs *o)
{
	size_t i, n = walk_q_count(q);

	if (n == 0 || n > WALK_MAX_DNSKEYS)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		if (q->res->len[i] < 0 ||
		    EVP_Digest(q->res->data[i], (size_t)q->res->len[i], o->digest[i], NULL,
			       EVP_sha256(), NULL) != 1)
			return -EBADMSG;
	}
	o->n = n;
	qsort(o->digest, n, DIGEST_LEN, cmp_digest);
	if (EVP_Digest(o->digest, n * DIGEST_LEN, o->fp, NULL, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	return 0;
}

/* Is k in the observed RRset?  1 or 0, or -ENOMEM. */
static int
obs_has(const struct rrset_obs *o, const struct trust_dnskey *k)
{
	uint8_t sha[DIGEST_LEN];
	size_t i;

	if (trust_dnskey_sha256(k, sha) < 0)
		return -ENOMEM;
	for (i = 0; i < o->n; i++) {
		if (memcmp(o->digest[i], sha, DIGEST_LEN) == 0)
			return 1;
	}
	return 0;
}

/* Record the SEP keys of the RRset in the result.  Returns the number of
 * records that were not valid DNSKEY rdata. */
static int
record_ksks(struct walk *w, const struct walk_q *q, char *tags, size_t tagslen)
{
	struct disc_result *r = w->r;
	struct trust_dnskey k;
	size_t i, n = walk_q_count(q), o = 0;
	int bad = 0;

	tags[0] = '\0';
	for (i = 0; i < n; i++) {
		if (trust_dnskey_from_rdata((const uint8_t *)q->res->data[i],
					    (size_t)q->res->len[i], &k) < 0) {
			bad++;
			continue;
		}
		if ((k.flags & (TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP)) !=
		    (TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP))
			continue;
		/* revoked keys are reported (RFC 5011) but never candidates */
		if (!(k.flags & TRUST_DNSKEY_REVOKE))
			r->nksk_seen++;
		if (r->nksk == DISC_MAX_KSK)
			continue;
		r->ksk[r->nksk].key = k;
		r->ksk[r->nksk].known = -1;
		r->ksk[r->nksk].revoked = (k.flags & TRUST_DNSKEY_REVOKE) != 0;
		r->nksk++;
		if (o < tagslen)
			o += (size_t)snprintf(tags + o, tagslen - o, " %u/%u", trust_dnskey_tag(&k),
					      k.algorithm);
	}
	return bad;
}

/* libunbound gave no answer: its SERVFAIL stands for a REFUSED as much as
 * for silence.  Ask each resolver itself: one that refuses
 * resolver-name.arpa to this client publishes nothing for it
 * (NOT_PUBLISHED); otherwise the resolver is unreachable. */
static int
judge_no_answer(struct walk *w, const struct walk_q *q)
{
	int i, rc = -ETIMEDOUT;

	for (i = 0; i < w->nfwd && rc != DNS_RCODE_REFUSED; i++) {
		rc = walk_probe_rcode(w, w->fwd[i], DISC_ZONE, DNS_TYPE_DNSKEY, PROBE_MS);
		if (rc == -ECANCELED)
			return rc;
	}
	if (rc == DNS_RCODE_REFUSED) {
		walk_step(w, 1, q->name, q->type, DISC_ST_UNVALIDATED,
			  "REFUSED by %s: not published for this client", w->fwd[i - 1]);
		return walk_fail(w, TRUST_DISC_NOT_PUBLISHED, 1,
				 "the resolver does not publish %s for this client (DNSKEY: "
				 "REFUSED)",
				 DISC_ZONE);
	}
	walk_step(w, 1, q->name, q->type, DISC_ST_ERROR, "%s", q->detail);
	return walk_fail(w, TRUST_DISC_UNREACHABLE, 1, "step 1: %s DNSKEY: %s", DISC_ZONE,
			 q->detail);
}

/* No DNSKEY (NXDOMAIN or NODATA, unvalidated).  A resolver-name.arpa that
 * still names a unique name in its NS is a publication without keys:
 * broken (FAILED), not absent. */
static int
judge_no_dnskey(struct walk *w, struct ub_ctx *ub, const struct walk_q *q)
{
	const char *what = q->res->rcode == DNS_RCODE_NXDOMAIN ? "NXDOMAIN" : "NODATA";
	struct walk_q ns;
	uint8_t wire[DNS_NAME_MAX];
	char shown[WALK_NAME_STR] = "";
	size_t wlen;
	int r;

	walk_q_set(&ns, DISC_ZONE, DNS_TYPE_NS);
	r = q->res->rcode == DNS_RCODE_NXDOMAIN ? 0 : walk_run(w, ub, 1, &ns, 1);
	if (r != 0)
		goto out;
	if (walk_q_count(&ns) > 0 &&
	    walk_rdata_name((const uint8_t *)ns.res->data[0], (size_t)ns.res->len[0], wire,
			    &wlen) == 0 &&
	    dns_name_to_str(wire, wlen, shown, sizeof(shown)) == 0) {
		walk_step(w, 1, q->name, q->type, DISC_ST_ERROR, "%s, yet NS %s: unsigned", what,
			  shown);
		r = walk_fail(w, TRUST_DISC_FAILED, 1,
			      "step 1: %s is published (NS %s) but not signed: no DNSKEY (%s), "
			      "nothing to anchor it",
			      DISC_ZONE, shown, what);
		goto out;
	}
	walk_step(w, 1, q->name, q->type, DISC_ST_UNVALIDATED, "%s: not published", what);
	r = walk_fail(w, TRUST_DISC_NOT_PUBLISHED, 1,
		      "the resolver does not publish %s (DNSKEY: %s)", DISC_ZONE, what);
out:
	walk_q_release(&ns, 1);
	return r;
}

/* The unvalidated fetch.  Decides NOT_PUBLISHED and UNREACHABLE. */
static int
fetch_raw(struct walk *w, struct rrset_obs *obs)
{
	struct ub_ctx *ub = NULL;
	struct walk_q q;
	char err[200], tags[96];
	int r, bad;

	r = walk_ub_new(w, NULL, 0, NULL, false, &ub, err, sizeof(err));
	if (r < 0) {
		log_debug("discovery: %s", err);
		return r;
	}
	walk_q_set(&q, DISC_ZONE, DNS_TYPE_DNSKEY);
	r = walk_run(w, ub, 1, &q, 1);
	if (r != 0)
		goto out;
	/* libunbound turns REFUSED and the like into SERVFAIL */
	if (!q.res || (!q.res->havedata && q.res->rcode != DNS_RCODE_NOERROR &&
		       q.res->rcode != DNS_RCODE_NXDOMAIN)) {
		r = judge_no_answer(w, &q);
		goto out;
	}
	if (!q.res->havedata) {
		r = judge_no_dnskey(w, ub, &q);
		goto out;
	}
	bad = record_ksks(w, &q, tags, sizeof(tags));
	w->r->dnskey_ttl = q.res->ttl > 0 ? (uint32_t)q.res->ttl : 0;
	if (observe_rrset(&q, obs) < 0) {
		walk_step(w, 1, q.name, q.type, DISC_ST_ERROR, "%zu records: too many",
			  walk_q_count(&q));
		r = walk_fail(w, TRUST_DISC_FAILED, 1, "step 1: %s DNSKEY: more than %d records",
			      DISC_ZONE, WALK_MAX_DNSKEYS);
		goto out;
	}
	walk_step(w, 1, q.name, q.type, DISC_ST_UNVALIDATED, "%zu keys%s, SEP (tag/alg):%s%s",
		  obs->n, bad ? " (some malformed)" : "", w->r->nksk_seen ? tags : " none",
		  " [udp, not validated yet]");
	if (w->r->nksk_seen == 0)
		r = walk_fail(w, TRUST_DISC_FAILED, 1,
			      "step 1: %s DNSKEY: no SEP (flags 257) key: nothing can sign "
			      "the RRset as a trust anchor",
			      DISC_ZONE);
out:
	walk_ub_free(ub);
	walk_q_release(&q, 1);
	return r;
}

/* One validated observation of the RRset in a new context anchored at k.
 * On return 0, *st says what came of it (detail: why), and on DISC_ST_SECURE
 * obs holds the RRset and *keep (if asked for) the context. */
static int
observe(struct walk *w, const struct trust_dnskey *k, bool tcp, struct ub_ctx **keep,
	enum disc_status *st, char *detail, size_t dlen, struct rrset_obs *obs)
{
	struct ub_ctx *ub = NULL;
	struct walk_q q;
	char err[200];
	int r;

	r = walk_ub_new(w, k, 1, DISC_ZONE, tcp, &ub, err, sizeof(err));
	if (r < 0) {
		log_debug("discovery: %s", err);
		return r;
	}
	walk_q_set(&q, DISC_ZONE, DNS_TYPE_DNSKEY);
	r = walk_run(w, ub, 1, &q, 1);
	if (r == 0) {
		*st = q.status;
		snprintf(detail, dlen, "%s", q.detail);
		if (q.status == DISC_ST_SECURE && observe_rrset(&q, obs) < 0) {
			*st = DISC_ST_ERROR;
			snprintf(detail, dlen, "more than %d records", WALK_MAX_DNSKEYS);
		}
	}
	walk_q_release(&q, 1);
	if (r == 0 && *st == DISC_ST_SECURE && keep)
		*keep = ub;
	else
		walk_ub_free(ub);
	return r;
}

/* The verdict for a DNSKEY observation that did not validate. */
static enum trust_discovery
unvalidated_kind(enum disc_status st)
{
	return st == DISC_ST_ERROR ? TRUST_DISC_UNREACHABLE : TRUST_DISC_BOGUS;
}

/* Verdict when no candidate validated: the first failure says why. */
static int
fail_unvalidated(struct walk *w, enum disc_status st, const struct trust_dnskey *k,
		 const char *detail, const char *whose)
{
	return walk_fail(w, unvalidated_kind(st), 1,
			 "step 1: %s DNSKEY: %s with %s tag %u alg %u: %s", DISC_ZONE,
			 disc_status_str(st), whose, trust_dnskey_tag(k), k->algorithm,
			 detail[0] ? detail : "not validated");
}

static void
ksk_mark(struct walk *w, const struct trust_dnskey *k, int *used)
{
	int i;

	for (i = 0; i < w->r->nksk; i++) {
		if (trust_dnskey_equal(&w->r->ksk[i].key, k)) {
			w->r->ksk[i].validates = true;
			if (*used < 0)
				*used = i;
		}
	}
}

/* What anchoring at one candidate gave. */
struct attempt {
	enum disc_status st;
	char detail[DISC_DETAIL_MAX];
};

_Static_assert(DISC_MAX_KSK <= DISC_MAX_ANCHORS, "one attempt per candidate");

/* Record the attempts.  A candidate that does not validate the RRset while
 * another does is no failure (a standby or retiring KSK). */
static void
record_attempts(struct walk *w, const struct attempt *at, const struct trust_dnskey *cand,
		int ncand, const char *whose)
{
	enum disc_status st;
	int i;

	for (i = 0; i < ncand; i++) {
		st = at[i].st;
		if (st != DISC_ST_SECURE && w->arpa)
			st = DISC_ST_UNVALIDATED;
		walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, st, "%s tag %u alg %u: %s%s%s [udp]",
			  whose, trust_dnskey_tag(&cand[i]), cand[i].algorithm,
			  at[i].st == DISC_ST_SECURE ? "RRset validates" :
			  w->arpa ? "does not validate the RRset (" : "",
			  at[i].detail, at[i].st != DISC_ST_SECURE && w->arpa ? ")" : "");
	}
}

static int
try_candidates(struct walk *w, const struct rrset_obs *raw, const struct trust_dnskey *cand,
	       const int *cand_anchor, int ncand, const char *whose)
{
	struct attempt at[DISC_MAX_ANCHORS];
	struct rrset_obs obs;
	int i, r, first = -1, used = -1;

	for (i = 0; i < ncand; i++) {
		struct ub_ctx *ub = NULL;

		r = observe(w, &cand[i], false, w->arpa ? NULL : &ub, &at[i].st, at[i].detail,
			    sizeof(at[i].detail), &obs);
		if (r != 0)
			return r;
		if (at[i].st != DISC_ST_SECURE) {
			if (first < 0)
				first = i;
			continue;
		}
		if (memcmp(obs.fp, raw->fp, DIGEST_LEN) != 0) {
			walk_ub_free(ub);
			walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, DISC_ST_ERROR,
				  "validated RRset differs from the first fetch");
			return walk_fail(w, TRUST_DISC_FAILED, 1,
					 "step 1: %s DNSKEY changed between two queries: "
					 "possible interference",
					 DISC_ZONE);
		}
		ksk_mark(w, &cand[i], &used);
		if (!w->arpa) {
			w->arpa = ub;
			w->r->anchor_matched = cand_anchor ? cand_anchor[i] : -1;
			w->r->ksk_used = used;
		}
	}
	record_attempts(w, at, cand, ncand, whose);
	if (!w->arpa)
		return fail_unvalidated(w, at[first].st, &cand[first], at[first].detail, whose);
	return 0;
}

static int
walk_known(struct walk *w, const struct rrset_obs *raw)
{
	const struct disc_params *p = w->p;
	struct trust_dnskey cand[DISC_MAX_ANCHORS];
	int idx[DISC_MAX_ANCHORS];
	char known[160] = "", seen[160] = "";
	size_t ko = 0, so = 0;
	int i, j, n = 0, has;

	for (i = 0; i < p->nanchors; i++) {
		if (ko < sizeof(known))
			ko += (size_t)snprintf(known + ko, sizeof(known) - ko, " %u/%u",
					       trust_dnskey_tag(&p->anchors[i]),
					       p->anchors[i].algorithm);
		for (j = 0; j < w->r->nksk; j++) {
			if (trust_dnskey_equal(&w->r->ksk[j].key, &p->anchors[i]))
				w->r->ksk[j].known = i;
		}
		has = obs_has(raw, &p->anchors[i]);
		if (has < 0)
			return has;
		if (!has)
			continue;
		cand[n] = p->anchors[i];
		idx[n++] = i;
	}
	if (n > 0)
		return try_candidates(w, raw, cand, idx, n, "known anchor");
	for (j = 0; j < w->r->nksk; j++) {
		if (so < sizeof(seen))
			so += (size_t)snprintf(seen + so, sizeof(seen) - so, " %u/%u",
					       trust_dnskey_tag(&w->r->ksk[j].key),
					       w->r->ksk[j].key.algorithm);
	}
	walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, DISC_ST_ERROR,
		  "no known anchor in the RRset (known:%s; SEP keys seen:%s)", known, seen);
	return walk_fail(w, TRUST_DISC_ANCHOR_MISMATCH, 1,
			 "step 1: %s DNSKEY: none of the %d known anchor(s) (tag/alg:%s) is in "
			 "the RRset, whose SEP keys are (tag/alg):%s -- a different key, "
			 "possibly a man in the middle",
			 DISC_ZONE, p->nanchors, known, seen[0] ? seen : " none");
}

/* First use: observe the RRset again over TCP and, after a pause, over
 * UDP; both must validate under the same KSK and be identical. */
static int
confirm(struct walk *w, const struct rrset_obs *raw)
{
	const struct trust_dnskey *k = &w->r->ksk[w->r->ksk_used].key;
	struct rrset_obs obs;
	enum disc_status st;
	char detail[DISC_DETAIL_MAX], how[48];
	int pass, r;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			r = walk_sleep(w, w->p->confirm_delay_ms);
			if (r == -ECANCELED)
				return r;
			if (r < 0)
				return walk_fail(w, TRUST_DISC_UNREACHABLE, 1,
						 "step 1: the deadline passed before the DNSKEY "
						 "RRset could be confirmed");
			snprintf(how, sizeof(how), "udp, %u ms later", w->p->confirm_delay_ms);
		} else {
			snprintf(how, sizeof(how), "tcp");
		}
		r = observe(w, k, pass == 0, NULL, &st, detail, sizeof(detail), &obs);
		if (r != 0)
			return r;
		if (st == DISC_ST_SECURE && memcmp(obs.fp, raw->fp, DIGEST_LEN) != 0) {
			walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, DISC_ST_ERROR,
				  "confirmation [%s]: a different RRset", how);
			return walk_fail(w, TRUST_DISC_FAILED, 1,
					 "step 1: %s DNSKEY differs between observations (udp vs "
					 "%s): not adopting a first-use anchor",
					 DISC_ZONE, how);
		}
		walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, st, "confirmation [%s]: %s", how,
			  st == DISC_ST_SECURE ? "identical RRset, validates" : detail);
		if (st != DISC_ST_SECURE)
			return walk_fail(w, unvalidated_kind(st), 1,
					 "step 1: %s DNSKEY: confirmation over %s: %s: %s",
					 DISC_ZONE, how, disc_status_str(st), detail);
	}
	w->r->confirmed = true;
	return 0;
}

/* RFC 5011: a revoked SEP key counts only if it signs the RRset itself.
 * libunbound checks that, in a context anchored at the revoked key. */
static int
check_revocations(struct walk *w, const struct rrset_obs *raw)
{
	struct disc_result *r = w->r;
	struct rrset_obs obs;
	enum disc_status st;
	char detail[DISC_DETAIL_MAX];
	int i, rc;

	for (i = 0; i < r->nksk; i++) {
		struct disc_ksk *k = &r->ksk[i];

		if (!k->revoked)
			continue;
		rc = observe(w, &k->key, false, NULL, &st, detail, sizeof(detail), &obs);
		if (rc != 0)
			return rc;
		k->validates = st == DISC_ST_SECURE && memcmp(obs.fp, raw->fp, DIGEST_LEN) == 0;
		walk_step(w, 1, DISC_ZONE, DNS_TYPE_DNSKEY, k->validates ? st : DISC_ST_UNVALIDATED,
			  "revoked KSK tag %u alg %u: %s", trust_dnskey_tag(&k->key), k->key.algorithm,
			  k->validates ? "self-signed revocation (RFC 5011)"
				       : "revocation not self-signed, ignored");
	}
	return 0;
}

int
walk_step1(struct walk *w)
{
	struct disc_result *r = w->r;
	struct trust_dnskey cand[DISC_MAX_KSK];
	struct rrset_obs raw;
	int i, n = 0, rc;

	rc = fetch_raw(w, &raw);
	if (rc != 0)
		return rc;
	if (w->p->nanchors > 0) {
		rc = walk_known(w, &raw);
		return rc != 0 ? rc : check_revocations(w, &raw);
	}
	r->first_use = true;
	for (i = 0; i < r->nksk; i++)
		if (!r->ksk[i].revoked)
			cand[n++] = r->ksk[i].key;
	rc = try_candidates(w, &raw, cand, NULL, n, "self-signature, KSK");
	if (rc != 0)
		return rc;
	return confirm(w, &raw);
}
