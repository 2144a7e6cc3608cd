/*
 * fuzz_response.c -- an upstream answer: dns_parse_response, then what the
 * stub does with it: strip the OPT (the body must parse to the same
 * description), compose the client's answer (must parse, question case and
 * TTLs as asked, header flags dotstub's own: AD only from an authenticated
 * upstream to a client that asked, never AA, always RA), and a cache
 * insert + answer (must equal the direct compose).
 */
#include <stdlib.h>
#include <string.h>

#include "dotstub/cache.h"
#include "dotstub/message.h"
#include "fuzz_target.h"

#define NOW 1000000

static uint8_t body[DNS_MSG_MAX];
static uint8_t out[DNS_MSG_MAX + 1024];
static uint8_t out2[DNS_MSG_MAX + 1024];
static struct ds_cache *cache;

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
check_description(const struct dns_response *r, size_t size)
{
	unsigned i;

	if (r->body_len > size || r->n_ttl > DNS_MAX_TTL_FIELDS ||
	    r->question_end != DNS_HDR_LEN + r->qname_len + 4 || r->question_end > r->body_len ||
	    r->body_len + r->opt_len != size)
		abort();
	if (r->has_ede && r->ede_text_off + r->ede_text_len > size)
		abort();
	for (i = 0; i < r->n_ttl; i++)
		if (r->ttl_off[i] < r->question_end || r->ttl_off[i] + 4u > size)
			abort();
}

/* the client's query, its details taken from the input's last octets */
static void
make_query(const struct dns_response *r, const uint8_t *data, size_t size,
	   struct dns_query *q)
{
	uint8_t x = data[size - 1], y = data[size / 2];
	size_t i;

	memset(q, 0, sizeof(*q));
	q->id = (uint16_t)(x << 8 | y);
	q->flags = (uint16_t)(x & 1 ? DNS_FLAG_RD : 0) | (x & 2 ? DNS_FLAG_AD : 0);
	memcpy(q->qname, r->qname, r->qname_len);
	q->qname_len = r->qname_len;
	for (i = 0; i < q->qname_len; i++) /* other case */
		if ((q->qname[i] | 0x20) >= 'a' && (q->qname[i] | 0x20) <= 'z' && (y & 1))
			q->qname[i] ^= 0x20;
	q->qtype = r->qtype;
	q->qclass = r->qclass;
	q->has_edns = (x & 4) != 0;
	q->do_bit = q->has_edns && (x & 8);
	q->cd_bit = (x & 16) != 0;
	q->udp_size = q->has_edns ? DNS_EDNS_UDP_SIZE : 512;
}

/* The answer's header: the upstream's opcode and rcode, QR and RA set, AA
 * and Z clear, RD and CD the client's, AD only if r came over an
 * authenticated channel, the upstream set it and the client asked. */
static void
check_flags(const struct dns_query *q, const struct dns_response *r, uint16_t upstream,
	    uint16_t f)
{
	const uint16_t mine = DNS_FLAG_RD | DNS_FLAG_CD;
	bool ad = r->authenticated && (upstream & DNS_FLAG_AD) &&
		  ((q->flags & DNS_FLAG_AD) || q->do_bit);

	if (!(f & DNS_FLAG_QR) || !(f & DNS_FLAG_RA) || (f & (DNS_FLAG_AA | 0x0040)) ||
	    ((f & DNS_FLAG_AD) != 0) != ad || (f & mine) != (q->flags & mine) ||
	    (f & 0x780f) != (upstream & 0x780f))
		abort();
}

static void
check_answer(const struct dns_query *q, const uint8_t *b, const struct dns_response *r,
	     const uint8_t *a, int n, uint32_t age)
{
	struct dns_response ar;
	unsigned i;

	if (n <= 0)
		abort();
	check_flags(q, r, (uint16_t)(b[2] << 8 | b[3]), (uint16_t)(a[2] << 8 | a[3]));
	if ((size_t)n > DNS_MSG_MAX)
		return;
	if (dns_parse_response(a, (size_t)n, &ar) != 0 || ar.id != q->id ||
	    ar.has_edns != q->has_edns || memcmp(a + DNS_HDR_LEN, q->qname, q->qname_len) != 0)
		abort();
	if (ar.flags & DNS_FLAG_TC)
		return;
	if (ar.n_ttl != r->n_ttl)
		abort();
	for (i = 0; i < r->n_ttl; i++) {
		uint32_t t = get_u32(b + r->ttl_off[i]), u = get_u32(a + r->ttl_off[i]);

		if (t & 0x80000000u)
			t = 0;
		if (u != (t > age ? t - age : 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_response r, b;
	struct dns_query q;
	struct dns_answer_opts o = { .age = 0, .ede_code = DNS_EDE_OTHER, .ede_text = "x" };
	size_t max_size;
	int n, m, ins;

	if (dns_parse_response(data, size, &r) != 0)
		return 0;
	if (r.authenticated)
		abort();
	check_description(&r, size);
	/* over DoT or plain DNS: the input decides */
	r.authenticated = (data[size / 2] & 2) != 0;

	n = dns_response_strip_opt(data, &r, body, sizeof(body));
	if (n < 0 || (size_t)n != r.body_len || r.opt_len != 0)
		abort();
	if (dns_parse_response(body, (size_t)n, &b) != 0 || b.has_edns ||
	    b.n_ttl != r.n_ttl || b.cache_ttl != r.cache_ttl || b.negative != r.negative ||
	    memcmp(b.ttl_off, r.ttl_off, r.n_ttl * sizeof(r.ttl_off[0])) != 0)
		abort();

	make_query(&r, data, size, &q);
	o.age = data[size - 2];
	o.pad_block = (data[size - 1] & 32) ? DNS_PAD_BLOCK_RESPONSE : 0;
	max_size = (data[size - 1] & 64) ? DNS_MSG_MAX : q.udp_size;

	m = dns_compose_answer(&q, body, (size_t)n, &r, &o, max_size, out, sizeof(out));
	check_answer(&q, body, &r, out, m, o.age);

	if (cache == NULL && (cache = ds_cache_new(1 << 20)) == NULL)
		abort();
	ds_cache_flush(cache);
	ins = ds_cache_insert(cache, &q, body, &r, NOW);
	if (ins < 0)
		abort();
	m = ds_cache_answer(cache, &q, &o, max_size, NOW + o.age, out2, sizeof(out2));
	if (ins == 0) {
		/* every cached lifetime is at least a second; age may exceed it */
		if (m < 0)
			abort();
		if (m > 0) {
			check_answer(&q, body, &r, out2, m, o.age);
			if (memcmp(out, out2, (size_t)m) != 0)
				abort();
		}
	} else if (m != 0) {
		abort();
	}
	return 0;
}
