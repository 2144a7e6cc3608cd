/*
 * wire.h -- DNS wire format: constants, a bounds-checked reader with a
 * sticky error, a writer, and names.  The messages built from them (client
 * queries, upstream queries and answers, answers to clients) are in
 * dotstub/message.h.
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

/* A name in wire form, octets (RFC 1035 3.1).  Its presentation form is at
 * most 253 characters without the trailing dot (254 with it: the trust
 * part's TRUST_NAME_MAX); a presentation buffer of DNS_NAME_MAX + 1 octets
 * is thus always large enough. */
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
	DNS_TYPE_TKEY = 249,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_MAILB = 253,
	DNS_TYPE_MAILA = 254,
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
	DNS_EDE_NOT_SUPPORTED = 21,
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
 * avoid[] (ascending offsets), or if a pointer lands inside the question
 * name (at DNS_HDR_LEN, uncompressed, ending before qname_end; 0: no
 * question) anywhere but at the start of one of its labels:
 * dns_parse_response keeps names off the TTL fields that are rewritten on
 * the way out of the cache, and off the question's label data, whose case
 * is.  info may be NULL. */
void dns_read_name_avoid(struct dns_reader *r, const uint16_t *avoid, unsigned n_avoid,
			 size_t qname_end, struct dns_name_info *info);

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

#endif
