/* REST paths of the API: parsing of the Kubernetes URL layout (/api/v1/..., /apis/<group>/
 * <version>/..., namespaced and cluster-wide) into a route, field selectors of the query
 * (terms "a.b=v", "a.b==v", "a.b!=v"; a missing field compares as ""), dispatch of a route
 * and an HTTP method to its handler, and the fixed endpoints (/version, /healthz, /metrics). */
#include <string.h>

#include "api-internal.h"
#include "berth-config.h"
#include "json-util.h"
#include "util.h"

#define API_MAX_SEGMENTS 8

typedef struct FieldTerm {
        char *field;
        char *value;
        bool negate;
} FieldTerm;

struct ApiFieldSelector {
        FieldTerm *terms;
        size_t n;
};

ApiFieldSelector *api_field_selector_free(ApiFieldSelector *sel)
{
        if (!sel)
                return NULL;
        for (size_t i = 0; i < sel->n; i++) {
                free(sel->terms[i].field);
                free(sel->terms[i].value);
        }
        free(sel->terms);
        free(sel);
        return NULL;
}

static int selector_error(char **ret_error, const char *term, const char *why)
{
        int r = asprintf_safe(ret_error, "invalid selector: '%s'; %s", term, why);

        return r < 0 ? r : -EINVAL;
}

static int add_term(ApiFieldSelector *sel, const char *term, char **ret_error)
{
        const char *op = strstr(term, "!=");
        size_t keylen, oplen;
        FieldTerm *t;

        if (op)
                oplen = 2;
        else if ((op = strstr(term, "==")))
                oplen = 2;
        else if ((op = strchr(term, '=')))
                oplen = 1;
        else
                return selector_error(ret_error, term, "a field selector term needs =, == or !=");
        keylen = (size_t)(op - term);
        if (keylen == 0)
                return selector_error(ret_error, term, "field label is empty");

        t = realloc(sel->terms, (sel->n + 1) * sizeof(FieldTerm));
        if (!t)
                return -ENOMEM;
        sel->terms = t;
        t = &sel->terms[sel->n];
        *t = (FieldTerm){.negate = oplen == 2 && op[0] == '!'};
        t->field = strndup(term, keylen);
        t->value = strdup(op + oplen);
        sel->n++;
        if (!t->field || !t->value)
                return -ENOMEM;
        return 0;
}

int api_field_selector_parse(const char *s, ApiFieldSelector **ret, char **ret_error)
{
        _cleanup_(api_field_selector_freep) ApiFieldSelector *sel = calloc(1, sizeof(ApiFieldSelector));
        _cleanup_free_ char *copy = strdup(s ?: "");
        char *save = NULL;
        int r;

        *ret_error = NULL;
        if (!sel || !copy)
                return -ENOMEM;
        for (char *term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
                /* tolerate blanks around terms, as kubectl users write them */
                while (*term == ' ')
                        term++;
                for (size_t n = strlen(term); n > 0 && term[n - 1] == ' '; n--)
                        term[n - 1] = 0;
                if (!*term)
                        continue;
                r = add_term(sel, term, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(sel);
        return 0;
}

bool api_field_selector_matches(const ApiFieldSelector *sel, const cJSON *obj)
{
        if (!sel)
                return true;
        for (size_t i = 0; i < sel->n; i++) {
                const cJSON *j = json_path(obj, sel->terms[i].field);
                char num[64];
                const char *v = "";
                bool eq;

                if (cJSON_IsString(j))
                        v = j->valuestring;
                else if (cJSON_IsNumber(j)) {
                        snprintf(num, sizeof(num), "%lld", (long long)j->valuedouble);
                        v = num;
                } else if (cJSON_IsBool(j))
                        v = cJSON_IsTrue(j) ? "true" : "false";
                eq = streq(v, sel->terms[i].value);
                if (eq == sel->terms[i].negate)
                        return false;
        }
        return true;
}

const char *api_field_selector_value(const ApiFieldSelector *sel, const char *field)
{
        if (!sel)
                return NULL;
        for (size_t i = 0; i < sel->n; i++)
                if (!sel->terms[i].negate && streq(sel->terms[i].field, field))
                        return sel->terms[i].value;
        return NULL;
}

void api_route_done(ApiRoute *route)
{
        free(route->ns);
        free(route->name);
        free(route->sub);
        *route = (ApiRoute){};
}

/* Splits path on '/' into at most max segments (empty ones skipped); -ENOENT for more. */
static int split_path(char *path, char **segs, size_t max, size_t *ret_n)
{
        size_t n = 0;
        char *save = NULL;

        for (char *s = strtok_r(path, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
                if (n >= max)
                        return -ENOENT;
                segs[n++] = s;
        }
        *ret_n = n;
        return 0;
}

static bool version_matches(const KindInfo *k, const char *group, const char *version)
{
        if (isempty(group))
                return streq(k->api_version, version);
        return startswith(k->api_version, group) && k->api_version[strlen(group)] == '/' &&
               streq(k->api_version + strlen(group) + 1, version);
}

static int set_strings(ApiRoute *r, const char *ns, const char *name, const char *sub)
{
        if ((ns && !(r->ns = strdup(ns))) || (name && !(r->name = strdup(name))) ||
            (sub && !(r->sub = strdup(sub))))
                return -ENOMEM;
        return 0;
}

/* The resource part after /api/v1 or /apis/<group>/<version>. */
static int parse_resource(const char *group, const char *version, char **rest, size_t n, ApiRoute *r)
{
        const char *ns = NULL, *plural, *name = NULL, *sub = NULL;
        bool namespaced_path = false;

        if (n == 0)
                return -ENOENT;
        if (streq(rest[0], "namespaces") && n >= 3 && !(n == 3 && streq(rest[2], "status"))) {
                if (n > 5)
                        return -ENOENT;
                namespaced_path = true;
                ns = rest[1];
                plural = rest[2];
                name = n > 3 ? rest[3] : NULL;
                sub = n > 4 ? rest[4] : NULL;
        } else {
                if (n > 3)
                        return -ENOENT;
                plural = rest[0];
                name = n > 1 ? rest[1] : NULL;
                sub = n > 2 ? rest[2] : NULL;
        }

        if (isempty(group) && streq(plural, "events")) {
                /* events live in the store's event log, not among the objects */
                if (name)
                        return -ENOENT;
                r->events = true;
        } else {
                r->kind = kind_by_plural(group, plural);
                if (!r->kind || !version_matches(r->kind, group, version))
                        return -ENOENT;
                /* namespaced kinds have items only under a namespace; cluster kinds never do */
                if (namespaced_path != r->kind->namespaced && (namespaced_path || name))
                        return -ENOENT;
        }
        if (sub && !streq(sub, "status") &&
            !((streq(sub, "log") || streq(sub, "probes")) && streq(r->kind->kind, "Pod")) &&
            !(streq(sub, "release") && streq(r->kind->kind, "StatefulSet")))
                return -ENOENT;
        r->type = name ? API_ROUTE_ITEM : API_ROUTE_COLLECTION;
        return set_strings(r, ns, name, sub);
}

int api_route_parse(const char *path, ApiRoute *ret)
{
        _cleanup_free_ char *copy = strdup(path ?: "");
        ApiRoute r = {};
        char *segs[API_MAX_SEGMENTS];
        size_t n;
        int k;

        if (!copy)
                return -ENOMEM;
        k = split_path(copy, segs, ELEMENTSOF(segs), &n);
        if (k < 0)
                return k;
        if (n == 1 && streq(segs[0], "version"))
                r.type = API_ROUTE_VERSION;
        else if (n == 1 && streq(segs[0], "healthz"))
                r.type = API_ROUTE_HEALTHZ;
        else if (n == 1 && streq(segs[0], "metrics"))
                r.type = API_ROUTE_METRICS;
        else if (n == 4 && streq(segs[0], "apis") && streq(segs[1], "berth.dev") && streq(segs[2], "v1") &&
                 streq(segs[3], "apply"))
                r.type = API_ROUTE_APPLY;
        else if (n >= 2 && streq(segs[0], "api") && streq(segs[1], "v1"))
                k = parse_resource("", "v1", segs + 2, n - 2, &r);
        else if (n >= 3 && streq(segs[0], "apis"))
                k = parse_resource(segs[1], segs[2], segs + 3, n - 3, &r);
        else
                k = -ENOENT;
        if (k < 0) {
                api_route_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

static int reply_version(ApiResponse *resp)
{
        _cleanup_json_ cJSON *v = cJSON_CreateObject();

        if (!v || json_set_string(v, "major", "1") < 0 || json_set_string(v, "minor", "0") < 0 ||
            json_set_string(v, "gitVersion", "v" BERTH_VERSION "-berth") < 0 ||
            json_set_string(v, "platform", "linux/amd64") < 0)
                return -ENOMEM;
        return api_reply_json(resp, MHD_HTTP_OK, v);
}

static int reply_metrics(ApiRequest *req, ApiResponse *resp)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = api_metrics_text(req->api, &text);
        if (r < 0)
                return r;
        return api_reply_text(resp, MHD_HTTP_OK, "text/plain; version=0.0.4", text, strlen(text));
}

static int reply_method_not_allowed(ApiResponse *resp)
{
        return api_reply_status(resp, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed", NULL,
                                "the server does not allow this method on the requested resource");
}

static int dispatch_collection(ApiRequest *req, const ApiRoute *route, const char *m, ApiResponse *resp)
{
        if (route->events)
                return streq(m, "GET") ? api_events_list(req, route, resp) : reply_method_not_allowed(resp);
        if (streq(m, "GET"))
                return api_objects_list(req, route, resp);
        /* creating a namespaced object needs its namespace in the path */
        if (streq(m, "POST") && (route->ns || !route->kind->namespaced))
                return api_objects_create(req, route, resp);
        if (streq(m, "DELETE"))
                return api_objects_delete_collection(req, route, resp);
        return reply_method_not_allowed(resp);
}

static int dispatch_item(ApiRequest *req, const ApiRoute *route, const char *m, ApiResponse *resp)
{
        if (route->sub && streq(route->sub, "log"))
                return streq(m, "GET") ? api_logs_get(req, route, resp) : reply_method_not_allowed(resp);
        if (route->sub && streq(route->sub, "probes"))
                return streq(m, "GET") ? api_objects_get_probes(req, route, resp)
                                       : reply_method_not_allowed(resp);
        if (route->sub && streq(route->sub, "release"))
                return streq(m, "POST") ? api_objects_release(req, route, resp)
                                        : reply_method_not_allowed(resp);
        if (streq(m, "GET"))
                return api_objects_get(req, route, resp);
        if (streq(m, "PUT"))
                return route->sub ? api_objects_replace_status(req, route, resp)
                                  : api_objects_replace(req, route, resp);
        if (streq(m, "DELETE") && !route->sub)
                return api_objects_delete(req, route, resp);
        return reply_method_not_allowed(resp);
}

int api_routes_dispatch(ApiRequest *req, const char *path, ApiResponse *resp)
{
        _cleanup_(api_route_done) ApiRoute route = {};
        const char *m = streq(req->method, "HEAD") ? "GET" : req->method;
        int r;

        r = api_route_parse(path, &route);
        if (r == -ENOENT)
                return api_reply_status(resp, MHD_HTTP_NOT_FOUND, "NotFound", cJSON_CreateObject(),
                                        "the server could not find the requested resource");
        if (r < 0)
                return r;
        switch (route.type) {
        case API_ROUTE_VERSION:
                return streq(m, "GET") ? reply_version(resp) : reply_method_not_allowed(resp);
        case API_ROUTE_HEALTHZ:
                return streq(m, "GET") ? api_reply_text(resp, MHD_HTTP_OK, "text/plain", "ok", 2)
                                       : reply_method_not_allowed(resp);
        case API_ROUTE_METRICS:
                return streq(m, "GET") ? reply_metrics(req, resp) : reply_method_not_allowed(resp);
        case API_ROUTE_APPLY:
                return streq(m, "POST") ? api_apply(req, resp) : reply_method_not_allowed(resp);
        case API_ROUTE_COLLECTION:
                return dispatch_collection(req, &route, m, resp);
        case API_ROUTE_ITEM:
                return dispatch_item(req, &route, m, resp);
        }
        return -EINVAL;
}
