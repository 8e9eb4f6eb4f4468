/* Internal: the systemd backend behind runtime.c. Every container is a transient service of
 * the system (or a user) manager, named <prefix>-<pod uid>-<container>-<attempt>.service, in
 * <prefix>.slice; its id is the unit name without ".service". runtime.c dispatches to the
 * runtime_systemd_* functions, which call back through the owner Runtime's on_exit/on_start. */
#pragma once

#include "runtime.h"

typedef struct RuntimeSystemd RuntimeSystemd;

/* Connects to the manager, opens the journal and re-attaches to every container recorded under
 * <state_dir>/systemd/units/ (their units are queried asynchronously: what happened while the
 * agent was away is reported through the callbacks once the answers are in). */
int runtime_systemd_new(RuntimeSystemd **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts);
RuntimeSystemd *runtime_systemd_free(RuntimeSystemd *s); /* leaves the units running */
int runtime_systemd_start(RuntimeSystemd *s, const RuntimeContainerConfig *cfg, char **ret_id);
int runtime_systemd_stop(RuntimeSystemd *s, const char *id, usec_t grace);
int runtime_systemd_remove(RuntimeSystemd *s, const char *id);
int runtime_systemd_status(RuntimeSystemd *s, const char *id, RuntimeContainer *ret);
int runtime_systemd_list(RuntimeSystemd *s, RuntimeContainer **ret, size_t *ret_n);
int runtime_systemd_exec(RuntimeSystemd *s, const char *id, char *const *argv, usec_t timeout,
                         size_t max_output, runtime_exec_done_t done, void *userdata, RuntimeExec **ret);
