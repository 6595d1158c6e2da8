/*
 * tls: the SSL_CTXs of listeners and upstreams; see tls.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cutover/log.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"

#define TLS_MAX_NAMES 64 /* DNS names kept per certificate for SNI */

/* One certificate of a listener and the names it answers to. */
struct tls_cert {
	SSL_CTX *ctx;	/* owned */
	char **names;	/* owned, lower-case */
	size_t nnames;
};

/*
 * certs[0] is the default. Lifetime: the listener_conf holds one
 * reference to certs[0].ctx, and every SSL made from it another (its
 * session context stays certs[0].ctx even after SNI switches it to
 * another certificate). The struct, the names and the other contexts are
 * freed with the last of those references (tls_server_ctx_gone), so a
 * connection accepted before a reload can still be switched by SNI after
 * its generation is gone.
 */
struct tls_server {
	struct tls_cert *certs;
	size_t ncerts;
	bool tied; /* freed with certs[0].ctx from now on */
};

/*
 * ex_data indices, made once: the tls_server a listener's default SSL_CTX
 * carries, and the tls_session_slot a client SSL stores sessions in.
 */
static int tls_server_index = -1;
static int tls_slot_index = -1;
static pthread_once_t tls_index_once = PTHREAD_ONCE_INIT;
static void tls_index_init(void);

/* Owned by an upstream_conf. */
struct tls_client {
	SSL_CTX *ctx;
	bool verify;
};

/* What we speak, in ALPN's wire form. */
static const unsigned char tls_alpn_http11[] = "\x08http/1.1";

const char *
tls_error_text(char *buf, size_t len)
{
	unsigned long e, first = 0;

	while ((e = ERR_get_error()) != 0)
		if (first == 0)
			first = e;
	if (first == 0) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	ERR_error_string_n(first, buf, len);
	return buf;
}

long
tls_verify_failure(const SSL *ssl)
{
	if (!(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER))
		return X509_V_OK;
	return SSL_get_verify_result(ssl);
}

bool
tls_is_ip_literal(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

bool
tls_name_matches(const char *pattern, const char *host)
{
	const char *dot;

	if (strcasecmp(pattern, host) == 0)
		return true;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	/* "*.w.example" covers "x.w.example": one label, not zero or two. */
	dot = strchr(host, '.');
	return dot != NULL && dot != host && strcasecmp(dot, pattern + 1) == 0;
}

/* Common settings of both directions. */
static void
tls_ctx_defaults(SSL_CTX *ctx, int min_version)
{
	(void)SSL_CTX_set_min_proto_version(ctx, min_version);
	/*
	 * No renegotiation (a DoS lever and never needed by HTTP/1.1 here);
	 * a peer closing without close_notify is an ordinary EOF, as every
	 * HTTP client and server treats it (framing tells truncation).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	/*
	 * Writes are retried from an evbuffer that may grow (not move) in
	 * between, and may complete in part.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}

/* ---- server side */

static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, tls_alpn_http11,
		sizeof(tls_alpn_http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* go on without ALPN: HTTP/1.1 anyway */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

size_t
tls_server_pick(const struct tls_server *ts, const char *host)
{
	char bare[256];
	size_t len = host != NULL ? strlen(host) : 0;

	/* "a.example." is the same name, fully qualified. */
	if (len > 1 && len < sizeof(bare) && host[len - 1] == '.') {
		memcpy(bare, host, len - 1);
		bare[len - 1] = '\0';
		host = bare;
	}
	for (size_t i = 0; host != NULL && i < ts->ncerts; i++)
		for (size_t j = 0; j < ts->certs[i].nnames; j++)
			if (tls_name_matches(ts->certs[i].names[j], host))
				return i;
	return 0;
}

/*
 * SNI: switch to the certificate naming the host. A name no certificate
 * has gets the default one, as nginx and HAProxy do, not an alert: the
 * client decides what a name mismatch means.
 */
static int
tls_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *ts = arg;
	size_t i = tls_server_pick(ts,
	    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));

	(void)alert;
	if (i > 0)
		SSL_set_SSL_CTX(ssl, ts->certs[i].ctx);
	return SSL_TLSEXT_ERR_OK;
}

static void
tls_cert_add_name(struct tls_cert *c, const char *name, size_t len)
{
	char *s;

	if (c->nnames == TLS_MAX_NAMES || len == 0 || memchr(name, '\0', len))
		return;
	s = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)name[i]);
	s[len] = '\0';
	c->names[c->nnames++] = s;
}

/* The DNS names of the certificate (its subject CN when it has none). */
static void
tls_cert_collect_names(struct tls_cert *c)
{
	X509 *x = SSL_CTX_get0_certificate(c->ctx);
	GENERAL_NAMES *sans;

	c->names = xcalloc(TLS_MAX_NAMES, sizeof(*c->names));
	if (x == NULL)
		return;
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type == GEN_DNS)
			tls_cert_add_name(c,
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			    (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	if (c->nnames == 0) {
		char cn[256];
		int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));

		if (n > 0)
			tls_cert_add_name(c, cn, (size_t)n);
	}
}

/* Everything but certs[0].ctx (its owner frees that one, or is freeing it). */
static void
tls_server_destroy(struct tls_server *ts)
{
	for (size_t i = 0; i < ts->ncerts; i++) {
		if (i > 0)
			SSL_CTX_free(ts->certs[i].ctx);
		for (size_t j = 0; j < ts->certs[i].nnames; j++)
			free(ts->certs[i].names[j]);
		free(ts->certs[i].names);
	}
	free(ts->certs);
	free(ts);
}

/* The default context's last reference went: the rest goes with it. */
static void
tls_server_ctx_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL)
		tls_server_destroy(ptr);
}

static void
tls_index_init(void)
{
	tls_server_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    tls_server_ctx_gone);
	tls_slot_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (tls_server_index < 0 || tls_slot_index < 0)
		fatal("tls: no ex_data index");
}

/* A context of either side with the common settings, or NULL with err set. */
static SSL_CTX *
tls_ctx_new(const SSL_METHOD *method, int min_version, char *err,
    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	char why[256];

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context: %s",
		    tls_error_text(why, sizeof(why)));
		return NULL;
	}
	tls_ctx_defaults(ctx, min_version);
	return ctx;
}

static SSL_CTX *
tls_server_ctx(const struct tls_cert_files *f, int min_version, char *err,
    size_t errlen, bool *key_file)
{
	SSL_CTX *ctx = tls_ctx_new(TLS_server_method(), min_version, err, errlen);
	char why[256];

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1) {
		snprintf(err, errlen, "cannot load certificate \"%s\": %s",
		    f->cert, tls_error_text(why, sizeof(why)));
		goto fail;
	}
	/*
	 * OpenSSL checks the pair as it loads the key; a key refused for not
	 * matching is left to the check below, which names both files.
	 */
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
		snprintf(err, errlen, "cannot load key \"%s\": %s", f->key,
		    tls_error_text(why, sizeof(why)));
		*key_file = true;
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)tls_error_text(why, sizeof(why));
		snprintf(err, errlen, "key \"%s\" does not match certificate \"%s\"",
		    f->key, f->cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_server *
tls_server_new(const struct tls_cert_files *certs, size_t ncerts,
    int min_version, char *err, size_t errlen, struct tls_fault *fault)
{
	struct tls_server *ts;

	if (ncerts == 0)
		fatal("tls_server_new: no certificate");
	ts = xcalloc(1, sizeof(*ts));
	ts->certs = xcalloc(ncerts, sizeof(*ts->certs));
	for (size_t i = 0; i < ncerts; i++) {
		struct tls_cert *c = &ts->certs[i];

		fault->key_file = false;
		c->ctx = tls_server_ctx(&certs[i], min_version, err, errlen,
		    &fault->key_file);
		if (c->ctx == NULL) {
			fault->cert = i;
			tls_server_free(ts);
			return NULL;
		}
		ts->ncerts++;
		tls_cert_collect_names(c);
		/* The callback runs on the context the SSL was made from: the first. */
		SSL_CTX_set_tlsext_servername_callback(c->ctx, tls_servername);
		SSL_CTX_set_tlsext_servername_arg(c->ctx, ts);
	}
	(void)pthread_once(&tls_index_once, tls_index_init);
	if (SSL_CTX_set_ex_data(ts->certs[0].ctx, tls_server_index, ts) != 1)
		fatal("tls: cannot tie the certificates to their context");
	ts->tied = true;
	return ts;
}

void
tls_server_free(struct tls_server *ts)
{
	if (ts == NULL)
		return;
	if (ts->tied) {
		/* The generation's reference; connections may hold more. */
		SSL_CTX_free(ts->certs[0].ctx);
		return;
	}
	if (ts->ncerts > 0)
		SSL_CTX_free(ts->certs[0].ctx);
	tls_server_destroy(ts);
}

SSL *
tls_server_ssl(struct tls_server *ts)
{
	SSL *ssl = SSL_new(ts->certs[0].ctx);

	if (ssl != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

/* ---- client side */

void
tls_session_slot_clear(struct tls_session_slot *slot)
{
	SSL_SESSION_free(slot->session);
	slot->session = NULL;
}

/*
 * A session to resume with arrived (TLS 1.3: a ticket after the handshake,
 * possibly while the connection is idle). Keep the newest: returning 1
 * keeps the reference OpenSSL gave us.
 */
static int
tls_session_arrived(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_session_slot *slot = SSL_get_ex_data(ssl, tls_slot_index);

	if (slot == NULL)
		return 0;
	SSL_SESSION_free(slot->session);
	slot->session = sess;
	return 1;
}

struct tls_client *
tls_client_new(bool verify, const char *ca, char *err, size_t errlen)
{
	struct tls_client *tc;
	SSL_CTX *ctx = tls_ctx_new(TLS_client_method(), TLS1_2_VERSION, err,
	    errlen);
	char why[256];

	if (ctx == NULL)
		return NULL;
	(void)SSL_CTX_set_alpn_protos(ctx, tls_alpn_http11,
	    sizeof(tls_alpn_http11) - 1);
	if (ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			snprintf(err, errlen, "cannot load CA file \"%s\": %s", ca,
			    tls_error_text(why, sizeof(why)));
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system's CA store: %s",
		    tls_error_text(why, sizeof(why)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	(void)pthread_once(&tls_index_once, tls_index_init);
	/* Sessions live in the callers' slots, not in a cache of the context. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tls_session_arrived);
	tc = xcalloc(1, sizeof(*tc));
	tc->ctx = ctx;
	tc->verify = verify;
	return tc;
}

void
tls_client_free(struct tls_client *tc)
{
	if (tc == NULL)
		return;
	SSL_CTX_free(tc->ctx);
	free(tc);
}

SSL *
tls_client_ssl(struct tls_client *tc, const char *sni, const char *check_name,
    struct tls_session_slot *slot)
{
	SSL *ssl = SSL_new(tc->ctx);

	if (ssl == NULL)
		return NULL;
	SSL_set_connect_state(ssl);
	if (slot != NULL) {
		(void)SSL_set_ex_data(ssl, tls_slot_index, slot);
		if (slot->session != NULL)
			(void)SSL_set_session(ssl, slot->session);
	}
	if (sni != NULL && !tls_is_ip_literal(sni))
		(void)SSL_set_tlsext_host_name(ssl, sni);
	if (tc->verify && check_name != NULL) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		X509_VERIFY_PARAM_set_hostflags(vp,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (tls_is_ip_literal(check_name))
			(void)X509_VERIFY_PARAM_set1_ip_asc(vp, check_name);
		else
			(void)X509_VERIFY_PARAM_set1_host(vp, check_name, 0);
	}
	return ssl;
}
