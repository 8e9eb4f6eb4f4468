/* apps/v1 StatefulSet: SetDefaults_StatefulSet, ValidateStatefulSetSpec (policies, update
 * strategy, selector and template, claim templates) and ValidateStatefulSetUpdate (only a
 * few spec fields may change). */
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

static bool is_unset_string(const cJSON *v)
{
        return !v || (cJSON_IsString(v) && !v->valuestring[0]);
}

static void validate_policy(const cJSON *spec, FieldErrors *e)
{
        const cJSON *pmp = get(spec, "podManagementPolicy");

        if (is_unset_string(pmp))
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.podManagementPolicy", NULL, NULL);
        else if (!cJSON_IsString(pmp) ||
                 (!streq(pmp->valuestring, "OrderedReady") && !streq(pmp->valuestring, "Parallel")))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.podManagementPolicy", pmp,
                                "must be 'OrderedReady' or 'Parallel'");
}

static void validate_rolling_update(const cJSON *ru, FieldErrors *e)
{
        const char *path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
        const cJSON *mu = get(ru, "maxUnavailable");

        validate_nonnegative(ru, "partition", "spec.updateStrategy.rollingUpdate", e);
        if (!mu)
                return;
        workload_validate_int_or_percent(mu, path, e);
        if (workload_int_or_percent_value(mu) == 0)
                field_error_add(e, FIELD_ERROR_INVALID, path, mu, "cannot be 0");
}

static void validate_update_strategy(const cJSON *spec, FieldErrors *e)
{
        const cJSON *us = get(spec, "updateStrategy"), *type = get(us, "type"),
                    *ru = get(us, "rollingUpdate");

        if (is_unset_string(type))
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.updateStrategy", NULL, NULL);
        else if (cJSON_IsString(type) && streq(type->valuestring, "OnDelete")) {
                if (ru)
                        field_error_add(e, FIELD_ERROR_INVALID, "spec.updateStrategy.rollingUpdate", ru,
                                        "only allowed for updateStrategy 'RollingUpdate'");
        } else if (cJSON_IsString(type) && streq(type->valuestring, "RollingUpdate")) {
                if (ru)
                        validate_rolling_update(ru, e);
        } else
                field_error_add(e, FIELD_ERROR_INVALID, "spec.updateStrategy", us,
                                "must be 'RollingUpdate' or 'OnDelete'");
}

static void validate_selector(const cJSON *spec, FieldErrors *e)
{
        const cJSON *sel = get(spec, "selector");

        if (!sel) {
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.selector", NULL, NULL);
                return;
        }
        validate_label_selector(sel, "spec.selector", e);
        if (cJSON_IsObject(sel) &&
            cJSON_GetArraySize(get(sel, "matchLabels")) + cJSON_GetArraySize(get(sel, "matchExpressions")) ==
                0)
                field_error_add(e, FIELD_ERROR_INVALID, "spec.selector", sel,
                                "empty selector is invalid for statefulset");
        workload_validate_selector_matches_template(spec, "spec", e);
}

static void validate_claim_templates(const cJSON *spec, FieldErrors *e)
{
        const cJSON *vcts = get(spec, "volumeClaimTemplates"), *vct;
        size_t i = 0;

        if (vcts && !cJSON_IsArray(vcts)) {
                field_error_add(e, FIELD_ERROR_INVALID, "spec.volumeClaimTemplates", vcts, "must be a list");
                return;
        }
        cJSON_ArrayForEach (vct, vcts) {
                _cleanup_free_ char *p = field_path_index("spec.volumeClaimTemplates", i++);
                _cleanup_free_ char *np = field_path_append(e, p, ".metadata.name"),
                                    *sp = field_path_append(e, p, ".spec");
                const char *name = json_str(vct, "metadata.name");

                if (!np || !sp) {
                        e->oom = true;
                        return;
                }
                if (isempty(name))
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL,
                                        "name or generateName is required");
                else
                        validate_dns1123_subdomain(name, np, e);
                pvc_spec_validate(get(vct, "spec"), sp, e);
        }
}

/* The controller mounts each claim template as a volume of the same name; validate the pod
 * template as the pods will look, so that mounts of claim volumes resolve. */
static cJSON *template_with_claims(const cJSON *spec)
{
        const cJSON *vct, *vcts = get(spec, "volumeClaimTemplates");
        cJSON *tmpl = cJSON_Duplicate(get(spec, "template"), true), *pspec, *vols;

        if (!tmpl)
                return NULL;
        pspec = cJSON_GetObjectItemCaseSensitive(tmpl, "spec");
        if (!cJSON_IsObject(pspec) || !cJSON_IsArray(vcts))
                return tmpl;
        vols = cJSON_GetObjectItemCaseSensitive(pspec, "volumes");
        if (!vols || cJSON_IsNull(vols)) {
                vols = cJSON_CreateArray();
                if (!vols || json_set(pspec, "volumes", vols) < 0)
                        return cJSON_Delete(tmpl), NULL;
        }
        if (!cJSON_IsArray(vols))
                return tmpl;
        cJSON_ArrayForEach (vct, vcts) {
                const char *name = json_str(vct, "metadata.name");
                cJSON *v, *claim;
                int i = 0, found = -1;

                if (isempty(name))
                        continue;
                cJSON_ArrayForEach (v, vols) {
                        const char *vn = json_str(v, "name");
                        if (vn && streq(vn, name))
                                found = i;
                        i++;
                }
                v = cJSON_CreateObject();
                claim = v ? cJSON_AddObjectToObject(v, "persistentVolumeClaim") : NULL;
                if (!claim || !cJSON_AddStringToObject(v, "name", name) ||
                    !cJSON_AddStringToObject(claim, "claimName", name)) {
                        cJSON_Delete(v);
                        return cJSON_Delete(tmpl), NULL;
                }
                if (found >= 0)
                        cJSON_ReplaceItemInArray(vols, found, v);
                else
                        cJSON_AddItemToArray(vols, v);
        }
        return tmpl;
}

static void validate_template(const cJSON *spec, FieldErrors *e)
{
        static const char *const always[] = {"Always", NULL};
        _cleanup_json_ cJSON *tmpl = NULL;

        if (!get(spec, "template")) {
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.template", NULL, NULL);
                return;
        }
        tmpl = template_with_claims(spec);
        if (!tmpl) {
                e->oom = true;
                return;
        }
        pod_template_validate(tmpl, "spec.template", always, e);
        workload_forbid_active_deadline(spec, "spec", "StatefulSet", e);
}

static void validate_retention(const cJSON *spec, FieldErrors *e)
{
        static const char *const values[] = {"Retain", "Delete", NULL};
        const char *path = "spec.persistentVolumeClaimRetentionPolicy";
        const cJSON *pol = get(spec, "persistentVolumeClaimRetentionPolicy");

        if (!pol)
                return;
        validate_enum(pol, "whenDeleted", path, values, false, e);
        validate_enum(pol, "whenScaled", path, values, false, e);
}

void statefulset_validate(const cJSON *obj, FieldErrors *e)
{
        const cJSON *spec = get(obj, "spec");
        const char *name = json_str(obj, "metadata.name");

        /* StatefulSet names are DNS labels (pods are "<name>-<ordinal>" hostnames); names
         * that are not even subdomains are reported by the metadata check. */
        if (name && !is_dns1123_label(name) && is_dns1123_subdomain(name))
                validate_dns1123_label(name, "metadata.name", e);
        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, "spec", spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        validate_policy(spec, e);
        validate_update_strategy(spec, e);
        validate_retention(spec, e);
        validate_nonnegative(spec, "replicas", "spec", e);
        validate_nonnegative(spec, "minReadySeconds", "spec", e);
        validate_nonnegative(spec, "revisionHistoryLimit", "spec", e);
        if (get(spec, "ordinals"))
                validate_nonnegative(get(spec, "ordinals"), "start", "spec.ordinals", e);
        validate_type_string(spec, "serviceName", "spec", e);
        validate_selector(spec, e);
        validate_template(spec, e);
        validate_claim_templates(spec, e);
}

void statefulset_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e)
{
        static const char *const mutable[] = {"replicas",
                                              "template",
                                              "updateStrategy",
                                              "minReadySeconds",
                                              "ordinals",
                                              "persistentVolumeClaimRetentionPolicy",
                                              "revisionHistoryLimit"};
        _cleanup_json_ cJSON *ns = cJSON_Duplicate(get(n, "spec"), true),
                             *os = cJSON_Duplicate(get(o, "spec"), true);

        if ((get(n, "spec") && !ns) || (get(o, "spec") && !os)) {
                e->oom = true;
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(mutable); i++) {
                cJSON_DeleteItemFromObjectCaseSensitive(ns, mutable[i]);
                cJSON_DeleteItemFromObjectCaseSensitive(os, mutable[i]);
        }
        if (!cJSON_Compare(ns, os, true) && (ns || os))
                field_error_add(e, FIELD_ERROR_FORBIDDEN, "spec", NULL,
                                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                "'minReadySeconds' are forbidden");
}

int statefulset_set_defaults(cJSON *obj)
{
        cJSON *spec, *us, *ru, *pol;
        bool oom;
        int r;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        r = workload_default_string(spec, "podManagementPolicy", "OrderedReady");
        if (r < 0)
                return r;
        us = workload_default_object(spec, "updateStrategy", &oom);
        if (oom)
                return -ENOMEM;
        if (us && isempty(json_str(us, "type")) &&
            !(workload_json_has(us, "type") && !json_str(us, "type"))) {
                r = workload_default_string(us, "type", "RollingUpdate");
                if (r >= 0 && !workload_default_object(us, "rollingUpdate", &oom) && oom)
                        r = -ENOMEM;
                if (r < 0)
                        return r;
        }
        ru = us ? cJSON_GetObjectItemCaseSensitive(us, "rollingUpdate") : NULL;
        if (cJSON_IsObject(ru) && streq(json_str(us, "type") ?: "", "RollingUpdate")) {
                r = workload_default_int(ru, "partition", 0);
                if (r < 0)
                        return r;
        }
        pol = workload_default_object(spec, "persistentVolumeClaimRetentionPolicy", &oom);
        if (oom)
                return -ENOMEM;
        r = workload_default_string(pol, "whenDeleted", "Retain");
        if (r >= 0)
                r = workload_default_string(pol, "whenScaled", "Retain");
        if (r >= 0)
                r = workload_default_int(spec, "replicas", 1);
        if (r >= 0)
                r = workload_default_int(spec, "revisionHistoryLimit", 10);
        if (r >= 0)
                r = workload_template_set_defaults(cJSON_GetObjectItemCaseSensitive(spec, "template"));
        return r;
}
