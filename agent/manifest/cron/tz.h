/* IANA time zones read from the system's TZif files, with the lookups Go's time package
 * does on them: the offset in force at an instant, time.Date's wall-clock resolution
 * (missing and repeated local times), wall-clock fields and RFC 3339 rendering. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct TimeZone TimeZone;

/* Loads an IANA zone from the system zoneinfo (TZDIR, else /usr/share/zoneinfo) by parsing
 * the TZif file (v1/v2/v3; 64-bit data; the POSIX TZ footer rule for instants after the last
 * transition). name NULL or "" or "Local" = the local zone ($TZ if set, else /etc/localtime,
 * else UTC); "UTC" is built in. -ENOENT unknown zone, -EINVAL invalid name or file. Loaded
 * zones may be cached: callers always call tz_unref(). */
int tz_load(const char *name, TimeZone **ret);
TimeZone *tz_ref(TimeZone *tz);
TimeZone *tz_unref(TimeZone *tz);
const char *tz_name(const TimeZone *tz); /* "America/New_York", "Local", "UTC" */

/* Offset east of UTC (seconds) in force at instant t (seconds since the epoch), and the
 * [start, end) instants between which that offset holds (INT64_MIN/INT64_MAX open ends). */
int tz_lookup(const TimeZone *tz, int64_t t, int *ret_offset, int64_t *ret_start, int64_t *ret_end);

/* Go's time.Date(year, month, day, hour, min, sec, 0, loc): normalises overflowing fields
 * (month 13, day 0, hour 24 ...) and resolves a missing or repeated wall time exactly as Go
 * does (SEMANTICS.md §1.4). Returns the instant. */
int64_t tz_date(const TimeZone *tz, int year, int month, int day, int hour, int min, int sec);

/* The wall-clock fields of instant t in tz (tm_gmtoff set, tm_year+1900 etc. as struct tm). */
void tz_localtime(const TimeZone *tz, int64_t t, struct tm *ret);

/* RFC 3339 with the zone's offset: "2012-03-11T03:00:00-04:00" ("Z" for offset 0 only when
 * the zone is UTC, as Go prints it). */
int tz_format_rfc3339(const TimeZone *tz, int64_t t, char *buf, size_t size);

static inline void tz_unrefp(TimeZone **p)
{
        if (*p)
                tz_unref(*p);
}
#define _cleanup_tz_ __attribute__((cleanup(tz_unrefp)))
