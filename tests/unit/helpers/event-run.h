/* Running a test's own sd-event loop until something has happened or a time is up. The loop
 * waits as the agent's does, with no timeout of its own, so that a timer that fires late
 * (coalesced by sd-event's default accuracy, say) shows as a slow test instead of being hidden
 * by a poll; a guard timer bounds the whole run. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "util.h"

/* Runs e until cond(userdata) holds (cond NULL: never) or max has passed; true when cond
 * held. For a condition that some source of e brings about (a callback that sets a flag). */
bool event_run_until(sd_event *e, bool (*cond)(void *userdata), void *userdata, usec_t max);
/* The same until *flag is true. */
bool event_run_until_set(sd_event *e, const bool *flag, usec_t max);
/* Runs e for duration, whatever happens: to let stray callbacks show, or between checks of
 * a condition no source of e announces (a process gone, a cgroup emptied). */
void event_run_for(sd_event *e, usec_t duration);
