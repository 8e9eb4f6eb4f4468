/* The DaemonSet controller on one node: a level-triggered reconciler of apps/v1 DaemonSets
 * that runs one daemon pod on this node while the node is eligible (SEMANTICS.md section
 * 6), replaces failed pods with back-off, rolls pods to a new template (RollingUpdate with
 * maxUnavailable or maxSurge, or OnDelete) and writes the DaemonSet's status as Kubernetes'
 * daemon set controller does. Everything is re-derived from the store on every sync. */
#pragma once

#include <systemd/sd-event.h>

#include "store.h"

typedef struct DaemonSetController DaemonSetController;

typedef struct DaemonSetControllerOptions {
        const char *node_name; /* this node: its Node object decides eligibility */
} DaemonSetControllerOptions;

int daemonset_controller_new(DaemonSetController **ret, sd_event *e, Store *store,
                             const DaemonSetControllerOptions *o);
DaemonSetController *daemonset_controller_free(DaemonSetController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(DaemonSetController *, daemonset_controller_free);

/* Called by the manager for every committed store change (any kind): DaemonSet changes
 * enqueue the set; Pod changes enqueue the DaemonSet named by the pod's controller
 * ownerReference; a change of this node's Node object enqueues every DaemonSet. */
void daemonset_controller_on_store_change(DaemonSetController *c, StoreChange change, const cJSON *obj);
/* Enqueues every DaemonSet (agent start, SIGHUP). */
int daemonset_controller_resync(DaemonSetController *c);
