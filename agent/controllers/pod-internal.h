/* Internal layout of the pod controller, shared by pod-worker.c (loop side), pod-sync.c
 * (the reconcile step) and pod-status.c (status computation). */
#pragma once

#include "pod-spec.h"
#include "pod-worker.h"
#include "workqueue.h"

/* What the controller knows about a container beyond the runtime: back-off state and why
 * it waits (CreateContainerConfigError, RunContainerError). Keyed "<pod uid>/<container>". */
typedef struct PodControllerNote {
        char *key;
        BackoffEntry backoff;
        char *waiting_reason;
        char *waiting_message;
        usec_t retry_at; /* CLOCK_REALTIME: no new start attempt before */
        /* the instance this agent started and whose postStart hook is still to run: a hook
         * runs at most once, and never again for an instance adopted after a restart */
        char *post_start_id;
} PodControllerNote;

typedef struct PodHookRun PodHookRun;

struct PodController {
        sd_event *event;
        Store *store;
        Runtime *runtime;
        Prober *prober;            /* NULL: no probes run, running containers count as ready */
        VolumeController *volumes; /* NULL: persistentVolumeClaim volumes wait */
        char *node_name;
        char *log_dir;
        char *pods_dir; /* NULL: no volume directories */
        bool seccomp_default;
        char *fence_path; /* NULL: no dead man's switch */
        usec_t fence_max_age;
        bool draining;
        Fleet *fleet;             /* NULL: a single node, the hosts files name local pods only */
        Coordinator *coordinator; /* the nodes' InternalIPs; NULL: none known */
        /* "<ns>/<name>" of another node's pod -> "<subdomain> <hostname> <address>": how the
         * hosts files name it now, so that a status change that does not touch that costs
         * no rewrite */
        cJSON *fleet_names;

        WorkQueue *queue;
        char **stopping; /* container ids told to stop */
        size_t n_stopping;
        PodControllerNote *notes;
        size_t n_notes;
        ProberRunner runner; /* lifecycle hooks; start NULL: none run */
        PodHookRun *hooks;   /* postStart and preStop hooks in flight */
};

PodControllerNote *pod_note_get(PodController *c, const char *key, bool create);
void pod_note_set_waiting(PodControllerNote *n, const char *reason, const char *message);
void pod_schedule_retry(PodController *c, const char *ns, const char *name, usec_t at_realtime);
/* 1 when the stop was requested now, 0 when it was under way already or not running.
 * With the pod given, the container's preStop hook runs first, inside the grace period. */
int pod_stop_container(PodController *c, const cJSON *pod, const RuntimeContainer *rc, usec_t grace);

/* An event about a pod: involved is the pod, or a reference from pod_ref_new(). */
void pod_record_event(PodController *c, const cJSON *involved, const char *type, const char *reason,
                      const char *fmt, ...) _printf_(5, 6);
/* {apiVersion, kind, metadata{namespace, name, uid}}: enough to name a pod in an event. */
cJSON *pod_ref_new(const char *ns, const char *name, const char *uid);

/* Lifecycle hooks (pod-hooks.c). */
int pod_hook_post_start(PodController *c, const cJSON *pod, const cJSON *spec, const RuntimeContainer *rc);
/* Runs preStop, then stops the container with what is left of grace (at least 2 s, as the
 * kubelet's minimumGracePeriodInSeconds). 0 when the container has no preStop hook (the
 * caller stops it), 1 when the hook was started. */
int pod_hook_pre_stop(PodController *c, const cJSON *pod, const RuntimeContainer *rc, usec_t grace);
void pod_hooks_free(PodController *c);

/* The hosts file of a pod with a subdomain (pod-hosts.c). */
bool pod_hosts_wanted(const cJSON *pod);
/* The text: the kubelet's managed lines, the pod's own name at pod_ip (NULL: 127.0.0.1), each
 * live pod of peers in the same namespace and subdomain that has an address, hostAliases. */
int pod_hosts_render(const cJSON *pod, const char *pod_ip, const cJSON *peers, char **ret);
/* Writes <pods_dir>/<uid>/etc-hosts when the pod wants one (in place, only when changed);
 * *ret_path is NULL when it does not. */
int pod_hosts_sync(PodController *c, const cJSON *pod, const char *pod_ip, char **ret_path);
/* pod came, went or got an address: the other pods of its subdomain rewrite theirs. */
void pod_hosts_peers_changed(PodController *c, const cJSON *pod);
/* Cluster mode: the address at which the other nodes reach remote, another node's pod: its
 * podIP, or when that is a loopback address (127.0.0.0/8, ::1) the InternalIP of its node
 * (spec.nodeName) among nodes (coordinator_nodes(); NULL: none). NULL when none is known. */
const char *pod_hosts_remote_address(const cJSON *remote, const cJSON *nodes);
/* Cluster mode: the peers of pod for pod_hosts_render(): local (the store's pods, NULL: none)
 * and a copy of each live pod of remote (the fleet's, NULL: none) of pod's namespace and
 * subdomain at pod_hosts_remote_address(). A remote pod without one, or with the host name of
 * pod or of a live local peer (a stale copy of a pod that moved here), is left out. */
int pod_hosts_peers(const cJSON *pod, const cJSON *local, const cJSON *remote, const cJSON *nodes,
                    cJSON **ret);
/* The work of pod_controller_on_fleet_pod(). */
void pod_hosts_fleet_pod_changed(PodController *c, StoreChange change, const cJSON *pod);

/* Volumes (pod-volumes.c). The host paths of the pod's volumes, in spec order, for
 * PodSpecContext: strings point into pod or are freed by pod_volume_table_free(). */
typedef struct PodVolumeTable {
        PodVolumeHostPath *volumes;
        size_t n;
        char **owned;
        size_t n_owned;
} PodVolumeTable;
int pod_volume_table_build(PodController *c, const cJSON *pod, PodVolumeTable *ret);
void pod_volume_table_free(PodVolumeTable *t);
/* Sets up every volume of pod (idempotent: also after an agent restart, and how a changed
 * ConfigMap or Secret is projected again). -EINVAL with the kubelet's FailedMount message
 * in *ret_error for a volume that cannot be set up (yet). */
int pod_volumes_setup(PodController *c, const cJSON *pod, char **ret_error);
/* Unmounts everything below the pod's directory, then removes it. */
int pod_volumes_teardown(PodController *c, const char *uid);
/* Tears down the directories of pods that are neither in the store nor in the runtime. */
int pod_volumes_collect(PodController *c);
/* 1 when a volume of pod projects the ConfigMap or Secret (kind) named name, or mounts the
 * PersistentVolumeClaim (kind) named name. */
bool pod_volumes_use(const cJSON *pod, const char *kind, const char *name);
void pod_forget(PodController *c, const char *uid);
int pod_collect_orphans(PodController *c);
int pod_sync(PodController *c, const char *ns, const char *name);

/* The runtime's view of one container name of a pod: the newest instance and the one
 * before it (for lastState and --previous). Borrowed pointers into a list. */
typedef struct ContainerInstances {
        const RuntimeContainer *latest;
        const RuntimeContainer *previous;
} ContainerInstances;
ContainerInstances pod_container_instances(const RuntimeContainer *all, size_t n, const char *pod_uid,
                                           const char *name);

/* Builds .status of pod from the spec and the runtime's instances. now is CLOCK_REALTIME. */
typedef struct PodStatusInput {
        const cJSON *pod;
        const RuntimeContainer *containers; /* this pod's containers */
        size_t n_containers;
        PodController *controller; /* for waiting notes and back-off; may be NULL in tests */
        const char *id_scheme;     /* containerID's "<scheme>://"; NULL: "host" */
        bool init_done;
        bool init_failed;
        usec_t now;
} PodStatusInput;
int pod_status_build(const PodStatusInput *in, cJSON **ret);
/* The kubelet's getPhase over a built status. */
const char *pod_phase_compute(const cJSON *spec, const cJSON *status, bool init_done, bool init_failed);
