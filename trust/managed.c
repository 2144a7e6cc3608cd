/*
 * managed.c -- managed anchors: read-only "*.key" files in a configuration
 * directory, one DNSKEY RR per line.  An invalid file is skipped whole and
 * reported; it never stops the store from opening.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotstub/trust.h"
#include "trust-int.h"

#define MANAGED_FILE_MAX (64u * 1024)
#define MANAGED_KEYS_MAX 64 /* per file */

struct managed_key {
	char zone[TRUST_NAME_MAX + 1];
	struct trust_dnskey key;
};

/* Count a skipped file; the first error is kept as "dir/name:line: msg"
 * (long paths shortened). */
static void report_error(struct trust_open_report *report, const char *dir, const char *name,
			 unsigned line, const char *msg)
{
	if (!report)
		return;
	if (report->managed_skipped++ == 0)
		snprintf(report->managed_error, sizeof(report->managed_error),
			 "%.160s%s%.160s:%u: %.160s", dir, name ? "/" : "", name ? name : "", line,
			 msg);
}

static int read_small_file(int dfd, const char *name, char *buf, size_t cap, size_t *ret_len,
			   time_t *ret_mtime)
{
	struct stat st;
	size_t len = 0;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r == 0) {
		*ret_len = len;
		*ret_mtime = st.st_mtim.tv_sec;
	}
	return r;
}

/* Blank after removing a ";" comment? */
static bool blank_line(const char *s)
{
	for (; *s && *s != ';'; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* Parse buf (NUL-terminated at len) into keys.  Returns the count or
 * -EBADMSG with *ret_line and msg set. */
static int parse_managed(char *buf, size_t len, struct managed_key *keys, unsigned *ret_line,
			 const char **msg)
{
	unsigned line = 0;
	int n = 0;

	if (strlen(buf) != len) {
		*msg = "NUL octet in file";
		*ret_line = 0;
		return -EBADMSG;
	}
	for (char *s = buf, *nl; *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		line++;
		*ret_line = line;
		if (blank_line(s))
			continue;
		if (n == MANAGED_KEYS_MAX) {
			*msg = "too many keys in one file";
			return -EBADMSG;
		}
		if (trust_dnskey_parse_rr(s, keys[n].zone, &keys[n].key) < 0) {
			*msg = "not a DNSKEY RR (\"zone. [TTL] [IN] DNSKEY flags 3 alg base64\")";
			return -EBADMSG;
		}
		if (!(keys[n].key.flags & TRUST_DNSKEY_ZONE) ||
		    (keys[n].key.flags & TRUST_DNSKEY_REVOKE)) {
			*msg = "a trust anchor needs the zone flag and no REVOKE flag";
			return -EBADMSG;
		}
		n++;
		if (!nl)
			break;
	}
	return n;
}

static int add_managed(struct trust_store *s, const struct managed_key *mk, time_t mtime)
{
	struct trust_anchor *a;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		a = s->anchors[i];
		if (strcmp(a->zone, mk->zone) == 0 && trust_dnskey_equal(&a->key, &mk->key)) {
			a->managed = true;
			return 0;
		}
	}
	a = trust_anchor_new();
	if (!a)
		return -ENOMEM;
	memcpy(a->zone, mk->zone, sizeof(a->zone));
	a->state = TRUST_STATE_MANAGED;
	a->managed = true;
	a->first_seen = a->last_seen = mtime > 0 ? mtime : 0;
	r = trust_anchor_set_key(a, &mk->key);
	if (r == 0)
		r = trust_store_append(s, a);
	if (r < 0)
		trust_anchor_free(a);
	return r;
}

static int key_file_filter(const struct dirent *e)
{
	size_t l = strlen(e->d_name);

	return e->d_name[0] != '.' && l > 4 && strcmp(e->d_name + l - 4, ".key") == 0;
}

static int load_one(struct trust_store *s, int dfd, const char *dir, const char *name,
		    struct trust_open_report *report, char *buf, struct managed_key *keys)
{
	const char *msg = NULL;
	unsigned line = 0;
	size_t len = 0;
	time_t mtime = 0;
	int n, r;

	r = read_small_file(dfd, name, buf, MANAGED_FILE_MAX, &len, &mtime);
	if (r < 0) {
		report_error(report, dir, name, 0, r == -EFBIG ? "file too large" : strerror(-r));
		return 0;
	}
	buf[len] = '\0';
	n = parse_managed(buf, len, keys, &line, &msg);
	if (n < 0) {
		report_error(report, dir, name, line, msg);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		r = add_managed(s, &keys[i], mtime);
		if (r == -E2BIG) {
			report_error(report, dir, name, 0, "the store is full");
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int trust_managed_load(struct trust_store *s, const char *dir, struct trust_open_report *report)
{
	struct dirent **names = NULL;
	struct managed_key *keys;
	char *buf;
	int n, dfd, r = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT)
			report_error(report, dir, NULL, 0, strerror(errno));
		return 0;
	}
	n = scandir(dir, &names, key_file_filter, alphasort);
	buf = malloc(MANAGED_FILE_MAX + 1);
	keys = calloc(MANAGED_KEYS_MAX, sizeof(*keys));
	if (n < 0 || !buf || !keys) {
		r = n < 0 ? (errno == ENOMEM ? -ENOMEM : 0) : -ENOMEM;
		if (n < 0 && r == 0)
			report_error(report, dir, NULL, 0, strerror(errno));
		n = n < 0 ? 0 : n;
	}
	for (int i = 0; i < n; i++) {
		if (r == 0)
			r = load_one(s, dfd, dir, names[i]->d_name, report, buf, keys);
		free(names[i]);
	}
	free(names);
	free(buf);
	free(keys);
	close(dfd);
	return r;
}
