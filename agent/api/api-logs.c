/* Read-only diagnostics: pod logs (GET .../pods/<name>/log with container, previous,
 * timestamps, tailLines, and berth's offset for following by polling) read from the CRI log
 * files the runtime writes, and the event log (GET .../events with field selectors). */
#include <inttypes.h>
#include <string.h>

#include "api-internal.h"
#include "json-util.h"
#include "runtime.h"
#include "util.h"

/* "[a b]" from the "name" fields of a container array. */
static char *container_names(const cJSON *containers)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        const cJSON *c;
        bool first = true;

        if (!f)
                return NULL;
        fputc('[', f);
        cJSON_ArrayForEach (c, containers) {
                fprintf(f, "%s%s", first ? "" : " ", json_str(c, "name") ?: "");
                first = false;
        }
        fputc(']', f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static bool has_container(const cJSON *containers, const char *name)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, containers) {
                const char *n = json_str(c, "name");

                if (n && streq(n, name))
                        return true;
        }
        return false;
}

/* The container a log request is about; NULL (with a 400 set) when it cannot be told. */
static int pick_container(const cJSON *pod, const char *want, ApiResponse *resp, const char **ret)
{
        const cJSON *cs = json_path(pod, "spec.containers"), *ics = json_path(pod, "spec.initContainers");
        const char *name = json_str(pod, "metadata.name");
        _cleanup_free_ char *a = NULL, *b = NULL;

        *ret = NULL;
        if (want) {
                if (has_container(cs, want) || has_container(ics, want)) {
                        *ret = want;
                        return 0;
                }
                return api_reply_bad_request(resp, "container %s is not valid for pod %s", want, name);
        }
        if (cJSON_GetArraySize(cs) == 1) {
                *ret = json_str(cs->child, "name");
                if (*ret)
                        return 0;
        }
        a = container_names(cs);
        b = container_names(ics);
        if (!a || !b)
                return -ENOMEM;
        if (cJSON_GetArraySize(ics) > 0)
                return api_reply_bad_request(
                    resp,
                    "a container name must be specified for pod %s, choose one of: %s "
                    "or one of the init containers: %s",
                    name, a, b);
        return api_reply_bad_request(
            resp, "a container name must be specified for pod %s, choose one of: %s", name, a);
}

static const cJSON *container_status(const cJSON *pod, const char *container)
{
        static const char *const lists[] = {"status.containerStatuses", "status.initContainerStatuses"};

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                const cJSON *st;

                cJSON_ArrayForEach (st, json_path(pod, lists[i])) {
                        const char *n = json_str(st, "name");

                        if (n && streq(n, container))
                                return st;
                }
        }
        return NULL;
}

typedef struct LogQuery {
        const char *container;
        bool previous;
        bool timestamps;
        int64_t tail_lines;
        uint64_t offset;
} LogQuery;

static bool query_true(ApiRequest *req, const char *key)
{
        const char *v = api_request_query(req, key);

        return v && (streq(v, "true") || streq(v, "1"));
}

/* Parses the query parameters; 1 when a 400 has been set. */
static int log_query(ApiRequest *req, ApiResponse *resp, LogQuery *q)
{
        const char *tail = api_request_query(req, "tailLines");
        const char *off = api_request_query(req, "offset");
        char *end;

        *q = (LogQuery){.container = api_request_query(req, "container"), .tail_lines = -1};
        if (q->container && !*q->container)
                q->container = NULL;
        q->previous = query_true(req, "previous");
        q->timestamps = query_true(req, "timestamps");
        if (tail) {
                q->tail_lines = strtoll(tail, &end, 10);
                if (end == tail || *end || q->tail_lines < 0)
                        return api_reply_bad_request(resp, "invalid tailLines \"%s\"", tail) ?: 1;
        }
        if (off) {
                q->offset = strtoull(off, &end, 10);
                if (end == off || *end || *off == '-')
                        return api_reply_bad_request(resp, "invalid offset \"%s\"", off) ?: 1;
        }
        return 0;
}

static int reply_log(ApiResponse *resp, const char *path, const LogQuery *q, const cJSON *st,
                     const char *pod)
{
        _cleanup_free_ char *text = NULL;
        char next_s[32];
        size_t size = 0;
        uint64_t next = 0;
        const char *waiting = json_str(st, "state.waiting.reason");
        int r;

        r = runtime_log_read(path, q->offset, q->timestamps, q->tail_lines, &text, &size, &next);
        if (r == -ENOENT && waiting && !q->previous)
                return api_reply_bad_request(resp, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                                             q->container, pod, waiting);
        if (r == -ENOENT)
                return api_reply_status(resp, MHD_HTTP_NOT_FOUND, "NotFound", NULL,
                                        "container \"%s\" in pod \"%s\" has no log yet", q->container, pod);
        if (r < 0)
                return r;
        r = api_reply_text(resp, MHD_HTTP_OK, "text/plain", text ?: "", text ? size : 0);
        if (r < 0)
                return r;
        snprintf(next_s, sizeof(next_s), "%" PRIu64, next);
        return api_response_add_header(resp, "X-Berth-Log-Offset", next_s);
}

int api_logs_get(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *pod = NULL;
        _cleanup_free_ char *path = NULL;
        const cJSON *st;
        LogQuery q;
        int64_t restarts;
        int r;

        r = log_query(req, resp, &q);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_get(req->api->store, "Pod", route->ns, route->name, &pod);
        if (r == -ENOENT)
                return api_reply_not_found(resp, route->kind, route->name);
        if (r < 0)
                return r;
        r = pick_container(pod, q.container, resp, &q.container);
        if (r < 0 || !q.container)
                return r;

        st = container_status(pod, q.container);
        restarts = json_int(st, "restartCount", 0);
        if (q.previous && restarts <= 0)
                return api_reply_bad_request(resp,
                                             "previous terminated container \"%s\" in pod \"%s\" not found",
                                             q.container, route->name);
        r = runtime_log_path(req->api->log_dir, route->ns, route->name, json_str(pod, "metadata.uid") ?: "",
                             q.container, (unsigned)(q.previous ? restarts - 1 : restarts), &path);
        if (r < 0)
                return r;
        return reply_log(resp, path, &q, st, route->name);
}

int api_events_list(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_(api_field_selector_freep) ApiFieldSelector *fs = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_json_ cJSON *items = NULL, *list = NULL;
        cJSON *it, *next;
        int r;

        r = api_field_selector_parse(api_request_query(req, "fieldSelector"), &fs, &err);
        if (r == -EINVAL)
                return api_reply_bad_request(resp, "%s", err);
        if (r < 0)
                return r;
        r = store_list_events(req->api->store, route->ns, api_field_selector_value(fs, "involvedObject.uid"),
                              &items);
        if (r < 0)
                return r;
        for (it = items ? items->child : NULL; it; it = next) {
                next = it->next;
                if (!api_field_selector_matches(fs, it))
                        cJSON_Delete(cJSON_DetachItemViaPointer(items, it));
        }
        list = api_objects_list_new(req->api->store, "Event", "v1", TAKE_PTR(items));
        if (!list)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, list);
}
