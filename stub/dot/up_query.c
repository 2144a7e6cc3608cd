/*
 * up_query.c -- the queries of the DNS-over-TLS client: submit and
 * cancel, the pending, in-flight and done lists, ID remapping (a random
 * ID per query and connection, kept in the connection's ID map), matching
 * answers to their queries, timeouts and retries (see stub/dot/upstream_int.h
 * for how it fits with the rest).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdlib.h>

#include "dotstub/log.h"
#include "upstream_int.h"

/* an upstream query is a question, an OPT and padding: far below this */
#define QUERY_WIRE_MAX 1024

/* ---- lists and IDs ---- */

static void ql_append(struct qlist *l, struct ds_upstream_query *q)
{
	q->list = l;
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->n++;
}

static void ql_prepend(struct qlist *l, struct ds_upstream_query *q)
{
	q->list = l;
	q->prev = NULL;
	q->next = l->head;
	if (l->head != NULL)
		l->head->prev = q;
	else
		l->tail = q;
	l->head = q;
	l->n++;
}

static void ql_remove(struct ds_upstream_query *q)
{
	struct qlist *l = q->list;

	if (l == NULL)
		return;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	l->n--;
	q->list = NULL;
	q->prev = q->next = NULL;
}

static uint16_t random_id(struct ds_upstream *u)
{
	if (u->rnd_left == 0) {
		if (RAND_bytes((unsigned char *)u->rnd, sizeof(u->rnd)) != 1) {
			/* no randomness: fall back to a weak but working source */
			ERR_clear_error();
			for (unsigned i = 0; i < 64; i++)
				u->rnd[i] = (uint16_t)(random() & 0xffff);
		}
		u->rnd_left = 64;
	}
	return u->rnd[--u->rnd_left];
}

/* ---- ID map ---- */

/* The caller made sure there is room (load at most one half). */
static unsigned idmap_insert(struct idmap *m, uint16_t id, struct ds_upstream_query *q)
{
	unsigned i = id & m->mask;

	while (m->e[i].used)
		i = (i + 1) & m->mask;
	m->e[i].used = true;
	m->e[i].id = id;
	m->e[i].q = q;
	return i;
}

/* Backward-shift deletion: no tombstones, lookups stay short. */
static void idmap_remove(struct idmap *m, unsigned i)
{
	unsigned j = i;

	m->e[i].used = false;
	for (;;) {
		unsigned home;

		j = (j + 1) & m->mask;
		if (!m->e[j].used)
			return;
		home = m->e[j].id & m->mask;
		/* the entry at j may stay if its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->e[i] = m->e[j];
		m->e[j].used = false;
		i = j;
	}
}

/* ---- queries ---- */

static void query_detach(struct ds_upstream_query *q);

/* Queue q's failure; its callback runs from up_leave. */
void up_query_finish(struct ds_upstream_query *q, enum ds_upstream_err err)
{
	struct ds_upstream *u = q->u;

	evtimer_del(&q->timer);
	if (q->state == Q_INFLIGHT && q->conn != NULL)
		query_detach(q); /* no ID may keep pointing at it */
	ql_remove(q);
	q->conn = NULL;
	q->state = Q_DONE;
	q->err = err;
	ql_append(&u->done, q);
}

/* Start the query's next attempt, or fail it with err if it had its
 * tries.  q is on no list. */
static void query_retry(struct ds_upstream_query *q, enum ds_upstream_err err, bool front)
{
	struct ds_upstream *u = q->u;
	uint64_t now;

	if (q->tries >= u->opts.max_tries) {
		up_query_finish(q, err);
		return;
	}
	q->tries++;
	u->retries++;
	now = now_us();
	q->deadline_us = now + (uint64_t)u->opts.query_timeout_ms * 1000u;
	evtimer_add(&q->timer, u->qtimeout);
	q->state = Q_PENDING;
	q->conn = NULL;
	if (front)
		ql_prepend(&u->pending, q);
	else
		ql_append(&u->pending, q);
}

/* Take q off its connection; its ID stays reserved (abandoned). */
static void query_detach(struct ds_upstream_query *q)
{
	struct up_conn *c = q->conn;
	int slot = up_idmap_find(&c->ids, q->wire_id);

	if (slot >= 0 && c->ids.e[slot].q == q) {
		c->ids.e[slot].q = NULL;
		c->nabandoned++;
	}
	ql_remove(q);
	q->conn = NULL;
}

/* Retry what was in flight on the closed c, ahead of the rest, in the
 * same order. */
void up_query_retry_inflight(struct up_conn *c, enum ds_upstream_err err)
{
	struct qlist retry = { 0 };
	struct ds_upstream_query *q;

	while ((q = c->inflight.head) != NULL) {
		ql_remove(q);
		q->conn = NULL;
		ql_append(&retry, q);
	}
	while ((q = retry.tail) != NULL) {
		ql_remove(q);
		query_retry(q, err, true);
	}
}

/* In-flight queries start over (on another connection), without losing
 * a try. */
void up_query_restart_inflight(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	struct ds_upstream_query *q;

	while ((q = c->inflight.tail) != NULL) {
		query_detach(q);
		q->state = Q_PENDING;
		ql_prepend(&u->pending, q);
	}
}

/* Run the callbacks of failed queries, one at a time. */
void up_query_deliver_done(struct ds_upstream *u)
{
	struct ds_upstream_query *q;

	while ((q = u->done.head) != NULL) {
		ql_remove(q);
		q->state = Q_CALLING;
		q->cb(q->arg, q->err, NULL, 0, NULL);
		free(q);
	}
}

static void query_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_upstream_query *q = arg;
	struct ds_upstream *u = q->u;
	struct up_conn *c = q->conn;
	bool stalled = false;

	u->hooks.enter(u);
	u->timeouts++;
	if (q->state == Q_INFLIGHT && c != NULL) {
		/* nothing at all heard since this query went out: the
		 * connection (or the server behind it) is dead */
		stalled = c->last_rx_us < q->sent_us;
		query_detach(q);
	} else {
		ql_remove(q);
	}
	query_retry(q, DS_UP_ERR_TIMEOUT, true);
	if (c != NULL && c->state == C_READY) {
		if (stalled || c->nabandoned > u->opts.max_inflight / 2)
			up_conn_fail(c, DS_UP_ERR_TIMEOUT, "no answers, giving up on the connection");
		else
			up_conn_check_idle(c);
	}
	u->hooks.schedule_dispatch(u);
	u->hooks.leave(u);
}

/* ---- sending ---- */

/* Put q on c: a fresh random ID unused on c, framed into the write
 * buffer (written later, together with the others of this round). */
int up_query_send(struct up_conn *c, struct ds_upstream_query *q)
{
	struct ds_upstream *u = c->u;
	uint16_t id;
	int n, tries = 0;

	if (up_conn_wbuf_reserve(c, 2 + QUERY_WIRE_MAX) < 0)
		return -ENOMEM;
	do {
		id = random_id(u);
		if (++tries > 10000)
			return -EAGAIN; /* cannot happen below half load */
	} while (up_idmap_find(&c->ids, id) >= 0);
	if (q->tc_retried)
		n = dns_build_upstream_query_min(&q->q, id, c->wbuf + c->wlen + 2, QUERY_WIRE_MAX);
	else
		n = dns_build_upstream_query(&q->q, id, true, c->wbuf + c->wlen + 2,
					     QUERY_WIRE_MAX);
	if (n < 0)
		return n;
	if (n < DNS_HDR_LEN || n > QUERY_WIRE_MAX)
		return -EMSGSIZE;
	c->wbuf[c->wlen] = (uint8_t)(n >> 8);
	c->wbuf[c->wlen + 1] = (uint8_t)n;
	c->wlen += 2 + (size_t)n;
	idmap_insert(&c->ids, id, q);
	ql_remove(q);
	ql_append(&c->inflight, q);
	q->state = Q_INFLIGHT;
	q->conn = c;
	q->wire_id = id;
	q->sent_us = now_us();
	evtimer_del(c->ev_timer);
	return 0;
}

/* ---- answers ---- */

static void rtt_add(struct ds_upstream *u, uint64_t us)
{
	u->rtt[u->rtt_pos] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	u->rtt_pos = (u->rtt_pos + 1) % RTT_RING;
	if (u->rtt_n < RTT_RING)
		u->rtt_n++;
}

static void conn_keepalive(struct up_conn *c, const struct dns_response *r)
{
	struct ds_upstream *u = c->u;
	uint32_t ms;

	if (!r->has_keepalive)
		return;
	ms = (uint32_t)r->edns_keepalive * 100u;
	u->keepalive_ms = ms;
	if (ms == 0) {
		c->draining = true;
		return;
	}
	c->idle_ms = ms < u->opts.idle_timeout_ms ? ms : u->opts.idle_timeout_ms;
}

/* One framed message from the server.  Anything but a well-formed answer
 * to a question asked on c (or a late one to a query given up) is a
 * protocol violation: c is closed and its queries are retried elsewhere
 * (up_conn_fail), each using up a try. */
void up_query_answer(struct up_conn *c, const uint8_t *pkt, size_t len)
{
	struct ds_upstream *u = c->u;
	struct ds_upstream_query *q;
	struct dns_response r;
	int slot;

	if (len < DNS_HDR_LEN) {
		up_conn_fail(c, DS_UP_ERR_BADANSWER, "protocol error: message shorter than a header");
		return;
	}
	slot = up_idmap_find(&c->ids, (uint16_t)(pkt[0] << 8 | pkt[1]));
	if (slot < 0) {
		up_conn_fail(c, DS_UP_ERR_BADANSWER,
			     "protocol error: an answer to an ID not asked on this connection");
		return;
	}
	if (dns_parse_response(pkt, len, &r) < 0) {
		up_conn_fail(c, DS_UP_ERR_BADANSWER, "protocol error: malformed answer");
		return;
	}
	q = c->ids.e[slot].q;
	if (q == NULL) {
		/* a late answer to a query we gave up: the ID is free again */
		idmap_remove(&c->ids, (unsigned)slot);
		c->nabandoned--;
		return;
	}
	if (!dns_response_matches(&r, &q->q)) {
		up_conn_fail(c, DS_UP_ERR_BADANSWER, "protocol error: an answer to another question");
		return;
	}
	conn_keepalive(c, &r);
	idmap_remove(&c->ids, (unsigned)slot);
	if ((r.flags & DNS_FLAG_TC) && !q->tc_retried) {
		/* Truncated over a stream, where anything up to 65,535
		 * octets fits: the server cut it (its OPT, keepalive and
		 * padding left no room for the records, or a forwarder
		 * passed on a UDP TC=1).  Ask once more, first in line, as
		 * small as can be (no OPT unless DO), before anyone gets
		 * TC=1 over TCP. */
		log_debug("upstream %s: truncated answer, asking again", u->desc.name);
		ql_remove(q);
		q->conn = NULL;
		q->tc_retried = true;
		q->state = Q_PENDING;
		u->retries++;
		ql_prepend(&u->pending, q);
		u->hooks.schedule_dispatch(u);
		return;
	}
	evtimer_del(&q->timer);
	ql_remove(q);
	q->conn = NULL;
	q->state = Q_CALLING;
	u->answers++;
	rtt_add(u, now_us() - q->sent_us);
	q->cb(q->arg, DS_UP_OK, pkt, len, &r);
	free(q);
}

/* ---- public API ---- */

struct ds_upstream_query *ds_upstream_submit(struct ds_upstream *u, const struct dns_query *q,
					     ds_upstream_cb cb, void *arg)
{
	struct ds_upstream_query *h;

	if (u == NULL || q == NULL || cb == NULL || q->qname_len == 0 ||
	    q->qname_len > DNS_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (u->free_requested) {
		errno = ESHUTDOWN;
		return NULL;
	}
	if (u->pending.n >= u->opts.max_pending) {
		errno = EBUSY;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	h->u = u;
	h->q = *q;
	h->cb = cb;
	h->arg = arg;
	h->tries = 1;
	h->state = Q_PENDING;
	h->deadline_us = now_us() + (uint64_t)u->opts.query_timeout_ms * 1000u;
	evtimer_assign(&h->timer, u->base, query_timeout_cb, h);
	evtimer_add(&h->timer, u->qtimeout);
	ql_append(&u->pending, h);
	u->queries++;
	u->hooks.schedule_dispatch(u);
	return h;
}

void ds_upstream_cancel(struct ds_upstream_query *h)
{
	struct up_conn *c;

	if (h == NULL || h->state == Q_CALLING)
		return;
	evtimer_del(&h->timer);
	c = h->conn;
	if (h->state == Q_INFLIGHT && c != NULL) {
		query_detach(h);
		if (c->state == C_READY && c->inflight.n == 0 && !c->draining)
			up_conn_check_idle(c);
	} else {
		ql_remove(h);
	}
	free(h);
}
