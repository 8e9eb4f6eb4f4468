/* Tests of Job defaulting and validation (job.c). */
#include "workload-test.h"

Test(job, defaults_completions_parallelism_backoff_and_modes)
{
        _cleanup_json_ cJSON *o = fixture("job-basic.json");

        cr_assert_eq(job_set_defaults(o), 0);
        cr_assert_eq(json_int(o, "spec.completions", -1), 1);
        cr_assert_eq(json_int(o, "spec.parallelism", -1), 1);
        cr_assert_eq(json_int(o, "spec.backoffLimit", -1), 6);
        cr_assert_str_eq(json_str(o, "spec.completionMode"), "NonIndexed");
        cr_assert_str_eq(json_str(o, "spec.podReplacementPolicy"), "TerminatingOrFailed");
        cr_assert_eq(json_bool(o, "spec.suspend", true), false);
        cr_assert_eq(json_bool(o, "spec.manualSelector", true), false);
        cr_assert_str_eq(json_str(o, "metadata.labels.app"), "pi");
        cr_assert_null(json_path(o, "spec.selector"));
}

Test(job, keeps_completions_unset_for_a_work_queue)
{
        _cleanup_json_ cJSON *o =
            patched("job-basic.json", "{\"spec\":{\"parallelism\":3,\"backoffLimitPerIndex\":1}}");

        cr_assert_eq(job_set_defaults(o), 0);
        cr_assert_null(json_path(o, "spec.completions"));
        cr_assert_eq(json_int(o, "spec.parallelism", -1), 3);
        cr_assert_eq(json_int(o, "spec.backoffLimit", -1), 2147483647);
}

Test(job, defaults_replacement_policy_and_condition_status_with_pod_failure_policy)
{
        _cleanup_json_ cJSON *o =
            patched("job-basic.json", "{\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\","
                                      "\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]}]}}}");

        cr_assert_eq(job_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "spec.podReplacementPolicy"), "Failed");
        cr_assert_str_eq(
            json_str(cJSON_GetArrayItem(
                         json_path(cJSON_GetArrayItem(json_path(o, "spec.podFailurePolicy.rules"), 0),
                                   "onPodConditions"),
                         0),
                     "status"),
            "True");
        expect_valid(o, NULL, job_validate);
}

Test(job, generates_the_selector_once_the_uid_is_known)
{
        _cleanup_json_ cJSON *o = patched("job-basic.json", "{\"metadata\":{\"uid\":\"1234\"}}");

        cr_assert_eq(job_set_defaults(o), 0);
        cr_assert_str_eq(cJSON_GetObjectItem(json_path(o, "spec.selector.matchLabels"),
                                             "batch.kubernetes.io/controller-uid")
                             ->valuestring,
                         "1234");
        cr_assert_str_eq(cJSON_GetObjectItem(json_path(o, "spec.template.metadata.labels"), "controller-uid")
                             ->valuestring,
                         "1234");
        cr_assert_str_eq(cJSON_GetObjectItem(json_path(o, "spec.template.metadata.labels"),
                                             "batch.kubernetes.io/job-name")
                             ->valuestring,
                         "pi");
        expect_valid(o, NULL, job_validate);
}

Test(job, accepts_the_basic_fixture)
{
        _cleanup_json_ cJSON *o = fixture("job-basic.json");

        expect_valid(o, job_set_defaults, job_validate);
}

Test(job, rejects_restart_policy_always_and_unset)
{
        const char *msg =
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
            "\"OnFailure\", \"Never\"";

        expect_patch_errors("job-basic.json",
                            "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Always\"}}}}",
                            job_set_defaults, job_validate, msg);
        expect_patch_errors("job-basic.json",
                            "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":null}}}}",
                            job_set_defaults, job_validate, msg);
}

Test(job, rejects_negative_counts)
{
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"parallelism\":-1,\"completions\":-2,\"backoffLimit\":-3,"
            "\"activeDeadlineSeconds\":-4,\"ttlSecondsAfterFinished\":-5}}",
            job_set_defaults, job_validate,
            "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
            "spec.completions: Invalid value: -2: must be greater than or equal to 0",
            "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
            "spec.activeDeadlineSeconds: Invalid value: -4: must be greater than or equal to 0",
            "spec.ttlSecondsAfterFinished: Invalid value: -5: must be greater than or equal to 0");
}

Test(job, indexed_mode_requires_completions)
{
        expect_patch_errors("job-basic.json",
                            "{\"spec\":{\"completionMode\":\"Indexed\",\"parallelism\":2}}",
                            job_set_defaults, job_validate,
                            "spec.completions: Required value: when completion mode is Indexed");
}

Test(job, rejects_unknown_completion_mode)
{
        expect_patch_errors(
            "job-basic.json", "{\"spec\":{\"completionMode\":\"Sorted\"}}", job_set_defaults, job_validate,
            "spec.completionMode: Unsupported value: \"Sorted\": supported values: \"NonIndexed\", "
            "\"Indexed\"");
}

Test(job, per_index_limits_need_indexed_mode_and_fit_completions)
{
        expect_patch_errors("job-basic.json",
                            "{\"spec\":{\"backoffLimitPerIndex\":1,\"maxFailedIndexes\":1}}",
                            job_set_defaults, job_validate,
                            "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
                            "spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode");
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3,\"maxFailedIndexes\":4}}",
            job_set_defaults, job_validate,
            "spec.maxFailedIndexes: Invalid value: 4: must be less than or equal to completions",
            "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified");
}

Test(job, indexed_pod_hostnames_must_be_dns_labels)
{
        expect_patch_errors(
            "job-basic.json",
            "{\"metadata\":{\"name\":\"a.b\"},\"spec\":{\"completionMode\":\"Indexed\",\"completions\":3}}",
            job_set_defaults, job_validate,
            "metadata.name: Invalid value: \"a.b\": will not able to create pod with invalid DNS "
            "label: a.b-2");
}

Test(job, validates_pod_failure_policy_rules)
{
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"podFailurePolicy\":{\"rules\":["
            "{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[0,3,2,3]}},"
            "{\"action\":\"Explode\",\"onExitCodes\":{\"operator\":\"Between\",\"containerName\":"
            "\"nope\",\"values\":[1]}},"
            "{\"action\":\"Ignore\"},"
            "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[0]},"
            "\"onPodConditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"Maybe\"}]}]}}}",
            job_set_defaults, job_validate,
            "spec.podFailurePolicy.rules[0].action: Invalid value: \"FailIndex\": requires the "
            "backoffLimitPerIndex to be set",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the "
            "In operator",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[3]: Duplicate value: 3",
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,2,3]: must be ordered",
            "spec.podFailurePolicy.rules[1].action: Unsupported value: \"Explode\": supported values: "
            "\"Count\", \"FailIndex\", \"FailJob\", \"Ignore\"",
            "spec.podFailurePolicy.rules[1].onExitCodes.operator: Unsupported value: \"Between\": supported "
            "values: \"In\", \"NotIn\"",
            "spec.podFailurePolicy.rules[1].onExitCodes.containerName: Invalid value: \"nope\": must be one "
            "of the container or initContainer names in the pod template",
            "spec.podFailurePolicy.rules[2]: Invalid value: specifying one of OnExitCodes and "
            "OnPodConditions is required",
            "spec.podFailurePolicy.rules[3]: Invalid value: specifying both OnExitCodes and OnPodConditions "
            "is not supported",
            "spec.podFailurePolicy.rules[3].onPodConditions[0].status: Unsupported value: \"Maybe\": "
            "supported values: \"False\", \"True\", \"Unknown\"");
}

Test(job, pod_failure_policy_allows_only_never)
{
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\"}},"
            "\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailJob\","
            "\"onExitCodes\":{\"operator\":\"In\",\"values\":[42]}}]}}}",
            job_set_defaults, job_validate,
            "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is "
            "supported when podFailurePolicy is specified");
}

Test(job, too_many_exit_codes_are_rejected)
{
        _cleanup_json_ cJSON *o =
            patched("job-basic.json", "{\"spec\":{\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailJob\","
                                      "\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[]}}]}}}");
        cJSON *values = json_path(cJSON_GetArrayItem(json_path(o, "spec.podFailurePolicy.rules"), 0),
                                  "onExitCodes.values");

        for (int i = 1; i <= 256; i++)
                cJSON_AddItemToArray(values, cJSON_CreateNumber(i));
        expect_errors(
            o, job_set_defaults, job_validate,
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Too many: 256: must have at most 255 items");
}

Test(job, success_policy_needs_indexed_mode_and_valid_indexes)
{
        expect_patch_errors(
            "job-basic.json", "{\"spec\":{\"successPolicy\":{\"rules\":[{\"succeededCount\":1}]}}}",
            job_set_defaults, job_validate,
            "spec.successPolicy: Invalid value: {\"rules\":[{\"succeededCount\":1}]}: requires "
            "indexed completion mode");
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":5,\"successPolicy\":{\"rules\":["
            "{\"succeededIndexes\":\"0-2,4\",\"succeededCount\":5},{\"succeededIndexes\":\"3,1\"},{}]}}}",
            job_set_defaults, job_validate,
            "spec.successPolicy.rules[0].succeededCount: Invalid value: 5: must be less than or "
            "equal to 4 (the number of indexes in the specified succeededIndexes field)",
            "spec.successPolicy.rules[1].succeededIndexes: Invalid value: \"3,1\": error parsing "
            "succeededIndexes: non-increasing order, previous: 3, current: 1",
            "spec.successPolicy.rules[2]: Required value: at least one of succeededCount or "
            "succeededIndexes must be specified");
}

Test(job, user_selector_must_match_template_labels)
{
        expect_patch_errors(
            "job-basic.json",
            "{\"spec\":{\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"app\":\"other\"}}}}",
            job_set_defaults, job_validate,
            "spec.template.metadata.labels: Invalid value: {\"app\":\"pi\"}: `selector` does not "
            "match template `labels`");
}

Test(job, selector_expressions_are_matched)
{
        expect_patch_valid("job-basic.json",
                           "{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"app\","
                           "\"operator\":\"In\",\"values\":[\"pi\",\"tau\"]},"
                           "{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}}}",
                           job_set_defaults, job_validate);
}

Test(job, update_keeps_template_selector_and_completions)
{
        _cleanup_json_ cJSON *old = fixture("job-basic.json");
        _cleanup_json_ cJSON *n =
            patched("job-basic.json", "{\"spec\":{\"completions\":4,\"completionMode\":\"Indexed\","
                                      "\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\"}}}}");
        _cleanup_json_ cJSON *same = fixture("job-basic.json");

        cr_assert_eq(job_set_defaults(old), 0);
        cr_assert_eq(job_set_defaults(n), 0);
        cr_assert_eq(job_set_defaults(same), 0);
        cr_assert_eq(json_set_bool(json_path(same, "spec"), "suspend", true), 0);
        expect_update_errors(
            n, old, job_validate_update,
            "spec.completionMode: Invalid value: \"Indexed\": field is immutable",
            "spec.completions: Invalid value: 4: can only be modified in tandem with spec.parallelism");
        expect_update_valid(same, old, job_validate_update);
        cJSON *tmpl = json_path(n, "spec.template");
        cr_assert(tmpl);
        FieldErrors e;
        field_errors_init(&e);
        job_validate_update(n, old, &e);
        bool found = false;
        for (size_t i = 0; i < e.n; i++)
                found = found || (streq(e.items[i].path, "spec.template") &&
                                  streq(e.items[i].detail, "field is immutable"));
        field_errors_done(&e);
        cr_assert(found);
}

Test(job, survives_fields_of_the_wrong_type)
{
        static const char *const patches[] = {
            "{\"spec\":\"nope\"}",
            "{\"spec\":{\"template\":[]}}",
            "{\"spec\":{\"completions\":\"3\",\"parallelism\":1.5,\"completionMode\":7}}",
            "{\"spec\":{\"podFailurePolicy\":{\"rules\":{}}}}",
            "{\"spec\":{\"podFailurePolicy\":{\"rules\":[7,{\"onExitCodes\":{\"values\":\"x\"},"
            "\"onPodConditions\":3}]}}}",
            "{\"spec\":{\"completionMode\":\"Indexed\",\"completions\":2,\"successPolicy\":{\"rules\":[{"
            "\"succeededIndexes\":\"1-2-3,x,,-\"}]}}}",
            "{\"spec\":{\"selector\":\"app=pi\"}}",
            "{\"metadata\":{\"labels\":\"x\",\"uid\":5}}",
            NULL,
        };

        survive_patches("job-basic.json", job_set_defaults, job_validate, patches);
}
