/*
 * cache.c -- the answer cache: a chained hash table (keyed SipHash, so
 * clients cannot aim at one bucket) plus an LRU list, under a byte bound.
 *
 * One allocation per entry: the header, the TTL offsets and the stripped
 * wire body.  The body's question name is stored lower-cased and is the
 * key's name; dns_compose_answer_body puts the client's case back on the
 * way out.  A lookup allocates nothing.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dotstub/cache.h"
#include "dotstub/wire.h"

#define KEY_FLAG_DO 0x01
#define KEY_FLAG_CD 0x02
#define KEY_MAX (DNS_NAME_MAX + 9)
#define INITIAL_BUCKETS 64
/* what malloc itself costs per block, roughly: counted against the bound */
#define MALLOC_OVERHEAD 16

struct cache_entry {
	struct cache_entry *hnext;			/* hash chain */
	struct cache_entry *lru_prev, *lru_next;	/* most recent first */
	uint64_t inserted;				/* caller's clock, seconds */
	uint32_t lifetime;				/* stale from inserted + lifetime */
	uint32_t bumped;				/* last move to the LRU front,
							 * seconds after inserted */
	uint32_t hash;
	uint16_t qtype, qclass;
	uint16_t body_len;
	uint16_t n_ttl;
	uint8_t qname_len;				/* 1..255 */
	uint8_t key_flags;				/* KEY_FLAG_* */
	uint32_t part;					/* the partition (cache.h) */
	bool authenticated;				/* came over authenticated DoT:
							 * its AD may be shown */
	int32_t ede;					/* upstream EDE code or -1 */
	uint16_t ttl_off[];				/* then the body */
};

struct ds_cache {
	struct cache_entry **tab;
	size_t nbuckets; /* a power of two */
	struct cache_entry *lru_head, *lru_tail;
	size_t entry_bytes;
	size_t max_bytes;
	uint64_t sipkey[2];
	struct ds_cache_stats st;
};

struct cache_key {
	uint8_t buf[KEY_MAX]; /* lower-cased name, type, class, flags, partition */
	size_t name_len;
	size_t len;
	uint64_t hash;
	uint8_t flags;
	uint32_t part;
};

/* ---- SipHash-1-3 (Aumasson, Bernstein): a keyed hash for short keys ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1;                                                     \
		v1 = ROTL(v1, 13);                                            \
		v1 ^= v0;                                                     \
		v0 = ROTL(v0, 32);                                            \
		v2 += v3;                                                     \
		v3 = ROTL(v3, 16);                                            \
		v3 ^= v2;                                                     \
		v0 += v3;                                                     \
		v3 = ROTL(v3, 21);                                            \
		v3 ^= v0;                                                     \
		v2 += v1;                                                     \
		v1 = ROTL(v1, 17);                                            \
		v1 ^= v2;                                                     \
		v2 = ROTL(v2, 32);                                            \
	} while (0)

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint64_t
siphash13(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (m = 0; tail > 0; tail--)
		m |= (uint64_t)in[i + tail - 1] << (8 * (tail - 1));
	b |= m;
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- keys and entries ---- */

static uint8_t
key_flags_of(const struct dns_query *q)
{
	return (uint8_t)((q->do_bit ? KEY_FLAG_DO : 0) | (q->cd_bit ? KEY_FLAG_CD : 0));
}

/* false if q has no question to look up */
static bool
key_make(const struct ds_cache *c, uint32_t part, const struct dns_query *q, struct cache_key *k)
{
	size_t i, n = q->qname_len;

	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t ch = q->qname[i];

		k->buf[i] = (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
	}
	k->flags = key_flags_of(q);
	k->buf[n] = (uint8_t)(q->qtype >> 8);
	k->buf[n + 1] = (uint8_t)q->qtype;
	k->buf[n + 2] = (uint8_t)(q->qclass >> 8);
	k->buf[n + 3] = (uint8_t)q->qclass;
	k->buf[n + 4] = k->flags;
	k->buf[n + 5] = (uint8_t)(part >> 24);
	k->buf[n + 6] = (uint8_t)(part >> 16);
	k->buf[n + 7] = (uint8_t)(part >> 8);
	k->buf[n + 8] = (uint8_t)part;
	k->part = part;
	k->name_len = n;
	k->len = n + 9;
	k->hash = siphash13(c->sipkey, k->buf, k->len);
	return true;
}

static uint8_t *
entry_body(struct cache_entry *e)
{
	return (uint8_t *)(e->ttl_off + e->n_ttl);
}

static size_t
entry_size(size_t n_ttl, size_t body_len)
{
	return sizeof(struct cache_entry) + n_ttl * sizeof(uint16_t) + body_len +
	       MALLOC_OVERHEAD;
}

static size_t
index_bytes(const struct ds_cache *c)
{
	return c->nbuckets * sizeof(*c->tab);
}

static bool
entry_matches(struct cache_entry *e, const struct cache_key *k, uint16_t qtype,
	      uint16_t qclass)
{
	return e->hash == (uint32_t)k->hash && e->qtype == qtype && e->qclass == qclass &&
	       e->key_flags == k->flags && e->part == k->part && e->qname_len == k->name_len &&
	       memcmp(entry_body(e) + DNS_HDR_LEN, k->buf, k->name_len) == 0;
}

static struct cache_entry *
lookup(struct ds_cache *c, const struct cache_key *k, uint16_t qtype, uint16_t qclass)
{
	struct cache_entry *e;

	for (e = c->tab[k->hash & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (entry_matches(e, k, qtype, qclass))
			return e;
	return NULL;
}

static void
lru_unlink(struct ds_cache *c, struct cache_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
}

static void
lru_push_front(struct ds_cache *c, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

/* Unlink e from its bucket and the LRU list and free it. */
static void
entry_remove(struct ds_cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->tab[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->entry_bytes -= entry_size(e->n_ttl, e->body_len);
	c->st.entries--;
	free(e);
}

/* Double the table; on ENOMEM keep the old one (chains just get longer). */
static void
table_grow(struct ds_cache *c)
{
	size_t n = c->nbuckets * 2, i;
	struct cache_entry **tab;

	if (entry_size(0, 0) * c->st.entries + n * sizeof(*tab) > c->max_bytes)
		return;
	tab = calloc(n, sizeof(*tab));
	if (tab == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++) {
		struct cache_entry *e = c->tab[i], *next;

		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = tab[e->hash & (n - 1)];
			tab[e->hash & (n - 1)] = e;
		}
	}
	free(c->tab);
	c->tab = tab;
	c->nbuckets = n;
	/* the bigger index counts against the bound too */
	while (c->lru_tail != NULL && c->entry_bytes + index_bytes(c) > c->max_bytes) {
		entry_remove(c, c->lru_tail);
		c->st.evictions++;
	}
}

static void
random_key(uint64_t key[2])
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) == 2 * sizeof(key[0]))
		return;
	/* no entropy yet (early boot on a router): better than a fixed key */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)key;
	key[1] ^= (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)&ts;
}

/* ---- public ---- */

struct ds_cache *
ds_cache_new(size_t max_bytes)
{
	struct ds_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->nbuckets = INITIAL_BUCKETS;
	c->tab = calloc(c->nbuckets, sizeof(*c->tab));
	if (c->tab == NULL) {
		free(c);
		return NULL;
	}
	c->max_bytes = max_bytes;
	random_key(c->sipkey);
	return c;
}

void
ds_cache_flush(struct ds_cache *c)
{
	struct cache_entry *e, *next;

	for (e = c->lru_head; e != NULL; e = next) {
		next = e->lru_next;
		free(e);
	}
	memset(c->tab, 0, index_bytes(c));
	c->lru_head = c->lru_tail = NULL;
	c->entry_bytes = 0;
	c->st.entries = 0;
}

void
ds_cache_free(struct ds_cache *c)
{
	if (c == NULL)
		return;
	ds_cache_flush(c);
	free(c->tab);
	free(c);
}

/* The lifetime an answer may be cached for, 0 if not at all. */
static uint32_t
cache_lifetime(const struct dns_response *r)
{
	uint32_t ttl = r->cache_ttl;

	if ((r->flags & DNS_FLAG_TC) || r->ttl_overflow)
		return 0;
	switch (DNS_RCODE(r->flags)) {
	case DNS_RCODE_SERVFAIL:
		return DS_CACHE_SERVFAIL_TTL;
	case DNS_RCODE_NOERROR:
	case DNS_RCODE_NXDOMAIN:
		if (r->negative)
			return ttl < DS_CACHE_NEG_MAX_TTL ? ttl : DS_CACHE_NEG_MAX_TTL;
		return ttl < DS_CACHE_MAX_TTL ? ttl : DS_CACHE_MAX_TTL;
	default:
		return 0;
	}
}

int
ds_cache_insert(struct ds_cache *c, const struct dns_query *q, const uint8_t *body,
		const struct dns_response *r, uint64_t now)
{
	return ds_cache_insert_in(c, 0, q, body, r, now);
}

int
ds_cache_insert_in(struct ds_cache *c, uint32_t part, const struct dns_query *q,
		   const uint8_t *body, const struct dns_response *r, uint64_t now)
{
	struct cache_key k;
	struct cache_entry *e;
	uint32_t lifetime = cache_lifetime(r);
	size_t size;

	if (lifetime == 0)
		return 1;
	if (!dns_response_matches(r, q) || r->opt_len != 0 || r->n_ttl > DNS_MAX_TTL_FIELDS ||
	    r->body_len > DNS_MSG_MAX ||
	    r->question_end != DNS_HDR_LEN + r->qname_len + 4 || r->body_len < r->question_end)
		return -EINVAL;
	if (!key_make(c, part, q, &k))
		return -EINVAL;
	size = entry_size(r->n_ttl, r->body_len);
	if (size > c->max_bytes / 8)
		return 1;

	e = lookup(c, &k, q->qtype, q->qclass);
	if (e != NULL)
		entry_remove(c, e);
	while (c->lru_tail != NULL && c->entry_bytes + index_bytes(c) + size > c->max_bytes) {
		entry_remove(c, c->lru_tail);
		c->st.evictions++;
	}
	if (c->entry_bytes + index_bytes(c) + size > c->max_bytes)
		return 1;
	e = malloc(size - MALLOC_OVERHEAD);
	if (e == NULL)
		return -ENOMEM;
	e->inserted = now;
	e->lifetime = lifetime;
	e->bumped = 0;
	e->hash = (uint32_t)k.hash;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->body_len = (uint16_t)r->body_len;
	e->n_ttl = (uint16_t)r->n_ttl;
	e->qname_len = (uint8_t)k.name_len;
	e->key_flags = k.flags;
	e->part = part;
	e->authenticated = r->authenticated;
	e->ede = r->has_ede ? r->ede_code : -1;
	memcpy(e->ttl_off, r->ttl_off, r->n_ttl * sizeof(uint16_t));
	memcpy(entry_body(e), body, r->body_len);
	memcpy(entry_body(e) + DNS_HDR_LEN, k.buf, k.name_len);

	e->hnext = c->tab[k.hash & (c->nbuckets - 1)];
	c->tab[k.hash & (c->nbuckets - 1)] = e;
	lru_push_front(c, e);
	c->entry_bytes += size;
	c->st.entries++;
	c->st.inserts++;
	if (c->st.entries > c->nbuckets)
		table_grow(c);
	return 0;
}

int
ds_cache_answer(struct ds_cache *c, const struct dns_query *q, const struct dns_answer_opts *o,
		size_t max_size, uint64_t now, uint8_t *out, size_t cap)
{
	return ds_cache_answer_in(c, 0, q, o, max_size, now, out, cap);
}

int
ds_cache_answer_in(struct ds_cache *c, uint32_t part, const struct dns_query *q,
		   const struct dns_answer_opts *o, size_t max_size, uint64_t now, uint8_t *out,
		   size_t cap)
{
	struct dns_answer_opts opts = { .age = 0, .ede_code = -1 };
	struct cache_key k;
	struct cache_entry *e;
	uint64_t age;
	int n;

	c->st.lookups++;
	if (!key_make(c, part, q, &k) || (e = lookup(c, &k, q->qtype, q->qclass)) == NULL) {
		c->st.misses++;
		return 0;
	}
	age = now > e->inserted ? now - e->inserted : 0;
	if (age >= e->lifetime) {
		entry_remove(c, e);
		c->st.expired++;
		c->st.misses++;
		return 0;
	}
	/* Move to the front at most once a second: a hot entry is not
	 * relinked on every hit (each relink touches two other entries). */
	if (e != c->lru_head && age != e->bumped) {
		lru_unlink(c, e);
		lru_push_front(c, e);
		e->bumped = (uint32_t)age;
	}
	if (o != NULL)
		opts = *o;
	opts.age = (uint32_t)age;
	if (opts.ede_code < 0 && e->ede >= 0) {
		opts.ede_code = e->ede;
		opts.ede_text = NULL;
	}
	n = dns_compose_answer_body(q, entry_body(e), e->body_len, e->ttl_off, e->n_ttl,
				    e->authenticated, &opts, max_size, out, cap);
	if (n > 0)
		c->st.hits++;
	return n;
}

void
ds_cache_flush_part(struct ds_cache *c, uint32_t part)
{
	struct cache_entry *e, *next;

	for (e = c->lru_head; e != NULL; e = next) {
		next = e->lru_next;
		if (e->part == part)
			entry_remove(c, e);
	}
}

void
ds_cache_get_stats(const struct ds_cache *c, struct ds_cache_stats *st)
{
	*st = c->st;
	st->bytes = c->entry_bytes + index_bytes(c);
	st->max_bytes = c->max_bytes;
}
