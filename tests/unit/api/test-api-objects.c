#include <criterion/criterion.h>
#include <string.h>

#include "api-test.h"
#include "json-util.h"
#include "util.h"

API_TEST_SUITE(api_objects);

static void create_pod(const char *name, const char *app)
{
        _cleanup_free_ char *pod = api_test_pod(name, app);
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
}

Test(api_objects, creates_a_pod_and_returns_it_with_metadata)
{
        _cleanup_free_ char *pod = api_test_pod("web", "web");
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "kind"), "Pod");
        cr_assert_str_eq(json_str(r.json, "metadata.namespace"), "default");
        cr_assert_not_null(json_str(r.json, "metadata.uid"));
        cr_assert_not_null(json_str(r.json, "metadata.resourceVersion"));
        /* defaulting ran */
        cr_assert_str_eq(json_str(r.json, "spec.restartPolicy"), "Always");
        http_reply_done(&r);

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert_str_eq(json_str(r.json, "metadata.name"), "web");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(json_path(r.json, "spec.containers"), 0), "image"),
                         "busybox:1.36");
        http_reply_done(&r);
}

Test(api_objects, takes_the_namespace_from_the_path)
{
        _cleanup_free_ char *pod = api_test_pod("web", "web");
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/team-a/pods", pod, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "metadata.namespace"), "team-a");
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web", NULL, &r);
        cr_assert_eq(r.code, 404);
        http_reply_done(&r);
}

Test(api_objects, rejects_a_namespace_that_differs_from_the_path)
{
        const char *pod =
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"b\"},"
            "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}";
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/a/pods", pod, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "reason"), "BadRequest");
        cr_assert_str_eq(
            json_str(r.json, "message"),
            "the namespace of the provided object does not match the namespace sent on the request");
        http_reply_done(&r);
}

Test(api_objects, rejects_a_body_of_another_kind)
{
        const char *cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}";
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", cm, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "reason"), "BadRequest");
        http_reply_done(&r);
}

Test(api_objects, rejects_malformed_json_with_400)
{
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", "{\"kind\": \"Pod\",", &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "kind"), "Status");
        cr_assert_str_eq(json_str(r.json, "reason"), "BadRequest");
        cr_assert_eq(json_int(r.json, "code", 0), 400);
        http_reply_done(&r);
}

Test(api_objects, answers_a_second_create_with_already_exists)
{
        _cleanup_free_ char *pod = api_test_pod("web", "web");
        HttpReply r;

        create_pod("web", "web");
        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        cr_assert_eq(r.code, 409);
        cr_assert_str_eq(json_str(r.json, "reason"), "AlreadyExists");
        cr_assert_str_eq(json_str(r.json, "message"), "pods \"web\" already exists");
        cr_assert_str_eq(json_str(r.json, "details.name"), "web");
        cr_assert_str_eq(json_str(r.json, "details.kind"), "pods");
        http_reply_done(&r);
}

Test(api_objects, answers_missing_objects_with_not_found)
{
        HttpReply r;

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/nope", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "kind"), "Status");
        cr_assert_str_eq(json_str(r.json, "apiVersion"), "v1");
        cr_assert_str_eq(json_str(r.json, "status"), "Failure");
        cr_assert_str_eq(json_str(r.json, "reason"), "NotFound");
        cr_assert_str_eq(json_str(r.json, "message"), "pods \"nope\" not found");
        cr_assert_str_eq(json_str(r.json, "details.name"), "nope");
        cr_assert_eq(json_int(r.json, "code", 0), 404);
        http_reply_done(&r);
}

Test(api_objects, rejects_invalid_pods_with_422_and_causes)
{
        const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},"
                          "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}";
        cJSON *cause;
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        cr_assert_eq(r.code, 422, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "reason"), "Invalid");
        cr_assert_str_eq(json_str(r.json, "message"),
                         "Pod \"x\" is invalid: spec.containers[0].image: Required value");
        cr_assert_str_eq(json_str(r.json, "details.name"), "x");
        cr_assert_str_eq(json_str(r.json, "details.kind"), "Pod");
        cause = cJSON_GetArrayItem(json_path(r.json, "details.causes"), 0);
        cr_assert_str_eq(json_str(cause, "reason"), "FieldValueRequired");
        cr_assert_str_eq(json_str(cause, "message"), "Required value");
        cr_assert_str_eq(json_str(cause, "field"), "spec.containers[0].image");
        cr_assert_eq(json_int(r.json, "code", 0), 422);
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/x", NULL, &r);
        cr_assert_eq(r.code, 404);
        http_reply_done(&r);
}

Test(api_objects, lists_pods_as_a_pod_list_filtered_by_label_selector)
{
        cJSON *items;
        HttpReply r;

        create_pod("a", "web");
        create_pod("b", "db");
        create_pod("c", "web");
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert_str_eq(json_str(r.json, "kind"), "PodList");
        cr_assert_str_eq(json_str(r.json, "apiVersion"), "v1");
        cr_assert_not_null(json_str(r.json, "metadata.resourceVersion"));
        cr_assert_eq(cJSON_GetArraySize(json_path(r.json, "items")), 3);
        http_reply_done(&r);

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", NULL, &r);
        cr_assert_eq(r.code, 200);
        items = json_path(r.json, "items");
        cr_assert_eq(cJSON_GetArraySize(items), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(items, 0), "metadata.name"), "a");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(items, 1), "metadata.name"), "c");
        http_reply_done(&r);

        cr_assert_eq(api_test_count_items(&t, "/api/v1/pods?fieldSelector=metadata.name%3Db"), 1);
}

Test(api_objects, rejects_a_malformed_label_selector_with_400)
{
        HttpReply r;

        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%20in%20(", NULL, &r);
        cr_assert_eq(r.code, 400);
        cr_assert_str_eq(json_str(r.json, "reason"), "BadRequest");
        http_reply_done(&r);
}

Test(api_objects, replaces_a_pod_and_detects_conflicts)
{
        HttpReply r;
        cJSON *obj;
        _cleanup_free_ char *body = NULL, *stale = NULL;

        create_pod("web", "web");
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web", NULL, &r);
        obj = cJSON_Duplicate(r.json, true);
        http_reply_done(&r);
        cJSON_ReplaceItemInObject(json_path(obj, "metadata.labels"), "app", cJSON_CreateString("web2"));
        body = json_print(obj);
        api_test_request(&t, "PUT", "/api/v1/namespaces/default/pods/web", body, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "metadata.labels.app"), "web2");
        http_reply_done(&r);

        /* the same body again carries the old resourceVersion now */
        api_test_request(&t, "PUT", "/api/v1/namespaces/default/pods/web", body, &r);
        cr_assert_eq(r.code, 409);
        cr_assert_str_eq(json_str(r.json, "reason"), "Conflict");
        cr_assert(strstr(json_str(r.json, "message"),
                         "the object has been modified; please apply your changes to "
                         "the latest version and try again"));
        http_reply_done(&r);
        cJSON_Delete(obj);
}

Test(api_objects, keeps_immutable_pod_fields_on_replace)
{
        HttpReply r;
        cJSON *obj;
        _cleanup_free_ char *body = NULL;

        create_pod("web", "web");
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/web", NULL, &r);
        obj = cJSON_Duplicate(r.json, true);
        http_reply_done(&r);
        cJSON_ReplaceItemInObject(cJSON_GetArrayItem(json_path(obj, "spec.containers"), 0), "name",
                                  cJSON_CreateString("other"));
        body = json_print(obj);
        api_test_request(&t, "PUT", "/api/v1/namespaces/default/pods/web", body, &r);
        cr_assert_eq(r.code, 422, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "reason"), "Invalid");
        http_reply_done(&r);
        cJSON_Delete(obj);
}

Test(api_objects, replaces_only_status_through_the_status_subresource)
{
        const char *body = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},"
                           "\"spec\":{\"containers\":[]},\"status\":{\"phase\":\"Running\"}}";
        HttpReply r;

        create_pod("web", "web");
        api_test_request(&t, "PUT", "/api/v1/namespaces/default/pods/web/status", body, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "status.phase"), "Running");
        cr_assert_eq(cJSON_GetArraySize(json_path(r.json, "spec.containers")), 1);
        http_reply_done(&r);
        api_test_request(&t, "PUT", "/api/v1/namespaces/default/pods/nope/status", body, &r);
        cr_assert_eq(r.code, 400); /* name mismatch with the body */
        http_reply_done(&r);
}

Test(api_objects, warns_about_unknown_fields)
{
        const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"w\"},"
                          "\"spec\":{\"bogus\":1,\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}";
        _cleanup_free_ char *w = NULL;
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        w = http_reply_header(&r, "Warning");
        cr_assert_not_null(w);
        cr_assert(startswith(w, "299 - \""), "%s", w);
        cr_assert(strstr(w, "spec.bogus"), "%s", w);
        http_reply_done(&r);
}

Test(api_objects, deletes_every_selected_object_of_a_collection)
{
        HttpReply r;

        create_pod("a", "web");
        create_pod("b", "db");
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", NULL, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "kind"), "PodList");
        cr_assert_eq(cJSON_GetArraySize(json_path(r.json, "items")), 1);
        cr_assert_not_null(
            json_str(cJSON_GetArrayItem(json_path(r.json, "items"), 0), "metadata.deletionTimestamp"));
        http_reply_done(&r);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/pods/b", NULL, &r);
        cr_assert_null(json_str(r.json, "metadata.deletionTimestamp"));
        http_reply_done(&r);
}

TestSuite(api_delete, .init = suite_setup, .fini = suite_teardown);

/* Creates a ConfigMap (owned by owner_uid when given) and returns its uid (malloc'd). */
static char *create_cm(const char *name, const char *owner_name, const char *owner_uid)
{
        _cleanup_free_ char *body = NULL, *refs = NULL;
        HttpReply r;
        char *uid;

        if (owner_uid)
                cr_assert_gt(asprintf(&refs,
                                      ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                                      "\"name\":\"%s\",\"uid\":\"%s\"}]",
                                      owner_name, owner_uid),
                             0);
        cr_assert_gt(
            asprintf(&body,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"%s},"
                     "\"data\":{\"k\":\"v\"}}",
                     name, refs ?: ""),
            0);
        api_test_request(&t, "POST", "/api/v1/namespaces/default/configmaps", body, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        uid = strdup(json_str(r.json, "metadata.uid"));
        http_reply_done(&r);
        return uid;
}

static void create_owned_pod(const char *name, const char *owner_name, const char *owner_uid)
{
        _cleanup_free_ char *body = NULL;
        HttpReply r;

        cr_assert_gt(
            asprintf(&body,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                     "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"%s\","
                     "\"uid\":\"%s\"}]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
                     name, owner_name, owner_uid),
            0);
        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", body, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
}

static unsigned get_code(const char *path, cJSON **ret)
{
        HttpReply r;
        unsigned code;

        api_test_request(&t, "GET", path, NULL, &r);
        code = r.code;
        if (ret)
                *ret = TAKE_PTR(r.json);
        http_reply_done(&r);
        return code;
}

Test(api_delete, marks_a_pod_with_its_own_grace_period)
{
        _cleanup_free_ char *pod = api_test_pod("web", "web");
        _cleanup_json_ cJSON *obj = NULL;
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", pod, &r);
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods/web", NULL, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_not_null(json_str(r.json, "metadata.deletionTimestamp"));
        cr_assert_eq(json_int(r.json, "metadata.deletionGracePeriodSeconds", -1), 30);
        http_reply_done(&r);
        /* the pod worker finishes the deletion: the object is still there */
        cr_assert_eq(get_code("/api/v1/namespaces/default/pods/web", &obj), 200);
        cr_assert_not_null(json_str(obj, "metadata.deletionTimestamp"));
}

Test(api_delete, takes_the_grace_period_from_the_query_or_delete_options)
{
        _cleanup_free_ char *a = api_test_pod("a", "x"), *b = api_test_pod("b", "x");
        HttpReply r;

        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", a, &r);
        http_reply_done(&r);
        api_test_request(&t, "POST", "/api/v1/namespaces/default/pods", b, &r);
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=5", NULL, &r);
        cr_assert_eq(r.code, 200);
        cr_assert_eq(json_int(r.json, "metadata.deletionGracePeriodSeconds", -1), 5);
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods/b",
                         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0}", &r);
        cr_assert_eq(r.code, 200);
        cr_assert_eq(json_int(r.json, "metadata.deletionGracePeriodSeconds", -1), 0);
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods/b?gracePeriodSeconds=soon", NULL,
                         &r);
        cr_assert_eq(r.code, 400);
        http_reply_done(&r);
}

Test(api_delete, answers_deleting_a_missing_object_with_not_found)
{
        HttpReply r;

        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/configmaps/nope", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "message"), "configmaps \"nope\" not found");
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/pods/nope", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "message"), "pods \"nope\" not found");
        http_reply_done(&r);
}

Test(api_delete, cascades_to_dependents_by_owner_uid)
{
        _cleanup_free_ char *owner = create_cm("owner", NULL, NULL);
        _cleanup_free_ char *child = create_cm("child", "owner", owner);
        _cleanup_free_ char *grandchild = create_cm("grandchild", "child", child);
        _cleanup_free_ char *other = create_cm("other", NULL, NULL);
        _cleanup_json_ cJSON *pod = NULL;
        HttpReply r;

        create_owned_pod("p", "owner", owner);
        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/configmaps/owner", NULL, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        cr_assert_str_eq(json_str(r.json, "metadata.name"), "owner");
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/owner", NULL), 404);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/child", NULL), 404);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/grandchild", NULL), 404);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/other", NULL), 200);
        cr_assert_eq(get_code("/api/v1/namespaces/default/pods/p", &pod), 200);
        cr_assert_not_null(json_str(pod, "metadata.deletionTimestamp"));
}

Test(api_delete, orphans_dependents_when_asked)
{
        _cleanup_free_ char *owner = create_cm("owner", NULL, NULL);
        _cleanup_free_ char *child = create_cm("child", "owner", owner);
        _cleanup_json_ cJSON *obj = NULL, *pod = NULL;
        HttpReply r;

        create_owned_pod("p", "owner", owner);
        api_test_request(&t, "DELETE",
                         "/api/v1/namespaces/default/configmaps/owner?propagationPolicy=Orphan", NULL, &r);
        cr_assert_eq(r.code, 200, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/owner", NULL), 404);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/child", &obj), 200);
        cr_assert_eq(cJSON_GetArraySize(json_path(obj, "metadata.ownerReferences")), 0);
        cr_assert_eq(get_code("/api/v1/namespaces/default/pods/p", &pod), 200);
        cr_assert_null(json_str(pod, "metadata.deletionTimestamp"));
        cr_assert_eq(cJSON_GetArraySize(json_path(pod, "metadata.ownerReferences")), 0);
}

Test(api_delete, rejects_an_unknown_propagation_policy)
{
        _cleanup_free_ char *owner = create_cm("owner", NULL, NULL);
        HttpReply r;

        api_test_request(&t, "DELETE", "/api/v1/namespaces/default/configmaps/owner",
                         "{\"propagationPolicy\":\"Sometimes\"}", &r);
        cr_assert_eq(r.code, 400);
        http_reply_done(&r);
        cr_assert_eq(get_code("/api/v1/namespaces/default/configmaps/owner", NULL), 200);
}

#define STS_WEB                                                                                             \
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"},"             \
        "\"spec\":{\"serviceName\":\"web\",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"               \
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"                                        \
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"command\":[\"/bin/true\"]}]}}}}"

Test(api_objects, warns_about_a_statefulset_without_its_service)
{
        const char *svc = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
                          "\"spec\":{\"clusterIP\":\"None\",\"selector\":{\"app\":\"web\"}}}";
        _cleanup_free_ char *w = NULL, *w2 = NULL;
        HttpReply r;

        /* stored all the same, with a warning naming the missing Service */
        api_test_request(&t, "POST", "/apis/apps/v1/namespaces/default/statefulsets", STS_WEB, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        w = http_reply_header(&r, "Warning");
        cr_assert_not_null(w);
        cr_assert(strstr(w, "spec.serviceName") && strstr(w, "web"), "%s", w);
        http_reply_done(&r);
        api_test_request(&t, "DELETE", "/apis/apps/v1/namespaces/default/statefulsets/web", NULL, &r);
        cr_assert_eq(r.code, 200);
        http_reply_done(&r);

        /* with the Service there, no warning */
        api_test_request(&t, "POST", "/api/v1/namespaces/default/services", svc, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
        api_test_request(&t, "POST", "/apis/apps/v1/namespaces/default/statefulsets", STS_WEB, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        w2 = http_reply_header(&r, "Warning");
        cr_assert_null(w2, "%s", w2);
        http_reply_done(&r);
}
