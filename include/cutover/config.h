/*
 * config: one immutable configuration generation, as loaded from YAML.
 *
 * A `struct config` is built whole by config_load(), checked, and then only
 * read. Everything reachable from it (strings, arrays, compiled regexes) is
 * owned by it and freed by config_free(). Requests hold a reference
 * (config_ref / config_unref) to the generation they started on, so a
 * reload can swap generations under live traffic.
 *
 * Runtime state (pools, counters, later breakers) is NOT here: it lives in
 * runtime structs keyed by upstream name.
 */
#ifndef CUTOVER_CONFIG_H
#define CUTOVER_CONFIG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/breaker.h"
#include "cutover/cidr.h"
#include "cutover/retry.h"
#include "cutover/split.h"

/* Where a node was in the file: 1-based line and column. */
struct conf_mark {
	unsigned line;
	unsigned col;
};

/*
 * Metrics slots: every route, upstream and listener has an `id` below
 * CONF_IDS_MAX that names its counters (metrics.h). The loader sets it to
 * the position in the file; a reload keeps one name on one id, so the
 * counters of a route or an upstream go on across generations.
 */
#define CONF_IDS_MAX 1024

struct tls_server;
struct tls_client;

/* One `certificates` entry of a listener's tls: both paths resolved, owned. */
struct tls_cert_conf {
	char *cert;
	char *key;
	struct conf_mark mark;	   /* the entry: errors about the pair */
	struct conf_mark key_mark; /* its key's value: errors about the key file */
};

/*
 * A listener's `tls`. `ctx` is built at load from the files (so a reload
 * picks up renewed certificates) and owned; NULL when not enabled or when
 * the load did not read files.
 */
struct listener_tls_conf {
	bool enabled;
	struct tls_cert_conf *certs; /* owned array */
	size_t ncerts;
	int min_version; /* TLS1_2_VERSION or TLS1_3_VERSION */
	struct tls_server *ctx;
	struct conf_mark mark;
};

/* An upstream's `tls`; strings and `ctx` owned, as above. */
struct upstream_tls_conf {
	bool enabled;
	bool verify; /* default true */
	char *ca;    /* resolved path; NULL: the system's store */
	char *sni;   /* NULL: each server's host when it is a name */
	struct tls_client *ctx;
	struct conf_mark mark;
};

struct listener_conf {
	char *address; /* as written, "HOST:PORT" or "[V6]:PORT" */
	unsigned id;   /* metrics slot */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	/*
	 * "*:PORT" or ":PORT": every address. `addr` is then [::]:PORT when
	 * the resolver offers IPv6 (bind it with IPV6_V6ONLY off to take
	 * IPv4 too; fall back to 0.0.0.0:PORT if AF_INET6 sockets fail), else
	 * 0.0.0.0:PORT.
	 */
	bool any_address;
	struct listener_tls_conf tls;
	struct conf_mark mark;
};

struct server_conf {
	char *address; /* as written */
	char *host;    /* host part, for the Host header when needed */
	uint16_t port;
	unsigned weight; /* >= 1; default 1 */
	struct sockaddr_storage addr; /* resolved at load time */
	socklen_t addrlen;
	struct conf_mark mark;
};

/* retry: SPEC 4.3. Ratios are parts per million. */
struct retry_conf {
	struct retry_params p;	    /* attempts, on, backoff, max_backoff */
	uint32_t budget_ppm;	    /* default 20% */
	uint32_t budget_window_s;   /* default 10 s */
	uint32_t min_retries_per_second; /* default 3 */
	uint64_t buffer_body;	    /* bytes; default 64 KiB */
};

/* health_check: active checks; `enabled` only when the key is written. */
struct health_check_conf {
	bool enabled;
	char *path;		/* default "/healthz"; owned */
	uint64_t interval_ms;	/* default 5 s */
	uint64_t timeout_ms;	/* default 1 s */
	uint32_t healthy;	/* default 2 */
	uint32_t unhealthy;	/* default 3 */
	struct conf_mark mark;
};

struct upstream_rt;

/* Timeouts are milliseconds; 0 means "none" where the spec allows it. */
struct upstream_conf {
	char *name;
	struct server_conf *servers;
	size_t nservers;
	uint64_t connect_timeout_ms;
	uint64_t response_timeout_ms;
	uint64_t read_timeout_ms;
	uint64_t request_timeout_ms; /* 0 = no whole-request deadline */
	uint64_t idle_timeout_ms;
	uint32_t max_connections;    /* bulkhead: connections in use at once, all workers */
	uint32_t max_pending;	     /* requests allowed to wait for one */
	uint64_t pending_timeout_ms; /* longest such wait */
	struct breaker_params breaker; /* probe_lease_ms = response_timeout_ms */
	struct retry_conf retry;
	struct health_check_conf health_check;
	struct upstream_tls_conf tls;
	struct upstream_rt *rt; /* runtime state (pools too): attached before serving; NULL only in unit tests, which never proxy */
	size_t index; /* position in config.upstreams */
	unsigned id;  /* metrics slot */
	struct conf_mark mark;
};

enum match_kind {
	MATCH_EXACT = 0, /* value equals values[0] */
	MATCH_IN,	 /* value is one of values[] (from `in` or `in_file`) */
	MATCH_PRESENT,	 /* field present (present: true) or absent (false) */
};

/* One condition on a header, cookie or query parameter. */
struct match_cond {
	char *name; /* header names compare case-insensitively; cookies and query exactly */
	enum match_kind kind;
	char **values;
	size_t nvalues;
	bool present; /* MATCH_PRESENT: true = must be present, false = absent */
	struct conf_mark mark;
};

enum path_match_kind {
	PATH_MATCH_ANY = 0, /* no path condition */
	PATH_MATCH_PREFIX,  /* segment-aware prefix */
	PATH_MATCH_EXACT,
	PATH_MATCH_REGEX, /* PCRE2, anchored on the whole normalised path */
};

struct route_match {
	enum path_match_kind path_kind;
	char *path;	/* prefix (trailing '/' removed, "/" kept) or exact path or regex source */
	void *regex;	/* pcre2_code * when PATH_MATCH_REGEX (opaque here) */
	void *regex_mctx; /* pcre2_match_context * with the match limit */
	char **methods; /* upper-case tokens; NULL/0 = any */
	size_t nmethods;
	char *host;	   /* lower-case; NULL = any */
	bool host_wildcard; /* host was "*.example.com": `host` holds ".example.com" */
	struct match_cond *headers;
	size_t nheaders;
	struct match_cond *cookies;
	size_t ncookies;
	struct match_cond *query;
	size_t nquery;
};

enum rewrite_kind {
	REWRITE_NONE = 0,
	REWRITE_STRIP_PREFIX,	/* from = prefix, to = "/" */
	REWRITE_REPLACE_PREFIX, /* from -> to */
};

struct route_rewrite {
	enum rewrite_kind kind;
	char *from; /* normalised: no trailing '/' unless it is "/" */
	char *to;   /* likewise; "/" for REWRITE_STRIP_PREFIX */
};

struct route_respond {
	int status;
	char *body; /* may be NULL (empty body) */
	size_t body_len;
	char *content_type; /* default "text/plain" */
};

/* fallback: SPEC 4.4. */
struct fallback_conf {
	char *upstream_name;		/* NULL: no fallback */
	struct upstream_conf *upstream; /* resolved by name at load */
	bool on_unavailable;		/* breaker open, no capacity, all servers down */
	bool on_failure;		/* every try failed (replay-safe requests) */
	uint8_t on_status[75];		/* bit (s - 100): these statuses hand over (replay-safe requests) */
	struct conf_mark mark;
};

/* Is status `s` in the fallback's `on` list? */
static inline bool
fallback_on_status(const struct fallback_conf *f, int s)
{
	return s >= 100 && s < 700 &&
	    (f->on_status[(s - 100) / 8] & (1u << ((s - 100) % 8))) != 0;
}

/* One target of a route: its own `upstream`, or one entry of `split`. */
struct route_target {
	char *upstream_name;
	struct upstream_conf *upstream; /* resolved by name at load */
	uint32_t weight;		/* split share; 1 for a single upstream */
	struct conf_mark mark;
};

/* sticky: the key (one cookie or one header) and its bucket table. */
struct sticky_conf {
	bool enabled;
	char *cookie;		    /* exactly one of cookie and header */
	char *header;
	char *seed;		    /* NULL: the route's name */
	struct split_key key;	    /* from the seed, at load */
	struct split_table *table;  /* owned; built at load */
	struct conf_mark mark;
};

/* override: testers name a target in a header, from allowed addresses. */
struct override_conf {
	bool enabled;
	char *header;		/* default "X-Cutover-Upstream" */
	struct cidr *allow;	/* allow_from; owned */
	size_t nallow;
	struct conf_mark mark;
};

/*
 * shadow: a copy of matching requests goes to another upstream, whose
 * answer is compared with the primary's and never sent (SPEC 4.5).
 */
struct shadow_conf {
	bool enabled;
	char *upstream_name;
	struct upstream_conf *upstream; /* resolved by name at load */
	uint32_t percent_ppm;	 /* share of matching requests, parts per million */
	uint32_t methods;	 /* bit per enum http_method; default GET, HEAD */
	uint32_t max_inflight;	 /* copies in flight for this route, all workers; default 64 */
	uint64_t max_body;	 /* request body bytes a copy may carry; default 64 KiB */
	bool compare;		 /* `compare` written: answers are compared */
	char **ignore_headers;	 /* compare.ignore_headers; owned */
	size_t nignore_headers;
	char **ignore_json_fields; /* compare.ignore_json_fields; owned */
	size_t nignore_json_fields;
	/*
	 * Copies in flight. The one counter kept in a generation: it
	 * belongs to it the way `refs` does (a copy holds its generation).
	 */
	atomic_uint inflight;
	struct conf_mark mark;
};

struct route_conf {
	char *name;
	bool active;
	struct route_match match;
	char *upstream_name;	     /* NULL for respond routes */
	struct upstream_conf *upstream; /* resolved by name at load; a split's first target */
	struct route_target *targets;	/* the upstream, or the split's entries; owned */
	size_t ntargets;
	bool has_split;
	struct sticky_conf sticky;
	struct override_conf override;
	struct shadow_conf shadow;
	struct route_rewrite rewrite;
	struct fallback_conf fallback;
	bool has_respond;
	struct route_respond respond;
	/*
	 * The catch-all: the last active route that matches every request
	 * (path_prefix "/" or no path, no other condition) and sends it to an
	 * upstream. What reaches it is what is not yet carved out (/migration).
	 */
	bool catch_all;
	size_t index; /* position in config.routes */
	unsigned id;  /* metrics slot */
	struct conf_mark mark;		/* the route's mapping */
	struct conf_mark upstream_mark; /* its `upstream` value (0:0 if none) */
};

struct limits_conf {
	uint64_t max_connections; /* default 10000 */
	uint64_t max_header_bytes; /* default 32 KiB */
	uint64_t max_target_bytes; /* default 8 KiB */
	uint64_t max_headers;	   /* default 100 */
	uint64_t max_body_bytes;   /* 0 = unlimited */
};

struct client_timeouts_conf {
	uint64_t header_ms; /* default 10 s */
	uint64_t body_ms;   /* default 30 s */
	uint64_t send_ms;   /* default 60 s */
	uint64_t idle_ms;   /* default 60 s */
};

enum reqid_generator {
	REQID_GEN_UUID7 = 0,
	REQID_GEN_UUID4,
};

/* correlation: the request ID header (SPEC section 3). */
struct correlation_conf {
	char *header;	      /* default "X-Request-ID" */
	bool accept_incoming; /* default true: keep a well-formed incoming ID */
	enum reqid_generator generate; /* default uuid7 */
	bool echo;	      /* default true: set it on the response too */
	bool traceparent;     /* default true: W3C Trace Context */
};

enum access_log_format {
	ACCESS_LOG_JSON = 0, /* the only format of this version */
};

/* access_log: one JSON line a request. */
struct access_log_conf {
	bool enabled;	/* false for "off" */
	bool to_stdout; /* "stdout" (the default) */
	char *path;	/* a file, resolved against the config's directory; NULL otherwise */
	/*
	 * The loader checks that the file's directory exists but never opens
	 * the file: the running process does (and reopens it on SIGUSR1).
	 */
	enum access_log_format format; /* default json */
};

/* admin: the admin API listener; only when the section is present. */
struct admin_conf {
	bool enabled;
	char *address; /* default "127.0.0.1:9901" */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *token_file; /* NULL: no authentication */
	char *token;	  /* the file's first line, read at load; NULL without token_file */
	struct conf_mark mark;
	/*
	 * Added for the loader: `mark` is the address value when written,
	 * else the `admin` key. "*:PORT" / ":PORT" set any_address, as for
	 * listeners (addr is then [::]:PORT when IPv6 is offered). token_file
	 * holds the resolved path; token is zeroed before it is freed.
	 */
	bool any_address;
};

/*
 * One configuration generation. Allocated by config_load(), freed by
 * config_free() (directly, or by the last config_unref()).
 */
struct config {
	char *path; /* the file it came from */
	atomic_int refs;

	struct listener_conf *listeners;
	size_t nlisteners;

	unsigned workers; /* resolved: "auto" is the CPU count at load */
	uint64_t shutdown_timeout_ms;
	bool watch; /* reload when the file changes (SPEC 4.6) */

	struct limits_conf limits;
	struct client_timeouts_conf client_timeouts;
	struct correlation_conf correlation;
	struct access_log_conf access_log;
	struct admin_conf admin;

	struct upstream_conf *upstreams;
	size_t nupstreams;

	struct route_conf *routes;
	size_t nroutes;
};

/*
 * The generation served now, for threads that read it while a reload may
 * swap it: each read takes a reference under `mu`. One per process (the
 * reload state holds it; the admin API borrows it). Owner: whoever called
 * config_current_init; it holds one reference until config_current_free.
 */
struct config_current {
	pthread_mutex_t mu;
	struct config *cfg;
};

void config_current_init(struct config_current *c, struct config *cfg);
void config_current_free(struct config_current *c);
/* The generation served now, referenced (config_unref it). */
struct config *config_current_get(struct config_current *c);
/* Serve `cfg` from now on (takes a reference; drops the old one). */
void config_current_set(struct config_current *c, struct config *cfg);

/*
 * Diagnostics gathered while loading: every error and warning, each
 * formatted "FILE:LINE:COL: message" (warnings "FILE:LINE:COL: warning:
 * message"). Owner: the caller (config_diag_init / config_diag_free).
 */
struct config_diag {
	char **errors;
	size_t nerrors;
	char **warnings;
	size_t nwarnings;
};

void config_diag_init(struct config_diag *d);
void config_diag_free(struct config_diag *d);
/* Add "FILE:LINE:COL: message" to d->errors. */
void config_diag_error(struct config_diag *d, const char *file,
    struct conf_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Add "FILE:LINE:COL: warning: message" to d->warnings. */
void config_diag_warning(struct config_diag *d, const char *file,
    struct conf_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Load and check `path`. On success returns a new generation (refs = 1)
 * and may add warnings to `diag`. On failure returns NULL with at least
 * one error in `diag`; nothing else changed.
 */
struct config *config_load(const char *path, struct config_diag *diag)
    __attribute__((warn_unused_result));

/* Same, from a string (for unit tests and fuzzing); `name` is the FILE. */
struct config *config_load_string(const char *name, const char *yaml,
    size_t len, struct config_diag *diag) __attribute__((warn_unused_result));

/* Loader options for config_load_string_flags(). */
#define CONFIG_LOAD_NO_DNS 0x01	  /* only numeric addresses; never resolve */
#define CONFIG_LOAD_NO_FILES 0x02 /* in_file is an error (nothing is read) */

/*
 * config_load_string() with options; the fuzzer passes both, so mutated
 * input can neither query DNS nor read (or block on) arbitrary files.
 */
struct config *config_load_string_flags(const char *name, const char *yaml,
    size_t len, unsigned flags, struct config_diag *diag)
    __attribute__((warn_unused_result));

struct config *config_ref(struct config *c);
void config_unref(struct config *c);
void config_free(struct config *c);

/* Upstream by name, or NULL. */
const struct upstream_conf *config_upstream(const struct config *c,
    const char *name);

#endif /* CUTOVER_CONFIG_H */
