/* The CronJob controller's time arithmetic: Kubernetes' mostRecentScheduleTime,
 * nextScheduleTime and nextScheduleTimeDuration (utils.go), and berth's catch-up and DST
 * policies layered on robfig's Next. Pure: no store, no loop, no clock.
 *
 * Beyond Kubernetes, opt-in annotations on the CronJob:
 *
 *   berth.dev/catch-up: latest | skip | all
 *       latest (default) - Kubernetes' rule: after missed times, run only the most recent
 *           one, if it is within startingDeadlineSeconds.
 *       skip - never run a missed time, only the ones whose moment the agent meets (a time
 *           first seen more than CRONJOB_SKIP_GRACE_SEC = 30 s after it passed is dropped
 *           silently, e.g. after downtime or a forward clock step).
 *       all - run every missed time, oldest first, one launch (one committed Job) per sync.
 *   berth.dev/catch-up-window: <Go duration, e.g. "6h">
 *       With catch-up: all, only missed times younger than this are run (default: no
 *       window). startingDeadlineSeconds, when set, bounds the window as well.
 *   berth.dev/dst: cron
 *       cron's DST behaviour instead of robfig's: a wall time that a spring-forward jump
 *       skips runs at the first instant after the jump (robfig skips it), and a wall time
 *       that a fall-back repeats runs once, at its first occurrence (robfig runs it twice).
 *       Applies to field schedules, not @every.
 */
#include <string.h>
#include <time.h>

#include "cronjob-schedule.h"
#include "json-util.h"

#define FIVE_YEARS_SEC ((int64_t)5 * 366 * 24 * 3600)
#define DST_MAX_STEPS 64

static int64_t raw_next(const CronJobSchedule *s, int64_t after)
{
        if (cron_spec_is_every(s->spec))
                return after + (int64_t)(s->spec->every_usec / CRON_USEC_PER_SEC);
        return cron_next(s->spec, s->tz, after);
}

/* Does the wall time w (seconds, read as if UTC) match the schedule's fields? */
static bool wall_matches(const CronSpec *spec, int64_t w)
{
        time_t tt = (time_t)w;
        struct tm tm;
        bool dom, dow;

        if (!gmtime_r(&tt, &tm) || tm.tm_sec != 0)
                return false;
        if (!((spec->minute >> tm.tm_min) & 1) || !((spec->hour >> tm.tm_hour) & 1) ||
            !((spec->month >> (tm.tm_mon + 1)) & 1))
                return false;
        dom = (spec->dom >> tm.tm_mday) & 1;
        dow = (spec->dow >> tm.tm_wday) & 1;
        if ((spec->dom & CRON_STAR_BIT) || (spec->dow & CRON_STAR_BIT))
                return dom && dow;
        return dom || dow;
}

/* The first instant after a spring-forward gap lying in (after, limit] whose missing wall
 * times include one the schedule matches; 0 if there is none. */
static int64_t gap_launch(const CronJobSchedule *s, int64_t after, int64_t limit)
{
        int64_t p = after + 1;

        for (int i = 0; i < DST_MAX_STEPS; i++) {
                int64_t start, end, start2, end2;
                int off, off2;

                if (tz_lookup(s->tz, p, &off, &start, &end) < 0 || end <= p || end > limit)
                        return 0;
                if (tz_lookup(s->tz, end, &off2, &start2, &end2) < 0)
                        return 0;
                if (off2 > off)
                        /* wall times [end+off, end+off2) never happen on this day */
                        for (int64_t w = end + off; w < end + off2; w += 60)
                                if (wall_matches(s->spec, w - w % 60))
                                        return end;
                p = end;
        }
        return 0;
}

/* Is t in the part of a fall-back whose wall times already happened once? */
static bool in_repeat(const TimeZone *tz, int64_t t)
{
        int64_t start, end, start0, end0;
        int off, off0;

        if (tz_lookup(tz, t, &off, &start, &end) < 0 || start == INT64_MIN || start > t)
                return false;
        if (tz_lookup(tz, start - 1, &off0, &start0, &end0) < 0)
                return false;
        return off0 > off && t < start + (off0 - off);
}

int64_t cronjob_schedule_next(const CronJobSchedule *s, int64_t after)
{
        int64_t t = after;

        if (!s->dst_cron || cron_spec_is_every(s->spec))
                return raw_next(s, after);
        for (int i = 0; i < DST_MAX_STEPS; i++) {
                int64_t raw = raw_next(s, t), gap;

                gap = gap_launch(s, t, raw != 0 ? raw : t + FIVE_YEARS_SEC);
                if (gap > 0)
                        return gap;
                if (raw == 0 || !in_repeat(s->tz, raw))
                        return raw;
                t = raw;
        }
        return 0;
}

static int64_t usec_to_sec(usec_t u)
{
        return (int64_t)(u / USEC_PER_SEC);
}

static usec_t sec_to_usec(int64_t s)
{
        return s <= 0 ? 0 : (usec_t)s * USEC_PER_SEC;
}

static usec_t earliest_time(const CronJobTimes *t, usec_t now, int64_t deadline)
{
        usec_t earliest = sec_to_usec(t->has_last_schedule ? t->last_schedule : t->creation);

        if (deadline >= 0 && now > sec_to_usec(deadline)) {
                usec_t d = now - sec_to_usec(deadline);
                if (d > earliest)
                        earliest = d;
        }
        return earliest;
}

static int most_recent(const CronJobSchedule *s, usec_t earliest, usec_t now, int64_t *ret_recent,
                       CronJobMissed *ret_missed)
{
        int64_t t1, t2, between, elapsed, missed, potential, recent = 0;

        *ret_recent = 0;
        *ret_missed = CRONJOB_MISSED_NONE;
        t1 = cronjob_schedule_next(s, usec_to_sec(earliest));
        t2 = t1 != 0 ? cronjob_schedule_next(s, t1) : 0;
        if (t1 != 0 && now < sec_to_usec(t1))
                return 0;
        if (t1 != 0 && t2 != 0 && now < sec_to_usec(t2)) {
                *ret_recent = t1;
                return 0;
        }
        if (t1 == 0 || t2 == 0 || t2 - t1 < 1)
                return -EDOM;
        between = t2 - t1;
        /* Kubernetes jumps by the gap between the first two ticks: for irregular schedules
         * this can overshoot and find nothing (the "another complex schedule" quirk) */
        elapsed = (int64_t)((now - sec_to_usec(t1)) / USEC_PER_SEC);
        missed = elapsed / between + 1;
        potential = t1 + (missed - 2) * between;
        for (int64_t x = cronjob_schedule_next(s, potential); x != 0 && sec_to_usec(x) <= now;
             x = cronjob_schedule_next(s, x))
                recent = x;
        *ret_recent = recent;
        *ret_missed = missed > CRONJOB_TOO_MANY_MISSED ? CRONJOB_MISSED_MANY : CRONJOB_MISSED_FEW;
        return 0;
}

int cronjob_schedule_most_recent(const CronJobSchedule *s, const CronJobTimes *t, usec_t now,
                                 bool include_sds, usec_t *ret_earliest, int64_t *ret_recent,
                                 CronJobMissed *ret_missed)
{
        usec_t earliest = earliest_time(t, now, include_sds ? t->deadline_sec : -1);

        if (ret_earliest)
                *ret_earliest = earliest;
        return most_recent(s, earliest, now, ret_recent, ret_missed);
}

int64_t cronjob_times_deadline(const CronJobTimes *t)
{
        if (t->catch_up == CRONJOB_CATCH_UP_SKIP &&
            (t->deadline_sec < 0 || t->deadline_sec > CRONJOB_SKIP_GRACE_SEC))
                return CRONJOB_SKIP_GRACE_SEC;
        return t->deadline_sec;
}

/* catch-up all: the oldest unlaunched time inside the window (may be after now). */
static int64_t oldest_pending(const CronJobSchedule *s, const CronJobTimes *t, usec_t now)
{
        usec_t from = earliest_time(t, now, t->deadline_sec);

        if (t->window_sec >= 0 && now > sec_to_usec(t->window_sec) &&
            now - sec_to_usec(t->window_sec) > from)
                from = now - sec_to_usec(t->window_sec);
        return cronjob_schedule_next(s, usec_to_sec(from));
}

static int next_time_all(const CronJobSchedule *s, const CronJobTimes *t, usec_t now, int64_t *ret_time,
                         CronJobMissed *ret_missed)
{
        int64_t x = oldest_pending(s, t, now);
        int n = 0;

        if (x == 0 || sec_to_usec(x) > now)
                return 0;
        *ret_time = x;
        for (int64_t y = x; y != 0 && sec_to_usec(y) <= now && n <= CRONJOB_TOO_MANY_MISSED;
             y = cronjob_schedule_next(s, y))
                n++;
        *ret_missed = n > CRONJOB_TOO_MANY_MISSED ? CRONJOB_MISSED_MANY : CRONJOB_MISSED_FEW;
        return 0;
}

int cronjob_schedule_next_time(const CronJobSchedule *s, const CronJobTimes *t, usec_t now,
                               int64_t *ret_time, CronJobMissed *ret_missed)
{
        int64_t recent;
        int r;

        *ret_time = 0;
        r = most_recent(s, earliest_time(t, now, cronjob_times_deadline(t)), now, &recent, ret_missed);
        if (r < 0)
                return r;
        if (t->catch_up == CRONJOB_CATCH_UP_ALL) {
                *ret_missed = CRONJOB_MISSED_NONE;
                return next_time_all(s, t, now, ret_time, ret_missed);
        }
        if (recent != 0 && sec_to_usec(recent) <= now)
                *ret_time = recent;
        return 0;
}

usec_t cronjob_schedule_requeue_at(const CronJobSchedule *s, const CronJobTimes *t, usec_t now)
{
        CronJobMissed missed;
        usec_t earliest;
        int64_t recent, base, n;

        if (t->catch_up == CRONJOB_CATCH_UP_ALL) {
                int64_t x = oldest_pending(s, t, now);
                if (x != 0 && sec_to_usec(x) <= now)
                        return now;
        }
        if (cronjob_schedule_most_recent(s, t, now, false, &earliest, &recent, &missed) < 0)
                base = usec_to_sec(now);
        else if (recent == 0)
                base = missed == CRONJOB_MISSED_NONE ? usec_to_sec(earliest) : usec_to_sec(now);
        else
                base = recent;
        n = cronjob_schedule_next(s, base);
        if (n == 0)
                return USEC_INFINITY;
        return sec_to_usec(n) + CRONJOB_NEXT_SCHEDULE_DELTA_USEC;
}

static int64_t time_field(const cJSON *cj, const char *path, bool *ret_set)
{
        const char *s = json_str(cj, path);
        usec_t u;

        *ret_set = s && parse_rfc3339(s, &u) >= 0;
        return *ret_set ? usec_to_sec(u) : 0;
}

static const char *annotation(const cJSON *cj, const char *key)
{
        const cJSON *a = json_path(cj, "metadata.annotations");
        const cJSON *v = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_policies(const cJSON *cj, CronJobTimes *t, bool *ret_dst_cron, char **ret_error)
{
        const char *catch_up = annotation(cj, CRONJOB_ANNOTATION_CATCH_UP);
        const char *window = annotation(cj, CRONJOB_ANNOTATION_CATCH_UP_WINDOW);
        const char *dst = annotation(cj, CRONJOB_ANNOTATION_DST);
        int64_t nsec;
        int r;

        if (dst && !streq(dst, "cron") && !streq(dst, "robfig"))
                return asprintf_safe(ret_error, "invalid %s: \"%s\" (want \"cron\")", CRONJOB_ANNOTATION_DST,
                                     dst) < 0
                           ? -ENOMEM
                           : -EINVAL;
        *ret_dst_cron = dst && streq(dst, "cron");
        if (catch_up && streq(catch_up, "skip"))
                t->catch_up = CRONJOB_CATCH_UP_SKIP;
        else if (catch_up && streq(catch_up, "all"))
                t->catch_up = CRONJOB_CATCH_UP_ALL;
        else if (catch_up && !streq(catch_up, "latest"))
                return asprintf_safe(ret_error, "invalid %s: \"%s\" (want skip, latest or all)",
                                     CRONJOB_ANNOTATION_CATCH_UP, catch_up) < 0
                           ? -ENOMEM
                           : -EINVAL;
        if (!window)
                return 0;
        _cleanup_free_ char *err = NULL;
        r = cron_spec_parse_go_duration(window, &nsec, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || nsec < 0)
                return asprintf_safe(ret_error, "invalid %s: %s", CRONJOB_ANNOTATION_CATCH_UP_WINDOW,
                                     err ? err : "negative duration") < 0
                           ? -ENOMEM
                           : -EINVAL;
        t->window_sec = nsec / 1000000000;
        return 0;
}

int cronjob_times_from_object(const cJSON *cj, CronJobTimes *t, bool *ret_dst_cron, char **ret_error)
{
        const cJSON *sds = json_path(cj, "spec.startingDeadlineSeconds");
        bool set;

        *t = (CronJobTimes){.deadline_sec = -1, .window_sec = -1};
        *ret_dst_cron = false;
        t->creation = time_field(cj, "metadata.creationTimestamp", &set);
        t->last_schedule = time_field(cj, "status.lastScheduleTime", &t->has_last_schedule);
        if (cJSON_IsNumber(sds) && sds->valuedouble >= 0)
                t->deadline_sec = sds->valuedouble > 1e12 ? (int64_t)1e12 : (int64_t)sds->valuedouble;
        return parse_policies(cj, t, ret_dst_cron, ret_error);
}
