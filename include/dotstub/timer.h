/*
 * timer.h -- one-shot timers on the monotonic clock, and the wall clock.
 *
 * The network manager and the query path measure every interval with
 * these (settle, retry backoff, refresh, discovery-wait, the DANE commit
 * poll), never with libevent's timers or time(NULL) directly: the daemon
 * links stub/base/timer.c (libevent's loop, CLOCK_MONOTONIC, time(2)); the
 * timing harness (tests/harness) links a virtual clock instead and replays
 * hours of timing in milliseconds.
 */
#ifndef DOTSTUB_TIMER_H
#define DOTSTUB_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct ds_timer;

typedef void ds_timer_cb(void *arg);

/* A disarmed timer that calls cb(arg) when it fires; NULL if out of
 * memory. */
struct ds_timer *ds_timer_new(struct event_base *base, ds_timer_cb *cb, void *arg);
/* Disarm and free; NULL is fine. */
void ds_timer_free(struct ds_timer *t);
/* Fire once, ms milliseconds from now (re-arming moves it). */
void ds_timer_arm_ms(struct ds_timer *t, uint64_t ms);
void ds_timer_disarm(struct ds_timer *t);
bool ds_timer_armed(const struct ds_timer *t);

/* Seconds since the epoch: what the trust store and RFC 5011 record. */
time_t ds_wall_now(void);

#endif
