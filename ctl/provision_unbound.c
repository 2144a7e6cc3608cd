/*
 * provision_unbound.c -- the Unbound configuration that serves a
 * provisioned resolver's zones and DNS-over-TLS, and the operator's README.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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

/* Who may query: the allowed networks and this host, nobody else. */
static void
access_control(FILE *fp, const struct ctl_prov_conf *c)
{
	size_t i;

	fprintf(fp, "\t# Who may query: the networks given with --allow "
	    "(by default the\n"
	    "\t# /24 or /64 around each address) and this host "
	    "(127.0.0.1, ::1).\n"
	    "\t# Everybody else, other loopback addresses included, is "
	    "refused.\n"
	    "\t# Add a line per network of your clients:\n"
	    "\t#   access-control: 192.0.2.0/24 allow\n"
	    "\taccess-control: 0.0.0.0/0 refuse\n"
	    "\taccess-control: ::/0 refuse\n"
	    "\taccess-control: 127.0.0.0/8 refuse\n"
	    "\taccess-control: 127.0.0.1/32 allow\n"
	    "\taccess-control: ::1/128 allow\n");
	for (i = 0; i < c->nallow; i++)
		fprintf(fp, "\taccess-control: %s allow\n", c->allow[i].text);
	fputc('\n', fp);
}

static bool
is_loopback(const struct ctl_prov_addr *a)
{
	return a->family == AF_INET ? strncmp(a->text, "127.", 4) == 0 :
	    strcmp(a->text, "::1") == 0;
}

/* Whether a server forwarded to is on this host. */
static bool
forwards_to_loopback(const struct ctl_prov_conf *c,
    const struct ctl_prov_upstreams *ups)
{
	size_t i, j;

	for (i = 0; i < c->nforward; i++)
		if (is_loopback(&c->forward[i].addr))
			return true;
	for (i = 0; c->forwarder && i < ups->n; i++)
		for (j = 0; j < ups->up[i].naddr; j++)
			if (is_loopback(&ups->up[i].addr[j]))
				return true;
	return false;
}

/* Recursion (nothing to write), plain forwarding or DoT to upstreams. */
static void
forwarding(FILE *fp, const struct ctl_prov_conf *c,
    const struct ctl_prov_upstreams *ups)
{
	size_t i, j;

	if (c->forwarder) {
		fprintf(fp, "\n# Forwarder: every name not served here goes "
		    "to the upstreams\n"
		    "# (--upstream) over DNS-over-TLS, as published "
		    "(transport \"dot\").\n"
		    "# Unbound authenticates each upstream by its name "
		    "(#NAME) against the\n"
		    "# certificates in tls-cert-bundle: tls/upstreams.pem "
		    "holds the one each\n"
		    "# upstream's TLSA pins.  Unbound does not look up TLSA "
		    "records (no DANE)\n"
		    "# for its upstreams: when an upstream gets a new "
		    "certificate or CA,\n"
		    "# provision this forwarder again (or replace "
		    "tls/upstreams.pem) and\n"
		    "# restart Unbound.  tls-cert-bundle holds for every TLS "
		    "upstream of this\n"
		    "# Unbound: append the CAs other forward-zones need.\n"
		    "forward-zone:\n"
		    "\tname: \".\"\n"
		    "\tforward-tls-upstream: yes\n");
		for (i = 0; i < ups->n; i++)
			for (j = 0; j < ups->up[i].naddr; j++)
				fprintf(fp, "\tforward-addr: %s@853#%s\n",
				    ups->up[i].addr[j].text, ups->up[i].name);
	} else if (c->nforward > 0) {
		fprintf(fp, "\n# Every name not served here is forwarded "
		    "(--forward-to) in plain DNS.\n"
		    "# Without this clause Unbound resolves names "
		    "itself, from the root.\n"
		    "forward-zone:\n"
		    "\tname: \".\"\n");
		for (i = 0; i < c->nforward; i++)
			fprintf(fp, "\tforward-addr: %s@%u\n",
			    c->forward[i].addr.text, c->forward[i].port);
	} else {
		fprintf(fp, "\n# Recursion: Unbound resolves names itself, "
		    "from the root.  To forward\n"
		    "# to other resolvers instead, provision with "
		    "--forward-to ADDR, or add:\n"
		    "#   forward-zone:\n"
		    "#   \tname: \".\"\n"
		    "#   \tforward-addr: 192.0.2.1\n");
	}
}

struct unbound_args {
	const struct ctl_prov_conf *conf;
	const struct ctl_prov_upstreams *ups;
};

static int
write_unbound(FILE *fp, const void *arg)
{
	const struct unbound_args *ua = arg;
	const struct ctl_prov_conf *c = ua->conf;
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
	    "\tpidfile: \"%s/unbound.pid\"\n\n", c->out, c->out);
	access_control(fp, c);
	fprintf(fp, "\t# plain DNS (53) and DNS-over-TLS (853)\n");
	for (i = 0; i < c->naddr; i++)
		fprintf(fp, "\tinterface: %s@53\n\tinterface: %s@853\n",
		    c->addr[i].text, c->addr[i].text);
	fprintf(fp, "\ttls-port: 853\n"
	    "\ttls-service-key: \"%s/tls/server.key\"\n"
	    "\ttls-service-pem: \"%s/tls/server.pem\"\n", c->out, c->out);
	if (forwards_to_loopback(c, ua->ups))
		fprintf(fp, "\t# a server forwarded to is on this host\n"
		    "\tdo-not-query-localhost: no\n");
	if (c->forwarder)
		fprintf(fp, "\t# the certificates of the upstreams "
		    "(see forward-zone)\n"
		    "\ttls-cert-bundle: \"%s/tls/upstreams.pem\"\n", c->out);
	fputc('\n', fp);
	auth_zone(fp, c->out, CTL_PROV_ARPA);
	fputc('\n', fp);
	auth_zone(fp, c->out, c->name);
	forwarding(fp, c, ua->ups);
	fprintf(fp, "\n# standalone only: unbound-control -c %s/unbound.conf "
	    "talks to this\n"
	    "# Unbound through a local socket in this directory "
	    "(no TLS, no keys).\n"
	    "remote-control:\n"
	    "\tcontrol-enable: yes\n"
	    "\tcontrol-interface: \"%s/" CTL_PROV_CONTROL "\"\n"
	    "\tcontrol-use-cert: no\n", c->out, c->out);
	return 0;
}

int
ctl_prov_unbound_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ctl_prov_upstreams *ups)
{
	struct unbound_args ua = { conf, ups };
	int r;

	if (conf->forwarder && (r = ctl_prov_tls_anchors_write(d, ups)) < 0)
		return r;
	return ctl_prov_write(d, "unbound.conf", 0644, write_unbound, &ua);
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
	    "  unbound.conf           Unbound configuration\n"
	    "  named.conf             BIND 9.18 configuration\n"
	    "%s\n",
	    CTL_PROV_ARPA, c->ca_cert ? " and its CA chain" : "",
	    c->forwarder ? "  tls/upstreams.pem      the certificates the "
	    "upstreams' TLSA pin\n" : "");
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
	    "  and DNS-over-TLS on port 853 of the addresses given, to the\n"
	    "  clients in its access-control lines (--allow), and %s\n"
	    "  To add them to a running Unbound, include the auth-zone,\n"
	    "  tls-*, access-control and forward-zone lines in its\n"
	    "  configuration; the unbound user must be able to read the\n"
	    "  zone files and the TLS key.\n\n",
	    c->out, c->forwarder ? "forwards\n  everything else to its "
	    "upstreams over DNS-over-TLS (see the\n  forward-zone "
	    "comment)." : c->nforward ? "forwards\n  everything else "
	    "(--forward-to)." : "resolves\n  everything else itself.");
	fprintf(fp, "  With BIND 9.18: named -g -c %s/named.conf does the "
	    "same%s\n"
	    "  (see the comments in it).\n\n", c->out, c->forwarder ?
	    ",\n  except forwarding over DNS-over-TLS, which BIND 9.18 "
	    "cannot do" : "");
	fprintf(fp, "Signatures\n"
	    "  The signatures expire (see the RRSIG records).  Re-sign well\n"
	    "  before, e.g. daily from cron, and reload:\n"
	    "    dotctl provision resign %s\n"
	    "    unbound-control -c %s/unbound.conf auth_zone_reload %s.\n"
	    "    unbound-control -c %s/unbound.conf auth_zone_reload %s.\n"
	    "  (in an Unbound with its own remote-control, without -c).\n"
	    "  With BIND: rndc reload %s and rndc reload %s,\n"
	    "  or for the standalone named.conf:\n"
	    "    kill -HUP $(cat %s/named.pid)\n\n",
	    c->out, c->out, CTL_PROV_ARPA, c->out, c->name, CTL_PROV_ARPA,
	    c->name, c->out);
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
