/*
 * provision_keys.c -- the DNSSEC keys of a provisioned resolver, made by
 * stub/publish (dotstub/publish.h) as the daemon's publisher makes its
 * own, saved as and loaded from ldns/BIND key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>

#include "dotstub/provision.h"

/* A key file is a few hundred octets; refuse anything much larger. */
#define KEY_FILE_MAX 16384

/* keys/<file>.private and .key */
static void
key_file(char *out, size_t size, enum ds_pub_key_role role)
{
	snprintf(out, size, "keys/%s", ds_pub_key_file(role));
}

int
ctl_prov_keys_generate(struct ds_pub_keys *keys, const char *name,
    int alg, struct ldns_struct_key *arpa_ksk)
{
	int i, a, r;

	memset(keys, 0, sizeof(*keys));
	keys->key[DS_PUB_ARPA_KSK] = arpa_ksk;
	for (i = 0; i < DS_PUB_NKEYS; i++) {
		if (keys->key[i] != NULL)
			continue;
		a = alg;
		if (i == DS_PUB_ARPA_ZSK && arpa_ksk != NULL)
			a = (int)ldns_key_algorithm(arpa_ksk);
		r = ds_pub_key_generate(&keys->key[i], a,
		    (enum ds_pub_key_role)i, name);
		if (r < 0) {
			ctl_prov_err("cannot generate a key of algorithm %d: %s",
			    a, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Open path for reading if it is a regular file of sane size. */
static FILE *
open_small(const char *path, size_t max)
{
	struct stat st;
	FILE *fp;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		ctl_prov_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		ctl_prov_err("%s: not a regular file of at most %zu octets",
		    path, max);
		close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		ctl_prov_err("%s: %s", path, strerror(errno));
		close(fd);
	}
	return fp;
}

int
ctl_prov_key_load(struct ldns_struct_key **ret, const char *path,
    enum ds_pub_key_role role, const char *name)
{
	char why[160];
	FILE *fp;
	int r;

	if ((fp = open_small(path, KEY_FILE_MAX)) == NULL)
		return -EINVAL;
	r = ds_pub_key_read(ret, fp, role, name, why, sizeof(why));
	fclose(fp);
	if (r < 0)
		ctl_prov_err("%s: %s", path, why);
	return r;
}

/* Check that the public key file path holds the DNSKEY of k. */
static int
key_check_public(const ldns_key *k, const char *path)
{
	ldns_rr *want, *have = NULL;
	ldns_status s;
	uint32_t ttl = 3600;
	FILE *fp;
	int line = 0, r = 0;

	if ((fp = open_small(path, KEY_FILE_MAX)) == NULL)
		return -EINVAL;
	s = ldns_rr_new_frm_fp_l(&have, fp, &ttl, NULL, NULL, &line);
	fclose(fp);
	if (s != LDNS_STATUS_OK) {
		ctl_prov_err("%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	if ((want = ds_pub_key_dnskey(k, ldns_rr_ttl(have))) == NULL) {
		ldns_rr_free(have);
		return -ENOMEM;
	}
	if (ldns_rr_compare(want, have) != 0) {
		ctl_prov_err("%s does not match its private key", path);
		r = -EINVAL;
	}
	ldns_rr_free(want);
	ldns_rr_free(have);
	return r;
}

int
ctl_prov_keys_load(struct ds_pub_keys *keys, const char *dir,
    const char *name)
{
	char path[PATH_MAX], rel[64];
	int i, n, r;

	memset(keys, 0, sizeof(*keys));
	for (i = 0; i < DS_PUB_NKEYS; i++) {
		key_file(rel, sizeof(rel), (enum ds_pub_key_role)i);
		n = snprintf(path, sizeof(path), "%s/%s.private", dir, rel);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		if ((r = ctl_prov_key_load(&keys->key[i], path,
		    (enum ds_pub_key_role)i, name)) < 0)
			return r;
		snprintf(path, sizeof(path), "%s/%s.key", dir, rel);
		if ((r = key_check_public(keys->key[i], path)) < 0)
			return r;
	}
	return 0;
}

static int
write_private(FILE *fp, const void *arg)
{
	char *s;

	if ((s = ds_pub_key_text(arg)) == NULL)
		return -ENOMEM;
	fputs(s, fp);
	free(s);
	return 0;
}

static int
write_rr(FILE *fp, const void *arg)
{
	ldns_rr_print_fmt(fp, ldns_output_format_nocomments, arg);
	return 0;
}

static int
write_anchor(FILE *fp, const void *arg)
{
	fprintf(fp, "; The trust anchor of %s. (its KSK), as a DNSKEY "
	    "record.\n", CTL_PROV_ARPA);
	return write_rr(fp, arg);
}

static int
key_write(const ldns_key *k, const char *file, ldns_rr *rr,
    struct ctl_prov_dir *d)
{
	char rel[PATH_MAX];
	int r;

	snprintf(rel, sizeof(rel), "%s.private", file);
	if ((r = ctl_prov_write(d, rel, 0600, write_private, k)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s.key", file);
	return ctl_prov_write(d, rel, 0644, write_rr, rr);
}

int
ctl_prov_keys_write(const struct ds_pub_keys *keys,
    struct ctl_prov_dir *d, uint32_t ttl)
{
	char file[64];
	ldns_rr *rr;
	int i, r;

	if ((r = ctl_prov_mkdir(d, "keys", 0700)) < 0)
		return r;
	for (i = 0; i < DS_PUB_NKEYS; i++) {
		if ((rr = ds_pub_key_dnskey(keys->key[i], ttl)) == NULL) {
			ctl_prov_err("out of memory");
			return -ENOMEM;
		}
		key_file(file, sizeof(file), (enum ds_pub_key_role)i);
		r = key_write(keys->key[i], file, rr, d);
		if (r == 0 && i == DS_PUB_ARPA_KSK)
			r = ctl_prov_write(d, "trust-anchor.key", 0644,
			    write_anchor, rr);
		ldns_rr_free(rr);
		if (r < 0)
			return r;
	}
	return 0;
}
