/*
 * cert.h -- a TLS server identity: a key, a certificate for a name, the
 * TLSA record and SPKI digest that authenticate it, and the random unique
 * name of the form PROTOCOL.md recommends.  The lowest layer that knows
 * certificates: `dotctl provision` (ctl/provision_cert.c) makes a
 * resolver's identity with it, and dotstubd's DoT server
 * (stub/daemon/dotsrv_id.c) its own.  Nothing here reads or writes files,
 * logs or prints; OpenSSL's error queue is left clear.
 */
#ifndef DOTSTUB_CERT_H
#define DOTSTUB_CERT_H

#include <stddef.h>
#include <stdint.h>

struct evp_pkey_st;
struct x509_st;

#define DS_CERT_SHA256_LEN 32
/* "3 1 1 " and 64 hex digits, NUL: the longest ds_cert_tlsa text */
#define DS_CERT_TLSA_MAX 80
/* the validity of a certificate ds_cert_make makes when asked for 0 days */
#define DS_CERT_DAYS 365

/* A unique name: 12 base32hex characters (60 random bits) and ".zz"
 * (PROTOCOL.md, "What the resolver publishes").  size >= 16.  0 or -EIO
 * (no random numbers), -ENOSPC. */
int ds_cert_random_name(char *out, size_t size);

/* A fresh ECDSA P-256 key, or NULL (out of memory, no randomness). */
struct evp_pkey_st *ds_cert_key_new(void);

/*
 * A certificate for name (a host name, 253 characters at most) with the
 * public key of key, valid from an hour ago for days days (0:
 * DS_CERT_DAYS): self-signed by key when issuer is NULL, else issued by
 * issuer and signed with signer (then verified against the issuer's key).
 * X.509 v3, random positive serial, subject CN the name (its first label
 * if longer than 64), subjectAltName DNS:name, CA:FALSE,
 * digitalSignature, serverAuth.  NULL on failure.
 */
struct x509_st *ds_cert_make(const char *name, struct evp_pkey_st *key, struct x509_st *issuer,
			     struct evp_pkey_st *signer, unsigned days);

/* SHA-256 of key's SubjectPublicKeyInfo (DER): what TLSA 3 1 1 and SPKI
 * pins match.  0 or -EIO. */
int ds_cert_spki_sha256(struct evp_pkey_st *key, uint8_t out[DS_CERT_SHA256_LEN]);

/* The TLSA record text "U S 1 <hex>" with SHA-256 of the DER given
 * (selector 1: an SPKI, 0: a whole certificate).  0 or -EIO, -ENOSPC. */
int ds_cert_tlsa_der(int usage, int selector, const uint8_t *der, size_t len, char *out,
		     size_t size);
/* "3 1 1 <hex>" for key (DANE-EE, SPKI, SHA-256).  0 or -EIO, -ENOSPC. */
int ds_cert_tlsa_311(struct evp_pkey_st *key, char *out, size_t size);

/* The first DNS name of x's subjectAltName, lower-cased, into out.  0,
 * -ENOENT (none), -ENOSPC, -EINVAL (not letters, digits, hyphens and
 * dots). */
int ds_cert_dns_name(struct x509_st *x, char *out, size_t size);

/* Seconds until x expires (negative: expired), or INT64_MIN if it cannot
 * be told. */
int64_t ds_cert_seconds_left(struct x509_st *x);

#endif
