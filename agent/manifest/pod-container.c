/* Pod containers: defaults (SetDefaults_Container and friends from pkg/apis/core/v1) and
 * validation of containers and init containers (pkg/apis/core/validation): names, image,
 * ports, env, envFrom, resources, volume mounts, probes, lifecycle and security context. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "pod-internal.h"
#include "util.h"

#define ENV_NAME_MSG                                                                                        \
        "a valid environment variable name must consist only of printable ASCII characters other than '='"
#define QUANTITY_MSG                                                                                        \
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const message_policies[] = {"FallbackToLogsOnError", "File", NULL};
static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
static const char *const seccomp_types[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
static const char *const env_field_paths[] = {
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs",     "status.podIP", "status.podIPs", NULL};
static const char *const resource_field_refs[] = {"limits.cpu",
                                                  "limits.ephemeral-storage",
                                                  "limits.memory",
                                                  "requests.cpu",
                                                  "requests.ephemeral-storage",
                                                  "requests.memory",
                                                  NULL};

char *pod_path(const char *parent, const char *child)
{
        return field_path_child(parent, child);
}

static cJSON *get(const cJSON *o, const char *k)
{
        return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
        const cJSON *v = get(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool unset(const cJSON *o, const char *k)
{
        const cJSON *v = get(o, k);

        return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]) ||
               (cJSON_IsNumber(v) && v->valuedouble == 0);
}

/* --- defaults --- */

int pod_http_get_set_defaults(cJSON *http_get)
{
        int r = 0;

        if (!cJSON_IsObject(http_get))
                return 0;
        if (unset(http_get, "path"))
                r = json_set_string(http_get, "path", "/");
        if (r >= 0 && unset(http_get, "scheme"))
                r = json_set_string(http_get, "scheme", "HTTP");
        return r;
}

static int probe_set_defaults(cJSON *probe)
{
        static const struct {
                const char *field;
                int64_t value;
        } d[] = {
            {"timeoutSeconds", 1}, {"periodSeconds", 10}, {"successThreshold", 1}, {"failureThreshold", 3}};
        cJSON *grpc;

        if (!cJSON_IsObject(probe))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(d); i++)
                if (unset(probe, d[i].field) && json_set_int(probe, d[i].field, d[i].value) < 0)
                        return -ENOMEM;
        /* GRPCAction.service: +default="" */
        grpc = get(probe, "grpc");
        if (cJSON_IsObject(grpc) && (!get(grpc, "service") || cJSON_IsNull(get(grpc, "service"))) &&
            json_set_string(grpc, "service", "") < 0)
                return -ENOMEM;
        return pod_http_get_set_defaults(get(probe, "httpGet"));
}

/* imagePullPolicy: Always for ":latest" or no tag (unless pinned by digest), else IfNotPresent. */
static const char *default_pull_policy(const char *image)
{
        const char *at = strchr(image, '@'), *slash, *colon;
        size_t n = at ? (size_t)(at - image) : strlen(image);

        slash = memrchr(image, '/', n);
        colon = memrchr(slash ? slash : image, ':', n - (size_t)((slash ? slash : image) - image));
        if (!colon)
                return at ? "IfNotPresent" : "Always";
        return (size_t)(image + n - colon - 1) == 6 && strneq(colon + 1, "latest", 6) ? "Always"
                                                                                      : "IfNotPresent";
}

static int env_set_defaults(cJSON *env)
{
        cJSON *ev;

        cJSON_ArrayForEach (ev, (cJSON_IsArray(env) ? env : NULL)) {
                cJSON *fr = get(get(ev, "valueFrom"), "fieldRef");

                if (cJSON_IsObject(fr) && unset(fr, "apiVersion") &&
                    json_set_string(fr, "apiVersion", "v1") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int resources_set_defaults(cJSON *c)
{
        cJSON *res = get(c, "resources"), *limits = get(res, "limits"), *requests, *l;

        if (!cJSON_IsObject(limits) || cJSON_GetArraySize(limits) == 0)
                return 0;
        /* SetDefaults_Pod: a limit without a request is also the request. */
        requests = json_ensure_object(res, "requests");
        if (!requests)
                return -ENOMEM;
        cJSON_ArrayForEach (l, limits) {
                if (!get(requests, l->string) && json_set(requests, l->string, cJSON_Duplicate(l, true)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int pod_container_set_defaults(cJSON *c)
{
        static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
        const char *image = get_str(c, "image");
        cJSON *p;
        int r;

        if (!cJSON_IsObject(c))
                return 0;
        if (unset(c, "terminationMessagePath") &&
            json_set_string(c, "terminationMessagePath", "/dev/termination-log") < 0)
                return -ENOMEM;
        if (unset(c, "terminationMessagePolicy") &&
            json_set_string(c, "terminationMessagePolicy", "File") < 0)
                return -ENOMEM;
        /* Without an image the upstream tag parse fails and leaves IfNotPresent. */
        if (unset(c, "imagePullPolicy") &&
            json_set_string(c, "imagePullPolicy",
                            isempty(image) ? "IfNotPresent" : default_pull_policy(image)) < 0)
                return -ENOMEM;
        cJSON_ArrayForEach (p, (cJSON_IsArray(get(c, "ports")) ? get(c, "ports") : NULL)) {
                if (cJSON_IsObject(p) && unset(p, "protocol") && json_set_string(p, "protocol", "TCP") < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(probes); i++) {
                r = probe_set_defaults(get(c, probes[i]));
                if (r < 0)
                        return r;
        }
        r = pod_http_get_set_defaults(get(get(get(c, "lifecycle"), "postStart"), "httpGet"));
        if (r >= 0)
                r = pod_http_get_set_defaults(get(get(get(c, "lifecycle"), "preStop"), "httpGet"));
        if (r >= 0)
                r = env_set_defaults(get(c, "env"));
        if (r >= 0)
                r = resources_set_defaults(c);
        return r;
}

/* --- validation --- */

typedef struct Ctx {
        FieldErrors *e;
        const cJSON *volume_names;
        cJSON *names;       /* container names seen so far */
        const cJSON *grace; /* the pod's terminationGracePeriodSeconds, for sleep actions */
} Ctx;

static bool has_string(const cJSON *arr, const char *s)
{
        const cJSON *i;

        cJSON_ArrayForEach (i, arr) {
                if (cJSON_IsString(i) && streq(i->valuestring, s))
                        return true;
        }
        return false;
}

static void validate_string_list(const cJSON *c, const char *field, const char *path, FieldErrors *e)
{
        const cJSON *l = get(c, field), *i;
        _cleanup_free_ char *p = pod_path(path, field);
        size_t k = 0;

        if (!l || cJSON_IsNull(l))
                return;
        if (!cJSON_IsArray(l)) {
                field_error_add(e, FIELD_ERROR_INVALID, p, l, "must be a list of strings");
                return;
        }
        cJSON_ArrayForEach (i, l) {
                _cleanup_free_ char *ip = field_path_index(p, k++);

                if (!cJSON_IsString(i))
                        field_error_add(e, FIELD_ERROR_INVALID, ip, i, "must be a string");
        }
}

/* ValidatePortNumOrName, plus a rule of berth's own: a name must be one of this container's
 * ports, as that is the only place the kubelet looks a probe's or hook's port name up. An
 * absent port is Go's zero IntOrString, the number 0. */
static void validate_port_num_or_name(const cJSON *port, const cJSON *container, const char *path,
                                      FieldErrors *e)
{
        static const cJSON zero = {.type = cJSON_Number};
        const cJSON *p;

        if (!port || cJSON_IsNull(port))
                port = &zero;
        if (!cJSON_IsString(port)) {
                validate_port_number(port, path, e);
                return;
        }
        if (!is_port_name(port->valuestring)) {
                validate_port_name(port->valuestring, path, e);
                return;
        }
        cJSON_ArrayForEach (p, (cJSON_IsArray(get(container, "ports")) ? get(container, "ports") : NULL)) {
                const char *n = get_str(p, "name");

                if (n && streq(n, port->valuestring))
                        return;
        }
        field_error_add(e, FIELD_ERROR_INVALID, path, port, "must be the name of a port of this container");
}

/* IsHTTPHeaderName: [-A-Za-z0-9]+ */
static bool is_http_header_name(const char *s)
{
        if (!s[0])
                return false;
        for (; *s; s++)
                if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
                    *s != '-')
                        return false;
        return true;
}

static void validate_http_get(const cJSON *v, const cJSON *container, const char *path, FieldErrors *e)
{
        const cJSON *headers = get(v, "httpHeaders"), *h;
        _cleanup_free_ char *pathp = pod_path(path, "path"), *pp = pod_path(path, "port"),
                            *hp = pod_path(path, "httpHeaders");

        if (unset(v, "path"))
                field_error_add(e, FIELD_ERROR_REQUIRED, pathp, NULL, NULL);
        validate_port_num_or_name(get(v, "port"), container, pp, e);
        validate_enum(v, "scheme", path, schemes, false, e);
        if (headers && !cJSON_IsNull(headers) && !cJSON_IsArray(headers)) {
                field_error_add(e, FIELD_ERROR_INVALID, hp, headers, "must be a list");
                return;
        }
        /* upstream reports bad names at httpHeaders itself, without an index */
        cJSON_ArrayForEach (h, headers) {
                const char *name = get_str(h, "name");

                if (!is_http_header_name(name ? name : ""))
                        field_error_add_str(e, FIELD_ERROR_INVALID, hp, name ? name : "",
                                            "a valid HTTP header must consist of alphanumeric characters or "
                                            "'-' (e.g. 'X-Header-Name', regex used for validation is "
                                            "'[-A-Za-z0-9]+')");
        }
}

/* validateSleepAction with PodLifecycleSleepActionAllowZero (beta, on in 1.33): 0 is
 * allowed; grace is the pod's terminationGracePeriodSeconds, unchecked when unset. */
static void validate_sleep(const cJSON *v, const cJSON *grace, const char *path, FieldErrors *e)
{
        static const cJSON zero = {.type = cJSON_Number};
        const cJSON *seconds = get(v, "seconds");

        if (!validate_type_int(v, "seconds", path, e) || !cJSON_IsNumber(grace) ||
            grace->valuedouble != floor(grace->valuedouble))
                return;
        if (!cJSON_IsNumber(seconds))
                seconds = &zero;
        if (seconds->valuedouble < 0 || seconds->valuedouble > grace->valuedouble)
                field_error_add(e, FIELD_ERROR_INVALID, path, seconds,
                                "must be non-negative and less than terminationGracePeriodSeconds (%lld)",
                                (long long)grace->valuedouble);
}

static void validate_action(const char *kind, const cJSON *v, const cJSON *container, const cJSON *grace,
                            const char *path, FieldErrors *e)
{
        _cleanup_free_ char *pp = pod_path(path, "port"), *cp = pod_path(path, "command");
        const cJSON *cmd = get(v, "command");

        if (!cJSON_IsObject(v)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, v, "must be an object");
                return;
        }
        if (streq(kind, "exec")) {
                if (!cmd || cJSON_IsNull(cmd) || (cJSON_IsArray(cmd) && cJSON_GetArraySize(cmd) == 0))
                        field_error_add(e, FIELD_ERROR_REQUIRED, cp, NULL, NULL);
                else
                        validate_string_list(v, "command", path, e);
        } else if (streq(kind, "httpGet"))
                validate_http_get(v, container, path, e);
        else if (streq(kind, "tcpSocket"))
                validate_port_num_or_name(get(v, "port"), container, pp, e);
        else if (streq(kind, "grpc")) {
                /* a plain number: no port names here */
                if (validate_type_int(v, "port", path, e))
                        validate_port_num_or_name(cJSON_IsNumber(get(v, "port")) ? get(v, "port") : NULL,
                                                  NULL, pp, e);
        } else
                validate_sleep(v, grace, path, e);
}

/* validateHandler: exactly one action; probes know exec, httpGet, tcpSocket and grpc,
 * lifecycle hooks exec, httpGet, tcpSocket and sleep. */
static void validate_handler(const cJSON *h, const cJSON *container, const cJSON *grace, const char *path,
                             bool probe, FieldErrors *e)
{
        static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "grpc", "sleep"};
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const cJSON *v = get(h, kinds[i]);
                _cleanup_free_ char *kp = pod_path(path, kinds[i]);

                if (!v || cJSON_IsNull(v) || (probe && streq(kinds[i], "sleep")) ||
                    (!probe && streq(kinds[i], "grpc")))
                        continue;
                if (n++ > 0)
                        field_error_add(e, FIELD_ERROR_FORBIDDEN, kp, NULL,
                                        "may not specify more than 1 handler type");
                else
                        validate_action(kinds[i], v, container, grace, kp, e);
        }
        if (n == 0)
                field_error_add(e, FIELD_ERROR_REQUIRED, path, NULL, "must specify a handler type");
}

/* validateLivenessProbe, validateReadinessProbe, validateStartupProbe and validateProbe. */
static void validate_probe(const cJSON *c, const char *field, const cJSON *grace, const char *path,
                           FieldErrors *e)
{
        static const char *const ints[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                           "successThreshold", "failureThreshold"};
        const cJSON *probe = get(c, field), *st, *tg;
        _cleanup_free_ char *pp = pod_path(path, field), *stp = pod_path(pp, "successThreshold"),
                            *tgp = pod_path(pp, "terminationGracePeriodSeconds");

        if (!probe || cJSON_IsNull(probe))
                return;
        if (!cJSON_IsObject(probe)) {
                field_error_add(e, FIELD_ERROR_INVALID, pp, probe, "must be an object");
                return;
        }
        validate_handler(probe, c, grace, pp, true, e);
        for (size_t i = 0; i < ELEMENTSOF(ints); i++)
                validate_nonnegative(probe, ints[i], pp, e);
        validate_positive(probe, "terminationGracePeriodSeconds", pp, e);
        st = get(probe, "successThreshold");
        tg = get(probe, "terminationGracePeriodSeconds");
        if (streq(field, "readinessProbe")) {
                if (tg && !cJSON_IsNull(tg))
                        field_error_add(e, FIELD_ERROR_INVALID, tgp, tg,
                                        "must not be set for readinessProbes");
        } else if (cJSON_IsNumber(st) && st->valuedouble != 1)
                field_error_add(e, FIELD_ERROR_INVALID, stp, st, "must be 1");
}

static void validate_ports(const cJSON *c, const char *path, FieldErrors *e)
{
        const cJSON *ports = get(c, "ports"), *p;
        _cleanup_json_ cJSON *names = cJSON_CreateArray();
        _cleanup_free_ char *pp = pod_path(path, "ports");
        size_t i = 0;

        cJSON_ArrayForEach (p, (cJSON_IsArray(ports) ? ports : NULL)) {
                _cleanup_free_ char *ip = field_path_index(pp, i++), *np = pod_path(ip, "name"),
                                    *cp = pod_path(ip, "containerPort"), *hp = pod_path(ip, "hostPort");
                const char *name = get_str(p, "name");

                if (name && name[0]) {
                        if (!is_port_name(name))
                                validate_port_name(name, np, e);
                        else if (has_string(names, name))
                                field_error_add_str(e, FIELD_ERROR_DUPLICATE, np, name, NULL);
                        else
                                cJSON_AddItemToArray(names, cJSON_CreateString(name));
                }
                if (unset(p, "containerPort"))
                        field_error_add(e, FIELD_ERROR_REQUIRED, cp, NULL, NULL);
                else
                        validate_port_number(get(p, "containerPort"), cp, e);
                if (!unset(p, "hostPort"))
                        validate_port_number(get(p, "hostPort"), hp, e);
                validate_enum(p, "protocol", ip, protocols, true, e);
        }
}

static void validate_env_source(const cJSON *vf, const char *path, bool has_value, FieldErrors *e)
{
        static const char *const kinds[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                            "secretKeyRef"};
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const cJSON *s = get(vf, kinds[i]);
                _cleanup_free_ char *sp = pod_path(path, kinds[i]);

                if (!cJSON_IsObject(s))
                        continue;
                n++;
                if (i == 0) {
                        const char *fp = get_str(s, "fieldPath");
                        _cleanup_free_ char *fpp = pod_path(sp, "fieldPath");

                        if (!fp)
                                field_error_add(e, FIELD_ERROR_REQUIRED, fpp, NULL, NULL);
                        else if (!startswith(fp, "metadata.labels['") &&
                                 !startswith(fp, "metadata.annotations['"))
                                validate_enum(s, "fieldPath", sp, env_field_paths, true, e);
                } else if (i == 1)
                        validate_enum(s, "resource", sp, resource_field_refs, true, e);
                else {
                        _cleanup_free_ char *kp = pod_path(sp, "key"), *np = pod_path(sp, "name");

                        if (unset(s, "key"))
                                field_error_add(e, FIELD_ERROR_REQUIRED, kp, NULL, NULL);
                        if (unset(s, "name"))
                                field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                }
        }
        if (n == 0)
                field_error_add_str(
                    e, FIELD_ERROR_INVALID, path, "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                    "`secretKeyRef`");
        else if (has_value)
                field_error_add_str(e, FIELD_ERROR_INVALID, path, "",
                                    "may not be specified when `value` is not empty");
        else if (n > 1)
                field_error_add_str(e, FIELD_ERROR_INVALID, path, "",
                                    "may not have more than one field specified at a time");
}

static bool is_env_name(const char *s)
{
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e || *s == '=')
                        return false;
        return true;
}

static void validate_env(const cJSON *c, const char *path, FieldErrors *e)
{
        const cJSON *env = get(c, "env"), *ev;
        _cleanup_free_ char *ep = pod_path(path, "env");
        size_t i = 0;

        cJSON_ArrayForEach (ev, (cJSON_IsArray(env) ? env : NULL)) {
                _cleanup_free_ char *ip = field_path_index(ep, i++), *np = pod_path(ip, "name"),
                                    *vp = pod_path(ip, "valueFrom");
                const char *name = get_str(ev, "name");

                if (!name || !name[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                else if (!is_env_name(name))
                        field_error_add_str(e, FIELD_ERROR_INVALID, np, name, ENV_NAME_MSG);
                if (validate_type_string(ev, "value", ip, e) && get(ev, "valueFrom") &&
                    !cJSON_IsNull(get(ev, "valueFrom")))
                        validate_env_source(get(ev, "valueFrom"), vp, !unset(ev, "value"), e);
        }
        env = get(c, "envFrom");
        free(ep);
        ep = pod_path(path, "envFrom");
        i = 0;
        cJSON_ArrayForEach (ev, (cJSON_IsArray(env) ? env : NULL)) {
                _cleanup_free_ char *ip = field_path_index(ep, i++);
                bool cm = cJSON_IsObject(get(ev, "configMapRef")),
                     sec = cJSON_IsObject(get(ev, "secretRef"));
                const char *prefix = get_str(ev, "prefix");
                _cleanup_free_ char *pp = pod_path(ip, "prefix");

                if (!cm && !sec)
                        field_error_add_str(e, FIELD_ERROR_INVALID, ip, "",
                                            "must specify one of: `configMapRef` or `secretRef`");
                else if (cm && sec)
                        field_error_add_str(e, FIELD_ERROR_INVALID, ip, "",
                                            "may not have more than one field specified at a time");
                if (prefix && !is_env_name(prefix))
                        field_error_add_str(e, FIELD_ERROR_INVALID, pp, prefix, ENV_NAME_MSG);
        }
}

static void validate_resource_list(const cJSON *list, const char *path, FieldErrors *e)
{
        const cJSON *q;

        if (list && !cJSON_IsNull(list) && !cJSON_IsObject(list)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, list, "must be a map of quantities");
                return;
        }
        cJSON_ArrayForEach (q, list) {
                _cleanup_free_ char *kp = field_path_key(path, q->string);
                int64_t v;

                if (!is_qualified_name(q->string))
                        validate_qualified_name(q->string, kp, e);
                if (quantity_from_json(q, &v) < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, kp, q, QUANTITY_MSG);
                else if (v < 0)
                        field_error_add(e, FIELD_ERROR_INVALID, kp, q, "must be greater than or equal to 0");
        }
}

static void validate_resources(const cJSON *c, const char *path, FieldErrors *e)
{
        const cJSON *res = get(c, "resources"), *limits = get(res, "limits"),
                    *requests = get(res, "requests"), *q;
        _cleanup_free_ char *rp = pod_path(path, "resources"), *lp = pod_path(rp, "limits"),
                            *qp = pod_path(rp, "requests");

        validate_resource_list(limits, lp, e);
        validate_resource_list(requests, qp, e);
        cJSON_ArrayForEach (q, (cJSON_IsObject(requests) ? requests : NULL)) {
                const cJSON *l = get(limits, q->string);
                _cleanup_free_ char *kp = field_path_key(qp, q->string), *ls = NULL;
                int64_t rv, lv;

                if (!l || quantity_from_json(q, &rv) < 0 || quantity_from_json(l, &lv) < 0 || rv <= lv)
                        continue;
                ls = cJSON_IsString(l) ? strdup(l->valuestring) : cJSON_PrintUnformatted(l);
                field_error_add(e, FIELD_ERROR_INVALID, kp, q,
                                "must be less than or equal to %s limit of %s", q->string, ls ? ls : "?");
        }
}

static void validate_volume_mounts(const cJSON *c, const char *path, const Ctx *ctx)
{
        const cJSON *mounts = get(c, "volumeMounts"), *m;
        _cleanup_json_ cJSON *seen = cJSON_CreateArray();
        _cleanup_free_ char *mp = pod_path(path, "volumeMounts");
        FieldErrors *e = ctx->e;
        size_t i = 0;

        cJSON_ArrayForEach (m, (cJSON_IsArray(mounts) ? mounts : NULL)) {
                _cleanup_free_ char *ip = field_path_index(mp, i++), *np = pod_path(ip, "name"),
                                    *pp = pod_path(ip, "mountPath"), *sp = pod_path(ip, "subPath");
                const char *name = get_str(m, "name"), *mount = get_str(m, "mountPath"),
                           *sub = get_str(m, "subPath");

                if (!name || !name[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
                else if (!has_string(ctx->volume_names, name))
                        field_error_add_str(e, FIELD_ERROR_NOT_FOUND, np, name, NULL);
                if (!mount || !mount[0])
                        field_error_add(e, FIELD_ERROR_REQUIRED, pp, NULL, NULL);
                else if (mount[0] != '/')
                        field_error_add_str(e, FIELD_ERROR_INVALID, pp, mount, "must be an absolute path");
                else if (has_string(seen, mount))
                        field_error_add_str(e, FIELD_ERROR_INVALID, pp, mount, "must be unique");
                else
                        cJSON_AddItemToArray(seen, cJSON_CreateString(mount));
                if (sub && sub[0] == '/')
                        field_error_add_str(e, FIELD_ERROR_INVALID, sp, sub, "must be a relative path");
                else if (sub && (streq(sub, "..") || startswith(sub, "../") || strstr(sub, "/../") ||
                                 endswith(sub, "/..")))
                        field_error_add_str(e, FIELD_ERROR_INVALID, sp, sub, "must not contain '..'");
                validate_type_bool(m, "readOnly", ip, e);
        }
}

void pod_validate_security_context(const cJSON *sc, const char *path, FieldErrors *e)
{
        static const char *const ids[] = {"runAsUser", "runAsGroup", "fsGroup"};
        static const char *const bools[] = {"runAsNonRoot", "privileged", "allowPrivilegeEscalation",
                                            "readOnlyRootFilesystem"};
        const cJSON *seccomp = get(sc, "seccompProfile");
        _cleanup_free_ char *sp = pod_path(path, "seccompProfile"), *lp = pod_path(sp, "localhostProfile");
        const char *type;

        if (!sc || cJSON_IsNull(sc))
                return;
        if (!cJSON_IsObject(sc)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, sc, "must be an object");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                const cJSON *v = get(sc, ids[i]);
                _cleanup_free_ char *ip = pod_path(path, ids[i]);

                if (validate_type_int(sc, ids[i], path, e) && cJSON_IsNumber(v) &&
                    (v->valuedouble < 0 || v->valuedouble > 2147483647))
                        field_error_add(e, FIELD_ERROR_INVALID, ip, v,
                                        "must be between 0 and 2147483647, inclusive");
        }
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                validate_type_bool(sc, bools[i], path, e);
        if (!cJSON_IsObject(seccomp))
                return;
        type = validate_enum(seccomp, "type", sp, seccomp_types, true, e);
        if (type && streq(type, "Localhost") && unset(seccomp, "localhostProfile"))
                field_error_add(e, FIELD_ERROR_REQUIRED, lp, NULL,
                                "must be set when seccomp type is Localhost");
        else if (type && !streq(type, "Localhost") && !unset(seccomp, "localhostProfile"))
                field_error_add(e, FIELD_ERROR_INVALID, lp, get(seccomp, "localhostProfile"),
                                "can only be set when seccomp type is Localhost");
}

static void validate_lifecycle(const cJSON *c, const cJSON *grace, const char *path, FieldErrors *e)
{
        const cJSON *lc = get(c, "lifecycle");
        _cleanup_free_ char *lp = pod_path(path, "lifecycle"), *ps = pod_path(lp, "postStart"),
                            *pr = pod_path(lp, "preStop");

        if (cJSON_IsObject(get(lc, "postStart")))
                validate_handler(get(lc, "postStart"), c, grace, ps, false, e);
        if (cJSON_IsObject(get(lc, "preStop")))
                validate_handler(get(lc, "preStop"), c, grace, pr, false, e);
}

static void validate_container(const cJSON *c, const char *path, bool init, Ctx *ctx)
{
        static const char *const init_forbidden[] = {"lifecycle", "livenessProbe", "readinessProbe",
                                                     "startupProbe"};
        static const char *const always[] = {"Always", NULL};
        FieldErrors *e = ctx->e;
        const char *name = get_str(c, "name"), *image = get_str(c, "image");
        _cleanup_free_ char *np = pod_path(path, "name"), *ip = pod_path(path, "image"),
                            *scp = pod_path(path, "securityContext");
        bool sidecar = init && get_str(c, "restartPolicy") && streq(get_str(c, "restartPolicy"), "Always");

        if (!cJSON_IsObject(c)) {
                field_error_add(e, FIELD_ERROR_INVALID, path, c, "must be an object");
                return;
        }
        if (!validate_type_string(c, "name", path, e)) {
        } else if (!name || !name[0])
                field_error_add(e, FIELD_ERROR_REQUIRED, np, NULL, NULL);
        else if (!is_dns1123_label(name))
                validate_dns1123_label(name, np, e);
        else if (has_string(ctx->names, name))
                field_error_add_str(e, FIELD_ERROR_DUPLICATE, np, name, NULL);
        else
                cJSON_AddItemToArray(ctx->names, cJSON_CreateString(name));
        if (!validate_type_string(c, "image", path, e)) {
        } else if (!image || !image[0])
                field_error_add(e, FIELD_ERROR_REQUIRED, ip, NULL, NULL);
        else if (isspace((unsigned char)image[0]) || isspace((unsigned char)image[strlen(image) - 1]))
                field_error_add_str(e, FIELD_ERROR_INVALID, ip, image,
                                    "must not have leading or trailing whitespace");
        validate_string_list(c, "command", path, e);
        validate_string_list(c, "args", path, e);
        validate_type_string(c, "workingDir", path, e);
        validate_enum(c, "imagePullPolicy", path, pull_policies, true, e);
        validate_enum(c, "terminationMessagePolicy", path, message_policies, true, e);
        validate_ports(c, path, e);
        validate_env(c, path, e);
        validate_resources(c, path, e);
        validate_volume_mounts(c, path, ctx);
        pod_validate_security_context(get(c, "securityContext"), scp, e);
        if (init) {
                if (get(c, "restartPolicy"))
                        validate_enum(c, "restartPolicy", path, always, false, e);
                for (size_t i = 0; !sidecar && i < ELEMENTSOF(init_forbidden); i++) {
                        _cleanup_free_ char *fp = pod_path(path, init_forbidden[i]);

                        if (get(c, init_forbidden[i]) && !cJSON_IsNull(get(c, init_forbidden[i])))
                                field_error_add(
                                    e, FIELD_ERROR_FORBIDDEN, fp, NULL,
                                    "may not be set for init containers without restartPolicy=Always");
                }
                if (!sidecar)
                        return;
        }
        validate_lifecycle(c, ctx->grace, path, e);
        validate_probe(c, "livenessProbe", ctx->grace, path, e);
        validate_probe(c, "readinessProbe", ctx->grace, path, e);
        validate_probe(c, "startupProbe", ctx->grace, path, e);
}

static void validate_list(const cJSON *spec, const char *field, const char *spec_path, bool init, Ctx *ctx)
{
        const cJSON *list = get(spec, field), *c;
        _cleanup_free_ char *lp = pod_path(spec_path, field);
        size_t i = 0;

        if (!init && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)) {
                if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list))
                        field_error_add(ctx->e, FIELD_ERROR_INVALID, lp, list, "must be a list");
                else
                        field_error_add(ctx->e, FIELD_ERROR_REQUIRED, lp, NULL, NULL);
                return;
        }
        if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list)) {
                field_error_add(ctx->e, FIELD_ERROR_INVALID, lp, list, "must be a list");
                return;
        }
        cJSON_ArrayForEach (c, list) {
                _cleanup_free_ char *cp = field_path_index(lp, i++);

                validate_container(c, cp, init, ctx);
        }
}

void pod_containers_validate(const cJSON *spec, const char *spec_path, const cJSON *volume_names,
                             FieldErrors *e)
{
        _cleanup_json_ cJSON *names = cJSON_CreateArray();
        Ctx ctx = {.e = e,
                   .volume_names = volume_names,
                   .names = names,
                   .grace = get(spec, "terminationGracePeriodSeconds")};

        if (!names) {
                e->oom = true;
                return;
        }
        validate_list(spec, "initContainers", spec_path, true, &ctx);
        validate_list(spec, "containers", spec_path, false, &ctx);
}
