/*
 * timer.c -- timers on libevent's loop, and the wall clock (timer.h).
 */
#include "dotstub/timer.h"

#include <event2/event.h>
#include <stdlib.h>

struct ds_timer {
	struct event *ev;
	ds_timer_cb *cb;
	void *arg;
};

static void fired(evutil_socket_t fd, short what, void *arg)
{
	struct ds_timer *t = arg;

	t->cb(t->arg);
}

struct ds_timer *ds_timer_new(struct event_base *base, ds_timer_cb *cb, void *arg)
{
	struct ds_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->ev = evtimer_new(base, fired, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	return t;
}

void ds_timer_free(struct ds_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

void ds_timer_arm_ms(struct ds_timer *t, uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(t->ev, &tv);
}

void ds_timer_disarm(struct ds_timer *t)
{
	evtimer_del(t->ev);
}

bool ds_timer_armed(const struct ds_timer *t)
{
	return evtimer_pending(t->ev, NULL) != 0;
}

time_t ds_wall_now(void)
{
	return time(NULL);
}
