/*
 * fuzz_query.c -- a client's query: dns_parse_query, then what the stub
 * does with it: the upstream query (must be a valid, padded query with the
 * same question and no client option), the error answers (an OPT if and
 * only if the query held one, even a broken one), a local answer, and the
 * name helpers; no answer made here says AA or AD, each says RA.
 */
#include <stdlib.h>
#include <string.h>

#include "dotstub/message.h"
#include "fuzz_target.h"

static uint8_t out[DNS_MSG_MAX];

static void
check_upstream(const struct dns_query *q, bool keepalive)
{
	struct dns_query back;
	int n = dns_build_upstream_query(q, 0x4d2, keepalive, out, sizeof(out));

	if (n < 0 || n % DNS_PAD_BLOCK_QUERY != 0)
		abort();
	if (dns_parse_query(out, (size_t)n, &back) != DNS_PARSE_OK)
		abort();
	if (back.qname_len != q->qname_len || memcmp(back.qname, q->qname, q->qname_len) != 0 ||
	    back.qtype != q->qtype || back.qclass != q->qclass || back.do_bit != q->do_bit ||
	    back.cd_bit != q->cd_bit || back.has_cookie || back.udp_size != DNS_EDNS_UDP_SIZE)
		abort();
}

static void
check_names(const struct dns_query *q)
{
	uint8_t back[DNS_NAME_MAX], low[DNS_NAME_MAX];
	char s[4 * DNS_NAME_MAX + 1];
	int n;

	if (dns_name_to_str(q->qname, q->qname_len, s, sizeof(s)) != 0)
		abort();
	n = dns_name_from_str(s, back);
	if (n != (int)q->qname_len || memcmp(back, q->qname, q->qname_len) != 0)
		abort();
	memcpy(low, q->qname, q->qname_len);
	dns_name_lower(low, q->qname_len);
	if (!dns_name_equal(low, q->qname_len, q->qname, q->qname_len) ||
	    !dns_name_is_subdomain(q->qname, q->qname_len, (const uint8_t *)"", 1))
		abort();
}

/* Our own header flags: QR and RA, never AA or AD. */
static void
check_flags(const uint8_t *pkt)
{
	uint16_t f = (uint16_t)(pkt[2] << 8 | pkt[3]);

	if (!(f & DNS_FLAG_QR) || !(f & DNS_FLAG_RA) || (f & (DNS_FLAG_AA | DNS_FLAG_AD)))
		abort();
}

static void
check_error(const struct dns_query *q, int rcode, const struct dns_answer_opts *o)
{
	struct dns_response r;
	int n = dns_compose_error(q, rcode, o, out, sizeof(out));

	if (n < DNS_HDR_LEN)
		abort();
	check_flags(out);
	/* ARCOUNT: our OPT, there if and only if the query held one (RFC
	 * 6891 7), or the rcode needs it */
	if (((unsigned)out[10] << 8 | out[11]) != (q->has_edns || rcode > 15 ? 1u : 0u))
		abort();
	/* our own parser refuses extended rcodes and a missing question */
	if (rcode > 15 || q->qname_len == 0)
		return;
	if (dns_parse_response(out, (size_t)n, &r) != 0 || r.id != q->id ||
	    DNS_RCODE(r.flags) != rcode || r.has_edns != q->has_edns ||
	    !dns_response_matches(&r, q))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer_opts o = { .age = 0, .ede_code = -1 };
	struct dns_query q;
	enum dns_parse_result res = dns_parse_query(data, size, &q);
	int rcode;

	if (res == DNS_PARSE_DROP)
		return 0;
	if (size & 1) {
		o.ede_code = DNS_EDE_NETWORK_ERROR;
		o.ede_text = (size & 4) ? "upstream unreachable" : NULL;
	}
	if (size & 2)
		o.pad_block = DNS_PAD_BLOCK_RESPONSE;

	switch (res) {
	case DNS_PARSE_OK:
		check_upstream(&q, false);
		check_upstream(&q, true);
		check_names(&q);
		{
			struct dns_response r;
			int n = dns_compose_local(&q, 0, (const uint8_t *)"\177\0\0\1", 4, out,
						  sizeof(out));

			if (n < 0)
				abort();
			check_flags(out);
			/* 4 octets are an address, not a name: check A only */
			if (q.qtype == DNS_TYPE_A &&
			    (dns_parse_response(out, (size_t)n, &r) != 0 || r.ancount != 1 ||
			     !dns_response_matches(&r, &q)))
				abort();
		}
		rcode = DNS_RCODE_SERVFAIL;
		break;
	case DNS_PARSE_NOTIMP:
		rcode = DNS_RCODE_NOTIMP;
		break;
	case DNS_PARSE_BADVERS:
		rcode = DNS_RCODE_BADVERS;
		break;
	default:
		rcode = DNS_RCODE_FORMERR;
		break;
	}
	check_error(&q, rcode, &o);
	return 0;
}
