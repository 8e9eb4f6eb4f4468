/* Kubernetes deletion semantics on top of the object store: graceful marks for pods and
 * for objects with finalizers, immediate removal for everything else, and the garbage collector's handling
 * of dependents (cascading by ownerReferences uid, or orphaning them), all in one store operation. */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

#define STORE_DEFAULT_GRACE_SEC 30
/* ownerReference cycles are possible in bad data: stop cascading this deep */
#define STORE_MAX_CASCADE_DEPTH 16

typedef struct DeleteOp {
        const char *kind, *ns, *name;
        int64_t grace_sec;
        StorePropagation propagation;
        cJSON *result;
} DeleteOp;

static int delete_one(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                      bool orphan, unsigned depth, cJSON **ret);

static bool owned_by(const cJSON *obj, const char *uid)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (streq_ptr(json_str(ref, "uid"), uid))
                        return true;
        return false;
}

static int mark_pod(Store *s, const char *ns, const char *name, int64_t grace_sec, cJSON **ret)
{
        _cleanup_json_ cJSON *pod = NULL;
        int r;

        if (grace_sec < 0) {
                r = store_get(s, "Pod", ns, name, &pod);
                if (r < 0)
                        return r;
                grace_sec = json_int(pod, "spec.terminationGracePeriodSeconds", STORE_DEFAULT_GRACE_SEC);
                if (grace_sec < 0)
                        grace_sec = STORE_DEFAULT_GRACE_SEC;
        }
        return store_mark_deleted_locked(s, "Pod", ns, name, grace_sec, ret);
}

/* Drops every ownerReference to uid from obj and writes it back. */
static int orphan(Store *s, cJSON *obj, const char *uid)
{
        cJSON *refs = json_path(obj, "metadata.ownerReferences");
        cJSON *ref, *next;

        for (ref = refs ? refs->child : NULL; ref; ref = next) {
                next = ref->next;
                if (streq_ptr(json_str(ref, "uid"), uid))
                        cJSON_Delete(cJSON_DetachItemViaPointer(refs, ref));
        }
        if (cJSON_GetArraySize(refs) == 0)
                cJSON_DeleteItemFromObjectCaseSensitive(json_path(obj, "metadata"), "ownerReferences");
        return store_update_locked(s, obj, NULL);
}

/* Deletes or orphans every object that names uid as an owner. owner_ns NULL: a cluster-scoped
 * owner, whose dependents may be in any namespace. */
static int handle_dependents(Store *s, const char *owner_ns, const char *uid, bool orphan_them,
                             unsigned depth)
{
        _cleanup_json_ cJSON *items = NULL;
        cJSON *it;
        int r;

        if (depth >= STORE_MAX_CASCADE_DEPTH)
                return 0;
        /* collected first: the statement is reused by the recursion */
        r = store_select_objects(s, STMT_OBJ_LIST_MENTIONING, (const char *const[]){owner_ns, uid}, 2, NULL,
                                 &items);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (it, items) {
                const char *name = json_str(it, "metadata.name");

                if (!name || !owned_by(it, uid))
                        continue;
                if (orphan_them)
                        r = orphan(s, it, uid);
                else /* the collector deletes dependents with their own grace, not the owner's */
                        r = delete_one(s, json_str(it, "kind"), json_str(it, "metadata.namespace"), name, -1,
                                       false, depth + 1, NULL);
                /* already gone, e.g. as the dependent of an earlier dependent */
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

static int delete_one(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                      bool orphan_them, unsigned depth, cJSON **ret)
{
        _cleanup_json_ cJSON *obj = NULL;
        const char *uid;
        int r;

        if (streq_ptr(kind, "Pod"))
                return mark_pod(s, ns, name, grace_sec, ret);
        /* an object with finalizers is only marked: whoever put them there removes it */
        r = store_get(s, kind, ns, name, &obj);
        if (r < 0)
                return r;
        if (cJSON_GetArraySize(json_path(obj, "metadata.finalizers")) > 0)
                return store_mark_deleted_locked(s, kind, ns, name, 0, ret);
        obj = (cJSON_Delete(obj), NULL);
        r = store_delete_locked(s, kind, ns, name, &obj);
        if (r < 0)
                return r;
        uid = json_str(obj, "metadata.uid");
        if (uid) {
                /* cluster-scoped objects are stored without a namespace */
                r = handle_dependents(s, json_str(obj, "metadata.namespace"), uid, orphan_them, depth);
                if (r < 0)
                        return r;
        }
        if (ret)
                *ret = TAKE_PTR(obj);
        return 0;
}

static int delete_op(Store *s, void *userdata)
{
        DeleteOp *op = userdata;

        return delete_one(s, op->kind, op->ns, op->name, op->grace_sec,
                          op->propagation == STORE_PROPAGATE_ORPHAN, 0, &op->result);
}

int store_delete_object(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                        StorePropagation p, cJSON **ret)
{
        _cleanup_json_ cJSON *result = NULL;
        DeleteOp op = {kind, ns, name, grace_sec, p, NULL};
        int r;

        if (!s || isempty(kind) || isempty(name))
                return -EINVAL;
        if (streq(kind, "Event"))
                return store_delete(s, kind, ns, name, ret);
        r = store_run(s, delete_op, &op);
        result = op.result;
        if (r >= 0 && ret)
                *ret = TAKE_PTR(result);
        return r;
}
