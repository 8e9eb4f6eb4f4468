/* Tests of probe and lifecycle handler validation in pod-container.c: the apiserver's rules
 * (validateProbe, validateHandler and the actions) in its words, and berth's own rule that a
 * port name must be one of the container's ports. */
#include "workload-test.h"

#define LIVENESS "spec.containers[0].livenessProbe"
#define PRESTOP "spec.containers[0].lifecycle.preStop"
#define PORT_RANGE "must be between 1 and 65535, inclusive"
#define HEADER_MSG                                                                                          \
        "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex "  \
        "used for validation is '[-A-Za-z0-9]+')"

/* A Pod whose first container "app" has the ports web (8080) and metrics (9100) and the
 * given extra fields; a second container "side" declares the port "admin". */
static cJSON *pod_with(const char *container_fields, const char *spec_fields)
{
        _cleanup_free_ char *json = NULL;
        cJSON *pod;

        cr_assert(asprintf_safe(
                      &json,
                      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                      "\"namespace\":\"default\"},\"spec\":{%s%s\"containers\":[{\"name\":\"app\","
                      "\"image\":\"nginx\",\"ports\":[{\"name\":\"web\",\"containerPort\":8080},"
                      "{\"name\":\"metrics\",\"containerPort\":9100}],%s},{\"name\":\"side\","
                      "\"image\":\"busybox\",\"ports\":[{\"name\":\"admin\",\"containerPort\":9000}]}]}}",
                      spec_fields ?: "", spec_fields ? "," : "", container_fields) >= 0);
        pod = cJSON_Parse(json);
        cr_assert_not_null(pod, "bad JSON: %s", json);
        return pod;
}

/* Defaults and validates the pod; exactly the given lines must be reported. */
static void expect_exactly(const char *container_fields, const char *spec_fields, const char *const *lines)
{
        _cleanup_json_ cJSON *pod = pod_with(container_fields, spec_fields);
        _cleanup_free_ char *text = NULL;
        FieldErrors e;
        size_t n = 0;

        while (lines[n])
                n++;
        run_validation(pod, pod_set_defaults, pod_validate, &e);
        text = errors_text(&e);
        cr_expect_eq(e.n, n, "for %s: expected %zu errors, got\n%s", container_fields, n, text);
        expect_lines(&e, lines);
}

#define expect_container_errors(fields, ...) expect_exactly((fields), NULL, LINES(__VA_ARGS__))
#define expect_container_valid(fields) expect_exactly((fields), NULL, NO_LINES)

Test(pod_container, accepts_every_handler_with_ports_of_the_container)
{
        expect_container_valid(
            "\"livenessProbe\":{\"httpGet\":{\"port\":\"web\",\"path\":\"/healthz\",\"scheme\":\"HTTPS\","
            "\"httpHeaders\":[{\"name\":\"X-Probe\",\"value\":\"1\"},{\"name\":\"accept\",\"value\":\"\"}]},"
            "\"terminationGracePeriodSeconds\":5},"
            "\"readinessProbe\":{\"tcpSocket\":{\"port\":\"metrics\"},\"successThreshold\":3},"
            "\"startupProbe\":{\"grpc\":{\"port\":9090},\"failureThreshold\":30},"
            "\"lifecycle\":{\"postStart\":{\"exec\":{\"command\":[\"true\"]}},\"preStop\":{\"sleep\":"
            "{\"seconds\":0}}}");
        expect_container_valid("\"lifecycle\":{\"postStart\":{\"httpGet\":{\"port\":8080}},"
                               "\"preStop\":{\"tcpSocket\":{\"port\":\"web\"}}}");
}

Test(pod_container, defaults_the_grpc_service_to_empty)
{
        _cleanup_json_ cJSON *pod =
            pod_with("\"livenessProbe\":{\"grpc\":{\"port\":9090}},"
                     "\"readinessProbe\":{\"grpc\":{\"port\":9090,\"service\":\"s\"}}",
                     NULL);
        const cJSON *c;

        cr_assert_eq(pod_set_defaults(pod), 0);
        c = cJSON_GetArrayItem(json_path(pod, "spec.containers"), 0);
        cr_assert_str_eq(json_str(c, "livenessProbe.grpc.service"), "");
        cr_assert_str_eq(json_str(c, "readinessProbe.grpc.service"), "s");
}

Test(pod_container, requires_exactly_one_handler_type)
{
        expect_container_errors("\"livenessProbe\":{\"periodSeconds\":5}",
                                LIVENESS ": Required value: must specify a handler type");
        expect_container_errors(
            "\"lifecycle\":{\"postStart\":{}}",
            "spec.containers[0].lifecycle.postStart: Required value: must specify a handler "
            "type");
        expect_container_errors(
            "\"readinessProbe\":{\"exec\":{\"command\":[\"true\"]},\"tcpSocket\":{\"port\":"
            "80},\"grpc\":{\"port\":81}}",
            "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more "
            "than 1 handler type",
            "spec.containers[0].readinessProbe.grpc: Forbidden: may not specify more than 1 "
            "handler type");
        expect_container_errors(
            "\"lifecycle\":{\"preStop\":{\"httpGet\":{\"port\":80},\"sleep\":{\"seconds\":1}}}",
            PRESTOP ".sleep: Forbidden: may not specify more than 1 handler type");
}

Test(pod_container, requires_an_exec_command)
{
        expect_container_errors("\"livenessProbe\":{\"exec\":{\"command\":[]}}",
                                LIVENESS ".exec.command: Required value");
        expect_container_errors("\"lifecycle\":{\"preStop\":{\"exec\":{}}}",
                                PRESTOP ".exec.command: Required value");
        expect_container_errors("\"livenessProbe\":{\"exec\":{\"command\":\"true\"}}", LIVENESS
                                ".exec.command: Invalid value: \"true\": must be a list of strings");
        expect_container_errors("\"livenessProbe\":{\"exec\":\"true\"}",
                                LIVENESS ".exec: Invalid value: \"true\": must be an object");
}

Test(pod_container, rejects_bad_port_numbers)
{
        expect_container_errors("\"livenessProbe\":{\"httpGet\":{\"port\":0}}",
                                LIVENESS ".httpGet.port: Invalid value: 0: " PORT_RANGE);
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":70000}}",
                                LIVENESS ".tcpSocket.port: Invalid value: 70000: " PORT_RANGE);
        /* an absent port is the zero IntOrString */
        expect_container_errors("\"livenessProbe\":{\"httpGet\":{\"path\":\"/\"}}",
                                LIVENESS ".httpGet.port: Invalid value: 0: " PORT_RANGE);
        expect_container_errors("\"lifecycle\":{\"preStop\":{\"tcpSocket\":{}}}",
                                PRESTOP ".tcpSocket.port: Invalid value: 0: " PORT_RANGE);
        expect_container_errors("\"startupProbe\":{\"grpc\":{}}",
                                "spec.containers[0].startupProbe.grpc.port: Invalid value: 0: " PORT_RANGE);
        expect_container_errors("\"startupProbe\":{\"grpc\":{\"port\":-1}}",
                                "spec.containers[0].startupProbe.grpc.port: Invalid value: -1: " PORT_RANGE);
        /* grpc takes no port names */
        expect_container_errors(
            "\"startupProbe\":{\"grpc\":{\"port\":\"web\"}}",
            "spec.containers[0].startupProbe.grpc.port: Invalid value: \"web\": must be an "
            "integer");
}

Test(pod_container, rejects_malformed_port_names)
{
        expect_container_errors("\"livenessProbe\":{\"httpGet\":{\"port\":\"Web_1\"}}", LIVENESS
                                ".httpGet.port: Invalid value: \"Web_1\": must contain only alpha-numeric "
                                "characters (a-z, 0-9), and hyphens (-)");
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":\"a-very-long-port-name\"}}",
                                LIVENESS
                                ".tcpSocket.port: Invalid value: \"a-very-long-port-name\": must be no "
                                "more than 15 characters");
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":\"8080\"}}", LIVENESS
                                ".tcpSocket.port: Invalid value: \"8080\": must contain at least one "
                                "letter (a-z)");
}

Test(pod_container, rejects_port_names_this_container_does_not_declare)
{
        expect_container_errors("\"livenessProbe\":{\"httpGet\":{\"port\":\"webb\"}}", LIVENESS
                                ".httpGet.port: Invalid value: \"webb\": must be the name of a port of "
                                "this container");
        /* another container's port does not count: the kubelet only looks in this one */
        expect_container_errors(
            "\"readinessProbe\":{\"tcpSocket\":{\"port\":\"admin\"}}",
            "spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: \"admin\": must "
            "be the name of a port of this container");
        expect_container_errors(
            "\"lifecycle\":{\"postStart\":{\"httpGet\":{\"port\":\"api\"}},"
            "\"preStop\":{\"tcpSocket\":{\"port\":\"api\"}}}",
            "spec.containers[0].lifecycle.postStart.httpGet.port: Invalid value: \"api\": "
            "must be the name of a port of this container",
            PRESTOP ".tcpSocket.port: Invalid value: \"api\": must be the name of a port of "
                    "this container");
}

Test(pod_container, checks_port_names_of_sidecars_and_templates)
{
        _cleanup_json_ cJSON *sidecar = pod_with(
            "\"livenessProbe\":{\"tcpSocket\":{\"port\":\"web\"}}",
            "\"initContainers\":[{\"name\":\"proxy\",\"image\":\"envoy\",\"restartPolicy\":\"Always\","
            "\"ports\":[{\"name\":\"admin\",\"containerPort\":9901}],"
            "\"startupProbe\":{\"httpGet\":{\"port\":\"admin\"}},\"readinessProbe\":{\"tcpSocket\":{"
            "\"port\":"
            "\"web\"}}}]");

        expect_errors(
            sidecar, pod_set_defaults, pod_validate,
            "spec.initContainers[0].readinessProbe.tcpSocket.port: Invalid value: \"web\": must be "
            "the name of a port of this container");
        expect_patch_errors("job-basic.json",
                            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"pi\",\"image\":"
                            "\"busybox\",\"livenessProbe\":{\"httpGet\":{\"port\":\"http\"}}}]}}}}",
                            job_set_defaults, job_validate,
                            "spec.template.spec.containers[0].livenessProbe.httpGet.port: Invalid value: "
                            "\"http\": must be the name of a port of this container");
}

Test(pod_container, supports_only_http_and_https_schemes)
{
        expect_container_errors("\"livenessProbe\":{\"httpGet\":{\"port\":\"web\",\"scheme\":\"FTP\"}}",
                                LIVENESS ".httpGet.scheme: Unsupported value: \"FTP\": supported values: "
                                         "\"HTTP\", \"HTTPS\"");
        expect_container_errors(
            "\"lifecycle\":{\"postStart\":{\"httpGet\":{\"port\":80,\"scheme\":\"https\"}}}",
            "spec.containers[0].lifecycle.postStart.httpGet.scheme: Unsupported value: "
            "\"https\": supported values: \"HTTP\", \"HTTPS\"");
}

Test(pod_container, rejects_invalid_header_names)
{
        expect_container_errors(
            "\"livenessProbe\":{\"httpGet\":{\"port\":80,\"httpHeaders\":[{\"name\":\"X-Ok\","
            "\"value\":\"1\"},{\"name\":\"X Bad\",\"value\":\"2\"},{\"name\":\"X_Under\"},"
            "{\"value\":\"nameless\"}]}}",
            LIVENESS ".httpGet.httpHeaders: Invalid value: \"X Bad\": " HEADER_MSG,
            LIVENESS ".httpGet.httpHeaders: Invalid value: \"X_Under\": " HEADER_MSG,
            LIVENESS ".httpGet.httpHeaders: Invalid value: \"\": " HEADER_MSG);
        expect_container_errors(
            "\"livenessProbe\":{\"httpGet\":{\"port\":80,\"httpHeaders\":{\"a\":\"b\"}}}",
            LIVENESS ".httpGet.httpHeaders: Invalid value: {\"a\":\"b\"}: must be a list");
}

Test(pod_container, rejects_negative_probe_fields)
{
        expect_container_errors(
            "\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"initialDelaySeconds\":-1,"
            "\"timeoutSeconds\":-2,\"periodSeconds\":-3,\"successThreshold\":-4,"
            "\"failureThreshold\":-5}",
            "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must "
            "be greater than or equal to 0",
            "spec.containers[0].readinessProbe.timeoutSeconds: Invalid value: -2: must be "
            "greater than or equal to 0",
            "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -3: must be "
            "greater than or equal to 0",
            "spec.containers[0].readinessProbe.successThreshold: Invalid value: -4: must be "
            "greater than or equal to 0",
            "spec.containers[0].readinessProbe.failureThreshold: Invalid value: -5: must be "
            "greater than or equal to 0");
}

Test(pod_container, requires_a_success_threshold_of_1_for_liveness_and_startup)
{
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":2}",
                                LIVENESS ".successThreshold: Invalid value: 2: must be 1");
        expect_container_errors(
            "\"startupProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":3}",
            "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1");
        /* a negative threshold breaks both rules */
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":-1}",
                                LIVENESS
                                ".successThreshold: Invalid value: -1: must be greater than or equal to 0",
                                LIVENESS ".successThreshold: Invalid value: -1: must be 1");
        expect_container_valid("\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":3}");
}

Test(pod_container, checks_the_termination_grace_period_of_probes)
{
        expect_container_errors("\"livenessProbe\":{\"tcpSocket\":{\"port\":80},"
                                "\"terminationGracePeriodSeconds\":0}",
                                LIVENESS
                                ".terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0");
        expect_container_errors(
            "\"startupProbe\":{\"tcpSocket\":{\"port\":80},"
            "\"terminationGracePeriodSeconds\":-5}",
            "spec.containers[0].startupProbe.terminationGracePeriodSeconds: Invalid value: "
            "-5: must be greater than 0");
        expect_container_errors(
            "\"readinessProbe\":{\"tcpSocket\":{\"port\":80},"
            "\"terminationGracePeriodSeconds\":10}",
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: "
            "10: must not be set for readinessProbes");
        expect_container_valid("\"readinessProbe\":{\"tcpSocket\":{\"port\":80},"
                               "\"terminationGracePeriodSeconds\":null}");
}

Test(pod_container, bounds_sleep_by_the_pods_grace_period)
{
        expect_container_errors("\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":31}}}",
                                PRESTOP ".sleep: Invalid value: 31: must be non-negative and less than "
                                        "terminationGracePeriodSeconds (30)");
        expect_container_errors("\"lifecycle\":{\"postStart\":{\"sleep\":{\"seconds\":-1}}}",
                                "spec.containers[0].lifecycle.postStart.sleep: Invalid value: -1: must be "
                                "non-negative and less than terminationGracePeriodSeconds (30)");
        expect_container_errors("\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":\"5\"}}}",
                                PRESTOP ".sleep.seconds: Invalid value: \"5\": must be an integer");
        expect_exactly("\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":45}}}",
                       "\"terminationGracePeriodSeconds\":60", NO_LINES);
        expect_exactly("\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":45}}}",
                       "\"terminationGracePeriodSeconds\":10",
                       LINES(PRESTOP ".sleep: Invalid value: 45: must be non-negative and less than "
                                     "terminationGracePeriodSeconds (10)"));
}
