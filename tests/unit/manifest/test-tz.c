/* TimeZone: TZif loading, offset lookups (transitions and the footer rule), Go's
 * time.Date resolution, wall-clock fields and RFC 3339 output. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tz.h"
#include "util.h"

static int64_t at(const char *s)
{
        usec_t u;

        cr_assert_eq(parse_rfc3339(s, &u), 0, "bad test time %s", s);
        return (int64_t)(u / 1000000);
}

static TimeZone *load(const char *name)
{
        TimeZone *tz = NULL;

        cr_assert_eq(tz_load(name, &tz), 0, "loading %s", name);
        return tz;
}

static void expect_format(const TimeZone *tz, int64_t t, const char *want)
{
        char buf[64];

        cr_assert_eq(tz_format_rfc3339(tz, t, buf, sizeof(buf)), 0);
        cr_expect_str_eq(buf, want);
}

Test(tz, resolves_a_missing_wall_time_like_go)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");

        expect_format(ny, tz_date(ny, 2012, 3, 11, 2, 30, 0), "2012-03-11T01:30:00-05:00");
}

Test(tz, resolves_a_repeated_wall_time_to_the_first_occurrence)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");

        expect_format(ny, tz_date(ny, 2012, 11, 4, 1, 30, 0), "2012-11-04T01:30:00-04:00");
}

Test(tz, resolves_a_missing_midnight_in_sao_paulo_to_the_evening_before)
{
        _cleanup_tz_ TimeZone *sp = load("America/Sao_Paulo");

        expect_format(sp, tz_date(sp, 2018, 11, 4, 0, 0, 0), "2018-11-03T23:00:00-03:00");
}

Test(tz, normalises_overflowing_date_fields)
{
        _cleanup_tz_ TimeZone *utc = load("UTC");

        expect_format(utc, tz_date(utc, 2012, 13, 1, 0, 0, 0), "2013-01-01T00:00:00Z");
        expect_format(utc, tz_date(utc, 2012, 3, 0, 0, 0, 0), "2012-02-29T00:00:00Z");
        expect_format(utc, tz_date(utc, 2012, 12, 31, 24, 0, 0), "2013-01-01T00:00:00Z");
        expect_format(utc, tz_date(utc, 2012, 0, 1, 0, -1, 0), "2011-11-30T23:59:00Z");
        expect_format(utc, tz_date(utc, 2013, 1, 31 + 1, 0, 0, 61), "2013-02-01T00:01:01Z");
        expect_format(utc, tz_date(utc, 2012, -13, 1, 0, 0, 0), "2010-11-01T00:00:00Z");
}

Test(tz, looks_up_offsets_and_their_validity_period)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");
        int off;
        int64_t start, end;

        cr_assert_eq(tz_lookup(ny, at("2012-07-01T00:00:00Z"), &off, &start, &end), 0);
        cr_expect_eq(off, -4 * 3600);
        cr_expect_eq(start, at("2012-03-11T07:00:00Z"));
        cr_expect_eq(end, at("2012-11-04T06:00:00Z"));
        cr_assert_eq(tz_lookup(ny, at("2012-11-04T06:00:00Z"), &off, NULL, NULL), 0);
        cr_expect_eq(off, -5 * 3600);
}

Test(tz, uses_the_footer_rule_after_the_last_transition)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");
        int off;
        int64_t start, end;

        /* 2100: DST from March 14th (2nd Sunday) to November 7th (1st Sunday). */
        tz_lookup(ny, at("2100-07-01T00:00:00Z"), &off, &start, &end);
        cr_expect_eq(off, -4 * 3600);
        cr_expect_eq(start, at("2100-03-14T07:00:00Z"));
        cr_expect_eq(end, at("2100-11-07T06:00:00Z"));
        tz_lookup(ny, at("2100-12-01T00:00:00Z"), &off, &start, &end);
        cr_expect_eq(off, -5 * 3600);
        cr_expect_eq(start, at("2100-11-07T06:00:00Z"));
        expect_format(ny, tz_date(ny, 2100, 3, 14, 2, 30, 0), "2100-03-14T01:30:00-05:00");
        expect_format(ny, tz_date(ny, 2100, 11, 7, 1, 30, 0), "2100-11-07T01:30:00-04:00");
}

Test(tz, gives_the_first_standard_offset_before_the_first_transition)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");
        int off;
        int64_t start;

        tz_lookup(ny, -5364662400 /* 1800-01-01 */, &off, &start, NULL);
        /* Local mean time of New York: -4:56:02. */
        cr_expect_eq(off, -(4 * 3600 + 56 * 60 + 2));
        cr_expect_eq(start, INT64_MIN);
}

Test(tz, builds_utc_in)
{
        _cleanup_tz_ TimeZone *utc = load("UTC");
        int off = 1;
        int64_t start = 0, end = 0;

        cr_expect_str_eq(tz_name(utc), "UTC");
        tz_lookup(utc, 1234567890, &off, &start, &end);
        cr_expect_eq(off, 0);
        cr_expect_eq(start, INT64_MIN);
        cr_expect_eq(end, INT64_MAX);
        expect_format(utc, 1234567890, "2009-02-13T23:31:30Z");
}

Test(tz, fills_wall_clock_fields)
{
        _cleanup_tz_ TimeZone *ny = load("America/New_York");
        struct tm tm;

        tz_localtime(ny, at("2012-11-04T05:30:00Z"), &tm);
        cr_expect_eq(tm.tm_year + 1900, 2012);
        cr_expect_eq(tm.tm_mon + 1, 11);
        cr_expect_eq(tm.tm_mday, 4);
        cr_expect_eq(tm.tm_hour, 1);
        cr_expect_eq(tm.tm_min, 30);
        cr_expect_eq(tm.tm_wday, 0);
        cr_expect_eq(tm.tm_yday, 308);
        cr_expect_eq(tm.tm_isdst, 1);
        cr_expect_eq(tm.tm_gmtoff, -4 * 3600);
        cr_expect_str_eq(tm.tm_zone, "EDT");
        tz_localtime(ny, -1, &tm);
        cr_expect_eq(tm.tm_year + 1900, 1969);
        cr_expect_eq(tm.tm_hour, 18);
        cr_expect_eq(tm.tm_wday, 3);
}

Test(tz, formats_zero_offsets_as_z_and_others_with_sign)
{
        _cleanup_tz_ TimeZone *london = load("Europe/London");
        _cleanup_tz_ TimeZone *kolkata = load("Asia/Kolkata");
        char small[8];

        expect_format(london, at("2024-01-01T00:00:00Z"), "2024-01-01T00:00:00Z");
        expect_format(london, at("2024-07-01T00:00:00Z"), "2024-07-01T01:00:00+01:00");
        expect_format(kolkata, at("2024-07-01T00:00:00Z"), "2024-07-01T05:30:00+05:30");
        cr_expect_eq(tz_format_rfc3339(kolkata, 0, small, sizeof(small)), -ENOBUFS);
}

Test(tz, rejects_unknown_and_invalid_zone_names)
{
        TimeZone *tz = NULL;

        cr_expect_eq(tz_load("Mars/Base", &tz), -ENOENT);
        cr_expect_eq(tz_load("../etc/passwd", &tz), -EINVAL);
        cr_expect_eq(tz_load("/etc/passwd", &tz), -EINVAL);
        cr_expect_null(tz);
}

Test(tz, rejects_files_that_are_not_tzif)
{
        char dir[] = "/tmp/test-tz-XXXXXX";
        TimeZone *tz = NULL;

        cr_assert_not_null(mkdtemp(dir));
        _cleanup_free_ char *bad = strjoin(dir, "/Bad", NULL);
        _cleanup_free_ char *trunc = strjoin(dir, "/Trunc", NULL);
        cr_assert_eq(write_file_atomic(bad, "not a zone file\n", 16, 0644), 0);
        cr_assert_eq(write_file_atomic(trunc, "TZif2\n", 6, 0644), 0);
        setenv("TZDIR", dir, 1);
        cr_expect_eq(tz_load("Bad", &tz), -EINVAL);
        cr_expect_eq(tz_load("Trunc", &tz), -EINVAL);
        cr_expect_eq(tz_load("America/New_York", &tz), -ENOENT);
        unsetenv("TZDIR");
        cr_expect_eq(rm_rf(dir), 0);
}

Test(tz, loads_the_local_zone_from_tz)
{
        _cleanup_tz_ TimeZone *local = NULL, *fallback = NULL, *ref = NULL;
        int off;

        setenv("TZ", "Asia/Tokyo", 1);
        cr_assert_eq(tz_load(NULL, &local), 0);
        cr_expect_str_eq(tz_name(local), "Local");
        tz_lookup(local, 0, &off, NULL, NULL);
        cr_expect_eq(off, 9 * 3600);
        ref = tz_ref(local);
        cr_expect_eq(ref, local);

        setenv("TZ", "Nowhere/Special", 1);
        cr_assert_eq(tz_load("Local", &fallback), 0);
        tz_lookup(fallback, 0, &off, NULL, NULL);
        cr_expect_eq(off, 0);
        unsetenv("TZ");
}
