/* The manager: owns the one sd-event loop and every module of the running agent (store,
 * runtime, pod controller, API server, manifests directory), wires their notifications,
 * keeps this node's Node object, and handles SIGTERM (leave workloads running, or drain),
 * SIGINT and SIGHUP (re-read the manifests). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "admission.h"
#include "api.h"
#include "berth-config.h"
#include "coordinator.h"
#include "fleet.h"
#include "cronjob-controller.h"
#include "daemonset-controller.h"
#include "statefulset-controller.h"
#include "curl-loop.h"
#include "job-controller.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "manifest-dir.h"
#include "metrics-server.h"
#include "metrics.h"
#include "node-address.h"
#include "pod-worker.h"
#include "prober.h"
#include "runtime.h"
#include "store.h"
#include "util.h"
#include "volume-controller.h"

#define DRAIN_POLL_USEC (200 * USEC_PER_MSEC)

struct Manager {
        Config *config;
        manager_reload_t reload;
        void *reload_userdata;
        sd_event_source *watchdog_timer;
        usec_t watchdog_usec;
        sd_event *event;
        Store *store;
        Runtime *runtime;
        CurlLoop *curl;
        ProberDefaultRunner *probe_runner;
        ProberRunner runner; /* probes and lifecycle hooks run through it */
        Prober *prober;
        StorageClassTable classes;
        VolumeController *volumes;
        PodController *pods;
        JobController *jobs;
        CronJobController *cronjobs;
        DaemonSetController *daemonsets;
        StatefulSetController *statefulsets;
        Coordinator *coordinator;
        Fleet *fleet; /* cluster mode only */
        /* cluster mode: the dead man's switch of the pods of StatefulSet ordinals */
        char *fence_path;
        usec_t fence_written; /* CLOCK_REALTIME written as its mtime last */
        usec_t resume_until;  /* CLOCK_REALTIME: the previous run's lease may hold until then */
        sd_event_source *fence_timer;
        ApiServer *api;
        Metrics *metrics;
        MetricsLoopMeter *loop_meter;
        MetricsServer *metrics_server; /* metricsAddress, NULL when off */
        ManifestDir *manifests;
        sd_event_source *drain_timer;
        sd_event_source *status_timer; /* debounces STATUS= updates */
        bool drain;
        bool stopping;
};

static void schedule_status(Manager *m);

/* A probe's published result changed: the pod's status (ready) or its containers
 * (liveness kill) follow in its next sync. */
static void on_probe_result(Prober *p, const char *ns, const char *name, const char *pod_uid,
                            const char *container, ProbeKind kind, ProbeResult result, void *userdata)
{
        Manager *m = userdata;

        if (m->pods)
                pod_controller_enqueue(m->pods, ns, name);
}

static void on_probe_event(Prober *p, const char *ns, const char *name, const char *pod_uid,
                           const char *type, const char *reason, const char *message, void *userdata)
{
        Manager *m = userdata;

        if (m->pods)
                pod_controller_event(m->pods, ns, name, pod_uid, type, reason, message);
}

static int pod_probes(void *userdata, const char *pod_uid, cJSON **ret)
{
        Manager *m = userdata;

        *ret = prober_describe_pod(m->prober, pod_uid);
        return *ret ? 0 : -ENOMEM;
}

static int fleet_pods_hook(void *userdata, const char *ns, cJSON **ret)
{
        Manager *m = userdata;
        const cJSON *pods = m->fleet ? fleet_pods(m->fleet, ns) : NULL;

        *ret = pods ? cJSON_Duplicate(pods, true) : cJSON_CreateArray();
        return *ret ? 0 : -ENOMEM;
}

static int delete_fleet_pod(void *userdata, const cJSON *pod, int64_t grace_sec)
{
        Manager *m = userdata;

        return m->fleet ? fleet_delete_pod(m->fleet, pod, grace_sec) : -ENOENT;
}

static int release_ordinal(void *userdata, const char *ns, const char *set, int64_t ordinal,
                           char **ret_error)
{
        Manager *m = userdata;
        int r;

        if (ordinal < 0 || ordinal > UINT32_MAX)
                return set_errorf(ret_error, -ERANGE, "ordinal %lld is out of range", (long long)ordinal);
        r = statefulset_controller_release(m->statefulsets, ns, set, (unsigned)ordinal);
        switch (r) {
        case 0:
                return set_errorf(ret_error, 0,
                                  "release of the data binding of ordinal %lld of statefulset %s/%s sent",
                                  (long long)ordinal, ns, set);
        case -EOPNOTSUPP:
                return set_errorf(ret_error, r, "release needs cluster mode (coordinator.type etcd)");
        case -ERANGE:
                return set_errorf(ret_error, r, "ordinal %lld is below the start of statefulset %s/%s",
                                  (long long)ordinal, ns, set);
        case -EAGAIN:
                return set_errorf(ret_error, r, "node %s is not registered in etcd right now: try again",
                                  m->config->node_name);
        case -EBUSY:
                return set_errorf(ret_error, r, "a claim of statefulset %s/%s is in flight: try again", ns,
                                  set);
        }
        return r;
}

static int metrics(void *userdata, char **ret)
{
        Manager *m = userdata;
        MetricsSources src = {
            .store = m->store, .prober = m->prober, .metrics = m->metrics, .loop = m->loop_meter};

        return metrics_render(&src, ret);
}

/* metricsAddress serves what GET /metrics on the API socket serves. */
static int metrics_scrape(void *userdata, char **ret)
{
        Manager *m = userdata;

        return api_server_metrics_text(m->api, ret);
}

static int fence_update(Manager *m);

#define LEASE_KV_KEY "coordinator/lease"

/* The lease a restarted agent resumes (its claims with it), kept in the store's kv table. */
static int64_t saved_lease(Manager *m)
{
        _cleanup_json_ cJSON *v = NULL;

        const char *id;

        /* a string: lease ids use all 64 bits, more than a JSON number keeps */
        if (store_kv_get(m->store, LEASE_KV_KEY, &v) < 0 || !(id = json_str(v, "id")))
                return 0;
        return strtoll(id, NULL, 10);
}

static void save_lease(Manager *m)
{
        int64_t id = coordinator_lease(m->coordinator);
        _cleanup_json_ cJSON *v = NULL;
        char buf[32];
        int r;

        if (id == 0 || id == saved_lease(m))
                return;
        snprintf(buf, sizeof(buf), "%" PRIi64, id);
        v = cJSON_CreateObject();
        r = v && json_set_string(v, "id", buf) >= 0 ? store_kv_set(m->store, LEASE_KV_KEY, v) : -ENOMEM;
        if (r < 0)
                log_warning_errno(r, "Cannot keep the lease in the store (a restart will wait for it to "
                                     "expire): %m");
}

static void on_coordinator_state(Coordinator *co, CoordinatorState state, void *userdata)
{
        Manager *m = userdata;

        switch (state) {
        case COORDINATOR_READY:
                log_info("Registered in etcd as node %s.", m->config->node_name);
                save_lease(m);
                if (m->cronjobs)
                        (void)cronjob_controller_resync(m->cronjobs);
                break;
        case COORDINATOR_LOSING:
                log_warning("The etcd lease of node %s cannot be renewed: no claim is made until it is.",
                            m->config->node_name);
                break;
        case COORDINATOR_CONNECTING:
                log_info("Registering node %s in etcd.", m->config->node_name);
                break;
        }
        /* the fence first: the pods of ordinals claimed from now on start under it */
        if (state == COORDINATOR_READY && m->fence_path)
                (void)fence_update(m);
        /* the pods of ordinals first: they must stop before the lease can run out */
        statefulset_controller_on_coordinator_state(m->statefulsets, state);
        if (m->fleet)
                fleet_on_coordinator_state(m->fleet, state);
        (void)co;
}

static void on_coordinator_change(Coordinator *co, void *userdata)
{
        Manager *m = userdata;

        statefulset_controller_on_claims_changed(m->statefulsets);
        daemonset_controller_on_claims_changed(m->daemonsets);
        (void)co;
}

static void on_fleet_pod(Fleet *f, StoreChange change, const cJSON *pod, void *userdata)
{
        Manager *m = userdata;

        statefulset_controller_on_fleet_pod(m->statefulsets, pod);
        daemonset_controller_on_fleet_pod(m->daemonsets, pod);
        pod_controller_on_fleet_pod(m->pods, change, pod);
        (void)f;
}

/* local: every claim is this node's. etcd: the node registers under a lease; fleet CronJobs
 * claim each run before launching it. */
static int setup_coordinator(Manager *m)
{
        _cleanup_free_ const char **endpoints =
            calloc((size_t)cJSON_GetArraySize(m->config->coordinator_endpoints) + 1, sizeof(char *));
        _cleanup_free_ char *err = NULL;
        const cJSON *v;
        size_t n = 0;
        int r;

        if (!endpoints)
                return log_oom();
        cJSON_ArrayForEach (v, m->config->coordinator_endpoints)
                endpoints[n++] = v->valuestring;
        r = coordinator_new(
            &m->coordinator, m->event, m->curl,
            &(CoordinatorOptions){.type = streq(m->config->coordinator_type, "etcd") ? COORDINATOR_ETCD
                                                                                     : COORDINATOR_LOCAL,
                                  .node_name = m->config->node_name,
                                  .endpoints = endpoints,
                                  .lease_ttl_sec = m->config->coordinator_lease_ttl,
                                  .resume_lease = saved_lease(m)},
            &(CoordinatorCallbacks){
                .on_state = on_coordinator_state, .on_change = on_coordinator_change, .userdata = m},
            &err);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the %s coordinator: %s",
                                       m->config->coordinator_type, err ?: strerror(-r));
        if (coordinator_type(m->coordinator) == COORDINATOR_LOCAL)
                return 0;
        r = fleet_new(&m->fleet, m->event, m->store, m->coordinator,
                      &(FleetCallbacks){.on_pod = on_fleet_pod, .userdata = m});
        if (r < 0)
                return log_error_errno(r, "Failed to set up the fleet: %m");
        return 0;
}

static int setup_probes(Manager *m)
{
        int r;

        r = curl_loop_new(&m->curl, m->event);
        if (r >= 0)
                r = prober_default_runner_new(&m->probe_runner, m->event, m->curl, m->runtime, &m->runner);
        if (r >= 0)
                r = prober_new(&m->prober, m->event, &m->runner,
                               &(ProberCallbacks){
                                   .on_result = on_probe_result, .on_event = on_probe_event, .userdata = m},
                               NULL);
        return r;
}

static int admit(void *userdata, const cJSON *obj, FieldErrors *errs)
{
        Manager *m = userdata;
        AdmissionContext ctx = {.host_runtime = !streq(m->config->runtime_type, "cri")};

        return admission_check(&ctx, obj, errs);
}

static void on_store_change(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        Manager *m = userdata;

        if (m->pods)
                pod_controller_on_store_change(m->pods, change, obj);
        if (m->volumes)
                volume_controller_on_store_change(m->volumes, change, obj);
        if (m->jobs)
                job_controller_on_store_change(m->jobs, change, obj);
        if (m->cronjobs)
                cronjob_controller_on_store_change(m->cronjobs, change, obj);
        if (m->daemonsets)
                daemonset_controller_on_store_change(m->daemonsets, change, obj);
        if (m->statefulsets)
                statefulset_controller_on_store_change(m->statefulsets, change, obj);
        if (m->fleet)
                fleet_on_store_change(m->fleet, change, obj);
        if (streq_ptr(json_str(obj, "kind"), "Pod"))
                schedule_status(m);
}

static void on_container_exit(Runtime *rt, const char *id, void *userdata)
{
        Manager *m = userdata;

        if (m->pods)
                pod_controller_on_container_exit(m->pods, id);
}

static void on_container_start(Runtime *rt, const char *id, void *userdata)
{
        Manager *m = userdata;

        if (m->pods)
                pod_controller_on_container_start(m->pods, id);
}

/* berth_cri_call_duration_seconds */
static void on_runtime_call(const char *method, usec_t duration, int grpc_status, void *userdata)
{
        Manager *m = userdata;

        metrics_cri_observe(m->metrics, method, duration, grpc_status);
}

static void notify_status(Manager *m)
{
        _cleanup_json_ cJSON *pods = NULL;
        size_t running = m->pods ? pod_controller_running_containers(m->pods) : 0;

        if (store_list(m->store, "Pod", NULL, NULL, &pods) < 0)
                return;
        (void)sd_notifyf(false, "STATUS=%d pods, %zu containers running", cJSON_GetArraySize(pods), running);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        notify_status(userdata);
        return 0;
}

/* STATUS= follows the pods, at most once a second. */
static void schedule_status(Manager *m)
{
        int enabled = SD_EVENT_OFF;

        if (!m->status_timer) {
                if (sd_event_add_time_relative(m->event, &m->status_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                               100 * USEC_PER_MSEC, on_status_timer, m) < 0)
                        return;
                (void)sd_event_source_set_description(m->status_timer, "status-notify");
                return;
        }
        if (sd_event_source_get_enabled(m->status_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        (void)sd_event_source_set_time_relative(m->status_timer, USEC_PER_SEC);
        (void)sd_event_source_set_enabled(m->status_timer, SD_EVENT_ONESHOT);
}

static int on_drain_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        size_t left = pod_controller_running_containers(m->pods);

        if (left == 0) {
                log_info("Drained: every workload stopped.");
                return sd_event_exit(m->event, 0);
        }
        (void)sd_notifyf(false, "STATUS=Draining: %zu containers still running", left);
        (void)sd_event_source_set_time_relative(s, DRAIN_POLL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;
        int r;

        if (m->stopping)
                return 0;
        m->stopping = true;
        (void)sd_notify(false, "STOPPING=1");
        if (!m->drain) {
                log_info("Received %s: stopping the agent; workloads keep running.",
                         strsignal((int)si->ssi_signo));
                return sd_event_exit(m->event, 0);
        }
        log_info("Received %s: draining, stopping every workload first.", strsignal((int)si->ssi_signo));
        (void)pod_controller_drain(m->pods);
        r = sd_event_add_time_relative(m->event, &m->drain_timer, CLOCK_MONOTONIC, 0, 0, on_drain_timer, m);
        if (r < 0)
                return sd_event_exit(m->event, r);
        (void)sd_event_source_set_description(m->drain_timer, "drain-poll");
        return 0;
}

static int register_node(Manager *m);

static bool json_changed(const cJSON *a, const cJSON *b)
{
        return !cJSON_Compare(a, b, true);
}

static void take_json(cJSON **dst, cJSON **src)
{
        cJSON *old = *dst;

        *dst = *src;
        *src = old;
}

/* Reads the config again and applies what can change while the agent runs: the log level,
 * the node's labels and taints, the storage classes, the size of the event log. The rest
 * takes a restart, and the log says so. A config that does not load changes nothing. */
static void reload_config(Manager *m)
{
        static const struct {
                const char *name;
                size_t offset;
        } fixed[] = {
            {"nodeName", offsetof(Config, node_name)},
            {"stateDir", offsetof(Config, state_dir)},
            {"manifestsDir", offsetof(Config, manifests_dir)},
            {"socket", offsetof(Config, socket_path)},
            {"logDir", offsetof(Config, log_dir)},
            {"metricsAddress", offsetof(Config, metrics_address)},
            {"runtime.type", offsetof(Config, runtime_type)},
            {"runtime.endpoint", offsetof(Config, runtime_endpoint)},
            {"coordinator.type", offsetof(Config, coordinator_type)},
            {"cgroupRoot", offsetof(Config, cgroup_root)},
        };
        _cleanup_(storage_class_table_done) StorageClassTable classes = {};
        _cleanup_free_ char *err = NULL;
        Config fresh = {};
        int r;

        if (!m->reload)
                return;
        r = m->reload(m->reload_userdata, &fresh, &err);
        if (r >= 0)
                r = storage_class_table_parse(fresh.storage_classes, fresh.default_storage_class,
                                              m->config->state_dir, &classes, &err);
        if (r < 0) {
                log_error("The config was not reloaded: %s", err ?: strerror(-r));
                config_done(&fresh);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                const char *a = *(char **)((uint8_t *)m->config + fixed[i].offset),
                           *b = *(char **)((uint8_t *)&fresh + fixed[i].offset);
                if (!streq_ptr(a, b))
                        log_warning("The config's %s changed: it takes effect when the agent restarts.",
                                    fixed[i].name);
        }
        if (!streq_ptr(m->config->log_level, fresh.log_level)) {
                log_set_max_level(log_level_from_string(fresh.log_level));
                log_info("Log level now %s.", fresh.log_level);
                free(m->config->log_level);
                m->config->log_level = TAKE_PTR(fresh.log_level);
        }
        if (m->config->events_max != fresh.events_max) {
                m->config->events_max = fresh.events_max;
                store_set_events_max(m->store, fresh.events_max);
        }
        if (json_changed(m->config->labels, fresh.labels) || json_changed(m->config->taints, fresh.taints)) {
                take_json(&m->config->labels, &fresh.labels);
                take_json(&m->config->taints, &fresh.taints);
                r = register_node(m);
                if (r < 0)
                        log_warning_errno(r, "Failed to update node %s: %m", m->config->node_name);
        }
        if (json_changed(m->config->storage_classes, fresh.storage_classes) ||
            !streq_ptr(m->config->default_storage_class, fresh.default_storage_class)) {
                StorageClassTable old = m->classes;

                take_json(&m->config->storage_classes, &fresh.storage_classes);
                free(m->config->default_storage_class);
                m->config->default_storage_class = TAKE_PTR(fresh.default_storage_class);
                m->classes = classes;
                classes = old; /* freed on return */
                log_info("Storage classes reloaded: %zu.", m->classes.n);
        }
        config_done(&fresh);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        (void)sd_notify(false, "RELOADING=1");
        log_info("Received SIGHUP: re-reading the config and %s.", m->config->manifests_dir);
        reload_config(m);
        (void)manifest_dir_rescan(m->manifests);
        (void)pod_controller_resync(m->pods);
        (void)volume_controller_resync(m->volumes);
        (void)job_controller_resync(m->jobs);
        (void)cronjob_controller_resync(m->cronjobs);
        (void)daemonset_controller_resync(m->daemonsets);
        (void)statefulset_controller_resync(m->statefulsets);
        (void)sd_notify(false, "READY=1");
        notify_status(m);
        return 0;
}

/* The watchdog is fed only while the agent is healthy: the loop turns (this timer fires) and
 * the store takes a write. A wedged loop or a store that cannot commit lets systemd's
 * WatchdogSec= run out, and it restarts the agent. */
static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        _cleanup_json_ cJSON *beat = cJSON_CreateNumber((double)(now_usec(CLOCK_REALTIME) / USEC_PER_SEC));
        int r;

        r = beat ? store_kv_set(m->store, "agent/watchdog", beat) : -ENOMEM;
        if (r < 0)
                log_error_errno(r, "The store takes no write (%m): the watchdog is not fed.");
        else
                (void)sd_notify(false, "WATCHDOG=1");
        (void)sd_event_source_set_time_relative(s, m->watchdog_usec / 2);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int setup_watchdog(Manager *m)
{
        int r = sd_watchdog_enabled(false, &m->watchdog_usec);

        if (r <= 0)
                return r;
        r = sd_event_add_time_relative(m->event, &m->watchdog_timer, CLOCK_MONOTONIC, 0, 0, on_watchdog, m);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->watchdog_timer, "watchdog");
        log_debug("systemd watchdog every %" PRIu64 " ms.", m->watchdog_usec / USEC_PER_MSEC);
        return 1;
}

/* The fence file's mtime is the wall-clock time of the lease's last renewal, written while the
 * coordinator is READY: a shim kills its container of a StatefulSet ordinal once that is older
 * than ttl - COORDINATOR_SAFETY_MARGIN, the moment this agent would stop it itself, also when
 * this agent is dead (host runtime). */
static int fence_update(Manager *m)
{
        usec_t last = coordinator_last_renewal(m->coordinator), mono = now_usec(CLOCK_BOOTTIME), wall;
        _cleanup_close_ int fd = -EBADF;
        struct timespec ts[2];

        if (coordinator_state(m->coordinator) != COORDINATOR_READY || last == 0 || last > mono)
                return 0;
        wall = now_usec(CLOCK_REALTIME) - (mono - last);
        /* within a few milliseconds of what is there: the same renewal */
        if (wall <= m->fence_written + 10 * USEC_PER_MSEC && wall + 10 * USEC_PER_MSEC >= m->fence_written)
                return 0;
        fd = open(m->fence_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", m->fence_path);
        ts[0] = ts[1] = (struct timespec){.tv_sec = (time_t)(wall / USEC_PER_SEC),
                                          .tv_nsec = (long)(wall % USEC_PER_SEC * 1000)};
        if (futimens(fd, ts) < 0)
                return log_error_errno(errno, "Cannot set the time of %s: %m", m->fence_path);
        m->fence_written = wall;
        return 0;
}

static int on_fence_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)fence_update(userdata);
        (void)sd_event_source_set_time_relative(s, 250 * USEC_PER_MSEC);
        (void)usec;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int setup_fence(Manager *m, PodControllerOptions *po)
{
        struct stat st;
        int64_t ttl = m->config->coordinator_lease_ttl > 0 ? m->config->coordinator_lease_ttl
                                                           : COORDINATOR_DEFAULT_TTL_SEC;
        int r;

        if (!m->fleet)
                return 0;
        m->fence_path = strjoin(m->config->state_dir, "/lease-fence", NULL);
        if (!m->fence_path)
                return -ENOMEM;
        /* a file left from before holds the last renewal of this node's previous lease: the
         * pods it covers were made under that lease, and are stopped with it unless the lease
         * is resumed before */
        if (stat(m->fence_path, &st) >= 0) {
                usec_t until = (usec_t)st.st_mtim.tv_sec * USEC_PER_SEC + (usec_t)st.st_mtim.tv_nsec / 1000 +
                               (usec_t)ttl * USEC_PER_SEC - COORDINATOR_SAFETY_MARGIN;

                if (until > now_usec(CLOCK_REALTIME))
                        m->resume_until = until;
        }
        po->fence_path = m->fence_path;
        po->fence_max_age = (usec_t)ttl * USEC_PER_SEC - COORDINATOR_SAFETY_MARGIN;
        r = sd_event_add_time_relative(m->event, &m->fence_timer, CLOCK_MONOTONIC, 0, 0, on_fence_timer, m);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->fence_timer, "lease-fence");
        return 0;
}

/* Keeps this node's Node object: labels, taints, addresses, capacity, a Ready condition and
 * the agent version. */
/* status.capacity as the kubelet reports it: online CPUs, MemTotal, and its default of 110
 * pods (berth does not refuse pods on it: the others see what the node has). */
static cJSON *node_capacity_new(void)
{
        _cleanup_json_ cJSON *c = cJSON_CreateObject();
        _cleanup_free_ char *meminfo = NULL, *mem = NULL;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned long long kib = 0;
        const char *line;
        char cpu[32];

        if (!c)
                return NULL;
        if (read_full_file("/proc/meminfo", 1 << 20, &meminfo, NULL) >= 0 &&
            (line = strstr(meminfo, "MemTotal:")))
                (void)sscanf(line, "MemTotal: %llu kB", &kib);
        snprintf(cpu, sizeof(cpu), "%ld", MAX(cpus, 1L));
        if (asprintf(&mem, "%lluKi", kib) < 0)
                return NULL;
        if (json_set_string(c, "cpu", cpu) < 0 || json_set_string(c, "memory", mem) < 0 ||
            json_set_string(c, "pods", "110") < 0)
                return NULL;
        return TAKE_PTR(c);
}

static int register_node(Manager *m)
{
        _cleanup_json_ cJSON *node = cJSON_CreateObject(), *stored = NULL;
        cJSON *meta, *spec, *status, *cond, *info;
        char now[64];

        if (!node || format_rfc3339(now_usec(CLOCK_REALTIME), now, sizeof(now)) < 0)
                return -ENOMEM;
        meta = json_ensure_object(node, "metadata");
        spec = json_ensure_object(node, "spec");
        if (!meta || !spec || json_set_string(node, "apiVersion", "v1") < 0 ||
            json_set_string(node, "kind", "Node") < 0 ||
            json_set_string(meta, "name", m->config->node_name) < 0 ||
            json_set(meta, "labels", cJSON_Duplicate(m->config->labels, true)) < 0 ||
            json_set(spec, "taints", cJSON_Duplicate(m->config->taints, true)) < 0)
                return -ENOMEM;
        if (json_set_string(json_path(node, "metadata.labels"), "kubernetes.io/hostname",
                            m->config->node_name) < 0)
                return -ENOMEM;
        /* the registration carries the addresses: the other agents name this node's pods by them */
        if (json_set(json_ensure_object(node, "status"), "addresses",
                     node_address_list_new(m->config->node_address, m->config->node_name)) < 0 ||
            json_set(json_path(node, "status"), "capacity", node_capacity_new()) < 0 ||
            json_set(json_path(node, "status"), "allocatable",
                     cJSON_Duplicate(json_path(node, "status.capacity"), true)) < 0)
                return -ENOMEM;
        if (m->coordinator)
                (void)coordinator_set_node(m->coordinator, node);
        int r = store_apply(m->store, node, &stored, NULL, NULL);
        if (r < 0)
                return r;
        status = cJSON_CreateObject();
        cond = cJSON_CreateObject();
        info = status ? json_ensure_object(status, "nodeInfo") : NULL;
        if (!status || !cond || !info || json_set_string(cond, "type", "Ready") < 0 ||
            json_set_string(cond, "status", "True") < 0 ||
            json_set_string(cond, "reason", "BerthReady") < 0 ||
            json_set_string(cond, "message", "berth agent is posting ready status") < 0 ||
            json_set_string(cond, "lastHeartbeatTime", now) < 0 ||
            json_set_string(cond, "lastTransitionTime", now) < 0 ||
            json_set_string(info, "kubeletVersion", "v" BERTH_VERSION "-berth") < 0 ||
            json_set_string(info, "containerRuntimeVersion", m->config->runtime_type) < 0 ||
            json_set(status, "conditions", cJSON_CreateArray()) < 0 ||
            json_set(status, "addresses", cJSON_Duplicate(json_path(node, "status.addresses"), true)) < 0 ||
            json_set(status, "capacity", cJSON_Duplicate(json_path(node, "status.capacity"), true)) < 0 ||
            json_set(status, "allocatable", cJSON_Duplicate(json_path(node, "status.allocatable"), true)) <
                0 ||
            !cJSON_AddItemToArray(json_path(status, "conditions"), cond)) {
                cJSON_Delete(status);
                return -ENOMEM;
        }
        r = store_update_status(m->store, "Node", NULL, m->config->node_name, status);
        cJSON_Delete(status);
        return r;
}

/* The per-container shim: the configured one, else berth-shim beside this binary (build
 * tree, tarball), else the installed one, else this binary's own "berth shim" verb. */
static char *find_shim(const Config *c)
{
        char self[PATH_MAX];
        ssize_t n;

        if (c->shim_path)
                return strdup(c->shim_path);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = 0;
                char *slash = strrchr(self, '/');
                if (slash) {
                        _cleanup_free_ char *p = NULL;
                        *slash = 0;
                        p = strjoin(self, "/berth-shim", NULL);
                        if (p && access(p, X_OK) == 0)
                                return TAKE_PTR(p);
                }
        }
        if (access(BERTH_LIBEXECDIR "/berth-shim", X_OK) == 0)
                return strdup(BERTH_LIBEXECDIR "/berth-shim");
        return strdup("/proc/self/exe");
}

static int setup_signals(Manager *m)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
        return r;
}

int manager_new(Manager **ret, Config *config)
{
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));
        _cleanup_free_ char *socket_dir = NULL, *pods_dir = strjoin(config->state_dir, "/pods", NULL);
        PodControllerOptions po = {.node_name = config->node_name,
                                   .log_dir = config->log_dir,
                                   .seccomp_default = config->seccomp_default};
        RuntimeOptions ro = {.type = streq(config->runtime_type, "cri")       ? RUNTIME_CRI
                                     : streq(config->runtime_type, "systemd") ? RUNTIME_SYSTEMD
                                                                              : RUNTIME_HOST,
                             .endpoint = config->runtime_endpoint,
                             .state_dir = config->state_dir,
                             .cgroup_name = config->cgroup_root};
        ApiOptions ao = {.socket_path = config->socket_path,
                         .listen_fd = -1,
                         .socket_group = config->socket_group,
                         .log_dir = config->log_dir,
                         .node_name = config->node_name};
        _cleanup_free_ char *shim = find_shim(config), *err = NULL;
        int r, n_fds;

        if (!m || !shim || !pods_dir)
                return -ENOMEM;
        ro.shim_path = shim;
        po.pods_dir = pods_dir;
        m->config = config;
        r = sd_event_new(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        r = setup_signals(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");
        r = metrics_new(&m->metrics, now_usec(CLOCK_REALTIME));
        if (r >= 0)
                r = metrics_loop_meter_new(&m->loop_meter, m->event, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the metrics: %m");
        r = mkdir_p(config->state_dir, 0700);
        if (r >= 0)
                r = mkdir_p(config->log_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create the state and log directories: %m");
        socket_dir = strdup(config->socket_path);
        if (!socket_dir)
                return log_oom();
        *strrchr(socket_dir, '/') = 0;
        if (*socket_dir && (r = mkdir_p(socket_dir, 0755)) < 0)
                return log_error_errno(r, "Failed to create %s: %m", socket_dir);

        r = store_open(&m->store, config->state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open the store in %s: %m", config->state_dir);
        store_set_events_max(m->store, config->events_max);
        store_set_on_change(m->store, on_store_change, m);

        r = runtime_new(&m->runtime, m->event, &ro);
        if (r < 0)
                return log_error_errno(r, "Failed to start the %s runtime: %m", config->runtime_type);
        runtime_set_on_exit(m->runtime, on_container_exit, m);
        runtime_set_on_start(m->runtime, on_container_start, m);
        runtime_set_call_observer(m->runtime, on_runtime_call, m);

        r = setup_probes(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the probes: %m");
        r = setup_coordinator(m);
        if (r < 0)
                return r;
        r = setup_fence(m, &po);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the lease fence: %m");
        r = storage_class_table_parse(config->storage_classes, config->default_storage_class,
                                      config->state_dir, &m->classes, &err);
        if (r < 0)
                return log_error_errno(r, "Invalid storage classes: %s", err ?: strerror(-r));
        r = volume_controller_new(&m->volumes, m->event, m->store,
                                  &(VolumeControllerOptions){.node_name = config->node_name,
                                                             .state_dir = config->state_dir,
                                                             .classes = &m->classes});
        if (r < 0)
                return log_error_errno(r, "Failed to create the volume controller: %m");
        po.prober = m->prober;
        po.runner = m->runner;
        po.volumes = m->volumes;
        po.fleet = m->fleet; /* made by setup_coordinator() above */
        po.coordinator = m->coordinator;
        r = pod_controller_new(&m->pods, m->event, m->store, m->runtime, &po);
        if (r < 0)
                return log_error_errno(r, "Failed to create the pod controller: %m");

        r = job_controller_new(&m->jobs, m->event, m->store,
                               &(JobControllerOptions){.node_name = config->node_name});
        if (r < 0)
                return log_error_errno(r, "Failed to create the job controller: %m");

        r = cronjob_controller_new(&m->cronjobs, m->event, m->store);
        if (r < 0)
                return log_error_errno(r, "Failed to create the cronjob controller: %m");
        cronjob_controller_set_coordinator(m->cronjobs, m->coordinator);
        r = daemonset_controller_new(&m->daemonsets, m->event, m->store,
                                     &(DaemonSetControllerOptions){.node_name = config->node_name});
        if (r < 0)
                return log_error_errno(r, "Failed to create the daemonset controller: %m");
        r = statefulset_controller_new(&m->statefulsets, m->event, m->store,
                                       &(StatefulSetControllerOptions){.node_name = config->node_name});
        if (r < 0)
                return log_error_errno(r, "Failed to create the statefulset controller: %m");
        statefulset_controller_set_cluster(m->statefulsets, m->coordinator, m->fleet);
        statefulset_controller_hold_until(m->statefulsets, m->resume_until);
        daemonset_controller_set_cluster(m->daemonsets, m->coordinator, m->fleet);

        r = register_node(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register node %s: %m", config->node_name);

        /* socket activation: berth.socket hands the API socket over */
        n_fds = sd_listen_fds(true);
        if (n_fds == 1)
                ao.listen_fd = SD_LISTEN_FDS_START;
        r = api_server_new(&m->api, m->event, m->store, &ao,
                           &(ApiHooks){.metrics = metrics,
                                       .admit = admit,
                                       .pod_probes = pod_probes,
                                       .fleet_pods = fleet_pods_hook,
                                       .delete_fleet_pod = delete_fleet_pod,
                                       .release_ordinal = release_ordinal,
                                       .userdata = m});
        if (r < 0)
                return log_error_errno(r, "Failed to serve the API on %s: %m", config->socket_path);
        if (!isempty(config->metrics_address)) {
                r = metrics_server_new(&m->metrics_server, m->event, config->metrics_address, metrics_scrape,
                                       m);
                if (r == -EINVAL)
                        return log_error_errno(
                            r, "Invalid metricsAddress \"%s\": want HOST:PORT, e.g. 127.0.0.1:10255.",
                            config->metrics_address);
                if (r < 0)
                        return log_error_errno(r, "Failed to serve metrics on %s: %m",
                                               config->metrics_address);
        }

        r = manifest_dir_new(&m->manifests, m->event, m->store, config->manifests_dir,
                             &(AdmissionContext){.host_runtime = !streq(config->runtime_type, "cri")});
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", config->manifests_dir);

        r = volume_controller_resync(m->volumes);
        if (r >= 0)
                r = pod_controller_resync(m->pods);
        if (r >= 0)
                r = job_controller_resync(m->jobs);
        if (r >= 0)
                r = cronjob_controller_resync(m->cronjobs);
        if (r >= 0)
                r = daemonset_controller_resync(m->daemonsets);
        if (r >= 0)
                r = statefulset_controller_resync(m->statefulsets);
        if (r < 0)
                return log_error_errno(r, "Failed to list the workloads: %m");
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->watchdog_timer);
        sd_event_source_disable_unref(m->fence_timer);
        free(m->fence_path);
        sd_event_source_disable_unref(m->drain_timer);
        sd_event_source_disable_unref(m->status_timer);
        manifest_dir_free(m->manifests);
        metrics_server_free(m->metrics_server);
        api_server_free(m->api);
        statefulset_controller_free(m->statefulsets);
        daemonset_controller_free(m->daemonsets);
        cronjob_controller_free(m->cronjobs);
        job_controller_free(m->jobs);
        pod_controller_free(m->pods);
        volume_controller_free(m->volumes);
        fleet_free(m->fleet);
        coordinator_free(m->coordinator); /* after the controllers: they hold its requests */
        storage_class_table_done(&m->classes);
        prober_free(m->prober);
        prober_default_runner_free(m->probe_runner);
        curl_loop_free(m->curl);
        runtime_free(m->runtime);
        store_free(m->store);
        metrics_loop_meter_free(m->loop_meter);
        metrics_free(m->metrics);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

void manager_set_reloader(Manager *m, manager_reload_t reload, void *userdata)
{
        m->reload = reload;
        m->reload_userdata = userdata;
}

int manager_run(Manager *m, bool drain)
{
        int r;

        m->drain = drain;
        log_info("berth %s agent on node %s: API on %s, manifests in %s, %s runtime.", BERTH_VERSION,
                 m->config->node_name, m->config->socket_path, m->config->manifests_dir,
                 m->config->runtime_type);
        r = setup_watchdog(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the watchdog: %m");
        (void)sd_notify(false, "READY=1");
        notify_status(m);
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
