/*
 * wire.c -- the DNS wire reader and writer, and operations on names.
 *
 * Every read goes through struct dns_reader: a read past the end sets a
 * sticky error and yields zeros, so callers check r->err once after a run
 * of reads.  Names are decompressed with pointers that must go strictly
 * backwards, which makes loops impossible.
 */
#include <errno.h>
#include <string.h>

#include "dotstub/wire.h"

#define DNS_LABEL_MAX 63

/* ---- reader ---- */

void
dns_reader_init(struct dns_reader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

/* true if n more octets can be read; else sets the sticky error */
static bool
reader_need(struct dns_reader *r, size_t n)
{
	if (r->err != 0)
		return false;
	if (r->pos > r->len || n > r->len - r->pos) {
		r->err = -EBADMSG;
		return false;
	}
	return true;
}

uint8_t
dns_read_u8(struct dns_reader *r)
{
	if (!reader_need(r, 1))
		return 0;
	return r->buf[r->pos++];
}

uint16_t
dns_read_u16(struct dns_reader *r)
{
	uint16_t v;

	if (!reader_need(r, 2))
		return 0;
	v = (uint16_t)(r->buf[r->pos] << 8 | r->buf[r->pos + 1]);
	r->pos += 2;
	return v;
}

uint32_t
dns_read_u32(struct dns_reader *r)
{
	uint32_t v;

	if (!reader_need(r, 4))
		return 0;
	v = (uint32_t)r->buf[r->pos] << 24 | (uint32_t)r->buf[r->pos + 1] << 16 |
	    (uint32_t)r->buf[r->pos + 2] << 8 | (uint32_t)r->buf[r->pos + 3];
	r->pos += 4;
	return v;
}

void
dns_read_bytes(struct dns_reader *r, void *out, size_t n)
{
	if (!reader_need(r, n)) {
		if (out != NULL && n > 0)
			memset(out, 0, n);
		return;
	}
	if (out != NULL && n > 0)
		memcpy(out, r->buf + r->pos, n);
	r->pos += n;
}

/*
 * The one name decoder.  Starting at r->pos, follow labels and pointers.
 * A pointer must point into the bytes before the label run that contains
 * it, and the run it leads to must end there too: every run lies wholly
 * before the previous one, so the walk ends and a name never leans on
 * bytes at or after its own position (which is what stripping an OPT
 * relies on).  Pointers into the header are refused.  The name is decoded
 * into a local buffer and copied out only when it is complete.
 */
/* Does [start, end) overlap one of the 4-octet fields at avoid[] (sorted)? */
static bool
run_touches(const uint16_t *avoid, unsigned n, size_t start, size_t end)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) { /* first field that ends after start */
		unsigned mid = lo + (hi - lo) / 2;

		if ((size_t)avoid[mid] + 4 <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && avoid[lo] < end;
}

/* Is target the start of a label of the uncompressed name at DNS_HDR_LEN
 * (the question), which ends before qname_end? */
static bool
question_label_start(const uint8_t *buf, size_t qname_end, size_t target)
{
	size_t o = DNS_HDR_LEN;

	while (o < target && o < qname_end && buf[o] != 0)
		o += (size_t)buf[o] + 1;
	return o == target;
}

static void
read_name(struct dns_reader *r, uint8_t *out, size_t *out_len, struct dns_name_info *info,
	  const uint16_t *avoid, unsigned n_avoid, size_t qname_end)
{
	uint8_t tmp[DNS_NAME_MAX];
	size_t pos, run_start, limit, end = 0, n = 0, hi = 0;
	bool jumped = false;

	if (out_len != NULL)
		*out_len = 0;
	if (r->err != 0)
		return;
	if (r->pos > r->len)
		goto bad;
	pos = run_start = r->pos;
	limit = r->len; /* the current run must end before this */
	for (;;) {
		uint8_t c;

		if (pos >= limit)
			goto bad;
		c = r->buf[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (limit - pos < 2)
				goto bad;
			target = (size_t)(c & 0x3f) << 8 | r->buf[pos + 1];
			if (target >= run_start || target < DNS_HDR_LEN)
				goto bad;
			/* into the question only at a label: the question's case
			 * is rewritten on the way out, its label data must not be
			 * read as structure */
			if (target < qname_end && !question_label_start(r->buf, qname_end, target))
				goto bad;
			if (!jumped)
				end = pos + 2;
			else if (run_touches(avoid, n_avoid, run_start, pos + 2))
				goto bad;
			else if (pos + 2 > hi)
				hi = pos + 2;
			jumped = true;
			limit = run_start;
			pos = run_start = target;
			continue;
		}
		if (c > DNS_LABEL_MAX) /* 0x40, 0x80: extended label types */
			goto bad;
		if (limit - pos < (size_t)c + 1 || n + c + 1 > DNS_NAME_MAX)
			goto bad;
		tmp[n++] = c;
		memcpy(tmp + n, r->buf + pos + 1, c);
		n += c;
		pos += (size_t)c + 1;
		if (jumped && pos > hi)
			hi = pos;
		if (c == 0)
			break;
	}
	if (jumped && run_touches(avoid, n_avoid, run_start, pos))
		goto bad;
	r->pos = jumped ? end : pos;
	if (out != NULL)
		memcpy(out, tmp, n);
	if (out_len != NULL)
		*out_len = n;
	if (info != NULL) {
		info->compressed = jumped;
		info->ptr_hi = hi;
	}
	return;
bad:
	r->err = -EBADMSG;
}

void
dns_read_name_info(struct dns_reader *r, uint8_t *out, size_t *out_len,
		   struct dns_name_info *info)
{
	read_name(r, out, out_len, info, NULL, 0, 0);
}

void
dns_read_name_avoid(struct dns_reader *r, const uint16_t *avoid, unsigned n_avoid,
		    size_t qname_end, struct dns_name_info *info)
{
	read_name(r, NULL, NULL, info, avoid, n_avoid, qname_end);
}

void
dns_read_name(struct dns_reader *r, uint8_t out[DNS_NAME_MAX], size_t *out_len)
{
	read_name(r, out, out_len, NULL, NULL, 0, 0);
}

void
dns_skip_name(struct dns_reader *r)
{
	read_name(r, NULL, NULL, NULL, NULL, 0, 0);
}

/* ---- writer ---- */

void
dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

static bool
writer_room(struct dns_writer *w, size_t n)
{
	if (w->err != 0)
		return false;
	if (w->len > w->cap || n > w->cap - w->len) {
		w->err = -EMSGSIZE;
		return false;
	}
	return true;
}

void
dns_write_u8(struct dns_writer *w, uint8_t v)
{
	if (writer_room(w, 1))
		w->buf[w->len++] = v;
}

void
dns_write_u16(struct dns_writer *w, uint16_t v)
{
	if (!writer_room(w, 2))
		return;
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

void
dns_write_u32(struct dns_writer *w, uint32_t v)
{
	if (!writer_room(w, 4))
		return;
	w->buf[w->len++] = (uint8_t)(v >> 24);
	w->buf[w->len++] = (uint8_t)(v >> 16);
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

void
dns_write_bytes(struct dns_writer *w, const void *p, size_t n)
{
	if (n == 0 || !writer_room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
dns_write_name(struct dns_writer *w, const uint8_t *name, size_t len)
{
	if (len > DNS_NAME_MAX) {
		if (w->err == 0)
			w->err = -EMSGSIZE;
		return;
	}
	dns_write_bytes(w, name, len);
}

/* ---- names ---- */

static inline uint8_t
ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* true if name[0..len) is exactly one well-formed wire name */
bool
dns_name_valid(const uint8_t *name, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	while (i < len) {
		uint8_t c = name[i];

		if (c > DNS_LABEL_MAX)
			return false;
		if (c == 0)
			return i + 1 == len;
		i += (size_t)c + 1;
	}
	return false;
}

int
dns_name_from_str(const char *s, uint8_t out[DNS_NAME_MAX])
{
	uint8_t tmp[DNS_NAME_MAX];
	size_t n = 0, lab = 0; /* lab: index of the current length octet */
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	tmp[n++] = 0;
	while (*p != '\0') {
		uint8_t c;

		if (*p == '.') {
			if (tmp[lab] == 0)
				return -EINVAL; /* empty label */
			if (n >= DNS_NAME_MAX)
				return -EINVAL;
			lab = n;
			tmp[n++] = 0;
			p++;
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '\\') {
			p++;
			if (p[0] >= '0' && p[0] <= '9') {
				unsigned v;

				if (!(p[1] >= '0' && p[1] <= '9') || !(p[2] >= '0' && p[2] <= '9'))
					return -EINVAL;
				v = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
				    (unsigned)(p[2] - '0');
				if (v > 255)
					return -EINVAL;
				c = (uint8_t)v;
				p += 3;
			} else if (*p == '\0') {
				return -EINVAL;
			} else {
				c = (uint8_t)*p++;
			}
		} else {
			c = (uint8_t)*p++;
		}
		if (tmp[lab] >= DNS_LABEL_MAX || n >= DNS_NAME_MAX)
			return -EINVAL;
		tmp[n++] = c;
		tmp[lab]++;
	}
	/* terminate with the root label unless the text ended with a dot */
	if (tmp[lab] != 0) {
		if (n >= DNS_NAME_MAX)
			return -EINVAL;
		tmp[n++] = 0;
	}
	memcpy(out, tmp, n);
	return (int)n;
}

static bool
char_needs_escape(uint8_t c)
{
	switch (c) {
	case '.': case '\\': case '"': case '(': case ')':
	case ';': case '@': case '$':
		return true;
	default:
		return false;
	}
}

int
dns_name_to_str(const uint8_t *name, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	if (!dns_name_valid(name, len))
		return -EINVAL;
	if (outlen == 0)
		return -ENOSPC;
	if (len == 1) {
		if (outlen < 2)
			return -ENOSPC;
		out[0] = '.';
		out[1] = '\0';
		return 0;
	}
	while (name[i] != 0) {
		size_t l = name[i++], j;

		for (j = 0; j < l; j++, i++) {
			uint8_t c = name[i];

			if (c <= 0x20 || c >= 0x7f) {
				if (outlen - o < 5)
					goto nospc;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else if (char_needs_escape(c)) {
				if (outlen - o < 3)
					goto nospc;
				out[o++] = '\\';
				out[o++] = (char)c;
			} else {
				if (outlen - o < 2)
					goto nospc;
				out[o++] = (char)c;
			}
		}
		if (outlen - o < 2)
			goto nospc;
		out[o++] = '.';
	}
	out[o] = '\0';
	return 0;
nospc:
	out[0] = '\0';
	return -ENOSPC;
}

bool
dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	/* length octets are <= 63, so folding them is harmless */
	for (i = 0; i < alen; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

bool
dns_name_is_subdomain(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	size_t i = 0;

	if (!dns_name_valid(name, len) || !dns_name_valid(zone, zlen))
		return false;
	for (;;) {
		if (len - i == zlen)
			return dns_name_equal(name + i, zlen, zone, zlen);
		if (len - i < zlen || name[i] == 0)
			return false;
		i += (size_t)name[i] + 1;
	}
}

void
dns_name_lower(uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		name[i] = ascii_lower(name[i]);
}
