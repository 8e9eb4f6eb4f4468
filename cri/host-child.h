/* Internal: what runs between fork() and exec() of a process in a host container's context,
 * shared by the container's command (forked by the shim) and commands exec'd into a running
 * container (forked by the agent), so that both get exactly the same context. */
#pragma once

#include "host-cgroup.h"
#include "host-config.h"

/* A buffer for the longest report message, NUL included. */
#define HOST_CHILD_MESSAGE_MAX (4096 + 64)

typedef struct HostChild {
        const HostConfig *cfg;    /* identity, env (and its PATH), working dir, no_new_privs, seccomp */
        HostCgroup *cg;           /* joined first */
        char *const *argv;        /* argv[0] looked up in the PATH of cfg->env */
        int stdout_fd, stderr_fd; /* may be the same fd; stdin is /dev/null */
        int error_fd;             /* write end of a CLOEXEC pipe: gets the failure report */
        usec_t start_at; /* CLOCK_REALTIME; everything is set up, then exec no earlier (0 = at once) */
        /* > 0 (an exec into a running container): join the mount namespace of this process, the
         * container's main one, whose pidfd is ns_pidfd, instead of binding cfg's mounts in a
         * namespace of the child's own */
        pid_t ns_pid;
        int ns_pidfd;
} HostChild;

/* Runs in the forked child and never returns: sets up the context, closes every other fd and
 * execs. On failure writes a report to error_fd for host_child_read_error() and _exit(127)s.
 * With cfg->mounts (and no ns_pid) the child gets a mount namespace of its own holding them;
 * without, it stays in the caller's and pays nothing for the feature. */
_noreturn_ void host_child_exec(const HostChild *c);

/* Reads the report of host_child_exec() from the read end of the error pipe, until it closes.
 * 0 when the exec succeeded (the pipe closed empty); else the negative errno of the failed
 * step, with buf holding its message (e.g. `exec: "x": executable file not found in $PATH`).
 * On a non-blocking fd only what is there is read: call it once the child has ended. */
int host_child_read_error(int fd, char *buf, size_t size);
/* The same, and *ret_exec_at: the CLOCK_REALTIME time the child called execve() (0 when it
 * failed before getting there) — the container's startedAt, however late its parent looks. */
int host_child_read_report(int fd, usec_t *ret_exec_at, char *buf, size_t size);
