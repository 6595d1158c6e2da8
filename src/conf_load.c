/*
 * conf_load: YAML node tree to `struct config`, driven by one schema table.
 *
 * conf_schema[] below lists every key of every section: its type, its
 * default (in the file's own syntax, parsed by the same code as the file),
 * and where its value lives. One walker, conf_load_walk(), applies the
 * defaults, rejects unknown keys (with a suggestion) and keys this version
 * does not support yet, reports missing required keys, and stores each
 * value; keys whose value is a structure of its own have a handler (a
 * handler key with a default is first called with that default as a
 * scalar node at 0:0 and key NULL, so it must accept key == NULL).
 * Sections are processed in table order, not file order, so `upstreams`
 * is built before `routes` refer to it.
 *
 * Errors are collected in the caller's config_diag and loading goes on
 * where it sensibly can; a load with any error frees what it built and
 * returns NULL. tests/docs_check.sh greps the table for key names, so
 * keep one entry a line, starting `{ SEC_..., "name", CONF_T_...`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cutover/cidr.h"
#include "cutover/conf_check.h"
#include "cutover/conf_units.h"
#include "cutover/conf_yaml.h"
#include "cutover/config.h"
#include "cutover/http_parse.h"
#include "cutover/log.h"
#include "cutover/retry.h"
#include "cutover/shadow_compare.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"
#include "cutover/upstream_rt.h"

#define CONF_LOAD_MAX_FILE (64u << 20)	 /* the configuration itself */
#define CONF_LOAD_MAX_IN_FILE (16u << 20) /* one in_file list */
#define CONF_LOAD_MAX_WORKERS 256
#define CONF_LOAD_MAX_TOKEN_FILE 4096u	 /* admin.token_file */

/* The sections of the schema; each is a mapping in the file. */
enum conf_section {
	SEC_NONE = 0,
	SEC_TOP,
	SEC_LIMITS,
	SEC_CLIENT_TIMEOUTS,
	SEC_UPSTREAM_TIMEOUTS, /* upstream_defaults, and inside each upstream */
	SEC_UPSTREAM,
	SEC_SERVER,
	SEC_LISTENER,
	SEC_LISTENER_TLS,
	SEC_TLS_CERT,
	SEC_UPSTREAM_TLS,
	SEC_ROUTE,
	SEC_MATCH,
	SEC_COND, /* the mapping form of a header, cookie or query condition */
	SEC_REWRITE,
	SEC_REPLACE,
	SEC_RESPOND,
	SEC_CORRELATION,
	SEC_ACCESS_LOG,
	SEC_ADMIN,
	SEC_BREAKER,
	SEC_RETRY,
	SEC_HEALTH,
	SEC_FALLBACK,
	SEC_TARGET,
	SEC_STICKY,
	SEC_OVERRIDE,
	SEC_SHADOW,
	SEC_COMPARE,
};

enum conf_type {
	CONF_T_UINT,	 /* whole number in [min, max] */
	CONF_T_DURATION, /* milliseconds, uint64_t */
	CONF_T_SIZE,	 /* bytes, uint64_t, in [min, max] */
	CONF_T_BOOL,
	CONF_T_STRING,	 /* char *, owned by the struct */
	CONF_T_PATH,	 /* char *, "/..." without trailing '/' unless "/" */
	CONF_T_WORKERS,	 /* unsigned: "auto" or 1..CONF_LOAD_MAX_WORKERS */
	CONF_T_ENUM,	 /* a word of conf_enums[], stored as its C enum (int) */
	CONF_T_SECTION,	 /* a nested mapping at `off`, schema `sub` */
	CONF_T_CUSTOM,	 /* handler `fn` */
	CONF_T_RATIO,	 /* "50%": parts per million, uint32_t */
};

#define CONF_F_REQUIRED 0x01
#define CONF_F_NONZERO 0x02 /* durations and sizes: 0 is refused */
#define CONF_F_HEADER 0x04  /* strings: non-empty visible ASCII (a header value) */
#define CONF_F_WHOLE_S 0x08 /* durations: whole seconds in [min, max] ms, stored as seconds */

struct conf_load_ctx;

/*
 * A handler for a CONF_T_CUSTOM key: `obj` is the section's struct, `key`
 * and `val` the nodes (val is never a CONF_NODE_BAD).
 */
typedef void conf_load_fn(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val);

struct conf_key {
	enum conf_section sec;
	const char *name;
	enum conf_type type;
	const char *def; /* default as it would be written, or NULL */
	size_t off;	 /* of the value in the section's struct */
	size_t size;	 /* of that member (CONF_T_UINT: 4 or 8) */
	uint64_t min, max;
	enum conf_section sub; /* CONF_T_SECTION */
	conf_load_fn *fn;      /* CONF_T_CUSTOM */
	unsigned flags;
};

/* State of one load. Lives on config_load_buf()'s stack. */
struct conf_load_ctx {
	const char *file; /* FILE in messages, as given */
	char *dir;	  /* in_file paths are relative to it; owned */
	unsigned flags;	  /* CONFIG_LOAD_* */
	struct config_diag *diag;
	struct config *c;
	struct upstream_conf defaults; /* upstream_defaults; only timeouts */
	struct conf_mark path_mark;    /* the path key of the current match */
	struct conf_mark routes_mark;
};

static conf_load_fn conf_load_listeners, conf_load_listener_address;
static conf_load_fn conf_load_upstream_defaults, conf_load_upstreams;
static conf_load_fn conf_load_servers, conf_load_server_address;
static conf_load_fn conf_load_routes, conf_load_route_name;
static conf_load_fn conf_load_route_match, conf_load_route_upstream;
static conf_load_fn conf_load_route_rewrite, conf_load_route_respond;
static conf_load_fn conf_load_replace_prefix;
static conf_load_fn conf_load_path_prefix, conf_load_path_exact;
static conf_load_fn conf_load_path_regex, conf_load_methods, conf_load_host;
static conf_load_fn conf_load_headers, conf_load_cookies, conf_load_query;
static conf_load_fn conf_load_cond_in, conf_load_cond_in_file;
static conf_load_fn conf_load_correlation_header, conf_load_access_log_path;
static conf_load_fn conf_load_admin, conf_load_admin_address;
static conf_load_fn conf_load_admin_token_file;
static conf_load_fn conf_load_retry_on, conf_load_health_check;
static conf_load_fn conf_load_route_fallback, conf_load_fallback_upstream;
static conf_load_fn conf_load_fallback_on;
static conf_load_fn conf_load_route_split, conf_load_target_upstream;
static conf_load_fn conf_load_route_sticky, conf_load_route_override;
static conf_load_fn conf_load_allow_from;
static void conf_load_upstream_ref(struct conf_load_ctx *x,
    const struct conf_node *val, char **name, struct conf_mark *mark);
static conf_load_fn conf_load_route_shadow, conf_load_shadow_upstream;
static conf_load_fn conf_load_shadow_percent, conf_load_shadow_methods;
static conf_load_fn conf_load_shadow_compare, conf_load_ignore_headers;
static conf_load_fn conf_load_ignore_json_fields;
static conf_load_fn conf_load_listener_tls, conf_load_tls_certificates;
static conf_load_fn conf_load_tls_min_version, conf_load_tls_cert_file;
static conf_load_fn conf_load_upstream_tls, conf_load_tls_ca, conf_load_tls_sni;
static void conf_load_inherit(struct upstream_conf *u,
    const struct upstream_conf *d);
static void conf_load_check_upstream(struct conf_load_ctx *x,
    struct upstream_conf *u, const struct conf_node *name);

#define AT(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define NOWHERE 0, 0
#define ANY 0, UINT64_MAX

/*
 * The schema: every key of every section. Columns: section, name, type,
 * default, where (offset, size), min, max, sub-section, handler, flags.
 */
static const struct conf_key conf_schema[] = {
	{ SEC_TOP, "listeners", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_listeners, CONF_F_REQUIRED },
	{ SEC_TOP, "workers", CONF_T_WORKERS, "auto", AT(struct config, workers), 1, CONF_LOAD_MAX_WORKERS, SEC_NONE, NULL, 0 },
	{ SEC_TOP, "shutdown_timeout", CONF_T_DURATION, "30s", AT(struct config, shutdown_timeout_ms), ANY, SEC_NONE, NULL, 0 },
	{ SEC_TOP, "limits", CONF_T_SECTION, NULL, AT(struct config, limits), ANY, SEC_LIMITS, NULL, 0 },
	{ SEC_TOP, "client_timeouts", CONF_T_SECTION, NULL, AT(struct config, client_timeouts), ANY, SEC_CLIENT_TIMEOUTS, NULL, 0 },
	{ SEC_TOP, "upstream_defaults", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_upstream_defaults, 0 },
	{ SEC_TOP, "upstreams", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_upstreams, 0 },
	{ SEC_TOP, "routes", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_routes, 0 },
	{ SEC_TOP, "correlation", CONF_T_SECTION, NULL, AT(struct config, correlation), ANY, SEC_CORRELATION, NULL, 0 },
	{ SEC_TOP, "access_log", CONF_T_SECTION, NULL, AT(struct config, access_log), ANY, SEC_ACCESS_LOG, NULL, 0 },
	{ SEC_TOP, "admin", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_admin, 0 }, /* after listeners */
	{ SEC_TOP, "watch", CONF_T_BOOL, "false", AT(struct config, watch), ANY, SEC_NONE, NULL, 0 },

	{ SEC_CORRELATION, "header", CONF_T_CUSTOM, "X-Request-ID", NOWHERE, ANY, SEC_NONE, conf_load_correlation_header, 0 },
	{ SEC_CORRELATION, "accept_incoming", CONF_T_BOOL, "true", AT(struct correlation_conf, accept_incoming), ANY, SEC_NONE, NULL, 0 },
	{ SEC_CORRELATION, "generate", CONF_T_ENUM, "uuid7", AT(struct correlation_conf, generate), ANY, SEC_NONE, NULL, 0 },
	{ SEC_CORRELATION, "echo", CONF_T_BOOL, "true", AT(struct correlation_conf, echo), ANY, SEC_NONE, NULL, 0 },
	{ SEC_CORRELATION, "traceparent", CONF_T_BOOL, "true", AT(struct correlation_conf, traceparent), ANY, SEC_NONE, NULL, 0 },

	{ SEC_ACCESS_LOG, "path", CONF_T_CUSTOM, "stdout", NOWHERE, ANY, SEC_NONE, conf_load_access_log_path, 0 },
	{ SEC_ACCESS_LOG, "format", CONF_T_ENUM, "json", AT(struct access_log_conf, format), ANY, SEC_NONE, NULL, 0 },

	{ SEC_ADMIN, "address", CONF_T_CUSTOM, "127.0.0.1:9901", NOWHERE, ANY, SEC_NONE, conf_load_admin_address, 0 },
	{ SEC_ADMIN, "token_file", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_admin_token_file, 0 },

	{ SEC_LISTENER, "address", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_listener_address, CONF_F_REQUIRED },
	{ SEC_LISTENER, "tls", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_listener_tls, 0 },
	{ SEC_LISTENER_TLS, "certificates", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_tls_certificates, CONF_F_REQUIRED },
	{ SEC_LISTENER_TLS, "min_version", CONF_T_CUSTOM, "TLSv1.2", NOWHERE, ANY, SEC_NONE, conf_load_tls_min_version, 0 },
	{ SEC_TLS_CERT, "cert", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_tls_cert_file, CONF_F_REQUIRED },
	{ SEC_TLS_CERT, "key", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_tls_cert_file, CONF_F_REQUIRED },

	{ SEC_LIMITS, "max_connections", CONF_T_UINT, "10000", AT(struct limits_conf, max_connections), 1, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_LIMITS, "max_header_bytes", CONF_T_SIZE, "32KiB", AT(struct limits_conf, max_header_bytes), 1, 1 << 20, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_LIMITS, "max_target_bytes", CONF_T_SIZE, "8KiB", AT(struct limits_conf, max_target_bytes), 1, 1 << 20, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_LIMITS, "max_headers", CONF_T_UINT, "100", AT(struct limits_conf, max_headers), 1, 1000, SEC_NONE, NULL, 0 },
	{ SEC_LIMITS, "max_body_bytes", CONF_T_SIZE, "0", AT(struct limits_conf, max_body_bytes), ANY, SEC_NONE, NULL, 0 },

	{ SEC_CLIENT_TIMEOUTS, "header", CONF_T_DURATION, "10s", AT(struct client_timeouts_conf, header_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_CLIENT_TIMEOUTS, "body", CONF_T_DURATION, "30s", AT(struct client_timeouts_conf, body_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_CLIENT_TIMEOUTS, "send", CONF_T_DURATION, "60s", AT(struct client_timeouts_conf, send_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_CLIENT_TIMEOUTS, "idle", CONF_T_DURATION, "60s", AT(struct client_timeouts_conf, idle_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },

	{ SEC_UPSTREAM_TIMEOUTS, "connect_timeout", CONF_T_DURATION, "2s", AT(struct upstream_conf, connect_timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_UPSTREAM_TIMEOUTS, "response_timeout", CONF_T_DURATION, "10s", AT(struct upstream_conf, response_timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_UPSTREAM_TIMEOUTS, "read_timeout", CONF_T_DURATION, "60s", AT(struct upstream_conf, read_timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_UPSTREAM_TIMEOUTS, "request_timeout", CONF_T_DURATION, "30s", AT(struct upstream_conf, request_timeout_ms), ANY, SEC_NONE, NULL, 0 },
	{ SEC_UPSTREAM_TIMEOUTS, "idle_timeout", CONF_T_DURATION, "60s", AT(struct upstream_conf, idle_timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_UPSTREAM_TIMEOUTS, "max_connections", CONF_T_UINT, "1024", AT(struct upstream_conf, max_connections), 1, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_UPSTREAM_TIMEOUTS, "max_pending", CONF_T_UINT, "256", AT(struct upstream_conf, max_pending), 0, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_UPSTREAM_TIMEOUTS, "pending_timeout", CONF_T_DURATION, "500ms", AT(struct upstream_conf, pending_timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_UPSTREAM_TIMEOUTS, "breaker", CONF_T_SECTION, NULL, AT(struct upstream_conf, breaker), ANY, SEC_BREAKER, NULL, 0 },
	{ SEC_UPSTREAM_TIMEOUTS, "retry", CONF_T_SECTION, NULL, AT(struct upstream_conf, retry), ANY, SEC_RETRY, NULL, 0 },
	{ SEC_UPSTREAM_TIMEOUTS, "health_check", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_health_check, 0 },
	{ SEC_UPSTREAM, "tls", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_upstream_tls, 0 },
	{ SEC_UPSTREAM_TLS, "verify", CONF_T_BOOL, "true", AT(struct upstream_tls_conf, verify), ANY, SEC_NONE, NULL, 0 },
	{ SEC_UPSTREAM_TLS, "ca", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_tls_ca, 0 },
	{ SEC_UPSTREAM_TLS, "sni", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_tls_sni, 0 },

	{ SEC_BREAKER, "mode", CONF_T_ENUM, "enforce", AT(struct breaker_params, mode), ANY, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "consecutive_failures", CONF_T_UINT, "5", AT(struct breaker_params, consecutive_failures), 1, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "failure_rate", CONF_T_RATIO, "50%", AT(struct breaker_params, failure_rate_ppm), ANY, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "window", CONF_T_DURATION, "10s", AT(struct breaker_params, window_s), 1000, 3600000, SEC_NONE, NULL, CONF_F_WHOLE_S },
	{ SEC_BREAKER, "min_requests", CONF_T_UINT, "20", AT(struct breaker_params, min_requests), 1, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "slow_call", CONF_T_DURATION, "0", AT(struct breaker_params, slow_call_ms), ANY, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "slow_call_rate", CONF_T_RATIO, "80%", AT(struct breaker_params, slow_call_rate_ppm), ANY, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "open_for", CONF_T_DURATION, "5s", AT(struct breaker_params, open_for_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_BREAKER, "max_open_for", CONF_T_DURATION, "120s", AT(struct breaker_params, max_open_for_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_BREAKER, "open_jitter", CONF_T_RATIO, "20%", AT(struct breaker_params, open_jitter_ppm), ANY, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "half_open_probes", CONF_T_UINT, "1", AT(struct breaker_params, half_open_probes), 1, BREAKER_MAX_PROBES, SEC_NONE, NULL, 0 },
	{ SEC_BREAKER, "half_open_successes", CONF_T_UINT, "3", AT(struct breaker_params, half_open_successes), 1, 1000, SEC_NONE, NULL, 0 },

	{ SEC_RETRY, "attempts", CONF_T_UINT, "2", AT(struct retry_conf, p.attempts), 1, 10, SEC_NONE, NULL, 0 },
	{ SEC_RETRY, "on", CONF_T_CUSTOM, "default", NOWHERE, ANY, SEC_NONE, conf_load_retry_on, 0 },
	{ SEC_RETRY, "backoff", CONF_T_DURATION, "25ms", AT(struct retry_conf, p.backoff_ms), ANY, SEC_NONE, NULL, 0 },
	{ SEC_RETRY, "max_backoff", CONF_T_DURATION, "250ms", AT(struct retry_conf, p.max_backoff_ms), ANY, SEC_NONE, NULL, 0 },
	{ SEC_RETRY, "budget", CONF_T_RATIO, "20%", AT(struct retry_conf, budget_ppm), ANY, SEC_NONE, NULL, 0 },
	{ SEC_RETRY, "budget_window", CONF_T_DURATION, "10s", AT(struct retry_conf, budget_window_s), 1000, 3600000, SEC_NONE, NULL, CONF_F_WHOLE_S },
	{ SEC_RETRY, "min_retries_per_second", CONF_T_UINT, "3", AT(struct retry_conf, min_retries_per_second), 0, 1000000, SEC_NONE, NULL, 0 },
	{ SEC_RETRY, "buffer_body", CONF_T_SIZE, "64KiB", AT(struct retry_conf, buffer_body), 0, 64 << 20, SEC_NONE, NULL, 0 },

	{ SEC_HEALTH, "path", CONF_T_PATH, "/healthz", AT(struct health_check_conf, path), ANY, SEC_NONE, NULL, 0 },
	{ SEC_HEALTH, "interval", CONF_T_DURATION, "5s", AT(struct health_check_conf, interval_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_HEALTH, "timeout", CONF_T_DURATION, "1s", AT(struct health_check_conf, timeout_ms), ANY, SEC_NONE, NULL, CONF_F_NONZERO },
	{ SEC_HEALTH, "healthy", CONF_T_UINT, "2", AT(struct health_check_conf, healthy), 1, 1000, SEC_NONE, NULL, 0 },
	{ SEC_HEALTH, "unhealthy", CONF_T_UINT, "3", AT(struct health_check_conf, unhealthy), 1, 1000, SEC_NONE, NULL, 0 },

	{ SEC_TARGET, "upstream", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_target_upstream, CONF_F_REQUIRED },
	{ SEC_TARGET, "weight", CONF_T_UINT, "1", AT(struct route_target, weight), 0, 10000, SEC_NONE, NULL, 0 },

	{ SEC_STICKY, "cookie", CONF_T_STRING, NULL, AT(struct sticky_conf, cookie), ANY, SEC_NONE, NULL, CONF_F_HEADER },
	{ SEC_STICKY, "header", CONF_T_STRING, NULL, AT(struct sticky_conf, header), ANY, SEC_NONE, NULL, CONF_F_HEADER },
	{ SEC_STICKY, "seed", CONF_T_STRING, NULL, AT(struct sticky_conf, seed), ANY, SEC_NONE, NULL, CONF_F_HEADER },

	{ SEC_OVERRIDE, "header", CONF_T_STRING, "X-Cutover-Upstream", AT(struct override_conf, header), ANY, SEC_NONE, NULL, CONF_F_HEADER },
	{ SEC_OVERRIDE, "allow_from", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_allow_from, 0 },

	{ SEC_FALLBACK, "upstream", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_fallback_upstream, CONF_F_REQUIRED },
	{ SEC_FALLBACK, "on", CONF_T_CUSTOM, "default", NOWHERE, ANY, SEC_NONE, conf_load_fallback_on, 0 },

	{ SEC_UPSTREAM, "servers", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_servers, CONF_F_REQUIRED },

	{ SEC_SERVER, "address", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_server_address, CONF_F_REQUIRED },
	{ SEC_SERVER, "weight", CONF_T_UINT, "1", AT(struct server_conf, weight), 1, 1000, SEC_NONE, NULL, 0 },

	{ SEC_ROUTE, "name", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_name, CONF_F_REQUIRED },
	{ SEC_ROUTE, "active", CONF_T_BOOL, "true", AT(struct route_conf, active), ANY, SEC_NONE, NULL, 0 },
	{ SEC_ROUTE, "match", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_match, 0 },
	{ SEC_ROUTE, "upstream", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_upstream, 0 },
	{ SEC_ROUTE, "respond", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_respond, 0 },
	{ SEC_ROUTE, "rewrite", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_rewrite, 0 },
	{ SEC_ROUTE, "fallback", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_fallback, 0 },
	{ SEC_ROUTE, "split", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_split, 0 },
	{ SEC_ROUTE, "sticky", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_sticky, 0 },
	{ SEC_ROUTE, "override", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_override, 0 },
	{ SEC_ROUTE, "shadow", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_route_shadow, 0 },

	{ SEC_SHADOW, "upstream", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_shadow_upstream, CONF_F_REQUIRED },
	{ SEC_SHADOW, "percent", CONF_T_CUSTOM, "100", NOWHERE, ANY, SEC_NONE, conf_load_shadow_percent, 0 },
	{ SEC_SHADOW, "methods", CONF_T_CUSTOM, "default", NOWHERE, ANY, SEC_NONE, conf_load_shadow_methods, 0 },
	{ SEC_SHADOW, "max_inflight", CONF_T_UINT, "64", AT(struct shadow_conf, max_inflight), 1, 100000, SEC_NONE, NULL, 0 },
	{ SEC_SHADOW, "max_body", CONF_T_SIZE, "64KiB", AT(struct shadow_conf, max_body), 0, 64 << 20, SEC_NONE, NULL, 0 },
	{ SEC_SHADOW, "compare", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_shadow_compare, 0 },

	{ SEC_COMPARE, "ignore_headers", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_ignore_headers, 0 },
	{ SEC_COMPARE, "ignore_json_fields", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_ignore_json_fields, 0 },

	{ SEC_MATCH, "path_prefix", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_path_prefix, 0 },
	{ SEC_MATCH, "path", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_path_exact, 0 },
	{ SEC_MATCH, "path_regex", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_path_regex, 0 },
	{ SEC_MATCH, "methods", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_methods, 0 },
	{ SEC_MATCH, "host", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_host, 0 },
	{ SEC_MATCH, "headers", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_headers, 0 },
	{ SEC_MATCH, "cookies", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_cookies, 0 },
	{ SEC_MATCH, "query", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_query, 0 },

	{ SEC_COND, "in", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_cond_in, 0 },
	{ SEC_COND, "in_file", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_cond_in_file, 0 },
	{ SEC_COND, "present", CONF_T_BOOL, NULL, AT(struct match_cond, present), ANY, SEC_NONE, NULL, 0 },

	{ SEC_REWRITE, "strip_prefix", CONF_T_PATH, NULL, AT(struct route_rewrite, from), ANY, SEC_NONE, NULL, 0 },
	{ SEC_REWRITE, "replace_prefix", CONF_T_CUSTOM, NULL, NOWHERE, ANY, SEC_NONE, conf_load_replace_prefix, 0 },

	{ SEC_REPLACE, "from", CONF_T_PATH, NULL, AT(struct route_rewrite, from), ANY, SEC_NONE, NULL, CONF_F_REQUIRED },
	{ SEC_REPLACE, "to", CONF_T_PATH, NULL, AT(struct route_rewrite, to), ANY, SEC_NONE, NULL, CONF_F_REQUIRED },

	{ SEC_RESPOND, "status", CONF_T_UINT, NULL, AT(struct route_respond, status), 100, 599, SEC_NONE, NULL, CONF_F_REQUIRED },
	{ SEC_RESPOND, "body", CONF_T_STRING, NULL, AT(struct route_respond, body), ANY, SEC_NONE, NULL, 0 },
	{ SEC_RESPOND, "content_type", CONF_T_STRING, "text/plain", AT(struct route_respond, content_type), ANY, SEC_NONE, NULL, CONF_F_HEADER },
};

#define CONF_SCHEMA_N (sizeof(conf_schema) / sizeof(conf_schema[0]))

/* The words of each CONF_T_ENUM key, in the order messages list them. */
struct conf_enum {
	enum conf_section sec;
	const char *key;
	struct {
		const char *word; /* NULL ends the list */
		int value;
	} words[4];
};

static const struct conf_enum conf_enums[] = {
	{ SEC_CORRELATION, "generate", { { "uuid4", REQID_GEN_UUID4 }, { "uuid7", REQID_GEN_UUID7 } } },
	{ SEC_ACCESS_LOG, "format", { { "json", ACCESS_LOG_JSON } } },
	{ SEC_BREAKER, "mode", { { "enforce", BREAKER_MODE_ENFORCE }, { "dry_run", BREAKER_MODE_DRY_RUN } } },
};

#define CONF_ENUMS_N (sizeof(conf_enums) / sizeof(conf_enums[0]))

static struct config *config_load_buf(const char *name, const char *buf,
    size_t len, const char *dir, unsigned flags, struct config_diag *diag);
static void config_diag_vadd(char ***list, size_t *n, const char *file,
    struct conf_mark m, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
static void conf_load_err(struct conf_load_ctx *x, const struct conf_node *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *conf_load_show(const char *s, char *buf, size_t size);
static const char *conf_load_expected(const struct conf_key *k, char *buf,
    size_t size);
static void conf_load_fmt_size(uint64_t v, char *buf, size_t size);
static void conf_load_fmt_duration(uint64_t v, char *buf, size_t size);
static bool conf_load_is_map(struct conf_load_ctx *x,
    const struct conf_node *n);
static bool conf_load_is_seq(struct conf_load_ctx *x,
    const struct conf_node *n);
static const char *conf_load_string(struct conf_load_ctx *x,
    const struct conf_node *n, const char *expected);
static int conf_load_bool(struct conf_load_ctx *x, const struct conf_node *n,
    bool *out);
static const struct conf_key *conf_load_find(enum conf_section s1,
    enum conf_section s2, const char *name);
static void conf_load_walk(struct conf_load_ctx *x, void *obj,
    const struct conf_node *map, enum conf_section s1, enum conf_section s2,
    bool defaults);
static int conf_load_value(struct conf_load_ctx *x, void *obj,
    const struct conf_key *k, const char *text, const struct conf_node *n);
static void conf_load_store_uint(void *p, size_t size, uint64_t v);
static int conf_load_path_check(struct conf_load_ctx *x,
    const struct conf_node *n, const char *s, bool strip, char **out);
static bool conf_load_name_ok(const char *s);
static bool conf_load_token(const char *s, bool upper);
static int conf_load_address(struct conf_load_ctx *x,
    const struct conf_node *n, const char *what, bool passive,
    char **hostp, uint16_t *portp, struct sockaddr_storage *ss,
    socklen_t *sslen, bool *any);
static bool conf_load_path_first(const struct conf_load_ctx *x,
    const struct conf_node *key);
static void conf_load_conds(struct conf_load_ctx *x, struct match_cond **arr,
    size_t *n, const struct conf_node *val, int what);
static int conf_load_read_file(const char *path, size_t max, char **out,
    size_t *outlen);
static void conf_load_free_cond(struct match_cond *mc);
static void conf_load_free_route(struct route_conf *r);
static char *conf_load_dirname(const char *path);
static const struct conf_enum *conf_load_enum(const struct conf_key *k);
static char *conf_load_resolve(const struct conf_load_ctx *x, const char *s);
static uint16_t conf_load_sa_port(const struct sockaddr_storage *ss);
static bool conf_load_sa_unspec(const struct sockaddr_storage *ss);
static bool conf_load_sa_overlap(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);

/* ---- diagnostics */

void
config_diag_init(struct config_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
config_diag_free(struct config_diag *d)
{
	for (size_t i = 0; i < d->nerrors; i++)
		free(d->errors[i]);
	for (size_t i = 0; i < d->nwarnings; i++)
		free(d->warnings[i]);
	free(d->errors);
	free(d->warnings);
	config_diag_init(d);
}

/* A mark with line 0 has no place in the file: "FILE: message". */
static void
config_diag_vadd(char ***list, size_t *n, const char *file,
    struct conf_mark m, const char *tag, const char *fmt, va_list ap)
{
	struct strbuf b;

	strbuf_init(&b);
	if (m.line == 0)
		strbuf_addf(&b, "%s: %s", file, tag);
	else
		strbuf_addf(&b, "%s:%u:%u: %s", file, m.line, m.col, tag);
	strbuf_vaddf(&b, fmt, ap);
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = strbuf_detach(&b);
}

void
config_diag_error(struct config_diag *d, const char *file, struct conf_mark m,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_vadd(&d->errors, &d->nerrors, file, m, "", fmt, ap);
	va_end(ap);
}

void
config_diag_warning(struct config_diag *d, const char *file,
    struct conf_mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_vadd(&d->warnings, &d->nwarnings, file, m, "warning: ",
	    fmt, ap);
	va_end(ap);
}

static void
conf_load_err(struct conf_load_ctx *x, const struct conf_node *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_vadd(&x->diag->errors, &x->diag->nerrors, x->file, n->mark,
	    "", fmt, ap);
	va_end(ap);
}

/* A value quoted in a message: control bytes as '?', cut at 60 bytes. */
static const char *
conf_load_show(const char *s, char *buf, size_t size)
{
	size_t i, n = strlen(s);
	size_t keep = size - 4 < 60 ? size - 4 : 60;

	for (i = 0; i < n && i < keep; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (i < n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static void
conf_load_fmt_size(uint64_t v, char *buf, size_t size)
{
	if (v != 0 && v % (1u << 30) == 0)
		snprintf(buf, size, "%" PRIu64 "GiB", v >> 30);
	else if (v != 0 && v % (1u << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "MiB", v >> 20);
	else if (v != 0 && v % (1u << 10) == 0)
		snprintf(buf, size, "%" PRIu64 "KiB", v >> 10);
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static void
conf_load_fmt_duration(uint64_t v, char *buf, size_t size)
{
	if (v != 0 && v % 1000 == 0)
		snprintf(buf, size, "%" PRIu64 "s", v / 1000);
	else
		snprintf(buf, size, "%" PRIu64 "ms", v);
}

/* What a key of type k->type wants, for "expected ..." messages. */
static const char *
conf_load_expected(const struct conf_key *k, char *buf, size_t size)
{
	switch (k->type) {
	case CONF_T_UINT:
		snprintf(buf, size, "a whole number from %" PRIu64 " to %" PRIu64,
		    k->min, k->max);
		return buf;
	case CONF_T_DURATION:
		return "a duration such as \"5s\"";
	case CONF_T_SIZE:
		return "a size such as \"64KiB\"";
	case CONF_T_RATIO:
		return "a ratio such as \"50%\"";
	case CONF_T_BOOL:
		return "true or false";
	case CONF_T_PATH:
		return "a path starting with \"/\"";
	case CONF_T_WORKERS:
		snprintf(buf, size, "\"auto\" or a number from 1 to %d",
		    CONF_LOAD_MAX_WORKERS);
		return buf;
	case CONF_T_SECTION:
		return "a mapping";
	case CONF_T_ENUM: {
		const struct conf_enum *e = conf_load_enum(k);
		size_t n = 0, used = 0;

		while (n < sizeof(e->words) / sizeof(e->words[0]) &&
		    e->words[n].word != NULL)
			n++;
		buf[0] = '\0';
		for (size_t i = 0; i < n && used < size; i++) {
			int w = snprintf(buf + used, size - used, "%s\"%s\"",
			    i == 0 ? "" : i + 1 == n ? " or " : ", ",
			    e->words[i].word);

			if (w < 0)
				break;
			used += (size_t)w;
		}
		return buf;
	}
	default:
		return "a string";
	}
}

/* The word list of CONF_T_ENUM key k; a key without one is a broken schema. */
static const struct conf_enum *
conf_load_enum(const struct conf_key *k)
{
	for (size_t i = 0; i < CONF_ENUMS_N; i++)
		if (conf_enums[i].sec == k->sec &&
		    strcmp(conf_enums[i].key, k->name) == 0)
			return &conf_enums[i];
	fatal("conf_load: enum key %s has no words", k->name);
}

/* ---- node helpers: each reports its own error */

static bool
conf_load_is_map(struct conf_load_ctx *x, const struct conf_node *n)
{
	if (n->kind == CONF_NODE_MAP)
		return true;
	if (n->kind != CONF_NODE_BAD)
		conf_load_err(x, n, "expected a mapping");
	return false;
}

static bool
conf_load_is_seq(struct conf_load_ctx *x, const struct conf_node *n)
{
	if (n->kind == CONF_NODE_SEQ)
		return true;
	if (n->kind != CONF_NODE_BAD)
		conf_load_err(x, n, "expected a list");
	return false;
}

/* The text of a scalar, or NULL after "expected <expected>". */
static const char *
conf_load_string(struct conf_load_ctx *x, const struct conf_node *n,
    const char *expected)
{
	if (n->kind == CONF_NODE_SCALAR && !conf_yaml_is_null(n))
		return n->text;
	if (n->kind != CONF_NODE_BAD)
		conf_load_err(x, n, "expected %s", expected);
	return NULL;
}

static int
conf_load_bool(struct conf_load_ctx *x, const struct conf_node *n, bool *out)
{
	char show[64];

	if (n->kind == CONF_NODE_SCALAR && strcmp(n->text, "true") == 0) {
		*out = true;
		return 0;
	}
	if (n->kind == CONF_NODE_SCALAR && strcmp(n->text, "false") == 0) {
		*out = false;
		return 0;
	}
	if (n->kind == CONF_NODE_SCALAR)
		conf_load_err(x, n, "expected true or false, got \"%s\"",
		    conf_load_show(n->text, show, sizeof(show)));
	else if (n->kind != CONF_NODE_BAD)
		conf_load_err(x, n, "expected true or false");
	return -1;
}

/* ---- the walker */

static const struct conf_key *
conf_load_find(enum conf_section s1, enum conf_section s2, const char *name)
{
	for (size_t i = 0; i < CONF_SCHEMA_N; i++) {
		const struct conf_key *k = &conf_schema[i];

		if ((k->sec == s1 || k->sec == s2) && strcmp(k->name, name) == 0)
			return k;
	}
	return NULL;
}

static void
conf_load_store_uint(void *p, size_t size, uint64_t v)
{
	if (size == sizeof(uint64_t)) {
		uint64_t v64 = v;

		memcpy(p, &v64, sizeof(v64));
	} else if (size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)v;

		memcpy(p, &v32, sizeof(v32));
	} else {
		fatal("conf_load: member of size %zu", size);
	}
}

/*
 * Store `text` (a default, n == NULL) or the value node `n` for key `k`
 * into `obj`. Returns 0, or -1 after an error about `n`. A default that
 * does not parse is a broken schema: fatal.
 */
static int
conf_load_value(struct conf_load_ctx *x, void *obj, const struct conf_key *k,
    const char *text, const struct conf_node *n)
{
	char *p = (char *)obj + k->off;
	char exp[80], show[64], lim[32], whybuf[48];
	const char *why = NULL;
	uint64_t v = 0;
	bool b;

	if (n != NULL && k->type == CONF_T_BOOL) {
		if (conf_load_bool(x, n, &b) == -1)
			return -1;
		memcpy(p, &b, sizeof(b));
		return 0;
	}
	if (n != NULL) {
		text = NULL;
		if (n->kind == CONF_NODE_SCALAR)
			text = n->text;
		if (k->type == CONF_T_STRING && conf_yaml_is_null(n) &&
		    !(k->flags & CONF_F_HEADER))
			text = "";
		if (text == NULL) {
			conf_load_err(x, n, "expected %s",
			    conf_load_expected(k, exp, sizeof(exp)));
			return -1;
		}
	}

	switch (k->type) {
	case CONF_T_BOOL:
		b = strcmp(text, "true") == 0;
		memcpy(p, &b, sizeof(b));
		return 0;
	case CONF_T_UINT:
		if (units_parse_uint(text, k->max, &v, &why) == -1 ||
		    v < k->min)
			goto bad_nowhy;
		conf_load_store_uint(p, k->size, v);
		return 0;
	case CONF_T_WORKERS:
		if (strcmp(text, "auto") == 0) {
			long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

			v = ncpu < 1 ? 1 :
			    ncpu > CONF_LOAD_MAX_WORKERS ?
					  CONF_LOAD_MAX_WORKERS :
					  (uint64_t)ncpu;
		} else if (units_parse_uint(text, k->max, &v, &why) == -1 ||
		    v < k->min) {
			goto bad_nowhy;
		}
		conf_load_store_uint(p, k->size, v);
		return 0;
	case CONF_T_DURATION:
		if (units_parse_duration(text, &v, &why) == -1)
			goto bad;
		if (v == 0 && (k->flags & CONF_F_NONZERO)) {
			why = "must be more than 0";
			goto bad;
		}
		if (v > k->max) {
			conf_load_fmt_duration(k->max, lim, sizeof(lim));
			snprintf(whybuf, sizeof(whybuf), "at most %s", lim);
			why = whybuf;
			goto bad;
		}
		if (k->flags & CONF_F_WHOLE_S) {
			/* Windows are counted in 1 s buckets. */
			if (v < k->min || v % 1000 != 0) {
				why = "must be a whole number of seconds, at least 1s";
				goto bad;
			}
			v /= 1000;
		}
		conf_load_store_uint(p, k->size, v);
		return 0;
	case CONF_T_RATIO: {
		uint32_t ppm;

		if (units_parse_ratio(text, &ppm, &why) == -1)
			goto bad;
		conf_load_store_uint(p, k->size, ppm);
		return 0;
	}
	case CONF_T_SIZE:
		if (units_parse_size(text, &v, &why) == -1)
			goto bad;
		if (v == 0 && (k->flags & CONF_F_NONZERO)) {
			why = "must be more than 0";
			goto bad;
		}
		if (v > k->max) {
			conf_load_fmt_size(k->max, lim, sizeof(lim));
			snprintf(whybuf, sizeof(whybuf), "at most %s", lim);
			why = whybuf;
			goto bad;
		}
		conf_load_store_uint(p, k->size, v);
		return 0;
	case CONF_T_ENUM: {
		const struct conf_enum *e = conf_load_enum(k);
		struct conf_check_suggest sg;

		conf_check_suggest_init(&sg, text);
		for (size_t i = 0; i < sizeof(e->words) / sizeof(e->words[0]) &&
		     e->words[i].word != NULL;
		     i++) {
			if (strcmp(text, e->words[i].word) == 0) {
				int iv = e->words[i].value;

				if (k->size != sizeof(iv))
					fatal("conf_load: enum %s of size %zu",
					    k->name, k->size);
				memcpy(p, &iv, sizeof(iv));
				return 0;
			}
			conf_check_suggest_add(&sg, e->words[i].word);
		}
		if (n == NULL)
			fatal("conf_load: bad default for %s", k->name);
		if (sg.best != NULL)
			conf_load_err(x, n,
			    "expected %s, got \"%s\" (did you mean \"%s\"?)",
			    conf_load_expected(k, exp, sizeof(exp)),
			    conf_load_show(text, show, sizeof(show)), sg.best);
		else
			conf_load_err(x, n, "expected %s, got \"%s\"",
			    conf_load_expected(k, exp, sizeof(exp)),
			    conf_load_show(text, show, sizeof(show)));
		return -1;
	}
	case CONF_T_STRING: {
		char **sp = (char **)(void *)p;

		if (k->flags & CONF_F_HEADER) {
			bool ok = *text != '\0';

			for (const char *c = text; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 ||
				    (unsigned char)*c > 0x7e)
					ok = false;
			if (!ok) {
				if (n == NULL)
					fatal("conf_load: bad default for %s",
					    k->name);
				conf_load_err(x, n,
				    "expected a header value (visible ASCII)");
				return -1;
			}
		}
		free(*sp);
		*sp = xstrdup(text);
		return 0;
	}
	case CONF_T_PATH: {
		char **sp = (char **)(void *)p;
		char *out;

		if (n == NULL) {
			/* Defaults are written as already-clean paths. */
			free(*sp);
			*sp = xstrdup(text);
			return 0;
		}
		if (conf_load_path_check(x, n, text, true, &out) == -1)
			return -1;
		free(*sp);
		*sp = out;
		return 0;
	}
	default:
		fatal("conf_load: key %s has no value type", k->name);
	}

bad:
	if (n == NULL)
		fatal("conf_load: bad default for %s: %s", k->name, why);
	conf_load_err(x, n, "expected %s, got \"%s\" (%s)",
	    conf_load_expected(k, exp, sizeof(exp)),
	    conf_load_show(text, show, sizeof(show)), why);
	return -1;
bad_nowhy:
	if (n == NULL)
		fatal("conf_load: bad default for %s", k->name);
	conf_load_err(x, n, "expected %s, got \"%s\"",
	    conf_load_expected(k, exp, sizeof(exp)),
	    conf_load_show(text, show, sizeof(show)));
	return -1;
}

/*
 * Walk mapping `map` (NULL or null: empty) with the keys of sections s1
 * and s2 into `obj`: defaults first (when `defaults`), then the checks of
 * every key written, then every key of the schema in table order.
 */
static void
conf_load_walk(struct conf_load_ctx *x, void *obj, const struct conf_node *map,
    enum conf_section s1, enum conf_section s2, bool defaults)
{
	bool empty = map == NULL || conf_yaml_is_null(map);

	for (size_t i = 0; defaults && i < CONF_SCHEMA_N; i++) {
		const struct conf_key *k = &conf_schema[i];

		if (k->sec != s1 && k->sec != s2)
			continue;
		if (k->def != NULL && k->type == CONF_T_CUSTOM) {
			struct conf_node dn;

			memset(&dn, 0, sizeof(dn));
			dn.kind = CONF_NODE_SCALAR;
			dn.text = (char *)(uintptr_t)k->def;
			dn.len = strlen(k->def);
			k->fn(x, obj, NULL, &dn);
		} else if (k->def != NULL) {
			(void)conf_load_value(x, obj, k, k->def, NULL);
		}
		if (k->type == CONF_T_SECTION)
			conf_load_walk(x, (char *)obj + k->off, NULL, k->sub,
			    SEC_NONE, true);
	}
	if (!empty && !conf_load_is_map(x, map))
		return;

	for (size_t i = 0; !empty && i < map->npairs; i++) {
		const struct conf_node *key = map->pairs[i].key;
		const struct conf_key *k = conf_load_find(s1, s2, key->text);
		struct conf_check_suggest s;

		if (k != NULL)
			continue;
		conf_check_suggest_init(&s, key->text);
		for (size_t j = 0; j < CONF_SCHEMA_N; j++) {
			const struct conf_key *c = &conf_schema[j];

			if (c->sec == s1 || c->sec == s2)
				conf_check_suggest_add(&s, c->name);
		}
		if (s.best != NULL)
			conf_load_err(x, key,
			    "unknown key \"%s\" (did you mean \"%s\"?)",
			    key->text, s.best);
		else
			conf_load_err(x, key, "unknown key \"%s\"", key->text);
	}

	for (size_t i = 0; i < CONF_SCHEMA_N; i++) {
		const struct conf_key *k = &conf_schema[i];
		const struct conf_node *key = NULL, *val = NULL;

		if (k->sec != s1 && k->sec != s2)
			continue;
		for (size_t j = 0; !empty && j < map->npairs; j++) {
			if (strcmp(map->pairs[j].key->text, k->name) == 0) {
				key = map->pairs[j].key;
				val = map->pairs[j].value;
			}
		}
		if (val == NULL) {
			/* "adress" already said "did you mean address". */
			for (size_t j = 0; !empty && j < map->npairs; j++) {
				const char *t = map->pairs[j].key->text;

				if (conf_load_find(s1, s2, t) == NULL &&
				    conf_check_distance(t, k->name,
					CONF_CHECK_SUGGEST_MAX) <=
					CONF_CHECK_SUGGEST_MAX)
					key = map->pairs[j].key;
			}
			if ((k->flags & CONF_F_REQUIRED) && key == NULL) {
				struct conf_mark top = { 1, 1 };

				config_diag_error(x->diag, x->file,
				    map != NULL ? map->mark : top,
				    "missing required key \"%s\"", k->name);
			}
			continue;
		}
		if (val->kind == CONF_NODE_BAD)
			continue;
		switch (k->type) {
		case CONF_T_CUSTOM:
			k->fn(x, obj, key, val);
			break;
		case CONF_T_SECTION:
			conf_load_walk(x, (char *)obj + k->off, val, k->sub,
			    SEC_NONE, false);
			break;
		default:
			(void)conf_load_value(x, obj, k, NULL, val);
			break;
		}
	}
}

/* ---- checks of single values */

/*
 * A path as cutover compares it: starts with '/', no query or fragment,
 * no spaces or control bytes, no "//", no "." or ".." segment (requests
 * are normalised before matching, so such a path could never match).
 * `strip` drops a trailing '/' (but keeps "/"). *out is the new string.
 */
static int
conf_load_path_check(struct conf_load_ctx *x, const struct conf_node *n,
    const char *s, bool strip, char **out)
{
	char show[64];
	size_t len = strlen(s);

	if (s[0] != '/') {
		conf_load_err(x, n, "expected a path starting with \"/\", got \"%s\"",
		    conf_load_show(s, show, sizeof(show)));
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') {
			conf_load_err(x, n,
			    "a path may not contain spaces, control bytes, '?' or '#'");
			return -1;
		}
		if (c == '/' && s[i + 1] == '/') {
			conf_load_err(x, n, "a path may not contain \"//\"");
			return -1;
		}
		if (c == '/' && s[i + 1] == '.' &&
		    (s[i + 2] == '/' || s[i + 2] == '\0' ||
			(s[i + 2] == '.' && (s[i + 3] == '/' || s[i + 3] == '\0')))) {
			conf_load_err(x, n,
			    "a path may not contain \".\" or \"..\" segments");
			return -1;
		}
	}
	if (strip && len > 1 && s[len - 1] == '/')
		len--;
	*out = xstrndup(s, len);
	return 0;
}

/* Names of upstreams and routes: they end up in metric labels and logs. */
static bool
conf_load_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
			*s == '.'))
			return false;
	return true;
}

/* An RFC 9110 token; with `upper`, no lower-case letter either. */
static bool
conf_load_token(const char *s, bool upper)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (upper && c >= 'a' && c <= 'z')
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr("!#$%&'*+-.^_`|~", c) == NULL)
			return false;
	}
	return true;
}

/*
 * "HOST:PORT", "[V6]:PORT"; with `passive` (listeners) also "*:PORT" and
 * ":PORT" for every address. Resolves with getaddrinfo() (numeric only
 * under CONFIG_LOAD_NO_DNS) and keeps the first address, preferring IPv6
 * for the wildcard so one dual-stack socket takes both families.
 */
static int
conf_load_address(struct conf_load_ctx *x, const struct conf_node *n,
    const char *what, bool passive, char **hostp, uint16_t *portp,
    struct sockaddr_storage *ss, socklen_t *sslen, bool *any)
{
	const char *s = n->text, *colon, *hs, *he;
	char show[64], *host;
	struct addrinfo hints, *res = NULL, *pick;
	uint64_t port;
	const char *why;
	int rc;

	conf_load_show(s, show, sizeof(show));
	if (s[0] == '[') {
		he = strchr(s, ']');
		if (he == NULL || he[1] != ':') {
			conf_load_err(x, n,
			    "invalid %s address \"%s\": expected \"[ADDRESS]:PORT\"",
			    what, show);
			return -1;
		}
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			conf_load_err(x, n,
			    "invalid %s address \"%s\": expected \"HOST:PORT\"",
			    what, show);
			return -1;
		}
		hs = s;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL) {
			conf_load_err(x, n,
			    "invalid %s address \"%s\": put IPv6 addresses in "
			    "brackets, as in \"[::1]:8080\"",
			    what, show);
			return -1;
		}
	}
	if (units_parse_uint(colon + 1, 65535, &port, &why) == -1 || port == 0) {
		conf_load_err(x, n,
		    "invalid %s address \"%s\": the port must be a number from "
		    "1 to 65535",
		    what, show);
		return -1;
	}
	host = xstrndup(hs, (size_t)(he - hs));
	*any = s[0] != '[' && (host[0] == '\0' || strcmp(host, "*") == 0);
	if (*any && !passive) {
		conf_load_err(x, n,
		    "invalid %s address \"%s\": expected \"HOST:PORT\"", what,
		    show);
		free(host);
		return -1;
	}
	if (!*any && host[0] == '\0') {
		conf_load_err(x, n,
		    "invalid %s address \"%s\": expected \"[ADDRESS]:PORT\"",
		    what, show);
		free(host);
		return -1;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if (x->flags & CONFIG_LOAD_NO_DNS)
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(*any ? NULL : host, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL) {
		conf_load_err(x, n, "cannot resolve %s address \"%s\": %s", what,
		    show, rc != 0 ? gai_strerror(rc) : "no address");
		free(host);
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	pick = res;
	for (struct addrinfo *ai = res; *any && ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6) {
			pick = ai;
			break;
		}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	*sslen = pick->ai_addrlen;
	freeaddrinfo(res);
	*portp = (uint16_t)port;
	if (hostp != NULL)
		*hostp = host;
	else
		free(host);
	return 0;
}

/* ---- top level */

static void
conf_load_listeners(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct config *c = obj;

	(void)key;
	if (conf_yaml_is_null(val) ||
	    (val->kind == CONF_NODE_SEQ && val->nitems == 0)) {
		conf_load_err(x, val, "at least one listener is required");
		return;
	}
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems > CONF_IDS_MAX) {
		conf_load_err(x, val, "at most %d listeners", CONF_IDS_MAX);
		return;
	}
	c->listeners = xcalloc(val->nitems, sizeof(*c->listeners));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		struct listener_conf *l = &c->listeners[c->nlisteners];

		if (!conf_load_is_map(x, it))
			continue;
		l->id = (unsigned)c->nlisteners++;
		l->mark = it->mark;
		conf_load_walk(x, l, it, SEC_LISTENER, SEC_NONE, true);
		for (size_t j = 0; l->address != NULL && j + 1 < c->nlisteners;
		     j++) {
			const struct listener_conf *o = &c->listeners[j];

			if (o->address != NULL && o->addrlen == l->addrlen &&
			    memcmp(&o->addr, &l->addr, l->addrlen) == 0) {
				config_diag_error(x->diag, x->file, l->mark,
				    "listener \"%s\" is the same address as "
				    "the one at %u:%u",
				    l->address, o->mark.line, o->mark.col);
				break;
			}
		}
	}
}

static void
conf_load_listener_address(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct listener_conf *l = obj;
	uint16_t port;

	(void)key;
	if (conf_load_string(x, val, "an address such as \"127.0.0.1:8080\"") ==
	    NULL)
		return;
	if (conf_load_address(x, val, "listener", true, NULL, &port, &l->addr,
		&l->addrlen, &l->any_address) == -1)
		return;
	l->address = xstrdup(val->text);
}

static void
conf_load_upstream_defaults(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	(void)obj;
	(void)key;
	conf_load_walk(x, &x->defaults, val, SEC_UPSTREAM_TIMEOUTS, SEC_NONE,
	    false);
}

static void
conf_load_upstreams(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct config *c = obj;

	(void)key;
	if (conf_yaml_is_null(val) || !conf_load_is_map(x, val))
		return;
	if (val->npairs > CONF_IDS_MAX) {
		conf_load_err(x, val, "at most %d upstreams", CONF_IDS_MAX);
		return;
	}
	c->upstreams = xcalloc(val->npairs, sizeof(*c->upstreams));
	for (size_t i = 0; i < val->npairs; i++) {
		const struct conf_node *name = val->pairs[i].key;
		const struct conf_node *body = val->pairs[i].value;
		struct upstream_conf *u = &c->upstreams[c->nupstreams];

		/*
		 * Kept even when it has errors, so routes that name it do
		 * not add a misleading "unknown upstream".
		 */
		u->name = xstrdup(name->text);
		u->index = c->nupstreams++;
		u->id = (unsigned)u->index;
		u->mark = name->mark;
		if (!conf_load_name_ok(name->text))
			conf_load_err(x, name,
			    "an upstream name may contain only letters, digits, "
			    "'.', '_' and '-'");
		conf_load_inherit(u, &x->defaults);
		if (body->kind == CONF_NODE_BAD)
			continue;
		conf_load_walk(x, u, body, SEC_UPSTREAM, SEC_UPSTREAM_TIMEOUTS,
		    false);
		conf_load_check_upstream(x, u, name);
	}
}

/* Every key of upstream_defaults, copied into upstream `u` before its own keys. */
static void
conf_load_inherit(struct upstream_conf *u, const struct upstream_conf *d)
{
	u->connect_timeout_ms = d->connect_timeout_ms;
	u->response_timeout_ms = d->response_timeout_ms;
	u->read_timeout_ms = d->read_timeout_ms;
	u->request_timeout_ms = d->request_timeout_ms;
	u->idle_timeout_ms = d->idle_timeout_ms;
	u->max_connections = d->max_connections;
	u->max_pending = d->max_pending;
	u->pending_timeout_ms = d->pending_timeout_ms;
	u->breaker = d->breaker;
	u->retry = d->retry;
	u->health_check = d->health_check;
	if (d->health_check.path != NULL)
		u->health_check.path = xstrdup(d->health_check.path);
}

/* Checks between keys of one upstream, once it is whole. */
static void
conf_load_check_upstream(struct conf_load_ctx *x, struct upstream_conf *u,
    const struct conf_node *name)
{
	if (u->breaker.max_open_for_ms < u->breaker.open_for_ms)
		conf_load_err(x, name,
		    "upstream \"%s\": breaker.max_open_for (%" PRIu64 "ms) is "
		    "less than breaker.open_for (%" PRIu64 "ms)",
		    u->name, u->breaker.max_open_for_ms, u->breaker.open_for_ms);
	if (u->retry.p.max_backoff_ms < u->retry.p.backoff_ms)
		conf_load_err(x, name,
		    "upstream \"%s\": retry.max_backoff (%" PRIu64 "ms) is "
		    "less than retry.backoff (%" PRIu64 "ms)",
		    u->name, u->retry.p.max_backoff_ms, u->retry.p.backoff_ms);
	if (u->health_check.enabled &&
	    u->health_check.timeout_ms > u->health_check.interval_ms)
		conf_load_err(x, name,
		    "upstream \"%s\": health_check.timeout (%" PRIu64 "ms) is "
		    "longer than health_check.interval (%" PRIu64 "ms)",
		    u->name, u->health_check.timeout_ms,
		    u->health_check.interval_ms);
	/* A probe slot is held at most one try's wait for its answer. */
	u->breaker.probe_lease_ms = u->connect_timeout_ms +
	    u->response_timeout_ms;
}

/*
 * retry.on: a list of connect-failure, reset, timeout and statuses
 * 400-599. The default (key NULL) is SPEC 2's list.
 */
static void
conf_load_retry_on(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct retry_conf *rc = obj;
	char show[64];

	if (key == NULL) {
		struct retry_params d;

		retry_params_default(&d);
		rc->p.on_kinds = d.on_kinds;
		memcpy(rc->p.on_status, d.on_status, sizeof(d.on_status));
		return;
	}
	if (!conf_load_is_seq(x, val))
		return;
	rc->p.on_kinds = 0;
	memset(rc->p.on_status, 0, sizeof(rc->p.on_status));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		uint64_t st;
		const char *why;

		if (conf_load_string(x, it, "connect-failure, reset, timeout, "
			"429 or a status") == NULL)
			continue;
		if (strcmp(it->text, "connect-failure") == 0)
			rc->p.on_kinds |= RETRY_ON_CONNECT_FAILURE;
		else if (strcmp(it->text, "reset") == 0)
			rc->p.on_kinds |= RETRY_ON_RESET;
		else if (strcmp(it->text, "timeout") == 0)
			rc->p.on_kinds |= RETRY_ON_TIMEOUT;
		else if (units_parse_uint(it->text, 599, &st, &why) == 0 &&
		    (st == 429 || st >= 500))
			retry_set_status(&rc->p, (int)st);
		else
			/* Other 4xx are successes (SPEC 4.2): listing one would do nothing. */
			conf_load_err(x, it,
			    "expected connect-failure, reset, timeout, 429 or a "
			    "status from 500 to 599, got \"%s\"",
			    conf_load_show(it->text, show, sizeof(show)));
	}
}

/* health_check: present means enabled; unwritten keys take their defaults. */
static void
conf_load_health_check(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct upstream_conf *u = obj;
	struct health_check_conf *hc = &u->health_check;
	bool inherited = hc->enabled;

	/* "health_check:" alone turns checks on with every default. */
	if (!conf_yaml_is_null(val) && !conf_load_is_map(x, val))
		return;
	if (!inherited) {
		free(hc->path);
		memset(hc, 0, sizeof(*hc));
	}
	hc->enabled = true;
	hc->mark = key->mark;
	conf_load_walk(x, hc, conf_yaml_is_null(val) ? NULL : val, SEC_HEALTH,
	    SEC_NONE, !inherited);
}

static void
conf_load_servers(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct upstream_conf *u = obj;
	const struct conf_key *addr = conf_load_find(SEC_SERVER, SEC_NONE,
	    "address");

	if (conf_yaml_is_null(val) ||
	    (val->kind == CONF_NODE_SEQ && val->nitems == 0)) {
		conf_load_err(x, val, "upstream \"%s\" needs at least one server",
		    u->name);
		return;
	}
	if (!conf_load_is_seq(x, val))
		return;
	u->servers = xcalloc(val->nitems, sizeof(*u->servers));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		struct server_conf *s = &u->servers[u->nservers];

		if (it->kind == CONF_NODE_BAD)
			continue;
		if (it->kind == CONF_NODE_SCALAR && !conf_yaml_is_null(it)) {
			u->nservers++;
			s->mark = it->mark;
			s->weight = 1;
			addr->fn(x, s, key, it);
			continue;
		}
		if (it->kind != CONF_NODE_MAP) {
			conf_load_err(x, it,
			    "expected a server: \"HOST:PORT\" or "
			    "{ address: \"HOST:PORT\", weight: N }");
			continue;
		}
		u->nservers++;
		s->mark = it->mark;
		conf_load_walk(x, s, it, SEC_SERVER, SEC_NONE, true);
	}
}

static void
conf_load_server_address(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct server_conf *s = obj;
	bool any;

	(void)key;
	if (conf_load_string(x, val, "an address such as \"10.0.0.5:8080\"") ==
	    NULL)
		return;
	if (conf_load_address(x, val, "server", false, &s->host, &s->port,
		&s->addr, &s->addrlen, &any) == -1)
		return;
	s->address = xstrdup(val->text);
}

/* ---- tls */

/*
 * A listener's `tls`: the certificates, read and checked now, so a bad
 * file is this file's error and a reload picks up renewed ones.
 */
static void
conf_load_listener_tls(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct listener_conf *l = obj;
	struct listener_tls_conf *t = &l->tls;
	size_t errors = x->diag->nerrors;
	struct tls_cert_files *files;
	char err[512];
	struct tls_fault bad;

	if (!conf_load_is_map(x, val))
		return;
	t->enabled = true;
	t->mark = key->mark;
	conf_load_walk(x, t, val, SEC_LISTENER_TLS, SEC_NONE, true);
	if (x->diag->nerrors != errors || t->ncerts == 0 ||
	    (x->flags & CONFIG_LOAD_NO_FILES))
		return;
	files = xcalloc(t->ncerts, sizeof(*files));
	for (size_t i = 0; i < t->ncerts; i++) {
		files[i].cert = t->certs[i].cert;
		files[i].key = t->certs[i].key;
	}
	t->ctx = tls_server_new(files, t->ncerts, t->min_version, err,
	    sizeof(err), &bad);
	if (t->ctx == NULL)
		config_diag_error(x->diag, x->file, bad.key_file ?
		    t->certs[bad.cert].key_mark : t->certs[bad.cert].mark, "%s", err);
	free(files);
}

static void
conf_load_tls_certificates(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct listener_tls_conf *t = obj;

	(void)key;
	if (conf_yaml_is_null(val) ||
	    (val->kind == CONF_NODE_SEQ && val->nitems == 0)) {
		conf_load_err(x, val, "tls needs at least one certificate");
		return;
	}
	if (!conf_load_is_seq(x, val))
		return;
	t->certs = xcalloc(val->nitems, sizeof(*t->certs));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		struct tls_cert_conf *c = &t->certs[t->ncerts];

		if (it->kind != CONF_NODE_MAP) {
			if (it->kind != CONF_NODE_BAD)
				conf_load_err(x, it, "expected a certificate: "
				    "{ cert: FILE, key: FILE }");
			continue;
		}
		t->ncerts++;
		c->mark = it->mark;
		conf_load_walk(x, c, it, SEC_TLS_CERT, SEC_NONE, true);
	}
}

static void
conf_load_tls_cert_file(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct tls_cert_conf *c = obj;
	char **slot = strcmp(key->text, "cert") == 0 ? &c->cert : &c->key;

	if (conf_load_string(x, val, "a file name") == NULL)
		return;
	if (slot == &c->key)
		c->key_mark = val->mark;
	free(*slot);
	*slot = conf_load_resolve(x, val->text);
}

static void
conf_load_tls_min_version(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct listener_tls_conf *t = obj;
	char show[64];

	(void)key;
	if (conf_load_string(x, val, "TLSv1.2 or TLSv1.3") == NULL)
		return;
	if (strcmp(val->text, "TLSv1.2") == 0)
		t->min_version = TLS1_2_VERSION;
	else if (strcmp(val->text, "TLSv1.3") == 0)
		t->min_version = TLS1_3_VERSION;
	else
		conf_load_err(x, val, "expected TLSv1.2 or TLSv1.3, got \"%s\"",
		    conf_load_show(val->text, show, sizeof(show)));
}

/* An upstream's `tls`: one client context, its trust store read now. */
static void
conf_load_upstream_tls(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct upstream_conf *u = obj;
	struct upstream_tls_conf *t = &u->tls;
	size_t errors = x->diag->nerrors;
	char err[512];

	if (!conf_yaml_is_null(val) && !conf_load_is_map(x, val))
		return;
	t->enabled = true;
	t->mark = key->mark;
	conf_load_walk(x, t, conf_yaml_is_null(val) ? NULL : val,
	    SEC_UPSTREAM_TLS, SEC_NONE, true);
	if (x->diag->nerrors != errors || (x->flags & CONFIG_LOAD_NO_FILES))
		return;
	t->ctx = tls_client_new(t->verify, t->ca, err, sizeof(err));
	if (t->ctx == NULL)
		config_diag_error(x->diag, x->file, t->mark, "%s", err);
}

static void
conf_load_tls_ca(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct upstream_tls_conf *t = obj;

	(void)key;
	if (conf_load_string(x, val, "a file name") == NULL)
		return;
	free(t->ca);
	t->ca = conf_load_resolve(x, val->text);
	if (!(x->flags & CONFIG_LOAD_NO_FILES) && access(t->ca, R_OK) == -1)
		conf_load_err(x, val, "cannot read ca \"%s\": %s", t->ca,
		    strerror(errno));
}

/* A DNS name (letters, digits, '-', '.'), as SNI carries it. */
static void
conf_load_tls_sni(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct upstream_tls_conf *t = obj;
	char show[64];

	(void)key;
	if (conf_load_string(x, val, "a host name") == NULL)
		return;
	for (const char *p = val->text; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
			conf_load_err(x, val, "sni \"%s\" is not a host name",
			    conf_load_show(val->text, show, sizeof(show)));
			return;
		}
	if (val->len > 253) {
		conf_load_err(x, val, "sni is longer than 253 bytes");
		return;
	}
	free(t->sni);
	t->sni = xstrdup(val->text);
}

/* ---- correlation, access_log, admin */

/* A relative file name is relative to the configuration's directory. */
static char *
conf_load_resolve(const struct conf_load_ctx *x, const char *s)
{
	struct strbuf b;

	strbuf_init(&b);
	if (s[0] == '/')
		strbuf_adds(&b, s);
	else
		strbuf_addf(&b, "%s/%s", x->dir, s);
	return strbuf_detach(&b);
}

/*
 * An RFC 9110 token, and not a header cutover itself frames with, strips
 * as hop-by-hop, or writes for trace context: the ID would be lost or
 * would corrupt the message.
 */
static void
conf_load_correlation_header(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	static const char *const reserved[] = { "Connection", "Content-Length",
		"Host", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
		"Transfer-Encoding", "Upgrade", "traceparent", "tracestate" };
	struct correlation_conf *cc = obj;
	char show[64];

	(void)key;
	if (conf_load_string(x, val, "a header name such as \"X-Request-ID\"") ==
	    NULL)
		return;
	if (!conf_load_token(val->text, false)) {
		conf_load_err(x, val,
		    "expected a header name (an HTTP token such as "
		    "\"X-Request-ID\"), got \"%s\"",
		    conf_load_show(val->text, show, sizeof(show)));
		return;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(val->text, reserved[i]) == 0) {
			conf_load_err(x, val,
			    "header \"%s\" cannot carry the request ID: cutover "
			    "manages it itself",
			    val->text);
			return;
		}
	}
	free(cc->header);
	cc->header = xstrdup(val->text);
}

/*
 * "stdout", "off" or a file. The file is not opened here (the running
 * process opens it, and reopens it on SIGUSR1), but its directory must
 * exist now, so that a typo fails `cutover -t` rather than the start.
 * Under CONFIG_LOAD_NO_FILES the file system is not looked at.
 */
static void
conf_load_access_log_path(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct access_log_conf *al = obj;
	struct stat st;
	char *path, *dir;
	size_t len;
	int rc;

	(void)key;
	if (conf_load_string(x, val, "a file path, \"stdout\" or \"off\"") ==
	    NULL)
		return;
	free(al->path);
	al->path = NULL;
	al->enabled = strcmp(val->text, "off") != 0;
	al->to_stdout = strcmp(val->text, "stdout") == 0;
	if (!al->enabled || al->to_stdout)
		return;
	path = conf_load_resolve(x, val->text);
	len = strlen(path);
	if (!(x->flags & CONFIG_LOAD_NO_FILES)) {
		if (path[len - 1] == '/' ||
		    (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
			conf_load_err(x, val, "access_log path \"%s\" is a directory",
			    path);
			free(path);
			return;
		}
		dir = conf_load_dirname(path);
		rc = stat(dir, &st);
		if (rc == -1 || !S_ISDIR(st.st_mode)) {
			conf_load_err(x, val,
			    "cannot use access_log directory \"%s\": %s", dir,
			    strerror(rc == -1 ? errno : ENOTDIR));
			free(dir);
			free(path);
			return;
		}
		free(dir);
	}
	al->path = path;
}

static void
conf_load_admin(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct config *c = obj;
	struct admin_conf *a = &c->admin;
	const struct conf_node *addr;

	a->enabled = true;
	conf_load_walk(x, a, val, SEC_ADMIN, SEC_NONE, true);
	addr = val->kind == CONF_NODE_MAP ? conf_yaml_get(val, "address") : NULL;
	a->mark = addr != NULL ? addr->mark : key->mark;
	for (size_t i = 0; a->address != NULL && i < c->nlisteners; i++) {
		const struct listener_conf *l = &c->listeners[i];

		if (l->address == NULL)
			continue;
		if (l->addrlen == a->addrlen &&
		    memcmp(&l->addr, &a->addr, a->addrlen) == 0) {
			config_diag_error(x->diag, x->file, a->mark,
			    "admin address \"%s\" is the same address as the "
			    "listener at %u:%u",
			    a->address, l->mark.line, l->mark.col);
			break;
		}
		if (conf_load_sa_overlap(&l->addr, &a->addr)) {
			config_diag_error(x->diag, x->file, a->mark,
			    "admin address \"%s\" overlaps the listener \"%s\" at "
			    "%u:%u (same port, one of them on every address)",
			    a->address, l->address, l->mark.line, l->mark.col);
			break;
		}
	}
}

/* Parsed and resolved as a listener's; "*:PORT" is allowed (and warned about). */
static void
conf_load_admin_address(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct admin_conf *a = obj;
	uint16_t port;

	(void)key;
	free(a->address);
	a->address = NULL;
	if (conf_load_string(x, val, "an address such as \"127.0.0.1:9901\"") ==
	    NULL)
		return;
	if (conf_load_address(x, val, "admin", true, NULL, &port, &a->addr,
		&a->addrlen, &a->any_address) == -1)
		return;
	a->address = xstrdup(val->text);
}

/*
 * The token is the file's first line, without trailing spaces, tabs, CR
 * or LF; it must be visible ASCII (a NUL would cut it short). Every copy
 * but the one kept is zeroed before it is freed.
 */
static void
conf_load_admin_token_file(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct admin_conf *a = obj;
	char *path, *buf;
	const char *nl;
	size_t len, n;
	bool visible = true;

	(void)key;
	if (conf_load_string(x, val, "a file name") == NULL)
		return;
	if (x->flags & CONFIG_LOAD_NO_FILES) {
		conf_load_err(x, val, "token_file is disabled here");
		return;
	}
	path = conf_load_resolve(x, val->text);
	if (conf_load_read_file(path, CONF_LOAD_MAX_TOKEN_FILE, &buf, &len) ==
	    -1) {
		if (errno == EFBIG)
			conf_load_err(x, val,
			    "token_file \"%s\" is larger than 4KiB", path);
		else
			conf_load_err(x, val, "cannot read token_file \"%s\": %s",
			    path, strerror(errno));
		free(path);
		return;
	}
	nl = memchr(buf, '\n', len);
	n = nl != NULL ? (size_t)(nl - buf) : len;
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
			    buf[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f)
			visible = false;
	if (n == 0) {
		conf_load_err(x, val,
		    "token_file \"%s\" is empty (the token is its first line)",
		    path);
	} else if (!visible) {
		conf_load_err(x, val,
		    "token_file \"%s\": the token may contain only visible "
		    "ASCII characters, no spaces",
		    path);
	} else {
		a->token = xstrndup(buf, n);
		a->token_file = path;
		path = NULL;
	}
	explicit_bzero(buf, len);
	free(buf);
	free(path);
}

static uint16_t
conf_load_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port;
	return ((const struct sockaddr_in *)(const void *)ss)->sin_port;
}

static bool
conf_load_sa_unspec(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr ==
	    htonl(INADDR_ANY);
}

/*
 * Two sockets that cannot both be bound: the same port, and one of them
 * on every address of the other's family ([::] takes IPv4 as well, since
 * listeners bind it dual-stack).
 */
static bool
conf_load_sa_overlap(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (conf_load_sa_port(a) != conf_load_sa_port(b))
		return false;
	if (conf_load_sa_unspec(a) &&
	    (a->ss_family == b->ss_family || a->ss_family == AF_INET6))
		return true;
	return conf_load_sa_unspec(b) &&
	    (b->ss_family == a->ss_family || b->ss_family == AF_INET6);
}

/* ---- routes */

static void
conf_load_routes(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct config *c = obj;

	x->routes_mark = key->mark;
	if (conf_yaml_is_null(val) || !conf_load_is_seq(x, val))
		return;
	if (val->nitems > CONF_IDS_MAX) {
		conf_load_err(x, val, "at most %d routes", CONF_IDS_MAX);
		return;
	}
	c->routes = xcalloc(val->nitems, sizeof(*c->routes));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		struct route_conf *r = &c->routes[c->nroutes];
		const struct conf_node *up, *resp, *rw, *sp;

		if (!conf_load_is_map(x, it))
			continue;
		r->index = c->nroutes++;
		r->id = (unsigned)r->index;
		r->mark = it->mark;
		conf_load_walk(x, r, it, SEC_ROUTE, SEC_NONE, true);

		up = conf_yaml_get(it, "upstream");
		resp = conf_yaml_get(it, "respond");
		rw = conf_yaml_get(it, "rewrite");
		sp = conf_yaml_get(it, "split");
		if ((up != NULL) + (resp != NULL) + (sp != NULL) > 1) {
			conf_load_err(x, resp != NULL ? resp : sp,
			    "a route takes exactly one of \"upstream\", "
			    "\"split\" and \"respond\"");
		} else if (up == NULL && resp == NULL && sp == NULL) {
			conf_load_err(x, it,
			    "a route needs \"upstream\", \"split\" or "
			    "\"respond\"");
		} else if (sp == NULL && conf_yaml_get(it, "sticky") != NULL) {
			conf_load_err(x, conf_yaml_get(it, "sticky"),
			    "\"sticky\" needs a route with a \"split\"");
		} else if (resp != NULL && rw != NULL) {
			conf_load_err(x, rw,
			    "\"rewrite\" needs a route with an \"upstream\"");
		} else if (resp != NULL && r->fallback.upstream_name != NULL) {
			conf_load_err(x, conf_yaml_get(it, "fallback"),
			    "\"fallback\" needs a route with an \"upstream\"");
		} else if (resp != NULL && r->shadow.enabled) {
			conf_load_err(x, conf_yaml_get(it, "shadow"),
			    "\"shadow\" needs a route with an \"upstream\" or "
			    "a \"split\"");
		}
	}
}

static void
conf_load_route_name(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;
	const struct config *c = x->c;

	(void)key;
	if (conf_load_string(x, val, "a route name") == NULL)
		return;
	if (!conf_load_name_ok(val->text)) {
		conf_load_err(x, val,
		    "a route name may contain only letters, digits, '.', '_' "
		    "and '-'");
		return;
	}
	for (size_t i = 0; i < r->index; i++) {
		const struct route_conf *o = &c->routes[i];

		if (o->name != NULL && strcmp(o->name, val->text) == 0) {
			conf_load_err(x, val,
			    "duplicate route name \"%s\" (first at %u:%u)",
			    val->text, o->mark.line, o->mark.col);
			return;
		}
	}
	r->name = xstrdup(val->text);
}

static void
conf_load_route_match(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	(void)key;
	x->path_mark.line = x->path_mark.col = 0;
	for (size_t i = 0; val->kind == CONF_NODE_MAP && i < val->npairs; i++) {
		const struct conf_node *k = val->pairs[i].key;

		if (strcmp(k->text, "path_prefix") != 0 &&
		    strcmp(k->text, "path") != 0 &&
		    strcmp(k->text, "path_regex") != 0)
			continue;
		if (x->path_mark.line == 0)
			x->path_mark = k->mark;
		else
			conf_load_err(x, k,
			    "a match takes at most one of \"path_prefix\", "
			    "\"path\" and \"path_regex\"");
	}
	conf_load_walk(x, &r->match, val, SEC_MATCH, SEC_NONE, true);
}

static void
conf_load_route_upstream(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	(void)key;
	conf_load_upstream_ref(x, val, &r->upstream_name, &r->upstream_mark);
}

/* split: a non-empty list of { upstream: NAME, weight: N }. */
static void
conf_load_route_split(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	(void)key;
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0 || val->nitems > SPLIT_MAX_TARGETS) {
		conf_load_err(x, val, "a split takes 1 to %d targets",
		    SPLIT_MAX_TARGETS);
		return;
	}
	r->has_split = true;
	r->targets = xcalloc(val->nitems, sizeof(*r->targets));
	for (size_t i = 0; i < val->nitems; i++) {
		struct route_target *tg = &r->targets[r->ntargets];

		if (!conf_load_is_map(x, val->items[i]))
			continue;
		tg->mark = val->items[i]->mark;
		r->ntargets++;
		conf_load_walk(x, tg, val->items[i], SEC_TARGET, SEC_NONE, true);
	}
}

static void
conf_load_target_upstream(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_target *tg = obj;

	(void)key;
	conf_load_upstream_ref(x, val, &tg->upstream_name, &tg->mark);
}

/* sticky: { cookie: NAME } or { header: NAME }, and an optional seed. */
static void
conf_load_route_sticky(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;
	struct sticky_conf *st = &r->sticky;

	if (!conf_load_is_map(x, val))
		return;
	st->enabled = true;
	st->mark = key->mark;
	conf_load_walk(x, st, val, SEC_STICKY, SEC_NONE, true);
	if ((st->cookie != NULL) == (st->header != NULL))
		conf_load_err(x, val,
		    "sticky takes exactly one of \"cookie\" and \"header\"");
}

/* override: { header: NAME, allow_from: [CIDR...] }. */
static void
conf_load_route_override(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	if (!conf_load_is_map(x, val))
		return;
	r->override.enabled = true;
	r->override.mark = key->mark;
	conf_load_walk(x, &r->override, val, SEC_OVERRIDE, SEC_NONE, true);
}

static void
conf_load_allow_from(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct override_conf *o = obj;
	char show[64];

	(void)key;
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0) {
		conf_load_err(x, val, "expected a non-empty list of address ranges");
		return;
	}
	o->allow = xcalloc(val->nitems, sizeof(*o->allow));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		const char *why;

		if (conf_load_string(x, it, "an address range such as \"10.0.0.0/8\"") ==
		    NULL)
			continue;
		if (cidr_parse(it->text, &o->allow[o->nallow], &why) == -1) {
			conf_load_err(x, it, "expected an address range such as "
			    "\"10.0.0.0/8\", got \"%s\" (%s)",
			    conf_load_show(it->text, show, sizeof(show)), why);
			continue;
		}
		o->nallow++;
	}
}

/* shadow: { upstream, percent, methods, max_inflight, max_body, compare }. */
static void
conf_load_route_shadow(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	if (!conf_load_is_map(x, val))
		return;
	r->shadow.enabled = true;
	r->shadow.mark = key->mark;
	conf_load_walk(x, &r->shadow, val, SEC_SHADOW, SEC_NONE, true);
}

/* An upstream named by a route key (resolved by conf_check): its name and place. */
static void
conf_load_upstream_ref(struct conf_load_ctx *x, const struct conf_node *val,
    char **name, struct conf_mark *mark)
{
	if (conf_load_string(x, val, "an upstream name") == NULL)
		return;
	free(*name);
	*name = xstrdup(val->text);
	*mark = val->mark;
}

static void
conf_load_shadow_upstream(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;

	(void)key;
	conf_load_upstream_ref(x, val, &sh->upstream_name, &sh->mark);
}

/* percent: 0..100, decimals allowed ("0.5"), with or without a '%'. */
static void
conf_load_shadow_percent(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;
	char buf[32], show[64];
	const char *why;
	size_t n;

	(void)key;
	if (conf_load_string(x, val, "a percentage from 0 to 100") == NULL)
		return;
	n = strlen(val->text);
	if (n == 0 || n + 2 > sizeof(buf)) {
		why = "expected a percentage from 0 to 100";
		goto bad;
	}
	memcpy(buf, val->text, n + 1);
	if (buf[n - 1] != '%')
		memcpy(buf + n, "%", 2);
	if (units_parse_ratio(buf, &sh->percent_ppm, &why) == 0)
		return;
bad:
	conf_load_err(x, val, "expected a percentage from 0 to 100 such as "
	    "\"100\" or \"0.5\", got \"%s\" (%s)",
	    conf_load_show(val->text, show, sizeof(show)), why);
}

/* The methods a shadow copy may carry; writes need an explicit list. */
static const struct {
	const char *name;
	enum http_method m;
} conf_shadow_methods[] = {
	{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD }, { "POST", HTTP_M_POST },
	{ "PUT", HTTP_M_PUT }, { "DELETE", HTTP_M_DELETE },
	{ "OPTIONS", HTTP_M_OPTIONS }, { "PATCH", HTTP_M_PATCH },
};

static void
conf_load_shadow_methods(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;
	char show[64];

	if (key == NULL) { /* the default */
		sh->methods = 1u << HTTP_M_GET | 1u << HTTP_M_HEAD;
		return;
	}
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0) {
		conf_load_err(x, val, "expected a non-empty list of methods");
		return;
	}
	sh->methods = 0;
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		size_t k;

		if (conf_load_string(x, it, "a method such as \"GET\"") == NULL)
			continue;
		for (k = 0; k < sizeof(conf_shadow_methods) /
		     sizeof(conf_shadow_methods[0]); k++)
			if (strcmp(it->text, conf_shadow_methods[k].name) == 0)
				break;
		if (k == sizeof(conf_shadow_methods) / sizeof(conf_shadow_methods[0])) {
			conf_load_err(x, it, "expected one of GET, HEAD, POST, "
			    "PUT, DELETE, OPTIONS, PATCH, got \"%s\"",
			    conf_load_show(it->text, show, sizeof(show)));
			continue;
		}
		sh->methods |= 1u << conf_shadow_methods[k].m;
	}
}

/* compare: a mapping (maybe empty), or true / false. */
static void
conf_load_shadow_compare(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;

	(void)key;
	if (val->kind == CONF_NODE_SCALAR && (strcmp(val->text, "true") == 0 ||
		strcmp(val->text, "false") == 0)) {
		sh->compare = strcmp(val->text, "true") == 0;
		return;
	}
	if (!conf_yaml_is_null(val) && !conf_load_is_map(x, val))
		return;
	sh->compare = true;
	conf_load_walk(x, sh, val, SEC_COMPARE, SEC_NONE, true);
}

/*
 * A list of strings, each checked by `ok` (which says why not), into a
 * NULL-terminated array: compare.ignore_headers and ignore_json_fields.
 */
static void
conf_load_word_list(struct conf_load_ctx *x, const struct conf_node *val,
    const char *expected, bool (*ok)(const char *, const char **),
    char ***list, size_t *n)
{
	char show[64];

	if (!conf_load_is_seq(x, val))
		return;
	*list = xcalloc(val->nitems + 1, sizeof(char *));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		const char *why = NULL;

		if (conf_load_string(x, it, expected) == NULL)
			continue;
		if (!ok(it->text, &why)) {
			conf_load_err(x, it, "expected %s, got \"%s\"%s%s%s", expected,
			    conf_load_show(it->text, show, sizeof(show)),
			    why != NULL ? " (" : "", why != NULL ? why : "",
			    why != NULL ? ")" : "");
			continue;
		}
		(*list)[(*n)++] = xstrdup(it->text);
	}
}

static bool
conf_load_header_name_ok(const char *s, const char **why)
{
	*why = NULL;
	return conf_load_token(s, false);
}

static void
conf_load_ignore_headers(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;

	(void)key;
	conf_load_word_list(x, val, "a header name such as \"Date\"",
	    conf_load_header_name_ok, &sh->ignore_headers, &sh->nignore_headers);
}

static void
conf_load_ignore_json_fields(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct shadow_conf *sh = obj;

	(void)key;
	conf_load_word_list(x, val,
	    "a JSON field path such as \"generated_at\" or \"items.id\"",
	    cmp_json_path_valid, &sh->ignore_json_fields,
	    &sh->nignore_json_fields);
}

/* fallback: NAME (on unavailable and failure) or { upstream: NAME, on: [...] }. */
static void
conf_load_route_fallback(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;
	struct fallback_conf *f = &r->fallback;

	f->mark = val->mark;
	if (val->kind == CONF_NODE_SCALAR) {
		conf_load_fallback_upstream(x, f, key, val);
		f->on_unavailable = f->on_failure = true;
		return;
	}
	if (val->kind != CONF_NODE_MAP) {
		conf_load_err(x, val,
		    "expected an upstream name or a mapping with \"upstream\"");
		return;
	}
	conf_load_walk(x, f, val, SEC_FALLBACK, SEC_NONE, true);
}

static void
conf_load_fallback_upstream(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct fallback_conf *f = obj;

	(void)key;
	conf_load_upstream_ref(x, val, &f->upstream_name, &f->mark);
}

/* fallback.on: unavailable, failure and statuses 400-599; default the first two. */
static void
conf_load_fallback_on(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct fallback_conf *f = obj;
	char show[64];

	if (key == NULL) {
		f->on_unavailable = f->on_failure = true;
		return;
	}
	f->on_unavailable = f->on_failure = false;
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0)
		conf_load_err(x, val, "expected a non-empty list");
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];
		uint64_t st;
		const char *why;

		if (conf_load_string(x, it, "unavailable, failure or a status") ==
		    NULL)
			continue;
		if (strcmp(it->text, "unavailable") == 0) {
			f->on_unavailable = true;
		} else if (strcmp(it->text, "failure") == 0) {
			f->on_failure = true;
		} else if (units_parse_uint(it->text, 599, &st, &why) == 0 &&
		    st >= 400) {
			f->on_status[(st - 100) / 8] |= (uint8_t)(1u << ((st - 100) % 8));
		} else {
			conf_load_err(x, it,
			    "expected unavailable, failure or a status from 400 "
			    "to 599, got \"%s\"",
			    conf_load_show(it->text, show, sizeof(show)));
		}
	}
}

static void
conf_load_route_respond(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;

	(void)key;
	r->has_respond = true;
	conf_load_walk(x, &r->respond, val, SEC_RESPOND, SEC_NONE, true);
	if (r->respond.body != NULL)
		r->respond.body_len = strlen(r->respond.body);
}

static void
conf_load_route_rewrite(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_conf *r = obj;
	struct route_rewrite *rw = &r->rewrite;
	const struct route_match *m = &r->match;
	const struct conf_node *strip, *repl, *at;
	size_t nerr = x->diag->nerrors;

	(void)key;
	if (!conf_load_is_map(x, val))
		return;
	strip = conf_yaml_get(val, "strip_prefix");
	repl = conf_yaml_get(val, "replace_prefix");
	if (strip != NULL && repl != NULL) {
		conf_load_err(x, val,
		    "a rewrite takes one of \"strip_prefix\" and "
		    "\"replace_prefix\"");
		return;
	}
	if (strip == NULL && repl == NULL && val->npairs == 0) {
		conf_load_err(x, val,
		    "expected { strip_prefix: P } or { replace_prefix: "
		    "{ from: P, to: Q } }");
		return;
	}
	conf_load_walk(x, rw, val, SEC_REWRITE, SEC_NONE, false);
	if (x->diag->nerrors != nerr || rw->from == NULL) {
		free(rw->from);
		free(rw->to);
		rw->from = rw->to = NULL;
		return;
	}
	if (strip != NULL) {
		rw->kind = REWRITE_STRIP_PREFIX;
		rw->to = xstrdup("/");
		at = strip;
	} else {
		rw->kind = REWRITE_REPLACE_PREFIX;
		at = conf_yaml_get(repl, "from");
	}
	/* Every path the route matches must start with `from`. */
	if (m->path_kind == PATH_MATCH_PREFIX || m->path_kind == PATH_MATCH_EXACT) {
		size_t n = strlen(rw->from);
		bool under = strcmp(rw->from, "/") == 0 ||
		    (strncmp(rw->from, m->path, n) == 0 &&
			(m->path[n] == '\0' || m->path[n] == '/'));

		if (!under)
			conf_load_err(x, at,
			    "the rewrite prefix \"%s\" is not a prefix of the "
			    "route's %s \"%s\"",
			    rw->from,
			    m->path_kind == PATH_MATCH_PREFIX ? "path_prefix" :
								"path",
			    m->path);
	} else if (strcmp(rw->from, "/") != 0) {
		conf_load_err(x, at,
		    "a rewrite prefix needs a path_prefix or path match that "
		    "starts with it");
	}
}

static void
conf_load_replace_prefix(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	(void)key;
	if (conf_yaml_is_null(val)) {
		conf_load_err(x, val, "expected { from: P, to: Q }");
		return;
	}
	conf_load_walk(x, obj, val, SEC_REPLACE, SEC_NONE, false);
}

/* ---- match */

/*
 * At most one path condition. conf_load_route_match() reported every one
 * after the first in file order; only that first one is kept.
 */
static bool
conf_load_path_first(const struct conf_load_ctx *x, const struct conf_node *key)
{
	return key->mark.line == x->path_mark.line &&
	    key->mark.col == x->path_mark.col;
}

static void
conf_load_path_prefix(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;
	char *p;

	if (!conf_load_path_first(x, key) ||
	    conf_load_string(x, val, "a path starting with \"/\"") == NULL ||
	    conf_load_path_check(x, val, val->text, true, &p) == -1)
		return;
	m->path_kind = PATH_MATCH_PREFIX;
	m->path = p;
}

static void
conf_load_path_exact(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;
	char *p;

	if (!conf_load_path_first(x, key) ||
	    conf_load_string(x, val, "a path starting with \"/\"") == NULL ||
	    conf_load_path_check(x, val, val->text, false, &p) == -1)
		return;
	m->path_kind = PATH_MATCH_EXACT;
	m->path = p;
}

/*
 * Compiled anchored at both ends (the regex is the whole normalised
 * path), byte-wise (paths are bytes, not UTF-8), JIT when available, and
 * with a match context that bounds backtracking.
 */
static void
conf_load_path_regex(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;
	pcre2_code *re;
	pcre2_match_context *mctx;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int err;

	if (!conf_load_path_first(x, key) ||
	    conf_load_string(x, val, "a regular expression") == NULL)
		return;
	re = pcre2_compile((PCRE2_SPTR)val->text, val->len,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &off, NULL);
	if (re == NULL) {
		if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", err);
		conf_load_err(x, val, "invalid path_regex: %s (at offset %zu)",
		    (const char *)msg, (size_t)off);
		return;
	}
	m->path_kind = PATH_MATCH_REGEX;
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	mctx = pcre2_match_context_create(NULL);
	if (mctx == NULL)
		fatal("out of memory (pcre2 match context)");
	pcre2_set_match_limit(mctx, 100000);
	pcre2_set_depth_limit(mctx, 1000);
	m->path = xstrdup(val->text);
	m->regex = re;
	m->regex_mctx = mctx;
}

static void
conf_load_methods(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;
	char show[64];

	(void)key;
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0) {
		conf_load_err(x, val, "expected a non-empty list of methods");
		return;
	}
	m->methods = xcalloc(val->nitems, sizeof(*m->methods));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];

		if (conf_load_string(x, it, "a method such as \"GET\"") == NULL)
			continue;
		if (!conf_load_token(it->text, true)) {
			conf_load_err(x, it,
			    "expected an upper-case method such as \"GET\", "
			    "got \"%s\"",
			    conf_load_show(it->text, show, sizeof(show)));
			continue;
		}
		m->methods[m->nmethods++] = xstrdup(it->text);
	}
}

static void
conf_load_host(struct conf_load_ctx *x, void *obj, const struct conf_node *key,
    const struct conf_node *val)
{
	struct route_match *m = obj;
	const char *s, *p;
	bool wild, ok = true;
	char *h;

	(void)key;
	s = conf_load_string(x, val,
	    "a host name such as \"shop.example.com\" or \"*.example.com\"");
	if (s == NULL)
		return;
	wild = strncmp(s, "*.", 2) == 0;
	p = wild ? s + 1 : s;
	if (p[0] == '\0' || (wild && p[1] == '\0'))
		ok = false;
	if (p[0] == '[') {
		size_t n = strlen(p);

		ok = !wild && n > 2 && p[n - 1] == ']';
		for (size_t i = 1; ok && i + 1 < n; i++)
			ok = strchr("0123456789abcdefABCDEF:.", p[i]) != NULL;
	} else {
		for (const char *c = p; ok && *c != '\0'; c++)
			ok = (*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
	}
	if (!ok) {
		conf_load_err(x, val,
		    "expected a host name such as \"shop.example.com\" or "
		    "\"*.example.com\" (no port)");
		return;
	}
	h = xstrdup(p);
	for (char *c = h; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	m->host = h;
	m->host_wildcard = wild;
}

enum { CONF_COND_HEADER, CONF_COND_COOKIE, CONF_COND_QUERY };

static void
conf_load_headers(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;

	(void)key;
	conf_load_conds(x, &m->headers, &m->nheaders, val, CONF_COND_HEADER);
}

static void
conf_load_cookies(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;

	(void)key;
	conf_load_conds(x, &m->cookies, &m->ncookies, val, CONF_COND_COOKIE);
}

static void
conf_load_query(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct route_match *m = obj;

	(void)key;
	conf_load_conds(x, &m->query, &m->nquery, val, CONF_COND_QUERY);
}

/* A map of field name -> "exact" | { in } | { in_file } | { present }. */
static void
conf_load_conds(struct conf_load_ctx *x, struct match_cond **arr, size_t *n,
    const struct conf_node *val, int what)
{
	static const char *forms =
	    "a value, { in: [...] }, { in_file: FILE } or { present: true|false }";

	if (!conf_load_is_map(x, val))
		return;
	*arr = xcalloc(val->npairs, sizeof(**arr));
	for (size_t i = 0; i < val->npairs; i++) {
		const struct conf_node *name = val->pairs[i].key;
		const struct conf_node *v = val->pairs[i].value;
		struct match_cond *mc = &(*arr)[*n];
		size_t nforms = 0;

		if ((what == CONF_COND_QUERY && name->len == 0) ||
		    (what != CONF_COND_QUERY &&
			!conf_load_token(name->text, false))) {
			conf_load_err(x, name, "invalid %s name \"%s\"",
			    what == CONF_COND_HEADER   ? "header" :
				what == CONF_COND_COOKIE ? "cookie" :
							   "query parameter",
			    name->text);
			continue;
		}
		if (v->kind == CONF_NODE_BAD)
			continue;
		if (v->kind == CONF_NODE_SCALAR && !conf_yaml_is_null(v)) {
			mc->name = xstrdup(name->text);
			mc->mark = name->mark;
			mc->kind = MATCH_EXACT;
			mc->values = xcalloc(1, sizeof(*mc->values));
			mc->values[0] = xstrdup(v->text);
			mc->nvalues = 1;
			(*n)++;
			continue;
		}
		if (v->kind != CONF_NODE_MAP) {
			conf_load_err(x, v, "expected %s", forms);
			continue;
		}
		nforms = (conf_yaml_get(v, "in") != NULL) +
		    (conf_yaml_get(v, "in_file") != NULL) +
		    (conf_yaml_get(v, "present") != NULL);
		if (nforms != 1 && v->npairs > 0) {
			bool unknown = false;

			for (size_t j = 0; j < v->npairs; j++)
				unknown |= conf_load_find(SEC_COND, SEC_NONE,
					       v->pairs[j].key->text) == NULL;
			if (!unknown) {
				conf_load_err(x, v,
				    "expected exactly one of \"in\", "
				    "\"in_file\" and \"present\"");
				continue;
			}
		}
		if (v->npairs == 0) {
			conf_load_err(x, v, "expected %s", forms);
			continue;
		}
		mc->name = xstrdup(name->text);
		mc->mark = name->mark;
		(*n)++;
		conf_load_walk(x, mc, v, SEC_COND, SEC_NONE, false);
		mc->kind = conf_yaml_get(v, "present") != NULL ? MATCH_PRESENT :
								  MATCH_IN;
	}
}

static void
conf_load_cond_in(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct match_cond *mc = obj;

	(void)key;
	if (!conf_load_is_seq(x, val))
		return;
	if (val->nitems == 0) {
		conf_load_err(x, val, "expected a non-empty list of values");
		return;
	}
	mc->values = xcalloc(val->nitems, sizeof(*mc->values));
	for (size_t i = 0; i < val->nitems; i++) {
		const struct conf_node *it = val->items[i];

		if (conf_load_string(x, it, "a value") == NULL)
			continue;
		mc->values[mc->nvalues++] = xstrdup(it->text);
	}
}

/*
 * One value a line; blank lines and lines starting with '#' are skipped,
 * spaces around a value are not part of it. Relative paths are relative
 * to the configuration file's directory.
 */
static void
conf_load_cond_in_file(struct conf_load_ctx *x, void *obj,
    const struct conf_node *key, const struct conf_node *val)
{
	struct match_cond *mc = obj;
	char *path, *buf, *p, *end;
	size_t len, cap = 0;

	(void)key;
	if (conf_load_string(x, val, "a file name") == NULL)
		return;
	if (x->flags & CONFIG_LOAD_NO_FILES) {
		conf_load_err(x, val, "in_file is disabled here");
		return;
	}
	path = conf_load_resolve(x, val->text);
	if (conf_load_read_file(path, CONF_LOAD_MAX_IN_FILE, &buf, &len) == -1) {
		conf_load_err(x, val, "cannot read in_file \"%s\": %s", path,
		    strerror(errno));
		free(path);
		return;
	}
	for (p = buf; p < buf + len; p = end + 1) {
		char *s, *e;

		end = memchr(p, '\n', (size_t)(buf + len - p));
		if (end == NULL)
			end = buf + len;
		for (s = p; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t' ||
				       e[-1] == '\r');
		     e--)
			;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
			conf_load_err(x, val, "in_file \"%s\" contains a NUL byte",
			    path);
			break;
		}
		if (mc->nvalues == cap) {
			cap = cap ? cap * 2 : 16;
			mc->values = xrealloc(mc->values,
			    cap * sizeof(*mc->values));
		}
		mc->values[mc->nvalues++] = xstrndup(s, (size_t)(e - s));
	}
	if (mc->nvalues == 0)
		conf_load_err(x, val, "in_file \"%s\" has no values", path);
	free(buf);
	free(path);
}

/*
 * Read a whole regular file of at most `max` bytes into a new NUL-
 * terminated buffer. O_NONBLOCK so a FIFO cannot hang the load. Returns
 * 0, or -1 with errno set.
 */
static int
conf_load_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, saved;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* ---- the public API */

static char *
conf_load_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static struct config *
config_load_buf(const char *name, const char *buf, size_t len,
    const char *dir, unsigned flags, struct config_diag *diag)
{
	struct conf_load_ctx x;
	struct conf_node *root;
	size_t nerr0 = diag->nerrors;
	struct config *c;

	root = conf_yaml_parse(name, buf, len, diag);
	if (root == NULL)
		return NULL;

	memset(&x, 0, sizeof(x));
	x.file = name;
	x.dir = xstrdup(dir);
	x.flags = flags;
	x.diag = diag;
	x.routes_mark.line = x.routes_mark.col = 1;
	c = x.c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(name);
	atomic_init(&c->refs, 1);

	conf_load_walk(&x, &x.defaults, NULL, SEC_UPSTREAM_TIMEOUTS, SEC_NONE,
	    true);
	if (root->kind != CONF_NODE_BAD)
		conf_load_walk(&x, c, root, SEC_TOP, SEC_NONE, true);
	if (c->limits.max_target_bytes > c->limits.max_header_bytes) {
		const struct conf_node *lim = conf_yaml_get(root, "limits");
		const struct conf_node *at = conf_yaml_get(lim,
		    "max_target_bytes");

		if (at == NULL)
			at = conf_yaml_get(lim, "max_header_bytes");
		config_diag_error(diag, name, at != NULL ? at->mark : root->mark,
		    "max_target_bytes (%" PRIu64 ") is larger than "
		    "max_header_bytes (%" PRIu64 ")",
		    c->limits.max_target_bytes, c->limits.max_header_bytes);
	}
	if (conf_check_routes(c, diag) == -1)
		goto done;
	if (diag->nerrors == nerr0)
		conf_check_warnings(c, x.routes_mark, diag);
done:
	conf_yaml_free(root);
	free(x.dir);
	free(x.defaults.health_check.path);
	if (diag->nerrors != nerr0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *
config_load_string_flags(const char *name, const char *yaml, size_t len,
    unsigned flags, struct config_diag *diag)
{
	char *dir = conf_load_dirname(name);
	struct config *c;

	c = config_load_buf(name, yaml, len, dir, flags, diag);
	free(dir);
	return c;
}

struct config *
config_load_string(const char *name, const char *yaml, size_t len,
    struct config_diag *diag)
{
	return config_load_string_flags(name, yaml, len, 0, diag);
}

struct config *
config_load(const char *path, struct config_diag *diag)
{
	struct config *c;
	char *buf;
	size_t len;

	if (conf_load_read_file(path, CONF_LOAD_MAX_FILE, &buf, &len) == -1) {
		config_diag_error(diag, path, (struct conf_mark){ 0, 0 },
		    "cannot read the configuration: %s", strerror(errno));
		return NULL;
	}
	c = config_load_string(path, buf, len, diag);
	free(buf);
	return c;
}

struct config *
config_ref(struct config *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void
config_unref(struct config *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

void
config_current_init(struct config_current *c, struct config *cfg)
{
	pthread_mutex_init(&c->mu, NULL);
	c->cfg = config_ref(cfg);
}

void
config_current_free(struct config_current *c)
{
	config_unref(c->cfg);
	c->cfg = NULL;
	pthread_mutex_destroy(&c->mu);
}

struct config *
config_current_get(struct config_current *c)
{
	struct config *cfg;

	pthread_mutex_lock(&c->mu);
	cfg = config_ref(c->cfg);
	pthread_mutex_unlock(&c->mu);
	return cfg;
}

void
config_current_set(struct config_current *c, struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&c->mu);
	old = c->cfg;
	c->cfg = config_ref(cfg);
	pthread_mutex_unlock(&c->mu);
	config_unref(old);
}

static void
conf_load_free_cond(struct match_cond *mc)
{
	for (size_t i = 0; i < mc->nvalues; i++)
		free(mc->values[i]);
	free(mc->values);
	free(mc->name);
}

static void
conf_load_free_route(struct route_conf *r)
{
	struct route_match *m = &r->match;

	free(r->name);
	free(m->path);
	pcre2_code_free(m->regex);
	pcre2_match_context_free(m->regex_mctx);
	for (size_t i = 0; i < m->nmethods; i++)
		free(m->methods[i]);
	free(m->methods);
	free(m->host);
	for (size_t i = 0; i < m->nheaders; i++)
		conf_load_free_cond(&m->headers[i]);
	free(m->headers);
	for (size_t i = 0; i < m->ncookies; i++)
		conf_load_free_cond(&m->cookies[i]);
	free(m->cookies);
	for (size_t i = 0; i < m->nquery; i++)
		conf_load_free_cond(&m->query[i]);
	free(m->query);
	free(r->upstream_name);
	free(r->fallback.upstream_name);
	for (size_t i = 0; i < r->ntargets; i++)
		free(r->targets[i].upstream_name);
	free(r->targets);
	free(r->sticky.cookie);
	free(r->sticky.header);
	free(r->sticky.seed);
	free(r->sticky.table);
	free(r->override.header);
	free(r->override.allow);
	free(r->shadow.upstream_name);
	for (size_t i = 0; i < r->shadow.nignore_headers; i++)
		free(r->shadow.ignore_headers[i]);
	free(r->shadow.ignore_headers);
	for (size_t i = 0; i < r->shadow.nignore_json_fields; i++)
		free(r->shadow.ignore_json_fields[i]);
	free(r->shadow.ignore_json_fields);
	free(r->rewrite.from);
	free(r->rewrite.to);
	free(r->respond.body);
	free(r->respond.content_type);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	/* Runtime state is shared between generations: give this one's back. */
	upstream_rt_detach(c);
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct listener_tls_conf *t = &c->listeners[i].tls;

		free(c->listeners[i].address);
		for (size_t j = 0; j < t->ncerts; j++) {
			free(t->certs[j].cert);
			free(t->certs[j].key);
		}
		free(t->certs);
		tls_server_free(t->ctx);
	}
	free(c->listeners);
	for (size_t i = 0; i < c->nupstreams; i++) {
		struct upstream_conf *u = &c->upstreams[i];

		for (size_t j = 0; j < u->nservers; j++) {
			free(u->servers[j].address);
			free(u->servers[j].host);
		}
		free(u->servers);
		free(u->name);
		free(u->health_check.path);
		free(u->tls.ca);
		free(u->tls.sni);
		tls_client_free(u->tls.ctx);
	}
	free(c->upstreams);
	for (size_t i = 0; i < c->nroutes; i++)
		conf_load_free_route(&c->routes[i]);
	free(c->routes);
	free(c->correlation.header);
	free(c->access_log.path);
	free(c->admin.address);
	free(c->admin.token_file);
	if (c->admin.token != NULL)
		explicit_bzero(c->admin.token, strlen(c->admin.token));
	free(c->admin.token);
	free(c->path);
	free(c);
}

const struct upstream_conf *
config_upstream(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, name) == 0)
			return &c->upstreams[i];
	return NULL;
}
