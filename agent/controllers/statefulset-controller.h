/* The StatefulSet controller: a level-triggered reconciler of apps/v1 StatefulSets as
 * Kubernetes' stateful_set_control.go is (SEMANTICS.md section 5): pods "<set>-<ordinal>"
 * with a stable identity and their PersistentVolumeClaims from volumeClaimTemplates,
 * OrderedReady or Parallel pod management, RollingUpdate (partition, maxUnavailable) and
 * OnDelete updates tracked by ControllerRevision objects, the claim retention policy and
 * the set's status. The pod controller runs the pods, the volume controller binds the
 * claims. Single node: this node owns every ordinal. */
#pragma once

#include <systemd/sd-event.h>

#include "store.h"

typedef struct StatefulSetController StatefulSetController;

typedef struct StatefulSetControllerOptions {
        const char *node_name;
} StatefulSetControllerOptions;

int statefulset_controller_new(StatefulSetController **ret, sd_event *e, Store *store,
                               const StatefulSetControllerOptions *o);
StatefulSetController *statefulset_controller_free(StatefulSetController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StatefulSetController *, statefulset_controller_free);

/* Called by the manager for every committed store change (any kind): StatefulSet changes
 * enqueue the set; Pod and PersistentVolumeClaim changes enqueue the set named by their
 * controller ownerReference, or whose selector and "<set>-<ordinal>" /
 * "<template>-<set>-<ordinal>" name they match. A removed pod's claims that it controls
 * (whenScaled: Delete) are deleted, as the garbage collector would. */
void statefulset_controller_on_store_change(StatefulSetController *c, StoreChange change, const cJSON *obj);
/* Enqueues every StatefulSet (agent start, SIGHUP). Returns 0 or a negative errno. */
int statefulset_controller_resync(StatefulSetController *c);
/* Cluster mode without ordinal claims: sets are stored but not run (an event says why). */
void statefulset_controller_set_held(StatefulSetController *c, bool held);
