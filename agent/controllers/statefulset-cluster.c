/* The StatefulSet controller in cluster mode: which ordinals of a set this node runs. An
 * ordinal is run by the node holding its claim in the coordinator (a create-only key bound to
 * that node's lease); the other nodes' pods of the set come from the fleet and count for the
 * order (OrderedReady holds across nodes), the roll-out and the status, but only their own node
 * acts on them. A node claims a free ordinal when the set's order reaches it, at most
 * max-ordinals-per-node of a set, never one whose data another node holds (sticky binding,
 * given up only by `berth release`), and its own bound ordinal before any other. Fail closed: a
 * local pod whose ordinal this node does not hold, or any while the coordinator is not READY,
 * is stopped at once. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "statefulset-internal.h"

/* a claim or release that failed, or was lost to a lease of this node from before a restart,
 * is tried again after this long */
#define STS_CLAIM_RETRY_USEC (1 * USEC_PER_SEC)

typedef struct StsClaimCall {
        SetCall call; /* ns and the set's name */
        StatefulSetController *c;
        unsigned ordinal;
        bool release, sticky_release;
        CoordinatorRequest *req;
} StsClaimCall;

static StsClaimCall *call_find(StatefulSetController *c, const char *ns, const char *set)
{
        return (StsClaimCall *)set_call_find(c->claims, ns, set);
}

static void call_free(StsClaimCall *k)
{
        set_call_free(&k->c->claims, &k->call);
}

void sts_cluster_cancel_all(StatefulSetController *c)
{
        while (c->claims) {
                coordinator_request_cancel(((StsClaimCall *)c->claims)->req);
                call_free((StsClaimCall *)c->claims);
        }
}

static void set_event(StatefulSetController *c, const char *ns, const char *set, const char *type,
                      const char *reason, const char *fmt, ...) _printf_(6, 7);
static void set_event(StatefulSetController *c, const char *ns, const char *set, const char *type,
                      const char *reason, const char *fmt, ...)
{
        _cleanup_json_ cJSON *obj = NULL;
        va_list ap;

        if (store_get(c->store, "StatefulSet", ns, set, &obj) < 0)
                return;
        va_start(ap, fmt);
        (void)store_eventv(c->store, obj, type, reason, fmt, ap);
        va_end(ap);
}

static void on_call_done(Coordinator *co, const CoordinatorClaim *cl, void *userdata)
{
        StsClaimCall *k = userdata;
        StatefulSetController *c = k->c;
        usec_t retry = 0;

        (void)co;
        if (cl->error < 0) {
                log_debug_errno(cl->error, "StatefulSet %s/%s: %s of ordinal %u failed: %m", k->call.ns,
                                k->call.name, k->release ? "release" : "claim", k->ordinal);
                retry = STS_CLAIM_RETRY_USEC;
        } else if (k->sticky_release) {
                log_info("StatefulSet %s/%s: the data binding of ordinal %u%s%s released.", k->call.ns,
                         k->call.name, k->ordinal, cl->holder ? " to node " : "", cl->holder ?: "");
                set_event(c, k->call.ns, k->call.name, "Normal", "OrdinalReleased",
                          "Data binding of ordinal %u%s%s released: another node may run it", k->ordinal,
                          cl->holder ? " to node " : "", cl->holder ?: "");
        } else if (k->release) {
                log_debug("StatefulSet %s/%s: ordinal %u given back.", k->call.ns, k->call.name, k->ordinal);
        } else if (cl->won) {
                log_info("StatefulSet %s/%s: ordinal %u claimed (token %lld).", k->call.ns, k->call.name,
                         k->ordinal, (long long)cl->token);
                set_event(c, k->call.ns, k->call.name, "Normal", "OrdinalClaimed",
                          "Ordinal %u claimed by node %s", k->ordinal, c->node_name);
        } else {
                log_debug("StatefulSet %s/%s: ordinal %u is held by %s.", k->call.ns, k->call.name,
                          k->ordinal, cl->holder ?: "nobody");
                /* a lease of this node from before a restart still holds it, or the mirror has
                 * not caught up: ask again later, not in a loop */
                retry = STS_CLAIM_RETRY_USEC;
        }
        if (retry > 0)
                workqueue_add_after(c->queue, k->call.ns, k->call.name, retry);
        else
                workqueue_add(c->queue, k->call.ns, k->call.name);
        call_free(k);
}

static int call_start(StatefulSetController *c, const char *ns, const char *set, unsigned ordinal,
                      bool release, bool sticky, bool sticky_release)
{
        StsClaimCall *k;
        int r;

        if (call_find(c, ns, set))
                return 0; /* one at a time per set: its outcome syncs the set again */
        k = set_call_new(&c->claims, sizeof(*k), ns, set);
        if (!k)
                return -ENOMEM;
        k->c = c;
        k->ordinal = ordinal;
        k->release = release || sticky_release;
        k->sticky_release = sticky_release;
        if (sticky_release)
                r = coordinator_release_sticky(c->co, ns, set, ordinal, on_call_done, k, &k->req);
        else if (release)
                r = coordinator_release_ordinal(c->co, ns, set, ordinal, sticky, on_call_done, k, &k->req);
        else
                r = coordinator_claim_ordinal(c->co, ns, set, ordinal, sticky, on_call_done, k, &k->req);
        if (r < 0)
                call_free(k);
        return r;
}

static int copy_holders(const char *const *src, size_t n, char ***ret, size_t *ret_n)
{
        char **v = calloc(n + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (src[i] && !(v[i] = strdup(src[i]))) {
                        for (size_t j = 0; j < i; j++)
                                free(v[j]);
                        free(v);
                        return -ENOMEM;
                }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void holders_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static const char *holder_at(char **v, size_t n, int64_t ordinal)
{
        return ordinal >= 0 && (size_t)ordinal < n ? v[ordinal] : NULL;
}

bool sts_cluster_mine(const StsSync *s, int64_t ordinal)
{
        if (!s->cluster.active)
                return true;
        if (!s->cluster.ready)
                return false;
        for (size_t i = 0; i < s->cluster.n_mine; i++)
                if (s->cluster.mine[i] == ordinal)
                        return true;
        return false;
}

/* This node's own record of what it won (the mirror of etcd may lag behind an answer). */
static int collect_mine(StsSync *s)
{
        const CoordinatorHeld *held = NULL;
        size_t n = coordinator_claims(s->c->co, &held);
        StsClusterView *v = &s->cluster;

        v->mine = calloc(n + 1, sizeof(int64_t));
        if (!v->mine)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (streq(held[i].ns, s->ns) && streq(held[i].set, s->name))
                        v->mine[v->n_mine++] = held[i].ordinal;
        v->held = (int64_t)v->n_mine;
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

/* Stops a local pod at once: its ordinal is not this node's (any more). */
static int fence(StatefulSetController *c, const cJSON *pod, const char *why)
{
        const char *ns = json_str(pod, "metadata.namespace") ?: "default",
                   *name = json_str(pod, "metadata.name");
        const cJSON *ref = controller_ref(pod);
        int r;

        if (json_str(pod, "metadata.deletionTimestamp"))
                return 0;
        log_warning("Stopping pod %s/%s: %s.", ns, name, why);
        r = store_delete_object(c->store, "Pod", ns, name, 0, STORE_PROPAGATE_BACKGROUND, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to stop pod %s/%s: %m", ns, name);
        if (ref && json_str(ref, "name"))
                set_event(c, ns, json_str(ref, "name"), "Warning", "OrdinalNotHeld", "Pod %s stopped: %s",
                          name, why);
        return 0;
}

static int remote_pods(StsSync *s)
{
        const cJSON *pods = fleet_pods(s->c->fleet, s->ns), *pod;

        if (!pods)
                return -ENOMEM;
        s->cluster.remote = cJSON_CreateArray();
        if (!s->cluster.remote)
                return -ENOMEM;
        cJSON_ArrayForEach (pod, pods) {
                const cJSON *ref = controller_ref(pod);
                int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name);
                const char *node = json_str(pod, "spec.nodeName");
                cJSON *copy;

                /* the set's uid is the same on every node: the fleet copies it */
                if (ord < 0 || !ref || !streq_ptr(json_str(ref, "uid"), s->p.uid) ||
                    !streq_ptr(holder_at(s->cluster.holders, s->cluster.n_holders, ord), node))
                        continue;
                copy = cJSON_Duplicate(pod, true);
                if (!copy)
                        return -ENOMEM;
                cJSON_AddItemToArray(s->cluster.remote, copy);
        }
        return 0;
}

static int64_t max_per_node(const cJSON *set)
{
        /* not json_str(): the key has dots of its own */
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(json_path(set, "metadata.annotations"),
                                                          STS_ANNOTATION_MAX_PER_NODE);
        const char *v = cJSON_IsString(a) ? a->valuestring : NULL;
        char *end = NULL;
        long long n;

        if (isempty(v))
                return 1;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno != 0 || *end != '\0' || n < 1)
                return 1;
        return n;
}

int sts_cluster_prepare(StsSync *s)
{
        StatefulSetController *c = s->c;
        StsClusterView *v = &s->cluster;
        const char **holders = NULL, **sticky = NULL;
        size_t n = 0, n_sticky = 0;
        cJSON *pod, *next;
        int r;

        if (!c->co)
                return 0;
        v->active = true;
        v->ready = coordinator_state(c->co) == COORDINATOR_READY;
        /* an incomplete view of the others' pods could break the order */
        v->can_claim = v->ready && fleet_synced(c->fleet);
        v->max_per_node = max_per_node(s->set);
        r = coordinator_ordinals(c->co, s->ns, s->name, &holders, &n);
        if (r >= 0)
                r = copy_holders(holders, n, &v->holders, &v->n_holders);
        if (r >= 0)
                r = coordinator_sticky(c->co, s->ns, s->name, &sticky, &n_sticky);
        if (r >= 0)
                r = copy_holders(sticky, n_sticky, &v->sticky, &v->n_sticky);
        if (r >= 0)
                r = collect_mine(s);
        if (r >= 0)
                r = remote_pods(s);
        if (r < 0)
                return r;
        /* fail closed: a pod runs here only under this node's claim of its ordinal */
        for (pod = s->pods ? s->pods->child : NULL; pod; pod = next) {
                int64_t ord = sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name);

                next = pod->next;
                if (sts_cluster_mine(s, ord))
                        continue;
                r = fence(c, pod,
                          coordinator_state(c->co) != COORDINATOR_READY
                              ? "this node's lease in the coordinator is not renewed"
                              : "this node does not hold its ordinal");
                if (r < 0)
                        return r;
                cJSON_Delete(cJSON_DetachItemViaPointer(s->pods, pod));
        }
        return 0;
}

void sts_cluster_done(StsClusterView *v)
{
        holders_free(v->holders, v->n_holders);
        holders_free(v->sticky, v->n_sticky);
        free(v->mine);
        cJSON_Delete(v->remote);
        *v = (StsClusterView){};
}

/* Sticky entries hold at most one node per ordinal; this node's bound ordinals come first. */
static int64_t own_free_binding(const StsSync *s)
{
        const StsClusterView *v = &s->cluster;

        for (size_t i = 0; i < v->n_sticky; i++)
                if (streq_ptr(v->sticky[i], s->c->node_name) &&
                    !holder_at(v->holders, v->n_holders, (int64_t)i) && sts_in_range(&s->p, (int64_t)i))
                        return (int64_t)i;
        return -1;
}

int sts_cluster_claim(StsSync *s, int64_t ordinal)
{
        const StsClusterView *v = &s->cluster;
        const char *bound = holder_at(v->sticky, v->n_sticky, ordinal);
        int64_t own;

        if (!v->active || !v->can_claim || v->held >= v->max_per_node || ordinal < 0 || ordinal > UINT32_MAX)
                return 0;
        if (bound && !streq(bound, s->c->node_name))
                return 0; /* its data lives on that node: only `berth release` frees it */
        own = own_free_binding(s);
        if (own >= 0 && own != ordinal)
                return 0; /* this node takes back its own data first */
        /* the data of a set with claim templates lives on the node that runs the ordinal */
        return call_start(s->c, s->ns, s->name, (unsigned)ordinal, false,
                          cJSON_GetArraySize(s->p.claim_templates) > 0, false);
}

static bool has_local_pod(const StsSync *s, int64_t ordinal)
{
        const cJSON *pod;

        cJSON_ArrayForEach (pod, s->pods)
                if (sts_pod_ordinal(json_str(pod, "metadata.name"), s->p.name) == ordinal)
                        return true;
        return false;
}

int sts_cluster_release_unused(StsSync *s)
{
        const StsClusterView *v = &s->cluster;
        bool deleting = json_str(s->set, "metadata.deletionTimestamp") != NULL;

        if (!v->active)
                return 0;
        for (size_t i = 0; i < v->n_mine; i++) {
                int64_t ord = v->mine[i];

                if ((sts_in_range(&s->p, ord) && !deleting) || has_local_pod(s, ord))
                        continue;
                return call_start(s->c, s->ns, s->name, (unsigned)ord, true,
                                  deleting ? !s->p.deleted_delete : !s->p.scaled_delete, false);
        }
        return 0;
}

/* Whether a claim "<template>-<pod name>" of the gone set's pod is still stored here. */
static bool has_claims_of(StatefulSetController *c, const char *ns, const char *pod_name)
{
        _cleanup_json_ cJSON *claims = NULL;
        const cJSON *claim;
        size_t n = strlen(pod_name);

        if (store_list(c->store, "PersistentVolumeClaim", ns, NULL, &claims) < 0)
                return true; /* keep the binding rather than lose track of data */
        cJSON_ArrayForEach (claim, claims) {
                const char *cn = json_str(claim, "metadata.name");
                size_t l = cn ? strlen(cn) : 0;

                if (l > n + 1 && streq(cn + l - n, pod_name) && cn[l - n - 1] == '-')
                        return true;
        }
        return false;
}

int sts_cluster_release_all(StatefulSetController *c, const char *ns, const char *name)
{
        const CoordinatorHeld *held = NULL;
        size_t n;

        if (!c->co)
                return 0;
        n = coordinator_claims(c->co, &held);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *pod_name = NULL;
                _cleanup_json_ cJSON *pod = NULL;

                if (!streq(held[i].ns, ns) || !streq(held[i].set, name))
                        continue;
                if (asprintf(&pod_name, "%s-%u", name, held[i].ordinal) < 0)
                        return -ENOMEM;
                if (store_get(c->store, "Pod", ns, pod_name, &pod) >= 0)
                        continue; /* its removal syncs the set's name again */
                /* the retention policy kept the claims or deleted them with the set: the data
                 * binding stays only with data left on this node */
                return call_start(c, ns, name, held[i].ordinal, true, has_claims_of(c, ns, pod_name), false);
        }
        return 0;
}

void statefulset_controller_set_cluster(StatefulSetController *c, Coordinator *co, Fleet *fleet)
{
        c->co = co && coordinator_type(co) == COORDINATOR_ETCD ? co : NULL;
        c->fleet = c->co ? fleet : NULL;
        if (c->co && !c->fleet)
                c->co = NULL;
}

void statefulset_controller_hold_until(StatefulSetController *c, usec_t until)
{
        c->hold_until = until;
}

bool sts_cluster_holding(StsSync *s)
{
        StatefulSetController *c = s->c;

        if (!c->co || c->hold_until == 0)
                return false;
        if (coordinator_state(c->co) == COORDINATOR_READY || s->now >= c->hold_until) {
                c->hold_until = 0;
                return false;
        }
        workqueue_add_at(c->queue, s->ns, s->name, CLOCK_REALTIME, c->hold_until);
        return true;
}

void statefulset_controller_on_coordinator_state(StatefulSetController *c, CoordinatorState state)
{
        _cleanup_json_ cJSON *pods = NULL;
        const cJSON *pod;
        unsigned n = 0;

        if (!c || !c->co)
                return;
        c->hold_until = 0;
        if (state == COORDINATOR_READY) {
                (void)statefulset_controller_resync(c);
                return;
        }
        /* fail closed, now rather than at the next sync of each set */
        if (store_list(c->store, "Pod", NULL, NULL, &pods) < 0) {
                log_error("Cannot list pods to stop those of StatefulSet ordinals: out of memory.");
                return;
        }
        cJSON_ArrayForEach (pod, pods) {
                const cJSON *ref = controller_ref(pod);
                const char *node = json_str(pod, "spec.nodeName");

                if (!ref || !streq_ptr(json_str(ref, "kind"), "StatefulSet") ||
                    (!isempty(node) && !streq(node, c->node_name)) ||
                    json_str(pod, "metadata.deletionTimestamp"))
                        continue;
                (void)fence(c, pod, "this node's lease in the coordinator is not renewed");
                n++;
        }
        if (n > 0)
                log_warning("Stopped %u pods of StatefulSet ordinals before the lease can expire.", n);
}

void statefulset_controller_on_claims_changed(StatefulSetController *c)
{
        if (c && c->co)
                (void)statefulset_controller_resync(c);
}

void statefulset_controller_on_fleet_pod(StatefulSetController *c, const cJSON *pod)
{
        const cJSON *ref = controller_ref(pod);

        if (!c || !c->co || !ref || !streq_ptr(json_str(ref, "kind"), "StatefulSet") ||
            !json_str(ref, "name"))
                return;
        workqueue_add(c->queue, json_str(pod, "metadata.namespace") ?: "default", json_str(ref, "name"));
}

int statefulset_controller_release(StatefulSetController *c, const char *ns, const char *set,
                                   unsigned ordinal)
{
        _cleanup_json_ cJSON *obj = NULL;
        StsParams p;
        int r;

        if (!c->co)
                return -EOPNOTSUPP;
        r = store_get(c->store, "StatefulSet", ns, set, &obj);
        if (r < 0)
                return r;
        sts_params_from_set(obj, &p);
        if ((int64_t)ordinal < p.start)
                return -ERANGE;
        if (coordinator_state(c->co) != COORDINATOR_READY)
                return -EAGAIN;
        if (call_find(c, ns, set))
                return -EBUSY;
        return call_start(c, ns, set, ordinal, false, false, true);
}
