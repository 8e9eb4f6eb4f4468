/* The event log: v1 Events about stored objects, merged like client-go's correlator (same
 * object, type, reason and message within 10 minutes -> count+1) and capped at
 * events_max rows, oldest lastTimestamp first out. Events bump the store-wide
 * resourceVersion but fire no change callback: controllers never react to them. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "store-internal.h"

typedef struct EventKey {
        const char *ns, *kind, *name, *uid, *type, *reason, *message;
} EventKey;

void store_set_events_max(Store *s, unsigned max)
{
        s->events_max = MAX(max, 1u);
}

int store_set_event_source(Store *s, const char *component, const char *host)
{
        char *c = strdup(isempty(component) ? "berth" : component), *h = NULL;

        if (!c || (host && !(h = strdup(host)))) {
                free(c);
                return -ENOMEM;
        }
        free(s->event_component);
        free(s->event_host);
        s->event_component = c;
        s->event_host = h;
        return 0;
}

static int set_rv(cJSON *ev, uint64_t rv)
{
        char buf[32];
        int r = store_format_rv(rv, buf, sizeof(buf));

        return r < 0 ? r : json_set_string(json_ensure_object(ev, "metadata"), "resourceVersion", buf);
}

/* Gives ev the next resourceVersion and prints it for its row. */
static int stamp(Store *s, cJSON *ev, char **ret_text)
{
        uint64_t rv;
        int r;

        r = store_bump(s, &rv);
        if (r < 0)
                return r;
        r = set_rv(ev, rv);
        if (r < 0)
                return r;
        *ret_text = json_print(ev);
        return *ret_text ? 0 : -ENOMEM;
}

/* The newest mergeable event: *ret_id and *ret set, or -ENOENT. */
static int event_find(Store *s, const EventKey *k, usec_t now, int64_t *ret_id, cJSON **ret)
{
        const char *v[] = {k->ns, k->kind, k->name, k->uid, k->type, k->reason, k->message};
        int r = 0, rc;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_EV_FIND, &r);

        if (!st)
                return r;
        r = store_bind_texts(st, v, ELEMENTSOF(v));
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 8, (sqlite3_int64)(now - MIN(now, STORE_EVENT_MERGE_USEC))) != SQLITE_OK)
                return -EIO;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return store_sqlite_errno(rc);
        *ret_id = sqlite3_column_int64(st, 0);
        return store_parse_json(sqlite3_column_text(st, 1), sqlite3_column_bytes(st, 1), ret);
}

static int event_merge(Store *s, int64_t id, cJSON *ev, const char *now_str, usec_t now)
{
        _cleanup_free_ char *text = NULL;
        int r = 0;

        if (json_set_int(ev, "count", json_int(ev, "count", 1) + 1) < 0 ||
            json_set_string(ev, "lastTimestamp", now_str) < 0)
                return -ENOMEM;
        r = stamp(s, ev, &text);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_EV_UPDATE, &r);
        if (!st)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK)
                return -EIO;
        r = store_bind_text(st, 3, text);
        return r < 0 ? r : store_step_done(st);
}

static cJSON *involved_ref(const cJSON *involved)
{
        static const char *const meta_fields[] = {"namespace", "name", "uid"};
        _cleanup_json_ cJSON *ref = cJSON_CreateObject();
        const char *rv = json_str(involved, "metadata.resourceVersion");
        const char *api = json_str(involved, "apiVersion");

        if (!ref || json_set_string(ref, "kind", json_str(involved, "kind")) < 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(meta_fields); i++) {
                const cJSON *v = json_path(involved, "metadata");
                v = cJSON_GetObjectItemCaseSensitive(v, meta_fields[i]);
                if (cJSON_IsString(v) && json_set_string(ref, meta_fields[i], v->valuestring) < 0)
                        return NULL;
        }
        if (api && json_set_string(ref, "apiVersion", api) < 0)
                return NULL;
        if (rv && json_set_string(ref, "resourceVersion", rv) < 0)
                return NULL;
        return TAKE_PTR(ref);
}

/* The v1 Event object for a first occurrence (resourceVersion is set by the caller). */
static int event_build(Store *s, const cJSON *involved, const EventKey *k, const char *name,
                       const char *now_str, cJSON **ret)
{
        _cleanup_json_ cJSON *ev = cJSON_CreateObject();
        cJSON *meta, *source;
        char uid[37];
        int r;

        r = uuid_random(uid);
        if (r < 0)
                return r;
        if (!ev || json_set_string(ev, "apiVersion", "v1") < 0 || json_set_string(ev, "kind", "Event") < 0)
                return -ENOMEM;
        meta = json_ensure_object(ev, "metadata");
        if (!meta || json_set_string(meta, "name", name) < 0 ||
            json_set_string(meta, "namespace", k->ns) < 0 || json_set_string(meta, "uid", uid) < 0 ||
            json_set_string(meta, "creationTimestamp", now_str) < 0)
                return -ENOMEM;
        if (json_set(ev, "involvedObject", involved_ref(involved)) < 0 ||
            json_set_string(ev, "reason", k->reason) < 0 || json_set_string(ev, "message", k->message) < 0 ||
            json_set_string(ev, "type", k->type) < 0 || json_set_int(ev, "count", 1) < 0 ||
            json_set_string(ev, "firstTimestamp", now_str) < 0 ||
            json_set_string(ev, "lastTimestamp", now_str) < 0)
                return -ENOMEM;
        source = json_ensure_object(ev, "source");
        if (!source || json_set_string(source, "component", s->event_component) < 0 ||
            (s->event_host && json_set_string(source, "host", s->event_host) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(ev);
        return 0;
}

/* "<involved name>.<16 hex digits>" like the recorder's "%v.%x" of UnixNano, kept
 * strictly increasing so two events in the same nanosecond do not collide. */
static char *event_name(Store *s, const char *involved_name, usec_t now)
{
        uint64_t nsec = now * NSEC_PER_USEC;
        char *ret = NULL;

        if (nsec <= s->last_event_nsec)
                nsec = s->last_event_nsec + 1;
        s->last_event_nsec = nsec;
        if (asprintf_safe(&ret, "%s.%016" PRIx64, involved_name, nsec) < 0)
                return NULL;
        return ret;
}

static int event_insert(Store *s, const cJSON *involved, const EventKey *k, const char *now_str, usec_t now)
{
        _cleanup_free_ char *name = event_name(s, k->name, now), *text = NULL;
        _cleanup_json_ cJSON *ev = NULL;
        int r = 0;

        if (!name)
                return -ENOMEM;
        r = event_build(s, involved, k, name, now_str, &ev);
        if (r < 0)
                return r;
        r = stamp(s, ev, &text);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_EV_INSERT, &r);
        if (!st)
                return r;
        const char *v[] = {k->ns, name, k->kind, k->name, k->uid, k->type, k->reason, k->message};
        r = store_bind_texts(st, v, ELEMENTSOF(v));
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 9, (sqlite3_int64)now) != SQLITE_OK)
                return -EIO;
        r = store_bind_text(st, 10, text);
        return r < 0 ? r : store_step_done(st);
}

static int event_trim(Store *s)
{
        int r = 0;
        _cleanup_stmt_ sqlite3_stmt *st = store_stmt(s, STMT_EV_TRIM, &r);

        if (!st)
                return r;
        if (sqlite3_bind_int64(st, 1, s->events_max) != SQLITE_OK)
                return -EIO;
        return store_step_done(st);
}

typedef struct EventOp {
        const cJSON *involved;
        EventKey key;
        const char *ns, *name; /* store_events_delete() */
        cJSON *result;
} EventOp;

static int event_op(Store *s, void *userdata)
{
        EventOp *op = userdata;
        const EventKey *k = &op->key;
        _cleanup_json_ cJSON *ev = NULL;
        usec_t now = store_now(s);
        char now_str[64];
        int64_t id = 0;
        int r;

        r = format_rfc3339(now, now_str, sizeof(now_str));
        if (r < 0)
                return r;
        r = event_find(s, k, now, &id, &ev);
        if (r == 0)
                r = event_merge(s, id, ev, now_str, now);
        else if (r == -ENOENT)
                r = event_insert(s, op->involved, k, now_str, now);
        if (r < 0)
                return r;
        return event_trim(s);
}

int store_event(Store *s, const cJSON *involved, const char *type, const char *reason, const char *message)
{
        EventOp op = {
            .involved = involved,
            .key =
                {
                    .ns = json_str(involved, "metadata.namespace"),
                    .kind = json_str(involved, "kind"),
                    .name = json_str(involved, "metadata.name"),
                    .uid = json_str(involved, "metadata.uid") ?: "",
                    .type = type,
                    .reason = reason,
                    .message = message ?: "",
                },
        };

        if (!s || isempty(op.key.kind) || isempty(op.key.name) || isempty(reason) || !type ||
            (!streq(type, "Normal") && !streq(type, "Warning")))
                return -EINVAL;
        /* events about cluster-scoped objects (Nodes) go to "default", as kubelet's do */
        if (isempty(op.key.ns))
                op.key.ns = "default";
        return store_run(s, event_op, &op);
}

int store_list_events(Store *s, const char *ns, const char *involved_uid, cJSON **ret)
{
        if (!s || !ret)
                return -EINVAL;
        return store_select_objects(s, STMT_EV_LIST, (const char *const[]){ns, involved_uid}, 2, NULL, ret);
}

int store_events_list_objects(Store *s, const char *ns, const LabelSelector *sel, cJSON **ret)
{
        return store_select_objects(s, STMT_EV_LIST_NS_SORTED, (const char *const[]){ns}, 1, sel, ret);
}

int store_events_get(Store *s, const char *ns, const char *name, cJSON **ret)
{
        return store_select_object(s, STMT_EV_GET, (const char *const[]){ns, name}, 2, ret);
}

static int event_delete_op(Store *s, void *userdata)
{
        _cleanup_json_ cJSON *ev = NULL;
        EventOp *op = userdata;
        uint64_t rv;
        int r;

        r = store_events_get(s, op->ns, op->name, &ev);
        if (r >= 0)
                r = store_exec(s, STMT_EV_DELETE, (const char *const[]){op->ns, op->name}, 2);
        if (r >= 0)
                r = store_bump(s, &rv);
        if (r >= 0)
                r = set_rv(ev, rv);
        if (r < 0)
                return r;
        op->result = TAKE_PTR(ev);
        return 0;
}

int store_events_delete(Store *s, const char *ns, const char *name, cJSON **ret)
{
        _cleanup_json_ cJSON *result = NULL;
        EventOp op = {.ns = ns, .name = name};
        int r;

        r = store_run(s, event_delete_op, &op);
        result = op.result;
        if (r >= 0 && ret)
                *ret = TAKE_PTR(result);
        return r;
}

int store_eventv(Store *s, const cJSON *involved, const char *type, const char *reason, const char *fmt,
                 va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        return store_event(s, involved, type, reason, msg);
}

int store_eventf(Store *s, const cJSON *involved, const char *type, const char *reason, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = store_eventv(s, involved, type, reason, fmt, ap);
        va_end(ap);
        return r;
}
