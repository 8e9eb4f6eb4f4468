/* rollingUpdate (update.go) for this node. Without surge, an old pod is deleted while
 * fewer than maxUnavailable pods are unavailable (in cluster mode: while this node holds one
 * of the fleet's maxUnavailable roll-out slots), and manage creates its replacement once
 * it is gone. With surge, the new pod is created beside an available old one (up to
 * maxSurge at a time) and the old one is deleted once the new one is available (Ready for
 * minReadySeconds). maxUnavailable and maxSurge are of desiredNumberScheduled, percentages
 * rounded up. */
#include "daemonset-internal.h"
#include "json-util.h"
#include "log.h"

/* findUpdatedPodsOnNode: at most one new and one old live pod; false when more. */
static bool find_updated_pods(DaemonSetSync *s, const cJSON **ret_new, const cJSON **ret_old)
{
        const cJSON *new_pod = NULL, *old_pod = NULL;

        for (size_t i = 0; i < s->n_on_node; i++) {
                const cJSON *pod = s->on_node[i];
                const cJSON **slot;

                if (json_str(pod, "metadata.deletionTimestamp"))
                        continue;
                slot = daemonset_pod_is_updated(pod, s->hash, s->generation) ? &new_pod : &old_pod;
                if (*slot)
                        return false;
                *slot = pod;
        }
        *ret_new = new_pod;
        *ret_old = old_pod;
        return true;
}

static bool available(DaemonSetSync *s, const cJSON *pod)
{
        usec_t at = 0;
        bool a = daemonset_pod_is_available(pod, s->min_ready_sec, s->now, &at);

        /* nothing else wakes the set when minReadySeconds have passed */
        if (at > 0)
                daemonset_sync_requeue_at(s, at);
        return a;
}

static int update_without_surge(DaemonSetSync *s, int max_unavailable)
{
        const cJSON *new_pod, *old_pod;

        if (!find_updated_pods(s, &new_pod, &old_pod))
                return 0; /* excess pods: manage prunes them first */
        if (!!new_pod == !!old_pod)
                return 0; /* none yet, or both: manage creates or deletes */
        if (new_pod)
                return 0;
        /* an old pod that is not available anyway is replaced regardless of the budget */
        if (!available(s, old_pod))
                return daemonset_sync_delete_pod(s, old_pod);
        if (max_unavailable <= 0)
                return 0;
        /* the fleet's budget: one of its maxUnavailable roll-out slots */
        if (s->cluster)
                return daemonset_cluster_replace(s, old_pod, max_unavailable);
        /* this node is the only one, so nothing else is unavailable yet */
        return daemonset_sync_delete_pod(s, old_pod);
}

static int update_with_surge(DaemonSetSync *s, int max_surge)
{
        const cJSON *new_pod, *old_pod;

        if (!find_updated_pods(s, &new_pod, &old_pod))
                return 0;
        if (!old_pod)
                return 0; /* manage handles a node with only a new pod, or none */
        if (new_pod) {
                /* already surged here: the old one goes once the new one is available */
                return available(s, new_pod) ? daemonset_sync_delete_pod(s, old_pod) : 0;
        }
        if (!available(s, old_pod)) {
                /* an unavailable old pod on a node that no longer wants one just goes */
                return s->should_run ? daemonset_sync_create_pod(s) : daemonset_sync_delete_pod(s, old_pod);
        }
        /* an available old pod where the set may no longer run goes once more pods are
         * available than desired: here that is 1 against 0 */
        if (!s->should_run)
                return daemonset_sync_delete_pod(s, old_pod);
        /* nothing has surged yet on the only node */
        return max_surge > 0 ? daemonset_sync_create_pod(s) : 0;
}

int daemonset_rolling_update(DaemonSetSync *s)
{
        /* in cluster mode, percentages are of the fleet's desired count */
        int desired = s->cluster ? s->fleet_desired : s->should_run ? 1 : 0, max_surge, max_unavailable;

        max_unavailable = daemonset_unavailable_count(s->ds, desired);
        max_surge = daemonset_surge_count(s->ds, desired);
        /* an impossible configuration falls back to accepting unavailability */
        if (desired > 0 && max_unavailable == 0 && max_surge == 0)
                max_unavailable = 1;
        log_debug("DaemonSet %s/%s: rolling update, maxSurge %d, maxUnavailable %d.", s->ns, s->name,
                  max_surge, max_unavailable);
        return max_surge == 0 ? update_without_surge(s, max_unavailable) : update_with_surge(s, max_surge);
}
