/* The container runtime interface of berth, modelled on CRI: start a container for a pod,
 * watch it exit, stop it with a grace period, list what exists (also after an agent
 * restart), read its CRI-format logs. Backends: "host" (fork/exec with cgroups, seccomp,
 * rlimits and a per-container shim that survives the agent), "systemd" (each container a
 * transient service of the system manager, its output in the journal and copied from there
 * into the CRI log); "cri" (pods as sandboxes and containers of a CRI v1 runtime, containerd or
 * CRI-O, through cri-client.h; see runtime-cri.h). */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "util.h"

typedef struct Runtime Runtime;

typedef enum RuntimeType {
        RUNTIME_HOST,
        RUNTIME_CRI,
        RUNTIME_SYSTEMD,
} RuntimeType;

typedef struct RuntimeOptions {
        RuntimeType type;
        /* cri: unix socket; host: unused; systemd: the manager's bus, an absolute path being a
         * manager's private socket (a user manager's $XDG_RUNTIME_DIR/systemd/private) and
         * anything else a D-Bus address; NULL: $BERTH_SYSTEMD_BUS, else the system manager */
        const char *endpoint;
        /* host: containers live in <state_dir>/containers/<id>/; systemd: what the units
         * cannot hold lives in <state_dir>/systemd/ */
        const char *state_dir;
        /* host: top cgroup below each hierarchy's root; systemd: the units' slice
         * <cgroup_name>.slice and their name prefix; default "berth" */
        const char *cgroup_name;
        const char *shim_path; /* the berth binary to exec as "berth shim DIR" (default /proc/self/exe) */
        const char *log_namespace; /* systemd: the units' journal namespace (LogNamespace=); NULL:
                                      $BERTH_SYSTEMD_LOG_NAMESPACE, else the system journal */
} RuntimeOptions;

typedef enum ContainerState {
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_EXITED,
        CONTAINER_UNKNOWN,
} ContainerState;

typedef enum RuntimeMountPropagation {
        RUNTIME_MOUNT_PROPAGATION_PRIVATE,           /* the default: rprivate */
        RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER, /* rslave: later host mounts below it show */
        /* rshared; host backend: as HOST_TO_CONTAINER, and shared with namespaces made from the
         * container's, but what the container mounts below it does not reach the host */
        RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL,
        _RUNTIME_MOUNT_PROPAGATION_MAX,
} RuntimeMountPropagation;

/* A host path the container's processes (and commands exec'd into it) see at container_path,
 * as CRI's Mount, through a private mount namespace: nothing of it shows on the host.
 * host_path must exist; container_path is absolute (and not "/"); a file host_path is
 * bound on a file.
 * The host backend has no root file system of its own: a missing container_path is created
 * on the host (mkdir -p 0755, or an empty file 0644) to serve as the mount point. */
typedef struct RuntimeMount {
        const char *host_path;
        const char *container_path;
        bool read_only; /* submounts too */
        RuntimeMountPropagation propagation;
} RuntimeMount;

typedef struct RuntimeContainerConfig {
        /* identity, recorded with the container and returned by list */
        const char *pod_uid;
        const char *pod_name;
        const char *pod_namespace;
        const char *container_name;
        unsigned attempt; /* restart count at start */

        const char *image; /* recorded only by the host backend */
        char **argv;       /* resolved command + args, NULL-terminated, argv[0] looked up in PATH of env */
        char **env;        /* "KEY=VALUE", NULL-terminated */
        const char *working_dir; /* NULL = "/" */
        bool set_uid, set_gid;
        uid_t uid;
        gid_t gid;
        gid_t *supplementary_gids;
        size_t n_supplementary_gids;
        int64_t memory_limit_bytes; /* 0 = unlimited */
        int64_t cpu_limit_milli;    /* 0 = unlimited; CFS quota with a 100 ms period */
        int64_t cpu_request_milli;  /* 0 = default; cpu.shares / cpu.weight as kubelet maps it */
        bool no_new_privs;
        bool seccomp_runtime_default;
        const char *log_path; /* CRI log file; rotated as <log_path>.<timestamp> */
        /* CLOCK_REALTIME: everything is set up at once and the command exec'd no earlier than
         * this (0 = at once); the container stays CREATED until then */
        usec_t start_at;
        uint64_t log_max_size;      /* bytes; 0 = 10 MiB */
        unsigned log_max_files;     /* including the live one; 0 = 5 */
        const RuntimeMount *mounts; /* bound in this order; none: the host's mount namespace */
        size_t n_mounts;
        /* systemd: TimeoutStopSec=, the grace of stops systemd begins on its own (a shutdown of
         * the host); the pod's terminationGracePeriodSeconds; 0 = 30 s */
        usec_t stop_timeout;
        /* argv[0..n_command) is the container's command and the rest its args. cri: 0 runs the
         * image's entrypoint with argv as its args (host and systemd need a command). */
        size_t n_command;
        /* cri: the objects the sandbox and container configs are made from (hostname, DNS,
         * ports, namespaces, securityContext, imagePullPolicy...); host and systemd ignore them */
        const struct cJSON *pod;
        const struct cJSON *container;
        /* host: a dead man's switch for what must not outlive the agent's lease (cluster mode,
         * pods of StatefulSet ordinals). The agent sets the file's mtime to the time its lease
         * was last renewed; the shim kills the container (SIGKILL to its cgroup) once that mtime
         * is more than fence_max_age old, or the file is missing, even with the agent dead
         * (exit 137, "Error", message "fenced: ..."); a container whose fence is stale when it
         * would exec never runs ("StartError"). An absolute path with fence_max_age > 0, else
         * the start fails with -EINVAL. Renew it in place (utimensat) or by rename, never by
         * unlink and create: a missing file is stale. The shim looks every fence_max_age/4
         * (within 50..250 ms); an mtime in the future is fresh. NULL: none. cri and systemd
         * ignore it. */
        const char *fence_path;
        usec_t fence_max_age;
} RuntimeContainerConfig;

typedef struct RuntimeContainer {
        char *id;
        char *pod_uid, *pod_name, *pod_namespace, *container_name, *image;
        unsigned attempt;
        ContainerState state;
        pid_t pid;          /* main process, 0 when not running */
        usec_t created_at;  /* CLOCK_REALTIME usec */
        usec_t started_at;  /* 0 if never started */
        usec_t finished_at; /* 0 if not exited */
        int exit_code;      /* valid when EXITED: exit status, or 128+signal */
        char *reason;       /* when EXITED: "Completed", "Error", "OOMKilled", "StartError",
                               "ContainerStatusUnknown"; else NULL */
        char *message;      /* e.g. exec failure text, or NULL */
        char *log_path;
        /* cri: the runtime's own id of the container (the CRI container id) once it made it,
         * for the status's containerID; NULL: id is that */
        char *runtime_id;
        char *image_id; /* cri: the image's digested name (imageID), or NULL */
        char *pod_ip;   /* cri: the address of the pod's sandbox; NULL: the node's (loopback) */
        /* cri: the runtime never made the container (EXITED, exit code 0, never started):
         * reason is the kubelet's waiting reason (ErrImagePull, ErrImageNeverPull,
         * CreateContainerError, RunContainerError) and message the runtime's words. The
         * record means "try again": remove it and start the same attempt later. */
        bool waiting;
} RuntimeContainer;

/* Whether containers run images (cri): a container without a command runs its image's
 * entrypoint. host and systemd run commands on the host and need one. */
bool runtime_has_images(Runtime *rt);

/* The scheme of the runtime's container ids in a pod's status ("host", "systemd"), as the
 * kubelet writes "containerd://<id>". */
const char *runtime_id_scheme(Runtime *rt);

void runtime_container_done(RuntimeContainer *c);
void runtime_container_array_free(RuntimeContainer *c, size_t n);

/* Called on the event loop when a container exits (or is found exited during adoption). */
typedef void (*runtime_on_exit_t)(Runtime *rt, const char *id, void *userdata);

/* Called on the loop when a started container's command runs (CREATED -> RUNNING). */
void runtime_set_on_start(Runtime *rt, runtime_on_exit_t cb, void *userdata);

/* Creates the runtime on the given loop. The host backend re-attaches at once to every
 * container found under its state dir (shims still running are watched again; exit codes
 * recorded while the agent was away are kept). */
int runtime_new(Runtime **ret, sd_event *e, const RuntimeOptions *opts);
Runtime *runtime_free(Runtime *rt); /* leaves containers running */
DEFINE_TRIVIAL_CLEANUP_FUNC(Runtime *, runtime_free);
void runtime_set_on_exit(Runtime *rt, runtime_on_exit_t cb, void *userdata);

/* Creates and starts a container; on success *ret_id is its id (malloc'd). Does not wait:
 * the container is CREATED until its command runs, then RUNNING and on_start is called.
 * Failure to exec the command is not an error here: the container is then EXITED with
 * reason StartError, exit code 128, and the message, and on_exit is called. */
int runtime_start_container(Runtime *rt, const RuntimeContainerConfig *cfg, char **ret_id);
/* Sends SIGTERM to the container's main process, then SIGKILL to everything in its cgroup
 * after grace (0 = at once). Asynchronous: completion is reported through on_exit.
 * Stopping an exited container is a no-op. -ENOENT for an unknown id. */
int runtime_stop_container(Runtime *rt, const char *id, usec_t grace);
/* Removes an exited container: its cgroup, its state directory (logs stay). -EBUSY while it
 * runs. */
int runtime_remove_container(Runtime *rt, const char *id);
/* The pod is gone: what the runtime holds for the pod itself (cri: its sandbox) goes as soon
 * as no container of it is left. A no-op for host and systemd. */
void runtime_release_pod(Runtime *rt, const char *pod_uid);
int runtime_container_status(Runtime *rt, const char *id, RuntimeContainer *ret);
/* Every container the runtime knows, running or exited. */
int runtime_list_containers(Runtime *rt, RuntimeContainer **ret, size_t *ret_n);

/* What a command run inside a container (exec probes, lifecycle hooks) did. */
typedef struct RuntimeExecResult {
        int error;           /* 0, or a negative errno when the command could not be run at all */
        const char *message; /* with error: what failed, in the runtime's words; else NULL */
        int exit_code;       /* exit status, or 128+signal */
        bool timed_out;      /* killed because the timeout passed (exit_code is then 137) */
        const char *output;  /* stdout and stderr as they came, at most max_output bytes, NUL-terminated */
        size_t output_size;
} RuntimeExecResult;

/* Called on the loop exactly once per started exec, never from inside runtime_exec(), and
 * not at all after runtime_exec_cancel(). */
typedef void (*runtime_exec_done_t)(const RuntimeExecResult *r, void *userdata);

typedef struct RuntimeExec RuntimeExec;

/* Runs argv inside running container id, as `crictl exec` would: host backend — the
 * container's cgroups, user, groups, environment, working directory, no_new_privs, seccomp
 * filter and, with mounts, its mount namespace; systemd backend — the same, in the unit's cgroup and
 * (with mounts) its main process's mount namespace; argv[0] is looked up in the container's PATH. Output
 * beyond max_output is read and dropped. After timeout (0 = none) the command and its children are killed
 * and the result says timed_out. The process is reaped through a pidfd on the loop. -ENOENT for an unknown
 * id, -ESRCH when the container is not running. */
int runtime_exec(Runtime *rt, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                 runtime_exec_done_t done, void *userdata, RuntimeExec **ret);
/* Kills an exec in flight (SIGKILL) and frees it; done is not called. NULL is a no-op.
 * An exec frees itself once done returns: never cancel it from or after done.
 * runtime_free() cancels execs still in flight, and their handles are invalid afterwards.
 * ret may be NULL. With timeout 0, a background process that keeps the output open makes
 * the exec last until it ends (as containerd's does): callers should pass a timeout. */
void runtime_exec_cancel(RuntimeExec *x);

/* cri: called on the loop after every CRI call with its method ("RunPodSandbox"), how long it
 * took and its gRPC status, for berth_cri_call_duration_seconds; a no-op for other backends. */
typedef void (*runtime_call_observer_t)(const char *method, usec_t duration, int grpc_status,
                                        void *userdata);
void runtime_set_call_observer(Runtime *rt, runtime_call_observer_t cb, void *userdata);

/* The kubelet's log layout: <log_dir>/<ns>_<pod>_<uid>/<container>/<attempt>.log */
int runtime_log_path(const char *log_dir, const char *ns, const char *pod, const char *uid,
                     const char *container, unsigned attempt, char **ret);
/* Reads a CRI-format log file from byte offset "from" and returns the message text (partial
 * lines "P" joined with their continuation), with "<RFC3339Nano> " prefixes when
 * timestamps is set. *ret_next is the offset to continue from. tail_lines >= 0 keeps only
 * the last lines. -ENOENT when the file does not exist. */
int runtime_log_read(const char *path, uint64_t from, bool timestamps, int64_t tail_lines, char **ret,
                     size_t *ret_size, uint64_t *ret_next);

/* Entry point of "berth shim DIR": the per-container supervisor process. Never returns
 * normally in the container child; returns the shim's exit status. */
int runtime_shim_main(const char *dir);
