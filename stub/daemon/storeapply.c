/*
 * storeapply.c -- the store process applies a change the network process
 * asks for (privsep.h): every field is taken again through the trust
 * part's own checks, the store process's clock and configuration are
 * used, never the network process's, and the rules that keep a
 * compromised network process from trusting a key an operator did not
 * are applied on top:
 *
 *  - only resolver-name.arpa keys are pinned, as trusted or pending, and
 *    a key the store does not hold is pinned as trusted only with tofu
 *    auto (that is what first use does); a pin never approves a pending
 *    key and never brings back a revoked one;
 *  - a usable (trusted or managed) key is recorded on a network only if
 *    it has that network already, or no other key knows a network the
 *    policy would take for it (the same fingerprint, the same gateway
 *    MAC, or a known gateway address with another MAC): the pinned key of
 *    a known network is never replaced by another key, except by
 *    "dotctl trust approve" of one recorded there as pending;
 *  - RFC 5011 runs on the store process's clock and hold-down;
 *  - a designated resolver's key is pinned for a network (a fingerprint,
 *    source ddr or dnr, a canonical name, a key hash that is not all
 *    zero) only if that network has no other key pinned: a first-use pin
 *    never replaces another; only a replacement (DPIN with replace, which
 *    the network process sends when the designated resolver's new
 *    certificate verified under PKIX, as a verified designation's must)
 *    does, and only the key of a pin of that very name on that very
 *    network, keeping its first seen.  The store process cannot check
 *    the certificate itself (it parses nothing from the network): the
 *    name is what holds a replacement to the resolver first pinned there.
 */
#include "privsep.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/discovery.h"
#include "dotstub/hex.h"
#include "dotstub/netinfo.h"

static int refuse(char *why, size_t whylen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t whylen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return r;
}

static bool usable(const struct trust_anchor *a)
{
	return a->state == TRUST_STATE_TRUSTED || a->state == TRUST_STATE_MANAGED;
}

static const struct trust_anchor *find(const struct trust_store *s,
				       const struct ds_pmsg_anchor_id *id)
{
	for (size_t i = 0; i < trust_store_count(s); i++) {
		const struct trust_anchor *a = trust_store_anchor(s, i);

		if (!strcmp(a->zone, id->zone) &&
		    !memcmp(a->sha256, id->sha256, TRUST_SHA256_LEN))
			return a;
	}
	return NULL;
}

static int anchor_of(const struct trust_store *s, const struct ds_pmsg_anchor_id *id,
		     const struct trust_anchor **ret, char *why, size_t whylen)
{
	char hex[2 * TRUST_SHA256_LEN + 1];

	*ret = find(s, id);
	if (*ret)
		return 0;
	ds_hex_encode(id->sha256, 8, hex);
	return refuse(why, whylen, -ENOENT, "no anchor %s sha256 %.16s... in the store", id->zone,
		      hex);
}

/* The zone of a pin or an RFC 5011 observation: resolver-name.arpa. */
static int zone_ok(const char *zone, char *why, size_t whylen)
{
	char canon[TRUST_NAME_MAX + 1];

	if (trust_name_canonical(zone, canon) < 0 || strcmp(canon, zone) != 0 ||
	    strcmp(zone, DISC_ZONE) != 0)
		return refuse(why, whylen, -EPERM, "zone '%.64s' is not %s", zone, DISC_ZONE);
	return 0;
}

static int apply_pin(struct trust_store *s, const struct ds_config *cfg,
		     const struct ds_pmsg_pin *p, time_t now, char *note, size_t notelen,
		     char *why, size_t whylen)
{
	enum trust_state state = (enum trust_state)p->state;
	const struct trust_anchor *a = NULL;
	struct trust_dnskey k;
	int r;

	if ((r = zone_ok(p->zone, why, whylen)) < 0)
		return r;
	if (ds_pmsg_key_get(&p->key, &k) < 0)
		return refuse(why, whylen, -EINVAL, "PIN: bad key");
	if (state != TRUST_STATE_TRUSTED && state != TRUST_STATE_PENDING)
		return refuse(why, whylen, -EPERM, "PIN as %s: only trusted or pending",
			      trust_state_name(state));
	if (state == TRUST_STATE_TRUSTED && !trust_store_lookup(s, p->zone, &k) &&
	    cfg->tofu != TRUST_TOFU_AUTO)
		return refuse(why, whylen, -EPERM,
			      "a new key (tag %u) pinned as trusted, but tofu is %s: only \"dotctl "
			      "trust approve\" or import makes it trusted",
			      trust_dnskey_tag(&k), trust_tofu_name(cfg->tofu));
	r = trust_store_pin(s, p->zone, &k, state, now, &a);
	if (r < 0)
		return refuse(why, whylen, r, "PIN of key tag %u: %s", trust_dnskey_tag(&k),
			      r == -EKEYREVOKED ? "the key is revoked" : strerror(-r));
	if (r == 1)
		snprintf(note, notelen, "pinned %s key tag %u alg %u as %s", a->zone, a->tag,
			 a->key.algorithm, trust_state_name(a->state));
	return 0;
}

/* Would the policy take fp and known for the same network?  (The network
 * manager's test of a known network: netmgr_trust.c.) */
static bool same_network(const char *fp, const struct ds_netfp *cur, bool have_cur,
			 const char *known_text)
{
	struct ds_netfp known;
	struct ds_netfp_cmp cmp;

	if (!strcmp(fp, known_text))
		return true;
	if (!have_cur || ds_netfp_parse(known_text, &known) < 0)
		return false;
	ds_netfp_match(cur, &known, &cmp);
	return (cmp.flags & DS_NETFP_CMP_IMPOSTOR) ||
	       (cmp.verdict == DS_NETFP_PARTIAL &&
		(cmp.agree & (DS_NETFP_P_V4GWMAC | DS_NETFP_P_V6GWMAC)));
}

/* The first other anchor that knows fp's network, or NULL. */
static const struct trust_anchor *known_elsewhere(const struct trust_store *s,
						  const struct trust_anchor *a, const char *fp)
{
	struct ds_netfp cur;
	bool have_cur = ds_netfp_parse(fp, &cur) == 0;

	for (size_t i = 0; i < trust_store_count(s); i++) {
		const struct trust_anchor *b = trust_store_anchor(s, i);

		if (b == a)
			continue;
		for (size_t k = 0; k < b->nnetworks; k++)
			if (same_network(fp, &cur, have_cur, b->networks[k].fp))
				return b;
	}
	return NULL;
}

static bool has_network(const struct trust_anchor *a, const char *fp)
{
	for (size_t k = 0; k < a->nnetworks; k++)
		if (!strcmp(a->networks[k].fp, fp))
			return true;
	return false;
}

static int apply_network(struct trust_store *s, const struct ds_pmsg_network *n, time_t now,
			 char *why, size_t whylen)
{
	const struct trust_anchor *a, *b;
	int r;

	if ((r = anchor_of(s, &n->anchor, &a, why, whylen)) < 0)
		return r;
	if (usable(a) && !has_network(a, n->fp) && (b = known_elsewhere(s, a, n->fp)))
		return refuse(why, whylen, -EPERM,
			      "key tag %u (%s) on a network known under key tag %u: refused; only "
			      "\"dotctl trust approve\" of a key kept pending there adopts another "
			      "key",
			      a->tag, trust_state_name(a->state), b->tag);
	r = trust_store_seen_network(s, a, n->fp, now); /* checks the text */
	if (r < 0)
		return refuse(why, whylen, r, "NETWORK: %s", strerror(-r));
	return 0;
}

static bool same_resolver(const struct trust_resolver *x, const struct trust_resolver *y)
{
	if (x->type != y->type || x->naddr != y->naddr || x->ntlsa != y->ntlsa)
		return false;
	for (size_t i = 0; i < x->naddr; i++)
		if (strcmp(x->addr[i], y->addr[i]) != 0)
			return false;
	for (size_t i = 0; i < x->ntlsa; i++)
		if (x->tlsa[i].usage != y->tlsa[i].usage || x->tlsa[i].selector != y->tlsa[i].selector ||
		    x->tlsa[i].mtype != y->tlsa[i].mtype || x->tlsa[i].len != y->tlsa[i].len ||
		    memcmp(x->tlsa[i].data, y->tlsa[i].data, x->tlsa[i].len) != 0)
			return false;
	return true;
}

static int resolver_of(const struct ds_pmsg_learn *l, struct trust_resolver *r)
{
	int ret;

	trust_resolver_init(r);
	ret = trust_resolver_set_name(r, l->name);
	if (ret == 0 && strcmp(r->name, l->name) != 0)
		ret = -EINVAL; /* not canonical */
	r->type = (enum ds_server_type)l->type;
	for (size_t i = 0; i < l->naddr && ret == 0; i++)
		ret = trust_resolver_add_addr(r, l->addr[i]);
	for (size_t i = 0; i < l->ntlsa && ret == 0; i++) {
		struct ds_tlsa t = { l->tlsa[i].usage, l->tlsa[i].selector, l->tlsa[i].mtype,
				     l->tlsa[i].len, (uint8_t *)l->tlsa[i].data };

		ret = trust_resolver_add_tlsa(r, &t);
	}
	if (ret < 0)
		trust_resolver_clear(r);
	return ret;
}

static int apply_learn(struct trust_store *s, const struct ds_pmsg_learn *l, time_t now,
		       char *note, size_t notelen, char *why, size_t whylen)
{
	const struct trust_anchor *a;
	const struct trust_resolver *have = NULL;
	struct trust_resolver r;
	bool changed;
	int ret;

	if ((ret = anchor_of(s, &l->anchor, &a, why, whylen)) < 0)
		return ret;
	ret = resolver_of(l, &r);
	if (ret < 0)
		return refuse(why, whylen, ret, "LEARN: resolver '%.64s': %s", l->name,
			      strerror(-ret));
	for (size_t i = 0; i < a->nresolvers; i++)
		if (!strcmp(a->resolvers[i].name, r.name))
			have = &a->resolvers[i];
	changed = !have || !same_resolver(have, &r);
	if (changed && usable(a))
		snprintf(note, notelen, "resolver %s under key tag %u: %s", r.name, a->tag,
			 have ? "addresses or TLSA changed" : "recorded");
	ret = trust_store_learn_resolver(s, a, &r, now);
	trust_resolver_clear(&r);
	if (ret < 0) {
		note[0] = '\0';
		return refuse(why, whylen, ret, "LEARN: %s", strerror(-ret));
	}
	return 0;
}

static int apply_rfc5011(struct trust_store *s, const struct ds_config *cfg,
			 const struct ds_pmsg_rfc5011 *o, time_t now, char *note, size_t notelen,
			 char *why, size_t whylen)
{
	struct trust_dnskey keys[DS_PMSG_5011_KEYS];
	bool signer[DS_PMSG_5011_KEYS];
	struct trust_5011_obs obs = { keys, signer, o->nkeys, o->orig_ttl, now };
	unsigned changes = 0;
	int r;

	if ((r = zone_ok(o->zone, why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < o->nkeys; i++) {
		if (ds_pmsg_key_get(&o->keys[i], &keys[i]) < 0)
			return refuse(why, whylen, -EINVAL, "RFC5011: bad key %zu", i);
		signer[i] = o->signer[i] != 0;
	}
	r = trust_store_rfc5011(s, o->zone, &obs, cfg->rfc5011_hold_down_s, &changes);
	if (r < 0 && r != -EPERM)
		return refuse(why, whylen, r, "RFC5011: %s", strerror(-r));
	if (changes & (TRUST_5011_ADDED | TRUST_5011_PROMOTED | TRUST_5011_REVOKED |
		       TRUST_5011_REMOVED))
		snprintf(note, notelen, "resolver-name.arpa key rollover (RFC 5011):%s%s%s%s",
			 changes & TRUST_5011_ADDED ? " new key in hold-down" : "",
			 changes & TRUST_5011_PROMOTED ? " new key now trusted" : "",
			 changes & TRUST_5011_REVOKED ? " a key was revoked" : "",
			 changes & TRUST_5011_REMOVED ? " a pending key vanished" : "");
	return 0;
}

/* DPIN with replace: a new key for a pin of the same name. */
static int apply_dpin_replace(struct trust_store *s, const struct ds_pmsg_dpin *m, time_t now,
			      char *note, size_t notelen, char *why, size_t whylen)
{
	char hex[2 * TRUST_SHA256_LEN + 1], old[2 * TRUST_SHA256_LEN + 1] = "";
	const struct trust_dpin *p = trust_store_find_dpin(s, m->fp);
	int r;

	ds_hex_encode(m->spki, TRUST_SHA256_LEN, hex);
	if (p)
		ds_hex_encode(p->spki, TRUST_SHA256_LEN, old);
	r = trust_store_replace_designated(s, m->fp, (enum trust_dpin_source)m->source, m->adn,
					   m->spki, now, NULL);
	if (r == -ENOENT || r == -EPERM)
		return refuse(why, whylen, r,
			      "DPIN replace: network %.64s has %s; %s key sha256 %.16s... of %.64s "
			      "not pinned",
			      m->fp, r == -ENOENT ? "no designated resolver's key pinned"
						  : "another designated resolver's key pinned",
			      trust_dpin_source_name(m->source), hex, m->adn);
	if (r < 0)
		return refuse(why, whylen, r, "DPIN replace: %s",
			      r == -EINVAL ? "a bad fingerprint, name or key" : strerror(-r));
	if (r == 1)
		snprintf(note, notelen, "%s resolver %s has a new key sha256 %.16s... (verified by "
			 "its certificate), replacing %.16s... pinned for network %.64s",
			 trust_dpin_source_name(m->source), m->adn, hex, old, m->fp);
	return 0;
}

static int apply_dpin(struct trust_store *s, const struct ds_pmsg_dpin *m, time_t now,
		      char *note, size_t notelen, char *why, size_t whylen)
{
	char hex[2 * TRUST_SHA256_LEN + 1];
	int r;

	if (m->source > TRUST_DPIN_DNR)
		return refuse(why, whylen, -EINVAL, "DPIN: source %u", m->source);
	if (m->replace)
		return apply_dpin_replace(s, m, now, note, notelen, why, whylen);
	ds_hex_encode(m->spki, TRUST_SHA256_LEN, hex);
	r = trust_store_pin_designated(s, m->fp, (enum trust_dpin_source)m->source, m->adn,
				       m->spki, now, NULL);
	if (r == -EEXIST)
		return refuse(why, whylen, r,
			      "DPIN: network %.64s has another designated resolver's key pinned; "
			      "%s key sha256 %.16s... not pinned",
			      m->fp, trust_dpin_source_name(m->source), hex);
	if (r < 0)
		return refuse(why, whylen, r, "DPIN: %s",
			      r == -EINVAL ? "a bad fingerprint, name or key" : strerror(-r));
	if (r == 1)
		snprintf(note, notelen, "%s resolver %s key sha256 %.16s... pinned for network %.64s",
			 trust_dpin_source_name(m->source), m->adn, hex, m->fp);
	return 0;
}

int ds_storeapply(struct trust_store *s, const struct ds_config *cfg, const struct ds_pmsg *m,
		  time_t now, char *note, size_t notelen, char *why, size_t whylen)
{
	const struct trust_anchor *a;
	int r;

	note[0] = why[0] = '\0';
	switch (m->hdr.type) {
	case DS_PMSG_PIN:
		return apply_pin(s, cfg, &m->u.pin, now, note, notelen, why, whylen);
	case DS_PMSG_TOUCH:
		if ((r = anchor_of(s, &m->u.touch.anchor, &a, why, whylen)) < 0)
			return r;
		return trust_store_touch(s, a, now);
	case DS_PMSG_NETWORK:
		return apply_network(s, &m->u.network, now, why, whylen);
	case DS_PMSG_LEARN:
		return apply_learn(s, &m->u.learn, now, note, notelen, why, whylen);
	case DS_PMSG_RFC5011:
		return apply_rfc5011(s, cfg, &m->u.rfc5011, now, note, notelen, why, whylen);
	case DS_PMSG_DPIN:
		return apply_dpin(s, &m->u.dpin, now, note, notelen, why, whylen);
	}
	return refuse(why, whylen, -EINVAL, "%s is not a change of the store",
		      ds_pmsg_name(m->hdr.type));
}
