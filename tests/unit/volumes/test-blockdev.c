/* Tests of blockdev.c with real sparse images, loop devices, mkfs and grow tools (as root):
 * each test runs in a mount namespace of its own, and its fini unmounts, detaches and deletes
 * what the test made, then checks that no loop device is left backed by one of its images. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "blockdev.h"
#include "loopdev.h"
#include "util.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)
#define JOB_MAX_USEC (60 * USEC_PER_SEC)

typedef struct JobResult {
        BlockdevJob *job;
        bool cancel_in_done;
        bool called;
        int result;
        char output[4097];
} JobResult;

/* per test: criterion runs each test in a process of its own */
static char tmpdir[] = "/var/tmp/berth-test-blockdev-XXXXXX";
static char mnt[sizeof(tmpdir) + 8];
static sd_event *event;
static bool made; /* tmpdir exists: teardown has something to remove */

static char *path_in_tmp(const char *name)
{
        char *p = strjoin(tmpdir, "/", name, NULL);

        cr_assert_not_null(p);
        return p;
}

static void setup(void)
{
        test_require_root("test-blockdev");
        cr_assert_not_null(mkdtemp(tmpdir));
        made = true;
        snprintf(mnt, sizeof(mnt), "%s/mnt", tmpdir);
        cr_assert_eq(mkdir(mnt, 0700), 0);
        /* the test's mounts stay in this process and vanish with it */
        cr_assert_eq(unshare(CLONE_NEWNS), 0);
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL), 0);
        cr_assert_eq(sd_event_new(&event), 0);
}

static void teardown(void)
{
        size_t left;

        event = sd_event_unref(event);
        if (!made)
                return;
        made = false;
        while (umount2(mnt, 0) == 0)
                ;
        left = test_loops_detach_below(tmpdir);
        cr_assert_eq(rm_rf(tmpdir), 0);
        cr_assert_eq(access(tmpdir, F_OK), -1, "%s is left behind", tmpdir);
        cr_assert_eq(left, 0, "%zu loop device(s) still backed by an image of this test", left);
}

TestSuite(blockdev, .init = setup, .fini = teardown, .timeout = 120);

static int on_guard(sd_event_source *s, uint64_t usec, void *userdata)
{
        *(bool *)userdata = true;
        return 0;
}

/* Runs the loop until *flag is set or max has passed; true when it was set. */
static bool run_until(const bool *flag, usec_t max)
{
        sd_event_source *guard = NULL;
        bool expired = false;

        cr_assert_geq(sd_event_add_time_relative(event, &guard, CLOCK_MONOTONIC, max, 0, on_guard, &expired),
                      0);
        while (!*flag && !expired)
                cr_assert_geq(sd_event_run(event, UINT64_MAX), 0);
        sd_event_source_disable_unref(guard);
        return *flag;
}

static void on_done(int result, const char *output, void *userdata)
{
        JobResult *r = userdata;

        if (r->cancel_in_done)
                blockdev_job_cancel(r->job); /* a no-op: the job ends when done returns */
        cr_assert_not(r->called, "done called twice");
        cr_assert_not_null(output);
        cr_assert_leq(strlen(output), 4096);
        r->called = true;
        r->result = result;
        snprintf(r->output, sizeof(r->output), "%s", output);
}

static void run_job(JobResult *res)
{
        cr_assert(run_until(&res->called, JOB_MAX_USEC), "the job did not end");
        cr_assert_eq(res->result, 0, "the job failed (%d): %s", res->result, res->output);
}

/* A new image of size attached to a loop device: its path and the device. */
static void attached_image(const char *name, uint64_t size, char **ret_image, char **ret_dev)
{
        *ret_image = path_in_tmp(name);
        cr_assert_eq(image_create(*ret_image, size), 0);
        int r = loop_attach(*ret_image, ret_dev);
        cr_assert_eq(r, 0, "loop_attach: %s", strerror(-r));
}

static void mkfs(const char *dev, const char *fstype)
{
        JobResult res = {};
        BlockdevJob *j = NULL;

        cr_assert_eq(blockdev_mkfs_start(event, dev, fstype, on_done, &res, &j), 0);
        cr_assert_not_null(j);
        run_job(&res);
}

static uint64_t fs_size(void)
{
        struct statfs sf;

        cr_assert_eq(statfs(mnt, &sf), 0);
        return (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
}

static void detach(const char *image, const char *dev)
{
        _cleanup_free_ char *found = NULL;

        cr_assert_eq(loop_detach(dev), 0);
        cr_assert_eq(loop_find(image, &found), -ENOENT);
}

Test(blockdev, creates_a_sparse_image_and_keeps_an_existing_one)
{
        _cleanup_free_ char *image = path_in_tmp("a/b/vol.img"), *dir = path_in_tmp("a/b");
        _cleanup_free_ char *link = path_in_tmp("link.img"), *missing = path_in_tmp("missing.img");
        struct stat st;
        char buf[6] = {};
        int fd;

        cr_assert_eq(image_create(image, 4 * GIB), 0);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 4 * GIB);
        cr_assert_lt((uint64_t)st.st_blocks * 512, MIB, "the image is not sparse");
        cr_assert_eq(st.st_mode & 07777, 0600);

        fd = open(image, O_RDWR | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(pwrite(fd, "data!", 5, 0), 5);
        close(fd);
        /* again, larger: the image is kept as it is */
        cr_assert_eq(image_create(image, 8 * GIB), 0);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 4 * GIB);
        fd = open(image, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(pread(fd, buf, 5, 0), 5);
        close(fd);
        cr_assert_str_eq(buf, "data!");

        /* nothing but the image in its directory: no temporary file is left */
        DIR *d = opendir(dir);
        size_t n = 0;
        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        cr_assert_eq(n, 1);

        cr_assert_eq(image_create(dir, MIB), -EEXIST);
        cr_assert_eq(image_create(image, 0), -EINVAL);
        /* a dangling symlink is no image, and nothing is created through it */
        cr_assert_eq(symlink(missing, link), 0);
        cr_assert_eq(image_create(link, MIB), -EEXIST);
        cr_assert_eq(access(missing, F_OK), -1);
}

Test(blockdev, grows_an_image_and_never_shrinks_it)
{
        _cleanup_free_ char *image = path_in_tmp("vol.img"), *missing = path_in_tmp("none.img");
        struct stat st;

        cr_assert_eq(image_create(image, 64 * MIB), 0);
        cr_assert_eq(image_grow(image, 128 * MIB), 0);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 128 * MIB);
        cr_assert_lt((uint64_t)st.st_blocks * 512, MIB, "growing filled the image");

        cr_assert_eq(image_grow(image, 64 * MIB), -EINVAL);
        cr_assert_eq(image_grow(image, 128 * MIB), 0);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 128 * MIB);
        cr_assert_eq(image_grow(missing, 128 * MIB), -ENOENT);
}

Test(blockdev, attaches_an_image_once_and_finds_its_device)
{
        _cleanup_free_ char *image = path_in_tmp("vol.img"), *dev = NULL, *again = NULL, *found = NULL;
        _cleanup_free_ char *fstype = NULL;
        uint64_t size = 0;

        cr_assert_eq(image_create(image, 64 * MIB), 0);
        cr_assert_eq(loop_find(image, &found), -ENOENT);
        cr_assert_eq(loop_attach(image, &dev), 0);
        cr_assert(startswith(dev, "/dev/loop"), "%s", dev);
        cr_assert_eq(loop_attach(image, &again), 0);
        cr_assert_str_eq(again, dev);
        cr_assert_eq(test_loops_below(tmpdir, NULL), 1, "the image was attached twice");
        cr_assert_eq(loop_find(image, &found), 0);
        cr_assert_str_eq(found, dev);

        cr_assert_eq(blockdev_size(dev, &size), 0);
        cr_assert_eq(size, 64 * MIB);
        cr_assert_eq(blockdev_probe_fstype(dev, &fstype), 0);
        cr_assert_null(fstype);

        detach(image, dev);
        cr_assert_eq(test_loops_below(tmpdir, NULL), 0);
        cr_assert_eq(loop_detach(dev), 0, "detaching twice is no error");
}

Test(blockdev, finds_no_device_for_another_file_at_the_same_path)
{
        _cleanup_free_ char *image = path_in_tmp("vol.img"), *other = path_in_tmp("other.img");
        _cleanup_free_ char *dev = NULL, *found = NULL;

        cr_assert_eq(image_create(image, 64 * MIB), 0);
        cr_assert_eq(image_create(other, 64 * MIB), 0);
        cr_assert_eq(loop_attach(image, &dev), 0);
        /* sysfs still names the same path, but it leads to another inode now */
        cr_assert_eq(mount(other, image, NULL, MS_BIND, NULL), 0);
        cr_assert_eq(loop_find(image, &found), -ENOENT);
        cr_assert_eq(umount2(image, 0), 0);
        cr_assert_eq(loop_find(image, &found), 0);
        cr_assert_str_eq(found, dev);
        detach(image, dev);
}

/* mkfs, a file written on the file system, mkfs refused, the file still there. */
static void formats_once(const char *fstype, uint64_t size)
{
        _cleanup_free_ char *image = NULL, *dev = NULL, *probed = NULL, *file = path_in_tmp("mnt/kept");
        _cleanup_free_ char *content = NULL;
        JobResult res = {};
        BlockdevJob *j = NULL;

        attached_image("vol.img", size, &image, &dev);
        mkfs(dev, fstype);
        cr_assert_eq(blockdev_probe_fstype(dev, &probed), 0);
        cr_assert_str_eq(probed, fstype);

        cr_assert_eq(mount(dev, mnt, fstype, 0, NULL), 0);
        cr_assert_eq(write_file_atomic(file, "still here\n", 11, 0644), 0);
        cr_assert_eq(umount2(mnt, 0), 0);

        cr_assert_eq(blockdev_mkfs_start(event, dev, fstype, on_done, &res, &j), -EEXIST);
        cr_assert_null(j);
        cr_assert_eq(
            blockdev_mkfs_start(event, dev, streq(fstype, "xfs") ? "ext4" : "xfs", on_done, &res, &j),
            -EEXIST);
        cr_assert_null(j);
        (void)run_until(&res.called, 100 * USEC_PER_MSEC);
        cr_assert_not(res.called);

        cr_assert_eq(mount(dev, mnt, fstype, MS_RDONLY, NULL), 0, "mount %s (%s): %m", dev, fstype);
        cr_assert_eq(read_one_line_file(file, &content), 0);
        cr_assert_str_eq(content, "still here");
        cr_assert_eq(umount2(mnt, 0), 0);
        detach(image, dev);
}

Test(blockdev, never_formats_a_device_with_a_partition_table)
{
        _cleanup_free_ char *image = path_in_tmp("vol.img"), *dev = NULL, *fstype = NULL;
        uint8_t mbr[512] = {};
        JobResult res = {};
        BlockdevJob *j = NULL;
        int fd;

        /* one Linux partition at sector 2048, written before the device caches anything */
        mbr[450] = 0x83;
        mbr[455] = 0x08; /* start 2048 */
        mbr[459] = 0x08; /* 2048 sectors */
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        cr_assert_eq(image_create(image, 64 * MIB), 0);
        fd = open(image, O_WRONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(pwrite(fd, mbr, sizeof(mbr), 0), (ssize_t)sizeof(mbr));
        close(fd);
        cr_assert_eq(loop_attach(image, &dev), 0);

        cr_assert_eq(blockdev_probe_fstype(dev, &fstype), 0);
        cr_assert_null(fstype);
        cr_assert_eq(blockdev_mkfs_start(event, dev, "ext4", on_done, &res, &j), -EEXIST);
        cr_assert_null(j);
        detach(image, dev);
}

Test(blockdev, formats_ext4_once_and_never_again)
{
        formats_once("ext4", 256 * MIB);
}

Test(blockdev, formats_xfs_once_and_never_again)
{
        cr_assert_eq(blockdev_tool_available("mkfs.xfs"), 1,
                     "mkfs.xfs is missing (scripts/install-deps.sh)");
        /* xfs needs 300 MiB at least */
        formats_once("xfs", 512 * MIB);
}

/* The image doubles, then its loop device takes the new size when told to. */
static void grow_device(const char *image, const char *dev, uint64_t size)
{
        uint64_t dev_size = 0;

        cr_assert_eq(image_grow(image, 2 * size), 0);
        cr_assert_eq(blockdev_size(dev, &dev_size), 0);
        cr_assert_eq(dev_size, size, "the device took the new size before it was told");
        cr_assert_eq(loop_refresh_size(dev), 0);
        cr_assert_eq(blockdev_size(dev, &dev_size), 0);
        cr_assert_eq(dev_size, 2 * size);
}

static void grow_fs(const char *dev, const char *fstype)
{
        JobResult res = {};
        BlockdevJob *j = NULL;

        cr_assert_eq(blockdev_grow_fs_start(event, dev, fstype, mnt, on_done, &res, &j), 0);
        cr_assert_not_null(j);
        run_job(&res);
}

/* A mounted file system grows with its image: image, loop device, then the file system. */
static void grows_mounted(const char *fstype, uint64_t size)
{
        _cleanup_free_ char *image = NULL, *dev = NULL;
        uint64_t before;

        attached_image("vol.img", size, &image, &dev);
        mkfs(dev, fstype);
        cr_assert_eq(mount(dev, mnt, fstype, 0, NULL), 0);
        before = fs_size();
        cr_assert_gt(before, size / 2);
        grow_device(image, dev, size);
        grow_fs(dev, fstype);
        cr_assert_gt(fs_size(), before + size / 2, "the file system did not grow");
        cr_assert_eq(umount2(mnt, 0), 0);
        detach(image, dev);
}

/* Online resize asks the kernel, which wants CAP_SYS_RESOURCE. Some sandboxes drop it even
 * for root: there the grow must fail with resize2fs' words and leave the file system as it
 * was (the agent then grows it unmounted, as the next test does). */
Test(blockdev, grows_a_mounted_ext4_with_its_device)
{
        _cleanup_free_ char *image = NULL, *dev = NULL;
        uint64_t size = 128 * MIB, before;
        JobResult res = {};
        BlockdevJob *j = NULL;

        if (test_have_capability(CAP_SYS_RESOURCE)) {
                grows_mounted("ext4", size);
                return;
        }
        attached_image("vol.img", size, &image, &dev);
        mkfs(dev, "ext4");
        cr_assert_eq(mount(dev, mnt, "ext4", 0, NULL), 0);
        before = fs_size();
        grow_device(image, dev, size);
        cr_assert_eq(blockdev_grow_fs_start(event, dev, "ext4", mnt, on_done, &res, &j), 0);
        cr_assert(run_until(&res.called, JOB_MAX_USEC), "the job did not end");
        cr_assert_eq(res.result, -EIO, "a grow without CAP_SYS_RESOURCE succeeded: %s", res.output);
        cr_assert(strstr(res.output, "resize2fs"), "output: '%s'", res.output);
        cr_assert_eq(fs_size(), before, "the file system changed size");
        cr_assert_eq(umount2(mnt, 0), 0);
        detach(image, dev);
}

Test(blockdev, grows_an_unmounted_ext4_after_mkfs)
{
        _cleanup_free_ char *image = NULL, *dev = NULL;
        uint64_t size = 128 * MIB;

        /* never mounted yet: resize2fs needs no e2fsck first */
        attached_image("vol.img", size, &image, &dev);
        mkfs(dev, "ext4");
        grow_device(image, dev, size);
        grow_fs(dev, "ext4");
        cr_assert_eq(mount(dev, mnt, "ext4", 0, NULL), 0);
        cr_assert_gt(fs_size(), size, "the file system did not grow");
        cr_assert_eq(umount2(mnt, 0), 0);
        detach(image, dev);
}

Test(blockdev, grows_a_mounted_xfs_through_its_mount_point)
{
        grows_mounted("xfs", 512 * MIB);
}

Test(blockdev, reports_a_failing_tool_with_its_output)
{
        _cleanup_free_ char *image = NULL, *dev = NULL;
        JobResult res = {.cancel_in_done = true};

        /* resize2fs on a device without a file system */
        attached_image("vol.img", 64 * MIB, &image, &dev);
        cr_assert_eq(blockdev_grow_fs_start(event, dev, "ext4", NULL, on_done, &res, &res.job), 0);
        cr_assert(run_until(&res.called, JOB_MAX_USEC));
        cr_assert_eq(res.result, -EIO);
        cr_assert(strstr(res.output, "resize2fs"), "output: '%s'", res.output);
        detach(image, dev);
}

Test(blockdev, refuses_what_it_cannot_do)
{
        _cleanup_free_ char *image = path_in_tmp("vol.img");
        JobResult res = {};
        BlockdevJob *j = NULL;

        cr_assert_eq(image_create(image, 64 * MIB), 0);
        /* a regular file is no device: mkfs would format it all the same */
        cr_assert_eq(blockdev_mkfs_start(event, image, "ext4", on_done, &res, &j), -ENOTBLK);
        cr_assert_eq(blockdev_mkfs_start(event, "/dev/null", "btrfs", on_done, &res, &j), -EOPNOTSUPP);
        cr_assert_eq(blockdev_grow_fs_start(event, "/dev/null", "xfs", NULL, on_done, &res, &j), -EINVAL);
        cr_assert_eq(blockdev_grow_fs_start(event, "/dev/null", "vfat", "/", on_done, &res, &j),
                     -EOPNOTSUPP);
        cr_assert_null(j);
        cr_assert_not(res.called);
        cr_assert_eq(loop_detach(image), -ENOTTY);
}

Test(blockdev, finds_tools_in_sbin_without_path)
{
        cr_assert_eq(blockdev_tool_available("mkfs.ext4"), 1);
        cr_assert_eq(blockdev_tool_available("resize2fs"), 1);
        cr_assert_eq(blockdev_tool_available("mkfs.berth-none"), 0);
        cr_assert_eq(blockdev_tool_available("../sbin/mkfs.ext4"), 0);
        cr_assert_eq(setenv("PATH", "/nonexistent", 1), 0);
        cr_assert_eq(blockdev_tool_available("mkfs.ext4"), 1);
        cr_assert_eq(unsetenv("PATH"), 0);
        cr_assert_eq(blockdev_tool_available("xfs_growfs"), 1);
}

Test(blockdev, cancels_a_job_in_flight_without_calling_back)
{
        _cleanup_free_ char *image = NULL, *dev = NULL;
        JobResult res = {};
        BlockdevJob *j = NULL;
        siginfo_t si = {};

        /* mkfs.ext4 takes about a second and a half on 15 TiB. A freshly attached loop device
         * can refuse mkfs for a moment (udev still probing it, with other tests attaching
         * theirs): such a quick failure says nothing about cancelling, so it is tried again */
        attached_image("big.img", 15 * TIB, &image, &dev);
        for (int attempt = 0;; attempt++) {
                res = (JobResult){};
                cr_assert_eq(blockdev_mkfs_start(event, dev, "ext4", on_done, &res, &j), 0);
                (void)run_until(&res.called, 30 * USEC_PER_MSEC);
                if (!res.called || res.result == 0 || attempt == 5)
                        break;
                usleep(200 * 1000);
        }
        cr_assert_not(res.called, "mkfs ended before it could be cancelled: %d: %s", res.result, res.output);
        blockdev_job_cancel(j);
        /* killed and reaped: this process has no child left, not even a zombie */
        cr_assert_eq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
        cr_assert_eq(errno, ECHILD);
        (void)run_until(&res.called, 200 * USEC_PER_MSEC);
        cr_assert_not(res.called);
        detach(image, dev);
}
