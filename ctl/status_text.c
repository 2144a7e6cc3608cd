/*
 * status_text.c -- `dotctl status` as text, from the daemon's JSON
 * (status_text.h).  The lookups mark what they used (json.h); whatever is
 * left in a section is printed generically at its end.
 */
#include "status_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define LABEL_WIDTH 12   /* "upstream:   ", "  state:    " */

/* Lookups with a default: the text view of an older daemon's status (a
 * member missing) still renders. */
static const char *S(struct cj_value *o, const char *key)
{
	const char *s = "";

	cj_get_str(o, key, &s);
	return s;
}

static uint64_t U(struct cj_value *o, const char *key)
{
	uint64_t v = 0;

	cj_get_u64(o, key, &v);
	return v;
}

static bool B(struct cj_value *o, const char *key)
{
	bool b = false;

	cj_get_bool(o, key, &b);
	return b;
}

/* the member, marked used whatever its type */
static struct cj_value *take(struct cj_value *o, const char *key)
{
	struct cj_value *m = cj_get(o, key);

	if (m)
		m->used = true;
	return m;
}

/* The daemon's strings go to a terminal: no control characters. */
static void sanitize(struct cj_value *v)
{
	for (; v; v = v->next) {
		for (char *p = v->key; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		if (v->type == CJ_STRING)
			for (char *p = v->text; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = '?';
		sanitize(v->child);
	}
}

static void fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
}

/* ------------------------------------------------------------ generic */

static void label(FILE *f, int indent, const char *key)
{
	int n = fprintf(f, "%*s%s:", indent, "", key);

	fprintf(f, "%*s", n < LABEL_WIDTH ? LABEL_WIDTH - n : 1, "");
}

static void scalar(FILE *f, const struct cj_value *v)
{
	switch (v->type) {
	case CJ_NULL:
		/* JSON's null is "not there" ("dot_server": null: none) */
		fputs("none", f);
		break;
	case CJ_BOOL:
		fputs(v->boolean ? "yes" : "no", f);
		break;
	case CJ_NUMBER:
		fputs(v->text, f);
		break;
	case CJ_STRING:
		fputs(v->text[0] ? v->text : "-", f);
		break;
	case CJ_ARRAY:
	case CJ_OBJECT:
		break;
	}
}

static bool is_scalar(const struct cj_value *v)
{
	return v->type != CJ_ARRAY && v->type != CJ_OBJECT;
}

static void generic_members(FILE *f, struct cj_value *obj, int indent);

/* one value under its key (key NULL: an element of an array, shown "-") */
static void generic(FILE *f, const char *key, struct cj_value *v, int indent)
{
	bool flat = true;

	if (key)
		label(f, indent, key);
	else
		fprintf(f, "%*s- ", indent, "");
	if (is_scalar(v)) {
		scalar(f, v);
		fputc('\n', f);
		return;
	}
	for (struct cj_value *e = v->child; e; e = e->next)
		flat = flat && is_scalar(e) && v->type == CJ_ARRAY;
	if (flat) {
		/* a list of scalars (or an empty container) on one line */
		if (!v->child)
			fputs(v->type == CJ_ARRAY ? "none" : "-", f);
		for (struct cj_value *e = v->child; e; e = e->next) {
			scalar(f, e);
			if (e->next)
				fputs(", ", f);
		}
		fputc('\n', f);
		return;
	}
	fputc('\n', f);
	if (v->type == CJ_OBJECT)
		generic_members(f, v, indent + 2);
	else
		for (struct cj_value *e = v->child; e; e = e->next)
			generic(f, NULL, e, indent + 2);
}

/* every member of obj not used yet */
static void generic_members(FILE *f, struct cj_value *obj, int indent)
{
	if (!obj || obj->type != CJ_OBJECT)
		return;
	for (struct cj_value *m = obj->child; m; m = m->next)
		if (!m->used) {
			m->used = true;
			generic(f, m->key, m, indent);
		}
}

/* ------------------------------------------------------------ sections */

static void render_listen(FILE *f, struct cj_value *root)
{
	struct cj_value *l = take(root, "listen");
	bool first = true;

	fprintf(f, "listen:     ");
	if (l && l->type == CJ_ARRAY)
		for (struct cj_value *e = l->child; e; e = e->next) {
			fprintf(f, "%s", first ? "" : ", ");
			scalar(f, e);
			first = false;
		}
	fprintf(f, " (udp+tcp), %" PRIu64 " tcp clients", U(root, "tcp_clients"));
	uint64_t out = U(root, "tcp_output"), evicted = U(root, "tcp_evicted"),
		 refused = U(root, "tcp_refused"), held = U(root, "tcp_held");
	if (out)
		fprintf(f, ", %" PRIu64 " KiB of answers buffered", (out + 1023) / 1024);
	if (evicted || refused)
		fprintf(f, "; %" PRIu64 " closed by limits, %" PRIu64 " refused", evicted, refused);
	if (held)
		fprintf(f, "; %" PRIu64 " times a client was held at its in-flight limit", held);
	fprintf(f, "\n");
}

/* access_control: where the rules come from, the counters, the rules */
static void render_access(FILE *f, struct cj_value *root)
{
	struct cj_value *a = take(root, "access_control"), *rules;

	if (!a || a->type != CJ_OBJECT) {
		if (a && a->type != CJ_NULL)
			generic(f, "access_control", a, 0);
		return;
	}
	fprintf(f, "access:     %s; refused %" PRIu64 ", denied %" PRIu64 "\n", S(a, "source"),
		U(a, "refused"), U(a, "denied"));
	rules = take(a, "rules");
	if (rules)
		generic(f, "rules", rules, 2); /* a list: one line */
	generic_members(f, a, 2);
}

static void render_dot(FILE *f, struct cj_value *up)
{
	const char *addr = S(up, "address"), *tls = S(up, "tls_version"), *tlsa, *auth;
	const char *err;
	uint64_t v;

	fprintf(f, "upstream:   %s (from %s)\n", S(up, "name"), S(up, "source"));
	fprintf(f, "  state:    %s%s%s\n", S(up, "state"), addr[0] ? " to " : "", addr);
	if (tls[0]) {
		const char *cipher = S(up, "cipher");
		fprintf(f, "  tls:      %s %s%s\n", tls, cipher,
			B(up, "resumed") ? ", resumed session" : "");
	}
	tlsa = S(up, "matched_tlsa");
	auth = S(up, "auth");
	if (!strcmp(auth, "pkix"))
		fprintf(f, "  auth:     certificate verified (PKIX), key sha256 %s\n",
			S(up, "key_sha256"));
	else if (!strcmp(auth, "opportunistic"))
		fprintf(f, "  auth:     none: DoT, unauthenticated (opportunistic), key sha256 %s\n",
			S(up, "key_sha256"));
	else if (tlsa[0])
		fprintf(f, "  auth:     DANE, TLSA %s\n", tlsa);
	fprintf(f,
		"  conns:    %" PRIu64 " open, %" PRIu64 " in flight, %" PRIu64 " waiting; "
		"%" PRIu64 " connects, %" PRIu64 " handshakes, %" PRIu64 " resumed\n",
		U(up, "conns"), U(up, "inflight"), U(up, "waiting"), U(up, "connects"),
		U(up, "handshakes"), U(up, "resumptions"));
	fprintf(f, "  queries:  %" PRIu64 " sent, %" PRIu64 " answered\n", U(up, "queries"),
		U(up, "answers"));
	if ((v = U(up, "keepalive_ms")))
		fprintf(f, "  keepalive: %" PRIu64 " ms (server)\n", v);
	if ((v = U(up, "backoff_ms")))
		fprintf(f, "  backoff:  %" PRIu64 " ms\n", v);
	fprintf(f, "  rtt:      p50 %.2f ms, p99 %.2f ms\n", (double)U(up, "rtt_p50_us") / 1000.0,
		(double)U(up, "rtt_p99_us") / 1000.0);
	fprintf(f,
		"  failures: network %" PRIu64 ", tls %" PRIu64 ", dane %" PRIu64
		", timeouts %" PRIu64 ", retries %" PRIu64 "\n",
		U(up, "fail_network"), U(up, "fail_tls"), U(up, "fail_auth"), U(up, "timeouts"),
		U(up, "retries"));
	err = S(up, "last_error");
	if (err[0])
		fprintf(f, "  last error: %s\n", err);
}

static void render_plain(FILE *f, struct cj_value *up)
{
	fprintf(f, "upstream:   PLAIN DNS to %s (opportunistic, unauthenticated)\n",
		S(up, "address"));
	fprintf(f,
		"  plain:    %" PRIu64 " queries, %" PRIu64 " answers, %" PRIu64 " timeouts, "
		"%" PRIu64 " retried over TCP, %" PRIu64 " in flight, %" PRIu64 " errors\n",
		U(up, "queries"), U(up, "answers"), U(up, "timeouts"), U(up, "tcp_retries"),
		U(up, "inflight"), U(up, "errors"));
}

static void render_upstream(FILE *f, struct cj_value *root)
{
	struct cj_value *up = take(root, "upstream");
	const char *why = S(root, "not_ready");

	if (up && up->type == CJ_OBJECT) {
		if (B(up, "plain"))
			render_plain(f, up);
		else
			render_dot(f, up);
		generic_members(f, up, 2);
	} else {
		fprintf(f, "upstream:   none (queries get SERVFAIL: %s)\n",
			why[0] ? why : "no upstream");
	}
}

static void render_network(FILE *f, struct cj_value *root)
{
	struct cj_value *net = take(root, "network"), *disc = take(root, "discovery");
	struct cj_value *anchor, *fwd;
	const char *match, *fp, *res, *reason, *s;

	if (!net || net->type != CJ_OBJECT || !disc || disc->type != CJ_OBJECT) {
		/* a static upstream ("discovery": null); anything else generically */
		if (net && net->type != CJ_NULL)
			generic(f, "network", net, 0);
		if (disc && disc->type != CJ_NULL)
			generic(f, "discovery", disc, 0);
		return;
	}
	fprintf(f, "network:    %s, %s\n", S(net, "id"), B(net, "known") ? "known" : "unknown");
	match = S(net, "match");
	if (match[0] && strcmp(match, "none") && strcmp(match, "exact"))
		fprintf(f, "  match:    %s\n", match);
	fp = S(net, "fingerprint");
	if (fp[0])
		fprintf(f, "  fingerprint: %s\n", fp);
	res = S(disc, "resolvers");
	fprintf(f, "  resolvers: %s\n", res[0] ? res : "none");
	generic_members(f, net, 2);

	reason = S(disc, "reason");
	fprintf(f, "discovery:  %s%s%s\n", S(disc, "state"), reason[0] ? " -- " : "", reason);
	if (B(disc, "alert"))
		fprintf(f, "  ALERT:    see the log; `dotctl trust list` to review\n");
	s = S(disc, "upstream");
	if (s[0])
		fprintf(f, "  chosen:   %s\n", s);
	anchor = take(disc, "anchor");
	if (anchor && anchor->type == CJ_OBJECT) {
		bool from_store = B(disc, "from_store");
		fprintf(f,
			"  anchor:   resolver-name.arpa key tag %" PRIu64 " alg %" PRIu64
			" sha256 %.16s...%s\n",
			U(anchor, "tag"), U(anchor, "algorithm"), S(anchor, "sha256"),
			from_store ? " (known network, from the store)" : "");
		generic_members(f, anchor, 4);
	} else if (anchor && anchor->type != CJ_NULL) {
		generic(f, "anchor", anchor, 2);
	}
	B(disc, "from_store"); /* shown with the anchor */
	s = S(disc, "last_walk");
	if (s[0])
		fprintf(f, "  last walk: %s\n", s);
	s = S(disc, "designated");
	if (s[0])
		fprintf(f, "  designated: %s\n", s);
	fwd = take(disc, "forwarder_upstreams");
	if (fwd && fwd->type == CJ_ARRAY) {
		for (struct cj_value *e = fwd->child; e; e = e->next) {
			if (e->type == CJ_OBJECT) {
				fprintf(f, "  forwarder upstream: %s\n", S(e, "upstream"));
				generic_members(f, e, 4);
			} else {
				generic(f, "forwarder upstream", e, 2);
			}
		}
	} else if (fwd) {
		generic(f, "forwarder_upstreams", fwd, 2);
	}
	if (U(disc, "hotspot_seconds_left"))
		fprintf(f, "  HOTSPOT:  sign-on in force: plain DNS to the network's resolver for %" PRIu64
			   " s more\n",
			U(disc, "hotspot_seconds_left"));
	s = S(disc, "captive_portal");
	if (s[0])
		fprintf(f, "  captive portal suspected: %s\n", s);
	s = S(disc, "transparent_forwarder");
	if (s[0])
		fprintf(f, "  transparent forwarder: publication describes %s\n", s);
	if (U(disc, "refreshes"))
		fprintf(f, "  refresh:  %" PRIu64 " over DoT, %" PRIu64 " failed; last: %s\n",
			U(disc, "refreshes"), U(disc, "refresh_failures"), S(disc, "last_refresh"));
	else {
		/* nothing to say yet: mark them shown */
		U(disc, "refresh_failures");
		S(disc, "last_refresh");
	}
	fprintf(f, "  policy:   tofu %s, unknown-network %s\n", S(disc, "tofu"),
		S(disc, "unknown_network"));
	generic_members(f, disc, 2);
}

/* a wall-clock time of the daemon's, in local time */
enum time_form { TF_HMS, TF_HM, TF_DATE };

static void fmt_time(uint64_t t, enum time_form form, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n = 0;

	if (t != 0 && localtime_r(&tt, &tm))
		n = form == TF_HMS  ? strftime(buf, len, "%H:%M:%S", &tm)
		    : form == TF_HM ? strftime(buf, len, "%H:%M", &tm)
				    : strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	if (n == 0)
		snprintf(buf, len, "-");
}

/* a list of strings on one line, with a prefix for each */
static void string_list(FILE *f, struct cj_value *arr, const char *pfx)
{
	bool first = true;

	if (!arr || arr->type != CJ_ARRAY || !arr->child) {
		fputs("-", f);
		return;
	}
	for (struct cj_value *e = arr->child; e; e = e->next) {
		if (e->type != CJ_STRING)
			continue;
		fprintf(f, "%s%s%s", first ? "" : ", ", pfx, e->text);
		first = false;
	}
}

static void render_link(FILE *f, struct cj_value *l)
{
	const char *tr = S(l, "transport"), *reason = S(l, "reason"), *up = S(l, "upstream");
	const char *name = S(l, "interface"), *src = S(l, "source");
	struct cj_value *anchor;
	char when[32];
	uint64_t idx = U(l, "ifindex");

	if (idx)
		fprintf(f, "  %s (%" PRIu64 ")", name[0] ? name : "?", idx);
	else
		fprintf(f, "  (no link)");
	fprintf(f, "%s%s%s; default route %s\n", B(l, "default") ? ", the default link" : "",
		src[0] && strcmp(src, "none") ? ", from " : "", strcmp(src, "none") ? src : "",
		B(l, "default_route") ? "yes" : "no");
	fprintf(f, "    resolvers: ");
	string_list(f, take(l, "resolvers"), "");
	fprintf(f, "\n    domains:   ");
	{
		struct cj_value *se = take(l, "search_domains"), *ro = take(l, "routing_domains");
		bool none = (!se || !se->child) && (!ro || !ro->child);

		if (none) {
			fputs("-", f);
		} else {
			if (se && se->child)
				string_list(f, se, "");
			if (se && se->child && ro && ro->child)
				fputs(", ", f);
			if (ro && ro->child)
				string_list(f, ro, "~");
		}
	}
	fputc('\n', f);
	fmt_time(U(l, "since"), TF_HMS, when, sizeof(when));
	fprintf(f, "    transport: ");
	if (!strcmp(tr, "dot")) {
		const char *tlsa = S(l, "tlsa");

		const char *auth = S(l, "auth");

		if (!strcmp(auth, "opportunistic"))
			fprintf(f, "DoT to %s (%s), unauthenticated (DDR opportunistic)", up,
				S(l, "address"));
		else if (!strcmp(auth, "pkix"))
			fprintf(f, "DoT to %s (%s), %s", up, S(l, "address"),
				B(l, "authenticated") ? "authenticated by its certificate (PKIX)"
						      : "not authenticated yet");
		else
			fprintf(f, "DoT to %s (%s), %s", up, S(l, "address"),
				B(l, "authenticated") && tlsa[0] ? "authenticated by DANE TLSA "
								 : "not authenticated yet");
		if ((!auth[0] || !strcmp(auth, "dane")) && B(l, "authenticated") && tlsa[0])
			fputs(tlsa, f);
	} else if (!strcmp(tr, "plain")) {
		fprintf(f, "PLAIN DNS to %s (opportunistic, unauthenticated)", S(l, "address"));
		if (U(l, "hotspot_until")) {
			char until[32];

			fmt_time(U(l, "hotspot_until"), TF_HM, until, sizeof(until));
			fprintf(f, ", hotspot until %s", until);
		}
	} else {
		fprintf(f, "none (%s)", S(l, "state")[0] ? S(l, "state") : "not served");
	}
	if (U(l, "since"))
		fprintf(f, ", since %s", when);
	if (B(l, "strict"))
		fputs("; strict (DNSOverTLS=yes)", f);
	fputc('\n', f);
	if (reason[0])
		fprintf(f, "    why:       %s\n", reason);
	anchor = take(l, "anchor");
	if (anchor && anchor->type == CJ_OBJECT) {
		fmt_time(U(anchor, "since"), TF_DATE, when, sizeof(when));
		fprintf(f, "    anchor:    resolver-name.arpa key tag %" PRIu64 " alg %" PRIu64
			   ", pinned since %s\n",
			U(anchor, "tag"), U(anchor, "algorithm"), when);
		generic_members(f, anchor, 6);
	}
	if (S(l, "network")[0])
		fprintf(f, "    network:   %s, %" PRIu64 " queries\n", S(l, "network"), U(l, "queries"));
	/* shown above */
	B(l, "authenticated");
	B(l, "strict");
	B(l, "default");
	S(l, "state");
	S(l, "upstream");
	S(l, "address");
	S(l, "tlsa");
	U(l, "queries");
	U(l, "hotspot_until");
	generic_members(f, l, 4);
}

static void render_links(FILE *f, struct cj_value *root)
{
	struct cj_value *links = take(root, "links");

	if (!links)
		return;
	if (links->type != CJ_ARRAY) {
		generic(f, "links", links, 0);
		return;
	}
	if (!links->child)
		return;
	fprintf(f, "links:\n");
	for (struct cj_value *l = links->child; l; l = l->next) {
		if (l->type == CJ_OBJECT)
			render_link(f, l);
		else
			generic(f, NULL, l, 2);
	}
}

/* router_advertisements: what the raw ICMPv6 socket read (DNR, RFC 9463
 * 6); null: not read (dnr-ra no, dnr no, or no CAP_NET_RAW at start) */
static void render_ra(FILE *f, struct cj_value *root)
{
	struct cj_value *ra = take(root, "router_advertisements");

	if (!ra || ra->type != CJ_OBJECT) {
		if (ra && ra->type != CJ_NULL)
			generic(f, "router_advertisements", ra, 0);
		return;
	}
	fprintf(f, "router ads: %" PRIu64 " read, %" PRIu64 " ignored (not from a router on "
		"the link), %" PRIu64 " with a malformed DNR option; %" PRIu64
		" DNR designations in force\n",
		U(ra, "received"), U(ra, "ignored"), U(ra, "malformed"), U(ra, "designations"));
	generic_members(f, ra, 2);
}

static void render_counters(FILE *f, struct cj_value *root)
{
	struct cj_value *c = take(root, "counters"), *by;

	if (!c || c->type != CJ_OBJECT) {
		if (c)
			generic(f, "counters", c, 0);
		return;
	}
	fprintf(f,
		"queries:    %" PRIu64 " (udp %" PRIu64 ", tcp %" PRIu64 "); cache hits %" PRIu64
		", upstream answers %" PRIu64 ", local %" PRIu64 "\n",
		U(c, "queries"), U(c, "queries_udp"), U(c, "queries_tcp"), U(c, "cache_hits"),
		U(c, "upstream_answers"), U(c, "local_answers"));
	fprintf(f,
		"errors:     servfail upstream %" PRIu64 ", not ready %" PRIu64 ", overload %" PRIu64
		", formerr %" PRIu64 ", notimp %" PRIu64 ", dropped %" PRIu64 ", truncated %" PRIu64
		"\n",
		U(c, "servfail_upstream"), U(c, "servfail_not_ready"), U(c, "overload"),
		U(c, "formerr"), U(c, "notimp"), U(c, "dropped"), U(c, "truncated"));
	if (U(c, "control_refused"))
		fprintf(f, "limits:     control connections refused %" PRIu64 "\n",
			U(c, "control_refused"));
	by = take(c, "servfail_by_error");
	if (by && by->type == CJ_OBJECT && by->child) {
		/* servfail upstream, by the upstream's error: "timeout 1, tls 0, ..." */
		bool all_numbers = true;
		for (struct cj_value *m = by->child; m; m = m->next)
			all_numbers = all_numbers && m->type == CJ_NUMBER;
		if (all_numbers) {
			fprintf(f, "  servfail by upstream error:");
			for (struct cj_value *m = by->child; m; m = m->next) {
				m->used = true;
				fprintf(f, "%s %s %s", m == by->child ? "" : ",", m->key, m->text);
			}
			fputc('\n', f);
		} else {
			generic(f, "servfail_by_error", by, 2);
		}
	} else if (by) {
		generic(f, "servfail_by_error", by, 2);
	}
	generic_members(f, c, 2);
}

static void render_cache(FILE *f, struct cj_value *root)
{
	struct cj_value *c = take(root, "cache");

	if (!c)
		return;
	if (c->type != CJ_OBJECT) {
		if (c->type == CJ_NULL)
			fprintf(f, "cache:      off\n");
		else
			generic(f, "cache", c, 0);
		return;
	}
	fprintf(f, "cache:      %" PRIu64 " entries, %" PRIu64 " of %" PRIu64 " bytes, %" PRIu64
		   " evictions\n",
		U(c, "entries"), U(c, "bytes"), U(c, "max_bytes"), U(c, "evictions"));
	fprintf(f, "  lookups:  %" PRIu64 ": %" PRIu64 " hits, %" PRIu64 " misses; %" PRIu64
		   " inserts, %" PRIu64 " expired\n",
		U(c, "lookups"), U(c, "hits"), U(c, "misses"), U(c, "inserts"), U(c, "expired"));
	generic_members(f, c, 2);
}

static struct cj_value *parse_object(const char *json, size_t len, char *err, size_t errlen)
{
	struct cj_value *root = cj_parse(json, len, err, errlen);

	if (root && root->type != CJ_OBJECT) {
		snprintf(err, errlen, "not a JSON object");
		cj_free(root);
		return NULL;
	}
	if (root)
		sanitize(root);
	return root;
}

int ctl_status_render(FILE *f, const char *json, size_t len, char *err, size_t errlen)
{
	struct cj_value *root = parse_object(json, len, err, errlen);
	char up[32];

	if (!root)
		return -1;
	fmt_duration(U(root, "uptime_s"), up, sizeof(up));
	fprintf(f, "dotstubd %s, up %s\n", S(root, "version"), up);
	render_listen(f, root);
	render_access(f, root);
	render_upstream(f, root);
	render_network(f, root);
	render_links(f, root);
	render_ra(f, root);
	render_counters(f, root);
	render_cache(f, root);
	generic_members(f, root, 0);
	cj_free(root);
	return 0;
}

int ctl_network_render(FILE *f, const char *json, size_t len, char *err, size_t errlen)
{
	struct cj_value *root = parse_object(json, len, err, errlen);
	struct cj_value *net;
	const char *fp = "";

	if (!root)
		return -1;
	net = cj_get(root, "network");
	if (!net || net->type != CJ_OBJECT)
		fprintf(f, "no network awareness: a static upstream is configured\n");
	else if (cj_get_str(net, "fingerprint", &fp) && fp[0])
		fprintf(f, "%s\n", fp);
	else
		fprintf(f, "(no fingerprint yet)\n");
	cj_free(root);
	return 0;
}
