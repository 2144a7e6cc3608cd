/*
 * trust-int.h -- what the files of the trust part share; not installed,
 * not for other parts.
 */
#ifndef DOTSTUB_TRUST_INT_H
#define DOTSTUB_TRUST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "dotstub/trust.h"

/* The identity of the file a handle read or wrote last. */
struct trust_file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct trust_store {
	struct trust_anchor **anchors; /* each malloc'ed: pointers stay valid */
	size_t n;
	size_t cap;
	struct trust_dpin *dpins; /* designated pins, sorted by fingerprint */
	size_t ndpins;
	unsigned max_networks;
	unsigned flags;     /* TRUST_OPEN_* */
	bool memory;        /* no file behind it */
	char *dir;          /* state directory (for messages) */
	int dir_fd;         /* the state directory, O_NOFOLLOW; -1: none */
	char *path;         /* dir/TRUST_STORE_FILE */
	char *lock_path;    /* dir/TRUST_STORE_LOCK */
	struct trust_file_id file;
	struct trust_journal journal; /* change NULL: none */
};

/* Tell the journal (if any) about a change just made. */
void trust_journal_note(const struct trust_store *s, const struct trust_change *c);

/* ---- storeperm.c ---- */
enum trust_perm_kind { TRUST_PERM_PARENT, TRUST_PERM_DIR, TRUST_PERM_FILE };
/* May st (of path, a kind) be trusted by a process of uid: owned by root
 * or uid, not writable by group or others (a sticky parent may be), the
 * right type, not a symbolic link?  0, or -EPERM with the path and the fix
 * in msg. */
int trust_perm_check(const struct stat *st, uid_t uid, enum trust_perm_kind kind,
		     const char *path, char *msg, size_t msglen);
/* Remove trailing slashes (a path "link/" would follow the link). */
void trust_path_strip(char *path);

/* ---- store.c ---- */
struct trust_anchor *trust_anchor_new(void);
void trust_anchor_free(struct trust_anchor *a);
/* Append a (ownership taken on success).  -E2BIG, -ENOMEM. */
int trust_store_append(struct trust_store *s, struct trust_anchor *a);
/* Free every anchor and designated pin; s stays usable. */
void trust_store_clear(struct trust_store *s);
/* Move the anchors of src into dst (dst's are freed); src ends empty. */
void trust_store_move(struct trust_store *dst, struct trust_store *src);
/* Merge duplicates, apply the network cap, sort.  -ENOMEM. */
int trust_store_normalize(struct trust_store *s);
/* Add a designated pin read from a file (no journal).  -EEXIST (another
 * key for that network), -E2BIG, -ENOMEM. */
int trust_store_add_dpin(struct trust_store *s, const struct trust_dpin *p);
/* Index of a in s, or -ENOENT. */
ssize_t trust_store_index(const struct trust_store *s, const struct trust_anchor *a);
/* Find a resolver of a by canonical name, or NULL. */
struct trust_resolver *trust_anchor_resolver(struct trust_anchor *a, const char *name);
/* Add or merge a network sighting (first/last kept as min/max), then cap. */
int trust_anchor_add_network(struct trust_anchor *a, const char *fp, time_t first, time_t last,
			     unsigned cap);
/* Is fp an acceptable fingerprint text? */
bool trust_fp_valid(const char *fp);
/* Canonical text of an IPv4/IPv6 address.  0 or -EINVAL. */
int trust_addr_canonical(const char *in, char out[TRUST_ADDR_MAX]);
/* Set tag and sha256 from key.  0 or -ENOMEM. */
int trust_anchor_set_key(struct trust_anchor *a, const struct trust_dnskey *k);

/* ---- dnskey.c ---- */
/* Strict base64 (no blanks, padding required).  Returns the decoded length
 * or -EINVAL / -ENOBUFS. */
int trust_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap);
/* Returns the length written (NUL added), or -ENOBUFS. */
int trust_base64_encode(const uint8_t *in, size_t n, char *out, size_t outcap);
/* Check the algorithm-specific key length etc.  0 or -EINVAL. */
int trust_dnskey_check(const struct trust_dnskey *k);
/* Parse a decimal number in [0, max] from exactly the string s.  0 or -EINVAL. */
int trust_parse_uint(const char *s, unsigned long max, unsigned long *ret);

/* ---- managed.c ---- */
/* Load dir/ *.key into s as managed anchors, marking existing entries. */
int trust_managed_load(struct trust_store *s, const char *dir, struct trust_open_report *report);

#endif
