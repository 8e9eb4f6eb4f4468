/* syncDaemonSet for this node: manage (podsShouldBeOnNode: create the missing daemon pod,
 * delete failed or succeeded ones with back-off, excess ones, and all of them where the
 * node stopped being eligible), then the rolling update when manage had nothing to do,
 * then the status (updateDaemonSetStatus).
 *
 * Kubernetes' expectations keep a sync from acting on a cache that has not seen its own
 * creations and deletions yet, and hold the rolling update back until they are seen. The
 * store is read directly here, so there is nothing to wait for; the rolling update is still
 * held back while manage changed something, and runs on the sync that change triggers. */
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"
#include "log.h"
#include "node-eligibility.h"

void daemonset_sync_requeue_at(DaemonSetSync *s, usec_t at)
{
        if (s->requeue_at == 0 || at < s->requeue_at)
                s->requeue_at = at;
}

int daemonset_sync_create_pod(DaemonSetSync *s)
{
        _cleanup_json_ cJSON *pod = NULL, *created = NULL;
        int r;

        r = daemonset_pod_build(s->ds, s->c->node_name, s->hash, s->generation, &pod);
        if (r >= 0)
                r = store_create(s->c->store, pod, &created);
        if (r < 0) {
                (void)store_eventf(s->c->store, s->ds, "Warning", "FailedCreate", "Error creating: %s",
                                   strerror(-r));
                return log_debug_errno(r, "DaemonSet %s/%s: creating a pod failed: %m", s->ns, s->name);
        }
        (void)store_eventf(s->c->store, s->ds, "Normal", "SuccessfulCreate", "Created pod: %s",
                           json_str(created, "metadata.name") ?: "");
        s->n_created++;
        return 0;
}

int daemonset_sync_delete_pod(DaemonSetSync *s, const cJSON *pod)
{
        const char *name = json_str(pod, "metadata.name");
        int r;

        if (!name)
                return 0;
        /* a pod is only marked: the pod controller stops it and removes it */
        r = store_delete_object(s->c->store, "Pod", s->ns, name, -1, STORE_PROPAGATE_BACKGROUND, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                (void)store_eventf(s->c->store, s->ds, "Warning", "FailedDelete", "Error deleting: %s",
                                   strerror(-r));
                return log_debug_errno(r, "DaemonSet %s/%s: deleting pod %s failed: %m", s->ns, s->name,
                                       name);
        }
        (void)store_eventf(s->c->store, s->ds, "Normal", "SuccessfulDelete", "Deleted pod: %s", name);
        s->n_deleted++;
        return 0;
}

static bool pod_terminal(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        return streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed");
}

static bool pod_deleting(const cJSON *pod)
{
        return json_str(pod, "metadata.deletionTimestamp");
}

/* getNodesToDaemonPods(ds, includeDeletedTerminal=false), for this node, sorted. */
static int load_pods(DaemonSetSync *s)
{
        const cJSON *pod;
        size_t n;
        int r;

        cJSON_Delete(s->pods);
        s->pods = NULL;
        s->n_on_node = 0;
        r = store_list_owned(s->c->store, "Pod", s->ns, json_str(s->ds, "metadata.uid") ?: "", &s->pods);
        if (r < 0)
                return r;
        n = (size_t)cJSON_GetArraySize(s->pods);
        free(s->on_node);
        s->on_node = calloc(n + 1, sizeof(cJSON *));
        if (!s->on_node)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, s->pods) {
                if (pod_terminal(pod) && pod_deleting(pod))
                        continue;
                if (!streq_ptr(node_eligibility_target_node(pod), s->c->node_name))
                        continue;
                s->on_node[s->n_on_node++] = pod;
        }
        qsort(s->on_node, s->n_on_node, sizeof(cJSON *), daemonset_pod_compare);
        return 0;
}

/* A failed pod is deleted (and so replaced) at most as often as the back-off allows. */
static int handle_failed(DaemonSetSync *s, const cJSON *pod)
{
        _cleanup_free_ char *key = NULL;
        usec_t now = now_usec(CLOCK_BOOTTIME), delay;
        int r;

        if (asprintf_safe(&key, "%s/%lld/%s", json_str(s->ds, "metadata.uid") ?: "",
                          (long long)json_int(s->ds, "status.observedGeneration", 0), s->c->node_name) < 0)
                return -ENOMEM;
        if (daemonset_backoff_active(s->c, key, now, &delay)) {
                log_debug("DaemonSet %s/%s: deleting failed pod %s is held back for %llu ms.", s->ns,
                          s->name, json_str(pod, "metadata.name") ?: "",
                          (unsigned long long)(delay / USEC_PER_MSEC));
                workqueue_add_after(s->c->queue, s->ns, s->name, delay);
                return 0;
        }
        r = daemonset_backoff_next(s->c, key, now);
        if (r < 0)
                return r;
        (void)store_eventf(s->c->store, s->ds, "Warning", "FailedDaemonPod",
                           "Found failed daemon pod %s/%s on node %s, will try to kill it", s->ns,
                           json_str(pod, "metadata.name") ?: "", s->c->node_name);
        return daemonset_sync_delete_pod(s, pod);
}

/* With surge, one old and one new pod may share the node while the new one comes up:
 * the old goes once it is not ready or the new one is available; any further pod goes. */
static int prune_surge(DaemonSetSync *s, const cJSON **running, size_t n)
{
        const cJSON *oldest_new = NULL, *oldest_old = NULL;
        usec_t at = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                bool updated = daemonset_pod_is_updated(running[i], s->hash, s->generation);
                const cJSON **slot = updated ? &oldest_new : &oldest_old;

                if (!*slot) {
                        *slot = running[i];
                        continue;
                }
                r = daemonset_sync_delete_pod(s, running[i]);
                if (r < 0)
                        return r;
        }
        if (!oldest_new || !oldest_old)
                return 0;
        if (!daemonset_pod_is_ready(oldest_old))
                return daemonset_sync_delete_pod(s, oldest_old);
        if (daemonset_pod_is_available(oldest_new, s->min_ready_sec, s->now, &at))
                return daemonset_sync_delete_pod(s, oldest_old);
        if (at > 0)
                daemonset_sync_requeue_at(s, at);
        return 0;
}

/* The shouldContinueRunning case of podsShouldBeOnNode. */
static int keep_running(DaemonSetSync *s)
{
        _cleanup_free_ const cJSON **running = calloc(s->n_on_node + 1, sizeof(cJSON *));
        size_t n = 0;
        int r;

        if (!running)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_on_node; i++) {
                const cJSON *pod = s->on_node[i];
                const char *phase = json_str(pod, "status.phase");

                if (pod_deleting(pod))
                        continue;
                if (streq_ptr(phase, "Failed"))
                        r = handle_failed(s, pod);
                else if (streq_ptr(phase, "Succeeded")) {
                        (void)store_eventf(
                            s->c->store, s->ds, "Normal", "SucceededDaemonPod",
                            "Found succeeded daemon pod %s/%s on node %s, will try to delete it", s->ns,
                            json_str(pod, "metadata.name") ?: "", s->c->node_name);
                        r = daemonset_sync_delete_pod(s, pod);
                } else {
                        running[n++] = pod;
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        if (daemonset_surge_count(s->ds, 1) <= 0) {
                /* no surge: the oldest stays (on_node is sorted) */
                for (size_t i = 1; i < n; i++) {
                        r = daemonset_sync_delete_pod(s, running[i]);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (n == 0 && s->should_run)
                return daemonset_sync_create_pod(s);
        return n <= 1 ? 0 : prune_surge(s, running, n);
}

/* podsShouldBeOnNode + syncNodes for this node. */
static int manage(DaemonSetSync *s)
{
        int r;

        if (!s->node)
                return 0;
        if (s->should_run && s->n_on_node == 0)
                return daemonset_sync_create_pod(s);
        if (s->should_continue)
                return keep_running(s);
        for (size_t i = 0; i < s->n_on_node; i++) {
                if (pod_deleting(s->on_node[i]))
                        continue;
                r = daemonset_sync_delete_pod(s, s->on_node[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool status_equal(const cJSON *a, const cJSON *b, const char *const *fields, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (json_int(a, fields[i], 0) != json_int(b, fields[i], 0))
                        return false;
        return true;
}

/* updateDaemonSetStatus + storeDaemonSetStatus. */
static int write_status(DaemonSetSync *s)
{
        static const char *const fields[] = {
            "desiredNumberScheduled", "currentNumberScheduled", "numberMisscheduled", "numberReady",
            "updatedNumberScheduled", "numberAvailable",        "numberUnavailable",
        };
        const cJSON *old = json_path(s->ds, "status");
        _cleanup_json_ cJSON *st = cJSON_IsObject(old) ? cJSON_Duplicate(old, true) : cJSON_CreateObject();
        int64_t v[ELEMENTSOF(fields)] = {0}, generation = json_int(s->ds, "metadata.generation", 0);
        usec_t at = 0;

        if (!st)
                return -ENOMEM;
        if (s->cluster) {
                int r = daemonset_cluster_counts(s, v);
                if (r == -EAGAIN)
                        return 0; /* the fleet's view is not complete yet */
                if (r < 0)
                        return r;
        } else if (s->node && s->should_run) {
                v[0] = 1;
                if (s->n_on_node > 0) {
                        const cJSON *pod = s->on_node[0]; /* the oldest */
                        v[1] = 1;
                        v[3] = daemonset_pod_is_ready(pod);
                        v[5] = daemonset_pod_is_available(pod, s->min_ready_sec, s->now, &at);
                        v[4] = daemonset_pod_is_updated(pod, s->hash, s->generation);
                        if (at > 0)
                                daemonset_sync_requeue_at(s, at);
                }
        } else if (s->node && s->n_on_node > 0)
                v[2] = 1;
        if (!s->cluster)
                v[6] = v[0] - v[5];
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (json_set_int(st, fields[i], v[i]) < 0)
                        return -ENOMEM;
        if (status_equal(st, old, fields, ELEMENTSOF(fields)) &&
            json_int(old, "observedGeneration", 0) >= generation)
                return 0;
        if (json_set_int(st, "observedGeneration", generation) < 0)
                return -ENOMEM;
        return store_update_status(s->c->store, "DaemonSet", s->ns, s->name, st);
}

static bool selects_everything(const cJSON *ds)
{
        const cJSON *sel = json_path(ds, "spec.selector");

        return cJSON_IsObject(sel) && cJSON_GetArraySize(json_path(sel, "matchLabels")) == 0 &&
               cJSON_GetArraySize(json_path(sel, "matchExpressions")) == 0;
}

static int sync_steps(DaemonSetSync *s)
{
        int r;

        r = daemonset_template_hash(s->ds, s->hash);
        if (r < 0)
                return r;
        s->generation = daemonset_template_generation(s->ds);
        s->min_ready_sec = json_int(s->ds, "spec.minReadySeconds", 0);
        r = store_get(s->c->store, "Node", NULL, s->c->node_name, &s->node);
        if (r < 0 && r != -ENOENT)
                return r;
        if (s->node)
                node_eligibility_should_run_daemon_pod(s->node, s->ds, &s->should_run, &s->should_continue);
        r = daemonset_cluster_prepare(s);
        if (r >= 0)
                r = daemonset_claim_pods(s);
        if (r >= 0)
                r = load_pods(s);
        if (r < 0)
                return r;
        r = manage(s);
        if (r >= 0 && s->n_created + s->n_deleted == 0 && s->node &&
            streq_ptr(json_str(s->ds, "spec.updateStrategy.type"), "RollingUpdate"))
                r = daemonset_rolling_update(s);
        /* the status is written even when a step failed, as upstream does */
        if (s->n_created + s->n_deleted > 0) {
                int q = load_pods(s);
                if (q < 0)
                        return r < 0 ? r : q;
        }
        if (r >= 0)
                r = daemonset_cluster_finish(s);
        int q = write_status(s);
        return r < 0 ? r : q;
}

int daemonset_sync(DaemonSetController *c, const char *ns, const char *name)
{
        DaemonSetSync s = {.c = c, .ns = ns, .name = name, .now = now_usec(CLOCK_REALTIME)};
        int r;

        r = store_get(c->store, "DaemonSet", ns, name, &s.ds);
        if (r == -ENOENT) {
                /* its pods went with it: store_delete_object() collects dependents */
                daemonset_cluster_forget(c, ns, name);
                return 0;
        }
        if (r < 0)
                return r;
        if (json_str(s.ds, "metadata.deletionTimestamp"))
                daemonset_cluster_forget(c, ns, name);
        if (selects_everything(s.ds))
                r = store_event(c->store, s.ds, "Warning", "SelectingAll",
                                "This daemon set is selecting all pods. A non-empty selector is required.");
        else if (!json_str(s.ds, "metadata.deletionTimestamp"))
                r = sync_steps(&s);
        if (r >= 0 && s.requeue_at > 0)
                workqueue_add_at(c->queue, ns, name, CLOCK_REALTIME, s.requeue_at);
        free(s.on_node);
        cJSON_Delete(s.pods);
        cJSON_Delete(s.node);
        cJSON_Delete(s.ds);
        return r;
}
