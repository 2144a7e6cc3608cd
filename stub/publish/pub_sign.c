/*
 * pub_sign.c -- signing a zone with libldns (publish.h): NSEC for denial,
 * the KSK signs the DNSKEY RRset, the ZSK the rest.  In memory: the caller
 * writes the result to a file (dotctl provision) or answers from it (the
 * daemon's publisher).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/publish.h"

static bool is_dnssec_type(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_DNSKEY || t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	       t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_NSEC3PARAM;
}

/* Copy rr into s->own and add it to s->dz. */
static int take(struct ds_pub_signed *s, const ldns_rr *rr, ldns_rr **copy)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (c == NULL || !ldns_rr_list_push_rr(s->own, c)) {
		ldns_rr_free(c);
		return -ENOMEM;
	}
	if (copy)
		*copy = c;
	return ldns_dnssec_zone_add_rr(s->dz, c) == LDNS_STATUS_OK ? 0 : -EINVAL;
}

static int fill(struct ds_pub_signed *s, const ldns_zone *z, ldns_key_list *keys, char *why,
		size_t whylen)
{
	const ldns_rr *soa = ldns_zone_soa(z);
	const ldns_rdf *apex;
	ldns_rr *rr;
	size_t i;
	int r;

	if (soa == NULL) {
		snprintf(why, whylen, "the zone has no SOA");
		return -EINVAL;
	}
	apex = ldns_rr_owner(soa);
	if ((r = take(s, soa, &s->soa)) < 0)
		return r;
	for (i = 0; i < ldns_rr_list_rr_count(ldns_zone_rrs(z)); i++) {
		rr = ldns_rr_list_rr(ldns_zone_rrs(z), i);
		if (is_dnssec_type(ldns_rr_get_type(rr))) {
			snprintf(why, whylen, "DNSSEC records do not belong in the unsigned zone");
			return -EINVAL;
		}
		if (ldns_dname_compare(ldns_rr_owner(rr), apex) != 0 &&
		    !ldns_dname_is_subdomain(ldns_rr_owner(rr), apex)) {
			snprintf(why, whylen, "a record is out of the zone");
			return -EINVAL;
		}
		if ((r = take(s, rr, NULL)) < 0)
			return r;
	}
	for (i = 0; i < ldns_key_list_key_count(keys); i++) {
		rr = ds_pub_key_dnskey(ldns_key_list_key(keys, i), ldns_rr_ttl(soa));
		if (rr == NULL)
			return -ENOMEM;
		r = take(s, rr, NULL);
		ldns_rr_free(rr);
		if (r < 0)
			return r;
	}
	return 0;
}

void ds_pub_signed_free(struct ds_pub_signed *s)
{
	if (s == NULL)
		return;
	if (s->dz)
		ldns_dnssec_zone_free(s->dz);
	ldns_rr_list_deep_free(s->own);
	ldns_rr_list_deep_free(s->added);
	free(s);
}

int ds_pub_sign(const struct ldns_struct_zone *z, struct ldns_struct_key *ksk,
		struct ldns_struct_key *zsk, struct ds_pub_signed **ret, char *why, size_t whylen)
{
	struct ds_pub_signed *s = calloc(1, sizeof(*s));
	ldns_key_list *keys = ldns_key_list_new();
	ldns_status st;
	int r = -ENOMEM;

	snprintf(why, whylen, "out of memory");
	if (s == NULL || keys == NULL || !ldns_key_list_push_key(keys, ksk) ||
	    !ldns_key_list_push_key(keys, zsk))
		goto out;
	s->own = ldns_rr_list_new();
	s->added = ldns_rr_list_new();
	s->dz = ldns_dnssec_zone_new();
	if (s->own == NULL || s->added == NULL || s->dz == NULL)
		goto out;
	if ((r = fill(s, z, keys, why, whylen)) < 0)
		goto out;
	st = ldns_dnssec_zone_sign_flg(s->dz, s->added, keys, ldns_dnssec_default_replace_signatures,
				       NULL, 0);
	if (st != LDNS_STATUS_OK) {
		snprintf(why, whylen, "%s", ldns_get_errorstr_by_id(st));
		r = -EINVAL;
		goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	if (keys) {
		/* the keys are the caller's: free the list alone */
		ldns_key_list_set_key_count(keys, 0);
		ldns_key_list_free(keys);
	}
	ds_pub_signed_free(s);
	return r;
}
