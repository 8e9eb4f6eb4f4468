/* Label selectors: the string grammar of labels.Parse with its error wording and
 * matching semantics. */
#include <criterion/criterion.h>
#include <string.h>

#include "json-util.h"
#include "selector.h"
#include "util.h"

static bool sel_matches(const char *selector, const char *labels_json)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        _cleanup_json_ cJSON *labels = labels_json ? cJSON_Parse(labels_json) : NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(label_selector_parse(selector, &sel, &err), 0, "'%s': %s", selector, err ?: "");
        cr_assert_null(err);
        return label_selector_matches(sel, labels);
}

static void assert_parse_error(const char *selector, const char *want)
{
        LabelSelector *sel = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(label_selector_parse(selector, &sel, &err), -EINVAL, "'%s' parsed", selector);
        cr_assert_null(sel);
        cr_assert_not_null(err);
        cr_assert_str_eq(err, want, "'%s'", selector);
}

Test(selector, matches_equality_requirements)
{
        cr_assert(sel_matches("app=web", "{\"app\":\"web\",\"x\":\"y\"}"));
        cr_assert(sel_matches("app==web", "{\"app\":\"web\"}"));
        cr_assert_not(sel_matches("app=web", "{\"app\":\"db\"}"));
        cr_assert_not(sel_matches("app=web", "{}"));
        cr_assert_not(sel_matches("app=web", NULL));
        cr_assert(sel_matches("app=", "{\"app\":\"\"}"));
}

Test(selector, not_equals_and_notin_match_objects_lacking_the_key)
{
        cr_assert(sel_matches("app!=web", "{}"));
        cr_assert(sel_matches("app!=web", NULL));
        cr_assert(sel_matches("app!=web", "{\"app\":\"db\"}"));
        cr_assert_not(sel_matches("app!=web", "{\"app\":\"web\"}"));
        cr_assert(sel_matches("env notin (a,b)", "{}"));
        cr_assert(sel_matches("env notin (a,b)", "{\"env\":\"c\"}"));
        cr_assert_not(sel_matches("env notin (a,b)", "{\"env\":\"b\"}"));
}

Test(selector, matches_set_and_existence_requirements)
{
        cr_assert(sel_matches("env in (a,b)", "{\"env\":\"b\"}"));
        cr_assert_not(sel_matches("env in (a,b)", "{\"env\":\"c\"}"));
        cr_assert_not(sel_matches("env in (a,b)", "{}"));
        cr_assert(sel_matches("env in (,a)", "{\"env\":\"\"}"));
        cr_assert(sel_matches("env in ()", "{\"env\":\"\"}"));
        cr_assert(sel_matches("env", "{\"env\":\"\"}"));
        cr_assert_not(sel_matches("env", "{}"));
        cr_assert(sel_matches("!env", "{}"));
        cr_assert_not(sel_matches("!env", "{\"env\":\"x\"}"));
        /* "in" and "notin" are ordinary identifiers where a key or value is expected */
        cr_assert(sel_matches("in in (in, notin)", "{\"in\":\"notin\"}"));
        /* a non-string label cannot match a value */
        cr_assert_not(sel_matches("app=1", "{\"app\":1}"));
        cr_assert(sel_matches("!app", "{\"app\":1}"));
}

Test(selector, ands_comma_separated_requirements_and_tolerates_whitespace)
{
        const char *s = "  app = web ,tier notin ( db , cache ),  !legacy,example.com/team";

        cr_assert(sel_matches(s, "{\"app\":\"web\",\"tier\":\"front\",\"example.com/team\":\"a\"}"));
        cr_assert_not(sel_matches(s, "{\"app\":\"web\",\"tier\":\"db\",\"example.com/team\":\"a\"}"));
        cr_assert_not(sel_matches(s, "{\"app\":\"web\",\"legacy\":\"1\",\"example.com/team\":\"a\"}"));
        cr_assert_not(sel_matches(s, "{\"app\":\"web\"}"));
}

Test(selector, compares_gt_and_lt_as_integers)
{
        cr_assert(sel_matches("replicas>2", "{\"replicas\":\"10\"}"));
        cr_assert_not(sel_matches("replicas>2", "{\"replicas\":\"2\"}"));
        cr_assert_not(sel_matches("replicas>2", "{\"replicas\":\"many\"}"));
        cr_assert_not(sel_matches("replicas>2", "{}"));
        cr_assert(sel_matches("replicas<2", "{\"replicas\":\"-1\"}"));
}

Test(selector, empty_string_selects_everything)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;

        cr_assert_eq(label_selector_parse("", &sel, NULL), 0);
        cr_assert(label_selector_empty(sel));
        cr_assert(label_selector_matches(sel, NULL));
        cr_assert(label_selector_empty(NULL));
        cr_assert(sel_matches("   ", "{}"));
}

Test(selector, reports_syntax_errors_like_apimachinery)
{
        assert_parse_error("app=web,", "found '', expected: identifier after ','");
        assert_parse_error("=web", "found '=', expected: !, identifier, or 'end of string'");
        assert_parse_error(
            "app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt");
        assert_parse_error("app=a b", "found 'b', expected: ',' or 'end of string'");
        assert_parse_error("app in a", "unable to parse requirement: found 'a' expected: '('");
        assert_parse_error("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'");
        assert_parse_error("app in (a", "unable to parse requirement: found '', expected: ',' or ')'");
        assert_parse_error("app in (=)",
                           "unable to parse requirement: found '=', expected: ',', ')' or identifier");
        assert_parse_error("!", "unable to parse requirement: found '', expected: identifier");
        assert_parse_error("app==(", "unable to parse requirement: found '(', expected: identifier");
}

Test(selector, reports_invalid_keys_and_values_like_apimachinery)
{
        assert_parse_error(
            "-app=web",
            "unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
        assert_parse_error(
            "app=-web",
            "unable to parse requirement: values[0][app]: Invalid value: \"-web\": a valid label "
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or "
            "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
        assert_parse_error("x>a",
                           "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                           "operators, the value must be an integer");
        assert_parse_error(
            "Example.com/a=b",
            "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a "
            "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
            "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        assert_parse_error("/a",
                           "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be "
                           "non-empty");
        /* 64 characters: too long a name */
        char key[80];
        memset(key, 'a', 64);
        strcpy(key + 64, "=b");
        LabelSelector *sel = NULL;
        _cleanup_free_ char *err = NULL;
        cr_assert_eq(label_selector_parse(key, &sel, &err), -EINVAL);
        cr_assert(strstr(err, "name part must be no more than 63 characters"), "%s", err);
}

Test(selector, aggregates_several_invalid_values)
{
        LabelSelector *sel = NULL;
        _cleanup_free_ char *err = NULL;

        cr_assert_eq(label_selector_parse("a in (-x,-y)", &sel, &err), -EINVAL);
        cr_assert(startswith(err, "unable to parse requirement: [values[0][a]: Invalid value: \"-x\""), "%s",
                  err);
        cr_assert(strstr(err, ", values[1][a]: Invalid value: \"-y\""), "%s", err);
        cr_assert(endswith(err, "]"), "%s", err);
}
