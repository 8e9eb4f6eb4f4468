#include <criterion/criterion.h>
#include <string.h>

#include "api-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(api_apply);

#define CM(name, value)                                                                                     \
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" name                      \
        "\"},\"data\":{\"k\":\"" value "\"}}"
#define POD(name, image)                                                                                    \
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                            \
        "\"},\"spec\":{\"containers\":"                                                                     \
        "[{\"name\":\"c\"" image "}]}}"

static unsigned get_code(const char *path)
{
        HttpReply r;
        unsigned code;

        api_test_request(&t, "GET", path, NULL, &r);
        code = r.code;
        http_reply_done(&r);
        return code;
}

static const char *result(const HttpReply *r, int i)
{
        return json_str(cJSON_GetArrayItem(json_path(r->json, "items"), i), "result");
}

Test(api_apply, applies_a_list_and_reports_each_result)
{
        const char *body =
            "{\"kind\":\"List\",\"items\":[" CM("cfg", "1") "," POD("web", ",\"image\":\"i\"") "]}";
        const char *changed =
            "{\"kind\":\"List\",\"items\":[" CM("cfg", "2") "," POD("web", ",\"image\":\"i\"") "]}";
        cJSON *first;
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", body, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "kind"), "ApplyResult");
        cr_assert_str_eq(json_str(r.json, "apiVersion"), "berth.dev/v1");
        first = cJSON_GetArrayItem(json_path(r.json, "items"), 0);
        cr_assert_str_eq(json_str(first, "kind"), "ConfigMap");
        cr_assert_str_eq(json_str(first, "namespace"), "default");
        cr_assert_str_eq(json_str(first, "name"), "cfg");
        cr_assert_str_eq(result(&r, 0), "created");
        cr_assert_str_eq(result(&r, 1), "created");
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/pods/web"), 200);

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", changed, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(result(&r, 0), "configured");
        cr_assert_str_eq(result(&r, 1), "unchanged");
        http_reply_done(&r);
}

Test(api_apply, writes_nothing_when_one_item_is_invalid)
{
        const char *body = "{\"kind\":\"List\",\"items\":[" CM("cfg", "1") "," POD("web", "") "]}";
        cJSON *cause;
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", body, &r);
        cr_assert_eq(r.code, 422, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "kind"), "Status");
        cr_assert_str_eq(json_str(r.json, "reason"), "Invalid");
        cr_assert(strstr(json_str(r.json, "message"),
                         "Pod \"web\" is invalid: spec.containers[0].image: Required value"),
                  "%s", json_str(r.json, "message"));
        cause = cJSON_GetArrayItem(json_path(r.json, "details.causes"), 0);
        cr_assert_str_eq(json_str(cause, "field"), "items[1].spec.containers[0].image");
        cr_assert_str_eq(json_str(cause, "reason"), "FieldValueRequired");
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/cfg"), 404);
}

Test(api_apply, reports_unknown_kinds_against_their_item)
{
        const char *body = "{\"kind\":\"List\",\"items\":[" CM(
            "cfg",
            "1") ","
                 "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}]}";
        cJSON *cause;
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", body, &r);
        cr_assert_eq(r.code, 422, "%.*s", (int)r.body_size, r.body);
        cause = cJSON_GetArrayItem(json_path(r.json, "details.causes"), 0);
        cr_assert_str_eq(json_str(cause, "field"), "items[1].kind");
        cr_assert_str_eq(json_str(cause, "message"),
                         "no matches for kind \"Widget\" in version \"example.com/v1\"");
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/cfg"), 404);
}

Test(api_apply, validates_updates_against_the_stored_object)
{
        const char *first = "{\"kind\":\"List\",\"items\":[" POD("web", ",\"image\":\"i\"") "]}";
        const char *renamed =
            "{\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
            "{\"name\":\"web\"},\"spec\":{\"containers\":[{\"name\":\"d\",\"image\":\"i\"}]}}]}";
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", first, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", renamed, &r);
        cr_assert_eq(r.code, 422, "%.*s", (int)r.body_size, r.body);
        cr_assert(startswith(json_str(cJSON_GetArrayItem(json_path(r.json, "details.causes"), 0), "field"),
                             "items[0]."));
        http_reply_done(&r);
}

Test(api_apply, stores_nothing_on_a_dry_run)
{
        const char *body = "{\"kind\":\"List\",\"items\":[" CM("cfg", "1") "]}";
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply?dryRun=All", body, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(result(&r, 0), "created");
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/cfg"), 404);
        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply?dryRun=Some", body, &r);
        cr_assert_eq(r.code, 400);
        http_reply_done(&r);
}

Test(api_apply, rejects_a_body_without_items)
{
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply", CM("cfg", "1"), &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "reason"), "BadRequest");
        http_reply_done(&r);
}

#define STS_WEB                                                                                             \
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"},"             \
        "\"spec\":{\"serviceName\":\"web\",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"               \
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"                                        \
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"command\":[\"/bin/true\"]}]}}}}"
#define SVC_WEB                                                                                             \
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"                      \
        "\"spec\":{\"clusterIP\":\"None\",\"selector\":{\"app\":\"web\"}}}"

Test(api_apply, warns_about_a_statefulset_whose_service_is_in_neither_the_store_nor_the_list)
{
        _cleanup_free_ char *w = NULL, *w2 = NULL;
        HttpReply r;

        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply",
                         "{\"kind\":\"List\",\"items\":[" STS_WEB "]}", &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        w = http_reply_header(&r, "Warning");
        cr_assert_not_null(w);
        cr_assert(strstr(w, "items[0]: spec.serviceName"), "%s", w);
        http_reply_done(&r);
        /* the Service later in the same list counts */
        api_test_request(&t, "POST", "/apis/berth.dev/v1/apply",
                         "{\"kind\":\"List\",\"items\":[" STS_WEB "," SVC_WEB "]}", &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        w2 = http_reply_header(&r, "Warning");
        cr_assert_null(w2, "%s", w2);
        http_reply_done(&r);
}
