/* Running a test's own sd-event loop: see event-run.h. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <time.h>

#include "event-run.h"

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

bool event_run_until(sd_event *e, bool (*cond)(void *userdata), void *userdata, usec_t max)
{
        sd_event_source *guard = NULL;
        bool expired = false, held;

        cr_assert_geq(sd_event_add_time_relative(e, &guard, CLOCK_MONOTONIC, max, 1, on_deadline, &expired),
                      0);
        while (!(held = cond && cond(userdata)) && !expired)
                cr_assert_geq(sd_event_run(e, UINT64_MAX), 0);
        sd_event_source_disable_unref(guard);
        return held;
}

static bool is_set(void *flag)
{
        return *(const bool *)flag;
}

bool event_run_until_set(sd_event *e, const bool *flag, usec_t max)
{
        return event_run_until(e, is_set, (void *)flag, max);
}

void event_run_for(sd_event *e, usec_t duration)
{
        (void)event_run_until(e, NULL, NULL, duration);
}
