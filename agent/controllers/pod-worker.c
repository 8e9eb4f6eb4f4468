/* The pod controller's loop side: work queue, runtime calls, back-off timers, graceful
 * deletion and drain. What a pod's status says is computed in pod-status.c. */
#include <stdarg.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "pod-internal.h"
#include "util.h"

static int key_index(char *const *keys, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (streq(keys[i], key))
                        return (int)i;
        return -1;
}

static void strv_remove_at(char **v, size_t *n, size_t i)
{
        free(v[i]);
        memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(char *));
        (*n)--;
}

PodControllerNote *pod_note_get(PodController *c, const char *key, bool create)
{
        for (size_t i = 0; i < c->n_notes; i++)
                if (streq(c->notes[i].key, key))
                        return &c->notes[i];
        if (!create)
                return NULL;
        PodControllerNote *n = realloc(c->notes, (c->n_notes + 1) * sizeof(PodControllerNote));
        if (!n)
                return NULL;
        c->notes = n;
        n = &c->notes[c->n_notes];
        *n = (PodControllerNote){.key = strdup(key)};
        if (!n->key)
                return NULL;
        c->n_notes++;
        return n;
}

static void note_clear_waiting(PodControllerNote *n)
{
        n->waiting_reason = mfree(n->waiting_reason);
        n->waiting_message = mfree(n->waiting_message);
}

static void note_done(PodControllerNote *n)
{
        note_clear_waiting(n);
        n->post_start_id = mfree(n->post_start_id);
        n->key = mfree(n->key);
}

void pod_note_set_waiting(PodControllerNote *n, const char *reason, const char *message)
{
        note_clear_waiting(n);
        n->waiting_reason = reason ? strdup(reason) : NULL;
        n->waiting_message = message ? strdup(message) : NULL;
}

static void notes_forget_pod(PodController *c, const char *uid)
{
        size_t len = strlen(uid);

        for (size_t i = 0; i < c->n_notes;) {
                if (strneq(c->notes[i].key, uid, len) && c->notes[i].key[len] == '/') {
                        note_done(&c->notes[i]);
                        memmove(c->notes + i, c->notes + i + 1,
                                (c->n_notes - i - 1) * sizeof(PodControllerNote));
                        c->n_notes--;
                } else
                        i++;
        }
}

static int on_sync(void *userdata, const char *ns, const char *name)
{
        return pod_sync(userdata, ns, name);
}

void pod_controller_enqueue(PodController *c, const char *ns, const char *name)
{
        workqueue_add(c->queue, ns ?: "default", name);
}

void pod_schedule_retry(PodController *c, const char *ns, const char *name, usec_t at_realtime)
{
        usec_t now = now_usec(CLOCK_REALTIME);

        /* boottime: the wait is an interval, not a wall-clock time */
        workqueue_add_after(c->queue, ns, name, at_realtime > now ? at_realtime - now + 1 : 1);
}

void pod_controller_on_store_change(PodController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind");

        if (!kind)
                return;
        if (streq(kind, "Pod")) {
                pod_controller_enqueue(c, json_str(obj, "metadata.namespace"),
                                       json_str(obj, "metadata.name"));
                /* a peer came or went: the hosts files of its subdomain follow */
                if (change != STORE_MODIFIED && pod_hosts_wanted(obj))
                        pod_hosts_peers_changed(c, obj);
        } else if (streq(kind, "ConfigMap") || streq(kind, "Secret") ||
                   streq(kind, "PersistentVolumeClaim")) {
                _cleanup_json_ cJSON *pods = NULL;
                const cJSON *p;

                /* a pod waiting for a missing key may now start: retry the waiting ones */
                for (size_t i = 0; !streq(kind, "PersistentVolumeClaim") && i < c->n_notes; i++)
                        if (c->notes[i].waiting_reason &&
                            streq(c->notes[i].waiting_reason, "CreateContainerConfigError")) {
                                (void)pod_controller_resync(c);
                                break;
                        }
                /* pods that mount it get it projected anew (or set up, if it was missing) */
                if (store_list(c->store, "Pod", json_str(obj, "metadata.namespace") ?: "default", NULL,
                               &pods) >= 0)
                        cJSON_ArrayForEach (p, pods)
                                if (pod_volumes_use(p, kind, json_str(obj, "metadata.name")))
                                        pod_controller_enqueue(c, json_str(p, "metadata.namespace"),
                                                               json_str(p, "metadata.name"));
        }
}

void pod_controller_on_fleet_pod(PodController *c, StoreChange change, const cJSON *pod)
{
        if (c && pod)
                pod_hosts_fleet_pod_changed(c, change, pod);
}

void pod_controller_on_container_exit(PodController *c, const char *id)
{
        RuntimeContainer rc = {0};
        int i = key_index(c->stopping, c->n_stopping, id);

        if (i >= 0)
                strv_remove_at(c->stopping, &c->n_stopping, (size_t)i);
        if (runtime_container_status(c->runtime, id, &rc) < 0)
                return;
        if (rc.pod_namespace && rc.pod_name)
                pod_controller_enqueue(c, rc.pod_namespace, rc.pod_name);
        runtime_container_done(&rc);
        if (c->draining && pod_controller_running_containers(c) == 0)
                log_info("All workloads stopped.");
}

void pod_controller_on_container_start(PodController *c, const char *id)
{
        RuntimeContainer rc = {0};

        if (runtime_container_status(c->runtime, id, &rc) < 0)
                return;
        if (rc.pod_namespace && rc.pod_name)
                pod_controller_enqueue(c, rc.pod_namespace, rc.pod_name);
        runtime_container_done(&rc);
}

cJSON *pod_ref_new(const char *ns, const char *name, const char *uid)
{
        _cleanup_json_ cJSON *ref = cJSON_CreateObject();
        cJSON *meta = ref ? json_ensure_object(ref, "metadata") : NULL;

        if (!meta || json_set_string(ref, "apiVersion", "v1") < 0 ||
            json_set_string(ref, "kind", "Pod") < 0 ||
            json_set_string(meta, "namespace", ns ?: "default") < 0 ||
            json_set_string(meta, "name", name) < 0 || json_set_string(meta, "uid", uid ?: "") < 0)
                return NULL;
        return TAKE_PTR(ref);
}

void pod_record_event(PodController *c, const cJSON *involved, const char *type, const char *reason,
                      const char *fmt, ...)
{
        va_list ap;

        if (!involved)
                return;
        va_start(ap, fmt);
        (void)store_eventv(c->store, involved, type, reason, fmt, ap);
        va_end(ap);
}

void pod_controller_event(PodController *c, const char *ns, const char *name, const char *uid,
                          const char *type, const char *reason, const char *message)
{
        _cleanup_json_ cJSON *ref = pod_ref_new(ns, name, uid);

        pod_record_event(c, ref, type, reason, "%s", message ?: "");
}

int pod_stop_container(PodController *c, const cJSON *pod, const RuntimeContainer *rc, usec_t grace)
{
        int r;

        if ((rc->state != CONTAINER_RUNNING && rc->state != CONTAINER_CREATED) ||
            key_index(c->stopping, c->n_stopping, rc->id) >= 0)
                return 0;
        r = pod ? pod_hook_pre_stop(c, pod, rc, grace) : 0;
        if (r == 0)
                r = runtime_stop_container(c->runtime, rc->id, grace);
        if (r < 0)
                return log_warning_errno(r, "Failed to stop container %s of pod %s/%s: %m",
                                         rc->container_name, rc->pod_namespace, rc->pod_name);
        r = strv_push_copy(&c->stopping, &c->n_stopping, rc->id);
        return r < 0 ? r : 1;
}

size_t pod_controller_running_containers(PodController *c)
{
        RuntimeContainer *all = NULL;
        size_t n = 0, running = 0;

        if (runtime_list_containers(c->runtime, &all, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (all[i].state == CONTAINER_RUNNING || all[i].state == CONTAINER_CREATED)
                        running++;
        runtime_container_array_free(all, n);
        return running;
}

int pod_controller_drain(PodController *c)
{
        RuntimeContainer *all = NULL;
        size_t n = 0;
        int r;

        c->draining = true;
        r = runtime_list_containers(c->runtime, &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ cJSON *pod = NULL;
                int64_t grace = 30;

                if (all[i].state != CONTAINER_RUNNING && all[i].state != CONTAINER_CREATED)
                        continue;
                if (store_get(c->store, "Pod", all[i].pod_namespace, all[i].pod_name, &pod) >= 0)
                        grace = json_int(pod, "spec.terminationGracePeriodSeconds", 30);
                (void)pod_stop_container(c, pod, &all[i], (usec_t)grace * USEC_PER_SEC);
        }
        runtime_container_array_free(all, n);
        return (int)pod_controller_running_containers(c);
}

/* Containers whose pod is gone from the store (deleted while the agent was away, or
 * removed without a grace period) are stopped at once and removed. */
int pod_collect_orphans(PodController *c)
{
        RuntimeContainer *all = NULL;
        size_t n = 0;
        int r;

        r = runtime_list_containers(c->runtime, &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ cJSON *pod = NULL;

                r = store_get(c->store, "Pod", all[i].pod_namespace, all[i].pod_name, &pod);
                if (r >= 0 && streq_ptr(json_str(pod, "metadata.uid"), all[i].pod_uid))
                        continue;
                if (r < 0 && r != -ENOENT)
                        continue;
                if (all[i].state != CONTAINER_EXITED)
                        (void)pod_stop_container(c, NULL, &all[i], 0);
                else {
                        (void)runtime_remove_container(c->runtime, all[i].id);
                        runtime_release_pod(c->runtime, all[i].pod_uid);
                        notes_forget_pod(c, all[i].pod_uid);
                        prober_forget_pod(c->prober, all[i].pod_uid);
                }
        }
        runtime_container_array_free(all, n);
        /* the volumes of pods whose containers are all gone now */
        return pod_volumes_collect(c);
}

int pod_controller_resync(PodController *c)
{
        _cleanup_json_ cJSON *pods = NULL;
        const cJSON *p;
        int r;

        r = store_list(c->store, "Pod", NULL, NULL, &pods);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (p, pods)
                pod_controller_enqueue(c, json_str(p, "metadata.namespace"), json_str(p, "metadata.name"));
        return pod_collect_orphans(c);
}

void pod_forget(PodController *c, const char *uid)
{
        notes_forget_pod(c, uid);
        prober_forget_pod(c->prober, uid);
        (void)pod_collect_orphans(c);
}

int pod_controller_new(PodController **ret, sd_event *e, Store *store, Runtime *rt,
                       const PodControllerOptions *opts)
{
        _cleanup_(pod_controller_freep) PodController *c = calloc(1, sizeof(PodController));
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->store = store;
        c->runtime = rt;
        c->node_name = strdup(opts->node_name);
        c->log_dir = strdup(opts->log_dir);
        if (opts->pods_dir) {
                c->pods_dir = strdup(opts->pods_dir);
                if (!c->pods_dir)
                        return -ENOMEM;
        }
        c->seccomp_default = opts->seccomp_default;
        if (opts->fence_path) {
                c->fence_path = strdup(opts->fence_path);
                if (!c->fence_path)
                        return -ENOMEM;
                c->fence_max_age = opts->fence_max_age;
        }
        c->prober = opts->prober;
        c->volumes = opts->volumes;
        c->runner = opts->runner;
        c->fleet = opts->fleet;
        c->coordinator = opts->coordinator;
        if (!c->node_name || !c->log_dir)
                return -ENOMEM;
        r = workqueue_new(&c->queue, e, "pod-controller", on_sync, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->queue, "Pod");
        *ret = TAKE_PTR(c);
        return 0;
}

PodController *pod_controller_free(PodController *c)
{
        if (!c)
                return NULL;
        workqueue_free(c->queue);
        for (size_t i = 0; i < c->n_stopping; i++)
                free(c->stopping[i]);
        free(c->stopping);
        pod_hooks_free(c);
        for (size_t i = 0; i < c->n_notes; i++)
                note_done(&c->notes[i]);
        free(c->notes);
        free(c->node_name);
        free(c->log_dir);
        free(c->fence_path);
        free(c->pods_dir);
        cJSON_Delete(c->fleet_names);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
