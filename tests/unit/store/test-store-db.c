/* The database underneath: reopening, schema versions, damaged files, transactions and the
 * change callbacks fired after COMMIT. */
#include <fcntl.h>
#include <sys/stat.h>

#include "store-internal.h"
#include "store-test-util.h"

TestSuite(store_db, .init = store_setup, .fini = store_teardown);

typedef struct Seen {
        unsigned n;
        StoreChange changes[8];
        char names[8][64];
        bool visible[8]; /* the object was readable from the store during the callback */
} Seen;

static void on_change(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        Seen *seen = userdata;
        _cleanup_json_ cJSON *got = NULL;

        cr_assert_lt(seen->n, 8);
        seen->changes[seen->n] = change;
        snprintf(seen->names[seen->n], sizeof(seen->names[0]), "%s", json_str(obj, "metadata.name"));
        seen->visible[seen->n] = store_get(s, json_str(obj, "kind"), json_str(obj, "metadata.namespace"),
                                           json_str(obj, "metadata.name"), &got) == 0;
        seen->n++;
}

static void create_pod(const char *name)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, name, "img", NULL);

        cr_assert_eq(store_create(store, pod, NULL), 0);
}

Test(store_db, resource_version_survives_reopen)
{
        _cleanup_json_ cJSON *ret = NULL;

        create_pod("a");
        create_pod("b");
        cr_assert_eq(store_delete(store, "Pod", NULL, "b", NULL), 0);
        cr_assert_eq(store_resource_version(store), 3);
        store_reopen();
        cr_assert_eq(store_resource_version(store), 3);
        create_pod("c");
        cr_assert_eq(store_get(store, "Pod", NULL, "c", &ret), 0);
        cr_assert_str_eq(json_str(ret, "metadata.resourceVersion"), "4");
}

Test(store_db, creates_the_database_private_to_its_owner)
{
        _cleanup_free_ char *path = strjoin(test_dir, "/berth.db", NULL);
        struct stat st;

        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(store_db, creates_a_missing_state_directory)
{
        _cleanup_free_ char *sub = strjoin(test_dir, "/a/b", NULL);
        Store *other = NULL;

        cr_assert_eq(store_open(&other, sub), 0);
        store_free(other);
}

Test(store_db, refuses_a_corrupt_database_file_with_ebadmsg)
{
        _cleanup_free_ char *path = strjoin(test_dir, "/bad/berth.db", NULL);
        _cleanup_free_ char *dir = strjoin(test_dir, "/bad", NULL);
        char junk[8192];
        Store *other = NULL;

        memset(junk, 'x', sizeof(junk));
        memcpy(junk, "this is not a database", 22);
        cr_assert_eq(mkdir_p(dir, 0755), 0);
        cr_assert_eq(write_file_atomic(path, junk, sizeof(junk), 0600), 0);
        cr_assert_eq(store_open(&other, dir), -EBADMSG);
        cr_assert_null(other);
}

Test(store_db, refuses_a_newer_schema_with_eproto)
{
        Store *other = NULL;

        store = store_free(store);
        sql_behind_back("PRAGMA user_version = 99");
        cr_assert_eq(store_open(&other, test_dir), -EPROTO);
        cr_assert_null(other);
}

Test(store_db, rollback_leaves_nothing_and_fires_no_callbacks)
{
        _cleanup_json_ cJSON *got = NULL;
        Seen seen = {};

        store_set_on_change(store, on_change, &seen);
        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        create_pod("b");
        cr_assert_eq(store_resource_version(store), 2);
        store_rollback(store);
        cr_assert_eq(seen.n, 0);
        cr_assert_eq(store_resource_version(store), 0);
        cr_assert_eq(store_get(store, "Pod", NULL, "a", &got), -ENOENT);
        /* the counter really went back: the next write gets 1 */
        create_pod("c");
        cr_assert_eq(store_resource_version(store), 1);
}

Test(store_db, commit_fires_callbacks_once_per_object_after_commit)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "a", "img:2", NULL);
        _cleanup_json_ cJSON *status = parse("{\"phase\":\"Running\"}");
        Seen seen = {};

        store_set_on_change(store, on_change, &seen);
        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        create_pod("b");
        cr_assert_eq(store_apply(store, pod, NULL, NULL, NULL), 0);
        cr_assert_eq(store_update_status(store, "Pod", NULL, "b", status), 0);
        create_pod("tmp");
        cr_assert_eq(store_delete(store, "Pod", NULL, "tmp", NULL), 0);
        cr_assert_eq(seen.n, 0, "nothing is reported before COMMIT");
        cr_assert_eq(store_commit(store), 0);
        cr_assert_eq(seen.n, 2);
        cr_assert_eq(seen.changes[0], STORE_ADDED);
        cr_assert_str_eq(seen.names[0], "a");
        cr_assert_eq(seen.changes[1], STORE_ADDED);
        cr_assert_str_eq(seen.names[1], "b");
        cr_assert(seen.visible[0] && seen.visible[1]);
}

Test(store_db, single_operations_fire_after_their_own_commit)
{
        Seen seen = {};

        store_set_on_change(store, on_change, &seen);
        create_pod("a");
        cr_assert_eq(store_mark_deleted(store, "Pod", NULL, "a", 0, NULL), 0);
        cr_assert_eq(store_delete(store, "Pod", NULL, "a", NULL), 0);
        cr_assert_eq(seen.n, 3);
        cr_assert_eq(seen.changes[0], STORE_ADDED);
        cr_assert_eq(seen.changes[1], STORE_MODIFIED);
        cr_assert_eq(seen.changes[2], STORE_DELETED);
        cr_assert(seen.visible[0] && seen.visible[1] && !seen.visible[2]);
}

Test(store_db, writes_in_a_transaction_see_earlier_writes)
{
        _cleanup_json_ cJSON *pod = make_pod(NULL, "a", "img", NULL);
        bool created = true, changed = true;

        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        cr_assert_eq(store_apply(store, pod, NULL, &created, &changed), 0);
        cr_assert(!created && !changed);
        cr_assert_eq(store_commit(store), 0);
}

Test(store_db, a_failed_operation_does_not_spoil_the_transaction)
{
        _cleanup_json_ cJSON *a = NULL, *b = NULL;
        Seen seen = {};

        store_set_on_change(store, on_change, &seen);
        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        _cleanup_json_ cJSON *dup = make_pod(NULL, "a", "other", NULL);
        cr_assert_eq(store_create(store, dup, NULL), -EEXIST);
        create_pod("b");
        cr_assert_eq(store_commit(store), 0);
        cr_assert_eq(seen.n, 2);
        cr_assert_eq(store_get(store, "Pod", NULL, "a", &a), 0);
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(json_path(a, "spec.containers"), 0), "image"), "img");
        cr_assert_eq(store_get(store, "Pod", NULL, "b", &b), 0);
        cr_assert_str_eq(json_str(b, "metadata.resourceVersion"), "2");
}

Test(store_db, nested_begin_is_ebusy_and_commit_without_begin_is_einval)
{
        cr_assert_eq(store_begin(store), 0);
        cr_assert_eq(store_begin(store), -EBUSY);
        cr_assert_eq(store_commit(store), 0);
        cr_assert_eq(store_commit(store), -EINVAL);
        store_rollback(store); /* harmless */
}

static void on_change_writes(Store *s, StoreChange change, const cJSON *obj, void *userdata)
{
        _cleanup_json_ cJSON *status = parse("{\"phase\":\"Pending\"}");
        unsigned *calls = userdata;

        (*calls)++;
        if (change == STORE_ADDED)
                cr_assert_eq(store_update_status(s, "Pod", NULL, json_str(obj, "metadata.name"), status), 0);
}

Test(store_db, a_callback_may_write_to_the_store)
{
        _cleanup_json_ cJSON *got = NULL;
        unsigned calls = 0;

        store_set_on_change(store, on_change_writes, &calls);
        create_pod("a");
        cr_assert_eq(calls, 2);
        cr_assert_eq(store_get(store, "Pod", NULL, "a", &got), 0);
        cr_assert_str_eq(json_str(got, "status.phase"), "Pending");
}

Test(store_db, a_freed_open_transaction_is_rolled_back)
{
        _cleanup_json_ cJSON *got = NULL;

        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        store_reopen();
        cr_assert_eq(store_get(store, "Pod", NULL, "a", &got), -ENOENT);
        cr_assert_eq(store_resource_version(store), 0);
}

Test(store_db, uses_a_write_ahead_log)
{
        _cleanup_free_ char *path = strjoin(test_dir, "/berth.db", NULL);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(db);
}

/* An operation that queued a notification and then failed, as a cascade failing halfway. */
static int queue_then_fail(Store *s, void *userdata)
{
        int r = store_queue(s, STORE_ADDED, make_pod(NULL, "ghost", "img", NULL));

        cr_assert_eq(r, 0);
        return -EIO;
}

Test(store_db, a_failed_operation_that_queued_changes_cannot_be_committed)
{
        _cleanup_json_ cJSON *a = NULL;
        Seen seen = {};

        store_set_on_change(store, on_change, &seen);
        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        cr_assert_eq(store_run(store, queue_then_fail, NULL), -EIO);
        /* committing would report "ghost", which was never stored: refused, all rolled back */
        cr_assert_eq(store_commit(store), -EIO);
        cr_assert_eq(seen.n, 0);
        cr_assert_eq(store_get(store, "Pod", NULL, "a", &a), -ENOENT);
        /* the next transaction is clean again */
        cr_assert_eq(store_begin(store), 0);
        create_pod("a");
        cr_assert_eq(store_commit(store), 0);
        cr_assert_eq(seen.n, 1);
}
