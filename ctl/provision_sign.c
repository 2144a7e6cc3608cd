/*
 * provision_sign.c -- signing a provisioned resolver's zone files: read,
 * checked, a new serial, signed by stub/publish (NSEC for denial, the KSK
 * signs the DNSKEY RRset, the ZSK the rest) and written beside them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/provision.h"

static bool
is_dnssec_type(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_DNSKEY || t == LDNS_RR_TYPE_RRSIG ||
	    t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3 ||
	    t == LDNS_RR_TYPE_NSEC3PARAM;
}

/* Refuse records out of the zone and DNSSEC records: we make those. */
static int
zone_check(const ldns_zone *z, const char *path)
{
	const ldns_rdf *apex = ldns_rr_owner(ldns_zone_soa(z));
	const ldns_rr *rr;
	char *owner;
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(ldns_zone_rrs(z)); i++) {
		rr = ldns_rr_list_rr(ldns_zone_rrs(z), i);
		if (is_dnssec_type(ldns_rr_get_type(rr))) {
			ctl_prov_err("%s: DNSSEC records do not belong in the "
			    "unsigned zone", path);
			return -EINVAL;
		}
		if (ldns_dname_compare(ldns_rr_owner(rr), apex) != 0 &&
		    !ldns_dname_is_subdomain(ldns_rr_owner(rr), apex)) {
			owner = ldns_rdf2str(ldns_rr_owner(rr));
			ctl_prov_err("%s: %s is out of the zone", path,
			    owner ? owner : "a record");
			free(owner);
			return -EINVAL;
		}
	}
	return 0;
}

static int
write_signed(FILE *fp, const void *arg)
{
	ldns_dnssec_zone_print_fmt(fp, ldns_output_format_nocomments, arg);
	return 0;
}

/*
 * The SOA serial of the signed zone origin written before, if any: the
 * first record of the file.  Returns 0 and sets *serial, or -ENOENT.
 */
static int
signed_serial(const char *path, const ldns_rdf *apex, uint32_t *serial)
{
	ldns_rdf *origin, *prev;
	uint32_t ttl = 3600;
	ldns_status s;
	ldns_rr *rr = NULL;
	FILE *fp;
	int line = 0, r = -ENOENT;

	if ((fp = fopen(path, "re")) == NULL)
		return -ENOENT;
	origin = ldns_rdf_clone(apex);
	prev = ldns_rdf_clone(apex);
	do {
		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
	} while (!feof(fp) && (s == LDNS_STATUS_SYNTAX_EMPTY ||
	    s == LDNS_STATUS_SYNTAX_TTL || s == LDNS_STATUS_SYNTAX_ORIGIN));
	if (s == LDNS_STATUS_OK) {
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) == 7 &&
		    ldns_dname_compare(ldns_rr_owner(rr), apex) == 0) {
			*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			r = 0;
		}
		ldns_rr_free(rr);
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return r;
}

/*
 * Raise the SOA serial above both the unsigned zone's and the one last
 * signed (path), to the current time or, if that is not above them, by
 * one: every signing has a new, higher serial (RFC 1982 arithmetic), also
 * twice in one second.  Not ldns_rr_soa_increment_func_int(): it leaks
 * the old serial.
 */
static int
soa_serial_raise(ldns_rr *soa, const char *path)
{
	ldns_rdf *old, *new;
	uint32_t serial, last;

	serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
	if (signed_serial(path, ldns_rr_owner(soa), &last) == 0 &&
	    (int32_t)(last - serial) > 0)
		serial = last;
	new = ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32,
	    ldns_soa_serial_unixtime(serial, NULL));
	if (new == NULL)
		return -ENOMEM;
	old = ldns_rr_set_rdf(soa, new, 2);
	ldns_rdf_deep_free(old);
	return 0;
}

static int
sign_zone(struct ctl_prov_dir *d, const char *origin, ldns_zone *z,
    ldns_key *ksk, ldns_key *zsk)
{
	struct ds_pub_signed *signed_zone = NULL;
	char rel[PATH_MAX], path[PATH_MAX + CTL_PROV_NAME_SIZE + 32];
	char why[256];
	int r;

	snprintf(rel, sizeof(rel), CTL_PROV_SIGNED_FMT, origin);
	snprintf(path, sizeof(path), "%s/" CTL_PROV_SIGNED_FMT, d->root,
	    origin);
	if (soa_serial_raise(ldns_zone_soa(z), path) < 0) {
		ctl_prov_err("cannot sign %s: out of memory", origin);
		return -ENOMEM;
	}
	if ((r = ds_pub_sign(z, ksk, zsk, &signed_zone, why, sizeof(why))) < 0) {
		ctl_prov_err("cannot sign %s: %s", origin, why);
		return r;
	}
	r = ctl_prov_write(d, rel, 0644, write_signed, signed_zone->dz);
	ds_pub_signed_free(signed_zone);
	return r;
}

int
ctl_prov_zone_sign(struct ctl_prov_dir *d, const char *origin,
    struct ldns_struct_key *ksk, struct ldns_struct_key *zsk)
{
	char path[PATH_MAX], fqdn[CTL_PROV_NAME_SIZE + 1];
	ldns_zone *z;
	int r, n;

	n = snprintf(path, sizeof(path), "%s/" CTL_PROV_ZONE_FMT, d->root,
	    origin);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	snprintf(fqdn, sizeof(fqdn), "%s.", origin);
	if ((r = ctl_prov_zone_read(&z, path, fqdn)) < 0)
		return r;
	if ((r = zone_check(z, path)) < 0) {
		ldns_zone_deep_free(z);
		return r;
	}
	r = sign_zone(d, origin, z, ksk, zsk);
	ldns_zone_deep_free(z);
	return r;
}
