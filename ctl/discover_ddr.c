/*
 * discover_ddr.c -- the designated resolvers a resolver names for itself
 * (_dns.resolver.arpa SVCB, RFC 9462 4), as `dotctl discover` shows them:
 * priority, target, alpn (and whether "dot" is among the ids), port,
 * address hints, and whether each one qualifies for DoT.  The answer came
 * over plain DNS: discover_verify.c tries each designation over DoT.
 * Every string printed comes from the network: non-printable octets are
 * escaped.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "dotstub/jsonstr.h"

#include "discover_ddr.h"

#define DDR_PARAMS_STR_MAX 2048

static void
put_octet(FILE *f, uint8_t c, bool json)
{
	char e[8];

	if (json) {
		ds_json_escape(c, e);
		fputs(e, f);
	} else if (c == '"' || c == '\\' || c == ',') {
		fprintf(f, "\\%c", c);
	} else if (c < 0x20 || c >= 0x7f) {
		fprintf(f, "\\%03u", c);
	} else {
		fputc(c, f);
	}
}

static void
put_target(FILE *f, const struct ddr_svcb *s, bool json)
{
	char name[DNS_NAME_MAX * 4 + 2];

	if (dns_name_to_str(s->target, s->target_len, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	if (json)
		ds_json_fputs(f, name);
	else
		fputs(name, f);
}

/* The alpn ids: "dot,h2" in text, ["dot","h2"] in JSON. */
static void
put_alpn(FILE *f, const struct ddr_svc_params *p, bool json)
{
	size_t i = 0, k;

	fputs(json ? "[" : "\"", f);
	while (i < p->alpn_raw_len) {
		size_t l = p->alpn_raw[i];

		fputs(i == 0 ? "" : json ? "," : ",", f);
		if (json)
			fputc('"', f);
		for (k = 0; k < l && i + 1 + k < p->alpn_raw_len; k++)
			put_octet(f, p->alpn_raw[i + 1 + k], json);
		if (json)
			fputc('"', f);
		i += 1 + l;
	}
	fputs(json ? "]" : "\"", f);
}

static void
put_hints(FILE *f, int family, const void *addrs, unsigned n, bool json, bool *first)
{
	size_t asize = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	char text[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		inet_ntop(family, (const uint8_t *)addrs + i * asize, text, sizeof(text));
		fprintf(f, "%s%s%s%s", *first ? "" : ",", json ? "\"" : "", text, json ? "\"" : "");
		*first = false;
	}
}

static const char *
why_not_dot(const struct ddr_svcb *s)
{
	if (s->priority == 0)
		return "AliasMode, not followed";
	if (!ddr_svc_has(&s->params, DDR_KEY_ALPN))
		return "no alpn";
	return "no \"dot\" in alpn";
}

static void
text_record(FILE *f, unsigned i, const struct ddr_svcb *s)
{
	const struct ddr_svc_params *p = &s->params;
	bool first = true;

	fprintf(f, "ddr: designated resolver %u: priority %u%s, target ", i, s->priority,
		s->priority == 0 ? " (AliasMode)" : "");
	put_target(f, s, false);
	fputs(", alpn ", f);
	put_alpn(f, p, false);
	fprintf(f, " (dot: %s), port %u, hints ", p->alpn & DDR_ALPN_DOT ? "yes" : "no", p->port);
	put_hints(f, AF_INET, p->ipv4hint, p->n_ipv4hint, false, &first);
	put_hints(f, AF_INET6, p->ipv6hint, p->n_ipv6hint, false, &first);
	if (first)
		fputc('-', f);
	if (ddr_svcb_qualifies_dot(s))
		fputs(": qualifies for DoT\n", f);
	else
		fprintf(f, ": does not qualify for DoT (%s)\n", why_not_dot(s));
}

void
ctl_ddr_print_text(FILE *f, const struct ddr_query *q, const char *addr, unsigned port)
{
	unsigned i;

	fprintf(f, "\nddr: %s SVCB from %s port %u\n", DDR_QUERY_NAME, addr, port);
	fprintf(f, "ddr: result %s\n", ddr_query_result_name(q->result));
	if (q->reason[0])
		fprintf(f, "ddr: reason %s\n", q->reason);
	if (q->tcp)
		fprintf(f, "ddr: answered over TCP (the UDP answer was truncated)\n");
	for (i = 0; i < q->n; i++)
		text_record(f, i + 1, &q->rec[i]);
	if (q->total > q->n)
		fprintf(f, "ddr: (%u SVCB records read, %u valid shown)\n", q->total, q->n);
}

static void
json_record(FILE *f, const struct ddr_svcb *s)
{
	const struct ddr_svc_params *p = &s->params;
	char params[DDR_PARAMS_STR_MAX];
	bool first = true;

	fprintf(f, "{\"priority\":%u,\"target\":", s->priority);
	put_target(f, s, true);
	fputs(",\"alpn\":", f);
	put_alpn(f, p, true);
	fprintf(f, ",\"dot\":%s,\"port\":%u,\"ipv4hint\":[", p->alpn & DDR_ALPN_DOT ? "true" : "false",
		p->port);
	put_hints(f, AF_INET, p->ipv4hint, p->n_ipv4hint, true, &first);
	first = true;
	fputs("],\"ipv6hint\":[", f);
	put_hints(f, AF_INET6, p->ipv6hint, p->n_ipv6hint, true, &first);
	fputs("],\"params\":", f);
	if (ddr_svc_params_format(p, params, sizeof(params)) < 0)
		snprintf(params, sizeof(params), "(too long)");
	ds_json_fputs(f, params);
	fprintf(f, ",\"qualifies_dot\":%s}", ddr_svcb_qualifies_dot(s) ? "true" : "false");
}

void
ctl_ddr_print_json(FILE *f, const struct ddr_query *q, const char *addr, unsigned port)
{
	unsigned i;

	fprintf(f, "{\"result\":\"%s\",\"reason\":", ddr_query_result_name(q->result));
	ds_json_fputs(f, q->reason);
	fputs(",\"resolver\":", f);
	ds_json_fputs(f, addr);
	fprintf(f, ",\"port\":%u,\"tcp\":%s,\"total\":%u,\"records\":[", port,
		q->tcp ? "true" : "false", q->total);
	for (i = 0; i < q->n; i++) {
		fputs(i ? "," : "", f);
		json_record(f, &q->rec[i]);
	}
	fputs("]}", f);
}
