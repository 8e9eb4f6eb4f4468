/* Objects in the store: create, apply (create-or-update), update with a resourceVersion
 * precondition, status updates, get/list with label selectors, deletion and graceful-deletion
 * marks, keeping the metadata the apiserver owns (uid, generation, resourceVersion,
 * creationTimestamp). */
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

#define GENERATE_NAME_SUFFIX_LEN 5
#define GENERATE_NAME_TRIES 8

typedef struct ObjKey {
        const char *kind, *ns, *name;
} ObjKey;

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
static int normalize(const cJSON *obj, cJSON **ret)
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

static int key_from_object(const cJSON *obj, ObjKey *ret)
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
        int r = store_bind_text(st, 1, k->kind);

        if (r >= 0)
                r = store_bind_text(st, 2, k->ns);
        if (r >= 0)
                r = store_bind_text(st, 3, k->name);
        return r;
}

static int obj_load(Store *s, const ObjKey *k, cJSON **ret)
{
        int r = 0, rc;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_OBJ_GET, &r);

        if (!st)
                return r;
        r = bind_key(st, k);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return store_sqlite_errno(rc);
        return store_parse_json(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), ret);
}

/* Inserts or updates the row of obj (whose metadata is complete) at rv. */
static int obj_write(Store *s, StoreStmt id, const ObjKey *k, const cJSON *obj, uint64_t rv)
{
        _cleanup_free_ char *text = json_print(obj);
        const char *uid = json_str(obj, "metadata.uid");
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
static int commit_object(Store *s, StoreStmt id, StoreChange change, cJSON *obj)
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

/* Hands the result to *ret (optional) once the operation has committed. */
static int finish(Store *s, uint64_t saved, int r, cJSON **result, cJSON **ret)
{
        r = store_op_end(s, saved, r);
        if (r >= 0 && ret)
                *ret = TAKE_PTR(*result);
        return r;
}

int store_create(Store *s, const cJSON *obj, cJSON **ret)
{
        _cleanup_json_ cJSON *copy = NULL;
        uint64_t saved;
        int r;

        if (!s)
                return -EINVAL;
        r = normalize(obj, &copy);
        if (r < 0)
                return r;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = create_locked(s, copy);
        return finish(s, saved, r, &copy, ret);
}

static bool is_server_owned_top(const char *key)
{
        return streq(key, "kind") || streq(key, "metadata") || streq(key, "status");
}

/* The apply merge: everything but kind/metadata/status (spec, and data/binaryData/
 * stringData/type/immutable of ConfigMaps and Secrets) and the user's metadata come from
 * desired; uid, creationTimestamp, generation and status stay. */
static int apply_merge(const cJSON *cur, const cJSON *desired, cJSON **ret)
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
static int replace_locked(Store *s, cJSON **cur, cJSON **next, bool *ret_changed, cJSON **result)
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

static int apply_locked(Store *s, cJSON **desired, bool *ret_created, bool *ret_changed, cJSON **result)
{
        _cleanup_json_ cJSON *cur = NULL, *next = NULL;
        ObjKey k;
        int r;

        r = key_from_object(*desired, &k);
        if (r < 0)
                return r;
        r = obj_load(s, &k, &cur);
        if (r == -ENOENT) {
                r = create_locked(s, *desired);
                if (r < 0)
                        return r;
                *ret_created = *ret_changed = true;
                *result = TAKE_PTR(*desired);
                return 0;
        }
        if (r < 0)
                return r;
        r = apply_merge(cur, *desired, &next);
        if (r < 0)
                return r;
        return replace_locked(s, &cur, &next, ret_changed, result);
}

int store_apply(Store *s, const cJSON *obj, cJSON **ret, bool *ret_created, bool *ret_changed)
{
        _cleanup_json_ cJSON *copy = NULL, *result = NULL;
        bool created = false, changed = false;
        uint64_t saved;
        int r;

        if (!s)
                return -EINVAL;
        r = normalize(obj, &copy);
        if (r < 0)
                return r;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = apply_locked(s, &copy, &created, &changed, &result);
        r = finish(s, saved, r, &result, ret);
        if (r < 0)
                return r;
        if (ret_created)
                *ret_created = created;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

/* Copies a metadata field from src to dst, or removes it from dst when src has none. */
static int keep_field(cJSON *dst_meta, const cJSON *src_meta, const char *field)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(src_meta, field);

        cJSON_DeleteItemFromObjectCaseSensitive(dst_meta, field);
        return v ? json_set(dst_meta, field, cJSON_Duplicate(v, true)) : 0;
}

static int update_locked(Store *s, cJSON **next, cJSON **result)
{
        static const char *const kept[] = {"uid",
                                           "creationTimestamp",
                                           "generation",
                                           "resourceVersion",
                                           "deletionTimestamp",
                                           "deletionGracePeriodSeconds"};
        _cleanup_json_ cJSON *cur = NULL;
        const cJSON *given;
        bool changed;
        ObjKey k;
        int r;

        r = key_from_object(*next, &k);
        if (r < 0)
                return r;
        r = obj_load(s, &k, &cur);
        if (r < 0)
                return r;
        given = cJSON_GetObjectItemCaseSensitive(meta_of(*next), "resourceVersion");
        if (given && !cJSON_IsString(given))
                return -EINVAL;
        if (given && !streq(given->valuestring, json_str(cur, "metadata.resourceVersion") ?: ""))
                return -ESTALE;
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                r = keep_field(meta_of(*next), meta_of(cur), kept[i]);
                if (r < 0)
                        return r;
        }
        return replace_locked(s, &cur, next, &changed, result);
}

int store_update(Store *s, const cJSON *obj, cJSON **ret)
{
        _cleanup_json_ cJSON *copy = NULL, *result = NULL;
        uint64_t saved;
        int r;

        if (!s)
                return -EINVAL;
        r = normalize(obj, &copy);
        if (r < 0)
                return r;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = update_locked(s, &copy, &result);
        return finish(s, saved, r, &result, ret);
}

static int update_status_locked(Store *s, const ObjKey *k, const cJSON *status, cJSON **result)
{
        _cleanup_json_ cJSON *cur = NULL, *next = NULL;
        bool changed;
        int r;

        r = obj_load(s, k, &cur);
        if (r < 0)
                return r;
        next = cJSON_Duplicate(cur, true);
        if (!next)
                return -ENOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(next, "status");
        if (status && json_set(next, "status", cJSON_Duplicate(status, true)) < 0)
                return -ENOMEM;
        return replace_locked(s, &cur, &next, &changed, result);
}

int store_update_status(Store *s, const char *kind, const char *ns, const char *name, const cJSON *status)
{
        _cleanup_json_ cJSON *result = NULL;
        uint64_t saved;
        ObjKey k;
        int r;

        if (!s || is_event_kind(kind))
                return s ? -EOPNOTSUPP : -EINVAL;
        r = key_from_args(kind, ns, name, &k);
        if (r < 0)
                return r;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = update_status_locked(s, &k, status, &result);
        return finish(s, saved, r, &result, NULL);
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
        _cleanup_json_ cJSON *arr = NULL;
        sqlite3_stmt *st;
        int r = 0, rc;

        if (!s || isempty(kind) || !ret)
                return -EINVAL;
        /* cluster-scoped objects are stored under "", whatever namespace is asked for */
        if (ns && !kind_namespaced(kind))
                ns = NULL;
        if (is_event_kind(kind))
                return store_events_list_objects(s, ns, sel, ret);
        arr = cJSON_CreateArray();
        if (!arr)
                return -ENOMEM;
        st = store_stmt(s, ns ? STMT_OBJ_LIST : STMT_OBJ_LIST_ALL_NS, &r);
        if (!st)
                return r;
        _cleanup_stmt_ sqlite3_stmt *reset = st;
        r = store_bind_text(st, 1, kind);
        if (r >= 0 && ns)
                r = store_bind_text(st, 2, ns);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                cJSON *obj = NULL;
                r = store_parse_json(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), &obj);
                if (r < 0)
                        return r;
                if (!label_selector_matches(sel, json_path(obj, "metadata.labels"))) {
                        cJSON_Delete(obj);
                        continue;
                }
                if (!cJSON_AddItemToArray(arr, obj)) {
                        cJSON_Delete(obj);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE)
                return store_sqlite_errno(rc);
        *ret = TAKE_PTR(arr);
        return 0;
}

static int delete_locked(Store *s, const ObjKey *k, cJSON **result)
{
        _cleanup_json_ cJSON *cur = NULL;
        int r = 0;

        r = obj_load(s, k, &cur);
        if (r < 0)
                return r;
        {
                _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_OBJ_DELETE, &r);
                if (!st)
                        return r;
                r = bind_key(st, k);
                if (r >= 0)
                        r = store_step_done(st);
                if (r < 0)
                        return r;
        }
        /* the DELETED state carries a fresh resourceVersion, as a watch event would */
        r = commit_object(s, STMT_OBJ_DELETE, STORE_DELETED, cur);
        if (r < 0)
                return r;
        *result = TAKE_PTR(cur);
        return 0;
}

int store_delete(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret)
{
        _cleanup_json_ cJSON *result = NULL;
        uint64_t saved;
        ObjKey k;
        int r;

        if (!s)
                return -EINVAL;
        r = key_from_args(kind, ns, name, &k);
        if (r < 0)
                return r;
        if (is_event_kind(kind))
                return store_events_delete(s, k.ns, name, ret);
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = delete_locked(s, &k, &result);
        return finish(s, saved, r, &result, ret);
}

static int mark_deleted_locked(Store *s, const ObjKey *k, int64_t grace_sec, cJSON **result)
{
        _cleanup_json_ cJSON *cur = NULL;
        cJSON *meta;
        int r;

        r = obj_load(s, k, &cur);
        if (r < 0)
                return r;
        meta = json_ensure_object(cur, "metadata");
        if (!meta)
                return -ENOMEM;
        if (!cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp")) {
                r = set_now(s, meta, "deletionTimestamp");
                if (r >= 0)
                        r = json_set_int(meta, "deletionGracePeriodSeconds", grace_sec);
                /* the apiserver bumps generation when it sets deletionTimestamp */
                if (r >= 0)
                        r = bump_generation(cur);
                if (r >= 0)
                        r = commit_object(s, STMT_OBJ_UPDATE, STORE_MODIFIED, cur);
                if (r < 0)
                        return r;
        }
        *result = TAKE_PTR(cur);
        return 0;
}

int store_mark_deleted(Store *s, const char *kind, const char *ns, const char *name, int64_t grace_sec,
                       cJSON **ret)
{
        _cleanup_json_ cJSON *result = NULL;
        uint64_t saved;
        ObjKey k;
        int r;

        if (!s || grace_sec < 0)
                return -EINVAL;
        if (is_event_kind(kind))
                return -EOPNOTSUPP;
        r = key_from_args(kind, ns, name, &k);
        if (r < 0)
                return r;
        r = store_op_begin(s, &saved);
        if (r < 0)
                return r;
        r = mark_deleted_locked(s, &k, grace_sec, &result);
        return finish(s, saved, r, &result, ret);
}
