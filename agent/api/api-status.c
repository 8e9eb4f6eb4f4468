/* Responses of the API: JSON and text bodies, extra headers (Warning), and Kubernetes
 * Status objects for every failure, worded as the apiserver words them (NotFound,
 * AlreadyExists, Conflict, Invalid with field causes, BadRequest, InternalError). */
#include <stdarg.h>
#include <string.h>

#include "api-internal.h"
#include "json-util.h"
#include "util.h"

void api_response_done(ApiResponse *resp)
{
        free(resp->body);
        for (size_t i = 0; i < resp->n_headers; i++) {
                free(resp->headers[i].name);
                free(resp->headers[i].value);
        }
        free(resp->headers);
        *resp = (ApiResponse){};
}

int api_response_add_header(ApiResponse *resp, const char *name, const char *value)
{
        ApiHeader *h = realloc(resp->headers, (resp->n_headers + 1) * sizeof(ApiHeader));
        char *n, *v;

        if (!h)
                return -ENOMEM;
        resp->headers = h;
        n = strdup(name);
        v = strdup(value);
        if (!n || !v) {
                free(n);
                free(v);
                return -ENOMEM;
        }
        resp->headers[resp->n_headers++] = (ApiHeader){.name = n, .value = v};
        return 0;
}

int api_response_add_warning(ApiResponse *resp, const char *text)
{
        _cleanup_free_ char *v = malloc(strlen(text) * 2 + 16);
        char *p;

        if (!v)
                return -ENOMEM;
        p = stpcpy(v, "299 - \"");
        for (const char *s = text; *s; s++) {
                /* a header value is one line: control characters become spaces */
                if (*s == '"' || *s == '\\')
                        *p++ = '\\';
                *p++ = (unsigned char)*s < 0x20 ? ' ' : *s;
        }
        strcpy(p, "\"");
        return api_response_add_header(resp, "Warning", v);
}

int api_reply_text(ApiResponse *resp, unsigned code, const char *content_type, const char *text, size_t size)
{
        char *b = malloc(size + 1);

        if (!b)
                return -ENOMEM;
        memcpy(b, text, size);
        b[size] = 0;
        free(resp->body);
        resp->body = b;
        resp->size = size;
        resp->code = code;
        resp->content_type = content_type;
        return 0;
}

int api_reply_json(ApiResponse *resp, unsigned code, const cJSON *j)
{
        char *s = json_print(j);

        if (!s)
                return -ENOMEM;
        free(resp->body);
        resp->body = s;
        resp->size = strlen(s);
        resp->code = code;
        resp->content_type = "application/json";
        return 0;
}

cJSON *api_status_new(unsigned code, const char *reason, const char *message, cJSON *details)
{
        _cleanup_json_ cJSON *st = cJSON_CreateObject();
        _cleanup_json_ cJSON *d = details;

        if (!st || json_set_string(st, "kind", "Status") < 0 ||
            json_set_string(st, "apiVersion", "v1") < 0 || !json_ensure_object(st, "metadata") ||
            json_set_string(st, "status", "Failure") < 0 || json_set_string(st, "message", message) < 0 ||
            json_set_string(st, "reason", reason) < 0)
                return NULL;
        if (d && json_set(st, "details", TAKE_PTR(d)) < 0)
                return NULL;
        if (json_set_int(st, "code", code) < 0)
                return NULL;
        return TAKE_PTR(st);
}

static int reply_status_va(ApiResponse *resp, unsigned code, const char *reason, cJSON *details,
                           const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;
        _cleanup_json_ cJSON *st = NULL;

        if (vasprintf(&msg, fmt, ap) < 0) {
                cJSON_Delete(details);
                return -ENOMEM;
        }
        st = api_status_new(code, reason, msg, details);
        if (!st)
                return -ENOMEM;
        return api_reply_json(resp, code, st);
}

int api_reply_status(ApiResponse *resp, unsigned code, const char *reason, cJSON *details, const char *fmt,
                     ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = reply_status_va(resp, code, reason, details, fmt, ap);
        va_end(ap);
        return r;
}

int api_reply_bad_request(ApiResponse *resp, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = reply_status_va(resp, MHD_HTTP_BAD_REQUEST, "BadRequest", NULL, fmt, ap);
        va_end(ap);
        return r;
}

int api_reply_errno(ApiResponse *resp, int r)
{
        return api_reply_status(resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", NULL,
                                "Internal error occurred: %s", strerror(r < 0 ? -r : r));
}

char *api_resource_name(const KindInfo *k)
{
        if (isempty(k->group))
                return strdup(k->plural);
        return strjoin(k->plural, ".", k->group, NULL);
}

cJSON *api_status_details(const KindInfo *k, const char *name)
{
        _cleanup_json_ cJSON *d = cJSON_CreateObject();

        if (!d)
                return NULL;
        if (name && json_set_string(d, "name", name) < 0)
                return NULL;
        if (!isempty(k->group) && json_set_string(d, "group", k->group) < 0)
                return NULL;
        if (json_set_string(d, "kind", k->plural) < 0)
                return NULL;
        return TAKE_PTR(d);
}

static int reply_about(ApiResponse *resp, unsigned code, const char *reason, const KindInfo *k,
                       const char *name, const char *prefix, const char *what)
{
        _cleanup_free_ char *res = api_resource_name(k);

        if (!res)
                return -ENOMEM;
        return api_reply_status(resp, code, reason, api_status_details(k, name), "%s%s \"%s\"%s", prefix,
                                res, name ?: "", what);
}

int api_reply_not_found(ApiResponse *resp, const KindInfo *k, const char *name)
{
        return reply_about(resp, MHD_HTTP_NOT_FOUND, "NotFound", k, name, "", " not found");
}

int api_reply_already_exists(ApiResponse *resp, const KindInfo *k, const char *name)
{
        return reply_about(resp, MHD_HTTP_CONFLICT, "AlreadyExists", k, name, "", " already exists");
}

int api_reply_conflict(ApiResponse *resp, const KindInfo *k, const char *name)
{
        return reply_about(resp, MHD_HTTP_CONFLICT, "Conflict", k, name, "Operation cannot be fulfilled on ",
                           ": the object has been modified; please apply your changes to the latest version "
                           "and try again");
}

const char *api_cause_reason(FieldErrorType type)
{
        switch (type) {
        case FIELD_ERROR_REQUIRED:
                return "FieldValueRequired";
        case FIELD_ERROR_NOT_SUPPORTED:
                return "FieldValueNotSupported";
        case FIELD_ERROR_DUPLICATE:
                return "FieldValueDuplicate";
        case FIELD_ERROR_FORBIDDEN:
                return "FieldValueForbidden";
        case FIELD_ERROR_TOO_LONG:
                return "FieldValueTooLong";
        case FIELD_ERROR_TOO_MANY:
                return "FieldValueTooMany";
        case FIELD_ERROR_NOT_FOUND:
                return "FieldValueNotFound";
        default:
                return "FieldValueInvalid";
        }
}

char *api_invalid_message(const char *kind, const char *name, const FieldErrors *errs)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        fprintf(f, "%s \"%s\" is invalid: %s", kind ?: "Object", name ?: "", errs->n > 1 ? "[" : "");
        for (size_t i = 0; i < errs->n; i++) {
                _cleanup_free_ char *e = field_error_format(&errs->items[i]);

                fprintf(f, "%s%s", i > 0 ? ", " : "", e ?: "");
        }
        fputs(errs->n > 1 ? "]" : "", f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static int cause_new(const FieldError *err, const char *prefix, cJSON **ret)
{
        _cleanup_json_ cJSON *c = cJSON_CreateObject();
        _cleanup_free_ char *msg = field_error_format(err);
        _cleanup_free_ char *field = strjoin(prefix ?: "", err->path ?: "", NULL);
        const char *m;

        if (!c || !msg || !field)
                return -ENOMEM;
        /* the cause message is the error without its leading "<path>: " */
        m = msg;
        if (!isempty(err->path) && startswith(msg, err->path) && startswith(msg + strlen(err->path), ": "))
                m = msg + strlen(err->path) + 2;
        if (json_set_string(c, "reason", api_cause_reason(err->type)) < 0 ||
            json_set_string(c, "message", m) < 0 || json_set_string(c, "field", field) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

int api_causes_append(cJSON *causes, const FieldErrors *errs, const char *prefix)
{
        for (size_t i = 0; i < errs->n; i++) {
                cJSON *c;
                int r;

                r = cause_new(&errs->items[i], prefix, &c);
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToArray(causes, c)) {
                        cJSON_Delete(c);
                        return -ENOMEM;
                }
        }
        return 0;
}

int api_reply_invalid(ApiResponse *resp, const KindInfo *k, const char *name, const FieldErrors *errs)
{
        _cleanup_json_ cJSON *d = cJSON_CreateObject();
        _cleanup_free_ char *msg = api_invalid_message(k ? k->kind : NULL, name, errs);
        cJSON *causes;
        int r;

        if (!d || !msg)
                return -ENOMEM;
        if ((name && json_set_string(d, "name", name) < 0) ||
            (k && !isempty(k->group) && json_set_string(d, "group", k->group) < 0) ||
            (k && json_set_string(d, "kind", k->kind) < 0))
                return -ENOMEM;
        causes = cJSON_AddArrayToObject(d, "causes");
        if (!causes)
                return -ENOMEM;
        r = api_causes_append(causes, errs, NULL);
        if (r < 0)
                return r;
        return api_reply_status(resp, 422, "Invalid", TAKE_PTR(d), "%s", msg);
}

int api_parse_body(ApiRequest *req, ApiResponse *resp, cJSON **ret)
{
        const char *end = NULL;
        cJSON *j;

        if (req->body_size == 0)
                return api_reply_bad_request(resp, "the request body is empty; a JSON object was expected")
                           ?: -EINVAL;
        j = cJSON_ParseWithLengthOpts(req->body, req->body_size, &end, false);
        if (!j) {
                size_t off = end && end >= req->body ? (size_t)(end - req->body) : 0;

                return api_reply_bad_request(resp, "the request body is not valid JSON (error at byte %zu)",
                                             off)
                           ?: -EINVAL;
        }
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return api_reply_bad_request(resp, "the request body must be a JSON object") ?: -EINVAL;
        }
        *ret = j;
        return 0;
}
