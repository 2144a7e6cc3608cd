/*
 * netmgr_status.h -- the network manager's part of `dotctl status`, as
 * data: what the network manager knows about the current network, what
 * it decided, and its discovery and refresh counters.  Filled by
 * ds_netmgr_get_status (netmgr_status.c); turned into JSON by the daemon's
 * one status serialiser (stub/daemon/status.c).  No formatting here.
 */
#ifndef DOTSTUB_NETMGR_STATUS_H
#define DOTSTUB_NETMGR_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "dotstub/config.h"
#include "dotstub/discovery.h"
#include "dotstub/netinfo.h"
#include "dotstub/trust.h"
#include "dotstub/wire.h"

struct ds_daemon;

/* One link, as `dotctl status` shows it: what is configured, and how its
 * names are served.  The default network is the first (is_default), with
 * the default link's configuration if there is one. */
#define DS_STATUS_MAX_LINKS 16
struct ds_link_status {
	int ifindex;                  /* 0: no link (network-resolver) */
	char ifname[IF_NAMESIZE];
	const char *source;           /* "dotctl", "networkd", ..., "network-resolver" */
	bool is_default;              /* serves the names no domain routes */
	bool default_route;           /* its default-route flag (in force) */
	bool own_network;             /* served by a network of its own (or the default) */
	char resolvers[DS_LINK_MAX_DNS][DISC_ADDR_STR_MAX];
	int nresolvers;
	char search[DS_LINK_MAX_DOMAINS][DS_LINK_DOMAIN_MAX + 1];
	int nsearch;
	char routing[DS_LINK_MAX_DOMAINS][DS_LINK_DOMAIN_MAX + 2]; /* "." for the root */
	int nrouting;
	/* how its names are served */
	char network[DS_NETFP_ID_LEN + 1];
	const char *state;            /* trust_posture_name */
	char reason[512];
	const char *transport;        /* "dot", "plain", "none" */
	char upstream[DNS_NAME_MAX + 1];  /* the discovered resolver's name */
	char address[64];             /* where queries go now */
	char tlsa[8];                 /* "3 1 1" of the matched TLSA, once authenticated */
	bool authenticated;           /* an authenticated handshake (DANE or PKIX) */
	const char *auth;             /* ds_auth_name of the DoT upstream, or NULL */
	bool strict;                  /* DNSOverTLS=yes */
	bool have_anchor;
	uint16_t anchor_tag;
	uint8_t anchor_alg;
	int64_t anchor_since;         /* the anchor's first use, wall clock */
	int64_t since;                /* the transport in force since, wall clock; 0: not yet */
	int64_t hotspot_until;        /* a hotspot sign-on's end, wall clock; 0: none */
	uint64_t queries;             /* routed to it */
};

struct ds_netmgr_status {
	bool active;                  /* false: a static upstream, no network manager */
	/* the network */
	char fp_id[DS_NETFP_ID_LEN + 1];
	char fingerprint[DS_NETFP_TEXT_MAX];  /* "" until one is known */
	char ifname[IF_NAMESIZE];     /* the default route's interface, or "" */
	char match[32];               /* "exact", "partial", "impostor", "none" */
	bool known;
	uint64_t changes;
	/* the network's resolvers, "ADDR@PORT" */
	char resolvers[DS_MAX_NETWORK_RESOLVERS][DISC_ADDR_STR_MAX];
	int nresolvers;
	/* the decision */
	const char *state;            /* a static string, e.g. "dot", "refused" */
	char reason[512];
	bool alert;
	char upstream[DNS_NAME_MAX + 1];  /* the DoT upstream's name, or "" */
	bool from_store;              /* DoT from stored data, no walk */
	bool have_anchor;
	uint16_t anchor_tag;
	uint8_t anchor_alg;
	char anchor_sha256[2 * TRUST_SHA256_LEN + 1];
	/* discovery and refresh */
	uint64_t walks;
	char last_walk[DISC_REASON_MAX + 32];
	char designated[640];         /* what DNR and DDR gave last, or "" */
	char forwarder_upstreams[DISC_MAX_UPSTREAMS][DNS_NAME_MAX + 16];
	int nforwarder_upstreams;
	char transparent[DNS_NAME_MAX + 4 + 4 * 48]; /* "" or "NAME at ADDR ..." */
	unsigned hotspot_left_s;      /* a sign-on in force: seconds left, else 0 */
	char portal[768];             /* "" or why a captive portal is suspected */
	uint64_t refreshes, refresh_failures;
	char last_refresh[DISC_REASON_MAX + 32];
	/* the policy (configuration) */
	const char *tofu;             /* "auto", "ask", "off" */
	const char *unknown_network;  /* "strict", "opportunistic" */
	/* the links, the default network first */
	struct ds_link_status links[DS_STATUS_MAX_LINKS];
	int nlinks;
};

/* Fill st (active false when the daemon has no network manager). */
void ds_netmgr_get_status(struct ds_daemon *d, struct ds_netmgr_status *st);

#endif
