/*
 * dotsrv_conn.c -- one client connection of the DoT server (dotsrv.h,
 * dotsrv_int.h): the TLS handshake, then SSL_read into the client's input,
 * which the TCP listener's framing (tcp_frame.c) cuts into queries; the
 * query path (resolve.c) answers at once (cache, local, errors) or later
 * through the origin hooks, out of order as they complete.  Every answer
 * is padded to a block of 468 octets when the query had EDNS (RFC 8467
 * 4.1), framed, and gathered in the client's output, written with as few
 * SSL_write calls (TLS records) as the loop allows.  Driven by hand on its
 * non-blocking socket, as the upstream client drives its own
 * (stub/dot/up_conn.c).
 *
 * Its limits: dot-client-inflight queries in flight and dot-client-output
 * octets of answers (no more is read from it until answers go out; twice
 * that: closed), a handshake done within dot-handshake-timeout of the
 * accept, a message complete within DOT_MSG_TIMEOUT_MS of its first octet,
 * dot-idle-timeout with nothing in flight (or with output the client does
 * not read).  Whatever a client sends is hostile: TLS errors, a length
 * below a DNS header, a message that never completes close the connection
 * with a log line (rate-limited, without the client's address above
 * debug).
 */
#include "dotsrv_int.h"
#include "tcp_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "dotstub/clock.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

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

/* The server may accept again (from the loop: it is the server's call). */
static void accept_may_resume(struct ds_dotsrv *s)
{
	event_active(s->resume_ev, EV_TIMEOUT, 0);
}

/* ---------------------------------------------------------------- closing */

void dotsrv_conn_free(struct ds_dot_client *c)
{
	struct ds_dotsrv *s = c->s;
	struct ds_request *req;

	while ((req = TAILQ_FIRST(&c->reqs))) {
		TAILQ_REMOVE(&c->reqs, req, tcp_link);
		ds_request_cancel(req);
	}
	ds_pool_remove(&s->clients, &c->pc);
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
	accept_may_resume(s);
}

/* Close c, saying why (detail: more of it, or NULL).  Inside
 * dotsrv_conn_run the connection is only marked; dotsrv_conn_run frees it
 * as it returns. */
void dotsrv_conn_close(struct ds_dot_client *c, enum dot_why why, const char *detail)
{
	struct ds_dotsrv *s = c->s;
	unsigned long long more;
	char a[64];

	if (c->pc.dead)
		return;
	ds_sockaddr_format(&c->pc.peer, a, sizeof(a));
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
		c->pc.dead = true;
		event_del(c->rev);
		event_del(c->wev);
		event_del(c->timer);
		return;
	}
	dotsrv_conn_free(c);
}

/* ---------------------------------------------------------------- limits */

static size_t out_len(const struct ds_dot_client *c)
{
	return evbuffer_get_length(c->out);
}

size_t dotsrv_conn_output(const struct ds_dot_client *c)
{
	return out_len(c);
}

/* May the client's next query be taken: not too many in flight, and room
 * in its output for what it waits for (each answer in flight counted at
 * the largest it has had, at least DOT_ANSWER_FLOOR; before the first, at
 * the largest possible) -- as the TCP listener's client_may_take. */
static bool client_may_take(void *arg)
{
	struct ds_dot_client *c = arg;
	const struct ds_serve_dot_config *lim = dotsrv_limits(c->s);
	size_t each = !c->answer_max ? DNS_MSG_MAX + 2
		      : c->answer_max > DOT_ANSWER_FLOOR ? c->answer_max : DOT_ANSWER_FLOOR;

	return !c->over && c->pc.inflight < lim->client_inflight &&
	       out_len(c) + (size_t)c->pc.inflight * each < lim->client_output;
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
			   dotsrv_limits(c->s)->client_inflight, more);
}

/* ---------------------------------------------------------------- timer */

/* When the connection's timer is due, and for what (W_N: not at all):
 * the handshake's end; answers the client does not read; the end of an
 * incomplete message; idleness with nothing in flight. */
static enum dot_why client_deadline(const struct ds_dot_client *c, uint64_t *at)
{
	const struct ds_serve_dot_config *lim = dotsrv_limits(c->s);

	if (c->state == DOT_HANDSHAKE) {
		*at = c->pc.progress_ms + lim->handshake_timeout_ms;
		return W_HANDSHAKE_TIMEOUT;
	}
	if (out_len(c) > 0 || c->wretry) {
		*at = c->pc.progress_ms + lim->idle_timeout_ms;
		return W_OUTPUT_STUCK;
	}
	if (c->partial && !c->blocked) {
		*at = c->partial_ms + DOT_MSG_TIMEOUT_MS;
		return W_MSG_TIMEOUT;
	}
	if (c->pc.inflight == 0 && !c->blocked) {
		*at = c->pc.progress_ms + lim->idle_timeout_ms;
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
	/* armed for earlier already: it fires, finds the new deadline and
	 * arms for it (one timer operation per idle period, not per event) */
	if (c->deadline_ms && c->deadline_ms <= at)
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
		dotsrv_conn_close(c, why, NULL);
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
	if (c->s->out_total > dotsrv_limits(c->s)->output_total)
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
			c->pc.progress_ms = ds_now_ms();
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
		dotsrv_conn_close(c, e == SSL_ERROR_SSL ? W_TLS_ERROR : W_GONE,
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
	o.peer = c->pc.peer;
	o.peerlen = c->pc.peerlen;
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
		c->pc.inflight++;
		break;
	case DS_RESOLVE_DROP:
		break;
	}
	return !c->pc.dead;
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
		c->pc.progress_ms = ds_now_ms();
	c->blocked = r.rc == TCP_FRAME_BLOCKED;
	if (c->blocked && !was_blocked && c->pc.inflight >= dotsrv_limits(c->s)->client_inflight)
		client_held(c);
	switch (r.rc) {
	case TCP_FRAME_BAD:
		dotsrv_conn_close(c, W_NOT_DNS, NULL);
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
			if (c->pc.dead)
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
			dotsrv_conn_close(c, W_GONE, sys ? strerror(sys) : NULL);
			return false;
		}
		dotsrv_conn_close(c, W_TLS_ERROR, ERR_reason_error_string(ERR_peek_error()));
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
		c->pc.progress_ms = ds_now_ms();
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

		dotsrv_conn_close(c, W_HANDSHAKE_FAILED, reason ? reason : "protocol error");
	} else {
		dotsrv_conn_close(c, W_HANDSHAKE_FAILED,
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
void dotsrv_conn_run(struct ds_dot_client *c)
{
	bool was_reading = c->reading;

	c->in_run = true;
	c->want_write = false;
	if (c->over) {
		c->in_run = false;
		dotsrv_conn_close(c, W_OUTPUT_OVER, NULL);
		return;
	}
	if (c->state == DOT_HANDSHAKE && !client_handshake(c))
		goto out;
	if (!client_flush(c))
		goto out;
	/* what came in while the limits held it back is taken first */
	if (c->blocked || c->partial) {
		client_take(c);
		if (c->pc.dead)
			goto out;
	}
	if (!client_read(c) || !client_flush(c))
		goto out;
	if (c->eof && c->pc.inflight == 0 && out_len(c) == 0 && !c->blocked) {
		c->in_run = false;
		dotsrv_conn_close(c, W_GONE, NULL);
		return;
	}
out:
	c->in_run = false;
	if (c->pc.dead) {
		dotsrv_conn_free(c);
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
	dotsrv_conn_run(arg);
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
	c->pc.inflight--;
	client_wake(c);
	if (c->pc.inflight == 0)
		accept_may_resume(c->s); /* c can be closed to make room now */
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_dot_client *c = req->origin.dot;
	struct ds_dotsrv *s = c->s;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->pc.inflight--;
	if (c->over || c->pc.dead || len > sizeof(s->reply))
		return;
	/* answers came bigger than those before and the client does not
	 * read them: it is closed (from the loop: this is the query path's
	 * callback) rather than holding more */
	if (out_len(c) + len + 2 > 2 * dotsrv_limits(s)->client_output) {
		c->over = true;
		client_wake(c);
		return;
	}
	memcpy(s->reply, pkt, len);
	client_send(c, s->reply, len);
	/* written from the loop, with the other answers that complete now */
	client_wake(c);
	if (c->pc.inflight == 0)
		accept_may_resume(s); /* c can be closed to make room now */
}


struct ds_dot_client *dotsrv_conn_new(struct dot_listener *l, int fd,
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
	ds_pool_add(&s->clients, &c->pc, peer, peerlen, ds_now_ms());
	return c;
}
