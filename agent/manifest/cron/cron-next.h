/* Activation times of a parsed CronSpec: robfig/cron v3.0.1's Next() over Go's wall-clock
 * calendar in a TimeZone, including its DST behaviour (skipped and repeated hours). */
#pragma once

#include <stdint.h>

#include "cron-spec.h"
#include "tz.h"

/* robfig/cron v3.0.1 SpecSchedule.Next / ConstantDelaySchedule.Next: the first activation
 * strictly after `after` (seconds since the epoch), evaluated in tz (ignored for @every).
 * Returns 0 when there is none within robfig's five-year search window, and always for
 * "@reboot", which runs at boot and never on a timer. */
int64_t cron_next(const CronSpec *spec, const TimeZone *tz, int64_t after);
