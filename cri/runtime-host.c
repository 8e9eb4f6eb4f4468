/* The host backend of the runtime interface: one directory and one shim process per
 * container. The agent side writes config.json, starts the shim, watches it with a pidfd,
 * re-adopts shims (or their orphaned commands) after a restart, stops containers with a
 * grace timer and removes them. Commands exec'd into a running container: host-exec.c. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host-cgroup.h"
#include "host-config.h"
#include "log.h"
#include "runtime-host.h"

#define KILL_REPEAT_USEC (100 * USEC_PER_MSEC)
#define LOST_EXIT_CODE 137
#define LOST_REASON "ContainerStatusUnknown"

extern char **environ;

typedef struct HostContainer {
        RuntimeHost *host;
        char *dir;
        RuntimeContainer info;
        HostConfig *cfg;
        HostCgroup *cg; /* NULL without cgroups */
        int shim_pidfd, main_pidfd, ready_fd;
        sd_event_source *shim_source, *main_source, *kill_timer, *report_source, *ready_source;
} HostContainer;

struct RuntimeHost {
        Runtime *owner;
        sd_event *event;
        char *containers_dir, *cgroup_name, *shim_path;
        HostContainer **containers;
        size_t n;
        RuntimeExec *execs; /* in flight */
};

static HostContainer *container_free(HostContainer *c)
{
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->shim_source);
        sd_event_source_disable_unref(c->main_source);
        sd_event_source_disable_unref(c->kill_timer);
        sd_event_source_disable_unref(c->report_source);
        sd_event_source_disable_unref(c->ready_source);
        safe_close(c->ready_fd);
        safe_close(c->shim_pidfd);
        safe_close(c->main_pidfd);
        host_cgroup_free(c->cg);
        host_config_free(c->cfg);
        runtime_container_done(&c->info);
        free(c->dir);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(HostContainer *, container_free);

static HostContainer *find(RuntimeHost *h, const char *id, size_t *ret_idx)
{
        for (size_t i = 0; i < h->n; i++)
                if (streq(h->containers[i]->info.id, id)) {
                        if (ret_idx)
                                *ret_idx = i;
                        return h->containers[i];
                }
        return NULL;
}

/* A pidfd for pid if it still is the process that started at start_time (0: unchecked). */
static int open_verified(pid_t pid, uint64_t start_time)
{
        uint64_t t;

        if (pid <= 0)
                return -ESRCH;
        int fd = pidfd_open(pid, 0);
        if (fd < 0)
                return negative_errno();
        if (start_time != 0 && (host_proc_start_time(pid, &t) < 0 || t != start_time)) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static bool pidfd_exited(int fd)
{
        struct pollfd p = {fd, POLLIN, 0};

        return fd < 0 || poll(&p, 1, 0) != 0;
}

static void apply_exit(HostContainer *c, HostExit *e)
{
        c->info.state = CONTAINER_EXITED;
        c->info.pid = 0;
        c->info.exit_code = e->exit_code;
        c->info.finished_at = e->finished_at;
        free(c->info.reason);
        free(c->info.message);
        c->info.reason = TAKE_PTR(e->reason);
        c->info.message = TAKE_PTR(e->message);
}

/* Records an exit nobody saw (shim lost), as the kubelet does for lost containers. */
static int record_lost(HostContainer *c, const char *message)
{
        HostExit e = {
            .exit_code = LOST_EXIT_CODE,
            .finished_at = now_usec(CLOCK_REALTIME),
            .reason = strdup(LOST_REASON),
            .message = strdup(message),
        };
        int r = host_exit_write(c->dir, &e);

        apply_exit(c, &e);
        host_exit_done(&e);
        return r;
}

static int on_report(sd_event_source *s, void *userdata);

/* Calls on_exit from the loop, once per container (exit-reported marks it done on disk). */
static int schedule_report(HostContainer *c)
{
        int r;

        if (c->report_source)
                return 0;
        r = sd_event_add_defer(c->host->event, &c->report_source, on_report, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->report_source, "runtime-host-report");
        return sd_event_source_set_enabled(c->report_source, SD_EVENT_ONESHOT);
}

static int on_report(sd_event_source *s, void *userdata)
{
        HostContainer *c = userdata;
        Runtime *owner = c->host->owner;
        _cleanup_free_ char *marker = strjoin(c->dir, "/exit-reported", NULL);
        char id[64];

        c->report_source = sd_event_source_disable_unref(c->report_source);
        c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
        if (marker) {
                int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                safe_close(fd);
        }
        /* the callback may remove the container: touch nothing of it afterwards */
        snprintf(id, sizeof(id), "%s", c->info.id);
        host_exec_kill_container(c->host->execs, id);
        if (owner->on_exit)
                owner->on_exit(owner, id, owner->userdata);
        return 0;
}

static bool reported(HostContainer *c)
{
        _cleanup_free_ char *marker = strjoin(c->dir, "/exit-reported", NULL);

        return marker && access(marker, F_OK) == 0;
}

static void kill_all(HostContainer *c)
{
        if (c->cg)
                (void)host_cgroup_kill(c->cg, SIGKILL);
        if (c->main_pidfd >= 0)
                (void)pidfd_send_signal(c->main_pidfd, SIGKILL, NULL, 0);
}

static int on_main_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        HostContainer *c = userdata;
        siginfo_t si = {};

        /* the orphaned command of a lost shim ended: its status went to someone else */
        (void)waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
        c->main_source = sd_event_source_disable_unref(c->main_source);
        kill_all(c);
        (void)record_lost(c, "the container's shim was lost; its command ended with an unknown status");
        return schedule_report(c);
}

static int watch_main(HostContainer *c)
{
        int r = sd_event_add_io(c->host->event, &c->main_source, c->main_pidfd, EPOLLIN, on_main_exit, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->main_source, "runtime-host-main-pid");
        return 0;
}

/* The shim is gone: take its exit.json, or decide what the missing one means. */
static int finish(HostContainer *c)
{
        HostExit e = {};
        int r;

        r = host_exit_load(c->dir, &e);
        if (r >= 0) {
                apply_exit(c, &e);
                host_exit_done(&e);
                return schedule_report(c);
        }
        if (c->info.state == CONTAINER_RUNNING && !pidfd_exited(c->main_pidfd))
                return watch_main(c);
        kill_all(c);
        (void)record_lost(c, c->info.state == CONTAINER_RUNNING
                                 ? "the container's shim ended without recording an exit status"
                                 : "the container's shim ended before starting the command");
        return schedule_report(c);
}

static int on_shim_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        HostContainer *c = userdata;
        siginfo_t si = {};

        /* our child when we started it: reap; ECHILD for an adopted one is fine */
        (void)waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
        c->shim_source = sd_event_source_disable_unref(c->shim_source);
        c->shim_pidfd = safe_close(c->shim_pidfd);
        return finish(c);
}

static int watch_shim(HostContainer *c)
{
        int r = sd_event_add_io(c->host->event, &c->shim_source, c->shim_pidfd, EPOLLIN, on_shim_exit, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->shim_source, "runtime-host-shim");
        return 0;
}

static int set_str(char **dst, const char *s)
{
        free(*dst);
        *dst = s ? strdup(s) : NULL;
        return !s || *dst ? 0 : -ENOMEM;
}

static int fill_identity(HostContainer *c, const HostConfig *cfg)
{
        RuntimeContainer *i = &c->info;

        if (set_str(&i->id, cfg->id) < 0 || set_str(&i->pod_uid, cfg->pod_uid) < 0 ||
            set_str(&i->pod_name, cfg->pod_name) < 0 || set_str(&i->pod_namespace, cfg->pod_namespace) < 0 ||
            set_str(&i->container_name, cfg->container_name) < 0 || set_str(&i->image, cfg->image) < 0 ||
            set_str(&i->log_path, cfg->log_path) < 0)
                return -ENOMEM;
        i->attempt = cfg->attempt;
        i->created_at = cfg->created_at;
        i->state = CONTAINER_CREATED;
        return 0;
}

/* The shim of dir when state.json is not written yet: its command line is "X shim DIR". */
static pid_t find_shim(const char *dir)
{
        DIR *d = opendir("/proc");
        pid_t found = 0;

        if (!d)
                return 0;
        for (struct dirent *de; !found && (de = readdir(d));) {
                char path[64];
                _cleanup_free_ char *cmd = NULL;
                size_t size;
                pid_t pid = (pid_t)atoi(de->d_name);

                if (pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
                if (read_full_file(path, 65536, &cmd, &size) < 0)
                        continue;
                size_t a = strnlen(cmd, size);
                if (a + 1 >= size || !streq(cmd + a + 1, "shim"))
                        continue;
                const char *arg = cmd + a + 1 + 5;
                if ((size_t)(arg - cmd) < size && streq(arg, dir))
                        found = pid;
        }
        closedir(d);
        return found;
}

static int adopt(HostContainer *c)
{
        HostExit e = {};
        HostState st = {};
        bool has_state = host_state_load(c->dir, &st) >= 0;

        if (c->shim_pidfd < 0) {
                pid_t shim = has_state ? st.shim_pid : find_shim(c->dir);
                c->shim_pidfd = open_verified(shim, has_state ? st.shim_start : 0);
        }
        if (host_exit_load(c->dir, &e) >= 0) {
                c->info.started_at = has_state ? st.started_at : 0;
                apply_exit(c, &e);
                host_exit_done(&e);
                if (c->shim_pidfd >= 0)
                        return watch_shim(c);
                return reported(c) ? 0 : schedule_report(c);
        }
        if (has_state) {
                c->info.started_at = st.started_at;
                c->info.pid = st.pid;
                c->main_pidfd = open_verified(st.pid, st.pid_start);
        }
        if (c->shim_pidfd >= 0) {
                c->info.state = has_state ? CONTAINER_RUNNING : CONTAINER_CREATED;
                return watch_shim(c);
        }
        if (has_state && c->main_pidfd >= 0 && !pidfd_exited(c->main_pidfd)) {
                c->info.state = CONTAINER_RUNNING;
                return watch_main(c);
        }
        kill_all(c);
        (void)record_lost(c, "neither the container's shim nor its command was found running");
        return schedule_report(c);
}

static int container_load(RuntimeHost *h, const char *id, int shim_pidfd, HostContainer **ret)
{
        _cleanup_(container_freep) HostContainer *c = NULL;
        _cleanup_(host_config_freep) HostConfig *cfg = NULL;
        _cleanup_free_ char *rel = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(shim_pidfd);
                return -ENOMEM;
        }
        c->host = h;
        c->shim_pidfd = shim_pidfd;
        c->main_pidfd = -EBADF;
        c->ready_fd = -EBADF;
        c->dir = strjoin(h->containers_dir, "/", id, NULL);
        if (!c->dir)
                return -ENOMEM;
        r = host_config_load(c->dir, &cfg);
        if (r < 0)
                return r;
        if (!streq(cfg->id, id))
                return -EBADMSG;
        r = fill_identity(c, cfg);
        if (r < 0)
                return r;
        r = host_cgroup_relative(cfg->cgroup_name ? cfg->cgroup_name : "berth",
                                 cfg->pod_uid ? cfg->pod_uid : "none", cfg->id, &rel);
        if (r >= 0 && host_cgroup_new(&c->cg, NULL, rel) < 0)
                c->cg = NULL;
        c->cfg = TAKE_PTR(cfg); /* for execs */
        r = adopt(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static int add_container(RuntimeHost *h, HostContainer *c)
{
        HostContainer **n = realloc(h->containers, (h->n + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        h->containers = n;
        h->containers[h->n++] = c;
        return 0;
}

static int scan(RuntimeHost *h)
{
        DIR *d = opendir(h->containers_dir);

        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                HostContainer *c = NULL;

                if (de->d_name[0] == '.' || find(h, de->d_name, NULL))
                        continue;
                int r = container_load(h, de->d_name, -EBADF, &c);
                if (r < 0) {
                        log_debug_errno(r, "Skipping container directory %s: %m", de->d_name);
                        continue;
                }
                if (add_container(h, c) < 0) {
                        container_free(c);
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        return 0;
}

int runtime_host_new(RuntimeHost **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts)
{
        RuntimeHost *h;
        int r;

        if (isempty(opts->state_dir))
                return -EINVAL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->owner = owner;
        h->event = sd_event_ref(e);
        h->containers_dir = strjoin(opts->state_dir, "/containers", NULL);
        h->cgroup_name = strdup(opts->cgroup_name ? opts->cgroup_name : "berth");
        h->shim_path = strdup(opts->shim_path ? opts->shim_path : "/proc/self/exe");
        if (!h->containers_dir || !h->cgroup_name || !h->shim_path) {
                runtime_host_free(h);
                return -ENOMEM;
        }
        r = mkdir_p(h->containers_dir, 0700);
        if (r >= 0)
                r = scan(h);
        if (r < 0) {
                runtime_host_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

RuntimeHost *runtime_host_free(RuntimeHost *h)
{
        if (!h)
                return NULL;
        host_exec_cancel_all(&h->execs);
        for (size_t i = 0; i < h->n; i++)
                container_free(h->containers[i]);
        free(h->containers);
        free(h->containers_dir);
        free(h->cgroup_name);
        free(h->shim_path);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}

static int random_id(char ret[static 33])
{
        uint8_t b[16];

        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return negative_errno();
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* The shim's environment: ours plus the ready fd number. Built before fork. */
static char **shim_env(void)
{
        size_t n = 0;
        char **env;

        while (environ && environ[n])
                n++;
        env = calloc(n + 2, sizeof(char *));
        if (!env)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!startswith(environ[i], HOST_SHIM_READY_FD_ENV "="))
                        env[k++] = environ[i];
        env[k] = (char *)HOST_SHIM_READY_FD_ENV "=3";
        return env;
}

/* fork+exec "<shim> shim <dir>". Returns the shim's pidfd and, in *ret_ready, the read end
 * of the pipe on which the shim reports that the command runs (watched on the loop). */
static int spawn_shim(RuntimeHost *h, const char *dir, int *ret_ready)
{
        _cleanup_free_ char **env = shim_env();
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        char *argv[] = {h->shim_path, (char *)"shim", (char *)dir, NULL};
        int fds[2], pidfd;

        if (!env)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        rd = fds[0];
        wr = fds[1];
        pid_t pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                sigset_t none;
                if (wr == HOST_SHIM_READY_FD)
                        (void)fcntl(wr, F_SETFD, 0);
                else if (dup2(wr, HOST_SHIM_READY_FD) < 0)
                        _exit(127);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execve(h->shim_path, argv, env);
                _exit(127);
        }
        wr = safe_close(wr);
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                int r = negative_errno();
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        *ret_ready = TAKE_FD(rd);
        return pidfd;
}

/* The shim wrote its ready byte (or closed the pipe): the command runs, or it failed and
 * the shim's exit reports that. */
static int on_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        HostContainer *c = userdata;
        Runtime *owner = c->host->owner;
        HostState st = {};
        char byte = 0, id[64];

        (void)!read(fd, &byte, 1);
        c->ready_source = sd_event_source_disable_unref(c->ready_source);
        c->ready_fd = safe_close(c->ready_fd);
        if (byte != 'R' || c->info.state != CONTAINER_CREATED || host_state_load(c->dir, &st) < 0)
                return 0;
        c->info.state = CONTAINER_RUNNING;
        c->info.started_at = st.started_at;
        c->info.pid = st.pid;
        c->main_pidfd = open_verified(st.pid, st.pid_start);
        snprintf(id, sizeof(id), "%s", c->info.id);
        if (owner->on_start)
                owner->on_start(owner, id, owner->start_userdata);
        return 0;
}

static int watch_ready(HostContainer *c, int fd)
{
        int r;

        c->ready_fd = fd;
        r = sd_event_add_io(c->host->event, &c->ready_source, fd, EPOLLIN, on_ready, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->ready_source, "runtime-host-ready");
        return 0;
}

int runtime_host_start(RuntimeHost *h, const RuntimeContainerConfig *cfg, char **ret_id)
{
        _cleanup_free_ char *dir = NULL, *json = NULL, *path = NULL, *id_copy = NULL;
        HostContainer *c = NULL;
        char id[33];
        int r, pidfd, ready_fd = -EBADF;

        if (!cfg->argv || isempty(cfg->argv[0]))
                return -EINVAL;
        if (cfg->pod_uid &&
            (strchr(cfg->pod_uid, '/') || isempty(cfg->pod_uid) || streq(cfg->pod_uid, "..")))
                return -EINVAL;
        r = random_id(id);
        if (r < 0)
                return r;
        dir = strjoin(h->containers_dir, "/", id, NULL);
        path = strjoin(h->containers_dir, "/", id, "/config.json", NULL);
        id_copy = strdup(id);
        if (!dir || !path || !id_copy)
                return -ENOMEM;
        r = host_config_format(cfg, id, h->cgroup_name, now_usec(CLOCK_REALTIME), &json);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0)
                return negative_errno();
        r = write_file_atomic(path, json, strlen(json), 0600);
        if (r < 0)
                goto out_rm;
        pidfd = spawn_shim(h, dir, &ready_fd);
        if (pidfd < 0) {
                r = pidfd;
                goto out_rm;
        }
        /* from here on the shim owns the directory: failures surface as exit.json */
        r = container_load(h, id, pidfd, &c);
        if (r < 0) {
                safe_close(ready_fd);
                return r;
        }
        r = watch_ready(c, ready_fd);
        if (r < 0) {
                container_free(c);
                return r;
        }
        r = add_container(h, c);
        if (r < 0) {
                container_free(c);
                return r;
        }
        *ret_id = TAKE_PTR(id_copy);
        return 0;
out_rm:
        (void)rm_rf(dir);
        return r;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        HostContainer *c = userdata;

        /* the grace period is over: SIGKILL everything, again until the shim reports */
        kill_all(c);
        (void)sd_event_source_set_time(s, now_usec(CLOCK_MONOTONIC) + KILL_REPEAT_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int runtime_host_stop(RuntimeHost *h, const char *id, usec_t grace)
{
        HostContainer *c = find(h, id, NULL);
        usec_t when;
        int r;

        if (!c)
                return -ENOENT;
        if (c->info.state == CONTAINER_EXITED)
                return 0;
        if (grace > 0 && c->main_pidfd >= 0)
                (void)pidfd_send_signal(c->main_pidfd, SIGTERM, NULL, 0);
        else {
                kill_all(c);
                grace = KILL_REPEAT_USEC;
        }
        when = now_usec(CLOCK_MONOTONIC) + grace;
        if (c->kill_timer) {
                uint64_t cur;
                if (sd_event_source_get_time(c->kill_timer, &cur) >= 0 && cur < when)
                        return 0; /* an earlier kill is already due */
                r = sd_event_source_set_time(c->kill_timer, when);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(c->kill_timer, SD_EVENT_ONESHOT);
        }
        r = sd_event_add_time(h->event, &c->kill_timer, CLOCK_MONOTONIC, when, 10 * USEC_PER_MSEC,
                              on_kill_timer, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->kill_timer, "runtime-host-kill");
        return 0;
}

int runtime_host_remove(RuntimeHost *h, const char *id)
{
        size_t idx;
        HostContainer *c = find(h, id, &idx);
        int r;

        if (!c)
                return -ENOENT;
        if (c->info.state != CONTAINER_EXITED || c->shim_source || c->main_source)
                return -EBUSY;
        if (c->cg) {
                r = host_cgroup_remove(c->cg);
                if (r < 0)
                        return r;
        }
        r = rm_rf(c->dir);
        if (r < 0)
                return r;
        memmove(h->containers + idx, h->containers + idx + 1, (h->n - idx - 1) * sizeof(*h->containers));
        h->n--;
        container_free(c);
        return 0;
}

int runtime_host_status(RuntimeHost *h, const char *id, RuntimeContainer *ret)
{
        HostContainer *c = find(h, id, NULL);

        if (!c)
                return -ENOENT;
        return runtime_container_copy(&c->info, ret);
}

static const RuntimeContainer *info_at(void *userdata, size_t i)
{
        RuntimeHost *h = userdata;

        return &h->containers[i]->info;
}

int runtime_host_list(RuntimeHost *h, RuntimeContainer **ret, size_t *ret_n)
{
        return runtime_container_list_copy(h->n, info_at, h, ret, ret_n);
}

int runtime_host_exec(RuntimeHost *h, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                      runtime_exec_done_t done, void *userdata, RuntimeExec **ret)
{
        HostContainer *c = find(h, id, NULL);

        if (!c)
                return -ENOENT;
        if (c->info.state != CONTAINER_RUNNING)
                return -ESRCH;
        /* never outside the container's cgroups; it could only have started with them */
        if (!c->cg)
                return -EOPNOTSUPP;
        HostExecTarget t = {.event = h->event,
                            .id = c->info.id,
                            .cfg = c->cfg,
                            .cg = c->cg,
                            .main_pidfd = c->main_pidfd,
                            .execs = &h->execs};
        return host_exec_start(&t, argv, timeout, max_output, done, userdata, ret);
}
