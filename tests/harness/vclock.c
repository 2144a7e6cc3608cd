/*
 * vclock.c -- the virtual clock (vclock.h): timers in a list, fired in
 * due order as a test advances time.
 */
#include "vclock.h"

#include <stdbool.h>
#include <stdlib.h>

#include "dotstub/clock.h"
#include "dotstub/timer.h"

struct ds_timer {
	ds_timer_cb *cb;
	void *arg;
	bool armed;
	uint64_t due_ms;
	uint64_t seq;   /* arming order: ties fire in it */
	struct ds_timer *next;
};

static struct ds_timer *timers;
static uint64_t now_ms;
static time_t wall0;
static uint64_t seq;

void vclock_reset(time_t wall)
{
	now_ms = 0;
	wall0 = wall;
}

uint64_t vclock_now_ms(void)
{
	return now_ms;
}

uint64_t ds_now_ms(void)
{
	return now_ms;
}

uint64_t ds_now_us(void)
{
	return now_ms * 1000;
}

time_t ds_wall_now(void)
{
	return wall0 + (time_t)(now_ms / 1000);
}

struct ds_timer *ds_timer_new(struct event_base *base, ds_timer_cb *cb, void *arg)
{
	struct ds_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->next = timers;
	timers = t;
	return t;
}

void ds_timer_free(struct ds_timer *t)
{
	struct ds_timer **p;

	if (!t)
		return;
	for (p = &timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	free(t);
}

void ds_timer_arm_ms(struct ds_timer *t, uint64_t ms)
{
	t->armed = true;
	t->due_ms = now_ms + ms;
	t->seq = ++seq;
}

void ds_timer_disarm(struct ds_timer *t)
{
	t->armed = false;
}

bool ds_timer_armed(const struct ds_timer *t)
{
	return t->armed;
}

static struct ds_timer *earliest(void)
{
	struct ds_timer *best = NULL;

	for (struct ds_timer *t = timers; t; t = t->next)
		if (t->armed && (!best || t->due_ms < best->due_ms ||
				 (t->due_ms == best->due_ms && t->seq < best->seq)))
			best = t;
	return best;
}

uint64_t vclock_next(void)
{
	struct ds_timer *t = earliest();

	return t ? t->due_ms - now_ms : UINT64_MAX;
}

unsigned vclock_advance(uint64_t ms)
{
	uint64_t end = now_ms + ms;
	unsigned fired = 0;
	struct ds_timer *t;

	while ((t = earliest()) && t->due_ms <= end) {
		now_ms = t->due_ms;
		t->armed = false;
		fired++;
		t->cb(t->arg);
	}
	now_ms = end;
	return fired;
}
