/*
 * stubresolv.c -- the resolv.conf dotstubd writes for /etc/resolv.conf to
 * link to (resolv-conf-out), as systemd-resolved's stub-resolv.conf:
 * nameserver lines for the loopback listeners a local process can use,
 * the search domains of every link (not the route-only ones), and
 * "options edns0", with "trust-ad" only while every lane in use (the
 * default one and every link's that names are routed to) sends its
 * queries over DoT authenticated with DANE.  Written crash-safely (temp file in the same directory, fsync,
 * rename, fsync of the directory), and only when its content changes.
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/fdio.h"

#define STUBRESOLV_MAX 8192    /* the whole file; the search list is bounded */
#define STUBRESOLV_MAXNS 3     /* libc reads no more nameserver lines */

struct ds_stubresolv {
	char path[PATH_MAX];
	enum ds_stubresolv_posture posture; /* the one written last */
	char search[DS_STUBRESOLV_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t nsearch;
	char last[STUBRESOLV_MAX];  /* what the file holds, as far as we know */
	size_t last_len;
	bool failed;                /* the last write failed (logged once) */
	/* the network process: what the file says goes to relay */
	ds_stubresolv_relay_fn *relay;
	void *relay_arg;
	bool relayed;               /* something went to relay */
	char relay_search[DS_STUBRESOLV_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t relay_nsearch;       /* ... the search list it was told */
	/* the store process: the posture the network process told */
	bool applied;
	enum ds_stubresolv_posture applied_posture;
};

static bool lane_routed(const struct ds_daemon *d, const struct ds_lane *l)
{
	for (size_t i = 0; i < d->nroutes; i++)
		if (d->routes[i].lane == l)
			return true;
	return false;
}

/* What the daemon serves with now: DoT only if every lane in use does.
 * While one waits for a decision (discovering: queries wait, none is
 * answered), the last posture stands, so that a decision taken again to
 * the same end (SIGHUP, a link bounce) leaves the file alone. */
static enum ds_stubresolv_posture posture_of(const struct ds_daemon *d)
{
	const struct ds_lane *l = &d->def;
	bool all_dot = true, plain = false, waiting = false;

	if (d->stubresolv && d->stubresolv->applied)
		return d->stubresolv->applied_posture;
	for (; l; l = l == &d->def ? TAILQ_FIRST(&d->lanes) : TAILQ_NEXT(l, link)) {
		if (l != &d->def && !lane_routed(d, l))
			continue;
		if (l->up)
			continue;
		all_dot = false;
		if (l->plain)
			plain = true;
		else if (l->discovering)
			waiting = true;
	}
	if (waiting && d->stubresolv)
		return d->stubresolv->posture;
	if (all_dot)
		return DS_STUBRESOLV_DOT;
	return plain ? DS_STUBRESOLV_PLAIN : DS_STUBRESOLV_NONE;
}

/* The address a local process reaches a listener with, as text: a
 * loopback address on port 53 as it is, a wildcard one as the loopback
 * address of its family; false for any other. */
static bool local_nameserver(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	struct sockaddr_storage a = *ss;

	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a;

		if (ntohs(sin->sin_port) != 53)
			return false;
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			return false;
		return inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)outlen) != NULL;
	}
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a;

		if (ntohs(sin6->sin6_port) != 53)
			return false;
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = in6addr_loopback;
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return false;
		return inet_ntop(AF_INET6, &sin6->sin6_addr, out, (socklen_t)outlen) != NULL;
	}
	return false;
}

static size_t add_nameservers(const struct ds_config *c, char *buf, size_t len, size_t cap)
{
	char seen[STUBRESOLV_MAXNS][64];
	size_t n = 0, k;

	for (int i = 0; i < c->nlisten && n < STUBRESOLV_MAXNS; i++) {
		if (!local_nameserver(&c->listen[i], seen[n], sizeof(seen[n])))
			continue;
		for (k = 0; k < n && strcmp(seen[k], seen[n]) != 0; k++)
			;
		if (k < n)
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "nameserver %s\n", seen[n]);
		n++;
	}
	if (n == 0)
		len += (size_t)snprintf(buf + len, cap - len,
					"# dotstubd listens on no loopback address on port 53: there is\n"
					"# no nameserver a local process could use.\n");
	return len < cap ? len : cap - 1;
}

static const char *posture_text(enum ds_stubresolv_posture p)
{
	switch (p) {
	case DS_STUBRESOLV_DOT:
		return "# Now: every query goes over DNS-over-TLS authenticated with DANE, so\n"
		       "# \"trust-ad\" lets applications see dotstubd's AD flag.\n";
	case DS_STUBRESOLV_PLAIN:
		return "# Now: queries go to a network's resolver in plain DNS (opportunistic,\n"
		       "# unauthenticated), so there is no \"trust-ad\".\n";
	case DS_STUBRESOLV_NONE:
		break;
	}
	return "# Now: no authenticated resolver is in use (being discovered, or refused\n"
	       "# by the policy: SERVFAIL), so there is no \"trust-ad\".\n";
}

/* The file's content for the daemon's state now; its length. */
static size_t render(const struct ds_daemon *d, const struct ds_stubresolv *sr,
		     enum ds_stubresolv_posture p, char *buf, size_t cap)
{
	size_t len;

	len = (size_t)snprintf(buf, cap,
			       "# %s: written by dotstubd, the DNS stub resolver of dotstub.\n"
			       "# Do not edit: dotstubd rewrites it as the network changes.  Make\n"
			       "# /etc/resolv.conf a symbolic link to it to send this machine's\n"
			       "# queries through dotstubd (see dotstubd(8)).\n"
			       "%s",
			       sr->path, posture_text(p));
	if (len >= cap)
		return 0;
	len = add_nameservers(d->cfg, buf, len, cap);
	if (sr->nsearch > 0) {
		len += (size_t)snprintf(buf + len, cap - len, "search");
		for (size_t i = 0; i < sr->nsearch && len < cap; i++)
			len += (size_t)snprintf(buf + len, cap - len, " %s", sr->search[i]);
		if (len < cap)
			len += (size_t)snprintf(buf + len, cap - len, "\n");
	}
	if (len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "options edns0%s\n",
					p == DS_STUBRESOLV_DOT ? " trust-ad" : "");
	return len < cap ? len : 0;
}

static void stubresolv_sync(struct ds_daemon *d)
{
	struct ds_stubresolv *sr = d->stubresolv;
	char buf[STUBRESOLV_MAX];
	enum ds_stubresolv_posture p;
	size_t len;
	int r;

	if (!sr)
		return;
	p = posture_of(d);
	if (sr->relay) {
		if (!sr->relayed || p != sr->posture || sr->nsearch != sr->relay_nsearch ||
		    memcmp(sr->search, sr->relay_search, sizeof(sr->search)) != 0) {
			sr->relay(sr->relay_arg, p, (const char(*)[DS_RESOLVCONF_NAME_MAX + 1])sr->search,
				  sr->nsearch);
			sr->relayed = true;
			sr->posture = p;
			sr->relay_nsearch = sr->nsearch;
			memcpy(sr->relay_search, sr->search, sizeof(sr->search));
		}
		return;
	}
	len = render(d, sr, p, buf, sizeof(buf));
	if (len == 0 || (len == sr->last_len && memcmp(buf, sr->last, len) == 0))
		return;
	/* readable by everyone: libc reads it in every process */
	r = ds_file_replace(sr->path, buf, len, 0644);
	if (r < 0) {
		if (!sr->failed)
			log_warn("resolv-conf-out %s: %s, ignoring", sr->path, strerror(-r));
		sr->failed = true;
		return;
	}
	if (sr->failed)
		log_notice("resolv-conf-out %s: written again", sr->path);
	sr->failed = false;
	memcpy(sr->last, buf, len);
	sr->last_len = len;
	sr->posture = p;
	log_info("resolv-conf-out %s: written (%s, %zu search domains)", sr->path,
		 p == DS_STUBRESOLV_DOT ? "trust-ad" : "no trust-ad", sr->nsearch);
}

/* What the file holds already (an earlier run's), so that the same
 * content is not written again. */
static void read_existing(struct ds_stubresolv *sr)
{
	int fd = open(sr->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return;
	while (sr->last_len < sizeof(sr->last)) {
		n = read(fd, sr->last + sr->last_len, sizeof(sr->last) - sr->last_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sr->last_len += (size_t)n;
	}
	close(fd);
}

int ds_stubresolv_open(struct ds_daemon *d)
{
	struct ds_stubresolv *sr;

	if (!strcmp(d->cfg->resolv_conf_out, "none") || !d->cfg->resolv_conf_out[0])
		return 0;
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	snprintf(sr->path, sizeof(sr->path), "%s", d->cfg->resolv_conf_out);
	sr->relay = d->stubresolv_relay;
	sr->relay_arg = d->stubresolv_relay_arg;
	if (!sr->relay)
		read_existing(sr);
	d->stubresolv = sr;
	stubresolv_sync(d);
	return 0;
}

void ds_stubresolv_apply(struct ds_daemon *d, enum ds_stubresolv_posture p,
			 const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n)
{
	struct ds_stubresolv *sr = d->stubresolv;

	if (!sr)
		return;
	sr->applied = true;
	sr->applied_posture = p;
	ds_stubresolv_set_search(d, search, n);
	stubresolv_sync(d); /* the posture alone may have changed */
}

void ds_stubresolv_close(struct ds_daemon *d)
{
	free(d->stubresolv);
	d->stubresolv = NULL;
}

void ds_stubresolv_set_search(struct ds_daemon *d,
			      const char (*search)[DS_RESOLVCONF_NAME_MAX + 1], size_t n)
{
	struct ds_stubresolv *sr = d->stubresolv;

	if (!sr)
		return;
	if (n == sr->nsearch) {
		size_t i;

		for (i = 0; i < n && !strcmp(sr->search[i], search[i]); i++)
			;
		if (i == n)
			return;
	}
	if (n > DS_STUBRESOLV_MAX_SEARCH)
		n = DS_STUBRESOLV_MAX_SEARCH;
	for (size_t i = 0; i < n; i++)
		snprintf(sr->search[i], sizeof(sr->search[i]), "%s", search[i]);
	sr->nsearch = n;
	stubresolv_sync(d);
}

void ds_stubresolv_update(struct ds_daemon *d)
{
	stubresolv_sync(d);
}
