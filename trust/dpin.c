/*
 * dpin.c -- the keys of designated resolvers (DDR, DNR) pinned per
 * network on first use (format and rules: trust.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"
#include "trust-int.h"

const char *trust_dpin_source_name(enum trust_dpin_source src)
{
	return src == TRUST_DPIN_DNR ? "dnr" : "ddr";
}

int trust_dpin_source_parse(const char *s, enum trust_dpin_source *ret)
{
	if (!strcmp(s, "ddr"))
		*ret = TRUST_DPIN_DDR;
	else if (!strcmp(s, "dnr"))
		*ret = TRUST_DPIN_DNR;
	else
		return -EINVAL;
	return 0;
}

size_t trust_store_dpin_count(const struct trust_store *s)
{
	return s->ndpins;
}

const struct trust_dpin *trust_store_dpin(const struct trust_store *s, size_t i)
{
	return i < s->ndpins ? &s->dpins[i] : NULL;
}

static ssize_t dpin_index(const struct trust_store *s, const char *fp)
{
	for (size_t i = 0; i < s->ndpins; i++)
		if (!strcmp(s->dpins[i].fp, fp))
			return (ssize_t)i;
	return -ENOENT;
}

const struct trust_dpin *trust_store_find_dpin(const struct trust_store *s, const char *fp)
{
	ssize_t i = fp ? dpin_index(s, fp) : -ENOENT;

	return i < 0 ? NULL : &s->dpins[i];
}

int trust_store_find_dpin_sha256(const struct trust_store *s, const char *hex,
				 const struct trust_dpin **ret)
{
	const struct trust_dpin *found = NULL;
	char have[2 * TRUST_SHA256_LEN + 1];
	size_t len = strnlen(hex, sizeof(have));

	if (len < 4 || len > 2 * TRUST_SHA256_LEN || strspn(hex, "0123456789abcdefABCDEF") != len)
		return -EINVAL;
	for (size_t i = 0; i < s->ndpins; i++) {
		ds_hex_encode(s->dpins[i].spki, TRUST_SHA256_LEN, have);
		if (strncasecmp(have, hex, len) != 0)
			continue;
		if (found)
			return -ENOTUNIQ;
		found = &s->dpins[i];
	}
	if (!found)
		return -ENOENT;
	*ret = found;
	return 0;
}

static bool spki_zero(const uint8_t spki[TRUST_SHA256_LEN])
{
	uint8_t z = 0;

	for (size_t i = 0; i < TRUST_SHA256_LEN; i++)
		z |= spki[i];
	return z == 0;
}

static int dpin_cmp(const void *pa, const void *pb)
{
	const struct trust_dpin *a = pa, *b = pb;

	return strcmp(a->fp, b->fp);
}

int trust_store_add_dpin(struct trust_store *s, const struct trust_dpin *p)
{
	struct trust_dpin *n;
	ssize_t i = dpin_index(s, p->fp);

	if (i >= 0) {
		struct trust_dpin *o = &s->dpins[i];

		if (memcmp(o->spki, p->spki, TRUST_SHA256_LEN) != 0)
			return -EEXIST;
		if (p->first_seen < o->first_seen)
			o->first_seen = p->first_seen;
		if (p->last_seen > o->last_seen)
			o->last_seen = p->last_seen;
		if (p->key_changed > o->key_changed)
			o->key_changed = p->key_changed;
		return 0;
	}
	if (s->ndpins >= TRUST_MAX_DPINS)
		return -E2BIG;
	n = realloc(s->dpins, (s->ndpins + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->dpins = n;
	s->dpins[s->ndpins++] = *p;
	qsort(s->dpins, s->ndpins, sizeof(*s->dpins), dpin_cmp);
	return 0;
}

/* A pin made of the arguments, checked; 0 or -EINVAL. */
static int dpin_make(struct trust_dpin *p, const char *fp, enum trust_dpin_source source,
		     const char *adn, const uint8_t spki[TRUST_SHA256_LEN], time_t now)
{
	memset(p, 0, sizeof(*p));
	if (!fp || !trust_fp_valid(fp) || strlen(fp) > TRUST_FP_MAX ||
	    (source != TRUST_DPIN_DDR && source != TRUST_DPIN_DNR) || spki_zero(spki) ||
	    trust_name_canonical(adn, p->adn) < 0)
		return -EINVAL;
	strcpy(p->fp, fp);
	p->source = source;
	memcpy(p->spki, spki, TRUST_SHA256_LEN);
	p->first_seen = p->last_seen = now;
	return 0;
}

int trust_store_pin_designated(struct trust_store *s, const char *fp,
			       enum trust_dpin_source source, const char *adn,
			       const uint8_t spki[TRUST_SHA256_LEN], time_t now,
			       const struct trust_dpin **ret)
{
	struct trust_dpin p;
	struct trust_change c = { .kind = TRUST_CHANGE_DPIN, .now = now };
	ssize_t i;
	int r, added;

	if (dpin_make(&p, fp, source, adn, spki, now) < 0)
		return -EINVAL;
	added = dpin_index(s, fp) < 0;
	if ((r = trust_store_add_dpin(s, &p)) < 0)
		return r;
	i = dpin_index(s, fp);
	c.dpin = &s->dpins[i];
	trust_journal_note(s, &c);
	if (ret)
		*ret = &s->dpins[i];
	return added;
}

int trust_store_replace_designated(struct trust_store *s, const char *fp,
				   enum trust_dpin_source source, const char *adn,
				   const uint8_t spki[TRUST_SHA256_LEN], time_t now,
				   const struct trust_dpin **ret)
{
	struct trust_dpin p, *o;
	struct trust_change c = { .kind = TRUST_CHANGE_DPIN_REPLACE, .now = now };
	ssize_t i;
	int replaced;

	if (dpin_make(&p, fp, source, adn, spki, now) < 0)
		return -EINVAL;
	if ((i = dpin_index(s, fp)) < 0)
		return -ENOENT;
	o = &s->dpins[i];
	if (strcmp(o->adn, p.adn) != 0)
		return -EPERM;
	/* a clock set back never dates the change before the pin: the file
	 * would not read back */
	if (now < o->first_seen)
		now = o->first_seen;
	replaced = memcmp(o->spki, p.spki, TRUST_SHA256_LEN) != 0;
	if (replaced) {
		memcpy(o->spki, p.spki, TRUST_SHA256_LEN);
		o->source = p.source;
		o->key_changed = now;
	}
	if (now > o->last_seen)
		o->last_seen = now;
	c.dpin = o;
	trust_journal_note(s, &c);
	if (ret)
		*ret = o;
	return replaced;
}

int trust_store_forget_designated(struct trust_store *s, const struct trust_dpin *p)
{
	struct trust_change c = { .kind = TRUST_CHANGE_DPIN_FORGET };
	size_t i;

	if (!p || p < s->dpins || p >= s->dpins + s->ndpins)
		return -ENOENT;
	i = (size_t)(p - s->dpins);
	c.dpin = p;
	trust_journal_note(s, &c);
	memmove(&s->dpins[i], &s->dpins[i + 1], (s->ndpins - i - 1) * sizeof(*s->dpins));
	s->ndpins--;
	return 0;
}
