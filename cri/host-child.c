/* The container side of a fork: cgroups, stdio, no_new_privs, seccomp, identity, working
 * directory, signals, fds, then the exec with argv[0] searched in the container's PATH.
 * Failures go back to the parent over a CLOEXEC pipe as an errno and the message. */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "host-child.h"
#include "host-seccomp.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char **env, const char *key)
{
        size_t n = strlen(key);

        for (char **e = env; e && *e; e++)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

/* execvpe() searches the caller's PATH; the container's own PATH is what counts. Returns
 * only on failure, with the negative errno and the message. */
static int exec_search(char *const *argv, char **env, char *err, size_t size)
{
        const char *file = argv[0], *path = env_get(env, "PATH");
        bool denied = false;
        char buf[4096];

        if (strchr(file, '/')) {
                execve(file, argv, env);
                int r = negative_errno();
                snprintf(err, size, "exec: \"%s\": %s", file, strerror(-r));
                return r;
        }
        for (const char *p = path ? path : DEFAULT_PATH;; p++) {
                const char *colon = strchrnul(p, ':');
                int n = colon == p ? snprintf(buf, sizeof(buf), "%s", file)
                                   : snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p, file);
                if (n > 0 && (size_t)n < sizeof(buf)) {
                        execve(buf, argv, env);
                        if (errno == EACCES)
                                denied = true;
                }
                p = colon;
                if (!*p)
                        break;
        }
        if (denied) {
                snprintf(err, size, "exec: \"%s\": permission denied", file);
                return -EACCES;
        }
        snprintf(err, size, "exec: \"%s\": executable file not found in $PATH", file);
        return -ENOENT;
}

static int child_identity(const HostConfig *c)
{
        if (c->set_uid || c->set_gid) {
                /* never keep root's supplementary groups across an identity change */
                if (setgroups(c->n_supplementary_gids, c->supplementary_gids) < 0)
                        return negative_errno();
        } else if (c->n_supplementary_gids > 0 &&
                   setgroups(c->n_supplementary_gids, c->supplementary_gids) < 0)
                return negative_errno();
        if (c->set_gid && setresgid(c->gid, c->gid, c->gid) < 0)
                return negative_errno();
        if (c->set_uid && setresuid(c->uid, c->uid, c->uid) < 0)
                return negative_errno();
        return 0;
}

/* A parent with 0-2 closed gets pipes there: move them up before the dup2s overwrite them. */
static int fd_above_stdio(int fd)
{
        return fd >= 0 && fd < 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
}

static int child_stdio(int out, int err)
{
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (null < 0 || out < 0 || err < 0)
                return negative_errno();
        if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                return negative_errno();
        return 0;
}

static void report(int fd, int r, const char *message)
{
        char buf[sizeof(int32_t) + HOST_CHILD_MESSAGE_MAX];
        int32_t e = r;
        size_t n = strnlen(message, HOST_CHILD_MESSAGE_MAX);

        memcpy(buf, &e, sizeof(e));
        memcpy(buf + sizeof(e), message, n);
        (void)!write(fd, buf, sizeof(e) + n);
}

/* A record of its own ahead of any failure report: errno 0, then the CLOCK_REALTIME time. */
static void report_exec_time(int fd)
{
        char buf[sizeof(int32_t) + sizeof(uint64_t)];
        int32_t zero = 0;
        uint64_t t = now_usec(CLOCK_REALTIME);

        memcpy(buf, &zero, sizeof(zero));
        memcpy(buf + sizeof(zero), &t, sizeof(t));
        (void)!write(fd, buf, sizeof(buf));
}

static void wait_until(usec_t t)
{
        struct timespec ts = {.tv_sec = (time_t)(t / USEC_PER_SEC),
                              .tv_nsec = (long)(t % USEC_PER_SEC * 1000)};

        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

_noreturn_ void host_child_exec(const HostChild *c)
{
        const HostConfig *cfg = c->cfg;
        int errfd = fd_above_stdio(c->error_fd), out, errout;
        char err[HOST_CHILD_MESSAGE_MAX];
        const char *step;
        sigset_t all;
        int r;

        if (errfd < 0)
                _exit(127);
        step = "cgroup";
        r = host_cgroup_enter(c->cg, 0);
        if (r < 0)
                goto fail;
        step = "stdio";
        out = fd_above_stdio(c->stdout_fd);
        errout = c->stderr_fd == c->stdout_fd ? out : fd_above_stdio(c->stderr_fd);
        r = child_stdio(out, errout);
        if (r < 0)
                goto fail;
        step = "no_new_privs";
        if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = negative_errno();
                goto fail;
        }
        /* loaded while still privileged, so that it does not need no_new_privs */
        step = "seccomp";
        if (cfg->seccomp_runtime_default && (r = host_seccomp_apply()) < 0)
                goto fail;
        step = "user";
        r = child_identity(cfg);
        if (r < 0)
                goto fail;
        step = "chdir";
        if (chdir(cfg->working_dir ? cfg->working_dir : "/") < 0) {
                r = negative_errno();
                goto fail;
        }
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (errfd > 3)
                close_range(3, (unsigned)errfd - 1, 0);
        close_range((unsigned)errfd + 1, ~0U, 0);

        /* prepared ahead (cgroups joined, identity and filters in place): wait for the
         * moment the command is due, on the wall clock, so the exec is all that is left */
        if (c->start_at > 0)
                wait_until(c->start_at);
        /* the moment the command starts is this one, not when the parent gets to notice */
        report_exec_time(errfd);
        r = exec_search(c->argv, cfg->env, err, sizeof(err));
        goto out;
fail:
        snprintf(err, sizeof(err), "%s: %s", step, strerror(-r));
out:
        report(errfd, r, err);
        _exit(127);
}

int host_child_read_report(int fd, usec_t *ret_exec_at, char *buf, size_t size)
{
        char raw[sizeof(int32_t) + sizeof(uint64_t) + sizeof(int32_t) + HOST_CHILD_MESSAGE_MAX];
        const size_t time_record = sizeof(int32_t) + sizeof(uint64_t);
        size_t n = 0, off = 0;
        int32_t e;

        while (n < sizeof(raw)) {
                ssize_t k = read(fd, raw + n, sizeof(raw) - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        if (size > 0)
                buf[0] = 0;
        if (ret_exec_at)
                *ret_exec_at = 0;
        if (n >= time_record) {
                memcpy(&e, raw, sizeof(e));
                if (e == 0) {
                        uint64_t t;
                        memcpy(&t, raw + sizeof(e), sizeof(t));
                        if (ret_exec_at)
                                *ret_exec_at = t;
                        off = time_record;
                }
        }
        if (n == off)
                return 0;
        if (n - off < sizeof(e)) {
                /* cut short: the child died while reporting */
                if (size > 0)
                        snprintf(buf, size, "setup failed without a report");
                return -EIO;
        }
        memcpy(&e, raw + off, sizeof(e));
        if (size > 0) {
                size_t len = MIN(n - off - sizeof(e), size - 1);
                memcpy(buf, raw + off + sizeof(e), len);
                buf[len] = 0;
        }
        return e < 0 ? e : -EIO;
}

int host_child_read_error(int fd, char *buf, size_t size)
{
        return host_child_read_report(fd, NULL, buf, size);
}
