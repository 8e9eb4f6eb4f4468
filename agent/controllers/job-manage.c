/* manageJob (SEMANTICS.md 3.4): deletes active pods of a suspended Job or beyond the wanted
 * number, creates missing pods in slow-start batches after the pod-failure back-off, then
 * the success check and the Suspended condition of syncJob. */
#include <string.h>

#include "job-sync.h"
#include "json-util.h"
#include "log.h"

/* failuresAfterLastSuccess and the last failure's finish time, from the pods. */
static usec_t creation_backoff(const JobSync *s)
{
        usec_t last_success = 0, last_failure = 0;
        unsigned failures = 0;
        const cJSON *pod;

        cJSON_ArrayForEach (pod, s->pods)
                if (streq_ptr(json_str(pod, "status.phase"), "Succeeded"))
                        last_success = MAX(last_success, job_pod_finish_time(pod));
        cJSON_ArrayForEach (pod, s->pods) {
                usec_t t;
                if (!job_pod_is_failed(s, pod))
                        continue;
                t = job_pod_finish_time(pod);
                if (t <= last_success && last_success > 0)
                        continue;
                failures++;
                last_failure = MAX(last_failure, t);
        }
        return job_backoff_remaining(failures, last_failure, s->now);
}

/* controller.ActivePods order: pending before running, not ready before ready, newer first. */
static int removal_order(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        int rx = !streq_ptr(json_str(x, "status.phase"), "Pending") * 2 + job_pod_is_ready(x);
        int ry = !streq_ptr(json_str(y, "status.phase"), "Pending") * 2 + job_pod_is_ready(y);

        if (rx != ry)
                return rx - ry;
        /* RFC 3339 in UTC sorts as text */
        return -strcmp(json_str(x, "metadata.creationTimestamp") ?: "",
                       json_str(y, "metadata.creationTimestamp") ?: "");
}

static int delete_active(JobSync *s, int64_t n)
{
        size_t k = 0, total = (size_t)cJSON_GetArraySize(s->pods);
        _cleanup_free_ const cJSON **v = calloc(total + 1, sizeof(cJSON *));
        const cJSON *pod;
        int r;

        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, s->pods)
                if (job_pod_is_active(pod))
                        v[k++] = pod;
        qsort(v, k, sizeof(cJSON *), removal_order);
        n = MIN(n, (int64_t)JOB_MAX_POD_CREATE_DELETE_PER_SYNC);
        for (size_t i = 0; i < k && (int64_t)i < n; i++) {
                r = job_sync_delete_pod(s, v[i], true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int create_one(JobSync *s, int64_t index)
{
        _cleanup_json_ cJSON *pod = NULL, *created = NULL;
        _cleanup_free_ char *msg = NULL;
        int64_t failures = -1, ignored = 0;
        int r;

        if (index >= 0 && s->p.backoff_limit_per_index >= 0)
                job_index_failure_counts(s, index, &failures, &ignored);
        r = job_pods_build(s->job, index, failures, ignored, &pod);
        if (r >= 0)
                r = store_create(s->c->store, pod, &created);
        if (r < 0) {
                if (asprintf_safe(&msg, "Error creating: %s", strerror(-r)) >= 0)
                        (void)store_event(s->c->store, s->job, "Warning", "FailedCreate", msg);
                return r;
        }
        if (asprintf_safe(&msg, "Created pod: %s", json_str(created, "metadata.name") ?: "") >= 0)
                (void)store_event(s->c->store, s->job, "Normal", "SuccessfulCreate", msg);
        s->active++;
        return 0;
}

/* Slow start: batches of 1, 2, 4, ...; a failed batch stops the rest. */
static int create_pods(JobSync *s, int64_t n)
{
        _cleanup_free_ int64_t *idx = NULL;
        size_t next = 0;
        int64_t batch = 1;

        n = MIN(n, (int64_t)JOB_MAX_POD_CREATE_DELETE_PER_SYNC);
        if (s->p.indexed) {
                idx = calloc((size_t)n + 1, sizeof(int64_t));
                if (!idx)
                        return -ENOMEM;
                n = (int64_t)job_index_pending(s, idx, (size_t)n);
        }
        while (n > 0) {
                int64_t b = MIN(batch, n);
                int err = 0;

                for (int64_t i = 0; i < b; i++) {
                        int r = create_one(s, idx ? idx[next++] : -1);
                        if (r < 0)
                                err = r;
                }
                if (err < 0)
                        return log_debug_errno(err, "Job %s/%s: pod creation failed: %m", s->ns, s->name);
                n -= b;
                batch *= 2;
        }
        return 0;
}

static int manage_pods(JobSync *s)
{
        int64_t want, diff;
        const cJSON *pod;
        usec_t wait;
        int r;

        if (s->p.suspend) {
                cJSON_ArrayForEach (pod, s->pods)
                        if (job_pod_is_active(pod)) {
                                r = job_sync_delete_pod(s, pod, true);
                                if (r < 0)
                                        return r;
                        }
                return 0;
        }
        want = job_want_active(&s->p, s->succeeded, s->active);
        if (s->active > want)
                return delete_active(s, s->active - want);
        diff = want - s->active - (s->p.only_replace_failed ? s->terminating : 0);
        if (diff <= 0)
                return 0;
        /* backoffLimitPerIndex Jobs back off per index (job-indexed.c) */
        wait = s->p.backoff_limit_per_index >= 0 ? 0 : creation_backoff(s);
        if (wait > 0) {
                s->requeue_after = wait;
                return 0;
        }
        return create_pods(s, diff);
}

static int suspend_condition(JobSync *s)
{
        char ts[64];
        int r;

        if (s->p.suspend) {
                r = job_condition_ensure(s->status, "Suspended", "True", "JobSuspended", "Job suspended",
                                         s->now);
                return r > 0 ? job_sync_event(s, "Normal", "Suspended", "Job suspended") : r;
        }
        r = job_condition_ensure(s->status, "Suspended", "False", "JobResumed", "Job resumed", s->now);
        if (r <= 0)
                return r;
        /* a resumed Job's activeDeadlineSeconds starts over */
        r = format_rfc3339(s->now, ts, sizeof ts);
        if (r < 0 || json_set_string(s->status, "startTime", ts) < 0)
                return r < 0 ? r : -ENOMEM;
        return job_sync_event(s, "Normal", "Resumed", "Job resumed");
}

int job_manage(JobSync *s)
{
        bool complete;
        int r;

        r = manage_pods(s);
        if (r < 0)
                return r;
        if (s->p.completions < 0)
                complete = s->succeeded > 0 && s->active == 0;
        else
                complete = s->succeeded >= s->p.completions && s->active == 0;
        if (complete)
                return job_sync_finish(s, true, "CompletionsReached",
                                       "Reached expected number of succeeded pods");
        return suspend_condition(s);
}
