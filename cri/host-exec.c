/* Commands run inside a running host container (exec probes, lifecycle hooks), as kubelet's
 * ExecSync: forked from the agent into the container's context (host-child.c) in a session
 * of its own, stdout and stderr collected from one pipe, reaped through a pidfd, everything on
 * the loop; a timeout kills the process group. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "host-child.h"
#include "runtime-host.h"

#define TIMED_OUT_EXIT_CODE 137
/* after the timeout's kill, how long a descendant that left the group may hold the pipe */
#define EOF_GRACE_USEC (100 * USEC_PER_MSEC)
#define TIMER_ACCURACY_USEC USEC_PER_MSEC
/* how long freeing the runtime waits for killed execs, so that they leave no zombie */
#define CANCEL_ALL_WAIT_USEC USEC_PER_SEC
#define READ_CHUNK 65536

struct RuntimeExec {
        RuntimeType backend;              /* first: runtime_exec_cancel() dispatches on it */
        RuntimeExec **head, *prev, *next; /* the runtime's list, while linked */
        sd_event *event;
        char *container_id;
        pid_t pid;
        int pidfd, out_fd, err_fd;
        sd_event_source *pid_source, *out_source, *timer;
        runtime_exec_done_t done; /* NULL once cancelled */
        void *userdata;
        char *output; /* NUL-terminated */
        size_t size, allocated, max_output;
        bool reaped, eof, timed_out;
        int exit_code, error;
        char message[HOST_CHILD_MESSAGE_MAX];
};

static void unlink_exec(RuntimeExec *x)
{
        if (!x->head)
                return;
        if (x->prev)
                x->prev->next = x->next;
        else
                *x->head = x->next;
        if (x->next)
                x->next->prev = x->prev;
        x->head = NULL;
        x->prev = x->next = NULL;
}

static void link_exec(RuntimeExec *x, RuntimeExec **head)
{
        x->head = head;
        x->prev = NULL;
        x->next = *head;
        if (*head)
                (*head)->prev = x;
        *head = x;
}

static RuntimeExec *exec_free(RuntimeExec *x)
{
        if (!x)
                return NULL;
        unlink_exec(x);
        sd_event_source_disable_unref(x->pid_source);
        sd_event_source_disable_unref(x->out_source);
        sd_event_source_disable_unref(x->timer);
        safe_close(x->pidfd);
        safe_close(x->out_fd);
        safe_close(x->err_fd);
        sd_event_unref(x->event);
        free(x->container_id);
        free(x->output);
        free(x);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(RuntimeExec *, exec_free);

static void kill_group(RuntimeExec *x)
{
        /* the group reaches what the command started (also once the command itself is gone);
         * the pidfd covers the moment before the child's setsid() */
        if (x->pid > 0)
                (void)kill(-x->pid, SIGKILL);
        if (x->pidfd >= 0)
                (void)pidfd_send_signal(x->pidfd, SIGKILL, NULL, 0);
}

/* Takes the exit status if the child has ended; then also its setup report, which is
 * complete by now (the child held the only write end). */
static bool reap(RuntimeExec *x)
{
        siginfo_t si = {};

        if (x->reaped)
                return true;
        if (waitid(P_PIDFD, (id_t)x->pidfd, &si, WEXITED | WNOHANG) < 0) {
                if (errno == EINTR)
                        return false;
                x->error = negative_errno();
                snprintf(x->message, sizeof(x->message), "exec: waiting for the process: %s",
                         strerror(errno));
        } else if (si.si_pid == 0)
                return false;
        else {
                x->exit_code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
                x->error = host_child_read_error(x->err_fd, x->message, sizeof(x->message));
        }
        x->reaped = true;
        x->pid_source = sd_event_source_disable_unref(x->pid_source);
        x->pidfd = safe_close(x->pidfd);
        x->err_fd = safe_close(x->err_fd);
        return true;
}

static void close_output(RuntimeExec *x)
{
        x->out_source = sd_event_source_disable_unref(x->out_source);
        x->out_fd = safe_close(x->out_fd);
        x->eof = true;
}

/* Once the process is reaped and its output closed: the result, then the end of x. */
static void finish(RuntimeExec *x)
{
        runtime_exec_done_t done = x->done;

        if (!x->reaped || !x->eof)
                return;
        /* the callback may free the runtime or start more execs: x is no longer its concern */
        unlink_exec(x);
        if (done) {
                RuntimeExecResult r = {
                    .error = x->error,
                    .message = x->error < 0 ? x->message : NULL,
                    .exit_code = x->timed_out ? TIMED_OUT_EXIT_CODE : x->exit_code,
                    .timed_out = x->timed_out,
                    .output = x->output,
                    .output_size = x->size,
                };
                x->done = NULL;
                done(&r, x->userdata);
        }
        exec_free(x);
}

static void append(RuntimeExec *x, const char *buf, size_t k)
{
        size_t keep = MIN(k, x->max_output - x->size);

        if (keep == 0)
                return;
        if (x->size + keep + 1 > x->allocated) {
                size_t n = MIN(MAX(x->allocated * 2, x->size + keep + 1), x->max_output + 1);
                char *p = realloc(x->output, n);
                if (!p) {
                        x->max_output = x->size; /* out of memory: keep what is there, drop the rest */
                        return;
                }
                x->output = p;
                x->allocated = n;
        }
        memcpy(x->output + x->size, buf, keep);
        x->size += keep;
        x->output[x->size] = 0;
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        RuntimeExec *x = userdata;
        char buf[READ_CHUNK];
        ssize_t k = read(fd, buf, sizeof(buf));

        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                close_output(x);
                finish(x);
                return 0;
        }
        append(x, buf, (size_t)k);
        return 0;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        RuntimeExec *x = userdata;

        if (reap(x))
                finish(x);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        RuntimeExec *x = userdata;

        if (!x->timed_out) {
                x->timed_out = true;
                kill_group(x);
                (void)sd_event_source_set_time_relative(s, EOF_GRACE_USEC);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        /* a descendant that left the group still holds the pipe: stop waiting for it */
        close_output(x);
        finish(x);
        return 0;
}

/* The pid behind a pidfd, if that process has not exited. */
static pid_t pidfd_live_pid(int pidfd)
{
        struct pollfd p = {pidfd, POLLIN, 0};
        _cleanup_free_ char *info = NULL;
        char path[64];
        const char *line;
        int pid;

        if (pidfd < 0 || poll(&p, 1, 0) != 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        if (read_full_file(path, 4096, &info, NULL) < 0)
                return 0;
        line = strstr(info, "\nPid:");
        if (!line || sscanf(line + strlen("\nPid:"), "%d", &pid) != 1 || pid <= 0)
                return 0;
        return (pid_t)pid;
}

static int spawn(RuntimeExec *x, const HostExecTarget *t, char *const *argv)
{
        _cleanup_close_ int out_wr = -EBADF, err_wr = -EBADF;
        pid_t ns_pid = 0;
        int fds[2];

        /* the container's mounts live in its main process's mount namespace: it must be there
         * to be joined */
        if (t->cfg->n_mounts > 0) {
                ns_pid = pidfd_live_pid(t->main_pidfd);
                if (ns_pid <= 0)
                        return -ESRCH;
        }

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        x->out_fd = fds[0];
        out_wr = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        x->err_fd = fds[0];
        err_wr = fds[1];
        /* the read ends only: the command's stdout stays blocking */
        if (fcntl(x->out_fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(x->err_fd, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();
        x->pid = fork();
        if (x->pid < 0)
                return negative_errno();
        if (x->pid == 0) {
                HostChild c = {
                    .cfg = t->cfg,
                    .cg = t->cg,
                    .argv = argv,
                    .stdout_fd = out_wr,
                    .stderr_fd = out_wr,
                    .error_fd = err_wr,
                    .ns_pid = ns_pid,
                    .ns_pidfd = ns_pid > 0 ? t->main_pidfd : -EBADF,
                };
                /* a process group of its own, for the timeout's kill */
                (void)setsid();
                host_child_exec(&c);
        }
        x->pidfd = pidfd_open(x->pid, 0);
        if (x->pidfd < 0) {
                int r = negative_errno();
                (void)kill(x->pid, SIGKILL);
                (void)waitpid(x->pid, NULL, 0);
                x->pid = 0;
                return r;
        }
        return 0;
}

static int watch(RuntimeExec *x, usec_t timeout)
{
        int r;

        r = sd_event_add_io(x->event, &x->pid_source, x->pidfd, EPOLLIN, on_pidfd, x);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(x->pid_source, "runtime-exec-pid");
        r = sd_event_add_io(x->event, &x->out_source, x->out_fd, EPOLLIN, on_output, x);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(x->out_source, "runtime-exec-output");
        if (timeout == 0 || timeout == USEC_INFINITY)
                return 0;
        r = sd_event_add_time_relative(x->event, &x->timer, CLOCK_MONOTONIC, timeout, TIMER_ACCURACY_USEC,
                                       on_timer, x);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(x->timer, "runtime-exec-timeout");
        return 0;
}

/* Reaps a killed exec, waiting at most until deadline (CLOCK_MONOTONIC). */
static void wait_reap(RuntimeExec *x, usec_t deadline)
{
        while (!reap(x)) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd p = {x->pidfd, POLLIN, 0};

                if (now >= deadline)
                        return;
                (void)poll(&p, 1, (int)((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
        }
}

int host_exec_start(const HostExecTarget *t, char *const *argv, usec_t timeout, size_t max_output,
                    runtime_exec_done_t done, void *userdata, RuntimeExec **ret)
{
        _cleanup_(exec_freep) RuntimeExec *x = NULL;
        int r;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->backend = RUNTIME_HOST;
        x->pidfd = x->out_fd = x->err_fd = -EBADF;
        x->event = sd_event_ref(t->event);
        x->container_id = strdup(t->id);
        x->output = malloc(1);
        if (!x->container_id || !x->output)
                return -ENOMEM;
        x->output[0] = 0;
        x->allocated = 1;
        x->max_output = MIN(max_output, SIZE_MAX - 1);
        x->done = done;
        x->userdata = userdata;
        r = spawn(x, t, argv);
        if (r < 0)
                return r;
        r = watch(x, timeout);
        if (r < 0) {
                kill_group(x);
                wait_reap(x, now_usec(CLOCK_MONOTONIC) + CANCEL_ALL_WAIT_USEC);
                return r;
        }
        link_exec(x, t->execs);
        if (ret)
                *ret = x;
        TAKE_PTR(x);
        return 0;
}

void host_exec_cancel(RuntimeExec *x)
{
        if (!x)
                return;
        x->done = NULL;
        kill_group(x);
        x->timer = sd_event_source_disable_unref(x->timer);
        close_output(x);
        /* the SIGKILL lands in a moment: the pidfd source reaps and frees then */
        (void)reap(x);
        finish(x);
}

void host_exec_kill_container(RuntimeExec *execs, const char *id)
{
        for (RuntimeExec *x = execs; x; x = x->next)
                if (x->done && streq(x->container_id, id))
                        kill_group(x);
}

void host_exec_cancel_all(RuntimeExec **execs)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CANCEL_ALL_WAIT_USEC;

        for (RuntimeExec *x = *execs; x; x = x->next) {
                x->done = NULL;
                kill_group(x);
        }
        while (*execs) {
                RuntimeExec *x = *execs;
                wait_reap(x, deadline);
                exec_free(x);
        }
}
