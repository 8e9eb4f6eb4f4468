/* The controllers' work queue (see workqueue.h). */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "store.h"
#include "workqueue.h"

typedef struct QueueTimer QueueTimer;

struct WorkQueue {
        sd_event *event;
        sd_event_source *defer;
        char *name;
        const char *kind; /* of the objects keyed, for the log's structured fields */
        workqueue_handler_t handler;
        void *userdata;
        char **keys;
        size_t n, allocated;
        QueueTimer *timers; /* pending delayed adds, cancelled by workqueue_free() */
};

struct QueueTimer {
        WorkQueue *queue;
        sd_event_source *source;
        char *ns, *name;
        QueueTimer *prev, *next;
};

static void timer_unlink(QueueTimer *t)
{
        if (t->prev)
                t->prev->next = t->next;
        else
                t->queue->timers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        t->prev = t->next = NULL;
}

static int on_defer(sd_event_source *s, void *userdata)
{
        WorkQueue *q = userdata;

        /* handlers may add keys again: that re-arms the source for the next iteration */
        while (q->n > 0) {
                char *key = q->keys[0], *slash = strchr(key, '/');

                memmove(q->keys, q->keys + 1, (q->n - 1) * sizeof(char *));
                q->n--;
                if (slash) {
                        *slash = 0;
                        log_set_object(q->kind, *key ? key : NULL, slash + 1);
                        int r = q->handler(q->userdata, key, slash + 1);
                        if (r < 0)
                                log_warning_errno(r, "%s: failed to sync %s/%s: %m", q->name, key,
                                                  slash + 1);
                        log_set_object(NULL, NULL, NULL);
                }
                free(key);
        }
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

void workqueue_set_kind(WorkQueue *q, const char *kind)
{
        q->kind = kind;
}

void workqueue_add(WorkQueue *q, const char *ns, const char *name)
{
        _cleanup_free_ char *key = strjoin(ns ?: "", "/", name ?: "", NULL);

        if (!key)
                return (void)log_oom();
        for (size_t i = 0; i < q->n; i++)
                if (streq(q->keys[i], key))
                        return;
        if (q->n == q->allocated) {
                size_t a = MAX(q->allocated * 2, (size_t)16);
                char **k = realloc(q->keys, a * sizeof(char *));
                if (!k)
                        return (void)log_oom();
                q->keys = k;
                q->allocated = a;
        }
        q->keys[q->n++] = TAKE_PTR(key);
        (void)sd_event_source_set_enabled(q->defer, SD_EVENT_ONESHOT);
}

static void queue_timer_free(void *userdata)
{
        QueueTimer *t = userdata;

        free(t->ns);
        free(t->name);
        free(t);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        QueueTimer *t = userdata;

        workqueue_add(t->queue, t->ns, t->name);
        /* one-shot: unref in its own dispatch is safe; the destroy callback frees t */
        timer_unlink(t);
        sd_event_source_disable_unref(s);
        return 0;
}

void workqueue_add_at(WorkQueue *q, const char *ns, const char *name, clockid_t clock, usec_t when)
{
        QueueTimer *t = calloc(1, sizeof(QueueTimer));
        sd_event_source *s = NULL;

        if (!t)
                return (void)log_oom();
        *t = (QueueTimer){.queue = q, .ns = strdup(ns ?: ""), .name = strdup(name ?: "")};
        if (!t->ns || !t->name) {
                queue_timer_free(t);
                return (void)log_oom();
        }
        if (sd_event_add_time(q->event, &s, clock, when, USEC_PER_MSEC, on_timer, t) < 0) {
                queue_timer_free(t);
                return;
        }
        (void)sd_event_source_set_description(s, q->name);
        (void)sd_event_source_set_destroy_callback(s, queue_timer_free);
        t->source = s;
        t->next = q->timers;
        if (q->timers)
                q->timers->prev = t;
        q->timers = t;
}

void workqueue_add_after(WorkQueue *q, const char *ns, const char *name, usec_t delay)
{
        workqueue_add_at(q, ns, name, CLOCK_BOOTTIME, now_usec(CLOCK_BOOTTIME) + delay);
}

size_t workqueue_length(WorkQueue *q)
{
        return q->n;
}

int workqueue_new(WorkQueue **ret, sd_event *e, const char *name, workqueue_handler_t handler,
                  void *userdata)
{
        _cleanup_(workqueue_freep) WorkQueue *q = calloc(1, sizeof(WorkQueue));
        int r;

        if (!q)
                return -ENOMEM;
        q->event = sd_event_ref(e);
        q->handler = handler;
        q->userdata = userdata;
        q->name = strdup(name);
        if (!q->name)
                return -ENOMEM;
        r = sd_event_add_defer(e, &q->defer, on_defer, q);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(q->defer, q->name);
        r = sd_event_source_set_enabled(q->defer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

WorkQueue *workqueue_free(WorkQueue *q)
{
        if (!q)
                return NULL;
        sd_event_source_disable_unref(q->defer);
        while (q->timers) {
                QueueTimer *t = q->timers;
                timer_unlink(t);
                sd_event_source_disable_unref(t->source); /* frees t */
        }
        for (size_t i = 0; i < q->n; i++)
                free(q->keys[i]);
        free(q->keys);
        free(q->name);
        sd_event_unref(q->event);
        free(q);
        return NULL;
}

int workqueue_add_all(WorkQueue *q, Store *store, const char *kind)
{
        _cleanup_json_ cJSON *all = NULL;
        const cJSON *o;
        int r;

        r = store_list(store, kind, NULL, NULL, &all);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (o, all)
                workqueue_add(q, json_str(o, "metadata.namespace") ?: "default",
                              json_str(o, "metadata.name"));
        return 0;
}
