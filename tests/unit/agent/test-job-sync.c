#include <criterion/criterion.h>
#include <string.h>

#include "job-internal.h"
#include "json-util.h"

static char dir[] = "/tmp/berth-test-job-XXXXXX";
static Store *store;
static sd_event *loop;
static JobController *jc;

static void on_change(Store *s, StoreChange ch, const cJSON *obj, void *u)
{
        (void)s;
        job_controller_on_store_change(u, ch, obj);
}

static void setup(void)
{
        JobControllerOptions o = {.node_name = "n1"};

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(job_controller_new(&jc, loop, store, &o), 0);
        store_set_on_change(store, on_change, jc);
}

static void teardown(void)
{
        job_controller_free(jc);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(job_sync, .init = setup, .fini = teardown);

static void drain(void)
{
        for (int i = 0; i < 200; i++)
                if (sd_event_run(loop, 0) <= 0)
                        break;
}

static void create_job(const char *spec)
{
        _cleanup_free_ char *s =
            strjoin("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\","
                    "\"namespace\":\"default\"},\"spec\":",
                    spec, "}", NULL);
        _cleanup_json_ cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test json: %s", s);
        cr_assert_eq(store_create(store, j, NULL), 0);
        drain();
}

#define TEMPLATE(policy)                                                                                    \
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"pi\"}},\"spec\":{\"restartPolicy\":\"" policy    \
        "\",\"containers\":[{\"name\":\"main\",\"image\":\"busybox\"}]}}"

static cJSON *job(void)
{
        cJSON *j = NULL;

        cr_assert_eq(store_get(store, "Job", "default", "pi", &j), 0);
        return j;
}

static cJSON *pods(void)
{
        _cleanup_json_ cJSON *j = job();
        cJSON *p = NULL;

        cr_assert_eq(job_pods_list(store, "default", json_str(j, "metadata.uid"), &p), 0);
        return p;
}

static int64_t status_int(const char *field)
{
        _cleanup_json_ cJSON *j = job();

        return json_int(json_path(j, "status"), field, -1);
}

static const char *cond(const cJSON *j, const char *type)
{
        const cJSON *c = job_condition_find(json_path(j, "status"), type);

        return c ? json_str(c, "reason") : NULL;
}

/* Simulates the pod controller finishing active pod number i (in name order). */
static void finish_pod(int i, const char *phase, int exit_code, const char *finished_at)
{
        _cleanup_json_ cJSON *ps = pods();
        const cJSON *p = NULL, *q;

        cJSON_ArrayForEach (q, ps)
                if (!json_str(q, "status.phase") && i-- == 0)
                        p = q;
        char buf[512];
        _cleanup_json_ cJSON *st = NULL;

        cr_assert_not_null(p);
        snprintf(buf, sizeof buf,
                 "{\"phase\":\"%s\",\"containerStatuses\":[{\"name\":\"main\",\"restartCount\":0,"
                 "\"state\":{\"terminated\":{\"exitCode\":%d,\"finishedAt\":\"%s\"}}}]}",
                 phase, exit_code, finished_at);
        st = cJSON_Parse(buf);
        cr_assert_eq(store_update_status(store, "Pod", "default", json_str(p, "metadata.name"), st), 0);
        drain();
}

#define LONG_AGO "2020-01-01T00:00:00Z"

static bool has_event(const char *reason, const char *msg_prefix)
{
        _cleanup_json_ cJSON *ev = NULL;
        const cJSON *e;

        cr_assert_eq(store_list_events(store, NULL, NULL, &ev), 0);
        cJSON_ArrayForEach (e, ev)
                if (streq_ptr(json_str(e, "reason"), reason) &&
                    startswith(json_str(e, "message") ?: "", msg_prefix))
                        return true;
        return false;
}

Test(job_sync, creates_a_pod_from_the_template_owned_and_tracked_by_the_job)
{
        create_job("{\"completions\":1,\"parallelism\":1," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = job();
        const cJSON *p = cJSON_GetArrayItem(ps, 0), *labels = json_path(p, "metadata.labels");

        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert(startswith(json_str(p, "metadata.name"), "pi-"));
        cr_assert_eq(strlen(json_str(p, "metadata.name")), 8);
        cr_assert_str_eq(cJSON_GetObjectItem(labels, "app")->valuestring, "pi");
        cr_assert_str_eq(cJSON_GetObjectItem(labels, JOB_LABEL_JOB_NAME)->valuestring, "pi");
        cr_assert_str_eq(cJSON_GetObjectItem(labels, "controller-uid")->valuestring,
                         json_str(j, "metadata.uid"));
        cr_assert_str_eq(json_str(json_path(p, "metadata.ownerReferences")->child, "kind"), "Job");
        cr_assert(json_bool(json_path(p, "metadata.ownerReferences")->child, "blockOwnerDeletion", false));
        cr_assert(job_pod_has_finalizer(p));
        cr_assert_null(json_str(p, "spec.nodeName"));
        cr_assert_eq(json_int(j, "status.active", -1), 1);
        cr_assert_not_null(json_str(j, "status.startTime"));
        cr_assert(has_event("SuccessfulCreate", "Created pod: pi-"));
}

Test(job_sync, completes_once_the_pod_succeeds_and_counts_it_once)
{
        create_job("{\"completions\":1,\"parallelism\":1," TEMPLATE("Never") "}");
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cr_assert_eq(job_controller_resync(jc), 0);
        drain();
        _cleanup_json_ cJSON *j = job(), *ps = pods();

        cr_assert_str_eq(cond(j, "Complete"), "CompletionsReached");
        cr_assert_str_eq(cond(j, "SuccessCriteriaMet"), "CompletionsReached");
        cr_assert_eq(json_int(j, "status.succeeded", -1), 1);
        cr_assert_eq(json_int(j, "status.active", -1), 0);
        cr_assert_not_null(json_str(j, "status.completionTime"));
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_not(job_pod_has_finalizer(ps->child));
        cr_assert(has_event("Completed", "Job completed"));
}

Test(job_sync, runs_parallel_pods_until_completions_are_reached)
{
        create_job("{\"completions\":3,\"parallelism\":2," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 2);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cr_assert_eq(status_int("succeeded"), 1);
        cr_assert_eq(status_int("active"), 2);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        _cleanup_json_ cJSON *j = job();
        cr_assert_eq(json_int(j, "status.succeeded", -1), 3);
        cr_assert_str_eq(cond(j, "Complete"), "CompletionsReached");
}

Test(job_sync, fails_only_when_failures_exceed_the_backoff_limit)
{
        create_job("{\"backoffLimit\":1," TEMPLATE("Never") "}");
        finish_pod(0, "Failed", 1, LONG_AGO);
        {
                _cleanup_json_ cJSON *j = job(), *ps = pods();
                cr_assert_null(cond(j, "Failed"));
                cr_assert_eq(json_int(j, "status.failed", -1), 1);
                cr_assert_eq(cJSON_GetArraySize(ps), 2, "the failure long ago needs no back-off");
        }
        finish_pod(0, "Failed", 1, LONG_AGO);
        _cleanup_json_ cJSON *j = job();
        cr_assert_str_eq(cond(j, "FailureTarget"), "BackoffLimitExceeded");
        cr_assert_str_eq(cond(j, "Failed"), "BackoffLimitExceeded");
        cr_assert_eq(json_int(j, "status.failed", -1), 2);
        cr_assert(has_event("BackoffLimitExceeded", "Job has reached the specified backoff limit"));
}

Test(job_sync, waits_ten_seconds_before_replacing_a_pod_that_just_failed)
{
        char now[64];

        create_job("{" TEMPLATE("Never") "}");
        cr_assert_eq(format_rfc3339(now_usec(CLOCK_REALTIME), now, sizeof now), 0);
        finish_pod(0, "Failed", 1, now);
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_eq(status_int("failed"), 1);
        cr_assert_eq(status_int("active"), 0);
}

Test(job_sync, deadline_deletes_active_pods_and_fails_once_they_are_gone)
{
        create_job("{\"parallelism\":2,\"completions\":2," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *j = job(), *ps = NULL;
        cJSON *spec = json_path(j, "spec");
        const cJSON *p;

        cJSON_AddNumberToObject(spec, "activeDeadlineSeconds", 0);
        cr_assert_eq(store_update(store, j, NULL), 0);
        drain();
        ps = pods();
        cJSON_ArrayForEach (p, ps)
                cr_assert_not_null(json_str(p, "metadata.deletionTimestamp"));
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "FailureTarget"), "DeadlineExceeded");
        cr_assert_null(cond(j, "Failed"), "pods are still terminating");
        cr_assert_eq(json_int(j, "status.failed", -1), 2);
        cr_assert(has_event("SuccessfulDelete", "Deleted pod: pi-"));
        /* the pod controller finishes the deletions */
        cJSON_ArrayForEach (p, ps)
                cr_assert_eq(store_delete(store, "Pod", "default", json_str(p, "metadata.name"), NULL), 0);
        drain();
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "Failed"), "DeadlineExceeded");
        cr_assert_eq(json_int(j, "status.failed", -1), 2);
}

Test(job_sync, suspended_job_runs_nothing_until_resumed)
{
        create_job("{\"suspend\":true," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *j = job(), *ps = pods();

        cr_assert_eq(cJSON_GetArraySize(ps), 0);
        cr_assert_str_eq(cond(j, "Suspended"), "JobSuspended");
        cr_assert_null(json_str(j, "status.startTime"));
        cJSON_ReplaceItemInObject(json_path(j, "spec"), "suspend", cJSON_CreateFalse());
        cr_assert_eq(store_update(store, j, NULL), 0);
        drain();
        cJSON_Delete(j);
        cJSON_Delete(ps);
        j = job();
        ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_str_eq(cond(j, "Suspended"), "JobResumed");
        cr_assert_str_eq(json_str(job_condition_find(json_path(j, "status"), "Suspended"), "status"),
                         "False");
        cr_assert_not_null(json_str(j, "status.startTime"));
        cr_assert(has_event("Resumed", "Job resumed"));
}

Test(job_sync, deletes_the_finished_job_and_its_pods_after_the_ttl)
{
        create_job("{\"ttlSecondsAfterFinished\":0," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *before = pods(), *j = NULL, *p = NULL;

        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cr_assert_eq(store_get(store, "Job", "default", "pi", &j), -ENOENT);
        cr_assert_eq(store_get(store, "Pod", "default", json_str(before->child, "metadata.name"), &p), 0);
        cr_assert_not_null(json_str(p, "metadata.deletionTimestamp"));
}

Test(job_sync, indexed_job_creates_one_pod_per_index_and_tracks_completed_indexes)
{
        create_job(
            "{\"completions\":3,\"parallelism\":3,\"completionMode\":\"Indexed\"," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods();
        const cJSON *p;
        bool seen[3] = {0};

        cr_assert_eq(cJSON_GetArraySize(ps), 3);
        cJSON_ArrayForEach (p, ps) {
                int64_t idx = job_pod_index(p);
                char host[16];
                cr_assert(idx >= 0 && idx < 3);
                seen[idx] = true;
                snprintf(host, sizeof host, "pi-%lld", (long long)idx);
                cr_assert_str_eq(json_str(p, "spec.hostname"), host);
                cr_assert_str_eq(json_str(json_path(json_path(p, "spec.containers")->child, "env")->child,
                                          "valueFrom.fieldRef.fieldPath"),
                                 "metadata.labels['batch.kubernetes.io/job-completion-index']");
                cr_assert(startswith(json_str(p, "metadata.name"), host));
        }
        cr_assert(seen[0] && seen[1] && seen[2]);
        /* pods sort by name: pi-0-*, pi-1-*, pi-2-* */
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        finish_pod(1, "Succeeded", 0, LONG_AGO);
        _cleanup_json_ cJSON *j = job();
        cr_assert_str_eq(json_str(j, "status.completedIndexes"), "0,2");
        cr_assert_eq(json_int(j, "status.succeeded", -1), 2);
        cr_assert_null(cond(j, "Complete"));
}

Test(job_sync, pod_failure_policy_fail_job_fails_with_the_rule_message)
{
        create_job(
            "{\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailJob\",\"onExitCodes\":{\"operator\":\"In\","
            "\"values\":[42]}}]}," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods();
        _cleanup_free_ char *want = NULL;

        cr_assert(asprintf_safe(&want,
                                "Container main for pod default/%s failed with exit code 42 matching "
                                "FailJob rule at index 0",
                                json_str(ps->child, "metadata.name")) >= 0);
        finish_pod(0, "Failed", 42, LONG_AGO);
        _cleanup_json_ cJSON *j = job();
        cr_assert_str_eq(cond(j, "Failed"), "PodFailurePolicy");
        cr_assert_str_eq(json_str(job_condition_find(json_path(j, "status"), "Failed"), "message"), want);
}

Test(job_sync, ignored_failures_do_not_count_toward_the_backoff_limit)
{
        create_job(
            "{\"backoffLimit\":0,\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\",\"onExitCodes\":"
            "{\"operator\":\"In\",\"values\":[3]}}]}," TEMPLATE("Never") "}");
        finish_pod(0, "Failed", 3, LONG_AGO);
        _cleanup_json_ cJSON *j = job(), *ps = pods();
        cr_assert_null(cond(j, "Failed"));
        cr_assert_eq(json_int(j, "status.failed", -1), 0);
        cr_assert_eq(cJSON_GetArraySize(ps), 2);
}

Test(job_sync, starts_a_job_prepared_ahead_at_its_scheduled_time)
{
        _cleanup_json_ cJSON *j = NULL;
        char at[64];
        usec_t future = (now_usec(CLOCK_REALTIME) / USEC_PER_SEC + 30) * USEC_PER_SEC, t;
        _cleanup_free_ char *spec = NULL;

        cr_assert_eq(format_rfc3339(future, at, sizeof(at)), 0);
        cr_assert_geq(
            asprintf_safe(&spec,
                          "{\"template\":{\"metadata\":{\"annotations\":{\"berth.dev/start-at\":\"%s\"}},"
                          "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"main\","
                          "\"image\":\"busybox\"}]}}}",
                          at),
            0);
        create_job(spec);
        j = job();
        cr_assert_eq(parse_rfc3339(json_str(j, "status.startTime"), &t), 0);
        cr_assert_eq(t, future);
}

/* Writes status (JSON text) to pod name as the pod controller would. */
static void set_pod_status(const char *name, const char *status)
{
        _cleanup_json_ cJSON *st = cJSON_Parse(status);

        cr_assert_not_null(st, "bad test json: %s", status);
        cr_assert_eq(store_update_status(store, "Pod", "default", name, st), 0);
        drain();
}

static cJSON *pod_named(const char *name)
{
        cJSON *p = NULL;

        cr_assert_eq(store_get(store, "Pod", "default", name, &p), 0, "pod %s", name);
        return p;
}

static bool pod_deleted(const char *name)
{
        _cleanup_json_ cJSON *p = pod_named(name);

        return json_str(p, "metadata.deletionTimestamp") != NULL;
}

/* The pod controller completes a graceful deletion. */
static void remove_pod(const char *name)
{
        cr_assert_eq(store_delete(store, "Pod", "default", name, NULL), 0);
        drain();
}

static size_t pods_of_index(int64_t idx)
{
        _cleanup_json_ cJSON *ps = pods();
        const cJSON *p;
        size_t n = 0;

        cJSON_ArrayForEach (p, ps)
                n += job_pod_index(p) == idx;
        return n;
}

/* A pod of the Job written by someone else (a restore, a second writer): a copy of like with
 * index idx (NULL: none) and, when given, a status, all in place before the Job syncs. */
static char *create_pod_like(const cJSON *like, const char *idx, const char *status)
{
        static const char *const server[] = {"name", "uid", "resourceVersion", "creationTimestamp",
                                             "generation"};
        _cleanup_json_ cJSON *p = cJSON_Duplicate(like, true), *created = NULL;
        cJSON *meta = json_path(p, "metadata");
        char *name;

        cr_assert_not_null(p);
        cJSON_DeleteItemFromObjectCaseSensitive(p, "status");
        for (size_t i = 0; i < ELEMENTSOF(server); i++)
                cJSON_DeleteItemFromObjectCaseSensitive(meta, server[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(json_path(meta, "annotations"), JOB_COMPLETION_INDEX_KEY);
        cJSON_DeleteItemFromObjectCaseSensitive(json_path(meta, "labels"), JOB_COMPLETION_INDEX_KEY);
        if (idx)
                cr_assert(json_set_string(json_path(meta, "annotations"), JOB_COMPLETION_INDEX_KEY, idx) >=
                          0);
        cr_assert(json_set_string(meta, "generateName", "pi-extra-") >= 0);
        cr_assert_eq(store_create(store, p, &created), 0);
        name = strdup(json_str(created, "metadata.name"));
        cr_assert_not_null(name);
        if (status) {
                _cleanup_json_ cJSON *st = cJSON_Parse(status);
                cr_assert_not_null(st);
                cr_assert_eq(store_update_status(store, "Pod", "default", name, st), 0);
        }
        drain();
        return name;
}

#define INDEXED(completions, parallelism)                                                                   \
        "\"completions\":" #completions ",\"parallelism\":" #parallelism ",\"completionMode\":\"Indexed\","

Test(job_sync, indexed_job_deletes_a_repeated_index_keeping_the_running_pod)
{
        create_job("{" INDEXED(2, 2) TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL, *after = NULL, *dup = NULL;
        _cleanup_free_ char *first = strdup(json_str(ps->child, "metadata.name")), *extra = NULL;

        cr_assert_eq(job_pod_index(ps->child), 0);
        set_pod_status(first, "{\"phase\":\"Running\"}");
        extra = create_pod_like(ps->child, "0", NULL);
        dup = pod_named(extra);
        cr_assert_eq(job_pod_index(dup), 0);
        cr_assert_not_null(json_str(dup, "metadata.deletionTimestamp"), "the repeated index is deleted");
        cr_assert_not(job_pod_has_finalizer(dup), "and released uncounted");
        cr_assert_not(pod_deleted(first), "the running pod of the index stays");
        after = pods();
        cr_assert_eq(cJSON_GetArraySize(after), 3, "no pod replaces it");
        j = job();
        cr_assert_eq(json_int(j, "status.active", -1), 2);
        cr_assert_eq(json_int(j, "status.terminating", -1), 1);
        cr_assert_eq(json_int(j, "status.failed", -1), 0);
        cr_assert_eq(json_int(j, "status.succeeded", -1), 0);
        cr_assert(has_event("SuccessfulDelete", "Deleted pod: pi-extra-"));
        remove_pod(extra);
        cr_assert_eq(pods_of_index(0), 1);
        cr_assert_eq(pods_of_index(1), 1);
        cr_assert_eq(status_int("failed"), 0);
        cr_assert_eq(status_int("active"), 2);
}

Test(job_sync, indexed_job_keeps_a_running_repeat_over_a_pending_original)
{
        create_job("{" INDEXED(2, 2) TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods();
        _cleanup_free_ char *first = strdup(json_str(ps->child, "metadata.name")), *extra = NULL;

        set_pod_status(first, "{\"phase\":\"Pending\"}");
        extra = create_pod_like(ps->child, "0", "{\"phase\":\"Running\"}");
        cr_assert(pod_deleted(first));
        cr_assert_not(pod_deleted(extra));
        cr_assert_eq(status_int("active"), 2);
        cr_assert_eq(status_int("failed"), 0);
}

Test(job_sync, indexed_job_deletes_pods_without_a_valid_index_and_never_counts_them)
{
        create_job("{" INDEXED(2, 2) TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL;
        _cleanup_free_ char *beyond = NULL, *garbage = NULL, *none = NULL;

        beyond = create_pod_like(ps->child, "2", NULL);
        garbage = create_pod_like(ps->child, "x", NULL);
        none = create_pod_like(ps->child, NULL, NULL);
        {
                _cleanup_json_ cJSON *p = pod_named(beyond);
                cr_assert_eq(job_pod_index(p), 2);
        }
        cr_assert(pod_deleted(beyond), "index == completions is out of range");
        cr_assert(pod_deleted(garbage));
        cr_assert(pod_deleted(none));
        cr_assert_eq(pods_of_index(0), 1);
        cr_assert_eq(pods_of_index(1), 1);
        j = job();
        cr_assert_eq(json_int(j, "status.active", -1), 2);
        cr_assert_eq(json_int(j, "status.failed", -1), 0);
        cr_assert_null(json_str(j, "status.completedIndexes"));
        remove_pod(beyond);
        remove_pod(garbage);
        remove_pod(none);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "Complete"), "CompletionsReached");
        cr_assert_str_eq(json_str(j, "status.completedIndexes"), "0,1");
        cr_assert_eq(json_int(j, "status.succeeded", -1), 2);
        cr_assert_eq(json_int(j, "status.failed", -1), 0);
}

Test(job_sync, indexed_job_releases_a_finished_out_of_range_pod_without_counting_it)
{
        create_job("{" INDEXED(2, 2) TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods(), *p = NULL;
        _cleanup_free_ char *failed = NULL, *succeeded = NULL;

        failed = create_pod_like(ps->child, "7", "{\"phase\":\"Failed\"}");
        succeeded = create_pod_like(ps->child, "5", "{\"phase\":\"Succeeded\"}");
        p = pod_named(failed);
        cr_assert_not(job_pod_has_finalizer(p));
        cJSON_Delete(p);
        p = pod_named(succeeded);
        cr_assert_not(job_pod_has_finalizer(p));
        cr_assert_eq(status_int("failed"), 0);
        cr_assert_eq(status_int("succeeded"), 0);
        cr_assert_eq(status_int("active"), 2);
}

/* The kubelet restarting pod name's containers in place (restartPolicy OnFailure). */
static void set_restarts(const char *name, const char *phase, int init_restarts, int restarts)
{
        char buf[512];

        snprintf(
            buf, sizeof buf,
            "{\"phase\":\"%s\",\"initContainerStatuses\":[{\"name\":\"init\",\"restartCount\":%d}],"
            "\"containerStatuses\":[{\"name\":\"main\",\"restartCount\":%d,\"state\":{\"running\":{}}}]}",
            phase, init_restarts, restarts);
        set_pod_status(name, buf);
}

Test(job_sync, on_failure_restarts_fail_the_job_once_they_reach_the_backoff_limit)
{
        create_job("{\"backoffLimit\":3," TEMPLATE("OnFailure") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL;
        _cleanup_free_ char *name = strdup(json_str(ps->child, "metadata.name"));

        set_restarts(name, "Running", 1, 1);
        j = job();
        cr_assert_null(cond(j, "FailureTarget"), "2 restarts < backoffLimit 3");
        cr_assert_eq(json_int(j, "status.active", -1), 1);
        cr_assert_not(pod_deleted(name));
        set_restarts(name, "Running", 1, 2);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "FailureTarget"), "BackoffLimitExceeded", "init + app restarts reach 3");
        cr_assert_null(cond(j, "Failed"), "the pod is still terminating");
        cr_assert(pod_deleted(name));
        cr_assert_eq(json_int(j, "status.failed", -1), 1, "the deleted pod counts as failed");
        remove_pod(name);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "Failed"), "BackoffLimitExceeded");
        cr_assert_str_eq(json_str(job_condition_find(json_path(j, "status"), "Failed"), "message"),
                         "Job has reached the specified backoff limit");
        cr_assert_eq(json_int(j, "status.failed", -1), 1);
}

Test(job_sync, on_failure_with_a_zero_backoff_limit_fails_at_the_first_restart)
{
        create_job("{\"backoffLimit\":0," TEMPLATE("OnFailure") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL;
        _cleanup_free_ char *name = strdup(json_str(ps->child, "metadata.name"));

        set_restarts(name, "Pending", 0, 0);
        j = job();
        cr_assert_null(cond(j, "FailureTarget"));
        set_restarts(name, "Pending", 1, 0);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "FailureTarget"), "BackoffLimitExceeded");
}

Test(job_sync, on_failure_sums_restarts_of_running_and_pending_pods_only)
{
        create_job("{\"completions\":3,\"parallelism\":2,\"backoffLimit\":3," TEMPLATE("OnFailure") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL, *now = NULL;
        _cleanup_free_ char *a = strdup(json_str(ps->child, "metadata.name")),
                            *b = strdup(json_str(ps->child->next, "metadata.name")), *c = NULL;
        const cJSON *p;

        set_pod_status(
            a, "{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"main\",\"restartCount\":5,"
               "\"state\":{\"terminated\":{\"exitCode\":0,\"finishedAt\":\"" LONG_AGO "\"}}}]}");
        j = job();
        cr_assert_null(cond(j, "FailureTarget"), "a finished pod's restarts do not count");
        cr_assert_eq(json_int(j, "status.succeeded", -1), 1);
        now = pods();
        cr_assert_eq(cJSON_GetArraySize(now), 3);
        cJSON_ArrayForEach (p, now)
                if (!streq(json_str(p, "metadata.name"), a) && !streq(json_str(p, "metadata.name"), b))
                        c = strdup(json_str(p, "metadata.name"));
        cr_assert_not_null(c);
        set_restarts(b, "Running", 0, 1);
        set_restarts(c, "Pending", 0, 1);
        cJSON_Delete(j);
        j = job();
        cr_assert_null(cond(j, "FailureTarget"), "1 + 1 restarts < 3");
        set_restarts(c, "Pending", 1, 1);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "FailureTarget"), "BackoffLimitExceeded", "1 + 2 restarts across pods");
}

Test(job_sync, never_restart_policy_ignores_restart_counts)
{
        create_job("{\"backoffLimit\":1," TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *ps = pods(), *j = NULL;

        set_restarts(json_str(ps->child, "metadata.name"), "Running", 2, 2);
        j = job();
        cr_assert_null(cond(j, "FailureTarget"));
        cr_assert_eq(json_int(j, "status.active", -1), 1);
}

#define FAIL_INDEX_ON_42                                                                                    \
        "\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\","  \
        "\"values\":[42]}}]},"

Test(job_sync, fail_index_fails_that_index_only_and_the_job_runs_the_others)
{
        create_job("{" INDEXED(3, 3) "\"backoffLimitPerIndex\":1," FAIL_INDEX_ON_42 TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *c;

        finish_pod(1, "Failed", 42, LONG_AGO);
        j = job();
        cr_assert_str_eq(json_str(j, "status.failedIndexes"), "1");
        cr_assert_eq(json_int(j, "status.failed", -1), 1);
        cr_assert_eq(json_int(j, "status.active", -1), 2);
        cr_assert_null(cond(j, "FailureTarget"));
        cr_assert_eq(pods_of_index(1), 1, "a failed index is not re-created");
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cr_assert_eq(pods_of_index(1), 1);
        finish_pod(0, "Succeeded", 0, LONG_AGO);
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(json_str(j, "status.completedIndexes"), "0,2");
        cr_assert_str_eq(json_str(j, "status.failedIndexes"), "1");
        cr_assert_eq(json_int(j, "status.succeeded", -1), 2);
        cr_assert_eq(json_int(j, "status.failed", -1), 1);
        cr_assert_null(cond(j, "Complete"));
        cr_assert_str_eq(cond(j, "Failed"), "FailedIndexes");
        c = job_condition_find(json_path(j, "status"), "Failed");
        cr_assert_str_eq(json_str(c, "message"), "Job has failed indexes");
}

Test(job_sync, a_counted_failure_below_the_per_index_limit_replaces_the_index)
{
        create_job("{" INDEXED(2, 2) "\"backoffLimitPerIndex\":1," FAIL_INDEX_ON_42 TEMPLATE("Never") "}");
        _cleanup_json_ cJSON *j = NULL, *ps = NULL;
        const cJSON *p;
        bool replaced = false;

        finish_pod(1, "Failed", 1, LONG_AGO);
        j = job();
        cr_assert_str_eq(json_str(j, "status.failedIndexes"), "");
        cr_assert_eq(json_int(j, "status.failed", -1), 1);
        ps = pods();
        cJSON_ArrayForEach (p, ps) {
                /* the key has dots: no json_str path */
                const cJSON *count = cJSON_GetObjectItemCaseSensitive(json_path(p, "metadata.annotations"),
                                                                      JOB_INDEX_FAILURE_COUNT_KEY);
                if (job_pod_index(p) == 1 && !json_str(p, "status.phase"))
                        replaced = cJSON_IsString(count) && streq(count->valuestring, "1");
        }
        cr_assert(replaced, "index 1 runs again with failure-count 1");
}

Test(job_sync, fail_index_beyond_max_failed_indexes_fails_the_job)
{
        create_job(
            "{" INDEXED(4, 4) "\"backoffLimitPerIndex\":2,\"maxFailedIndexes\":1," FAIL_INDEX_ON_42 TEMPLATE(
                "Never") "}");
        _cleanup_json_ cJSON *j = NULL, *ps = NULL;
        const cJSON *p;

        finish_pod(0, "Failed", 42, LONG_AGO);
        j = job();
        cr_assert_str_eq(json_str(j, "status.failedIndexes"), "0");
        cr_assert_null(cond(j, "FailureTarget"), "1 failed index is within maxFailedIndexes 1");
        cr_assert_eq(json_int(j, "status.active", -1), 3);
        finish_pod(1, "Failed", 42, LONG_AGO); /* index 2: index 0 has a phase now */
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(json_str(j, "status.failedIndexes"), "0,2");
        cr_assert_str_eq(cond(j, "FailureTarget"), "MaxFailedIndexesExceeded");
        cr_assert_null(cond(j, "Failed"), "indexes 1 and 3 are still terminating");
        ps = pods();
        cJSON_ArrayForEach (p, ps)
                if (!json_str(p, "status.phase")) {
                        cr_assert_not_null(json_str(p, "metadata.deletionTimestamp"));
                        remove_pod(json_str(p, "metadata.name"));
                }
        cJSON_Delete(j);
        j = job();
        cr_assert_str_eq(cond(j, "Failed"), "MaxFailedIndexesExceeded");
        cr_assert_str_eq(json_str(job_condition_find(json_path(j, "status"), "Failed"), "message"),
                         "Job has exceeded the specified maximal number of failed indexes");
        cr_assert_eq(json_int(j, "status.failed", -1), 4, "2 failed pods and 2 deleted active pods");
        cr_assert(has_event("MaxFailedIndexesExceeded",
                            "Job has exceeded the specified maximal number of failed indexes"));
}
