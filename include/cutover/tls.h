/*
 * tls: OpenSSL contexts built from the configuration, both ways.
 *
 * A listener's `tls` becomes a tls_server: one SSL_CTX per certificate,
 * the first the default, the others chosen by the client's SNI name
 * against each certificate's DNS names (exact, or "*.example.com" for one
 * left-most label). An upstream's `tls` becomes a tls_client: one SSL_CTX
 * that verifies the server's chain against `ca` (or the system store) and
 * its name against `sni` (or the server's host), and sends SNI.
 *
 * Both are built when a configuration is loaded, so a missing file or a
 * key that does not match its certificate is a load error with its place,
 * and a reload picks up renewed certificates. Both are owned by their
 * configuration generation (config_free frees them). An SSL made from one
 * holds its own reference to the SSL_CTX (OpenSSL counts them), so a
 * connection may outlive the generation that accepted or opened it.
 *
 * The byte transport over an SSL lives in stream.c.
 */
#ifndef CUTOVER_TLS_H
#define CUTOVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct tls_server;
struct tls_client;

struct tls_cert_files {
	const char *cert; /* PEM chain, leaf first */
	const char *key;  /* PEM private key */
};

/* Where tls_server_new() failed: which entry, and whether its key file alone. */
struct tls_fault {
	size_t cert;   /* index of the entry */
	bool key_file; /* the key file could not be read (else the pair, or the cert) */
};

/*
 * Build a listener's contexts. `min_version` is TLS1_2_VERSION or
 * TLS1_3_VERSION. Returns NULL with a message in err (naming the file
 * and OpenSSL's reason) and the place at fault in *fault.
 */
struct tls_server *tls_server_new(const struct tls_cert_files *certs,
    size_t ncerts, int min_version, char *err, size_t errlen,
    struct tls_fault *fault);
void tls_server_free(struct tls_server *ts);
/* A new server-side SSL (accept state) on the default context. */
SSL *tls_server_ssl(struct tls_server *ts);
/*
 * Which certificate answers SNI name `host` (NULL: none sent): the first
 * whose names cover it, else 0, the default.
 */
size_t tls_server_pick(const struct tls_server *ts, const char *host);

/*
 * The last session a server handed out, so the next connection to it
 * resumes instead of doing a full handshake (as nginx's
 * proxy_ssl_session_reuse). One per server per worker (in its pool) or per
 * health probe; used from its owner's thread only, and it must outlive
 * every SSL made with it. Zero-initialised = empty.
 */
struct tls_session_slot {
	SSL_SESSION *session; /* a reference, or NULL */
};
void tls_session_slot_clear(struct tls_session_slot *slot);

/*
 * Build an upstream's context. `ca` NULL: the system's trust store.
 * Returns NULL with a message in err.
 */
struct tls_client *tls_client_new(bool verify, const char *ca, char *err,
    size_t errlen);
void tls_client_free(struct tls_client *tc);
/*
 * A new client-side SSL (connect state). `sni` is sent as the server name
 * unless it is NULL or an IP address; with verification on, the peer's
 * certificate must name `check_name` (a host name, or an IP address
 * matched against its IP SANs). It offers the session in `slot` (may be
 * NULL) and stores there the ones the server hands out.
 */
SSL *tls_client_ssl(struct tls_client *tc, const char *sni,
    const char *check_name, struct tls_session_slot *slot);

/* Is `s` an IPv4 or IPv6 literal (SNI never carries those)? */
bool tls_is_ip_literal(const char *s);
/*
 * Does certificate name `pattern` (possibly "*.example.com") cover
 * `host`? Case-insensitive; a wildcard stands for exactly one label.
 */
bool tls_name_matches(const char *pattern, const char *host);
/*
 * Why a failed client handshake's peer was refused: its certificate's
 * verification result, or X509_V_OK when it verified or was not checked
 * (with verify off OpenSSL still records the chain's result, which is
 * then not the cause).
 */
long tls_verify_failure(const SSL *ssl);
/* OpenSSL's error queue as one line ("" when empty); clears the queue. */
const char *tls_error_text(char *buf, size_t len);

#endif /* CUTOVER_TLS_H */
