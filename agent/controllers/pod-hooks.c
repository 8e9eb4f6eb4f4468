/* Lifecycle hooks: postStart runs once per container instance this agent started (a failed
 * hook kills the container and restartPolicy decides); preStop runs before a graceful stop,
 * and the time it takes comes out of the termination grace period. Both run through the
 * prober's runner (exec in the container, httpGet, tcpSocket) or a timer (sleep), never
 * blocking the loop. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "pod-internal.h"

/* kubelet's minimumGracePeriodInSeconds: what is left for SIGTERM after a long preStop */
#define MIN_GRACE_AFTER_PRE_STOP_USEC (2 * USEC_PER_SEC)

struct PodHookRun {
        PodController *c;
        PodHookRun *next;
        bool pre_stop;
        char *id, *ns, *name, *uid, *container;
        usec_t deadline; /* preStop: CLOCK_MONOTONIC end of the grace period */
        ProbeHandler handler;
        void *handle;
        sd_event_source *timer; /* the sleep action */
};

static void run_free(PodHookRun *h)
{
        if (!h)
                return;
        if (h->handle && h->c->runner.cancel)
                h->c->runner.cancel(h->c->runner.userdata, h->handle);
        sd_event_source_disable_unref(h->timer);
        probe_handler_done(&h->handler);
        free(h->id);
        free(h->ns);
        free(h->name);
        free(h->uid);
        free(h->container);
        free(h);
}

static void run_unlink(PodHookRun *h)
{
        for (PodHookRun **p = &h->c->hooks; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        return;
                }
}

void pod_hooks_free(PodController *c)
{
        while (c->hooks) {
                PodHookRun *h = c->hooks;
                c->hooks = h->next;
                run_free(h);
        }
}

static void hook_event(PodHookRun *h, const char *type, const char *reason, const char *message)
{
        pod_controller_event(h->c, h->ns, h->name, h->uid, type, reason, message);
}

/* The kubelet's words for a failed hook (handlers.go). */
static char *failure_text(PodHookRun *h, const ProbeOutcome *o)
{
        _cleanup_free_ char *what = NULL;
        char *s = NULL;

        switch (h->handler.action) {
        case PROBE_ACTION_EXEC: {
                size_t n = 0;
                for (char **a = h->handler.command; a && *a; a++)
                        n += strlen(*a) + 1;
                what = malloc(n + 1);
                if (what) {
                        char *q = what;
                        *q = 0;
                        for (char **a = h->handler.command; a && *a; a++)
                                q = stpcpy(stpcpy(q, a == h->handler.command ? "" : " "), *a);
                }
                (void)asprintf_safe(&s,
                                    "Exec lifecycle hook ([%s]) for Container \"%s\" in Pod \"%s_%s(%s)\" "
                                    "failed - error: %s",
                                    what ? what : "", h->container, h->name, h->ns, h->uid,
                                    o->message ? o->message : "");
                break;
        }
        case PROBE_ACTION_HTTP_GET:
                (void)asprintf_safe(
                    &s,
                    "HTTP lifecycle hook (%s) for Container \"%s\" in Pod \"%s_%s(%s)\" failed - error: %s",
                    h->handler.path ? h->handler.path : "/", h->container, h->name, h->ns, h->uid,
                    o->message ? o->message : "");
                break;
        default:
                (void)asprintf_safe(
                    &s, "lifecycle hook for Container \"%s\" in Pod \"%s_%s(%s)\" failed - error: %s",
                    h->container, h->name, h->ns, h->uid, o->message ? o->message : "");
        }
        return s;
}

static void finish_pre_stop(PodHookRun *h)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);
        usec_t left = h->deadline > now ? h->deadline - now : 0;
        int r;

        left = MAX(left, MIN_GRACE_AFTER_PRE_STOP_USEC);
        r = runtime_stop_container(h->c->runtime, h->id, left);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to stop container %s of pod %s/%s after its preStop hook: %m",
                                  h->container, h->ns, h->name);
}

static void finish_post_start_failure(PodHookRun *h)
{
        _cleanup_json_ cJSON *pod = NULL;
        RuntimeContainer rc = {0};
        int64_t grace = 30;

        if (runtime_container_status(h->c->runtime, h->id, &rc) < 0)
                return;
        if (store_get(h->c->store, "Pod", h->ns, h->name, &pod) >= 0)
                grace = MAX(json_int(pod, "spec.terminationGracePeriodSeconds", 30), 0);
        if (pod_stop_container(h->c, pod, &rc, (usec_t)grace * USEC_PER_SEC) == 1)
                hook_event(h, "Normal", "Killing", "FailedPostStartHook");
        runtime_container_done(&rc);
}

static void on_hook_done(const ProbeOutcome *o, void *userdata)
{
        PodHookRun *h = userdata;
        bool ok = o->result == PROBE_SUCCESS || o->result == PROBE_WARNING;

        h->handle = NULL;
        run_unlink(h);
        if (!ok) {
                _cleanup_free_ char *text = failure_text(h, o);
                hook_event(h, "Warning", h->pre_stop ? "FailedPreStopHook" : "FailedPostStartHook",
                           text ? text : "lifecycle hook failed");
        }
        if (h->pre_stop)
                finish_pre_stop(h);
        else if (!ok)
                finish_post_start_failure(h);
        run_free(h);
}

static int on_sleep_done(sd_event_source *s, uint64_t usec, void *userdata)
{
        ProbeOutcome o = {.result = PROBE_SUCCESS};

        on_hook_done(&o, userdata);
        return 0;
}

static const cJSON *container_spec(const cJSON *pod, const char *name)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, json_path(pod, "spec.containers"))
                if (streq_ptr(json_str(c, "name"), name))
                        return c;
        return NULL;
}

/* Starts hook (an object with one action) for container instance rc; timeout 0 = none. */
static int start_hook(PodController *c, const cJSON *pod, const cJSON *spec, const cJSON *hook,
                      const RuntimeContainer *rc, bool pre_stop, usec_t timeout)
{
        const char *ip = json_str(pod, "status.podIP");
        _cleanup_free_ char *err = NULL;
        PodHookRun *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->c = c;
        h->pre_stop = pre_stop;
        h->id = strdup(rc->id);
        h->ns = strdup(json_str(pod, "metadata.namespace") ?: "default");
        h->name = strdup(json_str(pod, "metadata.name") ?: "");
        h->uid = strdup(json_str(pod, "metadata.uid") ?: "");
        h->container = strdup(json_str(spec, "name") ?: "");
        if (!h->id || !h->ns || !h->name || !h->uid || !h->container) {
                run_free(h);
                return -ENOMEM;
        }
        h->deadline = now_usec(CLOCK_MONOTONIC) + timeout;
        r = probe_handler_from_json(hook, spec, isempty(ip) ? "127.0.0.1" : ip, &h->handler, &err);
        if (r < 0) {
                run_free(h);
                return r;
        }
        if (h->handler.action == PROBE_ACTION_SLEEP) {
                usec_t d = (usec_t)MAX(h->handler.sleep_seconds, 0) * USEC_PER_SEC;
                if (timeout > 0)
                        d = MIN(d, timeout);
                r = sd_event_add_time_relative(c->event, &h->timer, CLOCK_MONOTONIC, d, 0, on_sleep_done, h);
        } else if (!c->runner.start)
                r = -EOPNOTSUPP;
        else
                r = c->runner.start(c->runner.userdata, &h->handler, rc->id, timeout, on_hook_done, h,
                                    &h->handle);
        if (r < 0) {
                run_free(h);
                return r;
        }
        h->next = c->hooks;
        c->hooks = h;
        return 0;
}

int pod_hook_post_start(PodController *c, const cJSON *pod, const cJSON *spec, const RuntimeContainer *rc)
{
        const cJSON *hook = json_path(spec, "lifecycle.postStart");
        int r;

        if (!cJSON_IsObject(hook))
                return 0;
        /* the kubelet gives postStart no time limit either */
        r = start_hook(c, pod, spec, hook, rc, false, 0);
        if (r < 0)
                log_warning_errno(r, "Pod %s/%s: cannot run the postStart hook of %s: %m",
                                  json_str(pod, "metadata.namespace"), json_str(pod, "metadata.name"),
                                  rc->container_name);
        return r;
}

int pod_hook_pre_stop(PodController *c, const cJSON *pod, const RuntimeContainer *rc, usec_t grace)
{
        const cJSON *spec = container_spec(pod, rc->container_name);
        const cJSON *hook = json_path(spec, "lifecycle.preStop");
        int r;

        if (!cJSON_IsObject(hook) || grace == 0 || rc->state != CONTAINER_RUNNING)
                return 0;
        r = start_hook(c, pod, spec, hook, rc, true, grace);
        if (r < 0) {
                log_warning_errno(r, "Pod %s/%s: cannot run the preStop hook of %s: %m",
                                  json_str(pod, "metadata.namespace"), json_str(pod, "metadata.name"),
                                  rc->container_name);
                return 0; /* stopped without it */
        }
        return 1;
}
