/* The store's key/value table: small JSON values for the agent's own bookkeeping (back-off
 * state, node identity). Writes join an open transaction like object writes, but neither
 * bump the resourceVersion nor fire the change callback. */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

int store_kv_get(Store *s, const char *key, cJSON **ret)
{
        const unsigned char *text;
        cJSON *j;
        int r = 0, rc;

        if (!s || isempty(key) || !ret)
                return -EINVAL;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_KV_GET, &r);
        if (!st)
                return r;
        r = store_bind_text(st, 1, key);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return store_sqlite_errno(rc);
        /* any JSON value, not only objects */
        text = sqlite3_column_text(st, 0);
        j = text ? cJSON_ParseWithLength((const char *)text, (size_t)sqlite3_column_bytes(st, 0)) : NULL;
        if (!j)
                return -EBADMSG;
        *ret = j;
        return 0;
}

static int kv_set_locked(Store *s, const char *key, const char *text)
{
        int r = 0;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_KV_SET, &r);

        if (!st)
                return r;
        r = store_bind_text(st, 1, key);
        if (r >= 0)
                r = store_bind_text(st, 2, text);
        return r < 0 ? r : store_step_done(st);
}

int store_kv_set(Store *s, const char *key, const cJSON *value)
{
        _cleanup_free_ char *text = NULL;
        uint64_t saved;
        int r;

        if (!s || isempty(key) || !value)
                return -EINVAL;
        text = json_print(value);
        if (!text)
                return -ENOMEM;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = kv_set_locked(s, key, text);
        return store_op_end(s, saved, r);
}

static int kv_delete_locked(Store *s, const char *key)
{
        int r = 0;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_KV_DELETE, &r);

        if (!st)
                return r;
        r = store_bind_text(st, 1, key);
        if (r >= 0)
                r = store_step_done(st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int store_kv_delete(Store *s, const char *key)
{
        uint64_t saved;
        int r;

        if (!s || isempty(key))
                return -EINVAL;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = kv_delete_locked(s, key);
        return store_op_end(s, saved, r);
}
