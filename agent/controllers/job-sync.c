/* syncJob (SEMANTICS.md 3.3): counts the Job's newly finished pods exactly once, decides a
 * terminal condition, runs manageJob (job-manage.c) and commits the counts, the finalizer
 * removals, the deletions and the status in one store transaction.
 *
 * Counting is crash-safe the way Kubernetes does it: every pod is created with the
 * batch.kubernetes.io/job-tracking finalizer; a finished pod that still carries it is
 * counted, and the same transaction that adds it to status.succeeded/failed removes the
 * finalizer. A pod this controller deletes is counted (as failed) in the transaction that
 * marks it deleted. */
#include <string.h>

#include "job-sync.h"
#include "json-util.h"
#include "log.h"

int job_sync_event(JobSync *s, const char *type, const char *reason, const char *msg)
{
        JobSyncEvent *e = realloc(s->events, (s->n_events + 1) * sizeof(JobSyncEvent));

        if (!e)
                return -ENOMEM;
        s->events = e;
        e = &s->events[s->n_events];
        *e = (JobSyncEvent){.type = type, .reason = reason, .message = strdup(msg)};
        if (!e->message)
                return -ENOMEM;
        s->n_events++;
        return 0;
}

bool job_pod_is_terminal(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        return streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed");
}

bool job_pod_is_active(const cJSON *pod)
{
        return !job_pod_is_terminal(pod) && !json_str(pod, "metadata.deletionTimestamp");
}

/* isPodFailed */
bool job_pod_is_failed(const JobSync *s, const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        if (streq_ptr(phase, "Failed"))
                return true;
        if (s->p.only_replace_failed)
                return false;
        return json_str(pod, "metadata.deletionTimestamp") && !streq_ptr(phase, "Succeeded");
}

/* Marks pod for deletion in the commit; a tracked pod is counted as failed there unless
 * the Job is on its success path or, Indexed, the pod has no valid index. */
int job_sync_delete_pod(JobSync *s, const cJSON *pod, bool count_failed)
{
        const char *name = json_str(pod, "metadata.name");
        int r;

        if (!name)
                return 0;
        r = strv_push_copy(&s->deletions, &s->n_deletions, name);
        if (r < 0)
                return r;
        if (job_pod_has_finalizer(pod)) {
                r = strv_push_copy(&s->uncount, &s->n_uncount, name);
                if (r < 0)
                        return r;
                if (count_failed && job_index_pod_valid(s, pod))
                        s->failed++;
        }
        s->active--;
        s->terminating++;
        return 0;
}

static int count_succeeded(JobSync *s, const cJSON *pod)
{
        if (!s->p.indexed) {
                s->succeeded++;
                return 0;
        }
        /* an index counts once, however many of its pods succeed */
        if (job_index_pod_valid(s, pod))
                s->succeeded_idx[job_pod_index(pod)] = true;
        return 0;
}

static int count_failed(JobSync *s, const cJSON *pod)
{
        _cleanup_free_ char *msg = NULL;
        int act = JOB_FAILURE_NO_MATCH;

        if (s->p.pod_failure_policy && json_str(pod, "status.phase") &&
            streq(json_str(pod, "status.phase"), "Failed")) {
                act = job_policy_match(s->p.pod_failure_policy, pod, &msg);
                if (act < 0)
                        return act;
        }
        if (act == JOB_FAILURE_IGNORE)
                return 0;
        if (act == JOB_FAILURE_FAIL_JOB && !s->fail_job_message)
                s->fail_job_message = TAKE_PTR(msg);
        /* getValidPodsWithFilter: an Indexed Job never counts a pod without a valid index */
        if (!job_index_pod_valid(s, pod))
                return 0;
        s->failed++;
        return job_index_count_failure(s, pod, act == JOB_FAILURE_FAIL_INDEX);
}

/* Step 2: newly finished pods that still carry the tracking finalizer. */
static int count_pods(JobSync *s)
{
        const cJSON *pod;
        int r;

        cJSON_ArrayForEach (pod, s->pods) {
                const char *phase = json_str(pod, "status.phase");
                bool finished;

                if (job_pod_is_active(pod)) {
                        s->active++;
                        s->ready += job_pod_is_ready(pod);
                } else if (!job_pod_is_terminal(pod))
                        s->terminating++;
                if (!job_pod_has_finalizer(pod))
                        continue;
                finished = streq_ptr(phase, "Succeeded") || job_pod_is_failed(s, pod);
                if (!finished)
                        continue;
                r = streq_ptr(phase, "Succeeded") ? count_succeeded(s, pod) : count_failed(s, pod);
                if (r < 0)
                        return r;
                r = strv_push_copy(&s->uncount, &s->n_uncount, json_str(pod, "metadata.name") ?: "");
                if (r < 0)
                        return r;
        }
        if (s->p.indexed)
                s->succeeded = (int64_t)job_indexes_count(s->succeeded_idx, (size_t)s->p.completions);
        return 0;
}

/* OnFailure pods restart in place: their restarts count toward backoffLimit. */
static bool past_backoff_limit_on_failure(const JobSync *s)
{
        static const char *const lists[] = {"status.initContainerStatuses", "status.containerStatuses"};
        const cJSON *pod, *cs;
        int64_t restarts = 0;

        if (!streq(s->p.restart_policy, "OnFailure"))
                return false;
        cJSON_ArrayForEach (pod, s->pods) {
                const char *phase = json_str(pod, "status.phase");
                if (!streq_ptr(phase, "Running") && !streq_ptr(phase, "Pending"))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                        cJSON_ArrayForEach (cs, json_path(pod, lists[i]))
                                restarts += json_int(cs, "restartCount", 0);
        }
        return s->p.backoff_limit == 0 ? restarts > 0 : restarts >= s->p.backoff_limit;
}

static usec_t start_time(const JobSync *s)
{
        const char *st = json_str(s->status, "startTime");
        usec_t t;

        return st && parse_rfc3339(st, &t) >= 0 ? t : 0;
}

static bool past_active_deadline(JobSync *s)
{
        usec_t start = start_time(s), allowed;

        if (s->p.active_deadline_sec < 0 || start == 0 || s->p.suspend)
                return false;
        allowed = (usec_t)s->p.active_deadline_sec * USEC_PER_SEC;
        if (s->now >= start && s->now - start >= allowed)
                return true;
        s->requeue_realtime = start + allowed;
        return false;
}

static void set_terminal(JobSync *s, bool success, const char *reason, const char *message)
{
        s->terminal = true;
        s->terminal_success = success;
        s->terminal_reason = reason;
        s->terminal_message = message;
}

/* Step 4: the first matching terminal decision. */
static void decide_terminal(JobSync *s)
{
        const cJSON *c;

        if ((c = job_condition_find(s->status, "SuccessCriteriaMet")) &&
            job_condition_is_true(s->status, "SuccessCriteriaMet"))
                set_terminal(s, true, json_str(c, "reason"), json_str(c, "message"));
        else if ((c = job_condition_find(s->status, "FailureTarget")) &&
                 job_condition_is_true(s->status, "FailureTarget"))
                set_terminal(s, false, json_str(c, "reason"), json_str(c, "message"));
        else if (s->fail_job_message)
                set_terminal(s, false, "PodFailurePolicy", s->fail_job_message);
        else if (s->failed > s->p.backoff_limit || past_backoff_limit_on_failure(s))
                set_terminal(s, false, "BackoffLimitExceeded",
                             "Job has reached the specified backoff limit");
        else if (past_active_deadline(s))
                set_terminal(s, false, "DeadlineExceeded", "Job was active longer than specified deadline");
        else
                job_index_decide_terminal(s);
}

int job_sync_finish(JobSync *s, bool success, const char *reason, const char *message)
{
        const char *interim = success ? "SuccessCriteriaMet" : "FailureTarget";
        char ts[64];
        int r;

        r = job_condition_ensure(s->status, interim, "True", reason, message, s->now);
        if (r < 0 || s->terminating > 0)
                return r; /* the final condition waits for the terminating pods */
        r = job_condition_ensure(s->status, success ? "Complete" : "Failed", "True", reason, message,
                                 s->now);
        if (r <= 0)
                return r;
        if (success) {
                r = format_rfc3339(s->now, ts, sizeof ts);
                if (r < 0 || json_set_string(s->status, "completionTime", ts) < 0)
                        return r < 0 ? r : -ENOMEM;
                return job_sync_event(s, "Normal", "Completed", "Job completed");
        }
        return job_sync_event(s, "Warning", reason, message);
}

/* Step 5: delete what is active, then the interim and (when nothing terminates) final
 * condition. */
static int finish_terminal(JobSync *s)
{
        const cJSON *pod;
        int r;

        cJSON_ArrayForEach (pod, s->pods)
                if (job_pod_is_active(pod)) {
                        r = job_sync_delete_pod(s, pod, !s->terminal_success);
                        if (r < 0)
                                return r;
                }
        return job_sync_finish(s, s->terminal_success, s->terminal_reason, s->terminal_message);
}

static int write_counts(JobSync *s)
{
        cJSON *u;

        if (json_set_int(s->status, "active", MAX(s->active, 0)) < 0 ||
            json_set_int(s->status, "ready", s->ready) < 0 ||
            json_set_int(s->status, "terminating", MAX(s->terminating, 0)) < 0 ||
            json_set_int(s->status, "succeeded", s->succeeded) < 0 ||
            json_set_int(s->status, "failed", s->failed) < 0)
                return -ENOMEM;
        u = cJSON_GetObjectItemCaseSensitive(s->status, "uncountedTerminatedPods");
        if (!cJSON_IsObject(u) && !json_ensure_object(s->status, "uncountedTerminatedPods"))
                return -ENOMEM;
        return job_index_write_status(s);
}

static int commit_locked(JobSync *s)
{
        int r;

        for (size_t i = 0; i < s->n_uncount; i++) {
                _cleanup_json_ cJSON *pod = NULL;

                r = store_get(s->c->store, "Pod", s->ns, s->uncount[i], &pod);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                job_pod_remove_finalizer(pod);
                r = store_update(s->c->store, pod, NULL);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_deletions; i++) {
                r = store_delete_object(s->c->store, "Pod", s->ns, s->deletions[i], -1,
                                        STORE_PROPAGATE_BACKGROUND, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (cJSON_Compare(s->status, json_path(s->job, "status"), true))
                return 0;
        return store_update_status(s->c->store, "Job", s->ns, s->name, s->status);
}

static int commit(JobSync *s)
{
        int r;

        r = store_begin(s->c->store);
        if (r < 0)
                return r;
        r = commit_locked(s);
        if (r < 0) {
                store_rollback(s->c->store);
                return r;
        }
        r = store_commit(s->c->store);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_deletions; i++) {
                _cleanup_free_ char *m = strjoin("Deleted pod: ", s->deletions[i], NULL);
                if (m)
                        (void)store_event(s->c->store, s->job, "Normal", "SuccessfulDelete", m);
        }
        for (size_t i = 0; i < s->n_events; i++)
                (void)store_event(s->c->store, s->job, s->events[i].type, s->events[i].reason,
                                  s->events[i].message);
        return 0;
}

static void job_sync_done(JobSync *s)
{
        for (size_t i = 0; i < s->n_uncount; i++)
                free(s->uncount[i]);
        free(s->uncount);
        for (size_t i = 0; i < s->n_deletions; i++)
                free(s->deletions[i]);
        free(s->deletions);
        for (size_t i = 0; i < s->n_events; i++)
                free(s->events[i].message);
        free(s->events);
        free(s->fail_job_message);
        free(s->succeeded_idx);
        free(s->failed_idx);
        cJSON_Delete(s->pods);
        cJSON_Delete(s->status);
        cJSON_Delete(s->job);
}

/* ttlSecondsAfterFinished: delete the finished Job (and, in the background, its pods). */
static int finished_job(JobSync *s)
{
        const cJSON *c = job_condition_find(s->status, "Complete");
        const char *lt;
        usec_t t, expire;

        if (s->p.ttl_sec < 0)
                return 0;
        if (!job_condition_is_true(s->status, "Complete"))
                c = job_condition_find(s->status, "Failed");
        lt = json_str(c, "lastTransitionTime");
        if (!lt || parse_rfc3339(lt, &t) < 0)
                return 0;
        expire = t + (usec_t)s->p.ttl_sec * USEC_PER_SEC;
        if (s->now < expire) {
                workqueue_add_at(s->c->queue, s->ns, s->name, CLOCK_REALTIME, expire);
                return 0;
        }
        log_debug("Job %s/%s: TTL expired, deleting.", s->ns, s->name);
        return store_delete_object(s->c->store, "Job", s->ns, s->name, -1, STORE_PROPAGATE_BACKGROUND, NULL);
}

static int sync_steps(JobSync *s)
{
        char ts[64];
        int r;

        s->failed = json_int(s->status, "failed", 0);
        s->succeeded = json_int(s->status, "succeeded", 0);
        r = job_index_init(s);
        if (r < 0)
                return r;
        r = count_pods(s);
        if (r < 0)
                return r;
        if (!json_str(s->status, "startTime") && !s->p.suspend) {
                /* a Job prepared ahead of its time (a CronJob launch) starts at that time:
                 * activeDeadlineSeconds is not shortened by the preparation */
                const cJSON *at = cJSON_GetObjectItemCaseSensitive(
                    json_path(s->job, "spec.template.metadata.annotations"), "berth.dev/start-at");
                usec_t start = s->now, t;
                if (cJSON_IsString(at) && parse_rfc3339(at->valuestring, &t) >= 0 && t > start)
                        start = t;
                r = format_rfc3339(start, ts, sizeof ts);
                if (r < 0 || json_set_string(s->status, "startTime", ts) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        decide_terminal(s);
        r = s->terminal ? finish_terminal(s) : job_manage(s);
        if (r < 0)
                return r;
        r = write_counts(s);
        if (r < 0)
                return r;
        r = commit(s);
        if (r < 0)
                return r;
        if (s->requeue_realtime > 0 && !s->terminal)
                workqueue_add_at(s->c->queue, s->ns, s->name, CLOCK_REALTIME, s->requeue_realtime);
        if (s->requeue_after > 0)
                workqueue_add_after(s->c->queue, s->ns, s->name, s->requeue_after);
        return 0;
}

int job_sync(JobController *c, const char *ns, const char *name)
{
        JobSync s = {.c = c, .ns = ns, .name = name, .now = now_usec(CLOCK_REALTIME)};
        int r;

        r = store_get(c->store, "Job", ns, name, &s.job);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        job_params_from_spec(s.job, &s.p);
        s.uid = json_str(s.job, "metadata.uid") ?: "";
        s.status = cJSON_IsObject(json_path(s.job, "status"))
                       ? cJSON_Duplicate(json_path(s.job, "status"), true)
                       : cJSON_CreateObject();
        if (!s.status) {
                r = -ENOMEM;
                goto out;
        }
        if (job_is_finished(s.status)) {
                r = finished_job(&s);
                goto out;
        }
        if (!s.p.indexed && !streq(s.p.completion_mode, "NonIndexed")) {
                r = store_event(c->store, s.job, "Warning", "UnknownCompletionMode",
                                "Skipped Job sync because completion mode is unknown");
                goto out;
        }
        r = job_pods_list(c->store, ns, s.uid, &s.pods);
        if (r >= 0)
                r = sync_steps(&s);
out:
        job_sync_done(&s);
        return r;
}
