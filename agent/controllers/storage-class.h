/* The storage classes of the agent's config (storageClasses, defaultStorageClass): each
 * names a kind of local volume (dir, loop, block), where its volumes live, their file system
 * type and what happens to them when their claim goes. */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

#include "local-volume.h"

typedef struct StorageClass {
        char *name;
        LocalVolumeType type;
        char *path;           /* dir: parent of the volumes' directories; loop: of their images;
                               * block: a device, or a directory of devices */
        char *fstype;         /* "ext4" (default) or "xfs" */
        bool reclaim_delete;  /* reclaimPolicy Delete (default) or Retain */
        uint64_t max_size;    /* maxSize in bytes; 0: no limit beyond the free space */
        bool allow_expansion; /* allowVolumeExpansion: default true */
} StorageClass;

typedef struct StorageClassTable {
        StorageClass *classes;
        size_t n;
        char *default_name; /* NULL: claims without storageClassName stay Pending */
} StorageClassTable;

/* Parses config's storageClasses object and defaultStorageClass. Errors name the field:
 * "storageClasses.fast.type: Unsupported value: \"nfs\": supported values: \"dir\", ...".
 * An empty config (no classes) gets one class "local" of type dir under
 * <state_dir>/storage/local, made the default unless default_name names another. */
int storage_class_table_parse(const cJSON *classes, const char *default_name, const char *state_dir,
                              StorageClassTable *ret, char **ret_error);
void storage_class_table_done(StorageClassTable *t);
const StorageClass *storage_class_find(const StorageClassTable *t, const char *name);
/* The StorageClass object (storage.k8s.io/v1) that `berth get sc` shows for c. */
cJSON *storage_class_to_json(const StorageClass *c, bool is_default);
