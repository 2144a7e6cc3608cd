/*
 * r1_none.c -- the resolve1 part of a dotstubd built without libsystemd
 * (meson -Dresolve1=disabled, or no libsystemd found): "resolve1 yes" is
 * refused at start.
 */
#include "dotstub/resolve1.h"

#include <errno.h>

#include "dotstub/log.h"

int ds_r1_open(struct event_base *base, const struct ds_r1_opts *o, const struct ds_r1_hooks *h,
	       struct ds_r1 **ret)
{
	log_err("resolve1: this dotstubd was built without sd-bus (libsystemd): no D-Bus API");
	*ret = NULL;
	return -EOPNOTSUPP;
}

void ds_r1_close(struct ds_r1 *r1)
{
}

void ds_r1_set_opts(struct ds_r1 *r1, const struct ds_r1_opts *o)
{
}

int ds_r1_links(const struct ds_r1 *r1, struct ds_linkconf *out, int cap)
{
	return 0;
}

bool ds_r1_owns_name(const struct ds_r1 *r1)
{
	return false;
}
