/* cron_next: robfig/cron v3.0.1 Next() cases, DST in New York and Sao Paulo, day-field
 * OR/AND, unsatisfiable schedules and @every. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "cron-next.h"
#include "macro.h"
#include "util.h"

static int64_t at(const char *s)
{
        usec_t u;

        cr_assert_eq(parse_rfc3339(s, &u), 0, "bad test time %s", s);
        return (int64_t)(u / 1000000);
}

/* Next activation of schedule after `from`, rendered in zone; "" when there is none. */
static void next_in(const char *zone, const char *schedule, const char *from, char *buf, size_t size)
{
        _cleanup_cron_spec_ CronSpec *spec = NULL;
        _cleanup_tz_ TimeZone *tz = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(cron_spec_parse(schedule, &spec, &err), 0, "%s: %s", schedule, err);
        cr_assert_eq(tz_load(zone, &tz), 0);
        int64_t t = cron_next(spec, tz, at(from));
        if (t == 0)
                buf[0] = 0;
        else
                cr_assert_eq(tz_format_rfc3339(tz, t, buf, size), 0);
}

static void expect(const char *zone, const char *schedule, const char *from, const char *want)
{
        char got[64];

        next_in(zone, schedule, from, got, sizeof(got));
        cr_expect_str_eq(got, want, "%s from %s in %s", schedule, from, zone);
}

#define NY "America/New_York"

Test(cron_next, finds_simple_minute_hour_and_day_wraps)
{
        expect("UTC", "0/15 * * * *", "2012-07-09T14:45:00Z", "2012-07-09T15:00:00Z");
        expect("UTC", "0/15 * * * *", "2012-07-09T14:59:00Z", "2012-07-09T15:00:00Z");
        expect("UTC", "0/15 * * * *", "2012-07-09T14:59:59Z", "2012-07-09T15:00:00Z");
        expect("UTC", "20-35/15 * * * *", "2012-07-09T15:45:00Z", "2012-07-09T16:20:00Z");
        expect("UTC", "*/15 * * * *", "2012-07-09T23:46:00Z", "2012-07-10T00:00:00Z");
        expect("UTC", "20-35/15 * * * *", "2012-07-09T23:45:00Z", "2012-07-10T00:20:00Z");
        expect("UTC", "20-35/15 1/2 * * *", "2012-07-09T23:35:51Z", "2012-07-10T01:20:00Z");
        expect("UTC", "20-35/15 10-12 * * *", "2012-07-09T23:35:51Z", "2012-07-10T10:20:00Z");
        expect("UTC", "20-35/15 1/2 */2 * *", "2012-07-09T23:35:51Z", "2012-07-11T01:20:00Z");
        expect("UTC", "20-35/15 * 9-20 * *", "2012-07-09T23:35:51Z", "2012-07-10T00:20:00Z");
        expect("UTC", "20-35/15 * 9-20 Jul *", "2012-07-09T23:35:51Z", "2012-07-10T00:20:00Z");
}

Test(cron_next, wraps_months_and_years)
{
        expect("UTC", "0 0 9 Apr-Oct ?", "2012-07-09T23:35:00Z", "2012-08-09T00:00:00Z");
        expect("UTC", "0 0 */5 Apr,Aug,Oct Mon", "2012-07-09T23:35:00Z", "2012-08-01T00:00:00Z");
        expect("UTC", "0 0 */5 Oct Mon", "2012-07-09T23:35:00Z", "2012-10-01T00:00:00Z");
        expect("UTC", "0 0 * Feb Mon", "2012-07-09T23:35:00Z", "2013-02-04T00:00:00Z");
        expect("UTC", "0 0 * Feb Mon/2", "2012-07-09T23:35:00Z", "2013-02-01T00:00:00Z");
        expect("UTC", "* * * * *", "2012-12-31T23:59:45Z", "2013-01-01T00:00:00Z");
        expect("UTC", "0 0 29 Feb ?", "2012-07-09T23:35:00Z", "2016-02-29T00:00:00Z");
}

Test(cron_next, is_strictly_after_the_given_instant)
{
        expect("UTC", "0 * * * *", "2012-07-09T15:00:00Z", "2012-07-09T16:00:00Z");
        expect("UTC", "@daily", "2012-07-09T00:00:00Z", "2012-07-10T00:00:00Z");
        expect("UTC", "@weekly", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z");
        expect("UTC", "@yearly", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
}

Test(cron_next, ors_day_fields_without_a_star_and_ands_them_with_one)
{
        /* 2024-01-02 is a Tuesday: the 15th or any Sunday (the 7th). */
        expect("UTC", "0 0 1,15 * Sun", "2024-01-02T00:00:00Z", "2024-01-07T00:00:00Z");
        expect("UTC", "0 0 1,15 * Sun", "2024-01-08T00:00:00Z", "2024-01-14T00:00:00Z");
        expect("UTC", "0 0 1,15 * Sun", "2024-01-14T00:00:00Z", "2024-01-15T00:00:00Z");
        /* A step of 10 over the days carries no star bit: OR (robfig #70). */
        expect("UTC", "0 0 */10 * Sun", "2024-01-02T00:00:00Z", "2024-01-07T00:00:00Z");
        /* 1-31 is every day once ORed. */
        expect("UTC", "0 0 1-31 * Mon", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z");
        /* A star in day-of-month: only Sundays. */
        expect("UTC", "0 0 * * Sun", "2024-01-02T00:00:00Z", "2024-01-07T00:00:00Z");
        /* A star in day-of-week: the 13th of any weekday. */
        expect("UTC", "0 0 13 * *", "2024-01-02T00:00:00Z", "2024-01-13T00:00:00Z");
        /* Friday the 13th is not "13 AND Fri" but "13 OR Fri": the 5th is a Friday. */
        expect("UTC", "0 0 13 * 5", "2024-01-02T00:00:00Z", "2024-01-05T00:00:00Z");
}

Test(cron_next, returns_zero_for_schedules_unsatisfiable_within_five_years)
{
        expect("UTC", "0 0 30 Feb *", "2024-01-01T00:00:00Z", "");
        expect("UTC", "0 0 31 Apr *", "2024-01-01T00:00:00Z", "");
        expect("UTC", "59 23 31 2 *", "2024-01-01T00:00:00Z", "");
        expect(NY, "0 0 30 Feb *", "2024-01-01T00:00:00Z", "");
        /* An empty field parses and never fires. */
        expect("UTC", ", * * * *", "2024-01-01T00:00:00Z", "");
}

Test(cron_next, searches_past_the_next_leap_day_within_the_window)
{
        /* From 2097, the next Feb 29 is 2104 (2100 is not a leap year): beyond 5 years. */
        expect("UTC", "0 0 29 Feb *", "2097-01-01T00:00:00Z", "");
        expect("UTC", "0 0 29 Feb *", "2099-01-01T00:00:00Z", "2104-02-29T00:00:00Z");
}

Test(cron_next, skips_the_missing_hour_when_clocks_spring_forward_in_new_york)
{
        expect(NY, "0 * * * *", "2012-03-11T01:00:00-05:00", "2012-03-11T03:00:00-04:00");
        expect(NY, "0 1 * * *", "2012-03-11T00:00:00-05:00", "2012-03-11T01:00:00-05:00");
        expect(NY, "0 1 * * *", "2012-03-11T01:00:00-05:00", "2012-03-12T01:00:00-04:00");
        expect(NY, "0 2 * * *", "2012-03-11T00:00:00-05:00", "2012-03-12T02:00:00-04:00");
        expect(NY, "30 2 11 Mar *", "2012-03-11T00:00:00-05:00", "2013-03-11T02:30:00-04:00");
        expect(NY, "0 3 * * *", "2012-03-11T00:00:00-05:00", "2012-03-11T03:00:00-04:00");
}

Test(cron_next, repeats_the_doubled_hour_when_clocks_fall_back_in_new_york)
{
        expect(NY, "0 * * * *", "2012-11-04T00:00:00-04:00", "2012-11-04T01:00:00-04:00");
        expect(NY, "0 * * * *", "2012-11-04T01:00:00-04:00", "2012-11-04T01:00:00-05:00");
        expect(NY, "0 * * * *", "2012-11-04T01:00:00-05:00", "2012-11-04T02:00:00-05:00");
        expect(NY, "0 1 * * *", "2012-11-04T00:00:00-04:00", "2012-11-04T01:00:00-04:00");
        expect(NY, "0 1 * * *", "2012-11-04T01:00:00-04:00", "2012-11-04T01:00:00-05:00");
        expect(NY, "0 1 * * *", "2012-11-04T01:00:00-05:00", "2012-11-05T01:00:00-05:00");
        expect(NY, "0 2 * * *", "2012-11-04T00:00:00-04:00", "2012-11-04T02:00:00-05:00");
        expect(NY, "0 2 * * *", "2012-11-04T02:00:00-05:00", "2012-11-05T02:00:00-05:00");
        expect(NY, "0 3 * * *", "2012-11-04T00:00:00-04:00", "2012-11-04T03:00:00-05:00");
        expect(NY, "0 3 * * *", "2012-11-04T03:00:00-05:00", "2012-11-05T03:00:00-05:00");
        expect(NY, "30 1 4 Nov *", "2012-11-04T01:45:00-04:00", "2012-11-04T01:30:00-05:00");
}

Test(cron_next, honours_a_tz_prefix_over_the_callers_zone)
{
        expect("UTC", "TZ=America/New_York 0 2 * * *", "2012-03-11T00:00:00-05:00", "2012-03-12T06:00:00Z");
        expect(NY, "CRON_TZ=UTC 0 0 * * *", "2024-01-01T12:00:00Z", "2024-01-01T19:00:00-05:00");
        expect(NY, "TZ= 0 0 * * *", "2024-01-01T12:00:00Z", "2024-01-01T19:00:00-05:00");
}

Test(cron_next, moves_past_a_missing_midnight_in_sao_paulo)
{
        expect("America/Sao_Paulo", "0 9 10 * *", "2018-10-17T06:00:00-03:00", "2018-11-10T09:00:00-02:00");
        expect("America/Sao_Paulo", "0 9 22 * *", "2018-02-14T08:00:00-02:00", "2018-02-22T09:00:00-03:00");
        /* Midnight of 2018-11-04 does not exist: the hour scan wraps at the next 00:00, the 5th. */
        expect("America/Sao_Paulo", "0 0 * * *", "2018-11-03T12:00:00-03:00", "2018-11-05T00:00:00-02:00");
}

Test(cron_next, adds_a_constant_delay_for_every)
{
        expect("UTC", "@every 1h30m", "2024-01-01T00:00:00Z", "2024-01-01T01:30:00Z");
        expect(NY, "@every 15m50ns", "2012-03-11T01:55:00-05:00", "2012-03-11T03:10:00-04:00");
        /* Below one second rounds up to one second. */
        expect("UTC", "@every 10ms", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z");
}

Test(cron_next, never_fires_a_reboot_schedule_on_a_timer)
{
        expect("UTC", "@reboot", "2024-01-01T00:00:00Z", "");
        expect(NY, "@reboot", "2012-03-11T01:55:00-05:00", "");
}

Test(cron_next, returns_zero_for_a_null_spec)
{
        cr_assert_eq(cron_next(NULL, NULL, 100), 0);
}
