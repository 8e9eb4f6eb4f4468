/* The systemd backend end to end: a real systemd user manager (started once for the test
 * binary by tests/integration/lib-systemd.sh, with a journald of its own) runs the containers
 * as transient units. Needs root and a manager that starts here; skips otherwise, except under
 * CI=true where it fails instead. Every test has its own unit prefix, slice and state dir. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "event-run.h"
#include "runtime.h"

#define SKIP_ENV "BERTH_TEST_SYSTEMD_SKIP"
#define BASE_ENV "SYSTEMD_TEST_BASE"
#define WAIT_USEC (30 * USEC_PER_SEC)

/* --- the manager, once for the binary --- */

static const char *lib_path(void)
{
        return getenv("BERTH_LIB_SYSTEMD");
}

static bool started_manager;

/* Runs "lib-systemd.sh start <our pid>" and takes its NAME=VALUE lines into the environment,
 * which the tests' processes inherit; a skip reason goes there too. A manager already started
 * by the caller (its variables in the environment) is used as it is. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
        char cmd[1024], line[4096];
        FILE *p;
        int status;

        (void)set;
        if (getenv(BASE_ENV) && getenv("BERTH_SYSTEMD_BUS") && getenv("SYSTEMD_TEST_XDG"))
                return;
        if (geteuid() != 0) {
                setenv(SKIP_ENV, "needs root (a user manager of root, cgroups)", 1);
                return;
        }
        if (!lib_path()) {
                setenv(SKIP_ENV, "BERTH_LIB_SYSTEMD is not set", 1);
                return;
        }
        snprintf(cmd, sizeof(cmd), "'%s' start %d", lib_path(), (int)getpid());
        p = popen(cmd, "r");
        if (!p) {
                setenv(SKIP_ENV, "cannot run lib-systemd.sh", 1);
                return;
        }
        while (fgets(line, sizeof(line), p)) {
                char *eq = strchr(line, '=');
                line[strcspn(line, "\n")] = 0;
                if (!eq)
                        continue;
                *eq = 0;
                setenv(streq(line, "SKIP") ? SKIP_ENV : line, eq + 1, 1);
        }
        status = pclose(p);
        if (!getenv(SKIP_ENV) && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                setenv(SKIP_ENV, "lib-systemd.sh start failed", 1);
        started_manager = getenv(BASE_ENV) != NULL;
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
        char cmd[1024];

        (void)stats;
        if (!started_manager || !lib_path())
                return;
        snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", lib_path(), getenv(BASE_ENV));
        if (system(cmd) != 0)
                fprintf(stderr, "lib-systemd.sh stop failed\n");
}

/* --- the fixture of one test --- */

typedef struct Fixture {
        char tmpdir[64];
        char prefix[64]; /* unit name prefix and slice */
        sd_event *event;
        Runtime *rt;
        char *exited[32];
        size_t n_exited;
        char *started[32];
        size_t n_started;
} Fixture;

static Fixture fx;

static void on_exit_cb(Runtime *r, const char *id, void *userdata)
{
        cr_assert_lt(fx.n_exited, ELEMENTSOF(fx.exited));
        fx.exited[fx.n_exited++] = strdup(id);
}

static void on_start_cb(Runtime *r, const char *id, void *userdata)
{
        if (fx.n_started < ELEMENTSOF(fx.started))
                fx.started[fx.n_started++] = strdup(id);
}

static void new_runtime(void)
{
        RuntimeOptions o = {
            .type = RUNTIME_SYSTEMD,
            .endpoint = getenv("BERTH_SYSTEMD_BUS"),
            .state_dir = fx.tmpdir,
            .cgroup_name = fx.prefix,
            .log_namespace = getenv("BERTH_SYSTEMD_LOG_NAMESPACE"),
        };

        cr_assert_eq(runtime_new(&fx.rt, fx.event, &o), 0);
        runtime_set_on_exit(fx.rt, on_exit_cb, NULL);
        runtime_set_on_start(fx.rt, on_start_cb, NULL);
}

static void setup(void)
{
        const char *skip = getenv(SKIP_ENV);

        fx = (Fixture){};
        if (skip) {
                if (getenv("CI") && streq(getenv("CI"), "true"))
                        cr_assert_fail("test-runtime-systemd cannot run (CI=true): %s", skip);
                cr_skip_test("%s (CI=true makes this a failure)", skip);
        }
        snprintf(fx.tmpdir, sizeof(fx.tmpdir), "/tmp/berth-test-sdrt-XXXXXX");
        cr_assert_not_null(mkdtemp(fx.tmpdir));
        snprintf(fx.prefix, sizeof(fx.prefix), "berthsdt%d", (int)getpid());
        cr_assert_eq(sd_event_new(&fx.event), 0);
        new_runtime();
}

/* systemctl --user of the test's manager; the first line of its output */
static char *ctl(const char *args)
{
        char cmd[1024], line[4096] = "";
        FILE *p;

        snprintf(cmd, sizeof(cmd), "XDG_RUNTIME_DIR='%s' systemctl --user --no-pager %s 2>/dev/null",
                 getenv("SYSTEMD_TEST_XDG"), args);
        p = popen(cmd, "r");
        cr_assert_not_null(p);
        if (!fgets(line, sizeof(line), p))
                line[0] = 0;
        pclose(p);
        line[strcspn(line, "\n")] = 0;
        return strdup(line);
}

static char *unit_prop(const char *id, const char *prop)
{
        char args[512];

        snprintf(args, sizeof(args), "show --value -p %s '%s.service'", prop, id);
        return ctl(args);
}

/* the units of this test that the manager still has loaded */
static bool units_left(void *userdata)
{
        char args[256];
        _cleanup_free_ char *l = NULL;

        snprintf(args, sizeof(args), "list-units --all --plain --no-legend '%s-*'", fx.prefix);
        l = ctl(args);
        return isempty(l);
}

static void remove_all(void)
{
        RuntimeContainer *l = NULL;
        size_t n = 0;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        bool running;

        do {
                runtime_container_array_free(l, n);
                cr_assert_eq(runtime_list_containers(fx.rt, &l, &n), 0);
                running = false;
                for (size_t i = 0; i < n; i++)
                        if (l[i].state != CONTAINER_EXITED) {
                                (void)runtime_stop_container(fx.rt, l[i].id, 0);
                                running = true;
                        }
                if (running)
                        event_run_for(fx.event, 100 * USEC_PER_MSEC);
        } while (running && now_usec(CLOCK_MONOTONIC) < deadline);
        for (size_t i = 0; i < n; i++)
                (void)runtime_remove_container(fx.rt, l[i].id);
        cr_expect_eq(n, 0, "the test left containers behind");
        runtime_container_array_free(l, n);
}

static void teardown(void)
{
        if (fx.rt) {
                remove_all();
                event_run_for(fx.event, 50 * USEC_PER_MSEC);
        }
        fx.rt = runtime_free(fx.rt);
        if (fx.event && !event_run_until(fx.event, units_left, NULL, 10 * USEC_PER_SEC)) {
                char args[256];
                snprintf(args, sizeof(args), "list-units --all --plain --no-legend '%s-*'", fx.prefix);
                _cleanup_free_ char *left = ctl(args);
                cr_expect_fail("units are left in the manager: %s", left);
        }
        fx.event = sd_event_unref(fx.event);
        for (size_t i = 0; i < fx.n_exited; i++)
                free(fx.exited[i]);
        for (size_t i = 0; i < fx.n_started; i++)
                free(fx.started[i]);
        if (fx.tmpdir[0])
                cr_assert_eq(rm_rf(fx.tmpdir), 0);
}

TestSuite(runtime_systemd, .init = setup, .fini = teardown, .timeout = 90);

static char *log_path(const char *name)
{
        char *p = NULL;

        cr_assert_geq(asprintf_safe(&p, "%s/logs/%s.log", fx.tmpdir, name), 0);
        return p;
}

typedef struct Waiting {
        const char *id;
} Waiting;

static RuntimeContainer status(const char *id)
{
        RuntimeContainer c;

        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        return c;
}

static bool left_created(void *userdata)
{
        RuntimeContainer c = status(((Waiting *)userdata)->id);
        bool left = c.state != CONTAINER_CREATED;

        runtime_container_done(&c);
        return left;
}

/* Starts argv with cfg (pod "uid-1", container "c" unless cfg names one, its log at
 * <tmpdir>/logs/<container>.log, a PATH-only env unless cfg has one); with wait, runs the
 * loop until the container has left CREATED. */
static char *start(RuntimeContainerConfig *cfg, char **argv, bool wait)
{
        static char *env[] = {"PATH=/usr/bin:/bin", NULL};
        _cleanup_free_ char *log = NULL;
        char *id = NULL;

        if (!cfg->container_name)
                cfg->container_name = "c";
        log = log_path(cfg->container_name);
        if (!cfg->pod_uid)
                cfg->pod_uid = "uid-1";
        cfg->pod_name = "pod";
        cfg->pod_namespace = "default";
        cfg->argv = argv;
        if (!cfg->env)
                cfg->env = env;
        cfg->log_path = log;
        cr_assert_eq(runtime_start_container(fx.rt, cfg, &id), 0);
        cfg->log_path = NULL;
        cr_assert_not_null(id);
        if (wait)
                cr_assert(event_run_until(fx.event, left_created, &(Waiting){id}, WAIT_USEC),
                          "container %s never left CREATED", id);
        return id;
}

static bool exit_reported(void *userdata)
{
        for (size_t i = 0; i < fx.n_exited; i++)
                if (streq(fx.exited[i], ((Waiting *)userdata)->id))
                        return true;
        return false;
}

static void wait_exit(const char *id)
{
        cr_assert(event_run_until(fx.event, exit_reported, &(Waiting){id}, WAIT_USEC),
                  "container %s did not exit", id);
}

typedef struct LogWait {
        const char *name, *needle;
} LogWait;

static bool log_has(void *userdata)
{
        LogWait *w = userdata;
        _cleanup_free_ char *p = log_path(w->name), *out = NULL;

        return runtime_log_read(p, 0, false, -1, &out, NULL, NULL) >= 0 && strstr(out, w->needle);
}

/* The log, once it holds needle (journald hands lines over a little after they are written). */
static char *wait_log(const char *name, const char *needle)
{
        _cleanup_free_ char *p = log_path(name);
        char *out = NULL;

        cr_assert(event_run_until(fx.event, log_has, &(LogWait){name, needle}, 10 * USEC_PER_SEC),
                  "the log of %s never showed \"%s\"", name, needle);
        cr_assert_eq(runtime_log_read(p, 0, false, -1, &out, NULL, NULL), 0);
        return out;
}

static void remove_and_check(const char *id)
{
        char dir[512];
        struct stat st;
        RuntimeContainer c;

        cr_assert_eq(runtime_remove_container(fx.rt, id), 0);
        cr_assert_eq(runtime_container_status(fx.rt, id, &c), -ENOENT);
        snprintf(dir, sizeof(dir), "%s/systemd/units/%s", fx.tmpdir, id);
        cr_assert_eq(stat(dir, &st), -1, "%s is left", dir);
}

Test(runtime_systemd, runs_a_command_and_records_exit_code_and_logs)
{
        RuntimeContainerConfig cfg = {.container_name = "sh"};
        char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; printf tail; exit 3", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, false), *log = NULL, *state = NULL, *desc = NULL;

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 3, "%d %s: %s", c.exit_code, c.reason, c.message);
        cr_assert_str_eq(c.reason, "Error");
        cr_assert_str_eq(c.pod_uid, "uid-1");
        cr_assert_str_eq(c.container_name, "sh");
        cr_assert_gt(c.started_at, 0);
        cr_assert_geq(c.finished_at, c.started_at);
        runtime_container_done(&c);
        /* it ran, if too briefly to be seen running */
        cr_assert_eq(fx.n_started, 1);
        cr_assert_str_eq(fx.started[0], id);
        /* the unit stays for inspection, named as operators find it */
        cr_assert(strstr(id, fx.prefix) == id && strstr(id, "-uid-1-sh-0"), "id: %s", id);
        state = unit_prop(id, "ActiveState");
        cr_assert_str_eq(state, "failed");
        desc = unit_prop(id, "Description");
        cr_assert_str_eq(desc, "berth: pod default/pod, container sh (attempt 0)");
        /* stdout and stderr, one stream in the journal; the unended last line as a partial one */
        log = wait_log("sh", "tail");
        cr_assert_str_eq(log, "out\nerr\ntail", "log: %s", log);
        remove_and_check(id);
}

Test(runtime_systemd, keeps_a_completed_unit_until_removed)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sh", "-c", "sleep 1000 & exit 0", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, false), *state = NULL, *sub = NULL, *tasks = NULL,
                            *load = NULL;

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 0);
        cr_assert_str_eq(c.reason, "Completed");
        runtime_container_done(&c);
        state = unit_prop(id, "ActiveState");
        sub = unit_prop(id, "SubState");
        cr_assert_str_eq(state, "active");
        cr_assert_str_eq(sub, "exited");
        /* what the command left running ended with it */
        for (int i = 0; i < 50; i++) {
                free(tasks);
                tasks = unit_prop(id, "TasksCurrent");
                if (streq(tasks, "0") || isempty(tasks) || streq(tasks, "[not set]"))
                        break;
                event_run_for(fx.event, 100 * USEC_PER_MSEC);
        }
        cr_assert(streq(tasks, "0") || isempty(tasks) || streq(tasks, "[not set]"), "tasks left: %s", tasks);
        remove_and_check(id);
        for (int i = 0; i < 50; i++) {
                free(load);
                load = unit_prop(id, "LoadState");
                if (streq(load, "not-found"))
                        break;
                event_run_for(fx.event, 100 * USEC_PER_MSEC);
        }
        cr_assert_str_eq(load, "not-found");
}

Test(runtime_systemd, stops_at_once_with_sigkill_when_grace_is_zero)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, true);

        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_gt(c.pid, 0);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        cr_assert_eq(fx.n_started, 1);
        cr_assert_eq(runtime_remove_container(fx.rt, id), -EBUSY);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        wait_exit(id);
        c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        runtime_container_done(&c);
        cr_assert_eq(kill(pid, 0), -1);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0); /* exited: a no-op */
        cr_assert_eq(runtime_stop_container(fx.rt, "nope", 0), -ENOENT);
        remove_and_check(id);
}

Test(runtime_systemd, stops_with_sigterm_within_grace)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, true);
        usec_t t0 = now_usec(CLOCK_MONOTONIC);

        cr_assert_eq(runtime_stop_container(fx.rt, id, 5 * USEC_PER_SEC), 0);
        wait_exit(id);
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - t0, 5 * USEC_PER_SEC, "SIGTERM should end sleep at once");
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 143);
        cr_assert_str_eq(c.reason, "Error");
        runtime_container_done(&c);
        remove_and_check(id);
}

static bool file_exists(void *userdata)
{
        return access(userdata, F_OK) == 0;
}

Test(runtime_systemd, kills_the_cgroup_when_the_grace_is_over)
{
        RuntimeContainerConfig cfg = {};
        _cleanup_free_ char *ready = NULL, *script = NULL;
        cr_assert_geq(asprintf_safe(&ready, "%s/ready", fx.tmpdir), 0);
        cr_assert_geq(asprintf_safe(&script, "trap '' TERM; sleep 1000 & touch %s; wait", ready), 0);
        char *argv[] = {"sh", "-c", script, NULL};
        _cleanup_free_ char *id = start(&cfg, argv, true);

        cr_assert(event_run_until(fx.event, file_exists, ready, 10 * USEC_PER_SEC));
        usec_t t0 = now_usec(CLOCK_MONOTONIC);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 1 * USEC_PER_SEC), 0);
        wait_exit(id);
        usec_t took = now_usec(CLOCK_MONOTONIC) - t0;
        cr_assert_geq(took, 1 * USEC_PER_SEC, "ended after %llu us, before the grace",
                      (unsigned long long)took);
        cr_assert_lt(took, 5 * USEC_PER_SEC);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 137);
        runtime_container_done(&c);
        remove_and_check(id);
}

Test(runtime_systemd, reports_start_error_for_a_missing_binary)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"no-such-binary-berth", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, false);

        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_eq(c.exit_code, 128);
        cr_assert_str_eq(c.reason, "StartError");
        cr_assert(c.message && strstr(c.message, "exec: \"no-such-binary-berth\""), "message: %s",
                  c.message);
        runtime_container_done(&c);
        cr_assert_eq(fx.n_started, 0);
        remove_and_check(id);
}

typedef struct ExecWait {
        bool done;
        int exit_code, error;
        char *output;
} ExecWait;

static void on_exec_done(const RuntimeExecResult *r, void *userdata)
{
        ExecWait *w = userdata;

        w->done = true;
        w->exit_code = r->exit_code;
        w->error = r->error;
        w->output = strdup(r->output ? r->output : "");
}

Test(runtime_systemd, lists_and_follows_containers_after_a_restart)
{
        RuntimeContainerConfig a = {.container_name = "long"}, b = {.container_name = "short"};
        char *argv_long[] = {"sleep", "1000", NULL};
        char *argv_short[] = {"sh", "-c", "sleep 1; exit 4", NULL};
        _cleanup_free_ char *long_id = start(&a, argv_long, true), *short_id = start(&b, argv_short, true);
        RuntimeContainer *l = NULL;
        size_t n = 0;

        RuntimeContainer c = status(long_id);
        pid_t pid = c.pid;
        runtime_container_done(&c);
        /* the agent goes away; the short one ends meanwhile */
        fx.rt = runtime_free(fx.rt);
        sleep(2);
        new_runtime();
        cr_assert_eq(runtime_list_containers(fx.rt, &l, &n), 0);
        cr_assert_eq(n, 2);
        for (size_t i = 0; i < n; i++) {
                cr_assert_str_eq(l[i].pod_uid, "uid-1");
                if (streq(l[i].id, long_id)) {
                        cr_assert_eq(l[i].state, CONTAINER_RUNNING);
                        cr_assert_eq(l[i].pid, pid);
                        cr_assert_str_eq(l[i].container_name, "long");
                } else
                        cr_assert_str_eq(l[i].id, short_id);
        }
        runtime_container_array_free(l, n);
        wait_exit(short_id);
        c = status(short_id);
        cr_assert_eq(c.exit_code, 4);
        cr_assert_str_eq(c.reason, "Error");
        runtime_container_done(&c);
        cr_assert_eq(fx.n_exited, 1);

        /* the new instance follows the running one, execs included */
        char *cmd[] = {"cat", "/proc/self/cgroup", NULL};
        ExecWait w = {};
        cr_assert_eq(runtime_exec(fx.rt, long_id, cmd, 10 * USEC_PER_SEC, 65536, on_exec_done, &w, NULL), 0);
        cr_assert(event_run_until_set(fx.event, &w.done, 10 * USEC_PER_SEC));
        cr_assert_eq(w.exit_code, 0);
        cr_assert(strstr(w.output, long_id), "output: %s", w.output);
        free(w.output);
        cr_assert_eq(runtime_stop_container(fx.rt, long_id, 0), 0);
        wait_exit(long_id);
        c = status(long_id);
        cr_assert_eq(c.exit_code, 137);
        runtime_container_done(&c);

        /* reported once: a later restart does not report again */
        fx.rt = runtime_free(fx.rt);
        size_t before = fx.n_exited;
        new_runtime();
        event_run_for(fx.event, 300 * USEC_PER_MSEC);
        cr_assert_eq(fx.n_exited, before);
        remove_and_check(long_id);
        remove_and_check(short_id);
}

Test(runtime_systemd, execs_in_the_unit_context)
{
        static char *env[] = {"PATH=/usr/bin:/bin", "FOO=bar", NULL};
        RuntimeContainerConfig cfg = {.env = env, .working_dir = "/tmp"};
        char *argv[] = {"sleep", "1000", NULL};
        char *cmd[] = {"sh", "-c", "echo $FOO; pwd; cat /proc/self/cgroup", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, true);
        ExecWait w = {};

        cr_assert_eq(runtime_exec(fx.rt, "nope", cmd, 0, 4096, on_exec_done, &w, NULL), -ENOENT);
        cr_assert_eq(runtime_exec(fx.rt, id, cmd, 10 * USEC_PER_SEC, 65536, on_exec_done, &w, NULL), 0);
        cr_assert(event_run_until_set(fx.event, &w.done, 10 * USEC_PER_SEC));
        cr_assert_eq(w.error, 0);
        cr_assert_eq(w.exit_code, 0);
        cr_assert(strstr(w.output, "bar\n/tmp\n"), "output: %s", w.output);
        /* in the unit's cgroup, so stopped with it */
        cr_assert(strstr(w.output, id), "output: %s", w.output);
        free(w.output);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        wait_exit(id);
        cr_assert_eq(runtime_exec(fx.rt, id, cmd, 0, 4096, on_exec_done, &w, NULL), -ESRCH);
        remove_and_check(id);
}

Test(runtime_systemd, binds_mounts_in_the_units_namespace_only)
{
        _cleanup_free_ char *src = NULL, *dst = NULL, *file = NULL, *script = NULL, *log = NULL;
        cr_assert_geq(asprintf_safe(&src, "%s/src", fx.tmpdir), 0);
        cr_assert_geq(asprintf_safe(&dst, "%s/dst", fx.tmpdir), 0);
        cr_assert_geq(asprintf_safe(&file, "%s/hello", src), 0);
        cr_assert_eq(mkdir(src, 0755), 0);
        cr_assert_eq(mkdir(dst, 0755), 0);
        cr_assert_eq(write_file_atomic(file, "hello from the host", 19, 0644), 0);
        RuntimeMount m = {.host_path = src, .container_path = dst, .read_only = true};
        RuntimeContainerConfig cfg = {.container_name = "mnt", .mounts = &m, .n_mounts = 1};
        cr_assert_geq(
            asprintf_safe(&script, "cat %s/hello; echo; touch %s/x || echo read-only; exit 0", dst, dst), 0);
        char *argv[] = {"sh", "-c", script, NULL};
        _cleanup_free_ char *id = start(&cfg, argv, false);
        char x[512];

        wait_exit(id);
        log = wait_log("mnt", "read-only");
        cr_assert(strstr(log, "hello from the host\n"), "log: %s", log);
        /* nothing of it on the host */
        snprintf(x, sizeof(x), "%s/hello", dst);
        cr_assert_eq(access(x, F_OK), -1);
        snprintf(x, sizeof(x), "%s/x", src);
        cr_assert_eq(access(x, F_OK), -1);
        remove_and_check(id);
}

static bool pure_v2(void)
{
        struct statfs fs;

        return statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

Test(runtime_systemd, sets_the_limits_on_the_unit)
{
        RuntimeContainerConfig cfg = {
            .memory_limit_bytes = 64 << 20, .cpu_limit_milli = 500, .cpu_request_milli = 250};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, true), *mem = NULL, *quota = NULL, *cg = NULL, *v = NULL,
                            *weight = NULL;
        char p[512];

        mem = unit_prop(id, "MemoryMax");
        cr_assert_str_eq(mem, "67108864");
        quota = unit_prop(id, "CPUQuotaPerSecUSec");
        cr_assert_str_eq(quota, "500ms");
        /* 250m: the kubelet's shares on v1, its weight for them on v2 */
        weight = unit_prop(id, pure_v2() ? "CPUWeight" : "CPUShares");
        cr_assert_str_eq(weight, pure_v2() ? "10" : "256");
        /* and in the cgroup systemd made */
        cg = unit_prop(id, "ControlGroup");
        cr_assert(!isempty(cg));
        snprintf(p, sizeof(p),
                 pure_v2() ? "/sys/fs/cgroup%s/memory.max" : "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
                 cg);
        cr_assert_eq(read_one_line_file(p, &v), 0, "%s", p);
        cr_assert_str_eq(v, "67108864");
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id);
}

Test(runtime_systemd, is_killed_beyond_its_memory_limit)
{
        RuntimeContainerConfig cfg = {.memory_limit_bytes = 32 << 20};
        char *argv[] = {"python3", "-c", "b = b'a' * (512 << 20)", NULL};
        _cleanup_free_ char *id = NULL;

        cr_assert_eq(access("/usr/bin/python3", X_OK), 0, "needs python3 to allocate memory");
        id = start(&cfg, argv, false);
        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 137);
        /* systemd sees OOM kills on cgroup v2 only (memory.events); v1 says "signal" */
        cr_assert_str_eq(c.reason, pure_v2() ? "OOMKilled" : "Error");
        runtime_container_done(&c);
        remove_and_check(id);
}

Test(runtime_systemd, runs_as_the_requested_user_under_seccomp)
{
        RuntimeContainerConfig known = {.container_name = "known",
                                        .set_uid = true,
                                        .uid = 65534,
                                        .set_gid = true,
                                        .gid = 65534,
                                        .no_new_privs = true,
                                        .seccomp_runtime_default = true};
        /* ids no user database knows: through setpriv */
        gid_t groups[] = {4322, 4323};
        RuntimeContainerConfig unknown = {.container_name = "unknown",
                                          .set_uid = true,
                                          .uid = 4321,
                                          .set_gid = true,
                                          .gid = 4321,
                                          .supplementary_gids = groups,
                                          .n_supplementary_gids = 2,
                                          .seccomp_runtime_default = true};
        char *argv[] = {"sh", "-c", "id -u; id -G; unshare -U true 2>/dev/null || echo no-userns", NULL};
        _cleanup_free_ char *a = start(&known, argv, false), *b = start(&unknown, argv, false);
        _cleanup_free_ char *la = NULL, *lb = NULL;

        wait_exit(a);
        wait_exit(b);
        RuntimeContainer c = status(a);
        cr_assert_str_eq(c.reason, "Completed", "%s: %s", c.reason, c.message);
        runtime_container_done(&c);
        c = status(b);
        cr_assert_str_eq(c.reason, "Completed", "%s: %s", c.reason, c.message);
        runtime_container_done(&c);
        la = wait_log("known", "no-userns");
        cr_assert_str_eq(la, "65534\n65534\nno-userns\n");
        lb = wait_log("unknown", "no-userns");
        cr_assert_str_eq(lb, "4321\n4321 4322 4323\nno-userns\n");
        remove_and_check(a);
        remove_and_check(b);
}

Test(runtime_systemd, prepares_ahead_and_execs_at_the_start_time)
{
        char *argv[] = {"sleep", "1000", NULL};
        usec_t start_at = now_usec(CLOCK_REALTIME) + 1500 * USEC_PER_MSEC;
        RuntimeContainerConfig cfg = {.start_at = start_at};
        _cleanup_free_ char *id = start(&cfg, argv, false);

        event_run_for(fx.event, 500 * USEC_PER_MSEC);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_CREATED);
        runtime_container_done(&c);
        cr_assert(event_run_until(fx.event, left_created, &(Waiting){id}, WAIT_USEC));
        c = status(id);
        cr_assert_eq(c.state, CONTAINER_RUNNING);
        cr_assert_geq(c.started_at, start_at, "started %llu before %llu", (unsigned long long)c.started_at,
                      (unsigned long long)start_at);
        cr_assert_lt(c.started_at, start_at + 1 * USEC_PER_SEC);
        runtime_container_done(&c);
        cr_assert_eq(fx.n_started, 1);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id);
}

Test(runtime_systemd, stops_a_container_before_its_start_time)
{
        char *argv[] = {"sleep", "1000", NULL};
        RuntimeContainerConfig cfg = {.start_at = now_usec(CLOCK_REALTIME) + 60 * USEC_PER_SEC};
        _cleanup_free_ char *id = start(&cfg, argv, false);

        event_run_for(fx.event, 300 * USEC_PER_MSEC);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 10 * USEC_PER_SEC), 0);
        wait_exit(id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 137);
        cr_assert_str_eq(c.reason, "Error");
        cr_assert_eq(c.started_at, 0);
        runtime_container_done(&c);
        cr_assert_eq(fx.n_started, 0);
        remove_and_check(id);
}

Test(runtime_systemd, refuses_a_second_container_of_the_same_name)
{
        RuntimeContainerConfig cfg = {};
        char *argv[] = {"sleep", "1000", NULL};
        _cleanup_free_ char *id = start(&cfg, argv, false);
        char *again = NULL;

        cfg.argv = argv;
        cr_assert_eq(runtime_start_container(fx.rt, &cfg, &again), -EEXIST);
        cr_assert_null(again);
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        wait_exit(id);
        remove_and_check(id);
}
