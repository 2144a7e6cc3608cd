/*
 * ddr_verify.c -- the DoT designations of a resolver tried one after the
 * other on the caller's loop (dotstub/ddr_verify.h): PKIX first (RFC 9462
 * 4.2), then opportunistic where 4.3 allows it; in pin mode the pinned key
 * first, then PKIX for a server with another key.  Every step runs from a
 * timer event, never from inside the DoT client's callback, so the client
 * is freed outside its own call stack.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/ddr_verify.h"
#include "dotstub/upstream.h"

enum phase { PH_PKIX, PH_OPP, PH_PIN };

struct ds_ddr_verify {
	struct event_base *base;
	struct ds_ddr_verify_opts o;
	struct sockaddr_storage resolver;
	struct ds_ddr_verdict v[DDR_MAX_DESIGNATIONS];
	int n;                      /* designations */
	int i;                      /* the one being tried */
	enum phase ph;
	struct ds_upstream *u;      /* the attempt's client, or NULL */
	struct ds_upstream_query *h;
	bool answered;              /* the attempt's query ended */
	enum ds_upstream_err err;
	struct event *step_ev;      /* next step (0 s) or the attempt's backstop */
	ds_ddr_verify_cb *cb;
	void *arg;
};

void ds_ddr_verify_opts_default(struct ds_ddr_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 3000;
	o->opportunistic = true;
}

static void verify_arm(struct ds_ddr_verify *v, unsigned ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(v->step_ev, &tv);
}

static void verify_answered(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
			    struct dns_response *r)
{
	struct ds_ddr_verify *v = arg;

	(void)pkt;
	(void)len;
	(void)r;
	v->h = NULL;
	v->answered = true;
	v->err = err;
	verify_arm(v, 0);
}

/* The attempt ends: its verdict recorded, its client freed. */
static void verify_end_attempt(struct ds_ddr_verify *v)
{
	struct ds_ddr_verdict *x = &v->v[v->i];
	struct ds_upstream_status st;
	bool ok = v->answered && v->err == DS_UP_OK;
	char *why = v->ph == PH_OPP ? x->opp_why : v->ph == PH_PIN ? x->pin_why : x->why;
	size_t whylen = sizeof(x->why);

	if (!v->u)
		return;
	if (v->h) {
		ds_upstream_cancel(v->h);
		v->h = NULL;
	}
	ds_upstream_get_status(v->u, &st);
	if (st.spki_sha256[0])
		snprintf(x->key_sha256, sizeof(x->key_sha256), "%s", st.spki_sha256);
	if (ok) {
		why[0] = '\0';
		snprintf(x->addr, sizeof(x->addr), "%s", st.addr);
	} else {
		snprintf(why, whylen, "%s", st.last_error[0] ? st.last_error
				      : ds_upstream_err_str(v->answered ? v->err : DS_UP_ERR_TIMEOUT));
	}
	if (v->ph == PH_PKIX)
		x->verified = ok;
	else if (v->ph == PH_OPP)
		x->opportunistic = ok;
	else if (ok)
		x->pinned = true;
	else if (v->answered && v->err == DS_UP_ERR_AUTH)
		x->pin_refused = true;
	ds_upstream_free(v->u);
	v->u = NULL;
}

/* Pin mode: d (a PKIX description of the designation) authenticated by
 * the pinned key alone.  0 or -EINVAL. */
static int pin_desc(const char *pin_hex, struct ds_upstream_desc *d)
{
	char text[16 + 64];
	struct ds_tlsa t;
	int r;

	snprintf(text, sizeof(text), "3 1 1 %s", pin_hex);
	if (ds_tlsa_parse(text, &t) < 0)
		return -EINVAL;
	d->auth = DS_AUTH_DANE;
	memset(&d->pkix_ip, 0, sizeof(d->pkix_ip));
	r = ds_upstream_desc_add_tlsa(d, &t);
	free(t.data);
	return r;
}

/* Start one attempt at designation i in the current phase; false if there
 * is nothing to try (no address, or opportunistic use not allowed). */
static bool verify_begin_attempt(struct ds_ddr_verify *v)
{
	struct ds_ddr_verdict *x = &v->v[v->i];
	struct ds_upstream_opts uo;
	struct ds_upstream_desc d;
	struct dns_query q;
	int err = 0, r;

	memset(&d, 0, sizeof(d));
	r = ddr_designation_desc(&x->g, &v->resolver, v->ph == PH_OPP, &d);
	if (r == 0 && v->ph == PH_PIN && pin_desc(v->o.pin_sha256, &d) < 0) {
		ds_upstream_desc_clear(&d);
		r = -EINVAL;
	}
	if (r < 0) {
		if (v->ph != PH_OPP)
			snprintf(v->ph == PH_PIN ? x->pin_why : x->why, sizeof(x->why), "%s",
				 r == -ENOENT ? "no address hints: the name must be resolved first"
					      : "no usable description");
		return false;
	}
	snprintf(d.network, sizeof(d.network), "%s", v->o.network);
	ds_upstream_opts_default(&uo);
	uo.ca_file = v->o.ca_file;
	uo.allow_tls12 = v->o.allow_tls12;
	uo.query_timeout_ms = v->o.timeout_ms;
	uo.connect_timeout_ms = v->o.timeout_ms;
	uo.max_tries = 1;
	v->answered = false;
	v->u = ds_upstream_new(v->base, &d, &uo, &err);
	ds_upstream_desc_clear(&d);
	if (v->ph != PH_OPP)
		x->tried = true;
	if (!v->u) {
		snprintf(v->ph == PH_OPP ? x->opp_why : v->ph == PH_PIN ? x->pin_why : x->why,
			 sizeof(x->why), "cannot make a DoT client: %s", strerror(-err));
		return false;
	}
	memset(&q, 0, sizeof(q));
	r = dns_name_from_str(DDR_QUERY_NAME, q.qname);
	q.qname_len = r > 0 ? (size_t)r : 0;
	q.qtype = DDR_TYPE_SVCB;
	q.qclass = DNS_CLASS_IN;
	q.flags = DNS_FLAG_RD;
	v->h = ds_upstream_submit(v->u, &q, verify_answered, v);
	if (!v->h) {
		verify_end_attempt(v);
		return false;
	}
	/* the client's own timeouts end it; this is a backstop */
	verify_arm(v, 2 * v->o.timeout_ms + 100);
	return true;
}

/* Move on from the attempt that ended to the next one; false when done. */
static bool verify_next(struct ds_ddr_verify *v)
{
	for (;;) {
		struct ds_ddr_verdict *x;

		x = &v->v[v->i];
		if (v->ph == PH_PIN && x->pin_refused) {
			/* another key: does its certificate vouch for it? */
			v->ph = PH_PKIX;
			if (verify_begin_attempt(v))
				return true;
			continue;
		}
		if (v->ph == PH_PKIX && !v->o.pin_sha256[0]) {
			if (!x->verified && x->g.opportunistic_ok && v->o.opportunistic) {
				v->ph = PH_OPP;
				if (verify_begin_attempt(v))
					return true;
				continue;
			}
		}
		if (v->o.stop_at_first && (x->verified || x->opportunistic || x->pinned))
			return false;
		v->i++;
		v->ph = v->o.pin_sha256[0] ? PH_PIN : PH_PKIX;
		if (v->i >= v->n)
			return false;
		if (verify_begin_attempt(v))
			return true;
	}
}

static void verify_step(evutil_socket_t fd, short what, void *arg)
{
	struct ds_ddr_verify *v = arg;

	(void)fd;
	(void)what;
	if (v->u) {
		verify_end_attempt(v);
		if (verify_next(v))
			return;
	} else if (v->i < v->n && verify_begin_attempt(v)) {
		return; /* the first attempt */
	} else if (v->i < v->n && verify_next(v)) {
		return;
	}
	v->i = v->n; /* done: nothing more runs */
	v->cb(v->arg, v->v, v->n);
}

int ds_ddr_verify_start(struct event_base *base, const struct ddr_designation *g, int n,
			const struct sockaddr_storage *resolver, const struct ds_ddr_verify_opts *o,
			ds_ddr_verify_cb *cb, void *arg, struct ds_ddr_verify **ret)
{
	struct ds_ddr_verify *v;

	if (n < 0 || !cb)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->step_ev = evtimer_new(base, verify_step, v);
	if (!v->step_ev) {
		free(v);
		return -ENOMEM;
	}
	v->base = base;
	v->o = *o;
	if (v->o.timeout_ms == 0)
		v->o.timeout_ms = 3000;
	v->resolver = *resolver;
	v->ph = v->o.pin_sha256[0] ? PH_PIN : PH_PKIX;
	v->n = n < DDR_MAX_DESIGNATIONS ? n : DDR_MAX_DESIGNATIONS;
	for (int i = 0; i < v->n; i++)
		v->v[i].g = g[i];
	v->cb = cb;
	v->arg = arg;
	verify_arm(v, 0);
	*ret = v;
	return 0;
}

void ds_ddr_verify_free(struct ds_ddr_verify *v)
{
	if (!v)
		return;
	if (v->h)
		ds_upstream_cancel(v->h);
	if (v->u)
		ds_upstream_free(v->u);
	event_free(v->step_ev);
	free(v);
}
