/*
 * dotsrv_tls.c -- the DoT server's TLS context (dotsrv.h): TLS 1.3 only,
 * ALPN "dot", no renegotiation, no compression, no early data, and
 * stateless TLS 1.3 session tickets under keys of our own that rotate.
 *
 * TLS 1.3 only: every DoT client in use speaks it, and a server that
 * offers nothing older has no downgrade to worry about and no TLS 1.2
 * session machinery (session IDs, renegotiation) to keep.
 *
 * Tickets: OpenSSL encrypts the session state into the ticket itself
 * (AES-256-CBC and HMAC-SHA256 under the keys here), so the server keeps
 * nothing per session.  The keys are random, live in memory only, and
 * rotate every DOTSRV_TICKET_ROTATE_S: a ticket is accepted under the
 * current key or the one before (then the client gets a new ticket), and
 * never after DOTSRV_TICKET_ROTATE_S, its lifetime.  A restart forgets
 * them all, which costs each client one full handshake.
 */
#include "dotsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dotstub/hex.h"

#define TICKET_NAME_LEN 16
#define TICKET_KEY_LEN 32

struct ticket_key {
	unsigned char name[TICKET_NAME_LEN];
	unsigned char aes[TICKET_KEY_LEN];
	unsigned char hmac[TICKET_KEY_LEN];
	bool set;
};

struct dotsrv_tickets {
	struct ticket_key key[2]; /* [0] current, [1] the one before */
};

static int key_make(struct ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	k->set = true;
	return 0;
}

struct dotsrv_tickets *dotsrv_tickets_new(void)
{
	/* the secure heap if the process has one, else the heap */
	struct dotsrv_tickets *tk = OPENSSL_secure_zalloc(sizeof(*tk));

	if (tk == NULL || key_make(&tk->key[0]) < 0) {
		dotsrv_tickets_free(tk);
		return NULL;
	}
	return tk;
}

void dotsrv_tickets_free(struct dotsrv_tickets *tk)
{
	if (tk == NULL)
		return;
	OPENSSL_secure_clear_free(tk, sizeof(*tk));
}

int dotsrv_tickets_rotate(struct dotsrv_tickets *tk)
{
	struct ticket_key next;

	if (key_make(&next) < 0)
		return -EIO;
	tk->key[1] = tk->key[0];
	tk->key[0] = next;
	OPENSSL_cleanse(&next, sizeof(next));
	return 0;
}

/* OpenSSL's ticket callback: enc 1 makes a ticket under the current key;
 * enc 0 finds the key a ticket names (0: unknown, a full handshake; 1:
 * the current key; 2: the one before, and a new ticket is issued). */
static int ticket_cb(SSL *ssl, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct dotsrv_tickets *tk = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const struct ticket_key *k = NULL;
	OSSL_PARAM params[3];
	int rc = 1;

	if (tk == NULL)
		return enc ? -1 : 0;
	if (enc) {
		k = &tk->key[0];
		memcpy(key_name, k->name, TICKET_NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1)
			return -1;
	} else {
		for (int i = 0; i < 2 && k == NULL; i++)
			if (tk->key[i].set &&
			    CRYPTO_memcmp(key_name, tk->key[i].name, TICKET_NAME_LEN) == 0) {
				k = &tk->key[i];
				rc = i == 0 ? 1 : 2;
			}
		if (k == NULL)
			return 0;
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1)
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac,
						      TICKET_KEY_LEN);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	return rc;
}

/* ALPN (RFC 7301): "dot" if the client offers it; a client that offers
 * only other protocols (h2, doq, ...) is not a DoT client: the handshake
 * fails with no_application_protocol (RFC 7301 3.2).  Without ALPN a
 * client is served (RFC 7858 does not require it). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int pos = 0;

	while (pos < inlen) {
		unsigned int len = in[pos];

		if (len == 0 || len > inlen - pos - 1)
			return SSL_TLSEXT_ERR_ALERT_FATAL; /* malformed */
		if (len == 3 && memcmp(in + pos + 1, "dot", 3) == 0) {
			*out = in + pos + 1;
			*outlen = 3;
			return SSL_TLSEXT_ERR_OK;
		}
		pos += 1 + len;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The first reason OpenSSL queued, as text, into why after what. */
static void ssl_why(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(why, whylen, "%s%s%s", what, r ? ": " : "", r ? r : "");
	ERR_clear_error();
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* The private key of the context's certificate, from a PEM file: an
 * unencrypted key that matches the certificate. */
static int use_key(SSL_CTX *ctx, const char *path, char *why, size_t whylen)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	X509 *x = SSL_CTX_get0_certificate(ctx);
	int r = -EINVAL;

	BIO_free(b);
	if (k == NULL)
		ssl_why(why, whylen, "cannot read an (unencrypted) PEM private key");
	else if (x == NULL || X509_check_private_key(x, k) != 1)
		ssl_why(why, whylen, "the private key does not match the certificate");
	else if (SSL_CTX_use_PrivateKey(ctx, k) != 1)
		ssl_why(why, whylen, "cannot use the private key");
	else
		r = 0;
	EVP_PKEY_free(k);
	return r;
}

SSL_CTX *dotsrv_tls_ctx_new(const char *chain, const char *key, struct dotsrv_tickets *tk,
			    char *why, size_t whylen)
{
	static const unsigned char sid_ctx[] = "dotstub-dot";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ssl_why(why, whylen, "cannot make a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		ssl_why(why, whylen, "OpenSSL refused a setting");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET); /* stateless tickets */
	SSL_CTX_set_max_early_data(ctx, 0);
	/* the I/O of dotsrv.c: partial writes retried with the same length
	 * from a buffer that may move; buffers given back while a client is
	 * idle (a router keeps many connections open); a read takes every
	 * record that has arrived */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	/* tickets only: no server-side session cache */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, DOTSRV_TICKET_ROTATE_S);
	SSL_CTX_set_app_data(ctx, tk);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
		ssl_why(why, whylen, "OpenSSL refused the ticket key callback");
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1) {
		ssl_why(why, whylen, "cannot use the certificate chain");
		goto fail;
	}
	if (use_key(ctx, key, why, whylen) < 0)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int dotsrv_tls_ctx_info(SSL_CTX *ctx, struct dotsrv_id_info *info)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
	uint8_t spki[DS_CERT_SHA256_LEN];
	int r;

	memset(info, 0, sizeof(*info));
	if (pk == NULL) {
		ERR_clear_error();
		return -ENOENT;
	}
	if (ds_cert_dns_name(x, info->name, sizeof(info->name)) < 0)
		snprintf(info->name, sizeof(info->name), "(no DNS name)");
	r = ds_cert_spki_sha256(pk, spki);
	if (r == 0)
		r = ds_cert_tlsa_311(pk, info->tlsa, sizeof(info->tlsa));
	if (r < 0)
		return r;
	ds_hex_encode(spki, sizeof(spki), info->spki_sha256);
	info->expires_in_s = ds_cert_seconds_left(x);
	return 0;
}
