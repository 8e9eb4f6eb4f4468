/* The kubelet's atomic writer (pkg/volume/util/atomic_writer.go) for configMap, secret and
 * downwardAPI payloads, and the projection of a ConfigMap or Secret into such a payload.
 * Readers of the volume never see half of an update: the files of a version live in a
 * "..<timestamp>" directory, "..data" is a symlink to it replaced by rename(2), and every
 * top-level name of the volume is a symlink through "..data". */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ProjectedFile {
        char *path; /* relative, validated: "key" or "dir/key" */
        void *data;
        size_t size;
        mode_t mode; /* 0644 by default (defaultMode / items[].mode) */
} ProjectedFile;

void projected_files_free(ProjectedFile *f, size_t n);

/* The kubelet's path rules for a payload path: not empty, relative, no ".." element, not
 * starting with "..". -EINVAL with a message naming the path. */
int projected_path_validate(const char *path, char **ret_error);

/* Writes files as the whole content of dir (created 0755 if missing). Returns 1 when the
 * payload was written, 0 when dir already held exactly this payload (nothing touched), or
 * <0 (-EINVAL with *ret_error for a bad path). Names no longer in the payload disappear in
 * the same swap; the previous version's directory is removed after it. */
int atomic_write_dir(const char *dir, const ProjectedFile *files, size_t n, char **ret_error);

/* Builds the payload of a configMap or secret volume source (the "configMap"/"secret"
 * object of the pod's volume: name/secretName, items[{key, path, mode}], defaultMode,
 * optional) from the stored object (NULL when it does not exist). Secret data is base64
 * as stored and is decoded. Errors in the kubelet's words, e.g. `configmap "x" not found`,
 * `configmap references non-existent config key: k`; a missing optional object or key gives
 * an empty payload (or skips the key). */
int projection_build(const cJSON *source, const cJSON *object, bool secret, ProjectedFile **ret,
                     size_t *ret_n, char **ret_error);
