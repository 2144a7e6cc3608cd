/*
 * test_storeapply.c -- the store process's rules for the changes the
 * network process sends (stub/daemon/storeapply.c): a new key is trusted
 * only with tofu auto, a pin never approves or brings back a revoked key,
 * only resolver-name.arpa keys are pinned, a usable key is never recorded
 * on a network another key knows (the same fingerprint, a look-alike with
 * the same gateway MAC, or an impostor with the same gateway address),
 * while its own look-alikes, unknown networks and pending keys are fine;
 * LEARN says when a usable anchor's resolver changes; RFC 5011 runs on the
 * store process's clock and hold-down, never the message's; a designated
 * resolver's key is pinned per network (DPIN) on the store process's
 * clock, well formed only, and never replaces another key pinned there;
 * a replacement (DPIN replace: a renewed certificate) replaces only the
 * key of a pin of the same name on the same network, keeps its first seen
 * and records when the key changed (store version 3, written and read).
 */
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

#include "privsep.h"

#define T0 1767225600
#define HOLD 60

/* the network, a look-alike (same gateway MAC, another interface), an
 * impostor (same gateway address, another MAC) and an unrelated one */
static const char FP_A[] =
	"res=192.0.2.53 ssid=- v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";
static const char FP_A_MOVED[] =
	"res=192.0.2.53 ssid=- v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:01 v4if=wlan0 "
	"v4ifmac=02:00:00:00:00:20 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";
static const char FP_A_IMPOSTOR[] =
	"res=192.0.2.53 ssid=- v4gw=10.77.0.1 v4gwmac=02:00:00:00:00:66 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";
static const char FP_B[] =
	"res=198.51.100.53 ssid=- v4gw=10.88.0.1 v4gwmac=02:00:00:00:00:88 v4if=eth0 "
	"v4ifmac=02:00:00:00:00:10 v4vlan=- v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-";

struct fx {
	struct trust_store *s;
	struct ds_config cfg;
	struct ds_pmsg m;
	char note[512], why[512];
};

static struct trust_dnskey key(uint8_t fill)
{
	struct trust_dnskey k;

	memset(&k, 0, sizeof(k));
	k.flags = TRUST_DNSKEY_ZONE | TRUST_DNSKEY_SEP;
	k.protocol = 3;
	k.algorithm = 13;
	k.keylen = 64;
	memset(k.key, fill, 64);
	return k;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->s = trust_store_new_memory(0);
	assert_non_null(f->s);
	ds_config_init(&f->cfg);
	f->cfg.rfc5011_hold_down_s = HOLD;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	trust_store_close(f->s);
	ds_config_free(&f->cfg);
	free(f);
	return 0;
}

static int apply(struct fx *f, time_t now)
{
	return ds_storeapply(f->s, &f->cfg, &f->m, now, f->note, sizeof(f->note), f->why,
			     sizeof(f->why));
}

static int pin(struct fx *f, const char *zone, uint8_t fill, enum trust_state st)
{
	struct trust_dnskey k = key(fill);

	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_PIN;
	snprintf(f->m.u.pin.zone, sizeof(f->m.u.pin.zone), "%s", zone);
	ds_pmsg_key_put(&f->m.u.pin.key, &k);
	f->m.u.pin.state = (uint8_t)st;
	return apply(f, T0);
}

static const struct trust_anchor *anchor(struct fx *f, uint8_t fill)
{
	struct trust_dnskey k = key(fill);

	return trust_store_lookup(f->s, "resolver-name.arpa.", &k);
}

static void id_of(struct ds_pmsg_anchor_id *id, uint8_t fill)
{
	struct trust_dnskey k = key(fill);

	snprintf(id->zone, sizeof(id->zone), "resolver-name.arpa.");
	assert_int_equal(trust_dnskey_sha256(&k, id->sha256), 0);
}

static int network(struct fx *f, uint8_t fill, const char *fp)
{
	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_NETWORK;
	id_of(&f->m.u.network.anchor, fill);
	snprintf(f->m.u.network.fp, sizeof(f->m.u.network.fp), "%s", fp);
	return apply(f, T0 + 10);
}

static void pin_new_trusted(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_non_null(strstr(f->note, "pinned resolver-name.arpa. key tag"));
	assert_non_null(strstr(f->note, "as trusted"));
	assert_int_equal(anchor(f, 1)->state, TRUST_STATE_TRUSTED);
	assert_int_equal(anchor(f, 1)->first_seen, T0); /* the store process's clock */
}

static void pin_trusted_needs_tofu_auto(void **state)
{
	struct fx *f = *state;

	f->cfg.tofu = TRUST_TOFU_ASK;
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), -EPERM);
	assert_non_null(strstr(f->why, "tofu is ask"));
	assert_int_equal(trust_store_count(f->s), 0);
	/* pending is what ask pins */
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_PENDING), 0);
	assert_int_equal(anchor(f, 1)->state, TRUST_STATE_PENDING);
	f->cfg.tofu = TRUST_TOFU_OFF;
	assert_int_equal(pin(f, "resolver-name.arpa.", 2, TRUST_STATE_TRUSTED), -EPERM);
}

static void pin_never_approves(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_PENDING), 0);
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(anchor(f, 1)->state, TRUST_STATE_PENDING);
	assert_string_equal(f->note, ""); /* nothing new */
}

static void pin_revoked_stays(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(trust_store_revoke(f->s, anchor(f, 1), T0), 0);
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), -EKEYREVOKED);
	assert_int_equal(anchor(f, 1)->state, TRUST_STATE_REVOKED);
}

static void pin_other_zone_or_state(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "example.com.", 1, TRUST_STATE_TRUSTED), -EPERM);
	assert_int_equal(pin(f, "RESOLVER-NAME.ARPA.", 1, TRUST_STATE_TRUSTED), -EPERM);
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_MANAGED), -EPERM);
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_ADD_PENDING), -EPERM);
	assert_int_equal(trust_store_count(f->s), 0);
}

/* K1 pinned on network A; K2, a new key, pinned (no network) */
static void two_keys(struct fx *f)
{
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(network(f, 1, FP_A), 0);
	assert_int_equal(pin(f, "resolver-name.arpa.", 2, TRUST_STATE_TRUSTED), 0);
}

static void network_known_under_another_key(void **state)
{
	struct fx *f = *state;

	two_keys(f);
	assert_int_equal(network(f, 2, FP_A), -EPERM);
	assert_non_null(strstr(f->why, "on a network known under key tag"));
	assert_int_equal(network(f, 2, FP_A_MOVED), -EPERM);
	assert_int_equal(network(f, 2, FP_A_IMPOSTOR), -EPERM);
	assert_int_equal(anchor(f, 2)->nnetworks, 0);
	assert_int_equal(anchor(f, 1)->nnetworks, 1);
}

static void network_allowed(void **state)
{
	struct fx *f = *state;

	two_keys(f);
	/* an unknown network */
	assert_int_equal(network(f, 2, FP_B), 0);
	/* a key's own network again, and its look-alikes (a MAC change) */
	assert_int_equal(network(f, 1, FP_A), 0);
	assert_int_equal(network(f, 1, FP_A_MOVED), 0);
	assert_int_equal(network(f, 1, FP_A_IMPOSTOR), 0);
	assert_int_equal(anchor(f, 1)->nnetworks, 3);
	/* a pending key on a known network: kept for an operator's approve */
	assert_int_equal(pin(f, "resolver-name.arpa.", 3, TRUST_STATE_PENDING), 0);
	assert_int_equal(network(f, 3, FP_A), 0);
	assert_int_equal(anchor(f, 3)->state, TRUST_STATE_PENDING);
}

static void network_bad(void **state)
{
	struct fx *f = *state;

	assert_int_equal(network(f, 9, FP_A), -ENOENT); /* no such anchor */
	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(network(f, 1, " leading blank"), -EINVAL);
	assert_int_equal(network(f, 1, "a\x01" "b"), -EINVAL);
}

static int learn(struct fx *f, uint8_t fill, const char *name, const char *addr, uint8_t tlsa)
{
	struct ds_pmsg_learn *l = &f->m.u.learn;

	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_LEARN;
	id_of(&l->anchor, fill);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->type = DS_SERVER_RESOLVER;
	l->naddr = 1;
	snprintf(l->addr[0], sizeof(l->addr[0]), "%s", addr);
	l->ntlsa = 1;
	l->tlsa[0].usage = 3;
	l->tlsa[0].selector = 1;
	l->tlsa[0].mtype = 1;
	l->tlsa[0].len = 32;
	memset(l->tlsa[0].data, tlsa, 32);
	return apply(f, T0 + 20);
}

static void learn_noted(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(learn(f, 1, "abcd1234efgh.zz.", "192.0.2.53", 0xaa), 0);
	assert_non_null(strstr(f->note, "abcd1234efgh.zz. under key tag"));
	assert_non_null(strstr(f->note, "recorded"));
	assert_int_equal(learn(f, 1, "abcd1234efgh.zz.", "192.0.2.53", 0xaa), 0);
	assert_string_equal(f->note, "");
	assert_int_equal(learn(f, 1, "abcd1234efgh.zz.", "192.0.2.53", 0xbb), 0);
	assert_non_null(strstr(f->note, "changed"));
	assert_int_equal(anchor(f, 1)->resolvers[0].refreshed, T0 + 20);
	/* the form is checked again */
	assert_true(learn(f, 1, "ABCD1234efgh.zz.", "192.0.2.53", 0xaa) < 0);
	assert_true(learn(f, 1, "abcd1234efgh.zz.", "192.0.2.300", 0xaa) < 0);
	assert_int_equal(learn(f, 7, "abcd1234efgh.zz.", "192.0.2.53", 0xaa), -ENOENT);
}

static int observe(struct fx *f, time_t now)
{
	struct trust_dnskey k1 = key(1), k2 = key(2);
	struct ds_pmsg_rfc5011 *o = &f->m.u.rfc5011;

	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_RFC5011;
	snprintf(o->zone, sizeof(o->zone), "resolver-name.arpa.");
	o->orig_ttl = 10;
	o->nkeys = 2;
	ds_pmsg_key_put(&o->keys[0], &k1);
	ds_pmsg_key_put(&o->keys[1], &k2);
	o->signer[0] = 1;
	return apply(f, now);
}

static void rfc5011_on_the_store_clock(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pin(f, "resolver-name.arpa.", 1, TRUST_STATE_TRUSTED), 0);
	assert_int_equal(observe(f, T0 + 100), 0);
	assert_non_null(strstr(f->note, "new key in hold-down"));
	assert_int_equal(anchor(f, 2)->state, TRUST_STATE_ADD_PENDING);
	assert_int_equal(anchor(f, 2)->add_pending_since, T0 + 100);
	assert_int_equal(observe(f, T0 + 100 + HOLD - 1), 0);
	assert_int_equal(anchor(f, 2)->state, TRUST_STATE_ADD_PENDING);
	assert_int_equal(observe(f, T0 + 100 + HOLD), 0);
	assert_non_null(strstr(f->note, "new key now trusted"));
	assert_int_equal(anchor(f, 2)->state, TRUST_STATE_TRUSTED);
}

static int dpin_msg(struct fx *f, const char *fp, uint8_t source, const char *adn,
		    uint8_t fill, time_t now, uint8_t replace)
{
	struct ds_pmsg_dpin *d = &f->m.u.dpin;

	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_DPIN;
	snprintf(d->fp, sizeof(d->fp), "%s", fp);
	snprintf(d->adn, sizeof(d->adn), "%s", adn);
	d->source = source;
	memset(d->spki, fill, sizeof(d->spki));
	d->replace = replace;
	return apply(f, now);
}

static int dpin(struct fx *f, const char *fp, uint8_t source, const char *adn, uint8_t fill,
		time_t now)
{
	return dpin_msg(f, fp, source, adn, fill, now, 0);
}

static int dpin_replace(struct fx *f, const char *fp, uint8_t source, const char *adn,
			uint8_t fill, time_t now)
{
	return dpin_msg(f, fp, source, adn, fill, now, 1);
}

static void dpin_first_use(void **state)
{
	struct fx *f = *state;
	const struct trust_dpin *p;

	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0), 0);
	assert_non_null(strstr(f->note, "ddr resolver dns.example.test key sha256 aaaa"));
	assert_non_null(strstr(f->note, "pinned for network"));
	p = trust_store_find_dpin(f->s, FP_A);
	assert_non_null(p);
	assert_int_equal(p->source, TRUST_DPIN_DDR);
	assert_string_equal(p->adn, "dns.example.test.");
	assert_int_equal(p->first_seen, T0); /* the store process's clock */
	/* the same key again: only last seen moves, nothing worth a line */
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0 + 50), 0);
	assert_string_equal(f->note, "");
	p = trust_store_find_dpin(f->s, FP_A);
	assert_int_equal(p->first_seen, T0);
	assert_int_equal(p->last_seen, T0 + 50);
	/* another network has its own pin; DNR is a source too */
	assert_int_equal(dpin(f, FP_B, TRUST_DPIN_DNR, "dns.example.test.", 0xbb, T0), 0);
	assert_int_equal(trust_store_dpin_count(f->s), 2);
	assert_int_equal(trust_store_find_dpin(f->s, FP_B)->source, TRUST_DPIN_DNR);
}

static void dpin_never_replaced(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0), 0);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xbb, T0 + 1), -EEXIST);
	assert_non_null(strstr(f->why, "has another designated resolver's key pinned"));
	assert_string_equal(f->note, "");
	/* nor by another source or name */
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DNR, "evil.example", 0xcc, T0 + 1), -EEXIST);
	assert_int_equal(trust_store_dpin_count(f->s), 1);
	assert_int_equal(trust_store_find_dpin(f->s, FP_A)->spki[0], 0xaa);
}

/* A renewed certificate's key replaces the pin of the same name only. */
static void dpin_replaced(void **state)
{
	struct fx *f = *state;
	const struct trust_dpin *p;

	/* nothing pinned there: nothing to replace */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xbb, T0),
			 -ENOENT);
	assert_non_null(strstr(f->why, "no designated resolver's key pinned"));
	assert_int_equal(trust_store_dpin_count(f->s), 0);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0), 0);
	/* another name: refused, the pin stays */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "evil.example", 0xcc, T0 + 1),
			 -EPERM);
	assert_non_null(strstr(f->why, "another designated resolver's key pinned"));
	assert_string_equal(f->note, "");
	assert_int_equal(trust_store_find_dpin(f->s, FP_A)->spki[0], 0xaa);
	/* malformed as a DPIN would be */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0, T0 + 1),
			 -EINVAL);
	assert_int_equal(dpin_replace(f, FP_A, 2, "dns.example.test", 0xbb, T0 + 1), -EINVAL);
	assert_int_equal(trust_store_find_dpin(f->s, FP_A)->spki[0], 0xaa);
	/* the same name: replaced on the store process's clock, first seen kept */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test.", 0xbb, T0 + 100),
			 0);
	assert_non_null(strstr(f->note, "ddr resolver dns.example.test. has a new key sha256 bbbb"));
	assert_non_null(strstr(f->note, "replacing aaaa"));
	p = trust_store_find_dpin(f->s, FP_A);
	assert_int_equal(p->spki[0], 0xbb);
	assert_int_equal(p->first_seen, T0);
	assert_int_equal(p->last_seen, T0 + 100);
	assert_int_equal(p->key_changed, T0 + 100);
	assert_int_equal(trust_store_dpin_count(f->s), 1);
	/* the same key again: nothing worth a line, the change date stays */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xbb, T0 + 200),
			 0);
	assert_string_equal(f->note, "");
	p = trust_store_find_dpin(f->s, FP_A);
	assert_int_equal(p->key_changed, T0 + 100);
	assert_int_equal(p->last_seen, T0 + 200);
	/* a clock set back: the change is never dated before the pin (the
	 * file must read back) */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xcc, T0 - 500),
			 0);
	p = trust_store_find_dpin(f->s, FP_A);
	assert_int_equal(p->spki[0], 0xcc);
	assert_int_equal(p->key_changed, T0);
	assert_int_equal(p->first_seen, T0);
	assert_int_equal(p->last_seen, T0 + 200);
	/* a first-use DPIN still never replaces it */
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0 + 300), -EEXIST);
	/* a replace flag other than 0 or 1 is a protocol violation */
	{
		struct ds_pmsg_dpin b = f->m.u.dpin;
		struct ds_pmsg m;
		char why[256];
		int sv[2];

		assert_int_equal(ds_pmsg_pair(sv), 0);
		b.replace = 2;
		assert_int_equal(ds_pmsg_send(sv[0], DS_PMSG_DPIN, &b, sizeof(b), -1), 0);
		assert_int_equal(ds_pmsg_recv(sv[1], DS_PMSG_TO_STORE, &m, why, sizeof(why)),
				 -EBADMSG);
		assert_non_null(strstr(why, "DPIN: a field out of range"));
		b.replace = 1;
		assert_int_equal(ds_pmsg_send(sv[0], DS_PMSG_DPIN, &b, sizeof(b), -1), 0);
		assert_int_equal(ds_pmsg_recv(sv[1], DS_PMSG_TO_STORE, &m, why, sizeof(why)), 1);
		close(sv[0]);
		close(sv[1]);
	}
}

static void dpin_bad(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dpin(f, "", TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0), -EINVAL);
	assert_int_equal(dpin(f, " leading blank", TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0),
			 -EINVAL);
	assert_int_equal(dpin(f, "a\x01" "b", TRUST_DPIN_DDR, "dns.example.test", 0xaa, T0),
			 -EINVAL);
	assert_int_equal(dpin(f, FP_A, 2, "dns.example.test", 0xaa, T0), -EINVAL);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "not a name!", 0xaa, T0), -EINVAL);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "", 0xaa, T0), -EINVAL);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0, T0), -EINVAL);
	assert_int_equal(trust_store_dpin_count(f->s), 0);
}

/* The store process's answer (STORE) carries the pins: written and read. */
static void dpin_round_trip(void **state)
{
	struct fx *f = *state;
	struct trust_store *copy = trust_store_new_memory(0);
	const struct trust_dpin *p;
	char *text = NULL, msg[256];
	size_t len = 0;
	unsigned line = 0;

	assert_non_null(copy);
	assert_int_equal(dpin(f, FP_A, TRUST_DPIN_DNR, "dns.example.test", 0xaa, T0), 0);
	assert_int_equal(trust_store_format(f->s, &text, &len), 0);
	assert_non_null(strstr(text, "dotstub-trust 2\n"));
	assert_non_null(strstr(text, "\ndesignated dnr aaaa"));
	assert_int_equal(trust_store_parse(copy, text, len, &line, msg, sizeof(msg)), 0);
	p = trust_store_find_dpin(copy, FP_A);
	assert_non_null(p);
	assert_int_equal(p->source, TRUST_DPIN_DNR);
	assert_int_equal(p->first_seen, T0);
	assert_memory_equal(p->spki, trust_store_find_dpin(f->s, FP_A)->spki, TRUST_SHA256_LEN);
	/* two keys for one network is a broken file */
	free(text);
	text = malloc(2048);
	assert_non_null(text);
	len = (size_t)snprintf(text, 2048,
			       "dotstub-trust 2\n"
			       "designated ddr %064d dns.example.test. 2026-01-01T00:00:00Z "
			       "2026-01-01T00:00:00Z %s\n"
			       "designated ddr %064d dns.example.test. 2026-01-01T00:00:00Z "
			       "2026-01-01T00:00:00Z %s\n",
			       1, FP_A, 2, FP_A);
	assert_int_equal(trust_store_parse(copy, text, len, &line, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "two keys for one network"));
	free(text);
	/* a replaced key: version 3, the change date kept */
	assert_int_equal(dpin_replace(f, FP_A, TRUST_DPIN_DDR, "dns.example.test", 0xbb, T0 + 60),
			 0);
	assert_int_equal(dpin(f, FP_B, TRUST_DPIN_DDR, "dns.example.test", 0xcc, T0), 0);
	assert_int_equal(trust_store_format(f->s, &text, &len), 0);
	assert_non_null(strstr(text, "dotstub-trust 3\n"));
	assert_non_null(strstr(text, " 2026-01-01T00:01:00Z 2026-01-01T00:01:00Z res="));
	assert_non_null(strstr(text, " 2026-01-01T00:00:00Z - res="));
	assert_int_equal(trust_store_parse(copy, text, len, &line, msg, sizeof(msg)), 0);
	p = trust_store_find_dpin(copy, FP_A);
	assert_non_null(p);
	assert_int_equal(p->first_seen, T0);
	assert_int_equal(p->key_changed, T0 + 60);
	assert_int_equal(p->spki[0], 0xbb);
	assert_int_equal(trust_store_find_dpin(copy, FP_B)->key_changed, 0);
	free(text);
	/* version 3 wants the field; a change outside first and last seen is
	 * a broken file */
	text = malloc(2048);
	assert_non_null(text);
	len = (size_t)snprintf(text, 2048,
			       "dotstub-trust 3\n"
			       "designated ddr %064d dns.example.test. 2026-01-01T00:00:00Z "
			       "2026-01-01T00:00:00Z %s\n",
			       1, FP_A);
	assert_int_equal(trust_store_parse(copy, text, len, &line, msg, sizeof(msg)), -EBADMSG);
	len = (size_t)snprintf(text, 2048,
			       "dotstub-trust 3\n"
			       "designated ddr %064d dns.example.test. 2026-01-01T00:00:00Z "
			       "2026-01-01T00:00:00Z 2026-02-01T00:00:00Z %s\n",
			       1, FP_A);
	assert_int_equal(trust_store_parse(copy, text, len, &line, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "key changed outside first and last seen"));
	free(text);
	trust_store_close(copy);
}

static void not_a_change(void **state)
{
	struct fx *f = *state;

	memset(&f->m, 0, sizeof(f->m));
	f->m.hdr.type = DS_PMSG_COMMIT;
	assert_int_equal(apply(f, T0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pin_new_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_trusted_needs_tofu_auto, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_never_approves, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_revoked_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_other_zone_or_state, setup, teardown),
		cmocka_unit_test_setup_teardown(network_known_under_another_key, setup, teardown),
		cmocka_unit_test_setup_teardown(network_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(network_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(learn_noted, setup, teardown),
		cmocka_unit_test_setup_teardown(rfc5011_on_the_store_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(dpin_first_use, setup, teardown),
		cmocka_unit_test_setup_teardown(dpin_never_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(dpin_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(dpin_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(dpin_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(not_a_change, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
