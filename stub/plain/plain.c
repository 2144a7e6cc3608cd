/* plain.c -- plain DNS to the network's resolver (see dotstub/plain.h). */
#include "dotstub/plain.h"
#include "dotstub/sockaddr.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/log.h"

#define PLAIN_MAX_INFLIGHT 1024
#define PLAIN_TRIES 2

struct ds_plain_query {
	struct ds_plain *p;
	struct dns_query q;
	ds_upstream_cb cb;
	void *arg;
	int fd;
	bool tcp;
	int addr_idx;
	int tries;
	uint16_t id;
	struct event *ev;        /* readable (and, over TCP, writable) */
	struct event *timer;
	uint8_t buf[DNS_MSG_MAX + 2];
	size_t have, want, sent, out_len;
	uint8_t out[DNS_MSG_MAX + 2];
	LIST_ENTRY(ds_plain_query) link;
};

struct ds_plain {
	struct event_base *base;
	struct sockaddr_storage addr[DS_MAX_UPSTREAM_ADDRS];
	int naddr;
	unsigned timeout_ms;
	LIST_HEAD(, ds_plain_query) queries;
	struct ds_plain_status st;
	int last_addr;
};

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void query_close(struct ds_plain_query *h)
{
	if (h->ev) {
		event_free(h->ev);
		h->ev = NULL;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

static void query_free(struct ds_plain_query *h)
{
	query_close(h);
	if (h->timer)
		event_free(h->timer);
	LIST_REMOVE(h, link);
	h->p->st.inflight--;
	free(h);
}

/* pkt may point into h->buf: h is unlinked first (so nothing reached from
 * the callback can find it again), called back, and only then freed. */
static void query_done(struct ds_plain_query *h, enum ds_upstream_err err, const uint8_t *pkt,
		       size_t len, struct dns_response *r)
{
	if (err == DS_UP_OK)
		h->p->st.answers++;
	query_close(h);
	LIST_REMOVE(h, link);
	h->p->st.inflight--;
	h->cb(h->arg, err, pkt, len, r);
	if (h->timer)
		event_free(h->timer);
	free(h);
}

static int query_send(struct ds_plain_query *h);

static void retry_or_fail(struct ds_plain_query *h, enum ds_upstream_err err)
{
	query_close(h);
	if (++h->tries < PLAIN_TRIES * h->p->naddr) {
		h->addr_idx = (h->addr_idx + 1) % h->p->naddr;
		h->tcp = false;
		if (query_send(h) == 0)
			return;
	}
	query_done(h, err, NULL, 0, NULL);
}

/* An answer arrived: check it and hand it over, or ask again over TCP. */
static void handle_answer(struct ds_plain_query *h, const uint8_t *pkt, size_t len)
{
	struct dns_response r;

	if (len < DNS_HDR_LEN || ((uint16_t)pkt[0] << 8 | pkt[1]) != h->id)
		return; /* not ours: keep waiting (UDP) */
	if (dns_parse_response(pkt, len, &r) < 0 || !dns_response_matches(&r, &h->q)) {
		if (h->tcp)
			retry_or_fail(h, DS_UP_ERR_BADANSWER);
		return;
	}
	if ((r.flags & DNS_FLAG_TC) && !h->tcp) {
		h->p->st.tcp_retries++;
		query_close(h);
		h->tcp = true;
		if (query_send(h) < 0)
			query_done(h, DS_UP_ERR_NETWORK, NULL, 0, NULL);
		return;
	}
	query_done(h, DS_UP_OK, pkt, len, &r);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct ds_plain_query *h = arg;
	ssize_t n;

	n = recv(fd, h->buf, sizeof(h->buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			retry_or_fail(h, DS_UP_ERR_NETWORK);
		return;
	}
	handle_answer(h, h->buf, (size_t)n);
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
	struct ds_plain_query *h = arg;
	ssize_t n;

	if (h->sent < h->out_len) {
		n = send(fd, h->out + h->sent, h->out_len - h->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				retry_or_fail(h, DS_UP_ERR_NETWORK);
			return;
		}
		h->sent += (size_t)n;
		if (h->sent == h->out_len) {
			event_del(h->ev);
			event_assign(h->ev, h->p->base, fd, EV_READ | EV_PERSIST, on_tcp, h);
			event_add(h->ev, NULL);
		}
		return;
	}
	n = recv(fd, h->buf + h->have, (h->want ? h->want + 2 : 2) - h->have, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		retry_or_fail(h, DS_UP_ERR_NETWORK);
		return;
	}
	h->have += (size_t)n;
	if (!h->want && h->have == 2) {
		h->want = (size_t)h->buf[0] << 8 | h->buf[1];
		if (h->want < DNS_HDR_LEN) {
			retry_or_fail(h, DS_UP_ERR_BADANSWER);
			return;
		}
	}
	if (h->want && h->have == h->want + 2)
		handle_answer(h, h->buf + 2, h->want);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ds_plain_query *h = arg;

	h->p->st.timeouts++;
	retry_or_fail(h, DS_UP_ERR_TIMEOUT);
}

static int query_send(struct ds_plain_query *h)
{
	struct ds_plain *p = h->p;
	const struct sockaddr_storage *ss = &p->addr[h->addr_idx];
	struct timeval tv = { p->timeout_ms / 1000, (p->timeout_ms % 1000) * 1000 };
	int n;

	if (getrandom(&h->id, sizeof(h->id), 0) != sizeof(h->id))
		return -EIO;
	n = dns_build_upstream_query(&h->q, h->id, false, h->out + 2, sizeof(h->out) - 2);
	if (n < 0)
		return n;
	h->out[0] = (uint8_t)(n >> 8);
	h->out[1] = (uint8_t)n;
	h->fd = socket(ss->ss_family, (h->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
					      SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -errno;
	if (connect(h->fd, (const struct sockaddr *)ss, ss_len(ss)) < 0 && errno != EINPROGRESS) {
		query_close(h);
		return -errno;
	}
	h->have = h->want = h->sent = 0;
	if (h->tcp) {
		h->out_len = (size_t)n + 2;
		h->ev = event_new(p->base, h->fd, EV_WRITE | EV_PERSIST, on_tcp, h);
	} else {
		if (send(h->fd, h->out + 2, (size_t)n, 0) < 0) {
			query_close(h);
			return -errno;
		}
		h->ev = event_new(p->base, h->fd, EV_READ | EV_PERSIST, on_udp, h);
	}
	if (!h->ev || event_add(h->ev, NULL) < 0) {
		query_close(h);
		return -ENOMEM;
	}
	p->last_addr = h->addr_idx;
	evtimer_add(h->timer, &tv);
	return 0;
}

struct ds_plain *ds_plain_new(struct event_base *base, const struct sockaddr_storage *addr, int n,
			      unsigned timeout_ms, int *ret_err)
{
	struct ds_plain *p;

	if (n < 1) {
		*ret_err = -EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	p->base = base;
	p->naddr = n > DS_MAX_UPSTREAM_ADDRS ? DS_MAX_UPSTREAM_ADDRS : n;
	memcpy(p->addr, addr, (size_t)p->naddr * sizeof(addr[0]));
	p->timeout_ms = timeout_ms ? timeout_ms : 1500;
	LIST_INIT(&p->queries);
	return p;
}

void ds_plain_free(struct ds_plain *p)
{
	struct ds_plain_query *h;

	if (!p)
		return;
	while ((h = LIST_FIRST(&p->queries)))
		query_done(h, DS_UP_ERR_CANCELLED, NULL, 0, NULL);
	free(p);
}

static void deferred_fail(evutil_socket_t fd, short what, void *arg)
{
	struct ds_plain_query *h = arg;

	query_done(h, DS_UP_ERR_NETWORK, NULL, 0, NULL);
}

struct ds_plain_query *ds_plain_submit(struct ds_plain *p, const struct dns_query *q,
				       ds_upstream_cb cb, void *arg)
{
	struct ds_plain_query *h;

	if (p->st.inflight >= PLAIN_MAX_INFLIGHT) {
		errno = EBUSY;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->p = p;
	h->q = *q;
	h->cb = cb;
	h->arg = arg;
	h->fd = -1;
	h->addr_idx = p->last_addr;
	h->timer = evtimer_new(p->base, on_timeout, h);
	if (!h->timer) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	LIST_INSERT_HEAD(&p->queries, h, link);
	p->st.inflight++;
	p->st.queries++;
	if (query_send(h) < 0) {
		/* fail from the loop, never from inside submit */
		struct timeval now = { 0, 0 };
		p->st.errors++;
		event_assign(h->timer, p->base, -1, 0, deferred_fail, h);
		evtimer_add(h->timer, &now);
	}
	return h;
}

void ds_plain_cancel(struct ds_plain_query *h)
{
	query_free(h);
}

void ds_plain_get_status(const struct ds_plain *p, struct ds_plain_status *st)
{
	*st = p->st;
	ds_sockaddr_format(&p->addr[p->last_addr], st->addr, sizeof(st->addr));
}
