/*
 * storeperm.c -- may the store on disk be trusted?  Ownership and modes of
 * the state directory, the store file and the state directory's parents,
 * in the manner of sshd's StrictModes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/trust.h"
#include "trust-int.h"

static const char *kind_name(enum trust_perm_kind kind)
{
	switch (kind) {
	case TRUST_PERM_PARENT:
		return "parent directory";
	case TRUST_PERM_DIR:
		return "state directory";
	case TRUST_PERM_FILE:
		break;
	}
	return "anchors file";
}

int trust_perm_check(const struct stat *st, uid_t uid, enum trust_perm_kind kind,
		     const char *path, char *msg, size_t msglen)
{
	const char *what = kind_name(kind);

	if (S_ISLNK(st->st_mode)) {
		snprintf(msg, msglen,
			 "%s %s is a symbolic link, which is not followed; "
			 "fix: point state-dir at the real directory",
			 what, path);
		return -EPERM;
	}
	if (kind == TRUST_PERM_FILE ? !S_ISREG(st->st_mode) : !S_ISDIR(st->st_mode)) {
		snprintf(msg, msglen, "%s %s is not a %s", what, path,
			 kind == TRUST_PERM_FILE ? "regular file" : "directory");
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != uid) {
		if (uid == 0)
			snprintf(msg, msglen,
				 "%s %s is owned by uid %u, not by root; fix: chown root %s", what,
				 path, (unsigned)st->st_uid, path);
		else
			snprintf(msg, msglen,
				 "%s %s is owned by uid %u, not by root or the daemon's user "
				 "(uid %u); fix: chown root %s",
				 what, path, (unsigned)st->st_uid, (unsigned)uid, path);
		return -EPERM;
	}
	/* others cannot rename or remove what they do not own in a sticky
	 * directory: a parent like /tmp is fine, the state directory is not */
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(kind == TRUST_PERM_PARENT && (st->st_mode & S_ISVTX))) {
		snprintf(msg, msglen, "%s %s is writable by group or others (mode %04o); fix: chmod go-w %s",
			 what, path, (unsigned)(st->st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

/* Every directory from the (resolved) parent of dir up to /. */
static int check_parents(const char *dir, uid_t uid, char *msg, size_t msglen)
{
	char parent[PATH_MAX], real[PATH_MAX];
	size_t n = strlen(dir);
	char *slash;

	if (n >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, dir, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	if (!realpath(parent, real))
		return -errno;
	for (;;) {
		struct stat st;
		int r;

		if (stat(real, &st) < 0)
			return -errno;
		r = trust_perm_check(&st, uid, TRUST_PERM_PARENT, real, msg, msglen);
		if (r < 0 || !strcmp(real, "/"))
			return r;
		slash = strrchr(real, '/');
		if (slash == real)
			real[1] = '\0';
		else
			*slash = '\0';
	}
}

void trust_path_strip(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

int trust_store_check_perms(const char *state_dir_in, uid_t uid, char *msg, size_t msglen)
{
	char state_dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int dfd, r;

	if (msg && msglen)
		msg[0] = '\0';
	if (!msg || !msglen || !state_dir_in || !state_dir_in[0])
		return -EINVAL;
	if (strlen(state_dir_in) >= sizeof(state_dir))
		return -ENAMETOOLONG;
	/* "link/" would follow the link */
	snprintf(state_dir, sizeof(state_dir), "%s", state_dir_in);
	trust_path_strip(state_dir);
	if (lstat(state_dir, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return trust_perm_check(&st, uid, TRUST_PERM_DIR, state_dir, msg, msglen);
	r = check_parents(state_dir, uid, msg, msglen);
	if (r < 0)
		return r;
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &st) < 0) {
		r = -errno;
		close(dfd);
		return r;
	}
	r = trust_perm_check(&st, uid, TRUST_PERM_DIR, state_dir, msg, msglen);
	if (r < 0) {
		close(dfd);
		return r;
	}
	r = snprintf(path, sizeof(path), "%s/%s", state_dir, TRUST_STORE_FILE);
	if (r < 0 || (size_t)r >= sizeof(path)) {
		close(dfd);
		return -ENAMETOOLONG;
	}
	if (fstatat(dfd, TRUST_STORE_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno == ENOENT ? 0 : -errno;
		close(dfd);
		return r;
	}
	close(dfd);
	return trust_perm_check(&st, uid, TRUST_PERM_FILE, path, msg, msglen);
}
