/*
 * r1_auth.c -- who may change links.  systemd-resolved asks polkit;
 * dotstubd does not link polkit and allows root, its own user and, if
 * resolve1-group is set, the members of that group -- everyone else gets
 * org.freedesktop.DBus.Error.AccessDenied.  Reading properties and the
 * Resolve* methods are open to all, as the bus policy says.
 *
 * The identity is the one the bus daemon vouches for (what it read from
 * the connection's socket when the client connected: the UnixUserID and
 * UnixGroupIDs of GetConnectionCredentials), never one read from /proc
 * afterwards, which a process could race by exiting and having its PID
 * reused.
 */
#include "r1_int.h"

#include <errno.h>

#include "dotstub/clock.h"
#include "dotstub/log.h"

/* The sender's user as the bus daemon saw it: 0 or -ENODATA. */
static int sender_uid(sd_bus_creds *c, uint64_t augmented, uid_t *uid)
{
	if (!(augmented & SD_BUS_CREDS_EUID) && sd_bus_creds_get_euid(c, uid) >= 0)
		return 0;
	if (!(augmented & SD_BUS_CREDS_UID) && sd_bus_creds_get_uid(c, uid) >= 0)
		return 0;
	return -ENODATA;
}

static bool in_group(sd_bus_creds *c, uint64_t augmented, gid_t gid)
{
	const gid_t *gids;
	gid_t g;
	int n;

	if (!(augmented & SD_BUS_CREDS_EGID) && sd_bus_creds_get_egid(c, &g) >= 0 && g == gid)
		return true;
	if (augmented & SD_BUS_CREDS_SUPPLEMENTARY_GIDS)
		return false;
	n = sd_bus_creds_get_supplementary_gids(c, &gids);
	for (int i = 0; i < n; i++)
		if (gids[i] == gid)
			return true;
	return false;
}

int r1_auth_check(struct ds_r1 *r1, sd_bus_message *m, uid_t *uid, sd_bus_error *err)
{
	sd_bus_creds *c = NULL;
	uint64_t augmented;
	unsigned long long more;
	const char *who = sd_bus_message_get_sender(m);
	bool ok = false;
	int r;

	*uid = (uid_t)-1;
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_EGID |
					     SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
				      &c);
	if (r >= 0) {
		augmented = sd_bus_creds_get_augmented_mask(c);
		if (sender_uid(c, augmented, uid) == 0)
			ok = *uid == 0 || *uid == r1->opts.own_uid ||
			     (r1->opts.has_group && in_group(c, augmented, r1->opts.group));
		sd_bus_creds_unref(c);
	}
	if (ok)
		return 0;
	if (ds_log_rl_pass(&r1->auth_rl, ds_now_ms(), &more))
		log_notice("resolve1: refused %s from %s (uid %ld): only root, the daemon's user "
			   "and resolve1-group may change links (%llu more since the last line)",
			   sd_bus_message_get_member(m), who ? who : "?",
			   *uid == (uid_t)-1 ? -1L : (long)*uid, more);
	return sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
				 "only root, the daemon's user and its resolve1-group may change "
				 "the DNS configuration of links");
}
