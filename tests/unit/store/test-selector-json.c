/* Label selectors from metav1.LabelSelector objects: requirements, empty selectors and
 * malformed objects. */
#include <criterion/criterion.h>

#include "json-util.h"
#include "selector.h"

static bool json_sel_matches(const char *sel_json, const char *labels_json)
{
        _cleanup_(label_selector_freep) LabelSelector *sel = NULL;
        _cleanup_json_ cJSON *j = cJSON_Parse(sel_json), *labels = cJSON_Parse(labels_json);

        cr_assert_eq(label_selector_from_json(j, &sel), 0, "%s", sel_json);
        return label_selector_matches(sel, labels);
}

Test(selector_json, builds_from_a_label_selector_object)
{
        const char *s = "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                        "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
                        "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]},"
                        "{\"key\":\"team\",\"operator\":\"Exists\"},"
                        "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\",\"values\":[]}]}";

        cr_assert(json_sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"team\":\"x\"}"));
        cr_assert_not(
            json_sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"team\":\"x\",\"env\":\"prod\"}"));
        cr_assert_not(json_sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\"}"));
        cr_assert_not(
            json_sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"team\":\"x\",\"legacy\":\"1\"}"));
        cr_assert(json_sel_matches("{}", "{}"));
}

Test(selector_json, null_or_empty_object_selects_everything)
{
        _cleanup_(label_selector_freep) LabelSelector *a = NULL, *b = NULL;
        _cleanup_json_ cJSON *empty = cJSON_CreateObject();

        cr_assert_eq(label_selector_from_json(NULL, &a), 0);
        cr_assert_eq(label_selector_from_json(empty, &b), 0);
        cr_assert(label_selector_empty(a) && label_selector_empty(b));
        cr_assert(label_selector_matches(a, NULL));
}

Test(selector_json, rejects_malformed_label_selector_objects)
{
        static const char *const bad[] = {
            "[]",
            "{\"matchLabels\":[]}",
            "{\"matchLabels\":{\"app\":1}}",
            "{\"matchLabels\":{\"-app\":\"x\"}}",
            "{\"matchLabels\":{\"app\":\"-x\"}}",
            "{\"matchExpressions\":{}}",
            "{\"matchExpressions\":[1]}",
            "{\"matchExpressions\":[{\"operator\":\"In\",\"values\":[\"a\"]}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":\"x\"}]}",
            "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_json_ cJSON *j = cJSON_Parse(bad[i]);
                LabelSelector *sel = NULL;
                cr_assert_not_null(j);
                cr_assert_eq(label_selector_from_json(j, &sel), -EINVAL, "%s", bad[i]);
                cr_assert_null(sel);
        }
}
