/*
 * ddr_print.c -- presentation of parsed SVCB records and DNR instances, in
 * the form dig shows SVCB RDATA (RFC 9460 2.1, Appendix A): values quoted,
 * '"' and '\' escaped, other non-printable octets as \DDD, and ',' and '\'
 * escaped once more inside a value list (alpn).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ddr_int.h"

/* An output buffer that remembers whether anything did not fit. */
struct obuf {
	char *p;
	size_t cap;
	size_t len;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
oput(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static int
ofinish(struct obuf *o)
{
	if (o->full) {
		if (o->cap > 0)
			o->p[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* One octet of a quoted value; in_list also escapes ',' and '\' for the
 * value-list level (RFC 9460 A.1). */
static void
put_octet(struct obuf *o, uint8_t c, bool in_list)
{
	if (in_list && (c == ',' || c == '\\'))
		oput(o, "\\\\");
	if (c == '"' || c == '\\')
		oput(o, "\\%c", c);
	else if (c < 0x20 || c >= 0x7f)
		oput(o, "\\%03u", c);
	else
		oput(o, "%c", c);
}

static void
put_octets(struct obuf *o, const uint8_t *v, size_t n, bool in_list)
{
	size_t i;

	for (i = 0; i < n; i++)
		put_octet(o, v[i], in_list);
}

static void
put_mandatory(struct obuf *o, const struct ddr_svc_params *p)
{
	char buf[16];
	unsigned i;

	oput(o, " mandatory=");
	for (i = 0; i < p->n_mandatory && i < DDR_MAX_MANDATORY; i++)
		oput(o, "%s%s", i ? "," : "", ddr_svc_key_name(p->mandatory[i], buf));
}

static void
put_alpn(struct obuf *o, const struct ddr_svc_params *p)
{
	size_t i = 0;

	oput(o, " alpn=\"");
	while (i < p->alpn_raw_len) {
		size_t l = p->alpn_raw[i];

		if (i > 0)
			oput(o, ",");
		put_octets(o, p->alpn_raw + i + 1, l, true);
		i += 1 + l;
	}
	oput(o, "\"");
	if (p->alpn_cut)
		oput(o, "(%u ids in all)", p->n_alpn);
}

static void
put_hints(struct obuf *o, int family, const void *addrs, unsigned n, unsigned total)
{
	char text[INET6_ADDRSTRLEN];
	size_t asize = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	unsigned i;

	for (i = 0; i < n; i++) {
		inet_ntop(family, (const uint8_t *)addrs + i * asize, text, sizeof(text));
		oput(o, "%s%s", i ? "," : "", text);
	}
	if (total > n)
		oput(o, ",(%u more)", total - n);
}

static void
put_unknown(struct obuf *o, const struct ddr_unknown_param *u)
{
	oput(o, " key%u=", (unsigned)u->key);
	if (u->len > sizeof(u->value)) {
		oput(o, "(%u octets)", (unsigned)u->len);
		return;
	}
	oput(o, "\"");
	put_octets(o, u->value, u->len, false);
	oput(o, "\"");
}

/* Every parameter, each after a space, in key order (the wire order). */
static void
put_params(struct obuf *o, const struct ddr_svc_params *p)
{
	unsigned i;

	if (ddr_svc_has(p, DDR_KEY_MANDATORY))
		put_mandatory(o, p);
	if (ddr_svc_has(p, DDR_KEY_ALPN))
		put_alpn(o, p);
	if (p->no_default_alpn)
		oput(o, " no-default-alpn");
	if (p->port_explicit)
		oput(o, " port=%u", (unsigned)p->port);
	if (ddr_svc_has(p, DDR_KEY_IPV4HINT)) {
		oput(o, " ipv4hint=");
		put_hints(o, AF_INET, p->ipv4hint, p->n_ipv4hint, p->total_ipv4hint);
	}
	if (ddr_svc_has(p, DDR_KEY_ECH))
		oput(o, " ech=(%u octets)", (unsigned)p->ech_len);
	if (ddr_svc_has(p, DDR_KEY_IPV6HINT)) {
		oput(o, " ipv6hint=");
		put_hints(o, AF_INET6, p->ipv6hint, p->n_ipv6hint, p->total_ipv6hint);
	}
	if (ddr_svc_has(p, DDR_KEY_DOHPATH)) {
		oput(o, " dohpath=\"");
		put_octets(o, (const uint8_t *)p->dohpath, strlen(p->dohpath), false);
		oput(o, "\"");
		if (p->dohpath_len > DDR_DOHPATH_MAX)
			oput(o, "(%u octets)", (unsigned)p->dohpath_len);
	}
	for (i = 0; i < p->n_unknown && i < DDR_MAX_UNKNOWN; i++)
		put_unknown(o, &p->unknown[i]);
	if (p->total_unknown > p->n_unknown)
		oput(o, " (%u more keys)", p->total_unknown - p->n_unknown);
}

static void
put_name(struct obuf *o, const uint8_t *name, size_t len)
{
	char text[DNS_NAME_MAX * 4 + 2];

	if (dns_name_to_str(name, len, text, sizeof(text)) < 0)
		oput(o, "?");
	else
		oput(o, "%s", text);
}

int
ddr_svc_params_format(const struct ddr_svc_params *p, char *out, size_t outlen)
{
	struct obuf o = { out, outlen, 0, outlen == 0 };

	oput(&o, "%s", "");
	put_params(&o, p);
	if (!o.full && o.len > 0)
		memmove(out, out + 1, o.len); /* the leading space; the NUL moves too */
	return ofinish(&o);
}

int
ddr_svcb_format(const struct ddr_svcb *s, char *out, size_t outlen)
{
	struct obuf o = { out, outlen, 0, outlen == 0 };

	oput(&o, "%u ", (unsigned)s->priority);
	put_name(&o, s->target, s->target_len);
	put_params(&o, &s->params);
	return ofinish(&o);
}

int
ddr_dnr_format(const struct ddr_dnr_instance *in, char *out, size_t outlen)
{
	struct obuf o = { out, outlen, 0, outlen == 0 };

	oput(&o, "%u ", (unsigned)in->priority);
	put_name(&o, in->adn, in->adn_len);
	oput(&o, " ");
	if (in->naddr == 0)
		oput(&o, "-");
	else if (in->family == AF_INET)
		put_hints(&o, AF_INET, in->addr4, in->naddr, in->naddr);
	else
		put_hints(&o, AF_INET6, in->addr6, in->naddr, in->naddr);
	put_params(&o, &in->params);
	if (in->has_lifetime && in->lifetime == DDR_DNR_LIFETIME_INFINITE)
		oput(&o, " lifetime infinite");
	else if (in->has_lifetime)
		oput(&o, " lifetime %u", (unsigned)in->lifetime);
	return ofinish(&o);
}
