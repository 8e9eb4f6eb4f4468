/* Deletion as the apiserver and its garbage collector do it: pods marked with their grace,
 * other kinds removed with their dependents (by ownerReferences uid), orphaning, and the
 * whole cascade as one operation. */
#include "store-test-util.h"

TestSuite(store_delete, .init = store_setup, .fini = store_teardown);

/* Creates a ConfigMap in ns, owned by the object owner (when given); returns its uid (malloc'd). */
static char *create_cm(const char *ns, const char *name, const cJSON *owner)
{
        _cleanup_json_ cJSON *cm = parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}");
        _cleanup_json_ cJSON *stored = NULL;
        cJSON *meta = json_path(cm, "metadata");

        cr_assert_eq(json_set_string(meta, "name", name), 0);
        cr_assert_eq(json_set_string(meta, "namespace", ns), 0);
        if (owner) {
                cJSON *refs = cJSON_AddArrayToObject(meta, "ownerReferences");
                cJSON *ref = cJSON_CreateObject();
                cr_assert_eq(json_set_string(ref, "kind", json_str(owner, "kind")), 0);
                cr_assert_eq(json_set_string(ref, "name", json_str(owner, "metadata.name")), 0);
                cr_assert_eq(json_set_string(ref, "uid", json_str(owner, "metadata.uid")), 0);
                cr_assert(cJSON_AddItemToArray(refs, ref));
        }
        cr_assert_eq(store_create(store, cm, &stored), 0);
        return strdup(json_str(stored, "metadata.uid"));
}

static cJSON *get(const char *kind, const char *ns, const char *name)
{
        cJSON *obj = NULL;

        cr_assert_eq(store_get(store, kind, ns, name, &obj), 0, "%s %s/%s is gone", kind, ns, name);
        return obj;
}

static bool exists(const char *kind, const char *ns, const char *name)
{
        _cleanup_json_ cJSON *obj = NULL;
        int r = store_get(store, kind, ns, name, &obj);

        cr_assert(r == 0 || r == -ENOENT);
        return r == 0;
}

/* A pod owned by owner, with terminationGracePeriodSeconds grace (none when < 0). */
static void create_pod(const char *ns, const char *name, const cJSON *owner, int grace)
{
        _cleanup_json_ cJSON *pod = make_pod(ns, name, "nginx", NULL);
        cJSON *meta = json_path(pod, "metadata");

        if (grace >= 0)
                cr_assert_eq(json_set_int(json_path(pod, "spec"), "terminationGracePeriodSeconds", grace),
                             0);
        if (owner) {
                cJSON *ref = cJSON_CreateObject();
                cr_assert_eq(json_set_string(ref, "uid", json_str(owner, "metadata.uid")), 0);
                cr_assert(cJSON_AddItemToArray(cJSON_AddArrayToObject(meta, "ownerReferences"), ref));
        }
        cr_assert_eq(store_create(store, pod, NULL), 0);
}

Test(store_delete, marks_a_pod_instead_of_removing_it)
{
        _cleanup_json_ cJSON *ret = NULL, *got = NULL;

        create_pod("default", "web", NULL, -1);
        cr_assert_eq(
            store_delete_object(store, "Pod", "default", "web", 5, STORE_PROPAGATE_BACKGROUND, &ret), 0);
        cr_assert_not_null(json_str(ret, "metadata.deletionTimestamp"));
        cr_assert_eq(json_int(ret, "metadata.deletionGracePeriodSeconds", -1), 5);
        got = get("Pod", "default", "web");
        cr_assert(cJSON_Compare(got, ret, true));
}

Test(store_delete, takes_the_grace_period_from_the_pod_spec_or_thirty_seconds)
{
        _cleanup_json_ cJSON *a = NULL, *b = NULL;

        create_pod("default", "a", NULL, 7);
        create_pod("default", "b", NULL, -1);
        cr_assert_eq(store_delete_object(store, "Pod", NULL, "a", -1, STORE_PROPAGATE_BACKGROUND, &a), 0);
        cr_assert_eq(store_delete_object(store, "Pod", NULL, "b", -1, STORE_PROPAGATE_BACKGROUND, &b), 0);
        cr_assert_eq(json_int(a, "metadata.deletionGracePeriodSeconds", -1), 7);
        cr_assert_eq(json_int(b, "metadata.deletionGracePeriodSeconds", -1), 30);
}

Test(store_delete, cascades_through_two_levels_of_dependents)
{
        _cleanup_free_ char *owner_uid = create_cm("default", "owner", NULL), *other_uid = NULL;
        _cleanup_json_ cJSON *owner = get("ConfigMap", "default", "owner"), *child = NULL, *pod = NULL;
        _cleanup_json_ cJSON *ret = NULL;
        _cleanup_free_ char *child_uid = create_cm("default", "child", owner);

        child = get("ConfigMap", "default", "child");
        free(create_cm("default", "grandchild", child));
        create_pod("default", "p", child, 3);
        /* same owner uid in another namespace: not a dependent */
        other_uid = create_cm("other", "stranger", owner);
        free(create_cm("default", "unrelated", NULL));

        cr_assert_eq(store_delete_object(store, "ConfigMap", "default", "owner", -1,
                                         STORE_PROPAGATE_FOREGROUND, &ret),
                     0);
        cr_assert_str_eq(json_str(ret, "metadata.uid"), owner_uid);
        cr_assert_not(exists("ConfigMap", "default", "owner"));
        cr_assert_not(exists("ConfigMap", "default", "child"));
        cr_assert_not(exists("ConfigMap", "default", "grandchild"));
        cr_assert(exists("ConfigMap", "default", "unrelated"));
        cr_assert(exists("ConfigMap", "other", "stranger"));
        /* the pod two levels down is marked with its own grace */
        pod = get("Pod", "default", "p");
        cr_assert_not_null(json_str(pod, "metadata.deletionTimestamp"));
        cr_assert_eq(json_int(pod, "metadata.deletionGracePeriodSeconds", -1), 3);
}

Test(store_delete, orphaning_removes_only_the_owner_reference)
{
        _cleanup_free_ char *owner_uid = create_cm("default", "owner", NULL), *child_uid = NULL;
        _cleanup_json_ cJSON *owner = get("ConfigMap", "default", "owner"), *child = NULL, *pod = NULL;

        child_uid = create_cm("default", "child", owner);
        create_pod("default", "p", owner, -1);
        cr_assert_eq(
            store_delete_object(store, "ConfigMap", "default", "owner", -1, STORE_PROPAGATE_ORPHAN, NULL),
            0);
        cr_assert_not(exists("ConfigMap", "default", "owner"));
        child = get("ConfigMap", "default", "child");
        cr_assert_null(json_path(child, "metadata.ownerReferences"));
        cr_assert_str_eq(json_str(child, "metadata.uid"), child_uid);
        pod = get("Pod", "default", "p");
        cr_assert_null(json_path(pod, "metadata.ownerReferences"));
        cr_assert_null(json_str(pod, "metadata.deletionTimestamp"));
}

Test(store_delete, missing_object_is_enoent_and_changes_nothing)
{
        uint64_t rv;
        cJSON *ret = NULL;

        free(create_cm("default", "cm", NULL));
        rv = store_resource_version(store);
        cr_assert_eq(
            store_delete_object(store, "ConfigMap", "default", "nope", -1, STORE_PROPAGATE_BACKGROUND, &ret),
            -ENOENT);
        cr_assert_eq(
            store_delete_object(store, "Pod", "default", "nope", -1, STORE_PROPAGATE_BACKGROUND, &ret),
            -ENOENT);
        cr_assert_null(ret);
        cr_assert_eq(store_resource_version(store), rv);
        cr_assert_eq(
            store_delete_object(store, "ConfigMap", "default", NULL, -1, STORE_PROPAGATE_BACKGROUND, NULL),
            -EINVAL);
}

static unsigned n_changes;

static void count_changes(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        n_changes++;
}

/* ConfigMap "owner" and its dependent "child" in default; then counts changes from zero. */
static void create_owner_and_child(void)
{
        _cleanup_json_ cJSON *owner = NULL;

        free(create_cm("default", "owner", NULL));
        owner = get("ConfigMap", "default", "owner");
        free(create_cm("default", "child", owner));
        store_set_on_change(store, count_changes, NULL);
        n_changes = 0;
}

Test(store_delete, joins_an_open_transaction_and_rolls_back_with_it)
{
        create_owner_and_child();
        cr_assert_eq(store_begin(store), 0);
        cr_assert_eq(store_delete_object(store, "ConfigMap", "default", "owner", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        cr_assert_not(exists("ConfigMap", "default", "child"));
        store_rollback(store);
        cr_assert_eq(n_changes, 0);
        cr_assert(exists("ConfigMap", "default", "owner"));
        cr_assert(exists("ConfigMap", "default", "child"));
}

Test(store_delete, reports_the_owner_and_its_dependents_after_commit)
{
        create_owner_and_child();
        cr_assert_eq(store_delete_object(store, "ConfigMap", "default", "owner", -1,
                                         STORE_PROPAGATE_BACKGROUND, NULL),
                     0);
        cr_assert_eq(n_changes, 2);
}
