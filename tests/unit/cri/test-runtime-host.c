/* The host backend end to end: real shims, real cgroups, real processes. Needs root and
 * writable cgroups; skips otherwise, except under CI=true where it fails instead. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event-run.h"
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

/* --- the dead man's switch (fence_path) --- */

#define FENCE_MAX_AGE_USEC (500 * USEC_PER_MSEC)

static void fence_path_of(char *buf, size_t size)
{
        snprintf(buf, size, "%s/fence", fx.tmpdir);
}

/* Creates the fence file, or sets its mtime to now + delta (negative: in the past). */
static void fence_set(const char *path, int64_t delta_usec)
{
        usec_t t = now_usec(CLOCK_REALTIME) + (usec_t)delta_usec;
        struct timespec ts[2] = {
            {.tv_sec = (time_t)(t / USEC_PER_SEC), .tv_nsec = (long)(t % USEC_PER_SEC) * 1000},
            {.tv_sec = (time_t)(t / USEC_PER_SEC), .tv_nsec = (long)(t % USEC_PER_SEC) * 1000}};
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        cr_assert_geq(fd, 0);
        cr_assert_eq(futimens(fd, ts), 0);
        close(fd);
}

/* Runs the loop for duration, renewing the fence every 50 ms as the agent would. */
static void run_renewing(const char *fence, usec_t duration)
{
        usec_t until = now_usec(CLOCK_MONOTONIC) + duration;

        while (now_usec(CLOCK_MONOTONIC) < until) {
                fence_set(fence, 0);
                event_run_for(fx.event, 50 * USEC_PER_MSEC);
        }
}

static bool exited(const char *id)
{
        for (size_t i = 0; i < fx.n_exited; i++)
                if (streq(fx.exited[i], id))
                        return true;
        return false;
}

/* Starts "sleep 1000" held to a fence renewed until then, and checks that it runs. */
static char *start_fenced(char *argv[], const char *fence, pid_t *ret_pid)
{
        RuntimeContainerConfig cfg = {.fence_path = fence, .fence_max_age = FENCE_MAX_AGE_USEC};
        char *id;

        fence_set(fence, 0);
        id = runtime_fixture_start(&fx, &cfg, argv);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING, "message: %s", c.message ? c.message : "(none)");
        *ret_pid = c.pid;
        runtime_container_done(&c);
        return id;
}

Test(runtime_host, keeps_a_container_running_while_its_fence_is_renewed)
{
        char fence[256];
        char *argv[] = {"sleep", "1000", NULL};
        pid_t pid;

        fence_path_of(fence, sizeof(fence));
        _cleanup_free_ char *id = start_fenced(argv, fence, &pid);

        /* three times the fence's age: renewed, it never goes stale */
        run_renewing(fence, 1500 * USEC_PER_MSEC);
        cr_assert(!exited(id), "a renewed fence killed the container");
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_eq(c.pid, pid);
        runtime_container_done(&c);
        cr_assert_eq(kill(pid, 0), 0);

        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_null(c.message, "a stop is no fence: %s", c.message);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

Test(runtime_host, kills_the_container_once_its_fence_is_not_renewed)
{
        char fence[256], want[400];
        char *argv[] = {"sh", "-c", "sleep 1000 & sleep 1000", NULL};
        pid_t pid;

        fence_path_of(fence, sizeof(fence));
        _cleanup_free_ char *id = start_fenced(argv, fence, &pid);
        HostCgroup *cg = runtime_fixture_cgroup(&fx, id);
        /* sh forks its background sleep after its own exec: give it the time */
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
        while (host_cgroup_count(cg) < 2 && now_usec(CLOCK_MONOTONIC) < deadline)
                run_renewing(fence, 20 * USEC_PER_MSEC);
        cr_assert_geq(host_cgroup_count(cg), 2, "the command and a child of its own run in the cgroup");

        run_renewing(fence, 600 * USEC_PER_MSEC);
        cr_assert(!exited(id));
        /* the last renewal: from here the container has max age + 0.5 s left */
        fence_set(fence, 0);
        usec_t last = now_usec(CLOCK_MONOTONIC);
        cr_assert(event_run_until(fx.event, (bool (*)(void *))exited, id, 10 * USEC_PER_SEC));
        usec_t took = now_usec(CLOCK_MONOTONIC) - last;
        cr_assert_gt(took, FENCE_MAX_AGE_USEC, "killed after %llu ms, before the fence was stale",
                     (unsigned long long)(took / USEC_PER_MSEC));
        cr_assert_leq(took, FENCE_MAX_AGE_USEC + 500 * USEC_PER_MSEC, "killed only after %llu ms",
                      (unsigned long long)(took / USEC_PER_MSEC));

        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        snprintf(want, sizeof(want),
                 "fenced: %s not renewed for more than 0.5s (the agent's lease in the coordinator)", fence);
        cr_assert_str_eq(c.message, want);
        runtime_container_done(&c);
        /* the whole cgroup, not only the main process */
        cr_assert_eq(host_cgroup_count(cg), 0);
        host_cgroup_free(cg);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

Test(runtime_host, kills_the_container_when_its_fence_file_is_deleted)
{
        char fence[256];
        char *argv[] = {"sleep", "1000", NULL};
        pid_t pid;

        fence_path_of(fence, sizeof(fence));
        _cleanup_free_ char *id = start_fenced(argv, fence, &pid);

        run_renewing(fence, 300 * USEC_PER_MSEC);
        cr_assert(!exited(id));
        cr_assert_eq(unlink(fence), 0);
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        cr_assert(event_run_until(fx.event, (bool (*)(void *))exited, id, 10 * USEC_PER_SEC));
        /* missing is stale at once: the next look, within a period of 125 ms */
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - t0, FENCE_MAX_AGE_USEC);

        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        cr_assert(c.message && strstr(c.message, "fenced: ") == c.message && strstr(c.message, fence) &&
                      strstr(c.message, "missing"),
                  "message: %s", c.message);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

/* The command would leave a marker: a start that must not happen shows by its absence. */
static void check_never_ran(const char *id, const char *marker, const char *fence)
{
        runtime_fixture_wait_exit(&fx, id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 128);
        cr_assert_str_eq(c.reason, "StartError");
        cr_assert(c.message && strstr(c.message, "fenced: ") == c.message && strstr(c.message, fence),
                  "message: %s", c.message);
        cr_assert_eq(c.started_at, 0);
        runtime_container_done(&c);
        cr_assert_neq(access(marker, F_OK), 0, "the command ran");
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(runtime_host, never_starts_a_container_with_a_stale_fence)
{
        char fence[256], marker[256], script[400];
        RuntimeContainerConfig cfg = {.fence_max_age = FENCE_MAX_AGE_USEC};

        fence_path_of(fence, sizeof(fence));
        snprintf(marker, sizeof(marker), "%s/ran", fx.tmpdir);
        snprintf(script, sizeof(script), "touch %s; sleep 1000", marker);
        char *argv[] = {"sh", "-c", script, NULL};
        fence_set(fence, -10 * (int64_t)USEC_PER_SEC);
        cfg.fence_path = fence;
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);

        check_never_ran(id, marker, fence);
        /* the next run waits a little more: the command must not come late either */
        event_run_for(fx.event, 200 * USEC_PER_MSEC);
        cr_assert_neq(access(marker, F_OK), 0, "the command ran");
}

Test(runtime_host, never_starts_a_container_whose_fence_goes_stale_before_its_start_time)
{
        char fence[256], marker[256], script[400];
        RuntimeContainerConfig cfg = {.fence_max_age = FENCE_MAX_AGE_USEC,
                                      .start_at = now_usec(CLOCK_REALTIME) + 2 * USEC_PER_SEC};
        char *id = NULL;

        fence_path_of(fence, sizeof(fence));
        snprintf(marker, sizeof(marker), "%s/ran", fx.tmpdir);
        snprintf(script, sizeof(script), "touch %s; sleep 1000", marker);
        char *argv[] = {"sh", "-c", script, NULL};
        fence_set(fence, 0);
        cfg.fence_path = fence;
        /* not the fixture's start, which would wait for the start time */
        cfg.pod_uid = "uid-1";
        cfg.argv = argv;
        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &id), 0);

        check_never_ran(id, marker, fence);
        cr_assert_lt(now_usec(CLOCK_REALTIME), cfg.start_at, "it waited for the start time to fail");
        free(id);
}

Test(runtime_host, refuses_a_relative_fence_path_or_one_without_an_age)
{
        char *argv[] = {"true", NULL};
        RuntimeContainerConfig cfg = {
            .pod_uid = "uid-1", .argv = argv, .fence_path = "fence", .fence_max_age = 1};
        char *id = NULL;

        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &id), -EINVAL);
        cfg.fence_path = "/run/fence";
        cfg.fence_max_age = 0;
        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &id), -EINVAL);
        cr_assert_null(id);
}
