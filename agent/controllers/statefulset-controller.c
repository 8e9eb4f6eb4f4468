/* The StatefulSet controller's loop side: the work queue of sets, store notifications (a
 * set's own changes, its pods' and claims' changes, found through their controller
 * ownerReference or their "<set>-<ordinal>" names), the queue that deletes the claims of
 * removed pods (the garbage collector's part for whenScaled: Delete), and resync. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "statefulset-internal.h"

/* a failed sync is tried again after this long (the queue itself never retries) */
#define STS_RETRY_USEC (10 * USEC_PER_SEC)

static int on_sync(void *userdata, const char *ns, const char *name)
{
        StatefulSetController *c = userdata;
        int r;

        r = sts_sync(c, ns, name);
        if (r < 0) {
                workqueue_add_after(c->queue, ns, name, STS_RETRY_USEC);
                /* waiting on a claim being deleted is no failure worth more than a debug line */
                if (r == -EBUSY || r == -EEXIST || r == -ESTALE)
                        return log_debug_errno(r, "StatefulSet %s/%s: %m, retrying.", ns, name), 0;
        }
        return r;
}

static int on_claim_gc(void *userdata, const char *ns, const char *pod_uid)
{
        return sts_claims_collect(userdata, ns, pod_uid);
}

static const cJSON *controller_of(const cJSON *obj)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return ref;
        return NULL;
}

/* The parent of "<parent>-<n>" (a malloc'd copy), NULL when name has no ordinal. */
static char *parent_name(const char *name)
{
        const char *dash = name ? strrchr(name, '-') : NULL;

        if (!dash || dash == name || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
                return NULL;
        return strndup(name, (size_t)(dash - name));
}

static void enqueue_parent_of(StatefulSetController *c, const char *ns, const char *pod_name)
{
        _cleanup_free_ char *parent = parent_name(pod_name);

        if (parent)
                workqueue_add(c->queue, ns, parent);
}

/* An unowned claim "<template>-<set>-<ordinal>": the sets in ns with such a template. */
static void enqueue_claim_sets(StatefulSetController *c, const char *ns, const char *claim)
{
        _cleanup_free_ char *prefix = parent_name(claim);
        _cleanup_json_ cJSON *sets = NULL;
        const cJSON *set, *t;

        if (!prefix || store_list(c->store, "StatefulSet", ns, NULL, &sets) < 0)
                return;
        cJSON_ArrayForEach (set, sets) {
                const char *sn = json_str(set, "metadata.name");

                cJSON_ArrayForEach (t, json_path(set, "spec.volumeClaimTemplates")) {
                        const char *tn = json_str(t, "metadata.name");
                        size_t lt = tn ? strlen(tn) : 0;

                        if (sn && tn && strlen(prefix) == lt + 1 + strlen(sn) &&
                            strncmp(prefix, tn, lt) == 0 && prefix[lt] == '-' &&
                            streq(prefix + lt + 1, sn)) {
                                workqueue_add(c->queue, ns, sn);
                                break;
                        }
                }
        }
}

void statefulset_controller_on_store_change(StatefulSetController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *ns = json_str(obj, "metadata.namespace") ?: "default";
        const cJSON *ref;
        bool pod;

        if (!c || !kind)
                return;
        if (streq(kind, "StatefulSet")) {
                workqueue_add(c->queue, ns, json_str(obj, "metadata.name"));
                return;
        }
        pod = streq(kind, "Pod");
        if (!pod && !streq(kind, "PersistentVolumeClaim"))
                return;
        if (pod && change == STORE_DELETED && json_str(obj, "metadata.uid"))
                workqueue_add(c->claim_gc, ns, json_str(obj, "metadata.uid"));
        ref = controller_of(obj);
        if (ref && streq_ptr(json_str(ref, "kind"), "StatefulSet") &&
            streq_ptr(json_str(ref, "apiVersion"), "apps/v1") && json_str(ref, "name"))
                workqueue_add(c->queue, ns, json_str(ref, "name"));
        else if (ref && !pod && streq_ptr(json_str(ref, "kind"), "Pod"))
                /* a claim the retention policy gave to its pod */
                enqueue_parent_of(c, ns, json_str(ref, "name"));
        else if (!ref && pod)
                /* an orphan its set may adopt */
                enqueue_parent_of(c, ns, json_str(obj, "metadata.name"));
        else if (!ref)
                enqueue_claim_sets(c, ns, json_str(obj, "metadata.name"));
}

int statefulset_controller_resync(StatefulSetController *c)
{
        return workqueue_add_all(c->queue, c->store, "StatefulSet");
}

int statefulset_controller_new(StatefulSetController **ret, sd_event *e, Store *store,
                               const StatefulSetControllerOptions *o)
{
        _cleanup_(statefulset_controller_freep) StatefulSetController *c =
            calloc(1, sizeof(StatefulSetController));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->store = store;
        c->node_name = strdup(o && o->node_name ? o->node_name : "");
        if (!c->node_name)
                return -ENOMEM;
        r = workqueue_new(&c->queue, e, "statefulset-controller", on_sync, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->queue, "StatefulSet");
        r = workqueue_new(&c->claim_gc, e, "statefulset-claim-gc", on_claim_gc, c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

StatefulSetController *statefulset_controller_free(StatefulSetController *c)
{
        if (!c)
                return NULL;
        sts_cluster_cancel_all(c);
        workqueue_free(c->claim_gc);
        workqueue_free(c->queue);
        free(c->node_name);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
