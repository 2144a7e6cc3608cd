/*
 * storefile.c -- the text form of the anchor store (format: trust.h):
 * the writer, and a strict parser that treats every byte as hostile.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"
#include "trust-int.h"

#define HEADER_WORD "dotstub-trust"

/* ---- writer ---- */

struct outbuf {
	char *buf;
	size_t len, cap;
	int err; /* sticky: 0 or -ENOMEM / -E2BIG */
};

static void out_printf(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0) {
			o->err = -EINVAL;
			return;
		}
		if (o->buf && (size_t)n < o->cap - o->len)
			break;
		if (o->len + (size_t)n + 1 > TRUST_FILE_MAX) {
			o->err = -E2BIG;
			return;
		}
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(o->buf, cap);
		if (!p) {
			o->err = -ENOMEM;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
	o->len += (size_t)n;
}

static void write_resolver(struct outbuf *o, const struct trust_resolver *r)
{
	char t[TRUST_TIME_LEN + 1];
	char *hex;

	trust_time_format(r->refreshed, t);
	out_printf(o, "\tresolver %s %s %s\n", r->name, ds_server_type_name(r->type), t);
	for (size_t i = 0; i < r->naddr; i++)
		out_printf(o, "\taddress %s %s\n", r->name, r->addr[i]);
	hex = malloc(2 * DS_TLSA_DATA_MAX + 1);
	if (!hex) {
		o->err = o->err ? o->err : -ENOMEM;
		return;
	}
	for (size_t i = 0; i < r->ntlsa; i++) {
		const struct ds_tlsa *tl = &r->tlsa[i];

		ds_hex_encode(tl->data, tl->len, hex);
		out_printf(o, "\ttlsa %s %u %u %u %s\n", r->name, tl->usage, tl->selector, tl->mtype,
			   hex);
	}
	free(hex);
}

static void write_anchor(struct outbuf *o, const struct trust_anchor *a)
{
	char key[32 + (TRUST_KEY_MAX + 2) / 3 * 4 + 1], hex[2 * TRUST_SHA256_LEN + 1];
	char t1[TRUST_TIME_LEN + 1], t2[TRUST_TIME_LEN + 1];

	if (trust_dnskey_format(&a->key, key, sizeof(key)) < 0) {
		o->err = -EINVAL;
		return;
	}
	ds_hex_encode(a->sha256, TRUST_SHA256_LEN, hex);
	out_printf(o, "anchor %s %s\n\ttag %u\n\talgorithm %u\n\tsha256 %s\n\tstate %s\n", a->zone,
		   key, a->tag, a->key.algorithm, hex, trust_state_name(a->state));
	if (a->state == TRUST_STATE_ADD_PENDING) {
		trust_time_format(a->add_pending_since, t1);
		ds_hex_encode(a->introduced_by, TRUST_SHA256_LEN, hex);
		out_printf(o, "\tadd-pending-since %s\n\tintroduced-by %s\n", t1, hex);
	}
	trust_time_format(a->first_seen, t1);
	trust_time_format(a->last_seen, t2);
	out_printf(o, "\tfirst-seen %s\n\tlast-seen %s\n", t1, t2);
	for (size_t i = 0; i < a->nresolvers; i++)
		write_resolver(o, &a->resolvers[i]);
	for (size_t i = 0; i < a->nnetworks; i++) {
		trust_time_format(a->networks[i].first_seen, t1);
		trust_time_format(a->networks[i].last_seen, t2);
		out_printf(o, "\tnetwork %s %s %s\n", t1, t2, a->networks[i].fp);
	}
}

static void write_dpin(struct outbuf *o, const struct trust_dpin *p, bool changed_field)
{
	char hex[2 * TRUST_SHA256_LEN + 1], t1[TRUST_TIME_LEN + 1], t2[TRUST_TIME_LEN + 1],
		t3[TRUST_TIME_LEN + 1] = "-";

	ds_hex_encode(p->spki, TRUST_SHA256_LEN, hex);
	trust_time_format(p->first_seen, t1);
	trust_time_format(p->last_seen, t2);
	if (p->key_changed)
		trust_time_format(p->key_changed, t3);
	if (changed_field)
		out_printf(o, "designated %s %s %s %s %s %s %s\n", trust_dpin_source_name(p->source),
			   hex, p->adn, t1, t2, t3, p->fp);
	else
		out_printf(o, "designated %s %s %s %s %s %s\n", trust_dpin_source_name(p->source),
			   hex, p->adn, t1, t2, p->fp);
}

/* The version the store needs: 1, 2 with designated pins, 3 when one of
 * them had its key replaced. */
static int store_version(const struct trust_store *s)
{
	int v = s->ndpins ? TRUST_STORE_VERSION_DPIN : TRUST_STORE_VERSION;

	for (size_t i = 0; i < s->ndpins; i++)
		if (s->dpins[i].key_changed)
			v = TRUST_STORE_VERSION_REPIN;
	return v;
}

int trust_store_format(const struct trust_store *s, char **ret_text, size_t *ret_len)
{
	struct outbuf o = { 0 };
	int v = store_version(s);

	out_printf(&o, "%s %d\n", HEADER_WORD, v);
	out_printf(&o, "# dotstub trust anchors, written by dotstub: review with "
		       "\"dotctl trust list\".\n");
	for (size_t i = 0; i < s->n; i++)
		write_anchor(&o, s->anchors[i]);
	for (size_t i = 0; i < s->ndpins; i++)
		write_dpin(&o, &s->dpins[i], v == TRUST_STORE_VERSION_REPIN);
	if (o.err) {
		free(o.buf);
		return o.err;
	}
	*ret_text = o.buf;
	*ret_len = o.len;
	return 0;
}

/* ---- parser ---- */

enum {
	SEEN_TAG = 1 << 0,
	SEEN_ALG = 1 << 1,
	SEEN_SHA = 1 << 2,
	SEEN_STATE = 1 << 3,
	SEEN_SINCE = 1 << 4,
	SEEN_BY = 1 << 5,
	SEEN_FIRST = 1 << 6,
	SEEN_LAST = 1 << 7,
};

struct parser {
	struct trust_store *s; /* being filled */
	struct trust_anchor *cur;
	unsigned seen;      /* SEEN_* of cur */
	unsigned line;
	unsigned anchor_line; /* where cur started: errors of the block point there */
	unsigned long version; /* the header's */
	char *msg;
	size_t msglen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->msg && p->msglen) {
		int n = snprintf(p->msg, p->msglen, "line %u: ", p->line);

		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < p->msglen)
			vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

#define MAX_TOKENS 8

/* Split at single spaces into at most max tokens; the last token takes
 * the rest of the line.  Empty tokens (double or edge spaces) are errors. */
static int tokens(struct parser *p, char *s, char **tok, size_t max, size_t *ret_n)
{
	size_t n = 0;

	*ret_n = 0;
	for (;;) {
		char *sp = n + 1 < max ? strchr(s, ' ') : NULL;

		if (sp == s || *s == '\0')
			return fail(p, "empty field (use exactly one space between fields)");
		tok[n++] = s;
		if (!sp)
			break;
		*sp = '\0';
		s = sp + 1;
	}
	*ret_n = n;
	return 0;
}

static int want_tokens(struct parser *p, size_t n, size_t want, const char *key)
{
	if (n != want)
		return fail(p, "\"%s\" needs %zu field(s), has %zu", key, want - 1, n - 1);
	return 0;
}

static int parse_time(struct parser *p, const char *s, const char *what, time_t *ret)
{
	if (trust_time_parse(s, ret) < 0)
		return fail(p, "%s: bad time \"%.32s\" (want YYYY-MM-DDThh:mm:ssZ)", what, s);
	return 0;
}

static int parse_sha(struct parser *p, const char *s, const char *what, uint8_t out[32])
{
	if (ds_hex_decode(s, strlen(s), out, TRUST_SHA256_LEN) < 0)
		return fail(p, "%s: want 64 hex digits", what);
	return 0;
}

static int parse_canon_name(struct parser *p, const char *s, char out[TRUST_NAME_MAX + 1])
{
	if (trust_name_canonical(s, out) < 0 || strcmp(out, s) != 0)
		return fail(p, "bad name \"%.64s\" (want lower case with the trailing dot)", s);
	return 0;
}

static int finish_anchor(struct parser *p)
{
	struct trust_anchor *a = p->cur;
	static const struct {
		unsigned bit;
		const char *key;
	} required[] = {
		{ SEEN_TAG, "tag" },	       { SEEN_ALG, "algorithm" },
		{ SEEN_SHA, "sha256" },	       { SEEN_STATE, "state" },
		{ SEEN_FIRST, "first-seen" }, { SEEN_LAST, "last-seen" },
	};
	bool addpend;
	int r;

	if (!a)
		return 0;
	p->line = p->anchor_line;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!(p->seen & required[i].bit))
			return fail(p, "anchor %s ends without \"%s\"", a->zone, required[i].key);
	addpend = a->state == TRUST_STATE_ADD_PENDING;
	if (addpend != !!(p->seen & SEEN_SINCE) || addpend != !!(p->seen & SEEN_BY))
		return fail(p, "anchor %s: add-pending-since and introduced-by go with, and only "
			       "with, state add-pending", a->zone);
	if (a->first_seen > a->last_seen)
		return fail(p, "anchor %s: first-seen is after last-seen", a->zone);
	r = trust_store_append(p->s, a);
	if (r == -E2BIG)
		return fail(p, "more than %d anchors", TRUST_MAX_ANCHORS);
	if (r < 0)
		return r;
	p->cur = NULL;
	return 0;
}

static int parse_anchor_line(struct parser *p, char *rest)
{
	struct trust_dnskey k;
	char *tok[6], zone[TRUST_NAME_MAX + 1];
	size_t n = 0;
	int r;

	unsigned line = p->line;

	if ((r = finish_anchor(p)) < 0)
		return r;
	p->line = p->anchor_line = line;
	if ((r = tokens(p, rest, tok, 6, &n)) < 0 || (r = want_tokens(p, n + 1, 6, "anchor")) < 0)
		return r;
	if ((r = parse_canon_name(p, tok[0], zone)) < 0)
		return r;
	/* tok[1..4] hold "flags proto alg b64" with spaces restored */
	for (int i = 1; i < 4; i++)
		tok[i][strlen(tok[i])] = ' ';
	if (trust_dnskey_parse(tok[1], &k) < 0)
		return fail(p, "anchor %s: bad DNSKEY (flags protocol algorithm base64)", zone);
	if (k.flags & TRUST_DNSKEY_REVOKE)
		return fail(p, "anchor %s: the key has the REVOKE flag", zone);
	p->cur = trust_anchor_new();
	if (!p->cur)
		return -ENOMEM;
	p->seen = 0;
	memcpy(p->cur->zone, zone, sizeof(zone));
	return trust_anchor_set_key(p->cur, &k);
}

static int once(struct parser *p, unsigned bit, const char *key)
{
	if (p->seen & bit)
		return fail(p, "\"%s\" given twice", key);
	p->seen |= bit;
	return 0;
}

static struct trust_resolver *declared(struct parser *p, const char *name)
{
	return trust_anchor_resolver(p->cur, name);
}

static int parse_resolver(struct parser *p, char **tok, size_t n)
{
	struct trust_resolver *r;
	char name[TRUST_NAME_MAX + 1];
	enum ds_server_type type;
	time_t t;
	int ret;

	if ((ret = want_tokens(p, n, 4, "resolver")) < 0 ||
	    (ret = parse_canon_name(p, tok[1], name)) < 0 ||
	    (ret = parse_time(p, tok[3], "resolver", &t)) < 0)
		return ret;
	if (ds_server_type_parse(tok[2], &type) < 0)
		return fail(p, "resolver %s: bad type \"%.16s\"", name, tok[2]);
	r = declared(p, name);
	if (r) { /* duplicate: merged, the later refresh wins */
		if (t > r->refreshed) {
			r->refreshed = t;
			r->type = type;
		}
		return 0;
	}
	if (p->cur->nresolvers == TRUST_MAX_RESOLVERS)
		return fail(p, "more than %d resolvers under one anchor", TRUST_MAX_RESOLVERS);
	r = realloc(p->cur->resolvers, (p->cur->nresolvers + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->cur->resolvers = r;
	r = &r[p->cur->nresolvers++];
	trust_resolver_init(r);
	memcpy(r->name, name, sizeof(name));
	r->type = type;
	r->refreshed = t;
	return 0;
}

static int parse_address(struct parser *p, char **tok, size_t n)
{
	struct trust_resolver *r;
	int ret;

	if ((ret = want_tokens(p, n, 3, "address")) < 0)
		return ret;
	if (!(r = declared(p, tok[1])))
		return fail(p, "address for undeclared resolver \"%.64s\"", tok[1]);
	ret = trust_resolver_add_addr(r, tok[2]);
	if (ret == -E2BIG)
		return fail(p, "more than %d addresses for %s", DS_MAX_UPSTREAM_ADDRS, r->name);
	if (ret < 0)
		return fail(p, "bad address \"%.64s\"", tok[2]);
	return 0;
}

static int parse_tlsa(struct parser *p, char **tok, size_t n)
{
	struct trust_resolver *r;
	int ret;

	if ((ret = want_tokens(p, n, 3, "tlsa")) < 0)
		return ret;
	if (!(r = declared(p, tok[1])))
		return fail(p, "tlsa for undeclared resolver \"%.64s\"", tok[1]);
	ret = trust_resolver_add_tlsa_text(r, tok[2]);
	if (ret == -ENOMEM)
		return ret;
	if (ret == -E2BIG)
		return fail(p, "more than %d TLSA records for %s", DS_MAX_TLSA, r->name);
	if (ret < 0)
		return fail(p, "bad TLSA record (want \"U S M HEX\")");
	return 0;
}

static int parse_network(struct parser *p, char **tok, size_t n)
{
	time_t first, last;
	int ret;

	if ((ret = want_tokens(p, n, 4, "network")) < 0 ||
	    (ret = parse_time(p, tok[1], "network", &first)) < 0 ||
	    (ret = parse_time(p, tok[2], "network", &last)) < 0)
		return ret;
	if (first > last)
		return fail(p, "network: first seen is after last seen");
	if (!trust_fp_valid(tok[3]))
		return fail(p, "network: bad fingerprint text");
	if (p->cur->nnetworks >= TRUST_MAX_NETWORKS)
		return fail(p, "more than %d networks under one anchor", TRUST_MAX_NETWORKS);
	/* the configured cap is applied after all lines are read */
	return trust_anchor_add_network(p->cur, tok[3], first, last, TRUST_MAX_NETWORKS);
}

static int parse_number_attr(struct parser *p, char **tok, size_t n, unsigned long max,
			     unsigned long want, const char *key)
{
	unsigned long v;
	int r;

	if ((r = want_tokens(p, n, 2, key)) < 0)
		return r;
	if (trust_parse_uint(tok[1], max, &v) < 0)
		return fail(p, "%s: bad number \"%.16s\"", key, tok[1]);
	if (v != want)
		return fail(p, "%s %lu does not match the key (%lu)", key, v, want);
	return 0;
}

static int parse_attr(struct parser *p, char *s)
{
	struct trust_anchor *a = p->cur;
	char *tok[MAX_TOKENS];
	size_t n = 0;
	uint8_t sha[TRUST_SHA256_LEN];
	int r;

	if (!a)
		return fail(p, "attribute line outside an anchor block");
	/* "network" takes the rest of the line as its last field */
	r = tokens(p, s, tok, strncmp(s, "network ", 8) == 0 ? 4 : MAX_TOKENS, &n);
	if (r < 0)
		return r;
	if (strcmp(tok[0], "tag") == 0) {
		if ((r = once(p, SEEN_TAG, "tag")) < 0)
			return r;
		return parse_number_attr(p, tok, n, 0xffff, a->tag, "tag");
	} else if (strcmp(tok[0], "algorithm") == 0) {
		if ((r = once(p, SEEN_ALG, "algorithm")) < 0)
			return r;
		return parse_number_attr(p, tok, n, 0xff, a->key.algorithm, "algorithm");
	} else if (strcmp(tok[0], "sha256") == 0) {
		if ((r = once(p, SEEN_SHA, "sha256")) < 0 ||
		    (r = want_tokens(p, n, 2, "sha256")) < 0 ||
		    (r = parse_sha(p, tok[1], "sha256", sha)) < 0)
			return r;
		if (memcmp(sha, a->sha256, sizeof(sha)) != 0)
			return fail(p, "sha256 does not match the key");
		return 0;
	} else if (strcmp(tok[0], "state") == 0) {
		if ((r = once(p, SEEN_STATE, "state")) < 0 ||
		    (r = want_tokens(p, n, 2, "state")) < 0)
			return r;
		if (trust_state_parse(tok[1], &a->state) < 0)
			return fail(p, "unknown state \"%.16s\"", tok[1]);
		return 0;
	} else if (strcmp(tok[0], "add-pending-since") == 0) {
		if ((r = once(p, SEEN_SINCE, tok[0])) < 0 || (r = want_tokens(p, n, 2, tok[0])) < 0)
			return r;
		return parse_time(p, tok[1], tok[0], &a->add_pending_since);
	} else if (strcmp(tok[0], "introduced-by") == 0) {
		if ((r = once(p, SEEN_BY, tok[0])) < 0 || (r = want_tokens(p, n, 2, tok[0])) < 0)
			return r;
		return parse_sha(p, tok[1], tok[0], a->introduced_by);
	} else if (strcmp(tok[0], "first-seen") == 0) {
		if ((r = once(p, SEEN_FIRST, tok[0])) < 0 || (r = want_tokens(p, n, 2, tok[0])) < 0)
			return r;
		return parse_time(p, tok[1], tok[0], &a->first_seen);
	} else if (strcmp(tok[0], "last-seen") == 0) {
		if ((r = once(p, SEEN_LAST, tok[0])) < 0 || (r = want_tokens(p, n, 2, tok[0])) < 0)
			return r;
		return parse_time(p, tok[1], tok[0], &a->last_seen);
	} else if (strcmp(tok[0], "resolver") == 0) {
		return parse_resolver(p, tok, n);
	} else if (strcmp(tok[0], "address") == 0) {
		return parse_address(p, tok, n);
	} else if (strcmp(tok[0], "tlsa") == 0) {
		/* "tlsa NAME U S M HEX": rejoin U S M HEX */
		if (n != 6)
			return fail(p, "\"tlsa\" needs 5 fields, has %zu", n - 1);
		for (int i = 2; i < 5; i++)
			tok[i][strlen(tok[i])] = ' ';
		return parse_tlsa(p, tok, 3);
	} else if (strcmp(tok[0], "network") == 0) {
		return parse_network(p, tok, n);
	}
	return fail(p, "unknown key \"%.32s\"", tok[0]);
}

/* "designated SRC HEX ADN FIRST LAST [CHANGED] FP...": ends the anchor
 * block before it; CHANGED (a time or "-") in version 3 only. */
static int parse_dpin_line(struct parser *p, char *rest)
{
	struct trust_dpin d;
	char *tok[7];
	size_t want = p->version == TRUST_STORE_VERSION_REPIN ? 7 : 6, n;
	unsigned line = p->line;
	int r;

	if ((r = finish_anchor(p)) < 0)
		return r;
	p->line = line;
	memset(&d, 0, sizeof(d));
	if ((r = tokens(p, rest, tok, want, &n)) < 0 ||
	    (r = want_tokens(p, n + 1, want + 1, "designated")) < 0)
		return r;
	if (trust_dpin_source_parse(tok[0], &d.source) < 0)
		return fail(p, "designated: source is neither ddr nor dnr");
	if ((r = parse_sha(p, tok[1], "designated", d.spki)) < 0 ||
	    (r = parse_canon_name(p, tok[2], d.adn)) < 0 ||
	    (r = parse_time(p, tok[3], "designated", &d.first_seen)) < 0 ||
	    (r = parse_time(p, tok[4], "designated", &d.last_seen)) < 0)
		return r;
	if (d.first_seen > d.last_seen)
		return fail(p, "designated: first seen is after last seen");
	if (want == 7 && strcmp(tok[5], "-") != 0 &&
	    (r = parse_time(p, tok[5], "designated: key changed", &d.key_changed)) < 0)
		return r;
	if (d.key_changed && (d.key_changed < d.first_seen || d.key_changed > d.last_seen))
		return fail(p, "designated: the key changed outside first and last seen");
	if (!trust_fp_valid(tok[want - 1]) || strlen(tok[want - 1]) > TRUST_FP_MAX)
		return fail(p, "designated: bad fingerprint text");
	strcpy(d.fp, tok[want - 1]);
	r = trust_store_add_dpin(p->s, &d);
	if (r == -EEXIST)
		return fail(p, "designated: two keys for one network");
	if (r == -E2BIG)
		return fail(p, "more than %d designated pins", TRUST_MAX_DPINS);
	return r;
}

static int parse_header(struct parser *p, const char *s)
{
	unsigned long v;
	size_t w = strlen(HEADER_WORD);

	if (strncmp(s, HEADER_WORD " ", w + 1) != 0)
		return fail(p, "not a dotstub trust file (want \"%s %d\")", HEADER_WORD,
			    TRUST_STORE_VERSION);
	if (trust_parse_uint(s + w + 1, 0xffff, &v) < 0)
		return fail(p, "bad version");
	if (v != TRUST_STORE_VERSION && v != TRUST_STORE_VERSION_DPIN &&
	    v != TRUST_STORE_VERSION_REPIN)
		return fail(p, "unsupported version %lu (this dotstub reads %d to %d)", v,
			    TRUST_STORE_VERSION, TRUST_STORE_VERSION_REPIN);
	p->version = v;
	return 0;
}

/* Check one line's octets: printable ASCII; a tab only as the first one. */
static int check_line(struct parser *p, const char *s, size_t len)
{
	if (len > TRUST_LINE_MAX)
		return fail(p, "line longer than %d octets", TRUST_LINE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t' && i == 0)
			continue;
		if (c == '\t' && i == 1 && s[0] == '\t')
			return fail(p, "indent attribute lines with exactly one tab");
		if (c == '\t')
			return fail(p, "tab at column %zu (fields are separated by one space)", i + 1);
		if (c < 0x20 || c > 0x7e)
			return fail(p, "invalid octet 0x%02x at column %zu", c, i + 1);
	}
	return 0;
}

static int parse_lines(struct parser *p, char *text, size_t len)
{
	bool header = false;
	size_t pos = 0;
	int r;

	if (len == 0) {
		p->line = 1;
		return fail(p, "empty file");
	}
	if (text[len - 1] != '\n') {
		p->line = 1;
		for (size_t i = 0; i < len; i++)
			p->line += text[i] == '\n';
		return fail(p, "no newline at the end (truncated file?)");
	}
	while (pos < len) {
		char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = (size_t)(nl - s);

		*nl = '\0';
		pos += l + 1;
		p->line++;
		if ((r = check_line(p, s, l)) < 0)
			return r;
		if (l == 0 || s[0] == '#')
			continue;
		if (!header) {
			if ((r = parse_header(p, s)) < 0)
				return r;
			header = true;
		} else if (s[0] == '\t') {
			if (s[1] == ' ')
				return fail(p, "indent attribute lines with exactly one tab");
			r = parse_attr(p, s + 1);
		} else if (strncmp(s, "anchor ", 7) == 0) {
			r = parse_anchor_line(p, s + 7);
		} else if (strncmp(s, "designated ", 11) == 0) {
			r = parse_dpin_line(p, s + 11);
		} else {
			r = fail(p, "unknown line \"%.32s\"", s);
		}
		if (r < 0)
			return r;
	}
	if (!header)
		return fail(p, "no header line");
	return finish_anchor(p);
}

int trust_store_parse(struct trust_store *s, const char *text, size_t len, unsigned *ret_line,
		      char *msg, size_t msglen)
{
	struct trust_store *tmp = trust_store_new_memory(s->max_networks);
	struct parser p = { .s = tmp, .msg = msg, .msglen = msglen };
	char *copy = NULL;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if (!tmp)
		return -ENOMEM;
	if (len > TRUST_FILE_MAX) {
		r = fail(&p, "file larger than %u octets", TRUST_FILE_MAX);
		goto out;
	}
	copy = malloc(len + 1);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	r = parse_lines(&p, copy, len);
	if (r == 0)
		r = trust_store_normalize(tmp);
	if (r == 0)
		trust_store_move(s, tmp);
out:
	if (ret_line)
		*ret_line = r < 0 ? p.line : 0;
	trust_anchor_free(p.cur);
	trust_store_close(tmp);
	free(copy);
	return r;
}
