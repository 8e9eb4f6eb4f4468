/* The CronJob controller's time arithmetic, pure and clock-free (now is an argument):
 * mostRecentScheduleTime, nextScheduleTime and nextScheduleTimeDuration of Kubernetes'
 * cronjob utils.go, plus berth's opt-in catch-up and DST policies (see cronjob-schedule.c).
 * Schedule times are int64 seconds since the epoch; now and requeue times are usec. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "cron-spec.h"
#include "util.h"

#include "cron-next.h"
#include "tz.h"

/* Kubernetes' nextScheduleDelta: requeue 100ms after the scheduled second. */
#define CRONJOB_NEXT_SCHEDULE_DELTA_USEC (100 * USEC_PER_MSEC)
/* More missed times than this emit the TooManyMissedTimes warning. */
#define CRONJOB_TOO_MANY_MISSED 100
/* berth.dev/catch-up: skip - a time seen later than this after it passed counts as missed. */
#define CRONJOB_SKIP_GRACE_SEC 30

#define CRONJOB_ANNOTATION_CATCH_UP "berth.dev/catch-up"
#define CRONJOB_ANNOTATION_CATCH_UP_WINDOW "berth.dev/catch-up-window"
#define CRONJOB_ANNOTATION_DST "berth.dev/dst"

typedef enum CronJobCatchUp {
        CRONJOB_CATCH_UP_LATEST, /* Kubernetes: the most recent time within startingDeadlineSeconds */
        CRONJOB_CATCH_UP_SKIP,   /* never a missed time, only the ones met on time */
        CRONJOB_CATCH_UP_ALL,    /* every missed time within the window, oldest first */
} CronJobCatchUp;

typedef enum CronJobMissed {
        CRONJOB_MISSED_NONE,
        CRONJOB_MISSED_FEW,
        CRONJOB_MISSED_MANY,
} CronJobMissed;

/* A parsed schedule bound to the zone it runs in (both borrowed). */
typedef struct CronJobSchedule {
        const CronSpec *spec;
        const TimeZone *tz;
        bool dst_cron; /* berth.dev/dst: cron */
} CronJobSchedule;

/* The CronJob fields the arithmetic reads. */
typedef struct CronJobTimes {
        int64_t creation;      /* metadata.creationTimestamp */
        int64_t last_schedule; /* status.lastScheduleTime, when has_last_schedule */
        bool has_last_schedule;
        int64_t deadline_sec; /* spec.startingDeadlineSeconds, -1 = nil */
        CronJobCatchUp catch_up;
        int64_t window_sec; /* berth.dev/catch-up-window, -1 = none */
} CronJobTimes;

/* Fills t from a CronJob object (defaults for anything missing). Returns 0, or -EINVAL with
 * a message in *ret_error when a berth.dev/ annotation is malformed (t then holds the
 * Kubernetes defaults for that annotation), or -ENOMEM. */
int cronjob_times_from_object(const cJSON *cj, CronJobTimes *t, bool *ret_dst_cron, char **ret_error);

/* The schedule's first activation strictly after `after` (robfig Next, adjusted by the DST
 * policy); 0 when there is none within robfig's five-year search. */
int64_t cronjob_schedule_next(const CronJobSchedule *s, int64_t after);

/* Kubernetes mostRecentScheduleTime, exact (including the irregular-schedule nil quirk).
 * *ret_earliest is in usec (it may carry now's fraction), *ret_recent is 0 for nil.
 * Returns 0, or -EDOM ("time difference between two schedules is less than 1 second"). */
int cronjob_schedule_most_recent(const CronJobSchedule *s, const CronJobTimes *t, usec_t now,
                                 bool include_sds, usec_t *ret_earliest, int64_t *ret_recent,
                                 CronJobMissed *ret_missed);
#define CRONJOB_SCHEDULE_ERROR "time difference between two schedules is less than 1 second"

/* nextScheduleTime under the catch-up policy: the time to launch now (0 = none). */
int cronjob_schedule_next_time(const CronJobSchedule *s, const CronJobTimes *t, usec_t now,
                               int64_t *ret_time, CronJobMissed *ret_missed);

/* When to look at the CronJob again (absolute CLOCK_REALTIME usec; nextScheduleTimeDuration
 * plus now), USEC_INFINITY for never. */
usec_t cronjob_schedule_requeue_at(const CronJobSchedule *s, const CronJobTimes *t, usec_t now);

/* The startingDeadlineSeconds the policy uses (-1 = none): catch-up skip caps it. */
int64_t cronjob_times_deadline(const CronJobTimes *t);
