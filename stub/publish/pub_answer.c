/*
 * pub_answer.c -- answering a query from the publisher's signed zones
 * (publish.h), as an authoritative server does (RFC 1034 4.3.2, RFC 4035
 * 3.1): the RRset; NODATA or NXDOMAIN with the SOA; with DO, the RRSIGs
 * and the NSEC records that prove a denial (the name's own, the one
 * covering the name, the one covering the wildcard at the closest
 * encloser).  The query was parsed and checked by stub/dns already; the
 * answer is made with libldns.
 */
#include "pub_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The zone holding name (canonical), or -1. */
static int zone_of(const struct ds_publisher *p, const ldns_rdf *name)
{
	int best = -1;

	for (int i = 0; i < PUB_NZONES; i++) {
		if (ldns_dname_compare(name, p->apex[i]) != 0 &&
		    !ldns_dname_is_subdomain(name, p->apex[i]))
			continue;
		/* the deeper apex wins (N could be under resolver-name.arpa) */
		if (best < 0 || ldns_dname_label_count(p->apex[i]) >
				ldns_dname_label_count(p->apex[best]))
			best = i;
	}
	return best;
}

bool ds_publisher_covers(const struct ds_publisher *p, const uint8_t *qname, size_t qlen)
{
	ldns_rdf *n = ldns_dname_new_frm_data((uint16_t)qlen, qname);
	bool in;

	if (n == NULL)
		return false;
	ldns_dname2canonical(n);
	in = zone_of(p, n) >= 0;
	ldns_rdf_deep_free(n);
	return in;
}

/* ---- looking names up ---- */

static const ldns_dnssec_name *find_name(const ldns_dnssec_zone *dz, const ldns_rdf *n)
{
	ldns_rbnode_t *node = ldns_rbtree_search(dz->names, n);

	return node && node != LDNS_RBTREE_NULL ? node->data : NULL;
}

/* The last name at or before n in canonical order (the apex at least). */
static const ldns_dnssec_name *at_or_before(const ldns_dnssec_zone *dz, const ldns_rdf *n)
{
	ldns_rbnode_t *node = NULL;

	ldns_rbtree_find_less_equal(dz->names, n, &node);
	if (node == NULL || node == LDNS_RBTREE_NULL)
		node = ldns_rbtree_first(dz->names);
	return node && node != LDNS_RBTREE_NULL ? node->data : NULL;
}

/* Does n exist: a name with records, or an empty non-terminal (a name
 * below it has records)? */
static bool name_exists(const ldns_dnssec_zone *dz, const ldns_rdf *n)
{
	ldns_rbnode_t *node = NULL;

	if (find_name(dz, n))
		return true;
	ldns_rbtree_find_less_equal(dz->names, n, &node);
	node = node && node != LDNS_RBTREE_NULL ? ldns_rbtree_next(node) : ldns_rbtree_first(dz->names);
	return node && node != LDNS_RBTREE_NULL &&
	       ldns_dname_is_subdomain(((const ldns_dnssec_name *)node->data)->name, n);
}

/* ---- putting records in the answer ---- */

static int push(ldns_pkt *pkt, ldns_pkt_section sec, const ldns_rr *rr)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (c == NULL || !ldns_pkt_push_rr(pkt, sec, c)) {
		ldns_rr_free(c);
		return -ENOMEM;
	}
	return 0;
}

static int push_rrs(ldns_pkt *pkt, ldns_pkt_section sec, const ldns_dnssec_rrs *rrs)
{
	for (; rrs; rrs = rrs->next)
		if (push(pkt, sec, rrs->rr) < 0)
			return -ENOMEM;
	return 0;
}

static int push_rrset(ldns_pkt *pkt, ldns_pkt_section sec, const ldns_dnssec_rrsets *set,
		      bool dnssec)
{
	if (push_rrs(pkt, sec, set->rrs) < 0)
		return -ENOMEM;
	return dnssec ? push_rrs(pkt, sec, set->signatures) : 0;
}

/* The NSEC of name (and its RRSIG), once. */
static int push_nsec(ldns_pkt *pkt, const ldns_dnssec_name *name, const ldns_dnssec_name **done)
{
	if (name == NULL || name->nsec == NULL || name == *done)
		return 0;
	*done = name;
	if (push(pkt, LDNS_SECTION_AUTHORITY, name->nsec) < 0)
		return -ENOMEM;
	return push_rrs(pkt, LDNS_SECTION_AUTHORITY, name->nsec_signatures);
}

static int push_soa(ldns_pkt *pkt, const ldns_dnssec_zone *dz, bool dnssec)
{
	const ldns_dnssec_rrsets *soa = ldns_dnssec_name_find_rrset(dz->soa, LDNS_RR_TYPE_SOA);

	return soa ? push_rrset(pkt, LDNS_SECTION_AUTHORITY, soa, dnssec) : -EINVAL;
}

/* The closest encloser of n (which does not exist): its longest existing
 * ancestor, the apex at least.  Owned by the caller. */
static ldns_rdf *closest_encloser(const ldns_dnssec_zone *dz, const ldns_rdf *n,
				  const ldns_rdf *apex)
{
	ldns_rdf *c = ldns_dname_left_chop(n), *up;

	while (c && ldns_dname_compare(c, apex) != 0 && !name_exists(dz, c)) {
		up = ldns_dname_left_chop(c);
		ldns_rdf_deep_free(c);
		c = up;
	}
	return c;
}

static int push_nxdomain_proof(ldns_pkt *pkt, const ldns_dnssec_zone *dz, const ldns_rdf *n,
			       const ldns_rdf *apex)
{
	const ldns_dnssec_name *done = NULL;
	ldns_rdf *ce, *wild = NULL, *star;
	int r;

	if ((r = push_nsec(pkt, at_or_before(dz, n), &done)) < 0)
		return r;
	if ((ce = closest_encloser(dz, n, apex)) == NULL)
		return -ENOMEM;
	star = ldns_dname_new_frm_str("*");
	if (star)
		wild = ldns_dname_cat_clone(star, ce);
	r = wild ? push_nsec(pkt, at_or_before(dz, wild), &done) : -ENOMEM;
	if (star)
		ldns_rdf_deep_free(star);
	if (wild)
		ldns_rdf_deep_free(wild);
	ldns_rdf_deep_free(ce);
	return r;
}

/* Fill pkt's sections and rcode for the question n/type in zone z. */
static int fill(ldns_pkt *pkt, const struct ds_pub_signed *z, const ldns_rdf *apex,
		const ldns_rdf *n, ldns_rr_type type, bool dnssec)
{
	const ldns_dnssec_zone *dz = z->dz;
	const ldns_dnssec_name *name = find_name(dz, n), *done = NULL;
	const ldns_dnssec_rrsets *set;
	bool any = false;
	int r;

	if (name) {
		for (set = name->rrsets; set; set = set->next) {
			if (set->type != type && type != LDNS_RR_TYPE_ANY)
				continue;
			if ((r = push_rrset(pkt, LDNS_SECTION_ANSWER, set, dnssec)) < 0)
				return r;
			any = true;
		}
		if (type == LDNS_RR_TYPE_NSEC && name->nsec) {
			if (push(pkt, LDNS_SECTION_ANSWER, name->nsec) < 0 ||
			    (dnssec && push_rrs(pkt, LDNS_SECTION_ANSWER, name->nsec_signatures) < 0))
				return -ENOMEM;
			any = true;
		}
		if (any)
			return 0;
	}
	/* NODATA (the name, or an empty non-terminal) or NXDOMAIN */
	if ((r = push_soa(pkt, dz, dnssec)) < 0)
		return r;
	if (name || name_exists(dz, n))
		return dnssec ? push_nsec(pkt, name ? name : at_or_before(dz, n), &done) : 0;
	ldns_pkt_set_rcode(pkt, LDNS_RCODE_NXDOMAIN);
	return dnssec ? push_nxdomain_proof(pkt, dz, n, apex) : 0;
}

/* A new answer to q: header, question, OPT. */
static ldns_pkt *answer_new(const struct dns_query *q)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rdf *owner = ldns_dname_new_frm_data((uint16_t)q->qname_len, q->qname);
	ldns_rr *qrr = ldns_rr_new();

	if (!pkt || !owner || !qrr) {
		if (pkt)
			ldns_pkt_free(pkt);
		if (owner)
			ldns_rdf_deep_free(owner);
		if (qrr)
			ldns_rr_free(qrr);
		return NULL;
	}
	ldns_rr_set_owner(qrr, owner);
	ldns_rr_set_type(qrr, (ldns_rr_type)q->qtype);
	ldns_rr_set_class(qrr, (ldns_rr_class)q->qclass);
	ldns_rr_set_question(qrr, true);
	if (!ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, qrr)) {
		ldns_rr_free(qrr);
		ldns_pkt_free(pkt);
		return NULL;
	}
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_aa(pkt, true);
	ldns_pkt_set_rd(pkt, (q->flags & 0x0100) != 0);
	ldns_pkt_set_cd(pkt, q->cd_bit);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_opcode(pkt, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(pkt, LDNS_RCODE_NOERROR);
	if (q->has_edns) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		ldns_pkt_set_edns_do(pkt, q->do_bit);
	}
	return pkt;
}

/* pkt in wire form into out, if it fits in max: the length, or -E2BIG. */
static int to_wire(const ldns_pkt *pkt, size_t max, uint8_t *out, size_t outsize)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	int r;

	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK)
		return -ENOMEM;
	r = len > max || len > outsize ? -E2BIG : (int)len;
	if (r > 0)
		memcpy(out, wire, len);
	free(wire);
	return r;
}

int ds_publisher_answer(const struct ds_publisher *p, const struct dns_query *q, size_t max,
			uint8_t *out, size_t outsize)
{
	ldns_rdf *n = ldns_dname_new_frm_data((uint16_t)q->qname_len, q->qname);
	ldns_pkt *pkt = n ? answer_new(q) : NULL;
	int zi, r = -ENOMEM;

	if (pkt == NULL)
		goto out;
	ldns_dname2canonical(n);
	zi = zone_of(p, n);
	if (zi < 0) {
		r = -ENOENT;
		goto out;
	}
	if (q->qclass != LDNS_RR_CLASS_IN)
		ldns_pkt_set_rcode(pkt, LDNS_RCODE_REFUSED);
	else if ((r = fill(pkt, p->zone[zi], p->apex[zi], n, (ldns_rr_type)q->qtype,
			   q->do_bit)) < 0)
		goto out;
	r = to_wire(pkt, max, out, outsize);
	if (r == -E2BIG) {
		/* TC=1, the question and the OPT only (RFC 2181 9) */
		ldns_pkt_free(pkt);
		if ((pkt = answer_new(q)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		ldns_pkt_set_tc(pkt, true);
		r = to_wire(pkt, max, out, outsize);
	}
out:
	if (pkt)
		ldns_pkt_free(pkt);
	if (n)
		ldns_rdf_deep_free(n);
	return r;
}
