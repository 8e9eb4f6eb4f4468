/* Probe workers: the kubelet's worker.go as a pure state machine, and the Prober that runs
 * one worker per (pod, container, kind) on a CLOCK_BOOTTIME timer of the agent's loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "json-util.h"
#include "log.h"
#include "prober.h"

const char *probe_kind_to_string(ProbeKind k)
{
        static const char *const names[] = {"Startup", "Liveness", "Readiness"};

        return (unsigned)k < ELEMENTSOF(names) ? names[k] : "Unknown";
}

const char *probe_kind_field(ProbeKind k)
{
        static const char *const names[] = {"startupProbe", "livenessProbe", "readinessProbe"};

        return (unsigned)k < ELEMENTSOF(names) ? names[k] : "";
}

void probe_settings_from_json(const cJSON *probe, ProbeSettings *ret)
{
        /* SetDefaults_Probe; a zero (or absent) value takes the default, as the apiserver's
         * defaulting does for timeout, period and the thresholds */
        int64_t v;

        *ret = (ProbeSettings){.initial_delay = MAX(json_int(probe, "initialDelaySeconds", 0), 0),
                               .termination_grace = -1};
        v = json_int(probe, "timeoutSeconds", 0);
        ret->timeout = v > 0 ? v : 1;
        v = json_int(probe, "periodSeconds", 0);
        ret->period = v > 0 ? v : 10;
        v = json_int(probe, "successThreshold", 0);
        ret->success_threshold = v > 0 ? v : 1;
        v = json_int(probe, "failureThreshold", 0);
        ret->failure_threshold = v > 0 ? v : 3;
        v = json_int(probe, "terminationGracePeriodSeconds", -1);
        ret->termination_grace = v > 0 ? v : -1;
}

ProbeResult probe_initial_result(ProbeKind kind)
{
        switch (kind) {
        case PROBE_KIND_READINESS:
                return PROBE_FAILURE;
        case PROBE_KIND_LIVENESS:
                return PROBE_SUCCESS;
        default:
                return PROBE_UNKNOWN;
        }
}

void probe_worker_init(ProbeWorkerState *w, ProbeKind kind)
{
        *w = (ProbeWorkerState){.kind = kind, .result = probe_initial_result(kind)};
}

void probe_worker_done(ProbeWorkerState *w)
{
        if (!w)
                return;
        free(w->container_id);
        free(w->last_message);
        w->container_id = w->last_message = NULL;
}

int probe_worker_set_container(ProbeWorkerState *w, const char *container_id, ProbeResult initial)
{
        char *id = container_id ? strdup(container_id) : NULL;

        if (container_id && !id)
                return -ENOMEM;
        free(w->container_id);
        w->container_id = id;
        w->result = initial;
        w->last_result = PROBE_UNKNOWN;
        w->result_run = 0;
        w->on_hold = false;
        w->consecutive_successes = w->consecutive_failures = 0;
        return 0;
}

static void publish(ProbeWorkerState *w, ProbeResult r, bool *changed)
{
        if (w->result != r)
                *changed = true;
        w->result = r;
}

ProbeStep probe_worker_tick(ProbeWorkerState *w, const ProbeSettings *s, const ProbeContainerView *v,
                            usec_t now, bool *ret_changed)
{
        bool changed = false;
        ProbeStep step = PROBE_STEP_SKIP;

        if (v->pod_terminal) {
                step = PROBE_STEP_STOP;
                goto out;
        }
        if (!v->container_id)
                goto out; /* not created yet */
        if (!streq_ptr(w->container_id, v->container_id)) {
                ProbeResult before = w->result;
                if (probe_worker_set_container(w, v->container_id, probe_initial_result(w->kind)) < 0)
                        goto out; /* tried again at the next tick */
                changed = before != w->result;
        }
        if (w->on_hold)
                goto out;
        if (!v->running) {
                publish(w, PROBE_FAILURE, &changed);
                /* the worker ends only if the container will not run again */
                if (v->terminated && v->restart_never)
                        step = PROBE_STEP_STOP;
                goto out;
        }
        if (v->deleting && (w->kind == PROBE_KIND_LIVENESS || w->kind == PROBE_KIND_STARTUP)) {
                publish(w, PROBE_SUCCESS, &changed);
                step = PROBE_STEP_STOP;
                goto out;
        }
        /* int32(time.Since(startedAt).Seconds()) < initialDelaySeconds: whole seconds */
        if (now < v->started_at || (int64_t)((now - v->started_at) / USEC_PER_SEC) < s->initial_delay)
                goto out;
        if (v->started) {
                if (w->kind == PROBE_KIND_STARTUP)
                        goto out;
        } else if (w->kind != PROBE_KIND_STARTUP)
                goto out;
        step = PROBE_STEP_RUN;
out:
        if (ret_changed)
                *ret_changed = changed;
        return step;
}

bool probe_worker_record(ProbeWorkerState *w, const ProbeSettings *s, ProbeResult r, const char *message,
                         usec_t now)
{
        ProbeResult counted = r == PROBE_SUCCESS || r == PROBE_WARNING ? PROBE_SUCCESS : PROBE_FAILURE;
        char *m = message ? strdup(message) : NULL;
        bool changed;

        w->last_time = now;
        w->last_outcome = r;
        free(w->last_message);
        w->last_message = m;
        if (counted == PROBE_SUCCESS) {
                w->consecutive_successes++;
                w->consecutive_failures = 0;
        } else {
                w->consecutive_failures++;
                w->consecutive_successes = 0;
        }

        if (w->last_result == counted)
                w->result_run++;
        else {
                w->last_result = counted;
                w->result_run = 1;
        }
        if ((counted == PROBE_FAILURE && w->result_run < (unsigned)s->failure_threshold) ||
            (counted == PROBE_SUCCESS && w->result_run < (unsigned)s->success_threshold))
                return false;
        changed = w->result != counted;
        w->result = counted;
        if ((w->kind == PROBE_KIND_LIVENESS && counted == PROBE_FAILURE) || w->kind == PROBE_KIND_STARTUP) {
                /* restarted or started: nothing more to learn from this instance */
                w->on_hold = true;
                w->result_run = 0;
        }
        return changed;
}

/* --- the workers on the loop --- */

typedef struct Worker {
        Prober *prober;
        char *key; /* "<pod uid>/<container>/<kind>": the sort key */
        char *pod_uid, *ns, *name, *container;
        ProbeKind kind;
        ProbeSettings settings;
        ProbeHandler handler;
        char *handler_error; /* the handler could not be read: each run errors with this */
        char *pod_ip;        /* the address the handler targets when the probe names no host */
        char *describe;
        ProbeWorkerState state;
        ProbeContainerView view;
        char *view_id; /* owns view.container_id */
        sd_event_source *timer;
        void *run;          /* runner handle in flight */
        usec_t run_started; /* CLOCK_MONOTONIC */
        unsigned tries;
        bool stopped;
} Worker;

/* 20 buckets a decade from 1e-5 s to 1e1 s, then +Inf */
#define DURATION_BUCKETS 121

struct Prober {
        sd_event *event;
        ProberRunner runner;
        ProberCallbacks cb;
        ProberOptions opts;
        Worker **workers; /* sorted by key */
        size_t n_workers;
        sd_event_source *reaper; /* frees stopped workers outside their own callbacks */
        uint64_t duration_buckets[DURATION_BUCKETS + 1];
        uint64_t n_durations;
        double duration_sum;
        uint64_t totals[_PROBE_KIND_MAX][PROBE_ERROR + 1];
};

static double bucket_bound(size_t i)
{
        return pow(10.0, -5.0 + (double)i / 20.0);
}

static void record_duration(Prober *p, usec_t d)
{
        double s = (double)d / (double)USEC_PER_SEC;
        size_t i = 0;

        /* the first bucket whose bound holds it; the log gives the place, the loop the edge */
        if (s > 1e-5)
                i = (size_t)MAX(floor((log10(s) + 5.0) * 20.0) - 1, 0);
        while (i < DURATION_BUCKETS && s > bucket_bound(i))
                i++;
        p->duration_buckets[i]++;
        p->n_durations++;
        p->duration_sum += s;
}

static Worker *worker_free(Worker *w)
{
        if (!w)
                return NULL;
        if (w->run && w->prober->runner.cancel)
                w->prober->runner.cancel(w->prober->runner.userdata, w->run);
        sd_event_source_disable_unref(w->timer);
        probe_handler_done(&w->handler);
        free(w->pod_ip);
        probe_worker_done(&w->state);
        free(w->handler_error);
        free(w->describe);
        free(w->view_id);
        free(w->key);
        free(w->pod_uid);
        free(w->ns);
        free(w->name);
        free(w->container);
        free(w);
        return NULL;
}

static char *worker_key(const char *uid, const char *container, ProbeKind kind)
{
        char k[2] = {(char)('0' + kind), 0};

        return strjoin(uid, "/", container, "/", k, NULL);
}

/* Index of key, or where it would go (with *ret_found false). */
static size_t find_pos(Prober *p, const char *key, bool *ret_found)
{
        size_t lo = 0, hi = p->n_workers;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(p->workers[mid]->key, key);
                if (c == 0) {
                        *ret_found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_found = false;
        return lo;
}

static Worker *find_worker(Prober *p, const char *uid, const char *container, ProbeKind kind)
{
        _cleanup_free_ char *key = worker_key(uid, container, kind);
        bool found;
        size_t i;

        if (!key)
                return NULL;
        i = find_pos(p, key, &found);
        return found && !p->workers[i]->stopped ? p->workers[i] : NULL;
}

static uint64_t random_u64(void)
{
        uint64_t v = 0;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                v = now_usec(CLOCK_MONOTONIC) * 6364136223846793005ULL;
        return v;
}

static usec_t period_usec(const Worker *w)
{
        return (usec_t)w->settings.period * USEC_PER_SEC;
}

static void schedule(Worker *w, usec_t when)
{
        if (sd_event_source_set_time(w->timer, when) < 0 ||
            sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT) < 0)
                log_warning("probe %s: cannot arm its timer", w->key);
}

/* The first run of a new container instance: spread inside its period, over the whole
 * period right after the agent started (kubernetes#52154), else over at most
 * new_container_jitter_max, so that a new container becomes ready about as soon as with
 * the kubelet. */
static void schedule_first(Worker *w)
{
        usec_t now, span = period_usec(w);

        if (sd_event_now(w->prober->event, CLOCK_BOOTTIME, &now) < 0)
                now = now_usec(CLOCK_BOOTTIME);
        if (now >= w->prober->opts.startup_until)
                span = MIN(span, w->prober->opts.new_container_jitter_max);
        schedule(w, now + (span > 0 ? random_u64() % span : 0));
}

static void worker_stop(Worker *w)
{
        Prober *p = w->prober;

        w->stopped = true;
        (void)sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        if (w->run && p->runner.cancel)
                p->runner.cancel(p->runner.userdata, w->run);
        w->run = NULL;
        (void)sd_event_source_set_enabled(p->reaper, SD_EVENT_ONESHOT);
}

static void emit_event(Worker *w, const char *type, const char *reason, const char *fmt, const char *a,
                       const char *b)
{
        Prober *p = w->prober;
        _cleanup_free_ char *msg = NULL;

        if (!p->cb.on_event || asprintf_safe(&msg, fmt, a, b ? b : "") < 0)
                return;
        p->cb.on_event(p, w->ns, w->name, w->pod_uid, type, reason, msg, p->cb.userdata);
}

static void notify_result(Worker *w)
{
        Prober *p = w->prober;

        if (p->cb.on_result)
                p->cb.on_result(p, w->ns, w->name, w->pod_uid, w->container, w->kind, w->state.result,
                                p->cb.userdata);
}

static bool compute_started(Prober *p, const char *uid, const char *container, const char *id, bool running);

static void run_handler(Worker *w);

static void on_run_done(const ProbeOutcome *o, void *userdata)
{
        Worker *w = userdata;
        Prober *p = w->prober;
        const char *kind = probe_kind_to_string(w->kind);
        usec_t now = now_usec(CLOCK_REALTIME);

        w->run = NULL;
        if (w->stopped)
                return;
        record_duration(p, now_usec(CLOCK_MONOTONIC) - w->run_started);
        if ((unsigned)o->result <= PROBE_ERROR)
                p->totals[w->kind][o->result]++;
        if (o->result == PROBE_ERROR) {
                if (++w->tries < PROBE_MAX_RETRIES) {
                        run_handler(w);
                        return;
                }
                /* the kubelet reports it and throws the result away */
                emit_event(w, "Warning", "Unhealthy", "%s probe errored and resulted in unknown state: %s",
                           kind, o->message ? o->message : "");
                w->state.last_time = now;
                w->state.last_outcome = PROBE_ERROR;
                free(w->state.last_message);
                w->state.last_message = o->message ? strdup(o->message) : NULL;
                return;
        }
        if (o->result == PROBE_FAILURE)
                emit_event(w, "Warning", "Unhealthy", "%s probe failed: %s", kind, o->message);
        else if (o->result == PROBE_WARNING)
                emit_event(w, "Warning", "ProbeWarning", "%s probe warning: %s", kind, o->message);
        if (probe_worker_record(&w->state, &w->settings, o->result, o->message, now))
                notify_result(w);
}

static void run_handler(Worker *w)
{
        Prober *p = w->prober;
        int r;

        if (w->handler_error) {
                ProbeOutcome o = {.result = PROBE_ERROR, .message = w->handler_error};
                w->tries = PROBE_MAX_RETRIES - 1;
                on_run_done(&o, w);
                return;
        }
        w->run_started = now_usec(CLOCK_MONOTONIC);
        r = p->runner.start(p->runner.userdata, &w->handler, w->view.container_id,
                            (usec_t)w->settings.timeout * USEC_PER_SEC, on_run_done, w, &w->run);
        if (r < 0) {
                _cleanup_free_ char *m = NULL;
                ProbeOutcome o = {.result = PROBE_ERROR};
                (void)asprintf_safe(&m, "cannot run the probe: %s", strerror(-r));
                o.message = m;
                w->run = NULL;
                w->tries = PROBE_MAX_RETRIES - 1;
                on_run_done(&o, w);
        }
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Worker *w = userdata;
        Prober *p = w->prober;
        ProbeContainerView v = w->view;
        bool changed = false;
        ProbeStep step;

        /* the next tick keeps the rhythm whatever this one does (time.Ticker) */
        schedule(w, usec + period_usec(w));
        if (w->run)
                return 0; /* still running: a tick is dropped, as a busy ticker drops it */
        v.started = compute_started(p, w->pod_uid, w->container, v.container_id, v.running);
        step = probe_worker_tick(&w->state, &w->settings, &v, now_usec(CLOCK_REALTIME), &changed);
        if (changed)
                notify_result(w);
        if (w->stopped)
                return 0; /* the callback dropped the pod */
        if (step == PROBE_STEP_STOP) {
                worker_stop(w);
                return 0;
        }
        if (step == PROBE_STEP_RUN) {
                w->tries = 0;
                run_handler(w);
        }
        return 0;
}

static int on_reap(sd_event_source *s, void *userdata)
{
        Prober *p = userdata;
        size_t j = 0;

        for (size_t i = 0; i < p->n_workers; i++) {
                if (p->workers[i]->stopped)
                        worker_free(p->workers[i]);
                else
                        p->workers[j++] = p->workers[i];
        }
        p->n_workers = j;
        return 0;
}

int prober_new(Prober **ret, sd_event *e, const ProberRunner *runner, const ProberCallbacks *cb,
               const ProberOptions *opts)
{
        Prober *p;
        usec_t now;
        int r;

        if (!runner || !runner->start)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->runner = *runner;
        if (cb)
                p->cb = *cb;
        if (opts)
                p->opts = *opts;
        if (p->opts.new_container_jitter_max == 0)
                p->opts.new_container_jitter_max = USEC_PER_SEC;
        if (p->opts.startup_until == 0) {
                /* one default period (10 s) after the start counts as "just started" */
                if (sd_event_now(e, CLOCK_BOOTTIME, &now) < 0)
                        now = now_usec(CLOCK_BOOTTIME);
                p->opts.startup_until = now + 10 * USEC_PER_SEC;
        }
        r = sd_event_add_defer(e, &p->reaper, on_reap, p);
        if (r < 0) {
                prober_free(p);
                return r;
        }
        (void)sd_event_source_set_enabled(p->reaper, SD_EVENT_OFF);
        (void)sd_event_source_set_description(p->reaper, "prober-reap");
        *ret = p;
        return 0;
}

Prober *prober_free(Prober *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_workers; i++)
                worker_free(p->workers[i]);
        free(p->workers);
        sd_event_source_disable_unref(p->reaper);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

static int worker_new(Prober *p, const cJSON *pod, const cJSON *spec, ProbeKind kind, const cJSON *probe,
                      const char *view_ip, Worker **ret)
{
        const char *pod_ip = !isempty(view_ip) ? view_ip : json_str(pod, "status.podIP");
        _cleanup_free_ char *err = NULL;
        Worker *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->prober = p;
        w->kind = kind;
        probe_worker_init(&w->state, kind);
        w->pod_uid = strdup(json_str(pod, "metadata.uid") ?: "");
        w->ns = strdup(json_str(pod, "metadata.namespace") ?: "default");
        w->name = strdup(json_str(pod, "metadata.name") ?: "");
        w->container = strdup(json_str(spec, "name") ?: "");
        w->pod_ip = strdup(isempty(pod_ip) ? "127.0.0.1" : pod_ip);
        if (!w->pod_uid || !w->ns || !w->name || !w->container || !w->pod_ip)
                goto oom;
        w->key = worker_key(w->pod_uid, w->container, kind);
        if (!w->key)
                goto oom;
        probe_settings_from_json(probe, &w->settings);
        r = probe_handler_from_json(probe, spec, isempty(pod_ip) ? "127.0.0.1" : pod_ip, &w->handler, &err);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                w->handler_error = strdup(err ? err : "the probe has no handler");
                if (!w->handler_error)
                        goto oom;
        }
        w->describe = probe_describe(probe);
        /* 1 ms, not sd-event's default 250 ms: coalesced ticks would fire the probes of a
         * quarter second all at once, the bursts kubernetes#52154 is about */
        r = sd_event_add_time(p->event, &w->timer, CLOCK_BOOTTIME, USEC_INFINITY, USEC_PER_MSEC, on_tick, w);
        if (r < 0) {
                worker_free(w);
                return r;
        }
        (void)sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(w->timer, "probe");
        *ret = w;
        return 0;
oom:
        worker_free(w);
        return -ENOMEM;
}

static int worker_set_view(Worker *w, const ProbeContainerView *view, bool ready_hint)
{
        bool new_instance = !streq_ptr(w->view_id, view->container_id);
        bool became_running = view->running && !w->view.running;
        char *id = NULL;

        if (view->container_id && !(id = strdup(view->container_id)))
                return -ENOMEM;
        free(w->view_id);
        w->view_id = id;
        w->view = *view;
        w->view.container_id = w->view_id;
        if (new_instance && w->run) {
                /* a run against the previous instance says nothing about this one */
                if (w->prober->runner.cancel)
                        w->prober->runner.cancel(w->prober->runner.userdata, w->run);
                w->run = NULL;
        }
        if (new_instance && view->container_id) {
                ProbeResult initial = probe_initial_result(w->kind);
                if (ready_hint && w->kind == PROBE_KIND_READINESS)
                        initial = PROBE_SUCCESS;
                if (probe_worker_set_container(&w->state, view->container_id, initial) < 0)
                        return -ENOMEM;
        }
        if ((new_instance || became_running) && view->running && !w->run)
                schedule_first(w);
        return 0;
}

/* The pod got an address after the worker was made (a cri sandbox is made with the first
 * container): the handler targets it from the next run on. Not while a run uses the handler;
 * the next update does it then. */
static int worker_retarget(Worker *w, const cJSON *spec, const cJSON *probe, const char *pod_ip)
{
        _cleanup_free_ char *err = NULL, *ip = NULL;
        ProbeHandler h = {0};
        int r;

        if (isempty(pod_ip) || streq_ptr(pod_ip, w->pod_ip) || w->run || w->handler_error)
                return 0;
        ip = strdup(pod_ip);
        if (!ip)
                return -ENOMEM;
        r = probe_handler_from_json(probe, spec, pod_ip, &h, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* it read before: keep what works */
        probe_handler_done(&w->handler);
        w->handler = h;
        free(w->pod_ip);
        w->pod_ip = TAKE_PTR(ip);
        return 0;
}

int prober_update(Prober *p, const cJSON *pod, const cJSON *container_spec, const ProbeContainerView *view,
                  bool ready_hint)
{
        const char *uid = json_str(pod, "metadata.uid"), *cname = json_str(container_spec, "name");
        int r;

        if (!uid || !cname)
                return -EINVAL;
        for (ProbeKind k = 0; k < _PROBE_KIND_MAX; k++) {
                const cJSON *probe = cJSON_GetObjectItemCaseSensitive(container_spec, probe_kind_field(k));
                _cleanup_free_ char *key = NULL;
                Worker *w;
                bool found;
                size_t pos;

                if (!cJSON_IsObject(probe))
                        continue;
                key = worker_key(uid, cname, k);
                if (!key)
                        return -ENOMEM;
                pos = find_pos(p, key, &found);
                if (found) {
                        w = p->workers[pos];
                        if (w->stopped)
                                continue; /* ended for good (e.g. the pod finished) */
                        r = worker_retarget(w, container_spec, probe, view->pod_ip);
                        if (r < 0)
                                return r;
                } else {
                        Worker **a = realloc(p->workers, (p->n_workers + 1) * sizeof(*a));
                        if (!a)
                                return -ENOMEM;
                        p->workers = a;
                        r = worker_new(p, pod, container_spec, k, probe, view->pod_ip, &w);
                        if (r < 0)
                                return r;
                        memmove(a + pos + 1, a + pos, (p->n_workers - pos) * sizeof(*a));
                        a[pos] = w;
                        p->n_workers++;
                }
                r = worker_set_view(w, view, ready_hint);
                if (r < 0)
                        return r;
        }
        return 0;
}

void prober_forget_pod(Prober *p, const char *pod_uid)
{
        if (!p || !pod_uid)
                return;
        for (size_t i = 0; i < p->n_workers; i++)
                if (streq(p->workers[i]->pod_uid, pod_uid) && !p->workers[i]->stopped)
                        worker_stop(p->workers[i]);
}

ProbeResult prober_result(Prober *p, const char *pod_uid, const char *container, ProbeKind kind,
                          const char *container_id, bool *ret_exists)
{
        Worker *w = p && pod_uid && container ? find_worker(p, pod_uid, container, kind) : NULL;

        if (ret_exists)
                *ret_exists = w != NULL;
        if (!w)
                return PROBE_UNKNOWN;
        if (!streq_ptr(w->state.container_id, container_id))
                return probe_initial_result(kind);
        return w->state.result;
}

static bool compute_started(Prober *p, const char *uid, const char *container, const char *id, bool running)
{
        bool exists;
        ProbeResult r;

        if (!running)
                return false;
        r = prober_result(p, uid, container, PROBE_KIND_STARTUP, id, &exists);
        return !exists || r == PROBE_SUCCESS;
}

bool prober_container_started(Prober *p, const char *pod_uid, const char *container,
                              const char *container_id, bool running)
{
        return compute_started(p, pod_uid, container, container_id, running);
}

bool prober_container_ready(Prober *p, const char *pod_uid, const char *container, const char *container_id,
                            bool running, bool started)
{
        bool exists;
        ProbeResult r;

        if (!running || !started)
                return false;
        r = prober_result(p, pod_uid, container, PROBE_KIND_READINESS, container_id, &exists);
        return !exists || r == PROBE_SUCCESS;
}

int64_t prober_termination_grace(Prober *p, const char *pod_uid, const char *container, ProbeKind kind)
{
        Worker *w = p ? find_worker(p, pod_uid, container, kind) : NULL;

        return w ? w->settings.termination_grace : -1;
}

cJSON *prober_describe_pod(Prober *p, const char *pod_uid)
{
        cJSON *a = cJSON_CreateArray();

        if (!a)
                return NULL;
        for (size_t i = 0; p && i < p->n_workers; i++) {
                Worker *w = p->workers[i];
                char ts[64] = "";
                cJSON *o;

                if (!streq(w->pod_uid, pod_uid) || w->stopped)
                        continue;
                if (w->state.last_time > 0)
                        (void)format_rfc3339(w->state.last_time, ts, sizeof(ts));
                o = cJSON_CreateObject();
                if (!o || !cJSON_AddItemToArray(a, o) || json_set_string(o, "container", w->container) < 0 ||
                    json_set_string(o, "kind", probe_kind_to_string(w->kind)) < 0 ||
                    json_set_string(o, "probe", w->describe ? w->describe : "") < 0 ||
                    json_set_string(o, "result", probe_result_to_string(w->state.result)) < 0 ||
                    json_set_string(o, "lastProbeTime", ts) < 0 ||
                    json_set_string(o, "lastOutcome",
                                    w->state.last_time ? probe_result_to_string(w->state.last_outcome)
                                                       : "") < 0 ||
                    json_set_string(o, "message", w->state.last_message ? w->state.last_message : "") < 0 ||
                    json_set_int(o, "consecutiveSuccesses", w->state.consecutive_successes) < 0 ||
                    json_set_int(o, "consecutiveFailures", w->state.consecutive_failures) < 0) {
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        return a;
}

int prober_metrics_text(Prober *p, char **ret)
{
        static const char *const results[] = {
            [PROBE_UNKNOWN] = "unknown", [PROBE_SUCCESS] = "successful", [PROBE_WARNING] = "successful",
            [PROBE_FAILURE] = "failed",  [PROBE_ERROR] = "unknown",
        };
        char *buf = NULL;
        size_t size = 0;
        uint64_t cum = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        fputs("# HELP berth_probe_total Probe runs by probe type and result.\n"
              "# TYPE berth_probe_total counter\n",
              f);
        for (ProbeKind k = 0; k < _PROBE_KIND_MAX; k++)
                for (ProbeResult r = PROBE_UNKNOWN; r <= PROBE_ERROR; r++)
                        if (p->totals[k][r])
                                fprintf(
                                    f,
                                    "berth_probe_total{probe_type=\"%s\",result=\"%s\",raw=\"%s\"} %llu\n",
                                    probe_kind_to_string(k), results[r], probe_result_to_string(r),
                                    (unsigned long long)p->totals[k][r]);
        fputs("# HELP berth_probe_duration_seconds Time from the start of a probe run to its result.\n"
              "# TYPE berth_probe_duration_seconds histogram\n",
              f);
        for (size_t i = 0; i < DURATION_BUCKETS; i++) {
                cum += p->duration_buckets[i];
                fprintf(f, "berth_probe_duration_seconds_bucket{le=\"%.6g\"} %llu\n", bucket_bound(i),
                        (unsigned long long)cum);
        }
        fprintf(f, "berth_probe_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                (unsigned long long)p->n_durations);
        fprintf(f, "berth_probe_duration_seconds_sum %.9f\n", p->duration_sum);
        fprintf(f, "berth_probe_duration_seconds_count %llu\n", (unsigned long long)p->n_durations);
        fprintf(f,
                "# HELP berth_probe_workers Probe workers running.\n# TYPE berth_probe_workers gauge\n"
                "berth_probe_workers %zu\n",
                prober_n_workers(p));
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

size_t prober_n_workers(Prober *p)
{
        size_t n = 0;

        for (size_t i = 0; p && i < p->n_workers; i++)
                n += !p->workers[i]->stopped;
        return n;
}

/* --- the real runner --- */

struct ProberDefaultRunner {
        sd_event *event;
        CurlLoop *curl;
        Runtime *runtime;
};

typedef struct ExecRun {
        RuntimeExec *exec;
        probe_done_t done;
        void *userdata;
        char *command; /* for the timeout message */
} ExecRun;

static char *join_words(char *const *v)
{
        size_t n = 1;
        char *s, *q;

        for (size_t i = 0; v && v[i]; i++)
                n += strlen(v[i]) + 1;
        s = q = malloc(n);
        if (!s)
                return NULL;
        *q = 0;
        for (size_t i = 0; v && v[i]; i++)
                q = stpcpy(stpcpy(q, i ? " " : ""), v[i]);
        return s;
}

static void exec_run_free(ExecRun *x)
{
        free(x->command);
        free(x);
}

static void on_exec_done(const RuntimeExecResult *res, void *userdata)
{
        ExecRun *x = userdata;
        _cleanup_free_ char *m = NULL;
        ProbeOutcome o = {.result = PROBE_FAILURE, .message = res->output};

        if (res->error < 0) {
                o.result = PROBE_ERROR;
                o.message = res->message;
        } else if (res->timed_out) {
                (void)asprintf_safe(&m, "command \"%s\" timed out", x->command);
                o.message = m;
        } else if (res->exit_code == 0)
                o.result = PROBE_SUCCESS;
        x->done(&o, x->userdata);
        exec_run_free(x);
}

/* Handles are tagged: an exec run has its low bit set (both are malloc'd, so aligned). */
static int default_start(void *userdata, const ProbeHandler *h, const char *container_id, usec_t timeout,
                         probe_done_t done, void *done_userdata, void **ret_handle)
{
        ProberDefaultRunner *d = userdata;
        ProbeCall *call = NULL;
        ExecRun *x;
        int r;

        switch (h->action) {
        case PROBE_ACTION_HTTP_GET:
                r = probe_http_start(d->curl, h, timeout, done, done_userdata, &call);
                break;
        case PROBE_ACTION_TCP_SOCKET:
                r = probe_tcp_start(d->event, h, timeout, done, done_userdata, &call);
                break;
        case PROBE_ACTION_GRPC:
                r = probe_grpc_start(d->curl, h, timeout, done, done_userdata, &call);
                break;
        case PROBE_ACTION_EXEC:
                x = calloc(1, sizeof(*x));
                if (!x)
                        return -ENOMEM;
                x->done = done;
                x->userdata = done_userdata;
                x->command = join_words(h->command);
                if (!x->command) {
                        exec_run_free(x);
                        return -ENOMEM;
                }
                r = runtime_exec(d->runtime, container_id, h->command, timeout, PROBE_MAX_OUTPUT,
                                 on_exec_done, x, &x->exec);
                if (r < 0) {
                        exec_run_free(x);
                        return r;
                }
                *ret_handle = (void *)((uintptr_t)x | 1U);
                return 0;
        default:
                return -EOPNOTSUPP;
        }
        if (r < 0)
                return r;
        *ret_handle = call;
        return 0;
}

static void default_cancel(void *userdata, void *handle)
{
        if ((uintptr_t)handle & 1U) {
                ExecRun *x = (ExecRun *)((uintptr_t)handle & ~(uintptr_t)1U);
                runtime_exec_cancel(x->exec);
                exec_run_free(x);
        } else
                probe_call_cancel(handle);
}

int prober_default_runner_new(ProberDefaultRunner **ret, sd_event *e, CurlLoop *l, Runtime *rt,
                              ProberRunner *ret_runner)
{
        ProberDefaultRunner *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        *d = (ProberDefaultRunner){.event = sd_event_ref(e), .curl = l, .runtime = rt};
        *ret = d;
        *ret_runner = (ProberRunner){.start = default_start, .cancel = default_cancel, .userdata = d};
        return 0;
}

ProberDefaultRunner *prober_default_runner_free(ProberDefaultRunner *d)
{
        if (!d)
                return NULL;
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
