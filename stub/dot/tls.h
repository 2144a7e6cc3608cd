/*
 * tls.h -- the TLS layer of the upstream client (private to it: stub/dot/tls.c,
 * and stub/up_*.c through upstream_int.h): one OpenSSL client context per
 * upstream, DANE setup per connection, the session ticket cache and the
 * classification of handshake failures.  Nothing here does I/O; up_conn.c drives SSL_connect/SSL_read/
 * SSL_write on its non-blocking sockets.
 *
 * Session tickets are stored per ds_tls (that is, per ds_upstream) under a
 * key: SHA-256 over the TLSA set, the name and the network.  A ticket is
 * offered only to a connection with the same key and is used once, so a
 * resumed session (which skips certificate verification) can never stand in
 * for authentication against a different TLSA set.
 */
#ifndef DOTSTUB_STUB_TLS_H
#define DOTSTUB_STUB_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "dotstub/upstream.h"

#define DS_TLS_KEY_LEN 32
#define DS_TLS_MAX_TICKETS 4

struct ds_tls;

/* What one connection's TLS layer knows; owned by the connection. */
struct ds_tls_conn {
	struct ds_tls *tls;
	SSL *ssl;
	uint8_t key[DS_TLS_KEY_LEN]; /* session key at creation */
	bool offered_ticket;         /* a stored ticket was offered */
	char ticket_tlsa[96];        /* TLSA that authenticated the ticket's session */
	int usable_tlsa;             /* records OpenSSL accepted (DANE) */
	enum ds_auth auth;           /* what the certificate must prove */
};

/* After a successful handshake. */
struct ds_tls_info {
	char version[16];
	char cipher[64];
	char matched_tlsa[96]; /* "3 1 1 ab12..." or "" */
	char spki_sha256[65];  /* the certificate's key, hex, or "" */
	enum ds_auth auth;
	bool resumed;
};

/* Create a client context (TLS 1.3 only unless allow_tls12; DANE only, no
 * CA store).  Returns NULL with *ret_err = -ENOMEM or -EPROTO (OpenSSL
 * refused a setting).  Not logged. */
struct ds_tls *ds_tls_new(bool allow_tls12, int *ret_err);
/* The CA certificates (PEM file) PKIX descriptions verify with; NULL (the
 * default) is the system's store.  Loaded when the first PKIX connection
 * is set up; path must outlive t. */
void ds_tls_set_ca_file(struct ds_tls *t, const char *path);
/* Free the context and every stored ticket.  NULL is fine. */
void ds_tls_free(struct ds_tls *t);

/* The session cache key of a description (TLSA set in order, name,
 * network), written to key. */
void ds_tls_session_key(const struct ds_upstream_desc *d, uint8_t key[DS_TLS_KEY_LEN]);
/* Set the key under which new tickets are stored and looked up; stored
 * tickets of another key are dropped. */
void ds_tls_set_key(struct ds_tls *t, const uint8_t key[DS_TLS_KEY_LEN]);
/* Drop every stored ticket. */
void ds_tls_drop_tickets(struct ds_tls *t);
/* Number of stored tickets. */
unsigned ds_tls_ticket_count(const struct ds_tls *t);

/* Set up tc for a TLS client connection on the connected socket fd to the
 * server described by d: SNI d->name; for DANE, d->name as the reference
 * name and every usable TLSA record of d; for PKIX, d->name (and
 * d->pkix_ip if set) checked against a chain to the CA store; for
 * opportunistic, no check; a stored ticket if one matches (it is removed
 * from the store: each ticket is used once).  Returns 0, -ENOKEY (DANE:
 * OpenSSL accepted no TLSA record: refuse to connect), -ENOENT (PKIX: the
 * CA store cannot be loaded), -ENOMEM or -EPROTO.  On error tc is left
 * clear. */
int ds_tls_conn_init(struct ds_tls_conn *tc, struct ds_tls *t, int fd,
		     const struct ds_upstream_desc *d);
/* Free the SSL object (no shutdown alert is sent). */
void ds_tls_conn_clear(struct ds_tls_conn *tc);
/* After the handshake: true if the peer proved what the description asks
 * (DANE: a verified chain and a matched TLSA record; PKIX: a chain to the
 * store valid for the name and address; opportunistic: nothing), or it
 * resumed a session we offered, which proved it when it was made under the
 * same key.  Otherwise false with a reason in why. */
bool ds_tls_conn_authenticated(const struct ds_tls_conn *tc, char *why, size_t whylen);
/* Fill info after the handshake completed. */
void ds_tls_conn_info(const struct ds_tls_conn *tc, struct ds_tls_info *info);
/*
 * Classify a failed SSL_connect (ssl_err from SSL_get_error, sys_errno the
 * errno right after the call): DS_UP_ERR_AUTH if certificate verification
 * (DANE) failed, else DS_UP_ERR_TLS.  A reason is written to why.
 */
enum ds_upstream_err ds_tls_handshake_error(const struct ds_tls_conn *tc, int ssl_err,
					    int sys_errno, char *why, size_t whylen);

#endif
