/* The apply of an object another agent stored (cluster mode): store_apply() with the writer's
 * identity, so that every agent of the fleet knows a shared object by the same uid and
 * creationTimestamp. */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

typedef struct ReplicaOp {
        cJSON *obj; /* normalized copy (owned) */
        bool created, changed;
        cJSON *result; /* the object as stored afterwards (owned) */
} ReplicaOp;

static int copy_meta(cJSON *dst_meta, const cJSON *src_meta, const char *field)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(src_meta, field);

        return json_set(dst_meta, field, cJSON_Duplicate(v, true));
}

static int replica_create(Store *s, ReplicaOp *op)
{
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(op->obj, "metadata");
        int r;

        /* deletion marks and the writer's counters are the writer's own */
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionTimestamp");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionGracePeriodSeconds");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
        if (json_set_int(meta, "generation", 1) < 0)
                return -ENOMEM;
        r = commit_object(s, STMT_OBJ_INSERT, STORE_ADDED, op->obj);
        if (r < 0)
                return r;
        op->created = op->changed = true;
        op->result = TAKE_PTR(op->obj);
        return 0;
}

static int replica_op(Store *s, void *userdata)
{
        _cleanup_json_ cJSON *cur = NULL, *next = NULL;
        ReplicaOp *op = userdata;
        const cJSON *dmeta = cJSON_GetObjectItemCaseSensitive(op->obj, "metadata");
        cJSON *nmeta;
        ObjKey k;
        int r;

        r = key_from_object(op->obj, &k);
        if (r < 0)
                return r;
        r = obj_load(s, &k, &cur);
        if (r == -ENOENT)
                return replica_create(s, op);
        if (r < 0)
                return r;
        r = apply_merge(cur, op->obj, &next);
        if (r < 0)
                return r;
        /* another agent's object of the same name: this one becomes it (status goes on) */
        nmeta = cJSON_GetObjectItemCaseSensitive(next, "metadata");
        if (!streq(json_str(nmeta, "uid") ?: "", json_str(dmeta, "uid")) &&
            (copy_meta(nmeta, dmeta, "uid") < 0 || copy_meta(nmeta, dmeta, "creationTimestamp") < 0))
                return -ENOMEM;
        return replace_locked(s, &cur, &next, &op->changed, &op->result);
}

int store_apply_replica(Store *s, const cJSON *obj, cJSON **ret, bool *ret_created, bool *ret_changed)
{
        ReplicaOp op = {};
        int r;

        if (!s || isempty(json_str(obj, "metadata.uid")) ||
            isempty(json_str(obj, "metadata.creationTimestamp")))
                return -EINVAL;
        r = normalize(obj, &op.obj);
        if (r < 0)
                return r;
        r = store_run(s, replica_op, &op);
        if (r >= 0 && ret)
                *ret = TAKE_PTR(op.result);
        cJSON_Delete(op.obj);
        cJSON_Delete(op.result);
        if (r < 0)
                return r;
        if (ret_created)
                *ret_created = op.created;
        if (ret_changed)
                *ret_changed = op.changed;
        return 0;
}
