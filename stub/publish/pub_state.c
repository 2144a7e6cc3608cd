/*
 * pub_state.c -- the publisher's keys in the state directory (publish.h):
 * read at start, or made on first start and written there.  The keys are
 * the router's identity, which its clients pin: made here, never copied
 * from anywhere, never replaced while any of them is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/fdio.h"
#include "dotstub/publish.h"

/* A key file is a few hundred octets; refuse anything much larger. */
#define KEY_FILE_MAX 16384
#define ANCHOR_FILE "trust-anchor.key"

static int key_path(char *out, size_t len, const char *dir, enum ds_pub_key_role role)
{
	int n = snprintf(out, len, "%s/%s.private", dir, ds_pub_key_file(role));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Open path for reading if it is a regular file of sane size: -ENOENT if
 * there is none. */
static int open_small(const char *path, FILE **ret)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		close(fd);
		return -EINVAL;
	}
	if ((*ret = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static int load_one(struct ds_pub_keys *keys, const char *dir, enum ds_pub_key_role role,
		    const char *name, char *why, size_t whylen)
{
	char path[PATH_MAX], err[160] = "";
	FILE *fp = NULL;
	int r;

	if ((r = key_path(path, sizeof(path), dir, role)) < 0 || (r = open_small(path, &fp)) < 0) {
		snprintf(why, whylen, "%s/%s.private: %s", dir, ds_pub_key_file(role),
			 r == -EINVAL ? "not a regular file of at most 16 KiB" : strerror(-r));
		return r;
	}
	r = ds_pub_key_read(&keys->key[role], fp, role, name, err, sizeof(err));
	fclose(fp);
	if (r < 0)
		snprintf(why, whylen, "%s: %s", path, err);
	return r;
}

static int write_text(const char *dir, const char *file, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return ds_file_replace(path, text, strlen(text), mode);
}

/* The anchor file: for the operator's eyes and for `delv -a`. */
static int write_anchor(const struct ds_pub_keys *keys, const char *dir)
{
	ldns_rr *rr = ds_pub_key_dnskey(keys->key[DS_PUB_ARPA_KSK], DS_PUB_TTL);
	char *s, *text;
	int r = -ENOMEM;

	if (rr == NULL)
		return -ENOMEM;
	s = ldns_rr2str_fmt(ldns_output_format_nocomments, rr);
	ldns_rr_free(rr);
	if (s && asprintf(&text, "; The trust anchor of %s. (its KSK), as a DNSKEY record.\n%s",
			  DS_PUB_ARPA, s) >= 0) {
		r = write_text(dir, ANCHOR_FILE, text, 0644);
		free(text);
	}
	free(s);
	return r;
}

static int create_all(struct ds_pub_keys *keys, const char *dir, const char *name, char *why,
		      size_t whylen)
{
	char file[64], *text;
	int r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < DS_PUB_NKEYS; i++) {
		if ((r = ds_pub_key_generate(&keys->key[i], LDNS_SIGN_ECDSAP256SHA256,
					     (enum ds_pub_key_role)i, name)) < 0) {
			snprintf(why, whylen, "cannot generate a key: %s", strerror(-r));
			return r;
		}
	}
	/* the KSK last: its file's presence says the set is complete */
	for (int i = DS_PUB_NKEYS - 1; i >= 0; i--) {
		if ((text = ds_pub_key_text(keys->key[i])) == NULL)
			return -ENOMEM;
		snprintf(file, sizeof(file), "%s.private", ds_pub_key_file((enum ds_pub_key_role)i));
		r = write_text(dir, file, text, 0600);
		free(text);
		if (r < 0) {
			snprintf(why, whylen, "cannot write %s/%s: %s", dir, file, strerror(-r));
			return r;
		}
	}
	if ((r = write_anchor(keys, dir)) < 0)
		snprintf(why, whylen, "cannot write %s/%s: %s", dir, ANCHOR_FILE, strerror(-r));
	return r;
}

/* How many of the key files dir holds (one that cannot be checked
 * counts), or -errno with why. */
static int key_files_present(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
	int present = 0, r;

	for (int i = 0; i < DS_PUB_NKEYS; i++) {
		if ((r = key_path(path, sizeof(path), dir, (enum ds_pub_key_role)i)) < 0) {
			snprintf(why, whylen, "%s: path too long", dir);
			return r;
		}
		if (access(path, F_OK) == 0 || errno != ENOENT)
			present++;
	}
	if (present > 0 && present < DS_PUB_NKEYS) {
		snprintf(why, whylen,
			 "%s holds %d of the %d key files; they are the publication's identity, "
			 "so none is replaced: move the directory away to have new keys made "
			 "(clients that pinned the old anchor will refuse the new)",
			 dir, present, DS_PUB_NKEYS);
		return -ENOENT;
	}
	return present;
}

int ds_pub_state_make(const char *dir, bool *created, char *why, size_t whylen)
{
	struct ds_pub_keys keys;
	int r = key_files_present(dir, why, whylen);

	*created = false;
	if (r != 0)
		return r < 0 ? r : 0;
	/* the files hold no owner name: the zone keys' is set again at load */
	memset(&keys, 0, sizeof(keys));
	r = create_all(&keys, dir, DS_PUB_ARPA, why, whylen);
	ds_pub_keys_free(&keys);
	*created = r == 0;
	return r;
}

int ds_pub_state_load(struct ds_pub_keys *keys, const char *dir, const char *name, char *why,
		      size_t whylen)
{
	int r = key_files_present(dir, why, whylen);

	memset(keys, 0, sizeof(*keys));
	if (r == 0) {
		snprintf(why, whylen, "%s holds no keys", dir);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	r = 0;
	for (int i = 0; i < DS_PUB_NKEYS && r == 0; i++)
		r = load_one(keys, dir, (enum ds_pub_key_role)i, name, why, whylen);
	if (r < 0)
		ds_pub_keys_free(keys);
	return r;
}
