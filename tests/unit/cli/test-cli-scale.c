/* scale: the flags' checks and the precondition (pure), and the verb against the API tests'
 * in-process server: what it writes, the refusals, --timeout, and the 409 a stale
 * resourceVersion gets, on which the verb's retry relies. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "cli-test.h"
#include "json-util.h"
#include "util.h"

static int parse(const char *replicas, const char *current, int64_t *ret_replicas, int64_t *ret_current,
                 char **ret_error)
{
        CliArgs a = {.replicas = replicas, .current_replicas = current};

        return cli_scale_parse_options(&a, ret_replicas, ret_current, ret_error);
}

Test(cli_scale, reads_replicas_and_current_replicas)
{
        _cleanup_free_ char *err = NULL;
        int64_t n, cur;

        cr_assert_eq(parse("3", NULL, &n, &cur, &err), 0);
        cr_expect_eq(n, 3);
        cr_expect_eq(cur, -1);
        cr_assert_null(err);
        cr_assert_eq(parse("0", "2", &n, &cur, &err), 0);
        cr_expect_eq(n, 0);
        cr_expect_eq(cur, 2);
        cr_assert_eq(parse("1", "-1", &n, &cur, &err), 0);
        cr_expect_eq(cur, -1);
}

Test(cli_scale, refuses_missing_negative_and_malformed_counts_with_kubectls_messages)
{
        static const struct {
                const char *replicas, *current, *error;
        } cases[] = {
            {NULL, NULL, "required flag(s) \"replicas\" not set"},
            {"-1", NULL,
             "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"},
            {"three", NULL, "invalid argument \"three\" for \"--replicas\" flag"},
            {"", NULL, "invalid argument \"\" for \"--replicas\" flag"},
            {"3x", NULL, "invalid argument \"3x\" for \"--replicas\" flag"},
            {"99999999999", NULL, "invalid argument \"99999999999\" for \"--replicas\" flag"},
            {"3", "-2", "The --current-replicas must specify an integer of -1 or greater"},
            {"3", "two", "invalid argument \"two\" for \"--current-replicas\" flag"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;
                int64_t n, cur;

                cr_expect_eq(parse(cases[i].replicas, cases[i].current, &n, &cur, &err), -EINVAL, "case %zu",
                             i);
                cr_expect_str_eq(err ?: "(null)", cases[i].error, "case %zu", i);
        }
}

Test(cli_scale, checks_the_current_replicas_precondition_before_setting_replicas)
{
        _cleanup_json_ cJSON *obj = cJSON_Parse("{\"spec\":{\"replicas\":2}}"), *bare = cJSON_Parse("{}");
        _cleanup_free_ char *err = NULL;

        cr_assert_not_null(obj);
        cr_assert_eq(cli_scale_set_replicas(obj, 5, 3, &err), -ESTALE);
        cr_expect_str_eq(err, "Expected replicas to be 3, was 2");
        cr_expect_eq(json_int(obj, "spec.replicas", -1), 2, "a failed precondition changes nothing");
        err = mfree(err);
        cr_assert_eq(cli_scale_set_replicas(obj, 5, 2, &err), 0);
        cr_expect_eq(json_int(obj, "spec.replicas", -1), 5);
        cr_assert_eq(cli_scale_set_replicas(obj, 0, -1, &err), 0);
        cr_expect_eq(json_int(obj, "spec.replicas", -1), 0);
        cr_assert_null(err);
        /* an object without spec.replicas counts as 0, as its scale subresource says */
        cr_assert_eq(cli_scale_set_replicas(bare, 1, 1, &err), -ESTALE);
        cr_expect_str_eq(err, "Expected replicas to be 1, was 0");
        err = mfree(err);
        cr_assert_eq(cli_scale_set_replicas(bare, 1, 0, &err), 0);
        cr_expect_eq(json_int(bare, "spec.replicas", -1), 1);
}

Test(cli_scale, is_synced_when_the_status_follows_or_someone_else_rescaled)
{
        static const struct {
                const char *obj;
                int64_t replicas;
                bool synced;
        } cases[] = {
            {"{\"spec\":{\"replicas\":3},\"status\":{\"replicas\":3}}", 3, true},
            {"{\"spec\":{\"replicas\":3},\"status\":{\"replicas\":2}}", 3, false},
            {"{\"spec\":{\"replicas\":3},\"status\":{}}", 3, false},
            {"{\"spec\":{\"replicas\":0},\"status\":{}}", 0, true},
            {"{\"spec\":{\"replicas\":4},\"status\":{\"replicas\":2}}", 3, true},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *obj = cJSON_Parse(cases[i].obj);

                cr_assert_not_null(obj);
                cr_expect_eq(cli_scale_synced(obj, cases[i].replicas), cases[i].synced, "case %zu", i);
        }
}

/* ---- the verb, against the in-process server ---- */

API_TEST_SUITE(cli_scale_verb);

#define STS_PATH "/apis/apps/v1/namespaces/default/statefulsets"

static char *fixture(const char *name)
{
        char *p = strjoin(getenv("CLI_FIXTURES"), "/", name, NULL);

        cr_assert_not_null(p);
        return p;
}

static void create_web(void)
{
        _cleanup_free_ char *file = fixture("statefulset-web.json"), *text = NULL;

        cr_assert_eq(read_full_file(file, 1 << 20, &text, NULL), 0, "%s", file);
        cli_test_create(&t, STS_PATH, text);
}

static cJSON *stored_web(void)
{
        cJSON *obj = NULL;

        cr_assert_eq(store_get(t.store, "StatefulSet", "default", "web", &obj), 0);
        return obj;
}

static int run_scale(void *userdata)
{
        return cli_verb_scale(userdata);
}

typedef struct ScaleCall {
        const char *replicas, *current;
        usec_t timeout;
        char *file;
        bool all;
} ScaleCall;

/* `berth scale ARGS...` with CliArgs as cli-args.c would fill them. */
static void scale(ApiTestRun *run, const ScaleCall *c, char **pos)
{
        char *files[] = {c->file};
        CliArgs a = {.socket = t.socket_path,
                     .pos = pos,
                     .files = c->file ? files : NULL,
                     .n_files = c->file ? 1 : 0,
                     .replicas = c->replicas,
                     .current_replicas = c->current,
                     .timeout = c->timeout,
                     .timeout_set = c->timeout > 0,
                     .all = c->all,
                     .tail = -1,
                     .grace_period = -1,
                     .wait = true,
                     .count = -1};

        while (a.pos[a.n_pos])
                a.n_pos++;
        api_test_run(&t, run_scale, &a, run);
}

Test(cli_scale_verb, sets_spec_replicas_and_says_so)
{
        _cleanup_json_ cJSON *before = NULL, *after = NULL;
        ApiTestRun run;

        create_web();
        before = stored_web();
        scale(&run, &(ScaleCall){.replicas = "3"}, (char *[]){"statefulset", "web", NULL});
        cli_test_expect(&run, 0, "statefulset.apps/web scaled\n", "");
        after = stored_web();
        cr_expect_eq(json_int(after, "spec.replicas", -1), 3);
        cr_expect_eq(json_int(after, "metadata.generation", 0),
                     json_int(before, "metadata.generation", 0) + 1);
        cr_expect(cJSON_Compare(json_path(after, "spec.template"), json_path(before, "spec.template"), true),
                  "the rest of the spec is kept");
}

Test(cli_scale_verb, the_agent_refuses_a_write_with_a_stale_resource_version)
{
        _cleanup_json_ cJSON *obj = NULL;
        _cleanup_free_ char *body = NULL;
        HttpReply r;

        create_web();
        obj = stored_web();
        cr_assert_not_null(json_str(obj, "metadata.resourceVersion"));
        cr_assert_eq(json_set_int(json_ensure_object(obj, "spec"), "replicas", 2), 0);
        body = json_print(obj);
        cr_assert_not_null(body);
        api_test_request(&t, "PUT", STS_PATH "/web", body, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
        /* the same resourceVersion again: the object has changed since */
        api_test_request(&t, "PUT", STS_PATH "/web", body, &r);
        cr_expect_eq(r.code, 409, "%.*s", (int)r.body_size, r.body);
        cr_expect_str_eq(json_str(r.json, "reason") ?: "?", "Conflict");
        http_reply_done(&r);
}

Test(cli_scale_verb, checks_current_replicas_and_leaves_the_object_alone_when_it_differs)
{
        _cleanup_json_ cJSON *after = NULL;
        ApiTestRun run;

        create_web();
        scale(&run, &(ScaleCall){.replicas = "3", .current = "2"}, (char *[]){"sts/web", NULL});
        cli_test_expect(&run, 1, "", "error: Expected replicas to be 2, was 1\n");
        after = stored_web();
        cr_expect_eq(json_int(after, "spec.replicas", -1), 1);
        scale(&run, &(ScaleCall){.replicas = "0", .current = "1"}, (char *[]){"sts/web", NULL});
        cli_test_expect(&run, 0, "statefulset.apps/web scaled\n", "");
}

Test(cli_scale_verb, scales_what_a_manifest_names)
{
        _cleanup_json_ cJSON *after = NULL;
        ApiTestRun run;
        _cleanup_free_ char *file = fixture("statefulset-web.json");

        create_web();
        scale(&run, &(ScaleCall){.replicas = "4", .file = file}, (char *[]){NULL});
        cli_test_expect(&run, 0, "statefulset.apps/web scaled\n", "");
        after = stored_web();
        cr_expect_eq(json_int(after, "spec.replicas", -1), 4);
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
        _cleanup_json_ cJSON *st =
            cJSON_Parse("{\"replicas\":2,\"readyReplicas\":2,\"observedGeneration\":2}");

        cr_assert_eq(store_update_status(t.store, "StatefulSet", "default", "web", st), 0);
        return 0;
}

Test(cli_scale_verb, waits_for_the_pods_with_timeout)
{
        ApiTestRun run;

        create_web();
        cr_assert_geq(sd_event_add_time_relative(t.event, NULL, CLOCK_MONOTONIC, 600 * USEC_PER_MSEC, 0,
                                                 on_status, NULL),
                      0);
        scale(&run, &(ScaleCall){.replicas = "2", .timeout = 10 * USEC_PER_SEC},
              (char *[]){"sts", "web", NULL});
        cli_test_expect(&run, 0, "statefulset.apps/web scaled\n", "");
}

Test(cli_scale_verb, gives_up_waiting_with_kubectls_error)
{
        ApiTestRun run;

        create_web();
        scale(&run, &(ScaleCall){.replicas = "2", .timeout = 500 * USEC_PER_MSEC},
              (char *[]){"sts/web", NULL});
        cli_test_expect(&run, 1, "", "error: timed out waiting for \"web\" to be synced\n");
}

Test(cli_scale_verb, refuses_kinds_without_a_scale_and_missing_objects)
{
        ApiTestRun run;

        cli_test_create(&t, "/api/v1/namespaces/default/configmaps",
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");
        scale(&run, &(ScaleCall){.replicas = "2"}, (char *[]){"configmap/c", NULL});
        cli_test_expect(&run, 1, "",
                        "Error from server (NotFound): the server could not find the requested resource\n");
        scale(&run, &(ScaleCall){.replicas = "2"}, (char *[]){"sts/nope", NULL});
        cli_test_expect(&run, 1, "", "Error from server (NotFound): statefulsets.apps \"nope\" not found\n");
        scale(&run, &(ScaleCall){.replicas = "2", .all = true}, (char *[]){"statefulsets", NULL});
        cli_test_expect(&run, 1, "", "error: no objects passed to scale\n");
}

Test(cli_scale_verb, reports_usage_errors_before_contacting_the_agent)
{
        ApiTestRun run;

        scale(&run, &(ScaleCall){.replicas = "-1"}, (char *[]){"sts/web", NULL});
        cli_test_expect(
            &run, 1, "",
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal "
            "to 0\n");
        scale(&run, &(ScaleCall){0}, (char *[]){"sts/web", NULL});
        cli_test_expect(&run, 1, "", "error: required flag(s) \"replicas\" not set\n");
        scale(&run, &(ScaleCall){.replicas = "1"}, (char *[]){NULL});
        cli_test_expect(&run, 1, "",
                        "error: You must provide one or more resources by argument or filename.\n");
        scale(&run, &(ScaleCall){.replicas = "1"}, (char *[]){"sts", NULL});
        cli_test_expect(&run, 1, "", "error: resource(s) were provided, but no name was specified\n");
}

Test(cli_scale_verb, takes_its_flags_from_the_command_line)
{
        _cleanup_json_ cJSON *after = NULL;
        ApiTestRun run;

        create_web();
        CLI_RUN(&t, &run, "scale", "--current-replicas=1", "statefulset/web", "--replicas", "2");
        cli_test_expect(&run, 0, "statefulset.apps/web scaled\n", "");
        after = stored_web();
        cr_expect_eq(json_int(after, "spec.replicas", -1), 2);
        CLI_RUN(&t, &run, "scale", "sts", "web", "--replicas=-3");
        cli_test_expect(
            &run, 1, "",
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal "
            "to 0\n");
}
