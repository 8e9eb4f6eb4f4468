/* rollout status: kubectl's messages for each combination of spec and status (table-driven,
 * on cli_rollout_status_message), and the verb against the API tests' in-process server,
 * whose objects' status the test writes into the store, also while the verb polls. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "cli-test.h"
#include "json-util.h"
#include "util.h"

typedef struct Case {
        const char *kind;
        const char *obj; /* JSON */
        int ret;
        const char *msg;
} Case;

#define STS_RU "\"spec\":{\"replicas\":3,\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
#define STS_PLAIN "\"spec\":{\"replicas\":3,\"updateStrategy\":{\"type\":\"RollingUpdate\"}},"
#define META(gen) "{\"metadata\":{\"name\":\"web\",\"generation\":" #gen "},"

static const Case cases[] = {
    /* StatefulSet */
    {"StatefulSet",
     META(1) "\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"}},\"status\":{\"observedGeneration\":1}}",
     -EINVAL, "rollout status is only available for RollingUpdate strategy type"},
    {"StatefulSet", META(1) STS_PLAIN "\"status\":{}}", 0,
     "Waiting for statefulset spec update to be observed...\n"},
    {"StatefulSet", META(2) STS_PLAIN "\"status\":{\"observedGeneration\":1,\"readyReplicas\":3}}", 0,
     "Waiting for statefulset spec update to be observed...\n"},
    {"StatefulSet", META(1) STS_PLAIN "\"status\":{\"observedGeneration\":1,\"readyReplicas\":1}}", 0,
     "Waiting for 2 pods to be ready...\n"},
    {"StatefulSet",
     META(1) STS_RU "{\"partition\":1}}},\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,"
                    "\"updatedReplicas\":1}}",
     0, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...\n"},
    {"StatefulSet",
     META(1) STS_RU "{\"partition\":1}}},\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,"
                    "\"updatedReplicas\":2}}",
     1, "partitioned roll out complete: 2 new pods have been updated...\n"},
    /* partition 0, as the apiserver defaults it: complete once every pod is updated */
    {"StatefulSet",
     META(1) STS_RU "{\"partition\":0}}},\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,"
                    "\"updatedReplicas\":2}}",
     0, "Waiting for partitioned roll out to finish: 2 out of 3 new pods have been updated...\n"},
    /* a rollingUpdate without partition is complete as soon as the pods are ready (kubectl's) */
    {"StatefulSet",
     META(1) STS_RU "{}}},\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,"
                    "\"updatedReplicas\":0}}",
     1, "partitioned roll out complete: 0 new pods have been updated...\n"},
    {"StatefulSet",
     META(1) STS_PLAIN "\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,\"updatedReplicas\":1,"
                       "\"currentReplicas\":2,\"currentRevision\":\"web-1\",\"updateRevision\":\"web-2\"}}",
     0, "waiting for statefulset rolling update to complete 1 pods at revision web-2...\n"},
    {"StatefulSet",
     META(1) STS_PLAIN "\"status\":{\"observedGeneration\":1,\"readyReplicas\":3,\"updatedReplicas\":3,"
                       "\"currentReplicas\":3,\"currentRevision\":\"web-2\",\"updateRevision\":\"web-2\"}}",
     1, "statefulset rolling update complete 3 pods at revision web-2...\n"},
    /* no strategy (not defaulted) is RollingUpdate; no spec.replicas skips the readiness check */
    {"StatefulSet",
     META(1) "\"spec\":{},\"status\":{\"observedGeneration\":1,\"currentReplicas\":0,"
             "\"currentRevision\":\"web-1\",\"updateRevision\":\"web-1\"}}",
     1, "statefulset rolling update complete 0 pods at revision web-1...\n"},
    /* DaemonSet */
    {"DaemonSet", META(1) "\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"}},\"status\":{}}", -EINVAL,
     "rollout status is only available for RollingUpdate strategy type"},
    {"DaemonSet",
     META(2) "\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":{\"observedGeneration\":"
             "1}}",
     0, "Waiting for daemon set spec update to be observed...\n"},
    {"DaemonSet",
     META(1) "\"spec\":{},\"status\":{\"observedGeneration\":1,\"desiredNumberScheduled\":2,"
             "\"updatedNumberScheduled\":1,\"numberAvailable\":2}}",
     0, "Waiting for daemon set \"web\" rollout to finish: 1 out of 2 new pods have been updated...\n"},
    {"DaemonSet",
     META(1) "\"spec\":{},\"status\":{\"observedGeneration\":1,\"desiredNumberScheduled\":2,"
             "\"updatedNumberScheduled\":2,\"numberAvailable\":1}}",
     0, "Waiting for daemon set \"web\" rollout to finish: 1 of 2 updated pods are available...\n"},
    {"DaemonSet",
     META(1) "\"spec\":{},\"status\":{\"observedGeneration\":1,\"desiredNumberScheduled\":2,"
             "\"updatedNumberScheduled\":2,\"numberAvailable\":2}}",
     1, "daemon set \"web\" successfully rolled out\n"},
    /* a set no node is eligible for, before the controller first saw it: nothing to wait for */
    {"DaemonSet", "{\"metadata\":{\"name\":\"web\"},\"spec\":{},\"status\":{}}", 1,
     "daemon set \"web\" successfully rolled out\n"},
    /* kinds without a status viewer, named as Go prints a GroupKind */
    {"Pod", META(1) "\"spec\":{}}", -EOPNOTSUPP, "no status viewer has been implemented for Pod"},
    {"Job", META(1) "\"spec\":{}}", -EOPNOTSUPP, "no status viewer has been implemented for Job.batch"},
};

Test(cli_rollout, gives_kubectls_message_for_each_state)
{
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *obj = cJSON_Parse(cases[i].obj);
                _cleanup_free_ char *msg = NULL;
                const KindInfo *k = kind_by_kind(cases[i].kind);

                cr_assert_not_null(obj, "case %zu: %s", i, cases[i].obj);
                cr_assert_not_null(k);
                cr_expect_eq(cli_rollout_status_message(k, obj, &msg), cases[i].ret, "case %zu", i);
                cr_expect_str_eq(msg ?: "(null)", cases[i].msg, "case %zu", i);
        }
}

/* ---- the verb, against the in-process server ---- */

API_TEST_SUITE(cli_rollout_verb);

#define STS_PATH "/apis/apps/v1/namespaces/default/statefulsets"
#define DS_PATH "/apis/apps/v1/namespaces/default/daemonsets"

static void create_fixture(const char *path, const char *name)
{
        _cleanup_free_ char *file = strjoin(getenv("CLI_FIXTURES"), "/", name, NULL), *text = NULL;

        cr_assert_eq(read_full_file(file, 1 << 20, &text, NULL), 0, "%s", file);
        cli_test_create(&t, path, text);
}

/* Writes the status of a stored object as its controller would. */
static void set_status(const char *kind, const char *name, const char *status_json)
{
        _cleanup_json_ cJSON *st = cJSON_Parse(status_json);

        cr_assert_not_null(st, "%s", status_json);
        cr_assert_eq(store_update_status(t.store, kind, "default", name, st), 0);
}

static const char *const sts_waiting = "{\"observedGeneration\":1,\"replicas\":1,\"readyReplicas\":0}";
static const char *const sts_done =
    "{\"observedGeneration\":1,\"replicas\":1,\"readyReplicas\":1,\"updatedReplicas\":1,"
    "\"currentReplicas\":1,\"currentRevision\":\"web-1\",\"updateRevision\":\"web-1\"}";

typedef struct Later {
        const char *kind, *name, *status; /* status NULL: delete the object */
} Later;

static int on_later(sd_event_source *s, uint64_t usec, void *userdata)
{
        const Later *l = userdata;

        if (l->status)
                set_status(l->kind, l->name, l->status);
        else
                cr_assert_eq(store_delete(t.store, l->kind, "default", l->name, NULL), 0);
        return 0;
}

/* Runs on_later while the verb polls. */
static void later(const Later *l, usec_t after)
{
        cr_assert_geq(
            sd_event_add_time_relative(t.event, NULL, CLOCK_MONOTONIC, after, 0, on_later, (void *)l), 0);
}

static int run_rollout(void *userdata)
{
        return cli_verb_rollout(userdata);
}

/* `berth rollout status ARGS...` with CliArgs as cli-args.c would fill them. */
static void rollout(ApiTestRun *run, const char *watch, usec_t timeout, char **pos)
{
        CliArgs a = {.socket = t.socket_path,
                     .pos = pos,
                     .watch = watch,
                     .timeout = timeout,
                     .timeout_set = timeout > 0,
                     .tail = -1,
                     .grace_period = -1,
                     .wait = true,
                     .count = -1};

        while (a.pos[a.n_pos])
                a.n_pos++;
        api_test_run(&t, run_rollout, &a, run);
}

Test(cli_rollout_verb, prints_the_message_of_a_complete_rollout_and_succeeds)
{
        ApiTestRun run;

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_done);
        rollout(&run, NULL, 0, (char *[]){"status", "statefulset/web", NULL});
        /* berth defaults rollingUpdate.partition to 0, as the apiserver does */
        cli_test_expect(&run, 0, "partitioned roll out complete: 1 new pods have been updated...\n", "");
}

Test(cli_rollout_verb, prints_each_new_message_once_until_the_rollout_completes)
{
        ApiTestRun run;
        Later l = {"StatefulSet", "web", sts_done};

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_waiting);
        later(&l, 700 * USEC_PER_MSEC);
        rollout(&run, NULL, 10 * USEC_PER_SEC, (char *[]){"status", "sts", "web", NULL});
        cli_test_expect(&run, 0,
                        "Waiting for 1 pods to be ready...\n"
                        "partitioned roll out complete: 1 new pods have been updated...\n",
                        "");
}

Test(cli_rollout_verb, times_out_with_kubectls_error)
{
        ApiTestRun run;

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_waiting);
        rollout(&run, NULL, 600 * USEC_PER_MSEC, (char *[]){"status", "statefulsets/web", NULL});
        cli_test_expect(&run, 1, "Waiting for 1 pods to be ready...\n",
                        "error: timed out waiting for the condition\n");
}

Test(cli_rollout_verb, prints_the_state_once_without_watch)
{
        ApiTestRun run;

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_waiting);
        rollout(&run, "false", 0, (char *[]){"status", "sts/web", NULL});
        cli_test_expect(&run, 0, "Waiting for 1 pods to be ready...\n", "");
}

Test(cli_rollout_verb, follows_a_daemonset)
{
        ApiTestRun run;
        Later l = {"DaemonSet", "agent",
                   "{\"observedGeneration\":1,\"desiredNumberScheduled\":1,\"updatedNumberScheduled\":1,"
                   "\"numberAvailable\":1}"};

        create_fixture(DS_PATH, "daemonset-agent.json");
        set_status("DaemonSet", "agent",
                   "{\"observedGeneration\":1,\"desiredNumberScheduled\":1,\"updatedNumberScheduled\":0}");
        later(&l, 700 * USEC_PER_MSEC);
        rollout(&run, NULL, 10 * USEC_PER_SEC, (char *[]){"status", "ds/agent", NULL});
        cli_test_expect(&run, 0,
                        "Waiting for daemon set \"agent\" rollout to finish: 0 out of 1 new pods have been "
                        "updated...\n"
                        "daemon set \"agent\" successfully rolled out\n",
                        "");
}

Test(cli_rollout_verb, fails_when_the_object_is_deleted_while_watching)
{
        ApiTestRun run;
        Later l = {"StatefulSet", "web", NULL};

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_waiting);
        later(&l, 500 * USEC_PER_MSEC);
        rollout(&run, NULL, 10 * USEC_PER_SEC, (char *[]){"status", "sts/web", NULL});
        cli_test_expect(&run, 1, "Waiting for 1 pods to be ready...\n", "error: object has been deleted\n");
}

Test(cli_rollout_verb, refuses_the_ondelete_strategy)
{
        ApiTestRun run;

        cli_test_create(
            &t, DS_PATH,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\"},"
            "\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"},"
            "\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},"
            "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
            "\"spec\":{\"containers\":[{\"name\":\"agent\",\"image\":\"busybox\"}]}}}}");
        rollout(&run, NULL, 0, (char *[]){"status", "daemonset", "agent", NULL});
        cli_test_expect(&run, 1, "",
                        "error: rollout status is only available for RollingUpdate strategy type\n");
}

Test(cli_rollout_verb, finds_the_only_object_of_a_kind)
{
        ApiTestRun run;

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_done);
        rollout(&run, NULL, 0, (char *[]){"status", "statefulsets", NULL});
        cli_test_expect(&run, 0, "partitioned roll out complete: 1 new pods have been updated...\n", "");
}

Test(cli_rollout_verb, reports_usage_errors_as_kubectl)
{
        ApiTestRun run;

        rollout(&run, NULL, 0, (char *[]){NULL});
        cli_test_expect(&run, 1, "",
                        "error: unknown command \"\" for \"berth rollout\" (only \"rollout status\")\n");
        rollout(&run, NULL, 0, (char *[]){"history", "sts/web", NULL});
        cli_test_expect(
            &run, 1, "",
            "error: unknown command \"history\" for \"berth rollout\" (only \"rollout status\")\n");
        rollout(&run, NULL, 0, (char *[]){"status", NULL});
        cli_test_expect(&run, 1, "", "error: required resource not specified\n");
        rollout(&run, "maybe", 0, (char *[]){"status", "sts/web", NULL});
        cli_test_expect(&run, 1, "", "error: invalid argument \"maybe\" for \"-w, --watch\" flag\n");
        rollout(&run, NULL, 0, (char *[]){"status", "sts", "a", "b", NULL});
        cli_test_expect(&run, 1, "",
                        "error: rollout status is only supported on individual resources and resource "
                        "collections - 2 resources were found\n");
        rollout(&run, NULL, 0, (char *[]){"status", "statefulsets", NULL});
        cli_test_expect(&run, 1, "",
                        "error: rollout status is only supported on individual resources and resource "
                        "collections - 0 resources were found\n");
}

Test(cli_rollout_verb, reports_a_missing_object_and_a_kind_without_rollouts)
{
        ApiTestRun run;

        rollout(&run, NULL, 0, (char *[]){"status", "sts/nope", NULL});
        cli_test_expect(&run, 1, "", "Error from server (NotFound): statefulsets.apps \"nope\" not found\n");
        cli_test_create(&t, "/api/v1/namespaces/default/configmaps",
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");
        rollout(&run, NULL, 0, (char *[]){"status", "configmap/c", NULL});
        cli_test_expect(&run, 1, "", "error: no status viewer has been implemented for ConfigMap\n");
}

Test(cli_rollout_verb, takes_watch_from_the_command_line)
{
        ApiTestRun run;

        create_fixture(STS_PATH, "statefulset-web.json");
        set_status("StatefulSet", "web", sts_waiting);
        CLI_RUN(&t, &run, "rollout", "status", "sts/web", "-w=false");
        cli_test_expect(&run, 0, "Waiting for 1 pods to be ready...\n", "");
        CLI_RUN(&t, &run, "rollout", "status", "sts/web", "--watch=false");
        cli_test_expect(&run, 0, "Waiting for 1 pods to be ready...\n", "");
        CLI_RUN(&t, &run, "rollout", "status", "sts/web", "-w", "--timeout=300ms");
        cli_test_expect(&run, 1, "Waiting for 1 pods to be ready...\n",
                        "error: timed out waiting for the condition\n");
}
