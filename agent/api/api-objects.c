/* CRUD handlers of the REST resources: get and list (label and field selectors), create
 * and replace with Kubernetes defaulting and validation, the status subresource, and
 * deletion with DeleteOptions (the semantics, pods marked and dependents cascaded or
 * orphaned, are the store's: store_delete_object()). */
#include <string.h>

#include "api-internal.h"
#include "json-util.h"
#include "log.h"
#include "util.h"

static const char *path_ns(const ApiRoute *route)
{
        return route->kind && route->kind->namespaced ? route->ns : NULL;
}

cJSON *api_objects_list_new(Store *store, const char *kind, const char *api_version, cJSON *items)
{
        _cleanup_json_ cJSON *list = cJSON_CreateObject(), *it = items;
        _cleanup_free_ char *list_kind = strjoin(kind, "List", NULL);
        char rv[32];
        cJSON *meta;

        if (!list || !it || !list_kind)
                return NULL;
        snprintf(rv, sizeof(rv), "%llu", (unsigned long long)store_resource_version(store));
        if (json_set_string(list, "kind", list_kind) < 0 ||
            json_set_string(list, "apiVersion", api_version) < 0)
                return NULL;
        meta = json_ensure_object(list, "metadata");
        if (!meta || json_set_string(meta, "resourceVersion", rv) < 0)
                return NULL;
        if (json_set(list, "items", TAKE_PTR(it)) < 0)
                return NULL;
        return TAKE_PTR(list);
}

int api_objects_warn_unknown(ApiResponse *resp, const cJSON *obj, const char *prefix)
{
        FieldErrors warnings;
        int r;

        field_errors_init(&warnings);
        r = manifest_unknown_fields(obj, &warnings);
        for (size_t i = 0; r >= 0 && i < warnings.n; i++) {
                _cleanup_free_ char *w = field_error_format(&warnings.items[i]);
                _cleanup_free_ char *text = w ? strjoin(prefix ?: "", w, NULL) : NULL;

                r = text ? api_response_add_warning(resp, text) : -ENOMEM;
        }
        field_errors_done(&warnings);
        return r < 0 ? r : 0;
}

/* A StatefulSet whose spec.serviceName names no Service of its namespace, in the store or in
 * batch (the other objects of one apply, or NULL): stored all the same, with a warning, since
 * its pods' stable names (<pod>.<service>) refer to that Service. Given on create and apply,
 * where the user writes the set. */
int api_objects_warn_service(ApiServer *api, ApiResponse *resp, const cJSON *obj, const cJSON *batch,
                             const char *prefix)
{
        const char *svc = json_str(obj, "spec.serviceName"),
                   *ns = json_str(obj, "metadata.namespace") ?: "default";
        _cleanup_json_ cJSON *found = NULL;
        _cleanup_free_ char *text = NULL;
        const cJSON *it;
        int r;

        if (!streq_ptr(json_str(obj, "kind"), "StatefulSet") || isempty(svc))
                return 0;
        cJSON_ArrayForEach (it, batch)
                if (streq_ptr(json_str(it, "kind"), "Service") &&
                    streq_ptr(json_str(it, "metadata.name"), svc) &&
                    streq(json_str(it, "metadata.namespace") ?: "default", ns))
                        return 0;
        r = store_get(api->store, "Service", ns, svc, &found);
        if (r != -ENOENT)
                return r < 0 ? r : 0;
        if (asprintf_safe(
                &text,
                "%sspec.serviceName: service \"%s\" not found in namespace \"%s\": the pods' names "
                "<pod>.%s resolve once it exists",
                prefix ?: "", svc, ns, svc) < 0)
                return -ENOMEM;
        return api_response_add_warning(resp, text);
}

/* Store errors that have an apiserver answer; other errors are returned as they are. */
static int reply_store_error(ApiResponse *resp, int r, const KindInfo *k, const char *name)
{
        if (r == -ENOENT)
                return api_reply_not_found(resp, k, name);
        if (r == -EEXIST)
                return api_reply_already_exists(resp, k, name);
        if (r == -ESTALE)
                return api_reply_conflict(resp, k, name);
        return r;
}

/* Cluster mode: the other nodes' pods of ns (NULL: all), or NULL (none, or not a pod list). */
static int fleet_pods(ApiServer *api, const KindInfo *k, const char *ns, cJSON **ret)
{
        *ret = NULL;
        if (!streq(k->kind, "Pod") || !api->hooks.fleet_pods)
                return 0;
        return api->hooks.fleet_pods(api->hooks.userdata, ns, ret);
}

static cJSON *fleet_pod_named(cJSON *pods, const char *name)
{
        cJSON *pod;

        cJSON_ArrayForEach (pod, pods)
                if (streq_ptr(json_str(pod, "metadata.name"), name))
                        return cJSON_DetachItemViaPointer(pods, pod);
        return NULL;
}

int api_objects_get(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *obj = NULL, *others = NULL;
        int r;

        r = store_get(req->api->store, route->kind->kind, path_ns(route), route->name, &obj);
        if (r == -ENOENT) {
                /* another node's pod, read-only */
                r = fleet_pods(req->api, route->kind, path_ns(route), &others);
                if (r < 0)
                        return r;
                obj = fleet_pod_named(others, route->name);
                if (obj)
                        return api_reply_json(resp, MHD_HTTP_OK, obj);
                r = -ENOENT;
        }
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        return api_reply_json(resp, MHD_HTTP_OK, obj);
}

/* berth's own subresource: what the agent's probe workers know of a pod right now (last
 * result, consecutive counts), which is not kept in the stored status. */
int api_objects_get_probes(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *pod = NULL, *out = NULL, *probes = NULL;
        cJSON *meta;
        int r;

        r = store_get(req->api->store, route->kind->kind, path_ns(route), route->name, &pod);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        if (req->api->hooks.pod_probes) {
                r = req->api->hooks.pod_probes(req->api->hooks.userdata, json_str(pod, "metadata.uid") ?: "",
                                               &probes);
                if (r < 0)
                        return r;
        }
        out = cJSON_CreateObject();
        meta = out ? json_ensure_object(out, "metadata") : NULL;
        if (!meta || json_set_string(out, "apiVersion", "berth.dev/v1") < 0 ||
            json_set_string(out, "kind", "PodProbes") < 0 ||
            json_set_string(meta, "name", json_str(pod, "metadata.name")) < 0 ||
            json_set_string(meta, "namespace", json_str(pod, "metadata.namespace")) < 0 ||
            json_set_string(meta, "uid", json_str(pod, "metadata.uid")) < 0 ||
            json_set(out, "probes", probes ? TAKE_PTR(probes) : cJSON_CreateArray()) < 0)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, out);
}

/* The objects a list or deletecollection request selects, as a JSON array; 0 with *ret NULL
 * when a selector was malformed and a 400 has been set. */
static int by_namespace_name(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        int c = strcmp(json_str(x, "metadata.namespace") ?: "", json_str(y, "metadata.namespace") ?: "");

        return c != 0 ? c : strcmp(json_str(x, "metadata.name") ?: "", json_str(y, "metadata.name") ?: "");
}

/* Adds the other nodes' pods the label selector matches to items, keeping the order. */
static int merge_fleet_pods(ApiRequest *req, const ApiRoute *route, const LabelSelector *ls, cJSON *items)
{
        _cleanup_json_ cJSON *others = NULL;
        _cleanup_free_ cJSON **v = NULL;
        size_t n = 0;
        int r;

        r = fleet_pods(req->api, route->kind, path_ns(route), &others);
        if (r < 0 || cJSON_GetArraySize(others) == 0)
                return r;
        while (cJSON_GetArraySize(others) > 0) {
                cJSON *pod = cJSON_DetachItemFromArray(others, 0);

                if (ls && !label_selector_matches(ls, json_path(pod, "metadata.labels")))
                        cJSON_Delete(pod);
                else
                        cJSON_AddItemToArray(items, pod);
        }
        v = calloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(cJSON *));
        if (!v)
                return -ENOMEM;
        while (cJSON_GetArraySize(items) > 0)
                v[n++] = cJSON_DetachItemFromArray(items, 0);
        qsort(v, n, sizeof(cJSON *), by_namespace_name);
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(items, v[i]);
        return 0;
}

static int select_objects(ApiRequest *req, const ApiRoute *route, ApiResponse *resp, bool fleet, cJSON **ret)
{
        _cleanup_(label_selector_freep) LabelSelector *ls = NULL;
        _cleanup_(api_field_selector_freep) ApiFieldSelector *fs = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_json_ cJSON *items = NULL;
        const char *l = api_request_query(req, "labelSelector");
        const char *f = api_request_query(req, "fieldSelector");
        cJSON *it, *next;
        int r;

        *ret = NULL;
        if (l) {
                r = label_selector_parse(l, &ls, &err);
                if (r == -EINVAL)
                        return api_reply_bad_request(resp, "unable to parse requirement: %s", err ?: l);
                if (r < 0)
                        return r;
        }
        r = api_field_selector_parse(f, &fs, &err);
        if (r == -EINVAL)
                return api_reply_bad_request(resp, "%s", err);
        if (r < 0)
                return r;
        r = store_list(req->api->store, route->kind->kind, path_ns(route), ls, &items);
        if (r >= 0 && fleet)
                r = merge_fleet_pods(req, route, ls, items);
        if (r < 0)
                return r;
        for (it = items ? items->child : NULL; it; it = next) {
                next = it->next;
                if (!api_field_selector_matches(fs, it))
                        cJSON_Delete(cJSON_DetachItemViaPointer(items, it));
        }
        *ret = TAKE_PTR(items);
        return 0;
}

int api_objects_list(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *list = NULL;
        cJSON *items;
        int r;

        r = select_objects(req, route, resp, true, &items);
        if (r < 0 || !items)
                return r;
        list = api_objects_list_new(req->api->store, route->kind->kind, route->kind->api_version, items);
        if (!list)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, list);
}

/* Checks kind, apiVersion, namespace and name of a body against the path, filling the
 * ones that are absent. 0 when fine, 1 when a 400 has been set. */
static int check_identity(const ApiRoute *route, cJSON *obj, ApiResponse *resp)
{
        const KindInfo *k = route->kind;
        const char *kind = json_str(obj, "kind"), *av = json_str(obj, "apiVersion");
        const char *ns = json_str(obj, "metadata.namespace"), *name = json_str(obj, "metadata.name");
        cJSON *meta;

        if (kind && !streq(kind, k->kind))
                return api_reply_bad_request(
                           resp,
                           "the kind of the provided object (%s) does not match the kind of "
                           "the requested resource (%s)",
                           kind, k->kind)
                           ?: 1;
        if (av && !streq(av, k->api_version))
                return api_reply_bad_request(
                           resp,
                           "the API version in the data (%s) does not match the expected API "
                           "version (%s)",
                           av, k->api_version)
                           ?: 1;
        if (k->namespaced && ns && route->ns && !streq(ns, route->ns))
                return api_reply_bad_request(resp, "the namespace of the provided object does not match the "
                                                   "namespace sent on the request")
                           ?: 1;
        if (name && route->name && !streq(name, route->name))
                return api_reply_bad_request(
                           resp, "the name of the object (%s) does not match the name on the URL (%s)", name,
                           route->name)
                           ?: 1;
        meta = json_ensure_object(obj, "metadata");
        if (!meta)
                return -ENOMEM;
        if ((!kind && json_set_string(obj, "kind", k->kind) < 0) ||
            (!av && json_set_string(obj, "apiVersion", k->api_version) < 0) ||
            (k->namespaced && !ns && route->ns && json_set_string(meta, "namespace", route->ns) < 0) ||
            (!name && route->name && json_set_string(meta, "name", route->name) < 0))
                return -ENOMEM;
        return 0;
}

/* Defaults and validates obj (against old when given). 0 when valid, 1 when a 422 has been set. */
static int default_and_validate(ApiServer *api, const KindInfo *k, cJSON *obj, const cJSON *old,
                                ApiResponse *resp)
{
        FieldErrors errs;
        const char *name = json_str(obj, "metadata.name") ?: json_str(obj, "metadata.generateName");
        int r;

        r = manifest_default(obj);
        if (r < 0)
                return r;
        field_errors_init(&errs);
        r = manifest_validate(obj, &errs);
        if (r >= 0 && old)
                r = manifest_validate_update(obj, old, &errs);
        if (r >= 0 && errs.n == 0)
                r = api_admit(api, obj, &errs);
        if (r >= 0 && errs.oom)
                r = -ENOMEM;
        if (r >= 0 && errs.n > 0)
                r = api_reply_invalid(resp, k, name, &errs) ?: 1;
        field_errors_done(&errs);
        return r;
}

/* The request body as an object of the route's kind and name: 0 with *ret, 1 when an error
 * reply has been set, or a negative errno. */
static int parse_for_route(ApiRequest *req, const ApiRoute *route, ApiResponse *resp, cJSON **ret)
{
        _cleanup_json_ cJSON *obj = NULL;
        int r;

        r = api_parse_body(req, resp, &obj);
        if (r == -EINVAL)
                return 1;
        if (r < 0)
                return r;
        r = check_identity(route, obj, resp);
        if (r != 0)
                return r < 0 ? r : 1;
        *ret = TAKE_PTR(obj);
        return 0;
}

int api_objects_create(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *obj = NULL, *stored = NULL;
        int r;

        r = parse_for_route(req, route, resp, &obj);
        if (r != 0)
                return r < 0 ? r : 0;
        r = default_and_validate(req->api, route->kind, obj, NULL, resp);
        if (r != 0)
                return r < 0 ? r : 0;
        r = api_objects_warn_unknown(resp, obj, NULL);
        if (r >= 0)
                r = api_objects_warn_service(req->api, resp, obj, NULL, NULL);
        if (r < 0)
                return r;
        r = store_create(req->api->store, obj, &stored);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, json_str(obj, "metadata.name"));
        return api_reply_json(resp, MHD_HTTP_CREATED, stored);
}

int api_objects_replace(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *obj = NULL, *old = NULL, *stored = NULL;
        cJSON *status;
        int r;

        r = parse_for_route(req, route, resp, &obj);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_get(req->api->store, route->kind->kind, path_ns(route), route->name, &old);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        r = manifest_inherit_server_fields(obj, old, false);
        if (r < 0)
                return r;
        r = default_and_validate(req->api, route->kind, obj, old, resp);
        if (r != 0)
                return r < 0 ? r : 0;
        /* no Service warning here: a replace is also how `berth scale` writes */
        r = api_objects_warn_unknown(resp, obj, NULL);
        if (r < 0)
                return r;
        /* as in the apiserver, a write of the main resource leaves status alone */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
        status = cJSON_GetObjectItemCaseSensitive(old, "status");
        if (status && json_set(obj, "status", cJSON_Duplicate(status, true)) < 0)
                return -ENOMEM;
        r = store_update(req->api->store, obj, &stored);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        return api_reply_json(resp, MHD_HTTP_OK, stored);
}

int api_objects_replace_status(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *obj = NULL, *stored = NULL, *empty = NULL;
        const cJSON *status;
        int r;

        r = parse_for_route(req, route, resp, &obj);
        if (r != 0)
                return r < 0 ? r : 0;
        status = cJSON_GetObjectItemCaseSensitive(obj, "status");
        if (!status) {
                status = empty = cJSON_CreateObject();
                if (!empty)
                        return -ENOMEM;
        }
        if (!cJSON_IsObject(status))
                return api_reply_bad_request(resp, "status must be an object");
        r = store_update_status(req->api->store, route->kind->kind, path_ns(route), route->name, status);
        if (r >= 0)
                r = store_get(req->api->store, route->kind->kind, path_ns(route), route->name, &stored);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        return api_reply_json(resp, MHD_HTTP_OK, stored);
}

int api_delete_object(ApiServer *api, const KindInfo *k, const char *ns, const char *name, int64_t grace_sec,
                      const char *propagation, cJSON **ret)
{
        StorePropagation p = STORE_PROPAGATE_BACKGROUND;

        if (!name)
                return -ENOENT;
        if (streq_ptr(propagation, "Orphan"))
                p = STORE_PROPAGATE_ORPHAN;
        else if (streq_ptr(propagation, "Foreground"))
                p = STORE_PROPAGATE_FOREGROUND;
        return store_delete_object(api->store, k->kind, ns, name, grace_sec, p, ret);
}

/* gracePeriodSeconds and propagationPolicy from the DeleteOptions body or the query.
 * 0 when fine, 1 when a 400 has been set. */
static int delete_options(ApiRequest *req, ApiResponse *resp, int64_t *ret_grace, char **ret_policy)
{
        _cleanup_json_ cJSON *body = NULL;
        const char *g = api_request_query(req, "gracePeriodSeconds");
        const char *p = api_request_query(req, "propagationPolicy");
        int r;

        *ret_grace = -1;
        if (req->body_size > 0) {
                r = api_parse_body(req, resp, &body);
                if (r == -EINVAL)
                        return 1;
                if (r < 0)
                        return r;
                *ret_grace = json_int(body, "gracePeriodSeconds", -1);
                p = json_str(body, "propagationPolicy") ?: p;
                if (json_bool(body, "orphanDependents", false))
                        p = "Orphan";
        }
        if (g) {
                char *end;
                long long v = strtoll(g, &end, 10);

                if (end == g || *end || v < 0)
                        return api_reply_bad_request(resp, "invalid gracePeriodSeconds \"%s\"", g) ?: 1;
                *ret_grace = v;
        }
        if (p && !streq(p, "Orphan") && !streq(p, "Background") && !streq(p, "Foreground"))
                return api_reply_bad_request(
                           resp,
                           "propagationPolicy: Unsupported value: \"%s\": supported values: "
                           "\"Foreground\", \"Background\", \"Orphan\"",
                           p)
                           ?: 1;
        *ret_policy = p ? strdup(p) : NULL;
        if (p && !*ret_policy)
                return -ENOMEM;
        return 0;
}

/* Another node's pod (cluster mode): that node is asked to delete it. -ENOENT when it is none. */
static int delete_fleet_pod(ApiRequest *req, const ApiRoute *route, int64_t grace, cJSON **ret)
{
        _cleanup_json_ cJSON *others = NULL;
        int r;

        if (!req->api->hooks.delete_fleet_pod)
                return -ENOENT;
        r = fleet_pods(req->api, route->kind, path_ns(route), &others);
        if (r < 0)
                return r;
        *ret = fleet_pod_named(others, route->name);
        if (!*ret)
                return -ENOENT;
        return req->api->hooks.delete_fleet_pod(req->api->hooks.userdata, *ret, grace);
}

int api_objects_delete(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *obj = NULL;
        _cleanup_free_ char *policy = NULL;
        int64_t grace;
        int r;

        r = delete_options(req, resp, &grace, &policy);
        if (r != 0)
                return r < 0 ? r : 0;
        r = api_delete_object(req->api, route->kind, path_ns(route), route->name, grace, policy, &obj);
        if (r == -ENOENT)
                r = delete_fleet_pod(req, route, grace, &obj);
        if (r == -EAGAIN)
                return api_reply_status(
                    resp, MHD_HTTP_SERVICE_UNAVAILABLE, "ServiceUnavailable", cJSON_CreateObject(),
                    "pods \"%s\" runs on another node, and this agent is not in touch with "
                    "etcd right now: try again",
                    route->name);
        if (r < 0)
                return reply_store_error(resp, r, route->kind, route->name);
        return api_reply_json(resp, MHD_HTTP_OK, obj);
}

int api_objects_delete_collection(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *items = NULL, *deleted = cJSON_CreateArray(), *list = NULL;
        _cleanup_free_ char *policy = NULL;
        const cJSON *it;
        int64_t grace;
        int r;

        if (!deleted)
                return -ENOMEM;
        r = delete_options(req, resp, &grace, &policy);
        if (r != 0)
                return r < 0 ? r : 0;
        r = select_objects(req, route, resp, false, &items);
        if (r < 0 || !items)
                return r;
        cJSON_ArrayForEach (it, items) {
                cJSON *obj = NULL;

                r = api_delete_object(req->api, route->kind, json_str(it, "metadata.namespace"),
                                      json_str(it, "metadata.name"), grace, policy, &obj);
                if (r == -ENOENT) /* gone meanwhile, e.g. as a dependent of an earlier item */
                        continue;
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToArray(deleted, obj)) {
                        cJSON_Delete(obj);
                        return -ENOMEM;
                }
        }
        list = api_objects_list_new(req->api->store, route->kind->kind, route->kind->api_version,
                                    TAKE_PTR(deleted));
        if (!list)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, list);
}

/* berth's own subresource of a StatefulSet (cluster mode): give up the data binding of one
 * ordinal wherever it is, so that another node may run it (`berth release`). */
int api_objects_release(ApiRequest *req, const ApiRoute *route, ApiResponse *resp)
{
        _cleanup_json_ cJSON *body = NULL;
        _cleanup_free_ char *err = NULL;
        const cJSON *ord;
        int r;

        if (!req->api->hooks.release_ordinal)
                return api_reply_status(resp, MHD_HTTP_BAD_REQUEST, "BadRequest", cJSON_CreateObject(),
                                        "release needs cluster mode (coordinator.type etcd)");
        body = req->body ? cJSON_ParseWithLength(req->body, req->body_size) : NULL;
        ord = cJSON_GetObjectItemCaseSensitive(body, "ordinal");
        if (!cJSON_IsNumber(ord) || ord->valuedouble < 0 || ord->valuedouble > UINT32_MAX ||
            ord->valuedouble != (double)(int64_t)ord->valuedouble)
                return api_reply_bad_request(resp,
                                             "release wants a body {\"ordinal\": N}, N a whole number >= 0");
        r = req->api->hooks.release_ordinal(req->api->hooks.userdata, path_ns(route), route->name,
                                            (int64_t)ord->valuedouble, &err);
        if (r == -ENOENT)
                return api_reply_not_found(resp, route->kind, route->name);
        if (r == -EOPNOTSUPP || r == -ERANGE || r == -EAGAIN || r == -EBUSY)
                return api_reply_status(
                    resp, r == -EAGAIN || r == -EBUSY ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST,
                    r == -EAGAIN || r == -EBUSY ? "Conflict" : "BadRequest", cJSON_CreateObject(), "%s",
                    err ?: strerror(-r));
        if (r < 0)
                return r;
        return api_reply_status(resp, MHD_HTTP_ACCEPTED, "Accepted", cJSON_CreateObject(), "%s",
                                err ?: "release sent");
}
