/*
 * up_conn.c -- one connection of the DNS-over-TLS client: TCP connect,
 * TLS handshake (the context and DANE come from stub/dot/tls.c), TLS I/O on
 * the non-blocking socket, 2-octet length framing, the read and write
 * buffers, the ACK policy, the connect and idle timers and closing (see
 * stub/dot/upstream_int.h for how it fits with the rest).
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "upstream_int.h"

/* room for one whole framed message plus a generous read */
#define RBUF_CAP (2 + DNS_MSG_MAX + 16384)
/* SSL_read calls per readable event before yielding to the loop */
#define READS_PER_EVENT 64
/* ACK policy (conn_ack): acknowledge at once up to this many queries in
 * flight; above it, leave the ACK to our next query, within ACK_DEFER_MS */
#define ACK_NOW_MAX_INFLIGHT 16
#define ACK_DEFER_MS 1

static void conn_read(struct up_conn *c);
static void conn_quickack(struct up_conn *c);
static void conn_ack(struct up_conn *c);
static void conn_ack_cb(evutil_socket_t fd, short what, void *arg);

/* ---- life cycle ---- */

int up_idmap_init(struct idmap *m, unsigned max_inflight)
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

int up_idmap_find(const struct idmap *m, uint16_t id)
{
	for (unsigned i = id & m->mask;; i = (i + 1) & m->mask) {
		if (!m->e[i].used)
			return -1;
		if (m->e[i].id == id)
			return (int)i;
	}
}

struct up_conn *up_conn_new(struct ds_upstream *u)
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
	if (c->rbuf == NULL || c->wbuf == NULL || up_idmap_init(&c->ids, u->opts.max_inflight) < 0) {
		up_conn_free(c);
		return NULL;
	}
	return c;
}

void up_conn_free(struct up_conn *c)
{
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->ev_ack != NULL)
		event_free(c->ev_ack);
	ds_tls_conn_clear(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->ids.e);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

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

void up_conn_check_idle(struct up_conn *c)
{
	struct timeval tv;

	if (c->state != C_READY)
		return;
	if (c->inflight.n > 0 || c->wlen > c->woff) {
		evtimer_del(c->ev_timer);
		return;
	}
	if (c->draining) {
		up_conn_fail(c, DS_UP_OK, "server asked to close (keepalive 0)");
		return;
	}
	tv = ms_tv(c->idle_ms);
	evtimer_add(c->ev_timer, &tv);
}

/*
 * Close c: err DS_UP_OK for an orderly close, otherwise the class of the
 * failure.  In-flight queries are retried (one of their tries is used
 * up).  c is only marked; it is freed when the entry point unwinds.
 */
void up_conn_fail(struct up_conn *c, enum ds_upstream_err err, const char *why)
{
	enum conn_state was = c->state;

	if (was == C_DEAD)
		return;
	c->state = C_DEAD;
	if (c->ev_read != NULL)
		event_del(c->ev_read);
	if (c->ev_write != NULL)
		event_del(c->ev_write);
	if (c->ev_timer != NULL)
		evtimer_del(c->ev_timer);
	if (c->ev_ack != NULL)
		evtimer_del(c->ev_ack);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->u->hooks.conn_closed(c, was, err, why);
}

/* ---- handshake and events ---- */

static void handshake_done(struct up_conn *c)
{
	char why[160];

	/* belt and braces: never use a connection DANE did not authenticate */
	if (!ds_tls_conn_authenticated(&c->tls, why, sizeof(why))) {
		up_conn_fail(c, DS_UP_ERR_AUTH, why);
		return;
	}
	c->state = C_READY;
	evtimer_del(c->ev_timer);
	ds_tls_conn_info(&c->tls, &c->info);
	c->u->hooks.conn_ready(c);
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
	up_conn_fail(c, err, why);
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
		up_conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	r = ds_tls_conn_init(&c->tls, u->tls, c->fd, &u->desc);
	if (r < 0) {
		snprintf(why, sizeof(why), "TLS setup: %s",
			 r == -ENOKEY ? "OpenSSL accepted no TLSA record, refusing to connect" :
			 r == -ENOENT ? "cannot load the CA certificates, refusing to connect" :
					strerror(-r));
		up_conn_fail(c, r == -ENOKEY ? DS_UP_ERR_NO_TLSA : DS_UP_ERR_TLS, why);
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

	u->hooks.enter(u);
	switch (c->state) {
	case C_CONNECTING:
		if (what & EV_WRITE)
			conn_connected(c);
		break;
	case C_HANDSHAKE:
		conn_handshake(c);
		if ((what & EV_READ) && c->state != C_DEAD && !c->u->opts.no_quickack)
			conn_quickack(c);
		break;
	case C_READY:
		if (what & EV_READ) {
			if (c->write_wants_read) {
				c->write_wants_read = false;
				up_conn_flush(c);
			}
			if (c->state == C_READY)
				conn_read(c);
			if (c->state == C_READY)
				conn_ack(c);
		}
		if ((what & EV_WRITE) && c->state == C_READY) {
			if (c->read_wants_write) {
				c->read_wants_write = false;
				conn_read(c);
			}
			if (c->state == C_READY)
				up_conn_flush(c);
		}
		break;
	case C_DEAD:
		break;
	}
	u->hooks.leave(u);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_conn *c = arg;
	struct ds_upstream *u = c->u;

	u->hooks.enter(u);
	switch (c->state) {
	case C_CONNECTING:
		up_conn_fail(c, DS_UP_ERR_NETWORK, "connect timed out");
		break;
	case C_HANDSHAKE:
		up_conn_fail(c, DS_UP_ERR_TLS, "TLS handshake timed out");
		break;
	case C_READY:
		if (c->inflight.n == 0 && c->wlen == c->woff) {
			/* idle: say goodbye, without waiting for the reply */
			ERR_clear_error();
			SSL_shutdown(c->tls.ssl);
			ERR_clear_error();
			up_conn_fail(c, DS_UP_OK, "idle");
		}
		break;
	case C_DEAD:
		break;
	}
	u->hooks.leave(u);
}

/* ---- connecting ---- */

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

/* Start the TCP connect to c->addr (c is on u->conns).  Failures are
 * handled like any later connection failure (through up_conn_fail). */
void up_conn_open(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	struct timeval tv;
	char why[160];
	int r, fd = -1;

	r = tcp_socket(&c->addr, &fd);
	c->fd = fd;
	if (r == 0) {
		c->ev_read = event_new(u->base, fd, EV_READ | EV_PERSIST, conn_event_cb, c);
		c->ev_write = event_new(u->base, fd, EV_WRITE | EV_PERSIST, conn_event_cb, c);
		c->ev_timer = evtimer_new(u->base, conn_timer_cb, c);
		c->ev_ack = evtimer_new(u->base, conn_ack_cb, c);
		if (c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL ||
		    c->ev_ack == NULL)
			r = -ENOMEM;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(-r));
		up_conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	tv = ms_tv(u->opts.connect_timeout_ms);
	evtimer_add(c->ev_timer, &tv);
	conn_want_write(c, true);
}

/* ---- writing ---- */

int up_conn_wbuf_reserve(struct up_conn *c, size_t n)
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

/* Write what is buffered: as few SSL_write calls as possible. */
void up_conn_flush(struct up_conn *c)
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
		up_conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	c->woff = c->wlen = 0;
	if (!c->read_wants_write)
		conn_want_write(c, false);
}

/* ---- reading ---- */

/* What can be told of the frame at p (have octets of it, with the length
 * prefix) before all of it is here: NULL if it may be an answer to us,
 * else why not.  Unframed bytes are caught at once: they would hold the
 * stream out of step until a bogus length's worth had arrived. */
static const char *frame_start_bad(const struct up_conn *c, const uint8_t *p, size_t have)
{
	size_t mlen = (size_t)p[0] << 8 | p[1];

	if (mlen == 0)
		return "protocol error: empty message";
	if (mlen < DNS_HDR_LEN)
		return "protocol error: message shorter than a header";
	if (have >= 4 && up_idmap_find(&c->ids, (uint16_t)(p[2] << 8 | p[3])) < 0)
		return "protocol error: an answer to an ID not asked on this connection";
	if (have >= 5 && (!(p[4] & 0x80) || (p[4] & 0x78) != 0)) /* QR, opcode QUERY */
		return "protocol error: not a response to a query";
	return NULL;
}

/* Take every complete message off the front of rbuf. */
static void conn_frames(struct up_conn *c)
{
	size_t off = 0;

	while (c->rlen - off >= 2) {
		size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		const char *bad = frame_start_bad(c, c->rbuf + off, c->rlen - off);

		if (bad != NULL) {
			up_conn_fail(c, DS_UP_ERR_BADANSWER, bad);
			return;
		}
		if (c->rlen - off - 2 < mlen)
			break;
		c->u->hooks.conn_message(c, c->rbuf + off + 2, mlen);
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

	/* not sticky in the kernel; setting it also sends a pending ACK */
	if (c->fd >= 0)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/*
 * After a read: when to acknowledge.  Servers that leave Nagle on (Unbound
 * on Debian 12) hold each answer until the previous one is acknowledged, so
 * with a few queries in flight our delayed ACK would stall pipelined
 * answers ~40 ms: acknowledge at once.  With many in flight the client
 * side keeps us writing queries, each carrying the ACK; meanwhile the
 * server's Nagle gathers its answers into one segment, which halves the
 * work per query on both ends.  A short timer sends the ACK if no query
 * went out (the load stopped with answers still owed).
 */
static void conn_ack(struct up_conn *c)
{
	struct timeval tv;

	if (c->u->opts.no_quickack || c->inflight.n == 0)
		return;
	if (c->inflight.n <= ACK_NOW_MAX_INFLIGHT) {
		conn_quickack(c);
		return;
	}
	if (!evtimer_pending(c->ev_ack, NULL)) {
		tv = ms_tv(ACK_DEFER_MS);
		evtimer_add(c->ev_ack, &tv);
	}
}

static void conn_ack_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_conn *c = arg;

	if (c->state == C_READY && c->inflight.n > 0)
		conn_quickack(c);
}

static void conn_read(struct up_conn *c)
{
	struct ds_upstream *u = c->u;
	char why[160];
	int i;

	for (i = 0; i < READS_PER_EVENT; i++) {
		int n, e, sys;

		if (c->rlen >= RBUF_CAP) {
			up_conn_fail(c, DS_UP_ERR_NETWORK, "protocol error: framing");
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
			up_conn_fail(c, c->inflight.n > 0 ? DS_UP_ERR_NETWORK : DS_UP_OK,
				  "closed by the server");
			return;
		}
		snprintf(why, sizeof(why), "read: %s",
			 e == SSL_ERROR_SYSCALL && sys != 0 ? strerror(sys) :
			 e == SSL_ERROR_SYSCALL ? "connection closed" : "TLS error");
		ERR_clear_error();
		up_conn_fail(c, DS_UP_ERR_NETWORK, why);
		return;
	}
	/* more may be waiting: come back after the others had their turn */
	if (i == READS_PER_EVENT)
		event_active(c->ev_read, EV_READ, 0);
	up_conn_check_idle(c);
}
