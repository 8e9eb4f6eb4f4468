/* The DaemonSet controller in cluster mode: the set's status counts the fleet (the registered
 * nodes' eligibility, every node's pods of the set as the fleet shows them), and a rolling
 * update without surge deletes this node's available old pod only while this node holds one of
 * the set's maxUnavailable roll-out slots in the coordinator, giving it back once the new pod
 * is available. Each node acts only on its own pods; the slots keep the fleet's budget. */
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"
#include "log.h"
#include "node-eligibility.h"

/* a slot claim that was lost or failed is asked again after this long at the latest (a change
 * of the slots syncs the set sooner) */
#define DS_SLOT_RETRY_USEC (1 * USEC_PER_SEC)
/* while the fleet has not listed the other nodes' pods, the status waits this long */
#define DS_FLEET_WAIT_USEC (1 * USEC_PER_SEC)

typedef struct DsSlot {
        SetCall call; /* the set's namespace and name */
        DaemonSetController *c;
        CoordinatorRequest *req; /* a claim or a release in flight */
        bool releasing;          /* req is a release */
        bool pending;            /* a sync wanted a call while req was in flight */
        bool dropping;           /* the set is gone: the entry goes with its release */
        int64_t lease;           /* the lease the slot was won under; 0: none held */
        usec_t retry_at;         /* CLOCK_BOOTTIME: a retry is queued until then */
} DsSlot;

static DsSlot *slot_find(DaemonSetController *c, const char *ns, const char *name)
{
        return (DsSlot *)set_call_find(c->slots, ns, name);
}

static DsSlot *slot_get(DaemonSetController *c, const char *ns, const char *name)
{
        DsSlot *k = slot_find(c, ns, name);

        if (k)
                return k;
        k = set_call_new(&c->slots, sizeof(*k), ns, name);
        if (k)
                k->c = c;
        return k;
}

static void slot_free(DsSlot *k)
{
        set_call_free(&k->c->slots, &k->call);
}

void daemonset_cluster_cancel_all(DaemonSetController *c)
{
        while (c->slots) {
                coordinator_request_cancel(((DsSlot *)c->slots)->req);
                slot_free((DsSlot *)c->slots);
        }
}

/* One resync queued per retry period, however many syncs ask for it meanwhile. */
static void retry_later(DsSlot *k)
{
        usec_t now = now_usec(CLOCK_BOOTTIME);

        if (k->retry_at > now)
                return;
        k->retry_at = now + DS_SLOT_RETRY_USEC;
        workqueue_add_after(k->c->queue, k->call.ns, k->call.name, DS_SLOT_RETRY_USEC);
}

static void on_slot_done(Coordinator *co, const CoordinatorClaim *cl, void *userdata)
{
        DsSlot *k = userdata;
        DaemonSetController *c = k->c;
        bool releasing = k->releasing, pending = k->pending;

        k->req = NULL;
        k->releasing = k->pending = false;
        if (cl->error < 0) {
                log_debug_errno(cl->error, "DaemonSet %s/%s: %s of a roll-out slot failed: %m", k->call.ns,
                                k->call.name, releasing ? "the release" : "the claim");
                retry_later(k);
                return;
        }
        if (releasing) {
                log_debug("DaemonSet %s/%s: roll-out slot given back.", k->call.ns, k->call.name);
                k->lease = 0;
                if (pending)
                        workqueue_add(c->queue, k->call.ns, k->call.name);
                if (k->dropping && !pending)
                        slot_free(k);
                return;
        }
        if (cl->won) {
                log_debug("DaemonSet %s/%s: roll-out slot won (token %lld).", k->call.ns, k->call.name,
                          (long long)cl->token);
                k->lease = coordinator_lease(co);
                workqueue_add(c->queue, k->call.ns, k->call.name);
                return;
        }
        /* every slot is held by another node (or by a lease of this one from before a restart):
         * a change of the slots syncs the set again, and in any case the retry does */
        log_debug("DaemonSet %s/%s: every roll-out slot is taken (%s holds one).", k->call.ns, k->call.name,
                  cl->holder ?: "nobody");
        retry_later(k);
        if (pending)
                workqueue_add(c->queue, k->call.ns, k->call.name);
}

static int slot_call(DaemonSetController *c, DsSlot *k, bool release, unsigned max)
{
        int r;

        if (k->req) {
                /* one call at a time per set: the outcome syncs the set again */
                k->pending = true;
                return 0;
        }
        k->releasing = release;
        if (release)
                r = coordinator_release_slot(c->co, k->call.ns, k->call.name, on_slot_done, k, &k->req);
        else
                r = coordinator_claim_slot(c->co, k->call.ns, k->call.name, max, on_slot_done, k, &k->req);
        if (r < 0) {
                k->req = NULL;
                k->releasing = false;
                return log_debug_errno(r, "DaemonSet %s/%s: cannot ask for a roll-out slot: %m", k->call.ns,
                                       k->call.name);
        }
        return 0;
}

/* Whether the coordinator's mirror shows this node as a holder of one of the set's slots. */
static bool mirror_holds(DaemonSetController *c, const char *ns, const char *name)
{
        const char **holders = NULL;
        size_t n = 0;

        if (coordinator_slots(c->co, ns, name, &holders, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(holders[i], c->node_name))
                        return true;
        return false;
}

/* Whether the mirror shows the max slots all held by other nodes. */
static bool mirror_full(DaemonSetController *c, const char *ns, const char *name, unsigned max)
{
        const char **holders = NULL;
        size_t n = 0;
        unsigned taken = 0;

        if (coordinator_slots(c->co, ns, name, &holders, &n) < 0)
                return false;
        for (size_t i = 0; i < n && i < max; i++)
                if (holders[i] && !streq(holders[i], c->node_name))
                        taken++;
        return taken >= max;
}

static bool node_should_run(const cJSON *node, const cJSON *ds)
{
        bool run = false, cont = false;

        node_eligibility_should_run_daemon_pod(node, ds, &run, &cont);
        return run;
}

int daemonset_cluster_prepare(DaemonSetSync *s)
{
        DaemonSetController *c = s->c;
        const cJSON *nodes, *node;
        bool self = false;
        DsSlot *k;

        if (!c->co)
                return 0;
        s->cluster = true;
        nodes = coordinator_nodes(c->co);
        if (!nodes)
                return -ENOMEM;
        cJSON_ArrayForEach (node, nodes) {
                if (streq_ptr(json_str(node, "metadata.name"), c->node_name)) {
                        /* this node's own Node object, the one manage acts on, when it has one */
                        self = true;
                        s->fleet_desired += s->node ? s->should_run : node_should_run(node, s->ds);
                } else
                        s->fleet_desired += node_should_run(node, s->ds);
        }
        /* not registered (yet): this node counts all the same */
        if (!self && s->node)
                s->fleet_desired += s->should_run;
        k = slot_find(c, s->ns, s->name);
        if (k && k->lease != 0 && k->lease != coordinator_lease(c->co))
                k->lease = 0; /* won under a lease that is gone: the slot went with it */
        s->slot_held = k && k->lease != 0 && coordinator_state(c->co) == COORDINATOR_READY;
        return 0;
}

static const cJSON *controller_ref(const cJSON *obj)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return ref;
        return NULL;
}

static bool pod_counts(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        /* getNodesToDaemonPods(includeDeletedTerminal=false) */
        return !(json_str(pod, "metadata.deletionTimestamp") &&
                 (streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed")));
}

/* The other nodes' pods of the set: the fleet copies the set's uid, so it is the same here. */
static int remote_pods(DaemonSetSync *s, const cJSON ***ret, size_t *ret_n)
{
        const cJSON *pods = fleet_pods(s->c->fleet, s->ns), *pod;
        const char *uid = json_str(s->ds, "metadata.uid");
        _cleanup_free_ const cJSON **v = NULL;
        size_t n = 0;

        if (!pods)
                return -ENOMEM;
        v = calloc((size_t)cJSON_GetArraySize(pods) + 1, sizeof(cJSON *));
        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, pods) {
                const cJSON *ref = controller_ref(pod);

                if (!ref || isempty(uid) || !streq_ptr(json_str(ref, "uid"), uid) || !pod_counts(pod))
                        continue;
                v[n++] = pod;
        }
        qsort(v, n, sizeof(cJSON *), daemonset_pod_compare);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The oldest pod of the set on node (remote is sorted), or NULL. */
static const cJSON *oldest_on(const cJSON **remote, size_t n, const char *node)
{
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(node_eligibility_target_node(remote[i]), node))
                        return remote[i];
        return NULL;
}

/* updateDaemonSetStatus' loop body for one node. */
static void count_node(DaemonSetSync *s, bool should_run, const cJSON *pod, int64_t v[static 7])
{
        usec_t at = 0;

        if (!should_run) {
                v[2] += pod != NULL;
                return;
        }
        v[0]++;
        if (!pod)
                return;
        v[1]++;
        v[3] += daemonset_pod_is_ready(pod);
        v[5] += daemonset_pod_is_available(pod, s->min_ready_sec, s->now, &at);
        v[4] += daemonset_pod_is_updated(pod, s->hash, s->generation);
        /* nothing else wakes the set when another node's pod has been Ready long enough */
        if (at > 0)
                daemonset_sync_requeue_at(s, at);
}

int daemonset_cluster_counts(DaemonSetSync *s, int64_t v[static 7])
{
        DaemonSetController *c = s->c;
        _cleanup_free_ const cJSON **remote = NULL;
        const cJSON *nodes, *node, *local = s->n_on_node > 0 ? s->on_node[0] : NULL;
        size_t n_remote = 0;
        bool self = false;
        int r;

        if (!fleet_synced(c->fleet)) {
                daemonset_sync_requeue_at(s, s->now + DS_FLEET_WAIT_USEC);
                return -EAGAIN;
        }
        r = remote_pods(s, &remote, &n_remote);
        if (r < 0)
                return r;
        nodes = coordinator_nodes(c->co);
        if (!nodes)
                return -ENOMEM;
        cJSON_ArrayForEach (node, nodes) {
                const char *name = json_str(node, "metadata.name");

                if (!streq_ptr(name, c->node_name)) {
                        count_node(s, node_should_run(node, s->ds), oldest_on(remote, n_remote, name), v);
                        continue;
                }
                self = true;
                count_node(s, s->node ? s->should_run : node_should_run(node, s->ds), local, v);
        }
        if (!self && s->node)
                count_node(s, s->should_run, local, v);
        v[6] = v[0] - v[5];
        return 0;
}

int daemonset_cluster_replace(DaemonSetSync *s, const cJSON *old_pod, int max)
{
        DaemonSetController *c = s->c;
        unsigned m = (unsigned)MIN(MAX(max, 1), COORDINATOR_MAX_SLOTS);
        DsSlot *k;

        if (s->slot_held)
                return daemonset_sync_delete_pod(s, old_pod);
        k = slot_get(c, s->ns, s->name);
        if (!k)
                return -ENOMEM;
        k->dropping = false;
        if (!k->req && mirror_full(c, s->ns, s->name, m)) {
                /* no use asking: a change of the slots syncs the set again */
                retry_later(k);
                return 0;
        }
        return slot_call(c, k, false, m);
}

/* Whether this node's roll-out step still needs its slot: an old pod is still here, or the
 * new one is not available yet. */
static bool step_running(DaemonSetSync *s)
{
        const cJSON *first = NULL;

        if (!s->node || !streq_ptr(json_str(s->ds, "spec.updateStrategy.type"), "RollingUpdate") ||
            daemonset_surge_count(s->ds, s->fleet_desired) > 0)
                return false;
        for (size_t i = 0; i < s->n_on_node; i++) {
                const cJSON *pod = s->on_node[i];

                if (json_str(pod, "metadata.deletionTimestamp"))
                        continue;
                if (!daemonset_pod_is_updated(pod, s->hash, s->generation))
                        return true;
                first = first ?: pod;
        }
        if (!s->should_run)
                return false;
        return !first || !daemonset_pod_is_available(first, s->min_ready_sec, s->now, NULL);
}

int daemonset_cluster_finish(DaemonSetSync *s)
{
        DaemonSetController *c = s->c;
        DsSlot *k;

        if (!s->cluster)
                return 0;
        k = slot_find(c, s->ns, s->name);
        if (!(k && k->lease != 0) && !mirror_holds(c, s->ns, s->name))
                return 0;
        if (step_running(s))
                return 0;
        if (k && k->req && k->releasing)
                return 0;
        k = k ?: slot_get(c, s->ns, s->name);
        if (!k)
                return -ENOMEM;
        return slot_call(c, k, true, 0);
}

void daemonset_cluster_forget(DaemonSetController *c, const char *ns, const char *name)
{
        DsSlot *k;

        if (!c->co)
                return;
        k = slot_find(c, ns, name);
        if (k && k->req) {
                if (!k->releasing)
                        k->pending = true; /* its outcome syncs the set, which finds it gone */
                k->dropping = true;
                return;
        }
        if (!(k && k->lease != 0) && !mirror_holds(c, ns, name)) {
                if (k)
                        slot_free(k);
                return;
        }
        k = k ?: slot_get(c, ns, name);
        if (!k)
                return;
        k->dropping = true;
        (void)slot_call(c, k, true, 0);
}

void daemonset_controller_set_cluster(DaemonSetController *c, Coordinator *co, Fleet *fleet)
{
        daemonset_cluster_cancel_all(c);
        c->co = co && fleet && coordinator_type(co) == COORDINATOR_ETCD ? co : NULL;
        c->fleet = c->co ? fleet : NULL;
}

void daemonset_controller_on_claims_changed(DaemonSetController *c)
{
        if (c && c->co)
                (void)daemonset_controller_resync(c);
}

void daemonset_controller_on_fleet_pod(DaemonSetController *c, const cJSON *pod)
{
        const cJSON *ref = controller_ref(pod);

        if (!c || !c->co || !ref || !streq_ptr(json_str(ref, "kind"), "DaemonSet") || !json_str(ref, "name"))
                return;
        workqueue_add(c->queue, json_str(pod, "metadata.namespace") ?: "default", json_str(ref, "name"));
}
