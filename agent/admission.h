/* Admission: what this agent refuses at apply time beyond the Kubernetes API rules,
 * because of how it is configured. Today: with the host runtime, every container (of a Pod
 * or of a workload's pod template) needs a command, as there is no image entrypoint. */
#pragma once

#include <cjson/cJSON.h>

#include "field-errors.h"

typedef struct AdmissionContext {
        bool host_runtime;
} AdmissionContext;

/* Appends the problems of obj to errs, with Kubernetes field paths. Returns the number of
 * errors added (>= 0) or -ENOMEM. */
int admission_check(const AdmissionContext *ctx, const cJSON *obj, FieldErrors *errs);
