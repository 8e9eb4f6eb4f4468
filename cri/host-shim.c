/* The per-container shim of the host backend ("berth shim DIR"): sets up the cgroups, forks
 * and execs the container command with its identity, seccomp filter and pipes, copies the
 * pipes into the CRI log, reaps the command, records state.json and exit.json, and kills
 * whatever is left in the cgroup. It outlives the agent: with a fence file in its config, it
 * kills the container once the agent stops renewing that file (a dead man's switch for what
 * must not outlive the agent's lease). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "host-cgroup.h"
#include "host-child.h"
#include "host-config.h"
#include "host-log.h"
#include "util.h"

#define CLEANUP_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define DRAIN_TIMEOUT_MSEC 1000

typedef struct Shim {
        const char *dir;
        HostConfig *cfg;
        HostCgroup *cg;
        HostLog *log;
        int ready_fd, sig_fd;
        int out[2], err[2], errpipe[2];
        pid_t child;
        bool reaped;
        int status;
        usec_t fence_next; /* CLOCK_MONOTONIC: the next look at the fence file */
        bool fenced;       /* the fence was found stale, and the container killed */
        char *fence_message;
} Shim;

static void shim_done(Shim *s)
{
        host_config_free(s->cfg);
        host_cgroup_free(s->cg);
        host_log_free(s->log);
        free(s->fence_message);
        safe_close(s->ready_fd);
        safe_close(s->sig_fd);
        for (int i = 0; i < 2; i++) {
                safe_close(s->out[i]);
                safe_close(s->err[i]);
                safe_close(s->errpipe[i]);
        }
}

static void notify_ready(Shim *s, char what)
{
        if (s->ready_fd >= 0)
                (void)!write(s->ready_fd, &what, 1);
        s->ready_fd = safe_close(s->ready_fd);
}

static int record_start_error(Shim *s, const char *message)
{
        HostExit e = {
            .exit_code = 128,
            .finished_at = now_usec(CLOCK_REALTIME),
            .reason = (char *)"StartError",
            .message = (char *)message,
        };
        int r = host_exit_write(s->dir, &e);

        notify_ready(s, 'E');
        return r < 0 ? 1 : 0;
}

/* --- the shim proper --- */

static void reap(Shim *s)
{
        int st;
        pid_t pid;

        /* a subreaper: orphans of the command come here too */
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
                if (pid == s->child) {
                        s->status = st;
                        s->reaped = true;
                }
}

static int pump(Shim *s, int *fd, HostLogStream stream)
{
        char buf[65536];
        ssize_t k = read(*fd, buf, sizeof(buf));

        if (k < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : negative_errno();
        if (k == 0) {
                *fd = safe_close(*fd);
                return host_log_finish(s->log, stream);
        }
        return host_log_feed(s->log, stream, buf, (size_t)k);
}

/* One poll round over the pipes (and the signalfd when given); false once nothing is left. */
static bool poll_once(Shim *s, int timeout_msec, bool with_signals)
{
        struct pollfd p[3] = {
            {s->out[0], POLLIN, 0},
            {s->err[0], POLLIN, 0},
            {with_signals ? s->sig_fd : -1, POLLIN, 0},
        };

        if (p[0].fd < 0 && p[1].fd < 0 && !with_signals)
                return false;
        int n = poll(p, 3, timeout_msec);
        if (n < 0)
                return errno == EINTR;
        if (n == 0)
                return false;
        if (p[2].revents) {
                struct signalfd_siginfo si;
                (void)!read(s->sig_fd, &si, sizeof(si));
                reap(s);
        }
        /* a failed log write must not stop the command: drop the data, keep reading */
        if (p[0].revents)
                (void)pump(s, &s->out[0], HOST_LOG_STDOUT);
        if (p[1].revents)
                (void)pump(s, &s->err[0], HOST_LOG_STDERR);
        return true;
}

/* SIGKILL until the cgroup is empty (bounded), reaping what comes back to us. */
static void kill_leftovers(Shim *s)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + CLEANUP_TIMEOUT_USEC;

        while (host_cgroup_kill(s->cg, SIGKILL) > 0 && now_usec(CLOCK_MONOTONIC) < deadline) {
                reap(s);
                (void)poll_once(s, 20, false);
                usleep(1000);
        }
        reap(s);
}

/* --- the dead man's switch --- */

/* true while the fence holds (or there is none); on the first look that finds it stale,
 * false, with the message for the exit in s->fence_message. Looks at most once a period. */
static bool fence_holds(Shim *s)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (!s->cfg->fence_path || s->fenced)
                return !s->fenced;
        if (now < s->fence_next)
                return true;
        s->fence_next = now + host_fence_period(s->cfg->fence_max_age);
        r = host_fence_check(s->cfg->fence_path, s->cfg->fence_max_age, now_usec(CLOCK_REALTIME),
                             &s->fence_message);
        if (r == 0)
                return true;
        /* out of memory to say why is no reason to keep the container running */
        s->fenced = true;
        return false;
}

static const char *fence_message(const Shim *s)
{
        return s->fence_message ? s->fence_message : "fenced: the fence file was not renewed in time";
}

/* How long poll may wait before the next look at the fence (-1: no fence to look at). */
static int fence_timeout_msec(const Shim *s)
{
        usec_t now = now_usec(CLOCK_MONOTONIC);

        if (!s->cfg->fence_path || s->fenced)
                return -1;
        if (now >= s->fence_next)
                return 0;
        return (int)((s->fence_next - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
}

/* The command and everything of its cgroup, SIGKILLed. The command itself gets the signal
 * too, in case it has not joined the cgroup yet (between fork and exec). */
static void fence_kill(Shim *s)
{
        if (!s->reaped)
                (void)kill(s->child, SIGKILL);
        kill_leftovers(s);
}

/* Until the child reports its exec (or its failure): with a fence, it may wait for a start
 * time, and the fence must hold until then. false when it did not, the child killed. */
static bool wait_exec(Shim *s)
{
        struct pollfd p = {s->errpipe[0], POLLIN, 0};

        if (!s->cfg->fence_path)
                return true;
        for (;;) {
                if (!fence_holds(s)) {
                        fence_kill(s);
                        while (!s->reaped && waitpid(s->child, &s->status, 0) < 0 && errno == EINTR)
                                ;
                        s->reaped = true;
                        return false;
                }
                int n = poll(&p, 1, fence_timeout_msec(s));
                if (n > 0)
                        return true;
                if (n < 0 && errno != EINTR)
                        return true; /* the blocking read reports what happened */
        }
}

static int record_exit(Shim *s)
{
        HostExit e = {.finished_at = now_usec(CLOCK_REALTIME)};
        uint64_t ooms = 0;

        if (WIFSIGNALED(s->status)) {
                e.signal = WTERMSIG(s->status);
                e.exit_code = 128 + e.signal;
        } else
                e.exit_code = WEXITSTATUS(s->status);
        (void)host_cgroup_oom_kills(s->cg, &ooms);
        e.reason = (char *)(e.exit_code == 0 ? "Completed" : ooms > 0 ? "OOMKilled" : "Error");
        if (s->fenced) {
                /* what we did, even if the command ended on its own in the meantime */
                e.signal = SIGKILL;
                e.exit_code = 128 + SIGKILL;
                e.reason = (char *)"Error";
                e.message = (char *)fence_message(s);
        }
        return host_exit_write(s->dir, &e);
}

static int spawn(Shim *s)
{
        sigset_t chld;

        if (pipe2(s->out, O_CLOEXEC) < 0 || pipe2(s->err, O_CLOEXEC) < 0 || pipe2(s->errpipe, O_CLOEXEC) < 0)
                return negative_errno();
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        s->sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->sig_fd < 0)
                return negative_errno();
        s->child = fork();
        if (s->child < 0)
                return negative_errno();
        if (s->child == 0) {
                HostChild c = {
                    .cfg = s->cfg,
                    .cg = s->cg,
                    .argv = s->cfg->argv,
                    .stdout_fd = s->out[1],
                    .stderr_fd = s->err[1],
                    .error_fd = s->errpipe[1],
                    .start_at = s->cfg->start_at,
                };
                host_child_exec(&c);
        }
        s->out[1] = safe_close(s->out[1]);
        s->err[1] = safe_close(s->err[1]);
        s->errpipe[1] = safe_close(s->errpipe[1]);
        return 0;
}

static int shim_run(Shim *s)
{
        _cleanup_free_ char *rel = NULL, *msg = NULL;
        usec_t exec_at = 0;
        char err[4200];
        int r;

        r = host_cgroup_relative(s->cfg->cgroup_name ? s->cfg->cgroup_name : "berth",
                                 s->cfg->pod_uid ? s->cfg->pod_uid : "none", s->cfg->id, &rel);
        if (r >= 0)
                r = host_cgroup_new(&s->cg, NULL, rel);
        if (r >= 0)
                r = host_cgroup_create(s->cg);
        if (r >= 0)
                r = host_cgroup_set_limits(s->cg, s->cfg->memory_limit_bytes, s->cfg->cpu_limit_milli,
                                           s->cfg->cpu_request_milli);
        if (r < 0) {
                asprintf_safe(&msg, "cgroup: %s", strerror(-r));
                return record_start_error(s, msg ? msg : "cgroup setup failed");
        }
        if (s->cfg->log_path) {
                r = host_log_new(&s->log, s->cfg->log_path, s->cfg->log_max_size, s->cfg->log_max_files);
                if (r < 0) {
                        asprintf_safe(&msg, "log file \"%s\": %s", s->cfg->log_path, strerror(-r));
                        return record_start_error(s, msg ? msg : "log file failed");
                }
        }
        /* a container never starts with a stale fence */
        if (!fence_holds(s))
                return record_start_error(s, fence_message(s));
        r = spawn(s);
        if (r < 0) {
                asprintf_safe(&msg, "fork: %s", strerror(-r));
                return record_start_error(s, msg ? msg : "fork failed");
        }
        if (!wait_exec(s))
                return record_start_error(s, fence_message(s));
        if (host_child_read_report(s->errpipe[0], &exec_at, err, sizeof(err)) < 0) {
                while (!s->reaped && waitpid(s->child, &s->status, 0) < 0 && errno == EINTR)
                        ;
                s->reaped = true;
                kill_leftovers(s);
                return record_start_error(s, err);
        }

        HostState st = {.shim_pid = getpid(),
                        .pid = s->child,
                        .started_at = exec_at > 0 ? exec_at : now_usec(CLOCK_REALTIME)};
        (void)host_proc_start_time(st.shim_pid, &st.shim_start);
        (void)host_proc_start_time(st.pid, &st.pid_start);
        r = host_state_write(s->dir, &st);
        notify_ready(s, r < 0 ? 'E' : 'R');

        /* the first look at the fence comes at once: the child may have waited for its start time */
        s->fence_next = 0;
        while (!s->reaped) {
                /* once stale, the kill is done and the loop only waits for the command's end */
                if (!s->fenced && !fence_holds(s))
                        fence_kill(s);
                (void)poll_once(s, fence_timeout_msec(s), true);
        }
        kill_leftovers(s);
        while (poll_once(s, DRAIN_TIMEOUT_MSEC, false))
                ;
        if (s->log) {
                (void)host_log_finish(s->log, HOST_LOG_STDOUT);
                (void)host_log_finish(s->log, HOST_LOG_STDERR);
        }
        return record_exit(s) < 0 ? 1 : 0;
}

/* Takes the ready pipe from the environment, and leaves the shim with nothing of the
 * agent's: no other fds, /dev/null for stdio, an empty signal mask, its own session. */
static int detach(void)
{
        const char *e = getenv(HOST_SHIM_READY_FD_ENV);
        int ready = -EBADF, null;
        sigset_t none;

        if (e) {
                char *end;
                long v = strtol(e, &end, 10);
                if (*end == 0 && v >= 3 && v < 1024 && fcntl((int)v, F_GETFD) >= 0)
                        ready = (int)v;
                unsetenv(HOST_SHIM_READY_FD_ENV);
        }
        if (ready >= 0) {
                if (ready > 3)
                        close_range(3, (unsigned)ready - 1, 0);
                close_range((unsigned)ready + 1, ~0U, 0);
                (void)fcntl(ready, F_SETFD, FD_CLOEXEC);
        } else
                close_range(3, ~0U, 0);
        null = open("/dev/null", O_RDWR | O_NOCTTY);
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                if (null > 2)
                        close(null);
        }
        (void)setsid();
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        return ready;
}

int runtime_shim_main(const char *dir)
{
        Shim s = {
            .dir = dir,
            .ready_fd = -EBADF,
            .sig_fd = -EBADF,
            .out = {-EBADF, -EBADF},
            .err = {-EBADF, -EBADF},
            .errpipe = {-EBADF, -EBADF},
        };
        _cleanup_free_ char *msg = NULL, *why = NULL;
        int r;

        if (isempty(dir))
                return 2;
        s.ready_fd = detach();
        r = host_config_load_full(dir, &s.cfg, &why);
        if (r < 0) {
                asprintf_safe(&msg, "shim: cannot load %s/config.json: %s", dir, why ? why : strerror(-r));
                r = record_start_error(&s, msg ? msg : "shim: cannot load config.json");
        } else
                r = shim_run(&s);
        shim_done(&s);
        return r;
}
