/* Tests for cronjob-schedule.c: Kubernetes' utils_test cases for mostRecentScheduleTime,
 * nextScheduleTime and nextScheduleTimeDuration, and berth's catch-up and DST policies. */
#include <criterion/criterion.h>

#include "cronjob-schedule.h"
#include "json-util.h"

static int64_t at(const char *rfc3339)
{
        usec_t u;

        cr_assert_eq(parse_rfc3339(rfc3339, &u), 0, "bad time %s", rfc3339);
        return (int64_t)(u / USEC_PER_SEC);
}

/* 2016-05-19T10:00:00Z, upstream's topOfTheHour, plus a delta in seconds */
#define TOP 1463652000LL
#define H 3600LL
#define M 60LL

static usec_t us(int64_t sec)
{
        return (usec_t)sec * USEC_PER_SEC;
}

typedef struct Fixture {
        CronSpec *spec;
        TimeZone *tz;
        CronJobSchedule sched;
} Fixture;

static void fixture_init(Fixture *f, const char *schedule, const char *zone)
{
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(cron_spec_parse(schedule, &f->spec, &err), 0, "%s: %s", schedule, err);
        cr_assert_eq(tz_load(zone, &f->tz), 0, "zone %s", zone);
        f->sched = (CronJobSchedule){.spec = f->spec, .tz = f->tz};
}

static void fixture_done(Fixture *f)
{
        cron_spec_free(f->spec);
        tz_unref(f->tz);
}

static CronJobTimes times(int64_t created, int64_t last, int64_t sds)
{
        return (CronJobTimes){.creation = created,
                              .last_schedule = last,
                              .has_last_schedule = last != 0,
                              .deadline_sec = sds,
                              .window_sec = -1};
}

static void check_recent(const char *schedule, CronJobTimes t, int64_t now, bool sds, int64_t want_earliest,
                         int64_t want_recent, CronJobMissed want_missed)
{
        Fixture f;
        usec_t earliest;
        int64_t recent;
        CronJobMissed missed;

        fixture_init(&f, schedule, "UTC");
        cr_assert_eq(cronjob_schedule_most_recent(&f.sched, &t, us(now), sds, &earliest, &recent, &missed),
                     0);
        cr_expect_eq(earliest, us(want_earliest), "%s: earliest %llu", schedule,
                     (unsigned long long)earliest);
        cr_expect_eq(recent, want_recent, "%s: recent %lld want %lld", schedule, (long long)recent,
                     (long long)want_recent);
        cr_expect_eq(missed, want_missed, "%s: missed %d", schedule, missed);
        fixture_done(&f);
}

Test(cronjob_schedule, finds_nothing_before_the_first_tick)
{
        check_recent("0 * * * *", times(TOP, 0, -1), TOP + 30, false, TOP, 0, CRONJOB_MISSED_NONE);
}

Test(cronjob_schedule, finds_the_tick_just_passed)
{
        check_recent("0 * * * *", times(TOP, 0, -1), TOP + 61 * M, false, TOP, TOP + H, CRONJOB_MISSED_NONE);
}

Test(cronjob_schedule, finds_the_latest_of_five_missed_ticks)
{
        check_recent("0 * * * *", times(TOP + 10, 0, -1), TOP + 301 * M, false, TOP + 10, TOP + 300 * M,
                     CRONJOB_MISSED_FEW);
}

Test(cronjob_schedule, handles_a_complex_schedule)
{
        check_recent("30 6-16/4 * * 1-5", times(TOP, TOP + 30 * M, -1), TOP + 24 * H + 31 * M, false,
                     TOP + 30 * M, TOP + 24 * H + 30 * M, CRONJOB_MISSED_FEW);
}

Test(cronjob_schedule, reproduces_the_nil_quirk_of_another_complex_schedule)
{
        check_recent("30 10,11,12 * * 1-5", times(TOP, TOP + 30 * M, -1), TOP + 30 * H + 30 * M, false,
                     TOP + 30 * M, 0, CRONJOB_MISSED_FEW);
}

Test(cronjob_schedule, handles_longer_and_shorter_gaps)
{
        check_recent("30 6-16/4 * * 1-5", times(TOP, TOP + 30 * M, -1), TOP + 96 * H + 31 * M, false,
                     TOP + 30 * M, TOP + 96 * H + 30 * M, CRONJOB_MISSED_FEW);
        check_recent("30 6-16/4 * * 1-5", times(TOP, 0, -1), TOP + 24 * H + 31 * M, false, TOP,
                     TOP + 24 * H + 30 * M, CRONJOB_MISSED_FEW);
}

Test(cronjob_schedule, reports_more_than_a_hundred_missed_every_ticks)
{
        check_recent("@every 1h", times(TOP - 59 * M, TOP + M, 10), TOP + 7 * 24 * H, false, TOP + M,
                     TOP + 6 * 24 * H + 23 * H + M, CRONJOB_MISSED_MANY);
}

Test(cronjob_schedule, fails_on_an_unsatisfiable_schedule)
{
        Fixture f;
        CronJobTimes t = times(TOP + 10, 0, -1);
        int64_t recent = 1, when = 1;
        CronJobMissed missed;

        fixture_init(&f, "59 23 31 2 *", "UTC");
        cr_expect_eq(cronjob_schedule_most_recent(&f.sched, &t, us(TOP + H), false, NULL, &recent, &missed),
                     -EDOM);
        cr_expect_eq(cronjob_schedule_next_time(&f.sched, &t, us(TOP + H), &when, &missed), -EDOM);
        cr_expect_eq(when, 0);
        fixture_done(&f);
}

Test(cronjob_schedule, takes_earliest_from_last_schedule_and_deadline)
{
        check_recent("0 * * * *", times(TOP, TOP, -1), TOP + 30, false, TOP, 0, CRONJOB_MISSED_NONE);
        check_recent("*/5 * * * *", times(TOP, TOP + 30 * M, -1), TOP + 31 * M, false, TOP + 30 * M, 0,
                     CRONJOB_MISSED_NONE);
        check_recent("*/5 * * * *", times(TOP, TOP + 30 * M, 60), TOP + 31 * M, false, TOP + 30 * M, 0,
                     CRONJOB_MISSED_NONE);
        check_recent("*/5 * * * *", times(TOP, TOP + 30 * M, 60), TOP + 32 * M, true, TOP + 31 * M, 0,
                     CRONJOB_MISSED_NONE);
}

static int64_t next_time(const char *schedule, CronJobTimes t, int64_t now, int *ret_r)
{
        Fixture f;
        int64_t when = -1;
        CronJobMissed missed;

        fixture_init(&f, schedule, "UTC");
        *ret_r = cronjob_schedule_next_time(&f.sched, &t, us(now), &when, &missed);
        fixture_done(&f);
        return when;
}

Test(cronjob_schedule, next_schedule_time_follows_upstream_cases)
{
        int64_t T1 = TOP, T2 = TOP + H;
        int r;

        cr_expect_eq(next_time("0 * * * ?", times(T1 - 10 * M, 0, -1), T1 - 7 * M, &r), 0);
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 10 * M, 0, -1), T1 + 2, &r), T1);
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 10 * M, T1, -1), T1 + 2 * M, &r), 0);
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 10 * M, T1, -1), T2 + 5 * M, &r), T2);
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 2 * H, T1 - H, -1), T2 + 5 * M, &r), T2);
        /* way ahead, no deadline: still the most recent time (only a warning) */
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 2 * H, T1 - H, -1), T2 + 10 * 24 * H, &r),
                     T2 + 10 * 24 * H);
        cr_expect_eq(r, 0);
        /* way ahead with a short deadline */
        cr_expect_eq(next_time("0 * * * ?", times(T1 - 2 * H, T1 - H, 2 * H), T2 + 10 * 24 * H, &r),
                     T2 + 10 * 24 * H);
        cr_expect_eq(r, 0);
}

static int64_t duration_ms(const char *schedule, CronJobTimes t, int64_t now)
{
        Fixture f;
        usec_t when;

        fixture_init(&f, schedule, "UTC");
        when = cronjob_schedule_requeue_at(&f.sched, &t, us(now));
        fixture_done(&f);
        cr_assert_neq(when, USEC_INFINITY);
        return (int64_t)(when - us(now)) / 1000;
}

Test(cronjob_schedule, next_schedule_time_duration_follows_upstream_cases)
{
        cr_expect_eq(duration_ms("30 6-16/4 * * 1-5", times(TOP, TOP + 30 * M, -1), TOP + 24 * H + 31 * M),
                     (3 * H + 59 * M) * 1000 + 100);
        cr_expect_eq(duration_ms("30 10,11,12 * * 1-5", times(TOP, TOP + 30 * M, -1), TOP + 30 * H + 30 * M),
                     66 * H * 1000 + 100);
        cr_expect_eq(duration_ms("0 12 * * 4", times(TOP, TOP + 2 * H, -1), TOP + 19 * 24 * H + H + 30 * M),
                     (48 * H + 30 * M) * 1000 + 100);
        cr_expect_eq(duration_ms("0 12 * * 5", times(TOP, 0, -1), TOP + 6 * H), 20 * H * 1000 + 100);
}

Test(cronjob_schedule, catch_up_skip_drops_a_time_seen_late)
{
        CronJobTimes t = times(TOP, TOP, -1);
        int r;

        t.catch_up = CRONJOB_CATCH_UP_SKIP;
        /* met on time (the timer fires 100ms late) */
        cr_expect_eq(next_time("0 * * * *", t, TOP + H, &r), TOP + H);
        /* five hours of downtime: nothing now, only the next tick */
        cr_expect_eq(next_time("0 * * * *", t, TOP + 5 * H + 10 * M, &r), 0);
        cr_expect_eq(r, 0);
        cr_expect_eq(duration_ms("0 * * * *", t, TOP + 5 * H + 10 * M), 50 * M * 1000 + 100);
}

Test(cronjob_schedule, catch_up_all_runs_missed_times_oldest_first_within_the_window)
{
        CronJobTimes t = times(TOP, TOP, -1);
        int r;

        t.catch_up = CRONJOB_CATCH_UP_ALL;
        cr_expect_eq(next_time("0 * * * *", t, TOP + 5 * H + 10 * M, &r), TOP + H);
        t.last_schedule = TOP + H;
        cr_expect_eq(next_time("0 * * * *", t, TOP + 5 * H + 10 * M, &r), TOP + 2 * H);
        /* more to run: look again at once */
        cr_expect_eq(duration_ms("0 * * * *", t, TOP + 5 * H + 10 * M), 0);
        t.window_sec = 2 * H;
        cr_expect_eq(next_time("0 * * * *", t, TOP + 5 * H + 10 * M, &r), TOP + 4 * H);
        t.last_schedule = TOP + 5 * H;
        cr_expect_eq(next_time("0 * * * *", t, TOP + 5 * H + 10 * M, &r), 0);
        cr_expect_eq(duration_ms("0 * * * *", t, TOP + 5 * H + 10 * M), 50 * M * 1000 + 100);
}

static int64_t dst_next(const char *schedule, bool cron, const char *after)
{
        Fixture f;
        int64_t n;

        fixture_init(&f, schedule, "America/New_York");
        f.sched.dst_cron = cron;
        n = cronjob_schedule_next(&f.sched, at(after));
        fixture_done(&f);
        return n;
}

Test(cronjob_schedule, dst_robfig_skips_and_repeats)
{
        cr_expect_eq(dst_next("0 2 * * *", false, "2012-03-11T00:00:00-05:00"),
                     at("2012-03-12T02:00:00-04:00"));
        cr_expect_eq(dst_next("30 2 11 Mar *", false, "2012-03-11T00:00:00-05:00"),
                     at("2013-03-11T02:30:00-04:00"));
        cr_expect_eq(dst_next("0 1 * * *", false, "2012-11-04T01:00:00-04:00"),
                     at("2012-11-04T01:00:00-05:00"));
}

Test(cronjob_schedule, dst_cron_runs_a_skipped_time_right_after_the_jump)
{
        cr_expect_eq(dst_next("0 2 * * *", true, "2012-03-11T00:00:00-05:00"),
                     at("2012-03-11T03:00:00-04:00"));
        cr_expect_eq(dst_next("30 2 11 Mar *", true, "2012-03-11T00:00:00-05:00"),
                     at("2012-03-11T03:00:00-04:00"));
        cr_expect_eq(dst_next("0 2 * * *", true, "2012-03-11T03:00:00-04:00"),
                     at("2012-03-12T02:00:00-04:00"));
        /* hourly: the skipped 2 am coincides with 3 am, one launch */
        cr_expect_eq(dst_next("0 * * * *", true, "2012-03-11T01:00:00-05:00"),
                     at("2012-03-11T03:00:00-04:00"));
        cr_expect_eq(dst_next("0 * * * *", true, "2012-03-11T03:00:00-04:00"),
                     at("2012-03-11T04:00:00-04:00"));
        /* a schedule that never falls in the gap is unchanged */
        cr_expect_eq(dst_next("0 1 * * *", true, "2012-03-11T00:00:00-05:00"),
                     at("2012-03-11T01:00:00-05:00"));
}

Test(cronjob_schedule, dst_cron_runs_a_repeated_time_once)
{
        cr_expect_eq(dst_next("0 1 * * *", true, "2012-11-04T00:00:00-04:00"),
                     at("2012-11-04T01:00:00-04:00"));
        cr_expect_eq(dst_next("0 1 * * *", true, "2012-11-04T01:00:00-04:00"),
                     at("2012-11-05T01:00:00-05:00"));
        cr_expect_eq(dst_next("0 * * * *", true, "2012-11-04T01:00:00-04:00"),
                     at("2012-11-04T02:00:00-05:00"));
        cr_expect_eq(dst_next("30 1 4 Nov *", true, "2012-11-04T01:45:00-04:00"),
                     at("2013-11-04T01:30:00-05:00"));
        cr_expect_eq(dst_next("0 2 * * *", true, "2012-11-04T00:00:00-04:00"),
                     at("2012-11-04T02:00:00-05:00"));
}

Test(cronjob_schedule, reads_policies_from_annotations)
{
        _cleanup_json_ cJSON *cj =
            cJSON_Parse("{\"metadata\":{\"creationTimestamp\":\"2016-05-19T10:00:00Z\",\"annotations\":{"
                        "\"berth.dev/catch-up\":\"all\",\"berth.dev/catch-up-window\":\"1h30m\",\"berth.dev/"
                        "dst\":\"cron\"}},"
                        "\"spec\":{\"startingDeadlineSeconds\":200},\"status\":{\"lastScheduleTime\":\"2016-"
                        "05-19T11:00:00Z\"}}");
        _cleanup_free_ char *err = NULL;
        CronJobTimes t;
        bool dst;

        cr_assert_eq(cronjob_times_from_object(cj, &t, &dst, &err), 0);
        cr_expect(dst);
        cr_expect_eq(t.catch_up, CRONJOB_CATCH_UP_ALL);
        cr_expect_eq(t.window_sec, 90 * M);
        cr_expect_eq(t.deadline_sec, 200);
        cr_expect_eq(t.creation, TOP);
        cr_expect(t.has_last_schedule);
        cr_expect_eq(t.last_schedule, TOP + H);
}

Test(cronjob_schedule, rejects_malformed_annotations_with_a_message)
{
        _cleanup_json_ cJSON *cj =
            cJSON_Parse("{\"metadata\":{\"annotations\":{\"berth.dev/catch-up\":\"sometimes\"}}}");
        _cleanup_json_ cJSON *cj2 =
            cJSON_Parse("{\"metadata\":{\"annotations\":{\"berth.dev/catch-up-window\":\"1x\"}}}");
        _cleanup_free_ char *err = NULL, *err2 = NULL;
        CronJobTimes t;
        bool dst;

        cr_expect_eq(cronjob_times_from_object(cj, &t, &dst, &err), -EINVAL);
        cr_expect(err && strstr(err, "sometimes"));
        cr_expect_eq(t.catch_up, CRONJOB_CATCH_UP_LATEST);
        cr_expect_eq(cronjob_times_from_object(cj2, &t, &dst, &err2), -EINVAL);
        cr_expect(err2 && strstr(err2, "berth.dev/catch-up-window"));
        cr_expect_eq(t.window_sec, -1);
}
