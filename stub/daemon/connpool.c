/*
 * connpool.c -- the clients of a server's stream listeners and the limits
 * across them (connpool.h).
 */
#include "connpool.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

void ds_pool_init(struct ds_pool *p)
{
	LIST_INIT(&p->clients);
	p->n = 0;
}

void ds_pool_add(struct ds_pool *p, struct ds_pool_client *c, const struct sockaddr_storage *peer,
		 socklen_t peerlen, uint64_t now_ms)
{
	c->peer = *peer;
	c->peerlen = peerlen;
	c->progress_ms = now_ms;
	LIST_INSERT_HEAD(&p->clients, c, link);
	p->n++;
}

void ds_pool_remove(struct ds_pool *p, struct ds_pool_client *c)
{
	LIST_REMOVE(c, link);
	p->n--;
}

struct ds_pool_client *ds_pool_victim(const struct ds_pool *p, const struct sockaddr_storage *peer)
{
	struct ds_pool_client *c, *v = NULL;

	LIST_FOREACH(c, &p->clients, link) {
		if (c->dead || c->inflight > 0 || (peer && !ds_sockaddr_same_host(&c->peer, peer)))
			continue;
		if (!v || c->progress_ms < v->progress_ms)
			v = c;
	}
	return v;
}

static unsigned count_host(const struct ds_pool *p, const struct sockaddr_storage *peer)
{
	struct ds_pool_client *c;
	unsigned n = 0;

	LIST_FOREACH(c, &p->clients, link)
		n += !c->dead && ds_sockaddr_same_host(&c->peer, peer);
	return n;
}

bool ds_pool_can_take(const struct ds_pool *p, unsigned total)
{
	return p->n < total || ds_pool_victim(p, NULL);
}

struct ds_pool_client *ds_pool_room(const struct ds_pool *p, const struct sockaddr_storage *peer,
				    unsigned per_address, unsigned total,
				    enum ds_pool_limit *limit, bool *busy)
{
	struct ds_pool_client *v = NULL;

	*busy = false;
	if (per_address && count_host(p, peer) >= per_address) {
		*limit = DS_POOL_PER_ADDRESS;
		v = ds_pool_victim(p, peer);
	} else if (p->n >= total) {
		*limit = DS_POOL_TOTAL;
		v = ds_pool_victim(p, NULL);
	} else {
		return NULL;
	}
	*busy = !v;
	return v;
}

int ds_pool_accept(struct ds_daemon *d, struct ds_pool_gate *g, unsigned pause_ms,
		   const char *what, struct sockaddr_storage *peer, socklen_t *peerlen,
		   enum ds_acl_action *acl)
{
	int fd, one = 1;

	*peerlen = sizeof(*peer);
	fd = accept4(g->fd, (struct sockaddr *)peer, peerlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			struct timeval tv = { pause_ms / 1000, pause_ms % 1000 * 1000 };

			log_warn("%s: accept: %s, pausing for %u ms", what, strerror(errno), pause_ms);
			ds_pool_gate_pause(g);
			evtimer_add(g->pause_ev, &tv);
		}
		return -1;
	}
	*acl = g->check ? ds_access_match(d, peer) : DS_ACL_ALLOW;
	if (*acl == DS_ACL_DENY) {
		/* closed before anything is read: nothing at all for a
		 * client we do not talk to */
		ds_access_count(d, *acl);
		close(fd);
		return -2;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

void ds_pool_gate_pause(struct ds_pool_gate *g)
{
	if (!g->paused) {
		event_del(g->ev);
		g->paused = true;
	}
}

bool ds_pool_gate_resumable(const struct ds_pool_gate *g)
{
	return g->paused && !evtimer_pending(g->pause_ev, NULL);
}

void ds_pool_gate_resume(struct ds_pool_gate *g)
{
	if (ds_pool_gate_resumable(g)) {
		g->paused = false;
		event_add(g->ev, NULL);
	}
}
