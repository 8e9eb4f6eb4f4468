/* cJSON helpers used by every module that handles Kubernetes-shaped objects. */
#include <string.h>

#include "json-util.h"

cJSON *json_path(const cJSON *root, const char *dotted)
{
        const cJSON *cur = root;
        const char *p = dotted;

        while (cur && p && *p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                char key[256];

                if (len >= sizeof(key) || !cJSON_IsObject(cur))
                        return NULL;
                memcpy(key, p, len);
                key[len] = 0;
                cur = cJSON_GetObjectItemCaseSensitive(cur, key);
                p = dot ? dot + 1 : NULL;
        }
        return (cJSON *)cur;
}

const char *json_str(const cJSON *root, const char *dotted)
{
        cJSON *j = json_path(root, dotted);

        return cJSON_IsString(j) ? j->valuestring : NULL;
}

int64_t json_int(const cJSON *root, const char *dotted, int64_t def)
{
        cJSON *j = json_path(root, dotted);

        return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : def;
}

bool json_bool(const cJSON *root, const char *dotted, bool def)
{
        cJSON *j = json_path(root, dotted);

        return cJSON_IsBool(j) ? cJSON_IsTrue(j) : def;
}

cJSON *json_ensure_object(cJSON *parent, const char *key)
{
        cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);

        if (cJSON_IsObject(j))
                return j;
        j = cJSON_CreateObject();
        if (!j)
                return NULL;
        if (json_set(parent, key, j) < 0)
                return NULL;
        return j;
}

int json_set(cJSON *obj, const char *key, cJSON *value)
{
        if (!value)
                return -ENOMEM;
        if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value)) {
                        cJSON_Delete(value);
                        return -ENOMEM;
                }
                return 0;
        }
        if (!cJSON_AddItemToObject(obj, key, value)) {
                cJSON_Delete(value);
                return -ENOMEM;
        }
        return 0;
}

int json_set_string(cJSON *obj, const char *key, const char *value)
{
        return json_set(obj, key, cJSON_CreateString(value));
}

int json_set_int(cJSON *obj, const char *key, int64_t value)
{
        return json_set(obj, key, cJSON_CreateNumber((double)value));
}

int json_set_bool(cJSON *obj, const char *key, bool value)
{
        return json_set(obj, key, cJSON_CreateBool(value));
}

char *json_print(const cJSON *j)
{
        return cJSON_PrintUnformatted(j);
}
