/*
 * dotsrv.c -- dotstubd's DNS-over-TLS server (serve-dot, RFC 7858; see
 * dotsrv.h): the listeners, the clients' TLS connections and their limits.
 *
 * A connection is driven by hand on its non-blocking socket, as the
 * upstream client drives its own (stub/dot/up_conn.c): the handshake, then
 * SSL_read into the client's input, which the TCP listener's framing
 * (tcp_frame.c) cuts into queries; the query path (resolve.c) answers at
 * once (cache, local, errors) or later through the origin hooks, out of
 * order as they complete.  Every answer is padded to a block of 468
 * octets when the query had EDNS (RFC 8467 4.1), framed, and gathered in
 * the client's output, written with as few SSL_write calls (TLS records)
 * as the loop allows.
 *
 * The limits are the TCP listener's (listener.c), with keys of their own:
 * dot-clients in total (the least recently active idle connection, or one
 * still in its handshake, is closed to make room; with every one busy,
 * accepting pauses) and per address (dot-clients-per-address),
 * dot-client-inflight queries per client (no more is read from it until
 * answers go out), output buffered per client (dot-client-output: no more
 * is read; twice that: closed) and in total (dot-output-total: the client
 * holding most is closed), a handshake done within dot-handshake-timeout
 * of the accept, a message complete within DOT_MSG_TIMEOUT_MS of its
 * first octet, dot-idle-timeout with nothing in flight (or with output
 * the client does not read).  Whatever a client sends is hostile: TLS
 * errors, a length below a DNS header, a message that never completes
 * close the connection with a log line (rate-limited, without the
 * client's address above debug).
 */
#include "dotsrv.h"
#include "tcp_frame.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dotstub/clock.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

/* A message must be complete this long after its first octet arrived. */
#define DOT_MSG_TIMEOUT_MS 3000
/* What an answer in flight counts for at least against dot-client-output */
#define DOT_ANSWER_FLOOR 512
/* Decrypted input held before it is framed: a whole message and a read */
#define DOT_IN_MAX (2 + DNS_MSG_MAX + 16384)
/* One SSL_write (a TLS record holds 16 KiB) */
#define DOT_WRITE_MAX 16384
/* SSL_read calls per event before the other clients get their turn */
#define DOT_READS_PER_EVENT 32
#define ACCEPT_PAUSE_MS 1000
/* connections accepted per event */
#define ACCEPT_BATCH 64

/* Why a connection is closed: each has its own log line (rate-limited). */
enum dot_why {
	W_HANDSHAKE_TIMEOUT,
	W_HANDSHAKE_FAILED,
	W_TLS_ERROR,
	W_NOT_DNS,
	W_MSG_TIMEOUT,
	W_OUTPUT_STUCK,
	W_OUTPUT_OVER,
	W_LIMIT,
	W_IDLE,      /* not logged: normal */
	W_GONE,      /* the client went away: not logged */
	W_N
};

struct dot_listener {
	struct ds_dotsrv *s;
	int fd;
	struct event *ev;
	struct event *pause_ev;
	struct sockaddr_storage addr;
	bool check;               /* clients are checked against access-control */
	bool paused;
	bool accepting;           /* ev added (after ds_dotsrv_start) */
};

enum dot_state { DOT_HANDSHAKE, DOT_OPEN };

struct ds_dot_client {
	struct ds_dotsrv *s;
	struct dot_listener *l;   /* accepted on it */
	int fd;
	SSL *ssl;
	enum dot_state state;
	struct event *rev, *wev;  /* readable, writable */
	struct event *timer;      /* handshake, message, idle and output timeouts */
	struct event *run_ev;     /* run the connection from the loop */
	struct evbuffer *in;      /* decrypted, not framed yet */
	struct evbuffer *out;     /* framed answers not given to SSL_write yet */
	size_t wretry;            /* an SSL_write to repeat with this length */
	struct ds_request_list reqs;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	unsigned inflight;
	size_t answer_max;        /* the largest answer sent to it (with framing) */
	uint64_t progress_ms;     /* accepted, last query taken, output written */
	uint64_t partial_ms;      /* when the incomplete message began */
	uint64_t deadline_ms;     /* the timer's, 0: not armed */
	bool eof;                 /* the client closed its side */
	bool blocked;             /* a limit held input back (tcp_frame_run) */
	bool partial;             /* the input ends in an incomplete message */
	bool over;                /* to be closed: output over twice dot-client-output */
	bool refused;             /* access-control: every query gets REFUSED */
	bool want_write;          /* SSL wants the socket writable */
	bool reading;             /* rev is added */
	bool writing;             /* wev is added */
	bool in_run;              /* client_run is on the stack */
	bool dead;                /* closed while in_run: freed when it unwinds */
	LIST_ENTRY(ds_dot_client) link;
};

struct ds_dotsrv {
	struct ds_daemon *d;
	SSL_CTX *ctx;             /* NULL until started */
	struct dotsrv_tickets *tickets;
	struct dotsrv_id id;
	struct dotsrv_id_info info;
	struct dot_listener *l[DS_MAX_SERVE_DOT];
	int n;
	/* a reload being prepared: the listeners it is to have (new ones
	 * bound, kept ones shared with l[]) and its context */
	struct dot_listener *next_l[DS_MAX_SERVE_DOT];
	bool next_opened[DS_MAX_SERVE_DOT];
	int next_n;
	SSL_CTX *next_ctx;
	struct dotsrv_id next_id;
	bool prepared;
	LIST_HEAD(, ds_dot_client) clients;
	unsigned nclients, handshaking;
	size_t out_total;         /* output buffered for all clients */
	struct event *budget_ev;  /* out_total is over dot-output-total */
	struct event *hourly;     /* ticket keys rotate, the certificate renews */
	struct ds_dotsrv_status cnt; /* the counters of the status */
	struct ds_log_rl rl[W_N];
	struct ds_log_rl held_rl;
	uint8_t rbuf[DOT_WRITE_MAX + 5]; /* SSL_read's */
	uint8_t inbuf[DNS_MSG_MAX];      /* tcp_frame_run's */
	uint8_t scratch[DNS_MSG_MAX];    /* answers made while taking a query */
	uint8_t reply[DNS_MSG_MAX];      /* answers of pending queries, padded */
};

static const char *const why_text[W_N] = {
	[W_HANDSHAKE_TIMEOUT] = "TLS handshake not done within dot-handshake-timeout",
	[W_HANDSHAKE_FAILED] = "TLS handshake failed",
	[W_TLS_ERROR] = "TLS error",
	[W_NOT_DNS] = "not DNS (a message shorter than a DNS header)",
	[W_MSG_TIMEOUT] = "incomplete message timed out",
	[W_OUTPUT_STUCK] = "answers not read within dot-idle-timeout",
	[W_OUTPUT_OVER] = "answers piling up unread over twice dot-client-output",
	[W_LIMIT] = "closed by a limit",
	[W_IDLE] = "idle",
	[W_GONE] = "closed by the client",
};

static void origin_track(struct ds_request *req);
static void origin_untrack(struct ds_request *req);
static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len);
/* how the query path answers the DoT server's clients */
static const struct ds_origin_ops origin_ops = {
	.track = origin_track, .untrack = origin_untrack, .reply = origin_reply,
};

static void client_run(struct ds_dot_client *c);
static void accept_resume(struct ds_dotsrv *s);

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
	return false;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char x[64], y[64];

	ds_sockaddr_format(a, x, sizeof(x));
	ds_sockaddr_format(b, y, sizeof(y));
	return !strcmp(x, y);
}

static const struct ds_serve_dot_config *limits(const struct ds_dotsrv *s)
{
	return &s->d->cfg->dot;
}

/* ---------------------------------------------------------------- closing */

static void client_free(struct ds_dot_client *c)
{
	struct ds_dotsrv *s = c->s;
	struct ds_request *req;

	while ((req = TAILQ_FIRST(&c->reqs))) {
		TAILQ_REMOVE(&c->reqs, req, tcp_link);
		ds_request_cancel(req);
	}
	LIST_REMOVE(c, link);
	s->out_total -= evbuffer_get_length(c->out);
	if (c->state == DOT_HANDSHAKE)
		s->handshaking--;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	event_free(c->run_ev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
	s->nclients--;
	accept_resume(s);
}

/* Close c, saying why (detail: more of it, or NULL).  Inside client_run
 * the connection is only marked; client_run frees it as it returns. */
static void client_close(struct ds_dot_client *c, enum dot_why why, const char *detail)
{
	struct ds_dotsrv *s = c->s;
	unsigned long long more;
	char a[64];

	if (c->dead)
		return;
	ds_sockaddr_format(&c->peer, a, sizeof(a));
	log_debug("dot: closing the connection of %s: %s%s%s", a, why_text[why],
		  detail ? ": " : "", detail ? detail : "");
	switch (why) {
	case W_HANDSHAKE_TIMEOUT:
		s->cnt.handshake_timeouts++;
		break;
	case W_HANDSHAKE_FAILED:
		s->cnt.handshake_failures++;
		break;
	case W_TLS_ERROR:
	case W_NOT_DNS:
	case W_MSG_TIMEOUT:
		s->cnt.protocol_errors++;
		break;
	case W_OUTPUT_STUCK:
	case W_OUTPUT_OVER:
	case W_LIMIT:
		s->cnt.evicted++;
		break;
	case W_IDLE:
		s->cnt.idle_closed++;
		break;
	case W_GONE:
	case W_N:
		break;
	}
	if (why < W_IDLE && why != W_LIMIT &&
	    ds_log_rl_pass(&s->rl[why], ds_now_ms(), &more))
		log_notice("dot: closed a client's connection: %s%s%s (%llu more since the last "
			   "line)",
			   why_text[why], detail ? ": " : "", detail ? detail : "", more);
	if (c->state == DOT_OPEN && why != W_GONE && why != W_TLS_ERROR) {
		/* a close_notify if it goes out at once; nothing waits for it */
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	if (c->in_run) {
		c->dead = true;
		event_del(c->rev);
		event_del(c->wev);
		event_del(c->timer);
		return;
	}
	client_free(c);
}

/* Closed to make room for another connection (a limit): counted, and a
 * line at most every DS_LOG_RL_INTERVAL_MS. */
static void client_evict(struct ds_dot_client *c, const char *limit)
{
	unsigned long long more;

	if (ds_log_rl_pass(&c->s->rl[W_LIMIT], ds_now_ms(), &more))
		log_notice("dot: %s reached: closed the least recently active idle connection "
			   "(%llu more since the last line)",
			   limit, more);
	client_close(c, W_LIMIT, limit);
}

/* ---------------------------------------------------------------- limits */

static size_t out_len(const struct ds_dot_client *c)
{
	return evbuffer_get_length(c->out);
}

/* May the client's next query be taken: not too many in flight, and room
 * in its output for what it waits for (each answer in flight counted at
 * the largest it has had, at least DOT_ANSWER_FLOOR; before the first, at
 * the largest possible) -- as the TCP listener's client_may_take. */
static bool client_may_take(void *arg)
{
	struct ds_dot_client *c = arg;
	const struct ds_serve_dot_config *lim = limits(c->s);
	size_t each = !c->answer_max ? DNS_MSG_MAX + 2
		      : c->answer_max > DOT_ANSWER_FLOOR ? c->answer_max : DOT_ANSWER_FLOOR;

	return !c->over && c->inflight < lim->client_inflight &&
	       out_len(c) + (size_t)c->inflight * each < lim->client_output;
}

/* The client has dot-client-inflight queries in flight: no more is read
 * from it until answers go out; counted, logged at most once every
 * DS_LOG_RL_INTERVAL_MS */
static void client_held(struct ds_dot_client *c)
{
	unsigned long long more;

	c->s->cnt.held++;
	if (ds_log_rl_pass(&c->s->held_rl, ds_now_ms(), &more))
		log_notice("dot: a client has %u queries in flight (dot-client-inflight): not "
			   "reading more from it (%llu more times since the last line)",
			   limits(c->s)->client_inflight, more);
}

/* The client to close to make room (of the host peer, or any if NULL):
 * one with no query in flight that made progress least recently -- the
 * one idle longest, or stalled in its handshake.  NULL if all are busy. */
static struct ds_dot_client *victim(struct ds_dotsrv *s, const struct sockaddr_storage *peer)
{
	struct ds_dot_client *c, *v = NULL;

	LIST_FOREACH(c, &s->clients, link) {
		if (c->dead || c->inflight > 0 || (peer && !same_host(&c->peer, peer)))
			continue;
		if (!v || c->progress_ms < v->progress_ms)
			v = c;
	}
	return v;
}

static unsigned count_host(struct ds_dotsrv *s, const struct sockaddr_storage *peer)
{
	struct ds_dot_client *c;
	unsigned n = 0;

	LIST_FOREACH(c, &s->clients, link)
		n += !c->dead && same_host(&c->peer, peer);
	return n;
}

/* Room for a new connection from peer, closing the oldest idle one (of
 * that address first).  false: every candidate is busy. */
static bool make_room(struct ds_dotsrv *s, const struct sockaddr_storage *peer)
{
	const struct ds_serve_dot_config *lim = limits(s);
	struct ds_dot_client *v;

	if (lim->clients_per_address && count_host(s, peer) >= lim->clients_per_address) {
		v = victim(s, peer);
		if (!v)
			return false;
		client_evict(v, "dot-clients-per-address");
	}
	if (s->nclients >= lim->clients) {
		v = victim(s, NULL);
		if (!v)
			return false;
		client_evict(v, "dot-clients");
	}
	return true;
}

/* Over dot-output-total: the clients holding most are closed (from the
 * loop: closing one inside the query path's callback could cancel the
 * queries of the caller's loop). */
static void budget(evutil_socket_t fd, short what, void *arg)
{
	struct ds_dotsrv *s = arg;

	while (s->out_total > limits(s)->output_total) {
		struct ds_dot_client *c, *big = NULL;
		size_t most = 0;

		LIST_FOREACH(c, &s->clients, link) {
			if (!c->dead && out_len(c) > most) {
				most = out_len(c);
				big = c;
			}
		}
		if (!big)
			break;
		client_evict(big, "dot-output-total");
	}
}

/* ---------------------------------------------------------------- timer */

/* When the connection's timer is due, and for what (W_N: not at all):
 * the handshake's end; answers the client does not read; the end of an
 * incomplete message; idleness with nothing in flight. */
static enum dot_why client_deadline(const struct ds_dot_client *c, uint64_t *at)
{
	const struct ds_serve_dot_config *lim = limits(c->s);

	if (c->state == DOT_HANDSHAKE) {
		*at = c->progress_ms + lim->handshake_timeout_ms;
		return W_HANDSHAKE_TIMEOUT;
	}
	if (out_len(c) > 0 || c->wretry) {
		*at = c->progress_ms + lim->idle_timeout_ms;
		return W_OUTPUT_STUCK;
	}
	if (c->partial && !c->blocked) {
		*at = c->partial_ms + DOT_MSG_TIMEOUT_MS;
		return W_MSG_TIMEOUT;
	}
	if (c->inflight == 0 && !c->blocked) {
		*at = c->progress_ms + lim->idle_timeout_ms;
		return W_IDLE;
	}
	return W_N;
}

static void client_arm(struct ds_dot_client *c)
{
	uint64_t at = 0, now;
	struct timeval tv;

	if (client_deadline(c, &at) == W_N) {
		if (c->deadline_ms) {
			evtimer_del(c->timer);
			c->deadline_ms = 0;
		}
		return;
	}
	if (at == c->deadline_ms)
		return;
	c->deadline_ms = at;
	now = ds_now_ms();
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000 * 1000);
	evtimer_add(c->timer, &tv);
}

static void client_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ds_dot_client *c = arg;
	uint64_t at = 0;
	enum dot_why why = client_deadline(c, &at);

	c->deadline_ms = 0;
	if (why != W_N && at <= ds_now_ms()) {
		client_close(c, why, NULL);
		return;
	}
	client_arm(c);
}

/* ---------------------------------------------------------------- output */

/* Take an answer for the client: padded (RFC 8467 4.1: to a multiple of
 * 468 octets when the query had EDNS; without it there is no OPT to pad,
 * and none may be added, RFC 6891 7), framed, into its output.  pkt has
 * room for DNS_MSG_MAX octets. */
static void client_send(struct ds_dot_client *c, uint8_t *pkt, size_t len)
{
	uint8_t hdr[2];
	int n = dns_answer_pad(pkt, len, DNS_MSG_MAX, DNS_PAD_BLOCK_RESPONSE);

	if (n > 0)
		len = (size_t)n;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	if (len + 2 > c->answer_max)
		c->answer_max = len + 2;
	evbuffer_expand(c->out, len + 2);
	evbuffer_add(c->out, hdr, 2);
	evbuffer_add(c->out, pkt, len);
	c->s->out_total += len + 2;
	if (c->s->out_total > limits(c->s)->output_total)
		event_active(c->s->budget_ev, EV_TIMEOUT, 0);
}

/* What the client is owed goes to SSL_write, a record (16 KiB) at a time.
 * false: the connection failed (closed). */
static bool client_flush(struct ds_dot_client *c)
{
	while (out_len(c) > 0) {
		size_t len = c->wretry ? c->wretry : out_len(c);
		unsigned char *p;
		int n, e, sys;

		if (len > DOT_WRITE_MAX)
			len = DOT_WRITE_MAX;
		p = evbuffer_pullup(c->out, (ssize_t)len);
		if (p == NULL)
			return true; /* cannot happen: len <= what is there */
		ERR_clear_error();
		errno = 0;
		n = SSL_write(c->ssl, p, (int)len);
		if (n > 0) {
			evbuffer_drain(c->out, (size_t)n);
			c->s->out_total -= (size_t)n;
			c->wretry = 0;
			c->progress_ms = ds_now_ms();
			continue;
		}
		sys = errno;
		e = SSL_get_error(c->ssl, n);
		c->wretry = len; /* to be repeated with the same length */
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = true;
			return true;
		}
		if (e == SSL_ERROR_WANT_READ)
			return true; /* the read side is armed while the client is open */
		client_close(c, e == SSL_ERROR_SSL ? W_TLS_ERROR : W_GONE,
			     e == SSL_ERROR_SYSCALL && sys ? strerror(sys) : NULL);
		return false;
	}
	c->want_write = false;
	return true;
}

/* ---------------------------------------------------------------- input */

static bool client_message(void *arg, const uint8_t *msg, size_t len)
{
	struct ds_dot_client *c = arg;
	struct ds_dotsrv *s = c->s;
	struct ds_origin o = { .kind = DS_ORIGIN_DOT, .ops = &origin_ops, .dot = c };
	size_t outlen = 0;

	s->cnt.queries++;
	o.peer = c->peer;
	o.peerlen = c->peerlen;
	if (c->refused) {
		ds_access_count(s->d, DS_ACL_REFUSE);
		if (ds_resolve_refuse(s->d, msg, len, s->scratch, &outlen) == DS_RESOLVE_ANSWER)
			client_send(c, s->scratch, outlen);
		return true;
	}
	switch (ds_resolve(s->d, msg, len, &o, s->scratch, &outlen)) {
	case DS_RESOLVE_ANSWER:
		client_send(c, s->scratch, outlen);
		break;
	case DS_RESOLVE_PENDING:
		c->inflight++;
		break;
	case DS_RESOLVE_DROP:
		break;
	}
	return !c->dead;
}

static const struct tcp_frame_ops frame_ops = {
	.may_take = client_may_take, .message = client_message,
};

/* Frame what was read into queries, as far as the limits allow. */
static void client_take(struct ds_dot_client *c)
{
	struct tcp_frame_result r;
	bool was_blocked = c->blocked;

	r = tcp_frame_run(c->in, c->partial, &frame_ops, c, c->s->inbuf);
	if (r.taken)
		c->progress_ms = ds_now_ms();
	c->blocked = r.rc == TCP_FRAME_BLOCKED;
	if (c->blocked && !was_blocked && c->inflight >= limits(c->s)->client_inflight)
		client_held(c);
	switch (r.rc) {
	case TCP_FRAME_BAD:
		client_close(c, W_NOT_DNS, NULL);
		return;
	case TCP_FRAME_GONE:
		return;
	case TCP_FRAME_PARTIAL:
		if (r.new_partial)
			c->partial_ms = ds_now_ms();
		c->partial = true;
		break;
	case TCP_FRAME_EMPTY:
	case TCP_FRAME_BLOCKED:
		c->partial = false;
		break;
	}
}

/* Should more be read from the client now? */
static bool client_wants_input(const struct ds_dot_client *c)
{
	return !c->eof && !c->blocked && evbuffer_get_length(c->in) < DOT_IN_MAX;
}

/* SSL_read what the client sent, taking the queries as they come.  false:
 * closed. */
static bool client_read(struct ds_dot_client *c)
{
	struct ds_dotsrv *s = c->s;

	for (int i = 0; i < DOT_READS_PER_EVENT && client_wants_input(c); i++) {
		size_t room = DOT_IN_MAX - evbuffer_get_length(c->in);
		int n, e, sys;

		if (room > sizeof(s->rbuf))
			room = sizeof(s->rbuf);
		ERR_clear_error();
		errno = 0;
		n = SSL_read(c->ssl, s->rbuf, (int)room);
		if (n > 0) {
			evbuffer_add(c->in, s->rbuf, (size_t)n);
			client_take(c);
			if (c->dead)
				return false;
			continue;
		}
		sys = errno;
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return true;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = true;
			return true;
		}
		if (e == SSL_ERROR_ZERO_RETURN) {
			c->eof = true;
			return true;
		}
		if (e == SSL_ERROR_SYSCALL) {
			client_close(c, W_GONE, sys ? strerror(sys) : NULL);
			return false;
		}
		client_close(c, W_TLS_ERROR, ERR_reason_error_string(ERR_peek_error()));
		return false;
	}
	/* more may be waiting inside TLS (it will not show on the socket):
	 * come back after the other clients had their turn */
	if (client_wants_input(c) && SSL_has_pending(c->ssl))
		event_active(c->run_ev, EV_TIMEOUT, 0);
	return true;
}

/* ---------------------------------------------------------------- handshake */

/* Finish the handshake; false: it failed (closed) or goes on. */
static bool client_handshake(struct ds_dot_client *c)
{
	struct ds_dotsrv *s = c->s;
	int r, e, sys;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->state = DOT_OPEN;
		s->handshaking--;
		s->cnt.handshakes++;
		if (SSL_session_reused(c->ssl))
			s->cnt.resumed++;
		c->progress_ms = ds_now_ms();
		return true;
	}
	sys = errno;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return false;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = true;
		return false;
	}
	if (e == SSL_ERROR_SSL) {
		const char *reason = ERR_reason_error_string(ERR_peek_error());

		client_close(c, W_HANDSHAKE_FAILED, reason ? reason : "protocol error");
	} else {
		client_close(c, W_HANDSHAKE_FAILED,
			     sys ? strerror(sys) : "the client closed the connection");
	}
	ERR_clear_error();
	return false;
}

/* ---------------------------------------------------------------- running */

static void set_event(struct event *ev, bool *on, bool want)
{
	if (want == *on)
		return;
	*on = want;
	if (want)
		event_add(ev, NULL);
	else
		event_del(ev);
}

/* Everything the connection can do now: the handshake, what the client
 * owes us, what we owe it; then which events it waits for. */
static void client_run(struct ds_dot_client *c)
{
	bool was_reading = c->reading;

	c->in_run = true;
	c->want_write = false;
	if (c->over) {
		c->in_run = false;
		client_close(c, W_OUTPUT_OVER, NULL);
		return;
	}
	if (c->state == DOT_HANDSHAKE && !client_handshake(c))
		goto out;
	if (!client_flush(c))
		goto out;
	/* what came in while the limits held it back is taken first */
	if (c->blocked || c->partial) {
		client_take(c);
		if (c->dead)
			goto out;
	}
	if (!client_read(c) || !client_flush(c))
		goto out;
	if (c->eof && c->inflight == 0 && out_len(c) == 0 && !c->blocked) {
		c->in_run = false;
		client_close(c, W_GONE, NULL);
		return;
	}
out:
	c->in_run = false;
	if (c->dead) {
		client_free(c);
		return;
	}
	/* in the handshake, and while the client may send more (or an
	 * SSL_write waits for something to read) */
	set_event(c->rev, &c->reading,
		  c->state == DOT_HANDSHAKE || client_wants_input(c) || (c->wretry && !c->want_write));
	if (!was_reading && c->reading && c->state == DOT_OPEN && SSL_has_pending(c->ssl))
		event_active(c->run_ev, EV_TIMEOUT, 0);
	set_event(c->wev, &c->writing, c->want_write);
	client_arm(c);
}

static void client_io(evutil_socket_t fd, short what, void *arg)
{
	client_run(arg);
}

/* Answers went out or queries completed: the client may take more. */
static void client_wake(struct ds_dot_client *c)
{
	event_active(c->run_ev, EV_TIMEOUT, 0);
}

/* ---------------------------------------------------------------- origin */

static void origin_track(struct ds_request *req)
{
	TAILQ_INSERT_TAIL(&req->origin.dot->reqs, req, tcp_link);
}

static void origin_untrack(struct ds_request *req)
{
	struct ds_dot_client *c = req->origin.dot;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->inflight--;
	client_wake(c);
	if (c->inflight == 0)
		accept_resume(c->s); /* c can be closed to make room now */
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_dot_client *c = req->origin.dot;
	struct ds_dotsrv *s = c->s;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->inflight--;
	if (c->over || c->dead || len > sizeof(s->reply))
		return;
	/* answers came bigger than those before and the client does not
	 * read them: it is closed (from the loop: this is the query path's
	 * callback) rather than holding more */
	if (out_len(c) + len + 2 > 2 * limits(s)->client_output) {
		c->over = true;
		client_wake(c);
		return;
	}
	memcpy(s->reply, pkt, len);
	client_send(c, s->reply, len);
	/* written from the loop, with the other answers that complete now */
	client_wake(c);
	if (c->inflight == 0)
		accept_resume(s); /* c can be closed to make room now */
}

/* ---------------------------------------------------------------- accept */

static void accept_pause(struct ds_dotsrv *s)
{
	for (int k = 0; k < s->n; k++)
		if (s->l[k]->accepting && !s->l[k]->paused) {
			event_del(s->l[k]->ev);
			s->l[k]->paused = true;
		}
}

static void accept_resume(struct ds_dotsrv *s)
{
	bool any = false;

	for (int k = 0; k < s->n; k++)
		any |= s->l[k]->paused && !evtimer_pending(s->l[k]->pause_ev, NULL);
	if (!any || (s->nclients >= limits(s)->clients && !victim(s, NULL)))
		return;
	for (int k = 0; k < s->n; k++) {
		struct dot_listener *l = s->l[k];

		if (l->paused && !evtimer_pending(l->pause_ev, NULL)) {
			l->paused = false;
			event_add(l->ev, NULL);
		}
	}
}

static void pause_done(evutil_socket_t fd, short what, void *arg)
{
	struct dot_listener *l = arg;
	struct ds_dotsrv *s = l->s;

	if (l->paused && (s->nclients < limits(s)->clients || victim(s, NULL))) {
		l->paused = false;
		event_add(l->ev, NULL);
	}
}

static struct ds_dot_client *client_new(struct dot_listener *l, int fd,
					const struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct ds_dotsrv *s = l->s;
	struct event_base *base = s->d->base;
	struct ds_dot_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->l = l;
	c->fd = fd;
	c->peer = *peer;
	c->peerlen = peerlen;
	c->progress_ms = ds_now_ms();
	TAILQ_INIT(&c->reqs);
	c->ssl = SSL_new(s->ctx);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, client_io, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, client_io, c);
	c->timer = evtimer_new(base, client_timer, c);
	c->run_ev = event_new(base, -1, 0, client_io, c);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	if (!c->ssl || !c->rev || !c->wev || !c->timer || !c->run_ev || !c->in || !c->out ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		if (c->rev)
			event_free(c->rev);
		if (c->wev)
			event_free(c->wev);
		if (c->timer)
			event_free(c->timer);
		if (c->run_ev)
			event_free(c->run_ev);
		if (c->in)
			evbuffer_free(c->in);
		if (c->out)
			evbuffer_free(c->out);
		SSL_free(c->ssl);
		ERR_clear_error();
		free(c);
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	return c;
}

static void do_accept(evutil_socket_t fd, short what, void *arg)
{
	struct dot_listener *l = arg;
	struct ds_dotsrv *s = l->s;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		struct ds_dot_client *c;
		enum ds_acl_action acl;
		int cfd, one = 1;

		/* full, and every client busy: leave new connections in the
		 * backlog until one finishes */
		if (s->nclients >= limits(s)->clients && !victim(s, NULL)) {
			accept_pause(s);
			return;
		}
		cfd = accept4(fd, (struct sockaddr *)&peer, &peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };

				log_warn("dot: accept: %s, pausing for %d ms", strerror(errno),
					 ACCEPT_PAUSE_MS);
				event_del(l->ev);
				l->paused = true;
				evtimer_add(l->pause_ev, &tv);
			}
			return;
		}
		acl = l->check ? ds_access_match(s->d, &peer) : DS_ACL_ALLOW;
		if (acl == DS_ACL_DENY) {
			/* closed before anything is read, before any TLS */
			ds_access_count(s->d, acl);
			close(cfd);
			continue;
		}
		if (!make_room(s, &peer)) {
			s->cnt.refused++;
			close(cfd);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = client_new(l, cfd, &peer, peerlen);
		if (!c) {
			close(cfd);
			return;
		}
		c->refused = acl == DS_ACL_REFUSE;
		LIST_INSERT_HEAD(&s->clients, c, link);
		s->nclients++;
		s->handshaking++;
		s->cnt.accepted++;
		/* the ClientHello may be there already (TCP Fast Open, or a
		 * fast client): no need to wait for the next event */
		client_run(c);
	}
}

/* ---------------------------------------------------------------- listeners */

static int listener_open(struct ds_dotsrv *s, const struct sockaddr_storage *ss,
			 struct dot_listener **ret)
{
	struct dot_listener *l;
	int fd, one = 1, qlen = 16, r;
	char a[64];

	ds_sockaddr_format(ss, a, sizeof(a));
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		log_err("dot: cannot open a socket for %s: %s", a, strerror(errno));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, ss_len(ss)) < 0 || listen(fd, 256) < 0) {
		r = -errno;
		log_err("cannot serve DoT on %s: %s%s", a, strerror(errno),
			r == -EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE, which a "
				       "daemon that dropped privileges has not)"
				     : "");
		close(fd);
		return r;
	}
	/* the ClientHello may come with the SYN */
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->s = s;
	l->fd = fd;
	l->addr = *ss;
	l->check = ds_access_needed(s->d, ss);
	l->ev = event_new(s->d->base, fd, EV_READ | EV_PERSIST, do_accept, l);
	l->pause_ev = evtimer_new(s->d->base, pause_done, l);
	if (!l->ev || !l->pause_ev) {
		if (l->ev)
			event_free(l->ev);
		if (l->pause_ev)
			event_free(l->pause_ev);
		close(fd);
		free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

static void listener_start(struct dot_listener *l)
{
	if (l->accepting)
		return;
	l->accepting = true;
	l->paused = false;
	event_add(l->ev, NULL);
}

/* Close a listener and the connections it took. */
static void listener_close(struct ds_dotsrv *s, struct dot_listener *l)
{
	struct ds_dot_client *c, *next;

	if (!l)
		return;
	for (c = LIST_FIRST(&s->clients); c; c = next) {
		next = LIST_NEXT(c, link);
		if (c->l == l)
			client_free(c);
	}
	event_free(l->ev);
	event_free(l->pause_ev);
	close(l->fd);
	free(l);
}

/* The index in l[] of the listener bound to ss, or -1. */
static int find_listener(const struct ds_dotsrv *s, const struct sockaddr_storage *ss)
{
	for (int k = 0; k < s->n; k++)
		if (same_addr(&s->l[k]->addr, ss))
			return k;
	return -1;
}

/* ---------------------------------------------------------------- identity */

static void log_identity(const struct ds_dotsrv *s, const char *what)
{
	const struct dotsrv_id_info *i = &s->info;

	log_notice("dot: %s certificate for %s (%s), expires in %lld days; SPKI SHA-256 %s; "
		   "TLSA %s",
		   what, i->name, s->id.generated ? "generated in state-dir" : s->id.chain,
		   (long long)(i->expires_in_s / 86400), i->spki_sha256, i->tlsa);
}

/* The certificate and key of cfg in a new context: 0, or -errno with why.
 * Generated ones live in the running state-dir (a new one needs a
 * restart). */
static int identity_load(struct ds_dotsrv *s, const struct ds_config *cfg, struct dotsrv_id *id,
			 SSL_CTX **ret, char *why, size_t whylen)
{
	char sub[384];
	int r;

	r = dotsrv_id_get(&cfg->dot, s->d->cfg->state_dir, id, sub, sizeof(sub));
	if (r < 0) {
		snprintf(why, whylen, "DoT server certificate: %s", sub);
		return r;
	}
	*ret = dotsrv_tls_ctx_new(id->chain, id->key, s->tickets, sub, sizeof(sub));
	if (!*ret) {
		snprintf(why, whylen, "DoT server certificate %s, key %s: %s", id->chain, id->key,
			 sub);
		return -EINVAL;
	}
	return 0;
}

/* Use ctx for new connections (established ones keep theirs). */
static void identity_use(struct ds_dotsrv *s, SSL_CTX *ctx, const struct dotsrv_id *id)
{
	struct dotsrv_id_info info;

	if (dotsrv_tls_ctx_info(ctx, &info) < 0)
		memset(&info, 0, sizeof(info));
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	s->id = *id;
	s->info = info;
}

/* Every hour: new ticket keys, and the generated certificate made again
 * when it nears its end. */
static void hourly(evutil_socket_t fd, short what, void *arg)
{
	struct ds_dotsrv *s = arg;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	char why[512];
	SSL_CTX *ctx;
	int r;

	evtimer_add(s->hourly, &tv);
	if (dotsrv_tickets_rotate(s->tickets) == 0)
		s->cnt.ticket_rotations++;
	else
		log_warn("dot: cannot make a new session ticket key (no randomness); keeping the "
			 "current one");
	r = dotsrv_id_renew(&s->d->cfg->dot, &s->id, why, sizeof(why));
	if (r < 0) {
		log_err("dot: cannot renew the DoT server certificate: %s", why);
		return;
	}
	if (r == 0)
		return;
	ctx = dotsrv_tls_ctx_new(s->id.chain, s->id.key, s->tickets, why, sizeof(why));
	if (!ctx) {
		log_err("dot: the renewed certificate cannot be used: %s", why);
		return;
	}
	identity_use(s, ctx, &s->id);
	log_identity(s, "renewed");
}

/* ---------------------------------------------------------------- all */

int ds_dotsrv_open(struct ds_daemon *d)
{
	const struct ds_serve_dot_config *cfg = &d->cfg->dot;
	struct ds_dotsrv *s;
	int r;

	if (cfg->naddr == 0)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = d;
	LIST_INIT(&s->clients);
	s->budget_ev = event_new(d->base, -1, 0, budget, s);
	s->hourly = evtimer_new(d->base, hourly, s);
	s->tickets = dotsrv_tickets_new();
	d->dotsrv = s;
	if (!s->budget_ev || !s->hourly || !s->tickets) {
		log_err("dot: out of memory");
		ds_dotsrv_close(d);
		return -ENOMEM;
	}
	for (int i = 0; i < cfg->naddr; i++) {
		r = listener_open(s, &cfg->addr[i], &s->l[i]);
		if (r < 0) {
			ds_dotsrv_close(d);
			return r;
		}
		s->n = i + 1;
	}
	return 0;
}

int ds_dotsrv_start(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	struct dotsrv_id id;
	SSL_CTX *ctx = NULL;
	char why[768], a[64];
	int r;

	if (!s)
		return 0;
	r = identity_load(s, d->cfg, &id, &ctx, why, sizeof(why));
	if (r < 0) {
		log_err("dot: %s", why);
		return r;
	}
	identity_use(s, ctx, &id);
	evtimer_add(s->hourly, &tv);
	for (int k = 0; k < s->n; k++) {
		listener_start(s->l[k]);
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: serving DNS over TLS on %s (TLS 1.3, ALPN dot)", a);
	}
	log_identity(s, "using the");
	return 0;
}

static void prepared_drop(struct ds_dotsrv *s)
{
	for (int i = 0; i < s->next_n; i++)
		if (s->next_opened[i])
			listener_close(s, s->next_l[i]);
	SSL_CTX_free(s->next_ctx);
	s->next_ctx = NULL;
	s->next_n = 0;
	s->prepared = false;
}

void ds_dotsrv_close(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct ds_dot_client *c;

	if (!s)
		return;
	if (s->prepared)
		prepared_drop(s);
	while ((c = LIST_FIRST(&s->clients)))
		client_free(c);
	for (int k = 0; k < s->n; k++)
		listener_close(s, s->l[k]);
	if (s->budget_ev)
		event_free(s->budget_ev);
	if (s->hourly)
		event_free(s->hourly);
	SSL_CTX_free(s->ctx);
	dotsrv_tickets_free(s->tickets);
	free(s);
	d->dotsrv = NULL;
}

/* A server for a reload that turns serve-dot on (nothing bound yet). */
static int reload_create(struct ds_daemon *d, char *why, size_t whylen)
{
	struct ds_dotsrv *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	s->d = d;
	LIST_INIT(&s->clients);
	s->budget_ev = event_new(d->base, -1, 0, budget, s);
	s->hourly = evtimer_new(d->base, hourly, s);
	s->tickets = dotsrv_tickets_new();
	d->dotsrv = s;
	if (!s->budget_ev || !s->hourly || !s->tickets) {
		ds_dotsrv_close(d);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int ds_dotsrv_reload_prepare(struct ds_daemon *d, const struct ds_config *n, char *why,
			     size_t whylen)
{
	struct ds_dotsrv *s;
	char a[64];
	int r;

	if (n->dot.naddr == 0)
		return 0; /* turned off (or staying off): commit closes it */
	if (!d->dotsrv && (r = reload_create(d, why, whylen)) < 0)
		return r;
	s = d->dotsrv;
	if (s->prepared)
		prepared_drop(s);
	for (int i = 0; i < n->dot.naddr; i++) {
		int k = find_listener(s, &n->dot.addr[i]);

		s->next_opened[i] = k < 0;
		if (k >= 0) {
			s->next_l[i] = s->l[k];
		} else if ((r = listener_open(s, &n->dot.addr[i], &s->next_l[i])) < 0) {
			s->next_n = i;
			ds_sockaddr_format(&n->dot.addr[i], a, sizeof(a));
			snprintf(why, whylen, "cannot serve DoT on %s (%s)", a, strerror(-r));
			ds_dotsrv_reload_abort(d);
			return r;
		}
		s->next_n = i + 1;
	}
	r = identity_load(s, n, &s->next_id, &s->next_ctx, why, whylen);
	if (r < 0) {
		ds_dotsrv_reload_abort(d);
		return r;
	}
	s->prepared = true;
	return 0;
}

void ds_dotsrv_reload_abort(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;

	if (!s)
		return;
	prepared_drop(s);
	if (s->n == 0)
		ds_dotsrv_close(d); /* made for this reload only */
}

void ds_dotsrv_reload_commit(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;
	struct timeval tv = { DOTSRV_TICKET_ROTATE_S, 0 };
	char a[64];
	bool kept[DS_MAX_SERVE_DOT] = { false };

	if (!s)
		return;
	if (!s->prepared) {
		if (s->n > 0)
			log_notice("dot: no longer serving DNS over TLS");
		ds_dotsrv_close(d); /* serve-dot removed */
		return;
	}
	for (int i = 0; i < s->next_n; i++)
		for (int k = 0; k < s->n; k++)
			kept[k] |= s->next_l[i] == s->l[k];
	for (int k = 0; k < s->n; k++) {
		if (kept[k])
			continue;
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: no longer serving DNS over TLS on %s", a);
		listener_close(s, s->l[k]);
	}
	memcpy(s->l, s->next_l, sizeof(s->l));
	s->n = s->next_n;
	identity_use(s, s->next_ctx, &s->next_id);
	s->next_ctx = NULL;
	s->next_n = 0;
	s->prepared = false;
	if (!evtimer_pending(s->hourly, NULL))
		evtimer_add(s->hourly, &tv);
	for (int k = 0; k < s->n; k++) {
		if (s->l[k]->accepting)
			continue;
		listener_start(s->l[k]);
		ds_sockaddr_format(&s->l[k]->addr, a, sizeof(a));
		log_notice("dot: serving DNS over TLS on %s (TLS 1.3, ALPN dot)", a);
	}
	log_identity(s, "using the");
	/* the limits may have changed */
	accept_resume(s);
	if (s->out_total > limits(s)->output_total)
		event_active(s->budget_ev, EV_TIMEOUT, 0);
}

void ds_dotsrv_access_changed(struct ds_daemon *d)
{
	struct ds_dotsrv *s = d->dotsrv;

	if (!s)
		return;
	for (int k = 0; k < s->n; k++)
		s->l[k]->check = ds_access_needed(d, &s->l[k]->addr);
}

void ds_dotsrv_get_status(const struct ds_daemon *d, struct ds_dotsrv_status *st)
{
	const struct ds_dotsrv *s = d->dotsrv;

	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	*st = s->cnt;
	st->active = true;
	for (int k = 0; k < s->n && k < DS_MAX_SERVE_DOT; k++)
		ds_sockaddr_format(&s->l[k]->addr, st->addr[st->naddr++], sizeof(st->addr[0]));
	snprintf(st->name, sizeof(st->name), "%s", s->info.name);
	snprintf(st->source, sizeof(st->source), "%s",
		 s->id.generated ? "generated in state-dir" : s->id.chain);
	snprintf(st->spki_sha256, sizeof(st->spki_sha256), "%s", s->info.spki_sha256);
	snprintf(st->tlsa, sizeof(st->tlsa), "%s", s->info.tlsa);
	st->expires_in_s = s->ctx ? ds_cert_seconds_left(SSL_CTX_get0_certificate(s->ctx)) : 0;
	st->clients = s->nclients;
	st->handshaking = s->handshaking;
	st->output = s->out_total;
}
