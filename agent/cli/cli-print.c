/* Choosing and writing the output of get: -o wide|json|yaml|name or the default table,
 * kubectl's resource names ("pod", "job.batch") and the v1 List wrapper for several
 * objects. */
#include <ctype.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

int cli_output_parse(const char *s, CliOutput *ret, char **ret_error)
{
        static const struct {
                const char *name;
                CliOutput o;
        } outputs[] = {
            {"", CLI_OUTPUT_TABLE},    {"wide", CLI_OUTPUT_WIDE}, {"json", CLI_OUTPUT_JSON},
            {"yaml", CLI_OUTPUT_YAML}, {"name", CLI_OUTPUT_NAME},
        };

        *ret_error = NULL;
        for (size_t i = 0; i < ELEMENTSOF(outputs); i++)
                if (streq(s ? s : "", outputs[i].name)) {
                        *ret = outputs[i].o;
                        return 0;
                }
        asprintf_safe(
            ret_error,
            "unable to match a printer suitable for the output format \"%s\", allowed formats are: "
            "json,name,wide,yaml",
            s);
        return -EINVAL;
}

char *cli_kind_resource_name(const KindInfo *k)
{
        char *s = isempty(k->group) ? strdup(k->kind) : strjoin(k->kind, ".", k->group, NULL);

        for (char *p = s; p && *p && *p != '.'; p++)
                *p = (char)tolower((unsigned char)*p);
        return s;
}

static int insert_front(cJSON *obj, const char *key, const char *value)
{
        cJSON *s = cJSON_CreateString(value);

        if (!s)
                return -ENOMEM;
        s->string = strdup(key);
        if (!s->string) {
                cJSON_Delete(s);
                return -ENOMEM;
        }
        if (!obj->child)
                cJSON_AddItemToArray(obj, s);
        else
                cJSON_InsertItemInArray(obj, 0, s);
        return 0;
}

/* kubectl shows apiVersion and kind on every item of a list, in this order, first. */
static int add_type_meta(cJSON *obj, const KindInfo *k)
{
        int r = 0;

        if (!k || !cJSON_IsObject(obj))
                return 0;
        if (!cJSON_GetObjectItem(obj, "kind"))
                r = insert_front(obj, "kind", k->kind);
        if (r >= 0 && !cJSON_GetObjectItem(obj, "apiVersion"))
                r = insert_front(obj, "apiVersion", k->api_version);
        return r;
}

static cJSON *make_list(cJSON *items)
{
        _cleanup_json_ cJSON *list = cJSON_CreateObject();
        cJSON *dup = cJSON_Duplicate(items, true), *meta;

        if (!list || !dup) {
                cJSON_Delete(dup);
                return NULL;
        }
        cJSON_AddStringToObject(list, "apiVersion", "v1");
        cJSON_AddItemToObject(list, "items", dup);
        cJSON_AddStringToObject(list, "kind", "List");
        meta = cJSON_AddObjectToObject(list, "metadata");
        if (!meta || !cJSON_AddStringToObject(meta, "resourceVersion", ""))
                return NULL;
        return TAKE_PTR(list);
}

int cli_print_objects(FILE *out, const KindInfo *k, cJSON *items, bool single, CliOutput o,
                      const CliPrintOptions *po)
{
        _cleanup_json_ cJSON *list = NULL;
        _cleanup_free_ char *res = NULL;
        cJSON *obj;
        int r;

        switch (o) {
        case CLI_OUTPUT_JSON:
        case CLI_OUTPUT_YAML:
                cJSON_ArrayForEach (obj, items) {
                        r = add_type_meta(obj, k);
                        if (r < 0)
                                return r;
                }
                if (!single || cJSON_GetArraySize(items) != 1) {
                        list = make_list(items);
                        if (!list)
                                return -ENOMEM;
                }
                obj = list ? list : cJSON_GetArrayItem(items, 0);
                if (o == CLI_OUTPUT_JSON)
                        cli_json_print(out, obj);
                else
                        cli_yaml_print(out, obj);
                return 0;
        case CLI_OUTPUT_NAME:
                cJSON_ArrayForEach (obj, items) {
                        const KindInfo *ok = k ? k : kind_by_kind(json_str(obj, "kind"));
                        free(res);
                        res = ok ? cli_kind_resource_name(ok) : strdup("unknown");
                        if (!res)
                                return -ENOMEM;
                        fprintf(out, "%s/%s\n", res, json_str(obj, "metadata.name") ?: "");
                }
                return 0;
        case CLI_OUTPUT_TABLE:
        case CLI_OUTPUT_WIDE: {
                CliPrintOptions opts = *po;
                opts.wide = o == CLI_OUTPUT_WIDE;
                return cli_columns_print(out, k, items, &opts);
        }
        }
        return -EINVAL;
}
