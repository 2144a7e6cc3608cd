/*
 * fuzz_netinfo.c -- the network-awareness parsers on arbitrary bytes: the
 * first byte picks one.  resolv.conf text (a file DHCP clients write), the
 * fingerprint text form (read back from the trust store) and a netlink
 * RTM_NEWLINK message (from the kernel: the VLAN path).
 */
#include <stdlib.h>
#include <string.h>

#include "dotstub/netinfo.h"
#include "fuzz_target.h"

static void fingerprint(const uint8_t *data, size_t size)
{
	char text[DS_NETFP_TEXT_MAX + 64], out[DS_NETFP_TEXT_MAX], again[DS_NETFP_TEXT_MAX];
	struct ds_netfp fp, fp2;
	struct ds_netfp_cmp cmp;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ds_netfp_parse(text, &fp) < 0)
		return;
	/* what parses formats canonically, and the canonical form is stable */
	if (ds_netfp_format(&fp, out, sizeof(out)) < 0 || ds_netfp_parse(out, &fp2) < 0 ||
	    ds_netfp_format(&fp2, again, sizeof(again)) < 0 || strcmp(out, again) != 0)
		abort();
	ds_netfp_match(&fp, &fp2, &cmp);
	if (cmp.verdict != DS_NETFP_EXACT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_resolvconf rc;
	struct ds_net_link link;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		ds_resolvconf_parse((const char *)data + 1, size - 1, &rc);
		break;
	case 1:
		fingerprint(data + 1, size - 1);
		break;
	default:
		ds_net_link_parse(data + 1, size - 1, &link);
		break;
	}
	return 0;
}
