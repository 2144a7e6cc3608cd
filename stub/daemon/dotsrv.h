/*
 * dotsrv.h -- dotstubd's DNS-over-TLS server (serve-dot, RFC 7858): what
 * main.c, reload.c and status.c call (dotsrv.c), and the parts it is made
 * of: its TLS context and session ticket keys (dotsrv_tls.c) and where its
 * certificate and key come from (dotsrv_id.c).
 *
 * The clients' queries go through the query path (resolve.c) and
 * access-control (access.c) as those of the UDP and TCP listeners, and are
 * held to the same kinds of limits, with keys of their own (dot-*).
 */
#ifndef DOTSTUB_DOTSRV_H
#define DOTSTUB_DOTSRV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"
#include "dotstub/cert.h"

struct ssl_ctx_st;

/* ---- dotsrv.c: the server ---- */

/* Bind and listen on every serve-dot address (before the privileges are
 * dropped: port 853).  Nothing is accepted before ds_dotsrv_start.
 * Nothing to do without serve-dot.  0 or -errno (logged). */
int ds_dotsrv_open(struct ds_daemon *d);
/* The certificate and key (loaded, or generated in state-dir on first
 * start: as the daemon's user, after the privileges are dropped), the TLS
 * context; logs the certificate's name, SPKI SHA-256 and TLSA 3 1 1, and
 * starts accepting.  0 or -errno (logged). */
int ds_dotsrv_start(struct ds_daemon *d);
/* Close the listeners and every client (their pending queries are
 * cancelled).  After ds_resolve_fini. */
void ds_dotsrv_close(struct ds_daemon *d);

/* SIGHUP, in two steps around the listeners' rebind: prepare binds the
 * new serve-dot addresses of n and loads its certificate and key into a
 * new TLS context, changing nothing that runs (-errno with why if it
 * cannot: the reload is refused); then commit (once d->cfg is n: removed
 * addresses closed with their clients, new ones accepting, new
 * connections with the new certificate; established ones keep theirs) or
 * abort (what prepare made is dropped). */
int ds_dotsrv_reload_prepare(struct ds_daemon *d, const struct ds_config *n, char *why,
			     size_t whylen);
void ds_dotsrv_reload_commit(struct ds_daemon *d);
void ds_dotsrv_reload_abort(struct ds_daemon *d);
/* The access table was made again (a reload): which listeners check. */
void ds_dotsrv_access_changed(struct ds_daemon *d);

/* its part of `dotctl status` */
struct ds_dotsrv_status {
	bool active;                      /* serve-dot is configured */
	char addr[DS_MAX_SERVE_DOT][64];
	int naddr;
	char name[254];                   /* the certificate's DNS name */
	char source[PATH_MAX];            /* "generated in state-dir" or the file */
	char spki_sha256[2 * DS_CERT_SHA256_LEN + 1];
	char tlsa[DS_CERT_TLSA_MAX];      /* "3 1 1 <hex>" */
	int64_t expires_in_s;             /* the certificate's notAfter from now */
	unsigned clients;                 /* connections open (handshaking too) */
	unsigned handshaking;
	uint64_t output;                  /* octets of answers buffered */
	uint64_t accepted, handshakes, resumed, queries;
	uint64_t handshake_timeouts;      /* closed by dot-handshake-timeout */
	uint64_t handshake_failures;      /* TLS refused or broken in the handshake */
	uint64_t protocol_errors;         /* closed: TLS error, not DNS, message timeout */
	uint64_t idle_closed;             /* closed by dot-idle-timeout */
	uint64_t evicted;                 /* closed by a limit to make room or for output */
	uint64_t refused;                 /* not admitted: every candidate busy */
	uint64_t held;                    /* no longer read: dot-client-inflight reached */
	uint64_t ticket_rotations;
};
void ds_dotsrv_get_status(const struct ds_daemon *d, struct ds_dotsrv_status *st);

/* ---- dotsrv_tls.c: the TLS context and its session ticket keys ---- */

/* The keys that encrypt the server's stateless TLS 1.3 session tickets:
 * random, never written anywhere, the current one and the one before it
 * (tickets of an older one get a full handshake). */
struct dotsrv_tickets;
struct dotsrv_tickets *dotsrv_tickets_new(void);
void dotsrv_tickets_free(struct dotsrv_tickets *tk);
/* A new current key; the current one stays good for decrypting (and its
 * tickets are replaced by new ones when used); the one before is wiped. */
int dotsrv_tickets_rotate(struct dotsrv_tickets *tk);
/* How often the keys rotate; a ticket lives as long (its lifetime hint,
 * and what the server accepts), so it is always within two keys. */
#define DOTSRV_TICKET_ROTATE_S 3600

/* A server context: TLS 1.3 only, ALPN "dot" (a client offering only
 * other protocols is refused with no_application_protocol), no
 * renegotiation, no compression, no early data, stateless session tickets
 * under tk; the certificate chain and key from these PEM files (the key
 * must match).  NULL with why. */
struct ssl_ctx_st *dotsrv_tls_ctx_new(const char *chain, const char *key,
				      struct dotsrv_tickets *tk, char *why, size_t whylen);

/* What a context's certificate says, for the log and the status. */
struct dotsrv_id_info {
	char name[254];
	char spki_sha256[2 * DS_CERT_SHA256_LEN + 1];
	char tlsa[DS_CERT_TLSA_MAX];
	int64_t expires_in_s;
};
int dotsrv_tls_ctx_info(struct ssl_ctx_st *ctx, struct dotsrv_id_info *info);

/* ---- dotsrv_id.c: where the certificate and key come from ---- */

struct dotsrv_id {
	char chain[PATH_MAX];   /* PEM: the certificate, then its chain */
	char key[PATH_MAX];     /* PEM: the private key */
	bool generated;         /* in state-dir, made by dotstubd */
};

/* Which version of the certificate file was loaded: the store process
 * replaces it (rename) when it renews it. */
struct dotsrv_id_stamp {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
};
/* The stamp of id's certificate file now.  0 or -errno. */
int dotsrv_id_stamp(const struct dotsrv_id *id, struct dotsrv_id_stamp *st);

/* Where the certificate and key are: serve-dot-cert and serve-dot-key as
 * given, or the generated pair in state-dir.  Reads and writes nothing
 * (the network process, which may not write: privsep.h).  0 or -errno
 * with why. */
int dotsrv_id_locate(const struct ds_serve_dot_config *cfg, const char *state_dir,
		     struct dotsrv_id *id, char *why, size_t whylen);
/* The store process, at start, before each reload and every hour: the
 * generated pair in state-dir (DOTSRV_ID_KEY_FILE, DOTSRV_ID_CERT_FILE,
 * mode 0600) made on first use with a fresh key and a self-signed
 * certificate for serve-dot-name (or a random unique name), and made again
 * with the same key when that name changed, the certificate is missing or
 * does not match the key, or it has less than DOTSRV_ID_RENEW_DAYS left.
 * Nothing to do for given files or without serve-dot.  1 made, 0 kept,
 * -errno with why. */
int dotsrv_id_make(const struct ds_serve_dot_config *cfg, const char *state_dir, char *why,
		   size_t whylen);
#define DOTSRV_ID_KEY_FILE "dot-server.key"
#define DOTSRV_ID_CERT_FILE "dot-server.pem"
#define DOTSRV_ID_RENEW_DAYS 30

#endif
