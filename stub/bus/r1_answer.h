/*
 * r1_answer.h -- the DNS side of the resolve1 Resolve* methods, without
 * the bus: the query to ask, and what an answer (untrusted: every octet is
 * bounds-checked) holds for ResolveHostname (addresses), ResolveAddress
 * (names) and ResolveRecord (whole records, names in RDATA uncompressed).
 * CNAME chains inside the answer are followed from the question's name;
 * nothing here allocates or logs.
 */
#ifndef DOTSTUB_R1_ANSWER_H
#define DOTSTUB_R1_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotstub/wire.h"

#define R1_ANSWER_MAX_CNAME 16      /* links of a CNAME chain followed */

/* A query for name (wire form) / qtype / qclass with RD and AD set and an
 * OPT record (so an EDE can come back).  Returns the length or -EMSGSIZE. */
int r1_answer_query(const uint8_t *name, size_t name_len, uint16_t qtype, uint16_t qclass,
		    uint16_t id, uint8_t *out, size_t cap);

/* The reverse-lookup name of an address (4 or 16 octets), wire form.
 * Returns the length or -EINVAL. */
int r1_answer_reverse_name(int family, const uint8_t *addr, size_t alen,
			   uint8_t out[DNS_NAME_MAX]);

/* What an answer says as a whole. */
struct r1_answer_info {
	unsigned rcode;
	bool ad;                         /* the AD bit */
	uint8_t canonical[DNS_NAME_MAX]; /* the question's name at the end of
					  * its CNAME chain (wire form) */
	size_t canonical_len;
	bool cname_loop;                 /* longer than R1_ANSWER_MAX_CNAME */
	unsigned matches;                /* records of the wanted type there */
};

/*
 * Walk the answer section of pkt for the records of type qtype (ANY: of
 * every type but CNAME) owned by the question's name at the end of its
 * CNAME chain (no_cname: by the question's name itself), class IN or
 * qclass.  For each, cb is called with the record in uncompressed wire
 * form (owner name as it stands, type, class, TTL, RDLENGTH, RDATA with
 * the names of the RFC 1035 / RFC 3597 types expanded) and where its RDATA
 * starts in rr, built in buf (cap octets: DNS_NAME_MAX + 10 + 65535 hold
 * any); cb may be NULL, and a negative return of cb ends the walk with
 * it.  Returns 0 with info, or -EBADMSG (a
 * malformed message, or one that answers another question: question name,
 * type and class must be those of query, a message of qlen octets).
 */
typedef int r1_answer_rr_cb(void *arg, const uint8_t *rr, size_t len, size_t rdata_off,
			    uint16_t type, uint16_t rclass);
int r1_answer_walk(const uint8_t *pkt, size_t len, const uint8_t *query, size_t qlen,
		   bool no_cname, r1_answer_rr_cb *cb, void *arg, uint8_t *buf, size_t cap,
		   struct r1_answer_info *info);
#define R1_ANSWER_RR_MAX (DNS_NAME_MAX + 10 + 65535)

/* A record of r1_answer_walk's form whose RDATA is one name (PTR): that
 * name in wire form into out.  Returns its length or -EBADMSG. */
int r1_answer_rdata_name(const uint8_t *rr, size_t len, size_t rdata_off,
			 uint8_t out[DNS_NAME_MAX]);

/* The rcode's name as resolved uses it in org.freedesktop.resolve1.DnsError.NAME
 * (IANA's DNS RCODE mnemonics), or NULL for one without a name. */
const char *r1_answer_rcode_name(unsigned rcode);

#endif
