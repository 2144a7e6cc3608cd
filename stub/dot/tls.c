/*
 * tls.c -- OpenSSL client contexts, authentication setup per connection
 * and the per-upstream session ticket cache (see stub/dot/tls.h).
 *
 * DANE descriptions use OpenSSL's own RFC 7671 DANE code and nothing else,
 * in a context that has no CA store: verification is SSL_VERIFY_PEER, and
 * a connection for which OpenSSL accepted no TLSA record is refused
 * (OpenSSL would otherwise silently run without DANE).  PKIX descriptions
 * (DDR/DNR designations) use a second context, made when the first one is
 * needed, whose store holds the system's CA certificates or the ca_file:
 * the two never share a store.  Opportunistic ones verify nothing.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ds_tls_ticket {
	SSL_SESSION *sess;
	uint8_t key[DS_TLS_KEY_LEN];
	char tlsa[96]; /* the record that authenticated the original handshake */
};

struct ds_tls {
	SSL_CTX *ctx;        /* DANE and opportunistic: no CA store */
	SSL_CTX *pkix_ctx;   /* PKIX: the CA store; NULL until needed */
	bool allow_tls12;
	const char *ca_file; /* NULL: the system's store */
	uint8_t key[DS_TLS_KEY_LEN];
	struct ds_tls_ticket tickets[DS_TLS_MAX_TICKETS]; /* oldest first */
	unsigned ntickets;
};

static void ticket_remove(struct ds_tls *t, unsigned i)
{
	SSL_SESSION_free(t->tickets[i].sess);
	memmove(&t->tickets[i], &t->tickets[i + 1],
		(t->ntickets - i - 1) * sizeof(t->tickets[0]));
	t->ntickets--;
	memset(&t->tickets[t->ntickets], 0, sizeof(t->tickets[0]));
}

void ds_tls_drop_tickets(struct ds_tls *t)
{
	while (t->ntickets > 0)
		ticket_remove(t, t->ntickets - 1);
}

unsigned ds_tls_ticket_count(const struct ds_tls *t)
{
	return t->ntickets;
}

/* OpenSSL hands us a new session (a TLS 1.3 NewSessionTicket, or the end
 * of a TLS 1.2 handshake).  Returning 1 keeps the reference. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct ds_tls_conn *tc = SSL_get_app_data(ssl);
	struct ds_tls *t;
	struct ds_tls_ticket *k;
	struct ds_tls_info info;

	if (tc == NULL || tc->tls == NULL)
		return 0;
	t = tc->tls;
	/* a connection made under another key (before an update) must not
	 * feed the cache of the current key */
	if (memcmp(tc->key, t->key, DS_TLS_KEY_LEN) != 0 || !SSL_SESSION_is_resumable(sess))
		return 0;
	if (t->ntickets == DS_TLS_MAX_TICKETS)
		ticket_remove(t, 0);
	ds_tls_conn_info(tc, &info);
	k = &t->tickets[t->ntickets++];
	k->sess = sess;
	memcpy(k->key, tc->key, DS_TLS_KEY_LEN);
	snprintf(k->tlsa, sizeof(k->tlsa), "%s", info.matched_tlsa);
	return 1;
}

/* A client context: TLS 1.3 only unless allow_tls12, SSL_VERIFY_PEER, the
 * ticket callback.  dane: DANE enabled and no store (the store of a PKIX
 * context is loaded by the caller).  NULL if OpenSSL refused a setting. */
static SSL_CTX *ctx_new(bool allow_tls12, bool dane)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) != 1)
		goto fail;
	/* TLS 1.2 only with forward secrecy and AEAD */
	if (allow_tls12 && SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
		goto fail;
	if (dane) {
		if (SSL_CTX_dane_enable(ctx) <= 0)
			goto fail;
		/* DANE-EE(3): the key is the identity, the name in it is irrelevant */
		SSL_CTX_dane_set_flags(ctx, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Every answer is a TLS record of its own: without read-ahead each
	 * costs two read(2) calls (header, body); with it one read fills the
	 * buffer with as many records as are waiting.  The reader loops until
	 * SSL_read wants more, so nothing is left buffered unseen. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

struct ds_tls *ds_tls_new(bool allow_tls12, int *ret_err)
{
	struct ds_tls *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	t->allow_tls12 = allow_tls12;
	t->ctx = ctx_new(allow_tls12, true);
	if (t->ctx == NULL) {
		free(t);
		*ret_err = -EPROTO;
		return NULL;
	}
	return t;
}

void ds_tls_set_ca_file(struct ds_tls *t, const char *path)
{
	t->ca_file = path;
}

/* The PKIX context, made and given its store on first use; NULL if the
 * store cannot be loaded (-ENOENT in *err: no usable CA certificate). */
static SSL_CTX *pkix_ctx(struct ds_tls *t, int *err)
{
	SSL_CTX *ctx;
	int ok;

	if (t->pkix_ctx != NULL)
		return t->pkix_ctx;
	ctx = ctx_new(t->allow_tls12, false);
	if (ctx == NULL) {
		*err = -EPROTO;
		return NULL;
	}
	ok = t->ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL)
				: SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		*err = -ENOENT;
		return NULL;
	}
	t->pkix_ctx = ctx;
	return ctx;
}

void ds_tls_free(struct ds_tls *t)
{
	if (t == NULL)
		return;
	ds_tls_drop_tickets(t);
	SSL_CTX_free(t->ctx);
	SSL_CTX_free(t->pkix_ctx);
	free(t);
}

static void hash_u16(EVP_MD_CTX *md, size_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	EVP_DigestUpdate(md, b, sizeof(b));
}

static void hash_addr(EVP_MD_CTX *md, const struct sockaddr_storage *ss)
{
	const void *p = NULL;
	size_t n = 0;

	if (ss->ss_family == AF_INET) {
		p = &((const struct sockaddr_in *)ss)->sin_addr;
		n = 4;
	} else if (ss->ss_family == AF_INET6) {
		p = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		n = 16;
	}
	hash_u16(md, n);
	if (n > 0)
		EVP_DigestUpdate(md, p, n);
}

void ds_tls_session_key(const struct ds_upstream_desc *d, uint8_t key[DS_TLS_KEY_LEN])
{
	static const char label[] = "dotstub tls session key v2";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = DS_TLS_KEY_LEN;
	size_t nlen = strnlen(d->name, sizeof(d->name));
	size_t netlen = strnlen(d->network, sizeof(d->network));
	int ok;

	ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	if (ok) {
		/* every field length-prefixed: no two inputs hash alike */
		EVP_DigestUpdate(md, label, sizeof(label));
		/* how the certificate is checked: a ticket of an opportunistic
		 * or PKIX session never resumes a DANE one, nor the reverse */
		hash_u16(md, (size_t)d->auth);
		hash_addr(md, &d->pkix_ip);
		hash_u16(md, nlen);
		EVP_DigestUpdate(md, d->name, nlen);
		hash_u16(md, netlen);
		EVP_DigestUpdate(md, d->network, netlen);
		hash_u16(md, (size_t)d->ntlsa);
		for (int i = 0; i < d->ntlsa && i < DS_MAX_TLSA; i++) {
			const struct ds_tlsa *r = &d->tlsa[i];
			uint8_t f[3] = { r->usage, r->selector, r->mtype };

			EVP_DigestUpdate(md, f, sizeof(f));
			hash_u16(md, r->len);
			if (r->len > 0 && r->data != NULL)
				EVP_DigestUpdate(md, r->data, r->len);
		}
		ok = EVP_DigestFinal_ex(md, key, &len) == 1;
	}
	if (!ok) {
		/* cannot happen with a working libcrypto; a random key means
		 * "matches nothing", which is safe */
		ERR_clear_error();
		if (RAND_bytes(key, DS_TLS_KEY_LEN) != 1)
			memset(key, 0xa5, DS_TLS_KEY_LEN);
	}
	EVP_MD_CTX_free(md);
}

void ds_tls_set_key(struct ds_tls *t, const uint8_t key[DS_TLS_KEY_LEN])
{
	if (memcmp(t->key, key, DS_TLS_KEY_LEN) != 0)
		ds_tls_drop_tickets(t);
	memcpy(t->key, key, DS_TLS_KEY_LEN);
}

/* Take the newest stored ticket of the current key, if any. */
static struct ds_tls_ticket *ticket_take(struct ds_tls *t, struct ds_tls_ticket *out)
{
	time_t now = time(NULL);

	while (t->ntickets > 0) {
		unsigned i = t->ntickets - 1;
		struct ds_tls_ticket *k = &t->tickets[i];
		time_t born = (time_t)SSL_SESSION_get_time(k->sess);
		long life = SSL_SESSION_get_timeout(k->sess);

		if (memcmp(k->key, t->key, DS_TLS_KEY_LEN) != 0 || now < born ||
		    now - born >= life) {
			ticket_remove(t, i);
			continue;
		}
		*out = *k;
		SSL_SESSION_up_ref(out->sess);
		ticket_remove(t, i);
		return out;
	}
	return NULL;
}

static int add_tlsa(SSL *ssl, const struct ds_upstream_desc *d)
{
	int usable = 0;

	for (int i = 0; i < d->ntlsa && i < DS_MAX_TLSA; i++) {
		const struct ds_tlsa *r = &d->tlsa[i];

		/* PKIX usages need a CA store, which we never have */
		if (r->usage != 2 && r->usage != 3)
			continue;
		if (r->data == NULL || r->len == 0)
			continue;
		/* 1: usable, 0: unusable parameters, < 0: malformed */
		if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype, r->data, r->len) > 0)
			usable++;
		ERR_clear_error();
	}
	return usable;
}

/* What the certificate must prove for d, set up on ssl: 1 (DANE: the
 * number of usable TLSA records), or -ENOKEY / -EPROTO. */
static int auth_setup(SSL *ssl, const struct ds_upstream_desc *d)
{
	const struct sockaddr_storage *ip = &d->pkix_ip;
	int usable;

	switch (d->auth) {
	case DS_AUTH_DANE:
		if (SSL_dane_enable(ssl, d->name) <= 0)
			return -EPROTO;
		usable = add_tlsa(ssl, d);
		return usable > 0 ? usable : -ENOKEY;
	case DS_AUTH_PKIX:
		/* the ADN, and (DDR) the address the designation came from */
		if (SSL_set1_host(ssl, d->name) != 1)
			return -EPROTO;
		if (ip->ss_family == AF_INET &&
		    X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl),
					      (const unsigned char *)&((const struct sockaddr_in *)ip)->sin_addr,
					      4) != 1)
			return -EPROTO;
		if (ip->ss_family == AF_INET6 &&
		    X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl),
					      (const unsigned char *)&((const struct sockaddr_in6 *)ip)->sin6_addr,
					      16) != 1)
			return -EPROTO;
		return 1;
	case DS_AUTH_OPPORTUNISTIC:
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		return 1;
	}
	return -EPROTO;
}

int ds_tls_conn_init(struct ds_tls_conn *tc, struct ds_tls *t, int fd,
		     const struct ds_upstream_desc *d)
{
	struct ds_tls_ticket k;
	SSL_CTX *ctx = t->ctx;
	SSL *ssl;
	int usable, r = 0;

	memset(tc, 0, sizeof(*tc));
	ERR_clear_error();
	if (d->auth == DS_AUTH_PKIX && (ctx = pkix_ctx(t, &r)) == NULL)
		return r;
	ssl = SSL_new(ctx);
	if (ssl == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	if (SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, d->name) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return -EPROTO;
	}
	usable = auth_setup(ssl, d);
	ERR_clear_error();
	if (usable < 0) {
		SSL_free(ssl);
		return usable;
	}
	tc->tls = t;
	tc->ssl = ssl;
	tc->auth = d->auth;
	tc->usable_tlsa = d->auth == DS_AUTH_DANE ? usable : 0;
	memcpy(tc->key, t->key, DS_TLS_KEY_LEN);
	SSL_set_app_data(ssl, tc);
	SSL_set_connect_state(ssl);
	if (ticket_take(t, &k) != NULL) {
		if (SSL_set_session(ssl, k.sess) == 1) {
			tc->offered_ticket = true;
			snprintf(tc->ticket_tlsa, sizeof(tc->ticket_tlsa), "%s", k.tlsa);
		}
		ERR_clear_error();
		SSL_SESSION_free(k.sess);
	}
	return 0;
}

void ds_tls_conn_clear(struct ds_tls_conn *tc)
{
	if (tc->ssl != NULL) {
		SSL_set_app_data(tc->ssl, NULL);
		SSL_free(tc->ssl);
	}
	memset(tc, 0, sizeof(*tc));
}

bool ds_tls_conn_authenticated(const struct ds_tls_conn *tc, char *why, size_t whylen)
{
	const unsigned char *data = NULL;
	uint8_t usage, selector, mtype;
	size_t dlen = 0;
	long v;

	if (SSL_session_reused(tc->ssl) == 1) {
		if (tc->offered_ticket)
			return true;
		snprintf(why, whylen, "resumed a session we did not offer");
		return false;
	}
	if (tc->auth == DS_AUTH_OPPORTUNISTIC)
		return true; /* nothing to prove; its answers are not authenticated */
	v = SSL_get_verify_result(tc->ssl);
	if (v != X509_V_OK) {
		snprintf(why, whylen, "%s", tc->auth == DS_AUTH_PKIX ? "certificate verification failed: "
								       : "DANE authentication failed: ");
		snprintf(why + strlen(why), whylen - strlen(why), "%s",
			 X509_verify_cert_error_string(v));
		return false;
	}
	if (tc->auth == DS_AUTH_PKIX) {
		if (SSL_get0_peer_certificate(tc->ssl) == NULL) {
			snprintf(why, whylen, "certificate verification failed: no certificate");
			return false;
		}
		return true;
	}
	if (SSL_get0_dane_tlsa(tc->ssl, &usage, &selector, &mtype, &data, &dlen) < 0) {
		snprintf(why, whylen, "DANE authentication failed: no TLSA record matched");
		return false;
	}
	return true;
}

/* The SHA-256 of the certificate's SubjectPublicKeyInfo in hex (the data
 * of a TLSA 3 1 1 record, what a pin records), or "". */
static void spki_sha256(SSL *ssl, char out[65])
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int len;

	out[0] = '\0';
	if (cert == NULL)
		return;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32)
		for (unsigned i = 0; i < 32; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
	ERR_clear_error();
}

void ds_tls_conn_info(const struct ds_tls_conn *tc, struct ds_tls_info *info)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(tc->ssl);
	const unsigned char *data = NULL;
	uint8_t usage, selector, mtype;
	size_t dlen = 0;

	memset(info, 0, sizeof(*info));
	snprintf(info->version, sizeof(info->version), "%s", SSL_get_version(tc->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s", c != NULL ? SSL_CIPHER_get_name(c) : "");
	info->resumed = SSL_session_reused(tc->ssl) == 1;
	info->auth = tc->auth;
	spki_sha256(tc->ssl, info->spki_sha256);
	if (info->resumed) {
		/* no verification took place: the ticket's original match */
		snprintf(info->matched_tlsa, sizeof(info->matched_tlsa), "%s", tc->ticket_tlsa);
		return;
	}
	if (SSL_get0_dane_tlsa(tc->ssl, &usage, &selector, &mtype, &data, &dlen) >= 0 &&
	    data != NULL && dlen <= DS_TLSA_DATA_MAX) {
		/* ds_tlsa_format only reads the data */
		struct ds_tlsa r = {
			.usage = usage,
			.selector = selector,
			.mtype = mtype,
			.len = (uint16_t)dlen,
			.data = (uint8_t *)data,
		};

		ds_tlsa_format(&r, info->matched_tlsa, sizeof(info->matched_tlsa));
	}
}

enum ds_upstream_err ds_tls_handshake_error(const struct ds_tls_conn *tc, int ssl_err,
					    int sys_errno, char *why, size_t whylen)
{
	long v = SSL_get_verify_result(tc->ssl);
	unsigned long e;

	if (v != X509_V_OK && tc->auth != DS_AUTH_OPPORTUNISTIC) {
		snprintf(why, whylen, "%s: %s",
			 tc->auth == DS_AUTH_PKIX ? "certificate verification failed"
						  : "DANE authentication failed",
			 X509_verify_cert_error_string(v));
		ERR_clear_error();
		return DS_UP_ERR_AUTH;
	}
	e = ERR_peek_last_error();
	if (ssl_err == SSL_ERROR_SSL && e != 0) {
		char buf[120];

		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(why, whylen, "TLS handshake failed: %s", buf);
	} else if (ssl_err == SSL_ERROR_SYSCALL && sys_errno != 0) {
		snprintf(why, whylen, "TLS handshake failed: %s", strerror(sys_errno));
	} else {
		snprintf(why, whylen, "TLS handshake failed: connection closed by peer");
	}
	ERR_clear_error();
	return DS_UP_ERR_TLS;
}
