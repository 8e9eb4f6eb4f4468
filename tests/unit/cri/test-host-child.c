/* The container child's mounts end to end: real shims and a private mount namespace per
 * container holding its binds, checked from the command's side (what it reads and writes) and
 * from the host's (nothing shows there). Needs root and writable cgroups; skips otherwise,
 * except under CI=true where it fails instead. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event-run.h"
#include "runtime-fixture.h"

/* paths below the fixture's directory, and longer ones made from them */
#define PATH_SIZE 256
#define LONG_SIZE 512

static RuntimeFixture fx;

/* The first mount point of mountinfo at or below prefix (prefix "": any), into buf. */
static bool find_mount(const char *mountinfo, const char *prefix, bool exact, char *buf, size_t size)
{
        _cleanup_free_ char *s = NULL;
        size_t n = strlen(prefix);
        char mp[PATH_MAX];

        cr_assert_eq(read_full_file(mountinfo, 4 << 20, &s, NULL), 0, "reading %s", mountinfo);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                if (exact ? !streq(mp, prefix) : strncmp(mp, prefix, n) != 0 || (mp[n] != 0 && mp[n] != '/'))
                        continue;
                if (buf)
                        snprintf(buf, size, "%s", mp);
                return true;
        }
        return false;
}

static bool mounted_at(const char *mountinfo, const char *path)
{
        return find_mount(mountinfo, path, true, NULL, 0);
}

static void setup(void)
{
        runtime_fixture_setup(&fx, "host-child");
}

/* The tests unmount what they mount in the host's namespace; what a failed one left is
 * detached here (and is a failure), before the fixture removes the directory. */
static void teardown(void)
{
        char mp[PATH_MAX];
        int left = 0;

        while (left < 32 && find_mount("/proc/self/mountinfo", fx.tmpdir, false, mp, sizeof(mp))) {
                cr_expect(false, "left mounted in the host's namespace: %s", mp);
                cr_assert_eq(umount2(mp, MNT_DETACH), 0, "umount %s: %m", mp);
                left++;
        }
        runtime_fixture_teardown(&fx);
}

TestSuite(host_child, .init = setup, .fini = teardown, .timeout = 60);

/* <tmpdir>/<rel>, in a buffer of the caller's. */
static const char *at(char buf[static PATH_SIZE], const char *rel)
{
        snprintf(buf, PATH_SIZE, "%s/%s", fx.tmpdir, rel);
        return buf;
}

static void put_file(const char *path, const char *s)
{
        cr_assert_eq(write_file_atomic(path, s, strlen(s), 0644), 0, "writing %s", path);
}

static char *read_log(void)
{
        char p[PATH_SIZE];
        char *out = NULL;

        cr_assert_eq(runtime_log_read(at(p, "logs/c.log"), 0, false, -1, &out, NULL, NULL), 0);
        return out;
}

static RuntimeContainer status(const char *id)
{
        RuntimeContainer c;

        cr_assert_eq(runtime_container_status(fx.rt, id, &c), 0);
        return c;
}

/* Runs argv with the mounts to its end; returns its output, after checking it exited 0. */
static char *run_to_end(const RuntimeMount *mounts, size_t n, char **argv)
{
        RuntimeContainerConfig cfg = {.mounts = mounts, .n_mounts = n};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);
        char *out;

        runtime_fixture_wait_exit(&fx, id);
        out = read_log();
        RuntimeContainer c = status(id);
        cr_assert_eq(c.exit_code, 0, "reason %s, message %s, output:\n%s", c.reason, c.message, out);
        runtime_container_done(&c);
        runtime_fixture_remove_and_check(&fx, id, 0);
        return out;
}

static char *start_sleeper(const RuntimeMount *mounts, size_t n, pid_t *ret_pid)
{
        RuntimeContainerConfig cfg = {.mounts = mounts, .n_mounts = n};
        char *argv[] = {"sleep", "1000", NULL};
        char *id = runtime_fixture_start(&fx, &cfg, argv);
        RuntimeContainer c = status(id);

        cr_assert_eq(c.state, CONTAINER_RUNNING, "reason %s, message %s", c.reason, c.message);
        cr_assert_gt(c.pid, 0);
        *ret_pid = c.pid;
        runtime_container_done(&c);
        return id;
}

static void stop_and_remove(const char *id, pid_t pid)
{
        cr_assert_eq(runtime_stop_container(fx.rt, id, 0), 0);
        runtime_fixture_wait_exit(&fx, id);
        runtime_fixture_remove_and_check(&fx, id, pid);
}

/* <tmpdir>/host holding f ("hello"). */
static const char *make_host_dir(char buf[static PATH_SIZE])
{
        char f[PATH_SIZE];

        cr_assert_eq(mkdir(at(buf, "host"), 0755), 0);
        put_file(at(f, "host/f"), "hello\n");
        return buf;
}

Test(host_child, binds_a_directory_the_command_reads_and_writes_through)
{
        char host[PATH_SIZE], inside[PATH_SIZE], g[LONG_SIZE], script[3 * LONG_SIZE];
        RuntimeMount m = {.host_path = make_host_dir(host), .container_path = at(inside, "a/inside")};
        char *argv[] = {"sh", "-c", script, NULL};
        _cleanup_free_ char *out = NULL, *written = NULL;
        struct stat st;

        snprintf(script, sizeof(script), "cat %s/f && echo written > %s/g", inside, inside);
        out = run_to_end(&m, 1, argv);
        cr_assert_str_eq(out, "hello\n");
        cr_assert_eq(read_full_file(at(g, "host/g"), 4096, &written, NULL), 0);
        cr_assert_str_eq(written, "written\n");
        /* the mount point was made on the host, as a plain directory, and stayed empty there */
        cr_assert_eq(stat(inside, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 07777 & ~0755, 0, "mode %o", st.st_mode & 07777);
        snprintf(g, sizeof(g), "%s/f", inside);
        cr_assert_neq(access(g, F_OK), 0);
}

Test(host_child, makes_a_read_only_mount_read_only_below_too)
{
        char host[PATH_SIZE], inside[PATH_SIZE], sub[PATH_SIZE], p[LONG_SIZE], script[4 * LONG_SIZE];
        RuntimeMount m = {
            .host_path = make_host_dir(host), .container_path = at(inside, "inside"), .read_only = true};
        char *argv[] = {"sh", "-c", script, NULL};
        _cleanup_free_ char *out = NULL;

        /* a submount of the host directory, which the recursive bind takes along */
        cr_assert_eq(mkdir(at(sub, "host/sub"), 0755), 0);
        cr_assert_eq(mount("tmpfs", sub, "tmpfs", 0, "size=1m"), 0, "mount tmpfs: %m");
        snprintf(
            script, sizeof(script),
            "exec 2>&1; echo x > %s/g || echo top refused; echo x > %s/sub/g || echo sub refused; cat %s/f",
            inside, inside, inside);
        out = run_to_end(&m, 1, argv);
        cr_assert_eq(umount2(sub, 0), 0);
        cr_assert(strstr(out, "g: Read-only file system\ntop refused\n"), "output:\n%s", out);
        cr_assert(strstr(out, "sub/g: Read-only file system\nsub refused\n"), "output:\n%s", out);
        cr_assert(endswith(out, "hello\n"), "output:\n%s", out);
        cr_assert_neq(access(at(p, "host/g"), F_OK), 0);
        cr_assert_neq(access(at(p, "host/sub/g"), F_OK), 0);
}

Test(host_child, binds_a_file_on_a_file)
{
        char host[PATH_SIZE], inside[PATH_SIZE];
        RuntimeMount m = {.host_path = at(host, "hostfile"), .container_path = at(inside, "etc/conf")};
        char *argv[] = {"cat", inside, NULL};
        _cleanup_free_ char *out = NULL;
        struct stat st;

        put_file(host, "content\n");
        out = run_to_end(&m, 1, argv);
        cr_assert_str_eq(out, "content\n");
        /* the mount point: an empty file on the host, in a directory made for it */
        cr_assert_eq(stat(inside, &st), 0);
        cr_assert(S_ISREG(st.st_mode));
        cr_assert_eq(st.st_size, 0);
        cr_assert_eq(st.st_mode & 07777 & ~0644, 0, "mode %o", st.st_mode & 07777);
}

Test(host_child, keeps_its_mounts_out_of_the_hosts_namespace)
{
        char host[PATH_SIZE], inside[PATH_SIZE], p[LONG_SIZE], ns[64], own[64], theirs[64];
        RuntimeMount m = {.host_path = make_host_dir(host), .container_path = at(inside, "inside")};
        pid_t pid;
        _cleanup_free_ char *id = start_sleeper(&m, 1, &pid);

        cr_assert_not(mounted_at("/proc/self/mountinfo", inside), "the mount shows on the host");
        snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)pid);
        cr_assert(mounted_at(p, inside), "the container does not have the mount");
        snprintf(p, sizeof(p), "%s/f", inside);
        cr_assert_neq(access(p, F_OK), 0, "the host sees the container's view");
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
        cr_assert_gt(readlink(ns, theirs, sizeof(theirs) - 1), 0);
        cr_assert_gt(readlink("/proc/self/ns/mnt", own, sizeof(own) - 1), 0);
        cr_assert_str_neq(own, theirs);
        stop_and_remove(id, pid);
        cr_assert_not(mounted_at("/proc/self/mountinfo", inside));
}

Test(host_child, stays_in_the_hosts_mount_namespace_without_mounts)
{
        char ns[64], own[64] = {0}, theirs[64] = {0};
        pid_t pid;
        _cleanup_free_ char *id = start_sleeper(NULL, 0, &pid);

        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
        cr_assert_gt(readlink(ns, theirs, sizeof(theirs) - 1), 0);
        cr_assert_gt(readlink("/proc/self/ns/mnt", own, sizeof(own) - 1), 0);
        cr_assert_str_eq(own, theirs);
        stop_and_remove(id, pid);
}

Test(host_child, reports_a_missing_host_path_as_a_start_error)
{
        char host[PATH_SIZE], inside[PATH_SIZE], expected[3 * LONG_SIZE];
        RuntimeMount m = {.host_path = at(host, "nope"), .container_path = at(inside, "inside")};
        RuntimeContainerConfig cfg = {.mounts = &m, .n_mounts = 1};
        char *argv[] = {"true", NULL};
        _cleanup_free_ char *id = runtime_fixture_start(&fx, &cfg, argv);

        runtime_fixture_wait_exit(&fx, id);
        RuntimeContainer c = status(id);
        cr_assert_eq(c.state, CONTAINER_EXITED);
        cr_assert_str_eq(c.reason, "StartError");
        cr_assert_eq(c.exit_code, 128);
        snprintf(expected, sizeof(expected),
                 "mount: host path \"%s\" (for \"%s\"): No such file or directory", host, inside);
        cr_assert_str_eq(c.message, expected);
        runtime_container_done(&c);
        /* nothing was made for it */
        cr_assert_neq(access(inside, F_OK), 0);
        runtime_fixture_remove_and_check(&fx, id, 0);
}

Test(host_child, propagates_later_host_mounts_as_each_mount_asks)
{
        char shared[PATH_SIZE], src[PATH_SIZE], late[PATH_SIZE], p[LONG_SIZE];
        char slave[PATH_SIZE], private[PATH_SIZE], bidi[PATH_SIZE], seen[LONG_SIZE];
        RuntimeMount m[] = {
            {.host_path = at(src, "shared/src"),
             .container_path = at(slave, "slave"),
             .propagation = RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER},
            {.host_path = src, .container_path = at(private, "private")},
            {.host_path = src,
             .container_path = at(bidi, "bidi"),
             .propagation = RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL},
        };
        pid_t pid;

        /* a shared mount of the test's own: the host's "/" may well be private */
        cr_assert_eq(mkdir(at(shared, "shared"), 0755), 0);
        cr_assert_eq(mount("tmpfs", shared, "tmpfs", 0, "size=1m"), 0, "mount tmpfs: %m");
        cr_assert_eq(mount(NULL, shared, NULL, MS_SHARED, NULL), 0);
        cr_assert_eq(mkdir(src, 0755), 0);
        cr_assert_eq(mkdir(at(late, "shared/src/late"), 0755), 0);
        _cleanup_free_ char *id = start_sleeper(m, ELEMENTSOF(m), &pid);

        cr_assert_eq(mount("tmpfs", late, "tmpfs", 0, "size=1m"), 0, "mount tmpfs: %m");
        snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)pid);
        snprintf(seen, sizeof(seen), "%s/late", slave);
        cr_assert(mounted_at(p, seen), "HOST_TO_CONTAINER: the host's later mount is missing");
        snprintf(seen, sizeof(seen), "%s/late", bidi);
        cr_assert(mounted_at(p, seen), "BIDIRECTIONAL: the host's later mount is missing");
        snprintf(seen, sizeof(seen), "%s/late", private);
        cr_assert_not(mounted_at(p, seen), "PRIVATE: the host's later mount shows");
        cr_assert_eq(umount2(late, 0), 0);
        cr_assert_eq(umount2(shared, 0), 0, "umount %s: %m", shared);
        stop_and_remove(id, pid);
}
