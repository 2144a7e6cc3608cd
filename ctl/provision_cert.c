/*
 * provision_cert.c -- the TLS side of a provisioned resolver: its P-256
 * key, its certificate for N (self-signed, or issued by a private CA), and
 * the TLSA record that authenticates it (DANE-EE 3 1 1 or DANE-TA 2 0 1).
 * The key and certificate are made by the shared stub/cert/cert.c, as
 * the DoT server of dotstubd makes its own.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dotstub/cert.h"
#include "dotstub/provision.h"

#define CERT_DAYS 365
/* PEM files larger than this are not a CA certificate or key. */
#define PEM_FILE_MAX (256 * 1024)

static void
print_ssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e == 0) {
		ctl_prov_err("%s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	ctl_prov_err("%s: %s", what, buf);
	ERR_clear_error();
}

/* A passphrase callback that refuses: encrypted keys are not supported. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static BIO *
open_pem(const char *path)
{
	BIO *bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ctl_prov_err("%s: %s", path, strerror(errno ? errno : EIO));
		ERR_clear_error();
	}
	return bio;
}

static bool
pem_size_ok(BIO *bio, const char *path)
{
	FILE *fp = NULL;
	long size;

	if (BIO_get_fp(bio, &fp) != 1 || fp == NULL ||
	    fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || size > PEM_FILE_MAX) {
		ctl_prov_err("%s: not a PEM file of at most %d octets", path,
		    PEM_FILE_MAX);
		return false;
	}
	return true;
}

/* Read the CA certificate and the certificates above it from path. */
static int
load_ca_certs(struct ctl_prov_tls *tls, const char *path)
{
	X509 *x;
	BIO *bio;
	size_t i;

	if ((bio = open_pem(path)) == NULL)
		return -ENOENT;
	if (!pem_size_ok(bio, path)) {
		BIO_free(bio);
		return -EINVAL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
		if (tls->nca == CTL_PROV_MAX_CHAIN) {
			X509_free(x);
			BIO_free(bio);
			ctl_prov_err("%s: more than %d certificates", path,
			    CTL_PROV_MAX_CHAIN);
			return -E2BIG;
		}
		tls->ca[tls->nca++] = x;
	}
	ERR_clear_error();	/* the end of the file */
	BIO_free(bio);
	if (tls->nca == 0) {
		ctl_prov_err("%s: no PEM certificate", path);
		return -EINVAL;
	}
	if (X509_check_ca(tls->ca[0]) < 1) {
		ctl_prov_err("%s: the first certificate is not a CA", path);
		return -EINVAL;
	}
	for (i = 0; i + 1 < tls->nca; i++) {
		if (X509_check_issued(tls->ca[i + 1], tls->ca[i]) !=
		    X509_V_OK) {
			ctl_prov_err("%s: certificate %zu is not issued by "
			    "certificate %zu", path, i + 1, i + 2);
			return -EINVAL;
		}
	}
	return 0;
}

static EVP_PKEY *
load_ca_key(const char *path, X509 *ca)
{
	EVP_PKEY *key;
	BIO *bio;

	if ((bio = open_pem(path)) == NULL)
		return NULL;
	if (!pem_size_ok(bio, path)) {
		BIO_free(bio);
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (key == NULL) {
		print_ssl_error("cannot read the CA key (an unencrypted PEM "
		    "private key)");
		return NULL;
	}
	if (X509_check_private_key(ca, key) != 1) {
		ERR_clear_error();
		ctl_prov_err("%s does not match the CA certificate", path);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/* "U S 1 <hex of SHA-256 of der>" into tls->tlsa. */
static int
set_tlsa(struct ctl_prov_tls *tls, int usage, int selector,
    unsigned char *der, int len)
{
	if (len <= 0)
		return -EIO;
	return ds_cert_tlsa_der(usage, selector, der, (size_t)len, tls->tlsa,
	    sizeof(tls->tlsa));
}

static int
compute_tlsa(struct ctl_prov_tls *tls)
{
	unsigned char *der = NULL;
	int len, r;

	if (tls->nca > 0) {
		len = i2d_X509(tls->ca[tls->nca - 1], &der);
		r = set_tlsa(tls, 2, 0, der, len);
	} else {
		len = i2d_PUBKEY(tls->key, &der);
		r = set_tlsa(tls, 3, 1, der, len);
	}
	OPENSSL_free(der);
	return r;
}

int
ctl_prov_tls_make(struct ctl_prov_tls *tls, const char *name,
    const char *ca_cert, const char *ca_key)
{
	EVP_PKEY *signer = NULL;
	int r;

	memset(tls, 0, sizeof(*tls));
	if (ca_cert != NULL) {
		if ((r = load_ca_certs(tls, ca_cert)) < 0)
			return r;
		if ((signer = load_ca_key(ca_key, tls->ca[0])) == NULL)
			return -EINVAL;
	}
	if ((tls->key = ds_cert_key_new()) == NULL) {
		print_ssl_error("cannot generate the TLS key");
		EVP_PKEY_free(signer);
		return -EIO;
	}
	tls->cert = ds_cert_make(name, tls->key, tls->nca ? tls->ca[0] : NULL,
	    signer ? signer : tls->key, CERT_DAYS);
	EVP_PKEY_free(signer);
	if (tls->cert == NULL) {
		print_ssl_error("cannot make the certificate");
		return -EIO;
	}
	if ((r = compute_tlsa(tls)) < 0) {
		print_ssl_error("cannot compute the TLSA record");
		return r;
	}
	return 0;
}

static int
write_key(FILE *fp, const void *arg)
{
	const EVP_PKEY *key = arg;

	if (!PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL))
		return -EIO;
	return 0;
}

static int
write_chain(FILE *fp, const void *arg)
{
	const struct ctl_prov_tls *tls = arg;
	size_t i;

	if (!PEM_write_X509(fp, tls->cert))
		return -EIO;
	for (i = 0; i < tls->nca; i++)
		if (!PEM_write_X509(fp, tls->ca[i]))
			return -EIO;
	return 0;
}

int
ctl_prov_tls_write(const struct ctl_prov_tls *tls, struct ctl_prov_dir *d)
{
	int r;

	if ((r = ctl_prov_mkdir(d, "tls", 0755)) < 0 ||
	    (r = ctl_prov_write(d, "tls/server.key", 0600, write_key,
	    tls->key)) < 0)
		return r;
	return ctl_prov_write(d, "tls/server.pem", 0644, write_chain, tls);
}

void
ctl_prov_tls_free(struct ctl_prov_tls *tls)
{
	size_t i;

	EVP_PKEY_free(tls->key);
	X509_free(tls->cert);
	for (i = 0; i < tls->nca; i++)
		X509_free(tls->ca[i]);
	memset(tls, 0, sizeof(*tls));
}

int
ctl_prov_tls_anchor_load(struct x509_st **ret, const char *dir)
{
	char path[PATH_MAX];
	X509 *x, *last = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tls/server.pem", dir);
	if ((fp = fopen(path, "re")) == NULL) {
		ctl_prov_err("%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		X509_free(last);
		last = x;
	}
	ERR_clear_error();
	fclose(fp);
	if (last == NULL) {
		ctl_prov_err("%s: no certificate", path);
		return -EINVAL;
	}
	*ret = last;
	return 0;
}

static int
write_anchors(FILE *fp, const void *arg)
{
	const struct ctl_prov_upstreams *ups = arg;
	size_t i;

	for (i = 0; i < ups->n; i++) {
		fprintf(fp, "# %s\n", ups->up[i].name);
		if (!PEM_write_X509(fp, ups->up[i].anchor))
			return -EIO;
	}
	return 0;
}

int
ctl_prov_tls_anchors_write(struct ctl_prov_dir *d,
    const struct ctl_prov_upstreams *ups)
{
	return ctl_prov_write(d, "tls/upstreams.pem", 0644, write_anchors,
	    ups);
}
