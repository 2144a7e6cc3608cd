/*
 * upstream_desc.h -- the description of an upstream resolver: its unique
 * name (the TLS SNI and the DANE reference name), its addresses, its TLSA
 * records and its server type.  What discovery, the trust store, the
 * configuration and the DoT and plain-DNS clients exchange; no I/O.
 *
 * Ownership: a ds_upstream_desc owns its TLSA data (ds_upstream_desc_clear
 * frees it).  Everything parsed here comes from a file, the command line or
 * a validated discovery: strictly checked, outputs written only on success.
 */
#ifndef DOTSTUB_UPSTREAM_DESC_H
#define DOTSTUB_UPSTREAM_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dotstub/message.h"

/* Addresses per resolver, in a description and in the anchor store
 * (dotstub/trust.h) alike: the store has always accepted 16, so existing
 * anchors files still parse, and what it learned fits a description. */
#define DS_MAX_UPSTREAM_ADDRS 16
/* TLSA records per resolver: a rollover publishes the old and the new
 * record for each of a few certificates.  The anchor store keeps the same
 * number (dotstub/trust.h), so what it has learned always fits here. */
#define DS_MAX_TLSA 16
/* Octets of TLSA association data.  A digest is 32 (SHA-256) or 64
 * (SHA-512); a full SubjectPublicKeyInfo (RSA-4096: about 550) or a whole
 * certificate (usually 1-2 KiB) fits.  Bounded by the anchor store's line
 * (TRUST_LINE_MAX 8192 holds "tlsa NAME U S M" and 2 * 2048 hex digits)
 * and the configuration file's line (4096 octets, about 2040 of data). */
#define DS_TLSA_DATA_MAX 2048
#define DS_DOT_PORT 853

/* A TLSA record (RFC 6698): the one type for configuration, discovery, the
 * anchor store and the DoT client. */
struct ds_tlsa {
	uint8_t usage, selector, mtype;
	uint16_t len;  /* 1..DS_TLSA_DATA_MAX */
	uint8_t *data; /* owned by the enclosing description or trust_resolver */
};

/* What a resolver says it is (PROTOCOL.md): one type for discovery, the
 * anchor store and the tools. */
enum ds_server_type {
	DS_SERVER_UNKNOWN = 0,
	DS_SERVER_RESOLVER,
	DS_SERVER_FORWARDER,
};
/* "unknown", "resolver", "forwarder" (also the anchor store's words) */
const char *ds_server_type_name(enum ds_server_type t);
/* The reverse, exactly those words.  Returns 0 and sets *ret, or -EINVAL. */
int ds_server_type_parse(const char *s, enum ds_server_type *ret);

/* How an upstream is reached: one type for the DoT client (which takes
 * only DOT) and for discovery, which reads a forwarder's upstreams' TXT
 * transport.U.N into it.  DO53 is plain, unauthenticated DNS (UDP, TCP on
 * truncation).  The zero value is DOT and stays so: every description that
 * is zeroed and filled in (configuration, anchor store, a walked resolver)
 * is one dotstub talks DoT to.  UNKNOWN is last for that reason; only the
 * walk sets it, explicitly, for an upstream whose forwarder publishes no
 * transport (a zeroed field would read as DOT). */
enum ds_transport {
	DS_TRANSPORT_DOT = 0,
	DS_TRANSPORT_DO53,
	DS_TRANSPORT_UNKNOWN, /* not published */
};
/* "dot", "do53", "unknown" (what dotctl discover prints) */
const char *ds_transport_name(enum ds_transport t);

/* How the DoT client authenticates the server's certificate.  The zero
 * value is DANE and stays so, like DS_TRANSPORT_DOT: every description made
 * from resolver-name.arpa, the anchor store or a static upstream is zeroed
 * and filled in.
 *  DANE: the TLSA records (usage 2 or 3), nothing else; no CA store.
 *  PKIX: a certificate valid for the name under the CA store (the system's,
 *        or the client's ca_file), and for pkix_ip too when it is set: RFC
 *        9462 4.2 verified discovery (an ADN and the unencrypted resolver's
 *        address) and RFC 9463 (the ADN).
 *  OPPORTUNISTIC: encrypted, not authenticated (RFC 9462 4.3); answers
 *        never count as authenticated (no AD passed on, no pin). */
enum ds_auth {
	DS_AUTH_DANE = 0,
	DS_AUTH_PKIX,
	DS_AUTH_OPPORTUNISTIC,
};
/* "dane", "pkix", "opportunistic" */
const char *ds_auth_name(enum ds_auth a);

struct ds_upstream_desc {
	enum ds_transport transport;
	enum ds_auth auth;
	/* PKIX only: an address the certificate must also carry (family 0:
	 * none), the resolver the designation was asked of (RFC 9462 4.2) */
	struct sockaddr_storage pkix_ip;
	/* the unique name, presentation form without the trailing dot:
	 * the TLS SNI and the DANE reference name (at most 253 characters;
	 * the buffer is sized by the wire form's DNS_NAME_MAX) */
	char name[DNS_NAME_MAX + 1];
	struct sockaddr_storage addr[DS_MAX_UPSTREAM_ADDRS]; /* port set */
	int naddr;
	struct ds_tlsa tlsa[DS_MAX_TLSA];
	int ntlsa;
	enum ds_server_type type;
	/* opaque identity of the network this description belongs to; part of
	 * the TLS session cache key together with the TLSA set and the name */
	char network[72];
};

/* Parse "U S M HEX" (HEX may contain spaces) into t; t->data is malloc'ed.
 * Returns 0 or -EINVAL / -ENOMEM. */
int ds_tlsa_parse(const char *text, struct ds_tlsa *t);
/* "3 1 1 0123abcd..." (full hex) into out; truncated with "..." if short */
void ds_tlsa_format(const struct ds_tlsa *t, char *out, size_t outlen);
/* Add "NAME@ADDR[:PORT]" (IPv6: NAME@[ADDR]:PORT or NAME@ADDR) to d: sets
 * d->name (it must equal an already set name) and appends the address.
 * Returns 0 or -EINVAL (bad syntax, name mismatch) / -E2BIG (too many). */
int ds_upstream_desc_add(struct ds_upstream_desc *d, const char *spec);
/* Append a TLSA record (copied). */
int ds_upstream_desc_add_tlsa(struct ds_upstream_desc *d, const struct ds_tlsa *t);
/* Deep copy; dst must be clear or zeroed.  Returns 0 or -ENOMEM. */
int ds_upstream_desc_copy(struct ds_upstream_desc *dst, const struct ds_upstream_desc *src);
void ds_upstream_desc_clear(struct ds_upstream_desc *d);
/* Number of TLSA records dotstub can use (usage 2 or 3, selector 0/1,
 * matching type 0/1/2 with the right data length). */
int ds_upstream_desc_usable_tlsa(const struct ds_upstream_desc *d);

/* How a query to an upstream ended: the DoT client (dotstub/upstream.h)
 * and the plain-DNS client (dotstub/plain.h) report the same outcomes. */
enum ds_upstream_err {
	DS_UP_OK = 0,
	DS_UP_ERR_TIMEOUT,   /* no answer in time on any try */
	DS_UP_ERR_NETWORK,   /* no TCP connection to any address */
	DS_UP_ERR_TLS,       /* TLS handshake failed (not authentication) */
	DS_UP_ERR_AUTH,      /* authentication (DANE or PKIX) failed */
	DS_UP_ERR_NO_TLSA,   /* DANE with no usable TLSA record: refused to connect */
	DS_UP_ERR_OVERLOAD,  /* too many queries pending */
	DS_UP_ERR_BADANSWER, /* the upstream's answer was malformed */
	DS_UP_ERR_CANCELLED, /* the upstream was reset or replaced */
};
const char *ds_upstream_err_str(enum ds_upstream_err e);

/* Called once per submitted query unless it was cancelled.  On DS_UP_OK,
 * pkt/len is the upstream's answer (its ID is the remapped one: ignore it)
 * and r describes it (already checked to match the question); both are
 * valid only during the call. */
typedef void (*ds_upstream_cb)(void *arg, enum ds_upstream_err err, const uint8_t *pkt,
			       size_t len, struct dns_response *r);

#endif
