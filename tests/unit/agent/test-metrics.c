/* The agent's Prometheus text from a real store in a temp dir: kube-state-metrics lines with
 * their exact names, labels and values, the exposition format itself, the cron lateness and
 * CRI histograms, the loop meter on a real sd-event loop, and the metricsAddress listener
 * on 127.0.0.1. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "event-run.h"
#include "json-util.h"
#include "metrics-server.h"
#include "metrics.h"
#include "util.h"

static char dir[64];
static Store *store;
static Metrics *metrics;

static void setup(void)
{
        strcpy(dir, "/tmp/berth-metrics-test-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(metrics_new(&metrics, 0), 0);
}

static void teardown(void)
{
        metrics = metrics_free(metrics);
        store = store_free(store);
        (void)rm_rf(dir);
}

TestSuite(metrics, .init = setup, .fini = teardown);

/* Creates the object and gives it status (JSON text, NULL for none); returns the uid. */
static const char *add(const char *json, const char *status)
{
        static char uid[64];
        _cleanup_json_ cJSON *obj = cJSON_Parse(json), *st = status ? cJSON_Parse(status) : NULL,
                             *stored = NULL;

        cr_assert_not_null(obj, "bad test JSON: %s", json);
        cr_assert(!status || st, "bad test JSON: %s", status);
        cr_assert_eq(store_create(store, obj, &stored), 0);
        if (st)
                cr_assert_eq(store_update_status(store, json_str(obj, "kind"),
                                                 json_str(stored, "metadata.namespace"),
                                                 json_str(obj, "metadata.name"), st),
                             0);
        snprintf(uid, sizeof(uid), "%s", json_str(stored, "metadata.uid"));
        return uid;
}

/* The stored creationTimestamp as Unix seconds. */
static long long created(const char *kind, const char *ns, const char *name)
{
        _cleanup_json_ cJSON *o = NULL;
        usec_t u;

        cr_assert_eq(store_get(store, kind, ns, name, &o), 0);
        cr_assert_eq(parse_rfc3339(json_str(o, "metadata.creationTimestamp"), &u), 0);
        return (long long)(u / USEC_PER_SEC);
}

static char *render_with(Metrics *m, Prober *p, MetricsLoopMeter *loop)
{
        MetricsSources src = {.store = store, .metrics = m, .prober = p, .loop = loop};
        char *text = NULL;

        cr_assert_eq(metrics_render(&src, &text), 0);
        cr_assert_not_null(text);
        return text;
}

static char *render(void)
{
        return render_with(metrics, NULL, NULL);
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strneq(p, line, n) && (p[n] == '\n' || p[n] == 0))
                        return true;
        return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
        size_t n = 0;

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += startswith(p, prefix);
        return n;
}

#define assert_line(text, line) cr_assert(has_line(text, line), "missing line: %s\n--- in:\n%s", line, text)
#define assert_no_prefix(text, prefix)                                                                      \
        cr_assert_eq(count_prefix(text, prefix), 0, "unexpected lines starting %s", prefix)

/* --- Job --- */

Test(metrics, job_counts_and_times_carry_kube_state_metrics_names)
{
        _cleanup_free_ char *text = NULL, *line = NULL;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"x\",\"ownerReferences\":"
            "[{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"name\":\"cj\",\"uid\":\"u1\","
            "\"controller\":true}]},\"spec\":{\"completions\":3,\"parallelism\":2}}",
            "{\"succeeded\":2,\"active\":1,\"failed\":0,\"startTime\":\"2024-01-01T00:00:00Z\","
            "\"completionTime\":\"2024-01-01T00:01:30Z\",\"conditions\":[{\"type\":\"Complete\",\"status\":"
            "\"True\"}]}");
        text = render();
        assert_line(text, "kube_job_status_succeeded{namespace=\"default\",job_name=\"x\"} 2");
        assert_line(text, "kube_job_status_active{namespace=\"default\",job_name=\"x\"} 1");
        assert_line(text, "kube_job_status_failed{namespace=\"default\",job_name=\"x\"} 0");
        assert_line(text, "kube_job_spec_completions{namespace=\"default\",job_name=\"x\"} 3");
        assert_line(text, "kube_job_spec_parallelism{namespace=\"default\",job_name=\"x\"} 2");
        assert_line(text, "kube_job_status_start_time{namespace=\"default\",job_name=\"x\"} 1704067200");
        assert_line(text,
                    "kube_job_status_completion_time{namespace=\"default\",job_name=\"x\"} 1704067290");
        assert_line(text, "kube_job_complete{namespace=\"default\",job_name=\"x\",condition=\"true\"} 1");
        assert_line(text, "kube_job_complete{namespace=\"default\",job_name=\"x\",condition=\"false\"} 0");
        assert_line(text, "kube_job_complete{namespace=\"default\",job_name=\"x\",condition=\"unknown\"} 0");
        assert_no_prefix(text, "kube_job_failed{");
        assert_line(text, "kube_job_info{namespace=\"default\",job_name=\"x\"} 1");
        assert_line(text, "kube_job_owner{namespace=\"default\",job_name=\"x\",owner_kind=\"CronJob\","
                          "owner_name=\"cj\",owner_is_controller=\"true\"} 1");
        cr_assert_geq(asprintf_safe(&line, "kube_job_created{namespace=\"default\",job_name=\"x\"} %lld",
                                    created("Job", "default", "x")),
                      0);
        assert_line(text, line);
}

Test(metrics, failed_jobs_report_the_known_reason_or_the_count)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"a\"},\"spec\":{}}",
            "{\"failed\":3,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\","
            "\"reason\":\"BackoffLimitExceeded\"}]}");
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"b\"},\"spec\":{}}",
            "{\"failed\":2,\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"
            "\"PodFailurePolicy\"}]}");
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"c\"},\"spec\":{}}",
            NULL);
        text = render();
        assert_line(text, "kube_job_status_failed{namespace=\"default\",job_name=\"a\",reason="
                          "\"BackoffLimitExceeded\"} 1");
        assert_line(
            text,
            "kube_job_status_failed{namespace=\"default\",job_name=\"a\",reason=\"DeadlineExceeded\"} 0");
        assert_line(text,
                    "kube_job_status_failed{namespace=\"default\",job_name=\"a\",reason=\"Evicted\"} 0");
        assert_no_prefix(text, "kube_job_status_failed{namespace=\"default\",job_name=\"a\",reason=\"\"}");
        assert_line(text, "kube_job_status_failed{namespace=\"default\",job_name=\"b\",reason=\"\"} 2");
        assert_line(text, "kube_job_failed{namespace=\"default\",job_name=\"a\",condition=\"true\"} 1");
        /* no status at all: zero counts, an owner line with empty labels, no times */
        assert_line(text, "kube_job_status_succeeded{namespace=\"default\",job_name=\"c\"} 0");
        assert_line(text, "kube_job_status_failed{namespace=\"default\",job_name=\"c\"} 0");
        assert_line(text,
                    "kube_job_owner{namespace=\"default\",job_name=\"c\",owner_kind=\"\",owner_name=\"\","
                    "owner_is_controller=\"\"} 1");
        assert_no_prefix(text, "kube_job_status_start_time{namespace=\"default\",job_name=\"c\"}");
}

/* --- Pod --- */

Test(metrics, pod_phase_readiness_and_container_states)
{
        _cleanup_free_ char *text = NULL, *expect = NULL;
        const char *uid;

        uid = add(
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
            "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"j\",\"uid\":\"ju\",\"controller\":true}]},"
            "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\",\"image\":\"img:1\"},"
            "{\"name\":\"b\"},{\"name\":\"c\"}]}}",
            "{\"phase\":\"Running\",\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.0.0.2\","
            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],\"containerStatuses\":["
            "{\"name\":\"a\",\"image\":\"img:1\",\"imageID\":\"\",\"containerID\":\"host://"
            "1\",\"ready\":true,"
            "\"restartCount\":3,\"state\":{\"running\":{\"startedAt\":\"2024-01-01T00:00:00Z\"}},"
            "\"lastState\":{\"terminated\":{\"reason\":\"OOMKilled\",\"exitCode\":137}}},"
            "{\"name\":\"b\",\"ready\":false,\"restartCount\":0,"
            "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},\"lastState\":{}},"
            "{\"name\":\"c\",\"ready\":false,\"restartCount\":1,"
            "\"state\":{\"terminated\":{\"reason\":\"Completed\",\"exitCode\":0}},\"lastState\":{}}]}");
        text = render();
#define POD "namespace=\"ns\",pod=\"p\",uid=\"%s\""
        cr_assert_geq(asprintf_safe(&expect,
                                    "kube_pod_info{" POD
                                    ",host_ip=\"10.0.0.1\",pod_ip=\"10.0.0.2\",node=\"n1\","
                                    "created_by_kind=\"Job\",created_by_name=\"j\",priority_class=\"\","
                                    "host_network=\"false\"} 1",
                                    uid),
                      0);
        assert_line(text, expect);
        expect = mfree(expect);
        static const char *const lines[] = {
            "kube_pod_status_phase{" POD ",phase=\"Pending\"} 0",
            "kube_pod_status_phase{" POD ",phase=\"Running\"} 1",
            "kube_pod_status_phase{" POD ",phase=\"Succeeded\"} 0",
            "kube_pod_status_ready{" POD ",condition=\"true\"} 0",
            "kube_pod_status_ready{" POD ",condition=\"false\"} 1",
            "kube_pod_container_status_restarts_total{" POD ",container=\"a\"} 3",
            "kube_pod_container_status_restarts_total{" POD ",container=\"c\"} 1",
            "kube_pod_container_status_running{" POD ",container=\"a\"} 1",
            "kube_pod_container_status_running{" POD ",container=\"b\"} 0",
            "kube_pod_container_status_waiting{" POD ",container=\"b\"} 1",
            "kube_pod_container_status_terminated{" POD ",container=\"c\"} 1",
            "kube_pod_container_status_terminated{" POD ",container=\"a\"} 0",
            "kube_pod_container_status_waiting_reason{" POD
            ",container=\"b\",reason=\"CrashLoopBackOff\"} 1",
            "kube_pod_container_status_terminated_reason{" POD ",container=\"c\",reason=\"Completed\"} 1",
            "kube_pod_container_status_last_terminated_reason{" POD
            ",container=\"a\",reason=\"OOMKilled\"} 1",
            "kube_pod_container_status_ready{" POD ",container=\"a\"} 1",
            "kube_pod_container_info{" POD
            ",container=\"a\",image_spec=\"img:1\",image=\"img:1\",image_id=\"\","
            "container_id=\"host://1\"} 1",
        };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                cr_assert_geq(asprintf_safe(&expect, lines[i], uid), 0);
                assert_line(text, expect);
                expect = mfree(expect);
        }
#undef POD
        /* one waiting-reason series per waiting container only */
        cr_assert_eq(count_prefix(text, "kube_pod_container_status_waiting_reason{"), 1);
        cr_assert_eq(count_prefix(text, "kube_pod_container_status_last_terminated_reason{"), 1);
        cr_assert_eq(count_prefix(text, "kube_pod_status_phase{"), 5);
}

Test(metrics, pods_without_a_phase_have_no_phase_series)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
            "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
            NULL);
        text = render();
        cr_assert_eq(count_prefix(text, "kube_pod_status_phase{"), 0);
        cr_assert_eq(count_prefix(text, "kube_pod_info{namespace=\"default\",pod=\"p\""), 1);
}

/* --- CronJob --- */

Test(metrics, cronjob_next_schedule_time_follows_the_last_schedule_in_its_zone)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"five\"},"
            "\"spec\":{\"schedule\":\"*/5 * * * *\",\"timeZone\":\"UTC\",\"suspend\":false,"
            "\"concurrencyPolicy\":\"Forbid\",\"startingDeadlineSeconds\":60}}",
            "{\"lastScheduleTime\":\"2024-01-01T00:05:00Z\",\"lastSuccessfulTime\":\"2024-01-01T00:05:07Z\","
            "\"active\":[{\"name\":\"a\"},{\"name\":\"b\"}]}");
        /* across the spring-forward night: 09:00 EDT is 13:00 UTC */
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"ny\"},"
            "\"spec\":{\"schedule\":\"0 9 * * *\",\"timeZone\":\"America/New_York\",\"suspend\":false}}",
            "{\"lastScheduleTime\":\"2024-03-09T14:00:00Z\"}");
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"off\"},"
            "\"spec\":{\"schedule\":\"*/5 * * * *\",\"suspend\":true}}",
            "{\"lastScheduleTime\":\"2024-01-01T00:05:00Z\"}");
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"bad\"},"
            "\"spec\":{\"schedule\":\"not a schedule\",\"suspend\":false}}",
            NULL);
        text = render();
        assert_line(text,
                    "kube_cronjob_next_schedule_time{namespace=\"default\",cronjob=\"five\"} 1704067800");
        assert_line(text,
                    "kube_cronjob_next_schedule_time{namespace=\"default\",cronjob=\"ny\"} 1710075600");
        assert_no_prefix(text, "kube_cronjob_next_schedule_time{namespace=\"default\",cronjob=\"off\"}");
        assert_no_prefix(text, "kube_cronjob_next_schedule_time{namespace=\"default\",cronjob=\"bad\"}");
        assert_line(text, "kube_cronjob_spec_suspend{namespace=\"default\",cronjob=\"off\"} 1");
        assert_line(text, "kube_cronjob_spec_suspend{namespace=\"default\",cronjob=\"five\"} 0");
        assert_line(text, "kube_cronjob_status_active{namespace=\"default\",cronjob=\"five\"} 2");
        assert_line(text, "kube_cronjob_status_active{namespace=\"default\",cronjob=\"ny\"} 0");
        assert_line(
            text,
            "kube_cronjob_status_last_schedule_time{namespace=\"default\",cronjob=\"five\"} 1704067500");
        assert_line(
            text,
            "kube_cronjob_status_last_successful_time{namespace=\"default\",cronjob=\"five\"} 1704067507");
        assert_line(
            text, "kube_cronjob_spec_starting_deadline_seconds{namespace=\"default\",cronjob=\"five\"} 60");
        assert_line(text,
                    "kube_cronjob_info{namespace=\"default\",cronjob=\"five\",schedule=\"*/5 * * * *\","
                    "concurrency_policy=\"Forbid\",timezone=\"UTC\"} 1");
        assert_line(text, "kube_cronjob_info{namespace=\"default\",cronjob=\"off\",schedule=\"*/5 * * * *\","
                          "concurrency_policy=\"\",timezone=\"local\"} 1");
}

Test(metrics, a_never_scheduled_cronjob_counts_from_its_creation)
{
        _cleanup_free_ char *text = NULL, *line = NULL;
        long long c;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"new\"},"
            "\"spec\":{\"schedule\":\"*/5 * * * *\",\"timeZone\":\"UTC\"}}",
            NULL);
        c = created("CronJob", "default", "new");
        text = render();
        cr_assert_geq(
            asprintf_safe(&line,
                          "kube_cronjob_next_schedule_time{namespace=\"default\",cronjob=\"new\"} %lld",
                          (c / 300 + 1) * 300),
            0);
        assert_line(text, line);
}

/* --- StatefulSet, DaemonSet --- */

Test(metrics, statefulset_and_daemonset_numbers_are_zero_when_the_status_is_empty)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"db\"},"
            "\"spec\":{\"replicas\":3}}",
            NULL);
        add("{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\"},\"spec\":{}}",
            "{\"desiredNumberScheduled\":1,\"numberReady\":1,\"currentNumberScheduled\":1}");
        text = render();
        assert_line(text, "kube_statefulset_replicas{namespace=\"default\",statefulset=\"db\"} 3");
        assert_line(text, "kube_statefulset_status_replicas{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(text,
                    "kube_statefulset_status_replicas_ready{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(text,
                    "kube_statefulset_status_replicas_current{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(text,
                    "kube_statefulset_status_replicas_updated{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(
            text, "kube_statefulset_status_replicas_available{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(
            text, "kube_statefulset_status_observed_generation{namespace=\"default\",statefulset=\"db\"} 0");
        assert_line(text,
                    "kube_statefulset_metadata_generation{namespace=\"default\",statefulset=\"db\"} 1");
        assert_line(
            text,
            "kube_daemonset_status_desired_number_scheduled{namespace=\"default\",daemonset=\"ds\"} 1");
        assert_line(text, "kube_daemonset_status_number_ready{namespace=\"default\",daemonset=\"ds\"} 1");
        assert_line(
            text,
            "kube_daemonset_status_current_number_scheduled{namespace=\"default\",daemonset=\"ds\"} 1");
        assert_line(
            text,
            "kube_daemonset_status_updated_number_scheduled{namespace=\"default\",daemonset=\"ds\"} 0");
        assert_line(text,
                    "kube_daemonset_status_number_available{namespace=\"default\",daemonset=\"ds\"} 0");
}

/* --- PersistentVolumeClaim, PersistentVolume, Node --- */

Test(metrics, claims_and_volumes_report_phase_class_and_bytes)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"data\"},"
            "\"spec\":{\"storageClassName\":\"local\",\"volumeName\":\"pv-1\",\"volumeMode\":\"Filesystem\","
            "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}",
            "{\"phase\":\"Bound\"}");
        add("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-1\"},"
            "\"spec\":{\"storageClassName\":\"local\",\"capacity\":{\"storage\":\"1500M\"},"
            "\"persistentVolumeReclaimPolicy\":\"Delete\",\"local\":{\"path\":\"/var/lib/berth/v/pv-1\"},"
            "\"claimRef\":{\"namespace\":\"default\",\"name\":\"data\"}}}",
            "{\"phase\":\"Bound\"}");
        text = render();
        assert_line(text,
                    "kube_persistentvolumeclaim_info{namespace=\"default\",persistentvolumeclaim=\"data\","
                    "storageclass=\"local\",volumename=\"pv-1\",volumemode=\"Filesystem\"} 1");
        assert_line(text, "kube_persistentvolumeclaim_status_phase{namespace=\"default\","
                          "persistentvolumeclaim=\"data\",phase=\"Bound\"} 1");
        assert_line(text, "kube_persistentvolumeclaim_status_phase{namespace=\"default\","
                          "persistentvolumeclaim=\"data\",phase=\"Pending\"} 0");
        assert_line(text, "kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace=\"default\","
                          "persistentvolumeclaim=\"data\"} 1073741824");
        assert_line(text, "kube_persistentvolumeclaim_access_mode{namespace=\"default\","
                          "persistentvolumeclaim=\"data\",access_mode=\"ReadWriteOnce\"} 1");
        assert_line(text, "kube_persistentvolume_status_phase{persistentvolume=\"pv-1\",phase=\"Bound\"} 1");
        assert_line(text,
                    "kube_persistentvolume_status_phase{persistentvolume=\"pv-1\",phase=\"Available\"} 0");
        assert_line(text, "kube_persistentvolume_capacity_bytes{persistentvolume=\"pv-1\"} 1500000000");
        assert_line(text, "kube_persistentvolume_claim_ref{persistentvolume=\"pv-1\",name=\"data\","
                          "claim_namespace=\"default\"} 1");
        cr_assert_eq(
            count_prefix(text,
                         "kube_persistentvolume_info{persistentvolume=\"pv-1\",storageclass=\"local\","),
            1);
        cr_assert_not_null(strstr(text, "local_path=\"/var/lib/berth/v/pv-1\""));
        cr_assert_not_null(strstr(text, "reclaim_policy=\"Delete\"} 1\n"));
}

Test(metrics, node_info_and_conditions)
{
        _cleanup_free_ char *text = NULL;

        add("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},"
            "\"spec\":{\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}]}}",
            "{\"nodeInfo\":{\"kubeletVersion\":\"v0.1.0-berth\",\"containerRuntimeVersion\":\"host\"},"
            "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.0.2.7\"}],"
            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}");
        text = render();
        assert_line(text, "kube_node_info{node=\"n1\",kernel_version=\"\",os_image=\"\","
                          "container_runtime_version=\"host\",kubelet_version=\"v0.1.0-berth\","
                          "kubeproxy_version=\"\",provider_id=\"\",pod_cidr=\"\",system_uuid=\"\","
                          "internal_ip=\"192.0.2.7\"} 1");
        assert_line(text, "kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"true\"} 1");
        assert_line(text, "kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"false\"} 0");
        assert_line(text,
                    "kube_node_status_condition{node=\"n1\",condition=\"Ready\",status=\"unknown\"} 0");
        assert_line(text, "kube_node_spec_taint{node=\"n1\",key=\"k\",value=\"v\",effect=\"NoSchedule\"} 1");
        assert_line(text, "kube_node_spec_unschedulable{node=\"n1\"} 0");
}

/* --- the exposition format --- */

/* The family a sample line belongs to: its name, less a histogram's suffix when the family
 * is a histogram. */
static void family_of(const char *line, const char *current_type, char *buf, size_t size)
{
        size_t n = strcspn(line, "{ ");

        snprintf(buf, size, "%.*s", (int)n, line);
        if (streq_ptr(current_type, "histogram"))
                for (const char *const *s = (const char *const[]){"_bucket", "_sum", "_count", NULL}; *s;
                     s++)
                        if (endswith(buf, *s)) {
                                buf[strlen(buf) - strlen(*s)] = 0;
                                break;
                        }
}

/* Every family has one HELP and one TYPE line, HELP first; its samples follow them before
 * any other family starts; no family appears twice; every sample ends in a value. */
static void assert_well_formed(const char *text)
{
        _cleanup_free_ char *copy = strdup(text);
        char family[256] = "", type[32] = "", name[256], *save = NULL;
        char **seen = NULL;
        size_t n_seen = 0;

        cr_assert(endswith(text, "\n"));
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "# HELP ")) {
                        cr_assert_eq(sscanf(line, "# HELP %255s", name), 1);
                        for (size_t i = 0; i < n_seen; i++)
                                cr_assert_str_neq(seen[i], name, "family %s appears twice", name);
                        cr_assert_eq(strv_push_copy(&seen, &n_seen, name), 0);
                        snprintf(family, sizeof(family), "%s", name);
                        type[0] = 0;
                } else if (startswith(line, "# TYPE ")) {
                        cr_assert_eq(sscanf(line, "# TYPE %255s %31s", name, type), 2);
                        cr_assert_str_eq(name, family, "TYPE of %s not after its HELP", name);
                        cr_assert(streq(type, "gauge") || streq(type, "counter") ||
                                  streq(type, "histogram"));
                } else {
                        const char *sp = strrchr(line, ' ');
                        cr_assert(line[0] != '#', "stray comment: %s", line);
                        cr_assert_neq(type[0], 0, "sample before TYPE: %s", line);
                        family_of(line, type, name, sizeof(name));
                        cr_assert_str_eq(name, family, "sample of %s inside family %s", name, family);
                        cr_assert_not_null(sp);
                        cr_assert(sp[1] != 0 && strspn(sp + 1, "0123456789.e+-InfNa") == strlen(sp + 1),
                                  "bad value in: %s", line);
                }
        }
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i]);
        free(seen);
}

Test(metrics, label_values_are_escaped_and_families_appear_once)
{
        _cleanup_free_ char *text = NULL, *expect = NULL;
        const char *uid;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},\"spec\":{}}",
            NULL);
        uid = add("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                  "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                  "{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\",\"restartCount\":0,"
                  "\"state\":{\"waiting\":{\"reason\":\"bad \\\"reason\\\"\\nwith\\\\slash\"}}}]}");
        text = render();
        cr_assert_geq(
            asprintf_safe(&expect,
                          "kube_pod_container_status_waiting_reason{namespace=\"default\",pod=\"p\","
                          "uid=\"%s\",container=\"a\",reason=\"bad \\\"reason\\\"\\nwith\\\\slash\"} 1",
                          uid),
            0);
        assert_line(text, expect);
        assert_well_formed(text);
        assert_line(text, "# HELP kube_pod_created Unix creation timestamp");
        assert_line(text, "# TYPE kube_pod_container_status_restarts_total counter");
        cr_assert_eq(count_prefix(text, "# TYPE kube_job_status_succeeded "), 1);
}

Test(metrics, an_empty_store_still_describes_every_family)
{
        _cleanup_free_ char *text = render();
        const char *cri;

        assert_well_formed(text);
        static const char *const families[] = {
            "kube_pod_info",
            "kube_pod_status_phase",
            "kube_job_status_succeeded",
            "kube_cronjob_next_schedule_time",
            "kube_statefulset_status_replicas_ready",
            "kube_daemonset_status_number_ready",
            "kube_persistentvolumeclaim_info",
            "kube_persistentvolume_capacity_bytes",
            "kube_node_status_condition",
        };
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                _cleanup_free_ char *help = strjoin("# HELP ", families[i], " ", NULL),
                                    *sample = strjoin(families[i], "{", NULL);
                cr_assert_eq(count_prefix(text, help), 1, "%s", families[i]);
                cr_assert_eq(count_prefix(text, sample), 0, "%s", families[i]);
        }
        /* a histogram with no series yet: HELP and TYPE, then the next family */
        cri = strstr(text, "# TYPE berth_cri_call_duration_seconds histogram\n");
        cr_assert_not_null(cri);
        cr_assert(startswith(strchr(cri, '\n') + 1, "# HELP "));
        /* the unlabelled lateness histogram is all zeros */
        assert_line(text, "berth_cron_start_lateness_seconds_bucket{le=\"+Inf\"} 0");
        assert_line(text, "berth_cron_start_lateness_seconds_count 0");
}

/* --- berth_cron_start_lateness_seconds --- */

/* A Job launched for scheduled (RFC 3339) and its pod, whose first container started at
 * started (NULL: not yet) and, before a restart, at last_started (NULL: no restart). */
static void add_cron_run(const char *name, const char *scheduled, const char *started,
                         const char *last_started)
{
        _cleanup_free_ char *job = NULL, *pod = NULL, *status = NULL, *last = NULL;
        const char *uid;

        cr_assert_geq(
            asprintf_safe(&job,
                          "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"%s\","
                          "\"annotations\":{\"batch.kubernetes.io/cronjob-scheduled-timestamp\":\"%s\"}},"
                          "\"spec\":{}}",
                          name, scheduled),
            0);
        uid = add(job, NULL);
        cr_assert_geq(
            asprintf_safe(&pod,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s-pod\","
                          "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"%s\",\"uid\":\"%s\","
                          "\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"main\"},"
                          "{\"name\":\"side\"}]}}",
                          name, name, uid),
            0);
        if (last_started)
                cr_assert_geq(asprintf_safe(&last, "{\"terminated\":{\"startedAt\":\"%s\"}}", last_started),
                              0);
        if (!started)
                status = strdup("{\"containerStatuses\":[{\"name\":\"main\",\"state\":"
                                "{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}");
        else
                /* the second container started long before: only the first one counts */
                (void)asprintf_safe(&status,
                                    "{\"containerStatuses\":[{\"name\":\"side\",\"state\":{\"running\":"
                                    "{\"startedAt\":\"2000-01-01T00:00:00Z\"}}},{\"name\":\"main\","
                                    "\"state\":{\"running\":{\"startedAt\":\"%s\"}},\"lastState\":%s}]}",
                                    started, last ?: "{}");
        cr_assert_not_null(status);
        add(pod, status);
}

static void assert_lateness(const char *text, const char *le, int count)
{
        _cleanup_free_ char *line = NULL;

        cr_assert_geq(
            asprintf_safe(&line, "berth_cron_start_lateness_seconds_bucket{le=\"%s\"} %d", le, count), 0);
        assert_line(text, line);
}

Test(metrics, cron_lateness_counts_each_job_once_by_its_first_container_start)
{
        _cleanup_free_ char *text = NULL, *again = NULL, *after = NULL, *stateless = NULL;

        add_cron_run("on-time", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", NULL);
        add_cron_run("one", "2024-01-01T00:01:00Z", "2024-01-01T00:01:01Z", NULL);
        add_cron_run("three", "2024-01-01T00:02:00Z", "2024-01-01T00:02:03Z", NULL);
        add_cron_run("slow", "2024-01-01T00:03:00Z", "2024-01-01T00:03:45Z", NULL);
        /* restarted: its first run (lastState) counts, not the current one */
        add_cron_run("restarted", "2024-01-01T00:04:00Z", "2024-01-01T00:04:30Z", "2024-01-01T00:04:02Z");
        add_cron_run("waiting", "2024-01-01T00:05:00Z", NULL, NULL);
        /* a Job no CronJob launched */
        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"plain\"},\"spec\":{}}",
            NULL);

        text = render();
        assert_lateness(text, "0.1", 1);
        assert_lateness(text, "0.5", 1);
        assert_lateness(text, "1", 2);
        assert_lateness(text, "2", 3);
        assert_lateness(text, "5", 4);
        assert_lateness(text, "30", 4);
        assert_lateness(text, "60", 5);
        assert_lateness(text, "3600", 5);
        assert_lateness(text, "+Inf", 5);
        assert_line(text, "berth_cron_start_lateness_seconds_sum 51");
        assert_line(text, "berth_cron_start_lateness_seconds_count 5");
        assert_well_formed(text);

        /* scraped again: nothing counted twice */
        again = render();
        assert_line(again, "berth_cron_start_lateness_seconds_count 5");
        /* a Job gone from the store stays counted; a new one adds */
        cr_assert_eq(store_delete(store, "Job", "default", "slow", NULL), 0);
        add_cron_run("two", "2024-01-01T00:06:00Z", "2024-01-01T00:06:02Z", NULL);
        after = render();
        assert_line(after, "berth_cron_start_lateness_seconds_count 6");
        assert_line(after, "berth_cron_start_lateness_seconds_sum 53");
        assert_lateness(after, "2", 4);
        /* without the Metrics bookkeeping: the Jobs in the store now */
        stateless = render_with(NULL, NULL, NULL);
        assert_line(stateless, "berth_cron_start_lateness_seconds_count 5");
        assert_line(stateless, "berth_cron_start_lateness_seconds_sum 8");
}

Test(metrics, cron_lateness_leaves_out_starts_before_the_agent_started)
{
        _cleanup_(metrics_freep) Metrics *later = NULL;
        _cleanup_free_ char *text = NULL;
        usec_t since;

        cr_assert_eq(parse_rfc3339("2024-01-01T00:02:00Z", &since), 0);
        cr_assert_eq(metrics_new(&later, since), 0);
        add_cron_run("before", "2024-01-01T00:01:00Z", "2024-01-01T00:01:01Z", NULL);
        add_cron_run("after", "2024-01-01T00:03:00Z", "2024-01-01T00:03:05Z", NULL);
        text = render_with(later, NULL, NULL);
        assert_line(text, "berth_cron_start_lateness_seconds_count 1");
        assert_line(text, "berth_cron_start_lateness_seconds_sum 5");
}

/* --- berth_cri_call_duration_seconds --- */

Test(metrics, cri_calls_are_a_histogram_by_method_and_code)
{
        _cleanup_free_ char *text = NULL;

        metrics_cri_observe(metrics, "RunPodSandbox", 30 * USEC_PER_MSEC, 0);
        metrics_cri_observe(metrics, "RunPodSandbox", 40 * USEC_PER_MSEC, 0);
        metrics_cri_observe(metrics, "RunPodSandbox", 2 * USEC_PER_SEC, 14);
        metrics_cri_observe(metrics, "ListContainers", 700, 0);
        metrics_cri_observe(metrics, "Version", 1, 99);
        text = render();
        assert_line(text, "berth_cri_call_duration_seconds_bucket{method=\"RunPodSandbox\",grpc_code=\"OK\","
                          "le=\"0.025\"} 0");
        assert_line(text, "berth_cri_call_duration_seconds_bucket{method=\"RunPodSandbox\",grpc_code=\"OK\","
                          "le=\"0.05\"} 2");
        assert_line(text, "berth_cri_call_duration_seconds_bucket{method=\"RunPodSandbox\",grpc_code=\"OK\","
                          "le=\"+Inf\"} 2");
        assert_line(text,
                    "berth_cri_call_duration_seconds_sum{method=\"RunPodSandbox\",grpc_code=\"OK\"} 0.07");
        assert_line(
            text,
            "berth_cri_call_duration_seconds_count{method=\"RunPodSandbox\",grpc_code=\"Unavailable\"} 1");
        assert_line(text,
                    "berth_cri_call_duration_seconds_bucket{method=\"ListContainers\",grpc_code=\"OK\","
                    "le=\"0.001\"} 1");
        assert_line(text,
                    "berth_cri_call_duration_seconds_count{method=\"Version\",grpc_code=\"Unknown\"} 1");
        /* sorted by method: ListContainers first */
        cr_assert(strstr(text, "method=\"ListContainers\"") < strstr(text, "method=\"RunPodSandbox\""));
        assert_well_formed(text);
}

/* --- process metrics --- */

Test(metrics, process_metrics_come_from_proc_self)
{
        _cleanup_free_ char *text = render();
        const char *p = strstr(text, "\nprocess_resident_memory_bytes ");
        long long rss;

        cr_assert_not_null(p);
        cr_assert_eq(sscanf(p, "\nprocess_resident_memory_bytes %lld", &rss), 1);
        cr_assert_gt(rss, 1024 * 1024);
        cr_assert_eq(count_prefix(text, "process_cpu_seconds_total "), 1);
        cr_assert_eq(count_prefix(text, "process_start_time_seconds "), 1);
        p = strstr(text, "\nprocess_open_fds ");
        cr_assert_not_null(p);
        cr_assert_gt(atoi(p + strlen("\nprocess_open_fds ")), 2);
}

/* --- the loop meter --- */

typedef struct Worker {
        sd_event_source *timer;
        usec_t busy; /* each tick spins this long */
        usec_t period;
        unsigned ticks;
} Worker;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        Worker *w = userdata;
        usec_t until = now_usec(CLOCK_MONOTONIC) + w->busy;

        while (now_usec(CLOCK_MONOTONIC) < until)
                ;
        w->ticks++;
        /* relative to the real now: set_time_relative() counts from the loop's wake-up */
        cr_assert_geq(sd_event_source_set_time(s, now_usec(CLOCK_MONOTONIC) + w->period), 0);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static double run_loop(usec_t busy, usec_t period, usec_t *ret_busy, usec_t *ret_run)
{
        _cleanup_(metrics_loop_meter_freep) MetricsLoopMeter *meter = NULL;
        sd_event *e = NULL;
        Worker w = {.busy = busy, .period = period};
        usec_t start;
        double u;

        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(metrics_loop_meter_new(&meter, e, 300 * USEC_PER_MSEC), 0);
        cr_assert_geq(sd_event_add_time_relative(e, &w.timer, CLOCK_MONOTONIC, period, 1, on_tick, &w), 0);
        start = now_usec(CLOCK_MONOTONIC);
        event_run_for(e, USEC_PER_SEC);
        *ret_run = now_usec(CLOCK_MONOTONIC) - start;
        u = metrics_loop_meter_utilisation(meter, now_usec(CLOCK_MONOTONIC));
        *ret_busy = metrics_loop_meter_busy(meter);
        cr_assert_gt(w.ticks, 5);
        /* the last iteration is counted at the next one's prepare */
        cr_assert_geq(metrics_loop_meter_iterations(meter), w.ticks - 1);
        sd_event_source_disable_unref(w.timer);
        meter = metrics_loop_meter_free(meter);
        sd_event_unref(e);
        return u;
}

Test(metrics, loop_meter_sees_a_half_busy_loop)
{
        usec_t busy, run;
        double u = run_loop(20 * USEC_PER_MSEC, 20 * USEC_PER_MSEC, &busy, &run);

        cr_assert(u > 0.35 && u < 0.7, "utilisation %f", u);
        /* every spin is work: at least the ticks' share of the run */
        cr_assert_gt(busy, run * 35 / 100, "busy %llu of %llu", (unsigned long long)busy,
                     (unsigned long long)run);
        cr_assert_lt(busy, run);
}

Test(metrics, loop_meter_sees_an_idle_loop)
{
        usec_t busy, run;
        double u = run_loop(0, 50 * USEC_PER_MSEC, &busy, &run);

        cr_assert_lt(u, 0.05, "utilisation %f", u);
        cr_assert_lt(busy, run / 20);
}

/* The prober here has no workers: nothing runs. */
static int start_nothing(void *userdata, const ProbeHandler *h, const char *container_id, usec_t timeout,
                         probe_done_t done, void *done_userdata, void **ret_handle)
{
        return -EOPNOTSUPP;
}

Test(metrics, rendered_text_has_the_loop_and_the_probes)
{
        _cleanup_(metrics_loop_meter_freep) MetricsLoopMeter *meter = NULL;
        _cleanup_free_ char *text = NULL;
        Prober *prober = NULL;
        sd_event *e = NULL;
        ProberRunner runner = {.start = start_nothing};

        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(metrics_loop_meter_new(&meter, e, 0), 0);
        cr_assert_eq(prober_new(&prober, e, &runner, NULL, NULL), 0);
        event_run_for(e, 20 * USEC_PER_MSEC);
        text = render_with(metrics, prober, meter);
        assert_well_formed(text);
        cr_assert_eq(count_prefix(text, "berth_event_loop_utilisation "), 1);
        cr_assert_eq(count_prefix(text, "berth_event_loop_iterations_total "), 1);
        cr_assert_eq(count_prefix(text, "# TYPE berth_probe_total counter"), 1);
        cr_assert_eq(count_prefix(text, "berth_probe_workers 0"), 1);
        /* the prober's text comes last, as it was */
        cr_assert(strstr(text, "# HELP berth_probe_total") > strstr(text, "# HELP process_max_fds"));
        prober_free(prober);
        meter = metrics_loop_meter_free(meter);
        sd_event_unref(e);
}

/* --- the metricsAddress listener --- */

Test(metrics, listener_addresses_parse_like_host_port)
{
        struct sockaddr_storage sa;
        socklen_t len;

        cr_assert_eq(metrics_server_parse_address("127.0.0.1:10255", &sa, &len), 0);
        cr_assert_eq(sa.ss_family, AF_INET);
        cr_assert_eq(ntohs(((struct sockaddr_in *)&sa)->sin_port), 10255);
        cr_assert_eq(metrics_server_parse_address(":9100", &sa, &len), 0);
        cr_assert_eq(((struct sockaddr_in *)&sa)->sin_addr.s_addr, htonl(INADDR_ANY));
        cr_assert_eq(metrics_server_parse_address("localhost:1", &sa, &len), 0);
        cr_assert_eq(((struct sockaddr_in *)&sa)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        cr_assert_eq(metrics_server_parse_address("[::1]:80", &sa, &len), 0);
        cr_assert_eq(sa.ss_family, AF_INET6);
        cr_assert_eq(len, sizeof(struct sockaddr_in6));
        static const char *const bad[] = {
            "",       "127.0.0.1", "127.0.0.1:",      "127.0.0.1:65536", "127.0.0.1:-1",
            "::1:80", "[::1]80",   "host.example:80", "1.2.3.4:80x",     "[nope]:80"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_eq(metrics_server_parse_address(bad[i], &sa, &len), -EINVAL, "%s", bad[i]);
}

typedef struct Client {
        int port;
        const char *request;
        char reply[1 << 20];
        size_t size;
        atomic_bool done;
        int wake[2]; /* the thread writes a byte when done: the loop may have nothing else to wake it */
} Client;

static void *client_thread(void *userdata)
{
        Client *c = userdata;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ssize_t n;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            send(fd, c->request, strlen(c->request), MSG_NOSIGNAL) == (ssize_t)strlen(c->request))
                while (c->size < sizeof(c->reply) - 1 &&
                       (n = recv(fd, c->reply + c->size, sizeof(c->reply) - 1 - c->size, 0)) > 0)
                        c->size += (size_t)n;
        c->reply[c->size] = 0;
        if (fd >= 0)
                close(fd);
        atomic_store(&c->done, true);
        (void)write(c->wake[1], "x", 1);
        return NULL;
}

static bool client_done(void *userdata)
{
        return atomic_load(&((Client *)userdata)->done);
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        char b;

        (void)read(fd, &b, 1);
        return 0;
}

/* Sends request to the listener from a thread while the loop serves it; the whole reply. */
static Client *http(sd_event *e, int port, const char *request)
{
        Client *c = calloc(1, sizeof(Client));
        sd_event_source *wake = NULL;
        pthread_t t;

        cr_assert_not_null(c);
        c->port = port;
        c->request = request;
        cr_assert_eq(pipe2(c->wake, O_CLOEXEC), 0);
        cr_assert_geq(sd_event_add_io(e, &wake, c->wake[0], EPOLLIN, on_wake, NULL), 0);
        cr_assert_eq(pthread_create(&t, NULL, client_thread, c), 0);
        cr_assert(event_run_until(e, client_done, c, 5 * USEC_PER_SEC), "no reply to %s", request);
        cr_assert_eq(pthread_join(t, NULL), 0);
        sd_event_source_disable_unref(wake);
        safe_close(c->wake[0]);
        safe_close(c->wake[1]);
        return c;
}

static int render_store(void *userdata, char **ret)
{
        MetricsSources src = {.store = store, .metrics = userdata};

        return metrics_render(&src, ret);
}

static int render_fails(void *userdata, char **ret)
{
        return -EIO;
}

Test(metrics, listener_serves_the_text_on_loopback)
{
        _cleanup_(metrics_server_freep) MetricsServer *s = NULL;
        _cleanup_free_ Client *get = NULL, *head = NULL, *other = NULL, *post = NULL;
        sd_event *e = NULL;
        const char *body;

        add("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"x\"},\"spec\":{}}",
            "{\"succeeded\":2}");
        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(metrics_server_new(&s, e, "127.0.0.1:0", render_store, metrics), 0);
        cr_assert_gt(metrics_server_port(s), 0);

        get =
            http(e, metrics_server_port(s), "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        cr_assert(startswith(get->reply, "HTTP/1.1 200"), "%s", get->reply);
        cr_assert_not_null(
            strcasestr(get->reply, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        body = strstr(get->reply, "\r\n\r\n");
        cr_assert_not_null(body);
        assert_line(body + 4, "kube_job_status_succeeded{namespace=\"default\",job_name=\"x\"} 2");
        assert_well_formed(body + 4);

        head = http(e, metrics_server_port(s),
                    "HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        cr_assert(startswith(head->reply, "HTTP/1.1 200"));
        cr_assert(endswith(head->reply, "\r\n\r\n"), "HEAD got a body");

        other =
            http(e, metrics_server_port(s), "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        cr_assert(startswith(other->reply, "HTTP/1.1 404"), "%s", other->reply);

        post =
            http(e, metrics_server_port(s),
                 "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
        cr_assert(startswith(post->reply, "HTTP/1.1 405"), "%s", post->reply);
        cr_assert_not_null(strcasestr(post->reply, "\r\nAllow: GET, HEAD\r\n"));

        s = metrics_server_free(s);
        sd_event_unref(e);
}

Test(metrics, listener_reports_render_failures_and_busy_ports)
{
        _cleanup_(metrics_server_freep) MetricsServer *s = NULL, *second = NULL;
        _cleanup_free_ Client *get = NULL;
        _cleanup_free_ char *address = NULL;
        sd_event *e = NULL;

        cr_assert_geq(sd_event_new(&e), 0);
        cr_assert_eq(metrics_server_new(&s, e, "127.0.0.1:0", render_fails, NULL), 0);
        get =
            http(e, metrics_server_port(s), "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        cr_assert(startswith(get->reply, "HTTP/1.1 500"), "%s", get->reply);

        cr_assert_geq(asprintf_safe(&address, "127.0.0.1:%d", metrics_server_port(s)), 0);
        cr_assert_eq(metrics_server_new(&second, e, address, render_fails, NULL), -EADDRINUSE);
        cr_assert_null(second);
        cr_assert_eq(metrics_server_new(&second, e, "nowhere", render_fails, NULL), -EINVAL);
        s = metrics_server_free(s);
        sd_event_unref(e);
}
