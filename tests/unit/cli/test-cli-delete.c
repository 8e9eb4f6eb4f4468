#include <criterion/criterion.h>
#include <string.h>

#include "cli-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(cli_delete);

#define CMS "/api/v1/namespaces/default/configmaps"

static void create_cm(const char *name, const char *app)
{
        _cleanup_free_ char *cm = NULL;

        cr_assert_gt(asprintf(&cm,
                              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                              "\"labels\":{\"app\":\"%s\"}},\"data\":{\"k\":\"v\"}}",
                              name, app),
                     0);
        cli_test_create(&t, CMS, cm);
}

Test(cli_delete, deletes_named_objects_and_waits_until_they_are_gone)
{
        ApiTestRun run;

        create_cm("a", "x");
        create_cm("b", "x");
        create_cm("c", "x");
        CLI_RUN(&t, &run, "delete", "configmap", "a", "b");
        cli_test_expect(&run, 0, "configmap \"a\" deleted\nconfigmap \"b\" deleted\n", "");
        cr_assert_eq(api_test_count_items(&t, CMS), 1);
}

Test(cli_delete, deletes_what_a_label_selector_matches)
{
        ApiTestRun run;

        create_cm("a", "x");
        create_cm("b", "y");
        create_cm("c", "x");
        CLI_RUN(&t, &run, "delete", "configmaps", "-l", "app=x");
        cli_test_expect(&run, 0, "configmap \"a\" deleted\nconfigmap \"c\" deleted\n", NULL);
        cr_assert_eq(api_test_count_items(&t, CMS), 1);
        cr_assert_eq(api_test_count_items(&t, CMS "?labelSelector=app%3Dy"), 1);
}

Test(cli_delete, deletes_every_object_of_a_kind_with_all)
{
        ApiTestRun run;

        create_cm("a", "x");
        create_cm("b", "y");
        CLI_RUN(&t, &run, "delete", "cm", "--all");
        cli_test_expect(&run, 0, "configmap \"a\" deleted\nconfigmap \"b\" deleted\n", NULL);
        cr_assert_eq(api_test_count_items(&t, CMS), 0);
}

Test(cli_delete, says_so_when_a_selector_matches_nothing)
{
        ApiTestRun run;

        create_cm("a", "x");
        CLI_RUN(&t, &run, "delete", "configmaps", "-l", "app=none");
        cli_test_expect(&run, 0, "", "No resources found\n");
        cr_assert_eq(api_test_count_items(&t, CMS), 1);
}

Test(cli_delete, reports_a_missing_object_and_fails)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "delete", "configmap", "nope");
        cli_test_expect(&run, 1, "", "Error from server (NotFound): configmaps \"nope\" not found\n");
}

Test(cli_delete, ignores_a_missing_object_when_asked)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "delete", "configmap", "nope", "--ignore-not-found");
        cli_test_expect(&run, 0, "", "");
}

Test(cli_delete, needs_a_name_a_selector_or_all)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "delete", "configmaps");
        cli_test_expect(&run, 1, NULL, "error: resource(s) were provided, but no name was specified\n");
}

#define SECRETS "/api/v1/namespaces/default/secrets"

static void create_secret(const char *name)
{
        _cleanup_free_ char *s = NULL;

        cr_assert_gt(asprintf(&s,
                              "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"%s\"},"
                              "\"stringData\":{\"k\":\"v\"}}",
                              name),
                     0);
        cli_test_create(&t, SECRETS, s);
}

Test(cli_delete, deletes_the_name_of_each_comma_separated_kind)
{
        ApiTestRun run;

        create_cm("web", "x");
        create_cm("db", "x");
        create_secret("web");
        CLI_RUN(&t, &run, "delete", "configmaps,secrets", "web");
        cli_test_expect(&run, 0, "configmap \"web\" deleted\nsecret \"web\" deleted\n", "");
        cr_assert_eq(api_test_count_items(&t, CMS), 1);
        cr_assert_eq(api_test_count_items(&t, SECRETS), 0);
}

Test(cli_delete, deletes_every_object_of_comma_separated_kinds_with_all)
{
        ApiTestRun run;

        create_cm("a", "x");
        create_secret("s");
        CLI_RUN(&t, &run, "delete", "cm,secret", "--all");
        cli_test_expect(&run, 0, "configmap \"a\" deleted\nsecret \"s\" deleted\n", NULL);
        cr_assert_eq(api_test_count_items(&t, CMS), 0);
        cr_assert_eq(api_test_count_items(&t, SECRETS), 0);
        /* an unknown kind among them is refused before anything is deleted */
        create_cm("b", "x");
        CLI_RUN(&t, &run, "delete", "cm,bogus", "--all");
        cr_assert_eq(run.status, 1);
        cr_assert_eq(api_test_count_items(&t, CMS), 1);
}
