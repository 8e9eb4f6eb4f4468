/* The volume controller: PersistentVolumeClaims bound to local PersistentVolumes that it
 * provisions from the agent's storage classes, as Kubernetes' PV controller, a local
 * provisioner, the expander and the kubelet's volume manager do together:
 *
 *   claim created ─▶ PV object written (phase Pending: the intention, durable first)
 *                 ─▶ storage provisioned (directory, sparse image + mkfs, or a device)
 *                 ─▶ PV Bound, claim Bound (one transaction)
 *   pod uses it   ─▶ published (loop attached, file system mounted once per volume)
 *                 ─▶ bound into the pod's directory (one mount per pod)
 *   last pod gone ─▶ unpublished (unmounted, loop detached)
 *   request grows ─▶ image and file system grown (offline when the kernel refuses online)
 *   claim deleted ─▶ (once no pod uses it: kubernetes.io/pvc-protection) PV Released,
 *                    then its storage deleted (Delete) or kept (Retain)
 *
 * The store holds the intentions (the PV before any storage exists, the pods before any
 * mount), the mount table and the loop devices' backing files are the truth: every step is
 * idempotent, and a restarted agent runs the same steps again, reusing what it finds and
 * unpublishing volumes no pod wants. */
#pragma once

#include <systemd/sd-event.h>

#include "storage-class.h"
#include "store.h"

#define PV_PROVISIONER "berth.io/local"

typedef struct VolumeController VolumeController;

typedef struct VolumeControllerOptions {
        const char *node_name;
        const char *state_dir;            /* published file systems: <state_dir>/volumes/<pv> */
        const StorageClassTable *classes; /* borrowed for the controller's life */
} VolumeControllerOptions;

int volume_controller_new(VolumeController **ret, sd_event *e, Store *store,
                          const VolumeControllerOptions *o);
VolumeController *volume_controller_free(VolumeController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(VolumeController *, volume_controller_free);

/* Claims, volumes and pods that use claims enqueue what they affect. */
void volume_controller_on_store_change(VolumeController *c, StoreChange change, const cJSON *obj);
/* Writes the StorageClass objects of the config (removing stale ones) and enqueues every
 * claim and volume (agent start, SIGHUP). */
int volume_controller_resync(VolumeController *c);

/* For the pod controller, inside its sync: makes the volume of the pod's
 * persistentVolumeClaim volume source usable on this node. *ret_path gets the published
 * directory (or device node, *ret_block true, for volumeMode Block). -EINVAL with the
 * kubelet's words in *ret_error when the pod must wait: the claim is missing, being deleted,
 * not bound yet, its volume busy being provisioned or resized, or ReadWriteOncePod and used
 * by another pod. */
int volume_controller_publish_claim(VolumeController *c, const cJSON *pod, const cJSON *volume,
                                    char **ret_path, bool *ret_block, char **ret_error);
