/*
 * r1_table.c -- the links the resolve1 API was told about: one struct
 * ds_linkconf per interface index, exactly as set, at most DS_R1_MAX_LINKS.
 * A link the kernel no longer has (or whose index now names another
 * interface) is dropped the next time a method looks, and the daemon is
 * told as for RevertLink.
 */
#include "r1_int.h"

#include <net/if.h>
#include <string.h>

struct r1_link *r1_table_find(struct ds_r1 *r1, int ifindex)
{
	for (int i = 0; i < DS_R1_MAX_LINKS; i++)
		if (r1->links[i].used && r1->links[i].lc.ifindex == ifindex)
			return &r1->links[i];
	return NULL;
}

static void link_init(struct r1_link *l, struct ds_r1 *r1, int ifindex, const char *ifname)
{
	memset(l, 0, sizeof(*l));
	l->r1 = r1;
	l->lc.ifindex = ifindex;
	snprintf(l->lc.ifname, sizeof(l->lc.ifname), "%s", ifname);
	l->lc.source = DS_LINKSRC_RESOLVE1;
	l->lc.default_route = DS_UNSET;
	l->lc.dot = DS_LINKDOT_UNSET;
}

struct r1_link *r1_table_get(struct ds_r1 *r1, int ifindex, const char *ifname,
			     sd_bus_error *err)
{
	struct r1_link *l = r1_table_find(r1, ifindex);

	if (l)
		return l;
	for (int i = 0; i < DS_R1_MAX_LINKS; i++) {
		if (r1->links[i].used)
			continue;
		link_init(&r1->links[i], r1, ifindex, ifname);
		r1->links[i].used = true;
		return &r1->links[i];
	}
	sd_bus_error_setf(err, SD_BUS_ERROR_LIMITS_EXCEEDED,
			  "the DNS configuration of %d links is kept already", DS_R1_MAX_LINKS);
	return NULL;
}

void r1_table_drop(struct ds_r1 *r1, int ifindex)
{
	struct r1_link *l = r1_table_find(r1, ifindex);

	if (l)
		l->used = false;
}

void r1_table_sweep(struct ds_r1 *r1)
{
	char name[IF_NAMESIZE];

	for (int i = 0; i < DS_R1_MAX_LINKS; i++) {
		struct r1_link *l = &r1->links[i];

		if (!l->used)
			continue;
		if (if_indextoname((unsigned)l->lc.ifindex, name) && !strcmp(name, l->lc.ifname))
			continue;
		l->used = false;
		log_notice("resolve1: link %s (%d) is gone: its DNS configuration is dropped",
			   l->lc.ifname, l->lc.ifindex);
		if (r1->hooks.revert_link)
			r1->hooks.revert_link(r1->hooks.arg, l->lc.ifindex, (uid_t)-1);
	}
}

struct r1_link *r1_table_view(struct ds_r1 *r1, int ifindex, const char *ifname)
{
	struct r1_link *l = r1_table_find(r1, ifindex);

	if (l)
		return l;
	link_init(&r1->scratch, r1, ifindex, ifname);
	return &r1->scratch;
}
