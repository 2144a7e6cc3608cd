/*
 * provision_zones.c -- the two zones a resolver publishes (PROTOCOL.md,
 * "What the resolver publishes"), built by stub/publish and written
 * unsigned; reading zone files.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/provision.h"

/* An unsigned zone of ours is a few kilobytes; refuse absurd ones. */
#define ZONE_FILE_MAX (1024 * 1024)
#define ZONE_RECORDS_MAX 10000

/* The zone resolver-name.arpa: SOA, NS N, KEY N.resolver-name.arpa. */
static ldns_zone *
arpa_zone(const struct ctl_prov_conf *conf, const ldns_key *zone_ksk)
{
	ldns_zone *z;

	if (ds_pub_zone_arpa(&z, conf->name, zone_ksk, conf->ttl) < 0)
		return NULL;
	return z;
}

static ldns_zone *
unique_zone(const struct ctl_prov_conf *conf, const char *tlsa,
    const ldns_rr_list *children)
{
	const char *addr[CTL_PROV_MAX_ADDRS];
	struct ds_pub_zone_spec s = {
		.name = conf->name, .ttl = conf->ttl, .addr = addr,
		.naddr = conf->naddr, .tlsa = tlsa, .children = children,
	};
	ldns_zone *z;
	size_t i;

	for (i = 0; i < conf->naddr; i++)
		addr[i] = conf->addr[i].text;
	s.type = conf->forwarder ? "forwarder" : "resolver";
	s.function = s.type;
	if (conf->type_mismatch) {
		s.type = "resolver";
		s.function = "forwarder";
	}
	if (ds_pub_zone_unique(&z, &s) < 0)
		return NULL;
	return z;
}

static int
write_zone(FILE *fp, const void *arg)
{
	fprintf(fp, "; Unsigned zone written by dotctl provision.  After an "
	    "edit, sign it again:\n; dotctl provision resign DIR\n");
	ldns_zone_print_fmt(fp, ldns_output_format_nocomments, arg);
	return 0;
}

static int
zone_write(struct ctl_prov_dir *d, const char *origin, const ldns_zone *z)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), CTL_PROV_ZONE_FMT, origin);
	return ctl_prov_write(d, rel, 0644, write_zone, z);
}

int
ctl_prov_zones_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ldns_struct_key *zone_ksk,
    const char *tlsa, const struct ldns_struct_rr_list *children)
{
	ldns_zone *z;
	int r;

	if ((r = ctl_prov_mkdir(d, "zones", 0755)) < 0)
		return r;
	if ((z = arpa_zone(conf, zone_ksk)) == NULL) {
		ctl_prov_err("cannot build zone %s", CTL_PROV_ARPA);
		return -EINVAL;
	}
	r = zone_write(d, CTL_PROV_ARPA, z);
	ldns_zone_deep_free(z);
	if (r < 0)
		return r;
	if ((z = unique_zone(conf, tlsa, children)) == NULL) {
		ctl_prov_err("cannot build zone %s", conf->name);
		return -EINVAL;
	}
	r = zone_write(d, conf->name, z);
	ldns_zone_deep_free(z);
	return r;
}

/* Open path for reading if it is a regular file of sane size. */
static FILE *
open_zone_file(const char *path)
{
	struct stat st;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		ctl_prov_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > ZONE_FILE_MAX) {
		ctl_prov_err("%s: not a zone file of at most %d octets", path,
		    ZONE_FILE_MAX);
		fclose(fp);
		return NULL;
	}
	return fp;
}

/* Add rr to z: the first record must be the apex SOA, and only it. */
static int
zone_take(ldns_zone *z, ldns_rr *rr, const ldns_rdf *apex)
{
	bool soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;

	if (ldns_zone_soa(z) == NULL) {
		if (!soa || ldns_dname_compare(ldns_rr_owner(rr), apex) != 0)
			return -EINVAL;
		ldns_zone_set_soa(z, rr);
		return 0;
	}
	if (soa)
		return -EINVAL;
	if (ldns_rr_list_rr_count(ldns_zone_rrs(z)) >= ZONE_RECORDS_MAX ||
	    !ldns_zone_push_rr(z, rr))
		return -E2BIG;
	return 0;
}

/*
 * Parse a zone file record by record: ldns_zone_new_frm_fp_l() leaks what
 * it has read when it meets an error.
 */
static int
zone_parse(ldns_zone *z, FILE *fp, const char *path, const ldns_rdf *apex)
{
	ldns_rdf *origin, *prev;
	uint32_t ttl = 3600;
	ldns_status s;
	ldns_rr *rr;
	int line = 0, r = 0;

	origin = ldns_rdf_clone(apex);
	prev = ldns_rdf_clone(apex);
	while (r == 0 && !feof(fp)) {
		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (s != LDNS_STATUS_OK) {
			ctl_prov_err("%s:%d: %s", path, line,
			    ldns_get_errorstr_by_id(s));
			r = -EINVAL;
		} else if ((r = zone_take(z, rr, apex)) < 0) {
			ctl_prov_err("%s:%d: %s", path, line, r == -E2BIG ?
			    "too many records" : "not the one apex SOA first");
			ldns_rr_free(rr);
		}
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	if (r == 0 && ldns_zone_soa(z) == NULL) {
		ctl_prov_err("%s: no SOA record", path);
		r = -EINVAL;
	}
	return r;
}

int
ctl_prov_zone_read(struct ldns_struct_zone **ret, const char *path,
    const char *origin)
{
	ldns_rdf *apex;
	ldns_zone *z;
	FILE *fp;
	int r;

	if ((apex = ldns_dname_new_frm_str(origin)) == NULL)
		return -EINVAL;
	if ((z = ldns_zone_new()) == NULL) {
		ldns_rdf_deep_free(apex);
		return -ENOMEM;
	}
	if ((fp = open_zone_file(path)) == NULL) {
		r = -EINVAL;
	} else {
		r = zone_parse(z, fp, path, apex);
		fclose(fp);
	}
	ldns_rdf_deep_free(apex);
	if (r < 0)
		ldns_zone_deep_free(z);
	else
		*ret = z;
	return r;
}
