/*
 * upstream.c -- the DNS-over-TLS client as a whole (see
 * include/dotstub/upstream.h): creating, updating, resetting and freeing
 * an upstream, the entry points, choosing and opening connections,
 * backoff and failover across the addresses, dispatching pending queries
 * to connections, statistics and status.  One connection is in
 * stub/dot/up_conn.c, the queries are in stub/dot/up_query.c; stub/dot/upstream_int.h
 * describes how the parts fit and the memory safety rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"
#include "upstream_int.h"

#define MAX_INFLIGHT_LIMIT 32768

/* ---- small helpers ---- */

static void up_schedule_dispatch(struct ds_upstream *u)
{
	if (!u->free_requested)
		event_active(u->ev_dispatch, EV_TIMEOUT, 0);
}

static int err_rank(enum ds_upstream_err e)
{
	switch (e) {
	case DS_UP_ERR_AUTH:
		return 4;
	case DS_UP_ERR_NO_TLSA:
		return 3;
	case DS_UP_ERR_TLS:
		return 2;
	case DS_UP_ERR_NETWORK:
		return 1;
	default:
		return 0;
	}
}

void ds_upstream_opts_default(struct ds_upstream_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->allow_tls12 = false;
	o->query_timeout_ms = 1500;
	o->max_tries = 3;
	o->idle_timeout_ms = 10000;
	o->max_inflight = 2048;
	o->max_conns = 2;
	o->max_pending = 4096;
	o->backoff_min_ms = 250;
	o->backoff_max_ms = 30000;
	o->connect_timeout_ms = 3000;
	o->no_quickack = false;
}

static void opts_sanitize(struct ds_upstream_opts *o)
{
	if (o->query_timeout_ms == 0)
		o->query_timeout_ms = 1500;
	if (o->max_tries == 0)
		o->max_tries = 1;
	if (o->idle_timeout_ms == 0)
		o->idle_timeout_ms = 10000;
	if (o->max_inflight == 0)
		o->max_inflight = 1;
	if (o->max_inflight > MAX_INFLIGHT_LIMIT)
		o->max_inflight = MAX_INFLIGHT_LIMIT;
	if (o->max_conns == 0)
		o->max_conns = 1;
	if (o->max_conns > 16)
		o->max_conns = 16;
	if (o->backoff_min_ms == 0)
		o->backoff_min_ms = 1;
	if (o->backoff_max_ms < o->backoff_min_ms)
		o->backoff_max_ms = o->backoff_min_ms;
	if (o->connect_timeout_ms == 0)
		o->connect_timeout_ms = 3000;
}

/* ---- entry points ---- */

static void reap_dead(struct ds_upstream *u)
{
	while (u->dead != NULL) {
		struct up_conn *c = u->dead;

		u->dead = c->next;
		up_conn_free(c);
	}
}

static void upstream_destroy(struct ds_upstream *u);

static void up_enter(struct ds_upstream *u)
{
	u->busy++;
}

/* Returns true if u was destroyed: the caller must not touch it. */
static bool up_leave(struct ds_upstream *u)
{
	if (u->busy == 1) {
		up_query_deliver_done(u);
		reap_dead(u);
	}
	if (--u->busy > 0 || !u->free_requested)
		return false;
	upstream_destroy(u);
	return true;
}

/* ---- connections ---- */

/* Append c to u->conns (oldest first: the first has priority). */
static void link_conn(struct ds_upstream *u, struct up_conn *c)
{
	struct up_conn **p = &u->conns;

	while (*p != NULL)
		p = &(*p)->next;
	c->next = NULL;
	*p = c;
	u->nconns++;
}

/* Move c from u->conns to u->dead. */
static void unlink_conn(struct ds_upstream *u, struct up_conn *c)
{
	for (struct up_conn **p = &u->conns; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			u->nconns--;
			break;
		}
	c->next = u->dead;
	u->dead = c;
}

/* All addresses failed in a row: wait before the next round. */
static void enter_backoff(struct ds_upstream *u, enum ds_upstream_err err)
{
	struct timeval tv;
	uint64_t ms;
	bool have_ready = false;

	for (struct up_conn *c = u->conns; c != NULL; c = c->next)
		have_ready |= c->state == C_READY;
	ms = u->backoff_ms == 0 ? u->opts.backoff_min_ms : (uint64_t)u->backoff_ms * 2;
	if (ms > u->opts.backoff_max_ms)
		ms = u->opts.backoff_max_ms;
	u->backoff_ms = (uint32_t)ms;
	u->backoff_until_us = now_us() + ms * 1000u;
	u->backoff_err = err;
	u->round_fail = 0;
	u->round_err = DS_UP_OK;
	tv = ms_tv((unsigned)ms);
	evtimer_add(u->ev_backoff, &tv);
	if (!have_ready) {
		log_notice("upstream %s: no connection to any of %d address(es) (%s), "
			   "next try in %u ms",
			   u->desc.name, u->desc.naddr, ds_upstream_err_str(err), u->backoff_ms);
		while (u->pending.head != NULL)
			up_query_finish(u->pending.head, err);
	}
}

/* A connection that never became ready failed. */
static void connect_failed(struct ds_upstream *u, struct up_conn *c, enum ds_upstream_err err)
{
	switch (err) {
	case DS_UP_ERR_AUTH:
	case DS_UP_ERR_NO_TLSA:
		u->fail_auth++;
		break;
	case DS_UP_ERR_TLS:
		u->fail_tls++;
		break;
	default:
		u->fail_network++;
		break;
	}
	if (err_rank(err) > err_rank(u->round_err))
		u->round_err = err;
	if (u->desc.naddr > 0)
		u->addr_idx = (c->addr_idx + 1) % u->desc.naddr;
	if (++u->round_fail >= u->desc.naddr)
		enter_backoff(u, u->round_err);
}

/* See up_conn_fail: c is closed and marked dead; the rest is ours. */
static void up_pool_conn_closed(struct up_conn *c, enum conn_state was, enum ds_upstream_err err,
			 const char *why)
{
	struct ds_upstream *u = c->u;

	unlink_conn(u, c);
	if (err != DS_UP_OK) {
		snprintf(u->last_error, sizeof(u->last_error), "%s: %s", c->addr_str, why);
		if (was == C_READY)
			log_info("upstream %s (%s): connection lost: %s", u->desc.name,
				 c->addr_str, why);
		else
			log_notice("upstream %s (%s): %s", u->desc.name, c->addr_str, why);
	} else {
		log_debug("upstream %s (%s): closed: %s", u->desc.name, c->addr_str, why);
	}

	/* retry what was in flight, ahead of the rest, in the same order */
	up_query_retry_inflight(c, err == DS_UP_OK ? DS_UP_ERR_NETWORK : err);
	if (was != C_READY && err != DS_UP_OK)
		connect_failed(u, c, err);
	else if (err != DS_UP_OK && u->desc.naddr > 0)
		/* the server lost queries: prefer the next address */
		u->addr_idx = (c->addr_idx + 1) % u->desc.naddr;
	up_schedule_dispatch(u);
}

/* c is ready: its handshake succeeded and DANE authenticated it. */
static void up_pool_conn_ready(struct up_conn *c)
{
	struct ds_upstream *u = c->u;

	u->last_info = c->info;
	snprintf(u->last_addr, sizeof(u->last_addr), "%s", c->addr_str);
	u->handshakes++;
	if (c->info.resumed)
		u->resumptions++;
	/* success: forget the backoff and the failures of this round */
	u->backoff_ms = 0;
	u->round_fail = 0;
	u->round_err = DS_UP_OK;
	event_del(u->ev_backoff);
	u->addr_idx = c->addr_idx;
	if (u->desc.auth == DS_AUTH_DANE)
		log_info("upstream %s (%s): %s %s, %s, DANE %s", u->desc.name, c->addr_str,
			 c->info.version, c->info.cipher,
			 c->info.resumed ? "resumed session" : "full handshake",
			 c->info.matched_tlsa[0] != '\0' ? c->info.matched_tlsa : "(unknown)");
	else
		log_info("upstream %s (%s): %s %s, %s, %s, key sha256 %s", u->desc.name,
			 c->addr_str, c->info.version, c->info.cipher,
			 c->info.resumed ? "resumed session" : "full handshake",
			 u->desc.auth == DS_AUTH_PKIX ? "certificate verified (PKIX)"
						      : "not authenticated (opportunistic)",
			 c->info.spki_sha256[0] != '\0' ? c->info.spki_sha256 : "(unknown)");
	up_conn_check_idle(c);
	up_schedule_dispatch(u);
}

/* Open a connection to the next address.  Failures are handled like any
 * later connection failure (through up_conn_fail). */
static void start_connect(struct ds_upstream *u)
{
	struct up_conn *c;

	c = up_conn_new(u);
	if (c == NULL) {
		snprintf(u->last_error, sizeof(u->last_error), "out of memory");
		return;
	}
	if (u->addr_idx < 0 || u->addr_idx >= u->desc.naddr)
		u->addr_idx = 0;
	c->addr_idx = u->addr_idx;
	c->addr = u->desc.addr[c->addr_idx];
	ds_sockaddr_format(&c->addr, c->addr_str, sizeof(c->addr_str));
	snprintf(u->last_addr, sizeof(u->last_addr), "%s", c->addr_str);
	link_conn(u, c);
	u->connects++;
	log_debug("upstream %s: connecting to %s", u->desc.name, c->addr_str);
	up_conn_open(c);
}

/* ---- dispatch ---- */

static struct up_conn *pick_conn(struct ds_upstream *u)
{
	for (struct up_conn *c = u->conns; c != NULL; c = c->next)
		if (c->state == C_READY && !c->draining &&
		    c->inflight.n + c->nabandoned < u->opts.max_inflight)
			return c;
	return NULL;
}

static bool backoff_active(const struct ds_upstream *u)
{
	return evtimer_pending(u->ev_backoff, NULL) != 0;
}

static void dispatch(struct ds_upstream *u)
{
	struct ds_upstream_query *q;
	bool connecting = false;

	while ((q = u->pending.head) != NULL) {
		struct up_conn *c = pick_conn(u);
		int r;

		if (c == NULL)
			break;
		r = up_query_send(c, q);
		if (r < 0)
			up_query_finish(q, DS_UP_ERR_NETWORK);
	}
	for (struct up_conn *c = u->conns; c != NULL; c = c->next)
		connecting |= c->state == C_CONNECTING || c->state == C_HANDSHAKE;
	if (u->nconns > 0)
		u->want_connect = false; /* a warm-up is satisfied by any connection */
	if (u->pending.head != NULL || u->want_connect) {
		if (backoff_active(u)) {
			/* fail now what could not be sent before its deadline */
			if (u->nconns == 0) {
				struct ds_upstream_query *next;

				for (q = u->pending.head; q != NULL; q = next) {
					next = q->next;
					if (q->deadline_us <= u->backoff_until_us)
						up_query_finish(q, u->backoff_err);
				}
			}
		} else if (!connecting && u->nconns < u->opts.max_conns) {
			u->want_connect = false;
			start_connect(u);
		}
	}
	for (struct up_conn *c = u->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_READY && c->wlen > c->woff && !c->write_wants_read)
			up_conn_flush(c);
	}
}

static void dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_upstream *u = arg;

	up_enter(u);
	dispatch(u);
	up_leave(u);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_upstream *u = arg;

	up_enter(u);
	dispatch(u);
	up_leave(u);
}

/* ---- public API ---- */

struct ds_upstream *ds_upstream_new(struct event_base *base, const struct ds_upstream_desc *desc,
				    const struct ds_upstream_opts *o, int *ret_err)
{
	struct ds_upstream *u;
	uint8_t key[DS_TLS_KEY_LEN];
	struct timeval tv;
	int r = -ENOMEM;

	if (base == NULL || desc == NULL || desc->naddr <= 0 ||
	    desc->naddr > DS_MAX_UPSTREAM_ADDRS || desc->name[0] == '\0') {
		r = -EINVAL;
		goto fail;
	}
	if (desc->transport != DS_TRANSPORT_DOT) {
		/* this client never speaks clear text */
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	if (desc->auth == DS_AUTH_DANE && ds_upstream_desc_usable_tlsa(desc) == 0) {
		r = -ENOKEY;
		goto fail;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		goto fail;
	u->base = base;
	u->hooks = (struct up_hooks){
		.enter = up_enter,
		.leave = up_leave,
		.schedule_dispatch = up_schedule_dispatch,
		.conn_ready = up_pool_conn_ready,
		.conn_closed = up_pool_conn_closed,
		.conn_message = up_query_answer,
	};
	if (o != NULL)
		u->opts = *o;
	else
		ds_upstream_opts_default(&u->opts);
	opts_sanitize(&u->opts);
	r = ds_upstream_desc_copy(&u->desc, desc);
	if (r < 0) {
		free(u);
		goto fail;
	}
	u->tls = ds_tls_new(u->opts.allow_tls12, &r);
	if (u->tls == NULL)
		goto fail_free;
	ds_tls_set_ca_file(u->tls, u->opts.ca_file);
	ds_tls_session_key(&u->desc, key);
	ds_tls_set_key(u->tls, key);
	tv = ms_tv(u->opts.query_timeout_ms);
	u->qtimeout = event_base_init_common_timeout(base, &tv);
	u->ev_dispatch = event_new(base, -1, 0, dispatch_cb, u);
	u->ev_backoff = evtimer_new(base, backoff_cb, u);
	r = -ENOMEM;
	if (u->qtimeout == NULL || u->ev_dispatch == NULL || u->ev_backoff == NULL)
		goto fail_free;
	return u;
fail_free:
	upstream_destroy(u);
fail:
	if (ret_err != NULL)
		*ret_err = r;
	return NULL;
}

static void close_all(struct ds_upstream *u, enum ds_upstream_err fail_with)
{
	while (u->conns != NULL) {
		struct up_conn *c = u->conns;
		struct ds_upstream_query *q;

		while ((q = c->inflight.head) != NULL)
			up_query_finish(q, fail_with);
		up_conn_fail(c, DS_UP_OK, "closed by us");
	}
	while (u->pending.head != NULL)
		up_query_finish(u->pending.head, fail_with);
}

static void upstream_destroy(struct ds_upstream *u)
{
	while (u->conns != NULL) {
		struct up_conn *c = u->conns;

		u->conns = c->next;
		up_conn_free(c);
	}
	reap_dead(u);
	if (u->ev_dispatch != NULL)
		event_free(u->ev_dispatch);
	if (u->ev_backoff != NULL)
		event_free(u->ev_backoff);
	ds_tls_free(u->tls);
	ds_upstream_desc_clear(&u->desc);
	free(u);
}

void ds_upstream_free(struct ds_upstream *u)
{
	if (u == NULL || u->free_requested)
		return;
	up_enter(u);
	close_all(u, DS_UP_ERR_CANCELLED);
	u->free_requested = true;
	up_leave(u);
}

void ds_upstream_reset(struct ds_upstream *u)
{
	if (u == NULL || u->free_requested)
		return;
	up_enter(u);
	close_all(u, DS_UP_ERR_CANCELLED);
	ds_tls_drop_tickets(u->tls);
	event_del(u->ev_backoff);
	u->backoff_ms = 0;
	u->round_fail = 0;
	u->round_err = DS_UP_OK;
	u->addr_idx = 0;
	u->want_connect = false;
	u->keepalive_ms = 0;
	up_leave(u);
}

void ds_upstream_connect_now(struct ds_upstream *u)
{
	if (u == NULL || u->free_requested || u->nconns > 0)
		return;
	u->want_connect = true;
	up_schedule_dispatch(u);
}

int ds_upstream_update(struct ds_upstream *u, const struct ds_upstream_desc *desc)
{
	struct ds_upstream_desc nd;
	uint8_t oldkey[DS_TLS_KEY_LEN], key[DS_TLS_KEY_LEN];
	int r;

	if (u == NULL || desc == NULL || desc->naddr <= 0 ||
	    desc->naddr > DS_MAX_UPSTREAM_ADDRS || desc->name[0] == '\0')
		return -EINVAL;
	if (desc->transport != DS_TRANSPORT_DOT)
		return -EPROTONOSUPPORT;
	if (desc->auth == DS_AUTH_DANE && ds_upstream_desc_usable_tlsa(desc) == 0)
		return -ENOKEY;
	memset(&nd, 0, sizeof(nd));
	r = ds_upstream_desc_copy(&nd, desc);
	if (r < 0)
		return r;
	up_enter(u);
	ds_tls_session_key(&u->desc, oldkey);
	ds_tls_session_key(&nd, key);
	ds_upstream_desc_clear(&u->desc);
	u->desc = nd;
	u->addr_idx = 0;
	u->round_fail = 0;
	u->round_err = DS_UP_OK;
	if (memcmp(oldkey, key, sizeof(key)) != 0) {
		/* another identity: nothing authenticated under the old one
		 * may carry on, and no old ticket may be offered */
		ds_tls_set_key(u->tls, key);
		while (u->conns != NULL) {
			struct up_conn *c = u->conns;

			/* in-flight queries start over, without losing a try */
			up_query_restart_inflight(c);
			up_conn_fail(c, DS_UP_OK, "upstream description changed");
		}
		event_del(u->ev_backoff);
		u->backoff_ms = 0;
	}
	up_schedule_dispatch(u);
	up_leave(u);
	return 0;
}

/* ---- status ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

bool ds_upstream_authenticates(const struct ds_upstream *u)
{
	return u->desc.auth != DS_AUTH_OPPORTUNISTIC;
}

void ds_upstream_get_status(const struct ds_upstream *u, struct ds_upstream_status *st)
{
	const struct up_conn *cur = NULL;
	bool handshake = false, connecting = false;
	unsigned inflight = 0;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", u->desc.name);
	st->auth = ds_auth_name(u->desc.auth);
	for (const struct up_conn *c = u->conns; c != NULL; c = c->next) {
		if (c->state == C_READY && cur == NULL)
			cur = c;
		handshake |= c->state == C_HANDSHAKE;
		connecting |= c->state == C_CONNECTING;
		inflight += c->inflight.n;
	}
	if (cur != NULL)
		st->state = "ready";
	else if (handshake)
		st->state = "handshake";
	else if (connecting)
		st->state = "connecting";
	else if (evtimer_pending(u->ev_backoff, NULL))
		st->state = "backoff";
	else
		st->state = "idle";
	snprintf(st->addr, sizeof(st->addr), "%s", cur != NULL ? cur->addr_str : u->last_addr);
	{
		const struct ds_tls_info *ti = cur != NULL ? &cur->info : &u->last_info;

		snprintf(st->tls_version, sizeof(st->tls_version), "%s", ti->version);
		snprintf(st->cipher, sizeof(st->cipher), "%s", ti->cipher);
		snprintf(st->matched_tlsa, sizeof(st->matched_tlsa), "%s", ti->matched_tlsa);
		snprintf(st->spki_sha256, sizeof(st->spki_sha256), "%s", ti->spki_sha256);
		st->resumed = ti->resumed;
	}
	st->conns = u->nconns;
	st->inflight = inflight;
	st->pending = u->pending.n;
	st->queries = u->queries;
	st->answers = u->answers;
	st->timeouts = u->timeouts;
	st->retries = u->retries;
	st->fail_network = u->fail_network;
	st->fail_tls = u->fail_tls;
	st->fail_auth = u->fail_auth;
	st->connects = u->connects;
	st->handshakes = u->handshakes;
	st->resumptions = u->resumptions;
	if (u->rtt_n > 0) {
		uint32_t v[RTT_RING];

		memcpy(v, u->rtt, u->rtt_n * sizeof(v[0]));
		qsort(v, u->rtt_n, sizeof(v[0]), cmp_u32);
		st->rtt_p50_us = v[(u->rtt_n - 1) / 2];
		st->rtt_p99_us = v[(u->rtt_n - 1) * 99 / 100];
	}
	st->backoff_ms = evtimer_pending(u->ev_backoff, NULL) ? u->backoff_ms : 0;
	st->keepalive_ms = u->keepalive_ms;
	snprintf(st->last_error, sizeof(st->last_error), "%s", u->last_error);
}
