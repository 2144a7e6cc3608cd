/*
 * query.c -- a client's query (EDNS, its options) and the query sent upstream
 * (OPT rebuilt and padded per hop).
 *
 * All parsing goes through the bounds-checked reader of wire.c; all
 * building through its writer.  No raw offsets into untrusted bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msg_int.h"

/* Parse the options of a client's OPT: well-formed, noting a COOKIE. */
static bool
parse_query_options(struct dns_reader *r, size_t rdlen, struct dns_query *q)
{
	size_t end;

	if (r->err != 0 || rdlen > r->len - r->pos)
		return false;
	end = r->pos + rdlen;
	while (r->pos < end) {
		uint16_t code, olen;

		if (end - r->pos < OPT_HDR_LEN)
			return false;
		code = dns_read_u16(r);
		olen = dns_read_u16(r);
		if (olen > end - r->pos)
			return false;
		if (code == EDNS_OPT_COOKIE)
			q->has_cookie = true;
		dns_read_bytes(r, NULL, olen);
	}
	return r->err == 0;
}

/* Parse the one additional record of a query, which must be an OPT. */
static bool
parse_query_opt(struct dns_reader *r, struct dns_query *q)
{
	size_t owner_len;
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type, cls, rdlen;
	uint32_t ttl;

	dns_read_name(r, owner, &owner_len);
	type = dns_read_u16(r);
	cls = dns_read_u16(r);
	ttl = dns_read_u32(r);
	rdlen = dns_read_u16(r);
	if (r->err != 0 || owner_len != 1 || type != DNS_TYPE_OPT)
		return false;
	if (!parse_query_options(r, rdlen, q))
		return false;
	q->has_edns = true;
	q->udp_size = cls < 512 ? 512 : cls;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->do_bit = (ttl & EDNS_FLAG_DO) != 0;
	return true;
}

/* Does the query hold an OPT record in any section, well-formed or not?
 * For the answer to a query refused before its OPT was read, or because of
 * it: RFC 6891 7 wants an OPT in the FORMERR to a query that had one (so
 * its sender can tell a broken OPT from a server without EDNS), and none
 * in the answer to a query without.  Reads as far as the records parse. */
static bool
query_holds_opt(const uint8_t *pkt, size_t len, unsigned qd, unsigned nrr)
{
	struct dns_reader r;

	dns_reader_init(&r, pkt, len);
	dns_read_bytes(&r, NULL, DNS_HDR_LEN);
	while (qd-- > 0 && r.err == 0) {
		dns_skip_name(&r);
		dns_read_bytes(&r, NULL, 4); /* type, class */
	}
	while (nrr-- > 0 && r.err == 0) {
		uint16_t type;

		dns_skip_name(&r);
		type = dns_read_u16(&r);
		if (r.err == 0 && type == DNS_TYPE_OPT)
			return true;
		dns_read_bytes(&r, NULL, 6); /* class, TTL */
		dns_read_bytes(&r, NULL, dns_read_u16(&r));
	}
	return false;
}

enum dns_parse_result
dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	struct dns_reader r;
	struct dns_query t;
	uint16_t qd, an, ns, ar;
	enum dns_parse_result res = DNS_PARSE_OK;

	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	dns_reader_init(&r, pkt, len);
	t.id = dns_read_u16(&r);
	t.flags = dns_read_u16(&r);
	if (t.flags & DNS_FLAG_QR)
		return DNS_PARSE_DROP;
	qd = dns_read_u16(&r);
	an = dns_read_u16(&r);
	ns = dns_read_u16(&r);
	ar = dns_read_u16(&r);
	t.qname_len = 0;
	t.qtype = t.qclass = 0;
	t.has_edns = false;
	t.edns_version = 0;
	t.udp_size = 512;
	t.do_bit = false;
	t.cd_bit = (t.flags & DNS_FLAG_CD) != 0;
	t.has_cookie = false;

	if (qd == 1) {
		dns_read_name(&r, t.qname, &t.qname_len);
		t.qtype = dns_read_u16(&r);
		t.qclass = dns_read_u16(&r);
		if (r.err != 0) {
			t.qname_len = 0;
			t.qtype = t.qclass = 0;
		}
	}
	if (DNS_OPCODE(t.flags) != 0) {
		res = DNS_PARSE_NOTIMP;
		goto out;
	}
	if (qd != 1 || r.err != 0 || an != 0 || ns != 0 || ar > 1) {
		res = DNS_PARSE_FORMERR;
		goto out;
	}
	if (ar == 1 && !parse_query_opt(&r, &t)) {
		res = DNS_PARSE_FORMERR;
		goto out;
	}
	if (r.pos != len)
		res = DNS_PARSE_FORMERR;
	else if (t.has_edns && t.edns_version > 0)
		res = DNS_PARSE_BADVERS;
out:
	if (res != DNS_PARSE_OK && !t.has_edns)
		t.has_edns = query_holds_opt(pkt, len, qd, (unsigned)an + ns + ar);
	*q = t;
	return res;
}

int
dns_qtype_local_rcode(uint16_t qtype, const char **text)
{
	const char *t = NULL;
	int rcode = DNS_RCODE_NOTIMP;

	switch (qtype) {
	case 0: /* reserved (RFC 6895 3.1): no such question */
		rcode = DNS_RCODE_FORMERR;
		t = "QTYPE 0 is reserved";
		break;
	case DNS_TYPE_OPT: /* a pseudo-record of one hop, never a question
			    * (RFC 6891 6.1.1) */
		rcode = DNS_RCODE_FORMERR;
		t = "QTYPE OPT is not a question";
		break;
	case DNS_TYPE_TKEY:
	case DNS_TYPE_TSIG:
		/* transaction security is between two parties (RFC 8945,
		 * RFC 2930); a stub has no keys and forwards nothing signed */
		t = "transaction security is not supported";
		break;
	case DNS_TYPE_IXFR:
	case DNS_TYPE_AXFR:
		t = "zone transfers are not served";
		break;
	case DNS_TYPE_MAILB:
	case DNS_TYPE_MAILA:
		t = "MAILA and MAILB are obsolete";
		break;
	default:
		/* unassigned Q/meta range: nothing to ask an upstream */
		if (qtype >= 128 && qtype < DNS_TYPE_TKEY) {
			t = "unassigned meta-type";
			break;
		}
		rcode = 0;
		break;
	}
	if (text != NULL)
		*text = t;
	return rcode;
}

static int
build_upstream_query(const struct dns_query *q, uint16_t id, bool keepalive, bool pad,
		     bool opt, uint8_t *out, size_t cap)
{
	struct dns_writer w;
	size_t rdlen_pos;

	if (!dns_name_valid(q->qname, q->qname_len))
		return -EINVAL;
	dns_writer_init(&w, out, cap);
	dns_write_u16(&w, id);
	dns_write_u16(&w, (uint16_t)((q->flags & (DNS_FLAG_RD | DNS_FLAG_CD)) | DNS_FLAG_AD));
	dns_write_u16(&w, 1); /* QDCOUNT */
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, opt ? 1 : 0); /* ARCOUNT: our OPT */
	dns_write_name(&w, q->qname, q->qname_len);
	dns_write_u16(&w, q->qtype);
	dns_write_u16(&w, q->qclass);
	if (!opt)
		return w.err != 0 ? w.err : (int)w.len;

	dns_write_u8(&w, 0);
	dns_write_u16(&w, DNS_TYPE_OPT);
	dns_write_u16(&w, DNS_EDNS_UDP_SIZE);
	dns_write_u32(&w, q->do_bit ? EDNS_FLAG_DO : 0);
	rdlen_pos = w.len;
	dns_write_u16(&w, 0);
	if (keepalive) {
		dns_write_u16(&w, EDNS_OPT_KEEPALIVE);
		dns_write_u16(&w, 0);
	}
	if (pad)
		msg_write_padding(&w, DNS_PAD_BLOCK_QUERY, DNS_MSG_MAX);
	if (w.err != 0)
		return w.err;
	put_u16(out + rdlen_pos, (uint16_t)(w.len - rdlen_pos - 2));
	return (int)w.len;
}

int
dns_build_upstream_query(const struct dns_query *q, uint16_t id, bool keepalive,
			 uint8_t *out, size_t cap)
{
	return build_upstream_query(q, id, keepalive, true, true, out, cap);
}

int
dns_build_upstream_query_min(const struct dns_query *q, uint16_t id, uint8_t *out, size_t cap)
{
	return build_upstream_query(q, id, false, false, q->do_bit, out, cap);
}
