/* manageJob (SEMANTICS.md 3.4): deletes active pods of a suspended Job, beyond the wanted
 * number, or (Indexed) of a repeated or out-of-range index, creates missing pods in
 * slow-start batches after the pod-failure back-off, then the success check and the
 * Suspended condition of syncJob. */
#include <string.h>

#include "job-sync.h"
#include "json-util.h"
#include "log.h"
#include "pod-object.h"

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

/* podPhaseToOrdinal: a phase outside the map, none yet included, ranks with Pending */
static int phase_ordinal(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        return streq_ptr(phase, "Running") ? 2 : streq_ptr(phase, "Unknown") ? 1 : 0;
}

static usec_t pod_time(const cJSON *obj, const char *path)
{
        usec_t t;

        return parse_rfc3339(json_str(obj, path), &t) >= 0 ? t : 0;
}

static usec_t ready_since(const cJSON *pod)
{
        const cJSON *c = pod_condition(pod, "Ready");

        return c ? pod_time(c, "lastTransitionTime") : 0;
}

static int64_t max_restarts(const cJSON *pod)
{
        const cJSON *cs;
        int64_t m = 0;

        cJSON_ArrayForEach (cs, json_path(pod, "status.containerStatuses"))
                m = MAX(m, json_int(cs, "restartCount", 0));
        return m;
}

/* afterOrZero: a zero time sorts first, else the later one */
static int after_or_zero_first(usec_t x, usec_t y)
{
        if (x == 0 || y == 0)
                return x == 0 ? -1 : 1;
        return x > y ? -1 : 1;
}

int job_pod_removal_order(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        bool bx = !isempty(json_str(x, "spec.nodeName")), by = !isempty(json_str(y, "spec.nodeName"));
        bool rx = job_pod_is_ready(x), ry = job_pod_is_ready(y);
        usec_t tx, ty;

        if (bx != by)
                return bx ? 1 : -1;
        if (phase_ordinal(x) != phase_ordinal(y))
                return phase_ordinal(x) - phase_ordinal(y);
        if (rx != ry)
                return rx ? 1 : -1;
        if (rx) {
                tx = ready_since(x);
                ty = ready_since(y);
                if (tx != ty)
                        return after_or_zero_first(tx, ty);
        }
        if (max_restarts(x) != max_restarts(y))
                return max_restarts(x) > max_restarts(y) ? -1 : 1;
        tx = pod_time(x, "metadata.creationTimestamp");
        ty = pod_time(y, "metadata.creationTimestamp");
        return tx == ty ? 0 : after_or_zero_first(tx, ty);
}

/* activePodsForRemoval: an Indexed Job's pods without a valid index and its repeated
 * indexes, then the cheapest others until at_least. Returns how many were deleted. */
static int delete_active(JobSync *s, int64_t at_least)
{
        size_t k = 0, total = (size_t)cJSON_GetArraySize(s->pods);
        _cleanup_free_ const cJSON **v = calloc(total + 1, sizeof(cJSON *));
        const cJSON *pod;
        int64_t n;
        int r, n_rm;

        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, s->pods)
                if (job_pod_is_active(pod))
                        v[k++] = pod;
        n_rm = job_index_removals(s, v, k);
        if (n_rm < 0)
                return n_rm;
        qsort(v + n_rm, k - (size_t)n_rm, sizeof(cJSON *), job_pod_removal_order);
        n = MIN(MAX(at_least, (int64_t)n_rm), (int64_t)k);
        n = MIN(n, (int64_t)JOB_MAX_POD_CREATE_DELETE_PER_SYNC);
        for (int64_t i = 0; i < n; i++) {
                /* upstream deleteJobPods drops the tracking finalizer before deleting: a
                 * duplicate or out-of-range pod leaves the counts alone */
                r = job_sync_delete_pod(s, v[i], i >= n_rm);
                if (r < 0)
                        return r;
        }
        return (int)n;
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
        /* deletions take precedence: never deleting and creating in one sync */
        r = delete_active(s, s->active - want);
        if (r != 0)
                return MIN(r, 0);
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
