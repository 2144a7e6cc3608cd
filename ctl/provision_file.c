/*
 * provision_file.c -- the output directory of `dotctl provision`: staging,
 * atomic file writes, installation; small input files.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/provision.h"

/* The largest one-line file we read (name files). */
#define LINE_FILE_MAX 1024

static int
join(char *buf, size_t size, const char *dir, const char *rel)
{
	int n;

	n = snprintf(buf, size, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int
remember(char **list, size_t *n, const char *rel)
{
	if (*n >= CTL_PROV_MAX_FILES)
		return -E2BIG;
	if ((list[*n] = strdup(rel)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int
ctl_prov_dir_stage(struct ctl_prov_dir *d, const char *final)
{
	char copy[PATH_MAX], parent[PATH_MAX], base[PATH_MAX];
	int n;

	memset(d, 0, sizeof(*d));
	if (strlen(final) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, final);
	strcpy(parent, dirname(copy));
	strcpy(copy, final);
	strcpy(base, basename(copy));
	n = snprintf(d->root, sizeof(d->root), "%s/.%s.new-XXXXXX", parent,
	    base);
	if (n < 0 || (size_t)n >= sizeof(d->root)) {
		ctl_prov_err("%s: path too long", final);
		return -ENAMETOOLONG;
	}
	if (mkdtemp(d->root) == NULL) {
		n = -errno;
		ctl_prov_err("cannot make a directory in %s: %s", parent,
		    strerror(errno));
		return n;
	}
	d->staged = true;
	return 0;
}

int
ctl_prov_dir_open(struct ctl_prov_dir *d, const char *root)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	if (strlen(root) >= sizeof(d->root))
		return -ENAMETOOLONG;
	if (stat(root, &st) == -1 || !S_ISDIR(st.st_mode)) {
		ctl_prov_err("%s: not a directory", root);
		return -ENOTDIR;
	}
	strcpy(d->root, root);
	return 0;
}

int
ctl_prov_mkdir(struct ctl_prov_dir *d, const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int r;

	if ((r = join(path, sizeof(path), d->root, rel)) < 0)
		return r;
	if (mkdir(path, mode) == -1) {
		if (errno == EEXIST && !d->staged)
			return 0;
		r = -errno;
		ctl_prov_err("%s: %s", path, strerror(errno));
		return r;
	}
	if (chmod(path, mode) == -1 ||
	    remember(d->dirs, &d->ndirs, rel) < 0) {
		r = errno ? -errno : -ENOMEM;
		ctl_prov_err("%s: %s", path, strerror(-r));
		return r;
	}
	d->dir_mode[d->ndirs - 1] = mode;
	return 0;
}

static int
open_tmp(const char *tmp, mode_t mode)
{
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1 && errno == EEXIST) {
		/* left over by a crash: ours, by its name */
		if (unlink(tmp) == -1)
			return -1;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
	}
	if (fd != -1 && fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_through(FILE *fp, int fd, ctl_prov_writer *fn, const void *arg)
{
	int r;

	if ((r = fn(fp, arg)) < 0)
		return r;
	if (fflush(fp) == EOF || ferror(fp))
		return -EIO;
	if (fsync(fd) == -1)
		return -errno;
	return 0;
}

int
ctl_prov_write(struct ctl_prov_dir *d, const char *rel, mode_t mode,
    ctl_prov_writer *fn, const void *arg)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *fp;
	int fd, r;

	if ((r = join(path, sizeof(path), d->root, rel)) < 0 ||
	    (r = join(tmp, sizeof(tmp), d->root, rel)) < 0) {
		ctl_prov_err("%s/%s: path too long", d->root, rel);
		return r;
	}
	strcat(tmp, ".tmp");
	if ((fd = open_tmp(tmp, mode)) == -1) {
		r = -errno;
		ctl_prov_err("%s: %s", tmp, strerror(errno));
		return r;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		r = -errno;
		close(fd);
		unlink(tmp);
		ctl_prov_err("%s: %s", tmp, strerror(-r));
		return r;
	}
	r = write_through(fp, fd, fn, arg);
	if (fclose(fp) == EOF && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) == -1)
		r = -errno;
	if (r == 0 && (r = remember(d->files, &d->nfiles, rel)) == 0)
		return 0;
	unlink(tmp);
	ctl_prov_err("cannot write %s: %s", path, strerror(-r));
	return r;
}

static int
fsync_dir(const char *path)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if (fsync(fd) == -1)
		r = -errno;
	close(fd);
	return r;
}

/* final exists: replace the files written, one by one. */
static int
install_over(struct ctl_prov_dir *d, const char *final)
{
	char from[PATH_MAX], to[PATH_MAX];
	size_t i;
	int r;

	for (i = 0; i < d->ndirs; i++) {
		if ((r = join(to, sizeof(to), final, d->dirs[i])) < 0)
			return r;
		if (mkdir(to, d->dir_mode[i]) == -1 && errno != EEXIST)
			goto fail;
	}
	for (i = 0; i < d->nfiles; i++) {
		if ((r = join(from, sizeof(from), d->root, d->files[i])) < 0 ||
		    (r = join(to, sizeof(to), final, d->files[i])) < 0)
			return r;
		if (rename(from, to) == -1)
			goto fail;
	}
	return 0;
fail:
	r = -errno;
	ctl_prov_err("cannot install %s: %s", to, strerror(errno));
	return r;
}

int
ctl_prov_dir_install(struct ctl_prov_dir *d, const char *final, bool force)
{
	char parent[PATH_MAX];
	struct stat st;
	int r;

	if (chmod(d->root, 0755) == -1)
		return -errno;
	if (lstat(final, &st) == -1) {
		if (errno != ENOENT)
			goto fail;
		if (rename(d->root, final) == -1)
			goto fail;
		strcpy(d->root, final);
		d->staged = false;
	} else if (!force) {
		ctl_prov_err("%s exists; use --force to overwrite it", final);
		return -EEXIST;
	} else if (!S_ISDIR(st.st_mode)) {
		ctl_prov_err("%s exists and is not a directory", final);
		return -ENOTDIR;
	} else if ((r = install_over(d, final)) < 0) {
		return r;
	}
	strcpy(parent, final);
	(void)fsync_dir(dirname(parent));
	return fsync_dir(final);
fail:
	r = -errno;
	ctl_prov_err("cannot install %s: %s", final, strerror(errno));
	return r;
}

void
ctl_prov_dir_close(struct ctl_prov_dir *d)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < d->nfiles; i++) {
		if (d->staged &&
		    join(path, sizeof(path), d->root, d->files[i]) == 0)
			(void)unlink(path);
		free(d->files[i]);
	}
	for (i = d->ndirs; i-- > 0;) {
		if (d->staged &&
		    join(path, sizeof(path), d->root, d->dirs[i]) == 0)
			(void)rmdir(path);
		free(d->dirs[i]);
	}
	if (d->staged)
		(void)rmdir(d->root);
	memset(d, 0, sizeof(*d));
}

int
ctl_prov_read_line(const char *path, char *buf, size_t size)
{
	char tmp[LINE_FILE_MAX];
	ssize_t n;
	size_t len;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		r = -errno;
		ctl_prov_err("%s: %s", path, strerror(errno));
		return r;
	}
	n = read(fd, tmp, sizeof(tmp));
	r = -errno;
	close(fd);
	if (n < 0) {
		ctl_prov_err("%s: %s", path, strerror(-r));
		return r;
	}
	len = (size_t)n;
	if (len > 0 && tmp[len - 1] == '\n')
		len--;
	if (len == 0 || len >= size || (size_t)n == sizeof(tmp) ||
	    memchr(tmp, '\0', len) || memchr(tmp, '\n', len) ||
	    memchr(tmp, '\r', len)) {
		ctl_prov_err("%s: not a one-line file of fewer than %zu octets",
		    path, size);
		return -EINVAL;
	}
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	return 0;
}
