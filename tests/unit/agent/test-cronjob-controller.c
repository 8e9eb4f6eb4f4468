/* Tests for cronjob-controller.c: store notifications queue the right CronJob, the queue
 * runs the reconcile on the loop, requeues are armed once per instant, resync and free;
 * an "@reboot" CronJob runs through the loop once per boot and its record goes with it. */
#include <criterion/criterion.h>
#include <string.h>

#include "cronjob-internal.h"
#include "json-util.h"

static char dir[] = "/tmp/berth-test-cronjobctl-XXXXXX";
static Store *store;
static sd_event *loop;
static CronJobController *cc;

static void on_change(Store *s, StoreChange ch, const cJSON *obj, void *u)
{
        (void)s;
        cronjob_controller_on_store_change(u, ch, obj);
}

static void setup(void)
{
        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(cronjob_controller_new(&cc, loop, store), 0);
        store_set_on_change(store, on_change, cc);
}

static void teardown(void)
{
        cronjob_controller_free(cc);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(cronjob_controller, .init = setup, .fini = teardown);

static void drain(void)
{
        for (int i = 0; i < 100; i++)
                if (sd_event_run(loop, 0) <= 0)
                        break;
}

static int64_t create_scheduled(const char *name, const char *schedule)
{
        _cleanup_free_ char *s =
            strjoin("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"", name,
                    "\"},\"spec\":{\"schedule\":\"", schedule,
                    "\",\"timeZone\":\"UTC\","
                    "\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[]}}}}}}",
                    NULL);
        _cleanup_json_ cJSON *j = cJSON_Parse(s), *got = NULL;
        usec_t u;

        cr_assert_eq(store_create(store, j, &got), 0);
        cr_assert_eq(parse_rfc3339(json_str(got, "metadata.creationTimestamp"), &u), 0);
        return (int64_t)(u / USEC_PER_SEC);
}

static int64_t create_cronjob(const char *name)
{
        return create_scheduled(name, "0 * * * *");
}

static int count_jobs(void)
{
        _cleanup_json_ cJSON *all = NULL;

        cr_assert_eq(store_list(store, "Job", NULL, NULL, &all), 0);
        return cJSON_GetArraySize(all);
}

Test(cronjob_controller, arms_the_next_time_when_a_cronjob_is_added)
{
        int64_t created = create_cronjob("hourly");
        int64_t next = (created / 3600 + 1) * 3600;

        cronjob_controller_set_now(cc, (usec_t)created * USEC_PER_SEC);
        drain();
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "hourly"),
                     (usec_t)next * USEC_PER_SEC + 100 * USEC_PER_MSEC - CRONJOB_LAUNCH_LEAD_USEC);
        cr_expect_eq(count_jobs(), 0);
}

Test(cronjob_controller, launches_through_the_loop_and_settles)
{
        int64_t created = create_cronjob("hourly");
        int64_t next = (created / 3600 + 1) * 3600;

        cronjob_controller_set_now(cc, (usec_t)next * USEC_PER_SEC + 100 * USEC_PER_MSEC);
        drain();
        cr_expect_eq(count_jobs(), 1);
        /* the status write and the Job's notification re-queued it; it found nothing more */
        cr_expect_eq(workqueue_length(cc->queue), 0);
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "hourly"),
                     (usec_t)(next + 3600) * USEC_PER_SEC + 100 * USEC_PER_MSEC - CRONJOB_LAUNCH_LEAD_USEC);
}

Test(cronjob_controller, queues_the_owner_of_a_changed_job)
{
        cJSON *job = cJSON_Parse(
            "{\"kind\":\"Job\",\"metadata\":{\"namespace\":\"ns1\",\"name\":\"j\","
            "\"ownerReferences\":[{\"kind\":\"CronJob\",\"name\":\"nightly\",\"controller\":true}]}}");
        cJSON *orphan =
            cJSON_Parse("{\"kind\":\"Job\",\"metadata\":{\"namespace\":\"ns1\",\"name\":\"k\"}}");

        cronjob_controller_on_store_change(cc, STORE_MODIFIED, job);
        cronjob_controller_on_store_change(cc, STORE_MODIFIED, orphan);
        cronjob_controller_on_store_change(cc, STORE_ADDED, NULL);
        cr_expect_eq(workqueue_length(cc->queue), 1);
        cJSON_Delete(job);
        cJSON_Delete(orphan);
}

Test(cronjob_controller, resync_queues_every_cronjob)
{
        create_cronjob("a");
        create_cronjob("b");
        drain();
        cr_assert_eq(cronjob_controller_resync(cc), 0);
        cr_expect_eq(workqueue_length(cc->queue), 2);
}

Test(cronjob_controller, forgets_a_deleted_cronjob)
{
        create_cronjob("gone");
        drain();
        cr_assert_neq(cronjob_controller_armed_at(cc, "default", "gone"), 0);
        cr_assert_eq(
            store_delete_object(store, "CronJob", "default", "gone", -1, STORE_PROPAGATE_BACKGROUND, NULL),
            0);
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "gone"), 0);
}

Test(cronjob_controller, prepares_earlier_when_many_are_due_at_the_same_instant)
{
        int64_t created = create_cronjob("a"), next = (created / 3600 + 1) * 3600;
        usec_t base = (usec_t)next * USEC_PER_SEC + 100 * USEC_PER_MSEC - CRONJOB_LAUNCH_LEAD_USEC;

        create_cronjob("b");
        create_cronjob("c");
        cronjob_controller_set_now(cc, (usec_t)created * USEC_PER_SEC);
        drain();
        /* each is armed earlier by the CronJobs already armed for the same instant */
        usec_t at[3] = {cronjob_controller_armed_at(cc, "default", "a"),
                        cronjob_controller_armed_at(cc, "default", "b"),
                        cronjob_controller_armed_at(cc, "default", "c")};
        usec_t earliest = MIN(at[0], MIN(at[1], at[2])), latest = MAX(at[0], MAX(at[1], at[2]));
        cr_expect_eq(latest, base);
        cr_expect_eq(earliest, base - 2 * CRONJOB_LAUNCH_LEAD_PER_DUE_USEC);

        /* woken at its early time, the earliest one launches its instant ahead */
        cronjob_controller_set_now(cc, earliest);
        for (const char *n = "a"; n; n = streq(n, "a") ? "b" : streq(n, "b") ? "c" : NULL)
                if (cronjob_controller_armed_at(cc, "default", n) == earliest)
                        workqueue_add(cc->queue, "default", n);
        drain();
        cr_expect_eq(count_jobs(), 1);
}

Test(cronjob_controller, runs_a_reboot_cronjob_through_the_loop_once_and_forgets_its_boot_on_delete)
{
        _cleanup_json_ cJSON *cj = NULL, *rec = NULL;
        _cleanup_free_ char *key = NULL;

        cr_assert_eq(cronjob_controller_set_boot_id(cc, "boot-a"), 0);
        create_scheduled("boot", "@reboot");
        drain();
        cr_expect_eq(count_jobs(), 1);
        cr_expect_eq(cronjob_controller_armed_at(cc, "default", "boot"), 0, "no timer for @reboot");
        cr_assert_eq(cronjob_controller_resync(cc), 0);
        drain();
        cr_expect_eq(count_jobs(), 1, "once per boot");
        cr_assert_eq(store_get(store, "CronJob", "default", "boot", &cj), 0);
        key = cronjob_reboot_key(json_str(cj, "metadata.uid"));
        cr_assert_eq(store_kv_get(store, key, &rec), 0);
        cr_assert_eq(
            store_delete_object(store, "CronJob", "default", "boot", -1, STORE_PROPAGATE_BACKGROUND, NULL),
            0);
        cJSON_Delete(rec);
        rec = NULL;
        cr_expect_eq(store_kv_get(store, key, &rec), -ENOENT);
}
