/*
 * ddr_designate.c -- from what a network says about its encrypted
 * resolvers (a DDR answer, DNR options) to the DoT connections to try:
 * RFC 9462 4.2 (verified discovery: the designated resolver's certificate
 * carries the ADN and the unencrypted resolver's address), 4.3
 * (opportunistic discovery: only to the same, private address) and RFC
 * 9463 3.2 (the ADN).  Pure: nothing here does I/O or decides policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/ddr.h"

static bool v4_private(const uint8_t *a)
{
	return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	       (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
	       (a[0] == 100 && (a[1] & 0xc0) == 64);
}

bool ddr_addr_is_private(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return v4_private((const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr);
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
			return v4_private(&a->s6_addr[12]);
		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       (a->s6_addr[0] & 0xfe) == 0xfc;
	}
	return false;
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return false;
}

static void add_v4(struct ddr_designation *g, const struct in_addr *a, uint16_t port)
{
	struct sockaddr_in *sin;

	if (g->naddr >= DS_MAX_UPSTREAM_ADDRS)
		return;
	sin = (struct sockaddr_in *)&g->addr[g->naddr++];
	memset(sin, 0, sizeof(g->addr[0]));
	sin->sin_family = AF_INET;
	sin->sin_addr = *a;
	sin->sin_port = htons(port);
}

static void add_v6(struct ddr_designation *g, const struct in6_addr *a, uint16_t port)
{
	struct sockaddr_in6 *sin6;

	if (g->naddr >= DS_MAX_UPSTREAM_ADDRS)
		return;
	sin6 = (struct sockaddr_in6 *)&g->addr[g->naddr++];
	memset(sin6, 0, sizeof(g->addr[0]));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *a;
	sin6->sin6_port = htons(port);
}

/* The ADN in presentation form without the trailing dot; false if it is
 * the root (no name a certificate can be checked against). */
static bool adn_text(const uint8_t *name, size_t len, char out[DNS_NAME_MAX + 1])
{
	size_t n;

	if (len <= 1 || dns_name_to_str(name, len, out, DNS_NAME_MAX + 1) < 0)
		return false;
	n = strlen(out);
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
	return out[0] != '\0';
}

/* Insert g into out[0..*n) by priority (stable: equal ones keep order). */
static void insert_sorted(struct ddr_designation *out, int *n, int cap,
			  const struct ddr_designation *g)
{
	int i;

	if (*n == cap)
		return;
	for (i = *n; i > 0 && out[i - 1].priority > g->priority; i--)
		out[i] = out[i - 1];
	out[i] = *g;
	(*n)++;
}

int ddr_designate_query(const struct ddr_query *q, const struct sockaddr_storage *resolver,
			struct ddr_designation *out, int cap, char *reason, size_t reasonlen)
{
	unsigned skipped_alpn = 0, skipped_root = 0;
	int n = 0;

	if (reasonlen > 0)
		reason[0] = '\0';
	for (unsigned i = 0; i < q->n && i < DDR_QUERY_MAX_RECORDS; i++) {
		const struct ddr_svcb *s = &q->rec[i];
		struct ddr_designation g;
		bool same = false;

		if (!ddr_svcb_qualifies_dot(s)) {
			skipped_alpn++;
			continue;
		}
		memset(&g, 0, sizeof(g));
		g.origin = DDR_ORIGIN_DDR;
		g.priority = s->priority;
		if (!adn_text(s->target, s->target_len, g.adn)) {
			skipped_root++;
			continue;
		}
		for (unsigned k = 0; k < s->params.n_ipv4hint; k++)
			add_v4(&g, &s->params.ipv4hint[k], s->params.port);
		for (unsigned k = 0; k < s->params.n_ipv6hint; k++)
			add_v6(&g, &s->params.ipv6hint[k], s->params.port);
		g.needs_resolution = g.naddr == 0;
		for (int k = 0; k < g.naddr; k++)
			same |= same_ip(&g.addr[k], resolver);
		g.opportunistic_ok = same && ddr_addr_is_private(resolver);
		insert_sorted(out, &n, cap, &g);
	}
	if (n == 0 && reasonlen > 0) {
		if (q->result != DDR_QUERY_OK)
			snprintf(reason, reasonlen, "no designation: %s%s%s",
				 ddr_query_result_name(q->result), q->reason[0] ? ": " : "",
				 q->reason);
		else
			snprintf(reason, reasonlen,
				 "no DoT designation (%u record(s) without \"dot\" in alpn, "
				 "%u naming resolver.arpa itself)",
				 skipped_alpn, skipped_root);
	}
	return n;
}

int ddr_designate_dnr(const struct ddr_dnr *dnr, struct ddr_designation *out, int cap,
		      char *reason, size_t reasonlen)
{
	unsigned skipped_alpn = 0, expired = 0;
	int n = 0;

	if (reasonlen > 0)
		reason[0] = '\0';
	for (unsigned i = 0; i < dnr->n && i < DDR_DNR_MAX_INSTANCES; i++) {
		const struct ddr_dnr_instance *in = &dnr->inst[i];
		struct ddr_designation g;

		if (in->has_lifetime && in->lifetime == 0) {
			expired++;
			continue;
		}
		/* ADN-only: the ADN is all there is; otherwise alpn is mandatory */
		if (!in->adn_only && !(in->params.alpn & DDR_ALPN_DOT)) {
			skipped_alpn++;
			continue;
		}
		memset(&g, 0, sizeof(g));
		g.origin = DDR_ORIGIN_DNR;
		g.priority = in->priority;
		if (!adn_text(in->adn, in->adn_len, g.adn))
			continue;
		for (unsigned k = 0; k < in->naddr && k < DDR_DNR_MAX_ADDRS; k++) {
			if (in->family == AF_INET)
				add_v4(&g, &in->addr4[k], in->params.port);
			else
				add_v6(&g, &in->addr6[k], in->params.port);
		}
		g.needs_resolution = g.naddr == 0;
		insert_sorted(out, &n, cap, &g);
	}
	if (n == 0 && reasonlen > 0)
		snprintf(reason, reasonlen,
			 "no DoT designation (%u instance(s) without \"dot\" in alpn, %u expired, "
			 "%u malformed)", skipped_alpn, expired, dnr->nbad);
	return n;
}

int ddr_designation_desc(const struct ddr_designation *g, const struct sockaddr_storage *resolver,
			 bool opportunistic, struct ds_upstream_desc *out)
{
	if (g->adn[0] == '\0' || strlen(g->adn) >= sizeof(out->name))
		return -EINVAL;
	if (g->naddr == 0)
		return -ENOENT;
	if (opportunistic && !g->opportunistic_ok)
		return -EPERM;
	memset(out, 0, sizeof(*out));
	out->transport = DS_TRANSPORT_DOT;
	memcpy(out->name, g->adn, strlen(g->adn) + 1);
	if (opportunistic) {
		/* only the unencrypted resolver's own address (RFC 9462 4.3) */
		for (int k = 0; k < g->naddr; k++)
			if (same_ip(&g->addr[k], resolver) && out->naddr < DS_MAX_UPSTREAM_ADDRS)
				out->addr[out->naddr++] = g->addr[k];
		out->auth = DS_AUTH_OPPORTUNISTIC;
		return out->naddr > 0 ? 0 : -EPERM;
	}
	for (int k = 0; k < g->naddr && k < DS_MAX_UPSTREAM_ADDRS; k++)
		out->addr[out->naddr++] = g->addr[k];
	out->auth = DS_AUTH_PKIX;
	if (g->origin == DDR_ORIGIN_DDR)
		out->pkix_ip = *resolver;
	return 0;
}
