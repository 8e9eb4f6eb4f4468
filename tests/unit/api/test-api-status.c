#include <criterion/criterion.h>
#include <string.h>

#include "api-internal.h"
#include "json-util.h"
#include "util.h"

static const KindInfo pods = {
    .kind = "Pod", .api_version = "v1", .group = "", .plural = "pods", .namespaced = true};
static const KindInfo sts = {.kind = "StatefulSet",
                             .api_version = "apps/v1",
                             .group = "apps",
                             .plural = "statefulsets",
                             .namespaced = true};

Test(api_status, builds_kubernetes_status_objects)
{
        _cleanup_json_ cJSON *st =
            api_status_new(404, "NotFound", "pods \"x\" not found", api_status_details(&pods, "x"));

        cr_assert_not_null(st);
        cr_assert_str_eq(json_str(st, "kind"), "Status");
        cr_assert_str_eq(json_str(st, "apiVersion"), "v1");
        cr_assert(cJSON_IsObject(json_path(st, "metadata")));
        cr_assert_str_eq(json_str(st, "status"), "Failure");
        cr_assert_str_eq(json_str(st, "reason"), "NotFound");
        cr_assert_str_eq(json_str(st, "message"), "pods \"x\" not found");
        cr_assert_str_eq(json_str(st, "details.name"), "x");
        cr_assert_str_eq(json_str(st, "details.kind"), "pods");
        cr_assert_null(json_path(st, "details.group"));
        cr_assert_eq(json_int(st, "code", 0), 404);
}

Test(api_status, names_grouped_resources_with_their_group)
{
        ApiResponse resp = {};
        _cleanup_json_ cJSON *j = NULL;

        cr_assert_eq(api_reply_already_exists(&resp, &sts, "db"), 0);
        cr_assert_eq(resp.code, 409);
        j = cJSON_Parse(resp.body);
        cr_assert_str_eq(json_str(j, "message"), "statefulsets.apps \"db\" already exists");
        cr_assert_str_eq(json_str(j, "reason"), "AlreadyExists");
        cr_assert_str_eq(json_str(j, "details.group"), "apps");
        api_response_done(&resp);
}

Test(api_status, words_conflicts_like_the_apiserver)
{
        ApiResponse resp = {};
        _cleanup_json_ cJSON *j = NULL;

        cr_assert_eq(api_reply_conflict(&resp, &pods, "web"), 0);
        j = cJSON_Parse(resp.body);
        cr_assert_eq(resp.code, 409);
        cr_assert_str_eq(json_str(j, "reason"), "Conflict");
        cr_assert_str_eq(
            json_str(j, "message"),
            "Operation cannot be fulfilled on pods \"web\": the object has been modified; please apply "
            "your changes to the latest version and try again");
        api_response_done(&resp);
}

Test(api_status, formats_one_invalid_field_without_brackets)
{
        FieldErrors errs;
        _cleanup_free_ char *msg = NULL;

        field_errors_init(&errs);
        field_error_add(&errs, FIELD_ERROR_REQUIRED, "spec.containers[0].image", NULL, NULL);
        msg = api_invalid_message("Pod", "x", &errs);
        cr_assert_str_eq(msg, "Pod \"x\" is invalid: spec.containers[0].image: Required value");
        field_errors_done(&errs);
}

Test(api_status, lists_several_invalid_fields_in_brackets_with_causes)
{
        FieldErrors errs;
        ApiResponse resp = {};
        _cleanup_json_ cJSON *j = NULL;
        cJSON *causes;

        field_errors_init(&errs);
        field_error_add(&errs, FIELD_ERROR_REQUIRED, "spec.containers[0].image", NULL, NULL);
        field_error_add_str(&errs, FIELD_ERROR_INVALID, "metadata.name", "A_b",
                            "a lowercase RFC 1123 subdomain");
        cr_assert_eq(api_reply_invalid(&resp, &pods, "A_b", &errs), 0);
        cr_assert_eq(resp.code, 422);
        j = cJSON_Parse(resp.body);
        cr_assert(
            startswith(json_str(j, "message"),
                       "Pod \"A_b\" is invalid: [spec.containers[0].image: Required value, metadata.name: "
                       "Invalid value: \"A_b\""),
            "%s", json_str(j, "message"));
        cr_assert(endswith(json_str(j, "message"), "]"));
        cr_assert_str_eq(json_str(j, "reason"), "Invalid");
        cr_assert_str_eq(json_str(j, "details.kind"), "Pod");
        causes = json_path(j, "details.causes");
        cr_assert_eq(cJSON_GetArraySize(causes), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(causes, 0), "reason"), "FieldValueRequired");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(causes, 0), "message"), "Required value");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(causes, 0), "field"), "spec.containers[0].image");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(causes, 1), "reason"), "FieldValueInvalid");
        api_response_done(&resp);
        field_errors_done(&errs);
}

Test(api_status, escapes_quotes_in_warning_headers)
{
        ApiResponse resp = {};

        cr_assert_eq(api_response_add_warning(&resp, "unknown field \"spec.foo\""), 0);
        cr_assert_eq(resp.n_headers, 1);
        cr_assert_str_eq(resp.headers[0].name, "Warning");
        cr_assert_str_eq(resp.headers[0].value, "299 - \"unknown field \\\"spec.foo\\\"\"");
        api_response_done(&resp);
}

Test(api_status, rejects_bodies_that_are_not_json_objects)
{
        ApiRequest req = {.body = (char *)"{\"kind\": ", .body_size = 9};
        ApiResponse resp = {};
        cJSON *j = NULL;
        _cleanup_json_ cJSON *st = NULL;

        cr_assert_eq(api_parse_body(&req, &resp, &j), -EINVAL);
        cr_assert_null(j);
        cr_assert_eq(resp.code, 400);
        st = cJSON_Parse(resp.body);
        cr_assert_str_eq(json_str(st, "reason"), "BadRequest");
        api_response_done(&resp);

        req.body = (char *)"[1,2]";
        req.body_size = 5;
        cr_assert_eq(api_parse_body(&req, &resp, &j), -EINVAL);
        cr_assert_eq(resp.code, 400);
        api_response_done(&resp);
}
