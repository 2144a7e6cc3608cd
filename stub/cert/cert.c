/*
 * cert.c -- a TLS server identity: key, certificate, TLSA and SPKI digest,
 * the random unique name (see dotstub/cert.h).  Shared by `dotctl
 * provision` and dotstubd's DoT server, so that both make keys and
 * certificates the same way.
 */
#include "dotstub/cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ub-common-name (RFC 5280) */
#define CN_MAX 64
/* a host name in presentation form, and room for "DNS:" */
#define NAME_MAX_LEN 253

int ds_cert_random_name(char *out, size_t size)
{
	static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";
	unsigned char rnd[8];
	uint64_t v = 0;

	if (size < 16)
		return -ENOSPC;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		v = v << 8 | rnd[i];
	for (int i = 0; i < 12; i++)
		out[i] = b32hex[(v >> (59 - 5 * i)) & 31];
	memcpy(out + 12, ".zz", 4);
	return 0;
}

EVP_PKEY *ds_cert_key_new(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		ERR_clear_error();
	return k;
}

static int set_serial(X509 *x)
{
	unsigned char buf[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		return -EIO;
	buf[0] &= 0x7f; /* positive */
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL)
		return -ENOMEM;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

static int add_extensions(X509 *x, X509 *issuer, const char *name)
{
	char san[NAME_MAX_LEN + 8];
	X509V3_CTX ctx;

	snprintf(san, sizeof(san), "DNS:%s", name);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
	    add_ext(x, &ctx, NID_subject_alt_name, san) ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
		return -EINVAL;
	if (issuer != NULL && add_ext(x, &ctx, NID_authority_key_identifier, "keyid,issuer"))
		return -EINVAL;
	return 0;
}

/* Ed25519/Ed448 sign without a separate digest. */
static const EVP_MD *sign_digest(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	return EVP_sha256();
}

/* The subject's CN: the name itself, or, for a name longer than a CN may
 * be (64 characters, RFC 5280), its first label; the name is always in
 * the subjectAltName, which is what TLS clients match. */
static int set_subject(X509_NAME *subject, const char *name)
{
	size_t len = strlen(name);

	if (len > CN_MAX)
		len = strcspn(name, ".");
	return X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)name,
					  (int)len, -1, 0);
}

X509 *ds_cert_make(const char *name, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer,
		   unsigned days)
{
	X509_NAME *subject;
	X509 *x;

	if (name == NULL || strlen(name) > NAME_MAX_LEN || key == NULL || signer == NULL)
		return NULL;
	if (days == 0)
		days = DS_CERT_DAYS;
	if ((x = X509_new()) == NULL)
		goto fail;
	subject = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * (long)days) ||
	    !set_subject(subject, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) ||
	    !X509_set_pubkey(x, key) || add_extensions(x, issuer, name) < 0 ||
	    !X509_sign(x, signer, sign_digest(signer)))
		goto fail;
	if (issuer != NULL && X509_verify(x, X509_get0_pubkey(issuer)) != 1)
		goto fail;
	return x;
fail:
	X509_free(x);
	ERR_clear_error();
	return NULL;
}

int ds_cert_spki_sha256(EVP_PKEY *key, uint8_t out[DS_CERT_SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len, ok;

	len = i2d_PUBKEY(key, &der);
	ok = len > 0 && EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL) &&
	     mdlen == DS_CERT_SHA256_LEN;
	OPENSSL_free(der);
	if (!ok) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int ds_cert_tlsa_der(int usage, int selector, const uint8_t *der, size_t len, char *out,
		     size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int n;

	if (len == 0 || !EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL)) {
		ERR_clear_error();
		return -EIO;
	}
	n = snprintf(out, size, "%d %d 1 ", usage, selector);
	if (n < 0 || (size_t)n + 2 * mdlen >= size)
		return -ENOSPC;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + n + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int ds_cert_tlsa_311(EVP_PKEY *key, char *out, size_t size)
{
	unsigned char *der = NULL;
	int len, r;

	len = i2d_PUBKEY(key, &der);
	if (len <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	r = ds_cert_tlsa_der(3, 1, der, (size_t)len, out, size);
	OPENSSL_free(der);
	return r;
}

int ds_cert_dns_name(X509 *x, char *out, size_t size)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int r = -ENOENT;

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *p;
		int len;

		if (g->type != GEN_DNS)
			continue;
		p = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || (size_t)len >= size) {
			r = -ENOSPC;
			break;
		}
		r = 0;
		for (int k = 0; k < len && r == 0; k++) {
			unsigned char ch = p[k] >= 'A' && p[k] <= 'Z' ? p[k] - 'A' + 'a' : p[k];

			/* letters, digits, hyphens and dots only: no NUL or
			 * anything else a certificate may smuggle in */
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			      ch == '.'))
				r = -EINVAL;
			out[k] = (char)ch;
		}
		out[len] = '\0';
		break;
	}
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	return r;
}

int64_t ds_cert_seconds_left(X509 *x)
{
	const ASN1_TIME *na = X509_get0_notAfter(x);
	int day, sec;

	if (na == NULL || !ASN1_TIME_diff(&day, &sec, NULL, na)) {
		ERR_clear_error();
		return INT64_MIN;
	}
	return (int64_t)day * 86400 + sec;
}
