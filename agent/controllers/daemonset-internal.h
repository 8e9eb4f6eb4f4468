/* Internal layout of the DaemonSet controller, shared by daemonset-controller.c (queue,
 * wiring, the failed-pod back-off), daemonset-claim.c (adoption), daemonset-pods.c (pods
 * from the template, revision hash, pod order and availability), daemonset-sync.c
 * (syncDaemonSet: manage and status), daemonset-update.c (the rolling update) and
 * daemonset-cluster.c (fleet-wide counts and roll-out slots in cluster mode). */
#pragma once

#include <cjson/cJSON.h>

#include "daemonset-controller.h"
#include "set-calls.h"
#include "util.h"
#include "workqueue.h"

#define DAEMONSET_LABEL_REVISION_HASH "controller-revision-hash"
#define DAEMONSET_LABEL_TEMPLATE_GENERATION "pod-template-generation"
#define DAEMONSET_ANNOTATION_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"
/* names.MaxGeneratedNameLength */
#define DAEMONSET_MAX_GENERATED_NAME_LENGTH 58
/* kube-controller-manager passes flowcontrol.NewBackOff(1*time.Second, 15*time.Minute) as
 * failedPodsBackoff (cmd/kube-controller-manager/app/apps.go), keyed
 * "<ds uid>/<status.observedGeneration>/<node>"; an entry expires 2 * max after its last
 * update. The brief's fallback of 1 s..15 s was not needed: upstream's values are used. */
#define DAEMONSET_FAILED_POD_BACKOFF_USEC (1 * USEC_PER_SEC)
#define DAEMONSET_FAILED_POD_MAX_BACKOFF_USEC (15 * 60 * USEC_PER_SEC)

typedef struct DaemonSetBackoff {
        char *key;
        usec_t backoff;
        usec_t last_update; /* CLOCK_BOOTTIME */
} DaemonSetBackoff;

struct DaemonSetController {
        sd_event *event;
        Store *store;
        char *node_name;
        WorkQueue *queue;
        DaemonSetBackoff *backoffs;
        size_t n_backoffs;
        /* cluster mode (daemonset-cluster.c): NULL co on a single node */
        Coordinator *co;
        Fleet *fleet;
        SetCall *slots; /* DsSlot per set: the slot call in flight and the slot won */
};

/* daemonset-controller.c: flowcontrol.Backoff, now on CLOCK_BOOTTIME.
 * IsInBackOffSinceUpdate: true (with the entry's current delay) while now - lastUpdate <
 * backoff of an unexpired entry. */
bool daemonset_backoff_active(DaemonSetController *c, const char *key, usec_t now, usec_t *ret_delay);
/* Next: a new or expired entry starts at 1 s, else doubles up to 15 min. 0 or -ENOMEM. */
int daemonset_backoff_next(DaemonSetController *c, const char *key, usec_t now);

/* One sync of one DaemonSet. */
typedef struct DaemonSetSync {
        DaemonSetController *c;
        const char *ns, *name;
        cJSON *ds;
        cJSON *node; /* this node's Node object; NULL when it is not registered */
        cJSON *pods; /* the pods the set controls */
        /* its pods on this node, less terminal ones being deleted (getNodesToDaemonPods) */
        const cJSON **on_node;
        size_t n_on_node;
        char hash[16];
        int64_t generation; /* template generation, -1 when none */
        int64_t min_ready_sec;
        bool should_run, should_continue;
        usec_t now; /* CLOCK_REALTIME, for Ready lastTransitionTime */
        unsigned n_created, n_deleted;
        usec_t requeue_at; /* CLOCK_REALTIME; 0: none */
        /* cluster mode (daemonset-cluster.c) */
        bool cluster;
        int fleet_desired; /* the registered nodes that should run the set */
        bool slot_held;    /* won under the current lease, and the coordinator READY */
} DaemonSetSync;

/* daemonset-pods.c */
/* ComputeHash's role: FNV-32a of the canonical JSON (keys sorted, compact) of
 * spec.template, as SafeEncodeString of its decimal form. 0 or -ENOMEM. */
int daemonset_template_hash(const cJSON *ds, char ret[static 16]);
/* GetTemplateGeneration: the deprecated.daemonset.template.generation annotation the
 * apiserver keeps; berth's store keeps none, so spec.templateGeneration, else
 * metadata.generation (it only grows, and grows with every template change, which is all
 * IsPodUpdated needs). -1 when the annotation is malformed. */
int64_t daemonset_template_generation(const cJSON *ds);
/* The daemon pod for node: template metadata and spec, the hash and generation labels,
 * the controller ownerReference, the default tolerations, the node's affinity and
 * spec.nodeName. */
int daemonset_pod_build(const cJSON *ds, const char *node, const char *hash, int64_t generation,
                        cJSON **ret);
bool daemonset_pod_is_ready(const cJSON *pod);
/* IsPodAvailable: Ready, and Ready since more than min_ready_sec (0: at once). When Ready but
 * not yet available, *ret_at (optional) gets the time it becomes available. */
bool daemonset_pod_is_available(const cJSON *pod, int64_t min_ready_sec, usec_t now, usec_t *ret_at);
/* IsPodUpdated: the revision hash label is hash, or the template generation label is
 * generation (>= 0). */
bool daemonset_pod_is_updated(const cJSON *pod, const char *hash, int64_t generation);
/* podByCreationTimestampAndPhase: bound pods first, then oldest, then by name. */
int daemonset_pod_compare(const void *a, const void *b);
/* GetScaledValueFromIntOrPercent(v, total, roundUp=true); a missing value is 0, a
 * malformed one -EINVAL. */
int daemonset_scaled_value(const cJSON *v, int total, int *ret);
/* SurgeCount / UnavailableCount of the set for number nodes to schedule (0 unless
 * RollingUpdate). */
int daemonset_surge_count(const cJSON *ds, int number);
int daemonset_unavailable_count(const cJSON *ds, int number);

/* daemonset-claim.c: ClaimPods, adopting matching orphans and releasing unmatched pods. */
int daemonset_claim_pods(DaemonSetSync *s);

/* daemonset-sync.c */
void daemonset_sync_requeue_at(DaemonSetSync *s, usec_t at);
int daemonset_sync_create_pod(DaemonSetSync *s);
int daemonset_sync_delete_pod(DaemonSetSync *s, const cJSON *pod);
int daemonset_sync(DaemonSetController *c, const char *ns, const char *name);

/* daemonset-update.c: rollingUpdate for this node. */
int daemonset_rolling_update(DaemonSetSync *s);

/* daemonset-cluster.c */
/* Fills the cluster fields of s (nothing on a single node): the fleet's desired count and
 * whether this node holds a roll-out slot of the set. */
int daemonset_cluster_prepare(DaemonSetSync *s);
/* The status counts (write_status' order: desired, current, misscheduled, ready, updated,
 * available, unavailable) over the registered nodes and every node's pods of the set. -EAGAIN
 * while the fleet has not listed the other nodes' pods (the status is then left as it is). */
int daemonset_cluster_counts(DaemonSetSync *s, int64_t v[static 7]);
/* The rolling update wants this node's available old pod gone: deleted while this node holds a
 * slot of the set, else one is claimed (max slots, 1..COORDINATOR_MAX_SLOTS) and the set synced
 * again with the outcome. */
int daemonset_cluster_replace(DaemonSetSync *s, const cJSON *old_pod, int max);
/* End of a sync: a slot this node holds is given back once its pod is updated and available,
 * or no pod should run here. */
int daemonset_cluster_finish(DaemonSetSync *s);
/* The set is gone or being deleted: its slot, if this node holds one, is given back. */
void daemonset_cluster_forget(DaemonSetController *c, const char *ns, const char *name);
void daemonset_cluster_cancel_all(DaemonSetController *c);
