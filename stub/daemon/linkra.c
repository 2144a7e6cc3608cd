/*
 * linkra.c -- DNR from IPv6 router advertisements (RFC 9463 6): the
 * network process reads the raw ICMPv6 socket the store process opened
 * at start (storeproc.c: it needs CAP_NET_RAW, which this process has
 * not; the kernel passes RA options up over netlink, but not option 144).
 * The socket's filter lets only Router Advertisements through, with the
 * interface and the hop limit of each.
 *
 * Every octet is the sender's.  An RA is taken only from a router on the
 * link: hop limit 255, a link-local source, ICMPv6 code 0, a whole RA
 * header (RFC 4861 6.1.2), on a link the kernel knows.  Anything else is
 * counted as ignored (a debug line).  Its options are framed first: one of
 * length 0, one running past the packet, or more than RA_MAX_OPTIONS, and
 * the whole RA is refused (RFC 4861 6.1.2: a length 0 option, silently
 * discarded; here counted and logged).  Each option 144 goes through
 * ddr_dnr_parse_ra; a rejected one is logged with the reason, and changes
 * nothing.  Log lines a sender can repeat at will are rate-limited per
 * link (ds_log_rl).
 *
 * The designations an option gives (DoT in alpn, with addresses or ADN
 * only: ds_linkdnr_designations, as for a DHCP option) are kept per link and
 * ADN until their Lifetime ends; an option with Lifetime 0 withdraws its
 * ADN's.  RFC 9463 6.2 has the host process the option as RFC 8106 5.3.1
 * does RDNSS: an RA of the same router without the option withdraws
 * nothing, a designation lives until its Lifetime expires or another
 * option for the same ADN says otherwise.  Whenever a link's set changes
 * it becomes what RAs designate for the link (ds_netmgr_link_dnr_replace,
 * the DHCP path's; what DHCP designated stays beside it), which the
 * networks decide again with.
 */
#include "daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dotstub/ddr.h"
#include "dotstub/log.h"

#define RA_BUF 4096          /* larger than any RA an Ethernet link carries */
#define RA_MAX_OPTIONS 64    /* more in one RA: refused */
#define RA_MAX_LINKS 16      /* links with RA state */
#define RA_READ_BURST 32     /* RAs read per wake-up */
#define RA_HEADER 16         /* type, code, checksum, hop limit, flags,
				router lifetime, reachable, retrans */
#define RA_TIMER_MAX_MS (86400ull * 1000) /* a far expiry: armed again then */

struct ra_entry {
	struct ds_link_dnr g;
	uint64_t expires_ms;  /* monotonic; 0: never (Lifetime infinite) */
};

struct ra_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct ra_entry e[DS_LINK_MAX_DNR];
	int n;
	struct ds_log_rl rl;  /* the lines a sender can repeat */
};

struct ds_linkra {
	struct ds_daemon *d;
	int fd;
	struct event *ev;
	struct ds_timer *expiry;
	struct ra_link link[RA_MAX_LINKS];
	int nlinks;
	struct ds_log_rl full_rl;
	uint64_t received, ignored, malformed;
};

/* One RA as read, with what came with it. */
struct ra_pkt {
	uint8_t buf[RA_BUF];
	size_t len;
	bool truncated;
	int hoplimit;          /* -1: not given */
	int ifindex;           /* 0: not given */
	struct in6_addr src;
	char src_text[INET6_ADDRSTRLEN];
};

/* ---------------------------------------------------------------- links */

static struct ra_link *link_find(struct ds_linkra *ra, int ifindex)
{
	for (int i = 0; i < ra->nlinks; i++)
		if (ra->link[i].ifindex == ifindex)
			return &ra->link[i];
	return NULL;
}

/* The link's state, new if it has none; NULL if the table is full. */
static struct ra_link *link_get(struct ds_linkra *ra, int ifindex, const char *ifname)
{
	struct ra_link *l = link_find(ra, ifindex);

	if (!l) {
		for (int i = 0; i < ra->nlinks && !l; i++)
			if (ra->link[i].n == 0) /* one with nothing designated */
				l = &ra->link[i];
		if (!l && ra->nlinks == RA_MAX_LINKS)
			return NULL;
		if (!l)
			l = &ra->link[ra->nlinks++];
		memset(l, 0, sizeof(*l));
		l->ifindex = ifindex;
	}
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	return l;
}

/* May a line about this link be logged now? */
static bool link_may_say(struct ra_link *l, unsigned long long *suppressed)
{
	return ds_log_rl_pass(&l->rl, ds_now_ms(), suppressed);
}

static int entry_by_adn(const struct ra_link *l, const char *adn)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].g.adn, adn))
			return i;
	return -1;
}

static void entry_drop(struct ra_link *l, int i)
{
	l->e[i] = l->e[--l->n];
}

/* ---------------------------------------------------------------- the link's designations */

/* The earliest expiry of every link's entries: the timer. */
static void expiry_arm(struct ds_linkra *ra)
{
	uint64_t now = ds_now_ms(), first = 0;

	for (int i = 0; i < ra->nlinks; i++)
		for (int k = 0; k < ra->link[i].n; k++) {
			uint64_t t = ra->link[i].e[k].expires_ms;

			if (t && (!first || t < first))
				first = t;
		}
	if (!first) {
		ds_timer_disarm(ra->expiry);
		return;
	}
	first = first > now ? first - now : 0;
	ds_timer_arm_ms(ra->expiry, first < RA_TIMER_MAX_MS ? first : RA_TIMER_MAX_MS);
}

/* The link's entries become its DNR designations, lower priority first. */
static void link_apply(struct ds_linkra *ra, struct ra_link *l, const char *from)
{
	struct ds_link_dnr g[DS_LINK_MAX_DNR];
	int n = 0, r;

	for (int i = 0; i < l->n; i++) {
		int k = n++;

		while (k > 0 && g[k - 1].priority > l->e[i].g.priority) {
			g[k] = g[k - 1];
			k--;
		}
		g[k] = l->e[i].g;
	}
	r = ds_netmgr_link_dnr_replace(ra->d, l->ifindex, l->ifname, DS_DNR_RA, g, n, from);
	if (r < 0 && r != -ENOTSUP)
		log_warn("link %s (%d): %s: %s", l->ifname, l->ifindex, from, strerror(-r));
	expiry_arm(ra);
}

static void expiry_fired(void *arg)
{
	struct ds_linkra *ra = arg;
	uint64_t now = ds_now_ms();

	for (int i = 0; i < ra->nlinks; i++) {
		struct ra_link *l = &ra->link[i];
		bool dropped = false;

		for (int k = l->n - 1; k >= 0; k--)
			if (l->e[k].expires_ms && l->e[k].expires_ms <= now) {
				entry_drop(l, k);
				dropped = true;
			}
		if (dropped)
			link_apply(ra, l, "RA DNR designation expired");
	}
	expiry_arm(ra);
}

/* One option 144 that parsed: its designation kept, refreshed or
 * withdrawn.  What the link cannot use (not DoT, no address) is said in a
 * line as often as the link's rate allows.  true if the link's set
 * changed. */
static bool option_take(struct ra_link *l, struct ddr_dnr *dnr, const char *what)
{
	struct ds_link_dnr g[DS_LINK_MAX_DNR];
	uint32_t lifetime = dnr->inst[0].lifetime;
	unsigned long long suppressed;
	bool changed = false;
	int n, k;

	/* Lifetime 0: "MUST no longer be used"; the designations leave such
	 * an instance out, so it is named with a Lifetime that keeps it */
	if (lifetime == 0)
		dnr->inst[0].lifetime = 1;
	n = ds_linkdnr_designations(dnr, l->ifname, (unsigned)l->ifindex, what, true, g, NULL);
	if (n == 0 && lifetime != 0 && link_may_say(l, &suppressed))
		(void)ds_linkdnr_designations(dnr, l->ifname, (unsigned)l->ifindex, what, false, g,
					      NULL);
	for (int i = 0; i < n; i++) {
		k = entry_by_adn(l, g[i].adn);
		if (lifetime == 0) {
			if (k >= 0) {
				entry_drop(l, k);
				changed = true;
			}
			continue;
		}
		if (k < 0) {
			if (l->n == DS_LINK_MAX_DNR) {
				if (link_may_say(l, &suppressed))
					log_notice("link %s (%d): %s: designation %s ignored: the link "
						   "keeps %d", l->ifname, l->ifindex, what, g[i].adn,
						   DS_LINK_MAX_DNR);
				continue;
			}
			k = l->n++;
			memset(&l->e[k], 0, sizeof(l->e[k]));
			changed = true;
		} else if (memcmp(&l->e[k].g, &g[i], sizeof(g[i])) != 0) {
			changed = true;
		}
		l->e[k].g = g[i];
		l->e[k].expires_ms = lifetime == DDR_DNR_LIFETIME_INFINITE
					     ? 0
					     : ds_now_ms() + (uint64_t)lifetime * 1000;
	}
	return changed;
}

/* ---------------------------------------------------------------- reading an RA */

/* Framing (RFC 4861 4.6): every option whole and of a length, at most
 * RA_MAX_OPTIONS.  NULL, or why not. */
static const char *options_framed(const struct ra_pkt *p, char *why, size_t whylen)
{
	size_t off = RA_HEADER;
	int nopts = 0;

	while (off < p->len) {
		size_t olen;

		if (p->len - off < 2) {
			snprintf(why, whylen, "an option header runs past the end (%zu octet left)",
				 p->len - off);
			return why;
		}
		olen = (size_t)p->buf[off + 1] * 8;
		if (olen == 0) {
			snprintf(why, whylen, "option %d (type %u) has length 0", nopts + 1,
				 p->buf[off]);
			return why;
		}
		if (olen > p->len - off) {
			snprintf(why, whylen, "option %d (type %u) of %zu octets runs past the end "
					      "(%zu left)", nopts + 1, p->buf[off], olen, p->len - off);
			return why;
		}
		if (++nopts > RA_MAX_OPTIONS) {
			snprintf(why, whylen, "more than %d options", RA_MAX_OPTIONS);
			return why;
		}
		off += olen;
	}
	return NULL;
}

/* The RA's options 144, framed already. */
static void options_read(struct ds_linkra *ra, struct ra_link *l, const struct ra_pkt *p)
{
	static struct ddr_dnr dnr; /* large: not on the stack */
	unsigned long long suppressed = 0;
	bool changed = false, bad = false, asked = false, say = false;
	char what[32 + INET6_ADDRSTRLEN];

	snprintf(what, sizeof(what), "RA DNR option from %s", p->src_text);
	for (size_t off = RA_HEADER; off < p->len; off += (size_t)p->buf[off + 1] * 8) {
		size_t olen = (size_t)p->buf[off + 1] * 8;

		if (p->buf[off] != DDR_RA_OPTION_DNR)
			continue;
		ddr_dnr_parse_ra(p->buf + off, olen, &dnr);
		if (dnr.nbad > 0 || dnr.n == 0) {
			bad = true;
			if (!asked) {
				asked = true;
				say = link_may_say(l, &suppressed);
			}
			for (unsigned i = 0; say && i < dnr.nbad; i++)
				log_warn("link %s (%d): %s rejected: %s%s", l->ifname, l->ifindex,
					 what, dnr.bad[i].reason,
					 suppressed ? " (and earlier lines of this link left out)" : "");
			continue;
		}
		changed |= option_take(l, &dnr, what);
	}
	if (bad)
		ra->malformed++;
	if (changed)
		link_apply(ra, l, what);
}

/* Is p an RA of a router on a link we know?  The link's state, or NULL
 * (counted as ignored). */
static struct ra_link *ra_accept(struct ds_linkra *ra, const struct ra_pkt *p)
{
	char ifname[IF_NAMESIZE];
	const char *why = NULL;
	struct ra_link *l;

	if (p->truncated || p->len < RA_HEADER)
		why = "shorter than an RA header, or longer than read";
	else if (p->hoplimit != 255)
		why = "hop limit not 255 (not from the link)";
	else if (!IN6_IS_ADDR_LINKLOCAL(&p->src))
		why = "source not link-local";
	else if (p->buf[0] != ND_ROUTER_ADVERT || p->buf[1] != 0)
		why = "not an RA of code 0";
	else if (p->ifindex <= 0 || !if_indextoname((unsigned)p->ifindex, ifname))
		why = "a link the kernel does not name";
	if (why) {
		ra->ignored++;
		log_debug("RA from %s (link %d) ignored: %s", p->src_text, p->ifindex, why);
		return NULL;
	}
	l = link_get(ra, p->ifindex, ifname);
	if (!l) {
		unsigned long long suppressed;

		ra->ignored++;
		if (ds_log_rl_pass(&ra->full_rl, ds_now_ms(), &suppressed))
			log_warn("RA from %s on link %s (%d) ignored: RAs of %d links are kept "
				 "already", p->src_text, ifname, p->ifindex, RA_MAX_LINKS);
	}
	return l;
}

static void ra_handle(struct ds_linkra *ra, const struct ra_pkt *p)
{
	unsigned long long suppressed;
	struct ra_link *l = ra_accept(ra, p);
	char why[128];

	if (!l)
		return;
	ra->received++;
	if (options_framed(p, why, sizeof(why))) {
		ra->malformed++;
		if (link_may_say(l, &suppressed))
			log_warn("link %s (%d): RA from %s refused: %s%s", l->ifname, l->ifindex,
				 p->src_text, why,
				 suppressed ? " (and earlier lines of this link left out)" : "");
		return;
	}
	options_read(ra, l, p);
}

/* One datagram with its interface and hop limit: 1, 0 (none), -errno. */
static int ra_recv(int fd, struct ra_pkt *p)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
	} c;
	struct sockaddr_in6 from;
	struct iovec iov = { p->buf, sizeof(p->buf) };
	struct msghdr m = { &from, sizeof(from), &iov, 1, c.b, sizeof(c.b), 0 };
	ssize_t n;

	memset(&from, 0, sizeof(from));
	n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	p->truncated = (size_t)n > sizeof(p->buf) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	p->len = (size_t)n > sizeof(p->buf) ? sizeof(p->buf) : (size_t)n;
	p->hoplimit = -1;
	p->ifindex = 0;
	p->src = m.msg_namelen >= sizeof(from) && from.sin6_family == AF_INET6 ? from.sin6_addr
									       : in6addr_any;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != IPPROTO_IPV6)
			continue;
		if (h->cmsg_type == IPV6_HOPLIMIT && h->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&p->hoplimit, CMSG_DATA(h), sizeof(int));
		else if (h->cmsg_type == IPV6_PKTINFO &&
			 h->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(h), sizeof(pi));
			p->ifindex = (int)pi.ipi6_ifindex;
		}
	}
	if (!inet_ntop(AF_INET6, &p->src, p->src_text, sizeof(p->src_text)))
		snprintf(p->src_text, sizeof(p->src_text), "?");
	return 1;
}

static void ra_readable(evutil_socket_t fd, short what, void *arg)
{
	static struct ra_pkt p; /* large: not on the stack */
	struct ds_linkra *ra = arg;

	(void)what;
	for (int i = 0; i < RA_READ_BURST; i++) {
		int r = ra_recv(fd, &p);

		if (r == 0)
			return;
		if (r < 0) {
			log_warn("router advertisements: recvmsg: %s", strerror(-r));
			return;
		}
		ra_handle(ra, &p);
	}
}

/* ---------------------------------------------------------------- the part */

int ds_linkra_open(struct ds_daemon *d)
{
	struct ds_linkra *ra;
	int fd;

	if (!d->ra_socket || d->linkra)
		return 0;
	fd = d->ra_socket(d);
	if (fd < 0)
		return 0; /* the store process said why */
	ra = calloc(1, sizeof(*ra));
	if (!ra) {
		close(fd);
		return -ENOMEM;
	}
	ra->d = d;
	ra->fd = fd;
	ra->expiry = ds_timer_new(d->base, expiry_fired, ra);
	ra->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, ra_readable, ra);
	/* news of the network, as netlink: before the queries of the same
	 * loop iteration */
	if (!ra->expiry || !ra->ev || event_priority_set(ra->ev, 0) < 0 ||
	    event_add(ra->ev, NULL) < 0) {
		d->linkra = ra;
		ds_linkra_close(d);
		return -ENOMEM;
	}
	d->linkra = ra;
	log_info("router advertisements: reading DNR (option 144) on every link");
	return 0;
}

void ds_linkra_close(struct ds_daemon *d)
{
	struct ds_linkra *ra = d->linkra;

	if (!ra)
		return;
	if (ra->ev)
		event_free(ra->ev);
	if (ra->expiry)
		ds_timer_free(ra->expiry);
	close(ra->fd);
	free(ra);
	d->linkra = NULL;
}

void ds_linkra_get_status(struct ds_daemon *d, struct ds_linkra_status *ret)
{
	const struct ds_linkra *ra = d->linkra;

	memset(ret, 0, sizeof(*ret));
	if (!ra)
		return;
	ret->active = true;
	ret->received = ra->received;
	ret->ignored = ra->ignored;
	ret->malformed = ra->malformed;
	for (int i = 0; i < ra->nlinks; i++)
		ret->designations += (unsigned)ra->link[i].n;
}
