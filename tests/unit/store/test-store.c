/* Objects in the store: server-owned metadata, create/apply/update/status/delete/mark,
 * listing with namespaces, selectors and order, and bad input. */
#include <time.h>

#include "store-test-util.h"

TestSuite(store, .init = store_setup, .fini = store_teardown);

Test(store, fills_metadata_on_create)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *ret = NULL, *got = NULL;
        usec_t t;

        cr_assert_eq(store_create(store, pod, &ret), 0);
        cr_assert_str_eq(json_str(ret, "metadata.namespace"), "default");
        cr_assert_eq(strlen(json_str(ret, "metadata.uid")), 36);
        cr_assert_eq(json_str(ret, "metadata.uid")[14], '4');
        cr_assert_eq(parse_rfc3339(json_str(ret, "metadata.creationTimestamp"), &t), 0);
        cr_assert(endswith(json_str(ret, "metadata.creationTimestamp"), "Z"));
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "1");
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 1);
        cr_assert_eq(store_resource_version(store), 1);
        /* the caller's object is not touched */
        cr_assert_null(json_path(pod, "metadata.uid"));

        cr_assert_eq(store_get(store, "Pod", "default", "web", &got), 0);
        cr_assert(cJSON_Compare(got, ret, true));
}

Test(store, refuses_duplicate_create_with_eexist)
{
        _cleanup_json_ cJSON *pod = make_pod("prod", "web", "nginx", NULL);

        cr_assert_eq(store_create(store, pod, NULL), 0);
        cr_assert_eq(store_create(store, pod, NULL), -EEXIST);
        cr_assert_eq(store_resource_version(store), 1);
}

Test(store, generates_a_name_from_generate_name)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "x", "nginx", NULL), *a = NULL, *b = NULL;

        cJSON_DeleteItemFromObject(json_path(pod, "metadata"), "name");
        json_set_string(json_path(pod, "metadata"), "generateName", "job-");
        cr_assert_eq(store_create(store, pod, &a), 0);
        cr_assert_eq(store_create(store, pod, &b), 0);
        cr_assert(startswith(json_str(a, "metadata.name"), "job-"));
        cr_assert_eq(strlen(json_str(a, "metadata.name")), 9);
        cr_assert_str_neq(json_str(a, "metadata.name"), json_str(b, "metadata.name"));
}

Test(store, stores_cluster_scoped_kinds_without_namespace)
{
        _cleanup_json_ cJSON *node =
            parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"namespace\":\"x\"}}");
        _cleanup_json_ cJSON *ret = NULL, *got = NULL, *list = NULL;

        cr_assert_eq(store_create(store, node, &ret), 0);
        cr_assert_null(json_path(ret, "metadata.namespace"));
        cr_assert_eq(store_get(store, "Node", NULL, "n1", &got), 0);
        cr_assert_eq(store_list(store, "Node", "default", NULL, &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
}

Test(store, rejects_objects_without_kind_or_name)
{
        _cleanup_json_ cJSON *nokind = parse("{\"metadata\":{\"name\":\"a\"}}");
        _cleanup_json_ cJSON *noname = parse("{\"kind\":\"Pod\",\"metadata\":{}}");
        _cleanup_json_ cJSON *badmeta = parse("{\"kind\":\"Pod\",\"metadata\":[1]}");
        _cleanup_json_ cJSON *arr = parse("[1]");

        cr_assert_eq(store_create(store, nokind, NULL), -EINVAL);
        cr_assert_eq(store_create(store, noname, NULL), -EINVAL);
        cr_assert_eq(store_create(store, badmeta, NULL), -EINVAL);
        cr_assert_eq(store_create(store, arr, NULL), -EINVAL);
        cr_assert_eq(store_apply(store, noname, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(store_update(store, NULL, NULL), -EINVAL);
        cJSON *none = NULL;
        cr_assert_eq(store_get(store, "Pod", NULL, "", &none), -EINVAL);
        cr_assert_eq(store_resource_version(store), 0);
}

Test(store, apply_creates_configures_and_leaves_unchanged)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", "web"), *ret = NULL;
        bool created, changed;

        cr_assert_eq(store_apply(store, pod, &ret, &created, &changed), 0);
        cr_assert(created && changed);
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 1);
        cJSON_Delete(ret);

        cr_assert_eq(store_apply(store, pod, &ret, &created, &changed), 0);
        cr_assert(!created && !changed);
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "1");
        cJSON_Delete(ret);

        /* labels only: resourceVersion moves, generation does not */
        json_set_string(json_path(pod, "metadata.labels"), "tier", "front");
        cr_assert_eq(store_apply(store, pod, &ret, &created, &changed), 0);
        cr_assert(!created && changed);
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "2");
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 1);
        cr_assert_str_eq(json_str(ret, "metadata.labels.tier"), "front");
        cJSON_Delete(ret);

        /* spec: generation moves */
        json_set_string(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image", "nginx:2");
        cr_assert_eq(store_apply(store, pod, &ret, &created, &changed), 0);
        cr_assert(changed);
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 2);
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "3");
}

Test(store, apply_keeps_uid_creation_timestamp_and_status)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", "web"), *first = NULL, *ret = NULL;
        _cleanup_json_ cJSON *status = parse("{\"phase\":\"Running\"}");

        cr_assert_eq(store_apply(store, pod, &first, NULL, NULL), 0);
        cr_assert_eq(store_update_status(store, "Pod", NULL, "web", status), 0);
        json_set_string(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image", "nginx:2");
        json_set_string(json_path(pod, "metadata"), "uid", "forged");
        cJSON_DeleteItemFromObject(json_path(pod, "metadata"), "labels");
        cr_assert_eq(store_apply(store, pod, &ret, NULL, NULL), 0);
        cr_assert_str_eq(json_str(ret, "metadata.uid"), json_str(first, "metadata.uid"));
        cr_assert_str_eq(json_str(ret, "metadata.creationTimestamp"),
                         json_str(first, "metadata.creationTimestamp"));
        cr_assert_str_eq(json_str(ret, "status.phase"), "Running");
        cr_assert_null(json_path(ret, "metadata.labels"), "labels absent from the manifest are removed");
}

Test(store, apply_of_configmap_data_bumps_resource_version_not_generation)
{
        _cleanup_json_ cJSON *cm =
            parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"},"
                  "\"data\":{\"a\":\"1\"}}");
        _cleanup_json_ cJSON *ret = NULL;
        bool changed;

        cr_assert_eq(store_apply(store, cm, NULL, NULL, NULL), 0);
        json_set_string(json_path(cm, "data"), "a", "2");
        json_set_bool(cm, "immutable", true);
        cr_assert_eq(store_apply(store, cm, &ret, NULL, &changed), 0);
        cr_assert(changed);
        cr_assert_str_eq(json_str(ret, "data.a"), "2");
        cr_assert(json_bool(ret, "immutable", false));
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 1);
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "2");
}

Test(store, update_with_stale_resource_version_fails_with_estale)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *a = NULL, *b = NULL;

        cr_assert_eq(store_create(store, pod, &a), 0);
        json_set_string(json_path(a, "metadata"), "resourceVersion", "1");
        json_set_string(json_ensure_object(json_path(a, "metadata"), "annotations"), "x", "1");
        cr_assert_eq(store_update(store, a, &b), 0);
        cr_assert_str_eq(json_str(b, "metadata.resourceVersion"), "2");
        /* a writes again with the old version: conflict, nothing written */
        json_set_string(json_path(a, "metadata.annotations"), "x", "2");
        cr_assert_eq(store_update(store, a, NULL), -ESTALE);
        cr_assert_eq(store_resource_version(store), 2);
        /* a numeric resourceVersion is malformed */
        json_set_int(json_path(a, "metadata"), "resourceVersion", 2);
        cr_assert_eq(store_update(store, a, NULL), -EINVAL);
}

Test(store, update_keeps_server_fields_and_bumps_generation_on_spec_change)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *a = NULL, *b = NULL, *c = NULL;

        cr_assert_eq(store_create(store, pod, &a), 0);
        /* no resourceVersion: an unconditional update */
        json_set_string(json_path(pod, "metadata"), "uid", "forged");
        json_set_string(json_path(pod, "metadata"), "deletionTimestamp", "2020-01-01T00:00:00Z");
        json_set_string(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image", "nginx:2");
        cr_assert_eq(store_update(store, pod, &b), 0);
        cr_assert_str_eq(json_str(b, "metadata.uid"), json_str(a, "metadata.uid"));
        cr_assert_null(json_path(b, "metadata.deletionTimestamp"));
        cr_assert_eq(json_int(b, "metadata.generation", 0), 2);
        /* the same content again changes nothing */
        cr_assert_eq(store_update(store, b, &c), 0);
        cr_assert_str_eq(json_str(c, "metadata.resourceVersion"), json_str(b, "metadata.resourceVersion"));
        cJSON_Delete(pod);
        pod = make_pod(NULL, "nope", "x", NULL);
        cr_assert_eq(store_update(store, pod, NULL), -ENOENT);
}

Test(store, update_status_replaces_only_status)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *a = NULL, *b = NULL;
        _cleanup_json_ cJSON *status = parse("{\"phase\":\"Pending\"}");

        cr_assert_eq(store_create(store, pod, &a), 0);
        cr_assert_eq(store_update_status(store, "Pod", "default", "web", status), 0);
        cr_assert_eq(store_get(store, "Pod", "default", "web", &b), 0);
        cr_assert_str_eq(json_str(b, "status.phase"), "Pending");
        cr_assert(cJSON_Compare(json_path(a, "spec"), json_path(b, "spec"), true));
        cr_assert_eq(json_int(b, "metadata.generation", 0), 1);
        cr_assert_str_eq(json_str(b, "metadata.resourceVersion"), "2");
        /* the same status again is not a change */
        cr_assert_eq(store_update_status(store, "Pod", "default", "web", status), 0);
        cr_assert_eq(store_resource_version(store), 2);
        cr_assert_eq(store_update_status(store, "Pod", "default", "missing", status), -ENOENT);
}

Test(store, delete_removes_the_object_and_returns_its_last_state)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *last = NULL, *got = NULL;

        cr_assert_eq(store_create(store, pod, NULL), 0);
        cr_assert_eq(store_delete(store, "Pod", NULL, "web", &last), 0);
        cr_assert_str_eq(json_str(last, "metadata.name"), "web");
        cr_assert_str_eq(json_str(last, "metadata.resourceVersion"), "2");
        cr_assert_eq(store_get(store, "Pod", NULL, "web", &got), -ENOENT);
        cr_assert_eq(store_delete(store, "Pod", NULL, "web", NULL), -ENOENT);
        /* the name is free again */
        cr_assert_eq(store_create(store, pod, NULL), 0);
}

Test(store, mark_deleted_sets_deletion_timestamp_once)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "web", "nginx", NULL), *a = NULL, *b = NULL;

        cr_assert_eq(store_create(store, pod, NULL), 0);
        cr_assert_eq(store_mark_deleted(store, "Pod", NULL, "web", 30, &a), 0);
        cr_assert_not_null(json_str(a, "metadata.deletionTimestamp"));
        cr_assert_eq(json_int(a, "metadata.deletionGracePeriodSeconds", -1), 30);
        cr_assert_eq(json_int(a, "metadata.generation", 0), 2);
        cr_assert_eq(store_mark_deleted(store, "Pod", NULL, "web", 0, &b), 0);
        cr_assert_eq(json_int(b, "metadata.deletionGracePeriodSeconds", -1), 30);
        cr_assert_str_eq(json_str(b, "metadata.resourceVersion"), json_str(a, "metadata.resourceVersion"));
        cr_assert_eq(store_mark_deleted(store, "Pod", NULL, "gone", 0, NULL), -ENOENT);
        cr_assert_eq(store_mark_deleted(store, "Pod", NULL, "web", -1, NULL), -EINVAL);
}

static void create_pod(const char *ns, const char *name, const char *app)
{
        _cleanup_json_ cJSON *pod = make_pod(ns, name, "img", app);

        cr_assert_eq(store_create(store, pod, NULL), 0);
}

Test(store, lists_by_namespace_and_selector_sorted)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        _cleanup_json_ cJSON *all = NULL, *prod = NULL, *web = NULL;
        _cleanup_json_ cJSON *svc = parse("{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}");
        static const char *const order[] = {"default/a", "default/b", "prod/a", "prod/c"};
        int i = 0;
        cJSON *o;

        create_pod("prod", "c", "web");
        create_pod("default", "b", "db");
        create_pod("prod", "a", "db");
        create_pod("default", "a", "web");
        cr_assert_eq(store_create(store, svc, NULL), 0);

        cr_assert_eq(store_list(store, "Pod", NULL, NULL, &all), 0);
        cr_assert_eq(cJSON_GetArraySize(all), 4);
        cJSON_ArrayForEach (o, all) {
                char key[64];
                snprintf(key, sizeof(key), "%s/%s", json_str(o, "metadata.namespace"),
                         json_str(o, "metadata.name"));
                cr_assert_str_eq(key, order[i++]);
        }
        cr_assert_eq(store_list(store, "Pod", "prod", NULL, &prod), 0);
        cr_assert_eq(cJSON_GetArraySize(prod), 2);
        cr_assert_eq(label_selector_parse("app=web", &sel, NULL), 0);
        cr_assert_eq(store_list(store, "Pod", NULL, sel, &web), 0);
        cr_assert_eq(cJSON_GetArraySize(web), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(web, 0), "metadata.namespace"), "default");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(web, 1), "metadata.name"), "c");
}

Test(store, lists_a_thousand_pods_in_milliseconds)
{
        _cleanup_json_ cJSON *list = NULL;
        struct timespec a, b;

        cr_assert_eq(store_begin(store), 0);
        for (int i = 0; i < 1000; i++) {
                char name[32];
                snprintf(name, sizeof(name), "pod-%04d", i);
                create_pod("default", name, i % 2 ? "web" : "db");
        }
        cr_assert_eq(store_commit(store), 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        cr_assert_eq(store_list(store, "Pod", "default", NULL, &list), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        cr_assert_eq(cJSON_GetArraySize(list), 1000);
        /* generous for sanitizer builds; a plain build takes a few ms */
        cr_assert_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 1000);
}

Test(store, corrupt_json_in_a_row_is_ebadmsg)
{
        _cleanup_json_ cJSON *got = NULL, *list = NULL;

        create_pod(NULL, "web", NULL);
        sql_behind_back("UPDATE objects SET json = '{\"kind\": oops' WHERE name = 'web'");
        cr_assert_eq(store_get(store, "Pod", NULL, "web", &got), -EBADMSG);
        cr_assert_eq(store_list(store, "Pod", NULL, NULL, &list), -EBADMSG);
        cr_assert_eq(store_update_status(store, "Pod", NULL, "web", NULL), -EBADMSG);
        cr_assert_null(got);
        cr_assert_null(list);
}

static cJSON *owned_pod(const char *name, const char *owner_uid, bool controller)
{
        _cleanup_free_ char *s = NULL;

        cr_assert_geq(
            asprintf_safe(
                &s,
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"j\","
                "\"uid\":\"%s\",\"controller\":%s}]},\"spec\":{}}",
                name, owner_uid, controller ? "true" : "false"),
            0);
        return parse(s);
}

Test(store, lists_the_children_of_a_controller_through_its_uid)
{
        _cleanup_json_ cJSON *a = owned_pod("a", "u-1", true), *b = owned_pod("b", "u-2", true),
                             *c = owned_pod("c", "u-1", false), *d = owned_pod("d", "u-1", true),
                             *list = NULL;

        cr_assert_eq(store_create(store, a, NULL), 0);
        cr_assert_eq(store_create(store, b, NULL), 0);
        cr_assert_eq(store_create(store, c, NULL), 0); /* owned, but not as its controller */
        cr_assert_eq(store_create(store, d, NULL), 0);
        cr_assert_eq(store_list_owned(store, "Pod", "default", "u-1", &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 2);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 0), "metadata.name"), "a");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(list, 1), "metadata.name"), "d");
        cJSON_Delete(list);
        list = NULL;
        /* the owner changes with the object */
        cJSON_DeleteItemFromObject(json_path(d, "metadata"), "ownerReferences");
        cr_assert_eq(store_update(store, d, NULL), 0);
        cr_assert_eq(store_list_owned(store, "Pod", "default", "u-1", &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        cJSON_Delete(list);
        list = NULL;
        cr_assert_eq(store_list_owned(store, "Pod", "other", "u-1", &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 0);
        cJSON_Delete(list);
        list = NULL;
}

Test(store, migrates_a_version_1_database_and_fills_the_owner_index)
{
        _cleanup_json_ cJSON *a = owned_pod("a", "u-1", true), *list = NULL;

        cr_assert_eq(store_create(store, a, NULL), 0);
        /* turn the file back into what berth's first schema wrote */
        sql_behind_back("DROP INDEX objects_by_owner; ALTER TABLE objects DROP COLUMN owner_uid; "
                        "PRAGMA user_version = 1;");
        store_reopen();
        cr_assert_eq(store_list_owned(store, "Pod", "default", "u-1", &list), 0);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
}
