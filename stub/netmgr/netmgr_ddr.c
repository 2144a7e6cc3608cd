/*
 * netmgr_ddr.c -- a network's designated resolvers (DDR, RFC 9462):
 * where a walk gave no DoT from resolver-name.arpa, the DoT designations
 * of the network's resolver's own answer (the walk job asked for them) are
 * tried with the DoT client, on the daemon's loop (dotstub/ddr_verify.h),
 * verified first and opportunistic where RFC 9462 4.3 allows it; the
 * policy then decides on the walk's result and what they gave
 * (netmgr_decide.c), and this serves the designated resolver it chose.
 * The key of the designated resolver first used on a network is pinned
 * for that network in the trust store; on later visits the designations
 * are tried with that key alone: another key is refused, unless the
 * certificate that carries it verifies under PKIX as a verified
 * designation's must (a renewed certificate), and then it replaces the pin.
 * A DNR designation in ADN-only mode (RFC 9463 3.1.6) is tried with the
 * addresses the walk job found for its ADN through the network's resolver
 * (RFC 9462 5, ddr_resolve_adn), and verified as any DNR one: PKIX for the
 * ADN, the ADN as SNI, the pin; one that did not resolve is left out,
 * with the reason.
 */
#include "netmgr_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dotstub/hex.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

/* The walk's verdicts after which the policy may look at designations:
 * no DoT from resolver-name.arpa, or a transparent forwarder's. */
static bool ddr_wanted(const struct ds_netmgr *nm, const struct disc_result *res)
{
	if (nm->match != TRUST_MATCH_NONE)
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

static const char *source_word(const struct ddr_designation *g)
{
	return g->origin == DDR_ORIGIN_DDR ? "DDR" : "DNR";
}

/* Where the pinned key came from, for humans. */
static const char *pin_word(const struct ds_netmgr *nm)
{
	return nm->desig.pin_source == TRUST_DPIN_DNR ? "DNR" : "DDR";
}

/* Pin mode: another key, and its certificate verifies (PKIX): renewed. */
static void ddr_pin_renewed(struct ds_netmgr *nm, const struct ds_ddr_verdict *v)
{
	nm->desig.outcome = TRUST_DESIG_PIN_RENEWED;
	nm->desig.verdict = *v;
	ddr_say(nm, "%s presented a new key (sha256 %s, not the pinned %.16s... (%s)), verified "
		    "by its certificate (PKIX): %s",
		v->g.adn, v->key_sha256, nm->desig.pin, pin_word(nm),
		v->g.origin == DDR_ORIGIN_DNR ? "valid for its ADN (RFC 9463)"
					      : "valid for its ADN and naming the network's "
						"resolver (RFC 9462 4.2)");
}

/* Pin mode: the designation that proved the pinned key, a renewed
 * certificate, or the alert. */
static void ddr_pin_result(struct ds_netmgr *nm, const struct ds_ddr_verdict *v, int n)
{
	const struct ds_ddr_verdict *ok = NULL, *bad = NULL;

	for (int i = 0; i < n; i++) {
		if (v[i].pinned && !ok)
			ok = &v[i];
		if (v[i].pin_refused && !bad)
			bad = &v[i];
	}
	if (ok) {
		nm->desig.outcome = TRUST_DESIG_PINNED;
		nm->desig.verdict = *ok;
		ddr_say(nm, "%s authenticated by its pinned key (%s), key sha256 %s", ok->g.adn,
			pin_word(nm), nm->desig.pin);
	} else if (bad && bad->verified) {
		ddr_pin_renewed(nm, bad);
	} else if (bad) {
		nm->desig.outcome = TRUST_DESIG_PIN_CHANGED;
		nm->desig.verdict = *bad;
		ddr_say(nm, "%s does not have the key pinned for this network (%s, key sha256 "
			    "%.16s...): %s; nor does its certificate verify (PKIX): %s",
			bad->g.adn, pin_word(nm), nm->desig.pin, bad->pin_why,
			bad->why[0] ? bad->why : "not tried");
		log_err("ALERT network %s: the designated resolver %s presented another key than "
			"the one pinned for this network (sha256 %.16s...) and no certificate that "
			"verifies: refused; `dotctl trust forget %.16s` if the change is legitimate",
			nm->fp_id, bad->g.adn, nm->desig.pin, nm->desig.pin);
	} else if (n > 0) {
		ddr_say(nm, "%s: the pinned key (sha256 %.16s...) not proved: %s", v[0].g.adn,
			nm->desig.pin, v[0].pin_why);
	}
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
	if (nm->desig.pin[0]) {
		ddr_pin_result(nm, v, n);
	} else if (ver) {
		nm->desig.outcome = TRUST_DESIG_VERIFIED;
		nm->desig.verdict = *ver;
		if (ver->g.origin == DDR_ORIGIN_DNR)
			ddr_say(nm, "%s verified (DNR): its certificate is valid for %s "
				    "(RFC 9463), key sha256 %s",
				ver->g.adn, ver->g.adn, ver->key_sha256);
		else
			ddr_say(nm, "%s verified: its certificate is valid for %s and names the "
				    "network's resolver (RFC 9462 4.2), key sha256 %s",
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

/* The key pinned for this network, if any, into desig.pin. */
static void ddr_load_pin(struct ds_netmgr *nm)
{
	const struct trust_dpin *p =
		nm->have_fp && nm->store ? trust_store_find_dpin(nm->store, nm->fp_text) : NULL;

	nm->desig.pin[0] = '\0';
	if (!p)
		return;
	ds_hex_encode(p->spki, TRUST_SHA256_LEN, nm->desig.pin);
	nm->desig.pin_source = p->source;
}

/* The link nm sits on (a link's own network: its link; the default
 * network: its default route's), or 0 if none is known. */
static int nm_link_ifindex(const struct ds_netmgr *nm)
{
	if (nm->is_link)
		return nm->ifindex;
	if (nm->have_fp && nm->fp.af[DS_NETFP_V4].route)
		return nm->fp.af[DS_NETFP_V4].ifindex;
	if (nm->have_fp && nm->fp.af[DS_NETFP_V6].route)
		return nm->fp.af[DS_NETFP_V6].ifindex;
	return 0;
}

/* The DNR designations of the link nm sits on, or NULL; *n set.  The
 * links' hub keeps them (netmgr_links.c). */
static const struct ds_link_dnr *link_dnr(const struct ds_netmgr *nm, int *n)
{
	const struct nm_hub *hub = nm->hub;
	int ifindex = nm_link_ifindex(nm);

	*n = 0;
	for (int i = 0; hub && ifindex > 0 && i < hub->ndnr; i++)
		if (hub->dnr[i].ifindex == ifindex) {
			*n = hub->dnr[i].n;
			return hub->dnr[i].g;
		}
	return NULL;
}

int nm_ddr_adn_only(const struct ds_netmgr *nm, struct ds_walkjob_adn *out, int cap)
{
	int n = 0, nd = 0;
	const struct ds_link_dnr *dnr = nm->d->cfg->dnr ? link_dnr(nm, &nd) : NULL;

	for (int i = 0; dnr && i < nd && n < cap; i++) {
		if (dnr[i].naddr > 0 || strlen(dnr[i].adn) >= sizeof(out[n].adn))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].adn, dnr[i].adn, strlen(dnr[i].adn) + 1);
		out[n].priority = dnr[i].priority;
		n++;
	}
	return n;
}

/* What the walk job found for the ADN-only designation d (RFC 9463
 * 3.1.6), into x: true if it resolved to addresses.  Said in the log, and
 * kept in note (for status) when it did not. */
static bool dnr_resolved(const struct ds_netmgr *nm, const struct ds_link_dnr *d,
			 const struct ds_walkjob_adn *adn, int nadn, struct ddr_designation *x,
			 char *note, size_t notelen)
{
	const struct ds_walkjob_adn *a = NULL;
	const struct sockaddr_storage *ss = &nm->desig.resolver;
	char res[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, res, sizeof(res));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, res, sizeof(res));
	for (int i = 0; i < nadn && !a; i++)
		if (adn[i].asked && !strcasecmp(adn[i].adn, d->adn))
			a = &adn[i];
	if (a && a->rc == 0) {
		log_notice("network %s: DNR: %s (ADN only) resolved through %s: %s", nm->fp_id,
			   d->adn, res, a->said);
		memcpy(x->addr, a->g.addr, sizeof(x->addr[0]) * (size_t)a->g.naddr);
		x->naddr = a->g.naddr;
		return true;
	}
	/* cut if long: the log line below says it whole */
	if (snprintf(note, notelen, "DNR: %s (ADN only) not resolved through %s: %s", d->adn, res,
		     a ? a->said : "not asked yet") < 0)
		note[0] = '\0';
	log_notice("network %s: DNR: %s (ADN only) not resolved through %s: %s", nm->fp_id,
		   d->adn, res, a ? a->said : "not asked yet");
	return false;
}

/* The link's DNR designations (RFC 9463: verified by their ADN alone),
 * into g, the ADN-only ones with the addresses the walk job found for
 * them; how many.  note says why an ADN-only one is left out. */
static int dnr_designations(const struct ds_netmgr *nm, const struct ds_walkjob_adn *adn,
			    int nadn, struct ddr_designation *g, int cap, char *note,
			    size_t notelen)
{
	int n = 0, nd = 0;
	const struct ds_link_dnr *dnr = nm->d->cfg->dnr ? link_dnr(nm, &nd) : NULL;

	for (int i = 0; dnr && i < nd && n < cap; i++) {
		struct ddr_designation *x = &g[n];

		if (strlen(dnr[i].adn) >= sizeof(x->adn))
			continue;
		memset(x, 0, sizeof(*x));
		x->origin = DDR_ORIGIN_DNR;
		x->priority = dnr[i].priority;
		memcpy(x->adn, dnr[i].adn, strlen(dnr[i].adn) + 1);
		for (int k = 0; k < dnr[i].naddr && x->naddr < DS_MAX_UPSTREAM_ADDRS; k++)
			x->addr[x->naddr++] = dnr[i].addr[k];
		if (dnr[i].naddr == 0 &&
		    !dnr_resolved(nm, &dnr[i], adn, nadn, x, note, notelen))
			continue;
		n++;
	}
	/* by priority: the order a DHCP option would give */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && g[j].priority < g[j - 1].priority; j--) {
			struct ddr_designation t = g[j];

			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	return n;
}

bool nm_ddr_start(struct ds_netmgr *nm, const struct ddr_query *q,
		  const struct ds_walkjob_adn *adn, int nadn, struct disc_result *res,
		  ds_ddr_verify_cb *done)
{
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	struct ds_ddr_verify_opts o;
	char reason[DDR_REASON_MAX], note[sizeof(nm->desig.said) / 2];
	int n, ndnr = 0, r, ifindex;

	nm_ddr_stop(nm);
	nm->desig.said[0] = '\0';
	if (nm->nres < 1 || !ddr_wanted(nm, res))
		return false;
	nm->desig.resolver = nm->res[0];
	/* DNR first (the link's own word), then DDR (RFC 9463 over 9462) */
	note[0] = '\0';
	ndnr = n = dnr_designations(nm, adn, nadn, g, DDR_MAX_DESIGNATIONS, note, sizeof(note));
	reason[0] = '\0';
	if (q && nm->d->cfg->ddr && n < DDR_MAX_DESIGNATIONS) {
		r = ddr_designate_query(q, &nm->desig.resolver, g + n, DDR_MAX_DESIGNATIONS - n,
					reason, sizeof(reason));
		n += r > 0 ? r : 0;
	}
	if (n <= 0) {
		if (note[0] || reason[0])
			ddr_say(nm, "%s%s%s", note, note[0] && reason[0] ? "; " : "", reason);
		return false;
	}
	/* a link-local address (an SVCB hint or AAAA record of DDR or of an
	 * ADN-only designation) is reachable on this network's link only */
	if ((ifindex = nm_link_ifindex(nm)) > 0)
		for (int i = 0; i < n; i++)
			for (int k = 0; k < g[i].naddr; k++)
				ds_sockaddr_scope_to_link(&g[i].addr[k], (unsigned)ifindex);
	ds_ddr_verify_opts_default(&o);
	ddr_load_pin(nm);
	snprintf(o.pin_sha256, sizeof(o.pin_sha256), "%s", nm->desig.pin);
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
	if (ndnr > 0)
		log_notice("network %s: DDR: %d DoT designation(s) (%d from DNR, tried first), "
			   "trying %s first%s",
			   nm->fp_id, n, ndnr, g[0].adn,
			   nm->desig.pin[0] ? " with the key pinned for this network" : "");
	else
		log_info("network %s: DDR: %d DoT designation(s), trying %s first%s", nm->fp_id, n,
			 g[0].adn, nm->desig.pin[0] ? " with the key pinned for this network" : "");
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

/* First use on this network: pin the designated resolver's key for it
 * (the store process checks it again and never replaces another pin);
 * the same key again only moves its last seen. */
/* What a pin of v's key needs: the network fingerprinted, a store, and
 * the key's SPKI SHA-256 decoded into spki; its source into *src. */
static bool ddr_pin_key(const struct ds_netmgr *nm, const struct ds_ddr_verdict *v,
			uint8_t spki[TRUST_SHA256_LEN], enum trust_dpin_source *src)
{
	*src = v->g.origin == DDR_ORIGIN_DDR ? TRUST_DPIN_DDR : TRUST_DPIN_DNR;
	return nm->have_fp && nm->store && strlen(v->key_sha256) == 2 * TRUST_SHA256_LEN &&
	       ds_hex_decode(v->key_sha256, 2 * TRUST_SHA256_LEN, spki, TRUST_SHA256_LEN) >= 0;
}

static void ddr_pin_first_use(struct ds_netmgr *nm, const struct ds_ddr_verdict *v)
{
	uint8_t spki[TRUST_SHA256_LEN];
	enum trust_dpin_source src;
	int r;

	if (!ddr_pin_key(nm, v, spki, &src))
		return;
	r = trust_store_pin_designated(nm->store, nm->fp_text, src, v->g.adn, spki,
				       ds_wall_now(), NULL);
	if (r < 0) {
		log_warn("network %s: cannot pin the designated resolver %s's key: %s", nm->fp_id,
			 v->g.adn, strerror(-r));
		return;
	}
	if (r == 1)
		log_notice("network %s: %s: pinned the key of the designated resolver %s for this "
			   "network (sha256 %s)",
			   nm->fp_id, source_word(&v->g), v->g.adn, v->key_sha256);
	nm_store_save(nm);
}

/* A renewed certificate: its key replaces the one pinned for this network
 * (the store process checks it again: the same name, a pin there). */
static void ddr_repin(struct ds_netmgr *nm, const struct ds_ddr_verdict *v)
{
	uint8_t spki[TRUST_SHA256_LEN];
	enum trust_dpin_source src;
	int r;

	if (!ddr_pin_key(nm, v, spki, &src))
		return;
	r = trust_store_replace_designated(nm->store, nm->fp_text, src, v->g.adn, spki,
					   ds_wall_now(), NULL);
	if (r < 0) {
		log_warn("network %s: cannot replace the key pinned for the designated resolver "
			 "%s: %s",
			 nm->fp_id, v->g.adn, r == -EPERM ? "pinned for another name" : strerror(-r));
		return;
	}
	if (r == 1)
		log_notice("designated resolver %s on network %s: new key, verified by its "
			   "certificate (PKIX): pin replaced (sha256 %.16s... was %.16s..., %s)",
			   v->g.adn, nm->fp_id, v->key_sha256, nm->desig.pin, source_word(&v->g));
	nm_store_save(nm);
}

/* The description to serve with: PKIX, opportunistic, or the pinned key. */
static int ddr_serve_desc(struct ds_netmgr *nm, const struct trust_decision *dec,
			  struct ds_upstream_desc *desc)
{
	const struct ds_ddr_verdict *v = &nm->desig.verdict;
	bool opp = dec->action == TRUST_ACT_USE_OPPORTUNISTIC;
	enum trust_designated want = opp ? TRUST_DESIG_OPPORTUNISTIC
				     : nm->desig.outcome == TRUST_DESIG_PINNED ? TRUST_DESIG_PINNED
									       : TRUST_DESIG_VERIFIED;
	/* a renewed certificate is served as a verified one: by PKIX */
	enum trust_designated have = nm->desig.outcome == TRUST_DESIG_PIN_RENEWED
					     ? TRUST_DESIG_VERIFIED
					     : nm->desig.outcome;
	char text[16 + 2 * TRUST_SHA256_LEN];
	struct ds_tlsa t;
	int r;

	if (have != want ||
	    ddr_designation_desc(&v->g, &nm->desig.resolver, opp, desc) < 0)
		return -EINVAL;
	if (want != TRUST_DESIG_PINNED)
		return 0;
	snprintf(text, sizeof(text), "3 1 1 %s", nm->desig.pin);
	if (ds_tlsa_parse(text, &t) < 0)
		return -EINVAL;
	desc->auth = DS_AUTH_DANE;
	memset(&desc->pkix_ip, 0, sizeof(desc->pkix_ip));
	r = ds_upstream_desc_add_tlsa(desc, &t);
	free(t.data);
	return r;
}

void nm_ddr_serve(struct ds_netmgr *nm, const struct trust_decision *dec, const char *why)
{
	const struct ds_ddr_verdict *v = &nm->desig.verdict;
	struct ds_upstream_desc desc;
	char how[768];

	memset(&desc, 0, sizeof(desc));
	if (ddr_serve_desc(nm, dec, &desc) < 0) {
		ds_upstream_desc_clear(&desc);
		nm_serve_nothing(nm, TRUST_POSTURE_FAILED, DNS_EDE_NETWORK_ERROR,
				 "the designated resolver cannot be used");
		return;
	}
	if (nm->desig.outcome == TRUST_DESIG_PINNED)
		snprintf(how, sizeof(how), "%s (authenticated by its pinned key (%s), key sha256 "
			 "%.16s...)", why, source_word(&v->g), nm->desig.pin);
	else if (nm->desig.outcome == TRUST_DESIG_PIN_RENEWED)
		snprintf(how, sizeof(how), "%s (%s, verified by its certificate (PKIX), a new key: "
			 "the pin replaced, key sha256 %.16s...)", why, source_word(&v->g),
			 v->key_sha256);
	else
		snprintf(how, sizeof(how), "%s (%s, key sha256 %.16s...)", why,
			 nm->desig.outcome == TRUST_DESIG_OPPORTUNISTIC ? "DDR opportunistic"
			 : v->g.origin == DDR_ORIGIN_DNR ? "DNR, verified by its certificate (PKIX)"
							 : "DDR, verified by its certificate (PKIX)",
			 v->key_sha256);
	nm_serve_dot(nm, &desc, how);
	ds_upstream_desc_clear(&desc);
	/* pinned on first use; on later visits its last seen moves; a
	 * renewed certificate's key replaces the pin */
	if (nm->desig.outcome == TRUST_DESIG_PIN_RENEWED)
		ddr_repin(nm, v);
	else
		ddr_pin_first_use(nm, v);
}
