/*
 * pub_keys.c -- the DNSSEC keys of a resolver (publish.h): generated,
 * set up for their role, read from and written as ldns/BIND key files'
 * text, and their DNSKEY and KEY records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/publish.h"

static const struct {
	const char *file;
	bool ksk;
	bool arpa;		/* a key of resolver-name.arpa, else of N */
} roles[DS_PUB_NKEYS] = {
	[DS_PUB_ARPA_KSK] = { "arpa-ksk", true, true },
	[DS_PUB_ARPA_ZSK] = { "arpa-zsk", false, true },
	[DS_PUB_ZONE_KSK] = { "zone-ksk", true, false },
	[DS_PUB_ZONE_ZSK] = { "zone-zsk", false, false },
};

const char *
ds_pub_key_file(enum ds_pub_key_role role)
{
	return roles[role].file;
}

bool
ds_pub_alg_supported(int alg)
{
	return alg == LDNS_SIGN_ECDSAP256SHA256 || alg == LDNS_SIGN_ED25519;
}

int
ds_pub_key_setup(struct ldns_struct_key *k, enum ds_pub_key_role role, const char *name)
{
	char fqdn[DS_PUB_NAME_SIZE + 1];
	ldns_rdf *owner;
	ldns_rr *rr;

	snprintf(fqdn, sizeof(fqdn), "%s.", roles[role].arpa ? DS_PUB_ARPA : name);
	if ((owner = ldns_dname_new_frm_str(fqdn)) == NULL)
		return -ENOMEM;
	if (ldns_key_pubkey_owner(k) != NULL)
		ldns_rdf_deep_free(ldns_key_pubkey_owner(k));
	ldns_key_set_pubkey_owner(k, owner);
	ldns_key_set_flags(k, roles[role].ksk ? LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY
					      : LDNS_KEY_ZONE_KEY);
	if ((rr = ldns_key2rr(k)) == NULL)
		return -ENOMEM;
	ldns_key_set_keytag(k, ldns_calc_keytag(rr));
	ldns_rr_free(rr);
	return 0;
}

int
ds_pub_key_generate(struct ldns_struct_key **ret, int alg, enum ds_pub_key_role role,
		    const char *name)
{
	ldns_key *k;
	int r;

	if (!ds_pub_alg_supported(alg))
		return -EINVAL;
	if ((k = ldns_key_new_frm_algorithm((ldns_signing_algorithm)alg, 0)) == NULL)
		return -ENOMEM;
	if ((r = ds_pub_key_setup(k, role, name)) < 0) {
		ldns_key_deep_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

int
ds_pub_key_read(struct ldns_struct_key **ret, FILE *fp, enum ds_pub_key_role role,
		const char *name, char *why, size_t whylen)
{
	ldns_status s;
	ldns_key *k = NULL;
	int line = 0, r;

	s = ldns_key_new_frm_fp_l(&k, fp, &line);
	if (s != LDNS_STATUS_OK) {
		snprintf(why, whylen, "not a private key file: %s", ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	if (!ds_pub_alg_supported((int)ldns_key_algorithm(k))) {
		snprintf(why, whylen, "algorithm %d is not supported (13 or 15)",
			 (int)ldns_key_algorithm(k));
		ldns_key_deep_free(k);
		return -EINVAL;
	}
	if ((r = ds_pub_key_setup(k, role, name)) < 0) {
		snprintf(why, whylen, "%s", strerror(-r));
		ldns_key_deep_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

char *
ds_pub_key_text(const struct ldns_struct_key *k)
{
	return ldns_key2str(k);
}

struct ldns_struct_rr *
ds_pub_key_dnskey(const struct ldns_struct_key *key, uint32_t ttl)
{
	ldns_rr *rr;

	if ((rr = ldns_key2rr(key)) != NULL)
		ldns_rr_set_ttl(rr, ttl);
	return rr;
}

int
ds_pub_rr_set_owner(struct ldns_struct_rr *rr, const char *owner)
{
	ldns_rdf *rdf;

	if ((rdf = ldns_dname_new_frm_str(owner)) == NULL)
		return -EINVAL;
	ldns_rdf_deep_free(ldns_rr_owner(rr));
	ldns_rr_set_owner(rr, rdf);
	return 0;
}

struct ldns_struct_rr *
ds_pub_key_record(const struct ldns_struct_rr *dnskey, const char *owner)
{
	ldns_rr *key;

	if ((key = ldns_rr_clone(dnskey)) == NULL)
		return NULL;
	ldns_rr_set_type(key, LDNS_RR_TYPE_KEY);
	if (ds_pub_rr_set_owner(key, owner) < 0) {
		ldns_rr_free(key);
		return NULL;
	}
	return key;
}

void
ds_pub_keys_set_validity(struct ds_pub_keys *keys, uint32_t inception, uint32_t expiration)
{
	for (int i = 0; i < DS_PUB_NKEYS; i++) {
		ldns_key_set_inception(keys->key[i], inception);
		ldns_key_set_expiration(keys->key[i], expiration);
	}
}

void
ds_pub_keys_free(struct ds_pub_keys *keys)
{
	for (int i = 0; i < DS_PUB_NKEYS; i++) {
		if (keys->key[i] != NULL)
			ldns_key_deep_free(keys->key[i]);
		keys->key[i] = NULL;
	}
}
