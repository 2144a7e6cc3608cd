/*
 * walk_key.c -- DNSKEY (and KEY) rdata as the walk sees it: decoded, with
 * its key tag and digest.  The encoding work (key tag, SHA-256, base64,
 * presentation format) is the trust part's (dotstub/trust.h); this file
 * only adapts it to struct disc_key and checks the owner of text keys.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dotstub/discovery.h"
#include "dotstub/hex.h"
#include "dotstub/trust.h"
#include "dotstub/wire.h"

#define KEY_TEXT_MAX 4096
#define KEY_MAX_TOKENS 64

int
disc_key_from_trust(const struct trust_dnskey *t, struct disc_key *ret)
{
	struct disc_key k;

	memset(&k, 0, sizeof(k));
	k.flags = t->flags;
	k.protocol = t->protocol;
	k.algorithm = t->algorithm;
	k.key_len = t->keylen;
	memcpy(k.key, t->key, t->keylen);
	k.tag = trust_dnskey_tag(t);
	if (trust_dnskey_sha256(t, k.sha256) < 0)
		return -ENOMEM;
	*ret = k;
	return 0;
}

int
disc_key_from_rdata(const uint8_t *rdata, size_t len, struct disc_key *ret)
{
	struct trust_dnskey t;

	if (len < 5 || rdata[2] != 3)
		return -EBADMSG;
	if (len - 4 > DISC_KEY_MAX || len - 4 > TRUST_KEY_MAX)
		return -E2BIG;
	memset(&t, 0, sizeof(t));
	t.flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	t.protocol = rdata[2];
	t.algorithm = rdata[3];
	t.keylen = (uint16_t)(len - 4);
	memcpy(t.key, rdata + 4, len - 4);
	return disc_key_from_trust(&t, ret);
}

int
disc_key_to_rdata(const struct disc_key *k, uint8_t *out, size_t cap)
{
	if (cap < 4u + k->key_len)
		return -ENOSPC;
	out[0] = k->flags >> 8;
	out[1] = k->flags & 0xff;
	out[2] = k->protocol;
	out[3] = k->algorithm;
	memcpy(out + 4, k->key, k->key_len);
	return 4 + k->key_len;
}

bool
disc_key_equal(const struct disc_key *a, const struct disc_key *b)
{
	return a->flags == b->flags && a->protocol == b->protocol &&
	       a->algorithm == b->algorithm && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0;
}

void
disc_key_digest_hex(const struct disc_key *k, char out[65])
{
	ds_hex_encode(k->sha256, sizeof(k->sha256), out);
}

void
disc_key_to_trust(const struct disc_key *k, struct trust_dnskey *t)
{
	memset(t, 0, sizeof(*t));
	t->flags = k->flags;
	t->protocol = k->protocol;
	t->algorithm = k->algorithm;
	t->keylen = k->key_len;
	memcpy(t->key, k->key, k->key_len);
}

int
disc_key_format(const struct disc_key *k, const char *owner, char *out, size_t outlen)
{
	char text[(TRUST_KEY_MAX + 2) / 3 * 4 + 32];
	struct trust_dnskey t;
	int n;

	disc_key_to_trust(k, &t);
	if (trust_dnskey_format(&t, text, sizeof(text)) < 0)
		return -ENOSPC;
	n = snprintf(out, outlen, "%s IN DNSKEY %s", owner, text);
	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	return 0;
}

static bool
is_ttl(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 10 && s[n] == '\0';
}

/* The tokens before "DNSKEY": an optional owner (resolver-name.arpa), TTL
 * and class. */
static int
check_prefix(char **tok, int n)
{
	uint8_t owner[DNS_NAME_MAX], zone[DNS_NAME_MAX];
	int i, olen, zlen;

	for (i = 0; i < n; i++) {
		if (strcasecmp(tok[i], "IN") == 0 || is_ttl(tok[i]))
			continue;
		if (i != 0)
			return -EINVAL;
		olen = dns_name_from_str(tok[i], owner);
		zlen = dns_name_from_str(DISC_ZONE, zone);
		if (olen < 0 || zlen < 0 ||
		    !dns_name_equal(owner, (size_t)olen, zone, (size_t)zlen))
			return -EINVAL;
	}
	return 0;
}

int
disc_key_parse(const char *text, struct disc_key *ret)
{
	char buf[KEY_TEXT_MAX], rest[KEY_TEXT_MAX], *tok[KEY_MAX_TOKENS], *save = NULL, *t,
		*semi;
	struct trust_dnskey k;
	size_t len = 0;
	int ntok = 0, i, start = 0, r;

	if (strlen(text) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, text);
	semi = strchr(buf, ';');
	if (semi)
		*semi = '\0';
	for (t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ntok == KEY_MAX_TOKENS)
			return -E2BIG;
		tok[ntok++] = t;
	}
	for (i = 0; i < ntok; i++) {
		if (strcasecmp(tok[i], "DNSKEY") == 0) {
			r = check_prefix(tok, i);
			if (r < 0)
				return r;
			start = i + 1;
			break;
		}
	}
	rest[0] = '\0';
	for (i = start; i < ntok; i++)
		len += (size_t)snprintf(rest + len, sizeof(rest) - len, "%s%s", i > start ? " " : "",
					tok[i]);
	if (len >= sizeof(rest))
		return -E2BIG;
	r = trust_dnskey_parse(rest, &k);
	if (r < 0)
		return -EINVAL;
	return disc_key_from_trust(&k, ret);
}
