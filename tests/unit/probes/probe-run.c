/* One probe run as the probes' unit tests watch it: see probe-run.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "event-run.h"
#include "probe-run.h"

void probe_run_on_done(const ProbeOutcome *o, void *userdata)
{
        ProbeRun *r = userdata;

        cr_assert_not(r->starting, "done was called from inside the start call");
        r->calls++;
        r->result = o->result;
        free(r->message);
        r->message = o->message ? strdup(o->message) : NULL;
        cr_assert(!o->message || r->message);
        r->finished = now_usec(CLOCK_MONOTONIC);
        /* the implementation frees the call after done returns: a cancel here is a no-op */
        if (r->cancel_in_done)
                probe_call_cancel(r->call);
}

static bool reported(void *userdata)
{
        return ((ProbeRun *)userdata)->calls > 0;
}

void probe_run_wait(ProbeRun *r, sd_event *e, usec_t max)
{
        r->starting = false;
        cr_assert_eq(r->calls, 0);
        (void)event_run_until(e, reported, r, max);
        cr_assert_eq(r->calls, 1, "done was called %d times", r->calls);
}

void probe_run_clear(ProbeRun *r)
{
        free(r->message);
        *r = (ProbeRun){};
}
