#include <criterion/criterion.h>
#include <string.h>

#include "admission.h"
#include "json-util.h"

static char *first_error(const char *json, bool host)
{
        _cleanup_json_ cJSON *obj = cJSON_Parse(json);
        AdmissionContext ctx = {.host_runtime = host};
        FieldErrors e;
        char *s = NULL;

        cr_assert_not_null(obj);
        field_errors_init(&e);
        cr_assert_geq(admission_check(&ctx, obj, &e), 0);
        if (e.n > 0)
                s = field_error_format(&e.items[0]);
        field_errors_done(&e);
        return s;
}

Test(admission, refuses_a_pod_container_without_command_on_the_host_runtime)
{
        char *s = first_error("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\","
                              "\"command\":[\"true\"]},{\"name\":\"b\",\"image\":\"i\"}]}}",
                              true);

        cr_assert_str_eq(s, "spec.containers[1].command: Required value: the host runtime runs no image "
                            "entrypoint: set a command");
        free(s);
}

Test(admission, looks_into_the_pod_templates_of_workloads)
{
        char *s =
            first_error("{\"kind\":\"CronJob\",\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":"
                        "{\"initContainers\":[{\"name\":\"a\",\"image\":\"i\"}],\"containers\":[]}}}}}}",
                        true);

        cr_assert_not_null(s);
        cr_assert(strncmp(s, "spec.jobTemplate.spec.template.spec.initContainers[0].command:", 62) == 0,
                  "%s", s);
        free(s);
}

Test(admission, accepts_what_has_commands_and_anything_on_other_runtimes)
{
        cr_assert_null(first_error(
            "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"command\":[\"x\"]}]}}", true));
        cr_assert_null(
            first_error("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\"}]}}", false));
        cr_assert_null(first_error("{\"kind\":\"ConfigMap\",\"data\":{}}", true));
}
