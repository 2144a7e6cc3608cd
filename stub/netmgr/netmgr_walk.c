/*
 * netmgr_walk.c -- starting discovery walks (their results go to the
 * callback the network manager set, nm->on_walk_done), and the periodic
 * refresh of the resolver's records over the DoT connection itself:
 * changed TLSA and addresses followed, RFC 5011 applied.
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
	struct ds_walkjob_adn adn[DS_WALKJOB_MAX_ADN];
	struct ds_walkjob_desig x = { 0 };
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
	/* DDR (RFC 9462 4) is asked of the network's resolver itself, not of
	 * our own DoT on a refresh; so are the ADNs of ADN-only DNR
	 * designations (RFC 9463 3.1.6) */
	x.ddr_server = !refresh && nm->d->cfg->ddr && nm->nres > 0 ? &nm->res[0] : NULL;
	if (!refresh && nm->nres > 0) {
		x.adn_server = &nm->res[0];
		x.adn = adn;
		x.nadn = nm_ddr_adn_only(nm, adn, DS_WALKJOB_MAX_ADN);
	}
	r = ds_walkjob_start_ddr(nm->d->base, &p, &x, nm->on_walk_done, nm, &nm->job);
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

	if (!s) {
		time_t now = ds_wall_now();
		/* RFC 5011 2.3; the signature expiry is not known here: assume
		 * the provisioning default of 30 days */
		s = after_failure ? trust_5011_retry_interval(900, now + 30 * 86400, now)
				  : trust_5011_refresh_interval(900, now + 30 * 86400, now);
	}
	ds_timer_arm_ms(nm->refresh_ev, (uint64_t)s * 1000);
}

/* How long a link's refresh waits while another refresh runs. */
#define NM_REFRESH_BUSY_MS 1000

void nm_refresh_fired(void *arg)
{
	struct ds_netmgr *nm = arg;

	if (nm->state != TRUST_POSTURE_DOT || nm->job)
		return;
	/* one refresh over our own DoT at a time: the resolver's names are
	 * routed to the lane of the network being refreshed meanwhile */
	if (nm->hub && nm->hub->refreshing && nm->hub->refreshing != nm) {
		ds_timer_arm_ms(nm->refresh_ev, NM_REFRESH_BUSY_MS);
		return;
	}
	if (nm->refresh_hook)
		nm->refresh_hook(nm, true);
	if (start_walk_at(nm, false, true) < 0) {
		if (nm->refresh_hook)
			nm->refresh_hook(nm, false);
		nm_refresh_arm(nm, true);
	}
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
void nm_refresh_done(struct ds_netmgr *nm, struct disc_result *res)
{
	const struct trust_anchor *a = NULL;

	nm->refreshes++;
	snprintf(nm->last_refresh, sizeof(nm->last_refresh), "%s%s%s",
		 trust_discovery_name(res->kind), res->reason[0] ? ": " : "", res->reason);
	if (res->kind != TRUST_DISC_OK) {
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
	if (nm->lane->up && strcmp(res->desc.name, nm->upstream_name) == 0 &&
	    !desc_same(&res->desc, &nm->cur_desc)) {
		if (ds_upstream_update(nm->lane->up, &res->desc) == 0) {
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

