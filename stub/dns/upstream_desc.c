/*
 * desc.c -- upstream descriptions: TLSA records in presentation form,
 * "NAME@ADDR[:PORT]" specifications, socket address formatting
 * (see include/dotstub/upstream.h).
 *
 * Everything parsed here comes from a file or the command line: strictly
 * checked, outputs written only on success.
 */
#include "dotstub/hex.h"
#include "dotstub/upstream_desc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTNAME_MAX 253
#define LABEL_MAX 63

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse a decimal 0..255 at *p, move *p past it. */
static int parse_u8(const char **p, uint8_t *ret)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 255 || ++n > 3)
			return -EINVAL;
		s++;
	}
	if (n == 0)
		return -EINVAL;
	*p = s;
	*ret = (uint8_t)v;
	return 0;
}

static const char *skip_space(const char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* Decode hex digits (blanks allowed between them) into out (cap octets).
 * Returns the number of octets or -EINVAL. */
static int parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (is_space(*s))
			continue;
		v = ds_hex_digit(*s);
		if (v < 0)
			return -EINVAL;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0 || n == 0)
		return -EINVAL;
	return (int)n;
}

int ds_tlsa_parse(const char *text, struct ds_tlsa *t)
{
	uint8_t field[3];
	uint8_t *buf, *data;
	const char *p;
	int n;

	if (text == NULL || t == NULL)
		return -EINVAL;
	p = skip_space(text);
	for (int i = 0; i < 3; i++) {
		if (parse_u8(&p, &field[i]) < 0 || !is_space(*p))
			return -EINVAL;
		p = skip_space(p);
	}
	buf = malloc(DS_TLSA_DATA_MAX);
	if (buf == NULL)
		return -ENOMEM;
	n = parse_hex(p, buf, DS_TLSA_DATA_MAX);
	if (n < 0) {
		free(buf);
		return n;
	}
	data = realloc(buf, (size_t)n);
	if (data == NULL)
		data = buf;
	t->usage = field[0];
	t->selector = field[1];
	t->mtype = field[2];
	t->len = (uint16_t)n;
	t->data = data;
	return 0;
}

void ds_tlsa_format(const struct ds_tlsa *t, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t pos, nhex;
	int n;

	if (out == NULL || outlen == 0)
		return;
	n = snprintf(out, outlen, "%u %u %u ", t->usage, t->selector, t->mtype);
	if (n < 0 || (size_t)n >= outlen)
		return; /* cut by snprintf, still terminated */
	pos = (size_t)n;
	nhex = t->data != NULL ? t->len : 0;
	if (pos + 2 * nhex + 1 > outlen) {
		/* keep what fits before "..." and the terminator */
		size_t room = outlen > pos + 4 ? outlen - pos - 4 : 0;

		nhex = room / 2;
	}
	for (size_t i = 0; i < nhex; i++) {
		out[pos++] = digits[t->data[i] >> 4];
		out[pos++] = digits[t->data[i] & 0xf];
	}
	if (t->data != NULL && nhex < t->len && pos + 4 <= outlen) {
		memcpy(out + pos, "...", 3);
		pos += 3;
	}
	out[pos] = '\0';
}

/*
 * Check a host name in presentation form (one optional trailing dot) and
 * copy it lower-cased without the dot into out.  Letters, digits, '-' and
 * '_' only; labels 1..63; at most 253 characters.
 */
static int hostname_normalize(const char *s, size_t len, char out[DNS_NAME_MAX + 1])
{
	size_t label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOSTNAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			label++;
		} else {
			return -EINVAL;
		}
		if (label > LABEL_MAX)
			return -EINVAL;
		out[i] = c;
	}
	if (label == 0)
		return -EINVAL;
	out[len] = '\0';
	return 0;
}

/* Numeric address and port -> sockaddr.  IPv4 in dotted quad only (not
 * the legacy inet_aton forms); IPv6 may carry a %scope. */
static int addr_parse(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_in sin;
	char portstr[8];
	int r;

	memset(&sin, 0, sizeof(sin));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	}
	if (strchr(host, ':') == NULL)
		return -EINVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0 || res == NULL)
		return -EINVAL;
	r = -EINVAL;
	if (res->ai_family == AF_INET6 && res->ai_addrlen <= sizeof(*ss)) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, res->ai_addr, res->ai_addrlen);
		r = 0;
	}
	freeaddrinfo(res);
	return r;
}

static int port_parse(const char *s, unsigned *ret)
{
	unsigned v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "ADDR", "ADDR:PORT" (IPv4), "[ADDR]:PORT", "[ADDR]" or bare IPv6. */
static int hostport_parse(const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *colon, *end;
	unsigned port = DS_DOT_PORT;
	bool bracketed = s[0] == '[';
	size_t hlen;

	if (bracketed) {
		end = strchr(s, ']');
		if (end == NULL)
			return -EINVAL;
		hlen = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':') {
			if (port_parse(end + 2, &port) < 0)
				return -EINVAL;
		} else if (end[1] != '\0') {
			return -EINVAL;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* exactly one colon: IPv4 with a port */
			hlen = (size_t)(colon - s);
			if (port_parse(colon + 1, &port) < 0)
				return -EINVAL;
		} else {
			hlen = strlen(s);
		}
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	/* brackets are for IPv6 only */
	if (bracketed && strchr(host, ':') == NULL)
		return -EINVAL;
	return addr_parse(host, port, ss);
}

static bool sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

int ds_upstream_desc_add(struct ds_upstream_desc *d, const char *spec)
{
	char name[DNS_NAME_MAX + 1];
	struct sockaddr_storage ss;
	const char *at;

	if (d == NULL || spec == NULL)
		return -EINVAL;
	at = strchr(spec, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return -EINVAL;
	if (hostname_normalize(spec, (size_t)(at - spec), name) < 0)
		return -EINVAL;
	if (d->name[0] != '\0' && strcmp(d->name, name) != 0)
		return -EINVAL;
	if (hostport_parse(at + 1, &ss) < 0)
		return -EINVAL;
	for (int i = 0; i < d->naddr; i++)
		if (sockaddr_equal(&d->addr[i], &ss)) {
			memcpy(d->name, name, sizeof(name));
			return 0; /* already there */
		}
	if (d->naddr < 0 || d->naddr >= DS_MAX_UPSTREAM_ADDRS)
		return -E2BIG;
	memcpy(d->name, name, sizeof(name));
	d->addr[d->naddr++] = ss;
	return 0;
}

int ds_upstream_desc_add_tlsa(struct ds_upstream_desc *d, const struct ds_tlsa *t)
{
	uint8_t *data;

	if (d == NULL || t == NULL || t->len == 0 || t->len > DS_TLSA_DATA_MAX ||
	    t->data == NULL)
		return -EINVAL;
	if (d->ntlsa < 0 || d->ntlsa >= DS_MAX_TLSA)
		return -E2BIG;
	data = malloc(t->len);
	if (data == NULL)
		return -ENOMEM;
	memcpy(data, t->data, t->len);
	d->tlsa[d->ntlsa] = *t;
	d->tlsa[d->ntlsa].data = data;
	d->ntlsa++;
	return 0;
}

int ds_upstream_desc_copy(struct ds_upstream_desc *dst, const struct ds_upstream_desc *src)
{
	struct ds_upstream_desc tmp;

	if (src->ntlsa < 0 || src->ntlsa > DS_MAX_TLSA || src->naddr < 0 ||
	    src->naddr > DS_MAX_UPSTREAM_ADDRS)
		return -EINVAL;
	tmp = *src;
	tmp.ntlsa = 0;
	for (int i = 0; i < src->ntlsa; i++) {
		int r = ds_upstream_desc_add_tlsa(&tmp, &src->tlsa[i]);

		if (r < 0) {
			ds_upstream_desc_clear(&tmp);
			return r;
		}
	}
	*dst = tmp;
	return 0;
}

void ds_upstream_desc_clear(struct ds_upstream_desc *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->ntlsa && i < DS_MAX_TLSA; i++)
		free(d->tlsa[i].data);
	memset(d, 0, sizeof(*d));
}

static bool tlsa_usable(const struct ds_tlsa *t)
{
	if (t->usage != 2 && t->usage != 3)
		return false;
	if (t->selector > 1 || t->data == NULL)
		return false;
	switch (t->mtype) {
	case 0:
		return t->len > 0 && t->len <= DS_TLSA_DATA_MAX;
	case 1:
		return t->len == 32;
	case 2:
		return t->len == 64;
	default:
		return false;
	}
}

int ds_upstream_desc_usable_tlsa(const struct ds_upstream_desc *d)
{
	int n = 0;

	for (int i = 0; i < d->ntlsa && i < DS_MAX_TLSA; i++)
		if (tlsa_usable(&d->tlsa[i]))
			n++;
	return n;
}

const char *ds_server_type_name(enum ds_server_type t)
{
	switch (t) {
	case DS_SERVER_RESOLVER:
		return "resolver";
	case DS_SERVER_FORWARDER:
		return "forwarder";
	case DS_SERVER_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *ds_transport_name(enum ds_transport t)
{
	switch (t) {
	case DS_TRANSPORT_DOT:
		return "dot";
	case DS_TRANSPORT_DO53:
		return "do53";
	case DS_TRANSPORT_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *ds_auth_name(enum ds_auth a)
{
	switch (a) {
	case DS_AUTH_DANE:
		return "dane";
	case DS_AUTH_PKIX:
		return "pkix";
	case DS_AUTH_OPPORTUNISTIC:
		return "opportunistic";
	}
	return "unknown";
}

int ds_server_type_parse(const char *s, enum ds_server_type *ret)
{
	static const enum ds_server_type all[] = { DS_SERVER_UNKNOWN, DS_SERVER_RESOLVER,
						   DS_SERVER_FORWARDER };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, ds_server_type_name(all[i])) == 0) {
			*ret = all[i];
			return 0;
		}
	return -EINVAL;
}

const char *ds_upstream_err_str(enum ds_upstream_err e)
{
	switch (e) {
	case DS_UP_OK:
		return "ok";
	case DS_UP_ERR_TIMEOUT:
		return "timeout";
	case DS_UP_ERR_NETWORK:
		return "network error";
	case DS_UP_ERR_TLS:
		return "TLS error";
	case DS_UP_ERR_AUTH:
		return "authentication failed";
	case DS_UP_ERR_NO_TLSA:
		return "no usable TLSA record";
	case DS_UP_ERR_OVERLOAD:
		return "overload";
	case DS_UP_ERR_BADANSWER:
		return "bad answer";
	case DS_UP_ERR_CANCELLED:
		return "cancelled";
	}
	return "unknown error";
}
