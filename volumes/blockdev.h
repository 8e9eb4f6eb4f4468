/* Local block storage for persistent volumes: sparse image files, loop devices, blkid, and
 * mkfs/grow run as child processes (they take seconds: never on the event loop). Each step
 * is idempotent, so that an agent killed between two of them can run them all again: an
 * image that exists is kept, a loop device already backed by the image is reused, a device
 * that blkid finds a file system on is never formatted. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/* Creates a sparse image file of size bytes (mode 0600) and its parent directories (0700);
 * an existing image is kept as it is (0), never truncated. The image appears with its full
 * size or not at all. -EINVAL for size 0, -EEXIST when path is something else than a file. */
int image_create(const char *path, uint64_t size);
/* Grows the image to size (never shrinks: -EINVAL if size is smaller), durably (fsync), so
 * that a file system grown onto it never outlives the new size in a crash. */
int image_grow(const char *path, uint64_t size);

/* The loop device (e.g. "/dev/loop3") backed by image now: the lowest-numbered one whose
 * /sys/block/loop*\/loop/backing_file is image's realpath, with the same device and inode
 * (LOOP_GET_STATUS64) when it can be read. -ENOENT when none (or image does not exist). */
int loop_find(const char *image, char **ret_dev);
/* Returns the loop device backed by image, attaching a free one if there is none
 * (LOOP_CTL_GET_FREE and LOOP_CONFIGURE, no autoclear: the device outlives the agent). The
 * find and the attach hold a flock on the image, so that two callers attach it once. */
int loop_attach(const char *image, char **ret_dev);
/* Detaches dev (LOOP_CLR_FD); 0 when it is not attached. A device still in use (mounted) is
 * only marked: the kernel detaches it when its last user closes it. */
int loop_detach(const char *dev);
/* After the image grew: the device takes the new size (LOOP_SET_CAPACITY). */
int loop_refresh_size(const char *dev);
/* The size of a block device in bytes. */
int blockdev_size(const char *dev, uint64_t *ret);
/* The file system type blkid finds on dev, or *ret NULL when it finds none (also when it
 * finds only a partition table); -EUCLEAN when signatures contradict each other. */
int blockdev_probe_fstype(const char *dev, char **ret);
/* The tool named (e.g. "mkfs.ext4", "resize2fs", "xfs_growfs") is installed in PATH,
 * /usr/sbin or /sbin: 1, else 0. */
int blockdev_tool_available(const char *tool);

/* A child process (mkfs, a check, a grow or a wipe) watched on the loop through its pidfd.
 * done gets 0 or a negative errno (-EIO for a non-zero exit or a signal) and the tool's
 * stdout and stderr (the first 4 KiB, NUL-terminated); the job is freed when done returns.
 * ret may be NULL. */
typedef struct BlockdevJob BlockdevJob;
typedef void (*blockdev_done_t)(int result, const char *output, void *userdata);
/* mkfs.<fstype> (ext4: -F -q; xfs: -f -q) on dev, only after blkid found no file system,
 * partition table or contradicting signatures on it (else -EEXIST at once, done is not
 * called: data is never formatted twice). -EOPNOTSUPP for other types, -ENOTBLK when dev is
 * no block device, -ENOENT when the tool is missing. */
int blockdev_mkfs_start(sd_event *e, const char *dev, const char *fstype, blockdev_done_t done,
                        void *userdata, BlockdevJob **ret);
/* Grows the file system to its device: resize2fs dev (ext4) or xfs_growfs mountpoint (xfs,
 * which needs it mounted: -EINVAL without mountpoint). ext4 grows mounted (the kernel wants
 * CAP_SYS_RESOURCE) or unmounted when not mounted since mkfs or its last e2fsck -f (else
 * resize2fs asks for that check and the job ends in -EIO). */
int blockdev_grow_fs_start(sd_event *e, const char *dev, const char *fstype, const char *mountpoint,
                           blockdev_done_t done, void *userdata, BlockdevJob **ret);
/* e2fsck -f -p on dev, an unmounted ext4 (what resize2fs asks for before it grows a file
 * system offline that was mounted since its mkfs or last check): exit 0 and 1 (errors found
 * and fixed) are success, anything else -EIO. -EOPNOTSUPP for other types, -ENOTBLK when
 * dev is no block device, -ENOENT when the tool is missing. */
int blockdev_check_fs_start(sd_event *e, const char *dev, const char *fstype, blockdev_done_t done,
                            void *userdata, BlockdevJob **ret);
/* wipefs -a on dev: erases every signature blkid knows (file systems, partition tables), so
 * that the next user of the device finds it empty. -ENOTBLK when dev is no block device,
 * -ENOENT when the tool is missing. */
int blockdev_wipe_start(sd_event *e, const char *dev, blockdev_done_t done, void *userdata,
                        BlockdevJob **ret);
/* Kills a job in flight (SIGKILL to its process group), reaps the tool and frees the job;
 * done is not called. A tool that does not die within 2 s (stuck in I/O) is reaped later on
 * the loop. NULL, or a call from within done, does nothing. */
void blockdev_job_cancel(BlockdevJob *j);
