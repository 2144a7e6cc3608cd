/*
 * discover_verify.c -- a DoT connection to each designated resolver of a
 * DDR answer, tried as dotstubd tries them (dotstub/ddr_verify.h, on a
 * loop of its own here): PKIX for the ADN and the resolver's address (RFC
 * 9462 4.2), then opportunistic where 4.3 allows it; and the results
 * printed.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/jsonstr.h"

#include "discover_verify.h"
#include "json.h"

struct verify_run {
	struct event_base *base;
	struct ds_ddr_verdict *out;
	int cap, n;
	bool done;
};

static void verify_done(void *arg, const struct ds_ddr_verdict *v, int n)
{
	struct verify_run *r = arg;

	r->n = n < r->cap ? n : r->cap;
	memcpy(r->out, v, (size_t)r->n * sizeof(*v));
	r->done = true;
	event_base_loopbreak(r->base);
}

int ctl_ddr_verify(const struct ddr_query *q, const struct sockaddr_storage *resolver,
		   const char *ca_file, unsigned timeout_ms, struct ds_ddr_verdict *out, int cap)
{
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	char reason[DDR_REASON_MAX];
	int n = ddr_designate_query(q, resolver, g, DDR_MAX_DESIGNATIONS, reason, sizeof(reason));

	return ctl_designations_verify(g, n, resolver, ca_file, timeout_ms, out, cap);
}

int ctl_designations_verify(const struct ddr_designation *g, int n,
			    const struct sockaddr_storage *resolver, const char *ca_file,
			    unsigned timeout_ms, struct ds_ddr_verdict *out, int cap)
{
	struct verify_run r = { .out = out, .cap = cap };
	struct ds_ddr_verify_opts o;
	struct ds_ddr_verify *v = NULL;

	if (n <= 0 || cap <= 0)
		return 0;
	r.base = event_base_new();
	if (r.base == NULL)
		return 0;
	ds_ddr_verify_opts_default(&o);
	o.ca_file = ca_file;
	o.timeout_ms = timeout_ms;
	o.opportunistic = true;
	o.stop_at_first = false;
	if (ds_ddr_verify_start(r.base, g, n, resolver, &o, verify_done, &r, &v) == 0) {
		while (!r.done && event_base_dispatch(r.base) == 0)
			;
		ds_ddr_verify_free(v);
	}
	event_base_free(r.base);
	return r.n;
}

void ctl_ddr_verify_print_text(FILE *f, const struct ds_ddr_verdict *v, int n,
			       const char *addr)
{
	for (int i = 0; i < n; i++) {
		const struct ds_ddr_verdict *x = &v[i];

		if (x->verified && x->g.origin == DDR_ORIGIN_DNR)
			fprintf(f, "dnr: %s (priority %u): verified: DoT answered, the certificate "
				   "is valid for %s (RFC 9463), key sha256 %s\n",
				x->g.adn, x->g.priority, x->g.adn, x->key_sha256);
		else if (x->g.origin == DDR_ORIGIN_DNR)
			fprintf(f, "dnr: %s (priority %u): not verified: %s\n", x->g.adn,
				x->g.priority, x->why);
		else if (x->verified)
			fprintf(f, "ddr: %s (priority %u): verified: DoT answered, the certificate "
				   "is valid for %s and names %s (RFC 9462 4.2), key sha256 %s\n",
				x->g.adn, x->g.priority, x->g.adn, addr, x->key_sha256);
		else
			fprintf(f, "ddr: %s (priority %u): not verified: %s\n", x->g.adn,
				x->g.priority, x->why);
		if (x->verified || x->g.origin == DDR_ORIGIN_DNR)
			continue;
		if (x->opportunistic)
			fprintf(f, "ddr: %s: opportunistic: DoT, unauthenticated, answered at %s "
				   "(RFC 9462 4.3: a private address), key sha256 %s\n",
				x->g.adn, addr, x->key_sha256);
		else if (x->g.opportunistic_ok)
			fprintf(f, "ddr: %s: opportunistic failed too: %s\n", x->g.adn, x->opp_why);
		else if (x->tried)
			fprintf(f, "ddr: %s: no opportunistic use (RFC 9462 4.3 allows it only for "
				   "a private resolver's own address)\n", x->g.adn);
	}
}

void ctl_ddr_verify_print_json(FILE *f, const struct ds_ddr_verdict *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		const struct ds_ddr_verdict *x = &v[i];

		fputs(i ? ",{\"adn\":" : "{\"adn\":", f);
		ds_json_fputs(f, x->g.adn);
		fprintf(f, ",\"priority\":%u,\"tried\":%s,\"verified\":%s,\"reason\":", x->g.priority,
			x->tried ? "true" : "false", x->verified ? "true" : "false");
		ds_json_fputs(f, x->why);
		fprintf(f, ",\"opportunistic_allowed\":%s,\"opportunistic\":%s,\"key_sha256\":",
			x->g.opportunistic_ok ? "true" : "false", x->opportunistic ? "true" : "false");
		ds_json_fputs(f, x->key_sha256);
		fputc('}', f);
	}
	fputc(']', f);
}
