/* The probe worker state machine step by step with an injected clock (worker.go), and the
 * Prober on a real loop with a runner that answers what the test says. */
#include <criterion/criterion.h>
#include <string.h>

#include "event-run.h"
#include "json-util.h"
#include "prober.h"

#define T0 ((usec_t)1700000000 * USEC_PER_SEC)

static ProbeSettings settings(int64_t delay, int64_t success, int64_t failure)
{
        return (ProbeSettings){.initial_delay = delay,
                               .period = 10,
                               .timeout = 1,
                               .success_threshold = success,
                               .failure_threshold = failure,
                               .termination_grace = -1};
}

static ProbeContainerView running(const char *id, bool started)
{
        return (ProbeContainerView){
            .container_id = id, .running = true, .started_at = T0, .started = started};
}

Test(prober, defaults_from_json)
{
        cJSON *p = cJSON_Parse("{\"httpGet\":{\"port\":80},\"periodSeconds\":0,\"failureThreshold\":5,"
                               "\"terminationGracePeriodSeconds\":7}");
        ProbeSettings s;

        probe_settings_from_json(p, &s);
        cr_assert_eq(s.initial_delay, 0);
        cr_assert_eq(s.timeout, 1);
        cr_assert_eq(s.period, 10);
        cr_assert_eq(s.success_threshold, 1);
        cr_assert_eq(s.failure_threshold, 5);
        cr_assert_eq(s.termination_grace, 7);
        cJSON_Delete(p);
}

Test(prober, initial_results)
{
        cr_assert_eq(probe_initial_result(PROBE_KIND_READINESS), PROBE_FAILURE);
        cr_assert_eq(probe_initial_result(PROBE_KIND_LIVENESS), PROBE_SUCCESS);
        cr_assert_eq(probe_initial_result(PROBE_KIND_STARTUP), PROBE_UNKNOWN);
        cr_assert_str_eq(probe_kind_to_string(PROBE_KIND_LIVENESS), "Liveness");
        cr_assert_str_eq(probe_kind_field(PROBE_KIND_READINESS), "readinessProbe");
}

Test(prober, no_container_yet_skips)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(0, 1, 3);
        ProbeContainerView v = {0};
        bool changed = true;

        probe_worker_init(&w, PROBE_KIND_READINESS);
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0, &changed), PROBE_STEP_SKIP);
        cr_assert_not(changed);
        probe_worker_done(&w);
}

Test(prober, initial_delay_in_whole_seconds)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(5, 1, 3);
        ProbeContainerView v = running("c1", true);

        probe_worker_init(&w, PROBE_KIND_READINESS);
        /* 4.999 s after the start: int32(4.999) = 4 < 5 */
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0 + 4999 * USEC_PER_MSEC, NULL), PROBE_STEP_SKIP);
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0 + 5 * USEC_PER_SEC, NULL), PROBE_STEP_RUN);
        probe_worker_done(&w);
}

Test(prober, readiness_thresholds)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(0, 2, 3);
        ProbeContainerView v = running("c1", true);

        probe_worker_init(&w, PROBE_KIND_READINESS);
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0, NULL), PROBE_STEP_RUN);
        cr_assert_str_eq(w.container_id, "c1");
        /* one success is below successThreshold 2: nothing published */
        cr_assert_not(probe_worker_record(&w, &s, PROBE_SUCCESS, NULL, T0));
        cr_assert_eq(w.result, PROBE_FAILURE);
        /* a warning counts as a success */
        cr_assert(probe_worker_record(&w, &s, PROBE_WARNING, "redirect", T0));
        cr_assert_eq(w.result, PROBE_SUCCESS);
        cr_assert_eq(w.consecutive_successes, 2);
        /* two failures keep it ready, the third makes it unready */
        cr_assert_not(probe_worker_record(&w, &s, PROBE_FAILURE, "x", T0));
        cr_assert_not(probe_worker_record(&w, &s, PROBE_UNKNOWN, NULL, T0));
        cr_assert_eq(w.result, PROBE_SUCCESS);
        cr_assert_eq(w.consecutive_failures, 2);
        cr_assert(probe_worker_record(&w, &s, PROBE_FAILURE, "HTTP probe failed with statuscode: 500", T0));
        cr_assert_eq(w.result, PROBE_FAILURE);
        cr_assert_str_eq(w.last_message, "HTTP probe failed with statuscode: 500");
        /* readiness is never put on hold */
        cr_assert_not(w.on_hold);
        /* a success after the failures resets the run: one is not enough */
        cr_assert_not(probe_worker_record(&w, &s, PROBE_SUCCESS, NULL, T0));
        cr_assert_eq(w.result, PROBE_FAILURE);
        probe_worker_done(&w);
}

Test(prober, liveness_failure_holds_until_new_container)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(0, 1, 2);
        ProbeContainerView v = running("c1", true);

        probe_worker_init(&w, PROBE_KIND_LIVENESS);
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0, NULL), PROBE_STEP_RUN);
        cr_assert_eq(w.result, PROBE_SUCCESS);
        cr_assert_not(probe_worker_record(&w, &s, PROBE_FAILURE, "down", T0));
        cr_assert(probe_worker_record(&w, &s, PROBE_FAILURE, "down", T0));
        cr_assert_eq(w.result, PROBE_FAILURE);
        cr_assert(w.on_hold);
        cr_assert_eq(w.result_run, 0);
        /* on hold: the same instance is not probed again */
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0 + 10 * USEC_PER_SEC, NULL), PROBE_STEP_SKIP);
        /* the restarted instance starts over from Success */
        v.container_id = "c2";
        bool changed = false;
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0 + 20 * USEC_PER_SEC, &changed), PROBE_STEP_RUN);
        cr_assert(changed);
        cr_assert_eq(w.result, PROBE_SUCCESS);
        cr_assert_not(w.on_hold);
        probe_worker_done(&w);
}

Test(prober, startup_gates_the_others)
{
        ProbeWorkerState st, live, ready;
        ProbeSettings s = settings(0, 1, 3);
        ProbeContainerView v = running("c1", false);

        probe_worker_init(&st, PROBE_KIND_STARTUP);
        probe_worker_init(&live, PROBE_KIND_LIVENESS);
        probe_worker_init(&ready, PROBE_KIND_READINESS);
        /* not started: only the startup probe runs */
        cr_assert_eq(probe_worker_tick(&st, &s, &v, T0, NULL), PROBE_STEP_RUN);
        cr_assert_eq(probe_worker_tick(&live, &s, &v, T0, NULL), PROBE_STEP_SKIP);
        cr_assert_eq(probe_worker_tick(&ready, &s, &v, T0, NULL), PROBE_STEP_SKIP);
        /* any published startup result holds the startup worker */
        cr_assert(probe_worker_record(&st, &s, PROBE_SUCCESS, NULL, T0));
        cr_assert(st.on_hold);
        /* started: the startup worker idles, the others run */
        v.started = true;
        cr_assert_eq(probe_worker_tick(&st, &s, &v, T0, NULL), PROBE_STEP_SKIP);
        cr_assert_eq(probe_worker_tick(&live, &s, &v, T0, NULL), PROBE_STEP_RUN);
        cr_assert_eq(probe_worker_tick(&ready, &s, &v, T0, NULL), PROBE_STEP_RUN);
        probe_worker_done(&st);
        probe_worker_done(&live);
        probe_worker_done(&ready);
}

Test(prober, startup_failure_is_published_at_threshold)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(0, 1, 3);

        probe_worker_init(&w, PROBE_KIND_STARTUP);
        cr_assert_eq(w.result, PROBE_UNKNOWN);
        cr_assert_not(probe_worker_record(&w, &s, PROBE_FAILURE, NULL, T0));
        cr_assert_not(probe_worker_record(&w, &s, PROBE_FAILURE, NULL, T0));
        cr_assert(probe_worker_record(&w, &s, PROBE_FAILURE, NULL, T0));
        cr_assert_eq(w.result, PROBE_FAILURE);
        cr_assert(w.on_hold);
        probe_worker_done(&w);
}

Test(prober, not_running_publishes_failure)
{
        ProbeWorkerState w;
        ProbeSettings s = settings(0, 1, 3);
        ProbeContainerView v = running("c1", true);
        bool changed;

        probe_worker_init(&w, PROBE_KIND_READINESS);
        (void)probe_worker_tick(&w, &s, &v, T0, NULL);
        cr_assert(probe_worker_record(&w, &s, PROBE_SUCCESS, NULL, T0));
        /* exited, restartPolicy Always: Failure, the worker goes on */
        v.running = false;
        v.terminated = true;
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0, &changed), PROBE_STEP_SKIP);
        cr_assert(changed);
        cr_assert_eq(w.result, PROBE_FAILURE);
        /* exited and never restarted: the worker ends */
        v.restart_never = true;
        cr_assert_eq(probe_worker_tick(&w, &s, &v, T0, &changed), PROBE_STEP_STOP);
        cr_assert_not(changed);
        probe_worker_done(&w);
}

Test(prober, deletion_and_terminal_pods)
{
        ProbeWorkerState live, ready;
        ProbeSettings s = settings(0, 1, 1);
        ProbeContainerView v = running("c1", true);
        bool changed;

        probe_worker_init(&live, PROBE_KIND_LIVENESS);
        probe_worker_init(&ready, PROBE_KIND_READINESS);
        (void)probe_worker_tick(&live, &s, &v, T0, NULL);
        cr_assert(probe_worker_record(&live, &s, PROBE_FAILURE, NULL, T0));
        live.on_hold = false; /* as if it had not been put on hold */
        v.deleting = true;
        /* liveness of a pod being deleted: Success, and it stops (no kill during shutdown) */
        cr_assert_eq(probe_worker_tick(&live, &s, &v, T0, &changed), PROBE_STEP_STOP);
        cr_assert(changed);
        cr_assert_eq(live.result, PROBE_SUCCESS);
        /* readiness keeps probing during deletion */
        cr_assert_eq(probe_worker_tick(&ready, &s, &v, T0, NULL), PROBE_STEP_RUN);
        v.pod_terminal = true;
        cr_assert_eq(probe_worker_tick(&ready, &s, &v, T0, NULL), PROBE_STEP_STOP);
        probe_worker_done(&live);
        probe_worker_done(&ready);
}

/* --- the Prober on a loop --- */

typedef struct FakeRun {
        probe_done_t done;
        void *userdata;
        sd_event_source *defer;
        ProbeResult result;
} FakeRun;

typedef struct Fake {
        sd_event *event;
        ProbeResult answer;
        unsigned runs, cancels;
        char last_container[64];
        char last_host[64];
        FakeRun *inflight;
        unsigned results;
        ProbeResult last_result;
        ProbeKind last_kind;
        unsigned events;
        char last_reason[64], last_message[256];
} Fake;

static int fake_fire(sd_event_source *s, void *userdata)
{
        FakeRun *r = userdata;
        ProbeOutcome o = {.result = r->result, .message = r->result == PROBE_FAILURE ? "it failed" : NULL};
        probe_done_t done = r->done;
        void *ud = r->userdata;

        sd_event_source_disable_unref(r->defer);
        free(r);
        done(&o, ud);
        return 0;
}

static int fake_start(void *userdata, const ProbeHandler *h, const char *container_id, usec_t timeout,
                      probe_done_t done, void *done_userdata, void **ret_handle)
{
        Fake *f = userdata;
        FakeRun *r = calloc(1, sizeof(*r));

        cr_assert(r);
        cr_assert_eq(h->action, PROBE_ACTION_TCP_SOCKET);
        cr_assert_eq(timeout, 2 * USEC_PER_SEC);
        *r = (FakeRun){.done = done, .userdata = done_userdata, .result = f->answer};
        snprintf(f->last_container, sizeof(f->last_container), "%s", container_id);
        snprintf(f->last_host, sizeof(f->last_host), "%s", h->host ?: "");
        cr_assert_geq(sd_event_add_defer(f->event, &r->defer, fake_fire, r), 0);
        f->runs++;
        *ret_handle = r;
        return 0;
}

static void fake_cancel(void *userdata, void *handle)
{
        Fake *f = userdata;
        FakeRun *r = handle;

        f->cancels++;
        sd_event_source_disable_unref(r->defer);
        free(r);
}

static void on_result(Prober *p, const char *ns, const char *name, const char *uid, const char *container,
                      ProbeKind kind, ProbeResult result, void *userdata)
{
        Fake *f = userdata;

        cr_assert_str_eq(ns, "default");
        cr_assert_str_eq(name, "web");
        cr_assert_str_eq(container, "app");
        f->results++;
        f->last_result = result;
        f->last_kind = kind;
}

static void on_event(Prober *p, const char *ns, const char *name, const char *uid, const char *type,
                     const char *reason, const char *message, void *userdata)
{
        Fake *f = userdata;

        f->events++;
        snprintf(f->last_reason, sizeof(f->last_reason), "%s", reason);
        snprintf(f->last_message, sizeof(f->last_message), "%s", message);
}

/* Runs the loop until cond holds (or fails the test after limit). */
#define run_until(e, limit, cond)                                                                           \
        do {                                                                                                \
                usec_t _end = now_usec(CLOCK_MONOTONIC) + (limit);                                          \
                while (!(cond)) {                                                                           \
                        cr_assert_lt(now_usec(CLOCK_MONOTONIC), _end, "timed out waiting for " #cond);      \
                        cr_assert_geq(sd_event_run(e, 50 * USEC_PER_MSEC), 0);                              \
                }                                                                                           \
        } while (0)

static const char *const POD = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\"},"
                               "\"status\":{\"podIP\":\"127.0.0.1\"}}";
static const char *const CONTAINER =
    "{\"name\":\"app\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}],"
    "\"readinessProbe\":{\"tcpSocket\":{\"port\":\"http\"},\"periodSeconds\":1,\"timeoutSeconds\":2,"
    "\"failureThreshold\":2},"
    "\"livenessProbe\":{\"tcpSocket\":{\"port\":8080},\"periodSeconds\":1,\"timeoutSeconds\":2,"
    "\"failureThreshold\":2}}";

Test(prober, loop_readiness_and_events)
{
        sd_event *e = NULL;
        Fake f = {.answer = PROBE_SUCCESS};
        ProberRunner runner = {.start = fake_start, .cancel = fake_cancel, .userdata = &f};
        ProberCallbacks cb = {.on_result = on_result, .on_event = on_event, .userdata = &f};
        ProberOptions opts = {.new_container_jitter_max = 100 * USEC_PER_MSEC, .startup_until = 1};
        cJSON *pod = cJSON_Parse(POD), *c = cJSON_Parse(CONTAINER);
        ProbeContainerView v = {
            .container_id = "c1", .running = true, .started_at = now_usec(CLOCK_REALTIME)};
        Prober *p = NULL;
        bool exists;

        cr_assert_geq(sd_event_new(&e), 0);
        f.event = e;
        cr_assert_eq(prober_new(&p, e, &runner, &cb, &opts), 0);
        cr_assert_eq(prober_update(p, pod, c, &v, false), 0);
        cr_assert_eq(prober_n_workers(p), 2);
        /* no startup probe: started; readiness not yet known: not ready */
        cr_assert(prober_container_started(p, "u1", "app", "c1", true));
        cr_assert_not(prober_container_ready(p, "u1", "app", "c1", true, true));
        prober_result(p, "u1", "app", PROBE_KIND_STARTUP, "c1", &exists);
        cr_assert_not(exists);

        /* the first runs come within the jitter bound (100 ms), not after a whole period
         * (a generous limit: the machine may be busy) */
        run_until(e, 900 * USEC_PER_MSEC, f.runs >= 2 && f.results >= 1);
        cr_assert_eq(f.runs, 2);
        cr_assert_str_eq(f.last_container, "c1");
        cr_assert_eq(f.results, 1); /* readiness Failure -> Success; liveness stays Success */
        cr_assert(prober_container_ready(p, "u1", "app", "c1", true, true));
        /* another instance has its own (initial) results */
        cr_assert_not(prober_container_ready(p, "u1", "app", "c2", true, true));

        /* failures: an Unhealthy event for each, unready at the threshold (2) */
        f.answer = PROBE_FAILURE;
        run_until(e, 10 * USEC_PER_SEC,
                  prober_result(p, "u1", "app", PROBE_KIND_LIVENESS, "c1", NULL) == PROBE_FAILURE &&
                      !prober_container_ready(p, "u1", "app", "c1", true, true));
        cr_assert_geq(f.events, 2);
        cr_assert_str_eq(f.last_reason, "Unhealthy");
        cr_assert(strstr(f.last_message, "probe failed: it failed"), "%s", f.last_message);
        cr_assert_not(prober_container_ready(p, "u1", "app", "c1", true, true));
        cr_assert_eq(prober_result(p, "u1", "app", PROBE_KIND_LIVENESS, "c1", NULL), PROBE_FAILURE);

        cJSON *d = prober_describe_pod(p, "u1");
        cr_assert_eq(cJSON_GetArraySize(d), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(d, 0), "container"), "app");
        cr_assert_geq(json_int(cJSON_GetArrayItem(d, 1), "consecutiveFailures", 0), 2);
        cJSON_Delete(d);

        prober_forget_pod(p, "u1");
        cr_assert_eq(prober_n_workers(p), 0);
        event_run_for(e, 100 * USEC_PER_MSEC);
        prober_free(p);
        cJSON_Delete(pod);
        cJSON_Delete(c);
        sd_event_unref(e);
}

Test(prober, ready_hint_carries_readiness_over)
{
        sd_event *e = NULL;
        Fake f = {.answer = PROBE_SUCCESS};
        ProberRunner runner = {.start = fake_start, .cancel = fake_cancel, .userdata = &f};
        cJSON *pod = cJSON_Parse(POD), *c = cJSON_Parse(CONTAINER);
        ProbeContainerView v = {
            .container_id = "c1", .running = true, .started_at = now_usec(CLOCK_REALTIME)};
        Prober *p = NULL;

        cr_assert_geq(sd_event_new(&e), 0);
        f.event = e;
        cr_assert_eq(prober_new(&p, e, &runner, NULL, NULL), 0);
        cr_assert_eq(prober_update(p, pod, c, &v, true), 0);
        /* before any run: ready, as the store said */
        cr_assert(prober_container_ready(p, "u1", "app", "c1", true, true));
        prober_free(p);
        cJSON_Delete(pod);
        cJSON_Delete(c);
        sd_event_unref(e);
}

/* A cri sandbox gets its address after the workers of its containers were made: the next
 * update points the handler at it, and the following runs go there. */
Test(prober, retargets_when_the_pod_gets_an_address)
{
        sd_event *e = NULL;
        Fake f = {.answer = PROBE_SUCCESS};
        ProberRunner runner = {.start = fake_start, .cancel = fake_cancel, .userdata = &f};
        ProberCallbacks cb = {.on_result = on_result, .on_event = on_event, .userdata = &f};
        ProberOptions opts = {.new_container_jitter_max = 10 * USEC_PER_MSEC, .startup_until = 1};
        cJSON *pod = cJSON_Parse(POD), *c = cJSON_Parse(CONTAINER);
        ProbeContainerView v = {
            .container_id = "c1", .running = true, .started_at = now_usec(CLOCK_REALTIME)};
        Prober *p = NULL;

        cr_assert_geq(sd_event_new(&e), 0);
        f.event = e;
        cr_assert_eq(prober_new(&p, e, &runner, &cb, &opts), 0);
        cr_assert_eq(prober_update(p, pod, c, &v, false), 0);
        run_until(e, 900 * USEC_PER_MSEC, f.runs >= 2);
        cr_assert_str_eq(f.last_host, "127.0.0.1");

        /* each pod sync updates the prober; one finds no run in flight and retargets */
        v.pod_ip = "10.88.0.7";
        run_until(e, 3 * USEC_PER_SEC,
                  prober_update(p, pod, c, &v, false) == 0 && streq(f.last_host, "10.88.0.7"));

        prober_free(p);
        cJSON_Delete(pod);
        cJSON_Delete(c);
        sd_event_unref(e);
}
