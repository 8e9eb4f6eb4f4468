/* Reading a Pod object the way several controllers need it. */
#pragma once

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The status condition of that type ("Ready", "PodScheduled"...), or NULL. */
const cJSON *pod_condition(const cJSON *pod, const char *type);
/* Its Ready condition is True. */
bool pod_is_ready(const cJSON *pod);
