/*
 * test_cache.c -- the answer cache: hits and misses, key distinctness,
 * TTL decrement, expiry, negative and SERVFAIL lifetimes, LRU eviction
 * under the byte bound, flush, stats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dotstub/cache.h"
#include "dotstub/wire.h"
#include "testpkt.h"

struct ans {
	uint8_t body[2048];
	struct dns_response r;
};

/* An upstream answer to name/type: rcode, n A records with ttl (or an SOA
 * with soa_ttl/minimum in authority when n == 0), flags extra. */
static void
make_answer(struct ans *a, const char *name, uint16_t type, uint16_t cls, uint16_t flags,
	    int n, uint32_t ttl, uint32_t soa_ttl, uint32_t minimum)
{
	uint8_t pkt[2048];
	struct dns_writer w;
	int len;

	dns_writer_init(&w, pkt, sizeof(pkt));
	tp_header(&w, 0x1111, (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | flags), 1, (uint16_t)n,
		  n == 0 && soa_ttl ? 1 : 0, 1);
	tp_question(&w, name, type, cls);
	for (int i = 0; i < n; i++)
		tp_a(&w, TP_PTR_Q, 2, ttl, (uint8_t)i);
	if (n == 0 && soa_ttl)
		tp_soa(&w, TP_PTR_Q, 2, soa_ttl, minimum);
	tp_opt(&w, 1232, 0, 0, 0, (const uint8_t[]){ 0, 15, 0, 2, 0, 3 }, 6);
	assert_int_equal(w.err, 0);
	assert_int_equal(dns_parse_response(pkt, w.len, &a->r), 0);
	len = dns_response_strip_opt(pkt, &a->r, a->body, sizeof(a->body));
	assert_true(len > 0);
}

static void
make_query(struct dns_query *q, const char *name, uint16_t type, bool edns, bool do_bit,
	   bool cd)
{
	uint8_t pkt[512];
	size_t len = tp_query(pkt, sizeof(pkt), 0x2222, DNS_FLAG_RD | (cd ? DNS_FLAG_CD : 0),
			      name, type, edns, 1232, do_bit ? EDNS_FLAG_DO : 0, NULL, 0);

	assert_int_equal(dns_parse_query(pkt, len, q), DNS_PARSE_OK);
}

static void
test_hit_and_ttl(void **state)
{
	struct ds_cache *c = ds_cache_new(1 << 20);
	struct ans a;
	struct dns_query q, q2;
	struct dns_response out_r;
	struct ds_cache_stats st;
	uint8_t out[4096];
	int n;

	(void)state;
	assert_non_null(c);
	make_answer(&a, "www.example.com", DNS_TYPE_A, DNS_CLASS_IN, 0, 2, 300, 0, 0);
	make_query(&q, "www.example.com", DNS_TYPE_A, false, false, false);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 1000, out, sizeof(out)), 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 1000), 0);

	/* another client, other case, 60 s later */
	make_query(&q2, "WWW.EXAMPLE.com", DNS_TYPE_A, false, false, false);
	q2.id = 0x3333;
	n = ds_cache_answer(c, &q2, NULL, 512, 1060, out, sizeof(out));
	assert_int_equal(n, (int)a.r.body_len);
	assert_int_equal(tp_get16(out), 0x3333);
	assert_memory_equal(out + 12, "\3WWW\7EXAMPLE\3com", 17);
	assert_int_equal(dns_parse_response(out, (size_t)n, &out_r), 0);
	assert_int_equal(tp_get32(out + out_r.ttl_off[0]), 240);
	assert_int_equal(tp_get32(out + out_r.ttl_off[1]), 240);
	assert_false(out_r.has_edns);

	/* the same entry for a client with EDNS gets an OPT, and the upstream's
	 * EDE code is passed on */
	make_query(&q2, "www.example.com", DNS_TYPE_A, true, false, false);
	n = ds_cache_answer(c, &q2, NULL, 1232, 1299, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_parse_response(out, (size_t)n, &out_r), 0);
	assert_true(out_r.has_edns);
	assert_true(out_r.has_ede);
	assert_int_equal(out_r.ede_code, 3);
	assert_int_equal(tp_get32(out + out_r.ttl_off[0]), 1);
	/* the caller's EDE wins */
	{
		struct dns_answer_opts o = { .age = 999, .ede_code = DNS_EDE_NOT_READY };

		n = ds_cache_answer(c, &q2, &o, 1232, 1299, out, sizeof(out));
		assert_int_equal(dns_parse_response(out, (size_t)n, &out_r), 0);
		assert_int_equal(out_r.ede_code, DNS_EDE_NOT_READY);
		assert_int_equal(tp_get32(out + out_r.ttl_off[0]), 1); /* o->age ignored */
	}

	/* expired at insert time + TTL */
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 1300, out, sizeof(out)), 0);
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 0);
	ds_cache_free(c);
}

/* One link's answer is never found for a name routed to another link:
 * the same question in two partitions, two entries; flushing one
 * partition leaves the other. */
static void
test_partitions(void **state)
{
	struct ds_cache *c = ds_cache_new(1 << 20);
	struct ans vpn, wifi;
	struct dns_query q;
	struct dns_response r;
	struct ds_cache_stats st;
	uint8_t out[4096];
	int n;

	(void)state;
	make_answer(&vpn, "intranet.corp.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
	make_answer(&wifi, "intranet.corp.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 2, 300, 0, 0);
	make_query(&q, "intranet.corp.example", DNS_TYPE_A, false, false, false);
	assert_int_equal(ds_cache_insert_in(c, 7, &q, vpn.body, &vpn.r, 1000), 0);
	/* not in partition 0 (the default lane), nor in another link's */
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 1001, out, sizeof(out)), 0);
	assert_int_equal(ds_cache_answer_in(c, 8, &q, NULL, 512, 1001, out, sizeof(out)), 0);
	assert_int_equal(ds_cache_insert(c, &q, wifi.body, &wifi.r, 1000), 0);
	n = ds_cache_answer_in(c, 7, &q, NULL, 512, 1001, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &r), 0);
	assert_int_equal(tp_get16(out + 6), 1); /* the VPN's one record */
	n = ds_cache_answer(c, &q, NULL, 512, 1001, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &r), 0);
	assert_int_equal(tp_get16(out + 6), 2); /* the wifi's two */
	ds_cache_flush_part(c, 7);
	assert_int_equal(ds_cache_answer_in(c, 7, &q, NULL, 512, 1001, out, sizeof(out)), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 512, 1001, out, sizeof(out)) > 0);
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);
	ds_cache_free(c);
}

static void
test_key_distinct(void **state)
{
	struct ds_cache *c = ds_cache_new(1 << 20);
	struct ans a, b;
	struct dns_query q;
	struct dns_response r;
	uint8_t out[4096];
	int n;

	(void)state;
	make_answer(&a, "k.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
	make_query(&q, "k.example", DNS_TYPE_A, true, false, false);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)) > 0);

	/* DO, CD, type, class, name each make another key */
	make_query(&q, "k.example", DNS_TYPE_A, true, true, false);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)), 0);
	make_query(&q, "k.example", DNS_TYPE_A, true, false, true);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)), 0);
	make_query(&q, "k.example", DNS_TYPE_AAAA, true, false, false);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)), 0);
	make_query(&q, "k.example", DNS_TYPE_A, true, false, false);
	q.qclass = 3; /* CH */
	assert_int_equal(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)), 0);
	make_query(&q, "k.example.", DNS_TYPE_A, true, false, false);
	q.qname[1] = 'j';
	assert_int_equal(ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out)), 0);

	/* a DO=1 answer stored next to the DO=0 one: each gets its own */
	make_answer(&b, "k.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_FLAG_AD, 1, 600, 0, 0);
	b.r.authenticated = true;
	make_query(&q, "k.example", DNS_TYPE_A, true, true, false);
	assert_int_equal(ds_cache_insert(c, &q, b.body, &b.r, 0), 0);
	n = ds_cache_answer(c, &q, NULL, 1232, 0, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &r), 0);
	assert_int_equal(tp_get32(out + r.ttl_off[0]), 600);
	assert_true(r.flags & DNS_FLAG_AD);
	make_query(&q, "k.example", DNS_TYPE_A, true, false, false);
	n = ds_cache_answer(c, &q, NULL, 1232, 0, out, sizeof(out));
	assert_int_equal(dns_parse_response(out, (size_t)n, &r), 0);
	assert_int_equal(tp_get32(out + r.ttl_off[0]), 300);

	/* replacing an entry keeps one */
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 10), 0);
	{
		struct ds_cache_stats st;

		ds_cache_get_stats(c, &st);
		assert_int_equal(st.entries, 2);
	}
	/* an answer that is not for this question */
	make_query(&q, "other.example", DNS_TYPE_A, true, false, false);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), -EINVAL);
	ds_cache_free(c);
}

/* The cache remembers whether an answer came over an authenticated
 * channel: one from plain DNS never shows AD, on a hit either, whatever its
 * header says; one from DoT shows it to clients that ask (AD or DO) and to
 * no other.  AA is never shown, RA always. */
static void
test_authenticated(void **state)
{
	struct ds_cache *c = ds_cache_new(1 << 20);
	struct ans a;
	struct dns_query q;
	uint8_t out[4096];
	int n;

	(void)state;
	for (int auth = 0; auth < 2; auth++) {
		/* the upstream says AA and AD, not RA */
		make_answer(&a, "sec.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_FLAG_AA | DNS_FLAG_AD,
			    1, 300, 0, 0);
		a.body[3] &= (uint8_t)~DNS_FLAG_RA;
		a.r.authenticated = auth;
		make_query(&q, "sec.example", DNS_TYPE_A, true, false, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
		/* a client that sets AD */
		q.flags |= DNS_FLAG_AD;
		n = ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal(tp_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_RD |
							    (auth ? DNS_FLAG_AD : 0));
		/* one that sets neither AD nor DO: the same entry, no AD */
		q.flags &= (uint16_t)~DNS_FLAG_AD;
		n = ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal(tp_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_RD);
		/* one that sets DO (its own entry) */
		make_query(&q, "sec.example", DNS_TYPE_A, true, true, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
		n = ds_cache_answer(c, &q, NULL, 1232, 1, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal(tp_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RA | DNS_FLAG_RD |
							    (auth ? DNS_FLAG_AD : 0));
	}
	/* replaced by an unauthenticated answer: no AD any more */
	make_answer(&a, "sec.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_FLAG_AD, 1, 300, 0, 0);
	make_query(&q, "sec.example", DNS_TYPE_A, true, true, false);
	assert_false(a.r.authenticated); /* what dns_parse_response says */
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 2), 0);
	n = ds_cache_answer(c, &q, NULL, 1232, 3, out, sizeof(out));
	assert_true(n > 0);
	assert_false(tp_get16(out + 2) & DNS_FLAG_AD);
	ds_cache_free(c);
}

static void
test_lifetimes(void **state)
{
	struct ds_cache *c = ds_cache_new(1 << 20);
	struct ans a;
	struct dns_query q;
	struct dns_response r;
	uint8_t out[4096];
	int n;

	(void)state;
	make_query(&q, "neg.example", DNS_TYPE_A, false, false, false);

	/* NXDOMAIN: min(SOA TTL, MINIMUM) = 30 */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_NXDOMAIN, 0, 0, 3600,
		    30);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 100), 0);
	n = ds_cache_answer(c, &q, NULL, 512, 129, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_parse_response(out, (size_t)n, &r), 0);
	assert_int_equal(DNS_RCODE(r.flags), DNS_RCODE_NXDOMAIN);
	assert_int_equal(tp_get32(out + r.ttl_off[0]), 3600 - 29);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 130, out, sizeof(out)), 0);

	/* negative lifetime capped at DS_CACHE_NEG_MAX_TTL */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_NXDOMAIN, 0, 0, 86400,
		    86400);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 512, DS_CACHE_NEG_MAX_TTL - 1, out,
				    sizeof(out)) > 0);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, DS_CACHE_NEG_MAX_TTL, out,
					 sizeof(out)), 0);

	/* NODATA */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 0, 0, 10, 600);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 512, 9, out, sizeof(out)) > 0);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 10, out, sizeof(out)), 0);

	/* negative without SOA: not cached */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_NXDOMAIN, 0, 0, 0, 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);

	/* positive lifetime capped at DS_CACHE_MAX_TTL */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 0x7fffffff, 0, 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 512, DS_CACHE_MAX_TTL - 1, out, sizeof(out)) > 0);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, DS_CACHE_MAX_TTL, out, sizeof(out)), 0);

	/* TTL 0: not cached */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 0, 0, 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);

	/* SERVFAIL: DS_CACHE_SERVFAIL_TTL seconds, whatever the records say */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_SERVFAIL, 0, 0, 3600,
		    3600);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 50), 0);
	n = ds_cache_answer(c, &q, NULL, 512, 50 + DS_CACHE_SERVFAIL_TTL - 1, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(DNS_RCODE(tp_get16(out + 2)), DNS_RCODE_SERVFAIL);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 50 + DS_CACHE_SERVFAIL_TTL, out,
					 sizeof(out)), 0);

	/* REFUSED, FORMERR, TC=1, too many RRs: not cached */
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_REFUSED, 0, 0, 60, 60);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_RCODE_FORMERR, 0, 0, 60, 60);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, DNS_FLAG_TC, 1, 60, 0, 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);
	make_answer(&a, "neg.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 60, 0, 0);
	a.r.ttl_overflow = true;
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 1);
	ds_cache_free(c);
}

static void
name_of(char *buf, size_t len, int i)
{
	snprintf(buf, len, "h%04d.example", i);
}

static void
test_lru_eviction(void **state)
{
	struct ans a;
	struct dns_query q;
	struct ds_cache_stats st;
	struct ds_cache *c;
	uint8_t out[4096];
	char name[64];
	size_t per, max;
	int i, cap;

	(void)state;
	/* learn the size of one entry */
	c = ds_cache_new(1 << 20);
	ds_cache_get_stats(c, &st);
	size_t index = st.bytes;
	name_of(name, sizeof(name), 0);
	make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
	make_query(&q, name, DNS_TYPE_A, false, false, false);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	ds_cache_get_stats(c, &st);
	per = st.bytes - index;
	ds_cache_free(c);

	/* room for exactly 10 entries (plus the initial index) */
	max = index + 10 * per;
	c = ds_cache_new(max);
	for (i = 0; i < 10; i++) {
		name_of(name, sizeof(name), i);
		make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	}
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.evictions, 0);
	assert_true(st.bytes <= st.max_bytes);

	/* touch 0 and 1: 2 is now the least recently used */
	for (i = 0; i < 2; i++) {
		name_of(name, sizeof(name), i);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		assert_true(ds_cache_answer(c, &q, NULL, 512, 1, out, sizeof(out)) > 0);
	}
	for (i = 10; i < 13; i++) {
		name_of(name, sizeof(name), i);
		make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 2), 0);
	}
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.evictions, 3);
	assert_true(st.bytes <= st.max_bytes);
	/* 2, 3, 4 went; 0, 1, 5.. 12 stayed */
	for (i = 0; i < 13; i++) {
		name_of(name, sizeof(name), i);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		cap = ds_cache_answer(c, &q, NULL, 512, 3, out, sizeof(out));
		if (i >= 2 && i <= 4)
			assert_int_equal(cap, 0);
		else
			assert_true(cap > 0);
	}

	/* an entry above an eighth of the bound is refused */
	{
		struct ans big;
		struct dns_query bq;

		make_answer(&big, "big.example", DNS_TYPE_A, DNS_CLASS_IN, 0, 40, 300, 0, 0);
		make_query(&bq, "big.example", DNS_TYPE_A, false, false, false);
		assert_int_equal(ds_cache_insert(c, &bq, big.body, &big.r, 0), 1);
	}

	/* flush */
	ds_cache_flush(c);
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, index);
	name_of(name, sizeof(name), 0);
	make_query(&q, name, DNS_TYPE_A, false, false, false);
	assert_int_equal(ds_cache_answer(c, &q, NULL, 512, 3, out, sizeof(out)), 0);
	/* still usable afterwards */
	make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
	assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 4), 0);
	assert_true(ds_cache_answer(c, &q, NULL, 512, 5, out, sizeof(out)) > 0);
	ds_cache_free(c);
}

/* Many entries: the table grows, the bound holds, everything is found. */
static void
test_many(void **state)
{
	struct ds_cache *c = ds_cache_new(4 << 20);
	struct ans a;
	struct dns_query q;
	struct ds_cache_stats st;
	uint8_t out[4096];
	char name[64];
	int i, found = 0;

	(void)state;
	for (i = 0; i < 5000; i++) {
		name_of(name, sizeof(name), i);
		make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1, 300, 0, 0);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
	}
	ds_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 5000);
	assert_true(st.bytes <= st.max_bytes);
	for (i = 0; i < 5000; i++) {
		name_of(name, sizeof(name), i);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		found += ds_cache_answer(c, &q, NULL, 512, 1, out, sizeof(out)) > 0;
	}
	assert_int_equal(found, 5000);

	/* a small bound with many inserts never goes over */
	ds_cache_free(c);
	c = ds_cache_new(64 << 10);
	for (i = 0; i < 5000; i++) {
		name_of(name, sizeof(name), i);
		make_answer(&a, name, DNS_TYPE_A, DNS_CLASS_IN, 0, 1 + i % 7, 300, 0, 0);
		make_query(&q, name, DNS_TYPE_A, false, false, false);
		assert_int_equal(ds_cache_insert(c, &q, a.body, &a.r, 0), 0);
		ds_cache_get_stats(c, &st);
		assert_true(st.bytes <= st.max_bytes);
	}
	assert_true(st.evictions > 0);
	assert_int_equal(st.evictions + st.entries, 5000);
	ds_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_ttl),
		cmocka_unit_test(test_key_distinct),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_authenticated),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
