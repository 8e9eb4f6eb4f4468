/* Local persistent volumes: a directory, a sparse image on a loop device, or a block device,
 * provisioned, published, grown and deleted. A job is a short list of steps run on the loop:
 * quick ones (create, attach, probe, mount) run in turn, slow ones (mkfs, fsck, resize,
 * wipefs) are BlockdevJobs whose end runs the rest, and the job's end undoes what it set up
 * only for itself (a mount for an xfs grow, the loop device of an unpublished volume). */
#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "local-volume.h"
#include "log.h"
#include "mount-util.h"
#include "util.h"

#define STEPS_MAX 6
#define ERROR_LINE_MAX 200

/* "/dev/loop3 for image /var/lib/x.img" for a loop volume, the device alone for block */
#define VDEV_FMT "%s%s%s"
#define VDEV_ARGS(v, dev)                                                                                   \
        (dev), (v)->type == LOCAL_VOLUME_LOOP ? " for image " : "",                                         \
            (v)->type == LOCAL_VOLUME_LOOP ? (v)->path : ""
#define DEV_FMT VDEV_FMT
#define DEV_ARGS(j) VDEV_ARGS(j, (j)->dev)

static const char *const type_names[_LOCAL_VOLUME_TYPE_MAX] = {
    [LOCAL_VOLUME_DIR] = "dir",
    [LOCAL_VOLUME_LOOP] = "loop",
    [LOCAL_VOLUME_BLOCK] = "block",
};

const char *local_volume_type_to_string(LocalVolumeType t)
{
        return (unsigned)t < _LOCAL_VOLUME_TYPE_MAX ? type_names[t] : NULL;
}

int local_volume_type_from_string(const char *s, LocalVolumeType *ret)
{
        if (!s || !ret)
                return -EINVAL;
        for (unsigned i = 0; i < _LOCAL_VOLUME_TYPE_MAX; i++)
                if (streq(s, type_names[i])) {
                        *ret = (LocalVolumeType)i;
                        return 0;
                }
        return -EINVAL;
}

/* A file system is made, mounted and grown: loop or block in Filesystem mode. */
static bool fs_mode(const LocalVolume *v)
{
        return v->type != LOCAL_VOLUME_DIR && !v->block_mode;
}

static int validate(const LocalVolume *v, char **ret_error)
{
        if (!v)
                return set_errorf(ret_error, -EINVAL, "no volume given");
        if ((unsigned)v->type >= _LOCAL_VOLUME_TYPE_MAX)
                return set_errorf(ret_error, -EINVAL, "%d is no local volume type", (int)v->type);
        if (isempty(v->path) || v->path[0] != '/')
                return set_errorf(ret_error, -EINVAL, "the path of a %s volume must be absolute, not '%s'",
                                  type_names[v->type], v->path ?: "");
        if (v->type == LOCAL_VOLUME_DIR && v->block_mode)
                return set_errorf(ret_error, -EINVAL, "dir volume %s cannot have volumeMode Block", v->path);
        if (!fs_mode(v))
                return 0;
        if (isempty(v->fstype))
                return set_errorf(ret_error, -EINVAL, "volume %s has no file system type", v->path);
        if (!streq(v->fstype, "ext4") && !streq(v->fstype, "xfs"))
                return set_errorf(ret_error, -EOPNOTSUPP,
                                  "file system type %s of volume %s is not supported (ext4 or xfs)",
                                  v->fstype, v->path);
        if (isempty(v->mount_dir) || v->mount_dir[0] != '/')
                return set_errorf(ret_error, -EINVAL, "volume %s has no absolute mount directory", v->path);
        return 0;
}

/* 0 when path is a block device, else -ENOENT or -ENOTBLK. */
static int check_block_device(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
}

static int image_size(const char *path, uint64_t *ret)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EEXIST;
        *ret = (uint64_t)st.st_size;
        return 0;
}

int local_volume_size(const LocalVolume *v, uint64_t *ret)
{
        int r;

        if (!ret)
                return -EINVAL;
        r = validate(v, NULL);
        if (r < 0)
                return r;
        switch (v->type) {
        case LOCAL_VOLUME_LOOP:
                return image_size(v->path, ret);
        case LOCAL_VOLUME_BLOCK:
                r = check_block_device(v->path);
                return r < 0 ? r : blockdev_size(v->path, ret);
        default:
                return -EOPNOTSUPP;
        }
}

/* 1 when the file system on dev is what is mounted at mount_dir, 0 when not. */
static int mounted_at(const char *dev, const char *mount_dir)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *canon = realpath(mount_dir, NULL);
        const MountEntry *top;
        struct stat st;
        int r;

        if (!canon)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        if (stat(dev, &st) < 0)
                return negative_errno();
        r = mount_table_parse(NULL, &t);
        if (r < 0)
                return r;
        top = mount_table_find_target(&t, canon);
        return top && makedev(top->major, top->minor) == st.st_rdev;
}

int local_volume_is_published(const LocalVolume *v)
{
        _cleanup_free_ char *dev = NULL;
        int r;

        r = validate(v, NULL);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_DIR || (v->type == LOCAL_VOLUME_BLOCK && v->block_mode))
                return 0;
        if (v->type == LOCAL_VOLUME_LOOP) {
                r = loop_find(v->path, &dev);
                if (r < 0)
                        return r == -ENOENT ? 0 : r;
                if (v->block_mode)
                        return 1;
        } else {
                r = check_block_device(v->path);
                if (r < 0)
                        return r == -ENOENT ? 0 : r;
                dev = strdup(v->path);
                if (!dev)
                        return -ENOMEM;
        }
        return mounted_at(dev, v->mount_dir);
}

/* Mounts the file system on dev at mount_dir, after blkid found fstype there. */
static int mount_fs(const LocalVolume *v, const char *dev, char **ret_error)
{
        _cleanup_free_ char *found = NULL;
        int r;

        r = blockdev_probe_fstype(dev, &found);
        if (r == -EUCLEAN)
                return set_errorf(ret_error, -EMEDIUMTYPE,
                                  "signatures on " VDEV_FMT " contradict each other", VDEV_ARGS(v, dev));
        if (r < 0)
                return set_errorf(ret_error, r, "probing " VDEV_FMT " failed: %s", VDEV_ARGS(v, dev),
                                  strerror(-r));
        if (!found)
                return set_errorf(ret_error, -EMEDIUMTYPE,
                                  VDEV_FMT " holds no file system: the volume was not provisioned",
                                  VDEV_ARGS(v, dev));
        if (!streq(found, v->fstype))
                return set_errorf(ret_error, -EMEDIUMTYPE, VDEV_FMT " holds %s, not %s", VDEV_ARGS(v, dev),
                                  found, v->fstype);
        r = mount_do(dev, v->mount_dir, v->fstype, NULL);
        if (r < 0)
                return set_errorf(ret_error, r, "mounting %s of " VDEV_FMT " on %s failed: %s", v->fstype,
                                  VDEV_ARGS(v, dev), v->mount_dir, strerror(-r));
        return 0;
}

/* The device node of a loop or block volume, attached (loop) when it was not;
 * *ret_attached tells whether it was attached here. */
static int open_device(const LocalVolume *v, char **ret_dev, bool *ret_attached, char **ret_error)
{
        _cleanup_free_ char *found = NULL;
        uint64_t size;
        int r;

        if (v->type == LOCAL_VOLUME_BLOCK) {
                r = check_block_device(v->path);
                if (r == -ENOENT)
                        return set_errorf(ret_error, r, "device %s of the volume is missing", v->path);
                if (r < 0)
                        return set_errorf(ret_error, r, "%s is no block device: %s", v->path, strerror(-r));
                *ret_attached = false;
                *ret_dev = strdup(v->path);
                return *ret_dev ? 0 : -ENOMEM;
        }
        r = image_size(v->path, &size);
        if (r == -ENOENT)
                return set_errorf(ret_error, r, "image %s of the volume is missing", v->path);
        if (r < 0)
                return set_errorf(ret_error, r, "%s is no image file: %s", v->path, strerror(-r));
        *ret_attached = loop_find(v->path, &found) < 0;
        r = loop_attach(v->path, ret_dev);
        if (r < 0)
                return set_errorf(ret_error, r, "attaching image %s to a loop device failed: %s", v->path,
                                  strerror(-r));
        return 0;
}

int local_volume_publish(const LocalVolume *v, char **ret_path, char **ret_error)
{
        _cleanup_free_ char *dev = NULL;
        bool attached = false;
        struct stat st;
        int r;

        if (!ret_path)
                return -EINVAL;
        r = validate(v, ret_error);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_DIR) {
                /* never created here: an empty directory would hide that the data is gone */
                if (stat(v->path, &st) < 0) {
                        r = negative_errno();
                        return set_errorf(ret_error, r, "directory %s of the volume %s", v->path,
                                          r == -ENOENT ? "is missing" : strerror(-r));
                }
                if (!S_ISDIR(st.st_mode))
                        return set_errorf(ret_error, -ENOTDIR, "%s of the volume is no directory", v->path);
                *ret_path = strdup(v->path);
                return *ret_path ? 0 : -ENOMEM;
        }
        r = open_device(v, &dev, &attached, ret_error);
        if (r < 0)
                return r;
        if (v->block_mode) {
                *ret_path = TAKE_PTR(dev);
                return 0;
        }
        r = mount_fs(v, dev, ret_error);
        if (r < 0) {
                if (attached)
                        (void)loop_detach(dev); /* a failed publish leaves nothing behind */
                return r;
        }
        *ret_path = strdup(v->mount_dir);
        return *ret_path ? 0 : -ENOMEM;
}

/* Unmounts mount_dir and removes it when empty. -EBUSY, and nothing is done, when the file
 * system is mounted elsewhere too (a pod's bind of mount_dir): unmounting mount_dir would
 * succeed, but leave the device in use. */
static int unmount_dir(const char *mount_dir)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *canon = realpath(mount_dir, NULL);
        const MountEntry *top;
        int r;

        if (!canon)
                return errno == ENOENT ? 0 : negative_errno();
        r = mount_table_parse(NULL, &t);
        if (r < 0)
                return r;
        top = mount_table_find_target(&t, canon);
        if (top) {
                for (size_t i = 0; i < t.n; i++) {
                        const MountEntry *e = &t.entries[i];

                        if (e->major == top->major && e->minor == top->minor && !streq(e->target, canon)) {
                                log_debug("Not unmounting %s: its file system is mounted on %s too", canon,
                                          e->target);
                                return -EBUSY;
                        }
                }
                r = mount_umount(canon);
                if (r < 0)
                        return r;
        }
        if (rmdir(canon) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != ENOTDIR)
                return negative_errno();
        return 0;
}

int local_volume_unpublish(const LocalVolume *v)
{
        _cleanup_free_ char *dev = NULL;
        int r;

        r = validate(v, NULL);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_DIR)
                return 0;
        if (fs_mode(v)) {
                r = unmount_dir(v->mount_dir);
                if (r < 0)
                        return r;
        }
        if (v->type != LOCAL_VOLUME_LOOP)
                return 0;
        r = loop_find(v->path, &dev);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : loop_detach(dev);
}

/* A step: 0 to go on with the next, 1 when a BlockdevJob runs (its end goes on), or a
 * negative errno with j->error set. */
typedef int (*step_t)(LocalVolumeJob *j);

struct LocalVolumeJob {
        sd_event *event;
        sd_event_source *defer;
        BlockdevJob *child;
        LocalVolumeType type;
        bool block_mode;
        char *path, *fstype, *mount_dir;
        uint64_t size;
        step_t steps[STEPS_MAX];
        size_t n_steps, next;
        char *dev;         /* the device the steps work on, once known */
        bool online;       /* the file system is published: grown mounted */
        bool mounted_here; /* mounted at mount_dir for the time of an xfs grow */
        char *child_what;  /* "mkfs.ext4 on /dev/loop3 for image ...": for its error */
        char *error;       /* the message of a failed step */
        bool ending;       /* done runs: a cancel from it does nothing */
        local_volume_done_t done;
        void *userdata;
};

static LocalVolumeJob *job_free(LocalVolumeJob *j)
{
        if (!j)
                return NULL;
        blockdev_job_cancel(j->child);
        sd_event_source_disable_unref(j->defer);
        sd_event_unref(j->event);
        free(j->path);
        free(j->fstype);
        free(j->mount_dir);
        free(j->dev);
        free(j->child_what);
        free(j->error);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(LocalVolumeJob *, job_free);

static bool job_fs_mode(const LocalVolumeJob *j)
{
        return j->type != LOCAL_VOLUME_DIR && !j->block_mode;
}

/* Undoes what the job set up for itself: the mount of an xfs grow, and the loop device of a
 * volume that is not published (also one that an earlier, interrupted run attached). A
 * failure is described in *ret_error when that is not NULL. */
static int release(LocalVolumeJob *j, char **ret_error)
{
        int r = 0, k;

        if (j->mounted_here) {
                j->mounted_here = false;
                r = unmount_dir(j->mount_dir);
                if (r < 0)
                        (void)set_errorf(ret_error, r,
                                         "unmounting %s after the grow of " DEV_FMT " failed: %s",
                                         j->mount_dir, DEV_ARGS(j), strerror(-r));
        }
        if (j->type != LOCAL_VOLUME_LOOP || !job_fs_mode(j) || !j->dev || r < 0)
                return r;
        k = mounted_at(j->dev, j->mount_dir);
        if (k == 0)
                k = loop_detach(j->dev);
        if (k < 0)
                return set_errorf(ret_error, k, "detaching %s from image %s failed: %s", j->dev, j->path,
                                  strerror(-k));
        return 0;
}

static void finish(LocalVolumeJob *j, int r)
{
        /* the message of a failed step stays: it says what went wrong first */
        int k = release(j, r < 0 ? NULL : &j->error);

        if (r >= 0)
                r = k;
        j->ending = true;
        j->done(r, r < 0 ? (j->error ?: strerror(-r)) : NULL, j->userdata);
        job_free(j);
}

static void run(LocalVolumeJob *j)
{
        while (j->next < j->n_steps) {
                int r = j->steps[j->next++](j);

                if (r < 0) {
                        finish(j, r);
                        return;
                }
                if (r > 0)
                        return;
        }
        finish(j, 0);
}

/* Version banners ("mke2fs 1.47.0 (5-Feb-2023)") say nothing about what went wrong. */
static bool is_banner(const char *line, size_t n)
{
        const char *sp = memchr(line, ' ', n), *end = line + n;
        const char *v = sp ? sp + 1 : end;

        while (v < end && ((*v >= '0' && *v <= '9') || *v == '.'))
                v++;
        return sp && v > sp + 2 && end - v >= 3 && v[0] == ' ' && v[1] == '(' && end[-1] == ')';
}

/* The first line of output that says something, into buf. */
static void first_line(const char *output, char *buf, size_t size)
{
        for (const char *p = output; *p;) {
                size_t n = strcspn(p, "\n");

                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\t'))
                        n--;
                if (n > 0 && !is_banner(p, n)) {
                        snprintf(buf, size, "%.*s", (int)n, p);
                        return;
                }
                p += strcspn(p, "\n");
                if (*p)
                        p++;
        }
        snprintf(buf, size, "it failed without saying why");
}

static void on_child_done(int result, const char *output, void *userdata)
{
        LocalVolumeJob *j = userdata;
        char line[ERROR_LINE_MAX];

        j->child = NULL;
        if (result >= 0) {
                run(j);
                return;
        }
        /* resize2fs says "Permission denied to resize filesystem" for the kernel's EPERM */
        if (j->online && streq(j->fstype, "ext4") &&
            (strstr(output, "Permission denied") || strstr(output, "Operation not permitted"))) {
                (void)set_errorf(&j->error, -EPERM,
                                 "online resize of ext4 on " DEV_FMT " refused by the kernel (needs "
                                 "CAP_SYS_RESOURCE); it grows when the volume is next unpublished",
                                 DEV_ARGS(j));
                finish(j, -EPERM);
                return;
        }
        first_line(output, line, sizeof(line));
        (void)set_errorf(&j->error, result, "%s failed: %s", j->child_what, line);
        finish(j, result);
}

/* Records what the child about to start does, for its error message. */
static int describe_child(LocalVolumeJob *j, const char *tool)
{
        free(j->child_what);
        if (asprintf_safe(&j->child_what, "%s on " DEV_FMT, tool, DEV_ARGS(j)) < 0)
                return -ENOMEM;
        return 0;
}

/* The result of a BlockdevJob's start: 1 when it runs, else the error, named. */
static int child_started(LocalVolumeJob *j, int r)
{
        if (r >= 0)
                return 1;
        return set_errorf(&j->error, r, "starting %s failed: %s", j->child_what, strerror(-r));
}

static int step_mkdir(LocalVolumeJob *j)
{
        _cleanup_free_ char *parent = strdup(j->path);
        struct stat st;
        int r;

        if (!parent)
                return -ENOMEM;
        if (stat(j->path, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return set_errorf(&j->error, -ENOTDIR, "%s exists and is no directory", j->path);
                return 0;
        }
        *strrchr(parent, '/') = 0;
        r = isempty(parent) ? 0 : mkdir_p(parent, 0755);
        if (r >= 0 && mkdir(j->path, 0777) < 0)
                r = errno == EEXIST ? 0 : negative_errno();
        /* as an emptyDir's, so that any user may write: the umask would take the bits away */
        else if (r >= 0 && chmod(j->path, 0777) < 0)
                r = negative_errno();
        if (r < 0)
                return set_errorf(&j->error, r, "creating directory %s failed: %s", j->path, strerror(-r));
        return 0;
}

static int step_create_image(LocalVolumeJob *j)
{
        uint64_t have = 0;
        int r;

        r = image_create(j->path, j->size);
        if (r >= 0)
                r = image_size(j->path, &have);
        if (r == -EEXIST)
                return set_errorf(&j->error, r, "%s exists and is no image file", j->path);
        if (r < 0)
                return set_errorf(&j->error, r, "creating image %s failed: %s", j->path, strerror(-r));
        if (have < j->size)
                return set_errorf(&j->error, -ENOSPC,
                                  "image %s exists with %" PRIu64 " bytes, fewer than the %" PRIu64
                                  " asked for: expand it instead",
                                  j->path, have, j->size);
        return 0;
}

static int step_attach(LocalVolumeJob *j)
{
        int r;

        if (j->dev)
                return 0;
        r = loop_attach(j->path, &j->dev);
        if (r < 0)
                return set_errorf(&j->error, r, "attaching image %s to a loop device failed: %s", j->path,
                                  strerror(-r));
        return 0;
}

/* A block volume's device: a block device of at least j->size bytes. */
static int step_check_device(LocalVolumeJob *j)
{
        uint64_t have;
        int r;

        r = check_block_device(j->path);
        if (r == -ENOENT)
                return set_errorf(&j->error, r, "device %s of the volume is missing", j->path);
        if (r >= 0)
                r = blockdev_size(j->path, &have);
        if (r < 0)
                return set_errorf(&j->error, r, "%s is no usable block device: %s", j->path, strerror(-r));
        if (have < j->size)
                return set_errorf(&j->error, -ENOSPC,
                                  "device %s has %" PRIu64 " bytes, fewer than the %" PRIu64 " asked for",
                                  j->path, have, j->size);
        j->dev = strdup(j->path);
        return j->dev ? 0 : -ENOMEM;
}

/* What blkid finds on j->dev: 0 with *ret_found NULL or fstype, else the error, named. */
static int probe(LocalVolumeJob *j, char **ret_found)
{
        int r = blockdev_probe_fstype(j->dev, ret_found);

        if (r == -EUCLEAN)
                return set_errorf(&j->error, -EEXIST, "signatures on " DEV_FMT " contradict each other",
                                  DEV_ARGS(j));
        if (r < 0)
                return set_errorf(&j->error, r, "probing " DEV_FMT " failed: %s", DEV_ARGS(j), strerror(-r));
        return 0;
}

static int step_mkfs(LocalVolumeJob *j)
{
        _cleanup_free_ char *found = NULL, *tool = strjoin("mkfs.", j->fstype, NULL);
        int r;

        if (!tool)
                return -ENOMEM;
        r = probe(j, &found);
        if (r < 0)
                return r;
        if (found && streq(found, j->fstype))
                return 0; /* made before: data is never formatted twice */
        if (found)
                return set_errorf(&j->error, -EEXIST, DEV_FMT " holds %s, not %s: not formatted",
                                  DEV_ARGS(j), found, j->fstype);
        r = describe_child(j, tool);
        if (r < 0)
                return r;
        r = blockdev_mkfs_start(j->event, j->dev, j->fstype, on_child_done, j, &j->child);
        if (r == -EEXIST)
                return set_errorf(&j->error, r, DEV_FMT " holds a partition table: not formatted",
                                  DEV_ARGS(j));
        return child_started(j, r);
}

static int step_grow_image(LocalVolumeJob *j)
{
        uint64_t have;
        int r;

        r = image_size(j->path, &have);
        if (r == -ENOENT)
                return set_errorf(&j->error, r, "image %s of the volume is missing", j->path);
        if (r < 0)
                return set_errorf(&j->error, r, "%s is no image file: %s", j->path, strerror(-r));
        if (j->size < have)
                return set_errorf(&j->error, -EINVAL,
                                  "image %s has %" PRIu64 " bytes: a volume does not shrink to %" PRIu64,
                                  j->path, have, j->size);
        r = image_grow(j->path, j->size);
        if (r < 0)
                return set_errorf(&j->error, r, "growing image %s to %" PRIu64 " bytes failed: %s", j->path,
                                  j->size, strerror(-r));
        r = loop_find(j->path, &j->dev);
        if (r == -ENOENT)
                return 0; /* not attached: it sees the new size when it is */
        if (r >= 0)
                r = loop_refresh_size(j->dev);
        if (r < 0)
                return set_errorf(&j->error, r, "the loop device of image %s did not take its new size: %s",
                                  j->path, strerror(-r));
        return 0;
}

/* Before a grow: the file system is fstype, and grows mounted when it is published; xfs
 * only grows mounted, so it is mounted at mount_dir for the time of it when it is not. */
static int step_prepare_grow(LocalVolumeJob *j)
{
        _cleanup_free_ char *found = NULL;
        int r;

        r = probe(j, &found);
        if (r < 0)
                return r;
        if (!streq_ptr(found, j->fstype))
                return set_errorf(&j->error, -EMEDIUMTYPE, DEV_FMT " holds %s, not %s: not grown",
                                  DEV_ARGS(j), found ?: "no file system", j->fstype);
        r = mounted_at(j->dev, j->mount_dir);
        if (r < 0)
                return set_errorf(&j->error, r, "reading the mount table for %s failed: %s", j->mount_dir,
                                  strerror(-r));
        j->online = r > 0;
        if (j->online || !streq(j->fstype, "xfs"))
                return 0;
        r = mount_do(j->dev, j->mount_dir, j->fstype, NULL);
        if (r < 0)
                return set_errorf(&j->error, r, "mounting " DEV_FMT " on %s for its grow failed: %s",
                                  DEV_ARGS(j), j->mount_dir, strerror(-r));
        j->mounted_here = true;
        return 0;
}

/* resize2fs grows an unmounted ext4 only after a full check since it was last mounted */
static int step_check_fs(LocalVolumeJob *j)
{
        int r;

        if (j->online || !streq(j->fstype, "ext4"))
                return 0;
        r = describe_child(j, "e2fsck -f -p");
        if (r < 0)
                return r;
        return child_started(
            j, blockdev_check_fs_start(j->event, j->dev, j->fstype, on_child_done, j, &j->child));
}

static int step_grow_fs(LocalVolumeJob *j)
{
        int r;

        r = describe_child(j, streq(j->fstype, "ext4") ? "resize2fs" : "xfs_growfs");
        if (r < 0)
                return r;
        return child_started(j, blockdev_grow_fs_start(j->event, j->dev, j->fstype, j->mount_dir,
                                                       on_child_done, j, &j->child));
}

static int step_remove_dir(LocalVolumeJob *j)
{
        int r = rm_rf(j->path);

        if (r < 0)
                return set_errorf(&j->error, r, "removing directory %s failed: %s", j->path, strerror(-r));
        return 0;
}

static int step_remove_image(LocalVolumeJob *j)
{
        if (unlink(j->path) < 0 && errno != ENOENT)
                return set_errorf(&j->error, negative_errno(), "removing image %s failed: %s", j->path,
                                  strerror(errno));
        return 0;
}

static int step_wipe(LocalVolumeJob *j)
{
        int r;

        r = check_block_device(j->path);
        if (r < 0)
                return set_errorf(&j->error, r, "device %s of the volume: %s", j->path, strerror(-r));
        j->dev = strdup(j->path);
        if (!j->dev)
                return -ENOMEM;
        r = describe_child(j, "wipefs -a");
        if (r < 0)
                return r;
        return child_started(j, blockdev_wipe_start(j->event, j->dev, on_child_done, j, &j->child));
}

static int on_defer(sd_event_source *s, void *userdata)
{
        run(userdata);
        return 0;
}

static int strdup_opt(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int job_new(sd_event *e, const LocalVolume *v, uint64_t size, local_volume_done_t done,
                   void *userdata, LocalVolumeJob **ret)
{
        _cleanup_(job_freep) LocalVolumeJob *j = calloc(1, sizeof(LocalVolumeJob));

        if (!j)
                return -ENOMEM;
        j->event = sd_event_ref(e);
        j->type = v->type;
        j->block_mode = v->block_mode;
        j->size = size;
        j->done = done;
        j->userdata = userdata;
        if (strdup_opt(v->path, &j->path) < 0 || strdup_opt(v->fstype, &j->fstype) < 0 ||
            strdup_opt(v->mount_dir, &j->mount_dir) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(j);
        return 0;
}

static void add_step(LocalVolumeJob *j, step_t step)
{
        assert(j->n_steps < STEPS_MAX);
        j->steps[j->n_steps++] = step;
}

/* The first step runs from the loop: done is never called from within a *_start. */
static int job_launch(LocalVolumeJob *j, LocalVolumeJob **ret)
{
        int r = sd_event_add_defer(j->event, &j->defer, on_defer, j);

        if (r < 0) {
                job_free(j);
                return r;
        }
        (void)sd_event_source_set_description(j->defer, "local-volume-job");
        if (ret)
                *ret = j;
        return 0;
}

static int require_tool(const char *tool, const char *path, char **ret_error)
{
        int r = blockdev_tool_available(tool);

        if (r < 0)
                return r;
        if (r == 0)
                return set_errorf(ret_error, -ENOENT, "%s is not installed: volume %s cannot be handled",
                                  tool, path);
        return 0;
}

/* The checks each *_start makes before a job exists. */
static int check_start(sd_event *e, const LocalVolume *v, uint64_t size, bool sized,
                       local_volume_done_t done, char **ret_error)
{
        int r;

        if (!e || !done)
                return set_errorf(ret_error, -EINVAL, "no event loop or callback given");
        r = validate(v, ret_error);
        if (r < 0)
                return r;
        if (sized && v->type != LOCAL_VOLUME_DIR && (size == 0 || size > INT64_MAX))
                return set_errorf(ret_error, -EINVAL, "%" PRIu64 " bytes is no size for volume %s", size,
                                  v->path);
        return 0;
}

int local_volume_provision_start(sd_event *e, const LocalVolume *v, uint64_t size, local_volume_done_t done,
                                 void *userdata, LocalVolumeJob **ret, char **ret_error)
{
        _cleanup_free_ char *tool = NULL;
        LocalVolumeJob *j;
        int r;

        r = check_start(e, v, size, true, done, ret_error);
        if (r < 0)
                return r;
        if (fs_mode(v)) {
                tool = strjoin("mkfs.", v->fstype, NULL);
                if (!tool)
                        return -ENOMEM;
                r = require_tool(tool, v->path, ret_error);
                if (r < 0)
                        return r;
        }
        r = job_new(e, v, size, done, userdata, &j);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_DIR)
                add_step(j, step_mkdir);
        else if (v->type == LOCAL_VOLUME_LOOP)
                add_step(j, step_create_image);
        else
                add_step(j, step_check_device);
        if (fs_mode(v)) {
                if (v->type == LOCAL_VOLUME_LOOP)
                        add_step(j, step_attach);
                add_step(j, step_mkfs);
        }
        return job_launch(j, ret);
}

int local_volume_expand_start(sd_event *e, const LocalVolume *v, uint64_t size, local_volume_done_t done,
                              void *userdata, LocalVolumeJob **ret, char **ret_error)
{
        LocalVolumeJob *j;
        int r;

        r = check_start(e, v, size, true, done, ret_error);
        if (r < 0)
                return r;
        if (fs_mode(v) && streq(v->fstype, "ext4")) {
                r = require_tool("e2fsck", v->path, ret_error);
                if (r >= 0)
                        r = require_tool("resize2fs", v->path, ret_error);
        } else if (fs_mode(v))
                r = require_tool("xfs_growfs", v->path, ret_error);
        if (r < 0)
                return r;
        r = job_new(e, v, size, done, userdata, &j);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_LOOP)
                add_step(j, step_grow_image);
        else if (v->type == LOCAL_VOLUME_BLOCK)
                add_step(j, step_check_device);
        if (fs_mode(v)) {
                if (v->type == LOCAL_VOLUME_LOOP)
                        add_step(j, step_attach);
                add_step(j, step_prepare_grow);
                add_step(j, step_check_fs);
                add_step(j, step_grow_fs);
        }
        return job_launch(j, ret);
}

int local_volume_delete_start(sd_event *e, const LocalVolume *v, local_volume_done_t done, void *userdata,
                              LocalVolumeJob **ret, char **ret_error)
{
        LocalVolumeJob *j;
        int r;

        r = check_start(e, v, 0, false, done, ret_error);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_BLOCK) {
                r = require_tool("wipefs", v->path, ret_error);
                if (r < 0)
                        return r;
        }
        r = local_volume_unpublish(v);
        if (r == -EBUSY)
                return set_errorf(ret_error, r, "volume %s is in use: %s is busy or mounted elsewhere too",
                                  v->path, v->mount_dir ?: v->path);
        if (r < 0)
                return set_errorf(ret_error, r, "unpublishing volume %s failed: %s", v->path, strerror(-r));
        r = job_new(e, v, 0, done, userdata, &j);
        if (r < 0)
                return r;
        if (v->type == LOCAL_VOLUME_DIR)
                add_step(j, step_remove_dir);
        else if (v->type == LOCAL_VOLUME_LOOP)
                add_step(j, step_remove_image);
        else
                add_step(j, step_wipe);
        return job_launch(j, ret);
}

void local_volume_job_cancel(LocalVolumeJob *j)
{
        if (!j || j->ending)
                return; /* from within done: j is freed when done returns */
        blockdev_job_cancel(j->child);
        j->child = NULL;
        /* the state the same call starts from again: no mount or loop device of its own left */
        (void)release(j, NULL);
        job_free(j);
}

int local_volume_free_space(const char *path, uint64_t *ret)
{
        _cleanup_free_ char *p = NULL;
        struct statvfs sv;

        if (isempty(path) || !ret)
                return -EINVAL;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        /* a volume not provisioned yet: the file system it will be made on */
        while (statvfs(p, &sv) < 0) {
                char *slash = strrchr(p, '/');

                if (errno != ENOENT || streq(p, "/") || streq(p, "."))
                        return negative_errno();
                if (!slash)
                        strcpy(p, ".");
                else
                        slash[slash == p] = 0; /* "/a" becomes "/" */
        }
        *ret = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        return 0;
}

void local_block_devices_free(LocalBlockDevice *d, size_t n)
{
        for (size_t i = 0; d && i < n; i++)
                free(d[i].path);
        free(d);
}

static int compare_devices(const void *a, const void *b)
{
        return strcmp(((const LocalBlockDevice *)a)->path, ((const LocalBlockDevice *)b)->path);
}

/* Appends path with its size when it is a block device (symlinks followed) whose size can
 * be read; anything else is skipped. */
static int add_device(LocalBlockDevice **d, size_t *n, const char *path)
{
        LocalBlockDevice *grown;
        uint64_t size;
        char *copy;

        if (check_block_device(path) < 0 || blockdev_size(path, &size) < 0)
                return 0;
        copy = strdup(path);
        grown = copy ? reallocarray(*d, *n + 1, sizeof(**d)) : NULL;
        if (!grown) {
                free(copy);
                return -ENOMEM;
        }
        grown[(*n)++] = (LocalBlockDevice){.path = copy, .size = size};
        *d = grown;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

int local_volume_block_devices(const char *path, LocalBlockDevice **ret, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        LocalBlockDevice *d = NULL;
        struct stat st;
        size_t n = 0;
        int r = 0;

        if (isempty(path) || !ret || !ret_n)
                return -EINVAL;
        if (stat(path, &st) < 0)
                return negative_errno();
        if (S_ISBLK(st.st_mode))
                r = add_device(&d, &n, path);
        else if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        else if (!(dir = opendir(path)))
                return negative_errno();
        for (struct dirent *de; dir && r >= 0 && (de = readdir(dir));) {
                _cleanup_free_ char *p = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                p = strjoin(path, endswith(path, "/") ? "" : "/", de->d_name, NULL);
                r = p ? add_device(&d, &n, p) : -ENOMEM;
        }
        if (r < 0) {
                local_block_devices_free(d, n);
                return r;
        }
        if (n > 1)
                qsort(d, n, sizeof(*d), compare_devices);
        *ret = d;
        *ret_n = n;
        return 0;
}
