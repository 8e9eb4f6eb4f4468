/* The JSON files of a host container's directory: config.json (the container's config as
 * the agent asked for it), state.json (the shim's and the command's pids and start time),
 * exit.json (how it ended). All are written atomically. And the look at the fence file
 * that config.json may name, the dead man's switch of the shim. */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "host-config.h"
#include "json-util.h"

#define HOST_CONFIG_MAX_SIZE ((size_t)4 * 1024 * 1024)
#define FENCE_PERIOD_MIN_USEC (50 * USEC_PER_MSEC)
#define FENCE_PERIOD_MAX_USEC (250 * USEC_PER_MSEC)

/* CRI's names of the MountPropagation values */
static const char *const propagation_names[_RUNTIME_MOUNT_PROPAGATION_MAX] = {
    [RUNTIME_MOUNT_PROPAGATION_PRIVATE] = "PROPAGATION_PRIVATE",
    [RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER] = "PROPAGATION_HOST_TO_CONTAINER",
    [RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL] = "PROPAGATION_BIDIRECTIONAL",
};

static void strv_free(char **l)
{
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

HostConfig *host_config_free(HostConfig *c)
{
        if (!c)
                return NULL;
        free(c->id);
        free(c->cgroup_name);
        free(c->pod_uid);
        free(c->pod_name);
        free(c->pod_namespace);
        free(c->container_name);
        free(c->image);
        strv_free(c->argv);
        strv_free(c->env);
        free(c->working_dir);
        free(c->supplementary_gids);
        free(c->log_path);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].host_path);
                free(c->mounts[i].container_path);
        }
        free(c->mounts);
        free(c->fence_path);
        free(c);
        return NULL;
}

static cJSON *strv_to_json(char **l)
{
        cJSON *a = cJSON_CreateArray();

        if (!a)
                return NULL;
        for (char **p = l; p && *p; p++) {
                cJSON *s = cJSON_CreateString(*p);
                if (!s || !cJSON_AddItemToArray(a, s)) {
                        cJSON_Delete(s);
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        return a;
}

static int set_opt_string(cJSON *o, const char *key, const char *v)
{
        return v ? json_set_string(o, key, v) : 0;
}

/* Absolute; and a mount point other than "/" itself, which would be shadowed by the root of
 * the container's processes instead of replacing it. */
static bool mount_path_valid(const char *p, bool container)
{
        return p && p[0] == '/' && (!container || p[strspn(p, "/")] != 0);
}

/* Absolute: the shim's working directory is nobody's business; and an age to hold it to. */
static bool fence_valid(const char *path, usec_t max_age)
{
        return !path || (path[0] == '/' && max_age > 0 && max_age <= INT64_MAX);
}

static bool mounts_valid(const RuntimeMount *m, size_t n)
{
        if (n > 0 && !m)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!mount_path_valid(m[i].host_path, false) ||
                    !mount_path_valid(m[i].container_path, true) ||
                    (unsigned)m[i].propagation >= _RUNTIME_MOUNT_PROPAGATION_MAX)
                        return false;
        return true;
}

static int mounts_to_json(cJSON *o, const RuntimeMount *m, size_t n)
{
        cJSON *a;

        /* none: the key is left out, as in the configs written before mounts existed */
        if (n == 0)
                return 0;
        a = cJSON_AddArrayToObject(o, "mounts");
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                cJSON *e = cJSON_CreateObject();
                if (!e || !cJSON_AddItemToArray(a, e)) {
                        cJSON_Delete(e);
                        return -ENOMEM;
                }
                if (json_set_string(e, "hostPath", m[i].host_path) < 0 ||
                    json_set_string(e, "containerPath", m[i].container_path) < 0 ||
                    json_set_bool(e, "readOnly", m[i].read_only) < 0 ||
                    json_set_string(e, "propagation", propagation_names[m[i].propagation]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int host_config_format(const RuntimeContainerConfig *cfg, const char *id, const char *cgroup_name,
                       usec_t created_at, char **ret)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *gids;

        if (!o || !cfg->argv || !cfg->argv[0] || !mounts_valid(cfg->mounts, cfg->n_mounts) ||
            !fence_valid(cfg->fence_path, cfg->fence_max_age))
                return o ? -EINVAL : -ENOMEM;
        if (set_opt_string(o, "id", id) < 0 || set_opt_string(o, "cgroupName", cgroup_name) < 0 ||
            set_opt_string(o, "podUID", cfg->pod_uid) < 0 ||
            set_opt_string(o, "podName", cfg->pod_name) < 0 ||
            set_opt_string(o, "podNamespace", cfg->pod_namespace) < 0 ||
            set_opt_string(o, "containerName", cfg->container_name) < 0 ||
            set_opt_string(o, "image", cfg->image) < 0 || json_set_int(o, "attempt", cfg->attempt) < 0 ||
            json_set(o, "argv", strv_to_json(cfg->argv)) < 0 ||
            json_set(o, "env", strv_to_json(cfg->env)) < 0 ||
            set_opt_string(o, "workingDir", cfg->working_dir) < 0 ||
            json_set_bool(o, "setUID", cfg->set_uid) < 0 || json_set_bool(o, "setGID", cfg->set_gid) < 0 ||
            json_set_int(o, "uid", cfg->uid) < 0 || json_set_int(o, "gid", cfg->gid) < 0 ||
            json_set_int(o, "memoryLimitBytes", cfg->memory_limit_bytes) < 0 ||
            json_set_int(o, "cpuLimitMilli", cfg->cpu_limit_milli) < 0 ||
            json_set_int(o, "cpuRequestMilli", cfg->cpu_request_milli) < 0 ||
            json_set_bool(o, "noNewPrivs", cfg->no_new_privs) < 0 ||
            json_set_bool(o, "seccompRuntimeDefault", cfg->seccomp_runtime_default) < 0 ||
            set_opt_string(o, "logPath", cfg->log_path) < 0 ||
            json_set_int(o, "logMaxSize", (int64_t)cfg->log_max_size) < 0 ||
            json_set_int(o, "logMaxFiles", cfg->log_max_files) < 0 ||
            json_set_int(o, "createdAt", (int64_t)created_at) < 0 ||
            (cfg->start_at > 0 && json_set_int(o, "startAt", (int64_t)cfg->start_at) < 0) ||
            set_opt_string(o, "fencePath", cfg->fence_path) < 0 ||
            (cfg->fence_path && json_set_int(o, "fenceMaxAgeUsec", (int64_t)cfg->fence_max_age) < 0))
                return -ENOMEM;
        gids = cJSON_AddArrayToObject(o, "supplementaryGIDs");
        if (!gids)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_supplementary_gids; i++)
                if (!cJSON_AddItemToArray(gids, cJSON_CreateNumber(cfg->supplementary_gids[i])))
                        return -ENOMEM;
        if (mounts_to_json(o, cfg->mounts, cfg->n_mounts) < 0)
                return -ENOMEM;
        *ret = json_print(o);
        return *ret ? 0 : -ENOMEM;
}

static int dup_opt(const cJSON *o, const char *key, char **ret)
{
        const char *s = json_str(o, key);

        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A JSON array of strings as a NULL-terminated strv; -EBADMSG for other types. */
static int strv_from_json(const cJSON *a, char ***ret)
{
        char **l;
        size_t n = 0;
        const cJSON *i;

        if (a && !cJSON_IsArray(a))
                return -EBADMSG;
        l = calloc((size_t)(a ? cJSON_GetArraySize(a) : 0) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        cJSON_ArrayForEach (i, a) {
                if (!cJSON_IsString(i)) {
                        strv_free(l);
                        return -EBADMSG;
                }
                l[n] = strdup(i->valuestring);
                if (!l[n++]) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static int parse_gids(const cJSON *a, HostConfig *c)
{
        const cJSON *i;
        size_t n = 0;

        if (!a)
                return 0;
        if (!cJSON_IsArray(a))
                return -EBADMSG;
        c->supplementary_gids = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(gid_t));
        if (!c->supplementary_gids)
                return -ENOMEM;
        cJSON_ArrayForEach (i, a) {
                if (!cJSON_IsNumber(i) || i->valuedouble < 0 || i->valuedouble > 4294967294.0)
                        return -EBADMSG;
                c->supplementary_gids[n++] = (gid_t)i->valuedouble;
        }
        c->n_supplementary_gids = n;
        return 0;
}

/* -EBADMSG, with what is wrong in *ret_error when asked for. */
_printf_(2, 3) static int bad(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EBADMSG;
}

static int parse_propagation(const cJSON *m, RuntimeMountPropagation *ret)
{
        const cJSON *v = cJSON_GetObjectItem(m, "propagation");

        *ret = RUNTIME_MOUNT_PROPAGATION_PRIVATE;
        if (!v)
                return 0;
        for (unsigned i = 0; cJSON_IsString(v) && i < _RUNTIME_MOUNT_PROPAGATION_MAX; i++)
                if (streq(v->valuestring, propagation_names[i])) {
                        *ret = (RuntimeMountPropagation)i;
                        return 0;
                }
        return -EBADMSG;
}

/* What the agent wrote is checked again: the container child trusts it to bind paths. */
static int parse_mount(const cJSON *m, size_t i, HostMount *ret, char **ret_error)
{
        const cJSON *ro;
        const char *host, *container;

        if (!cJSON_IsObject(m))
                return bad(ret_error, "mounts[%zu] is not an object", i);
        ro = cJSON_GetObjectItem(m, "readOnly");
        host = json_str(m, "hostPath");
        container = json_str(m, "containerPath");
        if (!host || !container)
                return bad(ret_error, "mounts[%zu]: %s is missing (or not a string)", i,
                           host ? "containerPath" : "hostPath");
        if (!mount_path_valid(host, false))
                return bad(ret_error, "mounts[%zu]: hostPath \"%s\" is not an absolute path", i, host);
        if (!mount_path_valid(container, true))
                return bad(ret_error,
                           "mounts[%zu]: containerPath \"%s\" is not an absolute path other than \"/\"", i,
                           container);
        if (ro && !cJSON_IsBool(ro))
                return bad(ret_error, "mounts[%zu]: readOnly is not a boolean", i);
        ret->read_only = cJSON_IsTrue(ro);
        if (parse_propagation(m, &ret->propagation) < 0)
                return bad(ret_error, "mounts[%zu]: unknown propagation (expected one of %s, %s, %s)", i,
                           propagation_names[0], propagation_names[1], propagation_names[2]);
        ret->host_path = strdup(host);
        ret->container_path = strdup(container);
        return ret->host_path && ret->container_path ? 0 : -ENOMEM;
}

static int parse_mounts(const cJSON *a, HostConfig *c, char **ret_error)
{
        const cJSON *m;
        int r;

        if (!a)
                return 0;
        if (!cJSON_IsArray(a))
                return bad(ret_error, "mounts is not an array");
        c->mounts = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(HostMount));
        if (!c->mounts)
                return -ENOMEM;
        cJSON_ArrayForEach (m, a) {
                /* counted first: host_config_free() frees a half-filled entry */
                size_t i = c->n_mounts++;
                r = parse_mount(m, i, &c->mounts[i], ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Checked again when read back: a shim that cannot hold its container to the fence must not
 * start it. */
static int parse_fence(const cJSON *o, HostConfig *c, char **ret_error)
{
        const cJSON *p = cJSON_GetObjectItem(o, "fencePath"),
                    *age = cJSON_GetObjectItem(o, "fenceMaxAgeUsec");

        if (!p)
                return 0;
        if (!cJSON_IsString(p) || p->valuestring[0] != '/')
                return bad(ret_error, "fencePath is not an absolute path");
        if (!cJSON_IsNumber(age) || age->valuedouble < 1 || age->valuedouble > 9.2e18)
                return bad(ret_error, "fenceMaxAgeUsec is not a positive number of microseconds");
        c->fence_max_age = (usec_t)age->valuedouble;
        c->fence_path = strdup(p->valuestring);
        return c->fence_path ? 0 : -ENOMEM;
}

int host_config_parse(const char *json, HostConfig **ret)
{
        return host_config_parse_full(json, ret, NULL);
}

int host_config_parse_full(const char *json, HostConfig **ret, char **ret_error)
{
        _cleanup_json_ cJSON *o = cJSON_Parse(json);
        _cleanup_(host_config_freep) HostConfig *c = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!o || !cJSON_IsObject(o))
                return bad(ret_error, "not a JSON object");
        if (!json_str(o, "id"))
                return bad(ret_error, "id is missing");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (dup_opt(o, "id", &c->id) < 0 || dup_opt(o, "cgroupName", &c->cgroup_name) < 0 ||
            dup_opt(o, "podUID", &c->pod_uid) < 0 || dup_opt(o, "podName", &c->pod_name) < 0 ||
            dup_opt(o, "podNamespace", &c->pod_namespace) < 0 ||
            dup_opt(o, "containerName", &c->container_name) < 0 || dup_opt(o, "image", &c->image) < 0 ||
            dup_opt(o, "workingDir", &c->working_dir) < 0 || dup_opt(o, "logPath", &c->log_path) < 0)
                return -ENOMEM;
        r = strv_from_json(cJSON_GetObjectItem(o, "argv"), &c->argv);
        if (r == -EBADMSG)
                return bad(ret_error, "argv is not an array of strings");
        if (r < 0)
                return r;
        if (!c->argv[0] || isempty(c->argv[0]))
                return bad(ret_error, "argv is empty");
        r = strv_from_json(cJSON_GetObjectItem(o, "env"), &c->env);
        if (r == -EBADMSG)
                return bad(ret_error, "env is not an array of strings");
        if (r < 0)
                return r;
        r = parse_gids(cJSON_GetObjectItem(o, "supplementaryGIDs"), c);
        if (r == -EBADMSG)
                return bad(ret_error, "supplementaryGIDs is not an array of group ids");
        if (r < 0)
                return r;
        r = parse_mounts(cJSON_GetObjectItem(o, "mounts"), c, ret_error);
        if (r < 0)
                return r;
        r = parse_fence(o, c, ret_error);
        if (r < 0)
                return r;
        c->attempt = (unsigned)json_int(o, "attempt", 0);
        c->set_uid = json_bool(o, "setUID", false);
        c->set_gid = json_bool(o, "setGID", false);
        c->uid = (uid_t)json_int(o, "uid", 0);
        c->gid = (gid_t)json_int(o, "gid", 0);
        c->memory_limit_bytes = json_int(o, "memoryLimitBytes", 0);
        c->cpu_limit_milli = json_int(o, "cpuLimitMilli", 0);
        c->cpu_request_milli = json_int(o, "cpuRequestMilli", 0);
        c->no_new_privs = json_bool(o, "noNewPrivs", false);
        c->seccomp_runtime_default = json_bool(o, "seccompRuntimeDefault", false);
        c->log_max_size = (uint64_t)MAX(json_int(o, "logMaxSize", 0), 0);
        c->log_max_files = (unsigned)MAX(json_int(o, "logMaxFiles", 0), 0);
        c->created_at = (usec_t)MAX(json_int(o, "createdAt", 0), 0);
        c->start_at = (usec_t)MAX(json_int(o, "startAt", 0), 0);
        *ret = TAKE_PTR(c);
        return 0;
}

static int load_json(const char *dir, const char *name, cJSON **ret)
{
        _cleanup_free_ char *p = strjoin(dir, "/", name, NULL), *buf = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, HOST_CONFIG_MAX_SIZE, &buf, NULL);
        if (r < 0)
                return r;
        *ret = cJSON_Parse(buf);
        if (!*ret || !cJSON_IsObject(*ret)) {
                cJSON_Delete(*ret);
                *ret = NULL;
                return -EBADMSG;
        }
        return 0;
}

static int write_json(const char *dir, const char *name, const cJSON *o, bool durable)
{
        _cleanup_free_ char *p = strjoin(dir, "/", name, NULL), *s = json_print(o);

        if (!p || !s)
                return -ENOMEM;
        return durable ? write_file_atomic(p, s, strlen(s), 0644)
                       : write_file_replace(p, s, strlen(s), 0644);
}

int host_config_load(const char *dir, HostConfig **ret)
{
        return host_config_load_full(dir, ret, NULL);
}

int host_config_load_full(const char *dir, HostConfig **ret, char **ret_error)
{
        _cleanup_free_ char *p = strjoin(dir, "/config.json", NULL), *buf = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!p)
                return -ENOMEM;
        r = read_full_file(p, HOST_CONFIG_MAX_SIZE, &buf, NULL);
        if (r < 0)
                return r;
        return host_config_parse_full(buf, ret, ret_error);
}

int host_state_write(const char *dir, const HostState *s)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();

        if (!o || json_set_int(o, "shimPid", s->shim_pid) < 0 || json_set_int(o, "pid", s->pid) < 0 ||
            json_set_int(o, "shimStartTime", (int64_t)s->shim_start) < 0 ||
            json_set_int(o, "pidStartTime", (int64_t)s->pid_start) < 0 ||
            json_set_int(o, "startedAt", (int64_t)s->started_at) < 0)
                return -ENOMEM;
        /* the pids of running processes mean nothing after a machine crash: no fsync, which
         * at a burst of starts would queue every shim behind the disk */
        return write_json(dir, "state.json", o, false);
}

int host_state_load(const char *dir, HostState *ret)
{
        _cleanup_json_ cJSON *o = NULL;
        int r = load_json(dir, "state.json", &o);

        if (r < 0)
                return r;
        *ret = (HostState){
            .shim_pid = (pid_t)json_int(o, "shimPid", 0),
            .pid = (pid_t)json_int(o, "pid", 0),
            .shim_start = (uint64_t)json_int(o, "shimStartTime", 0),
            .pid_start = (uint64_t)json_int(o, "pidStartTime", 0),
            .started_at = (usec_t)json_int(o, "startedAt", 0),
        };
        if (ret->shim_pid < 0 || ret->pid < 0)
                return -EBADMSG;
        return 0;
}

int host_exit_write(const char *dir, const HostExit *e)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();

        if (!o || json_set_int(o, "exitCode", e->exit_code) < 0 ||
            json_set_int(o, "signal", e->signal) < 0 ||
            json_set_int(o, "finishedAt", (int64_t)e->finished_at) < 0 ||
            set_opt_string(o, "reason", e->reason) < 0 || set_opt_string(o, "message", e->message) < 0)
                return -ENOMEM;
        return write_json(dir, "exit.json", o, true);
}

int host_exit_load(const char *dir, HostExit *ret)
{
        _cleanup_json_ cJSON *o = NULL;
        HostExit e = {};
        int r = load_json(dir, "exit.json", &o);

        if (r < 0)
                return r;
        e.exit_code = (int)json_int(o, "exitCode", 255);
        e.signal = (int)json_int(o, "signal", 0);
        e.finished_at = (usec_t)json_int(o, "finishedAt", 0);
        if (dup_opt(o, "reason", &e.reason) < 0 || dup_opt(o, "message", &e.message) < 0) {
                host_exit_done(&e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

void host_exit_done(HostExit *e)
{
        free(e->reason);
        free(e->message);
        e->reason = e->message = NULL;
}

usec_t host_fence_period(usec_t max_age)
{
        return MIN(MAX(max_age / 4, FENCE_PERIOD_MIN_USEC), FENCE_PERIOD_MAX_USEC);
}

#define FENCE_WHY "(the agent's lease in the coordinator)"

int host_fence_check(const char *path, usec_t max_age, usec_t now, char **ret_message)
{
        struct stat st;
        usec_t mtime;
        int r;

        *ret_message = NULL;
        if (stat(path, &st) < 0) {
                int e = errno;
                if (e == ENOENT)
                        r = asprintf_safe(ret_message, "fenced: %s is missing " FENCE_WHY, path);
                else
                        r = asprintf_safe(ret_message, "fenced: %s cannot be checked: %s " FENCE_WHY, path,
                                          strerror(e));
                return r < 0 ? -ENOMEM : 1;
        }
        /* before the epoch: as old as it gets */
        mtime = st.st_mtim.tv_sec < 0
                    ? 0
                    : (usec_t)st.st_mtim.tv_sec * USEC_PER_SEC + (usec_t)st.st_mtim.tv_nsec / 1000;
        if (mtime >= now || now - mtime <= max_age)
                return 0;
        r = asprintf_safe(ret_message, "fenced: %s not renewed for more than %gs " FENCE_WHY, path,
                          (double)max_age / USEC_PER_SEC);
        return r < 0 ? -ENOMEM : 1;
}

int host_proc_start_time(pid_t pid, uint64_t *ret)
{
        char path[64];
        _cleanup_free_ char *buf = NULL;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        r = read_full_file(path, 4096, &buf, NULL);
        if (r < 0)
                return r;
        /* the command name may hold spaces and parentheses: fields start after the last ')' */
        char *p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (errno != 0 || end == p + 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}
