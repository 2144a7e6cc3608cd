/* walkjob.c -- a discovery walk in a worker thread (see walkjob.h). */
#include "walkjob.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotstub/log.h"

struct ds_walkjob {
	pthread_t thread;
	atomic_bool cancel;     /* read by disc_walk */
	int pipe[2];
	struct event *ev;
	ds_walkjob_cb *cb;
	void *arg;
	struct disc_params params;
	char resolvers[DISC_MAX_RESOLVERS][DISC_ADDR_STR_MAX];
	struct trust_dnskey anchors[DISC_MAX_ANCHORS];
	int rc;
	struct disc_result *res;
	bool want_ddr;          /* ask ddr_server for its designations too */
	struct sockaddr_storage ddr_server;
	bool ddr_asked;
	struct ddr_query ddr;
	bool want_adn;          /* resolve adn[] through adn_server */
	struct sockaddr_storage adn_server;
	struct ds_walkjob_adn adn[DS_WALKJOB_MAX_ADN];
	int nadn;
};

static void job_free(struct ds_walkjob *j)
{
	if (j->ev)
		event_free(j->ev);
	close(j->pipe[0]);
	close(j->pipe[1]);
	if (j->res)
		disc_result_free(j->res);
	free(j);
}

/* The ADN-only designations, resolved through the network's resolver
 * (RFC 9463 3.1.6, RFC 9462 5). */
static void job_resolve_adns(struct ds_walkjob *j)
{
	for (int i = 0; i < j->nadn && !atomic_load(&j->cancel); i++) {
		struct ds_walkjob_adn *a = &j->adn[i];

		a->rc = ddr_resolve_adn(&j->adn_server, a->adn, a->priority, DDR_ADN_TIMEOUT_MS,
					&j->cancel, &a->g, a->said, sizeof(a->said));
		a->asked = true;
	}
}

static void *job_run(void *arg)
{
	struct ds_walkjob *j = arg;
	char one = 1;
	bool no_dot;

	j->rc = disc_walk(&j->params, &j->res);
	no_dot = j->rc == 0 && j->res && !atomic_load(&j->cancel) &&
		 (j->res->kind != TRUST_DISC_OK || j->res->transparent);
	if (j->want_ddr && no_dot) {
		ddr_query(&j->ddr_server, DDR_QUERY_TIMEOUT_MS, &j->ddr);
		j->ddr_asked = true;
	}
	if (j->want_adn && no_dot)
		job_resolve_adns(j);
	while (write(j->pipe[1], &one, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void job_done(evutil_socket_t fd, short what, void *arg)
{
	struct ds_walkjob *j = arg;
	struct disc_result *res;
	char c;

	if (read(fd, &c, 1) != 1)
		return;
	pthread_join(j->thread, NULL);
	res = j->res;
	j->res = NULL;
	j->cb(j->arg, j->rc, res);
	job_free(j);
}

int ds_walkjob_start(struct event_base *base, const struct disc_params *p, ds_walkjob_cb *cb,
		     void *arg, struct ds_walkjob **ret)
{
	return ds_walkjob_start_ddr(base, p, NULL, cb, arg, ret);
}

const struct ddr_query *ds_walkjob_ddr(const struct ds_walkjob *j)
{
	return j && j->ddr_asked ? &j->ddr : NULL;
}

const struct ds_walkjob_adn *ds_walkjob_adn(const struct ds_walkjob *j, int *n)
{
	*n = j && j->want_adn ? j->nadn : 0;
	return *n > 0 ? j->adn : NULL;
}

/* What x asks besides the walk, into j. */
static int job_desig(struct ds_walkjob *j, const struct ds_walkjob_desig *x)
{
	if (!x)
		return 0;
	if (x->nadn < 0 || x->nadn > DS_WALKJOB_MAX_ADN || (x->nadn > 0 && !x->adn_server))
		return -EINVAL;
	if (x->ddr_server) {
		j->want_ddr = true;
		j->ddr_server = *x->ddr_server;
	}
	if (x->nadn > 0) {
		j->want_adn = true;
		j->adn_server = *x->adn_server;
		j->nadn = x->nadn;
		for (int i = 0; i < x->nadn; i++) {
			memset(&j->adn[i], 0, sizeof(j->adn[i]));
			snprintf(j->adn[i].adn, sizeof(j->adn[i].adn), "%s", x->adn[i].adn);
			j->adn[i].priority = x->adn[i].priority;
		}
	}
	return 0;
}

int ds_walkjob_start_ddr(struct event_base *base, const struct disc_params *p,
			 const struct ds_walkjob_desig *x, ds_walkjob_cb *cb, void *arg,
			 struct ds_walkjob **ret)
{
	struct ds_walkjob *j;
	int r;

	if (p->nresolvers < 1 || p->nresolvers > DISC_MAX_RESOLVERS ||
	    p->nanchors < 0 || p->nanchors > DISC_MAX_ANCHORS)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (pipe2(j->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(j);
		return -errno;
	}
	j->cb = cb;
	j->arg = arg;
	j->params = *p;
	if (job_desig(j, x) < 0) {
		close(j->pipe[0]);
		close(j->pipe[1]);
		free(j);
		return -EINVAL;
	}
	for (int i = 0; i < p->nresolvers; i++) {
		snprintf(j->resolvers[i], sizeof(j->resolvers[i]), "%s", p->resolvers[i]);
		j->params.resolvers[i] = j->resolvers[i];
	}
	for (int i = 0; i < p->nanchors; i++)
		j->anchors[i] = p->anchors[i];
	j->params.anchors = p->nanchors ? j->anchors : NULL;
	atomic_init(&j->cancel, false);
	j->params.cancel = &j->cancel;
	j->params.on_step = NULL;
	j->ev = event_new(base, j->pipe[0], EV_READ | EV_PERSIST, job_done, j);
	if (!j->ev || event_add(j->ev, NULL) < 0) {
		job_free(j);
		return -ENOMEM;
	}
	r = pthread_create(&j->thread, NULL, job_run, j);
	if (r != 0) {
		job_free(j);
		return -r;
	}
	*ret = j;
	return 0;
}

void ds_walkjob_cancel(struct ds_walkjob *j)
{
	if (!j)
		return;
	atomic_store(&j->cancel, true);
}

void ds_walkjob_cancel_wait(struct ds_walkjob *j)
{
	if (!j)
		return;
	atomic_store(&j->cancel, true);
	pthread_join(j->thread, NULL);
	job_free(j);
}
