#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-config.h"

static char tmpdir[] = "/tmp/berth-test-host-shim-XXXXXX";

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmpdir), 0);
        cr_assert_neq(access(tmpdir, F_OK), 0);
}

TestSuite(host_shim, .init = setup, .fini = teardown);

/* Runs the shim in a child, as "berth shim DIR" would, with a ready pipe. */
static int run_shim(char *ready)
{
        int fds[2];
        char fdnum[16];

        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                snprintf(fdnum, sizeof(fdnum), "%d", fds[1]);
                setenv(HOST_SHIM_READY_FD_ENV, fdnum, 1);
                _exit(runtime_shim_main(tmpdir));
        }
        close(fds[1]);
        cr_assert_eq(read(fds[0], ready, 1), 1);
        close(fds[0]);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_assert(WIFEXITED(st));
        return WEXITSTATUS(st);
}

Test(host_shim, records_a_start_error_without_config)
{
        char ready = 0;
        HostExit e;

        cr_assert_eq(run_shim(&ready), 0);
        cr_assert_eq(ready, 'E');
        cr_assert_eq(host_exit_load(tmpdir, &e), 0);
        cr_assert_eq(e.exit_code, 128);
        cr_assert_str_eq(e.reason, "StartError");
        cr_assert(strstr(e.message, "config.json"), "message: %s", e.message);
        host_exit_done(&e);
}

Test(host_shim, records_a_start_error_for_a_malformed_config)
{
        char p[300], ready = 0;
        HostExit e;

        snprintf(p, sizeof(p), "%s/config.json", tmpdir);
        cr_assert_eq(write_file_atomic(p, "{\"id\":\"x\",\"argv\":[]}", 21, 0600), 0);
        cr_assert_eq(run_shim(&ready), 0);
        cr_assert_eq(ready, 'E');
        cr_assert_eq(host_exit_load(tmpdir, &e), 0);
        cr_assert_str_eq(e.reason, "StartError");
        host_exit_done(&e);
}

Test(host_shim, refuses_an_empty_directory_argument)
{
        cr_assert_eq(runtime_shim_main(""), 2);
}

Test(host_shim, names_an_invalid_mount_in_the_start_error)
{
        const char *json = "{\"id\":\"x\",\"argv\":[\"true\"],"
                           "\"mounts\":[{\"hostPath\":\"/tmp\",\"containerPath\":\"in/side\"}]}";
        char p[300], ready = 0;
        HostExit e;

        snprintf(p, sizeof(p), "%s/config.json", tmpdir);
        cr_assert_eq(write_file_atomic(p, json, strlen(json), 0600), 0);
        cr_assert_eq(run_shim(&ready), 0);
        cr_assert_eq(ready, 'E');
        cr_assert_eq(host_exit_load(tmpdir, &e), 0);
        cr_assert_str_eq(e.reason, "StartError");
        cr_assert(strstr(e.message, "mounts[0]: containerPath \"in/side\" is not an absolute path"),
                  "message: %s", e.message);
        host_exit_done(&e);
}
