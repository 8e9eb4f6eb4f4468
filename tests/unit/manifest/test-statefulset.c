/* Tests of StatefulSet defaulting and validation (statefulset.c). */
#include "workload-test.h"

Test(statefulset, defaults_policies_replicas_and_history)
{
        _cleanup_json_ cJSON *o = fixture("statefulset-basic.json");

        cr_assert_eq(statefulset_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "spec.podManagementPolicy"), "OrderedReady");
        cr_assert_str_eq(json_str(o, "spec.updateStrategy.type"), "RollingUpdate");
        cr_assert_eq(json_int(o, "spec.updateStrategy.rollingUpdate.partition", -1), 0);
        cr_assert_eq(json_int(o, "spec.replicas", -1), 1);
        cr_assert_eq(json_int(o, "spec.revisionHistoryLimit", -1), 10);
        cr_assert_str_eq(json_str(o, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "Retain");
        cr_assert_str_eq(json_str(o, "spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Retain");
        cr_assert_str_eq(json_str(o, "spec.template.spec.restartPolicy"), "Always");
}

Test(statefulset, accepts_claim_volume_mounts)
{
        _cleanup_json_ cJSON *o = fixture("statefulset-basic.json");

        expect_valid(o, statefulset_set_defaults, statefulset_validate);
}

Test(statefulset, selector_is_required_and_must_match)
{
        _cleanup_json_ cJSON *c = patched("statefulset-basic.json", "{\"spec\":{\"selector\":null}}");

        cr_assert_eq(json_set(json_path(c, "spec"), "selector", cJSON_CreateObject()), 0);

        expect_patch_errors("statefulset-basic.json", "{\"spec\":{\"selector\":null}}",
                            statefulset_set_defaults, statefulset_validate, "spec.selector: Required value");
        expect_patch_errors(
            "statefulset-basic.json", "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"db\"}}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not "
            "match template `labels`");
        expect_errors(c, statefulset_set_defaults, statefulset_validate,
                      "spec.selector: Invalid value: {}: empty selector is invalid for statefulset");
}

Test(statefulset, validates_policies_strategy_and_counts)
{
        expect_patch_errors(
            "statefulset-basic.json",
            "{\"spec\":{\"podManagementPolicy\":\"Random\",\"replicas\":-1,\"minReadySeconds\":-1,"
            "\"ordinals\":{\"start\":-1},"
            "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":-1,"
            "\"maxUnavailable\":0}},"
            "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Keep\"}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
            "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0",
            "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than "
            "or equal to 0",
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0",
            "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": "
            "supported values: \"Retain\", \"Delete\"");
}

Test(statefulset, max_unavailable_takes_percentages)
{
        expect_patch_valid("statefulset-basic.json",
                           "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\","
                           "\"rollingUpdate\":{\"maxUnavailable\":\"50%\"}}}}",
                           statefulset_set_defaults, statefulset_validate);
        expect_patch_errors(
            "statefulset-basic.json",
            "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\","
            "\"rollingUpdate\":{\"maxUnavailable\":\"half\"}}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"half\": a valid "
            "percent string must be "
            "a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
            "validation is '[0-9]+%')");
}

Test(statefulset, on_delete_takes_no_rolling_update_and_unknown_types_fail)
{
        expect_patch_errors(
            "statefulset-basic.json",
            "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\",\"rollingUpdate\":{\"partition\":1}}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for "
            "updateStrategy 'RollingUpdate'");
        expect_patch_errors(
            "statefulset-basic.json", "{\"spec\":{\"updateStrategy\":{\"type\":\"Recreate\"}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.updateStrategy: Invalid value: {\"type\":\"Recreate\"}: must be 'RollingUpdate' "
            "or 'OnDelete'");
}

Test(statefulset, template_must_restart_always)
{
        expect_patch_errors(
            "statefulset-basic.json",
            "{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":"
            "\"Never\",\"activeDeadlineSeconds\":5}}}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
            "StatefulSet is not Supported");
}

Test(statefulset, claim_templates_need_a_name_access_modes_and_storage)
{
        expect_patch_errors(
            "statefulset-basic.json", "{\"spec\":{\"volumeClaimTemplates\":[{\"spec\":{}}]}}",
            statefulset_set_defaults, statefulset_validate,
            "spec.volumeClaimTemplates[0].metadata.name: Required value: name or generateName is required",
            "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode "
            "is required",
            "spec.volumeClaimTemplates[0].spec.resources[storage]: Required value");
}

Test(statefulset, names_must_be_dns_labels)
{
        expect_patch_errors(
            "statefulset-basic.json", "{\"metadata\":{\"name\":\"web.v1\"}}", statefulset_set_defaults,
            statefulset_validate,
            "metadata.name: Invalid value: \"web.v1\": a lowercase RFC 1123 label must consist of lower "
            "case "
            "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
            "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

Test(statefulset, update_allows_only_listed_fields)
{
        _cleanup_json_ cJSON *old = fixture("statefulset-basic.json");
        _cleanup_json_ cJSON *ok = patched(
            "statefulset-basic.json",
            "{\"spec\":{\"replicas\":5,\"minReadySeconds\":3,\"ordinals\":{\"start\":2},"
            "\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:2\"}]}}}}");
        _cleanup_json_ cJSON *bad =
            patched("statefulset-basic.json", "{\"spec\":{\"serviceName\":\"other\"}}");

        cr_assert_eq(statefulset_set_defaults(old), 0);
        cr_assert_eq(statefulset_set_defaults(ok), 0);
        cr_assert_eq(statefulset_set_defaults(bad), 0);
        expect_update_valid(ok, old, statefulset_validate_update);
        expect_update_errors(
            bad, old, statefulset_validate_update,
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
            "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
            "are forbidden");
}

Test(statefulset, survives_fields_of_the_wrong_type)
{
        static const char *const patches[] = {
            "{\"spec\":{\"updateStrategy\":\"x\",\"persistentVolumeClaimRetentionPolicy\":1}}",
            "{\"spec\":{\"volumeClaimTemplates\":{\"a\":1},\"template\":{\"spec\":{\"volumes\":5}}}}",
            "{\"spec\":{\"volumeClaimTemplates\":[1,{\"metadata\":{\"name\":7},\"spec\":\"x\"}]}}",
            "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":[]}},\"ordinals\":\"x\"}}",
            NULL,
        };

        survive_patches("statefulset-basic.json", statefulset_set_defaults, statefulset_validate, patches);
}
