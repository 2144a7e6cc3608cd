/*
 * linktab.c -- the link table: one struct ds_linkconf per link (interface
 * index) and source, the highest source in force (include/dotstub/netinfo.h,
 * section 5), and the parsers that turn a source's text into the value:
 * resolver addresses and domains.  Plain data; nothing here acts on it.
 */
#include "dotstub/netinfo.h"
#include "dotstub/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct link_entry {
	int ifindex;
	struct ds_linkconf *conf[DS_LINKSRC_COUNT]; /* NULL: that source said nothing */
};

struct ds_linktab {
	struct link_entry *link[DS_LINKTAB_MAX];    /* by ifindex, ascending */
	size_t n;
};

static const char *const source_names[DS_LINKSRC_COUNT] = {
	[DS_LINKSRC_NONE] = "none",
	[DS_LINKSRC_RESOLVCONF] = "resolv.conf",
	[DS_LINKSRC_NETWORKD] = "networkd",
	[DS_LINKSRC_RESOLVE1] = "resolve1",
	[DS_LINKSRC_DOTCTL] = "dotctl",
};

const char *ds_link_source_name(enum ds_link_source s)
{
	return (unsigned)s < DS_LINKSRC_COUNT ? source_names[s] : "?";
}

void ds_linkconf_init(struct ds_linkconf *lc, int ifindex, enum ds_link_source src)
{
	memset(lc, 0, sizeof(*lc));
	lc->ifindex = ifindex;
	lc->source = src;
	lc->default_route = DS_UNSET;
}

bool ds_linkconf_default_route(const struct ds_linkconf *lc)
{
	if (lc->default_route != DS_UNSET)
		return lc->default_route == DS_YES;
	if (lc->ndomains == 0)
		return true;
	for (int i = 0; i < lc->ndomains; i++)
		if (!lc->domains[i].route_only)
			return true;
	return false;
}

/* ------------------------------------------------------------ domains */

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int ds_link_domain_parse(const char *text, struct ds_link_domain *ret)
{
	struct ds_link_domain d;
	size_t n, label = 0;
	bool route_only = false;

	memset(&d, 0, sizeof(d));
	if (text[0] == '~') {
		route_only = true;
		text++;
	}
	n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--; /* the final dot */
	if (n == 0) {
		/* the root: only as a routing domain ("~."), never searched */
		if (!route_only)
			return -EINVAL;
		d.route_only = true;
		*ret = d;
		return 0;
	}
	if (n > DS_LINK_DOMAIN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c == '.') {
			if (label == 0 || text[i - 1] == '-')
				return -EINVAL;
			label = 0;
		} else if (!label_char(c) || (label == 0 && c == '-') || ++label > 63) {
			return -EINVAL;
		}
		d.name[i] = c;
	}
	if (text[n - 1] == '-')
		return -EINVAL;
	d.name[n] = '\0';
	d.route_only = route_only;
	*ret = d;
	return 0;
}

int ds_linkconf_add_domain(struct ds_linkconf *lc, const char *text)
{
	struct ds_link_domain d;

	if (ds_link_domain_parse(text, &d) < 0)
		return -EINVAL;
	for (int i = 0; i < lc->ndomains; i++)
		if (!strcmp(lc->domains[i].name, d.name)) {
			/* searched wins over route-only: a searched domain routes too */
			lc->domains[i].route_only = lc->domains[i].route_only && d.route_only;
			return 0;
		}
	if (lc->ndomains >= DS_LINK_MAX_DOMAINS)
		return -E2BIG;
	lc->domains[lc->ndomains++] = d;
	return 0;
}

/* ------------------------------------------------------------ resolvers */

/* "ADDR", "ADDR:PORT" (IPv4), "[ADDR]:PORT", "ADDR%IFACE" (IPv6
 * link-local), each optionally followed by "#SERVERNAME". */
int ds_link_dns_parse(const char *text, struct ds_link_dns *ret)
{
	char buf[DS_NETADDR_STRLEN + 8], *hash, *p = buf, *port = NULL, *pct;
	char scope[IF_NAMESIZE + 1] = "";
	struct ds_link_dns out;
	struct ds_netaddr a;
	unsigned long pn = 53;
	size_t n;

	memset(&out, 0, sizeof(out));
	hash = strchr(text, '#');
	n = hash ? (size_t)(hash - text) : strlen(text);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (hash) {
		struct ds_link_domain d;

		if (ds_link_domain_parse(hash + 1, &d) < 0 || d.route_only || !d.name[0])
			return -EINVAL;
		snprintf(out.server_name, sizeof(out.server_name), "%s", d.name);
	}
	/* a scope ("%IFACE" or networkd's "%IFINDEX"), inside the brackets
	 * or after the port: taken out, put back on an IPv6 address below */
	pct = strchr(buf, '%');
	if (pct) {
		size_t sl = strcspn(pct + 1, "]");

		if (sl == 0 || sl >= sizeof(scope))
			return -EINVAL;
		memcpy(scope, pct + 1, sl);
		scope[sl] = '\0';
		memmove(pct, pct + 1 + sl, strlen(pct + 1 + sl) + 1);
	}
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return -EINVAL;
		*close = '\0';
		p = buf + 1;
		if (close[1] == ':')
			port = close + 2;
	} else if (strchr(buf, '.') && strchr(buf, ':')) {
		port = strrchr(buf, ':'); /* IPv4 with a port */
		*port++ = '\0';
	}
	if (port) {
		char *end;

		if (!*port || *port < '0' || *port > '9')
			return -EINVAL;
		pn = strtoul(port, &end, 10);
		if (*end || pn == 0 || pn > 65535)
			return -EINVAL;
	}
	if (ds_netaddr_parse(p, &a) < 0)
		return -EINVAL;
	if (scope[0] && a.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a.u.v6)) {
		char scoped[DS_NETADDR_STRLEN + 8];

		if (snprintf(scoped, sizeof(scoped), "%s%%%s", p, scope) >= (int)sizeof(scoped) ||
		    ds_netaddr_parse(scoped, &a) < 0)
			return -EINVAL;
	}
	if (a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out.addr;

		if (a.u.v4.s_addr == htonl(INADDR_ANY))
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		sin->sin_addr = a.u.v4;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out.addr;

		if (IN6_IS_ADDR_UNSPECIFIED(&a.u.v6))
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		sin6->sin6_addr = a.u.v6;
		sin6->sin6_scope_id = a.scope;
	}
	*ret = out;
	return 0;
}

static bool dns_equal(const struct ds_link_dns *a, const struct ds_link_dns *b)
{
	if (a->addr.ss_family != b->addr.ss_family || strcmp(a->server_name, b->server_name))
		return false;
	if (a->addr.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->addr, *y = (const void *)&b->addr;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	{
		const struct sockaddr_in6 *x = (const void *)&a->addr, *y = (const void *)&b->addr;
		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
}

int ds_linkconf_add_dns(struct ds_linkconf *lc, const char *text)
{
	struct ds_link_dns d;

	if (ds_link_dns_parse(text, &d) < 0)
		return -EINVAL;
	ds_sockaddr_scope_to_link(&d.addr, (unsigned)lc->ifindex);
	for (int i = 0; i < lc->ndns; i++)
		if (dns_equal(&lc->dns[i], &d))
			return 0;
	if (lc->ndns >= DS_LINK_MAX_DNS)
		return -E2BIG;
	lc->dns[lc->ndns++] = d;
	return 0;
}

void ds_linkconf_from_resolvconf(const struct ds_resolvconf *rc, int ifindex,
				 struct ds_linkconf *ret)
{
	ds_linkconf_init(ret, ifindex, DS_LINKSRC_RESOLVCONF);
	for (size_t i = 0; i < rc->nres && ret->ndns < DS_LINK_MAX_DNS; i++) {
		struct ds_link_dns *d = &ret->dns[ret->ndns];

		memset(d, 0, sizeof(*d));
		if (rc->res[i].family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&d->addr;
			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			sin->sin_addr = rc->res[i].u.v4;
		} else if (rc->res[i].family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&d->addr;
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			sin6->sin6_addr = rc->res[i].u.v6;
			sin6->sin6_scope_id = rc->res[i].scope;
		} else {
			continue;
		}
		ret->ndns++;
	}
	/* the search list was validated as host names already */
	for (size_t i = 0; i < rc->nsearch; i++)
		(void)ds_linkconf_add_domain(ret, rc->search[i]);
}

bool ds_linkconf_equal(const struct ds_linkconf *a, const struct ds_linkconf *b)
{
	if (a->ifindex != b->ifindex || a->source != b->source || a->ndns != b->ndns ||
	    a->ndomains != b->ndomains || a->default_route != b->default_route ||
	    a->dot != b->dot || strcmp(a->ifname, b->ifname) || strcmp(a->dnssec, b->dnssec) ||
	    strcmp(a->llmnr, b->llmnr) || strcmp(a->mdns, b->mdns))
		return false;
	for (int i = 0; i < a->ndns; i++)
		if (!dns_equal(&a->dns[i], &b->dns[i]))
			return false;
	for (int i = 0; i < a->ndomains; i++)
		if (strcmp(a->domains[i].name, b->domains[i].name) ||
		    a->domains[i].route_only != b->domains[i].route_only)
			return false;
	return true;
}

/* ------------------------------------------------------------ the table */

struct ds_linktab *ds_linktab_new(void)
{
	return calloc(1, sizeof(struct ds_linktab));
}

static void entry_free(struct link_entry *e)
{
	for (int s = 0; s < DS_LINKSRC_COUNT; s++)
		free(e->conf[s]);
	free(e);
}

void ds_linktab_free(struct ds_linktab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		entry_free(t->link[i]);
	free(t);
}

/* The index of ifindex, or where it would go (*found false). */
static size_t find(const struct ds_linktab *t, int ifindex, bool *found)
{
	size_t i;

	for (i = 0; i < t->n && t->link[i]->ifindex < ifindex; i++)
		;
	*found = i < t->n && t->link[i]->ifindex == ifindex;
	return i;
}

static const struct ds_linkconf *effective(const struct link_entry *e)
{
	for (int s = DS_LINKSRC_COUNT - 1; s > DS_LINKSRC_NONE; s--)
		if (e->conf[s])
			return e->conf[s];
	return NULL;
}

static void remove_at(struct ds_linktab *t, size_t i)
{
	entry_free(t->link[i]);
	memmove(&t->link[i], &t->link[i + 1], (t->n - i - 1) * sizeof(t->link[0]));
	t->n--;
}

/* the highest source with a configuration, or DS_LINKSRC_NONE */
static int top_source(const struct link_entry *e)
{
	for (int s = DS_LINKSRC_COUNT - 1; s > DS_LINKSRC_NONE; s--)
		if (e->conf[s])
			return s;
	return DS_LINKSRC_NONE;
}

static bool valid(const struct ds_linkconf *lc)
{
	return lc->ifindex > 0 && lc->source > DS_LINKSRC_NONE && lc->source < DS_LINKSRC_COUNT &&
	       lc->ndns >= 0 && lc->ndns <= DS_LINK_MAX_DNS && lc->ndomains >= 0 &&
	       lc->ndomains <= DS_LINK_MAX_DOMAINS &&
	       memchr(lc->ifname, '\0', sizeof(lc->ifname)) != NULL;
}

int ds_linktab_set(struct ds_linktab *t, const struct ds_linkconf *lc)
{
	struct link_entry *e;
	struct ds_linkconf *c;
	bool found;
	size_t i;

	if (!valid(lc))
		return -EINVAL;
	i = find(t, lc->ifindex, &found);
	if (!found) {
		if (t->n >= DS_LINKTAB_MAX)
			return -E2BIG;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->ifindex = lc->ifindex;
		memmove(&t->link[i + 1], &t->link[i], (t->n - i) * sizeof(t->link[0]));
		t->link[i] = e;
		t->n++;
	}
	e = t->link[i];
	if (e->conf[lc->source] && ds_linkconf_equal(e->conf[lc->source], lc))
		return 0;
	c = e->conf[lc->source];
	if (!c && !(c = malloc(sizeof(*c)))) {
		if (!effective(e))
			remove_at(t, i);
		return -ENOMEM;
	}
	*c = *lc;
	e->conf[lc->source] = c;
	return effective(e) == c ? 1 : 0;
}

int ds_linktab_revert(struct ds_linktab *t, int ifindex, enum ds_link_source src)
{
	struct link_entry *e;
	bool found, was_effective;
	size_t i;

	if ((unsigned)src >= DS_LINKSRC_COUNT || src == DS_LINKSRC_NONE)
		return -EINVAL;
	i = find(t, ifindex, &found);
	if (!found || !t->link[i]->conf[src])
		return 0;
	e = t->link[i];
	was_effective = top_source(e) == (int)src;
	free(e->conf[src]);
	e->conf[src] = NULL;
	if (!effective(e))
		remove_at(t, i);
	return was_effective ? 1 : 0;
}

int ds_linktab_flush(struct ds_linktab *t, enum ds_link_source src)
{
	int changed = 0;

	if ((unsigned)src >= DS_LINKSRC_COUNT)
		return -EINVAL;
	for (size_t i = t->n; i-- > 0;) {
		struct link_entry *e = t->link[i];
		int before = top_source(e);

		for (int s = DS_LINKSRC_NONE + 1; s < DS_LINKSRC_COUNT; s++) {
			if (src != DS_LINKSRC_NONE && s != (int)src)
				continue;
			free(e->conf[s]);
			e->conf[s] = NULL;
		}
		if (top_source(e) != before)
			changed++;
		if (!effective(e))
			remove_at(t, i);
	}
	return changed;
}

const struct ds_linkconf *ds_linktab_get(const struct ds_linktab *t, int ifindex)
{
	bool found;
	size_t i = find(t, ifindex, &found);

	return found ? effective(t->link[i]) : NULL;
}

const struct ds_linkconf *ds_linktab_get_source(const struct ds_linktab *t, int ifindex,
						enum ds_link_source src)
{
	bool found;
	size_t i;

	if ((unsigned)src >= DS_LINKSRC_COUNT)
		return NULL;
	if (src == DS_LINKSRC_NONE)
		return ds_linktab_get(t, ifindex);
	i = find(t, ifindex, &found);
	return found ? t->link[i]->conf[src] : NULL;
}

unsigned ds_linktab_sources(const struct ds_linktab *t, int ifindex)
{
	bool found;
	size_t i = find(t, ifindex, &found);
	unsigned m = 0;

	for (int s = 1; found && s < DS_LINKSRC_COUNT; s++)
		if (t->link[i]->conf[s])
			m |= 1u << s;
	return m;
}

size_t ds_linktab_count(const struct ds_linktab *t)
{
	return t ? t->n : 0;
}

const struct ds_linkconf *ds_linktab_at(const struct ds_linktab *t, size_t i)
{
	return t && i < t->n ? effective(t->link[i]) : NULL;
}
