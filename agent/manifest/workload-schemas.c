/* Known-field schemas of the kinds implemented in job.c, cronjob.c, statefulset.c,
 * daemonset.c and core-kinds.c (the batch/v1, apps/v1 and core/v1 field names), used to
 * warn about unknown fields. Status subtrees are accepted as they come. */
#include <stddef.h>

#include "manifest-internal.h"

#define FIELDS(name, ...) static const SchemaField name##_fields[] = {__VA_ARGS__, {NULL, NULL}}
#define OBJECT(name, ...)                                                                                   \
        FIELDS(name, __VA_ARGS__);                                                                          \
        static const SchemaNode name = {SCHEMA_OBJECT, name##_fields, NULL}
#define TOP_OBJECT(name, ...)                                                                               \
        FIELDS(name, __VA_ARGS__);                                                                          \
        const SchemaNode name = {SCHEMA_OBJECT, name##_fields, NULL}
#define LIST_OF(name, item) static const SchemaNode name = {SCHEMA_LIST, NULL, item}

static const SchemaNode any = {SCHEMA_ANY, NULL, NULL};
static const SchemaNode string_map = {SCHEMA_MAP, NULL, NULL};
static const SchemaNode scalar_list = {SCHEMA_LIST, NULL, NULL};

/* ---- Job / CronJob ---- */
OBJECT(on_exit_codes, {"containerName", NULL}, {"operator", NULL}, {"values", &scalar_list});
OBJECT(on_pod_condition, {"type", NULL}, {"status", NULL});
LIST_OF(on_pod_conditions, &on_pod_condition);
OBJECT(pfp_rule, {"action", NULL}, {"onExitCodes", &on_exit_codes}, {"onPodConditions", &on_pod_conditions});
LIST_OF(pfp_rules, &pfp_rule);
OBJECT(pod_failure_policy, {"rules", &pfp_rules});
OBJECT(success_rule, {"succeededIndexes", NULL}, {"succeededCount", NULL});
LIST_OF(success_rules, &success_rule);
OBJECT(success_policy, {"rules", &success_rules});
OBJECT(job_spec, {"parallelism", NULL}, {"completions", NULL}, {"activeDeadlineSeconds", NULL},
       {"podFailurePolicy", &pod_failure_policy}, {"successPolicy", &success_policy}, {"backoffLimit", NULL},
       {"backoffLimitPerIndex", NULL}, {"maxFailedIndexes", NULL}, {"selector", &schema_label_selector},
       {"manualSelector", NULL}, {"template", &schema_pod_template}, {"ttlSecondsAfterFinished", NULL},
       {"completionMode", NULL}, {"suspend", NULL}, {"podReplacementPolicy", NULL}, {"managedBy", NULL});
TOP_OBJECT(schema_job, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &job_spec}, {"status", &any});

OBJECT(job_template, {"metadata", &schema_object_meta}, {"spec", &job_spec});
OBJECT(cronjob_spec, {"schedule", NULL}, {"timeZone", NULL}, {"startingDeadlineSeconds", NULL},
       {"concurrencyPolicy", NULL}, {"suspend", NULL}, {"jobTemplate", &job_template},
       {"successfulJobsHistoryLimit", NULL}, {"failedJobsHistoryLimit", NULL});
TOP_OBJECT(schema_cronjob, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &cronjob_spec}, {"status", &any});

/* ---- PersistentVolumeClaim (also StatefulSet claim templates) ---- */
OBJECT(resource_requirements, {"limits", &string_map}, {"requests", &string_map});
OBJECT(typed_local_ref, {"apiGroup", NULL}, {"kind", NULL}, {"name", NULL});
OBJECT(typed_object_ref, {"apiGroup", NULL}, {"kind", NULL}, {"name", NULL}, {"namespace", NULL});
OBJECT(pvc_spec, {"accessModes", &scalar_list}, {"selector", &schema_label_selector},
       {"resources", &resource_requirements}, {"volumeName", NULL}, {"storageClassName", NULL},
       {"volumeMode", NULL}, {"dataSource", &typed_local_ref}, {"dataSourceRef", &typed_object_ref},
       {"volumeAttributesClassName", NULL});
TOP_OBJECT(schema_pvc, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &pvc_spec}, {"status", &any});
LIST_OF(claim_templates, &schema_pvc);

/* ---- StatefulSet / DaemonSet ---- */
OBJECT(sts_rolling_update, {"partition", NULL}, {"maxUnavailable", NULL});
OBJECT(sts_update_strategy, {"type", NULL}, {"rollingUpdate", &sts_rolling_update});
OBJECT(pvc_retention, {"whenDeleted", NULL}, {"whenScaled", NULL});
OBJECT(ordinals, {"start", NULL});
OBJECT(statefulset_spec, {"replicas", NULL}, {"selector", &schema_label_selector},
       {"template", &schema_pod_template}, {"volumeClaimTemplates", &claim_templates}, {"serviceName", NULL},
       {"podManagementPolicy", NULL}, {"updateStrategy", &sts_update_strategy},
       {"revisionHistoryLimit", NULL}, {"minReadySeconds", NULL},
       {"persistentVolumeClaimRetentionPolicy", &pvc_retention}, {"ordinals", &ordinals});
TOP_OBJECT(schema_statefulset, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &statefulset_spec}, {"status", &any});

OBJECT(ds_rolling_update, {"maxUnavailable", NULL}, {"maxSurge", NULL});
OBJECT(ds_update_strategy, {"type", NULL}, {"rollingUpdate", &ds_rolling_update});
OBJECT(daemonset_spec, {"selector", &schema_label_selector}, {"template", &schema_pod_template},
       {"updateStrategy", &ds_update_strategy}, {"minReadySeconds", NULL}, {"revisionHistoryLimit", NULL});
TOP_OBJECT(schema_daemonset, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &daemonset_spec}, {"status", &any});

/* ---- Service / ConfigMap / Secret ---- */
OBJECT(service_port, {"name", NULL}, {"protocol", NULL}, {"appProtocol", NULL}, {"port", NULL},
       {"targetPort", NULL}, {"nodePort", NULL});
LIST_OF(service_ports, &service_port);
OBJECT(client_ip_config, {"timeoutSeconds", NULL});
OBJECT(session_affinity_config, {"clientIP", &client_ip_config});
OBJECT(service_spec, {"ports", &service_ports}, {"selector", &string_map}, {"clusterIP", NULL},
       {"clusterIPs", &scalar_list}, {"type", NULL}, {"externalIPs", &scalar_list},
       {"sessionAffinity", NULL}, {"loadBalancerIP", NULL}, {"loadBalancerSourceRanges", &scalar_list},
       {"externalName", NULL}, {"externalTrafficPolicy", NULL}, {"healthCheckNodePort", NULL},
       {"publishNotReadyAddresses", NULL}, {"sessionAffinityConfig", &session_affinity_config},
       {"ipFamilies", &scalar_list}, {"ipFamilyPolicy", NULL}, {"allocateLoadBalancerNodePorts", NULL},
       {"loadBalancerClass", NULL}, {"internalTrafficPolicy", NULL}, {"trafficDistribution", NULL});
TOP_OBJECT(schema_service, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"spec", &service_spec}, {"status", &any});

TOP_OBJECT(schema_configmap, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"data", &string_map}, {"binaryData", &string_map}, {"immutable", NULL});
TOP_OBJECT(schema_secret, {"apiVersion", NULL}, {"kind", NULL}, {"metadata", &schema_object_meta},
           {"data", &string_map}, {"stringData", &string_map}, {"type", NULL}, {"immutable", NULL});
