/*
 * nlread.h -- discovery-internal: the libnl-level pieces of netread.c
 * shared with netwatch.c.  Not a public interface (it exposes libnl
 * types); see include/dotstub/netinfo.h for the public one.
 *
 * Errors are negative errno values (libnl's NLE_* codes are mapped).
 * Nothing here logs above LOG_DEBUG.
 */
#ifndef DOTSTUB_DISCOVERY_NLREAD_H
#define DOTSTUB_DISCOVERY_NLREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "dotstub/netinfo.h"

struct nl_msg;
struct nl_sock;

/* A neighbour entry as netinfo sees it (dump entry or RTM_NEWNEIGH). */
struct nlr_neigh {
	int ifindex;
	struct ds_netaddr dst;
	int state;                  /* NUD_* */
	bool usable;                /* state is one of the usable ones and the
				     * link-layer address is 6 octets */
	uint8_t mac[DS_ETH_ALEN];   /* valid if usable */
};

/* A gateway whose MAC is not known yet. */
struct nlr_gw {
	int ifindex;
	struct ds_netaddr gw;
};

/* One full read of the kernel state. */
struct nlr_snapshot {
	struct ds_netfp fp;                      /* resolvers set, SSID not */
	struct ds_net_link link[DS_NETFP_NAF];   /* each family's interface,
						  * valid if fp.af[i].route */
	struct nlr_gw pending[DS_NETFP_NAF];     /* gateways without usable MAC */
	size_t npending;
};

/* Map a libnl error (negative NLE_*) to a negative errno. */
int nlr_errno(int nlerr);

/* A connected NETLINK_ROUTE socket for dumps and lookups (auto-ack off).
 * Returns 0 and *ret, or a negative errno.  Free with nl_socket_free. */
int nlr_socket_new(struct nl_sock **ret);

/* Parse an RTM_NEWLINK/DELLINK message (protocol NETLINK_ROUTE set),
 * whether an event or one message of a link dump: checked for what libnl
 * cannot survive, parsed by libnl, then read by the one link reader
 * (rtnl_link_is_vlan / rtnl_link_vlan_get_id).  Returns 0, -EINVAL or
 * -ENOMEM. */
int nlr_link_from_msg(struct nl_msg *msg, struct ds_net_link *ret);

/* The same for an RTM_NEWNEIGH/DELNEIGH message; the entries of a
 * neighbour dump go through the same reader.  -EINVAL also if the entry
 * has no IPv4/IPv6 destination or interface. */
int nlr_neigh_from_msg(struct nl_msg *msg, struct nlr_neigh *ret);

/* The routing table of an RTM_NEWROUTE/DELROUTE message.  Returns 0,
 * -EINVAL or -ENOMEM. */
int nlr_route_table_from_msg(struct nl_msg *msg, unsigned *ret);

/* Dump links, routes and neighbours over sk and compute the snapshot
 * (route choice as documented in netinfo.h).  res: the resolvers (n).
 * If ret_links is not NULL, the links of the dump (at most 4096) are
 * handed over too: *ret_links is malloc'd, the caller frees it.
 * Returns 0 or a negative errno. */
int nlr_read(struct nl_sock *sk, const struct ds_netaddr *res, size_t n,
	     struct nlr_snapshot *ret, struct ds_net_link **ret_links, size_t *ret_nlinks);

/* Dump the addresses of every interface over sk into out (at most cap,
 * more are left out).  Returns the count or a negative errno. */
int nlr_ifaddrs(struct nl_sock *sk, struct ds_net_ifaddr *out, size_t cap);

/* Provoke neighbour resolution of g: an empty UDP datagram to its port 9
 * (discard), sent out of g->ifindex.  Returns 0 or a negative errno. */
int nlr_provoke(const struct nlr_gw *g);

/* If nb resolves a gateway in s->pending: put its MAC into s->fp, drop it
 * from pending and return true. */
bool nlr_snapshot_resolve(struct nlr_snapshot *s, const struct nlr_neigh *nb);

#endif
