/* Tests of Service, ConfigMap, Secret and PersistentVolumeClaim (core-kinds.c). */
#include "workload-test.h"

Test(service, defaults_type_affinity_protocol_and_target_port)
{
        _cleanup_json_ cJSON *o = fixture("service-basic.json");
        cJSON *port;

        cr_assert_eq(service_set_defaults(o), 0);
        port = cJSON_GetArrayItem(json_path(o, "spec.ports"), 0);
        cr_assert_str_eq(json_str(o, "spec.type"), "ClusterIP");
        cr_assert_str_eq(json_str(o, "spec.sessionAffinity"), "None");
        cr_assert_str_eq(json_str(port, "protocol"), "TCP");
        cr_assert_eq(json_int(port, "targetPort", -1), 80);
        expect_valid(o, NULL, service_validate);
}

Test(service, accepts_named_target_ports_and_headless_without_ports)
{
        expect_patch_valid("service-basic.json",
                           "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":\"http\"}]}}",
                           service_set_defaults, service_validate);
        expect_patch_valid("service-basic.json", "{\"spec\":{\"clusterIP\":\"None\",\"ports\":[]}}",
                           service_set_defaults, service_validate);
}

Test(service, validates_ports)
{
        expect_patch_errors(
            "service-basic.json",
            "{\"spec\":{\"ports\":[{\"port\":0},{\"name\":\"b\",\"port\":70000,\"protocol\":\"ICMP\","
            "\"targetPort\":\"Not_A_Name\",\"nodePort\":30000}]}}",
            service_set_defaults, service_validate, "spec.ports[0].name: Required value",
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", "
            "\"TCP\", \"UDP\"",
            "spec.ports[1].targetPort: Invalid value: \"Not_A_Name\": must contain only "
            "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
}

Test(service, port_names_must_be_unique)
{
        expect_patch_errors(
            "service-basic.json",
            "{\"spec\":{\"ports\":[{\"name\":\"web\",\"port\":80},{\"name\":\"web\",\"port\":81}]}}",
            service_set_defaults, service_validate, "spec.ports[1].name: Duplicate value: \"web\"");
}

Test(service, rejects_unknown_type_and_missing_ports)
{
        expect_patch_errors(
            "service-basic.json", "{\"spec\":{\"type\":\"Magic\"}}", service_set_defaults, service_validate,
            "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", "
            "\"LoadBalancer\", \"NodePort\"");
        expect_patch_errors("service-basic.json", "{\"spec\":{\"ports\":null}}", service_set_defaults,
                            service_validate, "spec.ports: Required value");
}

Test(service, external_name_is_required_for_external_name_services)
{
        expect_patch_errors("service-basic.json", "{\"spec\":{\"type\":\"ExternalName\",\"ports\":null}}",
                            service_set_defaults, service_validate, "spec.externalName: Required value");
}

Test(service, names_must_be_dns1035_labels)
{
        expect_patch_errors(
            "service-basic.json", "{\"metadata\":{\"name\":\"1web\"}}", service_set_defaults,
            service_validate,
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case "
            "alphanumeric "
            "characters or '-', start with an alphabetic character, and end with an alphanumeric character "
            "(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
}

Test(configmap, accepts_valid_keys)
{
        _cleanup_json_ cJSON *o = fixture("configmap-basic.json");

        expect_valid(o, NULL, configmap_validate);
}

Test(configmap, rejects_bad_keys)
{
        expect_patch_errors(
            "configmap-basic.json", "{\"data\":{\"a b\":\"x\",\"..\":\"y\",\"..x\":\"z\"}}", NULL,
            configmap_validate,
            "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, "
            "'-', "
            "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
            "'[-._a-zA-Z0-9]+')",
            "data[..]: Invalid value: \"..\": must not be '..'",
            "data[..x]: Invalid value: \"..x\": must not start with '..'");
}

Test(configmap, a_key_in_data_and_binary_data_is_reported_on_both)
{
        expect_patch_errors(
            "configmap-basic.json", "{\"binaryData\":{\"LOG_LEVEL\":\"AA==\"}}", NULL, configmap_validate,
            "data[LOG_LEVEL]: Invalid value: \"LOG_LEVEL\": duplicate of key present in binaryData",
            "binaryData[LOG_LEVEL]: Invalid value: \"LOG_LEVEL\": duplicate of key present in data");
}

Test(configmap, total_size_is_limited_to_one_mebibyte)
{
        _cleanup_json_ cJSON *o = fixture("configmap-basic.json");
        _cleanup_free_ char *big = malloc(1024 * 1024 + 1);

        cr_assert(big);
        memset(big, 'x', 1024 * 1024);
        big[1024 * 1024] = 0;
        cr_assert_eq(json_set_string(json_path(o, "data"), "big", big), 0);
        expect_errors(o, NULL, configmap_validate, "Too long: may not be more than 1048576 bytes");
}

Test(secret, merges_string_data_and_defaults_type)
{
        _cleanup_json_ cJSON *o = fixture("secret-basic.json");

        cr_assert_eq(secret_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "type"), "Opaque");
        cr_assert_str_eq(json_str(o, "data.username"), "YWRtaW4=");
        cr_assert_str_eq(json_str(o, "data.password"), "czNjcjN0");
        cr_assert_null(json_path(o, "stringData"));
        expect_valid(o, NULL, secret_validate);
}

Test(secret, rejects_values_that_are_not_base64)
{
        expect_patch_errors(
            "secret-basic.json", "{\"data\":{\"password\":\"not*base64\"}}", secret_set_defaults,
            secret_validate,
            "data[password]: Invalid value: \"<secret contents redacted>\": illegal base64 data at "
            "input byte 3");
}

Test(secret, typed_secrets_need_their_keys)
{
        expect_patch_errors("secret-basic.json", "{\"type\":\"kubernetes.io/tls\"}", secret_set_defaults,
                            secret_validate, "data[tls.crt]: Required value",
                            "data[tls.key]: Required value");
        expect_patch_errors(
            "secret-basic.json",
            "{\"type\":\"kubernetes.io/basic-auth\",\"stringData\":null,\"data\":{\"password\":null}}",
            secret_set_defaults, secret_validate, "data[username]: Required value",
            "data[password]: Required value");
}

Test(pvc, defaults_volume_mode_and_accepts_the_fixture)
{
        _cleanup_json_ cJSON *o = fixture("pvc-basic.json");

        cr_assert_eq(pvc_set_defaults(o), 0);
        cr_assert_str_eq(json_str(o, "spec.volumeMode"), "Filesystem");
        expect_valid(o, NULL, pvc_validate);
}

Test(pvc, validates_access_modes_storage_class_and_volume_mode)
{
        expect_patch_errors(
            "pvc-basic.json",
            "{\"spec\":{\"accessModes\":[\"ReadWriteSometimes\"],\"storageClassName\":\"Fast_Disk\","
            "\"volumeMode\":\"Tape\"}}",
            pvc_set_defaults, pvc_validate,
            "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: "
            "\"ReadOnlyMany\", "
            "\"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
            "spec.volumeMode: Unsupported value: \"Tape\": supported values: \"Block\", \"Filesystem\"");
        expect_patch_errors("pvc-basic.json", "{\"spec\":{\"accessModes\":[]}}", pvc_set_defaults,
                            pvc_validate,
                            "spec.accessModes: Required value: at least 1 access mode is required");
        expect_patch_errors(
            "pvc-basic.json", "{\"spec\":{\"accessModes\":[\"ReadWriteOncePod\",\"ReadOnlyMany\"]}}",
            pvc_set_defaults, pvc_validate,
            "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes");
}

Test(pvc, storage_request_is_required_and_positive)
{
        expect_patch_errors("pvc-basic.json", "{\"spec\":{\"resources\":{\"requests\":null}}}",
                            pvc_set_defaults, pvc_validate, "spec.resources[storage]: Required value");
        expect_patch_errors("pvc-basic.json",
                            "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"0\"}}}}",
                            pvc_set_defaults, pvc_validate,
                            "spec.resources[storage]: Invalid value: \"0\": must be greater than zero");
        expect_patch_errors(
            "pvc-basic.json", "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"lots\"}}}}",
            pvc_set_defaults, pvc_validate,
            "spec.resources[storage]: Invalid value: \"lots\": quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
}

Test(pvc, update_may_only_grow_the_storage_request)
{
        _cleanup_json_ cJSON *old = fixture("pvc-basic.json");
        _cleanup_json_ cJSON *grow =
            patched("pvc-basic.json", "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}");
        _cleanup_json_ cJSON *shrink =
            patched("pvc-basic.json", "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"512Mi\"}}}}");
        _cleanup_json_ cJSON *mode =
            patched("pvc-basic.json", "{\"spec\":{\"accessModes\":[\"ReadWriteMany\"]}}");

        expect_update_valid(grow, old, pvc_validate_update);
        expect_update_errors(
            shrink, old, pvc_validate_update,
            "spec.resources.requests.storage: Forbidden: field can not be less than previous value");
        expect_update_errors(
            mode, old, pvc_validate_update,
            "spec: Forbidden: spec is immutable after creation except resources.requests and "
            "volumeAttributesClassName for bound claims");
}

Test(service, survives_fields_of_the_wrong_type)
{
        static const char *const patches[] = {
            "{\"spec\":{\"ports\":{\"port\":80}}}",
            "{\"spec\":{\"ports\":[5,{\"port\":\"80\",\"targetPort\":[],\"name\":3}],\"type\":1}}",
            "{\"spec\":{\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":\"x\",\"selector\":[1]}}",
            NULL,
        };

        survive_patches("service-basic.json", service_set_defaults, service_validate, patches);
        survive_patches("configmap-basic.json", NULL, configmap_validate,
                        (const char *const[]){"{\"data\":[1]}",
                                              "{\"data\":{\"a\":1},\"binaryData\":{\"b\":\"=\"}}", NULL});
        survive_patches("secret-basic.json", secret_set_defaults, secret_validate,
                        (const char *const[]){"{\"stringData\":{\"a\":1}}",
                                              "{\"data\":{\"a\":\"A===\"},\"type\":5}", NULL});
        survive_patches(
            "pvc-basic.json", pvc_set_defaults, pvc_validate,
            (const char *const[]){
                "{\"spec\":{\"accessModes\":\"RWO\",\"resources\":[]}}",
                "{\"spec\":{\"resources\":{\"requests\":{\"storage\":5}},\"storageClassName\":1}}", NULL});
}

Test(secret, base64_padding_rules_follow_go)
{
        static const struct {
                const char *value;
                const char *error; /* NULL = valid */
        } cases[] = {
            {"YQ==", NULL},
            {"YWI=", NULL},
            {"YWJj\nZGVm", NULL},
            {"YQ=", "illegal base64 data at input byte 3"},
            {"Y===", "illegal base64 data at input byte 1"},
            {"YQ==YQ==", "illegal base64 data at input byte 4"},
            {"YQ=a", "illegal base64 data at input byte 3"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ cJSON *o = fixture("secret-basic.json");
                _cleanup_free_ char *line = NULL;

                cr_assert_eq(json_set_string(json_path(o, "data"), "k", cases[i].value), 0);
                if (!cases[i].error) {
                        expect_valid(o, secret_set_defaults, secret_validate);
                        continue;
                }
                cr_assert(asprintf_safe(&line, "data[k]: Invalid value: \"<secret contents redacted>\": %s",
                                        cases[i].error) >= 0);
                expect_errors(o, secret_set_defaults, secret_validate, line);
        }
}
