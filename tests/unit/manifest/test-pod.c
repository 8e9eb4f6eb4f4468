#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"

static cJSON *load(const char *name, ManifestSet **ret_set)
{
        _cleanup_free_ char *path = strjoin(FIXTURES, "/", name, NULL);
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(manifest_parse_file(path, ret_set, &err), 0, "%s", err);
        return manifest_doc_object(manifest_set_get(*ret_set, 0));
}

static bool has_error(const FieldErrors *e, const char *text)
{
        for (size_t i = 0; i < e->n; i++) {
                _cleanup_free_ char *s = field_error_format(&e->items[i]);

                if (s && streq(s, text))
                        return true;
        }
        return false;
}

static void dump(const FieldErrors *e)
{
        for (size_t i = 0; i < e->n; i++) {
                _cleanup_free_ char *s = field_error_format(&e->items[i]);

                cr_log_info("%s", s);
        }
}

Test(pod, applies_kubernetes_defaults)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        cJSON *pod = load("pod-good.yaml", &set);
        cJSON *c0, *c1;

        cr_assert_eq(pod_set_defaults(pod), 0);
        cr_assert_str_eq(json_str(pod, "spec.restartPolicy"), "Always");
        cr_assert_eq(json_int(pod, "spec.terminationGracePeriodSeconds", 0), 30);
        cr_assert_str_eq(json_str(pod, "spec.dnsPolicy"), "ClusterFirst");
        cr_assert_str_eq(json_str(pod, "spec.schedulerName"), "default-scheduler");
        cr_assert(cJSON_IsObject(json_path(pod, "spec.securityContext")));
        c0 = cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0);
        c1 = cJSON_GetArrayItem(json_path(pod, "spec.containers"), 1);
        cr_assert_str_eq(json_str(c0, "imagePullPolicy"), "Always");
        cr_assert_str_eq(json_str(c1, "imagePullPolicy"), "IfNotPresent");
        cr_assert_str_eq(json_str(c0, "terminationMessagePath"), "/dev/termination-log");
        cr_assert_str_eq(json_str(c0, "terminationMessagePolicy"), "File");
        cr_assert_str_eq(json_str(cJSON_GetArrayItem(json_path(c0, "ports"), 0), "protocol"), "TCP");
        cr_assert_eq(json_int(c0, "livenessProbe.timeoutSeconds", 0), 1);
        cr_assert_eq(json_int(c0, "livenessProbe.periodSeconds", 0), 10);
        cr_assert_eq(json_int(c0, "livenessProbe.successThreshold", 0), 1);
        cr_assert_eq(json_int(c0, "livenessProbe.failureThreshold", 0), 3);
        cr_assert_str_eq(json_str(c0, "livenessProbe.httpGet.path"), "/");
        cr_assert_str_eq(json_str(c0, "livenessProbe.httpGet.scheme"), "HTTP");
        cr_assert_str_eq(
            json_str(cJSON_GetArrayItem(json_path(c0, "env"), 0), "valueFrom.fieldRef.apiVersion"), "v1");
        cr_assert_str_eq(json_str(c0, "resources.requests.cpu"), "500m");
        cr_assert_eq(
            json_int(cJSON_GetArrayItem(json_path(pod, "spec.volumes"), 1), "configMap.defaultMode", 0),
            0644);
}

Test(pod, accepts_a_valid_pod)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        cJSON *pod = load("pod-good.yaml", &set);
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(pod_set_defaults(pod), 0);
        pod_validate(pod, &e);
        dump(&e);
        cr_assert_eq(e.n, 0);
        field_errors_done(&e);
}

Test(pod, reports_bad_fields_in_apiserver_words)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        cJSON *pod = load("pod-bad.yaml", &set);
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(pod_set_defaults(pod), 0);
        pod_validate(pod, &e);
        dump(&e);
        cr_assert(has_error(
            &e, "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                "\"OnFailure\", \"Never\""));
        cr_assert(
            has_error(&e, "spec.volumes[0].hostPath.type: Unsupported value: \"Folder\": supported values: "
                          "\"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", "
                          "\"File\", \"FileOrCreate\", \"Socket\""));
        cr_assert(has_error(
            &e, "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 "
                "and 65535, inclusive"));
        cr_assert(has_error(&e,
                            "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment "
                            "variable name must consist only of printable ASCII characters other than '='"));
        cr_assert(has_error(&e,
                            "spec.containers[0].env[1].valueFrom: Invalid value: \"\": must specify one of: "
                            "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
        cr_assert(has_error(&e, "spec.containers[0].volumeMounts[0].name: Not found: \"missing\""));
        cr_assert(
            has_error(&e, "spec.containers[0].volumeMounts[0].mountPath: Invalid value: \"relative\": must "
                          "be an absolute path"));
        cr_assert(
            has_error(&e, "spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 "
                          "handler type"));
        cr_assert(
            has_error(&e, "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"));
        cr_assert(has_error(&e, "spec.containers[1].name: Duplicate value: \"app\""));
        cr_assert(has_error(&e, "spec.containers[1].image: Required value"));
        cr_assert(has_error(&e,
                            "spec.containers[1].resources.requests[cpu]: Invalid value: \"2\": must be less "
                            "than or equal to cpu limit of 1"));
        cr_assert(has_error(
            &e, "spec.containers[1].resources.limits[memory]: Invalid value: \"lots\": quantities "
                "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        field_errors_done(&e);
}

Test(pod, requires_containers_and_checks_volumes)
{
        _cleanup_json_ cJSON *spec =
            cJSON_Parse("{\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\","
                        "\"activeDeadlineSeconds\":0,\"volumes\":[{\"name\":\"a\"},"
                        "{\"name\":\"a\",\"emptyDir\":{},\"secret\":{\"secretName\":\"s\"}},"
                        "{\"name\":\"n\",\"nfs\":{}}],"
                        "\"securityContext\":{\"runAsUser\":-1,\"seccompProfile\":"
                        "{\"type\":\"Localhost\"}}}");
        FieldErrors e;

        field_errors_init(&e);
        pod_spec_validate(spec, "spec", &e);
        dump(&e);
        cr_assert(has_error(&e, "spec.containers: Required value"));
        cr_assert(has_error(&e, "spec.volumes[0]: Required value: must specify a volume type"));
        cr_assert(has_error(&e, "spec.volumes[1].name: Duplicate value: \"a\""));
        cr_assert(
            has_error(&e, "spec.volumes[1].secret: Forbidden: may not specify more than 1 volume type"));
        cr_assert(has_error(&e, "spec.volumes[2].nfs: Forbidden: volume type not supported by berth"));
        cr_assert(
            has_error(&e, "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
                          "inclusive"));
        cr_assert(has_error(&e, "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and "
                                "2147483647, inclusive"));
        cr_assert(has_error(
            &e, "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set "
                "when seccomp type is Localhost"));
        field_errors_done(&e);
}

Test(pod, forbids_probes_on_plain_init_containers)
{
        _cleanup_json_ cJSON *spec = cJSON_Parse(
            "{\"restartPolicy\":\"Never\",\"dnsPolicy\":\"ClusterFirst\","
            "\"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"imagePullPolicy\":\"Always\","
            "\"terminationMessagePolicy\":\"File\",\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}}},"
            "{\"name\":\"s\",\"image\":\"x\",\"imagePullPolicy\":\"Always\",\"terminationMessagePolicy\":"
            "\"File\","
            "\"restartPolicy\":\"Always\",\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}}}],"
            "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"imagePullPolicy\":\"Always\","
            "\"terminationMessagePolicy\":\"File\"}]}");
        FieldErrors e;

        field_errors_init(&e);
        pod_spec_validate(spec, "spec", &e);
        dump(&e);
        cr_assert_eq(e.n, 1);
        cr_assert(has_error(&e, "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init "
                                "containers without restartPolicy=Always"));
        field_errors_done(&e);
}

Test(pod, templates_constrain_restart_policy)
{
        static const char *const job_restart[] = {"OnFailure", "Never", NULL};
        _cleanup_json_ cJSON *tmpl = cJSON_Parse("{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{"
                                                 "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}");
        FieldErrors e;

        field_errors_init(&e);
        cr_assert_eq(pod_spec_set_defaults(json_path(tmpl, "spec")), 0);
        pod_template_validate(tmpl, "spec.template", job_restart, &e);
        dump(&e);
        cr_assert_eq(e.n, 1);
        cr_assert(has_error(
            &e, "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
                "\"OnFailure\", \"Never\""));
        field_errors_done(&e);
        pod_template_validate(NULL, "spec.template", NULL, &e);
        cr_assert(has_error(&e, "spec.template: Required value"));
        field_errors_done(&e);
}

Test(pod, updates_may_change_only_images_and_deadlines)
{
        _cleanup_json_ cJSON *old =
            cJSON_Parse("{\"spec\":{\"activeDeadlineSeconds\":100,\"containers\":[{\"name\":"
                        "\"c\",\"image\":\"a:1\"}],\"tolerations\":[{\"key\":\"k\"}]}}");
        _cleanup_json_ cJSON *ok =
            cJSON_Parse("{\"spec\":{\"activeDeadlineSeconds\":50,\"containers\":[{\"name\":"
                        "\"c\",\"image\":\"a:2\"}],\"tolerations\":[{\"key\":\"k\"},"
                        "{\"key\":\"z\"}]}}");
        _cleanup_json_ cJSON *bad =
            cJSON_Parse("{\"spec\":{\"activeDeadlineSeconds\":200,\"containers\":[{\"name\":"
                        "\"d\",\"image\":\"a:1\"}],\"tolerations\":[]}}");
        FieldErrors e;

        field_errors_init(&e);
        pod_validate_update(ok, old, &e);
        dump(&e);
        cr_assert_eq(e.n, 0);
        pod_validate_update(bad, old, &e);
        dump(&e);
        cr_assert_eq(e.n, 2);
        cr_assert(has_error(&e,
                            "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to "
                            "previous value"));
        cr_assert(
            has_error(&e, "spec: Forbidden: pod updates may not change fields other than "
                          "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                          "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                          "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                          "was previously negative)"));
        field_errors_done(&e);
}
