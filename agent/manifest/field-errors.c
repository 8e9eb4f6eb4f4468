/* Field error lists in the apiserver's words (apimachinery pkg/util/validation/field):
 * appending errors with their bad value rendered as Go's %#v renders it, printing them
 * as "path: Type: value: detail", and building Kubernetes field paths. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "field-errors.h"
#include "util.h"

void field_errors_init(FieldErrors *e)
{
        *e = (FieldErrors){};
}

void field_errors_done(FieldErrors *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++) {
                free(e->items[i].path);
                free(e->items[i].value);
                free(e->items[i].detail);
        }
        free(e->items);
        *e = (FieldErrors){};
}

/* Go's strconv.Quote for the ASCII subset: backslash escapes for quotes, backslashes and
 * control bytes; bytes >= 0x80 are kept as they are (UTF-8 passes through). */
static char *go_quote(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(n * 4 + 3), *p = out;

        if (!out)
                return NULL;
        *p++ = '"';
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                switch (*c) {
                case '"':
                case '\\':
                        *p++ = '\\';
                        *p++ = (char)*c;
                        break;
                case '\n':
                        *p++ = '\\';
                        *p++ = 'n';
                        break;
                case '\t':
                        *p++ = '\\';
                        *p++ = 't';
                        break;
                case '\r':
                        *p++ = '\\';
                        *p++ = 'r';
                        break;
                default:
                        if (*c < 0x20 || *c == 0x7f)
                                p += sprintf(p, "\\x%02x", *c);
                        else
                                *p++ = (char)*c;
                }
        }
        *p++ = '"';
        *p = 0;
        return out;
}

static char *render_value(const cJSON *v)
{
        char *s = NULL;

        if (!v)
                return NULL;
        if (cJSON_IsString(v))
                return go_quote(v->valuestring ? v->valuestring : "");
        if (cJSON_IsBool(v))
                return strdup(cJSON_IsTrue(v) ? "true" : "false");
        if (cJSON_IsNull(v))
                return strdup("null");
        if (cJSON_IsNumber(v)) {
                double d = v->valuedouble;

                if (isfinite(d) && d == floor(d) && fabs(d) < 9.2e18) {
                        if (asprintf_safe(&s, "%lld", (long long)d) < 0)
                                return NULL;
                } else if (asprintf_safe(&s, "%g", d) < 0)
                        return NULL;
                return s;
        }
        return cJSON_PrintUnformatted(v);
}

static void add_rendered(FieldErrors *e, FieldErrorType type, const char *path, char *value, const char *fmt,
                         va_list ap)
{
        char *detail = NULL, *p = NULL;

        if (fmt && vasprintf(&detail, fmt, ap) < 0)
                detail = NULL, e->oom = true;
        p = strdup(path ? path : "");
        if (!p || (e->n == e->allocated && e->allocated > SIZE_MAX / 2 / sizeof(FieldError)))
                goto oom;
        if (e->n == e->allocated) {
                size_t a = e->allocated ? e->allocated * 2 : 8;
                FieldError *items = realloc(e->items, a * sizeof(FieldError));

                if (!items)
                        goto oom;
                e->items = items;
                e->allocated = a;
        }
        e->items[e->n++] = (FieldError){.type = type, .path = p, .value = value, .detail = detail};
        return;
oom:
        e->oom = true;
        free(p);
        free(value);
        free(detail);
}

void field_error_add(FieldErrors *e, FieldErrorType type, const char *path, const cJSON *value_json,
                     const char *detail_fmt, ...)
{
        char *value = render_value(value_json);
        va_list ap;

        if (value_json && !value)
                e->oom = true;
        va_start(ap, detail_fmt);
        add_rendered(e, type, path, value, detail_fmt, ap);
        va_end(ap);
}

void field_error_add_str(FieldErrors *e, FieldErrorType type, const char *path, const char *value,
                         const char *detail_fmt, ...)
{
        char *v = value ? go_quote(value) : NULL;
        va_list ap;

        if (value && !v)
                e->oom = true;
        va_start(ap, detail_fmt);
        add_rendered(e, type, path, v, detail_fmt, ap);
        va_end(ap);
}

void field_error_not_supported(FieldErrors *e, const char *path, const cJSON *value,
                               const char *const *supported)
{
        _cleanup_free_ char *list = strdup("");

        for (size_t i = 0; list && supported && supported[i]; i++) {
                _cleanup_free_ char *q = go_quote(supported[i]);
                char *n = q ? strjoin(list, i > 0 ? ", " : "", q, NULL) : NULL;

                free(list);
                list = n;
        }
        if (!list) {
                e->oom = true;
                return;
        }
        if (supported && supported[0])
                field_error_add(e, FIELD_ERROR_NOT_SUPPORTED, path, value, "supported values: %s", list);
        else
                field_error_add(e, FIELD_ERROR_NOT_SUPPORTED, path, value, NULL);
}

static const char *type_string(FieldErrorType t)
{
        switch (t) {
        case FIELD_ERROR_REQUIRED:
                return "Required value";
        case FIELD_ERROR_INVALID:
                return "Invalid value";
        case FIELD_ERROR_NOT_SUPPORTED:
                return "Unsupported value";
        case FIELD_ERROR_DUPLICATE:
                return "Duplicate value";
        case FIELD_ERROR_FORBIDDEN:
                return "Forbidden";
        case FIELD_ERROR_TOO_LONG:
                return "Too long";
        case FIELD_ERROR_TOO_MANY:
                return "Too many";
        case FIELD_ERROR_NOT_FOUND:
                return "Not found";
        case FIELD_ERROR_WARNING:
                return "Warning";
        }
        return "Internal error";
}

char *field_error_format(const FieldError *err)
{
        bool with_value;
        char *s = NULL;

        if (err->type == FIELD_ERROR_WARNING)
                return strdup(err->detail ? err->detail : "");
        /* Like field.Error.ErrorBody(): Required, Forbidden and TooLong never show the value. */
        with_value = err->value && err->type != FIELD_ERROR_REQUIRED && err->type != FIELD_ERROR_FORBIDDEN &&
                     err->type != FIELD_ERROR_TOO_LONG;
        if (asprintf_safe(&s, "%s%s%s%s%s%s%s", isempty(err->path) ? "" : err->path,
                          isempty(err->path) ? "" : ": ", type_string(err->type), with_value ? ": " : "",
                          with_value ? err->value : "", !isempty(err->detail) ? ": " : "",
                          !isempty(err->detail) ? err->detail : "") < 0)
                return NULL;
        return s;
}

char *field_path_child(const char *parent, const char *child)
{
        if (isempty(parent))
                return strdup(child);
        return strjoin(parent, ".", child, NULL);
}

char *field_path_index(const char *parent, size_t index)
{
        char *s = NULL;

        if (asprintf_safe(&s, "%s[%zu]", parent ? parent : "", index) < 0)
                return NULL;
        return s;
}

char *field_path_key(const char *parent, const char *key)
{
        return strjoin(parent ? parent : "", "[", key, "]", NULL);
}

char *field_path_append(FieldErrors *e, const char *parent, const char *suffix)
{
        char *p = parent ? strjoin(parent, suffix, NULL) : NULL;

        if (!p)
                e->oom = true;
        return p;
}
