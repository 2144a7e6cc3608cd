/*
 * listen_udp.c -- a UDP listener of dotstubd (listen_int.h).  It reads in
 * batches with recvmmsg(2) and sends the answers it has at once (cache
 * hits, local answers) with one sendmmsg(2); answers that come from the
 * upstream later are queued and sent together once the loop has handled
 * what is ready.  A datagram over 1232 octets is no query of ours: it
 * arrives truncated, and is dropped and counted.
 */
#include "listen_int.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/log.h"

static const struct ds_origin_ops udp_origin_ops;

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
	struct ds_origin o = { .kind = DS_ORIGIN_UDP, .ops = &udp_origin_ops, .udp = u };

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

void listen_udp_close(struct ds_udp_listener *u)
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

/* A request of u's clients is done (answered or not). */
static void udp_request_done(struct ds_udp_listener *u)
{
	u->inflight--;
	if (u->retired && u->inflight == 0)
		listen_udp_close(u);
}

/* How the query path answers u's clients: an answer is queued and sent
 * with the others ready (udp_flush); a retired listener's are dropped. */
static void udp_track(struct ds_request *req)
{
	req->origin.udp->inflight++;
}

static void udp_untrack(struct ds_request *req)
{
	udp_request_done(req->origin.udp);
}

static void udp_reply(struct ds_request *req, const uint8_t *pkt, size_t len)
{
	if (!req->origin.udp->retired)
		udp_queue(req->origin.udp, &req->origin.peer, req->origin.peerlen, pkt, len);
	udp_request_done(req->origin.udp);
}

static const struct ds_origin_ops udp_origin_ops = {
	.track = udp_track, .untrack = udp_untrack, .reply = udp_reply,
};

void listen_udp_retire(struct ds_listeners *ls, struct ds_udp_listener *u)
{
	udp_flush(u);
	event_free(u->ev);
	event_free(u->flush_ev);
	close(u->fd);
	u->fd = -1;
	u->retired = true;
	LIST_INSERT_HEAD(&ls->retired, u, retired_link);
	if (u->inflight == 0)
		listen_udp_close(u);
}

int listen_udp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
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
