/* The manifests directory (/etc/berth/manifests.d): every *.yaml, *.yml and *.json file in
 * it is applied; a changed file is re-applied (objects it no longer holds are deleted); a
 * removed file's objects are deleted. Watched with inotify on the agent's loop. A file
 * with an error changes nothing and is reported with file:line. */
#pragma once

#include <systemd/sd-event.h>

#include "admission.h"
#include "store.h"

#define MANIFEST_FILE_ANNOTATION "berth.dev/manifest-file"

typedef struct ManifestDir ManifestDir;

/* Watches dir (created if missing) and applies everything in it once; objects must also
 * pass the agent's admission (copied). */
int manifest_dir_new(ManifestDir **ret, sd_event *e, Store *store, const char *dir,
                     const AdmissionContext *admission);
ManifestDir *manifest_dir_free(ManifestDir *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(ManifestDir *, manifest_dir_free);
/* Re-reads every file (SIGHUP, reload). */
int manifest_dir_rescan(ManifestDir *d);
/* Applies one file of the directory (or deletes its objects when it is gone). */
int manifest_dir_sync_file(ManifestDir *d, const char *name);
