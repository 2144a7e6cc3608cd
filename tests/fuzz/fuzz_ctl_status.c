/* fuzz_ctl_status.c -- dotctl's status JSON parser and text renderers on
 * arbitrary bytes (what a daemon, or whatever answers on its socket, sends). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "status_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	char err[160];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!devnull)
		return 0;
	ctl_status_render(devnull, (const char *)data, size, err, sizeof(err));
	ctl_network_render(devnull, (const char *)data, size, err, sizeof(err));
	return 0;
}
