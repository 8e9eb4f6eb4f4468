/* Shared fixture of the store tests: a fresh state directory under /tmp per test, opened
 * as a Store, removed afterwards; and small object builders. */
#pragma once

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "store.h"
#include "util.h"

static char test_dir[] = "/tmp/berth-store-test-XXXXXX";
static Store *store;

static inline void store_setup(void)
{
        strcpy(test_dir, "/tmp/berth-store-test-XXXXXX");
        cr_assert_not_null(mkdtemp(test_dir));
        cr_assert_eq(store_open(&store, test_dir), 0);
}

static inline void store_teardown(void)
{
        store = store_free(store);
        rm_rf(test_dir);
}

static inline void store_reopen(void)
{
        store = store_free(store);
        cr_assert_eq(store_open(&store, test_dir), 0);
}

/* Runs SQL on the database through a second connection, behind the store's back. */
static inline void sql_behind_back(const char *sql)
{
        _cleanup_free_ char *path = strjoin(test_dir, "/berth.db", NULL);
        sqlite3 *db = NULL;

        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
}

static inline cJSON *parse(const char *text)
{
        cJSON *j = cJSON_Parse(text);

        cr_assert_not_null(j, "bad test JSON: %s", text);
        return j;
}

static inline cJSON *make_pod(const char *ns, const char *name, const char *image, const char *app)
{
        cJSON *pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
        cJSON *meta = json_path(pod, "metadata");

        cr_assert_eq(json_set_string(meta, "name", name), 0);
        if (ns)
                cr_assert_eq(json_set_string(meta, "namespace", ns), 0);
        if (app)
                cr_assert_eq(json_set_string(json_ensure_object(meta, "labels"), "app", app), 0);
        cr_assert_eq(
            json_set_string(cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0), "image", image), 0);
        return pod;
}
