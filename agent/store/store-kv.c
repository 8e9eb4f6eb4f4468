/* The store's key/value table: small JSON values for the agent's own bookkeeping (back-off
 * state, node identity). Writes join an open transaction like object writes, but neither
 * bump the resourceVersion nor fire the change callback. */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

int store_kv_get(Store *s, const char *key, cJSON **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const unsigned char *text;
        cJSON *j;
        int r;

        if (!s || isempty(key) || !ret)
                return -EINVAL;
        r = store_select_row(s, STMT_KV_GET, &key, 1, &st);
        if (r < 0)
                return r;
        /* any JSON value, not only objects */
        text = sqlite3_column_text(st, 0);
        j = text ? cJSON_ParseWithLength((const char *)text, (size_t)sqlite3_column_bytes(st, 0)) : NULL;
        if (!j)
                return -EBADMSG;
        *ret = j;
        return 0;
}

typedef struct KvOp {
        const char *key, *text;
} KvOp;

static int kv_set_op(Store *s, void *userdata)
{
        KvOp *op = userdata;

        return store_exec(s, STMT_KV_SET, (const char *const[]){op->key, op->text}, 2);
}

int store_kv_set(Store *s, const char *key, const cJSON *value)
{
        _cleanup_free_ char *text = NULL;

        if (!s || isempty(key) || !value)
                return -EINVAL;
        text = json_print(value);
        if (!text)
                return -ENOMEM;
        return store_run(s, kv_set_op, &(KvOp){key, text});
}

static int kv_delete_op(Store *s, void *userdata)
{
        KvOp *op = userdata;
        int r;

        r = store_exec(s, STMT_KV_DELETE, &op->key, 1);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int store_kv_delete(Store *s, const char *key)
{
        if (!s || isempty(key))
                return -EINVAL;
        return store_run(s, kv_delete_op, &(KvOp){.key = key});
}
