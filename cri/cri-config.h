/* The CRI messages the kubelet sends for a pod and its containers (kuberuntime_sandbox.go
 * generatePodSandboxConfig, kuberuntime_container.go generateContainerConfig and
 * generateLinuxContainerConfig), made from the Pod object and the runtime's container
 * config; and the labels that let a restarted agent know its sandboxes and containers again.
 * Pure functions: no I/O. */
#pragma once

#include <cjson/cJSON.h>

#include "api.pb-c.h" /* needs -Ulinux: cri_client_dep adds it */
#include "runtime.h"

/* The kubelet's labels (kubelet/types/labels.go, kuberuntime/labels.go) */
#define CRI_LABEL_POD_NAME "io.kubernetes.pod.name"
#define CRI_LABEL_POD_NAMESPACE "io.kubernetes.pod.namespace"
#define CRI_LABEL_POD_UID "io.kubernetes.pod.uid"
#define CRI_LABEL_CONTAINER_NAME "io.kubernetes.container.name"
/* berth's: which agent made it (RuntimeOptions.cgroup_name, "berth" by default), so that two
 * agents on one runtime leave each other's pods alone */
#define CRI_LABEL_INSTANCE "io.berth.instance"
/* The kubelet's annotations on containers */
#define CRI_ANNOTATION_RESTART_COUNT "io.kubernetes.container.restartCount"
#define CRI_ANNOTATION_TERMINATION_MESSAGE_PATH "io.kubernetes.container.terminationMessagePath"
#define CRI_ANNOTATION_TERMINATION_MESSAGE_POLICY "io.kubernetes.container.terminationMessagePolicy"
#define CRI_ANNOTATION_TERMINATION_GRACE "io.kubernetes.pod.terminationGracePeriod"

typedef struct CriSandboxParams {
        const cJSON *pod;          /* the Pod object, defaulted (metadata.uid set) */
        unsigned attempt;          /* PodSandboxMetadata.attempt */
        const char *log_directory; /* absolute: <log dir>/<ns>_<name>_<uid> */
        const char *cgroup_parent; /* NULL or "": none (the runtime's default) */
        const char *instance;      /* the CRI_LABEL_INSTANCE value */
        /* the text of the node's resolv.conf (the kubelet's --resolv-conf, read by the caller);
         * NULL: none, see dns_config */
        const char *resolv_conf;
} CriSandboxParams;

/* PodSandboxConfig as generatePodSandboxConfig makes it:
 * - metadata name/uid/namespace (namespace "default" when unset) and attempt;
 * - hostname: spec.hostname, else the pod name; with spec.subdomain the kubelet's rule still
 *   gives the hostname alone (the FQDN goes to /etc/hosts, not here); hostNetwork pods: none
 *   (the runtime uses the node's);
 * - log_directory;
 * - dns_config (GetPodDNS): dnsPolicy "None": spec.dnsConfig's nameservers, searches and
 *   options ("name" or "name:value"); other policies (no cluster DNS exists, so ClusterFirst
 *   falls back to Default as the kubelet does without clusterDNS): p->resolv_conf's
 *   nameservers, search and options merged with spec.dnsConfig's (duplicates once, the pod's
 *   options replacing the node's of the same name), then cut to 3 servers, 32 searches of at
 *   most 253 characters and 2048 in all; without p->resolv_conf the node's part is empty, and
 *   a config left empty makes the runtime copy the host's resolv.conf. spec.dnsConfig is
 *   checked as the API server does: "None" without dnsConfig or nameservers, more than 3
 *   nameservers, 32 searches or 2048 search characters: -EINVAL with its message;
 * - port_mappings (MakePortMappings): every port of every regular container (the kubelet
 *   leaves init containers out), with or without hostPort (the runtime maps only those with
 *   one; a hostNetwork pod's hostPort defaults to its containerPort), protocol TCP/UDP/SCTP
 *   (default TCP), hostIP; a port twice in a container (same name, or same protocol, hostIP
 *   and ports) once;
 * - labels: the pod's labels plus CRI_LABEL_POD_NAME/NAMESPACE/UID and CRI_LABEL_INSTANCE;
 *   annotations: the pod's annotations;
 * - linux: cgroup_parent; security_context.namespace_options network/pid/ipc NODE when
 *   hostNetwork/hostPID/hostIPC, else POD (CONTAINER for pid too when
 *   shareProcessNamespace is false — the kubelet's rule: pid CONTAINER unless
 *   shareProcessNamespace, NODE with hostPID); run_as_user/run_as_group from
 *   spec.securityContext; supplemental_groups its fsGroup then its supplementalGroups;
 *   privileged when any container (init and ephemeral too) is privileged; seccomp always
 *   RuntimeDefault (the kubelet's rule, whatever the pod's profile, so that pods can use
 *   stricter ones); sysctls from spec.securityContext.sysctls (name -> value).
 * On bad input (a port out of range, an unknown protocol...) -EINVAL and *ret_error names the
 * field. The result is one protobuf-c tree owned by the caller: free it with
 * cri_config_free(). */
int cri_sandbox_config_new(const CriSandboxParams *p, Runtime__V1__PodSandboxConfig **ret, char **ret_error);

typedef struct CriContainerParams {
        const RuntimeContainerConfig *cfg; /* its pod and container must be set */
        const char *log_directory;         /* the sandbox's: log_path is made relative to it */
        const char *instance;              /* the CRI_LABEL_INSTANCE value */
        const char *seccomp_root;          /* where Localhost profiles live (absolute) */
        const char *image; /* the image to run (as resolved by the caller); NULL: cfg->image */
} CriContainerParams;

/* ContainerConfig as generateContainerConfig makes it:
 * - metadata name = cfg->container_name, attempt = cfg->attempt;
 * - image.image = p->image (user_specified_image = cfg->image);
 * - command = cfg->argv[0..n_command), args = the rest (both already $(VAR)-expanded);
 *   working_dir; envs from cfg->env ("K=V" split at the first '=');
 * - mounts from cfg->mounts (container_path, host_path, readonly, propagation
 *   PRIVATE/HOST_TO_CONTAINER/BIDIRECTIONAL) plus, when the container's
 *   terminationMessagePath is set (the API default /dev/termination-log) and no mount is
 *   there already, nothing: berth does not yet bind a termination-message file;
 *   devices: none (volumeDevices arrive in cfg->mounts as bind mounts of device nodes and
 *   stay mounts);
 * - labels CRI_LABEL_CONTAINER_NAME, CRI_LABEL_POD_NAME/NAMESPACE/UID, CRI_LABEL_INSTANCE;
 *   annotations CRI_ANNOTATION_RESTART_COUNT (= attempt), TERMINATION_MESSAGE_PATH and
 *   TERMINATION_MESSAGE_POLICY (when the container has them), and
 *   CRI_ANNOTATION_TERMINATION_GRACE (spec.terminationGracePeriodSeconds, default 30);
 * - log_path: cfg->log_path relative to p->log_directory ("<container>/<attempt>.log");
 *   -EINVAL when it is not below it;
 * - linux.resources: cpu_period 100000 (always, as the kubelet sends it); cpu_quota = limit
 *   milli * 100 when a CPU limit is set (milliCPUToQuota, minimum 1000), else 0;
 *   cpu_shares = cfg->cpu_request_milli * 1024 / 1000 within [2, 262144] (no request: 2, as
 *   MilliCPUToShares(0)); memory_limit_in_bytes; oom_score_adj as the kubelet's
 *   GetContainerOOMScoreAdjust does for a node of unknown capacity: a node-critical pod
 *   (priorityClassName system-node-critical, priority >= 2000000000 or a static pod) and
 *   Guaranteed -997, BestEffort 1000, Burstable 999 (the upper bound of its formula, memory
 *   capacity being unknown to berth) — QoS as v1qos.ComputePodQOS from every container's
 *   (init containers too) requests and limits of cpu and memory, a limit without a request
 *   counting as both;
 * - linux.security_context: privileged; capabilities add/drop (as written, without "CAP_");
 *   run_as_user when cfg->set_uid; run_as_group when cfg->set_gid and runAsGroup is written in
 *   the container's or the pod's securityContext (the host backend's fallback gid = uid is not
 *   the kubelet's: without runAsGroup the runtime takes the group from the image);
 *   supplemental_groups the pod's fsGroup then cfg->supplementary_gids; readonly_rootfs from
 *   readOnlyRootFilesystem; no_new_privs only when allowPrivilegeEscalation is written false
 *   (AddNoNewPrivileges); namespace_options as the sandbox's (kubelet:
 *   container pid namespace CONTAINER unless shareProcessNamespace or hostPID);
 *   seccomp: container seccompProfile, else the pod's: RuntimeDefault -> RuntimeDefault,
 *   Unconfined -> Unconfined, Localhost -> Localhost with localhost_ref
 *   <seccomp_root>/<localhostProfile> (-EINVAL when localhostProfile is missing, absolute or
 *   has a ".." element), none -> RuntimeDefault when cfg->seccomp_runtime_default else Unconfined;
 *   a privileged container gets Unconfined; masked_paths/readonly_paths: the kubelet's
 *   defaults (securitycontext.DefaultMaskedPaths / DefaultReadonlyPaths) unless privileged or
 *   procMount is Unmasked (then empty). (For a privileged container the kubelet sends its
 *   seccomp profile and the default paths, which containerd and CRI-O then ignore: same effect.)
 * On bad input -EINVAL and *ret_error names what. Free with cri_config_free(). */
int cri_container_config_new(const CriContainerParams *p, Runtime__V1__ContainerConfig **ret,
                             char **ret_error);

/* status.qosClass as v1qos.ComputePodQOS gives it for the pod's spec: "Guaranteed",
 * "Burstable" or "BestEffort" (quantities compared by value: "1" equals "1000m"). */
const char *cri_pod_qos_class(const cJSON *pod_spec);

/* Frees a tree made above (or any message unpacked by protobuf-c). NULL is a no-op. */
void cri_config_free(void *message);

/* The value of key in a protobuf-c map field (entries with key and value strings, as every
 * map<string, string> of api.proto generates), or NULL. */
const char *cri_map_get(void *const *entries, size_t n, const char *key);
