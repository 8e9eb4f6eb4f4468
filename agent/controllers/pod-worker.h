/* The pod controller: a level-triggered reconciler that runs this node's Pods on the
 * runtime. It starts init containers in order and then the containers, restarts them per
 * restartPolicy with the kubelet's crash-loop back-off, writes Pod status, and finishes
 * graceful deletions. State comes from the store and the runtime, never from memory alone. */
#pragma once

#include <systemd/sd-event.h>

#include "fleet.h"
#include "prober.h"
#include "runtime.h"
#include "store.h"
#include "volume-controller.h"

/* Kubelet crash-loop back-off (SEMANTICS.md section 4). */
#define CRASHLOOP_INITIAL_BACKOFF_USEC (10 * USEC_PER_SEC)
#define CRASHLOOP_MAX_BACKOFF_USEC (300 * USEC_PER_SEC)
#define CRASHLOOP_RESET_USEC (600 * USEC_PER_SEC)

typedef struct PodController PodController;

typedef struct PodControllerOptions {
        const char *node_name;
        const char *log_dir;
        /* <pods_dir>/<pod uid>/volumes/<kind>/<name>: the pods' volumes; NULL: pods with
         * volumes that need a directory wait with FailedMount */
        const char *pods_dir;
        bool seccomp_default;
        Prober *prober;            /* borrowed; NULL runs no probes */
        ProberRunner runner;       /* runs lifecycle hooks; start NULL: hooks are not run */
        VolumeController *volumes; /* borrowed; NULL: persistentVolumeClaim volumes wait */
        /* cluster mode: the containers of pods a StatefulSet controls get this dead man's
         * switch (RuntimeContainerConfig.fence_path); NULL: none */
        const char *fence_path;
        usec_t fence_max_age;
        /* cluster mode, both borrowed (NULL on a single node): the /etc/hosts of a pod with a
         * subdomain also names the other nodes' pods of its subdomain, a pod whose podIP is a
         * loopback address at its node's InternalIP */
        Fleet *fleet;
        Coordinator *coordinator;
} PodControllerOptions;

int pod_controller_new(PodController **ret, sd_event *e, Store *store, Runtime *rt,
                       const PodControllerOptions *opts);
PodController *pod_controller_free(PodController *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodController *, pod_controller_free);

/* Queues a pod for reconciliation on the loop. */
void pod_controller_enqueue(PodController *c, const char *ns, const char *name);
/* Queues every stored pod and cleans up containers whose pod is gone. */
int pod_controller_resync(PodController *c);
/* Store and runtime notifications (the manager wires them). */
void pod_controller_on_store_change(PodController *c, StoreChange change, const cJSON *obj);
/* Another node's pod came, changed or went (the fleet's on_pod): when that changes how it is
 * named (its address, whether it counts), the local pods of its subdomain rewrite their
 * /etc/hosts. */
void pod_controller_on_fleet_pod(PodController *c, StoreChange change, const cJSON *pod);
void pod_controller_on_container_exit(PodController *c, const char *container_id);
void pod_controller_on_container_start(PodController *c, const char *container_id);
/* Records an event on the pod ns/name (uid) as the kubelet would (probes use it). */
void pod_controller_event(PodController *c, const char *ns, const char *name, const char *uid,
                          const char *type, const char *reason, const char *message);
/* Stops every running container with its pod's grace period and starts no more. Returns
 * the number of containers still running. */
int pod_controller_drain(PodController *c);
size_t pod_controller_running_containers(PodController *c);

/* Back-off decision, pure: given the previous entry (backoff 0 = none), the last exit time
 * and now, returns true if the container must wait, with *ret_wait_until set; else updates
 * the entry for a restart now. */
typedef struct BackoffEntry {
        usec_t backoff;
        usec_t last_update;
} BackoffEntry;
bool backoff_should_wait(const BackoffEntry *b, usec_t finished_at, usec_t now, usec_t *ret_wait_until);
void backoff_next(BackoffEntry *b, usec_t finished_at, usec_t now);
