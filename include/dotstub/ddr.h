/*
 * ddr.h -- what a network says about its encrypted resolvers: the SVCB
 * record of Discovery of Designated Resolvers (RFC 9462, "_dns.resolver.arpa
 * SVCB", RDATA of RFC 9460) and the Encrypted DNS options of Discovery of
 * Network-designated Resolvers (RFC 9463: DHCPv6 option 144, DHCPv4 option
 * 162, IPv6 Router Advertisement option 144).  PROTOCOL.md, "DDR and DNR:
 * what is parsed", is the summary.
 *
 * Parsers, and one query: ddr_query asks a resolver for its own
 * designations (RFC 9462 4).  Nothing here resolves a name, verifies a
 * certificate or decides what to use.  Every octet handed in is untrusted:
 * no function reads outside the buffer it is given, whatever its content;
 * a malformed input is rejected with a reason, never a crash.  Nothing here
 * allocates or logs; the results are plain structures owned by the caller,
 * and every string in them is printable ASCII.
 *
 * Nothing but ddr_query and ddr_resolve_adn does I/O.
 *
 * Names are kept in uncompressed wire form (dotstub/wire.h); a compressed
 * TargetName or ADN is malformed (RFC 9460 2.2, RFC 8415 10).
 */
#ifndef DOTSTUB_DDR_H
#define DOTSTUB_DDR_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "dotstub/upstream_desc.h"
#include "dotstub/wire.h"

/* SvcParamKeys (RFC 9460 14.3.2, RFC 9461 5) */
enum ddr_svc_key {
	DDR_KEY_MANDATORY = 0,
	DDR_KEY_ALPN = 1,
	DDR_KEY_NO_DEFAULT_ALPN = 2,
	DDR_KEY_PORT = 3,
	DDR_KEY_IPV4HINT = 4,
	DDR_KEY_ECH = 5,
	DDR_KEY_IPV6HINT = 6,
	DDR_KEY_DOHPATH = 7,
	DDR_KEY_INVALID = 65535, /* reserved: never valid on the wire */
};

/* Recognised ALPN ids (RFC 7858/8310 "dot", RFC 9250 "doq", RFC 8484 over
 * HTTP/2 and HTTP/3). */
#define DDR_ALPN_DOT 0x01u
#define DDR_ALPN_DOQ 0x02u
#define DDR_ALPN_H2 0x04u
#define DDR_ALPN_H3 0x08u
#define DDR_ALPN_OTHER 0x10u /* at least one id not recognised */

#define DDR_PORT_DOT 853 /* RFC 7858; also DoQ's, RFC 9250 */

#define DDR_REASON_MAX 160
#define DDR_MAX_HINTS 8        /* addresses kept per hint key */
#define DDR_ALPN_RAW_MAX 255   /* octets of the alpn list kept, whole ids */
#define DDR_MAX_MANDATORY 8    /* keys a valid mandatory list can hold */
#define DDR_MAX_UNKNOWN 8      /* unknown keys kept */
#define DDR_UNKNOWN_VALUE_MAX 64
#define DDR_DOHPATH_MAX 255

struct ddr_unknown_param {
	uint16_t key;
	uint16_t len;                        /* the value's length on the wire */
	uint8_t value[DDR_UNKNOWN_VALUE_MAX]; /* its first octets */
};

/* SvcParams as parsed.  present has bit k set for every known key k
 * (0..7) present; the rest of the keys are in unknown[]. */
struct ddr_svc_params {
	uint32_t present;
	uint16_t mandatory[DDR_MAX_MANDATORY];
	unsigned n_mandatory;
	/* alpn: flags of the recognised ids, and the list as on the wire
	 * (length-prefixed ids), cut at an id boundary if longer than
	 * DDR_ALPN_RAW_MAX (alpn_cut) */
	unsigned alpn;
	unsigned n_alpn;                     /* ids in the record */
	uint8_t alpn_raw[DDR_ALPN_RAW_MAX];
	size_t alpn_raw_len;
	bool alpn_cut;
	bool no_default_alpn;
	/* port: the port param if present (port_explicit), else DDR_PORT_DOT */
	uint16_t port;
	bool port_explicit;
	struct in_addr ipv4hint[DDR_MAX_HINTS];
	unsigned n_ipv4hint;                 /* kept; total_ipv4hint in the record */
	unsigned total_ipv4hint;
	struct in6_addr ipv6hint[DDR_MAX_HINTS];
	unsigned n_ipv6hint;
	unsigned total_ipv6hint;
	uint16_t ech_len;                    /* ech: ignored, only its length */
	uint16_t dohpath_len;                /* dohpath: ignored, kept for display */
	char dohpath[DDR_DOHPATH_MAX + 1];   /* its first octets, non-printable as '?' */
	struct ddr_unknown_param unknown[DDR_MAX_UNKNOWN];
	unsigned n_unknown;                  /* kept; total_unknown in the record */
	unsigned total_unknown;
};

/* The key's presentation name ("alpn", "key667"), in buf if it has none
 * of its own.  Returns a string that lives as long as buf. */
const char *ddr_svc_key_name(uint16_t key, char buf[16]);

/* Is the known key k (0..7) among the parsed parameters? */
bool ddr_svc_has(const struct ddr_svc_params *p, enum ddr_svc_key k);

/* Parse SvcParams (RFC 9460 2.2): keys in strictly increasing order, no
 * duplicate, each value checked by its key's rules, mandatory honoured
 * (every key it lists present and understood, itself not listed), and
 * no-default-alpn only with alpn.  Returns 0, or -EBADMSG with reason
 * (at most reasonlen octets, NUL-terminated) saying why. */
int ddr_svc_params_parse(const uint8_t *p, size_t len, struct ddr_svc_params *out,
			 char *reason, size_t reasonlen);

/* The parameters in presentation form, space-separated, in wire order
 * ("alpn=\"dot,doq\" port=853 ipv4hint=192.0.2.53"), like dig; ech and
 * unknown values longer than DDR_UNKNOWN_VALUE_MAX are shown by their
 * length ("ech=(71 octets)").  "" if there is none.  0 or -ENOSPC. */
int ddr_svc_params_format(const struct ddr_svc_params *p, char *out, size_t outlen);

/* ---- SVCB / HTTPS RDATA (RFC 9460 2.2) ---- */
struct ddr_svcb {
	uint16_t priority;       /* 0: AliasMode */
	uint8_t target[DNS_NAME_MAX];
	size_t target_len;
	bool params_ignored;     /* AliasMode with SvcParams: ignored (RFC 9460 2.4.2) */
	struct ddr_svc_params params;
	char reason[DDR_REASON_MAX]; /* why it was rejected; "" when accepted */
};

/* Parse one SVCB or HTTPS RDATA.  0, or -EBADMSG with out->reason set. */
int ddr_svcb_parse(const uint8_t *rdata, size_t len, struct ddr_svcb *out);

/* "1 dot.example.net. alpn=\"dot\" port=853": the RDATA as dig shows it.
 * 0 or -ENOSPC. */
int ddr_svcb_format(const struct ddr_svcb *s, char *out, size_t outlen);

/* Does the record designate a DoT resolver: ServiceMode, and "dot" among
 * its alpn ids? */
bool ddr_svcb_qualifies_dot(const struct ddr_svcb *s);

/* ---- DDR: the resolver's own designations (RFC 9462 4) ---- */
#define DDR_QUERY_NAME "_dns.resolver.arpa"
#define DDR_TYPE_SVCB 64
#define DDR_QUERY_MAX_RECORDS 8       /* valid records kept */
#define DDR_QUERY_TIMEOUT_MS 3000     /* UDP and a TCP retry together */

enum ddr_query_result {
	DDR_QUERY_OK,          /* at least one valid record, none malformed */
	DDR_QUERY_NONE,        /* an answer without SVCB records (or an error rcode) */
	DDR_QUERY_UNREACHABLE, /* no answer to the query */
	DDR_QUERY_MALFORMED,   /* the answer or one of its records is malformed */
};

struct ddr_query {
	enum ddr_query_result result;
	char reason[DDR_REASON_MAX]; /* why not ok; "" when ok */
	bool tcp;                    /* the answer came over TCP (after TC=1) */
	unsigned rcode;
	unsigned total;              /* SVCB records for the name in the answer */
	unsigned n;                  /* valid ones kept in rec[] */
	struct ddr_svcb rec[DDR_QUERY_MAX_RECORDS];
};

/* "ok", "none", "unreachable", "malformed" */
const char *ddr_query_result_name(enum ddr_query_result r);

/* Read the answer msg[0..len) to "_dns.resolver.arpa SVCB" (its header and
 * question already matched to the query): every SVCB record of that owner
 * in the answer section is parsed, the valid ones kept in order; other
 * records are skipped.  The first malformed record (or the section's
 * framing, every record length checked) gives the reason ("record 2:
 * ipv4hint length 5 is not a multiple of 4").  Sets out->result; returns
 * 0 (ok or none) or -EBADMSG (malformed). */
int ddr_query_answer(const uint8_t *msg, size_t len, struct ddr_query *out);

/* Ask the resolver at server (address and port) for _dns.resolver.arpa
 * SVCB over plain DNS, RD set (RFC 9462 4), over UDP and again over TCP on
 * TC=1, within timeout_ms; nothing in the answer is authenticated.  Fills
 * out (result and reason always set).  Returns 0, -EBADMSG (malformed),
 * -ETIMEDOUT or another -errno (unreachable). */
int ddr_query(const struct sockaddr_storage *server, unsigned timeout_ms,
	      struct ddr_query *out);

/* ---- DNR: Encrypted DNS options (RFC 9463) ---- */
#define DDR_DHCP6_OPTION_DNR 144
#define DDR_DHCP4_OPTION_DNR 162
#define DDR_RA_OPTION_DNR 144
#define DDR_DNR_MAX_INSTANCES 8
#define DDR_DNR_MAX_ADDRS 8
#define DDR_DNR_LIFETIME_INFINITE 0xffffffffu

enum ddr_dnr_source {
	DDR_DNR_DHCP6,
	DDR_DNR_DHCP4,
	DDR_DNR_RA,
};

struct ddr_dnr_instance {
	unsigned index;          /* 1-based place in the option */
	uint16_t priority;
	bool has_lifetime;       /* from an RA */
	uint32_t lifetime;       /* RA only, seconds; DDR_DNR_LIFETIME_INFINITE for DHCP */
	uint8_t adn[DNS_NAME_MAX];
	size_t adn_len;
	bool adn_only;           /* no addresses and no SvcParams (RFC 9463 3.1.6) */
	int family;              /* AF_INET (DHCPv4) or AF_INET6 */
	struct in_addr addr4[DDR_DNR_MAX_ADDRS];
	struct in6_addr addr6[DDR_DNR_MAX_ADDRS];
	unsigned naddr;          /* usable addresses kept */
	unsigned ndiscarded;     /* unusable ones dropped (see note) */
	char note[DDR_REASON_MAX]; /* the first address dropped and why, or "" */
	struct ddr_svc_params params;
};

struct ddr_dnr_bad {
	unsigned index;          /* 1-based place of the instance in the option */
	char reason[DDR_REASON_MAX];
};

struct ddr_dnr {
	enum ddr_dnr_source source;
	unsigned total;          /* instances seen in the option */
	struct ddr_dnr_instance inst[DDR_DNR_MAX_INSTANCES];
	unsigned n;              /* valid instances kept */
	struct ddr_dnr_bad bad[DDR_DNR_MAX_INSTANCES];
	unsigned nbad;           /* rejected instances recorded */
};

/* Each parser fills out and returns how many valid instances it kept
 * (out->n, possibly 0); the rejected ones are in out->bad[] with the reason
 * ("instance 2: Addr Length 6 is not a multiple of 4").  A malformed
 * instance never hides a valid one before or after it, as long as the
 * framing (the instance lengths) holds.
 *
 * ddr_dnr_parse_dhcp6: the option-data of one OPTION_V6_DNR (after the
 *   option code and length), one instance.
 * ddr_dnr_parse_dhcp4: the data of OPTION_V4_DNR (after code and length;
 *   several options 162 in one message concatenated first, RFC 3396), any
 *   number of instances each with its own length.
 * ddr_dnr_parse_ra: one whole RA option including its Type and Length
 *   octets (Length in units of 8 octets, padding at the end). */
int ddr_dnr_parse_dhcp6(const uint8_t *data, size_t len, struct ddr_dnr *out);
int ddr_dnr_parse_dhcp4(const uint8_t *data, size_t len, struct ddr_dnr *out);
int ddr_dnr_parse_ra(const uint8_t *opt, size_t len, struct ddr_dnr *out);

/* "1 resolver.example.net. 192.0.2.53,192.0.2.54 alpn=\"dot\" port=8853"
 * (the addresses "-" in ADN-only mode; " lifetime 1800" appended for an RA
 * instance).  0 or -ENOSPC. */
int ddr_dnr_format(const struct ddr_dnr_instance *in, char *out, size_t outlen);

/* ---- Designated resolvers: what DoT to try (RFC 9462 4.2 and 4.3,
 * RFC 9463 3.2), from a DDR answer or DNR instances.  Pure: no I/O. ---- */

#define DDR_MAX_DESIGNATIONS 8

enum ddr_origin {
	DDR_ORIGIN_DDR,   /* _dns.resolver.arpa SVCB from the network's resolver */
	DDR_ORIGIN_DNR,   /* a DHCP or RA option (RFC 9463) */
};

struct ddr_designation {
	enum ddr_origin origin;
	uint16_t priority;               /* lower first, as in the record */
	char adn[DNS_NAME_MAX + 1];      /* the Authentication Domain Name, no trailing dot */
	struct sockaddr_storage addr[DS_MAX_UPSTREAM_ADDRS]; /* with the port */
	int naddr;
	/* no address came with it (no hints, ADN-only DNR): the ADN must be
	 * resolved first, through the network's resolver */
	bool needs_resolution;
	/* RFC 9462 4.3: the unencrypted resolver's address is private or
	 * local (no certificate can carry it) and the designation lists that
	 * same address: encrypted, unauthenticated DoT to it is allowed where
	 * the policy accepts opportunistic service */
	bool opportunistic_ok;
};

/* Is the address private or local (RFC 1918, 100.64.0.0/10, 169.254/16,
 * 127/8, fc00::/7, fe80::/10, ::1; IPv4-mapped ones too): one no public
 * certificate can carry (RFC 9462 4.3)? */
bool ddr_addr_is_private(const struct sockaddr_storage *ss);

/* The DoT designations of a DDR answer q, asked of the unencrypted
 * resolver at resolver: ServiceMode records with "dot" in alpn, sorted by
 * priority, each with its hints (port from the record, else 853).  A
 * record whose TargetName is "." (the owner, resolver.arpa: no name to
 * verify) is skipped.  Returns how many were written to out (at most cap),
 * 0 if none qualifies (reason says why). */
int ddr_designate_query(const struct ddr_query *q, const struct sockaddr_storage *resolver,
			struct ddr_designation *out, int cap, char *reason, size_t reasonlen);

/* The DoT designations of DNR instances (RFC 9463): "dot" in alpn, a
 * lifetime not 0, sorted by priority; ADN-only ones need resolution.
 * Returns how many were written (at most cap). */
int ddr_designate_dnr(const struct ddr_dnr *dnr, struct ddr_designation *out, int cap,
		      char *reason, size_t reasonlen);

/* The DoT client's description for designation g: its ADN (the SNI) and
 * addresses; verified (PKIX: the ADN and, for DDR, the unencrypted
 * resolver's address in the certificate, RFC 9462 4.2), or, if
 * opportunistic and g->opportunistic_ok, encrypted and unauthenticated
 * to the resolver's own address only.  out must be zeroed or clear.
 * Returns 0, -ENOENT (no address yet: needs_resolution), -EPERM
 * (opportunistic not allowed for g) or -EINVAL. */
int ddr_designation_desc(const struct ddr_designation *g, const struct sockaddr_storage *resolver,
			 bool opportunistic, struct ds_upstream_desc *out);

/* ---- DNR in ADN-only mode (RFC 9463 3.1.6) ---- */
#define DDR_ADN_TIMEOUT_MS 3000  /* the SVCB query and the address queries together */

/* Resolve the ADN of an ADN-only DNR instance through the resolver at
 * server, over plain DNS (RFC 9462 5, 6.5): "_dns.ADN SVCB", then of its
 * first DoT record by priority (ServiceMode, "dot" in alpn) the hints, or
 * else the A and AAAA records of its TargetName, each with the record's
 * port.  Only records owned by the very name asked count; at most
 * DDR_MAX_HINTS addresses of each family; addresses no resolver can have
 * are discarded as in the option.  Nothing is authenticated: g is a DNR
 * designation (origin DNR, priority, adn as given) to verify by its ADN,
 * whatever the record's TargetName (RFC 9462 5).  said gets what was found
 * ("_dns.ADN. SVCB 1 ADN. alpn=\"dot\": 192.0.2.53:853") or why nothing
 * was.  Returns 0, -ENOENT (no usable record or address), -ETIMEDOUT,
 * -ECANCELED, -EINVAL or another -errno. */
int ddr_resolve_adn(const struct sockaddr_storage *server, const char *adn, uint16_t priority,
		    unsigned timeout_ms, const atomic_bool *cancel, struct ddr_designation *g,
		    char *said, size_t saidlen);

#endif
