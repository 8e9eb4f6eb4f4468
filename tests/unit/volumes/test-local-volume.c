/* Tests of local-volume.c with real directories, sparse images, loop devices, mkfs, resize
 * and wipefs (as root): each test runs in a mount namespace of its own, and its fini checks
 * that no mount below the test's directory and no loop device backed by one of its images
 * is left, then removes what is. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "blockdev.h"
#include "loopdev.h"
#include "event-run.h"
#include "local-volume.h"
#include "mount-util.h"
#include "util.h"

#define MIB (UINT64_C(1) << 20)
#define TIB (UINT64_C(1) << 40)
#define JOB_MAX_USEC (60 * USEC_PER_SEC)
#define DETACH_WAIT_USEC (5 * USEC_PER_SEC)
#define IMAGES_MAX 8

typedef struct Result {
        LocalVolumeJob *job;
        bool cancel_in_done;
        bool called;
        int result;
        char error[1024];
} Result;

/* per test: criterion runs each test in a process of its own */
static char tmpdir[] = "/var/tmp/berth-test-local-volume-XXXXXX";
static char mnt[sizeof(tmpdir) + 8];
static char *images[IMAGES_MAX]; /* the images a test made: none may stay attached */
static size_t n_images;
static sd_event *event;
static bool made; /* tmpdir exists: teardown has something to remove */

static char *path_in_tmp(const char *name)
{
        char *p = strjoin(tmpdir, "/", name, NULL);

        cr_assert_not_null(p);
        return p;
}

/* A path for an image, remembered for the check at the end of the test. */
static const char *image_path(const char *name)
{
        cr_assert_lt(n_images, IMAGES_MAX);
        images[n_images] = path_in_tmp(name);
        return images[n_images++];
}

/* The loop devices of the test's images that loop_find() still finds. */
static size_t images_attached(void)
{
        size_t n = 0;

        for (size_t i = 0; i < n_images; i++) {
                _cleanup_free_ char *dev = NULL;

                if (loop_find(images[i], &dev) == 0)
                        n++;
        }
        return n;
}

static size_t mounts_below(const char *prefix)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        size_t n;

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        cr_assert_eq(mount_table_below(&t, prefix, &v, &n), 0);
        return n;
}

static void setup(void)
{
        test_require_root("test-local-volume");
        cr_assert_not_null(mkdtemp(tmpdir));
        made = true;
        snprintf(mnt, sizeof(mnt), "%s/mnt", tmpdir);
        /* the test's mounts stay in this process and vanish with it */
        cr_assert_eq(unshare(CLONE_NEWNS), 0);
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL), 0);
        cr_assert_eq(sd_event_new(&event), 0);
}

static void teardown(void)
{
        size_t mounts, attached, left;

        event = sd_event_unref(event);
        if (!made)
                return;
        made = false;
        /* what the code under test left, counted before it is cleaned up */
        mounts = mounts_below(tmpdir);
        attached = images_attached();
        (void)mount_umount_below(tmpdir);
        left = test_loops_detach_below(tmpdir);
        cr_assert_eq(rm_rf(tmpdir), 0);
        for (size_t i = 0; i < n_images; i++)
                images[i] = mfree(images[i]);
        cr_assert_eq(mounts, 0, "%zu mount(s) left below %s", mounts, tmpdir);
        cr_assert_eq(attached, 0, "%zu image(s) of this test left attached", attached);
        cr_assert_eq(left, 0, "%zu loop device(s) still backed by an image of this test", left);
}

TestSuite(local_volume, .init = setup, .fini = teardown, .timeout = 180);

static void on_done(int result, const char *error, void *userdata)
{
        Result *res = userdata;

        if (res->cancel_in_done)
                local_volume_job_cancel(res->job); /* a no-op: the job ends when done returns */
        cr_assert_not(res->called, "done called twice");
        res->called = true;
        res->result = result;
        if (result < 0) {
                cr_assert_not_null(error, "no message for %s", strerror(-result));
                snprintf(res->error, sizeof(res->error), "%s", error);
        } else
                cr_assert_null(error);
}

/* After a *_start: the job runs, done was not called from within the start; returns the
 * result done gets. */
static int wait_job(int r, LocalVolumeJob *const *j, const char *error, Result *res)
{
        cr_assert_eq(r, 0, "the start failed (%s): %s", strerror(-r), error);
        cr_assert_not_null(*j);
        cr_assert_not(res->called, "done called from within the start");
        cr_assert(event_run_until_set(event, &res->called, JOB_MAX_USEC), "the job did not end");
        return res->result;
}

static int provision(const LocalVolume *v, uint64_t size, Result *res)
{
        _cleanup_free_ char *error = NULL;
        LocalVolumeJob *j = NULL;

        *res = (Result){};
        return wait_job(local_volume_provision_start(event, v, size, on_done, res, &j, &error), &j, error,
                        res);
}

static int expand(const LocalVolume *v, uint64_t size, Result *res)
{
        _cleanup_free_ char *error = NULL;
        LocalVolumeJob *j = NULL;

        *res = (Result){};
        return wait_job(local_volume_expand_start(event, v, size, on_done, res, &j, &error), &j, error, res);
}

static int delete_volume(const LocalVolume *v, Result *res)
{
        _cleanup_free_ char *error = NULL;
        LocalVolumeJob *j = NULL;

        *res = (Result){};
        return wait_job(local_volume_delete_start(event, v, on_done, res, &j, &error), &j, error, res);
}

static void ok(int r, const Result *res)
{
        cr_assert_eq(r, 0, "the job failed (%s): %s", strerror(-r), res->error);
}

/* Publishes v and checks that it succeeded: the path pods use. */
static char *publish(const LocalVolume *v)
{
        _cleanup_free_ char *error = NULL;
        char *path = NULL;
        int r = local_volume_publish(v, &path, &error);

        cr_assert_eq(r, 0, "publish failed (%s): %s", strerror(-r), error);
        cr_assert_null(error);
        cr_assert_not_null(path);
        return path;
}

static LocalVolume loop_volume(const char *image, const char *fstype)
{
        return (LocalVolume){.type = LOCAL_VOLUME_LOOP, .path = image, .fstype = fstype, .mount_dir = mnt};
}

static LocalVolume block_volume(const char *dev, const char *fstype)
{
        return (LocalVolume){.type = LOCAL_VOLUME_BLOCK, .path = dev, .fstype = fstype, .mount_dir = mnt};
}

/* A loop device the test attaches itself, to stand for a disk. */
static char *test_disk(const char *name, uint64_t size)
{
        const char *image = image_path(name);
        char *dev = NULL;

        cr_assert_eq(image_create(image, size), 0);
        cr_assert_eq(loop_attach(image, &dev), 0);
        return dev;
}

static void detach_test_disk(const char *dev)
{
        cr_assert_eq(loop_detach(dev), 0);
}

/* No loop device is backed by image (the kernel may take a moment for one still open). */
static void assert_detached(const char *image)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + DETACH_WAIT_USEC;
        _cleanup_free_ char *dev = NULL;
        int r;

        while ((r = loop_find(image, &dev)) == 0 && now_usec(CLOCK_MONOTONIC) < deadline) {
                dev = mfree(dev);
                (void)usleep(20000);
        }
        cr_assert_neq(r, 0, "%s is still attached to %s", image, dev);
}

static void assert_unpublished(const LocalVolume *v)
{
        cr_assert_eq(mount_is_mountpoint(mnt), 0, "%s is still mounted", mnt);
        cr_assert_eq(access(mnt, F_OK), -1, "%s is left behind", mnt);
        if (v->type == LOCAL_VOLUME_LOOP)
                assert_detached(v->path);
        cr_assert_eq(local_volume_is_published(v), 0);
}

static uint64_t fs_size(const char *path)
{
        struct statvfs sv;

        cr_assert_eq(statvfs(path, &sv), 0);
        return (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
}

static void write_in(const char *dir, const char *name, const char *content)
{
        _cleanup_free_ char *p = strjoin(dir, "/", name, NULL);

        cr_assert_not_null(p);
        cr_assert_eq(write_file_atomic(p, content, strlen(content), 0644), 0);
}

static void assert_content(const char *dir, const char *name, const char *content)
{
        _cleanup_free_ char *p = strjoin(dir, "/", name, NULL), *got = NULL;

        cr_assert_not_null(p);
        cr_assert_eq(read_one_line_file(p, &got), 0, "%s is gone", p);
        cr_assert_str_eq(got, content);
}

static size_t mounts_at(const char *target)
{
        _cleanup_(mount_table_done) MountTable t = {};
        size_t n = 0;

        cr_assert_eq(mount_table_parse(NULL, &t), 0);
        for (size_t i = 0; i < t.n; i++)
                if (streq(t.entries[i].target, target))
                        n++;
        return n;
}

static char *probe(const char *dev)
{
        char *fstype = NULL;

        cr_assert_eq(blockdev_probe_fstype(dev, &fstype), 0);
        return fstype;
}

Test(local_volume, names_its_types)
{
        LocalVolumeType t;

        for (int i = 0; i < _LOCAL_VOLUME_TYPE_MAX; i++) {
                cr_assert_eq(local_volume_type_from_string(local_volume_type_to_string(i), &t), 0);
                cr_assert_eq((int)t, i);
        }
        cr_assert_str_eq(local_volume_type_to_string(LOCAL_VOLUME_LOOP), "loop");
        cr_assert_eq(local_volume_type_from_string("nfs", &t), -EINVAL);
        cr_assert_null(local_volume_type_to_string(_LOCAL_VOLUME_TYPE_MAX));
}

Test(local_volume, refuses_bad_volumes_at_once)
{
        _cleanup_free_ char *error = NULL, *path = NULL;
        const char *image = image_path("vol.img");
        LocalVolume relative = {.type = LOCAL_VOLUME_DIR, .path = "vols/a"};
        LocalVolume dir_block = {.type = LOCAL_VOLUME_DIR, .path = image, .block_mode = true};
        LocalVolume btrfs = loop_volume(image, "btrfs"), no_dir = loop_volume(image, "ext4");
        LocalVolume good = loop_volume(image, "ext4");
        LocalVolumeJob *j = NULL;
        Result res = {};

        no_dir.mount_dir = NULL;
        cr_assert_eq(local_volume_provision_start(event, &relative, MIB, on_done, &res, &j, &error),
                     -EINVAL);
        cr_assert(error && strstr(error, "vols/a"), "%s", error);
        cr_assert_eq(local_volume_provision_start(event, &dir_block, MIB, on_done, &res, &j, &error),
                     -EINVAL);
        cr_assert_eq(local_volume_provision_start(event, &btrfs, MIB, on_done, &res, &j, &error),
                     -EOPNOTSUPP);
        cr_assert(strstr(error, "btrfs") && strstr(error, image), "%s", error);
        cr_assert_eq(local_volume_expand_start(event, &no_dir, MIB, on_done, &res, &j, &error), -EINVAL);
        cr_assert_eq(local_volume_provision_start(event, &good, 0, on_done, &res, &j, NULL), -EINVAL);
        cr_assert_eq(local_volume_delete_start(event, &btrfs, on_done, &res, &j, NULL), -EOPNOTSUPP);
        cr_assert_eq(local_volume_publish(&dir_block, &path, NULL), -EINVAL);
        cr_assert_eq(local_volume_unpublish(&relative), -EINVAL);
        cr_assert_null(j);
        event_run_for(event, 50 * USEC_PER_MSEC);
        cr_assert_not(res.called);
        cr_assert_eq(access(image, F_OK), -1);
}

Test(local_volume, provisions_publishes_and_deletes_a_directory)
{
        _cleanup_free_ char *dir = path_in_tmp("vols/a/b"), *path = NULL, *error = NULL;
        LocalVolume v = {.type = LOCAL_VOLUME_DIR, .path = dir};
        uint64_t size;
        struct stat st;
        Result res;

        cr_assert_eq(local_volume_publish(&v, &path, &error), -ENOENT, "a missing directory was published");
        cr_assert(error && strstr(error, dir), "%s", error);
        ok(provision(&v, 64 * MIB, &res), &res);
        cr_assert_eq(stat(dir, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0777, "mode %o", st.st_mode & 07777);
        ok(provision(&v, 64 * MIB, &res), &res);

        path = publish(&v);
        cr_assert_str_eq(path, dir);
        write_in(path, "data", "kept");
        cr_assert_eq(local_volume_is_published(&v), 0);
        cr_assert_eq(local_volume_size(&v, &size), -EOPNOTSUPP);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_content(dir, "data", "kept");

        ok(delete_volume(&v, &res), &res);
        cr_assert_eq(access(dir, F_OK), -1, "%s is left behind", dir);
        ok(delete_volume(&v, &res), &res);
}

Test(local_volume, ends_a_job_once_whatever_done_does)
{
        _cleanup_free_ char *dir = path_in_tmp("vol"), *error = NULL;
        LocalVolume v = {.type = LOCAL_VOLUME_DIR, .path = dir};
        Result res = {.cancel_in_done = true};

        cr_assert_eq(local_volume_provision_start(event, &v, MIB, on_done, &res, &res.job, &error), 0);
        cr_assert_not(res.called);
        cr_assert(event_run_until_set(event, &res.called, JOB_MAX_USEC));
        cr_assert_eq(res.result, 0, "%s", res.error);
        event_run_for(event, 50 * USEC_PER_MSEC);
        cr_assert_eq(access(dir, F_OK), 0);

        /* cancelled before its first step: nothing happens, done never comes */
        res = (Result){};
        cr_assert_eq(local_volume_delete_start(event, &v, on_done, &res, &res.job, &error), 0);
        local_volume_job_cancel(res.job);
        event_run_for(event, 50 * USEC_PER_MSEC);
        cr_assert_not(res.called);
        cr_assert_eq(access(dir, F_OK), 0, "a cancelled delete removed the directory");
        local_volume_job_cancel(NULL);
}

/* The whole life of a loop volume with ext4: provisioned once, published and unpublished
 * twice with its data kept, grown unpublished, deleted. */
Test(local_volume, runs_a_loop_ext4_volume_through_its_life)
{
        const char *image = image_path("vols/vol.img");
        LocalVolume v = loop_volume(image, "ext4");
        _cleanup_free_ char *path = NULL, *again = NULL, *grown = NULL;
        uint64_t size = 0, before;
        struct stat st;
        Result res;

        ok(provision(&v, 64 * MIB, &res), &res);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 64 * MIB);
        cr_assert_eq(local_volume_size(&v, &size), 0);
        cr_assert_eq(size, 64 * MIB);
        assert_unpublished(&v);

        path = publish(&v);
        cr_assert_str_eq(path, mnt);
        cr_assert_eq(mount_is_mountpoint(mnt), 1);
        cr_assert_eq(local_volume_is_published(&v), 1);
        write_in(path, "data", "written before unpublish");
        before = fs_size(mnt);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);

        /* never formatted twice: the file is still there */
        again = publish(&v);
        assert_content(again, "data", "written before unpublish");
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);

        /* mounted since its mkfs: the offline grow checks it first */
        ok(expand(&v, 192 * MIB, &res), &res);
        cr_assert_eq(stat(image, &st), 0);
        cr_assert_eq((uint64_t)st.st_size, 192 * MIB);
        assert_unpublished(&v);
        grown = publish(&v);
        cr_assert_gt(fs_size(mnt), before + 100 * MIB,
                     "the file system did not grow: %" PRIu64 " -> %" PRIu64, before, fs_size(mnt));
        assert_content(grown, "data", "written before unpublish");

        ok(delete_volume(&v, &res), &res);
        cr_assert_eq(access(image, F_OK), -1, "the image is left behind");
        assert_unpublished(&v);
        ok(delete_volume(&v, &res), &res);
}

/* Online resize asks the kernel, which wants CAP_SYS_RESOURCE: without it the grow fails
 * saying so and changes nothing, and the same call grows it once it is unpublished. */
Test(local_volume, grows_a_published_ext4_online_or_says_why)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "ext4");
        _cleanup_free_ char *path = NULL, *dev = NULL, *again = NULL;
        uint64_t before;
        Result res;

        ok(provision(&v, 64 * MIB, &res), &res);
        path = publish(&v);
        cr_assert_eq(loop_find(image, &dev), 0);
        before = fs_size(mnt);
        if (test_have_capability(CAP_SYS_RESOURCE)) {
                ok(expand(&v, 192 * MIB, &res), &res);
                cr_assert_gt(fs_size(mnt), before + 100 * MIB, "the file system did not grow");
                cr_assert_eq(mount_is_mountpoint(mnt), 1, "the grow unpublished the volume");
                cr_assert_eq(local_volume_unpublish(&v), 0);
                return;
        }
        cr_assert_eq(expand(&v, 192 * MIB, &res), -EPERM, "error: %s", res.error);
        cr_assert(strstr(res.error, "CAP_SYS_RESOURCE") && strstr(res.error, dev), "%s", res.error);
        cr_assert_eq(fs_size(mnt), before, "the file system changed size");
        cr_assert_eq(mount_is_mountpoint(mnt), 1, "the failed grow unpublished the volume");

        cr_assert_eq(local_volume_unpublish(&v), 0);
        ok(expand(&v, 192 * MIB, &res), &res);
        assert_unpublished(&v);
        again = publish(&v);
        cr_assert_gt(fs_size(mnt), before + 100 * MIB, "the file system did not grow");
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);
}

/* xfs grows only mounted: unpublished, it is mounted for the time of the grow. */
Test(local_volume, grows_xfs_unpublished_and_published)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "xfs");
        _cleanup_free_ char *path = NULL, *again = NULL;
        uint64_t before, unpublished;
        LocalVolumeJob *j = NULL;
        _cleanup_free_ char *error = NULL;
        Result res = {};

        cr_assert_eq(blockdev_tool_available("mkfs.xfs"), 1,
                     "mkfs.xfs is missing (scripts/install-deps.sh)");
        ok(provision(&v, 320 * MIB, &res), &res);
        assert_unpublished(&v);
        path = publish(&v);
        write_in(path, "data", "on xfs");
        before = fs_size(mnt);
        cr_assert_eq(local_volume_unpublish(&v), 0);

        /* the first steps run at once: mounted for the grow, xfs_growfs running; a cancel
         * takes the mount and the loop device down again */
        res = (Result){};
        cr_assert_eq(local_volume_expand_start(event, &v, 640 * MIB, on_done, &res, &j, &error), 0);
        cr_assert_gt(sd_event_run(event, 0), 0);
        cr_assert_eq(mount_is_mountpoint(mnt), 1, "xfs is not mounted for its grow");
        cr_assert_not(res.called, "the grow ended at once: %s", res.error);
        local_volume_job_cancel(j);
        assert_unpublished(&v);

        ok(expand(&v, 640 * MIB, &res), &res);
        assert_unpublished(&v);
        again = publish(&v);
        unpublished = fs_size(mnt);
        cr_assert_gt(unpublished, before + 250 * MIB, "the file system did not grow");
        assert_content(again, "data", "on xfs");

        ok(expand(&v, 960 * MIB, &res), &res);
        cr_assert_eq(mount_is_mountpoint(mnt), 1, "the grow unpublished the volume");
        cr_assert_gt(fs_size(mnt), unpublished + 250 * MIB, "the file system did not grow");
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);
        ok(delete_volume(&v, &res), &res);
}

Test(local_volume, publishes_the_device_itself_in_block_mode)
{
        const char *image = image_path("vol.img");
        LocalVolume v = {.type = LOCAL_VOLUME_LOOP, .path = image, .block_mode = true};
        _cleanup_free_ char *dev = NULL, *again = NULL, *grown = NULL,
                            *disk = test_disk("disk.img", 32 * MIB);
        _cleanup_free_ char *disk_path = NULL, *fstype = NULL;
        LocalVolume b = {.type = LOCAL_VOLUME_BLOCK, .path = disk, .block_mode = true};
        uint64_t size;
        Result res;

        ok(provision(&v, 64 * MIB, &res), &res);
        cr_assert_eq(access(image, F_OK), 0);
        assert_detached(image);
        dev = publish(&v);
        cr_assert(startswith(dev, "/dev/loop"), "%s", dev);
        again = publish(&v);
        cr_assert_str_eq(again, dev);
        cr_assert_eq(test_loops_below(tmpdir, NULL), 2, "the image was attached twice");
        cr_assert_eq(local_volume_is_published(&v), 1);
        fstype = probe(dev);
        cr_assert_null(fstype, "block mode made a file system: %s", fstype);

        /* published: the device takes the new size at once */
        ok(expand(&v, 128 * MIB, &res), &res);
        cr_assert_eq(blockdev_size(dev, &size), 0);
        cr_assert_eq(size, 128 * MIB);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_detached(image);
        cr_assert_eq(local_volume_is_published(&v), 0);
        ok(delete_volume(&v, &res), &res);
        cr_assert_eq(access(image, F_OK), -1);

        ok(provision(&b, 32 * MIB, &res), &res);
        disk_path = publish(&b);
        cr_assert_str_eq(disk_path, disk);
        cr_assert_eq(local_volume_unpublish(&b), 0);
        detach_test_disk(disk);
}

Test(local_volume, refuses_a_block_device_smaller_than_asked)
{
        _cleanup_free_ char *dev = test_disk("disk.img", 64 * MIB), *fstype = NULL;
        LocalVolume v = block_volume(dev, "ext4");
        uint64_t size;
        Result res;

        cr_assert_eq(local_volume_size(&v, &size), 0);
        cr_assert_eq(size, 64 * MIB);
        cr_assert_eq(provision(&v, 128 * MIB, &res), -ENOSPC);
        cr_assert(strstr(res.error, dev), "%s", res.error);
        fstype = probe(dev);
        cr_assert_null(fstype, "formatted anyway: %s", fstype);
        cr_assert_eq(expand(&v, 128 * MIB, &res), -ENOSPC);
        cr_assert(strstr(res.error, dev), "%s", res.error);
        detach_test_disk(dev);
}

/* A device with another file system: never formatted, never mounted as fstype. */
Test(local_volume, never_touches_a_device_holding_another_file_system)
{
        _cleanup_free_ char *dev = test_disk("disk.img", 64 * MIB), *path = NULL, *error = NULL;
        _cleanup_free_ char *again = NULL, *looped = NULL;
        const char *image = image_path("vol.img");
        LocalVolume v = block_volume(dev, "ext4"), as_xfs = block_volume(dev, "xfs");
        LocalVolume l = loop_volume(image, "ext4"), l_xfs = loop_volume(image, "xfs");
        Result res;

        ok(provision(&v, 64 * MIB, &res), &res);
        path = publish(&v);
        write_in(path, "data", "ext4 data");
        cr_assert_eq(local_volume_unpublish(&v), 0);

        cr_assert_eq(provision(&as_xfs, 64 * MIB, &res), -EEXIST);
        cr_assert(strstr(res.error, dev) && strstr(res.error, "ext4"), "%s", res.error);
        cr_assert_eq(local_volume_publish(&as_xfs, &again, &error), -EMEDIUMTYPE);
        cr_assert(strstr(error, dev) && strstr(error, "ext4"), "%s", error);
        cr_assert_eq(mount_is_mountpoint(mnt), 0);
        again = publish(&v);
        assert_content(again, "data", "ext4 data");
        cr_assert_eq(local_volume_unpublish(&v), 0);
        detach_test_disk(dev);

        ok(provision(&l, 64 * MIB, &res), &res);
        cr_assert_eq(provision(&l_xfs, 64 * MIB, &res), -EEXIST);
        cr_assert(strstr(res.error, image), "%s", res.error);
        assert_detached(image);
        /* a failed publish leaves no loop device behind */
        cr_assert_eq(local_volume_publish(&l_xfs, &looped, &error), -EMEDIUMTYPE);
        cr_assert(strstr(error, image) && strstr(error, "ext4"), "%s", error);
        assert_detached(image);
        looped = publish(&l);
        cr_assert_eq(local_volume_unpublish(&l), 0);
}

Test(local_volume, publishes_no_missing_image_or_device)
{
        const char *image = image_path("none.img");
        _cleanup_free_ char *missing_dev = path_in_tmp("no-disk"), *path = NULL, *error = NULL;
        LocalVolume v = loop_volume(image, "ext4"), b = block_volume(missing_dev, "ext4");
        uint64_t size;
        Result res;

        cr_assert_eq(local_volume_publish(&v, &path, &error), -ENOENT);
        cr_assert(error && strstr(error, image), "%s", error);
        cr_assert_null(path);
        cr_assert_eq(access(image, F_OK), -1, "publish created the image");
        cr_assert_eq(access(mnt, F_OK), -1);
        cr_assert_eq(local_volume_publish(&b, &path, &error), -ENOENT);
        cr_assert(strstr(error, missing_dev), "%s", error);
        cr_assert_eq(local_volume_size(&v, &size), -ENOENT);
        cr_assert_eq(local_volume_is_published(&v), 0);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        cr_assert_eq(expand(&v, 128 * MIB, &res), -ENOENT);
        cr_assert(strstr(res.error, image), "%s", res.error);
}

Test(local_volume, provisions_and_publishes_idempotently)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "ext4");
        _cleanup_free_ char *path = NULL, *again = NULL;
        Result res;

        _cleanup_free_ char *left = NULL;

        ok(provision(&v, 64 * MIB, &res), &res);
        ok(provision(&v, 64 * MIB, &res), &res);
        assert_detached(image);
        /* as an agent that died in the middle leaves it: attached, not published */
        cr_assert_eq(loop_attach(image, &left), 0);
        ok(provision(&v, 64 * MIB, &res), &res);
        assert_detached(image);
        path = publish(&v);
        write_in(path, "data", "kept");
        again = publish(&v);
        cr_assert_str_eq(again, path);
        cr_assert_eq(mounts_at(mnt), 1, "mounted twice");
        cr_assert_eq(test_loops_below(tmpdir, NULL), 1, "attached twice");

        /* published: provision leaves it mounted and attached, and formats nothing */
        ok(provision(&v, 64 * MIB, &res), &res);
        cr_assert_eq(mounts_at(mnt), 1);
        cr_assert_eq(test_loops_below(tmpdir, NULL), 1);
        assert_content(path, "data", "kept");
        cr_assert_eq(provision(&v, 128 * MIB, &res), -ENOSPC, "a smaller image passed");
        cr_assert(strstr(res.error, image), "%s", res.error);

        cr_assert_eq(local_volume_unpublish(&v), 0);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);
}

Test(local_volume, refuses_to_shrink)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "ext4");
        uint64_t size;
        Result res;

        ok(provision(&v, 128 * MIB, &res), &res);
        cr_assert_eq(expand(&v, 64 * MIB, &res), -EINVAL);
        cr_assert(strstr(res.error, image), "%s", res.error);
        cr_assert_eq(local_volume_size(&v, &size), 0);
        cr_assert_eq(size, 128 * MIB);
        ok(expand(&v, 128 * MIB, &res), &res);
        assert_unpublished(&v);
}

Test(local_volume, cancels_mid_mkfs_and_provisions_again)
{
        const char *image = image_path("big.img");
        LocalVolume v = loop_volume(image, "ext4");
        _cleanup_free_ char *error = NULL, *path = NULL;
        LocalVolumeJob *j = NULL;
        siginfo_t si = {};
        Result res = {};

        /* mkfs.ext4 takes about a second and a half on 15 TiB */
        cr_assert_eq(local_volume_provision_start(event, &v, 15 * TIB, on_done, &res, &j, &error), 0);
        event_run_for(event, 300 * USEC_PER_MSEC);
        cr_assert_not(res.called, "the provision ended before it could be cancelled: %d %s", res.result,
                      res.error);
        /* mkfs runs: a child that has not ended */
        cr_assert_eq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), 0, "no child runs: %m");
        cr_assert_eq(si.si_pid, 0);
        cr_assert_eq(test_loops_below(tmpdir, NULL), 1, "mkfs does not run on a loop device");
        local_volume_job_cancel(j);
        /* killed and reaped: this process has no child left, not even a zombie */
        cr_assert_eq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
        cr_assert_eq(errno, ECHILD);
        event_run_for(event, 200 * USEC_PER_MSEC);
        cr_assert_not(res.called, "done called after the cancel");
        assert_detached(image);

        ok(provision(&v, 15 * TIB, &res), &res);
        path = publish(&v);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        ok(delete_volume(&v, &res), &res);
        cr_assert_eq(access(image, F_OK), -1);
}

Test(local_volume, reports_a_failing_tool_with_its_first_line)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "xfs");
        Result res;

        /* xfs wants 300 MB at least */
        cr_assert_eq(provision(&v, 64 * MIB, &res), -EIO);
        cr_assert(startswith(res.error, "mkfs.xfs on /dev/loop") && strstr(res.error, image) &&
                      strstr(res.error, "failed: Filesystem must be larger than 300MB") &&
                      !strchr(res.error, '\n'),
                  "%s", res.error);
        assert_detached(image);
        cr_assert_eq(access(mnt, F_OK), -1);
}

/* A pod's bind of mount_dir keeps the device in use: unpublish and delete refuse. */
Test(local_volume, keeps_a_volume_a_bind_still_uses)
{
        const char *image = image_path("vol.img");
        LocalVolume v = loop_volume(image, "ext4");
        _cleanup_free_ char *path = NULL, *bind = path_in_tmp("pod"), *error = NULL;
        LocalVolumeJob *j = NULL;
        Result res = {};

        ok(provision(&v, 64 * MIB, &res), &res);
        path = publish(&v);
        cr_assert_eq(mount_bind(mnt, bind, false, false), 0);
        cr_assert_eq(local_volume_unpublish(&v), -EBUSY);
        cr_assert_eq(mount_is_mountpoint(mnt), 1, "unmounted anyway");
        res = (Result){};
        cr_assert_eq(local_volume_delete_start(event, &v, on_done, &res, &j, &error), -EBUSY);
        cr_assert(error && strstr(error, image), "%s", error);
        cr_assert_null(j);
        cr_assert_eq(access(image, F_OK), 0);
        event_run_for(event, 50 * USEC_PER_MSEC);
        cr_assert_not(res.called);

        cr_assert_eq(mount_umount(bind), 0);
        cr_assert_eq(local_volume_unpublish(&v), 0);
        assert_unpublished(&v);
}

Test(local_volume, runs_a_block_volume_through_its_life)
{
        _cleanup_free_ char *dev = test_disk("disk.img", 64 * MIB), *path = NULL, *fstype = NULL;
        LocalVolume v = block_volume(dev, "ext4");
        Result res;

        ok(provision(&v, 32 * MIB, &res), &res);
        fstype = probe(dev);
        cr_assert_str_eq(fstype, "ext4");
        path = publish(&v);
        cr_assert_str_eq(path, mnt);
        cr_assert_eq(local_volume_is_published(&v), 1);
        write_in(path, "data", "on a disk");
        cr_assert_eq(local_volume_unpublish(&v), 0);
        cr_assert_eq(mount_is_mountpoint(mnt), 0);
        cr_assert_eq(local_volume_is_published(&v), 0);

        /* the disk is larger than asked for: growing into it needs no bigger disk */
        ok(expand(&v, 48 * MIB, &res), &res);
        ok(expand(&v, 64 * MIB, &res), &res);
        cr_assert_eq(mount_is_mountpoint(mnt), 0);

        ok(delete_volume(&v, &res), &res);
        fstype = mfree(fstype);
        fstype = probe(dev);
        cr_assert_null(fstype, "delete left %s on the device", fstype);
        detach_test_disk(dev);
}

static void link_in(const char *dir, const char *name, const char *target)
{
        _cleanup_free_ char *p = strjoin(dir, "/", name, NULL);

        cr_assert_not_null(p);
        cr_assert_eq(symlink(target, p), 0);
}

Test(local_volume, lists_the_block_devices_of_a_directory)
{
        _cleanup_free_ char *a = test_disk("a.img", 32 * MIB), *b = test_disk("b.img", 64 * MIB);
        _cleanup_free_ char *dir = path_in_tmp("disks"), *file = path_in_tmp("disks/c-file");
        _cleanup_free_ char *missing = path_in_tmp("none");
        LocalBlockDevice *d = NULL;
        size_t n = 0;

        cr_assert_eq(mkdir(dir, 0755), 0);
        link_in(dir, "b-disk", b);
        link_in(dir, "a-disk", a);
        link_in(dir, "null", "/dev/null");
        link_in(dir, "dangling", missing);
        cr_assert_eq(write_file_atomic(file, "x", 1, 0644), 0);

        cr_assert_eq(local_volume_block_devices(dir, &d, &n), 0);
        cr_assert_eq(n, 2);
        cr_assert(endswith(d[0].path, "/disks/a-disk") && startswith(d[0].path, tmpdir), "%s", d[0].path);
        cr_assert_eq(d[0].size, 32 * MIB);
        cr_assert(endswith(d[1].path, "/disks/b-disk"), "%s", d[1].path);
        cr_assert_eq(d[1].size, 64 * MIB);
        local_block_devices_free(d, n);

        cr_assert_eq(local_volume_block_devices(b, &d, &n), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(d[0].path, b);
        cr_assert_eq(d[0].size, 64 * MIB);
        local_block_devices_free(d, n);

        cr_assert_eq(local_volume_block_devices(missing, &d, &n), -ENOENT);
        cr_assert_eq(local_volume_block_devices(file, &d, &n), -ENOTDIR);
        detach_test_disk(a);
        detach_test_disk(b);
}

Test(local_volume, measures_free_space_where_a_volume_will_be)
{
        _cleanup_free_ char *deep = path_in_tmp("not/yet/vol.img");
        struct statvfs sv;
        uint64_t free_space = 0, expected;

        cr_assert_eq(local_volume_free_space(deep, &free_space), 0);
        cr_assert_eq(statvfs(tmpdir, &sv), 0);
        expected = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        /* others write on the same file system meanwhile */
        cr_assert_lt(free_space > expected ? free_space - expected : expected - free_space, 64 * MIB,
                     "%" PRIu64 " vs %" PRIu64, free_space, expected);
        cr_assert_eq(local_volume_free_space("", &free_space), -EINVAL);
}
