/*
 * resolvconf.c -- the resolv.conf-style resolver source: a strict parser
 * (nameservers and the search list) and an inotify watcher
 * (include/dotstub/netinfo.h).
 */
#include "dotstub/netinfo.h"

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

#define DEFAULT_DEBOUNCE_MS 200

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line (no newline, len < DS_RESOLVCONF_MAX_LINE, no NUL).  Returns
 * 1 and *ret for a good nameserver line, 0 for a line that is not a
 * nameserver line, -EINVAL for a bad one. */
static int parse_line(const char *line, size_t len, struct ds_netaddr *ret)
{
	static const char kw[] = "nameserver";
	char tok[DS_RESOLVCONF_MAX_LINE];
	size_t i = 0, t;

	if (len && line[len - 1] == '\r')
		len--; /* written on a CRLF system: tolerated */
	while (i < len && is_blank(line[i]))
		i++;
	if (len - i < sizeof(kw) - 1 || memcmp(line + i, kw, sizeof(kw) - 1) != 0)
		return 0;
	if (i > 0)
		return -EINVAL; /* indented: the libc resolver ignores it, so do we */
	i += sizeof(kw) - 1;
	if (i < len && !is_blank(line[i]))
		return 0; /* "nameservers": another keyword, not ours */
	while (i < len && is_blank(line[i]))
		i++;
	for (t = i; i < len && !is_blank(line[i]) && line[i] != '#' && line[i] != ';'; i++)
		;
	if (i == t)
		return -EINVAL;
	memcpy(tok, line + t, i - t);
	tok[i - t] = '\0';
	while (i < len && is_blank(line[i]))
		i++;
	if (i < len && line[i] != '#' && line[i] != ';')
		return -EINVAL; /* a second token */
	if (ds_netaddr_parse(tok, ret) < 0)
		return -EINVAL;
	if (ret->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&ret->u.v6) && ret->scope == 0)
		return -EINVAL; /* unusable without its interface */
	if ((ret->family == AF_INET && ret->u.v4.s_addr == 0) ||
	    (ret->family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&ret->u.v6)))
		return -EINVAL;
	return 1;
}

/* A host name of a search list: LDH labels of 1..63, at most
 * DS_RESOLVCONF_NAME_MAX characters without the optional final dot, not
 * the root.  Copied lower-case, without the final dot, into out. */
static bool search_name(const char *tok, size_t len, char out[DS_RESOLVCONF_NAME_MAX + 1])
{
	size_t i, label = 0;

	if (len > 1 && tok[len - 1] == '.')
		len--;
	if (len == 0 || len > DS_RESOLVCONF_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = tok[i];

		if (c == '.') {
			if (label == 0 || tok[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			label++;
		} else {
			return false;
		}
		if (label > 63)
			return false;
		out[i] = c;
	}
	if (label == 0 || tok[len - 1] == '-')
		return false;
	out[len] = '\0';
	return true;
}

/* The words after a "search" or "domain" keyword (line[i..len)).  Returns
 * 1 and fills list/nlist for a good line, -EINVAL for a bad one. */
static int parse_search(const char *line, size_t i, size_t len, bool one,
			char list[DS_RESOLVCONF_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1],
			size_t *nlist)
{
	char name[DS_RESOLVCONF_NAME_MAX + 1];
	size_t t, n = 0, words = 0, k;

	for (;;) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i == len || line[i] == '#' || line[i] == ';')
			break;
		for (t = i; i < len && !is_blank(line[i]); i++)
			;
		if (!search_name(line + t, i - t, name))
			return -EINVAL;
		words++;
		for (k = 0; k < n && strcmp(list[k], name) != 0; k++)
			;
		if (k == n && n < DS_RESOLVCONF_MAX_SEARCH)
			memcpy(list[n++], name, strlen(name) + 1);
	}
	if (words == 0 || (one && words > 1))
		return -EINVAL;
	*nlist = n;
	return 1;
}

/* A "search" or "domain" line: 0 if it is neither, 1 if it replaced the
 * search list of rc, -EINVAL for a bad one. */
static int parse_search_line(const char *line, size_t len, struct ds_resolvconf *rc)
{
	static const char *const kws[] = { "search", "domain" };
	char list[DS_RESOLVCONF_MAX_SEARCH][DS_RESOLVCONF_NAME_MAX + 1];
	size_t i = 0, n = 0, kl;
	int r;

	if (len && line[len - 1] == '\r')
		len--;
	while (i < len && is_blank(line[i]))
		i++;
	for (size_t k = 0; k < 2; k++) {
		kl = strlen(kws[k]);
		if (len - i <= kl || memcmp(line + i, kws[k], kl) != 0 || !is_blank(line[i + kl]))
			continue;
		if (i > 0)
			return -EINVAL; /* indented */
		r = parse_search(line, i + kl, len, k == 1, list, &n);
		if (r < 0)
			return r;
		memcpy(rc->search, list, sizeof(list[0]) * n);
		rc->nsearch = n;
		return 1;
	}
	return 0;
}

static void add_res(struct ds_resolvconf *rc, const struct ds_netaddr *a)
{
	size_t i;

	for (i = 0; i < rc->nres; i++)
		if (ds_netaddr_cmp(&rc->res[i], a) == 0)
			return;
	if (rc->nres == DS_NETFP_MAX_RES) {
		rc->truncated = true;
		return;
	}
	rc->res[rc->nres++] = *a;
}

int ds_resolvconf_parse(const char *buf, size_t len, struct ds_resolvconf *ret)
{
	struct ds_resolvconf rc;
	struct ds_netaddr a;
	const char *p = buf, *end = buf + len, *nl;
	size_t ll;
	int r;

	if (len > DS_RESOLVCONF_MAX_SIZE)
		return -EFBIG;
	memset(&rc, 0, sizeof(rc));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll >= DS_RESOLVCONF_MAX_LINE || memchr(p, '\0', ll)) {
			rc.bad_lines++;
		} else {
			r = parse_line(p, ll, &a);
			if (r < 0)
				rc.bad_lines++;
			else if (r > 0)
				add_res(&rc, &a);
			else if (parse_search_line(p, ll, &rc) < 0)
				rc.bad_search++;
		}
		p += ll + (nl != NULL);
	}
	*ret = rc;
	return 0;
}

int ds_resolvconf_load(const char *path, struct ds_resolvconf *ret)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	buf = malloc(DS_RESOLVCONF_MAX_SIZE + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* read one byte more than allowed, to tell "too big" */
	while (len < DS_RESOLVCONF_MAX_SIZE + 1) {
		n = read(fd, buf + len, DS_RESOLVCONF_MAX_SIZE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	r = n < 0 ? -errno : ds_resolvconf_parse(buf, len, ret);
	free(buf);
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* The watcher */

struct ds_resolvwatch {
	struct event_base *base;
	ds_resolvwatch_cb *cb;
	void *arg;
	unsigned debounce_ms;
	char path[PATH_MAX];
	/* watched directories and the name of the file in each */
	int wd[2];
	char name[2][NAME_MAX + 1];
	int ifd;
	struct event *in_ev, *timer_ev;
	bool have_last;
	int last_err;
	struct ds_resolvconf last;
};

static bool rc_equal(const struct ds_resolvconf *a, const struct ds_resolvconf *b)
{
	size_t i;

	if (a->nres != b->nres || a->bad_lines != b->bad_lines || a->truncated != b->truncated ||
	    a->nsearch != b->nsearch || a->bad_search != b->bad_search)
		return false;
	for (i = 0; i < a->nsearch; i++)
		if (strcmp(a->search[i], b->search[i]) != 0)
			return false;
	for (i = 0; i < a->nres; i++)
		if (ds_netaddr_cmp(&a->res[i], &b->res[i]) != 0 || a->res[i].scope != b->res[i].scope)
			return false;
	return true;
}

static void reload(struct ds_resolvwatch *rw)
{
	struct ds_resolvconf rc;
	int r;

	memset(&rc, 0, sizeof(rc));
	r = ds_resolvconf_load(rw->path, &rc);
	if (r < 0)
		memset(&rc, 0, sizeof(rc));
	if (rw->have_last && r == rw->last_err && rc_equal(&rc, &rw->last))
		return;
	rw->have_last = true;
	rw->last_err = r;
	rw->last = rc;
	log_debug("netinfo: %s: %zu nameservers, %u bad lines, %zu search domains, %u bad "
		  "search lines (%d)",
		  rw->path, rc.nres, rc.bad_lines, rc.nsearch, rc.bad_search, r);
	rw->cb(rw, &rw->last, r, rw->arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	reload(arg);
}

static void arm(struct ds_resolvwatch *rw)
{
	struct timeval tv = { rw->debounce_ms / 1000, (rw->debounce_ms % 1000) * 1000 };

	if (!evtimer_pending(rw->timer_ev, NULL))
		evtimer_add(rw->timer_ev, &tv);
}

/* Does this event concern our file?  Bounds-checked walk over the
 * kernel's buffer. */
static bool event_ours(const struct ds_resolvwatch *rw, const struct inotify_event *ie)
{
	int i;

	if (ie->mask & IN_Q_OVERFLOW)
		return true;
	for (i = 0; i < 2; i++)
		if (rw->wd[i] >= 0 && ie->wd == rw->wd[i] && ie->len > 0 &&
		    strnlen(ie->name, ie->len) < ie->len && strcmp(ie->name, rw->name[i]) == 0)
			return true;
	return false;
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct ds_resolvwatch *rw = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t n;
	size_t off, sz;

	for (;;) {
		n = read(rw->ifd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (off = 0; off + sizeof(*ie) <= (size_t)n; off += sz) {
			ie = (const void *)(buf + off);
			sz = sizeof(*ie) + ie->len;
			if (sz > (size_t)n - off)
				break;
			if (event_ours(rw, ie))
				arm(rw);
		}
	}
}

/* Split p into its directory and file name and watch the directory. */
static int watch_dir(struct ds_resolvwatch *rw, int i, const char *p)
{
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
			      IN_DELETE | IN_ATTRIB | IN_MODIFY | IN_ONLYDIR;
	char dir[PATH_MAX];
	const char *slash = strrchr(p, '/');
	const char *base = slash ? slash + 1 : p;
	size_t dl;

	if (*base == '\0' || strlen(base) > NAME_MAX)
		return -EINVAL;
	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else {
		dl = slash == p ? 1 : (size_t)(slash - p);
		memcpy(dir, p, dl);
		dir[dl] = '\0';
	}
	snprintf(rw->name[i], sizeof(rw->name[i]), "%s", base);
	rw->wd[i] = inotify_add_watch(rw->ifd, dir, mask);
	return rw->wd[i] < 0 ? -errno : 0;
}

int ds_resolvwatch_new(struct event_base *base, const char *path, unsigned debounce_ms,
		       ds_resolvwatch_cb *cb, void *arg, struct ds_resolvwatch **ret)
{
	struct ds_resolvwatch *rw;
	struct stat st;
	char *target;
	struct timeval now = { 0, 0 };
	int r;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	rw = calloc(1, sizeof(*rw));
	if (!rw)
		return -ENOMEM;
	rw->base = base;
	rw->cb = cb;
	rw->arg = arg;
	rw->debounce_ms = debounce_ms ? debounce_ms : DEFAULT_DEBOUNCE_MS;
	snprintf(rw->path, sizeof(rw->path), "%s", path);
	rw->wd[0] = rw->wd[1] = -1;
	rw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (rw->ifd < 0) {
		r = -errno;
		goto fail;
	}
	r = watch_dir(rw, 0, path);
	if (r < 0)
		goto fail;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (target = realpath(path, NULL))) {
		r = watch_dir(rw, 1, target);
		free(target);
		if (r < 0)
			log_debug("netinfo: cannot watch the target of %s: %s", path, strerror(-r));
	}
	rw->in_ev = event_new(base, rw->ifd, EV_READ | EV_PERSIST, on_inotify, rw);
	if (rw->in_ev)
		event_priority_set(rw->in_ev, 0); /* news of the network first */
	rw->timer_ev = evtimer_new(base, on_timer, rw);
	if (!rw->in_ev || !rw->timer_ev || event_add(rw->in_ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	evtimer_add(rw->timer_ev, &now);
	*ret = rw;
	return 0;
fail:
	ds_resolvwatch_free(rw);
	return r;
}

void ds_resolvwatch_free(struct ds_resolvwatch *rw)
{
	if (!rw)
		return;
	if (rw->in_ev)
		event_free(rw->in_ev);
	if (rw->timer_ev)
		event_free(rw->timer_ev);
	if (rw->ifd >= 0)
		close(rw->ifd);
	free(rw);
}
