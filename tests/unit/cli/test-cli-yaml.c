#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <yaml.h>

#include "cli-internal.h"
#include "json-util.h"

static char *to_yaml(const cJSON *j)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(f);
        cr_assert_eq(cli_yaml_print(f, j), 0);
        fclose(f);
        return buf;
}

/* The YAML of the JSON text json is want. */
static void expect_yaml(const char *json, const char *want)
{
        _cleanup_json_ cJSON *j = cJSON_Parse(json);
        _cleanup_free_ char *s = NULL;

        cr_assert_not_null(j);
        s = to_yaml(j);
        cr_assert_str_eq(s, want);
}

/* A plain scalar as a YAML 1.1 resolver reads it (enough for the test's values). */
static cJSON *resolve_plain(const char *s)
{
        char *end;
        double d;

        if (streq(s, "null") || streq(s, "~"))
                return cJSON_CreateNull();
        if (streq(s, "true"))
                return cJSON_CreateTrue();
        if (streq(s, "false"))
                return cJSON_CreateFalse();
        d = strtod(s, &end);
        if (*s && !*end)
                return cJSON_CreateNumber(d);
        return cJSON_CreateString(s);
}

static cJSON *node_to_json(yaml_document_t *doc, yaml_node_t *n)
{
        cJSON *j;

        switch (n->type) {
        case YAML_SCALAR_NODE:
                if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                        return resolve_plain((const char *)n->data.scalar.value);
                return cJSON_CreateString((const char *)n->data.scalar.value);
        case YAML_SEQUENCE_NODE:
                j = cJSON_CreateArray();
                for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
                        cJSON_AddItemToArray(j, node_to_json(doc, yaml_document_get_node(doc, *i)));
                return j;
        case YAML_MAPPING_NODE:
                j = cJSON_CreateObject();
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(doc, p->key);
                        cJSON_AddItemToObject(j, (const char *)k->data.scalar.value,
                                              node_to_json(doc, yaml_document_get_node(doc, p->value)));
                }
                return j;
        default:
                return NULL;
        }
}

static cJSON *parse_yaml(const char *text)
{
        yaml_parser_t parser;
        yaml_document_t doc;
        cJSON *j;

        cr_assert(yaml_parser_initialize(&parser));
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
        cr_assert(yaml_parser_load(&parser, &doc), "YAML does not parse: %s\n%s", parser.problem, text);
        j = node_to_json(&doc, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        return j;
}

Test(cli_yaml, round_trips_a_tricky_object_through_libyaml)
{
        _cleanup_free_ char *path = strjoin(getenv("CLI_FIXTURES"), "/tricky.json", NULL), *data = NULL,
                            *yaml = NULL;
        _cleanup_json_ cJSON *orig = NULL, *back = NULL;
        size_t size;

        cr_assert_eq(read_full_file(path, 1 << 20, &data, &size), 0);
        orig = cJSON_Parse(data);
        cr_assert_not_null(orig);
        yaml = to_yaml(orig);
        back = parse_yaml(yaml);
        cr_assert(cJSON_Compare(orig, back, true), "YAML differs:\n%s", yaml);
}

Test(cli_yaml, writes_block_style_with_lists_at_key_indentation)
{
        expect_yaml("{\"apiVersion\":\"v1\",\"spec\":{\"containers\":[{\"name\":\"web\","
                    "\"args\":[\"-c\",\"80\"]}],\"x\":{},\"y\":[]}}",
                    "apiVersion: v1\n"
                    "spec:\n"
                    "  containers:\n"
                    "  - name: web\n"
                    "    args:\n"
                    "    - -c\n"
                    "    - \"80\"\n"
                    "  x: {}\n"
                    "  \"y\": []\n");
}

Test(cli_yaml, quotes_only_strings_that_need_it)
{
        expect_yaml("{\"a\":\"plain text\",\"b\":\"true\",\"c\":\"\",\"d\":\"a: b\","
                    "\"e\":\"it's #1\",\"f\":\"x\\ny\\n\",\"g\":1.5,\"h\":null}",
                    "a: plain text\n"
                    "b: \"true\"\n"
                    "c: \"\"\n"
                    "d: 'a: b'\n"
                    "e: 'it''s #1'\n"
                    "f: |\n"
                    "  x\n"
                    "  y\n"
                    "g: 1.5\n"
                    "h: null\n");
}

Test(cli_yaml, prints_json_with_four_space_indentation)
{
        _cleanup_json_ cJSON *j = cJSON_Parse("{\"a\":[1,\"x\"],\"b\":{},\"c\":{\"d\":true}}");
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cli_json_print(f, j);
        fclose(f);
        cr_assert_str_eq(buf, "{\n"
                              "    \"a\": [\n"
                              "        1,\n"
                              "        \"x\"\n"
                              "    ],\n"
                              "    \"b\": {},\n"
                              "    \"c\": {\n"
                              "        \"d\": true\n"
                              "    }\n"
                              "}\n");
        free(buf);
}
