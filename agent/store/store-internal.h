/* The Store's layout and the helpers shared by store.c (objects, transactions), store-events.c
 * and store-kv.c: the prepared-statement cache, SQLite error translation, the per-operation
 * transaction bracket and the store-wide resourceVersion counter. */
#pragma once

#include <sqlite3.h>

#include "store.h"
#include "util.h"

#define STORE_SCHEMA_VERSION 2
#define STORE_EVENTS_MAX_DEFAULT 1000u
/* Events with the same key within this window are merged (client-go's aggregator). */
#define STORE_EVENT_MERGE_USEC (600 * USEC_PER_SEC)

typedef enum StoreStmt {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_SAVEPOINT,
        STMT_RELEASE,
        STMT_ROLLBACK_TO,
        STMT_RV_SET,
        STMT_OBJ_GET,
        STMT_OBJ_INSERT,
        STMT_OBJ_UPDATE,
        STMT_OBJ_DELETE,
        STMT_OBJ_LIST,
        STMT_OBJ_LIST_ALL_NS,
        STMT_OBJ_LIST_MENTIONING,
        STMT_OBJ_LIST_OWNED,
        STMT_EV_FIND,
        STMT_EV_INSERT,
        STMT_EV_UPDATE,
        STMT_EV_TRIM,
        STMT_EV_LIST,
        STMT_EV_GET,
        STMT_EV_DELETE,
        STMT_EV_LIST_NS_SORTED,
        STMT_KV_GET,
        STMT_KV_SET,
        STMT_KV_DELETE,
        _STMT_MAX,
} StoreStmt;

typedef struct StorePending {
        StoreChange change;
        cJSON *obj;
} StorePending;

struct Store {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];

        uint64_t rv;          /* the committed-or-in-transaction counter */
        uint64_t rv_at_begin; /* restored on rollback of the explicit transaction */
        bool in_tx;
        bool tx_poisoned;  /* a failed operation had queued changes: the transaction cannot commit */
        uint64_t n_queued; /* store_queue() calls so far, to tell whether an operation queued any */

        StorePending *pending;
        size_t n_pending, n_pending_alloc;
        store_on_change_t on_change;
        void *userdata;

        unsigned events_max;
        char *event_component, *event_host;
        uint64_t last_event_nsec;
        usec_t now_override; /* tests: fixed CLOCK_REALTIME when non-zero */
};

/* Resets a cached statement when it goes out of scope (releases its read snapshot). */
DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_reset);
#define _cleanup_stmt_ _cleanup_(sqlite3_resetp)

/* SQLite result code -> negative errno. */
int store_sqlite_errno(int rc);
/* The cached statement id, reset and with cleared bindings; NULL on failure (*ret_r set). */
sqlite3_stmt *store_stmt(Store *s, StoreStmt id, int *ret_r);
/* Steps a statement that returns no row (or whose row is ignored); resets it. */
int store_step_done(sqlite3_stmt *st);
int store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Binds v[0..n) (NULL binds SQL NULL) to parameters 1..n. */
int store_bind_texts(sqlite3_stmt *st, const char *const *v, size_t n);
/* Runs statement id with v bound and no row expected. */
int store_exec(Store *s, StoreStmt id, const char *const *v, size_t n);
/* Runs statement id with v bound and leaves *ret on its first row (reset it with
 * _cleanup_stmt_); -ENOENT when there is none. */
int store_select_row(Store *s, StoreStmt id, const char *const *v, size_t n, sqlite3_stmt **ret);
/* The JSON object in column 0 of the first row; -ENOENT when there is none. */
int store_select_object(Store *s, StoreStmt id, const char *const *v, size_t n, cJSON **ret);
/* The JSON objects in column 0 of every row, filtered by sel (NULL = all), as an array. */
int store_select_objects(Store *s, StoreStmt id, const char *const *v, size_t n, const LabelSelector *sel,
                         cJSON **ret);

/* One operation's work, run by store_run() inside the operation's bracket. */
typedef int (*store_op_t)(Store *s, void *userdata);
/* Brackets one operation: its own transaction outside store_begin(), a savepoint inside.
 * Commits/releases when op returns >= 0, else rolls back; returns op's result or the commit
 * error, and fires the queued callbacks when it committed. */
int store_run(Store *s, store_op_t op, void *userdata);

/* Increments the store-wide resourceVersion inside the current operation. */
int store_bump(Store *s, uint64_t *ret);
/* Queues a change for the callback after commit; takes obj. */
int store_queue(Store *s, StoreChange change, cJSON *obj);
/* CLOCK_REALTIME now (or the test override). */
usec_t store_now(Store *s);
int store_format_rv(uint64_t rv, char *buf, size_t size);
/* Parses a stored JSON column: -EBADMSG when it is not a JSON object. */
int store_parse_json(const unsigned char *text, int len, cJSON **ret);

/* The bodies of store_delete(), store_mark_deleted() and store_update(), for operations that
 * are already inside store_run(). Events are not handled. */
int store_delete_locked(Store *s, const char *kind, const char *ns, const char *name, cJSON **ret);
int store_mark_deleted_locked(Store *s, const char *kind, const char *ns, const char *name,
                              int64_t grace_sec, cJSON **ret);
int store_update_locked(Store *s, const cJSON *obj, cJSON **ret);

/* Events share the object API for kind "Event" (get/list/delete by namespace and name). */
int store_events_get(Store *s, const char *ns, const char *name, cJSON **ret);
int store_events_list_objects(Store *s, const char *ns, const LabelSelector *sel, cJSON **ret);
int store_events_delete(Store *s, const char *ns, const char *name, cJSON **ret);

/* store.c's object helpers, shared with store-replica.c. */
typedef struct ObjKey {
        const char *kind, *ns, *name;
} ObjKey;
/* A copy of obj with metadata.namespace as stored ("default", or none for cluster-scoped kinds). */
int normalize(const cJSON *obj, cJSON **ret);
int key_from_object(const cJSON *obj, ObjKey *ret);
/* The stored object; -ENOENT when missing. */
int obj_load(Store *s, const ObjKey *k, cJSON **ret);
/* Stamps a new resourceVersion on obj (kept by the caller), writes its row (id: STMT_OBJ_INSERT,
 * STMT_OBJ_UPDATE) and queues the change. */
int commit_object(Store *s, StoreStmt id, StoreChange change, cJSON *obj);
/* store_apply()'s merge of desired over cur. */
int apply_merge(const cJSON *cur, const cJSON *desired, cJSON **ret);
/* Writes *next over *cur when they differ (generation bumped on a spec change); *result gets
 * what is stored afterwards. */
int replace_locked(Store *s, cJSON **cur, cJSON **next, bool *ret_changed, cJSON **result);

/* Tests only: pin the realtime clock (0 = real clock). */
void store_set_now(Store *s, usec_t now);
