#include <criterion/criterion.h>

#include "job-internal.h"
#include "json-util.h"

#define POD                                                                                                 \
        "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"p\"},\"status\":{\"phase\":\"Failed\","             \
        "\"conditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}],"                             \
        "\"containerStatuses\":[{\"name\":\"ok\",\"state\":{\"terminated\":{\"exitCode\":0}}},"             \
        "{\"name\":\"main\",\"state\":{\"terminated\":{\"exitCode\":42}}}]}}"

static int match(const char *policy, char **msg)
{
        _cleanup_json_ cJSON *p = cJSON_Parse(policy), *pod = cJSON_Parse(POD);

        cr_assert_not_null(p);
        return job_policy_match(p, pod, msg);
}

Test(job_policy, fails_the_job_on_a_matching_exit_code_with_the_kubernetes_message)
{
        _cleanup_free_ char *msg = NULL;

        cr_assert_eq(
            match("{\"rules\":[{\"action\":\"Ignore\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}},"
                  "{\"action\":\"FailJob\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[42]}}]}",
                  &msg),
            JOB_FAILURE_FAIL_JOB);
        cr_assert_str_eq(
            msg, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1");
}

Test(job_policy, not_in_ignores_zero_exit_codes_and_honours_container_name)
{
        cr_assert_eq(match("{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"containerName\":\"ok\","
                           "\"operator\":\"NotIn\",\"values\":[1]}}]}",
                           NULL),
                     JOB_FAILURE_NO_MATCH);
        cr_assert_eq(match("{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\","
                           "\"values\":[1]}}]}",
                           NULL),
                     JOB_FAILURE_COUNT);
}

Test(job_policy, matches_pod_conditions_with_default_status_true)
{
        _cleanup_free_ char *msg = NULL;

        cr_assert_eq(match("{\"rules\":[{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":"
                           "\"DisruptionTarget\"}]}]}",
                           NULL),
                     JOB_FAILURE_IGNORE);
        cr_assert_eq(
            match("{\"rules\":[{\"action\":\"FailJob\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\","
                  "\"status\":\"True\"}]}]}",
                  &msg),
            JOB_FAILURE_FAIL_JOB);
        cr_assert_str_eq(msg, "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0");
}

Test(job_policy, skips_unknown_actions_and_operators)
{
        cr_assert_eq(
            match(
                "{\"rules\":[{\"action\":\"Explode\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[42]}},"
                "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"Maybe\",\"values\":[42]}}]}",
                NULL),
            JOB_FAILURE_NO_MATCH);
        cr_assert_eq(match("{\"rules\":\"garbage\"}", NULL), JOB_FAILURE_NO_MATCH);
}
