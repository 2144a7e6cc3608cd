/*
 * r1_loop.c -- an sd-bus connection driven by the daemon's libevent loop:
 * its descriptor is watched for what sd_bus_get_events asks (reading
 * always, writing while output is queued), and a timer follows
 * sd_bus_get_timeout (a method call's reply deadline, or 0 when messages
 * already read wait to be dispatched).  Everything the connection has to
 * do is done by sd_bus_process, called from these events only (never from
 * inside one of the connection's own callbacks).
 */
#include "r1_int.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <time.h>

#include "dotstub/log.h"

static void rearm(struct r1_loop *l)
{
	uint64_t until, now;
	struct timespec ts;
	int ev;

	ev = sd_bus_get_events(l->bus);
	if (ev >= 0 && (ev & POLLOUT) && !l->wr_added) {
		event_add(l->wr, NULL);
		l->wr_added = true;
	} else if (ev >= 0 && !(ev & POLLOUT) && l->wr_added) {
		event_del(l->wr);
		l->wr_added = false;
	}
	if (sd_bus_get_timeout(l->bus, &until) <= 0 || until == UINT64_MAX) {
		ds_timer_disarm(l->timer);
		return;
	}
	/* sd-bus's deadlines are CLOCK_MONOTONIC microseconds */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	ds_timer_arm_ms(l->timer, until > now ? (until - now + 999) / 1000 : 0);
}

/* Do what the connection has to do; on failure the owner drops it (l may
 * be gone afterwards). */
static void process(struct r1_loop *l)
{
	int r;

	/* bounded: other events of the loop get their turn */
	for (int i = 0; i < 64; i++) {
		r = sd_bus_process(l->bus, NULL);
		if (r < 0) {
			l->on_error(l->arg, r);
			return;
		}
		if (r == 0)
			break;
	}
	rearm(l);
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
	process(arg);
}

static void on_timer(void *arg)
{
	process(arg);
}

int r1_loop_attach(struct r1_loop *l, struct event_base *base, sd_bus *bus,
		   void (*on_error)(void *arg, int err), void *arg)
{
	int fd = sd_bus_get_fd(bus);

	if (fd < 0)
		return fd;
	l->base = base;
	l->bus = bus;
	l->on_error = on_error;
	l->arg = arg;
	l->wr_added = false;
	l->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_fd, l);
	l->wr = event_new(base, fd, EV_WRITE | EV_PERSIST, on_fd, l);
	l->timer = ds_timer_new(base, on_timer, l);
	if (!l->rd || !l->wr || !l->timer) {
		r1_loop_detach(l);
		return -ENOMEM;
	}
	event_add(l->rd, NULL);
	/* the connection's start (authentication, Hello) is queued already */
	ds_timer_arm_ms(l->timer, 0);
	rearm(l);
	return 0;
}

void r1_loop_detach(struct r1_loop *l)
{
	if (l->rd)
		event_free(l->rd);
	if (l->wr)
		event_free(l->wr);
	ds_timer_free(l->timer);
	l->rd = l->wr = NULL;
	l->timer = NULL;
	l->bus = NULL;
	l->wr_added = false;
}

void r1_loop_kick(struct r1_loop *l)
{
	if (l->bus)
		rearm(l);
}

void r1_loop_pause(struct r1_loop *l)
{
	if (l->rd)
		event_del(l->rd);
	if (l->wr)
		event_del(l->wr);
	l->wr_added = false;
	if (l->timer)
		ds_timer_disarm(l->timer);
	l->bus = NULL;
}
