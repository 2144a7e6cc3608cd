/*
 * fuzz_dnr.c -- the DNR options of RFC 9463 as a DHCP server or a router
 * (or anyone on the link) sends them.  The first byte picks the encoding:
 * 0 DHCPv6 option 144, 1 DHCPv4 option 162, 2 RA option 144; every
 * instance kept is then formatted.
 */
#include <string.h>

#include "dotstub/ddr.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ddr_dnr d;
	char text[16384];
	unsigned i;
	int n;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		n = ddr_dnr_parse_dhcp6(data + 1, size - 1, &d);
		break;
	case 1:
		n = ddr_dnr_parse_dhcp4(data + 1, size - 1, &d);
		break;
	default:
		n = ddr_dnr_parse_ra(data + 1, size - 1, &d);
		break;
	}
	if (n < 0 || (unsigned)n != d.n || d.n > DDR_DNR_MAX_INSTANCES ||
	    d.nbad > DDR_DNR_MAX_INSTANCES)
		__builtin_trap();
	for (i = 0; i < d.n; i++)
		ddr_dnr_format(&d.inst[i], text, sizeof(text));
	return 0;
}
