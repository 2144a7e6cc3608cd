/*
 * store_fixture.h -- what the anchor store's unit tests share: two real
 * DNSKEYs, temp dirs and files, opening a store, and a store with every
 * field set (tests/unit/store_fixture.c).
 */
#ifndef DOTSTUB_STORE_FIXTURE_H
#define DOTSTUB_STORE_FIXTURE_H

#include <stdint.h>

#include "dotstub/trust.h"

#define ZONE "resolver-name.arpa."
#define T0 1714557600 /* 2024-05-01T10:00:00Z */
#define KEY13 \
	"257 3 13 VQwigA6fWbbLLC6XVhcaqPL7kAx4g2bvzKYF0xHqGoVw3cWUkHASHSnDJJWiTBYdIyaP7gxIBcX869GH4V3z3g=="
#define KEY13_SHA "c37e76c75f37352d289e9cff12022f59dd2f186d2e7b11ca6474118744643c9e"
#define KEY15 "257 3 15 3lE86CPAhnxCu0ZOOQINGO+fMqP2gTMR9B4HZSBLvV4="
#define KEY15_SHA "8020d3447bb8b3405f00f300600e2e282b49e0a388bc7f4b3230880250640b7f"

char *make_tmpdir(void);
void rm_rf(const char *dir);
void write_file(const char *dir, const char *name, const char *text);
/* The file's contents (malloc'ed) or NULL if it does not exist. */
char *read_file(const char *dir, const char *name);
/* The name of the first file in dir starting with prefix, or NULL. */
char *find_prefixed(const char *dir, const char *prefix);
void key(const char *text, struct trust_dnskey *k);
/* A distinct Ed25519-sized key derived from n. */
void numbered_key(unsigned n, struct trust_dnskey *k);
struct trust_store *open_dir(const char *dir, const char *managed, unsigned flags, int want,
			     struct trust_open_report *rep);
/* A store with every field set, and the check that a store holds it. */
struct trust_store *full_store(struct trust_store *s);
void check_full_store(const struct trust_store *s);

#endif
