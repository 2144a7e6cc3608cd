/*
 * fingerprint.c -- the network fingerprint value: textual form, parsing,
 * digest id, matching (include/dotstub/netinfo.h).  No I/O.
 */
#include "dotstub/hex.h"
#include "dotstub/netinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ------------------------------------------------------------------ */
/* Addresses */

static bool addr_is_v6_linklocal(const struct ds_netaddr *a)
{
	return a->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a->u.v6);
}

static int scope_parse(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;
	unsigned idx;

	if (*s == '\0' || strlen(s) >= IF_NAMESIZE)
		return -EINVAL;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end != '\0' || v == 0 || v > INT_MAX)
			return -EINVAL;
		*ret = (uint32_t)v;
		return 0;
	}
	idx = if_nametoindex(s);
	if (idx == 0)
		return -EINVAL;
	*ret = idx;
	return 0;
}

int ds_netaddr_parse(const char *s, struct ds_netaddr *ret)
{
	char buf[DS_NETADDR_STRLEN];
	struct ds_netaddr a = { 0 };
	char *pct;
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len + 1);
	if (inet_pton(AF_INET, buf, &a.u.v4) == 1) {
		a.family = AF_INET;
		*ret = a;
		return 0;
	}
	pct = strchr(buf, '%');
	if (pct)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, buf, &a.u.v6) != 1)
		return -EINVAL;
	a.family = AF_INET6;
	if (pct) {
		if (!addr_is_v6_linklocal(&a) || scope_parse(pct, &a.scope) < 0)
			return -EINVAL;
	}
	*ret = a;
	return 0;
}

const char *ds_netaddr_format(const struct ds_netaddr *a, char *out, size_t outlen)
{
	if (outlen == 0)
		return out;
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->u.b, out, (socklen_t)outlen))
		snprintf(out, outlen, "-");
	return out;
}

int ds_netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct ds_netaddr *ret)
{
	struct ds_netaddr a = { 0 };

	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		a.family = AF_INET;
		a.u.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		a.family = AF_INET6;
		a.u.v6 = s6->sin6_addr;
		if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			a.scope = s6->sin6_scope_id;
	} else {
		return -EAFNOSUPPORT;
	}
	*ret = a;
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int ds_netaddr_cmp(const struct ds_netaddr *a, const struct ds_netaddr *b)
{
	if (a->family != b->family) {
		/* 0 < AF_INET (2) < AF_INET6 (10) */
		return a->family < b->family ? -1 : 1;
	}
	return memcmp(a->u.b, b->u.b, addr_len(a->family));
}

static bool addr_equal(const struct ds_netaddr *a, const struct ds_netaddr *b)
{
	return ds_netaddr_cmp(a, b) == 0;
}

/* ------------------------------------------------------------------ */
/* Building */

void ds_netfp_init(struct ds_netfp *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->af[DS_NETFP_V4].vlan = -1;
	fp->af[DS_NETFP_V6].vlan = -1;
}

bool ds_netfp_is_empty(const struct ds_netfp *fp)
{
	return !fp->af[DS_NETFP_V4].route && !fp->af[DS_NETFP_V6].route && fp->nres == 0;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
	return ds_netaddr_cmp(a, b);
}

int ds_netaddr_unique(const struct ds_netaddr *res, size_t n, struct ds_netaddr *out, size_t cap)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++)
		if (res[i].family != AF_INET && res[i].family != AF_INET6)
			return -EINVAL;
	for (i = 0; i < n && k < cap; i++) {
		for (j = 0; j < k && ds_netaddr_cmp(&out[j], &res[i]) != 0; j++)
			;
		if (j == k)
			out[k++] = res[i];
	}
	return (int)k;
}

int ds_netfp_set_resolvers(struct ds_netfp *fp, const struct ds_netaddr *res, size_t n)
{
	struct ds_netaddr tmp[DS_NETFP_MAX_RES];
	int k;

	/* the first DS_NETFP_MAX_RES distinct ones, in the caller's order of
	 * preference, then sorted, scopes dropped */
	k = ds_netaddr_unique(res, n, tmp, DS_NETFP_MAX_RES);
	if (k < 0)
		return k;
	for (int i = 0; i < k; i++)
		tmp[i].scope = 0;
	qsort(tmp, (size_t)k, sizeof(tmp[0]), addr_qsort_cmp);
	memset(fp->res, 0, sizeof(fp->res));
	memcpy(fp->res, tmp, (size_t)k * sizeof(tmp[0]));
	fp->nres = (size_t)k;
	return k;
}

int ds_netfp_set_ssid(struct ds_netfp *fp, const uint8_t *ssid, size_t len)
{
	if (len > DS_NETFP_SSID_MAX)
		return -EINVAL;
	memset(fp->ssid, 0, sizeof(fp->ssid));
	if (len)
		memcpy(fp->ssid, ssid, len);
	fp->ssid_len = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Textual form */

/* A bounded string builder with a sticky overflow flag. */
struct sbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void sb_puts(struct sbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (sb->overflow || n >= sb->cap - sb->len) {
		sb->overflow = true;
		return;
	}
	memcpy(sb->p + sb->len, s, n + 1);
	sb->len += n;
}

static void sb_hex(struct sbuf *sb, const uint8_t *b, size_t n, bool colons)
{
	char x[4];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(x, sizeof(x), "%s%02x", colons && i ? ":" : "", b[i]);
		sb_puts(sb, x);
	}
}

static void sb_addr(struct sbuf *sb, const struct ds_netaddr *a)
{
	char s[DS_NETADDR_STRLEN];

	sb_puts(sb, ds_netaddr_format(a, s, sizeof(s)));
}

static void format_af(struct sbuf *sb, const struct ds_netfp_af *af, const char *pfx)
{
	char s[32];
	bool r = af->route;

	snprintf(s, sizeof(s), " %sgw=", pfx);
	sb_puts(sb, s);
	if (r && af->gw.family)
		sb_addr(sb, &af->gw);
	else
		sb_puts(sb, "-");
	snprintf(s, sizeof(s), " %sgwmac=", pfx);
	sb_puts(sb, s);
	if (r && af->has_gwmac)
		sb_hex(sb, af->gwmac, DS_ETH_ALEN, true);
	else
		sb_puts(sb, "-");
	snprintf(s, sizeof(s), " %sif=", pfx);
	sb_puts(sb, s);
	sb_puts(sb, r ? af->ifname : "-");
	snprintf(s, sizeof(s), " %sifmac=", pfx);
	sb_puts(sb, s);
	if (r && af->has_ifmac)
		sb_hex(sb, af->ifmac, DS_ETH_ALEN, true);
	else
		sb_puts(sb, "-");
	if (r && af->vlan >= 0)
		snprintf(s, sizeof(s), " %svlan=%d", pfx, af->vlan);
	else
		snprintf(s, sizeof(s), " %svlan=-", pfx);
	sb_puts(sb, s);
}

int ds_netfp_format(const struct ds_netfp *fp, char *out, size_t outlen)
{
	struct sbuf sb = { .p = out, .cap = outlen };
	size_t i;

	if (outlen == 0)
		return -ENOBUFS;
	out[0] = '\0';
	sb_puts(&sb, "res=");
	for (i = 0; i < fp->nres && i < DS_NETFP_MAX_RES; i++) {
		if (i)
			sb_puts(&sb, ",");
		sb_addr(&sb, &fp->res[i]);
	}
	if (fp->nres == 0)
		sb_puts(&sb, "-");
	sb_puts(&sb, " ssid=");
	if (fp->ssid_len && fp->ssid_len <= DS_NETFP_SSID_MAX)
		sb_hex(&sb, fp->ssid, fp->ssid_len, false);
	else
		sb_puts(&sb, "-");
	format_af(&sb, &fp->af[DS_NETFP_V4], "v4");
	format_af(&sb, &fp->af[DS_NETFP_V6], "v6");
	if (sb.overflow)
		return -ENOBUFS;
	return (int)sb.len;
}

/* "xx:xx:xx:xx:xx:xx" exactly. */
static int parse_mac(const char *s, uint8_t mac[DS_ETH_ALEN])
{
	uint8_t m[DS_ETH_ALEN];
	int i, hi, lo;

	for (i = 0; i < DS_ETH_ALEN; i++) {
		hi = ds_hex_digit(s[0]);
		lo = hi < 0 ? -1 : ds_hex_digit(s[1]);
		if (lo < 0)
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s != (i == DS_ETH_ALEN - 1 ? '\0' : ':'))
			return -EINVAL;
		s += (i < DS_ETH_ALEN - 1);
	}
	memcpy(mac, m, sizeof(m));
	return 0;
}

static int parse_ssid(const char *s, struct ds_netfp *fp)
{
	uint8_t b[DS_NETFP_SSID_MAX];
	size_t n = strlen(s), i;
	int hi, lo;

	if (n == 0 || n % 2 || n / 2 > sizeof(b))
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		hi = ds_hex_digit(s[2 * i]);
		lo = ds_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return ds_netfp_set_ssid(fp, b, n / 2);
}

/* A plain address, no scope. */
static int parse_plain_addr(const char *s, struct ds_netaddr *a)
{
	if (strchr(s, '%') || ds_netaddr_parse(s, a) < 0)
		return -EINVAL;
	return 0;
}

static int parse_res(char *s, struct ds_netfp *fp)
{
	struct ds_netaddr a[DS_NETFP_MAX_RES];
	size_t n = 0;
	char *tok, *save = NULL;
	int r;

	if (*s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == DS_NETFP_MAX_RES || parse_plain_addr(tok, &a[n]) < 0)
			return -EINVAL;
		n++;
	}
	r = ds_netfp_set_resolvers(fp, a, n);
	/* duplicates are not canonical input of ours, but harmless */
	return r < 0 ? r : 0;
}

static int parse_vlan(const char *s, int *vlan)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v > 4095)
		return -EINVAL;
	*vlan = (int)v;
	return 0;
}

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);
	const char *c;

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (c = s; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '/' || *c == ':' || *c == '=' || *c == ',')
			return false;
	return true;
}

/* The per-family keys, in textual order. */
enum { K_GW, K_GWMAC, K_IF, K_IFMAC, K_VLAN, K_NAF };
static const char *const af_keys[K_NAF] = { "gw", "gwmac", "if", "ifmac", "vlan" };

static int parse_af_value(struct ds_netfp_af *af, int family, int k, const char *v)
{
	struct ds_netaddr a;

	switch (k) {
	case K_GW:
		if (parse_plain_addr(v, &a) < 0 || a.family != family)
			return -EINVAL;
		af->gw = a;
		return 0;
	case K_GWMAC:
		af->has_gwmac = true;
		return parse_mac(v, af->gwmac);
	case K_IF:
		if (!ifname_valid(v))
			return -EINVAL;
		snprintf(af->ifname, sizeof(af->ifname), "%s", v);
		af->route = true;
		return 0;
	case K_IFMAC:
		af->has_ifmac = true;
		return parse_mac(v, af->ifmac);
	default:
		return parse_vlan(v, &af->vlan);
	}
}

/* Which key is "key"?  Returns 0 res, 1 ssid, 2 + af * K_NAF + k, or -1. */
static int key_index(const char *key)
{
	int af, k;

	if (strcmp(key, "res") == 0)
		return 0;
	if (strcmp(key, "ssid") == 0)
		return 1;
	if (key[0] != 'v' || (key[1] != '4' && key[1] != '6'))
		return -1;
	af = key[1] == '4' ? DS_NETFP_V4 : DS_NETFP_V6;
	for (k = 0; k < K_NAF; k++)
		if (strcmp(key + 2, af_keys[k]) == 0)
			return 2 + af * K_NAF + k;
	return -1;
}

static int parse_pair(struct ds_netfp *fp, char *pair, unsigned *seen)
{
	char *eq = strchr(pair, '=');
	int ki, af;

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	ki = key_index(pair);
	if (ki < 0 || (*seen & (1u << ki)) || eq[1] == '\0')
		return -EINVAL;
	*seen |= 1u << ki;
	if (strcmp(eq + 1, "-") == 0)
		return 0;
	if (ki == 0)
		return parse_res(eq + 1, fp);
	if (ki == 1)
		return parse_ssid(eq + 1, fp);
	af = (ki - 2) / K_NAF;
	return parse_af_value(&fp->af[af], af == DS_NETFP_V4 ? AF_INET : AF_INET6,
			      (ki - 2) % K_NAF, eq + 1);
}

/* An address family without an interface must be all "-". */
static int check_af(struct ds_netfp_af *af)
{
	if (af->route)
		return 0;
	if (af->gw.family || af->has_gwmac || af->has_ifmac || af->vlan >= 0)
		return -EINVAL;
	return 0;
}

int ds_netfp_parse(const char *text, struct ds_netfp *ret)
{
	char buf[DS_NETFP_TEXT_MAX];
	struct ds_netfp fp;
	unsigned seen = 0;
	size_t len = strlen(text), i;
	char *p, *sp;
	int r;

	if (len == 0 || len >= sizeof(buf) || text[0] == ' ' || text[len - 1] == ' ' ||
	    strstr(text, "  "))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (text[i] < ' ' || text[i] > '~')
			return -EINVAL;
	memcpy(buf, text, len + 1);
	ds_netfp_init(&fp);
	for (p = buf; p; p = sp) {
		sp = strchr(p, ' ');
		if (sp)
			*sp++ = '\0';
		r = parse_pair(&fp, p, &seen);
		if (r < 0)
			return r;
	}
	if (check_af(&fp.af[DS_NETFP_V4]) < 0 || check_af(&fp.af[DS_NETFP_V6]) < 0)
		return -EINVAL;
	*ret = fp;
	return 0;
}

int ds_netfp_id(const struct ds_netfp *fp, char *out, size_t outlen)
{
	char text[DS_NETFP_TEXT_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n, i;

	if (outlen < DS_NETFP_ID_LEN + 1)
		return -ENOBUFS;
	n = ds_netfp_format(fp, text, sizeof(text));
	if (n < 0)
		return n;
	if (!EVP_Digest(text, (size_t)n, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen * 2 < DS_NETFP_ID_LEN)
		return -ENOMEM;
	for (i = 0; i < DS_NETFP_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool ds_netfp_equal(const struct ds_netfp *a, const struct ds_netfp *b)
{
	struct ds_netfp_cmp c;

	ds_netfp_match(a, b, &c);
	return c.verdict == DS_NETFP_EXACT;
}

/* ------------------------------------------------------------------ */
/* Matching */

/* One part: both absent, agree, differ, or present on one side only. */
enum part_rel { REL_NONE, REL_AGREE, REL_DIFFER, REL_ONESIDED };

static enum part_rel rel(bool pa, bool pb, bool eq)
{
	if (!pa && !pb)
		return REL_NONE;
	if (pa != pb)
		return REL_ONESIDED;
	return eq ? REL_AGREE : REL_DIFFER;
}

struct cmp_acc {
	unsigned agree, differ;
	bool onesided;
};

static void acc(struct cmp_acc *c, unsigned bit, enum part_rel r)
{
	if (r == REL_AGREE)
		c->agree |= bit;
	else if (r == REL_DIFFER)
		c->differ |= bit;
	else if (r == REL_ONESIDED)
		c->onesided = true;
}

/* bits: the five part bits of this family, in af_keys order. */
static void match_af(struct cmp_acc *c, const struct ds_netfp_af *a, const struct ds_netfp_af *b,
		     unsigned bit0)
{
	bool ra = a->route, rb = b->route;

	acc(c, bit0 << K_GW, rel(ra && a->gw.family, rb && b->gw.family,
				 addr_equal(&a->gw, &b->gw)));
	acc(c, bit0 << K_GWMAC, rel(ra && a->has_gwmac, rb && b->has_gwmac,
				    memcmp(a->gwmac, b->gwmac, DS_ETH_ALEN) == 0));
	acc(c, bit0 << K_IF, rel(ra, rb, strncmp(a->ifname, b->ifname, IF_NAMESIZE) == 0));
	acc(c, bit0 << K_IFMAC, rel(ra && a->has_ifmac, rb && b->has_ifmac,
				    memcmp(a->ifmac, b->ifmac, DS_ETH_ALEN) == 0));
	acc(c, bit0 << K_VLAN, rel(ra, rb, a->vlan == b->vlan ||
					   (a->vlan < 0 && b->vlan < 0)));
}

static bool res_equal(const struct ds_netfp *a, const struct ds_netfp *b)
{
	size_t i;

	if (a->nres != b->nres)
		return false;
	for (i = 0; i < a->nres; i++)
		if (!addr_equal(&a->res[i], &b->res[i]))
			return false;
	return true;
}

void ds_netfp_match(const struct ds_netfp *cur, const struct ds_netfp *known,
		    struct ds_netfp_cmp *ret)
{
	const unsigned network = DS_NETFP_P_V4GW | DS_NETFP_P_V4GWMAC | DS_NETFP_P_V6GW |
				 DS_NETFP_P_V6GWMAC | DS_NETFP_P_RES | DS_NETFP_P_SSID;
	struct cmp_acc c = { 0 };
	struct ds_netfp_cmp r = { 0 };

	match_af(&c, &cur->af[DS_NETFP_V4], &known->af[DS_NETFP_V4], DS_NETFP_P_V4GW);
	match_af(&c, &cur->af[DS_NETFP_V6], &known->af[DS_NETFP_V6], DS_NETFP_P_V6GW);
	acc(&c, DS_NETFP_P_RES, rel(cur->nres > 0, known->nres > 0, res_equal(cur, known)));
	acc(&c, DS_NETFP_P_SSID, rel(cur->ssid_len > 0, known->ssid_len > 0,
				     cur->ssid_len == known->ssid_len &&
				     memcmp(cur->ssid, known->ssid, cur->ssid_len) == 0));
	r.agree = c.agree;
	r.differ = c.differ;
	if (!c.differ && !c.onesided)
		r.verdict = DS_NETFP_EXACT;
	else if (c.agree & network)
		r.verdict = DS_NETFP_PARTIAL;
	else
		r.verdict = DS_NETFP_NONE;
	if (((c.agree & DS_NETFP_P_V4GW) && (c.differ & DS_NETFP_P_V4GWMAC)) ||
	    ((c.agree & DS_NETFP_P_V6GW) && (c.differ & DS_NETFP_P_V6GWMAC)))
		r.flags |= DS_NETFP_CMP_IMPOSTOR;
	*ret = r;
}

const char *ds_netfp_verdict_name(enum ds_netfp_verdict v)
{
	switch (v) {
	case DS_NETFP_EXACT:
		return "exact";
	case DS_NETFP_PARTIAL:
		return "partial";
	default:
		return "none";
	}
}

const char *ds_netfp_parts_format(unsigned mask, char *out, size_t outlen)
{
	static const char *const names[] = {
		"v4gw", "v4gwmac", "v4if", "v4ifmac", "v4vlan",
		"v6gw", "v6gwmac", "v6if", "v6ifmac", "v6vlan",
		"res", "ssid",
	};
	struct sbuf sb = { .p = out, .cap = outlen };
	size_t i;

	if (outlen == 0)
		return out;
	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(mask & (1u << i)))
			continue;
		if (sb.len)
			sb_puts(&sb, ",");
		sb_puts(&sb, names[i]);
	}
	if (sb.len == 0)
		sb_puts(&sb, "-");
	return out;
}
