/*
 * netmgr_ddr.c -- a network's designated resolvers (DDR, RFC 9462):
 * where a walk gave no DoT from resolver-name.arpa, the DoT designations
 * of the network's resolver's own answer (the walk job asked for them) are
 * tried with the DoT client, on the daemon's loop (dotstub/ddr_verify.h),
 * verified first and opportunistic where RFC 9462 4.3 allows it; the
 * policy then decides on the walk's result and what they gave
 * (netmgr_decide.c), and this serves the designated resolver it chose.
 */
#include "netmgr_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dotstub/log.h"

/* The walk's verdicts after which the policy may look at designations:
 * no DoT from resolver-name.arpa, or a transparent forwarder's. */
static bool ddr_wanted(const struct ds_netmgr *nm, const struct disc_result *res)
{
	if (!nm->d->cfg->ddr || nm->match != TRUST_MATCH_NONE)
		return false;
	switch (res->kind) {
	case TRUST_DISC_NOT_PUBLISHED:
	case TRUST_DISC_UNREACHABLE:
	case TRUST_DISC_BOGUS:
	case TRUST_DISC_FAILED:
		return true;
	case TRUST_DISC_OK:
		return res->transparent && !nm->d->cfg->prefer_upstream_resolver;
	default:
		return false;
	}
}

static void ddr_say(struct ds_netmgr *nm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ddr_say(struct ds_netmgr *nm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nm->desig.said, sizeof(nm->desig.said), fmt, ap);
	va_end(ap);
	log_notice("network %s: DDR: %s", nm->fp_id, nm->desig.said);
}

struct disc_result *nm_ddr_result(struct ds_netmgr *nm, const struct ds_ddr_verdict *v, int n,
				  bool *ret_first_use)
{
	struct disc_result *res = nm->desig.res;
	const struct ds_ddr_verdict *ver = NULL, *opp = NULL;

	*ret_first_use = nm->desig.first_use;
	nm->desig.res = NULL;
	for (int i = 0; i < n; i++) {
		if (v[i].verified && !ver)
			ver = &v[i];
		if (v[i].opportunistic && !opp)
			opp = &v[i];
	}
	if (ver) {
		nm->desig.outcome = TRUST_DESIG_VERIFIED;
		nm->desig.verdict = *ver;
		ddr_say(nm, "%s verified: its certificate is valid for %s and names the network's "
			    "resolver (RFC 9462 4.2), key sha256 %s",
			ver->g.adn, ver->g.adn, ver->key_sha256);
	} else if (opp) {
		nm->desig.outcome = TRUST_DESIG_OPPORTUNISTIC;
		nm->desig.verdict = *opp;
		ddr_say(nm, "%s not verified (%s); DoT, unauthenticated, answered at the resolver's "
			    "own private address (RFC 9462 4.3), key sha256 %s",
			opp->g.adn, opp->why, opp->key_sha256);
	} else if (n > 0) {
		ddr_say(nm, "%s not verified: %s%s%s", v[0].g.adn, v[0].why,
			v[0].opp_why[0] ? "; opportunistic: " : "", v[0].opp_why);
	}
	/* v lives in the run: freed last */
	ds_ddr_verify_free(nm->desig.run);
	nm->desig.run = NULL;
	return res;
}

bool nm_ddr_start(struct ds_netmgr *nm, const struct ddr_query *q, struct disc_result *res,
		  ds_ddr_verify_cb *done)
{
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	struct ds_ddr_verify_opts o;
	char reason[DDR_REASON_MAX];
	int n, r;

	nm_ddr_stop(nm);
	nm->desig.said[0] = '\0';
	if (!q || nm->nres < 1 || !ddr_wanted(nm, res))
		return false;
	nm->desig.resolver = nm->res[0];
	n = ddr_designate_query(q, &nm->desig.resolver, g, DDR_MAX_DESIGNATIONS, reason,
				sizeof(reason));
	if (n <= 0) {
		ddr_say(nm, "%s", reason);
		return false;
	}
	ds_ddr_verify_opts_default(&o);
	o.ca_file = nm->d->cfg->ca_file[0] ? nm->d->cfg->ca_file : NULL;
	o.allow_tls12 = nm->d->cfg->allow_tls12;
	o.opportunistic = true;
	o.stop_at_first = true;
	snprintf(o.network, sizeof(o.network), "%s", nm->fp_id);
	r = ds_ddr_verify_start(nm->d->base, g, n, &nm->desig.resolver, &o, done, nm,
				&nm->desig.run);
	if (r < 0) {
		ddr_say(nm, "cannot try the designated resolvers: %s", strerror(-r));
		return false;
	}
	nm->desig.res = res;
	nm->desig.first_use = nm->job_first_use;
	log_info("network %s: DDR: %d DoT designation(s), trying %s first", nm->fp_id, n,
		 g[0].adn);
	return true;
}

void nm_ddr_stop(struct ds_netmgr *nm)
{
	ds_ddr_verify_free(nm->desig.run);
	nm->desig.run = NULL;
	if (nm->desig.res)
		disc_result_free(nm->desig.res);
	nm->desig.res = NULL;
	nm->desig.outcome = TRUST_DESIG_NONE;
	memset(&nm->desig.verdict, 0, sizeof(nm->desig.verdict));
}

void nm_ddr_serve(struct ds_netmgr *nm, const struct trust_decision *dec, const char *why)
{
	const struct ds_ddr_verdict *v = &nm->desig.verdict;
	bool opp = dec->action == TRUST_ACT_USE_OPPORTUNISTIC;
	struct ds_upstream_desc desc;
	char how[768];

	memset(&desc, 0, sizeof(desc));
	if ((opp ? nm->desig.outcome != TRUST_DESIG_OPPORTUNISTIC
		 : nm->desig.outcome != TRUST_DESIG_VERIFIED) ||
	    ddr_designation_desc(&v->g, &nm->desig.resolver, opp, &desc) < 0) {
		nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_NETWORK_ERROR,
				 "the designated resolver cannot be used");
		return;
	}
	snprintf(how, sizeof(how), "%s (%s, key sha256 %.16s...)", why,
		 opp ? "DDR opportunistic" : "DDR, verified by its certificate (PKIX)",
		 v->key_sha256);
	nm_serve_dot(nm, &desc, how);
	ds_upstream_desc_clear(&desc);
}
