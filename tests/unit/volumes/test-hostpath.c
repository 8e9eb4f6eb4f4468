/* hostPath type checks against real files, sockets and devices, and subPath resolution
 * against symlinks that stay inside the volume or try to leave it. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "macro.h"
#include "util.h"

#include "hostpath.h"

static char tmp[] = "/tmp/berth-test-hp-XXXXXX";
static char real_tmp[PATH_MAX];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmp));
        cr_assert_not_null(realpath(tmp, real_tmp));
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmp), 0);
}

TestSuite(hostpath, .init = setup, .fini = teardown);
TestSuite(subpath, .init = setup, .fini = teardown);

/* tmp/<rel>, in a buffer of the caller's */
static char *at(char buf[static PATH_MAX], const char *rel)
{
        snprintf(buf, PATH_MAX, "%s/%s", tmp, rel);
        return buf;
}

static void make_file(const char *rel, const char *content)
{
        char p[PATH_MAX];

        cr_assert_eq(write_file_atomic(at(p, rel), content, strlen(content), 0644), 0, "%s", rel);
}

static void make_dir(const char *rel)
{
        char p[PATH_MAX];

        cr_assert_eq(mkdir_p(at(p, rel), 0755), 0, "%s", rel);
}

static void make_link(const char *rel, const char *target)
{
        char p[PATH_MAX];

        cr_assert_eq(symlink(target, at(p, rel)), 0, "%s: %m", rel);
}

static void assert_check_ok(const char *path, HostPathType type)
{
        char *err = NULL;
        int r = hostpath_check(path, type, &err);

        cr_assert_eq(r, 0, "%s: %d %s", path, r, err ? err : "");
        cr_assert_null(err);
}

static void assert_check_fails(const char *path, HostPathType type, int want_r, const char *what)
{
        _cleanup_free_ char *want = NULL;
        char *err = NULL;

        cr_assert_gt(asprintf_safe(&want, "hostPath type check failed: %s is not a %s", path, what), 0);
        cr_assert_eq(hostpath_check(path, type, &err), want_r, "%s", path);
        cr_assert_str_eq(err, want);
        free(err);
}

Test(hostpath, type_names_are_the_kubernetes_ones)
{
        static const struct {
                const char *s;
                HostPathType t;
        } names[] = {
            {"", HOSTPATH_UNSET},
            {"DirectoryOrCreate", HOSTPATH_DIRECTORY_OR_CREATE},
            {"Directory", HOSTPATH_DIRECTORY},
            {"FileOrCreate", HOSTPATH_FILE_OR_CREATE},
            {"File", HOSTPATH_FILE},
            {"Socket", HOSTPATH_SOCKET},
            {"CharDevice", HOSTPATH_CHAR_DEVICE},
            {"BlockDevice", HOSTPATH_BLOCK_DEVICE},
        };
        HostPathType t;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                t = (HostPathType)-1;
                cr_assert_eq(hostpath_type_from_string(names[i].s, &t), 0, "%s", names[i].s);
                cr_assert_eq(t, names[i].t, "%s", names[i].s);
        }
        cr_assert_eq(hostpath_type_from_string(NULL, &t), 0);
        cr_assert_eq(t, HOSTPATH_UNSET);
        cr_assert_eq(hostpath_type_from_string("directory", &t), -EINVAL);
        cr_assert_eq(hostpath_type_from_string("Dir", &t), -EINVAL);
}

Test(hostpath, unset_type_checks_nothing)
{
        char p[PATH_MAX];
        struct stat st;

        assert_check_ok(at(p, "missing"), HOSTPATH_UNSET);
        cr_assert_lt(lstat(p, &st), 0);
}

Test(hostpath, directory)
{
        char d[PATH_MAX], f[PATH_MAX], m[PATH_MAX], l[PATH_MAX];
        struct stat st;

        make_dir("d");
        make_file("f", "x");
        make_link("l", "d");
        assert_check_ok(at(d, "d"), HOSTPATH_DIRECTORY);
        assert_check_ok(at(l, "l"), HOSTPATH_DIRECTORY);
        assert_check_fails(at(f, "f"), HOSTPATH_DIRECTORY, -EINVAL, "directory");
        assert_check_fails(at(m, "missing"), HOSTPATH_DIRECTORY, -EINVAL, "directory");
        cr_assert_lt(lstat(m, &st), 0, "Directory must not create");
}

Test(hostpath, file)
{
        char d[PATH_MAX], f[PATH_MAX], m[PATH_MAX];

        make_dir("d");
        make_file("f", "x");
        assert_check_ok(at(f, "f"), HOSTPATH_FILE);
        assert_check_fails(at(d, "d"), HOSTPATH_FILE, -EINVAL, "file");
        assert_check_fails(at(m, "missing"), HOSTPATH_FILE, -EINVAL, "file");
        assert_check_fails("/dev/null", HOSTPATH_FILE, -EINVAL, "file");
}

Test(hostpath, socket)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char s[PATH_MAX], f[PATH_MAX], d[PATH_MAX];

        cr_assert_geq(fd, 0);
        at(s, "sock");
        cr_assert_lt(strlen(s), sizeof(sa.sun_path));
        strcpy(sa.sun_path, s);
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %m");
        make_file("f", "x");
        make_dir("d");
        assert_check_ok(s, HOSTPATH_SOCKET);
        assert_check_fails(at(f, "f"), HOSTPATH_SOCKET, -EINVAL, "socket file");
        assert_check_fails(at(d, "d"), HOSTPATH_SOCKET, -EINVAL, "socket file");
        assert_check_fails(s, HOSTPATH_FILE, -EINVAL, "file");
}

Test(hostpath, char_device)
{
        char f[PATH_MAX];

        make_file("f", "x");
        assert_check_ok("/dev/null", HOSTPATH_CHAR_DEVICE);
        assert_check_fails(at(f, "f"), HOSTPATH_CHAR_DEVICE, -EINVAL, "character device");
        assert_check_fails("/dev/null", HOSTPATH_DIRECTORY, -EINVAL, "directory");
}

Test(hostpath, block_device)
{
        static const char *const candidates[] = {"/dev/loop0", "/dev/sda",  "/dev/vda", "/dev/nvme0n1",
                                                 "/dev/xvda",  "/dev/ram0", "/dev/sr0"};
        char d[PATH_MAX];
        struct stat st;

        /* Whatever the machine has, these never are block devices. */
        assert_check_fails("/dev/null", HOSTPATH_BLOCK_DEVICE, -EINVAL, "block device");
        assert_check_fails(at(d, ""), HOSTPATH_BLOCK_DEVICE, -EINVAL, "block device");
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                if (stat(candidates[i], &st) < 0 || !S_ISBLK(st.st_mode))
                        continue;
                assert_check_ok(candidates[i], HOSTPATH_BLOCK_DEVICE);
                assert_check_fails(candidates[i], HOSTPATH_CHAR_DEVICE, -EINVAL, "character device");
                assert_check_fails(candidates[i], HOSTPATH_FILE, -EINVAL, "file");
                break;
        }
}

Test(hostpath, directory_or_create_creates_the_whole_path)
{
        char p[PATH_MAX], f[PATH_MAX];
        mode_t mask = umask(022);
        struct stat st;

        umask(mask);
        assert_check_ok(at(p, "new/deeper/dir"), HOSTPATH_DIRECTORY_OR_CREATE);
        cr_assert_eq(stat(p, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0755 & ~mask);
        assert_check_ok(p, HOSTPATH_DIRECTORY_OR_CREATE);
        make_file("f", "x");
        assert_check_fails(at(f, "f"), HOSTPATH_DIRECTORY_OR_CREATE, -EINVAL, "directory");
}

Test(hostpath, file_or_create_creates_an_empty_file)
{
        _cleanup_free_ char *content = NULL;
        char p[PATH_MAX], f[PATH_MAX], d[PATH_MAX];
        mode_t mask = umask(022);
        struct stat st;

        umask(mask);
        assert_check_ok(at(p, "new-file"), HOSTPATH_FILE_OR_CREATE);
        cr_assert_eq(lstat(p, &st), 0);
        cr_assert(S_ISREG(st.st_mode));
        cr_assert_eq(st.st_size, 0);
        cr_assert_eq(st.st_mode & 07777, 0644 & ~mask);
        /* an existing file is left as it is */
        make_file("f", "keep");
        assert_check_ok(at(f, "f"), HOSTPATH_FILE_OR_CREATE);
        cr_assert_eq(read_full_file(f, 100, &content, NULL), 0);
        cr_assert_str_eq(content, "keep");
        make_dir("d");
        assert_check_fails(at(d, "d"), HOSTPATH_FILE_OR_CREATE, -EINVAL, "file");
}

Test(hostpath, file_or_create_needs_the_parent)
{
        _cleanup_free_ char *want = NULL;
        char p[PATH_MAX], parent[PATH_MAX];
        char *err = NULL;
        struct stat st;

        at(p, "no-such-dir/file");
        cr_assert_gt(asprintf_safe(&want, "failed to create hostPath file %s: No such file or directory", p),
                     0);
        cr_assert_eq(hostpath_check(p, HOSTPATH_FILE_OR_CREATE, &err), -ENOENT);
        cr_assert_str_eq(err, want);
        free(err);
        cr_assert_lt(lstat(at(parent, "no-such-dir"), &st), 0);
}

static void assert_resolves(const char *sub, bool create, const char *want_rel)
{
        _cleanup_free_ char *want = NULL;
        char root[PATH_MAX], *path = NULL, *err = NULL;
        int r;

        cr_assert_gt(asprintf_safe(&want, "%s/vol%s%s", real_tmp, *want_rel ? "/" : "", want_rel), 0);
        r = subpath_resolve(at(root, "vol"), sub, create, &path, &err);
        cr_assert_eq(r, 0, "%s: %d %s", sub, r, err ? err : "");
        cr_assert_null(err);
        cr_assert_str_eq(path, want, "%s", sub);
        free(path);
}

static void assert_refused(const char *sub, bool create, int want_r, const char *want)
{
        char root[PATH_MAX], *path = NULL, *err = NULL;

        cr_assert_eq(subpath_resolve(at(root, "vol"), sub, create, &path, &err), want_r, "%s", sub);
        cr_assert_null(path);
        cr_assert_str_eq(err, want, "%s", sub);
        free(err);
}

Test(subpath, plain_and_nested)
{
        char p[PATH_MAX];
        struct stat st;

        make_dir("vol/a/b");
        make_file("vol/a/f", "x");
        assert_resolves("a", false, "a");
        assert_resolves("a/b", false, "a/b");
        assert_resolves("./a//b/", false, "a/b");
        assert_resolves("a/f", false, "a/f");
        assert_resolves("", false, "");
        assert_refused("x/y/z", false, -ENOENT, "subPath \"x/y/z\" does not exist: x is missing");
        assert_refused("a/b/c", false, -ENOENT, "subPath \"a/b/c\" does not exist: a/b/c is missing");
        cr_assert_lt(lstat(at(p, "vol/x"), &st), 0);
        assert_resolves("x/y/z", true, "x/y/z");
        cr_assert_eq(stat(at(p, "vol/x/y/z"), &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        assert_refused("a/f/g", true, -ENOTDIR, "subPath \"a/f/g\": a/f is not a directory");
}

Test(subpath, refuses_absolute_paths_and_backsteps)
{
        make_dir("vol/a");
        assert_refused("/etc", false, -EINVAL, "subPath \"/etc\" must be a relative path");
        assert_refused("..", false, -EINVAL, "subPath \"..\" must not contain '..'");
        assert_refused("a/../../etc", true, -EINVAL, "subPath \"a/../../etc\" must not contain '..'");
        assert_refused("a/..", false, -EINVAL, "subPath \"a/..\" must not contain '..'");
        assert_resolves("a/..b", true, "a/..b");
}

Test(subpath, follows_symlinks_that_stay_inside)
{
        _cleanup_free_ char *abs_target = NULL;

        make_dir("vol/a/b");
        make_dir("vol/c");
        make_link("vol/rel", "a");
        make_link("vol/a/up", "../c");
        make_link("vol/a/b/dot", "./../b");
        cr_assert_gt(asprintf_safe(&abs_target, "%s/vol/c", real_tmp), 0);
        make_link("vol/abs", abs_target);
        assert_resolves("rel", false, "a");
        assert_resolves("rel/b", false, "a/b");
        assert_resolves("a/up", false, "c");
        assert_resolves("rel/b/dot/dot", false, "a/b");
        assert_resolves("abs", false, "c");
        assert_resolves("rel/new/dir", true, "a/new/dir");
}

Test(subpath, refuses_symlinks_pointing_outside)
{
        _cleanup_free_ char *msg = NULL;
        char p[PATH_MAX], outside[PATH_MAX];
        struct stat st;

        make_dir("vol/a");
        make_dir("outside");
        make_link("vol/etc", "/etc");
        make_link("vol/a/esc", "../../outside");
        make_link("vol/a/esc2", "../..");
        at(outside, "outside");
        make_link("vol/abs-out", outside);
        assert_refused("etc", false, -EINVAL,
                       "subPath \"etc\" must not leave the volume: symlink \"etc\" points to /etc");
        assert_refused("etc/passwd", false, -EINVAL,
                       "subPath \"etc/passwd\" must not leave the volume: symlink \"etc\" points to /etc");
        assert_refused("a/esc", true, -EINVAL,
                       "subPath \"a/esc\" must not leave the volume: a symlink on the way points above it");
        assert_refused(
            "a/esc2/vol", false, -EINVAL,
            "subPath \"a/esc2/vol\" must not leave the volume: a symlink on the way points above it");
        cr_assert_gt(
            asprintf_safe(
                &msg, "subPath \"abs-out/new\" must not leave the volume: symlink \"abs-out\" points to %s",
                outside),
            0);
        assert_refused("abs-out/new", true, -EINVAL, msg);
        cr_assert_lt(lstat(at(p, "outside/new"), &st), 0, "created a directory outside the volume");
}

Test(subpath, refuses_symlink_chains_that_leave)
{
        _cleanup_free_ char *msg = NULL;
        char outside[PATH_MAX];

        make_dir("vol/a");
        make_dir("outside");
        /* l1 -> l2 -> a/l3 -> ../../outside: every link looks harmless alone but the last */
        make_link("vol/l1", "l2");
        make_link("vol/l2", "a/l3");
        make_link("vol/a/l3", "../../outside");
        assert_refused("l1", false, -EINVAL,
                       "subPath \"l1\" must not leave the volume: a symlink on the way points above it");
        /* the same with an absolute last hop */
        at(outside, "outside");
        make_link("vol/m1", "a/m2");
        make_link("vol/a/m2", outside);
        cr_assert_gt(
            asprintf_safe(&msg, "subPath \"m1/x\" must not leave the volume: symlink \"a/m2\" points to %s",
                          outside),
            0);
        assert_refused("m1/x", true, -EINVAL, msg);
        /* and a loop */
        make_link("vol/s1", "s2");
        make_link("vol/s2", "s1");
        assert_refused("s1", false, -ELOOP, "subPath \"s1\": too many levels of symlinks");
}
