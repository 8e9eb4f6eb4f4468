/* Mounts through libmount: the mount table (mountinfo) read as data, and mount operations
 * that are idempotent — asking for what is already there changes nothing — so that an agent
 * restarted halfway can run the same steps again. mountinfo is the truth about what is
 * mounted; the store only says what is wanted. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

typedef struct MountEntry {
        int id, parent_id;
        unsigned major, minor;
        char *root;   /* root of the mount inside its file system ("/" or a bind's subdir) */
        char *target; /* mount point, unescaped */
        char *source; /* "/dev/loop3", "tmpfs", ... */
        char *fstype;
        char *vfs_options; /* "rw,nosuid,relatime" */
        char *fs_options;  /* "size=65536k,mode=755" */
        char *optional;    /* propagation fields: "shared:1 master:2", "" when private */
} MountEntry;

typedef struct MountTable {
        MountEntry *entries; /* in file order: parents before children */
        size_t n;
} MountTable;

/* Parses a mountinfo file (NULL: /proc/self/mountinfo) with libmount; escapes such as \040
 * come out unescaped and no string is NULL. -EBADMSG when any line is not mountinfo (a table
 * with a line skipped would make a mount look absent), -ENOENT when the file is missing. */
int mount_table_parse(const char *path, MountTable *ret);
void mount_table_done(MountTable *t);
/* The mount visible at target (the last one mounted there: the one no other mount at target
 * sits on), or NULL. Repeated and trailing slashes in target do not matter; symlinks do. */
const MountEntry *mount_table_find_target(const MountTable *t, const char *target);
/* Every mount at or below prefix (path prefix by whole components: /a/b is below /a, /ab is
 * not), deepest and latest first: the order in which to unmount them. *ret is a malloc'd
 * array (also when *ret_n is 0) of pointers borrowed from t. */
int mount_table_below(const MountTable *t, const char *prefix, const MountEntry ***ret, size_t *ret_n);

/* 1 when target is a mount point now, 0 when not (also when it does not exist), <0 on
 * error. Like every function below, it wants an absolute path (-EINVAL otherwise). */
int mount_is_mountpoint(const char *target);

/* Mounts source on target with fstype and a mount(8)-style option string ("ro,size=64m"),
 * through a libmount context. A missing target directory is created (0755). When target
 * already shows a mount of the same source and fstype, returns 0 and does nothing. With
 * "bind" or "rbind" in options it behaves as mount_bind(). A mount that failed halfway is
 * taken down again. Returns 0 or the negative errno of mount(2) (-ENODEV: unknown fstype). */
int mount_do(const char *source, const char *target, const char *fstype, const char *options);
/* Binds source on target (a directory, or a file: an empty file is created at target),
 * recursively if asked, and remounts it read-only if asked; read-only and recursive makes
 * every mount the rbind brought along read-only too. Idempotent like mount_do(): a bind of
 * source already on target (the same inode) stays, and is only made read-only when asked and
 * still writable, as after an agent died between the bind and its remount. */
int mount_bind(const char *source, const char *target, bool read_only, bool recursive);
/* A tmpfs at target with the given size (0: the kernel's default) and mode (-EINVAL beyond
 * 07777). Idempotent: a tmpfs already there keeps its size and mode. */
int mount_tmpfs(const char *target, uint64_t size_bytes, mode_t mode);
/* Unmounts every mount stacked on target; 0 also when nothing is mounted there. -EBUSY
 * when a mount below target (or a user) keeps it busy: see mount_umount_below(). */
int mount_umount(const char *target);
/* Unmounts everything at and below prefix, deepest first, in passes while a pass makes
 * progress (a mount hidden by a later one on an ancestor is reachable only after that one);
 * returns how many, or the error of a pass that could unmount nothing (-EBUSY). */
int mount_umount_below(const char *prefix);
/* Sets propagation on target: MS_PRIVATE, MS_SLAVE or MS_SHARED, optionally | MS_REC. */
int mount_set_propagation(const char *target, unsigned long flags);
