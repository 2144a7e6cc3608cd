/*
 * walk_zone.c -- steps 2 to 4: from resolver-name.arpa to the unique name N
 * and N's own trust anchor.
 *
 *   2. NS resolver-name.arpa        (under the KSK)  -> N
 *   3. KEY N.resolver-name.arpa     (under the KSK)  -> N's anchor
 *   4. DNSKEY N                     (new context anchored at that KEY,
 *                                    rewritten as a DNSKEY)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "dotstub/log.h"
#include "walk_int.h"

/* Run one query in ub and judge it; 0 means a secure answer with data. */
static int
query_one(struct walk *w, struct ub_ctx *ub, int phase, struct walk_q *q, const char *name,
	  uint16_t type)
{
	int r;

	walk_q_set(q, name, type);
	r = walk_run(w, ub, phase, q, 1);
	if (r == 0)
		r = walk_require(w, phase, q, false);
	return r;
}

int
walk_step2(struct walk *w)
{
	struct walk_q q;
	uint8_t wire[DNS_NAME_MAX];
	char shown[WALK_NAME_STR];
	enum disc_name check;
	size_t wlen, n;
	int r;

	r = query_one(w, w->arpa, 2, &q, DISC_ZONE, DNS_TYPE_NS);
	if (r != 0)
		goto out;
	n = walk_q_count(&q);
	if (n != 1) {
		walk_step(w, 2, q.name, q.type, DISC_ST_ERROR, "%zu NS records", n);
		r = walk_fail(w, TRUST_DISC_FAILED, 2,
			      "step 2: %s NS: %zu records, exactly one (the unique name) required",
			      DISC_ZONE, n);
		goto out;
	}
	if (walk_rdata_name((const uint8_t *)q.res->data[0], (size_t)q.res->len[0], wire,
			    &wlen) < 0) {
		walk_step(w, 2, q.name, q.type, DISC_ST_ERROR, "malformed NS rdata");
		r = walk_fail(w, TRUST_DISC_FAILED, 2, "step 2: %s NS: malformed rdata", DISC_ZONE);
		goto out;
	}
	check = disc_name_check(wire, wlen, w->n, sizeof(w->n));
	if (check != DISC_NAME_OK) {
		if (dns_name_to_str(wire, wlen, shown, sizeof(shown)) < 0)
			snprintf(shown, sizeof(shown), "(unprintable)");
		walk_step(w, 2, q.name, q.type, DISC_ST_ERROR, "NS %s: not a unique name", shown);
		r = walk_fail(w, TRUST_DISC_FAILED, 2,
			      "step 2: %s NS is %s, which cannot be a unique name: %s", DISC_ZONE,
			      shown, disc_name_problem(check));
		goto out;
	}
	snprintf(w->r->desc.name, sizeof(w->r->desc.name), "%.*s", (int)strlen(w->n) - 1, w->n);
	walk_step(w, 2, q.name, q.type, DISC_ST_SECURE, "NS %s", w->n);
out:
	walk_q_release(&q, 1);
	return r;
}

int
walk_step3(struct walk *w)
{
	struct disc_result *res = w->r;
	struct walk_q q;
	struct trust_dnskey k;
	char owner[WALK_NAME_STR + sizeof(DISC_ZONE)], keys[160] = "";
	size_t i, n, o = 0;
	int r, bad = 0;

	snprintf(owner, sizeof(owner), "%s%s", w->n, DISC_ZONE);
	r = query_one(w, w->arpa, 3, &q, owner, DNS_TYPE_KEY);
	if (r != 0)
		goto out;
	n = walk_q_count(&q);
	for (i = 0; i < n; i++) {
		if (trust_dnskey_from_rdata((const uint8_t *)q.res->data[i],
					    (size_t)q.res->len[i], &k) < 0 ||
		    !(k.flags & TRUST_DNSKEY_ZONE) || (k.flags & TRUST_DNSKEY_REVOKE)) {
			bad++;
			continue;
		}
		if (res->nzone_key == DISC_MAX_ZONE_KEYS)
			continue;
		res->zone_key[res->nzone_key++] = k;
		if (o < sizeof(keys))
			o += (size_t)snprintf(keys + o, sizeof(keys) - o, " %u %u %u (tag %u)",
					      k.flags, k.protocol, k.algorithm,
					      trust_dnskey_tag(&k));
	}
	if (res->nzone_key == 0) {
		walk_step(w, 3, q.name, q.type, DISC_ST_ERROR,
			  "%zu records, none a usable zone key", n);
		r = walk_fail(w, TRUST_DISC_FAILED, 3,
			      "step 3: %s KEY: no record with the DNSKEY layout of a zone key "
			      "(flags 256/257, protocol 3)",
			      owner);
		goto out;
	}
	walk_step(w, 3, q.name, q.type, DISC_ST_SECURE, "KEY%s%s", keys,
		  bad ? " (unusable records ignored)" : "");
out:
	walk_q_release(&q, 1);
	return r;
}

int
walk_step4(struct walk *w)
{
	struct disc_result *res = w->r;
	struct walk_q q;
	struct trust_dnskey k;
	char err[200];
	size_t i, n;
	int r, j, match = -1;

	r = walk_ub_new(w, res->zone_key, res->nzone_key, w->n, false, &w->zone, err,
			sizeof(err));
	if (r < 0) {
		log_debug("discovery: %s", err);
		if (r == -ENOMEM)
			return r;
		walk_step(w, 4, w->n, DNS_TYPE_DNSKEY, DISC_ST_ERROR, "%s", err);
		return walk_fail(w, TRUST_DISC_FAILED, 4, "step 4: %s", err);
	}
	r = query_one(w, w->zone, 4, &q, w->n, DNS_TYPE_DNSKEY);
	if (r != 0)
		goto out;
	n = walk_q_count(&q);
	for (i = 0; i < n && match < 0; i++) {
		if (trust_dnskey_from_rdata((const uint8_t *)q.res->data[i],
					    (size_t)q.res->len[i], &k) < 0)
			continue;
		for (j = 0; j < res->nzone_key; j++) {
			if (trust_dnskey_equal(&k, &res->zone_key[j]))
				match = j;
		}
	}
	if (match < 0) {
		walk_step(w, 4, q.name, q.type, DISC_ST_ERROR, "%zu keys, none equal to the KEY",
			  n);
		r = walk_fail(w, TRUST_DISC_FAILED, 4,
			      "step 4: %s DNSKEY does not contain the key published as KEY "
			      "%s%s",
			      w->n, w->n, DISC_ZONE);
		goto out;
	}
	walk_step(w, 4, q.name, q.type, DISC_ST_SECURE,
		  "%zu keys, contains the KEY (tag %u): validates", n,
		  trust_dnskey_tag(&res->zone_key[match]));
out:
	walk_q_release(&q, 1);
	return r;
}
