/*
 * store_fixture.c -- helpers of the anchor store's unit tests
 * (store_fixture.h).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dotstub/hex.h"
#include "store_fixture.h"

char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *d;

	assert_true(asprintf(&d, "%s/test_store.XXXXXX", base) > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

void rm_rf(const char *dir)
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

void write_file(const char *dir, const char *name, const char *text)
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
char *read_file(const char *dir, const char *name)
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
char *find_prefixed(const char *dir, const char *prefix)
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

void key(const char *text, struct trust_dnskey *k)
{
	assert_int_equal(trust_dnskey_parse(text, k), 0);
}

/* A distinct Ed25519-sized key derived from n. */
void numbered_key(unsigned n, struct trust_dnskey *k)
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

struct trust_store *open_dir(const char *dir, const char *managed, unsigned flags,
				    int want, struct trust_open_report *rep)
{
	struct trust_store_opts o = { .state_dir = dir, .managed_dir = managed, .flags = flags };
	struct trust_store *s = NULL;

	assert_int_equal(trust_store_open(&o, &s, rep), want);
	return s;
}

/* A store with every field set. */
struct trust_store *full_store(struct trust_store *s)
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
	r.type = DS_SERVER_RESOLVER;
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.1"), 0);
	assert_int_equal(trust_resolver_add_addr(&r, "2001:DB8:0:0::1"), 0);
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.1"), 0); /* duplicate */
	assert_int_equal(trust_resolver_add_addr(&r, "192.0.2.300"), -EINVAL);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1 1 0123456789ABCDEF0123456789abcdef"
							 "0123456789abcdef0123456789abcdef"),
			 0);
	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)i;
	assert_int_equal(trust_resolver_add_tlsa(&r, &(struct ds_tlsa){ 2, 0, 0, sizeof(cert), cert }),
			 0);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1 1 012"), -EINVAL);
	assert_int_equal(trust_resolver_add_tlsa_text(&r, "3 1  1 0123"), -EINVAL);
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0 + 60), 0);
	trust_resolver_clear(&r);
	assert_int_equal(trust_resolver_set_name(&r, "up1.zz."), 0);
	r.type = DS_SERVER_FORWARDER;
	assert_int_equal(trust_store_learn_resolver(s, a, &r, T0 + 61), 0);
	assert_int_equal(trust_store_seen_network(s, a, "mac=00:11:22:33:44:55 vlan=- gw=192.0.2.254",
						  T0),
			 0);
	assert_int_equal(trust_store_seen_network(s, a, "home-wifi", T0 + 100), 0);
	assert_int_equal(trust_store_pin(s, "corp.example", &k15, TRUST_STATE_PENDING, T0 + 7, &b), 1);
	return s;
}

void check_full_store(const struct trust_store *s)
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
	assert_int_equal(r->type, DS_SERVER_RESOLVER);
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
	assert_int_equal(r->type, DS_SERVER_FORWARDER);
	assert_int_equal(a->nnetworks, 2);
	assert_string_equal(a->networks[0].fp, "mac=00:11:22:33:44:55 vlan=- gw=192.0.2.254");
	assert_string_equal(a->networks[1].fp, "home-wifi");
	assert_int_equal(a->networks[1].first_seen, T0 + 100);
}
