/*
 * listen_tcp.c -- a TCP listener of dotstubd and its clients (RFC 7766;
 * listen_int.h).  Pipelined queries are answered as they complete, out of
 * order, with limits on clients (in all and per address), queries in
 * flight per client and output buffered (per client and in all); a client
 * over a limit is held back or closed, the oldest idle one first.  When
 * the client limit is reached or accept() runs out of descriptors,
 * accepting pauses instead of spinning.  A denied client's connection is
 * closed at accept, before any read.
 */
#include "listen_int.h"
#include "tcp_frame.h"

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

#define TCP_IDLE_TIMEOUT_S 10      /* RFC 7766 6.2.3 */
#define TCP_MAX_INFLIGHT 128       /* per client */
/* What an answer in flight counts for at least against tcp-client-output */
#define TCP_ANSWER_FLOOR 512
/* A message must be complete this long after its first octet arrived. */
#define TCP_MSG_TIMEOUT_MS 3000
#define ACCEPT_PAUSE_MS 1000

static void tcp_accept_resume(struct ds_listeners *ls);
static const struct ds_origin_ops tcp_origin_ops;

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
	ds_pool_remove(&ls->clients, &c->pc);
	evbuffer_remove_cb_entry(client_out(c), c->out_cb);
	ls->out_total -= evbuffer_get_length(client_out(c));
	event_free(c->resume_ev);
	event_free(c->msg_timer);
	bufferevent_free(c->bev);
	free(c);
	tcp_accept_resume(ls);
}

/* Close a client to make room (or because it holds too much); says why. */
static void client_evict(struct ds_tcp_client *c, const char *why)
{
	char a[64];

	ds_sockaddr_format(&c->pc.peer, a, sizeof(a));
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

	return c->pc.inflight < TCP_MAX_INFLIGHT &&
	       evbuffer_get_length(client_out(c)) + (size_t)c->pc.inflight * each <
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
		if (!want && !c->eof && c->pc.inflight >= TCP_MAX_INFLIGHT)
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
	if (c->eof && c->pc.inflight == 0 && !c->blocked &&
	    evbuffer_get_length(client_out(c)) == 0) {
		client_free(c);
		return true;
	}
	return false;
}

static bool client_message(void *arg, const uint8_t *msg, size_t len)
{
	struct ds_tcp_client *c = arg;
	struct ds_origin o = { .kind = DS_ORIGIN_TCP, .ops = &tcp_origin_ops, .tcp = c };
	size_t outlen = 0;

	o.peer = c->pc.peer;
	o.peerlen = c->pc.peerlen;
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
		c->pc.inflight++;
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
		c->pc.progress_ms = ds_now_ms();
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

	c->pc.progress_ms = ds_now_ms();
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
		if (!client_maybe_finish(c) && c->pc.inflight == 0)
			bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->pc.inflight > 0) {
		bufferevent_enable(c->bev, EV_READ); /* busy, not idle */
		return;
	}
	client_free(c); /* error or idle timeout */
}

/* How the query path answers c's clients: in the order the answers come
 * (RFC 7766 7), each framed; c is closed from the loop if its answers pile
 * up unread. */
static void tcp_track(struct ds_request *req)
{
	TAILQ_INSERT_TAIL(&req->origin.tcp->reqs, req, tcp_link);
}

static void tcp_untrack(struct ds_request *req)
{
	struct ds_tcp_client *c = req->origin.tcp;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->pc.inflight--;
	client_update_reading(c);
	if (!client_maybe_finish(c) && c->pc.inflight == 0)
		tcp_accept_resume(c->ls);
}

static void tcp_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	struct ds_tcp_client *c = req->origin.tcp;

	TAILQ_REMOVE(&c->reqs, req, tcp_link);
	c->pc.inflight--;
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
	if (c->pc.inflight == 0)
		tcp_accept_resume(c->ls); /* c can be closed to make room now */
}

static const struct ds_origin_ops tcp_origin_ops = {
	.track = tcp_track, .untrack = tcp_untrack, .reply = tcp_reply,
};

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

void listen_tcp_budget(evutil_socket_t fd, short what, void *arg)
{
	struct ds_listeners *ls = arg;

	while (ls->out_total > ls->d->cfg->tcp_output_total) {
		struct ds_tcp_client *c, *big = NULL;
		struct ds_pool_client *pc;
		size_t most = 0;

		LIST_FOREACH(pc, &ls->clients.clients, link) {
			size_t n;

			c = DS_POOL_ENTRY(pc, struct ds_tcp_client, pc);
			n = evbuffer_get_length(client_out(c));
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

static void tcp_accept_pause(struct ds_listeners *ls)
{
	for (int k = 0; k < ls->n; k++)
		if (ls->tcp[k])
			ds_pool_gate_pause(&ls->tcp[k]->gate);
}

/* Make room for a new connection from peer: within the per-address limit
 * and the client limit, closing the oldest idle or slowest connection (of
 * that address first).  false: every candidate is busy. */
static bool tcp_make_room(struct ds_listeners *ls, const struct sockaddr_storage *peer)
{
	const struct ds_config *cfg = ls->d->cfg;
	static const char *const why[] = {
		[DS_POOL_PER_ADDRESS] = "tcp-clients-per-address reached: room for a new connection",
		[DS_POOL_TOTAL] = "tcp-clients reached: room for a new connection",
	};
	struct ds_pool_client *v;
	enum ds_pool_limit limit;
	bool busy;

	while ((v = ds_pool_room(&ls->clients, peer, cfg->tcp_clients_per_address,
				 cfg->max_tcp_clients, &limit, &busy)))
		client_evict(DS_POOL_ENTRY(v, struct ds_tcp_client, pc), why[limit]);
	return !busy;
}

static void tcp_accept(evutil_socket_t fd, short what, void *arg)
{
	struct ds_tcp_listener *t = arg;
	struct ds_listeners *ls = t->d->listeners;

	for (int i = 0; i < 64; i++) {
		struct ds_tcp_client *c;
		struct timeval idle = { TCP_IDLE_TIMEOUT_S, 0 };
		struct sockaddr_storage peer;
		socklen_t peerlen;
		enum ds_acl_action acl;
		int cfd;

		/* full, and every client busy: leave new connections in the
		 * backlog until one finishes */
		if (!ds_pool_can_take(&ls->clients, t->d->cfg->max_tcp_clients)) {
			tcp_accept_pause(ls);
			return;
		}
		cfd = ds_pool_accept(t->d, &t->gate, ACCEPT_PAUSE_MS, "tcp", &peer, &peerlen, &acl);
		if (cfd == -2)
			continue;
		if (cfd < 0)
			return;
		if (!tcp_make_room(ls, &peer)) {
			ls->refused++;
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			return;
		}
		c->ls = ls;
		c->refused = acl == DS_ACL_REFUSE;
		c->t = t;
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
		ds_pool_add(&ls->clients, &c->pc, &peer, peerlen, ds_now_ms());
	}
}

static void tcp_pause_done(evutil_socket_t fd, short what, void *arg)
{
	struct ds_tcp_listener *t = arg;

	if (ds_pool_can_take(&t->d->listeners->clients, t->d->cfg->max_tcp_clients))
		ds_pool_gate_resume(&t->gate);
}

static void tcp_accept_resume(struct ds_listeners *ls)
{
	if (!ds_pool_can_take(&ls->clients, ls->d->cfg->max_tcp_clients))
		return;
	for (int k = 0; k < ls->n; k++)
		if (ls->tcp[k])
			ds_pool_gate_resume(&ls->tcp[k]->gate);
}

int listen_tcp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
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
	t->gate.fd = fd;
	t->addr = *ss;
	t->gate.check = ds_access_needed(d, ss);
	t->gate.ev = event_new(d->base, fd, EV_READ | EV_PERSIST, tcp_accept, t);
	t->gate.pause_ev = evtimer_new(d->base, tcp_pause_done, t);
	if (!t->gate.ev || !t->gate.pause_ev || event_add(t->gate.ev, NULL) < 0) {
		if (t->gate.ev)
			event_free(t->gate.ev);
		if (t->gate.pause_ev)
			event_free(t->gate.pause_ev);
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void listen_tcp_close(struct ds_tcp_listener *t)
{
	if (!t)
		return;
	event_free(t->gate.ev);
	event_free(t->gate.pause_ev);
	close(t->gate.fd);
	free(t);
}

void listen_tcp_remove(struct ds_listeners *ls, struct ds_tcp_listener *t)
{
	struct ds_pool_client *pc, *next;
	struct ds_tcp_client *c;

	for (pc = LIST_FIRST(&ls->clients.clients); pc; pc = next) {
		next = LIST_NEXT(pc, link);
		c = DS_POOL_ENTRY(pc, struct ds_tcp_client, pc);
		if (c->t == t)
			client_free(c);
	}
	listen_tcp_close(t);
}

void listen_tcp_clients_close(struct ds_listeners *ls)
{
	struct ds_pool_client *pc;

	while ((pc = LIST_FIRST(&ls->clients.clients)))
		client_free(DS_POOL_ENTRY(pc, struct ds_tcp_client, pc));
}
