/* robfig/cron v3.0.1 SpecSchedule.Next and ConstantDelaySchedule.Next over whole seconds:
 * the field-by-field search with Go's wall-clock constructors (tz_date), absolute hour and
 * minute steps, the missing-midnight fix-up and the five-year search window. */
#include <stdbool.h>

#include "cron-next.h"
#include "macro.h"
#include "util.h"

/* The wall-clock view of an instant, recomputed after each step as Go's accessors do. */
typedef struct Clock {
        const TimeZone *tz;
        int64_t t;
        struct tm tm;
} Clock;

static void clock_set(Clock *c, int64_t t)
{
        c->t = t;
        tz_localtime(c->tz, t, &c->tm);
}

static bool has_bit(uint64_t set, int n)
{
        return (set & (UINT64_C(1) << n)) != 0;
}

static bool day_matches(const CronSpec *s, const struct tm *tm)
{
        bool dom = has_bit(s->dom, tm->tm_mday), dow = has_bit(s->dow, tm->tm_wday);

        if ((s->dom & CRON_STAR_BIT) || (s->dow & CRON_STAR_BIT))
                return dom && dow;
        return dom || dow;
}

static int64_t floor_to(int64_t t, int64_t unit)
{
        int64_t r = t % unit;
        return r < 0 ? t - r - unit : t - r;
}

static int64_t spec_next(const CronSpec *s, const TimeZone *loc, int64_t after)
{
        Clock c = {.tz = loc};
        bool added = false;

        clock_set(&c, after + 1);
        int year_limit = c.tm.tm_year + 5;

wrap:
        if (c.tm.tm_year > year_limit)
                return 0;

        while (!has_bit(s->month, c.tm.tm_mon + 1)) {
                if (!added) {
                        added = true;
                        clock_set(&c, tz_date(loc, c.tm.tm_year + 1900, c.tm.tm_mon + 1, 1, 0, 0, 0));
                }
                /* AddDate(0, 1, 0) */
                clock_set(&c, tz_date(loc, c.tm.tm_year + 1900, c.tm.tm_mon + 2, c.tm.tm_mday, c.tm.tm_hour,
                                      c.tm.tm_min, c.tm.tm_sec));
                if (c.tm.tm_mon == 0)
                        goto wrap;
        }

        while (!day_matches(s, &c.tm)) {
                if (!added) {
                        added = true;
                        clock_set(&c,
                                  tz_date(loc, c.tm.tm_year + 1900, c.tm.tm_mon + 1, c.tm.tm_mday, 0, 0, 0));
                }
                /* AddDate(0, 0, 1) */
                clock_set(&c, tz_date(loc, c.tm.tm_year + 1900, c.tm.tm_mon + 1, c.tm.tm_mday + 1,
                                      c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec));
                /* Midnight did not exist (DST): move to the nearest whole-day boundary. */
                if (c.tm.tm_hour != 0) {
                        if (c.tm.tm_hour > 12)
                                clock_set(&c, c.t + (int64_t)(24 - c.tm.tm_hour) * 3600);
                        else
                                clock_set(&c, c.t - (int64_t)c.tm.tm_hour * 3600);
                }
                if (c.tm.tm_mday == 1)
                        goto wrap;
        }

        while (!has_bit(s->hour, c.tm.tm_hour)) {
                if (!added) {
                        added = true;
                        clock_set(&c, tz_date(loc, c.tm.tm_year + 1900, c.tm.tm_mon + 1, c.tm.tm_mday,
                                              c.tm.tm_hour, 0, 0));
                }
                clock_set(&c, c.t + 3600);
                if (c.tm.tm_hour == 0)
                        goto wrap;
        }

        while (!has_bit(s->minute, c.tm.tm_min)) {
                if (!added) {
                        added = true;
                        clock_set(&c, floor_to(c.t, 60));
                }
                clock_set(&c, c.t + 60);
                if (c.tm.tm_min == 0)
                        goto wrap;
        }

        /* Seconds are always {0}; the instant is a whole second already. */
        while (c.tm.tm_sec != 0) {
                added = true;
                clock_set(&c, c.t + 1);
                if (c.tm.tm_sec == 0)
                        goto wrap;
        }
        return c.t;
}

int64_t cron_next(const CronSpec *spec, const TimeZone *tz, int64_t after)
{
        _cleanup_tz_ TimeZone *own = NULL;

        if (!spec || cron_spec_is_reboot(spec))
                return 0;
        if (cron_spec_is_every(spec))
                /* Every() rounded the delay to whole seconds; `after` has no fraction. */
                return after + (int64_t)(spec->every_usec / CRON_USEC_PER_SEC);

        if (spec->location) {
                /* "TZ= ..." is UTC for Go, while tz_load("") is the local zone. */
                if (tz_load(isempty(spec->location) ? "UTC" : spec->location, &own) < 0)
                        return 0;
                tz = own;
        }
        return spec_next(spec, tz, after);
}
