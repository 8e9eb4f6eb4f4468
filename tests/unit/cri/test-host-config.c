#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-config.h"

static char tmpdir[] = "/tmp/berth-test-host-config-XXXXXX";

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmpdir), 0);
        cr_assert_neq(access(tmpdir, F_OK), 0);
}

TestSuite(host_config, .init = setup, .fini = teardown);

Test(host_config, round_trips_the_container_config)
{
        char *argv[] = {"sh", "-c", "echo hi", NULL};
        char *env[] = {"PATH=/bin", "A=b c", NULL};
        gid_t gids[] = {10, 20};
        RuntimeContainerConfig cfg = {
            .pod_uid = "u1",
            .pod_name = "p",
            .pod_namespace = "ns",
            .container_name = "c",
            .attempt = 3,
            .image = "img",
            .argv = argv,
            .env = env,
            .working_dir = "/tmp",
            .set_uid = true,
            .uid = 65534,
            .set_gid = true,
            .gid = 65534,
            .supplementary_gids = gids,
            .n_supplementary_gids = 2,
            .memory_limit_bytes = 1 << 20,
            .cpu_limit_milli = 500,
            .cpu_request_milli = 250,
            .no_new_privs = true,
            .seccomp_runtime_default = true,
            .log_path = "/var/log/x.log",
            .log_max_size = 4096,
            .log_max_files = 2,
        };
        _cleanup_free_ char *json = NULL;
        HostConfig *c = NULL;

        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 12345, &json), 0);
        cr_assert_eq(host_config_parse(json, &c), 0);
        cr_assert_str_eq(c->id, "abc");
        cr_assert_str_eq(c->cgroup_name, "berth");
        cr_assert_str_eq(c->pod_uid, "u1");
        cr_assert_str_eq(c->container_name, "c");
        cr_assert_eq(c->attempt, 3);
        cr_assert_str_eq(c->argv[2], "echo hi");
        cr_assert_null(c->argv[3]);
        cr_assert_str_eq(c->env[1], "A=b c");
        cr_assert_str_eq(c->working_dir, "/tmp");
        cr_assert(c->set_uid && c->set_gid);
        cr_assert_eq(c->uid, 65534);
        cr_assert_eq(c->n_supplementary_gids, 2);
        cr_assert_eq(c->supplementary_gids[1], 20);
        cr_assert_eq(c->memory_limit_bytes, 1 << 20);
        cr_assert_eq(c->cpu_limit_milli, 500);
        cr_assert_eq(c->cpu_request_milli, 250);
        cr_assert(c->no_new_privs && c->seccomp_runtime_default);
        cr_assert_eq(c->log_max_size, 4096);
        cr_assert_eq(c->log_max_files, 2);
        cr_assert_eq(c->created_at, 12345);
        host_config_free(c);
}

Test(host_config, rejects_malformed_config)
{
        HostConfig *c = NULL;

        cr_assert_eq(host_config_parse("{", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("[]", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("{\"id\":\"x\"}", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("{\"id\":\"x\",\"argv\":[]}", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("{\"id\":\"x\",\"argv\":[1]}", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("{\"id\":\"x\",\"argv\":[\"a\"],\"env\":\"x\"}", &c), -EBADMSG);
        cr_assert_eq(host_config_parse("{\"id\":\"x\",\"argv\":[\"a\"],\"supplementaryGIDs\":[-1]}", &c),
                     -EBADMSG);
        cr_assert_null(c);
        cr_assert_eq(host_config_parse("{\"id\":\"x\",\"argv\":[\"a\"]}", &c), 0);
        cr_assert_eq(c->env[0], NULL);
        host_config_free(c);
}

Test(host_config, writes_and_loads_state_and_exit)
{
        HostState s = {.shim_pid = 10, .pid = 11, .shim_start = 99, .pid_start = 100, .started_at = 1234567};
        HostState s2;
        HostExit e = {.exit_code = 137, .signal = 9, .finished_at = 42, .reason = "Error", .message = "m"};
        HostExit e2;

        cr_assert_eq(host_state_load(tmpdir, &s2), -ENOENT);
        cr_assert_eq(host_state_write(tmpdir, &s), 0);
        cr_assert_eq(host_state_load(tmpdir, &s2), 0);
        cr_assert_eq(memcmp(&s, &s2, sizeof(s)), 0);
        cr_assert_eq(host_exit_write(tmpdir, &e), 0);
        cr_assert_eq(host_exit_load(tmpdir, &e2), 0);
        cr_assert_eq(e2.exit_code, 137);
        cr_assert_eq(e2.signal, 9);
        cr_assert_eq(e2.finished_at, 42);
        cr_assert_str_eq(e2.reason, "Error");
        cr_assert_str_eq(e2.message, "m");
        host_exit_done(&e2);

        char p[300];
        snprintf(p, sizeof(p), "%s/exit.json", tmpdir);
        cr_assert_eq(write_file_atomic(p, "nope", 4, 0644), 0);
        cr_assert_eq(host_exit_load(tmpdir, &e2), -EBADMSG);
}

Test(host_config, reads_process_start_times)
{
        uint64_t a, b;

        cr_assert_eq(host_proc_start_time(getpid(), &a), 0);
        cr_assert_eq(host_proc_start_time(getpid(), &b), 0);
        cr_assert_eq(a, b);
        cr_assert_eq(host_proc_start_time(1, &b), 0);
        cr_assert_leq(b, a);
        cr_assert_lt(host_proc_start_time(-5, &b), 0);
}

Test(host_config, round_trips_mounts)
{
        char *argv[] = {"true", NULL};
        RuntimeMount mounts[] = {
            {.host_path = "/var/lib/x", .container_path = "/data"},
            {.host_path = "/etc/hostname",
             .container_path = "/etc/name",
             .read_only = true,
             .propagation = RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER},
            {.host_path = "/mnt",
             .container_path = "/mnt/in",
             .propagation = RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL},
        };
        RuntimeContainerConfig cfg = {.argv = argv, .mounts = mounts, .n_mounts = ELEMENTSOF(mounts)};
        _cleanup_free_ char *json = NULL, *none = NULL;
        HostConfig *c = NULL;

        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), 0);
        cr_assert_eq(host_config_parse(json, &c), 0);
        cr_assert_eq(c->n_mounts, 3);
        for (size_t i = 0; i < ELEMENTSOF(mounts); i++) {
                cr_assert_str_eq(c->mounts[i].host_path, mounts[i].host_path);
                cr_assert_str_eq(c->mounts[i].container_path, mounts[i].container_path);
                cr_assert_eq(c->mounts[i].read_only, mounts[i].read_only);
                cr_assert_eq(c->mounts[i].propagation, mounts[i].propagation);
        }
        host_config_free(c);
        c = NULL;

        /* none: nothing written, nothing read back */
        cfg.n_mounts = 0;
        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &none), 0);
        cr_assert_null(strstr(none, "mounts"));
        cr_assert_eq(host_config_parse(none, &c), 0);
        cr_assert_eq(c->n_mounts, 0);
        host_config_free(c);
}

Test(host_config, refuses_to_write_invalid_mounts)
{
        char *argv[] = {"true", NULL};
        RuntimeMount bad[] = {
            {.host_path = "/a", .container_path = "relative"},
            {.host_path = "relative", .container_path = "/b"},
            {.host_path = "/a", .container_path = NULL},
            {.host_path = NULL, .container_path = "/b"},
            {.host_path = "/a", .container_path = "/"},
            {.host_path = "/a", .container_path = "//"},
            {.host_path = "/a", .container_path = "/b", .propagation = _RUNTIME_MOUNT_PROPAGATION_MAX},
        };
        _cleanup_free_ char *json = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                RuntimeContainerConfig cfg = {.argv = argv, .mounts = &bad[i], .n_mounts = 1};
                cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), -EINVAL, "mount %zu", i);
        }
        RuntimeContainerConfig cfg = {.argv = argv, .mounts = NULL, .n_mounts = 1};
        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), -EINVAL);
        cr_assert_null(json);
}

/* What the container child would bind is checked again when read back. */
static void expect_rejected(const char *mounts, const char *message)
{
        _cleanup_free_ char *json = NULL, *error = NULL;
        HostConfig *c = NULL;

        cr_assert_gt(asprintf_safe(&json, "{\"id\":\"x\",\"argv\":[\"a\"],\"mounts\":%s}", mounts), 0);
        cr_assert_eq(host_config_parse_full(json, &c, &error), -EBADMSG, "%s", json);
        cr_assert_null(c);
        cr_assert_str_eq(error, message);
        cr_assert_eq(host_config_parse(json, &c), -EBADMSG);
}

Test(host_config, rejects_invalid_mounts_read_back)
{
        expect_rejected("[{\"hostPath\":\"/a\",\"containerPath\":\"rel\"}]",
                        "mounts[0]: containerPath \"rel\" is not an absolute path other than \"/\"");
        expect_rejected("[{\"hostPath\":\"/a\",\"containerPath\":\"/b\"},{\"hostPath\":\"/a\"}]",
                        "mounts[1]: containerPath is missing (or not a string)");
        expect_rejected("[{\"hostPath\":\"a\",\"containerPath\":\"/b\"}]",
                        "mounts[0]: hostPath \"a\" is not an absolute path");
        expect_rejected("[{\"hostPath\":\"/a\",\"containerPath\":\"/b\",\"propagation\":\"rshared\"}]",
                        "mounts[0]: unknown propagation (expected one of PROPAGATION_PRIVATE, "
                        "PROPAGATION_HOST_TO_CONTAINER, PROPAGATION_BIDIRECTIONAL)");
        expect_rejected("[{\"hostPath\":\"/a\",\"containerPath\":\"/b\",\"readOnly\":1}]",
                        "mounts[0]: readOnly is not a boolean");
        expect_rejected("[\"/a:/b\"]", "mounts[0] is not an object");
        expect_rejected("{}", "mounts is not an array");
}

Test(host_config, explains_other_malformed_configs)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        HostConfig *c = NULL;

        cr_assert_eq(host_config_parse_full("{", &c, &e1), -EBADMSG);
        cr_assert_str_eq(e1, "not a JSON object");
        cr_assert_eq(host_config_parse_full("{\"id\":\"x\",\"argv\":[]}", &c, &e2), -EBADMSG);
        cr_assert_str_eq(e2, "argv is empty");
        cr_assert_eq(host_config_parse_full("{\"id\":\"x\",\"argv\":[\"a\"]}", &c, &e3), 0);
        cr_assert_null(e3);
        host_config_free(c);
}

Test(host_config, round_trips_the_fence)
{
        char *argv[] = {"true", NULL};
        RuntimeContainerConfig cfg = {
            .argv = argv, .fence_path = "/run/berth/fence", .fence_max_age = 15 * USEC_PER_SEC};
        _cleanup_free_ char *json = NULL, *none = NULL;
        HostConfig *c = NULL;

        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), 0);
        cr_assert_eq(host_config_parse(json, &c), 0);
        cr_assert_str_eq(c->fence_path, "/run/berth/fence");
        cr_assert_eq(c->fence_max_age, 15 * USEC_PER_SEC);
        host_config_free(c);
        c = NULL;

        /* none: nothing written (not even the age), nothing read back */
        cfg.fence_path = NULL;
        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &none), 0);
        cr_assert_null(strstr(none, "fence"), "%s", none);
        cr_assert_eq(host_config_parse(none, &c), 0);
        cr_assert_null(c->fence_path);
        cr_assert_eq(c->fence_max_age, 0);
        host_config_free(c);
}

Test(host_config, refuses_to_write_an_invalid_fence)
{
        char *argv[] = {"true", NULL};
        RuntimeContainerConfig cfg = {
            .argv = argv, .fence_path = "run/fence", .fence_max_age = USEC_PER_SEC};
        _cleanup_free_ char *json = NULL;

        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), -EINVAL);
        cfg.fence_path = "/run/fence";
        cfg.fence_max_age = 0;
        cr_assert_eq(host_config_format(&cfg, "abc", "berth", 1, &json), -EINVAL);
        cr_assert_null(json);
}

static void expect_fence_rejected(const char *fields, const char *message)
{
        _cleanup_free_ char *json = NULL, *error = NULL;
        HostConfig *c = NULL;

        cr_assert_gt(asprintf_safe(&json, "{\"id\":\"x\",\"argv\":[\"a\"],%s}", fields), 0);
        cr_assert_eq(host_config_parse_full(json, &c, &error), -EBADMSG, "%s", json);
        cr_assert_null(c);
        cr_assert_str_eq(error, message);
}

Test(host_config, rejects_an_invalid_fence_read_back)
{
        expect_fence_rejected("\"fencePath\":\"rel\",\"fenceMaxAgeUsec\":5",
                              "fencePath is not an absolute path");
        expect_fence_rejected("\"fencePath\":7,\"fenceMaxAgeUsec\":5", "fencePath is not an absolute path");
        expect_fence_rejected("\"fencePath\":\"/f\"",
                              "fenceMaxAgeUsec is not a positive number of microseconds");
        expect_fence_rejected("\"fencePath\":\"/f\",\"fenceMaxAgeUsec\":0",
                              "fenceMaxAgeUsec is not a positive number of microseconds");
        expect_fence_rejected("\"fencePath\":\"/f\",\"fenceMaxAgeUsec\":\"5\"",
                              "fenceMaxAgeUsec is not a positive number of microseconds");
}

static void set_mtime(const char *path, usec_t t)
{
        struct timespec ts[2] = {
            {.tv_sec = (time_t)(t / USEC_PER_SEC), .tv_nsec = (long)(t % USEC_PER_SEC) * 1000},
            {.tv_sec = (time_t)(t / USEC_PER_SEC), .tv_nsec = (long)(t % USEC_PER_SEC) * 1000}};

        cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

Test(host_config, judges_the_fence_by_its_mtime)
{
        const usec_t t = 1700000000 * USEC_PER_SEC, age = 2 * USEC_PER_SEC;
        char p[300];
        char *m = NULL, want[400];

        snprintf(p, sizeof(p), "%s/fence", tmpdir);
        cr_assert_eq(host_fence_check(p, age, t, &m), 1);
        snprintf(want, sizeof(want), "fenced: %s is missing (the agent's lease in the coordinator)", p);
        cr_assert_str_eq(m, want);
        m = mfree(m);

        cr_assert_eq(write_file_atomic(p, "", 0, 0644), 0);
        set_mtime(p, t - age);
        cr_assert_eq(host_fence_check(p, age, t, &m), 0, "exactly max age old still holds");
        cr_assert_null(m);
        cr_assert_eq(host_fence_check(p, age, t - age, &m), 0);
        cr_assert_eq(host_fence_check(p, age, t + 1, &m), 1);
        snprintf(want, sizeof(want),
                 "fenced: %s not renewed for more than 2s (the agent's lease in the coordinator)", p);
        cr_assert_str_eq(m, want);
        m = mfree(m);
        cr_assert_eq(host_fence_check(p, 1500 * USEC_PER_MSEC, t, &m), 1);
        cr_assert(strstr(m, "more than 1.5s"), "%s", m);
        m = mfree(m);

        /* a clock set back here, or ahead there: the future is fresh */
        set_mtime(p, t + 3600 * USEC_PER_SEC);
        cr_assert_eq(host_fence_check(p, age, t, &m), 0);
        cr_assert_null(m);
}

Test(host_config, looks_at_the_fence_every_quarter_of_its_age_within_bounds)
{
        cr_assert_eq(host_fence_period(500 * USEC_PER_MSEC), 125 * USEC_PER_MSEC);
        cr_assert_eq(host_fence_period(30 * USEC_PER_SEC), 250 * USEC_PER_MSEC);
        cr_assert_eq(host_fence_period(100 * USEC_PER_MSEC), 50 * USEC_PER_MSEC);
        cr_assert_eq(host_fence_period(1), 50 * USEC_PER_MSEC);
}
