/* The DaemonSet controller's loop side: the work queue, store notifications (a set's own
 * changes, its pods' changes through the pod's controller ownerReference, and this node's
 * Node object, which can change every set's eligibility), resync, and the in-memory
 * failed-pod back-off (failedPodsBackoff). */
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"
#include "log.h"

static int on_sync(void *userdata, const char *ns, const char *name)
{
        return daemonset_sync(userdata, ns, name);
}

/* Enqueues the sets of namespace ns whose selector matches labels. */
static void enqueue_selecting(DaemonSetController *c, const char *ns, const cJSON *labels)
{
        _cleanup_json_ cJSON *sets = NULL;
        const cJSON *d;

        if (store_list(c->store, "DaemonSet", ns, NULL, &sets) < 0)
                return;
        cJSON_ArrayForEach (d, sets) {
                _cleanup_(label_selector_freep) LabelSelector *sel = NULL;

                if (label_selector_from_json(json_path(d, "spec.selector"), &sel) < 0 ||
                    label_selector_empty(sel) || !label_selector_matches(sel, labels))
                        continue;
                workqueue_add(c->queue, ns, json_str(d, "metadata.name"));
        }
}

void daemonset_controller_on_store_change(DaemonSetController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *ns = json_str(obj, "metadata.namespace");
        const cJSON *ref;

        if (!c || !kind)
                return;
        if (streq(kind, "DaemonSet")) {
                workqueue_add(c->queue, ns ?: "default", json_str(obj, "metadata.name"));
                return;
        }
        if (streq(kind, "Node")) {
                if (streq_ptr(json_str(obj, "metadata.name"), c->node_name))
                        (void)daemonset_controller_resync(c);
                return;
        }
        if (!streq(kind, "Pod"))
                return;
        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false)) {
                        if (streq_ptr(json_str(ref, "kind"), "DaemonSet") &&
                            streq_ptr(json_str(ref, "apiVersion"), "apps/v1") && json_str(ref, "name"))
                                workqueue_add(c->queue, ns ?: "default", json_str(ref, "name"));
                        return;
                }
        /* addPod: a new orphan wakes the sets that may adopt it (updates are not looked at:
         * without the old object a label change cannot be told from a status write) */
        if (change == STORE_ADDED && !json_str(obj, "metadata.deletionTimestamp"))
                enqueue_selecting(c, ns ?: "default", json_path(obj, "metadata.labels"));
}

int daemonset_controller_resync(DaemonSetController *c)
{
        return workqueue_add_all(c->queue, c->store, "DaemonSet");
}

static DaemonSetBackoff *backoff_find(DaemonSetController *c, const char *key)
{
        for (size_t i = 0; i < c->n_backoffs; i++)
                if (streq(c->backoffs[i].key, key))
                        return &c->backoffs[i];
        return NULL;
}

static bool backoff_expired(const DaemonSetBackoff *b, usec_t now)
{
        return now > b->last_update && now - b->last_update > 2 * DAEMONSET_FAILED_POD_MAX_BACKOFF_USEC;
}

/* Backoff.GC, run on every Next instead of once a minute. */
static void backoff_gc(DaemonSetController *c, usec_t now)
{
        size_t k = 0;

        for (size_t i = 0; i < c->n_backoffs; i++) {
                if (backoff_expired(&c->backoffs[i], now)) {
                        free(c->backoffs[i].key);
                        continue;
                }
                c->backoffs[k++] = c->backoffs[i];
        }
        c->n_backoffs = k;
}

bool daemonset_backoff_active(DaemonSetController *c, const char *key, usec_t now, usec_t *ret_delay)
{
        const DaemonSetBackoff *b = backoff_find(c, key);

        if (!b || backoff_expired(b, now))
                return false;
        if (now >= b->last_update && now - b->last_update >= b->backoff)
                return false;
        *ret_delay = b->backoff;
        return true;
}

int daemonset_backoff_next(DaemonSetController *c, const char *key, usec_t now)
{
        DaemonSetBackoff *b;

        backoff_gc(c, now);
        b = backoff_find(c, key);
        if (!b) {
                DaemonSetBackoff *v = realloc(c->backoffs, (c->n_backoffs + 1) * sizeof(DaemonSetBackoff));
                if (!v)
                        return -ENOMEM;
                c->backoffs = v;
                b = &c->backoffs[c->n_backoffs];
                *b = (DaemonSetBackoff){.key = strdup(key)};
                if (!b->key)
                        return -ENOMEM;
                c->n_backoffs++;
        }
        if (b->backoff == 0 || backoff_expired(b, now))
                b->backoff = DAEMONSET_FAILED_POD_BACKOFF_USEC;
        else
                b->backoff = MIN(b->backoff * 2, DAEMONSET_FAILED_POD_MAX_BACKOFF_USEC);
        b->last_update = now;
        return 0;
}

int daemonset_controller_new(DaemonSetController **ret, sd_event *e, Store *store,
                             const DaemonSetControllerOptions *o)
{
        _cleanup_(daemonset_controller_freep) DaemonSetController *c =
            calloc(1, sizeof(DaemonSetController));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->store = store;
        c->node_name = strdup(o && o->node_name ? o->node_name : "");
        if (!c->node_name)
                return -ENOMEM;
        r = workqueue_new(&c->queue, e, "daemonset-controller", on_sync, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->queue, "DaemonSet");
        *ret = TAKE_PTR(c);
        return 0;
}

DaemonSetController *daemonset_controller_free(DaemonSetController *c)
{
        if (!c)
                return NULL;
        daemonset_cluster_cancel_all(c);
        workqueue_free(c->queue);
        for (size_t i = 0; i < c->n_backoffs; i++)
                free(c->backoffs[i].key);
        free(c->backoffs);
        free(c->node_name);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
