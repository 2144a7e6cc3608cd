/*
 * walk.c -- disc_walk(): check the parameters, run the steps in order,
 * hand back the result.  The steps live in walk_ksk.c (1), walk_zone.c
 * (2-4) and walk_data.c (5, forwarders).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/log.h"
#include "ub_load.h"
#include "walk_int.h"

#define DISC_DEFAULT_TIMEOUT_MS 15000

/* "ADDR" or "ADDR@PORT", ADDR a numeric IPv4 or IPv6 address. */
static int
check_resolver(const char *s, char *out, size_t outlen)
{
	char buf[DISC_ADDR_STR_MAX], *at, *end;
	struct in6_addr a6;
	struct in_addr a4;
	unsigned long port;

	if (!s || strlen(s) >= sizeof(buf) || strlen(s) >= outlen)
		return -EINVAL;
	strcpy(buf, s);
	at = strrchr(buf, '@');
	if (at) {
		*at++ = '\0';
		errno = 0;
		port = strtoul(at, &end, 10);
		if (at[0] < '0' || at[0] > '9' || *end != '\0' || errno || port == 0 ||
		    port > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a4) != 1 && inet_pton(AF_INET6, buf, &a6) != 1)
		return -EINVAL;
	strcpy(out, s);
	return 0;
}

/* Whether a resolver address walked ("ADDR[@PORT]") is one the
 * publication lists. */
static bool
walked_is_published(const char *fwd, const struct ds_upstream_desc *d)
{
	char buf[DISC_ADDR_STR_MAX], *at;
	struct in6_addr a6;
	struct in_addr a4;
	int i;

	snprintf(buf, sizeof(buf), "%s", fwd);
	if ((at = strrchr(buf, '@')))
		*at = '\0';
	for (i = 0; i < d->naddr; i++) {
		const struct sockaddr_storage *ss = &d->addr[i];

		if (ss->ss_family == AF_INET && inet_pton(AF_INET, buf, &a4) == 1 &&
		    memcmp(&((const struct sockaddr_in *)ss)->sin_addr, &a4, sizeof(a4)) == 0)
			return true;
		if (ss->ss_family == AF_INET6 && inet_pton(AF_INET6, buf, &a6) == 1 &&
		    memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, &a6, sizeof(a6)) == 0)
			return true;
	}
	return false;
}

/* A transparent forwarder answers resolver-name.arpa with its upstream's
 * publication: none of the addresses walked is among those it lists.
 * Recorded, not judged: the caller's policy decides. */
static void
note_transparent(struct walk *w)
{
	struct disc_result *r = w->r;
	int i;

	for (i = 0; i < w->nfwd; i++)
		if (walked_is_published(w->fwd[i], &r->desc))
			return;
	r->transparent = true;
	walk_step(w, 5, r->desc.name, DNS_TYPE_A, DISC_ST_SECURE,
		  "published addresses do not include %s: a transparent forwarder passes "
		  "another resolver's publication through",
		  w->fwd[0]);
}

static int
walk_steps(struct walk *w)
{
	int r;

	if ((r = walk_step1(w)) != 0 || (r = walk_step2(w)) != 0 ||
	    (r = walk_step3(w)) != 0 || (r = walk_step4(w)) != 0 ||
	    (r = walk_step5(w)) != 0)
		return r;
	note_transparent(w);
	if (w->r->desc.type == DS_SERVER_FORWARDER)
		return walk_forwarder(w);
	return 0;
}

/* the question for a name that cannot exist: at most this long */
#define HIJACK_PROBE_MS 1000

int
disc_walk(const struct disc_params *p, struct disc_result **ret)
{
	struct walk w;
	struct disc_result *r;
	char err[256];
	int i, rc;

	if (!p || !ret || p->nresolvers < 1 || p->nresolvers > DISC_MAX_RESOLVERS ||
	    p->nanchors < 0 || p->nanchors > DISC_MAX_ANCHORS || (p->nanchors && !p->anchors))
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	w.p = p;
	for (i = 0; i < p->nresolvers; i++) {
		if (check_resolver(p->resolvers[i], w.fwd[i], sizeof(w.fwd[i])) < 0)
			return -EINVAL;
	}
	w.nfwd = p->nresolvers;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ksk_used = -1;
	r->anchor_matched = -1;
	snprintf(r->resolver, sizeof(r->resolver), "%s", w.fwd[0]);
	w.r = r;
	w.timeout_ms = p->timeout_ms ? p->timeout_ms : DISC_DEFAULT_TIMEOUT_MS;
	w.deadline_ms = walk_now_ms() + w.timeout_ms;

	log_debug("discovery: walking %s at %s (%d known anchor(s))", DISC_ZONE, w.fwd[0],
		  p->nanchors);
	if (ub_lib_get(err, sizeof(err)) < 0) {
		log_debug("discovery: %s", err);
		rc = walk_fail(&w, TRUST_DISC_FAILED, 1, "step 1: %s", err);
	} else {
		rc = walk_steps(&w);
		walk_ub_free(w.arpa);
		walk_ub_free(w.zone);
		ub_lib_put();
	}
	if (rc < 0) {
		disc_result_free(r);
		return rc;
	}
	if (rc == 0)
		r->kind = TRUST_DISC_OK;
	/* the resolver answered but publishes nothing (usably): does it make
	 * up answers?  (what a captive portal does) */
	if (r->kind != TRUST_DISC_OK && r->kind != TRUST_DISC_UNREACHABLE &&
	    walk_probe_hijack(&w, w.fwd[0], HIJACK_PROBE_MS, r->hijack, sizeof(r->hijack)) == 1)
		log_debug("discovery: %s: %s", w.fwd[0], r->hijack);
	log_debug("discovery: %s: %s", trust_discovery_name(r->kind),
		  r->kind == TRUST_DISC_OK ? r->desc.name : r->reason);
	*ret = r;
	return 0;
}
