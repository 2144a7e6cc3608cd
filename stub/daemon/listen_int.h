/*
 * listen_int.h -- what the parts of dotstubd's client side share:
 * listener.c keeps the set of listeners (opened, rebound by a reload,
 * closed, shown in status); listen_udp.c is a UDP listener; listen_tcp.c
 * a TCP listener and its clients (RFC 7766); listen_bind.c binds their
 * sockets.  Clients that access-control does not allow (access.c) are
 * answered REFUSED or dropped in the listeners, before the query path.
 */
#ifndef DOTSTUB_LISTEN_INT_H
#define DOTSTUB_LISTEN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/util.h>

#include "connpool.h"
#include "daemon.h"

#define UDP_BATCH 16
#define UDP_BATCHES_PER_EVENT 8
/* A query is small: a datagram larger than the 1232 octets that every
 * EDNS(0) peer can take (DNS flag day 2020) is not one we take; it arrives
 * truncated (MSG_TRUNC) and is dropped and counted. */
#define UDP_RX_MAX DNS_EDNS_UDP_SIZE

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
	struct ds_pool_gate gate;
	struct sockaddr_storage addr;
};

struct ds_tcp_client {
	struct ds_listeners *ls;
	struct ds_tcp_listener *t;  /* accepted on it */
	struct bufferevent *bev;
	struct evbuffer_cb_entry *out_cb;  /* keeps ls->out_total */
	struct event *resume_ev;  /* take the input already received */
	struct event *msg_timer;  /* an incomplete message: TCP_MSG_TIMEOUT_MS */
	struct ds_request_list reqs;
	struct ds_pool_client pc;  /* peer, queries in flight, progress */
	size_t answer_max;        /* the largest answer sent to it (with framing) */
	bool eof;          /* the client closed its side: finish what is in flight */
	bool reading;
	bool blocked;      /* a limit held input back (tcp_frame_run) */
	bool partial;      /* the input ends in an incomplete message */
	bool over;         /* to be closed: output over twice tcp-client-output */
	bool refused;      /* access-control: every query gets REFUSED */
};

struct ds_listeners {
	struct ds_daemon *d;
	struct ds_udp_listener *udp[DS_MAX_LISTEN];
	struct ds_tcp_listener *tcp[DS_MAX_LISTEN];
	int n;
	struct ds_pool clients;
	LIST_HEAD(, ds_udp_listener) retired;  /* removed, answers still due */
	size_t out_total;         /* output buffered for all clients */
	struct event *budget_ev;  /* out_total is over tcp-output-total */
	uint64_t evicted, refused;
	uint64_t held;            /* clients held at TCP_MAX_INFLIGHT */
	struct ds_log_rl held_rl; /* their log line */
	uint8_t scratch[DNS_MSG_MAX];
	uint8_t inbuf[DNS_MSG_MAX];
};

/* ---- listen_udp.c ---- */
/* A UDP listener on ss (its socket from ds_listen_fd) into *ret: 0 or
 * -errno. */
int listen_udp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
		    struct ds_udp_listener **ret);
/* Close and free u (NULL: nothing), or a retired one once it is done. */
void listen_udp_close(struct ds_udp_listener *u);
/* Removed by a reload: closed now; freed once no request of its clients
 * waits for an answer. */
void listen_udp_retire(struct ds_listeners *ls, struct ds_udp_listener *u);

/* ---- listen_tcp.c ---- */
/* A TCP listener on ss into *ret: 0 or -errno. */
int listen_tcp_open(struct ds_daemon *d, const struct sockaddr_storage *ss,
		    struct ds_tcp_listener **ret);
/* Close and free t (NULL: nothing); its clients are not touched. */
void listen_tcp_close(struct ds_tcp_listener *t);
/* Close a TCP listener removed by a reload, and the connections it took. */
void listen_tcp_remove(struct ds_listeners *ls, struct ds_tcp_listener *t);
/* Close every client of ls. */
void listen_tcp_clients_close(struct ds_listeners *ls);
/* The event of ls->budget_ev: output over tcp-output-total. */
void listen_tcp_budget(evutil_socket_t fd, short what, void *arg);

#endif
