/* podFailurePolicy matching (pod_failure_policy.go): rules in order, first match wins;
 * onExitCodes looks at app then init containers terminated with a non-zero exit code,
 * onPodConditions at pod conditions of equal type and status. */
#include <string.h>

#include "job-internal.h"
#include "json-util.h"

static bool exit_code_matches(const cJSON *req, int64_t code)
{
        const char *op = json_str(req, "operator");
        const cJSON *v;
        bool in = false;

        cJSON_ArrayForEach (v, json_path(req, "values"))
                if (cJSON_IsNumber(v) && (int64_t)v->valuedouble == code)
                        in = true;
        if (streq_ptr(op, "In"))
                return in;
        if (streq_ptr(op, "NotIn"))
                return !in;
        return false; /* unknown operator: no match */
}

static const cJSON *matching_container(const cJSON *list, const cJSON *req)
{
        const char *only = json_str(req, "containerName");
        const cJSON *cs;

        cJSON_ArrayForEach (cs, list) {
                const cJSON *term = json_path(cs, "state.terminated");
                int64_t code;

                if (!cJSON_IsObject(term))
                        continue;
                if (only && !streq_ptr(json_str(cs, "name"), only))
                        continue;
                code = json_int(term, "exitCode", 0);
                if (code != 0 && exit_code_matches(req, code))
                        return cs;
        }
        return NULL;
}

static const cJSON *matching_condition(const cJSON *pod, const cJSON *patterns)
{
        const cJSON *pat, *cond;

        cJSON_ArrayForEach (pat, patterns)
                cJSON_ArrayForEach (cond, json_path(pod, "status.conditions"))
                        if (streq_ptr(json_str(cond, "type"), json_str(pat, "type")) &&
                            streq_ptr(json_str(cond, "status"), json_str(pat, "status") ?: "True"))
                                return cond;
        return NULL;
}

static JobFailureAction action_of(const char *a)
{
        if (streq_ptr(a, "FailJob"))
                return JOB_FAILURE_FAIL_JOB;
        if (streq_ptr(a, "FailIndex"))
                return JOB_FAILURE_FAIL_INDEX;
        if (streq_ptr(a, "Ignore"))
                return JOB_FAILURE_IGNORE;
        if (streq_ptr(a, "Count"))
                return JOB_FAILURE_COUNT;
        return JOB_FAILURE_NO_MATCH;
}

int job_policy_match(const cJSON *policy, const cJSON *pod, char **ret_message)
{
        const char *ns = json_str(pod, "metadata.namespace") ?: "",
                   *name = json_str(pod, "metadata.name") ?: "";
        const cJSON *rule;
        int index = 0;

        cJSON_ArrayForEach (rule, json_path(policy, "rules")) {
                const cJSON *oec = json_path(rule, "onExitCodes"), *opc = json_path(rule, "onPodConditions");
                const char *a = json_str(rule, "action");
                JobFailureAction act = action_of(a);
                _cleanup_free_ char *msg = NULL;
                const cJSON *hit;
                int r = 0;

                if (act == JOB_FAILURE_NO_MATCH) {
                        index++;
                        continue; /* unknown action: skipped */
                }
                if (cJSON_IsObject(oec)) {
                        hit = matching_container(json_path(pod, "status.containerStatuses"), oec)
                                  ?: matching_container(json_path(pod, "status.initContainerStatuses"), oec);
                        if (hit && act == JOB_FAILURE_FAIL_JOB)
                                r = asprintf_safe(&msg,
                                                  "Container %s for pod %s/%s failed with exit code %lld "
                                                  "matching %s rule at index %d",
                                                  json_str(hit, "name") ?: "", ns, name,
                                                  (long long)json_int(hit, "state.terminated.exitCode", 0),
                                                  a, index);
                } else if (cJSON_IsArray(opc)) {
                        hit = matching_condition(pod, opc);
                        if (hit && act == JOB_FAILURE_FAIL_JOB)
                                r = asprintf_safe(&msg,
                                                  "Pod %s/%s has condition %s matching %s rule at index %d",
                                                  ns, name, json_str(hit, "type") ?: "", a, index);
                } else
                        hit = NULL;
                if (r < 0)
                        return -ENOMEM;
                if (hit) {
                        if (ret_message)
                                *ret_message = TAKE_PTR(msg);
                        return act;
                }
                index++;
        }
        return JOB_FAILURE_NO_MATCH;
}
