/*
 * ddr_verify.h -- the DoT designations of a network's resolver (DDR, RFC
 * 9462; DNR, RFC 9463; dotstub/ddr.h) tried with the DoT client
 * (dotstub/upstream.h), one after the other, without blocking the caller's
 * event loop: each verified first (PKIX: the certificate valid for the ADN
 * under the CA store and, for DDR, naming the unencrypted resolver's
 * address, RFC 9462 4.2), then, where RFC 9462 4.3 allows it (a private
 * resolver's own address) and the caller asks for it, opportunistically
 * (encrypted, unauthenticated).  One query (_dns.resolver.arpa SVCB, now
 * over DoT) proves each handshake: the client sends nothing on a
 * connection that did not pass its check.
 *
 * Used by `dotctl discover` (every designation, on a loop of its own) and
 * by dotstubd (up to the first one that answers, on the daemon's loop).
 * Decides nothing: the trust policy does.  Logs nothing above what the DoT
 * client logs itself.
 */
#ifndef DOTSTUB_DDR_VERIFY_H
#define DOTSTUB_DDR_VERIFY_H

#include <stdbool.h>

#include "dotstub/ddr.h"

struct event_base;

struct ds_ddr_verdict {
	struct ddr_designation g;
	bool tried;                /* it had addresses: a connection was tried */
	bool verified;             /* PKIX: ADN (and address), a DoT answer came */
	char why[192];             /* why not verified, or "" */
	bool opportunistic;        /* 4.3 allowed it, asked for, and it answered over DoT */
	char opp_why[192];         /* why opportunistic failed, or "" */
	bool pinned;               /* pin mode: its key is the pinned one, a DoT answer came */
	bool pin_refused;          /* pin mode: its key is not the pinned one (then
				    * verified says whether PKIX vouches for it) */
	char pin_why[192];         /* pin mode: why the pinned key was not proved, or "" */
	char key_sha256[65];       /* the certificate's key (TLSA 3 1 1 data), from either try */
	char addr[64];             /* where the answering connection went, or "" */
};

struct ds_ddr_verify_opts {
	const char *ca_file;       /* NULL: the system's store; must outlive the run */
	unsigned timeout_ms;       /* per attempt: connection, handshake and answer */
	bool allow_tls12;
	bool opportunistic;        /* try 4.3 opportunistic use where allowed */
	bool stop_at_first;        /* stop at the first designation that answered */
	char network[72];          /* the TLS session cache's network key */
	/* pin mode: the SHA-256 (64 hex digits) of the key pinned for this
	 * network; "": none.  Each designation is then tried once, at all its
	 * addresses, authenticated by that key alone (as a TLSA 3 1 1 record,
	 * DANE-EE): a server with another key fails the handshake and gets
	 * nothing.  Such a designation (pin_refused) is then tried once more
	 * as a verified one (PKIX, as above: a renewed certificate), never
	 * opportunistically. */
	char pin_sha256[65];
};
void ds_ddr_verify_opts_default(struct ds_ddr_verify_opts *o);

struct ds_ddr_verify;

/* Called once, on the loop, when every attempt ended: v[0..n) in the
 * order tried (the designations' priority order).  The callback may free
 * the run. */
typedef void ds_ddr_verify_cb(void *arg, const struct ds_ddr_verdict *v, int n);

/* Try designations g[0..n) (at most DDR_MAX_DESIGNATIONS; copied), made
 * for the unencrypted resolver at resolver.  Returns 0 and *ret, or
 * -ENOMEM / -EINVAL; the callback is never called from inside this. */
int ds_ddr_verify_start(struct event_base *base, const struct ddr_designation *g, int n,
			const struct sockaddr_storage *resolver, const struct ds_ddr_verify_opts *o,
			ds_ddr_verify_cb *cb, void *arg, struct ds_ddr_verify **ret);
/* Stop and free; the callback is not called.  NULL is fine. */
void ds_ddr_verify_free(struct ds_ddr_verify *v);

#endif
