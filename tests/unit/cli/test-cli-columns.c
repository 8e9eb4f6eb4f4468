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
        _cleanup_json_ cJSON *l = cJSON_Parse("{\"b\":\"2\",\"a\":\"1\"}");
        _cleanup_free_ char *s = cli_format_labels(l), *none = cli_format_labels(NULL);

        cr_assert_str_eq(s, "a=1,b=2");
        cr_assert_str_eq(none, "<none>");
}
