/*
 * connpool.h -- the clients of a server's stream listeners and the limits
 * across them, as the TCP listener (listen_tcp.c) and the DoT server
 * (dotsrv.c) both keep them: at most so many clients in all and from one
 * address; room for a new one is made by closing, among the clients with
 * no query in flight, the one that made progress least recently (idle the
 * longest, or slowest with its message or handshake); when every client
 * is busy, accepting pauses and new connections wait in the backlog.
 *
 * A client embeds a struct ds_pool_client; the pool never frees one: it
 * says which to close, and its owner closes it and takes it out.
 */
#ifndef DOTSTUB_CONNPOOL_H
#define DOTSTUB_CONNPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "dotstub/acl.h"

struct ds_daemon;
struct event;

/* The part of a client the limits look at. */
struct ds_pool_client {
	struct sockaddr_storage peer;
	socklen_t peerlen;
	unsigned inflight;       /* its queries in the query path */
	uint64_t progress_ms;    /* accepted, last query taken, output drained */
	bool dead;               /* being closed: neither counted by address nor chosen */
	LIST_ENTRY(ds_pool_client) link;
};

/* The client structure that embeds pc as member. */
#define DS_POOL_ENTRY(pc, type, member) \
	((type *)(void *)((char *)(pc) - offsetof(type, member)))

struct ds_pool {
	LIST_HEAD(, ds_pool_client) clients;
	unsigned n;              /* in the list, dead ones too */
};

/* The limits a new connection may reach. */
enum ds_pool_limit { DS_POOL_PER_ADDRESS, DS_POOL_TOTAL };

void ds_pool_init(struct ds_pool *p);
/* c accepted from peer now. */
void ds_pool_add(struct ds_pool *p, struct ds_pool_client *c, const struct sockaddr_storage *peer,
		 socklen_t peerlen, uint64_t now_ms);
void ds_pool_remove(struct ds_pool *p, struct ds_pool_client *c);
/* The client to close to make room (of peer's host, or of any if peer is
 * NULL): of those with no query in flight, the one that made progress
 * least recently.  NULL if all are busy. */
struct ds_pool_client *ds_pool_victim(const struct ds_pool *p, const struct sockaddr_storage *peer);
/* Can another connection be taken with at most total clients: there is
 * room, or a client that can be closed for it? */
bool ds_pool_can_take(const struct ds_pool *p, unsigned total);
/* The next client to close so that a connection from peer fits the
 * limits (per_address: 0 for none), *limit saying which one it makes room
 * under; NULL when it fits (*busy false) or when a limit is reached and
 * every client that could make room is busy (*busy true: refuse it).
 * Call again after closing the client returned. */
struct ds_pool_client *ds_pool_room(const struct ds_pool *p, const struct sockaddr_storage *peer,
				    unsigned per_address, unsigned total,
				    enum ds_pool_limit *limit, bool *busy);

/* The accepting side of a stream listener. */
struct ds_pool_gate {
	int fd;
	struct event *ev;        /* readable: connections to accept */
	struct event *pause_ev;  /* accept(2) ran out of resources: try again after it */
	bool paused;
	bool check;              /* clients are checked against access-control */
};

/* Take one connection from g: its descriptor (nonblocking, TCP_NODELAY),
 * peer and what access-control says of it; -1 when there is none now
 * (nothing pending, or accept(2) failed: out of descriptors or memory
 * pauses g for pause_ms, logged with what); -2 for a denied client,
 * counted and closed before anything is read (take the next). */
int ds_pool_accept(struct ds_daemon *d, struct ds_pool_gate *g, unsigned pause_ms,
		   const char *what, struct sockaddr_storage *peer, socklen_t *peerlen,
		   enum ds_acl_action *acl);
/* Stop accepting on g until ds_pool_gate_resume. */
void ds_pool_gate_pause(struct ds_pool_gate *g);
/* Accept on g again if it was paused, unless its resource pause runs. */
void ds_pool_gate_resume(struct ds_pool_gate *g);
/* Is g paused, and not by a resource pause that still runs? */
bool ds_pool_gate_resumable(const struct ds_pool_gate *g);

#endif
