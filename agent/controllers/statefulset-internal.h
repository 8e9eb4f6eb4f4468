/* Internal layout of the StatefulSet controller, shared by statefulset-controller.c (queues
 * and wiring), statefulset-sync.c (updateStatefulSet and the status), statefulset-pods.c
 * (identity, pods and claims from the templates, pod predicates), statefulset-claims.c
 * (the claim retention policy's ownerReferences) and statefulset-revision.c (revision
 * hashes and ControllerRevision history). */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

#include "set-calls.h"
#include "statefulset-controller.h"
#include "util.h"
#include "workqueue.h"

#define STS_LABEL_POD_NAME "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION "controller-revision-hash"
#define STS_LABEL_REVISION_HASH "controller.kubernetes.io/hash"
/* ControllerRevisionName keeps at most this much of the set's name before "-<hash>" */
#define STS_MAX_REVISION_PREFIX 223
/* MaxBatchSize of the Parallel policy's slow-start batches */
#define STS_MAX_BATCH 500

struct StatefulSetController {
        sd_event *event;
        Store *store;
        char *node_name;
        WorkQueue *queue;    /* StatefulSets */
        WorkQueue *claim_gc; /* "<namespace>/<pod uid>": claims of a removed pod */
        /* cluster mode (statefulset-cluster.c): NULL co on a single node */
        Coordinator *co;
        Fleet *fleet;
        SetCall *claims;   /* StsClaimCall: claims and releases in flight, one per set at most */
        usec_t hold_until; /* CLOCK_REALTIME; 0: no start hold */
};

/* The spec with SetDefaults_StatefulSet applied on read; borrowed pointers into the set. */
typedef struct StsParams {
        const char *name, *ns, *uid, *service_name;
        int64_t replicas, start, min_ready_sec, revision_history_limit;
        int64_t partition; /* 0 without rollingUpdate */
        bool parallel, on_delete, has_rolling_update;
        const cJSON *max_unavailable;       /* int or "N%"; NULL: 1 */
        bool scaled_delete, deleted_delete; /* whenScaled / whenDeleted: Delete */
        const cJSON *claim_templates;       /* array or NULL */
        const cJSON *match_labels;          /* selector.matchLabels or NULL */
} StsParams;

void sts_params_from_set(const cJSON *set, StsParams *ret);
/* getStatefulSetMaxUnavailable: int or percent of replicas rounded down, at least 1. */
int64_t sts_max_unavailable(const StsParams *p);

/* statefulset-pods.c */
/* The ordinal of a pod named "<set>-<n>" (regex "(.*)-([0-9]+)$", n an int32), -1 when the
 * name has no ordinal or another parent. */
int64_t sts_pod_ordinal(const char *pod_name, const char *set_name);
bool sts_in_range(const StsParams *p, int64_t ordinal);
/* "<template>-<set>-<ordinal>"; NULL on OOM. */
char *sts_claim_name(const char *template_name, const char *set_name, int64_t ordinal);
/* A controller ownerReference (controller and blockOwnerDeletion true). */
cJSON *sts_controller_ref(const char *api_version, const char *kind, const char *name, const char *uid);
/* newVersionedStatefulSetPod's pod: tmpl (the pod template of the revision) with the set's
 * identity, storage, controller reference and the revision label. */
int sts_pod_build(const StsParams *p, const cJSON *tmpl, int64_t ordinal, const char *revision, cJSON **ret);
/* The claim of template claim_tmpl for ordinal, defaulted as the apiserver would. */
int sts_claim_build(const StsParams *p, const cJSON *claim_tmpl, int64_t ordinal, cJSON **ret);
bool sts_identity_matches(const StsParams *p, const cJSON *pod);
bool sts_storage_matches(const StsParams *p, const cJSON *pod);
/* updateIdentity / updateStorage on a stored pod; 0 or -ENOMEM. */
int sts_update_identity(const StsParams *p, cJSON *pod);
int sts_update_storage(const StsParams *p, cJSON *pod);
bool sts_pod_running_ready(const cJSON *pod);
bool sts_pod_terminating(const cJSON *pod);
bool sts_pod_healthy(const cJSON *pod);
bool sts_pod_failed_or_succeeded(const cJSON *pod);
/* IsPodAvailable: Ready and minReadySeconds past the Ready condition's last transition.
 * When Ready but not yet available, *ret_when (optional) gets the time it becomes so. */
bool sts_pod_available(const cJSON *pod, int64_t min_ready_sec, usec_t now, usec_t *ret_when);
const char *sts_pod_revision(const cJSON *pod);

/* statefulset-claims.c: ownerReferences for persistentVolumeClaimRetentionPolicy (5.4).
 * pod_name/pod_uid name the claim's pod (uid "" or NULL when not created). */
bool sts_claim_owner_up_to_date(const StsParams *p, const cJSON *claim, const char *pod_name,
                                const char *pod_uid, int64_t ordinal);
bool sts_claim_has_unexpected_controller(const StsParams *p, const cJSON *claim, const char *pod_name,
                                         const char *pod_uid);
/* updateClaimOwnerRefForSetAndPod; 0 or -ENOMEM. */
int sts_claim_update_owner_refs(const StsParams *p, cJSON *claim, const char *pod_name, const char *pod_uid,
                                int64_t ordinal);
/* PodClaimIsStale's test for one claim: a reference to the pod's name with another uid. */
bool sts_claim_has_stale_pod_ref(const cJSON *claim, const char *pod_name, const char *pod_uid);

/* statefulset-revision.c */
uint32_t sts_fnv32(const void *data, size_t size, uint32_t h);
#define STS_FNV32_OFFSET 2166136261u
/* rand.SafeEncodeString in place: each byte c becomes "bcdfghjklmnpqrstvwxz2456789"[c % 27]. */
void sts_safe_encode(char *s);
/* A deep copy of j with every object's keys in byte order: the canonical form hashed. */
cJSON *sts_json_canonical(const cJSON *j);
/* The revision data {"spec":{"template":{..., "$patch":"replace"}}} of a pod template. */
int sts_revision_data(const cJSON *tmpl, cJSON **ret);
/* HashControllerRevision: the safe-encoded decimal FNV-32 of the compact canonical data
 * followed by the decimal collision count. buf gets at least 16 bytes. */
int sts_revision_hash(const cJSON *data, int64_t collision_count, char *buf, size_t size);
/* The pod template a revision restores (ApplyRevision); NULL when the data has none. */
cJSON *sts_revision_template(const cJSON *revision);

/* What a sync knows of the other nodes in cluster mode (statefulset-cluster.c). */
typedef struct StsClusterView {
        bool active;    /* cluster mode */
        bool ready;     /* coordinator READY: this node's claims stand */
        bool can_claim; /* and the fleet listed: new claims may be made */
        char **holders; /* holders[ordinal]: the node running it (NULL: free), copies */
        size_t n_holders;
        char **sticky; /* sticky[ordinal]: the node holding its data */
        size_t n_sticky;
        int64_t *mine; /* the ordinals of the set this node holds */
        size_t n_mine;
        int64_t held;         /* n_mine */
        int64_t max_per_node; /* STS_ANNOTATION_MAX_PER_NODE, default 1 */
        cJSON *remote;        /* other nodes' pods of the set, each on the node holding its ordinal */
} StsClusterView;

/* One sync of one set. */
typedef struct StsSync {
        StatefulSetController *c;
        const char *ns, *name;
        usec_t now;
        cJSON *set;
        StsParams p;
        LabelSelector *sel;              /* spec.selector */
        cJSON *pods;                     /* the set's pods (owned or adopted), as stored */
        cJSON *revisions;                /* its ControllerRevisions, sorted by revision number */
        cJSON *current_rev, *update_rev; /* borrowed from revisions */
        cJSON *current_tmpl;             /* the current revision's pod template */
        int64_t collision_count;
        cJSON *status;
        usec_t requeue_at; /* CLOCK_REALTIME, 0: none */
        StsClusterView cluster;
} StsSync;

/* statefulset-cluster.c */
/* Fills s->cluster (nothing on a single node) and fences: a local pod of the set runs only
 * while this node holds its ordinal and the coordinator is READY; any other is deleted at once
 * (grace 0) and dropped from s->pods. */
int sts_cluster_prepare(StsSync *s);
void sts_cluster_done(StsClusterView *v);
/* The start hold (statefulset_controller_hold_until()) is on: the sync does nothing and comes
 * back when it ends. */
bool sts_cluster_holding(StsSync *s);
/* Whether ordinal is this node's to run (always on a single node). */
bool sts_cluster_mine(const StsSync *s, int64_t ordinal);
/* An ordinal no node holds: this node claims it when it may (the coordinator ready, fewer than
 * max_per_node ordinals of the set held, no other node's data binding on it, and no binding of
 * this node to another ordinal of the set still free). Returns 0; the claim's outcome syncs
 * the set again. */
int sts_cluster_claim(StsSync *s, int64_t ordinal);
/* Gives back the ordinals out of range whose pod is gone (scale-down done), keeping the data
 * binding unless whenScaled is Delete. */
int sts_cluster_release_unused(StsSync *s);
/* The set is gone: the ordinals this node still holds of it are released once their pods are. */
int sts_cluster_release_all(StatefulSetController *c, const char *ns, const char *name);
void sts_cluster_cancel_all(StatefulSetController *c);

/* getStatefulSetRevisions: creates or re-numbers the update revision, finds the current
 * one, fills current_rev, update_rev, current_tmpl and collision_count. */
int sts_revisions_prepare(StsSync *s);
/* truncateHistory: deletes non-live revisions beyond revisionHistoryLimit, oldest first. */
int sts_revisions_truncate(StsSync *s);

/* statefulset-control.c: the writes, each with the set's event; 0 or a negative errno */
/* CreateStatefulPod: the pod's missing claims, the pod, then the claims' retention refs. */
int sts_control_create_pod(StsSync *s, const cJSON *pod, int64_t ordinal);
/* UpdateStatefulPod: identity, storage and retention brought back to the set's. */
int sts_control_update_pod(StsSync *s, const cJSON *pod, int64_t ordinal);
int sts_control_delete_pod(StsSync *s, const cJSON *pod);
/* createMissingPersistentVolumeClaims (for a pending pod) */
int sts_control_create_missing_claims(StsSync *s, const cJSON *pod, int64_t ordinal);
/* ClaimsMatchRetentionPolicy / UpdatePodClaimForRetentionPolicy */
bool sts_control_claims_match_retention(StsSync *s, const cJSON *pod, int64_t ordinal);
int sts_control_update_claims_for_retention(StsSync *s, const cJSON *pod, int64_t ordinal);
/* PodClaimIsStale: > 0 when a claim still belongs to an earlier pod of that name. */
int sts_control_pod_claim_is_stale(StsSync *s, const cJSON *pod, int64_t ordinal);
/* Fills s->pods: the pods the set controls, after adopting orphans when adopt is true. */
int sts_control_list_pods(StsSync *s, bool adopt);
/* Deletes the set's claims whose controlling pod is gone. */
int sts_control_collect_claims(StsSync *s);
/* Deletes the claims controlled by the pod with pod_uid (in ns) once that pod is gone. */
int sts_claims_collect(StatefulSetController *c, const char *ns, const char *pod_uid);

int sts_sync(StatefulSetController *c, const char *ns, const char *name);
