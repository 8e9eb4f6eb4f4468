/* Internal: the files of a host container's directory. config.json is written by the
 * agent (everything from RuntimeContainerConfig), state.json by the shim once the command
 * runs, exit.json by the shim (or by the agent for a lost container) when it ended, and the
 * empty exit-reported by the agent once on_exit was called for it (so that a restarted agent
 * reports only the exits it has not seen). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "runtime.h"

typedef struct HostMount {
        char *host_path, *container_path;
        bool read_only;
        RuntimeMountPropagation propagation;
} HostMount;

typedef struct HostConfig {
        char *id, *cgroup_name;
        char *pod_uid, *pod_name, *pod_namespace, *container_name, *image;
        unsigned attempt;
        char **argv, **env;
        char *working_dir;
        bool set_uid, set_gid;
        uid_t uid;
        gid_t gid;
        gid_t *supplementary_gids;
        size_t n_supplementary_gids;
        int64_t memory_limit_bytes, cpu_limit_milli, cpu_request_milli;
        bool no_new_privs, seccomp_runtime_default;
        char *log_path;
        uint64_t log_max_size;
        unsigned log_max_files;
        usec_t created_at;
        usec_t start_at; /* CLOCK_REALTIME; 0 = at once */
        HostMount *mounts;
        size_t n_mounts;
        /* the dead man's switch (RuntimeContainerConfig.fence_path): NULL for none; else an
         * absolute path, and fence_max_age > 0 */
        char *fence_path;
        usec_t fence_max_age;
} HostConfig;

typedef struct HostState {
        pid_t shim_pid, pid;
        uint64_t shim_start, pid_start; /* /proc/<pid>/stat start times, against pid reuse */
        usec_t started_at;
} HostState;

typedef struct HostExit {
        int exit_code, signal;
        usec_t finished_at;
        char *reason, *message;
} HostExit;

/* -EINVAL without argv, for a mount without both paths, with a relative one or with an
 * unknown propagation, or for a fence_path that is relative or comes without a fence_max_age. */
int host_config_format(const RuntimeContainerConfig *cfg, const char *id, const char *cgroup_name,
                       usec_t created_at, char **ret);
/* -EBADMSG for malformed JSON, missing/mistyped required fields (id, argv), an invalid mount
 * (a relative or missing path, an unknown propagation) or an invalid fence (as for format). */
int host_config_parse(const char *json, HostConfig **ret);
int host_config_load(const char *dir, HostConfig **ret);
/* The same, and on -EBADMSG what is wrong, for the user, in *ret_error (malloc'd; NULL on
 * other results). */
int host_config_parse_full(const char *json, HostConfig **ret, char **ret_error);
int host_config_load_full(const char *dir, HostConfig **ret, char **ret_error);
HostConfig *host_config_free(HostConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HostConfig *, host_config_free);

int host_state_write(const char *dir, const HostState *s);
int host_state_load(const char *dir, HostState *ret);
int host_exit_write(const char *dir, const HostExit *e);
int host_exit_load(const char *dir, HostExit *ret);
void host_exit_done(HostExit *e);

/* How often the shim looks at the fence file: every max_age/4, within [50 ms, 250 ms]. */
usec_t host_fence_period(usec_t max_age);
/* Whether the fence file at path was renewed within max_age of now (CLOCK_REALTIME; an mtime
 * in the future counts as fresh). 0 when it was; 1 when it was not, or is missing, or cannot
 * be looked at (the switch fails closed), with why in *ret_message (malloc'd, "fenced: ...");
 * -ENOMEM. */
int host_fence_check(const char *path, usec_t max_age, usec_t now, char **ret_message);

/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
int host_proc_start_time(pid_t pid, uint64_t *ret);

/* The shim inherits the write end of a pipe as this fd number (given in this variable) and
 * writes one byte to it once it has written state.json ('R') or exit.json ('E'). */
#define HOST_SHIM_READY_FD_ENV "BERTH_SHIM_READY_FD"
#define HOST_SHIM_READY_FD 3
