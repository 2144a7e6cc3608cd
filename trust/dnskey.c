/*
 * dnskey.c -- DNSKEY presentation format, key tag, SHA-256 of the rdata,
 * and the small text codecs (base64, hex, names, times) the store needs.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dotstub/hex.h"
#include "dotstub/trust.h"
#include "trust-int.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int trust_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap)
{
	size_t pad = 0, n = 0;

	if (inlen == 0 || inlen % 4 != 0)
		return -EINVAL;
	if (in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	if ((inlen / 4) * 3 - pad > outcap)
		return -ENOBUFS;
	for (size_t i = 0; i < inlen; i += 4) {
		int v[4];
		uint32_t w;
		bool last = i + 4 == inlen;

		for (int j = 0; j < 4; j++) {
			if (last && in[i + j] == '=' && j >= 4 - (int)pad)
				v[j] = 0;
			else if ((v[j] = b64_value(in[i + j])) < 0)
				return -EINVAL;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		/* canonical: the bits padding throws away must be zero */
		if (last && ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))))
			return -EINVAL;
		out[n++] = w >> 16;
		if (!last || pad < 2)
			out[n++] = (w >> 8) & 0xff;
		if (!last || pad < 1)
			out[n++] = w & 0xff;
	}
	return (int)n;
}

int trust_base64_encode(const uint8_t *in, size_t n, char *out, size_t outcap)
{
	size_t need = (n + 2) / 3 * 4, o = 0;

	if (need + 1 > outcap || need > INT_MAX)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = b64_alphabet[w >> 18];
		out[o++] = b64_alphabet[(w >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[w & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

int trust_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* Key lengths of the algorithms that have a fixed one (RFC 6605, 8080). */
static int alg_key_len(uint8_t alg)
{
	switch (alg) {
	case 13: return 64;
	case 14: return 96;
	case 15: return 32;
	case 16: return 57;
	default: return -1;
	}
}

int trust_dnskey_check(const struct trust_dnskey *k)
{
	int fixed = alg_key_len(k->algorithm);

	if (k->protocol != 3 || k->algorithm == 0)
		return -EINVAL;
	if (k->keylen == 0 || k->keylen > TRUST_KEY_MAX)
		return -EINVAL;
	if (fixed > 0 && k->keylen != fixed)
		return -EINVAL;
	return 0;
}

/* Parse the three numbers and the base64 key from fields[0..n). */
static int dnskey_from_fields(char **f, size_t n, struct trust_dnskey *ret)
{
	struct trust_dnskey k;
	unsigned long flags, proto, alg;
	char b64[(TRUST_KEY_MAX + 2) / 3 * 4 + 1];
	size_t blen = 0;
	int r;

	if (n < 4)
		return -EINVAL;
	if (trust_parse_uint(f[0], 0xffff, &flags) < 0 ||
	    trust_parse_uint(f[1], 0xff, &proto) < 0 || trust_parse_uint(f[2], 0xff, &alg) < 0)
		return -EINVAL;
	for (size_t i = 3; i < n; i++) {
		size_t l = strlen(f[i]);

		if (l >= sizeof(b64) - blen)
			return -EINVAL;
		memcpy(b64 + blen, f[i], l);
		blen += l;
	}
	b64[blen] = '\0';
	memset(&k, 0, sizeof(k));
	k.flags = (uint16_t)flags;
	k.protocol = (uint8_t)proto;
	k.algorithm = (uint8_t)alg;
	r = trust_base64_decode(b64, blen, k.key, sizeof(k.key));
	if (r < 0)
		return -EINVAL;
	k.keylen = (uint16_t)r;
	if (trust_dnskey_check(&k) < 0)
		return -EINVAL;
	*ret = k;
	return 0;
}

#define MAX_FIELDS 64

/* Split s (modified) at blanks into at most MAX_FIELDS fields. */
static int split_blanks(char *s, char **f, size_t *ret_n)
{
	size_t n = 0;

	for (char *p = s;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == MAX_FIELDS)
			return -EINVAL;
		f[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	*ret_n = n;
	return 0;
}

static int dup_line(const char *text, char **ret)
{
	size_t len = strnlen(text, TRUST_LINE_MAX + 1);
	char *s;

	if (len > TRUST_LINE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)text[i]) && text[i] != '\t')
			return -EINVAL;
	s = strndup(text, len);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int trust_dnskey_parse(const char *text, struct trust_dnskey *ret)
{
	char *s, *f[MAX_FIELDS];
	size_t n;
	int r;

	r = dup_line(text, &s);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = split_blanks(s, f, &n);
	if (r == 0)
		r = dnskey_from_fields(f, n, ret);
	free(s);
	return r;
}

static bool is_ttl(const char *s)
{
	unsigned long v;

	return trust_parse_uint(s, 0x7fffffff, &v) == 0;
}

int trust_dnskey_parse_rr(const char *line, char ret_zone[TRUST_NAME_MAX + 1],
			  struct trust_dnskey *ret_key)
{
	char zone[TRUST_NAME_MAX + 1], *s, *f[MAX_FIELDS], *semi;
	struct trust_dnskey k;
	size_t n, i = 1;
	bool seen_ttl = false, seen_class = false;
	int r;

	r = dup_line(line, &s);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	if ((semi = strchr(s, ';')))
		*semi = '\0';
	r = -EINVAL;
	if (strpbrk(s, "()$\"\\"))
		goto out;
	if (split_blanks(s, f, &n) < 0 || n < 2)
		goto out;
	/* an absolute name: "zone." */
	if (f[0][strlen(f[0]) - 1] != '.' || trust_name_canonical(f[0], zone) < 0)
		goto out;
	for (; i < n; i++) {
		if (!seen_ttl && is_ttl(f[i]))
			seen_ttl = true;
		else if (!seen_class && strcasecmp(f[i], "IN") == 0)
			seen_class = true;
		else
			break;
	}
	if (i == n || strcasecmp(f[i], "DNSKEY") != 0)
		goto out;
	r = dnskey_from_fields(f + i + 1, n - i - 1, &k);
	if (r < 0)
		goto out;
	memcpy(ret_zone, zone, sizeof(zone));
	*ret_key = k;
out:
	free(s);
	return r;
}

int trust_dnskey_format(const struct trust_dnskey *k, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%u %u %u ", k->flags, k->protocol, k->algorithm);
	int r;

	if (n < 0 || (size_t)n >= outlen)
		return -ENOBUFS;
	r = trust_base64_encode(k->key, k->keylen, out + n, outlen - (size_t)n);
	if (r < 0)
		return r;
	return n + r;
}

int trust_dnskey_from_rdata(const uint8_t *rdata, size_t len, struct trust_dnskey *ret)
{
	if (len < 5 || rdata[2] != 3)
		return -EBADMSG;
	if (len - 4 > TRUST_KEY_MAX)
		return -E2BIG;
	memset(ret, 0, sizeof(*ret));
	ret->flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	ret->protocol = rdata[2];
	ret->algorithm = rdata[3];
	ret->keylen = (uint16_t)(len - 4);
	memcpy(ret->key, rdata + 4, len - 4);
	return 0;
}

int trust_dnskey_rdata(const struct trust_dnskey *k, uint8_t *buf, size_t buflen)
{
	if (buflen < 4u + k->keylen)
		return -ENOBUFS;
	buf[0] = k->flags >> 8;
	buf[1] = k->flags & 0xff;
	buf[2] = k->protocol;
	buf[3] = k->algorithm;
	memcpy(buf + 4, k->key, k->keylen);
	return 4 + k->keylen;
}

uint16_t trust_dnskey_tag(const struct trust_dnskey *k)
{
	uint8_t rd[4 + TRUST_KEY_MAX];
	int len = trust_dnskey_rdata(k, rd, sizeof(rd));
	uint32_t ac = 0;

	if (k->algorithm == 1) {
		/* RFC 4034 B.1: the most significant 16 of the least
		 * significant 24 bits of the modulus */
		if (k->keylen < 3)
			return 0;
		return (uint16_t)(k->key[k->keylen - 3] << 8 | k->key[k->keylen - 2]);
	}
	for (int i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return ac & 0xffff;
}

int trust_dnskey_sha256(const struct trust_dnskey *k, uint8_t out[TRUST_SHA256_LEN])
{
	uint8_t rd[4 + TRUST_KEY_MAX];
	int len = trust_dnskey_rdata(k, rd, sizeof(rd));
	unsigned int olen = 0;

	if (len < 0)
		return len;
	if (!EVP_Digest(rd, (size_t)len, out, &olen, EVP_sha256(), NULL) ||
	    olen != TRUST_SHA256_LEN)
		return -ENOMEM;
	return 0;
}

bool trust_dnskey_equal(const struct trust_dnskey *a, const struct trust_dnskey *b)
{
	return a->flags == b->flags && trust_dnskey_same_key(a, b);
}

bool trust_dnskey_same_key(const struct trust_dnskey *a, const struct trust_dnskey *b)
{
	return (a->flags | TRUST_DNSKEY_REVOKE) == (b->flags | TRUST_DNSKEY_REVOKE) &&
	       a->protocol == b->protocol && a->algorithm == b->algorithm &&
	       a->keylen == b->keylen && memcmp(a->key, b->key, a->keylen) == 0;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int trust_name_canonical(const char *in, char ret[TRUST_NAME_MAX + 1])
{
	char out[TRUST_NAME_MAX + 1];
	size_t len = strnlen(in, TRUST_NAME_MAX + 1), o = 0, label = 0;

	if (len == 0 || len > TRUST_NAME_MAX || in[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)in[i]);

		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else {
			if (!label_char(c) || ++label > 63)
				return -EINVAL;
		}
		out[o++] = c;
	}
	if (label > 0) {
		if (o == TRUST_NAME_MAX)
			return -EINVAL;
		out[o++] = '.';
	}
	out[o] = '\0';
	memcpy(ret, out, o + 1);
	return 0;
}

void trust_time_format(time_t t, char out[TRUST_TIME_LEN + 1])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year < 70) {
		memcpy(out, "1970-01-01T00:00:00Z", TRUST_TIME_LEN + 1);
		return;
	}
	strftime(out, TRUST_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int trust_time_parse(const char *s, time_t *ret)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int y, mo, d, h, mi, se;
	time_t t;

	if (strlen(s) != TRUST_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 59)
		return -EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = t;
	return 0;
}
