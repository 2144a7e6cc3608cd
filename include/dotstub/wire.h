/*
 * wire.h -- DNS wire format: a bounds-checked reader with a sticky error,
 * a writer, and the message-level operations the stub needs (parse a client
 * query, build the upstream query with a rebuilt, padded OPT, parse an
 * upstream answer, compose the answer for a client).
 *
 * Every byte handed to these functions is untrusted.  No function reads or
 * writes outside the buffer it is given, whatever the input; a malformed
 * input yields an error return, never a crash.  Nothing here allocates
 * except where said.  Nothing here logs.
 *
 * Names inside this API are kept in uncompressed wire form (length-prefixed
 * labels, terminated by the root label), at most DNS_NAME_MAX octets.
 */
#ifndef DOTSTUB_WIRE_H
#define DOTSTUB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255
#define DNS_HDR_LEN 12
#define DNS_MSG_MAX 65535

/* header flag bits (second 16-bit word of the header) */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended: needs OPT */
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_KEY = 25,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_DS = 43,
	DNS_TYPE_RRSIG = 46,
	DNS_TYPE_DNSKEY = 48,
	DNS_TYPE_TLSA = 52,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
};
#define DNS_CLASS_IN 1

/* EDNS(0) option codes */
#define EDNS_OPT_ECS 8
#define EDNS_OPT_COOKIE 10
#define EDNS_OPT_KEEPALIVE 11 /* RFC 7828 */
#define EDNS_OPT_PADDING 12   /* RFC 7830 */
#define EDNS_OPT_EDE 15       /* RFC 8914 */
#define EDNS_FLAG_DO 0x8000

/* Extended DNS Error info codes (RFC 8914) used by dotstub */
enum dns_ede {
	DNS_EDE_OTHER = 0,
	DNS_EDE_DNSSEC_BOGUS = 6,
	DNS_EDE_NOT_READY = 14,
	DNS_EDE_BLOCKED = 15,
	DNS_EDE_PROHIBITED = 18,
	DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
	DNS_EDE_NETWORK_ERROR = 23,
};

/* The UDP payload size dotstub advertises (DNS flag day 2020). */
#define DNS_EDNS_UDP_SIZE 1232
/* RFC 8467: pad queries to a multiple of this many octets. */
#define DNS_PAD_BLOCK_QUERY 128
/* RFC 8467: pad responses to a multiple of this (on encrypted client links). */
#define DNS_PAD_BLOCK_RESPONSE 468

/* ---- low level reader: every read past the end sets err and returns 0 ---- */
struct dns_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err; /* sticky: 0 or -EBADMSG once anything went out of bounds */
};

void dns_reader_init(struct dns_reader *r, const uint8_t *buf, size_t len);
uint8_t dns_read_u8(struct dns_reader *r);
uint16_t dns_read_u16(struct dns_reader *r);
uint32_t dns_read_u32(struct dns_reader *r);
/* copy n octets to out (out may be NULL to skip) */
void dns_read_bytes(struct dns_reader *r, void *out, size_t n);
/* Read a possibly compressed name at r->pos into out (uncompressed wire
 * form, at most DNS_NAME_MAX octets); r->pos moves past the name as it
 * stands in the message.  Pointers must point strictly backwards (loops
 * are therefore impossible), and the labels a pointer leads to must end
 * before the run of labels holding that pointer (so a name never depends
 * on octets at or after its own position); labels must be <= 63; total
 * <= 255.  buf is a whole message: a pointer into its 12-octet header is
 * an error.
 * On error *out_len is 0 and out is left untouched. */
void dns_read_name(struct dns_reader *r, uint8_t out[DNS_NAME_MAX], size_t *out_len);
/* Skip a name without decoding it (still fully validated). */
void dns_skip_name(struct dns_reader *r);

/* What dns_read_name_info learnt about the name as it stands. */
struct dns_name_info {
	bool compressed; /* at least one pointer was followed */
	size_t ptr_hi;   /* highest offset (exclusive) read after a jump, 0 if none */
};
/* dns_read_name with an optional out (NULL: skip), out_len and info (both
 * may be NULL; info is written only on success). */
void dns_read_name_info(struct dns_reader *r, uint8_t *out, size_t *out_len,
			struct dns_name_info *info);
/* Skip a name like dns_skip_name, and also fail (-EBADMSG) if octets read
 * through a pointer touch one of the n_avoid 4-octet fields starting at
 * avoid[] (ascending offsets): dns_parse_response keeps names off the TTL
 * fields that are rewritten on the way out of the cache.  info may be NULL. */
void dns_read_name_avoid(struct dns_reader *r, const uint16_t *avoid, unsigned n_avoid,
			 struct dns_name_info *info);

/* ---- low level writer: every write past cap sets err and writes nothing ---- */
struct dns_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* sticky: 0 or -EMSGSIZE */
};

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap);
void dns_write_u8(struct dns_writer *w, uint8_t v);
void dns_write_u16(struct dns_writer *w, uint16_t v);
void dns_write_u32(struct dns_writer *w, uint32_t v);
void dns_write_bytes(struct dns_writer *w, const void *p, size_t n);
/* write an uncompressed wire-form name */
void dns_write_name(struct dns_writer *w, const uint8_t *name, size_t len);

/* ---- names ---- */
/* Presentation ("www.example.com" or "www.example.com.") -> wire form.
 * Accepts \DDD and \X escapes.  Returns length or -EINVAL. */
int dns_name_from_str(const char *s, uint8_t out[DNS_NAME_MAX]);
/* Wire form -> presentation with trailing dot, escaping as needed.
 * Returns 0 or -ENOSPC / -EINVAL. */
int dns_name_to_str(const uint8_t *name, size_t len, char *out, size_t outlen);
/* ASCII case-insensitive equality of two wire-form names */
bool dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* true if name equals zone or is below it (case-insensitive) */
bool dns_name_is_subdomain(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen);
/* lower-case a wire-form name in place */
void dns_name_lower(uint8_t *name, size_t len);
/* true if name[0..len) is exactly one well-formed uncompressed wire name */
bool dns_name_valid(const uint8_t *name, size_t len);

/* ---- a client's (or our own) query ---- */
struct dns_query {
	uint16_t id;
	uint16_t flags;         /* as received: RD, CD, opcode... */
	uint8_t qname[DNS_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool has_edns;          /* an OPT record was present */
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
 * qname_len 0 if not) so an error answer can be built. */
enum dns_parse_result dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/* Build the query dotstub sends upstream for q: id, flags RD (copied) and
 * CD (copied), AD set (RFC 6840 5.7: we understand AD, so the upstream
 * reports it; dns_compose_answer clears it again for clients that asked
 * for neither AD nor DO), the question as given (case kept), and an OPT record built
 * afresh: UDP size DNS_EDNS_UDP_SIZE, version 0, DO copied from q,
 * optionally an empty EDNS keepalive option (RFC 7828: only over TCP/TLS),
 * then a PADDING option making the whole message a multiple of
 * DNS_PAD_BLOCK_QUERY octets (RFC 8467).  No client option is ever copied.
 * Returns the length written, -EMSGSIZE, or -EINVAL if q->qname is not a
 * valid wire name. */
int dns_build_upstream_query(const struct dns_query *q, uint16_t id, bool keepalive,
			     uint8_t *out, size_t cap);

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
 * the client's question case back, RD and CD copied from the query, AD
 * cleared unless the client set AD or DO (RFC 6840 5.8), subtract age
 * from every TTL (a TTL with the top bit set counts as 0, RFC 2181), add
 * an OPT (UDP size DNS_EDNS_UDP_SIZE, DO echoed) if and
 * only if the client sent one, with the EDE if asked, and the PADDING
 * option if o->pad_block (padded size never above max_size).  If the
 * unpadded result is larger than max_size (the client's UDP size, or
 * 65535 over TCP), answer with TC=1 and the question only (plus OPT).
 * o may be NULL (age 0, no EDE, no padding).  Returns length, -EMSGSIZE
 * (cap too small), or -EINVAL if r's question is not q's or body is not
 * what r describes. */
int dns_compose_answer(const struct dns_query *q, const uint8_t *body, size_t body_len,
		       const struct dns_response *r, const struct dns_answer_opts *o,
		       size_t max_size, uint8_t *out, size_t cap);

/* dns_compose_answer for callers that keep only the body and its TTL
 * offsets (the cache): the body's question must be q's question (same
 * name length; it is overwritten with q's case, not compared).  Every
 * ttl_off[i] must lie after the question and end within body_len, else
 * -EINVAL. */
int dns_compose_answer_body(const struct dns_query *q, const uint8_t *body, size_t body_len,
			    const uint16_t *ttl_off, unsigned n_ttl,
			    const struct dns_answer_opts *o, size_t max_size,
			    uint8_t *out, size_t cap);

/* Compose an answer with rcode and no records (SERVFAIL, FORMERR, REFUSED,
 * NOTIMP, BADVERS, NXDOMAIN, NODATA=NOERROR) to q, echoing the question if
 * q->qname_len > 0, with an OPT if the client sent one (or if rcode > 15),
 * carrying an EDE if o->ede_code >= 0 (and PADDING if o->pad_block).
 * Flags: QR, RA, opcode, RD and CD copied.  o may be NULL.  Returns
 * length, -EMSGSIZE, or -EINVAL if q->qname is set but not valid. */
int dns_compose_error(const struct dns_query *q, int rcode, const struct dns_answer_opts *o,
		      uint8_t *out, size_t cap);

/* Compose a local answer with one record of the question's name, type and
 * class: rdata as given, TTL ttl, AA set.  (localhost A/AAAA, RFC 6761.)
 * An OPT (DO echoed) if the client sent one.  Returns length, -EMSGSIZE,
 * or -EINVAL if q has no valid question. */
int dns_compose_local(const struct dns_query *q, uint32_t ttl, const uint8_t *rdata,
		      uint16_t rdlen, uint8_t *out, size_t cap);

#endif
