/* The fleet's life cycle and its local side: the coordinator's states, the store's changes
 * turned into publications (a dirty set of object keys, put or deleted in etcd, retried with
 * back-off), the per-object bookkeeping of the last sync, and the helpers the other parts of
 * the fleet share. Listing and watching are in fleet-sync.c, pods in fleet-pods.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-internal.h"
#include "json-util.h"
#include "log.h"

#define RETRY_FIRST_USEC (250 * USEC_PER_MSEC)
#define RETRY_MAX_USEC (5 * USEC_PER_SEC)
#define BOOK_PREFIX "fleet/"

static const char *const fleet_kinds[] = {
    "Namespace", "ConfigMap", "Secret", "Service", "StatefulSet", "DaemonSet", "CronJob",
};

bool fleet_kind(const char *kind)
{
        for (size_t i = 0; kind && i < ELEMENTSOF(fleet_kinds); i++)
                if (streq(kind, fleet_kinds[i]))
                        return true;
        return false;
}

/* --- shared helpers --- */

usec_t fleet_backoff_next(usec_t *b)
{
        *b = *b ? MIN(*b * 2, RETRY_MAX_USEC) : RETRY_FIRST_USEC;
        return *b;
}

int fleet_timer_arm(Fleet *f, sd_event_source **s, usec_t delay, sd_event_time_handler_t h,
                    const char *description)
{
        usec_t at = now_usec(CLOCK_BOOTTIME) + delay;
        int r;

        if (*s) {
                r = sd_event_source_set_time(*s, at);
                return r < 0 ? r : sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        r = sd_event_add_time(f->event, s, CLOCK_BOOTTIME, at, USEC_PER_MSEC, h, f);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(*s, description);
        return 0;
}

void fleet_failed(FleetFailure *fl, int error, const char *what, const char *text)
{
        /* etcd away makes every retry fail the same way: say it once */
        if (fl->error != error)
                log_warning("fleet: %s failed: %s", what, text ?: strerror(-error));
        else
                log_debug("fleet: %s failed: %s", what, text ?: strerror(-error));
        fl->error = error;
}

char *fleet_key(const Fleet *f, const char *what, const char *rel)
{
        return strjoin(f->prefix, what, rel, NULL);
}

char *fleet_object_key(const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *name = json_str(obj, "metadata.name"),
                   *ns = json_str(obj, "metadata.namespace");

        if (isempty(kind) || isempty(name))
                return NULL;
        return strjoin(kind, "/", isempty(ns) ? "_" : ns, "/", name, NULL);
}

int fleet_key_split(const char *rel, char **ret_a, char **ret_b, char **ret_c)
{
        const char *s1 = strchr(rel, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        if (!s1 || !s2 || s1 == rel || s2 == s1 + 1 || !s2[1] || strchr(s2 + 1, '/'))
                return -EINVAL;
        a = strndup(rel, s1 - rel);
        b = strndup(s1 + 1, s2 - s1 - 1);
        c = strdup(s2 + 1);
        if (!a || !b || !c)
                return -ENOMEM;
        *ret_a = TAKE_PTR(a);
        *ret_b = TAKE_PTR(b);
        *ret_c = TAKE_PTR(c);
        return 0;
}

int fleet_form(const cJSON *obj, cJSON **ret)
{
        static const char *const meta_kept[] = {"name",   "namespace",  "uid", "creationTimestamp",
                                                "labels", "annotations"};
        _cleanup_json_ cJSON *form = cJSON_CreateObject();
        const cJSON *c;

        if (!form)
                return -ENOMEM;
        if (!cJSON_IsObject(obj))
                return -EINVAL;
        cJSON_ArrayForEach (c, obj) {
                cJSON *copy;

                if (streq(c->string, "status"))
                        continue;
                if (!streq(c->string, "metadata"))
                        copy = cJSON_Duplicate(c, true);
                else {
                        copy = cJSON_CreateObject();
                        for (size_t i = 0; copy && i < ELEMENTSOF(meta_kept); i++) {
                                const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, meta_kept[i]);

                                if (v && json_set(copy, meta_kept[i], cJSON_Duplicate(v, true)) < 0)
                                        copy = (cJSON_Delete(copy), NULL);
                        }
                }
                if (json_set(form, c->string, copy) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(form);
        return 0;
}

bool fleet_form_equal(const cJSON *a, const cJSON *b)
{
        if (!a || !b)
                return a == b;
        return cJSON_Compare(a, b, true);
}

/* --- the objects as known --- */

static size_t object_lower_bound(const Fleet *f, const char *key)
{
        size_t lo = 0, hi = f->n_objects;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(f->objects[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

FleetObject *fleet_object_find(Fleet *f, const char *key)
{
        size_t i = object_lower_bound(f, key);

        return i < f->n_objects && streq(f->objects[i].key, key) ? &f->objects[i] : NULL;
}

FleetObject *fleet_object_get(Fleet *f, const char *key)
{
        size_t i = object_lower_bound(f, key);
        FleetObject *n;
        char *k;

        if (i < f->n_objects && streq(f->objects[i].key, key))
                return &f->objects[i];
        n = realloc(f->objects, (f->n_objects + 1) * sizeof(FleetObject));
        if (!n)
                return NULL;
        f->objects = n;
        k = strdup(key);
        if (!k)
                return NULL;
        memmove(&f->objects[i + 1], &f->objects[i], (f->n_objects - i) * sizeof(FleetObject));
        f->objects[i] = (FleetObject){.key = k};
        f->n_objects++;
        return &f->objects[i];
}

int fleet_object_set_etcd(FleetObject *o, const char *value, int64_t mod)
{
        _cleanup_free_ char *v = value ? strdup(value) : NULL;

        if (value && !v)
                return -ENOMEM;
        o->mod = mod;
        if (streq_ptr(o->value, value))
                return 0;
        cJSON_Delete(o->form);
        o->form = v ? cJSON_Parse(v) : NULL; /* a value that is no JSON is known as none */
        free(o->value);
        o->value = TAKE_PTR(v);
        return 0;
}

static void publish_free(FleetPublish *p)
{
        if (!p)
                return;
        etcd_request_cancel(p->call);
        free(p->key);
        free(p->value);
        free(p->rv);
        free(p);
}

static void object_clear(FleetObject *o)
{
        publish_free(o->pub);
        free(o->key);
        free(o->value);
        free(o->written);
        cJSON_Delete(o->form);
}

void fleet_objects_gc(Fleet *f)
{
        size_t j = 0;

        for (size_t i = 0; i < f->n_objects; i++) {
                FleetObject *o = &f->objects[i];

                if (!o->value && !o->written && !o->deleted && !o->dirty && !o->pub)
                        object_clear(o);
                else
                        f->objects[j++] = *o;
        }
        f->n_objects = j;
}

/* --- the bookkeeping: {"mod": etcd mod revision, "rv": local resourceVersion} per object --- */

int fleet_book_get(Fleet *f, const char *key, int64_t *ret_mod, char **ret_rv)
{
        _cleanup_free_ char *k = strjoin(BOOK_PREFIX, key, NULL);
        _cleanup_json_ cJSON *v = NULL;
        const char *rv;
        int r;

        *ret_mod = 0;
        *ret_rv = NULL;
        if (!k)
                return -ENOMEM;
        r = store_kv_get(f->store, k, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        rv = json_str(v, "rv");
        if (rv && !(*ret_rv = strdup(rv)))
                return -ENOMEM;
        *ret_mod = json_int(v, "mod", 0);
        return 0;
}

void fleet_book_set(Fleet *f, const char *key, int64_t mod, const char *rv)
{
        _cleanup_free_ char *k = strjoin(BOOK_PREFIX, key, NULL);
        _cleanup_json_ cJSON *v = cJSON_CreateObject();
        int r = -ENOMEM;

        if (k && v && json_set_int(v, "mod", mod) >= 0 && json_set_string(v, "rv", rv ?: "") >= 0)
                r = store_kv_set(f->store, k, v);
        if (r < 0)
                log_debug_errno(r, "fleet: cannot record the sync of %s: %m", key);
}

void fleet_book_delete(Fleet *f, const char *key)
{
        _cleanup_free_ char *k = strjoin(BOOK_PREFIX, key, NULL);
        int r = k ? store_kv_delete(f->store, k) : -ENOMEM;

        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "fleet: cannot forget the sync of %s: %m", key);
}

/* --- publishing --- */

static int on_publish_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void publish_retry(Fleet *f)
{
        int r = fleet_timer_arm(f, &f->publish_timer, fleet_backoff_next(&f->publish_backoff),
                                on_publish_timer, "fleet-publish-retry");

        if (r < 0)
                log_debug_errno(r, "fleet: cannot arm the publish retry: %m");
}

static void on_published(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        FleetPublish *p = userdata;
        Fleet *f = p->f;
        FleetObject *o = fleet_object_find(f, p->key);

        p->call = NULL;
        if (!o || o->pub != p) /* cannot be: an entry with a call in flight stays */
                return publish_free(p);
        o->pub = NULL;
        if (e) {
                fleet_failed(&f->publish_failure, e->error, "writing objects to etcd", e->text);
                if (!p->value)
                        o->deleted = false;
                o->dirty = true;
                publish_free(p);
                return publish_retry(f);
        }
        f->publish_failure.error = 0;
        f->publish_backoff = 0;
        /* a later change seen through the watch stays what is known */
        if (resp->revision >= o->mod)
                (void)fleet_object_set_etcd(o, p->value, resp->revision);
        if (p->value)
                fleet_book_set(f, p->key, resp->revision, p->rv);
        else
                fleet_book_delete(f, p->key);
        publish_free(p);
        if (o->dirty)
                fleet_publish_kick(f);
}

static int publish_send(Fleet *f, FleetObject *o, cJSON *form, const char *rv)
{
        _cleanup_free_ char *key = fleet_key(f, "objects/", o->key);
        FleetPublish *p = calloc(1, sizeof(FleetPublish));
        EtcdClient *c = coordinator_etcd(f->co);
        int r = -ENOMEM;

        if (!p || !key || !(p->key = strdup(o->key)) || (form && !(p->value = json_print(form))) ||
            (rv && !(p->rv = strdup(rv))))
                goto fail;
        p->f = f;
        if (p->value)
                r = etcd_put(c, key, p->value, strlen(p->value), 0, on_published, p, &p->call);
        else
                r = etcd_delete(c, key, false, on_published, p, &p->call);
        if (r < 0)
                goto fail;
        /* the watch's event of this write is this agent's own */
        free(o->written);
        o->written = p->value ? strdup(p->value) : NULL;
        o->deleted = !p->value;
        o->pub = p;
        return 0;
fail:
        publish_free(p);
        return r;
}

static int publish_one(Fleet *f, FleetObject *o)
{
        _cleanup_free_ char *kind = NULL, *ns = NULL, *name = NULL;
        _cleanup_json_ cJSON *local = NULL, *form = NULL;
        const char *rv;
        int r;

        r = fleet_key_split(o->key, &kind, &ns, &name);
        if (r < 0)
                return r == -EINVAL ? 0 : r;
        r = store_get(f->store, kind, streq(ns, "_") ? NULL : ns, name, &local);
        if (r == -ENOENT) {
                if (!o->value) { /* gone on both sides */
                        fleet_book_delete(f, o->key);
                        return 0;
                }
                return publish_send(f, o, NULL, NULL);
        }
        if (r < 0)
                return r;
        r = fleet_form(local, &form);
        if (r < 0)
                return r;
        rv = json_str(local, "metadata.resourceVersion");
        if (fleet_form_equal(form, o->form)) { /* only status or counters changed */
                fleet_book_set(f, o->key, o->mod, rv);
                return 0;
        }
        return publish_send(f, o, form, rv);
}

static void publish_all(Fleet *f)
{
        int r;

        /* before the first list the reconcile decides, from the bookkeeping */
        if (!f->synced || !coordinator_etcd(f->co))
                return;
        for (size_t i = 0; i < f->n_objects; i++) {
                FleetObject *o = &f->objects[i];

                if (!o->dirty || o->pub)
                        continue;
                o->dirty = false;
                r = publish_one(f, o);
                if (r < 0) {
                        o->dirty = true;
                        fleet_failed(&f->publish_failure, r, "publishing objects", NULL);
                        publish_retry(f);
                }
        }
        fleet_objects_gc(f);
}

static int on_publish_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        publish_all(userdata);
        return 0;
}

static int on_publish_defer(sd_event_source *s, void *userdata)
{
        publish_all(userdata);
        return 0;
}

void fleet_publish_kick(Fleet *f)
{
        int r;

        if (!f->publish_defer) {
                r = sd_event_add_defer(f->event, &f->publish_defer, on_publish_defer, f);
                if (r < 0) {
                        log_debug_errno(r, "fleet: cannot schedule publishing: %m");
                        return publish_retry(f);
                }
                (void)sd_event_source_set_description(f->publish_defer, "fleet-publish");
        }
        (void)sd_event_source_set_enabled(f->publish_defer, SD_EVENT_ONESHOT);
}

/* --- the store's changes --- */

static void object_changed(Fleet *f, StoreChange change, const cJSON *obj)
{
        _cleanup_free_ char *key = fleet_object_key(obj);
        _cleanup_json_ cJSON *form = NULL;
        FleetObject *o;

        /* the reconcile of the next list finds changes made before it from the bookkeeping */
        if (!f->synced)
                return;
        o = key ? fleet_object_get(f, key) : NULL;
        if (!o) {
                log_debug("fleet: cannot note a change of %s", key ?: "an object");
                return;
        }
        if (change == STORE_DELETED)
                o->dirty = o->dirty || o->value || o->pub;
        else if (fleet_form(obj, &form) >= 0 && fleet_form_equal(form, o->form) && !o->pub)
                return; /* status, resourceVersion or generation: never published */
        else
                o->dirty = true;
        if (o->dirty)
                fleet_publish_kick(f);
}

void fleet_on_store_change(Fleet *f, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind");

        /* the fleet's own writes were recorded by the fleet */
        if (!f || f->writing || !kind)
                return;
        if (streq(kind, "Pod"))
                fleet_pods_on_store_change(f, change, obj);
        else if (fleet_kind(kind))
                object_changed(f, change, obj);
}

/* --- the coordinator --- */

void fleet_on_coordinator_state(Fleet *f, CoordinatorState state)
{
        CoordinatorState prev;

        if (!f)
                return;
        prev = f->state;
        f->state = state;
        switch (state) {
        case COORDINATOR_CONNECTING:
                /* a new lease comes with a new list: what was missed is found there */
                fleet_sync_stop(f);
                f->synced = false;
                break;
        case COORDINATOR_LOSING:
                break;
        case COORDINATOR_READY:
                if (!f->started || prev == COORDINATOR_CONNECTING) {
                        f->started = true;
                        fleet_sync_start(f);
                }
                fleet_pods_ready(f);
                break;
        }
}

bool fleet_synced(const Fleet *f)
{
        return f && f->synced;
}

/* --- life cycle --- */

int fleet_new(Fleet **ret, sd_event *e, Store *store, Coordinator *co, const FleetCallbacks *cb)
{
        _cleanup_(fleet_freep) Fleet *f = NULL;

        if (!ret || !e || !store || !co || coordinator_type(co) != COORDINATOR_ETCD || !coordinator_etcd(co))
                return -EINVAL;
        f = calloc(1, sizeof(Fleet));
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->store = store;
        f->co = co;
        if (cb)
                f->cb = *cb;
        f->prefix = strdup(coordinator_prefix(co));
        f->node = strdup(coordinator_node_name(co));
        if (!f->prefix || !f->node)
                return -ENOMEM;
        f->state = coordinator_state(co);
        if (f->state == COORDINATOR_READY) {
                f->started = true;
                fleet_sync_start(f);
                fleet_pods_ready(f);
        }
        *ret = TAKE_PTR(f);
        return 0;
}

Fleet *fleet_free(Fleet *f)
{
        if (!f)
                return NULL;
        fleet_sync_stop(f);
        fleet_pods_stop(f);
        f->list_timer = sd_event_source_disable_unref(f->list_timer);
        f->publish_defer = sd_event_source_disable_unref(f->publish_defer);
        f->publish_timer = sd_event_source_disable_unref(f->publish_timer);
        for (size_t i = 0; i < f->n_objects; i++)
                object_clear(&f->objects[i]);
        free(f->objects);
        fleet_pods_free(f->pods, f->n_pods);
        cJSON_Delete(f->pods_cache);
        free(f->prefix);
        free(f->node);
        sd_event_unref(f->event);
        free(f);
        return NULL;
}
