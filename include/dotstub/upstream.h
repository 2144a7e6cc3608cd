/*
 * upstream.h -- the DNS-over-TLS client (RFC 7858) that serves an upstream
 * description (dotstub/upstream_desc.h).
 *
 * Layers: TCP -> TLS (OpenSSL 3, DANE per RFC 6698/7671 with OpenSSL's own
 * code) -> 2-octet length framing -> DNS.  One persistent connection per
 * upstream, a second only while the first has max_inflight queries; many
 * queries in flight, IDs remapped per connection, answers matched by ID and
 * question, out of order.  Authentication is DANE only: usages 3 (DANE-EE)
 * and 2 (DANE-TA); usages 0/1 are ignored; with no usable record the
 * client refuses to connect at all.  Never falls back to clear text.
 *
 * Ownership: ds_upstream_new copies the description it is given.
 * Everything runs on the caller's libevent base, single-threaded.
 * Callbacks are never called from inside ds_upstream_submit.
 * The client logs connection events itself (connect, handshake ok with the
 * matched TLSA, failure class) at notice/info; never query names above
 * debug.
 */
#ifndef DOTSTUB_UPSTREAM_H
#define DOTSTUB_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dotstub/message.h"
#include "dotstub/upstream_desc.h"

struct event_base;

struct ds_upstream_opts {
	bool allow_tls12;              /* default false: TLS 1.3 only */
	unsigned query_timeout_ms;     /* per attempt; default 1500 */
	unsigned max_tries;            /* attempts per query; default 3 */
	unsigned idle_timeout_ms;      /* close idle connections; default 10000;
					  lowered to the server's keepalive */
	unsigned max_inflight;         /* per connection before a second one;
					  default 2048 (below 65536 IDs) */
	unsigned max_conns;            /* default 2 */
	unsigned max_pending;          /* queries waiting for a connection;
					  default 4096; beyond: DS_UP_ERR_OVERLOAD */
	unsigned backoff_min_ms;       /* default 250 */
	unsigned backoff_max_ms;       /* default 30000 */
	unsigned connect_timeout_ms;   /* TCP + TLS handshake; default 3000 */
	const char *ca_file;           /* PKIX descriptions: the CA certificates
					  (PEM) to verify with; NULL: the
					  system's store.  Read when the first
					  PKIX connection is made; not copied:
					  must outlive the client */
	bool no_quickack;              /* default false: acknowledge answers
					  promptly (TCP_QUICKACK, deferred by
					  at most 1 ms under load), so a server
					  that leaves Nagle on (Unbound) is not
					  held back ~40 ms by our delayed ACKs */
};
void ds_upstream_opts_default(struct ds_upstream_opts *o);

struct ds_upstream;
struct ds_upstream_query;

/* Create a client for desc.  Fails with -ENOKEY (*ret_err) if desc has no
 * usable TLSA record, -EINVAL if it has no address, -EPROTONOSUPPORT if
 * desc->transport is not DS_TRANSPORT_DOT (this client never speaks clear
 * text).  Does not connect yet.  o may be NULL for defaults. */
struct ds_upstream *ds_upstream_new(struct event_base *base, const struct ds_upstream_desc *desc,
				    const struct ds_upstream_opts *o, int *ret_err);
/* Close everything; pending queries are failed with DS_UP_ERR_CANCELLED
 * (callbacks run before this returns). */
void ds_upstream_free(struct ds_upstream *u);

/* Send q upstream (the client builds the wire query itself: its own ID,
 * OPT rebuilt, padded, keepalive).  Returns a handle, or NULL with errno
 * (EBUSY: overload) -- then cb is not called. */
struct ds_upstream_query *ds_upstream_submit(struct ds_upstream *u, const struct dns_query *q,
					     ds_upstream_cb cb, void *arg);
/* Forget a submitted query; its callback will not be called. */
void ds_upstream_cancel(struct ds_upstream_query *h);

/* Network changed: close connections, drop TLS session tickets, reset the
 * backoff; pending queries fail with DS_UP_ERR_CANCELLED. */
void ds_upstream_reset(struct ds_upstream *u);
/* Open a connection now if none is open (warm-up after a change). */
void ds_upstream_connect_now(struct ds_upstream *u);
/* Replace the description (rediscovery, TLSA rollover, new addresses);
 * desc is copied.  If the name, the TLSA set or the network changed, every
 * connection is closed (queries in flight start over on a new one, without
 * losing a try), stored session tickets are dropped and the backoff is
 * reset: nothing authenticated under the old identity is reused.  If only
 * the addresses changed, open connections stay.  Returns 0, or -ENOKEY /
 * -EINVAL / -ENOMEM as ds_upstream_new (then nothing changed). */
int ds_upstream_update(struct ds_upstream *u, const struct ds_upstream_desc *desc);

struct ds_upstream_status {
	char name[DNS_NAME_MAX + 1];
	char addr[64];          /* address of the current (or last) connection */
	const char *state;      /* "idle", "connecting", "handshake", "ready", "backoff" */
	char tls_version[16];   /* "TLSv1.3" or "" */
	char cipher[64];
	char matched_tlsa[96];  /* "3 1 1 ab12cd34..." or "" */
	const char *auth;       /* ds_auth_name of the description */
	char spki_sha256[65];   /* the certificate's key (TLSA 3 1 1 data), or "" */
	bool resumed;           /* current connection resumed a session */
	unsigned conns;         /* open connections */
	unsigned inflight;      /* queries sent and not answered */
	unsigned pending;       /* queries waiting for a connection */
	uint64_t queries, answers, timeouts, retries;
	uint64_t fail_network, fail_tls, fail_auth;
	uint64_t connects, handshakes, resumptions;
	uint32_t rtt_p50_us, rtt_p99_us; /* over the recent answers */
	uint32_t backoff_ms;    /* current backoff, 0 if none */
	uint32_t keepalive_ms;  /* server's RFC 7828 timeout, 0 if none */
	char last_error[160];
};
void ds_upstream_get_status(const struct ds_upstream *u, struct ds_upstream_status *st);
/* Whether its answers come over an authenticated channel (DANE or PKIX):
 * false for an opportunistic description. */
bool ds_upstream_authenticates(const struct ds_upstream *u);

#endif
