/* The kubelet's probe workers (SEMANTICS.md section 4.2 and 4.4): one worker per container
 * and probe kind, ticking every periodSeconds on the agent's loop, counting identical
 * results up to the thresholds and publishing a result when one is reached. The pure
 * state machine (probe_worker_*) takes the clock as an argument so that it can be tested
 * step by step; the Prober runs the workers on sd-event timers and hands each run to a
 * ProberRunner (the real one: probes/probe.h handlers and runtime_exec). */
#pragma once

#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "curl-loop.h"
#include "probe.h"
#include "runtime.h"

typedef enum ProbeKind {
        PROBE_KIND_STARTUP,
        PROBE_KIND_LIVENESS,
        PROBE_KIND_READINESS,
        _PROBE_KIND_MAX,
} ProbeKind;

/* "Startup", "Liveness", "Readiness": the words of events and describe */
const char *probe_kind_to_string(ProbeKind k);
/* "startupProbe", "livenessProbe", "readinessProbe" */
const char *probe_kind_field(ProbeKind k);

#define PROBE_MAX_RETRIES 3 /* maxProbeRetries: runs that error are retried at once */

typedef struct ProbeSettings {
        int64_t initial_delay; /* seconds, as in the manifest after defaults */
        int64_t period;
        int64_t timeout;
        int64_t success_threshold;
        int64_t failure_threshold;
        int64_t termination_grace; /* probe-level terminationGracePeriodSeconds; -1 unset */
} ProbeSettings;

/* Reads the numbers of a probe object, with the Kubernetes defaults for what is missing. */
void probe_settings_from_json(const cJSON *probe, ProbeSettings *ret);

/* What the worker sees of its container when it ticks (the kubelet's pod status). */
typedef struct ProbeContainerView {
        const char *container_id; /* NULL while no instance exists */
        bool running;
        usec_t started_at;  /* CLOCK_REALTIME, of the running instance */
        bool terminated;    /* the latest instance exited */
        bool restart_never; /* the pod's restartPolicy is Never */
        bool pod_terminal;  /* phase Succeeded or Failed */
        bool deleting;      /* the pod has a deletionTimestamp */
        bool started;       /* containerStatus.started (startup gating) */
        /* the pod's address as the runtime knows it now (a cri sandbox's), which probes without
         * a host of their own target; NULL: status.podIP of the pod passed */
        const char *pod_ip;
} ProbeContainerView;

typedef struct ProbeWorkerState {
        ProbeKind kind;
        ProbeResult result; /* published: PROBE_UNKNOWN, PROBE_SUCCESS or PROBE_FAILURE */
        ProbeResult last_result;
        unsigned result_run; /* identical consecutive results, up to a threshold */
        bool on_hold;
        char *container_id;

        /* for describe: the last run and how many in a row agreed with it */
        usec_t last_time; /* CLOCK_REALTIME, 0 = never ran */
        ProbeResult last_outcome;
        char *last_message;
        unsigned consecutive_successes, consecutive_failures;
} ProbeWorkerState;

void probe_worker_init(ProbeWorkerState *w, ProbeKind kind);
/* A new container instance: the initial result, counts reset, hold lifted. */
int probe_worker_set_container(ProbeWorkerState *w, const char *container_id, ProbeResult initial);
void probe_worker_done(ProbeWorkerState *w);
/* The result a worker starts with for a new container: readiness Failure, liveness
 * Success, startup Unknown. */
ProbeResult probe_initial_result(ProbeKind kind);

typedef enum ProbeStep {
        PROBE_STEP_SKIP, /* nothing to run at this tick */
        PROBE_STEP_RUN,  /* run the handler now, then probe_worker_record() */
        PROBE_STEP_STOP, /* the worker ends for good */
} ProbeStep;

/* doProbe up to the handler run. May publish a result without running (a new container's
 * initial value, Failure for a container that is not running, Success for liveness and
 * startup of a pod being deleted): *ret_changed says whether w->result changed. */
ProbeStep probe_worker_tick(ProbeWorkerState *w, const ProbeSettings *s, const ProbeContainerView *v,
                            usec_t now, bool *ret_changed);
/* Counts one handler outcome (Warning counts as Success, Unknown as Failure; an Error must
 * not be passed: it is discarded by the caller) and returns true when the published result
 * changed. Publishing a liveness Failure or any startup result also puts the worker on hold
 * until the container changes. */
bool probe_worker_record(ProbeWorkerState *w, const ProbeSettings *s, ProbeResult r, const char *message,
                         usec_t now);

/* --- the workers on the loop --- */

typedef struct Prober Prober;

/* How a handler runs. start must not call done from inside itself; cancel stops a run in
 * flight without calling done. The tests inject their own. */
typedef struct ProberRunner {
        int (*start)(void *userdata, const ProbeHandler *h, const char *container_id, usec_t timeout,
                     probe_done_t done, void *done_userdata, void **ret_handle);
        void (*cancel)(void *userdata, void *handle);
        void *userdata;
} ProberRunner;

/* The real runner: httpGet, tcpSocket and grpc through probe.h, exec through
 * runtime_exec() (exit 0 success, else failure with the output; a timeout fails). */
typedef struct ProberDefaultRunner ProberDefaultRunner;
int prober_default_runner_new(ProberDefaultRunner **ret, sd_event *e, CurlLoop *l, Runtime *rt,
                              ProberRunner *ret_runner);
ProberDefaultRunner *prober_default_runner_free(ProberDefaultRunner *r);

typedef struct ProberCallbacks {
        /* A published result changed; the pod controller re-syncs the pod (readiness,
         * liveness/startup kill). */
        void (*on_result)(Prober *p, const char *ns, const char *name, const char *pod_uid,
                          const char *container, ProbeKind kind, ProbeResult result, void *userdata);
        /* An event for the pod: Unhealthy, ProbeWarning. */
        void (*on_event)(Prober *p, const char *ns, const char *name, const char *pod_uid, const char *type,
                         const char *reason, const char *message, void *userdata);
        void *userdata;
} ProberCallbacks;

typedef struct ProberOptions {
        /* first runs after the agent (re)started are spread over a whole period (the
         * kubelet's rule, kubernetes#52154); later new containers over at most this much of
         * theirs. 0 = 1 s. */
        usec_t new_container_jitter_max;
        /* before this CLOCK_BOOTTIME moment workers count as "agent just started" (0: the
         * first period after prober_new) */
        usec_t startup_until;
} ProberOptions;

int prober_new(Prober **ret, sd_event *e, const ProberRunner *runner, const ProberCallbacks *cb,
               const ProberOptions *opts);
Prober *prober_free(Prober *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Prober *, prober_free);

/* Called by the pod controller for every container of a pod after each sync: creates the
 * workers for the probes in the container spec (and drops those whose probe was removed or
 * changed), and stores the view they tick on. ready_hint: the stored status says this very
 * container instance was ready (the agent restarted): readiness starts as Success instead
 * of Failure, so that a restart does not flip pods to not-ready. */
int prober_update(Prober *p, const cJSON *pod, const cJSON *container_spec, const ProbeContainerView *view,
                  bool ready_hint);
/* Drops every worker of a pod (it is gone). */
void prober_forget_pod(Prober *p, const char *pod_uid);

/* The published result of a container's probe for one instance (results belong to a
 * container id, as the kubelet's results manager keys them: an instance the worker has not
 * seen yet has the initial result). *ret_exists is false when there is no such probe. */
ProbeResult prober_result(Prober *p, const char *pod_uid, const char *container, ProbeKind kind,
                          const char *container_id, bool *ret_exists);
/* started and ready of a container instance as the kubelet computes them (section 4.4). */
bool prober_container_started(Prober *p, const char *pod_uid, const char *container,
                              const char *container_id, bool running);
bool prober_container_ready(Prober *p, const char *pod_uid, const char *container, const char *container_id,
                            bool running, bool started);

/* The probe-level terminationGracePeriodSeconds of a container's probe, -1 if unset. */
int64_t prober_termination_grace(Prober *p, const char *pod_uid, const char *container, ProbeKind kind);

/* For describe: [{"container", "kind", "probe" (kubectl words), "result", "lastProbeTime",
 * "lastOutcome", "message", "consecutiveSuccesses", "consecutiveFailures"}] */
cJSON *prober_describe_pod(Prober *p, const char *pod_uid);
size_t prober_n_workers(Prober *p);

/* Prometheus text: berth_probe_total{probe_type,result} (the kubelet's prober_probe_total)
 * and berth_probe_duration_seconds, a histogram of run times with 20 buckets a decade from
 * 10 us to 10 s, fine enough for percentiles. */
int prober_metrics_text(Prober *p, char **ret);
