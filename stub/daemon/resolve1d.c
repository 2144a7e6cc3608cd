/*
 * resolve1d.c -- the daemon's side of the org.freedesktop.resolve1 D-Bus
 * API (stub/bus/, dotstub/resolve1.h): the hooks it calls.
 *
 *  - A link's configuration (SetLinkDNS, SetLinkDomains, ...) is logged,
 *    and the resolvers of the default-route link are handed to the
 *    network manager the way resolv-source hands them over
 *    (feed_network), with its search domains for resolv-conf-out: a
 *    laptop whose NetworkManager talks to dotstubd needs no resolv.conf
 *    file in between.
 *  - Resolve calls go through the query path (resolve.c) as an internal
 *    client, like dotctl query: local names, the cache, the upstream,
 *    waiting while the network changes, SERVFAIL with a reason.
 *  - FlushCaches flushes the cache, ResetServerFeatures reconnects to the
 *    upstream.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotstub/resolve1.h"
#include "dotstub/sockaddr.h"

struct ds_resolve1d {
	struct ds_daemon *d;
	struct ds_r1 *r1;
	/* what feed_network handed over last */
	bool fed;
	int fed_ifindex;
	struct ds_netaddr fed_res[DS_MAX_NETWORK_RESOLVERS];
	size_t nfed_res;
	char fed_search[DS_RESOLVCONF_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t nfed_search;
};

/* ---------------------------------------------------------------- the log line */

static void format_server(const struct ds_link_dns *s, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 53;

	if (s->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->addr;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
	} else if (s->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
	}
	snprintf(out, outlen, "%s%s%.0u%s%s", a, port != 53 ? ":" : "", port != 53 ? port : 0,
		 s->server_name[0] ? "#" : "", s->server_name);
}

static const char *tristate(enum ds_tristate t)
{
	return t == DS_YES ? "yes" : t == DS_NO ? "no" : "unset";
}

static const char *dot_name(enum ds_link_dot m)
{
	return m == DS_LINKDOT_YES ? "yes"
	       : m == DS_LINKDOT_OPPORTUNISTIC ? "opportunistic"
	       : m == DS_LINKDOT_NO ? "no"
				      : "unset";
}

static void log_link(const struct ds_linkconf *lc, uid_t uid)
{
	char dns[DS_LINK_MAX_DNS * 80 + 8] = "", dom[DS_LINK_MAX_DOMAINS * 32 + 8] = "", one[320];
	size_t dl = 0, ml = 0;

	for (int i = 0; i < lc->ndns && i < DS_LINK_MAX_DNS; i++) {
		format_server(&lc->dns[i], one, sizeof(one));
		dl += (size_t)snprintf(dns + dl, sizeof(dns) - dl, "%s%s", i ? " " : "", one);
		if (dl >= sizeof(dns))
			dl = sizeof(dns) - 1;
	}
	for (int i = 0; i < lc->ndomains && i < DS_LINK_MAX_DOMAINS; i++) {
		ml += (size_t)snprintf(dom + ml, sizeof(dom) - ml, "%s%s%.30s", i ? " " : "",
				       lc->domains[i].route_only ? "~" : "",
				       lc->domains[i].name[0] ? lc->domains[i].name : ".");
		if (ml >= sizeof(dom))
			ml = sizeof(dom) - 1;
	}
	log_notice("resolve1: link %s (%d): DNS %s, domains %s, default-route %s, DNSOverTLS %s, "
		   "DNSSEC %s, LLMNR %s, mDNS %s, set by uid %ld",
		   lc->ifname, lc->ifindex, dl ? dns : "none", ml ? dom : "none",
		   tristate(lc->default_route), dot_name(lc->dot),
		   lc->dnssec[0] ? lc->dnssec : "unset", lc->llmnr[0] ? lc->llmnr : "unset",
		   lc->mdns[0] ? lc->mdns : "unset", (long)uid);
}

/* ---------------------------------------------------------------- the network's resolvers */

/* resolved's rule for a link whose DefaultRoute was not set */
static bool is_default_route(const struct ds_linkconf *lc)
{
	bool search = false;

	if (lc->default_route != DS_UNSET)
		return lc->default_route == DS_YES;
	for (int i = 0; i < lc->ndomains; i++) {
		if (lc->domains[i].route_only && !lc->domains[i].name[0])
			return true;
		search |= !lc->domains[i].route_only;
	}
	return lc->ndomains == 0 || search;
}

/* A search domain resolv.conf may carry: letters, digits, inner hyphens. */
static bool host_name(const char *s)
{
	size_t label = 0;

	if (!s[0])
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (!*p)
				return true;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      (*p == '-' && label > 0)))
			return false;
		label++;
	}
}

/* The link whose DNS servers are the network's: a default-route link with
 * servers -- the one the kernel's default route leaves by, else the one
 * with the lowest index.  0: none. */
static int pick_link(struct ds_daemon *d, const struct ds_linkconf *links, int n)
{
	struct ds_netwatch *w = ds_netmgr_netwatch(d);
	const struct ds_netfp *fp = w ? ds_netwatch_current(w) : NULL;
	int best = -1;

	for (int i = 0; i < n; i++) {
		if (links[i].ndns == 0 || !is_default_route(&links[i]))
			continue;
		for (int f = 0; fp && f < DS_NETFP_NAF; f++)
			if (fp->af[f].route && fp->af[f].ifindex == links[i].ifindex)
				return i;
		if (best < 0 || links[i].ifindex < links[best].ifindex)
			best = i;
	}
	return best;
}

/*
 * Hand the network manager the resolvers of the default-route link, and
 * resolv-conf-out its search domains, as resolv-source does (not when
 * network-resolver names them in the configuration).  When the network
 * manager keeps a table of links itself, this goes.
 */
static void feed_network(struct ds_resolve1d *rd, bool force)
{
	struct ds_daemon *d = rd->d;
	struct ds_linkconf *links = malloc(DS_R1_MAX_LINKS * sizeof(*links));
	struct ds_netaddr res[DS_MAX_NETWORK_RESOLVERS];
	char search[DS_RESOLVCONF_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t nres = 0, nsearch = 0;
	int n, pick, ifindex = 0;

	if (!links || d->cfg->nnetwork_resolver > 0) {
		free(links);
		return;
	}
	n = ds_r1_links(rd->r1, links, DS_R1_MAX_LINKS);
	if (n > DS_R1_MAX_LINKS)
		n = DS_R1_MAX_LINKS;
	pick = pick_link(d, links, n);
	memset(search, 0, sizeof(search));
	if (pick >= 0) {
		const struct ds_linkconf *lc = &links[pick];

		ifindex = lc->ifindex;
		for (int i = 0; i < lc->ndns && nres < DS_MAX_NETWORK_RESOLVERS; i++)
			if (ds_netaddr_from_sockaddr((const struct sockaddr *)&lc->dns[i].addr,
						     sizeof(lc->dns[i].addr), &res[nres]) == 0)
				nres++;
		for (int i = 0; i < lc->ndomains && nsearch < DS_RESOLVCONF_MAX_SEARCH; i++)
			if (!lc->domains[i].route_only && host_name(lc->domains[i].name))
				snprintf(search[nsearch++], sizeof(search[0]), "%s",
					 lc->domains[i].name);
	}
	free(links);
	if (!rd->fed && nres == 0)
		return; /* nothing was handed over, nothing to take back */
	if (!force && rd->fed_ifindex == ifindex &&
	    rd->nfed_res == nres && !memcmp(rd->fed_res, res, nres * sizeof(res[0])) &&
	    rd->nfed_search == nsearch && !memcmp(rd->fed_search, search, sizeof(search)))
		return;
	if (ifindex)
		log_notice("resolve1: the network's resolvers are those of link %d now (%zu "
			   "resolver(s), %zu search domain(s))",
			   ifindex, nres, nsearch);
	else
		log_notice("resolve1: no link with DNS servers is a default route: the network has "
			   "no resolver from D-Bus now");
	rd->fed = true;
	rd->fed_ifindex = ifindex;
	memcpy(rd->fed_res, res, nres * sizeof(res[0]));
	rd->nfed_res = nres;
	memcpy(rd->fed_search, search, sizeof(search));
	rd->nfed_search = nsearch;
	ds_stubresolv_set_search(d, (const char(*)[DS_RESOLVCONF_NAME_MAX + 1])search, nsearch);
	ds_netmgr_set_resolvers(d, res, nres);
}

/* ---------------------------------------------------------------- hooks: links */

static void h_set_link(void *arg, const struct ds_linkconf *lc, uid_t uid)
{
	log_link(lc, uid);
	feed_network(arg, false);
}

static void h_revert_link(void *arg, int ifindex, uid_t uid)
{
	if (uid != (uid_t)-1)
		log_notice("resolve1: link %d: reverted to no DNS configuration by uid %ld", ifindex,
			   (long)uid);
	feed_network(arg, false);
}

static void h_flush_caches(void *arg)
{
	struct ds_resolve1d *rd = arg;

	if (rd->d->cache)
		ds_cache_flush(rd->d->cache);
}

static void h_reset_server_features(void *arg)
{
	struct ds_resolve1d *rd = arg;

	if (rd->d->up) {
		ds_upstream_reset(rd->d->up);
		ds_upstream_connect_now(rd->d->up);
	}
}

/* ---------------------------------------------------------------- hooks: queries */

struct ds_busquery {
	struct ds_daemon *d;
	struct ds_request *req;
	ds_r1_resolve_done *done;
	void *cbarg;
};

static bool serving(const struct ds_daemon *d)
{
	return d->up || d->plain;
}

static void origin_track(struct ds_request *req)
{
	req->origin.bus->req = req;
}

static void origin_untrack(struct ds_request *req)
{
	struct ds_busquery *q = req->origin.bus;

	q->done(q->cbarg, -EIO, NULL, 0, 0);
	free(q);
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_busquery *q = req->origin.bus;
	unsigned flags;

	if (len >= DNS_HDR_LEN && (pkt[3] & 0x0f) == DNS_RCODE_SERVFAIL && !serving(q->d))
		flags = DS_R1_ANS_NO_SERVER;
	else
		flags = req->authenticated ? DS_R1_ANS_DOT : DS_R1_ANS_PLAIN;
	q->done(q->cbarg, 0, pkt, len, flags);
	free(q);
}

static const struct ds_origin_ops bus_origin_ops = {
	.track = origin_track, .untrack = origin_untrack, .reply = origin_reply,
};

static int h_resolve(void *arg, const uint8_t *query, size_t len, int ifindex,
		     ds_r1_resolve_done *done, void *cbarg, void **handle)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;
	struct ds_origin o = { .kind = DS_ORIGIN_BUS, .ops = &bus_origin_ops };
	struct ds_busquery *q = calloc(1, sizeof(*q));
	uint8_t *out = malloc(DNS_MSG_MAX);
	struct ds_stats before = d->stats;
	size_t outlen = 0;
	unsigned flags;
	int r = 0;

	if (!q || !out) {
		free(q);
		free(out);
		return -ENOMEM;
	}
	q->d = d;
	q->done = done;
	q->cbarg = cbarg;
	o.bus = q;
	switch (ds_resolve(d, query, len, &o, out, &outlen)) {
	case DS_RESOLVE_PENDING:
		*handle = q;
		q = NULL;
		r = 1;
		break;
	case DS_RESOLVE_ANSWER:
		if (d->stats.cache_hits != before.cache_hits)
			flags = DS_R1_ANS_CACHE;
		else if (d->stats.servfail_not_ready != before.servfail_not_ready)
			flags = DS_R1_ANS_NO_SERVER;
		else
			flags = DS_R1_ANS_LOCAL;
		done(cbarg, 0, out, outlen, flags);
		break;
	case DS_RESOLVE_DROP:
		r = -EINVAL;
		break;
	}
	free(out);
	free(q);
	return r;
}

static void h_resolve_cancel(void *arg, void *handle)
{
	struct ds_busquery *q = handle;

	if (q->req)
		ds_request_cancel(q->req);
	free(q);
}

/* ---------------------------------------------------------------- hooks: state */

static void h_link_state(void *arg, int ifindex, struct ds_r1_linkstate *out)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;
	bool strict = d->cfg->upstream.naddr > 0 || d->cfg->unknown_network == TRUST_UNKNOWN_STRICT;

	memset(out, 0, sizeof(*out));
	out->transport = d->up ? "dot" : d->plain ? "plain" : "none";
	out->dot_mode = strict ? "yes" : "opportunistic";
	out->ifindex = rd->fed_ifindex;
	if (ifindex != 0 && ifindex != rd->fed_ifindex)
		return;
	if (d->up) {
		struct ds_upstream_status us;

		ds_upstream_get_status(d->up, &us);
		out->serving = us.addr[0] && ds_parse_sockaddr(us.addr, 853, &out->current) == 0;
		snprintf(out->server_name, sizeof(out->server_name), "%.*s",
			 (int)sizeof(out->server_name) - 1, us.name);
	} else if (d->plain) {
		struct ds_plain_status ps;

		ds_plain_get_status(d->plain, &ps);
		out->serving = ps.addr[0] && ds_parse_sockaddr(ps.addr, 53, &out->current) == 0;
	}
}

static void h_stats(void *arg, struct ds_r1_stats *out)
{
	struct ds_resolve1d *rd = arg;
	struct ds_daemon *d = rd->d;

	out->current_transactions = d->pending;
	out->total_transactions = d->stats.queries;
	if (d->cache) {
		struct ds_cache_stats cs;

		ds_cache_get_stats(d->cache, &cs);
		out->cache_size = cs.entries;
		out->cache_hits = cs.hits;
		out->cache_misses = cs.misses;
	}
}

/* ---------------------------------------------------------------- open, close */

static void make_opts(const struct ds_config *c, struct ds_r1_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_calls = c->dbus_max_calls;
	o->own_uid = geteuid();
	if (c->resolve1_group[0]) {
		struct group *g = getgrnam(c->resolve1_group);

		if (g) {
			o->has_group = true;
			o->group = g->gr_gid;
		} else {
			log_warn("resolve1-group %s: no such group; only root and the daemon's "
				 "user may change links",
				 c->resolve1_group);
		}
	}
	for (int i = 0; i < c->nnetwork_resolver && i < DS_R1_MAX_GLOBAL_DNS; i++)
		o->global_dns[o->nglobal_dns++] = c->network_resolver[i];
	if (strcmp(c->resolv_conf_out, "none") != 0)
		snprintf(o->resolv_conf_out, sizeof(o->resolv_conf_out), "%s", c->resolv_conf_out);
}

int ds_resolve1d_open(struct ds_daemon *d)
{
	struct ds_resolve1d *rd;
	struct ds_r1_opts o;
	struct ds_r1_hooks h;
	int r;

	if (!d->cfg->resolve1 || d->resolve1)
		return 0;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->d = d;
	make_opts(d->cfg, &o);
	h = (struct ds_r1_hooks){
		.arg = rd,
		.set_link = h_set_link,
		.revert_link = h_revert_link,
		.flush_caches = h_flush_caches,
		.reset_server_features = h_reset_server_features,
		.resolve = h_resolve,
		.resolve_cancel = h_resolve_cancel,
		.link_state = h_link_state,
		.stats = h_stats,
	};
	r = ds_r1_open(d->base, &o, &h, &rd->r1);
	if (r < 0) {
		free(rd);
		return r;
	}
	if (d->cfg->nnetwork_resolver > 0)
		log_notice("resolve1: network-resolver is configured: the links' DNS servers are "
			   "shown, not used");
	else if (d->cfg->resolv_source[0])
		log_notice("resolve1: resolv-source is configured too: the network's resolvers "
			   "are the ones either of them changed last");
	d->resolve1 = rd;
	return 0;
}

void ds_resolve1d_close(struct ds_daemon *d)
{
	if (!d->resolve1)
		return;
	ds_r1_close(d->resolve1->r1);
	free(d->resolve1);
	d->resolve1 = NULL;
}

void ds_resolve1d_reload(struct ds_daemon *d)
{
	struct ds_r1_opts o;

	if (!d->cfg->resolve1) {
		if (d->resolve1)
			log_notice("resolve1: off after the reload: leaving the system bus");
		ds_resolve1d_close(d);
		return;
	}
	if (!d->resolve1) {
		if (ds_resolve1d_open(d) < 0)
			log_err("reload: resolve1: cannot serve the D-Bus API");
		return;
	}
	make_opts(d->cfg, &o);
	ds_r1_set_opts(d->resolve1->r1, &o);
	/* a new network manager: it has no resolver from the links yet */
	feed_network(d->resolve1, true);
}
