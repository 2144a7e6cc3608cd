/*
 * peers.c -- the manager's peers, played by the harness (peers.h).
 */
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "dotstub/plain.h"
#include "dotstub/timer.h"
#include "dotstub/upstream.h"
#include "vclock.h"
#include "walkjob.h"

struct peers peers;

/* ---- the walk job: results come from the test ---- */

struct ds_walkjob {
	ds_walkjob_cb *cb;
	void *arg;
	struct ds_timer *cancel_timer; /* delivers -ECANCELED on the loop */
};

static struct ds_walkjob *job;

static void job_end(int rc, struct disc_result *res)
{
	struct ds_walkjob *j = job;

	job = NULL;
	peers.walk_running = false;
	j->cb(j->arg, rc, res);
	ds_timer_free(j->cancel_timer);
	free(j);
}

static void cancelled(void *arg)
{
	if (job == arg)
		job_end(-ECANCELED, NULL);
}

int ds_walkjob_start(struct event_base *base, const struct disc_params *p, ds_walkjob_cb *cb,
		     void *arg, struct ds_walkjob **ret)
{
	struct ds_walkjob *j;

	if (job || peers.nwalks == PEERS_MAX_WALKS)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->cb = cb;
	j->arg = arg;
	j->cancel_timer = ds_timer_new(base, cancelled, j);
	peers.walks[peers.nwalks].at_ms = vclock_now_ms();
	snprintf(peers.walks[peers.nwalks].resolver, DISC_ADDR_STR_MAX, "%s",
		 p->nresolvers ? p->resolvers[0] : "");
	peers.walks[peers.nwalks].nanchors = p->nanchors;
	peers.nwalks++;
	peers.walk_running = true;
	job = j;
	*ret = j;
	return 0;
}

int ds_walkjob_start_ddr(struct event_base *base, const struct disc_params *p,
			 const struct ds_walkjob_desig *x, ds_walkjob_cb *cb, void *arg,
			 struct ds_walkjob **ret)
{
	(void)x; /* the harness's walks ask no DDR and resolve no ADN */
	return ds_walkjob_start(base, p, cb, arg, ret);
}

const struct ddr_query *ds_walkjob_ddr(const struct ds_walkjob *j)
{
	(void)j;
	return NULL;
}

const struct ds_walkjob_adn *ds_walkjob_adn(const struct ds_walkjob *j, int *n)
{
	(void)j;
	*n = 0;
	return NULL;
}

void ds_walkjob_cancel(struct ds_walkjob *j)
{
	if (j)
		ds_timer_arm_ms(j->cancel_timer, 0);
}

void ds_walkjob_cancel_wait(struct ds_walkjob *j)
{
	if (!j)
		return;
	if (job == j) {
		job = NULL;
		peers.walk_running = false;
	}
	ds_timer_free(j->cancel_timer);
	free(j);
}

void peers_walk_finish(int rc, struct disc_result *res)
{
	if (job)
		job_end(rc, res);
	else if (res)
		disc_result_free(res);
}

/* ---- the netlink watcher: fingerprints come from the test ---- */

struct ds_netwatch {
	ds_netwatch_cb *cb;
	void *arg;
};

static struct ds_netwatch watch;

/* an address watcher (the links' reverse zones): reports nothing */
static struct ds_netwatch addr_watch;

int ds_netwatch_new(struct event_base *base, const struct ds_netwatch_opts *o,
		    ds_netwatch_cb *cb, void *arg, struct ds_netwatch **ret)
{
	if (o && o->addrs_only) {
		*ret = &addr_watch;
		return 0;
	}
	watch.cb = cb;
	watch.arg = arg;
	*ret = &watch;
	return 0;
}

void ds_netwatch_free(struct ds_netwatch *w)
{
	if (w == &watch)
		watch.cb = NULL;
}

void ds_netwatch_set_addr_cb(struct ds_netwatch *w, ds_netwatch_addr_cb *cb, void *arg)
{
}

int ds_netwatch_set_resolvers(struct ds_netwatch *w, const struct ds_netaddr *res, size_t n)
{
	peers.watch_nres = (int)n;
	return 0;
}

void peers_netwatch_report(const struct ds_netfp *fp, unsigned flags)
{
	if (watch.cb)
		watch.cb(&watch, NULL, fp, flags, watch.arg);
}

int ds_resolvwatch_new(struct event_base *base, const char *path, unsigned debounce_ms,
		       ds_resolvwatch_cb *cb, void *arg, struct ds_resolvwatch **ret)
{
	return -ENOENT;
}

void ds_resolvwatch_free(struct ds_resolvwatch *rw)
{
}

/* ---- the DoT client: records, answers nothing ---- */

/* Queries a client holds until it is freed (then they fail, cancelled, as
 * the real clients do) or they are cancelled. */
#define HELD_MAX 64
struct held {
	ds_upstream_cb cb;
	void *arg;
	bool used;
};

struct ds_upstream {
	struct held q[HELD_MAX];
};
struct ds_upstream_query {
	int dummy;
};

static struct held *hold_query(struct held *q, ds_upstream_cb cb, void *arg)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (!q[i].used) {
			q[i] = (struct held){ cb, arg, true };
			return &q[i];
		}
	return NULL;
}

static void fail_held(struct held *q)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (q[i].used) {
			q[i].used = false;
			q[i].cb(q[i].arg, DS_UP_ERR_CANCELLED, NULL, 0, NULL);
		}
}

void ds_upstream_opts_default(struct ds_upstream_opts *o)
{
	memset(o, 0, sizeof(*o));
}

struct ds_upstream *ds_upstream_new(struct event_base *base, const struct ds_upstream_desc *desc,
				    const struct ds_upstream_opts *o, int *ret_err)
{
	peers.up_created++;
	snprintf(peers.up_name, sizeof(peers.up_name), "%s", desc->name);
	return calloc(1, sizeof(struct ds_upstream));
}

void ds_upstream_free(struct ds_upstream *u)
{
	if (u)
		fail_held(u->q);
	free(u);
}

struct ds_upstream_query *ds_upstream_submit(struct ds_upstream *u, const struct dns_query *q,
					     ds_upstream_cb cb, void *arg)
{
	peers.up_submitted++;
	return (struct ds_upstream_query *)hold_query(u->q, cb, arg);
}

void ds_upstream_cancel(struct ds_upstream_query *h)
{
	if (h)
		((struct held *)(void *)h)->used = false;
}

void ds_upstream_reset(struct ds_upstream *u)
{
}

void ds_upstream_connect_now(struct ds_upstream *u)
{
}

int ds_upstream_update(struct ds_upstream *u, const struct ds_upstream_desc *desc)
{
	return 0;
}

bool ds_upstream_authenticates(const struct ds_upstream *u)
{
	(void)u;
	return true; /* the harness plays a DANE-authenticated DoT server */
}

void ds_upstream_get_status(const struct ds_upstream *u, struct ds_upstream_status *st)
{
	memset(st, 0, sizeof(*st));
	st->handshakes = peers.up_handshakes;
	st->fail_auth = peers.up_fail_auth;
}

/* ---- the plain-DNS client: records, answers nothing ---- */

struct ds_plain {
	struct held q[HELD_MAX];
};
struct ds_plain_query {
	int dummy;
};

struct ds_plain *ds_plain_new(struct event_base *base, const struct sockaddr_storage *addr, int n,
			      unsigned timeout_ms, int *err)
{
	peers.plain_created++;
	return calloc(1, sizeof(struct ds_plain));
}

void ds_plain_free(struct ds_plain *p)
{
	if (p)
		fail_held(p->q);
	free(p);
}

struct ds_plain_query *ds_plain_submit(struct ds_plain *p, const struct dns_query *q,
				       ds_upstream_cb cb, void *arg)
{
	peers.plain_submitted++;
	return (struct ds_plain_query *)hold_query(p->q, cb, arg);
}

void ds_plain_cancel(struct ds_plain_query *h)
{
	if (h)
		((struct held *)(void *)h)->used = false;
}

void ds_plain_get_status(const struct ds_plain *p, struct ds_plain_status *st)
{
	memset(st, 0, sizeof(*st));
}

/* ---- the publisher (publish yes): not configured here ---- */

bool ds_publishd_answer(struct ds_daemon *d, const struct dns_query *q, const struct ds_origin *o,
			size_t max, uint8_t *out, size_t *outlen)
{
	return false;
}

void ds_publishd_upstream(struct ds_daemon *d, const struct ds_upstream_desc *desc,
			  const struct trust_dnskey *key)
{
}

void peers_reset(void)
{
	memset(&peers, 0, sizeof(peers));
}
