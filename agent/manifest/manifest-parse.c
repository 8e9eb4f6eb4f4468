/* Manifest parsing: YAML (libyaml event API; multi-document, anchors/aliases with an
 * expansion limit, merge keys) or JSON (cJSON) into one cJSON object per document, each
 * with a map from Kubernetes field paths ("spec.containers[0].image") to source lines.
 * "kind: List" documents are flattened into their items. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "json-util.h"
#include "manifest-doc.h"
#include "util.h"

/* Nodes reachable through aliases that one document may expand to ("billion laughs"). */
#define EXPANDED_NODES_MAX 100000
/* Nesting depth of collections; deeper documents are refused rather than recursed into. */
#define NESTING_MAX 256

typedef enum YNodeType { YN_SCALAR, YN_SEQ, YN_MAP, YN_ALIAS } YNodeType;

typedef struct YNode YNode;
struct YNode {
        YNodeType type;
        unsigned line;
        char *value;   /* scalar text */
        bool plain;    /* unquoted, untagged scalar: typed like sigs.k8s.io/yaml */
        YNode **items; /* seq: items; map: key, value, key, value ... */
        size_t n, allocated;
        YNode *target; /* alias: the anchored node */
};

typedef struct Anchor {
        char *name;
        YNode *node;
        bool done;
} Anchor;

typedef struct Parser {
        yaml_parser_t yp;
        const char *source;
        YNode **all; /* every node of the current document, for freeing */
        size_t n_all, allocated_all;
        Anchor *anchors;
        size_t n_anchors, allocated_anchors;
        size_t expanded;
        unsigned alias_depth;
        char **ret_error;
        cJSON **plain; /* manifest_parse_plain(): the one document, unchecked */
} Parser;

/* --- YAML: events -> node tree (anchors resolved) -> cJSON --- */

static void parser_reset_doc(Parser *P)
{
        for (size_t i = 0; i < P->n_all; i++) {
                free(P->all[i]->value);
                free(P->all[i]->items);
                free(P->all[i]);
        }
        P->n_all = 0;
        for (size_t i = 0; i < P->n_anchors; i++)
                free(P->anchors[i].name);
        P->n_anchors = 0;
        P->expanded = 0;
        P->alias_depth = 0;
}

static void parser_done(Parser *P)
{
        parser_reset_doc(P);
        free(P->all);
        free(P->anchors);
        yaml_parser_delete(&P->yp);
}

static int node_fail(Parser *P, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int node_fail(Parser *P, unsigned line, const char *fmt, ...)
{
        char prefix[64];
        va_list ap;
        int r;

        snprintf(prefix, sizeof prefix, "error converting YAML to JSON: yaml: line %u: ", line);
        va_start(ap, fmt);
        r = manifest_doc_failv(P->ret_error, P->source, line, prefix, fmt, ap);
        va_end(ap);
        return r;
}

static int yaml_fail(Parser *P)
{
        unsigned line;

        if (P->yp.error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        line = (unsigned)(P->yp.problem_mark.line ? P->yp.problem_mark.line : P->yp.context_mark.line) + 1;
        return node_fail(P, line, "%s",
                         P->yp.problem ? P->yp.problem : "unknown problem parsing YAML content");
}

static YNode *ynode_new(Parser *P, YNodeType type, unsigned line)
{
        YNode *n;

        if (P->n_all == P->allocated_all) {
                size_t a = P->allocated_all ? P->allocated_all * 2 : 64;
                YNode **all = realloc(P->all, a * sizeof(YNode *));

                if (!all)
                        return NULL;
                P->all = all;
                P->allocated_all = a;
        }
        n = calloc(1, sizeof(YNode));
        if (!n)
                return NULL;
        P->all[P->n_all++] = n;
        n->type = type;
        n->line = line;
        return n;
}

static int ynode_append(YNode *parent, YNode *child)
{
        if (parent->n == parent->allocated) {
                size_t a = parent->allocated ? parent->allocated * 2 : 8;
                YNode **items = realloc(parent->items, a * sizeof(YNode *));

                if (!items)
                        return -ENOMEM;
                parent->items = items;
                parent->allocated = a;
        }
        parent->items[parent->n++] = child;
        return 0;
}

/* Registers an anchor; returns its index (or -ENOMEM); no anchor -> SIZE_MAX-like -1. */
static int anchor_add(Parser *P, const unsigned char *name, YNode *node, bool done, ssize_t *ret_index)
{
        *ret_index = -1;
        if (!name)
                return 0;
        if (P->n_anchors == P->allocated_anchors) {
                size_t a = P->allocated_anchors ? P->allocated_anchors * 2 : 8;
                Anchor *anchors = realloc(P->anchors, a * sizeof(Anchor));

                if (!anchors)
                        return -ENOMEM;
                P->anchors = anchors;
                P->allocated_anchors = a;
        }
        P->anchors[P->n_anchors] = (Anchor){.name = strdup((const char *)name), .node = node, .done = done};
        if (!P->anchors[P->n_anchors].name)
                return -ENOMEM;
        *ret_index = (ssize_t)P->n_anchors++;
        return 0;
}

static const Anchor *anchor_find(const Parser *P, const char *name)
{
        for (size_t i = P->n_anchors; i > 0; i--)
                if (streq(P->anchors[i - 1].name, name))
                        return &P->anchors[i - 1];
        return NULL;
}

static int parse_node(Parser *P, yaml_event_t *ev, unsigned depth, YNode **ret);

static int parse_collection(Parser *P, yaml_event_t *ev, unsigned depth, YNode **ret)
{
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        unsigned line = (unsigned)ev->start_mark.line + 1;
        YNode *n;
        ssize_t ai;
        int r;

        if (depth >= NESTING_MAX)
                return node_fail(P, line, "exceeded max depth of %d", NESTING_MAX);
        n = ynode_new(P, seq ? YN_SEQ : YN_MAP, line);
        if (!n)
                return -ENOMEM;
        r = anchor_add(P, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor, n, false,
                       &ai);
        if (r < 0)
                return r;
        for (;;) {
                yaml_event_t child;
                YNode *c = NULL;

                if (!yaml_parser_parse(&P->yp, &child))
                        return yaml_fail(P);
                if (child.type == YAML_SEQUENCE_END_EVENT || child.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&child);
                        break;
                }
                r = parse_node(P, &child, depth + 1, &c);
                yaml_event_delete(&child);
                if (r < 0)
                        return r;
                if (ynode_append(n, c) < 0)
                        return -ENOMEM;
        }
        if (ai >= 0)
                P->anchors[ai].done = true;
        *ret = n;
        return 0;
}

static int parse_node(Parser *P, yaml_event_t *ev, unsigned depth, YNode **ret)
{
        unsigned line = (unsigned)ev->start_mark.line + 1;
        const Anchor *a;
        YNode *n;
        ssize_t ai;

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                a = anchor_find(P, (const char *)ev->data.alias.anchor);
                if (!a)
                        return node_fail(P, line, "unknown anchor '%s' referenced", ev->data.alias.anchor);
                if (!a->done)
                        return node_fail(P, line, "anchor '%s' value contains itself",
                                         ev->data.alias.anchor);
                n = ynode_new(P, YN_ALIAS, line);
                if (!n)
                        return -ENOMEM;
                n->target = a->node;
                *ret = n;
                return 0;
        case YAML_SCALAR_EVENT: {
                const char *tag = (const char *)ev->data.scalar.tag;

                n = ynode_new(P, YN_SCALAR, line);
                if (!n)
                        return -ENOMEM;
                n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
                if (!n->value)
                        return -ENOMEM;
                /* Quoted scalars, block scalars and "!!str"/"!" tags are strings; other tags
                 * ("!!int") are resolved like untagged plain scalars. */
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                           (!tag || (!streq(tag, YAML_STR_TAG) && !streq(tag, "!")));
                *ret = n;
                return anchor_add(P, ev->data.scalar.anchor, n, true, &ai);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                return parse_collection(P, ev, depth, ret);
        default:
                return node_fail(P, line, "unexpected YAML event");
        }
}

/* Typing of plain scalars, as sigs.k8s.io/yaml (go-yaml v2) resolves them, except the YAML
 * 1.1 words yes/no/on/off/y/n: go-yaml v2 turns them into bools, which then fail to decode
 * into string fields ("value: yes" in an env var). berth keeps them strings, silently:
 * every place where Kubernetes expects a bool rejects them anyway ("must be a boolean"),
 * and string fields get what the user wrote. ".inf"/".nan" stay strings too (JSON has no
 * such numbers). */
static bool is_null_word(const char *s)
{
        return !s[0] || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int bool_word(const char *s)
{
        if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                return 1;
        if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                return 0;
        return -1;
}

/* Go's strconv.ParseInt(s, 0, 64) grammar: sign, then 0x/0o/0b prefixes or a leading 0
 * for octal, else decimal. */
static bool parse_int(const char *s, double *ret)
{
        const char *p = s;
        unsigned long long v = 0;
        bool neg = false;
        unsigned base = 10;

        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                base = 16, p += 2;
        else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
                base = 8, p += 2;
        else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
                base = 2, p += 2;
        else if (p[0] == '0' && p[1])
                base = 8, p += 1;
        if (!*p)
                return false;
        for (; *p; p++) {
                unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                             : isxdigit((unsigned char)*p)
                                 ? (unsigned)(tolower((unsigned char)*p) - 'a' + 10)
                                 : 99;

                if (d >= base || v > (ULLONG_MAX - d) / base)
                        return false;
                v = v * base + d;
        }
        *ret = neg ? -(double)v : (double)v;
        return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool parse_float(const char *s, double *ret)
{
        const char *p = s;
        size_t digits = 0;
        char *end;

        if (*p == '+' || *p == '-')
                p++;
        for (; isdigit((unsigned char)*p); p++)
                digits++;
        if (*p == '.') {
                size_t frac = 0;

                for (p++; isdigit((unsigned char)*p); p++)
                        frac++;
                if (digits == 0 && frac == 0)
                        return false;
                digits += frac;
        }
        if (digits == 0)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p)
                return false;
        *ret = strtod(s, &end);
        return isfinite(*ret);
}

static cJSON *scalar_to_json(const YNode *n)
{
        _cleanup_free_ char *plain = NULL;
        char *o;
        double d;
        int b;

        if (!n->plain)
                return cJSON_CreateString(n->value);
        if (is_null_word(n->value))
                return cJSON_CreateNull();
        b = bool_word(n->value);
        if (b >= 0)
                return cJSON_CreateBool(b);
        if (!strchr("+-.0123456789", n->value[0]))
                return cJSON_CreateString(n->value);
        /* go-yaml drops '_' digit separators before trying numbers. */
        plain = strdup(n->value);
        if (!plain)
                return NULL;
        o = plain;
        for (const char *c = n->value; *c; c++)
                if (*c != '_')
                        *o++ = *c;
        *o = 0;
        if (parse_int(plain, &d) || parse_float(plain, &d))
                return cJSON_CreateNumber(d);
        return cJSON_CreateString(n->value);
}

static const YNode *deref(const YNode *n)
{
        return n->type == YN_ALIAS ? n->target : n;
}

static int to_json(Parser *P, const YNode *n, const char *path, unsigned depth, LineMap *lines, cJSON **ret);

static char *child_path(const char *path, const char *key)
{
        return isempty(path) ? strdup(key) : strjoin(path, ".", key, NULL);
}

typedef struct KeyRef {
        const char *name;
        unsigned line;
        size_t index;
} KeyRef;

static int keyref_cmp(const void *a, const void *b)
{
        const KeyRef *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : (x->index < y->index ? -1 : x->index > y->index);
}

static bool is_merge_key(const YNode *k)
{
        return k->type == YN_SCALAR && k->plain && streq(k->value, "<<");
}

/* Checks that keys are scalars and unique (like yaml.v3: "mapping key ... already defined"). */
static int check_keys(Parser *P, const YNode *n)
{
        _cleanup_free_ KeyRef *keys = calloc(n->n / 2 + 1, sizeof(KeyRef));
        size_t nk = 0;

        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i + 1 < n->n; i += 2) {
                const YNode *k = deref(n->items[i]);

                if (k->type != YN_SCALAR)
                        return node_fail(P, n->items[i]->line,
                                         "invalid map key: only scalar keys are supported");
                if (!is_merge_key(k))
                        keys[nk++] = (KeyRef){.name = k->value, .line = n->items[i]->line, .index = i};
        }
        qsort(keys, nk, sizeof(KeyRef), keyref_cmp);
        for (size_t i = 1; i < nk; i++)
                if (streq(keys[i].name, keys[i - 1].name))
                        return node_fail(P, keys[i].line, "mapping key \"%s\" already defined at line %u",
                                         keys[i].name, keys[i - 1].line);
        return 0;
}

/* "<<: *base" or "<<: [*a, *b]": keys the map does not set itself come from the merged maps. */
static int merge_into(Parser *P, cJSON *obj, const YNode *v, const char *path, unsigned depth)
{
        const YNode *t = deref(v);
        _cleanup_json_ cJSON *src = NULL;
        cJSON *item;
        int r;

        if (t->type == YN_SEQ) {
                for (size_t i = 0; i < t->n; i++) {
                        if (deref(t->items[i])->type != YN_MAP)
                                return node_fail(P, t->items[i]->line,
                                                 "map merge requires map or sequence of maps as the value");
                        r = merge_into(P, obj, t->items[i], path, depth + 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (t->type != YN_MAP)
                return node_fail(P, v->line, "map merge requires map or sequence of maps as the value");
        r = to_json(P, v, path, depth + 1, NULL, &src);
        if (r < 0)
                return r;
        while ((item = src->child)) {
                cJSON_DetachItemViaPointer(src, item);
                if (cJSON_GetObjectItemCaseSensitive(obj, item->string))
                        cJSON_Delete(item);
                else
                        cJSON_AddItemToObject(obj, item->string, item);
        }
        return 0;
}

/* Converts child n of a mapping or sequence, found at path cp and line, and adds it to
 * container under key (appends it when key is NULL). */
static int add_child(Parser *P, cJSON *container, const char *key, const YNode *n, const char *cp,
                     unsigned line, unsigned depth, LineMap *lines)
{
        cJSON *v = NULL;
        int r;

        if (lines && manifest_doc_lines_add(lines, cp, line) < 0)
                return -ENOMEM;
        r = to_json(P, n, cp, depth + 1, lines, &v);
        if (r < 0)
                return r;
        if (!(key ? cJSON_AddItemToObject(container, key, v) : cJSON_AddItemToArray(container, v))) {
                cJSON_Delete(v);
                return -ENOMEM;
        }
        return 0;
}

static int map_to_json(Parser *P, const YNode *n, const char *path, unsigned depth, LineMap *lines,
                       cJSON **ret)
{
        _cleanup_json_ cJSON *obj = cJSON_CreateObject();
        int r;

        if (!obj)
                return -ENOMEM;
        r = check_keys(P, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < n->n; i += 2) {
                const YNode *k = deref(n->items[i]);
                _cleanup_free_ char *cp = NULL;

                if (is_merge_key(k))
                        continue;
                cp = child_path(path, k->value);
                if (!cp)
                        return -ENOMEM;
                r = add_child(P, obj, k->value, n->items[i + 1], cp, n->items[i]->line, depth, lines);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i + 1 < n->n; i += 2)
                if (is_merge_key(deref(n->items[i]))) {
                        r = merge_into(P, obj, n->items[i + 1], path, depth);
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(obj);
        return 0;
}

static int seq_to_json(Parser *P, const YNode *n, const char *path, unsigned depth, LineMap *lines,
                       cJSON **ret)
{
        _cleanup_json_ cJSON *arr = cJSON_CreateArray();
        int r;

        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n->n; i++) {
                _cleanup_free_ char *cp = NULL;

                if (asprintf_safe(&cp, "%s[%zu]", path, i) < 0)
                        return -ENOMEM;
                r = add_child(P, arr, NULL, n->items[i], cp, n->items[i]->line, depth, lines);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(arr);
        return 0;
}

/* Lines are recorded only outside alias expansions: a field that came through an alias
 * is reported at the line of the alias. */
static int to_json(Parser *P, const YNode *n, const char *path, unsigned depth, LineMap *lines, cJSON **ret)
{
        int r;

        if (depth > 2 * NESTING_MAX)
                return node_fail(P, n->line, "exceeded max depth of %d", 2 * NESTING_MAX);
        if (P->alias_depth > 0 && ++P->expanded > EXPANDED_NODES_MAX)
                return node_fail(P, n->line,
                                 "document contains excessive aliasing (more than %d nodes expanded)",
                                 EXPANDED_NODES_MAX);
        switch (n->type) {
        case YN_ALIAS:
                P->alias_depth++;
                r = to_json(P, n->target, path, depth + 1, NULL, ret);
                P->alias_depth--;
                return r;
        case YN_SCALAR:
                *ret = scalar_to_json(n);
                return *ret ? 0 : -ENOMEM;
        case YN_SEQ:
                return seq_to_json(P, n, path, depth, lines, ret);
        case YN_MAP:
                return map_to_json(P, n, path, depth, lines, ret);
        }
        return -EINVAL;
}

static int parse_yaml_document(Parser *P, ManifestSet *set)
{
        _cleanup_(manifest_doc_lines_done) LineMap lines = {};
        yaml_event_t ev;
        YNode *root = NULL;
        cJSON *obj = NULL;
        int r;

        if (!yaml_parser_parse(&P->yp, &ev))
                return yaml_fail(P);
        r = parse_node(P, &ev, 0, &root);
        yaml_event_delete(&ev);
        if (r < 0)
                return r;
        /* Empty documents (nothing but comments, or a lone "---") are skipped. */
        if (root->type == YN_SCALAR && root->plain && is_null_word(root->value))
                return 0;
        r = to_json(P, root, "", 0, &lines, &obj);
        if (r < 0)
                return r;
        if (P->plain) {
                if (*P->plain) {
                        cJSON_Delete(obj);
                        return node_fail(P, deref(root)->line, "expected a single document");
                }
                *P->plain = obj;
                return 0;
        }
        return manifest_doc_add_object(set, P->source, obj, &lines, NULL, deref(root)->line, P->ret_error);
}

static int parse_yaml(ManifestSet *set, const char *source, const char *data, size_t size, char **ret_error,
                      cJSON **plain)
{
        _cleanup_(parser_done) Parser P = {.source = source, .ret_error = ret_error, .plain = plain};

        if (!yaml_parser_initialize(&P.yp))
                return -ENOMEM;
        yaml_parser_set_input_string(&P.yp, (const unsigned char *)data, size);
        for (;;) {
                yaml_event_t ev;
                yaml_event_type_t type;
                int r;

                if (!yaml_parser_parse(&P.yp, &ev))
                        return yaml_fail(&P);
                type = ev.type;
                yaml_event_delete(&ev);
                if (type == YAML_STREAM_END_EVENT)
                        return 0;
                if (type != YAML_DOCUMENT_START_EVENT)
                        continue;
                r = parse_yaml_document(&P, set);
                parser_reset_doc(&P);
                if (r < 0)
                        return r;
        }
}

static bool looks_like_json(const char *data, size_t size)
{
        size_t i = 0;

        if (size >= 3 && strneq(data, "\xef\xbb\xbf", 3))
                i = 3;
        while (i < size && isspace((unsigned char)data[i]))
                i++;
        return i < size && (data[i] == '{' || data[i] == '[');
}

int manifest_parse(const char *source, const char *data, size_t size, ManifestSet **ret, char **ret_error)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        source = source ?: "-";
        if (size > MANIFEST_MAX_BYTES) {
                if (ret_error && asprintf_safe(ret_error, "%s: error: manifest is larger than %zu bytes",
                                               source, MANIFEST_MAX_BYTES) < 0)
                        return -ENOMEM;
                return -EFBIG;
        }
        set = manifest_doc_set_new();
        if (!set)
                return -ENOMEM;
        if (looks_like_json(data, size)) {
                r = manifest_json_parse(set, source, data, size, ret_error);
                if (r == -EINVAL) {
                        /* A YAML flow mapping also starts with '{': give YAML a chance. */
                        _cleanup_manifest_set_ ManifestSet *y = manifest_doc_set_new();

                        if (y && parse_yaml(y, source, data, size, NULL, NULL) >= 0) {
                                if (ret_error) {
                                        free(*ret_error);
                                        *ret_error = NULL;
                                }
                                manifest_set_free(set);
                                set = TAKE_PTR(y);
                                r = 0;
                        }
                }
        } else
                r = parse_yaml(set, source, data, size, ret_error, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(set);
        return 0;
}

int manifest_parse_file(const char *path, ManifestSet **ret, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r;

        if (ret_error)
                *ret_error = NULL;
        r = read_full_file(path, MANIFEST_MAX_BYTES, &data, &size);
        if (r == -EFBIG) {
                if (ret_error && asprintf_safe(ret_error, "%s: error: manifest is larger than %zu bytes",
                                               path, MANIFEST_MAX_BYTES) < 0)
                        return -ENOMEM;
                return r;
        }
        if (r < 0) {
                if (ret_error && asprintf_safe(ret_error, "%s: error: %s", path, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        return manifest_parse(path, data, size, ret, ret_error);
}

int manifest_parse_plain(const char *source, const char *data, size_t size, cJSON **ret, char **ret_error)
{
        _cleanup_json_ cJSON *root = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        source = source ?: "-";
        if (size > MANIFEST_MAX_BYTES)
                return manifest_doc_fail(ret_error, source, 1, "error: input is larger than %zu bytes",
                                         MANIFEST_MAX_BYTES) == -ENOMEM
                           ? -ENOMEM
                           : -EFBIG;
        if (looks_like_json(data, size)) {
                const char *end = NULL;

                root = cJSON_ParseWithLengthOpts(data, size, &end, false);
                for (; root && end < data + size; end++)
                        if (!isspace((unsigned char)*end))
                                return manifest_doc_fail(ret_error, source, 1,
                                                         "error converting JSON: unexpected data after the "
                                                         "top-level value");
        }
        if (!root) {
                r = parse_yaml(NULL, source, data, size, ret_error, &root);
                if (r < 0)
                        return r;
        }
        if (!root) {
                root = cJSON_CreateObject();
                if (!root)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(root);
        return 0;
}
