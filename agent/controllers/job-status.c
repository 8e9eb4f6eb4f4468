/* Pure arithmetic of the Job controller: the spec read with SetDefaults_Job, conditions
 * (ensureJobConditionStatus), the wanted number of active pods, pod finish times, the
 * pod-failure back-off and the "0-2,4" interval strings of completed/failed indexes. */
#include <string.h>

#include "job-internal.h"
#include "json-util.h"

static int64_t opt_int(const cJSON *spec, const char *field, int64_t def)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, field);

        return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (int64_t)v->valuedouble : def;
}

void job_params_from_spec(const cJSON *job, JobParams *ret)
{
        const cJSON *spec = json_path(job, "spec");
        bool has_c = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(spec, "completions"));
        bool has_p = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(spec, "parallelism"));
        const char *rp;

        *ret = (JobParams){0};
        ret->completions = opt_int(spec, "completions", !has_c && !has_p ? 1 : -1);
        ret->parallelism = opt_int(spec, "parallelism", 1);
        ret->backoff_limit_per_index = opt_int(spec, "backoffLimitPerIndex", -1);
        ret->max_failed_indexes = opt_int(spec, "maxFailedIndexes", -1);
        ret->backoff_limit =
            opt_int(spec, "backoffLimit", ret->backoff_limit_per_index >= 0 ? INT32_MAX : 6);
        ret->active_deadline_sec = opt_int(spec, "activeDeadlineSeconds", -1);
        ret->ttl_sec = opt_int(spec, "ttlSecondsAfterFinished", -1);
        ret->completion_mode = json_str(spec, "completionMode") ?: "NonIndexed";
        ret->indexed = streq(ret->completion_mode, "Indexed");
        ret->suspend = json_bool(spec, "suspend", false);
        ret->pod_failure_policy = json_path(spec, "podFailurePolicy");
        if (!cJSON_IsObject(ret->pod_failure_policy))
                ret->pod_failure_policy = NULL;
        ret->success_policy = json_path(spec, "successPolicy");
        rp = json_str(spec, "podReplacementPolicy");
        ret->only_replace_failed = rp ? streq(rp, "Failed") : ret->pod_failure_policy != NULL;
        ret->restart_policy = json_str(spec, "template.spec.restartPolicy") ?: "Never";
}

const cJSON *job_condition_find(const cJSON *status, const char *type)
{
        const cJSON *c, *list = json_path(status, "conditions");

        cJSON_ArrayForEach (c, (cJSON_IsArray(list) ? list : NULL))
                if (streq_ptr(json_str(c, "type"), type))
                        return c;
        return NULL;
}

bool job_condition_is_true(const cJSON *status, const char *type)
{
        return streq_ptr(json_str(job_condition_find(status, type), "status"), "True");
}

bool job_is_finished(const cJSON *status)
{
        return job_condition_is_true(status, "Complete") || job_condition_is_true(status, "Failed");
}

static int set_condition_fields(cJSON *c, const char *cstatus, const char *reason, const char *message,
                                usec_t now, bool transition)
{
        char ts[64];
        int r;

        r = format_rfc3339(now, ts, sizeof ts);
        if (r < 0)
                return r;
        if (json_set_string(c, "status", cstatus) < 0 || json_set_string(c, "lastProbeTime", ts) < 0 ||
            (transition && json_set_string(c, "lastTransitionTime", ts) < 0) ||
            json_set_string(c, "reason", reason ?: "") < 0 ||
            json_set_string(c, "message", message ?: "") < 0)
                return -ENOMEM;
        return 0;
}

int job_condition_ensure(cJSON *status, const char *type, const char *cstatus, const char *reason,
                         const char *message, usec_t now)
{
        cJSON *c = (cJSON *)job_condition_find(status, type), *list;
        int r;

        if (c) {
                if (streq_ptr(json_str(c, "status"), cstatus) && streq_ptr(json_str(c, "reason"), reason) &&
                    streq_ptr(json_str(c, "message"), message))
                        return 0;
                r = set_condition_fields(c, cstatus, reason, message, now,
                                         !streq_ptr(json_str(c, "status"), cstatus));
                return r < 0 ? r : 1;
        }
        if (streq(cstatus, "False"))
                return 0;
        list = cJSON_GetObjectItemCaseSensitive(status, "conditions");
        if (!cJSON_IsArray(list)) {
                cJSON_DeleteItemFromObjectCaseSensitive(status, "conditions");
                list = cJSON_AddArrayToObject(status, "conditions");
        }
        c = cJSON_CreateObject();
        if (!list || !c || !cJSON_AddItemToArray(list, c)) {
                cJSON_Delete(c);
                return -ENOMEM;
        }
        if (json_set_string(c, "type", type) < 0)
                return -ENOMEM;
        r = set_condition_fields(c, cstatus, reason, message, now, true);
        return r < 0 ? r : 1;
}

int64_t job_want_active(const JobParams *p, int64_t succeeded, int64_t active)
{
        if (p->completions < 0)
                return succeeded > 0 ? active : p->parallelism;
        return MAX(MIN(p->completions - succeeded, p->parallelism), 0);
}

static usec_t time_at(const cJSON *obj, const char *path)
{
        const char *s = json_str(obj, path);
        usec_t t;

        return s && parse_rfc3339(s, &t) >= 0 ? t : 0;
}

usec_t job_pod_finish_time(const cJSON *pod)
{
        static const char *const lists[] = {"status.containerStatuses", "status.initContainerStatuses"};
        const cJSON *cs, *cond;
        usec_t latest = 0, del;

        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                cJSON_ArrayForEach (cs, json_path(pod, lists[i]))
                        latest = MAX(latest, time_at(cs, "state.terminated.finishedAt"));
        if (latest > 0)
                return latest;
        cJSON_ArrayForEach (cond, json_path(pod, "status.conditions"))
                if (streq_ptr(json_str(cond, "type"), "Ready") &&
                    streq_ptr(json_str(cond, "status"), "False")) {
                        usec_t t = time_at(cond, "lastTransitionTime");
                        if (t > 0)
                                return t;
                }
        del = time_at(pod, "metadata.deletionTimestamp");
        if (del > 0) {
                int64_t grace = json_int(pod, "metadata.deletionGracePeriodSeconds", 0);
                usec_t g = grace > 0 ? (usec_t)grace * USEC_PER_SEC : 0;
                return del > g ? del - g : 0;
        }
        return time_at(pod, "metadata.creationTimestamp");
}

usec_t job_backoff_remaining(unsigned failures, usec_t last_failure, usec_t now)
{
        usec_t d = JOB_POD_FAILURE_BACKOFF_USEC, elapsed;

        if (failures == 0)
                return 0;
        for (unsigned i = 1; i < failures; i++) {
                d *= 2;
                if (d >= JOB_POD_FAILURE_MAX_BACKOFF_USEC) {
                        d = JOB_POD_FAILURE_MAX_BACKOFF_USEC;
                        break;
                }
        }
        /* a finish time in the future counts as "just now" */
        elapsed = now > last_failure ? now - last_failure : 0;
        return d < elapsed ? 0 : d - elapsed;
}

char *job_indexes_format(const bool *set, size_t n)
{
        size_t cap = 1, len = 0;
        char *buf;

        for (size_t i = 0; i < n; i++)
                if (set[i])
                        cap += 2 * 21 + 2;
        buf = malloc(cap);
        if (!buf)
                return NULL;
        buf[0] = 0;
        for (size_t i = 0; i < n;) {
                size_t j = i;

                if (!set[i]) {
                        i++;
                        continue;
                }
                while (j + 1 < n && set[j + 1])
                        j++;
                /* a pair is written "a,a+1"; three or more as "a-b" */
                if (j - i >= 2)
                        len += (size_t)sprintf(buf + len, "%s%zu-%zu", len ? "," : "", i, j);
                else
                        for (size_t k = i; k <= j; k++)
                                len += (size_t)sprintf(buf + len, "%s%zu", len ? "," : "", k);
                i = j + 1;
        }
        return buf;
}

static int parse_index(const char **p, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (**p < '0' || **p > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(*p, &end, 10);
        if (errno != 0)
                return -EINVAL;
        *p = end;
        *ret = v;
        return 0;
}

int job_indexes_parse(const char *s, bool *set, size_t n)
{
        const char *p = s;

        memset(set, 0, n * sizeof(bool));
        if (isempty(s))
                return 0;
        for (;;) {
                uint64_t a, b;

                if (parse_index(&p, &a) < 0)
                        return -EINVAL;
                b = a;
                if (*p == '-') {
                        p++;
                        if (parse_index(&p, &b) < 0 || b < a)
                                return -EINVAL;
                }
                for (uint64_t i = a; i <= b && i < n; i++)
                        set[i] = true;
                if (*p == 0)
                        return 0;
                if (*p++ != ',')
                        return -EINVAL;
        }
}

size_t job_indexes_count(const bool *set, size_t n)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                k += set[i];
        return k;
}
