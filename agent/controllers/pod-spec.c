/* Pod container spec -> RuntimeContainerConfig: environment with valueFrom and envFrom,
 * $(VAR) expansion of env values, command and args, security context, limits, logs, and
 * the mounts of its volumeMounts. */
#include <string.h>

#include "hostpath.h"
#include "json-util.h"
#include "manifest-internal.h"
#include "pod-spec.h"
#include "util.h"

typedef struct StrV {
        char **v;
        size_t n, allocated;
} StrV;

static int strv_push(StrV *s, char *item)
{
        if (!item)
                return -ENOMEM;
        if (s->n + 2 > s->allocated) {
                size_t a = s->allocated ? s->allocated * 2 : 16;
                char **v = realloc(s->v, a * sizeof(char *));
                if (!v) {
                        free(item);
                        return -ENOMEM;
                }
                s->v = v;
                s->allocated = a;
        }
        s->v[s->n++] = item;
        s->v[s->n] = NULL;
        return 0;
}

static void strv_done(StrV *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (StrV){0};
}

static char *set_env_entry(const char *name, const char *value)
{
        return strjoin(name, "=", value, NULL);
}

/* A label or annotation value: keys like "batch.kubernetes.io/x" have dots, so no json_str(). */
static const char *map_value(const cJSON *map, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);

        return cJSON_IsString(v) ? v->valuestring : "";
}

/* fieldRef.fieldPath as the downward API resolves it. */
static int resolve_field_ref(const PodSpecContext *ctx, const cJSON *pod, const char *path, char **ret,
                             char **ret_error)
{
        const char *v = NULL;
        char key[256];

        if (streq(path, "metadata.name") || streq(path, "metadata.namespace") || streq(path, "metadata.uid"))
                v = json_str(pod, path);
        else if (streq(path, "spec.nodeName"))
                v = json_str(pod, "spec.nodeName") ?: ctx->node_name;
        else if (streq(path, "spec.serviceAccountName"))
                v = json_str(pod, "spec.serviceAccountName") ?: "default";
        else if (streq(path, "status.hostIP") || streq(path, "status.podIP"))
                v = json_str(pod, path) ?: "";
        else if (sscanf(path, "metadata.labels['%255[^']']", key) == 1)
                v = map_value(json_path(pod, "metadata.labels"), key);
        else if (sscanf(path, "metadata.annotations['%255[^']']", key) == 1)
                v = map_value(json_path(pod, "metadata.annotations"), key);
        else {
                asprintf_safe(ret_error, "unsupported fieldRef fieldPath \"%s\"", path);
                return -EINVAL;
        }
        *ret = strdup(v ?: "");
        return *ret ? 0 : -ENOMEM;
}

/* Looks a key up in a ConfigMap (data) or Secret (data, base64) of the pod's namespace. */
static int resolve_key_ref(const PodSpecContext *ctx, const char *ns, const char *kind, const cJSON *ref,
                           char **ret, char **ret_error)
{
        _cleanup_json_ cJSON *obj = NULL;
        const char *name = json_str(ref, "name"), *key = json_str(ref, "key");
        bool optional = json_bool(ref, "optional", false);
        int r;

        if (!name || !key) {
                asprintf_safe(ret_error, "%s key reference needs name and key", kind);
                return -EINVAL;
        }
        r = ctx->store ? store_get(ctx->store, kind, ns, name, &obj) : -ENOENT;
        if (r == -ENOENT) {
                if (optional) {
                        *ret = NULL;
                        return 0;
                }
                asprintf_safe(ret_error, "%s \"%s\" not found",
                              streq(kind, "Secret") ? "secret" : "configmap", name);
                return -EINVAL;
        }
        if (r < 0)
                return r;
        const cJSON *data = json_path(obj, "data");
        const char *v = json_str(data, key);
        if (!v) {
                if (optional) {
                        *ret = NULL;
                        return 0;
                }
                asprintf_safe(ret_error, "couldn't find key %s in %s %s/%s", key, kind, ns, name);
                return -EINVAL;
        }
        if (streq(kind, "Secret"))
                return base64_decode(v, ret, NULL) < 0 ? -EINVAL : 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* resourceFieldRef: limits.cpu/memory and requests.cpu/memory with a divisor; an unset
 * limit is the node's capacity, as the kubelet reports it. */
static int resolve_resource_ref(const cJSON *container, const cJSON *ref, char **ret, char **ret_error)
{
        const char *res = json_str(ref, "resource") ?: "";
        const cJSON *q = NULL;
        int64_t value_milli, divisor_milli = 1000;
        bool cpu = endswith(res, ".cpu");

        if (!streq(res, "limits.cpu") && !streq(res, "limits.memory") && !streq(res, "requests.cpu") &&
            !streq(res, "requests.memory")) {
                asprintf_safe(ret_error, "unsupported resourceFieldRef resource \"%s\"", res);
                return -EINVAL;
        }
        q = json_path(json_path(container, "resources"), startswith(res, "limits") ? "limits" : "requests");
        q = q ? cJSON_GetObjectItemCaseSensitive(q, cpu ? "cpu" : "memory") : NULL;
        if (!q || quantity_from_json(q, &value_milli) < 0) {
                if (cpu)
                        value_milli = sysconf(_SC_NPROCESSORS_ONLN) * 1000;
                else if (startswith(res, "limits"))
                        value_milli = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) * 1000;
                else
                        value_milli = 0;
        }
        if (json_path(ref, "divisor") &&
            (quantity_from_json(json_path(ref, "divisor"), &divisor_milli) < 0 || divisor_milli <= 0)) {
                asprintf_safe(ret_error, "invalid resourceFieldRef divisor");
                return -EINVAL;
        }
        /* the kubelet rounds up: 250m cpu with divisor 1 is "1" */
        return asprintf_safe(ret, "%lld", (long long)((value_milli + divisor_milli - 1) / divisor_milli)) < 0
                   ? -ENOMEM
                   : 0;
}

static int add_env_from(const PodSpecContext *ctx, const char *ns, const cJSON *container, StrV *env,
                        char **ret_error)
{
        const cJSON *src;

        cJSON_ArrayForEach (src, json_path(container, "envFrom")) {
                const char *prefix = json_str(src, "prefix") ?: "";
                const cJSON *ref = json_path(src, "configMapRef");
                const char *kind = "ConfigMap";
                _cleanup_json_ cJSON *obj = NULL;
                const cJSON *kv;
                int r;

                if (!ref) {
                        ref = json_path(src, "secretRef");
                        kind = "Secret";
                }
                if (!ref || !json_str(ref, "name"))
                        continue;
                r = ctx->store ? store_get(ctx->store, kind, ns, json_str(ref, "name"), &obj) : -ENOENT;
                if (r == -ENOENT) {
                        if (json_bool(ref, "optional", false))
                                continue;
                        asprintf_safe(ret_error, "%s \"%s\" not found",
                                      streq(kind, "Secret") ? "secret" : "configmap", json_str(ref, "name"));
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
                cJSON_ArrayForEach (kv, json_path(obj, "data")) {
                        _cleanup_free_ char *decoded = NULL, *name = strjoin(prefix, kv->string, NULL);
                        const char *v = cJSON_IsString(kv) ? kv->valuestring : "";

                        if (!name)
                                return -ENOMEM;
                        if (strchr(name, '=') || !*name)
                                continue; /* the kubelet skips invalid names too */
                        if (streq(kind, "Secret")) {
                                if (base64_decode(v, &decoded, NULL) < 0)
                                        continue;
                                v = decoded;
                        }
                        r = strv_push(env, set_env_entry(name, v));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int add_env(const PodSpecContext *ctx, const cJSON *pod, const cJSON *container, StrV *env,
                   char **ret_error)
{
        const char *ns = json_str(pod, "metadata.namespace") ?: "default";
        const cJSON *e;
        int r;

        r = add_env_from(ctx, ns, container, env, ret_error);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (e, json_path(container, "env")) {
                const char *name = json_str(e, "name");
                const cJSON *from = json_path(e, "valueFrom");
                _cleanup_free_ char *value = NULL;

                if (!name)
                        continue;
                if (from) {
                        if (json_path(from, "fieldRef"))
                                r = resolve_field_ref(ctx, pod, json_str(from, "fieldRef.fieldPath") ?: "",
                                                      &value, ret_error);
                        else if (json_path(from, "configMapKeyRef"))
                                r = resolve_key_ref(ctx, ns, "ConfigMap", json_path(from, "configMapKeyRef"),
                                                    &value, ret_error);
                        else if (json_path(from, "secretKeyRef"))
                                r = resolve_key_ref(ctx, ns, "Secret", json_path(from, "secretKeyRef"),
                                                    &value, ret_error);
                        else if (json_path(from, "resourceFieldRef"))
                                r = resolve_resource_ref(container, json_path(from, "resourceFieldRef"),
                                                         &value, ret_error);
                        else
                                r = 0;
                        if (r < 0)
                                return r;
                        if (!value) /* optional and absent: the variable is not set */
                                continue;
                } else {
                        /* values may refer to variables defined before them */
                        value = expand_vars(json_str(e, "value") ?: "", env->v, env->n);
                        if (!value)
                                return -ENOMEM;
                }
                r = strv_push(env, set_env_entry(name, value));
                if (r < 0)
                        return r;
        }
        if (!strv_env_get_n(env->v, env->n, "PATH", 4)) {
                r = strv_push(env,
                              strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_argv(const PodSpecContext *ctx, const cJSON *container, StrV *env, StrV *argv,
                      size_t *ret_n_command, char **ret_error)
{
        const cJSON *c;
        int r;

        *ret_n_command = (size_t)cJSON_GetArraySize(json_path(container, "command"));
        if (*ret_n_command == 0 && !ctx->image_entrypoint) {
                /* The host runtime has no image entrypoint to fall back to. */
                asprintf_safe(ret_error,
                              "container \"%s\" has no command: the host runtime runs no image entrypoint",
                              json_str(container, "name") ?: "");
                return -EINVAL;
        }
        for (const char *k = "command"; k; k = streq(k, "command") ? "args" : NULL)
                cJSON_ArrayForEach (c, json_path(container, k)) {
                        r = strv_push(argv,
                                      expand_vars(cJSON_IsString(c) ? c->valuestring : "", env->v, env->n));
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Container securityContext fields override the pod's. */
static const cJSON *security_field(const cJSON *pod, const cJSON *container, const char *field)
{
        const cJSON *j = json_path(json_path(container, "securityContext"), field);

        return j ?: json_path(json_path(pod, "spec.securityContext"), field);
}

/* The pod's supplementalGroups (a pod-level field only) join the process's groups. */
static int apply_supplemental_groups(const cJSON *pod, ContainerLaunch *l)
{
        const cJSON *groups = json_path(pod, "spec.securityContext.supplementalGroups"), *g;
        int n = cJSON_GetArraySize(groups);

        if (n <= 0)
                return 0;
        l->supplementary_gids = calloc((size_t)n, sizeof(gid_t));
        if (!l->supplementary_gids)
                return -ENOMEM;
        cJSON_ArrayForEach (g, groups)
                if (cJSON_IsNumber(g) && g->valuedouble >= 0)
                        l->supplementary_gids[l->config.n_supplementary_gids++] = (gid_t)g->valuedouble;
        l->config.supplementary_gids = l->supplementary_gids;
        return 0;
}

static void apply_security(const PodSpecContext *ctx, const cJSON *pod, const cJSON *container,
                           RuntimeContainerConfig *cfg)
{
        const cJSON *j;
        const char *seccomp;
        bool privileged = json_bool(container, "securityContext.privileged", false);

        j = security_field(pod, container, "runAsUser");
        if (cJSON_IsNumber(j)) {
                cfg->set_uid = true;
                cfg->uid = (uid_t)j->valuedouble;
        }
        j = security_field(pod, container, "runAsGroup");
        if (cJSON_IsNumber(j)) {
                cfg->set_gid = true;
                cfg->gid = (gid_t)j->valuedouble;
        } else if (cfg->set_uid) {
                cfg->set_gid = true; /* without a group, run as the user's own id, never as root's group */
                cfg->gid = (gid_t)cfg->uid;
        }
        cfg->no_new_privs =
            !privileged && !json_bool(container, "securityContext.allowPrivilegeEscalation", false);
        j = security_field(pod, container, "seccompProfile");
        seccomp = json_str(j, "type");
        cfg->seccomp_runtime_default = seccomp ? streq(seccomp, "RuntimeDefault") : ctx->seccomp_default;
        if (privileged)
                cfg->seccomp_runtime_default = false;
}

static void apply_limits(const cJSON *container, RuntimeContainerConfig *cfg)
{
        const cJSON *limits = json_path(container, "resources.limits");
        const cJSON *requests = json_path(container, "resources.requests");
        int64_t v;

        if (quantity_from_json(cJSON_GetObjectItemCaseSensitive(limits, "memory"), &v) == 0)
                cfg->memory_limit_bytes = v / 1000;
        if (quantity_from_json(cJSON_GetObjectItemCaseSensitive(limits, "cpu"), &v) == 0)
                cfg->cpu_limit_milli = v;
        if (quantity_from_json(cJSON_GetObjectItemCaseSensitive(requests, "cpu"), &v) == 0)
                cfg->cpu_request_milli = v;
        else
                cfg->cpu_request_milli = cfg->cpu_limit_milli; /* requests default to limits */
}

static void apply_start_at(const cJSON *pod, RuntimeContainerConfig *cfg)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(pod, "metadata.annotations"),
                                                          POD_START_AT_ANNOTATION);
        usec_t t;

        /* a malformed value is ignored: the command then starts at once */
        if (cJSON_IsString(v) && parse_rfc3339(v->valuestring, &t) >= 0)
                cfg->start_at = t;
}

static const char *volume_host_path(const PodSpecContext *ctx, const char *name)
{
        for (size_t i = 0; name && i < ctx->n_volumes; i++)
                if (streq_ptr(ctx->volumes[i].name, name))
                        return ctx->volumes[i].host_path;
        return NULL;
}

static int mount_propagation(const cJSON *container, const cJSON *vm, RuntimeMountPropagation *ret,
                             char **ret_error)
{
        const char *p = json_str(vm, "mountPropagation");

        if (!p || streq(p, "None"))
                *ret = RUNTIME_MOUNT_PROPAGATION_PRIVATE;
        else if (streq(p, "HostToContainer"))
                *ret = RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER;
        else if (streq(p, "Bidirectional")) {
                /* the kubelet's rule: mounts made inside may reach the host */
                if (!json_bool(container, "securityContext.privileged", false)) {
                        asprintf_safe(
                            ret_error,
                            "Bidirectional mount propagation is available only to privileged containers");
                        return -EINVAL;
                }
                *ret = RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL;
        } else {
                asprintf_safe(ret_error, "invalid mountPropagation \"%s\"", p);
                return -EINVAL;
        }
        return 0;
}

/* One volumeMount: the volume's host path, or the subPath (or subPathExpr, expanded with
 * the container's environment) resolved below it. A volumeDevices entry (device) binds the
 * volume's device node at its devicePath. */
static int build_mount(const PodSpecContext *ctx, const cJSON *container, const cJSON *vm, const StrV *env,
                       bool device, StrV *owned, RuntimeMount *ret, char **ret_error)
{
        const char *name = json_str(vm, "name"), *sub = json_str(vm, "subPath");
        const char *cname = json_str(container, "name") ?: "";
        const char *host = volume_host_path(ctx, name);
        const char *target = json_str(vm, device ? "devicePath" : "mountPath");
        _cleanup_free_ char *resolved = NULL, *err = NULL, *expanded = NULL;
        int r;

        if (!host) {
                asprintf_safe(ret_error, "cannot find volume \"%s\" to mount into container \"%s\"",
                              name ?: "", cname);
                return -EINVAL;
        }
        if (!target || target[0] != '/') {
                asprintf_safe(ret_error, "%s \"%s\" of container \"%s\" needs an absolute %s",
                              device ? "volumeDevice" : "volumeMount", name, cname,
                              device ? "devicePath" : "mountPath");
                return -EINVAL;
        }
        *ret = (RuntimeMount){.host_path = host,
                              .container_path = target,
                              .read_only = !device && json_bool(vm, "readOnly", false)};
        if (device)
                return 0;
        r = mount_propagation(container, vm, &ret->propagation, ret_error);
        if (r < 0)
                return r;
        if (json_str(vm, "subPathExpr")) {
                expanded = expand_vars(json_str(vm, "subPathExpr"), env->v, env->n);
                if (!expanded)
                        return -ENOMEM;
                sub = expanded;
        }
        if (isempty(sub))
                return 0;
        r = subpath_resolve(host, sub, true, &resolved, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                asprintf_safe(ret_error,
                              "failed to prepare subPath for volumeMount \"%s\" of container \"%s\": %s",
                              name, cname, err ?: strerror(-r));
                return -EINVAL;
        }
        ret->host_path = resolved;
        return strv_push(owned, TAKE_PTR(resolved));
}

static int build_mounts(const PodSpecContext *ctx, const cJSON *container, const StrV *env,
                        ContainerLaunch *l, char **ret_error)
{
        const cJSON *vms = json_path(container, "volumeMounts"),
                    *vds = json_path(container, "volumeDevices"), *vm;
        int n = cJSON_GetArraySize(vms) + cJSON_GetArraySize(vds) + (ctx->hosts_file ? 1 : 0);
        StrV owned = {0};
        size_t i = 0;
        int r = 0;

        if (n <= 0)
                return 0;
        l->mounts = calloc((size_t)n, sizeof(RuntimeMount));
        if (!l->mounts)
                return -ENOMEM;
        cJSON_ArrayForEach (vm, vms) {
                r = build_mount(ctx, container, vm, env, false, &owned, &l->mounts[i], ret_error);
                if (r < 0)
                        break;
                i++;
        }
        if (r < 0)
                vds = NULL;
        cJSON_ArrayForEach (vm, vds) {
                r = build_mount(ctx, container, vm, env, true, &owned, &l->mounts[i], ret_error);
                if (r < 0)
                        break;
                i++;
        }
        /* the pod's hosts file, unless the container mounts its own there */
        bool own_hosts = false;
        for (size_t k = 0; k < i; k++)
                own_hosts |= streq(l->mounts[k].container_path, "/etc/hosts");
        if (r >= 0 && ctx->hosts_file && !own_hosts)
                l->mounts[i++] =
                    (RuntimeMount){.host_path = ctx->hosts_file, .container_path = "/etc/hosts"};
        /* owned strings are freed with the launch, also after a failure */
        l->mount_paths = owned.v;
        l->config.mounts = l->mounts;
        l->config.n_mounts = i;
        return r;
}

static bool controlled_by_statefulset(const cJSON *pod)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(pod, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return streq_ptr(json_str(ref, "kind"), "StatefulSet");
        return false;
}

int container_launch_build(const PodSpecContext *ctx, const cJSON *pod, const cJSON *container,
                           unsigned attempt, ContainerLaunch *ret, char **ret_error)
{
        StrV env = {0}, argv = {0};
        RuntimeContainerConfig *cfg = &ret->config;
        int r;

        *ret = (ContainerLaunch){0};
        *ret_error = NULL;
        r = add_env(ctx, pod, container, &env, ret_error);
        if (r >= 0)
                r = build_argv(ctx, container, &env, &argv, &cfg->n_command, ret_error);
        if (r >= 0)
                r = build_mounts(ctx, container, &env, ret, ret_error);
        if (r >= 0)
                r = runtime_log_path(ctx->log_dir, json_str(pod, "metadata.namespace") ?: "default",
                                     json_str(pod, "metadata.name") ?: "",
                                     json_str(pod, "metadata.uid") ?: "", json_str(container, "name") ?: "",
                                     attempt, &ret->log_path);
        if (r < 0) {
                strv_done(&env);
                strv_done(&argv);
                container_launch_done(ret);
                return r;
        }
        ret->argv = argv.v;
        ret->env = env.v;
        cfg->pod_uid = json_str(pod, "metadata.uid");
        cfg->pod_name = json_str(pod, "metadata.name");
        cfg->pod_namespace = json_str(pod, "metadata.namespace") ?: "default";
        cfg->container_name = json_str(container, "name");
        cfg->attempt = attempt;
        cfg->image = json_str(container, "image");
        cfg->argv = ret->argv;
        cfg->env = ret->env;
        cfg->working_dir = json_str(container, "workingDir");
        cfg->log_path = ret->log_path;
        cfg->pod = pod;
        cfg->container = container;
        apply_security(ctx, pod, container, cfg);
        r = apply_supplemental_groups(pod, ret);
        if (r < 0)
                return r;
        apply_limits(container, cfg);
        apply_start_at(pod, cfg);
        if (ctx->fence_path && controlled_by_statefulset(pod)) {
                cfg->fence_path = ctx->fence_path;
                cfg->fence_max_age = ctx->fence_max_age;
        }
        return 0;
}

void container_launch_done(ContainerLaunch *l)
{
        StrV env = {.v = l->env}, argv = {.v = l->argv}, paths = {.v = l->mount_paths};

        for (char **p = l->env; p && *p; p++)
                env.n++;
        for (char **p = l->argv; p && *p; p++)
                argv.n++;
        for (char **p = l->mount_paths; p && *p; p++)
                paths.n++;
        free(l->supplementary_gids);
        strv_done(&env);
        strv_done(&argv);
        strv_done(&paths);
        free(l->mounts);
        free(l->log_path);
        *l = (ContainerLaunch){0};
}
