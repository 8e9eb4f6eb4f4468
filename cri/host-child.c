/* The container side of a fork: cgroups, the mount namespace with the container's mounts,
 * stdio, no_new_privs, seccomp, identity, working directory, signals, fds, then the exec with
 * argv[0] searched in the container's PATH. Failures go back to the parent over a CLOEXEC
 * pipe as an errno and the message. It runs between fork and exec: no malloc. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

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

/* r, with "mount: <what>: <error>" in err. */
_printf_(4, 5) static int mount_fail(char *err, size_t size, int r, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(err, size, "mount: ");

        va_start(ap, fmt);
        n += vsnprintf(err + n, size - (size_t)n, fmt, ap);
        va_end(ap);
        if ((size_t)n < size)
                snprintf(err + n, size - (size_t)n, ": %s", strerror(-r));
        return r;
}

/* A missing mount point is made on the host's own file system (the host backend has no root
 * file system of the container's; its paths are host paths seen through the namespace), so
 * it is only ever a plain directory 0755 (and its parents) or an empty file 0644. */
static int make_mount_point(const char *path, bool dir)
{
        char buf[PATH_MAX];
        struct stat st;
        size_t n = strlen(path);
        int fd;

        if (stat(path, &st) == 0)
                return 0;
        if (errno != ENOENT)
                return negative_errno();
        if (n >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, n + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                *p = '/';
        }
        if (dir)
                return mkdir(buf, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
        fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : negative_errno();
        close(fd);
        return 0;
}

static int make_read_only(const char *path)
{
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        struct statfs sf;
        unsigned long keep = 0;

        /* submounts too, and nosuid, nodev, noexec stay as they are */
        if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return negative_errno();
        /* before Linux 5.12 only the top mount can be made read-only; a bind remount sets
         * every flag, so the ones it would otherwise clear are given again */
        if (statfs(path, &sf) < 0)
                return negative_errno();
        keep |= sf.f_flags & ST_NOSUID ? MS_NOSUID : 0;
        keep |= sf.f_flags & ST_NODEV ? MS_NODEV : 0;
        keep |= sf.f_flags & ST_NOEXEC ? MS_NOEXEC : 0;
        keep |= sf.f_flags & ST_NOATIME ? MS_NOATIME : 0;
        keep |= sf.f_flags & ST_NODIRATIME ? MS_NODIRATIME : 0;
        keep |= sf.f_flags & ST_RELATIME ? MS_RELATIME : 0;
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
                return negative_errno();
        return 0;
}

static int bind_one(const HostMount *m, char *err, size_t size)
{
        static const unsigned long propagation[_RUNTIME_MOUNT_PROPAGATION_MAX] = {
            [RUNTIME_MOUNT_PROPAGATION_PRIVATE] = MS_PRIVATE,
            [RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER] = MS_SLAVE,
            [RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL] = MS_SHARED,
        };
        const char *src = m->host_path, *dst = m->container_path;
        struct stat st;
        int r;

        if (stat(src, &st) < 0)
                return mount_fail(err, size, negative_errno(), "host path \"%s\" (for \"%s\")", src, dst);
        r = make_mount_point(dst, S_ISDIR(st.st_mode));
        if (r < 0)
                return mount_fail(err, size, r, "creating the mount point \"%s\" (for \"%s\")", dst, src);
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return mount_fail(err, size, negative_errno(), "binding \"%s\" on \"%s\"", src, dst);
        if (m->read_only && (r = make_read_only(dst)) < 0)
                return mount_fail(err, size, r, "making \"%s\" (from \"%s\") read-only", dst, src);
        if (mount(NULL, dst, NULL, MS_REC | propagation[m->propagation], NULL) < 0)
                return mount_fail(err, size, negative_errno(),
                                  "setting the propagation of \"%s\" (from \"%s\")", dst, src);
        return 0;
}

/* An exec joins the namespace of the container's main process: by its pidfd (Linux 5.8+),
 * else by /proc, checking afterwards that the pid still was that process. */
static int join_mount_ns(const HostChild *c, char *err, size_t size)
{
        struct pollfd p = {c->ns_pidfd, POLLIN, 0};
        char path[64];
        int fd, r = 0;

        if (setns(c->ns_pidfd, CLONE_NEWNS) == 0)
                return 0;
        if (errno != EINVAL)
                return mount_fail(err, size, negative_errno(), "joining the container's mount namespace");
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)c->ns_pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                r = errno == ENOENT ? -ESRCH : negative_errno();
        else if (poll(&p, 1, 0) != 0)
                r = -ESRCH;
        else if (setns(fd, CLONE_NEWNS) < 0)
                r = negative_errno();
        if (fd >= 0)
                close(fd);
        return r < 0 ? mount_fail(err, size, r, "joining the container's mount namespace") : 0;
}

/* Still privileged: a mount namespace of the child's own, where the host's mounts keep
 * arriving (a slave of them) and nothing made here leaks back, holding the mounts in order. */
static int child_mounts(const HostChild *c, char *err, size_t size)
{
        const HostConfig *cfg = c->cfg;
        int r;

        if (c->ns_pid > 0)
                return join_mount_ns(c, err, size);
        if (cfg->n_mounts == 0)
                return 0;
        if (unshare(CLONE_NEWNS) < 0)
                return mount_fail(err, size, negative_errno(), "unsharing the mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return mount_fail(err, size, negative_errno(), "making \"/\" a slave of the host's mounts");
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                r = bind_one(&cfg->mounts[i], err, size);
                if (r < 0)
                        return r;
        }
        return 0;
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
        /* before seccomp and the identity change take the privilege to mount away */
        r = child_mounts(c, err, sizeof(err));
        if (r < 0)
                goto out;
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
