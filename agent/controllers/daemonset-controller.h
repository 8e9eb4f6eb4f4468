/* The DaemonSet controller on one node: a level-triggered reconciler of apps/v1 DaemonSets
 * that runs one daemon pod on this node while the node is eligible (SEMANTICS.md section
 * 6), replaces failed pods with back-off, rolls pods to a new template (RollingUpdate with
 * maxUnavailable or maxSurge, or OnDelete) and writes the DaemonSet's status as Kubernetes'
 * daemon set controller does. Everything is re-derived from the store on every sync. */
#pragma once

#include <systemd/sd-event.h>

#include "coordinator.h"
#include "fleet.h"
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

/* Cluster mode (an etcd coordinator): desiredNumberScheduled and the other counts are the
 * fleet's (the registered nodes' eligibility, every node's pods of the set from the fleet), and
 * a rolling update without surge takes one of maxUnavailable fleet-wide roll-out slots before
 * it deletes this node's old available pod, giving it back once the new pod is available (or
 * no pod should run here any more). Both outlive the controller. */
void daemonset_controller_set_cluster(DaemonSetController *c, Coordinator *co, Fleet *fleet);
/* Registrations or slots of other nodes changed: every set is synced again. */
void daemonset_controller_on_claims_changed(DaemonSetController *c);
/* Another node's pod changed: the set it names as controller is synced again. */
void daemonset_controller_on_fleet_pod(DaemonSetController *c, const cJSON *pod);
