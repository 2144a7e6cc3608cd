/*
 * debounce.c -- the debounce window of network change events (netinfo.h),
 * as arithmetic on the caller's clock.
 */
#include "dotstub/netinfo.h"

uint64_t ds_debounce_delay(uint64_t *burst_start, bool open, uint64_t now, unsigned window_ms)
{
	uint64_t due, last;

	if (!open)
		*burst_start = now;
	due = now + window_ms;
	last = *burst_start + (uint64_t)window_ms * 3 / 2;
	if (due > last)
		due = last;
	return due > now ? due - now : 0;
}
