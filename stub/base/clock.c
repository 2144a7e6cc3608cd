/*
 * clock.c -- the monotonic clock every part measures intervals with,
 * suspended time included (CLOCK_BOOTTIME: a TTL ages while asleep).
 */
#include "dotstub/clock.h"

#include <time.h>

uint64_t ds_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ds_now_ms(void)
{
	return ds_now_us() / 1000u;
}
