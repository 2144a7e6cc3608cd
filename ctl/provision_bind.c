/*
 * provision_bind.c -- the BIND 9.18 configuration that serves a
 * provisioned resolver's zones and DNS-over-TLS: the same service as
 * unbound.conf, for operators who run BIND.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dotstub/provision.h"

/* The name of the tls statement. */
#define TLS_NAME "dotstub-tls"
#define ACL_NAME "dotstub-clients"

/* listen-on[-v6] lines for one address family, or "{ none; }". */
static void
listen_on(FILE *fp, const struct ctl_prov_conf *c, int af)
{
	const char *v6 = af == AF_INET6 ? "-v6" : "";
	size_t i, n = 0;

	for (i = 0; i < c->naddr; i++)
		n += c->addr[i].family == af;
	if (n == 0) {
		fprintf(fp, "\tlisten-on%s { none; };\n", v6);
		return;
	}
	fprintf(fp, "\tlisten-on%s port 53 {", v6);
	for (i = 0; i < c->naddr; i++)
		if (c->addr[i].family == af)
			fprintf(fp, " %s;", c->addr[i].text);
	fprintf(fp, " };\n\tlisten-on%s port 853 tls " TLS_NAME " {", v6);
	for (i = 0; i < c->naddr; i++)
		if (c->addr[i].family == af)
			fprintf(fp, " %s;", c->addr[i].text);
	fprintf(fp, " };\n");
}

static void
forwarding(FILE *fp, const struct ctl_prov_conf *c,
    const struct ctl_prov_upstreams *ups)
{
	size_t i, j;

	if (c->forwarder) {
		fprintf(fp, "\t// A forwarder: BIND 9.18 cannot forward over "
		    "DNS-over-TLS, which\n"
		    "\t// this resolver publishes (transport \"dot\"): use "
		    "unbound.conf, or\n"
		    "\t// BIND 9.20 or later with a tls statement per "
		    "upstream and\n"
		    "\t//   forwarders {");
		for (i = 0; i < ups->n; i++)
			for (j = 0; j < ups->up[i].naddr; j++)
				fprintf(fp, " %s port 853 tls TLS;",
				    ups->up[i].addr[j].text);
		fprintf(fp, " };\n\t//   forward only;\n"
		    "\t// As written, this BIND resolves names itself.\n");
	} else if (c->nforward > 0) {
		fprintf(fp, "\t// every name not served here is forwarded "
		    "(--forward-to)\n\tforwarders {");
		for (i = 0; i < c->nforward; i++)
			fprintf(fp, " %s port %u;", c->forward[i].addr.text,
			    c->forward[i].port);
		fprintf(fp, " };\n\tforward only;\n");
	} else {
		fprintf(fp, "\t// recursion: BIND resolves names itself; to "
		    "forward instead,\n"
		    "\t// provision with --forward-to ADDR or add "
		    "forwarders { ADDR; };\n");
	}
}

static void
zone(FILE *fp, const char *dir, const char *origin)
{
	fprintf(fp, "zone \"%s\" {\n"
	    "\ttype primary;\n"
	    "\tfile \"%s/" CTL_PROV_SIGNED_FMT "\";\n"
	    "\tnotify no;\n"
	    "};\n", origin, dir, origin);
}

static int
write_named(FILE *fp, const void *arg)
{
	const struct ctl_prov_conf *c = ((const void *const *)arg)[0];
	const struct ctl_prov_upstreams *ups = ((const void *const *)arg)[1];
	size_t i;

	fprintf(fp, "// BIND 9.18 configuration for the resolver %s, written "
	    "by dotctl provision.\n"
	    "// Standalone: named -g -c %s/named.conf\n"
	    "// In an existing BIND: copy the tls, acl and zone statements, "
	    "and the\n"
	    "// options lines not marked standalone into its options.\n"
	    "// After dotctl provision resign: rndc reload %s; rndc reload "
	    "%s\n"
	    "// (standalone, without rndc: kill -HUP $(cat %s/named.pid)).\n"
	    "// The zones are signed already: no dnssec-policy, no "
	    "inline-signing.\n\n",
	    c->name, c->out, CTL_PROV_ARPA, c->name, c->out);
	fprintf(fp, "tls " TLS_NAME " {\n"
	    "\tkey-file \"%s/tls/server.key\";\n"
	    "\tcert-file \"%s/tls/server.pem\";\n"
	    "};\n\n", c->out, c->out);
	fprintf(fp, "// Who may query: the networks given with --allow (by "
	    "default the /24\n"
	    "// or /64 around each address) and this host; nobody else.\n"
	    "acl " ACL_NAME " {\n\t127.0.0.1;\n\t::1;\n");
	for (i = 0; i < c->nallow; i++)
		fprintf(fp, "\t%s;\n", c->allow[i].text);
	fprintf(fp, "};\n\n");
	fprintf(fp, "options {\n"
	    "\t// standalone only\n"
	    "\tdirectory \"%s\";\n"
	    "\tpid-file \"%s/named.pid\";\n"
	    "\tsession-keyfile \"%s/named.session.key\";\n\n"
	    "\t// plain DNS (53) and DNS-over-TLS (853)\n", c->out, c->out,
	    c->out);
	listen_on(fp, c, AF_INET);
	listen_on(fp, c, AF_INET6);
	fprintf(fp, "\tallow-query { " ACL_NAME "; };\n"
	    "\tallow-recursion { " ACL_NAME "; };\n"
	    "\trecursion yes;\n"
	    "\tdnssec-validation auto;\n");
	forwarding(fp, c, ups);
	fprintf(fp, "};\n\n"
	    "// standalone only: no rndc\n"
	    "controls { };\n\n");
	zone(fp, c->out, CTL_PROV_ARPA);
	fputc('\n', fp);
	zone(fp, c->out, c->name);
	return 0;
}

int
ctl_prov_bind_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ctl_prov_upstreams *ups)
{
	const void *args[2] = { conf, ups };

	return ctl_prov_write(d, "named.conf", 0644, write_named, args);
}
