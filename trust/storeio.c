/*
 * storeio.c -- the store file on disk: open (with quarantine of a corrupt
 * file) and crash-safe save (lock, temp file, fsync, rename, fsync dir).
 * Every file is reached relative to the state directory's descriptor,
 * opened without following a symbolic link, and no file in it is opened
 * through a link either; the directory and the store file must pass
 * trust_perm_check for this process's user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/log.h"
#include "dotstub/fdio.h"
#include "dotstub/trust.h"
#include "trust-int.h"

#define TMP_PREFIX "." TRUST_STORE_FILE ".tmp-"

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static void file_id_set(struct trust_file_id *id, const struct stat *st)
{
	id->exists = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

static bool file_id_same(const struct trust_file_id *id, const struct stat *st)
{
	return id->exists && id->dev == st->st_dev && id->ino == st->st_ino &&
	       id->size == st->st_size && id->mtime.tv_sec == st->st_mtim.tv_sec &&
	       id->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int lock_take(const struct trust_store *s)
{
	int fd = openat(s->dir_fd, TRUST_STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
	}
	return fd;
}

static int fsync_dir(const struct trust_store *s)
{
	return fsync(s->dir_fd) < 0 ? -errno : 0;
}

/* Open the state directory (not through a symbolic link) and check it.
 * -ENOENT if it does not exist, -EPERM (msg filled) if it is unsafe. */
static int dir_open(struct trust_store *s, char *msg, size_t msglen)
{
	struct stat st;
	int fd, r;

	if (s->dir_fd >= 0)
		return 0;
	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(s->dir, &st) == 0) {
		r = trust_perm_check(&st, geteuid(), TRUST_PERM_DIR, s->dir, msg, msglen);
		return r < 0 ? r : -ELOOP; /* replaced meanwhile */
	}
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0)
		r = trust_perm_check(&st, geteuid(), TRUST_PERM_DIR, s->dir, msg, msglen);
	if (r < 0) {
		close(fd);
		return r;
	}
	s->dir_fd = fd;
	return 0;
}

/* Read all of fd (at most TRUST_FILE_MAX octets).  -EFBIG if longer. */
static int read_all(int fd, char **ret, size_t *ret_len, struct stat *st)
{
	size_t len = 0;
	char *buf;

	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (st->st_size > (off_t)TRUST_FILE_MAX)
		return -EFBIG;
	buf = malloc((size_t)st->st_size + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st->st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st->st_size) { /* grew while we read */
			free(buf);
			return -EFBIG;
		}
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Move the file aside as "<file>.corrupt-<unixtime>[-N]", under the lock,
 * if it is still the one we read (st). */
static int quarantine(struct trust_store *s, const struct stat *st,
		      struct trust_open_report *report)
{
	struct stat now_st;
	char *dst = NULL;
	int lock, r = 0;

	lock = lock_take(s);
	if (lock < 0)
		return lock;
	if (fstatat(s->dir_fd, TRUST_STORE_FILE, &now_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now_st.st_dev != st->st_dev ||
	    now_st.st_ino != st->st_ino) {
		r = -EAGAIN; /* replaced meanwhile: read it again */
		goto out;
	}
	for (unsigned i = 0; i < 100; i++) {
		free(dst);
		if ((i == 0 ? asprintf(&dst, "%s.corrupt-%lld", s->path, (long long)time(NULL))
			    : asprintf(&dst, "%s.corrupt-%lld-%u", s->path, (long long)time(NULL),
				       i)) < 0) {
			dst = NULL;
			r = -ENOMEM;
			goto out;
		}
		if (renameat2(s->dir_fd, TRUST_STORE_FILE, s->dir_fd, strrchr(dst, '/') + 1,
			      RENAME_NOREPLACE) == 0) {
			r = 0;
			break;
		}
		r = -errno;
		if (r != -EEXIST)
			break;
	}
	if (r == 0) {
		r = fsync_dir(s);
		if (report)
			snprintf(report->quarantined, sizeof(report->quarantined), "%s", dst);
		log_debug("trust: %s moved aside to %s", s->path, dst);
	}
out:
	free(dst);
	close(lock);
	return r;
}

/* May the store file (st) be trusted?  0, or -EPERM with the reason in
 * the report. */
static int file_trusted(const struct trust_store *s, const struct stat *st,
			struct trust_open_report *report)
{
	char local[64];

	return trust_perm_check(st, geteuid(), TRUST_PERM_FILE, s->path,
				report ? report->error : local,
				report ? sizeof(report->error) : sizeof(local));
}

/* 0: loaded (or no file); 1: quarantined; -errno. */
static int load_once(struct trust_store *s, struct trust_open_report *report)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	unsigned line = 0;
	char msg[256];
	int fd, r;

	if (s->dir_fd < 0) { /* no state directory: an empty store */
		s->file.exists = false;
		return 0;
	}
	fd = openat(s->dir_fd, TRUST_STORE_FILE,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		s->file.exists = false;
		return 0;
	}
	if (fd < 0 && errno == ELOOP &&
	    fstatat(s->dir_fd, TRUST_STORE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    file_trusted(s, &st, report) < 0)
		return -EPERM;
	if (fd < 0) {
		r = -errno;
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(-r));
		if (r == -ENOMEM || r == -EMFILE || r == -ENFILE ||
		    fstatat(s->dir_fd, TRUST_STORE_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return r;
	} else {
		r = fstat(fd, &st) < 0 ? -errno : file_trusted(s, &st, report);
		if (r < 0) {
			close(fd);
			return r;
		}
		r = read_all(fd, &text, &len, &st);
		close(fd);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(-r));
		else
			r = trust_store_parse(s, text, len, &line, msg, sizeof(msg));
		free(text);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			file_id_set(&s->file, &st);
			return 0;
		}
	}
	if (report) {
		report->line = line;
		snprintf(report->error, sizeof(report->error), "%s", msg);
	}
	if (s->flags & TRUST_OPEN_READONLY)
		return r;
	r = quarantine(s, &st, report);
	if (r < 0)
		return r;
	s->file.exists = false;
	return TRUST_STORE_QUARANTINED;
}

static int load_file(struct trust_store *s, struct trust_open_report *report)
{
	int r;

	for (int tries = 0; tries < 3; tries++) {
		r = load_once(s, report);
		if (r != -EAGAIN)
			return r;
	}
	return r;
}

/* A managed entry whose key left the configuration is pending again; a
 * key in the configuration is managed unless it was revoked. */
static void apply_managed(struct trust_store *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct trust_anchor *a = s->anchors[i];

		if (a->managed && a->state != TRUST_STATE_REVOKED) {
			a->state = TRUST_STATE_MANAGED;
			a->add_pending_since = 0;
			memset(a->introduced_by, 0, sizeof(a->introduced_by));
		} else if (!a->managed && a->state == TRUST_STATE_MANAGED) {
			a->state = TRUST_STATE_PENDING;
		}
	}
}

int trust_store_open(const struct trust_store_opts *o, struct trust_store **ret,
		     struct trust_open_report *report)
{
	struct trust_store *s;
	int r, loaded;

	if (report)
		memset(report, 0, sizeof(*report));
	if (!o || !o->state_dir || o->max_networks > TRUST_MAX_NETWORKS)
		return -EINVAL;
	s = trust_store_new_memory(o->max_networks);
	if (!s)
		return -ENOMEM;
	s->memory = false;
	s->flags = o->flags;
	s->dir_fd = -1;
	s->dir = strdup(o->state_dir);
	if (s->dir)
		trust_path_strip(s->dir);
	s->path = s->dir ? path_join(s->dir, TRUST_STORE_FILE) : NULL;
	s->lock_path = s->dir ? path_join(s->dir, TRUST_STORE_LOCK) : NULL;
	if (!s->dir || !s->path || !s->lock_path) {
		trust_store_close(s);
		return -ENOMEM;
	}
	{
		char local[64];

		r = dir_open(s, report ? report->error : local,
			     report ? sizeof(report->error) : sizeof(local));
		if (r < 0 && r != -ENOENT) {
			trust_store_close(s);
			return r;
		}
	}
	loaded = load_file(s, report);
	if (loaded < 0) {
		trust_store_close(s);
		return loaded;
	}
	if (o->managed_dir) {
		r = trust_managed_load(s, o->managed_dir, report);
		if (r < 0) {
			trust_store_close(s);
			return r;
		}
	}
	apply_managed(s);
	r = trust_store_normalize(s);
	if (r < 0) {
		trust_store_close(s);
		return r;
	}
	*ret = s;
	return loaded;
}

/* Remove temporary files left by killed writers (we hold the lock). */
static void remove_stale_temps(const struct trust_store *s)
{
	int fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* The text must parse back to exactly itself. */
static int check_round_trip(const struct trust_store *s, const char *text, size_t len)
{
	struct trust_store *t = trust_store_new_memory(s->max_networks);
	char *again = NULL;
	size_t again_len = 0;
	int r;

	if (!t)
		return -ENOMEM;
	r = trust_store_parse(t, text, len, NULL, NULL, 0);
	if (r == 0)
		r = trust_store_format(t, &again, &again_len);
	if (r == 0 && (again_len != len || memcmp(again, text, len) != 0))
		r = -EIO;
	if (r == -EBADMSG)
		r = -EIO;
	free(again);
	trust_store_close(t);
	return r;
}

/* A new temporary file in the state directory, its name in tmp. */
static int tmp_create(const struct trust_store *s, char tmp[static sizeof(TMP_PREFIX) + 6])
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		memcpy(tmp, TMP_PREFIX, sizeof(TMP_PREFIX) - 1);
		for (size_t i = 0; i < sizeof(rnd); i++)
			tmp[sizeof(TMP_PREFIX) - 1 + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		tmp[sizeof(TMP_PREFIX) - 1 + sizeof(rnd)] = '\0';
		fd = openat(s->dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

static int write_file(struct trust_store *s, const char *text, size_t len)
{
	char tmp[sizeof(TMP_PREFIX) + 6];
	struct stat st;
	int fd, r;

	fd = tmp_create(s, tmp);
	if (fd < 0)
		return fd;
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r == 0)
		r = ds_write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(s->dir_fd, tmp, s->dir_fd, TRUST_STORE_FILE) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(s->dir_fd, tmp, 0);
		return r;
	}
	file_id_set(&s->file, &st);
	/* the rename is done; a failing directory fsync is still reported */
	return fsync_dir(s);
}

/* -ESTALE if another writer replaced (or removed) the file we know. */
static int check_fresh(const struct trust_store *s)
{
	struct stat st;

	if (fstatat(s->dir_fd, TRUST_STORE_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
		return s->file.exists ? -ESTALE : 0;
	}
	return file_id_same(&s->file, &st) ? 0 : -ESTALE;
}

int trust_store_save(struct trust_store *s)
{
	char *text = NULL;
	size_t len = 0;
	int lock, r;

	if (s->journal.commit)
		return s->journal.commit(s->journal.arg);
	if (s->flags & TRUST_OPEN_READONLY)
		return -EROFS;
	if (s->memory)
		return -EINVAL;
	r = trust_store_normalize(s);
	if (r == 0)
		r = trust_store_format(s, &text, &len);
	if (r == 0)
		r = check_round_trip(s, text, len);
	if (r == 0 && s->dir_fd < 0) { /* the directory may have been made since */
		char msg[64];

		r = dir_open(s, msg, sizeof(msg));
	}
	if (r < 0) {
		free(text);
		return r;
	}
	lock = lock_take(s);
	if (lock < 0) {
		free(text);
		return lock;
	}
	r = check_fresh(s);
	if (r == 0) {
		remove_stale_temps(s);
		r = write_file(s, text, len);
	}
	close(lock);
	free(text);
	return r;
}
