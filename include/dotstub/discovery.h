/*
 * discovery.h -- the resolver-name.arpa discovery walk (PROTOCOL.md, "What
 * the client does", steps 1-5, and "Forwarders").
 *
 * Every query goes, in plain DNS with the DO bit, to the network's resolver
 * through libunbound (forward mode, no root anchor, island anchors only);
 * libunbound does every DNSSEC validation, dotstub only reads its verdict
 * (secure / bogus / why_bogus).  One validation context per island:
 * resolver-name.arpa under its KSK, then N under the key published as
 * KEY N.resolver-name.arpa.  One question goes around libunbound: when it
 * gets no answer to the first DNSKEY fetch, the resolver is asked once
 * directly, only for its rcode (a REFUSED means "not published for this
 * client", silence "unreachable"; libunbound reports both as SERVFAIL).
 *
 * The walk is blocking and meant for a worker thread: it keeps no global
 * state, honours a deadline and a cancel flag (polled every few tens of
 * milliseconds), and calls back nothing but the optional on_step hook, from
 * the calling thread.  It pins nothing and never consults the trust store:
 * the caller passes the anchors it already knows and decides what to pin
 * from the observed KSK set in the result.
 *
 * Ownership: disc_walk allocates the result; disc_result_free frees it and
 * everything in it (the upstream descriptions own their TLSA data).
 * Logging: nothing above LOG_DEBUG (as in trust.h): every failure is a
 * negative errno return or is in the result (kind, reason, the steps), and
 * the daemon or dotctl decides what to log.  Every byte from the network is
 * untrusted: record counts, lengths and names are checked, and every string
 * put in a result is printable ASCII (anything else is escaped as \DDD).
 */
#ifndef DOTSTUB_DISCOVERY_H
#define DOTSTUB_DISCOVERY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dotstub/trust.h" /* struct trust_dnskey: every key the walk handles;
				    enum trust_discovery: its verdict */
#include "dotstub/upstream_desc.h"

#define DISC_ZONE "resolver-name.arpa."
#define DISC_MAX_RESOLVERS 4   /* resolver addresses handed to libunbound */
#define DISC_MAX_ANCHORS 8     /* known anchors a caller may pass */
#define DISC_MAX_KSK 4         /* SEP keys of resolver-name.arpa considered */
#define DISC_MAX_ZONE_KEYS 4   /* KEY records of N.resolver-name.arpa used */
#define DISC_MAX_UPSTREAMS 8   /* a forwarder's upstreams reported */
#define DISC_MAX_STEPS 128     /* steps recorded; later ones only counted */
#define DISC_STEP_NAME_MAX 160 /* presentation owner name in a step */
#define DISC_DETAIL_MAX 320
#define DISC_REASON_MAX 512
#define DISC_ADDR_STR_MAX 64   /* "ADDR" or "ADDR@PORT" */

/* Keys.  A DNSKEY (or a KEY with the DNSKEY layout) is the trust part's
 * value, struct trust_dnskey (dotstub/trust.h): decoded from rdata with
 * trust_dnskey_from_rdata, compared with trust_dnskey_equal, its tag and
 * digest from trust_dnskey_tag and trust_dnskey_sha256, its flags tested
 * with TRUST_DNSKEY_*. */

/* Parse a key in text form: "FLAGS PROTO ALG BASE64..." optionally preceded
 * by "[OWNER] [TTL] [IN] DNSKEY" (a zone-file line, as written by dig or
 * ldns-keygen).  If an owner is given it must be resolver-name.arpa.
 * Returns 0, or -EINVAL (syntax, wrong owner) / -E2BIG; ret written only on
 * success. */
int disc_key_parse(const char *text, struct trust_dnskey *ret);
/* Format "OWNER IN DNSKEY FLAGS PROTO ALG BASE64" (the form ub_ctx_add_ta
 * takes; owner in presentation form).  Returns 0 or -ENOSPC. */
int disc_key_format(const struct trust_dnskey *k, const char *owner, char *out,
		    size_t outlen);

/* Unique names (PROTOCOL.md, "What the resolver publishes").  The form of
 * N carries no security (everything under it validates from the pinned
 * key): any host name is accepted except the special-use names
 * resolver-name.arpa, resolver.arpa, localhost and invalid with every name
 * under them, arpa itself, a name whose last label is all digits, and a
 * name too long for N.resolver-name.arpa. to fit in 255 octets.  The
 * recommended form is 12 base32hex characters then ".zz". */
enum disc_name {
	DISC_NAME_OK = 0,
	DISC_NAME_NOT_HOST,   /* not letters, digits, hyphens in labels of 1-63 */
	DISC_NAME_SPECIAL,    /* a special-use name, or under one */
	DISC_NAME_NUMERIC,    /* the last label is all digits */
	DISC_NAME_TOO_LONG,   /* longer than DISC_NAME_WIRE_MAX octets */
};
/* the longest N in wire form: N.resolver-name.arpa. is 19 octets more */
#define DISC_NAME_WIRE_MAX 236
/* Check name (uncompressed wire form, len octets, untrusted) as a unique
 * name.  On DISC_NAME_OK its lower-case presentation form with the
 * trailing dot is in out (outlen DISC_NAME_WIRE_MAX is always enough). */
enum disc_name disc_name_check(const uint8_t *name, size_t len, char *out, size_t outlen);
/* What is wrong with a name, as a phrase: "not a host name (...)". */
const char *disc_name_problem(enum disc_name c);
/* Is name (presentation form, final dot optional) in the recommended form? */
bool disc_name_recommended(const char *name);
#define DISC_NAME_RECOMMENDED "12 base32hex characters (0-9, a-v) then .zz"

/* What a step observed. */
enum disc_status {
	DISC_ST_SECURE = 0,   /* data, validated */
	DISC_ST_NODATA,       /* validated denial (NODATA or NXDOMAIN) */
	DISC_ST_UNVALIDATED,  /* step 1 only: fetched without validation */
	DISC_ST_INSECURE,     /* answer not covered by the island anchor */
	DISC_ST_BOGUS,        /* validation failed (detail: why_bogus) */
	DISC_ST_ERROR,        /* no usable answer, or data breaking PROTOCOL.md */
};

/* One query of the walk and what came of it. */
struct disc_step {
	int phase;                        /* PROTOCOL.md step 1..5, 6: forwarder data */
	char name[DISC_STEP_NAME_MAX];    /* owner, presentation form (may end in "...") */
	uint16_t type;                    /* RR type asked */
	enum disc_status status;
	char detail[DISC_DETAIL_MAX];     /* short: the data, why_bogus, or what was wrong */
};

/* One upstream listed by a forwarder (PTR upstreams.N), read under N. */
struct disc_upstream {
	/* U's name (SNI), addresses (port dot_port), TLSA, server type, and
	 * transport: TXT transport.U.N, how the forwarder reaches U
	 * (DS_TRANSPORT_UNKNOWN when not published); owns its TLSA data */
	struct ds_upstream_desc desc;
	bool has_key;                 /* KEY U.N was published */
	struct trust_dnskey key;      /* U's trust anchor, if has_key */
};

/* The SEP keys (KSKs) of resolver-name.arpa as observed. */
struct disc_ksk {
	struct trust_dnskey key;
	bool revoked;    /* REVOKE flag set (RFC 5011): never an anchor; validates
			    then says the revocation is self-signed */
	bool validates;  /* the DNSKEY RRset validated with this key as anchor */
	int known;       /* index in disc_params.anchors, -1 if not a known anchor */
};

/* The walk's result.  Filled as far as the walk got; the description is
 * complete only when kind is TRUST_DISC_OK. */
struct disc_result {
	/* How the walk ended: the trust part's value (dotstub/trust.h, where
	 * each verdict is described), one of TRUST_DISC_OK ..
	 * TRUST_DISC_FAILED; its name is trust_discovery_name's.  Not 0 on
	 * success: TRUST_DISC_NONE is the zero value. */
	enum trust_discovery kind;
	int failed_phase;               /* 1..6, 0 when kind is TRUST_DISC_OK */
	char reason[DISC_REASON_MAX];   /* "" on TRUST_DISC_OK; human-readable */
	char resolver[DISC_ADDR_STR_MAX]; /* the (first) resolver walked */

	struct disc_step steps[DISC_MAX_STEPS];
	int nsteps;
	int steps_dropped;              /* recorded beyond DISC_MAX_STEPS */

	/* Step 1: the SEP keys seen in the DNSKEY RRset (first DISC_MAX_KSK;
	 * nksk_seen counts them all) and the anchor that validated it. */
	struct disc_ksk ksk[DISC_MAX_KSK];
	int nksk;
	int nksk_seen;
	int ksk_used;                   /* index in ksk[], -1 until validated */
	int anchor_matched;             /* index in disc_params.anchors, -1 */
	bool first_use;                 /* no known anchor given: TOFU */
	bool confirmed;                 /* first use: the UDP, TCP and delayed
					   observations agreed */
	uint32_t dnskey_ttl;            /* TTL of the DNSKEY RRset as fetched (for
					   RFC 5011 timing) */

	/* Step 3: N's anchor(s), KEY N.resolver-name.arpa */
	struct trust_dnskey zone_key[DISC_MAX_ZONE_KEYS];
	int nzone_key;

	/* Steps 2-5: the resolver itself (name N, addresses, TLSA, type) */
	struct ds_upstream_desc desc;
	/* Its addresses include none of the resolver addresses walked: a
	 * transparent forwarder answered with its upstream's publication
	 * (the walk only reports it; whether to use that resolver is the
	 * caller's policy) */
	bool transparent;
	/* The resolver answered a name that cannot exist (a random name under
	 * invalid., RFC 6761) with an address: "it answers names that cannot
	 * exist (NAME A ADDR)", else "".  Asked only when the walk did not
	 * succeed but got answers: what a captive portal's resolver does. */
	char hijack[DISC_REASON_MAX];

	/* Forwarders: the upstreams listed (first DISC_MAX_UPSTREAMS) */
	struct disc_upstream upstreams[DISC_MAX_UPSTREAMS];
	int nupstreams;
	int nupstreams_seen;
};

/* Called from disc_walk's thread each time a step is recorded (the step
 * is valid only during the call).  Must not call into the walk. */
typedef void (*disc_step_cb)(void *arg, const struct disc_step *step);

struct disc_params {
	/* the network's resolver: "ADDR" or "ADDR@PORT" (IPv4 or IPv6,
	 * numeric); the strings are only borrowed for the call */
	const char *resolvers[DISC_MAX_RESOLVERS];
	int nresolvers;
	/* known anchors for resolver-name.arpa (pinned or managed); none: first
	 * use.  Borrowed for the call. */
	const struct trust_dnskey *anchors;
	int nanchors;
	unsigned timeout_ms;        /* whole walk; default 15000 */
	unsigned confirm_delay_ms;  /* first use: pause before the repeated
				       DNSKEY observation; default 1000 */
	uint16_t dot_port;          /* port put in the descriptions; default 853 */
	/* set by another thread to stop the walk (may be NULL) */
	const atomic_bool *cancel;
	disc_step_cb on_step;       /* may be NULL */
	void *on_step_arg;
};

/* Defaults, no resolver, no anchor. */
void disc_params_init(struct disc_params *p);

/* Walk resolver-name.arpa at p->resolvers.  On return 0, *ret is a new
 * result (free with disc_result_free) whatever the verdict: see its kind,
 * reason and steps.  Returns -EINVAL (no or malformed resolver address,
 * too many anchors), -ENOMEM, -ECANCELED (p->cancel was set; no result);
 * *ret is written only on success. */
int disc_walk(const struct disc_params *p, struct disc_result **ret);

void disc_result_free(struct disc_result *r);

/* "secure", "nodata", "unvalidated", "insecure", "bogus", "error" */
const char *disc_status_str(enum disc_status s);
/* "A", "DNSKEY", ... or "TYPE%u" into buf (at least 16 octets) */
const char *disc_type_str(uint16_t type, char *buf, size_t len);

/* Print one step as a line of text ("step 1  resolver-name.arpa. DNSKEY
 * secure  ...") to f. */
void disc_step_print(const struct disc_step *s, FILE *f);
/* Print the whole result to f: as text (steps, verdict, description, KSK
 * tag/algorithm/SHA-256) or as one JSON object.  Returns 0, -EIO, or
 * -ENOMEM (a key's digest could not be computed: the output lacks it). */
int disc_result_print(const struct disc_result *r, FILE *f, bool json, bool with_steps);

#endif
