/* The Job controller: a level-triggered reconciler of batch/v1 Jobs that creates their pods
 * from spec.template (the pod controller runs them), counts finished pods exactly once,
 * and writes the Job's status and conditions as Kubernetes' job controller does
 * (SEMANTICS.md section 3). Everything is re-derived from the store on every sync. */
#pragma once

#include <systemd/sd-event.h>

#include "store.h"

typedef struct JobController JobController;

typedef struct JobControllerOptions {
        const char *node_name;
} JobControllerOptions;

int job_controller_new(JobController **ret, sd_event *e, Store *store, const JobControllerOptions *o);
JobController *job_controller_free(JobController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(JobController *, job_controller_free);

/* Called by the manager for every committed store change (any kind): Job changes enqueue
 * the Job; Pod changes enqueue the Job named by the pod's controller ownerReference. */
void job_controller_on_store_change(JobController *c, StoreChange change, const cJSON *obj);
/* Enqueues every Job (agent start, SIGHUP). */
int job_controller_resync(JobController *c);
