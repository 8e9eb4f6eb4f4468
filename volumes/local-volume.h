/* Local persistent volumes, as a storage class provisions them: a directory, a loop-backed
 * sparse image file, or a block device. Provisioning, expansion and deletion take seconds
 * (mkfs, resize, wipe) and run as child processes watched on the loop; publishing (attach,
 * then mount) and unpublishing are quick and synchronous. Every operation is idempotent and
 * may be run again after an agent died in its middle: an image that exists is kept, a loop
 * device already backed by the image is reused, a mount already in place stays, and a file
 * system that blkid finds is never formatted again. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef enum LocalVolumeType {
        LOCAL_VOLUME_DIR,
        LOCAL_VOLUME_LOOP,
        LOCAL_VOLUME_BLOCK,
        _LOCAL_VOLUME_TYPE_MAX,
} LocalVolumeType;

/* "dir", "loop", "block". */
const char *local_volume_type_to_string(LocalVolumeType t);
int local_volume_type_from_string(const char *s, LocalVolumeType *ret);

/* One volume. Strings are borrowed from the caller for the duration of a call (a job copies
 * what it keeps). */
typedef struct LocalVolume {
        LocalVolumeType type;
        /* dir: the volume's directory; loop: its image file; block: its device node */
        const char *path;
        /* "ext4" or "xfs" for loop and block in Filesystem mode; ignored for dir and block_mode */
        const char *fstype;
        /* volumeMode Block: the device itself is what is published; no file system is made,
         * none is mounted (dir volumes cannot be block_mode: -EINVAL) */
        bool block_mode;
        /* loop and block in Filesystem mode: the directory the file system is mounted on while
         * published (the kubelet's "global mount"); pods bind it. Created when missing. */
        const char *mount_dir;
} LocalVolume;

/* done gets 0 or a negative errno, and for an error a message naming what failed, fit for a
 * Kubernetes event ("mkfs.xfs on /dev/loop3 failed: <first line of its output>"); error is
 * NULL on success and borrowed for the call. The job is freed when done returns. */
typedef struct LocalVolumeJob LocalVolumeJob;
typedef void (*local_volume_done_t)(int result, const char *error, void *userdata);

/* Makes the volume exist with at least size bytes:
 *   dir:   the directory, mode 0777 as emptyDir's, so any user may write (missing parents 0755);
 *   loop:  image_create(path, size) (an existing image smaller than size: -ENOSPC, as for
 *          block; expand it instead), attach, then mkfs.<fstype> unless blkid finds a file
 *          system (a different type than fstype is an error: -EEXIST, never formatted);
 *   block: the device must be a block device of at least size bytes (-ENOSPC otherwise),
 *          then mkfs as for loop.
 * block_mode: no mkfs for loop or block. At the end the image's loop device is detached
 * again (also one that an earlier run cut short left attached), unless the volume is
 * published (its file system mounted at mount_dir, or block_mode). Returns 0 with done called
 * later from the loop (also when nothing was left to do), or a negative errno at once (done
 * is not called) with *ret_error set when given: -EINVAL for a bad LocalVolume, -EOPNOTSUPP
 * for an fstype other than ext4 and xfs, -ENOENT when the mkfs tool is missing. ret may be
 * NULL. */
int local_volume_provision_start(sd_event *e, const LocalVolume *v, uint64_t size, local_volume_done_t done,
                                 void *userdata, LocalVolumeJob **ret, char **ret_error);

/* Makes a provisioned volume usable on this node, synchronously: dir: the directory must
 * exist (-ENOENT: never created here, so lost data is not hidden by an empty directory);
 * loop: the image must exist (-ENOENT), and is attached (loop_attach()); loop and block in
 * Filesystem mode: blkid must find fstype on the device (no file system or another one:
 * -EMEDIUMTYPE; never formatted here) and it is mounted at mount_dir (mount_do()).
 * *ret_path gets what pods use: the directory, mount_dir, or in block_mode the device node.
 * Errors come with *ret_error naming the volume and what was wrong. */
int local_volume_publish(const LocalVolume *v, char **ret_path, char **ret_error);

/* Undoes publish: unmounts mount_dir (-EBUSY when a bind of it or a user keeps it busy:
 * nothing else is done then) and removes the empty directory, then detaches the loop device
 * backed by the image. 0 also when nothing was published. dir: nothing to do. */
int local_volume_unpublish(const LocalVolume *v);

/* 1 when the volume is published now (its file system mounted at mount_dir, or for a loop
 * volume in block_mode, its image attached), 0 when not; dir volumes are always 0. */
int local_volume_is_published(const LocalVolume *v);

/* Grows the volume to size bytes:
 *   dir:   nothing to grow (done(0));
 *   loop:  image_grow() (never shrinks: -EINVAL when size is below the image's size), and an
 *          attached device takes the new size (loop_refresh_size());
 *   block: the device must already have size bytes (-ENOSPC: a disk does not grow); a device
 *          larger than size is fine, as the file system spans all of it since the mkfs.
 * Then the file system (Filesystem mode only): ext4 mounted at mount_dir grows online
 * (resize2fs on the device); ext4 not mounted grows offline (attached for the time of it:
 * e2fsck -f -p, then resize2fs); xfs grows with xfs_growfs on mount_dir, mounted there for
 * the time of the grow when it is not. An online grow the kernel refuses (it wants
 * CAP_SYS_RESOURCE) ends in -EPERM with a message that says so; the same call when the
 * volume is unpublished grows it offline. Returns like local_volume_provision_start(). */
int local_volume_expand_start(sd_event *e, const LocalVolume *v, uint64_t size, local_volume_done_t done,
                              void *userdata, LocalVolumeJob **ret, char **ret_error);

/* Removes the volume and its data: unpublishes it first (-EBUSY at once when it is in use),
 * then dir: the directory and everything in it; loop: the image file; block: the device's
 * signatures (wipefs -a), so that the next volume made on it starts empty. Returns like
 * local_volume_provision_start(). */
int local_volume_delete_start(sd_event *e, const LocalVolume *v, local_volume_done_t done, void *userdata,
                              LocalVolumeJob **ret, char **ret_error);

/* Kills a job in flight and frees it; done is not called. NULL does nothing. The volume is
 * left in a state the same call can be run again from. */
void local_volume_job_cancel(LocalVolumeJob *j);

/* The size of the volume's storage in bytes: the image file's size (loop), the device's
 * (block); -EOPNOTSUPP for dir. -ENOENT when the image or device is missing. */
int local_volume_size(const LocalVolume *v, uint64_t *ret);

/* Bytes available to an unprivileged user (statvfs f_bavail) on the file system holding
 * path, or holding its nearest existing ancestor when path does not exist yet. */
int local_volume_free_space(const char *path, uint64_t *ret);

/* The block devices a block storage class offers: path itself when it is a block device, or
 * the block devices among the entries of directory path (symlinks followed, as the local
 * static provisioner's discovery directories hold them), sorted by name, each with its
 * size. Entries that are not block devices are skipped. */
typedef struct LocalBlockDevice {
        char *path; /* as found: "<dir>/<entry>" or path itself */
        uint64_t size;
} LocalBlockDevice;
int local_volume_block_devices(const char *path, LocalBlockDevice **ret, size_t *ret_n);
void local_block_devices_free(LocalBlockDevice *d, size_t n);
