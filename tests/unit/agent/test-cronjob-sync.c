/* Tests for cronjob-sync.c on a temporary store and loop, with an injected wall clock: one
 * Job per due time (name, annotation, owner, status), nothing twice, concurrency policies,
 * a clock stepping back, completion bookkeeping, history cleanup and a crash after commit;
 * "@reboot" CronJobs once per injected boot id. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "cronjob-internal.h"
#include "json-util.h"

static char dir[] = "/tmp/berth-test-cronjob-XXXXXX";
static Store *store;
static sd_event *loop;
static CronJobController *cc;
static int64_t created; /* the CronJob's creationTimestamp */
static int64_t T;       /* its first schedule time (every 5 minutes) */

static void setup(void)
{
        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(cronjob_controller_new(&cc, loop, store), 0);
}

static void teardown(void)
{
        cronjob_controller_free(cc);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(cronjob_sync, .init = setup, .fini = teardown);

static usec_t us(int64_t sec)
{
        return (usec_t)sec * USEC_PER_SEC;
}

static void create_scheduled(const char *schedule, const char *extra_spec, const char *annotations)
{
        _cleanup_free_ char *s = strjoin(
            "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"tick\","
            "\"namespace\":\"default\",\"annotations\":{",
            annotations, "}},\"spec\":{\"schedule\":\"", schedule, "\",", extra_spec,
            "\"jobTemplate\":{\"metadata\":{\"labels\":{\"app\":\"tick\"},\"annotations\":{\"x\":\"y\"}},"
            "\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
            "\"image\":\"busybox\"}]}}}}}}",
            NULL);
        _cleanup_json_ cJSON *j = cJSON_Parse(s), *got = NULL;
        usec_t u;

        cr_assert_not_null(j, "bad test json: %s", s);
        cr_assert_eq(store_create(store, j, &got), 0);
        cr_assert_eq(parse_rfc3339(json_str(got, "metadata.creationTimestamp"), &u), 0);
        created = (int64_t)(u / USEC_PER_SEC);
        T = (created / 300 + 1) * 300;
}

static void create_cronjob(const char *extra_spec, const char *annotations)
{
        create_scheduled("*/5 * * * *", extra_spec, annotations);
}

static void sync_at(int64_t now)
{
        cronjob_controller_set_now(cc, us(now));
        cr_assert_eq(cronjob_sync(cc, "default", "tick"), 0);
}

static cJSON *jobs(void)
{
        cJSON *all = NULL;

        cr_assert_eq(store_list(store, "Job", "default", NULL, &all), 0);
        return all;
}

static cJSON *cronjob(void)
{
        cJSON *cj = NULL;

        cr_assert_eq(store_get(store, "CronJob", "default", "tick", &cj), 0);
        return cj;
}

static int count_events(const char *reason)
{
        _cleanup_json_ cJSON *ev = NULL;
        const cJSON *e;
        int n = 0;

        cr_assert_eq(store_list_events(store, "default", NULL, &ev), 0);
        cJSON_ArrayForEach (e, ev)
                if (streq_ptr(json_str(e, "reason"), reason))
                        n += (int)json_int(e, "count", 1);
        return n;
}

static char *job_name(int64_t t)
{
        char *n = NULL;

        cr_assert_geq(asprintf_safe(&n, "tick-%lld", (long long)(t / 60)), 0);
        return n;
}

static void finish_job(const char *name, const char *type, const char *start, const char *done)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_json_ cJSON *st = NULL;

        cr_assert_geq(
            asprintf_safe(&s,
                          "{\"startTime\":\"%s\",\"completionTime\":\"%s\",\"conditions\":[{\"type\":\"%s\","
                          "\"status\":\"True\"}]}",
                          start, done, type),
            0);
        st = cJSON_Parse(s);
        cr_assert_eq(store_update_status(store, "Job", "default", name, st), 0);
}

Test(cronjob_sync, launches_exactly_one_job_when_a_time_is_due)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;
        _cleanup_free_ char *name = NULL;
        char stamp[64];
        const cJSON *job, *owner;

        create_cronjob("\"timeZone\":\"UTC\",", "");
        sync_at(T - 10);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 0, "nothing before the time");
        cJSON_Delete(all);
        sync_at(T + 1);
        all = jobs();
        cj = cronjob();
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        job = cJSON_GetArrayItem(all, 0);
        name = job_name(T);
        cr_expect_str_eq(json_str(job, "metadata.name"), name);
        cr_assert_eq(format_rfc3339(us(T), stamp, sizeof(stamp)), 0);
        cr_expect_str_eq(cJSON_GetObjectItem(json_path(job, "metadata.annotations"),
                                             "batch.kubernetes.io/cronjob-scheduled-timestamp")
                             ->valuestring,
                         stamp);
        cr_expect_str_eq(json_str(job, "metadata.annotations.x"), "y");
        cr_expect_str_eq(json_str(job, "metadata.labels.app"), "tick");
        owner = cJSON_GetArrayItem(json_path(job, "metadata.ownerReferences"), 0);
        cr_expect_str_eq(json_str(owner, "kind"), "CronJob");
        cr_expect_str_eq(json_str(owner, "uid"), json_str(cj, "metadata.uid"));
        cr_expect(json_bool(owner, "controller", false));
        cr_expect_str_eq(json_str(job, "spec.template.spec.restartPolicy"), "Never");
        cr_expect_str_eq(json_str(cj, "status.lastScheduleTime"), stamp);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(json_path(cj, "status.active"), 0), "name"), name);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(json_path(cj, "status.active"), 0), "uid"),
                         json_str(job, "metadata.uid"));
        cr_expect_eq(count_events("SuccessfulCreate"), 1);
        /* the next look is 100ms after the next time */
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "tick"),
                     us(T + 300) + 100 * USEC_PER_MSEC - CRONJOB_LAUNCH_LEAD_USEC);
}

Test(cronjob_sync, does_nothing_on_a_second_sync)
{
        _cleanup_json_ cJSON *a = NULL, *b = NULL, *all = NULL;

        create_cronjob("", "");
        sync_at(T + 1);
        a = cronjob();
        sync_at(T + 2);
        sync_at(T + 298); /* T + 299 would launch T + 300 ahead (CRONJOB_LAUNCH_LEAD_USEC) */
        b = cronjob();
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
        cr_expect_str_eq(json_str(a, "metadata.resourceVersion"), json_str(b, "metadata.resourceVersion"));
        cr_expect_eq(count_events("SuccessfulCreate"), 1);
}

Test(cronjob_sync, forbid_starts_nothing_while_a_job_is_active)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;

        create_cronjob("\"concurrencyPolicy\":\"Forbid\",", "");
        sync_at(T + 1);
        sync_at(T + 301);
        all = jobs();
        cj = cronjob();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
        cr_expect_eq(count_events("JobAlreadyActive"), 1);
        cr_expect_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 1);
}

Test(cronjob_sync, allow_starts_a_second_job_beside_the_active_one)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;

        create_cronjob("", "");
        sync_at(T + 1);
        sync_at(T + 301);
        all = jobs();
        cj = cronjob();
        cr_expect_eq(cJSON_GetArraySize(all), 2);
        cr_expect_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 2);
}

Test(cronjob_sync, replace_deletes_the_active_job_and_starts_a_new_one)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;
        _cleanup_free_ char *second = NULL;

        create_cronjob("\"concurrencyPolicy\":\"Replace\",", "");
        sync_at(T + 1);
        sync_at(T + 301);
        all = jobs();
        cj = cronjob();
        second = job_name(T + 300);
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(all, 0), "metadata.name"), second);
        cr_assert_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 1);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(json_path(cj, "status.active"), 0), "name"), second);
        cr_expect_eq(count_events("SuccessfulDelete"), 1);
}

Test(cronjob_sync, does_not_relaunch_after_the_clock_steps_back)
{
        _cleanup_json_ cJSON *all = NULL;

        create_cronjob("", "");
        sync_at(T + 1);
        sync_at(T - 200);
        sync_at(T + 1);
        sync_at(T + 2);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
        cr_expect_eq(count_events("SuccessfulCreate"), 1);
}

Test(cronjob_sync, counts_a_forward_step_as_missed_times)
{
        _cleanup_json_ cJSON *all = NULL;
        _cleanup_free_ char *latest = NULL;

        create_cronjob("", "");
        sync_at(T + 3 * 300 + 7);
        all = jobs();
        latest = job_name(T + 3 * 300);
        cr_assert_eq(cJSON_GetArraySize(all), 1, "only the most recent missed time runs");
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(all, 0), "metadata.name"), latest);
}

Test(cronjob_sync, misses_a_time_past_the_starting_deadline)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;

        create_cronjob("\"startingDeadlineSeconds\":10,", "");
        /* the deadline moves earliest to now-10s: the time is not even seen */
        sync_at(T + 30);
        all = jobs();
        cj = cronjob();
        cr_expect_eq(cJSON_GetArraySize(all), 0);
        cr_expect_null(json_path(cj, "status.lastScheduleTime"));
}

Test(cronjob_sync, catch_up_all_launches_each_missed_time_in_its_own_sync)
{
        _cleanup_json_ cJSON *all = NULL;

        create_cronjob("", "\"berth.dev/catch-up\":\"all\"");
        for (int i = 0; i < 5; i++)
                sync_at(T + 3 * 300 + 7);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 4);
        cr_expect_eq(count_events("SuccessfulCreate"), 4);
}

Test(cronjob_sync, suspend_launches_nothing)
{
        _cleanup_json_ cJSON *all = NULL;

        create_cronjob("\"suspend\":true,", "");
        sync_at(T + 1);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 0);
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "tick"), 0);
}

Test(cronjob_sync, reports_an_unknown_time_zone)
{
        create_cronjob("\"timeZone\":\"Mars/Olympus\",", "");
        sync_at(T + 1);
        cr_expect_eq(count_events("UnknownTimeZone"), 1);
}

Test(cronjob_sync, records_completion_and_cleans_up_history)
{
        _cleanup_json_ cJSON *cj = NULL, *all = NULL;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL;

        create_cronjob("\"successfulJobsHistoryLimit\":1,", "");
        sync_at(T + 1);
        sync_at(T + 301);
        j1 = job_name(T);
        j2 = job_name(T + 300);
        finish_job(j1, "Complete", "2000-01-01T00:00:01Z", "2000-01-01T00:00:05Z");
        finish_job(j2, "Complete", "2000-01-01T00:00:02Z", "2000-01-01T00:00:09Z");
        sync_at(T + 302);
        cj = cronjob();
        cr_expect_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 0);
        cr_expect_eq(count_events("SawCompletedJob"), 1, "the deleted one was never seen complete");
        cr_expect_eq(count_events("SuccessfulDelete"), 1);
        all = jobs();
        cr_assert_eq(cJSON_GetArraySize(all), 1, "history limit 1 keeps the newest");
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(all, 0), "metadata.name"), j2);
        /* upstream order: cleanup took the deleted Job out of active first, so that one counts
         * already; the one just removed from active counts on the next sync */
        cr_expect_str_eq(json_str(cj, "status.lastSuccessfulTime"), "2000-01-01T00:00:05Z");
        cJSON_Delete(cj);
        sync_at(T + 303);
        cj = cronjob();
        cr_expect_str_eq(json_str(cj, "status.lastSuccessfulTime"), "2000-01-01T00:00:09Z");
}

Test(cronjob_sync, sorts_history_by_start_time_with_nil_last)
{
        _cleanup_json_ cJSON *a = cJSON_Parse("{\"metadata\":{\"name\":\"a\"}}");
        _cleanup_json_ cJSON *b = cJSON_Parse("{\"metadata\":{\"name\":\"b\"}}");
        _cleanup_json_ cJSON *as = cJSON_Parse(
            "{\"metadata\":{\"name\":\"a\"},\"status\":{\"startTime\":\"2018-01-01T02:03:04Z\"}}");
        _cleanup_json_ cJSON *bs = cJSON_Parse(
            "{\"metadata\":{\"name\":\"b\"},\"status\":{\"startTime\":\"2018-01-01T02:03:04Z\"}}");
        _cleanup_json_ cJSON *al = cJSON_Parse(
            "{\"metadata\":{\"name\":\"a\"},\"status\":{\"startTime\":\"2019-01-01T02:03:04Z\"}}");

        cr_expect_lt(cronjob_compare_jobs_by_start(a, b), 0);
        cr_expect_gt(cronjob_compare_jobs_by_start(a, bs), 0);
        cr_expect_lt(cronjob_compare_jobs_by_start(as, b), 0);
        cr_expect_lt(cronjob_compare_jobs_by_start(as, bs), 0);
        cr_expect_gt(cronjob_compare_jobs_by_start(al, bs), 0);
}

Test(cronjob_sync, a_crash_after_commit_leaves_the_launch_recorded)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;
        _cleanup_free_ char *name = NULL;
        int status;
        pid_t pid;

        create_cronjob("", "");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                CronJobController *c2 = NULL;
                sd_event *e2 = NULL;
                Store *s2 = NULL;

                /* neither the loop nor the SQLite connection may be used across fork() */
                setenv(CRONJOB_FAULT_ENV, CRONJOB_FAULT_AFTER_COMMIT, 1);
                if (sd_event_new(&e2) < 0 || store_open(&s2, dir) < 0 ||
                    cronjob_controller_new(&c2, e2, s2) < 0)
                        _exit(2);
                cronjob_controller_set_now(c2, us(T + 1));
                (void)cronjob_sync(c2, "default", "tick");
                _exit(3);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
        /* what a restarted agent sees: the Job and the status recording it, then nothing more */
        store_free(store);
        cr_assert_eq(store_open(&store, dir), 0);
        cronjob_controller_free(cc);
        cr_assert_eq(cronjob_controller_new(&cc, loop, store), 0);
        cj = cronjob();
        cr_expect_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 1);
        cr_expect_not_null(json_path(cj, "status.lastScheduleTime"));
        sync_at(T + 2);
        all = jobs();
        name = job_name(T);
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(all, 0), "metadata.name"), name);
}

Test(cronjob_sync, launches_ahead_with_the_start_time_on_the_pod_template)
{
        _cleanup_json_ cJSON *all = NULL;
        const cJSON *ann;
        char stamp[64];
        usec_t at;

        create_cronjob("", "");
        cronjob_controller_set_now(cc, us(T) - CRONJOB_LAUNCH_LEAD_USEC / 2);
        cr_assert_eq(cronjob_sync(cc, "default", "tick"), 0);
        all = jobs();
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_assert_eq(format_rfc3339(us(T), stamp, sizeof(stamp)), 0);
        ann = json_path(cJSON_GetArrayItem(all, 0), "spec.template.metadata.annotations");
        cr_assert_str_eq(cJSON_GetObjectItem(ann, START_AT_ANNOTATION)->valuestring, stamp);
        cr_assert_eq(parse_rfc3339(stamp, &at), 0);
        cr_assert_eq(at, us(T));
}

Test(cronjob_sync, replace_never_launches_ahead)
{
        _cleanup_json_ cJSON *before = NULL, *after = NULL;

        create_cronjob("\"concurrencyPolicy\":\"Replace\",", "");
        cronjob_controller_set_now(cc, us(T) - CRONJOB_LAUNCH_LEAD_USEC / 2);
        cr_assert_eq(cronjob_sync(cc, "default", "tick"), 0);
        before = jobs();
        cr_assert_eq(cJSON_GetArraySize(before), 0);
        sync_at(T + 1);
        after = jobs();
        cr_assert_eq(cJSON_GetArraySize(after), 1);
        cr_assert_null(cJSON_GetObjectItem(
            json_path(cJSON_GetArrayItem(after, 0), "spec.template.metadata.annotations"),
            START_AT_ANNOTATION));
}

/* ---- "@reboot" ---- */

static void reboot_in(const char *boot_id)
{
        cr_assert_eq(cronjob_controller_set_boot_id(cc, boot_id), 0);
}

/* The boot recorded for the CronJob in the kv table ("" when none). */
static char *recorded_boot(void)
{
        _cleanup_json_ cJSON *cj = cronjob(), *rec = NULL;
        _cleanup_free_ char *key = cronjob_reboot_key(json_str(cj, "metadata.uid"));
        int r = store_kv_get(store, key, &rec);

        cr_assert(r >= 0 || r == -ENOENT);
        return strdup(r >= 0 ? json_str(rec, "bootID") ?: "?" : "");
}

static bool has_job(const cJSON *all, const char *name)
{
        const cJSON *j;

        cJSON_ArrayForEach (j, all)
                if (streq_ptr(json_str(j, "metadata.name"), name))
                        return true;
        return false;
}

/* What an agent restarted on the same state dir sees. */
static void restart_agent(void)
{
        cronjob_controller_free(cc);
        store_free(store);
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(cronjob_controller_new(&cc, loop, store), 0);
}

Test(cronjob_sync, launches_a_reboot_cronjob_once_in_a_boot)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;
        _cleanup_free_ char *boot = NULL;
        char stamp[64];

        create_scheduled("@reboot", "", "");
        reboot_in("6B5F1C2E-0D4A-4B8E-9F21-7A3C5D9E1B04");
        sync_at(T + 7);
        all = jobs();
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_expect_str_eq(json_str(cJSON_GetArrayItem(all, 0), "metadata.name"), "tick-6b5f1c2e0d",
                         "named after the boot");
        cj = cronjob();
        cr_assert_eq(format_rfc3339(us(T + 7), stamp, sizeof(stamp)), 0);
        cr_expect_str_eq(json_str(cj, "status.lastScheduleTime"), stamp);
        cr_expect_eq(cJSON_GetArraySize(json_path(cj, "status.active")), 1);
        boot = recorded_boot();
        cr_expect_str_eq(boot, "6B5F1C2E-0D4A-4B8E-9F21-7A3C5D9E1B04");
        cJSON_Delete(all);
        /* later in the same boot: nothing, and never a timer */
        sync_at(T + 3600);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "tick"), 0);
        cr_expect_eq(count_events("SuccessfulCreate"), 1);
}

Test(cronjob_sync, does_not_run_a_reboot_cronjob_again_after_an_agent_restart)
{
        _cleanup_json_ cJSON *all = NULL;

        create_scheduled("@reboot", "", "");
        reboot_in("boot-a");
        sync_at(T + 1);
        restart_agent();
        reboot_in("boot-a");
        sync_at(T + 120);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1, "the same boot after a restart");
}

Test(cronjob_sync, runs_a_reboot_cronjob_again_in_a_new_boot_even_within_the_minute)
{
        _cleanup_json_ cJSON *all = NULL;
        _cleanup_free_ char *boot = NULL;

        create_scheduled("@reboot", "", "");
        reboot_in("boot-a");
        sync_at(T + 1);
        restart_agent();
        reboot_in("boot-b");
        sync_at(T + 2);
        sync_at(T + 3);
        all = jobs();
        cr_assert_eq(cJSON_GetArraySize(all), 2, "one run per boot");
        cr_expect(has_job(all, "tick-boota"));
        cr_expect(has_job(all, "tick-bootb"));
        boot = recorded_boot();
        cr_expect_str_eq(boot, "boot-b");
}

Test(cronjob_sync, reads_the_boot_id_from_its_file)
{
        _cleanup_free_ char *path = strjoin(dir, "/boot_id", NULL), *boot = NULL;
        _cleanup_json_ cJSON *all = NULL;
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f);
        fputs("0a1b2c3d-e4f5-4678-9abc-def012345678\n", f);
        cr_assert_eq(fclose(f), 0);
        setenv(CRONJOB_BOOT_ID_ENV, path, 1);
        restart_agent();
        unsetenv(CRONJOB_BOOT_ID_ENV);
        create_scheduled("@reboot", "", "");
        sync_at(T + 1);
        boot = recorded_boot();
        cr_expect_str_eq(boot, "0a1b2c3d-e4f5-4678-9abc-def012345678");
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
}

Test(cronjob_sync, skips_a_reboot_cronjob_when_the_boot_is_unknown)
{
        _cleanup_free_ char *path = strjoin(dir, "/no-such-boot-id", NULL);
        _cleanup_json_ cJSON *all = NULL;

        setenv(CRONJOB_BOOT_ID_ENV, path, 1);
        restart_agent();
        unsetenv(CRONJOB_BOOT_ID_ENV);
        create_scheduled("@reboot", "", "");
        sync_at(T + 1);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 0, "better skipped than run twice");
        cr_expect_eq(count_events("UnknownBoot"), 1);
}

Test(cronjob_sync, suspend_holds_a_reboot_cronjob_until_resumed_in_that_boot)
{
        _cleanup_json_ cJSON *all = NULL, *cj = NULL;

        create_scheduled("@reboot", "\"suspend\":true,", "");
        reboot_in("boot-a");
        sync_at(T + 1);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 0);
        cJSON_Delete(all);
        cj = cronjob();
        cJSON_ReplaceItemInObject(json_ensure_object(cj, "spec"), "suspend", cJSON_CreateFalse());
        cr_assert_eq(store_update(store, cj, NULL), 0);
        sync_at(T + 60);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
}

Test(cronjob_sync, forbid_holds_a_reboot_run_while_the_last_one_is_active)
{
        _cleanup_json_ cJSON *all = NULL;

        create_scheduled("@reboot", "\"concurrencyPolicy\":\"Forbid\",", "");
        reboot_in("boot-a");
        sync_at(T + 1);
        reboot_in("boot-b");
        sync_at(T + 60);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1, "the first run is still active");
        cr_expect_eq(count_events("JobAlreadyActive"), 1);
}

Test(cronjob_sync, a_crash_after_a_reboot_launch_commits_does_not_run_it_twice)
{
        _cleanup_json_ cJSON *all = NULL;
        _cleanup_free_ char *boot = NULL;
        int status;
        pid_t pid;

        create_scheduled("@reboot", "", "");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                CronJobController *c2 = NULL;
                sd_event *e2 = NULL;
                Store *s2 = NULL;

                setenv(CRONJOB_FAULT_ENV, CRONJOB_FAULT_AFTER_COMMIT, 1);
                if (sd_event_new(&e2) < 0 || store_open(&s2, dir) < 0 ||
                    cronjob_controller_new(&c2, e2, s2) < 0 ||
                    cronjob_controller_set_boot_id(c2, "boot-a") < 0)
                        _exit(2);
                cronjob_controller_set_now(c2, us(T + 1));
                (void)cronjob_sync(c2, "default", "tick");
                _exit(3);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
        restart_agent();
        reboot_in("boot-a");
        boot = recorded_boot();
        cr_expect_str_eq(boot, "boot-a", "recorded in the launch's transaction");
        sync_at(T + 2);
        all = jobs();
        cr_expect_eq(cJSON_GetArraySize(all), 1);
}
