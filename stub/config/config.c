/* config.c -- dotstubd's configuration file and options (see config.h). */
#include "dotstub-config.h"
#include "dotstub/config.h"
#include "dotstub/sockaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/log.h"

#include "config_int.h"

#define CONFIG_FILE_MAX (1 << 20)
/* serve-dot and publish yes in a build without them (meson option
 * dot-server=false) */
#define NO_DOT_SERVER \
	"this dotstubd is built without the DoT server and publishing (dot-server=false, " \
	"as the OpenWrt package dotstub-basic): install dotstub for them"

enum key_id {
	K_LISTEN, K_UPSTREAM, K_TLSA, K_ALLOW_TLS12, K_CACHE_SIZE, K_CONTROL,
	K_STATE_DIR, K_USER, K_LOG_LEVEL, K_TCP_CLIENTS, K_MAX_PENDING,
	K_QUERY_TIMEOUT, K_NETWORK_RESOLVER, K_RESOLV_SOURCE, K_ANCHORS_DIR,
	K_TOFU, K_UNKNOWN_NETWORK, K_PREFER_UPSTREAM, K_DISCOVERY_WAIT,
	K_HOLD_DOWN, K_REFRESH, K_TCP_PER_ADDRESS, K_TCP_CLIENT_OUTPUT, K_TCP_OUTPUT_TOTAL,
	K_ACCESS_CONTROL, K_RESOLV_CONF_OUT, K_RESOLVE1, K_RESOLVE1_GROUP, K_DBUS_MAX_CALLS,
	K_RESOLV_SOURCE_LINK, K_NETWORKD,
	K_SERVE_DOT, K_SERVE_DOT_CERT, K_SERVE_DOT_KEY, K_SERVE_DOT_NAME, K_DOT_CLIENTS,
	K_DOT_PER_ADDRESS, K_DOT_CLIENT_OUTPUT, K_DOT_OUTPUT_TOTAL, K_DOT_CLIENT_INFLIGHT,
	K_DOT_IDLE_TIMEOUT, K_DOT_HANDSHAKE_TIMEOUT, K_SECCOMP, K_PUBLISH, K_DDR, K_DNR,
	K_DNR_RA, K_CA_FILE,
};

struct key_def {
	const char *name;
	enum key_id id;
	bool repeatable;
	const char *help;
};

static const struct key_def keys[] = {
	{ "listen", K_LISTEN, true, "ADDR[:PORT]  UDP+TCP listener (default 127.0.0.53:53)" },
	{ "access-control", K_ACCESS_CONTROL, true, "\"NETMASK allow|refuse|deny\"  who may query (default: loopback and the listeners' connected prefixes)" },
	{ "upstream", K_UPSTREAM, true, "NAME@ADDR[:PORT]  static DoT upstream (port 853)" },
	{ "tlsa", K_TLSA, true, "\"U S M HEX\"  TLSA record of the static upstream" },
	{ "allow-tls12", K_ALLOW_TLS12, false, "yes|no  accept TLS 1.2 upstream (default no)" },
	{ "cache-size", K_CACHE_SIZE, false, "N[k|m|g] bytes, or \"N entries\" (default 4m; 0 = off)" },
	{ "control", K_CONTROL, false, "PATH  control socket (default " DOTSTUB_RUNDIR "/control)" },
	{ "resolv-conf-out", K_RESOLV_CONF_OUT, false, "PATH|none  the resolv.conf written for /etc/resolv.conf to link to (default: next to the control socket, " DOTSTUB_RUNDIR "/resolv.conf)" },
	{ "state-dir", K_STATE_DIR, false, "DIR  trust store directory (default " DOTSTUB_STATEDIR ")" },
	{ "user", K_USER, false, "NAME  drop privileges to this user after binding" },
	{ "seccomp", K_SECCOMP, false, "yes|no  seccomp filters on both processes (default yes; no: for debugging)" },
	{ "log-level", K_LOG_LEVEL, false, "err|warning|notice|info|debug (default notice)" },
	{ "tcp-clients", K_TCP_CLIENTS, false, "N  concurrent TCP clients (default 256)" },
	{ "tcp-clients-per-address", K_TCP_PER_ADDRESS, false, "N  TCP clients from one address (default 32; 0 = no limit)" },
	{ "tcp-client-output", K_TCP_CLIENT_OUTPUT, false, "SIZE  answers buffered for one TCP client (default 256k)" },
	{ "tcp-output-total", K_TCP_OUTPUT_TOTAL, false, "SIZE  answers buffered for all TCP clients (default 16m)" },
	{ "max-pending", K_MAX_PENDING, false, "N  queries waiting for upstream (default 4096)" },
	{ "query-timeout", K_QUERY_TIMEOUT, false, "MS  time budget of one query (default 4000)" },
	{ "network-resolver", K_NETWORK_RESOLVER, true, "ADDR[:PORT]  the network's resolver" },
	{ "resolv-source", K_RESOLV_SOURCE, false, "FILE  resolv.conf-format file naming the network's resolvers" },
	{ "resolv-source-link", K_RESOLV_SOURCE_LINK, false, "IFACE  the link resolv-source configures (default: the default route's)" },
	{ "networkd", K_NETWORKD, false, "yes|no|auto  read systemd-networkd's per-link DNS (default auto: if networkd wrote its state)" },
	{ "anchors-dir", K_ANCHORS_DIR, false, "DIR  managed trust anchors (*.key)" },
	{ "tofu", K_TOFU, false, "auto|ask|off  first use of an unknown anchor (default auto)" },
	{ "unknown-network", K_UNKNOWN_NETWORK, false, "opportunistic|strict  network without resolver-name.arpa" },
	{ "prefer-upstream-resolver", K_PREFER_UPSTREAM, false, "yes|no  bypass a forwarder that names a DoT upstream" },
	{ "ddr", K_DDR, false, "yes|no  ask the network's resolver for its designated DoT resolvers, _dns.resolver.arpa SVCB (default yes)" },
	{ "dnr", K_DNR, false, "yes|no  use the DoT resolvers a link designates (DNR, RFC 9463; handed over by a DHCP client hook or dotctl link IFACE dnr, or read from router advertisements), before DDR's (default yes)" },
	{ "dnr-ra", K_DNR_RA, false, "yes|no  read DNR from IPv6 router advertisements (option 144) on a raw ICMPv6 socket, which needs CAP_NET_RAW at start (default yes; a restart applies it)" },
	{ "ca-file", K_CA_FILE, false, "FILE  CA certificates (PEM) that verify DDR/DNR designated resolvers (default: the system's store)" },
	{ "discovery-wait", K_DISCOVERY_WAIT, false, "MS  how long queries wait for discovery (default 3000)" },
	{ "rfc5011-hold-down", K_HOLD_DOWN, false, "SECONDS  RFC 5011 add hold-down (default 30 days)" },
	{ "refresh-interval", K_REFRESH, false, "SECONDS  re-validate the resolver over DoT (default 0: RFC 5011 timing)" },
	{ "resolve1", K_RESOLVE1, false, "yes|no  serve org.freedesktop.resolve1 on the system bus (default no)" },
	{ "resolve1-group", K_RESOLVE1_GROUP, false, "NAME  a group that may change links over D-Bus too (root and the daemon's user may)" },
	{ "dbus-max-calls", K_DBUS_MAX_CALLS, false, "N  D-Bus resolve calls in flight (default 64)" },
	{ "serve-dot", K_SERVE_DOT, true, "ADDR[:PORT]  serve DNS over TLS to clients there (port 853)" },
	{ "serve-dot-cert", K_SERVE_DOT_CERT, false, "FILE  the DoT server's certificate chain, PEM (default: generated in state-dir)" },
	{ "serve-dot-key", K_SERVE_DOT_KEY, false, "FILE  its private key, PEM (with serve-dot-cert)" },
	{ "serve-dot-name", K_SERVE_DOT_NAME, false, "NAME  the name in the generated certificate (default: a random unique name, e.g. abcd1234efgh.zz)" },
	{ "dot-clients", K_DOT_CLIENTS, false, "N  concurrent DoT clients (default 256)" },
	{ "dot-clients-per-address", K_DOT_PER_ADDRESS, false, "N  DoT clients from one address (default 32; 0 = no limit)" },
	{ "dot-client-output", K_DOT_CLIENT_OUTPUT, false, "SIZE  answers buffered for one DoT client (default 256k)" },
	{ "dot-output-total", K_DOT_OUTPUT_TOTAL, false, "SIZE  answers buffered for all DoT clients (default 16m)" },
	{ "dot-client-inflight", K_DOT_CLIENT_INFLIGHT, false, "N  queries in flight per DoT client (default 128)" },
	{ "dot-idle-timeout", K_DOT_IDLE_TIMEOUT, false, "MS  close an idle DoT connection (default 30000)" },
	{ "dot-handshake-timeout", K_DOT_HANDSHAKE_TIMEOUT, false, "MS  a TLS handshake must be done by then (default 5000)" },
	{ "publish", K_PUBLISH, false, "yes|no  publish resolver-name.arpa and our unique zone as a forwarder (needs serve-dot; default no)" },
};

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void ds_config_init(struct ds_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cache_bytes = 4u << 20;
	snprintf(c->control_path, sizeof(c->control_path), "%s", DOTSTUB_RUNDIR "/control");
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", DOTSTUB_STATEDIR);
	snprintf(c->anchors_dir, sizeof(c->anchors_dir), "%s", DOTSTUB_SYSCONFDIR "/anchors.d");
	c->log_level = LOG_NOTICE;
	c->max_tcp_clients = 256;
	c->tcp_clients_per_address = 32;
	c->tcp_client_output = 256u << 10;
	c->tcp_output_total = 16u << 20;
	c->max_client_pending = 4096;
	c->query_timeout_ms = 4000;
	c->tofu = TRUST_TOFU_AUTO;
	c->ddr = true;
	c->dnr = true;
	c->dnr_ra = true;
	c->unknown_network = TRUST_UNKNOWN_OPPORTUNISTIC;
	c->discovery_wait_ms = 3000;
	c->rfc5011_hold_down_s = 30 * 86400;
	c->seccomp = true;
	c->dbus_max_calls = 64;
	c->dot.clients = 256;
	c->dot.clients_per_address = 32;
	c->dot.client_output = 256u << 10;
	c->dot.output_total = 16u << 20;
	c->dot.client_inflight = 128;
	c->dot.idle_timeout_ms = 30000;
	c->dot.handshake_timeout_ms = 5000;
}

void ds_config_free(struct ds_config *c)
{
	ds_upstream_desc_clear(&c->upstream);
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned *out)
{
	char *ep;
	unsigned long n;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &ep, 10);
	if (errno || *ep || n > max)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* "4m", "65536", "10000 entries" -> bytes, at most HI; -ERANGE if they
 * do not fit this machine's size_t (4g and more on a 32-bit router), never
 * a value cut to its low bits */
static int parse_size(const char *v, unsigned long long hi, size_t *out)
{
	char *ep;
	unsigned long long n, mult = 1;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &ep, 10);
	if (errno)
		return -EINVAL;
	while (*ep == ' ' || *ep == '\t')
		ep++;
	if (!strcmp(ep, "entries"))
		mult = 512; /* an average answer with its bookkeeping */
	else if (!strcasecmp(ep, "k") || !strcasecmp(ep, "kb"))
		mult = 1ull << 10;
	else if (!strcasecmp(ep, "m") || !strcasecmp(ep, "mb"))
		mult = 1ull << 20;
	else if (!strcasecmp(ep, "g") || !strcasecmp(ep, "gb"))
		mult = 1ull << 30;
	else if (*ep)
		return -EINVAL;
	if (n > (1ull << 40) / mult)
		return -EINVAL;
	n *= mult;
	if (n > hi)
		return -EINVAL;
	if ((size_t)n != n)
		return -ERANGE;
	*out = (size_t)n;
	return 0;
}

static int too_big(char *err, size_t errlen, const char *key, const char *v)
{
	return config_fail(err, errlen, "%s: '%s' is more than this machine can address", key, v);
}

static int copy_path(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* A repeatable key replaces the file's list the first time the command line
 * names it. */
static void reset_list_once(struct ds_config *c, enum key_id id)
{
	unsigned long long bit = 1ull << id;

	if (c->cmdline_lists & bit)
		return;
	c->cmdline_lists |= bit;
	switch (id) {
	case K_LISTEN:
		c->nlisten = 0;
		break;
	case K_UPSTREAM:
		c->upstream.naddr = 0;
		c->upstream.name[0] = '\0';
		break;
	case K_TLSA:
		for (int t = 0; t < c->upstream.ntlsa; t++)
			free(c->upstream.tlsa[t].data);
		c->upstream.ntlsa = 0;
		break;
	case K_NETWORK_RESOLVER:
		c->nnetwork_resolver = 0;
		break;
	case K_ACCESS_CONTROL:
		c->naccess_control = 0;
		break;
	case K_SERVE_DOT:
		c->dot.naddr = 0;
		break;
	default:
		break;
	}
}

static int set_access_control(struct ds_config *c, const char *v, char *err, size_t errlen)
{
	struct ds_acl_rule r;
	const char *why;
	char a[DS_ACL_RULE_STRLEN];

	if (c->naccess_control >= DS_MAX_ACCESS_CONTROL)
		return config_fail(err, errlen, "too many access-control lines (at most %d)",
			    DS_MAX_ACCESS_CONTROL);
	if (ds_acl_rule_parse(v, &r, &why) < 0)
		return config_fail(err, errlen, "access-control: '%s': %s", v, why);
	for (int i = 0; i < c->naccess_control; i++)
		if (ds_acl_same_netmask(&c->access_control[i], &r))
			return config_fail(err, errlen, "access-control: %s is given twice",
				    ds_acl_rule_format(&r, a, sizeof(a)));
	c->access_control[c->naccess_control++] = r;
	return 0;
}

/* A host name (labels of letters, digits and hyphens, not all digits at
 * the end), lower-cased into out without a final dot. */
static int parse_host_name(const char *v, char *out, size_t cap)
{
	size_t len = strlen(v), label = 0;
	bool digits = true;

	if (len > 0 && v[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || len >= cap)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char ch = (char)tolower((unsigned char)v[i]);

		if (ch == '.') {
			if (label == 0 || v[i - 1] == '-')
				return -EINVAL;
			label = 0;
			digits = true;
		} else if (!(isalnum((unsigned char)ch) || (ch == '-' && label > 0)) ||
			   ++label > 63) {
			return -EINVAL;
		}
		digits = digits && (ch == '.' || isdigit((unsigned char)ch));
		out[i] = ch;
	}
	if (label == 0 || v[len - 1] == '-' || digits)
		return -EINVAL;
	out[len] = '\0';
	return 0;
}

/* The DoT server's keys (serve-dot and dot-*). */
static int set_dot_key(struct ds_serve_dot_config *s, const struct key_def *k, const char *v,
		       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int r;

	switch (k->id) {
	case K_SERVE_DOT:
		if (s->naddr >= DS_MAX_SERVE_DOT)
			return config_fail(err, errlen, "too many serve-dot addresses (at most %d)",
				    DS_MAX_SERVE_DOT);
		if (ds_parse_sockaddr(v, 853, &ss) < 0)
			return config_fail(err, errlen, "serve-dot: '%s' is not ADDR[:PORT]", v);
		s->addr[s->naddr++] = ss;
		return 0;
	case K_SERVE_DOT_CERT:
		if (copy_path(s->cert, sizeof(s->cert), v) < 0)
			return config_fail(err, errlen, "serve-dot-cert: bad path");
		return 0;
	case K_SERVE_DOT_KEY:
		if (copy_path(s->key, sizeof(s->key), v) < 0)
			return config_fail(err, errlen, "serve-dot-key: bad path");
		return 0;
	case K_SERVE_DOT_NAME:
		if (parse_host_name(v, s->name, sizeof(s->name)) < 0)
			return config_fail(err, errlen, "serve-dot-name: '%s' is not a host name", v);
		return 0;
	case K_DOT_CLIENTS:
		if (parse_uint(v, 65536, &s->clients) < 0 || s->clients == 0)
			return config_fail(err, errlen, "dot-clients: '%s' is not a number in 1..65536", v);
		return 0;
	case K_DOT_PER_ADDRESS:
		if (parse_uint(v, 65536, &s->clients_per_address) < 0)
			return config_fail(err, errlen, "dot-clients-per-address: '%s' is not a number in 0..65536", v);
		return 0;
	case K_DOT_CLIENT_OUTPUT:
		r = parse_size(v, 64u << 20, &s->client_output);
		if (r == -ERANGE)
			return too_big(err, errlen, "dot-client-output", v);
		if (r < 0 || s->client_output < (4u << 10))
			return config_fail(err, errlen, "dot-client-output: '%s' is not a size in 4k..64m", v);
		return 0;
	case K_DOT_OUTPUT_TOTAL:
		r = parse_size(v, 4ull << 30, &s->output_total);
		if (r == -ERANGE)
			return too_big(err, errlen, "dot-output-total", v);
		if (r < 0 || s->output_total < (64u << 10))
			return config_fail(err, errlen, "dot-output-total: '%s' is not a size in 64k..4g", v);
		return 0;
	case K_DOT_CLIENT_INFLIGHT:
		if (parse_uint(v, 4096, &s->client_inflight) < 0 || s->client_inflight == 0)
			return config_fail(err, errlen, "dot-client-inflight: '%s' is not a number in 1..4096", v);
		return 0;
	case K_DOT_IDLE_TIMEOUT:
		if (parse_uint(v, 3600000, &s->idle_timeout_ms) < 0 || s->idle_timeout_ms < 100)
			return config_fail(err, errlen, "dot-idle-timeout: '%s' is not milliseconds in 100..3600000", v);
		return 0;
	case K_DOT_HANDSHAKE_TIMEOUT:
		if (parse_uint(v, 60000, &s->handshake_timeout_ms) < 0 ||
		    s->handshake_timeout_ms < 100)
			return config_fail(err, errlen, "dot-handshake-timeout: '%s' is not milliseconds in 100..60000", v);
		return 0;
	default:
		break;
	}
	return config_fail(err, errlen, "internal: unhandled key");
}

static int set_key(struct ds_config *c, const struct key_def *k, const char *v, char *err,
		   size_t errlen)
{
	struct sockaddr_storage ss;
	struct ds_tlsa t;
	int r, lvl;

	switch (k->id) {
	case K_LISTEN:
		if (c->nlisten >= DS_MAX_LISTEN)
			return config_fail(err, errlen, "too many listen addresses (at most %d)", DS_MAX_LISTEN);
		if (ds_parse_sockaddr(v, 53, &ss) < 0)
			return config_fail(err, errlen, "listen: '%s' is not ADDR[:PORT]", v);
		c->listen[c->nlisten++] = ss;
		return 0;
	case K_ACCESS_CONTROL:
		return set_access_control(c, v, err, errlen);
	case K_UPSTREAM:
		r = ds_upstream_desc_add(&c->upstream, v);
		if (r == -E2BIG)
			return config_fail(err, errlen, "upstream: too many addresses (at most %d)",
				    DS_MAX_UPSTREAM_ADDRS);
		if (r < 0)
			return config_fail(err, errlen,
				    "upstream: '%s' is not NAME@ADDR[:PORT] (or names another "
				    "upstream than '%s')",
				    v, c->upstream.name);
		return 0;
	case K_TLSA:
		if (ds_tlsa_parse(v, &t) < 0)
			return config_fail(err, errlen, "tlsa: '%s' is not \"USAGE SELECTOR MTYPE HEX\"", v);
		r = ds_upstream_desc_add_tlsa(&c->upstream, &t);
		free(t.data);
		if (r < 0)
			return config_fail(err, errlen, "tlsa: too many records (at most %d)", DS_MAX_TLSA);
		return 0;
	case K_SECCOMP:
		if (parse_bool(v, &c->seccomp) < 0)
			return config_fail(err, errlen, "seccomp: '%s' is not yes or no", v);
		return 0;
	case K_ALLOW_TLS12:
		if (parse_bool(v, &c->allow_tls12) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_PREFER_UPSTREAM:
		if (parse_bool(v, &c->prefer_upstream_resolver) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_DDR:
		if (parse_bool(v, &c->ddr) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_DNR:
		if (parse_bool(v, &c->dnr) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_DNR_RA:
		if (parse_bool(v, &c->dnr_ra) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_CA_FILE:
		if (copy_path(c->ca_file, sizeof(c->ca_file), v) < 0 || v[0] != '/')
			return config_fail(err, errlen, "ca-file: '%s' is not an absolute path", v);
		return 0;
	case K_PUBLISH:
		if (parse_bool(v, &c->publish) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		if (c->publish && !HAVE_DOT_SERVER)
			return config_fail(err, errlen, "publish: %s", NO_DOT_SERVER);
		return 0;
	case K_CACHE_SIZE:
		r = parse_size(v, 1ull << 40, &c->cache_bytes);
		if (r == -ERANGE)
			return too_big(err, errlen, k->name, v);
		if (r < 0)
			return config_fail(err, errlen, "cache-size: '%s' is not a size (e.g. 4m, 65536, \"10000 entries\")", v);
		return 0;
	case K_CONTROL:
		if (copy_path(c->control_path, sizeof(c->control_path), v) < 0)
			return config_fail(err, errlen, "control: path empty or longer than %zu", sizeof(c->control_path) - 1);
		return 0;
	case K_RESOLV_CONF_OUT:
		if (copy_path(c->resolv_conf_out, sizeof(c->resolv_conf_out), v) < 0 ||
		    (strcmp(v, "none") != 0 && v[0] != '/'))
			return config_fail(err, errlen, "resolv-conf-out: '%s' is not an absolute path or none", v);
		return 0;
	case K_STATE_DIR:
		if (copy_path(c->state_dir, sizeof(c->state_dir), v) < 0)
			return config_fail(err, errlen, "state-dir: bad path");
		return 0;
	case K_RESOLV_SOURCE:
		if (copy_path(c->resolv_source, sizeof(c->resolv_source), v) < 0)
			return config_fail(err, errlen, "resolv-source: bad path");
		return 0;
	case K_RESOLV_SOURCE_LINK:
		if (!v[0] || strlen(v) >= sizeof(c->resolv_source_link) || strpbrk(v, "/ \t"))
			return config_fail(err, errlen, "resolv-source-link: '%s' is not an interface name", v);
		snprintf(c->resolv_source_link, sizeof(c->resolv_source_link), "%s", v);
		return 0;
	case K_NETWORKD:
		if (!strcmp(v, "auto")) {
			c->networkd = DS_NETWORKD_AUTO;
		} else {
			bool b;

			if (parse_bool(v, &b) < 0)
				return config_fail(err, errlen, "networkd: '%s' is not yes, no or auto", v);
			c->networkd = b ? DS_NETWORKD_YES : DS_NETWORKD_NO;
		}
		return 0;
	case K_ANCHORS_DIR:
		if (copy_path(c->anchors_dir, sizeof(c->anchors_dir), v) < 0)
			return config_fail(err, errlen, "anchors-dir: bad path");
		return 0;
	case K_USER:
		if (copy_path(c->user, sizeof(c->user), v) < 0)
			return config_fail(err, errlen, "user: bad name");
		return 0;
	case K_RESOLVE1:
		if (parse_bool(v, &c->resolve1) < 0)
			return config_fail(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case K_RESOLVE1_GROUP:
		if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
			    strlen(v) ||
		    copy_path(c->resolve1_group, sizeof(c->resolve1_group), v) < 0)
			return config_fail(err, errlen, "resolve1-group: '%s' is not a group name", v);
		return 0;
	case K_DBUS_MAX_CALLS: {
		unsigned n;

		if (parse_uint(v, 4096, &n) < 0 || n == 0)
			return config_fail(err, errlen, "dbus-max-calls: '%s' is not a number in 1..4096", v);
		c->dbus_max_calls = n;
		return 0;
	}
	case K_LOG_LEVEL:
		lvl = ds_log_parse_level(v);
		if (lvl < 0)
			return config_fail(err, errlen, "log-level: '%s' is not err, warning, notice, info or debug", v);
		c->log_level = lvl;
		return 0;
	case K_TCP_CLIENTS:
		if (parse_uint(v, 65536, &c->max_tcp_clients) < 0 || c->max_tcp_clients == 0)
			return config_fail(err, errlen, "tcp-clients: '%s' is not a number in 1..65536", v);
		return 0;
	case K_TCP_PER_ADDRESS:
		if (parse_uint(v, 65536, &c->tcp_clients_per_address) < 0)
			return config_fail(err, errlen, "tcp-clients-per-address: '%s' is not a number in 0..65536", v);
		return 0;
	case K_TCP_CLIENT_OUTPUT:
		r = parse_size(v, 64u << 20, &c->tcp_client_output);
		if (r == -ERANGE)
			return too_big(err, errlen, k->name, v);
		if (r < 0 || c->tcp_client_output < (4u << 10))
			return config_fail(err, errlen, "tcp-client-output: '%s' is not a size in 4k..64m", v);
		return 0;
	case K_TCP_OUTPUT_TOTAL:
		r = parse_size(v, 4ull << 30, &c->tcp_output_total);
		if (r == -ERANGE)
			return too_big(err, errlen, k->name, v);
		if (r < 0 || c->tcp_output_total < (64u << 10))
			return config_fail(err, errlen, "tcp-output-total: '%s' is not a size in 64k..4g", v);
		return 0;
	case K_MAX_PENDING:
		if (parse_uint(v, 1u << 20, &c->max_client_pending) < 0 || c->max_client_pending == 0)
			return config_fail(err, errlen, "max-pending: '%s' is not a number in 1..1048576", v);
		return 0;
	case K_QUERY_TIMEOUT:
		if (parse_uint(v, 60000, &c->query_timeout_ms) < 0 || c->query_timeout_ms < 100)
			return config_fail(err, errlen, "query-timeout: '%s' is not milliseconds in 100..60000", v);
		return 0;
	case K_DISCOVERY_WAIT:
		if (parse_uint(v, 60000, &c->discovery_wait_ms) < 0)
			return config_fail(err, errlen, "discovery-wait: '%s' is not milliseconds in 0..60000", v);
		return 0;
	case K_HOLD_DOWN:
		if (parse_uint(v, 365u * 86400, &c->rfc5011_hold_down_s) < 0)
			return config_fail(err, errlen, "rfc5011-hold-down: '%s' is not seconds", v);
		return 0;
	case K_REFRESH:
		if (parse_uint(v, 30u * 86400, &c->refresh_interval_s) < 0)
			return config_fail(err, errlen, "refresh-interval: '%s' is not seconds", v);
		return 0;
	case K_SERVE_DOT:
		if (!HAVE_DOT_SERVER)
			return config_fail(err, errlen, "serve-dot: %s", NO_DOT_SERVER);
		return set_dot_key(&c->dot, k, v, err, errlen);
	case K_SERVE_DOT_CERT:
	case K_SERVE_DOT_KEY:
	case K_SERVE_DOT_NAME:
	case K_DOT_CLIENTS:
	case K_DOT_PER_ADDRESS:
	case K_DOT_CLIENT_OUTPUT:
	case K_DOT_OUTPUT_TOTAL:
	case K_DOT_CLIENT_INFLIGHT:
	case K_DOT_IDLE_TIMEOUT:
	case K_DOT_HANDSHAKE_TIMEOUT:
		return set_dot_key(&c->dot, k, v, err, errlen);
	case K_NETWORK_RESOLVER:
		if (c->nnetwork_resolver >= DS_MAX_NETWORK_RESOLVERS)
			return config_fail(err, errlen, "too many network-resolver addresses (at most %d)",
				    DS_MAX_NETWORK_RESOLVERS);
		if (ds_parse_sockaddr(v, 53, &ss) < 0)
			return config_fail(err, errlen, "network-resolver: '%s' is not ADDR[:PORT]", v);
		c->network_resolver[c->nnetwork_resolver++] = ss;
		return 0;
	case K_TOFU:
		if (!strcmp(v, "auto"))
			c->tofu = TRUST_TOFU_AUTO;
		else if (!strcmp(v, "ask"))
			c->tofu = TRUST_TOFU_ASK;
		else if (!strcmp(v, "off"))
			c->tofu = TRUST_TOFU_OFF;
		else
			return config_fail(err, errlen, "tofu: '%s' is not auto, ask or off", v);
		return 0;
	case K_UNKNOWN_NETWORK:
		if (!strcmp(v, "opportunistic"))
			c->unknown_network = TRUST_UNKNOWN_OPPORTUNISTIC;
		else if (!strcmp(v, "strict"))
			c->unknown_network = TRUST_UNKNOWN_STRICT;
		else
			return config_fail(err, errlen, "unknown-network: '%s' is not opportunistic or strict", v);
		return 0;
	}
	return config_fail(err, errlen, "internal: unhandled key");
}

int ds_config_set(struct ds_config *c, const char *key, const char *value, bool from_cmdline,
		  char *err, size_t errlen)
{
	const struct key_def *k = find_key(key);

	if (!k)
		return config_fail(err, errlen, "unknown key '%s'", key);
	if (from_cmdline && k->repeatable)
		reset_list_once(c, k->id);
	return set_key(c, k, value, err, errlen);
}

/* Split one line into key and value in place.  Returns 1 for a key/value,
 * 0 for a blank or comment line, -EINVAL for a syntax error. */
static int split_line(char *line, char **key, char **value, const char **why)
{
	char *p = line, *k, *v, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	k = p;
	while (*p && (isalnum((unsigned char)*p) || *p == '-'))
		p++;
	if (p == k) {
		*why = "expected a key";
		return -EINVAL;
	}
	e = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == ':' || *p == '=')
		p++;
	*e = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		v = ++p;
		while (*p && *p != '"')
			p++;
		if (*p != '"') {
			*why = "unterminated quote";
			return -EINVAL;
		}
		*p++ = '\0';
	} else {
		v = p;
		while (*p && *p != '#')
			p++;
		while (p > v && (p[-1] == ' ' || p[-1] == '\t'))
			p--;
		if (*p)
			*p++ = '\0';
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != '#') {
		*why = "trailing characters after the value";
		return -EINVAL;
	}
	if (*v == '\0') {
		*why = "missing value";
		return -EINVAL;
	}
	*key = k;
	*value = v;
	return 1;
}

int ds_config_parse(struct ds_config *c, const char *text, size_t len, const char *fname,
		    char *err, size_t errlen)
{
	char line[4096];
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		size_t n = 0;
		char *key, *value, sub[512];
		const char *why = NULL;
		int r;

		lineno++;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0')
				return config_fail(err, errlen, "%s:%u: NUL byte", fname, lineno);
			if (n + 1 >= sizeof(line))
				return config_fail(err, errlen, "%s:%u: line too long", fname, lineno);
			line[n++] = text[pos++];
		}
		pos++; /* the newline */
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		r = split_line(line, &key, &value, &why);
		if (r < 0)
			return config_fail(err, errlen, "%s:%u: %s", fname, lineno, why);
		if (r == 0)
			continue;
		if (ds_config_set(c, key, value, false, sub, sizeof(sub)) < 0)
			return config_fail(err, errlen, "%s:%u: %s", fname, lineno, sub);
	}
	return 0;
}

int ds_config_load(struct ds_config *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		return config_fail(err, errlen, "%s: not a regular file of at most %d bytes", path,
			    CONFIG_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = ds_config_parse(c, buf, got, path, err, errlen);
	free(buf);
	return r;
}

static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char x[64], y[64];

	ds_sockaddr_format(a, x, sizeof(x));
	ds_sockaddr_format(b, y, sizeof(y));
	return !strcmp(x, y);
}

/* resolv.conf in the directory of the control socket (by default the
 * run directory) */
static int resolv_conf_out_default(struct ds_config *c)
{
	const char *slash = strrchr(c->control_path, '/');
	int dl = slash ? (int)(slash - c->control_path) : 1;
	int n;

	n = snprintf(c->resolv_conf_out, sizeof(c->resolv_conf_out), "%.*s/resolv.conf", dl,
		     slash ? c->control_path : ".");
	return n < 0 || (size_t)n >= sizeof(c->resolv_conf_out) ? -ENAMETOOLONG : 0;
}

/* serve-dot: no address twice, none that a listener holds (its TCP
 * port); a certificate with its key; a name only for the generated one. */
static int dot_finish(const struct ds_config *c, char *err, size_t errlen)
{
	const struct ds_serve_dot_config *s = &c->dot;
	char a[64];

	for (int i = 0; i < s->naddr; i++) {
		ds_sockaddr_format(&s->addr[i], a, sizeof(a));
		for (int j = 0; j < i; j++)
			if (same_sockaddr(&s->addr[i], &s->addr[j]))
				return config_fail(err, errlen, "serve-dot %s is given twice", a);
		for (int j = 0; j < c->nlisten; j++)
			if (same_sockaddr(&s->addr[i], &c->listen[j]))
				return config_fail(err, errlen, "serve-dot %s is a listen address too", a);
	}
	if (!s->cert[0] != !s->key[0])
		return config_fail(err, errlen, "serve-dot-cert and serve-dot-key go together");
	if (s->cert[0] && s->name[0])
		return config_fail(err, errlen,
			    "serve-dot-name names the generated certificate; serve-dot-cert "
			    "brings its own name");
	if (c->publish && s->naddr == 0)
		return config_fail(err, errlen,
			    "publish yes needs serve-dot: the publication names the DoT server "
			    "and its TLSA");
	return 0;
}

int ds_config_finish(struct ds_config *c, char *err, size_t errlen)
{
	char a[64];

	if (c->nlisten == 0) {
		ds_parse_sockaddr("127.0.0.53", 53, &c->listen[0]);
		c->nlisten = 1;
	}
	for (int i = 0; i < c->nlisten; i++)
		for (int j = 0; j < i; j++)
			if (same_sockaddr(&c->listen[i], &c->listen[j])) {
				ds_sockaddr_format(&c->listen[i], a, sizeof(a));
				return config_fail(err, errlen, "listen %s is given twice", a);
			}
	if (dot_finish(c, err, errlen) < 0)
		return -EINVAL;
	if (!c->resolv_conf_out[0] && resolv_conf_out_default(c) < 0)
		return config_fail(err, errlen, "resolv-conf-out: the control socket's directory is too long");
	if (c->upstream.ntlsa > 0 && c->upstream.naddr == 0)
		return config_fail(err, errlen, "tlsa is given but no upstream");
	if (c->upstream.naddr > 0) {
		if (c->upstream.ntlsa == 0)
			return config_fail(err, errlen,
				    "upstream %s has no tlsa: dotstub authenticates upstreams "
				    "with DANE only",
				    c->upstream.name);
		if (ds_upstream_desc_usable_tlsa(&c->upstream) == 0)
			return config_fail(err, errlen,
				    "upstream %s: no usable tlsa record (usage must be 2 or 3, "
				    "selector 0 or 1, matching type 0, 1 or 2)",
				    c->upstream.name);
	}
	return 0;
}

void ds_config_usage(FILE *f)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, "  --%-26s %s%s%s\n", keys[i].name, keys[i].help,
			keys[i].repeatable ? " (repeatable)" : "",
			!HAVE_DOT_SERVER && (keys[i].id == K_SERVE_DOT || keys[i].id == K_PUBLISH)
				? " (not in this build: dot-server=false)" : "");
}
