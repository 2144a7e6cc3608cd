/*
 * answer.c -- every answer dotstub sends to a client: relayed, truncated,
 * an error, a local answer, each with the client's OPT.
 *
 * All parsing goes through the bounds-checked reader of wire.c; all
 * building through its writer.  No raw offsets into untrusted bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msg_int.h"

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
	msg_write_padding(w, o->pad_block, limit);
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
