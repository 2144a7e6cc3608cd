/*
 * upstream_int.h -- internals of the DNS-over-TLS client (RFC 7858, RFC
 * 7766 pipelining, RFC 7828 keepalive), shared by its parts only:
 *  - stub/dot/upstream.c: the upstream as a whole: create/update/reset/free,
 *    the entry points, choosing and opening connections, backoff and
 *    failover, dispatching pending queries, statistics and status;
 *  - stub/dot/up_conn.c: one connection: TCP connect, TLS handshake (set up by
 *    stub/dot/tls.c), TLS I/O on the non-blocking socket, length framing,
 *    read/write buffers, the ACK policy (TCP_QUICKACK), connect and idle
 *    timers;
 *  - stub/dot/up_query.c: queries: submit/cancel, the pending/in-flight/done
 *    lists, ID remapping (the ID map), matching answers, timeouts and
 *    retries.
 *
 * Calls go one way: upstream.c -> up_query.c -> up_conn.c -> tls.c.  A
 * lower file reports to upstream.c only through the hooks it owns
 * (struct up_hooks, set by ds_upstream_new): entering and leaving an entry
 * point, a connection ready or closed, a message received, a dispatch due.
 *
 * Layering: a connection (struct up_conn) is TCP -> TLS (stub/dot/tls.c) ->
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
 * dns_parse_response/dns_response_matches decide what is accepted.  Any
 * violation (a frame too short for a DNS header, not a response, an ID
 * never issued on the connection or answered already, a message that does
 * not parse or has trailing octets, an answer to another question) means
 * the stream cannot be trusted to be in step: the connection is closed
 * and its in-flight queries retried (each using up one of its tries, as
 * for any lost connection).  A late answer to an abandoned (timed out or
 * cancelled) ID is legitimate and dropped quietly.
 */
#ifndef DOTSTUB_STUB_UPSTREAM_INT_H
#define DOTSTUB_STUB_UPSTREAM_INT_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "dotstub/upstream.h"
#include "tls.h"

/* the recent answers the RTT percentiles are taken over */
#define RTT_RING 1024

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
	bool tc_retried;                       /* asked again, minimal, after TC=1 */
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
	struct event *ev_ack;                  /* bounds a deferred ACK (up_conn.c) */
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

/* How a connection (up_conn.c) and the queries (up_query.c) report to the
 * upstream as a whole (upstream.c), which sets them. */
struct up_hooks {
	/* bracket a libevent entry point (see the rules above); leave returns
	 * true if u was destroyed */
	void (*enter)(struct ds_upstream *u);
	bool (*leave)(struct ds_upstream *u);
	/* run dispatch from the loop soon */
	void (*schedule_dispatch)(struct ds_upstream *u);
	/* c finished an authenticated handshake */
	void (*conn_ready)(struct up_conn *c);
	/* c (was in state was) was closed by up_conn_fail */
	void (*conn_closed)(struct up_conn *c, enum conn_state was, enum ds_upstream_err err,
			    const char *why);
	/* one framed message from the server on c */
	void (*conn_message)(struct up_conn *c, const uint8_t *pkt, size_t len);
};

struct ds_upstream {
	struct event_base *base;
	struct up_hooks hooks;
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

/* ---- small helpers ---- */

static inline uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline struct timeval ms_tv(unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

/* ---- stub/dot/up_conn.c: one connection ---- */

/* Allocate an empty ID map for max_inflight queries; 0 or -ENOMEM. */
int up_idmap_init(struct idmap *m, unsigned max_inflight);
/* The slot of id in m (in flight or abandoned), or -1: never issued on
 * this connection, or answered already. */
int up_idmap_find(const struct idmap *m, uint16_t id);
/* A new connection (C_CONNECTING, no socket yet), or NULL if out of memory. */
struct up_conn *up_conn_new(struct ds_upstream *u);
/* Free c and everything it holds (it must be off u->conns or dying). */
void up_conn_free(struct up_conn *c);
/* Start the TCP connect to c->addr; failures go through up_conn_fail. */
void up_conn_open(struct up_conn *c);
/* Close c (err DS_UP_OK: orderly); it is freed when the entry point unwinds. */
void up_conn_fail(struct up_conn *c, enum ds_upstream_err err, const char *why);
/* Arm the idle timer of a ready c with nothing to do (or drain it). */
void up_conn_check_idle(struct up_conn *c);
/* Make room for n more octets in c's write buffer; 0 or -ENOMEM. */
int up_conn_wbuf_reserve(struct up_conn *c, size_t n);
/* Write what is buffered on c: as few SSL_write calls as possible. */
void up_conn_flush(struct up_conn *c);

/* ---- stub/dot/up_query.c: queries ---- */

/* Queue q's failure with err; its callback runs from up_leave. */
void up_query_finish(struct ds_upstream_query *q, enum ds_upstream_err err);
/* Put q on c under a fresh ID, framed into c's write buffer; 0 or -errno. */
int up_query_send(struct up_conn *c, struct ds_upstream_query *q);
/* One framed message from the server on c: match it and answer its query. */
void up_query_answer(struct up_conn *c, const uint8_t *pkt, size_t len);
/* Retry c's in-flight queries (a try used up; err when out of tries). */
void up_query_retry_inflight(struct up_conn *c, enum ds_upstream_err err);
/* Put c's in-flight queries back in front of pending, without using a try. */
void up_query_restart_inflight(struct up_conn *c);
/* Run the callbacks of failed queries (u->done), one at a time. */
void up_query_deliver_done(struct ds_upstream *u);

#endif
