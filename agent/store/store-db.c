/* The SQLite side of the store: opening <state_dir>/berth.db (WAL, schema versioned with
 * PRAGMA user_version), the prepared-statement cache, error translation, transactions with
 * change callbacks fired after COMMIT, and the store-wide resourceVersion counter. */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

/* The agent is the only writer; a reader (e.g. a CLI) holds the lock for milliseconds.
 * Anything longer must not stall the event loop. */
#define STORE_BUSY_TIMEOUT_MSEC 250

static const char *const stmt_sql[_STMT_MAX] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT op",
    [STMT_RELEASE] = "RELEASE op",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO op",
    [STMT_RV_SET] = "UPDATE meta SET value = ?1 WHERE key = 'resourceVersion'",
    [STMT_OBJ_GET] = "SELECT json FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [STMT_OBJ_INSERT] = "INSERT INTO objects(kind, namespace, name, uid, resource_version, json, owner_uid) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_OBJ_UPDATE] = "UPDATE objects SET uid = ?4, resource_version = ?5, json = ?6, owner_uid = ?7 "
                        "WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [STMT_OBJ_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [STMT_OBJ_LIST] = "SELECT json FROM objects WHERE kind = ?1 AND namespace = ?2 ORDER BY namespace, name",
    [STMT_OBJ_LIST_ALL_NS] = "SELECT json FROM objects WHERE kind = ?1 ORDER BY namespace, name",
    /* a cheap text pre-filter: callers check that the match is where they want it */
    [STMT_OBJ_LIST_MENTIONING] = "SELECT json FROM objects WHERE (?1 IS NULL OR namespace = ?1) "
                                 "AND instr(json, ?2) > 0 ORDER BY kind, namespace, name",
    [STMT_OBJ_LIST_OWNED] = "SELECT json FROM objects WHERE owner_uid = ?1 AND kind = ?2 AND namespace = ?3 "
                            "ORDER BY name",
    [STMT_EV_FIND] = "SELECT id, json FROM events WHERE namespace = ?1 AND involved_kind = ?2 "
                     "AND involved_name = ?3 AND involved_uid = ?4 AND type = ?5 AND reason = ?6 "
                     "AND message = ?7 AND last_usec >= ?8 ORDER BY last_usec DESC, id DESC LIMIT 1",
    [STMT_EV_INSERT] =
        "INSERT INTO events(namespace, name, involved_kind, involved_name, involved_uid, "
        "type, reason, message, last_usec, json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [STMT_EV_UPDATE] = "UPDATE events SET last_usec = ?2, json = ?3 WHERE id = ?1",
    [STMT_EV_TRIM] = "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY last_usec, id "
                     "LIMIT max(0, (SELECT count(*) FROM events) - ?1))",
    [STMT_EV_LIST] = "SELECT json FROM events WHERE (?1 IS NULL OR namespace = ?1) "
                     "AND (?2 IS NULL OR involved_uid = ?2) ORDER BY last_usec, id",
    [STMT_EV_GET] = "SELECT json FROM events WHERE namespace = ?1 AND name = ?2",
    [STMT_EV_DELETE] = "DELETE FROM events WHERE namespace = ?1 AND name = ?2",
    [STMT_EV_LIST_NS_SORTED] = "SELECT json FROM events WHERE (?1 IS NULL OR namespace = ?1) "
                               "ORDER BY namespace, name",
    [STMT_KV_GET] = "SELECT json FROM kv WHERE key = ?1",
    [STMT_KV_SET] =
        "INSERT INTO kv(key, json) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET json = excluded.json",
    [STMT_KV_DELETE] = "DELETE FROM kv WHERE key = ?1",
};

static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta(key, value) VALUES('resourceVersion', 0);"
    "CREATE TABLE objects(kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
    " uid TEXT NOT NULL UNIQUE, resource_version INTEGER NOT NULL, json TEXT NOT NULL,"
    " PRIMARY KEY(kind, namespace, name));"
    "CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL,"
    " name TEXT NOT NULL, involved_kind TEXT NOT NULL, involved_name TEXT NOT NULL,"
    " involved_uid TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,"
    " last_usec INTEGER NOT NULL, json TEXT NOT NULL, UNIQUE(namespace, name));"
    "CREATE INDEX events_by_involved ON events(involved_uid, reason);"
    "CREATE INDEX events_by_age ON events(last_usec, id);"
    "CREATE TABLE kv(key TEXT PRIMARY KEY, json TEXT NOT NULL);"
    "PRAGMA user_version = 1;";

/* v2: the uid of each object's controller (ownerReference with controller: true), indexed,
 * so that a controller lists its children without reading every object of their kind. */
static const char schema_v2[] =
    "ALTER TABLE objects ADD COLUMN owner_uid TEXT;"
    "UPDATE objects SET owner_uid = (SELECT json_extract(value, '$.uid') FROM "
    "json_each(objects.json, '$.metadata.ownerReferences') WHERE json_extract(value, '$.controller') "
    "LIMIT 1);"
    "CREATE INDEX objects_by_owner ON objects(owner_uid, kind, namespace);"
    "PRAGMA user_version = 2;";

int store_sqlite_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CONSTRAINT:
                /* a duplicate key; other constraints would be our own bug */
                return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST
                                                                                            : -EINVAL;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_TOOBIG:
                return -E2BIG;
        default:
                return -EIO;
        }
}

sqlite3_stmt *store_stmt(Store *s, StoreStmt id, int *ret_r)
{
        sqlite3_stmt *st = s->stmts[id];

        if (!st) {
                int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
                if (rc != SQLITE_OK) {
                        *ret_r = store_sqlite_errno(rc);
                        return NULL;
                }
                s->stmts[id] = st;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
}

int store_step_done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sqlite_errno(rc);
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
        int rc = v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);

        return rc == SQLITE_OK ? 0 : store_sqlite_errno(rc);
}

int store_bind_texts(sqlite3_stmt *st, const char *const *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = store_bind_text(st, (int)i + 1, v[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The cached statement id with v bound; NULL on failure (*ret_r set). */
static sqlite3_stmt *stmt_bound(Store *s, StoreStmt id, const char *const *v, size_t n, int *ret_r)
{
        sqlite3_stmt *st = store_stmt(s, id, ret_r);
        int r;

        if (!st)
                return NULL;
        r = store_bind_texts(st, v, n);
        if (r < 0) {
                sqlite3_reset(st);
                *ret_r = r;
                return NULL;
        }
        return st;
}

int store_exec(Store *s, StoreStmt id, const char *const *v, size_t n)
{
        int r = 0;
        sqlite3_stmt *st = stmt_bound(s, id, v, n, &r);

        return st ? store_step_done(st) : r;
}

static int exec_stmt(Store *s, StoreStmt id)
{
        return store_exec(s, id, NULL, 0);
}

int store_select_row(Store *s, StoreStmt id, const char *const *v, size_t n, sqlite3_stmt **ret)
{
        int r = 0, rc;
        _cleanup_stmt_ sqlite3_stmt *st = stmt_bound(s, id, v, n, &r);

        if (!st)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return store_sqlite_errno(rc);
        *ret = TAKE_PTR(st);
        return 0;
}

int store_select_object(Store *s, StoreStmt id, const char *const *v, size_t n, cJSON **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = store_select_row(s, id, v, n, &st);

        if (r < 0)
                return r;
        return store_parse_json(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), ret);
}

int store_select_objects(Store *s, StoreStmt id, const char *const *v, size_t n, const LabelSelector *sel,
                         cJSON **ret)
{
        _cleanup_json_ cJSON *arr = cJSON_CreateArray();
        int r = 0, rc;
        _cleanup_stmt_ sqlite3_stmt *st = arr ? stmt_bound(s, id, v, n, &r) : NULL;

        if (!arr)
                return -ENOMEM;
        if (!st)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                cJSON *obj = NULL;
                r = store_parse_json(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), &obj);
                if (r < 0)
                        return r;
                if (!label_selector_matches(sel, json_path(obj, "metadata.labels")))
                        cJSON_Delete(obj);
                else if (!cJSON_AddItemToArray(arr, obj)) {
                        cJSON_Delete(obj);
                        return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE)
                return store_sqlite_errno(rc);
        *ret = TAKE_PTR(arr);
        return 0;
}

int store_format_rv(uint64_t rv, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%" PRIu64, rv);

        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

int store_parse_json(const unsigned char *text, int len, cJSON **ret)
{
        cJSON *j;

        if (!text || len < 0)
                return -EBADMSG;
        j = cJSON_ParseWithLength((const char *)text, (size_t)len);
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

usec_t store_now(Store *s)
{
        return s->now_override ? s->now_override : now_usec(CLOCK_REALTIME);
}

void store_set_now(Store *s, usec_t now)
{
        s->now_override = now;
}

int store_bump(Store *s, uint64_t *ret)
{
        int r = 0;
        sqlite3_stmt *st = store_stmt(s, STMT_RV_SET, &r);

        if (!st)
                return r;
        if (sqlite3_bind_int64(st, 1, (sqlite3_int64)(s->rv + 1)) != SQLITE_OK)
                return -EIO;
        r = store_step_done(st);
        if (r < 0)
                return r;
        *ret = ++s->rv;
        return 0;
}

uint64_t store_resource_version(Store *s)
{
        return s ? s->rv : 0;
}

/* ---- change queue ---- */

static bool same_object(const cJSON *a, const cJSON *b)
{
        const char *ka = json_str(a, "kind"), *kb = json_str(b, "kind");
        const char *na = json_str(a, "metadata.name"), *nb = json_str(b, "metadata.name");
        const char *sa = json_str(a, "metadata.namespace"), *sb = json_str(b, "metadata.namespace");

        return ka && kb && na && nb && streq(ka, kb) && streq(na, nb) && streq(sa ?: "", sb ?: "");
}

static void pending_remove(Store *s, size_t i)
{
        cJSON_Delete(s->pending[i].obj);
        memmove(s->pending + i, s->pending + i + 1, (s->n_pending - i - 1) * sizeof(StorePending));
        s->n_pending--;
}

/* A transaction reports each object once: ADDED+MODIFIED is ADDED (latest state),
 * MODIFIED+MODIFIED is MODIFIED, MODIFIED+DELETED is DELETED, and ADDED+DELETED never
 * happened as far as a watcher can tell. DELETED followed by ADDED (a new uid) stays two. */
int store_queue(Store *s, StoreChange change, cJSON *obj)
{
        s->n_queued++;
        if (!obj)
                return -ENOMEM;
        for (size_t i = s->n_pending; i > 0; i--) {
                StorePending *p = &s->pending[i - 1];
                if (!same_object(p->obj, obj))
                        continue;
                if (p->change == STORE_DELETED)
                        break;
                if (change == STORE_DELETED && p->change == STORE_ADDED) {
                        pending_remove(s, i - 1);
                        cJSON_Delete(obj);
                        return 0;
                }
                if (change == STORE_DELETED)
                        p->change = STORE_DELETED;
                cJSON_Delete(p->obj);
                p->obj = obj;
                return 0;
        }
        if (s->n_pending == s->n_pending_alloc) {
                size_t n = MAX(s->n_pending_alloc * 2, (size_t)16);
                StorePending *np = realloc(s->pending, n * sizeof(StorePending));
                if (!np) {
                        cJSON_Delete(obj);
                        return -ENOMEM;
                }
                s->pending = np;
                s->n_pending_alloc = n;
        }
        s->pending[s->n_pending++] = (StorePending){change, obj};
        return 0;
}

static void pending_drop(Store *s)
{
        for (size_t i = 0; i < s->n_pending; i++)
                cJSON_Delete(s->pending[i].obj);
        s->n_pending = 0;
}

/* Fires after COMMIT. The queue is taken first, so a callback may write to the store. */
static void pending_flush(Store *s)
{
        StorePending *p = TAKE_PTR(s->pending);
        size_t n = s->n_pending;

        s->n_pending = s->n_pending_alloc = 0;
        for (size_t i = 0; i < n; i++) {
                if (s->on_change)
                        s->on_change(s, p[i].change, p[i].obj, s->userdata);
                cJSON_Delete(p[i].obj);
        }
        free(p);
}

void store_set_on_change(Store *s, store_on_change_t cb, void *userdata)
{
        s->on_change = cb;
        s->userdata = userdata;
}

/* ---- transactions ---- */

static int op_begin(Store *s, uint64_t *ret_rv_saved, uint64_t *ret_queued)
{
        *ret_rv_saved = s->rv;
        *ret_queued = s->n_queued;
        /* the explicit transaction is gone (SQLite rolled it back): fail until the caller ends it */
        if (s->in_tx && sqlite3_get_autocommit(s->db))
                return -EIO;
        return exec_stmt(s, s->in_tx ? STMT_SAVEPOINT : STMT_BEGIN);
}

static int op_end(Store *s, uint64_t rv_saved, uint64_t queued, int r)
{
        int k;

        if (s->in_tx) {
                if (r < 0) {
                        (void)exec_stmt(s, STMT_ROLLBACK_TO);
                        s->rv = rv_saved;
                        /* the savepoint undid the rows but not the notifications already queued
                         * (and merged): such a transaction may only be rolled back */
                        if (s->n_queued != queued)
                                s->tx_poisoned = true;
                }
                k = exec_stmt(s, STMT_RELEASE);
                return r < 0 ? r : k;
        }
        if (r >= 0) {
                k = exec_stmt(s, STMT_COMMIT);
                if (k >= 0) {
                        pending_flush(s);
                        return r;
                }
                r = k;
        }
        /* may fail when SQLite already rolled back (e.g. on SQLITE_FULL): nothing to undo then */
        (void)exec_stmt(s, STMT_ROLLBACK);
        s->rv = rv_saved;
        pending_drop(s);
        return r;
}

int store_run(Store *s, store_op_t op, void *userdata)
{
        uint64_t saved, queued;
        int r = op_begin(s, &saved, &queued);

        if (r < 0)
                return r;
        return op_end(s, saved, queued, op(s, userdata));
}

int store_begin(Store *s)
{
        int r;

        if (s->in_tx)
                return -EBUSY;
        r = exec_stmt(s, STMT_BEGIN);
        if (r < 0)
                return r;
        s->in_tx = true;
        s->tx_poisoned = false;
        s->rv_at_begin = s->rv;
        return 0;
}

/* On failure the whole transaction is rolled back and nothing is reported. */
int store_commit(Store *s)
{
        int r;

        if (!s->in_tx)
                return -EINVAL;
        s->in_tx = false;
        /* SQLite may have rolled back on its own (I/O error, disk full); a poisoned
         * transaction holds notifications of changes that were undone */
        r = sqlite3_get_autocommit(s->db) || s->tx_poisoned ? -EIO : exec_stmt(s, STMT_COMMIT);
        if (r < 0) {
                (void)exec_stmt(s, STMT_ROLLBACK);
                s->rv = s->rv_at_begin;
                pending_drop(s);
                return r;
        }
        pending_flush(s);
        return 0;
}

void store_rollback(Store *s)
{
        if (!s->in_tx)
                return;
        s->in_tx = false;
        if (!sqlite3_get_autocommit(s->db))
                (void)exec_stmt(s, STMT_ROLLBACK);
        s->rv = s->rv_at_begin;
        pending_drop(s);
}

/* ---- open / close ---- */

static int exec_sql(Store *s, const char *sql)
{
        return store_sqlite_errno(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int query_int(Store *s, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

        if (rc == SQLITE_OK) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        *ret = sqlite3_column_int64(st, 0);
                else if (rc == SQLITE_DONE)
                        rc = SQLITE_CORRUPT; /* a row we created is missing */
        }
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : store_sqlite_errno(rc);
}

/* Creates the tables on a new file; refuses a file written by a newer berth. */
static int schema_setup(Store *s)
{
        int64_t version = 0, rv = 0;
        int r;

        r = exec_sql(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        r = query_int(s, "PRAGMA user_version", &version);
        if (r >= 0 && version > STORE_SCHEMA_VERSION)
                r = -EPROTO;
        if (r >= 0 && version == 0)
                r = exec_sql(s, schema_v1);
        if (r >= 0 && version < 2)
                r = exec_sql(s, schema_v2);
        if (r >= 0)
                r = query_int(s, "SELECT value FROM meta WHERE key = 'resourceVersion'", &rv);
        if (r >= 0 && rv < 0)
                r = -EBADMSG;
        if (r < 0) {
                (void)exec_sql(s, "ROLLBACK");
                return r;
        }
        s->rv = (uint64_t)rv;
        return exec_sql(s, "COMMIT");
}

/* WAL with synchronous=FULL: NORMAL only syncs the WAL at checkpoints, so a power loss can
 * drop the last committed transactions; FULL syncs the WAL on every COMMIT, and a committed
 * change (a Pod we already started, a resourceVersion a client saw) is never lost. */
static int db_setup(Store *s)
{
        int r;

        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MSEC);
        r = exec_sql(s, "PRAGMA journal_mode=WAL");
        if (r < 0)
                return r;
        r = exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
        if (r < 0)
                return r;
        return schema_setup(s);
}

int store_open(Store **ret, const char *state_dir)
{
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *path = NULL;
        int fd, r;

        if (!ret || isempty(state_dir))
                return -EINVAL;
        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        s->events_max = STORE_EVENTS_MAX_DEFAULT;
        s->event_component = strdup("berth");
        path = strjoin(state_dir, "/berth.db", NULL);
        if (!s->event_component || !path)
                return -ENOMEM;
        r = mkdir_p(state_dir, 0755);
        if (r < 0)
                return r;
        /* Secrets live here: create the file 0600 ourselves (SQLite gives -wal/-shm the same). */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        close(fd);
        r = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (r != SQLITE_OK)
                return store_sqlite_errno(r);
        r = db_setup(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

Store *store_free(Store *s)
{
        if (!s)
                return NULL;
        if (s->in_tx)
                store_rollback(s);
        pending_drop(s);
        free(s->pending);
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(s->stmts[i]);
        sqlite3_close(s->db);
        free(s->event_component);
        free(s->event_host);
        free(s);
        return NULL;
}
