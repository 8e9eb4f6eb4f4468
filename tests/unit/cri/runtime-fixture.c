/* The fixture of the host backend's end-to-end tests: see runtime-fixture.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event-run.h"
#include "runtime-fixture.h"

static void on_exit_cb(Runtime *r, const char *id, void *userdata)
{
        RuntimeFixture *f = userdata;

        cr_assert_lt(f->n_exited, ELEMENTSOF(f->exited));
        f->exited[f->n_exited] = strdup(id);
        cr_assert_not_null(f->exited[f->n_exited]);
        f->n_exited++;
}

static void on_start_cb(Runtime *r, const char *id, void *userdata)
{
        RuntimeFixture *f = userdata;

        if (f->n_started < ELEMENTSOF(f->started))
                f->started[f->n_started++] = strdup(id);
}

/* Creates and removes a cgroup of ours in every hierarchy. */
static bool cgroups_writable(const char *cgname)
{
        HostCgroup *cg = NULL;
        bool ok;
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

void runtime_fixture_new_runtime(RuntimeFixture *f)
{
        RuntimeOptions o = {
            .type = RUNTIME_HOST,
            .state_dir = f->tmpdir,
            .cgroup_name = f->cgname,
            .shim_path = getenv("BERTH_TEST_SHIM"),
        };

        cr_assert_not_null(o.shim_path, "BERTH_TEST_SHIM is not set");
        cr_assert_eq(runtime_new(&f->rt, f->event, &o), 0);
        runtime_set_on_exit(f->rt, on_exit_cb, f);
        runtime_set_on_start(f->rt, on_start_cb, f);
}

void runtime_fixture_setup(RuntimeFixture *f, const char *name)
{
        *f = (RuntimeFixture){};
        snprintf(f->tmpdir, sizeof(f->tmpdir), "/tmp/berth-test-%s-XXXXXX", name);
        cr_assert_not_null(mkdtemp(f->tmpdir));
        snprintf(f->cgname, sizeof(f->cgname), "berth-test-%s-%d", name, (int)getpid());
        if (geteuid() != 0 || !cgroups_writable(f->cgname)) {
                rm_rf(f->tmpdir);
                if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
                        cr_assert_fail("test-%s needs root and writable cgroups (CI=true)", name);
                cr_skip_test("needs root and writable cgroups (run as root; CI=true makes this a failure)");
        }
        cr_assert_eq(sd_event_new(&f->event), 0);
        runtime_fixture_new_runtime(f);
}

/* Stops and removes every container of the runtime, so that no process outlives the test;
 * returns how many there were. */
static size_t remove_all(RuntimeFixture *f)
{
        RuntimeContainer *l = NULL;
        size_t n = 0, running;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        do {
                runtime_container_array_free(l, n);
                cr_assert_eq(runtime_list_containers(f->rt, &l, &n), 0);
                running = 0;
                for (size_t i = 0; i < n; i++)
                        if (l[i].state != CONTAINER_EXITED) {
                                (void)runtime_stop_container(f->rt, l[i].id, 0);
                                running++;
                        }
                if (running > 0)
                        (void)sd_event_run(f->event, 100 * USEC_PER_MSEC);
        } while (running > 0 && now_usec(CLOCK_MONOTONIC) < deadline);
        for (size_t i = 0; i < n; i++)
                (void)runtime_remove_container(f->rt, l[i].id);
        runtime_container_array_free(l, n);
        return n;
}

void runtime_fixture_teardown(RuntimeFixture *f)
{
        HostCgroup *cg = NULL;

        if (f->rt)
                cr_expect_eq(remove_all(f), 0, "the test left containers behind");
        f->rt = runtime_free(f->rt);
        f->event = sd_event_unref(f->event);
        for (size_t i = 0; i < f->n_exited; i++)
                free(f->exited[i]);
        f->n_exited = 0;
        for (size_t i = 0; i < f->n_started; i++)
                free(f->started[i]);
        f->n_started = 0;
        cr_assert_eq(host_cgroup_new(&cg, NULL, "x/y/z"), 0);
        for (size_t i = 0; i < cg->n; i++) {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s", cg->roots[i], f->cgname);
                int k = rmdir(p) < 0 ? errno : 0;
                cr_expect(k == 0 || k == ENOENT, "left behind: %s: %s", p, strerror(k));
        }
        host_cgroup_free(cg);
        cr_assert_eq(rm_rf(f->tmpdir), 0);
}

typedef struct Waiting {
        RuntimeFixture *fixture;
        const char *id;
} Waiting;

static bool left_created(void *userdata)
{
        Waiting *w = userdata;
        RuntimeContainer c = {0};
        ContainerState st;

        cr_assert_eq(runtime_container_status(w->fixture->rt, w->id, &c), 0);
        st = c.state;
        runtime_container_done(&c);
        return st != CONTAINER_CREATED;
}

char *runtime_fixture_start(RuntimeFixture *f, RuntimeContainerConfig *cfg, char **argv)
{
        static char *env[] = {"PATH=/usr/bin:/bin", "HOME=/", NULL};
        char *id = NULL;
        char log[512];

        snprintf(log, sizeof(log), "%s/logs/%s.log", f->tmpdir, cfg->container_name ?: "c");
        cfg->pod_uid = "uid-1";
        cfg->pod_name = "pod";
        cfg->pod_namespace = "default";
        if (!cfg->container_name)
                cfg->container_name = "c";
        cfg->argv = argv;
        if (!cfg->env)
                cfg->env = env;
        /* a copy freed right after the start: the runtime must keep its own */
        cfg->log_path = strdup(log);
        cr_assert_not_null(cfg->log_path);
        cr_assert_eq(runtime_start_container(f->rt, cfg, &id), 0);
        free((char *)cfg->log_path);
        cfg->log_path = NULL;
        cr_assert_not_null(id);
        cr_assert_eq(strlen(id), 32);
        /* the start does not wait for the shim: run the loop until the command runs (or
         * could not be started) */
        cr_assert(event_run_until(f->event, left_created, &(Waiting){f, id}, 30 * USEC_PER_SEC),
                  "the container never left CREATED");
        return id;
}

static bool exit_reported(void *userdata)
{
        Waiting *w = userdata;

        for (size_t i = 0; i < w->fixture->n_exited; i++)
                if (streq(w->fixture->exited[i], w->id))
                        return true;
        return false;
}

void runtime_fixture_wait_exit(RuntimeFixture *f, const char *id)
{
        cr_assert(event_run_until(f->event, exit_reported, &(Waiting){f, id}, 30 * USEC_PER_SEC),
                  "container %s did not exit", id);
}

HostCgroup *runtime_fixture_cgroup(const RuntimeFixture *f, const char *id)
{
        HostCgroup *cg = NULL;
        char rel[256];

        snprintf(rel, sizeof(rel), "%s/pod-uid-1/%s", f->cgname, id);
        cr_assert_eq(host_cgroup_new(&cg, NULL, rel), 0);
        return cg;
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

void runtime_fixture_remove_and_check(RuntimeFixture *f, const char *id, pid_t pid)
{
        HostCgroup *cg = runtime_fixture_cgroup(f, id);
        char p[512];

        cr_assert_eq(runtime_remove_container(f->rt, id), 0);
        cr_assert_eq(runtime_container_status(f->rt, id, &(RuntimeContainer){0}), -ENOENT);
        snprintf(p, sizeof(p), "%s/containers/%s", f->tmpdir, id);
        cr_assert_neq(access(p, F_OK), 0);
        for (size_t i = 0; i < cg->n; i++)
                cr_assert_neq(access(cg->dirs[i], F_OK), 0, "cgroup left: %s", cg->dirs[i]);
        host_cgroup_free(cg);
        if (pid > 0)
                cr_assert(process_gone(pid), "process %d still exists", (int)pid);
}
