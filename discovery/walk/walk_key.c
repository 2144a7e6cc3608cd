/*
 * walk_key.c -- DNSKEY text as the walk takes and gives it.  The key is the
 * trust part's value (struct trust_dnskey, dotstub/trust.h), as is every
 * encoding (rdata, key tag, SHA-256, base64); this file only checks the
 * owner of text keys and writes the trust anchor line libunbound takes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dotstub/discovery.h"
#include "dotstub/trust.h"
#include "dotstub/wire.h"

#define KEY_TEXT_MAX 4096
#define KEY_MAX_TOKENS 64

int
disc_key_format(const struct trust_dnskey *k, const char *owner, char *out, size_t outlen)
{
	char text[(TRUST_KEY_MAX + 2) / 3 * 4 + 32];
	int n;

	if (trust_dnskey_format(k, text, sizeof(text)) < 0)
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
disc_key_parse(const char *text, struct trust_dnskey *ret)
{
	/* rest is as long as a line trust_dnskey_parse may read: a shorter
	 * one makes LTO see its strnlen bound run past the buffer */
	char buf[KEY_TEXT_MAX], rest[TRUST_LINE_MAX + 1], *tok[KEY_MAX_TOKENS], *save = NULL, *t,
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
	*ret = k;
	return 0;
}
