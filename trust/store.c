/*
 * store.c -- the anchor store in memory: anchors, what was learned under
 * them, lookups and changes.  The file format is in storefile.c, the file
 * I/O in storeio.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"
#include "trust-int.h"

static const char *const state_names[] = {
	[TRUST_STATE_TRUSTED] = "trusted",
	[TRUST_STATE_PENDING] = "pending",
	[TRUST_STATE_REVOKED] = "revoked",
	[TRUST_STATE_MANAGED] = "managed",
	[TRUST_STATE_ADD_PENDING] = "add-pending",
};

const char *trust_state_name(enum trust_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

int trust_state_parse(const char *s, enum trust_state *ret)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum trust_state)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- resolvers ---- */

void trust_resolver_init(struct trust_resolver *r)
{
	memset(r, 0, sizeof(*r));
}

void trust_resolver_clear(struct trust_resolver *r)
{
	for (size_t i = 0; i < r->ntlsa; i++)
		free(r->tlsa[i].data);
	trust_resolver_init(r);
}

int trust_resolver_set_name(struct trust_resolver *r, const char *name)
{
	return trust_name_canonical(name, r->name);
}

int trust_addr_canonical(const char *in, char out[TRUST_ADDR_MAX])
{
	unsigned char buf[sizeof(struct in6_addr)];
	int af = strchr(in, ':') ? AF_INET6 : AF_INET;

	if (strnlen(in, TRUST_ADDR_MAX) >= TRUST_ADDR_MAX || inet_pton(af, in, buf) != 1 ||
	    !inet_ntop(af, buf, out, TRUST_ADDR_MAX))
		return -EINVAL;
	return 0;
}

int trust_resolver_add_addr(struct trust_resolver *r, const char *addr)
{
	char canon[TRUST_ADDR_MAX];

	if (trust_addr_canonical(addr, canon) < 0)
		return -EINVAL;
	for (size_t i = 0; i < r->naddr; i++)
		if (strcmp(r->addr[i], canon) == 0)
			return 0;
	if (r->naddr == DS_MAX_UPSTREAM_ADDRS)
		return -E2BIG;
	memcpy(r->addr[r->naddr++], canon, sizeof(canon));
	return 0;
}

int trust_resolver_add_tlsa(struct trust_resolver *r, const struct ds_tlsa *in)
{
	struct ds_tlsa *t;

	if (in->len == 0 || in->len > DS_TLSA_DATA_MAX || in->data == NULL)
		return -EINVAL;
	for (size_t i = 0; i < r->ntlsa; i++) {
		t = &r->tlsa[i];
		if (t->usage == in->usage && t->selector == in->selector &&
		    t->mtype == in->mtype && t->len == in->len &&
		    memcmp(t->data, in->data, in->len) == 0)
			return 0;
	}
	if (r->ntlsa == DS_MAX_TLSA)
		return -E2BIG;
	t = &r->tlsa[r->ntlsa];
	t->data = malloc(in->len);
	if (!t->data)
		return -ENOMEM;
	memcpy(t->data, in->data, in->len);
	t->usage = in->usage;
	t->selector = in->selector;
	t->mtype = in->mtype;
	t->len = in->len;
	r->ntlsa++;
	return 0;
}

int trust_resolver_add_tlsa_text(struct trust_resolver *r, const char *text)
{
	uint8_t *data;
	unsigned long u, s, m;
	char num[3][4];
	const char *p = text;
	size_t hexlen;
	int ret;

	for (int i = 0; i < 3; i++) {
		const char *sp = strchr(p, ' ');

		if (!sp || sp == p || (size_t)(sp - p) >= sizeof(num[i]))
			return -EINVAL;
		memcpy(num[i], p, (size_t)(sp - p));
		num[i][sp - p] = '\0';
		p = sp + 1;
	}
	if (trust_parse_uint(num[0], 255, &u) < 0 || trust_parse_uint(num[1], 255, &s) < 0 ||
	    trust_parse_uint(num[2], 255, &m) < 0)
		return -EINVAL;
	hexlen = strnlen(p, 2 * DS_TLSA_DATA_MAX + 1);
	if (hexlen == 0 || hexlen % 2 || hexlen > 2 * DS_TLSA_DATA_MAX)
		return -EINVAL;
	data = malloc(hexlen / 2);
	if (!data)
		return -ENOMEM;
	ret = ds_hex_decode(p, hexlen, data, hexlen / 2);
	if (ret == 0) {
		struct ds_tlsa t = { (uint8_t)u, (uint8_t)s, (uint8_t)m, (uint16_t)(hexlen / 2),
				     data };

		ret = trust_resolver_add_tlsa(r, &t);
	}
	free(data);
	return ret;
}

int trust_resolver_copy(struct trust_resolver *dst, const struct trust_resolver *src)
{
	trust_resolver_clear(dst);
	memcpy(dst->name, src->name, sizeof(dst->name));
	dst->type = src->type;
	dst->refreshed = src->refreshed;
	memcpy(dst->addr, src->addr, sizeof(dst->addr));
	dst->naddr = src->naddr;
	for (size_t i = 0; i < src->ntlsa; i++) {
		int r = trust_resolver_add_tlsa(dst, &src->tlsa[i]);

		if (r < 0) {
			trust_resolver_clear(dst);
			return r;
		}
	}
	return 0;
}

/* ---- anchors ---- */

struct trust_anchor *trust_anchor_new(void)
{
	return calloc(1, sizeof(struct trust_anchor));
}

void trust_anchor_free(struct trust_anchor *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nresolvers; i++)
		trust_resolver_clear(&a->resolvers[i]);
	free(a->resolvers);
	free(a->networks);
	free(a);
}

int trust_anchor_set_key(struct trust_anchor *a, const struct trust_dnskey *k)
{
	uint8_t sha[TRUST_SHA256_LEN];
	int r = trust_dnskey_sha256(k, sha);

	if (r < 0)
		return r;
	a->key = *k;
	a->tag = trust_dnskey_tag(k);
	memcpy(a->sha256, sha, sizeof(sha));
	return 0;
}

struct trust_resolver *trust_anchor_resolver(struct trust_anchor *a, const char *name)
{
	for (size_t i = 0; i < a->nresolvers; i++)
		if (strcmp(a->resolvers[i].name, name) == 0)
			return &a->resolvers[i];
	return NULL;
}

bool trust_fp_valid(const char *fp)
{
	size_t len = strnlen(fp, TRUST_FP_MAX + 1);

	if (len == 0 || len > TRUST_FP_MAX || fp[0] == ' ' || fp[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++)
		if (fp[i] < 0x20 || fp[i] > 0x7e)
			return false;
	return true;
}

/* The network seen least recently goes first ("oldest unused"). */
static size_t oldest_network(const struct trust_anchor *a)
{
	size_t o = 0;

	for (size_t i = 1; i < a->nnetworks; i++) {
		const struct trust_network *n = &a->networks[i], *m = &a->networks[o];

		if (n->last_seen < m->last_seen ||
		    (n->last_seen == m->last_seen && n->first_seen < m->first_seen))
			o = i;
	}
	return o;
}

static void drop_network(struct trust_anchor *a, size_t i)
{
	memmove(&a->networks[i], &a->networks[i + 1],
		(a->nnetworks - i - 1) * sizeof(a->networks[0]));
	a->nnetworks--;
}

int trust_anchor_add_network(struct trust_anchor *a, const char *fp, time_t first, time_t last,
			     unsigned cap)
{
	struct trust_network *n;

	if (!trust_fp_valid(fp))
		return -EINVAL;
	for (size_t i = 0; i < a->nnetworks; i++) {
		n = &a->networks[i];
		if (strcmp(n->fp, fp) == 0) {
			if (first < n->first_seen)
				n->first_seen = first;
			if (last > n->last_seen)
				n->last_seen = last;
			return 0;
		}
	}
	if (a->nnetworks >= cap)
		drop_network(a, oldest_network(a));
	if (a->nnetworks >= cap) /* cap 0 cannot happen; be safe */
		return -E2BIG;
	n = realloc(a->networks, (a->nnetworks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	a->networks = n;
	n = &a->networks[a->nnetworks++];
	memset(n, 0, sizeof(*n));
	strcpy(n->fp, fp);
	n->first_seen = first;
	n->last_seen = last;
	return 0;
}

/* ---- the store ---- */

struct trust_store *trust_store_new_memory(unsigned max_networks)
{
	struct trust_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->memory = true;
	s->dir_fd = -1;
	s->max_networks = max_networks && max_networks <= TRUST_MAX_NETWORKS
				  ? max_networks : TRUST_DEFAULT_NETWORKS;
	return s;
}

void trust_store_clear(struct trust_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		trust_anchor_free(s->anchors[i]);
	s->n = 0;
	free(s->dpins);
	s->dpins = NULL;
	s->ndpins = 0;
}

void trust_store_close(struct trust_store *s)
{
	if (!s)
		return;
	trust_store_clear(s);
	free(s->anchors);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s->dir);
	free(s->path);
	free(s->lock_path);
	free(s);
}

void trust_store_move(struct trust_store *dst, struct trust_store *src)
{
	trust_store_clear(dst);
	free(dst->anchors);
	dst->anchors = src->anchors;
	dst->n = src->n;
	dst->cap = src->cap;
	src->anchors = NULL;
	src->n = src->cap = 0;
	dst->dpins = src->dpins;
	dst->ndpins = src->ndpins;
	src->dpins = NULL;
	src->ndpins = 0;
}

int trust_store_append(struct trust_store *s, struct trust_anchor *a)
{
	if (s->n == TRUST_MAX_ANCHORS)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct trust_anchor **p = realloc(s->anchors, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->anchors = p;
		s->cap = cap;
	}
	s->anchors[s->n++] = a;
	return 0;
}

ssize_t trust_store_index(const struct trust_store *s, const struct trust_anchor *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->anchors[i] == a)
			return (ssize_t)i;
	return -ENOENT;
}

static struct trust_anchor *mutable_anchor(struct trust_store *s, const struct trust_anchor *a)
{
	ssize_t i = a ? trust_store_index(s, a) : -ENOENT;

	return i < 0 ? NULL : s->anchors[i];
}

size_t trust_store_count(const struct trust_store *s)
{
	return s->n;
}

const struct trust_anchor *trust_store_anchor(const struct trust_store *s, size_t i)
{
	return i < s->n ? s->anchors[i] : NULL;
}

void trust_store_set_journal(struct trust_store *s, const struct trust_journal *j)
{
	if (j)
		s->journal = *j;
	else
		memset(&s->journal, 0, sizeof(s->journal));
}

void trust_journal_note(const struct trust_store *s, const struct trust_change *c)
{
	if (s->journal.change)
		s->journal.change(s->journal.arg, c);
}

/* A change of one anchor, for the journal. */
static void note_anchor(const struct trust_store *s, enum trust_change_kind kind,
			const struct trust_anchor *a, time_t now)
{
	struct trust_change c = { .kind = kind, .anchor = a, .now = now };

	trust_journal_note(s, &c);
}

/* ---- normalising: duplicates merged, caps applied, order fixed ---- */

/* The stricter state wins when two copies of an anchor disagree. */
static int state_strictness(enum trust_state st)
{
	switch (st) {
	case TRUST_STATE_REVOKED: return 0;
	case TRUST_STATE_PENDING: return 1;
	case TRUST_STATE_ADD_PENDING: return 2;
	case TRUST_STATE_TRUSTED: return 3;
	default: return 4;
	}
}

static int merge_resolver(struct trust_anchor *dst, const struct trust_resolver *r)
{
	struct trust_resolver *have = trust_anchor_resolver(dst, r->name), *p;

	if (have) /* the more recently validated copy wins whole */
		return have->refreshed < r->refreshed ? trust_resolver_copy(have, r) : 0;
	if (dst->nresolvers == TRUST_MAX_RESOLVERS)
		return -E2BIG;
	p = realloc(dst->resolvers, (dst->nresolvers + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	dst->resolvers = p;
	p = &dst->resolvers[dst->nresolvers];
	trust_resolver_init(p);
	if (trust_resolver_copy(p, r) < 0)
		return -ENOMEM;
	dst->nresolvers++;
	return 0;
}

static int merge_anchor(struct trust_anchor *dst, const struct trust_anchor *src, unsigned cap)
{
	int r;

	if (src->first_seen < dst->first_seen)
		dst->first_seen = src->first_seen;
	if (src->last_seen > dst->last_seen)
		dst->last_seen = src->last_seen;
	if (state_strictness(src->state) < state_strictness(dst->state) ||
	    (src->state == TRUST_STATE_ADD_PENDING && dst->state == src->state &&
	     src->add_pending_since > dst->add_pending_since)) {
		dst->state = src->state;
		dst->add_pending_since = src->add_pending_since;
		memcpy(dst->introduced_by, src->introduced_by, sizeof(dst->introduced_by));
	}
	dst->managed = dst->managed || src->managed;
	for (size_t i = 0; i < src->nresolvers; i++)
		if ((r = merge_resolver(dst, &src->resolvers[i])) < 0)
			return r;
	for (size_t i = 0; i < src->nnetworks; i++) {
		const struct trust_network *n = &src->networks[i];

		r = trust_anchor_add_network(dst, n->fp, n->first_seen, n->last_seen, cap);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool same_anchor(const struct trust_anchor *a, const struct trust_anchor *b)
{
	return memcmp(a->sha256, b->sha256, TRUST_SHA256_LEN) == 0 &&
	       strcmp(a->zone, b->zone) == 0;
}

static int cmp_anchor(const void *pa, const void *pb)
{
	const struct trust_anchor *a = *(struct trust_anchor *const *)pa;
	const struct trust_anchor *b = *(struct trust_anchor *const *)pb;
	int c = strcmp(a->zone, b->zone);

	if (c)
		return c;
	if (a->first_seen != b->first_seen)
		return a->first_seen < b->first_seen ? -1 : 1;
	return memcmp(a->sha256, b->sha256, TRUST_SHA256_LEN);
}

static int cmp_resolver(const void *pa, const void *pb)
{
	return strcmp(((const struct trust_resolver *)pa)->name,
		      ((const struct trust_resolver *)pb)->name);
}

static int cmp_network(const void *pa, const void *pb)
{
	const struct trust_network *a = pa, *b = pb;

	if (a->first_seen != b->first_seen)
		return a->first_seen < b->first_seen ? -1 : 1;
	return strcmp(a->fp, b->fp);
}

int trust_store_normalize(struct trust_store *s)
{
	size_t out = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct trust_anchor *a = s->anchors[i];
		size_t j;
		int r;

		for (j = 0; j < out; j++)
			if (same_anchor(s->anchors[j], a))
				break;
		if (j == out) {
			s->anchors[out++] = a;
			continue;
		}
		r = merge_anchor(s->anchors[j], a, s->max_networks);
		if (r < 0) {
			/* keep every anchor owned: put the rest back in place */
			memmove(&s->anchors[out], &s->anchors[i], (s->n - i) * sizeof(a));
			s->n = out + (s->n - i);
			return r;
		}
		trust_anchor_free(a);
	}
	s->n = out;
	for (size_t i = 0; i < s->n; i++) {
		struct trust_anchor *a = s->anchors[i];

		while (a->nnetworks > s->max_networks)
			drop_network(a, oldest_network(a));
		if (a->nresolvers > 1)
			qsort(a->resolvers, a->nresolvers, sizeof(a->resolvers[0]), cmp_resolver);
		if (a->nnetworks > 1)
			qsort(a->networks, a->nnetworks, sizeof(a->networks[0]), cmp_network);
	}
	if (s->n > 1)
		qsort(s->anchors, s->n, sizeof(s->anchors[0]), cmp_anchor);
	return 0;
}

/* ---- lookups ---- */

/* Start position for an iterator: just after "after", or 0. */
static size_t iter_start(const struct trust_store *s, const struct trust_anchor *after)
{
	ssize_t i;

	if (!after)
		return 0;
	i = trust_store_index(s, after);
	return i < 0 ? s->n : (size_t)i + 1;
}

const struct trust_anchor *trust_store_lookup(const struct trust_store *s, const char *zone,
					      const struct trust_dnskey *k)
{
	char canon[TRUST_NAME_MAX + 1];

	if (trust_name_canonical(zone, canon) < 0)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct trust_anchor *a = s->anchors[i];

		if (strcmp(a->zone, canon) == 0 && trust_dnskey_equal(&a->key, k))
			return a;
	}
	return NULL;
}

bool trust_store_is_known(const struct trust_store *s, const char *zone,
			  const struct trust_dnskey *k)
{
	const struct trust_anchor *a = trust_store_lookup(s, zone, k);

	return a && (a->state == TRUST_STATE_TRUSTED || a->state == TRUST_STATE_MANAGED);
}

const struct trust_anchor *trust_store_find_tag(const struct trust_store *s, uint16_t tag,
						const struct trust_anchor *after)
{
	for (size_t i = iter_start(s, after); i < s->n; i++)
		if (s->anchors[i]->tag == tag)
			return s->anchors[i];
	return NULL;
}

const struct trust_anchor *trust_store_find_resolver(const struct trust_store *s,
						     const char *name,
						     const struct trust_anchor *after)
{
	char canon[TRUST_NAME_MAX + 1];

	if (trust_name_canonical(name, canon) < 0)
		return NULL;
	for (size_t i = iter_start(s, after); i < s->n; i++)
		if (trust_anchor_resolver(s->anchors[i], canon))
			return s->anchors[i];
	return NULL;
}

const struct trust_anchor *trust_store_find_network(const struct trust_store *s, const char *fp,
						    const struct trust_anchor *after)
{
	for (size_t i = iter_start(s, after); i < s->n; i++) {
		const struct trust_anchor *a = s->anchors[i];

		for (size_t j = 0; j < a->nnetworks; j++)
			if (strcmp(a->networks[j].fp, fp) == 0)
				return a;
	}
	return NULL;
}

int trust_store_find_sha256(const struct trust_store *s, const char *hex,
			    const struct trust_anchor **ret)
{
	const struct trust_anchor *found = NULL;
	char want[2 * TRUST_SHA256_LEN + 1], have[2 * TRUST_SHA256_LEN + 1];
	size_t len = strnlen(hex, sizeof(want));

	if (len < 4 || len > 2 * TRUST_SHA256_LEN)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = hex[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
		want[i] = c;
	}
	for (size_t i = 0; i < s->n; i++) {
		ds_hex_encode(s->anchors[i]->sha256, TRUST_SHA256_LEN, have);
		if (memcmp(have, want, len) != 0)
			continue;
		if (found)
			return -ENOTUNIQ;
		found = s->anchors[i];
	}
	if (!found)
		return -ENOENT;
	*ret = found;
	return 0;
}

/* ---- changes ---- */

static void note_pin(const struct trust_store *s, const char *zone, const struct trust_dnskey *k,
		     enum trust_state state, time_t now)
{
	struct trust_change c = {
		.kind = TRUST_CHANGE_PIN, .zone = zone, .key = k, .state = state, .now = now,
	};

	trust_journal_note(s, &c);
}

int trust_store_pin(struct trust_store *s, const char *zone, const struct trust_dnskey *k,
		    enum trust_state state, time_t now, const struct trust_anchor **ret)
{
	char canon[TRUST_NAME_MAX + 1];
	struct trust_anchor *a;
	int r;

	if (trust_name_canonical(zone, canon) < 0 || trust_dnskey_check(k) < 0 ||
	    (k->flags & TRUST_DNSKEY_REVOKE) ||
	    (state != TRUST_STATE_TRUSTED && state != TRUST_STATE_PENDING))
		return -EINVAL;
	a = mutable_anchor(s, trust_store_lookup(s, canon, k));
	if (a) {
		if (a->state == TRUST_STATE_REVOKED)
			return -EKEYREVOKED;
		if (now > a->last_seen)
			a->last_seen = now;
		note_pin(s, canon, k, state, now);
		if (ret)
			*ret = a;
		return 0;
	}
	a = trust_anchor_new();
	if (!a)
		return -ENOMEM;
	memcpy(a->zone, canon, sizeof(canon));
	a->state = state;
	a->first_seen = a->last_seen = now;
	r = trust_anchor_set_key(a, k);
	if (r == 0)
		r = trust_store_append(s, a);
	if (r < 0) {
		trust_anchor_free(a);
		return r;
	}
	note_pin(s, canon, k, state, now);
	if (ret)
		*ret = a;
	return 1;
}

int trust_store_approve(struct trust_store *s, const struct trust_anchor *ca)
{
	struct trust_anchor *a = mutable_anchor(s, ca);

	if (!a)
		return -ENOENT;
	if (a->managed || a->state == TRUST_STATE_MANAGED)
		return -EPERM;
	if (a->state == TRUST_STATE_REVOKED)
		return -EKEYREVOKED;
	a->state = TRUST_STATE_TRUSTED;
	a->add_pending_since = 0;
	memset(a->introduced_by, 0, sizeof(a->introduced_by));
	note_anchor(s, TRUST_CHANGE_APPROVE, a, 0);
	return 0;
}

int trust_store_forget(struct trust_store *s, const struct trust_anchor *ca)
{
	ssize_t i = ca ? trust_store_index(s, ca) : -ENOENT;

	if (i < 0)
		return -ENOENT;
	if (s->anchors[i]->managed)
		return -EPERM;
	note_anchor(s, TRUST_CHANGE_FORGET, s->anchors[i], 0);
	trust_anchor_free(s->anchors[i]);
	memmove(&s->anchors[i], &s->anchors[i + 1], (s->n - (size_t)i - 1) * sizeof(s->anchors[0]));
	s->n--;
	return 0;
}

int trust_store_revoke(struct trust_store *s, const struct trust_anchor *ca, time_t now)
{
	struct trust_anchor *a = mutable_anchor(s, ca);

	if (!a)
		return -ENOENT;
	if (a->managed)
		return -EPERM;
	a->state = TRUST_STATE_REVOKED;
	a->add_pending_since = 0;
	memset(a->introduced_by, 0, sizeof(a->introduced_by));
	if (now > a->last_seen)
		a->last_seen = now;
	note_anchor(s, TRUST_CHANGE_REVOKE, a, now);
	return 0;
}

int trust_store_touch(struct trust_store *s, const struct trust_anchor *ca, time_t now)
{
	struct trust_anchor *a = mutable_anchor(s, ca);

	if (!a)
		return -ENOENT;
	if (now > a->last_seen)
		a->last_seen = now;
	note_anchor(s, TRUST_CHANGE_TOUCH, a, now);
	return 0;
}

int trust_store_seen_network(struct trust_store *s, const struct trust_anchor *ca, const char *fp,
			     time_t now)
{
	struct trust_anchor *a = mutable_anchor(s, ca);
	struct trust_change c = { .kind = TRUST_CHANGE_NETWORK, .anchor = a, .fp = fp, .now = now };
	int r;

	if (!a)
		return -ENOENT;
	r = trust_anchor_add_network(a, fp, now, now, s->max_networks);
	if (r == 0)
		trust_journal_note(s, &c);
	return r;
}

static int resolver_valid(const struct trust_resolver *r)
{
	char canon[TRUST_NAME_MAX + 1], addr[TRUST_ADDR_MAX];

	if (trust_name_canonical(r->name, canon) < 0 || strcmp(canon, r->name) != 0 ||
	    r->naddr > DS_MAX_UPSTREAM_ADDRS || r->ntlsa > DS_MAX_TLSA ||
	    (unsigned)r->type > DS_SERVER_FORWARDER)
		return -EINVAL;
	for (size_t i = 0; i < r->naddr; i++)
		if (trust_addr_canonical(r->addr[i], addr) < 0 || strcmp(addr, r->addr[i]) != 0)
			return -EINVAL;
	for (size_t i = 0; i < r->ntlsa; i++)
		if (r->tlsa[i].len == 0 || r->tlsa[i].len > DS_TLSA_DATA_MAX)
			return -EINVAL;
	return 0;
}

static void note_learn(const struct trust_store *s, const struct trust_anchor *a,
		       const struct trust_resolver *r, time_t now)
{
	struct trust_change c = { .kind = TRUST_CHANGE_LEARN, .anchor = a, .resolver = r, .now = now };

	trust_journal_note(s, &c);
}

int trust_store_learn_resolver(struct trust_store *s, const struct trust_anchor *ca,
			       const struct trust_resolver *r, time_t now)
{
	struct trust_anchor *a = mutable_anchor(s, ca);
	struct trust_resolver copy, *have;
	int ret;

	if (!a)
		return -ENOENT;
	if (resolver_valid(r) < 0)
		return -EINVAL;
	trust_resolver_init(&copy);
	ret = trust_resolver_copy(&copy, r);
	if (ret < 0)
		return ret;
	copy.refreshed = now;
	have = trust_anchor_resolver(a, r->name);
	if (have) {
		trust_resolver_clear(have);
		*have = copy; /* takes the TLSA data */
		note_learn(s, a, have, now);
		return 0;
	}
	ret = merge_resolver(a, &copy);
	trust_resolver_clear(&copy);
	if (ret == 0)
		note_learn(s, a, trust_anchor_resolver(a, r->name), now);
	return ret;
}
