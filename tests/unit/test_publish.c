/*
 * test_publish.c -- the daemon's publication (stub/publish/publish.c) over
 * time and across upstream changes: every answer's RRSIGs verify (ldns)
 * under the publication's own keys; signatures are made again at half of
 * their validity, and not before; a new upstream (the WAN's resolver
 * changed) replaces the old one's records and is signed at once; a bad
 * upstream leaves the last good publication in place; an answer that does
 * not fit is truncated.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <ldns/ldns.h>

#include "dotstub/message.h"
#include "dotstub/publish.h"

#define RT "rt-0123abcd.example"
#define UP1 "isp-one.example"
#define UP2 "isp-two.example"
#define TLSA "3 1 1 " \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const rt_addr[] = { "10.77.0.1", "fd00:77::1" };

static struct ds_publisher *make_publisher(void)
{
	static const char *const owner[DS_PUB_NKEYS] = {
		DS_PUB_ARPA, DS_PUB_ARPA, RT, RT,
	};
	struct ds_pub_keys keys = { { NULL } };
	struct ds_publisher *p;
	char why[256] = "";

	for (int i = 0; i < DS_PUB_NKEYS; i++)
		assert_int_equal(ds_pub_key_generate(&keys.key[i], 13, (enum ds_pub_key_role)i,
						     owner[i]), 0);
	p = ds_publisher_new(&keys, RT, rt_addr, 2, TLSA, why, sizeof(why));
	if (p == NULL)
		fail_msg("ds_publisher_new: %s", why);
	ds_pub_keys_free(&keys);
	return p;
}

static void make_upstream(struct ds_pub_upstream *u, const char *name, const char *addr,
			  const char *transport)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	/* an ECDSA P-256 public key (64 octets) */
	snprintf(u->key, sizeof(u->key), "257 3 13 %s",
		 "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxIL"
		 "fDLUT0rAK9iUzy1L53eKGQ==");
	snprintf(u->addr[0], sizeof(u->addr[0]), "%s", addr);
	u->naddr = 1;
	snprintf(u->tlsa[0], sizeof(u->tlsa[0]), "%s", TLSA);
	u->ntlsa = 1;
	u->type = "resolver";
	u->transport = transport;
}

/* Ask p for name/type with DO; the answer as an ldns packet (the
 * caller's), or NULL if the publisher did not answer. */
static ldns_pkt *ask(const struct ds_publisher *p, const char *name, ldns_rr_type type,
		     size_t max)
{
	ldns_pkt *qp = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN,
					  LDNS_RD);
	uint8_t *wire = NULL, out[DNS_MSG_MAX];
	size_t wlen = 0;
	struct dns_query q;
	ldns_pkt *ap = NULL;
	int n;

	assert_non_null(qp);
	ldns_pkt_set_edns_udp_size(qp, 4096);
	ldns_pkt_set_edns_do(qp, true);
	assert_int_equal(ldns_pkt2wire(&wire, qp, &wlen), LDNS_STATUS_OK);
	assert_int_equal(dns_parse_query(wire, wlen, &q), DNS_PARSE_OK);
	free(wire);
	ldns_pkt_free(qp);
	assert_true(ds_publisher_covers(p, q.qname, q.qname_len));
	n = ds_publisher_answer(p, &q, max, out, sizeof(out));
	assert_true(n > 0);
	assert_true((size_t)n <= max);
	assert_int_equal(ldns_wire2pkt(&ap, out, (size_t)n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_aa(ap));
	return ap;
}

/* The zone's DNSKEY RRset, as its apex answers it. */
static ldns_rr_list *zone_keys(const struct ds_publisher *p, const char *apex)
{
	ldns_pkt *ap = ask(p, apex, LDNS_RR_TYPE_DNSKEY, DNS_MSG_MAX);
	ldns_rr_list *k = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_DNSKEY, LDNS_SECTION_ANSWER);

	assert_non_null(k);
	assert_int_equal(ldns_rr_list_rr_count(k), 2);
	ldns_pkt_free(ap);
	return k;
}

/* Every RRset of sec in ap has an RRSIG that verifies under keys at t;
 * returns the expiration of the last RRSIG seen, 0 if there was none. */
static uint32_t verify_section(ldns_pkt *ap, ldns_pkt_section sec, ldns_rr_list *keys, time_t t)
{
	ldns_rr_list *all = ldns_pkt_get_section_clone(ap, sec);
	ldns_rr_list *sigs = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_RRSIG, sec);
	uint32_t exp = 0;

	assert_non_null(all);
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *rr = ldns_rr_list_rr(all, i);
		ldns_rr_list *set, *sig, *good;
		ldns_status st;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
			continue;
		set = ldns_pkt_rr_list_by_name_and_type(ap, ldns_rr_owner(rr),
							ldns_rr_get_type(rr), sec);
		assert_non_null(sigs);
		sig = ldns_rr_list_new();
		for (size_t j = 0; j < ldns_rr_list_rr_count(sigs); j++) {
			ldns_rr *s = ldns_rr_list_rr(sigs, j);
			if (ldns_dname_compare(ldns_rr_owner(s), ldns_rr_owner(rr)) == 0 &&
			    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(s)) == ldns_rr_get_type(rr))
				ldns_rr_list_push_rr(sig, s);
		}
		assert_int_equal(ldns_rr_list_rr_count(sig), 1);
		good = ldns_rr_list_new();
		st = ldns_verify_time(set, sig, keys, t, good);
		if (st != LDNS_STATUS_OK)
			fail_msg("%s: %s", ldns_rr_type2str(ldns_rr_get_type(rr)),
				 ldns_get_errorstr_by_id(st));
		exp = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(ldns_rr_list_rr(sig, 0)));
		ldns_rr_list_free(good);
		ldns_rr_list_free(sig);
		ldns_rr_list_deep_free(set);
	}
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(all);
	return exp;
}

/* The PTR targets of upstreams.RT, as one string ("" if NXDOMAIN). */
static void upstreams_of(const struct ds_publisher *p, ldns_rr_list *keys, time_t t, char *out,
			 size_t outlen)
{
	ldns_pkt *ap = ask(p, "upstreams." RT, LDNS_RR_TYPE_PTR, DNS_MSG_MAX);
	ldns_rr_list *ptr = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_PTR, LDNS_SECTION_ANSWER);

	out[0] = '\0';
	if (ptr == NULL) {
		/* denied with the SOA and NSEC, signed */
		assert_int_equal(ldns_pkt_get_rcode(ap), LDNS_RCODE_NXDOMAIN);
		assert_true(verify_section(ap, LDNS_SECTION_AUTHORITY, keys, t) > 0);
	} else {
		char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ptr, 0), 0));
		assert_int_equal(ldns_rr_list_rr_count(ptr), 1);
		snprintf(out, outlen, "%s", s);
		free(s);
		assert_true(verify_section(ap, LDNS_SECTION_ANSWER, keys, t) > 0);
	}
	ldns_rr_list_deep_free(ptr);
	ldns_pkt_free(ap);
}

/* Both zones answer, signed under their own keys, the forwarder's data. */
static void test_signed_answers(void **state)
{
	struct ds_publisher *p = make_publisher();
	ldns_rr_list *arpa = zone_keys(p, DS_PUB_ARPA), *own = zone_keys(p, RT);
	time_t now = time(NULL);
	ldns_pkt *ap;

	(void)state;
	ap = ask(p, RT ".resolver-name.arpa", LDNS_RR_TYPE_KEY, DNS_MSG_MAX);
	assert_int_equal(ldns_pkt_ancount(ap), 2);	/* KEY and its RRSIG */
	assert_true(verify_section(ap, LDNS_SECTION_ANSWER, arpa, now) > 0);
	ldns_pkt_free(ap);
	ap = ask(p, "server-type." RT, LDNS_RR_TYPE_TXT, DNS_MSG_MAX);
	assert_true(verify_section(ap, LDNS_SECTION_ANSWER, own, now) > 0);
	ldns_pkt_free(ap);
	ap = ask(p, "_853._tcp." RT, LDNS_RR_TYPE_TLSA, DNS_MSG_MAX);
	assert_int_equal(ldns_pkt_ancount(ap), 2);
	assert_true(verify_section(ap, LDNS_SECTION_ANSWER, own, now) > 0);
	ldns_pkt_free(ap);
	/* not under the other zone's keys */
	ap = ask(p, RT, LDNS_RR_TYPE_A, DNS_MSG_MAX);
	{
		ldns_rr_list *a = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_A, LDNS_SECTION_ANSWER);
		ldns_rr_list *s = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_RRSIG,
							   LDNS_SECTION_ANSWER);
		assert_non_null(a);
		assert_non_null(s);
		assert_int_not_equal(ldns_verify_time(a, s, arpa, now, NULL), LDNS_STATUS_OK);
		ldns_rr_list_deep_free(a);
		ldns_rr_list_deep_free(s);
	}
	ldns_pkt_free(ap);
	ldns_rr_list_deep_free(arpa);
	ldns_rr_list_deep_free(own);
	ds_publisher_free(p);
}

/* Signed again at half of the validity, not a second before; the new
 * signatures outlive the old ones and verify once the old have expired. */
static void test_resign_at_half(void **state)
{
	struct ds_publisher *p = make_publisher();
	ldns_rr_list *own = zone_keys(p, RT);
	time_t exp0 = ds_publisher_expiration(p), now = time(NULL), half, t;
	char why[256] = "";
	ldns_pkt *ap;
	uint32_t e;

	(void)state;
	/* valid for DS_PUB_SIG_DAYS days from now, from an hour ago */
	assert_true(exp0 >= now + DS_PUB_SIG_DAYS * 86400 - 5);
	assert_true(exp0 <= now + DS_PUB_SIG_DAYS * 86400 + 5);
	half = (DS_PUB_SIG_DAYS * 86400 + 3600) / 2;
	t = exp0 - half;
	assert_int_equal(ds_publisher_resign(p, t - 1, false, why, sizeof(why)), 0);
	assert_int_equal(ds_publisher_expiration(p), exp0);
	assert_int_equal(ds_publisher_resign(p, t, false, why, sizeof(why)), 1);
	assert_int_equal(ds_publisher_expiration(p), t + DS_PUB_SIG_DAYS * 86400);
	/* the answers carry the new signatures, good after the old expired */
	ap = ask(p, "server-type." RT, LDNS_RR_TYPE_TXT, DNS_MSG_MAX);
	e = verify_section(ap, LDNS_SECTION_ANSWER, own, exp0 + 60);
	assert_int_equal(e, (uint32_t)(t + DS_PUB_SIG_DAYS * 86400));
	ldns_pkt_free(ap);
	/* and not again until half of the new validity is gone */
	assert_int_equal(ds_publisher_resign(p, t + 86400, false, why, sizeof(why)), 0);
	assert_int_equal(ds_publisher_resign(p, t + 86400, true, why, sizeof(why)), 1);
	ldns_rr_list_deep_free(own);
	ds_publisher_free(p);
}

/* The WAN's resolver changes: the new upstream's records replace the old
 * one's at once, signed; the same upstream again changes nothing; a bad
 * one leaves the last good publication; none at all removes them. */
static void test_upstream_changes(void **state)
{
	struct ds_publisher *p = make_publisher();
	ldns_rr_list *own = zone_keys(p, RT);
	struct ds_pub_upstream u1, u2, bad;
	time_t now = time(NULL);
	char why[256] = "", got[512];
	ldns_pkt *ap;

	(void)state;
	upstreams_of(p, own, now, got, sizeof(got));
	assert_string_equal(got, "");
	make_upstream(&u1, UP1, "10.66.0.1", "dot");
	assert_int_equal(ds_publisher_set_upstreams(p, &u1, 1, why, sizeof(why)), 1);
	upstreams_of(p, own, now, got, sizeof(got));
	assert_string_equal(got, UP1 ".");
	assert_int_equal(ds_publisher_set_upstreams(p, &u1, 1, why, sizeof(why)), 0);

	make_upstream(&u2, UP2, "10.66.0.9", "do53");
	assert_int_equal(ds_publisher_set_upstreams(p, &u2, 1, why, sizeof(why)), 1);
	upstreams_of(p, own, now, got, sizeof(got));
	assert_string_equal(got, UP2 ".");
	/* the old upstream's records are gone, the new one's are there */
	ap = ask(p, UP1 "." RT, LDNS_RR_TYPE_KEY, DNS_MSG_MAX);
	assert_int_equal(ldns_pkt_get_rcode(ap), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(ap);
	ap = ask(p, UP2 "." RT, LDNS_RR_TYPE_A, DNS_MSG_MAX);
	assert_int_equal(ldns_pkt_get_rcode(ap), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(ap), 2);
	assert_true(verify_section(ap, LDNS_SECTION_ANSWER, own, now) > 0);
	ldns_pkt_free(ap);

	make_upstream(&bad, "bad..name", "10.66.0.3", "dot");
	assert_true(ds_publisher_set_upstreams(p, &bad, 1, why, sizeof(why)) < 0);
	assert_true(why[0] != '\0');
	upstreams_of(p, own, now, got, sizeof(got));
	assert_string_equal(got, UP2 ".");

	assert_int_equal(ds_publisher_set_upstreams(p, NULL, 0, why, sizeof(why)), 1);
	upstreams_of(p, own, now, got, sizeof(got));
	assert_string_equal(got, "");
	ldns_rr_list_deep_free(own);
	ds_publisher_free(p);
}

/* An answer that does not fit in the client's size: TC, no records. */
static void test_truncated(void **state)
{
	struct ds_publisher *p = make_publisher();
	ldns_pkt *ap;

	(void)state;
	ap = ask(p, DS_PUB_ARPA, LDNS_RR_TYPE_DNSKEY, 100);
	assert_true(ldns_pkt_tc(ap));
	assert_int_equal(ldns_pkt_ancount(ap), 0);
	ldns_pkt_free(ap);
	ds_publisher_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_answers),
		cmocka_unit_test(test_resign_at_half),
		cmocka_unit_test(test_upstream_changes),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
