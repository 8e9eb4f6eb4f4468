#include <criterion/criterion.h>
#include <string.h>

#include "field-errors.h"
#include "json-util.h"

static void assert_format(const FieldErrors *e, size_t i, const char *expected)
{
        _cleanup_free_ char *s = field_error_format(&e->items[i]);

        cr_assert_str_eq(s, expected);
}

Test(field_errors, prints_every_error_type_like_apimachinery)
{
        FieldErrors e;
        _cleanup_json_ cJSON *n = cJSON_CreateNumber(5), *b = cJSON_CreateTrue();

        field_errors_init(&e);
        field_error_add(&e, FIELD_ERROR_REQUIRED, "spec.containers[0].image", NULL, NULL);
        field_error_add_str(&e, FIELD_ERROR_INVALID, "metadata.name", "Web_1", "bad %s", "name");
        field_error_add_str(&e, FIELD_ERROR_DUPLICATE, "spec.containers[1].name", "app", NULL);
        field_error_add(&e, FIELD_ERROR_FORBIDDEN, "spec", n, "may not be %d", 7);
        field_error_add(&e, FIELD_ERROR_TOO_LONG, "metadata.annotations", NULL,
                        "may not be more than 3 bytes");
        field_error_add(&e, FIELD_ERROR_TOO_MANY, "spec.x", n, "must have at most 3 items");
        field_error_add(&e, FIELD_ERROR_NOT_FOUND, "spec.y", b, NULL);
        field_error_add(&e, FIELD_ERROR_WARNING, "spec.z", NULL, "unknown field \"spec.z\"");
        field_error_add(&e, FIELD_ERROR_REQUIRED, "metadata.name", NULL, "name or generateName is required");
        cr_assert_eq(field_errors_count(&e), 9);
        assert_format(&e, 0, "spec.containers[0].image: Required value");
        assert_format(&e, 1, "metadata.name: Invalid value: \"Web_1\": bad name");
        assert_format(&e, 2, "spec.containers[1].name: Duplicate value: \"app\"");
        assert_format(&e, 3, "spec: Forbidden: may not be 7");
        assert_format(&e, 4, "metadata.annotations: Too long: may not be more than 3 bytes");
        assert_format(&e, 5, "spec.x: Too many: 5: must have at most 3 items");
        assert_format(&e, 6, "spec.y: Not found: true");
        assert_format(&e, 7, "unknown field \"spec.z\"");
        assert_format(&e, 8, "metadata.name: Required value: name or generateName is required");
        field_errors_done(&e);
        cr_assert_eq(field_errors_count(&e), 0);
}

Test(field_errors, lists_supported_values)
{
        static const char *const supported[] = {"OnFailure", "Never", NULL};
        _cleanup_json_ cJSON *v = cJSON_CreateString("Always");
        FieldErrors e;

        field_errors_init(&e);
        field_error_not_supported(&e, "spec.restartPolicy", v, supported);
        assert_format(&e, 0,
                      "spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", "
                      "\"Never\"");
        field_errors_done(&e);
}

Test(field_errors, quotes_values_like_go)
{
        _cleanup_json_ cJSON *v = cJSON_Parse("{\"a\":[1,2]}");
        _cleanup_json_ cJSON *f = cJSON_CreateNumber(0.5);
        FieldErrors e;

        field_errors_init(&e);
        field_error_add_str(&e, FIELD_ERROR_INVALID, "x", "a\"b\\c\n", NULL);
        field_error_add(&e, FIELD_ERROR_INVALID, "y", v, NULL);
        field_error_add(&e, FIELD_ERROR_INVALID, "", f, "d");
        assert_format(&e, 0, "x: Invalid value: \"a\\\"b\\\\c\\n\"");
        assert_format(&e, 1, "y: Invalid value: {\"a\":[1,2]}");
        assert_format(&e, 2, "Invalid value: 0.5: d");
        field_errors_done(&e);
}

Test(field_errors, builds_kubernetes_paths)
{
        _cleanup_free_ char *a = field_path_child("spec", "containers");
        _cleanup_free_ char *b = field_path_index(a, 3);
        _cleanup_free_ char *c = field_path_key("metadata.labels", "app");
        _cleanup_free_ char *d = field_path_child("", "spec");

        cr_assert_str_eq(a, "spec.containers");
        cr_assert_str_eq(b, "spec.containers[3]");
        cr_assert_str_eq(c, "metadata.labels[app]");
        cr_assert_str_eq(d, "spec");
}
