/*
 * access.c -- who may query the listeners (access-control, dotstub/acl.h,
 * with Unbound's meaning).
 *
 * With access-control lines, the table is those lines, plus 127.0.0.0/8
 * and ::1 allowed unless a line names that very netmask (as Unbound).
 * Without any, it is loopback plus the directly connected prefixes of the
 * interfaces that hold the listen and serve-dot addresses (of every
 * interface for a wildcard address), read over netlink and read again
 * whenever the addresses change (the network manager's watcher, or one of
 * our own with a static upstream).  Everyone else is refused.
 *
 * The listeners ask ds_access_match for every UDP query and every TCP
 * connection of a listener that needs it: a listener on a loopback address
 * with the default needs none (only this host reaches it).
 */
#include "daemon.h"
#include "status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"
#include "dotstub/netinfo.h"

struct ds_access {
	struct ds_daemon *d;
	struct ds_acl table;
	bool configured;          /* access-control lines given */
	bool follow;              /* the default, with a listener off loopback:
				     the table follows the addresses */
	struct ds_netwatch *nw;   /* the watcher observed (NULL: none) */
	struct ds_netwatch *own_nw; /* ours, when the network manager has none */
	uint64_t refused, denied;
};

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static bool addr_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* 127.0.0.0/8 and ::1 allowed, unless t names that netmask already. */
static void add_loopback(struct ds_acl *t)
{
	static const uint8_t v4[4] = { 127, 0, 0, 0 }, v6[16] = { [15] = 1 };
	struct ds_acl_rule r;

	if (ds_acl_rule_make(AF_INET, v4, 8, DS_ACL_ALLOW, &r) == 0)
		(void)ds_acl_add(t, &r);
	if (ds_acl_rule_make(AF_INET6, v6, 128, DS_ACL_ALLOW, &r) == 0)
		(void)ds_acl_add(t, &r);
}

/* The listen addresses, then the DoT server's: the i-th of them, or NULL
 * past the last. */
static const struct sockaddr_storage *served_addr(const struct ds_config *cfg, int i)
{
	if (i < cfg->nlisten)
		return &cfg->listen[i];
	i -= cfg->nlisten;
	return i < cfg->dot.naddr ? &cfg->dot.addr[i] : NULL;
}

/* Does the interface ifindex hold a listen or serve-dot address (or is
 * there a wildcard one)? */
static bool listened_on(const struct ds_config *cfg, const struct ds_net_ifaddr *ia, size_t n,
			int ifindex)
{
	const struct sockaddr_storage *ss;

	for (int l = 0; (ss = served_addr(cfg, l)) != NULL; l++) {
		struct ds_netaddr la;

		if (addr_is_wildcard(ss))
			return true;
		if (addr_is_loopback(ss) ||
		    ds_netaddr_from_sockaddr((const struct sockaddr *)ss, sizeof(*ss), &la) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (ia[i].ifindex == ifindex && ds_netaddr_cmp(&ia[i].addr, &la) == 0)
				return true;
	}
	return false;
}

/* The default table from the interfaces' addresses. */
static void build_default(const struct ds_config *cfg, const struct ds_net_ifaddr *ia, size_t n,
			  struct ds_acl *t)
{
	struct ds_acl_rule r;

	ds_acl_init(t);
	add_loopback(t);
	for (size_t i = 0; i < n; i++) {
		if (!listened_on(cfg, ia, n, ia[i].ifindex) ||
		    ds_acl_rule_make(ia[i].addr.family, ia[i].addr.u.b, ia[i].prefixlen,
				     DS_ACL_ALLOW, &r) < 0)
			continue;
		(void)ds_acl_add(t, &r); /* a prefix twice; a full table keeps the first */
	}
}

/* The table as one line for the log (cut at its end with "..."). */
static void table_text(const struct ds_acl *t, char *out, size_t outlen)
{
	char rule[DS_ACL_RULE_STRLEN];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		int k = snprintf(out + len, outlen - len, "%s%s", i ? ", " : "",
				 ds_acl_rule_format(&t->rule[i], rule, sizeof(rule)));

		if (k < 0 || (size_t)k >= outlen - len) {
			snprintf(out + (outlen > 4 ? outlen - 4 : 0), outlen > 4 ? 4 : outlen, "...");
			return;
		}
		len += (size_t)k;
	}
}

static void log_default(const struct ds_access *a)
{
	char text[1024];

	table_text(&a->table, text, sizeof(text));
	log_notice("access-control: none configured: allowing by default loopback and the "
		   "listeners' directly connected prefixes: %s; others are refused",
		   text);
}

static void on_addrs(struct ds_netwatch *w, const struct ds_net_ifaddr *ia, size_t n, void *arg)
{
	struct ds_access *a = arg;
	struct ds_acl t;

	build_default(a->d->cfg, ia, n, &t);
	if (ds_acl_equal(&t, &a->table))
		return;
	a->table = t;
	log_default(a);
}

/* The default, read now (before the first query is taken). */
static void open_default(struct ds_access *a)
{
	const struct ds_config *cfg = a->d->cfg;
	struct ds_net_ifaddr *ia;
	int n;

	ds_acl_init(&a->table);
	add_loopback(&a->table);
	for (int l = 0; served_addr(cfg, l) != NULL; l++)
		a->follow |= !addr_is_loopback(served_addr(cfg, l));
	if (!a->follow) {
		log_info("access-control: none configured: loopback listeners, loopback allowed");
		return;
	}
	ia = calloc(DS_NET_MAX_IFADDRS, sizeof(*ia));
	n = ia ? ds_net_ifaddrs_read(ia, DS_NET_MAX_IFADDRS) : -ENOMEM;
	if (n < 0)
		log_warn("access-control: cannot read the interfaces' addresses (%s): only "
			 "loopback is allowed until they can be read",
			 strerror(-n));
	else
		build_default(cfg, ia, (size_t)n, &a->table);
	free(ia);
	log_default(a);
}

static void open_configured(struct ds_access *a)
{
	const struct ds_config *cfg = a->d->cfg;
	char text[1024];

	ds_acl_init(&a->table);
	for (int i = 0; i < cfg->naccess_control; i++)
		(void)ds_acl_add(&a->table, &cfg->access_control[i]); /* checked by config */
	add_loopback(&a->table);
	table_text(&a->table, text, sizeof(text));
	log_notice("access-control: %s; others are refused", text);
}

int ds_access_open(struct ds_daemon *d)
{
	struct ds_access *a = calloc(1, sizeof(*a));

	if (!a) {
		log_err("access-control: out of memory");
		return -ENOMEM;
	}
	a->d = d;
	a->configured = d->cfg->naccess_control > 0;
	if (a->configured)
		open_configured(a);
	else
		open_default(a);
	d->access = a;
	return 0;
}

void ds_access_watch(struct ds_daemon *d)
{
	struct ds_access *a = d->access;
	struct ds_netwatch_opts o = { .addrs_only = true };
	int r;

	if (!a || !a->follow || a->nw)
		return;
	a->nw = ds_netmgr_netwatch(d);
	if (!a->nw) {
		r = ds_netwatch_new(d->base, &o, NULL, NULL, &a->own_nw);
		if (r < 0) {
			log_warn("access-control: netlink: %s; address changes are not followed",
				 strerror(-r));
			return;
		}
		a->nw = a->own_nw;
	}
	ds_netwatch_set_addr_cb(a->nw, on_addrs, a);
}

void ds_access_close(struct ds_daemon *d)
{
	struct ds_access *a = d->access;

	if (!a)
		return;
	if (a->nw && a->nw != a->own_nw)
		ds_netwatch_set_addr_cb(a->nw, NULL, NULL);
	ds_netwatch_free(a->own_nw);
	free(a);
	d->access = NULL;
}

bool ds_access_needed(const struct ds_daemon *d, const struct sockaddr_storage *listen)
{
	return !addr_is_loopback(listen) || (d->access && d->access->configured);
}

/* Without a table (it could not be made) only loopback clients are
 * served: never an open resolver by accident. */
enum ds_acl_action ds_access_match(const struct ds_daemon *d, const struct sockaddr_storage *peer)
{
	if (!d->access)
		return addr_is_loopback(peer) ? DS_ACL_ALLOW : DS_ACL_REFUSE;
	return ds_acl_match(&d->access->table, peer);
}

void ds_access_get_counts(const struct ds_daemon *d, struct ds_access_counts *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (d->access) {
		ret->refused = d->access->refused;
		ret->denied = d->access->denied;
	}
}

void ds_access_set_counts(struct ds_daemon *d, const struct ds_access_counts *c)
{
	if (d->access) {
		d->access->refused = c->refused;
		d->access->denied = c->denied;
	}
}

void ds_access_count(struct ds_daemon *d, enum ds_acl_action action)
{
	if (!d->access)
		return;
	if (action == DS_ACL_REFUSE)
		d->access->refused++;
	else if (action == DS_ACL_DENY)
		d->access->denied++;
}

void ds_access_get_status(const struct ds_daemon *d, struct ds_access_status *st)
{
	const struct ds_access *a = d->access;

	memset(st, 0, sizeof(*st));
	if (!a)
		return;
	st->active = true;
	st->configured = a->configured;
	st->table = a->table;
	st->refused = a->refused;
	st->denied = a->denied;
}
