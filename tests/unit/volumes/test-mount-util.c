/* Tests of mount-util: sample mountinfo files under data/ parsed as data, and, as root, real
 * tmpfs and bind mounts in a scratch directory under /tmp. Each root test first moves into a
 * mount namespace of its own (criterion runs it in a forked child) whose mounts are private,
 * so nothing it mounts can propagate to the host; it still unmounts everything itself, checks
 * mountinfo that nothing is left, and removes the directory. Without root these tests skip,
 * except under CI=true, where they fail. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "mount-util.h"
#include "util.h"

static char *data_path(const char *name)
{
        const char *dir = getenv("BERTH_TEST_DATA");
        char *p;

        cr_assert_not_null(dir, "BERTH_TEST_DATA is not set");
        p = strjoin(dir, "/", name, NULL);
        cr_assert_not_null(p);
        return p;
}

static void parse_sample(const char *name, MountTable *ret)
{
        _cleanup_free_ char *p = data_path(name);

        cr_assert_eq(mount_table_parse(p, ret), 0, "parsing %s", name);
}

static size_t index_of(const MountTable *t, const MountEntry *e)
{
        cr_assert_not_null(e);
        return (size_t)(e - t->entries);
}

Test(mount_util, parses_every_field_of_a_host_table)
{
        _cleanup_(mount_table_done) MountTable t = {};
        const MountEntry *e;

        parse_sample("host.mountinfo", &t);
        cr_assert_eq(t.n, 11);

        e = &t.entries[0];
        cr_assert_eq(e->id, 22);
        cr_assert_eq(e->parent_id, 1);
        cr_assert_eq(e->major, 259);
        cr_assert_eq(e->minor, 2);
        cr_assert_str_eq(e->root, "/");
        cr_assert_str_eq(e->target, "/");
        cr_assert_str_eq(e->source, "/dev/nvme0n1p2");
        cr_assert_str_eq(e->fstype, "ext4");
        cr_assert_str_eq(e->vfs_options, "rw,relatime");
        cr_assert(strstr(e->fs_options, "errors=remount-ro"));
        cr_assert_str_eq(e->optional, "shared:1");

        e = &t.entries[3];
        cr_assert_str_eq(e->target, "/dev");
        cr_assert_str_eq(e->source, "udev");
        cr_assert_str_eq(e->fstype, "devtmpfs");
        cr_assert_str_eq(e->vfs_options, "rw,nosuid,relatime");
        cr_assert(strstr(e->fs_options, "size=8103452k,nr_inodes=2025863,mode=755"));

        /* a bind shows the directory it came from as its root */
        e = mount_table_find_target(&t, "/var/lib/berth/hostpath/data");
        cr_assert_eq(index_of(&t, e), 9);
        cr_assert_str_eq(e->root, "/srv/exports/data");
        cr_assert_eq(e->parent_id, 22);

        /* file order is kept: parents before children */
        cr_assert_str_eq(t.entries[10].target, "/run/user/1000");
        cr_assert_eq(t.entries[10].parent_id, t.entries[5].id);
}

Test(mount_util, reads_the_propagation_fields_of_a_container)
{
        _cleanup_(mount_table_done) MountTable t = {};

        parse_sample("container.mountinfo", &t);
        cr_assert_eq(t.n, 10);
        cr_assert_str_eq(mount_table_find_target(&t, "/")->optional, "master:301");
        cr_assert_str_eq(mount_table_find_target(&t, "/proc")->optional, "");
        cr_assert_str_eq(mount_table_find_target(&t, "/data")->optional, "shared:410 master:1");
        cr_assert_str_eq(mount_table_find_target(&t, "/run/secrets/token")->optional, "shared:420");
        cr_assert_str_eq(mount_table_find_target(&t, "/mnt/prop")->optional, "master:12 propagate_from:3");
        cr_assert_str_eq(mount_table_find_target(&t, "/mnt/prop")->source, "none");
        cr_assert_str_eq(mount_table_find_target(&t, "/etc/hosts")->root,
                         "/var/lib/berth/pods/u1/etc-hosts");
        cr_assert_str_eq(mount_table_find_target(&t, "/etc/hosts")->vfs_options, "ro,relatime");
        cr_assert(strstr(mount_table_find_target(&t, "/")->fs_options, "lowerdir=/var/lib/containerd/l1:"));
}

Test(mount_util, unescapes_octal_escapes)
{
        _cleanup_(mount_table_done) MountTable t = {};
        const MountEntry *e;

        parse_sample("spaces.mountinfo", &t);
        cr_assert_eq(t.n, 5);
        e = mount_table_find_target(&t, "/mnt/my disk");
        cr_assert_eq(index_of(&t, e), 1);
        e = mount_table_find_target(&t, "/srv/my files two");
        cr_assert_eq(index_of(&t, e), 2);
        cr_assert_str_eq(e->root, "/home/user/My Files");
        e = mount_table_find_target(&t, "/mnt/back\\slash\ttab");
        cr_assert_eq(index_of(&t, e), 3);
        cr_assert_str_eq(e->source, "my source");
        /* "/mnt/my" is a mount of its own, not a prefix of "/mnt/my disk" */
        cr_assert_eq(index_of(&t, mount_table_find_target(&t, "/mnt/my")), 4);
        cr_assert_null(mount_table_find_target(&t, "/mnt/my\\040disk"));
}

Test(mount_util, finds_the_topmost_of_stacked_mounts)
{
        _cleanup_(mount_table_done) MountTable t = {};

        parse_sample("stacked.mountinfo", &t);
        cr_assert_eq(mount_table_find_target(&t, "/var/lib/berth/x")->id, 35);
        cr_assert_str_eq(mount_table_find_target(&t, "/var/lib/berth/x")->source, "third");
        /* ids are reused: the top of a stack may carry the smaller one */
        cr_assert_eq(mount_table_find_target(&t, "/var/lib/berth/y")->id, 27);
        /* a mount moved onto a busy target sits on top although it comes first in the file */
        cr_assert_eq(mount_table_find_target(&t, "/var/lib/berth/w")->id, 51);
        /* the same directory spelled with extra slashes */
        cr_assert_eq(mount_table_find_target(&t, "//var/lib//berth/x/")->id, 35);
        cr_assert_null(mount_table_find_target(&t, "/var/lib/berth"));
        cr_assert_null(mount_table_find_target(&t, "/var/lib/berth/x/y"));
        cr_assert_eq(mount_table_find_target(&t, "/")->id, 20);
}

static void assert_below(const MountTable *t, const char *prefix, const int *ids, size_t n_ids)
{
        _cleanup_free_ const MountEntry **v = NULL;
        size_t n = SIZE_MAX;

        cr_assert_eq(mount_table_below(t, prefix, &v, &n), 0);
        cr_assert_eq(n, n_ids, "%zu mounts below %s, expected %zu", n, prefix, n_ids);
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(v[i]->id, ids[i], "below %s, #%zu is %d, expected %d", prefix, i, v[i]->id,
                             ids[i]);
}

Test(mount_util, lists_mounts_below_a_prefix_deepest_first)
{
        _cleanup_(mount_table_done) MountTable t = {};

        parse_sample("nested.mountinfo", &t);
        /* the stacked token mount (34) goes before the one below it (33); of equal depth,
         * the latest first */
        assert_below(&t, "/var/lib/berth/pods/u1", (int[]){32, 31, 34, 33, 30}, 5);
        assert_below(&t, "/var/lib/berth/pods/u1/", (int[]){32, 31, 34, 33, 30}, 5);
        /* the prefix itself counts, and goes last */
        assert_below(&t, "/var/lib/berth/pods", (int[]){32, 31, 34, 35, 33, 30, 36, 21}, 8);
        assert_below(&t, "/var/lib/berth/pods/u1/volumes/token", (int[]){34, 33}, 2);
        assert_below(&t, "/var/lib/berth/pods/u1/volumes/cache/data/deep/er", (int[]){32}, 1);
        assert_below(&t, "/var/lib/berth/pods/u", NULL, 0);
        assert_below(&t, "/var/lib/berth/pods/u1/volumes/tok", NULL, 0);
}

Test(mount_util, lists_below_by_whole_components)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        size_t n;

        parse_sample("nested.mountinfo", &t);
        /* /var/lib/berth/podsx is not below /var/lib/berth/pods, nor u10 and u1-x below u1 */
        assert_below(&t, "/var/lib/berth/podsx", (int[]){37}, 1);
        assert_below(&t, "/var/lib/berth/pods/u10", (int[]){35}, 1);
        assert_below(&t, "/var/lib/berth/pods/u1-x", (int[]){36}, 1);
        cr_assert_eq(mount_table_below(&t, "/", &v, &n), 0);
        cr_assert_eq(n, t.n);
        cr_assert_eq(v[n - 1]->id, 20);
        cr_assert_eq(mount_table_below(&t, "", &v, &n), -EINVAL);
}

Test(mount_util, refuses_files_that_are_not_mountinfo)
{
        MountTable t = {};
        _cleanup_free_ char *broken = data_path("broken.mountinfo");
        _cleanup_free_ char *last = data_path("broken-last-line.mountinfo");
        _cleanup_free_ char *fstab = data_path("not-mountinfo.fstab");
        _cleanup_free_ char *missing = data_path("no-such.mountinfo");

        cr_assert_eq(mount_table_parse(broken, &t), -EBADMSG);
        cr_assert_eq(mount_table_parse(last, &t), -EBADMSG);
        cr_assert_eq(mount_table_parse(fstab, &t), -EBADMSG);
        cr_assert_eq(mount_table_parse(missing, &t), -ENOENT);
        cr_assert_eq(t.n, 0);
        cr_assert_null(t.entries);
        mount_table_done(&t);
}

Test(mount_util, parses_the_live_table)
{
        _cleanup_(mount_table_done) MountTable t = {};
        const MountEntry *proc;

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        cr_assert_gt(t.n, 0);
        proc = mount_table_find_target(&t, "/proc");
        cr_assert_not_null(proc);
        cr_assert_str_eq(proc->fstype, "proc");
        cr_assert_eq(mount_is_mountpoint("/proc"), 1);
        cr_assert_eq(mount_is_mountpoint("/proc/self"), 0);
        cr_assert_eq(mount_is_mountpoint("/no/such/berth/path"), 0);
        cr_assert_eq(mount_is_mountpoint("relative"), -EINVAL);
}

/* --- as root, in a mount namespace of the test's own --- */

static char scratch[PATH_MAX];

static void enter_scratch(void)
{
        char real[PATH_MAX];

        if (geteuid() != 0) {
                if (streq_ptr(getenv("CI"), "true"))
                        cr_assert_fail("test-mount-util needs root to mount (CI=true)");
                cr_skip_test("needs root to mount (run as root; CI=true makes this a failure)");
        }
        cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "make / private: %s",
                     strerror(errno));
        snprintf(scratch, sizeof(scratch), "/tmp/berth-test-mount-util-XXXXXX");
        if (!mkdtemp(scratch)) {
                scratch[0] = '\0';
                cr_assert_fail("mkdtemp: %s", strerror(errno));
        }
        /* mountinfo spells it without symlinks */
        cr_assert_not_null(realpath(scratch, real));
        snprintf(scratch, sizeof(scratch), "%s", real);
}

static void leave_scratch(void)
{
        if (!scratch[0])
                return;
        /* after a failed assertion: leave nothing behind, even though the namespace dies with
         * the test process */
        (void)mount_umount_below(scratch);
        cr_assert_eq(rm_rf(scratch), 0);
        scratch[0] = '\0';
}

static char *in_scratch(const char *name)
{
        char *p = strjoin(scratch, "/", name, NULL);

        cr_assert_not_null(p);
        return p;
}

static MountEntry live_entry(const char *target, MountTable *t)
{
        const MountEntry *e;

        cr_assert_eq(mount_table_parse(NULL, t), 0);
        e = mount_table_find_target(t, target);
        cr_assert_not_null(e, "nothing mounted on %s", target);
        return *e;
}

static char *live_optional(const char *target)
{
        _cleanup_(mount_table_done) MountTable t = {};
        char *s = strdup(live_entry(target, &t).optional);

        cr_assert_not_null(s);
        return s;
}

static size_t count_mounts_at(const char *target)
{
        _cleanup_(mount_table_done) MountTable t = {};
        size_t n = 0;

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        for (size_t i = 0; i < t.n; i++)
                n += streq(t.entries[i].target, target);
        return n;
}

static void assert_nothing_mounted_below(const char *prefix)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        size_t n;

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        cr_assert_eq(mount_table_below(&t, prefix, &v, &n), 0);
        cr_assert_eq(n, 0, "%zu mounts left below %s, first %s", n, prefix, n > 0 ? v[0]->target : "");
}

static void write_text(const char *path, const char *text)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        cr_assert_geq(fd, 0, "creating %s: %s", path, strerror(errno));
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void assert_text(const char *path, const char *text)
{
        _cleanup_free_ char *s = NULL;

        cr_assert_eq(read_one_line_file(path, &s), 0, "reading %s", path);
        cr_assert_str_eq(s, text);
}

static int create_errno(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

Test(mount_util, mounts_a_tmpfs_with_size_and_mode, .fini = leave_scratch)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *target = NULL, *link = NULL, *via_link = NULL;
        struct statfs sf;
        struct stat st;
        MountEntry e;

        enter_scratch();
        target = in_scratch("a/tmp");
        cr_assert_eq(mount_tmpfs(target, 1 << 20, 0711), 0);

        cr_assert_eq(statfs(target, &sf), 0);
        cr_assert_eq(sf.f_type, TMPFS_MAGIC);
        cr_assert_eq((uint64_t)sf.f_blocks * sf.f_bsize, 1 << 20);
        cr_assert_eq(stat(target, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0711);
        cr_assert_eq(mount_is_mountpoint(target), 1);
        e = live_entry(target, &t);
        cr_assert_str_eq(e.fstype, "tmpfs");
        cr_assert_str_eq(e.source, "tmpfs");
        cr_assert(strstr(e.fs_options, "size=1024k"), "%s", e.fs_options);
        cr_assert(strstr(e.fs_options, "mode=711"), "%s", e.fs_options);

        /* again, also through a symlink and with a trailing slash: still one mount */
        cr_assert_eq(mount_tmpfs(target, 1 << 20, 0711), 0);
        link = in_scratch("link");
        cr_assert_eq(symlink(scratch, link), 0);
        via_link = in_scratch("link/a/tmp/");
        cr_assert_eq(mount_tmpfs(via_link, 1 << 20, 0711), 0);
        cr_assert_eq(mount_do("tmpfs", target, "tmpfs", "size=2m"), 0);
        cr_assert_eq(count_mounts_at(target), 1);

        cr_assert_eq(mount_umount(target), 0);
        cr_assert_eq(mount_is_mountpoint(target), 0);
        cr_assert_eq(count_mounts_at(target), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, binds_a_directory_read_only, .fini = leave_scratch)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *src = NULL, *dst = NULL, *src_file = NULL, *dst_file = NULL, *dst_new = NULL;
        MountEntry e;

        enter_scratch();
        src = in_scratch("src");
        dst = in_scratch("pod/volumes/dst");
        src_file = in_scratch("src/file");
        dst_file = in_scratch("pod/volumes/dst/file");
        dst_new = in_scratch("pod/volumes/dst/new");
        cr_assert_eq(mkdir(src, 0755), 0);
        write_text(src_file, "hello");

        cr_assert_eq(mount_bind(src, dst, true, false), 0);
        assert_text(dst_file, "hello");
        cr_assert_eq(create_errno(dst_new), EROFS);
        e = live_entry(dst, &t);
        cr_assert(startswith(e.vfs_options, "ro"), "%s", e.vfs_options);
        cr_assert(endswith(e.root, "/src"), "%s", e.root);
        /* the source stays writable, and its changes show */
        write_text(src_file, "changed");
        assert_text(dst_file, "changed");

        cr_assert_eq(mount_bind(src, dst, true, false), 0);
        cr_assert_eq(mount_do(src, dst, NULL, "bind,ro"), 0);
        cr_assert_eq(count_mounts_at(dst), 1);

        cr_assert_eq(mount_umount(dst), 0);
        cr_assert_eq(create_errno(dst_new), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, binds_a_file_read_only, .fini = leave_scratch)
{
        _cleanup_free_ char *src = NULL, *dst = NULL;
        struct stat st;

        enter_scratch();
        src = in_scratch("hosts");
        dst = in_scratch("pod/etc/hosts");
        write_text(src, "127.0.0.1 localhost");

        cr_assert_eq(mount_bind(src, dst, true, false), 0);
        cr_assert_eq(stat(dst, &st), 0);
        cr_assert(S_ISREG(st.st_mode));
        assert_text(dst, "127.0.0.1 localhost");
        cr_assert_eq(create_errno(dst), EROFS);
        cr_assert_eq(mount_is_mountpoint(dst), 1);
        cr_assert_eq(mount_bind(src, dst, true, false), 0);
        cr_assert_eq(count_mounts_at(dst), 1);

        cr_assert_eq(mount_umount(dst), 0);
        cr_assert_eq(stat(dst, &st), 0);
        cr_assert_eq(st.st_size, 0, "the mount point is the empty file made for it");
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, makes_a_writable_bind_read_only_when_asked_again, .fini = leave_scratch)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *src = NULL, *dst = NULL, *dst_new = NULL;

        enter_scratch();
        src = in_scratch("src");
        dst = in_scratch("dst");
        dst_new = in_scratch("dst/new");
        cr_assert_eq(mkdir(src, 0755), 0);

        /* as after an agent died between the bind and its read-only remount */
        cr_assert_eq(mount_bind(src, dst, false, false), 0);
        cr_assert_eq(create_errno(dst_new), 0);
        cr_assert_eq(unlink(dst_new), 0);
        cr_assert_eq(mount_bind(src, dst, true, false), 0);
        cr_assert_eq(count_mounts_at(dst), 1);
        cr_assert(startswith(live_entry(dst, &t).vfs_options, "ro"));
        cr_assert_eq(create_errno(dst_new), EROFS);

        cr_assert_eq(mount_umount(dst), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, binds_recursively, .fini = leave_scratch)
{
        _cleanup_free_ char *src = NULL, *sub = NULL, *dst = NULL, *dst_sub = NULL;
        _cleanup_free_ char *dst_x = NULL, *dst_sub_x = NULL, *sub_x = NULL;

        enter_scratch();
        dst_x = in_scratch("dst/x");
        dst_sub_x = in_scratch("dst/sub/x");
        sub_x = in_scratch("src/sub/x");
        src = in_scratch("src");
        sub = in_scratch("src/sub");
        dst = in_scratch("dst");
        dst_sub = in_scratch("dst/sub");
        cr_assert_eq(mount_tmpfs(sub, 0, 0755), 0);

        cr_assert_eq(mount_bind(src, dst, false, false), 0);
        cr_assert_eq(mount_is_mountpoint(dst_sub), 0);
        cr_assert_eq(mount_umount(dst), 0);

        cr_assert_eq(mount_bind(src, dst, false, true), 0);
        cr_assert_eq(mount_is_mountpoint(dst_sub), 1);
        cr_assert_eq(mount_bind(src, dst, false, true), 0);
        cr_assert_eq(count_mounts_at(dst), 1);
        cr_assert_eq(count_mounts_at(dst_sub), 1);
        /* a mount below the target keeps the target busy */
        cr_assert_eq(mount_umount(dst), -EBUSY);
        cr_assert_eq(mount_umount_below(dst), 2);
        cr_assert_eq(mount_is_mountpoint(sub), 1);

        /* read-only reaches the mounts an rbind brings along, also when asked again later */
        cr_assert_eq(mount_bind(src, dst, true, true), 0);
        cr_assert_eq(create_errno(dst_x), EROFS);
        cr_assert_eq(create_errno(dst_sub_x), EROFS);
        cr_assert_eq(create_errno(sub_x), 0, "the source stays writable");
        cr_assert_eq(mount_umount_below(dst), 2);
        cr_assert_eq(mount_bind(src, dst, false, true), 0);
        cr_assert_eq(create_errno(dst_sub_x), 0);
        cr_assert_eq(mount_do(src, dst, NULL, "rbind,ro"), 0);
        cr_assert_eq(count_mounts_at(dst), 1);
        cr_assert_eq(create_errno(dst_x), EROFS);
        cr_assert_eq(create_errno(dst_sub_x), EROFS);
        cr_assert_eq(mount_umount_below(dst), 2);

        cr_assert_eq(mount_umount_below(scratch), 1);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, unmounts_nested_mounts_deepest_first, .fini = leave_scratch)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        _cleanup_free_ char *top = NULL, *b = NULL, *c = NULL, *src = NULL, *sibling = NULL;
        size_t n;

        enter_scratch();
        top = in_scratch("n");
        b = in_scratch("n/b");
        c = in_scratch("n/b/c");
        src = in_scratch("src");
        sibling = in_scratch("n-sibling");
        cr_assert_eq(mkdir(src, 0755), 0);
        cr_assert_eq(mount_tmpfs(top, 0, 0755), 0);
        cr_assert_eq(mount_tmpfs(b, 0, 0755), 0);
        cr_assert_eq(mount_bind(src, c, false, false), 0);
        /* mount_do never stacks: stack one by hand */
        cr_assert_eq(mount("tmpfs", c, "tmpfs", 0, "size=64k"), 0);
        cr_assert_eq(mount_tmpfs(sibling, 0, 0755), 0);
        cr_assert_eq(count_mounts_at(c), 2);

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        cr_assert_eq(mount_table_below(&t, top, &v, &n), 0);
        cr_assert_eq(n, 4);
        cr_assert_str_eq(v[0]->fstype, "tmpfs");
        cr_assert(strstr(v[0]->fs_options, "size=64k"));
        cr_assert_str_eq(v[0]->target, c);
        cr_assert_str_eq(v[1]->target, c);
        cr_assert_str_eq(v[2]->target, b);
        cr_assert_str_eq(v[3]->target, top);

        cr_assert_eq(mount_umount_below(top), 4);
        assert_nothing_mounted_below(top);
        cr_assert_eq(mount_is_mountpoint(sibling), 1, "n-sibling is not below n");
        cr_assert_eq(mount_umount_below(top), 0);

        cr_assert_eq(mount_umount(sibling), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, unmounts_a_stack_and_what_a_later_mount_hid, .fini = leave_scratch)
{
        _cleanup_free_ char *h = NULL, *x = NULL, *s = NULL;

        enter_scratch();
        h = in_scratch("h");
        x = in_scratch("h/x");
        s = in_scratch("s");
        cr_assert_eq(mount_tmpfs(h, 0, 0755), 0);
        cr_assert_eq(mount_tmpfs(x, 0, 0755), 0);
        /* a second tmpfs on h hides h/x: it can only go after that one */
        cr_assert_eq(mount("tmpfs", h, "tmpfs", 0, NULL), 0);
        cr_assert_eq(mount_umount_below(h), 3);
        assert_nothing_mounted_below(h);

        cr_assert_eq(mount_tmpfs(s, 0, 0755), 0);
        cr_assert_eq(mount("tmpfs", s, "tmpfs", 0, NULL), 0);
        cr_assert_eq(mount("tmpfs", s, "tmpfs", 0, NULL), 0);
        cr_assert_eq(count_mounts_at(s), 3);
        cr_assert_eq(mount_umount(s), 0);
        cr_assert_eq(count_mounts_at(s), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, unmounting_what_is_not_mounted_is_fine, .fini = leave_scratch)
{
        _cleanup_free_ char *dir = NULL, *missing = NULL;

        enter_scratch();
        dir = in_scratch("dir");
        missing = in_scratch("missing/deeper");
        cr_assert_eq(mkdir(dir, 0755), 0);
        cr_assert_eq(mount_umount(dir), 0);
        cr_assert_eq(mount_umount(missing), 0);
        cr_assert_eq(mount_umount(scratch), 0);
        cr_assert_eq(mount_umount_below(scratch), 0);
        cr_assert_eq(mount_umount_below(missing), 0);
        cr_assert_eq(mount_is_mountpoint(dir), 0);
        cr_assert_eq(mount_umount("relative/path"), -EINVAL);
        cr_assert_eq(mount_umount_below(""), -EINVAL);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, changes_propagation, .fini = leave_scratch)
{
        _cleanup_free_ char *p = NULL, *q = NULL, *shared = NULL, *master = NULL, *peer = NULL;
        _cleanup_free_ char *slave = NULL, *private = NULL, *fresh = NULL;

        enter_scratch();
        p = in_scratch("p");
        q = in_scratch("q");
        cr_assert_eq(mount_tmpfs(p, 0, 0755), 0);
        /* below a private "/", a new mount is private */
        fresh = live_optional(p);
        cr_assert_str_eq(fresh, "");

        cr_assert_eq(mount_set_propagation(p, MS_SHARED), 0);
        shared = live_optional(p);
        cr_assert(startswith(shared, "shared:"), "%s", shared);
        master = strjoin("master:", shared + strlen("shared:"), NULL);
        cr_assert_not_null(master);

        /* a bind of a shared mount joins its peer group; as a slave it receives from it */
        cr_assert_eq(mount_bind(p, q, false, false), 0);
        peer = live_optional(q);
        cr_assert_str_eq(peer, shared);
        cr_assert_eq(mount_set_propagation(q, MS_SLAVE), 0);
        slave = live_optional(q);
        cr_assert_str_eq(slave, master);
        cr_assert_eq(mount_set_propagation(q, MS_PRIVATE | MS_REC), 0);
        private = live_optional(q);
        cr_assert_str_eq(private, "");

        cr_assert_eq(mount_set_propagation(p, MS_BIND), -EINVAL);
        cr_assert_eq(mount_set_propagation(p, MS_SHARED | MS_SLAVE), -EINVAL);
        cr_assert_eq(mount_set_propagation(p, 0), -EINVAL);
        cr_assert_eq(mount_set_propagation("relative", MS_PRIVATE), -EINVAL);

        cr_assert_eq(mount_umount(q), 0);
        cr_assert_eq(mount_umount(p), 0);
        assert_nothing_mounted_below(scratch);
}

Test(mount_util, reports_failures_as_negative_errno, .fini = leave_scratch)
{
        _cleanup_free_ char *x = NULL, *missing = NULL, *y = NULL, *file = NULL;

        enter_scratch();
        x = in_scratch("x");
        missing = in_scratch("missing");
        y = in_scratch("y");
        file = in_scratch("file");
        write_text(file, "x");

        cr_assert_eq(mount_do("none", x, "berthnosuchfs", NULL), -ENODEV);
        cr_assert_eq(mount_do("tmpfs", x, "tmpfs", "size=lots"), -EINVAL);
        cr_assert_eq(mount_is_mountpoint(x), 0);
        cr_assert_eq(mount_bind(missing, y, false, false), -ENOENT);
        cr_assert_eq(mount_tmpfs(file, 0, 0755), -ENOTDIR);
        cr_assert_eq(mount_tmpfs(x, 0, 010000), -EINVAL);
        cr_assert_eq(mount_do("tmpfs", "relative", "tmpfs", NULL), -EINVAL);
        cr_assert_eq(mount_do(NULL, x, "tmpfs", NULL), -EINVAL);
        assert_nothing_mounted_below(scratch);
}
