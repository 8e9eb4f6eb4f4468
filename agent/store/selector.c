/* Kubernetes label selectors: a port of apimachinery's labels.Parse (lexer, parser, the
 * qualified-name and label-value validation with its error wording) and
 * Requirement.Matches against a labels object. The JSON form is in selector-json.c. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "json-util.h"
#include "selector-internal.h"
#include "util.h"

#define QUALIFIED_NAME_MAX 63
#define DNS1123_SUBDOMAIN_MAX 253
#define LABEL_VALUE_MAX 63
#define QUALIFIED_NAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QUALIFIED_NAME_MSG                                                                                  \
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "         \
        "alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is "  \
        "'" QUALIFIED_NAME_FMT "')"
#define DNS1123_SUBDOMAIN_MSG                                                                               \
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "   \
        "and "                                                                                              \
        "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation " \
        "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_VALUE_MSG                                                                                     \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "    \
        "and "                                                                                              \
        "must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', "    \
        "regex used for validation is '(" QUALIFIED_NAME_FMT ")?')"

void selector_requirement_done(Requirement *r)
{
        free(r->key);
        for (size_t i = 0; i < r->n_values; i++)
                free(r->values[i]);
        free(r->values);
}

LabelSelector *label_selector_free(LabelSelector *sel)
{
        if (!sel)
                return NULL;
        for (size_t i = 0; i < sel->n_reqs; i++)
                selector_requirement_done(&sel->reqs[i]);
        free(sel->reqs);
        free(sel);
        return NULL;
}

bool label_selector_empty(const LabelSelector *sel)
{
        return !sel || sel->n_reqs == 0;
}

/* ---- validation (k8s.io/apimachinery/pkg/util/validation) ---- */

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], anchored */
static bool matches_qualified_name(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

static bool matches_dns1123_subdomain(const char *s, size_t n)
{
        size_t start = 0;

        /* dot-separated labels of [a-z0-9]([-a-z0-9]*[a-z0-9])? */
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '.') {
                        char c = s[i];
                        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                                return false;
                        continue;
                }
                if (i == start || s[start] == '-' || s[i - 1] == '-')
                        return false;
                start = i + 1;
        }
        return true;
}

/* Appends "; "-separated messages into a fixed buffer. */
static void msg_add(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void msg_add(char *buf, size_t size, const char *fmt, ...)
{
        size_t len = strlen(buf);
        va_list ap;

        if (len > 0 && len + 2 < size) {
                memcpy(buf + len, "; ", 3);
                len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

/* validation.IsQualifiedName: fills msg (empty when valid). */
static void check_qualified_name(const char *key, char *msg, size_t size)
{
        const char *slash = strchr(key, '/'), *name = key;

        msg[0] = 0;
        if (slash && strchr(slash + 1, '/')) {
                msg_add(msg, size,
                        "a qualified name " QUALIFIED_NAME_MSG
                        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return;
        }
        if (slash) {
                size_t plen = (size_t)(slash - key);
                if (plen == 0)
                        msg_add(msg, size, "prefix part must be non-empty");
                else {
                        if (plen > DNS1123_SUBDOMAIN_MAX)
                                msg_add(msg, size, "prefix part must be no more than %d characters",
                                        DNS1123_SUBDOMAIN_MAX);
                        if (!matches_dns1123_subdomain(key, plen))
                                msg_add(msg, size, "prefix part " DNS1123_SUBDOMAIN_MSG);
                }
                name = slash + 1;
        }
        if (!*name)
                msg_add(msg, size, "name part must be non-empty");
        else if (strlen(name) > QUALIFIED_NAME_MAX)
                msg_add(msg, size, "name part must be no more than %d characters", QUALIFIED_NAME_MAX);
        if (!matches_qualified_name(name, strlen(name)))
                msg_add(msg, size, "name part " QUALIFIED_NAME_MSG);
}

static void check_label_value(const char *v, char *msg, size_t size)
{
        size_t n = strlen(v);

        msg[0] = 0;
        if (n > LABEL_VALUE_MAX)
                msg_add(msg, size, "must be no more than %d characters", LABEL_VALUE_MAX);
        if (n > 0 && !matches_qualified_name(v, n))
                msg_add(msg, size, LABEL_VALUE_MSG);
}

bool selector_key_valid(const char *key)
{
        char msg[1024];

        check_qualified_name(key, msg, sizeof(msg));
        return msg[0] == 0;
}

bool selector_value_valid(const char *v)
{
        char msg[1024];

        check_label_value(v, msg, sizeof(msg));
        return msg[0] == 0;
}

/* Go's %q for the plain strings selectors hold. */
static char *quote(const char *s)
{
        size_t n = strlen(s);
        char *q = malloc(n * 4 + 3), *p = q;

        if (!q)
                return NULL;
        *p++ = '"';
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c < 0x20 || c == 0x7f)
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char)c;
        }
        *p++ = '"';
        *p = 0;
        return q;
}

/* field.Invalid(path, value, detail).Error() */
static char *invalid_error(const char *path, const char *value, const char *detail)
{
        _cleanup_free_ char *q = quote(value);
        char *ret = NULL;

        if (!q || asprintf(&ret, "%s: Invalid value: %s: %s", path, q, detail) < 0)
                return NULL;
        return ret;
}

/* ---- lexer (labels.Lexer) ---- */

typedef enum TokenType {
        TOK_ERROR,
        TOK_EOS,
        TOK_IDENTIFIER,
        TOK_DOES_NOT_EXIST,
        TOK_EQUALS,
        TOK_DOUBLE_EQUALS,
        TOK_NOT_EQUALS,
        TOK_IN,
        TOK_NOT_IN,
        TOK_GREATER_THAN,
        TOK_LESS_THAN,
        TOK_OPEN_PAR,
        TOK_CLOSED_PAR,
        TOK_COMMA,
} TokenType;

typedef struct Token {
        TokenType type;
        char *lit;
} Token;

static const struct {
        const char *s;
        TokenType type;
} keywords[] = {
    {")", TOK_CLOSED_PAR},
    {",", TOK_COMMA},
    {"!", TOK_DOES_NOT_EXIST},
    {"==", TOK_DOUBLE_EQUALS},
    {"=", TOK_EQUALS},
    {">", TOK_GREATER_THAN},
    {"in", TOK_IN},
    {"<", TOK_LESS_THAN},
    {"!=", TOK_NOT_EQUALS},
    {"notin", TOK_NOT_IN},
    {"(", TOK_OPEN_PAR},
};

static TokenType keyword(const char *s, size_t n)
{
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (strlen(keywords[i].s) == n && strneq(keywords[i].s, s, n))
                        return keywords[i].type;
        return TOK_ERROR;
}

static bool is_whitespace(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
        return c && strchr("=!(),><", c);
}

/* One token at *pos; the literal is malloc'd. Returns -ENOMEM only. */
static int lex(const char *s, size_t *pos, Token *ret)
{
        size_t i = *pos, start, n;
        TokenType t = TOK_IDENTIFIER, last = TOK_ERROR;

        while (is_whitespace(s[i]))
                i++;
        start = i;
        if (!s[i])
                t = TOK_EOS;
        else if (is_special(s[i])) {
                /* longest special symbol that is a keyword */
                for (n = 0; is_special(s[i + n]); n++) {
                        TokenType k = keyword(s + i, n + 1);
                        if (k == TOK_ERROR && last != TOK_ERROR)
                                break;
                        last = k;
                }
                t = last;
                i += n;
        } else {
                while (s[i] && !is_special(s[i]) && !is_whitespace(s[i]))
                        i++;
                TokenType k = keyword(s + start, i - start);
                if (k != TOK_ERROR)
                        t = k;
        }
        ret->type = t;
        ret->lit = strndup(s + start, i - start);
        if (!ret->lit)
                return -ENOMEM;
        *pos = i;
        return 0;
}

/* ---- parser (labels.Parser) ---- */

typedef enum ParserContext {
        CTX_KEY_AND_OPERATOR,
        CTX_VALUES,
} ParserContext;

typedef struct Parser {
        Token *items;
        size_t n_items, position;
        char *error; /* the innermost message */
        bool oom;
} Parser;

static void parser_done(Parser *p)
{
        for (size_t i = 0; i < p->n_items; i++)
                free(p->items[i].lit);
        free(p->items);
        free(p->error);
}

static int parser_scan(Parser *p, const char *s)
{
        size_t pos = 0;

        for (;;) {
                Token *n = realloc(p->items, (p->n_items + 1) * sizeof(Token));
                if (!n)
                        return -ENOMEM;
                p->items = n;
                if (lex(s, &pos, &p->items[p->n_items]) < 0)
                        return -ENOMEM;
                if (p->items[p->n_items++].type == TOK_EOS)
                        return 0;
        }
}

static TokenType in_context(TokenType t, ParserContext ctx)
{
        if (ctx == CTX_VALUES && (t == TOK_IN || t == TOK_NOT_IN))
                return TOK_IDENTIFIER;
        return t;
}

static TokenType lookahead(Parser *p, ParserContext ctx, const char **lit)
{
        Token *t = &p->items[p->position];

        if (lit)
                *lit = t->lit;
        return in_context(t->type, ctx);
}

static TokenType consume(Parser *p, ParserContext ctx, const char **lit)
{
        TokenType t = lookahead(p, ctx, lit);

        /* the last item is always EOS; never run past it */
        if (p->position + 1 < p->n_items)
                p->position++;
        return t;
}

static int fail(Parser *p, const char *fmt, ...) _printf_(2, 3);
static int fail(Parser *p, const char *fmt, ...)
{
        va_list ap;

        free(p->error);
        va_start(ap, fmt);
        if (vasprintf(&p->error, fmt, ap) < 0) {
                p->error = NULL;
                p->oom = true;
        }
        va_end(ap);
        return -EINVAL;
}

static int fail_take(Parser *p, char *msg)
{
        free(p->error);
        p->error = msg;
        if (!msg)
                p->oom = true;
        return -EINVAL;
}

int selector_values_add(Requirement *r, const char *v)
{
        char **n;
        size_t i = 0;

        /* keep sorted and unique, as sets.String.List() */
        while (i < r->n_values && strcmp(r->values[i], v) < 0)
                i++;
        if (i < r->n_values && streq(r->values[i], v))
                return 0;
        n = realloc(r->values, (r->n_values + 1) * sizeof(char *));
        if (!n)
                return -ENOMEM;
        r->values = n;
        memmove(n + i + 1, n + i, (r->n_values - i) * sizeof(char *));
        n[i] = strdup(v);
        if (!n[i]) {
                memmove(n + i, n + i + 1, (r->n_values - i) * sizeof(char *));
                return -ENOMEM;
        }
        r->n_values++;
        return 0;
}

static int parse_key_and_infer_operator(Parser *p, Requirement *r, bool *ret_unary)
{
        const char *lit;
        char msg[2048];
        TokenType t = consume(p, CTX_VALUES, &lit);
        bool not = false;

        if (t == TOK_DOES_NOT_EXIST) {
                not = true;
                t = consume(p, CTX_VALUES, &lit);
        }
        if (t != TOK_IDENTIFIER)
                return fail(p, "found '%s', expected: identifier", lit);
        check_qualified_name(lit, msg, sizeof(msg));
        if (msg[0])
                return fail_take(p, invalid_error("<nil>", lit, msg));
        r->key = strdup(lit);
        if (!r->key)
                return -ENOMEM;
        t = lookahead(p, CTX_VALUES, NULL);
        *ret_unary = not || t == TOK_EOS || t == TOK_COMMA;
        r->op = not ? OP_DOES_NOT_EXIST : OP_EXISTS;
        return 0;
}

static int parse_operator(Parser *p, Requirement *r)
{
        const char *lit;

        switch (consume(p, CTX_KEY_AND_OPERATOR, &lit)) {
        case TOK_IN:
                r->op = OP_IN;
                return 0;
        case TOK_NOT_IN:
                r->op = OP_NOT_IN;
                return 0;
        case TOK_EQUALS:
        case TOK_DOUBLE_EQUALS:
                r->op = OP_EQUALS;
                return 0;
        case TOK_NOT_EQUALS:
                r->op = OP_NOT_EQUALS;
                return 0;
        case TOK_GREATER_THAN:
                r->op = OP_GREATER_THAN;
                return 0;
        case TOK_LESS_THAN:
                r->op = OP_LESS_THAN;
                return 0;
        default:
                return fail(p, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
        }
}

static int parse_identifiers_list(Parser *p, Requirement *r)
{
        const char *lit, *lit2;
        TokenType t2;

        for (;;) {
                switch (consume(p, CTX_VALUES, &lit)) {
                case TOK_IDENTIFIER:
                        if (selector_values_add(r, lit) < 0)
                                return -ENOMEM;
                        t2 = lookahead(p, CTX_VALUES, &lit2);
                        if (t2 == TOK_CLOSED_PAR)
                                return 0;
                        if (t2 != TOK_COMMA)
                                return fail(p, "found '%s', expected: ',' or ')'", lit2);
                        break;
                case TOK_COMMA:
                        /* "(,", ",)" and ",," stand for empty values */
                        if (r->n_values == 0 && selector_values_add(r, "") < 0)
                                return -ENOMEM;
                        t2 = lookahead(p, CTX_VALUES, NULL);
                        if (t2 == TOK_CLOSED_PAR)
                                return selector_values_add(r, "");
                        if (t2 == TOK_COMMA) {
                                consume(p, CTX_VALUES, NULL);
                                if (selector_values_add(r, "") < 0)
                                        return -ENOMEM;
                        }
                        break;
                default:
                        return fail(p, "found '%s', expected: ',', or identifier", lit);
                }
        }
}

static int parse_values(Parser *p, Requirement *r)
{
        const char *lit;
        int k;

        if (consume(p, CTX_VALUES, &lit) != TOK_OPEN_PAR)
                return fail(p, "found '%s' expected: '('", lit);
        switch (lookahead(p, CTX_VALUES, &lit)) {
        case TOK_IDENTIFIER:
        case TOK_COMMA:
                k = parse_identifiers_list(p, r);
                if (k < 0)
                        return k;
                if (consume(p, CTX_VALUES, NULL) != TOK_CLOSED_PAR)
                        return fail(p, "found '%s', expected: ')'", lit);
                return 0;
        case TOK_CLOSED_PAR:
                consume(p, CTX_VALUES, NULL);
                return selector_values_add(r, "");
        default:
                return fail(p, "found '%s', expected: ',', ')' or identifier", lit);
        }
}

static int parse_exact_value(Parser *p, Requirement *r)
{
        const char *lit;
        TokenType t = lookahead(p, CTX_VALUES, NULL);

        if (t == TOK_EOS || t == TOK_COMMA)
                return selector_values_add(r, "");
        if (consume(p, CTX_VALUES, &lit) == TOK_IDENTIFIER)
                return selector_values_add(r, lit);
        return fail(p, "found '%s', expected: identifier", lit);
}

/* Appends one field error to an aggregate message ("[a, b]" when more than one). */
static int errors_add(char **agg, size_t *n, char *e)
{
        char *joined;

        if (!e)
                return -ENOMEM;
        if (*n == 0)
                joined = e;
        else {
                joined = strjoin(*agg, ", ", e, NULL);
                free(e);
                if (!joined)
                        return -ENOMEM;
                free(*agg);
        }
        *agg = joined;
        (*n)++;
        return 0;
}

/* The checks of NewRequirement that the parser can still trip: label values and Gt/Lt
 * integers. */
static int validate_requirement(Parser *p, const Requirement *r)
{
        _cleanup_free_ char *agg = NULL;
        size_t n = 0;
        char msg[1024], path[64];
        int k;

        for (size_t i = 0; i < r->n_values; i++) {
                if (r->op != OP_GREATER_THAN && r->op != OP_LESS_THAN)
                        continue;
                char *end;
                errno = 0;
                (void)strtoll(r->values[i], &end, 10);
                if (errno == 0 && *r->values[i] && !*end)
                        continue;
                snprintf(path, sizeof(path), "values[%zu]", i);
                k = errors_add(&agg, &n,
                               invalid_error(path, r->values[i],
                                             "for 'Gt', 'Lt' operators, the value must be an integer"));
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < r->n_values; i++) {
                check_label_value(r->values[i], msg, sizeof(msg));
                if (!msg[0])
                        continue;
                _cleanup_free_ char *vpath = NULL;
                if (asprintf(&vpath, "values[%zu][%s]", i, r->key) < 0)
                        return -ENOMEM;
                k = errors_add(&agg, &n, invalid_error(vpath, r->values[i], msg));
                if (k < 0)
                        return k;
        }
        if (n == 0)
                return 0;
        if (n > 1) {
                char *b = strjoin("[", agg, "]", NULL);
                if (!b)
                        return -ENOMEM;
                free(agg);
                agg = b;
        }
        return fail_take(p, TAKE_PTR(agg));
}

static int parse_requirement(Parser *p, Requirement *r)
{
        bool unary;
        int k;

        k = parse_key_and_infer_operator(p, r, &unary);
        if (k < 0 || unary)
                return k;
        k = parse_operator(p, r);
        if (k < 0)
                return k;
        if (r->op == OP_IN || r->op == OP_NOT_IN)
                k = parse_values(p, r);
        else
                k = parse_exact_value(p, r);
        if (k < 0)
                return k;
        return validate_requirement(p, r);
}

int selector_add_requirement(LabelSelector *sel, Requirement *r)
{
        Requirement *n = realloc(sel->reqs, (sel->n_reqs + 1) * sizeof(Requirement));

        if (!n)
                return -ENOMEM;
        sel->reqs = n;
        sel->reqs[sel->n_reqs++] = *r;
        *r = (Requirement){};
        return 0;
}

/* Parser.parse; on -EINVAL p->error holds the message. */
static int parse_all(Parser *p, LabelSelector *sel)
{
        const char *lit;
        int k;

        for (;;) {
                TokenType t = lookahead(p, CTX_VALUES, &lit);
                if (t == TOK_EOS)
                        return 0;
                if (t != TOK_IDENTIFIER && t != TOK_DOES_NOT_EXIST)
                        return fail(p, "found '%s', expected: !, identifier, or 'end of string'", lit);

                Requirement r = {};
                k = parse_requirement(p, &r);
                if (k == 0)
                        k = selector_add_requirement(sel, &r);
                selector_requirement_done(&r);
                if (k == -EINVAL && !p->oom) {
                        char *m = strjoin("unable to parse requirement: ", p->error, NULL);
                        return fail_take(p, m);
                }
                if (k < 0)
                        return k;

                t = consume(p, CTX_VALUES, &lit);
                if (t == TOK_EOS)
                        return 0;
                if (t != TOK_COMMA)
                        return fail(p, "found '%s', expected: ',' or 'end of string'", lit);
                t = lookahead(p, CTX_VALUES, &lit);
                if (t != TOK_IDENTIFIER && t != TOK_DOES_NOT_EXIST)
                        return fail(p, "found '%s', expected: identifier after ','", lit);
        }
}

int label_selector_parse(const char *s, LabelSelector **ret, char **ret_error)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        Parser p = {};
        int k;

        if (ret_error)
                *ret_error = NULL;
        if (!s || !ret)
                return -EINVAL;
        sel = calloc(1, sizeof(LabelSelector));
        if (!sel)
                return -ENOMEM;
        k = parser_scan(&p, s);
        if (k >= 0)
                k = parse_all(&p, sel);
        if (k == -EINVAL && p.oom)
                k = -ENOMEM;
        if (k < 0) {
                if (k == -EINVAL && ret_error)
                        *ret_error = TAKE_PTR(p.error);
                parser_done(&p);
                return k;
        }
        parser_done(&p);
        *ret = TAKE_PTR(sel);
        return 0;
}

/* ---- matching (Requirement.Matches) ---- */

static bool values_has(const Requirement *r, const char *v)
{
        for (size_t i = 0; i < r->n_values; i++)
                if (streq(r->values[i], v))
                        return true;
        return false;
}

static bool parse_int64(const char *s, int64_t *ret)
{
        char *end;

        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || !*s || *end)
                return false;
        *ret = v;
        return true;
}

static bool requirement_matches(const Requirement *r, const cJSON *labels)
{
        const cJSON *l = cJSON_IsObject(labels) ? cJSON_GetObjectItemCaseSensitive(labels, r->key) : NULL;
        /* a label that is not a string cannot be compared; treat it as absent */
        const char *v = cJSON_IsString(l) ? l->valuestring : NULL;
        int64_t have, want;

        switch (r->op) {
        case OP_IN:
        case OP_EQUALS:
                return v && values_has(r, v);
        case OP_NOT_IN:
        case OP_NOT_EQUALS:
                return !v || !values_has(r, v);
        case OP_EXISTS:
                return v;
        case OP_DOES_NOT_EXIST:
                return !v;
        case OP_GREATER_THAN:
        case OP_LESS_THAN:
                if (!v || r->n_values != 1 || !parse_int64(v, &have) || !parse_int64(r->values[0], &want))
                        return false;
                return r->op == OP_GREATER_THAN ? have > want : have < want;
        }
        return false;
}

bool label_selector_matches(const LabelSelector *sel, const cJSON *labels)
{
        if (!sel)
                return true;
        for (size_t i = 0; i < sel->n_reqs; i++)
                if (!requirement_matches(&sel->reqs[i], labels))
                        return false;
        return true;
}
