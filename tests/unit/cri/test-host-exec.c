/* runtime_exec on the host backend end to end: real shims, real cgroups, commands exec'd into
 * running containers. Needs root and writable cgroups; skips otherwise, except under CI=true
 * where it fails instead. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event-run.h"
#include "runtime-fixture.h"
#include "runtime-host.h"

static RuntimeFixture fx;

/* What the last done callback saw (copied: the result is only valid inside it). */
typedef struct Done {
        unsigned calls;
        int error, exit_code;
        bool timed_out;
        char *message, *output;
        size_t output_size;
        usec_t at;
} Done;

static void on_done(const RuntimeExecResult *r, void *userdata)
{
        Done *d = userdata;

        d->calls++;
        d->error = r->error;
        d->exit_code = r->exit_code;
        d->timed_out = r->timed_out;
        free(d->message);
        free(d->output);
        d->message = r->message ? strdup(r->message) : NULL;
        d->output = malloc(r->output_size + 1);
        cr_assert_not_null(d->output);
        memcpy(d->output, r->output, r->output_size + 1);
        d->output_size = r->output_size;
        d->at = now_usec(CLOCK_MONOTONIC);
}

static void done_clear(Done *d)
{
        free(d->message);
        free(d->output);
        *d = (Done){0};
}

static void setup(void)
{
        runtime_fixture_setup(&fx, "host-exec");
}

static void teardown(void)
{
        runtime_fixture_teardown(&fx);
}

TestSuite(host_exec, .init = setup, .fini = teardown, .timeout = 60);

static char *start_sleeper(void)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};

        return runtime_fixture_start(&fx, &cfg, argv);
}

static bool exec_done(void *userdata)
{
        return ((Done *)userdata)->calls > 0;
}

static void run_until_done(Done *d)
{
        cr_assert(event_run_until(fx.event, exec_done, d, 30 * USEC_PER_SEC), "the exec never completed");
}

/* Runs argv in container id and waits for the result. */
static void exec_and_wait(const char *id, char **argv, usec_t timeout, size_t max_output, Done *d)
{
        RuntimeExec *x = NULL;

        cr_assert_eq(runtime_exec(fx.rt, id, argv, timeout, max_output, on_done, d, &x), 0);
        cr_assert_not_null(x);
        cr_assert_eq(d->calls, 0, "done must not be called from inside runtime_exec");
        run_until_done(d);
        event_run_for(fx.event, 50 * USEC_PER_MSEC);
        cr_assert_eq(d->calls, 1, "done is called exactly once");
}

/* The processes in the container's cgroup other than main. */
static size_t others_in_cgroup(const char *id, pid_t main, pid_t *ret, size_t max)
{
        HostCgroup *cg = runtime_fixture_cgroup(&fx, id);
        char p[512];
        _cleanup_free_ char *s = NULL;
        size_t n = 0;

        snprintf(p, sizeof(p), "%s/cgroup.procs", cg->dirs[0]);
        host_cgroup_free(cg);
        cr_assert_eq(read_full_file(p, 65536, &s, NULL), 0);
        for (char *tok = strtok(s, "\n"); tok; tok = strtok(NULL, "\n")) {
                pid_t pid = (pid_t)atoi(tok);
                if (pid != main && n < max)
                        ret[n++] = pid;
        }
        return n;
}

static pid_t main_pid(const char *id)
{
        RuntimeContainer c = {0};

        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_gt(pid, 0);
        return pid;
}

/* Stops and removes the container; its state, directory and cgroups must be gone. */
static void stop_and_remove(const char *id)
{
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(host_exec, reports_interleaved_output_and_the_exit_code)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"/bin/sh", "-c", "echo hi; echo err >&2; echo again; exit 3", NULL};
        Done d = {};

        exec_and_wait(id, argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, 0);
        cr_assert_null(d.message);
        cr_assert_eq(d.exit_code, 3);
        cr_assert_not(d.timed_out);
        cr_assert_str_eq(d.output, "hi\nerr\nagain\n");
        cr_assert_eq(d.output_size, strlen("hi\nerr\nagain\n"));
        done_clear(&d);

        /* a signal ends it with 128+signal */
        char *argv2[] = {"sh", "-c", "kill -TERM $$", NULL};
        exec_and_wait(id, argv2, 0, 10240, &d);
        cr_assert_eq(d.error, 0);
        cr_assert_eq(d.exit_code, 128 + SIGTERM);
        cr_assert_str_eq(d.output, "");
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, runs_two_execs_at_once)
{
        _cleanup_free_ char *id = start_sleeper();
        char *a[] = {"sh", "-c", "sleep 0.3; echo a", NULL};
        char *b[] = {"sh", "-c", "echo b; exit 1", NULL};
        RuntimeExec *xa = NULL, *xb = NULL;
        Done da = {}, db = {};

        cr_assert_eq(runtime_exec(fx.rt, id, a, 0, 100, on_done, &da, &xa), 0);
        cr_assert_eq(runtime_exec(fx.rt, id, b, 0, 100, on_done, &db, &xb), 0);
        run_until_done(&da);
        run_until_done(&db);
        cr_assert_lt(db.at, da.at, "the quick one ends first");
        cr_assert_str_eq(da.output, "a\n");
        cr_assert_eq(da.exit_code, 0);
        cr_assert_str_eq(db.output, "b\n");
        cr_assert_eq(db.exit_code, 1);
        done_clear(&da);
        done_clear(&db);
        stop_and_remove(id);
}

Test(host_exec, runs_with_the_containers_env_dir_user_and_filters)
{
        static char *env[] = {"PATH=/usr/bin:/bin", "GREETING=hello from the container", NULL};
        RuntimeContainerConfig cfg = {.env = env,
                                      .working_dir = "/tmp",
                                      .set_uid = true,
                                      .uid = 65534,
                                      .set_gid = true,
                                      .gid = 65534,
                                      .no_new_privs = true,
                                      .seccomp_runtime_default = true};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        char *exec_argv[] = {
            "sh", "-c",
            "echo \"$GREETING\"; pwd; id -u; id -G; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
            NULL};
        Done d = {};

        exec_and_wait(id, exec_argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, 0);
        cr_assert_eq(d.exit_code, 0, "output: %s", d.output);
        cr_assert_str_eq(d.output,
                         "hello from the container\n/tmp\n65534\n65534\nNoNewPrivs:\t1\nSeccomp:\t2\n");
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, runs_in_the_containers_cgroups_and_its_own_session)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sh", "-c", "cat /proc/self/cgroup; echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$",
                        NULL};
        HostCgroup *cg = runtime_fixture_cgroup(&fx, id);
        char rel[256];
        Done d = {};
        size_t lines = 0;

        exec_and_wait(id, argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, 0);
        cr_assert_eq(d.exit_code, 0, "output: %s", d.output);
        /* every hierarchy the container uses lists the container's cgroup */
        snprintf(rel, sizeof(rel), "/%s/pod-uid-1/%s\n", fx.cgname, id);
        for (const char *p = d.output; (p = strstr(p, rel)); p++)
                lines++;
        cr_assert_eq(lines, cg->n, "expected %zu hierarchies in:\n%s", cg->n, d.output);
        /* sh is the session leader: the process group of the timeout kill starts with it */
        const char *s = strstr(d.output, "sid=");
        cr_assert_not_null(s);
        int k_sid = 0, k_pid = 0;
        cr_assert_eq(sscanf(s, "sid=%d pid=%d", &k_sid, &k_pid), 2, "%s", s);
        cr_assert_eq(k_sid, k_pid, "sid %d, pid %d", k_sid, k_pid);
        host_cgroup_free(cg);
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, reports_a_missing_executable_as_an_error)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"no-such-binary-berth", NULL};
        char *abs[] = {"/no/such/binary", NULL};
        Done d = {};

        exec_and_wait(id, argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, -ENOENT);
        cr_assert_str_eq(d.message, "exec: \"no-such-binary-berth\": executable file not found in $PATH");
        cr_assert_not(d.timed_out);
        done_clear(&d);

        exec_and_wait(id, abs, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, -ENOENT);
        cr_assert_str_eq(d.message, "exec: \"/no/such/binary\": No such file or directory");
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, kills_the_process_group_at_the_timeout)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sh", "-c", "echo started; sleep 100 & sleep 100; echo never", NULL};
        pid_t main = main_pid(id), others[8];
        Done d = {};

        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        exec_and_wait(id, argv, 500 * USEC_PER_MSEC, 10240, &d);
        usec_t took = d.at - t0;
        cr_assert_geq(took, 500 * USEC_PER_MSEC);
        cr_assert_lt(took, 2500 * USEC_PER_MSEC, "took %llu usec", (unsigned long long)took);
        cr_assert(d.timed_out);
        cr_assert_eq(d.exit_code, 137);
        cr_assert_eq(d.error, 0);
        cr_assert_str_eq(d.output, "started\n");
        /* the background sleep went with the group */
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
        while (others_in_cgroup(id, main, others, ELEMENTSOF(others)) > 0) {
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), deadline, "the exec's processes survived");
                event_run_for(fx.event, 20 * USEC_PER_MSEC);
        }
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, does_not_wait_for_a_pipe_held_by_an_escaped_descendant)
{
        _cleanup_free_ char *id = start_sleeper();
        /* setsid leaves the group: the timeout kill cannot reach it, its stdout stays open */
        char *argv[] = {"sh", "-c", "setsid sleep 100 & echo out; sleep 100", NULL};
        Done d = {};

        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        exec_and_wait(id, argv, 300 * USEC_PER_MSEC, 10240, &d);
        usec_t took = d.at - t0;
        cr_assert_geq(took, 300 * USEC_PER_MSEC);
        cr_assert_lt(took, 2500 * USEC_PER_MSEC, "took %llu usec", (unsigned long long)took);
        cr_assert(d.timed_out);
        cr_assert_eq(d.exit_code, 137);
        cr_assert_str_eq(d.output, "out\n");
        done_clear(&d);
        /* the container's stop takes the escaped one with it */
        stop_and_remove(id);
}

Test(host_exec, truncates_output_beyond_max_output)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo; echo done >&2", NULL};
        Done d = {};

        exec_and_wait(id, argv, 10 * USEC_PER_SEC, 1000, &d);
        cr_assert_eq(d.error, 0);
        /* the rest was read and dropped: the command was not stopped by a full pipe */
        cr_assert_eq(d.exit_code, 0);
        cr_assert_eq(d.output_size, 1000);
        cr_assert_eq(strlen(d.output), 1000);
        cr_assert_eq(strspn(d.output, "a"), 1000);
        done_clear(&d);

        exec_and_wait(id, argv, 10 * USEC_PER_SEC, 0, &d);
        cr_assert_eq(d.exit_code, 0);
        cr_assert_eq(d.output_size, 0);
        cr_assert_str_eq(d.output, "");
        done_clear(&d);
        stop_and_remove(id);
}

static void wait_for_others(const char *id, pid_t main, pid_t *ret)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        while (others_in_cgroup(id, main, ret, 1) == 0) {
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), deadline, "the exec never joined the cgroup");
                usleep(5000);
        }
}

static void wait_gone(pid_t pid)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        /* reaped, not a zombie: kill() fails only once nothing is left of it */
        while (kill(pid, 0) == 0) {
                cr_assert_lt(now_usec(CLOCK_MONOTONIC), deadline, "process %d is still there", (int)pid);
                event_run_for(fx.event, 10 * USEC_PER_MSEC);
        }
        cr_assert_eq(errno, ESRCH);
}

Test(host_exec, cancel_kills_and_reaps_without_calling_back)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sleep", "100", NULL};
        pid_t main = main_pid(id), pid = 0;
        RuntimeExec *x = NULL;
        Done d = {};

        cr_assert_eq(runtime_exec(fx.rt, id, argv, 60 * USEC_PER_SEC, 100, on_done, &d, &x), 0);
        wait_for_others(id, main, &pid);
        runtime_exec_cancel(x);
        wait_gone(pid);
        event_run_for(fx.event, 200 * USEC_PER_MSEC);
        cr_assert_eq(d.calls, 0);
        runtime_exec_cancel(NULL);
        stop_and_remove(id);
}

Test(host_exec, runtime_free_cancels_execs_in_flight)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sleep", "100", NULL};
        pid_t main = main_pid(id), pid = 0;
        Done d = {};

        cr_assert_eq(runtime_exec(fx.rt, id, argv, 0, 100, on_done, &d, NULL), 0);
        wait_for_others(id, main, &pid);
        fx.rt = runtime_free(fx.rt);
        /* reaped by the free itself */
        cr_assert_neq(kill(pid, 0), 0);
        cr_assert_eq(errno, ESRCH);
        cr_assert_eq(d.calls, 0);
        runtime_fixture_new_runtime(&fx);
        stop_and_remove(id);
}

Test(host_exec, ends_with_its_container)
{
        _cleanup_free_ char *id = start_sleeper();
        char *argv[] = {"sleep", "100", NULL};
        pid_t main = main_pid(id), pid = 0;
        RuntimeExec *x = NULL;
        Done d = {};

        cr_assert_eq(runtime_exec(fx.rt, id, argv, 0, 100, on_done, &d, &x), 0);
        wait_for_others(id, main, &pid);
        stop_and_remove(id);
        run_until_done(&d);
        cr_assert_eq(d.exit_code, 128 + SIGKILL);
        cr_assert_not(d.timed_out);
        done_clear(&d);
}

Test(host_exec, refuses_unknown_and_exited_containers)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"true", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        RuntimeExec *x = NULL;
        Done d = {};

        cr_assert_eq(runtime_exec(fx.rt, "nope", argv, 0, 100, on_done, &d, &x), -ENOENT);
        runtime_fixture_wait_exit(&fx, id);
        cr_assert_eq(runtime_exec(fx.rt, id, argv, 0, 100, on_done, &d, &x), -ESRCH);
        cr_assert_eq(runtime_exec(fx.rt, id, (char *[]){NULL}, 0, 100, on_done, &d, &x), -EINVAL);
        event_run_for(fx.event, 50 * USEC_PER_MSEC);
        cr_assert_eq(d.calls, 0);
        cr_assert_eq(runtime_remove_container(fx.rt, id), 0);
}

Test(host_exec, reports_a_failed_setup_step_with_its_errno)
{
        char dir[512];
        RuntimeContainerConfig cfg = {.working_dir = dir};
        char *argv[] = {"sleep", "1000", NULL};
        char *exec_argv[] = {"true", NULL};
        Done d = {};

        snprintf(dir, sizeof(dir), "%s/workdir", fx.tmpdir);
        cr_assert_eq(mkdir(dir, 0755), 0);
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        /* the container keeps running in its deleted working directory; an exec cannot enter it */
        cr_assert_eq(rmdir(dir), 0);
        exec_and_wait(id, exec_argv, 10 * USEC_PER_SEC, 100, &d);
        cr_assert_eq(d.error, -ENOENT);
        cr_assert_str_eq(d.message, "chdir: No such file or directory");
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, runs_in_a_container_adopted_after_a_restart)
{
        static char *env[] = {"PATH=/usr/bin:/bin", "WHO=adopted", NULL};
        RuntimeContainerConfig cfg = {.env = env};
        char *argv[] = {"sleep", "1000", NULL};
        char *exec_argv[] = {"sh", "-c", "echo $WHO", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        Done d = {};

        fx.rt = runtime_free(fx.rt);
        runtime_fixture_new_runtime(&fx);
        exec_and_wait(id, exec_argv, 10 * USEC_PER_SEC, 100, &d);
        cr_assert_eq(d.error, 0);
        cr_assert_str_eq(d.output, "adopted\n");
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, joins_the_mount_namespace_of_a_container_with_mounts)
{
        char host[256], inside[256], f[512], script[1024], ns[64], theirs[64] = {0};
        RuntimeMount m = {.host_path = host, .container_path = inside};
        RuntimeContainerConfig cfg = {.mounts = &m, .n_mounts = 1};
        char *argv[] = {"sleep", "1000", NULL};
        char *exec_argv[] = {"sh", "-c", script, NULL};
        Done d = {};

        snprintf(host, sizeof(host), "%s/host", fx.tmpdir);
        snprintf(inside, sizeof(inside), "%s/inside", fx.tmpdir);
        snprintf(f, sizeof(f), "%s/f", host);
        cr_assert_eq(mkdir(host, 0755), 0);
        cr_assert_eq(write_file_atomic(f, "hello\n", 6, 0644), 0);
        snprintf(script, sizeof(script), "cat %s/f; readlink /proc/self/ns/mnt", inside);
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)main_pid(id));
        cr_assert_gt(readlink(ns, theirs, sizeof(theirs) - 1), 0);
        _cleanup_free_ char *expected = strjoin("hello\n", theirs, "\n", NULL);
        cr_assert_not_null(expected);

        exec_and_wait(id, exec_argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, 0, "%s", d.message);
        cr_assert_str_eq(d.output, expected);
        done_clear(&d);
        /* and once adopted by a new runtime */
        fx.rt = runtime_free(fx.rt);
        runtime_fixture_new_runtime(&fx);
        exec_and_wait(id, exec_argv, 10 * USEC_PER_SEC, 10240, &d);
        cr_assert_eq(d.error, 0, "%s", d.message);
        cr_assert_str_eq(d.output, expected);
        done_clear(&d);
        stop_and_remove(id);
}

Test(host_exec, refuses_a_container_with_mounts_whose_main_process_is_gone)
{
        HostMount m = {.host_path = "/tmp", .container_path = "/mnt"};
        char *argv[] = {"true", NULL};
        HostConfig cfg = {.argv = argv, .mounts = &m, .n_mounts = 1};
        RuntimeExec *execs = NULL, *x = NULL;
        HostExecTarget t = {
            .event = fx.event, .id = "x", .cfg = &cfg, .main_pidfd = -EBADF, .execs = &execs};
        Done d = {};

        cr_assert_eq(host_exec_start(&t, argv, 0, 100, on_done, &d, &x), -ESRCH);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(0);
        t.main_pidfd = pidfd_open(pid, 0);
        cr_assert_geq(t.main_pidfd, 0);
        cr_assert_eq(waitpid(pid, NULL, 0), pid);
        cr_assert_eq(host_exec_start(&t, argv, 0, 100, on_done, &d, &x), -ESRCH);
        close(t.main_pidfd);
        cr_assert_null(execs);
        event_run_for(fx.event, 50 * USEC_PER_MSEC);
        cr_assert_eq(d.calls, 0);
}
