/*
 * conf_yaml: a YAML document as a small tree of nodes, each with its place
 * in the file, built from libyaml events.
 *
 * Only what a configuration needs: scalars, sequences and mappings (keys
 * in file order). Aliases and anchors are refused (positions stay honest
 * and a "billion laughs" cannot expand), as are duplicate mapping keys,
 * non-scalar keys, NUL bytes in scalars, more than one document and
 * nesting deeper than CONF_YAML_MAX_DEPTH. Tags are ignored.
 */
#ifndef CUTOVER_CONF_YAML_H
#define CUTOVER_CONF_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"

#define CONF_YAML_MAX_DEPTH 64

enum conf_node_kind {
	CONF_NODE_SCALAR = 0,
	CONF_NODE_SEQ,
	CONF_NODE_MAP,
	/*
	 * Stands where an error was already reported (an alias): later passes
	 * skip it silently, so one mistake is reported once.
	 */
	CONF_NODE_BAD,
};

struct conf_pair;

/*
 * One node. Allocated by conf_yaml_parse(); the whole tree is freed by
 * conf_yaml_free() on the root. Children are owned by their parent.
 */
struct conf_node {
	enum conf_node_kind kind;
	struct conf_mark mark; /* 1-based */
	/* CONF_NODE_SCALAR */
	char *text; /* NUL-terminated, no NUL inside */
	size_t len;
	bool plain; /* unquoted: only plain scalars can be null */
	/* CONF_NODE_SEQ */
	struct conf_node **items;
	size_t nitems;
	/* CONF_NODE_MAP: in file order, keys unique, keys are scalars */
	struct conf_pair *pairs;
	size_t npairs;
};

struct conf_pair {
	struct conf_node *key;
	struct conf_node *value;
};

/*
 * Parse `len` bytes of YAML. Errors go to `diag` as "FILE:LINE:COL: ...",
 * with `file` as FILE. Returns the root (an empty document is a null
 * scalar), or NULL after a syntax error, in which case nothing is left
 * allocated. A tree may be returned together with errors (duplicate keys,
 * aliases): the caller checks diag->nerrors. Owner: the caller, who frees
 * it with conf_yaml_free().
 */
struct conf_node *conf_yaml_parse(const char *file, const char *buf,
    size_t len, struct config_diag *diag) __attribute__((warn_unused_result));

void conf_yaml_free(struct conf_node *n);

/* The value for `key` in mapping `map`, or NULL. */
const struct conf_node *conf_yaml_get(const struct conf_node *map,
    const char *key);

/* A plain "", "~" or "null" (any case as YAML 1.1 spells it). */
bool conf_yaml_is_null(const struct conf_node *n);

#endif /* CUTOVER_CONF_YAML_H */
