#include <criterion/criterion.h>
#include <string.h>

#include "daemonset-internal.h"
#include "json-util.h"

static char dir[] = "/tmp/berth-test-ds-XXXXXX";
static Store *store;
static sd_event *loop;
static DaemonSetController *dc;

static void on_change(Store *s, StoreChange ch, const cJSON *obj, void *u)
{
        (void)s;
        daemonset_controller_on_store_change(u, ch, obj);
}

static void setup(void)
{
        DaemonSetControllerOptions o = {.node_name = "n1"};

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(store_open(&store, dir), 0);
        cr_assert_eq(sd_event_new(&loop), 0);
        cr_assert_eq(daemonset_controller_new(&dc, loop, store, &o), 0);
        store_set_on_change(store, on_change, dc);
}

static void teardown(void)
{
        daemonset_controller_free(dc);
        sd_event_unref(loop);
        store_free(store);
        rm_rf(dir);
}

TestSuite(daemonset, .init = setup, .fini = teardown);

static void drain(void)
{
        for (int i = 0; i < 500; i++)
                if (sd_event_run(loop, 0) <= 0)
                        break;
}

static cJSON *parse(const char *s)
{
        cJSON *j = cJSON_Parse(s);

        cr_assert_not_null(j, "bad test json: %s", s);
        return j;
}

/* Writes this node's Node object as the agent's register_node() does. */
static void put_node(const char *labels, const char *taints)
{
        _cleanup_free_ char *s = NULL;

        cr_assert(
            asprintf(&s,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":%s},"
                     "\"spec\":{\"taints\":%s}}",
                     labels, taints) > 0);
        _cleanup_json_ cJSON *n = parse(s);
        cr_assert_eq(store_apply(store, n, NULL, NULL, NULL), 0);
        drain();
}

#define ROLLING(mu, ms)                                                                                     \
        "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":" mu ",\"maxSurge\":" ms "}}"
#define ON_DELETE "{\"type\":\"OnDelete\"}"

/* A defaulted DaemonSet "agent"; tspec_extra is spliced into the pod template spec. */
static void create_ds(const char *strategy, int min_ready, const char *tspec_extra)
{
        _cleanup_free_ char *s = NULL;

        cr_assert(
            asprintf(
                &s,
                "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\","
                "\"namespace\":\"default\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},"
                "\"updateStrategy\":%s,\"minReadySeconds\":%d,\"revisionHistoryLimit\":10,"
                "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},\"spec\":{%s%s"
                "\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"main\",\"image\":\"busybox:1\"}]}}"
                "}}",
                strategy, min_ready, tspec_extra, *tspec_extra ? "," : "") > 0);
        _cleanup_json_ cJSON *j = parse(s);
        cr_assert_eq(store_create(store, j, NULL), 0);
        drain();
}

static cJSON *ds(void)
{
        cJSON *j = NULL;

        cr_assert_eq(store_get(store, "DaemonSet", "default", "agent", &j), 0);
        return j;
}

/* Changes the container image: a new template, a new revision. */
static void set_image(const char *image)
{
        _cleanup_json_ cJSON *j = ds();
        cJSON *c = cJSON_GetArrayItem(json_path(j, "spec.template.spec.containers"), 0);

        cr_assert_eq(json_set_string(c, "image", image), 0);
        cr_assert_eq(store_update(store, j, NULL), 0);
        drain();
}

static cJSON *pods(void)
{
        _cleanup_json_ cJSON *j = ds();
        cJSON *p = NULL;

        cr_assert_eq(store_list_owned(store, "Pod", "default", json_str(j, "metadata.uid"), &p), 0);
        return p;
}

static int count_live(const cJSON *ps)
{
        const cJSON *p;
        int n = 0;

        cJSON_ArrayForEach (p, ps)
                n += !json_str(p, "metadata.deletionTimestamp");
        return n;
}

static const cJSON *live_pod(const cJSON *ps, int i)
{
        const cJSON *p;

        cJSON_ArrayForEach (p, ps)
                if (!json_str(p, "metadata.deletionTimestamp") && i-- == 0)
                        return p;
        return NULL;
}

static const char *label(const cJSON *pod, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(pod, "metadata.labels"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Simulates the pod controller: the pod runs, Ready since ready_since. */
static void set_pod_status(const char *name, const char *phase, bool ready, usec_t ready_since)
{
        char ts[64], buf[512];

        cr_assert_eq(format_rfc3339(ready_since, ts, sizeof ts), 0);
        snprintf(buf, sizeof buf,
                 "{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
                 "\"lastTransitionTime\":\"%s\"}]}",
                 phase, ready ? "True" : "False", ts);
        _cleanup_json_ cJSON *st = parse(buf);
        cr_assert_eq(store_update_status(store, "Pod", "default", name, st), 0);
        drain();
}

#define LONG_AGO ((usec_t)1577836800 * USEC_PER_SEC) /* 2020-01-01 */

static void run_ready(const cJSON *pod)
{
        set_pod_status(json_str(pod, "metadata.name"), "Running", true, LONG_AGO);
}

/* Simulates the pod controller finishing the deletion of marked pods. */
static void finish_deletions(void)
{
        _cleanup_json_ cJSON *ps = pods();
        const cJSON *p;

        cJSON_ArrayForEach (p, ps)
                if (json_str(p, "metadata.deletionTimestamp"))
                        cr_assert_eq(
                            store_delete(store, "Pod", "default", json_str(p, "metadata.name"), NULL), 0);
        drain();
}

static int count_events(const char *reason, const char *msg_prefix)
{
        _cleanup_json_ cJSON *ev = NULL;
        const cJSON *e;
        int n = 0;

        cr_assert_eq(store_list_events(store, NULL, NULL, &ev), 0);
        cJSON_ArrayForEach (e, ev)
                if (streq_ptr(json_str(e, "reason"), reason) &&
                    startswith(json_str(e, "message") ?: "", msg_prefix))
                        n += (int)json_int(e, "count", 1);
        return n;
}

static int64_t status_int(const char *field)
{
        _cleanup_json_ cJSON *j = ds();

        return json_int(json_path(j, "status"), field, -1);
}

/* Runs the loop (timers included) until cond holds or timeout passes. */
static bool run_until(bool (*cond)(void), usec_t timeout)
{
        usec_t end = now_usec(CLOCK_MONOTONIC) + timeout;

        while (!cond()) {
                if (now_usec(CLOCK_MONOTONIC) >= end)
                        return false;
                (void)sd_event_run(loop, 100 * USEC_PER_MSEC);
        }
        return true;
}

Test(daemonset, creates_one_pod_bound_to_an_eligible_node)
{
        put_node("{\"kubernetes.io/hostname\":\"n1\"}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        _cleanup_json_ cJSON *ps = pods(), *j = ds();
        const cJSON *p = cJSON_GetArrayItem(ps, 0), *ref = json_path(p, "metadata.ownerReferences")->child;
        const cJSON *terms = json_path(
            p,
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
        const char *name = json_str(p, "metadata.name");

        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert(startswith(name, "agent-"));
        cr_assert_eq(strlen(name), strlen("agent-") + 5);
        for (const char *c = name + 6; *c; c++)
                cr_assert((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'), "%s", name);
        cr_assert_str_eq(label(p, "app"), "agent");
        cr_assert_not_null(label(p, "controller-revision-hash"));
        cr_assert_gt(strlen(label(p, "controller-revision-hash")), 4);
        cr_assert_str_eq(label(p, "pod-template-generation"), "1");
        cr_assert_str_eq(json_str(p, "spec.nodeName"), "n1");
        cr_assert_eq(cJSON_GetArraySize(json_path(p, "spec.tolerations")), 6);
        cr_assert_str_eq(json_str(ref, "kind"), "DaemonSet");
        cr_assert_str_eq(json_str(ref, "apiVersion"), "apps/v1");
        cr_assert_str_eq(json_str(ref, "uid"), json_str(j, "metadata.uid"));
        cr_assert(json_bool(ref, "controller", false));
        cr_assert_str_eq(json_str(json_path(terms->child, "matchFields")->child, "key"), "metadata.name");
        cr_assert_eq(count_events("SuccessfulCreate", "Created pod: agent-"), 1);
        cr_assert_eq(json_int(j, "status.desiredNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.currentNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.updatedNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.numberReady", -1), 0);
        cr_assert_eq(json_int(j, "status.numberAvailable", -1), 0);
        cr_assert_eq(json_int(j, "status.numberUnavailable", -1), 1);
        cr_assert_eq(json_int(j, "status.numberMisscheduled", -1), 0);
        cr_assert_eq(json_int(j, "status.observedGeneration", -1), 1);
}

Test(daemonset, hostnetwork_pods_also_tolerate_network_unavailable)
{
        put_node("{}", "[{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}]");
        create_ds(ROLLING("1", "0"), 0, "\"hostNetwork\":true");
        _cleanup_json_ cJSON *ps = pods();

        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_eq(cJSON_GetArraySize(json_path(ps->child, "spec.tolerations")), 7);
}

Test(daemonset, no_pod_on_an_ineligible_node_or_without_a_node)
{
        create_ds(ROLLING("1", "0"), 0, "\"nodeSelector\":{\"disk\":\"ssd\"}");
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(cJSON_GetArraySize(ps), 0, "no Node object yet");
        }
        put_node("{\"disk\":\"hdd\"}", "[]");
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(cJSON_GetArraySize(ps), 0);
                cr_assert_eq(status_int("desiredNumberScheduled"), 0);
                cr_assert_eq(status_int("numberUnavailable"), 0);
        }
        put_node("{\"disk\":\"ssd\"}", "[]");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 1, "the node's new labels make it eligible");
}

Test(daemonset, no_pod_on_a_node_with_an_untolerated_noschedule_taint)
{
        put_node("{}", "[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]");
        create_ds(ROLLING("1", "0"), 0, "");
        _cleanup_json_ cJSON *ps = pods();

        cr_assert_eq(cJSON_GetArraySize(ps), 0);
}

Test(daemonset, noschedule_taint_added_later_keeps_the_running_pod)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
        }
        put_node("{}", "[{\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}]");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_live(ps), 1);
        cr_assert_eq(count_events("SuccessfulDelete", ""), 0);
        cr_assert_eq(status_int("desiredNumberScheduled"), 0);
        cr_assert_eq(status_int("numberMisscheduled"), 1);
}

Test(daemonset, noexecute_taint_removes_the_pod)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        put_node("{}", "[{\"key\":\"dedicated\",\"effect\":\"NoExecute\"}]");
        _cleanup_json_ cJSON *ps = pods();

        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_eq(count_live(ps), 0, "the pod is marked for deletion");
        cr_assert_eq(count_events("SuccessfulDelete", "Deleted pod: agent-"), 1);
        finish_deletions();
        cJSON_Delete(ps);
        ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 0, "and not replaced");
        cr_assert_eq(status_int("numberMisscheduled"), 0);
}

Test(daemonset, tolerated_noexecute_taint_keeps_the_pod)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0,
                  "\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"ops\","
                  "\"effect\":\"NoExecute\"}]");
        put_node("{}", "[{\"key\":\"dedicated\",\"value\":\"ops\",\"effect\":\"NoExecute\"}]");
        _cleanup_json_ cJSON *ps = pods();

        cr_assert_eq(count_live(ps), 1);
        cr_assert_eq(status_int("desiredNumberScheduled"), 1);
}

Test(daemonset, label_change_failing_the_node_selector_removes_the_pod)
{
        put_node("{\"disk\":\"ssd\"}", "[]");
        create_ds(ROLLING("1", "0"), 0, "\"nodeSelector\":{\"disk\":\"ssd\"}");
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(count_live(ps), 1);
        }
        put_node("{\"disk\":\"hdd\"}", "[]");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_live(ps), 0);
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
}

Test(daemonset, rolling_update_with_max_unavailable_deletes_the_old_pod_then_creates_the_new)
{
        char old_hash[16];

        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
                snprintf(old_hash, sizeof old_hash, "%s", label(ps->child, "controller-revision-hash"));
        }
        cr_assert_eq(status_int("numberAvailable"), 1);
        set_image("busybox:2");
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(cJSON_GetArraySize(ps), 1, "no new pod while the old one terminates");
                cr_assert_eq(count_live(ps), 0);
        }
        finish_deletions();
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_str_neq(label(ps->child, "controller-revision-hash"), old_hash);
        cr_assert_str_eq(label(ps->child, "pod-template-generation"), "2");
        cr_assert_str_eq(json_str(json_path(ps->child, "spec.containers")->child, "image"), "busybox:2");
        cr_assert_eq(status_int("updatedNumberScheduled"), 1);
        cr_assert_eq(status_int("observedGeneration"), 2);
}

Test(daemonset, rolling_update_with_percent_max_unavailable_rounds_up)
{
        put_node("{}", "[]");
        create_ds(ROLLING("\"10%\"", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
        }
        set_image("busybox:2");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_live(ps), 0, "10%% of 1 rounds up to 1");
}

static bool old_pod_marked(void)
{
        _cleanup_json_ cJSON *ps = pods();

        return count_live(ps) == 1 && cJSON_GetArraySize(ps) == 2;
}

Test(daemonset, rolling_update_with_max_surge_creates_first_and_deletes_after_min_ready)
{
        char old_name[64];
        const cJSON *p;

        put_node("{}", "[]");
        create_ds(ROLLING("0", "1"), 1, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
                snprintf(old_name, sizeof old_name, "%s", json_str(ps->child, "metadata.name"));
        }
        set_image("busybox:2");
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_live(ps), 2, "the new pod comes up beside the old one");
        cJSON_ArrayForEach (p, ps)
                if (!streq(json_str(p, "metadata.name"), old_name))
                        break;
        cr_assert_not_null(p);
        cr_assert_str_eq(label(p, "pod-template-generation"), "2");
        /* Ready only now: available after minReadySeconds (1 s) */
        set_pod_status(json_str(p, "metadata.name"), "Running", true, now_usec(CLOCK_REALTIME));
        {
                _cleanup_json_ cJSON *again = pods();
                cr_assert_eq(count_live(again), 2, "the old pod stays until the new one is available");
        }
        cr_assert(run_until(old_pod_marked, 4 * USEC_PER_SEC),
                  "the old pod goes once the new one is available");
        _cleanup_json_ cJSON *after = pods();
        const cJSON *live = live_pod(after, 0);
        cr_assert_str_neq(json_str(live, "metadata.name"), old_name);
        cr_assert_eq(count_events("SuccessfulDelete", "Deleted pod: "), 1);
}

Test(daemonset, rolling_update_with_max_surge_replaces_an_unready_old_pod_at_once)
{
        put_node("{}", "[]");
        create_ds(ROLLING("0", "\"100%\""), 0, "");
        set_image("busybox:2");
        _cleanup_json_ cJSON *ps = pods();
        /* the old pod never became ready: the new one is created, and the old one goes */
        cr_assert_eq(cJSON_GetArraySize(ps), 2);
        cr_assert_eq(count_live(ps), 1);
        cr_assert_str_eq(label(live_pod(ps, 0), "pod-template-generation"), "2");
}

Test(daemonset, on_delete_replaces_only_a_deleted_pod)
{
        char old_name[64];

        put_node("{}", "[]");
        create_ds(ON_DELETE, 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
                snprintf(old_name, sizeof old_name, "%s", json_str(ps->child, "metadata.name"));
        }
        set_image("busybox:2");
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(count_live(ps), 1);
                cr_assert_str_eq(json_str(ps->child, "metadata.name"), old_name);
                cr_assert_eq(status_int("updatedNumberScheduled"), 0);
        }
        cr_assert_eq(store_delete(store, "Pod", "default", old_name, NULL), 0);
        drain();
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_live(ps), 1);
        cr_assert_str_eq(label(ps->child, "pod-template-generation"), "2");
        cr_assert_eq(status_int("updatedNumberScheduled"), 1);
}

static bool second_failure_deleted(void)
{
        _cleanup_json_ cJSON *ps = pods();

        return count_events("FailedDaemonPod", "Found failed daemon pod default/agent-") == 2 &&
               count_live(ps) == 1;
}

Test(daemonset, failed_pod_is_deleted_and_recreated_with_back_off)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                set_pod_status(json_str(ps->child, "metadata.name"), "Failed", false, LONG_AGO);
        }
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(count_events("FailedDaemonPod", "Found failed daemon pod default/agent-"), 1);
                cr_assert_eq(count_live(ps), 1, "a replacement is created at once");
                cr_assert_eq(count_events("SuccessfulCreate", ""), 2);
                finish_deletions();
        }
        {
                /* the replacement fails within the 1 s back-off: it stays for now */
                _cleanup_json_ cJSON *ps = pods();
                set_pod_status(json_str(live_pod(ps, 0), "metadata.name"), "Failed", false, LONG_AGO);
        }
        {
                _cleanup_json_ cJSON *ps = pods();
                cr_assert_eq(count_events("FailedDaemonPod", ""), 1);
                cr_assert_str_eq(json_str(live_pod(ps, 0), "status.phase"), "Failed");
        }
        cr_assert(run_until(second_failure_deleted, 3 * USEC_PER_SEC));
        cr_assert_eq(count_events("SuccessfulCreate", ""), 3);
}

Test(daemonset, succeeded_pod_is_replaced)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                set_pod_status(json_str(ps->child, "metadata.name"), "Succeeded", false, LONG_AGO);
        }
        _cleanup_json_ cJSON *ps = pods();
        cr_assert_eq(count_events("SucceededDaemonPod", "Found succeeded daemon pod default/agent-"), 1);
        cr_assert_eq(count_live(ps), 1);
}

Test(daemonset, status_counts_a_ready_and_available_pod)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                run_ready(ps->child);
        }
        _cleanup_json_ cJSON *j = ds();
        cr_assert_eq(json_int(j, "status.desiredNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.currentNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.numberReady", -1), 1);
        cr_assert_eq(json_int(j, "status.numberAvailable", -1), 1);
        cr_assert_eq(json_int(j, "status.numberUnavailable", -1), 0);
        cr_assert_eq(json_int(j, "status.updatedNumberScheduled", -1), 1);
        cr_assert_eq(json_int(j, "status.numberMisscheduled", -1), 0);
}

static bool available_one(void)
{
        return status_int("numberAvailable") == 1;
}

Test(daemonset, status_counts_a_pod_available_only_after_min_ready_seconds)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 1, "");
        {
                _cleanup_json_ cJSON *ps = pods();
                set_pod_status(json_str(ps->child, "metadata.name"), "Running", true,
                               now_usec(CLOCK_REALTIME));
        }
        cr_assert_eq(status_int("numberReady"), 1);
        cr_assert_eq(status_int("numberAvailable"), 0);
        cr_assert_eq(status_int("numberUnavailable"), 1);
        cr_assert(run_until(available_one, 4 * USEC_PER_SEC), "requeued when minReadySeconds have passed");
        cr_assert_eq(status_int("numberUnavailable"), 0);
}

Test(daemonset, duplicate_pods_are_reduced_to_the_oldest)
{
        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        _cleanup_json_ cJSON *ps = pods();
        _cleanup_json_ cJSON *dup = cJSON_Duplicate(ps->child, true);
        const char *keep = json_str(ps->child, "metadata.name");
        cJSON *meta = json_path(dup, "metadata");

        cJSON_DeleteItemFromObject(meta, "uid");
        cJSON_DeleteItemFromObject(meta, "resourceVersion");
        cJSON_DeleteItemFromObject(meta, "creationTimestamp");
        cr_assert_eq(json_set_string(meta, "name", "zzz-agent-dup"), 0);
        cr_assert_eq(store_create(store, dup, NULL), 0);
        drain();
        _cleanup_json_ cJSON *after = pods();
        cr_assert_eq(cJSON_GetArraySize(after), 2);
        cr_assert_eq(count_live(after), 1);
        cr_assert_str_eq(json_str(live_pod(after, 0), "metadata.name"), keep);
        cr_assert_eq(count_events("SuccessfulDelete", "Deleted pod: zzz-agent-dup"), 1);
}

Test(daemonset, deleting_the_set_deletes_its_pods)
{
        _cleanup_json_ cJSON *ps = NULL, *left = NULL;

        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        ps = pods();
        cr_assert_eq(cJSON_GetArraySize(ps), 1);
        cr_assert_eq(store_delete_object(store, "DaemonSet", "default", "agent", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        drain();
        cr_assert_eq(store_get(store, "Pod", "default", json_str(ps->child, "metadata.name"), &left), 0);
        cr_assert_not_null(json_str(left, "metadata.deletionTimestamp"));
}

Test(daemonset, template_hash_is_stable_and_follows_the_template)
{
        _cleanup_json_ cJSON *a =
            parse("{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}");
        _cleanup_json_ cJSON *b =
            parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\","
                  "\"name\":\"c\"}]},\"metadata\":{\"labels\":{\"b\":\"2\",\"a\":\"1\"}}}}}");
        _cleanup_json_ cJSON *c =
            parse("{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"y\"}]}}}}");
        char ha[16], hb[16], hc[16];

        cr_assert_eq(daemonset_template_hash(a, ha), 0);
        cr_assert_eq(daemonset_template_hash(b, hb), 0);
        cr_assert_eq(daemonset_template_hash(c, hc), 0);
        cr_assert_str_eq(ha, hb, "member order does not matter");
        cr_assert_str_neq(ha, hc);
        for (const char *p = ha; *p; p++)
                cr_assert_not_null(strchr("bcdfghjklmnpqrstvwxz2456789", *p));
}

Test(daemonset, scaled_values_round_percentages_up)
{
        _cleanup_json_ cJSON *v = parse("[3,\"25%\",\"0%\",\"100%\",\"x\",\"5\"]");
        int r;

        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 0), 10, &r), 0);
        cr_assert_eq(r, 3);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 1), 1, &r), 0);
        cr_assert_eq(r, 1);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 1), 10, &r), 0);
        cr_assert_eq(r, 3);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 2), 10, &r), 0);
        cr_assert_eq(r, 0);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 3), 0, &r), 0);
        cr_assert_eq(r, 0);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 4), 10, &r), -EINVAL);
        cr_assert_eq(daemonset_scaled_value(cJSON_GetArrayItem(v, 5), 10, &r), -EINVAL);
}

Test(daemonset, recreated_set_adopts_the_orphaned_pod_instead_of_starting_another)
{
        _cleanup_json_ cJSON *before = NULL, *after = NULL, *orphan = NULL, *j = NULL;
        const cJSON *ref;

        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        before = pods();
        cr_assert_eq(
            store_delete_object(store, "DaemonSet", "default", "agent", -1, STORE_PROPAGATE_ORPHAN, NULL),
            0);
        drain();
        cr_assert_eq(store_get(store, "Pod", "default", json_str(before->child, "metadata.name"), &orphan),
                     0);
        cr_assert_eq(cJSON_GetArraySize(json_path(orphan, "metadata.ownerReferences")), 0);
        create_ds(ROLLING("1", "0"), 0, "");
        after = pods();
        j = ds();
        cr_assert_eq(cJSON_GetArraySize(after), 1);
        cr_assert_str_eq(json_str(after->child, "metadata.name"), json_str(before->child, "metadata.name"));
        ref = json_path(after->child, "metadata.ownerReferences")->child;
        cr_assert_str_eq(json_str(ref, "uid"), json_str(j, "metadata.uid"));
        cr_assert_eq(count_events("SuccessfulCreate", ""), 1);
}

Test(daemonset, pod_relabelled_out_of_the_selector_is_released_and_replaced)
{
        _cleanup_json_ cJSON *ps = NULL, *released = NULL, *after = NULL;
        cJSON *pod;

        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        ps = pods();
        pod = cJSON_Duplicate(ps->child, true);
        cr_assert_eq(json_set_string(json_path(pod, "metadata.labels"), "app", "debug"), 0);
        cr_assert_eq(store_update(store, pod, NULL), 0);
        cJSON_Delete(pod);
        drain();
        cr_assert_eq(store_get(store, "Pod", "default", json_str(ps->child, "metadata.name"), &released), 0);
        cr_assert_eq(cJSON_GetArraySize(json_path(released, "metadata.ownerReferences")), 0);
        cr_assert_null(json_str(released, "metadata.deletionTimestamp"));
        after = pods();
        cr_assert_eq(count_live(after), 1);
        cr_assert_str_neq(json_str(after->child, "metadata.name"), json_str(ps->child, "metadata.name"));
}

Test(daemonset, orphan_pod_created_later_is_adopted_and_the_duplicate_removed)
{
        _cleanup_json_ cJSON *ps = NULL, *after = NULL;
        _cleanup_json_ cJSON *orphan = parse(
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"zzz-stray\",\"namespace\":"
            "\"default\",\"labels\":{\"app\":\"agent\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
            "[{\"name\":\"main\",\"image\":\"busybox:1\"}]}}");

        put_node("{}", "[]");
        create_ds(ROLLING("1", "0"), 0, "");
        ps = pods();
        cr_assert_eq(store_create(store, orphan, NULL), 0);
        drain();
        after = pods();
        cr_assert_eq(cJSON_GetArraySize(after), 2, "the stray pod is adopted");
        cr_assert_eq(count_live(after), 1, "and, being the newer, deleted as a duplicate");
        cr_assert_str_eq(json_str(live_pod(after, 0), "metadata.name"),
                         json_str(ps->child, "metadata.name"));
}
