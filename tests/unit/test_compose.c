/*
 * test_compose.c -- answers composed for clients: the client's ID and
 * question case, TTLs aged, OPT only when the client sent one (DO echoed,
 * EDE), TC=1 when too large, padding, error and local answers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dotstub/message.h"
#include "testpkt.h"

/* ---- answers to clients ---- */

struct exchange {
	uint8_t qpkt[512];
	size_t qlen;
	struct dns_query q;
	uint8_t rpkt[1024];
	struct dns_response r;
	uint8_t body[1024];
	size_t body_len;
};

static void
exchange_setup(struct exchange *x, const char *qname, bool edns, uint16_t udp, bool do_bit,
	       int opt_first)
{
	x->qlen = tp_query(x->qpkt, sizeof(x->qpkt), 0x0bad, DNS_FLAG_RD, qname, DNS_TYPE_A,
			   edns, udp, do_bit ? EDNS_FLAG_DO : 0, NULL, 0);
	assert_int_equal(dns_parse_query(x->qpkt, x->qlen, &x->q), DNS_PARSE_OK);
	size_t len = tp_build_answer(x->rpkt, sizeof(x->rpkt), opt_first);
	assert_int_equal(dns_parse_response(x->rpkt, len, &x->r), 0);
	assert_true(dns_response_matches(&x->r, &x->q));
	int n = dns_response_strip_opt(x->rpkt, &x->r, x->body, sizeof(x->body));
	assert_true(n > 0);
	x->body_len = (size_t)n;
}

static void
test_compose_answer_basic(void **state)
{
	struct exchange x;
	struct dns_answer_opts o = { .age = 100, .ede_code = -1 };
	struct dns_response a;
	uint8_t out[2048];
	int n;

	(void)state;
	exchange_setup(&x, "WWW.example.COM", false, 0, false, 0);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, 512, out, sizeof(out));
	assert_int_equal(n, (int)x.body_len); /* no OPT for a client without EDNS */
	assert_int_equal(tp_get16(out), 0x0bad);
	assert_memory_equal(out + 12, "\3WWW\7example\3COM", 17);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.has_edns);
	assert_false(a.flags & DNS_FLAG_TC);
	assert_false(a.flags & DNS_FLAG_AD); /* client asked for neither AD nor DO */
	assert_true(a.flags & DNS_FLAG_RD);
	assert_int_equal(tp_get32(out + a.ttl_off[0]), 200);
	assert_int_equal(tp_get32(out + a.ttl_off[1]), 20);
	assert_int_equal(tp_get32(out + a.ttl_off[2]), 86300);
	assert_int_equal(tp_get32(out + a.ttl_off[3]), 3500);
	/* floor at 0 */
	o.age = 1000;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, 512, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_int_equal(tp_get32(out + a.ttl_off[0]), 0);
	assert_int_equal(tp_get32(out + a.ttl_off[1]), 0);
	assert_int_equal(tp_get32(out + a.ttl_off[3]), 2600);
	/* the body itself is not touched */
	assert_memory_equal(x.body + 12, "\3www\7example\3com", 17);

	/* a client that sent RD=0 gets RD=0; AD kept when it set AD and the
	 * answer came over an authenticated channel */
	x.q.flags = DNS_FLAG_AD;
	x.r.authenticated = true;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL, 512, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_RD);
	assert_true(a.flags & DNS_FLAG_AD);
	assert_int_equal(tp_get32(out + a.ttl_off[0]), 300);

	/* not this question */
	x.q.qtype = DNS_TYPE_AAAA;
	assert_int_equal(dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL, 512, out,
					    sizeof(out)), -EINVAL);
}

static void
test_compose_answer_edns(void **state)
{
	struct exchange x;
	struct dns_answer_opts o = { .age = 0, .ede_code = DNS_EDE_NOT_READY,
				     .ede_text = "starting" };
	struct dns_response a;
	uint8_t out[2048];
	int n;

	(void)state;
	exchange_setup(&x, "www.example.com", true, 4096, true, 1);
	x.r.authenticated = true;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, 4096, out, sizeof(out));
	assert_int_equal(n, (int)(x.body_len + 11 + 4 + 2 + 8));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.has_edns);
	assert_true(a.do_bit);
	assert_true(a.flags & DNS_FLAG_AD);
	assert_int_equal(a.arcount, 1);
	assert_int_equal(tp_get16(out + a.opt_off + 3), DNS_EDNS_UDP_SIZE);
	assert_true(a.has_ede);
	assert_int_equal(a.ede_code, DNS_EDE_NOT_READY);
	assert_int_equal(a.ede_text_len, 8);
	assert_memory_equal(out + a.ede_text_off, "starting", 8);
	assert_false(a.has_keepalive); /* the upstream's options never leak */

	/* DO not echoed when the client did not set it */
	x.q.do_bit = false;
	o.ede_code = -1;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, 4096, out, sizeof(out));
	assert_int_equal(n, (int)(x.body_len + 11));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.do_bit);
	assert_false(a.has_ede);

	/* every cap below the size fails cleanly */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, 4096, out,
						    cap), -EMSGSIZE);
}

static void
test_compose_answer_truncation(void **state)
{
	struct exchange x;
	struct dns_answer_opts o = { .age = 0, .ede_code = -1 };
	struct dns_response a;
	uint8_t out[2048];
	int n;

	(void)state;
	exchange_setup(&x, "www.example.com", false, 0, false, 0);
	/* exactly the size fits; one less truncates */
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len, out, sizeof(out));
	assert_int_equal(n, (int)x.body_len);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len - 1, out,
			       sizeof(out));
	assert_int_equal(n, 12 + 17 + 4);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.flags & DNS_FLAG_TC);
	assert_int_equal(a.ancount + a.nscount + a.arcount, 0);
	assert_int_equal(tp_get16(out), 0x0bad);

	/* with EDNS, the OPT counts against the size and survives truncation */
	exchange_setup(&x, "www.example.com", true, 512, false, 0);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len + 11, out,
			       sizeof(out));
	assert_int_equal(n, (int)x.body_len + 11);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len + 10, out,
			       sizeof(out));
	assert_int_equal(n, 12 + 17 + 4 + 11);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.flags & DNS_FLAG_TC);
	assert_true(a.has_edns);
	assert_int_equal(a.ancount, 0);
}

/* The header flags are dotstub's own: AA and Z never (a forwarder is no
 * authority), RA always (it recurses for its clients), AD only from an
 * authenticated upstream to a client that asked with AD or DO (RFC 6840
 * 5.7), RD and CD as the client sent them -- also when truncated. */
static void
test_compose_answer_flags(void **state)
{
	const uint16_t liar = DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_AD | 0x0040 /* Z */;
	struct exchange x;
	struct dns_response a;
	uint8_t out[2048];
	int n;

	(void)state;
	for (int i = 0; i < 16; i++) {
		bool auth = i & 1, ad = i & 2, do_bit = i & 4, tc = i & 8;
		uint16_t want;

		exchange_setup(&x, "www.example.com", do_bit, 1232, do_bit, 0);
		/* the upstream: AA, AD, Z set, RA clear */
		x.body[2] = (uint8_t)(liar >> 8);
		x.body[3] = (uint8_t)liar;
		x.r.authenticated = auth;
		x.q.flags = (uint16_t)(DNS_FLAG_CD | (ad ? DNS_FLAG_AD : 0));
		n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL,
				       tc ? x.body_len - 1 : 512, out, sizeof(out));
		assert_true(n > 0);
		want = DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_CD | (tc ? DNS_FLAG_TC : 0);
		if (auth && (ad || do_bit))
			want |= DNS_FLAG_AD;
		assert_int_equal(tp_get16(out + 2), want);
		assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	}

	/* an upstream's RA=0 and RD=1 do not reach a client that sent RD=1
	 * and RD=0 respectively; the rcode is the upstream's */
	exchange_setup(&x, "www.example.com", false, 0, false, 0);
	x.body[2] = (uint8_t)((DNS_FLAG_QR | DNS_FLAG_RD) >> 8);
	x.body[3] = DNS_RCODE_NXDOMAIN;
	x.q.flags = 0;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL, 512, out, sizeof(out));
	assert_int_equal(tp_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RA | DNS_RCODE_NXDOMAIN);
	/* the body is not touched */
	assert_int_equal(x.body[2], (DNS_FLAG_QR | DNS_FLAG_RD) >> 8);
}

/* A body larger than 512 octets: TC=1 for a client without EDNS. */
static void
test_compose_answer_big(void **state)
{
	static uint8_t pkt[8192], body[8192], out[8192];
	struct dns_writer w;
	struct dns_response r, a;
	struct dns_query q;
	uint8_t qpkt[512];
	size_t qlen;
	int n;

	(void)state;
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR | DNS_FLAG_RA, 1, 40, 0, 0);
	tp_question(&w, "big.example", DNS_TYPE_A, DNS_CLASS_IN);
	for (int i = 0; i < 40; i++)
		tp_a(&w, TP_PTR_Q, 2, 60, (uint8_t)i);
	assert_true(w.len > 512);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), 0);
	n = dns_response_strip_opt(pkt, &r, body, sizeof(body));
	assert_int_equal(n, (int)w.len);

	qlen = tp_query(qpkt, sizeof(qpkt), 9, DNS_FLAG_RD, "big.example", DNS_TYPE_A, false, 0, 0,
			NULL, 0);
	assert_int_equal(dns_parse_query(qpkt, qlen, &q), DNS_PARSE_OK);
	n = dns_compose_answer(&q, body, r.body_len, &r, NULL, q.udp_size, out, sizeof(out));
	assert_true(n > 0 && n <= 512);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.flags & DNS_FLAG_TC);
	/* over TCP it all goes */
	n = dns_compose_answer(&q, body, r.body_len, &r, NULL, DNS_MSG_MAX, out, sizeof(out));
	assert_int_equal(n, (int)r.body_len);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	assert_int_equal(a.ancount, 40);
}

static void
test_compose_answer_padding(void **state)
{
	struct exchange x;
	struct dns_answer_opts o = { .age = 0, .ede_code = -1 };
	struct dns_response a;
	uint8_t out[4096];
	int n;
	const size_t blocks[] = { 1, 2, 128, 468, 1000 };

	(void)state;
	exchange_setup(&x, "www.example.com", true, 1232, false, 0);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		o.pad_block = blocks[i];
		n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, DNS_MSG_MAX, out,
				       sizeof(out));
		assert_true(n > 0);
		assert_int_equal((size_t)n % blocks[i], 0);
		assert_true((size_t)n >= x.body_len + 11 + 4);
		assert_true((size_t)n < x.body_len + 11 + 4 + blocks[i]);
		assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
		assert_int_equal(tp_get16(out + a.opt_off + 11), EDNS_OPT_PADDING);
	}
	/* padding never pushes the answer above max_size */
	o.pad_block = 468;
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len + 20, out,
			       sizeof(out));
	assert_int_equal(n, (int)x.body_len + 20);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	/* no room even for the option header: no padding, still valid */
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, x.body_len + 13, out,
			       sizeof(out));
	assert_int_equal(n, (int)x.body_len + 11);
	/* no padding without EDNS (it is an EDNS option) */
	exchange_setup(&x, "www.example.com", false, 0, false, 0);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, &o, DNS_MSG_MAX, out, sizeof(out));
	assert_int_equal(n, (int)x.body_len);
}

/* A TXT answer of exactly size octets (no OPT), records of 255 octets
 * and one shorter one, parsed and stripped into body. */
static void
huge_body(size_t size, uint8_t *pkt, uint8_t *body, struct dns_response *r)
{
	struct dns_writer w;
	uint8_t rdata[256];
	size_t rem = size - 12 - 14 - 4, n = rem / 268, last = rem % 268;
	int k;

	assert_true(last == 0 || last >= 14);
	dns_writer_init(&w, pkt, DNS_MSG_MAX);
	tp_header(&w, 1, DNS_FLAG_QR | DNS_FLAG_RA, 1, (uint16_t)(n + (last != 0)), 0, 0);
	tp_question(&w, "huge.example", DNS_TYPE_TXT, DNS_CLASS_IN);
	memset(rdata, 'x', sizeof(rdata));
	for (size_t i = 0; i <= n; i++) {
		size_t len = i < n ? 255 : last - 13;

		if (i == n && last == 0)
			break;
		rdata[0] = (uint8_t)len;
		rdata[1] = (uint8_t)i;
		tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_TXT, DNS_CLASS_IN, 300, rdata, (uint16_t)(len + 1));
	}
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, size);
	assert_int_equal(dns_parse_response(pkt, w.len, r), 0);
	k = dns_response_strip_opt(pkt, r, body, DNS_MSG_MAX);
	assert_int_equal(k, (int)size);
}

/* Over TCP everything that fits in 65,535 octets is delivered: the EDE
 * and then the OPT give way to the records before TC=1 does. */
static void
test_compose_answer_tcp_limit(void **state)
{
	static uint8_t pkt[DNS_MSG_MAX], body[DNS_MSG_MAX], out[DNS_MSG_MAX];
	struct dns_answer_opts o = { .age = 0, .ede_code = -1 };
	struct dns_response r, a;
	struct dns_query q;
	uint8_t qpkt[512];
	size_t qlen;
	int n;

	(void)state;
	qlen = tp_query(qpkt, sizeof(qpkt), 7, DNS_FLAG_RD, "huge.example", DNS_TYPE_TXT, true,
			1232, 0, NULL, 0);
	assert_int_equal(dns_parse_query(qpkt, qlen, &q), DNS_PARSE_OK);

	/* 65,505 octets: with our OPT (11) it fits, records and OPT */
	huge_body(65505, pkt, body, &r);
	o.pad_block = DNS_PAD_BLOCK_RESPONSE;
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, DNS_MSG_MAX, out, sizeof(out));
	assert_true(n >= 65505 + 11 && n <= DNS_MSG_MAX);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	assert_int_equal(a.ancount, r.ancount);
	assert_true(a.has_edns);
	/* with an EDE that would push it over: the EDE goes, the records stay */
	o.pad_block = 0;
	o.ede_code = DNS_EDE_OTHER;
	o.ede_text = "a reason long enough not to fit next to 65,505 octets";
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, DNS_MSG_MAX, out, sizeof(out));
	assert_int_equal(n, 65505 + 11);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	assert_false(a.has_ede);
	assert_int_equal(a.ancount, r.ancount);
	/* over UDP the same goes as TC=1 (the client retries over TCP) */
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, 1232, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.flags & DNS_FLAG_TC);
	assert_int_equal(a.ancount, 0);

	/* 65,530 octets: no room for an OPT; over TCP the OPT goes */
	o.ede_code = -1;
	o.ede_text = NULL;
	huge_body(65530, pkt, body, &r);
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, DNS_MSG_MAX, out, sizeof(out));
	assert_int_equal(n, 65530);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	assert_false(a.has_edns);
	assert_int_equal(a.ancount, r.ancount);
	assert_int_equal(tp_get16(out), 7);
	/* the largest message of all, 65,535 octets */
	huge_body(DNS_MSG_MAX, pkt, body, &r);
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, DNS_MSG_MAX, out, sizeof(out));
	assert_int_equal(n, DNS_MSG_MAX);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_false(a.flags & DNS_FLAG_TC);
	/* a UDP size never drops the OPT: TC=1 with the OPT */
	n = dns_compose_answer(&q, body, r.body_len, &r, &o, DNS_MSG_MAX - 1, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_true(a.flags & DNS_FLAG_TC);
	assert_true(a.has_edns);
}

static void
test_compose_error(void **state)
{
	struct dns_answer_opts o = { .ede_code = DNS_EDE_NETWORK_ERROR, .ede_text = "no DoT" };
	uint8_t qpkt[512], out[512];
	struct dns_query q;
	struct dns_response a;
	size_t qlen;
	int n;

	(void)state;
	qlen = tp_query(qpkt, sizeof(qpkt), 77, DNS_FLAG_RD | DNS_FLAG_CD, "Mixed.Case",
			DNS_TYPE_TXT, true, 1232, EDNS_FLAG_DO, NULL, 0);
	assert_int_equal(dns_parse_query(qpkt, qlen, &q), DNS_PARSE_OK);
	n = dns_compose_error(&q, DNS_RCODE_SERVFAIL, &o, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	assert_int_equal(a.id, 77);
	assert_int_equal(DNS_RCODE(a.flags), DNS_RCODE_SERVFAIL);
	assert_true(a.flags & DNS_FLAG_RD);
	assert_true(a.flags & DNS_FLAG_CD);
	assert_true(a.flags & DNS_FLAG_RA);
	assert_memory_equal(out + 12, "\5Mixed\4Case", 12);
	assert_true(a.has_ede);
	assert_int_equal(a.ede_code, DNS_EDE_NETWORK_ERROR);
	assert_memory_equal(out + a.ede_text_off, "no DoT", 6);
	assert_true(a.do_bit);

	/* BADVERS: extended rcode 1 in the OPT, low bits 0 */
	qpkt[qlen - 5] = 1;
	assert_int_equal(dns_parse_query(qpkt, qlen, &q), DNS_PARSE_BADVERS);
	n = dns_compose_error(&q, DNS_RCODE_BADVERS, NULL, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(DNS_RCODE(tp_get16(out + 2)), 0);
	assert_int_equal(out[n - 6], 1); /* ext rcode octet of the OPT TTL */
	assert_int_equal(out[n - 5], 0); /* version 0 */
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), -EBADMSG); /* ext rcode */

	/* a query whose EDNS is broken (two OPTs): FORMERR with the question
	 * and an OPT (RFC 6891 7), DO not echoed from a broken OPT */
	{
		struct dns_writer w;

		dns_writer_init(&w, qpkt, sizeof(qpkt));
		tp_header(&w, 78, DNS_FLAG_RD, 1, 0, 0, 2);
		tp_question(&w, "Mixed.Case", DNS_TYPE_TXT, DNS_CLASS_IN);
		tp_opt(&w, 1232, 0, 0, EDNS_FLAG_DO, NULL, 0);
		tp_opt(&w, 1232, 0, 0, EDNS_FLAG_DO, NULL, 0);
		assert_int_equal(dns_parse_query(qpkt, w.len, &q), DNS_PARSE_FORMERR);
		n = dns_compose_error(&q, DNS_RCODE_FORMERR, NULL, out, sizeof(out));
		assert_int_equal(n, 12 + 12 + 4 + 11);
		assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
		assert_int_equal(a.id, 78);
		assert_int_equal(a.flags, DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_RD | DNS_RCODE_FORMERR);
		assert_memory_equal(out + 12, "\5Mixed\4Case", 12);
		assert_true(a.has_edns);
		assert_false(a.do_bit);
		assert_int_equal(a.arcount, 0);
	}

	/* FORMERR without a question, no EDNS */
	q.qname_len = 0;
	q.has_edns = false;
	q.flags = 2 << 11; /* opcode echoed */
	n = dns_compose_error(&q, DNS_RCODE_FORMERR, NULL, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(tp_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RA | (2 << 11) | 1);
	assert_int_equal(tp_get16(out + 4), 0);
	for (size_t cap = 0; cap < 12; cap++)
		assert_int_equal(dns_compose_error(&q, DNS_RCODE_FORMERR, NULL, out, cap),
				 -EMSGSIZE);
}

static void
test_compose_local(void **state)
{
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	uint8_t qpkt[512], out[512];
	struct dns_query q;
	struct dns_response a;
	size_t qlen;
	int n;

	(void)state;
	qlen = tp_query(qpkt, sizeof(qpkt), 3, DNS_FLAG_RD, "LocalHost", DNS_TYPE_A, true, 1232,
			0, NULL, 0);
	assert_int_equal(dns_parse_query(qpkt, qlen, &q), DNS_PARSE_OK);
	n = dns_compose_local(&q, 0, lo, 4, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_parse_response(out, (size_t)n, &a), 0);
	/* a stub is no authority, for localhost either; it does recurse */
	assert_int_equal(a.flags, DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_RD);
	assert_int_equal(a.ancount, 1);
	assert_true(a.has_edns);
	assert_memory_equal(out + 12, "\11LocalHost", 10);
	assert_memory_equal(out + n - 11 - 4, lo, 4);
	q.qname_len = 0;
	assert_int_equal(dns_compose_local(&q, 0, lo, 4, out, sizeof(out)), -EINVAL);
}

/* dns_answer_pad: answers of every kind, padded after they were composed
 * (the DoT server's answers), to a multiple of 468 with their records
 * intact; nothing without an OPT, nothing twice, never past the room */
static void
test_answer_pad(void **state)
{
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct dns_answer_opts o = { .age = 0, .ede_code = DNS_EDE_PROHIBITED };
	struct exchange x;
	struct dns_response a;
	uint8_t out[DNS_MSG_MAX], copy[DNS_MSG_MAX];
	int n, m;

	(void)state;
	exchange_setup(&x, "www.example.com", true, 1232, false, 0);
	/* an answer from the upstream or the cache */
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL, DNS_MSG_MAX, out,
			       sizeof(out));
	assert_true(n > 0);
	memcpy(copy, out, (size_t)n);
	m = dns_answer_pad(out, (size_t)n, sizeof(out), DNS_PAD_BLOCK_RESPONSE);
	assert_int_equal(m % DNS_PAD_BLOCK_RESPONSE, 0);
	assert_true(m > n);
	assert_int_equal(dns_parse_response(out, (size_t)m, &a), 0);
	assert_int_equal(tp_get16(out + a.opt_off + 11), EDNS_OPT_PADDING);
	assert_memory_equal(out, copy, (size_t)n - 2); /* all before the OPT's RDLENGTH */
	/* padded already: left alone */
	assert_int_equal(dns_answer_pad(out, (size_t)m, sizeof(out), 468), m);
	/* an error answer with an EDE, and a local answer */
	n = dns_compose_error(&x.q, DNS_RCODE_REFUSED, &o, out, sizeof(out));
	m = dns_answer_pad(out, (size_t)n, sizeof(out), DNS_PAD_BLOCK_RESPONSE);
	assert_int_equal(m, DNS_PAD_BLOCK_RESPONSE);
	assert_int_equal(dns_parse_response(out, (size_t)m, &a), 0);
	assert_true(a.has_ede);
	assert_int_equal(a.ede_code, DNS_EDE_PROHIBITED);
	n = dns_compose_local(&x.q, 0, lo, 4, out, sizeof(out));
	m = dns_answer_pad(out, (size_t)n, sizeof(out), DNS_PAD_BLOCK_RESPONSE);
	assert_int_equal(m, DNS_PAD_BLOCK_RESPONSE);
	assert_int_equal(dns_parse_response(out, (size_t)m, &a), 0);
	assert_memory_equal(out + n - 11 - 4, lo, 4);
	/* the room is the limit: padded up to it, or not at all */
	n = dns_compose_local(&x.q, 0, lo, 4, out, sizeof(out));
	assert_int_equal(dns_answer_pad(out, (size_t)n, (size_t)n + 100, 468), n + 100);
	n = dns_compose_local(&x.q, 0, lo, 4, out, sizeof(out));
	assert_int_equal(dns_answer_pad(out, (size_t)n, (size_t)n + 3, 468), n);
	/* no OPT: the client had no EDNS, none may be added */
	exchange_setup(&x, "www.example.com", false, 0, false, 0);
	n = dns_compose_answer(&x.q, x.body, x.body_len, &x.r, NULL, DNS_MSG_MAX, out,
			       sizeof(out));
	assert_int_equal(dns_answer_pad(out, (size_t)n, sizeof(out), 468), n);
	/* not a message: refused, untouched */
	n = dns_compose_local(&x.q, 0, lo, 4, out, sizeof(out));
	assert_int_equal(dns_answer_pad(out, (size_t)n - 1, sizeof(out), 468), -EINVAL);
	out[n] = 0;
	assert_int_equal(dns_answer_pad(out, (size_t)n + 1, sizeof(out), 468), -EINVAL);
	assert_int_equal(dns_answer_pad(out, 5, sizeof(out), 468), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_answer_basic),
		cmocka_unit_test(test_compose_answer_edns),
		cmocka_unit_test(test_compose_answer_truncation),
		cmocka_unit_test(test_compose_answer_flags),
		cmocka_unit_test(test_compose_answer_big),
		cmocka_unit_test(test_compose_answer_padding),
		cmocka_unit_test(test_compose_answer_tcp_limit),
		cmocka_unit_test(test_compose_error),
		cmocka_unit_test(test_compose_local),
		cmocka_unit_test(test_answer_pad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
