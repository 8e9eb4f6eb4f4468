#include <criterion/criterion.h>
#include <string.h>

#include "api-internal.h"
#include "api-test.h"
#include "json-util.h"
#include "util.h"

static char *kind_prefix(const KindInfo *k)
{
        return isempty(k->group) ? strdup("/api/v1") : strjoin("/apis/", k->api_version, NULL);
}

Test(api_routes, parses_namespaced_pod_items)
{
        ApiRoute r;

        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/pods/web", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_ITEM);
        cr_assert_str_eq(r.kind->kind, "Pod");
        cr_assert_str_eq(r.ns, "default");
        cr_assert_str_eq(r.name, "web");
        cr_assert_null(r.sub);
        api_route_done(&r);
}

Test(api_routes, parses_every_kind_at_its_own_paths)
{
        size_t n;
        const KindInfo *table = kind_table(&n);

        cr_assert_gt(n, 0);
        for (size_t i = 0; i < n; i++) {
                const KindInfo *k = &table[i];
                _cleanup_free_ char *prefix = kind_prefix(k), *item = NULL, *list = NULL, *wrong = NULL;
                ApiRoute r;

                /* events are served from the event log: tested on their own below */
                if (streq(k->kind, "Event"))
                        continue;
                list = strjoin(prefix, "/", k->plural, NULL);
                if (k->namespaced) {
                        item = strjoin(prefix, "/namespaces/ns1/", k->plural, "/x", NULL);
                        wrong = strjoin(prefix, "/", k->plural, "/x", NULL);
                } else {
                        item = strjoin(prefix, "/", k->plural, "/x", NULL);
                        wrong = strjoin(prefix, "/namespaces/ns1/", k->plural, "/x", NULL);
                }
                cr_assert_eq(api_route_parse(item, &r), 0, "%s", item);
                cr_assert_eq(r.type, API_ROUTE_ITEM, "%s", item);
                cr_assert_eq(r.kind, k, "%s", item);
                cr_assert_str_eq(r.name, "x");
                if (k->namespaced)
                        cr_assert_str_eq(r.ns, "ns1");
                else
                        cr_assert_null(r.ns);
                api_route_done(&r);

                cr_assert_eq(api_route_parse(list, &r), 0, "%s", list);
                cr_assert_eq(r.type, API_ROUTE_COLLECTION);
                cr_assert_eq(r.kind, k);
                cr_assert_null(r.ns);
                api_route_done(&r);

                cr_assert_eq(api_route_parse(wrong, &r), -ENOENT, "%s", wrong);
        }
}

Test(api_routes, rejects_a_version_the_kind_does_not_have)
{
        ApiRoute r;

        cr_assert_eq(api_route_parse("/apis/apps/v2/namespaces/default/statefulsets", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/apis/batch/v1/namespaces/default/pods", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/api/v2/namespaces/default/pods", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/widgets", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/pods/a/b/c", &r), -ENOENT);
}

Test(api_routes, knows_the_status_and_log_subresources)
{
        ApiRoute r;

        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/pods/web/status", &r), 0);
        cr_assert_str_eq(r.sub, "status");
        api_route_done(&r);
        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/pods/web/log", &r), 0);
        cr_assert_str_eq(r.sub, "log");
        api_route_done(&r);
        cr_assert_eq(api_route_parse("/apis/apps/v1/namespaces/default/statefulsets/db/status", &r), 0);
        cr_assert_str_eq(r.kind->kind, "StatefulSet");
        api_route_done(&r);
        cr_assert_eq(api_route_parse("/apis/apps/v1/namespaces/default/statefulsets/db/log", &r), -ENOENT);
        cr_assert_eq(api_route_parse("/api/v1/namespaces/default/pods/web/exec", &r), -ENOENT);
}

Test(api_routes, parses_fixed_endpoints_and_events)
{
        ApiRoute r;

        cr_assert_eq(api_route_parse("/version", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_VERSION);
        cr_assert_eq(api_route_parse("/healthz/", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_HEALTHZ);
        cr_assert_eq(api_route_parse("/metrics", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_METRICS);
        cr_assert_eq(api_route_parse("/apis/berth.dev/v1/apply", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_APPLY);
        cr_assert_eq(api_route_parse("/api/v1/namespaces/kube-system/events", &r), 0);
        cr_assert_eq(r.type, API_ROUTE_COLLECTION);
        cr_assert(r.events);
        cr_assert_str_eq(r.ns, "kube-system");
        api_route_done(&r);
        cr_assert_eq(api_route_parse("/api/v1/events", &r), 0);
        cr_assert(r.events);
        cr_assert_null(r.ns);
        api_route_done(&r);
}

Test(api_routes, answers_unknown_paths_with_a_not_found_status)
{
        ApiTest t;
        HttpReply r;

        api_test_start(&t, false);
        api_test_request(&t, "GET", "/api/v1/namespaces/default/widgets", NULL, &r);
        cr_assert_eq(r.code, 404);
        cr_assert_str_eq(json_str(r.json, "kind"), "Status");
        cr_assert_str_eq(json_str(r.json, "status"), "Failure");
        cr_assert_str_eq(json_str(r.json, "reason"), "NotFound");
        cr_assert_str_eq(json_str(r.json, "message"), "the server could not find the requested resource");
        cr_assert_eq(json_int(r.json, "code", 0), 404);
        http_reply_done(&r);
        api_test_stop(&t);
}

Test(api_routes, answers_wrong_methods_with_405)
{
        static const char *const cases[][2] = {
            {"POST", "/version"},
            {"PATCH", "/api/v1/namespaces/default/pods/web"},
            {"POST", "/api/v1/pods"},
            {"DELETE", "/api/v1/namespaces/default/pods/web/log"},
            {"GET", "/apis/berth.dev/v1/apply"},
        };
        ApiTest t;

        api_test_start(&t, false);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                HttpReply r;

                api_test_request(&t, cases[i][0], cases[i][1], NULL, &r);
                cr_assert_eq(r.code, 405, "%s %s", cases[i][0], cases[i][1]);
                cr_assert_str_eq(json_str(r.json, "reason"), "MethodNotAllowed");
                cr_assert_eq(json_int(r.json, "code", 0), 405);
                http_reply_done(&r);
        }
        api_test_stop(&t);
}

Test(api_select, matches_equality_and_inequality_terms)
{
        _cleanup_(api_field_selector_freep) ApiFieldSelector *sel = NULL;
        _cleanup_json_ cJSON *ev =
            cJSON_Parse("{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\",\"uid\":\"u1\"},"
                        "\"count\":3}");
        char *err = NULL;

        cr_assert_eq(api_field_selector_parse("involvedObject.name=web, involvedObject.kind==Pod,count!=4",
                                              &sel, &err),
                     0);
        cr_assert_null(err);
        cr_assert(api_field_selector_matches(sel, ev));
        cr_assert_str_eq(api_field_selector_value(sel, "involvedObject.name"), "web");
        cr_assert_null(api_field_selector_value(sel, "count"));
        cJSON_ReplaceItemInObject(json_path(ev, "involvedObject"), "kind", cJSON_CreateString("Job"));
        cr_assert_not(api_field_selector_matches(sel, ev));
}

Test(api_select, treats_missing_fields_as_empty)
{
        _cleanup_(api_field_selector_freep) ApiFieldSelector *sel = NULL;
        _cleanup_json_ cJSON *obj = cJSON_Parse("{\"spec\":{}}");
        char *err = NULL;

        cr_assert_eq(api_field_selector_parse("spec.nodeName=", &sel, &err), 0);
        cr_assert(api_field_selector_matches(sel, obj));
}

Test(api_select, selects_everything_when_empty)
{
        _cleanup_(api_field_selector_freep) ApiFieldSelector *sel = NULL;
        _cleanup_json_ cJSON *obj = cJSON_Parse("{}");
        char *err = NULL;

        cr_assert_eq(api_field_selector_parse(NULL, &sel, &err), 0);
        cr_assert(api_field_selector_matches(sel, obj));
        cr_assert(api_field_selector_matches(NULL, obj));
}

Test(api_select, rejects_terms_without_an_operator)
{
        ApiFieldSelector *sel = NULL;
        char *err = NULL;

        cr_assert_eq(api_field_selector_parse("a=b,spec.nodeName", &sel, &err), -EINVAL);
        cr_assert_null(sel);
        cr_assert_not_null(err);
        cr_assert(strstr(err, "spec.nodeName"), "%s", err);
        free(err);
        cr_assert_eq(api_field_selector_parse("=x", &sel, &err), -EINVAL);
        free(err);
}
