/*
 * vclock.h -- a virtual clock for the timing harness: it implements
 * dotstub/timer.h and dotstub/clock.h (the harness links it instead of
 * stub/base/timer.c and clock.c), and time moves only when a test says so.
 */
#ifndef DOTSTUB_TEST_VCLOCK_H
#define DOTSTUB_TEST_VCLOCK_H

#include <stdint.h>
#include <time.h>

/* Start at monotonic 0 and the given wall time; no timer armed. */
void vclock_reset(time_t wall);
/* Move time forward by ms, firing every timer that falls due, in order,
 * each at its own due time (a timer armed by a callback fires too if it
 * falls due within the step).  Returns the number of timers fired. */
unsigned vclock_advance(uint64_t ms);
/* Milliseconds until the next armed timer, or UINT64_MAX. */
uint64_t vclock_next(void);
uint64_t vclock_now_ms(void);

#endif
