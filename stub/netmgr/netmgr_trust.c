/*
 * netmgr_trust.c -- the network manager and the trust store: which stored
 * anchors apply to this network, recording what discovery found in the
 * store, pinning only once DANE authenticated the
 * resolver (PROTOCOL.md step 7), and RFC 5011 observations.
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/hex.h"
#include "dotstub/sockaddr.h"
#include "dotstub/log.h"

static bool anchor_usable(const struct trust_anchor *a)
{
	return a->state == TRUST_STATE_TRUSTED || a->state == TRUST_STATE_MANAGED;
}

int nm_desc_from_resolver(const struct trust_resolver *r, struct ds_upstream_desc *d)
{
	size_t n = strlen(r->name);

	memset(d, 0, sizeof(*d));
	if (n < 2 || n > DNS_NAME_MAX)
		return -EINVAL;
	memcpy(d->name, r->name, n - 1); /* without the trailing dot */
	d->type = r->type;
	for (size_t i = 0; i < r->naddr && d->naddr < DS_MAX_UPSTREAM_ADDRS; i++)
		if (ds_parse_sockaddr(r->addr[i], DS_DOT_PORT, &d->addr[d->naddr]) == 0)
			d->naddr++;
	for (size_t i = 0; i < r->ntlsa; i++)
		if (ds_upstream_desc_add_tlsa(d, &r->tlsa[i]) < 0)
			break;
	if (d->naddr == 0 || ds_upstream_desc_usable_tlsa(d) == 0) {
		ds_upstream_desc_clear(d);
		return -ENOENT;
	}
	return 0;
}

/* The store's record of d.  Returns 0, or the first error of the trust
 * part (-EINVAL, -E2BIG, -ENOMEM): then r is cleared and nothing of d is
 * to be recorded. */
static int resolver_from_desc(const struct ds_upstream_desc *d, struct trust_resolver *r)
{
	int ret;

	trust_resolver_init(r);
	ret = trust_resolver_set_name(r, d->name);
	if (ret < 0)
		return ret;
	r->type = d->type;
	for (int i = 0; i < d->naddr; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &d->addr[i];
		const void *p = ss->ss_family == AF_INET6
					? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
					: (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

		if (!inet_ntop(ss->ss_family, p, a, sizeof(a))) {
			ret = -EINVAL;
			goto fail;
		}
		ret = trust_resolver_add_addr(r, a);
		if (ret < 0)
			goto fail;
	}
	for (int i = 0; i < d->ntlsa; i++) {
		ret = trust_resolver_add_tlsa(r, &d->tlsa[i]);
		if (ret < 0)
			goto fail;
	}
	return 0;
fail:
	trust_resolver_clear(r);
	return ret;
}

void nm_store_save(struct ds_netmgr *nm)
{
	int r = trust_store_save(nm->store);

	if (r < 0)
		log_err("trust store in %s not saved: %s; the pins of this run live in memory only",
			nm->d->cfg->state_dir, strerror(-r));
}

void nm_remember_anchor(struct ds_netmgr *nm, const struct trust_anchor *a)
{
	memcpy(nm->anchor_sha, a->sha256, sizeof(nm->anchor_sha));
	nm->anchor_tag = a->tag;
	nm->anchor_alg = a->key.algorithm;
	nm->anchor_since = a->first_seen;
	nm->have_anchor = true;
}

/* Record what we learned under anchor a on this network. */
void nm_learn(struct ds_netmgr *nm, const struct trust_anchor *a,
		  const struct ds_upstream_desc *desc)
{
	struct trust_resolver r;
	time_t now = ds_wall_now();
	int ret;

	trust_store_touch(nm->store, a, now);
	if (desc) {
		ret = resolver_from_desc(desc, &r);
		if (ret < 0)
			log_warn("trust store: cannot record resolver %s (%s), ignoring it",
				 desc->name, strerror(-ret));
		else {
			if (trust_store_learn_resolver(nm->store, a, &r, now) < 0)
				log_warn("trust store: cannot record resolver %s, ignoring",
					 desc->name);
			trust_resolver_clear(&r);
		}
	}
	if (nm->have_fp && trust_store_seen_network(nm->store, a, nm->fp_text, now) < 0)
		log_warn("trust store: cannot record network %s, ignoring", nm->fp_id);
}

/* Does a stored network match ours?  Exact matches of usable anchors with
 * resolver data give DoT at once; an impostor (same gateway address, other
 * MAC) or exact match makes the network "known" for the policy. */
const struct trust_anchor *nm_known_network_anchor(struct ds_netmgr *nm,
						       const struct trust_resolver **ret_r)
{
	const struct trust_anchor *best = NULL;
	const struct trust_resolver *best_r = NULL;
	bool impostor = false, partial = false;
	time_t best_seen = 0;

	bool exact = false;

	nm->match = TRUST_MATCH_NONE;
	if (!nm->have_fp)
		return NULL;
	for (size_t i = 0; i < trust_store_count(nm->store); i++) {
		const struct trust_anchor *a = trust_store_anchor(nm->store, i);

		for (size_t k = 0; k < a->nnetworks; k++) {
			struct ds_netfp known;
			struct ds_netfp_cmp cmp;

			if (!strcmp(a->networks[k].fp, nm->fp_text)) {
				exact = true;
				if (!anchor_usable(a))
					continue;
				/* the anchor seen here most recently: after a
				 * re-keying was approved, the new one */
				for (size_t r = 0; r < a->nresolvers; r++) {
					if (a->resolvers[r].naddr == 0 || a->resolvers[r].ntlsa == 0)
						continue;
					if (!best || a->networks[k].last_seen > best_seen) {
						best = a;
						best_r = &a->resolvers[r];
						best_seen = a->networks[k].last_seen;
					}
				}
				continue;
			}
			if (ds_netfp_parse(a->networks[k].fp, &known) < 0)
				continue;
			ds_netfp_match(&nm->fp, &known, &cmp);
			if (cmp.flags & DS_NETFP_CMP_IMPOSTOR)
				impostor = true;
			else if (cmp.verdict == DS_NETFP_PARTIAL &&
				 (cmp.agree & (DS_NETFP_P_V4GWMAC | DS_NETFP_P_V6GWMAC)))
				partial = true;
		}
	}
	nm->match = exact      ? TRUST_MATCH_EXACT
		    : impostor ? TRUST_MATCH_IMPOSTOR
		    : partial  ? TRUST_MATCH_PARTIAL
			       : TRUST_MATCH_NONE;
	*ret_r = best_r;
	return best;
}

/* The anchors to walk with: those of the known network if it is known,
 * else every usable anchor (prefer known over unknown). */
int nm_collect_anchors(struct ds_netmgr *nm, struct trust_dnskey *out, int cap)
{
	struct trust_candidate cand[DISC_MAX_ANCHORS];
	const struct trust_anchor *pick[DISC_MAX_ANCHORS];
	int n = 0;

	for (size_t i = 0; i < trust_store_count(nm->store) && n < cap; i++) {
		const struct trust_anchor *a = trust_store_anchor(nm->store, i);
		bool on_network = false;

		if (!anchor_usable(a))
			continue;
		for (size_t k = 0; k < a->nnetworks && nm->have_fp; k++) {
			struct ds_netfp known;
			struct ds_netfp_cmp cmp;

			if (ds_netfp_parse(a->networks[k].fp, &known) == 0) {
				ds_netfp_match(&nm->fp, &known, &cmp);
				if (cmp.verdict != DS_NETFP_NONE)
					on_network = true;
			}
		}
		if (nm->match != TRUST_MATCH_NONE && !on_network)
			continue;
		pick[n] = a;
		cand[n].observed = trust_observed_of(a);
		cand[n].first_seen = a->first_seen;
		memcpy(cand[n].sha256, a->sha256, TRUST_SHA256_LEN);
		n++;
	}
	/* best first: managed, trusted; older first (a simple insertion sort
	 * keeps pick[] and cand[] in step) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && trust_candidate_cmp(&cand[j], &cand[j - 1]) < 0; j--) {
			struct trust_candidate tc = cand[j];
			const struct trust_anchor *tp = pick[j];
			cand[j] = cand[j - 1];
			pick[j] = pick[j - 1];
			cand[j - 1] = tc;
			pick[j - 1] = tp;
		}
	for (int i = 0; i < n; i++)
		out[i] = pick[i]->key;
	return n;
}

void nm_commit_clear(struct ds_netmgr *nm)
{
	if (!nm->commit.active)
		return;
	ds_timer_disarm(nm->commit.ev);
	ds_upstream_desc_clear(&nm->commit.desc);
	nm->commit.active = false;
}

void nm_commit_prepare(struct ds_netmgr *nm, bool pin, const struct trust_dnskey *k,
			   const struct ds_upstream_desc *desc)
{
	nm_commit_clear(nm);
	memset(&nm->commit.desc, 0, sizeof(nm->commit.desc));
	if (ds_upstream_desc_copy(&nm->commit.desc, desc) < 0)
		return;
	nm->commit.pin = pin;
	nm->commit.key = *k;
	nm->commit.transparent = false;
	nm->commit.how[0] = '\0';
	/* a resolver that does not answer DoT within discovery-wait is not
	 * reachable from here: the policy decides what then */
	nm->commit.deadline_ms = ds_now_ms() + nm->d->cfg->discovery_wait_ms;
	nm->commit.active = true;
}

/* Look at the new upstream: pin and remember once DANE authenticated it
 * (NM_COMMIT_DONE), or say that its certificate does not match the
 * published TLSA (NM_COMMIT_DANE_FAILED; nothing pinned) or that it is not
 * there yet (NM_COMMIT_AGAIN: look again later). */
enum nm_commit nm_commit_check(struct ds_netmgr *nm)
{
	struct ds_upstream_status st;
	const struct trust_anchor *a = NULL;
	int r;

	if (!nm->commit.active || !nm->lane->up)
		return NM_COMMIT_DONE;
	ds_upstream_get_status(nm->lane->up, &st);
	if (st.fail_auth > 0) {
		log_err("ALERT network %s: %s serves a certificate that does not match its "
			"published TLSA (%s); nothing pinned or learned",
			nm->fp_id, nm->commit.desc.name, st.last_error);
		nm_commit_clear(nm);
		return NM_COMMIT_DANE_FAILED;
	}
	if (st.handshakes == 0) {
		if (ds_now_ms() < nm->commit.deadline_ms)
			return NM_COMMIT_AGAIN;
		log_warn("network %s: %s completed no DoT handshake within discovery-wait (%u ms%s%s); "
			 "nothing pinned",
			 nm->fp_id, nm->commit.desc.name, nm->d->cfg->discovery_wait_ms,
			 st.last_error[0] ? ": " : "", st.last_error);
		return NM_COMMIT_UNREACHABLE; /* the caller clears the commit */
	}
	if (nm->state == TRUST_POSTURE_DOT && nm->commit.how[0])
		nm_set_state(nm, TRUST_POSTURE_DOT, nm->commit.how);
	if (nm->commit.pin) {
		r = trust_store_pin(nm->store, DISC_ZONE, &nm->commit.key, TRUST_STATE_TRUSTED,
				    ds_wall_now(), &a);
		if (r < 0) {
			log_err("network %s: cannot pin the anchor: %s", nm->fp_id, strerror(-r));
			nm_commit_clear(nm);
			return NM_COMMIT_DONE;
		}
		log_notice("network %s: pinned resolver-name.arpa key tag %u alg %u as trusted "
			   "(first use, %s authenticated)",
			   nm->fp_id, a->tag, a->key.algorithm, nm->commit.desc.name);
	} else {
		a = trust_store_lookup(nm->store, DISC_ZONE, &nm->commit.key);
		for (size_t i = 0; i < trust_store_count(nm->store) && !a; i++) {
			const struct trust_anchor *c = trust_store_anchor(nm->store, i);
			if (trust_dnskey_equal(&c->key, &nm->commit.key))
				a = c;
		}
	}
	if (a) {
		nm_remember_anchor(nm, a);
		nm_learn(nm, a, &nm->commit.desc);
		nm_store_save(nm);
	}
	nm_commit_clear(nm);
	return NM_COMMIT_DONE;
}

void nm_observe_rollover(struct ds_netmgr *nm, const struct disc_result *res)
{
	struct trust_dnskey keys[DISC_MAX_KSK];
	bool signer[DISC_MAX_KSK];
	struct trust_5011_obs obs = { keys, signer, 0, res->dnskey_ttl ? res->dnskey_ttl : 900,
				      ds_wall_now() };
	unsigned changes = 0;
	int r;

	for (int i = 0; i < res->nksk; i++) {
		keys[i] = res->ksk[i].key;
		signer[i] = res->ksk[i].validates;
	}
	obs.nkeys = (size_t)res->nksk;
	r = trust_store_rfc5011(nm->store, DISC_ZONE, &obs, nm->d->cfg->rfc5011_hold_down_s,
				&changes);
	if (r < 0 && r != -EPERM)
		log_debug("rfc5011: %s", strerror(-r));
	if (changes & (TRUST_5011_ADDED | TRUST_5011_PROMOTED | TRUST_5011_REVOKED |
		       TRUST_5011_REMOVED)) {
		log_notice("network %s: resolver-name.arpa key rollover (RFC 5011):%s%s%s%s",
			   nm->fp_id, changes & TRUST_5011_ADDED ? " new key in hold-down" : "",
			   changes & TRUST_5011_PROMOTED ? " new key now trusted" : "",
			   changes & TRUST_5011_REVOKED ? " a key was revoked" : "",
			   changes & TRUST_5011_REMOVED ? " a pending key vanished" : "");
		nm_store_save(nm);
	}
}

/* Same IP address (the port is the resolver's 53 on one side, 853 on the
 * other)? */
static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

const struct trust_anchor *nm_pinned_at_address(struct ds_netmgr *nm,
						struct ds_upstream_desc *desc)
{
	for (size_t i = 0; i < trust_store_count(nm->store); i++) {
		const struct trust_anchor *a = trust_store_anchor(nm->store, i);

		if (!anchor_usable(a))
			continue;
		for (size_t r = 0; r < a->nresolvers; r++) {
			struct ds_upstream_desc d;

			if (nm_desc_from_resolver(&a->resolvers[r], &d) < 0)
				continue;
			for (int k = 0; k < d.naddr; k++)
				for (int j = 0; j < nm->nres; j++)
					if (same_ip(&d.addr[k], &nm->res[j])) {
						*desc = d;
						return a;
					}
			ds_upstream_desc_clear(&d);
		}
	}
	return NULL;
}
