/*
 * netinfo.h -- network awareness: "where are we?" (PROTOCOL.md, Reconnection
 * and networks).
 *
 * Four pieces, from the bottom up:
 *
 *  1. struct ds_netfp, the network fingerprint: a plain value (no pointers,
 *     copy it with =) with a stable textual form, a short digest id for
 *     logs, and a match function.  No I/O; fingerprint.c.
 *  2. Reading the fingerprint of the running system from the kernel through
 *     libnl-route-3 (links, routes, neighbours); netread.c.
 *  3. The change watcher, driven by a libevent base; netwatch.c.
 *  4. The resolv.conf-style resolver source: a strict parser and an inotify
 *     watcher; resolvconf.c.
 *  5. Links: the link table (one struct ds_linkconf per link and source,
 *     linktab.c), systemd-networkd's per-link state files as a source
 *     (networkd.c), and a link's own fingerprint and reverse zones
 *     (linkfp.c).
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * errno on failure; ret_ / out arguments are written only on success.
 * Nothing here logs above LOG_DEBUG.  Everything read from the kernel or a
 * file is untrusted and bounds-checked.  Single-threaded.
 *
 * SSID: not read from the kernel (nl80211 is not used; the SSID is weak
 * evidence).  A caller that knows it (NetworkManager hook) may set it with
 * ds_netwatch_set_ssid(); it is then part of the value.
 */
#ifndef DOTSTUB_NETINFO_H
#define DOTSTUB_NETINFO_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dotstub/linkconf.h"
#include "dotstub/trust.h" /* TRUST_FP_MAX */

struct event_base;

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

/* An IPv4 or IPv6 address. */
struct ds_netaddr {
	int family;     /* AF_INET, AF_INET6, or 0: no address */
	uint32_t scope; /* IPv6 scope id (interface index) of a link-local
			 * address, else 0; never part of a fingerprint */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	} u;
};

/* Enough for an IPv6 address with a "%scope" suffix and the NUL. */
#define DS_NETADDR_STRLEN (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

/* Parse a numeric IPv4 or IPv6 address (inet_pton syntax, no port).  An
 * IPv6 address may carry "%IFNAME" or "%INDEX"; a name is looked up with
 * if_nametoindex().  Returns 0, or -EINVAL (not an address, unknown
 * interface, scope on a non-link-local address). */
int ds_netaddr_parse(const char *s, struct ds_netaddr *ret);
/* Format a without its scope into out (DS_NETADDR_STRLEN bytes); "-" for
 * no address.  Returns out. */
const char *ds_netaddr_format(const struct ds_netaddr *a, char *out, size_t outlen);
/* Copy the address (not the port) of an AF_INET/AF_INET6 sockaddr.
 * Returns 0 or -EAFNOSUPPORT. */
int ds_netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct ds_netaddr *ret);
/* Copy the distinct addresses of res[0..n) to out (first occurrence wins,
 * the caller's order and scopes kept), at most cap.  Returns the count, or
 * -EINVAL for an entry of an unknown family. */
int ds_netaddr_unique(const struct ds_netaddr *res, size_t n, struct ds_netaddr *out, size_t cap);
/* Total order on (family, bytes), scope ignored: AF_INET before AF_INET6.
 * Returns <0, 0, >0 like memcmp. */
int ds_netaddr_cmp(const struct ds_netaddr *a, const struct ds_netaddr *b);

/* ------------------------------------------------------------------ */
/* 1. The fingerprint value                                            */

#define DS_NETFP_MAX_RES 8   /* resolver addresses kept */
#define DS_NETFP_SSID_MAX 32 /* octets (IEEE 802.11) */
/* textual form including the NUL (worst case ~700): the anchor store keeps
 * it, so its limit is the store's (dotstub/trust.h) */
#define DS_NETFP_TEXT_MAX (TRUST_FP_MAX + 1)
#define DS_NETFP_ID_LEN 16   /* hex digits of the digest id (without NUL) */
#define DS_ETH_ALEN 6

enum { DS_NETFP_V4 = 0, DS_NETFP_V6 = 1, DS_NETFP_NAF = 2 };

/* What one address family contributes.  If route is false, every other
 * member is zero/absent.  ifindex is metadata for the caller (binding
 * sockets), not part of the value: two fingerprints differing only in
 * ifindex are equal. */
struct ds_netfp_af {
	bool route;                    /* a route was selected */
	struct ds_netaddr gw;          /* its gateway; family 0 if none
					* (point-to-point, on-link) */
	bool has_gwmac;                /* the gateway's MAC is known */
	uint8_t gwmac[DS_ETH_ALEN];    /* from a neighbour entry in a usable
					* NUD state */
	char ifname[IF_NAMESIZE];      /* the route's output interface */
	int ifindex;                   /* metadata, not part of the value */
	bool has_ifmac;                /* the interface has an Ethernet address */
	uint8_t ifmac[DS_ETH_ALEN];
	int vlan;                      /* 802.1Q id 0..4095 if the interface
					* is a VLAN sub-interface, else -1 */
};

/* A network fingerprint.  Treat as a value; build it with the functions
 * below, which keep res sorted and unique (ds_netfp_format relies on it). */
struct ds_netfp {
	struct ds_netfp_af af[DS_NETFP_NAF];     /* [DS_NETFP_V4], [DS_NETFP_V6] */
	struct ds_netaddr res[DS_NETFP_MAX_RES]; /* resolvers, sorted, unique */
	size_t nres;
	uint8_t ssid[DS_NETFP_SSID_MAX];         /* ssid_len 0: not known */
	size_t ssid_len;
};

/* The empty fingerprint (no route, no resolver): "no network".
 * af[].vlan is set to -1. */
void ds_netfp_init(struct ds_netfp *fp);
/* true if fp has neither a route nor a resolver. */
bool ds_netfp_is_empty(const struct ds_netfp *fp);
/* Replace the resolver list: copied, scopes dropped, sorted, duplicates
 * removed; entries past DS_NETFP_MAX_RES distinct ones are dropped.
 * Returns the number kept, or -EINVAL (an entry of an unknown family). */
int ds_netfp_set_resolvers(struct ds_netfp *fp, const struct ds_netaddr *res, size_t n);
/* Set the SSID (len 0 clears it).  Returns 0 or -EINVAL (len > 32). */
int ds_netfp_set_ssid(struct ds_netfp *fp, const uint8_t *ssid, size_t len);

/*
 * The textual form: space-separated key=value pairs, keys in this fixed
 * (ASCII) order, every key always present, "-" for absent:
 *
 *   res=ADDR[,ADDR...] ssid=HEX
 *   v4gw=ADDR v4gwmac=MAC v4if=NAME v4ifmac=MAC v4vlan=ID
 *   v6gw=ADDR v6gwmac=MAC v6if=NAME v6ifmac=MAC v6vlan=ID
 *
 * on one line, e.g. "res=10.77.0.1 ssid=- v4gw=10.77.0.1
 * v4gwmac=02:00:00:00:00:01 v4if=eth0 v4ifmac=02:00:00:00:00:10 v4vlan=-
 * v6gw=- v6gwmac=- v6if=- v6ifmac=- v6vlan=-".  Addresses in inet_ntop
 * form (no scope), resolvers sorted (IPv4 first, then by bytes), MACs
 * lower-case hex with colons, SSID lower-case hex.  The form is canonical:
 * equal values give equal strings, so it can be compared with strcmp and
 * stored (trust store, dotctl status).
 */

/* Write the textual form into out (DS_NETFP_TEXT_MAX is always enough).
 * Returns its length, or -ENOBUFS if outlen is too small (out then holds
 * a truncated, NUL-terminated string). */
int ds_netfp_format(const struct ds_netfp *fp, char *out, size_t outlen);
/* Parse a textual form.  Strict: known keys only, each at most once, in
 * any order, separated by single spaces; a missing key is absent; values
 * must be well-formed; the parts of an address family need its interface
 * (vNif) unless all are "-".  Non-canonical but valid input (unsorted
 * resolvers, upper-case hex) is accepted; format it again to canonicalise.
 * Returns 0 or -EINVAL. */
int ds_netfp_parse(const char *text, struct ds_netfp *ret);
/* The digest id for logs: the first DS_NETFP_ID_LEN hex digits of the
 * SHA-256 of the textual form, into out (at least DS_NETFP_ID_LEN + 1
 * bytes).  Returns 0 or -ENOMEM (libcrypto failure). */
int ds_netfp_id(const struct ds_netfp *fp, char *out, size_t outlen);
/* true if the two textual forms are equal (ifindex and scopes ignored). */
bool ds_netfp_equal(const struct ds_netfp *a, const struct ds_netfp *b);

/*
 * Matching a fingerprint against a remembered one, part by part.  A part
 * is "present" in a fingerprint if its value is not "-" (vNvlan is present
 * whenever the family has a route: "untagged" is a value).  For each part:
 * it agrees if present in both and equal; it differs if present in both
 * and not equal; otherwise (absent on one side, e.g. a gateway MAC not yet
 * resolved) it does neither.  res agrees if the two sets are equal and
 * differs if both are non-empty and not equal.
 *
 * Verdict:
 *  - EXACT: the textual forms are equal.
 *  - PARTIAL: not exact, and at least one part that describes the network
 *    rather than this host agrees: a gateway address, a gateway MAC, the
 *    resolver set or the SSID.  (vNif, vNifmac and vNvlan say which of our
 *    interfaces we use; they agree on every network the laptop joins the
 *    same way, so alone they prove nothing.)
 *  - NONE: nothing of the network agrees.
 *
 * Evidence ranks: a gateway MAC agreeing is the strongest (the very same
 * router); a gateway address alone is weak (192.168.1.1 is everywhere).
 * The case to flag is DS_NETFP_CMP_IMPOSTOR: in some family the gateway
 * address agrees but the gateway MAC differs -- a replaced router, another
 * network with the same addressing, or someone answering ARP/ND for the
 * gateway.  The trust policy must not treat that as the known network.
 */
enum ds_netfp_verdict {
	DS_NETFP_NONE = 0,
	DS_NETFP_PARTIAL,
	DS_NETFP_EXACT,
};

/* Part bits for struct ds_netfp_cmp masks. */
enum {
	DS_NETFP_P_V4GW = 1u << 0,
	DS_NETFP_P_V4GWMAC = 1u << 1,
	DS_NETFP_P_V4IF = 1u << 2,
	DS_NETFP_P_V4IFMAC = 1u << 3,
	DS_NETFP_P_V4VLAN = 1u << 4,
	DS_NETFP_P_V6GW = 1u << 5,
	DS_NETFP_P_V6GWMAC = 1u << 6,
	DS_NETFP_P_V6IF = 1u << 7,
	DS_NETFP_P_V6IFMAC = 1u << 8,
	DS_NETFP_P_V6VLAN = 1u << 9,
	DS_NETFP_P_RES = 1u << 10,
	DS_NETFP_P_SSID = 1u << 11,
	DS_NETFP_P_ALL = (1u << 12) - 1,
};
/* Flags of struct ds_netfp_cmp. */
enum {
	DS_NETFP_CMP_IMPOSTOR = 1u << 0, /* gateway address agrees, its MAC differs */
};

struct ds_netfp_cmp {
	enum ds_netfp_verdict verdict;
	unsigned agree;  /* DS_NETFP_P_* present in both and equal */
	unsigned differ; /* DS_NETFP_P_* present in both and different */
	unsigned flags;  /* DS_NETFP_CMP_* */
};

/* Compare cur (what we see now) with known (what was remembered); the
 * relation is symmetric.  Always succeeds. */
void ds_netfp_match(const struct ds_netfp *cur, const struct ds_netfp *known,
		    struct ds_netfp_cmp *ret);
/* "exact", "partial", "none". */
const char *ds_netfp_verdict_name(enum ds_netfp_verdict v);
/* The names of the parts in mask ("v4gwmac,res"; "-" if none) into out.
 * Returns out. */
const char *ds_netfp_parts_format(unsigned mask, char *out, size_t outlen);

/* ------------------------------------------------------------------ */
/* 2. Reading the system (libnl-route-3, NETLINK_ROUTE)                */

/*
 * Per address family the route is chosen thus: the unicast default route
 * (prefix length 0) of the main table with the lowest metric (ties: the
 * lowest interface index; multipath: the first live next hop), whose next
 * hop is neither dead nor link-down and whose interface is up and running.
 * If the caller gives resolver addresses, the kernel is asked for its
 * route to the first non-loopback, non-link-local resolver of that family
 * (RTM_GETROUTE); if that route leaves by another interface than the
 * default route (a VPN, also OpenVPN's 0/1 + 128/1 routes) or there is no
 * default route, the route to the resolver is used instead.  The gateway
 * MAC comes from the neighbour table, only in state REACHABLE, STALE,
 * DELAY, PROBE, PERMANENT or NOARP, and only if it is 6 octets long.
 */

/* A link as netinfo sees it: what one RTM_NEWLINK says, whether it came
 * as an event or as part of a link dump (both go through the same code:
 * libnl's parser, then rtnl_link_is_vlan / rtnl_link_vlan_get_id). */
struct ds_net_link {
	int ifindex;
	char name[IF_NAMESIZE];       /* "" if the message had none */
	bool has_mac;                 /* IFLA_ADDRESS of 6 octets, not all zero */
	uint8_t mac[DS_ETH_ALEN];
	int vlan;                     /* 802.1Q id if the link is kind "vlan", else -1 */
	bool up;                      /* IFF_UP */
	bool running;                 /* IFF_RUNNING: operational */
	bool loopback;                /* IFF_LOOPBACK: never a network */
	bool has_carrier_changes;     /* IFLA_CARRIER_CHANGES present */
	uint32_t carrier_changes;     /* carrier up + down transitions */
};

/* Parse one netlink message (an nlmsghdr and its payload, as received
 * from a NETLINK_ROUTE socket; untrusted) that must be an RTM_NEWLINK or
 * RTM_DELLINK.  Uses the very function that reads the links of a dump.
 * Returns 0, -EINVAL (malformed, truncated, not a link message) or
 * -ENOMEM. */
int ds_net_link_parse(const void *buf, size_t len, struct ds_net_link *ret);

/* Read the current fingerprint: links, routes and neighbours are dumped
 * over a netlink socket of the caller's network namespace; res (n
 * entries, may be NULL if n == 0) become the resolver part and steer the
 * route choice as above.  If a gateway has no usable neighbour entry and
 * wait_ms > 0, resolution is provoked (an empty UDP datagram to the
 * gateway's discard port 9) and the call blocks up to wait_ms for the
 * RTM_NEWNEIGH; without it the MAC stays absent.  Returns 0, or a
 * negative errno (netlink socket or dump failure, -ENOMEM). */
int ds_netfp_read(const struct ds_netaddr *res, size_t n, unsigned wait_ms, struct ds_netfp *ret);

/* An address of an interface, as RTM_NEWADDR gives it: the local address
 * and the length of the directly connected prefix it brings. */
struct ds_net_ifaddr {
	int ifindex;
	struct ds_netaddr addr;   /* IFA_LOCAL (scope of a link-local: ifindex) */
	unsigned prefixlen;
};
#define DS_NET_MAX_IFADDRS 128 /* addresses read; more are left out */

/* Read the addresses of every interface (an RTM_GETADDR dump, IPv4 and
 * IPv6) into out (cap entries; more are left out), in the kernel's order.
 * Returns the count, or a negative errno. */
int ds_net_ifaddrs_read(struct ds_net_ifaddr *out, size_t cap);

/* ------------------------------------------------------------------ */
/* 3. The change watcher                                               */

/*
 * One netlink socket subscribed to RTNLGRP_LINK, IPV4_IFADDR, IPV6_IFADDR,
 * IPV4_ROUTE, IPV6_ROUTE and NEIGH, read from a libevent event.  Events are
 * only hints: a relevant event opens or extends a debounce window, which
 * closes once no relevant event came for debounce_ms, and at the latest
 * 1.5 * debounce_ms after the first event of the burst (a steady trickle
 * cannot postpone a report for ever); then links, routes and neighbours
 * are dumped afresh and the fingerprint recomputed.  A full re-read covers the
 * kernel dropping the IPv4 default route on link down without an
 * RTM_DELROUTE, and resynchronises after a socket overrun (ENOBUFS).
 * Ignored as irrelevant: neighbour events for hosts other than the
 * gateways (or for a gateway whose usable MAC did not change), link events
 * that change nothing netinfo reads (wireless NEWLINK noise), and route
 * events of the local table.
 *
 * If a gateway has no usable MAC, resolution is provoked once and the
 * report is held until its RTM_NEWNEIGH (then recomputed at once) or for at
 * most resolve_wait_ms, after which it is reported without the MAC.
 *
 * The callback runs from the event loop after the initial read
 * (DS_NETWATCH_INITIAL, old is NULL), then whenever the fingerprint
 * changed (DS_NETWATCH_CHANGED), or when it did not change but an
 * interface it uses went down, lost its carrier or was replaced since the
 * last report (DS_NETWATCH_BOUNCED alone: "same network, link bounced" --
 * connections are dead, reconnect at once but keep what was learned).
 * BOUNCED may also accompany CHANGED.  Bounces are seen in the events and,
 * should both transitions fall between two reads, in IFLA_CARRIER_CHANGES
 * or a new ifindex under the same name.  After an overrun a bounce cannot
 * be ruled out: DS_NETWATCH_RESYNC | DS_NETWATCH_BOUNCED is reported (if
 * there is a route at all).
 * After a pause (a suspend, or the process stopped: see netwatch.c) the
 * network is read again and DS_NETWATCH_RESUMED reported, with CHANGED if
 * the network changed meanwhile: connections may be dead.
 * Between the first report and any later one, DS_NETWATCH_PENDING says
 * that a window opened (answers may belong to the network being left) and
 * DS_NETWATCH_SETTLED that it closed with nothing to report.
 * The callback may call ds_netwatch_set_resolvers/set_ssid but must not
 * free the watcher.
 */
enum {
	DS_NETWATCH_INITIAL = 1u << 0,
	DS_NETWATCH_CHANGED = 1u << 1,
	DS_NETWATCH_BOUNCED = 1u << 2,
	DS_NETWATCH_RESYNC = 1u << 3,
	/* alone, old == cur: a relevant event opened a debounce window after
	 * the first report -- the network may be changing, a report or
	 * SETTLED follows when the window closes */
	DS_NETWATCH_PENDING = 1u << 4,
	/* alone, old == cur: the window closed and nothing changed */
	DS_NETWATCH_SETTLED = 1u << 5,
	/* the process did not run for a while (suspend, SIGSTOP) */
	DS_NETWATCH_RESUMED = 1u << 6,
};

struct ds_netwatch;

/* old: the fingerprint of the previous report (NULL on the first); cur:
 * the new one.  Both are valid during the call only. */
typedef void ds_netwatch_cb(struct ds_netwatch *w, const struct ds_netfp *old,
			    const struct ds_netfp *cur, unsigned flags, void *arg);

struct ds_netwatch_opts {
	unsigned debounce_ms;     /* 0: default 500 */
	bool addrs_only;          /* watch interface addresses only (for
				   * ds_netwatch_set_addr_cb): no fingerprint
				   * is read, cb is never called (may be NULL) */
	unsigned resolve_wait_ms; /* 0: default 1000 */
	int rcvbuf;               /* netlink socket receive buffer; 0: default
				   * 1 MiB (tests make it tiny to force ENOBUFS) */
};

/* Statistics, for dotctl status and tests. */
struct ds_netwatch_stats {
	uint64_t events;     /* netlink messages received */
	uint64_t relevant;   /* of which opened or joined a debounce window */
	uint64_t overruns;   /* ENOBUFS seen (each forced a resync) */
	uint64_t reads;      /* full re-reads of the kernel state */
	uint64_t provoked;   /* neighbour resolutions provoked */
	uint64_t reports;    /* callbacks */
	uint64_t pauses;     /* resumes after a suspend or stop (each forced a
				re-read, queries held meanwhile) */
};

/* Create a watcher on base (not owned; must outlive it).  o may be NULL
 * for defaults.  The initial read is scheduled at once on the loop, so
 * the first callback comes from event_base_dispatch.  Returns 0 and
 * *ret, or a negative errno (netlink socket, -ENOMEM). */
/* The debounce window (pure, so a test clock can drive it): a relevant
 * event at now opens a window (open false; *burst_start is set to now) or
 * extends the open one; returns the milliseconds until it closes: no event
 * for window_ms, and at most 1.5 * window_ms after the burst's first. */
uint64_t ds_debounce_delay(uint64_t *burst_start, bool open, uint64_t now, unsigned window_ms);

int ds_netwatch_new(struct event_base *base, const struct ds_netwatch_opts *o,
		    ds_netwatch_cb *cb, void *arg, struct ds_netwatch **ret);
/* Stop watching and free everything; NULL is fine.  Not from the callback. */
void ds_netwatch_free(struct ds_netwatch *w);
/* Set the network's resolvers (copied; see ds_netfp_set_resolvers), e.g.
 * from a ds_resolvwatch.  A change triggers a recompute right away.
 * Returns 0 or -EINVAL. */
int ds_netwatch_set_resolvers(struct ds_netwatch *w, const struct ds_netaddr *res, size_t n);
/* Set the SSID (len 0: unknown); a change triggers a recompute.
 * Returns 0 or -EINVAL. */
int ds_netwatch_set_ssid(struct ds_netwatch *w, const uint8_t *ssid, size_t len);
/* The addresses of the interfaces changed: a (n entries, as
 * ds_net_ifaddrs_read gives them) is valid during the call only. */
typedef void ds_netwatch_addr_cb(struct ds_netwatch *w, const struct ds_net_ifaddr *a,
				 size_t n, void *arg);
/* Also watch the interfaces' addresses (one observer; NULL stops it):
 * every read of the kernel state (the next one, then after each burst of
 * events) dumps them too, and cb is called after the first read and then
 * whenever they differ from the last call's.  The same rules as for the
 * fingerprint callback apply. */
void ds_netwatch_set_addr_cb(struct ds_netwatch *w, ds_netwatch_addr_cb *cb, void *arg);
/* The fingerprint of the last report (empty before the first). */
const struct ds_netfp *ds_netwatch_current(const struct ds_netwatch *w);
void ds_netwatch_get_stats(const struct ds_netwatch *w, struct ds_netwatch_stats *ret);

/* ------------------------------------------------------------------ */
/* 4. The resolv.conf-style resolver source                            */

#define DS_RESOLVCONF_MAX_SIZE (64 * 1024) /* larger files are refused */
#define DS_RESOLVCONF_MAX_LINE 1024        /* longer lines are bad lines */

#define DS_RESOLVCONF_MAX_SEARCH 6         /* search domains kept (libc's old MAXDNSRCH) */
#define DS_RESOLVCONF_NAME_MAX 253         /* a search domain, no trailing dot */

/* What a resolv.conf-style file says about resolvers and search domains. */
struct ds_resolvconf {
	struct ds_netaddr res[DS_NETFP_MAX_RES]; /* in file order, unique */
	size_t nres;
	unsigned bad_lines; /* "nameserver" lines rejected (and ignored) */
	bool truncated;     /* more distinct nameservers than DS_NETFP_MAX_RES */
	/* the search list: host names, lower-case, no trailing dot, unique */
	char search[DS_RESOLVCONF_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t nsearch;
	unsigned bad_search; /* "search"/"domain" lines rejected (and ignored) */
};

/*
 * Parse buf (len bytes, need not be NUL-terminated; untrusted).  Lines
 * "nameserver ADDR" give the resolvers: the keyword in the first column,
 * blanks (space, tab) after it, one address as for ds_netaddr_parse, then
 * only blanks or a '#'/';' comment; a final CR is tolerated.  IPv6
 * link-local addresses need a scope; the unspecified addresses are
 * refused.  A malformed or indented nameserver line (which libc would
 * misread or skip), a line longer than DS_RESOLVCONF_MAX_LINE or one
 * holding a NUL byte is counted in bad_lines and ignored.  Duplicates are
 * dropped.
 * Lines "search NAME..." and "domain NAME" give the search list; as for
 * libc, the last such line wins.  Every NAME must be a host name (letters,
 * digits, inner hyphens; labels of 1 to 63, at most 253 characters, an
 * optional final dot; not the root): a line with any other name, or
 * indented, or "domain" with more than one name, is counted in bad_search
 * and ignored (an earlier good line stays).  Names are kept lower-case,
 * without their final dot, duplicates dropped, the first
 * DS_RESOLVCONF_MAX_SEARCH only.
 * Every other line (comments, options, "nameservers"...) is ignored.
 * Returns 0, or -EFBIG if len > DS_RESOLVCONF_MAX_SIZE.
 */
int ds_resolvconf_parse(const char *buf, size_t len, struct ds_resolvconf *ret);
/* Read and parse the file at path.  Returns 0, -EFBIG, or the negative
 * errno of open/read (-ENOENT...). */
int ds_resolvconf_load(const char *path, struct ds_resolvconf *ret);

/*
 * Watch a resolv.conf-style file (DHCP clients rewrite or rename it) with
 * inotify on its directory -- and, if path is a symlink, also on the
 * directory of its target at creation time.  Changes are debounced
 * (debounce_ms, 0: 200 ms), the file re-read, and the callback called
 * with the result if it differs from the previous one (first call right
 * after creation, from the loop).  err is 0 or the load error (e.g.
 * -ENOENT while the file is missing; rc is then empty).
 */
struct ds_resolvwatch;
typedef void ds_resolvwatch_cb(struct ds_resolvwatch *rw, const struct ds_resolvconf *rc,
			       int err, void *arg);

/* Returns 0 and *ret, or a negative errno (inotify, -ENAMETOOLONG,
 * -ENOENT if the directory does not exist). */
int ds_resolvwatch_new(struct event_base *base, const char *path, unsigned debounce_ms,
		       ds_resolvwatch_cb *cb, void *arg, struct ds_resolvwatch **ret);
/* NULL is fine.  Not from the callback. */
void ds_resolvwatch_free(struct ds_resolvwatch *rw);

/* ------------------------------------------------------------------ */
/* 5. Links                                                            */

/*
 * The link table: for every link (interface index) what each source said
 * (struct ds_linkconf, dotstub/linkconf.h); the highest source that said
 * anything is in force for that link ("effective").  A plain container:
 * the network manager owns one and acts on it.
 */
#define DS_LINKTAB_MAX 64 /* links with a configuration */

struct ds_linktab;

/* NULL on ENOMEM. */
struct ds_linktab *ds_linktab_new(void);
void ds_linktab_free(struct ds_linktab *t); /* NULL is fine */
/* lc (copied) becomes what lc->source says about link lc->ifindex,
 * replacing what it said before.  Returns 1 if the link's effective
 * configuration changed, 0 if not, -EINVAL (ifindex <= 0, no source,
 * counts out of range), -E2BIG (DS_LINKTAB_MAX links) or -ENOMEM. */
int ds_linktab_set(struct ds_linktab *t, const struct ds_linkconf *lc);
/* Forget what src said about ifindex.  1 if the effective configuration
 * changed, 0 if not (src said nothing, or a higher source is in force),
 * -EINVAL for a bad source.  A link nobody configures is dropped. */
int ds_linktab_revert(struct ds_linktab *t, int ifindex, enum ds_link_source src);
/* Forget what src said about every link (DS_LINKSRC_NONE: every source).
 * Returns the number of links whose effective configuration changed. */
int ds_linktab_flush(struct ds_linktab *t, enum ds_link_source src);
/* The configuration in force for ifindex, or NULL. */
const struct ds_linkconf *ds_linktab_get(const struct ds_linktab *t, int ifindex);
/* What one source said (DS_LINKSRC_NONE: the one in force), or NULL. */
const struct ds_linkconf *ds_linktab_get_source(const struct ds_linktab *t, int ifindex,
						enum ds_link_source src);
/* Which sources configure ifindex: bit (1 << source) each. */
unsigned ds_linktab_sources(const struct ds_linktab *t, int ifindex);
/* The links, by ascending ifindex: how many, and the i-th's configuration
 * in force.  Valid until the table changes.  t may be NULL (none). */
size_t ds_linktab_count(const struct ds_linktab *t);
const struct ds_linkconf *ds_linktab_at(const struct ds_linktab *t, size_t i);

/* "resolv.conf", "networkd", "resolve1", "dotctl" ("none"). */
const char *ds_link_source_name(enum ds_link_source s);
/* An empty configuration of ifindex from src (default_route unset). */
void ds_linkconf_init(struct ds_linkconf *lc, int ifindex, enum ds_link_source src);
/* Whether the link takes the names no domain routes: its default_route,
 * or if unset, yes unless every domain it has is route-only. */
bool ds_linkconf_default_route(const struct ds_linkconf *lc);
/* Same value (every member that is part of it)? */
bool ds_linkconf_equal(const struct ds_linkconf *a, const struct ds_linkconf *b);
/* A domain in text: "corp.example" (searched and routed), "~corp.example"
 * (routed only), "~." (the root, routed only); a final dot is allowed,
 * letters are made lower case.  Labels of letters, digits, '-' (not first
 * or last) and '_', 1 to 63 long, 253 in all.  Returns 0 or -EINVAL. */
int ds_link_domain_parse(const char *text, struct ds_link_domain *ret);
/* Parse and add a domain (the same name again: searched wins).  0,
 * -EINVAL, or -E2BIG (DS_LINK_MAX_DOMAINS). */
int ds_linkconf_add_domain(struct ds_linkconf *lc, const char *text);
/* A resolver in text: "ADDR", "ADDR:PORT" (IPv4), "[ADDR]:PORT", an IPv6
 * link-local "ADDR%IFACE" (name or index), each optionally followed by
 * "#SERVERNAME"; port 53 unless given; the unspecified addresses are
 * refused.  Returns 0 or -EINVAL. */
int ds_link_dns_parse(const char *text, struct ds_link_dns *ret);
/* Parse and add one (duplicates dropped).  0, -EINVAL, or -E2BIG. */
int ds_linkconf_add_dns(struct ds_linkconf *lc, const char *text);
/* What a parsed resolv.conf says, as the configuration of ifindex
 * (source DS_LINKSRC_RESOLVCONF): its resolvers (port 53) and its search
 * list as searched domains. */
void ds_linkconf_from_resolvconf(const struct ds_resolvconf *rc, int ifindex,
				 struct ds_linkconf *ret);

/*
 * systemd-networkd's per-link state files (networkd.c says which keys).
 */
#define DS_NETWORKD_LINKS_DIR "/run/systemd/netif/links"
#define DS_NETWORKD_STATE_FILE "/run/systemd/netif/state" /* networkd runs, or ran */
#define DS_NETWORKD_MAX_SIZE (64 * 1024) /* larger files are refused */

/* Parse one link's state file (buf, len octets, untrusted) into ret
 * (source DS_LINKSRC_NETWORKD); values that cannot be read are left out
 * and counted in *bad (may be NULL).  Returns 0, 1 if there is nothing to
 * configure (an unmanaged link, or no resolver and no domain; ret is then
 * empty), or -EFBIG. */
int ds_networkd_parse(const char *buf, size_t len, int ifindex, struct ds_linkconf *ret,
		      unsigned *bad);
/* Read every link's file in dir: *ret (calloc'd, NULL if none; free it)
 * holds *ret_n configurations, the links with nothing to configure left
 * out.  Returns 0 or the negative errno of opendir. */
int ds_networkd_read(const char *dir, struct ds_linkconf **ret, size_t *ret_n, unsigned *bad);

/* Watch dir (inotify): cb is called once from the loop after creation,
 * then after every burst of changes (debounced), with every link that has
 * something to configure (links, n: valid during the call), or links NULL
 * and err < 0 when the directory cannot be read; err >= 0 is the number of
 * values left out. */
struct ds_networkd_watch;
typedef void ds_networkd_cb(struct ds_networkd_watch *w, const struct ds_linkconf *links, size_t n,
			    int err, void *arg);
/* Returns 0 and *ret, or a negative errno (-ENOENT: no such directory). */
int ds_networkd_watch_new(struct event_base *base, const char *dir, ds_networkd_cb *cb, void *arg,
			  struct ds_networkd_watch **ret);
void ds_networkd_watch_free(struct ds_networkd_watch *w); /* NULL is fine */

/* A link's own fingerprint (linkfp.c): its resolvers, and in the IPv4
 * part its name and, if it has one, its Ethernet address; no gateway.
 * Returns 0 or -EINVAL. */
int ds_netfp_of_link(const char *ifname, const struct ds_netaddr *res, size_t n,
		     struct ds_netfp *ret);

/* The reverse zones (in-addr.arpa, ip6.arpa, text without a final dot)
 * that hold the prefix of a with prefixlen: one zone when the prefix ends
 * on a label (8 bits, 4 for IPv6), else the zones one label longer, at
 * most DS_REVZONE_SPLIT of them (a shorter prefix: the zone that holds
 * it).  A prefix of length 0 has none.  Returns the count written to out
 * (at most cap), or -EINVAL. */
#define DS_REVZONE_MAX 80
#define DS_REVZONE_SPLIT 16
int ds_reverse_zones(const struct ds_netaddr *a, unsigned prefixlen,
		     char (*out)[DS_REVZONE_MAX], int cap);

#endif
