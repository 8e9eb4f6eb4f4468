/* Shared by the handler implementations: every run is a ProbeCall whose first member is
 * this header, so that probe_call_cancel() works whatever the handler. */
#pragma once

#include "probe.h"

struct ProbeCall {
        /* stops the run and frees it, without calling its callback */
        void (*cancel)(ProbeCall *c);
};

/* Go's syscall errno texts, which the kubelet's messages carry: glibc's with a lower-case
 * first letter ("connection refused"). */
void probe_errno_text(int err, char *buf, size_t size);
