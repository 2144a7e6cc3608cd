/*
 * r1_answer.c -- the DNS side of ResolveHostname, ResolveAddress and
 * ResolveRecord (r1_answer.h): the query asked through the daemon's query
 * path, and what its answer holds.  The answer is untrusted like any
 * message: read with the wire reader (bounds, name compression rules),
 * its question checked against ours.
 */
#include "r1_answer.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define CLASS_ANY 255

int r1_answer_query(const uint8_t *name, size_t name_len, uint16_t qtype, uint16_t qclass,
		    uint16_t id, uint8_t *out, size_t cap)
{
	struct dns_writer w;

	dns_writer_init(&w, out, cap);
	dns_write_u16(&w, id);
	dns_write_u16(&w, DNS_FLAG_RD | DNS_FLAG_AD);
	dns_write_u16(&w, 1); /* QDCOUNT */
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 1); /* ARCOUNT: the OPT */
	dns_write_name(&w, name, name_len);
	dns_write_u16(&w, qtype);
	dns_write_u16(&w, qclass);
	dns_write_u8(&w, 0); /* OPT: root owner */
	dns_write_u16(&w, DNS_TYPE_OPT);
	dns_write_u16(&w, DNS_EDNS_UDP_SIZE);
	dns_write_u32(&w, 0);
	dns_write_u16(&w, 0);
	return w.err ? -EMSGSIZE : (int)w.len;
}

static void put_label(uint8_t *out, size_t *pos, const char *s, size_t n)
{
	out[(*pos)++] = (uint8_t)n;
	memcpy(out + *pos, s, n);
	*pos += n;
}

int r1_answer_reverse_name(int family, const uint8_t *addr, size_t alen,
			   uint8_t out[DNS_NAME_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0;
	char buf[4];

	if (family == AF_INET && alen == 4) {
		for (int i = 3; i >= 0; i--) {
			int n = 0, v = addr[i];

			if (v >= 100)
				buf[n++] = (char)('0' + v / 100);
			if (v >= 10)
				buf[n++] = (char)('0' + v / 10 % 10);
			buf[n++] = (char)('0' + v % 10);
			put_label(out, &pos, buf, (size_t)n);
		}
		put_label(out, &pos, "in-addr", 7);
	} else if (family == AF_INET6 && alen == 16) {
		for (int i = 15; i >= 0; i--) {
			put_label(out, &pos, &hex[addr[i] & 0xf], 1);
			put_label(out, &pos, &hex[addr[i] >> 4], 1);
		}
		put_label(out, &pos, "ip6", 3);
	} else {
		return -EINVAL;
	}
	put_label(out, &pos, "arpa", 4);
	out[pos++] = 0;
	return (int)pos;
}

/* One record of a section, as the reader found it. */
struct rr_pos {
	uint8_t owner[DNS_NAME_MAX];
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rdata, rdlen;   /* offset and length of the RDATA in the message */
};

static int read_rr(struct dns_reader *r, struct rr_pos *rr)
{
	dns_read_name(r, rr->owner, &rr->owner_len);
	rr->type = dns_read_u16(r);
	rr->rclass = dns_read_u16(r);
	rr->ttl = dns_read_u32(r);
	rr->rdlen = dns_read_u16(r);
	rr->rdata = r->pos;
	if (r->err || rr->owner_len == 0 || rr->rdlen > r->len - r->pos)
		return -EBADMSG;
	r->pos += rr->rdlen;
	return 0;
}

/* The question of a message: its name, type and class; r is left after
 * it.  QDCOUNT must be 1. */
static int read_question(struct dns_reader *r, uint8_t name[DNS_NAME_MAX], size_t *name_len,
			 uint16_t *type, uint16_t *qclass, uint16_t *ancount)
{
	uint16_t qd;

	dns_read_u16(r); /* id */
	dns_read_u16(r); /* flags */
	qd = dns_read_u16(r);
	*ancount = dns_read_u16(r);
	dns_read_u16(r);
	dns_read_u16(r);
	dns_read_name(r, name, name_len);
	*type = dns_read_u16(r);
	*qclass = dns_read_u16(r);
	return r->err || qd != 1 || *name_len == 0 ? -EBADMSG : 0;
}

/* The CNAME owned by name in the answer section (ancount records from
 * start), its target into out: 1, 0 if none, -EBADMSG. */
static int find_cname(const uint8_t *pkt, size_t len, size_t start, uint16_t ancount,
		      const uint8_t *name, size_t name_len, uint8_t out[DNS_NAME_MAX],
		      size_t *out_len)
{
	struct dns_reader r;
	struct rr_pos rr;

	dns_reader_init(&r, pkt, len);
	r.pos = start;
	for (unsigned i = 0; i < ancount; i++) {
		if (read_rr(&r, &rr) < 0)
			return -EBADMSG;
		if (rr.type != DNS_TYPE_CNAME || !dns_name_equal(rr.owner, rr.owner_len, name, name_len))
			continue;
		{
			struct dns_reader t;

			dns_reader_init(&t, pkt, rr.rdata + rr.rdlen);
			t.pos = rr.rdata;
			dns_read_name(&t, out, out_len);
			if (t.err || t.pos != rr.rdata + rr.rdlen || *out_len == 0)
				return -EBADMSG;
		}
		return 1;
	}
	return 0;
}

/* How the RDATA of type is laid out around its names (RFC 1035, RFC 3597
 * 4): fixed octets first, then names, then the rest as it is.  NAPTR's
 * three strings before its name are fixed octets too (strings is 3). */
static void rdata_layout(uint16_t type, unsigned *skip, unsigned *names, unsigned *strings)
{
	*skip = 0, *names = 0, *strings = 0;
	switch (type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
	case 39: /* NS MD MF CNAME MB MG MR PTR DNAME */
		*names = 1;
		break;
	case 6: case 14: case 17: /* SOA MINFO RP */
		*names = 2;
		break;
	case 15: case 18: case 21: case 36: /* MX AFSDB RT KX */
		*skip = 2, *names = 1;
		break;
	case 26: /* PX */
		*skip = 2, *names = 2;
		break;
	case 33: /* SRV */
		*skip = 6, *names = 1;
		break;
	case 35: /* NAPTR */
		*skip = 4, *strings = 3, *names = 1;
		break;
	default:
		break;
	}
}

/* rr in uncompressed wire form into w: 0 or -EBADMSG. */
static int expand_rr(const uint8_t *pkt, const struct rr_pos *rr, struct dns_writer *w,
		     size_t *rdata_off)
{
	struct dns_reader r;
	unsigned skip, names, strings;
	size_t rdlen_at, start, end = rr->rdata + rr->rdlen;
	uint8_t name[DNS_NAME_MAX];
	size_t nl;

	dns_write_bytes(w, rr->owner, rr->owner_len);
	dns_write_u16(w, rr->type);
	dns_write_u16(w, rr->rclass);
	dns_write_u32(w, rr->ttl);
	rdlen_at = w->len;
	dns_write_u16(w, 0);
	start = w->len;
	*rdata_off = start;
	/* the reader ends with the RDATA: nothing of it may reach past */
	dns_reader_init(&r, pkt, end);
	r.pos = rr->rdata;
	rdata_layout(rr->type, &skip, &names, &strings);
	if (skip > rr->rdlen)
		return -EBADMSG;
	dns_write_bytes(w, pkt + r.pos, skip);
	r.pos += skip;
	while (strings-- > 0) {
		size_t at = r.pos, n = dns_read_u8(&r);

		dns_read_bytes(&r, NULL, n);
		if (r.err)
			return -EBADMSG;
		dns_write_bytes(w, pkt + at, n + 1);
	}
	while (names-- > 0) {
		dns_read_name(&r, name, &nl);
		if (r.err || nl == 0)
			return -EBADMSG;
		dns_write_bytes(w, name, nl);
	}
	dns_write_bytes(w, pkt + r.pos, end - r.pos);
	if (w->err || w->len - start > 65535)
		return -EBADMSG;
	w->buf[rdlen_at] = (uint8_t)((w->len - start) >> 8);
	w->buf[rdlen_at + 1] = (uint8_t)(w->len - start);
	return 0;
}

int r1_answer_walk(const uint8_t *pkt, size_t len, const uint8_t *query, size_t qlen,
		   bool no_cname, r1_answer_rr_cb *cb, void *arg, uint8_t *buf, size_t cap,
		   struct r1_answer_info *info)
{
	uint8_t qname[DNS_NAME_MAX], aname[DNS_NAME_MAX], next[DNS_NAME_MAX];
	size_t qname_len, aname_len, next_len, start;
	uint16_t qtype, qclass, atype, aclass, ancount, unused;
	struct dns_reader r;
	struct rr_pos rr;
	bool follow;
	int k;

	memset(info, 0, sizeof(*info));
	dns_reader_init(&r, query, qlen);
	if (read_question(&r, qname, &qname_len, &qtype, &qclass, &unused) < 0)
		return -EBADMSG;
	dns_reader_init(&r, pkt, len);
	if (len < DNS_HDR_LEN || !(pkt[2] & 0x80) ||
	    read_question(&r, aname, &aname_len, &atype, &aclass, &ancount) < 0 ||
	    !dns_name_equal(qname, qname_len, aname, aname_len) || atype != qtype ||
	    aclass != qclass)
		return -EBADMSG;
	info->rcode = pkt[3] & 0x0f;
	info->ad = (pkt[3] & 0x20) != 0;
	start = r.pos;
	/* the chain: from the question's name to the end of its CNAMEs */
	memcpy(info->canonical, qname, qname_len);
	info->canonical_len = qname_len;
	follow = !no_cname && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY;
	for (unsigned hop = 0; follow; hop++) {
		k = find_cname(pkt, len, start, ancount, info->canonical, info->canonical_len, next,
			       &next_len);
		if (k < 0)
			return -EBADMSG;
		if (k == 0)
			break;
		if (hop == R1_ANSWER_MAX_CNAME) {
			info->cname_loop = true;
			break;
		}
		memcpy(info->canonical, next, next_len);
		info->canonical_len = next_len;
	}
	for (unsigned i = 0; i < ancount; i++) {
		struct dns_writer w;
		size_t rdata_off;

		if (read_rr(&r, &rr) < 0)
			return -EBADMSG;
		if (!dns_name_equal(rr.owner, rr.owner_len, info->canonical, info->canonical_len))
			continue;
		if (qtype != DNS_TYPE_ANY && rr.type != qtype)
			continue;
		if (qclass != CLASS_ANY && rr.rclass != qclass)
			continue;
		info->matches++;
		if (!cb)
			continue;
		dns_writer_init(&w, buf, cap);
		if (expand_rr(pkt, &rr, &w, &rdata_off) < 0)
			return -EBADMSG;
		k = cb(arg, buf, w.len, rdata_off, rr.type, rr.rclass);
		if (k < 0)
			return k;
	}
	return 0;
}

int r1_answer_rdata_name(const uint8_t *rr, size_t len, size_t rdata_off,
			 uint8_t out[DNS_NAME_MAX])
{
	struct dns_reader r;
	size_t n;

	if (rdata_off < 2 || rdata_off > len)
		return -EBADMSG;
	dns_reader_init(&r, rr, len);
	r.pos = rdata_off;
	dns_read_name(&r, out, &n);
	return r.err || n == 0 || r.pos != len ? -EBADMSG : (int)n;
}

const char *r1_answer_rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	return rcode == 16 ? "BADVERS" : NULL;
}
