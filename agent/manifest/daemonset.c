/* apps/v1 DaemonSet: SetDefaults_DaemonSet, ValidateDaemonSetSpec (selector and template,
 * rolling update limits) and the immutable selector on update. */
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"
#include "workloads.h"

static const cJSON *get(const cJSON *obj, const char *field)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        return v && !cJSON_IsNull(v) ? v : NULL;
}

/* ValidateRollingUpdateDaemonSet: both limits int or percent (<= 100%), exactly one non-zero. */
static void validate_rolling_update(const cJSON *ru, FieldErrors *e)
{
        const char *mu_path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
        const char *ms_path = "spec.updateStrategy.rollingUpdate.maxSurge";
        const cJSON *mu = get(ru, "maxUnavailable"), *ms = get(ru, "maxSurge");
        bool has_unavailable, has_surge;

        workload_validate_int_or_percent(mu, mu_path, e);
        workload_validate_int_or_percent(ms, ms_path, e);
        has_unavailable = workload_int_or_percent_value(mu) != 0;
        has_surge = workload_int_or_percent_value(ms) != 0;
        if (has_unavailable && has_surge)
                field_error_add(e, FIELD_ERROR_INVALID, ms_path, ms,
                                "may not be set when maxUnavailable is non-zero");
        else if (!has_unavailable && !has_surge)
                field_error_add(e, FIELD_ERROR_REQUIRED, mu_path, NULL, "cannot be 0 when maxSurge is 0");
}

static void validate_update_strategy(const cJSON *spec, FieldErrors *e)
{
        static const char *const types[] = {"RollingUpdate", "OnDelete", NULL};
        const cJSON *us = get(spec, "updateStrategy"), *type = get(us, "type"),
                    *ru = get(us, "rollingUpdate");
        const cJSON empty = {.type = cJSON_Object};

        if (cJSON_IsString(type) && streq(type->valuestring, "OnDelete"))
                return;
        if (cJSON_IsString(type) && streq(type->valuestring, "RollingUpdate")) {
                if (!ru)
                        field_error_add(e, FIELD_ERROR_REQUIRED, "spec.updateStrategy.rollingUpdate", NULL,
                                        NULL);
                else
                        validate_rolling_update(ru, e);
                return;
        }
        field_error_not_supported(e, "spec.updateStrategy", us ? us : &empty, types);
}

static void validate_selector(const cJSON *spec, FieldErrors *e)
{
        const cJSON *sel = get(spec, "selector");

        /* Upstream only reports the mismatch with the template here; a plain "Required"
         * says what is wrong more directly. */
        if (!sel) {
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.selector", NULL, NULL);
                return;
        }
        validate_label_selector(sel, "spec.selector", e);
        workload_validate_selector_matches_template(spec, "spec", e);
        if (cJSON_IsObject(sel) &&
            cJSON_GetArraySize(get(sel, "matchLabels")) + cJSON_GetArraySize(get(sel, "matchExpressions")) ==
                0)
                field_error_add(e, FIELD_ERROR_INVALID, "spec.selector", sel,
                                "empty selector is invalid for daemonset");
}

void daemonset_validate(const cJSON *obj, FieldErrors *e)
{
        static const char *const always[] = {"Always", NULL};
        const cJSON *spec = get(obj, "spec"), *tmpl;

        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, "spec", spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        validate_selector(spec, e);
        tmpl = get(spec, "template");
        if (!tmpl)
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.template", NULL, NULL);
        else
                pod_template_validate(tmpl, "spec.template", always, e);
        workload_forbid_active_deadline(spec, "spec", "DaemonSet", e);
        validate_nonnegative(spec, "minReadySeconds", "spec", e);
        validate_nonnegative(spec, "templateGeneration", "spec", e);
        validate_update_strategy(spec, e);
        validate_nonnegative(spec, "revisionHistoryLimit", "spec", e);
}

void daemonset_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e)
{
        workload_validate_immutable(get(n, "spec"), get(o, "spec"), "selector", "spec", e);
}

int daemonset_set_defaults(cJSON *obj)
{
        cJSON *spec, *us, *ru;
        bool oom;
        int r;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        us = workload_default_object(spec, "updateStrategy", &oom);
        if (oom)
                return -ENOMEM;
        r = workload_default_string(us, "type", "RollingUpdate");
        if (r < 0)
                return r;
        if (us && streq(json_str(us, "type") ?: "", "RollingUpdate")) {
                ru = workload_default_object(us, "rollingUpdate", &oom);
                if (oom)
                        return -ENOMEM;
                r = workload_default_int(ru, "maxUnavailable", 1);
                if (r >= 0)
                        r = workload_default_int(ru, "maxSurge", 0);
                if (r < 0)
                        return r;
        }
        r = workload_default_int(spec, "revisionHistoryLimit", 10);
        if (r >= 0)
                r = workload_template_set_defaults(cJSON_GetObjectItemCaseSensitive(spec, "template"));
        return r;
}
