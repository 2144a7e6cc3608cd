/*
 * resolve1.h -- the org.freedesktop.resolve1 D-Bus API (stub/bus/): what
 * NetworkManager in dns=systemd-resolved mode, resolvectl and other
 * clients of systemd-resolved call, served by dotstubd on the system bus.
 *
 * The part owns the bus connection (sd-bus, driven by the daemon's
 * libevent loop), the Manager object /org/freedesktop/resolve1 and one
 * Link object per network interface, and records what each link was told
 * (SetLinkDNS, SetLinkDomains, ...) as a struct ds_linkconf, so that the
 * properties read back exactly what was set.  Everything it does to the
 * daemon goes through struct ds_r1_hooks, which the daemon fills: the
 * part never calls the daemon.
 *
 * Every message from the bus is hostile input: arrays and strings are
 * bounded and checked before anything is recorded, and every resource a
 * client can make it allocate has a limit (links, resolve calls in
 * flight).  Changes are allowed from root, the daemon's own user and an
 * optional group only (no polkit).  Single-threaded.
 */
#ifndef DOTSTUB_RESOLVE1_H
#define DOTSTUB_RESOLVE1_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "dotstub/linkconf.h"

struct event_base;
struct ds_r1;

#define DS_R1_NAME "org.freedesktop.resolve1"
#define DS_R1_MAX_LINKS 64          /* links recorded at once */
#define DS_R1_MAX_GLOBAL_DNS 8      /* the daemon's own resolvers, shown as ifindex 0 */

/* How an answer handed to ds_r1_resolve_done came about (flags). */
enum {
	DS_R1_ANS_DOT = 1u << 0,       /* over DoT, authenticated with DANE */
	DS_R1_ANS_PLAIN = 1u << 1,     /* over plain DNS (opportunistic) */
	DS_R1_ANS_CACHE = 1u << 2,     /* from the cache */
	DS_R1_ANS_LOCAL = 1u << 3,     /* answered by the daemon itself */
	DS_R1_ANS_NO_SERVER = 1u << 4, /* SERVFAIL: nothing to send it to */
};

/* A query's answer (a whole DNS message, valid during the call only), or
 * err < 0 when there is none; ifindex: the link whose resolvers it came
 * from (0: not a link's). */
typedef void ds_r1_resolve_done(void *cbarg, int err, const uint8_t *answer, size_t len,
				unsigned flags, int ifindex);

/* What serves a link now (or, for ifindex 0, the daemon as a whole). */
struct ds_r1_linkstate {
	bool serving;                       /* a current server is known */
	struct sockaddr_storage current;    /* its address and port */
	char server_name[DS_LINK_DOMAIN_MAX + 1]; /* its name (DoT), or "" */
	int ifindex;                        /* the link it belongs to, or 0 */
	const char *transport;              /* "dot", "plain", "none" */
	/* ifindex 0 only: the daemon's DNSOverTLS mode, "yes" (strict) or
	 * "opportunistic" */
	const char *dot_mode;
};

/* Counters for TransactionStatistics and CacheStatistics. */
struct ds_r1_stats {
	uint64_t current_transactions, total_transactions;
	uint64_t cache_size, cache_hits, cache_misses;
};

/*
 * What the part asks of the daemon.  Every hook gets arg.  uid is the
 * caller that asked (already allowed).
 */
struct ds_r1_hooks {
	void *arg;
	/* a link's configuration changed; lc is the whole of it as set */
	void (*set_link)(void *arg, const struct ds_linkconf *lc, uid_t uid);
	/* a link's configuration was dropped (RevertLink) */
	void (*revert_link)(void *arg, int ifindex, uid_t uid);
	void (*flush_caches)(void *arg);
	void (*reset_server_features)(void *arg);
	/* Resolve one query (a DNS message in wire form) through the daemon's
	 * query path: with ifindex > 0, by that link's own resolvers only
	 * (none: SERVFAIL with DS_R1_ANS_NO_SERVER).  Returns 0 if done was
	 * called already (an answer at once), 1 if it will be called later
	 * (*handle set; unless resolve_cancel(handle) comes first), or -errno
	 * (done not called). */
	int (*resolve)(void *arg, const uint8_t *query, size_t len, int ifindex,
		       ds_r1_resolve_done *done, void *cbarg, void **handle);
	void (*resolve_cancel)(void *arg, void *handle);
	/* The search domains (not the routing-only ones) of link ifindex, in
	 * order (0: every link's, the default link's first): up to cap into
	 * out; how many. */
	size_t (*search_domains)(void *arg, int ifindex, char (*out)[DS_LINK_DOMAIN_MAX + 1],
				 size_t cap);
	/* what serves the link (ifindex 0: the daemon) */
	void (*link_state)(void *arg, int ifindex, struct ds_r1_linkstate *out);
	void (*stats)(void *arg, struct ds_r1_stats *out);
};

/* Settings, from the configuration (copied). */
struct ds_r1_opts {
	unsigned max_calls;                 /* resolve calls in flight (dbus-max-calls) */
	bool has_group;
	gid_t group;                        /* resolve1-group, if has_group */
	uid_t own_uid;                      /* the daemon's user (allowed too) */
	struct sockaddr_storage global_dns[DS_R1_MAX_GLOBAL_DNS];
	int nglobal_dns;                    /* network-resolver, shown as DNS of ifindex 0 */
	char resolv_conf_out[PATH_MAX];     /* "" or the written resolv.conf (ResolvConfMode) */
};

/* Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS, or the default),
 * serve the objects and ask for DS_R1_NAME without replacing an owner: if
 * another process owns it (systemd-resolved), that is logged and the part
 * stays idle.  A lost connection is tried again every few seconds.
 * Returns 0 and *ret, or -errno (logged); -EOPNOTSUPP when dotstubd was
 * built without sd-bus. */
int ds_r1_open(struct event_base *base, const struct ds_r1_opts *o, const struct ds_r1_hooks *h,
	       struct ds_r1 **ret);
/* Pending resolve calls are cancelled (their callers get an error). */
void ds_r1_close(struct ds_r1 *r1);
/* New settings (a reload); links recorded stay. */
void ds_r1_set_opts(struct ds_r1 *r1, const struct ds_r1_opts *o);
/* The links recorded now: up to cap are copied to out; returns how many
 * there are. */
int ds_r1_links(const struct ds_r1 *r1, struct ds_linkconf *out, int cap);
/* true once DS_R1_NAME is ours. */
bool ds_r1_owns_name(const struct ds_r1 *r1);

#endif
