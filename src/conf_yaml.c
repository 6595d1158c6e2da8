/*
 * conf_yaml: libyaml events to a node tree with 1-based line:column.
 *
 * The tree is built by a recursive descent over the event stream, bounded
 * by CONF_YAML_MAX_DEPTH, so a hostile file cannot exhaust the stack.
 * Problems that leave the tree usable (duplicate keys, aliases, anchors)
 * are reported and parsing goes on, so one run shows them all; a syntax
 * error stops it (libyaml cannot resume) and frees what was built.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cutover/conf_yaml.h"
#include "cutover/strbuf.h"

/* State of one parse. Lives on conf_yaml_parse()'s stack. */
struct conf_yaml_ctx {
	yaml_parser_t parser;
	const char *file;
	const char *buf;
	size_t len;
	struct config_diag *diag;
};

static struct conf_mark conf_yaml_mark(yaml_mark_t m);
static struct conf_mark conf_yaml_offset_mark(const struct conf_yaml_ctx *x,
    size_t off);
static void conf_yaml_syntax_error(struct conf_yaml_ctx *x);
static int conf_yaml_next(struct conf_yaml_ctx *x, yaml_event_t *ev);
static struct conf_node *conf_yaml_new(enum conf_node_kind kind,
    yaml_mark_t m);
static void conf_yaml_anchor(struct conf_yaml_ctx *x, const yaml_char_t *a,
    yaml_mark_t m);
static struct conf_node *conf_yaml_node(struct conf_yaml_ctx *x,
    yaml_event_t *ev, unsigned depth);
static struct conf_node *conf_yaml_seq(struct conf_yaml_ctx *x,
    struct conf_node *n, unsigned depth);
static struct conf_node *conf_yaml_map(struct conf_yaml_ctx *x,
    struct conf_node *n, unsigned depth);

static struct conf_mark
conf_yaml_mark(yaml_mark_t m)
{
	struct conf_mark r = { (unsigned)m.line + 1, (unsigned)m.column + 1 };

	return r;
}

/* Reader errors carry a byte offset, not a mark: count lines ourselves. */
static struct conf_mark
conf_yaml_offset_mark(const struct conf_yaml_ctx *x, size_t off)
{
	struct conf_mark r = { 1, 1 };

	for (size_t i = 0; i < off && i < x->len; i++) {
		unsigned char c = (unsigned char)x->buf[i];

		if (c == '\n') {
			r.line++;
			r.col = 1;
		} else if ((c & 0xc0) != 0x80) {
			r.col++;
		}
	}
	return r;
}

static void
conf_yaml_syntax_error(struct conf_yaml_ctx *x)
{
	const yaml_parser_t *p = &x->parser;
	const char *problem = p->problem != NULL ? p->problem : "invalid YAML";
	struct conf_mark m;

	if (p->error == YAML_MEMORY_ERROR) {
		config_diag_error(x->diag, x->file, conf_yaml_offset_mark(x, 0),
		    "out of memory while parsing YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		m = conf_yaml_offset_mark(x, p->problem_offset);
		config_diag_error(x->diag, x->file, m, "syntax error: %s",
		    problem);
		return;
	}
	m = conf_yaml_mark(p->problem_mark);
	if (p->context != NULL) {
		struct conf_mark c = conf_yaml_mark(p->context_mark);

		config_diag_error(x->diag, x->file, m,
		    "syntax error: %s (%s at %u:%u)", problem, p->context,
		    c.line, c.col);
	} else {
		config_diag_error(x->diag, x->file, m, "syntax error: %s",
		    problem);
	}
}

/* Next event, or -1 after reporting the syntax error. */
static int
conf_yaml_next(struct conf_yaml_ctx *x, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&x->parser, ev)) {
		conf_yaml_syntax_error(x);
		return -1;
	}
	return 0;
}

static struct conf_node *
conf_yaml_new(enum conf_node_kind kind, yaml_mark_t m)
{
	struct conf_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->mark = conf_yaml_mark(m);
	return n;
}

static void
conf_yaml_anchor(struct conf_yaml_ctx *x, const yaml_char_t *a, yaml_mark_t m)
{
	if (a != NULL)
		config_diag_error(x->diag, x->file, conf_yaml_mark(m),
		    "anchors are not supported");
}

/*
 * The node that starts with `ev` (which the caller deletes). Consumes the
 * events of its children. NULL after a syntax error or too deep a nesting.
 */
static struct conf_node *
conf_yaml_node(struct conf_yaml_ctx *x, yaml_event_t *ev, unsigned depth)
{
	struct conf_node *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		conf_yaml_anchor(x, ev->data.scalar.anchor, ev->start_mark);
		n = conf_yaml_new(CONF_NODE_SCALAR, ev->start_mark);
		n->len = ev->data.scalar.length;
		n->text = xstrndup((const char *)ev->data.scalar.value, n->len);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (strlen(n->text) != n->len) {
			config_diag_error(x->diag, x->file, n->mark,
			    "NUL bytes are not allowed");
			n->kind = CONF_NODE_BAD;
		}
		return n;
	case YAML_ALIAS_EVENT:
		config_diag_error(x->diag, x->file,
		    conf_yaml_mark(ev->start_mark), "aliases are not supported");
		return conf_yaml_new(CONF_NODE_BAD, ev->start_mark);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= CONF_YAML_MAX_DEPTH) {
			config_diag_error(x->diag, x->file,
			    conf_yaml_mark(ev->start_mark),
			    "nesting deeper than %d levels",
			    CONF_YAML_MAX_DEPTH);
			return NULL;
		}
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			conf_yaml_anchor(x, ev->data.sequence_start.anchor,
			    ev->start_mark);
			n = conf_yaml_new(CONF_NODE_SEQ, ev->start_mark);
			return conf_yaml_seq(x, n, depth);
		}
		conf_yaml_anchor(x, ev->data.mapping_start.anchor,
		    ev->start_mark);
		n = conf_yaml_new(CONF_NODE_MAP, ev->start_mark);
		return conf_yaml_map(x, n, depth);
	default:
		/* libyaml only yields node events here. */
		config_diag_error(x->diag, x->file,
		    conf_yaml_mark(ev->start_mark), "unexpected YAML event");
		return NULL;
	}
}

static struct conf_node *
conf_yaml_seq(struct conf_yaml_ctx *x, struct conf_node *n, unsigned depth)
{
	yaml_event_t ev;
	size_t cap = 0;

	for (;;) {
		struct conf_node *child;

		if (conf_yaml_next(x, &ev) == -1)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return n;
		}
		child = conf_yaml_node(x, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (child == NULL)
			goto fail;
		if (n->nitems == cap) {
			cap = cap ? cap * 2 : 4;
			n->items = xrealloc(n->items, cap * sizeof(*n->items));
		}
		n->items[n->nitems++] = child;
	}
fail:
	conf_yaml_free(n);
	return NULL;
}

static struct conf_node *
conf_yaml_map(struct conf_yaml_ctx *x, struct conf_node *n, unsigned depth)
{
	yaml_event_t ev;
	size_t cap = 0;

	for (;;) {
		struct conf_node *key, *value;
		const struct conf_node *first = NULL;

		if (conf_yaml_next(x, &ev) == -1)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return n;
		}
		key = conf_yaml_node(x, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (key == NULL)
			goto fail;
		if (conf_yaml_next(x, &ev) == -1) {
			conf_yaml_free(key);
			goto fail;
		}
		value = conf_yaml_node(x, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (value == NULL) {
			conf_yaml_free(key);
			goto fail;
		}
		if (key->kind == CONF_NODE_SCALAR) {
			for (size_t i = 0; i < n->npairs && first == NULL; i++)
				if (strcmp(n->pairs[i].key->text, key->text) == 0)
					first = n->pairs[i].key;
		}
		if (key->kind != CONF_NODE_SCALAR || first != NULL) {
			if (key->kind == CONF_NODE_SEQ ||
			    key->kind == CONF_NODE_MAP)
				config_diag_error(x->diag, x->file, key->mark,
				    "mapping keys must be scalars");
			else if (first != NULL)
				config_diag_error(x->diag, x->file, key->mark,
				    "duplicate key \"%s\" (first at %u:%u)",
				    key->text, first->mark.line,
				    first->mark.col);
			conf_yaml_free(key);
			conf_yaml_free(value);
			continue;
		}
		if (n->npairs == cap) {
			cap = cap ? cap * 2 : 4;
			n->pairs = xrealloc(n->pairs, cap * sizeof(*n->pairs));
		}
		n->pairs[n->npairs].key = key;
		n->pairs[n->npairs].value = value;
		n->npairs++;
	}
fail:
	conf_yaml_free(n);
	return NULL;
}

struct conf_node *
conf_yaml_parse(const char *file, const char *buf, size_t len,
    struct config_diag *diag)
{
	struct conf_yaml_ctx x;
	struct conf_node *root = NULL;
	yaml_event_t ev;
	bool done = false;

	memset(&x, 0, sizeof(x));
	x.file = file;
	x.buf = buf;
	x.len = len;
	x.diag = diag;
	if (!yaml_parser_initialize(&x.parser)) {
		config_diag_error(diag, file, conf_yaml_offset_mark(&x, 0),
		    "out of memory while parsing YAML");
		return NULL;
	}
	yaml_parser_set_input_string(&x.parser, (const unsigned char *)buf, len);

	while (!done) {
		if (conf_yaml_next(&x, &ev) == -1)
			goto fail;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root != NULL) {
				config_diag_error(diag, file,
				    conf_yaml_mark(ev.start_mark),
				    "only one YAML document is allowed");
				done = true;
			}
			break;
		default:
			root = conf_yaml_node(&x, &ev, 0);
			if (root == NULL) {
				yaml_event_delete(&ev);
				goto fail;
			}
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&x.parser);
	if (root == NULL) {
		/* An empty stream: a null document at the top. */
		root = xcalloc(1, sizeof(*root));
		root->kind = CONF_NODE_SCALAR;
		root->mark.line = 1;
		root->mark.col = 1;
		root->text = xstrdup("");
		root->plain = true;
	}
	return root;
fail:
	yaml_parser_delete(&x.parser);
	conf_yaml_free(root);
	return NULL;
}

void
conf_yaml_free(struct conf_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nitems; i++)
		conf_yaml_free(n->items[i]);
	for (size_t i = 0; i < n->npairs; i++) {
		conf_yaml_free(n->pairs[i].key);
		conf_yaml_free(n->pairs[i].value);
	}
	free(n->items);
	free(n->pairs);
	free(n->text);
	free(n);
}

const struct conf_node *
conf_yaml_get(const struct conf_node *map, const char *key)
{
	if (map == NULL || map->kind != CONF_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++)
		if (strcmp(map->pairs[i].key->text, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

bool
conf_yaml_is_null(const struct conf_node *n)
{
	if (n == NULL || n->kind != CONF_NODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 ||
	    strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	    strcmp(n->text, "NULL") == 0;
}
