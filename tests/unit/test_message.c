/*
 * test_message.c -- client query parsing, the upstream query (OPT rebuilt
 * and padded), upstream answer parsing (cache TTL, keepalive, EDE, OPT
 * position) and OPT stripping.  Composing answers for clients is in
 * test_compose.c.
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

/* ---- client queries ---- */

static void
test_query_plain(void **state)
{
	uint8_t pkt[512];
	struct dns_query q;
	size_t len;

	(void)state;
	len = tp_query(pkt, sizeof(pkt), 0x1234, DNS_FLAG_RD | DNS_FLAG_CD, "WwW.Example.com",
		       DNS_TYPE_AAAA, false, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.qname_len, 17);
	assert_memory_equal(q.qname, "\3WwW\7Example\3com", 17);
	assert_false(q.has_edns);
	assert_int_equal(q.udp_size, 512);
	assert_true(q.cd_bit);
	assert_false(q.do_bit);
	assert_true(q.flags & DNS_FLAG_RD);
}

static void
test_query_edns_options(void **state)
{
	/* ECS, COOKIE, KEEPALIVE, PADDING */
	const uint8_t opts[] = { 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2,
				 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
				 0, 11, 0, 0,
				 0, 12, 0, 3, 0, 0, 0 };
	uint8_t pkt[512];
	struct dns_query q;
	size_t len;

	(void)state;
	len = tp_query(pkt, sizeof(pkt), 7, DNS_FLAG_RD, "example.org", DNS_TYPE_A, true, 4096,
		       EDNS_FLAG_DO, opts, sizeof(opts));
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);
	assert_true(q.has_edns);
	assert_true(q.do_bit);
	assert_false(q.cd_bit);
	assert_true(q.has_cookie);
	assert_int_equal(q.udp_size, 4096);
	assert_int_equal(q.edns_version, 0);

	/* a tiny advertised size counts as 512 */
	len = tp_query(pkt, sizeof(pkt), 7, 0, "example.org", DNS_TYPE_A, true, 100, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);
	assert_int_equal(q.udp_size, 512);
	assert_false(q.has_cookie);

	/* an option running past RDATA */
	len = tp_query(pkt, sizeof(pkt), 7, 0, "example.org", DNS_TYPE_A, true, 1232, 0,
		       (const uint8_t[]){ 0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8 }, 12);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);
	assert_int_equal(q.id, 7);
	assert_true(q.has_edns);   /* the FORMERR carries an OPT (RFC 6891 7) */
	assert_int_equal(q.qname_len, 13);
	/* half an option header */
	len = tp_query(pkt, sizeof(pkt), 7, 0, "example.org", DNS_TYPE_A, true, 1232, 0,
		       (const uint8_t[]){ 0, 10 }, 2);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);

	/* EDNS version 1 -> BADVERS, with what is needed to answer */
	len = tp_query(pkt, sizeof(pkt), 9, 0, "example.org", DNS_TYPE_A, true, 1232, 0, NULL, 0);
	pkt[len - 5] = 1; /* version octet of the OPT TTL */
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_BADVERS);
	assert_int_equal(q.id, 9);
	assert_true(q.has_edns);
	assert_int_equal(q.edns_version, 1);
	assert_int_equal(q.qname_len, 13);
}

static void
test_query_rejects(void **state)
{
	uint8_t pkt[512];
	struct dns_query q;
	struct dns_writer w;
	size_t len;

	(void)state;
	len = tp_query(pkt, sizeof(pkt), 1, 0, "a.example", DNS_TYPE_A, false, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, 11, &q), DNS_PARSE_DROP);
	pkt[2] |= 0x80; /* QR */
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_DROP);
	pkt[2] &= 0x7f;

	pkt[2] |= 2 << 3; /* opcode STATUS */
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_NOTIMP);
	assert_int_equal(q.id, 1);
	assert_int_equal(q.qname_len, 11);
	pkt[2] &= (uint8_t)~(0xf << 3);

	/* trailing garbage */
	pkt[len] = 0;
	assert_int_equal(dns_parse_query(pkt, len + 1, &q), DNS_PARSE_FORMERR);
	assert_int_equal(q.qname_len, 11); /* question still usable */

	/* counts */
	for (int which = 0; which < 4; which++) {
		len = tp_query(pkt, sizeof(pkt), 2, 0, "a.example", DNS_TYPE_A, false, 0, 0,
			       NULL, 0);
		switch (which) {
		case 0: pkt[5] = 0; break; /* QDCOUNT 0 */
		case 1: pkt[5] = 2; break; /* QDCOUNT 2 */
		case 2: pkt[7] = 1; break; /* ANCOUNT 1 */
		case 3: pkt[9] = 1; break; /* NSCOUNT 1 */
		}
		assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);
		assert_int_equal(q.id, 2);
		if (which == 0)
			assert_int_equal(q.qname_len, 0);
	}

	/* an additional record that is not an OPT */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_a(&w, TP_PTR_Q, 2, 60, 1);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);

	/* an OPT whose owner is not the root */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_OPT, 1232, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);

	/* two OPTs */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 2);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);

	/* a compressed question name can only point into the header */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 0);
	dns_write_bytes(&w, (const uint8_t[]){ 0xc0, 0x04, 0, 1, 0, 1 }, 6);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_int_equal(q.qname_len, 0);
}

/* A query refused for its EDNS, or with an OPT anywhere: has_edns says
 * the query held an OPT (the error answer then carries one, RFC 6891 7),
 * the question is kept when it parsed, DO and the UDP size are not taken
 * from a broken OPT; without an OPT, has_edns stays false. */
static void
test_query_broken_edns(void **state)
{
	uint8_t pkt[512];
	struct dns_query q;
	struct dns_writer w;
	size_t len;

	(void)state;
	/* two OPTs */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 2);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 4096, 0, 0, EDNS_FLAG_DO, NULL, 0);
	tp_opt(&w, 4096, 0, 0, EDNS_FLAG_DO, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_true(q.has_edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);
	assert_int_equal(q.qname_len, 11);
	assert_int_equal(q.qtype, DNS_TYPE_A);

	/* an OPT in the answer section, then in the authority section */
	for (int sec = 0; sec < 2; sec++) {
		dns_writer_init(&w, pkt, sizeof(pkt));
		tp_header(&w, 3, 0, 1, sec == 0, sec == 1, 0);
		tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
		tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
		assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
		assert_true(q.has_edns);
		assert_int_equal(q.qname_len, 11);
	}

	/* an answer record before a good OPT */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 1, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_a(&w, TP_PTR_Q, 2, 60, 1);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_true(q.has_edns);

	/* an OPT whose owner is not the root */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_OPT, 1232, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_true(q.has_edns);

	/* an OPT whose RDATA runs past the message: still an OPT */
	len = tp_query(pkt, sizeof(pkt), 7, 0, "a.example", DNS_TYPE_A, true, 1232, 0, NULL, 0);
	pkt[len - 1] = 9;
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);
	assert_true(q.has_edns);
	/* cut inside its type: nothing says it was an OPT */
	assert_int_equal(dns_parse_query(pkt, len - 9, &q), DNS_PARSE_FORMERR);
	assert_false(q.has_edns);

	/* no question (QDCOUNT 0), an OPT: no question, an OPT */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 0, 0, 0, 1);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_true(q.has_edns);
	assert_int_equal(q.qname_len, 0);

	/* another opcode with an OPT: NOTIMP with an OPT */
	len = tp_query(pkt, sizeof(pkt), 7, 2 << 11, "a.example", DNS_TYPE_A, true, 1232, 0,
		       NULL, 0);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_NOTIMP);
	assert_true(q.has_edns);
	assert_int_equal(q.qname_len, 11);

	/* no OPT: an A record as the additional record, counts wrong */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 3, 0, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_a(&w, TP_PTR_Q, 2, 60, 1);
	assert_int_equal(dns_parse_query(pkt, w.len, &q), DNS_PARSE_FORMERR);
	assert_false(q.has_edns);
	len = tp_query(pkt, sizeof(pkt), 2, 0, "a.example", DNS_TYPE_A, false, 0, 0, NULL, 0);
	pkt[9] = 1; /* NSCOUNT 1, nothing there */
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);
	assert_false(q.has_edns);
	pkt[5] = 9; /* QDCOUNT 9 */
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_FORMERR);
	assert_false(q.has_edns);

	/* BADVERS as before: the OPT's version, the question */
	len = tp_query(pkt, sizeof(pkt), 9, 0, "a.example", DNS_TYPE_A, true, 1232, EDNS_FLAG_DO,
		       NULL, 0);
	pkt[len - 5] = 1;
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_BADVERS);
	assert_true(q.has_edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_version, 1);
	assert_int_equal(q.qname_len, 11);
}

static void
test_query_truncated_everywhere(void **state)
{
	const uint8_t opts[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t pkt[512];
	struct dns_query q;
	size_t len, cut;

	(void)state;
	len = tp_query(pkt, sizeof(pkt), 5, DNS_FLAG_RD, "www.example.com", DNS_TYPE_A, true,
		       1232, 0, opts, sizeof(opts));
	for (cut = 0; cut < len; cut++) {
		enum dns_parse_result res = dns_parse_query(pkt, cut, &q);

		if (cut < DNS_HDR_LEN)
			assert_int_equal(res, DNS_PARSE_DROP);
		else
			assert_int_equal(res, DNS_PARSE_FORMERR);
	}
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);
}

/* ---- the upstream query ---- */

/* Walk the OPT options of a message we built: count them by code. */
static void
opt_codes(const uint8_t *pkt, size_t len, int counts[16], size_t *pad_len, uint16_t *udp,
	  uint32_t *ttl)
{
	struct dns_reader r;
	uint16_t ar, rdlen;
	size_t end;

	memset(counts, 0, 16 * sizeof(int));
	dns_reader_init(&r, pkt, len);
	r.pos = 10;
	ar = dns_read_u16(&r);
	assert_int_equal(ar, 1);
	dns_skip_name(&r);
	r.pos += 4;
	assert_int_equal(dns_read_u8(&r), 0);
	assert_int_equal(dns_read_u16(&r), DNS_TYPE_OPT);
	*udp = dns_read_u16(&r);
	*ttl = dns_read_u32(&r);
	rdlen = dns_read_u16(&r);
	end = r.pos + rdlen;
	assert_int_equal(end, len);
	while (r.pos < end) {
		uint16_t code = dns_read_u16(&r), olen = dns_read_u16(&r);

		assert_true(code < 16);
		counts[code]++;
		if (code == EDNS_OPT_PADDING) {
			*pad_len = olen;
			for (size_t i = 0; i < olen; i++)
				assert_int_equal(pkt[r.pos + i], 0);
		}
		r.pos += olen;
	}
	assert_int_equal(r.err, 0);
	assert_int_equal(r.pos, len);
}

static void
test_upstream_query_rebuilt(void **state)
{
	const uint8_t opts[] = { 0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2,
				 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
				 0, 11, 0, 0,
				 0, 12, 0, 3, 0, 0, 0,
				 0, 15, 0, 2, 0, 1 };
	uint8_t pkt[512], out[1024];
	struct dns_query q, back;
	int counts[16], n;
	size_t len, pad = 0;
	uint16_t udp;
	uint32_t ttl;

	(void)state;
	len = tp_query(pkt, sizeof(pkt), 0x4242, DNS_FLAG_RD | DNS_FLAG_CD, "Www.Example.ORG",
		       DNS_TYPE_A, true, 4096, EDNS_FLAG_DO, opts, sizeof(opts));
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);

	for (int ka = 0; ka <= 1; ka++) {
		n = dns_build_upstream_query(&q, 0xbeef, ka, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal(n % DNS_PAD_BLOCK_QUERY, 0);
		assert_int_equal(tp_get16(out), 0xbeef);
		assert_int_equal(tp_get16(out + 2), DNS_FLAG_RD | DNS_FLAG_CD | DNS_FLAG_AD);
		assert_memory_equal(out + 12, "\3Www\7Example\3ORG", 17); /* case kept */
		opt_codes(out, (size_t)n, counts, &pad, &udp, &ttl);
		assert_int_equal(udp, DNS_EDNS_UDP_SIZE);
		assert_int_equal(ttl, EDNS_FLAG_DO);
		assert_int_equal(counts[EDNS_OPT_ECS], 0);
		assert_int_equal(counts[EDNS_OPT_COOKIE], 0);
		assert_int_equal(counts[EDNS_OPT_EDE], 0);
		assert_int_equal(counts[EDNS_OPT_KEEPALIVE], ka);
		assert_int_equal(counts[EDNS_OPT_PADDING], 1);
		/* our own query is a valid query */
		assert_int_equal(dns_parse_query(out, (size_t)n, &back), DNS_PARSE_OK);
		assert_true(back.do_bit && back.cd_bit && !back.has_cookie);
		assert_int_equal(back.id, 0xbeef);
	}

	/* nothing of the client's EDNS but DO: a client without EDNS gets DO=0 */
	len = tp_query(pkt, sizeof(pkt), 1, 0, "example.org", DNS_TYPE_A, false, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_query(pkt, len, &q), DNS_PARSE_OK);
	n = dns_build_upstream_query(&q, 2, false, out, sizeof(out));
	assert_int_equal(n, 128);
	opt_codes(out, (size_t)n, counts, &pad, &udp, &ttl);
	assert_int_equal(ttl, 0);
	assert_int_equal(tp_get16(out + 2), DNS_FLAG_AD);

	/* minimal (the retry after a truncated answer): no OPT without DO */
	n = dns_build_upstream_query_min(&q, 3, out, sizeof(out));
	assert_int_equal(n, 12 + 13 + 4);
	assert_int_equal(tp_get16(out + 10), 0);
	assert_int_equal(dns_parse_query(out, (size_t)n, &back), DNS_PARSE_OK);
	assert_false(back.has_edns);
	/* ... and with DO, an OPT of 11 octets: DO only */
	q.do_bit = true;
	n = dns_build_upstream_query_min(&q, 3, out, sizeof(out));
	assert_int_equal(n, 12 + 13 + 4 + 11);
	opt_codes(out, (size_t)n, counts, &pad, &udp, &ttl);
	assert_int_equal(counts[EDNS_OPT_PADDING], 0);
	assert_int_equal(counts[EDNS_OPT_KEEPALIVE], 0);
	assert_int_equal(ttl, EDNS_FLAG_DO);
	assert_int_equal(dns_parse_query(out, (size_t)n, &back), DNS_PARSE_OK);
	assert_true(back.do_bit);
}

static void
test_upstream_query_padding_sizes(void **state)
{
	uint8_t out[1024];
	struct dns_query q = { .qtype = DNS_TYPE_A, .qclass = DNS_CLASS_IN };
	int n, counts[16];
	size_t pad = 0;
	uint16_t udp;
	uint32_t ttl;

	(void)state;
	/* every name length: 1 (root), 3 .. 255, with and without keepalive */
	for (size_t nl = 1; nl <= DNS_NAME_MAX; nl++) {
		size_t p = 0, rem = nl - 1;

		if (nl == 2)
			continue; /* no name is 2 octets long */
		while (rem > 0) {
			size_t l = rem - 1 < 63 ? rem - 1 : 63;

			if (rem - (l + 1) == 1)
				l--; /* leave room for a label of one octet */
			q.qname[p++] = (uint8_t)l;
			memset(q.qname + p, 'x', l);
			p += l;
			rem -= l + 1;
		}
		q.qname[p++] = 0;
		assert_int_equal(p, nl);
		assert_true(dns_name_valid(q.qname, nl));
		q.qname_len = nl;
		for (int ka = 0; ka <= 1; ka++) {
			size_t bare = 12 + nl + 4 + 11 + (ka ? 4 : 0) + 4;

			n = dns_build_upstream_query(&q, 1, ka, out, sizeof(out));
			assert_true(n > 0);
			assert_int_equal(n % 128, 0);
			assert_true((size_t)n >= bare && (size_t)n < bare + 128);
			opt_codes(out, (size_t)n, counts, &pad, &udp, &ttl);
			assert_int_equal(pad, (size_t)n - bare);
			/* every cap below the size fails cleanly */
			assert_int_equal(dns_build_upstream_query(&q, 1, ka, out, (size_t)n - 1),
					 -EMSGSIZE);
		}
	}
	q.qname_len = 3;
	memcpy(q.qname, "\1a\1", 3); /* not a name */
	assert_int_equal(dns_build_upstream_query(&q, 1, false, out, sizeof(out)), -EINVAL);
}

/* ---- upstream answers ---- */


static void
test_response_positive(void **state)
{
	uint8_t pkt[1024];
	struct dns_response r;
	size_t len;

	(void)state;
	for (int opt_first = 0; opt_first <= 1; opt_first++) {
		len = tp_build_answer(pkt, sizeof(pkt), opt_first);
		assert_int_equal(dns_parse_response(pkt, len, &r), 0);
		assert_int_equal(r.id, 0x55aa);
		assert_int_equal(r.ancount, 2);
		assert_int_equal(r.nscount, 1);
		assert_int_equal(r.arcount, 1);
		assert_int_equal(r.question_end, 12 + 17 + 4);
		assert_int_equal(r.qname_len, 17);
		assert_int_equal(r.cache_ttl, 120);
		assert_false(r.negative);
		assert_true(r.has_edns);
		assert_true(r.do_bit);
		assert_true(r.has_keepalive);
		assert_int_equal(r.edns_keepalive, 1200);
		assert_true(r.has_ede); /* the first of two */
		assert_int_equal(r.ede_code, 3);
		assert_int_equal(r.ede_text_len, 4);
		assert_memory_equal(pkt + r.ede_text_off, "stal", 4);
		assert_int_equal(r.n_ttl, 4);
		assert_int_equal(r.body_len, len - 11 - 22);
		assert_int_equal(tp_get32(pkt + r.ttl_off[0]), 300);
		assert_int_equal(tp_get32(pkt + r.ttl_off[1]), 120);
		assert_int_equal(tp_get32(pkt + r.ttl_off[2]), 86400);
		assert_int_equal(tp_get32(pkt + r.ttl_off[3]), 3600);
		assert_false(r.ttl_overflow);
	}
}

static void
test_response_truncated_everywhere(void **state)
{
	uint8_t pkt[1024];
	struct dns_response r;
	size_t len, cut;

	(void)state;
	for (int opt_first = 0; opt_first <= 1; opt_first++) {
		len = tp_build_answer(pkt, sizeof(pkt), opt_first);
		for (cut = 0; cut < len; cut++) {
			memset(&r, 0x77, sizeof(r));
			assert_int_equal(dns_parse_response(pkt, cut, &r), -EBADMSG);
			assert_int_equal(r.id, 0x7777); /* untouched on error */
		}
		/* one octet too many */
		pkt[len] = 0;
		assert_int_equal(dns_parse_response(pkt, len + 1, &r), -EBADMSG);
	}
}

static size_t
build_negative(uint8_t *buf, size_t cap, uint16_t rcode, uint32_t soa_ttl, uint32_t minimum,
	       bool soa)
{
	struct dns_writer w;

	dns_writer_init(&w, buf, cap);
	tp_header(&w, 1, (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA | rcode), 1, 0,
		  soa ? 1 : 0, 0);
	tp_question(&w, "nope.example", DNS_TYPE_A, DNS_CLASS_IN);
	if (soa)
		tp_soa(&w, (const uint8_t[]){ 0xc0, 17 }, 2, soa_ttl, minimum);
	assert_int_equal(w.err, 0);
	return w.len;
}

static void
test_response_negative_ttl(void **state)
{
	uint8_t pkt[512];
	struct dns_response r;
	size_t len;

	(void)state;
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NXDOMAIN, 3600, 900, true);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_true(r.negative);
	assert_int_equal(r.cache_ttl, 900); /* MINIMUM < TTL */
	assert_int_equal(r.n_ttl, 1);
	assert_false(r.has_edns);

	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NXDOMAIN, 60, 900, true);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_int_equal(r.cache_ttl, 60); /* TTL < MINIMUM */

	/* NODATA */
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NOERROR, 300, 30, true);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_true(r.negative);
	assert_int_equal(r.cache_ttl, 30);

	/* no SOA: not cacheable */
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NXDOMAIN, 0, 0, false);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_true(r.negative);
	assert_int_equal(r.cache_ttl, 0);

	/* a TTL with the top bit set counts as 0 */
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NXDOMAIN, 0x80000010u, 900, true);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_int_equal(r.cache_ttl, 0);

	/* SERVFAIL: no lifetime of its own, not negative */
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_SERVFAIL, 0, 0, false);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_false(r.negative);
	assert_int_equal(r.cache_ttl, 0);

	/* SOA RDATA shorter than its names and counters */
	{
		struct dns_writer w;
		uint8_t rd[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

		dns_writer_init(&w, pkt, sizeof(pkt));
		tp_header(&w, 1, DNS_FLAG_QR | DNS_RCODE_NXDOMAIN, 1, 0, 1, 0);
		tp_question(&w, "nope.example", DNS_TYPE_A, DNS_CLASS_IN);
		tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_SOA, DNS_CLASS_IN, 60, rd, sizeof(rd));
		assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);
	}
}

static void
test_response_rejects(void **state)
{
	uint8_t pkt[1024];
	struct dns_response r;
	struct dns_writer w;
	size_t len;

	(void)state;
	/* QR=0 */
	len = build_negative(pkt, sizeof(pkt), DNS_RCODE_NXDOMAIN, 60, 60, true);
	pkt[2] &= 0x7f;
	assert_int_equal(dns_parse_response(pkt, len, &r), -EBADMSG);

	/* compressed question name */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 0);
	dns_write_bytes(&w, (const uint8_t[]){ 1, 'a', 0xc0, 12, 0, 1, 0, 1 }, 8);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* OPT in the answer section */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 1, 0, 0);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* two OPTs */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 2);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* extended RCODE (BADVERS) */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 1232, 1, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* OPT options overrun their RDATA */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_opt(&w, 1232, 0, 0, 0, (const uint8_t[]){ 0, 15, 0, 3, 0, 1 }, 6);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* OPT owner not the root */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_OPT, 1232, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* RDLENGTH past the end */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 1, 0, 0);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_a(&w, TP_PTR_Q, 2, 60, 1);
	pkt[w.len - 5] = 5;
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);
}

/* OPT not last: later records may use names before it, never it or after */
static void
test_response_opt_not_last(void **state)
{
	uint8_t pkt[1024], body[1024];
	struct dns_response r;
	struct dns_writer w;
	size_t len, opt_at;
	int n;

	(void)state;
	len = tp_build_answer(pkt, sizeof(pkt), 1);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	assert_true(r.opt_off > 0);
	assert_int_equal(r.opt_len, 11 + 22);
	n = dns_response_strip_opt(pkt, &r, body, sizeof(body));
	assert_int_equal(n, (int)len - 33);
	assert_int_equal(r.body_len, (size_t)n);
	assert_int_equal(r.opt_len, 0);
	assert_int_equal(tp_get16(body + 10), 1); /* ARCOUNT without the OPT */
	assert_int_equal(tp_get32(body + r.ttl_off[3]), 3600); /* moved TTL found */
	/* the body is a message again and describes itself the same way */
	{
		struct dns_response b;

		assert_int_equal(dns_parse_response(body, (size_t)n, &b), 0);
		assert_false(b.has_edns);
		assert_int_equal(b.n_ttl, r.n_ttl);
		assert_memory_equal(b.ttl_off, r.ttl_off, r.n_ttl * sizeof(uint16_t));
		assert_int_equal(b.cache_ttl, r.cache_ttl);
	}

	/* a record after the OPT whose owner points past the OPT */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 3);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	opt_at = w.len;
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	len = w.len;
	tp_rr(&w, (const uint8_t[]){ 1, 'b', 0xc0, 12 }, 4, DNS_TYPE_A, DNS_CLASS_IN, 60,
	      "\1\2\3\4", 4);
	tp_rr(&w, (const uint8_t[]){ 0xc0, (uint8_t)len }, 2, DNS_TYPE_A, DNS_CLASS_IN, 60,
	      "\1\2\3\4", 4);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* ... or into the OPT (its root owner) */
	w.len = len;
	tp_rr(&w, (const uint8_t[]){ 1, 'b', 0xc0, (uint8_t)opt_at }, 4, DNS_TYPE_A,
	      DNS_CLASS_IN, 60, "\1\2\3\4", 4);
	pkt[11] = 2;
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);

	/* ... or whose CNAME RDATA does */
	w.len = len;
	tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_CNAME, DNS_CLASS_IN, 60,
	      (const uint8_t[]){ 0xc0, (uint8_t)opt_at }, 2);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);
	/* a CNAME pointing before the OPT is fine */
	w.len = len;
	tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_CNAME, DNS_CLASS_IN, 60,
	      (const uint8_t[]){ 1, 'x', 0xc0, 12 }, 4);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), 0);
	assert_int_equal(r.arcount, 1);
	/* an MX whose exchange runs on into the next record */
	w.len = len;
	tp_rr(&w, TP_PTR_Q, 2, 15, DNS_CLASS_IN, 60, (const uint8_t[]){ 0, 10, 3, 'x' }, 4);
	tp_a(&w, (const uint8_t[]){ 1, 'y', 0 }, 3, 60, 1);
	pkt[11] = 3;
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);
	/* the same record before the OPT is refused too */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 0, 0, 3);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_rr(&w, TP_PTR_Q, 2, 15, DNS_CLASS_IN, 60, (const uint8_t[]){ 0, 10, 3, 'x' }, 4);
	tp_a(&w, (const uint8_t[]){ 1, 'y', 0 }, 3, 60, 1);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), -EBADMSG);
	/* and a well-formed MX there is fine */
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, 1, 0, 1);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	tp_rr(&w, TP_PTR_Q, 2, 15, DNS_CLASS_IN, 60, (const uint8_t[]){ 0, 10, 1, 'x', 0xc0, 12 },
	      6);
	tp_opt(&w, 1232, 0, 0, 0, NULL, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), 0);
}

/* A name that leans on a TTL field would change when the TTL is rewritten. */
static void
test_response_name_on_ttl(void **state)
{
	uint8_t pkt[512];
	struct dns_response r;
	struct dns_writer w;
	const uint32_t ttl = 0x01620000; /* octets 1 'b' 0 0: the name "b." */
	const size_t ttl_at = 12 + 11 + 4 + 2 + 2 + 2;

	(void)state;
	for (int where = 0; where < 3; where++) {
		dns_writer_init(&w, pkt, sizeof(pkt));
		tp_header(&w, 1, DNS_FLAG_QR, 1, where == 2 ? 1 : 2, 0, 0);
		tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
		tp_a(&w, TP_PTR_Q, 2, ttl, 1);
		assert_int_equal(tp_get32(pkt + ttl_at), ttl);
		if (where == 0) /* an owner name */
			tp_a(&w, (const uint8_t[]){ 0xc0, ttl_at }, 2, 60, 2);
		else if (where == 1) /* a CNAME target */
			tp_rr(&w, TP_PTR_Q, 2, DNS_TYPE_CNAME, DNS_CLASS_IN, 60,
			      (const uint8_t[]){ 1, 'c', 0xc0, ttl_at }, 4);
		assert_int_equal(w.err, 0);
		assert_int_equal(dns_parse_response(pkt, w.len, &r), where == 2 ? 0 : -EBADMSG);
	}
}

static void
test_strip_in_place(void **state)
{
	uint8_t pkt[1024], copy[1024];
	struct dns_response r, r2;
	size_t len;

	(void)state;
	len = tp_build_answer(pkt, sizeof(pkt), 1);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	r2 = r;
	assert_int_equal(dns_response_strip_opt(pkt, &r2, copy, sizeof(copy)), (int)r.body_len);
	assert_int_equal(dns_response_strip_opt(pkt, &r, pkt, len), (int)r.body_len);
	assert_memory_equal(pkt, copy, r.body_len);
	/* too small: nothing changes */
	len = tp_build_answer(pkt, sizeof(pkt), 0);
	assert_int_equal(dns_parse_response(pkt, len, &r), 0);
	r2 = r;
	assert_int_equal(dns_response_strip_opt(pkt, &r, copy, r.body_len - 1), -EMSGSIZE);
	assert_int_equal(r.opt_len, r2.opt_len);
	assert_int_equal(r.opt_off, r2.opt_off);
	assert_int_equal(r.n_ttl, r2.n_ttl);
	assert_memory_equal(r.ttl_off, r2.ttl_off, r.n_ttl * sizeof(r.ttl_off[0]));
}

static void
test_ttl_overflow(void **state)
{
	static uint8_t pkt[20000];
	struct dns_writer w;
	struct dns_response r;

	(void)state;
	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 1, DNS_FLAG_QR, 1, DNS_MAX_TTL_FIELDS + 1, 0, 0);
	tp_question(&w, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	for (int i = 0; i <= DNS_MAX_TTL_FIELDS; i++)
		tp_a(&w, TP_PTR_Q, 2, 60, (uint8_t)i);
	assert_int_equal(dns_parse_response(pkt, w.len, &r), 0);
	assert_true(r.ttl_overflow);
	assert_int_equal(r.n_ttl, DNS_MAX_TTL_FIELDS);
}

/* A name may point into the question only at one of its labels: the
 * question's case is rewritten on the way out (the client's own case), so
 * its label data must never be read as a name's structure. */
static void
test_response_pointer_into_question(void **state)
{
	static const uint8_t hdr_q[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
		0, 1, 0, 1,
	};
	static const uint8_t rr_rest[] = { 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	uint8_t pkt[128];
	struct dns_response r;
	/* 12 "www", 16 "example", 24 "test", 29 the root: label starts */
	static const struct { uint8_t target; int want; } cases[] = {
		{ 12, 0 }, { 16, 0 }, { 24, 0 }, { 29, 0 }, { 17, -EBADMSG }, { 20, -EBADMSG }, { 27, -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;

		memcpy(pkt, hdr_q, sizeof(hdr_q));
		n = sizeof(hdr_q);
		pkt[n++] = 0xc0;
		pkt[n++] = cases[i].target;
		memcpy(pkt + n, rr_rest, sizeof(rr_rest));
		n += sizeof(rr_rest);
		assert_int_equal(dns_parse_response(pkt, n, &r), cases[i].want);
	}
}

/* Meta-types and QTYPEs other than ANY are never forwarded (RFC 6895 3.1):
 * FORMERR for 0 and OPT, NOTIMP for the rest; every data type, known or
 * not, and ANY go upstream. */
static void
test_qtype_local_rcode(void **state)
{
	const char *text = "x";
	unsigned t;

	(void)state;
	assert_int_equal(dns_qtype_local_rcode(0, &text), DNS_RCODE_FORMERR);
	assert_non_null(text);
	assert_int_equal(dns_qtype_local_rcode(DNS_TYPE_OPT, &text), DNS_RCODE_FORMERR);
	assert_non_null(text);
	for (t = 128; t <= 254; t++) {
		text = NULL;
		assert_int_equal(dns_qtype_local_rcode((uint16_t)t, &text), DNS_RCODE_NOTIMP);
		assert_non_null(text);
	}
	for (t = 1; t <= 65535; t++) {
		if (t == DNS_TYPE_OPT || (t >= 128 && t <= 254))
			continue;
		assert_int_equal(dns_qtype_local_rcode((uint16_t)t, &text), 0);
		assert_null(text);
	}
	assert_int_equal(dns_qtype_local_rcode(DNS_TYPE_ANY, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_plain),
		cmocka_unit_test(test_query_edns_options),
		cmocka_unit_test(test_query_rejects),
		cmocka_unit_test(test_query_broken_edns),
		cmocka_unit_test(test_query_truncated_everywhere),
		cmocka_unit_test(test_upstream_query_rebuilt),
		cmocka_unit_test(test_upstream_query_padding_sizes),
		cmocka_unit_test(test_response_positive),
		cmocka_unit_test(test_response_truncated_everywhere),
		cmocka_unit_test(test_response_negative_ttl),
		cmocka_unit_test(test_response_rejects),
		cmocka_unit_test(test_response_opt_not_last),
		cmocka_unit_test(test_response_name_on_ttl),
		cmocka_unit_test(test_response_pointer_into_question),
		cmocka_unit_test(test_strip_in_place),
		cmocka_unit_test(test_ttl_overflow),
		cmocka_unit_test(test_qtype_local_rcode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
