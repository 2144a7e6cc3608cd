/*
 * pub_zone.c -- the two zones a resolver publishes (PROTOCOL.md, "What the
 * resolver publishes") and what a forwarder adds about its upstreams
 * ("Forwarders"), built in memory as ldns zones, unsigned.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/publish.h"

/* SOA timers: refresh, retry, expire (the minimum is the TTL). */
#define SOA_TIMERS "3600 900 1209600"
/* The longest record text made here: a TLSA of DS_TLSA_DATA_MAX octets
 * in hex under two names. */
#define LINE_MAX_LEN 4800

/* Add rr to z; on failure rr is freed.  Returns 0 or -ENOMEM. */
static int zone_push(ldns_zone *z, ldns_rr *rr)
{
	if (!ldns_zone_push_rr(z, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static int rr_from_text(ldns_rr **ret, uint32_t ttl, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	if (ldns_rr_new_frm_str(ret, line, ttl, NULL, NULL) != LDNS_STATUS_OK)
		return -EINVAL;
	return 0;
}

int ds_pub_zone_add(struct ldns_struct_zone *z, uint32_t ttl, const char *fmt, ...)
{
	ldns_rr *rr;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rr_from_text(&rr, ttl, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
		if (ldns_zone_soa(z))
			ldns_rr_free(ldns_zone_soa(z));
		ldns_zone_set_soa(z, rr);
		return 0;
	}
	return zone_push(z, rr);
}

static int __attribute__((format(printf, 3, 4)))
list_add(ldns_rr_list *list, uint32_t ttl, const char *fmt, ...)
{
	ldns_rr *rr;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rr_from_text(&rr, ttl, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static int zone_soa_ns(ldns_zone *z, const char *origin, const char *name, uint32_t ttl)
{
	int r;

	if ((r = ds_pub_zone_add(z, ttl, "%s. %u IN SOA %s. hostmaster.%s. 1 " SOA_TIMERS " %u",
				 origin, ttl, name, name, ttl)) < 0)
		return r;
	return ds_pub_zone_add(z, ttl, "%s. %u IN NS %s.", origin, ttl, name);
}

int ds_pub_zone_arpa(struct ldns_struct_zone **ret, const char *name,
		     const struct ldns_struct_key *zone_ksk, uint32_t ttl)
{
	char owner[DS_PUB_NAME_SIZE + sizeof(DS_PUB_ARPA) + 2];
	ldns_rr *dnskey, *key;
	ldns_zone *z;
	int r;

	if ((z = ldns_zone_new()) == NULL)
		return -ENOMEM;
	if ((r = zone_soa_ns(z, DS_PUB_ARPA, name, ttl)) < 0)
		goto fail;
	snprintf(owner, sizeof(owner), "%s.%s.", name, DS_PUB_ARPA);
	r = -ENOMEM;
	if ((dnskey = ds_pub_key_dnskey(zone_ksk, ttl)) == NULL)
		goto fail;
	key = ds_pub_key_record(dnskey, owner);
	ldns_rr_free(dnskey);
	if (key == NULL) {
		r = -EINVAL;
		goto fail;
	}
	if ((r = zone_push(z, key)) < 0)
		goto fail;
	*ret = z;
	return 0;
fail:
	ldns_zone_deep_free(z);
	return r;
}

static int zone_body(ldns_zone *z, const struct ds_pub_zone_spec *s)
{
	const char *name = s->name;
	size_t i;
	int r;

	if ((r = zone_soa_ns(z, name, name, s->ttl)) < 0)
		return r;
	for (i = 0; i < s->naddr; i++)
		if ((r = ds_pub_zone_add(z, s->ttl, "%s. %u IN %s %s", name, s->ttl,
					 strchr(s->addr[i], ':') ? "AAAA" : "A", s->addr[i])) < 0)
			return r;
	if ((r = ds_pub_zone_add(z, s->ttl, "server-type.%s. %u IN TXT \"%s\"", name, s->ttl,
				 s->type)) < 0 ||
	    (r = ds_pub_zone_add(z, s->ttl, "server-function.%s. %u IN TXT \"%s\"", name, s->ttl,
				 s->function)) < 0)
		return r;
	if (s->tlsa && s->tlsa[0] &&
	    (r = ds_pub_zone_add(z, s->ttl, "_853._tcp.%s. %u IN TLSA %s", name, s->ttl,
				 s->tlsa)) < 0)
		return r;
	for (i = 0; s->children && i < ldns_rr_list_rr_count(s->children); i++) {
		ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(s->children, i));
		if (rr == NULL || (r = zone_push(z, rr)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int ds_pub_zone_unique(struct ldns_struct_zone **ret, const struct ds_pub_zone_spec *s)
{
	ldns_zone *z;
	int r;

	if ((z = ldns_zone_new()) == NULL)
		return -ENOMEM;
	if ((r = zone_body(z, s)) < 0) {
		ldns_zone_deep_free(z);
		return r;
	}
	*ret = z;
	return 0;
}

/* KEY U.N from "FLAGS PROTO ALG BASE64" */
static int upstream_key(ldns_rr_list *children, const char *name, uint32_t ttl,
			const struct ds_pub_upstream *u)
{
	if (!u->key[0])
		return 0;
	return list_add(children, ttl, "%s.%s. %u IN KEY %s", u->name, name, ttl, u->key);
}

int ds_pub_upstream_records(struct ldns_struct_rr_list *children, const char *name, uint32_t ttl,
			    const struct ds_pub_upstream *u)
{
	const char *un = u->name;
	size_t i;
	int r;

	if ((r = list_add(children, ttl, "upstreams.%s. %u IN PTR %s.", name, ttl, un)) < 0 ||
	    (r = upstream_key(children, name, ttl, u)) < 0)
		return r;
	for (i = 0; i < u->naddr; i++)
		if ((r = list_add(children, ttl, "%s.%s. %u IN %s %s", un, name, ttl,
				  strchr(u->addr[i], ':') ? "AAAA" : "A", u->addr[i])) < 0)
			return r;
	if (u->type &&
	    (r = list_add(children, ttl, "server-type.%s.%s. %u IN TXT \"%s\"", un, name, ttl,
			  u->type)) < 0)
		return r;
	for (i = 0; i < u->ntlsa; i++)
		if ((r = list_add(children, ttl, "_853._tcp.%s.%s. %u IN TLSA %s", un, name, ttl,
				  u->tlsa[i])) < 0)
			return r;
	return list_add(children, ttl, "transport.%s.%s. %u IN TXT \"%s\"", un, name, ttl,
			u->transport);
}
