/*
 * status.h -- `dotctl status` as data.  Each part of the daemon fills its
 * own plain struct (no formatting); ds_status_collect gathers them into one
 * struct ds_status, and ds_status_json is the one serialiser: the control
 * socket answers "status" and "network" with its JSON, and dotctl renders
 * the text view from that JSON.  A field added to a struct here and to the
 * serialiser shows in both views.
 */
#ifndef DOTSTUB_STATUS_H
#define DOTSTUB_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "dotsrv.h"
#include "dotstub/cache.h"
#include "dotstub/config.h"
#include "dotstub/plain.h"
#include "dotstub/upstream.h"
#include "../netmgr/netmgr_status.h"

struct evbuffer;

/* listener.c */
struct ds_listen_status {
	char addr[DS_MAX_LISTEN][64];     /* "127.0.0.53:53", each udp+tcp */
	int naddr;
	unsigned tcp_clients;
	uint64_t tcp_output;              /* octets of answers buffered for TCP clients */
	uint64_t tcp_evicted;             /* closed to make room or over tcp-output-total */
	uint64_t tcp_refused;             /* not admitted: their address's clients all busy */
	uint64_t tcp_held;                /* clients no longer read: TCP_MAX_INFLIGHT in flight */
};
void ds_listeners_get_status(const struct ds_daemon *d, struct ds_listen_status *st);

/* access.c */
struct ds_access_status {
	bool active;                      /* false: not set up (yet) */
	bool configured;                  /* access-control lines, or the default */
	struct ds_acl table;              /* the rules in force */
	uint64_t refused;                 /* queries answered REFUSED */
	uint64_t denied;                  /* queries and TCP connections dropped */
};
void ds_access_get_status(const struct ds_daemon *d, struct ds_access_status *st);

enum ds_status_upstream_kind {
	DS_STATUS_UP_NONE,    /* no upstream: queries get SERVFAIL (not_ready) */
	DS_STATUS_UP_DOT,     /* dot */
	DS_STATUS_UP_PLAIN,   /* plain (opportunistic) */
};

struct ds_status {
	const char *version;
	uint64_t uptime_s;
	uint64_t pid;
	const char *log_level;            /* in force: "notice", "debug", ... */
	const char *config_file;
	uint64_t reloads, reloads_refused;
	char last_reload[192];            /* "", "applied", "refused: why" */
	struct ds_listen_status listen;
	struct ds_access_status access;
	struct ds_dotsrv_status dotsrv;   /* active false: no serve-dot */
	enum ds_status_upstream_kind up_kind;
	char up_source[32];               /* DoT: "config", "discovery", ... */
	struct ds_upstream_status dot;
	struct ds_plain_status plain;
	char not_ready[96];               /* up_kind NONE: why */
	struct ds_netmgr_status nm;       /* nm.active false: static upstream */
	struct ds_linkra_status ra;       /* ra.active false: no RA socket */
	struct ds_stats counters;
	bool have_cache;                  /* false: cache-size 0 */
	struct ds_cache_stats cache;
};

/* Fill st from every part of the daemon. */
void ds_status_collect(struct ds_daemon *d, struct ds_status *st);
/* The whole status as one JSON object (one line, ending in '\n'). */
void ds_status_json(const struct ds_status *st, struct evbuffer *out);
/* Only the network manager's part: {"network": ..., "discovery": ...}. */
void ds_status_json_network(const struct ds_status *st, struct evbuffer *out);

#endif
