/*
 * dotsrv_id.c -- where the DoT server's certificate and key come from
 * (dotsrv.h): serve-dot-cert and serve-dot-key as given, or a pair
 * generated in state-dir on first start.
 *
 * The generated key is the server's identity: clients pin it (TLSA 3 1 1
 * of its SPKI), so it is made once per install, never copied from
 * anywhere, and kept: only a missing key file makes a new one, and a key
 * file that cannot be read stops the server rather than being replaced.
 * The certificate is derived from it (self-signed, for serve-dot-name or
 * a random unique name in the form PROTOCOL.md recommends) and made again
 * with the same key when the name changes, when it is near its end, or
 * when it is missing or does not match the key.  Both files are written
 * crash-safely, mode 0600, by the daemon's user, in the store process
 * (after it dropped its privileges); the network process only reads them
 * (privsep.h).  Keys and certificates are made by stub/cert,
 * as `dotctl provision` makes a resolver's.
 */
#include "dotsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dotstub/fdio.h"
#include "dotstub/log.h"

/* A PEM key or certificate is a few KiB at most. */
#define PEM_MAX (64 * 1024)

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* The PEM file at path into a memory BIO: -ENOENT if there is none,
 * -EINVAL if it is not a regular file of at most PEM_MAX octets. */
static int read_pem(const char *path, BIO **ret)
{
	char buf[4096];
	struct stat st;
	BIO *b;
	int fd, r = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX) {
		close(fd);
		return -EINVAL;
	}
	b = BIO_new(BIO_s_secmem());
	if (b == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || BIO_write(b, buf, (int)n) != (int)n) {
			r = n < 0 ? -errno : -ENOMEM;
			break;
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	if (r < 0) {
		BIO_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

static int load_key(const char *path, EVP_PKEY **ret)
{
	BIO *b;
	int r = read_pem(path, &b);

	if (r < 0)
		return r;
	*ret = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *ret ? 0 : -EBADMSG;
}

static int load_cert(const char *path, X509 **ret)
{
	BIO *b;
	int r = read_pem(path, &b);

	if (r < 0)
		return r;
	*ret = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *ret ? 0 : -EBADMSG;
}

/* Write what write_pem puts in a memory BIO to path, mode 0600. */
static int save_pem(const char *path, int (*write_pem)(BIO *, void *), void *arg)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	long len;
	int r;

	if (b == NULL)
		return -ENOMEM;
	if (!write_pem(b, arg) || (len = BIO_get_mem_data(b, &data)) <= 0) {
		ERR_clear_error();
		BIO_free(b);
		return -EIO;
	}
	r = ds_file_replace(path, data, (size_t)len, 0600);
	BIO_free(b);
	return r;
}

static int write_key(BIO *b, void *arg)
{
	return PEM_write_bio_PrivateKey(b, arg, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(BIO *b, void *arg)
{
	return PEM_write_bio_X509(b, arg);
}

/* The generated key: read, or made and written if there is none. */
static int id_key(const char *path, EVP_PKEY **key, char *why, size_t whylen)
{
	int r = load_key(path, key);

	if (r == 0)
		return 0;
	if (r != -ENOENT) {
		snprintf(why, whylen,
			 "%s: %s; it is the server's identity, so it is not replaced: "
			 "move it away to have a new one generated (clients that pinned the "
			 "old one will refuse the new)",
			 path, r == -EBADMSG ? "not a PEM private key" : strerror(-r));
		return r;
	}
	*key = ds_cert_key_new();
	if (*key == NULL) {
		snprintf(why, whylen, "cannot generate a key");
		return -EIO;
	}
	r = save_pem(path, write_key, *key);
	if (r < 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(-r));
		EVP_PKEY_free(*key);
		*key = NULL;
		return r;
	}
	log_notice("dot: generated a new key for the DoT server in %s", path);
	return 0;
}

/* Must the generated certificate (NULL: missing) be made again for key and
 * want (the name it should carry, "" for any)?  Says why in what. */
static bool cert_stale(X509 *x, EVP_PKEY *key, const char *want, const char **what)
{
	char name[254];
	int64_t left;

	if (x == NULL) {
		*what = "none yet";
		return true;
	}
	if (X509_check_private_key(x, key) != 1) {
		ERR_clear_error();
		*what = "it does not match the key";
		return true;
	}
	if (ds_cert_dns_name(x, name, sizeof(name)) < 0) {
		*what = "it names no host";
		return true;
	}
	if (want[0] && strcmp(name, want) != 0) {
		*what = "serve-dot-name changed";
		return true;
	}
	left = ds_cert_seconds_left(x);
	if (left == INT64_MIN || left < (int64_t)DOTSRV_ID_RENEW_DAYS * 86400) {
		*what = "it expires soon";
		return true;
	}
	return false;
}

/* Make the generated certificate for key again, unless it is good:
 * 1 made, 0 kept, -errno with why. */
static int id_cert(const struct ds_serve_dot_config *cfg, const char *path, EVP_PKEY *key, char *why,
		   size_t whylen)
{
	char name[254];
	const char *what = "";
	X509 *x = NULL;
	int r = load_cert(path, &x);

	if (r < 0 && r != -ENOENT && r != -EBADMSG) {
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!cert_stale(x, key, cfg->name, &what)) {
		X509_free(x);
		return 0;
	}
	/* the name: serve-dot-name; else the one it had; else a new one */
	r = 0;
	if (cfg->name[0])
		snprintf(name, sizeof(name), "%s", cfg->name);
	else if (!x || ds_cert_dns_name(x, name, sizeof(name)) < 0)
		r = ds_cert_random_name(name, sizeof(name));
	X509_free(x);
	x = r == 0 ? ds_cert_make(name, key, NULL, key, DS_CERT_DAYS) : NULL;
	if (x == NULL) {
		snprintf(why, whylen, "cannot make a certificate for %s", name);
		return -EIO;
	}
	r = save_pem(path, write_cert, x);
	X509_free(x);
	if (r < 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(-r));
		return r;
	}
	log_notice("dot: made the DoT server's certificate for %s in %s (%s)", name, path, what);
	return 1;
}

static int id_paths(const struct ds_serve_dot_config *cfg, const char *state_dir,
		    struct dotsrv_id *id, char *why, size_t whylen)
{
	memset(id, 0, sizeof(*id));
	if (cfg->cert[0]) {
		snprintf(id->chain, sizeof(id->chain), "%s", cfg->cert);
		snprintf(id->key, sizeof(id->key), "%s", cfg->key);
		return 0;
	}
	id->generated = true;
	if (snprintf(id->chain, sizeof(id->chain), "%s/%s", state_dir, DOTSRV_ID_CERT_FILE) >=
		    (int)sizeof(id->chain) ||
	    snprintf(id->key, sizeof(id->key), "%s/%s", state_dir, DOTSRV_ID_KEY_FILE) >=
		    (int)sizeof(id->key)) {
		snprintf(why, whylen, "state-dir %s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

int dotsrv_id_locate(const struct ds_serve_dot_config *cfg, const char *state_dir,
		     struct dotsrv_id *id, char *why, size_t whylen)
{
	return id_paths(cfg, state_dir, id, why, whylen);
}

int dotsrv_id_stamp(const struct dotsrv_id *id, struct dotsrv_id_stamp *st)
{
	struct stat sb;

	if (stat(id->chain, &sb) < 0)
		return -errno;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return 0;
}

int dotsrv_id_make(const struct ds_serve_dot_config *cfg, const char *state_dir, char *why,
		   size_t whylen)
{
	struct dotsrv_id id;
	EVP_PKEY *key = NULL;
	int r;

	if (cfg->naddr == 0)
		return 0;
	r = id_paths(cfg, state_dir, &id, why, whylen);
	if (r < 0 || !id.generated)
		return r;
	r = id_key(id.key, &key, why, whylen);
	if (r == 0)
		r = id_cert(cfg, id.chain, key, why, whylen);
	EVP_PKEY_free(key);
	return r;
}
