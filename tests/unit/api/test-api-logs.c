#include <criterion/criterion.h>
#include <string.h>

#include "api-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(api_logs);

static void expect_body(const HttpReply *r, const char *want)
{
        cr_assert_eq(r->code, 200, "%u: %.*s", r->code, (int)r->body_size, r->body);
        cr_assert_eq(r->body_size, strlen(want), "%.*s", (int)r->body_size, r->body);
        cr_assert(strneq(r->body, want, r->body_size));
}

#define LINE1 "2024-05-01T10:00:00.000000001Z stdout F hello\n"
#define LINE2 "2024-05-01T10:00:01.000000001Z stderr F world\n"

Test(api_logs, returns_the_log_of_the_only_container)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        _cleanup_free_ char *off = NULL, *ct = NULL;
        HttpReply r;

        api_test_write_log(&t, pod, "main", 0, LINE1 LINE2);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log", NULL, &r);
        expect_body(&r, "hello\nworld\n");
        off = http_reply_header(&r, "X-Berth-Log-Offset");
        cr_assert_not_null(off);
        cr_assert_eq(strtoull(off, NULL, 10), strlen(LINE1 LINE2));
        ct = http_reply_header(&r, "Content-Type");
        cr_assert(startswith(ct, "text/plain"));
        http_reply_done(&r);
}

Test(api_logs, follows_from_an_offset_and_keeps_tail_lines)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        _cleanup_free_ char *path = NULL;
        HttpReply r;

        api_test_write_log(&t, pod, "main", 0, LINE1 LINE2);
        cr_assert_gt(asprintf(&path, "/api/v1/namespaces/default/pods/web/log?offset=%zu", strlen(LINE1)),
                     0);
        api_test_request(&t, "GET", path, NULL, &r);
        expect_body(&r, "world\n");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?tailLines=1", NULL, &r);
        expect_body(&r, "world\n");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?timestamps=true&tailLines=1",
                         NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert(startswith(r.body, "2024-05-01T10:00:01"), "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?tailLines=-3", NULL, &r);
        cr_assert_eq(r.code, 400);
        http_reply_done(&r);
}

Test(api_logs, reads_the_previous_attempt)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {1};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        HttpReply r;

        api_test_write_log(&t, pod, "main", 0, LINE1);
        api_test_write_log(&t, pod, "main", 1, LINE2);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log", NULL, &r);
        expect_body(&r, "world\n");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?previous=true", NULL, &r);
        expect_body(&r, "hello\n");
        http_reply_done(&r);
}

Test(api_logs, has_no_previous_log_before_a_restart)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        HttpReply r;

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?previous=true", NULL, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "message"),
                         "previous terminated container \"main\" in pod \"web\" not found");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "reason"), "NotFound");
        http_reply_done(&r);
}

Test(api_logs, asks_for_a_container_when_there_are_several)
{
        static const char *const names[] = {"a", "b"};
        static const int restarts[] = {0, 0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 2);
        HttpReply r;

        api_test_write_log(&t, pod, "b", 0, LINE2);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log", NULL, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "message"),
                         "a container name must be specified for pod web, choose one of: [a b]");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?container=b", NULL, &r);
        expect_body(&r, "world\n");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web/log?container=c", NULL, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "message"), "container c is not valid for pod web");
        http_reply_done(&r);
}

Test(api_logs, answers_logs_of_a_missing_pod_with_not_found)
{
        HttpReply r;

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/nope/log", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "message"), "pods \"nope\" not found");
        http_reply_done(&r);
}

Test(api_logs, lists_events_by_involved_object)
{
        static const char *const names[] = {"main"};
        static const int restarts[] = {0};
        _cleanup_json_ cJSON *pod = api_test_store_pod(&t, names, restarts, 1);
        _cleanup_free_ char *path = NULL;
        HttpReply r;

        cr_assert_eq(store_event(t.store, pod, "Normal", "Scheduled", "assigned to test-node"), 0);
        cr_assert_eq(store_event(t.store, pod, "Warning", "BackOff", "back-off restarting"), 0);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/events", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert_str_eq(json_str(r.json, "kind"), "EventList");
        cr_assert_eq(cJSON_GetArraySize(json_path(r.json, "items")), 2);
        http_reply_done(&r);

        cr_assert_gt(asprintf(&path, "/api/v1/events?fieldSelector=involvedObject.uid%%3D%s",
                              json_str(pod, "metadata.uid")),
                     0);
        cr_assert_eq(api_test_count_items(&t, path), 2);
        cr_assert_eq(api_test_count_items(&t, "/api/v1/events?fieldSelector=involvedObject.uid%3Dnobody"),
                     0);
        api_test_request(&t, "GET",
                         "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,"
                         "involvedObject.kind%3DPod,reason%3DBackOff",
                         NULL, &r);
        cr_assert_eq(cJSON_GetArraySize(json_path(r.json, "items")), 1);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(json_path(r.json, "items"), 0), "reason"), "BackOff");
        http_reply_done(&r);
        cr_assert_eq(api_test_count_items(&t, "/api/v1/namespaces/other/events"), 0);
}
