/* The POSIX TZ footer rule (Go's tzset) and the calendar helpers of tz-rule.c. */
#include <criterion/criterion.h>
#include <errno.h>

#include "tz-internal.h"

Test(tz_rule, parses_names_offsets_and_month_week_day_rules)
{
        TzRule r;

        cr_assert_eq(tz_rule_parse("EST5EDT,M3.2.0,M11.1.0", &r), 0);
        cr_expect_str_eq(r.std_name, "EST");
        cr_expect_str_eq(r.dst_name, "EDT");
        cr_expect_eq(r.std_offset, -5 * 3600);
        cr_expect_eq(r.dst_offset, -4 * 3600);
        cr_expect_eq(r.start.kind, TZ_RULE_MONTH_WEEK_DAY);
        cr_expect_eq(r.start.mon, 3);
        cr_expect_eq(r.start.week, 2);
        cr_expect_eq(r.end.time, 7200);

        cr_assert_eq(tz_rule_parse("<+0330>-3:30", &r), 0);
        cr_expect_str_eq(r.std_name, "+0330");
        cr_expect_eq(r.std_offset, 3 * 3600 + 1800);
        cr_expect(!r.has_dst);

        cr_assert_eq(tz_rule_parse("IST-1GMT0,M10.5.0,M3.5.0/1", &r), 0);
        cr_expect_eq(r.dst_offset, 0);
        cr_expect_eq(r.end.time, 3600);
}

Test(tz_rule, rejects_malformed_strings)
{
        TzRule r;

        cr_expect_eq(tz_rule_parse("", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("AB5", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("EST", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("EST5EDT,M13.1.0,M11.1.0", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("EST5EDT,M3.2.0", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("EST5EDT,M3.2.0,M11.1.0x", &r), -EINVAL);
        cr_expect_eq(tz_rule_parse("<EST5", &r), -EINVAL);
}

Test(tz_rule, evaluates_southern_hemisphere_rules_with_swapped_roles)
{
        TzRule r;
        TzInfo info;

        /* Sydney: AEST-10AEDT,M10.1.0,M4.1.0/3. 2030-01-15 is summer time. */
        cr_assert_eq(tz_rule_parse("AEST-10AEDT,M10.1.0,M4.1.0/3", &r), 0);
        tz_rule_eval(&r, 0, tz_days_from_civil(2030, 1, 15) * 86400, &info);
        cr_expect_eq(info.offset, 11 * 3600);
        cr_expect_str_eq(info.abbr, "AEDT");
        tz_rule_eval(&r, 0, tz_days_from_civil(2030, 7, 15) * 86400, &info);
        cr_expect_eq(info.offset, 10 * 3600);
}

Test(tz_rule, evaluates_julian_and_day_of_year_rules)
{
        TzRule r;
        TzInfo info;

        cr_assert_eq(tz_rule_parse("XST3XDT,J60,300", &r), 0);
        /* J60 is March 1st even in leap years; 2032-02-29 is still standard time. */
        tz_rule_eval(&r, 0, tz_days_from_civil(2032, 2, 29) * 86400 + 12 * 3600, &info);
        cr_expect_eq(info.offset, -3 * 3600);
        tz_rule_eval(&r, 0, tz_days_from_civil(2032, 3, 1) * 86400 + 12 * 3600, &info);
        cr_expect_eq(info.offset, -2 * 3600);
}

Test(tz_rule, converts_between_civil_dates_and_days)
{
        int64_t y;
        int m, d;

        cr_expect_eq(tz_days_from_civil(1970, 1, 1), 0);
        cr_expect_eq(tz_days_from_civil(2000, 3, 1), 11017);
        cr_expect_eq(tz_days_from_civil(1969, 12, 31), -1);
        tz_civil_from_days(-1, &y, &m, &d);
        cr_expect(y == 1969 && m == 12 && d == 31);
        tz_civil_from_days(47540, &y, &m, &d);
        cr_expect(y == 2100 && m == 2 && d == 28);
        cr_expect(!tz_is_leap(2100));
        cr_expect(tz_is_leap(2000));
}
