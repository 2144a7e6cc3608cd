/*
 * route.c -- which lane a name goes to: the routing domains of the links
 * (daemon.h, "routes").  A query goes to the lane of the longest domain
 * that holds its name; of equal ones, to the first in the table (the
 * network manager orders it: the highest source first, then the lowest
 * interface index); a name no domain holds goes to the default lane.
 * A scan of a small table, no allocation.  A resolve1 call that names a
 * link (its ifindex) goes to that link's own lane whatever the name, as
 * systemd-resolved asks only that link's DNS servers then.
 */
#include "daemon.h"

#include <errno.h>
#include <string.h>

int ds_route_compile(const char *domain, struct ds_lane *lane, struct ds_route *ret)
{
	struct ds_route r;
	int n;

	memset(&r, 0, sizeof(r));
	if (domain[0] == '\0' || !strcmp(domain, ".")) {
		r.name[0] = 0; /* the root */
		n = 1;
	} else {
		n = dns_name_from_str(domain, r.name);
		if (n < 0)
			return -EINVAL;
	}
	for (int i = 0; i < n; i++)
		if (r.name[i] >= 'A' && r.name[i] <= 'Z')
			r.name[i] = (uint8_t)(r.name[i] + 32);
	/* count the labels (the name is well formed: dns_name_from_str) */
	for (int i = 0; r.name[i] != 0 && i < n; i += r.name[i] + 1)
		r.labels++;
	r.len = (uint16_t)n;
	r.lane = lane;
	*ret = r;
	return 0;
}

static bool suffix_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (x != y)
			return false;
	}
	return true;
}

struct ds_lane *ds_route_match(const struct ds_route *r, size_t n, const uint8_t *qname,
			       size_t qlen)
{
	size_t off[DNS_NAME_MAX / 2 + 1];
	size_t nlab = 0, i = 0;
	const struct ds_route *best = NULL;

	if (n == 0)
		return NULL;
	/* where each label of qname starts (a parsed query's name) */
	while (i < qlen && qname[i] != 0 && nlab < sizeof(off) / sizeof(off[0])) {
		off[nlab++] = i;
		i += (size_t)qname[i] + 1;
	}
	if (i >= qlen || qname[i] != 0)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		size_t start;

		if (r[k].labels > nlab || (best && r[k].labels <= best->labels))
			continue;
		start = r[k].labels == nlab ? 0 : off[nlab - r[k].labels];
		if (r[k].labels == 0)
			start = i; /* the root: the final zero */
		if (qlen - start == r[k].len && suffix_equal(qname + start, r[k].name, r[k].len))
			best = &r[k];
	}
	return best ? best->lane : NULL;
}

struct ds_lane *ds_route_link(struct ds_daemon *d, int ifindex)
{
	struct ds_lane *l;

	if (ifindex <= 0)
		return NULL;
	TAILQ_FOREACH(l, &d->lanes, link)
		if (l->ifindex == ifindex)
			return l;
	/* the default lane's ifindex: the default link (netmgr_links.c) */
	return d->def.ifindex == ifindex ? &d->def : NULL;
}
