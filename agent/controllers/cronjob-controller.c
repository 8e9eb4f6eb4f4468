/* The CronJob controller's loop side: the work queue, one wall-clock requeue per CronJob
 * and schedule instant, the clock-change watch (a CLOCK_REALTIME timerfd with
 * TFD_TIMER_CANCEL_ON_SET) that re-examines every CronJob, and store notifications. */
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>

#include "cronjob-internal.h"
#include "json-util.h"
#include "log.h"

usec_t cronjob_now(CronJobController *c)
{
        return c->now_override ? c->now_override : now_usec(CLOCK_REALTIME);
}

void cronjob_controller_set_now(CronJobController *c, usec_t now)
{
        c->now_override = now;
}

int cronjob_boot_id(CronJobController *c, const char **ret)
{
        _cleanup_free_ char *id = NULL;
        int r;

        if (!c->boot_id) {
                r = read_one_line_file(c->boot_id_path, &id);
                if (r < 0)
                        return r;
                if (isempty(id))
                        return -EINVAL;
                c->boot_id = TAKE_PTR(id);
        }
        *ret = c->boot_id;
        return 0;
}

int cronjob_controller_set_boot_id(CronJobController *c, const char *boot_id)
{
        char *copy = NULL;

        if (boot_id) {
                copy = strdup(boot_id);
                if (!copy)
                        return -ENOMEM;
        }
        free(c->boot_id);
        c->boot_id = copy;
        return 0;
}

char *cronjob_reboot_key(const char *uid)
{
        return strjoin(CRONJOB_REBOOT_KV_PREFIX, uid ?: "", NULL);
}

/* A deleted "@reboot" CronJob's record of its last boot goes with it. */
static void forget_reboot(CronJobController *c, const cJSON *cj)
{
        _cleanup_free_ char *key = NULL;
        const char *uid = json_str(cj, "metadata.uid");
        int r;

        if (isempty(uid))
                return;
        key = cronjob_reboot_key(uid);
        if (!key)
                return (void)log_oom();
        r = store_kv_delete(c->store, key);
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Failed to remove %s: %m", key);
}

static char *make_key(const char *ns, const char *name)
{
        return strjoin(ns ?: "", "/", name ?: "", NULL);
}

static CronJobArmed *armed_find(CronJobController *c, const char *key)
{
        for (size_t i = 0; i < c->n_armed; i++)
                if (streq(c->armed[i].key, key))
                        return &c->armed[i];
        return NULL;
}

static void armed_forget(CronJobController *c, const char *ns, const char *name)
{
        _cleanup_free_ char *key = make_key(ns, name);
        CronJobArmed *a = key ? armed_find(c, key) : NULL;

        if (!a)
                return;
        free(a->key);
        *a = c->armed[--c->n_armed];
}

usec_t cronjob_controller_armed_at(CronJobController *c, const char *ns, const char *name)
{
        _cleanup_free_ char *key = make_key(ns, name);
        CronJobArmed *a = key ? armed_find(c, key) : NULL;

        return a ? a->at : 0;
}

usec_t cronjob_armed_due(CronJobController *c, const char *ns, const char *name)
{
        _cleanup_free_ char *key = make_key(ns, name);
        CronJobArmed *a = key ? armed_find(c, key) : NULL;

        return a && a->woke ? a->due : 0;
}

usec_t cronjob_launch_lead(CronJobController *c, const char *ns, const char *name, usec_t due)
{
        _cleanup_free_ char *key = make_key(ns, name);
        usec_t lead = CRONJOB_LAUNCH_LEAD_USEC;

        for (size_t i = 0; key && i < c->n_armed; i++)
                if (c->armed[i].due == due && !streq(c->armed[i].key, key))
                        lead += CRONJOB_LAUNCH_LEAD_PER_DUE_USEC;
        return MIN(lead, CRONJOB_LAUNCH_LEAD_MAX_USEC);
}

void cronjob_requeue_at(CronJobController *c, const char *ns, const char *name, usec_t at, usec_t due)
{
        _cleanup_free_ char *key = make_key(ns, name);
        CronJobArmed *a;

        if (!key)
                return (void)log_oom();
        if (at == USEC_INFINITY)
                return;
        a = armed_find(c, key);
        if (at <= cronjob_now(c)) {
                if (a)
                        a->due = due;
                workqueue_add(c->queue, ns, name);
                return;
        }
        /* a timer armed for this very instant that has not fired yet covers it */
        if (a && a->at == at) {
                a->due = due;
                return;
        }
        if (!a) {
                CronJobArmed *n = realloc(c->armed, (c->n_armed + 1) * sizeof(CronJobArmed));
                if (!n)
                        return (void)log_oom();
                c->armed = n;
                a = &c->armed[c->n_armed++];
                *a = (CronJobArmed){.key = TAKE_PTR(key)};
        }
        a->at = at;
        a->due = due;
        workqueue_add_at(c->queue, ns, name, CLOCK_REALTIME, at);
}

static int on_sync(void *userdata, const char *ns, const char *name)
{
        CronJobController *c = userdata;
        _cleanup_free_ char *key = make_key(ns, name);
        CronJobArmed *a = key ? armed_find(c, key) : NULL;
        int r;

        /* a timer that has fired no longer covers its instant (the clock may come back to it) */
        if (a && a->at > 0 && a->at <= cronjob_now(c)) {
                a->at = 0;
                a->woke = true;
        }
        r = cronjob_sync(c, ns, name);
        a = key ? armed_find(c, key) : NULL; /* the sync may have moved the table */
        if (a)
                a->woke = false;

        if (r < 0 && r != -ENOENT) {
                log_warning_errno(r, "CronJob %s/%s: sync failed, retrying in %llus: %m", ns, name,
                                  (unsigned long long)(CRONJOB_RETRY_USEC / USEC_PER_SEC));
                workqueue_add_after(c->queue, ns, name, CRONJOB_RETRY_USEC);
        }
        return 0;
}

static int clock_watch_arm(int fd)
{
        /* far in the future: the timer only ever reports that the clock was set */
        struct itimerspec its = {.it_value.tv_sec = (time_t)INT32_MAX * 4};

        if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
                return negative_errno();
        return 0;
}

static int on_clock_change(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        CronJobController *c = userdata;
        uint64_t ticks;
        ssize_t n = read(fd, &ticks, sizeof(ticks));

        if (n >= 0 || errno != ECANCELED)
                return 0;
        log_info("Wall clock changed: re-examining every CronJob.");
        /* armed instants may have passed, or come back: arm again whatever the syncs ask for */
        for (size_t i = 0; i < c->n_armed; i++)
                c->armed[i].at = 0;
        if (clock_watch_arm(fd) < 0)
                log_warning_errno(errno, "Failed to re-arm the clock-change watch: %m");
        (void)cronjob_controller_resync(c);
        return 0;
}

static int clock_watch_new(CronJobController *c)
{
        int r;

        c->clock_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
        if (c->clock_fd < 0)
                return negative_errno();
        r = clock_watch_arm(c->clock_fd);
        if (r < 0)
                return r;
        r = sd_event_add_io(c->event, &c->clock_source, c->clock_fd, EPOLLIN, on_clock_change, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->clock_source, "cronjob-clock-change");
        return 0;
}

int cronjob_controller_new(CronJobController **ret, sd_event *e, Store *store)
{
        _cleanup_(cronjob_controller_freep) CronJobController *c = calloc(1, sizeof(CronJobController));
        const char *fault = getenv(CRONJOB_FAULT_ENV);
        int r;

        if (!c)
                return -ENOMEM;
        c->clock_fd = -EBADF;
        c->event = sd_event_ref(e);
        c->store = store;
        c->fault_after_commit = fault && streq(fault, CRONJOB_FAULT_AFTER_COMMIT);
        c->boot_id_path = strdup(getenv(CRONJOB_BOOT_ID_ENV) ?: CRONJOB_BOOT_ID_PATH);
        if (!c->boot_id_path)
                return -ENOMEM;
        r = workqueue_new(&c->queue, e, "cronjob", on_sync, c);
        if (r < 0)
                return r;
        workqueue_set_kind(c->queue, "CronJob");
        r = clock_watch_new(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

CronJobController *cronjob_controller_free(CronJobController *c)
{
        if (!c)
                return NULL;
        cronjob_claims_free(c);
        sd_event_source_disable_unref(c->clock_source);
        safe_close(c->clock_fd);
        workqueue_free(c->queue);
        for (size_t i = 0; i < c->n_armed; i++)
                free(c->armed[i].key);
        free(c->armed);
        free(c->boot_id_path);
        free(c->boot_id);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

/* The name of the CronJob that controls a Job (controller ownerReference), or NULL. */
static const char *controller_cronjob(const cJSON *job)
{
        const cJSON *refs = json_path(job, "metadata.ownerReferences"), *ref;

        cJSON_ArrayForEach (ref, (cJSON_IsArray(refs) ? refs : NULL)) {
                const char *kind = json_str(ref, "kind");
                if (json_bool(ref, "controller", false) && kind && streq(kind, "CronJob"))
                        return json_str(ref, "name");
        }
        return NULL;
}

void cronjob_controller_on_store_change(CronJobController *c, StoreChange change, const cJSON *obj)
{
        const char *kind = json_str(obj, "kind"), *ns = json_str(obj, "metadata.namespace");

        if (!c || !kind)
                return;
        if (streq(kind, "CronJob")) {
                const char *name = json_str(obj, "metadata.name");
                if (!name)
                        return;
                if (change == STORE_DELETED) {
                        armed_forget(c, ns, name);
                        forget_reboot(c, obj);
                } else
                        workqueue_add(c->queue, ns, name);
        } else if (streq(kind, "Job")) {
                const char *owner = controller_cronjob(obj);
                if (owner)
                        workqueue_add(c->queue, ns, owner);
        }
}

int cronjob_controller_resync(CronJobController *c)
{
        int r = workqueue_add_all(c->queue, c->store, "CronJob");

        return r < 0 ? log_warning_errno(r, "Failed to list CronJobs: %m") : 0;
}
