/*
 * provision_unbound.c -- the Unbound configuration that serves a
 * provisioned resolver's zones and DNS-over-TLS, and the operator's README.
 */
#include <errno.h>
#include <string.h>

#include "dotstub/provision.h"

static void
auth_zone(FILE *fp, const char *dir, const char *origin)
{
	fprintf(fp, "auth-zone:\n"
	    "\tname: \"%s.\"\n"
	    "\tzonefile: \"%s/" CTL_PROV_SIGNED_FMT "\"\n"
	    "\tfor-downstream: yes\n"
	    "\tfor-upstream: yes\n"
	    "\tfallback-enabled: no\n", origin, dir, origin);
}

static int
write_unbound(FILE *fp, const void *arg)
{
	const struct ctl_prov_conf *c = arg;
	size_t i;

	fprintf(fp, "# Unbound configuration for the resolver %s, written by "
	    "dotctl provision.\n"
	    "# Standalone: unbound -d -c %s/unbound.conf\n"
	    "# In an existing Unbound: drop the standalone lines, keep the "
	    "rest.\n\n", c->name, c->out);
	fprintf(fp, "server:\n"
	    "\t# standalone only\n"
	    "\tchroot: \"\"\n"
	    "\tusername: \"\"\n"
	    "\tdirectory: \"%s\"\n"
	    "\tpidfile: \"%s/unbound.pid\"\n"
	    "\t# clients other than localhost need access-control lines:\n"
	    "\t# access-control: 192.0.2.0/24 allow\n\n", c->out, c->out);
	fprintf(fp, "\t# plain DNS (53) and DNS-over-TLS (853)\n");
	for (i = 0; i < c->naddr; i++)
		fprintf(fp, "\tinterface: %s@53\n\tinterface: %s@853\n",
		    c->addr[i].text, c->addr[i].text);
	fprintf(fp, "\ttls-port: 853\n"
	    "\ttls-service-key: \"%s/tls/server.key\"\n"
	    "\ttls-service-pem: \"%s/tls/server.pem\"\n\n", c->out, c->out);
	auth_zone(fp, c->out, CTL_PROV_ARPA);
	fputc('\n', fp);
	auth_zone(fp, c->out, c->name);
	return 0;
}

int
ctl_prov_unbound_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf)
{
	return ctl_prov_write(d, "unbound.conf", 0644, write_unbound, conf);
}

struct readme {
	const struct ctl_prov_conf *conf;
	const char *tlsa;
};

static void
readme_files(FILE *fp, const struct ctl_prov_conf *c)
{
	fprintf(fp, "Files\n"
	    "  name                   the resolver's unique name\n"
	    "  trust-anchor.key       the %s. KSK as a DNSKEY record: the\n"
	    "                         anchor clients pin (or are given)\n"
	    "  keys/*.private         DNSSEC private keys (keep secret)\n"
	    "  keys/*.key             their DNSKEY records\n"
	    "  tls/server.key         the TLS private key (keep secret)\n"
	    "  tls/server.pem         the certificate%s\n"
	    "  zones/*.zone           the unsigned zones (edit these)\n"
	    "  zones/*.zone.signed    the signed zones (served)\n"
	    "  unbound.conf           Unbound configuration\n\n",
	    CTL_PROV_ARPA, c->ca_cert ? " and its CA chain" : "");
}

static int
write_readme(FILE *fp, const void *arg)
{
	const struct readme *rd = arg;
	const struct ctl_prov_conf *c = rd->conf;

	fprintf(fp, "This directory publishes the DNS-over-TLS resolver %s\n"
	    "through %s. (see dotstub's PROTOCOL.md), written by\n"
	    "dotctl provision.\n\n", c->name, CTL_PROV_ARPA);
	fprintf(fp, "Role:   %s\nTLSA:   _853._tcp.%s. TLSA %s\n\n",
	    c->forwarder ? "forwarder" : "resolver", c->name, rd->tlsa);
	readme_files(fp, c);
	fprintf(fp, "Serving\n"
	    "  unbound -d -c %s/unbound.conf serves both zones on port 53\n"
	    "  and DNS-over-TLS on port 853 of the addresses given.  To add\n"
	    "  them to a running Unbound, include the auth-zone and tls-*\n"
	    "  lines in its configuration; the unbound user must be able to\n"
	    "  read the zone files and the TLS key.\n\n", c->out);
	fprintf(fp, "Signatures\n"
	    "  The signatures expire (see the RRSIG records).  Re-sign well\n"
	    "  before, e.g. daily from cron, and reload:\n"
	    "    dotctl provision resign %s\n"
	    "    unbound-control auth_zone_reload %s.\n"
	    "    unbound-control auth_zone_reload %s.\n\n",
	    c->out, CTL_PROV_ARPA, c->name);
	fprintf(fp, "Trust\n"
	    "  Clients trust the key in trust-anchor.key on first use, or\n"
	    "  are given it in advance (managed anchor).  To let several\n"
	    "  sites share one anchor, provision each with\n"
	    "  --arpa-key %s/keys/arpa-ksk.private.\n"
	    "  Never copy the other keys or the TLS key to another resolver.\n",
	    c->out);
	return 0;
}

int
ctl_prov_readme_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const char *tlsa)
{
	struct readme rd = { conf, tlsa };

	return ctl_prov_write(d, "README", 0644, write_readme, &rd);
}
