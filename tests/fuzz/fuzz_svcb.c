/*
 * fuzz_svcb.c -- SVCB/HTTPS RDATA as a DDR resolver (or anyone on the
 * path) sends it: the parser, then the presentation of what it accepted,
 * into a roomy buffer and into a small one.
 */
#include <string.h>

#include "dotstub/ddr.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ddr_svcb s;
	char text[16384], small[24];

	if (ddr_svcb_parse(data, size, &s) == 0) {
		ddr_svcb_format(&s, text, sizeof(text));
		ddr_svcb_format(&s, small, sizeof(small));
		ddr_svc_params_format(&s.params, text, sizeof(text));
	} else if (s.reason[0] == '\0' || memchr(s.reason, '\0', sizeof(s.reason)) == NULL) {
		__builtin_trap(); /* a rejection always says why */
	}
	return 0;
}
