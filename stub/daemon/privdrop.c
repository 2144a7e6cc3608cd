/*
 * privdrop.c -- what each of dotstubd's processes may do (privsep.h).
 *
 * The store process keeps one capability, CAP_NET_BIND_SERVICE, if it has
 * it (systemd's AmbientCapabilities=, or root): a reload may add a port-53
 * listener.  Started as root with "user", it first gives the state
 * directory (and the control socket and the run directory) to that user,
 * then becomes the user with that one capability kept.  The network
 * process keeps no capability at all.  Capabilities are set with
 * capget(2)/capset(2) directly (no libcap).
 */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dotstub/log.h"

/* The capabilities in the effective and permitted sets, as a mask of the
 * first 64. */
static int caps_get(uint64_t *ret_eff, uint64_t *ret_prm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c) < 0)
		return -errno;
	*ret_eff = (uint64_t)c[1].effective << 32 | c[0].effective;
	*ret_prm = (uint64_t)c[1].permitted << 32 | c[0].permitted;
	return 0;
}

/* Effective and permitted become mask (which must be within permitted),
 * inheritable nothing. */
static int caps_set(uint64_t mask)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	memset(c, 0, sizeof(c));
	c[0].effective = c[0].permitted = (uint32_t)mask;
	c[1].effective = c[1].permitted = (uint32_t)(mask >> 32);
	return syscall(SYS_capset, &h, c) < 0 ? -errno : 0;
}

/* No capability can come back through execve: the ambient set emptied and,
 * where we may (CAP_SETPCAP), the bounding set too. */
static void caps_close_doors(void)
{
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (unsigned long cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break; /* past the last capability this kernel knows */
}

/* The directory of the control socket (the run directory) also holds
 * resolv-conf-out, replaced by rename by the store process: it goes to the
 * daemon's user too.  Another directory is left alone. */
static void chown_run_dir(const struct ds_config *c, const struct passwd *pw)
{
	const char *cs = strrchr(c->control_path, '/');
	const char *rs = strrchr(c->resolv_conf_out, '/');
	char dir[sizeof(c->control_path)];
	size_t dl;
	int fd;

	if (!cs || !rs || cs == c->control_path)
		return;
	dl = (size_t)(cs - c->control_path);
	if ((size_t)(rs - c->resolv_conf_out) != dl ||
	    memcmp(c->control_path, c->resolv_conf_out, dl) != 0)
		return;
	memcpy(dir, c->control_path, dl);
	dir[dl] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("chown %s: %s, ignoring", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Root becomes the user, keeping the capabilities in keep (which it
 * has). */
static int become_user(const struct ds_config *c, const struct passwd *pw, uint64_t keep)
{
	int fd, r;

	/* never through a symbolic link: the descriptor of the directory
	 * itself (check_state_dir refused a link already) */
	fd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if ((fd < 0 && errno != ENOENT) || (fd >= 0 && fchown(fd, pw->pw_uid, pw->pw_gid) < 0))
		log_warn("chown %s: %s, ignoring", c->state_dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (fchownat(AT_FDCWD, c->control_path, pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) < 0)
		log_warn("chown %s: %s, ignoring", c->control_path, strerror(errno));
	chown_run_dir(c, pw);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		r = -errno;
		log_err("cannot drop privileges to %s: %s", c->user, strerror(errno));
		return r;
	}
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	/* setuid emptied the effective set and kept the permitted one */
	r = caps_set(keep);
	if (r < 0) {
		log_err("cannot keep CAP_NET_BIND_SERVICE as %s: %s", c->user, strerror(-r));
		return r;
	}
	if (setuid(0) == 0) {
		log_err("privileges could be regained after dropping them to %s", c->user);
		return -EPERM;
	}
	return 0;
}

int ds_privdrop_store(const struct ds_config *c)
{
	const uint64_t bind_cap = 1ull << CAP_NET_BIND_SERVICE;
	struct passwd *pw = NULL;
	uint64_t eff = 0, prm = 0, keep;
	int r;

	r = caps_get(&eff, &prm);
	if (r < 0) {
		log_err("capget: %s", strerror(-r));
		return r;
	}
	keep = prm & bind_cap;
	if (c->user[0]) {
		pw = getpwnam(c->user);
		if (!pw) {
			log_err("user %s does not exist", c->user);
			return -ENOENT;
		}
	}
	caps_close_doors();
	/* started as root with a user: become it */
	if (pw && (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)) {
		r = become_user(c, pw, keep);
		if (r < 0)
			return r;
	} else {
		/* systemd's User= (or root without a user): only the one */
		r = caps_set(keep);
		if (r < 0) {
			log_err("capset: %s", strerror(-r));
			return r;
		}
	}
	if (pw)
		log_info("running as user %s%s", c->user,
			 keep ? " with CAP_NET_BIND_SERVICE (store process)" : "");
	return 0;
}

int ds_privdrop_network(void)
{
	int r;

	caps_close_doors();
	r = caps_set(0);
	if (r < 0) {
		log_err("network process: cannot drop its capabilities: %s", strerror(-r));
		return r;
	}
	return 0;
}
