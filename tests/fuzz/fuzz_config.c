/* fuzz_config.c -- the configuration parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dotstub/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_config c;
	char err[512];
	FILE *devnull;

	ds_config_init(&c);
	if (ds_config_parse(&c, (const char *)data, size, "fuzz", err, sizeof(err)) == 0 &&
	    ds_config_finish(&c, err, sizeof(err)) == 0) {
		devnull = fopen("/dev/null", "w");
		if (devnull) {
			ds_config_print(&c, devnull);
			fclose(devnull);
		}
	}
	ds_config_free(&c);
	return 0;
}
