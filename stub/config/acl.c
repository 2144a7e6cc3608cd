/* acl.c -- the access-control table (see dotstub/acl.h). */
#include "dotstub/acl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[] = {
	[DS_ACL_ALLOW] = "allow", [DS_ACL_REFUSE] = "refuse", [DS_ACL_DENY] = "deny",
};

const char *ds_acl_action_name(enum ds_acl_action a)
{
	return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/* Clear the bits of b (len octets) past plen. */
static void mask_bits(uint8_t *b, size_t len, unsigned plen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned first = (unsigned)i * 8;

		if (plen >= first + 8)
			continue;
		b[i] = plen <= first ? 0 : (uint8_t)(b[i] & (0xff00u >> (plen - first)));
	}
}

int ds_acl_rule_make(int family, const void *addr, unsigned plen, enum ds_acl_action action,
		     struct ds_acl_rule *ret)
{
	struct ds_acl_rule r;
	unsigned bits = family_bits(family);

	if (bits == 0 || plen > bits || (unsigned)action > DS_ACL_DENY)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.plen = plen;
	r.action = action;
	memcpy(r.net.b, addr, bits / 8);
	mask_bits(r.net.b, bits / 8, plen);
	*ret = r;
	return 0;
}

static int parse_action(const char *s, enum ds_acl_action *ret)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(s, action_names[i])) {
			*ret = (enum ds_acl_action)i;
			return 0;
		}
	return -EINVAL;
}

/* "ADDR" or "ADDR/LEN" */
static int parse_netmask(const char *s, int *family, uint8_t addr[16], unsigned *plen,
			 const char **why)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned bits;

	if (alen == 0 || alen >= sizeof(a)) {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (inet_pton(AF_INET, a, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, a, addr) == 1)
		*family = AF_INET6;
	else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	bits = family_bits(*family);
	*plen = bits;
	if (slash) {
		const char *p = slash + 1;
		unsigned long n;
		char *ep;

		if (!isdigit((unsigned char)*p) || strlen(p) > 3) {
			*why = "the netmask length is not a number";
			return -EINVAL;
		}
		n = strtoul(p, &ep, 10);
		if (*ep || n > bits) {
			*why = *family == AF_INET ? "the netmask length is not in 0..32"
						  : "the netmask length is not in 0..128";
			return -EINVAL;
		}
		*plen = (unsigned)n;
	}
	return 0;
}

int ds_acl_rule_parse(const char *text, struct ds_acl_rule *ret, const char **why)
{
	char mask[INET6_ADDRSTRLEN + 8], act[16];
	const char *p = text, *start;
	enum ds_acl_action action;
	uint8_t addr[16] = { 0 };
	unsigned plen;
	int family;
	size_t n;

	*why = "expected NETMASK allow|refuse|deny";
	while (*p == ' ' || *p == '\t')
		p++;
	for (start = p; *p && *p != ' ' && *p != '\t'; p++)
		;
	n = (size_t)(p - start);
	if (n == 0 || n >= sizeof(mask))
		return -EINVAL;
	memcpy(mask, start, n);
	mask[n] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	for (start = p; *p && *p != ' ' && *p != '\t'; p++)
		;
	n = (size_t)(p - start);
	while (*p == ' ' || *p == '\t')
		p++;
	if (n == 0 || *p)
		return -EINVAL;
	*why = "the action is not allow, refuse or deny";
	if (n >= sizeof(act))
		return -EINVAL;
	memcpy(act, start, n);
	act[n] = '\0';
	if (parse_action(act, &action) < 0)
		return -EINVAL;
	if (parse_netmask(mask, &family, addr, &plen, why) < 0)
		return -EINVAL;
	return ds_acl_rule_make(family, addr, plen, action, ret);
}

const char *ds_acl_rule_format(const struct ds_acl_rule *r, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(r->family, r->net.b, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(out, outlen, "%s/%u %s", a, r->plen, ds_acl_action_name(r->action));
	return out;
}

bool ds_acl_same_netmask(const struct ds_acl_rule *a, const struct ds_acl_rule *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->net.b, b->net.b, family_bits(a->family) / 8);
}

void ds_acl_init(struct ds_acl *t)
{
	t->n = 0;
}

/* Table order: IPv4 first, then from the longest netmask down, then by
 * address (so that equal tables compare equal). */
static int rule_order(const struct ds_acl_rule *a, const struct ds_acl_rule *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	return memcmp(a->net.b, b->net.b, family_bits(a->family) / 8);
}

int ds_acl_add(struct ds_acl *t, const struct ds_acl_rule *r)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (ds_acl_same_netmask(&t->rule[i], r))
			return -EEXIST;
	if (t->n >= DS_ACL_MAX)
		return -ENOSPC;
	for (i = t->n; i > 0 && rule_order(r, &t->rule[i - 1]) < 0; i--)
		t->rule[i] = t->rule[i - 1];
	t->rule[i] = *r;
	t->n++;
	return 0;
}

bool ds_acl_equal(const struct ds_acl *a, const struct ds_acl *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!ds_acl_same_netmask(&a->rule[i], &b->rule[i]) ||
		    a->rule[i].action != b->rule[i].action)
			return false;
	return true;
}

/* Does the IPv6 network of r (plen > 0) hold a? */
static bool holds6(const struct ds_acl_rule *r, const uint8_t *a)
{
	unsigned whole = r->plen / 8, rest = r->plen % 8;

	if (memcmp(r->net.b, a, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ r->net.b[whole]) & (0xff00u >> rest)) == 0;
}

enum ds_acl_action ds_acl_match(const struct ds_acl *t, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	uint32_t v4;
	size_t i;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&v4, s6->sin6_addr.s6_addr + 12, 4);
	} else if (ss->ss_family == AF_INET) {
		v4 = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
	} else if (ss->ss_family == AF_INET6) {
		for (i = 0; i < t->n; i++) {
			const struct ds_acl_rule *r = &t->rule[i];

			if (r->family == AF_INET6 && (r->plen == 0 || holds6(r, s6->sin6_addr.s6_addr)))
				return r->action;
		}
		return DS_ACL_REFUSE;
	} else {
		return DS_ACL_REFUSE;
	}
	v4 = ntohl(v4);
	for (i = 0; i < t->n && t->rule[i].family == AF_INET; i++) {
		const struct ds_acl_rule *r = &t->rule[i];
		uint32_t mask = r->plen ? ~0u << (32 - r->plen) : 0;

		if ((v4 & mask) == ntohl(r->net.v4.s_addr))
			return r->action;
	}
	return DS_ACL_REFUSE;
}
