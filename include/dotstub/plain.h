/*
 * plain.h -- plain DNS (Do53) to the network's resolver, for the one case
 * the policy allows it: an unknown network whose resolver publishes no
 * resolver-name.arpa, with unknown-network opportunistic.  It is never
 * used for a known network or a known anchor, and never as a fallback
 * from DoT.  Kept apart from the DoT client on purpose: that one cannot
 * speak clear text at all.
 *
 * Each query gets its own UDP socket (a fresh random source port) connected
 * to the resolver, a random ID, and the answer must match the ID and the
 * question; a truncated answer is asked again over TCP.  Answers are
 * unauthenticated: the resolver, or anyone on path, can forge them, their
 * header flags too; so they are handed over with r->authenticated false,
 * and their AD never reaches a client.
 * Same callback contract as the DoT client (dotstub/upstream.h): called
 * once per query unless cancelled, never from inside submit.
 */
#ifndef DOTSTUB_PLAIN_H
#define DOTSTUB_PLAIN_H

#include <stdint.h>

#include "dotstub/upstream_desc.h"

struct event_base;
struct ds_plain;
struct ds_plain_query;

struct ds_plain_status {
	char addr[64];     /* the resolver used last */
	unsigned inflight;
	uint64_t queries, answers, timeouts, tcp_retries, errors;
};

/* A client for the addresses (with ports) in addr[0..n).  Returns NULL
 * (-EINVAL in *ret_err) without an address, -ENOMEM. */
struct ds_plain *ds_plain_new(struct event_base *base, const struct sockaddr_storage *addr, int n,
			      unsigned timeout_ms, int *ret_err);
/* Pending queries are failed with DS_UP_ERR_CANCELLED. */
void ds_plain_free(struct ds_plain *p);
/* NULL with errno (EBUSY: too many in flight) if it cannot be sent. */
struct ds_plain_query *ds_plain_submit(struct ds_plain *p, const struct dns_query *q,
				       ds_upstream_cb cb, void *arg);
void ds_plain_cancel(struct ds_plain_query *h);
void ds_plain_get_status(const struct ds_plain *p, struct ds_plain_status *st);

#endif
