/* Reading a Pod object the way several controllers need it. */
#include "pod-object.h"

#include "json-util.h"
#include "macro.h"

const cJSON *pod_condition(const cJSON *pod, const char *type)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, json_path(pod, "status.conditions"))
                if (streq_ptr(json_str(c, "type"), type))
                        return c;
        return NULL;
}

bool pod_is_ready(const cJSON *pod)
{
        return streq_ptr(json_str(pod_condition(pod, "Ready"), "status"), "True");
}
