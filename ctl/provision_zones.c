/*
 * provision_zones.c -- the two zones a resolver publishes (PROTOCOL.md,
 * "What the resolver publishes"), written unsigned; reading zone files.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#include "dotstub/provision.h"

/* An unsigned zone of ours is a few kilobytes; refuse absurd ones. */
#define ZONE_FILE_MAX (1024 * 1024)
#define ZONE_RECORDS_MAX 10000
/* SOA timers: refresh, retry, expire (the minimum is the TTL). */
#define SOA_TIMERS "3600 900 1209600"

/* Add rr to z; on failure rr is freed.  Returns 0 or -ENOMEM. */
static int
zone_push(ldns_zone *z, ldns_rr *rr)
{
	if (!ldns_zone_push_rr(z, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

/* Parse one record in presentation form and add it to z. */
static int __attribute__((format(printf, 3, 4)))
zone_add(ldns_zone *z, uint32_t ttl, const char *fmt, ...)
{
	char line[1024];
	ldns_status s;
	ldns_rr *rr;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	if ((s = ldns_rr_new_frm_str(&rr, line, ttl, NULL, NULL)) !=
	    LDNS_STATUS_OK) {
		ctl_prov_err("bad record \"%s\": %s", line,
		    ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
		ldns_zone_set_soa(z, rr);
		return 0;
	}
	return zone_push(z, rr);
}

int
ctl_prov_rr_set_owner(struct ldns_struct_rr *rr, const char *owner)
{
	ldns_rdf *rdf;

	if ((rdf = ldns_dname_new_frm_str(owner)) == NULL)
		return -EINVAL;
	ldns_rdf_deep_free(ldns_rr_owner(rr));
	ldns_rr_set_owner(rr, rdf);
	return 0;
}

struct ldns_struct_rr *
ctl_prov_key_record(const struct ldns_struct_rr *dnskey, const char *owner)
{
	ldns_rr *key;

	if ((key = ldns_rr_clone(dnskey)) == NULL)
		return NULL;
	ldns_rr_set_type(key, LDNS_RR_TYPE_KEY);
	if (ctl_prov_rr_set_owner(key, owner) < 0) {
		ldns_rr_free(key);
		return NULL;
	}
	return key;
}

static int
zone_soa_ns(ldns_zone *z, const char *origin, const char *name,
    uint32_t ttl)
{
	int r;

	if ((r = zone_add(z, ttl, "%s. %u IN SOA %s. hostmaster.%s. 1 "
	    SOA_TIMERS " %u", origin, ttl, name, name, ttl)) < 0)
		return r;
	return zone_add(z, ttl, "%s. %u IN NS %s.", origin, ttl, name);
}

static ldns_zone *
arpa_zone(const struct ctl_prov_conf *conf, const ldns_key *zone_ksk)
{
	char owner[CTL_PROV_NAME_SIZE + sizeof(CTL_PROV_ARPA) + 2];
	ldns_rr *dnskey, *key;
	ldns_zone *z;

	if ((z = ldns_zone_new()) == NULL)
		return NULL;
	if (zone_soa_ns(z, CTL_PROV_ARPA, conf->name, conf->ttl) < 0)
		goto fail;
	snprintf(owner, sizeof(owner), "%s.%s.", conf->name, CTL_PROV_ARPA);
	if ((dnskey = ctl_prov_key_dnskey(zone_ksk, conf->ttl)) == NULL)
		goto fail;
	key = ctl_prov_key_record(dnskey, owner);
	ldns_rr_free(dnskey);
	if (key == NULL) {
		ctl_prov_err("%s: name too long", owner);
		goto fail;
	}
	if (zone_push(z, key) < 0)
		goto fail;
	return z;
fail:
	ldns_zone_deep_free(z);
	return NULL;
}

static int
zone_roles(ldns_zone *z, const struct ctl_prov_conf *conf)
{
	const char *type, *function;
	int r;

	type = conf->forwarder ? "forwarder" : "resolver";
	function = type;
	if (conf->type_mismatch) {
		type = "resolver";
		function = "forwarder";
	}
	if ((r = zone_add(z, conf->ttl, "server-type.%s. %u IN TXT \"%s\"",
	    conf->name, conf->ttl, type)) < 0)
		return r;
	return zone_add(z, conf->ttl, "server-function.%s. %u IN TXT \"%s\"",
	    conf->name, conf->ttl, function);
}

static ldns_zone *
unique_zone(const struct ctl_prov_conf *conf, const char *tlsa,
    const ldns_rr_list *children)
{
	const char *name = conf->name;
	ldns_zone *z;
	ldns_rr *rr;
	size_t i;

	if ((z = ldns_zone_new()) == NULL)
		return NULL;
	if (zone_soa_ns(z, name, name, conf->ttl) < 0)
		goto fail;
	for (i = 0; i < conf->naddr; i++)
		if (zone_add(z, conf->ttl, "%s. %u IN %s %s", name, conf->ttl,
		    conf->addr[i].family == AF_INET ? "A" : "AAAA",
		    conf->addr[i].text) < 0)
			goto fail;
	if (zone_roles(z, conf) < 0 ||
	    zone_add(z, conf->ttl, "_853._tcp.%s. %u IN TLSA %s", name,
	    conf->ttl, tlsa) < 0)
		goto fail;
	for (i = 0; i < ldns_rr_list_rr_count(children); i++) {
		if ((rr = ldns_rr_clone(ldns_rr_list_rr(children, i))) ==
		    NULL || zone_push(z, rr) < 0)
			goto fail;
	}
	return z;
fail:
	ldns_zone_deep_free(z);
	return NULL;
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
