/*
 * provision.c -- `dotctl provision`: the command line, and the order in
 * which a resolver's names, keys, certificate, zones and configuration are
 * made (PROTOCOL.md, "Publishing side").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/cert.h"
#include "dotstub/discovery.h"
#include "dotstub/provision.h"
#include "dotstub/wire.h"

#define DAY 86400u
#define DEFAULT_TTL 900u
#define DEFAULT_VALIDITY_DAYS 30u
#define MAX_TTL (7u * DAY)
#define MAX_VALIDITY_DAYS 3650u
/* Signatures start this long before now, for clients' clock skew. */
#define INCEPTION_SLACK 3600u

enum {
	EXIT_USAGE = 2,
	OPT_ADDR = 256, OPT_ADDR6, OPT_OUT, OPT_FORCE, OPT_ALG, OPT_TTL,
	OPT_VALIDITY, OPT_INCEPTION, OPT_EXPIRED, OPT_NAME, OPT_CA,
	OPT_ARPA_KEY, OPT_FORWARDER, OPT_UPSTREAM, OPT_MISMATCH, OPT_ALLOW,
	OPT_FORWARD_TO, OPT_HELP,
};

static const struct option provision_options[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "addr6", required_argument, NULL, OPT_ADDR6 },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "alg", required_argument, NULL, OPT_ALG },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "sig-validity", required_argument, NULL, OPT_VALIDITY },
	{ "sig-inception", required_argument, NULL, OPT_INCEPTION },
	{ "sig-expired", no_argument, NULL, OPT_EXPIRED },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "arpa-key", required_argument, NULL, OPT_ARPA_KEY },
	{ "forwarder", no_argument, NULL, OPT_FORWARDER },
	{ "upstream", required_argument, NULL, OPT_UPSTREAM },
	{ "server-type-mismatch", no_argument, NULL, OPT_MISMATCH },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "forward-to", required_argument, NULL, OPT_FORWARD_TO },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* How the signatures' validity period is chosen. */
struct sig_opts {
	uint32_t days;
	bool expired;		/* test: expired 7 days ago */
	bool have_inception;
	uint32_t inception;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dotctl provision --addr ADDR [--addr ADDR ...] "
	    "[--addr6 ADDR6 ...]\n"
	    "           [--out DIR] [--force] [--alg p256|ed25519] "
	    "[--ttl SECONDS]\n"
	    "           [--sig-validity DAYS] [--sig-inception UNIX_TIME | "
	    "--sig-expired]\n"
	    "           [--name NAME] [--ca CERT KEY] [--arpa-key FILE]\n"
	    "           [--allow NET ...] [--forward-to ADDR[@PORT] ...]\n"
	    "           [--forwarder --upstream DIR [--upstream DIR ...]]\n"
	    "           [--server-type-mismatch]\n"
	    "       dotctl provision resign [--sig-validity DAYS]\n"
	    "           [--sig-inception UNIX_TIME | --sig-expired] DIR\n");
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

static int
add_addr(struct ctl_prov_conf *c, const char *s, bool v6_only)
{
	unsigned char buf[16];
	struct ctl_prov_addr *a;
	size_t i;
	int af;

	if (c->naddr == CTL_PROV_MAX_ADDRS) {
		ctl_prov_err("more than %d addresses", CTL_PROV_MAX_ADDRS);
		return -E2BIG;
	}
	a = &c->addr[c->naddr];
	af = AF_INET6;
	if (!v6_only && inet_pton(AF_INET, s, buf) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, s, buf) != 1) {
		ctl_prov_err("%s: not an IPv%s address", s, v6_only ? "6" :
		    "4 or IPv6");
		return -EINVAL;
	}
	a->family = af;
	if (inet_ntop(af, buf, a->text, sizeof(a->text)) == NULL)
		return -EINVAL;
	for (i = 0; i < c->naddr; i++) {
		if (strcmp(c->addr[i].text, a->text) == 0) {
			ctl_prov_err("%s: address given twice", s);
			return -EINVAL;
		}
	}
	c->naddr++;
	return 0;
}

/* Add the network a/prefix (host bits cleared) to the allowed ones. */
static int
add_net(struct ctl_prov_conf *c, int af, const unsigned char *a,
    unsigned int prefix)
{
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN], full[sizeof(c->allow[0].text)];
	struct ctl_prov_net *n;
	size_t len = af == AF_INET ? 4 : 16, i;

	memcpy(net, a, len);
	for (i = 0; i < len; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		net[i] &= prefix <= 8 * i ? 0 :
		    (unsigned char)(0xff << (8 - (prefix - 8 * i)));
	}
	if (inet_ntop(af, net, text, sizeof(text)) == NULL)
		return -EINVAL;
	snprintf(full, sizeof(full), "%s/%u", text, prefix);
	for (i = 0; i < c->nallow; i++)
		if (strcmp(c->allow[i].text, full) == 0)
			return 0;
	if (c->nallow == CTL_PROV_MAX_NETS) {
		ctl_prov_err("more than %d networks to allow",
		    CTL_PROV_MAX_NETS);
		return -E2BIG;
	}
	n = &c->allow[c->nallow++];
	n->family = af;
	n->prefix = prefix;
	strcpy(n->text, full);
	return 0;
}

/* --allow ADDR[/PREFIX]: a network whose clients may query. */
static int
add_allow(struct ctl_prov_conf *c, const char *s)
{
	unsigned char a[16];
	char buf[64], *slash;
	uint32_t prefix, max;
	int af = AF_INET;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	max = 32;
	if (inet_pton(AF_INET, buf, a) != 1) {
		af = AF_INET6;
		max = 128;
		if (inet_pton(AF_INET6, buf, a) != 1)
			goto bad;
	}
	prefix = max;
	if (slash != NULL && parse_u32(slash, 0, max, &prefix) < 0)
		goto bad;
	return add_net(c, af, a, prefix);
bad:
	ctl_prov_err("--allow %s: not an address or ADDR/PREFIX", s);
	return -EINVAL;
}

/* The default networks allowed: the /24 or /64 around each address. */
static int
default_allow(struct ctl_prov_conf *c)
{
	unsigned char a[16];
	size_t i;
	int r;

	for (i = 0; i < c->naddr; i++) {
		if (inet_pton(c->addr[i].family, c->addr[i].text, a) != 1)
			return -EINVAL;
		if ((r = add_net(c, c->addr[i].family, a,
		    c->addr[i].family == AF_INET ? 24 : 64)) < 0)
			return r;
	}
	return 0;
}

/* --forward-to ADDR[@PORT] */
static int
add_forward(struct ctl_prov_conf *c, const char *s)
{
	struct ctl_prov_fwd *f;
	unsigned char a[16];
	char buf[64], *at;
	uint32_t port = 53;
	int af = AF_INET;

	if (c->nforward == CTL_PROV_MAX_ADDRS) {
		ctl_prov_err("more than %d --forward-to", CTL_PROV_MAX_ADDRS);
		return -E2BIG;
	}
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	if ((at = strchr(buf, '@')) != NULL) {
		*at++ = '\0';
		if (parse_u32(at, 1, 65535, &port) < 0)
			goto bad;
	}
	if (inet_pton(AF_INET, buf, a) != 1) {
		af = AF_INET6;
		if (inet_pton(AF_INET6, buf, a) != 1)
			goto bad;
	}
	f = &c->forward[c->nforward++];
	f->addr.family = af;
	f->port = port;
	if (inet_ntop(af, a, f->addr.text, sizeof(f->addr.text)) == NULL)
		goto bad;
	return 0;
bad:
	ctl_prov_err("--forward-to %s: not ADDR or ADDR@PORT", s);
	return -EINVAL;
}

/* Characters a path in unbound.conf cannot carry in quotes. */
static bool
path_printable(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' ||
		    *p == '\\')
			return false;
	return true;
}

/* The absolute form of the output directory path, which need not exist. */
static int
absolute_out(const char *path, char *out, size_t size)
{
	char copy[PATH_MAX], parent[PATH_MAX], base[PATH_MAX], *rp;
	size_t len = strlen(path);
	int n;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0 || len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, path, len);
	copy[len] = '\0';
	strcpy(base, basename(copy));
	memcpy(copy, path, len);
	copy[len] = '\0';
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0)
		return -EINVAL;
	if ((rp = realpath(dirname(copy), parent)) == NULL)
		return -errno;
	n = snprintf(out, size, "%s/%s", strcmp(rp, "/") ? rp : "", base);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int
set_out(struct ctl_prov_conf *c, const char *path)
{
	int r;

	if ((r = absolute_out(path, c->out, sizeof(c->out))) < 0) {
		ctl_prov_err("%s: not a usable output directory: %s", path,
		    strerror(-r));
		return r;
	}
	if (!path_printable(c->out)) {
		ctl_prov_err("%s: a quote, backslash or control character "
		    "cannot go in unbound.conf", c->out);
		return -EINVAL;
	}
	if (strlen(c->out) + 1 + strlen(CTL_PROV_CONTROL) >=
	    CTL_PROV_SUN_PATH) {
		ctl_prov_err("%s: too long for the control socket %s in it "
		    "(at most %zu characters)", c->out, CTL_PROV_CONTROL,
		    (size_t)CTL_PROV_SUN_PATH - 2 - strlen(CTL_PROV_CONTROL));
		return -ENAMETOOLONG;
	}
	return 0;
}

/* N: any name discovery accepts as a unique name (dotstub/discovery.h),
 * into out (lower case, no final dot). */
static enum disc_name
unique_name(const char *s, char *out, size_t size)
{
	uint8_t wire[DNS_NAME_MAX];
	char n[DNS_NAME_MAX + 1];
	enum disc_name check;
	int len;

	len = dns_name_from_str(s, wire);
	if (len <= 0)
		return DISC_NAME_NOT_HOST;
	check = disc_name_check(wire, (size_t)len, n, sizeof(n));
	if (check != DISC_NAME_OK)
		return check;
	n[strlen(n) - 1] = '\0';
	if (strlen(n) >= size)
		return DISC_NAME_TOO_LONG;
	strcpy(out, n);
	return DISC_NAME_OK;
}

static int
set_name(struct ctl_prov_conf *c, const char *s)
{
	enum disc_name check = unique_name(s, c->name, sizeof(c->name));

	if (check != DISC_NAME_OK) {
		ctl_prov_err("--name %s: %s", s, disc_name_problem(check));
		return -EINVAL;
	}
	return 0;
}

static int
set_alg(struct ctl_prov_conf *c, const char *s)
{
	if (strcmp(s, "p256") == 0 || strcmp(s, "13") == 0)
		c->alg = LDNS_SIGN_ECDSAP256SHA256;
	else if (strcmp(s, "ed25519") == 0 || strcmp(s, "15") == 0)
		c->alg = LDNS_SIGN_ED25519;
	else {
		ctl_prov_err("--alg %s: use p256 or ed25519", s);
		return -EINVAL;
	}
	return 0;
}

/* The options both `provision` and `provision resign` take. */
static int
sig_option(struct sig_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_VALIDITY:
		if (parse_u32(arg, 1, MAX_VALIDITY_DAYS, &o->days) == 0)
			return 0;
		ctl_prov_err("--sig-validity %s: days, 1 to %u", arg,
		    MAX_VALIDITY_DAYS);
		return -EINVAL;
	case OPT_INCEPTION:
		o->have_inception = true;
		if (parse_u32(arg, 1, UINT32_MAX - MAX_VALIDITY_DAYS * DAY,
		    &o->inception) == 0)
			return 0;
		ctl_prov_err("--sig-inception %s: not a unix time", arg);
		return -EINVAL;
	case OPT_EXPIRED:
		o->expired = true;
		return 0;
	}
	return -ENOENT;
}

static int
sig_times(const struct sig_opts *o, uint32_t *inception,
    uint32_t *expiration)
{
	uint32_t now = (uint32_t)time(NULL), span = o->days * DAY;

	if (o->expired && o->have_inception) {
		ctl_prov_err("--sig-inception and --sig-expired exclude each "
		    "other");
		return -EINVAL;
	}
	if (o->expired) {
		/* well past the largest clock skew validators allow (Unbound:
		 * val-sig-skew-max, one day) */
		*expiration = now - 7 * DAY;
		*inception = *expiration - span;
	} else if (o->have_inception) {
		*inception = o->inception;
		*expiration = o->inception + span;
	} else {
		*inception = now - INCEPTION_SLACK;
		*expiration = now + span;
	}
	return 0;
}

/* --ca CERT KEY: the KEY is the next word. */
static int
set_ca(struct ctl_prov_conf *c, int argc, char **argv)
{
	c->ca_cert = optarg;
	if (optind >= argc || argv[optind][0] == '-' ||
	    argv[optind][0] == '\0') {
		ctl_prov_err("--ca needs two arguments: CERT KEY");
		return -EINVAL;
	}
	c->ca_key = argv[optind++];
	return 0;
}

static int
provision_option(struct ctl_prov_conf *c, struct sig_opts *sig, int opt,
    int argc, char **argv)
{
	uint32_t v;

	switch (opt) {
	case OPT_ADDR:
		return add_addr(c, optarg, false);
	case OPT_ADDR6:
		return add_addr(c, optarg, true);
	case OPT_OUT:
		return set_out(c, optarg);
	case OPT_FORCE:
		c->force = true;
		return 0;
	case OPT_ALG:
		return set_alg(c, optarg);
	case OPT_TTL:
		if (parse_u32(optarg, 1, MAX_TTL, &v) < 0) {
			ctl_prov_err("--ttl %s: seconds, 1 to %u", optarg,
			    MAX_TTL);
			return -EINVAL;
		}
		c->ttl = v;
		return 0;
	case OPT_NAME:
		return set_name(c, optarg);
	case OPT_CA:
		return set_ca(c, argc, argv);
	case OPT_ARPA_KEY:
		c->arpa_key = optarg;
		return 0;
	case OPT_FORWARDER:
		c->forwarder = true;
		return 0;
	case OPT_UPSTREAM:
		if (c->nupstream == CTL_PROV_MAX_UPSTREAMS) {
			ctl_prov_err("more than %d upstreams",
			    CTL_PROV_MAX_UPSTREAMS);
			return -E2BIG;
		}
		c->upstream[c->nupstream++] = optarg;
		return 0;
	case OPT_MISMATCH:
		c->type_mismatch = true;
		return 0;
	case OPT_ALLOW:
		return add_allow(c, optarg);
	case OPT_FORWARD_TO:
		return add_forward(c, optarg);
	}
	return sig_option(sig, opt, optarg);
}

/* What the options say together. */
static int
provision_check(struct ctl_prov_conf *c)
{
	if (c->naddr == 0) {
		ctl_prov_err("at least one --addr is needed");
		return -EINVAL;
	}
	if (c->forwarder != (c->nupstream > 0)) {
		ctl_prov_err("--forwarder and --upstream DIR go together");
		return -EINVAL;
	}
	if (c->forwarder && c->nforward > 0) {
		ctl_prov_err("--forward-to: a forwarder forwards to its "
		    "--upstream resolvers, over DNS-over-TLS");
		return -EINVAL;
	}
	if (c->nallow == 0 && default_allow(c) < 0)
		return -EINVAL;
	if (c->name[0] == '\0' && ds_cert_random_name(c->name, sizeof(c->name)) < 0) {
		ctl_prov_err("no random numbers");
		return -EIO;
	}
	if (c->out[0] == '\0')
		return set_out(c, c->name);
	return 0;
}

/* Returns 1 for --help. */
static int
parse_provision(struct ctl_prov_conf *c, struct sig_opts *sig, int argc,
    char **argv)
{
	int opt;

	optind = 0;	/* glibc: start afresh */
	while ((opt = getopt_long(argc, argv, "+h", provision_options,
	    NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP)
			return 1;
		if (opt == '?' || opt == ':')
			return -EINVAL;
		if (provision_option(c, sig, opt, argc, argv) < 0)
			return -EINVAL;
	}
	if (optind != argc) {
		ctl_prov_err("unexpected argument: %s", argv[optind]);
		return -EINVAL;
	}
	return provision_check(c);
}

static int
write_name(FILE *fp, const void *arg)
{
	fprintf(fp, "%s\n", (const char *)arg);
	return 0;
}

static int
write_all(struct ctl_prov_dir *d, const struct ctl_prov_conf *c,
    struct ds_pub_keys *keys, const struct ctl_prov_tls *tls,
    const ldns_rr_list *children, const struct ctl_prov_upstreams *ups)
{
	int r;

	if ((r = ctl_prov_write(d, "name", 0644, write_name, c->name)) < 0 ||
	    (r = ctl_prov_keys_write(keys, d, c->ttl)) < 0 ||
	    (r = ctl_prov_tls_write(tls, d)) < 0 ||
	    (r = ctl_prov_zones_write(d, c, keys->key[DS_PUB_ZONE_KSK],
	    tls->tlsa, children)) < 0 ||
	    (r = ctl_prov_zone_sign(d, CTL_PROV_ARPA,
	    keys->key[DS_PUB_ARPA_KSK], keys->key[DS_PUB_ARPA_ZSK])) < 0 ||
	    (r = ctl_prov_zone_sign(d, c->name,
	    keys->key[DS_PUB_ZONE_KSK], keys->key[DS_PUB_ZONE_ZSK])) < 0 ||
	    (r = ctl_prov_unbound_write(d, c, ups)) < 0 ||
	    (r = ctl_prov_bind_write(d, c, ups)) < 0)
		return r;
	return ctl_prov_readme_write(d, c, tls->tlsa);
}

static void
print_summary(const struct ctl_prov_conf *c, const struct ds_pub_keys *k,
    const struct ctl_prov_tls *tls)
{
	ldns_rr *rr;

	printf("name: %s\ndirectory: %s\ntlsa: %s\n", c->name, c->out,
	    tls->tlsa);
	if ((rr = ds_pub_key_dnskey(k->key[DS_PUB_ARPA_KSK], c->ttl))) {
		fputs("anchor: ", stdout);
		ldns_rr_print_fmt(stdout, ldns_output_format_nocomments, rr);
		ldns_rr_free(rr);
	}
}

/* Everything that reads input, before anything is written. */
static int
prepare(const struct ctl_prov_conf *c, ldns_rr_list *children,
    struct ctl_prov_upstreams *ups, struct ds_pub_keys *keys,
    struct ctl_prov_tls *tls)
{
	struct stat st;
	ldns_key *arpa_ksk = NULL;
	size_t i;
	int r;

	if (!c->force && lstat(c->out, &st) == 0) {
		ctl_prov_err("%s exists; use --force to overwrite it", c->out);
		return -EEXIST;
	}
	for (i = 0; i < c->nupstream; i++, ups->n++)
		if ((r = ctl_prov_upstream_load(children, c->upstream[i],
		    c->name, c->ttl, &ups->up[i])) < 0)
			return r;
	if (c->arpa_key != NULL && (r = ctl_prov_key_load(&arpa_ksk,
	    c->arpa_key, DS_PUB_ARPA_KSK, c->name)) < 0)
		return r;
	if ((r = ctl_prov_keys_generate(keys, c->name, c->alg, arpa_ksk)) < 0)
		return r;
	ds_pub_keys_set_validity(keys, c->inception, c->expiration);
	return ctl_prov_tls_make(tls, c->name, c->ca_cert, c->ca_key);
}

static int
provision(const struct ctl_prov_conf *c)
{
	struct ds_pub_keys keys = { { NULL } };
	struct ctl_prov_upstreams *ups;
	struct ctl_prov_tls tls;
	struct ctl_prov_dir d;
	ldns_rr_list *children;
	int r;

	memset(&tls, 0, sizeof(tls));
	memset(&d, 0, sizeof(d));
	if ((ups = calloc(1, sizeof(*ups))) == NULL)
		return -ENOMEM;
	if ((children = ldns_rr_list_new()) == NULL) {
		free(ups);
		return -ENOMEM;
	}
	if ((r = prepare(c, children, ups, &keys, &tls)) == 0 &&
	    (r = ctl_prov_dir_stage(&d, c->out)) == 0 &&
	    (r = write_all(&d, c, &keys, &tls, children, ups)) == 0 &&
	    (r = ctl_prov_dir_install(&d, c->out, c->force)) == 0)
		print_summary(c, &keys, &tls);
	ctl_prov_dir_close(&d);
	ctl_prov_tls_free(&tls);
	ds_pub_keys_free(&keys);
	ctl_prov_upstreams_free(ups);
	free(ups);
	ldns_rr_list_deep_free(children);
	return r;
}

static void
print_expiration(const char *name, uint32_t expiration)
{
	time_t t = (time_t)expiration;
	char when[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "%u", expiration);
	printf("signed %s. and %s. until %s\n", CTL_PROV_ARPA, name, when);
}

static int
resign(const char *dir, const struct sig_opts *sig)
{
	char name[CTL_PROV_NAME_SIZE], line[CTL_PROV_NAME_SIZE];
	char path[PATH_MAX];
	struct ds_pub_keys keys;
	struct ctl_prov_dir d;
	uint32_t inception, expiration;
	int r;

	if ((r = sig_times(sig, &inception, &expiration)) < 0 ||
	    (r = ctl_prov_dir_open(&d, dir)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/name", dir);
	if ((r = ctl_prov_read_line(path, line, sizeof(line))) < 0)
		return r;
	if (unique_name(line, name, sizeof(name)) != DISC_NAME_OK) {
		ctl_prov_err("%s: not a resolver name", path);
		return -EINVAL;
	}
	if ((r = ctl_prov_keys_load(&keys, dir, name)) == 0) {
		ds_pub_keys_set_validity(&keys, inception, expiration);
		if ((r = ctl_prov_zone_sign(&d, CTL_PROV_ARPA,
		    keys.key[DS_PUB_ARPA_KSK],
		    keys.key[DS_PUB_ARPA_ZSK])) == 0)
			r = ctl_prov_zone_sign(&d, name,
			    keys.key[DS_PUB_ZONE_KSK],
			    keys.key[DS_PUB_ZONE_ZSK]);
	}
	ds_pub_keys_free(&keys);
	ctl_prov_dir_close(&d);
	if (r == 0)
		print_expiration(name, expiration);
	return r;
}

static int
resign_main(int argc, char **argv)
{
	struct sig_opts sig = { DEFAULT_VALIDITY_DAYS, false, false, 0 };
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", provision_options,
	    NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			usage(stdout);
			return 0;
		}
		r = opt == '?' || opt == ':' ? -EINVAL :
		    sig_option(&sig, opt, optarg);
		if (r == -ENOENT)
			ctl_prov_err("resign takes only --sig-* options");
		if (r < 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return resign(argv[optind], &sig) < 0 ? 1 : 0;
}

int
ctl_provision_main(int argc, char **argv)
{
	struct sig_opts sig = { DEFAULT_VALIDITY_DAYS, false, false, 0 };
	struct ctl_prov_conf *c;
	int r;

	if (argc >= 2 && strcmp(argv[1], "resign") == 0)
		return resign_main(argc - 1, argv + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ctl_prov_err("out of memory");
		return 1;
	}
	c->alg = LDNS_SIGN_ECDSAP256SHA256;
	c->ttl = DEFAULT_TTL;
	if ((r = parse_provision(c, &sig, argc, argv)) != 0 ||
	    (r = sig_times(&sig, &c->inception, &c->expiration)) < 0) {
		if (r > 0)
			usage(stdout);
		else
			fprintf(stderr, "see dotctl provision --help\n");
		free(c);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	r = provision(c) < 0 ? 1 : 0;
	free(c);
	return r;
}
