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
