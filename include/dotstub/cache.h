/*
 * cache.h -- the answer cache of dotstubd.
 *
 * Wire answers (upstream OPT stripped) keyed by (lower-cased qname, qtype,
 * qclass, DO, CD, partition), each with whether it came over an authenticated
 * channel.  TTLs are decremented on the way out; negative answers are
 * cached per RFC 2308; SERVFAIL for at most DS_CACHE_SERVFAIL_TTL
 * seconds.  Memory is bounded (bytes of entries including overhead) and
 * the least recently used entries are evicted first.  Time is given by the
 * caller in seconds of a monotonic clock, so tests can drive it.
 * Single-threaded; nothing here logs.
 */
#ifndef DOTSTUB_CACHE_H
#define DOTSTUB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dotstub/message.h"

#define DS_CACHE_SERVFAIL_TTL 5
#define DS_CACHE_MAX_TTL 86400
#define DS_CACHE_NEG_MAX_TTL 3600

struct ds_cache;

struct ds_cache_stats {
	uint64_t lookups, hits, misses, inserts, evictions, expired;
	size_t entries;
	size_t bytes;     /* current memory accounted: entries plus index */
	size_t max_bytes;
};

/* max_bytes: the bound (entries plus index).  Returns NULL on ENOMEM. */
struct ds_cache *ds_cache_new(size_t max_bytes);
void ds_cache_free(struct ds_cache *c);

/* Insert or replace the answer for q.  body/r as returned by
 * dns_response_strip_opt (r describes body).  Lifetime: r->cache_ttl capped
 * at DS_CACHE_MAX_TTL (DS_CACHE_NEG_MAX_TTL for negative answers);
 * SERVFAIL: DS_CACHE_SERVFAIL_TTL; other rcodes than NOERROR/NXDOMAIN/
 * SERVFAIL, TC=1, r->ttl_overflow, or a lifetime of 0: not stored.
 * An entry larger than an eighth of max_bytes is not stored.  The body is
 * copied; the upstream's EDE code (r->has_ede) is kept, without its text,
 * and so is r->authenticated: an answer that came over plain DNS never
 * shows AD, on a hit either.
 * Returns 0, or 1 if not cacheable, -EINVAL if r does not answer q or does
 * not describe a stripped body, or -ENOMEM. */
int ds_cache_insert(struct ds_cache *c, const struct dns_query *q, const uint8_t *body,
		    const struct dns_response *r, uint64_t now);

/* Look q up.  On a fresh hit, compose the client's answer into out exactly
 * as dns_compose_answer does (age = now - insert time, o->age is ignored;
 * if o has no EDE (or o is NULL) and the upstream gave one, its code is
 * passed on) and return its length; 0 on a miss (expired entries are
 * dropped: an entry is stale from insert time + lifetime on); a
 * negative errno if composing failed.  A hit moves the entry to the front
 * of the LRU list (at most once per second of the entry's life: the order
 * is exact to the second, and a hot entry is not relinked on every hit). */
int ds_cache_answer(struct ds_cache *c, const struct dns_query *q, const struct dns_answer_opts *o,
		    size_t max_size, uint64_t now, uint8_t *out, size_t cap);

/* Drop everything (network change: one network's answers never leak into
 * another). */
void ds_cache_flush(struct ds_cache *c);

/* Partitions: the same functions within one partition.  An answer
 * inserted into one partition is never found in another (the daemon
 * keeps one per link it routes names to, so that a link's answer is never
 * handed out for a name routed to another link).  The functions above
 * work on partition 0. */
int ds_cache_insert_in(struct ds_cache *c, uint32_t part, const struct dns_query *q,
		       const uint8_t *body, const struct dns_response *r, uint64_t now);
int ds_cache_answer_in(struct ds_cache *c, uint32_t part, const struct dns_query *q,
		       const struct dns_answer_opts *o, size_t max_size, uint64_t now,
		       uint8_t *out, size_t cap);
/* Drop the entries of one partition. */
void ds_cache_flush_part(struct ds_cache *c, uint32_t part);

void ds_cache_get_stats(const struct ds_cache *c, struct ds_cache_stats *st);

#endif
