/*
 * discover_verify.c -- a DoT connection to each designated resolver of a
 * DDR answer, with the DoT client dotstubd uses (stub/dot): PKIX for the
 * ADN and the resolver's address (RFC 9462 4.2), then opportunistic where
 * 4.3 allows it.  One query (_dns.resolver.arpa SVCB again, now over DoT)
 * proves the handshake: the client sends nothing on a connection that did
 * not pass its check.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "discover_verify.h"
#include "dotstub/upstream.h"

struct attempt {
	struct event_base *base;
	enum ds_upstream_err err;
	bool done;
};

static void attempt_done(void *arg, enum ds_upstream_err err, const uint8_t *pkt, size_t len,
			 struct dns_response *r)
{
	struct attempt *a = arg;

	(void)pkt;
	(void)len;
	(void)r;
	a->err = err;
	a->done = true;
	event_base_loopbreak(a->base);
}

/* One DoT query to d: 0 if it was answered, else -1 with why.  key gets
 * the certificate's key if a handshake got that far. */
static int attempt(const struct ds_upstream_desc *d, const char *ca_file, unsigned timeout_ms,
		   char *why, size_t whylen, char key[65])
{
	struct attempt a = { .err = DS_UP_ERR_TIMEOUT };
	struct ds_upstream_opts o;
	struct ds_upstream_status st;
	struct ds_upstream_query *h;
	struct ds_upstream *u;
	struct dns_query q;
	struct timeval tv = { .tv_sec = (time_t)(2 * timeout_ms / 1000),
			      .tv_usec = (suseconds_t)(2 * timeout_ms % 1000) * 1000 };
	int err = 0, n;

	a.base = event_base_new();
	if (a.base == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	ds_upstream_opts_default(&o);
	o.ca_file = ca_file;
	o.query_timeout_ms = timeout_ms;
	o.connect_timeout_ms = timeout_ms;
	o.max_tries = 1;
	u = ds_upstream_new(a.base, d, &o, &err);
	if (u == NULL) {
		snprintf(why, whylen, "cannot make a DoT client: %s", strerror(-err));
		event_base_free(a.base);
		return -1;
	}
	memset(&q, 0, sizeof(q));
	n = dns_name_from_str(DDR_QUERY_NAME, q.qname);
	q.qname_len = n > 0 ? (size_t)n : 0;
	q.qtype = DDR_TYPE_SVCB;
	q.qclass = DNS_CLASS_IN;
	q.flags = DNS_FLAG_RD;
	h = ds_upstream_submit(u, &q, attempt_done, &a);
	if (h != NULL) {
		/* the client's own timeouts end it; this is a backstop */
		event_base_loopexit(a.base, &tv);
		event_base_dispatch(a.base);
	}
	ds_upstream_get_status(u, &st);
	snprintf(key, 65, "%s", st.spki_sha256);
	if (a.done && a.err == DS_UP_OK) {
		why[0] = '\0';
	} else {
		snprintf(why, whylen, "%s", st.last_error[0] ? st.last_error
					    : ds_upstream_err_str(a.done ? a.err : DS_UP_ERR_TIMEOUT));
	}
	ds_upstream_free(u);
	event_base_free(a.base);
	return a.done && a.err == DS_UP_OK ? 0 : -1;
}

int ctl_ddr_verify(const struct ddr_query *q, const struct sockaddr_storage *resolver,
		   const char *ca_file, unsigned timeout_ms, struct ctl_ddr_verdict *out, int cap)
{
	struct ddr_designation g[DDR_MAX_DESIGNATIONS];
	char reason[DDR_REASON_MAX];
	int n = ddr_designate_query(q, resolver, g, DDR_MAX_DESIGNATIONS, reason, sizeof(reason));

	if (n > cap)
		n = cap;
	for (int i = 0; i < n; i++) {
		struct ctl_ddr_verdict *v = &out[i];
		struct ds_upstream_desc d;
		char key[65] = "";

		memset(v, 0, sizeof(*v));
		v->g = g[i];
		memset(&d, 0, sizeof(d));
		if (ddr_designation_desc(&g[i], resolver, false, &d) < 0) {
			snprintf(v->why, sizeof(v->why),
				 "no address hints: the name must be resolved first");
			continue;
		}
		v->tried = true;
		v->verified = attempt(&d, ca_file, timeout_ms, v->why, sizeof(v->why), key) == 0;
		snprintf(v->key_sha256, sizeof(v->key_sha256), "%s", key);
		ds_upstream_desc_clear(&d);
		if (v->verified || !g[i].opportunistic_ok)
			continue;
		memset(&d, 0, sizeof(d));
		if (ddr_designation_desc(&g[i], resolver, true, &d) < 0)
			continue;
		v->opportunistic = attempt(&d, NULL, timeout_ms, v->opp_why, sizeof(v->opp_why),
					   key) == 0;
		if (key[0])
			snprintf(v->key_sha256, sizeof(v->key_sha256), "%s", key);
		ds_upstream_desc_clear(&d);
	}
	return n;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void ctl_ddr_verify_print_text(FILE *f, const struct ctl_ddr_verdict *v, int n,
			       const char *addr)
{
	for (int i = 0; i < n; i++) {
		const struct ctl_ddr_verdict *x = &v[i];

		if (x->verified)
			fprintf(f, "ddr: %s (priority %u): verified: DoT answered, the certificate "
				   "is valid for %s and names %s (RFC 9462 4.2), key sha256 %s\n",
				x->g.adn, x->g.priority, x->g.adn, addr, x->key_sha256);
		else
			fprintf(f, "ddr: %s (priority %u): not verified: %s\n", x->g.adn,
				x->g.priority, x->why);
		if (x->verified)
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

void ctl_ddr_verify_print_json(FILE *f, const struct ctl_ddr_verdict *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		const struct ctl_ddr_verdict *x = &v[i];

		fputs(i ? ",{\"adn\":" : "{\"adn\":", f);
		json_str(f, x->g.adn);
		fprintf(f, ",\"priority\":%u,\"tried\":%s,\"verified\":%s,\"reason\":", x->g.priority,
			x->tried ? "true" : "false", x->verified ? "true" : "false");
		json_str(f, x->why);
		fprintf(f, ",\"opportunistic_allowed\":%s,\"opportunistic\":%s,\"key_sha256\":",
			x->g.opportunistic_ok ? "true" : "false", x->opportunistic ? "true" : "false");
		json_str(f, x->key_sha256);
		fputc('}', f);
	}
	fputc(']', f);
}
