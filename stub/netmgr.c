/*
 * netmgr.c -- which network are we on, which resolver does it give us, and
 * how far may we trust it.  Drives discovery, the trust policy and the
 * upstream of the daemon (DESIGN.md "Policy", PROTOCOL.md "Reconnection and
 * networks"):
 *
 *  - a network whose fingerprint and anchor are known gets DoT at once, to
 *    the stored name, addresses and TLSA, with no clear-text traffic;
 *  - otherwise the network's resolver is walked (discovery in a worker
 *    thread) with the anchors we know, and the policy decides: use, pin on
 *    first use (TOFU auto), pin as pending (ask), refuse and alert (a
 *    different anchor on a known network), plain DNS (opportunistic, a
 *    network that publishes nothing) or SERVFAIL (strict);
 *  - a changed fingerprint flushes the cache, closes connections, drops
 *    session tickets and decides again; the same fingerprint after a link
 *    bounce only reconnects.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dotstub/hex.h"
#include "dotstub/discovery.h"
#include "dotstub/log.h"
#include "dotstub/netinfo.h"
#include "dotstub/trust.h"
#include "walkjob.h"

#define ARPA_ZONE "resolver-name.arpa."
#define SETTLE_MS 150        /* coalesce a link change and the resolver update after it */
#define NETWATCH_DEBOUNCE_MS 300
#define RETRY_MIN_MS 2000
#define RETRY_MAX_MS 60000

enum nm_state {
	NM_WAITING = 0,   /* no network information yet */
	NM_NO_RESOLVER,   /* the network gave no resolver */
	NM_DISCOVERING,
	NM_DOT,           /* authenticated DoT */
	NM_PLAIN,         /* opportunistic clear text (unknown network) */
	NM_PENDING,       /* anchor pinned as pending: waiting for approval */
	NM_REFUSED,       /* anchor refused: alert */
	NM_FAILED,        /* strict: SERVFAIL */
};

static const char *const state_names[] = {
	[NM_WAITING] = "waiting for network information",
	[NM_NO_RESOLVER] = "no network resolver",
	[NM_DISCOVERING] = "discovering",
	[NM_DOT] = "dot",
	[NM_PLAIN] = "plain (opportunistic, unauthenticated)",
	[NM_PENDING] = "pending approval",
	[NM_REFUSED] = "refused",
	[NM_FAILED] = "failed (strict)",
};

struct ds_netmgr {
	struct ds_daemon *d;
	struct trust_store *store;
	struct ds_netwatch *nw;
	struct ds_resolvwatch *rw;
	/* the network's resolvers (with ports) */
	struct sockaddr_storage res[DS_MAX_NETWORK_RESOLVERS];
	int nres;
	/* where we are */
	struct ds_netfp fp;
	char fp_text[DS_NETFP_TEXT_MAX];
	char fp_id[DS_NETFP_ID_LEN + 1];
	bool have_fp;
	bool network_known;           /* a stored network matches (exact or impostor) */
	char network_match[32];       /* "exact", "partial", "impostor", "none" */
	/* what we decided */
	enum nm_state state;
	char reason[256];
	bool alert;
	char upstream_name[DNS_NAME_MAX + 1];
	struct ds_upstream_desc cur_desc;   /* what the DoT upstream was made from */
	uint8_t anchor_sha[TRUST_SHA256_LEN];
	uint16_t anchor_tag;
	uint8_t anchor_alg;
	bool have_anchor;
	bool from_store;              /* DoT from stored data, no walk */
	/* discovery */
	struct ds_walkjob *job;
	bool job_first_use;           /* the running walk has no anchors */
	bool job_refresh;             /* the running walk goes over our own DoT */
	bool rerun;                   /* decide again when the job ends */
	struct disc_key job_anchor_keys[DISC_MAX_ANCHORS];
	int job_nanchors;
	char last_walk[DISC_REASON_MAX + 32];
	struct event *retry_ev;
	struct event *settle_ev;
	struct event *refresh_ev;
	struct event *rw_retry_ev;
	uint64_t refreshes, refresh_failures;
	char last_refresh[DISC_REASON_MAX + 32];
	unsigned retry_ms;
	uint64_t walks, changes;
	/* Pins and learned data are committed only once the TLS handshake
	 * authenticated the resolver with DANE (PROTOCOL.md step 7). */
	struct {
		bool active;
		bool pin;                 /* pin the anchor as trusted (TOFU) */
		struct trust_dnskey key;
		struct ds_upstream_desc desc;
		uint64_t deadline_ms;
		struct event *ev;
	} commit;
	/* a forwarder's upstreams, from the last walk */
	char upstreams[DISC_MAX_UPSTREAMS][DNS_NAME_MAX + 16];
	int nupstreams;
};

static void commit_poll_arm(struct ds_netmgr *nm);
static void refresh_arm(struct ds_netmgr *nm, bool after_failure);
static void observe_rollover(struct ds_netmgr *nm, const struct disc_result *res);

/* ---------------------------------------------------------------- keys */

static void key_to_trust(const struct disc_key *k, struct trust_dnskey *t)
{
	memset(t, 0, sizeof(*t));
	t->flags = k->flags;
	t->protocol = k->protocol;
	t->algorithm = k->algorithm;
	t->keylen = k->key_len;
	memcpy(t->key, k->key, k->key_len);
}

static int key_from_trust(const struct trust_dnskey *t, struct disc_key *k)
{
	uint8_t rd[4 + TRUST_KEY_MAX];
	int n = trust_dnskey_rdata(t, rd, sizeof(rd));

	if (n < 0)
		return n;
	return disc_key_from_rdata(rd, (size_t)n, k);
}

static bool anchor_usable(const struct trust_anchor *a)
{
	return a->state == TRUST_STATE_TRUSTED || a->state == TRUST_STATE_MANAGED;
}

/* ------------------------------------------------------- descriptions */

static int desc_from_resolver(const struct trust_resolver *r, struct ds_upstream_desc *d)
{
	size_t n = strlen(r->name);

	memset(d, 0, sizeof(*d));
	if (n < 2 || n > DNS_NAME_MAX)
		return -EINVAL;
	memcpy(d->name, r->name, n - 1); /* without the trailing dot */
	d->type = (enum ds_server_type)r->type;
	for (size_t i = 0; i < r->naddr && d->naddr < DS_MAX_UPSTREAM_ADDRS; i++)
		if (ds_parse_sockaddr(r->addr[i], DS_DOT_PORT, &d->addr[d->naddr]) == 0)
			d->naddr++;
	for (size_t i = 0; i < r->ntlsa; i++) {
		struct ds_tlsa t = { r->tlsa[i].usage, r->tlsa[i].selector, r->tlsa[i].mtype,
				     r->tlsa[i].len, r->tlsa[i].data };
		if (ds_upstream_desc_add_tlsa(d, &t) < 0)
			break;
	}
	if (d->naddr == 0 || ds_upstream_desc_usable_tlsa(d) == 0) {
		ds_upstream_desc_clear(d);
		return -ENOENT;
	}
	return 0;
}

static int resolver_from_desc(const struct ds_upstream_desc *d, struct trust_resolver *r)
{
	int ret;

	trust_resolver_init(r);
	ret = trust_resolver_set_name(r, d->name);
	if (ret < 0)
		return ret;
	r->type = (enum trust_server_type)d->type;
	for (int i = 0; i < d->naddr; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &d->addr[i];
		const void *p = ss->ss_family == AF_INET6
					? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
					: (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
		if (inet_ntop(ss->ss_family, p, a, sizeof(a)))
			trust_resolver_add_addr(r, a);
	}
	for (int i = 0; i < d->ntlsa; i++)
		trust_resolver_add_tlsa(r, d->tlsa[i].usage, d->tlsa[i].selector, d->tlsa[i].mtype,
					d->tlsa[i].data, d->tlsa[i].len);
	return 0;
}

/* ------------------------------------------------------------ service */

static struct ds_upstream *make_upstream(struct ds_netmgr *nm, const struct ds_upstream_desc *desc)
{
	struct ds_upstream_opts o;
	struct ds_upstream_desc copy;
	struct ds_upstream *up;
	int err = 0;

	ds_upstream_opts_default(&o);
	o.allow_tls12 = nm->d->cfg->allow_tls12;
	o.query_timeout_ms = nm->d->cfg->query_timeout_ms / 3 ? nm->d->cfg->query_timeout_ms / 3 : 1;
	memset(&copy, 0, sizeof(copy));
	if (ds_upstream_desc_copy(&copy, desc) < 0)
		return NULL;
	/* the TLS session cache is keyed by the network too */
	snprintf(copy.network, sizeof(copy.network), "%s", nm->fp_id);
	up = ds_upstream_new(nm->d->base, &copy, &o, &err);
	ds_upstream_desc_clear(&copy);
	if (!up)
		log_err("cannot use upstream %s: %s", desc->name[0] ? desc->name : "(plain)",
			err == -ENOKEY ? "no usable TLSA record" : strerror(-err));
	return up;
}

static void set_state(struct ds_netmgr *nm, enum nm_state st, const char *reason)
{
	nm->state = st;
	snprintf(nm->reason, sizeof(nm->reason), "%.*s", (int)sizeof(nm->reason) - 1,
		 reason ? reason : "");
}

/* No upstream: queries get SERVFAIL with ede and reason. */
static void serve_nothing(struct ds_netmgr *nm, enum nm_state st, int ede, const char *reason)
{
	set_state(nm, st, reason);
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, false, ede, reason);
}

static void serve_dot(struct ds_netmgr *nm, const struct ds_upstream_desc *desc, const char *how)
{
	struct ds_upstream *up = make_upstream(nm, desc);

	if (!up) {
		serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR,
			      "the discovered resolver cannot be used (see the log)");
		return;
	}
	snprintf(nm->upstream_name, sizeof(nm->upstream_name), "%s", desc->name);
	ds_upstream_desc_clear(&nm->cur_desc);
	memset(&nm->cur_desc, 0, sizeof(nm->cur_desc));
	ds_upstream_desc_copy(&nm->cur_desc, desc);
	set_state(nm, NM_DOT, how);
	ds_daemon_set_upstream(nm->d, up, nm->from_store ? "known network" : "discovery", false);
	ds_upstream_connect_now(up);
	commit_poll_arm(nm);
	refresh_arm(nm, false);
}

static void serve_plain(struct ds_netmgr *nm, const char *reason)
{
	struct ds_plain *p;
	int err = 0;

	p = ds_plain_new(nm->d->base, nm->res, nm->nres, 1500, &err);
	if (!p) {
		serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR,
			      "plain DNS to the network's resolver is not available");
		return;
	}
	nm->upstream_name[0] = '\0';
	set_state(nm, NM_PLAIN, reason);
	log_warn("network %s: %s -- queries go to the network's resolver in plain DNS "
		 "(opportunistic, unauthenticated)",
		 nm->fp_id, reason);
	ds_daemon_set_plain(nm->d, p);
}

/* --------------------------------------------------------------- store */

static void store_save(struct ds_netmgr *nm)
{
	int r = trust_store_save(nm->store);

	if (r < 0)
		log_err("trust store in %s not saved: %s; the pins of this run live in memory only",
			nm->d->cfg->state_dir, strerror(-r));
}

static void remember_anchor(struct ds_netmgr *nm, const struct trust_anchor *a)
{
	memcpy(nm->anchor_sha, a->sha256, sizeof(nm->anchor_sha));
	nm->anchor_tag = a->tag;
	nm->anchor_alg = a->key.algorithm;
	nm->have_anchor = true;
}

/* Record what we learned under anchor a on this network. */
static void learn(struct ds_netmgr *nm, const struct trust_anchor *a,
		  const struct ds_upstream_desc *desc)
{
	struct trust_resolver r;
	time_t now = time(NULL);

	trust_store_touch(nm->store, a, now);
	if (desc && resolver_from_desc(desc, &r) == 0) {
		if (trust_store_learn_resolver(nm->store, a, &r, now) < 0)
			log_warn("trust store: cannot record resolver %s, ignoring", desc->name);
		trust_resolver_clear(&r);
	}
	if (nm->have_fp && trust_store_seen_network(nm->store, a, nm->fp_text, now) < 0)
		log_warn("trust store: cannot record network %s, ignoring", nm->fp_id);
}

/* Does a stored network match ours?  Exact matches of usable anchors with
 * resolver data give DoT at once; an impostor (same gateway address, other
 * MAC) or exact match makes the network "known" for the policy. */
static const struct trust_anchor *known_network_anchor(struct ds_netmgr *nm,
						       const struct trust_resolver **ret_r)
{
	const struct trust_anchor *best = NULL;
	const struct trust_resolver *best_r = NULL;
	bool impostor = false, partial = false;

	nm->network_known = false;
	snprintf(nm->network_match, sizeof(nm->network_match), "none");
	if (!nm->have_fp)
		return NULL;
	for (size_t i = 0; i < trust_store_count(nm->store); i++) {
		const struct trust_anchor *a = trust_store_anchor(nm->store, i);

		for (size_t k = 0; k < a->nnetworks; k++) {
			struct ds_netfp known;
			struct ds_netfp_cmp cmp;

			if (!strcmp(a->networks[k].fp, nm->fp_text)) {
				nm->network_known = true;
				if (!anchor_usable(a))
					continue;
				for (size_t r = 0; r < a->nresolvers; r++) {
					if (a->resolvers[r].naddr == 0 || a->resolvers[r].ntlsa == 0)
						continue;
					if (!best || a->first_seen < best->first_seen) {
						best = a;
						best_r = &a->resolvers[r];
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
	if (nm->network_known)
		snprintf(nm->network_match, sizeof(nm->network_match), "exact");
	else if (impostor)
		snprintf(nm->network_match, sizeof(nm->network_match), "impostor");
	else if (partial)
		snprintf(nm->network_match, sizeof(nm->network_match), "partial");
	if (impostor || partial)
		nm->network_known = true;
	*ret_r = best_r;
	return best;
}

/* The anchors to walk with: those of the known network if it is known,
 * else every usable anchor (prefer known over unknown). */
static int collect_anchors(struct ds_netmgr *nm, struct disc_key *out, int cap)
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
		if (nm->network_known && !on_network)
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
		if (key_from_trust(&pick[i]->key, &out[i]) < 0)
			return -EINVAL;
	return n;
}

/* ------------------------------------------------------------- walking */

static void decide(struct ds_netmgr *nm);
static void walk_done(void *arg, int rc, struct disc_result *res);

static void format_resolver(const struct sockaddr_storage *ss, char *out, size_t len)
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
		format_resolver(&self, res[0], sizeof(res[0]));
		p.resolvers[p.nresolvers++] = res[0];
	}
	for (int i = 0; !refresh && i < nm->nres && i < DISC_MAX_RESOLVERS; i++) {
		format_resolver(&nm->res[i], res[i], sizeof(res[i]));
		p.resolvers[p.nresolvers++] = res[i];
	}
	nm->job_nanchors = 0;
	if (!first_use) {
		r = collect_anchors(nm, nm->job_anchor_keys, DISC_MAX_ANCHORS);
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
	r = ds_walkjob_start(nm->d->base, &p, walk_done, nm, &nm->job);
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

static int start_walk(struct ds_netmgr *nm, bool first_use)
{
	return start_walk_at(nm, first_use, false);
}

static void refresh_arm(struct ds_netmgr *nm, bool after_failure)
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

static void refresh_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;

	if (nm->state != NM_DOT || nm->job)
		return;
	if (start_walk_at(nm, false, true) < 0)
		refresh_arm(nm, true);
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
		refresh_arm(nm, true);
		return;
	}
	observe_rollover(nm, res);
	if (res->ksk_used >= 0) {
		struct trust_dnskey tk;
		key_to_trust(&res->ksk[res->ksk_used].key, &tk);
		a = trust_store_lookup(nm->store, ARPA_ZONE, &tk);
	}
	if (a) {
		learn(nm, a, &res->desc);
		store_save(nm);
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
	refresh_arm(nm, false);
}

static void schedule_retry(struct ds_netmgr *nm)
{
	struct timeval tv;

	nm->retry_ms = nm->retry_ms ? nm->retry_ms * 2 : RETRY_MIN_MS;
	if (nm->retry_ms > RETRY_MAX_MS)
		nm->retry_ms = RETRY_MAX_MS;
	tv.tv_sec = nm->retry_ms / 1000;
	tv.tv_usec = (nm->retry_ms % 1000) * 1000;
	evtimer_add(nm->retry_ev, &tv);
}

static void retry_fired(evutil_socket_t fd, short what, void *arg)
{
	decide(arg);
}

static void commit_clear(struct ds_netmgr *nm)
{
	if (!nm->commit.active)
		return;
	evtimer_del(nm->commit.ev);
	ds_upstream_desc_clear(&nm->commit.desc);
	nm->commit.active = false;
}

static void commit_prepare(struct ds_netmgr *nm, bool pin, const struct trust_dnskey *k,
			   const struct ds_upstream_desc *desc)
{
	commit_clear(nm);
	memset(&nm->commit.desc, 0, sizeof(nm->commit.desc));
	if (ds_upstream_desc_copy(&nm->commit.desc, desc) < 0)
		return;
	nm->commit.pin = pin;
	nm->commit.key = *k;
	nm->commit.deadline_ms = ds_now_ms() + 15000;
	nm->commit.active = true;
}

static void commit_poll_arm(struct ds_netmgr *nm)
{
	struct timeval tv = { 0, 50 * 1000 };

	if (nm->commit.active)
		evtimer_add(nm->commit.ev, &tv);
}

/* Poll the new upstream: pin and remember once DANE authenticated it;
 * refuse if the certificate does not match the published TLSA. */
static void commit_poll(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;
	struct ds_upstream_status st;
	const struct trust_anchor *a = NULL;
	int r;

	if (!nm->commit.active || !nm->d->up)
		return;
	ds_upstream_get_status(nm->d->up, &st);
	if (st.fail_auth > 0) {
		log_err("ALERT network %s: %s serves a certificate that does not match its "
			"published TLSA (%s); nothing pinned or learned",
			nm->fp_id, nm->commit.desc.name, st.last_error);
		nm->alert = true;
		commit_clear(nm);
		serve_nothing(nm, NM_REFUSED, DNS_EDE_NETWORK_ERROR,
			      "the resolver's certificate does not match its TLSA");
		return;
	}
	if (st.handshakes == 0) {
		if (ds_now_ms() < nm->commit.deadline_ms)
			commit_poll_arm(nm);
		else {
			log_warn("network %s: no DoT connection to %s yet (%s); nothing pinned",
				 nm->fp_id, nm->commit.desc.name, st.last_error);
			commit_clear(nm);
		}
		return;
	}
	if (nm->commit.pin) {
		r = trust_store_pin(nm->store, ARPA_ZONE, &nm->commit.key, TRUST_STATE_TRUSTED,
				    time(NULL), &a);
		if (r < 0) {
			log_err("network %s: cannot pin the anchor: %s", nm->fp_id, strerror(-r));
			commit_clear(nm);
			return;
		}
		log_notice("network %s: pinned resolver-name.arpa key tag %u alg %u as trusted "
			   "(first use, %s authenticated)",
			   nm->fp_id, a->tag, a->key.algorithm, nm->commit.desc.name);
	} else {
		a = trust_store_lookup(nm->store, ARPA_ZONE, &nm->commit.key);
		for (size_t i = 0; i < trust_store_count(nm->store) && !a; i++) {
			const struct trust_anchor *c = trust_store_anchor(nm->store, i);
			if (trust_dnskey_equal(&c->key, &nm->commit.key))
				a = c;
		}
	}
	if (a) {
		remember_anchor(nm, a);
		learn(nm, a, &nm->commit.desc);
		store_save(nm);
	}
	commit_clear(nm);
}

/* Carry out a policy decision for the walk result res. */
static void apply_policy(struct ds_netmgr *nm, const struct trust_policy_input *in,
			 const struct disc_result *res, const struct disc_key *ksk,
			 const struct ds_upstream_desc *use)
{
	struct trust_decision dec;
	const struct trust_anchor *a = NULL;
	struct trust_dnskey tk;
	char why[384];
	int r;

	trust_policy_decide(in, &dec);
	snprintf(why, sizeof(why), "%s", dec.reason);
	if (dec.alert)
		log_err("ALERT network %s: %s%s%s", nm->fp_id, dec.reason,
			res && res->reason[0] ? ": " : "", res ? res->reason : "");
	nm->alert = dec.alert;
	if (ksk)
		key_to_trust(ksk, &tk);

	switch (dec.action) {
	case TRUST_ACT_PIN_PENDING:
		r = trust_store_pin(nm->store, ARPA_ZONE, &tk, TRUST_STATE_PENDING, time(NULL), &a);
		if (r < 0) {
			log_err("network %s: cannot pin the anchor: %s", nm->fp_id, strerror(-r));
			serve_nothing(nm, NM_FAILED, DNS_EDE_OTHER, "the anchor could not be pinned");
			return;
		}
		remember_anchor(nm, a);
		learn(nm, a, &res->desc);
		store_save(nm);
		log_notice("network %s: resolver-name.arpa key tag %u alg %u of %s pinned as %s: "
			   "`dotctl trust approve %u` to use it",
			   nm->fp_id, a->tag, a->key.algorithm, res->desc.name,
			   trust_state_name(a->state), a->tag);
		break;
	case TRUST_ACT_PIN_AND_USE:
	case TRUST_ACT_USE:
		if (dec.service == TRUST_SERVICE_DOT && res && res->kind == DISC_OK)
			commit_prepare(nm, dec.action == TRUST_ACT_PIN_AND_USE, &tk, use);
		a = trust_store_lookup(nm->store, ARPA_ZONE, &tk);
		for (size_t i = 0; i < trust_store_count(nm->store) && !a; i++) {
			/* a managed anchor of another zone name */
			const struct trust_anchor *c = trust_store_anchor(nm->store, i);
			if (trust_dnskey_equal(&c->key, &tk))
				a = c;
		}
		if (a)
			remember_anchor(nm, a);
		break;
	case TRUST_ACT_REFUSE:
		/* keep the refused key as pending, so `dotctl trust approve` can
		 * adopt it deliberately; it is never used while pending */
		if (dec.record_pending && res && res->nksk > 0) {
			key_to_trust(&res->ksk[0].key, &tk);
			r = trust_store_pin(nm->store, ARPA_ZONE, &tk, TRUST_STATE_PENDING, time(NULL), &a);
			if (r >= 0) {
				if (nm->have_fp)
					trust_store_seen_network(nm->store, a, nm->fp_text, time(NULL));
				store_save(nm);
				log_err("ALERT network %s: the refused key (tag %u) is kept as pending; "
					"`dotctl trust approve %u` adopts it if the change is legitimate",
					nm->fp_id, a->tag, a->tag);
			}
		}
		break;
	default:
		break;
	}

	switch (dec.service) {
	case TRUST_SERVICE_DOT:
		if (!res || res->kind != DISC_OK) {
			serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR, why);
			return;
		}
		log_notice("network %s: resolver %s (%s) authenticated by resolver-name.arpa "
			   "key tag %u; DoT with DANE%s%s",
			   nm->fp_id, res->desc.name, disc_server_type_str(res->desc.type),
			   ksk ? ksk->tag : nm->anchor_tag, use != &res->desc ? ", directly to its upstream " : "",
			   use != &res->desc ? use->name : "");
		serve_dot(nm, use, use != &res->desc ? "the forwarder's upstream, authenticated by discovery"
						     : "authenticated by discovery");
		return;
	case TRUST_SERVICE_PLAIN:
		serve_plain(nm, why);
		nm->state = dec.action == TRUST_ACT_PIN_PENDING ? NM_PENDING : NM_PLAIN;
		return;
	case TRUST_SERVICE_SERVFAIL:
		serve_nothing(nm,
			      dec.action == TRUST_ACT_PIN_PENDING ? NM_PENDING
			      : dec.action == TRUST_ACT_REFUSE    ? NM_REFUSED
								  : NM_FAILED,
			      dec.action == TRUST_ACT_REFUSE ? DNS_EDE_PROHIBITED : DNS_EDE_NETWORK_ERROR,
			      why);
		return;
	}
}

static void observe_rollover(struct ds_netmgr *nm, const struct disc_result *res)
{
	struct trust_dnskey keys[DISC_MAX_KSK];
	bool signer[DISC_MAX_KSK];
	struct trust_5011_obs obs = { keys, signer, 0, res->dnskey_ttl ? res->dnskey_ttl : 900,
				      time(NULL) };
	unsigned changes = 0;
	int r;

	for (int i = 0; i < res->nksk; i++) {
		key_to_trust(&res->ksk[i].key, &keys[i]);
		signer[i] = res->ksk[i].validates;
	}
	obs.nkeys = (size_t)res->nksk;
	r = trust_store_rfc5011(nm->store, ARPA_ZONE, &obs, nm->d->cfg->rfc5011_hold_down_s,
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
		store_save(nm);
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
			 u->desc.name, disc_server_type_str(u->desc.type),
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

static void walk_done(void *arg, int rc, struct disc_result *res)
{
	struct ds_netmgr *nm = arg;
	struct trust_policy_input in = {
		.tofu = (enum trust_tofu)nm->d->cfg->tofu,
		.unknown = (enum trust_unknown_mode)nm->d->cfg->unknown_network,
		.network_known = nm->network_known,
	};
	const struct disc_key *ksk = NULL;

	nm->job = NULL;
	if (nm->rerun || rc == -ECANCELED) {
		nm->rerun = false;
		if (res)
			disc_result_free(res);
		if (!evtimer_pending(nm->settle_ev, NULL))
			decide(nm);
		return;
	}
	if (nm->job_refresh) {
		nm->job_refresh = false;
		if (rc < 0) {
			refresh_arm(nm, true);
			return;
		}
		refresh_done(nm, res);
		disc_result_free(res);
		return;
	}
	if (rc < 0) {
		snprintf(nm->last_walk, sizeof(nm->last_walk), "error: %s", strerror(-rc));
		serve_nothing(nm, NM_FAILED, DNS_EDE_OTHER, "discovery could not run");
		schedule_retry(nm);
		return;
	}
	snprintf(nm->last_walk, sizeof(nm->last_walk), "%s%s%s", disc_kind_str(res->kind),
		 res->reason[0] ? ": " : "", res->reason);
	log_info("network %s: discovery: %s", nm->fp_id, nm->last_walk);

	switch (res->kind) {
	case DISC_OK:
		nm->retry_ms = 0;
		in.published = true;
		if (res->ksk_used >= 0)
			ksk = &res->ksk[res->ksk_used].key;
		if (!nm->job_first_use && res->anchor_matched >= 0) {
			in.observed = TRUST_OBS_TRUSTED;
			observe_rollover(nm, res);
		} else if (ksk) {
			struct trust_dnskey tk;
			key_to_trust(ksk, &tk);
			in.observed = trust_observed_of(trust_store_lookup(nm->store, ARPA_ZONE, &tk));
			/* a first-use anchor on a known network differs from its own */
			in.anchor_differs = nm->network_known && in.observed != TRUST_OBS_TRUSTED &&
					    in.observed != TRUST_OBS_MANAGED;
		}
		apply_policy(nm, &in, res, ksk, choose_desc(nm, res));
		break;
	case DISC_ANCHOR_MISMATCH:
		if (!nm->network_known) {
			/* an unknown network with an unknown key: first use */
			disc_result_free(res);
			if (start_walk(nm, true) < 0)
				serve_nothing(nm, NM_FAILED, DNS_EDE_OTHER, "discovery could not run");
			return;
		}
		in.published = true;
		in.observed = TRUST_OBS_UNKNOWN;
		in.anchor_differs = true;
		apply_policy(nm, &in, res, NULL, NULL);
		break;
	case DISC_NOT_PUBLISHED:
		nm->retry_ms = 0;
		in.published = false;
		apply_policy(nm, &in, res, NULL, NULL);
		break;
	case DISC_UNREACHABLE:
		/* No usable answer for resolver-name.arpa.  A known network stays
		 * strict; an unknown one is treated as publishing nothing (plain
		 * DNS would fail the same way if the resolver is really gone),
		 * and discovery is tried again later. */
		if (nm->network_known) {
			serve_nothing(nm, NM_FAILED, DNS_EDE_NETWORK_ERROR,
				      "the network's resolver does not answer discovery");
		} else {
			in.published = false;
			apply_policy(nm, &in, res, NULL, NULL);
		}
		schedule_retry(nm);
		break;
	case DISC_BOGUS:
	case DISC_FAILED:
		if (nm->network_known || !nm->job_first_use) {
			log_err("ALERT network %s: discovery failed where a known anchor applies: %s",
				nm->fp_id, res->reason);
			nm->alert = true;
			serve_nothing(nm, NM_REFUSED, DNS_EDE_DNSSEC_BOGUS,
				      "resolver-name.arpa failed validation");
			break;
		}
		log_warn("network %s: resolver-name.arpa is broken (%s); treating the network as "
			 "one that publishes nothing",
			 nm->fp_id, res->reason);
		in.published = false;
		apply_policy(nm, &in, res, NULL, NULL);
		break;
	}
	disc_result_free(res);
}

/* ------------------------------------------------------------ deciding */

/* No default route in any family and no resolver on this host: the link is
 * down, there is no network to discover (the next change will tell). */
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

static void decide(struct ds_netmgr *nm)
{
	const struct trust_resolver *r = NULL;
	const struct trust_anchor *a;
	struct ds_upstream_desc desc;

	evtimer_del(nm->retry_ev);
	evtimer_del(nm->refresh_ev);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
		return;
	}
	commit_clear(nm);
	nm->alert = false;
	nm->have_anchor = false;
	nm->from_store = false;
	if (nm->nres == 0) {
		serve_nothing(nm, NM_NO_RESOLVER, DNS_EDE_NOT_READY,
			      "the network gave no resolver address");
		return;
	}
	if (no_route_to_resolvers(nm)) {
		serve_nothing(nm, NM_WAITING, DNS_EDE_NOT_READY, "no network (no route)");
		ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY, "no network (no route)");
		return;
	}
	a = known_network_anchor(nm, &r);
	if (a && desc_from_resolver(r, &desc) == 0) {
		remember_anchor(nm, a);
		nm->from_store = true;
		trust_store_touch(nm->store, a, time(NULL));
		trust_store_seen_network(nm->store, a, nm->fp_text, time(NULL));
		store_save(nm);
		log_notice("network %s is known: DoT to %s with the stored TLSA, no discovery "
			   "traffic",
			   nm->fp_id, desc.name);
		serve_dot(nm, &desc, "known network, stored name and TLSA");
		ds_upstream_desc_clear(&desc);
		return;
	}
	set_state(nm, NM_DISCOVERING, "discovery in progress");
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY,
			    "discovery of the network's resolver in progress");
	if (start_walk(nm, false) < 0) {
		serve_nothing(nm, NM_FAILED, DNS_EDE_OTHER, "discovery could not run");
		schedule_retry(nm);
	}
}

/* Another network: nothing of the old one may leak into it. */
static void network_changed(struct ds_netmgr *nm, const struct ds_netfp *fp)
{
	nm->fp = *fp;
	nm->have_fp = true;
	if (ds_netfp_format(fp, nm->fp_text, sizeof(nm->fp_text)) < 0 ||
	    ds_netfp_id(fp, nm->fp_id, sizeof(nm->fp_id)) < 0) {
		nm->have_fp = false;
		snprintf(nm->fp_id, sizeof(nm->fp_id), "unknown");
	}
	nm->changes++;
	nm->retry_ms = 0;
	if (!nm->d->switch_start_us)
		nm->d->switch_start_us = ds_now_us();
	/* nothing of the old network is used any more: no cached answer, no
	 * connection, no session ticket; queries wait for the decision */
	if (nm->d->cache)
		ds_cache_flush(nm->d->cache);
	commit_clear(nm);
	if (nm->job) {
		nm->rerun = true;
		ds_walkjob_cancel(nm->job);
	}
	set_state(nm, NM_WAITING, "network changed");
	ds_daemon_set_upstream(nm->d, NULL, "none", false);
	ds_daemon_not_ready(nm->d, true, DNS_EDE_NOT_READY, "network changed");
	{
		struct timeval tv = { 0, SETTLE_MS * 1000 };
		evtimer_add(nm->settle_ev, &tv);
	}
}

static void settle_fired(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;

	if (!nm->job)
		decide(nm);
	/* else: walk_done sees rerun and decides */
}

static void on_netwatch(struct ds_netwatch *w, const struct ds_netfp *old,
			const struct ds_netfp *cur, unsigned flags, void *arg)
{
	struct ds_netmgr *nm = arg;
	char id[DS_NETFP_ID_LEN + 1] = "?";

	ds_netfp_id(cur, id, sizeof(id));
	if (flags & (DS_NETWATCH_INITIAL | DS_NETWATCH_CHANGED)) {
		log_notice("network %s: %s", id,
			   flags & DS_NETWATCH_INITIAL ? "initial fingerprint" : "network changed");
		network_changed(nm, cur);
		return;
	}
	if ((flags & DS_NETWATCH_BOUNCED) && nm->d->up) {
		log_notice("network %s: link bounced, same network: reconnecting", id);
		nm->d->switch_start_us = ds_now_us();
		ds_upstream_reset(nm->d->up);
		ds_upstream_connect_now(nm->d->up);
	}
}

static void set_resolvers_from(struct ds_netmgr *nm, const struct ds_netaddr *res, size_t n)
{
	struct ds_netaddr copy[DS_MAX_NETWORK_RESOLVERS];

	nm->nres = 0;
	for (size_t i = 0; i < n && nm->nres < DS_MAX_NETWORK_RESOLVERS; i++) {
		struct sockaddr_storage *ss = &nm->res[nm->nres];
		memset(ss, 0, sizeof(*ss));
		if (res[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;
			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			sin->sin_addr = res[i].u.v4;
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			sin6->sin6_addr = res[i].u.v6;
			sin6->sin6_scope_id = res[i].scope;
		}
		copy[nm->nres++] = res[i];
	}
	if (nm->nw)
		ds_netwatch_set_resolvers(nm->nw, copy, (size_t)nm->nres);
}

static void on_resolv(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc, int err, void *arg)
{
	struct ds_netmgr *nm = arg;

	if (err < 0)
		log_warn("resolv-source %s: %s", nm->d->cfg->resolv_source, strerror(-err));
	else
		log_info("resolv-source: %zu resolver(s)%s", rc->nres,
			 rc->bad_lines ? ", some nameserver lines were malformed" : "");
	set_resolvers_from(nm, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
	if (!nm->nw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, err < 0 ? NULL : rc->res, err < 0 ? 0 : rc->nres);
		network_changed(nm, &fp);
	}
}

/* Watch resolv-source; its directory may not exist yet (the network
 * manager creates it later): try again every few seconds. */
static void resolv_watch_try(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netmgr *nm = arg;
	const char *path = nm->d->cfg->resolv_source;
	struct timeval tv = { 5, 0 };
	int r;

	r = ds_resolvwatch_new(nm->d->base, path, 0, on_resolv, nm, &nm->rw);
	if (r == 0) {
		if (fd >= 0)
			log_notice("resolv-source %s: watching it now", path);
		return;
	}
	nm->rw = NULL;
	if (fd < 0)
		log_warn("resolv-source %s: %s; trying again every %ld s", path, strerror(-r),
			 (long)tv.tv_sec);
	if (!nm->rw_retry_ev)
		nm->rw_retry_ev = evtimer_new(nm->d->base, resolv_watch_try, nm);
	if (nm->rw_retry_ev)
		evtimer_add(nm->rw_retry_ev, &tv);
}

/* -------------------------------------------------------------- public */

int ds_netmgr_start(struct ds_daemon *d)
{
	struct ds_netmgr *nm = calloc(1, sizeof(*nm));
	const struct ds_config *c = d->cfg;
	struct trust_store_opts so = { .state_dir = c->state_dir, .managed_dir = c->anchors_dir };
	struct trust_open_report rep;
	struct ds_netaddr res[DS_MAX_NETWORK_RESOLVERS];
	int r;

	if (!nm)
		return -ENOMEM;
	nm->d = d;
	d->netmgr = nm;
	snprintf(nm->fp_id, sizeof(nm->fp_id), "-");
	snprintf(nm->network_match, sizeof(nm->network_match), "none");
	nm->retry_ev = evtimer_new(d->base, retry_fired, nm);
	nm->settle_ev = evtimer_new(d->base, settle_fired, nm);
	nm->refresh_ev = evtimer_new(d->base, refresh_fired, nm);
	nm->commit.ev = evtimer_new(d->base, commit_poll, nm);
	if (!nm->retry_ev || !nm->commit.ev || !nm->settle_ev || !nm->refresh_ev)
		return -ENOMEM;

	r = trust_store_open(&so, &nm->store, &rep);
	if (r == TRUST_STORE_QUARANTINED) {
		log_err("ALERT trust store was corrupt (%s%s%u): moved to %s; starting with no pins",
			rep.error, rep.line ? " at line " : "", rep.line, rep.quarantined);
	} else if (r < 0) {
		log_err("trust store in %s: %s; starting with no pins", c->state_dir, strerror(-r));
		nm->store = trust_store_new_memory(0);
		if (!nm->store)
			return -ENOMEM;
	}
	if (rep.managed_skipped)
		log_warn("managed anchors: %u file(s) skipped: %s", rep.managed_skipped,
			 rep.managed_error);
	log_info("trust store: %zu anchor(s)", trust_store_count(nm->store));

	/* the network's resolvers: configured, or from resolv-source */
	for (int i = 0; i < c->nnetwork_resolver; i++) {
		nm->res[i] = c->network_resolver[i];
		ds_netaddr_from_sockaddr((const struct sockaddr *)&c->network_resolver[i],
					 sizeof(c->network_resolver[i]), &res[i]);
	}
	nm->nres = c->nnetwork_resolver;

	{
		struct ds_netwatch_opts wo = { .debounce_ms = NETWATCH_DEBOUNCE_MS };
		r = ds_netwatch_new(d->base, &wo, on_netwatch, nm, &nm->nw);
	}
	if (r < 0) {
		log_warn("netlink: %s; networks are told apart by their resolvers only",
			 strerror(-r));
		nm->nw = NULL;
	} else if (nm->nres) {
		ds_netwatch_set_resolvers(nm->nw, res, (size_t)nm->nres);
	}
	if (c->resolv_source[0] && c->nnetwork_resolver == 0)
		resolv_watch_try(-1, 0, nm);
	set_state(nm, NM_WAITING, "waiting for network information");
	ds_daemon_not_ready(d, true, DNS_EDE_NOT_READY, "waiting for network information");
	if (!nm->nw && !nm->rw) {
		struct ds_netfp fp;
		ds_netfp_init(&fp);
		ds_netfp_set_resolvers(&fp, res, (size_t)nm->nres);
		network_changed(nm, &fp);
	}
	return 0;
}

void ds_netmgr_stop(struct ds_daemon *d)
{
	struct ds_netmgr *nm = d->netmgr;

	if (!nm)
		return;
	ds_walkjob_cancel_wait(nm->job);
	ds_netwatch_free(nm->nw);
	ds_resolvwatch_free(nm->rw);
	commit_clear(nm);
	ds_upstream_desc_clear(&nm->cur_desc);
	if (nm->retry_ev)
		event_free(nm->retry_ev);
	if (nm->commit.ev)
		event_free(nm->commit.ev);
	if (nm->settle_ev)
		event_free(nm->settle_ev);
	if (nm->refresh_ev)
		event_free(nm->refresh_ev);
	if (nm->rw_retry_ev)
		event_free(nm->rw_retry_ev);
	trust_store_close(nm->store);
	free(nm);
	d->netmgr = NULL;
}

/* ------------------------------------------------------------- status */

static const char *tofu_str(enum ds_tofu_mode m)
{
	return m == DS_TOFU_ASK ? "ask" : m == DS_TOFU_OFF ? "off" : "auto";
}

static void json_str(struct evbuffer *out, const char *key, const char *s, bool comma)
{
	evbuffer_add_printf(out, "\"%s\": ", key);
	ds_json_str(out, s);
	if (comma)
		evbuffer_add_printf(out, ", ");
}

void ds_netmgr_describe(struct ds_daemon *d, struct evbuffer *out, bool json)
{
	struct ds_netmgr *nm = d->netmgr;
	char res[256] = "", sha[2 * TRUST_SHA256_LEN + 1] = "";
	size_t len = 0;

	if (!nm) {
		if (json)
			evbuffer_add_printf(out, "\"discovery\": null");
		return;
	}
	for (int i = 0; i < nm->nres && len + 64 < sizeof(res); i++) {
		char a[DISC_ADDR_STR_MAX];
		format_resolver(&nm->res[i], a, sizeof(a));
		len += (size_t)snprintf(res + len, sizeof(res) - len, "%s%s", i ? " " : "", a);
	}
	if (nm->have_anchor)
		ds_hex_encode(nm->anchor_sha, TRUST_SHA256_LEN, sha);
	if (json) {
		evbuffer_add_printf(out, "\"network\": {");
		json_str(out, "id", nm->fp_id, true);
		json_str(out, "fingerprint", nm->have_fp ? nm->fp_text : "", true);
		json_str(out, "match", nm->network_match, true);
		evbuffer_add_printf(out, "\"known\": %s, \"changes\": %llu}, ",
				    nm->network_known ? "true" : "false",
				    (unsigned long long)nm->changes);
		evbuffer_add_printf(out, "\"discovery\": {");
		json_str(out, "state", state_names[nm->state], true);
		json_str(out, "reason", nm->reason, true);
		json_str(out, "resolvers", res, true);
		json_str(out, "upstream", nm->upstream_name, true);
		evbuffer_add_printf(out, "\"from_store\": %s, \"alert\": %s, ",
				    nm->from_store ? "true" : "false", nm->alert ? "true" : "false");
		if (nm->have_anchor)
			evbuffer_add_printf(out, "\"anchor\": {\"tag\": %u, \"algorithm\": %u, "
						 "\"sha256\": \"%s\"}, ",
					    nm->anchor_tag, nm->anchor_alg, sha);
		json_str(out, "last_walk", nm->last_walk, true);
		evbuffer_add_printf(out, "\"forwarder_upstreams\": [");
		for (int i = 0; i < nm->nupstreams; i++) {
			evbuffer_add_printf(out, "%s", i ? ", " : "");
			evbuffer_add_printf(out, "{");
			json_str(out, "upstream", nm->upstreams[i], false);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "], ");
		evbuffer_add_printf(out, "\"walks\": %llu, ", (unsigned long long)nm->walks);
		json_str(out, "tofu", tofu_str(d->cfg->tofu), true);
		json_str(out, "unknown_network",
			 d->cfg->unknown_network == DS_UNKNOWN_STRICT ? "strict" : "opportunistic",
			 false);
		evbuffer_add_printf(out, "}");
		return;
	}
	evbuffer_add_printf(out, "network:    %s, %s%s\n", nm->fp_id,
			    nm->network_known ? "known" : "unknown",
			    strcmp(nm->network_match, "none") ? "" : "");
	if (strcmp(nm->network_match, "none") && strcmp(nm->network_match, "exact"))
		evbuffer_add_printf(out, "  match:    %s\n", nm->network_match);
	if (nm->have_fp)
		evbuffer_add_printf(out, "  fingerprint: %s\n", nm->fp_text);
	evbuffer_add_printf(out, "  resolvers: %s\n", res[0] ? res : "none");
	evbuffer_add_printf(out, "discovery:  %s%s%s\n", state_names[nm->state],
			    nm->reason[0] ? " -- " : "", nm->reason);
	if (nm->alert)
		evbuffer_add_printf(out, "  ALERT:    see the log; `dotctl trust list` to review\n");
	if (nm->have_anchor)
		evbuffer_add_printf(out, "  anchor:   resolver-name.arpa key tag %u alg %u sha256 %.16s...%s\n",
				    nm->anchor_tag, nm->anchor_alg, sha,
				    nm->from_store ? " (known network, from the store)" : "");
	if (nm->last_walk[0])
		evbuffer_add_printf(out, "  last walk: %s\n", nm->last_walk);
	for (int i = 0; i < nm->nupstreams; i++)
		evbuffer_add_printf(out, "  forwarder upstream: %s\n", nm->upstreams[i]);
	if (nm->refreshes)
		evbuffer_add_printf(out, "  refresh:  %llu over DoT, %llu failed; last: %s\n",
				    (unsigned long long)nm->refreshes,
				    (unsigned long long)nm->refresh_failures, nm->last_refresh);
	evbuffer_add_printf(out, "  policy:   tofu %s, unknown-network %s\n", tofu_str(d->cfg->tofu),
			    d->cfg->unknown_network == DS_UNKNOWN_STRICT ? "strict" : "opportunistic");
}

struct trust_store *ds_netmgr_store(struct ds_daemon *d)
{
	return d->netmgr ? d->netmgr->store : NULL;
}

void ds_netmgr_redecide(struct ds_daemon *d)
{
	if (d->netmgr && d->netmgr->have_fp)
		network_changed(d->netmgr, &d->netmgr->fp);
}

const char *ds_netmgr_fingerprint(struct ds_daemon *d)
{
	return d->netmgr && d->netmgr->have_fp ? d->netmgr->fp_text : NULL;
}
