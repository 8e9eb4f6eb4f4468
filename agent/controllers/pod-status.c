/* Pod status from the runtime's containers, the way the kubelet reports it: container
 * states (waiting/running/terminated), lastState, restartCount, ready; the conditions
 * PodScheduled, Initialized, ContainersReady and Ready; and the phase (getPhase). */
#include <string.h>

#include "cri-config.h"
#include "json-util.h"
#include "pod-internal.h"
#include "util.h"

ContainerInstances pod_container_instances(const RuntimeContainer *all, size_t n, const char *pod_uid,
                                           const char *name)
{
        ContainerInstances r = {0};

        for (size_t i = 0; i < n; i++) {
                const RuntimeContainer *c = &all[i];
                if (!streq_ptr(c->pod_uid, pod_uid) || !streq_ptr(c->container_name, name))
                        continue;
                if (!r.latest || c->attempt > r.latest->attempt) {
                        r.previous = r.latest;
                        r.latest = c;
                } else if (!r.previous || c->attempt > r.previous->attempt)
                        r.previous = c;
        }
        return r;
}

static int add_time(cJSON *obj, const char *key, usec_t t)
{
        char buf[64];

        if (t == 0)
                return 0;
        if (format_rfc3339(t, buf, sizeof(buf)) < 0)
                return -EINVAL;
        return json_set_string(obj, key, buf);
}

static cJSON *terminated_json(const RuntimeContainer *rc, const char *scheme)
{
        _cleanup_json_ cJSON *t = cJSON_CreateObject();
        _cleanup_free_ char *cid = NULL;

        if (!t || asprintf_safe(&cid, "%s://%s", scheme, rc->runtime_id ?: rc->id) < 0)
                return NULL;
        if (json_set_int(t, "exitCode", rc->exit_code) < 0 ||
            json_set_string(t, "reason", rc->reason ?: (rc->exit_code == 0 ? "Completed" : "Error")) < 0 ||
            (rc->message && json_set_string(t, "message", rc->message) < 0) ||
            add_time(t, "startedAt", rc->started_at) < 0 || add_time(t, "finishedAt", rc->finished_at) < 0 ||
            json_set_string(t, "containerID", cid) < 0)
                return NULL;
        return TAKE_PTR(t);
}

static cJSON *state_json(const char *which, const char *reason, const char *message)
{
        _cleanup_json_ cJSON *s = cJSON_CreateObject();
        cJSON *inner = s ? json_ensure_object(s, which) : NULL;

        if (!inner || (reason && json_set_string(inner, "reason", reason) < 0) ||
            (message && json_set_string(inner, "message", message) < 0))
                return NULL;
        return TAKE_PTR(s);
}

/* One entry of containerStatuses / initContainerStatuses. */
static cJSON *container_status_json(const PodStatusInput *in, const cJSON *spec, bool is_init)
{
        const char *name = json_str(spec, "name") ?: "";
        const char *uid = json_str(in->pod, "metadata.uid");
        ContainerInstances ci = pod_container_instances(in->containers, in->n_containers, uid, name);
        _cleanup_json_ cJSON *cs = cJSON_CreateObject(), *state = NULL, *last = NULL;
        _cleanup_free_ char *key = strjoin(uid ?: "", "/", name, NULL), *cid = NULL;
        PodControllerNote *note = in->controller && key ? pod_note_get(in->controller, key, false) : NULL;
        const char *scheme = in->id_scheme ?: "host";
        bool ready = false, started = false;

        if (!cs || !key)
                return NULL;
        if (!ci.latest) {
                state = state_json("waiting",
                                   note && note->waiting_reason
                                       ? note->waiting_reason
                                       : (is_init ? "PodInitializing" : "ContainerCreating"),
                                   note ? note->waiting_message : NULL);
        } else if (ci.latest->state == CONTAINER_CREATED) {
                /* started, its command not running yet */
                state = state_json("waiting", "ContainerCreating", NULL);
                if (ci.previous && ci.previous->state == CONTAINER_EXITED) {
                        last = cJSON_CreateObject();
                        if (!last || json_set(last, "terminated", terminated_json(ci.previous, scheme)) < 0)
                                return NULL;
                }
        } else if (ci.latest->state == CONTAINER_RUNNING) {
                state = cJSON_CreateObject();
                cJSON *running = state ? json_ensure_object(state, "running") : NULL;
                if (!running || add_time(running, "startedAt", ci.latest->started_at) < 0)
                        return NULL;
                /* the probes decide (section 4.4); without a prober both follow "running" */
                started = is_init || prober_container_started(in->controller ? in->controller->prober : NULL,
                                                              uid, name, ci.latest->id, true);
                ready = !is_init && prober_container_ready(in->controller ? in->controller->prober : NULL,
                                                           uid, name, ci.latest->id, true, started);
                if (ci.previous && ci.previous->state == CONTAINER_EXITED && !(last = cJSON_CreateObject()))
                        return NULL;
                if (last && json_set(last, "terminated", terminated_json(ci.previous, scheme)) < 0)
                        return NULL;
        } else if (note && note->waiting_reason) {
                /* exited and held back: CrashLoopBackOff, with the exit as lastState */
                state = state_json("waiting", note->waiting_reason, note->waiting_message);
                last = cJSON_CreateObject();
                if (!last || json_set(last, "terminated", terminated_json(ci.latest, scheme)) < 0)
                        return NULL;
        } else {
                state = cJSON_CreateObject();
                if (!state || json_set(state, "terminated", terminated_json(ci.latest, scheme)) < 0)
                        return NULL;
                ready = is_init && ci.latest->exit_code == 0;
                if (ci.previous && ci.previous->state == CONTAINER_EXITED) {
                        last = cJSON_CreateObject();
                        if (!last || json_set(last, "terminated", terminated_json(ci.previous, scheme)) < 0)
                                return NULL;
                }
        }
        if (!state)
                return NULL;
        if (ci.latest && asprintf_safe(&cid, "%s://%s", scheme, ci.latest->runtime_id ?: ci.latest->id) < 0)
                return NULL;
        if (json_set_string(cs, "name", name) < 0 || json_set(cs, "state", TAKE_PTR(state)) < 0 ||
            json_set(cs, "lastState", last ? TAKE_PTR(last) : cJSON_CreateObject()) < 0 ||
            json_set_bool(cs, "ready", ready) < 0 ||
            json_set_int(cs, "restartCount", ci.latest ? ci.latest->attempt : 0) < 0 ||
            json_set_string(cs, "image", json_str(spec, "image") ?: "") < 0 ||
            json_set_string(cs, "imageID", ci.latest && ci.latest->image_id ? ci.latest->image_id : "") <
                0 ||
            (cid && json_set_string(cs, "containerID", cid) < 0) ||
            json_set_bool(cs, "started", started) < 0)
                return NULL;
        return TAKE_PTR(cs);
}

const char *pod_phase_compute(const cJSON *spec, const cJSON *status, bool init_done, bool init_failed)
{
        const char *policy = json_str(spec, "restartPolicy") ?: "Always";
        unsigned running = 0, waiting = 0, stopped = 0, succeeded = 0;
        const cJSON *cs;

        if (init_failed)
                return "Failed";
        if (!init_done)
                return "Pending";
        cJSON_ArrayForEach (cs, json_path(status, "containerStatuses")) {
                if (json_path(cs, "state.running"))
                        running++;
                else if (json_path(cs, "state.terminated")) {
                        stopped++;
                        if (json_int(cs, "state.terminated.exitCode", -1) == 0)
                                succeeded++;
                } else if (json_path(cs, "lastState.terminated"))
                        stopped++; /* waiting to restart after a run */
                else
                        waiting++;
        }
        if (waiting > 0)
                return "Pending";
        if (running > 0)
                return "Running";
        if (stopped > 0) {
                if (streq(policy, "Always"))
                        return "Running";
                if (stopped == succeeded)
                        return "Succeeded";
                if (streq(policy, "Never"))
                        return "Failed";
                return "Running";
        }
        return "Pending";
}

/* A condition keeps its lastTransitionTime while its status stays the same. */
static int add_condition(cJSON *conds, const cJSON *old_status, const char *type, bool ok,
                         const char *reason, usec_t now)
{
        _cleanup_json_ cJSON *c = cJSON_CreateObject();
        const cJSON *old;
        const char *old_time = NULL;

        if (!c)
                return -ENOMEM;
        cJSON_ArrayForEach (old, json_path(old_status, "conditions"))
                if (streq_ptr(json_str(old, "type"), type) &&
                    streq_ptr(json_str(old, "status"), ok ? "True" : "False"))
                        old_time = json_str(old, "lastTransitionTime");
        if (json_set_string(c, "type", type) < 0 ||
            json_set_string(c, "status", ok ? "True" : "False") < 0 ||
            json_set(c, "lastProbeTime", cJSON_CreateNull()) < 0)
                return -ENOMEM;
        if (old_time ? json_set_string(c, "lastTransitionTime", old_time) < 0
                     : add_time(c, "lastTransitionTime", now) < 0)
                return -ENOMEM;
        if (!ok && reason && json_set_string(c, "reason", reason) < 0)
                return -ENOMEM;
        return cJSON_AddItemToArray(conds, TAKE_PTR(c)) ? 0 : -ENOMEM;
}

static bool all_ready(const cJSON *statuses)
{
        const cJSON *cs;

        cJSON_ArrayForEach (cs, statuses)
                if (!json_bool(cs, "ready", false))
                        return false;
        return true;
}

static int add_container_statuses(const PodStatusInput *in, cJSON *status, const char *field, bool is_init)
{
        const cJSON *spec;
        cJSON *arr = cJSON_CreateArray();

        if (!arr || json_set(status, is_init ? "initContainerStatuses" : "containerStatuses", arr) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach (spec, json_path(in->pod, field)) {
                cJSON *cs = container_status_json(in, spec, is_init);
                if (!cs || !cJSON_AddItemToArray(arr, cs))
                        return -ENOMEM;
        }
        return 0;
}

int pod_status_build(const PodStatusInput *in, cJSON **ret)
{
        _cleanup_json_ cJSON *status = cJSON_CreateObject();
        const cJSON *old = json_path(in->pod, "status"), *spec = json_path(in->pod, "spec");
        cJSON *conds, *ips;
        const char *phase;
        bool ready;

        if (!status)
                return -ENOMEM;
        if (cJSON_GetArraySize(json_path(spec, "initContainers")) > 0 &&
            add_container_statuses(in, status, "spec.initContainers", true) < 0)
                return -ENOMEM;
        if (add_container_statuses(in, status, "spec.containers", false) < 0)
                return -ENOMEM;
        phase = pod_phase_compute(spec, status, in->init_done, in->init_failed);
        ready = all_ready(json_path(status, "containerStatuses")) && streq(phase, "Running");

        conds = cJSON_CreateArray();
        if (!conds || json_set(status, "conditions", conds) < 0 ||
            add_condition(conds, old, "PodScheduled", true, NULL, in->now) < 0 ||
            add_condition(conds, old, "Initialized", in->init_done, "ContainersNotInitialized", in->now) <
                0 ||
            add_condition(conds, old, "ContainersReady", ready,
                          streq(phase, "Succeeded") ? "PodCompleted" : "ContainersNotReady", in->now) < 0 ||
            add_condition(conds, old, "Ready", ready,
                          streq(phase, "Succeeded") ? "PodCompleted" : "ContainersNotReady", in->now) < 0)
                return -ENOMEM;
        if (json_set_string(status, "phase", phase) < 0)
                return -ENOMEM;
        if (json_str(old, "startTime")) {
                if (json_set_string(status, "startTime", json_str(old, "startTime")) < 0)
                        return -ENOMEM;
        } else if (add_time(status, "startTime", in->now) < 0)
                return -ENOMEM;
        /* host-runtime (and host-network) pods share the node's network namespace: their
         * address is the node's, reached on loopback; a cri sandbox has its own */
        const char *ip = "127.0.0.1";
        for (size_t i = 0; i < in->n_containers; i++)
                if (!isempty(in->containers[i].pod_ip) &&
                    streq_ptr(in->containers[i].pod_uid, json_str(in->pod, "metadata.uid")))
                        ip = in->containers[i].pod_ip;
        ips = cJSON_CreateArray();
        cJSON *entry = cJSON_CreateObject();
        if (!ips || !entry || json_set_string(entry, "ip", ip) < 0 || !cJSON_AddItemToArray(ips, entry)) {
                cJSON_Delete(ips);
                cJSON_Delete(entry);
                return -ENOMEM;
        }
        if (json_set_string(status, "hostIP", "127.0.0.1") < 0 || json_set_string(status, "podIP", ip) < 0 ||
            json_set(status, "podIPs", ips) < 0 ||
            json_set_string(status, "qosClass", cri_pod_qos_class(spec)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(status);
        return 0;
}
