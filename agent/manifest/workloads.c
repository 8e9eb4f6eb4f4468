/* Shared pieces of the workload kinds: label selector matching as metav1 does it, the
 * int-or-percent rules of apps/v1 rolling updates, immutability checks, and small
 * defaulting helpers that never overwrite a field of the wrong type (validation reports
 * those). */
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"
#include "workloads.h"

static bool string_in(const cJSON *values, const char *s)
{
        const cJSON *v;

        cJSON_ArrayForEach (v, values)
                if (cJSON_IsString(v) && streq(v->valuestring, s))
                        return true;
        return false;
}

static bool requirement_matches(const cJSON *req, const cJSON *labels)
{
        const char *key = json_str(req, "key"), *op = json_str(req, "operator");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(req, "values");
        const cJSON *l = key ? cJSON_GetObjectItemCaseSensitive(labels, key) : NULL;
        bool has = cJSON_IsString(l);

        if (!key || !op)
                return false;
        if (streq(op, "In"))
                return has && string_in(values, l->valuestring);
        if (streq(op, "NotIn"))
                return !has || !string_in(values, l->valuestring);
        if (streq(op, "Exists"))
                return has;
        if (streq(op, "DoesNotExist"))
                return !has;
        return false;
}

bool workload_selector_matches(const cJSON *sel, const cJSON *labels)
{
        const cJSON *ml, *exprs, *it;

        if (!cJSON_IsObject(sel))
                return false;
        ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
        cJSON_ArrayForEach (it, (cJSON_IsObject(ml) ? ml : NULL)) {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(labels, it->string);

                if (!cJSON_IsString(it) || !cJSON_IsString(l) || !streq(l->valuestring, it->valuestring))
                        return false;
        }
        exprs = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
        cJSON_ArrayForEach (it, (cJSON_IsArray(exprs) ? exprs : NULL))
                if (!requirement_matches(it, labels))
                        return false;
        return true;
}

void workload_validate_selector_matches_template(const cJSON *spec, const char *spec_path, FieldErrors *e)
{
        const cJSON *sel = cJSON_GetObjectItemCaseSensitive(spec, "selector");
        const cJSON *labels = json_path(spec, "template.metadata.labels");
        _cleanup_free_ char *p = NULL;

        if (!sel || cJSON_IsNull(sel) || workload_selector_matches(sel, labels))
                return;
        p = strjoin(spec_path, ".template.metadata.labels", NULL);
        if (!p) {
                e->oom = true;
                return;
        }
        field_error_add(e, FIELD_ERROR_INVALID, p, labels, "`selector` does not match template `labels`");
}

#define PERCENT_MSG                                                                                         \
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', " \
        "regex used for validation is '[0-9]+%')"

/* IsValidPercent: ^[0-9]+%$; returns the number (saturated) or -1. */
static int percent_value(const char *s)
{
        size_t n = strlen(s);
        long v = 0;

        if (n < 2 || s[n - 1] != '%')
                return -1;
        for (size_t i = 0; i + 1 < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = MIN(v * 10 + (s[i] - '0'), 1000000000L);
        }
        return (int)v;
}

int workload_int_or_percent_value(const cJSON *v)
{
        int p;

        if (cJSON_IsNumber(v))
                return (int)MAX(MIN(v->valuedouble, 2147483647.0), -2147483648.0);
        if (!cJSON_IsString(v))
                return 0;
        p = percent_value(v->valuestring);
        return p < 0 ? 0 : p;
}

void workload_validate_int_or_percent(const cJSON *v, const char *path, FieldErrors *e)
{
        if (!v || cJSON_IsNull(v))
                return;
        if (cJSON_IsString(v)) {
                int p = percent_value(v->valuestring);

                if (p < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, path, v, "%s", PERCENT_MSG);
                else if (p > 100)
                        field_error_add(e, FIELD_ERROR_INVALID, path, v, "must not be greater than 100%%");
        } else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble)) {
                if (v->valuedouble < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, path, v,
                                        "must be greater than or equal to 0");
        } else
                field_error_add(e, FIELD_ERROR_INVALID, path, v,
                                "must be an integer or percentage (e.g '5%%')");
}

void workload_forbid_active_deadline(const cJSON *spec, const char *spec_path, const char *kind,
                                     FieldErrors *e)
{
        const cJSON *ads = json_path(spec, "template.spec.activeDeadlineSeconds");
        _cleanup_free_ char *p = NULL;

        if (!ads || cJSON_IsNull(ads))
                return;
        p = strjoin(spec_path, ".template.spec.activeDeadlineSeconds", NULL);
        if (!p) {
                e->oom = true;
                return;
        }
        field_error_add(e, FIELD_ERROR_FORBIDDEN, p, NULL, "activeDeadlineSeconds in %s is not Supported",
                        kind);
}

static const cJSON *field_or_null(const cJSON *parent, const char *field)
{
        const cJSON *v = cJSON_IsObject(parent) ? cJSON_GetObjectItemCaseSensitive(parent, field) : NULL;

        return v && !cJSON_IsNull(v) ? v : NULL;
}

void workload_validate_immutable(const cJSON *new_parent, const cJSON *old_parent, const char *field,
                                 const char *parent_path, FieldErrors *e)
{
        const cJSON *n = field_or_null(new_parent, field), *o = field_or_null(old_parent, field);
        const cJSON null_value = {.type = cJSON_NULL};
        _cleanup_free_ char *p = NULL;

        if ((!n && !o) || (n && o && cJSON_Compare(n, o, true)))
                return;
        p = field_path_child(parent_path, field);
        if (!p) {
                e->oom = true;
                return;
        }
        field_error_add(e, FIELD_ERROR_INVALID, p, n ? n : &null_value, "field is immutable");
}

bool workload_json_has(const cJSON *obj, const char *field)
{
        return field_or_null(obj, field) != NULL;
}

static int set_if_unset(cJSON *obj, const char *field, cJSON *value)
{
        if (!value)
                return -ENOMEM;
        if (!cJSON_IsObject(obj) || workload_json_has(obj, field)) {
                cJSON_Delete(value);
                return 0;
        }
        return json_set(obj, field, value);
}

int workload_default_int(cJSON *obj, const char *field, int64_t value)
{
        return set_if_unset(obj, field, cJSON_CreateNumber((double)value));
}

int workload_default_bool(cJSON *obj, const char *field, bool value)
{
        return set_if_unset(obj, field, cJSON_CreateBool(value));
}

int workload_default_string(cJSON *obj, const char *field, const char *value)
{
        const cJSON *v = field_or_null(obj, field);

        /* An empty string is unset too, as Go's "" == zero value. */
        if (cJSON_IsString(v) && !v->valuestring[0] && cJSON_IsObject(obj)) {
                cJSON *s = cJSON_CreateString(value);
                return s ? json_set(obj, field, s) : -ENOMEM;
        }
        return set_if_unset(obj, field, cJSON_CreateString(value));
}

cJSON *workload_default_object(cJSON *obj, const char *field, bool *ret_oom)
{
        cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        *ret_oom = false;
        if (!cJSON_IsObject(obj))
                return NULL;
        if (cJSON_IsObject(v))
                return v;
        if (v && !cJSON_IsNull(v))
                return NULL;
        v = cJSON_CreateObject();
        if (!v || json_set(obj, field, v) < 0) {
                *ret_oom = true;
                return NULL;
        }
        return v;
}

int workload_template_set_defaults(cJSON *tmpl)
{
        cJSON *spec = cJSON_IsObject(tmpl) ? cJSON_GetObjectItemCaseSensitive(tmpl, "spec") : NULL;

        if (!cJSON_IsObject(spec))
                return 0;
        return pod_spec_set_defaults(spec);
}
