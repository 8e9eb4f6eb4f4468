#include <criterion/criterion.h>
#include <string.h>

#include "cli-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(cli_get);

static void create_pod(const char *name, const char *app)
{
        _cleanup_free_ char *pod = api_test_pod(name, app);

        cli_test_create(&t, "/api/v1/namespaces/default/pods", pod);
}

Test(cli_get, prints_pods_as_a_table_sorted_by_name)
{
        ApiTestRun run;
        char *l2, *l3;

        create_pod("web", "web");
        create_pod("db", "db");
        CLI_RUN(&t, &run, "get", "pods");
        cr_assert_eq(run.status, 0, "%s", run.err);
        cr_assert_str_eq(run.err, "");
        /* AGE is the last column: compare what comes before it */
        cr_assert(startswith(run.out, "NAME   READY   STATUS   RESTARTS   AGE\n"), "%s", run.out);
        l2 = strchr(run.out, '\n') + 1;
        l3 = strchr(l2, '\n') + 1;
        cr_assert(startswith(l2, "db     0/1              0          "), "%s", run.out);
        cr_assert(startswith(l3, "web    0/1              0          "), "%s", run.out);
        cr_assert_eq(strspn(strchr(l3, '\n'), "\n"), strlen(strchr(l3, '\n')), "%s", run.out);
        api_test_run_done(&run);
}

Test(cli_get, filters_by_label_selector_and_prints_names)
{
        ApiTestRun run;

        create_pod("a", "web");
        create_pod("b", "db");
        create_pod("c", "web");
        CLI_RUN(&t, &run, "get", "pods", "-l", "app=web", "-o", "name");
        cli_test_expect(&run, 0, "pod/a\npod/c\n", NULL);
}

Test(cli_get, prints_one_named_object_as_json)
{
        _cleanup_json_ cJSON *j = NULL;
        ApiTestRun run;

        create_pod("web", "web");
        CLI_RUN(&t, &run, "get", "pod/web", "-o", "json");
        cr_assert_eq(run.status, 0, "%s", run.err);
        j = cJSON_Parse(run.out);
        cr_assert_not_null(j, "%s", run.out);
        cr_assert_str_eq(json_str(j, "kind"), "Pod");
        cr_assert_str_eq(json_str(j, "metadata.name"), "web");
        cr_assert_str_eq(json_str(j, "metadata.labels.app"), "web");
        api_test_run_done(&run);
}

Test(cli_get, says_so_when_a_namespace_has_no_objects)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "get", "pods", "-n", "empty");
        cli_test_expect(&run, 0, "", "No resources found in empty namespace.\n");
}

Test(cli_get, reports_a_missing_object_like_kubectl_and_fails)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "get", "pods", "nope");
        cli_test_expect(&run, 1, "", "Error from server (NotFound): pods \"nope\" not found\n");
}

Test(cli_get, ignores_a_missing_object_when_asked)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "get", "pods", "nope", "--ignore-not-found");
        cli_test_expect(&run, 0, "", "");
}

Test(cli_get, reports_a_malformed_selector_from_the_server)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "get", "pods", "-l", "app in (");
        cr_assert_eq(run.status, 1);
        cr_assert(startswith(run.err, "Error from server (BadRequest): "), "%s", run.err);
        api_test_run_done(&run);
}

Test(cli_get, lists_several_kinds_and_all_with_kind_prefixed_names)
{
        ApiTestRun run;

        create_pod("web", "web");
        cli_test_create(&t, "/api/v1/namespaces/default/configmaps",
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"}}");
        CLI_RUN(&t, &run, "get", "po,cm", "-o", "name");
        cli_test_expect(&run, 0, "pod/web\nconfigmap/cfg\n", NULL);

        CLI_RUN(&t, &run, "get", "all");
        cr_assert_eq(run.status, 0, "%s", run.err);
        cr_assert(startswith(run.out, "NAME      READY   STATUS   RESTARTS   AGE\npod/web   0/1"), "%s",
                  run.out);
        cr_assert_null(strstr(run.out, "configmap/"), "%s", run.out); /* not in the "all" category */
        api_test_run_done(&run);

        CLI_RUN(&t, &run, "get", "po,cm", "web");
        cr_assert_eq(run.status, 1);
        cr_assert_str_eq(run.err, "error: names cannot be given with several resource types\n");
        api_test_run_done(&run);
}
