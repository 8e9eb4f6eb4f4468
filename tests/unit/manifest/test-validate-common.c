#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "manifest-internal.h"
#include "util.h"

static char *first_error(const FieldErrors *e)
{
        cr_assert_gt(e->n, 0);
        return field_error_format(&e->items[0]);
}

Test(validate_common, checks_dns_names)
{
        cr_assert(is_dns1123_label("web-1"));
        cr_assert_not(is_dns1123_label("Web"));
        cr_assert_not(is_dns1123_label("-a"));
        cr_assert_not(is_dns1123_label("a.b"));
        cr_assert_not(is_dns1123_label(""));
        cr_assert(is_dns1123_subdomain("a.b-c.d"));
        cr_assert_not(is_dns1123_subdomain("a..b"));
        cr_assert_not(is_dns1123_subdomain("a."));
        cr_assert(is_dns1035_label("abc-123"));
        cr_assert_not(is_dns1035_label("1abc"));
        cr_assert(is_c_identifier("MY_VAR1"));
        cr_assert_not(is_c_identifier("1x"));
        cr_assert(is_qualified_name("app.kubernetes.io/name"));
        cr_assert_not(is_qualified_name("a/b/c"));
        cr_assert(is_label_value(""));
        cr_assert_not(is_label_value("-x"));
        cr_assert(is_port_name("http-web"));
        cr_assert_not(is_port_name("123"));
        cr_assert_not(is_port_name("a--b"));
}

Test(validate_common, names_bad_object_names_in_apimachinery_words)
{
        _cleanup_json_ cJSON *meta = cJSON_Parse("{\"name\":\"Web_1\"}");
        _cleanup_free_ char *s = NULL;
        FieldErrors e;

        field_errors_init(&e);
        validate_object_meta(meta, true, false, "metadata", &e);
        s = first_error(&e);
        cr_assert_str_eq(
            s, "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist "
               "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
               "alphanumeric character (e.g. 'example.com', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        field_errors_done(&e);
}

Test(validate_common, requires_a_name_and_checks_namespace_and_labels)
{
        _cleanup_json_ cJSON *meta =
            cJSON_Parse("{\"namespace\":\"Bad\",\"labels\":{\"a/b/c\":\"x\",\"ok\":\"-v\"}}");
        _cleanup_json_ cJSON *gen = cJSON_Parse("{\"generateName\":\"web-\"}");
        _cleanup_json_ cJSON *cl = cJSON_Parse("{\"name\":\"n\",\"namespace\":\"x\"}");
        FieldErrors e;
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

        field_errors_init(&e);
        validate_object_meta(meta, true, false, "metadata", &e);
        cr_assert_eq(e.n, 4);
        s0 = field_error_format(&e.items[0]);
        s1 = field_error_format(&e.items[1]);
        s2 = field_error_format(&e.items[2]);
        s3 = field_error_format(&e.items[3]);
        cr_assert_str_eq(s0, "metadata.name: Required value: name or generateName is required");
        cr_assert(startswith(s1,
                             "metadata.namespace: Invalid value: \"Bad\": a lowercase RFC 1123 label must "
                             "consist of lower case alphanumeric characters or '-', and must start and end "
                             "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used"),
                  "%s", s1);
        cr_assert(startswith(s2,
                             "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of "
                             "alphanumeric characters"),
                  "%s", s2);
        cr_assert(
            startswith(s3, "metadata.labels: Invalid value: \"-v\": a valid label must be an empty string"),
            "%s", s3);
        field_errors_done(&e);

        validate_object_meta(gen, true, false, "metadata", &e);
        cr_assert_eq(e.n, 0);
        validate_object_meta(cl, false, false, "metadata", &e);
        cr_assert_eq(e.n, 1);
        s4 = first_error(&e);
        cr_assert_str_eq(s4, "metadata.namespace: Forbidden: not allowed on this type");
        field_errors_done(&e);
}

Test(validate_common, validates_label_selectors)
{
        _cleanup_json_ cJSON *sel = cJSON_Parse("{\"matchLabels\":{\"app\":\"x\"},\"matchExpressions\":["
                                                "{\"key\":\"a\",\"operator\":\"In\"},"
                                                "{\"key\":\"b\",\"operator\":\"Exists\",\"values\":[\"x\"]},"
                                                "{\"key\":\"c\",\"operator\":\"Near\"}]}");
        FieldErrors e;
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL;

        field_errors_init(&e);
        validate_label_selector(sel, "spec.selector", &e);
        cr_assert_eq(e.n, 3);
        s0 = field_error_format(&e.items[0]);
        s1 = field_error_format(&e.items[1]);
        s2 = field_error_format(&e.items[2]);
        cr_assert_str_eq(s0,
                         "spec.selector.matchExpressions[0].values: Required value: must be specified when "
                         "`operator` is 'In' or 'NotIn'");
        cr_assert_str_eq(s1,
                         "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when "
                         "`operator` is 'Exists' or 'DoesNotExist'");
        cr_assert_str_eq(s2,
                         "spec.selector.matchExpressions[2].operator: Invalid value: \"Near\": not a valid "
                         "selector operator");
        field_errors_done(&e);
}

Test(validate_common, checks_integer_ranges_and_enums)
{
        static const char *const policies[] = {"Always", "OnFailure", "Never", NULL};
        _cleanup_json_ cJSON *spec =
            cJSON_Parse("{\"a\":-1,\"b\":0,\"c\":\"x\",\"p\":\"Sometimes\",\"q\":2}");
        FieldErrors e;
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

        field_errors_init(&e);
        validate_nonnegative(spec, "a", "spec", &e);
        validate_positive(spec, "b", "spec", &e);
        validate_nonnegative(spec, "c", "spec.c", &e);
        validate_positive(spec, "missing", "spec", &e);
        cr_assert_null(validate_enum(spec, "p", "spec", policies, true, &e));
        cr_assert_null(validate_enum(spec, "r", "spec", policies, true, &e));
        cr_assert_eq(e.n, 5);
        s0 = field_error_format(&e.items[0]);
        s1 = field_error_format(&e.items[1]);
        s2 = field_error_format(&e.items[2]);
        s3 = field_error_format(&e.items[3]);
        s4 = field_error_format(&e.items[4]);
        cr_assert_str_eq(s0, "spec.a: Invalid value: -1: must be greater than or equal to 0");
        cr_assert_str_eq(s1, "spec.b: Invalid value: 0: must be greater than 0");
        cr_assert_str_eq(s2, "spec.c: Invalid value: \"x\": must be an integer");
        cr_assert_str_eq(s3, "spec.p: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                             "\"OnFailure\", \"Never\"");
        cr_assert_str_eq(s4, "spec.r: Required value");
        field_errors_done(&e);
}

Test(validate_common, checks_port_names_and_numbers)
{
        _cleanup_json_ cJSON *p = cJSON_CreateNumber(70000);
        FieldErrors e;
        _cleanup_free_ char *s0 = NULL, *s1 = NULL;

        field_errors_init(&e);
        validate_port_number(p, "ports[0].containerPort", &e);
        validate_port_name("INVALID_NAME", "ports[0].name", &e);
        cr_assert_eq(e.n, 3);
        s0 = field_error_format(&e.items[0]);
        s1 = field_error_format(&e.items[1]);
        cr_assert_str_eq(
            s0, "ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive");
        cr_assert_str_eq(s1,
                         "ports[0].name: Invalid value: \"INVALID_NAME\": must contain only alpha-numeric "
                         "characters (a-z, 0-9), and hyphens (-)");
        field_errors_done(&e);
}

Test(validate_common, parses_quantities_in_milli_units)
{
        static const struct {
                const char *s;
                int64_t milli;
        } ok[] = {
            {"1", 1000},      {"100m", 100},
            {"0.5", 500},     {"1.5Gi", 1610612736000},
            {"2k", 2000000},  {"1Ki", 1024000},
            {"1e3", 1000000}, {"1E", 1000000000000000000000.0 > 0 ? 0 : 0},
            {"-2", -2000},    {"250u", 1},
            {"1n", 1},        {"+3M", 3000000000},
            {".5", 500},      {"5.", 5000},
        };
        int64_t v;

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                if (streq(ok[i].s, "1E"))
                        continue;
                cr_assert_eq(quantity_parse_milli(ok[i].s, &v), 0, "%s", ok[i].s);
                cr_assert_eq(v, ok[i].milli, "%s: %lld", ok[i].s, (long long)v);
        }
        cr_assert_eq(quantity_parse_milli("1E", &v), -ERANGE);
        cr_assert_eq(quantity_parse_milli("9Ei", &v), -ERANGE);
        cr_assert_eq(quantity_parse_milli("99999999999999999999999999999999999", &v), -ERANGE);
        cr_assert_eq(quantity_parse_milli("", &v), -EINVAL);
        cr_assert_eq(quantity_parse_milli("1K", &v), -EINVAL);
        cr_assert_eq(quantity_parse_milli("abc", &v), -EINVAL);
        cr_assert_eq(quantity_parse_milli("1.2.3", &v), -EINVAL);
        cr_assert_eq(quantity_parse_milli("1 Gi", &v), -EINVAL);
        cr_assert_eq(quantity_parse_milli("1e", &v), -EINVAL);
}
