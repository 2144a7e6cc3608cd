/*
 * daemon.h -- dotstubd's internal state, shared by main.c, listener.c,
 * resolve.c, control.c and status.c.  Not a public interface: nothing
 * outside stub/ includes it.
 */
#ifndef DOTSTUB_DAEMON_H
#define DOTSTUB_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "dotstub/acl.h"
#include "dotstub/cache.h"
#include "dotstub/clock.h"
#include "dotstub/timer.h"
#include "dotstub/config.h"
#include "dotstub/log.h"
#include "dotstub/netinfo.h" /* the search list's bounds */
#include "dotstub/plain.h"
#include "dotstub/trust.h"
#include "dotstub/upstream.h"
#include "dotstub/wire.h"

struct event_base;
struct evbuffer;
struct ds_tcp_client;
struct ds_udp_listener;
struct ds_listeners;
struct ds_control;
struct ds_access;
struct ds_netwatch;
struct ds_stubresolv;
struct ds_ctlquery;
struct ds_busquery;
struct ds_resolve1d;
struct ds_dotsrv;
struct ds_dot_client;
struct ds_linkra;
struct ds_publishd;
struct trust_dnskey;

/* Counters shown by `dotctl status` (status.h). */
struct ds_stats {
	uint64_t queries, queries_udp, queries_tcp;
	uint64_t cache_hits, upstream_answers, local_answers;
	uint64_t servfail_upstream;   /* SERVFAIL sent because the upstream failed */
	uint64_t servfail_not_ready;  /* SERVFAIL: no upstream (yet) */
	uint64_t overload;            /* refused: too many pending queries */
	uint64_t formerr, notimp, dropped;
	uint64_t meta_qtype;          /* meta-type questions answered locally */
	uint64_t refused_failing;     /* REFUSED: the client's queries keep failing */
	uint64_t control_refused;     /* control connections closed: CTL_MAX_CLIENTS open */
	uint64_t truncated;           /* TC=1 answers sent over UDP */
	uint64_t fail_by_err[DS_UP_ERR_CANCELLED + 1];
};

TAILQ_HEAD(ds_request_list, ds_request);

/* What resolv-conf-out says beyond the listeners (stubresolv.c). */
enum ds_stubresolv_posture { DS_STUBRESOLV_NONE, DS_STUBRESOLV_DOT, DS_STUBRESOLV_PLAIN };
#define DS_STUBRESOLV_MAX_SEARCH 16 /* resolv-conf-out's search domains (every link's) */
typedef void ds_stubresolv_relay_fn(void *arg, enum ds_stubresolv_posture p,
				    const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n);

struct ds_netmgr;
struct ds_failrate;
struct ds_linktab;

/* A lane: what serves the queries routed to one place.  The default lane
 * (d->def) serves the names no link's domain routes elsewhere: the
 * network of the default route.  A link with resolvers of its own (a VPN)
 * gets a lane of its own (netmgr_links.c), with its own upstream, its own
 * decision and its own cache partition.  The network manager says what
 * serves a lane (ds_lane_set_upstream, ds_lane_set_plain,
 * ds_lane_not_ready); the query path (resolve.c) sends each query to the
 * lane its name is routed to (route.c). */
struct ds_lane {
	struct ds_daemon *d;
	int ifindex;                      /* the link it serves; 0: not known */
	char ifname[IF_NAMESIZE];         /* "" if not known */
	char network[DS_NETFP_ID_LEN + 1];/* its network's id (dotctl query), or "" */
	uint32_t part;                    /* its cache partition (0: the default lane) */
	struct ds_upstream *up;           /* NULL while no upstream is known */
	struct ds_plain *plain;           /* opportunistic plain DNS, or NULL;
					     never set together with up */
	char up_source[32];               /* "config", "discovery", ... */
	/* While no upstream is usable: why (EDE code and text for SERVFAIL),
	 * and whether queries should wait for one (discovery running). */
	int not_ready_ede;
	char not_ready_text[96];
	bool discovering;
	struct ds_request_list waitq;     /* queries waiting for discovery */
	struct ds_timer *wait_timer;
	/* Queries waited discovery-wait for an upstream: the network manager's
	 * hook gives them something to be served with (true: the queue was
	 * released to it), or not (they get SERVFAIL).  NULL: no hook. */
	bool (*on_wait_expired)(void *arg);
	void *on_wait_expired_arg;
	uint64_t switch_start_us;         /* a change seen; 0 once served again */
	uint64_t queries;                 /* queries routed here */
	TAILQ_ENTRY(ds_lane) link;        /* d->lanes (not the default lane) */
};
TAILQ_HEAD(ds_lane_list, ds_lane);

/* A routing domain (route.c): names at or below it go to its lane. */
struct ds_route {
	uint8_t name[DNS_NAME_MAX];       /* wire form, lower case */
	uint16_t len;
	uint8_t labels;                   /* 0: the root */
	struct ds_lane *lane;
};

struct ds_daemon {
	struct event_base *base;
	struct ds_config *cfg;
	struct ds_cache *cache;           /* NULL if cache-size is 0 */
	struct ds_lane def;               /* the default lane (the default route's network) */
	struct ds_lane_list lanes;        /* the links' lanes */
	uint32_t next_part;               /* the next lane's cache partition */
	struct ds_route *routes;          /* where names go (route.c) */
	size_t nroutes;
	struct ds_linktab *linktab;       /* per-link configuration, kept across
					     reloads (netmgr_links.c) */
	struct ds_listeners *listeners;
	struct ds_dotsrv *dotsrv;         /* serve-dot, or NULL (dotsrv.c) */
	struct ds_access *access;         /* who may query (access.c) */
	struct ds_control *control;
	struct ds_stubresolv *stubresolv; /* resolv-conf-out, or NULL (stubresolv.c) */
	struct ds_stats stats;
	unsigned pending;                 /* requests waiting for the upstream */
	struct ds_log_rl overload_rl;     /* the max-pending log line */
	uint64_t started_ms;              /* monotonic */
	time_t started_wall;
	bool holding;                     /* the network may be changing: every
					     query waits (no cache) for the
					     decision (ds_daemon_hold) */
	struct ds_timer *trim_timer;      /* gives freed heap back (resolve.c) */
	unsigned freed_since_trim;        /* requests freed since the last trim */
	struct ds_failrate *failrate;     /* clients whose queries keep failing */
	struct ds_netmgr *netmgr;         /* NULL with a static upstream */
	/* The first decision is served (an upstream, plain DNS, or SERVFAIL
	 * that no longer waits): main.c's hook tells the service manager
	 * once.  NULL: no hook. */
	void (*on_decided)(struct ds_daemon *d);
	struct ds_timer *ready_timer;     /* main.c: READY=1 at the latest */
	/* reload.c: the command line given at start (its options go over the
	 * file again on SIGHUP), and how the reloads went */
	int argc;
	char **argv;
	uint64_t reloads;                 /* applied */
	uint64_t reloads_refused;
	char last_reload[192];            /* "" or what the last SIGHUP did */
	struct ds_resolve1d *resolve1;    /* the D-Bus API, or NULL (resolve1d.c) */
	struct ds_publishd *publish;      /* publish yes, or NULL (publishd.c) */
	struct ds_linkra *linkra;         /* RAs read for DNR, or NULL (linkra.c) */
	/* The process split (privsep.h).  Hooks are NULL in a daemon of one
	 * process (and in the tests that run these files alone).  In the
	 * network process: */
	pid_t main_pid;                   /* the store process (status "pid"); 0: none */
	/* listen_bind.c: a bound listener socket for ss, or -errno (logged) */
	int (*listen_fd)(struct ds_daemon *d, const struct sockaddr_storage *ss, int socktype);
	/* linkra.c: the raw ICMPv6 socket the store process opened for
	 * router advertisements (taken once), or -errno: none */
	int (*ra_socket)(struct ds_daemon *d);
	/* netmgr.c: the trust store, instead of trust_store_open */
	int (*store_open)(struct ds_daemon *d, const struct trust_store_opts *o,
			  struct trust_store **ret, struct trust_open_report *report);
	/* stubresolv.c: what resolv-conf-out should say, instead of writing it */
	ds_stubresolv_relay_fn *stubresolv_relay;
	void *stubresolv_relay_arg;
	/* In the store process: */
	struct trust_store *trust_store;  /* trustctl.c's store (NULL: the network manager's) */
	void (*on_trust_changed)(struct ds_daemon *d); /* trustctl.c saved a change */
	/* control.c: a request that is not "trust ...", with its client's
	 * socket (0, or -errno: the client is told) */
	int (*ctl_forward)(struct ds_daemon *d, int fd, const char *line);
	pid_t ctl_refuse_pid;             /* control.c: a peer it refuses (the network process) */
	void *privsep;                    /* storeproc.c's or netproc.c's state */
};

/* Where a query came from, and so where its answer goes. */
enum ds_origin_kind { DS_ORIGIN_UDP, DS_ORIGIN_TCP, DS_ORIGIN_CTL, DS_ORIGIN_BUS, DS_ORIGIN_DOT };

struct ds_request;

/* How the query path (resolve.c) reaches the listener a request came
 * from: the listener hands these with every query, so the lower query path
 * never calls into the listener's file. */
struct ds_origin_ops {
	/* the request now waits for the upstream (called right after it was
	 * submitted) */
	void (*track)(struct ds_request *req);
	/* the request will get no answer: drop it from its client's list */
	void (*untrack)(struct ds_request *req);
	/* deliver the answer of a pending request */
	void (*reply)(struct ds_request *req, const uint8_t *pkt, size_t len);
};

struct ds_origin {
	enum ds_origin_kind kind;
	const struct ds_origin_ops *ops;
	struct ds_udp_listener *udp;      /* DS_ORIGIN_UDP */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct ds_tcp_client *tcp;        /* DS_ORIGIN_TCP */
	struct ds_ctlquery *ctl;          /* DS_ORIGIN_CTL: dotctl query */
	struct ds_busquery *bus;          /* DS_ORIGIN_BUS: a resolve1 call's query */
	int ifindex;                      /* DS_ORIGIN_BUS: > 0: only that link's own
					     resolvers, whatever the name (its
					     lane, route.c); 0: routed by name */
	struct ds_dot_client *dot;        /* DS_ORIGIN_DOT: serve-dot (dotsrv.c) */
};

/* A query waiting for the upstream.  Owned by resolve.c; a TCP or DoT
 * client keeps its requests on a list (tcp_link) so it can cancel them
 * when it goes away. */
struct ds_request {
	struct ds_daemon *d;
	struct ds_origin origin;
	struct dns_query q;
	struct ds_lane *lane;             /* where its name is routed */
	struct ds_upstream_query *uq;
	struct ds_plain_query *pq;
	bool authenticated;               /* sent over authenticated DoT (DANE
					   * or PKIX): its answer's AD may be
					   * shown; never for plain or
					   * opportunistic DoT */
	bool via_dot;                     /* sent over DoT, authenticated or not */
	uint64_t start_us;
	bool waiting;                     /* on lane->waitq */
	TAILQ_ENTRY(ds_request) tcp_link;
	TAILQ_ENTRY(ds_request) wait_link;
};

/* ---- resolve.c ---- */
enum ds_resolve_rc {
	DS_RESOLVE_ANSWER,   /* *outlen octets in out are the answer */
	DS_RESOLVE_PENDING,  /* the answer comes later through origin.ops->reply */
	DS_RESOLVE_DROP,     /* send nothing */
};
/* Handle one query from a client.  out must hold DNS_MSG_MAX octets. */
enum ds_resolve_rc ds_resolve(struct ds_daemon *d, const uint8_t *pkt, size_t len,
			      const struct ds_origin *o, uint8_t *out, size_t *outlen);
/* Forget a pending request (its client went away); frees it. */
void ds_request_cancel(struct ds_request *req);
/* The lane a query (wire form) would be routed to: a link's, or the
 * default lane (also for what is not a query); with ifindex > 0 (an
 * origin's), that link's own lane, or NULL if it has none. */
struct ds_lane *ds_resolve_lane_of(struct ds_daemon *d, const uint8_t *pkt, size_t len,
				   int ifindex);
/* Replace a lane's upstream (NULL: none).  Pending requests of the old
 * one get SERVFAIL; the lane's cached answers are dropped when flush is
 * set (the default lane: the whole cache).  Takes ownership. */
void ds_lane_set_upstream(struct ds_lane *l, struct ds_upstream *up, const char *source,
			  bool flush);
/* Opportunistic: plain DNS to the link's announced resolver (takes
 * ownership; replaces any DoT upstream).  Only the network manager calls
 * this, and only where the policy says opportunistic. */
void ds_lane_set_plain(struct ds_lane *l, struct ds_plain *p);
/* No usable upstream: queries get SERVFAIL with this EDE and text, or wait
 * up to discovery-wait for one if discovering is set.  Waiting queries are
 * released by ds_lane_set_upstream or by ds_lane_not_ready(l, false..). */
void ds_lane_not_ready(struct ds_lane *l, bool discovering, int ede, const char *text);
/* Drop the lane's cached answers (the default lane: the whole cache). */
void ds_lane_flush(struct ds_lane *l);
/* A lane for link ifindex (queries to it wait, as while discovering, until
 * the network manager says what serves it), with a cache partition of its
 * own.  NULL if out of memory. */
struct ds_lane *ds_lane_new(struct ds_daemon *d, int ifindex, const char *ifname);
/* Its routes go, its waiting and pending queries get SERVFAIL, its cached
 * answers are dropped, then it is freed.  Not the default lane. */
void ds_lane_free(struct ds_lane *l);
/* Where names go from now on: routes[0..n) (copied; their lanes must be
 * d->def or in d->lanes).  Returns 0 or -ENOMEM (the old routes stay). */
int ds_daemon_set_routes(struct ds_daemon *d, const struct ds_route *routes, size_t n);
/* The default lane's: ds_lane_set_upstream(&d->def, ...) and so on. */
void ds_daemon_set_upstream(struct ds_daemon *d, struct ds_upstream *up, const char *source,
			    bool flush);
void ds_daemon_set_plain(struct ds_daemon *d, struct ds_plain *p);
void ds_daemon_not_ready(struct ds_daemon *d, bool discovering, int ede, const char *text);
/* The network may be changing (hold): every query, cache hits too, waits
 * up to discovery-wait for the decision; false releases them. */
void ds_daemon_hold(struct ds_daemon *d, bool hold);
/* A query from a client that access-control refuses: REFUSED with its
 * question (if it has one), RA, and EDE 18 "Prohibited" if it had EDNS;
 * nothing for what is not a query.  out must hold DNS_MSG_MAX octets. */
enum ds_resolve_rc ds_resolve_refuse(struct ds_daemon *d, const uint8_t *pkt, size_t len,
				     uint8_t *out, size_t *outlen);
int ds_resolve_init(struct ds_daemon *d);
void ds_resolve_fini(struct ds_daemon *d);

/* ---- route.c: routing domains ---- */
/* A route for domain (text, "" or "." for the root) to lane.  0 or
 * -EINVAL. */
int ds_route_compile(const char *domain, struct ds_lane *lane, struct ds_route *ret);
/* The lane of the longest route that holds qname (wire form, qlen octets
 * with the final zero), the first of equal ones; NULL if none does. */
struct ds_lane *ds_route_match(const struct ds_route *r, size_t n, const uint8_t *qname,
			       size_t qlen);
/* The lane of link ifindex's own resolvers, whatever the name (a resolve1
 * call with an ifindex): the link's lane, or the default lane if it is
 * the default link; NULL if the link has no resolver of its own. */
struct ds_lane *ds_route_link(struct ds_daemon *d, int ifindex);

/* ---- listen_bind.c ---- */
/* A listener socket bound to ss (SOCK_DGRAM, or SOCK_STREAM listening):
 * its descriptor, or -errno (logged). */
int ds_listen_bind(const struct sockaddr_storage *ss, int socktype);
/* A listening socket for ss: the one the store process bound (in the
 * network process: d->listen_fd), or one bound here.  -errno (logged). */
int ds_listen_fd(struct ds_daemon *d, const struct sockaddr_storage *ss, int socktype);

/* ---- listener.c (listen_udp.c, listen_tcp.c) ---- */
/* Bind every listen address (UDP and TCP).  Returns 0 or -errno (logged). */
int ds_listeners_open(struct ds_daemon *d);
/* Listen on addr[0..n-1] instead: an address already bound keeps its
 * sockets, new ones are bound first -- if one cannot be, nothing changes
 * and -errno is returned (logged) -- then the removed ones are closed
 * with their TCP clients.  The caller then makes cfg->listen say so. */
int ds_listeners_rebind(struct ds_daemon *d, const struct sockaddr_storage *addr, int n);
void ds_listeners_close(struct ds_daemon *d);
/* The access table was made again (a reload): which listeners check. */
void ds_listeners_access_changed(struct ds_daemon *d);
/* (the listeners' part of the status: ds_listeners_get_status, status.h) */

/* ---- access.c: who may query (access-control) ---- */
/* The table: the configured lines, or the default read now over netlink
 * (logged).  Before the listeners open.  Returns 0 or -ENOMEM (logged). */
int ds_access_open(struct ds_daemon *d);
/* Follow address changes for the default (the network manager's watcher,
 * or one of its own); after ds_netmgr_start.  Failures are logged. */
void ds_access_watch(struct ds_daemon *d);
/* Before ds_netmgr_stop. */
void ds_access_close(struct ds_daemon *d);
/* Must the clients of a listener on this address be checked? */
bool ds_access_needed(const struct ds_daemon *d, const struct sockaddr_storage *listen);
/* The action for a client (ds_access_needed said yes). */
enum ds_acl_action ds_access_match(const struct ds_daemon *d, const struct sockaddr_storage *peer);
/* Count a refused query or a denied query or connection. */
/* The counters, kept across a reload (reload.c closes and opens again). */
struct ds_access_counts {
	uint64_t refused, denied;
};
void ds_access_get_counts(const struct ds_daemon *d, struct ds_access_counts *ret);
void ds_access_set_counts(struct ds_daemon *d, const struct ds_access_counts *c);
void ds_access_count(struct ds_daemon *d, enum ds_acl_action action);
/* (its part of the status: ds_access_get_status, status.h) */

/* ---- netmgr.c: which network, which resolver, which trust ---- */
/* Open the trust store and the watchers, and make the first decision.
 * Only when no static upstream is configured.  Returns 0 or -errno. */
int ds_netmgr_start(struct ds_daemon *d);
void ds_netmgr_stop(struct ds_daemon *d);
/* (its part of the status: ds_netmgr_get_status, netmgr/netmgr_status.h) */
struct trust_store *ds_netmgr_store(struct ds_daemon *d);
/* the trust store changed (approve, forget, import): decide again */
void ds_netmgr_redecide(struct ds_daemon *d);
/* its netlink watcher (NULL if none), for an observer of the addresses */
struct ds_netwatch *ds_netmgr_netwatch(struct ds_daemon *d);
/* the current fingerprint's text, or NULL */
const char *ds_netmgr_fingerprint(struct ds_daemon *d);
/* a user's hotspot sign-on: plain DNS to this (unknown) network's resolver
 * for seconds; 0, or -errno with why filled in (netmgr_hotspot.c) */
int ds_netmgr_hotspot_signon(struct ds_daemon *d, unsigned seconds, char *why, size_t whylen);

/* ---- netmgr_links.c: each link's DNS configuration ----
 * The entry point of every link source (resolve1 over D-Bus, networkd's
 * state files, the resolv.conf source, dotctl link): what a source says
 * about a link is a struct ds_linkconf (dotstub/linkconf.h), kept per link
 * and source; the highest source is in force.  Each change is acted on at
 * once: the link's resolvers go through discovery and the policy as a
 * network of their own, its domains are routed to it, the written
 * resolv.conf follows.  Kept across reloads; with a static upstream they
 * are kept but not used. */
/* lc->source's whole configuration of link lc->ifindex (copied; an empty
 * ifname is looked up).  0, or -EINVAL (bad value), -ENODEV (no such
 * interface), -E2BIG (too many links), -ENOMEM.  Logged. */
int ds_netmgr_link_set(struct ds_daemon *d, const struct ds_linkconf *lc);
/* Forget what src said about ifindex (dotctl: its DNR designations too).
 * 0, -ENOENT (it said nothing), -EINVAL.  Logged. */
int ds_netmgr_link_revert(struct ds_daemon *d, int ifindex, enum ds_link_source src);
/* A DNR designation of link ifindex (named ifname), replacing the one
 * with the same priority; the networks decide again.  0, -EINVAL, -E2BIG
 * (DS_LINK_MAX_DNR on the link, or too many links), -ENOTSUP (a static
 * upstream serves every name).  Logged. */
int ds_netmgr_link_dnr(struct ds_daemon *d, int ifindex, const char *ifname,
		       const struct ds_link_dnr *g);
/* What src says of link ifindex replaced by g[0..n) (n 0: nothing), as a
 * DHCP option or an RA gives them, from says which ("DHCPv4 DNR
 * option"); the other sources' designations stay.  The networks decide
 * again if they changed.  1 (changed), 0 (the same), -EINVAL, -E2BIG (too
 * many links), -ENOTSUP (a static upstream).  Logged. */
int ds_netmgr_link_dnr_replace(struct ds_daemon *d, int ifindex, const char *ifname,
			       enum ds_dnr_source src, const struct ds_link_dnr *g, int n,
			       const char *from);
/* What src said about ifindex (DS_LINKSRC_NONE: what is in force) into
 * *ret.  0 or -ENOENT. */
int ds_netmgr_link_get(struct ds_daemon *d, int ifindex, enum ds_link_source src,
		       struct ds_linkconf *ret);
/* The searched domains (not the routing-only ones) of link ifindex in
 * force, in order; ifindex 0: every link's, the default link's first (the
 * search list of resolv-conf-out).  Up to cap into out; how many. */
size_t ds_netmgr_link_search(struct ds_daemon *d, int ifindex,
			     char (*out)[DS_RESOLVCONF_NAME_MAX + 1], size_t cap);
/* Forget what src said about every link (DS_LINKSRC_NONE: every source);
 * the number of links whose configuration in force changed, or -EINVAL. */
int ds_netmgr_link_flush(struct ds_daemon *d, enum ds_link_source src);
/* Drop every cached answer (resolve1's FlushCaches). */
void ds_netmgr_flush_caches(struct ds_daemon *d);
/* At exit, after ds_netmgr_stop. */
void ds_netmgr_links_free(struct ds_daemon *d);

/* ---- linkctl.c: the control request "link IFACE ..." (dotctl link) ---- */
/* uid: the peer's; only root may change a link. */
int ds_linkctl(struct ds_daemon *d, uid_t uid, int argc, char **argv, struct evbuffer *out);
/* linkdnr.c: "link IFACE dnr-option dhcp4|dhcp6 [HEX]", the words after
 * "dnr-option" in argv[0..argc) (ds_linkctl checked the caller and IFACE):
 * the raw DNR option of a DHCP lease, read here, its designations
 * replacing the link's.  0, or -errno with why in out. */
int ds_linkdnr_option(struct ds_daemon *d, const char *ifname, unsigned ifindex, int argc,
		      char **argv, struct evbuffer *out);
/* The DoT designations of a parsed DNR option (what says where it came
 * from, "DHCPv4 DNR option") as a link keeps them, into g (at most
 * DS_LINK_MAX_DNR); how many.  What is left out is logged unless quiet,
 * and said in out if not NULL. */
struct ddr_dnr;
int ds_linkdnr_designations(const struct ddr_dnr *dnr, const char *ifname, unsigned ifindex,
			    const char *what, bool quiet, struct ds_link_dnr *g,
			    struct evbuffer *out);

/* ---- linkra.c: DNR from IPv6 router advertisements (RFC 9463 6) ----
 * The network process reads the raw ICMPv6 socket the store process
 * opened (d->ra_socket): RAs of a router on a link dotstubd knows, their
 * options 144 through ddr_dnr_parse_ra, the usable designations the
 * link's DNR designations (as a DHCP option's) until their Lifetime ends. */
/* Start reading if there is a socket.  0 (also: no socket), or -errno. */
int ds_linkra_open(struct ds_daemon *d);
void ds_linkra_close(struct ds_daemon *d);
struct ds_linkra_status {
	bool active;            /* a socket is read */
	uint64_t received;      /* RAs of a router on a known link */
	uint64_t ignored;       /* not (hop limit, source, code, size, link) */
	uint64_t malformed;     /* refused: option framing, or an option 144 */
	unsigned designations;  /* in force, every link */
};
void ds_linkra_get_status(struct ds_daemon *d, struct ds_linkra_status *ret);

/* ---- reload.c ---- */
/* Serve what the configuration says: the static upstream, or the network
 * manager (trust store, watchers, the first decision).  0 or -errno
 * (logged); -EPERM: the trust store may not be trusted. */
int ds_reload_serve(struct ds_daemon *d);
/* Read the configuration again and apply it, or keep the running one if
 * the new one is invalid (logged either way): the network process, told
 * by the store process, which got SIGHUP.  true: applied. */
bool ds_reload_apply(struct ds_daemon *d);
/* A reload the store process refused (and logged): counted, shown. */
void ds_reload_count_refused(struct ds_daemon *d, const char *why);

/* ---- trustctl.c: control requests "trust ..." ---- */
int ds_trustctl(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out);

/* ---- stubresolv.c: the resolv.conf for /etc/resolv.conf to link to ---- */

/* The store process: write the file for this posture and search list
 * (from the network process), if that changes it. */
void ds_stubresolv_apply(struct ds_daemon *d, enum ds_stubresolv_posture p,
			 const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n);
/* Start writing resolv-conf-out (nothing for "none"); writes it now if
 * what it should hold differs from what it holds.  After the privileges
 * are dropped.  With d->stubresolv_relay (the network process, which
 * writes no file), what the file should say goes there instead, whenever
 * that changes.  Returns 0 or -ENOMEM; write failures are logged. */
int ds_stubresolv_open(struct ds_daemon *d);
void ds_stubresolv_close(struct ds_daemon *d);
/* The search list: every link's searched domains (validated names, the
 * default link's first; n 0: none; the first 16 are written).  Rewrites
 * the file if that changes it. */
void ds_stubresolv_set_search(struct ds_daemon *d,
			      const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n);
/* What serves the queries may have changed (DoT, plain, nothing):
 * rewrites the file if that changes it ("trust-ad" only with DoT). */
void ds_stubresolv_update(struct ds_daemon *d);

/* ---- ctlquery.c: the control request "query HEX" ---- */
/* Called once with the answer (r 0, body the JSON) or a failure (r < 0,
 * body says why, may be NULL); body is freed after the call. */
typedef void ds_ctlquery_cb(void *arg, int r, struct evbuffer *body);
/* Resolve the query through ds_resolve.  Returns 0 with the JSON in out
 * (answered at once), 1 with *ret (cb is called later, unless
 * ds_ctlquery_free comes first), or -errno with why in out. */
int ds_ctlquery_start(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out,
		      ds_ctlquery_cb *cb, void *arg, struct ds_ctlquery **ret);
/* After cb, or to give up a pending query (its client went away). */
void ds_ctlquery_free(struct ds_ctlquery *q);

/* ---- resolve1d.c: the org.freedesktop.resolve1 D-Bus API's hooks ---- */
/* Serve it if the configuration says resolve1 yes (after the privileges
 * are dropped and the network manager started).  0 or -errno (logged). */
int ds_resolve1d_open(struct ds_daemon *d);
/* Its pending queries are cancelled; before the query path goes. */
void ds_resolve1d_close(struct ds_daemon *d);
/* After a reload: open, close or take the new settings, and hand the
 * links' resolvers to the new network manager again. */
void ds_resolve1d_reload(struct ds_daemon *d);

/* ---- publishd.c: publish yes ---- */
/* The store process, at start: make the publication's keys in
 * state-dir/publish if there are none.  Nothing to do with publish no.
 * 0 or -errno (logged). */
int ds_publishd_make_keys(const struct ds_config *c);
/* The network process: load the publication's keys from state-dir/publish
 * and sign the zones for the DoT server's name and TLSA ("3 1 1 <hex>";
 * main.c reads both from the started DoT server), before anything is
 * served.  Nothing to do with publish no.  0 or -errno (logged). */
int ds_publishd_open(struct ds_daemon *d, const char *name, const char *tlsa);
void ds_publishd_close(struct ds_daemon *d);
/* A query for resolver-name.arpa or our unique zone from a client (not
 * from the router itself): answered from the publication into out (the
 * length in *outlen, 0: nothing to send) and true; false if it is not the
 * publisher's to answer. */
bool ds_publishd_answer(struct ds_daemon *d, const struct dns_query *q, const struct ds_origin *o,
			size_t max, uint8_t *out, size_t *outlen);
/* The default network's upstream changed (the network manager): desc is
 * what its DoT is made from, NULL if it is served otherwise; key its
 * unique zone's KSK if discovery saw it, else NULL.  Published, signed
 * again if that changes anything; logged. */
void ds_publishd_upstream(struct ds_daemon *d, const struct ds_upstream_desc *desc,
			  const struct trust_dnskey *key);
/* The control request "publish show": the trust anchor to hand out. */
int ds_publishctl(struct ds_daemon *d, int argc, char **argv, struct evbuffer *out);

/* ---- control.c ---- */
/* Bind and listen on the control socket (before privileges are dropped):
 * its descriptor, or -errno (logged). */
int ds_control_bind(const char *path);
/* Accept on fd (from ds_control_bind) from now on.  0 or -ENOMEM. */
int ds_control_start(struct ds_daemon *d, int fd);
/* Answer a client whose request line another process read (the network
 * process: fd is the client's socket, taken; refused: the control
 * connections the store process refused so far).  0 or -errno. */
int ds_control_adopt(struct ds_daemon *d, int fd, const char *line, uint64_t refused);
void ds_control_close(struct ds_daemon *d);

#endif
