/*
 * test_r1_answer.c -- the DNS side of the resolve1 Resolve* methods
 * (stub/bus/r1_answer.c): the query, reverse names, the records kept along
 * a CNAME chain, names in RDATA uncompressed, loops, and answers that are
 * malformed or answer another question.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../stub/bus/r1_answer.h"

/* www.example. */
#define WWW 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0
#define HDR(an) 0x00, 0x07, 0x81, 0xa0, 0, 1, 0, (an), 0, 0, 0, 0
#define Q(type) WWW, 0, (type), 0, 1
#define PTR_Q 0xc0, 12

static uint8_t query[300];
static size_t qlen;

static void make_query(uint16_t type)
{
	static const uint8_t name[] = { WWW };
	int n = r1_answer_query(name, sizeof(name), type, 1, 7, query, sizeof(query));

	assert_true(n > 0);
	qlen = (size_t)n;
}

struct seen {
	int n;
	uint8_t rr[4][512];
	size_t len[4], rdata[4];
	uint16_t type[4];
};

static int on_rr(void *arg, const uint8_t *rr, size_t len, size_t rdata_off, uint16_t type,
		 uint16_t rclass)
{
	struct seen *s = arg;

	assert_true(s->n < 4 && len <= sizeof(s->rr[0]));
	memcpy(s->rr[s->n], rr, len);
	s->len[s->n] = len;
	s->rdata[s->n] = rdata_off;
	s->type[s->n] = type;
	s->n++;
	return 0;
}

static int walk(const uint8_t *m, size_t len, bool no_cname, struct seen *s,
		struct r1_answer_info *info)
{
	static uint8_t buf[R1_ANSWER_RR_MAX];

	memset(s, 0, sizeof(*s));
	return r1_answer_walk(m, len, query, qlen, no_cname, on_rr, s, buf, sizeof(buf), info);
}

static void test_query(void **state)
{
	(void)state;
	make_query(1);
	/* header, RD and AD, one question, an OPT */
	assert_int_equal(query[2], 0x01);
	assert_int_equal(query[3], 0x20);
	assert_int_equal(query[11], 1);
	assert_int_equal(qlen, 12 + 13 + 4 + 11);
}

static void test_reverse(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 10 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t out[DNS_NAME_MAX];
	char text[300];
	int n;

	(void)state;
	n = r1_answer_reverse_name(AF_INET, v4, 4, out);
	assert_true(n > 0);
	assert_int_equal(dns_name_to_str(out, (size_t)n, text, sizeof(text)), 0);
	assert_string_equal(text, "10.2.0.192.in-addr.arpa.");
	n = r1_answer_reverse_name(AF_INET6, v6, 16, out);
	assert_true(n > 0);
	assert_int_equal(dns_name_to_str(out, (size_t)n, text, sizeof(text)), 0);
	assert_string_equal(text,
			    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
	assert_int_equal(r1_answer_reverse_name(AF_INET, v4, 3, out), -EINVAL);
	assert_int_equal(r1_answer_reverse_name(AF_INET6, v6, 4, out), -EINVAL);
	assert_int_equal(r1_answer_reverse_name(7, v4, 4, out), -EINVAL);
}

/* www CNAME web.example. (compressed), web A 192.0.2.1, an unrelated A */
static void test_cname_chain(void **state)
{
	static const uint8_t m[] = {
		HDR(3), Q(1),
		PTR_Q, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16,
		/* other.example A 198.51.100.1: not on the chain */
		5, 'o', 't', 'h', 'e', 'r', 0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 1,
		/* web.example A 192.0.2.1, owner through a pointer to the CNAME's RDATA */
		0xc0, 41, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,
	};
	struct r1_answer_info info;
	struct seen s;
	char text[300];

	(void)state;
	make_query(1);
	assert_int_equal(walk(m, sizeof(m), false, &s, &info), 0);
	assert_int_equal(info.rcode, 0);
	assert_true(info.ad);
	assert_int_equal(info.matches, 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[s.n - 1] - s.rdata[0], 4);
	assert_memory_equal(s.rr[0] + s.rdata[0], ((const uint8_t[]){ 192, 0, 2, 1 }), 4);
	assert_int_equal(dns_name_to_str(info.canonical, info.canonical_len, text, sizeof(text)), 0);
	assert_string_equal(text, "web.example.");
	/* without following: nothing of type A at www itself */
	assert_int_equal(walk(m, sizeof(m), true, &s, &info), 0);
	assert_int_equal(info.matches, 0);
}

/* MX with a compressed exchange name: uncompressed in what is handed out */
static void test_rdata_names_expanded(void **state)
{
	static const uint8_t m[] = {
		HDR(1), Q(15),
		PTR_Q, 0, 15, 0, 1, 0, 0, 1, 0, 0, 9, 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 16,
	};
	static const uint8_t want[] = {
		WWW, 0, 15, 0, 1, 0, 0, 1, 0, 0, 16, 0, 10,
		4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
	};
	struct r1_answer_info info;
	struct seen s;

	(void)state;
	make_query(15);
	assert_int_equal(walk(m, sizeof(m), false, &s, &info), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], sizeof(want));
	assert_memory_equal(s.rr[0], want, sizeof(want));
}

/* a PTR's name */
static void test_rdata_name(void **state)
{
	static const uint8_t m[] = {
		HDR(1), Q(12),
		PTR_Q, 0, 12, 0, 1, 0, 0, 1, 0, 0, 2, 0xc0, 12,
	};
	struct r1_answer_info info;
	uint8_t name[DNS_NAME_MAX];
	struct seen s;
	int n;

	(void)state;
	make_query(12);
	assert_int_equal(walk(m, sizeof(m), false, &s, &info), 0);
	assert_int_equal(s.n, 1);
	n = r1_answer_rdata_name(s.rr[0], s.len[0], s.rdata[0], name);
	assert_int_equal(n, 13);
	assert_memory_equal(name, ((const uint8_t[]){ WWW }), 13);
}

/* www CNAME www: a loop is reported, not followed for ever */
static void test_cname_loop(void **state)
{
	static const uint8_t m[] = {
		HDR(1), Q(1),
		PTR_Q, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
	};
	struct r1_answer_info info;
	struct seen s;

	(void)state;
	make_query(1);
	assert_int_equal(walk(m, sizeof(m), false, &s, &info), 0);
	assert_true(info.cname_loop);
	assert_int_equal(info.matches, 0);
}

static void test_rcode_and_other_question(void **state)
{
	static const uint8_t nx[] = { 0x00, 0x07, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, Q(1) };
	static const uint8_t other[] = { HDR(0), Q(28) };
	static const uint8_t not_answer[] = { 0x00, 0x07, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, Q(1) };
	struct r1_answer_info info;
	struct seen s;

	(void)state;
	make_query(1);
	assert_int_equal(walk(nx, sizeof(nx), false, &s, &info), 0);
	assert_int_equal(info.rcode, 3);
	assert_int_equal(walk(other, sizeof(other), false, &s, &info), -EBADMSG);
	assert_int_equal(walk(not_answer, sizeof(not_answer), false, &s, &info), -EBADMSG);
	assert_string_equal(r1_answer_rcode_name(3), "NXDOMAIN");
	assert_string_equal(r1_answer_rcode_name(2), "SERVFAIL");
	assert_null(r1_answer_rcode_name(12));
}

/* every truncation of a good answer is refused, never read past */
static void test_truncated(void **state)
{
	static const uint8_t m[] = {
		HDR(1), Q(15),
		PTR_Q, 0, 15, 0, 1, 0, 0, 1, 0, 0, 9, 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 16,
	};
	struct r1_answer_info info;
	struct seen s;

	(void)state;
	make_query(15);
	for (size_t len = 0; len < sizeof(m); len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, m, len);
		assert_int_equal(walk(copy, len, false, &s, &info), -EBADMSG);
		free(copy);
	}
}

/* an RDLENGTH that claims more than the MX holds, or a name running past it */
static void test_bad_rdata(void **state)
{
	static const uint8_t short_mx[] = {
		HDR(1), Q(15),
		PTR_Q, 0, 15, 0, 1, 0, 0, 1, 0, 0, 1, 0,
	};
	static const uint8_t name_past[] = {
		HDR(1), Q(15),
		PTR_Q, 0, 15, 0, 1, 0, 0, 1, 0, 0, 4, 0, 10, 4, 'm', 'a', 'i', 'l', 0,
	};
	struct r1_answer_info info;
	struct seen s;

	(void)state;
	make_query(15);
	assert_int_equal(walk(short_mx, sizeof(short_mx), false, &s, &info), -EBADMSG);
	assert_int_equal(walk(name_past, sizeof(name_past), false, &s, &info), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_rdata_names_expanded),
		cmocka_unit_test(test_rdata_name),
		cmocka_unit_test(test_cname_loop),
		cmocka_unit_test(test_rcode_and_other_question),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_rdata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
