/* Internal layout of the API server shared by its source files: the server object, one
 * request being served, the response being built, the parsed REST route, and the
 * handler entry points of each file. */
#pragma once

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"
#include "mhd-loop.h"
#include "field-errors.h"
#include "manifest.h"

#define API_MAX_CODES 32

typedef struct ApiCodeCount {
        unsigned code;
        uint64_t count;
} ApiCodeCount;

struct ApiServer {
        sd_event *event;
        Store *store;
        struct MHD_Daemon *mhd;
        MhdLoop *loop;     /* runs mhd on the event loop */
        char *socket_path; /* set when we created the socket file: unlinked on free */
        char *log_dir;
        char *node_name;
        char *group_name; /* for messages: the socket group, or "root" */
        gid_t group_gid;
        ApiHooks hooks;
        ApiCodeCount codes[API_MAX_CODES];
        size_t n_codes;
};

typedef struct ApiRequest {
        ApiServer *api;
        struct MHD_Connection *conn; /* NULL in unit tests of the handlers */
        const char *method;
        char *body;
        size_t body_size;
        size_t body_allocated;
        bool too_large; /* the body is being dropped: 413 */
        bool oom;
} ApiRequest;

typedef struct ApiHeader {
        char *name;
        char *value;
} ApiHeader;

typedef struct ApiResponse {
        unsigned code;
        const char *content_type;
        char *body;
        size_t size;
        ApiHeader *headers;
        size_t n_headers;
} ApiResponse;

typedef enum ApiRouteType {
        API_ROUTE_VERSION,
        API_ROUTE_HEALTHZ,
        API_ROUTE_METRICS,
        API_ROUTE_APPLY,
        API_ROUTE_COLLECTION, /* a list path: ns set, or NULL for all namespaces / cluster scope */
        API_ROUTE_ITEM,       /* one object, with an optional subresource */
} ApiRouteType;

typedef struct ApiRoute {
        ApiRouteType type;
        const KindInfo *kind; /* collection and item routes */
        bool events;          /* the events collection (served from the event log) */
        char *ns;
        char *name;
        char *sub; /* "status", "log" or NULL */
} ApiRoute;

/* api.c */
const char *api_request_query(ApiRequest *req, const char *key);
/* Prometheus text of GET /metrics (malloc'd). */
int api_metrics_text(ApiServer *api, char **ret);

/* api-status.c: responses and Kubernetes Status objects */
void api_response_done(ApiResponse *resp);
int api_response_add_header(ApiResponse *resp, const char *name, const char *value);
/* Adds "Warning: 299 - \"<text>\"" as the apiserver does. */
int api_response_add_warning(ApiResponse *resp, const char *text);
int api_reply_text(ApiResponse *resp, unsigned code, const char *content_type, const char *text,
                   size_t size);
/* Prints j (borrowed) compactly as the body. */
int api_reply_json(ApiResponse *resp, unsigned code, const cJSON *j);
cJSON *api_status_new(unsigned code, const char *reason, const char *message, cJSON *details);
int api_reply_status(ApiResponse *resp, unsigned code, const char *reason, cJSON *details, const char *fmt,
                     ...) _printf_(5, 6);
/* "pods" or "statefulsets.apps", as the apiserver names a resource in messages. */
char *api_resource_name(const KindInfo *k);
cJSON *api_status_details(const KindInfo *k, const char *name);
int api_reply_not_found(ApiResponse *resp, const KindInfo *k, const char *name);
int api_reply_already_exists(ApiResponse *resp, const KindInfo *k, const char *name);
int api_reply_conflict(ApiResponse *resp, const KindInfo *k, const char *name);
int api_reply_bad_request(ApiResponse *resp, const char *fmt, ...) _printf_(2, 3);
/* 500 InternalError for an unexpected negative errno. */
int api_reply_errno(ApiResponse *resp, int r);
/* "Required value" for FIELD_ERROR_REQUIRED etc.: the cause reason of a field error. */
const char *api_cause_reason(FieldErrorType type);
/* `Pod "x" is invalid: <err>` or `... is invalid: [<err1>, <err2>]`. */
char *api_invalid_message(const char *kind, const char *name, const FieldErrors *errs);
/* Appends {reason, message, field} for every error to causes, field prefixed (may be NULL). */
int api_causes_append(cJSON *causes, const FieldErrors *errs, const char *prefix);
int api_reply_invalid(ApiResponse *resp, const KindInfo *k, const char *name, const FieldErrors *errs);
/* Parses the request body as a JSON object; on failure replies 400 and returns -EINVAL. */
int api_parse_body(ApiRequest *req, ApiResponse *resp, cJSON **ret);

/* api-routes.c */
/* Parses a URL path. -ENOENT for a path that names no resource. */
int api_route_parse(const char *path, ApiRoute *ret);
void api_route_done(ApiRoute *route);
int api_routes_dispatch(ApiRequest *req, const char *path, ApiResponse *resp);

/* api-objects.c */
int api_objects_get(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_list(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_create(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_replace(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_replace_status(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_delete(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_delete_collection(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
/* Adds one Warning header per unknown field of obj (prefix, e.g. "items[0]: ", may be NULL). */
int api_objects_warn_unknown(ApiResponse *resp, const cJSON *obj, const char *prefix);
/* A warning for a StatefulSet whose serviceName names no Service in the store or in batch. */
int api_objects_warn_service(ApiServer *api, ApiResponse *resp, const cJSON *obj, const cJSON *batch,
                             const char *prefix);
/* What an update cannot change, taken from the stored object as the apiserver does: uid
 * (when absent), creation and deletion stamps, generation; resourceVersion (when absent)
 * with with_version. */
/* {"kind":"<Kind>List","apiVersion":...,"metadata":{"resourceVersion"},"items":items}; takes items. */
cJSON *api_objects_list_new(Store *store, const char *kind, const char *api_version, cJSON *items);

/* store_delete_object() with the API's propagationPolicy (NULL = Background); -ENOENT
 * without a name. */
int api_delete_object(ApiServer *api, const KindInfo *k, const char *ns, const char *name, int64_t grace_sec,
                      const char *propagation, cJSON **ret);

/* api-routes.c: field selectors ("involvedObject.uid=x,status.phase!=Running") */
typedef struct ApiFieldSelector ApiFieldSelector;
int api_field_selector_parse(const char *s, ApiFieldSelector **ret, char **ret_error);
ApiFieldSelector *api_field_selector_free(ApiFieldSelector *sel);
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiFieldSelector *, api_field_selector_free);
bool api_field_selector_matches(const ApiFieldSelector *sel, const cJSON *obj);
/* The value required by an "=" term on field, or NULL. */
const char *api_field_selector_value(const ApiFieldSelector *sel, const char *field);

/* api-apply.c */
int api_apply(ApiRequest *req, ApiResponse *resp);

/* api-logs.c */
int api_logs_get(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_release(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_objects_get_probes(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);
int api_events_list(ApiRequest *req, const ApiRoute *route, ApiResponse *resp);

/* Runs the agent's admission hook, if any, on obj (see ApiHooks.admit). */
int api_admit(ApiServer *api, const cJSON *obj, FieldErrors *errs);
