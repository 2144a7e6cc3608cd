/*
 * netwatch.c -- the network change watcher (include/dotstub/netinfo.h).
 *
 * Netlink events are hints.  A relevant one opens a debounce window; when
 * it closes, everything is read again (nlr_read) and compared with what
 * was last reported.  That one rule covers the kernel's silent removal of
 * the IPv4 default route on link down, NLM_F_DUMP_INTR races and socket
 * overruns (ENOBUFS), at the price of three small dumps per burst.  An
 * observer of the interfaces' addresses (the listeners' access control)
 * gets a fourth dump on the same reads.
 *
 * A pause is a hint too: after a suspend (or SIGSTOP) the first query may
 * arrive before the kernel's news of the network it woke up on.  A
 * periodic timer on CLOCK_BOOTTIME (which counts suspended time and fires
 * at once on resume, before the queries that came with it: it has the
 * netlink priority) that missed its ticks says the process did not run:
 * the owner is told the network may be changing and everything is read
 * again.
 */
#include "nlread.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "dotstub/log.h"

#define DEFAULT_DEBOUNCE_MS 500
#define DEFAULT_RESOLVE_WAIT_MS 1000
#define DEFAULT_RCVBUF (1 << 20)
#define MAX_RECV_PER_WAKEUP 64 /* datagrams read per readable event */
#define MAX_AWAITED 4          /* gateways provoked per resolution episode */
#define PAUSE_TICK_S 2         /* pause detector period (CLOCK_BOOTTIME) */

struct ds_netwatch {
	struct event_base *base;
	ds_netwatch_cb *cb;
	void *arg;
	unsigned debounce_ms;
	unsigned resolve_wait_ms;

	struct nl_sock *ev_sk;   /* subscribed to the groups, non-blocking */
	struct nl_sock *sync_sk; /* dumps and route lookups, blocking */
	struct event *nl_ev;     /* ev_sk readable */
	struct event *debounce_ev;
	struct event *resolve_ev;
	int pause_fd;            /* timerfd, CLOCK_BOOTTIME, PAUSE_TICK_S */
	struct event *pause_ev;
	uint64_t burst_start;    /* CLOCK_MONOTONIC ms of the burst's first event */
	bool pending_told;       /* DS_NETWATCH_PENDING said, no report since */
	bool immediate;          /* debounce_ev armed to fire at once */

	/* what the caller told us, in the caller's order */
	struct ds_netaddr res[DS_NETFP_MAX_RES];
	size_t nres;
	uint8_t ssid[DS_NETFP_SSID_MAX];
	size_t ssid_len;

	/* every link as last seen (dump, then events): filters NEWLINK noise */
	struct ds_net_link *links;
	size_t nlinks;

	/* the last report */
	bool reported;
	struct ds_netfp cur;
	struct ds_net_link cur_link[DS_NETFP_NAF];

	/* gateway MAC resolution in progress */
	bool resolving;          /* provoked; resolve_ev armed */
	bool resolve_expired;    /* resolve_ev fired: report without the MAC */
	struct nlr_gw awaited[MAX_AWAITED]; /* provoked in this episode */
	size_t nawaited;

	/* since the last report */
	bool bounced;            /* an interface of cur went down */
	bool paused;             /* the process did not run for a while */
	bool overrun;            /* ENOBUFS: events were lost */

	/* the interfaces' addresses, for the observer (addr_cb) */
	bool addrs_only;
	ds_netwatch_addr_cb *addr_cb;
	void *addr_arg;
	bool addrs_told;         /* addr_cb was called with ifaddrs */
	struct ds_net_ifaddr ifaddrs[DS_NET_MAX_IFADDRS];
	size_t nifaddrs;

	struct ds_netwatch_stats st;
};

static void ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A relevant event opened a window: tell the owner that the network may
 * be changing (once per window, and only once there is a network). */
static void tell_pending(struct ds_netwatch *w)
{
	if (!w->reported || w->pending_told)
		return;
	w->pending_told = true;
	w->cb(w, &w->cur, &w->cur, DS_NETWATCH_PENDING, w->arg);
}

/* Open or extend the debounce window: read again once no relevant event
 * came for debounce_ms, but at most 1.5 * debounce_ms after the first
 * event of the burst, so a steady trickle cannot postpone it for ever. */
static void arm_debounce(struct ds_netwatch *w)
{
	struct timeval tv;
	uint64_t delay;

	bool open = evtimer_pending(w->debounce_ev, NULL) != 0;

	if (w->immediate)
		return; /* a recompute is due on the next loop iteration anyway */
	delay = ds_debounce_delay(&w->burst_start, open, mono_ms(), w->debounce_ms);
	ms_to_tv((unsigned)delay, &tv);
	evtimer_add(w->debounce_ev, &tv);
	if (!open)
		tell_pending(w);
}

/* Recompute on the next loop iteration, whatever window is open. */
static void arm_now(struct ds_netwatch *w)
{
	struct timeval tv = { 0, 0 };

	w->immediate = true;
	evtimer_add(w->debounce_ev, &tv);
	tell_pending(w);
}

/* ------------------------------------------------------------------ */
/* Reporting */

static bool gw_in(const struct nlr_gw *list, size_t n, const struct nlr_gw *g)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].ifindex == g->ifindex && ds_netaddr_cmp(&list[i].gw, &g->gw) == 0)
			return true;
	return false;
}

/* Did an interface used by both the last report and s bounce without
 * our seeing it (events lost, or both transitions inside one window)?
 * The carrier counter moved, or the interface was replaced (same name,
 * new index: a USB adapter plugged in again). */
static bool links_bounced(const struct ds_netwatch *w, const struct nlr_snapshot *s)
{
	const struct ds_net_link *a, *b;
	int i;

	for (i = 0; i < DS_NETFP_NAF; i++) {
		if (!w->cur.af[i].route || !s->fp.af[i].route)
			continue;
		a = &w->cur_link[i];
		b = &s->link[i];
		if (a->ifindex != b->ifindex) {
			if (strcmp(w->cur.af[i].ifname, s->fp.af[i].ifname) == 0)
				return true;
			continue;
		}
		if (a->has_carrier_changes && b->has_carrier_changes &&
		    a->carrier_changes != b->carrier_changes)
			return true;
	}
	return false;
}

static void report(struct ds_netwatch *w, const struct nlr_snapshot *s)
{
	struct ds_netfp old = w->cur;
	bool had = w->reported;
	unsigned flags = 0;
	char id[DS_NETFP_ID_LEN + 1] = "";

	if (!had)
		flags |= DS_NETWATCH_INITIAL;
	else if (!ds_netfp_equal(&w->cur, &s->fp))
		flags |= DS_NETWATCH_CHANGED;
	if (had && (w->bounced || links_bounced(w, s)))
		flags |= DS_NETWATCH_BOUNCED;
	if (had && w->overrun && (s->fp.af[0].route || s->fp.af[1].route))
		flags |= DS_NETWATCH_RESYNC | DS_NETWATCH_BOUNCED;
	if (had && w->paused)
		flags |= DS_NETWATCH_RESUMED;
	w->bounced = false;
	w->overrun = false;
	w->paused = false;
	w->cur_link[0] = s->link[0];
	w->cur_link[1] = s->link[1];
	if (!(flags & (DS_NETWATCH_INITIAL | DS_NETWATCH_CHANGED | DS_NETWATCH_BOUNCED |
		       DS_NETWATCH_RESUMED))) {
		if (w->pending_told) {
			w->pending_told = false;
			w->cb(w, &w->cur, &w->cur, DS_NETWATCH_SETTLED, w->arg);
		}
		return;
	}
	w->pending_told = false;
	w->cur = s->fp;
	w->reported = true;
	w->st.reports++;
	(void)ds_netfp_id(&w->cur, id, sizeof(id));
	log_debug("netinfo: report %s flags 0x%x", id, flags);
	w->cb(w, had ? &old : NULL, &w->cur, flags, w->arg);
}

/* Dump the interfaces' addresses; tell the observer if they changed. */
static void addrs_read(struct ds_netwatch *w)
{
	struct ds_net_ifaddr now[DS_NET_MAX_IFADDRS];
	size_t n;
	int r;

	r = nlr_ifaddrs(w->sync_sk, now, DS_NET_MAX_IFADDRS);
	if (r < 0) {
		log_debug("netinfo: reading the addresses failed (%s), retrying", strerror(-r));
		arm_debounce(w);
		return;
	}
	n = (size_t)r;
	if (w->addrs_told && n == w->nifaddrs && !memcmp(now, w->ifaddrs, n * sizeof(now[0])))
		return;
	memcpy(w->ifaddrs, now, n * sizeof(now[0]));
	w->nifaddrs = n;
	w->addrs_told = true;
	w->addr_cb(w, w->ifaddrs, w->nifaddrs, w->addr_arg);
}

/* Read everything again; hold the report while a gateway MAC is being
 * resolved. */
static void recompute(struct ds_netwatch *w)
{
	struct nlr_snapshot s;
	struct ds_net_link *links;
	size_t i, nlinks;
	int r;

	w->st.reads++;
	if (w->addr_cb)
		addrs_read(w);
	if (w->addrs_only)
		return;
	r = nlr_read(w->sync_sk, w->res, w->nres, &s, &links, &nlinks);
	if (r < 0) {
		log_debug("netinfo: reading the kernel state failed (%s), retrying", strerror(-r));
		arm_debounce(w);
		return;
	}
	free(w->links);
	w->links = links;
	w->nlinks = nlinks;
	(void)ds_netfp_set_ssid(&s.fp, w->ssid, w->ssid_len);
	if (s.npending > 0 && !w->resolve_expired) {
		for (i = 0; i < s.npending; i++) {
			if (gw_in(w->awaited, w->nawaited, &s.pending[i]) ||
			    w->nawaited == MAX_AWAITED)
				continue;
			w->awaited[w->nawaited++] = s.pending[i];
			w->st.provoked++;
			r = nlr_provoke(&s.pending[i]);
			if (r < 0)
				log_debug("netinfo: provoking neighbour resolution: %s", strerror(-r));
		}
		if (!w->resolving) {
			struct timeval tv;

			ms_to_tv(w->resolve_wait_ms, &tv);
			evtimer_add(w->resolve_ev, &tv);
			w->resolving = true;
		}
		return;
	}
	evtimer_del(w->resolve_ev);
	w->resolving = false;
	w->resolve_expired = false;
	w->nawaited = 0;
	report(w, &s);
}

static void on_debounce(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netwatch *w = arg;

	w->immediate = false;
	recompute(w);
}

static void on_resolve_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netwatch *w = arg;

	log_debug("netinfo: gateway MAC not resolved in time");
	w->resolving = false;
	w->resolve_expired = true;
	w->immediate = false;
	evtimer_del(w->debounce_ev);
	recompute(w);
}

/* ------------------------------------------------------------------ */
/* Events */

static bool link_changed(const struct ds_net_link *a, const struct ds_net_link *b)
{
	return a->up != b->up || a->running != b->running || a->has_mac != b->has_mac ||
	       memcmp(a->mac, b->mac, DS_ETH_ALEN) != 0 || a->vlan != b->vlan ||
	       strcmp(a->name, b->name) != 0 ||
	       (a->has_carrier_changes && b->has_carrier_changes &&
		a->carrier_changes != b->carrier_changes);
}

static struct ds_net_link *link_seen(struct ds_netwatch *w, int ifindex)
{
	size_t i;

	for (i = 0; i < w->nlinks; i++)
		if (w->links[i].ifindex == ifindex)
			return &w->links[i];
	return NULL;
}

/* A link event matters if it changes what we last saw of the link (a new
 * link, up/running, carrier, MAC, name, VLAN); wireless drivers send
 * NEWLINK noise that changes none of it.  An interface of the last report
 * going down, or away, is a bounce. */
static bool on_link(struct ds_netwatch *w, struct nl_msg *msg, int type)
{
	struct ds_net_link k, *seen;
	bool relevant;
	int i;

	if (nlr_link_from_msg(msg, &k) < 0)
		return true; /* cannot tell: read again */
	seen = link_seen(w, k.ifindex);
	if (type == RTM_DELLINK) {
		relevant = seen != NULL;
		if (seen)
			*seen = w->links[--w->nlinks];
	} else {
		relevant = !seen || link_changed(seen, &k);
		if (seen)
			*seen = k;
	}
	for (i = 0; i < DS_NETFP_NAF; i++)
		if (w->cur.af[i].route && w->cur_link[i].ifindex == k.ifindex &&
		    (type == RTM_DELLINK || !k.up || !k.running))
			w->bounced = true;
	return relevant;
}

/* Neighbour events matter only for the gateways: one being resolved
 * (recompute at once), or one of the last report that changed. */
static bool on_neigh(struct ds_netwatch *w, struct nl_msg *msg, int type)
{
	struct nlr_neigh nb;
	struct nlr_gw g;
	const struct ds_netfp_af *af;
	int i;

	if (nlr_neigh_from_msg(msg, &nb) < 0)
		return false;
	g.ifindex = nb.ifindex;
	g.gw = nb.dst;
	if (type == RTM_NEWNEIGH && nb.usable && w->resolving &&
	    gw_in(w->awaited, w->nawaited, &g)) {
		arm_now(w);
		return true;
	}
	for (i = 0; i < DS_NETFP_NAF; i++) {
		af = &w->cur.af[i];
		if (!af->route || !af->gw.family || af->ifindex != nb.ifindex ||
		    ds_netaddr_cmp(&af->gw, &nb.dst) != 0)
			continue;
		if (type == RTM_DELNEIGH || !nb.usable || !af->has_gwmac ||
		    memcmp(af->gwmac, nb.mac, DS_ETH_ALEN) != 0)
			return true;
	}
	return false;
}

static bool on_route(struct nl_msg *msg)
{
	unsigned table;

	/* the local table changes with every address: not ours */
	return nlr_route_table_from_msg(msg, &table) < 0 || table != RT_TABLE_LOCAL;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct ds_netwatch *w = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;
	bool relevant = false;

	w->st.events++;
	if (nlmsg_get_src(msg)->nl_pid != 0)
		return NL_SKIP; /* only the kernel speaks here */
	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		relevant = on_link(w, msg, type);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		relevant = true;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		relevant = on_route(msg);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		relevant = on_neigh(w, msg, type);
		break;
	default:
		break;
	}
	if (relevant) {
		w->st.relevant++;
		arm_debounce(w);
	}
	return NL_OK;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netwatch *w = arg;
	int i, r;

	for (i = 0; i < MAX_RECV_PER_WAKEUP; i++) {
		r = nl_recvmsgs_default(w->ev_sk);
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped events; resync */
			log_debug("netinfo: netlink overrun, resynchronising");
			w->st.overruns++;
			w->overrun = true;
			arm_debounce(w);
		} else if (r < 0) {
			log_debug("netinfo: netlink receive: %s", nl_geterror(r));
			arm_debounce(w);
		}
	}
}

/* The pause detector ticked: more than one period since the last tick
 * means the process did not run (suspended, or stopped). */
static void on_pause_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ds_netwatch *w = arg;
	uint64_t ticks = 0;

	if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks) || ticks < 2)
		return;
	w->st.pauses++;
	w->paused = true;
	log_info("netinfo: resumed after a pause of about %llu s: reading the network again",
		 (unsigned long long)(ticks * PAUSE_TICK_S));
	arm_now(w);
}

static int pause_timer(struct ds_netwatch *w)
{
	struct itimerspec its = { { PAUSE_TICK_S, 0 }, { PAUSE_TICK_S, 0 } };

	w->pause_fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->pause_fd < 0)
		return -errno;
	if (timerfd_settime(w->pause_fd, 0, &its, NULL) < 0)
		return -errno;
	w->pause_ev = event_new(w->base, w->pause_fd, EV_READ | EV_PERSIST, on_pause_tick, w);
	if (!w->pause_ev)
		return -ENOMEM;
	event_priority_set(w->pause_ev, 0);
	return event_add(w->pause_ev, NULL) < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Life cycle */

static int event_socket(struct ds_netwatch *w, int rcvbuf)
{
	/* the address groups first: an addrs_only watcher takes only them */
	static const int groups[] = {
		RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
		RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEIGH,
	};
	size_t i, ngroups = w->addrs_only ? 2 : sizeof(groups) / sizeof(groups[0]);
	int r;

	r = nlr_socket_new(&w->ev_sk);
	if (r < 0)
		return r;
	nl_socket_disable_seq_check(w->ev_sk);
	r = nl_socket_modify_cb(w->ev_sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, w);
	for (i = 0; r == 0 && i < ngroups; i++)
		r = nl_socket_add_membership(w->ev_sk, groups[i]);
	if (r == 0)
		r = nl_socket_set_buffer_size(w->ev_sk, rcvbuf, 0);
	if (r == 0)
		r = nl_socket_set_nonblocking(w->ev_sk);
	return nlr_errno(r);
}

int ds_netwatch_new(struct event_base *base, const struct ds_netwatch_opts *o,
		    ds_netwatch_cb *cb, void *arg, struct ds_netwatch **ret)
{
	struct ds_netwatch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->pause_fd = -1;
	w->base = base;
	w->cb = cb;
	w->arg = arg;
	w->debounce_ms = o && o->debounce_ms ? o->debounce_ms : DEFAULT_DEBOUNCE_MS;
	w->resolve_wait_ms = o && o->resolve_wait_ms ? o->resolve_wait_ms : DEFAULT_RESOLVE_WAIT_MS;
	w->addrs_only = o && o->addrs_only;
	ds_netfp_init(&w->cur);
	r = event_socket(w, o && o->rcvbuf > 0 ? o->rcvbuf : DEFAULT_RCVBUF);
	if (r == 0)
		r = nlr_socket_new(&w->sync_sk);
	if (r < 0)
		goto fail;
	w->nl_ev = event_new(base, nl_socket_get_fd(w->ev_sk), EV_READ | EV_PERSIST, on_readable, w);
	if (w->nl_ev)
		event_priority_set(w->nl_ev, 0); /* before anything else the loop has */
	w->debounce_ev = evtimer_new(base, on_debounce, w);
	w->resolve_ev = evtimer_new(base, on_resolve_timeout, w);
	if (w->debounce_ev)
		event_priority_set(w->debounce_ev, 0);
	if (w->resolve_ev)
		event_priority_set(w->resolve_ev, 0);
	if (!w->nl_ev || !w->debounce_ev || !w->resolve_ev || event_add(w->nl_ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = pause_timer(w);
	if (r < 0)
		goto fail;
	arm_now(w);
	*ret = w;
	return 0;
fail:
	ds_netwatch_free(w);
	return r;
}

void ds_netwatch_free(struct ds_netwatch *w)
{
	if (!w)
		return;
	if (w->nl_ev)
		event_free(w->nl_ev);
	if (w->debounce_ev)
		event_free(w->debounce_ev);
	if (w->resolve_ev)
		event_free(w->resolve_ev);
	if (w->pause_ev)
		event_free(w->pause_ev);
	if (w->pause_fd >= 0)
		close(w->pause_fd);
	if (w->ev_sk)
		nl_socket_free(w->ev_sk);
	if (w->sync_sk)
		nl_socket_free(w->sync_sk);
	free(w->links);
	free(w);
}

int ds_netwatch_set_resolvers(struct ds_netwatch *w, const struct ds_netaddr *res, size_t n)
{
	struct ds_netaddr tmp[DS_NETFP_MAX_RES];
	int r = ds_netaddr_unique(res, n, tmp, DS_NETFP_MAX_RES);
	size_t k;

	if (r < 0)
		return r;
	k = (size_t)r;
	if (k == w->nres && memcmp(tmp, w->res, k * sizeof(tmp[0])) == 0)
		return 0;
	memcpy(w->res, tmp, k * sizeof(tmp[0]));
	w->nres = k;
	arm_now(w);
	return 0;
}

int ds_netwatch_set_ssid(struct ds_netwatch *w, const uint8_t *ssid, size_t len)
{
	if (len > DS_NETFP_SSID_MAX)
		return -EINVAL;
	if (len == w->ssid_len && (len == 0 || memcmp(w->ssid, ssid, len) == 0))
		return 0;
	if (len)
		memcpy(w->ssid, ssid, len);
	w->ssid_len = len;
	arm_now(w);
	return 0;
}

void ds_netwatch_set_addr_cb(struct ds_netwatch *w, ds_netwatch_addr_cb *cb, void *arg)
{
	w->addr_cb = cb;
	w->addr_arg = arg;
	w->addrs_told = false;
}

const struct ds_netfp *ds_netwatch_current(const struct ds_netwatch *w)
{
	return &w->cur;
}

void ds_netwatch_get_stats(const struct ds_netwatch *w, struct ds_netwatch_stats *ret)
{
	*ret = w->st;
}
