/*
 * linkconf.h -- what one network link (interface index) says about DNS,
 * from whichever source told us: the resolve1 D-Bus API (what
 * NetworkManager and other managers call), systemd-networkd's state
 * files, a resolv.conf-format file, or `dotctl link`.
 *
 * A plain value: every source fills one, the network manager keeps one
 * per link and source, and routes queries by its domains.  Nothing here
 * has been checked against the network; the addresses are what a local
 * manager handed over.
 */
#ifndef DOTSTUB_LINKCONF_H
#define DOTSTUB_LINKCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DS_LINK_MAX_DNS 8        /* resolver addresses kept per link */
#define DS_LINK_MAX_DOMAINS 16   /* search and routing domains per link */
#define DS_LINK_DOMAIN_MAX 253   /* a domain in text, no trailing dot */
#define DS_LINK_MAX_DNR 4        /* DNR designations kept per link */
#define DS_LINK_MAX_DNR_ADDRS 8  /* addresses per DNR designation */

/* Who configured a link.  When several did, the highest wins. */
enum ds_link_source {
	DS_LINKSRC_NONE = 0,
	DS_LINKSRC_RESOLVCONF,   /* the watched resolv.conf-format file */
	DS_LINKSRC_NETWORKD,     /* /run/systemd/netif/links/IFINDEX */
	DS_LINKSRC_RESOLVE1,     /* org.freedesktop.resolve1 SetLink* calls */
	DS_LINKSRC_DOTCTL,       /* dotctl link IFACE ... */
	DS_LINKSRC_COUNT
};

/* A yes/no setting a source may leave unset. */
enum ds_tristate { DS_UNSET = -1, DS_NO = 0, DS_YES = 1 };

/* resolved's DNSOverTLS= for a link: "yes" is strict for that link. */
enum ds_link_dot { DS_LINKDOT_UNSET = 0, DS_LINKDOT_NO, DS_LINKDOT_OPPORTUNISTIC, DS_LINKDOT_YES };

struct ds_link_domain {
	char name[DS_LINK_DOMAIN_MAX + 1];  /* lower case, no trailing dot; "" is the root */
	bool route_only;                    /* "~name": routing, not searched */
};

struct ds_link_dns {
	struct sockaddr_storage addr;       /* with the port (53 unless given) */
	char server_name[DS_LINK_DOMAIN_MAX + 1]; /* SetLinkDNSEx's name, or "" */
};

struct ds_linkconf {
	int ifindex;                        /* > 0 */
	char ifname[IF_NAMESIZE];           /* "" when the source did not say */
	enum ds_link_source source;
	struct ds_link_dns dns[DS_LINK_MAX_DNS];
	int ndns;
	struct ds_link_domain domains[DS_LINK_MAX_DOMAINS];
	int ndomains;
	enum ds_tristate default_route;     /* unset: yes unless every domain is route-only */
	enum ds_link_dot dot;
	/* recorded and shown, not acted on (resolved's names: "yes", "no",
	 * "allow-downgrade", "resolve"; "" when unset) */
	char dnssec[16], llmnr[16], mdns[16];
};

/* One encrypted resolver a link designates (DNR, RFC 9463: what a DHCP or
 * RA option carries, here as `dotctl link IFACE dnr` hands it over): a DoT
 * server to verify by its Authentication Domain Name under the CA store.
 * Kept per link apart from the sources' configurations (it neither adds
 * nor replaces the link's resolvers). */
/* Where a link's DNR designations come from: each source's set is kept
 * apart, so that one (a DHCPv6 lease without the option, an RA's Lifetime
 * running out) never takes away what another said; the link uses them
 * all, lower Service Priority first (a tie: in this order). */
enum ds_dnr_source {
	DS_DNR_DOTCTL,   /* dotctl link IFACE dnr */
	DS_DNR_DHCP6,    /* DHCPv6 option 144 (dotctl link IFACE dnr-option dhcp6) */
	DS_DNR_DHCP4,    /* DHCPv4 option 162 (dnr-option dhcp4) */
	DS_DNR_RA,       /* router advertisements, option 144 */
	DS_DNR_NSOURCES
};

struct ds_link_dnr {
	uint16_t priority;                  /* 1..65535, lower first */
	char adn[DS_LINK_DOMAIN_MAX + 1];   /* lower case, no trailing dot */
	struct sockaddr_storage addr[DS_LINK_MAX_DNR_ADDRS]; /* with the port (853 unless given) */
	int naddr;                          /* 0..DS_LINK_MAX_DNR_ADDRS; 0: ADN only
					     * (RFC 9463 3.1.6), resolved through the
					     * network's resolver when tried */
};

#endif
