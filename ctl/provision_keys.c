/*
 * provision_keys.c -- the DNSSEC keys of a provisioned resolver: generated
 * and serialised with libldns, saved as ldns/BIND key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dotstub/provision.h"

/* A key file is a few hundred octets; refuse anything much larger. */
#define KEY_FILE_MAX 16384

static const struct {
	const char *file;	/* keys/<file>.private and .key */
	bool ksk;
	bool arpa;		/* a key of resolver-name.arpa, else of N */
} roles[CTL_PROV_NKEYS] = {
	[CTL_PROV_ARPA_KSK] = { "keys/arpa-ksk", true, true },
	[CTL_PROV_ARPA_ZSK] = { "keys/arpa-zsk", false, true },
	[CTL_PROV_ZONE_KSK] = { "keys/zone-ksk", true, false },
	[CTL_PROV_ZONE_ZSK] = { "keys/zone-zsk", false, false },
};

static bool
alg_supported(int alg)
{
	return alg == LDNS_SIGN_ECDSAP256SHA256 || alg == LDNS_SIGN_ED25519;
}

/* Set flags, owner and key tag of k for role; the key tag needs both. */
static int
key_setup(ldns_key *k, enum ctl_prov_key_role role, const char *name)
{
	char fqdn[CTL_PROV_NAME_SIZE + 1];
	ldns_rdf *owner;
	ldns_rr *rr;

	snprintf(fqdn, sizeof(fqdn), "%s.",
	    roles[role].arpa ? CTL_PROV_ARPA : name);
	if ((owner = ldns_dname_new_frm_str(fqdn)) == NULL)
		return -ENOMEM;
	if (ldns_key_pubkey_owner(k) != NULL)
		ldns_rdf_deep_free(ldns_key_pubkey_owner(k));
	ldns_key_set_pubkey_owner(k, owner);
	ldns_key_set_flags(k, roles[role].ksk ?
	    LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY : LDNS_KEY_ZONE_KEY);
	if ((rr = ldns_key2rr(k)) == NULL)
		return -ENOMEM;
	ldns_key_set_keytag(k, ldns_calc_keytag(rr));
	ldns_rr_free(rr);
	return 0;
}

int
ctl_prov_keys_generate(struct ctl_prov_keys *keys, const char *name,
    int alg, struct ldns_struct_key *arpa_ksk)
{
	int i, a, r;

	memset(keys, 0, sizeof(*keys));
	keys->key[CTL_PROV_ARPA_KSK] = arpa_ksk;
	for (i = 0; i < CTL_PROV_NKEYS; i++) {
		if (keys->key[i] != NULL)
			continue;
		a = alg;
		if (i == CTL_PROV_ARPA_ZSK && arpa_ksk != NULL)
			a = (int)ldns_key_algorithm(arpa_ksk);
		keys->key[i] = ldns_key_new_frm_algorithm(
		    (ldns_signing_algorithm)a, 0);
		if (keys->key[i] == NULL) {
			ctl_prov_err("cannot generate a key of algorithm %d",
			    a);
			return -ENOMEM;
		}
		if ((r = key_setup(keys->key[i], (enum ctl_prov_key_role)i,
		    name)) < 0) {
			ctl_prov_err("cannot set up a key: %s", strerror(-r));
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
    enum ctl_prov_key_role role, const char *name)
{
	ldns_status s;
	ldns_key *k = NULL;
	FILE *fp;
	int line = 0, r;

	if ((fp = open_small(path, KEY_FILE_MAX)) == NULL)
		return -EINVAL;
	s = ldns_key_new_frm_fp_l(&k, fp, &line);
	fclose(fp);
	if (s != LDNS_STATUS_OK) {
		ctl_prov_err("%s: not a private key file: %s", path,
		    ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	if (!alg_supported((int)ldns_key_algorithm(k))) {
		ctl_prov_err("%s: algorithm %d is not supported (13 or 15)",
		    path, (int)ldns_key_algorithm(k));
		ldns_key_deep_free(k);
		return -EINVAL;
	}
	if ((r = key_setup(k, role, name)) < 0) {
		ctl_prov_err("%s: %s", path, strerror(-r));
		ldns_key_deep_free(k);
		return r;
	}
	*ret = k;
	return 0;
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
	if ((want = ctl_prov_key_dnskey(k, ldns_rr_ttl(have))) == NULL) {
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
ctl_prov_keys_load(struct ctl_prov_keys *keys, const char *dir,
    const char *name)
{
	char path[PATH_MAX];
	int i, n, r;

	memset(keys, 0, sizeof(*keys));
	for (i = 0; i < CTL_PROV_NKEYS; i++) {
		n = snprintf(path, sizeof(path), "%s/%s.private", dir,
		    roles[i].file);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		if ((r = ctl_prov_key_load(&keys->key[i], path,
		    (enum ctl_prov_key_role)i, name)) < 0)
			return r;
		snprintf(path, sizeof(path), "%s/%s.key", dir, roles[i].file);
		if ((r = key_check_public(keys->key[i], path)) < 0)
			return r;
	}
	return 0;
}

struct ldns_struct_rr *
ctl_prov_key_dnskey(const struct ldns_struct_key *key, uint32_t ttl)
{
	ldns_rr *rr;

	if ((rr = ldns_key2rr(key)) != NULL)
		ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static int
write_private(FILE *fp, const void *arg)
{
	char *s;

	if ((s = ldns_key2str(arg)) == NULL)
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
ctl_prov_keys_write(const struct ctl_prov_keys *keys,
    struct ctl_prov_dir *d, uint32_t ttl)
{
	ldns_rr *rr;
	int i, r;

	if ((r = ctl_prov_mkdir(d, "keys", 0700)) < 0)
		return r;
	for (i = 0; i < CTL_PROV_NKEYS; i++) {
		if ((rr = ctl_prov_key_dnskey(keys->key[i], ttl)) == NULL) {
			ctl_prov_err("out of memory");
			return -ENOMEM;
		}
		r = key_write(keys->key[i], roles[i].file, rr, d);
		if (r == 0 && i == CTL_PROV_ARPA_KSK)
			r = ctl_prov_write(d, "trust-anchor.key", 0644,
			    write_anchor, rr);
		ldns_rr_free(rr);
		if (r < 0)
			return r;
	}
	return 0;
}

void
ctl_prov_keys_set_validity(struct ctl_prov_keys *keys, uint32_t inception,
    uint32_t expiration)
{
	int i;

	for (i = 0; i < CTL_PROV_NKEYS; i++) {
		ldns_key_set_inception(keys->key[i], inception);
		ldns_key_set_expiration(keys->key[i], expiration);
	}
}

void
ctl_prov_keys_free(struct ctl_prov_keys *keys)
{
	int i;

	for (i = 0; i < CTL_PROV_NKEYS; i++) {
		if (keys->key[i] != NULL)
			ldns_key_deep_free(keys->key[i]);
		keys->key[i] = NULL;
	}
}
