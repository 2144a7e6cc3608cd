/*
 * storeio.c -- the store file on disk: open (with quarantine of a corrupt
 * file) and crash-safe save (lock, temp file, fsync, rename, fsync dir).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/log.h"
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
	int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

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

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
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
	if (stat(s->path, &now_st) < 0 || now_st.st_dev != st->st_dev ||
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
		if (renameat2(AT_FDCWD, s->path, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) {
			r = 0;
			break;
		}
		r = -errno;
		if (r != -EEXIST)
			break;
	}
	if (r == 0) {
		r = fsync_dir(s->dir);
		if (report)
			snprintf(report->quarantined, sizeof(report->quarantined), "%s", dst);
		log_debug("trust: %s moved aside to %s", s->path, dst);
	}
out:
	free(dst);
	close(lock);
	return r;
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

	fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		s->file.exists = false;
		return 0;
	}
	if (fd < 0) {
		r = -errno;
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(-r));
		if (r == -ENOMEM || r == -EMFILE || r == -ENFILE || stat(s->path, &st) < 0)
			return r;
	} else {
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
	s->dir = strdup(o->state_dir);
	s->path = path_join(o->state_dir, TRUST_STORE_FILE);
	s->lock_path = path_join(o->state_dir, TRUST_STORE_LOCK);
	if (!s->dir || !s->path || !s->lock_path) {
		trust_store_close(s);
		return -ENOMEM;
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
static void remove_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
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

static int write_file(struct trust_store *s, const char *text, size_t len)
{
	char *tmp = NULL;
	struct stat st;
	int fd, r;

	if (asprintf(&tmp, "%s/%sXXXXXX", s->dir, TMP_PREFIX) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, s->path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		free(tmp);
		return r;
	}
	free(tmp);
	file_id_set(&s->file, &st);
	/* the rename is done; a failing directory fsync is still reported */
	return fsync_dir(s->dir);
}

/* -ESTALE if another writer replaced (or removed) the file we know. */
static int check_fresh(const struct trust_store *s)
{
	struct stat st;

	if (stat(s->path, &st) < 0) {
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

	if (s->flags & TRUST_OPEN_READONLY)
		return -EROFS;
	if (s->memory)
		return -EINVAL;
	r = trust_store_normalize(s);
	if (r == 0)
		r = trust_store_format(s, &text, &len);
	if (r == 0)
		r = check_round_trip(s, text, len);
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
		remove_stale_temps(s->dir);
		r = write_file(s, text, len);
	}
	close(lock);
	free(text);
	return r;
}
