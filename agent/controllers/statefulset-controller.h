/* The StatefulSet controller: a level-triggered reconciler of apps/v1 StatefulSets as
 * Kubernetes' stateful_set_control.go is (SEMANTICS.md section 5): pods "<set>-<ordinal>"
 * with a stable identity and their PersistentVolumeClaims from volumeClaimTemplates,
 * OrderedReady or Parallel pod management, RollingUpdate (partition, maxUnavailable) and
 * OnDelete updates tracked by ControllerRevision objects, the claim retention policy and
 * the set's status. The pod controller runs the pods, the volume controller binds the
 * claims. Single node: this node owns every ordinal. Cluster mode (an etcd coordinator): this
 * node runs the ordinals it claimed through the coordinator (statefulset-cluster.c). */
#pragma once

#include <systemd/sd-event.h>

#include "coordinator.h"
#include "fleet.h"
#include "store.h"

/* The annotation of a set that lets a node run more than one of its ordinals (cluster mode). */
#define STS_ANNOTATION_MAX_PER_NODE "berth.dev/max-ordinals-per-node"

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
/* Cluster mode: ordinals are claimed through co (an etcd coordinator) and the other nodes' pods
 * of a set are read from fleet. Both outlive the controller. */
void statefulset_controller_set_cluster(StatefulSetController *c, Coordinator *co, Fleet *fleet);
/* The coordinator's state changed: anything but READY stops every pod of this node's ordinals
 * at once (fail closed: before the lease can expire and another node take them); READY
 * re-syncs every set. */
void statefulset_controller_on_coordinator_state(StatefulSetController *c, CoordinatorState state);
/* At start in cluster mode: until `until` (CLOCK_REALTIME) or the coordinator's first state
 * change, whichever comes first, the pods of ordinals are neither stopped nor made, since the
 * previous run's lease may be resumed with its claims; `until` is when that lease could have
 * been lost (its last renewal + ttl - COORDINATOR_SAFETY_MARGIN), the moment the previous run
 * would have stopped them itself. 0: no hold. */
void statefulset_controller_hold_until(StatefulSetController *c, usec_t until);
/* Claims of other nodes changed: every set is synced again. */
void statefulset_controller_on_claims_changed(StatefulSetController *c);
/* Another node's pod changed: its set is synced again. */
void statefulset_controller_on_fleet_pod(StatefulSetController *c, const cJSON *pod);
/* `berth release`: gives up the data binding of ordinal of ns/set wherever it is (the data on
 * that node is abandoned), so that another node may run the ordinal. 0 when the request was
 * sent (the outcome is logged and recorded as an event of the set), -EOPNOTSUPP without a
 * cluster, -ENOENT without the set, -ERANGE for an ordinal below the set's start, -EAGAIN
 * while the coordinator is not ready. */
int statefulset_controller_release(StatefulSetController *c, const char *ns, const char *set,
                                   unsigned ordinal);
