/*
 * walkjob.h -- run a resolver-name.arpa walk (disc_walk, blocking) in a
 * worker thread and hand its result back on the event loop.  Internal to
 * the daemon.
 */
#ifndef DOTSTUB_WALKJOB_H
#define DOTSTUB_WALKJOB_H

#include "dotstub/ddr.h"
#include "dotstub/discovery.h"

struct event_base;
struct ds_walkjob;

/* Called on the loop when the walk ends, once, also after
 * ds_walkjob_cancel (then usually with rc -ECANCELED).  rc is disc_walk's
 * return; res (owned by the callee, free with disc_result_free) is set
 * when rc is 0.  The job is freed after the callback returns. */
typedef void ds_walkjob_cb(void *arg, int rc, struct disc_result *res);

/* Start a walk with a copy of p (resolver strings and anchors copied; the
 * cancel flag and step hook of p are ignored).  Returns 0 and *ret, or
 * -errno. */
int ds_walkjob_start(struct event_base *base, const struct disc_params *p, ds_walkjob_cb *cb,
		     void *arg, struct ds_walkjob **ret);
/* An ADN-only DNR designation (RFC 9463 3.1.6) the job resolves through
 * the network's resolver (ddr_resolve_adn). */
#define DS_WALKJOB_MAX_ADN 4
struct ds_walkjob_adn {
	char adn[DNS_NAME_MAX + 1];     /* in: no trailing dot */
	uint16_t priority;              /* in */
	bool asked;                     /* out: the rest is set */
	int rc;                         /* ddr_resolve_adn's */
	struct ddr_designation g;       /* rc 0: the designation, with addresses */
	char said[2 * DDR_REASON_MAX];  /* what was found, or why nothing */
};

/* What the job asks besides the walk, after a walk that validated nothing
 * (or found a transparent forwarder), in the same thread: the DDR query
 * (RFC 9462 4: _dns.resolver.arpa SVCB over plain DNS) to ddr_server if
 * set, and the ADNs of adn[0..nadn) resolved through adn_server. */
struct ds_walkjob_desig {
	const struct sockaddr_storage *ddr_server;
	const struct sockaddr_storage *adn_server;
	const struct ds_walkjob_adn *adn;
	int nadn;                       /* at most DS_WALKJOB_MAX_ADN */
};

/* The same as ds_walkjob_start, asking what x says too (copied). */
int ds_walkjob_start_ddr(struct event_base *base, const struct disc_params *p,
			 const struct ds_walkjob_desig *x, ds_walkjob_cb *cb, void *arg,
			 struct ds_walkjob **ret);
/* During the callback only: the DDR query's answer, or NULL if it was not
 * asked. */
const struct ddr_query *ds_walkjob_ddr(const struct ds_walkjob *j);
/* During the callback only: the ADN-only designations, *n of them (the
 * ones not asked have asked false), or NULL. */
const struct ds_walkjob_adn *ds_walkjob_adn(const struct ds_walkjob *j, int *n);
/* Tell the walk to stop soon; the callback still runs.  NULL is fine. */
void ds_walkjob_cancel(struct ds_walkjob *j);
/* Cancel, wait for the thread and free the job without calling back
 * (daemon shutdown).  NULL is fine. */
void ds_walkjob_cancel_wait(struct ds_walkjob *j);

#endif
