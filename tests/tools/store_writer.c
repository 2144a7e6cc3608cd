/*
 * store_writer.c -- the victim of tests/integration/store_crash.sh.
 *
 *   store_writer write DIR       pin key after key into the store in DIR,
 *                                saving after each and printing "saved N"
 *                                (pins 0..N-1 are on disk) once the save
 *                                returned; runs until killed
 *   store_writer verify DIR MIN  the store parses (read-only, no
 *                                quarantine) and holds pins 0..MIN-1
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/trust.h"

#define ZONE "resolver-name.arpa."
#define MAX_PINS 400 /* then keep rewriting with new sightings */
#define T0 1714557600

static void pin_key(unsigned n, struct trust_dnskey *k)
{
	memset(k, 0, sizeof(*k));
	k->flags = 257;
	k->protocol = 3;
	k->algorithm = 15;
	k->keylen = 32;
	for (int i = 0; i < 32; i++)
		k->key[i] = (uint8_t)(0x5a ^ i);
	memcpy(k->key, &n, sizeof(n));
}

/* A resolver and a network for pin n, so the file has some bulk. */
static int add_learned(struct trust_store *s, const struct trust_anchor *a, unsigned n,
		       time_t now)
{
	struct trust_resolver r;
	char name[64], addr[32], fp[64];
	int ret;

	trust_resolver_init(&r);
	snprintf(name, sizeof(name), "r%08u.zz.", n);
	snprintf(addr, sizeof(addr), "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
	r.type = DS_SERVER_RESOLVER;
	ret = trust_resolver_set_name(&r, name);
	if (ret == 0)
		ret = trust_resolver_add_addr(&r, addr);
	if (ret == 0)
		ret = trust_resolver_add_tlsa_text(&r, "3 1 1 00112233445566778899aabbccddeeff"
						       "00112233445566778899aabbccddeeff");
	if (ret == 0)
		ret = trust_store_learn_resolver(s, a, &r, now);
	trust_resolver_clear(&r);
	snprintf(fp, sizeof(fp), "net-%u-%lld", n % 7, (long long)now);
	if (ret == 0)
		ret = trust_store_seen_network(s, a, fp, now);
	return ret;
}

static int do_write(const char *dir)
{
	struct trust_store_opts o = { .state_dir = dir, .max_networks = 4 };
	struct trust_store *s;
	unsigned n;
	int r;

	r = trust_store_open(&o, &s, NULL);
	if (r != 0) {
		fprintf(stderr, "store_writer: open: %s\n",
			r == TRUST_STORE_QUARANTINED ? "store was corrupt" : strerror(-r));
		return 3;
	}
	n = (unsigned)trust_store_count(s);
	for (unsigned round = 0;; round++) {
		const struct trust_anchor *a;
		struct trust_dnskey k;
		unsigned idx = n < MAX_PINS ? n : round % MAX_PINS;

		pin_key(idx, &k);
		r = trust_store_pin(s, ZONE, &k, TRUST_STATE_TRUSTED, T0 + idx, &a);
		if (r >= 0)
			r = add_learned(s, a, idx, T0 + round);
		if (r >= 0)
			r = trust_store_save(s);
		if (r < 0) {
			fprintf(stderr, "store_writer: pin %u: %s\n", idx, strerror(-r));
			trust_store_close(s);
			return 1;
		}
		if (n < MAX_PINS)
			n++;
		printf("saved %u\n", n);
		fflush(stdout);
	}
}

static int do_verify(const char *dir, const char *min_text)
{
	struct trust_store_opts o = { .state_dir = dir, .flags = TRUST_OPEN_READONLY };
	struct trust_open_report rep;
	struct trust_store *s;
	unsigned long min = strtoul(min_text, NULL, 10);
	int r = trust_store_open(&o, &s, &rep);

	if (r != 0) {
		fprintf(stderr, "store_writer: the store does not open: %s (%s)\n", strerror(-r),
			rep.error);
		return 1;
	}
	for (unsigned i = 0; i < min; i++) {
		struct trust_dnskey k;

		pin_key(i, &k);
		if (!trust_store_is_known(s, ZONE, &k)) {
			fprintf(stderr, "store_writer: pin %u of %lu lost\n", i, min);
			trust_store_close(s);
			return 1;
		}
	}
	printf("%zu pins, %lu required\n", trust_store_count(s), min);
	trust_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return do_write(argv[2]);
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return do_verify(argv[2], argv[3]);
	fprintf(stderr, "usage: store_writer write DIR | verify DIR MIN\n");
	return 2;
}
