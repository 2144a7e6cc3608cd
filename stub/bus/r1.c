/*
 * r1.c -- the resolve1 part's lifetime (dotstub/resolve1.h): the system
 * bus connection with the Manager and Link objects on it, the request for
 * org.freedesktop.resolve1 (never replacing its owner: if
 * systemd-resolved has it, dotstubd says so and goes on without the API),
 * and connecting again when the bus goes away.
 */
#include "r1_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MS 5000

static void drop_connection(struct ds_r1 *r1)
{
	r1_query_cancel_all(r1);
	r1_loop_detach(&r1->loop);
	if (r1->bus)
		sd_bus_flush_close_unref(r1->bus);
	r1->bus = NULL;
	r1->owns_name = false;
}

static void drop_fired(void *arg)
{
	struct ds_r1 *r1 = arg;

	drop_connection(r1);
	if (!r1->name_taken)
		ds_timer_arm_ms(r1->retry, RETRY_MS);
}

static void on_bus_error(void *arg, int err)
{
	struct ds_r1 *r1 = arg;

	log_warn("resolve1: the system bus connection failed (%s); connecting again in %d s",
		 strerror(-err), RETRY_MS / 1000);
	r1_loop_pause(&r1->loop);
	ds_timer_arm_ms(r1->drop, 0);
}

static int on_name(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct ds_r1 *r1 = userdata;
	const sd_bus_error *e;
	uint32_t answer = 0;

	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		log_err("resolve1: the bus refused %s to dotstubd (%s: %s): is the D-Bus policy "
			"file installed (dotstub-resolve1.conf)?  Running without the D-Bus API",
			DS_R1_NAME, e && e->name ? e->name : "?", e && e->message ? e->message : "");
		r1->name_taken = true;
		ds_timer_arm_ms(r1->drop, 0);
		return 0;
	}
	if (sd_bus_message_read(m, "u", &answer) < 0)
		answer = 0;
	if (answer == 1 || answer == 4) {
		r1->owns_name = true;
		log_notice("resolve1: serving %s on the system bus", DS_R1_NAME);
		return 0;
	}
	log_warn("resolve1: %s is owned by another process (systemd-resolved?); running without "
		 "the D-Bus API (reply %u)",
		 DS_R1_NAME, (unsigned)answer);
	r1->name_taken = true;
	ds_timer_arm_ms(r1->drop, 0);
	return 0;
}

static int connect_bus(struct ds_r1 *r1)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	r = sd_bus_add_object_vtable(bus, NULL, R1_PATH, R1_MANAGER_IFACE, r1_manager_vtable, r1);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, R1_LINK_PREFIX, R1_LINK_IFACE,
					       r1_link_vtable, r1_link_find, r1);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, R1_LINK_PREFIX, r1_link_enumerate, r1);
	if (r >= 0)
		r = sd_bus_request_name_async(bus, NULL, DS_R1_NAME, 0, on_name, r1);
	if (r >= 0)
		r = r1_loop_attach(&r1->loop, r1->base, bus, on_bus_error, r1);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return r;
	}
	r1->bus = bus;
	return 0;
}

static void retry_fired(void *arg)
{
	struct ds_r1 *r1 = arg;
	int r = connect_bus(r1);

	if (r < 0) {
		log_info("resolve1: cannot connect to the system bus: %s; trying again in %d s",
			 strerror(-r), RETRY_MS / 1000);
		ds_timer_arm_ms(r1->retry, RETRY_MS);
	} else {
		log_notice("resolve1: connected to the system bus again");
	}
}

int ds_r1_open(struct event_base *base, const struct ds_r1_opts *o, const struct ds_r1_hooks *h,
	       struct ds_r1 **ret)
{
	struct ds_r1 *r1 = calloc(1, sizeof(*r1));
	int r;

	if (!r1)
		return -ENOMEM;
	r1->base = base;
	r1->opts = *o;
	r1->hooks = *h;
	TAILQ_INIT(&r1->calls);
	r1->retry = ds_timer_new(base, retry_fired, r1);
	r1->drop = ds_timer_new(base, drop_fired, r1);
	if (!r1->retry || !r1->drop) {
		ds_r1_close(r1);
		return -ENOMEM;
	}
	r = connect_bus(r1);
	if (r < 0) {
		log_warn("resolve1: cannot connect to the system bus: %s; trying again every %d s",
			 strerror(-r), RETRY_MS / 1000);
		ds_timer_arm_ms(r1->retry, RETRY_MS);
	}
	*ret = r1;
	return 0;
}

void ds_r1_close(struct ds_r1 *r1)
{
	if (!r1)
		return;
	drop_connection(r1);
	ds_timer_free(r1->retry);
	ds_timer_free(r1->drop);
	free(r1);
}

void ds_r1_set_opts(struct ds_r1 *r1, const struct ds_r1_opts *o)
{
	r1->opts = *o;
}

int ds_r1_links(const struct ds_r1 *r1, struct ds_linkconf *out, int cap)
{
	int n = 0;

	for (int i = 0; i < DS_R1_MAX_LINKS; i++) {
		if (!r1->links[i].used)
			continue;
		if (n < cap)
			out[n] = r1->links[i].lc;
		n++;
	}
	return n;
}

bool ds_r1_owns_name(const struct ds_r1 *r1)
{
	return r1->owns_name;
}
