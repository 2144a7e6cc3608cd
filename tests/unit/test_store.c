/*
 * test_store.c -- the anchor store: text round trip with every field,
 * strict parsing, quarantine of a corrupt file, duplicates, the network
 * cap, lookups and changes, managed anchors, concurrent writers, and a
 * full disk leaving the old file intact.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"

#define ZONE "resolver-name.arpa."
#define T0 1714557600 /* 2024-05-01T10:00:00Z */
#define KEY13 \
	"257 3 13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3cWUkHASHSnDJJWiTBYdIyaP7gxIBcX869GH4V3z3g=="
#define KEY13_SHA "c37e76c75f37352d289e9cff12022f59dd2f186d2e7b11ca6474118744643c9e"
#define KEY15 "257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4="
#define KEY15_SHA "8020d3447bb8b3405f00f300600e2e282b49e0a388bc7f4b3230880250640b7f"

/* ---- helpers ---- */

static char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *d;

	assert_true(asprintf(&d, "%s/test_store.XXXXXX", base) > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		assert_true(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
		if (e->d_type == DT_DIR)
			rm_rf(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p;
	FILE *f;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

/* The file's contents (malloc'ed) or NULL if it does not exist. */
static char *read_file(const char *dir, const char *name)
{
	char *p, *buf;
	FILE *f;
	long n;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "r");
	free(p);
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The name of the first file in dir starting with prefix, or NULL. */
static char *find_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *found = NULL;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (!found && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found = strdup(e->d_name);
	closedir(d);
	return found;
}

static void key(const char *text, struct trust_dnskey *k)
{
	assert_int_equal(trust_dnskey_parse(text, k), 0);
}

/* A distinct Ed25519-sized key derived from n. */
static void numbered_key(unsigned n, struct trust_dnskey *k)
{
	memset(k, 0, sizeof(*k));
	k->flags = 257;
	k->protocol = 3;
	k->algorithm = 15;
	k->keylen = 32;
	for (int i = 0; i < 32; i++)
		k->key[i] = (uint8_t)((n * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)i;
	memcpy(k->key + 28, &n, sizeof(n));
}

static struct trust_store *open_dir(const char *dir, const char *managed, unsigned flags,
				    int want, struct trust_open_report *rep)
{
	struct trust_store_opts o = { .state_dir = dir, .managed_dir = managed, .flags = flags };
	struct trust_store *s = NULL;

	assert_int_equal(trust_store_open(&o, &s, rep), want);
	return s;
}

/* A store with every field set. */
static struct trust_store *full_store(struct trust_store *s)
{
	const struct trust_anchor *a, *b;
	struct trust_resolver r;
	struct trust_dnskey k13, k15;
	uint8_t cert[300];

	key(KEY13, &k13);
	key(KEY15, &k15);
	assert_int_equal(trust_store_pin(s, ZONE, &k13, TRUST_STATE_TRUSTED, T0, &a), 1);
	assert_int_equal(trust_store_touch(s, a, T0 + 3600), 0);
	trust_resolver_init(&r);
	assert_int_equal(trust_resolver_set_name(&r, "ABCD1234efgh.zz"), 0);
	r.type = TRUST_SERVER_RESOLVER;
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.1"), 0);
	assert_int_equal(trust_resolver_add_addr(&r, "2001:DB8:0:0::1"), 0);
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.1"), 0); /* duplicate */
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.300"), -EINVAL);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1 1 0123456789ABCDEF0123456789abcdef"
							 "0123456789abcdef0123456789abcdef"),
			 0);
	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)i;
	assert_int_equal(trust_resolver_add_tlsa(&r, 2, 0, 0, cert, sizeof(cert)), 0);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1 1 012"), -EINVAL);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1  1 0123"), -EINVAL);
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0 + 60), 0);
	trust_resolver_clear(&r);
	assert_int_equal(trust_resolver_set_name(&r, "up1.zz."), 0);
	r.type = TRUST_SERVER_FORWARDER;
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0 + 61), 0);
	assert_int_equal(trust_store_seen_network(s, a, "mac=00:11:22:33:44:55 vlan=- gw=192.0.2.254",
						  T0),
			 0);
	assert_int_equal(trust_store_seen_network(s, a, "home-wifi", T0 + 100), 0);
	assert_int_equal(trust_store_pin(s, "corp.example", &k15, TRUST_STATE_PENDING, T0 + 7, &b), 1);
	return s;
}

static void check_full_store(const struct trust_store *s)
{
	const struct trust_anchor *a;
	const struct trust_resolver *r;
	char hex[65];

	assert_int_equal(trust_store_count(s), 2);
	/* sorted by zone: corp.example. first */
	a = trust_store_anchor(s, 0);
	assert_string_equal(a->zone, "corp.example.");
	assert_int_equal(a->state, TRUST_STATE_PENDING);
	assert_int_equal(a->tag, 48558);
	ds_hex_encode(a->sha256, 32, hex);
	assert_string_equal(hex, KEY15_SHA);
	a = trust_store_anchor(s, 1);
	assert_string_equal(a->zone, ZONE);
	assert_int_equal(a->state, TRUST_STATE_TRUSTED);
	assert_int_equal(a->tag, 63595);
	assert_int_equal(a->key.algorithm, 13);
	assert_int_equal(a->first_seen, T0);
	assert_int_equal(a->last_seen, T0 + 3600);
	ds_hex_encode(a->sha256, 32, hex);
	assert_string_equal(hex, KEY13_SHA);
	assert_int_equal(a->nresolvers, 2);
	r = &a->resolvers[0];
	assert_string_equal(r->name, "abcd1234efgh.zz.");
	assert_int_equal(r->type, TRUST_SERVER_RESOLVER);
	assert_int_equal(r->refreshed, T0 + 60);
	assert_int_equal(r->naddr, 2);
	assert_string_equal(r->addr[0], "192.0.2.1");
	assert_string_equal(r->addr[1], "2001:db8::1");
	assert_int_equal(r->ntlsa, 2);
	assert_int_equal(r->tlsa[0].usage, 3);
	assert_int_equal(r->tlsa[0].len, 32);
	assert_int_equal(r->tlsa[0].data[1], 0x23);
	assert_int_equal(r->tlsa[1].usage, 2);
	assert_int_equal(r->tlsa[1].selector, 0);
	assert_int_equal(r->tlsa[1].mtype, 0);
	assert_int_equal(r->tlsa[1].len, 300);
	assert_int_equal(r->tlsa[1].data[299], 299 & 0xff);
	r = &a->resolvers[1];
	assert_string_equal(r->name, "up1.zz.");
	assert_int_equal(r->type, TRUST_SERVER_FORWARDER);
	assert_int_equal(a->nnetworks, 2);
	assert_string_equal(a->networks[0].fp, "mac=00:11:22:33:44:55 vlan=- gw=192.0.2.254");
	assert_string_equal(a->networks[1].fp, "home-wifi");
	assert_int_equal(a->networks[1].first_seen, T0 + 100);
}

/* ---- tests ---- */

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
	assert_int_equal(trust_store_parse(s, "dotstub-trust 2\n", 16, &line, msg, sizeof(msg)),
			 -EBADMSG);
	assert_non_null(strstr(msg, "line 1: unsupported version 2"));
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
	assert_int_equal(a->resolvers[0].type, TRUST_SERVER_FORWARDER);
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
	r.type = TRUST_SERVER_RESOLVER;
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

static void test_stale_writer(void **state)
{
	char *dir = make_tmpdir();
	struct trust_store *s1, *s2;
	struct trust_dnskey k13, k15;

	key(KEY13, &k13);
	key(KEY15, &k15);
	s1 = open_dir(dir, NULL, 0, 0, NULL);
	s2 = open_dir(dir, NULL, 0, 0, NULL);
	assert_int_equal(trust_store_pin(s1, ZONE, &k13, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s1), 0);
	assert_int_equal(trust_store_pin(s2, ZONE, &k15, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s2), -ESTALE); /* would lose s1's pin */
	trust_store_close(s2);
	s2 = open_dir(dir, NULL, 0, 0, NULL);
	assert_int_equal(trust_store_count(s2), 1);
	assert_int_equal(trust_store_pin(s2, ZONE, &k15, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s2), 0);
	assert_int_equal(trust_store_save(s2), 0); /* its own write is not stale */
	assert_int_equal(trust_store_save(s1), -ESTALE);
	trust_store_close(s1);
	trust_store_close(s2);
	s1 = open_dir(dir, NULL, TRUST_OPEN_READONLY, 0, NULL);
	assert_int_equal(trust_store_count(s1), 2);
	assert_int_equal(trust_store_save(s1), -EROFS);
	trust_store_close(s1);
	rm_rf(dir);
	free(dir);
}

static void test_stale_temp_removed(void **state)
{
	char *dir = make_tmpdir(), *left;
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);

	write_file(dir, "." TRUST_STORE_FILE ".tmp-abcdef", "half a file");
	assert_int_equal(trust_store_save(s), 0);
	left = find_prefixed(dir, "." TRUST_STORE_FILE ".tmp-");
	assert_null(left);
	trust_store_close(s);
	rm_rf(dir);
	free(dir);
}

/* Fill s until its text exceeds want octets. */
static void grow(struct trust_store *s, size_t want)
{
	const struct trust_anchor *a;
	unsigned n = 100;
	size_t len = 0;

	while (len < want) {
		struct trust_dnskey k;
		char *text;

		numbered_key(n++, &k);
		assert_true(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, &a) >= 0);
		assert_int_equal(trust_store_format(s, &text, &len), 0);
		free(text);
	}
}

/* In a child: 0 if saving onto a full file system failed with err and left
 * the old file as it was. */
static int full_disk_child(const char *dir, int want_err)
{
	struct trust_store *s;
	char *before, *after;
	int r;

	s = open_dir(dir, NULL, 0, 0, NULL);
	before = read_file(dir, TRUST_STORE_FILE);
	if (!before)
		return 10;
	grow(s, 128 * 1024);
	r = trust_store_save(s);
	if (r != want_err)
		return 11;
	after = read_file(dir, TRUST_STORE_FILE);
	if (!after || strcmp(before, after) != 0)
		return 12;
	if (find_prefixed(dir, "." TRUST_STORE_FILE ".tmp-"))
		return 13; /* the temporary file was removed */
	trust_store_close(s);
	s = open_dir(dir, NULL, 0, 0, NULL);
	if (trust_store_count(s) != 1)
		return 14;
	trust_store_close(s);
	return 0;
}

static void save_one_pin(const char *dir)
{
	struct trust_store *s = open_dir(dir, NULL, 0, 0, NULL);
	struct trust_dnskey k;

	key(KEY13, &k);
	assert_int_equal(trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0, NULL), 1);
	assert_int_equal(trust_store_save(s), 0);
	trust_store_close(s);
}

static void test_enospc_keeps_old_file(void **state)
{
	char *dir = make_tmpdir();
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a private 64 KiB tmpfs (needs root) */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0)
			_exit(77);
		save_one_pin(dir);
		_exit(full_disk_child(dir, -ENOSPC));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		/* not root: a file size limit gives EFBIG the same way */
		save_one_pin(dir);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct rlimit rl = { 64 * 1024, 64 * 1024 };

			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
				_exit(20);
			_exit(full_disk_child(dir, -EFBIG));
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
	}
	assert_int_equal(WEXITSTATUS(status), 0);
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
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_sha256_prefix_ambiguous),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_learn_resolver_replaces),
		cmocka_unit_test(test_managed),
		cmocka_unit_test(test_stale_writer),
		cmocka_unit_test(test_stale_temp_removed),
		cmocka_unit_test(test_enospc_keeps_old_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
