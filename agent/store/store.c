/* Objects in the store: create, apply (create-or-update), update with a resourceVersion
 * precondition, status updates, get/list with label selectors, deletion and graceful-deletion
 * marks, keeping the metadata the apiserver owns (uid, generation, resourceVersion,
 * creationTimestamp). */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

#define GENERATE_NAME_SUFFIX_LEN 5
#define GENERATE_NAME_TRIES 8

/* Cluster-scoped kinds. The manifest module's kind table is the authority; this copy keeps
 * the store free of a link-time dependency on it. */
static bool kind_namespaced(const char *kind)
{
        static const char *const cluster_scoped[] = {
            "Node",
            "Namespace",
            "PersistentVolume",
            "StorageClass",
            "PriorityClass",
            "RuntimeClass",
            "ClusterRole",
            "ClusterRoleBinding",
            "CSIDriver",
            "CSINode",
            "CustomResourceDefinition",
            "VolumeAttachment",
        };

        for (size_t i = 0; i < ELEMENTSOF(cluster_scoped); i++)
                if (streq(kind, cluster_scoped[i]))
                        return false;
        return true;
}

static bool is_event_kind(const char *kind)
{
        return kind && streq(kind, "Event");
}

static int key_from_args(const char *kind, const char *ns, const char *name, ObjKey *ret)
{
        if (isempty(kind) || isempty(name))
                return -EINVAL;
        *ret = (ObjKey){kind, kind_namespaced(kind) ? (isempty(ns) ? "default" : ns) : "", name};
        return 0;
}

/* Copies obj and sets metadata.namespace as stored: "default" when a namespaced kind has
 * none, removed for cluster-scoped kinds. */
int normalize(const cJSON *obj, cJSON **ret)
{
        _cleanup_json_ cJSON *copy = NULL;
        const char *kind = json_str(obj, "kind");
        cJSON *meta;

        if (!cJSON_IsObject(obj) || isempty(kind))
                return -EINVAL;
        if (is_event_kind(kind))
                return -EOPNOTSUPP; /* events are written with store_event() */
        copy = cJSON_Duplicate(obj, true);
        if (!copy)
                return -ENOMEM;
        meta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
        if (meta && !cJSON_IsObject(meta))
                return -EINVAL;
        meta = json_ensure_object(copy, "metadata");
        if (!meta)
                return -ENOMEM;
        if (!kind_namespaced(kind))
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
        else if (isempty(json_str(meta, "namespace")) && json_set_string(meta, "namespace", "default") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(copy);
        return 0;
}

int key_from_object(const cJSON *obj, ObjKey *ret)
{
        return key_from_args(json_str(obj, "kind"), json_str(obj, "metadata.namespace"),
                             json_str(obj, "metadata.name"), ret);
}

static bool json_equal(const cJSON *a, const cJSON *b)
{
        if (!a || !b)
                return a == b;
        return cJSON_Compare(a, b, true);
}

static cJSON *meta_of(cJSON *obj)
{
        return cJSON_GetObjectItemCaseSensitive(obj, "metadata");
}

static int bind_key(sqlite3_stmt *st, const ObjKey *k)
{
        return store_bind_texts(st, (const char *const[]){k->kind, k->ns, k->name}, 3);
}

int obj_load(Store *s, const ObjKey *k, cJSON **ret)
{
        return store_select_object(s, STMT_OBJ_GET, (const char *const[]){k->kind, k->ns, k->name}, 3, ret);
}

/* Inserts or updates the row of obj (whose metadata is complete) at rv. */
/* The uid in the ownerReference marked controller: true, or NULL. */
static const char *controller_uid(const cJSON *obj)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return json_str(ref, "uid");
        return NULL;
}

static int obj_write(Store *s, StoreStmt id, const ObjKey *k, const cJSON *obj, uint64_t rv)
{
        _cleanup_free_ char *text = json_print(obj);
        const char *uid = json_str(obj, "metadata.uid"), *owner = controller_uid(obj);
        int r = 0;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, id, &r);

        if (!st)
                return r;
        if (!text)
                return -ENOMEM;
        r = bind_key(st, k);
        if (r >= 0)
                r = store_bind_text(st, 4, uid ?: "");
        if (r >= 0 && sqlite3_bind_int64(st, 5, (sqlite3_int64)rv) != SQLITE_OK)
                r = -EIO;
        if (r >= 0)
                r = store_bind_text(st, 6, text);
        if (r >= 0)
                r = owner ? store_bind_text(st, 7, owner) : sqlite3_bind_null(st, 7) == SQLITE_OK ? 0 : -EIO;
        if (r < 0)
                return r;
        return store_step_done(st);
}

static int set_now(Store *s, cJSON *meta, const char *field)
{
        char buf[64];
        int r = format_rfc3339(store_now(s), buf, sizeof(buf));

        return r < 0 ? r : json_set_string(meta, field, buf);
}

/* Bumps the counter, stamps metadata.resourceVersion, writes the row and queues the change.
 * obj stays owned by the caller. */
int commit_object(Store *s, StoreStmt id, StoreChange change, cJSON *obj)
{
        char buf[32];
        uint64_t rv;
        ObjKey k;
        int r;

        r = key_from_object(obj, &k);
        if (r < 0)
                return r;
        r = store_bump(s, &rv);
        if (r < 0)
                return r;
        r = store_format_rv(rv, buf, sizeof(buf));
        if (r < 0)
                return r;
        r = json_set_string(meta_of(obj), "resourceVersion", buf);
        if (r < 0)
                return r;
        if (id != STMT_OBJ_DELETE)
                r = obj_write(s, id, &k, obj, rv);
        if (r < 0)
                return r;
        return store_queue(s, change, cJSON_Duplicate(obj, true));
}

static int bump_generation(cJSON *obj)
{
        cJSON *meta = meta_of(obj);

        return json_set_int(meta, "generation", json_int(meta, "generation", 0) + 1);
}

/* Picks metadata.name from generateName when no name is set. */
static int pick_name(Store *s, cJSON *obj)
{
        cJSON *meta = meta_of(obj);
        const char *gen = json_str(meta, "generateName");
        char suffix[GENERATE_NAME_SUFFIX_LEN + 1];
        int r;

        if (!isempty(json_str(meta, "name")))
                return 0;
        if (isempty(gen))
                return -EINVAL;
        for (unsigned i = 0; i < GENERATE_NAME_TRIES; i++) {
                _cleanup_json_ cJSON *existing = NULL;
                _cleanup_free_ char *name = NULL;
                ObjKey k;

                r = random_name_suffix(suffix, GENERATE_NAME_SUFFIX_LEN);
                if (r < 0)
                        return r;
                name = strjoin(gen, suffix, NULL);
                if (!name || json_set_string(meta, "name", name) < 0)
                        return -ENOMEM;
                r = key_from_object(obj, &k);
                if (r < 0)
                        return r;
                r = obj_load(s, &k, &existing);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
        }
        return -EEXIST;
}

/* obj: a normalized copy, completed in place. */
static int create_locked(Store *s, cJSON *obj)
{
        cJSON *meta = meta_of(obj);
        char uid[37];
        int r;

        r = pick_name(s, obj);
        if (r < 0)
                return r;
        r = uuid_random(uid);
        if (r < 0)
                return r;
        /* deletion marks are never taken from a client on create */
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionTimestamp");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionGracePeriodSeconds");
        if (json_set_string(meta, "uid", uid) < 0 || json_set_int(meta, "generation", 1) < 0)
                return -ENOMEM;
        r = set_now(s, meta, "creationTimestamp");
        if (r < 0)
                return r;
        return commit_object(s, STMT_OBJ_INSERT, STORE_ADDED, obj);
}

/* One object operation: what the public function was given and what it hands back. */
typedef struct ObjOp {
        ObjKey key;          /* operations on a named object */
        cJSON *obj;          /* operations on a whole object: its normalized copy (owned) */
        const cJSON *status; /* store_update_status() */
        int64_t grace_sec;   /* store_mark_deleted() */
        bool created, changed;
        cJSON *result; /* the object as stored afterwards (owned), for *ret */
} ObjOp;

/* The entry of every object write: runs locked on op in the operation's own bracket (see
 * store_run()), or directly when nested in an operation that is already open, then hands
 * op->result to *ret (optional) when it succeeded. */
static int run(Store *s, store_op_t locked, ObjOp *op, bool nested, cJSON **ret)
{
        int r = nested ? locked(s, op) : store_run(s, locked, op);

        if (r >= 0 && ret)
                *ret = TAKE_PTR(op->result);
        cJSON_Delete(op->obj);
        cJSON_Delete(op->result);
        return r;
}

/* run() for an operation given a whole object. */
static int run_on_object(Store *s, const cJSON *obj, store_op_t locked, ObjOp *op, bool nested, cJSON **ret)
{
        int r;

        if (!s)
                return -EINVAL;
        r = normalize(obj, &op->obj);
        if (r < 0)
                return r;
        return run(s, locked, op, nested, ret);
}

/* run() for an operation on the object kind/ns/name. */
static int run_on_key(Store *s, const char *kind, const char *ns, const char *name, store_op_t locked,
                      ObjOp *op, bool nested, cJSON **ret)
{
        int r = key_from_args(kind, ns, name, &op->key);

        if (r < 0)
                return r;
        return run(s, locked, op, nested, ret);
}

static int create_op(Store *s, void *userdata)
{
        ObjOp *op = userdata;
        int r = create_locked(s, op->obj);

        if (r < 0)
                return r;
        op->result = TAKE_PTR(op->obj);
        return 0;
}

int store_create(Store *s, const cJSON *obj, cJSON **ret)
{
        return run_on_object(s, obj, create_op, &(ObjOp){}, false, ret);
}

static bool is_server_owned_top(const char *key)
{
        return streq(key, "kind") || streq(key, "metadata") || streq(key, "status");
}

/* The apply merge: everything but kind/metadata/status (spec, and data/binaryData/
 * stringData/type/immutable of ConfigMaps and Secrets) and the user's metadata come from
 * desired; uid, creationTimestamp, generation and status stay. */
int apply_merge(const cJSON *cur, const cJSON *desired, cJSON **ret)
{
        static const char *const user_meta[] = {"labels", "annotations", "ownerReferences"};
        _cleanup_json_ cJSON *merged = cJSON_Duplicate(cur, true);
        const cJSON *dmeta = cJSON_GetObjectItemCaseSensitive(desired, "metadata");
        cJSON *c, *next, *mmeta;

        if (!merged)
                return -ENOMEM;
        for (c = merged->child; c; c = next) {
                next = c->next;
                if (!is_server_owned_top(c->string) && !streq(c->string, "apiVersion"))
                        cJSON_Delete(cJSON_DetachItemViaPointer(merged, c));
        }
        cJSON_ArrayForEach (c, desired) {
                if (!is_server_owned_top(c->string) &&
                    json_set(merged, c->string, cJSON_Duplicate(c, true)) < 0)
                        return -ENOMEM;
        }
        mmeta = json_ensure_object(merged, "metadata");
        if (!mmeta)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(user_meta); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(dmeta, user_meta[i]);
                cJSON_DeleteItemFromObjectCaseSensitive(mmeta, user_meta[i]);
                if (v && json_set(mmeta, user_meta[i], cJSON_Duplicate(v, true)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(merged);
        return 0;
}

/* Writes next over cur when they differ; *result gets what is stored afterwards. */
int replace_locked(Store *s, cJSON **cur, cJSON **next, bool *ret_changed, cJSON **result)
{
        int r;

        *ret_changed = !json_equal(*cur, *next);
        if (!*ret_changed) {
                *result = TAKE_PTR(*cur);
                return 0;
        }
        if (!json_equal(cJSON_GetObjectItemCaseSensitive(*cur, "spec"),
                        cJSON_GetObjectItemCaseSensitive(*next, "spec"))) {
                r = bump_generation(*next);
                if (r < 0)
                        return r;
        }
        r = commit_object(s, STMT_OBJ_UPDATE, STORE_MODIFIED, *next);
        if (r < 0)
                return r;
        *result = TAKE_PTR(*next);
        return 0;
}

static int apply_op(Store *s, void *userdata)
{
        _cleanup_json_ cJSON *cur = NULL, *next = NULL;
        ObjOp *op = userdata;
        ObjKey k;
        int r;

        r = key_from_object(op->obj, &k);
        if (r < 0)
                return r;
        r = obj_load(s, &k, &cur);
        if (r == -ENOENT) {
                op->created = op->changed = true;
                return create_op(s, op);
        }
        if (r < 0)
                return r;
        r = apply_merge(cur, op->obj, &next);
        if (r < 0)
                return r;
        return replace_locked(s, &cur, &next, &op->changed, &op->result);
}

int store_apply(Store *s, const cJSON *obj, cJSON **ret, bool *ret_created, bool *ret_changed)
{
        ObjOp op = {};
        int r;

        r = run_on_object(s, obj, apply_op, &op, false, ret);
        if (r < 0)
                return r;
        if (ret_created)
                *ret_created = op.created;
        if (ret_changed)
                *ret_changed = op.changed;
        return 0;
}

/* Copies a metadata field from src to dst, or removes it from dst when src has none. */
static int keep_field(cJSON *dst_meta, const cJSON *src_meta, const char *field)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(src_meta, field);

        cJSON_DeleteItemFromObjectCaseSensitive(dst_meta, field);
        return v ? json_set(dst_meta, field, cJSON_Duplicate(v, true)) : 0;
}

static int update_op(Store *s, void *userdata)
{
        static const char *const kept[] = {"uid",
                                           "creationTimestamp",
                                           "generation",
                                           "resourceVersion",
                                           "deletionTimestamp",
                                           "deletionGracePeriodSeconds"};
        _cleanup_json_ cJSON *cur = NULL;
        ObjOp *op = userdata;
        cJSON *next = op->obj;
        const cJSON *given;
        bool changed;
        ObjKey k;
        int r;

        r = key_from_object(next, &k);
        if (r < 0)
                return r;
        r = obj_load(s, &k, &cur);
        if (r < 0)
                return r;
        given = cJSON_GetObjectItemCaseSensitive(meta_of(next), "resourceVersion");
        if (given && !cJSON_IsString(given))
                return -EINVAL;
        if (given && !streq(given->valuestring, json_str(cur, "metadata.resourceVersion") ?: ""))
                return -ESTALE;
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                r = keep_field(meta_of(next), meta_of(cur), kept[i]);
                if (r < 0)
                        return r;
        }
        return replace_locked(s, &cur, &op->obj, &changed, &op->result);
}

int store_update(Store *s, const cJSON *obj, cJSON **ret)
{
        return run_on_object(s, obj, update_op, &(ObjOp){}, false, ret);
}

int store_update_locked(Store *s, const cJSON *obj, cJSON **ret)
{
        return run_on_object(s, obj, update_op, &(ObjOp){}, true, ret);
}

static int update_status_op(Store *s, void *userdata)
{
        _cleanup_json_ cJSON *cur = NULL, *next = NULL;
        ObjOp *op = userdata;
        bool changed;
        int r;

        r = obj_load(s, &op->key, &cur);
        if (r < 0)
                return r;
        next = cJSON_Duplicate(cur, true);
        if (!next)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(next, "status");
        if (op->status && json_set(next, "status", cJSON_Duplicate(op->status, true)) < 0)
                return -ENOMEM;
        return replace_locked(s, &cur, &next, &changed, &op->result);
}

int store_update_status(Store *s, const char *kind, const char *ns, const char *name, const cJSON *status)
{
        if (!s || is_event_kind(kind))
                return s ? -EOPNOTSUPP : -EINVAL;
        return run_on_key(s, kind, ns, name, update_status_op, &(ObjOp){.status = status}, false, NULL);
}

int store_get(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret)
{
        _cleanup_json_ cJSON *obj = NULL;
        ObjKey k;
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = key_from_args(kind, ns, name, &k);
        if (r < 0)
                return r;
        if (is_event_kind(kind))
                return store_events_get(s, k.ns, name, ret);
        r = obj_load(s, &k, &obj);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(obj);
        return 0;
}

int store_list(Store *s, const char *kind, const char *ns, const LabelSelector *sel, cJSON **ret)
{
        if (!s || isempty(kind) || !ret)
                return -EINVAL;
        /* cluster-scoped objects are stored under "", whatever namespace is asked for */
        if (ns && !kind_namespaced(kind))
                ns = NULL;
        if (is_event_kind(kind))
                return store_events_list_objects(s, ns, sel, ret);
        return store_select_objects(s, ns ? STMT_OBJ_LIST : STMT_OBJ_LIST_ALL_NS,
                                    (const char *const[]){kind, ns}, ns ? 2 : 1, sel, ret);
}

int store_list_owned(Store *s, const char *kind, const char *ns, const char *owner_uid, cJSON **ret)
{
        if (!s || isempty(kind) || isempty(owner_uid) || !ret)
                return -EINVAL;
        if (!ns || !kind_namespaced(kind))
                ns = "";
        return store_select_objects(s, STMT_OBJ_LIST_OWNED, (const char *const[]){owner_uid, kind, ns}, 3,
                                    NULL, ret);
}

static int delete_op(Store *s, void *userdata)
{
        ObjOp *op = userdata;
        const ObjKey *k = &op->key;
        _cleanup_json_ cJSON *cur = NULL;
        int r;

        r = obj_load(s, k, &cur);
        if (r < 0)
                return r;
        r = store_exec(s, STMT_OBJ_DELETE, (const char *const[]){k->kind, k->ns, k->name}, 3);
        if (r < 0)
                return r;
        /* the DELETED state carries a fresh resourceVersion, as a watch event would */
        r = commit_object(s, STMT_OBJ_DELETE, STORE_DELETED, cur);
        if (r < 0)
                return r;
        op->result = TAKE_PTR(cur);
        return 0;
}

int store_delete(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret)
{
        ObjKey k;
        int r;

        if (!s)
                return -EINVAL;
        if (is_event_kind(kind)) {
                r = key_from_args(kind, ns, name, &k);
                return r < 0 ? r : store_events_delete(s, k.ns, name, ret);
        }
        return run_on_key(s, kind, ns, name, delete_op, &(ObjOp){}, false, ret);
}

int store_delete_locked(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret)
{
        return run_on_key(s, kind, ns, name, delete_op, &(ObjOp){}, true, ret);
}

static int mark_deleted_op(Store *s, void *userdata)
{
        _cleanup_json_ cJSON *cur = NULL;
        ObjOp *op = userdata;
        cJSON *meta;
        int r;

        r = obj_load(s, &op->key, &cur);
        if (r < 0)
                return r;
        meta = json_ensure_object(cur, "metadata");
        if (!meta)
                return -ENOMEM;
        if (!cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp")) {
                r = set_now(s, meta, "deletionTimestamp");
                if (r >= 0)
                        r = json_set_int(meta, "deletionGracePeriodSeconds", op->grace_sec);
                /* the apiserver bumps generation when it sets deletionTimestamp */
                if (r >= 0)
                        r = bump_generation(cur);
                if (r >= 0)
                        r = commit_object(s, STMT_OBJ_UPDATE, STORE_MODIFIED, cur);
                if (r < 0)
                        return r;
        }
        op->result = TAKE_PTR(cur);
        return 0;
}

int store_mark_deleted(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                       cJSON **ret)
{
        if (!s || grace_sec < 0)
                return -EINVAL;
        if (is_event_kind(kind))
                return -EOPNOTSUPP;
        return run_on_key(s, kind, ns, name, mark_deleted_op, &(ObjOp){.grace_sec = grace_sec}, false, ret);
}

int store_mark_deleted_locked(Store *s, const char *kind, const char *ns, const char *name,
                              int64_t grace_sec, cJSON **ret)
{
        if (grace_sec < 0)
                return -EINVAL;
        return run_on_key(s, kind, ns, name, mark_deleted_op, &(ObjOp){.grace_sec = grace_sec}, true, ret);
}
