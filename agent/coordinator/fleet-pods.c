/* The fleet's pods: this node's (spec.nodeName this node) written under pods/<node>/ bound to
 * the coordinator's lease, coalesced through a dirty set flushed at most every FLEET_POD_DELAY,
 * all written again (and the stale keys deleted) under each new lease; and the other nodes'
 * pods as the watch tells them, behind fleet_pods() and fleet_pod(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-internal.h"
#include "json-util.h"
#include "log.h"

typedef struct FleetPodCall {
        Fleet *f;
        char *rel; /* "<ns>/<name>" */
        EtcdRequest *call;
} FleetPodCall;

/* --- this node's pods --- */

static bool own_pod(const Fleet *f, const cJSON *pod)
{
        return streq_ptr(json_str(pod, "spec.nodeName"), f->node);
}

static char *pod_rel(const cJSON *pod)
{
        const char *ns = json_str(pod, "metadata.namespace"), *name = json_str(pod, "metadata.name");

        return isempty(name) ? NULL : strjoin(isempty(ns) ? "default" : ns, "/", name, NULL);
}

static bool dirty_has(const Fleet *f, const char *rel)
{
        for (size_t i = 0; i < f->n_own_dirty; i++)
                if (streq(f->own_dirty[i], rel))
                        return true;
        return false;
}

static int dirty_add(Fleet *f, const char *rel)
{
        return dirty_has(f, rel) ? 0 : strv_push_copy(&f->own_dirty, &f->n_own_dirty, rel);
}

static bool in_flight(const Fleet *f, const char *rel)
{
        for (size_t i = 0; i < f->n_own_calls; i++)
                if (streq(f->own_calls[i]->rel, rel))
                        return true;
        return false;
}

static int on_own_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void own_arm(Fleet *f, usec_t delay)
{
        int r;

        if (f->own_armed)
                return;
        r = fleet_timer_arm(f, &f->own_timer, delay, on_own_timer, "fleet-pods");
        if (r < 0)
                log_debug_errno(r, "fleet: cannot arm the pod timer: %m");
        else
                f->own_armed = true;
}

static void call_free(FleetPodCall *c)
{
        if (!c)
                return;
        etcd_request_cancel(c->call);
        free(c->rel);
        free(c);
}

static void on_pod_written(EtcdClient *client, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        FleetPodCall *c = userdata;
        Fleet *f = c->f;
        usec_t delay = FLEET_POD_DELAY;

        c->call = NULL;
        for (size_t i = 0; i < f->n_own_calls; i++)
                if (f->own_calls[i] == c) {
                        f->own_calls[i] = f->own_calls[--f->n_own_calls];
                        break;
                }
        if (e) {
                fleet_failed(&f->own_failure, e->error, "writing this node's pods to etcd", e->text);
                if (dirty_add(f, c->rel) < 0)
                        log_debug("fleet: out of memory: pod %s is not written again", c->rel);
                delay = fleet_backoff_next(&f->own_backoff);
        } else {
                f->own_failure.error = 0;
                f->own_backoff = 0;
        }
        if (dirty_has(f, c->rel))
                own_arm(f, delay);
        call_free(c);
}

static int pod_send(Fleet *f, const char *rel, int64_t lease)
{
        _cleanup_free_ char *ns = NULL, *key = fleet_key(f, "pods/", f->node), *full = NULL, *value = NULL;
        _cleanup_json_ cJSON *pod = NULL;
        const char *slash = strchr(rel, '/');
        EtcdClient *client = coordinator_etcd(f->co);
        FleetPodCall *c, **calls;
        int r;

        if (!slash || !key || !client)
                return -EINVAL;
        ns = strndup(rel, slash - rel);
        full = strjoin(key, "/", rel, NULL);
        calls = realloc(f->own_calls, (f->n_own_calls + 1) * sizeof(FleetPodCall *));
        if (calls)
                f->own_calls = calls;
        c = calloc(1, sizeof(FleetPodCall));
        if (!ns || !full || !calls || !c || !(c->rel = strdup(rel))) {
                call_free(c);
                return -ENOMEM;
        }
        c->f = f;
        r = store_get(f->store, "Pod", ns, slash + 1, &pod);
        if (r >= 0 && !own_pod(f, pod))
                r = -ENOENT;
        if (r == -ENOENT)
                r = etcd_delete(client, full, false, on_pod_written, c, &c->call);
        else if (r >= 0) {
                value = json_print(pod);
                r = value ? etcd_put(client, full, value, strlen(value), lease, on_pod_written, c, &c->call)
                          : -ENOMEM;
        }
        if (r < 0) {
                call_free(c);
                return r;
        }
        f->own_calls[f->n_own_calls++] = c;
        return 0;
}

static void own_flush(Fleet *f)
{
        int64_t lease = coordinator_lease(f->co);
        size_t j = 0;
        bool failed = false;

        /* no lease: fleet_pods_ready() writes them when there is one */
        if (!lease || f->state == COORDINATOR_CONNECTING)
                return;
        for (size_t i = 0; i < f->n_own_dirty; i++) {
                char *rel = f->own_dirty[i];
                int r;

                /* one write per pod at a time: the last one sent is the last one stored */
                if (in_flight(f, rel)) {
                        f->own_dirty[j++] = rel;
                        continue;
                }
                r = pod_send(f, rel, lease);
                if (r < 0) {
                        fleet_failed(&f->own_failure, r, "writing this node's pods", NULL);
                        f->own_dirty[j++] = rel;
                        failed = true;
                } else
                        free(rel);
        }
        f->n_own_dirty = j;
        if (failed)
                own_arm(f, fleet_backoff_next(&f->own_backoff));
}

static int on_own_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Fleet *f = userdata;

        f->own_armed = false;
        f->own_flushed_at = now_usec(CLOCK_MONOTONIC);
        own_flush(f);
        return 0;
}

void fleet_pods_on_store_change(Fleet *f, StoreChange change, const cJSON *pod)
{
        _cleanup_free_ char *rel = NULL;
        usec_t since;

        if (!own_pod(f, pod))
                return;
        rel = pod_rel(pod);
        if (!rel || dirty_add(f, rel) < 0) {
                log_debug("fleet: out of memory: a change of pod %s is not written", rel ?: "?");
                return;
        }
        /* at once after a quiet spell (a pod turning Ready is what the next ordinal waits
         * for), else at most one flush per FLEET_POD_DELAY */
        since = now_usec(CLOCK_MONOTONIC) - f->own_flushed_at;
        own_arm(f, f->own_flushed_at == 0 || since >= FLEET_POD_DELAY ? 0 : FLEET_POD_DELAY - since);
}

static void on_own_listed(EtcdClient *client, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Fleet *f = userdata;
        _cleanup_free_ char *prefix = NULL;
        size_t plen;

        f->own_list_call = NULL;
        if (e) {
                /* the keys of a lease gone go with it; those of this lease are the pods' */
                log_debug("fleet: listing this node's pod keys failed: %s", e->text);
                return;
        }
        prefix = strjoin(f->prefix, "pods/", f->node, "/", NULL);
        if (!prefix)
                return;
        plen = strlen(prefix);
        /* a key without a local pod is deleted by the flush, which finds no pod */
        for (size_t i = 0; i < resp->op.n_kvs; i++) {
                const char *rel = resp->op.kvs[i].key + plen, *slash = strchr(rel, '/');
                _cleanup_free_ char *ns = NULL;
                _cleanup_json_ cJSON *pod = NULL;

                if (!startswith(resp->op.kvs[i].key, prefix) || !slash || !(ns = strndup(rel, slash - rel)))
                        continue;
                if (store_get(f->store, "Pod", ns, slash + 1, &pod) == -ENOENT && dirty_add(f, rel) < 0)
                        log_debug("fleet: out of memory: a stale pod key stays");
        }
        if (f->n_own_dirty > 0)
                own_arm(f, 0);
}

void fleet_pods_ready(Fleet *f)
{
        _cleanup_free_ char *prefix = NULL;
        _cleanup_json_ cJSON *pods = NULL;
        int64_t lease = coordinator_lease(f->co);
        const cJSON *pod;
        int r;

        if (!lease)
                return;
        if (lease == f->own_lease) {
                if (f->n_own_dirty > 0)
                        own_arm(f, 0);
                return;
        }
        f->own_lease = lease;
        r = store_list(f->store, "Pod", NULL, NULL, &pods);
        if (r < 0)
                log_debug_errno(r, "fleet: cannot list this node's pods: %m");
        cJSON_ArrayForEach (pod, pods) {
                _cleanup_free_ char *rel = own_pod(f, pod) ? pod_rel(pod) : NULL;

                if (rel && dirty_add(f, rel) < 0)
                        log_debug("fleet: out of memory: pod %s is not written", rel);
        }
        etcd_request_cancel(f->own_list_call);
        f->own_list_call = NULL;
        prefix = strjoin(f->prefix, "pods/", f->node, "/", NULL);
        r = prefix ? etcd_range(coordinator_etcd(f->co), prefix, &(EtcdRangeOptions){.prefix = true},
                                on_own_listed, f, &f->own_list_call)
                   : -ENOMEM;
        if (r < 0)
                log_debug_errno(r, "fleet: cannot list this node's pod keys: %m");
        own_arm(f, 0);
}

void fleet_pods_stop(Fleet *f)
{
        etcd_request_cancel(f->own_list_call);
        f->own_list_call = NULL;
        for (size_t i = 0; i < f->n_own_calls; i++)
                call_free(f->own_calls[i]);
        f->own_calls = mfree(f->own_calls);
        f->n_own_calls = 0;
        f->own_timer = sd_event_source_disable_unref(f->own_timer);
        f->own_armed = false;
        for (size_t i = 0; i < f->n_own_dirty; i++)
                free(f->own_dirty[i]);
        f->own_dirty = mfree(f->own_dirty);
        f->n_own_dirty = 0;
}

/* --- the other nodes' pods --- */

void fleet_pods_free(FleetPod *pods, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(pods[i].key);
                cJSON_Delete(pods[i].pod);
        }
        free(pods);
}

static void notify(Fleet *f, StoreChange change, const cJSON *pod)
{
        if (f->cb.on_pod)
                f->cb.on_pod(f, change, pod, f->cb.userdata);
}

static size_t pod_lower_bound(const Fleet *f, const char *key)
{
        size_t lo = 0, hi = f->n_pods;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(f->pods[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static void pods_changed(Fleet *f)
{
        f->pods_cache = (cJSON_Delete(f->pods_cache), NULL);
}

void fleet_pods_replace(Fleet *f, FleetPod *pods, size_t n)
{
        FleetPod *old = f->pods;
        size_t n_old = f->n_pods, i = 0, j = 0;

        /* the new view is in place before anyone is told */
        f->pods = pods;
        f->n_pods = n;
        pods_changed(f);
        while (i < n_old || j < n) {
                int c = i >= n_old ? 1 : j >= n ? -1 : strcmp(old[i].key, pods[j].key);

                if (c < 0)
                        notify(f, STORE_DELETED, old[i++].pod);
                else if (c > 0)
                        notify(f, STORE_ADDED, pods[j++].pod);
                else {
                        if (!cJSON_Compare(old[i].pod, pods[j].pod, true))
                                notify(f, STORE_MODIFIED, pods[j].pod);
                        i++, j++;
                }
        }
        fleet_pods_free(old, n_old);
}

int fleet_pods_set(Fleet *f, const char *key, const char *value)
{
        size_t i = pod_lower_bound(f, key);
        bool exists = i < f->n_pods && streq(f->pods[i].key, key);
        cJSON *pod = cJSON_Parse(value);
        FleetPod *n;
        char *k;

        if (!pod) { /* not a pod: known as none */
                fleet_pods_remove(f, key);
                return 0;
        }
        if (exists) {
                if (cJSON_Compare(f->pods[i].pod, pod, true)) {
                        cJSON_Delete(pod);
                        return 0;
                }
                cJSON_Delete(f->pods[i].pod);
                f->pods[i].pod = pod;
                pods_changed(f);
                notify(f, STORE_MODIFIED, pod);
                return 0;
        }
        n = realloc(f->pods, (f->n_pods + 1) * sizeof(FleetPod));
        if (n)
                f->pods = n;
        k = n ? strdup(key) : NULL;
        if (!k) {
                cJSON_Delete(pod);
                return -ENOMEM;
        }
        memmove(&f->pods[i + 1], &f->pods[i], (f->n_pods - i) * sizeof(FleetPod));
        f->pods[i] = (FleetPod){.key = k, .pod = pod};
        f->n_pods++;
        pods_changed(f);
        notify(f, STORE_ADDED, pod);
        return 0;
}

void fleet_pods_remove(Fleet *f, const char *key)
{
        size_t i = pod_lower_bound(f, key);
        _cleanup_json_ cJSON *pod = NULL;

        if (i >= f->n_pods || !streq(f->pods[i].key, key))
                return;
        pod = f->pods[i].pod;
        free(f->pods[i].key);
        memmove(&f->pods[i], &f->pods[i + 1], (f->n_pods - i - 1) * sizeof(FleetPod));
        f->n_pods--;
        pods_changed(f);
        notify(f, STORE_DELETED, pod);
}

static int pod_cmp(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        int c = strcmp(json_str(x, "metadata.namespace") ?: "", json_str(y, "metadata.namespace") ?: "");

        return c ? c : strcmp(json_str(x, "metadata.name") ?: "", json_str(y, "metadata.name") ?: "");
}

const cJSON *fleet_pods(Fleet *f, const char *ns)
{
        _cleanup_free_ const cJSON **v = NULL;
        size_t n = 0;

        if (!f)
                return NULL;
        pods_changed(f);
        v = calloc(f->n_pods + 1, sizeof(cJSON *));
        f->pods_cache = cJSON_CreateArray();
        if (!v || !f->pods_cache)
                return NULL;
        for (size_t i = 0; i < f->n_pods; i++)
                if (!ns || streq_ptr(json_str(f->pods[i].pod, "metadata.namespace"), ns))
                        v[n++] = f->pods[i].pod;
        qsort(v, n, sizeof(cJSON *), pod_cmp);
        for (size_t i = 0; i < n; i++) {
                cJSON *copy = cJSON_Duplicate(v[i], true);

                if (!copy || !cJSON_AddItemToArray(f->pods_cache, copy)) {
                        cJSON_Delete(copy);
                        pods_changed(f);
                        return NULL;
                }
        }
        return f->pods_cache;
}

const cJSON *fleet_pod(Fleet *f, const char *ns, const char *name)
{
        for (size_t i = 0; f && name && i < f->n_pods; i++) {
                const cJSON *pod = f->pods[i].pod;

                if (streq_ptr(json_str(pod, "metadata.namespace"), ns ?: "default") &&
                    streq_ptr(json_str(pod, "metadata.name"), name))
                        return pod;
        }
        return NULL;
}
