/*
 * provision_upstream.c -- what a forwarder publishes about its upstreams
 * (PROTOCOL.md, "Forwarders"), read from the directories in which the
 * upstreams were provisioned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>
#include <openssl/x509.h>

#include "dotstub/provision.h"

/* What an upstream must have published, as bits of "found". */
enum {
	HAS_ADDRESS = 1,
	HAS_TYPE = 2,
	HAS_TLSA = 4,
	HAS_ALL = HAS_ADDRESS | HAS_TYPE | HAS_TLSA,
};

/* The records of an upstream's zone a forwarder republishes. */
static const struct {
	const char *prefix;	/* owner relative to the upstream's name */
	ldns_rr_type type;
	unsigned int has;	/* the bit it sets in "found" */
} copied[] = {
	{ "", LDNS_RR_TYPE_A, HAS_ADDRESS },
	{ "", LDNS_RR_TYPE_AAAA, HAS_ADDRESS },
	{ "server-type.", LDNS_RR_TYPE_TXT, HAS_TYPE },
	{ "server-function.", LDNS_RR_TYPE_TXT, 0 },
	{ "_853._tcp.", LDNS_RR_TYPE_TLSA, HAS_TLSA },
};

/* Append rr with owner and ttl to list. */
static int
push_as(ldns_rr_list *list, const ldns_rr *rr, const char *owner,
    uint32_t ttl)
{
	ldns_rr *c;

	if ((c = ldns_rr_clone(rr)) == NULL)
		return -ENOMEM;
	if (ds_pub_rr_set_owner(c, owner) < 0) {
		ctl_prov_err("%s: name too long", owner);
		ldns_rr_free(c);
		return -EINVAL;
	}
	ldns_rr_set_ttl(c, ttl);
	if (!ldns_rr_list_push_rr(list, c)) {
		ldns_rr_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* Copy the records of table entry i of zone z (of up) under up.N. */
static int
copy_entry(ldns_rr_list *children, const ldns_zone *z, size_t i,
    const char *up, const char *name, uint32_t ttl, unsigned int *found)
{
	char from[CTL_PROV_NAME_SIZE + 32], to[2 * CTL_PROV_NAME_SIZE + 32];
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	const ldns_rr *rr;
	ldns_rdf *owner;
	size_t j;
	int r = 0;

	snprintf(from, sizeof(from), "%s%s.", copied[i].prefix, up);
	snprintf(to, sizeof(to), "%s%s.%s.", copied[i].prefix, up, name);
	if ((owner = ldns_dname_new_frm_str(from)) == NULL)
		return -EINVAL;
	for (j = 0; r == 0 && j < ldns_rr_list_rr_count(rrs); j++) {
		rr = ldns_rr_list_rr(rrs, j);
		if (ldns_rr_get_type(rr) != copied[i].type ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		r = push_as(children, rr, to, ttl);
		*found |= copied[i].has;
	}
	ldns_rdf_deep_free(owner);
	return r;
}

/* The KEY up.N: the DNSKEY in dir/keys/zone-ksk.key. */
static int
upstream_key(ldns_rr_list *children, const char *dir, const char *up,
    const char *name, uint32_t ttl)
{
	char path[PATH_MAX], owner[2 * CTL_PROV_NAME_SIZE + 4];
	ldns_rr *dnskey = NULL, *key;
	ldns_rdf *want;
	ldns_status s;
	uint32_t dttl = ttl;
	FILE *fp;
	int line = 0, r;

	snprintf(path, sizeof(path), "%s/keys/zone-ksk.key", dir);
	if ((fp = fopen(path, "re")) == NULL) {
		ctl_prov_err("%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	s = ldns_rr_new_frm_fp_l(&dnskey, fp, &dttl, NULL, NULL, &line);
	fclose(fp);
	snprintf(owner, sizeof(owner), "%s.", up);
	want = ldns_dname_new_frm_str(owner);
	r = s == LDNS_STATUS_OK && want != NULL &&
	    ldns_rr_get_type(dnskey) == LDNS_RR_TYPE_DNSKEY &&
	    ldns_dname_compare(ldns_rr_owner(dnskey), want) == 0 &&
	    (ldns_rdf2native_int16(ldns_rr_rdf(dnskey, 0)) &
	    LDNS_KEY_SEP_KEY) ? 0 : -EINVAL;
	ldns_rdf_deep_free(want);
	if (r < 0) {
		ctl_prov_err("%s: not the DNSKEY of %s's KSK", path, up);
	} else {
		snprintf(owner, sizeof(owner), "%s.%s.", up, name);
		if ((key = ds_pub_key_record(dnskey, owner)) == NULL) {
			ctl_prov_err("%s: name too long", owner);
			r = -EINVAL;
		} else {
			ldns_rr_set_ttl(key, ttl);
			if (!ldns_rr_list_push_rr(children, key)) {
				ldns_rr_free(key);
				r = -ENOMEM;
			}
		}
	}
	if (s == LDNS_STATUS_OK)
		ldns_rr_free(dnskey);
	return r;
}

static int
add_text(ldns_rr_list *list, uint32_t ttl, const char *text)
{
	ldns_status s;
	ldns_rr *rr;

	if ((s = ldns_rr_new_frm_str(&rr, text, ttl, NULL, NULL)) !=
	    LDNS_STATUS_OK) {
		ctl_prov_err("bad record \"%s\": %s", text,
		    ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

/* upstreams.N PTR up. and transport.up.N TXT "dot". */
static int
upstream_pointers(ldns_rr_list *children, const char *up, const char *name,
    uint32_t ttl)
{
	char line[3 * CTL_PROV_NAME_SIZE + 64];
	int r;

	snprintf(line, sizeof(line), "upstreams.%s. %u IN PTR %s.", name, ttl,
	    up);
	if ((r = add_text(children, ttl, line)) < 0)
		return r;
	snprintf(line, sizeof(line), "transport.%s.%s. %u IN TXT \"dot\"", up,
	    name, ttl);
	return add_text(children, ttl, line);
}

/* Whether children already has upstreams.N PTR up. */
static bool
upstream_listed(const ldns_rr_list *children, const char *up)
{
	char fqdn[CTL_PROV_NAME_SIZE + 1];
	const ldns_rr *rr;
	ldns_rdf *want;
	bool found = false;
	size_t i;

	snprintf(fqdn, sizeof(fqdn), "%s.", up);
	if ((want = ldns_dname_new_frm_str(fqdn)) == NULL)
		return false;
	for (i = 0; !found && i < ldns_rr_list_rr_count(children); i++) {
		rr = ldns_rr_list_rr(children, i);
		found = ldns_rr_get_type(rr) == LDNS_RR_TYPE_PTR &&
		    ldns_dname_compare(ldns_rr_rdf(rr, 0), want) == 0;
	}
	ldns_rdf_deep_free(want);
	return found;
}

/* The A/AAAA records of up. in z, into u's addresses. */
static void
upstream_addrs(const ldns_zone *z, const char *up,
    struct ctl_prov_upstream *u)
{
	char fqdn[CTL_PROV_NAME_SIZE + 1], *text;
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	const ldns_rr *rr;
	ldns_rdf *owner;
	size_t i;

	snprintf(fqdn, sizeof(fqdn), "%s.", up);
	if ((owner = ldns_dname_new_frm_str(fqdn)) == NULL)
		return;
	for (i = 0; i < ldns_rr_list_rr_count(rrs) &&
	    u->naddr < CTL_PROV_MAX_ADDRS; i++) {
		rr = ldns_rr_list_rr(rrs, i);
		if ((ldns_rr_get_type(rr) != LDNS_RR_TYPE_A &&
		    ldns_rr_get_type(rr) != LDNS_RR_TYPE_AAAA) ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0 ||
		    (text = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
			continue;
		u->addr[u->naddr].family = ldns_rr_get_type(rr) ==
		    LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		snprintf(u->addr[u->naddr].text, sizeof(u->addr[0].text),
		    "%s", text);
		u->naddr++;
		free(text);
	}
	ldns_rdf_deep_free(owner);
}

void
ctl_prov_upstreams_free(struct ctl_prov_upstreams *ups)
{
	size_t i;

	for (i = 0; i < ups->n; i++) {
		X509_free(ups->up[i].anchor);
		ups->up[i].anchor = NULL;
	}
	ups->n = 0;
}

int
ctl_prov_upstream_load(struct ldns_struct_rr_list *children,
    const char *dir, const char *name, uint32_t ttl,
    struct ctl_prov_upstream *u)
{
	char path[PATH_MAX], up[CTL_PROV_NAME_SIZE], line[CTL_PROV_NAME_SIZE];
	char fqdn[CTL_PROV_NAME_SIZE + 1];
	unsigned int found = 0;
	ldns_zone *z;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "%s/name", dir);
	if ((r = ctl_prov_read_line(path, line, sizeof(line))) < 0)
		return r;
	if (ctl_prov_name_parse(line, up, sizeof(up)) < 0) {
		ctl_prov_err("%s: not a resolver name", path);
		return -EINVAL;
	}
	if (strcmp(up, name) == 0) {
		ctl_prov_err("%s: the upstream is this resolver", dir);
		return -EINVAL;
	}
	if (upstream_listed(children, up)) {
		ctl_prov_err("%s: upstream %s given twice", dir, up);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/" CTL_PROV_ZONE_FMT, dir, up);
	snprintf(fqdn, sizeof(fqdn), "%s.", up);
	if ((r = ctl_prov_zone_read(&z, path, fqdn)) < 0)
		return r;
	for (i = 0; r == 0 && i < sizeof(copied) / sizeof(copied[0]); i++)
		r = copy_entry(children, z, i, up, name, ttl, &found);
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", up);
	upstream_addrs(z, up, u);
	ldns_zone_deep_free(z);
	if (r == 0 && found != HAS_ALL) {
		ctl_prov_err("%s: lacks an address, server-type or TLSA of %s",
		    path, up);
		r = -EINVAL;
	}
	if (r == 0)
		r = upstream_key(children, dir, up, name, ttl);
	if (r == 0)
		r = upstream_pointers(children, up, name, ttl);
	if (r == 0)
		r = ctl_prov_tls_anchor_load(&u->anchor, dir);
	return r;
}
