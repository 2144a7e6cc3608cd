/*
 * ddr_dnr.c -- the Encrypted DNS options of RFC 9463: DHCPv6 option 144
 * (4.1), DHCPv4 option 162 (5.1), RA option 144 (6.1).  The three carry
 * the same instance (Service Priority, ADN, addresses, SvcParams) with
 * different length fields; one reader takes the form as a parameter.
 * Every octet comes from the network: each length is checked against what
 * is left of the instance before anything is read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ddr_int.h"

/* How one encoding lays out an instance. */
struct dnr_form {
	int family;
	size_t asize;    /* octets per address */
	size_t lenfield; /* octets of the ADN Length and Addr Length fields */
	bool ra;         /* Lifetime, SvcParams Length and padding */
};

static const struct dnr_form form_dhcp6 = { AF_INET6, 16, 2, false };
static const struct dnr_form form_dhcp4 = { AF_INET, 4, 1, false };
static const struct dnr_form form_ra = { AF_INET6, 16, 2, true };

/* A cursor over one instance; reads only after a length check. */
struct cur {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static size_t
left(const struct cur *c)
{
	return c->len - c->pos;
}

static size_t
take(struct cur *c, size_t n)
{
	size_t v = 0, i;

	for (i = 0; i < n; i++)
		v = v << 8 | c->p[c->pos++];
	return v;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return false;
	return true;
}

/* Why an IPv4 address cannot be a resolver's (RFC 9463 5.2: multicast and
 * host loopback; and 0/8, 255.255.255.255 that name no host), or NULL. */
const char *
ddr_v4_unusable(const uint8_t a[4])
{
	if (a[0] == 0)
		return "unspecified";
	if (a[0] == 127)
		return "loopback";
	if (a[0] >= 224 && a[0] < 240)
		return "multicast";
	if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		return "broadcast";
	return NULL;
}

/* The same for IPv6 (RFC 9463 4.2, 6.2): ::, ::1, ff00::/8, and an
 * IPv4-mapped address of an unusable IPv4 address. */
const char *
ddr_v6_unusable(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a[0] == 0xff)
		return "multicast";
	if (all_zero(a, 15))
		return a[15] == 0 ? "unspecified" : a[15] == 1 ? "loopback" : NULL;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return ddr_v4_unusable(a + 12);
	return NULL;
}

static void
discard(struct ddr_dnr_instance *in, int family, const uint8_t *a, const char *why)
{
	char text[INET6_ADDRSTRLEN];

	if (in->ndiscarded++ > 0)
		return;
	inet_ntop(family, a, text, sizeof(text));
	snprintf(in->note, sizeof(in->note), "discarded %s (%s)", text, why);
}

/* Keep the usable addresses; the first unusable one goes in the note. */
static int
read_addrs(const uint8_t *p, size_t len, const struct dnr_form *f, struct ddr_dnr_instance *in,
	   char *r, size_t rl)
{
	char more[32] = "";
	const char *why;
	size_t i;

	for (i = 0; i < len; i += f->asize) {
		why = f->family == AF_INET ? ddr_v4_unusable(p + i) : ddr_v6_unusable(p + i);
		if (why != NULL)
			discard(in, f->family, p + i, why);
		else if (in->naddr < DDR_DNR_MAX_ADDRS && f->family == AF_INET)
			memcpy(&in->addr4[in->naddr++], p + i, 4);
		else if (in->naddr < DDR_DNR_MAX_ADDRS)
			memcpy(&in->addr6[in->naddr++], p + i, 16);
	}
	if (in->ndiscarded > 1) {
		snprintf(more, sizeof(more), " and %u more", in->ndiscarded - 1);
		strncat(in->note, more, sizeof(in->note) - strlen(in->note) - 1);
	}
	if (in->naddr == 0)
		return ddr_reason(r, rl, "no usable address (%s)", in->note);
	return 0;
}

/* RFC 9463 3.1.8: alpn present; no ipv4hint or ipv6hint (the addresses
 * are in the option). */
static int
check_params(const struct ddr_svc_params *sp, char *r, size_t rl)
{
	if (!ddr_svc_has(sp, DDR_KEY_ALPN))
		return ddr_reason(r, rl, "alpn is missing");
	if (ddr_svc_has(sp, DDR_KEY_IPV4HINT))
		return ddr_reason(r, rl, "ipv4hint is not allowed in DNR");
	if (ddr_svc_has(sp, DDR_KEY_IPV6HINT))
		return ddr_reason(r, rl, "ipv6hint is not allowed in DNR");
	return 0;
}

/* The ADN: a non-empty, uncompressed, fully qualified name filling its
 * field exactly (RFC 9463 3.1.8, RFC 8415 10), not the root. */
static int
read_adn(struct cur *c, const struct dnr_form *f, struct ddr_dnr_instance *in, char *r,
	 size_t rl)
{
	size_t n = take(c, f->lenfield);
	const uint8_t *adn = c->p + c->pos;

	if (n == 0)
		return ddr_reason(r, rl, "ADN is empty");
	if (n > left(c))
		return ddr_reason(r, rl, "ADN Length %zu runs past the end (%zu octets left)", n,
				  left(c));
	if (!dns_name_valid(adn, n))
		return ddr_reason(r, rl, "ADN is not a valid uncompressed domain name");
	if (n == 1)
		return ddr_reason(r, rl, "ADN is the root");
	memcpy(in->adn, adn, n);
	in->adn_len = n;
	c->pos += n;
	return 0;
}

/* Addr Length and the addresses; *addrs and *alen point into the input. */
static int
read_addr_field(struct cur *c, const struct dnr_form *f, const uint8_t **addrs, size_t *alen,
		char *r, size_t rl)
{
	size_t n;

	if (left(c) < f->lenfield)
		return ddr_reason(r, rl, "Addr Length truncated");
	n = take(c, f->lenfield);
	if (n > left(c))
		return ddr_reason(r, rl, "Addr Length %zu runs past the end (%zu octets left)", n,
				  left(c));
	if (n == 0)
		return ddr_reason(r, rl, "no address (Addr Length 0)");
	if (n % f->asize != 0)
		return ddr_reason(r, rl, "Addr Length %zu is not a multiple of %zu", n, f->asize);
	*addrs = c->p + c->pos;
	*alen = n;
	c->pos += n;
	return 0;
}

/* The SvcParams field: the rest of the instance (DHCP), or SvcParams
 * Length octets followed by at most 7 octets of padding (RA). */
static int
params_field(struct cur *c, const struct dnr_form *f, size_t *plen, char *r, size_t rl)
{
	size_t n;

	if (!f->ra) {
		*plen = left(c);
		return 0;
	}
	if (left(c) < 2)
		return ddr_reason(r, rl, "SvcParams Length truncated");
	n = take(c, 2);
	if (n > left(c))
		return ddr_reason(r, rl, "SvcParams Length %zu runs past the end (%zu octets left)",
				  n, left(c));
	if (left(c) - n >= 8)
		return ddr_reason(r, rl, "%zu octets after the SvcParams (padding is at most 7)",
				  left(c) - n);
	*plen = n;
	return 0;
}

static bool
adn_only(const struct cur *c, const struct dnr_form *f)
{
	if (!f->ra)
		return left(c) == 0;
	/* an RA ends after the ADN with padding only (RFC 9463 6.1) */
	return left(c) < 8 && all_zero(c->p + c->pos, left(c));
}

/* One instance in p[0..len): 0, or -EBADMSG with the reason. */
static int
read_instance(const uint8_t *p, size_t len, const struct dnr_form *f, struct ddr_dnr_instance *in,
	      char *r, size_t rl)
{
	struct cur c = { p, len, 0 };
	const uint8_t *addrs = NULL;
	size_t alen = 0, plen = 0;
	char why[DDR_REASON_MAX];
	int err;

	in->family = f->family;
	in->lifetime = DDR_DNR_LIFETIME_INFINITE;
	if (len < 2 + (f->ra ? 4 : 0) + f->lenfield)
		return ddr_reason(r, rl, "too short (%zu octets)", len);
	in->priority = (uint16_t)take(&c, 2);
	if (in->priority == 0)
		return ddr_reason(r, rl, "Service Priority 0 is not allowed");
	if (f->ra) {
		in->has_lifetime = true;
		in->lifetime = (uint32_t)take(&c, 4);
	}
	if ((err = read_adn(&c, f, in, r, rl)) < 0)
		return err;
	if (adn_only(&c, f)) {
		in->adn_only = true;
		return 0;
	}
	if ((err = read_addr_field(&c, f, &addrs, &alen, r, rl)) < 0 ||
	    (err = params_field(&c, f, &plen, r, rl)) < 0)
		return err;
	if (ddr_svc_params_parse(c.p + c.pos, plen, &in->params, why, sizeof(why)) < 0)
		return ddr_reason(r, rl, "SvcParams: %s", why);
	if ((err = check_params(&in->params, r, rl)) < 0)
		return err;
	return read_addrs(addrs, alen, f, in, r, rl);
}

static void
add_bad(struct ddr_dnr *d, unsigned index, const char *why)
{
	struct ddr_dnr_bad *b;

	if (d->nbad >= DDR_DNR_MAX_INSTANCES)
		return;
	b = &d->bad[d->nbad++];
	b->index = index;
	ddr_reason(b->reason, sizeof(b->reason), "instance %u: %s", index, why);
}

/* Read one instance into the next free slot, or record why not. */
static void
add_instance(struct ddr_dnr *d, unsigned index, const uint8_t *p, size_t len,
	     const struct dnr_form *f)
{
	struct ddr_dnr_instance *in;
	char why[DDR_REASON_MAX];

	if (d->n >= DDR_DNR_MAX_INSTANCES) {
		snprintf(why, sizeof(why), "more than %d instances, ignored", DDR_DNR_MAX_INSTANCES);
		add_bad(d, index, why);
		return;
	}
	in = &d->inst[d->n];
	memset(in, 0, sizeof(*in));
	in->index = index;
	if (read_instance(p, len, f, in, why, sizeof(why)) < 0) {
		memset(in, 0, sizeof(*in));
		add_bad(d, index, why);
		return;
	}
	d->n++;
}

static void
dnr_reset(struct ddr_dnr *d, enum ddr_dnr_source source)
{
	memset(d, 0, sizeof(*d));
	d->source = source;
}

int
ddr_dnr_parse_dhcp6(const uint8_t *data, size_t len, struct ddr_dnr *out)
{
	dnr_reset(out, DDR_DNR_DHCP6);
	out->total = 1;
	add_instance(out, 1, data, len, &form_dhcp6);
	return (int)out->n;
}

int
ddr_dnr_parse_dhcp4(const uint8_t *data, size_t len, struct ddr_dnr *out)
{
	char why[DDR_REASON_MAX];
	size_t pos = 0, ilen;
	unsigned index;

	dnr_reset(out, DDR_DNR_DHCP4);
	while (pos < len) {
		index = ++out->total;
		if (len - pos < 2) {
			snprintf(why, sizeof(why), "length truncated (%zu octets left)", len - pos);
			add_bad(out, index, why);
			break;
		}
		ilen = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (ilen > len - pos) {
			/* the framing is lost: nothing after this can be found */
			snprintf(why, sizeof(why),
				 "length %zu runs past the end of the option (%zu octets left)", ilen,
				 len - pos);
			add_bad(out, index, why);
			break;
		}
		if (ilen < 3) {
			snprintf(why, sizeof(why), "length %zu is too short", ilen);
			add_bad(out, index, why);
		} else {
			add_instance(out, index, data + pos, ilen, &form_dhcp4);
		}
		pos += ilen;
	}
	return (int)out->n;
}

int
ddr_dnr_parse_ra(const uint8_t *opt, size_t len, struct ddr_dnr *out)
{
	char why[DDR_REASON_MAX];

	dnr_reset(out, DDR_DNR_RA);
	out->total = 1;
	if (len < 16)
		snprintf(why, sizeof(why), "RA option too short (%zu octets)", len);
	else if (opt[0] != DDR_RA_OPTION_DNR)
		snprintf(why, sizeof(why), "RA option type %u is not %u", opt[0],
			 DDR_RA_OPTION_DNR);
	else if ((size_t)opt[1] * 8 != len)
		snprintf(why, sizeof(why), "RA option Length %u (%u octets) is not the %zu octets given",
			 opt[1], opt[1] * 8u, len);
	else {
		add_instance(out, 1, opt + 2, len - 2, &form_ra);
		return (int)out->n;
	}
	add_bad(out, 1, why);
	return 0;
}
