/* Tests of the handler reader (probe-handler.c): manifest handler objects resolved against
 * their container as the kubelet resolves them, and kubectl describe's probe line. */
#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "probe.h"

#define POD_IP "10.88.0.7"

static const char container_json[] =
    "{\"name\":\"app\",\"image\":\"x\","
    "\"ports\":[{\"name\":\"web\",\"containerPort\":8080},{\"name\":\"metrics\",\"containerPort\":9100},"
    "{\"name\":\"zero\",\"containerPort\":0},{\"containerPort\":7000}],"
    "\"env\":[{\"name\":\"GREETING\",\"value\":\"hello\"},{\"name\":\"FROM_POD\",\"valueFrom\":"
    "{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},{\"name\":\"NESTED\",\"value\":\"$(GREETING)\"},"
    "{\"name\":\"GREETING\",\"value\":\"hi\"},{\"value\":\"nameless\"}]}";

static cJSON *parse(const char *json)
{
        cJSON *j = cJSON_Parse(json);

        cr_assert_not_null(j, "bad JSON: %s", json);
        return j;
}

/* Reads handler_json against the fixture container; asserts success. */
static void read_ok(const char *handler_json, const char *pod_ip, ProbeHandler *h)
{
        _cleanup_json_ cJSON *handler = parse(handler_json), *container = parse(container_json);
        _cleanup_free_ char *error = NULL;

        cr_assert_eq(probe_handler_from_json(handler, container, pod_ip, h, &error), 0, "%s: %s",
                     handler_json, error ?: "");
        cr_assert_null(error);
}

static void assert_path(const char *manifest_path, const char *want)
{
        _cleanup_free_ char *json = NULL;
        _cleanup_json_ cJSON *path = cJSON_CreateString(manifest_path);
        _cleanup_free_ char *quoted = cJSON_PrintUnformatted(path);
        ProbeHandler h;

        cr_assert(asprintf_safe(&json, "{\"httpGet\":{\"port\":80,\"path\":%s}}", quoted) >= 0);
        read_ok(json, POD_IP, &h);
        cr_assert_str_eq(h.path, want, "path %s", quoted);
        probe_handler_done(&h);
}

Test(probe_handler, expands_exec_commands_from_static_env_only)
{
        ProbeHandler h;

        read_ok("{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo $(GREETING) [$(FROM_POD)] $(NESTED) "
                "$(UNDEFINED) $$(GREETING)\"]}}",
                POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_EXEC);
        cr_assert_str_eq(h.command[0], "sh");
        cr_assert_str_eq(h.command[1], "-c");
        /* the last GREETING wins; a valueFrom variable has no static value and expands to ""
         * (kubelet's V1EnvVarsToMap); values are not expanded themselves */
        cr_assert_str_eq(h.command[2], "echo hi [] $(GREETING) $(UNDEFINED) $(GREETING)");
        cr_assert_null(h.command[3]);
        cr_assert_null(h.host);
        cr_assert_null(h.path);
        probe_handler_done(&h);
}

Test(probe_handler, reads_an_exec_without_command_as_an_empty_argv)
{
        ProbeHandler h;

        read_ok("{\"exec\":{}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_EXEC);
        cr_assert_not_null(h.command);
        cr_assert_null(h.command[0]);
        probe_handler_done(&h);
}

Test(probe_handler, rejects_exec_commands_that_are_not_strings)
{
        _cleanup_json_ cJSON *handler = parse("{\"exec\":{\"command\":[\"true\",5]}}"),
                             *container = parse(container_json);
        _cleanup_free_ char *error = NULL;
        ProbeHandler h = {};

        cr_assert_eq(probe_handler_from_json(handler, container, POD_IP, &h, &error), -EINVAL);
        cr_assert_str_eq(error, "exec.command[1] must be a string");
        cr_assert_eq(h.action, PROBE_ACTION_NONE);
        cr_assert_null(h.command);
}

Test(probe_handler, applies_http_get_defaults_and_the_pod_ip)
{
        ProbeHandler h;

        read_ok("{\"httpGet\":{\"port\":8080}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_HTTP_GET);
        cr_assert_str_eq(h.scheme, "http");
        cr_assert_str_eq(h.host, POD_IP);
        cr_assert_eq(h.port, 8080);
        cr_assert_null(h.port_error);
        cr_assert_str_eq(h.path, "/");
        cr_assert_eq(h.n_headers, 0);
        cr_assert_null(h.headers);
        probe_handler_done(&h);
}

Test(probe_handler, lower_cases_the_scheme_and_keeps_an_explicit_host)
{
        ProbeHandler h;

        read_ok(
            "{\"httpGet\":{\"scheme\":\"HTTPS\",\"host\":\"fd00::5\",\"port\":443,\"path\":\"/healthz\"}}",
            POD_IP, &h);
        cr_assert_str_eq(h.scheme, "https");
        cr_assert_str_eq(h.host, "fd00::5");
        cr_assert_eq(h.port, 443);
        cr_assert_str_eq(h.path, "/healthz");
        probe_handler_done(&h);
}

Test(probe_handler, defaults_the_host_to_empty_without_a_pod_ip)
{
        ProbeHandler h;

        read_ok("{\"tcpSocket\":{\"port\":80,\"host\":\"\"}}", NULL, &h);
        cr_assert_str_eq(h.host, "");
        probe_handler_done(&h);
}

Test(probe_handler, resolves_port_names_against_this_container)
{
        ProbeHandler h;

        read_ok("{\"httpGet\":{\"port\":\"metrics\",\"path\":\"/metrics\"}}", POD_IP, &h);
        cr_assert_eq(h.port, 9100);
        cr_assert_null(h.port_error);
        probe_handler_done(&h);
        read_ok("{\"tcpSocket\":{\"port\":\"web\"}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_TCP_SOCKET);
        cr_assert_eq(h.port, 8080);
        cr_assert_str_eq(h.host, POD_IP);
        probe_handler_done(&h);
}

Test(probe_handler, keeps_an_unresolvable_port_as_an_error_of_each_run)
{
        ProbeHandler h;

        read_ok("{\"httpGet\":{\"port\":\"admin\"}}", POD_IP, &h);
        cr_assert_eq(h.port, 0);
        cr_assert_str_eq(h.port_error, "port \"admin\" not found");
        probe_handler_done(&h);
        /* a number kept as a string is still a name, as in probe.ResolveContainerPort */
        read_ok("{\"tcpSocket\":{\"port\":\"8080\"}}", POD_IP, &h);
        cr_assert_eq(h.port, 0);
        cr_assert_str_eq(h.port_error, "port \"8080\" not found");
        probe_handler_done(&h);
        read_ok("{\"tcpSocket\":{\"port\":\"zero\"}}", POD_IP, &h);
        cr_assert_str_eq(h.port_error, "invalid port number: 0");
        probe_handler_done(&h);
        read_ok("{\"tcpSocket\":{\"port\":70000}}", POD_IP, &h);
        cr_assert_eq(h.port, 0);
        cr_assert_str_eq(h.port_error, "invalid port number: 70000");
        probe_handler_done(&h);
        read_ok("{\"httpGet\":{}}", POD_IP, &h);
        cr_assert_str_eq(h.port_error, "invalid port number: 0");
        probe_handler_done(&h);
}

Test(probe_handler, makes_the_request_path_as_the_kubelets_url_does)
{
        assert_path("", "/");
        assert_path("healthz", "/healthz");
        assert_path("/ready?verbose=1&x", "/ready?verbose=1&x");
        assert_path("?q", "/?q");
        assert_path("/a b#section", "/a%20b");
        assert_path("/caf\xc3\xa9", "/caf%C3%A9");
        /* already escaped paths and the sub-delimiters Go leaves alone are sent as they are */
        assert_path("/a%2Fb/c(1)*!", "/a%2Fb/c(1)*!");
        /* mixed: decoded, then escaped whole */
        assert_path("/a%41 b", "/aA%20b");
        /* what url.Parse rejects is escaped whole, query and all */
        assert_path("/bad%zz?x=1", "/bad%25zz%3Fx=1");
        assert_path("/line\nbreak", "/line%0Abreak");
}

Test(probe_handler, keeps_headers_in_order_with_go_canonical_names)
{
        ProbeHandler h;

        read_ok("{\"httpGet\":{\"port\":80,\"httpHeaders\":[{\"name\":\"x-custom\",\"value\":\"1\"},"
                "{\"name\":\"Accept\",\"value\":\"\"},{\"name\":\"X-CUSTOM\",\"value\":\"2\"},"
                "{\"name\":\"host\",\"value\":\"example.com\"},{\"name\":\"odd name\",\"value\":\"v\"}]}}",
                POD_IP, &h);
        cr_assert_eq(h.n_headers, 5);
        cr_assert_str_eq(h.headers[0].name, "X-Custom");
        cr_assert_str_eq(h.headers[0].value, "1");
        cr_assert_str_eq(h.headers[1].name, "Accept");
        cr_assert_str_eq(h.headers[1].value, "");
        cr_assert_str_eq(h.headers[2].name, "X-Custom");
        cr_assert_str_eq(h.headers[2].value, "2");
        cr_assert_str_eq(h.headers[3].name, "Host");
        cr_assert_str_eq(h.headers[3].value, "example.com");
        cr_assert_str_eq(h.headers[4].name, "odd name");
        probe_handler_done(&h);
}

Test(probe_handler, reads_grpc_with_the_pod_ip_and_an_optional_service)
{
        ProbeHandler h;

        read_ok("{\"grpc\":{\"port\":9090,\"service\":\"\"}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_GRPC);
        cr_assert_str_eq(h.host, POD_IP);
        cr_assert_eq(h.port, 9090);
        cr_assert_null(h.service);
        probe_handler_done(&h);
        read_ok("{\"grpc\":{\"port\":9090,\"service\":\"health.v1\"}}", POD_IP, &h);
        cr_assert_str_eq(h.service, "health.v1");
        probe_handler_done(&h);
        /* grpc ports are numbers only: a name is not looked up */
        read_ok("{\"grpc\":{\"port\":\"web\"}}", POD_IP, &h);
        cr_assert_eq(h.port, 0);
        cr_assert_str_eq(h.port_error, "invalid port number: 0");
        probe_handler_done(&h);
}

Test(probe_handler, reads_the_sleep_action_of_lifecycle_hooks)
{
        ProbeHandler h;

        read_ok("{\"sleep\":{\"seconds\":5}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_SLEEP);
        cr_assert_eq(h.sleep_seconds, 5);
        probe_handler_done(&h);
}

Test(probe_handler, takes_the_first_action_in_the_kubelets_order)
{
        ProbeHandler h;

        read_ok("{\"exec\":null,\"tcpSocket\":{\"port\":1},\"httpGet\":{\"port\":2}}", POD_IP, &h);
        cr_assert_eq(h.action, PROBE_ACTION_HTTP_GET);
        cr_assert_eq(h.port, 2);
        probe_handler_done(&h);
}

Test(probe_handler, refuses_a_handler_without_an_action)
{
        static const char *const handlers[] = {"{}", "{\"exec\":null}", "{\"initialDelaySeconds\":3}",
                                               "null", "[]"};
        _cleanup_json_ cJSON *container = parse(container_json);

        for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
                _cleanup_json_ cJSON *handler = parse(handlers[i]);
                _cleanup_free_ char *error = NULL;
                ProbeHandler h = {};

                cr_assert_eq(probe_handler_from_json(handler, container, POD_IP, &h, &error), -EINVAL, "%s",
                             handlers[i]);
                cr_assert_str_eq(error,
                                 "missing handler for container \"app\": one of exec, httpGet, tcpSocket, "
                                 "grpc or sleep must be set");
                cr_assert_eq(h.action, PROBE_ACTION_NONE);
        }
}

Test(probe_handler, done_leaves_an_empty_handler)
{
        ProbeHandler h;

        read_ok("{\"httpGet\":{\"port\":\"nope\",\"httpHeaders\":[{\"name\":\"a\",\"value\":\"b\"}]}}",
                POD_IP, &h);
        probe_handler_done(&h);
        cr_assert_null(h.scheme);
        cr_assert_null(h.headers);
        cr_assert_eq(h.n_headers, 0);
        cr_assert_eq(h.action, PROBE_ACTION_NONE);
        probe_handler_done(&h);
        probe_handler_done(NULL);
}

static void assert_describes(const char *probe_json, const char *want)
{
        _cleanup_json_ cJSON *probe = parse(probe_json);
        _cleanup_free_ char *s = probe_describe(probe);

        cr_assert_not_null(s);
        cr_assert_str_eq(s, want, "%s", probe_json);
}

#define DEFAULTS "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3"
#define DEFAULT_ATTRS "delay=0s timeout=1s period=10s #success=1 #failure=3"

Test(probe_handler, describes_exec_probes_like_kubectl)
{
        assert_describes("{\"exec\":{\"command\":[\"cat\",\"/tmp/healthy\"]}," DEFAULTS "}",
                         "exec [cat /tmp/healthy] " DEFAULT_ATTRS);
        assert_describes(
            "{\"exec\":{\"command\":[\"sh\",\"-c\",\"test -f $(F)\"]},\"initialDelaySeconds\":5,"
            "\"timeoutSeconds\":2,\"periodSeconds\":3,\"successThreshold\":2,\"failureThreshold\":4}",
            "exec [sh -c test -f $(F)] delay=5s timeout=2s period=3s #success=2 #failure=4");
        assert_describes("{\"exec\":{}," DEFAULTS "}", "exec [] " DEFAULT_ATTRS);
}

Test(probe_handler, describes_http_get_probes_like_kubectl)
{
        assert_describes("{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080,\"scheme\":\"HTTP\"}," DEFAULTS
                         "}",
                         "http-get http://:8080/healthz " DEFAULT_ATTRS);
        assert_describes(
            "{\"httpGet\":{\"path\":\"/\",\"port\":\"web\",\"scheme\":\"HTTPS\",\"host\":\"example."
            "com\"}," DEFAULTS "}",
            "http-get https://example.com:web/ " DEFAULT_ATTRS);
        /* net.JoinHostPort brackets an IPv6 host */
        assert_describes(
            "{\"httpGet\":{\"path\":\"/ready\",\"port\":8080,\"scheme\":\"HTTP\",\"host\":\"::1\"}," DEFAULTS
            "}",
            "http-get http://[::1]:8080/ready " DEFAULT_ATTRS);
        /* url.URL.String(): a relative path gets its "/", '?' and spaces are escaped */
        assert_describes("{\"httpGet\":{\"path\":\"a b?c\",\"port\":80,\"scheme\":\"HTTP\"}," DEFAULTS "}",
                         "http-get http://:80/a%20b%3Fc " DEFAULT_ATTRS);
        /* an empty port name leaves the host alone */
        assert_describes(
            "{\"httpGet\":{\"path\":\"/\",\"port\":\"\",\"scheme\":\"HTTP\",\"host\":\"h\"}," DEFAULTS "}",
            "http-get http://h/ " DEFAULT_ATTRS);
}

Test(probe_handler, describes_tcp_and_grpc_probes_like_kubectl)
{
        assert_describes("{\"tcpSocket\":{\"port\":8080}," DEFAULTS "}", "tcp-socket :8080 " DEFAULT_ATTRS);
        /* kubectl joins tcp host and port with a bare ':' even for IPv6 */
        assert_describes("{\"tcpSocket\":{\"port\":\"web\",\"host\":\"::1\"}," DEFAULTS "}",
                         "tcp-socket ::1:web " DEFAULT_ATTRS);
        assert_describes("{\"grpc\":{\"port\":9090,\"service\":\"svc\"}," DEFAULTS "}",
                         "grpc <pod>:9090 svc " DEFAULT_ATTRS);
        assert_describes("{\"grpc\":{\"port\":9090,\"service\":\"\"}," DEFAULTS "}",
                         "grpc <pod>:9090  " DEFAULT_ATTRS);
}

Test(probe_handler, describes_a_probe_without_action_as_unknown)
{
        assert_describes("{" DEFAULTS "}", "unknown " DEFAULT_ATTRS);
        assert_describes("{}", "unknown delay=0s timeout=0s period=0s #success=0 #failure=0");
}
