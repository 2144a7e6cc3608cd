/*
 * netmgr_walk.c -- starting discovery walks and acting on their results:
 * the trust policy (use, pin on first use, pending, refuse, plain,
 * SERVFAIL), a forwarder's upstreams, and the periodic refresh of the
 * resolver's records over the DoT connection itself.
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

void nm_format_resolver(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";
	const void *p;
	unsigned port;

	if (ss->ss_family == AF_INET6) {
		p = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		p = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	inet_ntop(ss->ss_family, p, a, sizeof(a));
	snprintf(out, len, "%s@%u", a, port);
}

/* Our own listener, as a resolver address for a walk over our DoT. */
static void own_listener(struct ds_netmgr *nm, struct sockaddr_storage *ss)
{
	*ss = nm->d->cfg->listen[0];
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = in6addr_loopback;
	}
}

static int start_walk_at(struct ds_netmgr *nm, bool first_use, bool refresh)
{
	struct disc_params p;
	char res[DISC_MAX_RESOLVERS][DISC_ADDR_STR_MAX];
	int r;

	disc_params_init(&p);
	if (refresh) {
		struct sockaddr_storage self;
		own_listener(nm, &self);
		nm_format_resolver(&self, res[0], sizeof(res[0]));
		p.resolvers[p.nresolvers++] = res[0];
	}
	for (int i = 0; !refresh && i < nm->nres && i < DISC_MAX_RESOLVERS; i++) {
		nm_format_resolver(&nm->res[i], res[i], sizeof(res[i]));
		p.resolvers[p.nresolvers++] = res[i];
	}
	nm->job_nanchors = 0;
	if (!first_use) {
		r = nm_collect_anchors(nm, nm->job_anchor_keys, DISC_MAX_ANCHORS);
		if (r < 0)
			return r;
		nm->job_nanchors = r;
	}
	if (refresh && nm->job_nanchors == 0)
		return -ENOKEY;
	p.anchors = nm->job_nanchors ? nm->job_anchor_keys : NULL;
	p.nanchors = nm->job_nanchors;
	nm->job_first_use = nm->job_nanchors == 0;
	nm->job_refresh = refresh;
	r = ds_walkjob_start(nm->d->base, &p, nm_walk_done, nm, &nm->job);
	if (r < 0)
		return r;
	nm->walks++;
	if (refresh)
		log_info("network %s: refreshing the resolver's records over DoT", nm->fp_id);
	else
		log_info("network %s: discovering the resolver at %s (%s)", nm->fp_id, res[0],
			 nm->job_first_use ? "first use" : "with known anchors");
	return 0;
}

int nm_start_walk(struct ds_netmgr *nm, bool first_use)
{
	return start_walk_at(nm, first_use, false);
}

void nm_refresh_arm(struct ds_netmgr *nm, bool after_failure)
{
	unsigned s = nm->d->cfg->refresh_interval_s;
	struct timeval tv;

	if (!s) {
		time_t now = time(NULL);
		/* RFC 5011 2.3; the signature expiry is not known here: assume
		 * the provisioning default of 30 days */
		s = after_failure ? trust_5011_retry_interval(900, now + 30 * 86400, now)
				  : trust_5011_refresh_interval(900, now + 30 * 86400, now);
	}
	tv.tv_sec = s;
	tv.tv_usec = 0;
	evtimer_add(nm->refresh_ev, &tv);
}

void nm_refresh_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;

	if (nm->state != TRUST_POSTURE_DOT || nm->job)
		return;
	if (start_walk_at(nm, false, true) < 0)
		nm_refresh_arm(nm, true);
}

static bool tlsa_in(const struct ds_tlsa *t, const struct ds_upstream_desc *d)
{
	for (int i = 0; i < d->ntlsa; i++)
		if (d->tlsa[i].usage == t->usage && d->tlsa[i].selector == t->selector &&
		    d->tlsa[i].mtype == t->mtype && d->tlsa[i].len == t->len &&
		    memcmp(d->tlsa[i].data, t->data, t->len) == 0)
			return true;
	return false;
}

static bool addr_in(const struct sockaddr_storage *a, const struct ds_upstream_desc *d)
{
	char x[64], y[64];

	ds_sockaddr_format(a, x, sizeof(x));
	for (int i = 0; i < d->naddr; i++) {
		ds_sockaddr_format(&d->addr[i], y, sizeof(y));
		if (!strcmp(x, y))
			return true;
	}
	return false;
}

/* Same TLSA set and addresses, in any order (RRsets have none)? */
static bool desc_same(const struct ds_upstream_desc *a, const struct ds_upstream_desc *b)
{
	if (a->ntlsa != b->ntlsa || a->naddr != b->naddr)
		return false;
	for (int i = 0; i < a->ntlsa; i++)
		if (!tlsa_in(&a->tlsa[i], b))
			return false;
	for (int i = 0; i < a->naddr; i++)
		if (!addr_in(&a->addr[i], b))
			return false;
	return true;
}

/* A refresh walk over our own DoT ended: follow changed records, apply
 * RFC 5011, never tear down a working connection for a failed refresh. */
static void refresh_done(struct ds_netmgr *nm, struct disc_result *res)
{
	const struct trust_anchor *a = NULL;

	nm->refreshes++;
	snprintf(nm->last_refresh, sizeof(nm->last_refresh), "%s%s%s", disc_kind_str(res->kind),
		 res->reason[0] ? ": " : "", res->reason);
	if (res->kind != DISC_OK) {
		nm->refresh_failures++;
		log_warn("network %s: refresh over DoT failed (%s), keeping what is in use",
			 nm->fp_id, nm->last_refresh);
		nm_refresh_arm(nm, true);
		return;
	}
	nm_observe_rollover(nm, res);
	if (res->ksk_used >= 0)
		a = trust_store_lookup(nm->store, DISC_ZONE, &res->ksk[res->ksk_used].key);
	if (a) {
		nm_learn(nm, a, &res->desc);
		nm_store_save(nm);
	}
	if (nm->d->up && strcmp(res->desc.name, nm->upstream_name) == 0 &&
	    !desc_same(&res->desc, &nm->cur_desc)) {
		if (ds_upstream_update(nm->d->up, &res->desc) == 0) {
			log_notice("network %s: %s changed its TLSA or addresses; following them",
				   nm->fp_id, res->desc.name);
			ds_upstream_desc_clear(&nm->cur_desc);
			memset(&nm->cur_desc, 0, sizeof(nm->cur_desc));
			ds_upstream_desc_copy(&nm->cur_desc, &res->desc);
		} else {
			log_warn("network %s: the refreshed records of %s are unusable, ignoring",
				 nm->fp_id, res->desc.name);
		}
	}
	nm_refresh_arm(nm, false);
}

static enum trust_discovery discovery_of(enum disc_kind k)
{
	switch (k) {
	case DISC_OK: return TRUST_DISC_OK;
	case DISC_NOT_PUBLISHED: return TRUST_DISC_NOT_PUBLISHED;
	case DISC_UNREACHABLE: return TRUST_DISC_UNREACHABLE;
	case DISC_ANCHOR_MISMATCH: return TRUST_DISC_ANCHOR_MISMATCH;
	case DISC_BOGUS: return TRUST_DISC_BOGUS;
	case DISC_FAILED: return TRUST_DISC_FAILED;
	}
	return TRUST_DISC_FAILED;
}

/* Pin the anchor the walk found as pending (tofu ask, or a refused
 * change), so that "dotctl trust approve" can adopt it deliberately; it is
 * never used while pending.  Returns it, or NULL. */
static const struct trust_anchor *pin_pending(struct ds_netmgr *nm,
					      const struct trust_dnskey *k)
{
	const struct trust_anchor *a = NULL;
	int r;

	r = trust_store_pin(nm->store, DISC_ZONE, k, TRUST_STATE_PENDING, time(NULL), &a);
	if (r < 0) {
		log_err("network %s: cannot pin the anchor: %s", nm->fp_id, strerror(-r));
		return NULL;
	}
	return a;
}

/* The anchor in the store that is k (also a managed anchor of another zone
 * name), or NULL. */
static const struct trust_anchor *anchor_of(struct ds_netmgr *nm, const struct trust_dnskey *k)
{
	const struct trust_anchor *a;

	a = trust_store_lookup(nm->store, DISC_ZONE, k);
	for (size_t i = 0; i < trust_store_count(nm->store) && !a; i++) {
		const struct trust_anchor *c = trust_store_anchor(nm->store, i);
		if (trust_dnskey_equal(&c->key, k))
			a = c;
	}
	return a;
}

/* Carry out the policy's decision: the network manager decides nothing
 * itself.  res, ksk and use are the walk's result, the anchor it validated
 * and the description to serve (DISC_OK), or NULL. */
void nm_carry_out(struct ds_netmgr *nm, const struct trust_policy_input *in,
		  const struct disc_result *res, const struct trust_dnskey *ksk,
		  const struct ds_upstream_desc *use)
{
	struct trust_decision dec;
	const struct trust_anchor *a = NULL;
	char why[384];

	trust_policy_decide(in, &dec);
	snprintf(why, sizeof(why), "%s", dec.reason);
	if (dec.alert)
		log_err("ALERT network %s: %s%s%s", nm->fp_id, dec.reason,
			res && res->reason[0] ? ": " : "", res ? res->reason : "");
	nm->alert = dec.alert;

	switch (dec.action) {
	case TRUST_ACT_PIN_PENDING:
		if (!ksk || !res || !(a = pin_pending(nm, ksk))) {
			nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_OTHER,
					 "the anchor could not be pinned");
			return;
		}
		nm_remember_anchor(nm, a);
		nm_learn(nm, a, &res->desc);
		nm_store_save(nm);
		log_notice("network %s: resolver-name.arpa key tag %u alg %u of %s pinned as %s: "
			   "`dotctl trust approve %u` to use it",
			   nm->fp_id, a->tag, a->key.algorithm, res->desc.name,
			   trust_state_name(a->state), a->tag);
		break;
	case TRUST_ACT_PIN_AND_USE:
	case TRUST_ACT_USE:
		if (ksk && use) {
			nm_commit_prepare(nm, dec.action == TRUST_ACT_PIN_AND_USE, ksk, use);
			if ((a = anchor_of(nm, ksk)))
				nm_remember_anchor(nm, a);
		}
		break;
	case TRUST_ACT_REFUSE:
		if (dec.record_pending && res && res->nksk > 0 &&
		    (a = pin_pending(nm, &res->ksk[0].key))) {
			if (nm->have_fp)
				trust_store_seen_network(nm->store, a, nm->fp_text, time(NULL));
			nm_store_save(nm);
			log_err("ALERT network %s: the refused key (tag %u) is kept as pending; "
				"`dotctl trust approve %u` adopts it if the change is legitimate",
				nm->fp_id, a->tag, a->tag);
		}
		break;
	case TRUST_ACT_DISCOVER:
	case TRUST_ACT_DISCOVER_FIRST_USE:
		if (nm_start_walk(nm, dec.action == TRUST_ACT_DISCOVER_FIRST_USE) < 0) {
			struct trust_policy_input failed = *in;
			failed.discovery = TRUST_DISC_ERROR;
			nm_carry_out(nm, &failed, NULL, NULL, NULL);
			return;
		}
		break;
	case TRUST_ACT_USE_STORED:
	case TRUST_ACT_NONE:
	case TRUST_ACT_PLAIN:
	case TRUST_ACT_SERVFAIL:
		break;
	}
	if (dec.retry)
		nm_schedule_retry(nm);

	switch (dec.service) {
	case TRUST_SERVICE_DOT:
		if (!use) {
			nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_NETWORK_ERROR, why);
			return;
		}
		if (res)
			log_notice("network %s: resolver %s (%s) authenticated by resolver-name.arpa "
				   "key tag %u; DoT with DANE%s%s",
				   nm->fp_id, res->desc.name, ds_server_type_name(res->desc.type),
				   ksk ? trust_dnskey_tag(ksk) : nm->anchor_tag,
				   use != &res->desc ? ", directly to its upstream " : "",
				   use != &res->desc ? use->name : "");
		nm_serve_dot(nm, use,
			     dec.action == TRUST_ACT_USE_STORED ? why
			     : res && use != &res->desc
				     ? "the forwarder's upstream, authenticated by discovery"
				     : "authenticated by discovery");
		return;
	case TRUST_SERVICE_PLAIN:
		/* to the network's own announced resolver, nothing else */
		nm_serve_plain(nm, why);
		nm->state = dec.posture;
		return;
	case TRUST_SERVICE_SERVFAIL:
		nm_serve_nothing(nm, dec.posture, dec.ede, why);
		return;
	case TRUST_SERVICE_WAIT:
		nm_serve_wait(nm, dec.posture, dec.ede, why);
		return;
	}
}

/* The resolver itself, or -- for a forwarder, when policy allows -- an
 * upstream it names that publishes DoT with a TLSA (validated under N). */
static const struct ds_upstream_desc *choose_desc(struct ds_netmgr *nm,
						  const struct disc_result *res)
{
	nm->nupstreams = 0;
	for (int i = 0; i < res->nupstreams && i < DISC_MAX_UPSTREAMS; i++) {
		const struct disc_upstream *u = &res->upstreams[i];
		snprintf(nm->upstreams[nm->nupstreams++], sizeof(nm->upstreams[0]), "%s (%s, %s)",
			 u->desc.name, ds_server_type_name(u->desc.type),
			 disc_transport_str(u->transport));
	}
	if (res->desc.type != DS_SERVER_FORWARDER || !nm->d->cfg->prefer_upstream_resolver)
		return &res->desc;
	for (int i = 0; i < res->nupstreams; i++) {
		const struct disc_upstream *u = &res->upstreams[i];
		if (u->transport == DISC_TRANSPORT_DOT && u->desc.naddr > 0 &&
		    ds_upstream_desc_usable_tlsa(&u->desc) > 0)
			return &u->desc;
	}
	return &res->desc;
}

void nm_walk_done(void *arg, int rc, struct disc_result *res)
{
	struct ds_netmgr *nm = arg;
	struct trust_policy_input in;
	const struct trust_dnskey *ksk = NULL;
	const struct ds_upstream_desc *use = NULL;

	nm->job = NULL;
	if (nm->rerun || rc == -ECANCELED) {
		nm->rerun = false;
		if (res)
			disc_result_free(res);
		if (!evtimer_pending(nm->settle_ev, NULL))
			nm_decide(nm);
		return;
	}
	if (nm->job_refresh) {
		nm->job_refresh = false;
		if (rc < 0) {
			nm_refresh_arm(nm, true);
			return;
		}
		refresh_done(nm, res);
		disc_result_free(res);
		return;
	}
	if (rc < 0) {
		snprintf(nm->last_walk, sizeof(nm->last_walk), "error: %s", strerror(-rc));
		nm_policy_input(nm, TRUST_DISC_ERROR, &in);
		nm_carry_out(nm, &in, NULL, NULL, NULL);
		return;
	}
	snprintf(nm->last_walk, sizeof(nm->last_walk), "%s%s%s", disc_kind_str(res->kind),
		 res->reason[0] ? ": " : "", res->reason);
	log_info("network %s: discovery: %s", nm->fp_id, nm->last_walk);

	nm_policy_input(nm, discovery_of(res->kind), &in);
	in.first_use = nm->job_first_use;
	if (res->kind == DISC_OK || res->kind == DISC_NOT_PUBLISHED)
		nm->retry_ms = 0;
	if (res->kind == DISC_OK) {
		if (res->ksk_used >= 0)
			ksk = &res->ksk[res->ksk_used].key;
		if (!nm->job_first_use && res->anchor_matched >= 0) {
			in.observed = TRUST_OBS_TRUSTED;
			nm_observe_rollover(nm, res);
		} else if (ksk) {
			in.observed = trust_observed_of(trust_store_lookup(nm->store, DISC_ZONE, ksk));
		}
		use = choose_desc(nm, res);
	} else if (res->kind == DISC_BOGUS || res->kind == DISC_FAILED) {
		if (nm->match == TRUST_MATCH_NONE && nm->job_first_use)
			log_warn("network %s: resolver-name.arpa is broken (%s); treating the "
				 "network as one that publishes nothing",
				 nm->fp_id, res->reason);
	}
	nm_carry_out(nm, &in, res, ksk, use);
	disc_result_free(res);
}
