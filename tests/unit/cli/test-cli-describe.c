#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

#define NOW (1735690200ULL * USEC_PER_SEC)

static const KindInfo pod_kind = {"Pod", "v1", "", "pods", "pod", "po", true};
static const KindInfo cm_kind = {"ConfigMap", "v1", "", "configmaps", "configmap", "cm", true};
static const KindInfo svc_kind = {"Service", "v1", "", "services", "service", "svc", true};
static const KindInfo secret_kind = {"Secret", "v1", "", "secrets", "secret", NULL, true};
static const KindInfo pvc_kind = {"PersistentVolumeClaim", "v1",  "",  "persistentvolumeclaims",
                                  "persistentvolumeclaim", "pvc", true};
static const KindInfo pv_kind = {"PersistentVolume", "v1", "",   "persistentvolumes",
                                 "persistentvolume", "pv", false};
static const KindInfo sc_kind = {
    "StorageClass", "storage.k8s.io/v1", "storage.k8s.io", "storageclasses", "storageclass", "sc", false};

/* related_json: what describe_one fetches besides events (a pod's probes, a claim's
 * namespace's pods), or NULL. */
static char *describe_with(const KindInfo *k, const char *obj_json, const char *events_json,
                           const char *related_json)
{
        _cleanup_json_ cJSON *obj = cJSON_Parse(obj_json), *ev = cJSON_Parse(events_json);
        _cleanup_json_ cJSON *related = related_json ? cJSON_Parse(related_json) : NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(obj);
        cr_assert(!related_json || related);
        cr_assert_eq(cli_describe_print(f, k, obj, ev, related, NOW), 0);
        fclose(f);
        return buf;
}

static char *describe(const KindInfo *k, const char *obj_json, const char *events_json)
{
        return describe_with(k, obj_json, events_json, NULL);
}

Test(cli_describe, prints_a_pod_with_containers_conditions_and_events)
{
        _cleanup_free_ char *s = describe(
            &pod_kind,
            "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"labels\":{\"b\":\"2\",\"a\":\"1\"},"
            "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"pi\",\"controller\":true}]},"
            "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\",\"command\":[\"sh\",\"-c\"],"
            "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"volumeMounts\":[{\"name\":\"d\",\"mountPath\":\"/"
            "d\"}]}],"
            "\"volumes\":[{\"name\":\"d\",\"emptyDir\":{}}]},"
            "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.9\",\"podIPs\":[{\"ip\":\"10.0.0.9\"}],"
            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
            "\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":1,"
            "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
            "[{\"type\":\"Warning\",\"reason\":\"BackOff\",\"message\":\"Back-off\",\"count\":4,"
            "\"firstTimestamp\":\"2025-01-01T00:00:00Z\",\"lastTimestamp\":\"2025-01-01T00:09:00Z\","
            "\"source\":{\"component\":\"berth\"}}]");

        cr_assert(startswith(s, "Name:             web\nNamespace:        default\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Labels:           a=1\n                  b=2\n"), "%s", s);
        cr_assert_not_null(strstr(s, "\nIPs:\n  IP:           10.0.0.9\nControlled By:  Job/pi\n"), "%s", s);
        cr_assert_not_null(strstr(s, "    Command:\n      sh\n      -c\n"), "%s", s);
        cr_assert_not_null(strstr(s, "    State:          Waiting\n      Reason:       CrashLoopBackOff\n"),
                           "%s", s);
        cr_assert_not_null(strstr(s, "      A:  1\n"), "%s", s);
        cr_assert_not_null(strstr(s, "      /d from d (rw)\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Conditions:\n  Type    Status\n  Ready   True \n"), "%s", s);
        cr_assert_not_null(strstr(s, "    Type:        EmptyDir\n"), "%s", s);
        cr_assert(endswith(s, "Events:\n"
                              "  Type     Reason   Age                From   Message\n"
                              "  ----     ------   ----               ----   -------\n"
                              "  Warning  BackOff  60s (x4 over 10m)  berth  Back-off\n"),
                  "%s", s);
}

Test(cli_describe, prints_other_kinds_generically_with_no_events)
{
        _cleanup_free_ char *s =
            describe(&svc_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
                     "\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\"}}",
                     "[]");

        cr_assert_str_eq(s, "Name:         web\n"
                            "Namespace:    default\n"
                            "Labels:       <none>\n"
                            "Annotations:  <none>\n"
                            "API Version:  v1\n"
                            "Kind:         Service\n"
                            "Spec:\n"
                            "  Cluster IP:  None\n"
                            "Events:        <none>\n");
}

Test(cli_describe, prints_configmap_data_as_kubectl_does_with_keys_as_written)
{
        _cleanup_free_ char *s =
            describe(&cm_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                     "\"namespace\":\"default\"},\"data\":{\"logLevel\":\"debug\"}}",
                     "[]");

        cr_assert(startswith(s, "Name:         cfg\nNamespace:    default\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Data\n====\nlogLevel:\n----\ndebug\n"), "%s", s);
        cr_assert_not_null(strstr(s, "BinaryData\n====\n"), "%s", s);
}

Test(cli_describe, shows_secret_sizes_never_values)
{
        _cleanup_free_ char *s =
            describe(&secret_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\","
                     "\"namespace\":\"default\"},\"type\":\"Opaque\",\"data\":{\"password\":\"czNjcmV0\"}}",
                     "[]");

        cr_assert_not_null(strstr(s, "password:  6 bytes\n"), "%s", s);
        cr_assert_null(strstr(s, "s3cret"), "%s", s);
        cr_assert_null(strstr(s, "czNjcmV0"), "%s", s);
}

Test(cli_describe, sorts_annotations_cuts_long_ones_and_hides_last_applied)
{
        char long_value[151];
        _cleanup_free_ char *obj = NULL, *s = NULL, *want = NULL;

        memset(long_value, 'x', sizeof(long_value) - 1);
        long_value[sizeof(long_value) - 1] = '\0';
        cr_assert_gt(asprintf(&obj,
                              "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
                              "\"namespace\":\"default\",\"annotations\":{\"z\":\"last\\n\",\"long\":\"%s\","
                              "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\","
                              "\"multi\":\"one\\ntwo\",\"a\":\"first\"}}}",
                              long_value),
                     0);
        s = describe(&svc_kind, obj, "[]");
        cr_assert_gt(asprintf(&want,
                              "Annotations:  a: first\n"
                              "              long:\n"
                              "                %.138s...\n"
                              "              multi:\n"
                              "                one\n"
                              "                two\n"
                              "              z: last\n"
                              "API Version:  v1\n",
                              long_value),
                     0);
        cr_assert_not_null(strstr(s, want), "%s", s);
        cr_assert_null(strstr(s, "last-applied"), "%s", s);
}

/* The pods of the claim's namespace: two mount it, one mounts another claim, one owns it
 * (a generic ephemeral volume). */
static const char namespace_pods_json[] =
    "[{\"metadata\":{\"name\":\"web\",\"uid\":\"u1\"},\"spec\":{\"volumes\":[{\"name\":\"d\","
    "\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]}},"
    "{\"metadata\":{\"name\":\"other\",\"uid\":\"u2\"},\"spec\":{\"volumes\":[{\"name\":\"d\","
    "\"persistentVolumeClaim\":{\"claimName\":\"logs\"}},{\"name\":\"e\",\"emptyDir\":{}}]}},"
    "{\"metadata\":{\"name\":\"eph\",\"uid\":\"u3\"},\"spec\":{}},"
    "{\"metadata\":{\"name\":\"api\",\"uid\":\"u4\"},\"spec\":{\"volumes\":[{\"name\":\"x\","
    "\"persistentVolumeClaim\":{\"claimName\":\"data\",\"readOnly\":true}}]}}]";

Test(cli_describe, prints_a_bound_claim_with_the_pods_using_it)
{
        _cleanup_free_ char *s = describe_with(
            &pvc_kind,
            "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"data\","
            "\"namespace\":\"default\",\"uid\":\"1a2b\",\"labels\":{\"app\":\"web\"},"
            "\"annotations\":{\"volume.kubernetes.io/storage-provisioner\":\"berth.io/local\","
            "\"pv.kubernetes.io/bind-completed\":\"yes\",\"volume.kubernetes.io/selected-node\":\"node1\"},"
            "\"finalizers\":[\"kubernetes.io/pvc-protection\"],"
            "\"ownerReferences\":[{\"kind\":\"Pod\",\"name\":\"eph\",\"uid\":\"u3\"},"
            "{\"kind\":\"Pod\",\"name\":\"web\",\"uid\":\"u1\"}]},"
            "\"spec\":{\"volumeName\":\"pvc-1a2b\",\"storageClassName\":\"local-dir\",\"volumeMode\":"
            "\"Filesystem\","
            "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"512Mi\"}}},"
            "\"status\":{\"phase\":\"Bound\",\"accessModes\":[\"ReadWriteOnce\"],\"capacity\":{\"storage\":"
            "\"1Gi\"}}}",
            "[]", namespace_pods_json);

        cr_assert_str_eq(s, "Name:          data\n"
                            "Namespace:     default\n"
                            "StorageClass:  local-dir\n"
                            "Status:        Bound\n"
                            "Volume:        pvc-1a2b\n"
                            "Labels:        app=web\n"
                            "Annotations:   pv.kubernetes.io/bind-completed: yes\n"
                            "               volume.kubernetes.io/selected-node: node1\n"
                            "               volume.kubernetes.io/storage-provisioner: berth.io/local\n"
                            "Finalizers:    [kubernetes.io/pvc-protection]\n"
                            "Capacity:      1Gi\n"
                            "Access Modes:  RWO\n"
                            "VolumeMode:    Filesystem\n"
                            "Used By:       api\n"
                            "               eph\n"
                            "               web\n"
                            "Events:        <none>\n");
}

Test(cli_describe, prints_a_terminating_claim_with_conditions_and_no_users)
{
        _cleanup_free_ char *s = NULL;

        /* the condition times are printed in local time */
        cr_assert_eq(setenv("TZ", "UTC", 1), 0);
        tzset();
        s = describe_with(
            &pvc_kind,
            "{\"metadata\":{\"name\":\"logs\",\"namespace\":\"team-a\","
            "\"deletionTimestamp\":\"2025-01-01T00:08:00Z\"},"
            "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]},"
            "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"Resizing\","
            "\"status\":\"True\",\"lastTransitionTime\":\"2025-01-01T00:05:00Z\"}]}}",
            "[{\"type\":\"Normal\",\"reason\":\"Resizing\",\"message\":\"growing\","
            "\"lastTimestamp\":\"2025-01-01T00:09:00Z\",\"source\":{\"component\":\"berth\"}}]",
            "[]");

        cr_assert_str_eq(
            s, "Name:          logs\n"
               "Namespace:     team-a\n"
               "StorageClass:  \n"
               "Status:        Terminating (lasts 2m)\n"
               "Volume:        \n"
               "Labels:        <none>\n"
               "Annotations:   <none>\n"
               "Finalizers:    []\n"
               "Capacity:      \n"
               "Access Modes:  \n"
               "Used By:       <none>\n"
               "Conditions:\n"
               "  Type       Status  LastProbeTime                     LastTransitionTime              "
               "  Reason  Message\n"
               "  ----       ------  -----------------                 ------------------              "
               "  ------  -------\n"
               "  Resizing   True    Mon, 01 Jan 0001 00:00:00 +0000   Wed, 01 Jan 2025 00:05:00 +0000 "
               "          \n"
               "Events:\n"
               "  Type    Reason    Age   From   Message\n"
               "  ----    ------    ----  ----   -------\n"
               "  Normal  Resizing  60s   berth  growing\n");
}

Test(cli_describe, prints_a_local_volume_with_its_claim_and_node_affinity)
{
        _cleanup_free_ char *s = describe(
            &pv_kind,
            "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pvc-1a2b\","
            "\"annotations\":{\"pv.kubernetes.io/provisioned-by\":\"berth.io/local\"},"
            "\"finalizers\":[\"kubernetes.io/pv-protection\"]},"
            "\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],"
            "\"persistentVolumeReclaimPolicy\":\"Delete\",\"storageClassName\":\"local-dir\","
            "\"volumeMode\":\"Filesystem\",\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"apiVersion\":"
            "\"v1\","
            "\"namespace\":\"default\",\"name\":\"data\",\"uid\":\"1a2b\"},"
            "\"local\":{\"path\":\"/var/lib/berth/volumes/pvc-1a2b\",\"fsType\":\"ext4\"},"
            "\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":["
            "{\"matchExpressions\":[{\"key\":\"kubernetes.io/"
            "hostname\",\"operator\":\"In\",\"values\":[\"node1\"]},"
            "{\"key\":\"kubernetes.io/arch\",\"operator\":\"NotIn\",\"values\":[\"s390x\",\"ppc64le\"]}]},"
            "{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"Exists\"}]}]}}},"
            "\"status\":{\"phase\":\"Bound\"}}",
            "[]");

        cr_assert_str_eq(s,
                         "Name:              pvc-1a2b\n"
                         "Labels:            <none>\n"
                         "Annotations:       pv.kubernetes.io/provisioned-by: berth.io/local\n"
                         "Finalizers:        [kubernetes.io/pv-protection]\n"
                         "StorageClass:      local-dir\n"
                         "Status:            Bound\n"
                         "Claim:             default/data\n"
                         "Reclaim Policy:    Delete\n"
                         "Access Modes:      RWO\n"
                         "VolumeMode:        Filesystem\n"
                         "Capacity:          1Gi\n"
                         "Node Affinity:     \n"
                         "  Required Terms:  \n"
                         "    Term 0:        kubernetes.io/hostname in [node1]\n"
                         "                   kubernetes.io/arch notin [s390x, ppc64le]\n"
                         "    Term 1:        disk exists\n"
                         "Message:           \n"
                         "Source:\n"
                         "    Type:  LocalVolume (a persistent volume backed by local storage on a node)\n"
                         "    Path:  /var/lib/berth/volumes/pvc-1a2b\n"
                         "Events:    <none>\n");
}

Test(cli_describe, prints_a_released_volume_without_claim_affinity_or_known_source)
{
        _cleanup_free_ char *s = describe(&pv_kind,
                                          "{\"metadata\":{\"name\":\"pv-old\"},\"spec\":{\"nfs\":{}},"
                                          "\"status\":{\"phase\":\"Failed\",\"message\":\"rm failed\"}}",
                                          "[]");

        cr_assert_not_null(strstr(s, "\nFinalizers:      []\n"), "%s", s);
        cr_assert_not_null(strstr(s, "\nStatus:          Failed\nClaim:           \n"), "%s", s);
        cr_assert_not_null(strstr(s, "\nAccess Modes:    \nCapacity:        0\n"), "%s", s);
        cr_assert_not_null(strstr(s, "\nNode Affinity:   <none>\nMessage:         rm failed\n"), "%s", s);
        cr_assert(endswith(s, "Source:\n  <unknown>\nEvents:  <none>\n"), "%s", s);
}

Test(cli_describe, prints_the_default_storage_class)
{
        _cleanup_free_ char *s =
            describe(&sc_kind,
                     "{\"apiVersion\":\"storage.k8s.io/"
                     "v1\",\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"local-dir\","
                     "\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}},"
                     "\"provisioner\":\"berth.io/"
                     "local-dir\",\"reclaimPolicy\":\"Retain\",\"volumeBindingMode\":\"Immediate\","
                     "\"allowVolumeExpansion\":true,\"parameters\":{\"type\":\"dir\",\"path\":\"/var/lib/"
                     "berth/volumes\"}}",
                     "[]");

        cr_assert_str_eq(s, "Name:                  local-dir\n"
                            "IsDefaultClass:        Yes\n"
                            "Annotations:           storageclass.kubernetes.io/is-default-class=true\n"
                            "Provisioner:           berth.io/local-dir\n"
                            "Parameters:            path=/var/lib/berth/volumes,type=dir\n"
                            "AllowVolumeExpansion:  True\n"
                            "MountOptions:          <none>\n"
                            "ReclaimPolicy:         Retain\n"
                            "VolumeBindingMode:     Immediate\n"
                            "Events:                <none>\n");
}

Test(cli_describe, prints_a_storage_class_with_unset_fields_and_mount_options)
{
        _cleanup_free_ char *s =
            describe(&sc_kind,
                     "{\"metadata\":{\"name\":\"loop\"},\"provisioner\":\"berth.io/local-loop\","
                     "\"mountOptions\":[\"debug\"]}",
                     "[]");

        cr_assert_str_eq(s, "Name:                  loop\n"
                            "IsDefaultClass:        No\n"
                            "Annotations:           <none>\n"
                            "Provisioner:           berth.io/local-loop\n"
                            "Parameters:            <none>\n"
                            "AllowVolumeExpansion:  <unset>\n"
                            "MountOptions:\n"
                            "  debug\n"
                            "ReclaimPolicy:      Delete\n"
                            "VolumeBindingMode:  Immediate\n"
                            "Events:             <none>\n");
}
