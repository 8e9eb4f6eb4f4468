/* What all handlers share: result names and cancellation. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "probe-internal.h"

const char *probe_result_to_string(ProbeResult r)
{
        static const char *const names[] = {
            [PROBE_UNKNOWN] = "unknown", [PROBE_SUCCESS] = "success", [PROBE_WARNING] = "warning",
            [PROBE_FAILURE] = "failure", [PROBE_ERROR] = "error",
        };

        return (unsigned)r < ELEMENTSOF(names) ? names[r] : "unknown";
}

void probe_call_cancel(ProbeCall *c)
{
        if (c)
                c->cancel(c);
}

void probe_errno_text(int err, char *buf, size_t size)
{
        const char *s = strerrordesc_np(err);

        snprintf(buf, size, "%s", s ?: "unknown error");
        buf[0] = (char)tolower((unsigned char)buf[0]);
}
