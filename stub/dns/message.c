/*
 * message.c -- whole DNS messages: a client's query, the query sent
 * upstream (OPT rebuilt and padded per hop), the upstream's answer (cache
 * lifetime, keepalive, EDE), and every answer dotstub sends to a client.
 *
 * All parsing goes through the bounds-checked reader of wire.c; all
 * building through its writer.  No raw offsets into untrusted bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dotstub/message.h"

#define OPT_FIXED_LEN 11 /* owner (root), type, class, TTL, RDLENGTH */
#define OPT_HDR_LEN 4	 /* option code, option length */

static const uint8_t zeros[128];

/* ---- helpers ---- */

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 2181 8: a TTL with the top bit set is treated as zero */
static uint32_t
ttl_sane(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

static void
write_zeros(struct dns_writer *w, size_t n)
{
	while (n > 0 && w->err == 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		dns_write_bytes(w, zeros, k);
		n -= k;
	}
}

/* Append a PADDING option so that w->len becomes a multiple of block,
 * but never more than limit octets in total (then pad up to limit, or not
 * at all if even the option header does not fit). */
static void
write_padding(struct dns_writer *w, size_t block, size_t limit)
{
	size_t cur = w->len + OPT_HDR_LEN, target;

	if (block == 0 || cur > limit)
		return;
	target = (cur + block - 1) / block * block;
	if (target > limit)
		target = limit;
	if (target - cur > UINT16_MAX)
		target = cur + UINT16_MAX;
	dns_write_u16(w, EDNS_OPT_PADDING);
	dns_write_u16(w, (uint16_t)(target - cur));
	write_zeros(w, target - cur);
}

/* ---- a client's query ---- */

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
		write_padding(&w, DNS_PAD_BLOCK_QUERY, DNS_MSG_MAX);
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

/* ---- an upstream answer ---- */

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

/* ---- answers to a client ---- */

static const struct dns_answer_opts no_opts = { .age = 0, .ede_code = -1 };

/* Write our OPT for the client: UDP size, DO echoed, EDE and padding as
 * asked, the whole message at most limit octets after padding. */
static void
write_client_opt(struct dns_writer *w, const struct dns_query *q, unsigned ext_rcode,
		 const struct dns_answer_opts *o, size_t limit)
{
	size_t rdlen_pos, tlen = 0;

	dns_write_u8(w, 0);
	dns_write_u16(w, DNS_TYPE_OPT);
	dns_write_u16(w, DNS_EDNS_UDP_SIZE);
	dns_write_u8(w, (uint8_t)ext_rcode);
	dns_write_u8(w, 0); /* version */
	dns_write_u16(w, q->do_bit ? EDNS_FLAG_DO : 0);
	rdlen_pos = w->len;
	dns_write_u16(w, 0);
	if (o->ede_code >= 0) {
		if (o->ede_text != NULL)
			tlen = strlen(o->ede_text);
		if (tlen > UINT16_MAX - 2 - OPT_HDR_LEN - OPT_FIXED_LEN) {
			w->err = -EMSGSIZE;
			return;
		}
		dns_write_u16(w, EDNS_OPT_EDE);
		dns_write_u16(w, (uint16_t)(2 + tlen));
		dns_write_u16(w, (uint16_t)o->ede_code);
		dns_write_bytes(w, o->ede_text, tlen);
	}
	write_padding(w, o->pad_block, limit);
	if (w->err == 0) {
		if (w->len - rdlen_pos - 2 > UINT16_MAX)
			w->err = -EMSGSIZE;
		else
			put_u16(w->buf + rdlen_pos, (uint16_t)(w->len - rdlen_pos - 2));
	}
}

/* Size of our OPT for the client before padding. */
static size_t
client_opt_len(const struct dns_answer_opts *o)
{
	size_t n = OPT_FIXED_LEN;

	if (o->ede_code >= 0)
		n += OPT_HDR_LEN + 2 + (o->ede_text != NULL ? strlen(o->ede_text) : 0);
	return n;
}

/* The header flags of an answer to q from an upstream's header: the
 * upstream's opcode, TC and RCODE; QR; RA set, for dotstub recurses for its
 * clients (RFC 1035 4.1.1), whatever the upstream said; AA and Z cleared:
 * a forwarder is no authority; RD and CD as the client sent them; AD only
 * if the answer came over an authenticated channel (authenticated), the
 * upstream set it, and the client asked for it with AD or DO (RFC 6840
 * 5.7, 5.8; RFC 4035 4.9.3: an AD from anywhere else means nothing). */
static uint16_t
answer_flags(const struct dns_query *q, uint16_t upstream_flags, bool authenticated)
{
	uint16_t f = upstream_flags & (0x7800 | DNS_FLAG_TC | DNS_FLAG_AD | 0x000f);

	f |= DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD));
	if (!authenticated || (!(q->flags & DNS_FLAG_AD) && !q->do_bit))
		f &= (uint16_t)~DNS_FLAG_AD;
	return f;
}

/* TC=1, the question only, and the OPT if the client had EDNS. */
static int
compose_truncated(const struct dns_query *q, uint16_t flags, const struct dns_answer_opts *o,
		  size_t max_size, uint8_t *out, size_t cap)
{
	struct dns_writer w;

	dns_writer_init(&w, out, cap);
	dns_write_u16(&w, q->id);
	dns_write_u16(&w, (uint16_t)(flags | DNS_FLAG_TC));
	dns_write_u16(&w, 1);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, q->has_edns ? 1 : 0);
	dns_write_name(&w, q->qname, q->qname_len);
	dns_write_u16(&w, q->qtype);
	dns_write_u16(&w, q->qclass);
	if (q->has_edns)
		write_client_opt(&w, q, 0, o, max_size);
	return w.err != 0 ? w.err : (int)w.len;
}

int
dns_compose_answer_body(const struct dns_query *q, const uint8_t *body, size_t body_len,
			const uint16_t *ttl_off, unsigned n_ttl, bool authenticated,
			const struct dns_answer_opts *o, size_t max_size,
			uint8_t *out, size_t cap)
{
	struct dns_writer w;
	struct dns_answer_opts no_ede;
	size_t qend = DNS_HDR_LEN + q->qname_len + 4, need;
	uint16_t flags, arcount;
	bool opt = q->has_edns;
	unsigned i;

	if (o == NULL)
		o = &no_opts;
	if (q->qname_len == 0 || q->qname_len > DNS_NAME_MAX || body_len < qend ||
	    body_len > DNS_MSG_MAX)
		return -EINVAL;
	flags = answer_flags(q, get_u16(body + 2), authenticated);
	/* The records come first: what does not fit goes in this order --
	 * the padding (write_padding keeps within max_size), the EDE, and,
	 * over TCP (max_size DNS_MSG_MAX: there is nothing to retry with),
	 * the whole OPT.  Only then TC=1. */
	need = body_len + (opt ? client_opt_len(o) : 0);
	if (need > max_size && opt && o->ede_code >= 0) {
		no_ede = *o;
		no_ede.ede_code = -1;
		no_ede.ede_text = NULL;
		o = &no_ede;
		need = body_len + client_opt_len(o);
	}
	if (need > max_size && opt && max_size >= DNS_MSG_MAX && body_len <= max_size) {
		opt = false;
		need = body_len;
	}
	if (need > max_size)
		return compose_truncated(q, flags, o, max_size, out, cap);
	if (body_len > cap)
		return -EMSGSIZE;

	memcpy(out, body, body_len);
	put_u16(out, q->id);
	put_u16(out + 2, flags);
	memcpy(out + DNS_HDR_LEN, q->qname, q->qname_len);
	for (i = 0; i < n_ttl; i++) {
		uint32_t ttl;

		if (ttl_off[i] < qend || (size_t)ttl_off[i] + 4 > body_len)
			return -EINVAL;
		ttl = ttl_sane(get_u32(out + ttl_off[i]));
		put_u32(out + ttl_off[i], ttl > o->age ? ttl - o->age : 0);
	}
	if (!opt)
		return (int)body_len;

	arcount = get_u16(out + 10);
	if (arcount == UINT16_MAX)
		return -EINVAL;
	put_u16(out + 10, (uint16_t)(arcount + 1));
	dns_writer_init(&w, out, cap);
	w.len = body_len;
	write_client_opt(&w, q, 0, o, max_size);
	return w.err != 0 ? w.err : (int)w.len;
}

int
dns_compose_answer(const struct dns_query *q, const uint8_t *body, size_t body_len,
		   const struct dns_response *r, const struct dns_answer_opts *o,
		   size_t max_size, uint8_t *out, size_t cap)
{
	if (!dns_response_matches(r, q) || r->opt_len != 0 || r->n_ttl > DNS_MAX_TTL_FIELDS)
		return -EINVAL;
	return dns_compose_answer_body(q, body, body_len, r->ttl_off, r->n_ttl, r->authenticated,
				       o, max_size, out, cap);
}

int
dns_compose_error(const struct dns_query *q, int rcode, const struct dns_answer_opts *o,
		  uint8_t *out, size_t cap)
{
	struct dns_writer w;
	uint16_t flags;
	bool opt = q->has_edns || rcode > 15;

	if (o == NULL)
		o = &no_opts;
	if (rcode < 0 || rcode > 0xfff)
		return -EINVAL;
	if (q->qname_len > 0 && !dns_name_valid(q->qname, q->qname_len))
		return -EINVAL;
	flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | (rcode & 0xf) |
			   (q->flags & (0x7800 | DNS_FLAG_RD | DNS_FLAG_CD)));
	dns_writer_init(&w, out, cap);
	dns_write_u16(&w, q->id);
	dns_write_u16(&w, flags);
	dns_write_u16(&w, q->qname_len > 0 ? 1 : 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, opt ? 1 : 0);
	if (q->qname_len > 0) {
		dns_write_name(&w, q->qname, q->qname_len);
		dns_write_u16(&w, q->qtype);
		dns_write_u16(&w, q->qclass);
	}
	if (opt)
		write_client_opt(&w, q, (unsigned)rcode >> 4, o, DNS_MSG_MAX);
	return w.err != 0 ? w.err : (int)w.len;
}

/* Does the OPT record whose RDATA is rdata[0..rdlen) hold a PADDING
 * option?  false also for options that do not parse (then not padded). */
static bool
opt_has_padding(const uint8_t *rdata, size_t rdlen, bool *ok)
{
	size_t pos = 0;

	*ok = true;
	while (pos < rdlen) {
		size_t olen;

		if (rdlen - pos < OPT_HDR_LEN) {
			*ok = false;
			return false;
		}
		olen = get_u16(rdata + pos + 2);
		if (get_u16(rdata + pos) == EDNS_OPT_PADDING)
			return true;
		if (olen > rdlen - pos - OPT_HDR_LEN) {
			*ok = false;
			return false;
		}
		pos += OPT_HDR_LEN + olen;
	}
	return false;
}

int
dns_answer_pad(uint8_t *msg, size_t len, size_t cap, size_t block)
{
	struct dns_reader r;
	struct dns_writer w;
	size_t last = 0, nrr, rdlen_pos = 0, limit;
	unsigned qd, nopt = 0;
	uint16_t type = 0, rdlen = 0;
	bool last_opt = false, ok;

	if (len < DNS_HDR_LEN || len > cap)
		return -EINVAL;
	dns_reader_init(&r, msg, len);
	r.pos = 4;
	qd = dns_read_u16(&r);
	nrr = (size_t)dns_read_u16(&r) + dns_read_u16(&r) + dns_read_u16(&r);
	for (unsigned i = 0; i < qd && r.err == 0; i++) {
		dns_skip_name(&r);
		dns_read_u16(&r);
		dns_read_u16(&r);
	}
	for (size_t i = 0; i < nrr && r.err == 0; i++) {
		last = r.pos;
		dns_skip_name(&r);
		type = dns_read_u16(&r);
		dns_read_u16(&r);
		dns_read_u32(&r);
		rdlen_pos = r.pos;
		rdlen = dns_read_u16(&r);
		if (r.err == 0 && rdlen > r.len - r.pos)
			r.err = -EBADMSG;
		r.pos += r.err == 0 ? rdlen : 0;
		last_opt = type == DNS_TYPE_OPT && msg[last] == 0;
		nopt += type == DNS_TYPE_OPT;
	}
	if (r.err != 0 || r.pos != len)
		return -EINVAL;
	if (block == 0 || !last_opt || nopt != 1 || rdlen_pos + 2 + rdlen != len ||
	    opt_has_padding(msg + rdlen_pos + 2, rdlen, &ok) || !ok)
		return (int)len;
	limit = cap < DNS_MSG_MAX ? cap : DNS_MSG_MAX;
	dns_writer_init(&w, msg, limit);
	w.len = len;
	write_padding(&w, block, limit);
	if (w.err != 0 || w.len - len > (size_t)(UINT16_MAX - rdlen))
		return (int)len; /* cannot happen: write_padding keeps within limit */
	put_u16(msg + rdlen_pos, (uint16_t)(rdlen + (w.len - len)));
	return (int)w.len;
}

int
dns_compose_local(const struct dns_query *q, uint32_t ttl, const uint8_t *rdata,
		  uint16_t rdlen, uint8_t *out, size_t cap)
{
	struct dns_writer w;
	uint16_t flags;

	if (!dns_name_valid(q->qname, q->qname_len))
		return -EINVAL;
	/* not AA: dotstub answers for localhost as a resolver would, it is
	 * no authority for it (and every answer it gives says the same) */
	flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD)));
	dns_writer_init(&w, out, cap);
	dns_write_u16(&w, q->id);
	dns_write_u16(&w, flags);
	dns_write_u16(&w, 1);
	dns_write_u16(&w, 1);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, q->has_edns ? 1 : 0);
	dns_write_name(&w, q->qname, q->qname_len);
	dns_write_u16(&w, q->qtype);
	dns_write_u16(&w, q->qclass);
	dns_write_u16(&w, 0xc000 | DNS_HDR_LEN); /* owner: the question name */
	dns_write_u16(&w, q->qtype);
	dns_write_u16(&w, q->qclass);
	dns_write_u32(&w, ttl);
	dns_write_u16(&w, rdlen);
	dns_write_bytes(&w, rdata, rdlen);
	if (q->has_edns)
		write_client_opt(&w, q, 0, &no_opts, DNS_MSG_MAX);
	return w.err != 0 ? w.err : (int)w.len;
}
