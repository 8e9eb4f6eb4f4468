#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

static const KindInfo pod_kind = {"Pod", "v1", "", "pods", "pod", "po", true};
static const KindInfo sts_kind = {"StatefulSet", "apps/v1", "apps", "statefulsets",
                                  "statefulset", "sts",     true};

static char *print(const KindInfo *k, cJSON *items, bool single, CliOutput o)
{
        CliPrintOptions po = {.now = 0};
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_eq(cli_print_objects(f, k, items, single, o, &po), 0);
        fclose(f);
        return buf;
}

Test(cli_print, names_objects_with_kind_and_group)
{
        _cleanup_json_ cJSON *items =
            cJSON_Parse("[{\"metadata\":{\"name\":\"web\"}},{\"metadata\":{\"name\":\"db\"}}]");
        _cleanup_free_ char *pods = print(&pod_kind, items, false, CLI_OUTPUT_NAME);
        _cleanup_free_ char *sts = print(&sts_kind, items, false, CLI_OUTPUT_NAME);

        cr_assert_str_eq(pods, "pod/web\npod/db\n");
        cr_assert_str_eq(sts, "statefulset.apps/web\nstatefulset.apps/db\n");
}

Test(cli_print, wraps_several_objects_in_a_v1_list_with_type_meta)
{
        _cleanup_json_ cJSON *items = cJSON_Parse("[{\"metadata\":{\"name\":\"web\"}}]");
        _cleanup_free_ char *s = print(&sts_kind, items, false, CLI_OUTPUT_JSON);

        cr_assert_str_eq(s, "{\n"
                            "    \"apiVersion\": \"v1\",\n"
                            "    \"items\": [\n"
                            "        {\n"
                            "            \"apiVersion\": \"apps/v1\",\n"
                            "            \"kind\": \"StatefulSet\",\n"
                            "            \"metadata\": {\n"
                            "                \"name\": \"web\"\n"
                            "            }\n"
                            "        }\n"
                            "    ],\n"
                            "    \"kind\": \"List\",\n"
                            "    \"metadata\": {\n"
                            "        \"resourceVersion\": \"\"\n"
                            "    }\n"
                            "}\n");
}

Test(cli_print, prints_a_single_object_alone_in_yaml)
{
        _cleanup_json_ cJSON *items =
            cJSON_Parse("[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}}]");
        _cleanup_free_ char *s = print(&pod_kind, items, true, CLI_OUTPUT_YAML);

        cr_assert_str_eq(s, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n");
}

Test(cli_print, accepts_known_output_formats_only)
{
        _cleanup_free_ char *err = NULL;
        CliOutput o;

        cr_assert_eq(cli_output_parse(NULL, &o, &err), 0);
        cr_assert_eq(o, CLI_OUTPUT_TABLE);
        cr_assert_eq(cli_output_parse("yaml", &o, &err), 0);
        cr_assert_eq(o, CLI_OUTPUT_YAML);
        cr_assert_eq(cli_output_parse("xml", &o, &err), -EINVAL);
        cr_assert_not_null(strstr(err, "\"xml\""));
}

Test(cli_print, names_resources_like_kubectl)
{
        _cleanup_free_ char *a = cli_kind_resource_name(&pod_kind), *b = cli_kind_resource_name(&sts_kind);

        cr_assert_str_eq(a, "pod");
        cr_assert_str_eq(b, "statefulset.apps");
}
