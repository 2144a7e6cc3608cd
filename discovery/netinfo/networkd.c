/*
 * networkd.c -- systemd-networkd's per-link state files as a link source
 * (include/dotstub/netinfo.h, section 5): a strict reader of the keys that
 * concern DNS, and an inotify watcher of the directory.
 *
 * networkd writes /run/systemd/netif/links/IFINDEX (a temporary file
 * renamed over it) as KEY=VALUE lines, the values of lists separated by
 * spaces: DNS= (each "ADDR", "ADDR:PORT", "[ADDR]:PORT", with "%IFINDEX"
 * and "#SERVERNAME" as it has them), DOMAINS= (searched), ROUTE_DOMAINS=
 * (routing only; "." is the root), DNS_DEFAULT_ROUTE=yes|no,
 * DNS_OVER_TLS=, DNSSEC=, LLMNR=, MDNS=, and ADMIN_STATE= ("unmanaged":
 * networkd does not configure the link, nothing of it is used).  Other
 * keys are ignored; the file says it is private data, so everything in it
 * is checked and a value we cannot read is left out (counted), never
 * guessed.
 */
#include "dotstub/netinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "dotstub/log.h"

#define NETWORKD_DEBOUNCE_MS 100

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Each space-separated word of v (len octets) to fn; the number of words
 * fn refused. */
static unsigned each_word(const char *v, size_t len, struct ds_linkconf *lc,
			  int (*fn)(struct ds_linkconf *, const char *, bool), bool flag)
{
	char word[DS_LINK_DOMAIN_MAX + DS_NETADDR_STRLEN + 16];
	unsigned bad = 0;
	size_t i = 0, s;

	while (i < len) {
		while (i < len && is_space(v[i]))
			i++;
		for (s = i; i < len && !is_space(v[i]); i++)
			;
		if (i == s)
			break;
		if (i - s >= sizeof(word)) {
			bad++;
			continue;
		}
		memcpy(word, v + s, i - s);
		word[i - s] = '\0';
		if (fn(lc, word, flag) < 0)
			bad++;
	}
	return bad;
}

/* "ADDR%IFINDEX#NAME": networkd names the scope by index; ours is looked
 * up by name or index alike (ds_netaddr_parse). */
static int add_dns(struct ds_linkconf *lc, const char *word, bool unused)
{
	return ds_linkconf_add_dns(lc, word);
}

static int add_domain(struct ds_linkconf *lc, const char *word, bool route_only)
{
	char d[DS_LINK_DOMAIN_MAX + 3];

	if (snprintf(d, sizeof(d), "%s%s", route_only ? "~" : "", word) >= (int)sizeof(d))
		return -EINVAL;
	/* "." among the searched domains means nothing to search */
	if (!route_only && !strcmp(word, "."))
		return 0;
	return ds_linkconf_add_domain(lc, d);
}

static int copy_word(char *dst, size_t cap, const char *v, size_t len)
{
	if (len == 0 || len >= cap)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || v[i] == '-'))
			return -EINVAL;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

int ds_networkd_parse(const char *buf, size_t len, int ifindex, struct ds_linkconf *ret,
		      unsigned *bad)
{
	struct ds_linkconf lc;
	bool unmanaged = false;
	unsigned nbad = 0;
	size_t i = 0;

	if (len > DS_NETWORKD_MAX_SIZE)
		return -EFBIG;
	ds_linkconf_init(&lc, ifindex, DS_LINKSRC_NETWORKD);
	while (i < len) {
		const char *line = buf + i, *eq, *v;
		size_t ll, kl, vl;

		for (ll = 0; i + ll < len && buf[i + ll] != '\n'; ll++)
			;
		i += ll + 1;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0 || line[0] == '#')
			continue;
		if (memchr(line, '\0', ll)) {
			nbad++;
			continue;
		}
		eq = memchr(line, '=', ll);
		if (!eq)
			continue;
		kl = (size_t)(eq - line);
		v = eq + 1;
		vl = ll - kl - 1;
#define KEY(k) (kl == sizeof(k) - 1 && !memcmp(line, k, kl))
		if (KEY("DNS")) {
			nbad += each_word(v, vl, &lc, add_dns, false);
		} else if (KEY("DOMAINS")) {
			nbad += each_word(v, vl, &lc, add_domain, false);
		} else if (KEY("ROUTE_DOMAINS")) {
			nbad += each_word(v, vl, &lc, add_domain, true);
		} else if (KEY("DNS_DEFAULT_ROUTE")) {
			if (vl == 3 && !memcmp(v, "yes", 3))
				lc.default_route = DS_YES;
			else if (vl == 2 && !memcmp(v, "no", 2))
				lc.default_route = DS_NO;
			else
				nbad++;
		} else if (KEY("DNS_OVER_TLS")) {
			if (vl == 3 && !memcmp(v, "yes", 3))
				lc.dot = DS_LINKDOT_YES;
			else if (vl == 2 && !memcmp(v, "no", 2))
				lc.dot = DS_LINKDOT_NO;
			else if (vl == 13 && !memcmp(v, "opportunistic", 13))
				lc.dot = DS_LINKDOT_OPPORTUNISTIC;
			else
				nbad++;
		} else if (KEY("DNSSEC")) {
			nbad += copy_word(lc.dnssec, sizeof(lc.dnssec), v, vl) < 0;
		} else if (KEY("LLMNR")) {
			nbad += copy_word(lc.llmnr, sizeof(lc.llmnr), v, vl) < 0;
		} else if (KEY("MDNS")) {
			nbad += copy_word(lc.mdns, sizeof(lc.mdns), v, vl) < 0;
		} else if (KEY("ADMIN_STATE")) {
			unmanaged = vl == 9 && !memcmp(v, "unmanaged", 9);
		}
#undef KEY
	}
	if (bad)
		*bad = nbad;
	if (unmanaged)
		ds_linkconf_init(&lc, ifindex, DS_LINKSRC_NETWORKD);
	*ret = lc;
	return unmanaged || (lc.ndns == 0 && lc.ndomains == 0) ? 1 : 0;
}

/* ------------------------------------------------------------ the watcher */

struct ds_networkd_watch {
	char dir[PATH_MAX];
	int ifd, wd;
	struct event *in_ev, *timer_ev;
	ds_networkd_cb *cb;
	void *arg;
};

/* A file name that is an interface index: digits, no leading zero. */
static int name_ifindex(const char *name)
{
	long v = 0;

	if (name[0] < '1' || name[0] > '9')
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT_MAX / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v > INT_MAX ? -1 : (int)v;
}

static int load_file(int dfd, const char *name, int ifindex, struct ds_linkconf *lc,
		     unsigned *bad)
{
	char *buf = malloc(DS_NETWORKD_MAX_SIZE + 1);
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if (!buf)
		return -ENOMEM;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	while (len <= DS_NETWORKD_MAX_SIZE) {
		n = read(fd, buf + len, DS_NETWORKD_MAX_SIZE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r = ds_networkd_parse(buf, len, ifindex, lc, bad);
	free(buf);
	return r;
}

int ds_networkd_read(const char *dir, struct ds_linkconf **ret, size_t *ret_n, unsigned *bad)
{
	struct ds_linkconf *links = NULL;
	struct dirent *de;
	size_t n = 0;
	unsigned nbad = 0;
	DIR *dp;
	int dfd;

	dp = opendir(dir);
	if (!dp)
		return -errno;
	dfd = dirfd(dp);
	while ((de = readdir(dp)) != NULL) {
		int ifindex = name_ifindex(de->d_name);
		struct ds_linkconf lc;
		unsigned b = 0;
		int r;

		if (ifindex <= 0)
			continue;
		r = load_file(dfd, de->d_name, ifindex, &lc, &b);
		nbad += b;
		if (r < 0) {
			if (r != -ENOENT)
				nbad++;
			continue;
		}
		if (r > 0 || n >= DS_LINKTAB_MAX)
			continue; /* nothing to configure */
		if (!links && !(links = calloc(DS_LINKTAB_MAX, sizeof(*links)))) {
			closedir(dp);
			return -ENOMEM;
		}
		links[n++] = lc;
	}
	closedir(dp);
	*ret = links;
	*ret_n = n;
	if (bad)
		*bad = nbad;
	return 0;
}

static void report(struct ds_networkd_watch *w)
{
	struct ds_linkconf *links = NULL;
	size_t n = 0;
	unsigned bad = 0;
	int r = ds_networkd_read(w->dir, &links, &n, &bad);

	if (r < 0)
		log_debug("netinfo: %s: %s", w->dir, strerror(-r));
	w->cb(w, r < 0 ? NULL : links, r < 0 ? 0 : n, r < 0 ? r : (int)bad, w->arg);
	free(links);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	report(arg);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct ds_networkd_watch *w = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct timeval tv = { 0, NETWORKD_DEBOUNCE_MS * 1000 };
	bool any = false;
	ssize_t n;

	while ((n = read(w->ifd, buf, sizeof(buf))) > 0)
		any = true; /* every event in the directory is worth a re-read */
	if (any && !evtimer_pending(w->timer_ev, NULL))
		evtimer_add(w->timer_ev, &tv);
}

int ds_networkd_watch_new(struct event_base *base, const char *dir, ds_networkd_cb *cb, void *arg,
			  struct ds_networkd_watch **ret)
{
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
			      IN_DELETE | IN_ONLYDIR;
	struct ds_networkd_watch *w;
	struct timeval now = { 0, 0 };
	int r;

	if (strlen(dir) >= PATH_MAX)
		return -ENAMETOOLONG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->cb = cb;
	w->arg = arg;
	w->wd = -1;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		r = -errno;
		goto fail;
	}
	w->wd = inotify_add_watch(w->ifd, dir, mask);
	if (w->wd < 0) {
		r = -errno;
		goto fail;
	}
	w->in_ev = event_new(base, w->ifd, EV_READ | EV_PERSIST, on_inotify, w);
	if (w->in_ev)
		event_priority_set(w->in_ev, 0); /* news of the network first */
	w->timer_ev = evtimer_new(base, on_timer, w);
	if (!w->in_ev || !w->timer_ev || event_add(w->in_ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	evtimer_add(w->timer_ev, &now);
	*ret = w;
	return 0;
fail:
	ds_networkd_watch_free(w);
	return r;
}

void ds_networkd_watch_free(struct ds_networkd_watch *w)
{
	if (!w)
		return;
	if (w->in_ev)
		event_free(w->in_ev);
	if (w->timer_ev)
		event_free(w->timer_ev);
	if (w->ifd >= 0)
		close(w->ifd);
	free(w);
}
