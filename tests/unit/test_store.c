/*
 * test_store.c -- the anchor store's text: round trip with every field,
 * strict parsing, quarantine of a corrupt file, duplicates and the network
 * cap (lookups: test_store_api.c; writers and a full disk: test_store_io.c).
 */
#include <sys/stat.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

static void test_round_trip_memory(void **state)
{
	struct trust_store *s = full_store(trust_store_new_memory(0));
	struct trust_store *t = trust_store_new_memory(0);
	char *text, *again, msg[256];
	size_t len, len2;
	unsigned line = 99;

	assert_int_equal(trust_store_format(s, &text, &len), 0);
	assert_int_equal(strncmp(text, "dotstub-trust 1\n", 16), 0);
	assert_non_null(strstr(text, "\ttag 63595\n"));
	assert_non_null(strstr(text, "\tsha256 " KEY13_SHA "\n"));
	assert_non_null(strstr(text, "\tresolver abcd1234efgh.zz. resolver 2024-05-01T10:01:00Z\n"));
	assert_non_null(strstr(text, "\taddress abcd1234efgh.zz. 2001:db8::1\n"));
	assert_non_null(strstr(text, "\tnetwork 2024-05-01T10:00:00Z 2024-05-01T10:00:00Z "
				     "mac=00:11:22:33:44:55 vlan=- gw=192.0.2.254\n"));
	assert_int_equal(trust_store_parse(t, text, len, &line, msg, sizeof(msg)), 0);
	assert_int_equal(line, 0);
	check_full_store(t);
	assert_int_equal(trust_store_format(t, &again, &len2), 0);
	/* s was not normalised (pin order); t is sorted: compare t with itself */
	free(text);
	assert_int_equal(trust_store_parse(s, again, len2, NULL, NULL, 0), 0);
	assert_int_equal(trust_store_format(s, &text, &len), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(text, again, len);
	free(text);
	free(again);
	trust_store_close(s);
	trust_store_close(t);
}

static void test_round_trip_disk(void **state)
{
	char *dir = make_tmpdir(), *text;
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);
	struct trust_open_report rep;
	struct stat st;
	char *path;

	assert_int_equal(trust_store_count(s), 0);
	full_store(s);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
	assert_true(asprintf(&path, "%s/" TRUST_STORE_FILE, dir) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	free(path);
	text = read_file(dir, TRUST_STORE_FILE);
	assert_non_null(text);
	assert_int_equal(strncmp(text, "dotstub-trust 1\n", 16), 0);
	free(text);
	s = open_dir(dir, NULL, 0, 0, &rep);
	assert_string_equal(rep.error, "");
	check_full_store(s);
	trust_store_close(s);
	rm_rf(dir);
	free(dir);
}

struct bad_case {
	const char *body;  /* after the header */
	unsigned line;     /* expected line of the error */
	const char *words; /* expected in the message */
};

#define A13 "anchor " ZONE " " KEY13 "\n"
#define GOOD_ATTRS \
	"\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n\tstate trusted\n" \
	"\tfirst-seen 2024-05-01T10:00:00Z\n\tlast-seen 2024-05-01T10:00:00Z\n"

static void test_strict_parse(void **state)
{
	static const struct bad_case cases[] = {
		{ A13 GOOD_ATTRS "\tcolour blue\n", 9, "unknown key \"colour\"" },
		{ A13 "\ttag 1\n", 3, "tag 1 does not match the key (63595)" },
		{ A13 "\ttag 63595\n\talgorithm 8\n", 4, "algorithm 8 does not match" },
		{ A13 "\ttag 63595\n\talgorithm 13\n\tsha256 00" KEY13_SHA "\n", 5, "64 hex" },
		{ A13 "\tsha256 " KEY15_SHA "\n", 3, "sha256 does not match" },
		{ A13 "\ttag  63595\n", 3, "empty field" },
		{ A13 "\ttag 63595 \n", 3, "empty field" },
		{ A13 "\t\ttag 63595\n", 3, "exactly one tab" },
		{ A13 "\ttag 63595\n\ttag 63595\n", 4, "\"tag\" given twice" },
		{ A13 "\ttag 063595\n", 3, "bad number" },
		{ "anchor " ZONE " 257 3 13 VQwig==\n", 2, "bad DNSKEY" },
		{ "anchor Resolver-Name.arpa. " KEY13 "\n", 2, "lower case" },
		{ "anchor resolver-name.arpa " KEY13 "\n", 2, "trailing dot" },
		{ "anchor " ZONE " 385 3 13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3cWUkHASHSn"
		  "DJJWiTBYdIyaP7gxIBcX869GH4V3z3g==\n",
		  2, "REVOKE" },
		{ A13 "\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n\tstate trusted\n", 2,
		  "without \"first-seen\"" },
		{ A13 GOOD_ATTRS A13 "\ttag 63595\n", 9, "without \"algorithm\"" },
		{ A13 "\tstate sleepy\n", 3, "unknown state" },
		{ A13 "\tfirst-seen 2024-05-01T10:00:00\n", 3, "bad time" },
		{ A13 "\tfirst-seen 2024-02-30T10:00:00Z\n", 3, "bad time" },
		{ A13 "\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n\tstate trusted\n"
		      "\tfirst-seen 2024-05-02T10:00:00Z\n\tlast-seen 2024-05-01T10:00:00Z\n",
		  2, "first-seen is after last-seen" },
		{ A13 "\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n\tstate add-pending\n"
		      "\tfirst-seen 2024-05-01T10:00:00Z\n\tlast-seen 2024-05-01T10:00:00Z\n",
		  2, "add-pending-since" },
		{ A13 GOOD_ATTRS "\tadd-pending-since 2024-05-01T10:00:00Z\n\tintroduced-by " KEY13_SHA
			"\n",
		  2, "only with, state add-pending" },
		{ A13 GOOD_ATTRS "\taddress abcd1234efgh.zz. 192.0.2.1\n", 9, "undeclared resolver" },
		{ A13 GOOD_ATTRS "\tresolver abcd1234efgh.zz. router 2024-05-01T10:00:00Z\n", 9,
		  "bad type" },
		{ A13 GOOD_ATTRS "\tresolver abcd1234efgh.zz. resolver 2024-05-01T10:00:00Z\n"
				 "\taddress abcd1234efgh.zz. 192.0.2.256\n",
		  10, "bad address" },
		{ A13 GOOD_ATTRS "\tresolver abcd1234efgh.zz. resolver 2024-05-01T10:00:00Z\n"
				 "\ttlsa abcd1234efgh.zz. 3 1 1 0g\n",
		  10, "bad TLSA" },
		{ A13 GOOD_ATTRS "\tresolver abcd1234efgh.zz. resolver 2024-05-01T10:00:00Z\n"
				 "\ttlsa abcd1234efgh.zz. 3 1 1\n",
		  10, "needs 5 fields" },
		{ A13 GOOD_ATTRS "\tnetwork 2024-05-02T10:00:00Z 2024-05-01T10:00:00Z x\n", 9,
		  "first seen is after last seen" },
		{ A13 GOOD_ATTRS "\tnetwork 2024-05-01T10:00:00Z 2024-05-01T10:00:00Z  x\n", 9,
		  "bad fingerprint" },
		{ "\ttag 63595\n", 2, "outside an anchor" },
		{ "hello\n", 2, "unknown line" },
		{ A13 "\ttag 63595\r\n", 3, "invalid octet 0x0d" },
	};
	struct trust_store *s = trust_store_new_memory(0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text, msg[256], want[32];
		unsigned line = 0;

		assert_true(asprintf(&text, "dotstub-trust 1\n%s", cases[i].body) > 0);
		assert_int_equal(trust_store_parse(s, text, strlen(text), &line, msg, sizeof(msg)),
				 -EBADMSG);
		if (line != cases[i].line || !strstr(msg, cases[i].words))
			fail_msg("case %zu: got line %u \"%s\", want line %u \"%s\"", i, line, msg,
				 cases[i].line, cases[i].words);
		snprintf(want, sizeof(want), "line %u: ", cases[i].line);
		assert_int_equal(strncmp(msg, want, strlen(want)), 0);
		free(text);
	}
	trust_store_close(s);
}

static void test_strict_file_level(void **state)
{
	struct trust_store *s = trust_store_new_memory(0);
	static const char nul[] = "dotstub-trust 1\n# a\0b\n";
	char msg[256];
	unsigned line;

	assert_int_equal(trust_store_parse(s, "", 0, &line, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "line 1: empty file"));
	assert_int_equal(trust_store_parse(s, "dotstub-trust 1", 15, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "line 1: no newline at the end (truncated"));
	assert_int_equal(line, 1);
	assert_int_equal(trust_store_parse(s, "dotstub-trust 4\n", 16, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "line 1: unsupported version 4"));
	assert_int_equal(trust_store_parse(s, "# only a comment\n", 17, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "no header"));
	assert_int_equal(trust_store_parse(s, "ssh-rsa AAAA\n", 13, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "not a dotstub trust file"));
	assert_int_equal(trust_store_parse(s, nul, sizeof(nul) - 1, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "line 2: invalid octet 0x00"));
	/* a comment, blank lines and an empty store are fine */
	assert_int_equal(trust_store_parse(s, "# hi\n\ndotstub-trust 1\n\n", 23, &line, msg,
					   sizeof(msg)),
			 0);
	assert_int_equal(trust_store_count(s), 0);
	trust_store_close(s);
}

static void test_parse_error_keeps_store(void **state)
{
	struct trust_store *s = full_store(trust_store_new_memory(0));
	const char bad[] = "dotstub-trust 1\n" A13 "\ttag 1\n";

	assert_int_equal(trust_store_parse(s, bad, sizeof(bad) - 1, NULL, NULL, 0), -EBADMSG);
	assert_int_equal(trust_store_count(s), 2);
	trust_store_close(s);
}

static void test_corrupt_quarantined(void **state)
{
	char *dir = make_tmpdir(), *moved, *text;
	struct trust_open_report rep;
	struct trust_store *s;
	struct trust_dnskey k;
	const char garbage[] = "dotstub-trust 1\n" A13 "\ttag 63595\n\tgarbage\n";

	write_file(dir, TRUST_STORE_FILE, garbage);
	/* read-only: reported, left in place */
	s = NULL;
	{
		struct trust_store_opts o = { .state_dir = dir, .flags = TRUST_OPEN_READONLY };

		assert_int_equal(trust_store_open(&o, &s, &rep), -EBADMSG);
		assert_null(s);
		assert_int_equal(rep.line, 4);
		assert_string_equal(rep.quarantined, "");
	}
	text = read_file(dir, TRUST_STORE_FILE);
	assert_string_equal(text, garbage);
	free(text);
	/* read-write: moved aside, opened empty, distinct return */
	s = open_dir(dir, NULL, 0, TRUST_STORE_QUARANTINED, &rep);
	assert_int_equal(trust_store_count(s), 0);
	assert_int_equal(rep.line, 4);
	assert_non_null(strstr(rep.error, "line 4: unknown key \"garbage\""));
	assert_non_null(strstr(rep.quarantined, "/" TRUST_STORE_FILE ".corrupt-"));
	moved = find_prefixed(dir, TRUST_STORE_FILE ".corrupt-");
	assert_non_null(moved);
	assert_non_null(strstr(rep.quarantined, moved));
	text = read_file(dir, moved);
	assert_string_equal(text, garbage); /* nothing lost */
	free(text);
	assert_null(read_file(dir, TRUST_STORE_FILE));
	/* and the store works */
	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
	s = open_dir(dir, NULL, 0, 0, NULL);
	assert_int_equal(trust_store_count(s), 1);
	trust_store_close(s);
	/* a second corrupt file in the same second does not overwrite the first */
	write_file(dir, TRUST_STORE_FILE, "garbage\n");
	s = open_dir(dir, NULL, 0, TRUST_STORE_QUARANTINED, &rep);
	trust_store_close(s);
	text = read_file(dir, moved);
	assert_string_equal(text, garbage);
	free(text);
	free(moved);
	rm_rf(dir);
	free(dir);
}

static void test_duplicates_merged(void **state)
{
	const char text[] =
		"dotstub-trust 1\n"
		"anchor " ZONE " " KEY13 "\n\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n"
		"\tstate trusted\n\tfirst-seen 2024-05-02T00:00:00Z\n\tlast-seen 2024-05-03T00:00:00Z\n"
		"\tresolver a.zz. resolver 2024-05-02T00:00:00Z\n\taddress a.zz. 192.0.2.1\n"
		"\tresolver a.zz. forwarder 2024-05-03T00:00:00Z\n\taddress a.zz. 192.0.2.1\n"
		"\taddress a.zz. 192.0.2.2\n"
		"\tnetwork 2024-05-02T00:00:00Z 2024-05-02T00:00:00Z net-a\n"
		"anchor " ZONE " " KEY13 "\n\ttag 63595\n\talgorithm 13\n\tsha256 " KEY13_SHA "\n"
		"\tstate pending\n\tfirst-seen 2024-05-01T00:00:00Z\n\tlast-seen 2024-05-02T00:00:00Z\n"
		"\tnetwork 2024-05-01T00:00:00Z 2024-05-04T00:00:00Z net-a\n"
		"\tnetwork 2024-05-01T00:00:00Z 2024-05-01T00:00:00Z net-b\n";
	struct trust_store *s = trust_store_new_memory(0);
	const struct trust_anchor *a;
	char *out;
	size_t len;

	assert_int_equal(trust_store_parse(s, text, sizeof(text) - 1, NULL, NULL, 0), 0);
	assert_int_equal(trust_store_count(s), 1);
	a = trust_store_anchor(s, 0);
	assert_int_equal(a->state, TRUST_STATE_PENDING); /* the stricter state */
	assert_int_equal(a->first_seen, T0 - 36000);      /* 2024-05-01T00:00:00Z */
	assert_int_equal(a->last_seen, T0 - 36000 + 2 * 86400);
	assert_int_equal(a->nresolvers, 1);
	assert_int_equal(a->resolvers[0].type, DS_SERVER_FORWARDER);
	assert_int_equal(a->resolvers[0].naddr, 2);
	assert_int_equal(a->nnetworks, 2);
	assert_string_equal(a->networks[0].fp, "net-a");
	assert_int_equal(a->networks[0].first_seen, T0 - 36000);
	assert_int_equal(a->networks[0].last_seen, T0 - 36000 + 3 * 86400);
	assert_int_equal(trust_store_format(s, &out, &len), 0);
	assert_non_null(strstr(out, "\nanchor "));
	assert_null(strstr(strstr(out, "\nanchor ") + 1, "\nanchor ")); /* written once */
	free(out);
	trust_store_close(s);
}

static void test_network_cap(void **state)
{
	struct trust_store *s = trust_store_new_memory(3);
	const struct trust_anchor *a;
	struct trust_dnskey k;

	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, &a), 1);
	assert_int_equal(trust_store_seen_network(s, a, "n1", T0 + 1), 0);
	assert_int_equal(trust_store_seen_network(s, a, "n2", T0 + 2), 0);
	assert_int_equal(trust_store_seen_network(s, a, "n3", T0 + 3), 0);
	assert_int_equal(trust_store_seen_network(s, a, "n1", T0 + 10), 0); /* n1 used again */
	assert_int_equal(trust_store_seen_network(s, a, "n4", T0 + 11), 0); /* drops n2 */
	assert_int_equal(a->nnetworks, 3);
	assert_null(trust_store_find_network(s, "n2", NULL));
	assert_ptr_equal(trust_store_find_network(s, "n1", NULL), a);
	assert_ptr_equal(trust_store_find_network(s, "n3", NULL), a);
	assert_ptr_equal(trust_store_find_network(s, "n4", NULL), a);
	assert_int_equal(trust_store_seen_network(s, a, "n5", T0 + 12), 0); /* drops n3 */
	assert_null(trust_store_find_network(s, "n3", NULL));
	assert_int_equal(trust_store_seen_network(s, a, " lead", T0), -EINVAL);
	assert_int_equal(trust_store_seen_network(s, a, "tab\there", T0), -EINVAL);
	assert_int_equal(trust_store_seen_network(s, a, "", T0), -EINVAL);
	trust_store_close(s);
}

static void test_network_cap_on_load(void **state)
{
	char *dir = make_tmpdir();
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);
	struct trust_store_opts o = { .state_dir = dir, .max_networks = 2 };
	const struct trust_anchor *a;
	struct trust_dnskey k;

	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, &a), 1);
	for (int i = 0; i < 5; i++) {
		char fp[8];

		snprintf(fp, sizeof(fp), "n%d", i);
		assert_int_equal(trust_store_seen_network(s, a, fp, T0 + i), 0);
	}
	assert_int_equal(a->nnetworks, 5);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
	assert_int_equal(trust_store_open(&o, &s, NULL), 0);
	a = trust_store_anchor(s, 0);
	assert_int_equal(a->nnetworks, 2);
	assert_string_equal(a->networks[0].fp, "n3");
	assert_string_equal(a->networks[1].fp, "n4");
	trust_store_close(s);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_memory),
		cmocka_unit_test(test_round_trip_disk),
		cmocka_unit_test(test_strict_parse),
		cmocka_unit_test(test_strict_file_level),
		cmocka_unit_test(test_parse_error_keeps_store),
		cmocka_unit_test(test_corrupt_quarantined),
		cmocka_unit_test(test_duplicates_merged),
		cmocka_unit_test(test_network_cap),
		cmocka_unit_test(test_network_cap_on_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
