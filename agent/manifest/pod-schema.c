/* Known-field schemas of Pod, PodTemplateSpec, ObjectMeta and LabelSelector (core/v1 and
 * meta/v1 as of Kubernetes 1.33), used to warn about unknown fields as kubectl does.
 * Rarely used deep structures (affinity, resource claims ...) are SCHEMA_ANY. */
#include <stddef.h>

#include "manifest-internal.h"

#define OBJ(name, ...)                                                                                      \
        static const SchemaField name##_fields[] = {__VA_ARGS__, {NULL, NULL}};                             \
        static const SchemaNode name = {.type = SCHEMA_OBJECT, .fields = name##_fields}
#define FIELDS(name, ...) static const SchemaField name##_fields[] = {__VA_ARGS__, {NULL, NULL}}
#define LIST_OF(name, item) static const SchemaNode name = {.type = SCHEMA_LIST, .items = &(item)}
#define F(n)                                                                                                \
        {                                                                                                   \
                n, NULL                                                                                     \
        }
#define N(n, node)                                                                                          \
        {                                                                                                   \
                n, &(node)                                                                                  \
        }

static const SchemaNode any = {.type = SCHEMA_ANY};
static const SchemaNode leaf_map = {.type = SCHEMA_MAP};

/* --- meta/v1 --- */
OBJ(owner_reference, F("apiVersion"), F("kind"), F("name"), F("uid"), F("controller"),
    F("blockOwnerDeletion"));
LIST_OF(owner_references, owner_reference);
OBJ(managed_field, F("manager"), F("operation"), F("apiVersion"), F("time"), F("fieldsType"),
    N("fieldsV1", any), F("subresource"));
LIST_OF(managed_fields, managed_field);
FIELDS(object_meta_node, F("name"), F("generateName"), F("namespace"), F("selfLink"), F("uid"),
       F("resourceVersion"), F("generation"), F("creationTimestamp"), F("deletionTimestamp"),
       F("deletionGracePeriodSeconds"), N("labels", leaf_map), N("annotations", leaf_map),
       N("ownerReferences", owner_references), N("finalizers", any), N("managedFields", managed_fields));
const SchemaNode schema_object_meta = {.type = SCHEMA_OBJECT, .fields = object_meta_node_fields};

OBJ(selector_requirement, F("key"), F("operator"), F("values"));
LIST_OF(selector_requirements, selector_requirement);
static const SchemaField label_selector_fields[] = {
    N("matchLabels", leaf_map), N("matchExpressions", selector_requirements), {NULL, NULL}};
const SchemaNode schema_label_selector = {.type = SCHEMA_OBJECT, .fields = label_selector_fields};

/* --- containers --- */
OBJ(key_selector, F("name"), F("key"), F("optional"));
OBJ(field_selector, F("apiVersion"), F("fieldPath"));
OBJ(resource_field_selector, F("containerName"), F("resource"), F("divisor"));
OBJ(file_key_selector, F("volumeName"), F("path"), F("key"), F("optional"));
OBJ(env_source, N("fieldRef", field_selector), N("resourceFieldRef", resource_field_selector),
    N("configMapKeyRef", key_selector), N("secretKeyRef", key_selector), N("fileKeyRef", file_key_selector));
OBJ(env_var, F("name"), F("value"), N("valueFrom", env_source));
LIST_OF(env_vars, env_var);
OBJ(local_ref, F("name"), F("optional"));
OBJ(env_from, F("prefix"), N("configMapRef", local_ref), N("secretRef", local_ref));
LIST_OF(env_froms, env_from);
OBJ(container_port, F("name"), F("hostPort"), F("containerPort"), F("protocol"), F("hostIP"));
LIST_OF(container_ports, container_port);
OBJ(resource_claim, F("name"), F("request"));
LIST_OF(resource_claims, resource_claim);
OBJ(resources, N("limits", leaf_map), N("requests", leaf_map), N("claims", resource_claims));
OBJ(resize_policy, F("resourceName"), F("restartPolicy"));
LIST_OF(resize_policies, resize_policy);
OBJ(volume_mount, F("name"), F("readOnly"), F("recursiveReadOnly"), F("mountPath"), F("subPath"),
    F("mountPropagation"), F("subPathExpr"));
LIST_OF(volume_mounts, volume_mount);
OBJ(volume_device, F("name"), F("devicePath"));
LIST_OF(volume_devices, volume_device);
OBJ(exec_action, F("command"));
OBJ(http_header, F("name"), F("value"));
LIST_OF(http_headers, http_header);
OBJ(http_get, F("path"), F("port"), F("host"), F("scheme"), N("httpHeaders", http_headers));
OBJ(tcp_socket, F("port"), F("host"));
OBJ(grpc_action, F("port"), F("service"));
OBJ(sleep_action, F("seconds"));
OBJ(probe, N("exec", exec_action), N("httpGet", http_get), N("tcpSocket", tcp_socket),
    N("grpc", grpc_action), F("initialDelaySeconds"), F("timeoutSeconds"), F("periodSeconds"),
    F("successThreshold"), F("failureThreshold"), F("terminationGracePeriodSeconds"));
OBJ(lifecycle_handler, N("exec", exec_action), N("httpGet", http_get), N("tcpSocket", tcp_socket),
    N("sleep", sleep_action));
OBJ(lifecycle, N("postStart", lifecycle_handler), N("preStop", lifecycle_handler), F("stopSignal"));
OBJ(capabilities, F("add"), F("drop"));
OBJ(se_linux_options, F("user"), F("role"), F("type"), F("level"));
OBJ(windows_options, F("gmsaCredentialSpecName"), F("gmsaCredentialSpec"), F("runAsUserName"),
    F("hostProcess"));
OBJ(seccomp_profile, F("type"), F("localhostProfile"));
OBJ(app_armor_profile, F("type"), F("localhostProfile"));
OBJ(container_security_context, N("capabilities", capabilities), F("privileged"),
    N("seLinuxOptions", se_linux_options), N("windowsOptions", windows_options), F("runAsUser"),
    F("runAsGroup"), F("runAsNonRoot"), F("readOnlyRootFilesystem"), F("allowPrivilegeEscalation"),
    F("procMount"), N("seccompProfile", seccomp_profile), N("appArmorProfile", app_armor_profile));
OBJ(container, F("name"), F("image"), F("command"), F("args"), F("workingDir"), N("ports", container_ports),
    N("envFrom", env_froms), N("env", env_vars), N("resources", resources),
    N("resizePolicy", resize_policies), F("restartPolicy"), N("restartPolicyRules", any),
    N("volumeMounts", volume_mounts), N("volumeDevices", volume_devices), N("livenessProbe", probe),
    N("readinessProbe", probe), N("startupProbe", probe), N("lifecycle", lifecycle),
    F("terminationMessagePath"), F("terminationMessagePolicy"), F("imagePullPolicy"),
    N("securityContext", container_security_context), F("stdin"), F("stdinOnce"), F("tty"));
LIST_OF(containers, container);

/* --- volumes --- */
OBJ(key_to_path, F("key"), F("path"), F("mode"));
LIST_OF(key_to_paths, key_to_path);
OBJ(downward_file, F("path"), N("fieldRef", field_selector), N("resourceFieldRef", resource_field_selector),
    F("mode"));
LIST_OF(downward_files, downward_file);
OBJ(host_path, F("path"), F("type"));
OBJ(empty_dir, F("medium"), F("sizeLimit"));
OBJ(secret_volume, F("secretName"), N("items", key_to_paths), F("defaultMode"), F("optional"));
OBJ(config_map_volume, F("name"), N("items", key_to_paths), F("defaultMode"), F("optional"));
OBJ(pvc_volume, F("claimName"), F("readOnly"));
OBJ(downward_volume, N("items", downward_files), F("defaultMode"));
OBJ(projection_secret, F("name"), N("items", key_to_paths), F("optional"));
OBJ(projection_config_map, F("name"), N("items", key_to_paths), F("optional"));
OBJ(projection_downward, N("items", downward_files));
OBJ(projection_token, F("audience"), F("expirationSeconds"), F("path"));
OBJ(volume_projection, N("secret", projection_secret), N("configMap", projection_config_map),
    N("downwardAPI", projection_downward), N("serviceAccountToken", projection_token),
    N("clusterTrustBundle", any), N("podCertificate", any));
LIST_OF(volume_projections, volume_projection);
OBJ(projected_volume, N("sources", volume_projections), F("defaultMode"));
OBJ(volume, F("name"), N("hostPath", host_path), N("emptyDir", empty_dir), N("secret", secret_volume),
    N("configMap", config_map_volume), N("persistentVolumeClaim", pvc_volume),
    N("downwardAPI", downward_volume), N("projected", projected_volume), N("nfs", any), N("iscsi", any),
    N("glusterfs", any), N("rbd", any), N("flexVolume", any), N("cinder", any), N("cephfs", any),
    N("flocker", any), N("fc", any), N("azureFile", any), N("azureDisk", any), N("vsphereVolume", any),
    N("quobyte", any), N("photonPersistentDisk", any), N("portworxVolume", any), N("scaleIO", any),
    N("storageos", any), N("csi", any), N("ephemeral", any), N("image", any), N("gcePersistentDisk", any),
    N("awsElasticBlockStore", any), N("gitRepo", any));
LIST_OF(volumes, volume);

/* --- pod spec --- */
OBJ(toleration, F("key"), F("operator"), F("value"), F("effect"), F("tolerationSeconds"));
LIST_OF(tolerations, toleration);
OBJ(sysctl, F("name"), F("value"));
LIST_OF(sysctls, sysctl);
OBJ(pod_security_context, N("seLinuxOptions", se_linux_options), N("windowsOptions", windows_options),
    F("runAsUser"), F("runAsGroup"), F("runAsNonRoot"), F("supplementalGroups"),
    F("supplementalGroupsPolicy"), F("fsGroup"), N("sysctls", sysctls), F("fsGroupChangePolicy"),
    N("seccompProfile", seccomp_profile), N("appArmorProfile", app_armor_profile), F("seLinuxChangePolicy"));
OBJ(host_alias, F("ip"), F("hostnames"));
LIST_OF(host_aliases, host_alias);
OBJ(dns_option, F("name"), F("value"));
LIST_OF(dns_options, dns_option);
OBJ(dns_config, F("nameservers"), F("searches"), N("options", dns_options));
LIST_OF(local_refs, local_ref);
OBJ(readiness_gate, F("conditionType"));
LIST_OF(readiness_gates, readiness_gate);
OBJ(pod_os, F("name"));
OBJ(pod_spec, N("volumes", volumes), N("initContainers", containers), N("containers", containers),
    N("ephemeralContainers", any), F("restartPolicy"), F("terminationGracePeriodSeconds"),
    F("activeDeadlineSeconds"), F("dnsPolicy"), N("nodeSelector", leaf_map), F("serviceAccountName"),
    F("serviceAccount"), F("automountServiceAccountToken"), F("nodeName"), F("hostNetwork"), F("hostPID"),
    F("hostIPC"), F("shareProcessNamespace"), N("securityContext", pod_security_context),
    N("imagePullSecrets", local_refs), F("hostname"), F("subdomain"), N("affinity", any), F("schedulerName"),
    N("tolerations", tolerations), N("hostAliases", host_aliases), F("priorityClassName"), F("priority"),
    N("dnsConfig", dns_config), N("readinessGates", readiness_gates), F("runtimeClassName"),
    F("enableServiceLinks"), F("preemptionPolicy"), N("overhead", leaf_map),
    N("topologySpreadConstraints", any), F("setHostnameAsFQDN"), N("os", pod_os), F("hostUsers"),
    N("schedulingGates", any), N("resourceClaims", any), N("resources", resources), F("hostnameOverride"));

FIELDS(pod_node, F("apiVersion"), F("kind"), N("metadata", schema_object_meta), N("spec", pod_spec),
       N("status", any));
const SchemaNode schema_pod = {.type = SCHEMA_OBJECT, .fields = pod_node_fields};

static const SchemaField pod_template_fields[] = {
    N("metadata", schema_object_meta), N("spec", pod_spec), {NULL, NULL}};
const SchemaNode schema_pod_template = {.type = SCHEMA_OBJECT, .fields = pod_template_fields};
