#include <criterion/criterion.h>
#include <string.h>
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
