/* Tests of DaemonSet defaulting and validation (daemonset.c). */
#include "workload-test.h"

Test(daemonset, defaults_rolling_update_and_history)
{
        _cleanup_json_ cJSON *o = fixture("daemonset-basic.json");

        cr_assert_eq(daemonset_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "spec.updateStrategy.type"), "RollingUpdate");
        cr_assert_eq(json_int(o, "spec.updateStrategy.rollingUpdate.maxUnavailable", -1), 1);
        cr_assert_eq(json_int(o, "spec.updateStrategy.rollingUpdate.maxSurge", -1), 0);
        cr_assert_eq(json_int(o, "spec.revisionHistoryLimit", -1), 10);
        expect_valid(o, NULL, daemonset_validate);
}

Test(daemonset, on_delete_gets_no_rolling_update_defaults)
{
        _cleanup_json_ cJSON *o =
            patched("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"}}}");

        cr_assert_eq(daemonset_set_defaults(o), 0);
        cr_assert_null(json_path(o, "spec.updateStrategy.rollingUpdate"));
        expect_valid(o, NULL, daemonset_validate);
}

Test(daemonset, selector_must_match_template_labels)
{
        expect_patch_errors(
            "daemonset-basic.json", "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}}}",
            daemonset_set_defaults, daemonset_validate,
            "spec.template.metadata.labels: Invalid value: {\"app\":\"agent\"}: `selector` does "
            "not match template `labels`");
        expect_patch_errors("daemonset-basic.json", "{\"spec\":{\"selector\":null}}", daemonset_set_defaults,
                            daemonset_validate, "spec.selector: Required value");
}

Test(daemonset, template_must_restart_always)
{
        expect_patch_errors(
            "daemonset-basic.json", "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\"}}}}",
            daemonset_set_defaults, daemonset_validate,
            "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: "
            "\"Always\"");
}

Test(daemonset, surge_and_unavailable_cannot_both_be_zero_or_both_set)
{
        expect_patch_errors(
            "daemonset-basic.json",
            "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
            "\"maxUnavailable\":\"0%\",\"maxSurge\":0}}}}",
            daemonset_set_defaults, daemonset_validate,
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
            "maxSurge is 0");
        expect_patch_errors(
            "daemonset-basic.json",
            "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
            "\"maxUnavailable\":1,\"maxSurge\":\"10%\"}}}}",
            daemonset_set_defaults, daemonset_validate,
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"10%\": may not be set "
            "when maxUnavailable is non-zero");
        expect_patch_valid("daemonset-basic.json",
                           "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
                           "\"maxUnavailable\":0,\"maxSurge\":\"25%\"}}}}",
                           daemonset_set_defaults, daemonset_validate);
        expect_patch_errors(
            "daemonset-basic.json",
            "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"150%\"}}}}",
            daemonset_set_defaults, daemonset_validate,
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not "
            "be greater than 100%");
}

Test(daemonset, rejects_unknown_strategy)
{
        expect_patch_errors("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"type\":\"Blue\"}}}",
                            daemonset_set_defaults, daemonset_validate,
                            "spec.updateStrategy: Unsupported value: {\"type\":\"Blue\"}: supported values: "
                            "\"RollingUpdate\", \"OnDelete\"");
}

Test(daemonset, selector_is_immutable)
{
        _cleanup_json_ cJSON *old = fixture("daemonset-basic.json");
        _cleanup_json_ cJSON *n =
            patched("daemonset-basic.json", "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"b\"}}}}");
        _cleanup_json_ cJSON *same = patched("daemonset-basic.json", "{\"spec\":{\"minReadySeconds\":5}}");

        expect_update_errors(
            n, old, daemonset_validate_update,
            "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"b\"}}: field is immutable");
        expect_update_valid(same, old, daemonset_validate_update);
}

Test(daemonset, survives_fields_of_the_wrong_type)
{
        static const char *const patches[] = {
            "{\"spec\":{\"updateStrategy\":{\"type\":3,\"rollingUpdate\":\"x\"}}}",
            "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxSurge\":true,\"maxUnavailable\":\"%\"}}}"
            "}",
            "{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":1}]},\"template\":5}}",
            NULL,
        };

        survive_patches("daemonset-basic.json", daemonset_set_defaults, daemonset_validate, patches);
}
