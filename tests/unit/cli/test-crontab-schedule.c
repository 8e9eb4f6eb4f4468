/* Tests of crontab-schedule.c: cron's times as a Kubernetes schedule. Fields robfig reads
 * alike are copied, the others rewritten; cron's AND of the day fields and schedules cron
 * never runs are refused; and for a set of real and odd schedules, every day of five years
 * and every minute and hour match in cron's reading and in robfig's reading of the result. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "cron-spec.h"
#include "crontab.h"
#include "util.h"

typedef struct Result {
        int r;
        CrontabSchedule s;
        CrontabTimes times;
        char *report;
} Result;

static Result translate(const char *times)
{
        _cleanup_free_ char *line = strjoin(times, " cmd\n", NULL);
        _cleanup_(crontab_freep) Crontab *c = NULL;
        Result res = {};
        CrontabDiags d = {};
        size_t size = 0;
        FILE *f = open_memstream(&res.report, &size);

        cr_assert(line && f);
        cr_assert_eq(crontab_parse(line, strlen(line), false, &d, &c), 0);
        cr_assert_eq(c->n_entries, 1, "\"%s\" does not parse", times);
        res.times = c->entries[0].times;
        res.r = crontab_schedule_translate(&c->entries[0], &d, &res.s);
        crontab_diags_print(f, &d, "crontab");
        cr_assert_eq(fclose(f), 0);
        crontab_diags_done(&d);
        return res;
}

static void result_done(Result *r)
{
        crontab_schedule_done(&r->s);
        free(r->report);
}

static void expect_schedule(const char *times, const char *schedule, bool fixed_time)
{
        _cleanup_(result_done) Result r = translate(times);

        cr_assert_eq(r.r, 0, "%s: %s", times, r.report);
        cr_expect_str_eq(r.s.schedule, schedule, "for %s", times);
        cr_expect_eq(r.s.fixed_time, fixed_time, "fixed time of %s", times);
        cr_expect_not(r.s.reboot);
}

static void expect_refused(const char *times, const char *report)
{
        _cleanup_(result_done) Result r = translate(times);

        cr_expect_eq(r.r, -EINVAL, "%s translated to %s", times, r.s.schedule);
        cr_expect_str_eq(r.report, report);
}

Test(crontab_schedule, copies_what_robfig_reads_alike)
{
        expect_schedule("*/15 * * * *", "*/15 * * * *", false);
        expect_schedule("0 * * * *", "0 * * * *", false);
        expect_schedule("30 2 * * *", "30 2 * * *", true);
        expect_schedule("0 1-3 * * *", "0 1-3 * * *", true);
        expect_schedule("*/10 9-17 * * mon-fri", "*/10 9-17 * * mon-fri", false);
        expect_schedule("0 0 1 JAN-MAR/2 *", "0 0 1 JAN-MAR/2 *", true);
        expect_schedule("23 0-23/2 * * *", "23 0-23/2 * * *", true);
        /* both day fields restricted: cron ORs them, so does robfig */
        expect_schedule("30 4 1,15 * 5", "30 4 1,15 * 5", true);
        expect_schedule("0 */4 1 * mon", "0 */4 1 * mon", false);
        /* cron's "*\/2" is a '*' and robfig's is not, but with the other field '*' both AND */
        expect_schedule("0 0 */2 * *", "0 0 */2 * *", true);
        expect_schedule("0\t0 1-31 * mon", "0 0 1-31 * mon", true);
}

Test(crontab_schedule, rewrites_what_robfig_reads_otherwise)
{
        _cleanup_(result_done) Result r = translate("0 0 * * 7");

        cr_assert_eq(r.r, 0);
        cr_expect_str_eq(r.s.schedule, "0 0 * * 0");
        cr_expect_str_eq(r.report, "crontab:1: note: schedule \"0 0 * * 7\" is written \"0 0 * * 0\" for "
                                   "Kubernetes' parser, with the same times\n");
        expect_schedule("0 0 * * 1-7", "0 0 * * *", true);
        expect_schedule("0 0 * * 5-7", "0 0 * * 0,5,6", true);
        expect_schedule("0 0 1 * 7", "0 0 1 * 0", true);
        expect_schedule("0 0 * * sat-7", "0 0 * * 0,6", true);
        expect_schedule("*-5 0 * * *", "* 0 * * *", false);
        expect_schedule("0 0 * * 5#2", "0 0 * * 5", true);
        expect_schedule("30-10,45 * * * *", "45 * * * *", false);
}

Test(crontab_schedule, refuses_days_cron_ands)
{
        expect_refused(
            "0 0 */2 * sun",
            "crontab:1: error: cron runs this job only on days matching both the day-of-month \"*/2\" "
            "and the day-of-week \"sun\" (a day field starting with '*' makes cron AND them), which a "
            "Kubernetes schedule cannot express: make one of them '*' and test the other in the "
            "command\n");
        expect_refused(
            "0 0 1-15 * */2",
            "crontab:1: error: cron runs this job only on days matching both the day-of-month "
            "\"1-15\" and the day-of-week \"*/2\" (a day field starting with '*' makes cron AND "
            "them), which a Kubernetes schedule cannot express: make one of them '*' and test the "
            "other in the command\n");
}

Test(crontab_schedule, refuses_what_cron_never_runs)
{
        expect_refused("0 0 30 2 *", "crontab:1: error: cron never runs this job: no date matches the "
                                     "day-of-month \"30\", month \"2\" and day-of-week \"*\"\n");
        expect_refused("0 0 31 4,6,9,11 *",
                       "crontab:1: error: cron never runs this job: no date matches the "
                       "day-of-month \"31\", month \"4,6,9,11\" and day-of-week \"*\"\n");
        expect_refused("22-2 * * * *",
                       "crontab:1: warning: minute field \"22-2\": cron counts a range upwards only, so a "
                       "range whose end is before its start (no wrap-around) adds nothing\n"
                       "crontab:1: error: cron never runs this job: its minute field \"22-2\" is empty\n");
        expect_refused(
            "0 0 * * fri-mon",
            "crontab:1: warning: day-of-week field \"fri-mon\": cron counts a range upwards only, so "
            "a range whose end is before its start (no wrap-around) adds nothing\n"
            "crontab:1: error: cron never runs this job: no date matches the day-of-month \"*\", "
            "month \"*\" and day-of-week \"fri-mon\"\n");
        expect_schedule("0 0 29 2 *", "0 0 29 2 *", true);
}

Test(crontab_schedule, keeps_the_specials)
{
        _cleanup_(result_done) Result reboot = translate("@reboot");

        cr_expect_str_eq(reboot.s.schedule, "@reboot");
        cr_expect(reboot.s.reboot);
        cr_expect_not(reboot.s.fixed_time);
        expect_schedule("@daily", "@daily", true);
        expect_schedule("@midnight", "@midnight", true);
        expect_schedule("@annually", "@annually", true);
        expect_schedule("@weekly", "@weekly", true);
        expect_schedule("@hourly", "@hourly", false);
}

/* ---- cron's reading and robfig's, day by day and minute by minute ---- */

static bool has(uint64_t bits, int n)
{
        return (bits >> n) & 1;
}

/* cron.c find_jobs' day test */
static bool cron_day(const CrontabTimes *t, const struct tm *tm)
{
        bool dom = has(t->dom, tm->tm_mday), dow = has(t->dow, tm->tm_wday);

        return t->dom_star || t->dow_star ? dom && dow : dom || dow;
}

/* robfig's dayMatches */
static bool robfig_day(const CronSpec *s, const struct tm *tm)
{
        bool dom = has(s->dom, tm->tm_mday), dow = has(s->dow, tm->tm_wday);

        return (s->dom | s->dow) & CRON_STAR_BIT ? dom && dow : dom || dow;
}

static void expect_same_times(const char *times)
{
        _cleanup_(result_done) Result r = translate(times);
        _cleanup_cron_spec_ CronSpec *spec = NULL;
        uint64_t m = ~CRON_STAR_BIT;
        int days = 0;

        cr_assert_eq(r.r, 0, "%s: %s", times, r.report);
        cr_assert_eq(cron_spec_parse(r.s.schedule, &spec, NULL), 0, "%s", r.s.schedule);
        cr_expect_eq(spec->minute & m, r.times.minute, "minutes of %s", times);
        cr_expect_eq(spec->hour & m, r.times.hour, "hours of %s", times);
        for (time_t t = 1704067200; t < 1704067200 + 5 * 366 * 86400; t += 86400) {
                struct tm tm;

                cr_assert_not_null(gmtime_r(&t, &tm));
                bool in_month = has(r.times.month, tm.tm_mon + 1),
                     cron = in_month && cron_day(&r.times, &tm),
                     robfig = has(spec->month, tm.tm_mon + 1) && robfig_day(spec, &tm);
                cr_assert_eq(cron, robfig, "%s as %s on %04d-%02d-%02d: cron %d, robfig %d", times,
                             r.s.schedule, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, cron, robfig);
                days += cron;
        }
        cr_expect_gt(days, 0, "%s never runs", times);
}

Test(crontab_schedule, gives_robfig_cron_s_times)
{
        static const char *const cases[] = {
            "*/5 * * * *",
            "0 */2 * * *",
            "17 * * * *",
            "25 6 * * *",
            "47 6 * * 7",
            "52 6 1 * *",
            "30 4 1,15 * 5",
            "0 0 */2 * *",
            "0 0 * * */2",
            "0 0 1-31 * mon",
            "0 0 1 * 1-7",
            "0 0 * * 0,7",
            "0 0 13 * fri",
            "0 12 * 2 *",
            "0 0 * JAN-MAR/2 mon-fri/2",
            "0 0 29 2 *",
            "5 4 * * sun",
            "0 */4 1 * mon",
            "0 4 8-14 * *",
            "0 0 1,15 */3 *",
            "0 0 *,1 * 1",
            "0 0 1 * *,1",
            "0 0 31 * *",
            "59 23 28-31 * *",
            "0 0 * * 6-7",
            "0 0 10-20/5 * 7",
            "0 9-17/2 * * 1-5",
            "0 0 * jul-dec sun",
            "1,2,3 4,5 6,7 8,9 2-4",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_same_times(cases[i]);
}
