/* etcd watches: POST /v3/watch with a create request, whose reply is a stream of JSON messages
 * ({"result": WatchResponse}) for as long as the connection lasts. The messages are cut out of
 * the body as it arrives, whatever the chunks, and handed over in order from a defer source;
 * a cancel or compaction message ends the watch with an error of its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"
#include "json-util.h"

typedef struct Message Message;
struct Message {
        Message *next;
        size_t size;
        char data[];
};

struct Watch {
        etcd_watch_event_t on_event;
        etcd_watch_done_t on_done;
        sd_event_source *deliver;
        /* the message being cut out of the stream: its bytes so far and the scanner's state */
        char *buf;
        size_t size, alloc;
        unsigned depth;
        bool in_string, escape;
        Message *queue, **queue_tail;
        bool delivering;
        bool cancelled; /* in on_event: freed when it returns */
        bool ended;     /* the end waits for the messages before it */
        OwnedError end;
};

static void free_messages(Message *m)
{
        while (m) {
                Message *next = m->next;

                free(m);
                m = next;
        }
}

void watch_free(Watch *w)
{
        if (!w)
                return;
        sd_event_source_disable_unref(w->deliver);
        free(w->buf);
        free_messages(w->queue);
        error_clear(&w->end);
        free(w);
}

static int buf_append(Watch *w, const char *data, size_t n)
{
        if (w->size + n > ETCD_MAX_REPLY_SIZE)
                return -EMSGSIZE;
        if (w->size + n > w->alloc) {
                size_t a = MAX(w->size + n, MIN(2 * w->alloc, (size_t)ETCD_MAX_REPLY_SIZE));
                char *p = realloc(w->buf, a);

                if (!p)
                        return -ENOMEM;
                w->buf = p;
                w->alloc = a;
        }
        memcpy(w->buf + w->size, data, n);
        w->size += n;
        return 0;
}

static int queue_message(Watch *w)
{
        Message *m = malloc(sizeof(Message) + w->size + 1);

        if (!m)
                return -ENOMEM;
        *m = (Message){.size = w->size};
        memcpy(m->data, w->buf, w->size);
        m->data[w->size] = 0;
        *w->queue_tail = m;
        w->queue_tail = &m->next;
        w->size = 0;
        return 0;
}

/* Finds where the JSON values of the stream end by counting brackets outside strings, so that
 * neither the gateway's newlines between messages nor the chunking matter. */
static int scan(Watch *w, const char *data, size_t n)
{
        size_t start = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                char ch = data[i];

                if (w->depth == 0) {
                        if (strchr(" \t\r\n", ch)) {
                                start = i + 1;
                                continue;
                        }
                        if (ch != '{')
                                return -EBADMSG;
                        start = i;
                }
                if (w->in_string) {
                        if (w->escape)
                                w->escape = false;
                        else if (ch == '\\')
                                w->escape = true;
                        else if (ch == '"')
                                w->in_string = false;
                        continue;
                }
                if (ch == '"')
                        w->in_string = true;
                else if (ch == '{' || ch == '[')
                        w->depth++;
                else if ((ch == '}' || ch == ']') && --w->depth == 0) {
                        r = buf_append(w, data + start, i + 1 - start);
                        if (r >= 0)
                                r = queue_message(w);
                        if (r < 0)
                                return r;
                        start = i + 1;
                }
        }
        return w->depth > 0 ? buf_append(w, data + start, n - start) : 0;
}

size_t watch_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        EtcdRequest *r = userdata;
        Watch *w = r->watch;
        size_t n = size * nmemb;
        int k;

        k = scan(w, data, n);
        /* handed over from the loop: inside libcurl's callback a handler could neither start
         * nor cancel a transfer */
        if (w->queue)
                (void)sd_event_source_set_enabled(w->deliver, SD_EVENT_ONESHOT);
        if (k < 0) {
                r->write_error = k == -EMSGSIZE || k == -ENOMEM ? k : -EBADMSG;
                return 0;
        }
        return n;
}

static void finish(EtcdRequest *r, OwnedError *e)
{
        Watch *w = r->watch;

        request_detach(r);
        if (r->easy)
                curl_loop_cancel(r->loop, TAKE_PTR(r->easy));
        (void)sd_event_source_set_enabled(w->deliver, SD_EVENT_OFF);
        w->on_done(r, &e->e, r->userdata);
        error_clear(e);
        request_free(r);
}

void watch_end(EtcdRequest *r, OwnedError *e)
{
        Watch *w = r->watch;

        if (w->queue || w->delivering) {
                w->end = *e;
                *e = (OwnedError){};
                w->ended = true;
                (void)sd_event_source_set_enabled(w->deliver, SD_EVENT_ONESHOT);
                return;
        }
        finish(r, e);
}

void watch_cancel(EtcdRequest *r)
{
        Watch *w = r->watch;

        if (!w->delivering) {
                request_free(r);
                return;
        }
        /* the stream stops now, and the client may be freed inside on_event */
        request_detach(r);
        if (r->easy)
                curl_loop_cancel(r->loop, TAKE_PTR(r->easy));
        (void)sd_event_source_set_enabled(w->deliver, SD_EVENT_OFF);
        w->cancelled = true;
}

static void events_clear(EtcdEvent *events, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                kv_clear(&events[i].kv);
                kv_clear(&events[i].prev_kv);
        }
        free(events);
}

static int parse_event(const cJSON *j, EtcdEvent *ev)
{
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(j, "prev_kv");
        int r;

        /* PUT is the enum's zero, which the gateway leaves out */
        if (!type || cJSON_IsNull(type) || (cJSON_IsString(type) && streq(type->valuestring, "PUT")) ||
            (cJSON_IsNumber(type) && type->valueint == 0))
                ev->type = ETCD_EVENT_PUT;
        else if ((cJSON_IsString(type) && streq(type->valuestring, "DELETE")) ||
                 (cJSON_IsNumber(type) && type->valueint == 1))
                ev->type = ETCD_EVENT_DELETE;
        else
                return -EBADMSG;
        r = kv_parse(cJSON_GetObjectItemCaseSensitive(j, "kv"), &ev->kv);
        if (r < 0 || !prev || cJSON_IsNull(prev))
                return r;
        ev->has_prev_kv = true;
        return kv_parse(prev, &ev->prev_kv);
}

static int parse_events(const cJSON *result, EtcdEvent **ret, size_t *ret_n)
{
        const cJSON *events = cJSON_GetObjectItemCaseSensitive(result, "events"), *i;
        EtcdEvent *ev;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!events || cJSON_IsNull(events))
                return 0;
        if (!cJSON_IsArray(events))
                return -EBADMSG;
        ev = calloc((size_t)cJSON_GetArraySize(events) + 1, sizeof(EtcdEvent));
        if (!ev)
                return -ENOMEM;
        cJSON_ArrayForEach (i, events) {
                r = parse_event(i, &ev[n++]);
                if (r < 0) {
                        events_clear(ev, n);
                        return r;
                }
        }
        *ret = ev;
        *ret_n = n;
        return 0;
}

/* A message that ends the watch: etcd cancelled it, for compaction or another reason. */
static int cancel_error(OwnedError *o, EtcdRequest *r, const cJSON *result)
{
        const char *reason = json_str(result, "cancel_reason");
        int64_t compact = 0;
        int k;

        (void)json_get_i64(result, "compact_revision", &compact);
        if (compact <= 0)
                return error_make(o, r, -ECANCELED, ETCD_ERROR_SERVER, 1,
                                  isempty(reason) ? "etcd cancelled the watch" : reason);
        k = error_make(o, r, -ESTALE, ETCD_ERROR_SERVER, 11,
                       "etcdserver: mvcc: required revision has been compacted");
        o->e.compact_revision = compact;
        return k;
}

/* Hands one message over; 0, or < 0 with *e filled when it ends the watch. */
static int handle(EtcdRequest *r, const Message *m, OwnedError *e)
{
        Watch *w = r->watch;
        _cleanup_json_ cJSON *j = cJSON_ParseWithLength(m->data, m->size);
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(j, "result");
        EtcdWatchResponse resp = {};
        EtcdEvent *events = NULL;
        int k;

        if (!cJSON_IsObject(j))
                return error_make(e, r, -EBADMSG, ETCD_ERROR_REPLY, 0, "a watch message is not JSON");
        if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
                k = error_from_json(e, r, j);
                if (k != -EBADMSG)
                        return k;
        }
        if (!cJSON_IsObject(result))
                return error_make(e, r, -EBADMSG, ETCD_ERROR_REPLY, 0, "a watch message has no result");
        if (json_bool(result, "canceled", false))
                return cancel_error(e, r, result);
        k = json_get_i64(json_path(result, "header"), "revision", &resp.revision);
        if (k >= 0)
                k = parse_events(result, &events, &resp.n_events);
        if (k < 0)
                return error_make(e, r, k, k == -ENOMEM ? ETCD_ERROR_TRANSPORT : ETCD_ERROR_REPLY, 0,
                                  k == -ENOMEM ? NULL : "a watch message is not of the expected shape");
        resp.created = json_bool(result, "created", false);
        resp.events = events;
        w->delivering = true;
        w->on_event(r, &resp, r->userdata);
        w->delivering = false;
        events_clear(events, resp.n_events);
        return 0;
}

static int on_deliver(sd_event_source *s, void *userdata)
{
        EtcdRequest *r = userdata;
        Watch *w = r->watch;
        OwnedError e = {};

        while (w->queue) {
                Message *m = w->queue;
                int k;

                w->queue = m->next;
                if (!w->queue)
                        w->queue_tail = &w->queue;
                k = handle(r, m, &e);
                free(m);
                if (w->cancelled) {
                        error_clear(&e);
                        request_free(r);
                        return 0;
                }
                if (k < 0) {
                        /* nothing after the message that ended the watch counts */
                        free_messages(TAKE_PTR(w->queue));
                        w->queue_tail = &w->queue;
                        if (!e.message)
                                oom_error(&e, r);
                        finish(r, &e);
                        return 0;
                }
        }
        if (w->ended)
                finish(r, &w->end);
        return 0;
}

int etcd_watch(EtcdClient *c, const char *key, const EtcdWatchOptions *o, etcd_watch_event_t on_event,
               etcd_watch_done_t on_done, void *userdata, EtcdRequest **ret)
{
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        cJSON *create;
        EtcdRequest *r;
        Watch *w;
        int k;

        if (!c || !key || !on_event || !on_done || (o && o->start_revision < 0))
                return -EINVAL;
        create = j ? cJSON_AddObjectToObject(j, "create_request") : NULL;
        if (!create)
                return -ENOMEM;
        k = json_add_bytes(create, "key", key, strlen(key));
        if (k >= 0 && o)
                k = json_add_range_end(create, key, o->range_end, o->prefix);
        if (k >= 0 && o && o->start_revision > 0)
                k = json_add_i64(create, "start_revision", o->start_revision);
        if (k >= 0 && o && o->prev_kv)
                k = cJSON_AddTrueToObject(create, "prev_kv") ? 0 : -ENOMEM;
        if (k < 0)
                return k;
        k = request_new(c, "/v3/watch", json_print(j), &r);
        if (k < 0)
                return k;
        r->deadline = USEC_INFINITY;
        r->timeout = 0;
        r->userdata = userdata;
        w = r->watch = calloc(1, sizeof(Watch));
        if (!w) {
                request_free(r);
                return -ENOMEM;
        }
        w->on_event = on_event;
        w->on_done = on_done;
        w->queue_tail = &w->queue;
        k = sd_event_add_defer(curl_loop_get_event(c->loop), &w->deliver, on_deliver, r);
        if (k < 0) {
                request_free(r);
                return k;
        }
        (void)sd_event_source_set_enabled(w->deliver, SD_EVENT_OFF);
        (void)sd_event_source_set_description(w->deliver, "etcd-watch");
        return request_start(r, ret);
}
