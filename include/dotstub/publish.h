/*
 * publish.h -- the publishing side of resolver-name.arpa (PROTOCOL.md,
 * "What the resolver publishes", "Forwarders"), with libldns: the four
 * DNSSEC keys of a resolver, its two zones, signing them (NSEC), and
 * answering queries from the signed zones.
 *
 * Two users: `dotctl provision` (ctl/provision*.c) makes a resolver
 * operator's keys and zones with the key, zone and signing functions and
 * writes them to files; dotstubd's publisher (`publish yes`,
 * stub/daemon/publishd.c) keeps its keys in the state directory
 * (pub_state.c), builds its zones as a forwarder with its upstream's
 * records, signs them in memory and answers from them (pub_answer.c).
 *
 * Nothing here logs or prints: functions return 0 or a negative errno and,
 * where a reason helps, write one into why.  Only pub_state.c touches
 * files, and only when asked to make or load the keys (at start).
 */
#ifndef DOTSTUB_PUBLISH_H
#define DOTSTUB_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dotstub/message.h"

struct ldns_struct_key;
struct ldns_struct_rr;
struct ldns_struct_rr_list;
struct ldns_struct_zone;
struct ldns_struct_dnssec_zone;

#define DS_PUB_ARPA "resolver-name.arpa"
/* A host name in presentation form, without the final dot, plus NUL. */
#define DS_PUB_NAME_SIZE 254

/* ---- keys (pub_keys.c) ---- */

enum ds_pub_key_role {
	DS_PUB_ARPA_KSK,	/* resolver-name.arpa KSK: the trust anchor */
	DS_PUB_ARPA_ZSK,
	DS_PUB_ZONE_KSK,	/* N's KSK: published as KEY */
	DS_PUB_ZONE_ZSK,
	DS_PUB_NKEYS
};

/* The four keys of one resolver; owned, free with ds_pub_keys_free(). */
struct ds_pub_keys {
	struct ldns_struct_key *key[DS_PUB_NKEYS];
};

/* "arpa-ksk", "arpa-zsk", "zone-ksk", "zone-zsk": the key files' names. */
const char *ds_pub_key_file(enum ds_pub_key_role role);
/* Algorithms supported: 13 (ECDSA P-256) and 15 (Ed25519). */
bool ds_pub_alg_supported(int alg);
/* Set owner (resolver-name.arpa or name), flags (257 for a KSK, 256) and
 * key tag of k for role.  0 or -ENOMEM. */
int ds_pub_key_setup(struct ldns_struct_key *k, enum ds_pub_key_role role, const char *name);
/* A new key of algorithm alg set up for role of resolver name.  0,
 * -EINVAL (algorithm), -ENOMEM; *ret written only on success. */
int ds_pub_key_generate(struct ldns_struct_key **ret, int alg, enum ds_pub_key_role role,
			const char *name);
/* Read a private key file (ldns/BIND "Private-key-format") from fp and set
 * it up for role of name.  0, -EINVAL with why (not a key, algorithm),
 * -ENOMEM. */
int ds_pub_key_read(struct ldns_struct_key **ret, FILE *fp, enum ds_pub_key_role role,
		    const char *name, char *why, size_t whylen);
/* The private key file's text (malloc'ed, the caller frees), or NULL. */
char *ds_pub_key_text(const struct ldns_struct_key *k);
/* The DNSKEY record of key with ttl; NULL if out of memory. */
struct ldns_struct_rr *ds_pub_key_dnskey(const struct ldns_struct_key *key, uint32_t ttl);
/* A KEY record at owner (presentation form) with the rdata of dnskey
 * (PROTOCOL.md: KEY rdata equals the DNSKEY rdata); NULL if owner is bad
 * or out of memory. */
struct ldns_struct_rr *ds_pub_key_record(const struct ldns_struct_rr *dnskey, const char *owner);
/* Replace the owner of rr by owner (presentation form); -EINVAL if bad. */
int ds_pub_rr_set_owner(struct ldns_struct_rr *rr, const char *owner);
/* Set the RRSIG inception and expiration of every key. */
void ds_pub_keys_set_validity(struct ds_pub_keys *keys, uint32_t inception, uint32_t expiration);
/* Free the keys held, if any; keys may be partly filled. */
void ds_pub_keys_free(struct ds_pub_keys *keys);

/* ---- zones (pub_zone.c) ---- */

/* Parse one record in presentation form (printf-style) and add it to z
 * (an SOA becomes z's SOA).  0, -EINVAL (bad record), -ENAMETOOLONG,
 * -ENOMEM. */
int ds_pub_zone_add(struct ldns_struct_zone *z, uint32_t ttl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The zone resolver-name.arpa of resolver name: SOA (serial 1), NS name,
 * KEY name.resolver-name.arpa with zone_ksk's DNSKEY rdata. */
int ds_pub_zone_arpa(struct ldns_struct_zone **ret, const char *name,
		     const struct ldns_struct_key *zone_ksk, uint32_t ttl);

/* What the unique zone N holds. */
struct ds_pub_zone_spec {
	const char *name;		/* N, no final dot */
	uint32_t ttl;
	const char *const *addr;	/* numeric IPv4 or IPv6 addresses */
	size_t naddr;
	const char *type;		/* TXT server-type: "resolver", "forwarder" */
	const char *function;		/* TXT server-function (the same, normally) */
	const char *tlsa;		/* "3 1 1 <hex>": _853._tcp.N TLSA */
	const struct ldns_struct_rr_list *children; /* forwarder data, or NULL */
};
/* The unique zone: SOA (serial 1), NS, A/AAAA, server-type,
 * server-function, TLSA, and a copy of each child record. */
int ds_pub_zone_unique(struct ldns_struct_zone **ret, const struct ds_pub_zone_spec *s);

/* What a forwarder knows of one of its upstreams (PROTOCOL.md,
 * "Forwarders"), as discovered. */
#define DS_PUB_MAX_UP_ADDRS 16
#define DS_PUB_MAX_UP_TLSA 4
struct ds_pub_upstream {
	char name[DS_PUB_NAME_SIZE];	/* U, no final dot */
	char key[1024];			/* "FLAGS PROTO ALG BASE64" of U's KSK, or "" */
	char addr[DS_PUB_MAX_UP_ADDRS][46];
	size_t naddr;
	char tlsa[DS_PUB_MAX_UP_TLSA][4200];	/* "U S M HEX" */
	size_t ntlsa;
	const char *type;		/* "resolver", "forwarder", or NULL: unknown */
	const char *transport;		/* "dot" or "do53" */
};
/* Append to children what forwarder name publishes about u: upstreams.N
 * PTR U, and under U.N: KEY, A, AAAA, server-type, TLSA, transport.
 * 0, -EINVAL (a bad name or record), -ENOMEM. */
int ds_pub_upstream_records(struct ldns_struct_rr_list *children, const char *name, uint32_t ttl,
			    const struct ds_pub_upstream *u);

/* ---- signing (pub_sign.c) ---- */

/* A signed zone: the zone with its DNSKEYs, RRSIGs and NSEC chain, and
 * the records it is made of (owned). */
struct ds_pub_signed {
	struct ldns_struct_dnssec_zone *dz;
	struct ldns_struct_rr_list *own;	/* the records dz points to */
	struct ldns_struct_rr_list *added;	/* RRSIGs and NSECs made */
	struct ldns_struct_rr *soa;		/* in own */
};
/* Sign z (copied; it must hold no DNSSEC record) with ksk (the DNSKEY
 * RRset) and zsk (the rest), NSEC for denial, with the keys' inception and
 * expiration.  *ret is the caller's (ds_pub_signed_free).  0, -EINVAL
 * with why, -ENOMEM. */
int ds_pub_sign(const struct ldns_struct_zone *z, struct ldns_struct_key *ksk,
		struct ldns_struct_key *zsk, struct ds_pub_signed **ret, char *why, size_t whylen);
void ds_pub_signed_free(struct ds_pub_signed *s);

/* ---- the publisher (publish.c, pub_answer.c, pub_state.c) ---- */

/* Signatures are made valid from an hour ago for DS_PUB_SIG_DAYS days,
 * and made again once half of that is gone. */
#define DS_PUB_SIG_DAYS 14
#define DS_PUB_TTL 900

struct ds_publisher;

/* If dir holds none of the publisher's four key files (named
 * ds_pub_key_file() + ".private"), generate the keys (algorithm 13) and
 * write them there (mode 0600, crash-safely) with trust-anchor.key, the
 * resolver-name.arpa KSK as a DNSKEY record; created says whether they
 * were made now.  Some but not all key files is an error: the keys are an
 * identity that clients pin, never silently replaced.  (dotstubd's store
 * process, at start: privsep.h.)  0 or -errno with why. */
int ds_pub_state_make(const char *dir, bool *created, char *why, size_t whylen);
/* Load the four keys from dir for resolver name; reads only (dotstubd's
 * network process).  Missing or unreadable keys are an error.  0 or
 * -errno with why. */
int ds_pub_state_load(struct ds_pub_keys *keys, const char *dir, const char *name, char *why,
		      size_t whylen);

/* A publisher for resolver name (the DoT server's), taking keys (they
 * are moved out of *keys), publishing addr[0..naddr) and tlsa for N as a
 * forwarder.  Signs at once.  NULL with why. */
struct ds_publisher *ds_publisher_new(struct ds_pub_keys *keys, const char *name,
				      const char *const *addr, size_t naddr, const char *tlsa,
				      char *why, size_t whylen);
void ds_publisher_free(struct ds_publisher *p);
/* The upstreams (n 0: none known) it publishes from now on; signs again
 * if that changes what it publishes.  1 changed, 0 the same, -errno with
 * why (the old publication stays). */
int ds_publisher_set_upstreams(struct ds_publisher *p, const struct ds_pub_upstream *u, size_t n,
			       char *why, size_t whylen);
/* Sign again if the signatures have less than half their validity left
 * at now (or force).  1 signed, 0 not needed, -errno with why. */
int ds_publisher_resign(struct ds_publisher *p, time_t now, bool force, char *why, size_t whylen);
/* When the signatures expire (unix time). */
time_t ds_publisher_expiration(const struct ds_publisher *p);
/* The unique name N. */
const char *ds_publisher_name(const struct ds_publisher *p);
/* Is qname (wire form) in one of the published zones? */
bool ds_publisher_covers(const struct ds_publisher *p, const uint8_t *qname, size_t qlen);
/* Answer q authoritatively (AA) from the signed zones: the RRset, NODATA
 * or NXDOMAIN with the SOA, with RRSIGs and NSEC records when q has DO;
 * TC=1 and no records if it does not fit in max octets.  The number of
 * octets written to out (size DNS_MSG_MAX), or -errno. */
int ds_publisher_answer(const struct ds_publisher *p, const struct dns_query *q, size_t max,
			uint8_t *out, size_t outsize);
/* The trust anchor: "resolver-name.arpa. IN DNSKEY 257 3 13 ..." (with
 * its key tag in a comment line before it), into f. */
void ds_publisher_print_anchor(const struct ds_publisher *p, FILE *f);
/* The resolver-name.arpa KSK's key tag. */
uint16_t ds_publisher_anchor_tag(const struct ds_publisher *p);
/* The resolver-name.arpa KSK's DNSKEY record in presentation form, one
 * line without a newline, into out.  0 or -ENOSPC, -ENOMEM. */
int ds_publisher_anchor_text(const struct ds_publisher *p, char *out, size_t outlen);

#endif
