#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"

static ManifestSet *parse(const char *text)
{
        ManifestSet *set = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(manifest_parse("web.yaml", text, strlen(text), &set, &err), 0, "%s", err);
        return set;
}

Test(manifest, looks_up_kinds_by_any_name)
{
        size_t n;

        cr_assert_str_eq(kind_lookup("po")->kind, "Pod");
        cr_assert_str_eq(kind_lookup("PODS")->kind, "Pod");
        cr_assert_str_eq(kind_lookup("jobs.batch")->kind, "Job");
        cr_assert_str_eq(kind_lookup("statefulsets.v1.apps")->kind, "StatefulSet");
        cr_assert_str_eq(kind_lookup("sts")->kind, "StatefulSet");
        cr_assert_str_eq(kind_lookup("cj")->kind, "CronJob");
        cr_assert_str_eq(kind_lookup("pvc")->kind, "PersistentVolumeClaim");
        cr_assert_null(kind_lookup("jobs.apps"));
        cr_assert_null(kind_lookup("deployment"));
        cr_assert_null(kind_lookup(""));
        cr_assert_not(kind_lookup("node")->namespaced);
        cr_assert_str_eq(kind_lookup("pv")->kind, "PersistentVolume");
        cr_assert_str_eq(kind_lookup("storageclass")->kind, "StorageClass");
        cr_assert_str_eq(kind_lookup("storageclasses.storage.k8s.io")->kind, "StorageClass");
        cr_assert_str_eq(kind_lookup("storageclasses.v1.storage.k8s.io")->kind, "StorageClass");
        cr_assert_str_eq(kind_lookup("cronjobs.v1.batch")->kind, "CronJob");
        cr_assert_not(kind_lookup("sc")->namespaced);
        cr_assert_str_eq(kind_by_plural("apps", "daemonsets")->kind, "DaemonSet");
        cr_assert_null(kind_by_plural("batch", "pods"));
        cr_assert_null(kind_by_kind("pod"));
        cr_assert_not_null(kind_table(&n));
        cr_assert_eq(n, 14);
        cr_assert_not_null(schema_for_kind("Pod"));
        cr_assert_null(schema_for_kind("Node"));
}

Test(manifest, formats_errors_with_file_line_and_path)
{
        _cleanup_manifest_set_ ManifestSet *set = parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
                                                        "spec:\n  restartPolicy: Sometimes\n  containers:\n"
                                                        "  - name: app\n    image: nginx\n  - name: app\n");
        ManifestDoc *doc = manifest_set_get(set, 0);
        cJSON *pod = manifest_doc_object(doc);
        _cleanup_free_ char *text = NULL;
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(manifest_default(pod), 0);
        cr_assert_eq(manifest_validate(pod, &e), 3);
        text = manifest_format_errors(doc, &e);
        cr_assert_str_eq(text, "web.yaml:10: spec.containers[1].name: Duplicate value: \"app\"\n"
                               "web.yaml:10: spec.containers[1].image: Required value\n"
                               "web.yaml:6: spec.restartPolicy: Unsupported value: \"Sometimes\": supported "
                               "values: \"Always\", \"OnFailure\", \"Never\"");
        field_errors_done(&e);
}

Test(manifest, checks_kind_api_version_and_name)
{
        _cleanup_json_ cJSON *unknown = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Gadget\"}");
        _cleanup_json_ cJSON *version = cJSON_Parse("{\"apiVersion\":\"batch/v2\",\"kind\":\"Job\"}");
        _cleanup_json_ cJSON *noname =
            cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{}}");
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL;
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(manifest_default(unknown), 0);
        cr_assert_eq(manifest_validate(unknown, &e), 1);
        cr_assert_eq(manifest_validate(version, &e), 1);
        cr_assert_eq(manifest_validate(noname, &e), 1);
        s0 = field_error_format(&e.items[0]);
        s1 = field_error_format(&e.items[1]);
        s2 = field_error_format(&e.items[2]);
        cr_assert_str_eq(
            s0, "kind: Invalid value: \"Gadget\": no matches for kind \"Gadget\" in version \"v1\"");
        cr_assert_str_eq(s1, "apiVersion: Unsupported value: \"batch/v2\": supported values: \"batch/v1\"");
        cr_assert_str_eq(s2, "metadata.name: Required value: name or generateName is required");
        field_errors_done(&e);
}

Test(manifest, warns_about_unknown_fields_with_paths)
{
        _cleanup_manifest_set_ ManifestSet *set = parse(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {any: thing}\n  colour: red\n"
            "spec:\n  containers:\n  - name: app\n    image: nginx\n    imagePullPolice: Always\n"
            "  affinity: {whatever: {deep: 1}}\nstatus: {phase: Running}\n");
        ManifestDoc *doc = manifest_set_get(set, 0);
        _cleanup_free_ char *text = NULL;
        FieldErrors w;

        field_errors_init(&w);
        cr_assert_eq(manifest_unknown_fields(manifest_doc_object(doc), &w), 2);
        text = manifest_format_errors(doc, &w);
        cr_assert_str_eq(text, "web.yaml:6: warning: unknown field \"metadata.colour\"\n"
                               "web.yaml:11: warning: unknown field \"spec.containers[0].imagePullPolice\"");
        field_errors_done(&w);
}

Test(manifest, rejects_changes_to_immutable_metadata)
{
        _cleanup_json_ cJSON *old =
            cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
                        "\"uid\":\"1\"},\"spec\":{\"containers\":[{\"image\":\"x:1\"}]}}");
        _cleanup_json_ cJSON *renamed =
            cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                        "\"b\",\"uid\":\"1\"},\"spec\":{\"containers\":[{\"image\":"
                        "\"x:1\"}]}}");
        _cleanup_json_ cJSON *image =
            cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                        "\"a\",\"uid\":\"1\"},\"spec\":{\"containers\":[{\"image\":"
                        "\"x:2\"}]}}");
        _cleanup_free_ char *s = NULL;
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(manifest_validate_update(image, old, &e), 0);
        cr_assert_eq(manifest_validate_update(renamed, old, &e), 1);
        s = field_error_format(&e.items[0]);
        cr_assert_str_eq(s, "metadata.name: Invalid value: \"b\": field is immutable");
        field_errors_done(&e);
}
