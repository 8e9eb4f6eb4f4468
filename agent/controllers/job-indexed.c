/* Indexed Jobs (indexed_job_utils.go): completed and failed indexes (status strings
 * "0-2,4"), backoffLimitPerIndex with the per-pod failure-count annotations, the pending
 * indexes to create, the pods to delete for a repeated or invalid index, and the per-index
 * terminal decisions including successPolicy. */
#include <string.h>

#include "job-sync.h"
#include "json-util.h"

/* flags are allocated per completion: refuse absurd sizes (validation caps real ones) */
#define JOB_MAX_INDEXED_COMPLETIONS (64 * 1024 * 1024)

int job_index_init(JobSync *s)
{
        size_t n;
        int r;

        if (!s->p.indexed)
                return 0;
        if (s->p.completions < 0 || s->p.completions > JOB_MAX_INDEXED_COMPLETIONS)
                return -EINVAL;
        n = (size_t)s->p.completions;
        s->succeeded_idx = calloc(n + 1, sizeof(bool));
        s->failed_idx = calloc(n + 1, sizeof(bool));
        if (!s->succeeded_idx || !s->failed_idx)
                return -ENOMEM;
        r = job_indexes_parse(json_str(s->status, "completedIndexes"), s->succeeded_idx, n);
        if (r >= 0)
                r = job_indexes_parse(json_str(s->status, "failedIndexes"), s->failed_idx, n);
        return r;
}

bool job_index_pod_valid(const JobSync *s, const cJSON *pod)
{
        int64_t idx;

        if (!s->p.indexed)
                return true;
        idx = job_pod_index(pod);
        return idx >= 0 && idx < s->p.completions;
}

/* byCompletionIndex, and within one index controller.ActivePods */
static int by_index_then_removal_order(const void *a, const void *b)
{
        int64_t x = job_pod_index(*(const cJSON *const *)a), y = job_pod_index(*(const cJSON *const *)b);

        if (x != y)
                return x < y ? -1 : 1;
        return job_pod_removal_order(a, b);
}

int job_index_removals(const JobSync *s, const cJSON **v, size_t n)
{
        _cleanup_free_ const cJSON **left = NULL;
        size_t n_rm = 0, n_left = 0;

        if (!s->p.indexed || n == 0)
                return 0;
        left = calloc(n, sizeof(cJSON *));
        if (!left)
                return -ENOMEM;
        qsort(v, n, sizeof(cJSON *), by_index_then_removal_order);
        for (size_t i = 0; i < n; i++) {
                int64_t idx = job_pod_index(v[i]);
                /* of a run of one index, the last is the pod most worth keeping */
                bool repeated = i + 1 < n && job_pod_index(v[i + 1]) == idx;

                if (idx < 0 || idx >= s->p.completions || repeated)
                        v[n_rm++] = v[i]; /* n_rm <= i: compacts in place */
                else
                        left[n_left++] = v[i];
        }
        memcpy(v + n_rm, left, n_left * sizeof(cJSON *));
        return (int)n_rm; /* n came from an int-sized pod list */
}

static int64_t annotation_int(const cJSON *pod, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(pod, "metadata.annotations"), key);
        char *end;
        long long x;

        if (!cJSON_IsString(v))
                return 0;
        errno = 0;
        x = strtoll(v->valuestring, &end, 10);
        return errno == 0 && *end == 0 && x >= 0 && x <= INT32_MAX ? x : 0;
}

int job_index_count_failure(JobSync *s, const cJSON *pod, bool fail_index)
{
        int64_t idx = job_pod_index(pod);

        if (!s->p.indexed || s->p.backoff_limit_per_index < 0 || idx < 0 || idx >= s->p.completions)
                return 0;
        if (fail_index || annotation_int(pod, JOB_INDEX_FAILURE_COUNT_KEY) >= s->p.backoff_limit_per_index)
                s->failed_idx[idx] = true;
        return 0;
}

/* The index's most recently finished failed pod. */
static const cJSON *last_failed_pod(const JobSync *s, int64_t index)
{
        const cJSON *pod, *best = NULL;
        usec_t best_t = 0;

        cJSON_ArrayForEach (pod, s->pods) {
                usec_t t;
                if (job_pod_index(pod) != index || !job_pod_is_failed(s, pod))
                        continue;
                t = job_pod_finish_time(pod);
                if (!best || t >= best_t) {
                        best = pod;
                        best_t = t;
                }
        }
        return best;
}

static bool failure_ignored(const JobSync *s, const cJSON *pod)
{
        return s->p.pod_failure_policy && streq_ptr(json_str(pod, "status.phase"), "Failed") &&
               job_policy_match(s->p.pod_failure_policy, pod, NULL) == JOB_FAILURE_IGNORE;
}

void job_index_failure_counts(JobSync *s, int64_t index, int64_t *ret_failures, int64_t *ret_ignored)
{
        const cJSON *last = last_failed_pod(s, index);
        int64_t f = 0, ig = 0;

        if (last) {
                f = annotation_int(last, JOB_INDEX_FAILURE_COUNT_KEY);
                ig = annotation_int(last, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY);
                if (failure_ignored(s, last))
                        ig++;
                else
                        f++;
        }
        *ret_failures = f;
        *ret_ignored = ig;
}

/* Per-index back-off: count+ignored+1 failures of the index's last failed pod. */
static usec_t index_delay(JobSync *s, int64_t index)
{
        const cJSON *last;

        if (s->p.backoff_limit_per_index < 0 || !(last = last_failed_pod(s, index)))
                return 0;
        return job_backoff_remaining((unsigned)(annotation_int(last, JOB_INDEX_FAILURE_COUNT_KEY) +
                                                annotation_int(last, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY) +
                                                1),
                                     job_pod_finish_time(last), s->now);
}

size_t job_index_pending(JobSync *s, int64_t *ret, size_t n)
{
        size_t total = (size_t)s->p.completions, k = 0;
        _cleanup_free_ bool *busy = calloc(total + 1, sizeof(bool));
        const cJSON *pod;

        if (!busy)
                return 0;
        cJSON_ArrayForEach (pod, s->pods) {
                int64_t idx = job_pod_index(pod);
                bool holds =
                    job_pod_is_active(pod) || (s->p.only_replace_failed && !job_pod_is_terminal(pod));
                if (holds && idx >= 0 && idx < s->p.completions)
                        busy[idx] = true;
        }
        for (size_t i = 0; i < total && k < n; i++) {
                usec_t d;
                if (busy[i] || s->succeeded_idx[i] || s->failed_idx[i])
                        continue;
                d = index_delay(s, (int64_t)i);
                if (d > 0) {
                        s->requeue_after = s->requeue_after ? MIN(s->requeue_after, d) : d;
                        continue;
                }
                ret[k++] = (int64_t)i;
        }
        return k;
}

/* matchSuccessPolicy */
static int success_policy_match(const JobSync *s)
{
        size_t n = (size_t)s->p.completions;
        _cleanup_free_ bool *want = calloc(n + 1, sizeof(bool));
        const cJSON *rule;
        int index = 0;

        if (!want)
                return -1;
        cJSON_ArrayForEach (rule, json_path(s->p.success_policy, "rules")) {
                const char *idx = json_str(rule, "succeededIndexes");
                const cJSON *cnt = json_path(rule, "succeededCount");
                size_t listed = 0, matched = 0;

                if (idx) {
                        if (job_indexes_parse(idx, want, n) < 0) {
                                index++;
                                continue;
                        }
                        for (size_t i = 0; i < n; i++) {
                                listed += want[i];
                                matched += want[i] && s->succeeded_idx[i];
                        }
                        if (cJSON_IsNumber(cnt) ? (double)matched >= cnt->valuedouble : matched == listed)
                                return index;
                } else if (cJSON_IsNumber(cnt) && (double)s->succeeded >= cnt->valuedouble)
                        return index;
                index++;
        }
        return -1;
}

void job_index_decide_terminal(JobSync *s)
{
        size_t failed;
        int m;

        if (!s->p.indexed)
                return;
        failed = job_indexes_count(s->failed_idx, (size_t)s->p.completions);
        if (s->p.backoff_limit_per_index >= 0) {
                if (s->p.max_failed_indexes >= 0 && (int64_t)failed > s->p.max_failed_indexes) {
                        s->terminal = true;
                        s->terminal_reason = "MaxFailedIndexesExceeded";
                        s->terminal_message =
                            "Job has exceeded the specified maximal number of failed indexes";
                        return;
                }
                if (failed > 0 && (int64_t)failed + s->succeeded >= s->p.completions) {
                        s->terminal = true;
                        s->terminal_reason = "FailedIndexes";
                        s->terminal_message = "Job has failed indexes";
                        return;
                }
        }
        if (!cJSON_IsObject(s->p.success_policy) || (m = success_policy_match(s)) < 0)
                return;
        snprintf(s->terminal_buf, sizeof s->terminal_buf, "Matched rules at index %d", m);
        s->terminal = true;
        s->terminal_success = true;
        s->terminal_reason = "SuccessPolicy";
        s->terminal_message = s->terminal_buf;
}

int job_index_write_status(JobSync *s)
{
        _cleanup_free_ char *done = NULL, *failed = NULL;
        size_t n = (size_t)MAX(s->p.completions, 0);

        if (!s->p.indexed)
                return 0;
        done = job_indexes_format(s->succeeded_idx, n);
        failed = job_indexes_format(s->failed_idx, n);
        if (!done || !failed)
                return -ENOMEM;
        if (done[0] ? json_set_string(s->status, "completedIndexes", done) < 0
                    : (cJSON_DeleteItemFromObjectCaseSensitive(s->status, "completedIndexes"), false))
                return -ENOMEM;
        if (s->p.backoff_limit_per_index >= 0 && json_set_string(s->status, "failedIndexes", failed) < 0)
                return -ENOMEM;
        return 0;
}
