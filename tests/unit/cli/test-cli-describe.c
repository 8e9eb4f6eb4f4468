#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

#define NOW (1735690200ULL * USEC_PER_SEC)

static const KindInfo pod_kind = {"Pod", "v1", "", "pods", "pod", "po", true};
static const KindInfo cm_kind = {"ConfigMap", "v1", "", "configmaps", "configmap", "cm", true};
static const KindInfo svc_kind = {"Service", "v1", "", "services", "service", "svc", true};
static const KindInfo secret_kind = {"Secret", "v1", "", "secrets", "secret", NULL, true};

static char *describe(const KindInfo *k, const char *obj_json, const char *events_json)
{
        _cleanup_json_ cJSON *obj = cJSON_Parse(obj_json), *ev = cJSON_Parse(events_json);
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        cr_assert_not_null(obj);
        cr_assert_eq(cli_describe_print(f, k, obj, ev, NULL, NOW), 0);
        fclose(f);
        return buf;
}

Test(cli_describe, prints_a_pod_with_containers_conditions_and_events)
{
        _cleanup_free_ char *s = describe(
            &pod_kind,
            "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"labels\":{\"b\":\"2\",\"a\":\"1\"},"
            "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"pi\",\"controller\":true}]},"
            "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\",\"command\":[\"sh\",\"-c\"],"
            "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"volumeMounts\":[{\"name\":\"d\",\"mountPath\":\"/"
            "d\"}]}],"
            "\"volumes\":[{\"name\":\"d\",\"emptyDir\":{}}]},"
            "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.9\",\"podIPs\":[{\"ip\":\"10.0.0.9\"}],"
            "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
            "\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":1,"
            "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
            "[{\"type\":\"Warning\",\"reason\":\"BackOff\",\"message\":\"Back-off\",\"count\":4,"
            "\"firstTimestamp\":\"2025-01-01T00:00:00Z\",\"lastTimestamp\":\"2025-01-01T00:09:00Z\","
            "\"source\":{\"component\":\"berth\"}}]");

        cr_assert(startswith(s, "Name:             web\nNamespace:        default\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Labels:           a=1\n                  b=2\n"), "%s", s);
        cr_assert_not_null(strstr(s, "\nIPs:\n  IP:           10.0.0.9\nControlled By:  Job/pi\n"), "%s", s);
        cr_assert_not_null(strstr(s, "    Command:\n      sh\n      -c\n"), "%s", s);
        cr_assert_not_null(strstr(s, "    State:          Waiting\n      Reason:       CrashLoopBackOff\n"),
                           "%s", s);
        cr_assert_not_null(strstr(s, "      A:  1\n"), "%s", s);
        cr_assert_not_null(strstr(s, "      /d from d (rw)\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Conditions:\n  Type    Status\n  Ready   True \n"), "%s", s);
        cr_assert_not_null(strstr(s, "    Type:        EmptyDir\n"), "%s", s);
        cr_assert(endswith(s, "Events:\n"
                              "  Type     Reason   Age                From   Message\n"
                              "  ----     ------   ----               ----   -------\n"
                              "  Warning  BackOff  60s (x4 over 10m)  berth  Back-off\n"),
                  "%s", s);
}

Test(cli_describe, prints_other_kinds_generically_with_no_events)
{
        _cleanup_free_ char *s =
            describe(&svc_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
                     "\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\"}}",
                     "[]");

        cr_assert_str_eq(s, "Name:         web\n"
                            "Namespace:    default\n"
                            "Labels:       <none>\n"
                            "Annotations:  <none>\n"
                            "API Version:  v1\n"
                            "Kind:         Service\n"
                            "Spec:\n"
                            "  Cluster IP:  None\n"
                            "Events:        <none>\n");
}

Test(cli_describe, prints_configmap_data_as_kubectl_does_with_keys_as_written)
{
        _cleanup_free_ char *s =
            describe(&cm_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                     "\"namespace\":\"default\"},\"data\":{\"logLevel\":\"debug\"}}",
                     "[]");

        cr_assert(startswith(s, "Name:         cfg\nNamespace:    default\n"), "%s", s);
        cr_assert_not_null(strstr(s, "Data\n====\nlogLevel:\n----\ndebug\n"), "%s", s);
        cr_assert_not_null(strstr(s, "BinaryData\n====\n"), "%s", s);
}

Test(cli_describe, shows_secret_sizes_never_values)
{
        _cleanup_free_ char *s =
            describe(&secret_kind,
                     "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\","
                     "\"namespace\":\"default\"},\"type\":\"Opaque\",\"data\":{\"password\":\"czNjcmV0\"}}",
                     "[]");

        cr_assert_not_null(strstr(s, "password:  6 bytes\n"), "%s", s);
        cr_assert_null(strstr(s, "s3cret"), "%s", s);
        cr_assert_null(strstr(s, "czNjcmV0"), "%s", s);
}
