/*
 * ddr_svcb.c -- SVCB/HTTPS RDATA and SvcParams (RFC 9460 2.2, 7, 8; RFC
 * 9461 5 for dohpath).  Every octet comes from the network: each length is
 * checked against what is left before anything is read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ddr_int.h"

static const char *const key_names[] = {
	[DDR_KEY_MANDATORY] = "mandatory",
	[DDR_KEY_ALPN] = "alpn",
	[DDR_KEY_NO_DEFAULT_ALPN] = "no-default-alpn",
	[DDR_KEY_PORT] = "port",
	[DDR_KEY_IPV4HINT] = "ipv4hint",
	[DDR_KEY_ECH] = "ech",
	[DDR_KEY_IPV6HINT] = "ipv6hint",
	[DDR_KEY_DOHPATH] = "dohpath",
};

const char *
ddr_svc_key_name(uint16_t key, char buf[16])
{
	if (key <= DDR_KEY_DOHPATH)
		return key_names[key];
	snprintf(buf, 16, "key%u", (unsigned)key);
	return buf;
}

bool
ddr_svc_has(const struct ddr_svc_params *p, enum ddr_svc_key k)
{
	return k <= DDR_KEY_DOHPATH && (p->present & (1u << k)) != 0;
}

int
ddr_reason(char *reason, size_t reasonlen, const char *fmt, ...)
{
	va_list ap;

	if (reasonlen > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, reasonlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Keys whose meaning this parser knows well enough to honour them in
 * mandatory: all the registered ones but ech (ECH is not implemented). */
static bool
key_understood(uint16_t key)
{
	return key <= DDR_KEY_DOHPATH && key != DDR_KEY_ECH && key != DDR_KEY_MANDATORY;
}

static int
parse_mandatory(const uint8_t *v, size_t len, struct ddr_svc_params *p, char *r, size_t rl)
{
	char a[16], b[16];
	uint16_t k, prev = 0;
	size_t i;

	if (len == 0)
		return ddr_reason(r, rl, "mandatory is empty");
	if (len % 2 != 0)
		return ddr_reason(r, rl, "mandatory length %zu is not a multiple of 2", len);
	for (i = 0; i < len; i += 2) {
		k = rd16(v + i);
		if (k == DDR_KEY_MANDATORY)
			return ddr_reason(r, rl, "mandatory lists itself");
		if (i > 0 && k == prev)
			return ddr_reason(r, rl, "mandatory lists %s twice", ddr_svc_key_name(k, a));
		if (i > 0 && k < prev)
			return ddr_reason(r, rl, "mandatory keys out of order: %s after %s",
					  ddr_svc_key_name(k, a), ddr_svc_key_name(prev, b));
		if (p->n_mandatory < DDR_MAX_MANDATORY)
			p->mandatory[p->n_mandatory] = k;
		p->n_mandatory++;
		prev = k;
	}
	return 0;
}

static unsigned
alpn_flag(const uint8_t *id, size_t len)
{
	if (len == 3 && memcmp(id, "dot", 3) == 0)
		return DDR_ALPN_DOT;
	if (len == 3 && memcmp(id, "doq", 3) == 0)
		return DDR_ALPN_DOQ;
	if (len == 2 && memcmp(id, "h2", 2) == 0)
		return DDR_ALPN_H2;
	if (len == 2 && memcmp(id, "h3", 2) == 0)
		return DDR_ALPN_H3;
	return DDR_ALPN_OTHER;
}

/* alpn-ids: non-empty length-prefixed ids filling the value exactly */
static int
parse_alpn(const uint8_t *v, size_t len, struct ddr_svc_params *p, char *r, size_t rl)
{
	size_t i = 0, l;

	if (len == 0)
		return ddr_reason(r, rl, "alpn is empty");
	while (i < len) {
		l = v[i];
		p->n_alpn++;
		if (l == 0)
			return ddr_reason(r, rl, "alpn id %u is empty", p->n_alpn);
		if (l > len - i - 1)
			return ddr_reason(r, rl, "alpn id %u runs past the end", p->n_alpn);
		p->alpn |= alpn_flag(v + i + 1, l);
		if (!p->alpn_cut && p->alpn_raw_len + 1 + l <= sizeof(p->alpn_raw)) {
			memcpy(p->alpn_raw + p->alpn_raw_len, v + i, 1 + l);
			p->alpn_raw_len += 1 + l;
		} else {
			p->alpn_cut = true;
		}
		i += 1 + l;
	}
	return 0;
}

/* ipv4hint / ipv6hint: a non-empty list of addresses of asize octets */
static int
parse_hint(const uint8_t *v, size_t len, size_t asize, struct ddr_svc_params *p, char *r,
	   size_t rl)
{
	const char *name = asize == 4 ? "ipv4hint" : "ipv6hint";
	size_t i;

	if (len == 0)
		return ddr_reason(r, rl, "%s is empty", name);
	if (len % asize != 0)
		return ddr_reason(r, rl, "%s length %zu is not a multiple of %zu", name, len, asize);
	for (i = 0; i < len; i += asize) {
		if (asize == 4 && p->n_ipv4hint < DDR_MAX_HINTS)
			memcpy(&p->ipv4hint[p->n_ipv4hint++], v + i, 4);
		else if (asize == 16 && p->n_ipv6hint < DDR_MAX_HINTS)
			memcpy(&p->ipv6hint[p->n_ipv6hint++], v + i, 16);
	}
	if (asize == 4)
		p->total_ipv4hint = (unsigned)(len / 4);
	else
		p->total_ipv6hint = (unsigned)(len / 16);
	return 0;
}

static void
keep_dohpath(const uint8_t *v, size_t len, struct ddr_svc_params *p)
{
	size_t i, n = len < DDR_DOHPATH_MAX ? len : DDR_DOHPATH_MAX;

	/* not used by a DoT client: kept for display, printable */
	for (i = 0; i < n; i++)
		p->dohpath[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
	p->dohpath[n] = '\0';
	p->dohpath_len = (uint16_t)len;
}

static void
keep_unknown(uint16_t key, const uint8_t *v, size_t len, struct ddr_svc_params *p)
{
	struct ddr_unknown_param *u;

	p->total_unknown++;
	if (p->n_unknown >= DDR_MAX_UNKNOWN)
		return;
	u = &p->unknown[p->n_unknown++];
	u->key = key;
	u->len = (uint16_t)len;
	memcpy(u->value, v, len < sizeof(u->value) ? len : sizeof(u->value));
}

static int
parse_value(uint16_t key, const uint8_t *v, size_t len, struct ddr_svc_params *p, char *r,
	    size_t rl)
{
	switch (key) {
	case DDR_KEY_MANDATORY:
		return parse_mandatory(v, len, p, r, rl);
	case DDR_KEY_ALPN:
		return parse_alpn(v, len, p, r, rl);
	case DDR_KEY_NO_DEFAULT_ALPN:
		if (len != 0)
			return ddr_reason(r, rl, "no-default-alpn length %zu is not 0", len);
		p->no_default_alpn = true;
		return 0;
	case DDR_KEY_PORT:
		if (len != 2)
			return ddr_reason(r, rl, "port length %zu is not 2", len);
		p->port = rd16(v);
		p->port_explicit = true;
		return 0;
	case DDR_KEY_IPV4HINT:
		return parse_hint(v, len, 4, p, r, rl);
	case DDR_KEY_IPV6HINT:
		return parse_hint(v, len, 16, p, r, rl);
	case DDR_KEY_ECH:
		p->ech_len = (uint16_t)len;
		return 0;
	case DDR_KEY_DOHPATH:
		keep_dohpath(v, len, p);
		return 0;
	default:
		keep_unknown(key, v, len, p);
		return 0;
	}
}

/* Is key among the (already validated) params? */
static bool
params_have(const uint8_t *p, size_t len, uint16_t key)
{
	size_t pos = 0;

	while (len - pos >= 4) {
		if (rd16(p + pos) == key)
			return true;
		pos += 4 + rd16(p + pos + 2);
	}
	return false;
}

/* RFC 9460 8: every key in mandatory is present and understood. */
static int
check_mandatory(const uint8_t *mand, size_t mlen, const uint8_t *p, size_t len, char *r,
		size_t rl)
{
	char a[16];
	uint16_t k;
	size_t i;

	for (i = 0; i + 1 < mlen; i += 2) {
		k = rd16(mand + i);
		if (!params_have(p, len, k))
			return ddr_reason(r, rl, "mandatory key %s is missing", ddr_svc_key_name(k, a));
		if (!key_understood(k))
			return ddr_reason(r, rl, "mandatory key %s is not supported",
					  ddr_svc_key_name(k, a));
	}
	return 0;
}

int
ddr_svc_params_parse(const uint8_t *p, size_t len, struct ddr_svc_params *out, char *r,
		     size_t rl)
{
	const uint8_t *mand = NULL;
	size_t pos = 0, vlen, mlen = 0;
	long prev = -1;
	uint16_t key;
	char a[16];
	int err;

	memset(out, 0, sizeof(*out));
	if (rl > 0)
		r[0] = '\0';
	while (pos < len) {
		if (len - pos < 4)
			return ddr_reason(r, rl, "SvcParam truncated (%zu octets left)", len - pos);
		key = rd16(p + pos);
		vlen = rd16(p + pos + 2);
		pos += 4;
		if (key == DDR_KEY_INVALID)
			return ddr_reason(r, rl, "key 65535 is reserved");
		if (vlen > len - pos)
			return ddr_reason(r, rl, "%s value length %zu runs past the end (%zu octets left)",
					  ddr_svc_key_name(key, a), vlen, len - pos);
		if ((long)key == prev)
			return ddr_reason(r, rl, "duplicate key %s", ddr_svc_key_name(key, a));
		if ((long)key < prev)
			return ddr_reason(r, rl, "keys out of order: %u after %ld", (unsigned)key, prev);
		err = parse_value(key, p + pos, vlen, out, r, rl);
		if (err < 0)
			return err;
		if (key <= DDR_KEY_DOHPATH)
			out->present |= 1u << key;
		if (key == DDR_KEY_MANDATORY) {
			mand = p + pos;
			mlen = vlen;
		}
		prev = key;
		pos += vlen;
	}
	if (mand != NULL && (err = check_mandatory(mand, mlen, p, len, r, rl)) < 0)
		return err;
	/* RFC 9460 7.1.1: no-default-alpn alone is not self-consistent */
	if (out->no_default_alpn && !ddr_svc_has(out, DDR_KEY_ALPN))
		return ddr_reason(r, rl, "no-default-alpn without alpn");
	if (!out->port_explicit)
		out->port = DDR_PORT_DOT;
	return 0;
}

/* The length of the uncompressed wire name at the start of p, or -1 if
 * there is none; *compressed tells a pointer from other garbage. */
static long
target_len(const uint8_t *p, size_t len, bool *compressed)
{
	size_t i = 0;

	*compressed = false;
	while (i < len && i < DNS_NAME_MAX) {
		uint8_t l = p[i];

		if ((l & 0xc0) == 0xc0) {
			*compressed = true;
			return -1;
		}
		if (l > 63)
			return -1;
		if (l == 0)
			return (long)i + 1;
		i += 1 + (size_t)l;
	}
	return -1;
}

int
ddr_svcb_parse(const uint8_t *rdata, size_t len, struct ddr_svcb *out)
{
	bool compressed;
	long tlen;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return ddr_reason(out->reason, sizeof(out->reason), "RDATA too short (%zu octets)", len);
	out->priority = rd16(rdata);
	tlen = target_len(rdata + 2, len - 2, &compressed);
	if (compressed)
		return ddr_reason(out->reason, sizeof(out->reason), "TargetName is compressed");
	if (tlen < 0 || !dns_name_valid(rdata + 2, (size_t)tlen))
		return ddr_reason(out->reason, sizeof(out->reason), "TargetName missing or malformed");
	memcpy(out->target, rdata + 2, (size_t)tlen);
	out->target_len = (size_t)tlen;
	if (out->priority == 0) {
		/* AliasMode: SvcParams are ignored (RFC 9460 2.4.2) */
		out->params_ignored = 2 + (size_t)tlen < len;
		return 0;
	}
	return ddr_svc_params_parse(rdata + 2 + tlen, len - 2 - (size_t)tlen, &out->params,
				    out->reason, sizeof(out->reason));
}

bool
ddr_svcb_qualifies_dot(const struct ddr_svcb *s)
{
	return s->priority != 0 && ddr_svc_has(&s->params, DDR_KEY_ALPN) &&
	       (s->params.alpn & DDR_ALPN_DOT);
}
