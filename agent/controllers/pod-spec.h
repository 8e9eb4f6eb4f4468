/* Turns a Pod's container spec into what the runtime needs: the resolved argv and
 * environment (valueFrom, envFrom, $(VAR) expansion as Kubernetes does it), user and group,
 * limits, seccomp and no_new_privs, and the log path. Pure logic plus store look-ups. */
#pragma once

#include <cjson/cJSON.h>

#include "runtime.h"
#include "store.h"
#include "util.h"

/* Pod annotation: RFC 3339 instant before which the pod's containers are prepared but their
 * commands not exec'd (set by the CronJob controller, which launches a little ahead). */
#define POD_START_AT_ANNOTATION "berth.dev/start-at"

typedef struct ContainerLaunch {
        RuntimeContainerConfig config; /* points into the fields below */
        char **argv;
        char **env;
        char *log_path;
        RuntimeMount *mounts;
        char **mount_paths;        /* host paths resolved for subPath mounts, owned */
        gid_t *supplementary_gids; /* the pod's securityContext.supplementalGroups, owned */
} ContainerLaunch;

/* A pod volume set up on the host: what a volumeMount of that name binds. */
typedef struct PodVolumeHostPath {
        const char *name;
        const char *host_path;
} PodVolumeHostPath;

typedef struct PodSpecContext {
        Store *store; /* for configMapKeyRef / secretKeyRef / envFrom; may be NULL */
        const char *node_name;
        const char *log_dir;
        bool seccomp_default;             /* RuntimeDefault when the pod does not say */
        bool image_entrypoint;            /* the runtime runs images: no command runs the entrypoint */
        const char *hosts_file;           /* bound at /etc/hosts when set (pod-hosts.c) */
        const PodVolumeHostPath *volumes; /* the pod's volumes, set up */
        size_t n_volumes;
        /* RuntimeContainerConfig.fence_path of the containers of pods a StatefulSet controls */
        const char *fence_path;
        usec_t fence_max_age;
} PodSpecContext;

/* Builds the launch of container (an element of spec.containers or spec.initContainers of
 * pod) for the given attempt. Its volumeMounts become mounts of the host paths in
 * ctx->volumes; a subPath is resolved (and created) below its volume and never leaves it. On a user error
 * (missing command, missing ConfigMap key...) returns -EINVAL with *ret_error set to the message the kubelet
 * would put into the waiting state (reason CreateContainerConfigError). */
int container_launch_build(const PodSpecContext *ctx, const cJSON *pod, const cJSON *container,
                           unsigned attempt, ContainerLaunch *ret, char **ret_error);
void container_launch_done(ContainerLaunch *l);
