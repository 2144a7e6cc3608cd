/*
 * message.h -- DNS messages: parse a client query, build the upstream query
 * with a rebuilt, padded OPT (RFC 8467), parse an upstream answer, compose
 * the answer for a client (TTLs, EDNS, truncation over UDP, Extended DNS
 * Errors).  Built on the wire format (dotstub/wire.h); same rules: every
 * byte is untrusted, nothing reads or writes outside its buffer, nothing
 * allocates, nothing logs.
 */
#ifndef DOTSTUB_MESSAGE_H
#define DOTSTUB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotstub/wire.h"

/* ---- a client's (or our own) query ---- */
struct dns_query {
	uint16_t id;
	uint16_t flags;         /* as received: RD, CD, opcode... */
	uint8_t qname[DNS_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool has_edns;          /* an OPT record was present (when the parse
				 * failed: an OPT anywhere, well-formed or not,
				 * so the error answer carries one, RFC 6891 7) */
	uint8_t edns_version;
	uint16_t udp_size;      /* advertised size: 512 without EDNS, >= 512 with */
	bool do_bit;
	bool cd_bit;
	bool has_cookie;        /* client sent a COOKIE option (not forwarded) */
};

enum dns_parse_result {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP = -1,    /* not even a header, or QR=1: drop silently */
	DNS_PARSE_FORMERR = -2, /* answer FORMERR (header id/opcode are valid) */
	DNS_PARSE_NOTIMP = -3,  /* opcode other than QUERY */
	DNS_PARSE_BADVERS = -4, /* EDNS version > 0: answer BADVERS */
};

/* Parse a query from a client.  Rules: QR=0; opcode QUERY (else NOTIMP);
 * QDCOUNT == 1, ANCOUNT == 0; NSCOUNT must be 0; ARCOUNT may hold at most one
 * OPT (owner root), which must be the only additional record; trailing
 * garbage -> FORMERR.  On OK, q is filled.  On FORMERR/NOTIMP/BADVERS q->id
 * and q->flags are valid (and the question too if it could be read, with
 * qname_len 0 if not) so an error answer can be built; q->has_edns then
 * says whether the query held an OPT record in any section, even a
 * malformed one or one of two (DO and the UDP size are only taken from a
 * well-formed one). */
enum dns_parse_result dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/* Is qtype a question a stub may forward?  The meta-types and the
 * QTYPEs of RFC 6895 3.1 other than ANY are not: returns the rcode to
 * answer locally (FORMERR for QTYPE 0 and OPT, NOTIMP for TKEY, TSIG,
 * IXFR, AXFR, MAILB, MAILA and the unassigned 128-248), or 0 (forward:
 * every data type, known or not, and ANY).  If text is not NULL, *text
 * is set to a short reason for an EDE (NULL when 0 is returned). */
int dns_qtype_local_rcode(uint16_t qtype, const char **text);

/* Build the query dotstub sends upstream for q: id, flags RD (copied) and
 * CD (copied), AD set (RFC 6840 5.7: we understand AD, so the upstream
 * reports it; dns_compose_answer passes it on only from an authenticated
 * upstream, and only to clients that asked with AD or DO), the question
 * as given (case kept), and an OPT record built afresh: UDP size
 * DNS_EDNS_UDP_SIZE, version 0, DO copied from q, optionally an empty EDNS
 * keepalive option (RFC 7828: only over TCP/TLS), then a PADDING option
 * making the whole message a multiple of DNS_PAD_BLOCK_QUERY octets (RFC
 * 8467).  No client option is ever copied.
 * Returns the length written, -EMSGSIZE, or -EINVAL if q->qname is not a
 * valid wire name. */
int dns_build_upstream_query(const struct dns_query *q, uint16_t id, bool keepalive,
			     uint8_t *out, size_t cap);
/* The same, as small as it can be: no keepalive, no padding, and no OPT
 * at all unless DO is set (then the OPT is just that: 11 octets).  For the
 * one retry of a query whose answer came back truncated over a stream: the
 * server's own OPT may be what did not fit in 65,535 octets. */
int dns_build_upstream_query_min(const struct dns_query *q, uint16_t id, uint8_t *out,
				 size_t cap);

/* ---- an answer from upstream ---- */
#define DNS_MAX_TTL_FIELDS 256
struct dns_response {
	uint16_t id;
	uint16_t flags;
	uint8_t qname[DNS_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t ancount, nscount, arcount; /* arcount without the OPT */
	size_t question_end;   /* offset just past the question */
	size_t body_len;       /* length of the message without its OPT record */
	/* Not from the wire: true only for an answer that came over an
	 * authenticated channel (DoT authenticated with DANE), set by the one
	 * who received it; dns_parse_response sets false.  Only then may the
	 * upstream's AD reach a client (RFC 4035 4.9.3, RFC 6840 5.7): plain
	 * DNS can be forged by anyone on path. */
	bool authenticated;
	/* offsets of every TTL field outside the OPT record (answer, authority,
	 * additional), for decrementing them on the way out of the cache */
	uint16_t ttl_off[DNS_MAX_TTL_FIELDS];
	unsigned n_ttl;
	bool ttl_overflow;     /* more RRs than DNS_MAX_TTL_FIELDS: do not cache */
	/* Cache lifetime in seconds (already capped by the caller's max):
	 * positive answers: the minimum TTL of the answer section;
	 * NXDOMAIN / NODATA (RFC 2308): min(SOA TTL, SOA MINIMUM) of the SOA in
	 * the authority section, 0 if there is none (then do not cache). */
	uint32_t cache_ttl;
	bool negative;         /* NXDOMAIN or NODATA */
	bool has_edns;
	bool do_bit;
	uint16_t edns_keepalive; /* RFC 7828 TIMEOUT in units of 100 ms, 0 if absent */
	bool has_keepalive;
	/* the first EDE option of the upstream's OPT, if any (passed on) */
	bool has_ede;
	uint16_t ede_code;
	size_t ede_text_off;   /* offset of EXTRA-TEXT in the message */
	uint16_t ede_text_len;
	/* where the OPT record stands in the message (offset of its owner
	 * name, total length), both 0 if none or once stripped */
	size_t opt_off;
	size_t opt_len;
};

/* Parse an upstream answer.  QR must be 1, QDCOUNT 1 with an uncompressed
 * question name, every section must parse, at most one OPT (any position
 * in the additional section; if it is not the last record and a later
 * record points into or past it, that is -EBADMSG).  An OPT with a
 * non-zero extended RCODE (BADVERS, BADCOOKIE: never a cacheable answer,
 * and the body keeps only the low 4 bits) is -EBADMSG too, and so are
 * octets after the last record.  Owner names, and the names in the RDATA of
 * the well-known types (RFC 3597 4), are decoded: none may lean through a
 * pointer on a TTL field (TTLs are rewritten on the way out, which would
 * change such a name), nor, after the OPT, on the OPT or anything after
 * it.  r is written only on success.
 * Returns 0 or -EBADMSG. */
int dns_parse_response(const uint8_t *pkt, size_t len, struct dns_response *r);

/* Does the question of response r equal that of query q (name compared
 * case-insensitively, type, class)? */
bool dns_response_matches(const struct dns_response *r, const struct dns_query *q);

/* Copy the message pkt of r without its OPT record into out (the cacheable
 * "body"): ARCOUNT adjusted, later records moved.  Afterwards r describes
 * out: ttl_off[] in body offsets, body_len = the returned length, opt_off
 * and opt_len 0 (the EDE fields still refer to pkt).  out may be pkt itself
 * (in place), otherwise the two must not overlap.  Returns length or
 * -EMSGSIZE (r unchanged). */
int dns_response_strip_opt(const uint8_t *pkt, struct dns_response *r,
			   uint8_t *out, size_t cap);

/* ---- answers to a client ---- */
struct dns_answer_opts {
	uint32_t age;          /* seconds to subtract from every TTL (floor 0) */
	int ede_code;          /* -1: none; else an EDE option to add */
	const char *ede_text;  /* EXTRA-TEXT, may be NULL */
	size_t pad_block;      /* 0: no padding; else pad the answer to this block */
};

/* Compose the answer for client query q from a stripped body (as made by
 * dns_response_strip_opt, described by r): copy, set the client's id, put
 * the client's question case back, fix the header flags up: RD and CD
 * copied from the query, RA set (dotstub recurses for its clients), AA and
 * Z cleared (it is no authority), AD kept only if r->authenticated and the
 * client set AD or DO (RFC 6840 5.7, 5.8), subtract age
 * from every TTL (a TTL with the top bit set counts as 0, RFC 2181), add
 * an OPT (UDP size DNS_EDNS_UDP_SIZE, DO echoed) if and
 * only if the client sent one, with the EDE if asked, and the PADDING
 * option if o->pad_block (padded size never above max_size).  The
 * records come before the options: if the unpadded result is larger than
 * max_size (the client's UDP size, or 65535 over TCP), the EDE is left
 * out; if it is still too large and max_size is DNS_MSG_MAX (TCP), the
 * OPT is left out; only if the body itself does not fit, answer with TC=1
 * and the question only (plus OPT).
 * o may be NULL (age 0, no EDE, no padding).  Returns length, -EMSGSIZE
 * (cap too small), or -EINVAL if r's question is not q's or body is not
 * what r describes. */
int dns_compose_answer(const struct dns_query *q, const uint8_t *body, size_t body_len,
		       const struct dns_response *r, const struct dns_answer_opts *o,
		       size_t max_size, uint8_t *out, size_t cap);

/* dns_compose_answer for callers that keep only the body, its TTL
 * offsets and whether it came over an authenticated channel (the cache):
 * the body's question must be q's question (same name length; it is
 * overwritten with q's case, not compared).  Every ttl_off[i] must lie
 * after the question and end within body_len, else -EINVAL. */
int dns_compose_answer_body(const struct dns_query *q, const uint8_t *body, size_t body_len,
			    const uint16_t *ttl_off, unsigned n_ttl, bool authenticated,
			    const struct dns_answer_opts *o, size_t max_size,
			    uint8_t *out, size_t cap);

/* Compose an answer with rcode and no records (SERVFAIL, FORMERR, REFUSED,
 * NOTIMP, BADVERS, NXDOMAIN, NODATA=NOERROR) to q, echoing the question if
 * q->qname_len > 0, with an OPT if the client sent one (q->has_edns, also
 * a malformed one) or if rcode > 15, carrying an EDE if o->ede_code >= 0
 * (and PADDING if o->pad_block).  Flags: QR, RA, opcode, RD and CD copied;
 * never AA or AD.  o may be NULL.  Returns length, -EMSGSIZE, or -EINVAL
 * if q->qname is set but not valid. */
int dns_compose_error(const struct dns_query *q, int rcode, const struct dns_answer_opts *o,
		      uint8_t *out, size_t cap);

/* Pad an answer already composed for a client (in msg, len octets, cap
 * the room of msg) to a multiple of block octets (RFC 7830, RFC 8467 4.1:
 * DNS_PAD_BLOCK_RESPONSE over an encrypted client link), for the answers
 * of every path alike (cache, upstream, local, errors, REFUSED): a
 * PADDING option is appended to the message's OPT record, which must be
 * its last record (as every dotstub answer has it).  No OPT (the client
 * sent none: RFC 6891 7 forbids adding one), an OPT that is not last, one
 * that holds PADDING already, or no room for the option header: msg is
 * left as it is.  Never more than min(cap, DNS_MSG_MAX) octets (then
 * padded up to that).  Returns the new length, or -EINVAL if msg does not
 * parse as a DNS message. */
int dns_answer_pad(uint8_t *msg, size_t len, size_t cap, size_t block);

/* Compose a local answer with one record of the question's name, type and
 * class: rdata as given, TTL ttl; QR, RA, RD and CD copied, not AA (a stub
 * is no authority, for localhost either).  (localhost A/AAAA, RFC 6761.)
 * An OPT (DO echoed) if the client sent one.  Returns length, -EMSGSIZE,
 * or -EINVAL if q has no valid question. */
int dns_compose_local(const struct dns_query *q, uint32_t ttl, const uint8_t *rdata,
		      uint16_t rdlen, uint8_t *out, size_t cap);

#endif
