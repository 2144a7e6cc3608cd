/*
 * resolve.c -- what dotstubd does with one client query: parse it, answer
 * locally what must never leave the host (RFC 6761 localhost, RFC 9462
 * resolver.arpa) and what the daemon publishes itself (publishd.c: its
 * resolver-name.arpa, with publish yes), answer from the cache, or send it over the authenticated
 * upstream and answer when it replies.  Each query goes to the lane its
 * name is routed to (a link's routing or search domain, else the default
 * lane; a resolve1 call that names a link: that link's), and is answered from that lane's cache partition and upstream.  Failures are explicit: SERVFAIL with
 * an Extended DNS Error, never clear text.
 */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include <event2/event.h>

#include "dotstub/log.h"

/* wire form of "localhost." and "resolver.arpa." */
static const uint8_t name_localhost[] = "\x09" "localhost";
static const uint8_t name_resolver_arpa[] = "\x08" "resolver" "\x04" "arpa";
#define LOCAL_TTL 3600

static uint64_t now_s(void)
{
	return ds_now_us() / 1000000u;
}

static size_t max_answer_size(const struct ds_origin *o, const struct dns_query *q)
{
	size_t sz;

	if (o->kind != DS_ORIGIN_UDP)
		return DNS_MSG_MAX;
	if (!q->has_edns)
		return 512;
	sz = q->udp_size < 512 ? 512 : q->udp_size;
	return sz > DNS_EDNS_UDP_SIZE ? DNS_EDNS_UDP_SIZE : sz;
}

static const struct dns_answer_opts no_opts = { .age = 0, .ede_code = -1 };

static enum ds_resolve_rc error_answer(struct ds_daemon *d, const struct dns_query *q, int rcode,
				       int ede, const char *text, uint8_t *out, size_t *outlen)
{
	struct dns_answer_opts o = { .age = 0, .ede_code = ede, .ede_text = text };
	int n = dns_compose_error(q, rcode, &o, out, DNS_MSG_MAX);

	if (n < 0) {
		d->stats.dropped++;
		return DS_RESOLVE_DROP;
	}
	*outlen = (size_t)n;
	return DS_RESOLVE_ANSWER;
}

/* RFC 6761 6.3: localhost and below resolve to loopback, locally. */
static bool answer_localhost(struct ds_daemon *d, const struct dns_query *q, uint8_t *out,
			     size_t *outlen)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 };
	static const uint8_t v6[16] = { [15] = 1 };
	int n;

	if (!dns_name_is_subdomain(q->qname, q->qname_len, name_localhost, sizeof(name_localhost)))
		return false;
	d->stats.local_answers++;
	if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_A)
		n = dns_compose_local(q, LOCAL_TTL, v4, sizeof(v4), out, DNS_MSG_MAX);
	else if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_AAAA)
		n = dns_compose_local(q, LOCAL_TTL, v6, sizeof(v6), out, DNS_MSG_MAX);
	else
		n = dns_compose_error(q, DNS_RCODE_NOERROR, &no_opts, out, DNS_MSG_MAX);
	if (n < 0)
		n = 0; /* cannot happen with a parsed query; never forward it */
	*outlen = (size_t)n;
	return true;
}

/* RFC 9462 6.1: resolver.arpa is answered by the resolver the client talks
 * to -- that is us -- and never forwarded.  We publish no DDR records. */
static bool answer_resolver_arpa(struct ds_daemon *d, const struct dns_query *q, uint8_t *out,
				 size_t *outlen)
{
	int n;

	if (!dns_name_is_subdomain(q->qname, q->qname_len, name_resolver_arpa,
				   sizeof(name_resolver_arpa)))
		return false;
	d->stats.local_answers++;
	n = dns_compose_error(q, DNS_RCODE_NOERROR, &no_opts, out, DNS_MSG_MAX);
	*outlen = n < 0 ? 0 : (size_t)n;
	return true;
}

/*
 * Clients whose queries keep failing upstream (a flood of names that
 * cannot be resolved) are held back: a token bucket per source address
 * (IPv6: per /64) is charged for every forwarded query whose answer was a
 * failure, and refills at FAIL_RATE per second up to FAIL_BURST.  While
 * it is empty, the client's queries that would go upstream are answered
 * REFUSED locally.  Cache hits and local answers never look at it; a
 * fixed table, a slot per hash, the newest failing client taking a slot
 * over.
 */
#define FAIL_SLOTS 512          /* power of two */
#define FAIL_BURST 32
#define FAIL_RATE 8             /* tokens per second */
#define FAIL_TOKEN_US (1000000u / FAIL_RATE)

struct ds_failrate {
	struct fail_slot {
		uint8_t key[9];          /* family tag + IPv4 or IPv6 /64 */
		uint8_t tokens;
		uint64_t stamp_us;       /* tokens counted up to here */
	} slot[FAIL_SLOTS];
};

/* The key of peer: false if it has none (no limit applies). */
static bool fail_key(const struct ds_origin *o, uint8_t key[9])
{
	const struct sockaddr_storage *ss = &o->peer;

	memset(key, 0, 9);
	if (ss->ss_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
		return true;
	}
	return false;
}

static struct fail_slot *fail_slot(struct ds_failrate *f, const uint8_t key[9])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 9; i++)
		h = (h ^ key[i]) * 16777619u;
	return &f->slot[h & (FAIL_SLOTS - 1)];
}

static void fail_refill(struct fail_slot *s, uint64_t now)
{
	uint64_t n;

	if (now <= s->stamp_us)
		return;
	n = (now - s->stamp_us) / FAIL_TOKEN_US;
	if (n >= (uint64_t)(FAIL_BURST - s->tokens)) {
		s->tokens = FAIL_BURST;
		s->stamp_us = now;
	} else {
		s->tokens = (uint8_t)(s->tokens + n);
		s->stamp_us += n * FAIL_TOKEN_US;
	}
}

/* Has this client used up its failures? */
static bool fail_limited(struct ds_daemon *d, const struct ds_origin *o, uint64_t now)
{
	struct fail_slot *s;
	uint8_t key[9];

	if (d->failrate == NULL || !fail_key(o, key))
		return false;
	s = fail_slot(d->failrate, key);
	if (memcmp(s->key, key, sizeof(key)) != 0)
		return false;
	fail_refill(s, now);
	return s->tokens == 0;
}

static void fail_charge(struct ds_daemon *d, const struct ds_origin *o, uint64_t now)
{
	struct fail_slot *s;
	uint8_t key[9];

	if (d->failrate == NULL || !fail_key(o, key))
		return;
	s = fail_slot(d->failrate, key);
	if (memcmp(s->key, key, sizeof(key)) != 0) {
		memcpy(s->key, key, sizeof(key));
		s->tokens = FAIL_BURST;
		s->stamp_us = now;
	}
	fail_refill(s, now);
	if (s->tokens > 0)
		s->tokens--;
}

/* A failure of the query itself (not of the connection, which every
 * client would pay for): the upstream's SERVFAIL, FORMERR, NOTIMP or
 * REFUSED, a malformed answer, a timeout. */
static bool query_failed(enum ds_upstream_err err, const struct dns_response *r)
{
	if (err == DS_UP_OK) {
		unsigned rc = DNS_RCODE(r->flags);

		return rc == DNS_RCODE_SERVFAIL || rc == DNS_RCODE_FORMERR ||
		       rc == DNS_RCODE_NOTIMP || rc == DNS_RCODE_REFUSED;
	}
	return err == DS_UP_ERR_BADANSWER || err == DS_UP_ERR_TIMEOUT;
}

static int ede_for(enum ds_upstream_err e, const char **text)
{
	switch (e) {
	case DS_UP_ERR_AUTH:
		*text = "upstream failed DANE authentication";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_NO_TLSA:
		*text = "upstream has no usable TLSA record";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_TLS:
		*text = "TLS handshake with upstream failed";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_NETWORK:
		*text = "upstream unreachable";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_TIMEOUT:
		*text = "upstream timed out";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_OVERLOAD:
		*text = "too many queries pending";
		return DNS_EDE_OTHER;
	case DS_UP_ERR_BADANSWER:
		*text = "malformed answer from upstream";
		return DNS_EDE_NETWORK_ERROR;
	case DS_UP_ERR_CANCELLED:
		*text = "upstream changed";
		return DNS_EDE_NOT_READY;
	case DS_UP_OK:
		break;
	}
	*text = NULL;
	return DNS_EDE_OTHER;
}

/*
 * A burst of forwarded queries leaves the heap with the high-water mark of
 * its requests (and the upstream's query records) in scattered free chunks
 * that glibc keeps for later; on a router that RAM is better given back.
 * Some seconds after a thousand requests, when none is pending, the heap
 * is trimmed (about 0.25 MiB after the benchmark's loads).  musl gives
 * memory back by itself.
 */
#define TRIM_AFTER_REQUESTS 1024
#define TRIM_DELAY_MS 5000

static void trim_timer_arm(struct ds_daemon *d)
{
	if (d->trim_timer != NULL)
		ds_timer_arm_ms(d->trim_timer, TRIM_DELAY_MS);
}

static void trim_timer_fired(void *arg)
{
	struct ds_daemon *d = arg;

	if (d->pending > 0) {
		trim_timer_arm(d);
		return;
	}
	d->freed_since_trim = 0;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

static void request_free(struct ds_request *req)
{
	struct ds_daemon *d = req->d;

	d->pending--;
	free(req);
	if (++d->freed_since_trim == TRIM_AFTER_REQUESTS)
		trim_timer_arm(d);
}

static void upstream_done(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
			  struct dns_response *r);

static bool submit(struct ds_request *req)
{
	struct ds_lane *l = req->lane;

	if (l->up) {
		/* opportunistic DoT is encrypted, not authenticated */
		req->authenticated = ds_upstream_authenticates(l->up);
		req->via_dot = true;
		req->uq = ds_upstream_submit(l->up, &req->q, upstream_done, req);
		return req->uq != NULL;
	}
	if (l->plain) {
		req->authenticated = false;
		req->via_dot = false;
		req->pq = ds_plain_submit(l->plain, &req->q, upstream_done, req);
		return req->pq != NULL;
	}
	errno = ENOTCONN;
	return false;
}

static bool serving(const struct ds_lane *l)
{
	return l->up || l->plain;
}

/* A query refused for max-pending (or the upstream's own queue): counted,
 * and logged at most once every DS_LOG_RL_INTERVAL_MS */
static void overload_count(struct ds_daemon *d)
{
	unsigned long long more;

	d->stats.overload++;
	if (ds_log_rl_pass(&d->overload_rl, ds_now_us() / 1000, &more))
		log_notice("max-pending reached (%u queries pending): SERVFAIL to new queries "
			   "(%llu more since the last line)",
			   d->cfg->max_client_pending, more);
}

/* Answer a request that cannot be served with SERVFAIL and its lane's
 * current not-ready reason, and free it. */
static void fail_not_ready(struct ds_request *req)
{
	struct ds_daemon *d = req->d;
	struct ds_lane *l = req->lane;
	struct dns_answer_opts o = { .age = 0, .ede_code = l->not_ready_ede,
				     .ede_text = l->not_ready_text };
	uint8_t out[512];
	int n;

	d->stats.servfail_not_ready++;
	n = dns_compose_error(&req->q, DNS_RCODE_SERVFAIL, &o, out, sizeof(out));
	if (n > 0)
		req->origin.ops->reply(req, out, (size_t)n);
	else
		req->origin.ops->untrack(req);
	request_free(req);
}

static void wait_timer_arm(struct ds_lane *l)
{
	struct ds_request *head = TAILQ_FIRST(&l->waitq);
	uint64_t deadline, now = ds_now_us();

	if (!head || ds_timer_armed(l->wait_timer))
		return;
	deadline = head->start_us + (uint64_t)l->d->cfg->discovery_wait_ms * 1000u;
	deadline = deadline > now ? deadline - now : 0;
	ds_timer_arm_ms(l->wait_timer, (deadline + 999) / 1000);
}

static void wait_timer_fired(void *arg)
{
	struct ds_lane *l = arg;
	uint64_t limit = (uint64_t)l->d->cfg->discovery_wait_ms * 1000u, now = ds_now_us();
	struct ds_request *req;

	/* an unknown network in opportunistic mode: plain DNS meanwhile (the
	 * network manager says whether that is allowed; it releases the
	 * queue itself when it is) */
	if (TAILQ_FIRST(&l->waitq) && now - TAILQ_FIRST(&l->waitq)->start_us >= limit &&
	    l->on_wait_expired && l->on_wait_expired(l->on_wait_expired_arg))
		return;
	while ((req = TAILQ_FIRST(&l->waitq)) && now - req->start_us >= limit) {
		TAILQ_REMOVE(&l->waitq, req, wait_link);
		req->waiting = false;
		fail_not_ready(req);
	}
	wait_timer_arm(l);
}

/* The waiting queries go to the new upstream, or fail. */
static void release_waiting(struct ds_lane *l)
{
	struct ds_request *req;

	while ((req = TAILQ_FIRST(&l->waitq))) {
		TAILQ_REMOVE(&l->waitq, req, wait_link);
		req->waiting = false;
		if (serving(l) && submit(req))
			continue;
		fail_not_ready(req);
	}
	ds_timer_disarm(l->wait_timer);
}

static int lane_init(struct ds_daemon *d, struct ds_lane *l, int ifindex, const char *ifname)
{
	l->d = d;
	l->ifindex = ifindex;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname ? ifname : "");
	TAILQ_INIT(&l->waitq);
	snprintf(l->up_source, sizeof(l->up_source), "none");
	l->not_ready_ede = DNS_EDE_NOT_READY;
	snprintf(l->not_ready_text, sizeof(l->not_ready_text), "no authenticated upstream yet");
	l->wait_timer = ds_timer_new(d->base, wait_timer_fired, l);
	return l->wait_timer ? 0 : -ENOMEM;
}

int ds_resolve_init(struct ds_daemon *d)
{
	TAILQ_INIT(&d->lanes);
	d->next_part = 1;
	d->trim_timer = ds_timer_new(d->base, trim_timer_fired, d);
	d->failrate = calloc(1, sizeof(*d->failrate));
	if (lane_init(d, &d->def, 0, NULL) < 0)
		return -ENOMEM;
	return d->trim_timer && d->failrate ? 0 : -ENOMEM;
}

void ds_resolve_fini(struct ds_daemon *d)
{
	struct ds_lane *l;

	while ((l = TAILQ_FIRST(&d->lanes)))
		ds_lane_free(l);
	free(d->routes);
	d->routes = NULL;
	d->nroutes = 0;
	d->def.discovering = false;
	d->def.up = NULL;
	d->def.plain = NULL;
	release_waiting(&d->def);
	if (d->def.wait_timer)
		ds_timer_free(d->def.wait_timer);
	d->def.wait_timer = NULL;
	if (d->trim_timer)
		ds_timer_free(d->trim_timer);
	d->trim_timer = NULL;
	free(d->failrate);
	d->failrate = NULL;
}

/* A decision is served: tell the hook (once). */
static void decided(struct ds_daemon *d)
{
	void (*hook)(struct ds_daemon *) = d->on_decided;

	d->on_decided = NULL;
	if (hook)
		hook(d);
}

static void hold_release(struct ds_lane *l)
{
	/* released to what serves now; while discovery runs they wait on */
	if (serving(l) || !l->discovering)
		release_waiting(l);
}

void ds_daemon_hold(struct ds_daemon *d, bool hold)
{
	struct ds_lane *l, *next;

	d->holding = hold;
	if (hold)
		return;
	hold_release(&d->def);
	for (l = TAILQ_FIRST(&d->lanes); l; l = next) {
		next = TAILQ_NEXT(l, link);
		hold_release(l);
	}
}

void ds_lane_not_ready(struct ds_lane *l, bool discovering, int ede, const char *text)
{
	l->discovering = discovering;
	l->not_ready_ede = ede;
	snprintf(l->not_ready_text, sizeof(l->not_ready_text), "%s", text);
	if (!discovering) {
		release_waiting(l);
		if (l == &l->d->def)
			decided(l->d);
	}
	ds_stubresolv_update(l->d);
}

void ds_daemon_not_ready(struct ds_daemon *d, bool discovering, int ede, const char *text)
{
	ds_lane_not_ready(&d->def, discovering, ede, text);
}

/* The time from a change of what serves a lane (a network change, a link
 * configured) to its first answer. */
static void first_answer(struct ds_lane *l)
{
	double ms = (double)(ds_now_us() - l->switch_start_us) / 1000.0;

	if (l == &l->d->def)
		log_notice("first answer over the new upstream %.1f ms after the network change",
			   ms);
	else
		log_notice("link %s (%d): first answer %.1f ms after its configuration changed",
			   l->ifname, l->ifindex, ms);
	l->switch_start_us = 0;
}

static void upstream_done(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
			  struct dns_response *r)
{
	struct ds_request *req = arg;
	struct ds_daemon *d = req->d;
	uint8_t *body = NULL, out[DNS_MSG_MAX];
	int n;

	req->uq = NULL;
	req->pq = NULL;
	if (query_failed(err, r))
		fail_charge(d, &req->origin, ds_now_us());
	if (err == DS_UP_OK) {
		struct dns_answer_opts o = no_opts;
		char ede_text[128];

		if (r->has_ede) {
			size_t tl = r->ede_text_len < sizeof(ede_text) - 1 ? r->ede_text_len
									  : sizeof(ede_text) - 1;
			memcpy(ede_text, pkt + r->ede_text_off, tl);
			ede_text[tl] = '\0';
			o.ede_code = r->ede_code;
			o.ede_text = ede_text;
		}
		/* what the cache keeps and the client sees: AD only from DoT */
		r->authenticated = req->authenticated;
		body = malloc(len);
		n = body ? dns_response_strip_opt(pkt, r, body, len) : -ENOMEM;
		if (n >= 0) {
			d->stats.upstream_answers++;
			/* in the partition of the lane that answered: never
			 * found for a name routed to another link */
			if (d->cache && !r->has_ede)
				ds_cache_insert_in(d->cache, req->lane->part, &req->q, body, r,
						   now_s());
			n = dns_compose_answer(&req->q, body, (size_t)n, r, &o,
					       max_answer_size(&req->origin, &req->q), out,
					       sizeof(out));
		}
		if (n < 0)
			err = DS_UP_ERR_BADANSWER;
		free(body);
	}
	if (err != DS_UP_OK) {
		const char *text;
		int ede = ede_for(err, &text);
		struct dns_answer_opts o = { .age = 0, .ede_code = ede, .ede_text = text };

		d->stats.servfail_upstream++;
		if (err <= DS_UP_ERR_CANCELLED)
			d->stats.fail_by_err[err]++;
		n = dns_compose_error(&req->q, DNS_RCODE_SERVFAIL, &o, out, sizeof(out));
	}
	if (err == DS_UP_OK && req->lane->switch_start_us)
		first_answer(req->lane);
	if (n > 0) {
		if (req->origin.kind == DS_ORIGIN_UDP && (out[2] & 0x02))
			d->stats.truncated++;
		req->origin.ops->reply(req, out, (size_t)n);
	} else {
		req->origin.ops->untrack(req);
	}
	request_free(req);
}

/* Which lane serves a query: with an ifindex (a resolve1 call's), that
 * link's own, or NULL if it has none; else the longest routing domain's,
 * else the default lane. */
static struct ds_lane *route(struct ds_daemon *d, const struct dns_query *q, int ifindex)
{
	struct ds_lane *l;

	if (ifindex > 0)
		return ds_route_link(d, ifindex);
	l = ds_route_match(d->routes, d->nroutes, q->qname, q->qname_len);
	return l ? l : &d->def;
}

struct ds_lane *ds_resolve_lane_of(struct ds_daemon *d, const uint8_t *pkt, size_t len,
				   int ifindex)
{
	struct dns_query q;

	if (dns_parse_query(pkt, len, &q) != DNS_PARSE_OK)
		return ifindex > 0 ? ds_route_link(d, ifindex) : &d->def;
	return route(d, &q, ifindex);
}

enum ds_resolve_rc ds_resolve(struct ds_daemon *d, const uint8_t *pkt, size_t len,
			      const struct ds_origin *o, uint8_t *out, size_t *outlen)
{
	struct dns_query q;
	struct ds_request *req;
	struct ds_lane *l;
	enum dns_parse_result pr;
	const char *text;
	int n;

	d->stats.queries++;
	if (o->kind == DS_ORIGIN_UDP)
		d->stats.queries_udp++;
	else if (o->kind == DS_ORIGIN_TCP)
		d->stats.queries_tcp++;

	pr = dns_parse_query(pkt, len, &q);
	switch (pr) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		d->stats.dropped++;
		return DS_RESOLVE_DROP;
	case DNS_PARSE_NOTIMP:
		d->stats.notimp++;
		return error_answer(d, &q, DNS_RCODE_NOTIMP, -1, NULL, out, outlen);
	case DNS_PARSE_BADVERS:
		return error_answer(d, &q, DNS_RCODE_BADVERS, -1, NULL, out, outlen);
	case DNS_PARSE_FORMERR:
	default:
		d->stats.formerr++;
		return error_answer(d, &q, DNS_RCODE_FORMERR, -1, NULL, out, outlen);
	}

	/* meta-types and QTYPEs other than ANY are answered here, over UDP
	 * and TCP alike, and never forwarded */
	n = dns_qtype_local_rcode(q.qtype, &text);
	if (n != 0) {
		d->stats.meta_qtype++;
		if (n == DNS_RCODE_FORMERR)
			d->stats.formerr++;
		else
			d->stats.notimp++;
		return error_answer(d, &q, n,
				    n == DNS_RCODE_FORMERR ? DNS_EDE_OTHER : DNS_EDE_NOT_SUPPORTED,
				    text, out, outlen);
	}
	if (answer_localhost(d, &q, out, outlen) || answer_resolver_arpa(d, &q, out, outlen) ||
	    ds_publishd_answer(d, &q, o, max_answer_size(o, &q), out, outlen))
		return *outlen ? DS_RESOLVE_ANSWER : DS_RESOLVE_DROP;

	/* which link: the one the caller named, else the longest routing
	 * domain, else the default lane */
	l = route(d, &q, o->ifindex);
	if (!l) {
		d->stats.servfail_not_ready++;
		return error_answer(d, &q, DNS_RCODE_SERVFAIL, DNS_EDE_NOT_READY,
				    "that link has no DNS server of its own", out, outlen);
	}
	l->queries++;
	if (d->cache && !d->holding) {
		n = ds_cache_answer_in(d->cache, l->part, &q, &no_opts, max_answer_size(o, &q),
				       now_s(), out, DNS_MSG_MAX);
		if (n > 0) {
			d->stats.cache_hits++;
			if (o->kind == DS_ORIGIN_UDP && (out[2] & 0x02))
				d->stats.truncated++;
			*outlen = (size_t)n;
			return DS_RESOLVE_ANSWER;
		}
	}

	if (!serving(l) && !l->discovering && !d->holding) {
		d->stats.servfail_not_ready++;
		return error_answer(d, &q, DNS_RCODE_SERVFAIL, l->not_ready_ede, l->not_ready_text,
				    out, outlen);
	}
	if (fail_limited(d, o, ds_now_us())) {
		d->stats.refused_failing++;
		return error_answer(d, &q, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED,
				    "too many failing queries from this client", out, outlen);
	}
	if (d->pending >= d->cfg->max_client_pending) {
		overload_count(d);
		return error_answer(d, &q, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER,
				    "too many queries pending", out, outlen);
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return error_answer(d, &q, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER, "out of memory", out,
				    outlen);
	req->d = d;
	req->lane = l;
	req->origin = *o;
	req->q = q;
	req->start_us = ds_now_us();
	d->pending++;
	if (!serving(l) || d->holding) {
		/* discovery is running, or the network may be changing: wait
		 * for the decision, up to discovery-wait */
		req->waiting = true;
		TAILQ_INSERT_TAIL(&l->waitq, req, wait_link);
		wait_timer_arm(l);
	} else if (!submit(req)) {
		int overloaded = errno == EBUSY;

		request_free(req);
		if (overloaded)
			overload_count(d);
		return error_answer(d, &q, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER,
				    overloaded ? "too many queries pending" : "upstream error",
				    out, outlen);
	}
	req->origin.ops->track(req);
	return DS_RESOLVE_PENDING;
}

enum ds_resolve_rc ds_resolve_refuse(struct ds_daemon *d, const uint8_t *pkt, size_t len,
				     uint8_t *out, size_t *outlen)
{
	struct dns_query q;

	/* no text with the EDE: an answer to a client we do not serve stays
	 * as small as its query */
	if (dns_parse_query(pkt, len, &q) == DNS_PARSE_DROP) {
		d->stats.dropped++;
		return DS_RESOLVE_DROP;
	}
	return error_answer(d, &q, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED, NULL, out, outlen);
}

void ds_request_cancel(struct ds_request *req)
{
	if (req->waiting)
		TAILQ_REMOVE(&req->lane->waitq, req, wait_link);
	else if (req->uq)
		ds_upstream_cancel(req->uq);
	else if (req->pq)
		ds_plain_cancel(req->pq);
	request_free(req);
}

static void set_upstream(struct ds_lane *l, struct ds_upstream *up, const char *source,
			 bool flush);

void ds_lane_set_plain(struct ds_lane *l, struct ds_plain *p)
{
	struct ds_plain *old = l->plain;

	set_upstream(l, NULL, "plain", false);
	l->plain = p;
	if (old)
		ds_plain_free(old);
	if (p)
		l->discovering = false;
	release_waiting(l);
	if (p && l == &l->d->def)
		decided(l->d);
	ds_stubresolv_update(l->d);
}

void ds_daemon_set_plain(struct ds_daemon *d, struct ds_plain *p)
{
	ds_lane_set_plain(&d->def, p);
}

void ds_lane_set_upstream(struct ds_lane *l, struct ds_upstream *up, const char *source,
			  bool flush)
{
	set_upstream(l, up, source, flush);
	ds_stubresolv_update(l->d);
}

void ds_daemon_set_upstream(struct ds_daemon *d, struct ds_upstream *up, const char *source,
			    bool flush)
{
	ds_lane_set_upstream(&d->def, up, source, flush);
}

void ds_lane_flush(struct ds_lane *l)
{
	if (!l->d->cache)
		return;
	if (l == &l->d->def)
		ds_cache_flush(l->d->cache);
	else
		ds_cache_flush_part(l->d->cache, l->part);
}

static void set_upstream(struct ds_lane *l, struct ds_upstream *up, const char *source,
			 bool flush)
{
	struct ds_upstream *old = l->up;
	struct ds_plain *oldp = l->plain;

	l->up = up;
	l->plain = NULL;
	if (oldp)
		ds_plain_free(oldp);
	snprintf(l->up_source, sizeof(l->up_source), "%s", up ? source : "none");
	if (flush)
		ds_lane_flush(l);
	/* the old client fails what it still holds (SERVFAIL to the clients) */
	if (old)
		ds_upstream_free(old);
	if (up)
		l->discovering = false;
	/* with no upstream, queries waiting for a decision go on waiting */
	if (up || (!l->discovering && !l->d->holding))
		release_waiting(l);
	if (up && l == &l->d->def)
		decided(l->d);
}

/* ---- lanes of links ---- */

struct ds_lane *ds_lane_new(struct ds_daemon *d, int ifindex, const char *ifname)
{
	struct ds_lane *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (lane_init(d, l, ifindex, ifname) < 0) {
		free(l);
		return NULL;
	}
	/* a partition never used before: nothing cached can be found in it */
	l->part = d->next_part++;
	if (d->next_part == 0)
		d->next_part = 1;
	l->discovering = true;
	TAILQ_INSERT_TAIL(&d->lanes, l, link);
	return l;
}

void ds_lane_free(struct ds_lane *l)
{
	struct ds_daemon *d = l->d;
	size_t k = 0;

	if (l == &d->def)
		return;
	/* no name goes to it any more */
	for (size_t i = 0; i < d->nroutes; i++)
		if (d->routes[i].lane != l)
			d->routes[k++] = d->routes[i];
	d->nroutes = k;
	snprintf(l->not_ready_text, sizeof(l->not_ready_text), "the link's configuration was removed");
	l->not_ready_ede = DNS_EDE_NOT_READY;
	l->discovering = false;
	set_upstream(l, NULL, "none", true);
	if (l->plain) {
		ds_plain_free(l->plain);
		l->plain = NULL;
	}
	release_waiting(l);
	TAILQ_REMOVE(&d->lanes, l, link);
	ds_timer_free(l->wait_timer);
	free(l);
	ds_stubresolv_update(d);
}

int ds_daemon_set_routes(struct ds_daemon *d, const struct ds_route *routes, size_t n)
{
	struct ds_route *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, routes, n * sizeof(*copy));
	}
	free(d->routes);
	d->routes = copy;
	d->nroutes = n;
	return 0;
}
