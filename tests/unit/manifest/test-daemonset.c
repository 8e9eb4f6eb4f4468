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
        _cleanup_json_ cJSON *a =
            patched("daemonset-basic.json", "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}}}");
        _cleanup_json_ cJSON *b = patched("daemonset-basic.json", "{\"spec\":{\"selector\":null}}");

        expect_error(a, daemonset_set_defaults, daemonset_validate,
                     "spec.template.metadata.labels: Invalid value: {\"app\":\"agent\"}: `selector` does "
                     "not match template `labels`");
        expect_error(b, daemonset_set_defaults, daemonset_validate, "spec.selector: Required value");
}

Test(daemonset, template_must_restart_always)
{
        _cleanup_json_ cJSON *o =
            patched("daemonset-basic.json",
                    "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\"}}}}");

        expect_error(o, daemonset_set_defaults, daemonset_validate,
                     "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: "
                     "\"Always\"");
}

Test(daemonset, surge_and_unavailable_cannot_both_be_zero_or_both_set)
{
        _cleanup_json_ cJSON *zero =
            patched("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
                                            "\"maxUnavailable\":\"0%\",\"maxSurge\":0}}}}");
        _cleanup_json_ cJSON *both =
            patched("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
                                            "\"maxUnavailable\":1,\"maxSurge\":\"10%\"}}}}");
        _cleanup_json_ cJSON *surge =
            patched("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{"
                                            "\"maxUnavailable\":0,\"maxSurge\":\"25%\"}}}}");
        _cleanup_json_ cJSON *big =
            patched("daemonset-basic.json",
                    "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"150%\"}}}}");

        expect_error(zero, daemonset_set_defaults, daemonset_validate,
                     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
                     "maxSurge is 0");
        expect_error(both, daemonset_set_defaults, daemonset_validate,
                     "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"10%\": may not be set "
                     "when maxUnavailable is non-zero");
        expect_valid(surge, daemonset_set_defaults, daemonset_validate);
        expect_error(big, daemonset_set_defaults, daemonset_validate,
                     "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not "
                     "be greater than 100%");
}

Test(daemonset, rejects_unknown_strategy)
{
        _cleanup_json_ cJSON *o =
            patched("daemonset-basic.json", "{\"spec\":{\"updateStrategy\":{\"type\":\"Blue\"}}}");

        expect_error(o, daemonset_set_defaults, daemonset_validate,
                     "spec.updateStrategy: Unsupported value: {\"type\":\"Blue\"}: supported values: "
                     "\"RollingUpdate\", \"OnDelete\"");
}

Test(daemonset, selector_is_immutable)
{
        _cleanup_json_ cJSON *old = fixture("daemonset-basic.json");
        _cleanup_json_ cJSON *n =
            patched("daemonset-basic.json", "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"b\"}}}}");
        _cleanup_json_ cJSON *same = patched("daemonset-basic.json", "{\"spec\":{\"minReadySeconds\":5}}");

        expect_update_error(
            n, old, daemonset_validate_update,
            "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"b\"}}: field is immutable");
        expect_update_error(same, old, daemonset_validate_update, (const char *)NULL);
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
