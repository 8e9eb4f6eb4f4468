/* The fleet's etcd side: objects/ and pods/ listed (one range, with the coordinator's
 * ordinals/ between them skipped), the list reconciled with the store through the bookkeeping
 * of the last sync, then watched from the list's revision + 1; others' changes applied to the
 * store with the fleet's own flag; a broken or compacted watch listed again with back-off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-internal.h"
#include "json-util.h"
#include "log.h"

static const char *const kinds[] = {
    "Namespace", "ConfigMap", "Secret", "Service", "StatefulSet", "DaemonSet", "CronJob",
};

/* --- the store written by the fleet --- */

int fleet_store_apply(Fleet *f, FleetObject *o)
{
        _cleanup_json_ cJSON *ret = NULL;
        _cleanup_free_ char *key = fleet_object_key(o->form);
        int r;

        /* etcd is shared: what another writer put there is checked like any input */
        if (!o->form || !key || !streq(key, o->key) || !fleet_kind(json_str(o->form, "kind")))
                return log_debug_errno(EBADMSG, "fleet: %s in etcd is no fleet object of that name", o->key);
        f->writing = true;
        r = store_apply_replica(f->store, o->form, &ret, NULL, NULL);
        f->writing = false;
        if (r < 0)
                return log_debug_errno(r, "fleet: cannot apply %s from etcd: %m", o->key);
        fleet_book_set(f, o->key, o->mod, json_str(ret, "metadata.resourceVersion"));
        return 0;
}

int fleet_store_delete(Fleet *f, const char *key)
{
        _cleanup_free_ char *kind = NULL, *ns = NULL, *name = NULL;
        int r;

        r = fleet_key_split(key, &kind, &ns, &name);
        if (r < 0)
                return r;
        f->writing = true;
        r = store_delete_object(f->store, kind, streq(ns, "_") ? NULL : ns, name, -1,
                                STORE_PROPAGATE_BACKGROUND, NULL);
        f->writing = false;
        fleet_book_delete(f, key);
        if (r < 0 && r != -ENOENT)
                return log_debug_errno(r, "fleet: cannot delete %s: %m", key);
        return 0;
}

/* --- others' changes --- */

static bool local_form_equal(Fleet *f, const FleetObject *o, char **ret_rv)
{
        _cleanup_free_ char *kind = NULL, *ns = NULL, *name = NULL;
        _cleanup_json_ cJSON *local = NULL, *form = NULL;
        const char *rv;

        if (fleet_key_split(o->key, &kind, &ns, &name) < 0 ||
            store_get(f->store, kind, streq(ns, "_") ? NULL : ns, name, &local) < 0 ||
            fleet_form(local, &form) < 0 || !fleet_form_equal(form, o->form))
                return false;
        rv = json_str(local, "metadata.resourceVersion");
        *ret_rv = rv ? strdup(rv) : NULL;
        return true;
}

static int object_put(Fleet *f, const char *rel, const char *value, int64_t mod)
{
        _cleanup_free_ char *rv = NULL;
        FleetObject *o = fleet_object_get(f, rel);
        bool own;
        int r;

        if (!o)
                return -ENOMEM;
        if (o->pub && !o->pub->echoed) {
                /* this agent's write in flight: its own event, or one before that it overwrites */
                o->pub->echoed = streq_ptr(o->pub->value, value);
                own = true;
        } else {
                own = streq_ptr(o->written, value);
                if (own)
                        o->written = mfree(o->written);
        }
        r = fleet_object_set_etcd(o, value, mod);
        if (r < 0 || own)
                return r;
        o->written = mfree(o->written);
        o->deleted = false;
        if (o->dirty) /* a local change waits: it is published over this one */
                return 0;
        if (local_form_equal(f, o, &rv)) {
                fleet_book_set(f, o->key, mod, rv);
                return 0;
        }
        return fleet_store_apply(f, o);
}

static int object_deleted(Fleet *f, const char *rel, int64_t mod)
{
        FleetObject *o = fleet_object_get(f, rel);
        bool own;
        int r;

        if (!o)
                return -ENOMEM;
        if (o->pub && !o->pub->echoed) {
                o->pub->echoed = !o->pub->value;
                own = true;
        } else {
                own = o->deleted;
                o->deleted = false;
        }
        r = fleet_object_set_etcd(o, NULL, mod);
        if (r < 0 || own)
                return r;
        o->written = mfree(o->written);
        /* deleted elsewhere: a local change waiting goes with it */
        o->dirty = false;
        return fleet_store_delete(f, rel);
}

static const char *relative(const Fleet *f, const char *key, const char *what)
{
        size_t plen = strlen(f->prefix), wlen = strlen(what);

        if (!startswith(key, f->prefix) || strncmp(key + plen, what, wlen) != 0)
                return NULL;
        return key + plen + wlen;
}

/* pods/<node>/... of another node, or NULL. */
static const char *other_pod(const Fleet *f, const char *key)
{
        const char *rel = relative(f, key, "pods/");
        size_t n = strlen(f->node);

        if (!rel || (strncmp(rel, f->node, n) == 0 && rel[n] == '/'))
                return NULL;
        return rel;
}

/* --- list and watch --- */

static void list_start(Fleet *f);

static int on_list_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        list_start(userdata);
        return 0;
}

static void list_retry(Fleet *f)
{
        int r = fleet_timer_arm(f, &f->list_timer, fleet_backoff_next(&f->list_backoff), on_list_timer,
                                "fleet-relist");

        if (r < 0)
                log_debug_errno(r, "fleet: cannot arm the relist timer: %m");
}

static void on_watch_event(EtcdRequest *w, const EtcdWatchResponse *wr, void *userdata)
{
        Fleet *f = userdata;
        bool gc = false;

        for (size_t i = 0; i < wr->n_events; i++) {
                const EtcdEvent *ev = &wr->events[i];
                const char *rel;
                int r = 0;

                if ((rel = relative(f, ev->kv.key, "objects/"))) {
                        r = ev->type == ETCD_EVENT_PUT
                                ? object_put(f, rel, ev->kv.value, ev->kv.mod_revision)
                                : object_deleted(f, rel, ev->kv.mod_revision);
                        gc = true;
                } else if ((rel = relative(f, ev->kv.key, "pod-deletions/"))) {
                        if (ev->type == ETCD_EVENT_PUT)
                                fleet_deletion_seen(f, rel, ev->kv.value);
                } else if ((rel = other_pod(f, ev->kv.key))) {
                        if (ev->type == ETCD_EVENT_PUT)
                                r = fleet_pods_set(f, rel, ev->kv.value);
                        else
                                fleet_pods_remove(f, rel);
                }
                if (r == -ENOMEM) {
                        /* what is known misses a change: list it all again */
                        etcd_request_cancel(f->watch);
                        f->watch = NULL;
                        return list_retry(f);
                }
        }
        if (gc)
                fleet_objects_gc(f);
}

static void on_watch_done(EtcdRequest *w, const EtcdError *e, void *userdata)
{
        Fleet *f = userdata;

        f->watch = NULL;
        log_debug("fleet: the watch ended: %s", e->text);
        /* compacted: events are missing, list again now; else etcd is away */
        if (e->error == -ESTALE)
                list_start(f);
        else
                list_retry(f);
}

/* One object's reconcile (module comment of fleet.h). */
static void reconcile_one(Fleet *f, FleetObject *o)
{
        _cleanup_json_ cJSON *form = NULL;
        _cleanup_free_ char *brv = NULL;
        const char *rv = json_str(o->local, "metadata.resourceVersion");
        int64_t bmod;

        if (fleet_book_get(f, o->key, &bmod, &brv) < 0) {
                o->dirty = false;
                return;
        }
        o->dirty = false;
        if (o->value && o->local) {
                if (bmod && bmod == o->mod && !streq_ptr(brv, rv))
                        o->dirty = true; /* changed here only */
                else if (fleet_form(o->local, &form) < 0 || !fleet_form_equal(form, o->form))
                        (void)fleet_store_apply(f, o);
                else if (bmod != o->mod || !streq_ptr(brv, rv))
                        fleet_book_set(f, o->key, o->mod, rv);
        } else if (o->value) {
                if (bmod && bmod == o->mod)
                        o->dirty = true; /* deleted here since, unchanged there: deleted there */
                else
                        (void)fleet_store_apply(f, o);
        } else if (o->local) {
                if (bmod) /* synced before: deleted elsewhere */
                        (void)fleet_store_delete(f, o->key);
                else
                        o->dirty = true;
        }
}

static int reconcile(Fleet *f)
{
        cJSON *lists[ELEMENTSOF(kinds)] = {};
        int r = 0;

        for (size_t k = 0; k < ELEMENTSOF(kinds) && r >= 0; k++) {
                const cJSON *obj;

                r = store_list(f->store, kinds[k], NULL, NULL, &lists[k]);
                if (r < 0)
                        break;
                cJSON_ArrayForEach (obj, lists[k]) {
                        _cleanup_free_ char *key = fleet_object_key(obj);
                        FleetObject *o = key ? fleet_object_get(f, key) : NULL;

                        if (!o) {
                                r = -ENOMEM;
                                break;
                        }
                        o->local = obj;
                }
        }
        /* a write in flight is decided when it is answered */
        for (size_t i = 0; r >= 0 && i < f->n_objects; i++)
                if (!f->objects[i].pub)
                        reconcile_one(f, &f->objects[i]);
        for (size_t i = 0; i < f->n_objects; i++)
                f->objects[i].local = NULL;
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                cJSON_Delete(lists[k]);
        return r;
}

static int objects_listed(Fleet *f, const EtcdOpResponse *op)
{
        /* what etcd holds now; a key this agent writes keeps what its answer brings */
        for (size_t i = 0; i < f->n_objects; i++)
                if (!f->objects[i].pub && fleet_object_set_etcd(&f->objects[i], NULL, 0) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < op->n_kvs; i++) {
                const char *rel = relative(f, op->kvs[i].key, "objects/");
                FleetObject *o;

                if (!rel)
                        continue;
                o = fleet_object_get(f, rel);
                if (!o || fleet_object_set_etcd(o, op->kvs[i].value, op->kvs[i].mod_revision) < 0)
                        return -ENOMEM;
        }
        return reconcile(f);
}

static int pods_listed(Fleet *f, const EtcdOpResponse *op)
{
        FleetPod *pods = calloc(op->n_kvs + 1, sizeof(FleetPod));
        size_t n = 0;

        if (!pods)
                return -ENOMEM;
        for (size_t i = 0; i < op->n_kvs; i++) {
                const char *rel = other_pod(f, op->kvs[i].key);
                cJSON *pod;

                if (!rel)
                        continue;
                pod = cJSON_Parse(op->kvs[i].value);
                if (!pod) /* not a pod: known as none */
                        continue;
                pods[n] = (FleetPod){.key = strdup(rel), .pod = pod};
                if (!pods[n++].key) {
                        fleet_pods_free(pods, n);
                        return -ENOMEM;
                }
        }
        /* etcd lists in key order, and one prefix keeps that order */
        fleet_pods_replace(f, pods, n);
        return 0;
}

static void on_listed(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Fleet *f = userdata;
        _cleanup_free_ char *from = NULL, *to = NULL;
        int r;

        f->list_call = NULL;
        if (e) {
                fleet_failed(&f->list_failure, e->error, "listing the fleet's objects", e->text);
                return list_retry(f);
        }
        r = pods_listed(f, &resp->op);
        if (r >= 0)
                r = objects_listed(f, &resp->op);
        /* requests made while this node was away */
        for (size_t i = 0; r >= 0 && i < resp->op.n_kvs; i++) {
                const char *rel = relative(f, resp->op.kvs[i].key, "pod-deletions/");

                if (rel)
                        fleet_deletion_seen(f, rel, resp->op.kvs[i].value);
        }
        fleet_objects_gc(f);
        from = fleet_key(f, "objects/", "");
        to = fleet_key(f, "pods0", "");
        if (r >= 0 && (!from || !to))
                r = -ENOMEM;
        if (r >= 0)
                r = etcd_watch(c, from,
                               &(EtcdWatchOptions){.range_end = to, .start_revision = resp->revision + 1},
                               on_watch_event, on_watch_done, f, &f->watch);
        if (r < 0) {
                fleet_failed(&f->list_failure, r, "reconciling the fleet's objects", NULL);
                return list_retry(f);
        }
        f->list_failure.error = 0;
        f->list_backoff = 0;
        f->synced = true;
        fleet_publish_kick(f);
}

/* objects/, pod-deletions/ and pods/ in one range: "objects/" < "ordinals/" < "pod-deletions/" <
 * "pods/" < "pods0". */
static void list_start(Fleet *f)
{
        _cleanup_free_ char *from = fleet_key(f, "objects/", ""), *to = fleet_key(f, "pods0", "");
        EtcdClient *c = coordinator_etcd(f->co);
        int r;

        if (f->list_timer)
                (void)sd_event_source_set_enabled(f->list_timer, SD_EVENT_OFF);
        etcd_request_cancel(f->watch);
        etcd_request_cancel(f->list_call);
        f->watch = f->list_call = NULL;
        if (!from || !to || !c)
                return list_retry(f);
        r = etcd_range(c, from, &(EtcdRangeOptions){.range_end = to}, on_listed, f, &f->list_call);
        if (r < 0)
                list_retry(f);
}

void fleet_sync_start(Fleet *f)
{
        f->list_backoff = 0;
        list_start(f);
}

void fleet_sync_stop(Fleet *f)
{
        if (f->list_timer)
                (void)sd_event_source_set_enabled(f->list_timer, SD_EVENT_OFF);
        etcd_request_cancel(f->watch);
        etcd_request_cancel(f->list_call);
        f->watch = f->list_call = NULL;
}
