#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest.h"
#include "util.h"

static ManifestSet *parse_ok(const char *text)
{
        ManifestSet *set = NULL;
        _cleanup_free_ char *err = NULL;
        int r = manifest_parse("t.yaml", text, strlen(text), &set, &err);

        cr_assert_eq(r, 0, "parse failed: %s", err ? err : "(none)");
        return set;
}

static char *parse_err(const char *text)
{
        ManifestSet *set = NULL;
        char *err = NULL;
        int r = manifest_parse("t.yaml", text, strlen(text), &set, &err);

        cr_assert_lt(r, 0);
        cr_assert_not_null(err);
        return err;
}

Test(manifest_parse, reads_multi_document_file_with_lines_and_flattens_lists)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ char *path = strjoin(FIXTURES, "/multi.yaml", NULL);
        ManifestDoc *d;

        cr_assert_eq(manifest_parse_file(path, &set, &err), 0, "%s", err);
        cr_assert_eq(manifest_set_size(set), 3);
        d = manifest_set_get(set, 0);
        cr_assert_str_eq(json_str(manifest_doc_object(d), "metadata.name"), "web");
        cr_assert_eq(manifest_doc_line(d, "metadata.name"), 5);
        cr_assert_eq(manifest_doc_line(d, "spec.containers[0].image"), 11);
        cr_assert_eq(manifest_doc_line(d, "spec.containers[0]"), 10);
        cr_assert_eq(manifest_doc_line(d, "spec.containers[0].ports[0].containerPort"), 13);
        cr_assert_eq(manifest_doc_line(d, "metadata.labels[app]"), 7);
        cr_assert_eq(manifest_doc_line(d, "spec.containers[0].nope"), 10);
        cr_assert_eq(manifest_doc_line(d, "nothing.here"), 2);
        cr_assert_eq(manifest_doc_line(d, ""), 2);
        cr_assert_str_eq(manifest_doc_source(d), path);

        d = manifest_set_get(set, 1);
        cr_assert_str_eq(json_str(manifest_doc_object(d), "kind"), "ConfigMap");
        cr_assert_str_eq(
            cJSON_GetObjectItem(json_path(manifest_doc_object(d), "data"), "a.conf")->valuestring,
            "x = 1\n");
        cr_assert_eq(manifest_doc_line(d, "metadata.name"), 23);
        cr_assert_eq(manifest_doc_line(d, "data[a.conf]"), 25);
        cr_assert_eq(manifest_doc_line(d, ""), 20);
        cr_assert_eq(manifest_doc_line(d, "kind"), 21);
        d = manifest_set_get(set, 2);
        cr_assert_str_eq(json_str(manifest_doc_object(d), "metadata.name"), "sec");
        cr_assert_eq(manifest_doc_line(d, "metadata.name"), 29);
}

Test(manifest_parse, types_plain_scalars_like_kubernetes)
{
        _cleanup_manifest_set_ ManifestSet *set =
            parse_ok("apiVersion: v1\nkind: X\n"
                     "a: ~\nb: null\nc:\nd: true\ne: FALSE\nf: 42\n"
                     "g: 0x1F\nh: 0o17\ni: 0644\nj: 1.5e3\nk: \"42\"\n"
                     "l: 'true'\nm: yes\nn: off\no: 1_000\np: 08\n"
                     "q: 2024-01-01\nr: -7\ns: .5\nt: !!str 12\nu: 1.2.3\n");
        cJSON *o = manifest_doc_object(manifest_set_get(set, 0));

        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "a")));
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "b")));
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "c")));
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "d")));
        cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "e")));
        cr_assert_eq(json_int(o, "f", 0), 42);
        cr_assert_eq(json_int(o, "g", 0), 31);
        cr_assert_eq(json_int(o, "h", 0), 15);
        cr_assert_eq(json_int(o, "i", 0), 420);
        cr_assert_eq(json_int(o, "j", 0), 1500);
        cr_assert_str_eq(json_str(o, "k"), "42");
        cr_assert_str_eq(json_str(o, "l"), "true");
        cr_assert_str_eq(json_str(o, "m"), "yes");
        cr_assert_str_eq(json_str(o, "n"), "off");
        cr_assert_eq(json_int(o, "o", 0), 1000);
        cr_assert_eq(json_int(o, "p", 0), 8);
        cr_assert_str_eq(json_str(o, "q"), "2024-01-01");
        cr_assert_eq(json_int(o, "r", 0), -7);
        cr_assert_float_eq(cJSON_GetObjectItem(o, "s")->valuedouble, 0.5, 1e-9);
        cr_assert_str_eq(json_str(o, "t"), "12");
        cr_assert_str_eq(json_str(o, "u"), "1.2.3");
}

Test(manifest_parse, reports_syntax_errors_with_file_and_line)
{
        _cleanup_free_ char *err =
            parse_err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  bad: x: y\n");

        cr_assert_str_eq(err,
                         "t.yaml:5: error converting YAML to JSON: yaml: line 5: mapping values are not "
                         "allowed in this context");
}

Test(manifest_parse, rejects_duplicate_keys)
{
        _cleanup_free_ char *err = parse_err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n");

        cr_assert_str_eq(err, "t.yaml:5: error converting YAML to JSON: yaml: line 5: mapping key \"name\" "
                              "already defined at line 4");
}

Test(manifest_parse, expands_anchors_aliases_and_merge_keys)
{
        _cleanup_manifest_set_ ManifestSet *set = parse_ok(
            "apiVersion: v1\nkind: X\nbase: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n");
        cJSON *o = manifest_doc_object(manifest_set_get(set, 0));

        cr_assert_eq(json_int(o, "other.x", 0), 1);
        cr_assert_eq(json_int(o, "other.y", 0), 3);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "list")), 2);
}

Test(manifest_parse, rejects_alias_bombs_and_self_references)
{
        _cleanup_free_ char *e1 = parse_err("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                                            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                                            "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n");
        _cleanup_free_ char *e2 = parse_err("a: &a [1, *a]\n");
        _cleanup_free_ char *e3 = parse_err("a: *nope\n");

        cr_assert(strstr(e1, "excessive aliasing"), "%s", e1);
        cr_assert(strstr(e2, "anchor 'a' value contains itself"), "%s", e2);
        cr_assert(strstr(e3, "unknown anchor 'nope' referenced"), "%s", e3);
}

Test(manifest_parse, rejects_deep_nesting_without_crashing)
{
        size_t n = 100000;
        _cleanup_free_ char *text = malloc(2 * n + 1);
        _cleanup_free_ char *err = NULL;

        memset(text, '[', n);
        memset(text + n, ']', n);
        text[2 * n] = 0;
        err = parse_err(text);
        cr_assert_not_null(err);
}

Test(manifest_parse, requires_objects_with_kind_and_api_version)
{
        _cleanup_free_ char *e1 = parse_err("- a\n- b\n");
        _cleanup_free_ char *e2 = parse_err("# c\napiVersion: v1\nmetadata: {}\n");
        _cleanup_free_ char *e3 = parse_err("kind: Pod\n");

        cr_assert_str_eq(e1, "t.yaml:1: error: document is not an object");
        cr_assert(strstr(e2, "t.yaml:2: error: object has no \"kind\""), "%s", e2);
        cr_assert(strstr(e3, "t.yaml:1: error: object of kind \"Pod\" has no \"apiVersion\""), "%s", e3);
}

Test(manifest_parse, reads_json_with_lines_and_arrays)
{
        _cleanup_manifest_set_ ManifestSet *set = parse_ok(
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\n    \"name\": \"j\"\n"
            "  },\n  \"spec\": {\"containers\": [\n    {\"name\": \"a\", \"image\": \"x\"}]}\n}\n");
        _cleanup_manifest_set_ ManifestSet *arr =
            parse_ok("[{\"apiVersion\":\"v1\",\"kind\":\"A\"},\n{\"apiVersion\":\"v1\",\"kind\":\"B\"}]");
        _cleanup_free_ char *err = parse_err("{\"apiVersion\": \"v1\",\n \"kind\": }");
        ManifestDoc *d = manifest_set_get(set, 0);

        cr_assert_str_eq(json_str(manifest_doc_object(d), "metadata.name"), "j");
        cr_assert_eq(manifest_doc_line(d, "metadata.name"), 5);
        cr_assert_eq(manifest_doc_line(d, "spec.containers[0].image"), 8);
        cr_assert_eq(manifest_set_size(arr), 2);
        cr_assert_str_eq(json_str(manifest_doc_object(manifest_set_get(arr, 1)), "kind"), "B");
        cr_assert_eq(manifest_doc_line(manifest_set_get(arr, 1), "kind"), 2);
        cr_assert(strstr(err, "t.yaml:2: error converting JSON"), "%s", err);
}

Test(manifest_parse, accepts_yaml_flow_mapping_that_is_not_json)
{
        _cleanup_manifest_set_ ManifestSet *set =
            parse_ok("{apiVersion: v1, kind: Pod, metadata: {name: f}}\n");

        cr_assert_str_eq(json_str(manifest_doc_object(manifest_set_get(set, 0)), "metadata.name"), "f");
}

Test(manifest_parse, steals_objects_and_refuses_oversize_input)
{
        _cleanup_manifest_set_ ManifestSet *set = parse_ok("apiVersion: v1\nkind: Pod\n");
        _cleanup_json_ cJSON *o = manifest_doc_steal_object(manifest_set_get(set, 0));
        ManifestSet *none = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_not_null(o);
        cr_assert_null(manifest_doc_object(manifest_set_get(set, 0)));
        cr_assert_eq(manifest_parse("big", "", MANIFEST_MAX_BYTES + 1, &none, &err), -EFBIG);
        cr_assert(strstr(err, "larger than"));
}

Test(manifest_parse, parses_plain_documents_without_kind)
{
        _cleanup_json_ cJSON *y = NULL, *j = NULL, *empty = NULL;
        _cleanup_free_ char *err = NULL;
        const char *two = "a: 1\n---\nb: 2\n";

        cr_assert_eq(manifest_parse_plain("c.yaml", "port: 8080\nname: x\n", 18, &y, NULL), 0);
        cr_assert_eq(json_int(y, "port", 0), 8080);
        cr_assert_eq(manifest_parse_plain("c.json", "{\"a\": [1]}", 10, &j, NULL), 0);
        cr_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "a")));
        cr_assert_eq(manifest_parse_plain("c.yaml", "# nothing\n", 10, &empty, NULL), 0);
        cr_assert(cJSON_IsObject(empty));
        cr_assert_eq(manifest_parse_plain("c.yaml", two, strlen(two), &y, &err), -EINVAL);
        cr_assert(strstr(err, "c.yaml:3:") && strstr(err, "expected a single document"), "%s", err);
}
