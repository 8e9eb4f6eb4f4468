#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

/* 2025-01-01T00:10:00Z: ten minutes after the fixtures were created */
#define NOW (1735690200ULL * USEC_PER_SEC)

static const KindInfo pod_kind = {"Pod", "v1", "", "pods", "pod", "po", true};
static const KindInfo job_kind = {"Job", "batch/v1", "batch", "jobs", "job", NULL, true};
static const KindInfo svc_kind = {"Service", "v1", "", "services", "service", "svc", true};
static const KindInfo ev_kind = {"Event", "v1", "", "events", "event", "ev", true};
static const KindInfo pvc_kind = {"PersistentVolumeClaim", "v1",  "",  "persistentvolumeclaims",
                                  "persistentvolumeclaim", "pvc", true};
static const KindInfo pv_kind = {"PersistentVolume", "v1", "",   "persistentvolumes",
                                 "persistentvolume", "pv", false};
static const KindInfo sc_kind = {
    "StorageClass", "storage.k8s.io/v1", "storage.k8s.io", "storageclasses", "storageclass", "sc", false};

static cJSON *fixture(const char *name)
{
        _cleanup_free_ char *path = strjoin(getenv("CLI_FIXTURES"), "/", name, NULL), *data = NULL;
        size_t size;

        cr_assert_eq(read_full_file(path, 1 << 20, &data, &size), 0, "cannot read %s", path);
        cJSON *j = cJSON_Parse(data);
        cr_assert_not_null(j);
        return j;
}

static void check_pod(const char *file, const char *ready, const char *status, const char *restarts)
{
        _cleanup_json_ cJSON *pod = fixture(file);
        CliPodSummary s;

        cr_assert_eq(cli_pod_summary(pod, NOW, &s), 0);
        cr_expect_str_eq(s.ready, ready, "%s", file);
        cr_expect_str_eq(s.status, status, "%s", file);
        cr_expect_str_eq(s.restarts, restarts, "%s", file);
        cli_pod_summary_done(&s);
}

Test(cli_columns, computes_pod_status_like_kubectl)
{
        check_pod("pod-running.json", "2/2", "Running", "0");
        check_pod("pod-crashloop.json", "0/1", "CrashLoopBackOff", "3 (12s ago)");
        check_pod("pod-init.json", "0/1", "Init:1/2", "0");
        check_pod("pod-init-error.json", "0/1", "Init:ExitCode:2", "2 (2m30s ago)");
        check_pod("pod-completed.json", "0/1", "Completed", "0");
        check_pod("pod-terminating.json", "1/1", "Terminating", "0");
        check_pod("pod-signal.json", "0/1", "Signal:9", "0");
}

Test(cli_columns, survives_pods_with_wrong_types)
{
        _cleanup_json_ cJSON *pod = cJSON_Parse("{\"spec\":{\"containers\":7},\"status\":{\"phase\":3,"
                                                "\"containerStatuses\":[5,{\"state\":\"x\"}]}}");
        CliPodSummary s;

        cr_assert_eq(cli_pod_summary(pod, NOW, &s), 0);
        cr_assert_str_eq(s.ready, "0/0");
        cli_pod_summary_done(&s);
}

static char *table(const KindInfo *k, cJSON *items, bool wide, bool ns, bool labels)
{
        CliPrintOptions o = {.now = NOW, .wide = wide, .with_namespace = ns, .show_labels = labels};
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_eq(cli_columns_print(f, k, items, &o), 0);
        fclose(f);
        return buf;
}

/* The plain table of kind k for the JSON array items_json is want. */
static void expect_table(const KindInfo *k, const char *items_json, const char *want)
{
        _cleanup_json_ cJSON *items = cJSON_Parse(items_json);
        _cleanup_free_ char *s = NULL;

        cr_assert_not_null(items);
        s = table(k, items, false, false, false);
        cr_assert_str_eq(s, want);
}

static cJSON *pods(void)
{
        cJSON *items = cJSON_CreateArray();
        cJSON_AddItemToArray(items, fixture("pod-running.json"));
        cJSON_AddItemToArray(items, fixture("pod-crashloop.json"));
        return items;
}

Test(cli_columns, prints_the_pod_table_with_kubectl_alignment)
{
        _cleanup_json_ cJSON *items = pods();
        _cleanup_free_ char *s = table(&pod_kind, items, false, false, false);

        cr_assert_str_eq(s, "NAME                      READY   STATUS             RESTARTS      AGE\n"
                            "web                       2/2     Running            0             10m\n"
                            "crashy-with-a-long-name   0/1     CrashLoopBackOff   3 (12s ago)   10m\n");
}

Test(cli_columns, adds_namespace_wide_columns_and_labels)
{
        _cleanup_json_ cJSON *items = pods();
        _cleanup_free_ char *s = table(&pod_kind, items, true, true, true);

        cr_assert_str_eq(s, "NAMESPACE   NAME                      READY   STATUS             RESTARTS      "
                            "AGE   IP         "
                            "NODE     NOMINATED NODE   READINESS GATES   LABELS\n"
                            "default     web                       2/2     Running            0             "
                            "10m   10.1.0.5   "
                            "node1    <none>           <none>            app=web,tier=front\n"
                            "team-a      crashy-with-a-long-name   0/1     CrashLoopBackOff   3 (12s ago)   "
                            "10m   <none>     "
                            "<none>   <none>           <none>            <none>\n");
}

/* A copy of a pod fixture named name, on node (NULL: no spec.nodeName), added to items. */
static void add_pod(cJSON *items, const char *file, const char *name, const char *node)
{
        cJSON *pod = fixture(file), *meta = json_ensure_object(pod, "metadata"),
              *spec = json_ensure_object(pod, "spec");

        cr_assert_not_null(meta);
        cr_assert_not_null(spec);
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
        cr_assert_eq(json_set_string(meta, "name", name), 0);
        if (node)
                cr_assert_eq(json_set_string(spec, "nodeName", node), 0);
        cr_assert(cJSON_AddItemToArray(items, pod));
}

Test(cli_columns, adds_a_node_column_after_age_when_the_pods_run_on_several_nodes)
{
        _cleanup_json_ cJSON *items = cJSON_CreateArray();
        _cleanup_free_ char *s = NULL, *labels = NULL;

        cr_assert_not_null(items);
        add_pod(items, "pod-running.json", "web-0", "node-a");
        add_pod(items, "pod-running.json", "web-1", "node-b-with-a-long-name");
        add_pod(items, "pod-crashloop.json", "pending", NULL);
        s = table(&pod_kind, items, false, false, false);
        cr_assert_str_eq(s,
                         "NAME      READY   STATUS             RESTARTS      AGE   NODE\n"
                         "web-0     2/2     Running            0             10m   node-a\n"
                         "web-1     2/2     Running            0             10m   node-b-with-a-long-name\n"
                         "pending   0/1     CrashLoopBackOff   3 (12s ago)   10m   <none>\n");
        /* after AGE and before LABELS, with the namespace in front */
        labels = table(&pod_kind, items, false, true, true);
        cr_assert_str_eq(labels, "NAMESPACE   NAME      READY   STATUS             RESTARTS      AGE   "
                                 "NODE                      LABELS\n"
                                 "default     web-0     2/2     Running            0             10m   "
                                 "node-a                    app=web,tier=front\n"
                                 "default     web-1     2/2     Running            0             10m   "
                                 "node-b-with-a-long-name   app=web,tier=front\n"
                                 "team-a      pending   0/1     CrashLoopBackOff   3 (12s ago)   10m   "
                                 "<none>                    <none>\n");
}

Test(cli_columns, has_no_extra_node_column_for_one_node_or_with_wide)
{
        _cleanup_json_ cJSON *one = cJSON_CreateArray(), *none = cJSON_CreateArray(),
                             *spread = cJSON_CreateArray();
        _cleanup_free_ char *s1 = NULL, *s0 = NULL, *wide = NULL;

        cr_assert_not_null(one);
        cr_assert_not_null(none);
        cr_assert_not_null(spread);
        add_pod(one, "pod-running.json", "web-0", "node-a");
        add_pod(one, "pod-running.json", "web-1", "node-a");
        add_pod(one, "pod-crashloop.json", "pending", NULL);
        s1 = table(&pod_kind, one, false, false, false);
        cr_assert_str_eq(s1, "NAME      READY   STATUS             RESTARTS      AGE\n"
                             "web-0     2/2     Running            0             10m\n"
                             "web-1     2/2     Running            0             10m\n"
                             "pending   0/1     CrashLoopBackOff   3 (12s ago)   10m\n");
        add_pod(none, "pod-crashloop.json", "a", NULL);
        add_pod(none, "pod-crashloop.json", "b", NULL);
        s0 = table(&pod_kind, none, false, false, false);
        cr_assert_str_eq(s0, "NAME   READY   STATUS             RESTARTS      AGE\n"
                             "a      0/1     CrashLoopBackOff   3 (12s ago)   10m\n"
                             "b      0/1     CrashLoopBackOff   3 (12s ago)   10m\n");
        /* -o wide already has NODE: the table is kubectl's, one NODE column */
        add_pod(spread, "pod-running.json", "web-0", "node-a");
        add_pod(spread, "pod-running.json", "web-1", "node-b");
        wide = table(&pod_kind, spread, true, false, false);
        cr_assert_str_eq(wide,
                         "NAME    READY   STATUS    RESTARTS   AGE   IP         NODE     NOMINATED NODE   "
                         "READINESS GATES\n"
                         "web-0   2/2     Running   0          10m   10.1.0.5   node-a   <none>           "
                         "<none>\n"
                         "web-1   2/2     Running   0          10m   10.1.0.5   node-b   <none>           "
                         "<none>\n");
}

Test(cli_columns, prints_job_status_completions_and_duration)
{
        expect_table(
            &job_kind,
            "[{\"metadata\":{\"name\":\"pi\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\"},"
            "\"spec\":{\"completions\":3},\"status\":{\"succeeded\":3,\"startTime\":\"2025-01-01T00:00:"
            "00Z\","
            "\"completionTime\":\"2025-01-01T00:01:05Z\",\"conditions\":[{\"type\":\"Complete\",\"status\":"
            "\"True\"}]}},"
            "{\"metadata\":{\"name\":\"par\",\"creationTimestamp\":\"2025-01-01T00:05:30Z\"},"
            "\"spec\":{\"parallelism\":2},\"status\":{\"startTime\":\"2025-01-01T00:05:30Z\"}},"
            "{\"metadata\":{\"name\":\"sus\",\"creationTimestamp\":\"2025-01-01T00:05:30Z\"},"
            "\"spec\":{},\"status\":{\"conditions\":[{\"type\":\"Suspended\",\"status\":\"True\"}]}}]",
            "NAME   STATUS      COMPLETIONS   DURATION   AGE\n"
            "pi     Complete    3/3           65s        10m\n"
            "par    Running     0/1 of 2      4m30s      4m30s\n"
            "sus    Suspended   0/1                      4m30s\n");
}

Test(cli_columns, prints_service_ports_and_external_ips)
{
        expect_table(&svc_kind,
                     "[{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\"},"
                     "\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80,"
                     "\"nodePort\":30080,\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\"}]}}]",
                     "NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)               AGE\n"
                     "web    NodePort   10.96.0.10   <none>        80:30080/TCP,53/UDP   10m\n");
}

Test(cli_columns, prints_events_without_a_name_column)
{
        expect_table(
            &ev_kind,
            "[{\"type\":\"Warning\",\"reason\":\"BackOff\",\"message\":\"Back-off\\nrestarting\","
            "\"lastTimestamp\":\"2025-01-01T00:09:30Z\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":"
            "\"web\"}}]",
            "LAST SEEN   TYPE      REASON    OBJECT    MESSAGE\n"
            "30s         Warning   BackOff   pod/web   Back-off restarting\n");
}

Test(cli_columns, formats_labels_sorted_or_none)
{
        _cleanup_json_ cJSON *l =
            cJSON_Parse("{\"b\":\"2\",\"app.kubernetes.io/name\":\"web\",\"a\":\"1\"}");
        _cleanup_free_ char *s = cli_format_labels(l), *none = cli_format_labels(NULL);

        cr_assert_str_eq(s, "a=1,app.kubernetes.io/name=web,b=2");
        cr_assert_str_eq(none, "<none>");
}

/* A volume bound to default/data (its modes listed out of order and twice) and a failed one
 * whose class comes from the beta annotation, as the agent's volume controller stores them. */
static const char pvs_json[] =
    "[{\"metadata\":{\"name\":\"pvc-1a2b\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
    "\"annotations\":{\"pv.kubernetes.io/provisioned-by\":\"berth.io/local\"}},"
    "\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
    "\"accessModes\":[\"ReadWriteOncePod\",\"ReadWriteOnce\",\"ReadWriteOnce\"],"
    "\"persistentVolumeReclaimPolicy\":\"Delete\",\"storageClassName\":\"local-dir\","
    "\"volumeMode\":\"Filesystem\",\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":"
    "\"default\","
    "\"name\":\"data\",\"uid\":\"1a2b\"},\"local\":{\"path\":\"/var/lib/berth/volumes/pvc-1a2b\"}},"
    "\"status\":{\"phase\":\"Bound\"}},"
    "{\"metadata\":{\"name\":\"pv-old\",\"creationTimestamp\":\"2025-01-01T00:05:30Z\","
    "\"annotations\":{\"volume.beta.kubernetes.io/storage-class\":\"beta\"}},"
    "\"spec\":{\"capacity\":{\"storage\":\"5Gi\"},\"accessModes\":[\"ReadOnlyMany\"],"
    "\"persistentVolumeReclaimPolicy\":\"Retain\",\"storageClassName\":\"slow\"},"
    "\"status\":{\"phase\":\"Failed\",\"reason\":\"VolumeFailedDelete\"}}]";

Test(cli_columns, prints_persistent_volumes_with_claim_modes_and_reason)
{
        expect_table(
            &pv_kind, pvs_json,
            "NAME       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   REASON               AGE\n"
            "pvc-1a2b   1Gi        RWO,RWOP       Delete           Bound    default/data   local-dir      "
            "<unset>                                      10m\n"
            "pv-old     5Gi        ROX            Retain           Failed                  beta           "
            "<unset>                 VolumeFailedDelete   4m30s\n");
}

Test(cli_columns, adds_the_volume_mode_of_persistent_volumes_when_wide_without_a_namespace)
{
        _cleanup_json_ cJSON *items = cJSON_Parse(pvs_json);
        _cleanup_free_ char *s = NULL;

        cr_assert_not_null(items);
        /* volumes are cluster-scoped: no NAMESPACE column even with -A */
        s = table(&pv_kind, items, true, true, false);
        cr_assert_str_eq(
            s,
            "NAME       CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM          STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   REASON               AGE     VOLUMEMODE\n"
            "pvc-1a2b   1Gi        RWO,RWOP       Delete           Bound    default/data   local-dir      "
            "<unset>                                      10m     Filesystem\n"
            "pv-old     5Gi        ROX            Retain           Failed                  beta           "
            "<unset>                 VolumeFailedDelete   4m30s   <unset>\n");
}

Test(cli_columns, prints_persistent_volumes_being_deleted_as_terminating)
{
        expect_table(
            &pv_kind,
            "[{\"metadata\":{\"name\":\"pv\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
            "\"deletionTimestamp\":\"2025-01-01T00:09:00Z\"},\"spec\":{},\"status\":{\"phase\":\"Released\"}"
            "}]",
            "NAME   CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS        CLAIM   STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   REASON   AGE\n"
            "pv     0                                          Terminating                          "
            "<unset>                          10m\n");
}

Test(cli_columns, prints_claims_with_kubectl_access_modes_and_class)
{
        CliPrintOptions o = {.now = NOW, .wide = true};
        _cleanup_json_ cJSON *items = cJSON_Parse(
            "[{\"metadata\":{\"name\":\"data\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
            "\"annotations\":{\"volume.beta.kubernetes.io/storage-class\":\"beta\"}},"
            "\"spec\":{\"volumeName\":\"pvc-1a2b\",\"storageClassName\":\"local-dir\",\"volumeMode\":"
            "\"Block\"},"
            "\"status\":{\"phase\":\"Bound\",\"accessModes\":[\"ReadWriteMany\",\"Sideways\","
            "\"ReadWriteOnce\"]}},"
            "{\"metadata\":{\"name\":\"logs\",\"creationTimestamp\":\"2025-01-01T00:05:30Z\","
            "\"deletionTimestamp\":\"2025-01-01T00:09:00Z\"},"
            "\"spec\":{\"storageClassName\":\"local-dir\",\"volumeAttributesClassName\":\"gold\"},"
            "\"status\":{\"phase\":\"Pending\",\"accessModes\":[\"ReadWriteOnce\"],"
            "\"capacity\":{\"storage\":\"1Gi\"}}}]");
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        cr_assert_not_null(items);
        cr_assert_eq(cli_columns_print(f, &pvc_kind, items, &o), 0);
        fclose(f);
        /* capacity and modes only once bound; the beta annotation names the class */
        cr_expect_str_eq(s, "NAME   STATUS        VOLUME     CAPACITY   ACCESS MODES   STORAGECLASS   "
                            "VOLUMEATTRIBUTESCLASS   AGE     VOLUMEMODE\n"
                            "data   Bound         pvc-1a2b   0          RWO,RWX        beta           "
                            "<unset>                 10m     Block\n"
                            "logs   Terminating                                        local-dir      "
                            "gold                    4m30s   <unset>\n");
        free(s);
}

static const char storage_classes_json[] =
    "[{\"metadata\":{\"name\":\"local-dir\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\","
    "\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}},"
    "\"provisioner\":\"berth.io/"
    "local-dir\",\"reclaimPolicy\":\"Retain\",\"volumeBindingMode\":\"Immediate\","
    "\"allowVolumeExpansion\":true,\"parameters\":{\"type\":\"dir\",\"path\":\"/var/lib/berth/volumes\"}},"
    "{\"metadata\":{\"name\":\"loop\",\"creationTimestamp\":\"2025-01-01T00:05:30Z\","
    "\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"false\"}},"
    "\"provisioner\":\"berth.io/local-loop\"}]";

Test(cli_columns, prints_storage_classes_with_defaults_and_the_default_class_marked)
{
        expect_table(&sc_kind, storage_classes_json,
                     "NAME                  PROVISIONER           RECLAIMPOLICY   VOLUMEBINDINGMODE   "
                     "ALLOWVOLUMEEXPANSION   AGE\n"
                     "local-dir (default)   berth.io/local-dir    Retain          Immediate           "
                     "true                   10m\n"
                     "loop                  berth.io/local-loop   Delete          Immediate           "
                     "false                  4m30s\n");
}

Test(cli_columns, marks_the_default_class_after_the_kind_prefixed_name)
{
        CliPrintOptions o = {.now = NOW, .show_kind = true};
        _cleanup_json_ cJSON *items = cJSON_Parse(storage_classes_json);
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        cr_assert_not_null(items);
        cr_assert_eq(cli_columns_print(f, &sc_kind, items, &o), 0);
        fclose(f);
        cr_expect(startswith(strchr(s, '\n') + 1, "storageclass.storage.k8s.io/local-dir (default)   "),
                  "%s", s);
        cr_expect_not_null(strstr(s, "\nstorageclass.storage.k8s.io/loop   "), "%s", s);
        free(s);
}
