/*
 * clock.h -- the monotonic clock every part measures intervals with:
 * CLOCK_BOOTTIME, which (unlike CLOCK_MONOTONIC) counts the time the
 * machine was suspended, so a cached answer's TTL and every deadline run
 * on through a suspend.  Wall-clock times (time(NULL)) are used only for
 * what is shown to people or written to the trust store.
 */
#ifndef DOTSTUB_CLOCK_H
#define DOTSTUB_CLOCK_H

#include <stdint.h>

uint64_t ds_now_us(void);
uint64_t ds_now_ms(void);

#endif
