/*
 * walk_int.h -- internals of the discovery walk shared by discovery/walk*.c.
 * Not a public interface: see include/dotstub/discovery.h.
 *
 * Conventions: the walk's step functions return 0 to go on, WALK_STOP when
 * a verdict has been recorded in the result (walk_fail), or a negative
 * errno for a local error (-ENOMEM, -ECANCELED) that ends the walk without
 * a result.
 */
#ifndef DOTSTUB_WALK_INT_H
#define DOTSTUB_WALK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotstub/discovery.h"
#include "dotstub/wire.h"

struct ub_ctx;
struct ub_result;

#define WALK_STOP 1
/* DNSKEY records of resolver-name.arpa compared between observations */
#define WALK_MAX_DNSKEYS 32
/* room for any presentation name libunbound may be handed */
#define WALK_NAME_STR (DNS_NAME_MAX * 4 + 2)

/* One walk in progress: the caller's parameters, the result being filled,
 * and the validation contexts (each owned here, deleted by walk_close). */
struct walk {
	const struct disc_params *p;
	struct disc_result *r;
	uint64_t deadline_ms;            /* CLOCK_MONOTONIC */
	unsigned timeout_ms;             /* the whole walk's budget */
	char fwd[DISC_MAX_RESOLVERS][DISC_ADDR_STR_MAX]; /* checked "ADDR[@PORT]" */
	int nfwd;
	struct ub_ctx *arpa;             /* anchored at resolver-name.arpa's KSK */
	struct ub_ctx *zone;             /* anchored at N's key */
	char n[WALK_NAME_STR];           /* N, lower case, trailing dot */
};

/* One query of a batch and its outcome (walk_ub.c). */
struct walk_q {
	char name[WALK_NAME_STR];        /* presentation form */
	uint16_t type;
	struct ub_result *res;           /* owned; freed by walk_q_release */
	int ub_err;                      /* libunbound error code, 0 if none */
	bool done;
	int async_id;
	/* set by walk_run: the verdict on this answer */
	enum disc_status status;
	char detail[DISC_DETAIL_MAX];    /* why_bogus, rcode, ... */
};

/* ---- walk_ub.c: libunbound ---- */
uint64_t walk_now_ms(void);
/* New context forwarding to the walk's resolvers.  anchors (n of them,
 * owner in presentation form) become its trust anchors; with n == 0 the
 * context does not validate at all.  tcp: every query over TCP.  Returns 0
 * or -ENOMEM / -EINVAL (libunbound refused an option; err says which). */
int walk_ub_new(const struct walk *w, const struct trust_dnskey *anchors, int n,
		const char *owner, bool tcp, struct ub_ctx **ret, char *err, size_t errlen);
void walk_ub_free(struct ub_ctx *ub);
/* Prepare q for walk_run. */
void walk_q_set(struct walk_q *q, const char *name, uint16_t type);
/* Resolve the n queries of q[] in ub concurrently and classify each answer
 * (q->status, q->detail).  Returns 0, -ETIMEDOUT (the walk's deadline
 * passed: unfinished queries have status DISC_ST_ERROR), -ECANCELED or
 * -ENOMEM. */
int walk_resolve(struct walk *w, struct ub_ctx *ub, struct walk_q *q, size_t n);
void walk_q_release(struct walk_q *q, size_t n);
/* Sleep ms milliseconds unless cancelled or past the deadline.
 * Returns 0, -ECANCELED or -ETIMEDOUT. */
int walk_sleep(const struct walk *w, unsigned ms);
bool walk_cancelled(const struct walk *w);
/* Number of rdata items in a result (0 if none). */
size_t walk_q_count(const struct walk_q *q);

/* ---- walk_probe.c: the resolver's own rcode ---- */
/* Ask the resolver fwd ("ADDR@PORT") name/type once over UDP, without
 * libunbound, and wait at most max_ms (and never past the walk's
 * deadline).  Returns the rcode of its answer (0..15), -ETIMEDOUT (no
 * answer), -ECANCELED, -EINVAL or -errno. */
int walk_probe_rcode(const struct walk *w, const char *fwd, const char *name, uint16_t type,
		     unsigned max_ms);
/* Ask fwd for the A record of a random name under invalid. (RFC 6761):
 * 1 with the reason in why if it answered one (a resolver that makes up
 * answers: a captive portal), 0 if not, or a negative errno as above. */
int walk_probe_hijack(const struct walk *w, const char *fwd, unsigned max_ms, char *why,
		      size_t whylen);

/* ---- walk_result.c: recording steps and the verdict ---- */
/* Record a step; detail is printf-formatted and sanitised (printable
 * ASCII; anything else as \DDD).  Calls the caller's on_step hook. */
void walk_step(struct walk *w, int phase, const char *name, uint16_t type, enum disc_status st,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Record the verdict (the first one wins).  Returns WALK_STOP. */
int walk_fail(struct walk *w, enum trust_discovery kind, int phase, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Run a batch and record the verdict for a timeout.  Returns 0, WALK_STOP
 * (deadline: UNREACHABLE recorded) or a negative errno. */
int walk_run(struct walk *w, struct ub_ctx *ub, int phase, struct walk_q *q, size_t n);
/* Judge one answer of a batch: BOGUS, INSECURE and ERROR answers (and
 * NODATA unless nodata_ok) are recorded as a step and end the walk with
 * the matching verdict (WALK_STOP).  A NODATA answer that is acceptable is
 * recorded as a step too.  A SECURE answer records nothing: the caller
 * records the step with what it read.  Returns 0 or WALK_STOP. */
int walk_require(struct walk *w, int phase, struct walk_q *q, bool nodata_ok);
/* Copy printable ASCII of src into dst (size len), escaping the rest. */
void walk_sanitize(char *dst, size_t len, const char *src);

/* ---- walk_ksk.c: step 1 ---- */
int walk_step1(struct walk *w);

/* ---- walk_zone.c: steps 2-4 ---- */
int walk_step2(struct walk *w);
int walk_step3(struct walk *w);
int walk_step4(struct walk *w);

/* ---- walk_data.c: step 5 and forwarders ---- */
int walk_step5(struct walk *w);
int walk_forwarder(struct walk *w);

/* ---- walk_rdata.c: reading rdata (all untrusted) ---- */
/* Read the single domain name that is the whole rdata (NS, PTR), in
 * uncompressed wire form.  Returns 0 or -EBADMSG. */
int walk_rdata_name(const uint8_t *rdata, size_t len, uint8_t wire[DNS_NAME_MAX],
		    size_t *wire_len);
/* Concatenate the character-strings of TXT rdata into out (NUL
 * terminated, truncated to outlen - 1).  Returns 0 or -EBADMSG. */
int walk_rdata_txt(const uint8_t *rdata, size_t len, char *out, size_t outlen);
/* Is name (wire form) a host name (letters, digits, hyphens; not the
 * root)?  On success writes the lower case presentation form. */
bool walk_host_name(const uint8_t *name, size_t len, char *out, size_t outlen);
/* Append the A/AAAA rdata to d with port.  Returns 0, -EBADMSG (wrong
 * length) or -E2BIG (d is full). */
int walk_rdata_addr(struct ds_upstream_desc *d, uint16_t type, const uint8_t *rdata, size_t len,
		    uint16_t port);
/* Append TLSA rdata to d.  Returns 0, -EBADMSG, -E2BIG or -ENOMEM. */
int walk_rdata_tlsa(struct ds_upstream_desc *d, const uint8_t *rdata, size_t len);

#endif
