/*
 * clock.h -- the monotonic clock (CLOCK_MONOTONIC) every part measures
 * intervals with.  Wall-clock times (time(NULL)) are used only for what is
 * shown to people or written to the trust store.
 */
#ifndef DOTSTUB_CLOCK_H
#define DOTSTUB_CLOCK_H

#include <stdint.h>

uint64_t ds_now_us(void);
uint64_t ds_now_ms(void);

#endif
