/* batch/v1 Job: SetDefaults_Job, ValidateJob / validateJobSpec (shared with CronJob's
 * jobTemplate) and ValidateJobSpecUpdate, with the apiserver's messages. The selector is
 * generated from the object's UID as the apiserver does, but only once a UID is set: a
 * manifest defaulted before it has one keeps no selector, and validation then only checks
 * that a user-given selector matches the template labels. */
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"
#include "workloads.h"

#define MAX_PARALLELISM_INDEXED 100000
#define MAX_FAILED_INDEXES 100000
#define COMPLETIONS_SOFT_LIMIT 100000
#define LIMIT_FOR_HIGH_COMPLETIONS 10000
#define MAX_POD_FAILURE_POLICY_RULES 20
#define MAX_ON_EXIT_CODES_VALUES 255
#define MAX_ON_POD_CONDITIONS 20
#define MAX_MANAGED_BY_LENGTH 63
#define MAX_SUCCEEDED_INDEXES_LENGTH (64 * 1024)
#define MAX_SUCCESS_POLICY_RULES 20

static const char *const actions[] = {"Count", "FailIndex", "FailJob", "Ignore", NULL};
static const char *const exit_code_operators[] = {"In", "NotIn", NULL};
static const char *const condition_statuses[] = {"False", "True", "Unknown", NULL};

/* Paths are built with a _cleanup_free_ local; on OOM the error list is marked and the
 * caller returns. */
#define PATH(var, ...)                                                                                      \
        _cleanup_free_ char *var = strjoin(__VA_ARGS__, NULL);                                              \
        if (!var) {                                                                                         \
                e->oom = true;                                                                              \
                return;                                                                                     \
        }

static const cJSON *get(const cJSON *obj, const char *field)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, field) : NULL;

        return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool get_int(const cJSON *obj, const char *field, int64_t *ret)
{
        const cJSON *v = get(obj, field);

        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9.2e18)
                return false;
        *ret = (int64_t)v->valuedouble;
        return true;
}

static void too_many(FieldErrors *e, const char *path, int n, int max)
{
        cJSON count = {.type = cJSON_Number, .valueint = n, .valuedouble = n};

        field_error_add(e, FIELD_ERROR_TOO_MANY, path, &count, "must have at most %d items", max);
}

static bool container_named(const cJSON *pod_spec, const char *name)
{
        static const char *const lists[] = {"containers", "initContainers"};

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                const cJSON *c, *list = get(pod_spec, lists[i]);

                cJSON_ArrayForEach (c, (cJSON_IsArray(list) ? list : NULL)) {
                        const char *n = json_str(c, "name");
                        if (n && streq(n, name))
                                return true;
                }
        }
        return false;
}

static void validate_on_exit_codes(const cJSON *oec, const cJSON *pod_spec, const char *path, FieldErrors *e)
{
        const cJSON *op = get(oec, "operator"), *cn = get(oec, "containerName"),
                    *values = get(oec, "values"), *v;
        bool in = cJSON_IsString(op) && streq(op->valuestring, "In"), ordered = true;
        int n = cJSON_IsArray(values) ? cJSON_GetArraySize(values) : 0, i = 0;
        double prev = 0;
        PATH(op_path, path, ".operator");
        PATH(values_path, path, ".values");
        PATH(cn_path, path, ".containerName");

        if (!op || (cJSON_IsString(op) && !op->valuestring[0]))
                field_error_add(e, FIELD_ERROR_REQUIRED, op_path, NULL, "valid values: [\"In\" \"NotIn\"]");
        else
                validate_enum(oec, "operator", path, exit_code_operators, false, e);
        if (cJSON_IsString(cn) && !container_named(pod_spec, cn->valuestring))
                field_error_add(e, FIELD_ERROR_INVALID, cn_path, cn,
                                "must be one of the container or initContainer names in the pod template");
        if (values && !cJSON_IsArray(values)) {
                field_error_add(e, FIELD_ERROR_INVALID, values_path, values, "must be a list");
                return;
        }
        if (n == 0) {
                const cJSON empty = {.type = cJSON_Array};
                field_error_add(e, FIELD_ERROR_INVALID, values_path, values ? values : &empty,
                                "at least one value is required");
        } else if (n > MAX_ON_EXIT_CODES_VALUES)
                too_many(e, values_path, n, MAX_ON_EXIT_CODES_VALUES);
        cJSON_ArrayForEach (v, values) {
                _cleanup_free_ char *vp = field_path_index(values_path, (size_t)i);
                const cJSON *w;
                bool dup = false;

                if (!vp) {
                        e->oom = true;
                        return;
                }
                if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
                        field_error_add(e, FIELD_ERROR_INVALID, vp, v, "must be an integer");
                        i++;
                        continue;
                }
                if (in && v->valuedouble == 0)
                        field_error_add(e, FIELD_ERROR_INVALID, vp, v, "must not be 0 for the In operator");
                cJSON_ArrayForEach (w, values) {
                        if (w == v)
                                break;
                        if (cJSON_IsNumber(w) && w->valuedouble == v->valuedouble)
                                dup = true;
                }
                if (dup)
                        field_error_add(e, FIELD_ERROR_DUPLICATE, vp, v, NULL);
                if (i > 0 && prev > v->valuedouble)
                        ordered = false;
                prev = v->valuedouble;
                i++;
        }
        if (!ordered)
                field_error_add(e, FIELD_ERROR_INVALID, values_path, values, "must be ordered");
}

static void validate_on_pod_conditions(const cJSON *conds, const char *path, FieldErrors *e)
{
        const cJSON *c;
        int n = cJSON_GetArraySize(conds);
        size_t i = 0;

        if (n > MAX_ON_POD_CONDITIONS)
                too_many(e, path, n, MAX_ON_POD_CONDITIONS);
        cJSON_ArrayForEach (c, conds) {
                _cleanup_free_ char *pp = field_path_index(path, i++);
                const cJSON *type = get(c, "type"), *status = get(c, "status");

                if (!pp) {
                        e->oom = true;
                        return;
                }
                PATH(type_path, pp, ".type");
                PATH(status_path, pp, ".status");
                validate_qualified_name(cJSON_IsString(type) ? type->valuestring : "", type_path, e);
                if (!status || (cJSON_IsString(status) && !status->valuestring[0]))
                        field_error_add(e, FIELD_ERROR_REQUIRED, status_path, NULL,
                                        "valid values: [\"False\" \"True\" \"Unknown\"]");
                else
                        validate_enum(c, "status", pp, condition_statuses, false, e);
        }
}

static void validate_pod_failure_rule(const cJSON *spec, const cJSON *rule, const char *path, FieldErrors *e)
{
        const cJSON *action = get(rule, "action"), *oec = get(rule, "onExitCodes"),
                    *opc = get(rule, "onPodConditions");
        bool has_opc = cJSON_IsArray(opc) && cJSON_GetArraySize(opc) > 0;
        PATH(action_path, path, ".action");
        PATH(oec_path, path, ".onExitCodes");
        PATH(opc_path, path, ".onPodConditions");

        if (!action || (cJSON_IsString(action) && !action->valuestring[0]))
                field_error_add(e, FIELD_ERROR_REQUIRED, action_path, NULL,
                                "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]");
        else if (cJSON_IsString(action) && streq(action->valuestring, "FailIndex")) {
                if (!get(spec, "backoffLimitPerIndex"))
                        field_error_add(e, FIELD_ERROR_INVALID, action_path, action,
                                        "requires the backoffLimitPerIndex to be set");
        } else
                validate_enum(rule, "action", path, actions, false, e);
        if (oec)
                validate_on_exit_codes(oec, json_path(spec, "template.spec"), oec_path, e);
        if (opc && !cJSON_IsArray(opc))
                field_error_add(e, FIELD_ERROR_INVALID, opc_path, opc, "must be a list");
        else if (has_opc)
                validate_on_pod_conditions(opc, opc_path, e);
        if (oec && has_opc)
                field_error_add(e, FIELD_ERROR_INVALID, path, NULL,
                                "specifying both OnExitCodes and OnPodConditions is not supported");
        if (!oec && !has_opc)
                field_error_add(e, FIELD_ERROR_INVALID, path, NULL,
                                "specifying one of OnExitCodes and OnPodConditions is required");
}

static void validate_pod_failure_policy(const cJSON *spec, const char *sp, FieldErrors *e)
{
        const cJSON *rules = get(get(spec, "podFailurePolicy"), "rules"), *rule;
        size_t i = 0;
        PATH(rules_path, sp, ".podFailurePolicy.rules");

        if (rules && !cJSON_IsArray(rules)) {
                field_error_add(e, FIELD_ERROR_INVALID, rules_path, rules, "must be a list");
                return;
        }
        if (cJSON_GetArraySize(rules) > MAX_POD_FAILURE_POLICY_RULES)
                too_many(e, rules_path, cJSON_GetArraySize(rules), MAX_POD_FAILURE_POLICY_RULES);
        cJSON_ArrayForEach (rule, rules) {
                _cleanup_free_ char *rp = field_path_index(rules_path, i++);

                if (!rp) {
                        e->oom = true;
                        return;
                }
                validate_pod_failure_rule(spec, rule, rp, e);
        }
}

/* validateIndexesFormat: "1,3-5,7", increasing, each index < completions. Returns the
 * number of indexes or -1 with *ret_msg set (malloc'd). */
static int64_t indexes_count(const char *s, int64_t completions, char **ret_msg)
{
        _cleanup_free_ char *copy = strdup(s);
        int64_t total = 0, last = -1;
        char *save = NULL;

        if (!copy)
                return -2;
        if (!*s)
                return 0;
        /* strtok would drop empty fragments; walk by hand so "1,,2" fails like strconv.Atoi(""). */
        for (char *frag = copy; frag; frag = save) {
                char *parts[3] = {frag, NULL, NULL}, *end;
                long long v[2];
                size_t np = 1;

                save = strchr(frag, ',');
                if (save)
                        *save++ = 0;
                _cleanup_free_ char *whole = strdup(frag);
                if (!whole)
                        return -2;
                for (char *h = strchr(frag, '-'); h && np < 3; h = strchr(h + 1, '-')) {
                        *h = 0;
                        parts[np++] = h + 1;
                }
                if (np > 2 || (parts[1] && strchr(parts[1], '-')))
                        return asprintf_safe(
                                   ret_msg,
                                   "the fragment \"%s\" violates the requirement that an index interval "
                                   "can have at most two parts separated by '-'",
                                   whole) < 0
                                   ? -2
                                   : -1;
                for (size_t k = 0; k < np; k++) {
                        v[k] = strtoll(parts[k], &end, 10);
                        if (!*parts[k] || *end || *parts[k] == ' ')
                                return asprintf_safe(ret_msg,
                                                     "cannot convert string to integer for index: \"%s\"",
                                                     parts[k]) < 0
                                           ? -2
                                           : -1;
                        if (v[k] >= completions)
                                return asprintf_safe(ret_msg, "too large index: \"%s\"", parts[k]) < 0 ? -2
                                                                                                       : -1;
                        if (last >= v[k] && (k > 0 || total > 0))
                                return asprintf_safe(ret_msg,
                                                     "non-increasing order, previous: %lld, current: %lld",
                                                     (long long)last, v[k]) < 0
                                           ? -2
                                           : -1;
                        total += k == 0 ? 1 : v[1] - v[0];
                        last = v[k];
                }
        }
        return total;
}

static void validate_success_rule(const cJSON *rule, int64_t completions, const char *path, FieldErrors *e)
{
        const cJSON *idx = get(rule, "succeededIndexes"), *cnt = get(rule, "succeededCount");
        int64_t total = 0, count;
        PATH(idx_path, path, ".succeededIndexes");
        PATH(cnt_path, path, ".succeededCount");

        if (!idx && !cnt)
                field_error_add(e, FIELD_ERROR_REQUIRED, path, NULL,
                                "at least one of succeededCount or succeededIndexes must be specified");
        if (cJSON_IsString(idx)) {
                _cleanup_free_ char *msg = NULL;

                if (strlen(idx->valuestring) > MAX_SUCCEEDED_INDEXES_LENGTH)
                        field_error_add(e, FIELD_ERROR_TOO_LONG, idx_path, idx,
                                        "may not be more than %d bytes", MAX_SUCCEEDED_INDEXES_LENGTH);
                total = indexes_count(idx->valuestring, completions, &msg);
                if (total == -2)
                        e->oom = true;
                else if (total < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, idx_path, idx,
                                        "error parsing succeededIndexes: %s", msg);
        }
        if (get_int(rule, "succeededCount", &count)) {
                validate_nonnegative(rule, "succeededCount", path, e);
                if (count > completions)
                        field_error_add(
                            e, FIELD_ERROR_INVALID, cnt_path, cnt,
                            "must be less than or equal to %lld (the number of specified completions)",
                            (long long)completions);
                if (cJSON_IsString(idx) && total >= 0 && count > total)
                        field_error_add(e, FIELD_ERROR_INVALID, cnt_path, cnt,
                                        "must be less than or equal to %lld (the number of indexes in the "
                                        "specified succeededIndexes field)",
                                        (long long)total);
        }
}

static void validate_success_policy(const cJSON *spec, const char *sp, FieldErrors *e)
{
        const cJSON *rules = get(get(spec, "successPolicy"), "rules"), *rule;
        int64_t completions;
        int n = cJSON_IsArray(rules) ? cJSON_GetArraySize(rules) : 0;
        size_t i = 0;
        PATH(rules_path, sp, ".successPolicy.rules");

        if (n == 0)
                field_error_add(e, FIELD_ERROR_REQUIRED, rules_path, NULL,
                                "at least one rules must be specified when the successPolicy is specified");
        if (n > MAX_SUCCESS_POLICY_RULES)
                too_many(e, rules_path, n, MAX_SUCCESS_POLICY_RULES);
        /* Indexed jobs without completions were already reported. */
        if (!get_int(spec, "completions", &completions))
                return;
        cJSON_ArrayForEach (rule, (cJSON_IsArray(rules) ? rules : NULL)) {
                _cleanup_free_ char *rp = field_path_index(rules_path, i++);

                if (!rp) {
                        e->oom = true;
                        return;
                }
                validate_success_rule(rule, completions, rp, e);
        }
}

static void validate_indexed(const cJSON *spec, const char *sp, FieldErrors *e)
{
        int64_t completions = 0, parallelism = 0, mfi = 0;
        bool has_c = get_int(spec, "completions", &completions),
             has_p = get_int(spec, "parallelism", &parallelism);
        bool has_mfi = get_int(spec, "maxFailedIndexes", &mfi);
        const cJSON *pv = get(spec, "parallelism"), *mv = get(spec, "maxFailedIndexes");
        PATH(cp, sp, ".completions");
        PATH(pp, sp, ".parallelism");
        PATH(mp, sp, ".maxFailedIndexes");

        if (!get(spec, "completions"))
                field_error_add(e, FIELD_ERROR_REQUIRED, cp, NULL, "when completion mode is Indexed");
        if (has_p && parallelism > MAX_PARALLELISM_INDEXED)
                field_error_add(e, FIELD_ERROR_INVALID, pp, pv,
                                "must be less than or equal to %d when completion mode is Indexed",
                                MAX_PARALLELISM_INDEXED);
        if (has_c && has_mfi && mfi > completions)
                field_error_add(e, FIELD_ERROR_INVALID, mp, mv, "must be less than or equal to completions");
        if (has_mfi && mfi > MAX_FAILED_INDEXES)
                field_error_add(e, FIELD_ERROR_INVALID, mp, mv, "must be less than or equal to %d",
                                MAX_FAILED_INDEXES);
        if (!has_c || completions <= COMPLETIONS_SOFT_LIMIT || !get(spec, "backoffLimitPerIndex"))
                return;
        if (!get(spec, "maxFailedIndexes"))
                field_error_add(e, FIELD_ERROR_REQUIRED, mp, NULL,
                                "must be specified when completions is above %d", COMPLETIONS_SOFT_LIMIT);
        if (has_p && parallelism > LIMIT_FOR_HIGH_COMPLETIONS)
                field_error_add(
                    e, FIELD_ERROR_INVALID, pp, pv,
                    "must be less than or equal to %d when completions are above %d and used with "
                    "backoff limit per index",
                    LIMIT_FOR_HIGH_COMPLETIONS, COMPLETIONS_SOFT_LIMIT);
        if (has_mfi && mfi > LIMIT_FOR_HIGH_COMPLETIONS)
                field_error_add(
                    e, FIELD_ERROR_INVALID, mp, mv,
                    "must be less than or equal to %d when completions are above %d and used with "
                    "backoff limit per index",
                    LIMIT_FOR_HIGH_COMPLETIONS, COMPLETIONS_SOFT_LIMIT);
}

static void validate_template(const cJSON *spec, const char *sp, FieldErrors *e)
{
        static const char *const allowed[] = {"OnFailure", "Never", NULL};
        static const char *const replacement[] = {"Failed", "TerminatingOrFailed", NULL};
        static const char *const replacement_pfp[] = {"Failed", NULL};
        const cJSON *tmpl = get(spec, "template");
        const char *rp = json_str(tmpl, "spec.restartPolicy");
        PATH(tp, sp, ".template");
        PATH(rpp, sp, ".template.spec.restartPolicy");

        validate_enum(spec, "podReplacementPolicy", sp,
                      get(spec, "podFailurePolicy") ? replacement_pfp : replacement, false, e);
        if (!tmpl) {
                field_error_add(e, FIELD_ERROR_REQUIRED, tp, NULL, NULL);
                return;
        }
        pod_template_validate(tmpl, tp, allowed, e);
        if (get(spec, "podFailurePolicy") && rp && streq(rp, "OnFailure"))
                field_error_add(e, FIELD_ERROR_INVALID, rpp, json_path(tmpl, "spec.restartPolicy"),
                                "only \"Never\" is supported when podFailurePolicy is specified");
}

void job_spec_validate(const cJSON *spec, const char *sp, FieldErrors *e)
{
        static const char *const ints[] = {"parallelism",
                                           "completions",
                                           "activeDeadlineSeconds",
                                           "backoffLimit",
                                           "ttlSecondsAfterFinished",
                                           "backoffLimitPerIndex",
                                           "maxFailedIndexes"};
        static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
        const cJSON *managed_by = get(spec, "managedBy"), *sp_v = get(spec, "successPolicy");
        const char *mode;
        PATH(blpi, sp, ".backoffLimitPerIndex");
        PATH(mfi, sp, ".maxFailedIndexes");
        PATH(mb, sp, ".managedBy");
        PATH(spp, sp, ".successPolicy");

        if (!cJSON_IsObject(spec)) {
                field_error_add(e, spec ? FIELD_ERROR_INVALID : FIELD_ERROR_REQUIRED, sp, spec,
                                spec ? "must be an object" : NULL);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(ints); i++)
                validate_nonnegative(spec, ints[i], sp, e);
        if (get(spec, "maxFailedIndexes") && !get(spec, "backoffLimitPerIndex"))
                field_error_add(e, FIELD_ERROR_REQUIRED, blpi, NULL, "when maxFailedIndexes is specified");
        if (validate_type_string(spec, "managedBy", sp, e) && cJSON_IsString(managed_by) &&
            strlen(managed_by->valuestring) > MAX_MANAGED_BY_LENGTH)
                field_error_add(e, FIELD_ERROR_TOO_LONG, mb, managed_by, "may not be more than %d bytes",
                                MAX_MANAGED_BY_LENGTH);
        validate_type_bool(spec, "suspend", sp, e);
        validate_type_bool(spec, "manualSelector", sp, e);

        mode = validate_enum(spec, "completionMode", sp, modes, false, e);
        if (mode && streq(mode, "Indexed"))
                validate_indexed(spec, sp, e);
        else if (!get(spec, "completionMode") || (mode && streq(mode, "NonIndexed"))) {
                if (get(spec, "backoffLimitPerIndex"))
                        field_error_add(e, FIELD_ERROR_INVALID, blpi, get(spec, "backoffLimitPerIndex"),
                                        "requires indexed completion mode");
                if (get(spec, "maxFailedIndexes"))
                        field_error_add(e, FIELD_ERROR_INVALID, mfi, get(spec, "maxFailedIndexes"),
                                        "requires indexed completion mode");
        }
        if (get(spec, "podFailurePolicy"))
                validate_pod_failure_policy(spec, sp, e);
        if (sp_v) {
                if (!mode || !streq(mode, "Indexed"))
                        field_error_add(e, FIELD_ERROR_INVALID, spp, sp_v,
                                        "requires indexed completion mode");
                else
                        validate_success_policy(spec, sp, e);
        }
        validate_template(spec, sp, e);
}

void job_validate(const cJSON *obj, FieldErrors *e)
{
        const cJSON *spec = get(obj, "spec"), *sel = get(spec, "selector");
        const char *name = json_str(obj, "metadata.name"), *mode = json_str(spec, "completionMode");
        int64_t completions;

        job_spec_validate(spec, "spec", e);
        if (!cJSON_IsObject(spec))
                return;
        if (sel) {
                validate_label_selector(sel, "spec.selector", e);
                workload_validate_selector_matches_template(spec, "spec", e);
        } else if (json_bool(spec, "manualSelector", false))
                field_error_add(e, FIELD_ERROR_REQUIRED, "spec.selector", NULL, NULL);

        /* Indexed pods get hostnames "<job>-<index>", which must be DNS labels. */
        if (name && mode && streq(mode, "Indexed") && get_int(spec, "completions", &completions) &&
            completions > 0) {
                _cleanup_free_ char *host = NULL;

                if (asprintf_safe(&host, "%s-%lld", name, (long long)(completions - 1)) < 0) {
                        e->oom = true;
                        return;
                }
                if (!is_dns1123_label(host))
                        field_error_add(e, FIELD_ERROR_INVALID, "metadata.name",
                                        get(get(obj, "metadata"), "name"),
                                        "will not able to create pod with invalid DNS label: %s", host);
        }
}

static void validate_completions_update(const cJSON *n, const cJSON *o, FieldErrors *e)
{
        const char *mode = json_str(n, "completionMode");
        const cJSON *nc = get(n, "completions"), *oc = get(o, "completions"), *np = get(n, "parallelism");

        /* Elastic Indexed Jobs: completions may change together with parallelism. */
        if (!mode || !streq(mode, "Indexed")) {
                workload_validate_immutable(n, o, "completions", "spec", e);
                return;
        }
        if (!nc || (oc && cJSON_Compare(nc, oc, true)))
                return;
        if (!np || !cJSON_Compare(nc, np, true))
                field_error_add(e, FIELD_ERROR_INVALID, "spec.completions", nc,
                                "can only be modified in tandem with spec.parallelism");
}

void job_validate_update(const cJSON *n, const cJSON *o, FieldErrors *e)
{
        static const char *const immutable[] = {
            "selector",  "template",     "completionMode", "podFailurePolicy", "backoffLimitPerIndex",
            "managedBy", "successPolicy"};
        const cJSON *ns = get(n, "spec"), *os = get(o, "spec");

        validate_completions_update(ns, os, e);
        for (size_t i = 0; i < ELEMENTSOF(immutable); i++)
                workload_validate_immutable(ns, os, immutable[i], "spec", e);
}

int job_spec_set_template_defaults(cJSON *spec)
{
        cJSON *rules = cJSON_GetObjectItemCaseSensitive(get(spec, "podFailurePolicy"), "rules"), *rule;
        int r;

        cJSON_ArrayForEach (rule, (cJSON_IsArray(rules) ? rules : NULL)) {
                cJSON *conds = cJSON_GetObjectItemCaseSensitive(rule, "onPodConditions"), *c;

                cJSON_ArrayForEach (c, (cJSON_IsArray(conds) ? conds : NULL)) {
                        r = workload_default_string(c, "status", "True");
                        if (r < 0)
                                return r;
                }
        }
        return workload_template_set_defaults(cJSON_GetObjectItemCaseSensitive(spec, "template"));
}

/* generateSelector: with a UID known and manualSelector unset, label the template with the
 * controller-uid and job-name labels (legacy and batch.kubernetes.io/) and select on the
 * UID. */
static int generate_selector(cJSON *obj, cJSON *spec)
{
        static const char *const uid_labels[] = {"controller-uid", "batch.kubernetes.io/controller-uid"};
        static const char *const name_labels[] = {"job-name", "batch.kubernetes.io/job-name"};
        const char *uid = json_str(obj, "metadata.uid"), *name = json_str(obj, "metadata.name");
        cJSON *tmpl, *meta, *labels, *sel, *ml;
        bool oom;
        int r;

        if (isempty(uid) || !name || json_bool(spec, "manualSelector", false) ||
            workload_json_has(spec, "selector"))
                return 0;
        tmpl = workload_default_object(spec, "template", &oom);
        meta = tmpl ? workload_default_object(tmpl, "metadata", &oom) : NULL;
        labels = meta ? workload_default_object(meta, "labels", &oom) : NULL;
        if (!labels)
                return oom ? -ENOMEM : 0;
        for (size_t i = 0; i < 2; i++) {
                r = workload_default_string(labels, uid_labels[i], uid);
                if (r >= 0)
                        r = workload_default_string(labels, name_labels[i], name);
                if (r < 0)
                        return r;
        }
        sel = workload_default_object(spec, "selector", &oom);
        ml = sel ? workload_default_object(sel, "matchLabels", &oom) : NULL;
        if (!ml)
                return oom ? -ENOMEM : 0;
        return json_set_string(ml, "batch.kubernetes.io/controller-uid", uid);
}

static int default_labels_from_template(cJSON *obj, const cJSON *spec)
{
        const cJSON *tl = json_path(spec, "template.metadata.labels");
        cJSON *meta, *copy;
        const cJSON *ol;
        bool oom;

        if (!cJSON_IsObject(tl))
                return 0;
        meta = workload_default_object(obj, "metadata", &oom);
        if (!meta)
                return oom ? -ENOMEM : 0;
        ol = cJSON_GetObjectItemCaseSensitive(meta, "labels");
        if (cJSON_IsObject(ol) && cJSON_GetArraySize(ol) > 0)
                return 0;
        if (ol && !cJSON_IsNull(ol) && !cJSON_IsObject(ol))
                return 0;
        copy = cJSON_Duplicate(tl, true);
        return copy ? json_set(meta, "labels", copy) : -ENOMEM;
}

int job_set_defaults(cJSON *obj)
{
        cJSON *spec;
        bool oom;
        int r;

        spec = workload_default_object(obj, "spec", &oom);
        if (!spec)
                return oom ? -ENOMEM : 0;
        if (!workload_json_has(spec, "completions") && !workload_json_has(spec, "parallelism")) {
                r = workload_default_int(spec, "completions", 1);
                if (r < 0)
                        return r;
        }
        r = workload_default_int(spec, "parallelism", 1);
        if (r >= 0)
                r = workload_default_int(spec, "backoffLimit",
                                         workload_json_has(spec, "backoffLimitPerIndex") ? INT32_MAX : 6);
        if (r >= 0)
                r = default_labels_from_template(obj, spec);
        if (r >= 0)
                r = workload_default_string(spec, "completionMode", "NonIndexed");
        if (r >= 0)
                r = workload_default_bool(spec, "suspend", false);
        if (r >= 0)
                r = workload_default_string(
                    spec, "podReplacementPolicy",
                    workload_json_has(spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
        if (r >= 0)
                r = workload_default_bool(spec, "manualSelector", false);
        if (r >= 0)
                r = generate_selector(obj, spec);
        if (r >= 0)
                r = job_spec_set_template_defaults(spec);
        return r;
}
