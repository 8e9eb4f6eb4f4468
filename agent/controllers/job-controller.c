/* The Job controller's loop side: the work queue, store notifications (a Job's own changes
 * and its pods' changes, found through the pod's controller ownerReference) and resync. */
#include <string.h>

#include "job-internal.h"
#include "json-util.h"
#include "log.h"

static int on_sync(void *userdata, const char *ns, const char *name)
{
        return job_sync(userdata, ns, name);
}

void job_controller_on_store_change(JobController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *ns = json_str(obj, "metadata.namespace");
        const cJSON *ref;

        (void)change;
        if (!c || !kind)
                return;
        if (streq(kind, "Job")) {
                workqueue_add(c->queue, ns ?: "default", json_str(obj, "metadata.name"));
                return;
        }
        if (!streq(kind, "Pod"))
                return;
        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false) && streq_ptr(json_str(ref, "kind"), "Job") &&
                    streq_ptr(json_str(ref, "apiVersion"), "batch/v1") && json_str(ref, "name"))
                        workqueue_add(c->queue, ns ?: "default", json_str(ref, "name"));
}

int job_controller_resync(JobController *c)
{
        return workqueue_add_all(c->queue, c->store, "Job");
}

int job_controller_new(JobController **ret, sd_event *e, Store *store, const JobControllerOptions *o)
{
        _cleanup_(job_controller_freep) JobController *c = calloc(1, sizeof(JobController));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->store = store;
        c->node_name = strdup(o && o->node_name ? o->node_name : "");
        if (!c->node_name)
                return -ENOMEM;
        r = workqueue_new(&c->queue, e, "job-controller", on_sync, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->queue, "Job");
        *ret = TAKE_PTR(c);
        return 0;
}

JobController *job_controller_free(JobController *c)
{
        if (!c)
                return NULL;
        workqueue_free(c->queue);
        free(c->node_name);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
