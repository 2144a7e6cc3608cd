/*
 * json.c -- dotctl's strict, bounded JSON parser (json.h).
 */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const unsigned char *s;
	size_t len, pos;
	unsigned nvalues;
	char *err;
	size_t errlen;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	if (!p->err || !p->errlen)
		return;
	n = snprintf(p->err, p->errlen, "offset %zu: ", p->pos);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static struct cj_value *new_value(struct parser *p, enum cj_type t)
{
	struct cj_value *v;

	if (++p->nvalues > CJ_MAX_VALUES) {
		fail(p, "more than %u values", CJ_MAX_VALUES);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		fail(p, "out of memory");
		return NULL;
	}
	v->type = t;
	return v;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;

	if (p->len - p->pos < 4) {
		fail(p, "truncated \\u escape");
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		unsigned char c = p->s[p->pos + (size_t)i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10u;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10u;
		else {
			fail(p, "bad \\u escape");
			return -1;
		}
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < need + 1)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

/* At the opening quote.  Returns the decoded string (malloc) or NULL. */
static char *parse_string(struct parser *p)
{
	size_t start = ++p->pos, end = start, o = 0;
	char *out;

	/* find the closing quote first: the decoded string is never longer */
	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len) {
		fail(p, "unterminated string");
		return NULL;
	}
	out = malloc(end - start + 1);
	if (!out) {
		fail(p, "out of memory");
		return NULL;
	}
	while (p->pos < end) {
		unsigned char c = p->s[p->pos];
		unsigned cp, lo;
		size_t n;

		if (c < 0x20) {
			fail(p, "control character in a string");
			goto bad;
		}
		if (c != '\\') {
			n = utf8_len(p->s + p->pos, end - p->pos);
			if (!n) {
				fail(p, "invalid UTF-8 in a string");
				goto bad;
			}
			memcpy(out + o, p->s + p->pos, n);
			o += n;
			p->pos += n;
			continue;
		}
		p->pos++;
		switch (p->s[p->pos++]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			if (hex4(p, &cp) < 0)
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(p, "lone low surrogate");
				goto bad;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
					fail(p, "lone high surrogate");
					goto bad;
				}
				p->pos += 2;
				if (hex4(p, &lo) < 0)
					goto bad;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(p, "bad surrogate pair");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0) {
				fail(p, "\\u0000 in a string");
				goto bad;
			}
			o += put_utf8(out + o, cp);
			break;
		default:
			p->pos--;
			fail(p, "bad escape");
			goto bad;
		}
	}
	out[o] = '\0';
	p->pos = end + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* One or more digits (a fraction's or an exponent's): false, with the
 * parser's error set, if there is none. */
static bool digit_run(struct parser *p)
{
	if (p->pos >= p->len || !is_digit(p->s[p->pos])) {
		fail(p, "bad number");
		return false;
	}
	while (p->pos < p->len && is_digit(p->s[p->pos]))
		p->pos++;
	return true;
}

static struct cj_value *parse_number(struct parser *p)
{
	size_t start = p->pos;
	struct cj_value *v;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0') {
		p->pos++;
	} else if (p->pos < p->len && is_digit(p->s[p->pos])) {
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	} else {
		fail(p, "bad number");
		return NULL;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!digit_run(p))
			return NULL;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!digit_run(p))
			return NULL;
	}
	v = new_value(p, CJ_NUMBER);
	if (!v)
		return NULL;
	v->text = strndup((const char *)p->s + start, p->pos - start);
	if (!v->text) {
		fail(p, "out of memory");
		free(v);
		return NULL;
	}
	return v;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static struct cj_value *parse_value(struct parser *p, int depth);

/* At '[' or '{'. */
static struct cj_value *parse_container(struct parser *p, int depth, bool object)
{
	struct cj_value *v, **tail;
	char close = object ? '}' : ']';

	if (depth >= CJ_MAX_DEPTH) {
		fail(p, "nested deeper than %d", CJ_MAX_DEPTH);
		return NULL;
	}
	v = new_value(p, object ? CJ_OBJECT : CJ_ARRAY);
	if (!v)
		return NULL;
	tail = &v->child;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return v;
	}
	for (;;) {
		struct cj_value *e;
		char *key = NULL;

		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				fail(p, "expected a member name");
				goto bad;
			}
			key = parse_string(p);
			if (!key)
				goto bad;
			for (struct cj_value *m = v->child; m; m = m->next)
				if (!strcmp(m->key, key)) {
					fail(p, "duplicate member \"%.64s\"", key);
					free(key);
					goto bad;
				}
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				fail(p, "expected ':'");
				free(key);
				goto bad;
			}
			p->pos++;
		}
		e = parse_value(p, depth + 1);
		if (!e) {
			free(key);
			goto bad;
		}
		e->key = key;
		*tail = e;
		tail = &e->next;
		v->count++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return v;
		}
		fail(p, "expected ',' or '%c'", close);
		goto bad;
	}
bad:
	cj_free(v);
	return NULL;
}

static struct cj_value *parse_value(struct parser *p, int depth)
{
	struct cj_value *v;

	skip_ws(p);
	if (p->pos >= p->len) {
		fail(p, "unexpected end of input");
		return NULL;
	}
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"': {
		char *s = parse_string(p);
		if (!s)
			return NULL;
		v = new_value(p, CJ_STRING);
		if (!v) {
			free(s);
			return NULL;
		}
		v->text = s;
		return v;
	}
	case 't':
	case 'f': {
		bool b = literal(p, "true");
		if (b || literal(p, "false")) {
			v = new_value(p, CJ_BOOL);
			if (v)
				v->boolean = b;
			return v;
		}
		break;
	}
	case 'n':
		if (literal(p, "null"))
			return new_value(p, CJ_NULL);
		break;
	default:
		if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
			return parse_number(p);
		break;
	}
	fail(p, "unexpected character");
	return NULL;
}

struct cj_value *cj_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p = { .s = (const unsigned char *)text, .len = len, .err = err,
			    .errlen = errlen };
	struct cj_value *v;

	if (err && errlen)
		err[0] = '\0';
	if (len > CJ_MAX_INPUT) {
		fail(&p, "longer than %u octets", CJ_MAX_INPUT);
		return NULL;
	}
	v = parse_value(&p, 0);
	if (!v)
		return NULL;
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "data after the value");
		cj_free(v);
		return NULL;
	}
	return v;
}

void cj_free(struct cj_value *v)
{
	while (v) {
		struct cj_value *next = v->next;
		cj_free(v->child);
		free(v->text);
		free(v->key);
		free(v);
		v = next;
	}
}

struct cj_value *cj_get(struct cj_value *obj, const char *key)
{
	if (!obj || obj->type != CJ_OBJECT)
		return NULL;
	for (struct cj_value *m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

bool cj_u64(const struct cj_value *v, uint64_t *out)
{
	unsigned long long n;
	char *end;

	if (!v || v->type != CJ_NUMBER || !is_digit((unsigned char)v->text[0]))
		return false;
	errno = 0;
	n = strtoull(v->text, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

bool cj_get_str(struct cj_value *obj, const char *key, const char **out)
{
	struct cj_value *m = cj_get(obj, key);

	if (!m || m->type != CJ_STRING)
		return false;
	m->used = true;
	*out = m->text;
	return true;
}

bool cj_get_u64(struct cj_value *obj, const char *key, uint64_t *out)
{
	struct cj_value *m = cj_get(obj, key);

	if (!cj_u64(m, out))
		return false;
	m->used = true;
	return true;
}

bool cj_get_bool(struct cj_value *obj, const char *key, bool *out)
{
	struct cj_value *m = cj_get(obj, key);

	if (!m || m->type != CJ_BOOL)
		return false;
	m->used = true;
	*out = m->boolean;
	return true;
}

