#include <criterion/criterion.h>

#include "job-internal.h"
#include "json-util.h"

Test(job_status, wants_remaining_completions_capped_by_parallelism)
{
        JobParams p = {.parallelism = 2, .completions = 5};

        cr_assert_eq(job_want_active(&p, 0, 0), 2);
        cr_assert_eq(job_want_active(&p, 4, 1), 1);
        cr_assert_eq(job_want_active(&p, 7, 0), 0);
        p.completions = -1;
        cr_assert_eq(job_want_active(&p, 0, 0), 2);
        cr_assert_eq(job_want_active(&p, 1, 1), 1);
}

Test(job_status, backs_off_ten_seconds_doubling_to_ten_minutes)
{
        const unsigned want[] = {0, 10, 20, 40, 80, 160, 320, 600, 600};

        for (unsigned n = 0; n < ELEMENTSOF(want); n++)
                cr_assert_eq(job_backoff_remaining(n, 1000 * USEC_PER_SEC, 1000 * USEC_PER_SEC),
                             want[n] * USEC_PER_SEC, "n=%u", n);
        cr_assert_eq(job_backoff_remaining(2, 100 * USEC_PER_SEC, 105 * USEC_PER_SEC), 15 * USEC_PER_SEC);
        cr_assert_eq(job_backoff_remaining(1, 100 * USEC_PER_SEC, 200 * USEC_PER_SEC), 0);
}

Test(job_status, formats_indexes_as_intervals)
{
        bool set[10] = {1, 1, 1, 0, 1, 0, 1, 1, 0, 0};
        _cleanup_free_ char *s = job_indexes_format(set, 10);
        bool back[10];

        cr_assert_str_eq(s, "0-2,4,6,7");
        cr_assert_eq(job_indexes_parse(s, back, 10), 0);
        cr_assert_arr_eq(back, set, sizeof set);
        cr_assert_eq(job_indexes_count(back, 10), 6);
}

Test(job_status, rejects_malformed_index_strings)
{
        bool set[4];

        cr_assert_eq(job_indexes_parse("1,,2", set, 4), -EINVAL);
        cr_assert_eq(job_indexes_parse("3-1", set, 4), -EINVAL);
        cr_assert_eq(job_indexes_parse("x", set, 4), -EINVAL);
        cr_assert_eq(job_indexes_parse("1-2,9", set, 4), 0);
        cr_assert(set[1] && set[2] && !set[3]);
}

Test(job_status, adds_conditions_once_and_never_adds_false_ones)
{
        _cleanup_json_ cJSON *st = cJSON_CreateObject();

        cr_assert_eq(job_condition_ensure(st, "Suspended", "False", "JobResumed", "Job resumed", 0), 0);
        cr_assert_null(job_condition_find(st, "Suspended"));
        cr_assert_eq(job_condition_ensure(st, "Suspended", "True", "JobSuspended", "Job suspended", 0), 1);
        cr_assert_eq(job_condition_ensure(st, "Suspended", "True", "JobSuspended", "Job suspended", 0), 0);
        cr_assert_eq(job_condition_ensure(st, "Suspended", "False", "JobResumed", "Job resumed", 0), 1);
        cr_assert_str_eq(json_str(job_condition_find(st, "Suspended"), "reason"), "JobResumed");
        cr_assert_eq(cJSON_GetArraySize(json_path(st, "conditions")), 1);
}

Test(job_status, defaults_completions_and_backoff_limit)
{
        _cleanup_json_ cJSON *j = cJSON_Parse("{\"spec\":{\"parallelism\":3,\"backoffLimitPerIndex\":1}}");
        JobParams p;

        job_params_from_spec(j, &p);
        cr_assert_eq(p.completions, -1);
        cr_assert_eq(p.parallelism, 3);
        cr_assert_eq(p.backoff_limit, INT32_MAX);
        job_params_from_spec(NULL, &p);
        cr_assert_eq(p.completions, 1);
        cr_assert_eq(p.backoff_limit, 6);
}

Test(job_status, finish_time_is_the_latest_container_finish)
{
        _cleanup_json_ cJSON *pod =
            cJSON_Parse("{\"metadata\":{\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},\"status\":{"
                        "\"containerStatuses\":["
                        "{\"state\":{\"terminated\":{\"finishedAt\":\"2026-01-01T00:00:10Z\"}}},"
                        "{\"state\":{\"terminated\":{\"finishedAt\":\"2026-01-01T00:00:20Z\"}}}]}}");
        usec_t t;

        cr_assert_eq(parse_rfc3339("2026-01-01T00:00:20Z", &t), 0);
        cr_assert_eq(job_pod_finish_time(pod), t);
}
