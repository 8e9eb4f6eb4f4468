/* The systemd backend's units as data: names, the StartTransientUnit properties of a config
 * (built on a bus that is never spoken on, then read back), and how the properties read from
 * a unit map to a container's state, exit code and reason. No manager needed. */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "systemd-unit.h"

static sd_bus *bus;
static int peer = -1;

/* sd-bus builds messages only for a started bus: one end of a socket pair does */
static void setup(void)
{
        int fds[2];

        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        peer = fds[1];
        cr_assert_eq(sd_bus_new(&bus), 0);
        cr_assert_eq(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
        cr_assert_geq(sd_bus_start(bus), 0);
}

static void teardown(void)
{
        bus = sd_bus_close_unref(bus);
        peer = safe_close(peer);
}

TestSuite(systemd_unit, .init = setup, .fini = teardown);

Test(systemd_unit, names_units_after_pod_container_and_attempt)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        char longname[300];

        cr_assert_eq(systemd_unit_name("berth", "0b7e-11", "web", 3, &a), 0);
        cr_assert_str_eq(a, "berth-0b7e-11-web-3.service");
        /* what a unit name cannot hold is escaped as systemd escapes it */
        cr_assert_eq(systemd_unit_name("berth", "a/b c", "x", 0, &b), 0);
        cr_assert_str_eq(b, "berth-a\\x2fb\\x20c-x-0.service");
        cr_assert_eq(systemd_unit_name("berth", NULL, "x", 0, &c), 0);
        cr_assert_str_eq(c, "berth-none-x-0.service");

        char *d = NULL;
        cr_assert_eq(systemd_unit_name("berth", "u", "", 0, &d), -EINVAL);
        cr_assert_eq(systemd_unit_name("bad/prefix", "u", "x", 0, &d), -EINVAL);
        cr_assert_eq(systemd_unit_name("-x", "u", "x", 0, &d), -EINVAL);
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        cr_assert_eq(systemd_unit_name("berth", longname, "x", 0, &d), -ENAMETOOLONG);
        cr_assert_null(d);
        cr_assert(systemd_unit_prefix_valid("berth-it.x_1:2"));
        cr_assert_not(systemd_unit_prefix_valid(""));
        cr_assert_not(systemd_unit_prefix_valid(NULL));
        cr_assert_not(systemd_unit_prefix_valid(".hidden"));
}

/* --- reading the properties back as text --- */

static void print_value(sd_bus_message *m, FILE *f)
{
        char type;
        const char *contents;

        cr_assert_gt(sd_bus_message_peek_type(m, &type, &contents), 0);
        switch (type) {
        case 's':
        case 'o': {
                const char *s;
                cr_assert_geq(sd_bus_message_read_basic(m, type, &s), 0);
                fputs(s, f);
                break;
        }
        case 'b': {
                int b;
                cr_assert_geq(sd_bus_message_read_basic(m, 'b', &b), 0);
                fputs(b ? "true" : "false", f);
                break;
        }
        case 't': {
                uint64_t t;
                cr_assert_geq(sd_bus_message_read_basic(m, 't', &t), 0);
                fprintf(f, "%llu", (unsigned long long)t);
                break;
        }
        case 'i': {
                int32_t i;
                cr_assert_geq(sd_bus_message_read_basic(m, 'i', &i), 0);
                fprintf(f, "%d", i);
                break;
        }
        case 'a':
        case 'r':
        case 'v': {
                bool first = true;
                cr_assert_geq(sd_bus_message_enter_container(m, type, contents), 0);
                fputc(type == 'a' ? '[' : '(', f);
                while (sd_bus_message_peek_type(m, NULL, NULL) > 0) {
                        if (!first)
                                fputc(' ', f);
                        first = false;
                        print_value(m, f);
                }
                fputc(type == 'a' ? ']' : ')', f);
                cr_assert_geq(sd_bus_message_exit_container(m), 0);
                break;
        }
        default:
                cr_assert_fail("unexpected type %c", type);
        }
}

/* The value of property name in a sealed StartTransientUnit message, as text; NULL when absent. */
static char *prop(sd_bus_message *m, const char *name)
{
        const char *n, *unit, *mode;
        char *out = NULL;
        size_t size = 0;

        cr_assert_geq(sd_bus_message_rewind(m, true), 0);
        cr_assert_geq(sd_bus_message_read(m, "ss", &unit, &mode), 0);
        cr_assert_geq(sd_bus_message_enter_container(m, 'a', "(sv)"), 0);
        while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
                cr_assert_geq(sd_bus_message_read(m, "s", &n), 0);
                if (streq(n, name)) {
                        FILE *f = open_memstream(&out, &size);
                        print_value(m, f);
                        fclose(f);
                        return out;
                }
                cr_assert_geq(sd_bus_message_skip(m, "v"), 0);
                cr_assert_geq(sd_bus_message_exit_container(m), 0);
        }
        return NULL;
}

static sd_bus_message *build(const HostConfig *cfg, const SystemdUnitParams *p)
{
        sd_bus_message *m = NULL;

        cr_assert_eq(
            sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit"),
            0);
        cr_assert_geq(sd_bus_message_append(m, "ss", "x.service", "fail"), 0);
        cr_assert_eq(systemd_unit_append_properties(m, cfg, p), 0);
        cr_assert_geq(sd_bus_message_append(m, "a(sa(sv))", 0), 0);
        cr_assert_geq(sd_bus_message_seal(m, 1, 0), 0);
        return m;
}

#define assert_prop(m, name, expected)                                                                      \
        do {                                                                                                \
                _cleanup_free_ char *_v = prop(m, name);                                                    \
                cr_assert_not_null(_v, "%s is missing", name);                                              \
                cr_assert_str_eq(_v, expected, "%s", name);                                                 \
        } while (0)
#define assert_no_prop(m, name)                                                                             \
        do {                                                                                                \
                _cleanup_free_ char *_v = prop(m, name);                                                    \
                cr_assert_null(_v, "%s is set: %s", name, _v);                                              \
        } while (0)

static char *env_plain[] = {"PATH=/opt/bin/:relative:/usr/bin:/x/../y", "FOO=bar", NULL};

Test(systemd_unit, says_what_the_host_shim_does_in_properties)
{
        char *argv[] = {"sleep", "10", NULL};
        HostConfig cfg = {.argv = argv,
                          .env = env_plain,
                          .pod_namespace = "ns",
                          .pod_name = "p",
                          .container_name = "c",
                          .attempt = 2};
        SystemdUnitParams p = {.slice = "berth.slice", .identifier = "berth-u-c-2"};
        sd_bus_message *m = build(&cfg, &p);

        assert_prop(m, "Description", "(berth: pod ns/p, container c (attempt 2))");
        assert_prop(m, "Type", "(exec)");
        assert_prop(m, "RemainAfterExit", "(true)");
        assert_prop(m, "KillMode", "(mixed)");
        assert_prop(m, "KillSignal", "(15)");
        assert_prop(m, "TimeoutStopUSec", "(30000000)");
        assert_prop(m, "TimeoutStartUSec", "(18446744073709551615)");
        assert_prop(m, "StandardOutput", "(journal)");
        assert_prop(m, "StandardError", "(journal)");
        assert_prop(m, "SyslogLevelPrefix", "(false)");
        assert_prop(m, "Slice", "(berth.slice)");
        assert_prop(m, "SyslogIdentifier", "(berth-u-c-2)");
        assert_prop(m, "ExecStart", "([(sleep [sleep 10] false)])");
        /* the container's PATH, minus what systemd would refuse */
        assert_prop(m, "ExecSearchPath", "([/opt/bin /usr/bin])");
        assert_prop(m, "Environment", "([PATH=/opt/bin/:relative:/usr/bin:/x/../y FOO=bar])");
        assert_prop(m, "WorkingDirectory", "(/)");
        assert_no_prop(m, "User");
        assert_no_prop(m, "Group");
        assert_no_prop(m, "SystemCallFilter");
        assert_no_prop(m, "NoNewPrivileges");
        assert_no_prop(m, "MemoryMax");
        assert_no_prop(m, "ExecStartPre");
        assert_no_prop(m, "LogNamespace");
        assert_no_prop(m, "BindPaths");
        sd_bus_message_unref(m);
}

Test(systemd_unit, resolves_a_relative_command_against_the_working_directory)
{
        char *argv[] = {"./run.sh", NULL}, *abs[] = {"/bin/true", NULL};
        HostConfig cfg = {.argv = argv, .working_dir = "/srv/app"};
        SystemdUnitParams p = {};
        sd_bus_message *m = build(&cfg, &p);

        assert_prop(m, "ExecStart", "([(/srv/app/./run.sh [./run.sh] false)])");
        assert_no_prop(m, "ExecSearchPath");
        assert_prop(m, "WorkingDirectory", "(/srv/app)");
        sd_bus_message_unref(m);
        cfg.argv = abs;
        m = build(&cfg, &p);
        assert_prop(m, "ExecStart", "([(/bin/true [/bin/true] false)])");
        sd_bus_message_unref(m);
}

Test(systemd_unit, sets_identity_security_and_limits)
{
        char *argv[] = {"id", NULL};
        gid_t groups[] = {10, 20};
        HostConfig cfg = {.argv = argv,
                          .set_uid = true,
                          .uid = 1000,
                          .supplementary_gids = groups,
                          .n_supplementary_gids = 2,
                          .no_new_privs = true,
                          .seccomp_runtime_default = true,
                          .memory_limit_bytes = 64 << 20,
                          .cpu_limit_milli = 500,
                          .cpu_request_milli = 250};
        SystemdUnitParams p = {.stop_timeout = 7 * USEC_PER_SEC, .log_namespace = "ns1"};
        sd_bus_message *m = build(&cfg, &p);
        _cleanup_free_ char *filter = NULL;

        assert_prop(m, "User", "(1000)");
        /* only the uid changes: gid 0 stays, as in the host backend */
        assert_prop(m, "Group", "(0)");
        assert_prop(m, "SupplementaryGroups", "([10 20])");
        assert_prop(m, "NoNewPrivileges", "(true)");
        filter = prop(m, "SystemCallFilter");
        cr_assert(filter && strstr(filter, "((false [") && strstr(filter, " mount ") &&
                      strstr(filter, "[kexec_load "),
                  "filter: %s", filter);
        assert_prop(m, "SystemCallErrorNumber", "(1)");
        char ns[64];
        snprintf(ns, sizeof(ns), "(%llu)",
                 (unsigned long long)(CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS |
                                      CLONE_NEWPID | CLONE_NEWUTS));
        assert_prop(m, "RestrictNamespaces", ns);
        assert_prop(m, "LockPersonality", "(true)");
        assert_prop(m, "MemoryMax", "(67108864)");
        /* 500m: 50 ms per 100 ms period */
        assert_prop(m, "CPUQuotaPerSecUSec", "(500000)");
        assert_prop(m, "CPUQuotaPeriodUSec", "(100000)");
        /* 250m: shares 256, the kubelet's weight for them */
        assert_prop(m, "CPUWeight", "(10)");
        assert_no_prop(m, "CPUShares");
        assert_prop(m, "TimeoutStopUSec", "(7000000)");
        assert_prop(m, "LogNamespace", "(ns1)");
        sd_bus_message_unref(m);

        p.cpu_v1 = true;
        m = build(&cfg, &p);
        assert_prop(m, "CPUShares", "(256)");
        assert_no_prop(m, "CPUWeight");
        sd_bus_message_unref(m);
}

Test(systemd_unit, wraps_ids_unknown_to_the_user_database_in_setpriv)
{
        char *argv[] = {"id", "-u", NULL};
        gid_t groups[] = {7, 8};
        HostConfig cfg = {.argv = argv,
                          .set_uid = true,
                          .uid = 4321,
                          .set_gid = true,
                          .gid = 4322,
                          .supplementary_gids = groups,
                          .n_supplementary_gids = 2};
        SystemdUnitParams p = {.setpriv_path = "/usr/bin/setpriv"};
        sd_bus_message *m = build(&cfg, &p);

        assert_prop(
            m, "ExecStart",
            "([(/usr/bin/setpriv [setpriv --reuid=4321 --regid=4322 --groups=7,8 -- id -u] false)])");
        assert_no_prop(m, "User");
        assert_no_prop(m, "Group");
        assert_no_prop(m, "SupplementaryGroups");
        sd_bus_message_unref(m);

        cfg.n_supplementary_gids = 0;
        m = build(&cfg, &p);
        assert_prop(
            m, "ExecStart",
            "([(/usr/bin/setpriv [setpriv --reuid=4321 --regid=4322 --clear-groups -- id -u] false)])");
        sd_bus_message_unref(m);
}

Test(systemd_unit, waits_for_the_start_time_and_binds_mounts)
{
        char *argv[] = {"true", NULL};
        HostMount mounts[] = {{.host_path = "/a", .container_path = "/b"},
                              {.host_path = "/c", .container_path = "/d", .read_only = true},
                              {.host_path = "/e", .container_path = "/f"}};
        HostConfig cfg = {.argv = argv, .start_at = 10 * USEC_PER_SEC, .mounts = mounts, .n_mounts = 3};
        SystemdUnitParams p = {.now = 8500 * USEC_PER_MSEC, .sleep_path = "/usr/bin/sleep"};
        sd_bus_message *m = build(&cfg, &p);

        assert_prop(m, "ExecStartPre", "([(/usr/bin/sleep [sleep 1.500000] false)])");
        /* MS_REC */
        assert_prop(m, "BindPaths", "([(/a /b false 16384) (/e /f false 16384)])");
        assert_prop(m, "BindReadOnlyPaths", "([(/c /d false 16384)])");
        sd_bus_message_unref(m);

        /* a start time that has come: at once */
        p.now = 10 * USEC_PER_SEC;
        m = build(&cfg, &p);
        assert_no_prop(m, "ExecStartPre");
        sd_bus_message_unref(m);
}

Test(systemd_unit, refuses_a_config_without_a_command)
{
        sd_bus_message *m = NULL;
        char *empty[] = {NULL};
        HostConfig cfg = {.argv = empty};
        SystemdUnitParams p = {};

        cr_assert_eq(sd_bus_message_new_method_call(bus, &m, "a.b", "/a", "a.b", "C"), 0);
        cr_assert_eq(systemd_unit_append_properties(m, &cfg, &p), -EINVAL);
        sd_bus_message_unref(m);
}

/* --- the properties read back --- */

static sd_bus_message *get_all_reply(const char *load, const char *active, const char *sub,
                                     const char *result, uint32_t pid, uint64_t start, uint64_t exit,
                                     int32_t code, int32_t status)
{
        sd_bus_message *m = NULL;
        char *unknown[] = {"x", NULL};

        cr_assert_eq(sd_bus_message_new_method_call(bus, &m, "a.b", "/a", "a.b", "C"), 0);
        cr_assert_geq(sd_bus_message_open_container(m, 'a', "{sv}"), 0);
        cr_assert_geq(sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "LoadState", "s", load, "ActiveState",
                                            "s", active, "SubState", "s", sub, "Result", "s", result),
                      0);
        cr_assert_geq(sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}", "MainPID", "u", pid,
                                            "ExecMainStartTimestamp", "t", start, "ExecMainExitTimestamp",
                                            "t", exit, "ExecMainCode", "i", code, "ExecMainStatus", "i",
                                            status),
                      0);
        cr_assert_geq(sd_bus_message_append(m, "{sv}{sv}", "ControlGroup", "s", "/berth.slice/x.service",
                                            "Job", "(uo)", (uint32_t)0, "/"),
                      0);
        /* what the backend does not read is skipped */
        cr_assert_geq(sd_bus_message_open_container(m, 'e', "sv"), 0);
        cr_assert_geq(sd_bus_message_append(m, "s", "Names"), 0);
        cr_assert_geq(sd_bus_message_open_container(m, 'v', "as"), 0);
        cr_assert_geq(sd_bus_message_append_strv(m, unknown), 0);
        cr_assert_geq(sd_bus_message_close_container(m), 0);
        cr_assert_geq(sd_bus_message_close_container(m), 0);
        cr_assert_geq(sd_bus_message_close_container(m), 0);
        cr_assert_geq(sd_bus_message_seal(m, 1, 0), 0);
        cr_assert_geq(sd_bus_message_rewind(m, true), 0);
        return m;
}

static SystemdUnitState state_of(const char *load, const char *active, const char *sub, const char *result,
                                 uint32_t pid, uint64_t start, uint64_t exit, int32_t code, int32_t status)
{
        sd_bus_message *m = get_all_reply(load, active, sub, result, pid, start, exit, code, status);
        SystemdUnitState s;

        cr_assert_eq(systemd_unit_state_read(m, &s), 0);
        sd_bus_message_unref(m);
        return s;
}

Test(systemd_unit, reads_the_units_properties)
{
        SystemdUnitState s = state_of("loaded", "active", "running", "success", 42, 1000, 0, 0, 0);

        cr_assert_str_eq(s.load_state, "loaded");
        cr_assert_str_eq(s.active_state, "active");
        cr_assert_str_eq(s.sub_state, "running");
        cr_assert_str_eq(s.result, "success");
        cr_assert_eq(s.main_pid, 42);
        cr_assert_eq(s.exec_main_start, 1000);
        cr_assert_str_eq(s.control_group, "/berth.slice/x.service");
        cr_assert_eq(systemd_unit_phase(&s), SYSTEMD_UNIT_RUNNING);
        systemd_unit_state_done(&s);
}

Test(systemd_unit, maps_unit_states_to_phases)
{
        static const struct {
                const char *load, *active, *sub;
                uint32_t pid;
                uint64_t start;
                SystemdUnitPhase phase;
        } cases[] = {
            {"not-found", "inactive", "dead", 0, 0, SYSTEMD_UNIT_GONE},
            {"loaded", "activating", "start-pre", 0, 0, SYSTEMD_UNIT_STARTING},
            {"loaded", "activating", "start", 9, 5, SYSTEMD_UNIT_STARTING},
            {"loaded", "active", "running", 9, 5, SYSTEMD_UNIT_RUNNING},
            {"loaded", "deactivating", "stop-sigterm", 9, 5, SYSTEMD_UNIT_RUNNING},
            {"loaded", "deactivating", "stop-sigterm", 0, 5, SYSTEMD_UNIT_STOPPING},
            {"loaded", "active", "exited", 0, 5, SYSTEMD_UNIT_EXITED},
            {"loaded", "failed", "failed", 0, 5, SYSTEMD_UNIT_EXITED},
            {"loaded", "inactive", "dead", 0, 5, SYSTEMD_UNIT_EXITED},
            {"loaded", "inactive", "dead", 0, 0, SYSTEMD_UNIT_GONE},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                SystemdUnitState s = state_of(cases[i].load, cases[i].active, cases[i].sub, "success",
                                              cases[i].pid, cases[i].start, 0, 0, 0);
                cr_assert_eq(systemd_unit_phase(&s), cases[i].phase, "case %zu", i);
                systemd_unit_state_done(&s);
        }
}

static HostExit exit_of(const char *active, const char *result, uint64_t start, int32_t code, int32_t status,
                        SystemdStartJob job, bool stopped)
{
        SystemdUnitState s =
            state_of("loaded", active, active, result, 0, start, start ? start + 5 : 0, code, status);
        HostExit e;

        cr_assert_eq(systemd_unit_exit(&s, job, stopped, "cmd", "u.service", &e), 0);
        systemd_unit_state_done(&s);
        return e;
}

#define assert_exit(e, code, why)                                                                           \
        do {                                                                                                \
                cr_assert_eq((e).exit_code, code);                                                          \
                cr_assert_str_eq((e).reason, why);                                                          \
                host_exit_done(&(e));                                                                       \
        } while (0)

Test(systemd_unit, reads_how_a_unit_ended_as_the_kubelet_does)
{
        HostExit e;

        e = exit_of("active", "success", 100, CLD_EXITED, 0, SYSTEMD_START_JOB_DONE, false);
        cr_assert_eq(e.finished_at, 105);
        assert_exit(e, 0, "Completed");
        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 3, SYSTEMD_START_JOB_DONE, false);
        assert_exit(e, 3, "Error");
        e = exit_of("failed", "signal", 100, CLD_KILLED, SIGKILL, SYSTEMD_START_JOB_DONE, true);
        cr_assert_eq(e.signal, SIGKILL);
        assert_exit(e, 137, "Error");
        /* a clean SIGTERM leaves the unit active (exited) */
        e = exit_of("active", "success", 100, CLD_KILLED, SIGTERM, SYSTEMD_START_JOB_DONE, true);
        assert_exit(e, 143, "Error");
        e = exit_of("failed", "oom-kill", 100, CLD_KILLED, SIGKILL, SYSTEMD_START_JOB_DONE, false);
        assert_exit(e, 137, "OOMKilled");
        /* a command that exits 203 itself is not a start error once the job said it ran */
        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 203, SYSTEMD_START_JOB_DONE, false);
        assert_exit(e, 203, "Error");
}

Test(systemd_unit, reads_start_errors)
{
        HostExit e;

        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 203, SYSTEMD_START_JOB_FAILED, false);
        cr_assert(strstr(e.message, "exec: \"cmd\"") && strstr(e.message, "journalctl -u u.service"), "%s",
                  e.message);
        assert_exit(e, 128, "StartError");
        /* the job's end unknown (a restart in between): systemd's setup statuses tell */
        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 217, SYSTEMD_START_JOB_UNKNOWN, false);
        cr_assert(strstr(e.message, "217/USER"), "%s", e.message);
        assert_exit(e, 128, "StartError");
        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 3, SYSTEMD_START_JOB_UNKNOWN, false);
        assert_exit(e, 3, "Error");
        /* a command that ended before systemd saw its exec fails the job, but it ran */
        e = exit_of("failed", "exit-code", 100, CLD_EXITED, 3, SYSTEMD_START_JOB_FAILED, false);
        assert_exit(e, 3, "Error");
        /* the wait for the start time failed: the command never ran */
        e = exit_of("failed", "exit-code", 0, 0, 0, SYSTEMD_START_JOB_FAILED, false);
        cr_assert(strstr(e.message, "result: exit-code"), "%s", e.message);
        assert_exit(e, 128, "StartError");
        /* stopped before it started */
        e = exit_of("failed", "signal", 0, 0, 0, SYSTEMD_START_JOB_FAILED, true);
        cr_assert_str_eq(e.message, "stopped before the command started");
        assert_exit(e, 137, "Error");
}

Test(systemd_unit, knows_which_ids_the_user_database_has)
{
        char *argv[] = {"id", NULL};
        gid_t root_group[] = {0};
        HostConfig cfg = {.argv = argv,
                          .set_uid = true,
                          .uid = 0,
                          .set_gid = true,
                          .gid = 0,
                          .supplementary_gids = root_group,
                          .n_supplementary_gids = 1};

        cr_assert(systemd_unit_identity_known(&cfg));
        /* an id far beyond what any test host's database holds */
        cfg.uid = 3999999999u;
        cr_assert_not(systemd_unit_identity_known(&cfg));
        cfg.uid = 0;
        root_group[0] = 3999999999u;
        cr_assert_not(systemd_unit_identity_known(&cfg));
        /* no identity at all: nothing to look up */
        cr_assert(systemd_unit_identity_known(&(HostConfig){.argv = argv}));
}

Test(systemd_unit, finds_no_cgroup_for_a_unit_that_has_none)
{
        HostCgroup *cg = NULL;

        cr_assert_eq(systemd_unit_cgroup("/", &cg), -EINVAL);
        cr_assert_eq(systemd_unit_cgroup("/berth-no-such.slice/x.service", &cg), -ENOENT);
        cr_assert_null(cg);
}
