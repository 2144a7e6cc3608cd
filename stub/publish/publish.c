/*
 * publish.c -- the daemon's publication (publish.h): resolver-name.arpa
 * and its own unique zone as a forwarder, with the records of the
 * upstreams it forwards to, built and signed in memory; signed again when
 * the upstreams change and before the signatures run out.
 */
#include "pub_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_serial(ldns_zone *z, uint32_t serial)
{
	ldns_rr *soa = ldns_zone_soa(z);
	ldns_rdf *new = ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, serial);

	if (new == NULL)
		return -ENOMEM;
	ldns_rdf_deep_free(ldns_rr_set_rdf(soa, new, 2));
	return 0;
}

/* The unsigned zones as they should be now. */
static int build(const struct ds_publisher *p, ldns_zone *z[PUB_NZONES])
{
	const char *addr[PUB_MAX_ADDRS];
	struct ds_pub_zone_spec s = {
		.name = p->name, .ttl = DS_PUB_TTL, .addr = addr, .naddr = p->naddr,
		.type = "forwarder", .function = "forwarder", .tlsa = p->tlsa,
	};
	ldns_rr_list *children = ldns_rr_list_new();
	int r = 0;

	if (children == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < p->naddr; i++)
		addr[i] = p->addr[i];
	for (size_t i = 0; i < p->nup && r == 0; i++)
		r = ds_pub_upstream_records(children, p->name, DS_PUB_TTL, &p->up[i]);
	s.children = children;
	if (r == 0)
		r = ds_pub_zone_arpa(&z[PUB_ZONE_ARPA], p->name, p->keys.key[DS_PUB_ZONE_KSK],
				     DS_PUB_TTL);
	if (r == 0) {
		r = ds_pub_zone_unique(&z[PUB_ZONE_UNIQUE], &s);
		if (r < 0) {
			ldns_zone_deep_free(z[PUB_ZONE_ARPA]);
			z[PUB_ZONE_ARPA] = NULL;
		}
	}
	ldns_rr_list_deep_free(children);
	return r;
}

/* Build and sign both zones; on success they replace the published ones. */
static int publish(struct ds_publisher *p, time_t now, char *why, size_t whylen)
{
	static const int ksk[PUB_NZONES] = { DS_PUB_ARPA_KSK, DS_PUB_ZONE_KSK };
	ldns_zone *z[PUB_NZONES] = { NULL, NULL };
	struct ds_pub_signed *s[PUB_NZONES] = { NULL, NULL };
	uint32_t serial = (uint32_t)now;
	time_t inception = now - 3600, expiration = now + (time_t)DS_PUB_SIG_DAYS * 86400;
	int r;

	/* a higher serial every time (RFC 1982), also twice in a second */
	if ((int32_t)(serial - p->serial) <= 0)
		serial = p->serial + 1;
	if ((r = build(p, z)) < 0) {
		snprintf(why, whylen, "cannot build the zones: %s", strerror(-r));
		return r;
	}
	ds_pub_keys_set_validity(&p->keys, (uint32_t)inception, (uint32_t)expiration);
	for (int i = 0; i < PUB_NZONES && r == 0; i++) {
		r = set_serial(z[i], serial);
		if (r == 0)
			r = ds_pub_sign(z[i], p->keys.key[ksk[i]], p->keys.key[ksk[i] + 1], &s[i],
					why, whylen);
	}
	for (int i = 0; i < PUB_NZONES; i++)
		ldns_zone_deep_free(z[i]);
	if (r < 0) {
		for (int i = 0; i < PUB_NZONES; i++)
			ds_pub_signed_free(s[i]);
		return r;
	}
	for (int i = 0; i < PUB_NZONES; i++) {
		ds_pub_signed_free(p->zone[i]);
		p->zone[i] = s[i];
	}
	p->serial = serial;
	p->inception = inception;
	p->expiration = expiration;
	return 0;
}

static int set_apexes(struct ds_publisher *p)
{
	char fqdn[DS_PUB_NAME_SIZE + 1];

	snprintf(fqdn, sizeof(fqdn), "%s.", p->name);
	p->apex[PUB_ZONE_ARPA] = ldns_dname_new_frm_str(DS_PUB_ARPA ".");
	p->apex[PUB_ZONE_UNIQUE] = ldns_dname_new_frm_str(fqdn);
	if (!p->apex[PUB_ZONE_ARPA] || !p->apex[PUB_ZONE_UNIQUE])
		return -EINVAL;
	ldns_dname2canonical(p->apex[PUB_ZONE_UNIQUE]);
	return 0;
}

struct ds_publisher *ds_publisher_new(struct ds_pub_keys *keys, const char *name,
				      const char *const *addr, size_t naddr, const char *tlsa,
				      char *why, size_t whylen)
{
	struct ds_publisher *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->up = calloc(PUB_MAX_UPSTREAMS, sizeof(*p->up))) == NULL) {
		free(p);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	p->keys = *keys;
	memset(keys, 0, sizeof(*keys));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->tlsa, sizeof(p->tlsa), "%s", tlsa ? tlsa : "");
	for (size_t i = 0; i < naddr && p->naddr < PUB_MAX_ADDRS; i++)
		snprintf(p->addr[p->naddr++], sizeof(p->addr[0]), "%s", addr[i]);
	if (set_apexes(p) < 0) {
		snprintf(why, whylen, "%s: not a name", name);
		ds_publisher_free(p);
		return NULL;
	}
	if (publish(p, time(NULL), why, whylen) < 0) {
		ds_publisher_free(p);
		return NULL;
	}
	return p;
}

void ds_publisher_free(struct ds_publisher *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < PUB_NZONES; i++) {
		ds_pub_signed_free(p->zone[i]);
		if (p->apex[i])
			ldns_rdf_deep_free(p->apex[i]);
	}
	ds_pub_keys_free(&p->keys);
	free(p->up);
	free(p);
}

static bool same_upstreams(const struct ds_publisher *p, const struct ds_pub_upstream *u,
			   size_t n)
{
	if (n != p->nup)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct ds_pub_upstream *a = &p->up[i], *b = &u[i];
		if (strcmp(a->name, b->name) || strcmp(a->key, b->key) || a->naddr != b->naddr ||
		    a->ntlsa != b->ntlsa || memcmp(a->addr, b->addr, sizeof(a->addr)) ||
		    memcmp(a->tlsa, b->tlsa, sizeof(a->tlsa)) ||
		    (a->type != b->type && (!a->type || !b->type || strcmp(a->type, b->type))) ||
		    strcmp(a->transport, b->transport))
			return false;
	}
	return true;
}

int ds_publisher_set_upstreams(struct ds_publisher *p, const struct ds_pub_upstream *u, size_t n,
			       char *why, size_t whylen)
{
	struct ds_pub_upstream *old;
	size_t nold = p->nup;
	int r;

	if (n > PUB_MAX_UPSTREAMS)
		n = PUB_MAX_UPSTREAMS;
	if (same_upstreams(p, u, n))
		return 0;
	old = calloc(PUB_MAX_UPSTREAMS, sizeof(*old));
	if (old == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memcpy(old, p->up, PUB_MAX_UPSTREAMS * sizeof(*old));
	memset(p->up, 0, PUB_MAX_UPSTREAMS * sizeof(*old));
	if (n)
		memcpy(p->up, u, n * sizeof(*u));
	p->nup = n;
	r = publish(p, time(NULL), why, whylen);
	if (r < 0) {
		memcpy(p->up, old, PUB_MAX_UPSTREAMS * sizeof(*old));
		p->nup = nold;
	}
	free(old);
	return r < 0 ? r : 1;
}

int ds_publisher_resign(struct ds_publisher *p, time_t now, bool force, char *why, size_t whylen)
{
	time_t half = (p->expiration - p->inception) / 2;
	int r;

	if (!force && now < p->expiration - half)
		return 0;
	r = publish(p, now, why, whylen);
	return r < 0 ? r : 1;
}

time_t ds_publisher_expiration(const struct ds_publisher *p)
{
	return p->expiration;
}

const char *ds_publisher_name(const struct ds_publisher *p)
{
	return p->name;
}

uint16_t ds_publisher_anchor_tag(const struct ds_publisher *p)
{
	return ldns_key_keytag(p->keys.key[DS_PUB_ARPA_KSK]);
}

int ds_publisher_anchor_text(const struct ds_publisher *p, char *out, size_t outlen)
{
	ldns_rr *rr = ds_pub_key_dnskey(p->keys.key[DS_PUB_ARPA_KSK], DS_PUB_TTL);
	char *s, *nl;
	int r = 0;

	if (rr == NULL)
		return -ENOMEM;
	s = ldns_rr2str_fmt(ldns_output_format_nocomments, rr);
	ldns_rr_free(rr);
	if (s == NULL)
		return -ENOMEM;
	if ((nl = strchr(s, '\n')))
		*nl = '\0';
	for (char *t = s; *t; t++)
		if (*t == '\t')
			*t = ' ';
	if ((size_t)snprintf(out, outlen, "%s", s) >= outlen)
		r = -ENOSPC;
	free(s);
	return r;
}

void ds_publisher_print_anchor(const struct ds_publisher *p, FILE *f)
{
	char line[1024];

	if (ds_publisher_anchor_text(p, line, sizeof(line)) < 0)
		return;
	fprintf(f, "; resolver-name.arpa trust anchor of %s (KSK, key tag %u)\n%s\n", p->name,
		ds_publisher_anchor_tag(p), line);
}
