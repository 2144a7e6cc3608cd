/*
 * netmgr_decide.c -- the network manager's decisions, all made by the
 * trust policy (trust/policy.c): fill its input from what is known of the
 * network (fingerprint match, stored data, the walk's result, the DANE
 * handshake, discovery-wait), ask it, and carry the decision out: walk,
 * pin, refuse, and serve DoT, plain DNS or nothing.
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/log.h"

void nm_schedule_retry(struct ds_netmgr *nm)
{
	nm->retry_ms = nm->retry_ms ? nm->retry_ms * 2 : RETRY_MIN_MS;
	if (nm->retry_ms > RETRY_MAX_MS)
		nm->retry_ms = RETRY_MAX_MS;
	ds_timer_arm_ms(nm->retry_ev, nm->retry_ms);
}

static bool no_route_to_resolvers(const struct ds_netmgr *nm)
{
	if (!nm->have_fp || nm->fp.af[DS_NETFP_V4].route || nm->fp.af[DS_NETFP_V6].route)
		return false;
	for (int i = 0; i < nm->nres; i++) {
		const struct sockaddr_storage *ss = &nm->res[i];
		if (ss->ss_family == AF_INET &&
		    (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127)
			return false;
		if (ss->ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr))
			return false;
	}
	return true;
}

/* What the designated resolvers gave: the outcome of trying them, or, if
 * none answered DoT (not tried yet, the designation gone, 853 blocked) on
 * a network with a designated resolver's key pinned, that: the policy
 * keeps such a network as strict as a known one. */
static enum trust_designated designated_of(const struct ds_netmgr *nm)
{
	const struct ds_config *c = nm->d->cfg;

	if (nm->desig.outcome != TRUST_DESIG_NONE)
		return nm->desig.outcome;
	if ((c->ddr || c->dnr) && nm->have_fp && nm->store &&
	    trust_store_find_dpin(nm->store, nm->fp_text))
		return TRUST_DESIG_PIN_ABSENT;
	return TRUST_DESIG_NONE;
}

void nm_policy_input(struct ds_netmgr *nm, enum trust_discovery disc,
		     struct trust_policy_input *in)
{
	memset(in, 0, sizeof(*in));
	in->tofu = nm->d->cfg->tofu;
	/* a link that asks for DoT (DNSOverTLS=yes) is strict; nothing a
	 * link says makes the configured policy weaker */
	in->unknown = nm->strict ? TRUST_UNKNOWN_STRICT : nm->d->cfg->unknown_network;
	in->have_resolver = nm->nres > 0;
	in->have_route = !no_route_to_resolvers(nm);
	in->discovery = disc;
	in->match = nm->match;
	if (disc == TRUST_DISC_NONE)
		in->dane_failed = nm->watch.failed;
	if (nm->match == TRUST_MATCH_NONE)
		in->pinned_addr = nm->probe.state;
	in->hotspot = nm->hotspot.active ? TRUST_HOTSPOT_THIS_LINK : TRUST_HOTSPOT_NONE;
	in->prefer_upstream = nm->d->cfg->prefer_upstream_resolver;
	in->designated = designated_of(nm);
}

static const struct trust_anchor *pin_pending(struct ds_netmgr *nm,
					      const struct trust_dnskey *k)
{
	const struct trust_anchor *a = NULL;
	int r;

	r = trust_store_pin(nm->store, DISC_ZONE, k, TRUST_STATE_PENDING, ds_wall_now(), &a);
	if (r < 0) {
		log_err("network %s: cannot pin the anchor: %s", nm->fp_id, strerror(-r));
		return NULL;
	}
	return a;
}

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

/* A transparent forwarder passed another resolver's publication through:
 * say which, in the log and in status. */
static void nm_note_transparent(struct ds_netmgr *nm, const struct disc_result *res)
{
	size_t o;

	nm->transparent[0] = '\0';
	if (res->kind != TRUST_DISC_OK || !res->transparent)
		return;
	o = (size_t)snprintf(nm->transparent, sizeof(nm->transparent), "%s at", res->desc.name);
	for (int i = 0; i < res->desc.naddr && o < sizeof(nm->transparent); i++) {
		char a[64];

		nm_format_resolver(&res->desc.addr[i], a, sizeof(a));
		o += (size_t)snprintf(nm->transparent + o, sizeof(nm->transparent) - o, " %s", a);
	}
	log_warn("network %s: transparent forwarder: its resolver-name.arpa describes %s, not the "
		 "network's resolver%s",
		 nm->fp_id, nm->transparent,
		 nm->d->cfg->prefer_upstream_resolver
			 ? " (prefer-upstream-resolver yes: DoT to it directly)"
			 : " (prefer-upstream-resolver no: the network is treated as one that "
			   "publishes nothing)");
}

static const struct ds_upstream_desc *choose_desc(struct ds_netmgr *nm,
						  const struct disc_result *res)
{
	nm->nupstreams = 0;
	for (int i = 0; i < res->nupstreams && i < DISC_MAX_UPSTREAMS; i++) {
		const struct disc_upstream *u = &res->upstreams[i];
		snprintf(nm->upstreams[nm->nupstreams++], sizeof(nm->upstreams[0]), "%s (%s, %s)",
			 u->desc.name, ds_server_type_name(u->desc.type),
			 ds_transport_name(u->desc.transport));
	}
	if (res->desc.type != DS_SERVER_FORWARDER || !nm->d->cfg->prefer_upstream_resolver)
		return &res->desc;
	for (int i = 0; i < res->nupstreams; i++) {
		const struct disc_upstream *u = &res->upstreams[i];
		if (u->desc.transport == DS_TRANSPORT_DOT && u->desc.naddr > 0 &&
		    ds_upstream_desc_usable_tlsa(&u->desc) > 0)
			return &u->desc;
	}
	return &res->desc;
}

/* The KSK of the chosen upstream's unique zone, as the walk saw it: what
 * a publishing router republishes as its upstream's KEY. */
static void nm_note_up_key(struct ds_netmgr *nm, const struct disc_result *res,
			   const struct ds_upstream_desc *use)
{
	nm->up_key_name[0] = '\0';
	if (use == &res->desc && res->nzone_key > 0) {
		nm->up_key = res->zone_key[0];
	} else {
		for (int i = 0; i < res->nupstreams; i++)
			if (use == &res->upstreams[i].desc && res->upstreams[i].has_key)
				nm->up_key = res->upstreams[i].key;
		if (use == &res->desc)
			return;
	}
	snprintf(nm->up_key_name, sizeof(nm->up_key_name), "%s", use->name);
}

/* After a decision: the network's resolver answered discovery in plain DNS
 * (the walk got answers) but there is no DoT and the policy allows no clear
 * text -- what a captive portal looks like, the more so if it made up an
 * answer for a name that cannot exist (hijack, from the walk).  Shown in
 * status, logged once per network. */
static void nm_portal_note(struct ds_netmgr *nm, const struct trust_policy_input *in,
		    const struct trust_decision *dec)
{
	const char *hijack = nm->hijack;

	bool answered = in->discovery == TRUST_DISC_NOT_PUBLISHED ||
			in->discovery == TRUST_DISC_BOGUS || in->discovery == TRUST_DISC_FAILED ||
			(in->discovery == TRUST_DISC_OK && in->dot_unreachable);

	if (dec->service == TRUST_SERVICE_DOT || dec->service == TRUST_SERVICE_PLAIN) {
		nm->portal[0] = '\0';
		return;
	}
	if (!answered || in->hotspot == TRUST_HOTSPOT_THIS_LINK)
		return;
	snprintf(nm->portal, sizeof(nm->portal),
		 "the network's resolver answers plain DNS%s%s, but %s%s",
		 hijack[0] ? " and " : "", hijack, dec->reason,
		 in->match == TRUST_MATCH_NONE ? "; `dotctl hotspot-signon` gives plain DNS for 5 "
						 "minutes to sign on"
					       : " (a known network: no sign-on)");
	if (nm->portal_logged)
		return;
	nm->portal_logged = true;
	log_warn("network %s: captive portal suspected: %s", nm->fp_id, nm->portal);
}

void nm_carry_out(struct ds_netmgr *nm, const struct trust_policy_input *in,
		  const struct disc_result *res, const struct trust_dnskey *ksk,
		  const struct ds_upstream_desc *use)
{
	struct trust_decision dec;
	const struct trust_anchor *a = NULL;
	char why[768];

	trust_policy_decide(in, &dec);
	nm_portal_note(nm, in, &dec);
	if (in->pinned_addr == TRUST_PINNED_FAILED && dec.service != TRUST_SERVICE_DOT)
		snprintf(why, sizeof(why),
			 "resolver address of pinned %s, DoT failed (%s), looks like a new network; %s",
			 nm->probe.name, nm->probe.why, dec.reason);
	else
		snprintf(why, sizeof(why), "%s", dec.reason);
	if (dec.alert)
		log_err("ALERT network %s: %s%s%s", nm->fp_id, why,
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
			nm->commit.transparent = in->transparent;
			if ((a = anchor_of(nm, ksk)))
				nm_remember_anchor(nm, a);
		}
		break;
	case TRUST_ACT_REFUSE:
		if (dec.record_pending && res && res->nksk > 0 &&
		    (a = pin_pending(nm, &res->ksk[0].key))) {
			if (nm->have_fp)
				trust_store_seen_network(nm->store, a, nm->fp_text, ds_wall_now());
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
	case TRUST_ACT_PROBE_PINNED:
		if (nm_probe_start(nm) < 0) {
			struct trust_policy_input failed = *in;
			nm->probe.state = failed.pinned_addr = TRUST_PINNED_FAILED;
			snprintf(nm->probe.why, sizeof(nm->probe.why), "no DoT client");
			nm_carry_out(nm, &failed, NULL, NULL, NULL);
			return;
		}
		ds_timer_arm_ms(nm->probe.ev, 50);
		break;
	case TRUST_ACT_USE_DESIGNATED:
	case TRUST_ACT_USE_OPPORTUNISTIC:
		nm_ddr_serve(nm, &dec, why);
		return;
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
		if (nm->commit.active && res) {
			/* "authenticated" only once the DANE handshake says so */
			snprintf(nm->commit.how, sizeof(nm->commit.how), "%s",
				 use != &res->desc ? "the forwarder's upstream, authenticated by "
						     "discovery"
				 : in->transparent ? "the upstream a transparent forwarder "
						     "publishes, authenticated by discovery"
						   : "authenticated by discovery");
			nm_serve_dot(nm, use,
				     "resolver-name.arpa validated; waiting for the DoT handshake "
				     "(DANE)");
		} else {
			nm_serve_dot(nm, use, dec.action == TRUST_ACT_USE_STORED
						      ? why
						      : "authenticated by discovery");
		}
		if (nm->state == TRUST_POSTURE_DOT) {
			nm_commit_poll_arm(nm);
			nm_refresh_arm(nm, false);
			if (dec.action == TRUST_ACT_USE_STORED) {
				nm->watch.handshakes = nm->watch.fail_base = 0;
				ds_timer_arm_ms(nm->watch.ev, NM_WATCH_MS);
			}
		}
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

void nm_decide(struct ds_netmgr *nm)
{
	const struct trust_resolver *r = NULL;
	const struct trust_anchor *a;
	struct trust_policy_input in;
	struct trust_decision dec;
	struct ds_upstream_desc desc;

	ds_timer_disarm(nm->retry_ev);
	ds_timer_disarm(nm->refresh_ev);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
		return;
	}
	nm_ddr_stop(nm);
	nm_commit_clear(nm);
	nm->alert = false;
	nm->have_anchor = false;
	nm->from_store = false;
	memset(&desc, 0, sizeof(desc));
	a = nm_known_network_anchor(nm, &r);
	if (nm->match == TRUST_MATCH_NONE)
		nm_probe_look(nm);
	nm_policy_input(nm, TRUST_DISC_NONE, &in);
	in.stored = a && nm_desc_from_resolver(r, &desc) == 0;
	trust_policy_decide(&in, &dec);
	if (dec.action == TRUST_ACT_USE_STORED && in.pinned_addr == TRUST_PINNED_AUTHENTICATED) {
		struct ds_upstream_desc pd;
		a = nm_pinned_at_address(nm, &pd);
		if (a) {
			nm_remember_anchor(nm, a);
			nm->from_store = true;
			trust_store_seen_network(nm->store, a, nm->fp_text, ds_wall_now());
			nm_store_save(nm);
			log_notice("network %s: its resolver is the pinned %s (DoT authenticated by "
				   "the pinned TLSA): DoT, strict",
				   nm->fp_id, pd.name);
			nm_carry_out(nm, &in, NULL, NULL, &pd);
			ds_upstream_desc_clear(&pd);
		} else {
			nm->probe.state = TRUST_PINNED_NONE;
			nm_decide(nm);
		}
	} else if (dec.action == TRUST_ACT_USE_STORED) {
		nm_remember_anchor(nm, a);
		nm->from_store = true;
		trust_store_touch(nm->store, a, ds_wall_now());
		trust_store_seen_network(nm->store, a, nm->fp_text, ds_wall_now());
		nm_store_save(nm);
		log_notice("network %s is known: DoT to %s with the stored TLSA, no discovery "
			   "traffic",
			   nm->fp_id, desc.name);
		nm_carry_out(nm, &in, NULL, NULL, &desc);
	} else {
		nm_carry_out(nm, &in, NULL, NULL, NULL);
	}
	ds_upstream_desc_clear(&desc);
}

/* The designated resolvers were tried: decide on the held walk result. */
static void nm_ddr_done(void *arg, const struct ds_ddr_verdict *v, int n)
{
	struct ds_netmgr *nm = arg;
	bool first_use;
	struct disc_result *res = nm_ddr_result(nm, v, n, &first_use);

	if (res)
		nm_walk_decide(nm, res, first_use);
}

void nm_walk_done(void *arg, int rc, struct disc_result *res)
{
	struct ds_netmgr *nm = arg;
	const struct ddr_query *ddr = ds_walkjob_ddr(nm->job);
	int nadn;
	const struct ds_walkjob_adn *adn = ds_walkjob_adn(nm->job, &nadn);
	struct trust_policy_input in;

	nm->job = NULL;
	if (nm->rerun || rc == -ECANCELED) {
		nm->rerun = false;
		if (nm->job_refresh && nm->refresh_hook)
			nm->refresh_hook(nm, false);
		nm->job_refresh = false;
		if (res)
			disc_result_free(res);
		if (!ds_timer_armed(nm->settle_ev))
			nm_decide(nm);
		return;
	}
	if (nm->job_refresh) {
		nm->job_refresh = false;
		if (nm->refresh_hook)
			nm->refresh_hook(nm, false);
		if (rc < 0) {
			nm_refresh_arm(nm, true);
			return;
		}
		nm_refresh_done(nm, res);
		disc_result_free(res);
		return;
	}
	if (rc < 0) {
		snprintf(nm->last_walk, sizeof(nm->last_walk), "error: %s", strerror(-rc));
		nm_policy_input(nm, TRUST_DISC_ERROR, &in);
		nm_carry_out(nm, &in, NULL, NULL, NULL);
		return;
	}
	snprintf(nm->last_walk, sizeof(nm->last_walk), "%s%s%s",
		 trust_discovery_name(res->kind), res->reason[0] ? ": " : "", res->reason);
	log_info("network %s: discovery: %s", nm->fp_id, nm->last_walk);

	nm_note_transparent(nm, res);
	snprintf(nm->hijack, sizeof(nm->hijack), "%s", res->hijack);
	if (res->hijack[0])
		log_notice("network %s: the resolver %s", nm->fp_id, res->hijack);
	if (res->kind == TRUST_DISC_OK || res->kind == TRUST_DISC_NOT_PUBLISHED)
		nm->retry_ms = 0;
	/* resolver-name.arpa gave no DoT here: its designated resolvers are
	 * tried first, and the policy decides with what they gave */
	if (nm_ddr_start(nm, ddr, adn, nadn, res, nm_ddr_done))
		return;
	nm_walk_decide(nm, res, nm->job_first_use);
}

void nm_walk_decide(struct ds_netmgr *nm, struct disc_result *res, bool first_use)
{
	struct trust_policy_input in;
	const struct trust_dnskey *ksk = NULL;
	const struct ds_upstream_desc *use = NULL;

	nm_policy_input(nm, res->kind, &in);
	in.first_use = first_use;
	in.transparent = res->kind == TRUST_DISC_OK && res->transparent;
	in.designated = designated_of(nm);
	if (res->kind == TRUST_DISC_OK) {
		if (res->ksk_used >= 0)
			ksk = &res->ksk[res->ksk_used].key;
		if (!first_use && res->anchor_matched >= 0) {
			in.observed = TRUST_OBS_TRUSTED;
			nm_observe_rollover(nm, res);
		} else if (ksk) {
			in.observed = trust_observed_of(trust_store_lookup(nm->store, DISC_ZONE, ksk));
		}
		use = choose_desc(nm, res);
		nm_note_up_key(nm, res, use);
	} else if (res->kind == TRUST_DISC_BOGUS || res->kind == TRUST_DISC_FAILED) {
		if (nm->match == TRUST_MATCH_NONE && first_use)
			log_warn("network %s: resolver-name.arpa is broken (%s); treating the "
				 "network as one that publishes nothing",
				 nm->fp_id, res->reason);
	}
	nm_carry_out(nm, &in, res, ksk, use);
	disc_result_free(res);
}

/* Timer: pin and learn once DANE authenticated the new upstream; a
 * certificate that does not match its TLSA goes to the policy. */
void nm_commit_poll(void *arg)
{
	struct ds_netmgr *nm = arg;
	struct trust_policy_input in;

	switch (nm_commit_check(nm)) {
	case NM_COMMIT_AGAIN:
		nm_commit_poll_arm(nm);
		return;
	case NM_COMMIT_DANE_FAILED:
		nm_policy_input(nm, TRUST_DISC_OK, &in);
		in.observed = TRUST_OBS_UNKNOWN;
		in.dane_failed = true;
		nm_carry_out(nm, &in, NULL, NULL, NULL);
		return;
	case NM_COMMIT_UNREACHABLE:
		/* the same walk's result, with the fact that its resolver
		 * does not answer DoT from here */
		nm_policy_input(nm, TRUST_DISC_OK, &in);
		in.first_use = nm->commit.pin;
		in.observed = nm->commit.pin ? TRUST_OBS_UNKNOWN : TRUST_OBS_TRUSTED;
		in.transparent = nm->commit.transparent;
		in.dot_unreachable = true;
		nm_commit_clear(nm);
		nm_carry_out(nm, &in, NULL, NULL, NULL);
		return;
	case NM_COMMIT_DONE:
		return;
	}
}

void nm_commit_poll_arm(struct ds_netmgr *nm)
{

	if (nm->commit.active)
		ds_timer_arm_ms(nm->commit.ev, 50);
}

/* Queries waited discovery-wait (the daemon's hook): serve them with plain
 * DNS meanwhile if the policy says so; true if they were released to it. */
bool nm_wait_expired(void *arg)
{
	struct ds_netmgr *nm = arg;
	struct trust_policy_input in;
	struct trust_decision dec;

	if ((!nm->job && !nm->desig.run) || nm->job_refresh ||
	    nm->state != TRUST_POSTURE_DISCOVERING)
		return false;
	nm_policy_input(nm, TRUST_DISC_RUNNING, &in);
	in.wait_expired = true;
	trust_policy_decide(&in, &dec);
	if (dec.service != TRUST_SERVICE_PLAIN)
		return false;
	/* the walk goes on; its result replaces this */
	nm_serve_plain(nm, dec.reason);
	nm->state = dec.posture;
	return nm->lane->plain != NULL;
}

/* Timer: DoT to the pinned resolver's address authenticated, or failed:
 * decide again with that fact. */
void nm_probe_poll(void *arg)
{
	struct ds_netmgr *nm = arg;

	switch (nm_probe_check(nm)) {
	case NM_PROBE_AGAIN:
		ds_timer_arm_ms(nm->probe.ev, 50);
		return;
	case NM_PROBE_AUTHENTICATED:
		nm->probe.state = TRUST_PINNED_AUTHENTICATED;
		break;
	case NM_PROBE_FAILED:
		nm->probe.state = TRUST_PINNED_FAILED;
		log_warn("network %s: DoT to the pinned %s at this address failed (%s): the "
			 "network looks new",
			 nm->fp_id, nm->probe.name, nm->probe.why);
		break;
	}
	nm_probe_stop(nm);
	nm_decide(nm);
}

/* Timer: DoT from the store.  A resolver that fails DANE authentication on
 * a known network (re-keyed, or an impostor with the same fingerprint) is
 * walked again, and the policy decides on what the
 * walk finds: a different anchor is refused with an ALERT and kept
 * pending. */
void nm_watch_poll(void *arg)
{
	struct ds_netmgr *nm = arg;
	struct ds_upstream_status st;

	if (nm->state != TRUST_POSTURE_DOT || !nm->from_store || !nm->lane->up)
		return;
	ds_upstream_get_status(nm->lane->up, &st);
	if (st.handshakes != nm->watch.handshakes) {
		if (nm->watch.handshakes == 0)
			nm_say_transport(nm); /* now authenticated, with its TLSA */
		nm->watch.handshakes = st.handshakes;
		nm->watch.fail_base = st.fail_auth;
	}
	if (st.fail_auth - nm->watch.fail_base < NM_WATCH_FAILURES) {
		ds_timer_arm_ms(nm->watch.ev, NM_WATCH_MS);
		return;
	}
	log_warn("network %s: the stored resolver %s failed DANE authentication (%llu times, %s): "
		 "walking again",
		 nm->fp_id, nm->upstream_name,
		 (unsigned long long)(st.fail_auth - nm->watch.fail_base), st.last_error);
	nm->watch.failed = true;
	nm_decide(nm);
}
