/* The manager owns the event loop and every module of the running agent: store, runtime,
 * API server, manifests-directory watcher and controllers. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"

typedef struct Manager Manager;

/* config stays the caller's; SIGHUP updates the settings that can change while the agent
 * runs (see manager_set_reloader()) in place. */
int manager_new(Manager **ret, Config *config);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
/* How SIGHUP reads the config again: fills *ret (initialised by the callee) as the agent's
 * start did, or fails with *ret_error. Without a reloader SIGHUP re-reads the manifests only. */
typedef int (*manager_reload_t)(void *userdata, Config *ret, char **ret_error);
void manager_set_reloader(Manager *m, manager_reload_t reload, void *userdata);
/* Runs the loop until SIGTERM/SIGINT. With drain, stops every workload before returning. */
int manager_run(Manager *m, bool drain);
