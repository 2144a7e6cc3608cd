/*
 * test_store_api.c -- the anchor store's interface: lookups, SHA-256
 * prefixes, change reports, learning a resolver, managed anchors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "dotstub/hex.h"
#include "store_fixture.h"

static void test_lookups(void **state)
{
	struct trust_store *s = full_store(trust_store_new_memory(0));
	const struct trust_anchor *a, *b;
	struct trust_dnskey k13, k15, other;

	key(KEY13, &k13);
	key(KEY15, &k15);
	numbered_key(1, &other);
	a = trust_store_lookup(s, "Resolver-Name.ARPA", &k13);
	assert_non_null(a);
	assert_int_equal(a->tag, 63595);
	assert_null(trust_store_lookup(s, "corp.example.", &k13));
	assert_true(trust_store_is_known(s, ZONE, &k13));
	assert_false(trust_store_is_known(s, "corp.example.", &k15)); /* pending */
	assert_false(trust_store_is_known(s, ZONE, &other));
	assert_ptr_equal(trust_store_find_tag(s, 63595, NULL), a);
	assert_null(trust_store_find_tag(s, 63595, a));
	assert_null(trust_store_find_tag(s, 1, NULL));
	assert_ptr_equal(trust_store_find_resolver(s, "UP1.zz", NULL), a);
	assert_null(trust_store_find_resolver(s, "up2.zz.", NULL));
	assert_ptr_equal(trust_store_find_network(s, "home-wifi", NULL), a);
	assert_null(trust_store_find_network(s, "home-wif", NULL));
	assert_int_equal(trust_store_find_sha256(s, "C37E76", &b), 0);
	assert_ptr_equal(b, a);
	assert_int_equal(trust_store_find_sha256(s, KEY15_SHA, &b), 0);
	assert_string_equal(b->zone, "corp.example.");
	assert_int_equal(trust_store_find_sha256(s, "c37", &b), -EINVAL);
	assert_int_equal(trust_store_find_sha256(s, "c37x", &b), -EINVAL);
	assert_int_equal(trust_store_find_sha256(s, "ffff", &b), -ENOENT);
	trust_store_close(s);
}

static void test_sha256_prefix_ambiguous(void **state)
{
	struct trust_store *s = trust_store_new_memory(0);
	const struct trust_anchor *a, *found;
	char hex[65], prefix[5];
	bool collided = false;

	/* with a few hundred keys, two share 4 hex digits (birthday bound) */
	for (unsigned n = 0; n < 1000 && !collided; n++) {
		struct trust_dnskey k;

		numbered_key(n, &k);
		assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, &a), 1);
		ds_hex_encode(a->sha256, 32, hex);
		memcpy(prefix, hex, 4);
		prefix[4] = '\0';
		for (size_t i = 0; i + 1 < trust_store_count(s); i++) {
			char h2[65];

			ds_hex_encode(trust_store_anchor(s, i)->sha256, 32, h2);
			if (memcmp(h2, prefix, 4) == 0)
				collided = true;
		}
	}
	assert_true(collided);
	assert_int_equal(trust_store_find_sha256(s, prefix, &found), -ENOTUNIQ);
	assert_int_equal(trust_store_find_sha256(s, hex, &found), 0);
	assert_ptr_equal(found, a);
	trust_store_close(s);
}

static void test_changes(void **state)
{
	struct trust_store *s = trust_store_new_memory(0);
	const struct trust_anchor *a, *b;
	struct trust_dnskey k, r;

	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_PENDING, T0, &a), 1);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0 + 5, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(a->state, TRUST_STATE_PENDING); /* never promoted by a pin */
	assert_int_equal(a->last_seen, T0 + 5);
	assert_int_equal(trust_store_approve(s, a), 0);
	assert_int_equal(a->state, TRUST_STATE_TRUSTED);
	assert_int_equal(trust_store_approve(s, a), 0);
	assert_int_equal(trust_store_revoke(s, a, T0 + 9), 0);
	assert_int_equal(a->state, TRUST_STATE_REVOKED);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, NULL), -EKEYREVOKED);
	assert_int_equal(trust_store_approve(s, a), -EKEYREVOKED);
	assert_false(trust_store_is_known(s, ZONE, &k));
	/* bad inputs */
	r = k;
	r.flags |= TRUST_DNSKEY_REVOKE;
	assert_int_equal(trust_store_pin(s, ZONE, &r, TRUST_STATE_TRUSTED, T0, NULL), -EINVAL);
	assert_int_equal(trust_store_pin(s, "bad..zone", &k, TRUST_STATE_TRUSTED, T0, NULL), -EINVAL);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_MANAGED, T0, NULL), -EINVAL);
	assert_int_equal(trust_store_forget(s, a), 0);
	assert_int_equal(trust_store_count(s), 0);
	assert_int_equal(trust_store_forget(s, a), -ENOENT);
	assert_int_equal(trust_store_touch(s, NULL, T0), -ENOENT);
	/* re-pinnable once forgotten */
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, NULL), 1);
	trust_store_close(s);
}

static void test_learn_resolver_replaces(void **state)
{
	struct trust_store *s = full_store(trust_store_new_memory(0));
	const struct trust_anchor *a = trust_store_find_resolver(s, "abcd1234efgh.zz.", NULL);
	struct trust_resolver r;

	trust_resolver_init(&r);
	assert_int_equal(trust_resolver_set_name(&r, "abcd1234efgh.zz."), 0);
	r.type = DS_SERVER_RESOLVER;
	assert_int_equal(trust_resolver_add_addr(&r, "198.51.100.7"), 0);
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0 + 999), 0);
	trust_resolver_clear(&r);
	assert_int_equal(a->nresolvers, 2);
	for (size_t i = 0; i < a->nresolvers; i++) {
		if (strcmp(a->resolvers[i].name, "abcd1234efgh.zz.") != 0)
			continue;
		assert_int_equal(a->resolvers[i].naddr, 1);
		assert_string_equal(a->resolvers[i].addr[0], "198.51.100.7");
		assert_int_equal(a->resolvers[i].ntlsa, 0);
		assert_int_equal(a->resolvers[i].refreshed, T0 + 999);
	}
	trust_resolver_init(&r);
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0), -EINVAL); /* no name */
	trust_store_close(s);
}

static void test_managed(void **state)
{
	char *dir = make_tmpdir(), *conf, *text;
	struct trust_open_report rep;
	struct trust_store *s;
	const struct trust_anchor *a;
	struct trust_dnskey k;

	assert_true(asprintf(&conf, "%s/anchors.d", dir) > 0);
	assert_int_equal(mkdir(conf, 0755), 0);
	write_file(conf, "corp.key",
		   "; the corp resolver\n"
		   "corp.example.\t3600\tIN\tDNSKEY\t" KEY15 " ;{id = 48558 (ksk)}\n\n");
	write_file(conf, "bad.key", "; broken\nx. IN DNSKEY 257 3 15 AAAA\n");
	write_file(conf, "ignored.txt", "not a key file\n");
	s = open_dir(dir, conf, 0, 0, &rep);
	assert_int_equal(rep.managed_skipped, 1);
	assert_non_null(strstr(rep.managed_error, "bad.key:2: "));
	assert_int_equal(trust_store_count(s), 1);
	a = trust_store_anchor(s, 0);
	assert_string_equal(a->zone, "corp.example.");
	assert_int_equal(a->state, TRUST_STATE_MANAGED);
	assert_true(a->managed);
	key(KEY15, &k);
	assert_true(trust_store_is_known(s, "corp.example", &k));
	assert_int_equal(trust_store_forget(s, a), -EPERM);
	assert_int_equal(trust_store_approve(s, a), -EPERM);
	assert_int_equal(trust_store_revoke(s, a, T0), -EPERM);
	/* a pin of the same key leaves it managed */
	assert_int_equal(trust_store_pin(s, "corp.example.", &k, TRUST_STATE_PENDING, T0, NULL), 0);
	assert_int_equal(a->state, TRUST_STATE_MANAGED);
	/* learned data under a managed anchor is kept in the store file */
	assert_int_equal(trust_store_seen_network(s, a, "office", T0), 0);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
	text = read_file(conf, "corp.key");
	assert_non_null(strstr(text, "; the corp resolver")); /* never written */
	free(text);
	text = read_file(dir, TRUST_STORE_FILE);
	assert_non_null(strstr(text, "\tstate managed\n"));
	free(text);
	/* with the configuration: still managed, network kept */
	s = open_dir(dir, conf, 0, 0, NULL);
	a = trust_store_anchor(s, 0);
	assert_int_equal(a->state, TRUST_STATE_MANAGED);
	assert_ptr_equal(trust_store_find_network(s, "office", NULL), a);
	trust_store_close(s);
	/* removed from the configuration: pending, not used until approved */
	s = open_dir(dir, NULL, 0, 0, NULL);
	a = trust_store_anchor(s, 0);
	assert_int_equal(a->state, TRUST_STATE_PENDING);
	assert_false(a->managed);
	assert_false(trust_store_is_known(s, "corp.example.", &k));
	trust_store_close(s);
	/* a missing configuration directory is not an error */
	s = open_dir(dir, "/nonexistent/dotstub/anchors.d", 0, 0, &rep);
	assert_int_equal(rep.managed_skipped, 0);
	trust_store_close(s);
	rm_rf(dir);
	free(dir);
	free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_sha256_prefix_ambiguous),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_learn_resolver_replaces),
		cmocka_unit_test(test_managed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
