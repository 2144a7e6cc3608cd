/*
 * walk_ub.c -- the walk's use of libunbound: one context per island,
 * forwarding to the network's resolver, queries in batches with a deadline
 * and a cancel flag, and the classification of each answer.
 *
 * Contexts run in thread mode (ub_ctx_async(ctx, 1): libunbound must not
 * fork inside the daemon); this thread waits on ub_fd() in short slices so
 * that cancellation and the deadline are noticed quickly.  libunbound is
 * called through ub_lib_fn (discovery/walk/ub_load.h): disc_walk holds it
 * loaded for the walk.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dotstub/log.h"
#include "ub_load.h"
#include "walk_int.h"

#define WALK_POLL_SLICE_MS 50

uint64_t
walk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
walk_cancelled(const struct walk *w)
{
	return w->p->cancel && atomic_load(w->p->cancel);
}

static int
ub_option(struct ub_ctx *ub, const char *opt, const char *val, char *err, size_t errlen)
{
	int r = ub_lib_fn.ctx_set_option(ub, opt, val);

	if (r != 0) {
		snprintf(err, errlen, "libunbound option %s %s: %s", opt, val,
			 ub_lib_fn.strerror(r));
		return r == UB_NOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

static int
ub_setup(struct ub_ctx *ub, const struct walk *w, const struct trust_dnskey *anchors, int n,
	 const char *owner, bool tcp, char *err, size_t errlen)
{
	char ta[WALK_NAME_STR + 32 + (TRUST_KEY_MAX + 2) / 3 * 4];
	int i, r;

	if ((r = ub_lib_fn.ctx_async(ub, 1)) != 0) {
		snprintf(err, errlen, "libunbound async: %s", ub_lib_fn.strerror(r));
		return -EINVAL;
	}
	/* the network's resolver may well live on loopback */
	if ((r = ub_option(ub, "do-not-query-localhost:", "no", err, errlen)) < 0)
		return r;
	if (tcp && (r = ub_option(ub, "tcp-upstream:", "yes", err, errlen)) < 0)
		return r;
	if (n == 0 && (r = ub_option(ub, "module-config:", "iterator", err, errlen)) < 0)
		return r;
	for (i = 0; i < w->nfwd; i++) {
		if ((r = ub_lib_fn.ctx_set_fwd(ub, w->fwd[i])) != 0) {
			snprintf(err, errlen, "libunbound forward %s: %s", w->fwd[i],
				 ub_lib_fn.strerror(r));
			return r == UB_NOMEM ? -ENOMEM : -EINVAL;
		}
	}
	for (i = 0; i < n; i++) {
		if (disc_key_format(&anchors[i], owner, ta, sizeof(ta)) < 0) {
			snprintf(err, errlen, "anchor for %s does not fit", owner);
			return -EINVAL;
		}
		if ((r = ub_lib_fn.ctx_add_ta(ub, ta)) != 0) {
			snprintf(err, errlen, "libunbound refused the anchor %s (tag %u): %s",
				 owner, trust_dnskey_tag(&anchors[i]), ub_lib_fn.strerror(r));
			return r == UB_NOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

int
walk_ub_new(const struct walk *w, const struct trust_dnskey *anchors, int n, const char *owner,
	    bool tcp, struct ub_ctx **ret, char *err, size_t errlen)
{
	struct ub_ctx *ub;
	int r;

	ub = ub_lib_fn.ctx_create();
	if (!ub) {
		snprintf(err, errlen, "libunbound: cannot create a context");
		return -ENOMEM;
	}
	r = ub_setup(ub, w, anchors, n, owner, tcp, err, errlen);
	if (r < 0) {
		ub_lib_fn.ctx_delete(ub);
		return r;
	}
	log_debug("discovery: context %s%s with %d anchor(s) for %s", tcp ? "tcp" : "udp",
		  n ? "" : " (no validation)", n, n ? owner : "-");
	*ret = ub;
	return 0;
}

void
walk_ub_free(struct ub_ctx *ub)
{
	if (ub)
		ub_lib_fn.ctx_delete(ub);
}

void
walk_q_set(struct walk_q *q, const char *name, uint16_t type)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->type = type;
	q->status = DISC_ST_ERROR;
}

void
walk_q_release(struct walk_q *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (q[i].res)
			ub_lib_fn.resolve_free(q[i].res);
		q[i].res = NULL;
	}
}

size_t
walk_q_count(const struct walk_q *q)
{
	size_t n = 0;

	if (!q->res || !q->res->havedata || !q->res->data)
		return 0;
	while (q->res->data[n] && n < 65535)
		n++;
	return n;
}

static void
walk_ub_cb(void *arg, int err, struct ub_result *res)
{
	struct walk_q *q = arg;

	q->ub_err = err;
	q->res = res;
	q->done = true;
}

static const char *
rcode_str(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	return rcode >= 0 && rcode < 6 ? names[rcode] : "unknown rcode";
}

/* The answer is for the name asked, not reached through a CNAME. */
static bool
same_owner(const struct walk_q *q)
{
	uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
	int alen, blen;

	if (!q->res->canonname)
		return true;
	alen = dns_name_from_str(q->name, a);
	blen = dns_name_from_str(q->res->canonname, b);
	return alen > 0 && blen > 0 && dns_name_equal(a, (size_t)alen, b, (size_t)blen);
}

static void
classify(struct walk_q *q)
{
	const struct ub_result *res = q->res;
	char buf[DISC_DETAIL_MAX];

	if (q->ub_err || !res) {
		q->status = DISC_ST_ERROR;
		snprintf(q->detail, sizeof(q->detail), "libunbound: %s",
			 q->ub_err ? ub_lib_fn.strerror(q->ub_err) : "no result");
	} else if (res->secure && !same_owner(q)) {
		q->status = DISC_ST_ERROR;
		snprintf(buf, sizeof(buf), "answer reached through a CNAME to %s",
			 res->canonname);
		walk_sanitize(q->detail, sizeof(q->detail), buf);
	} else if (res->secure) {
		q->status = res->havedata ? DISC_ST_SECURE : DISC_ST_NODATA;
		snprintf(q->detail, sizeof(q->detail), "%s",
			 res->havedata ? "" : res->nxdomain ? "NXDOMAIN" : "NODATA");
	} else if (res->bogus) {
		q->status = DISC_ST_BOGUS;
		walk_sanitize(q->detail, sizeof(q->detail),
			      res->why_bogus ? res->why_bogus : "validation failed");
	} else if (res->rcode != 0 && res->rcode != 3) {
		q->status = DISC_ST_ERROR;
		snprintf(q->detail, sizeof(q->detail), "%s%s", rcode_str(res->rcode),
			 res->rcode == 2 ? " (the resolver failed or did not answer)" : "");
	} else {
		q->status = DISC_ST_INSECURE;
		snprintf(q->detail, sizeof(q->detail), "%s",
			 !res->havedata ? (res->nxdomain ? "NXDOMAIN" : "NODATA") : "");
	}
}

static void
cancel_pending(struct ub_ctx *ub, struct walk_q *q, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (q[i].done)
			continue;
		(void)ub_lib_fn.cancel(ub, q[i].async_id);
		q[i].done = true;
		q[i].status = DISC_ST_ERROR;
		snprintf(q[i].detail, sizeof(q[i].detail), "%s", why);
	}
}

static size_t
count_pending(const struct walk_q *q, size_t n)
{
	size_t i, pending = 0;

	for (i = 0; i < n; i++)
		pending += !q[i].done;
	return pending;
}

/* Wait for every query of q[] or for the deadline/cancel flag. */
static int
wait_batch(struct walk *w, struct ub_ctx *ub, struct walk_q *q, size_t n)
{
	struct pollfd pfd = { .fd = ub_lib_fn.fd(ub), .events = POLLIN };
	uint64_t now;
	int slice, r;

	if (pfd.fd < 0)
		return -EIO;
	while (count_pending(q, n) > 0) {
		if (walk_cancelled(w)) {
			cancel_pending(ub, q, n, "cancelled");
			return -ECANCELED;
		}
		now = walk_now_ms();
		if (now >= w->deadline_ms) {
			cancel_pending(ub, q, n, "no answer before the deadline");
			return -ETIMEDOUT;
		}
		slice = w->deadline_ms - now < WALK_POLL_SLICE_MS ? (int)(w->deadline_ms - now)
								   : WALK_POLL_SLICE_MS;
		r = poll(&pfd, 1, slice);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (r = ub_lib_fn.process(ub)) != 0) {
			log_debug("discovery: ub_process: %s", ub_lib_fn.strerror(r));
			return -EIO;
		}
	}
	return 0;
}

int
walk_resolve(struct walk *w, struct ub_ctx *ub, struct walk_q *q, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		q[i].done = false;
		q[i].res = NULL;
		q[i].ub_err = 0;
		log_debug("discovery: query %s type %u", q[i].name, q[i].type);
		r = ub_lib_fn.resolve_async(ub, q[i].name, q[i].type, 1, &q[i], walk_ub_cb,
				     &q[i].async_id);
		if (r != 0) {
			q[i].done = true;
			q[i].ub_err = r;
			if (r == UB_NOMEM) {
				cancel_pending(ub, q, n, "out of memory");
				return -ENOMEM;
			}
		}
	}
	r = wait_batch(w, ub, q, n);
	if (r == -EIO)
		cancel_pending(ub, q, n, "libunbound failed");
	if (r < 0 && r != -EIO)
		return r;
	for (i = 0; i < n; i++) {
		if (q[i].res || q[i].ub_err)
			classify(&q[i]);
	}
	return 0;
}

int
walk_sleep(const struct walk *w, unsigned ms)
{
	uint64_t end = walk_now_ms() + ms, now;
	struct timespec ts;
	uint64_t left;

	while ((now = walk_now_ms()) < end) {
		if (walk_cancelled(w))
			return -ECANCELED;
		if (now >= w->deadline_ms)
			return -ETIMEDOUT;
		left = end - now < 20 ? end - now : 20;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
}
