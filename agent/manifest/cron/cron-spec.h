/* The CronJob schedule grammar of robfig/cron v3.0.1 ParseStandard (what the Kubernetes
 * apiserver accepts in spec.schedule): five fields or an @descriptor, optionally behind a
 * TZ=/CRON_TZ= prefix, parsed into one bit set per field. Computing activation times is
 * left to a separate step that reads the CronSpec.
 *
 * One berth extension: "@reboot" (exactly that, like the other descriptors), cron's "once
 * at startup". It has no activation times; the CronJob controller launches such a CronJob
 * once per boot of the machine instead. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Set in a field when it was written as "*" or "?" (also "*\/1") and in the fields a
 * descriptor fills with "all": with a star in day-of-month or day-of-week the two day
 * fields are ANDed, otherwise ORed (robfig dayMatches). */
#define CRON_STAR_BIT (UINT64_C(1) << 63)

#define CRON_USEC_PER_SEC UINT64_C(1000000)

typedef struct CronSpec {
        /* Bit n set = value n matches. minute 0-59, hour 0-23, dom 1-31, month 1-12,
         * dow 0-6 (0 = Sunday). Seconds are always 0. Unused for @every. */
        uint64_t minute, hour, dom, month, dow;
        /* @every <duration>: the constant delay as robfig's Every() rounds it (whole
         * seconds, at least one second); 0 for field schedules. */
        uint64_t every_usec;
        /* "@reboot" (berth extension): no times at all, once per boot. */
        bool reboot;
        /* Zone of a TZ=/CRON_TZ= prefix ("" for UTC as Go reads "TZ= ..."), or NULL when
         * the spec had none (the schedule then runs in the caller's zone). */
        char *location;
} CronSpec;

/* Parses spec. On success returns 0 and a new CronSpec. On a grammar error returns -EINVAL
 * and, when ret_error is not NULL, robfig's error text ("end of range (7) above maximum
 * (6): 7"); -ENOMEM on allocation failure. */
int cron_spec_parse(const char *spec, CronSpec **ret, char **ret_error);
CronSpec *cron_spec_free(CronSpec *spec);

static inline void cron_spec_freep(CronSpec **p)
{
        if (*p)
                cron_spec_free(*p);
}
#define _cleanup_cron_spec_ __attribute__((cleanup(cron_spec_freep)))

static inline bool cron_spec_is_every(const CronSpec *spec)
{
        return spec->every_usec > 0;
}

static inline bool cron_spec_is_reboot(const CronSpec *spec)
{
        return spec->reboot;
}

/* Checks that name is a time zone Go's time.LoadLocation would load from the system
 * zoneinfo ("", "UTC" and "Local" are built in). Returns 0, or -EINVAL with Go's text
 * ("unknown time zone Mars/Base", "time: invalid location name") in *ret_error, or
 * -ENOMEM. */
int cron_spec_check_location(const char *name, char **ret_error);

/* Go's time.ParseDuration: "1h30m", "-1.5s", "300ms". Returns 0 and the value in
 * nanoseconds, or -EINVAL with Go's error text ("time: unknown unit \"x\" in duration
 * \"1x\"") in *ret_error, or -ENOMEM. */
int cron_spec_parse_go_duration(const char *s, int64_t *ret_nsec, char **ret_error);
