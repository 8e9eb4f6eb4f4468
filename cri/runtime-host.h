/* Internal: the layout of Runtime and the host backend behind it. runtime.c dispatches to
 * the runtime_host_* functions; runtime-host.c calls back through Runtime.on_exit. */
#pragma once

#include "runtime.h"

typedef struct RuntimeHost RuntimeHost;

struct Runtime {
        RuntimeType type;
        RuntimeHost *host;
        runtime_on_exit_t on_exit;
        void *userdata;
        runtime_on_exit_t on_start;
        void *start_userdata;
};

int runtime_host_new(RuntimeHost **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts);
RuntimeHost *runtime_host_free(RuntimeHost *h);
int runtime_host_start(RuntimeHost *h, const RuntimeContainerConfig *cfg, char **ret_id);
int runtime_host_stop(RuntimeHost *h, const char *id, usec_t grace);
int runtime_host_remove(RuntimeHost *h, const char *id);
int runtime_host_status(RuntimeHost *h, const char *id, RuntimeContainer *ret);
int runtime_host_list(RuntimeHost *h, RuntimeContainer **ret, size_t *ret_n);

/* Deep copy; dst is zeroed first, and left zeroed on failure. */
int runtime_container_copy(const RuntimeContainer *src, RuntimeContainer *dst);
