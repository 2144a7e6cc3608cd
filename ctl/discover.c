/*
 * discover.c -- `dotctl discover ADDR`: a dry run of the discovery walk
 * against a resolver.  Prints each step as it happens, then the verdict
 * and the upstream description the daemon would use; then asks the
 * resolver for its designated resolvers (DDR, RFC 9462) and tries them,
 * tries the DNR designations given with --dnr (RFC 9463: a dry run reads
 * no DHCP or RA option), and sums up every source and which one the
 * daemon would use (resolver-name.arpa, then DNR, then DDR).  Pins
 * nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/ctl_discover.h"
#include "dotstub/ddr.h"
#include "dotstub/discovery.h"
#include "dotstub/jsonstr.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

#include "discover_ddr.h"
#include "discover_verify.h"
#include "json.h"

enum {
	EXIT_WALK_OK = 0,
	EXIT_WALK_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_PUBLISHED = 3,
};

struct discover_opts {
	const char *addr[DISC_MAX_RESOLVERS];
	int naddr;
	unsigned long port;
	unsigned long timeout_ms;
	unsigned long confirm_ms;
	bool json;
	bool verbose;
	bool no_ddr;
	const char *ca_file;
	struct ddr_designation dnr[DDR_MAX_DESIGNATIONS]; /* --dnr */
	int ndnr;
	char dnr_said[DDR_MAX_DESIGNATIONS][DDR_REASON_MAX]; /* an ADN-only one resolved: what,
							       * or why not ("" for others) */
	struct trust_dnskey anchors[DISC_MAX_ANCHORS];
	int nanchors;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dotctl discover ADDR... [--port P] [--anchor FILE]... [--json]\n"
		"                      [--timeout MS] [--confirm-delay MS] [--no-ddr]\n"
		"                      [--ca-file FILE] [--dnr \"PRIORITY ADN [ADDR...]\"]...\n"
		"                      [--verbose]\n"
		"\n"
		"Walk resolver-name.arpa at the resolver ADDR (numeric IPv4 or IPv6) as\n"
		"dotstubd would on a new network, validating every step with DNSSEC, and\n"
		"print each step and the upstream it would use.  Then ask the first ADDR\n"
		"for _dns.resolver.arpa SVCB (DDR, RFC 9462), show the designated\n"
		"resolvers it names, and try each over DoT: verified (RFC 9462 4.2: the\n"
		"certificate valid for its name under the CA store and naming ADDR), or\n"
		"else opportunistic where 4.3 allows it (ADDR private and designated).\n"
		"Try the DNR designations given with --dnr (RFC 9463, as a DHCP or RA\n"
		"option carries them; verified by ADN under the CA store; one without\n"
		"addresses resolved first through the first ADDR: _dns.ADN SVCB, as\n"
		"dotstubd does).  Then sum up every source and the one dotstubd would\n"
		"use: resolver-name.arpa, then DNR, then DDR.  Nothing is pinned.\n"
		"\n"
		"  --port P            the resolver's plain DNS port (default 53)\n"
		"  --anchor FILE       known anchors for resolver-name.arpa, one DNSKEY\n"
		"                      a line (zone-file form); without: first use\n"
		"  --json              one JSON object instead of text\n"
		"  --timeout MS        for the whole walk (default 15000)\n"
		"  --confirm-delay MS  first use: pause before observing the DNSKEY\n"
		"                      RRset again (default 1000)\n"
		"  --no-ddr            do not ask for _dns.resolver.arpa SVCB\n"
		"  --ca-file FILE      CA certificates (PEM) to verify designated\n"
		"                      resolvers with (default: the system's store)\n"
		"  --dnr \"PRIORITY ADN [ADDR... [port N]]\"\n"
		"                      a DNR designation to try (repeatable); without\n"
		"                      an address: ADN-only (RFC 9463 3.1.6)\n"
		"  --verbose           debug log on stderr\n"
		"\n"
		"Exit status: 0 the walk succeeded; 1 it failed (bogus, anchor mismatch,\n"
		"broken publication, no answer); 2 usage or local error; 3 the resolver\n"
		"does not publish resolver-name.arpa (NXDOMAIN, NODATA, or REFUSED to\n"
		"this client).  What DDR or DNR finds does not change it.\n");
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "PRIORITY ADN [ADDR... [port N]]" into o->dnr (as dotctl link IFACE dnr
 * hands it to the daemon; without an address, ADN-only).  0 or -EINVAL
 * (printed). */
static int
parse_dnr(struct discover_opts *o, const char *text)
{
	char buf[1024], *w[2 + DS_MAX_UPSTREAM_ADDRS + 2], *save = NULL, *t;
	struct ddr_designation *g;
	unsigned long prio, port = 853;
	int n = 0, naddr;

	if (o->ndnr >= DDR_MAX_DESIGNATIONS || strlen(text) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", text);
	for (t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == (int)(sizeof(w) / sizeof(w[0])))
			goto bad;
		w[n++] = t;
	}
	naddr = n - 2;
	if (n >= 4 && !strcmp(w[n - 2], "port")) {
		if (parse_ulong(w[n - 1], 1, 65535, &port) < 0)
			goto bad;
		naddr -= 2;
	}
	if (naddr < 0 || (naddr == 0 && port != 853) || parse_ulong(w[0], 1, 65535, &prio) < 0 ||
	    strlen(w[1]) >= sizeof(g->adn))
		goto bad;
	g = &o->dnr[o->ndnr];
	memset(g, 0, sizeof(*g));
	g->origin = DDR_ORIGIN_DNR;
	g->priority = (uint16_t)prio;
	snprintf(g->adn, sizeof(g->adn), "%s", w[1]);
	if (g->adn[0] && g->adn[strlen(g->adn) - 1] == '.')
		g->adn[strlen(g->adn) - 1] = '\0';
	for (int i = 0; i < naddr; i++) {
		if (strchr(w[2 + i], '[') ||
		    ds_parse_sockaddr(w[2 + i], (unsigned)port, &g->addr[g->naddr]) < 0)
			goto bad;
		g->naddr++;
	}
	if (!g->adn[0])
		goto bad;
	o->ndnr++;
	return 0;
bad:
	fprintf(stderr, "dotctl discover: bad --dnr \"%s\" (want \"PRIORITY ADN [ADDR... "
			"[port N]]\", at most %d)\n", text, DDR_MAX_DESIGNATIONS);
	return -EINVAL;
}

static bool
blank_line(const char *s)
{
	s += strspn(s, " \t\r\n");
	return *s == '\0' || *s == '#' || *s == ';';
}

/* Append the DNSKEY lines of path to o->anchors.  Returns 0 or -errno
 * (printed). */
static int
read_anchor_file(struct discover_opts *o, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		fprintf(stderr, "dotctl discover: %s: %s\n", path, strerror(errno));
		return r;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (blank_line(line))
			continue;
		if (o->nanchors == DISC_MAX_ANCHORS) {
			fprintf(stderr, "dotctl discover: %s: more than %d anchors\n", path,
				DISC_MAX_ANCHORS);
			r = -E2BIG;
			break;
		}
		r = disc_key_parse(line, &o->anchors[o->nanchors]);
		if (r < 0) {
			fprintf(stderr,
				"dotctl discover: %s:%u: not a DNSKEY of %s (%s)\n", path,
				lineno, DISC_ZONE, strerror(-r));
			break;
		}
		o->nanchors++;
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		fprintf(stderr, "dotctl discover: %s: read error\n", path);
	}
	free(line);
	fclose(f);
	return r;
}

static int
parse_args(int argc, char **argv, struct discover_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "confirm-delay", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-ddr", no_argument, NULL, 'D' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "dnr", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:a:jt:c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_ulong(optarg, 1, 65535, &o->port) < 0)
				goto bad_value;
			break;
		case 'a':
			if (read_anchor_file(o, optarg) < 0)
				return -EINVAL;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (parse_ulong(optarg, 1, 600000, &o->timeout_ms) < 0)
				goto bad_value;
			break;
		case 'c':
			if (parse_ulong(optarg, 0, 60000, &o->confirm_ms) < 0)
				goto bad_value;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'D':
			o->no_ddr = true;
			break;
		case 'C':
			o->ca_file = optarg;
			break;
		case 'N':
			if (parse_dnr(o, optarg) < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_WALK_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	for (; optind < argc; optind++) {
		if (o->naddr == DISC_MAX_RESOLVERS) {
			fprintf(stderr, "dotctl discover: at most %d addresses\n",
				DISC_MAX_RESOLVERS);
			return -EINVAL;
		}
		o->addr[o->naddr++] = argv[optind];
	}
	if (o->naddr == 0) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
bad_value:
	fprintf(stderr, "dotctl discover: bad value for --%s: %s\n",
		c == 'p' ? "port" : c == 't' ? "timeout" : "confirm-delay", optarg);
	return -EINVAL;
}

static void
print_step(void *arg, const struct disc_step *s)
{
	FILE *f = arg;

	disc_step_print(s, f);
	fflush(f);
}

/* Ask the first address for its DDR designations.  NULL if there is
 * nothing to show (--no-ddr, out of memory: said on stderr). */
static struct ddr_query *
discover_ddr(const struct discover_opts *o)
{
	struct sockaddr_storage ss;
	struct ddr_query *q;

	if (o->no_ddr)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		fprintf(stderr, "dotctl discover: ddr: out of memory\n");
		return NULL;
	}
	if (ds_parse_sockaddr(o->addr[0], (unsigned)o->port, &ss) < 0) {
		q->result = DDR_QUERY_UNREACHABLE;
		snprintf(q->reason, sizeof(q->reason), "bad address %s", o->addr[0]);
		return q;
	}
	ddr_query(&ss, DDR_QUERY_TIMEOUT_MS, q);
	return q;
}

/* Try the DoT designations of q over DoT; how many verdicts. */
static int
verify_ddr(const struct discover_opts *o, const struct ddr_query *q,
	   struct ds_ddr_verdict *v, int cap)
{
	struct sockaddr_storage ss;

	if (!q || q->result != DDR_QUERY_OK ||
	    ds_parse_sockaddr(o->addr[0], (unsigned)o->port, &ss) < 0)
		return 0;
	return ctl_ddr_verify(q, &ss, o->ca_file, 3000, v, cap);
}

/* Try the --dnr designations over DoT; how many verdicts.  An ADN-only
 * one (RFC 9463 3.1.6) is resolved first through the first resolver, as
 * the daemon does (o->dnr_said: what was found, or why nothing was; its
 * verdict then says why it was not tried). */
static int
verify_dnr(struct discover_opts *o, struct ds_ddr_verdict *v, int cap)
{
	struct sockaddr_storage ss;
	int n;

	if (o->ndnr == 0 || ds_parse_sockaddr(o->addr[0], (unsigned)o->port, &ss) < 0)
		return 0;
	for (int i = 0; i < o->ndnr; i++) {
		struct ddr_designation *g = &o->dnr[i], r;

		if (g->naddr > 0)
			continue;
		if (ddr_resolve_adn(&ss, g->adn, g->priority, DDR_ADN_TIMEOUT_MS, NULL, &r,
				    o->dnr_said[i], sizeof(o->dnr_said[i])) == 0)
			*g = r;
	}
	n = ctl_designations_verify(o->dnr, o->ndnr, &ss, o->ca_file, 3000, v, cap);
	for (int k = 0; k < n; k++)
		for (int i = 0; i < o->ndnr; i++)
			if (o->dnr[i].naddr == 0 && o->dnr_said[i][0] &&
			    v[k].g.priority == o->dnr[i].priority && !strcmp(v[k].g.adn, o->dnr[i].adn))
				snprintf(v[k].why, sizeof(v[k].why), "ADN only, not resolved: %s",
					 o->dnr_said[i]);
	return n;
}

/* Every source's result and the one the daemon would use. */
struct sources {
	const char *walk;       /* trust_discovery_name */
	bool walk_dot;          /* resolver-name.arpa gives DoT */
	char dnr[320];          /* what DNR gave */
	char ddr[320];          /* what DDR gave */
	char use[384];          /* what dotstubd would use */
};

/* The first designation that answered, and how ("verified" or
 * "opportunistic"), or NULL. */
static const struct ds_ddr_verdict *
first_answer(const struct ds_ddr_verdict *v, int n, const char **how)
{
	for (int i = 0; i < n; i++)
		if (v[i].verified) {
			*how = "verified";
			return &v[i];
		}
	for (int i = 0; i < n; i++)
		if (v[i].opportunistic) {
			*how = "opportunistic";
			return &v[i];
		}
	return NULL;
}

static void
sum_up(const struct disc_result *res, const struct discover_opts *o, const struct ddr_query *q,
       const struct ds_ddr_verdict *ddr, int nddr, const struct ds_ddr_verdict *dnr, int ndnr,
       struct sources *s)
{
	const char *dnr_how = NULL, *ddr_how = NULL;
	const struct ds_ddr_verdict *dn = first_answer(dnr, ndnr, &dnr_how);
	const struct ds_ddr_verdict *dd = first_answer(ddr, nddr, &ddr_how);

	memset(s, 0, sizeof(*s));
	s->walk = trust_discovery_name(res->kind);
	s->walk_dot = res->kind == TRUST_DISC_OK && !res->transparent;
	if (o->ndnr == 0)
		snprintf(s->dnr, sizeof(s->dnr), "none given (a dry run reads no DHCP or RA "
						 "option: --dnr)");
	else if (dn)
		snprintf(s->dnr, sizeof(s->dnr), "%s: %s", dnr_how, dn->g.adn);
	else
		snprintf(s->dnr, sizeof(s->dnr), "not verified: %s", dnr[0].why);
	if (!q)
		snprintf(s->ddr, sizeof(s->ddr), "not asked (--no-ddr)");
	else if (q->result != DDR_QUERY_OK)
		snprintf(s->ddr, sizeof(s->ddr), "no answer: %s", q->reason);
	else if (dd)
		snprintf(s->ddr, sizeof(s->ddr), "%s: %s", ddr_how, dd->g.adn);
	else if (nddr > 0)
		snprintf(s->ddr, sizeof(s->ddr), "not verified: %s", ddr[0].why);
	else
		snprintf(s->ddr, sizeof(s->ddr), "no DoT designation");
	if (s->walk_dot)
		snprintf(s->use, sizeof(s->use), "resolver-name.arpa: DoT to %s (DANE)",
			 res->desc.name);
	else if (dn && !strcmp(dnr_how, "verified"))
		snprintf(s->use, sizeof(s->use), "DNR: DoT to %s (PKIX)", dn->g.adn);
	else if (dd && !strcmp(ddr_how, "verified"))
		snprintf(s->use, sizeof(s->use), "DDR: DoT to %s (PKIX)", dd->g.adn);
	else if (dd)
		snprintf(s->use, sizeof(s->use), "DDR opportunistic: DoT, unauthenticated, to %s "
						 "(unknown-network opportunistic; strict: SERVFAIL)",
			 dd->g.adn);
	else
		snprintf(s->use, sizeof(s->use), "no DoT: plain DNS (unknown-network "
						 "opportunistic) or SERVFAIL (strict)");
}

static void
print_sources_text(const struct sources *s)
{
	printf("sources (resolver-name.arpa first, then DNR, then DDR):\n");
	printf("  resolver-name.arpa: %s\n", s->walk);
	printf("  DNR:                %s\n", s->dnr);
	printf("  DDR:                %s\n", s->ddr);
	printf("  would use:          %s\n", s->use);
}

static void
print_sources_json(FILE *f, const struct sources *s)
{
	fputs("{\"resolver_name_arpa\":", f);
	ds_json_fputs(f, s->walk);
	fputs(",\"dnr\":", f);
	ds_json_fputs(f, s->dnr);
	fputs(",\"ddr\":", f);
	ds_json_fputs(f, s->ddr);
	fputs(",\"would_use\":", f);
	ds_json_fputs(f, s->use);
	fputc('}', f);
}

/* The walk's JSON object with "ddr" and "ddr_verify" members added before
 * its end. */
static int
print_json(const struct disc_result *res, const struct ddr_query *q,
	   const struct ds_ddr_verdict *v, int nv, const struct ds_ddr_verdict *dv, int ndv,
	   const struct sources *src, const struct discover_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int r;

	m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	r = disc_result_print(res, m, true, true);
	if (fclose(m) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && (len < 2 || buf[len - 2] != '}' || buf[len - 1] != '\n'))
		r = -EINVAL;
	if (r == 0) {
		fwrite(buf, 1, len - 2, stdout);
		if (q) {
			fputs(",\"ddr\":", stdout);
			ctl_ddr_print_json(stdout, q, o->addr[0], (unsigned)o->port);
			fputs(",\"ddr_verify\":", stdout);
			ctl_ddr_verify_print_json(stdout, v, nv);
		}
		fputs(",\"dnr_verify\":", stdout);
		ctl_ddr_verify_print_json(stdout, dv, ndv);
		fputs(",\"sources\":", stdout);
		print_sources_json(stdout, src);
		fputs("}\n", stdout);
	}
	free(buf);
	return r;
}

static int
exit_status(enum trust_discovery k)
{
	switch (k) {
	case TRUST_DISC_OK:
		return EXIT_WALK_OK;
	case TRUST_DISC_NOT_PUBLISHED:
		return EXIT_NOT_PUBLISHED;
	case TRUST_DISC_UNREACHABLE:
	case TRUST_DISC_ANCHOR_MISMATCH:
	case TRUST_DISC_BOGUS:
	case TRUST_DISC_FAILED:
	/* never a walk's verdict */
	case TRUST_DISC_NONE:
	case TRUST_DISC_RUNNING:
	case TRUST_DISC_ERROR:
		break;
	}
	return EXIT_WALK_FAILED;
}

int
ctl_discover_main(int argc, char **argv)
{
	struct discover_opts *o;
	struct disc_params p;
	struct disc_result *res = NULL;
	struct ddr_query *q;
	struct ds_ddr_verdict verdicts[DDR_MAX_DESIGNATIONS], dnr_v[DDR_MAX_DESIGNATIONS];
	struct sources src;
	char fwd[DISC_MAX_RESOLVERS][DISC_ADDR_STR_MAX];
	int i, r, status, nv, ndv;

	o = calloc(1, sizeof(*o));
	if (!o) {
		fprintf(stderr, "dotctl discover: out of memory\n");
		return EXIT_USAGE;
	}
	o->port = 53;
	disc_params_init(&p);
	o->timeout_ms = p.timeout_ms;
	o->confirm_ms = p.confirm_delay_ms;
	if (parse_args(argc, argv, o) < 0) {
		free(o);
		return EXIT_USAGE;
	}
	/* the result says what happened; the DoT client's notices would
	 * only repeat it (and break --json on a shared terminal) */
	ds_log_init("dotctl", o->verbose ? LOG_DEBUG : LOG_WARNING, true);
	for (i = 0; i < o->naddr; i++) {
		r = snprintf(fwd[i], sizeof(fwd[i]), "%s@%lu", o->addr[i], o->port);
		if (r < 0 || (size_t)r >= sizeof(fwd[i]) || strchr(o->addr[i], '@')) {
			fprintf(stderr, "dotctl discover: bad address %s\n", o->addr[i]);
			free(o);
			return EXIT_USAGE;
		}
		p.resolvers[i] = fwd[i];
	}
	p.nresolvers = o->naddr;
	p.anchors = o->anchors;
	p.nanchors = o->nanchors;
	p.timeout_ms = (unsigned)o->timeout_ms;
	p.confirm_delay_ms = (unsigned)o->confirm_ms;
	if (!o->json) {
		p.on_step = print_step;
		p.on_step_arg = stdout;
		printf("discovering %s at %s (%s)\n", DISC_ZONE, fwd[0],
		       o->nanchors ? "known anchors given" : "first use");
	}
	r = disc_walk(&p, &res);
	if (r < 0) {
		fprintf(stderr, "dotctl discover: %s\n",
			r == -EINVAL ? "bad resolver address (numeric IPv4 or IPv6 expected)"
				     : strerror(-r));
		free(o);
		return EXIT_USAGE;
	}
	q = discover_ddr(o);
	nv = verify_ddr(o, q, verdicts, DDR_MAX_DESIGNATIONS);
	ndv = verify_dnr(o, dnr_v, DDR_MAX_DESIGNATIONS);
	sum_up(res, o, q, verdicts, nv, dnr_v, ndv, &src);
	if (o->json)
		r = print_json(res, q, verdicts, nv, dnr_v, ndv, &src, o);
	else
		r = disc_result_print(res, stdout, false, false);
	if (r < 0 || fflush(stdout) != 0)
		fprintf(stderr, "dotctl discover: cannot write the result\n");
	if (!o->json && res->kind == TRUST_DISC_OK && !disc_name_recommended(res->desc.name))
		printf("note: %s is a valid unique name but not the recommended form (%s)\n",
		       res->desc.name, DISC_NAME_RECOMMENDED);
	if (!o->json && q) {
		ctl_ddr_print_text(stdout, q, o->addr[0], (unsigned)o->port);
		ctl_ddr_verify_print_text(stdout, verdicts, nv, o->addr[0]);
	}
	if (!o->json && ndv > 0) {
		printf("DNR designations given (--dnr):\n");
		for (int k = 0; k < o->ndnr; k++)
			if (o->dnr_said[k][0] && o->dnr[k].naddr > 0)
				printf("dnr: %s (priority %u): ADN only, resolved through %s: %s\n",
				       o->dnr[k].adn, o->dnr[k].priority, o->addr[0], o->dnr_said[k]);
		ctl_ddr_verify_print_text(stdout, dnr_v, ndv, o->addr[0]);
	}
	if (!o->json) {
		print_sources_text(&src);
		printf("dry run: nothing pinned\n");
	}
	free(q);
	status = exit_status(res->kind);
	disc_result_free(res);
	free(o);
	return status;
}
