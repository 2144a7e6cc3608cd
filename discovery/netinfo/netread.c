/*
 * netread.c -- reading the network fingerprint from the kernel with
 * libnl-route-3 (include/dotstub/netinfo.h, discovery/netinfo/nlread.h).
 *
 * Every link and neighbour, whether from a dump or from a single event
 * message, goes through link_obj_read / neigh_obj_read, so what a
 * hand-built test message exercises is what the daemon runs.
 */
#include "nlread.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "dotstub/log.h"

#define USABLE_NUD (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

int nlr_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_DUMP_INTR:
		return -EAGAIN; /* the dump raced with a change: read again */
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_INVAL:
	case NLE_RANGE:
	case NLE_MSGSIZE:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_TRUNC:
	case NLE_MSG_OVERFLOW:
	case NLE_PARSE_ERR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int nlr_socket_new(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	nl_socket_disable_auto_ack(sk);
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		r = nlr_errno(r);
		return r < 0 ? r : -EIO;	/* a failure is never 0 */
	}
	*ret = sk;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Objects */

static int nladdr_to_netaddr(struct nl_addr *na, struct ds_netaddr *ret)
{
	struct ds_netaddr a = { 0 };
	int family;
	size_t want;

	if (!na)
		return -EINVAL;
	family = nl_addr_get_family(na);
	want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	if (want == 0 || nl_addr_get_len(na) != want)
		return -EINVAL;
	a.family = family;
	memcpy(a.u.b, nl_addr_get_binary_addr(na), want);
	*ret = a;
	return 0;
}

/* A 6-octet, not all-zero link-layer address. */
static bool nladdr_to_mac(struct nl_addr *na, uint8_t mac[DS_ETH_ALEN])
{
	static const uint8_t zero[DS_ETH_ALEN];

	if (!na || nl_addr_get_len(na) != DS_ETH_ALEN ||
	    memcmp(nl_addr_get_binary_addr(na), zero, DS_ETH_ALEN) == 0)
		return false;
	memcpy(mac, nl_addr_get_binary_addr(na), DS_ETH_ALEN);
	return true;
}

/* The one function that reads a link object.  Only for objects parsed
 * from messages that passed link_msg_check (see nlr_link_from_msg).
 * Returns 0 or -EINVAL (an impossible VLAN id). */
static int link_obj_read(struct rtnl_link *l, struct ds_net_link *ret)
{
	struct ds_net_link k = { 0 };
	const char *name = rtnl_link_get_name(l);
	unsigned flags = rtnl_link_get_flags(l);
	int vlan;

	k.ifindex = rtnl_link_get_ifindex(l);
	if (k.ifindex <= 0)
		return -EINVAL;
	if (name && strnlen(name, IF_NAMESIZE) < IF_NAMESIZE)
		memcpy(k.name, name, strlen(name) + 1);
	k.has_mac = nladdr_to_mac(rtnl_link_get_addr(l), k.mac);
	k.vlan = -1;
	if (rtnl_link_is_vlan(l)) {
		vlan = rtnl_link_vlan_get_id(l);
		if (vlan < 0 || vlan > 4095)
			return -EINVAL;
		k.vlan = vlan;
	}
	k.up = flags & IFF_UP;
	k.loopback = flags & IFF_LOOPBACK;
	k.running = flags & IFF_RUNNING;
	k.has_carrier_changes = rtnl_link_get_carrier_changes(l, &k.carrier_changes) == 0;
	*ret = k;
	return 0;
}

/* The one function that reads a neighbour object (dump or event). */
static int neigh_obj_read(struct rtnl_neigh *n, struct nlr_neigh *ret)
{
	struct nlr_neigh nb = { 0 };
	int r;

	nb.ifindex = rtnl_neigh_get_ifindex(n);
	r = nladdr_to_netaddr(rtnl_neigh_get_dst(n), &nb.dst);
	if (r < 0 || nb.ifindex <= 0)
		return -EINVAL;
	nb.state = rtnl_neigh_get_state(n);
	if (nb.state < 0)
		nb.state = 0;
	nb.usable = (nb.state & USABLE_NUD) && nladdr_to_mac(rtnl_neigh_get_lladdr(n), nb.mac);
	*ret = nb;
	return 0;
}

/* Parse msg into one object of the wanted type ("route/link"...). */
struct parse_ctx {
	const char *type;
	struct nl_object *obj;
};

static void parse_cb(struct nl_object *obj, void *arg)
{
	struct parse_ctx *c = arg;

	if (c->obj || strcmp(nl_object_get_type(obj), c->type) != 0)
		return;
	nl_object_get(obj);
	c->obj = obj;
}

static int msg_parse(struct nl_msg *msg, const char *type, struct nl_object **ret)
{
	struct parse_ctx c = { .type = type };
	int r;

	r = nl_msg_parse(msg, parse_cb, &c);
	if (r < 0) {
		if (c.obj)
			nl_object_put(c.obj);
		/* whatever libnl disliked, the message was not usable */
		return r == -NLE_NOMEM ? -ENOMEM : -EINVAL;
	}
	if (!c.obj)
		return -EINVAL;
	*ret = c.obj;
	return 0;
}

/* The last attribute of the given type in a nested attribute (nla_parse
 * keeps the last one, nla_find would return the first). */
static struct nlattr *nested_last(struct nlattr *nest, int type)
{
	struct nlattr *a, *last = NULL;
	int rem;

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == type)
			last = a;
	return last;
}

/* libnl 3.7 takes a link of kind "vlan" for a VLAN even when the message
 * has no IFLA_INFO_DATA, and rtnl_link_vlan_get_id() then dereferences a
 * NULL pointer (found by the corruption test).  Refuse such messages
 * before libnl parses them: every IFLA_LINKINFO of kind "vlan" must carry
 * IFLA_INFO_DATA with an IFLA_VLAN_ID. */
static int link_msg_check(struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *a, *kind, *data;
	int rem;

	if (!nlmsg_valid_hdr(h, sizeof(struct ifinfomsg)))
		return -EINVAL;
	nlmsg_for_each_attr(a, h, sizeof(struct ifinfomsg), rem) {
		if (nla_type(a) != IFLA_LINKINFO)
			continue;
		kind = nested_last(a, IFLA_INFO_KIND);
		/* as libnl reads it: a C string, up to the first NUL */
		if (!kind || nla_len(kind) < 5 || memcmp(nla_data(kind), "vlan", 5) != 0)
			continue;
		data = nested_last(a, IFLA_INFO_DATA);
		if (!data || !nested_last(data, IFLA_VLAN_ID))
			return -EINVAL;
	}
	return 0;
}

int nlr_link_from_msg(struct nl_msg *msg, struct ds_net_link *ret)
{
	struct nl_object *o;
	int r;

	r = link_msg_check(msg);
	if (r < 0)
		return r;
	r = msg_parse(msg, "route/link", &o);
	if (r < 0)
		return r;
	r = link_obj_read((struct rtnl_link *)o, ret);
	nl_object_put(o);
	return r;
}

int nlr_neigh_from_msg(struct nl_msg *msg, struct nlr_neigh *ret)
{
	struct nl_object *o;
	int r;

	r = msg_parse(msg, "route/neigh", &o);
	if (r < 0)
		return r;
	r = neigh_obj_read((struct rtnl_neigh *)o, ret);
	nl_object_put(o);
	return r;
}

int nlr_route_table_from_msg(struct nl_msg *msg, unsigned *ret)
{
	struct nl_object *o;
	int r;

	r = msg_parse(msg, "route/route", &o);
	if (r < 0)
		return r;
	*ret = rtnl_route_get_table((struct rtnl_route *)o);
	nl_object_put(o);
	return 0;
}

int ds_net_link_parse(const void *buf, size_t len, struct ds_net_link *ret)
{
	struct nlmsghdr h;
	struct nl_msg *msg;
	int r;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h)); /* buf need not be aligned */
	if (h.nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || h.nlmsg_len > len ||
	    (h.nlmsg_type != RTM_NEWLINK && h.nlmsg_type != RTM_DELLINK))
		return -EINVAL;
	/* copied into a message of its own, nlmsg_len bytes (checked above):
	 * not with nlmsg_convert, which reads the header in place, a bus error
	 * on a CPU that traps unaligned loads (MIPS) */
	msg = nlmsg_alloc_size(NLMSG_ALIGN(h.nlmsg_len));
	if (!msg)
		return -ENOMEM;
	memcpy(nlmsg_hdr(msg), buf, h.nlmsg_len);
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	r = nlr_link_from_msg(msg, ret);
	nlmsg_free(msg);
	return r;
}

/* ------------------------------------------------------------------ */
/* Route choice */

/* A candidate route of one family. */
struct pick {
	bool found;
	uint32_t prio;
	int ifindex;
	struct ds_netaddr gw; /* family 0: none */
};

static int af_index(int family)
{
	return family == AF_INET ? DS_NETFP_V4 : family == AF_INET6 ? DS_NETFP_V6 : -1;
}

/* The links of one dump.  Read with our own RTM_GETLINK dump rather than
 * rtnl_link_alloc_cache, so that every link goes through
 * nlr_link_from_msg (and its check) exactly as an event does. */
#define NLR_MAX_LINKS 4096

struct link_table {
	struct ds_net_link *v;
	size_t n, cap;
	int err;
};

/* A private copy of the socket's callbacks (nl_socket_get_cb takes a
 * reference that must be dropped). */
static struct nl_cb *sock_cb_clone(struct nl_sock *sk)
{
	struct nl_cb *orig = nl_socket_get_cb(sk), *cb;

	if (!orig)
		return NULL;
	cb = nl_cb_clone(orig);
	nl_cb_put(orig);
	return cb;
}

static int dump_link_valid(struct nl_msg *msg, void *arg)
{
	struct link_table *t = arg;
	struct ds_net_link k, *nv;
	size_t ncap;

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWLINK || nlr_link_from_msg(msg, &k) < 0)
		return NL_SKIP;
	if (t->n == t->cap) {
		if (t->cap == NLR_MAX_LINKS)
			return NL_SKIP;
		ncap = t->cap ? t->cap * 2 : 32;
		nv = reallocarray(t->v, ncap, sizeof(*nv));
		if (!nv) {
			t->err = -ENOMEM;
			return NL_SKIP;
		}
		t->v = nv;
		t->cap = ncap;
	}
	t->v[t->n++] = k;
	return NL_OK;
}

static int links_dump(struct nl_sock *sk, struct link_table *t)
{
	struct nl_cb *cb;
	int r;

	memset(t, 0, sizeof(*t));
	cb = sock_cb_clone(sk);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_link_valid, t);
	r = nl_rtgen_request(sk, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP);
	if (r >= 0)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	r = r < 0 ? nlr_errno(r) : t->err;
	if (r < 0) {
		free(t->v);
		t->v = NULL;
	}
	return r;
}

static const struct ds_net_link *link_find(const struct link_table *t, int ifindex)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].ifindex == ifindex)
			return &t->v[i];
	return NULL;
}

static bool link_operational(const struct link_table *t, int ifindex)
{
	const struct ds_net_link *k = link_find(t, ifindex);

	return k && k->up && k->running && !k->loopback;
}

/* The first live next hop of r: its interface and gateway (of the
 * route's own family; an RFC 5549 IPv6 next hop of an IPv4 route is
 * skipped).  Returns 0 or -ENOENT. */
static int route_nexthop(struct rtnl_route *r, const struct link_table *links, struct pick *ret)
{
	int i, n = rtnl_route_get_nnexthops(r), family = rtnl_route_get_family(r);
	struct rtnl_nexthop *nh;
	struct nl_addr *gwa;
	struct pick p;

	for (i = 0; i < n; i++) {
		nh = rtnl_route_nexthop_n(r, i);
		if (!nh || (rtnl_route_nh_get_flags(nh) & (RTNH_F_DEAD | RTNH_F_LINKDOWN)))
			continue;
		memset(&p, 0, sizeof(p));
		p.ifindex = rtnl_route_nh_get_ifindex(nh);
		if (p.ifindex <= 0 || (links && !link_operational(links, p.ifindex)))
			continue;
		gwa = rtnl_route_nh_get_gateway(nh);
		if (gwa && (nladdr_to_netaddr(gwa, &p.gw) < 0 || p.gw.family != family))
			continue;
		if (p.gw.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&p.gw.u.v6))
			p.gw.scope = (uint32_t)p.ifindex;
		p.found = true;
		p.prio = rtnl_route_get_priority(r);
		*ret = p;
		return 0;
	}
	return -ENOENT;
}

struct default_ctx {
	const struct link_table *links;
	struct pick best[DS_NETFP_NAF];
};

static void consider_default(struct nl_object *o, void *arg)
{
	struct default_ctx *c = arg;
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	int ai = af_index(rtnl_route_get_family(r));
	struct pick p, *b;

	if (ai < 0 || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST || (dst && nl_addr_get_prefixlen(dst) != 0))
		return;
	if (route_nexthop(r, c->links, &p) < 0)
		return;
	b = &c->best[ai];
	if (!b->found || p.prio < b->prio || (p.prio == b->prio && p.ifindex < b->ifindex))
		*b = p;
}

struct lookup_ctx {
	const struct link_table *links;
	struct pick p;
	bool done;
};

static int lookup_valid(struct nl_msg *msg, void *arg)
{
	struct lookup_ctx *c = arg;
	struct nl_object *o;

	if (c->done || nlmsg_hdr(msg)->nlmsg_type != RTM_NEWROUTE ||
	    msg_parse(msg, "route/route", &o) < 0)
		return NL_SKIP;
	c->done = true;
	if (rtnl_route_get_type((struct rtnl_route *)o) == RTN_UNICAST)
		route_nexthop((struct rtnl_route *)o, c->links, &c->p);
	nl_object_put(o);
	return NL_STOP;
}

/* Ask the kernel for its route to dst (RTM_GETROUTE, like "ip route get").
 * Returns 0 with ret->found possibly false, or a negative errno. */
static int route_lookup(struct nl_sock *sk, const struct link_table *links, const struct ds_netaddr *dst,
			struct pick *ret)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)dst->family };
	size_t alen = dst->family == AF_INET ? 4 : 16;
	struct lookup_ctx c = { .links = links };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int r;

	rtm.rtm_dst_len = (unsigned char)(alen * 8);
	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	cb = sock_cb_clone(sk);
	if (!msg || !cb) {
		r = -ENOMEM;
		goto out;
	}
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, (int)alen, dst->u.b) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = nl_send_auto(sk, msg);
	if (r < 0) {
		r = nlr_errno(r);
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, lookup_valid, &c);
	/* no route (-ENETUNREACH and friends) is an answer, not a failure */
	(void)nl_recvmsgs(sk, cb);
	r = 0;
	*ret = c.p;
out:
	nlmsg_free(msg);
	nl_cb_put(cb);
	return r;
}

/* The resolver whose route matters for this family: the first in the
 * caller's order that is neither loopback nor link-local. */
static const struct ds_netaddr *steering_resolver(const struct ds_netaddr *res, size_t n, int family)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (res[i].family != family)
			continue;
		if (family == AF_INET && (ntohl(res[i].u.v4.s_addr) >> 24) == 127)
			continue;
		if (family == AF_INET6 && (IN6_IS_ADDR_LOOPBACK(&res[i].u.v6) ||
					   IN6_IS_ADDR_LINKLOCAL(&res[i].u.v6) ||
					   IN6_IS_ADDR_V4MAPPED(&res[i].u.v6)))
			continue;
		return &res[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The snapshot */

/* Interface names go into the textual form: map what it cannot carry
 * (the kernel allows '=', ',', non-ASCII; "-" means absent) to '_'. */
static void ifname_sanitize(const char *in, char out[IF_NAMESIZE])
{
	size_t i;

	for (i = 0; i < IF_NAMESIZE - 1 && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c <= ' ' || c > '~' || c == '=' || c == ',' || c == '/' || c == ':') ? '_' : (char)c;
	}
	out[i] = '\0';
	if (i == 0 || strcmp(out, "-") == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, IF_NAMESIZE, "_");
}

struct neigh_ctx {
	const struct nlr_gw *want;
	struct nlr_neigh found;
	bool hit;
};

static void find_neigh(struct nl_object *o, void *arg)
{
	struct neigh_ctx *c = arg;
	struct nlr_neigh nb;

	if (c->hit || neigh_obj_read((struct rtnl_neigh *)o, &nb) < 0)
		return;
	if (nb.ifindex == c->want->ifindex && ds_netaddr_cmp(&nb.dst, &c->want->gw) == 0) {
		c->found = nb;
		c->hit = true;
	}
}

/* Fill family ai of s from the chosen route p. */
static void fill_af(struct nlr_snapshot *s, int ai, const struct pick *p,
		    const struct link_table *links, struct nl_cache *neighs)
{
	struct ds_netfp_af *af = &s->fp.af[ai];
	const struct ds_net_link *lk = link_find(links, p->ifindex);
	struct neigh_ctx nc = { 0 };
	struct ds_net_link k;

	if (!lk)
		return;
	k = *lk;
	af->route = true;
	af->ifindex = k.ifindex;
	ifname_sanitize(k.name, af->ifname);
	af->has_ifmac = k.has_mac;
	memcpy(af->ifmac, k.mac, DS_ETH_ALEN);
	af->vlan = k.vlan;
	s->link[ai] = k;
	if (!p->gw.family)
		return;
	af->gw = p->gw;
	af->gw.scope = 0;
	s->pending[s->npending].ifindex = p->ifindex;
	s->pending[s->npending].gw = p->gw;
	nc.want = &s->pending[s->npending];
	nl_cache_foreach(neighs, find_neigh, &nc);
	if (nc.hit && nc.found.usable) {
		af->has_gwmac = true;
		memcpy(af->gwmac, nc.found.mac, DS_ETH_ALEN);
	} else {
		s->npending++;
	}
}

bool nlr_snapshot_resolve(struct nlr_snapshot *s, const struct nlr_neigh *nb)
{
	size_t i;
	int ai;

	if (!nb->usable)
		return false;
	for (i = 0; i < s->npending; i++) {
		if (s->pending[i].ifindex != nb->ifindex ||
		    ds_netaddr_cmp(&s->pending[i].gw, &nb->dst) != 0)
			continue;
		ai = af_index(nb->dst.family);
		s->fp.af[ai].has_gwmac = true;
		memcpy(s->fp.af[ai].gwmac, nb->mac, DS_ETH_ALEN);
		s->pending[i] = s->pending[--s->npending];
		return true;
	}
	return false;
}

int nlr_read(struct nl_sock *sk, const struct ds_netaddr *res, size_t n, struct nlr_snapshot *ret,
	     struct ds_net_link **ret_links, size_t *ret_nlinks)
{
	struct link_table links = { 0 };
	struct nl_cache *routes = NULL, *neighs = NULL;
	struct default_ctx dc = { 0 };
	const struct ds_netaddr *steer;
	struct nlr_snapshot s;
	struct pick rp;
	int r, ai;

	memset(&s, 0, sizeof(s));
	ds_netfp_init(&s.fp);
	r = ds_netfp_set_resolvers(&s.fp, res, n);
	if (r < 0)
		return r;
	r = links_dump(sk, &links);
	if (r < 0)
		return r;
	if ((r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0 ||
	    (r = rtnl_neigh_alloc_cache(sk, &neighs)) < 0) {
		r = nlr_errno(r);
		goto out;
	}
	dc.links = &links;
	nl_cache_foreach(routes, consider_default, &dc);
	for (ai = 0; ai < DS_NETFP_NAF; ai++) {
		steer = steering_resolver(res, n, ai == DS_NETFP_V4 ? AF_INET : AF_INET6);
		memset(&rp, 0, sizeof(rp));
		if (steer && route_lookup(sk, &links, steer, &rp) == 0 && rp.found &&
		    (!dc.best[ai].found || rp.ifindex != dc.best[ai].ifindex)) {
			log_debug("netinfo: route to the resolver leaves by ifindex %d, not %d",
				  rp.ifindex, dc.best[ai].ifindex);
			dc.best[ai] = rp;
		}
		if (dc.best[ai].found)
			fill_af(&s, ai, &dc.best[ai], &links, neighs);
	}
	*ret = s;
	if (ret_links) {
		*ret_links = links.v;
		*ret_nlinks = links.n;
		links.v = NULL;
	}
	r = 0;
out:
	if (neighs)
		nl_cache_free(neighs);
	if (routes)
		nl_cache_free(routes);
	free(links.v);
	return r;
}

/* ------------------------------------------------------------------ */
/* Interface addresses */

struct ifaddr_ctx {
	struct ds_net_ifaddr *out;
	size_t cap, n;
};

static void ifaddr_obj_read(struct nl_object *o, void *arg)
{
	struct ifaddr_ctx *c = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct ds_net_ifaddr ia = { 0 };
	unsigned bits;

	ia.ifindex = rtnl_addr_get_ifindex(a);
	if (c->n >= c->cap || ia.ifindex <= 0 ||
	    nladdr_to_netaddr(rtnl_addr_get_local(a), &ia.addr) < 0)
		return;
	bits = ia.addr.family == AF_INET ? 32 : 128;
	ia.prefixlen = (unsigned)rtnl_addr_get_prefixlen(a);
	if (ia.prefixlen > bits)
		return;
	if (ia.addr.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&ia.addr.u.v6))
		ia.addr.scope = (uint32_t)ia.ifindex;
	c->out[c->n++] = ia;
}

int nlr_ifaddrs(struct nl_sock *sk, struct ds_net_ifaddr *out, size_t cap)
{
	struct ifaddr_ctx c = { .out = out, .cap = cap };
	struct nl_cache *addrs;
	int r;

	r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0)
		return nlr_errno(r);
	nl_cache_foreach(addrs, ifaddr_obj_read, &c);
	nl_cache_free(addrs);
	return (int)c.n;
}

int ds_net_ifaddrs_read(struct ds_net_ifaddr *out, size_t cap)
{
	struct nl_sock *sk;
	int r;

	r = nlr_socket_new(&sk);
	if (r < 0)
		return r;
	r = nlr_ifaddrs(sk, out, cap);
	nl_socket_free(sk);
	return r;
}

int nlr_provoke(const struct nlr_gw *g)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	uint32_t idx4 = htonl((uint32_t)g->ifindex);
	int idx6 = g->ifindex;
	int fd, r = 0;

	fd = socket(g->gw.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (g->gw.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(9);
		s4->sin_addr = g->gw.u.v4;
		sl = sizeof(*s4);
		/* best effort: leave by the route's interface */
		(void)setsockopt(fd, IPPROTO_IP, IP_UNICAST_IF, &idx4, sizeof(idx4));
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(9);
		s6->sin6_addr = g->gw.u.v6;
		if (IN6_IS_ADDR_LINKLOCAL(&g->gw.u.v6))
			s6->sin6_scope_id = (uint32_t)g->ifindex;
		sl = sizeof(*s6);
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_IF, &idx6, sizeof(idx6));
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    send(fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* The synchronous read */

struct wait_ctx {
	struct nlr_snapshot *s;
};

static int wait_valid(struct nl_msg *msg, void *arg)
{
	struct wait_ctx *c = arg;
	struct nlr_neigh nb;

	if (nlmsg_get_src(msg)->nl_pid != 0 || nlmsg_hdr(msg)->nlmsg_type != RTM_NEWNEIGH)
		return NL_SKIP;
	if (nlr_neigh_from_msg(msg, &nb) == 0 && nlr_snapshot_resolve(c->s, &nb))
		log_debug("netinfo: gateway MAC resolved");
	return NL_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until every pending gateway of s is resolved or wait_ms passed. */
static void wait_neigh(struct nl_sock *ev, struct nlr_snapshot *s, unsigned wait_ms)
{
	struct wait_ctx c = { .s = s };
	int64_t end = now_ms() + wait_ms, left;
	struct pollfd pfd = { .fd = nl_socket_get_fd(ev), .events = POLLIN };
	int r;

	nl_socket_modify_cb(ev, NL_CB_VALID, NL_CB_CUSTOM, wait_valid, &c);
	while (s->npending > 0 && (left = end - now_ms()) > 0) {
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		r = nl_recvmsgs_default(ev);
		if (r < 0 && r != -NLE_AGAIN && r != -NLE_INTR && r != -NLE_NOMEM)
			break;
	}
}

int ds_netfp_read(const struct ds_netaddr *res, size_t n, unsigned wait_ms, struct ds_netfp *ret)
{
	struct nl_sock *sk = NULL, *ev = NULL;
	struct nlr_snapshot s;
	size_t i;
	int r;

	r = nlr_socket_new(&sk);
	if (r < 0)
		return r;
	if (wait_ms > 0) {
		/* subscribe before reading, so no NEWNEIGH is missed */
		r = nlr_socket_new(&ev);
		if (r == 0) {
			nl_socket_disable_seq_check(ev);
			r = nlr_errno(nl_socket_add_membership(ev, RTNLGRP_NEIGH));
		}
		if (r == 0)
			r = nlr_errno(nl_socket_set_nonblocking(ev));
		if (r < 0)
			goto out;
	}
	r = nlr_read(sk, res, n, &s, NULL, NULL);
	if (r < 0)
		goto out;
	if (wait_ms > 0 && s.npending > 0) {
		for (i = 0; i < s.npending; i++)
			(void)nlr_provoke(&s.pending[i]);
		wait_neigh(ev, &s, wait_ms);
	}
	*ret = s.fp;
out:
	if (ev)
		nl_socket_free(ev);
	nl_socket_free(sk);
	return r;
}
