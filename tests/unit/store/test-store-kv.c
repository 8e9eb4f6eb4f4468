/* The key/value table. */
#include "store-test-util.h"

TestSuite(store_kv, .init = store_setup, .fini = store_teardown);

Test(store_kv, sets_gets_overwrites_and_deletes)
{
        _cleanup_json_ cJSON *v1 = parse("{\"backoff\":10}"), *v2 = parse("[1,2]"), *got = NULL;

        cr_assert_eq(store_kv_get(store, "k", &got), -ENOENT);
        cr_assert_eq(store_kv_set(store, "k", v1), 0);
        cr_assert_eq(store_kv_get(store, "k", &got), 0);
        cr_assert(cJSON_Compare(got, v1, true));
        cJSON_Delete(got);
        cr_assert_eq(store_kv_set(store, "k", v2), 0);
        cr_assert_eq(store_kv_get(store, "k", &got), 0);
        cr_assert(cJSON_IsArray(got));
        cJSON_Delete(got);
        got = NULL;
        cr_assert_eq(store_kv_delete(store, "k"), 0);
        cr_assert_eq(store_kv_delete(store, "k"), -ENOENT);
        cr_assert_eq(store_kv_get(store, "k", &got), -ENOENT);
        cr_assert_eq(store_resource_version(store), 0, "kv writes are not object changes");
}

Test(store_kv, values_survive_reopen_and_roll_back_with_a_transaction)
{
        _cleanup_json_ cJSON *v = parse("\"node-1\""), *got = NULL;

        cr_assert_eq(store_kv_set(store, "identity", v), 0);
        cr_assert_eq(store_begin(store), 0);
        cr_assert_eq(store_kv_set(store, "tmp", v), 0);
        cr_assert_eq(store_kv_delete(store, "identity"), 0);
        store_rollback(store);
        store_reopen();
        cr_assert_eq(store_kv_get(store, "identity", &got), 0);
        cr_assert_str_eq(cJSON_GetStringValue(got), "node-1");
        cJSON_Delete(got);
        got = NULL;
        cr_assert_eq(store_kv_get(store, "tmp", &got), -ENOENT);
}

Test(store_kv, rejects_empty_keys_and_reports_damaged_values)
{
        _cleanup_json_ cJSON *v = parse("1"), *got = NULL;

        cr_assert_eq(store_kv_set(store, "", v), -EINVAL);
        cr_assert_eq(store_kv_set(store, "k", NULL), -EINVAL);
        cr_assert_eq(store_kv_set(store, "k", v), 0);
        sql_behind_back("UPDATE kv SET json = '{broken' WHERE key = 'k'");
        cr_assert_eq(store_kv_get(store, "k", &got), -EBADMSG);
}
