/*
 * fuzz_links.c -- the link sources' parsers on arbitrary bytes: the first
 * byte picks one.  systemd-networkd's per-link state file (read from
 * /run), and the words of a link's configuration (from dotctl link, a
 * state file or, later, D-Bus): a resolver address, a domain.  What one
 * accepts must go into the link table and come back equal.
 */
#include <stdlib.h>
#include <string.h>

#include "dotstub/netinfo.h"
#include "fuzz_target.h"

static void state_file(const uint8_t *data, size_t size)
{
	struct ds_linkconf lc;
	struct ds_linktab *t;
	unsigned bad = 0;

	if (ds_networkd_parse((const char *)data, size, 7, &lc, &bad) < 0)
		return;
	if (lc.ndns > DS_LINK_MAX_DNS || lc.ndomains > DS_LINK_MAX_DOMAINS)
		abort();
	t = ds_linktab_new();
	if (!t)
		return;
	if (ds_linktab_set(t, &lc) < 0 || !ds_linktab_get(t, 7) ||
	    !ds_linkconf_equal(ds_linktab_get(t, 7), &lc))
		abort();
	ds_linktab_free(t);
}

static void words(const uint8_t *data, size_t size)
{
	char text[DS_LINK_DOMAIN_MAX * 2];
	struct ds_link_domain d;
	struct ds_link_dns dns;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ds_link_domain_parse(text, &d) == 0 && strlen(d.name) > DS_LINK_DOMAIN_MAX)
		abort();
	(void)ds_link_dns_parse(text, &dns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		state_file(data + 1, size - 1);
	else
		words(data + 1, size - 1);
	return 0;
}
