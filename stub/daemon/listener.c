/*
 * listener.c -- the client side of dotstubd: UDP and TCP listeners.
 *
 * UDP reads in batches with recvmmsg(2) and sends the answers it has at once
 * (cache hits, local answers) with one sendmmsg(2).  TCP (RFC 7766) accepts
 * pipelined queries and answers them as they complete, out of order, with
 * limits on clients, queries in flight per client and buffered output; when
 * the client limit is reached or accept() runs out of descriptors, accepting
 * pauses instead of spinning.  Clients that access-control does not allow
 * (access.c) are answered REFUSED or dropped here, before the query path:
 * a denied TCP client's connection is closed at accept, before any read.
 */
#include "daemon.h"
#include "status.h"
#include "tcp_frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/clock.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

#define UDP_BATCH 16
#define UDP_BATCHES_PER_EVENT 8
/* A query is small: a datagram larger than the 1232 octets that every
 * EDNS(0) peer can take (DNS flag day 2020) is not one we take; it arrives
 * truncated (MSG_TRUNC) and is dropped and counted. */
#define UDP_RX_MAX DNS_EDNS_UDP_SIZE
#define TCP_IDLE_TIMEOUT_S 10      /* RFC 7766 6.2.3 */
#define TCP_MAX_INFLIGHT 128       /* per client */
/* What an answer in flight counts for at least against tcp-client-output */
#define TCP_ANSWER_FLOOR 512
/* A message must be complete this long after its first octet arrived. */
#define TCP_MSG_TIMEOUT_MS 3000
#define ACCEPT_PAUSE_MS 1000

struct ds_udp_listener {
	struct ds_daemon *d;
	int fd;
	struct event *ev;
	struct sockaddr_storage addr;
	bool check;               /* clients are checked against access-control */
	/* batch buffers, allocated once */
	struct mmsghdr rx[UDP_BATCH], tx[UDP_BATCH];
	struct iovec rxiov[UDP_BATCH], txiov[UDP_BATCH];
	struct sockaddr_storage peers[UDP_BATCH];
	uint8_t rxbuf[UDP_BATCH][UDP_RX_MAX];
	uint8_t txbuf[UDP_BATCH][DNS_EDNS_UDP_SIZE];
	uint8_t scratch[DNS_MSG_MAX];
	/* answers that came from the upstream, sent together with one
	 * sendmmsg(2) once the loop has handled what is ready */
	struct event *flush_ev;
	int nq;
	struct mmsghdr qtx[UDP_BATCH];
	struct iovec qiov[UDP_BATCH];
	struct sockaddr_storage qpeer[UDP_BATCH];
	uint8_t qbuf[UDP_BATCH][DNS_EDNS_UDP_SIZE];
	/* requests of its clients waiting for the upstream: a listener
	 * removed by a reload is closed at once and freed when they are done
	 * (their answers are dropped) */
	unsigned inflight;
	bool retired;
	LIST_ENTRY(ds_udp_listener) retired_link;
};

struct ds_tcp_listener {
	struct ds_daemon *d;
	int fd;
	struct event *ev;
	struct event *pause_ev;
	struct sockaddr_storage addr;
	bool check;               /* clients are checked against access-control */
	bool paused;
};

struct ds_tcp_client {
	struct ds_listeners *ls;
	struct ds_tcp_listener *t;  /* accepted on it */
	struct bufferevent *bev;
	struct evbuffer_cb_entry *out_cb;  /* keeps ls->out_total */
	struct event *resume_ev;  /* take the input already received */
	struct event *msg_timer;  /* an incomplete message: TCP_MSG_TIMEOUT_MS */
	struct ds_request_list reqs;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	unsigned inflight;
	size_t answer_max;        /* the largest answer sent to it (with framing) */
	uint64_t progress_ms;     /* accepted, last query taken, output drained */
	bool eof;          /* the client closed its side: finish what is in flight */
	bool reading;
	bool blocked;      /* a limit held input back (tcp_frame_run) */
	bool partial;      /* the input ends in an incomplete message */
	bool over;         /* to be closed: output over twice tcp-client-output */
	bool refused;      /* access-control: every query gets REFUSED */
	LIST_ENTRY(ds_tcp_client) link;
};

struct ds_listeners {
	struct ds_daemon *d;
	struct ds_udp_listener *udp[DS_MAX_LISTEN];
	struct ds_tcp_listener *tcp[DS_MAX_LISTEN];
	int n;
	unsigned nclients;
	LIST_HEAD(, ds_tcp_client) clients;
	LIST_HEAD(, ds_udp_listener) retired;  /* removed, answers still due */
	size_t out_total;         /* output buffered for all clients */
	struct event *budget_ev;  /* out_total is over tcp-output-total */
	uint64_t evicted, refused;
	uint64_t held;            /* clients held at TCP_MAX_INFLIGHT */
	struct ds_log_rl held_rl; /* their log line */
	uint8_t scratch[DNS_MSG_MAX];
	uint8_t inbuf[DNS_MSG_MAX];
};

static void origin_track(struct ds_request *req);
static void origin_untrack(struct ds_request *req);
static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len);
/* how the query path answers the clients of these listeners */
static const struct ds_origin_ops origin_ops = {
	.track = origin_track, .untrack = origin_untrack, .reply = origin_reply,
};

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int open_socket(const struct sockaddr_storage *ss, int type)
{
	int fd, one = 1;
	char a[64];

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, ss_len(ss)) < 0) {
		int r = -errno;
		ds_sockaddr_format(ss, a, sizeof(a));
		log_err("cannot bind %s/%s: %s", a, type == SOCK_DGRAM ? "udp" : "tcp",
			strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int ds_listen_bind(const struct sockaddr_storage *ss, int socktype)
{
	int fd = open_socket(ss, socktype), rcvbuf = 1 << 20, qlen = 5;

	if (fd < 0)
		return fd;
	if (socktype == SOCK_DGRAM) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		return fd;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
	if (listen(fd, 256) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int ds_listen_fd(struct ds_daemon *d, const struct sockaddr_storage *ss, int socktype)
{
	return d->listen_fd ? d->listen_fd(d, ss, socktype) : ds_listen_bind(ss, socktype);
}

/* ---------------------------------------------------------------- UDP */

/* One datagram from peer: the answer into out, if one goes back now. */
static enum ds_resolve_rc udp_query(struct ds_udp_listener *u, const struct ds_origin *o,
				    const uint8_t *pkt, size_t len, size_t *outlen)
{
	if (u->check) {
		enum ds_acl_action a = ds_access_match(u->d, &o->peer);

		if (a != DS_ACL_ALLOW) {
			ds_access_count(u->d, a);
			if (a == DS_ACL_DENY)
				return DS_RESOLVE_DROP;
			return ds_resolve_refuse(u->d, pkt, len, u->scratch, outlen);
		}
	}
	return ds_resolve(u->d, pkt, len, o, u->scratch, outlen);
}

static void udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct ds_udp_listener *u = arg;
	struct ds_origin o = { .kind = DS_ORIGIN_UDP, .ops = &origin_ops, .udp = u };

	for (int batch = 0; batch < UDP_BATCHES_PER_EVENT; batch++) {
		int n, ntx = 0;

		for (int i = 0; i < UDP_BATCH; i++) {
			u->rxiov[i].iov_base = u->rxbuf[i];
			u->rxiov[i].iov_len = UDP_RX_MAX;
			memset(&u->rx[i].msg_hdr, 0, sizeof(u->rx[i].msg_hdr));
			u->rx[i].msg_hdr.msg_iov = &u->rxiov[i];
			u->rx[i].msg_hdr.msg_iovlen = 1;
			u->rx[i].msg_hdr.msg_name = &u->peers[i];
			u->rx[i].msg_hdr.msg_namelen = sizeof(u->peers[i]);
		}
		n = recvmmsg(fd, u->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("udp recvmmsg: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			size_t outlen = 0;

			if (u->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
				u->d->stats.dropped++;
				continue;
			}
			o.peer = u->peers[i];
			o.peerlen = u->rx[i].msg_hdr.msg_namelen;
			if (udp_query(u, &o, u->rxbuf[i], u->rx[i].msg_len, &outlen) !=
			    DS_RESOLVE_ANSWER)
				continue;
			if (outlen > sizeof(u->txbuf[0]))
				continue; /* cannot happen: answers are capped to 1232 */
			memcpy(u->txbuf[ntx], u->scratch, outlen);
			u->txiov[ntx].iov_base = u->txbuf[ntx];
			u->txiov[ntx].iov_len = outlen;
			memset(&u->tx[ntx].msg_hdr, 0, sizeof(u->tx[ntx].msg_hdr));
			u->tx[ntx].msg_hdr.msg_iov = &u->txiov[ntx];
			u->tx[ntx].msg_hdr.msg_iovlen = 1;
			/* peers[i] is not reused before the sendmmsg below */
			u->tx[ntx].msg_hdr.msg_name = &u->peers[i];
			u->tx[ntx].msg_hdr.msg_namelen = u->rx[i].msg_hdr.msg_namelen;
			ntx++;
		}
		for (int sent = 0; sent < ntx;) {
			int r = sendmmsg(fd, u->tx + sent, (unsigned)(ntx - sent), MSG_DONTWAIT);
			if (r <= 0) {
				log_debug("udp sendmmsg: %s", strerror(errno));
				break;
			}
			sent += r;
		}
		if (n < UDP_BATCH)
			return;
	}
}

static void udp_flush(struct ds_udp_listener *u)
{
	for (int sent = 0; sent < u->nq;) {
		int r = sendmmsg(u->fd, u->qtx + sent, (unsigned)(u->nq - sent), MSG_DONTWAIT);
		if (r <= 0) {
			log_debug("udp sendmmsg: %s", strerror(errno));
			break;
		}
		sent += r;
	}
	u->nq = 0;
}

static void udp_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	udp_flush(arg);
}

/* Queue an answer to peer; sent at the latest when the loop comes round. */
static void udp_queue(struct ds_udp_listener *u, const struct sockaddr_storage *peer,
		      socklen_t peerlen, const uint8_t *pkt, size_t len)
{
	int i;

	if (len > sizeof(u->qbuf[0])) {
		/* cannot happen: UDP answers are capped to DNS_EDNS_UDP_SIZE */
		if (sendto(u->fd, pkt, len, MSG_DONTWAIT, (const struct sockaddr *)peer,
			   peerlen) < 0)
			log_debug("udp sendto: %s", strerror(errno));
		return;
	}
	if (u->nq == UDP_BATCH)
		udp_flush(u);
	i = u->nq++;
	memcpy(u->qbuf[i], pkt, len);
	memcpy(&u->qpeer[i], peer, peerlen);
	u->qiov[i].iov_base = u->qbuf[i];
	u->qiov[i].iov_len = len;
	memset(&u->qtx[i].msg_hdr, 0, sizeof(u->qtx[i].msg_hdr));
	u->qtx[i].msg_hdr.msg_iov = &u->qiov[i];
	u->qtx[i].msg_hdr.msg_iovlen = 1;
	u->qtx[i].msg_hdr.msg_name = &u->qpeer[i];
	u->qtx[i].msg_hdr.msg_namelen = peerlen;
	if (i == 0)
		event_active(u->flush_ev, EV_TIMEOUT, 0);
}

static int udp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
		    struct ds_udp_listener **ret)
{
	struct ds_udp_listener *u;
	int fd;

	fd = ds_listen_fd(d, ss, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	u->d = d;
	u->fd = fd;
	u->addr = *ss;
	u->check = ds_access_needed(d, ss);
	u->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, udp_read, u);
	u->flush_ev = event_new(d->base, -1, 0, udp_flush_cb, u);
	if (!u->ev || !u->flush_ev || event_add(u->ev, NULL) < 0) {
		if (u->ev)
			event_free(u->ev);
		if (u->flush_ev)
			event_free(u->flush_ev);
		close(fd);
		free(u);
		return -ENOMEM;
	}
	*ret = u;
	return 0;
}

static void udp_close(struct ds_udp_listener *u)
{
	if (!u)
		return;
	if (u->retired)
		LIST_REMOVE(u, retired_link);
	else {
		udp_flush(u);
		event_free(u->ev);
		event_free(u->flush_ev);
		close(u->fd);
	}
	free(u);
}

/* Removed by a reload: closed now; freed once no request of its clients
 * waits for an answer. */
static void udp_retire(struct ds_listeners *ls, struct ds_udp_listener *u)
{
	udp_flush(u);
	event_free(u->ev);
	event_free(u->flush_ev);
	close(u->fd);
	u->fd = -1;
	u->retired = true;
	LIST_INSERT_HEAD(&ls->retired, u, retired_link);
	if (u->inflight == 0)
		udp_close(u);
}

/* A request of u's clients is done (answered or not). */
static void udp_request_done(struct ds_udp_listener *u)
{
	u->inflight--;
	if (u->retired && u->inflight == 0)
		udp_close(u);
}

/* ---------------------------------------------------------------- TCP */

static void tcp_accept_resume(struct ds_listeners *ls);
static struct ds_tcp_client *tcp_victim(struct ds_listeners *ls,
					const struct sockaddr_storage *peer);

static struct evbuffer *client_out(const struct ds_tcp_client *c)
{
	return bufferevent_get_output(c->bev);
}

static void client_free(struct ds_tcp_client *c)
{
	struct ds_listeners *ls = c->ls;
	struct ds_request *req;

	while ((req = TAILQ_FIRST(&c->reqs))) {
		TAILQ_REMOVE(&c->reqs, req, tcp_link);
		ds_request_cancel(req);
	}
	LIST_REMOVE(c, link);
	evbuffer_remove_cb_entry(client_out(c), c->out_cb);
	ls->out_total -= evbuffer_get_length(client_out(c));
	event_free(c->resume_ev);
	event_free(c->msg_timer);
	bufferevent_free(c->bev);
	free(c);
	ls->nclients--;
	tcp_accept_resume(ls);
}

/* Close a client to make room (or because it holds too much); says why. */
static void client_evict(struct ds_tcp_client *c, const char *why)
{
	char a[64];

	ds_sockaddr_format(&c->peer, a, sizeof(a));
	log_debug("tcp: closing the connection of %s: %s", a, why);
	c->ls->evicted++;
	client_free(c);
}

/* May the client's next query be taken: not too many in flight, and room
 * in its output for what it waits for?  Each answer in flight counts at
 * the largest this client has had (at least TCP_ANSWER_FLOOR); before its
 * first one, at the largest possible, so a burst of queries starts with a
 * few in flight and widens once the answers' size is known. */
static bool client_may_take(void *arg)
{
	struct ds_tcp_client *c = arg;
	size_t each = !c->answer_max ? DNS_MSG_MAX + 2
		      : c->answer_max > TCP_ANSWER_FLOOR ? c->answer_max : TCP_ANSWER_FLOOR;

	return c->inflight < TCP_MAX_INFLIGHT &&
	       evbuffer_get_length(client_out(c)) + (size_t)c->inflight * each <
		       c->ls->d->cfg->tcp_client_output;
}

/* The client has TCP_MAX_INFLIGHT queries in flight: no more is read
 * from it until answers go out; counted, logged at most once every
 * DS_LOG_RL_INTERVAL_MS */
static void client_held(struct ds_tcp_client *c)
{
	unsigned long long more;

	c->ls->held++;
	if (ds_log_rl_pass(&c->ls->held_rl, ds_now_ms(), &more))
		log_notice("tcp: a client has %d queries in flight: not reading more from it "
			   "(%llu more times since the last line)",
			   TCP_MAX_INFLIGHT, more);
}

static void client_update_reading(struct ds_tcp_client *c)
{
	bool can = client_may_take(c), want = !c->eof && can;

	if (want != c->reading) {
		c->reading = want;
		if (!want && !c->eof && c->inflight >= TCP_MAX_INFLIGHT)
			client_held(c);
		if (want)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
	}
	/* what the client sent while it was held back is in the input
	 * already: take it now, not on a read event that may never come */
	if (can && c->blocked && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		event_active(c->resume_ev, EV_TIMEOUT, 0);
}

static void client_send(struct ds_tcp_client *c, const uint8_t *pkt, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	struct evbuffer *out = client_out(c);

	if (len + 2 > c->answer_max)
		c->answer_max = len + 2;
	evbuffer_expand(out, len + 2);
	evbuffer_add(out, hdr, 2);
	evbuffer_add(out, pkt, len);
}

/* Done when the client has closed its side and nothing is left to send
 * or to take. */
static bool client_maybe_finish(struct ds_tcp_client *c)
{
	if (c->eof && c->inflight == 0 && !c->blocked &&
	    evbuffer_get_length(client_out(c)) == 0) {
		client_free(c);
		return true;
	}
	return false;
}

static bool client_message(void *arg, const uint8_t *msg, size_t len)
{
	struct ds_tcp_client *c = arg;
	struct ds_origin o = { .kind = DS_ORIGIN_TCP, .ops = &origin_ops, .tcp = c };
	size_t outlen = 0;

	o.peer = c->peer;
	o.peerlen = c->peerlen;
	if (c->refused) {
		ds_access_count(c->ls->d, DS_ACL_REFUSE);
		if (ds_resolve_refuse(c->ls->d, msg, len, c->ls->scratch, &outlen) ==
		    DS_RESOLVE_ANSWER)
			client_send(c, c->ls->scratch, outlen);
		return true;
	}
	switch (ds_resolve(c->ls->d, msg, len, &o, c->ls->scratch, &outlen)) {
	case DS_RESOLVE_ANSWER:
		client_send(c, c->ls->scratch, outlen);
		break;
	case DS_RESOLVE_PENDING:
		c->inflight++;
		break;
	case DS_RESOLVE_DROP:
		break;
	}
	return true;
}

static const struct tcp_frame_ops frame_ops = {
	.may_take = client_may_take, .message = client_message,
};

/* Take the complete queries in the client's input, as far as its limits
 * allow; keep the incomplete-message clock.  false: the client is gone. */
static bool client_process(struct ds_tcp_client *c)
{
	struct tcp_frame_result r;

	r = tcp_frame_run(bufferevent_get_input(c->bev), c->partial, &frame_ops, c,
			  c->ls->inbuf);
	if (r.taken)
		c->progress_ms = ds_now_ms();
	c->blocked = r.rc == TCP_FRAME_BLOCKED;
	switch (r.rc) {
	case TCP_FRAME_BAD:
		c->ls->d->stats.dropped++;
		client_free(c); /* not DNS: close (RFC 7766 allows it) */
		return false;
	case TCP_FRAME_GONE:
		return false;
	case TCP_FRAME_PARTIAL:
		if (r.new_partial) {
			struct timeval tv = { TCP_MSG_TIMEOUT_MS / 1000,
					      TCP_MSG_TIMEOUT_MS % 1000 * 1000 };
			evtimer_add(c->msg_timer, &tv);
		}
		c->partial = true;
		break;
	case TCP_FRAME_EMPTY:
	case TCP_FRAME_BLOCKED:
		c->partial = false;
		evtimer_del(c->msg_timer);
		break;
	}
	client_update_reading(c);
	return !client_maybe_finish(c);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	client_process(arg);
}

static void client_resume(evutil_socket_t fd, short what, void *arg)
{
	struct ds_tcp_client *c = arg;

	if (c->over)
		client_evict(c, "answers piling up unread over twice tcp-client-output");
	else
		client_process(c);
}

/* A message begun TCP_MSG_TIMEOUT_MS ago is still incomplete: a slow (or
 * slowloris) client loses its connection. */
static void client_msg_timeout(evutil_socket_t fd, short what, void *arg)
{
	client_evict(arg, "incomplete message timed out");
}

static void client_write(struct bufferevent *bev, void *arg)
{
	struct ds_tcp_client *c = arg;

	c->progress_ms = ds_now_ms();
	if (client_maybe_finish(c))
		return;
	client_update_reading(c);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct ds_tcp_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		c->eof = true;
		client_update_reading(c);
		if (!client_maybe_finish(c) && c->inflight == 0)
			bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->inflight > 0) {
		bufferevent_enable(c->bev, EV_READ); /* busy, not idle */
		return;
	}
	client_free(c); /* error or idle timeout */
}

static void origin_track(struct ds_request *req)
{
	if (req->origin.kind == DS_ORIGIN_TCP)
		TAILQ_INSERT_TAIL(&req->origin.tcp->reqs, req, tcp_link);
	else
		req->origin.udp->inflight++;
}

static void origin_untrack(struct ds_request *req)
{
	struct ds_tcp_client *c;

	if (req->origin.kind != DS_ORIGIN_TCP) {
		udp_request_done(req->origin.udp);
		return;
	}
	c = req->origin.tcp;
	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->inflight--;
	client_update_reading(c);
	if (!client_maybe_finish(c) && c->inflight == 0)
		tcp_accept_resume(c->ls);
}

static void origin_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	if (req->origin.kind == DS_ORIGIN_UDP) {
		if (!req->origin.udp->retired)
			udp_queue(req->origin.udp, &req->origin.peer, req->origin.peerlen, pkt,
				  len);
		udp_request_done(req->origin.udp);
		return;
	}
	struct ds_tcp_client *c = req->origin.tcp;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->inflight--;
	if (c->over)
		return;
	/* answers came bigger than those before and the client does not
	 * read them: it is closed (from the loop: this is the query path's
	 * callback) rather than holding more */
	if (evbuffer_get_length(client_out(c)) + len + 2 > 2 * c->ls->d->cfg->tcp_client_output) {
		c->over = true;
		event_active(c->resume_ev, EV_TIMEOUT, 0);
		return;
	}
	client_send(c, pkt, len);
	client_update_reading(c);
	if (c->inflight == 0)
		tcp_accept_resume(c->ls); /* c can be closed to make room now */
}

/* The output buffered for all clients, kept as it changes. */
static void client_out_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info,
			       void *arg)
{
	struct ds_tcp_client *c = arg;
	struct ds_listeners *ls = c->ls;

	ls->out_total += info->n_added;
	ls->out_total -= info->n_deleted;
	/* closing clients here could cancel queries of the caller's loop:
	 * over the total, the clients holding most are closed from the loop */
	if (ls->out_total > ls->d->cfg->tcp_output_total)
		event_active(ls->budget_ev, EV_TIMEOUT, 0);
}

static void tcp_budget(evutil_socket_t fd, short what, void *arg)
{
	struct ds_listeners *ls = arg;

	while (ls->out_total > ls->d->cfg->tcp_output_total) {
		struct ds_tcp_client *c, *big = NULL;
		size_t most = 0;

		LIST_FOREACH(c, &ls->clients, link) {
			size_t n = evbuffer_get_length(client_out(c));
			if (n > most) {
				most = n;
				big = c;
			}
		}
		if (!big)
			break;
		client_evict(big, "the most output buffered while the total is over tcp-output-total");
	}
}

/* The client to close to make room (of the host peer, or any if NULL):
 * one with no query in flight that made progress least recently -- the
 * one idle longest, or slowest with its message.  NULL if all are busy. */
static struct ds_tcp_client *tcp_victim(struct ds_listeners *ls, const struct sockaddr_storage *peer)
{
	struct ds_tcp_client *c, *v = NULL;

	LIST_FOREACH(c, &ls->clients, link) {
		if (c->inflight > 0 || (peer && !ds_sockaddr_same_host(&c->peer, peer)))
			continue;
		if (!v || c->progress_ms < v->progress_ms)
			v = c;
	}
	return v;
}

static unsigned tcp_count_host(struct ds_listeners *ls, const struct sockaddr_storage *peer)
{
	struct ds_tcp_client *c;
	unsigned n = 0;

	LIST_FOREACH(c, &ls->clients, link)
		n += ds_sockaddr_same_host(&c->peer, peer);
	return n;
}

static void tcp_accept_pause(struct ds_listeners *ls)
{
	for (int k = 0; k < ls->n; k++)
		if (ls->tcp[k] && !ls->tcp[k]->paused) {
			event_del(ls->tcp[k]->ev);
			ls->tcp[k]->paused = true;
		}
}

/* Make room for a new connection from peer: within the per-address limit
 * and the client limit, closing the oldest idle or slowest connection (of
 * that address first).  false: every candidate is busy. */
static bool tcp_make_room(struct ds_listeners *ls, const struct sockaddr_storage *peer)
{
	const struct ds_config *cfg = ls->d->cfg;
	struct ds_tcp_client *v;

	if (cfg->tcp_clients_per_address && tcp_count_host(ls, peer) >= cfg->tcp_clients_per_address) {
		v = tcp_victim(ls, peer);
		if (!v)
			return false;
		client_evict(v, "tcp-clients-per-address reached: room for a new connection");
	}
	if (ls->nclients >= cfg->max_tcp_clients) {
		v = tcp_victim(ls, NULL);
		if (!v)
			return false;
		client_evict(v, "tcp-clients reached: room for a new connection");
	}
	return true;
}

static void tcp_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ds_tcp_listener *t = arg;
	struct ds_listeners *ls = t->d->listeners;

	for (int i = 0; i < 64; i++) {
		struct ds_tcp_client *c;
		struct timeval idle = { TCP_IDLE_TIMEOUT_S, 0 };
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		enum ds_acl_action acl;
		int cfd, one = 1;

		/* full, and every client busy: leave new connections in the
		 * backlog until one finishes */
		if (ls->nclients >= t->d->cfg->max_tcp_clients && !tcp_victim(ls, NULL)) {
			tcp_accept_pause(ls);
			return;
		}
		cfd = accept4(fd, (struct sockaddr *)&peer, &peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };
				log_warn("accept: %s, pausing TCP accept for %d ms", strerror(errno),
					 ACCEPT_PAUSE_MS);
				event_del(t->ev);
				t->paused = true;
				evtimer_add(t->pause_ev, &tv);
			}
			return;
		}
		acl = t->check ? ds_access_match(t->d, &peer) : DS_ACL_ALLOW;
		if (acl == DS_ACL_DENY) {
			/* closed before anything is read: nothing at all for
			 * a client we do not talk to */
			ds_access_count(t->d, acl);
			close(cfd);
			continue;
		}
		if (!tcp_make_room(ls, &peer)) {
			ls->refused++;
			close(cfd);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return;
		}
		c->ls = ls;
		c->refused = acl == DS_ACL_REFUSE;
		c->t = t;
		c->peer = peer;
		c->peerlen = peerlen;
		c->progress_ms = ds_now_ms();
		TAILQ_INIT(&c->reqs);
		c->bev = bufferevent_socket_new(t->d->base, cfd, BEV_OPT_CLOSE_ON_FREE);
		c->resume_ev = event_new(t->d->base, -1, 0, client_resume, c);
		c->msg_timer = evtimer_new(t->d->base, client_msg_timeout, c);
		if (c->bev)
			c->out_cb = evbuffer_add_cb(client_out(c), client_out_changed, c);
		if (!c->bev || !c->resume_ev || !c->msg_timer || !c->out_cb) {
			if (c->bev)
				bufferevent_free(c->bev);
			else
				close(cfd);
			if (c->resume_ev)
				event_free(c->resume_ev);
			if (c->msg_timer)
				event_free(c->msg_timer);
			free(c);
			return;
		}
		bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
		bufferevent_set_timeouts(c->bev, &idle, &idle);
		c->reading = true;
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		LIST_INSERT_HEAD(&ls->clients, c, link);
		ls->nclients++;
	}
}

static void tcp_pause_done(evutil_socket_t fd, short what, void *arg)
{
	struct ds_tcp_listener *t = arg;
	struct ds_listeners *ls = t->d->listeners;

	if (t->paused && (ls->nclients < t->d->cfg->max_tcp_clients || tcp_victim(ls, NULL))) {
		t->paused = false;
		event_add(t->ev, NULL);
	}
}

static void tcp_accept_resume(struct ds_listeners *ls)
{
	bool any = false;

	for (int k = 0; k < ls->n; k++) {
		struct ds_tcp_listener *t = ls->tcp[k];
		any |= t && t->paused && !evtimer_pending(t->pause_ev, NULL);
	}
	if (!any || (ls->nclients >= ls->d->cfg->max_tcp_clients && !tcp_victim(ls, NULL)))
		return;
	for (int k = 0; k < ls->n; k++) {
		struct ds_tcp_listener *t = ls->tcp[k];
		if (t && t->paused && !evtimer_pending(t->pause_ev, NULL)) {
			t->paused = false;
			event_add(t->ev, NULL);
		}
	}
}

static int tcp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
		    struct ds_tcp_listener **ret)
{
	struct ds_tcp_listener *t;
	int fd;

	fd = ds_listen_fd(d, ss, SOCK_STREAM);
	if (fd < 0)
		return fd;
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->d = d;
	t->fd = fd;
	t->addr = *ss;
	t->check = ds_access_needed(d, ss);
	t->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, tcp_accept, t);
	t->pause_ev = evtimer_new(d->base, tcp_pause_done, t);
	if (!t->ev || !t->pause_ev || event_add(t->ev, NULL) < 0) {
		if (t->ev)
			event_free(t->ev);
		if (t->pause_ev)
			event_free(t->pause_ev);
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static void tcp_close(struct ds_tcp_listener *t)
{
	if (!t)
		return;
	event_free(t->ev);
	event_free(t->pause_ev);
	close(t->fd);
	free(t);
}

/* ---------------------------------------------------------------- all */

int ds_listeners_open(struct ds_daemon *d)
{
	struct ds_listeners *ls = calloc(1, sizeof(*ls));
	int r;

	if (!ls)
		return -ENOMEM;
	ls->d = d;
	LIST_INIT(&ls->clients);
	LIST_INIT(&ls->retired);
	ls->budget_ev = event_new(d->base, -1, 0, tcp_budget, ls);
	if (!ls->budget_ev) {
		free(ls);
		return -ENOMEM;
	}
	d->listeners = ls;
	for (int i = 0; i < d->cfg->nlisten; i++) {
		r = udp_open(d, &d->cfg->listen[i], &ls->udp[i]);
		if (r == 0)
			r = tcp_open(d, &d->cfg->listen[i], &ls->tcp[i]);
		ls->n = i + 1;
		if (r < 0) {
			ds_listeners_close(d);
			return r;
		}
	}
	return 0;
}

/* The index of the listener bound to ss, or -1. */
static int find_listener(const struct ds_listeners *ls, const struct sockaddr_storage *ss)
{
	for (int k = 0; k < ls->n; k++)
		if (ls->udp[k] && ds_sockaddr_equal(&ls->udp[k]->addr, ss))
			return k;
	return -1;
}

/* Close a TCP listener removed by a reload, and the connections it took. */
static void tcp_remove(struct ds_listeners *ls, struct ds_tcp_listener *t)
{
	struct ds_tcp_client *c, *next;

	for (c = LIST_FIRST(&ls->clients); c; c = next) {
		next = LIST_NEXT(c, link);
		if (c->t == t)
			client_free(c);
	}
	tcp_close(t);
}

/* Bind the listeners of addr that are not bound yet into udp[]/tcp[]
 * (marked in opened[]; those that are bound: moved there, and marked in
 * kept[]).  On failure, closes what it bound and returns -errno. */
static int rebind_new(struct ds_daemon *d, const struct sockaddr_storage *addr, int n,
		      struct ds_udp_listener **udp, struct ds_tcp_listener **tcp, bool *kept,
		      bool *opened)
{
	struct ds_listeners *ls = d->listeners;
	char a[64];
	int r = 0, i;

	for (i = 0; i < n && r == 0; i++) {
		int k = find_listener(ls, &addr[i]);

		if (k >= 0) {
			udp[i] = ls->udp[k];
			tcp[i] = ls->tcp[k];
			kept[k] = true;
			continue;
		}
		r = udp_open(d, &addr[i], &udp[i]);
		if (r == 0 && (r = tcp_open(d, &addr[i], &tcp[i])) < 0) {
			udp_close(udp[i]);
			udp[i] = NULL;
		}
		opened[i] = r == 0;
		if (r < 0) {
			ds_sockaddr_format(&addr[i], a, sizeof(a));
			log_err("cannot listen on %s: %s%s", a, strerror(-r),
				r == -EACCES ? " (a port below 1024 needs CAP_NET_BIND_SERVICE, "
					       "which a daemon that dropped privileges has not)"
					     : "");
		}
	}
	if (r == 0)
		return 0;
	for (int j = 0; j < i; j++)
		if (opened[j]) {
			udp_close(udp[j]);
			tcp_close(tcp[j]);
		}
	return r;
}

int ds_listeners_rebind(struct ds_daemon *d, const struct sockaddr_storage *addr, int n)
{
	struct ds_listeners *ls = d->listeners;
	struct ds_udp_listener *udp[DS_MAX_LISTEN] = { 0 };
	struct ds_tcp_listener *tcp[DS_MAX_LISTEN] = { 0 };
	bool kept[DS_MAX_LISTEN] = { false }, opened[DS_MAX_LISTEN] = { false };
	char a[64];
	int r;

	if (!ls || n < 1 || n > DS_MAX_LISTEN)
		return -EINVAL;
	r = rebind_new(d, addr, n, udp, tcp, kept, opened);
	if (r < 0)
		return r;
	for (int k = 0; k < ls->n; k++) {
		if (kept[k])
			continue;
		ds_sockaddr_format(&ls->udp[k]->addr, a, sizeof(a));
		log_notice("no longer listening on %s", a);
		udp_retire(ls, ls->udp[k]);
		tcp_remove(ls, ls->tcp[k]);
	}
	for (int i = 0; i < n; i++) {
		if (opened[i]) {
			ds_sockaddr_format(&addr[i], a, sizeof(a));
			log_notice("listening on %s", a);
		}
	}
	memcpy(ls->udp, udp, sizeof(udp));
	memcpy(ls->tcp, tcp, sizeof(tcp));
	ls->n = n;
	return 0;
}

void ds_listeners_access_changed(struct ds_daemon *d)
{
	struct ds_listeners *ls = d->listeners;

	if (!ls)
		return;
	for (int i = 0; i < ls->n; i++) {
		if (ls->udp[i])
			ls->udp[i]->check = ds_access_needed(d, &ls->udp[i]->addr);
		if (ls->tcp[i])
			ls->tcp[i]->check = ds_access_needed(d, &ls->tcp[i]->addr);
	}
}

void ds_listeners_close(struct ds_daemon *d)
{
	struct ds_listeners *ls = d->listeners;
	struct ds_tcp_client *c;

	if (!ls)
		return;
	while ((c = LIST_FIRST(&ls->clients)))
		client_free(c);
	for (int i = 0; i < ls->n; i++) {
		udp_close(ls->udp[i]);
		tcp_close(ls->tcp[i]);
	}
	while (LIST_FIRST(&ls->retired))
		udp_close(LIST_FIRST(&ls->retired));
	event_free(ls->budget_ev);
	free(ls);
	d->listeners = NULL;
}

void ds_listeners_get_status(const struct ds_daemon *d, struct ds_listen_status *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < d->cfg->nlisten && i < DS_MAX_LISTEN; i++)
		ds_sockaddr_format(&d->cfg->listen[i], st->addr[st->naddr++], sizeof(st->addr[0]));
	if (d->listeners) {
		st->tcp_clients = d->listeners->nclients;
		st->tcp_output = d->listeners->out_total;
		st->tcp_evicted = d->listeners->evicted;
		st->tcp_refused = d->listeners->refused;
		st->tcp_held = d->listeners->held;
	}
}
