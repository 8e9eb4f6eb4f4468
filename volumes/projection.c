/* The payload of a configMap or secret volume, as the kubelet's configmap and secret volume
 * plugins build it (MakePayload): every key, or the listed items, each with its mode, from
 * the stored object. Secret data and ConfigMap binaryData are base64 as stored. */
#include <stdarg.h>

#include "macro.h"
#include "json-util.h"
#include "util.h"

#include "atomic-writer.h"

#define PROJECTION_DEFAULT_MODE 0644
#define PROJECTION_MAX_MODE 0777

typedef struct Builder {
        bool secret;
        const char *name;   /* of the object, for messages */
        const cJSON *data;  /* "data" of the object, or NULL */
        const cJSON *bdata; /* "binaryData" of a ConfigMap, or NULL */
        ProjectedFile *files;
        size_t n;
} Builder;

static const char *kind(const Builder *b)
{
        return b->secret ? "secret" : "configmap";
}

/* Reads a mode the way the API validates it: 0..0777, given in decimal in JSON. */
static int parse_mode(const cJSON *j, const char *field, mode_t def, mode_t *ret, char **ret_error)
{
        if (!j || cJSON_IsNull(j)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > PROJECTION_MAX_MODE ||
            j->valuedouble != (double)(int)j->valuedouble)
                return set_errorf(
                    ret_error, -EINVAL,
                    "%s: Invalid value: must be a number between 0 and 0777 (octal), both inclusive", field);
        *ret = (mode_t)j->valueint;
        return 0;
}

/* The content of one value: as is for ConfigMap data, base64-decoded otherwise. */
static int decode_value(const Builder *b, const cJSON *v, bool base64, const char *key, void **ret,
                        size_t *ret_size, char **ret_error)
{
        char *out = NULL;
        size_t size;
        int r;

        if (!cJSON_IsString(v))
                return set_errorf(ret_error, -EINVAL, "%s \"%s\": value of key %s is not a string", kind(b),
                                  b->name, key);
        if (base64) {
                r = base64_decode(v->valuestring, &out, &size);
                if (r == -EINVAL)
                        return set_errorf(ret_error, r, "%s \"%s\": value of key %s is not valid base64",
                                          kind(b), b->name, key);
                if (r < 0)
                        return r;
        } else {
                size = strlen(v->valuestring);
                out = strdup(v->valuestring);
                if (!out)
                        return -ENOMEM;
        }
        *ret = out;
        *ret_size = size;
        return 0;
}

/* Looks key up as the kubelet does: data first, then a ConfigMap's binaryData. */
static const cJSON *lookup(const Builder *b, const char *key, bool *ret_base64)
{
        const cJSON *v = cJSON_IsObject(b->data) ? cJSON_GetObjectItemCaseSensitive(b->data, key) : NULL;

        *ret_base64 = b->secret;
        if (v)
                return v;
        *ret_base64 = true;
        return cJSON_IsObject(b->bdata) ? cJSON_GetObjectItemCaseSensitive(b->bdata, key) : NULL;
}

static int add_file(Builder *b, const char *key, const cJSON *v, bool base64, const char *path, mode_t mode,
                    char **ret_error)
{
        ProjectedFile f = {.mode = mode};
        ProjectedFile *nf;
        int r;

        r = projected_path_validate(path, ret_error);
        if (r < 0)
                return r;
        r = decode_value(b, v, base64, key, &f.data, &f.size, ret_error);
        if (r < 0)
                return r;
        f.path = strdup(path);
        nf = f.path ? realloc(b->files, (b->n + 1) * sizeof(ProjectedFile)) : NULL;
        if (!nf) {
                free(f.path);
                free(f.data);
                return -ENOMEM;
        }
        b->files = nf;
        b->files[b->n++] = f;
        return 0;
}

/* Without items: every key, each at its own name with the default mode. */
static int add_all_keys(Builder *b, mode_t mode, char **ret_error)
{
        const cJSON *v;
        int r;

        if (cJSON_IsObject(b->data))
                cJSON_ArrayForEach (v, b->data) {
                        /* A key in both maps is projected once, from binaryData, as the
                         * kubelet's map assignment order has it. */
                        if (cJSON_IsObject(b->bdata) &&
                            cJSON_GetObjectItemCaseSensitive(b->bdata, v->string))
                                continue;
                        r = add_file(b, v->string, v, b->secret, v->string, mode, ret_error);
                        if (r < 0)
                                return r;
                }
        if (cJSON_IsObject(b->bdata))
                cJSON_ArrayForEach (v, b->bdata) {
                        r = add_file(b, v->string, v, true, v->string, mode, ret_error);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int add_items(Builder *b, const cJSON *items, mode_t def, bool optional, char **ret_error)
{
        const cJSON *item;
        size_t i = 0;
        int r;

        cJSON_ArrayForEach (item, items) {
                const char *key = json_str(item, "key"), *path = json_str(item, "path");
                const cJSON *v;
                char field[64];
                bool base64;
                mode_t mode;

                if (isempty(key) || isempty(path))
                        return set_errorf(ret_error, -EINVAL, "items[%zu]: key and path are required", i);
                snprintf(field, sizeof(field), "items[%zu].mode", i++);
                r = parse_mode(cJSON_GetObjectItemCaseSensitive(item, "mode"), field, def, &mode, ret_error);
                if (r < 0)
                        return r;
                v = lookup(b, key, &base64);
                if (!v) {
                        if (optional)
                                continue;
                        if (b->secret)
                                return set_errorf(ret_error, -ENOENT,
                                                  "references non-existent secret key: %s", key);
                        return set_errorf(ret_error, -ENOENT,
                                          "configmap references non-existent config key: %s", key);
                }
                r = add_file(b, key, v, base64, path, mode, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int projection_build(const cJSON *source, const cJSON *object, bool secret, ProjectedFile **ret,
                     size_t *ret_n, char **ret_error)
{
        Builder b = {.secret = secret};
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(source, "items");
        bool optional = json_bool(source, "optional", false);
        mode_t def;
        int r;

        b.name = json_str(source, secret ? "secretName" : "name");
        if (!b.name)
                b.name = "";
        r = parse_mode(cJSON_GetObjectItemCaseSensitive(source, "defaultMode"), "defaultMode",
                       PROJECTION_DEFAULT_MODE, &def, ret_error);
        if (r < 0)
                return r;
        if (items && !cJSON_IsArray(items) && !cJSON_IsNull(items))
                return set_errorf(ret_error, -EINVAL, "items: must be a list");
        if (!object) {
                if (!optional)
                        return set_errorf(ret_error, -ENOENT, "%s \"%s\" not found", kind(&b), b.name);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        b.data = cJSON_GetObjectItemCaseSensitive(object, "data");
        b.bdata = secret ? NULL : cJSON_GetObjectItemCaseSensitive(object, "binaryData");

        if (cJSON_GetArraySize(items) > 0)
                r = add_items(&b, items, def, optional, ret_error);
        else
                r = add_all_keys(&b, def, ret_error);
        if (r < 0) {
                projected_files_free(b.files, b.n);
                return r;
        }
        *ret = b.files;
        *ret_n = b.n;
        return 0;
}
