/* Tests of Pod defaulting and validation (pod.c, pod-container.c). */
#include "workload-test.h"

static cJSON *load(const char *name, ManifestSet **ret_set)
{
        _cleanup_free_ char *path = strjoin(FIXTURES, "/", name, NULL);
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(manifest_parse_file(path, ret_set, &err), 0, "%s", err);
        return manifest_doc_object(manifest_set_get(*ret_set, 0));
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

        expect_valid(pod, pod_set_defaults, pod_validate);
}

Test(pod, reports_bad_fields_in_apiserver_words)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        cJSON *pod = load("pod-bad.yaml", &set);

        expect_errors(pod, pod_set_defaults, pod_validate,
                      "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                      "\"OnFailure\", \"Never\"",
                      "spec.volumes[0].hostPath.type: Unsupported value: \"Folder\": supported values: "
                      "\"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", "
                      "\"File\", \"FileOrCreate\", \"Socket\"",
                      "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 "
                      "and 65535, inclusive",
                      "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment "
                      "variable name must consist only of printable ASCII characters other than '='",
                      "spec.containers[0].env[1].valueFrom: Invalid value: \"\": must specify one of: "
                      "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                      "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
                      "spec.containers[0].volumeMounts[0].mountPath: Invalid value: \"relative\": must "
                      "be an absolute path",
                      "spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 "
                      "handler type",
                      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                      "spec.containers[1].name: Duplicate value: \"app\"",
                      "spec.containers[1].image: Required value",
                      "spec.containers[1].resources.requests[cpu]: Invalid value: \"2\": must be less "
                      "than or equal to cpu limit of 1",
                      "spec.containers[1].resources.limits[memory]: Invalid value: \"lots\": quantities "
                      "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
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
        expect_lines(
            &e, LINES("spec.containers: Required value",
                      "spec.volumes[0]: Required value: must specify a volume type",
                      "spec.volumes[1].name: Duplicate value: \"a\"",
                      "spec.volumes[1].secret: Forbidden: may not specify more than 1 volume type",
                      "spec.volumes[2].nfs: Forbidden: volume type not supported by berth",
                      "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
                      "inclusive",
                      "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and "
                      "2147483647, inclusive",
                      "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set "
                      "when seccomp type is Localhost"));
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
        cr_assert_eq(e.n, 1);
        expect_lines(&e, LINES("spec.initContainers[0].livenessProbe: Forbidden: may not be set for init "
                               "containers without restartPolicy=Always"));
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
        cr_assert_eq(e.n, 1);
        expect_lines(
            &e, LINES("spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
                      "\"OnFailure\", \"Never\""));
        pod_template_validate(NULL, "spec.template", NULL, &e);
        expect_lines(&e, LINES("spec.template: Required value"));
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
        cr_assert_eq(e.n, 0);
        pod_validate_update(bad, old, &e);
        cr_assert_eq(e.n, 2);
        expect_lines(
            &e, LINES("spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to "
                      "previous value",
                      "spec: Forbidden: pod updates may not change fields other than "
                      "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                      "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                      "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                      "was previously negative)"));
}
