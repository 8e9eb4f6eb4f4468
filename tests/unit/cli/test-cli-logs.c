#include <criterion/criterion.h>
#include <string.h>

#include "cli-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(cli_logs);

#define LINE1 "2024-05-01T10:00:00.000000001Z stdout F hello\n"
#define LINE2 "2024-05-01T10:00:01.000000001Z stderr F world\n"

Test(cli_logs, prints_the_log_of_the_only_container)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        ApiTestRun run;

        api_test_write_log(&t, pod, "main", 0, LINE1 LINE2);
        CLI_RUN(&t, &run, "logs", "web");
        cli_test_expect(&run, 0, "hello\nworld\n", "");
}

Test(cli_logs, keeps_the_last_lines_with_tail_and_accepts_pod_slash_name)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        ApiTestRun run;

        api_test_write_log(&t, pod, "main", 0, LINE1 LINE2);
        CLI_RUN(&t, &run, "logs", "pod/web", "--tail=1");
        cli_test_expect(&run, 0, "world\n", NULL);
}

Test(cli_logs, defaults_to_the_first_of_several_containers_with_a_notice)
{
        static const char *const names[] = {"a", "b"};
        static const int restarts[] = {0, 0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 2);
        ApiTestRun run;

        api_test_write_log(&t, pod, "a", 0, LINE1);
        api_test_write_log(&t, pod, "b", 0, LINE2);
        CLI_RUN(&t, &run, "logs", "web");
        cli_test_expect(&run, 0, "hello\n", "Defaulted container \"a\" out of: a, b\n");

        CLI_RUN(&t, &run, "logs", "web", "-c", "b");
        cli_test_expect(&run, 0, "world\n", "");
}

Test(cli_logs, prints_the_previous_attempt_with_previous)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {1};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        ApiTestRun run;

        api_test_write_log(&t, pod, "main", 0, LINE1);
        api_test_write_log(&t, pod, "main", 1, LINE2);
        CLI_RUN(&t, &run, "logs", "web", "-p");
        cli_test_expect(&run, 0, "hello\n", NULL);
}

Test(cli_logs, reports_a_missing_pod_and_fails)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "logs", "nope");
        cli_test_expect(&run, 1, "", "Error from server (NotFound): pods \"nope\" not found\n");
}

Test(cli_logs, refuses_the_logs_of_other_kinds)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "logs", "configmap/web");
        cli_test_expect(&run, 1, NULL, "error: cannot get the logs of a ConfigMap, only of pods\n");
}
