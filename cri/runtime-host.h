/* Internal: the layout of Runtime and the host backend behind it. runtime.c dispatches to
 * the runtime_host_* functions; runtime-host.c calls back through Runtime.on_exit. */
#pragma once

#include "host-cgroup.h"
#include "host-config.h"
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
int runtime_host_exec(RuntimeHost *h, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                      runtime_exec_done_t done, void *userdata, RuntimeExec **ret);

/* host-exec.c: commands run in a running container's context. The runtime links the execs in
 * flight into one list (head in *execs) and cancels them all when it is freed. */
typedef struct HostExecTarget {
        sd_event *event;
        const char *id;        /* the container's */
        const HostConfig *cfg; /* borrowed for the call only: the child has its own copy */
        HostCgroup *cg;        /* likewise */
        /* the container's main process, borrowed: its mount namespace is joined when the
         * container has mounts */
        int main_pidfd;
        RuntimeExec **execs;
} HostExecTarget;

int host_exec_start(const HostExecTarget *t, char *const *argv, usec_t timeout, size_t max_output,
                    runtime_exec_done_t done, void *userdata, RuntimeExec **ret);
void host_exec_cancel(RuntimeExec *x);
/* SIGKILLs the execs of container id: they cannot outlive it (their results follow). */
void host_exec_kill_container(RuntimeExec *execs, const char *id);
/* Kills, reaps (waiting a bounded time) and frees every exec of the list; no callbacks. */
void host_exec_cancel_all(RuntimeExec **execs);

/* Deep copy; dst is zeroed first, and left zeroed on failure. */
int runtime_container_copy(const RuntimeContainer *src, RuntimeContainer *dst);
/* A malloc'd copy of n containers, the i-th being get(userdata, i), for runtime_list_containers(). */
int runtime_container_list_copy(size_t n, const RuntimeContainer *(*get)(void *userdata, size_t i),
                                void *userdata, RuntimeContainer **ret, size_t *ret_n);
