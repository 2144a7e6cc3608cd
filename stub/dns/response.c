/*
 * response.c -- an upstream's answer: its records checked, its cache lifetime,
 * keepalive and EDE, matched to the query, its OPT stripped.
 *
 * All parsing goes through the bounds-checked reader of wire.c; all
 * building through its writer.  No raw offsets into untrusted bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msg_int.h"

/* Parse the options of the upstream's OPT (r at the start of RDATA). */
static int
parse_response_options(struct dns_reader *r, size_t rdlen, struct dns_response *resp)
{
	size_t end;

	if (r->err != 0 || rdlen > r->len - r->pos)
		return -EBADMSG;
	end = r->pos + rdlen;
	while (r->pos < end) {
		uint16_t code, olen;

		if (end - r->pos < OPT_HDR_LEN)
			return -EBADMSG;
		code = dns_read_u16(r);
		olen = dns_read_u16(r);
		if (olen > end - r->pos)
			return -EBADMSG;
		if (code == EDNS_OPT_KEEPALIVE && olen == 2 && !resp->has_keepalive) {
			resp->has_keepalive = true;
			resp->edns_keepalive = dns_read_u16(r);
			continue;
		}
		if (code == EDNS_OPT_EDE && olen >= 2 && !resp->has_ede) {
			resp->has_ede = true;
			resp->ede_code = dns_read_u16(r);
			resp->ede_text_off = r->pos;
			resp->ede_text_len = (uint16_t)(olen - 2);
			dns_read_bytes(r, NULL, olen - 2u);
			continue;
		}
		dns_read_bytes(r, NULL, olen);
	}
	return r->err;
}

/* Check one name of a record: through pointers it must not lean on a TTL
 * field seen so far (TTLs are rewritten on the way out), nor on the
 * question's label data (its case is), nor, after the OPT, on the OPT or
 * anything past it (those move when it is stripped). */
static bool
name_ok(struct dns_reader *r, const struct dns_response *t)
{
	struct dns_name_info info;

	dns_read_name_avoid(r, t->ttl_off, t->n_ttl, DNS_HDR_LEN + t->qname_len, &info);
	if (r->err != 0)
		return false;
	return t->opt_len == 0 || !info.compressed || info.ptr_hi <= t->opt_off;
}

/* Skip n character-strings. */
static void
skip_strings(struct dns_reader *r, unsigned n)
{
	while (n-- > 0)
		dns_read_bytes(r, NULL, dns_read_u8(r));
}

/* The names in the RDATA of the types whose names may be compressed
 * (RFC 1035, RFC 3597 4): each must be name_ok and inside the RDATA. */
static bool
rdata_names_ok(struct dns_reader *r, uint16_t type, size_t rdata_end,
	       const struct dns_response *t)
{
	unsigned skip = 0, names = 0;

	switch (type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
	case 39: /* NS MD MF CNAME MB MG MR PTR DNAME */
		names = 1;
		break;
	case 6: case 14: case 17: /* SOA MINFO RP */
		names = 2;
		break;
	case 15: case 18: case 21: case 36: /* MX AFSDB RT KX */
		skip = 2, names = 1;
		break;
	case 26: /* PX */
		skip = 2, names = 2;
		break;
	case 33: /* SRV */
		skip = 6, names = 1;
		break;
	case 35: /* NAPTR */
		dns_read_bytes(r, NULL, 4);
		skip_strings(r, 3);
		names = 1;
		break;
	default:
		return true;
	}
	dns_read_bytes(r, NULL, skip);
	while (names-- > 0)
		if (!name_ok(r, t))
			return false;
	return r->err == 0 && r->pos <= rdata_end;
}

/* SOA RDATA: the negative caching TTL is min(SOA TTL, MINIMUM). */
static bool
soa_negative_ttl(struct dns_reader *r, size_t rdata_end, uint32_t ttl, uint32_t *ret)
{
	uint32_t minimum;

	dns_skip_name(r);
	dns_skip_name(r);
	dns_read_bytes(r, NULL, 16); /* serial refresh retry expire */
	minimum = ttl_sane(dns_read_u32(r));
	if (r->err != 0 || r->pos > rdata_end)
		return false;
	*ret = ttl < minimum ? ttl : minimum;
	return true;
}

struct rr_walk {
	uint32_t min_answer_ttl;
	bool have_answer_ttl;
	bool have_soa;
	uint32_t soa_ttl;
};

/* Parse one resource record of section sec (0 answer, 1 authority,
 * 2 additional) into t. */
static int
parse_rr(struct dns_reader *r, unsigned sec, struct dns_response *t, struct rr_walk *wk)
{
	size_t rr_start = r->pos, ttl_pos, rdata_start, rdata_end;
	uint16_t type, rdlen;
	uint32_t ttl;

	if (!name_ok(r, t))
		return -EBADMSG;
	type = dns_read_u16(r);
	dns_read_u16(r); /* class */
	ttl_pos = r->pos;
	ttl = dns_read_u32(r);
	rdlen = dns_read_u16(r);
	rdata_start = r->pos;
	if (r->err != 0 || rdlen > r->len - r->pos)
		return -EBADMSG;
	rdata_end = rdata_start + rdlen;

	if (type == DNS_TYPE_OPT) {
		int err;

		if (sec != 2 || t->opt_len != 0 || r->buf[rr_start] != 0)
			return -EBADMSG;
		if ((ttl >> 24) != 0) /* extended RCODE */
			return -EBADMSG;
		err = parse_response_options(r, rdlen, t);
		if (err < 0)
			return err;
		t->has_edns = true;
		t->do_bit = (ttl & EDNS_FLAG_DO) != 0;
		t->opt_off = rr_start;
		t->opt_len = rdata_end - rr_start;
		return 0;
	}

	if (t->n_ttl < DNS_MAX_TTL_FIELDS)
		t->ttl_off[t->n_ttl++] = (uint16_t)ttl_pos;
	else
		t->ttl_overflow = true;
	ttl = ttl_sane(ttl);
	if (sec == 0 && (!wk->have_answer_ttl || ttl < wk->min_answer_ttl)) {
		wk->min_answer_ttl = ttl;
		wk->have_answer_ttl = true;
	}
	if (!rdata_names_ok(r, type, rdata_end, t))
		return -EBADMSG;
	if (sec == 1 && type == DNS_TYPE_SOA && !wk->have_soa) {
		r->pos = rdata_start;
		if (!soa_negative_ttl(r, rdata_end, ttl, &wk->soa_ttl))
			return -EBADMSG;
		wk->have_soa = true;
	}
	r->pos = rdata_end;
	return 0;
}

int
dns_parse_response(const uint8_t *pkt, size_t len, struct dns_response *resp)
{
	struct dns_response t;
	struct dns_reader r;
	struct dns_name_info info;
	struct rr_walk wk = { 0 };
	uint16_t qd, count[3];
	unsigned sec, i, rcode;

	if (len < DNS_HDR_LEN || len > DNS_MSG_MAX)
		return -EBADMSG;
	dns_reader_init(&r, pkt, len);
	t.id = dns_read_u16(&r);
	t.flags = dns_read_u16(&r);
	qd = dns_read_u16(&r);
	for (sec = 0; sec < 3; sec++)
		count[sec] = dns_read_u16(&r);
	if (!(t.flags & DNS_FLAG_QR) || qd != 1)
		return -EBADMSG;
	dns_read_name_info(&r, t.qname, &t.qname_len, &info);
	t.qtype = dns_read_u16(&r);
	t.qclass = dns_read_u16(&r);
	if (r.err != 0 || info.compressed)
		return -EBADMSG;
	t.question_end = r.pos;
	t.n_ttl = 0;
	t.ttl_overflow = false;
	t.has_edns = t.do_bit = false;
	t.has_keepalive = false;
	t.edns_keepalive = 0;
	t.has_ede = false;
	t.ede_code = 0;
	t.ede_text_off = 0;
	t.ede_text_len = 0;
	t.opt_off = t.opt_len = 0;
	t.authenticated = false;

	for (sec = 0; sec < 3; sec++) {
		for (i = 0; i < count[sec]; i++) {
			int err = parse_rr(&r, sec, &t, &wk);

			if (err < 0)
				return err;
		}
	}
	if (r.err != 0 || r.pos != len)
		return -EBADMSG;

	t.ancount = count[0];
	t.nscount = count[1];
	t.arcount = (uint16_t)(count[2] - (t.opt_len != 0));
	t.body_len = len - t.opt_len;
	rcode = DNS_RCODE(t.flags);
	t.negative = rcode == DNS_RCODE_NXDOMAIN ||
		     (rcode == DNS_RCODE_NOERROR && t.ancount == 0);
	t.cache_ttl = 0;
	if (t.negative) {
		if (wk.have_soa)
			t.cache_ttl = wk.soa_ttl;
	} else if (rcode == DNS_RCODE_NOERROR) {
		t.cache_ttl = wk.min_answer_ttl;
		/* a CNAME chain ending in NODATA carries the SOA too */
		if (wk.have_soa && wk.soa_ttl < t.cache_ttl)
			t.cache_ttl = wk.soa_ttl;
	}
	*resp = t;
	return 0;
}

bool
dns_response_matches(const struct dns_response *r, const struct dns_query *q)
{
	return r->qtype == q->qtype && r->qclass == q->qclass &&
	       dns_name_equal(r->qname, r->qname_len, q->qname, q->qname_len);
}

int
dns_response_strip_opt(const uint8_t *pkt, struct dns_response *r, uint8_t *out, size_t cap)
{
	size_t tail, i;

	if (r->body_len > cap || r->body_len < DNS_HDR_LEN)
		return -EMSGSIZE;
	if (r->opt_len == 0) {
		memmove(out, pkt, r->body_len);
		return (int)r->body_len;
	}
	if (r->opt_off > r->body_len)
		return -EMSGSIZE;
	tail = r->body_len - r->opt_off;
	memmove(out, pkt, r->opt_off);
	memmove(out + r->opt_off, pkt + r->opt_off + r->opt_len, tail);
	put_u16(out + 10, r->arcount);
	for (i = 0; i < r->n_ttl; i++)
		if (r->ttl_off[i] > r->opt_off)
			r->ttl_off[i] = (uint16_t)(r->ttl_off[i] - r->opt_len);
	r->opt_off = r->opt_len = 0;
	return (int)r->body_len;
}
