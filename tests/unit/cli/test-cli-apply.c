#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

static char *fixture_path(const char *name)
{
        char *p = strjoin(getenv("CLI_FIXTURES"), "/", name, NULL);
        cr_assert_not_null(p);
        return p;
}

static FILE *mem(char **buf, size_t *size)
{
        FILE *f = open_memstream(buf, size);
        cr_assert_not_null(f);
        return f;
}

static const char two_pods[] = "apiVersion: v1\n"
                               "kind: Pod\n"
                               "metadata:\n"
                               "  name: a\n"
                               "spec:\n"
                               "  containers:\n"
                               "  - name: a\n"
                               "    image: x\n"
                               "---\n"
                               "apiVersion: v1\n"
                               "kind: Pod\n"
                               "metadata:\n"
                               "  name: b\n"
                               "spec:\n"
                               "  containers:\n"
                               "  - name: b\n"
                               "    image: \"\"\n";

Test(cli_apply, maps_server_field_errors_back_to_file_and_line)
{
        _cleanup_free_ char *err = NULL, *buf = NULL;
        _cleanup_json_ cJSON *status = NULL;
        CliDocs d = {};
        ManifestSet *set = NULL;
        size_t size = 0;
        FILE *f;

        cr_assert_eq(manifest_parse("web.yaml", two_pods, strlen(two_pods), &set, &err), 0, "%s", err);
        d.sets = calloc(1, sizeof(ManifestSet *));
        d.sets[0] = set;
        d.n_sets = 1;
        d.docs = calloc(2, sizeof(ManifestDoc *));
        d.docs[0] = manifest_set_get(set, 0);
        d.docs[1] = manifest_set_get(set, 1);
        d.n_docs = 2;
        status =
            cJSON_Parse("{\"kind\":\"Status\",\"code\":422,\"reason\":\"Invalid\",\"details\":{\"causes\":["
                        "{\"field\":\"items[1].spec.containers[0].image\",\"message\":\"Required value\"},"
                        "{\"field\":\"items[0].metadata.name\",\"message\":\"Invalid value: \\\"a\\\"\"},"
                        "{\"field\":\"items[9].x\",\"message\":\"odd\"}]}}");
        f = mem(&buf, &size);
        cr_assert_eq(cli_apply_print_causes(&d, status, f), 3);
        fclose(f);
        cr_assert_str_eq(buf, "web.yaml:17: spec.containers[0].image: Required value\n"
                              "web.yaml:4: metadata.name: Invalid value: \"a\"\n"
                              "error: items[9].x: odd\n");
        cli_docs_done(&d);
}

Test(cli_apply, prints_apply_results_in_kubectl_words)
{
        _cleanup_json_ cJSON *res = cJSON_Parse(
            "{\"kind\":\"ApplyResult\",\"items\":[{\"kind\":\"Pod\",\"namespace\":\"default\",\"name\":"
            "\"web\","
            "\"result\":\"created\"},{\"kind\":\"Job\",\"name\":\"pi\",\"result\":\"unchanged\"},"
            "{\"kind\":\"StatefulSet\",\"name\":\"db\",\"result\":\"configured\"}]}");
        char *buf = NULL;
        size_t size = 0;
        FILE *f = mem(&buf, &size);

        cli_apply_print_result(res, " (server dry run)", f);
        fclose(f);
        cr_assert_str_eq(buf, "pod/web created (server dry run)\n"
                              "job.batch/pi unchanged (server dry run)\n"
                              "statefulset.apps/db configured (server dry run)\n");
        free(buf);
}

static int validate(const char *file, char **out, char **err)
{
        _cleanup_free_ char *path = fixture_path(file);
        char *files[] = {path};
        CliArgs a = {.files = files, .n_files = 1, .verb = "validate"};
        size_t so = 0, se = 0;
        FILE *o = mem(out, &so), *e = mem(err, &se);
        int r = cli_verb_validate(&a, o, e);

        fclose(o);
        fclose(e);
        return r;
}

Test(cli_apply, validates_a_good_file_without_an_agent)
{
        _cleanup_free_ char *out = NULL, *err = NULL;

        cr_assert_eq(validate("good.yaml", &out, &err), 0, "%s", err);
        cr_assert(endswith(out, "good.yaml: valid (2 objects)\n"), "%s", out);
        cr_assert_str_eq(err, "");
}

Test(cli_apply, reports_errors_and_unknown_fields_of_a_bad_file)
{
        _cleanup_free_ char *out = NULL, *err = NULL;

        cr_assert_eq(validate("bad.yaml", &out, &err), 1);
        cr_assert_str_eq(out, "");
        cr_assert_not_null(strstr(err, "Warning: "), "%s", err);
        cr_assert_not_null(strstr(err, "bad.yaml:8: unknown field \"spec.containers[0].imagePullPolice\""),
                           "%s", err);
        cr_assert_not_null(strstr(err, "bad.yaml:7: spec.containers[0].image: Required value"), "%s", err);
        cr_assert_not_null(strstr(err, "bad.yaml:13: metadata.name: Invalid value: \"Bad_Name\""), "%s",
                           err);
        cr_assert_not_null(strstr(err, "bad.yaml:15: spec.restartPolicy: Unsupported value: \"Sometimes\""),
                           "%s", err);
}

Test(cli_apply, reports_a_syntax_error_with_its_line)
{
        _cleanup_free_ char *out = NULL, *err = NULL;

        cr_assert_eq(validate("broken.yaml", &out, &err), 1);
        cr_assert(startswith(err, "error: "), "%s", err);
        cr_assert_not_null(strstr(err, "broken.yaml:"), "%s", err);
}

Test(cli_apply, loads_a_directory_in_name_order)
{
        _cleanup_free_ char *dir = fixture_path("");
        char *files[] = {dir};
        CliDocs d;
        char *buf = NULL;
        size_t size = 0;
        FILE *e = mem(&buf, &size);

        /* the fixture folder holds broken.yaml, which must fail the whole load */
        cr_assert_lt(cli_docs_load(&d, files, 1, false, e), 0);
        fclose(e);
        cr_assert_not_null(strstr(buf, "broken.yaml"));
        free(buf);
}

Test(cli_apply, fails_on_a_missing_path)
{
        char *files[] = {(char *)"/nonexistent/x.yaml"};
        CliDocs d;
        char *buf = NULL;
        size_t size = 0;
        FILE *e = mem(&buf, &size);

        cr_assert_eq(cli_docs_load(&d, files, 1, false, e), -ENOENT);
        fclose(e);
        cr_assert_str_eq(buf, "error: the path \"/nonexistent/x.yaml\" does not exist\n");
        free(buf);
}
