/*
 * upstream.c -- the DNS-over-TLS client (RFC 7858, RFC 7766 pipelining,
 * RFC 7828 keepalive): connections, framing, ID remapping, timers,
 * backoff, failover and status (see include/dotstub/upstream.h).
 *
 * Layering: a connection (struct up_conn) is TCP -> TLS (stub/tls.c) ->
 * 2-octet length framing; queries (struct ds_upstream_query) wait in the
 * pending list until a ready connection takes them, then sit in that
 * connection's in-flight list and ID map until answered, timed out or the
 * connection dies (then they are retried elsewhere).
 *
 * Memory safety rules, because callbacks can re-enter us (submit, cancel,
 * reset, free) from anywhere:
 *  - every libevent entry point brackets its work with up_enter/up_leave;
 *  - a dying connection is only marked dead and moved to u->dead; it is
 *    freed in up_leave when the outermost entry point unwinds;
 *  - ds_upstream_free inside a callback only marks the upstream; it is
 *    destroyed when the outermost entry point unwinds;
 *  - failed queries are queued on u->done and their callbacks run from
 *    up_leave, one at a time, each popped off the list before its call;
 *  - after each answer callback the read loop re-checks that neither the
 *    connection nor the upstream went away.
 * Every byte from the server is untrusted: the framing, the ID map and
 * dns_parse_response/dns_response_matches decide what is accepted.
 */
#include "dotstub/upstream.h"

#include <errno.h>
#include <limits.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "tls.h"

/* room for one whole framed message plus a generous read */
#define RBUF_CAP (2 + DNS_MSG_MAX + 16384)
/* an upstream query is a question, an OPT and padding: far below this */
#define QUERY_WIRE_MAX 1024
/* SSL_read calls per readable event before yielding to the loop */
#define READS_PER_EVENT 64
#define RTT_RING 1024
#define MAX_INFLIGHT_LIMIT 32768

enum conn_state {
	C_CONNECTING, /* TCP connect in progress */
	C_HANDSHAKE,  /* TLS handshake in progress */
	C_READY,
	C_DEAD,       /* closed, waiting on u->dead to be freed */
};

enum q_state {
	Q_PENDING,    /* on u->pending */
	Q_INFLIGHT,   /* on conn->inflight, in conn's ID map */
	Q_DONE,       /* on u->done, callback due */
	Q_CALLING,    /* its callback is running */
};

struct ds_upstream_query;
struct up_conn;

struct qlist {
	struct ds_upstream_query *head, *tail;
	unsigned n;
};

struct ds_upstream_query {
	struct ds_upstream *u;
	struct qlist *list;                    /* the list it is on */
	struct ds_upstream_query *prev, *next;
	enum q_state state;
	struct up_conn *conn;                  /* Q_INFLIGHT */
	uint16_t wire_id;
	unsigned tries;                        /* attempts started */
	uint64_t sent_us;
	uint64_t deadline_us;                  /* of the current attempt */
	enum ds_upstream_err err;              /* Q_DONE */
	struct event timer;
	ds_upstream_cb cb;
	void *arg;
	struct dns_query q;
};

/* ID -> query, open addressing with linear probing; IDs are random, so
 * the low bits are a good hash.  An entry with q == NULL is an abandoned
 * ID (timed out or cancelled): kept so a late answer is recognised and
 * the ID is not reused on this connection. */
struct id_entry {
	struct ds_upstream_query *q;
	uint16_t id;
	bool used;
};

struct idmap {
	struct id_entry *e;
	unsigned mask;
};

struct up_conn {
	struct ds_upstream *u;
	struct up_conn *next;                  /* on u->conns or u->dead */
	enum conn_state state;
	int fd;
	int addr_idx;
	struct sockaddr_storage addr;
	char addr_str[64];
	struct ds_tls_conn tls;
	struct ds_tls_info info;
	struct event *ev_read, *ev_write, *ev_timer; /* ev_timer: connect, then idle */
	bool write_armed;
	bool read_wants_write;                 /* SSL_read said WANT_WRITE */
	bool write_wants_read;                 /* SSL_write said WANT_READ */
	bool draining;                         /* server said TIMEOUT 0 */
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wcap, wlen, woff;
	size_t wretry;                         /* length of an SSL_write to repeat */
	struct idmap ids;
	struct qlist inflight;
	unsigned nabandoned;
	uint64_t last_rx_us;
	unsigned idle_ms;
};

struct ds_upstream {
	struct event_base *base;
	struct ds_upstream_desc desc;
	struct ds_upstream_opts opts;
	struct ds_tls *tls;
	const struct timeval *qtimeout;       /* libevent common timeout */
	struct event *ev_dispatch, *ev_backoff;

	struct up_conn *conns;                 /* alive, oldest first */
	struct up_conn *dead;
	unsigned nconns;

	struct qlist pending;
	struct qlist done;

	unsigned busy;                         /* entry point depth */
	bool free_requested;
	bool want_connect;

	int addr_idx;                          /* next address to try */
	int round_fail;                        /* failed connects this round */
	enum ds_upstream_err round_err;
	uint32_t backoff_ms;                   /* level; 0 after a success */
	uint64_t backoff_until_us;
	enum ds_upstream_err backoff_err;

	uint16_t rnd[64];
	unsigned rnd_left;

	uint32_t rtt[RTT_RING];
	unsigned rtt_n, rtt_pos;

	/* status */
	uint64_t queries, answers, timeouts, retries;
	uint64_t fail_network, fail_tls, fail_auth;
	uint64_t connects, handshakes, resumptions;
	char last_addr[64];
	struct ds_tls_info last_info;
	uint32_t keepalive_ms;
	char last_error[160];
};

static void conn_fail(struct up_conn *c, enum ds_upstream_err err, const char *why);
static void conn_flush(struct up_conn *c);
static void conn_read(struct up_conn *c);
static void conn_quickack(struct up_conn *c);

/* ---- small helpers ---- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval ms_tv(unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

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

static void schedule_dispatch(struct ds_upstream *u)
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

const char *ds_upstream_err_str(enum ds_upstream_err e)
{
	switch (e) {
	case DS_UP_OK:
		return "ok";
	case DS_UP_ERR_TIMEOUT:
		return "timeout";
	case DS_UP_ERR_NETWORK:
		return "network error";
	case DS_UP_ERR_TLS:
		return "TLS error";
	case DS_UP_ERR_AUTH:
		return "authentication failed";
	case DS_UP_ERR_NO_TLSA:
		return "no usable TLSA record";
	case DS_UP_ERR_OVERLOAD:
		return "overload";
	case DS_UP_ERR_BADANSWER:
		return "bad answer";
	case DS_UP_ERR_CANCELLED:
		return "cancelled";
	}
	return "unknown error";
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

/* ---- ID map ---- */

static int idmap_init(struct idmap *m, unsigned max_inflight)
{
	unsigned cap = 16;

	while (cap < 2 * max_inflight)
		cap <<= 1;
	m->e = calloc(cap, sizeof(*m->e));
	if (m->e == NULL)
		return -ENOMEM;
	m->mask = cap - 1;
	return 0;
}

static int idmap_find(const struct idmap *m, uint16_t id)
{
	for (unsigned i = id & m->mask;; i = (i + 1) & m->mask) {
		if (!m->e[i].used)
			return -1;
		if (m->e[i].id == id)
			return (int)i;
	}
}

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
static void query_finish(struct ds_upstream_query *q, enum ds_upstream_err err)
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
		query_finish(q, err);
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
	int slot = idmap_find(&c->ids, q->wire_id);

	if (slot >= 0 && c->ids.e[slot].q == q) {
		c->ids.e[slot].q = NULL;
		c->nabandoned++;
	}
	ql_remove(q);
	q->conn = NULL;
}

static void rtt_add(struct ds_upstream *u, uint64_t us)
{
	u->rtt[u->rtt_pos] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	u->rtt_pos = (u->rtt_pos + 1) % RTT_RING;
	if (u->rtt_n < RTT_RING)
		u->rtt_n++;
}

/* ---- entry points ---- */

static void conn_free(struct up_conn *c)
{
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	ds_tls_conn_clear(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->ids.e);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void reap_dead(struct ds_upstream *u)
{
	while (u->dead != NULL) {
		struct up_conn *c = u->dead;

		u->dead = c->next;
		conn_free(c);
	}
}

/* Run the callbacks of failed queries, one at a time. */
static void deliver_done(struct ds_upstream *u)
{
	struct ds_upstream_query *q;

	while ((q = u->done.head) != NULL) {
		ql_remove(q);
		q->state = Q_CALLING;
		q->cb(q->arg, q->err, NULL, 0, NULL);
		free(q);
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
		deliver_done(u);
		reap_dead(u);
	}
	if (--u->busy > 0 || !u->free_requested)
		return false;
	upstream_destroy(u);
	return true;
}

/* ---- connections ---- */

static void conn_want_write(struct up_conn *c, bool on)
{
	if (on == c->write_armed || c->state == C_DEAD || c->ev_write == NULL)
		return;
	if (on)
		event_add(c->ev_write, NULL);
	else
		event_del(c->ev_write);
	c->write_armed = on;
}

static void conn_check_idle(struct up_conn *c)
{
	struct timeval tv;

	if (c->state != C_READY)
		return;
	if (c->inflight.n > 0 || c->wlen > c->woff) {
		evtimer_del(c->ev_timer);
		return;
	}
	if (c->draining) {
		conn_fail(c, DS_UP_OK, "server asked to close (keepalive 0)");
		return;
	}
	tv = ms_tv(c->idle_ms);
	evtimer_add(c->ev_timer, &tv);
}

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
			query_finish(u->pending.head, err);
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

/*
 * Close c: err DS_UP_OK for an orderly close, otherwise the class of the
 * failure.  In-flight queries are retried (one of their tries is used
 * up).  c is only marked; it is freed when the entry point unwinds.
 */
static void conn_fail(struct up_conn *c, enum ds_upstream_err err, const char *why)
{
	struct ds_upstream *u = c->u;
	enum conn_state was = c->state;
	struct qlist retry = { 0 };
	struct ds_upstream_query *q;

	if (was == C_DEAD)
		return;
	c->state = C_DEAD;
	if (c->ev_read != NULL)
		event_del(c->ev_read);
	if (c->ev_write != NULL)
		event_del(c->ev_write);
	if (c->ev_timer != NULL)
		evtimer_del(c->ev_timer);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
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
	while ((q = c->inflight.head) != NULL) {
		ql_remove(q);
		q->conn = NULL;
		ql_append(&retry, q);
	}
	while ((q = retry.tail) != NULL) {
		ql_remove(q);
		query_retry(q, err == DS_UP_OK ? DS_UP_ERR_NETWORK : err, true);
	}
	if (was != C_READY && err != DS_UP_OK)
		connect_failed(u, c, err);
	else if (err != DS_UP_OK && u->desc.naddr > 0)
		/* the server lost queries: prefer the next address */
		u->addr_idx = (c->addr_idx + 1) % u->desc.naddr;
	schedule_dispatch(u);
}

static void handshake_done(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	char why[160];

	/* belt and braces: never use a connection DANE did not authenticate */
	if (!ds_tls_conn_authenticated(&c->tls, why, sizeof(why))) {
		conn_fail(c, DS_UP_ERR_AUTH, why);
		return;
	}
	c->state = C_READY;
	evtimer_del(c->ev_timer);
	ds_tls_conn_info(&c->tls, &c->info);
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
	log_info("upstream %s (%s): %s %s, %s, DANE %s", u->desc.name, c->addr_str,
		 c->info.version, c->info.cipher,
		 c->info.resumed ? "resumed session" : "full handshake",
		 c->info.matched_tlsa[0] != '\0' ? c->info.matched_tlsa : "(unknown)");
	conn_check_idle(c);
	schedule_dispatch(u);
}

static void conn_handshake(struct up_conn *c)
{
	char why[160];
	enum ds_upstream_err err;
	int r, e, sys;

	ERR_clear_error();
	errno = 0;
	r = SSL_connect(c->tls.ssl);
	if (r == 1) {
		conn_want_write(c, false);
		handshake_done(c);
		return;
	}
	sys = errno;
	e = SSL_get_error(c->tls.ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		conn_want_write(c, false);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		conn_want_write(c, true);
		return;
	}
	err = ds_tls_handshake_error(&c->tls, e, sys, why, sizeof(why));
	conn_fail(c, err, why);
}

static void conn_connected(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	socklen_t len = sizeof(int);
	char why[160];
	int soerr = 0, r;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
		conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	r = ds_tls_conn_init(&c->tls, u->tls, c->fd, &u->desc);
	if (r < 0) {
		snprintf(why, sizeof(why), "TLS setup: %s",
			 r == -ENOKEY ? "OpenSSL accepted no TLSA record, refusing to connect" :
					strerror(-r));
		conn_fail(c, r == -ENOKEY ? DS_UP_ERR_NO_TLSA : DS_UP_ERR_TLS, why);
		return;
	}
	c->state = C_HANDSHAKE;
	event_add(c->ev_read, NULL);
	conn_handshake(c);
}

static void conn_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_conn *c = arg;
	struct ds_upstream *u = c->u;

	up_enter(u);
	switch (c->state) {
	case C_CONNECTING:
		if (what & EV_WRITE)
			conn_connected(c);
		break;
	case C_HANDSHAKE:
		conn_handshake(c);
		if ((what & EV_READ) && c->state != C_DEAD)
			conn_quickack(c);
		break;
	case C_READY:
		if (what & EV_READ) {
			if (c->write_wants_read) {
				c->write_wants_read = false;
				conn_flush(c);
			}
			if (c->state == C_READY)
				conn_read(c);
			if (c->state == C_READY)
				conn_quickack(c);
		}
		if ((what & EV_WRITE) && c->state == C_READY) {
			if (c->read_wants_write) {
				c->read_wants_write = false;
				conn_read(c);
			}
			if (c->state == C_READY)
				conn_flush(c);
		}
		break;
	case C_DEAD:
		break;
	}
	up_leave(u);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_conn *c = arg;
	struct ds_upstream *u = c->u;

	up_enter(u);
	switch (c->state) {
	case C_CONNECTING:
		conn_fail(c, DS_UP_ERR_NETWORK, "connect timed out");
		break;
	case C_HANDSHAKE:
		conn_fail(c, DS_UP_ERR_TLS, "TLS handshake timed out");
		break;
	case C_READY:
		if (c->inflight.n == 0 && c->wlen == c->woff) {
			/* idle: say goodbye, without waiting for the reply */
			ERR_clear_error();
			SSL_shutdown(c->tls.ssl);
			ERR_clear_error();
			conn_fail(c, DS_UP_OK, "idle");
		}
		break;
	case C_DEAD:
		break;
	}
	up_leave(u);
}

static struct up_conn *conn_new(struct ds_upstream *u)
{
	struct up_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->u = u;
	c->fd = -1;
	c->state = C_CONNECTING;
	c->idle_ms = u->opts.idle_timeout_ms;
	c->rbuf = malloc(RBUF_CAP);
	c->wcap = 4096;
	c->wbuf = malloc(c->wcap);
	if (c->rbuf == NULL || c->wbuf == NULL || idmap_init(&c->ids, u->opts.max_inflight) < 0) {
		conn_free(c);
		return NULL;
	}
	return c;
}

static int tcp_socket(const struct sockaddr_storage *ss, int *ret_fd)
{
	socklen_t slen = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						     sizeof(struct sockaddr_in);
	int one = 1, fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* queries must leave at once: length and message go out in one
	 * write anyway, Nagle would only delay pipelined ones */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*ret_fd = fd;
	if (connect(fd, (const struct sockaddr *)ss, slen) < 0 && errno != EINPROGRESS &&
	    errno != EINTR)
		return -errno;
	return 0;
}

/* Open a connection to the next address.  Failures are handled like any
 * later connection failure (through conn_fail). */
static void start_connect(struct ds_upstream *u)
{
	struct up_conn *c;
	struct timeval tv;
	char why[160];
	int r, fd = -1;

	c = conn_new(u);
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

	r = tcp_socket(&c->addr, &fd);
	c->fd = fd;
	if (r == 0) {
		c->ev_read = event_new(u->base, fd, EV_READ | EV_PERSIST, conn_event_cb, c);
		c->ev_write = event_new(u->base, fd, EV_WRITE | EV_PERSIST, conn_event_cb, c);
		c->ev_timer = evtimer_new(u->base, conn_timer_cb, c);
		if (c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL)
			r = -ENOMEM;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(-r));
		conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	tv = ms_tv(u->opts.connect_timeout_ms);
	evtimer_add(c->ev_timer, &tv);
	conn_want_write(c, true);
}

/* ---- writing ---- */

static int wbuf_reserve(struct up_conn *c, size_t n)
{
	uint8_t *nb;
	size_t ncap;

	if (c->woff > 0 && c->wretry == 0 && c->woff == c->wlen) {
		c->woff = c->wlen = 0;
	} else if (c->woff > 0 && c->wretry == 0 && c->woff >= c->wcap / 2) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wcap - c->wlen >= n)
		return 0;
	ncap = c->wcap;
	while (ncap - c->wlen < n)
		ncap *= 2;
	/* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows the move */
	nb = realloc(c->wbuf, ncap);
	if (nb == NULL)
		return -ENOMEM;
	c->wbuf = nb;
	c->wcap = ncap;
	return 0;
}

/* Put q on c: a fresh random ID unused on c, framed into the write
 * buffer (written later, together with the others of this round). */
static int conn_send(struct up_conn *c, struct ds_upstream_query *q)
{
	struct ds_upstream *u = c->u;
	uint16_t id;
	int n, tries = 0;

	if (wbuf_reserve(c, 2 + QUERY_WIRE_MAX) < 0)
		return -ENOMEM;
	do {
		id = random_id(u);
		if (++tries > 10000)
			return -EAGAIN; /* cannot happen below half load */
	} while (idmap_find(&c->ids, id) >= 0);
	n = dns_build_upstream_query(&q->q, id, true, c->wbuf + c->wlen + 2, QUERY_WIRE_MAX);
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

/* Write what is buffered: as few SSL_write calls as possible. */
static void conn_flush(struct up_conn *c)
{
	char why[160];

	while (c->wlen > c->woff) {
		size_t len = c->wretry != 0 ? c->wretry : c->wlen - c->woff;
		int n, e, sys;

		if (len > INT_MAX)
			len = INT_MAX;
		ERR_clear_error();
		errno = 0;
		n = SSL_write(c->tls.ssl, c->wbuf + c->woff, (int)len);
		if (n > 0) {
			c->woff += (size_t)n;
			c->wretry = 0;
			continue;
		}
		sys = errno;
		/* must be repeated with the same length */
		c->wretry = len;
		e = SSL_get_error(c->tls.ssl, n);
		if (e == SSL_ERROR_WANT_WRITE) {
			conn_want_write(c, true);
			return;
		}
		if (e == SSL_ERROR_WANT_READ) {
			c->write_wants_read = true;
			conn_want_write(c, false);
			return;
		}
		snprintf(why, sizeof(why), "write: %s",
			 e == SSL_ERROR_SYSCALL && sys != 0 ? strerror(sys) : "TLS error");
		ERR_clear_error();
		conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	c->woff = c->wlen = 0;
	if (!c->read_wants_write)
		conn_want_write(c, false);
}

/* ---- reading ---- */

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

/* One framed message from the server.  Unknown IDs and answers to another
 * question are ignored; a malformed answer to a known ID fails that query. */
static void conn_answer(struct up_conn *c, const uint8_t *pkt, size_t len)
{
	struct ds_upstream *u = c->u;
	struct ds_upstream_query *q;
	struct dns_response r;
	int slot;

	if (len < DNS_HDR_LEN) {
		log_debug("upstream %s: ignoring a %zu-octet message", u->desc.name, len);
		return;
	}
	slot = idmap_find(&c->ids, (uint16_t)(pkt[0] << 8 | pkt[1]));
	if (slot < 0) {
		log_debug("upstream %s: ignoring an answer with an unknown ID", u->desc.name);
		return;
	}
	q = c->ids.e[slot].q;
	if (q == NULL) {
		/* a late answer to a query we gave up: the ID is free again */
		idmap_remove(&c->ids, (unsigned)slot);
		c->nabandoned--;
		return;
	}
	if (dns_parse_response(pkt, len, &r) < 0) {
		idmap_remove(&c->ids, (unsigned)slot);
		log_debug("upstream %s: malformed answer", u->desc.name);
		query_finish(q, DS_UP_ERR_BADANSWER);
		return;
	}
	if (!dns_response_matches(&r, &q->q)) {
		log_debug("upstream %s: ignoring an answer to another question", u->desc.name);
		return;
	}
	conn_keepalive(c, &r);
	idmap_remove(&c->ids, (unsigned)slot);
	evtimer_del(&q->timer);
	ql_remove(q);
	q->conn = NULL;
	q->state = Q_CALLING;
	u->answers++;
	rtt_add(u, now_us() - q->sent_us);
	q->cb(q->arg, DS_UP_OK, pkt, len, &r);
	free(q);
}

/* Take every complete message off the front of rbuf. */
static void conn_frames(struct up_conn *c)
{
	size_t off = 0;

	while (c->rlen - off >= 2) {
		size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];

		if (mlen == 0) {
			conn_fail(c, DS_UP_ERR_NETWORK, "protocol error: empty message");
			return;
		}
		if (c->rlen - off - 2 < mlen)
			break;
		conn_answer(c, c->rbuf + off + 2, mlen);
		off += 2 + mlen;
		if (c->state != C_READY || c->u->free_requested)
			return;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static void conn_quickack(struct up_conn *c)
{
	int one = 1;

	/* Servers that leave Nagle on (Unbound on Debian 12) hold their next
	 * write until we acknowledge the previous one: with delayed ACKs,
	 * pipelined answers (and the first answer after TLS 1.3 session
	 * tickets, which carry no data for us) stall for ~40 ms.  Quick ACK
	 * is not sticky in the kernel, hence after every read event. */
	if (c->fd >= 0 && !c->u->opts.no_quickack)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static void conn_read(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	char why[160];
	int i;

	for (i = 0; i < READS_PER_EVENT; i++) {
		int n, e, sys;

		if (c->rlen >= RBUF_CAP) {
			conn_fail(c, DS_UP_ERR_NETWORK, "protocol error: framing");
			return;
		}
		ERR_clear_error();
		errno = 0;
		n = SSL_read(c->tls.ssl, c->rbuf + c->rlen, (int)(RBUF_CAP - c->rlen));
		if (n > 0) {
			c->rlen += (size_t)n;
			c->last_rx_us = now_us();
			conn_frames(c);
			if (c->state != C_READY || u->free_requested)
				return;
			continue;
		}
		sys = errno;
		e = SSL_get_error(c->tls.ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->read_wants_write = true;
			conn_want_write(c, true);
			break;
		}
		if (e == SSL_ERROR_ZERO_RETURN) {
			conn_fail(c, c->inflight.n > 0 ? DS_UP_ERR_NETWORK : DS_UP_OK,
				  "closed by the server");
			return;
		}
		snprintf(why, sizeof(why), "read: %s",
			 e == SSL_ERROR_SYSCALL && sys != 0 ? strerror(sys) :
			 e == SSL_ERROR_SYSCALL ? "connection closed" : "TLS error");
		ERR_clear_error();
		conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	/* more may be waiting: come back after the others had their turn */
	if (i == READS_PER_EVENT)
		event_active(c->ev_read, EV_READ, 0);
	conn_check_idle(c);
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
		r = conn_send(c, q);
		if (r < 0)
			query_finish(q, DS_UP_ERR_NETWORK);
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
						query_finish(q, u->backoff_err);
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
			conn_flush(c);
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

static void query_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_upstream_query *q = arg;
	struct ds_upstream *u = q->u;
	struct up_conn *c = q->conn;
	bool stalled = false;

	up_enter(u);
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
			conn_fail(c, DS_UP_ERR_TIMEOUT, "no answers, giving up on the connection");
		else
			conn_check_idle(c);
	}
	schedule_dispatch(u);
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
	if (ds_upstream_desc_usable_tlsa(desc) == 0) {
		r = -ENOKEY;
		goto fail;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		goto fail;
	u->base = base;
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
			query_finish(q, fail_with);
		conn_fail(c, DS_UP_OK, "closed by us");
	}
	while (u->pending.head != NULL)
		query_finish(u->pending.head, fail_with);
}

static void upstream_destroy(struct ds_upstream *u)
{
	while (u->conns != NULL) {
		struct up_conn *c = u->conns;

		u->conns = c->next;
		conn_free(c);
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
	schedule_dispatch(u);
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
			conn_check_idle(c);
	} else {
		ql_remove(h);
	}
	free(h);
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
	schedule_dispatch(u);
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
	if (ds_upstream_desc_usable_tlsa(desc) == 0)
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
			struct ds_upstream_query *q;

			/* in-flight queries start over, without losing a try */
			while ((q = c->inflight.tail) != NULL) {
				query_detach(q);
				q->state = Q_PENDING;
				ql_prepend(&u->pending, q);
			}
			conn_fail(c, DS_UP_OK, "upstream description changed");
		}
		event_del(u->ev_backoff);
		u->backoff_ms = 0;
	}
	schedule_dispatch(u);
	up_leave(u);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void ds_upstream_get_status(const struct ds_upstream *u, struct ds_upstream_status *st)
{
	const struct up_conn *cur = NULL;
	bool handshake = false, connecting = false;
	unsigned inflight = 0;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", u->desc.name);
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
