/* The host backend end to end: real shims, real cgroups, real processes. Needs root and
 * writable cgroups; skips otherwise, except under CI=true where it fails instead. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-fixture.h"

static RuntimeFixture fx;

static void setup(void)
{
        runtime_fixture_setup(&fx, "runtime-host");
}

static void teardown(void)
{
        runtime_fixture_teardown(&fx);
}

TestSuite(runtime_host, .init = setup, .fini = teardown, .timeout = 60);

static RuntimeContainer status(const char *id)
{
        RuntimeContainer c;

        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        return c;
}

static char *read_log(const char *name)
{
        char p[512];
        char *out = NULL;

        snprintf(p, sizeof(p), "%s/logs/%s.log", fx.tmpdir, name);
        cr_assert_eq(runtime_log_read(p, 0, false, -1, &out, NULL, NULL), 0);
        return out;
}

Test(runtime_host, runs_a_command_and_records_exit_code_and_logs)
{
        RuntimeContainerConfig cfg = {.container_name = "sh"};
        char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv), *log = NULL, *raw = NULL;
        char p[512];

        runtime_fixture_wait_exit(&fx, id);
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
        snprintf(p, sizeof(p), "%s/logs/sh.log", fx.tmpdir);
        cr_assert_eq(read_full_file(p, 1 << 20, &raw, NULL), 0);
        cr_assert(strstr(raw, "Z stdout F out\n") && strstr(raw, "Z stderr F err\n"), "raw: %s", raw);

        RuntimeContainer *l = NULL;
        size_t n = 0;
        cr_assert_eq(runtime_list_containers(fx.rt, &l, &n), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(l[0].id, id);
        runtime_container_array_free(l, n);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(runtime_host, stops_at_once_with_sigkill_when_grace_is_zero)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);

        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_eq(runtime_remove_container(fx.rt, id), -EBUSY);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0); /* exited: a no-op */
        cr_assert_eq(runtime_stop_container(fx.rt, "nope", 0), -ENOENT);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

Test(runtime_host, stops_with_sigterm_within_grace)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        usec_t t0 = now_usec(CLOCK_MONOTONIC);

        cr_assert_eq(runtime_stop_container(fx.rt, id, 2 * USEC_PER_SEC), 0);
        runtime_fixture_wait_exit(&fx, id);
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - t0, 2 * USEC_PER_SEC, "SIGTERM should end sleep at once");
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 143);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(runtime_host, reports_start_error_for_a_missing_binary)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"no-such-binary-berth", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);

        runtime_fixture_wait_exit(&fx, id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 128);
        cr_assert_str_eq(c.reason, "StartError");
        cr_assert_str_eq(c.message, "exec: \"no-such-binary-berth\": executable file not found in $PATH");
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(runtime_host, writes_the_memory_limit_to_the_cgroup)
{
        RuntimeContainerConfig cfg = {
            .memory_limit_bytes = 64 << 20, .cpu_limit_milli = 500, .cpu_request_milli = 250};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        HostCgroup *cg = runtime_fixture_cgroup(&fx, id);
        bool found = false;

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
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        runtime_fixture_remove_and_check(&fx, id, 0);
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
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv), *log = NULL;

        runtime_fixture_wait_exit(&fx, id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 0);
        cr_assert_str_eq(c.reason, "Completed");
        runtime_container_done(&c);
        log = read_log("id");
        cr_assert_str_eq(log, "65534\n65534\n");
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(runtime_host, adopts_a_running_container_after_a_restart)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "2", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);

        fx.rt = runtime_free(fx.rt);
        runtime_fixture_new_runtime(&fx);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        runtime_container_done(&c);
        runtime_fixture_wait_exit(&fx, id);
        c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 0);
        cr_assert_str_eq(c.reason, "Completed");
        runtime_container_done(&c);

        /* once reported, a later restart does not report it again */
        size_t before = fx.n_exited;
        fx.rt = runtime_free(fx.rt);
        runtime_fixture_new_runtime(&fx);
        for (int i = 0; i < 5; i++)
                cr_assert_geq(sd_event_run(fx.event, 10 * USEC_PER_MSEC), 0);
        cr_assert_eq(fx.n_exited, before);
        c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

static pid_t shim_pid_of(const char *id)
{
        char p[512];
        _cleanup_free_ char *s = NULL;

        snprintf(p, sizeof(p), "%s/containers/%s/state.json", fx.tmpdir, id);
        cr_assert_eq(read_full_file(p, 65536, &s, NULL), 0);
        const char *k = strstr(s, "\"shimPid\":");
        cr_assert_not_null(k);
        return (pid_t)atoi(k + strlen("\"shimPid\":"));
}

Test(runtime_host, keeps_watching_the_command_of_a_lost_shim)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        pid_t shim = shim_pid_of(id);

        cr_assert_gt(shim, 0);
        cr_assert_eq(kill(shim, SIGKILL), 0);
        /* the shim's end is seen, the command still runs: not exited yet */
        for (int i = 0; i < 20; i++)
                cr_assert_geq(sd_event_run(fx.event, 10 * USEC_PER_MSEC), 0);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_eq(fx.n_exited, 0);

        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "ContainerStatusUnknown");
        cr_assert_not_null(c.message);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

Test(runtime_host, returns_before_the_command_runs_and_reports_the_start)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        static char *env[] = {"PATH=/usr/bin:/bin", NULL};
        char log[512];
        char *id = NULL;
        RuntimeContainer c = {0};

        snprintf(log, sizeof(log), "%s/async.log", fx.tmpdir);
        cfg = (RuntimeContainerConfig){.pod_uid = "uid-2",
                                       .pod_name = "p",
                                       .pod_namespace = "default",
                                       .container_name = "c",
                                       .argv = argv,
                                       .env = env,
                                       .log_path = log};
        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &id), 0);
        /* nothing has run the loop yet: the shim cannot have been heard from */
        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_CREATED);
        runtime_container_done(&c);
        cr_assert_eq(fx.n_started, 0);
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (fx.n_started == 0 && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(fx.event, 100 * USEC_PER_MSEC), 0);
        cr_assert_eq(fx.n_started, 1);
        cr_assert_str_eq(fx.started[0], id);
        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        cr_assert_gt(c.started_at, 0);
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        runtime_fixture_remove_and_check(&fx, id, 0);
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

        snprintf(log, sizeof(log), "%s/at.log", fx.tmpdir);
        cfg = (RuntimeContainerConfig){.pod_uid = "uid-3",
                                       .pod_name = "p",
                                       .pod_namespace = "default",
                                       .container_name = "c",
                                       .argv = argv,
                                       .env = env,
                                       .log_path = log,
                                       .start_at = start_at};
        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &id), 0);
        /* half a second of loop: set up, but not running yet */
        usec_t until = now_usec(CLOCK_MONOTONIC) + 500 * USEC_PER_MSEC;
        while (now_usec(CLOCK_MONOTONIC) < until)
                cr_assert_geq(sd_event_run(fx.event, 50 * USEC_PER_MSEC), 0);
        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_CREATED);
        runtime_container_done(&c);
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (fx.n_started == 0 && now_usec(CLOCK_MONOTONIC) < deadline)
                cr_assert_geq(sd_event_run(fx.event, 100 * USEC_PER_MSEC), 0);
        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        /* the exec happened at or after the start time (state.json records it after exec) */
        cr_assert_geq(c.started_at, start_at, "started %llu before %llu", (unsigned long long)c.started_at,
                      (unsigned long long)start_at);
        runtime_container_done(&c);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        runtime_fixture_remove_and_check(&fx, id, 0);
        free(id);
}
