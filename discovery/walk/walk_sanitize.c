/*
 * walk_sanitize.c -- make text from the network printable before it goes
 * into a result, a step or a log line (anything outside printable ASCII
 * becomes \DDD).
 */
#include <stdio.h>

#include "walk_int.h"

void
walk_sanitize(char *dst, size_t len, const char *src)
{
	size_t o = 0;
	unsigned char c;

	if (len == 0)
		return;
	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= len)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= len)
				break;
			snprintf(dst + o, 5, "\\%03u", c);
			o += 4;
		}
	}
	dst[o] = '\0';
}
