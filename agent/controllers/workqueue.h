/* A controller's work queue on the agent's loop: keys ("<namespace>/<name>") are queued
 * once however often they are added, and handled one by one from a defer source; keys can
 * also be added after a delay (a one-shot timer per call, owned by the queue and cancelled
 * when it is freed). */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"
#include "util.h"

typedef struct WorkQueue WorkQueue;

/* Handles one key; a negative return is logged by the queue, nothing is retried. */
typedef int (*workqueue_handler_t)(void *userdata, const char *ns, const char *name);

int workqueue_new(WorkQueue **ret, sd_event *e, const char *name, workqueue_handler_t handler,
                  void *userdata);
WorkQueue *workqueue_free(WorkQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(WorkQueue *, workqueue_free);

/* The kind of the objects the keys name (a static string, e.g. "Pod"): while a key is
 * handled, log entries carry it with the key's namespace and name (log_set_object()). */
void workqueue_set_kind(WorkQueue *q, const char *kind);
void workqueue_add(WorkQueue *q, const char *ns, const char *name);
/* Adds the key after delay on clock (CLOCK_BOOTTIME for intervals; CLOCK_REALTIME with an
 * absolute time for wall-clock deadlines such as cron times: use workqueue_add_at). */
void workqueue_add_after(WorkQueue *q, const char *ns, const char *name, usec_t delay);
void workqueue_add_at(WorkQueue *q, const char *ns, const char *name, clockid_t clock, usec_t when);
size_t workqueue_length(WorkQueue *q);

/* Adds every stored object of kind (a controller's resync: agent start, SIGHUP). */
struct Store;
int workqueue_add_all(WorkQueue *q, struct Store *store, const char *kind);
