/*
 * test_ddr_query.c -- reading the answer to "_dns.resolver.arpa SVCB"
 * (discovery/ddr/ddr_query.c): the records kept, the ones skipped, the
 * rcodes, and every way the message's framing or a record can be broken.
 * Also the exchange's query and answer matching (stub/dns/exchange.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dotstub/ddr.h"
#include "dotstub/exchange.h"

/* _dns.resolver.arpa. in wire form */
#define QNAME 4, '_', 'd', 'n', 's', 8, 'r', 'e', 's', 'o', 'l', 'v', 'e', 'r', 4, 'a', 'r', 'p', \
	      'a', 0
#define HDR(flags, an) 0x12, 0x34, (flags) >> 8, (flags)&0xff, 0, 1, 0, (an), 0, 0, 0, 0
#define QUESTION QNAME, 0, 64, 0, 1
#define OK_FLAGS 0x8180
/* an SVCB RR at the question's name: priority 1, target "dot.", then params */
#define RR_HEAD(rdlen) 0xc0, 12, 0, 64, 0, 1, 0, 0, 1, 44, 0, (rdlen)
#define TARGET_DOT 3, 'd', 'o', 't', 0
#define ALPN_DOT 0, 1, 0, 4, 3, 'd', 'o', 't'
#define ALPN_H2 0, 1, 0, 3, 2, 'h', '2'

static struct ddr_query *
parse(const uint8_t *msg, size_t len, int want)
{
	static struct ddr_query q;

	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(ddr_query_answer(msg, len, &q), want);
	return &q;
}

static void
test_one_dot(void **state)
{
	static const uint8_t m[] = { HDR(OK_FLAGS, 1), QUESTION, RR_HEAD(2 + 5 + 8), 0, 1,
				     TARGET_DOT, ALPN_DOT };
	struct ddr_query *q = parse(m, sizeof(m), 0);

	(void)state;
	assert_int_equal(q->result, DDR_QUERY_OK);
	assert_string_equal(q->reason, "");
	assert_int_equal(q->n, 1);
	assert_int_equal(q->total, 1);
	assert_int_equal(q->rec[0].priority, 1);
	assert_true(ddr_svcb_qualifies_dot(&q->rec[0]));
	assert_int_equal(q->rec[0].params.port, 853);
}

static void
test_h2_and_other_records(void **state)
{
	/* an A record of another owner first (skipped), then h2 only */
	static const uint8_t m[] = { HDR(OK_FLAGS, 2), QUESTION,
				     1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, 1,
				     RR_HEAD(2 + 5 + 7), 0, 1, TARGET_DOT, ALPN_H2 };
	struct ddr_query *q = parse(m, sizeof(m), 0);

	(void)state;
	assert_int_equal(q->result, DDR_QUERY_OK);
	assert_int_equal(q->n, 1);
	assert_false(ddr_svcb_qualifies_dot(&q->rec[0]));
}

static void
test_alias_does_not_qualify(void **state)
{
	static const uint8_t m[] = { HDR(OK_FLAGS, 1), QUESTION, RR_HEAD(2 + 5), 0, 0,
				     TARGET_DOT };
	struct ddr_query *q = parse(m, sizeof(m), 0);

	(void)state;
	assert_int_equal(q->result, DDR_QUERY_OK);
	assert_false(ddr_svcb_qualifies_dot(&q->rec[0]));
}

static void
test_none(void **state)
{
	static const uint8_t nodata[] = { HDR(OK_FLAGS, 0), QUESTION };
	static const uint8_t nx[] = { HDR(OK_FLAGS | 3, 0), QUESTION };
	struct ddr_query *q;

	(void)state;
	q = parse(nodata, sizeof(nodata), 0);
	assert_int_equal(q->result, DDR_QUERY_NONE);
	assert_string_equal(q->reason, "no SVCB record for _dns.resolver.arpa. (NODATA)");
	q = parse(nx, sizeof(nx), 0);
	assert_int_equal(q->result, DDR_QUERY_NONE);
	assert_string_equal(q->reason, "no SVCB record for _dns.resolver.arpa. (NXDOMAIN)");
	assert_int_equal(q->n, 0);
}

static void
test_malformed_record_keeps_earlier(void **state)
{
	static const uint8_t m[] = { HDR(OK_FLAGS, 2), QUESTION,
				     RR_HEAD(2 + 5 + 8), 0, 1, TARGET_DOT, ALPN_DOT,
				     RR_HEAD(2 + 5 + 9), 0, 2, TARGET_DOT, 0, 4, 0, 5, 1, 2, 3, 4, 5 };
	struct ddr_query *q = parse(m, sizeof(m), -EBADMSG);

	(void)state;
	assert_int_equal(q->result, DDR_QUERY_MALFORMED);
	assert_string_equal(q->reason, "record 2: ipv4hint length 5 is not a multiple of 4");
	assert_int_equal(q->n, 1);
	assert_int_equal(q->total, 2);
}

static void
test_framing(void **state)
{
	/* RDLENGTH past the end; ANCOUNT larger than the records there; the
	 * question cut; TC=1 over TCP */
	static const uint8_t past[] = { HDR(OK_FLAGS, 1), QUESTION, RR_HEAD(40), 0, 1, TARGET_DOT };
	static const uint8_t count[] = { HDR(OK_FLAGS, 3), QUESTION, RR_HEAD(2 + 5), 0, 1,
					 TARGET_DOT };
	static const uint8_t cut[] = { HDR(OK_FLAGS, 0), 4, '_', 'd' };
	static const uint8_t tc[] = { HDR(OK_FLAGS | 0x0200, 0), QUESTION };
	struct ddr_query *q;

	(void)state;
	q = parse(past, sizeof(past), -EBADMSG);
	assert_string_equal(q->reason, "answer record 1 runs past the end of the message");
	q = parse(count, sizeof(count), -EBADMSG);
	assert_string_equal(q->reason, "answer record 2 runs past the end of the message");
	assert_int_equal(q->n, 1);
	q = parse(cut, sizeof(cut), -EBADMSG);
	assert_int_equal(q->result, DDR_QUERY_MALFORMED);
	q = parse(tc, sizeof(tc), -EBADMSG);
	assert_string_equal(q->reason, "the answer over TCP is truncated (TC=1)");
}

static void
test_many_records_bounded(void **state)
{
	enum { RR = 12 + 2 + 5 + 8, N = DDR_QUERY_MAX_RECORDS + 3 };
	static const uint8_t head[] = { HDR(OK_FLAGS, N), QUESTION };
	static const uint8_t rr[] = { RR_HEAD(2 + 5 + 8), 0, 1, TARGET_DOT, ALPN_DOT };
	uint8_t m[sizeof(head) + N * RR];
	struct ddr_query *q;
	int i;

	(void)state;
	memcpy(m, head, sizeof(head));
	for (i = 0; i < N; i++)
		memcpy(m + sizeof(head) + (size_t)i * RR, rr, RR);
	q = parse(m, sizeof(m), 0);
	assert_int_equal(q->n, DDR_QUERY_MAX_RECORDS);
	assert_int_equal(q->total, N);
}

static void
test_exchange_matching(void **state)
{
	static const uint8_t qname[] = { QNAME };
	uint8_t buf[512];
	size_t len;

	(void)state;
	len = dns_exchange_query(buf, sizeof(buf), 0x1234, qname, sizeof(qname), 64);
	assert_int_equal(len, 12 + sizeof(qname) + 4);
	assert_false(dns_exchange_matches(buf, len, 0x1234, qname, sizeof(qname), 64)); /* no QR */
	buf[2] |= 0x80;
	assert_true(dns_exchange_matches(buf, len, 0x1234, qname, sizeof(qname), 64));
	assert_false(dns_exchange_matches(buf, len, 0x1235, qname, sizeof(qname), 64));
	assert_false(dns_exchange_matches(buf, len, 0x1234, qname, sizeof(qname), 65));
	assert_false(dns_exchange_matches(buf, len - 1, 0x1234, qname, sizeof(qname), 64));
	buf[14] = 'D'; /* "_Dns": case does not matter */
	assert_true(dns_exchange_matches(buf, len, 0x1234, qname, sizeof(qname), 64));
	assert_int_equal(dns_exchange_query(buf, 20, 1, qname, sizeof(qname), 64), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_dot),
		cmocka_unit_test(test_h2_and_other_records),
		cmocka_unit_test(test_alias_does_not_qualify),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_malformed_record_keeps_earlier),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_many_records_bounded),
		cmocka_unit_test(test_exchange_matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
