/* hostPath volumes as the kubelet checks them (pkg/volume/hostpath: the host path type
 * checker), and subPath resolution that cannot escape its volume. */
#pragma once

#include <stdbool.h>

typedef enum HostPathType {
        HOSTPATH_UNSET,               /* "": no check */
        HOSTPATH_DIRECTORY_OR_CREATE, /* created 0755 if missing */
        HOSTPATH_DIRECTORY,
        HOSTPATH_FILE_OR_CREATE, /* created 0644 if missing (its parent must exist) */
        HOSTPATH_FILE,
        HOSTPATH_SOCKET,
        HOSTPATH_CHAR_DEVICE,
        HOSTPATH_BLOCK_DEVICE,
} HostPathType;

/* "DirectoryOrCreate" ... ; -EINVAL for an unknown name. */
int hostpath_type_from_string(const char *s, HostPathType *ret);
/* Checks path against type (creating it for the *OrCreate types) as the kubelet does;
 * -EINVAL (or the errno of a failed creation) with the kubelet's message in *ret_error,
 * e.g. "hostPath type check failed: /srv/x is not a directory". */
int hostpath_check(const char *path, HostPathType type, char **ret_error);

/* Resolves subPath sub below the volume directory root without leaving it: sub must be
 * relative without ".." elements, and no symlink on the way may point outside root
 * (resolved step by step with openat(O_NOFOLLOW)/readlinkat, as the kubelet's safe
 * subpath code does). Creates the missing directories of sub (0755) when create is set.
 * *ret_path is the resolved absolute path. -EINVAL with a message naming sub on escape. */
int subpath_resolve(const char *root, const char *sub, bool create, char **ret_path, char **ret_error);
