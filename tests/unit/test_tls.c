/*
 * test_tls: the pure parts of tls.c — certificate name matching (exact,
 * one-label wildcards), IP literals (never sent as SNI), which of a
 * listener's certificates answers an SNI name (SANs first, else the CN;
 * no match: the default) — and the load errors a configuration reports:
 * a missing file, a key that is not the certificate's, a missing CA.
 * Certificates are made here with OpenSSL, in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cutover/tls.h"

static char dir[64];

/* A self-signed EC certificate for `cn` with DNS SANs `sans` ("" for none). */
static void
make_cert(const char *name, const char *cn, const char *sans)
{
	char path[128];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	assert_non_null(key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (sans[0] != '\0') {
		X509V3_CTX v3;
		X509_EXTENSION *ext;

		X509V3_set_ctx_nodb(&v3);
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, sans);
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static char *
file(const char *name)
{
	static char bufs[16][512];
	static int k;
	char *b = bufs[k++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cutover-test-tls-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	make_cert("a", "a.example", "DNS:a.example,DNS:www.a.example");
	make_cert("b", "b.example", "DNS:b.example");
	make_cert("w", "wild", "DNS:*.w.example");
	make_cert("cn", "cn.example", "");
	return 0;
}

static int
teardown(void **state)
{
	static const char *const names[] = { "a", "b", "w", "cn" };
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.crt", dir, names[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.key", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

static void
test_name_matches(void **state)
{
	(void)state;
	assert_true(tls_name_matches("a.example", "a.example"));
	assert_true(tls_name_matches("a.example", "A.Example"));
	assert_false(tls_name_matches("a.example", "b.example"));
	assert_false(tls_name_matches("a.example", "x.a.example"));
	assert_true(tls_name_matches("*.w.example", "x.w.example"));
	assert_true(tls_name_matches("*.w.example", "X.W.EXAMPLE"));
	/* A wildcard stands for exactly one label. */
	assert_false(tls_name_matches("*.w.example", "w.example"));
	assert_false(tls_name_matches("*.w.example", "y.x.w.example"));
	assert_false(tls_name_matches("*.w.example", ".w.example"));
	/* Only a whole left-most label is a wildcard. */
	assert_false(tls_name_matches("x*.w.example", "xy.w.example"));
	assert_false(tls_name_matches("*w.example", "xw.example"));
}

static void
test_ip_literal(void **state)
{
	(void)state;
	assert_true(tls_is_ip_literal("127.0.0.1"));
	assert_true(tls_is_ip_literal("::1"));
	assert_true(tls_is_ip_literal("2001:db8::5"));
	assert_false(tls_is_ip_literal("localhost"));
	assert_false(tls_is_ip_literal("10.0.0.5.example"));
	assert_false(tls_is_ip_literal("[::1]"));
	assert_false(tls_is_ip_literal(""));
}

static struct tls_server *
server(const char *const *names, size_t n, char *err, struct tls_fault *bad)
{
	struct tls_cert_files f[4];
	char cert[4][64], key[4][64];

	for (size_t i = 0; i < n; i++) {
		snprintf(cert[i], sizeof(cert[i]), "%s.crt", names[i]);
		snprintf(key[i], sizeof(key[i]), "%s.key", names[i]);
		f[i].cert = strdup(file(cert[i]));
		f[i].key = strdup(file(key[i]));
	}
	struct tls_server *ts = tls_server_new(f, n, TLS1_2_VERSION, err, 512, bad);
	for (size_t i = 0; i < n; i++) {
		free((char *)f[i].cert);
		free((char *)f[i].key);
	}
	return ts;
}

static void
test_sni_pick(void **state)
{
	static const char *const names[] = { "a", "b", "w", "cn" };
	char err[512] = "";
	struct tls_fault bad;
	struct tls_server *ts = server(names, 4, err, &bad);

	(void)state;
	assert_non_null(ts);
	assert_int_equal(tls_server_pick(ts, "a.example"), 0);
	assert_int_equal(tls_server_pick(ts, "www.a.example"), 0);
	assert_int_equal(tls_server_pick(ts, "b.example"), 1);
	assert_int_equal(tls_server_pick(ts, "B.EXAMPLE"), 1);
	assert_int_equal(tls_server_pick(ts, "b.example."), 1); /* fully qualified */
	assert_int_equal(tls_server_pick(ts, "x.w.example"), 2);
	/* No SAN: the subject's CN names it. */
	assert_int_equal(tls_server_pick(ts, "cn.example"), 3);
	/* Unknown, too deep for the wildcard, or none sent: the default. */
	assert_int_equal(tls_server_pick(ts, "other.example"), 0);
	assert_int_equal(tls_server_pick(ts, "y.x.w.example"), 0);
	assert_int_equal(tls_server_pick(ts, NULL), 0);
	/* The CN does not count when there are SANs. */
	assert_int_equal(tls_server_pick(ts, "wild"), 0);
	SSL *ssl = tls_server_ssl(ts);
	assert_non_null(ssl);
	SSL_free(ssl);
	tls_server_free(ts);
}

static void
test_server_errors(void **state)
{
	struct tls_cert_files f[2];
	char err[512];
	struct tls_fault bad;

	(void)state;
	f[0].cert = file("a.crt");
	f[0].key = file("a.key");
	f[1].cert = file("missing.crt");
	f[1].key = file("b.key");
	assert_null(tls_server_new(f, 2, TLS1_2_VERSION, err, sizeof(err), &bad));
	assert_int_equal(bad.cert, 1);
	assert_false(bad.key_file);
	assert_non_null(strstr(err, "cannot load certificate \""));
	assert_non_null(strstr(err, "missing.crt"));

	f[1].cert = file("b.crt");
	f[1].key = file("missing.key");
	assert_null(tls_server_new(f, 2, TLS1_2_VERSION, err, sizeof(err), &bad));
	assert_int_equal(bad.cert, 1);
	assert_true(bad.key_file);
	assert_non_null(strstr(err, "cannot load key \""));

	/* b's certificate with a's key. */
	f[0].cert = file("b.crt");
	f[0].key = file("a.key");
	assert_null(tls_server_new(f, 1, TLS1_3_VERSION, err, sizeof(err), &bad));
	assert_int_equal(bad.cert, 0);
	assert_false(bad.key_file); /* the pair: named at the entry */
	{
		char want[1200];

		snprintf(want, sizeof(want),
		    "key \"%s\" does not match certificate \"%s\"", f[0].key,
		    f[0].cert);
		assert_string_equal(err, want);
	}

	/* A key file given as the certificate. */
	f[0].cert = file("a.key");
	f[0].key = file("a.key");
	assert_null(tls_server_new(f, 1, TLS1_2_VERSION, err, sizeof(err), &bad));
	assert_non_null(strstr(err, "cannot load certificate"));
}

static void
test_client(void **state)
{
	char err[512];
	struct tls_client *tc;
	struct tls_session_slot slot = { NULL };
	SSL *ssl;

	(void)state;
	assert_null(tls_client_new(true, file("missing-ca.pem"), err, sizeof(err)));
	assert_non_null(strstr(err, "cannot load CA file \""));
	/* A self-signed certificate is its own CA. */
	tc = tls_client_new(true, file("a.crt"), err, sizeof(err));
	assert_non_null(tc);
	ssl = tls_client_ssl(tc, "a.example", "a.example", NULL);
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "a.example");
	/* Before any handshake there is no verification failure to report. */
	assert_int_equal(tls_verify_failure(ssl), X509_V_OK);
	SSL_free(ssl);
	/* An IP is checked against IP SANs but never sent as SNI. */
	ssl = tls_client_ssl(tc, "127.0.0.1", "127.0.0.1", &slot);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);
	/* Nothing arrived: the slot is empty, and clearing it twice is safe. */
	assert_null(slot.session);
	tls_session_slot_clear(&slot);
	tls_session_slot_clear(&slot);
	tls_client_free(tc);
	tc = tls_client_new(false, NULL, err, sizeof(err));
	assert_non_null(tc);
	tls_client_free(tc);
}

static void
test_error_text(void **state)
{
	char buf[64];

	(void)state;
	ERR_clear_error();
	assert_string_equal(tls_error_text(buf, sizeof(buf)), "");
	ERR_raise(ERR_LIB_SSL, SSL_R_WRONG_VERSION_NUMBER);
	assert_non_null(strstr(tls_error_text(buf, sizeof(buf)), "wrong version number"));
	/* The queue is left empty. */
	assert_int_equal(ERR_peek_error(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_matches),
		cmocka_unit_test(test_ip_literal),
		cmocka_unit_test(test_sni_pick),
		cmocka_unit_test(test_server_errors),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
