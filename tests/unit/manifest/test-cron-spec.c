/* Tests of the CronJob schedule grammar (robfig/cron v3.0.1 ParseStandard). */
#include <criterion/criterion.h>
#include <string.h>

#include "cron-spec.h"
#include "macro.h"

#define BIT(n) (UINT64_C(1) << (n))

static uint64_t range_bits(unsigned lo, unsigned hi, unsigned step)
{
        uint64_t b = 0;

        for (unsigned i = lo; i <= hi; i += step)
                b |= BIT(i);
        return b;
}

static CronSpec *parse_ok(const char *s)
{
        CronSpec *spec = NULL;
        _cleanup_free_ char *err = NULL;
        int r = cron_spec_parse(s, &spec, &err);

        cr_assert_eq(r, 0, "parsing \"%s\" failed: %s", s, err ? err : "?");
        cr_assert_null(err);
        return spec;
}

static void expect_parse_error(const char *s, const char *msg)
{
        CronSpec *spec = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(cron_spec_parse(s, &spec, &err), -EINVAL, "\"%s\" parsed", s);
        cr_assert_null(spec);
        cr_assert_str_eq(err, msg);
}

Test(cron_spec, parses_five_fields_into_bit_sets)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("5 0-6/2 1,15 jan-MAR mon");

        cr_assert_eq(s->minute, BIT(5));
        cr_assert_eq(s->hour, BIT(0) | BIT(2) | BIT(4) | BIT(6));
        cr_assert_eq(s->dom, BIT(1) | BIT(15));
        cr_assert_eq(s->month, range_bits(1, 3, 1));
        cr_assert_eq(s->dow, BIT(1));
        cr_assert_eq(s->every_usec, 0);
        cr_assert_null(s->location);
}

Test(cron_spec, marks_star_and_question_mark_with_the_star_bit)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("* ? */1 ?/1 *");

        cr_assert_eq(s->minute, range_bits(0, 59, 1) | CRON_STAR_BIT);
        cr_assert_eq(s->hour, range_bits(0, 23, 1) | CRON_STAR_BIT);
        cr_assert_eq(s->dom, range_bits(1, 31, 1) | CRON_STAR_BIT);
        cr_assert_eq(s->month, range_bits(1, 12, 1) | CRON_STAR_BIT);
        cr_assert_eq(s->dow, range_bits(0, 6, 1) | CRON_STAR_BIT);
}

Test(cron_spec, star_with_step_above_one_or_explicit_range_has_no_star_bit)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("*/2 * 1-31 * 0-6");

        cr_assert_eq(s->minute, range_bits(0, 59, 2));
        cr_assert_eq(s->dom, range_bits(1, 31, 1));
        cr_assert_eq(s->dow, range_bits(0, 6, 1));
        cr_assert_eq(s->hour & CRON_STAR_BIT, CRON_STAR_BIT);
}

Test(cron_spec, ignores_a_range_end_after_star)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("*-5 * * * *");

        cr_assert_eq(s->minute, range_bits(0, 59, 1) | CRON_STAR_BIT);
}

Test(cron_spec, single_value_with_step_runs_to_the_maximum)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("5/15 * * * Mon/2");

        cr_assert_eq(s->minute, BIT(5) | BIT(20) | BIT(35) | BIT(50));
        cr_assert_eq(s->dow, BIT(1) | BIT(3) | BIT(5));
}

Test(cron_spec, step_larger_than_range_keeps_only_the_start)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("*/60 * * * *");

        cr_assert_eq(s->minute, BIT(0));
}

Test(cron_spec, drops_empty_list_items_and_a_lone_comma_is_the_empty_set)
{
        _cleanup_cron_spec_ CronSpec *a = parse_ok("1,,15 * * * *");
        _cleanup_cron_spec_ CronSpec *b = parse_ok(", * * * *");

        cr_assert_eq(a->minute, BIT(1) | BIT(15));
        cr_assert_eq(b->minute, 0);
}

Test(cron_spec, accepts_leading_zero_and_plus_sign)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("05 +5 * * *");

        cr_assert_eq(s->minute, BIT(5));
        cr_assert_eq(s->hour, BIT(5));
}

Test(cron_spec, splits_on_any_whitespace_run)
{
        _cleanup_cron_spec_ CronSpec *s = parse_ok("  0\t12   * * *  ");

        cr_assert_eq(s->hour, BIT(12));
}

Test(cron_spec, rejects_seven_as_day_of_week)
{
        expect_parse_error("0 0 * * 7", "end of range (7) above maximum (6): 7");
}

Test(cron_spec, rejects_wrong_field_counts)
{
        expect_parse_error("* * * *", "expected exactly 5 fields, found 4: [* * * *]");
        expect_parse_error("0 * * * * *", "expected exactly 5 fields, found 6: [0 * * * * *]");
        expect_parse_error("", "empty spec string");
}

Test(cron_spec, reports_range_errors_in_upstream_order)
{
        expect_parse_error("0 0 0 * *", "beginning of range (0) below minimum (1): 0");
        expect_parse_error("60 * * * *", "end of range (60) above maximum (59): 60");
        expect_parse_error("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1");
        expect_parse_error("*/0 * * * *", "step of range should be a positive number: */0");
        expect_parse_error("1-2-3 * * * *", "too many hyphens: 1-2-3");
        expect_parse_error("*/2/3 * * * *", "too many slashes: */2/3");
        expect_parse_error("* * * * sat-sun", "beginning of range (6) beyond end of range (0): sat-sun");
}

Test(cron_spec, reports_integer_errors_like_strconv)
{
        expect_parse_error("-5 * * * *",
                           "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax");
        expect_parse_error("5- * * * *",
                           "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax");
        expect_parse_error("x * * * *",
                           "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
        expect_parse_error("*/-2 * * * *", "negative number (-2) not allowed: -2");
        expect_parse_error("99999999999999999999 * * * *",
                           "failed to parse int from 99999999999999999999: strconv.Atoi: parsing "
                           "\"99999999999999999999\": value out of range");
        expect_parse_error("0 0 * * L",
                           "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax");
}

Test(cron_spec, descriptors_are_exact_and_case_sensitive)
{
        _cleanup_cron_spec_ CronSpec *y = parse_ok("@yearly");
        _cleanup_cron_spec_ CronSpec *w = parse_ok("@weekly");
        _cleanup_cron_spec_ CronSpec *h = parse_ok("@hourly");

        cr_assert_eq(y->minute, BIT(0));
        cr_assert_eq(y->dom, BIT(1));
        cr_assert_eq(y->month, BIT(1));
        cr_assert_eq(y->dow, range_bits(0, 6, 1) | CRON_STAR_BIT);
        cr_assert_eq(w->dow, BIT(0));
        cr_assert_eq(w->dom, range_bits(1, 31, 1) | CRON_STAR_BIT);
        cr_assert_eq(h->hour, range_bits(0, 23, 1) | CRON_STAR_BIT);
        expect_parse_error("@Hourly", "unrecognized descriptor: @Hourly");
        expect_parse_error("@daily ", "unrecognized descriptor: @daily ");
}

Test(cron_spec, accepts_reboot_as_berths_once_per_boot_extension)
{
        _cleanup_cron_spec_ CronSpec *r = parse_ok("@reboot");
        _cleanup_cron_spec_ CronSpec *d = parse_ok("@daily");

        cr_assert(cron_spec_is_reboot(r));
        cr_assert_not(cron_spec_is_every(r));
        cr_assert_eq(r->minute | r->hour | r->dom | r->month | r->dow, 0, "no field matches anything");
        cr_assert_not(cron_spec_is_reboot(d));
        /* exact and case-sensitive like robfig's descriptors */
        expect_parse_error("@Reboot", "unrecognized descriptor: @Reboot");
        expect_parse_error("@reboot ", "unrecognized descriptor: @reboot ");
        expect_parse_error("@rebooted", "unrecognized descriptor: @rebooted");
}

Test(cron_spec, every_takes_a_go_duration_rounded_to_seconds)
{
        _cleanup_cron_spec_ CronSpec *a = parse_ok("@every 1h30m");
        _cleanup_cron_spec_ CronSpec *b = parse_ok("@every 15m50ns");
        _cleanup_cron_spec_ CronSpec *c = parse_ok("@every 10ms");

        cr_assert(cron_spec_is_every(a));
        cr_assert_eq(a->every_usec, UINT64_C(5400) * CRON_USEC_PER_SEC);
        cr_assert_eq(b->every_usec, UINT64_C(900) * CRON_USEC_PER_SEC);
        cr_assert_eq(c->every_usec, CRON_USEC_PER_SEC);
        expect_parse_error(
            "@every 1x", "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\"");
        expect_parse_error("@every 5",
                           "failed to parse duration @every 5: time: missing unit in duration \"5\"");
        expect_parse_error("@every ", "failed to parse duration @every : time: invalid duration \"\"");
}

Test(cron_spec, parses_go_durations)
{
        int64_t ns;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(cron_spec_parse_go_duration("1.5h", &ns, NULL), 0);
        cr_assert_eq(ns, INT64_C(5400000000000));
        cr_assert_eq(cron_spec_parse_go_duration("-300ms", &ns, NULL), 0);
        cr_assert_eq(ns, INT64_C(-300000000));
        cr_assert_eq(cron_spec_parse_go_duration("1\xc2\xb5s", &ns, NULL), 0);
        cr_assert_eq(ns, 1000);
        cr_assert_eq(cron_spec_parse_go_duration("0", &ns, NULL), 0);
        cr_assert_eq(ns, 0);
        cr_assert_eq(cron_spec_parse_go_duration("9999999999h", &ns, &err), -EINVAL);
        cr_assert_str_eq(err, "time: invalid duration \"9999999999h\"");
}

Test(cron_spec, time_zone_prefix_sets_the_location)
{
        _cleanup_cron_spec_ CronSpec *a = parse_ok("TZ=UTC 0 3 * * *");
        _cleanup_cron_spec_ CronSpec *b = parse_ok("CRON_TZ=America/New_York @daily");

        cr_assert_str_eq(a->location, "UTC");
        cr_assert_eq(a->hour, BIT(3));
        cr_assert_str_eq(b->location, "America/New_York");
        cr_assert_eq(b->hour, BIT(0));
        expect_parse_error("TZ=Mars/Base 0 * * * *",
                           "provided bad location Mars/Base: unknown time zone Mars/Base");
        expect_parse_error("TZ=../etc/passwd 0 * * * *",
                           "provided bad location ../etc/passwd: time: invalid location name");
}

Test(cron_spec, time_zone_prefix_without_space_is_an_error_not_a_crash)
{
        expect_parse_error("TZ=UTC", "missing schedule after time zone prefix: TZ=UTC");
        expect_parse_error("CRON_TZ=", "missing schedule after time zone prefix: CRON_TZ=");
}

Test(cron_spec, checks_locations_against_zoneinfo)
{
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(cron_spec_check_location("Europe/Berlin", NULL), 0);
        cr_assert_eq(cron_spec_check_location("", NULL), 0);
        cr_assert_eq(cron_spec_check_location("/etc/localtime", NULL), -EINVAL);
        cr_assert_eq(cron_spec_check_location("Europe", &err), -EINVAL);
        cr_assert_str_eq(err, "unknown time zone Europe");
}
