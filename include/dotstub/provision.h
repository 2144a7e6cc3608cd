/*
 * provision.h -- `dotctl provision`: the publishing side of
 * resolver-name.arpa (PROTOCOL.md, "Publishing side").
 *
 * For one resolver it generates a unique name N, the DNSSEC keys of the
 * zones resolver-name.arpa and N, a TLS certificate for N and its TLSA, the
 * two zones (unsigned, and signed with libldns), the trust anchor, and an
 * Unbound configuration that serves both zones and DNS-over-TLS.
 * `dotctl provision resign DIR` signs the saved zones again.
 *
 * Owner: ctl (provisioning).  Only ctl/dotctl.c calls ctl_provision_main();
 * everything below the "internals" line is shared by ctl/provision*.c and
 * nobody else.  Functions that return int return 0 or a negative errno and
 * print one line to stderr saying what went wrong ("(printed)"), unless the
 * comment says otherwise.
 */
#ifndef DOTSTUB_PROVISION_H
#define DOTSTUB_PROVISION_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "dotstub/publish.h"

/*
 * Run `dotctl provision ...` or `dotctl provision resign ...`.  argv[0] is
 * "provision".  Returns the process exit status: 0 on success, 1 on failure,
 * 2 on a usage error (all printed).
 */
int ctl_provision_main(int argc, char **argv);

/* ---- internals of ctl/provision*.c --------------------------------------- */

struct ldns_struct_key;
struct ldns_struct_rr;
struct ldns_struct_rr_list;
struct ldns_struct_zone;
struct evp_pkey_st;
struct x509_st;

#define CTL_PROV_ARPA "resolver-name.arpa"
/* A host name in presentation form, without the final dot, plus NUL. */
#define CTL_PROV_NAME_SIZE 254
#define CTL_PROV_MAX_ADDRS 16
#define CTL_PROV_MAX_UPSTREAMS 16
/* Certificates accepted in a --ca CERT file (the CA and its issuers). */
#define CTL_PROV_MAX_CHAIN 8
/* Files and directories one provisioning run writes, at most. */
#define CTL_PROV_MAX_FILES 40

/* One address of the resolver, as given with --addr / --addr6. */
struct ctl_prov_addr {
	int family;		/* AF_INET or AF_INET6 */
	char text[46];		/* normalised by inet_ntop() */
};

/* A network allowed to query, as given with --allow (host bits cleared). */
struct ctl_prov_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned int prefix;	/* prefix length */
	char text[64];		/* "ADDR/PREFIX", normalised */
};

/* A server to forward to, as given with --forward-to ADDR[@PORT]. */
struct ctl_prov_fwd {
	struct ctl_prov_addr addr;
	unsigned int port;	/* 53 unless given */
};

#define CTL_PROV_MAX_NETS 16
/* The control socket's path, DIR/unbound.ctl, must fit in sun_path. */
#define CTL_PROV_CONTROL "unbound.ctl"
#define CTL_PROV_SUN_PATH 108

/* Everything the command line says (provision.c fills it in). */
struct ctl_prov_conf {
	char name[CTL_PROV_NAME_SIZE];	/* N: lower case, no final dot */
	char out[PATH_MAX];		/* absolute output directory */
	struct ctl_prov_addr addr[CTL_PROV_MAX_ADDRS];
	size_t naddr;
	int alg;			/* DNSSEC algorithm: 13 or 15 */
	uint32_t ttl;			/* TTL of every record */
	uint32_t inception;		/* RRSIG inception, unix time */
	uint32_t expiration;		/* RRSIG expiration, unix time */
	const char *ca_cert;		/* --ca CERT, or NULL */
	const char *ca_key;		/* --ca ... KEY, or NULL */
	const char *arpa_key;		/* --arpa-key FILE, or NULL */
	bool forwarder;			/* publish server-type "forwarder" */
	bool type_mismatch;		/* test: server-type and -function differ */
	bool force;			/* overwrite an existing output dir */
	const char *upstream[CTL_PROV_MAX_UPSTREAMS];	/* --upstream DIRs */
	size_t nupstream;
	/* who may query: --allow, or the /24 or /64 around each address */
	struct ctl_prov_net allow[CTL_PROV_MAX_NETS];
	size_t nallow;
	struct ctl_prov_fwd forward[CTL_PROV_MAX_ADDRS];	/* --forward-to */
	size_t nforward;
};

/* What a forwarder knows of one of its upstreams (--upstream DIR). */
struct ctl_prov_upstream {
	char name[CTL_PROV_NAME_SIZE];		/* its N */
	struct ctl_prov_addr addr[CTL_PROV_MAX_ADDRS];	/* its A/AAAA */
	size_t naddr;
	struct x509_st *anchor;	/* the certificate its TLSA pins */
};

struct ctl_prov_upstreams {
	struct ctl_prov_upstream up[CTL_PROV_MAX_UPSTREAMS];
	size_t n;
};

/* Print "dotctl provision: " and the message to stderr. */
void ctl_prov_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Check a host name (LDH labels, at least two, 253 octets at most, one
 * optional final dot) and write it lower-cased and without the final dot to
 * out.  Returns -EINVAL (not printed) if it is not one.
 */
int ctl_prov_name_parse(const char *in, char *out, size_t size);

/*
 * Read the one-line file path (at most size - 1 octets, a final newline
 * stripped, no NUL, CR or other newline inside) into buf.
 */
int ctl_prov_read_line(const char *path, char *buf, size_t size);

/* ---- output directory (provision_file.c) ---- */

/*
 * Where files are written.  A provisioning run writes into a fresh staging
 * directory beside the final one and installs it at the end (rename), so a
 * failure leaves nothing half-written; `resign` writes into the final
 * directory directly.  Every file is written as NAME.tmp, fsync()ed and
 * renamed over NAME.
 */
struct ctl_prov_dir {
	char root[PATH_MAX];		/* the directory written into */
	bool staged;			/* root is a staging directory */
	char *files[CTL_PROV_MAX_FILES];	/* paths written, relative */
	size_t nfiles;
	char *dirs[CTL_PROV_MAX_FILES];		/* subdirectories made */
	mode_t dir_mode[CTL_PROV_MAX_FILES];
	size_t ndirs;
};

/* Writes one file's content to fp; returns 0 or a negative errno. */
typedef int ctl_prov_writer(FILE *fp, const void *arg);

/* Make a staging directory beside the absolute path final. */
int ctl_prov_dir_stage(struct ctl_prov_dir *d, const char *final);

/* Write into the existing directory root (no staging). */
int ctl_prov_dir_open(struct ctl_prov_dir *d, const char *root);

/* Make the subdirectory rel (one level) of the directory with mode. */
int ctl_prov_mkdir(struct ctl_prov_dir *d, const char *rel, mode_t mode);

/* Write the file rel with mode through fn(fp, arg), atomically. */
int ctl_prov_write(struct ctl_prov_dir *d, const char *rel, mode_t mode,
    ctl_prov_writer *fn, const void *arg);

/*
 * Move the staged files to final.  If final does not exist the staging
 * directory is renamed to it; if it exists (only with force) each file
 * written replaces its namesake and other files are left alone.
 */
int ctl_prov_dir_install(struct ctl_prov_dir *d, const char *final,
    bool force);

/* Remove a staging directory and what was written in it; free d. */
void ctl_prov_dir_close(struct ctl_prov_dir *d);

/* ---- DNSSEC keys (provision_keys.c; the keys themselves, their roles and
 * records: dotstub/publish.h) ---- */

/*
 * Generate the keys of resolver N with algorithm alg.  If arpa_ksk is not
 * NULL it becomes the resolver-name.arpa KSK (ownership passes to keys, even
 * on error) and the resolver-name.arpa ZSK gets its algorithm.  Free keys
 * with ds_pub_keys_free(), also on error.
 */
int ctl_prov_keys_generate(struct ds_pub_keys *keys, const char *name,
    int alg, struct ldns_struct_key *arpa_ksk);

/*
 * Load a private key file (ldns/BIND "Private-key-format") as the key of
 * role for resolver N.
 */
int ctl_prov_key_load(struct ldns_struct_key **ret, const char *path,
    enum ds_pub_key_role role, const char *name);

/*
 * Load the four keys of resolver N from dir/keys/ and check each against
 * its public .key file.  Free keys with ds_pub_keys_free(), also on error.
 */
int ctl_prov_keys_load(struct ds_pub_keys *keys, const char *dir,
    const char *name);

/*
 * Write keys/{arpa,zone}-{ksk,zsk}.{private,key} (private 0600, in a 0700
 * directory) and trust-anchor.key.
 */
int ctl_prov_keys_write(const struct ds_pub_keys *keys,
    struct ctl_prov_dir *d, uint32_t ttl);

/* ---- TLS key, certificate and TLSA (provision_cert.c) ---- */

struct ctl_prov_tls {
	struct evp_pkey_st *key;		/* the server's P-256 key */
	struct x509_st *cert;			/* the server's certificate */
	struct x509_st *ca[CTL_PROV_MAX_CHAIN];	/* --ca: issuer first */
	size_t nca;
	char tlsa[80];		/* "3 1 1 <hex>" or "2 0 1 <hex>" */
};

/*
 * Make a key and a certificate for N valid for a year, self-signed (TLSA
 * 3 1 1 of its SPKI), or issued by the CA in ca_cert/ca_key (TLSA 2 0 1 of
 * the last certificate in ca_cert, which holds the CA first and then any
 * issuers above it).  Free tls with ctl_prov_tls_free(), also on error.
 */
int ctl_prov_tls_make(struct ctl_prov_tls *tls, const char *name,
    const char *ca_cert, const char *ca_key);

/* Write tls/server.key (0600) and tls/server.pem (certificate + chain). */
int ctl_prov_tls_write(const struct ctl_prov_tls *tls,
    struct ctl_prov_dir *d);

/* Free what tls holds; tls may be partly filled (or zeroed). */
void ctl_prov_tls_free(struct ctl_prov_tls *tls);

/*
 * The certificate the TLSA of the resolver provisioned in dir pins: the
 * last one in dir/tls/server.pem (its own, self-signed, for 3 1 1; the
 * last CA certificate for 2 0 1).  *ret is the caller's (X509_free).
 */
int ctl_prov_tls_anchor_load(struct x509_st **ret, const char *dir);

/*
 * Write tls/upstreams.pem: the anchor certificate of each upstream, which
 * a forwarder's Unbound authenticates its upstreams by (tls-cert-bundle).
 */
int ctl_prov_tls_anchors_write(struct ctl_prov_dir *d,
    const struct ctl_prov_upstreams *ups);

/* ---- zones (provision_zones.c, provision_sign.c) ---- */

/* The zone file names, relative to the output directory. */
#define CTL_PROV_ZONE_FMT "zones/%s.zone"
#define CTL_PROV_SIGNED_FMT "zones/%s.zone.signed"

/*
 * Write the unsigned zones resolver-name.arpa and N: zone_ksk is N's KSK
 * (its DNSKEY becomes the KEY record), tlsa the TLSA rdata, children the
 * forwarder's records about its upstreams (may be empty).
 */
int ctl_prov_zones_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ldns_struct_key *zone_ksk,
    const char *tlsa, const struct ldns_struct_rr_list *children);

/*
 * Read the zone file path (at most 1 MiB, 10000 records, no $INCLUDE) of
 * the zone origin (presentation form, final dot): its first record must be
 * the SOA of origin.  *ret is the caller's.
 */
int ctl_prov_zone_read(struct ldns_struct_zone **ret, const char *path,
    const char *origin);

/*
 * Sign the unsigned zone origin in d with ksk (DNSKEY RRset) and zsk (the
 * rest), NSEC for denial, SOA serial raised to the current time or, if
 * that is not above the serial of the zone signed last (or of the unsigned
 * zone), by one; writes the signed zone beside it.  The unsigned zone must hold no DNSSEC records.
 */
int ctl_prov_zone_sign(struct ctl_prov_dir *d, const char *origin,
    struct ldns_struct_key *ksk, struct ldns_struct_key *zsk);

/* ---- forwarders (provision_upstream.c) ---- */

/*
 * Read the resolver provisioned earlier in dir and append to children the
 * records a forwarder N publishes about it (PROTOCOL.md "Forwarders"):
 * upstreams.N PTR, and KEY, A, AAAA, server-type, server-function, TLSA and
 * transport under <up>.N.  Fill in up: its name, addresses and the
 * certificate its TLSA pins (free with ctl_prov_upstreams_free()).
 */
int ctl_prov_upstream_load(struct ldns_struct_rr_list *children,
    const char *dir, const char *name, uint32_t ttl,
    struct ctl_prov_upstream *up);

/* Free the certificates ups holds. */
void ctl_prov_upstreams_free(struct ctl_prov_upstreams *ups);

/* ---- Unbound and BIND configuration, README (provision_unbound.c,
 * provision_bind.c) ---- */

/*
 * Write unbound.conf: both zones as auth-zones, plain DNS and DoT, access
 * control, recursion or forwarding (a forwarder: over DoT to ups, with
 * tls/upstreams.pem), local control through DIR/unbound.ctl.
 */
int ctl_prov_unbound_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ctl_prov_upstreams *ups);

/* Write named.conf: the same for BIND 9.18 (not forwarding over DoT). */
int ctl_prov_bind_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const struct ctl_prov_upstreams *ups);

/* Write README: what the files are and how to operate them. */
int ctl_prov_readme_write(struct ctl_prov_dir *d,
    const struct ctl_prov_conf *conf, const char *tlsa);

#endif
