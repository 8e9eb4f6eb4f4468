/* One probe run as the probes' unit tests watch it: the outcome copied out of the done
 * callback, when it came, and checks of the callback contract in probe.h (never from inside
 * the start call, exactly once). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "probe.h"

typedef struct ProbeRun {
        bool starting;       /* inside the start call: done must not come now */
        bool cancel_in_done; /* done cancels the call, which must do nothing */
        int calls;
        ProbeResult result;
        char *message; /* a copy, NULL when the outcome had none */
        usec_t finished;
        ProbeCall *call;
} ProbeRun;

/* A probe_done_t for a ProbeRun. */
void probe_run_on_done(const ProbeOutcome *o, void *userdata);
/* Once the start call has returned: checks that done has not run yet, runs e until it has
 * (at most max) and checks that it ran exactly once. */
void probe_run_wait(ProbeRun *r, sd_event *e, usec_t max);
/* Frees the message and makes r ready for the next run. */
void probe_run_clear(ProbeRun *r);
