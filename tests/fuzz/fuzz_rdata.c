/*
 * fuzz_rdata.c -- the walk's readers of rdata that came from the network
 * (through libunbound): NS/PTR names, unique and host names, TXT, A/AAAA,
 * TLSA, DNSKEY/KEY.  The first byte picks the reader.
 */
#include <string.h>

#include "walk_int.h" /* the walk part's own header: this is its fuzz target */
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t wire[DNS_NAME_MAX];
	char text[DNS_NAME_MAX * 4 + 8], txt[512];
	struct ds_upstream_desc d;
	struct trust_dnskey k;
	size_t wlen = 0;

	if (size < 1)
		return 0;
	memset(&d, 0, sizeof(d));
	switch (data[0] % 5) {
	case 0:
		if (walk_rdata_name(data + 1, size - 1, wire, &wlen) == 0) {
			if (disc_name_check(wire, wlen, text, sizeof(text)) == DISC_NAME_OK)
				disc_name_recommended(text);
			walk_host_name(wire, wlen, text, sizeof(text));
		}
		break;
	case 1:
		walk_rdata_txt(data + 1, size - 1, txt, sizeof(txt));
		break;
	case 2:
		walk_rdata_addr(&d, (data[0] & 0x80) ? DNS_TYPE_AAAA : DNS_TYPE_A, data + 1, size - 1,
				853);
		break;
	case 3:
		walk_rdata_tlsa(&d, data + 1, size - 1);
		break;
	default:
		if (trust_dnskey_from_rdata(data + 1, size - 1, &k) == 0) {
			uint8_t back[4 + TRUST_KEY_MAX];
			disc_key_format(&k, DISC_ZONE, text, sizeof(text));
			trust_dnskey_rdata(&k, back, sizeof(back));
		}
		break;
	}
	ds_upstream_desc_clear(&d);
	return 0;
}
