/* The host backend end to end: real shims, real cgroups, real processes. Needs root and
 * writable cgroups; skips otherwise, except under CI=true where it fails instead. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-cgroup.h"
#include "runtime.h"

static char tmpdir[] = "/tmp/berth-test-runtime-host-XXXXXX";
static char cgname[64];
static sd_event *event;
static Runtime *rt;
static char *exited[32];
static size_t n_exited;

static void on_exit_cb(Runtime *r, const char *id, void *userdata)
{
        cr_assert_lt(n_exited, ELEMENTSOF(exited));
        exited[n_exited++] = strdup(id);
}

static bool cgroups_writable(void)
{
        HostCgroup *cg = NULL;
        bool ok = false;
        char rel[128];

        snprintf(rel, sizeof(rel), "%s-probe/pod-x/y", cgname);
        if (host_cgroup_new(&cg, NULL, rel) < 0)
                return false;
        ok = host_cgroup_create(cg) >= 0;
        host_cgroup_remove(cg);
        for (size_t i = 0; i < cg->n; i++) {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s-probe", cg->roots[i], cgname);
                rmdir(p);
        }
        host_cgroup_free(cg);
        return ok;
}

static char *started[16];
static size_t n_started;

static void on_start_cb(Runtime *r, const char *id, void *userdata)
{
        if (n_started < 16)
                started[n_started++] = strdup(id);
}

static void new_runtime(void)
{
        RuntimeOptions o = {
            .type = RUNTIME_HOST,
            .state_dir = tmpdir,
            .cgroup_name = cgname,
            .shim_path = getenv("BERTH_TEST_SHIM"),
        };

        cr_assert_not_null(o.shim_path, "BERTH_TEST_SHIM is not set");
        cr_assert_eq(runtime_new(&rt, event, &o), 0);
        runtime_set_on_exit(rt, on_exit_cb, NULL);
        runtime_set_on_start(rt, on_start_cb, NULL);
}

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmpdir));
        snprintf(cgname, sizeof(cgname), "berth-test-%d", (int)getpid());
        if (geteuid() != 0 || !cgroups_writable()) {
                if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
                        cr_assert_fail("the host runtime test needs root and writable cgroups (CI=true)");
                rm_rf(tmpdir);
                cr_skip_test("needs root and writable cgroups (run as root; CI=true makes this a failure)");
        }
        cr_assert_eq(sd_event_new(&event), 0);
        new_runtime();
}

/* Only the empty top directory of ours may be left in any hierarchy (so no process is). */
static void teardown(void)
{
        HostCgroup *cg = NULL;

        runtime_free(rt);
        rt = NULL;
        sd_event_unref(event);
        event = NULL;
        for (size_t i = 0; i < n_exited; i++)
                free(exited[i]);
        n_exited = 0;
        for (size_t i = 0; i < n_started; i++)
                free(started[i]);
        n_started = 0;
        cr_assert_eq(host_cgroup_new(&cg, NULL, "x/y/z"), 0);
        for (size_t i = 0; i < cg->n; i++) {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s", cg->roots[i], cgname);
                int k = rmdir(p) < 0 ? errno : 0;
                cr_expect(k == 0 || k == ENOENT, "left behind: %s: %s", p, strerror(k));
        }
        host_cgroup_free(cg);
        cr_assert_eq(rm_rf(tmpdir), 0);
}

TestSuite(runtime_host, .init = setup, .fini = teardown, .timeout = 60);

static char *start(RuntimeContainerConfig *cfg, char **argv)
{
        char *id = NULL;
        char log[512];
        static char *env[] = {"PATH=/usr/bin:/bin", "HOME=/", NULL};

        snprintf(log, sizeof(log), "%s/logs/%s.log", tmpdir,
                 cfg->container_name ? cfg->container_name : "c");
        cfg->pod_uid = "uid-1";
        cfg->pod_name = "pod";
        cfg->pod_namespace = "default";
        if (!cfg->container_name)
                cfg->container_name = "c";
        cfg->argv = argv;
        if (!cfg->env)
                cfg->env = env;
        cfg->log_path = strdup(log);
        cr_assert_eq(runtime_start_container(rt, cfg, &id), 0);
        free((char *)cfg->log_path);
        cr_assert_not_null(id);
        cr_assert_eq(strlen(id), 32);
        /* the start does not wait for the shim: run the loop until the command runs (or
         * could not be started) */
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        for (;;) {
                RuntimeContainer c = {0};
                cr_assert_eq(runtime_container_status(rt, id, &c), 0);
                ContainerState st = c.state;
                runtime_container_done(&c);
                if (st != CONTAINER_CREATED)
                        break;
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), deadline, "the container never left CREATED");
                cr_assert_geq(sd_event_run(event, 100 * USEC_PER_MSEC), 0);
        }
        return id;
}

static void wait_exit(const char *id)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;

        for (;;) {
                for (size_t i = 0; i < n_exited; i++)
                        if (strcmp(exited[i], id) == 0)
                                return;
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), deadline, "container %s did not exit", id);
                cr_assert_geq(sd_event_run(event, 100 * USEC_PER_MSEC), 0);
        }
}

static RuntimeContainer status(const char *id)
{
        RuntimeContainer c;

        cr_assert_eq(runtime_container_status(rt, id, &c), 0);
        return c;
}

/* Gone, or a zombie waiting for a reaper that is not ours (an orphan of a lost shim). */
static bool process_gone(pid_t pid)
{
        char p[64];
        _cleanup_free_ char *s = NULL;

        if (kill(pid, 0) < 0 && errno == ESRCH)
                return true;
        snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        if (read_full_file(p, 4096, &s, NULL) < 0)
                return true;
        const char *paren = strrchr(s, ')');
        return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* Removes the container and checks that its processes, cgroup and directory are gone. */
static void remove_and_check(const char *id, pid_t pid)
{
        char p[512];
        HostCgroup *cg = NULL;

        cr_assert_eq(runtime_remove_container(rt, id), 0);
        cr_assert_eq(runtime_container_status(rt, id, &(RuntimeContainer){0}), -ENOENT);
        snprintf(p, sizeof(p), "%s/containers/%s", tmpdir, id);
        cr_assert_neq(access(p, F_OK), 0);
        snprintf(p, sizeof(p), "%s/pod-uid-1/%s", cgname, id);
        cr_assert_eq(host_cgroup_new(&cg, NULL, p), 0);
        for (size_t i = 0; i < cg->n; i++)
                cr_assert_neq(access(cg->dirs[i], F_OK), 0, "cgroup left: %s", cg->dirs[i]);
        host_cgroup_free(cg);
        if (pid > 0)
                cr_assert(process_gone(pid), "process %d still exists", (int)pid);
}

static char *read_log(const char *name)
{
        char p[512];
        char *out = NULL;

        snprintf(p, sizeof(p), "%s/logs/%s.log", tmpdir, name);
        cr_assert_eq(runtime_log_read(p, 0, false, -1, &out, NULL, NULL), 0);
        return out;
}

Test(runtime_host, runs_a_command_and_records_exit_code_and_logs)
{
        RuntimeContainerConfig cfg = {.container_name = "sh"};
        char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
        _cleanup_free_ char *id = start(&cfg, argv), *log = NULL, *raw = NULL;
        char p[512];

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 3);
        cr_assert_str_eq(c.reason, "Error");
        cr_assert_str_eq(c.pod_uid, "uid-1");
        cr_assert_str_eq(c.container_name, "sh");
        cr_assert_gt(c.started_at, 0);
        cr_assert_geq(c.finished_at, c.started_at);
        runtime_container_done(&c);

        log = read_log("sh");
        cr_assert(strstr(log, "out\n") && strstr(log, "err\n") && strlen(log) == 8, "log: %s", log);
        snprintf(p, sizeof(p), "%s/logs/sh.log", tmpdir);
        cr_assert_eq(read_full_file(p, 1 << 20, &raw, NULL), 0);
        cr_assert(strstr(raw, "Z stdout F out\n") && strstr(raw, "Z stderr F err\n"), "raw: %s", raw);

        RuntimeContainer *l = NULL;
        size_t n = 0;
        cr_assert_eq(runtime_list_containers(rt, &l, &n), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(l[0].id, id);
        runtime_container_array_free(l, n);
        remove_and_check(id, 0);
}

Test(runtime_host, stops_at_once_with_sigkill_when_grace_is_zero)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);

        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_eq(runtime_remove_container(rt, id), -EBUSY);
        cr_assert_eq(runtime_stop_container(rt, id, 0), 0);
        wait_exit(id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(rt, id, 0), 0); /* exited: a no-op */
        cr_assert_eq(runtime_stop_container(rt, "nope", 0), -ENOENT);
        remove_and_check(id, pid);
}

Test(runtime_host, stops_with_sigterm_within_grace)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);
        usec_t t0 = now_usec(CLOCK_MONOTONIC);

        cr_assert_eq(runtime_stop_container(rt, id, 2 * USEC_PER_SEC), 0);
        wait_exit(id);
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - t0, 2 * USEC_PER_SEC, "SIGTERM should end sleep at once");
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 143);
        runtime_container_done(&c);
        remove_and_check(id, 0);
}

Test(runtime_host, reports_start_error_for_a_missing_binary)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"no-such-binary-berth", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 128);
        cr_assert_str_eq(c.reason, "StartError");
        cr_assert_str_eq(c.message, "exec: \"no-such-binary-berth\": executable file not found in $PATH");
        runtime_container_done(&c);
        remove_and_check(id, 0);
}

Test(runtime_host, writes_the_memory_limit_to_the_cgroup)
{
        RuntimeContainerConfig cfg = {
            .memory_limit_bytes = 64 << 20, .cpu_limit_milli = 500, .cpu_request_milli = 250};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);
        HostCgroup *cg = NULL;
        char rel[256];
        bool found = false;

        snprintf(rel, sizeof(rel), "%s/pod-uid-1/%s", cgname, id);
        cr_assert_eq(host_cgroup_new(&cg, NULL, rel), 0);
        for (size_t i = 0; i < cg->n; i++) {
                if (!(cg->masks[i] & HOST_CGROUP_MEMORY))
                        continue;
                char p[512];
                _cleanup_free_ char *v = NULL;
                snprintf(p, sizeof(p), "%s/%s", cg->dirs[i],
                         cg->v2 ? "memory.max" : "memory.limit_in_bytes");
                cr_assert_eq(read_one_line_file(p, &v), 0);
                cr_assert_str_eq(v, "67108864");
                found = true;
        }
        cr_assert(found);
        cr_assert_eq(host_cgroup_count(cg), 1, "the command runs inside its cgroup");
        host_cgroup_free(cg);
        cr_assert_eq(runtime_stop_container(rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id, 0);
}

Test(runtime_host, runs_as_the_requested_user_under_seccomp)
{
        RuntimeContainerConfig cfg = {.container_name = "id",
                                      .set_uid = true,
                                      .uid = 65534,
                                      .set_gid = true,
                                      .gid = 65534,
                                      .no_new_privs = true,
                                      .seccomp_runtime_default = true};
        char *argv[] = {"sh", "-c", "id -u; id -G", NULL};
        _cleanup_free_ char *id = start(&cfg, argv), *log = NULL;

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 0);
        cr_assert_str_eq(c.reason, "Completed");
        runtime_container_done(&c);
        log = read_log("id");
        cr_assert_str_eq(log, "65534\n65534\n");
        remove_and_check(id, 0);
}

Test(runtime_host, adopts_a_running_container_after_a_restart)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "2", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);

        runtime_free(rt);
        rt = NULL;
        new_runtime();
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        runtime_container_done(&c);
        wait_exit(id);
        c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 0);
        cr_assert_str_eq(c.reason, "Completed");
        runtime_container_done(&c);

        /* once reported, a later restart does not report it again */
        size_t before = n_exited;
        runtime_free(rt);
        rt = NULL;
        new_runtime();
        for (int i = 0; i < 5; i++)
                cr_assert_geq(sd_event_run(event, 10 * USEC_PER_MSEC), 0);
        cr_assert_eq(n_exited, before);
        c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        runtime_container_done(&c);
        remove_and_check(id, 0);
}

static pid_t shim_pid_of(const char *id)
{
        char p[512];
        _cleanup_free_ char *s = NULL;

        snprintf(p, sizeof(p), "%s/containers/%s/state.json", tmpdir, id);
        cr_assert_eq(read_full_file(p, 65536, &s, NULL), 0);
        const char *k = strstr(s, "\"shimPid\":");
        cr_assert_not_null(k);
        return (pid_t)atoi(k + strlen("\"shimPid\":"));
}

Test(runtime_host, keeps_watching_the_command_of_a_lost_shim)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv);
        pid_t shim = shim_pid_of(id);

        cr_assert_gt(shim, 0);
        cr_assert_eq(kill(shim, SIGKILL), 0);
        /* the shim's end is seen, the command still runs: not exited yet */
        for (int i = 0; i < 20; i++)
                cr_assert_geq(sd_event_run(event, 10 * USEC_PER_MSEC), 0);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_eq(n_exited, 0);

        cr_assert_eq(runtime_stop_container(rt, id, 0), 0);
        wait_exit(id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "ContainerStatusUnknown");
        cr_assert_not_null(c.message);
        runtime_container_done(&c);
        remove_and_check(id, pid);
}

Test(runtime_host, returns_before_the_command_runs_and_reports_the_start)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        static char *env[] = {"PATH=/usr/bin:/bin", NULL};
        char log[512];
        char *id = NULL;
        RuntimeContainer c = {0};

        snprintf(log, sizeof(log), "%s/async.log", tmpdir);
        cfg = (RuntimeContainerConfig){.pod_uid = "uid-2",
                                       .pod_name = "p",
                                       .pod_namespace = "default",
                                       .container_name = "c",
                                       .argv = argv,
                                       .env = env,
                                       .log_path = log};
        cr_assert_eq(runtime_start_container(rt, &cfg, &id), 0);
        /* nothing has run the loop yet: the shim cannot have been heard from */
        cr_assert_eq(runtime_container_status(rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_CREATED);
        runtime_container_done(&c);
        cr_assert_eq(n_started, 0);
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (n_started == 0 && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(event, 100 * USEC_PER_MSEC), 0);
        cr_assert_eq(n_started, 1);
        cr_assert_str_eq(started[0], id);
        cr_assert_eq(runtime_container_status(rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        cr_assert_gt(c.started_at, 0);
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id, 0);
        free(id);
}

Test(runtime_host, prepares_ahead_and_execs_at_the_start_time)
{
        static char *env[] = {"PATH=/usr/bin:/bin", NULL};
        char *argv[] = {"sleep", "1000", NULL};
        usec_t start_at = now_usec(CLOCK_REALTIME) + 1500 * USEC_PER_MSEC;
        RuntimeContainerConfig cfg;
        RuntimeContainer c = {0};
        char log[512], *id = NULL;

        snprintf(log, sizeof(log), "%s/at.log", tmpdir);
        cfg = (RuntimeContainerConfig){.pod_uid = "uid-3",
                                       .pod_name = "p",
                                       .pod_namespace = "default",
                                       .container_name = "c",
                                       .argv = argv,
                                       .env = env,
                                       .log_path = log,
                                       .start_at = start_at};
        cr_assert_eq(runtime_start_container(rt, &cfg, &id), 0);
        /* half a second of loop: set up, but not running yet */
        usec_t until = now_usec(CLOCK_MONOTONIC) + 500 * USEC_PER_MSEC;
        while (now_usec(CLOCK_MONOTONIC) < until)
                cr_assert_geq(sd_event_run(event, 50 * USEC_PER_MSEC), 0);
        cr_assert_eq(runtime_container_status(rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_CREATED);
        runtime_container_done(&c);
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (n_started == 0 && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(event, 100 * USEC_PER_MSEC), 0);
        cr_assert_eq(runtime_container_status(rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        /* the exec happened at or after the start time (state.json records it after exec) */
        cr_assert_geq(c.started_at, start_at, "started %llu before %llu", (unsigned long long)c.started_at,
                      (unsigned long long)start_at);
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id, 0);
        free(id);
}
