/* One sync of a StatefulSet (SEMANTICS.md 5.3, updateStatefulSet): the pods split into
 * replicas (ordinals start .. start+replicas-1) and condemned ones, missing replicas created
 * at the current or update revision, failed ones replaced, OrderedReady's one-at-a-time
 * progress (Parallel: all at once), scale-down from the highest ordinal, claim ownership
 * for the retention policy, the RollingUpdate (partition, maxUnavailable) and the status. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "statefulset-internal.h"

typedef struct Slot {
        const cJSON *pod;
        int64_t ordinal;
        bool created; /* stored, as opposed to built for a missing ordinal this sync */
        /* cluster mode: another node's ordinal (its pod, when created, is that node's and only
         * counts here), or a free one (nobody holds it: a pod is built for the order only) */
        bool remote, free;
} Slot;

typedef struct Round {
        StsSync *s;
        Slot *replicas, *condemned;
        size_t n_replicas, n_condemned;
        const cJSON *first_unhealthy;
        cJSON *fresh; /* pods built for missing ordinals (owns them) */
        bool monotonic, counted;
        int64_t replicas_count, ready, available, current, updated;
} Round;

typedef int (*slot_fn_t)(Round *rd, Slot *slot);

static void round_done(Round *rd)
{
        free(rd->replicas);
        free(rd->condemned);
        cJSON_Delete(rd->fresh);
}

/* newVersionedStatefulSetPod: below the partition (or, without rollingUpdate, below the
 * current replica count) at the current revision, else at the update revision. */
static int build_missing(Round *rd, int64_t ordinal, const cJSON **ret)
{
        StsSync *s = rd->s;
        int64_t cur_replicas = json_int(s->status, "currentReplicas", 0);
        bool rolling = !s->p.on_delete;
        bool at_current = (rolling && !s->p.has_rolling_update && ordinal < s->p.start + cur_replicas) ||
                          (s->p.has_rolling_update && ordinal < s->p.start + s->p.partition);
        _cleanup_json_ cJSON *tmpl = NULL;
        cJSON *pod = NULL;
        int r;

        if (at_current)
                r = sts_pod_build(&s->p, s->current_tmpl, ordinal,
                                  json_str(s->current_rev, "metadata.name") ?: "", &pod);
        else
                r = sts_pod_build(&s->p, json_path(s->set, "spec.template"), ordinal,
                                  json_str(s->update_rev, "metadata.name") ?: "", &pod);
        if (r < 0)
                return r;
        cJSON_AddItemToArray(rd->fresh, pod);
        *ret = pod;
        return 0;
}

/* cluster mode: the pod of ordinal on the node that holds it, and that node */
static const cJSON *remote_pod(StsSync *s, int64_t ordinal)
{
        const cJSON *pod;

        cJSON_ArrayForEach (pod, s->cluster.remote)
                if (sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name) == ordinal)
                        return pod;
        return NULL;
}

static const char *remote_holder(StsSync *s, int64_t ordinal)
{
        if (ordinal < 0 || (size_t)ordinal >= s->cluster.n_holders)
                return NULL;
        return s->cluster.holders[ordinal];
}

static int descending(const void *a, const void *b)
{
        const Slot *x = a, *y = b;

        return x->ordinal == y->ordinal ? 0 : x->ordinal > y->ordinal ? -1 : 1;
}

static int split(Round *rd)
{
        StsSync *s = rd->s;
        size_t n_pods = (size_t)cJSON_GetArraySize(s->pods);
        const cJSON *pod;
        int r;

        rd->n_replicas = (size_t)s->p.replicas;
        rd->replicas = calloc(rd->n_replicas + 1, sizeof(Slot));
        rd->condemned = calloc(n_pods + (size_t)cJSON_GetArraySize(s->cluster.remote) + 1, sizeof(Slot));
        rd->fresh = cJSON_CreateArray();
        if (!rd->replicas || !rd->condemned || !rd->fresh)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, s->pods) {
                int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name);
                Slot slot = {pod, ord, true};

                if (sts_in_range(&s->p, ord))
                        rd->replicas[ord - s->p.start] = slot;
                else if (ord >= 0)
                        rd->condemned[rd->n_condemned++] = slot;
        }
        for (size_t i = 0; i < rd->n_replicas; i++) {
                Slot *slot = &rd->replicas[i];

                if (slot->pod)
                        continue;
                slot->ordinal = s->p.start + (int64_t)i;
                if (!sts_cluster_mine(s, slot->ordinal)) {
                        slot->remote = true;
                        slot->pod = remote_pod(s, slot->ordinal);
                        slot->created = slot->pod != NULL;
                        slot->free = !slot->created && !remote_holder(s, slot->ordinal);
                        if (slot->created)
                                continue;
                }
                r = build_missing(rd, slot->ordinal, &slot->pod);
                if (r < 0)
                        return r;
        }
        /* the others' pods out of range keep the order of a scale-down */
        cJSON_ArrayForEach (pod, s->cluster.remote) {
                int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name);

                if (ord >= 0 && !sts_in_range(&s->p, ord))
                        rd->condemned[rd->n_condemned++] = (Slot){pod, ord, true, true, false};
        }
        qsort(rd->condemned, rd->n_condemned, sizeof(Slot), descending);
        /* the first unhealthy replica, else the lowest-ordinal unhealthy condemned pod */
        for (size_t i = 0; i < rd->n_replicas && !rd->first_unhealthy; i++)
                if (!rd->replicas[i].created || !sts_pod_healthy(rd->replicas[i].pod))
                        rd->first_unhealthy = rd->replicas[i].pod;
        for (size_t i = rd->n_condemned; i > 0 && !rd->first_unhealthy; i--)
                if (!sts_pod_healthy(rd->condemned[i - 1].pod))
                        rd->first_unhealthy = rd->condemned[i - 1].pod;
        return 0;
}

static bool available(Round *rd, const cJSON *pod)
{
        StsSync *s = rd->s;
        usec_t when = 0;
        bool ok = sts_pod_available(pod, s->p.min_ready_sec, s->now, &when);

        /* come back when minReadySeconds have passed */
        if (!ok && when > 0 && (s->requeue_at == 0 || when < s->requeue_at))
                s->requeue_at = when;
        return ok;
}

/* processReplica: > 0 stops the round (monotonic), 0 goes on. */
static int process_replica(Round *rd, Slot *slot)
{
        StsSync *s = rd->s;
        const cJSON *pod = slot->pod;
        const char *phase = json_str(pod, "status.phase");
        int r;

        if (slot->remote) {
                /* another node runs it, or will: only the order waits for it */
                if (slot->free) {
                        r = sts_cluster_claim(s, slot->ordinal);
                        if (r < 0)
                                return r;
                        return rd->monotonic ? 1 : 0;
                }
                return rd->monotonic && (!slot->created || sts_pod_terminating(pod) ||
                                         !sts_pod_running_ready(pod) || !available(rd, pod))
                           ? 1
                           : 0;
        }
        /* Succeeded counts as failed: the pod is recreated whatever its exit code */
        if (slot->created && sts_pod_failed_or_succeeded(pod)) {
                if (!sts_pod_terminating(pod)) {
                        r = sts_control_delete_pod(s, pod);
                        if (r < 0)
                                return r;
                }
                return 1;
        }
        if (!slot->created) {
                r = sts_control_pod_claim_is_stale(s, pod, slot->ordinal);
                if (r != 0)
                        return r;
                r = sts_control_create_pod(s, pod, slot->ordinal);
                if (r < 0)
                        return r;
                return rd->monotonic ? 1 : 0;
        }
        /* the apiserver's Pending: the pod controller has not started it yet */
        if (!phase || streq(phase, "Pending")) {
                r = sts_control_create_missing_claims(s, pod, slot->ordinal);
                if (r < 0)
                        return r;
        }
        if (rd->monotonic &&
            (sts_pod_terminating(pod) || !sts_pod_running_ready(pod) || !available(rd, pod)))
                return 1;
        if (sts_identity_matches(&s->p, pod) && sts_storage_matches(&s->p, pod) &&
            sts_control_claims_match_retention(s, pod, slot->ordinal))
                return 0;
        r = sts_control_update_pod(s, pod, slot->ordinal);
        return r < 0 ? r : 0;
}

static int fix_condemned_claims(Round *rd, Slot *slot)
{
        if (slot->remote)
                return 0;
        if (sts_control_claims_match_retention(rd->s, slot->pod, slot->ordinal))
                return 0;
        return sts_control_update_claims_for_retention(rd->s, slot->pod, slot->ordinal);
}

/* processCondemned */
static int process_condemned(Round *rd, Slot *slot)
{
        const cJSON *pod = slot->pod;
        int r;

        /* its own node scales it down; the lower ordinals wait for it */
        if (slot->remote || sts_pod_terminating(pod))
                return rd->monotonic ? 1 : 0;
        if (rd->monotonic && pod != rd->first_unhealthy &&
            (!sts_pod_running_ready(pod) || !available(rd, pod)))
                return 1;
        log_debug("Pod %s of StatefulSet %s/%s is terminating for scale down.",
                  json_str(pod, "metadata.name"), rd->s->ns, rd->s->name);
        r = sts_control_delete_pod(rd->s, pod);
        return r < 0 ? r : 1;
}

/* runForAll: in order, stopping at the first > 0 (monotonic); else everything, in
 * slow-start batches of 1, 2, 4 ... MaxBatchSize, stopping after a batch with an error. */
static int run_for_all(Round *rd, Slot *slots, size_t n, slot_fn_t fn)
{
        size_t next = 0, batch = 1;

        if (rd->monotonic) {
                for (size_t i = 0; i < n; i++) {
                        int r = fn(rd, &slots[i]);
                        if (r != 0)
                                return r;
                }
                return 0;
        }
        while (next < n) {
                size_t end = MIN(next + batch, n);
                int err = 0;

                for (; next < end; next++) {
                        int r = fn(rd, &slots[next]);
                        if (r < 0 && err == 0)
                                err = r;
                }
                if (err < 0)
                        return err;
                batch = MIN(batch * 2, (size_t)STS_MAX_BATCH);
        }
        return 0;
}

/* computeReplicaStatus over the replicas and condemned pods that exist */
static void count(Round *rd)
{
        const char *cur = json_str(rd->s->current_rev, "metadata.name"),
                   *upd = json_str(rd->s->update_rev, "metadata.name");
        Slot *lists[] = {rd->replicas, rd->condemned};
        size_t sizes[] = {rd->n_replicas, rd->n_condemned};

        rd->replicas_count = rd->ready = rd->available = rd->current = rd->updated = 0;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; i < sizes[l]; i++) {
                        const cJSON *pod = lists[l][i].pod;

                        if (!lists[l][i].created)
                                continue;
                        rd->replicas_count++;
                        if (sts_pod_running_ready(pod)) {
                                rd->ready++;
                                rd->available += available(rd, pod);
                        }
                        if (sts_pod_terminating(pod))
                                continue;
                        rd->current += streq_ptr(sts_pod_revision(pod), cur);
                        rd->updated += streq_ptr(sts_pod_revision(pod), upd);
                }
}

/* The update after the invariants hold (MaxUnavailableStatefulSet): while fewer than
 * maxUnavailable replicas are unhealthy, delete outdated pods from the highest index down
 * to the partition. */
static int rolling_update(Round *rd)
{
        StsSync *s = rd->s;
        const char *upd = json_str(s->update_rev, "metadata.name");
        int64_t max_unavailable = sts_max_unavailable(&s->p), unavailable = 0, deleted = 0;
        int r;

        for (size_t i = 0; i < rd->n_replicas; i++)
                unavailable += !rd->replicas[i].created || !sts_pod_healthy(rd->replicas[i].pod);
        if (unavailable >= max_unavailable) {
                log_debug("StatefulSet %s/%s: %lld unavailable pods, maxUnavailable %lld.", s->ns, s->name,
                          (long long)unavailable, (long long)max_unavailable);
                return 0;
        }
        for (int64_t t = (int64_t)rd->n_replicas - 1;
             t >= s->p.partition && deleted < max_unavailable - unavailable; t--) {
                const cJSON *pod = rd->replicas[t].pod;

                if (streq_ptr(sts_pod_revision(pod), upd) || sts_pod_terminating(pod))
                        continue;
                if (rd->replicas[t].remote) {
                        /* its own node replaces it: that uses the budget all the same */
                        deleted += rd->replicas[t].created;
                        continue;
                }
                log_debug("Pod %s of StatefulSet %s/%s is terminating for update.",
                          json_str(pod, "metadata.name"), s->ns, s->name);
                r = sts_control_delete_pod(s, pod);
                if (r < 0)
                        return r;
                deleted++;
                rd->current--;
        }
        return 0;
}

/* The creations and deletions; != 0 when the round stopped early. */
static int act(Round *rd)
{
        StsSync *s = rd->s;
        int r;

        /* a set being deleted only gets its status */
        if (json_str(s->set, "metadata.deletionTimestamp"))
                return 1;
        rd->monotonic = !s->p.parallel;
        r = run_for_all(rd, rd->replicas, rd->n_replicas, process_replica);
        if (r == 0)
                r = run_for_all(rd, rd->condemned, rd->n_condemned, fix_condemned_claims);
        /* scaling down takes precedence over updates */
        if (r == 0)
                r = run_for_all(rd, rd->condemned, rd->n_condemned, process_condemned);
        return r;
}

static int update_set(Round *rd)
{
        int r;

        r = split(rd);
        if (r < 0)
                return r;
        r = act(rd);
        count(rd);
        rd->counted = true;
        /* OnDelete: pods get the update revision only when someone else deletes them */
        if (r != 0 || rd->s->p.on_delete)
                return MIN(r, 0);
        return rolling_update(rd);
}

static int write_status(StsSync *s, Round *rd)
{
        int64_t want = s->p.replicas;
        const char *cur = json_str(s->current_rev, "metadata.name") ?: "",
                   *upd = json_str(s->update_rev, "metadata.name") ?: "";
        cJSON *st = s->status;

        /* completeRollingUpdate */
        if (!s->p.on_delete && rd->updated == want && rd->ready == want && rd->replicas_count == want) {
                rd->current = rd->updated;
                cur = upd;
        }
        if (json_set_int(st, "observedGeneration", json_int(s->set, "metadata.generation", 0)) < 0 ||
            json_set_int(st, "replicas", rd->replicas_count) < 0 ||
            json_set_int(st, "readyReplicas", rd->ready) < 0 ||
            json_set_int(st, "currentReplicas", MAX(rd->current, 0)) < 0 ||
            json_set_int(st, "updatedReplicas", rd->updated) < 0 ||
            json_set_int(st, "availableReplicas", rd->available) < 0 ||
            json_set_string(st, "currentRevision", cur) < 0 ||
            json_set_string(st, "updateRevision", upd) < 0 ||
            json_set_int(st, "collisionCount", s->collision_count) < 0)
                return -ENOMEM;
        if (cJSON_Compare(st, json_path(s->set, "status"), true))
                return 0;
        return store_update_status(s->c->store, "StatefulSet", s->ns, s->name, st);
}

static int sync_steps(StsSync *s)
{
        Round rd = {.s = s};
        bool deleting = json_str(s->set, "metadata.deletionTimestamp") != NULL;
        int r, r2;

        r = sts_control_list_pods(s, !deleting);
        if (r < 0)
                return r;
        if (!deleting) {
                r = sts_control_collect_claims(s);
                if (r < 0)
                        return r;
        }
        r = sts_cluster_prepare(s);
        if (r < 0)
                return r;
        r = sts_revisions_prepare(s);
        if (r < 0)
                return r;
        r = update_set(&rd);
        if (r >= 0)
                r = sts_cluster_release_unused(s);
        /* the status is written even when a step failed, as upstream does */
        r2 = rd.counted ? write_status(s, &rd) : 0;
        round_done(&rd);
        if (r >= 0)
                r = r2;
        r2 = sts_revisions_truncate(s);
        return r < 0 ? r : r2;
}

int sts_sync(StatefulSetController *c, const char *ns, const char *name)
{
        StsSync s = {.c = c, .ns = ns, .name = name, .now = now_usec(CLOCK_REALTIME)};
        int r;

        if (sts_cluster_holding(&s))
                return 0;
        r = store_get(c->store, "StatefulSet", ns, name, &s.set);
        if (r == -ENOENT)
                return sts_cluster_release_all(c, ns, name);
        if (r < 0)
                return r;
        sts_params_from_set(s.set, &s.p);
        s.status = cJSON_IsObject(json_path(s.set, "status"))
                       ? cJSON_Duplicate(json_path(s.set, "status"), true)
                       : cJSON_CreateObject();
        r = s.status ? label_selector_from_json(json_path(s.set, "spec.selector"), &s.sel) : -ENOMEM;
        if (r >= 0)
                r = sync_steps(&s);
        if (r >= 0 && s.requeue_at > 0)
                workqueue_add_at(c->queue, ns, name, CLOCK_REALTIME, s.requeue_at);
        label_selector_free(s.sel);
        sts_cluster_done(&s.cluster);
        cJSON_Delete(s.current_tmpl);
        cJSON_Delete(s.revisions);
        cJSON_Delete(s.pods);
        cJSON_Delete(s.status);
        cJSON_Delete(s.set);
        return r;
}
