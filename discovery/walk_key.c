/*
 * walk_key.c -- DNSKEY (and KEY) rdata: decode, key tag, digest, text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dotstub/discovery.h"
#include "dotstub/wire.h"

#define KEY_RDATA_MAX (4 + DISC_KEY_MAX)
#define KEY_TEXT_MAX 4096
#define KEY_MAX_TOKENS 64

/* RFC 4034 appendix B (algorithm 1 uses the key's low-order octets). */
static uint16_t
key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	size_t i;

	if (rdata[3] == 1)
		return len >= 7 ? (uint16_t)(rdata[len - 3] << 8 | rdata[len - 2]) : 0;
	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return ac & 0xffff;
}

int
disc_key_from_rdata(const uint8_t *rdata, size_t len, struct disc_key *ret)
{
	struct disc_key k;

	if (len < 5 || rdata[2] != 3)
		return -EBADMSG;
	if (len - 4 > DISC_KEY_MAX)
		return -E2BIG;
	memset(&k, 0, sizeof(k));
	k.flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	k.protocol = rdata[2];
	k.algorithm = rdata[3];
	k.key_len = (uint16_t)(len - 4);
	memcpy(k.key, rdata + 4, len - 4);
	k.tag = key_tag(rdata, len);
	if (EVP_Digest(rdata, len, k.sha256, NULL, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	*ret = k;
	return 0;
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
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < sizeof(k->sha256); i++) {
		out[2 * i] = hex[k->sha256[i] >> 4];
		out[2 * i + 1] = hex[k->sha256[i] & 0xf];
	}
	out[64] = '\0';
}

int
disc_key_format(const struct disc_key *k, const char *owner, char *out, size_t outlen)
{
	char b64[(DISC_KEY_MAX + 2) / 3 * 4 + 1];
	int n;

	EVP_EncodeBlock((unsigned char *)b64, k->key, k->key_len);
	n = snprintf(out, outlen, "%s IN DNSKEY %u %u %u %s", owner, k->flags, k->protocol,
		     k->algorithm, b64);
	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	return 0;
}

/* Decimal in [0, max], the whole token. */
static int
parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Standard base64 (the tokens joined) into out.  Returns length or -errno. */
static int
base64_decode(char **tok, int ntok, uint8_t *out, size_t cap)
{
	char buf[KEY_TEXT_MAX];
	size_t len = 0, pad = 0;
	int i, n;

	for (i = 0; i < ntok; i++) {
		size_t l = strlen(tok[i]);

		if (len + l >= sizeof(buf))
			return -E2BIG;
		memcpy(buf + len, tok[i], l);
		len += l;
	}
	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	if (len / 4 * 3 > cap)
		return -E2BIG;
	for (i = 0; (size_t)i < len; i++) {
		char c = buf[i];

		if (c == '=') {
			if ((size_t)i < len - 2)
				return -EINVAL;
			pad++;
		} else if (pad || !(isalnum((unsigned char)c) || c == '+' || c == '/')) {
			return -EINVAL;
		}
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)len);
	if (n < 0 || (size_t)n < pad)
		return -EINVAL;
	return n - (int)pad;
}

/* The tokens before "DNSKEY": an optional owner, TTL and class. */
static int
check_prefix(char **tok, int n)
{
	uint8_t owner[DNS_NAME_MAX], zone[DNS_NAME_MAX];
	unsigned long ttl;
	int i, olen, zlen;

	for (i = 0; i < n; i++) {
		if (strcasecmp(tok[i], "IN") == 0 || parse_uint(tok[i], UINT32_MAX, &ttl) == 0)
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
	char buf[KEY_TEXT_MAX], *tok[KEY_MAX_TOKENS], *save = NULL, *t, *semi;
	uint8_t rdata[KEY_RDATA_MAX];
	unsigned long flags, proto, alg;
	int ntok = 0, i, start = 0, n, r;

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
	if (ntok - start < 4)
		return -EINVAL;
	if (parse_uint(tok[start], 0xffff, &flags) < 0 ||
	    parse_uint(tok[start + 1], 0xff, &proto) < 0 ||
	    parse_uint(tok[start + 2], 0xff, &alg) < 0)
		return -EINVAL;
	rdata[0] = (uint8_t)(flags >> 8);
	rdata[1] = (uint8_t)flags;
	rdata[2] = (uint8_t)proto;
	rdata[3] = (uint8_t)alg;
	n = base64_decode(tok + start + 3, ntok - start - 3, rdata + 4, sizeof(rdata) - 4);
	if (n < 0)
		return n;
	r = disc_key_from_rdata(rdata, 4 + (size_t)n, ret);
	return r == -EBADMSG ? -EINVAL : r;
}
