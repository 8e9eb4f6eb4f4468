/* One reconcile step of a pod: bind it to this node, run init containers in order, then the
 * containers, restart exited ones per restartPolicy with the crash-loop back-off, finish a
 * graceful deletion, and write the status when it changed. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "pod-internal.h"
#include "util.h"

#define START_RETRY_USEC (10 * USEC_PER_SEC)

typedef struct SyncContext {
        PodController *c;
        cJSON *pod;
        const char *ns, *name, *uid;
        RuntimeContainer *all;
        size_t n_all;
        PodVolumeTable volumes; /* set up: the host paths volumeMounts bind */
        char *hosts_file;       /* the pod's /etc/hosts, or NULL (pod-hosts.c) */
} SyncContext;

static PodControllerNote *note_for(SyncContext *s, const cJSON *spec)
{
        _cleanup_free_ char *key = strjoin(s->uid, "/", json_str(spec, "name") ?: "", NULL);

        return key ? pod_note_get(s->c, key, true) : NULL;
}

static const cJSON *container_spec(const cJSON *pod, const char *name)
{
        const cJSON *spec;

        for (const char *k = "spec.initContainers"; k;
             k = streq(k, "spec.initContainers") ? "spec.containers" : NULL)
                cJSON_ArrayForEach (spec, json_path(pod, k))
                        if (streq_ptr(json_str(spec, "name"), name))
                                return spec;
        return NULL;
}

/* A container the runtime could not make (image, create): its reason becomes the waiting
 * state, the record goes, and the same attempt is started again after the retry interval, as
 * the kubelet retries on its next sync. */
static void absorb_waiting(SyncContext *s)
{
        usec_t now = now_usec(CLOCK_REALTIME);
        size_t k = 0;

        for (size_t i = 0; i < s->n_all; i++) {
                RuntimeContainer *rc = &s->all[i];
                const cJSON *spec;
                PodControllerNote *note;

                if (!rc->waiting || !streq_ptr(rc->pod_uid, s->uid) ||
                    !(spec = container_spec(s->pod, rc->container_name)) || !(note = note_for(s, spec))) {
                        s->all[k++] = *rc;
                        continue;
                }
                pod_note_set_waiting(note, rc->reason, rc->message);
                pod_record_event(s->c, s->pod, "Warning", rc->reason ?: "Failed", "%s",
                                 rc->message ?: "the runtime could not make the container");
                note->retry_at = now + START_RETRY_USEC;
                pod_schedule_retry(s->c, s->ns, s->name, note->retry_at);
                (void)runtime_remove_container(s->c->runtime, rc->id);
                runtime_container_done(rc);
        }
        s->n_all = k;
}

static int start_container_one(SyncContext *s, const cJSON *spec, unsigned attempt)
{
        PodController *c = s->c;
        PodSpecContext ctx = {.store = c->store,
                              .node_name = c->node_name,
                              .log_dir = c->log_dir,
                              .seccomp_default = c->seccomp_default,
                              .image_entrypoint = runtime_has_images(c->runtime),
                              .hosts_file = s->hosts_file,
                              .volumes = s->volumes.volumes,
                              .n_volumes = s->volumes.n,
                              .fence_path = c->fence_path,
                              .fence_max_age = c->fence_max_age};
        PodControllerNote *note = note_for(s, spec);
        const char *cname = json_str(spec, "name") ?: "";
        _cleanup_free_ char *err = NULL, *id = NULL;
        ContainerLaunch l;
        usec_t now = now_usec(CLOCK_REALTIME);
        int r;

        if (!note)
                return -ENOMEM;
        if (note->retry_at > now) {
                pod_schedule_retry(c, s->ns, s->name, note->retry_at);
                return 0;
        }
        r = container_launch_build(&ctx, s->pod, spec, attempt, &l, &err);
        if (r == -EINVAL) {
                pod_note_set_waiting(note, "CreateContainerConfigError", err);
                pod_record_event(s->c, s->pod, "Warning", "Failed", "Error: %s",
                                 err ?: "invalid container configuration");
                goto retry;
        }
        if (r < 0)
                return r;
        r = runtime_start_container(c->runtime, &l.config, &id);
        container_launch_done(&l);
        if (r < 0) {
                _cleanup_free_ char *m = NULL;
                (void)asprintf_safe(&m, "failed to start container \"%s\": %s", cname, strerror(-r));
                pod_note_set_waiting(note, "RunContainerError", m);
                pod_record_event(s->c, s->pod, "Warning", "Failed", "Error: %s",
                                 m ?: "failed to start container");
                goto retry;
        }
        note->retry_at = 0;
        pod_note_set_waiting(note, NULL, NULL);
        free(note->post_start_id);
        note->post_start_id = json_path(spec, "lifecycle.postStart") ? strdup(id) : NULL;
        pod_record_event(s->c, s->pod, "Normal", "Created", "Created container %s", cname);
        pod_record_event(s->c, s->pod, "Normal", "Started", "Started container %s", cname);
        log_debug("Started container %s of pod %s/%s as %s (attempt %u).", cname, s->ns, s->name, id,
                  attempt);
        return 0;
retry:
        note->retry_at = now + START_RETRY_USEC;
        pod_schedule_retry(c, s->ns, s->name, note->retry_at);
        return 0;
}

/* The log entries of a start carry the container's name. */
static int start_container(SyncContext *s, const cJSON *spec, unsigned attempt)
{
        int r;

        log_set_container(json_str(spec, "name"));
        r = start_container_one(s, spec, attempt);
        log_set_container(NULL);
        return r;
}

/* An exited container that the policy restarts: now, or after its back-off. */
static int restart_exited(SyncContext *s, const cJSON *spec, const ContainerInstances *ci)
{
        PodControllerNote *note = note_for(s, spec);
        const char *cname = json_str(spec, "name") ?: "";
        usec_t now = now_usec(CLOCK_REALTIME), until;

        if (!note)
                return -ENOMEM;
        if (backoff_should_wait(&note->backoff, ci->latest->finished_at, now, &until)) {
                _cleanup_free_ char *m = NULL;
                bool first = !streq_ptr(note->waiting_reason, "CrashLoopBackOff");

                (void)asprintf_safe(&m, "back-off %llus restarting failed container=%s pod=%s_%s(%s)",
                                    (unsigned long long)(note->backoff.backoff / USEC_PER_SEC), cname,
                                    s->name, s->ns, s->uid);
                pod_note_set_waiting(note, "CrashLoopBackOff", m);
                if (first)
                        pod_record_event(s->c, s->pod, "Warning", "BackOff",
                                         "Back-off restarting failed container %s in pod %s_%s(%s)", cname,
                                         s->name, s->ns, s->uid);
                pod_schedule_retry(s->c, s->ns, s->name, until);
                return 0;
        }
        backoff_next(&note->backoff, ci->latest->finished_at, now);
        pod_note_set_waiting(note, NULL, NULL);
        /* keep the latest exit for lastState and `logs --previous`; older ones go */
        if (ci->previous && ci->previous->state == CONTAINER_EXITED)
                (void)runtime_remove_container(s->c->runtime, ci->previous->id);
        return start_container(s, spec, ci->latest->attempt + 1);
}

/* Runs the init containers in order; returns true when all have succeeded. */
static int sync_init_containers(SyncContext *s, const char *policy, bool *ret_done, bool *ret_failed)
{
        const cJSON *spec;

        *ret_done = false;
        *ret_failed = false;
        cJSON_ArrayForEach (spec, json_path(s->pod, "spec.initContainers")) {
                ContainerInstances ci =
                    pod_container_instances(s->all, s->n_all, s->uid, json_str(spec, "name"));

                if (!ci.latest)
                        return start_container(s, spec, 0);
                if (ci.latest->state != CONTAINER_EXITED)
                        return 0;
                if (ci.latest->exit_code == 0)
                        continue;
                if (streq(policy, "Never")) {
                        *ret_failed = true;
                        return 0;
                }
                return restart_exited(s, spec, &ci);
        }
        *ret_done = true;
        return 0;
}

static bool init_containers_succeeded(SyncContext *s)
{
        const cJSON *spec;

        cJSON_ArrayForEach (spec, json_path(s->pod, "spec.initContainers")) {
                ContainerInstances ci =
                    pod_container_instances(s->all, s->n_all, s->uid, json_str(spec, "name"));

                if (!ci.latest || ci.latest->state != CONTAINER_EXITED || ci.latest->exit_code != 0)
                        return false;
        }
        return true;
}

/* A published liveness or startup failure of the running instance: kill it, with the
 * probe's own grace period if it has one; restartPolicy decides what follows. */
static int kill_unhealthy(SyncContext *s, const cJSON *spec, const RuntimeContainer *rc)
{
        static const ProbeKind kinds[] = {PROBE_KIND_LIVENESS, PROBE_KIND_STARTUP};
        const char *cname = json_str(spec, "name") ?: "";

        for (size_t i = 0; s->c->prober && i < ELEMENTSOF(kinds); i++) {
                int64_t grace;

                if (prober_result(s->c->prober, s->uid, cname, kinds[i], rc->id, NULL) != PROBE_FAILURE)
                        continue;
                grace = prober_termination_grace(s->c->prober, s->uid, cname, kinds[i]);
                if (grace < 0)
                        grace = MAX(json_int(s->pod, "spec.terminationGracePeriodSeconds", 30), 0);
                if (pod_stop_container(s->c, s->pod, rc, (usec_t)grace * USEC_PER_SEC) == 1)
                        pod_record_event(s->c, s->pod, "Normal", "Killing",
                                         "Container %s failed %s probe, will be restarted", cname,
                                         kinds[i] == PROBE_KIND_LIVENESS ? "liveness" : "startup");
                return 0;
        }
        return 0;
}

/* Tells the prober what each container is now, so that its workers probe the right
 * instance (and stop when the pod is done). */
static void update_probes(SyncContext *s, const char *policy)
{
        const cJSON *spec, *statuses = json_path(s->pod, "status.containerStatuses");
        const char *phase = json_str(s->pod, "status.phase");

        if (!s->c->prober)
                return;
        cJSON_ArrayForEach (spec, json_path(s->pod, "spec.containers")) {
                const char *cname = json_str(spec, "name");
                ContainerInstances ci = pod_container_instances(s->all, s->n_all, s->uid, cname);
                ProbeContainerView v = {
                    .restart_never = streq(policy, "Never"),
                    .pod_terminal = streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed"),
                    .deleting = json_str(s->pod, "metadata.deletionTimestamp") != NULL,
                };
                _cleanup_free_ char *cid = NULL;
                bool hint = false;
                const cJSON *st;

                if (ci.latest) {
                        v.container_id = ci.latest->id;
                        v.pod_ip = ci.latest->pod_ip;
                        v.running = ci.latest->state == CONTAINER_RUNNING;
                        v.started_at = ci.latest->started_at;
                        v.terminated = ci.latest->state == CONTAINER_EXITED;
                        /* the stored status is what the agent had before a restart */
                        cid = strjoin(runtime_id_scheme(s->c->runtime), "://",
                                      ci.latest->runtime_id ?: ci.latest->id, NULL);
                        cJSON_ArrayForEach (st, statuses)
                                if (cid && streq_ptr(json_str(st, "name"), cname) &&
                                    json_bool(st, "ready", false) &&
                                    streq_ptr(json_str(st, "containerID"), cid))
                                        hint = true;
                }
                if (prober_update(s->c->prober, s->pod, spec, &v, hint) < 0)
                        log_warning("Pod %s/%s: cannot update the probes of container %s.", s->ns, s->name,
                                    cname);
        }
}

static int sync_containers(SyncContext *s, const char *policy)
{
        const cJSON *spec;
        int r;

        cJSON_ArrayForEach (spec, json_path(s->pod, "spec.containers")) {
                ContainerInstances ci =
                    pod_container_instances(s->all, s->n_all, s->uid, json_str(spec, "name"));
                bool restart;

                if (!ci.latest) {
                        r = start_container(s, spec, 0);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (ci.latest->state == CONTAINER_RUNNING) {
                        PodControllerNote *note = note_for(s, spec);
                        if (note && streq_ptr(note->post_start_id, ci.latest->id)) {
                                note->post_start_id = mfree(note->post_start_id);
                                (void)pod_hook_post_start(s->c, s->pod, spec, ci.latest);
                        }
                        r = kill_unhealthy(s, spec, ci.latest);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (ci.latest->state != CONTAINER_EXITED)
                        continue;
                restart =
                    streq(policy, "Always") || (streq(policy, "OnFailure") && ci.latest->exit_code != 0);
                if (!restart) {
                        PodControllerNote *note = note_for(s, spec);
                        if (note)
                                pod_note_set_waiting(note, NULL, NULL);
                        continue;
                }
                r = restart_exited(s, spec, &ci);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* deletionTimestamp is set: stop everything with the grace period, then remove the pod. */
static int sync_deletion(SyncContext *s)
{
        usec_t grace =
            (usec_t)MAX(json_int(s->pod, "metadata.deletionGracePeriodSeconds", 30), 0) * USEC_PER_SEC;
        _cleanup_free_ char *logs = NULL;
        unsigned running = 0;
        int r;

        for (size_t i = 0; i < s->n_all; i++) {
                if (!streq_ptr(s->all[i].pod_uid, s->uid) || s->all[i].state == CONTAINER_EXITED)
                        continue;
                if (pod_stop_container(s->c, s->pod, &s->all[i], grace) == 1)
                        pod_record_event(s->c, s->pod, "Normal", "Killing", "Stopping container %s",
                                         s->all[i].container_name);
                running++;
        }
        if (running > 0)
                return 0;
        for (size_t i = 0; i < s->n_all; i++)
                if (streq_ptr(s->all[i].pod_uid, s->uid))
                        (void)runtime_remove_container(s->c->runtime, s->all[i].id);
        runtime_release_pod(s->c->runtime, s->uid);
        r = pod_volumes_teardown(s->c, s->uid);
        if (r < 0) {
                /* the pod stays until its mounts are gone, as with the kubelet */
                pod_schedule_retry(s->c, s->ns, s->name, now_usec(CLOCK_REALTIME) + START_RETRY_USEC);
                return 0;
        }
        if (asprintf_safe(&logs, "%s/%s_%s_%s", s->c->log_dir, s->ns, s->name, s->uid) >= 0)
                (void)rm_rf(logs);
        r = store_delete(s->c->store, "Pod", s->ns, s->name, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        pod_forget(s->c, s->uid);
        return 0;
}

static bool pod_running(const SyncContext *s)
{
        for (size_t i = 0; i < s->n_all; i++)
                if (streq_ptr(s->all[i].pod_uid, s->uid) && s->all[i].state != CONTAINER_EXITED)
                        return true;
        return false;
}

static int write_status(SyncContext *s, bool init_done, bool init_failed)
{
        _cleanup_json_ cJSON *status = NULL;
        PodStatusInput in = {.pod = s->pod,
                             .containers = s->all,
                             .n_containers = s->n_all,
                             .controller = s->c,
                             .init_done = init_done,
                             .init_failed = init_failed,
                             .id_scheme = runtime_id_scheme(s->c->runtime),
                             .now = now_usec(CLOCK_REALTIME)};
        int r;

        r = pod_status_build(&in, &status);
        if (r < 0)
                return r;
        if (cJSON_Compare(status, json_path(s->pod, "status"), true))
                return 0;
        if (!streq_ptr(json_str(status, "podIP"), json_str(s->pod, "status.podIP")))
                pod_hosts_peers_changed(s->c, s->pod); /* its peers name it at its new address */
        return store_update_status(s->c->store, "Pod", s->ns, s->name, status);
}

/* Claims an unbound pod for this node, as the scheduler's binding would. */
static int bind_pod(SyncContext *s)
{
        cJSON *spec = json_ensure_object(s->pod, "spec");
        _cleanup_json_ cJSON *updated = NULL;
        int r;

        if (!spec || json_set_string(spec, "nodeName", s->c->node_name) < 0)
                return -ENOMEM;
        r = store_update(s->c->store, s->pod, &updated);
        if (r < 0)
                return r;
        cJSON_Delete(s->pod);
        s->pod = TAKE_PTR(updated);
        s->uid = json_str(s->pod, "metadata.uid") ?: ""; /* pointed into the old object */
        pod_record_event(s->c, s->pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s", s->ns,
                         s->name, s->c->node_name);
        return 0;
}

/* Sets up the pod's volumes before any container starts, and again on each step (a
 * changed ConfigMap or Secret is projected anew). 1 when they are ready; 0 when they
 * are not, with a FailedMount event and a retry. */
/* The pod's address as the runtime knows it (a cri sandbox's), else the stored one. */
static const char *pod_ip_of(const SyncContext *s)
{
        for (size_t i = 0; i < s->n_all; i++)
                if (streq_ptr(s->all[i].pod_uid, s->uid) && !isempty(s->all[i].pod_ip))
                        return s->all[i].pod_ip;
        return json_str(s->pod, "status.podIP");
}

static int sync_volumes(SyncContext *s)
{
        _cleanup_free_ char *err = NULL;
        int r;

        r = pod_volumes_setup(s->c, s->pod, &err);
        if (r == -EINVAL) {
                pod_record_event(s->c, s->pod, "Warning", "FailedMount", "%s", err);
                log_debug("Pod %s/%s: %s", s->ns, s->name, err);
                pod_schedule_retry(s->c, s->ns, s->name, now_usec(CLOCK_REALTIME) + START_RETRY_USEC);
                return 0;
        }
        if (r < 0)
                return r;
        r = pod_volume_table_build(s->c, s->pod, &s->volumes);
        if (r < 0)
                return r;
        r = pod_hosts_sync(s->c, s->pod, pod_ip_of(s), &s->hosts_file);
        return r < 0 ? r : 1;
}

static int pod_sync_locked(PodController *c, const char *ns, const char *name);

/* One reconcile step is one store transaction: the binding, the events and the status of
 * a step become durable together, with one fsync instead of one each. Runtime actions
 * taken in the step (a start, a stop) are found again from the runtime after a crash. */
int pod_sync(PodController *c, const char *ns, const char *name)
{
        int r = store_begin(c->store);

        if (r < 0)
                return r;
        r = pod_sync_locked(c, ns, name);
        if (r < 0) {
                store_rollback(c->store);
                return r;
        }
        return store_commit(c->store);
}

static int pod_sync_locked(PodController *c, const char *ns, const char *name)
{
        SyncContext s = {.c = c, .ns = ns, .name = name};
        const char *node, *phase, *policy;
        bool init_done = false, init_failed = false;
        int r;

        r = store_get(c->store, "Pod", ns, name, &s.pod);
        if (r == -ENOENT)
                return pod_collect_orphans(c);
        if (r < 0)
                return r;
        s.uid = json_str(s.pod, "metadata.uid") ?: "";
        node = json_str(s.pod, "spec.nodeName");
        if (!isempty(node) && !streq(node, c->node_name)) {
                r = 0; /* another node's pod */
                goto out;
        }
        r = runtime_list_containers(c->runtime, &s.all, &s.n_all);
        if (r < 0)
                goto out;
        absorb_waiting(&s);
        if (json_str(s.pod, "metadata.deletionTimestamp")) {
                r = sync_deletion(&s);
                goto out;
        }
        if (isempty(node)) {
                r = bind_pod(&s);
                if (r < 0)
                        goto out;
        }
        phase = json_str(s.pod, "status.phase");
        if (streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed") || c->draining) {
                /* terminal, or the agent is stopping: start nothing; a finished pod's volumes
                 * go once nothing of it runs, as the kubelet unmounts them, so that its
                 * claims can be released */
                r = c->draining || pod_running(&s) ? 0 : pod_volumes_teardown(c, s.uid);
                if (r < 0)
                        log_debug_errno(r, "Pod %s/%s: volumes not torn down yet: %m", ns, name);
                r = 0;
                goto out;
        }
        policy = json_str(s.pod, "spec.restartPolicy") ?: "Always";
        r = sync_volumes(&s);
        if (r == 0)
                init_done = init_containers_succeeded(&s); /* for the status: nothing starts */
        else if (r > 0) {
                r = sync_init_containers(&s, policy, &init_done, &init_failed);
                if (r >= 0 && init_done)
                        r = sync_containers(&s, policy);
        }
        if (r < 0)
                goto out;
        /* what was just started shows in the status of this same step */
        runtime_container_array_free(s.all, s.n_all);
        s.all = NULL;
        s.n_all = 0;
        r = runtime_list_containers(c->runtime, &s.all, &s.n_all);
        if (r >= 0) {
                update_probes(&s, policy);
                r = write_status(&s, init_done, init_failed);
        }
out:
        pod_volume_table_free(&s.volumes);
        free(s.hosts_file);
        runtime_container_array_free(s.all, s.n_all);
        cJSON_Delete(s.pod);
        return r;
}
