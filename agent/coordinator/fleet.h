/* The fleet (cluster mode): the objects every agent shares and every agent's pods, through the
 * coordinator's etcd. Keys under the coordinator's prefix:
 *
 *   objects/<Kind>/<namespace>/<name>   a fleet object as the user gave it (cluster-scoped kinds:
 *                                       namespace "_"): apiVersion, kind, metadata (name,
 *                                       namespace, uid, creationTimestamp, labels, annotations)
 *                                       and every other top-level field but status (spec; data,
 *                                       binaryData, stringData, type, immutable). JSON, not
 *                                       leased: it outlives the agent that wrote it.
 *   pods/<node>/<namespace>/<name>      a pod of <node> as its agent stores it (status
 *                                       included), bound to that node's lease: gone with it.
 *   pod-deletions/<node>/<ns>/<name>    another agent's request that <node> delete its pod
 *                                       (fleet_delete_pod()).
 *
 * Fleet kinds (fleet_kind()): Namespace, ConfigMap, Secret, Service, StatefulSet, DaemonSet,
 * CronJob. Pods, Jobs, claims and the rest stay on the agent that was given them (a pod runs
 * where it was applied); every agent sees the others' pods through fleet_pods().
 *
 * Local → etcd: a fleet object created, changed or deleted in this agent's store by anyone but
 * the fleet itself (the API, the manifest directory, `berth scale`) is written to etcd (put of
 * its fleet form when that differs from the one known there; delete). This node's pods
 * (spec.nodeName this node) are written under pods/<node>/, bound to the current lease,
 * coalesced (at once after a quiet spell, else at most one flush of the changed pods per
 * FLEET_POD_DELAY), and all written again under each new lease. Writes that fail are retried
 * with back-off; nothing is lost while etcd is away.
 *
 * etcd → local: changes of objects/ made by others are applied to the local store with the
 * writer's uid and creationTimestamp (store_apply_replica()); deletions delete (background
 * propagation). Each (re)connection (coordinator READY after CONNECTING, or the watch
 * broken/compacted) lists objects/ and reconciles with the store using a bookkeeping record
 * in the store's kv table (per object: the etcd mod revision and the local resourceVersion
 * of the last sync):
 *   - in both: changed locally since the last sync and unchanged in etcd → published; else
 *     etcd's form applied when it differs;
 *   - only in etcd: synced before and deleted locally since, etcd unchanged → deleted from
 *     etcd; else applied locally;
 *   - only local: synced before → deleted elsewhere, deleted locally; never synced → published.
 * The local store's changes of status, resourceVersion or generation are never published.
 *
 * Nothing is written to the store from inside fleet_on_store_change(): writes are deferred to
 * the loop. Callbacks run on the loop. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include <cjson/cJSON.h>

#include "coordinator.h"
#include "store.h"

#define FLEET_POD_DELAY (100 * USEC_PER_MSEC)

typedef struct Fleet Fleet;

typedef struct FleetCallbacks {
        /* Another node's pod appeared, changed or went (pod: its last state, borrowed for the
         * call): the owner re-syncs what depends on it (the StatefulSet or DaemonSet it names
         * as controller, the /etc/hosts of its subdomain). */
        void (*on_pod)(Fleet *f, StoreChange change, const cJSON *pod, void *userdata);
        void *userdata;
} FleetCallbacks;

bool fleet_kind(const char *kind);

/* co must be an etcd coordinator (-EINVAL otherwise) and outlive the fleet (free the fleet
 * first: its calls are on the coordinator's etcd client). Starts once the coordinator is READY
 * (fleet_on_coordinator_state(); at once when it is already). The bookkeeping of the last sync
 * is the store's kv key "fleet/<Kind>/<namespace or _>/<name>": {"mod": N, "rv": "..."}. */
int fleet_new(Fleet **ret, sd_event *e, Store *store, Coordinator *co, const FleetCallbacks *cb);
Fleet *fleet_free(Fleet *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Fleet *, fleet_free);

/* The manager forwards every committed store change and every coordinator state change. */
void fleet_on_store_change(Fleet *f, StoreChange change, const cJSON *obj);
void fleet_on_coordinator_state(Fleet *f, CoordinatorState state);

/* True once objects/ and pods/ were listed since the last (re)connection: until then the
 * fleet view is incomplete (a StatefulSet must not claim on it). */
bool fleet_synced(const Fleet *f);

/* Other nodes' pods as known from the watch (never this node's: those are in the store), in
 * namespace ns (NULL: all), sorted by namespace then name: a JSON array, borrowed until the
 * next change reported or the next call. NULL only when out of memory. */
const cJSON *fleet_pods(Fleet *f, const char *ns);
/* One of them (ns NULL: "default"), or NULL. */
const cJSON *fleet_pod(Fleet *f, const char *ns, const char *name);
/* Asks pod's node (spec.nodeName, another node) to delete it as its API would, with grace_sec
 * (< 0: the pod's own), on the pod with pod's uid only: a request under
 * pod-deletions/<node>/<ns>/<name>, not leased, that the node runs when it sees it and then
 * deletes. 0 once sent (a failure to write it is logged), -EAGAIN while the fleet is not
 * listed or the coordinator not READY, -EINVAL for a pod without node or name. */
int fleet_delete_pod(Fleet *f, const cJSON *pod, int64_t grace_sec);
