/* The manager owns the event loop and every module of the running agent: store, runtime,
 * API server, manifests-directory watcher and controllers. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"

typedef struct Manager Manager;

int manager_new(Manager **ret, const Config *config);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
/* Runs the loop until SIGTERM/SIGINT. With drain, stops every workload before returning. */
int manager_run(Manager *m, bool drain);
