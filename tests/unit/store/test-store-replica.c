/* store_apply_replica(): the writer's uid and creationTimestamp kept on create, required, taken
 * over by an existing object of another uid (whose status goes on), and a no-op apply. */
#include "store-test-util.h"

TestSuite(store_replica, .init = store_setup, .fini = store_teardown);

#define UID_A "11111111-2222-4333-8444-555555555555"
#define UID_B "66666666-7777-4888-8999-000000000000"
#define TS_A "2026-01-02T03:04:05Z"

static cJSON *make_set(const char *uid, const char *ts, int replicas)
{
        cJSON *set =
            parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
                  "\"metadata\":{\"name\":\"db\",\"namespace\":\"prod\",\"labels\":{\"app\":\"db\"}},"
                  "\"spec\":{\"serviceName\":\"db\"}}");
        cJSON *meta = json_path(set, "metadata");

        if (uid)
                cr_assert_eq(json_set_string(meta, "uid", uid), 0);
        if (ts)
                cr_assert_eq(json_set_string(meta, "creationTimestamp", ts), 0);
        cr_assert_eq(json_set_int(json_path(set, "spec"), "replicas", replicas), 0);
        return set;
}

Test(store_replica, create_keeps_the_writers_uid_and_creation_timestamp)
{
        _cleanup_json_ cJSON *set = make_set(UID_A, TS_A, 3), *ret = NULL, *got = NULL;
        bool created = false, changed = false;

        cJSON_AddStringToObject(json_path(set, "metadata"), "resourceVersion", "999");
        cr_assert_eq(store_apply_replica(store, set, &ret, &created, &changed), 0);
        cr_assert(created);
        cr_assert(changed);
        cr_assert_str_eq(json_str(ret, "metadata.uid"), UID_A);
        cr_assert_str_eq(json_str(ret, "metadata.creationTimestamp"), TS_A);
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 1);
        /* the resourceVersion is this store's, not the writer's */
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "1");
        cr_assert_eq(store_get(store, "StatefulSet", "prod", "db", &got), 0);
        cr_assert(cJSON_Compare(got, ret, true));
}

Test(store_replica, refuses_an_object_without_uid_or_creation_timestamp)
{
        _cleanup_json_ cJSON *no_uid = make_set(NULL, TS_A, 1), *no_ts = make_set(UID_A, NULL, 1),
                             *got = NULL;

        cr_assert_eq(store_apply_replica(store, no_uid, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(store_apply_replica(store, no_ts, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(store_get(store, "StatefulSet", "prod", "db", &got), -ENOENT);
        cr_assert_eq(store_resource_version(store), 0);
}

Test(store_replica, existing_object_of_another_uid_takes_the_new_uid_and_keeps_status)
{
        _cleanup_json_ cJSON *local = make_set(NULL, NULL, 1), *mine = NULL, *status = NULL,
                             *remote = make_set(UID_B, TS_A, 2), *ret = NULL;
        bool created = true, changed = false;

        cr_assert_eq(store_apply(store, local, &mine, NULL, NULL), 0);
        status = parse("{\"readyReplicas\":1}");
        cr_assert_eq(store_update_status(store, "StatefulSet", "prod", "db", status), 0);
        cr_assert_str_neq(json_str(mine, "metadata.uid"), UID_B);

        cr_assert_eq(store_apply_replica(store, remote, &ret, &created, &changed), 0);
        cr_assert_not(created);
        cr_assert(changed);
        cr_assert_str_eq(json_str(ret, "metadata.uid"), UID_B);
        cr_assert_str_eq(json_str(ret, "metadata.creationTimestamp"), TS_A);
        cr_assert_eq(json_int(ret, "spec.replicas", 0), 2);
        cr_assert_eq(json_int(ret, "status.readyReplicas", 0), 1);
        /* spec changed: the generation moves on from the local one */
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 2);
}

Test(store_replica, same_uid_changes_spec_and_keeps_the_local_uid)
{
        _cleanup_json_ cJSON *a = make_set(UID_A, TS_A, 1), *b = make_set(UID_A, "2030-01-01T00:00:00Z", 5),
                             *ret = NULL;

        cr_assert_eq(store_apply_replica(store, a, NULL, NULL, NULL), 0);
        cr_assert_eq(store_apply_replica(store, b, &ret, NULL, NULL), 0);
        cr_assert_eq(json_int(ret, "spec.replicas", 0), 5);
        cr_assert_str_eq(json_str(ret, "metadata.creationTimestamp"), TS_A);
        cr_assert_eq(json_int(ret, "metadata.generation", 0), 2);
}

Test(store_replica, no_op_apply_reports_unchanged)
{
        _cleanup_json_ cJSON *set = make_set(UID_A, TS_A, 3), *ret = NULL;
        bool created = true, changed = true;
        uint64_t rv;

        cr_assert_eq(store_apply_replica(store, set, NULL, NULL, NULL), 0);
        rv = store_resource_version(store);
        cr_assert_eq(store_apply_replica(store, set, &ret, &created, &changed), 0);
        cr_assert_not(created);
        cr_assert_not(changed);
        cr_assert_eq(store_resource_version(store), rv);
        cr_assert_str_eq(json_str(ret, "metadata.uid"), UID_A);
}
