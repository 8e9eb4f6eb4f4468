/* The agent configuration: embedded defaults, then /etc/berth/config.yaml (YAML or JSON),
 * then command-line flags. Unknown keys and wrong types are errors that name the key. */
#include <grp.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "storage-class.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "node-address.h"
#include "util.h"

int config_init(Config *c)
{
        char host[256] = "localhost";

        *c = (Config){0};
        (void)gethostname(host, sizeof(host) - 1);
        c->node_name = strdup(host);
        (void)node_address_detect(&c->node_address); /* fails only for want of memory */
        c->state_dir = strdup("/var/lib/berth");
        c->manifests_dir = strdup("/etc/berth/manifests.d");
        c->socket_path = strdup("/run/berth/berth.sock");
        c->socket_group = getgrnam("berth") ? strdup("berth") : NULL;
        c->log_dir = strdup("/var/log/pods");
        c->metrics_address = strdup("");
        c->runtime_type = strdup("host");
        c->coordinator_type = strdup("local");
        c->log_level = strdup("info");
        c->cgroup_root = strdup("berth");
        c->labels = cJSON_CreateObject();
        c->taints = cJSON_CreateArray();
        c->coordinator_endpoints = cJSON_CreateArray();
        c->storage_classes = cJSON_CreateObject();
        c->events_max = 1000;
        c->coordinator_lease_ttl = 10;
        if (!c->node_name || !c->node_address || !c->state_dir || !c->manifests_dir || !c->socket_path ||
            !c->log_dir || !c->metrics_address || !c->runtime_type || !c->coordinator_type ||
            !c->log_level || !c->cgroup_root || !c->labels || !c->taints || !c->coordinator_endpoints ||
            !c->storage_classes)
                return -ENOMEM;
        /* lower-case node names, as Kubernetes requires DNS subdomains */
        for (char *p = c->node_name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return 0;
}

void config_done(Config *c)
{
        free(c->node_name);
        free(c->node_address);
        free(c->state_dir);
        free(c->manifests_dir);
        free(c->socket_path);
        free(c->socket_group);
        free(c->log_dir);
        free(c->metrics_address);
        free(c->runtime_type);
        free(c->runtime_endpoint);
        free(c->coordinator_type);
        free(c->default_storage_class);
        free(c->log_level);
        free(c->cgroup_root);
        free(c->shim_path);
        cJSON_Delete(c->labels);
        cJSON_Delete(c->taints);
        cJSON_Delete(c->coordinator_endpoints);
        cJSON_Delete(c->storage_classes);
        *c = (Config){0};
}

typedef enum { T_STRING, T_OBJECT, T_ARRAY, T_BOOL, T_UINT } FieldType;

static int bad(char **ret_error, const char *file, const char *path, const char *what)
{
        asprintf_safe(ret_error, "%s: %s: %s", file, path, what);
        return -EINVAL;
}

static int take_field(Config *c, const char *file, const char *path, const cJSON *v, FieldType t, void *dst,
                      char **ret_error)
{
        switch (t) {
        case T_STRING:
                if (!cJSON_IsString(v))
                        return bad(ret_error, file, path, "Invalid value: must be a string");
                free(*(char **)dst);
                *(char **)dst = strdup(v->valuestring);
                return *(char **)dst ? 0 : -ENOMEM;
        case T_OBJECT:
        case T_ARRAY:
                if (t == T_OBJECT ? !cJSON_IsObject(v) : !cJSON_IsArray(v))
                        return bad(ret_error, file, path,
                                   t == T_OBJECT ? "Invalid value: must be a mapping"
                                                 : "Invalid value: must be a list");
                cJSON_Delete(*(cJSON **)dst);
                *(cJSON **)dst = cJSON_Duplicate(v, true);
                return *(cJSON **)dst ? 0 : -ENOMEM;
        case T_BOOL:
                if (!cJSON_IsBool(v))
                        return bad(ret_error, file, path, "Invalid value: must be true or false");
                *(bool *)dst = cJSON_IsTrue(v);
                return 0;
        case T_UINT:
                if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e7)
                        return bad(ret_error, file, path,
                                   "Invalid value: must be a number from 1 to 10000000");
                *(unsigned *)dst = (unsigned)v->valuedouble;
                return 0;
        }
        (void)c;
        return -EINVAL;
}

/* Every key of the file, in docs/config.example.yaml's order; a section's keys as
 * "runtime.type". The loader reads by this table; config_key() shows it to berth.yaml(5). */
static const struct {
        const char *key;
        FieldType type;
        size_t offset;
} fields[] = {
    {"nodeName", T_STRING, offsetof(Config, node_name)},
    {"nodeAddress", T_STRING, offsetof(Config, node_address)},
    {"labels", T_OBJECT, offsetof(Config, labels)},
    {"taints", T_ARRAY, offsetof(Config, taints)},
    {"stateDir", T_STRING, offsetof(Config, state_dir)},
    {"manifestsDir", T_STRING, offsetof(Config, manifests_dir)},
    {"socket", T_STRING, offsetof(Config, socket_path)},
    {"socketGroup", T_STRING, offsetof(Config, socket_group)},
    {"logDir", T_STRING, offsetof(Config, log_dir)},
    {"metricsAddress", T_STRING, offsetof(Config, metrics_address)},
    {"runtime.type", T_STRING, offsetof(Config, runtime_type)},
    {"runtime.endpoint", T_STRING, offsetof(Config, runtime_endpoint)},
    {"coordinator.type", T_STRING, offsetof(Config, coordinator_type)},
    {"coordinator.endpoints", T_ARRAY, offsetof(Config, coordinator_endpoints)},
    {"coordinator.leaseTTLSeconds", T_UINT, offsetof(Config, coordinator_lease_ttl)},
    {"storageClasses", T_OBJECT, offsetof(Config, storage_classes)},
    {"defaultStorageClass", T_STRING, offsetof(Config, default_storage_class)},
    {"seccompDefault", T_BOOL, offsetof(Config, seccomp_default)},
    {"eventsMax", T_UINT, offsetof(Config, events_max)},
    {"logLevel", T_STRING, offsetof(Config, log_level)},
    {"cgroupRoot", T_STRING, offsetof(Config, cgroup_root)},
};

const char *config_key(size_t i)
{
        return i < ELEMENTSOF(fields) ? fields[i].key : NULL;
}

/* Whether key names a section: a mapping whose keys the table lists as "key.sub". */
static bool is_section(const char *key)
{
        size_t len = strlen(key);

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (strneq(fields[i].key, key, len) && fields[i].key[len] == '.')
                        return true;
        return false;
}

static int load_item(Config *c, const char *file, const char *path, const cJSON *v, char **ret_error)
{
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (streq(fields[i].key, path))
                        return take_field(c, file, path, v, fields[i].type, (char *)c + fields[i].offset,
                                          ret_error);
        return bad(ret_error, file, path, "Unknown field");
}

static int load_object(Config *c, const char *file, const cJSON *root, char **ret_error)
{
        const cJSON *item, *sub;
        int r;

        cJSON_ArrayForEach (item, root) {
                if (!is_section(item->string)) {
                        /* "runtime.type" is only a section's key, never one of the file's */
                        r = strchr(item->string, '.') ? bad(ret_error, file, item->string, "Unknown field")
                                                      : load_item(c, file, item->string, item, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!cJSON_IsObject(item))
                        return bad(ret_error, file, item->string, "Invalid value: must be a mapping");
                cJSON_ArrayForEach (sub, item) {
                        _cleanup_free_ char *p = strjoin(item->string, ".", sub->string, NULL);
                        if (!p)
                                return -ENOMEM;
                        r = load_item(c, file, p, sub, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int config_load(Config *c, const char *path, bool missing_ok, char **ret_error)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_json_ cJSON *root = NULL;
        size_t size;
        int r;

        r = read_full_file(path, 1024 * 1024, &data, &size);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r < 0) {
                asprintf_safe(ret_error, "%s: cannot read the config file: %s", path, strerror(-r));
                return r;
        }
        r = manifest_parse_plain(path, data, size, &root, ret_error);
        if (r < 0)
                return r;
        if (cJSON_IsNull(root))
                return 0; /* an empty file keeps the defaults */
        if (!cJSON_IsObject(root)) {
                asprintf_safe(ret_error, "%s: the config must be a mapping of settings", path);
                return -EINVAL;
        }
        return load_object(c, path, root, ret_error);
}

/* value is one of the NULL-terminated allowed; else the apiserver's "Unsupported value". */
static int check_one_of(const char *what, const char *value, const char *const *allowed, char **ret_error)
{
        _cleanup_free_ char *list = NULL;

        for (const char *const *a = allowed; *a; a++)
                if (streq(value, *a))
                        return 0;
        for (const char *const *a = allowed; *a; a++) {
                char *next = NULL;
                if (asprintf_safe(&next, "%s%s\"%s\"", list ?: "", list ? ", " : "", *a) < 0)
                        return -ENOMEM;
                free(list);
                list = next;
        }
        asprintf_safe(ret_error, "%s: Unsupported value: \"%s\": supported values: %s", what, value, list);
        return -EINVAL;
}

int config_check(const Config *c, char **ret_error)
{
        const cJSON *v;
        int r;

        r = check_one_of("runtime.type", c->runtime_type,
                         (const char *const[]){"host", "cri", "systemd", NULL}, ret_error);
        if (r < 0)
                return r;
        r = check_one_of("coordinator.type", c->coordinator_type,
                         (const char *const[]){"local", "etcd", NULL}, ret_error);
        if (r < 0)
                return r;
        if (log_level_from_string(c->log_level) < 0) {
                asprintf_safe(ret_error,
                              "logLevel: Unsupported value: \"%s\": supported values: \"debug\", "
                              "\"info\", \"notice\", \"warning\", \"error\"",
                              c->log_level);
                return -EINVAL;
        }
        if (isempty(c->node_name) || strlen(c->node_name) > 253 ||
            strspn(c->node_name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(c->node_name)) {
                asprintf_safe(ret_error,
                              "nodeName: Invalid value: \"%s\": must be a lowercase RFC 1123 subdomain",
                              c->node_name ?: "");
                return -EINVAL;
        }
        if (!node_address_valid(c->node_address)) {
                asprintf_safe(ret_error,
                              "nodeAddress: Invalid value: \"%s\": must be an IPv4 or IPv6 address",
                              c->node_address ?: "");
                return -EINVAL;
        }
        for (const char **p =
                 (const char *[]){c->state_dir, c->manifests_dir, c->socket_path, c->log_dir, NULL};
             *p; p++)
                if (isempty(*p) || (*p)[0] != '/') {
                        asprintf_safe(ret_error, "Invalid path \"%s\": must be absolute", *p ?: "");
                        return -EINVAL;
                }
        if (isempty(c->cgroup_root) || strchr(c->cgroup_root, '.') || c->cgroup_root[0] == '/') {
                asprintf_safe(
                    ret_error,
                    "cgroupRoot: Invalid value: \"%s\": must be a relative cgroup name without '.'",
                    c->cgroup_root ?: "");
                return -EINVAL;
        }
        cJSON_ArrayForEach (v, c->labels)
                if (!cJSON_IsString(v)) {
                        asprintf_safe(ret_error, "labels[%s]: Invalid value: must be a string", v->string);
                        return -EINVAL;
                }
        {
                _cleanup_(storage_class_table_done) StorageClassTable t = {};
                r = storage_class_table_parse(c->storage_classes, c->default_storage_class, c->state_dir, &t,
                                              ret_error);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach (v, c->coordinator_endpoints)
                if (!cJSON_IsString(v)) {
                        asprintf_safe(ret_error,
                                      "coordinator.endpoints: Invalid value: must be a list of URLs");
                        return -EINVAL;
                }
        if (c->coordinator_lease_ttl < 3) {
                asprintf_safe(ret_error,
                              "coordinator.leaseTTLSeconds: Invalid value: %u: must be at least 3",
                              c->coordinator_lease_ttl);
                return -EINVAL;
        }
        return 0;
}
