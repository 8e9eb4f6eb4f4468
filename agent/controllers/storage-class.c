/* Storage classes from the agent's config (see storage-class.h). */
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "storage-class.h"
#include "util.h"

#define DEFAULT_CLASS "local"

static int bad(char **ret_error, const char *name, const char *field, const char *fmt, const char *value)
{
        _cleanup_free_ char *msg = NULL;

        if (asprintf_safe(&msg, fmt, value ?: "") < 0)
                return -ENOMEM;
        return set_errorf(ret_error, -EINVAL, "storageClasses.%s%s%s: %s", name, field ? "." : "",
                          field ?: "", msg);
}

static int parse_one(const cJSON *spec, StorageClass *c, char **ret_error)
{
        static const char *const known[] = {"type",          "path",    "fsType",
                                            "reclaimPolicy", "maxSize", "allowVolumeExpansion"};
        const cJSON *m, *v;
        const char *s;
        int64_t milli;

        if (!cJSON_IsObject(spec))
                return bad(ret_error, c->name, NULL, "Invalid value: must be a mapping%s", "");
        cJSON_ArrayForEach (m, spec) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok = ok || streq(m->string, known[i]);
                if (!ok)
                        return bad(ret_error, c->name, m->string, "Unknown field%s", "");
        }
        s = json_str(spec, "type");
        if (!s)
                return bad(ret_error, c->name, "type",
                           "Required value: one of \"dir\", \"loop\", \"block\"%s", "");
        if (local_volume_type_from_string(s, &c->type) < 0)
                return bad(ret_error, c->name, "type",
                           "Unsupported value: \"%s\": supported values: \"dir\", \"loop\", \"block\"", s);
        s = json_str(spec, "path");
        if (isempty(s) || s[0] != '/')
                return bad(ret_error, c->name, "path", "Invalid value: \"%s\": must be an absolute path", s);
        c->path = strdup(s);
        s = json_str(spec, "fsType") ?: "ext4";
        if (!streq(s, "ext4") && !streq(s, "xfs"))
                return bad(ret_error, c->name, "fsType",
                           "Unsupported value: \"%s\": supported values: \"ext4\", \"xfs\"", s);
        c->fstype = strdup(s);
        s = json_str(spec, "reclaimPolicy") ?: "Delete";
        if (!streq(s, "Delete") && !streq(s, "Retain"))
                return bad(ret_error, c->name, "reclaimPolicy",
                           "Unsupported value: \"%s\": supported values: \"Delete\", \"Retain\"", s);
        c->reclaim_delete = streq(s, "Delete");
        v = cJSON_GetObjectItemCaseSensitive(spec, "maxSize");
        if (v) {
                if (quantity_from_json(v, &milli) < 0 || milli <= 0)
                        return bad(ret_error, c->name, "maxSize",
                                   "Invalid value: must be a positive quantity such as 10Gi%s", "");
                c->max_size = (uint64_t)((milli + 999) / 1000);
        }
        v = cJSON_GetObjectItemCaseSensitive(spec, "allowVolumeExpansion");
        if (v && !cJSON_IsBool(v))
                return bad(ret_error, c->name, "allowVolumeExpansion",
                           "Invalid value: must be true or false%s", "");
        c->allow_expansion = !v || cJSON_IsTrue(v);
        if (!c->path || !c->fstype)
                return -ENOMEM;
        return 0;
}

int storage_class_table_parse(const cJSON *classes, const char *default_name, const char *state_dir,
                              StorageClassTable *ret, char **ret_error)
{
        _cleanup_(storage_class_table_done) StorageClassTable t = {};
        int n = cJSON_GetArraySize(classes);
        const cJSON *spec;
        int r;

        *ret = (StorageClassTable){};
        if (classes && !cJSON_IsObject(classes))
                return set_errorf(ret_error, -EINVAL, "storageClasses: Invalid value: must be a mapping");
        t.classes = calloc(MAX(n, 1), sizeof(StorageClass));
        if (!t.classes)
                return -ENOMEM;
        cJSON_ArrayForEach (spec, classes) {
                StorageClass *c = &t.classes[t.n];
                FieldErrors fe = {};

                validate_dns1123_subdomain(spec->string, "storageClasses", &fe);
                if (fe.n > 0 || fe.oom) {
                        field_errors_done(&fe);
                        return bad(ret_error, spec->string, NULL,
                                   "Invalid value: a storage class name must be a lowercase RFC 1123 "
                                   "subdomain%s",
                                   "");
                }
                c->name = strdup(spec->string);
                if (!c->name)
                        return -ENOMEM;
                t.n++;
                r = parse_one(spec, c, ret_error);
                if (r < 0)
                        return r;
        }
        if (t.n == 0) {
                StorageClass *c = &t.classes[0];

                *c = (StorageClass){
                    .type = LOCAL_VOLUME_DIR, .reclaim_delete = true, .allow_expansion = true};
                c->name = strdup(DEFAULT_CLASS);
                c->path = strjoin(state_dir, "/storage/" DEFAULT_CLASS, NULL);
                c->fstype = strdup("ext4");
                t.n = 1;
                if (!c->name || !c->path || !c->fstype)
                        return -ENOMEM;
                if (isempty(default_name))
                        default_name = DEFAULT_CLASS;
        }
        if (!isempty(default_name)) {
                if (!storage_class_find(&t, default_name))
                        return set_errorf(ret_error, -EINVAL,
                                          "defaultStorageClass: Invalid value: \"%s\": no such class in "
                                          "storageClasses",
                                          default_name);
                t.default_name = strdup(default_name);
                if (!t.default_name)
                        return -ENOMEM;
        }
        *ret = t;
        t = (StorageClassTable){};
        return 0;
}

void storage_class_table_done(StorageClassTable *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->classes[i].name);
                free(t->classes[i].path);
                free(t->classes[i].fstype);
        }
        free(t->classes);
        free(t->default_name);
        *t = (StorageClassTable){};
}

const StorageClass *storage_class_find(const StorageClassTable *t, const char *name)
{
        for (size_t i = 0; name && i < t->n; i++)
                if (streq(t->classes[i].name, name))
                        return &t->classes[i];
        return NULL;
}

cJSON *storage_class_to_json(const StorageClass *c, bool is_default)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        _cleanup_free_ char *provisioner =
            strjoin("berth.io/local-", local_volume_type_to_string(c->type), NULL);
        cJSON *meta, *params;

        if (!o || !provisioner)
                return NULL;
        meta = json_ensure_object(o, "metadata");
        params = json_ensure_object(o, "parameters");
        if (!meta || !params || json_set_string(o, "apiVersion", "storage.k8s.io/v1") < 0 ||
            json_set_string(o, "kind", "StorageClass") < 0 || json_set_string(meta, "name", c->name) < 0 ||
            json_set_string(o, "provisioner", provisioner) < 0 ||
            json_set_string(o, "reclaimPolicy", c->reclaim_delete ? "Delete" : "Retain") < 0 ||
            json_set_string(o, "volumeBindingMode", "Immediate") < 0 ||
            json_set(o, "allowVolumeExpansion", cJSON_CreateBool(c->allow_expansion)) < 0 ||
            json_set_string(params, "type", local_volume_type_to_string(c->type)) < 0 ||
            json_set_string(params, "path", c->path) < 0 ||
            (c->type != LOCAL_VOLUME_DIR && json_set_string(params, "fsType", c->fstype) < 0))
                return NULL;
        if (is_default) {
                cJSON *ann = json_ensure_object(meta, "annotations");
                if (!ann || json_set_string(ann, "storageclass.kubernetes.io/is-default-class", "true") < 0)
                        return NULL;
        }
        return TAKE_PTR(o);
}
