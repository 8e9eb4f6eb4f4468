/* Tests of CronJob defaulting and validation (cronjob.c). */
#include "workload-test.h"

Test(cronjob, defaults_policy_suspend_and_history_limits)
{
        _cleanup_json_ cJSON *o = fixture("cronjob-basic.json");

        cr_assert_eq(cronjob_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "spec.concurrencyPolicy"), "Allow");
        cr_assert_eq(json_bool(o, "spec.suspend", true), false);
        cr_assert_eq(json_int(o, "spec.successfulJobsHistoryLimit", -1), 3);
        cr_assert_eq(json_int(o, "spec.failedJobsHistoryLimit", -1), 1);
        cr_assert_null(json_path(o, "spec.startingDeadlineSeconds"));
        cr_assert_null(json_path(o, "spec.timeZone"));
        /* Job-level defaults are not applied inside the template. */
        cr_assert_null(json_path(o, "spec.jobTemplate.spec.completions"));
        expect_valid(o, NULL, cronjob_validate);
}

Test(cronjob, schedule_is_required)
{
        expect_patch_errors("cronjob-basic.json", "{\"spec\":{\"schedule\":\"\"}}", cronjob_set_defaults,
                            cronjob_validate, "spec.schedule: Required value");
}

Test(cronjob, reports_the_parser_error_for_a_bad_schedule)
{
        expect_patch_errors(
            "cronjob-basic.json", "{\"spec\":{\"schedule\":\"0 0 * * 7\"}}", cronjob_set_defaults,
            cronjob_validate,
            "spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7");
}

Test(cronjob, accepts_the_reboot_extension_and_nothing_like_it)
{
        expect_patch_valid("cronjob-basic.json", "{\"spec\":{\"schedule\":\"@reboot\"}}",
                           cronjob_set_defaults, cronjob_validate);
        expect_patch_errors("cronjob-basic.json", "{\"spec\":{\"schedule\":\"@REBOOT\"}}",
                            cronjob_set_defaults, cronjob_validate,
                            "spec.schedule: Invalid value: \"@REBOOT\": unrecognized descriptor: @REBOOT");
}

Test(cronjob, rejects_tz_in_the_schedule)
{
        expect_patch_errors(
            "cronjob-basic.json", "{\"spec\":{\"schedule\":\"CRON_TZ=UTC 0 * * * *\"}}",
            cronjob_set_defaults, cronjob_validate,
            "spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in "
            "schedule, use "
            "timeZone field instead");
}

Test(cronjob, accepts_a_known_time_zone)
{
        expect_patch_valid("cronjob-basic.json", "{\"spec\":{\"timeZone\":\"America/New_York\"}}",
                           cronjob_set_defaults, cronjob_validate);
}

Test(cronjob, rejects_unknown_and_malformed_time_zones)
{
        expect_patch_errors(
            "cronjob-basic.json", "{\"spec\":{\"timeZone\":\"Mars/Olympus\"}}", cronjob_set_defaults,
            cronjob_validate,
            "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus");
        expect_patch_errors(
            "cronjob-basic.json", "{\"spec\":{\"timeZone\":\"../../etc/passwd\"}}", cronjob_set_defaults,
            cronjob_validate,
            "spec.timeZone: Invalid value: \"../../etc/passwd\": unknown time zone ../../etc/passwd");
        expect_patch_errors(
            "cronjob-basic.json", "{\"spec\":{\"timeZone\":\"Local\"}}", cronjob_set_defaults,
            cronjob_validate,
            "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in "
            "https://www.iana.org/time-zones");
        expect_patch_errors("cronjob-basic.json", "{\"spec\":{\"timeZone\":\"\"}}", cronjob_set_defaults,
                            cronjob_validate,
                            "spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string");
}

Test(cronjob, validates_policy_and_deadlines)
{
        expect_patch_errors(
            "cronjob-basic.json",
            "{\"spec\":{\"concurrencyPolicy\":\"Sometimes\",\"startingDeadlineSeconds\":-1,"
            "\"successfulJobsHistoryLimit\":-1}}",
            cronjob_set_defaults, cronjob_validate,
            "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: "
            "\"Allow\", \"Forbid\", \"Replace\"",
            "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
            "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0");
}

Test(cronjob, validates_the_job_template_as_a_job_spec)
{
        expect_patch_errors(
            "cronjob-basic.json",
            "{\"spec\":{\"jobTemplate\":{\"spec\":{\"parallelism\":-1,\"manualSelector\":true,"
            "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
            "\"template\":{\"spec\":{\"restartPolicy\":\"Always\"}}}}}}",
            cronjob_set_defaults, cronjob_validate,
            "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"Always\": "
            "supported values: "
            "\"OnFailure\", \"Never\"",
            "spec.jobTemplate.spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
            "spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: "
            "`selector` will be auto-generated",
            "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "
            "\"nil\", \"false\"");
}

Test(cronjob, names_are_limited_to_52_characters)
{
        expect_patch_valid(
            "cronjob-basic.json",
            "{\"metadata\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
            cronjob_set_defaults, cronjob_validate);
        expect_patch_errors(
            "cronjob-basic.json",
            "{\"metadata\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
            cronjob_set_defaults, cronjob_validate,
            "metadata.name: Invalid value: "
            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more "
            "than 52 characters");
}

Test(cronjob, survives_fields_of_the_wrong_type)
{
        static const char *const patches[] = {
            "{\"spec\":{\"schedule\":5,\"timeZone\":[],\"jobTemplate\":\"x\"}}",
            "{\"spec\":{\"jobTemplate\":{\"spec\":[]},\"concurrencyPolicy\":{}}}",
            "{\"spec\":{\"schedule\":\"TZ=\",\"timeZone\":\"a//b\"}}",
            "{\"spec\":null}",
            NULL,
        };

        survive_patches("cronjob-basic.json", cronjob_set_defaults, cronjob_validate, patches);
}
